/*
 * kinds.c — accessibility of every kind that has a capacity (kinds.<id>.load_capacity):
 * 2SFCA or its distance-decay forms over the kind's largest threshold, with the kind's
 * main measure (straight, along the walking network or from the cost matrix), for the
 * residents of the kind's band. Per demand point, per facility (step one's ratio) and
 * per area (the band-weighted mean, which is the capacity the area's residents reach
 * per `per` of them).
 */
#include "access/kinds.h"

#include "access/access.h"
#include "access/network.h"
#include "cost/matrix.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void cs_access_kind_spec(const cs_kind *k, cs_access_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->catchment_m = cs_kind_reach_m(k);
    spec->decay = (cs_decay)k->access_decay;
    spec->per = k->access_per;
    spec->beta = k->access_beta;
    spec->min_m = k->access_min_m;
    spec->three_step = k->access_three_step;
    if (spec->decay != CS_DECAY_STEPS)
        return;
    spec->step_count = k->threshold_count;
    for (size_t j = 0; j < k->threshold_count; j++) {
        spec->step_m[j] = k->threshold_m[j];
        spec->step_w[j] = k->access_weights[j];
    }
}

/* The facilities of kind k: their study indices and capacities. */
static size_t kind_facilities(const cs_study *s, size_t k, long *idx, double *supply)
{
    size_t n = 0;
    for (size_t f = 0; f < s->fac.count; f++) {
        if (s->fac.kind[f] != (long)k)
            continue;
        idx[n] = (long)f;
        supply[n++] = s->fac.capacity[f * s->settings.capacity_count +
                                      (size_t)s->settings.kinds[k].load_capacity];
    }
    return n;
}

/* Step one's pairs of a facility, kept for step two while they fit the budget. */
typedef struct cached_pairs {
    uint32_t *pt;
    double *cost;
    size_t n;
    bool kept;
} cached_pairs;

/* Memory for keeping step one's pairs (12 bytes each): the network searches of step
 * two are then skipped for the facilities kept. An eighth of the machine's memory, at
 * least 256 MB and at most 1.5 GB (a city of two million residents holds some 60
 * million pairs, 720 MB). */
static size_t pair_cache_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    size_t eighth = pages > 0 && size > 0 ? (size_t)pages / 8 * (size_t)size : 0;
    size_t lo = (size_t)256 << 20, hi = (size_t)1536 << 20;
    return eighth < lo ? lo : eighth > hi ? hi : eighth;
}

typedef struct net_pairs {
    const cs_net *net;
    const cs_net_reach *reach;
    cs_net_scratch **scratch; /* one per thread */
    const long *idx;
    double budget_m;
    cached_pairs *cache;      /* per facility */
    size_t cache_left;        /* pairs that may still be kept */
} net_pairs;

static void keep_pairs(net_pairs *np, size_t j, const cs_access_pairs_buf *buf, size_t n)
{
    cached_pairs *c = &np->cache[j];
    if (!np->cache || n == 0 || !cs_budget_take(&np->cache_left, n))
        return;
    c->pt = cs_reallocarray(NULL, n, sizeof *c->pt); /* filled below: not cleared first */
    c->cost = cs_reallocarray(NULL, n, sizeof *c->cost);
    if (!c->pt || !c->cost) { /* only an optimisation */
        cs_free(c->pt);
        cs_free(c->cost);
        c->pt = NULL;
        c->cost = NULL;
        return;
    }
    for (size_t q = 0; q < n; q++) {
        c->pt[q] = (uint32_t)buf->pt[q];
        c->cost[q] = buf->cost[q];
    }
    c->n = n;
    c->kept = true;
}

static size_t list_net_pairs(void *data, size_t j, cs_access_pairs_buf *buf)
{
    net_pairs *np = data;
    if (np->cache && np->cache[j].kept) {
        const cached_pairs *c = &np->cache[j];
        if (!cs_access_pairs_reserve(buf, c->n))
            return (size_t)-1;
        for (size_t q = 0; q < c->n; q++) {
            buf->pt[q] = (long)c->pt[q];
            buf->cost[q] = c->cost[q];
        }
        return c->n;
    }
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    const cs_attach *fa = &np->net->facilities;
    size_t f = (size_t)np->idx[j];
    size_t n = cs_net_reach_from(np->reach, np->scratch[t], fa->edge[f], fa->along_m[f],
                                 fa->access_m[f], np->budget_m, &buf->pt, &buf->cost,
                                 &buf->cap);
    if (n != (size_t)-1)
        keep_pairs(np, j, buf, n);
    return n;
}

/* Weights in bands of cost (no decay, steps): whole edges at once (access/network.c). */
static cs_status banded_access(const cs_result *r, const cs_access_spec *spec, const long *idx,
                               const double *supply, size_t F, const cs_net_reach *reach,
                               const double *demand, double *ratio, double *access, int threads)
{
    const cs_attach *all = &r->net.facilities;
    cs_attach fac = {F, cs_calloc(F + 1, sizeof *fac.edge), cs_calloc(F + 1, sizeof *fac.along_m),
                     cs_calloc(F + 1, sizeof *fac.access_m)};
    cs_status st = fac.edge && fac.along_m && fac.access_m ? CS_OK : CS_ERR_NOMEM;
    for (size_t j = 0; st == CS_OK && j < F; j++) {
        size_t f = (size_t)idx[j];
        fac.edge[j] = all->edge[f];
        fac.along_m[j] = all->along_m[f];
        fac.access_m[j] = all->access_m[f];
    }
    if (st == CS_OK)
        st = cs_access_network(spec, &r->net.graph, &fac, supply, F, &r->net.demand, reach,
                               demand, pair_cache_bytes(), threads, ratio, access);
    cs_attach_free(&fac);
    return st;
}

/* What the kinds share, made when a kind first needs it: the demand points by edge
 * (along the network) and in the cells of a catchment (straight). */
typedef struct shared_demand {
    cs_net_reach *reach;
    cs_access_cells *cells;
} shared_demand;

/* The demand points by edge, made once for every kind measured along the network. */
static cs_status shared_reach(const cs_result *r, cs_net_reach **reach)
{
    return *reach ? CS_OK : cs_net_reach_create(&r->net.graph, &r->net.demand, NULL, reach);
}

/* The demand points in the cells of this catchment: the kind before's when it had the
 * same (kinds seldom differ in their reach). A shard lays them out for its whole study. */
static cs_status shared_cells(const cs_study *s, double catchment_m, int threads,
                              cs_access_cells **cells)
{
    if (*cells && cs_access_cells_catchment(*cells) == catchment_m)
        return CS_OK;
    cs_access_cells_destroy(*cells);
    const cs_settings *set = &s->settings;
    cs_access_extent whole = {{set->shard_box[0], set->shard_box[1], set->shard_box[2],
                               set->shard_box[3]},
                              set->shard_points};
    *cells = cs_access_cells_create(catchment_m, s->dem.x, s->dem.y, s->dem.count,
                                    set->shard_part > 0 ? &whole : NULL, threads);
    return *cells ? CS_OK : CS_ERR_NOMEM;
}

static cs_status network_access(const cs_result *r, const cs_access_spec *spec,
                                const long *idx, const double *supply, size_t F,
                                cs_net_reach **reach, const double *demand, double *ratio,
                                double *access, int threads)
{
    const cs_net *net = &r->net;
    int nt = 1;
#ifdef _OPENMP
    nt = threads > 0 ? threads : omp_get_max_threads();
#endif
    cs_status st = shared_reach(r, reach);
    if (st != CS_OK)
        return st;
    if (cs_access_network_banded(spec))
        return banded_access(r, spec, idx, supply, F, *reach, demand, ratio, access, nt);
    net_pairs np = {net, *reach, cs_calloc((size_t)nt, sizeof(cs_net_scratch *)), idx,
                    spec->catchment_m, cs_calloc(F + 1, sizeof(cached_pairs)),
                    pair_cache_bytes() / (sizeof(uint32_t) + sizeof(double))};
    st = np.scratch ? CS_OK : CS_ERR_NOMEM;
    for (int t = 0; st == CS_OK && t < nt; t++)
        if (!(np.scratch[t] = cs_net_scratch_create(&net->graph)))
            st = CS_ERR_NOMEM;
    if (st == CS_OK)
        st = cs_access_pairs(spec, supply, F, demand, r->study->dem.count, list_net_pairs,
                             &np, nt, ratio, access, NULL);
    for (int t = 0; np.scratch && t < nt; t++)
        cs_net_scratch_destroy(np.scratch[t]);
    for (size_t j = 0; np.cache && j < F; j++) {
        cs_free(np.cache[j].pt);
        cs_free(np.cache[j].cost);
    }
    cs_free(np.cache);
    cs_free(np.scratch);
    return st;
}

/* The cost matrix: a facility's pairs are its row's, within the catchment. */
typedef struct matrix_pairs {
    const cs_study *s;
    size_t k;
    const long *idx;
    double catchment_m;
} matrix_pairs;

static size_t list_matrix_pairs(void *data, size_t j, cs_access_pairs_buf *buf)
{
    const matrix_pairs *mp = data;
    size_t row = (size_t)mp->idx[j];
    if (!cs_access_pairs_reserve(buf, cs_matrix_row_size(mp->s, row)))
        return (size_t)-1;
    return cs_matrix_reach(mp->s, mp->k, row, mp->catchment_m, buf->pt, buf->cost);
}

/* The band-weighted mean accessibility of every area and the district. */
void cs_access_area_means(cs_result *r, size_t k)
{
    const cs_study *s = r->study;
    const double *access = r->access[k];
    size_t band = (size_t)s->settings.kinds[k].load_band;
    double *sum = &r->access_mean[cs_res_count(r, k, 0)];
    for (size_t a = 0; a <= r->A; a++)
        sum[a] = 0;
    for (size_t i = 0; i < s->dem.count; i++) {
        double w = s->dem.pop[i * r->B + band] * access[i];
        sum[s->dem.area[i]] += w;
        sum[r->A] += w;
    }
    for (size_t a = 0; a <= r->A; a++) {
        double pop = r->population[cs_res_pop(r, a, band)];
        sum[a] = pop > 0 ? sum[a] / pop : NAN;
    }
}

static cs_status kind_access(cs_context *ctx, cs_result *r, size_t k, shared_demand *shared)
{
    const cs_study *s = r->study;
    size_t N = s->dem.count, F = s->fac.count;
    cs_access_spec spec;
    cs_access_kind_spec(&s->settings.kinds[k], &spec);
    long *idx = cs_calloc(F + 1, sizeof *idx);
    double *supply = cs_calloc(F + 1, sizeof *supply), *ratio = cs_calloc(F + 1, sizeof *ratio);
    double *fx = cs_calloc(F + 1, sizeof *fx), *fy = cs_calloc(F + 1, sizeof *fy);
    double *demand = cs_calloc(N + 1, sizeof *demand);
    r->access[k] = cs_calloc(N + 1, sizeof **r->access);
    r->fac_ratio[k] = cs_calloc(F + 1, sizeof **r->fac_ratio);
    cs_status st = idx && supply && ratio && fx && fy && demand && r->access[k] && r->fac_ratio[k]
                       ? CS_OK
                       : CS_ERR_NOMEM;
    size_t nk = st == CS_OK ? kind_facilities(s, k, idx, supply) : 0;
    size_t band = (size_t)s->settings.kinds[k].load_band;
    bool points = s->settings.kinds[k].access_points; /* each point with people once */
    for (size_t i = 0; st == CS_OK && i < N; i++) {
        double p = s->dem.pop[i * r->B + band];
        demand[i] = points ? (p > 0 ? 1.0 : 0.0) : p;
    }
    for (size_t j = 0; j < nk; j++) {
        fx[j] = s->fac.x[idx[j]];
        fy[j] = s->fac.y[idx[j]];
    }
    size_t m = cs_res_main(r, k);
    matrix_pairs mp = {s, k, idx, spec.catchment_m};
    if (st == CS_OK && m == CS_M_NETWORK)
        st = network_access(r, &spec, idx, supply, nk, &shared->reach, demand, ratio,
                            r->access[k], ctx->threads);
    else if (st == CS_OK && m == CS_M_MATRIX)
        st = cs_access_pairs(&spec, supply, nk, demand, N, list_matrix_pairs, &mp,
                             ctx->threads, ratio, r->access[k], NULL);
    else if (st == CS_OK &&
             (st = shared_cells(s, spec.catchment_m, ctx->threads, &shared->cells)) == CS_OK)
        st = cs_access_straight(&spec, fx, fy, supply, nk, s->dem.x, s->dem.y, demand, N,
                                shared->cells, ctx->threads, ratio, r->access[k], NULL);
    for (size_t f = 0; st == CS_OK && f < F; f++)
        r->fac_ratio[k][f] = NAN;
    for (size_t j = 0; st == CS_OK && j < nk; j++)
        r->fac_ratio[k][idx[j]] = ratio[j];
    if (st == CS_OK)
        cs_access_area_means(r, k);
    cs_free(idx);
    cs_free(supply);
    cs_free(ratio);
    cs_free(fx);
    cs_free(fy);
    cs_free(demand);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the study",
                        "accessibility of kind %s could not be computed", s->settings.kinds[k].id);
    return CS_OK;
}

cs_status cs_access_kinds_begin(cs_context *ctx, cs_result *r)
{
    r->access = cs_calloc(r->K + 1, sizeof *r->access);
    r->fac_ratio = cs_calloc(r->K + 1, sizeof *r->fac_ratio);
    r->access_mean = cs_calloc(r->K * (r->A + 1) + 1, sizeof *r->access_mean);
    if (!r->access || !r->fac_ratio || !r->access_mean)
        return cs_nomem(ctx);
    for (size_t i = 0; i < r->K * (r->A + 1); i++)
        r->access_mean[i] = NAN;
    return CS_OK;
}

cs_status cs_access_kinds(cs_context *ctx, cs_result *r)
{
    cs_status st = cs_access_kinds_begin(ctx, r);
    shared_demand shared = {NULL, NULL};
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        if (r->study->settings.kinds[k].load_capacity >= 0)
            st = kind_access(ctx, r, k, &shared);
        cs_progress(ctx, "accessibility", (double)(k + 1) / (double)r->K);
    }
    cs_net_reach_destroy(shared.reach);
    cs_access_cells_destroy(shared.cells);
    return st;
}
