/*
 * run.c — one run of the main job on a loaded study: the cost field of every kind,
 * then coverage tables and facility statistics, then targets. Also the result's
 * accessors.
 */
#include "cover/result.h"

#include <math.h>

cs_status cs_run(cs_context *ctx, const cs_study *study, cs_result **out)
{
    if (!ctx || !study || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_result *r = cs_calloc(1, sizeof *r);
    if (!r)
        return cs_nomem(ctx);
    r->study = study;
    r->K = study->kind_count;
    r->A = study->area_count;
    r->B = study->band_count;
    r->C = study->capacity_count;
    size_t n = study->demand_count ? study->demand_count : 1;
    r->dist_m = cs_calloc(r->K + 1, sizeof *r->dist_m);
    r->nearest = cs_calloc(r->K + 1, sizeof *r->nearest);
    cs_status st = r->dist_m && r->nearest ? CS_OK : cs_nomem(ctx);
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        r->dist_m[k] = cs_calloc(n, sizeof **r->dist_m);
        r->nearest[k] = cs_calloc(n, sizeof **r->nearest);
        if (!r->dist_m[k] || !r->nearest[k])
            st = cs_nomem(ctx);
        else
            st = cs_cost_field_compute(ctx, study, k, r->dist_m[k], r->nearest[k]);
        cs_progress(ctx, "cost field", (double)(k + 1) / (double)r->K);
    }
    double t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_cover_tabulate(ctx, r);
    if (st == CS_OK)
        st = cs_plan_evaluate(ctx, r);
    cs_stage_end(ctx, "coverage", t0);
    if (st != CS_OK) {
        cs_result_destroy(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

void cs_result_destroy(cs_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->K; k++) {
        if (r->dist_m)
            cs_free(r->dist_m[k]);
        if (r->nearest)
            cs_free(r->nearest[k]);
    }
    cs_free(r->dist_m);
    cs_free(r->nearest);
    cs_free(r->population);
    cs_free(r->covered);
    cs_free(r->fac_count);
    cs_free(r->fac_cap);
    size_t T = r->study->target_count, A1 = r->A + 1;
    for (size_t i = 0; r->gap_texts && i < T * A1; i++)
        cs_free(r->gap_texts[i]);
    cs_free(r->gap_texts);
    cs_free(r->outcomes);
    cs_free(r);
}

size_t cs_result_target_count(const cs_result *r)
{
    return r ? r->study->target_count : 0;
}

const char *cs_result_target_id(const cs_result *r, size_t t)
{
    return r && t < r->study->target_count ? r->study->targets[t].id : NULL;
}

const char *cs_result_target_name(const cs_result *r, size_t t)
{
    return r && t < r->study->target_count ? r->study->targets[t].name : NULL;
}

cs_status cs_result_target(const cs_result *r, size_t t, size_t a, cs_target_outcome *out)
{
    if (!r || !out || t >= r->study->target_count)
        return CS_ERR_ARGUMENT;
    if (a == CS_DISTRICT)
        a = r->A;
    if (a > r->A)
        return CS_ERR_ARGUMENT;
    *out = r->outcomes[cs_res_target(r, t, a)];
    return CS_OK;
}

size_t cs_result_failed_targets(const cs_result *r)
{
    if (!r)
        return 0;
    size_t failed = 0;
    for (size_t t = 0; t < r->study->target_count; t++) {
        const cs_target_outcome *d = &r->outcomes[cs_res_target(r, t, r->A)];
        /* the district outcome already folds in every area for area-scope targets */
        failed += d->evaluated && d->binding && !d->pass;
    }
    return failed;
}
