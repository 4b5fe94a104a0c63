/*
 * costfield.c — the straight-line cost field: for every demand point, the distance to
 * the nearest facility of one kind, through a spatial index over that kind's
 * facilities (never all pairs). Thresholds are applied later, so 5, 10 and 15
 * minutes all come from this one pass.
 */
#include "cost/nearest.h"
#include "io/study.h"

#include <math.h>

cs_status cs_cost_field_compute(cs_context *ctx, const cs_study *study, size_t k,
                                double *dist_m, long *nearest)
{
    if (!ctx || !study || !dist_m || k >= study->kind_count)
        return CS_ERR_ARGUMENT;
    size_t n = 0;
    for (size_t f = 0; f < study->facility_count; f++)
        n += study->fac_kind[f] == (long)k;
    double *x = cs_calloc(n ? n : 1, sizeof *x), *y = cs_calloc(n ? n : 1, sizeof *y);
    long *global = cs_calloc(n ? n : 1, sizeof *global);
    long *local = nearest ? NULL : cs_calloc(study->demand_count ? study->demand_count : 1,
                                             sizeof *local);
    cs_point_index *index = NULL;
    cs_status st = x && y && global && (nearest || local) ? CS_OK : CS_ERR_NOMEM;
    if (st == CS_OK) {
        size_t m = 0;
        for (size_t f = 0; f < study->facility_count; f++)
            if (study->fac_kind[f] == (long)k) {
                x[m] = study->fac_x[f];
                y[m] = study->fac_y[f];
                global[m++] = (long)f;
            }
        double t0 = cs_stage_begin();
        st = cs_point_index_create(x, y, n, &index);
        cs_stage_end(ctx, "index", t0);
    }
    if (st == CS_OK) {
        double t0 = cs_stage_begin();
        long *out = nearest ? nearest : local;
        cs_point_index_nearest_all(index, study->dem_x, study->dem_y, study->demand_count,
                                   ctx->threads, dist_m, out);
        /* facility indices of this kind -> indices in the study */
        for (size_t i = 0; i < study->demand_count; i++)
            out[i] = out[i] >= 0 ? global[out[i]] : -1;
        cs_stage_end(ctx, "cost field", t0);
    }
    cs_point_index_destroy(index);
    cs_free(x);
    cs_free(y);
    cs_free(global);
    cs_free(local);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}
