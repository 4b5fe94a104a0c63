/*
 * circles.c — service-circle polygons: for one kind and threshold, the union of discs
 * of the threshold's radius around the kind's facilities, clipped to the district.
 * Facilities outside every area still draw their circle, since they serve their
 * neighbours.
 */
#include "cover/result.h"

cs_status cs_cover_circles(cs_context *ctx, const cs_study *s, size_t k, size_t j,
                           cs_geom **out)
{
    *out = NULL;
    size_t n = 0;
    for (size_t f = 0; f < s->facility_count; f++)
        n += s->fac_kind[f] == (long)k;
    double *x = cs_calloc(n ? n : 1, sizeof *x), *y = cs_calloc(n ? n : 1, sizeof *y);
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        return cs_nomem(ctx);
    }
    size_t m = 0;
    for (size_t f = 0; f < s->facility_count; f++)
        if (s->fac_kind[f] == (long)k) {
            x[m] = s->fac_x[f];
            y[m++] = s->fac_y[f];
        }
    cs_geom *discs = cs_geom_discs(s->geos, x, y, n, s->kinds[k].threshold_m[j]);
    cs_free(x);
    cs_free(y);
    if (!discs)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL, "service circles failed: %s",
                        ctx->foreign_error);
    *out = cs_geom_intersection(s->geos, discs, s->district);
    cs_geom_destroy(s->geos, discs);
    if (!*out)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL, "clipping service circles failed: %s",
                        ctx->foreign_error);
    return CS_OK;
}
