/*
 * evaluate.c — what proposed sites would change, without recomputing the district.
 *
 * A proposal only changes what lies within its kind's largest threshold of it, and the
 * run's cost fields already say how far every resident is from the nearest existing
 * facility. So each proposal needs only the residents around it — a within-radius
 * query on the demand points (straight), one bounded search from it (network) or its
 * row of the cost matrix — and a resident is newly covered at a threshold when the
 * proposal is within it and the nearest existing facility is not. All proposals together are
 * not the sum of each alone: a resident two proposals reach counts once, so together takes each
 * resident's cheapest proposal. Targets are then evaluated again on the run's tables plus the
 * changes (covered residents, facility counts and capacities, accessibility).
 */
#include "site/site.h"

#include "access/access.h"
#include "access/kinds.h"
#include "cost/matrix.h"
#include "cost/nearest.h"
#include "plan/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What searches around sites share, read-only: the demand points' index and the
 * network's points by edge. Built once per run (a server keeps it), or per call. */
struct cs_site_cache {
    const cs_result *r;
    cs_point_index *demand;
    cs_net_reach *reach;
};

/* One caller's searches: the shared part, and its own scratch memory. */
struct cs_reacher {
    const cs_result *r;
    const cs_point_index *demand;
    const cs_net_reach *reach;
    cs_site_cache *owned; /* the shared part, when this reacher built it */
    cs_net_scratch *scratch;
    long *idx; /* within-radius results */
    size_t idx_cap;
};

cs_status cs_site_cache_build(const cs_result *r, const unsigned char *keep,
                              cs_site_cache **out)
{
    cs_site_cache *c = cs_calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return CS_ERR_NOMEM;
    c->r = r;
    const cs_study *s = r->study;
    cs_status st = cs_point_index_create(s->dem.x, s->dem.y, s->dem.count, &c->demand);
    if (st == CS_OK && r->has_network)
        st = cs_net_reach_create(&r->net.graph, &r->net.demand, keep, &c->reach);
    return st;
}

const cs_result *cs_site_cache_result(const cs_site_cache *c)
{
    return c->r;
}

void cs_site_cache_destroy(cs_site_cache *c)
{
    if (!c)
        return;
    cs_point_index_destroy(c->demand);
    cs_net_reach_destroy(c->reach);
    cs_free(c);
}

cs_status cs_reacher_create_shared(const cs_site_cache *shared, cs_reacher **out)
{
    cs_reacher *rc = cs_calloc(1, sizeof *rc);
    *out = rc;
    if (!rc)
        return CS_ERR_NOMEM;
    *rc = (cs_reacher){.r = shared->r, .demand = shared->demand, .reach = shared->reach};
    if (shared->r->has_network && !(rc->scratch = cs_net_scratch_create(&shared->r->net.graph)))
        return CS_ERR_NOMEM;
    return CS_OK;
}

cs_status cs_reacher_create(const cs_result *r, cs_reacher **out)
{
    cs_site_cache *own = NULL;
    cs_status st = cs_site_cache_build(r, NULL, &own);
    if (st == CS_OK)
        st = cs_reacher_create_shared(own, out);
    else
        *out = NULL;
    if (*out)
        (*out)->owned = own;
    else
        cs_site_cache_destroy(own);
    return st;
}

void cs_reacher_destroy(cs_reacher *rc)
{
    if (!rc)
        return;
    cs_free(rc->idx);
    cs_site_cache_destroy(rc->owned);
    cs_net_scratch_destroy(rc->scratch);
    cs_free(rc);
}

static bool reserve(cs_pairs *out, size_t n)
{
    if (n <= out->cap)
        return true;
    long *pt = cs_reallocarray(out->pt, n, sizeof *pt);
    if (pt)
        out->pt = pt;
    double *c = pt ? cs_reallocarray(out->cost, n, sizeof *c) : NULL;
    if (!c)
        return false;
    out->cost = c;
    out->cap = n;
    return true;
}

cs_status cs_reacher_reach(cs_reacher *rc, double x, double y, long row, size_t k, size_t m,
                           double reach_m, cs_pairs *out)
{
    const cs_result *r = rc->r;
    const cs_study *s = r->study;
    out->n = 0;
    if (m == CS_M_MATRIX) {
        if (row < 0)
            return CS_OK;
        if (!reserve(out, cs_matrix_row_size(s, (size_t)row)))
            return CS_ERR_NOMEM;
        out->n = cs_matrix_reach(s, k, (size_t)row, reach_m, out->pt, out->cost);
        return CS_OK;
    }
    if (m == CS_M_STRAIGHT) {
        size_t n = cs_point_index_within(rc->demand, x, y, reach_m, &rc->idx, &rc->idx_cap);
        if (n == (size_t)-1 || !reserve(out, n))
            return CS_ERR_NOMEM;
        for (size_t q = 0; q < n; q++) {
            size_t i = (size_t)rc->idx[q];
            out->pt[q] = (long)i;
            out->cost[q] = hypot(s->dem.x[i] - x, s->dem.y[i] - y);
        }
        out->n = n;
        return CS_OK;
    }
    cs_attach at = {0};
    cs_status st = cs_attach_points(&r->net.graph, r->net.index, &x, &y, 1,
                                    s->net.max_attach_m, 1, &at);
    if (st != CS_OK)
        return st;
    size_t n = cs_net_reach_from(rc->reach, rc->scratch, at.edge[0], at.along_m[0],
                                 at.access_m[0], reach_m, &out->pt, &out->cost, &out->cap);
    cs_attach_free(&at);
    if (n == (size_t)-1)
        return CS_ERR_NOMEM;
    out->n = n;
    return CS_OK;
}

/* The context of one evaluation. */
typedef struct evaluator {
    cs_context *ctx;
    const cs_result *r;
    cs_reacher *reacher;
} evaluator;

/* The residents within kind k's largest threshold of p, by measure m, with their costs. */
static cs_status reach_of(evaluator *ev, const cs_proposal *p, size_t m, cs_pairs *out)
{
    return cs_reacher_reach(ev->reacher, p->x, p->y, p->row, (size_t)p->kind, m,
                            cs_kind_reach_m(&ev->r->study->settings.kinds[p->kind]), out);
}

/* Add resident i, now at cost `cost` from a new facility of kind k, to the newly
 * covered of measure m at every threshold it newly meets. */
static void add_newly(const cs_result *r, double *newly, size_t k, size_t m, size_t i,
                      double cost)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    double now = r->dist_m[cs_res_field(r, m, k)][i];
    size_t a = (size_t)s->dem.area[i];
    for (size_t j = 0; j < kind->threshold_count; j++) {
        if (!(cost <= kind->threshold_m[j]) || now <= kind->threshold_m[j])
            continue;
        for (size_t b = 0; b < r->B; b++) {
            double v = s->dem.pop[i * r->B + b];
            newly[cs_site_at(r, k, m, j, a, b)] += v;
            newly[cs_site_at(r, k, m, j, r->A, b)] += v;
        }
    }
}

/* Overlap, load moved from neighbours and the proposal's own use, by the main measure. */
static void main_measure_figures(const cs_result *r, const cs_proposal *p, const cs_pairs *pr,
                                 cs_site_effect *e, unsigned char *losing)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[p->kind];
    size_t m = cs_res_main(r, (size_t)p->kind), pb = (size_t)s->settings.patch_band;
    const double *now = r->dist_m[cs_res_field(r, m, (size_t)p->kind)];
    const long *nearest = r->nearest[cs_res_field(r, m, (size_t)p->kind)];
    double reach = cs_kind_reach_m(kind), covered = 0, use = 0;
    for (size_t q = 0; q < pr->n; q++) {
        size_t i = (size_t)pr->pt[q];
        double c = pr->cost[q], band = s->dem.pop[i * r->B + pb];
        if (!(c <= reach))
            continue;
        e->within += band;
        covered += now[i] <= reach ? band : 0;
        /* residents for whom it would be the nearest */
        if (c < now[i] && kind->load_capacity >= 0) {
            double u = s->dem.pop[i * r->B + (size_t)kind->load_band] * kind->load_rate;
            use += u;
            if (nearest[i] >= 0) {
                e->load_taken += u;
                if (!losing[nearest[i]]++)
                    e->neighbours++;
            }
        }
    }
    e->overlap = e->within > 0 ? covered / e->within : NAN;
    e->own_load = p->capacity > 0 ? use / p->capacity : NAN;
}

/* The capacity of p within reach of residents, as 2SFCA hands it out: added to every
 * area's mean accessibility (access_mean, K x (A + 1) sums of band x accessibility). */
static void add_access(const cs_result *r, const cs_proposal *p, const cs_pairs *pr,
                       double *access_sum)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[p->kind];
    if (kind->load_capacity < 0 || !(p->capacity > 0))
        return;
    cs_access_spec spec;
    cs_access_kind_spec(kind, &spec);
    size_t band = (size_t)kind->load_band;
    double demand = 0;
    for (size_t q = 0; q < pr->n; q++)
        demand +=
            s->dem.pop[(size_t)pr->pt[q] * r->B + band] * cs_access_weight(&spec, pr->cost[q]);
    if (!(demand > 0))
        return;
    double ratio = p->capacity / demand;
    for (size_t q = 0; q < pr->n; q++) {
        size_t i = (size_t)pr->pt[q];
        double gain = s->dem.pop[i * r->B + band] * spec.per * ratio *
                      cs_access_weight(&spec, pr->cost[q]);
        access_sum[cs_res_count(r, (size_t)p->kind, (size_t)s->dem.area[i])] += gain;
        access_sum[cs_res_count(r, (size_t)p->kind, r->A)] += gain;
    }
}

/* Targets again, on the run's tables plus what the proposals add. */
static cs_status evaluate_targets(cs_context *ctx, const cs_result *r, const cs_proposal *ps,
                                  size_t n, const double *newly, const double *access_sum,
                                  cs_site_effect *e)
{
    size_t K = r->K, A1 = r->A + 1, ncov = CS_MEASURES * K * CS_MAX_THRESHOLDS * A1 * r->B;
    cs_result t = *r;
    t.covered = cs_calloc(ncov, sizeof *t.covered);
    t.fac_count = cs_calloc(K * A1, sizeof *t.fac_count);
    t.fac_cap = cs_calloc(K * A1 * r->C + 1, sizeof *t.fac_cap);
    t.access_mean = cs_calloc(K * A1, sizeof *t.access_mean);
    t.outcomes = NULL;
    t.gap_texts = NULL;
    cs_status st = t.covered && t.fac_count && t.fac_cap && t.access_mean ? CS_OK : CS_ERR_NOMEM;
    if (st == CS_OK) {
        for (size_t i = 0; i < ncov; i++)
            t.covered[i] = r->covered[i] + newly[i];
        memcpy(t.fac_count, r->fac_count, K * A1 * sizeof *t.fac_count);
        memcpy(t.fac_cap, r->fac_cap, K * A1 * r->C * sizeof *t.fac_cap);
        for (size_t i = 0; i < K * A1; i++) {
            size_t k = i / A1, a = i % A1;
            const cs_kind *kind = &r->study->settings.kinds[k];
            double pop = kind->load_capacity >= 0
                             ? r->population[cs_res_pop(r, a, (size_t)kind->load_band)] : 0;
            t.access_mean[i] = r->access_mean[i] + (pop > 0 ? access_sum[i] / pop : 0);
        }
        for (size_t q = 0; q < n; q++) {
            const cs_proposal *p = &ps[q];
            const cs_kind *kind = &r->study->settings.kinds[p->kind];
            size_t k = (size_t)p->kind;
            for (int scope = 0; scope < 2; scope++) {
                if (scope == 0 && p->area < 0)
                    continue;
                size_t a = scope == 0 ? (size_t)p->area : r->A;
                t.fac_count[cs_res_count(r, k, a)] += 1;
                if (kind->load_capacity >= 0 && p->capacity > 0)
                    t.fac_cap[cs_res_cap(r, k, a, (size_t)kind->load_capacity)] += p->capacity;
            }
        }
        st = cs_plan_evaluate(ctx, &t);
    }
    e->after = t.outcomes;
    e->after_texts = t.gap_texts;
    cs_free(t.covered);
    cs_free(t.fac_count);
    cs_free(t.fac_cap);
    cs_free(t.access_mean);
    return st;
}

/* Every proposal's residents with their costs, per kind and measure, for all of them
 * together: a list as long as the residents they reach, not one slot per resident (a
 * server evaluates in milliseconds among two million residents). */
typedef struct best_costs {
    cs_pairs *pairs; /* K x M */
} best_costs;

static cs_status note_best(const cs_result *r, best_costs *bc, size_t k, size_t m,
                           const cs_pairs *pr)
{
    (void)r;
    cs_pairs *all = &bc->pairs[k * CS_MEASURES + m];
    if (!reserve(all, all->n + pr->n))
        return CS_ERR_NOMEM;
    memcpy(all->pt + all->n, pr->pt, pr->n * sizeof *pr->pt);
    memcpy(all->cost + all->n, pr->cost, pr->n * sizeof *pr->cost);
    all->n += pr->n;
    return CS_OK;
}

typedef struct pair {
    long pt;
    double cost;
} pair;

static int by_point_then_cost(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->pt != y->pt)
        return x->pt < y->pt ? -1 : 1;
    return (x->cost > y->cost) - (x->cost < y->cost);
}

/* The list's residents once each, at their cheapest cost, in the residents' order. */
static cs_status cheapest_each(cs_pairs *all)
{
    if (all->n < 2)
        return CS_OK;
    pair *p = cs_calloc(all->n, sizeof *p);
    if (!p)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < all->n; q++)
        p[q] = (pair){all->pt[q], all->cost[q]};
    qsort(p, all->n, sizeof *p, by_point_then_cost);
    size_t n = 0;
    for (size_t q = 0; q < all->n; q++)
        if (n == 0 || p[q].pt != all->pt[n - 1]) {
            all->pt[n] = p[q].pt;
            all->cost[n++] = p[q].cost;
        }
    all->n = n;
    cs_free(p);
    return CS_OK;
}

static cs_status alloc_effect(const cs_result *r, cs_site_effect *e, double **access_sum)
{
    size_t ncov = CS_MEASURES * r->K * CS_MAX_THRESHOLDS * (r->A + 1) * r->B;
    e->newly = cs_calloc(ncov, sizeof *e->newly);
    *access_sum = cs_calloc(r->K * (r->A + 1), sizeof **access_sum);
    return e->newly && *access_sum ? CS_OK : CS_ERR_NOMEM;
}

static void finish_access(const cs_result *r, const cs_proposal *ps, size_t n,
                          const double *access_sum, cs_site_effect *e)
{
    const cs_kind *kind = &r->study->settings.kinds[ps[0].kind];
    e->access_gain = NAN;
    if (n != 1 || kind->load_capacity < 0)
        return;
    double pop = r->population[cs_res_pop(r, r->A, (size_t)kind->load_band)];
    e->access_gain = pop > 0 ? access_sum[cs_res_count(r, (size_t)ps[0].kind, r->A)] / pop : NAN;
}

/* One proposal alone. */
static cs_status evaluate_one(evaluator *ev, const cs_proposal *p, best_costs *bc,
                              double *access_all, cs_pairs *pr, cs_site_effect *e)
{
    const cs_result *r = ev->r;
    size_t k = (size_t)p->kind;
    double *access_sum = NULL;
    unsigned char *losing = cs_calloc(r->study->fac.count + 1, 1);
    cs_status st = losing ? alloc_effect(r, e, &access_sum) : CS_ERR_NOMEM;
    for (size_t m = 0; st == CS_OK && m < CS_MEASURES; m++) {
        if (!r->dist_m[cs_res_field(r, m, k)])
            continue;
        st = reach_of(ev, p, m, pr);
        for (size_t q = 0; st == CS_OK && q < pr->n; q++)
            add_newly(r, e->newly, k, m, (size_t)pr->pt[q], pr->cost[q]);
        if (st == CS_OK)
            st = note_best(r, bc, k, m, pr);
        if (st == CS_OK && m == cs_res_main(r, k)) {
            main_measure_figures(r, p, pr, e, losing);
            add_access(r, p, pr, access_sum);
        }
    }
    if (st == CS_OK) {
        for (size_t i = 0; i < r->K * (r->A + 1); i++)
            access_all[i] += access_sum[i];
        finish_access(r, p, 1, access_sum, e);
        st = evaluate_targets(ev->ctx, r, p, 1, e->newly, access_sum, e);
    }
    cs_free(access_sum);
    cs_free(losing);
    return st;
}

/* All proposals together: each resident counted once, at its cheapest proposal. */
static cs_status evaluate_together(evaluator *ev, const cs_site *site, best_costs *bc,
                                   const double *access_all, cs_site_effect *e)
{
    const cs_result *r = ev->r;
    const cs_study *s = r->study;
    double *unused = NULL;
    cs_status st = alloc_effect(r, e, &unused);
    cs_free(unused);
    for (size_t slot = 0; st == CS_OK && slot < r->K * CS_MEASURES; slot++)
        st = cheapest_each(&bc->pairs[slot]);
    for (size_t k = 0; st == CS_OK && k < r->K; k++)
        for (size_t m = 0; m < CS_MEASURES; m++) {
            const cs_pairs *best = &bc->pairs[k * CS_MEASURES + m];
            for (size_t q = 0; q < best->n; q++)
                if (isfinite(best->cost[q]))
                    add_newly(r, e->newly, k, m, (size_t)best->pt[q], best->cost[q]);
        }
    e->overlap = e->access_gain = e->own_load = e->within = NAN;
    /* load moved: each resident once, to its cheapest proposal when that beats its
     * nearest existing facility */
    unsigned char *losing = cs_calloc(s->fac.count + 1, 1);
    if (st == CS_OK && !losing)
        st = CS_ERR_NOMEM;
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        size_t m = cs_res_main(r, k);
        const cs_pairs *best = &bc->pairs[k * CS_MEASURES + m];
        const double *now = r->dist_m[cs_res_field(r, m, k)];
        const long *nearest = r->nearest[cs_res_field(r, m, k)];
        for (size_t q = 0; kind->load_capacity >= 0 && q < best->n; q++) {
            size_t i = (size_t)best->pt[q];
            if (!(best->cost[q] <= cs_kind_reach_m(kind)) || !(best->cost[q] < now[i]) ||
                nearest[i] < 0)
                continue;
            e->load_taken += s->dem.pop[i * r->B + (size_t)kind->load_band] * kind->load_rate;
            if (!losing[nearest[i]]++)
                e->neighbours++;
        }
    }
    cs_free(losing);
    if (st == CS_OK)
        st = evaluate_targets(ev->ctx, r, site->proposals, site->P, e->newly, access_all, e);
    return st;
}

cs_status cs_site_run(cs_context *ctx, const cs_result *r, const cs_site_cache *cache,
                      cs_site *site)
{
    evaluator ev = {.ctx = ctx, .r = r, .reacher = NULL};
    best_costs bc = {cs_calloc(r->K * CS_MEASURES + 1, sizeof(cs_pairs))};
    double *access_all = cs_calloc(r->K * (r->A + 1) + 1, sizeof *access_all);
    cs_pairs pr = {0};
    site->effects = cs_calloc(site->P + 1, sizeof *site->effects);
    cs_status st = !bc.pairs || !access_all || !site->effects ? CS_ERR_NOMEM
                   : cache ? cs_reacher_create_shared(cache, &ev.reacher)
                           : cs_reacher_create(r, &ev.reacher);
    for (size_t p = 0; st == CS_OK && p < site->P; p++)
        st = evaluate_one(&ev, &site->proposals[p], &bc, access_all, &pr, &site->effects[p]);
    if (st == CS_OK)
        st = evaluate_together(&ev, site, &bc, access_all, &site->effects[site->P]);
    for (size_t i = 0; bc.pairs && i < r->K * CS_MEASURES; i++) {
        cs_free(bc.pairs[i].pt);
        cs_free(bc.pairs[i].cost);
    }
    cs_free(bc.pairs);
    cs_free(access_all);
    cs_free(pr.pt);
    cs_free(pr.cost);
    cs_reacher_destroy(ev.reacher);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}
