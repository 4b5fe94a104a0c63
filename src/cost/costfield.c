/*
 * costfield.c — the straight-line cost field: for every demand point, the distance to
 * the nearest facility of one kind, through a spatial index over that kind's
 * facilities (never all pairs). Thresholds are applied later, so 5, 10 and 15
 * minutes all come from this one pass. Points with more than one nearest facility
 * (the same squared distance) are listed apart, with all of them.
 */
#include "cost/nearest.h"
#include "io/study.h"

#include <math.h>

/* The tied points' facilities (flagged by the batch query), as study indices. */
static cs_status list_ties(const double *px, const double *py, size_t np,
                           const cs_point_index *index, const long *global,
                           const unsigned char *tied, cs_ties *ties)
{
    long *fac = NULL;
    size_t cap = 0;
    cs_status st = CS_OK;
    for (size_t i = 0; st == CS_OK && i < np; i++) {
        if (!tied[i])
            continue;
        size_t n = cs_point_index_ties(index, px[i], py[i], &fac, &cap);
        if (n == (size_t)-1) {
            st = CS_ERR_NOMEM;
            break;
        }
        if (n < 2)
            continue; /* flagged, but alone at its distance */
        for (size_t j = 0; j < n; j++)
            fac[j] = global[fac[j]]; /* increasing, as the kind's facilities are */
        if (!cs_ties_add(ties, i, fac, n))
            st = CS_ERR_NOMEM;
    }
    cs_free(fac);
    return st;
}

cs_status cs_cost_field_compute(cs_context *ctx, const cs_study *study, size_t k,
                                double *dist_m, long *nearest)
{
    return cs_cost_field_ties(ctx, study, k, NULL, dist_m, nearest, NULL);
}

cs_status cs_cost_field_ties(cs_context *ctx, const cs_study *study, size_t k,
                             const cs_query_order *order, double *dist_m, long *nearest,
                             cs_ties *ties)
{
    if (!study)
        return CS_ERR_ARGUMENT;
    return cs_cost_field_points(ctx, study, k, study->dem.x, study->dem.y, study->dem.count,
                                order, dist_m, nearest, ties);
}

cs_status cs_cost_field_points(cs_context *ctx, const cs_study *study, size_t k,
                               const double *px, const double *py, size_t np,
                               const cs_query_order *order, double *dist_m, long *nearest,
                               cs_ties *ties)
{
    if (!ctx || !study || !dist_m || k >= study->settings.kind_count)
        return CS_ERR_ARGUMENT;
    size_t n = 0;
    for (size_t f = 0; f < study->fac.count; f++)
        n += study->fac.kind[f] == (long)k;
    double *x = cs_calloc(n ? n : 1, sizeof *x), *y = cs_calloc(n ? n : 1, sizeof *y);
    long *global = cs_calloc(n ? n : 1, sizeof *global);
    long *local = nearest ? NULL : cs_calloc(np ? np : 1, sizeof *local);
    unsigned char *tied = ties ? cs_calloc(np + 1, 1) : NULL;
    cs_point_index *index = NULL;
    cs_status st =
        x && y && global && (nearest || local) && (tied || !ties) ? CS_OK : CS_ERR_NOMEM;
    if (st == CS_OK) {
        size_t m = 0;
        for (size_t f = 0; f < study->fac.count; f++)
            if (study->fac.kind[f] == (long)k) {
                x[m] = study->fac.x[f];
                y[m] = study->fac.y[f];
                global[m++] = (long)f;
            }
        double t0 = cs_stage_begin();
        st = cs_point_index_create(x, y, n, &index);
        cs_stage_end(ctx, "index", t0);
    }
    if (st == CS_OK) {
        double t0 = cs_stage_begin();
        long *out = nearest ? nearest : local;
        cs_point_index_nearest_all_tied(index, px, py, np, order, ctx->threads, dist_m, out,
                                        tied);
        /* facility indices of this kind -> indices in the study */
        for (size_t i = 0; i < np; i++)
            out[i] = out[i] >= 0 ? global[out[i]] : -1;
        if (ties)
            st = list_ties(px, py, np, index, global, tied, ties);
        cs_stage_end(ctx, "cost field", t0);
    }
    cs_point_index_destroy(index);
    cs_free(x);
    cs_free(y);
    cs_free(global);
    cs_free(local);
    cs_free(tied);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}
