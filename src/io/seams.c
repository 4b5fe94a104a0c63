/*
 * seams.c — overlaps and gaps between the areas (see seams.h for the rule).
 *
 * Overlaps come from GEOS through geom/ (an STRtree of the areas' boxes, prepared
 * predicates, an overlay only for pairs whose interiors meet), so a city of a few
 * hundred streets costs one overlay per overlapping pair of neighbours. Gaps are the
 * holes of the district (the union of the areas), which the load computes anyway.
 */
#include "io/seams.h"

#include "io/crs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The largest few overlaps and gaps named in the warnings. */
#define SEAMS_SHOWN 5

void cs_seams_free(cs_areas *a, cs_geos h)
{
    for (size_t i = 0; a->overlaps && i < a->overlap_count; i++)
        cs_geom_destroy(h, a->overlaps[i].geom);
    for (size_t i = 0; a->gaps && i < a->gap_count; i++)
        cs_geom_destroy(h, a->gaps[i].geom);
    cs_free(a->overlaps);
    cs_free(a->gaps);
    a->overlaps = a->gaps = NULL;
    a->overlap_count = a->gap_count = 0;
}

/* Area b without the n overlaps (parts) it gives to areas before it. */
static cs_status give_up_overlaps(cs_context *ctx, cs_study *s, const char *file, size_t b,
                                  cs_geom *const *parts, size_t n)
{
    cs_geos h = s->geos;
    cs_geom *lost = cs_geom_union(h, parts, n);
    cs_geom *kept = lost ? cs_geom_difference(h, s->areas.geom[b], lost) : NULL;
    cs_geom_destroy(h, lost);
    char reason[256] = "";
    if (kept && !cs_geom_is_valid(h, kept, reason, sizeof reason)) {
        /* the overlay can leave a self-touching sliver where the borders cross */
        cs_geom *fixed = cs_geom_repair(h, kept);
        cs_geom_destroy(h, kept);
        kept = fixed;
    }
    if (!kept && cs_take_nomem())
        return cs_nomem(ctx);
    if (!kept)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the areas layer",
                        "GEOS failed while taking the overlaps out of area %s: %s",
                        s->areas.name[b], ctx->foreign_error);
    cs_geom_destroy(h, s->areas.geom[b]);
    s->areas.geom[b] = kept;
    s->areas.m2[b] = cs_geom_area_m2(h, kept);
    if (!(s->areas.m2[b] >= 1.0)) {
        cs_where w = {.file = file, .feature_id = s->areas.id[b]};
        cs_warn(ctx, &w, "remove the repeated area, or put it before the one that covers it",
                "area %s lies wholly within areas before it in the layer: it keeps no ground "
                "and counts no residents", s->areas.name[b]);
    }
    return CS_OK;
}

static cs_status find_overlaps(cs_context *ctx, cs_study *s, const char *file)
{
    cs_geos h = s->geos;
    cs_geom_overlap *ov = NULL;
    size_t n = 0;
    cs_status st = cs_geom_overlaps(h, s->areas.geom, s->areas.count, &ov, &n);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the areas layer",
                        "GEOS failed while looking for overlaps between the areas: %s",
                        ctx->foreign_error);
    if (n == 0)
        return CS_OK;
    s->areas.overlaps = cs_calloc(n, sizeof *s->areas.overlaps);
    cs_geom **parts = cs_calloc(n, sizeof *parts);
    if (!s->areas.overlaps || !parts) {
        for (size_t i = 0; i < n; i++)
            cs_geom_destroy(h, ov[i].geom);
        cs_free(ov);
        cs_free(parts);
        return cs_nomem(ctx);
    }
    s->areas.overlap_count = n;
    for (size_t i = 0; i < n; i++) {
        cs_seam *o = &s->areas.overlaps[i];
        *o = (cs_seam){.a = (long)ov[i].a, .b = (long)ov[i].b, .geom = ov[i].geom};
        o->m2 = cs_geom_area_m2(h, o->geom);
        if (!cs_geom_point_on(h, o->geom, &o->x, &o->y))
            o->x = o->y = NAN;
    }
    cs_free(ov);
    /* every area that comes second in a pair gives up all its overlaps at once */
    for (size_t b = 1; st == CS_OK && b < s->areas.count; b++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (s->areas.overlaps[i].b == (long)b)
                parts[k++] = s->areas.overlaps[i].geom;
        if (k > 0)
            st = give_up_overlaps(ctx, s, file, b, parts, k);
    }
    cs_free(parts);
    return st;
}

static cs_status find_gaps(cs_context *ctx, cs_study *s)
{
    cs_geos h = s->geos;
    cs_geom **holes = NULL;
    size_t n = 0;
    if (cs_geom_holes(h, s->areas.district, &holes, &n) != CS_OK)
        return cs_nomem(ctx);
    if (n == 0)
        return CS_OK;
    s->areas.gaps = cs_calloc(n, sizeof *s->areas.gaps);
    if (!s->areas.gaps) {
        for (size_t i = 0; i < n; i++)
            cs_geom_destroy(h, holes[i]);
        cs_free(holes);
        return cs_nomem(ctx);
    }
    s->areas.gap_count = n;
    for (size_t i = 0; i < n; i++) {
        cs_seam *g = &s->areas.gaps[i];
        *g = (cs_seam){.a = -1, .b = -1, .geom = holes[i]};
        g->m2 = cs_geom_area_m2(h, g->geom);
        if (!cs_geom_point_on(h, g->geom, &g->x, &g->y))
            g->x = g->y = NAN;
    }
    /* the first two areas around each, for the message */
    long (*beside)[2] = cs_calloc(n, sizeof *beside);
    cs_status st = beside ? cs_geom_bordering(h, s->areas.geom, s->areas.count, holes, n, beside)
                          : CS_ERR_NOMEM;
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        s->areas.gaps[i].a = beside[i][0];
        s->areas.gaps[i].b = beside[i][1];
    }
    cs_free(beside);
    cs_free(holes);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the areas layer",
                        "GEOS failed while looking for the areas around the gaps between them");
    return CS_OK;
}

/* Each seam's point in WGS84 lon/lat for the messages. */
static cs_status to_lonlat(cs_context *ctx, cs_study *s)
{
    size_t n = s->areas.overlap_count + s->areas.gap_count;
    if (n == 0)
        return CS_OK;
    double *x = cs_calloc(n, sizeof *x), *y = cs_calloc(n, sizeof *y);
    cs_transform *t = NULL;
    cs_status st = x && y ? CS_OK : cs_nomem(ctx);
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        const cs_seam *m = i < s->areas.overlap_count
                               ? &s->areas.overlaps[i]
                               : &s->areas.gaps[i - s->areas.overlap_count];
        x[i] = m->x;
        y[i] = m->y;
    }
    if (st == CS_OK)
        st = cs_transform_create(ctx, s->settings.crs, "EPSG:4326", NULL, &t);
    if (st == CS_OK)
        cs_transform_apply(t, x, y, n);
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        cs_seam *m = i < s->areas.overlap_count ? &s->areas.overlaps[i]
                                                : &s->areas.gaps[i - s->areas.overlap_count];
        m->lon = x[i];
        m->lat = y[i];
    }
    cs_transform_destroy(t);
    cs_free(x);
    cs_free(y);
    return st;
}

cs_status cs_seams_find(cs_context *ctx, cs_study *s, const char *file)
{
    /* the areas add up to their union (a clean partition, to rounding): no overlap has
     * any area to speak of, and the pairwise search is skipped */
    double sum = 0;
    for (size_t a = 0; a < s->areas.count; a++)
        sum += s->areas.m2[a];
    bool clean = sum - cs_geom_area_m2(s->geos, s->areas.district) <= 1e-9 * sum;
    cs_status st = clean ? CS_OK : find_overlaps(ctx, s, file);
    if (st == CS_OK)
        st = find_gaps(ctx, s);
    if (st == CS_OK)
        st = to_lonlat(ctx, s);
    return st;
}

static bool in_box(cs_geos h, const cs_geom *g, double x, double y)
{
    double b[4];
    return cs_geom_bounds(h, g, b) && x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
}

void cs_seams_count_points(cs_study *s, const double *x, const double *y, const double *pop,
                           size_t stride, const long *area, size_t n)
{
    if (s->areas.overlap_count == 0 && s->areas.gap_count == 0)
        return;
    cs_geos h = s->geos;
    for (size_t i = 0; i < n; i++) {
        /* an overlap is only ever inside its owner, the area the point was given to */
        cs_seam *list = area[i] >= 0 ? s->areas.overlaps : s->areas.gaps;
        size_t count = area[i] >= 0 ? s->areas.overlap_count : s->areas.gap_count;
        for (size_t k = 0; k < count; k++) {
            if ((area[i] >= 0 && list[k].a != area[i]) || !in_box(h, list[k].geom, x[i], y[i]))
                continue;
            if (cs_geom_covers_xy(h, list[k].geom, x[i], y[i]) == 1) {
                list[k].residents += pop[i * stride];
                break;
            }
        }
    }
}

/* Indices of the few largest seams, largest first (ties: first found). */
static size_t largest(const cs_seam *m, size_t n, size_t *out)
{
    size_t k = 0;
    for (; k < SEAMS_SHOWN && k < n; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            bool taken = false;
            for (size_t q = 0; q < k; q++)
                taken |= out[q] == i;
            if (!taken && (best == n || m[i].m2 > m[best].m2))
                best = i;
        }
        out[k] = best;
    }
    return k;
}

static void add_area(cs_buf *b, double m2)
{
    if (m2 >= 1e5) {
        cs_buf_printf(b, "%.2f km²", m2 / 1e6);
    } else {
        cs_buf_add_grouped(b, m2, 0);
        cs_buf_add(b, " m²");
    }
}

/* A seam's residents are counted unless the population is read later (careshed shard
 * reading a grid by strips, cs_study_each_demand): then none is known at the load. */
static bool residents_counted(const cs_study *s)
{
    return s->dem.stream == NULL;
}

static void add_seam(cs_buf *b, const cs_study *s, const cs_seam *m, bool overlap)
{
    if (overlap)
        cs_buf_printf(b, "%s / %s, ", s->areas.name[m->a], s->areas.name[m->b]);
    add_area(b, m->m2);
    cs_buf_printf(b, " at %.6f, %.6f", m->lon, m->lat);
    if (!overlap && m->a >= 0)
        cs_buf_printf(b, " beside %s%s%s", s->areas.name[m->a], m->b >= 0 ? " and " : "",
                      m->b >= 0 ? s->areas.name[m->b] : "");
    if (residents_counted(s)) {
        cs_buf_add(b, ", ");
        cs_buf_add_grouped(b, m->residents, 0);
        cs_buf_add(b, " residents");
    }
}

static void warn_seams(cs_context *ctx, const cs_study *s, const char *file, bool overlap)
{
    const cs_seam *m = overlap ? s->areas.overlaps : s->areas.gaps;
    size_t n = overlap ? s->areas.overlap_count : s->areas.gap_count;
    if (n == 0)
        return;
    double m2 = 0, residents = 0;
    for (size_t i = 0; i < n; i++) {
        m2 += m[i].m2;
        residents += m[i].residents;
    }
    size_t top[SEAMS_SHOWN];
    size_t shown = largest(m, n, top);
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add_grouped(&b, (double)n, 0);
    cs_buf_add(&b, overlap ? (n == 1 ? " overlap" : " overlaps") : (n == 1 ? " gap" : " gaps"));
    cs_buf_add(&b, overlap ? " between areas, " : " between areas (holes in their union), ");
    add_area(&b, m2);
    if (residents_counted(s)) {
        cs_buf_add(&b, " in all, ");
        cs_buf_add_grouped(&b, residents, 0);
        cs_buf_add(&b, overlap ? " residents in them; each overlap counts in the area that "
                                 "comes first in the layer, the other loses it"
                               : " residents in them left out as outside every area");
    } else {
        cs_buf_add(&b, overlap ? " in all; each overlap counts in the area that comes first "
                                 "in the layer, the other loses it"
                               : " in all; residents in them are left out as outside every "
                                 "area");
    }
    cs_buf_add(&b, shown < n ? "; largest: " : ": ");
    for (size_t i = 0; i < shown; i++) {
        if (i > 0)
            cs_buf_add(&b, "; ");
        add_seam(&b, s, &m[top[i]], overlap);
    }
    cs_where w = {.file = file};
    cs_warn(ctx, &w, overlap ? "fix the boundaries in a GIS if the overlaps are not meant, "
                               "or order the areas so the right one comes first"
                             : "close the gaps in a GIS if people live in them",
            "%s", b.data ? b.data : "overlaps or gaps between areas");
    cs_buf_free(&b);
}

void cs_seams_warn(cs_context *ctx, const cs_study *s, const char *areas_file)
{
    warn_seams(ctx, s, areas_file, true);
    warn_seams(ctx, s, areas_file, false);
}
