/*
 * run.c — one run of the main job on a loaded study: the cost field of every kind,
 * then coverage tables and facility statistics, then targets. Also the result's
 * accessors.
 */
#include "access/kinds.h"
#include "cost/matrix.h"
#include "cost/nearest.h"
#include "cover/cover.h"
#include "cover/patch.h"
#include "plan/plan.h"
#include "run/run.h"

#include <math.h>

/* The cost fields of kind k, each way it is measured; order: the demand points' for
 * straight-line searches (or NULL). */
static cs_status kind_fields(cs_context *ctx, cs_result *r, size_t k, size_t n,
                             const cs_query_order *order)
{
    const cs_study *s = r->study;
    for (size_t m = 0; m < CS_MEASURES; m++) {
        if (!(s->settings.kinds[k].measures & cs_measure_bit(m)))
            continue;
        size_t i = cs_res_field(r, m, k);
        r->dist_m[i] = cs_calloc(n, sizeof **r->dist_m);
        r->nearest[i] = cs_calloc(n, sizeof **r->nearest);
        if (!r->dist_m[i] || !r->nearest[i])
            return cs_nomem(ctx);
        cs_status st = CS_OK;
        if (m == CS_M_STRAIGHT)
            st = cs_cost_field_ties(ctx, s, k, order, r->dist_m[i], r->nearest[i],
                                    &r->ties[i]);
        else if (m == CS_M_NETWORK)
            st = cs_net_cost_field(ctx, s, &r->net, k, &r->fields[k], r->dist_m[i],
                                   r->nearest[i], &r->ties[i]);
        else {
            double t0 = cs_stage_begin();
            if (!cs_matrix_cost_field(s, k, r->dist_m[i], r->nearest[i], &r->ties[i]))
                st = cs_nomem(ctx);
            cs_stage_end(ctx, "cost field", t0);
        }
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

/* A new result of the study, its tables not yet made. */
static cs_result *result_new(const cs_study *study)
{
    cs_result *r = cs_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->study = study;
    r->K = study->settings.kind_count;
    r->A = study->areas.count;
    r->B = study->settings.band_count;
    r->C = study->settings.capacity_count;
    r->dist_m = cs_calloc(CS_MEASURES * r->K + 1, sizeof *r->dist_m);
    r->nearest = cs_calloc(CS_MEASURES * r->K + 1, sizeof *r->nearest);
    r->ties = cs_calloc(CS_MEASURES * r->K + 1, sizeof *r->ties);
    r->fields = cs_calloc(r->K + 1, sizeof *r->fields);
    if (!r->dist_m || !r->nearest || !r->ties || !r->fields) {
        cs_result_destroy(r);
        return NULL;
    }
    return r;
}

/* The cost fields of every kind, computed. */
static cs_status compute_fields(cs_context *ctx, cs_result *r)
{
    const cs_study *study = r->study;
    size_t n = study->dem.count ? study->dem.count : 1;
    cs_status st = CS_OK;
    if (cs_study_any_kind_measured(study, CS_MEASURE_NETWORK)) {
        st = cs_net_prepare(ctx, study, &r->net);
        r->has_network = st == CS_OK;
        if (st == CS_OK)
            st = cs_net_search_kinds(ctx, study, &r->net, r->fields);
    }
    /* the demand points' visiting order, sorted once for every kind measured straight */
    cs_query_order *order = NULL;
    if (st == CS_OK && cs_study_any_kind_measured(study, CS_MEASURE_STRAIGHT)) {
        double t0 = cs_stage_begin();
        order = cs_query_order_create(study->dem.x, study->dem.y, study->dem.count);
        cs_stage_end(ctx, "cost field", t0);
    }
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        st = kind_fields(ctx, r, k, n, order);
        cs_progress(ctx, "cost field", (double)(k + 1) / (double)r->K);
    }
    cs_query_order_destroy(order);
    return st;
}

cs_status cs_run_given(cs_context *ctx, const cs_study *study, const cs_run_source *given,
                       cs_result **out)
{
    if (!ctx || !study || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_result *r = result_new(study);
    if (!r)
        return cs_nomem(ctx);
    cs_status st = given ? given->fields(ctx, r, given->data) : compute_fields(ctx, r);
    double t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_cover_tabulate(ctx, r);
    if (st == CS_OK)
        st = cs_cover_catchments(ctx, r);
    cs_stage_end(ctx, "coverage", t0);
    t0 = cs_stage_begin();
    if (st == CS_OK)
        st = given ? given->access(ctx, r, given->data) : cs_access_kinds(ctx, r);
    cs_stage_end(ctx, "accessibility", t0);
    t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_cover_patches(ctx, r);
    cs_stage_end(ctx, "patches", t0);
    if (st == CS_OK)
        st = cs_plan_evaluate(ctx, r);
    if (st != CS_OK) {
        cs_result_destroy(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

cs_status cs_run(cs_context *ctx, const cs_study *study, cs_result **out)
{
    return cs_run_given(ctx, study, NULL, out);
}

void cs_result_free_attachments(cs_result *r)
{
    cs_segment_index_destroy(r->net.index);
    r->net.index = NULL;
    cs_attach_free(&r->net.demand);
    for (size_t k = 0; r->fields && k < r->K; k++)
        cs_net_field_keep_costs(&r->fields[k]);
    cs_memory_return();
}

void cs_result_free_network(cs_result *r)
{
    for (size_t k = 0; r->fields && k < r->K; k++)
        cs_net_field_free(&r->fields[k]);
    cs_graph_free(&r->net.graph);
    cs_result_free_attachments(r); /* and the memory returned */
    r->network_freed = true;
}

void cs_result_destroy(cs_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < CS_MEASURES * r->K; i++) {
        if (r->dist_m)
            cs_free(r->dist_m[i]);
        if (r->nearest)
            cs_free(r->nearest[i]);
        if (r->ties)
            cs_ties_free(&r->ties[i]);
    }
    for (size_t k = 0; r->fields && k < r->K; k++)
        cs_net_field_free(&r->fields[k]);
    cs_free(r->fields);
    cs_net_free(&r->net);
    cs_free(r->served);
    for (size_t k = 0; k < r->K; k++) {
        if (r->access)
            cs_free(r->access[k]);
        if (r->fac_ratio)
            cs_free(r->fac_ratio[k]);
    }
    cs_free(r->access);
    cs_free(r->fac_ratio);
    cs_free(r->access_mean);
    cs_cover_patches_free(r);
    cs_free(r->dist_m);
    cs_free(r->nearest);
    cs_free(r->ties);
    cs_free(r->population);
    cs_free(r->covered);
    cs_free(r->fac_count);
    cs_free(r->fac_cap);
    size_t T = r->study->settings.target_count, A1 = r->A + 1;
    for (size_t i = 0; r->gap_texts && i < CS_LANGS * T * A1; i++)
        cs_free(r->gap_texts[i]);
    cs_free(r->gap_texts);
    cs_free(r->outcomes);
    cs_free(r->merged.dir);
    cs_free(r->merged.missing);
    cs_free(r);
}

size_t cs_result_target_count(const cs_result *r)
{
    return r ? r->study->settings.target_count : 0;
}

const char *cs_result_target_id(const cs_result *r, size_t t)
{
    return r && t < r->study->settings.target_count ? r->study->settings.targets[t].id : NULL;
}

const char *cs_result_target_name(const cs_result *r, size_t t)
{
    return r && t < r->study->settings.target_count ? r->study->settings.targets[t].name : NULL;
}

cs_status cs_result_target(const cs_result *r, size_t t, size_t a, cs_target_outcome *out)
{
    if (!r || !out || t >= r->study->settings.target_count)
        return CS_ERR_ARGUMENT;
    if (!cs_res_area(r, &a))
        return CS_ERR_ARGUMENT;
    *out = r->outcomes[cs_res_target(r, t, a)];
    return CS_OK;
}

cs_status cs_result_network(const cs_result *r, cs_network_report *out)
{
    if (!r || !out || !r->has_network)
        return CS_ERR_ARGUMENT;
    *out = r->net.report;
    return CS_OK;
}

size_t cs_result_failed_targets(const cs_result *r)
{
    if (!r)
        return 0;
    size_t failed = 0;
    for (size_t t = 0; t < r->study->settings.target_count; t++) {
        const cs_target_outcome *d = &r->outcomes[cs_res_target(r, t, r->A)];
        /* the district outcome already folds in every area for area-scope targets */
        failed += d->evaluated && d->binding && !d->pass;
    }
    return failed;
}

size_t cs_result_patch_count(const cs_result *r, size_t k)
{
    return r && k < r->K && r->patches ? r->patches[k].count : 0;
}

cs_status cs_result_patch(const cs_result *r, size_t k, size_t i, cs_patch_info *out)
{
    if (!out || i >= cs_result_patch_count(r, k))
        return CS_ERR_ARGUMENT;
    const cs_patch *p = &r->patches[k].patches[i];
    *out = (cs_patch_info){p->uncovered, p->area_m2,    p->nearest_m,
                           p->cells,     p->area_count, p->areas};
    return CS_OK;
}

cs_status cs_result_access(const cs_result *r, size_t k, size_t a, double *mean)
{
    if (!r || !mean || k >= r->K || !r->access || !r->access[k])
        return CS_ERR_ARGUMENT;
    if (!cs_res_area(r, &a))
        return CS_ERR_ARGUMENT;
    *mean = r->access_mean[cs_res_count(r, k, a)];
    return CS_OK;
}

const double *cs_result_access_points(const cs_result *r, size_t k)
{
    return r && k < r->K && r->access ? r->access[k] : NULL;
}
