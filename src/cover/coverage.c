/*
 * coverage.c — coverage tables from the cost fields: residents of every band within
 * every threshold, per area and for the district, plus facility counts and
 * capacities. One pass over the demand points per kind: each point's residents go to
 * the first threshold that reaches it, and a running sum over thresholds gives the
 * rest (thresholds are ascending). Sums run in a fixed order, so results do not
 * depend on the thread count.
 */
#include "cover/cover.h"

#include <math.h>
#include <string.h>

static void tabulate_population(cs_result *r)
{
    const cs_study *s = r->study;
    for (size_t i = 0; i < s->dem.count; i++) {
        size_t a = (size_t)s->dem.area[i];
        for (size_t b = 0; b < r->B; b++)
            r->population[cs_res_pop(r, a, b)] += s->dem.pop[i * r->B + b];
    }
    for (size_t a = 0; a < r->A; a++)
        for (size_t b = 0; b < r->B; b++)
            r->population[cs_res_pop(r, r->A, b)] += r->population[cs_res_pop(r, a, b)];
}

static void tabulate_kind(cs_result *r, size_t m, size_t k)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    const double *dist = r->dist_m[cs_res_field(r, m, k)];
    if (!dist)
        return; /* not measured this way */
    size_t nt = kind->threshold_count;
    /* Residents are added to every threshold that reaches them, in the same order as
     * the totals, so a fully covered area's sum equals its total to the last bit. */
    for (size_t i = 0; i < s->dem.count; i++) {
        size_t a = (size_t)s->dem.area[i];
        for (size_t j = 0; j < nt; j++) {
            if (!(dist[i] <= kind->threshold_m[j]))
                continue;
            for (size_t b = 0; b < r->B; b++)
                r->covered[cs_res_cov(r, m, k, j, a, b)] += s->dem.pop[i * r->B + b];
        }
    }
    /* the district as the sum of its areas, like the population totals */
    for (size_t j = 0; j < nt; j++)
        for (size_t a = 0; a < r->A; a++)
            for (size_t b = 0; b < r->B; b++)
                r->covered[cs_res_cov(r, m, k, j, r->A, b)] +=
                    r->covered[cs_res_cov(r, m, k, j, a, b)];
}

static void tabulate_facilities(cs_result *r)
{
    const cs_study *s = r->study;
    for (size_t f = 0; f < s->fac.count; f++) {
        size_t k = (size_t)s->fac.kind[f];
        long a = s->fac.area[f];
        const double *cap = &s->fac.capacity[f * r->C];
        /* a facility outside every area serves its neighbours (it is in the cost field)
         * but is not part of the district's stock */
        if (a < 0)
            continue;
        r->fac_count[cs_res_count(r, k, r->A)] += 1;
        for (size_t c = 0; c < r->C; c++)
            r->fac_cap[cs_res_cap(r, k, r->A, c)] += cap[c];
        r->fac_count[cs_res_count(r, k, (size_t)a)] += 1;
        for (size_t c = 0; c < r->C; c++)
            r->fac_cap[cs_res_cap(r, k, (size_t)a, c)] += cap[c];
    }
}

/* fn(r, part) for each part in [0, parts), a part a thread: the parts sum into places
 * of their own, each in point order, so the sums are the same on any number of threads. */
static void each_part(const cs_context *ctx, cs_result *r, long parts,
                      void (*fn)(cs_result *, long))
{
    int nt = cs_team_size(ctx->threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#else
    (void)nt;
#endif
    for (long part = 0; part < parts; part++)
        fn(r, part);
}

/* Part `part` of the tables: kind part / CS_MEASURES by measure part % CS_MEASURES, or
 * the population for the last. */
static void tabulate_part(cs_result *r, long part)
{
    if ((size_t)part == r->K * CS_MEASURES)
        tabulate_population(r);
    else
        tabulate_kind(r, (size_t)part % CS_MEASURES, (size_t)part / CS_MEASURES);
}

/*
 * The tables' parts are independent: the population, and each kind by each measure,
 * sum into places of their own. So they are summed a part a thread (each_part), and
 * the tables are the same to the last bit on any number of threads (at two million
 * points a tenth of a second on one core, between parallel stages).
 */
cs_status cs_cover_tabulate(cs_context *ctx, cs_result *r)
{
    size_t A1 = r->A + 1;
    r->population = cs_calloc(A1 * r->B, sizeof *r->population);
    r->covered = cs_calloc(CS_MEASURES * r->K * CS_MAX_THRESHOLDS * A1 * r->B + 1,
                           sizeof *r->covered);
    r->fac_count = cs_calloc(r->K * A1 + 1, sizeof *r->fac_count);
    r->fac_cap = cs_calloc(r->K * A1 * r->C + 1, sizeof *r->fac_cap);
    if (!r->population || !r->covered || !r->fac_count || !r->fac_cap)
        return cs_nomem(ctx);
    cs_progress(ctx, "coverage", 0);
    each_part(ctx, r, (long)(r->K * CS_MEASURES) + 1, tabulate_part);
    cs_progress(ctx, "coverage", 1);
    tabulate_facilities(r);
    return CS_OK;
}

/* Kind k's residents to its nearest facilities within reach (cs_cover_catchments). */
static void catchments_of_kind(cs_result *r, long k)
{
    const cs_study *s = r->study;
    size_t i = cs_res_field(r, cs_res_main(r, (size_t)k), (size_t)k);
    double reach = cs_kind_reach_m(&s->settings.kinds[k]);
    const cs_ties *ties = &r->ties[i];
    size_t next = 0; /* the next tied point (ties are listed in point order) */
    for (size_t d = 0; d < s->dem.count; d++) {
        long f = r->nearest[i][d];
        bool tied = next < ties->count && ties->pt[next] == d;
        next += tied;
        if (f < 0 || !(r->dist_m[i][d] <= reach))
            continue;
        if (!tied) {
            for (size_t b = 0; b < r->B; b++)
                r->served[(size_t)f * r->B + b] += s->dem.pop[d * r->B + b];
            continue;
        }
        size_t from = ties->start[next - 1], to = ties->start[next];
        double n = (double)(to - from);
        for (size_t q = from; q < to; q++)
            for (size_t b = 0; b < r->B; b++)
                r->served[(size_t)ties->fac[q] * r->B + b] += s->dem.pop[d * r->B + b] / n;
    }
}

/*
 * Each resident goes to the nearest facility of each kind when it lies within the
 * kind's largest threshold (its service circle), by the kind's main measure; the
 * residents a facility gets are then set against its capacity (cs_result_served).
 * A resident with several nearest facilities (the same cost, as computed: twins at one
 * spot, or one equally far from both) is shared equally among them, so neither the
 * order of the facility file nor an index decides who gets whom. A kind's residents go
 * only to its own facilities, so the kinds are summed a kind a thread, each in point
 * order: the same sums on any number of threads.
 */
cs_status cs_cover_catchments(cs_context *ctx, cs_result *r)
{
    const cs_study *s = r->study;
    r->served = cs_calloc(s->fac.count * r->B + 1, sizeof *r->served);
    if (!r->served)
        return cs_nomem(ctx);
    each_part(ctx, r, (long)r->K, catchments_of_kind);
    return CS_OK;
}

cs_status cs_result_served(const cs_result *r, size_t f, size_t b, double *served, double *load)
{
    if (!r || f >= r->study->fac.count || b >= r->B || !served)
        return CS_ERR_ARGUMENT;
    const cs_study *s = r->study;
    *served = r->served[f * r->B + b];
    if (load) {
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        double cap = kind->load_capacity >= 0
                         ? s->fac.capacity[f * r->C + (size_t)kind->load_capacity]
                         : 0;
        *load = cap > 0 ? r->served[f * r->B + (size_t)kind->load_band] * kind->load_rate / cap
                        : (double)NAN;
    }
    return CS_OK;
}

static cs_status coverage_at(const cs_result *r, size_t m, size_t k, size_t j, size_t b,
                             size_t a, cs_coverage *out)
{
    if (!r || !out || k >= r->K || b >= r->B)
        return CS_ERR_ARGUMENT;
    if (!r->dist_m[cs_res_field(r, m, k)])
        return CS_ERR_ARGUMENT;
    if (j >= r->study->settings.kinds[k].threshold_count)
        return CS_ERR_ARGUMENT;
    if (!cs_res_area(r, &a))
        return CS_ERR_ARGUMENT;
    out->covered = r->covered[cs_res_cov(r, m, k, j, a, b)];
    out->total = r->population[cs_res_pop(r, a, b)];
    out->share = out->total > 0 ? out->covered / out->total : (double)NAN;
    return CS_OK;
}

cs_status cs_result_coverage(const cs_result *r, size_t k, size_t j, size_t b, size_t a,
                             cs_coverage *out)
{
    if (!r || k >= r->K)
        return CS_ERR_ARGUMENT;
    return coverage_at(r, cs_res_main(r, k), k, j, b, a, out);
}

cs_status cs_result_coverage_by(const cs_result *r, cs_measure measure, size_t k, size_t j,
                                size_t b, size_t a, cs_coverage *out)
{
    if (measure != CS_MEASURE_STRAIGHT && measure != CS_MEASURE_NETWORK &&
        measure != CS_MEASURE_MATRIX)
        return CS_ERR_ARGUMENT;
    return coverage_at(r, cs_measure_index((unsigned)measure), k, j, b, a, out);
}

cs_status cs_result_facilities(const cs_result *r, size_t k, size_t a, double *count,
                               double *capacity)
{
    if (!r || !count || k >= r->K)
        return CS_ERR_ARGUMENT;
    if (!cs_res_area(r, &a))
        return CS_ERR_ARGUMENT;
    *count = r->fac_count[cs_res_count(r, k, a)];
    for (size_t c = 0; capacity && c < r->C; c++)
        capacity[c] = r->fac_cap[cs_res_cap(r, k, a, c)];
    return CS_OK;
}
