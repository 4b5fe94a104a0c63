/*
 * network.c — 2SFCA along the walking network where the weights come in bands of cost
 * (no decay, or steps): one search per facility, and each reached edge whose residents
 * all fall in one band taken whole (net/search.c, cs_net_reach_banded).
 *
 * Step one sums, per facility, each whole edge's people (summed once per edge) times its
 * band's weight, then the residents of the other edges one by one. Step two adds R_j
 * times the weight to a sum per whole edge and to a sum per resident of the other edges,
 * in facility order, so the sums do not depend on the threads; a resident's
 * accessibility is its own sum plus its edge's. A facility's lists are kept from step
 * one for step two while they fit the memory given (5 bytes a whole edge, 12 a
 * resident); the others are searched again, a chunk of facilities at a time in
 * parallel. Every resident's band is the one its own cost gives (the pairs engine's,
 * access.c): an edge is taken whole only when bounds on its costs decide the band.
 */
#include "access/network.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Facilities whose lists step two makes at once when they were not kept. */
#define CHUNK 256

typedef struct bands {
    double limit[CS_ACCESS_MAX_STEPS + 1]; /* ascending; the last is the catchment */
    double weight[CS_ACCESS_MAX_STEPS + 1];
    size_t n;
} bands;

/* The bands of a spec: none, one band of weight 1 up to the catchment; steps, a band per
 * zone (cut at the catchment) and a band of weight 0 from the last zone to the
 * catchment. False for a weight that varies within a band (Gaussian). */
static bool make_bands(const cs_access_spec *s, bands *b)
{
    memset(b, 0, sizeof *b);
    double d0 = s->catchment_m;
    if (s->decay == CS_DECAY_NONE) {
        b->limit[0] = d0;
        b->weight[0] = 1;
        b->n = 1;
        return true;
    }
    if (s->decay != CS_DECAY_STEPS)
        return false;
    for (size_t k = 0; k < s->step_count; k++) {
        double limit = fmin(s->step_m[k], d0);
        if (b->n > 0 && !(limit > b->limit[b->n - 1]))
            continue; /* zones past the catchment */
        b->limit[b->n] = limit;
        b->weight[b->n++] = s->step_w[k];
    }
    if (b->limit[b->n - 1] < d0) {
        b->limit[b->n] = d0;
        b->weight[b->n++] = 0;
    }
    return true;
}

bool cs_access_network_banded(const cs_access_spec *spec)
{
    bands b;
    return cs_access_spec_check(spec) == CS_OK && !spec->three_step && make_bands(spec, &b);
}

/* The weight of a cost within the catchment: its band's. */
static inline double band_weight(const bands *b, double c)
{
    size_t k = 0;
    while (k + 1 < b->n && !(c <= b->limit[k]))
        k++;
    return b->weight[k];
}

typedef struct engine {
    const bands *b;
    const cs_net_reach *reach;
    cs_net_scratch **scratch; /* one per thread */
    const cs_attach *fac;
    const double *supply;
    double *people;  /* per position in the reach's order */
    double *edge_people;
    cs_net_banded *kept; /* per facility: its lists from step one, when kept */
    size_t budget;       /* bytes that may still be kept */
    uint32_t *visit;     /* the facilities in the order step one searches from them */
} engine;

static int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Whether step one kept l (its arrays moved there). */
static bool is_kept(const cs_net_banded *l)
{
    return l->ecap + l->pcap > 0;
}

/* Facility j's lists into out; false without memory. */
static bool list(const engine *en, size_t j, cs_net_banded *out)
{
    const cs_attach *f = en->fac;
    return cs_net_reach_banded(en->reach, en->scratch[thread_num()], f->edge[j], f->along_m[j],
                               f->access_m[j], en->b->limit, en->b->n, out);
}

static double weighted_people(const engine *en, const cs_net_banded *l)
{
    double den = 0;
    for (size_t k = 0; k < l->ne; k++)
        den += en->b->weight[l->band[k]] * en->edge_people[l->edge[k]];
    for (size_t k = 0; k < l->np; k++)
        den += en->people[l->pos[k]] * band_weight(en->b, l->cost[k]);
    return den;
}

/* Keep l for step two when it fits: l's arrays move to kept[j]. */
static void keep(engine *en, size_t j, cs_net_banded *l)
{
    size_t bytes = l->ne * (sizeof *l->edge + sizeof *l->band) +
                   l->np * (sizeof *l->pos + sizeof *l->cost);
    if (!cs_budget_take(&en->budget, bytes))
        return;
    en->kept[j] = *l;
    memset(l, 0, sizeof *l);
}

/* Step one: R_j for every facility; false when memory ran out. */
static bool step_one(engine *en, size_t F, int nt, double *ratio)
{
    int failed = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#else
    (void)nt;
#endif
    {
        cs_net_banded l = {0};
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t k = 0; k < F; k++) {
            size_t j = en->visit[k];
            ratio[j] = 0;
            double s = en->supply[j];
            if (!(isfinite(s) && s > 0))
                continue;
            if (!list(en, j, &l)) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
                failed = 1;
                continue;
            }
            double den = weighted_people(en, &l), r = den > 0 ? s / den : 0.0;
            ratio[j] = isfinite(r) ? r : 0.0;
            if (ratio[j] > 0)
                keep(en, j, &l);
        }
        cs_net_banded_free(&l);
    }
    return !failed;
}

/*
 * The order step one searches in: by the graph node at the start of each facility's
 * edge. Nodes are numbered along a space-filling curve, so one search after another
 * covers much the same streets, still in the cache (each facility's R_j does not depend
 * on the order; step two keeps the facilities' own).
 */
static uint32_t *search_order(const cs_graph *g, const cs_attach *fac, size_t F)
{
    if (F >= UINT32_MAX)
        return NULL;
    uint64_t *keys = cs_malloc((F + 1) * sizeof *keys), *tmp = cs_malloc((F + 1) * sizeof *tmp);
    uint32_t *visit = cs_malloc((F + 1) * sizeof *visit);
    const uint64_t *sorted = keys && tmp && visit ? keys : NULL;
    for (size_t j = 0; sorted && j < F; j++) {
        uint64_t node = fac->edge[j] >= 0 ? g->edge_u[fac->edge[j]] : UINT32_MAX;
        keys[j] = node << 32 | (uint64_t)j;
    }
    if (sorted)
        sorted = cs_radix_sort_upper(keys, tmp, F, 32);
    for (size_t k = 0; sorted && k < F; k++)
        visit[k] = (uint32_t)(sorted[k] & 0xffffffffu);
    cs_free(keys);
    cs_free(tmp);
    if (!sorted) {
        cs_free(visit);
        return NULL;
    }
    return visit;
}

/* Step two: each facility's R_j W added, in facility order, to its whole edges' sums and
 * its other residents' sums. */
static bool step_two(engine *en, size_t F, int nt, const double *ratio, double *edge_sum,
                     double *point_sum)
{
    cs_net_banded *made = cs_calloc(CHUNK, sizeof *made);
    int failed = !made;
    for (size_t from = 0; !failed && from < F; from += CHUNK) {
        size_t to = F - from > CHUNK ? from + CHUNK : F;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
#else
        (void)nt;
#endif
        for (size_t j = from; j < to; j++) {
            if (ratio[j] > 0 && !is_kept(&en->kept[j]) && !list(en, j, &made[j - from])) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
                failed = 1;
            }
        }
        for (size_t j = from; !failed && j < to; j++) {
            if (!(ratio[j] > 0))
                continue;
            const cs_net_banded *l = is_kept(&en->kept[j]) ? &en->kept[j] : &made[j - from];
            for (size_t k = 0; k < l->ne; k++)
                edge_sum[l->edge[k]] += ratio[j] * en->b->weight[l->band[k]];
            for (size_t k = 0; k < l->np; k++)
                point_sum[l->pos[k]] += ratio[j] * band_weight(en->b, l->cost[k]);
        }
    }
    for (size_t k = 0; made && k < CHUNK; k++)
        cs_net_banded_free(&made[k]);
    cs_free(made);
    return !failed;
}

/* People of each position and of each edge. */
static void spread_people(engine *en, const cs_graph *g, const double *demand)
{
    const size_t *of = cs_net_reach_points(en->reach), *first = cs_net_reach_edge_first(en->reach);
    for (size_t e = 0; e < g->edge_count; e++) {
        double sum = 0;
        for (size_t q = first[e]; q < first[e + 1]; q++) {
            double p = demand[of[q]];
            en->people[q] = isfinite(p) && p > 0 ? p : 0.0;
            sum += en->people[q];
        }
        en->edge_people[e] = sum;
    }
}

cs_status cs_access_network(const cs_access_spec *spec, const cs_graph *g, const cs_attach *fac,
                            const double *supply, size_t F, const cs_attach *pts,
                            const cs_net_reach *reach, const double *demand,
                            size_t cache_bytes, int threads, double *ratio, double *access)
{
    bands b;
    if (cs_access_spec_check(spec) != CS_OK || spec->three_step || !make_bands(spec, &b))
        return CS_ERR_ARGUMENT;
    int nt = 1;
#ifdef _OPENMP
    nt = threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
#endif
    for (size_t i = 0; i < pts->count; i++)
        access[i] = 0;
    cs_net_reach *own = NULL;
    engine en = {.b = &b, .fac = fac, .supply = supply, .budget = cache_bytes};
    double *edge_sum = NULL, *point_sum = NULL;
    bool ok = reach || cs_net_reach_create(g, pts, NULL, &own) == CS_OK;
    if (!reach)
        reach = own;
    size_t Q = ok ? cs_net_reach_count(reach) : 0;
    en.reach = reach;
    ok = ok && (en.scratch = cs_calloc((size_t)nt, sizeof *en.scratch)) &&
         (en.people = cs_malloc((Q + 1) * sizeof *en.people)) &&
         (en.edge_people = cs_malloc((g->edge_count + 1) * sizeof *en.edge_people)) &&
         (en.kept = cs_calloc(F + 1, sizeof *en.kept)) &&
         (en.visit = search_order(g, fac, F)) &&
         (edge_sum = cs_calloc(g->edge_count + 1, sizeof *edge_sum)) &&
         (point_sum = cs_calloc(Q + 1, sizeof *point_sum));
    for (int t = 0; ok && t < nt; t++)
        ok = (en.scratch[t] = cs_net_scratch_create(g)) != NULL;
    if (ok)
        spread_people(&en, g, demand);
    ok = ok && step_one(&en, F, nt, ratio) && step_two(&en, F, nt, ratio, edge_sum, point_sum);
    if (ok) {
        const size_t *of = cs_net_reach_points(reach), *first = cs_net_reach_edge_first(reach);
        for (size_t e = 0; e < g->edge_count; e++)
            for (size_t q = first[e]; q < first[e + 1]; q++)
                access[of[q]] = spec->per * (point_sum[q] + edge_sum[e]);
    }
    for (size_t j = 0; en.kept && j < F; j++)
        cs_net_banded_free(&en.kept[j]);
    for (int t = 0; en.scratch && t < nt; t++)
        cs_net_scratch_destroy(en.scratch[t]);
    cs_free(en.scratch);
    cs_free(en.people);
    cs_free(en.edge_people);
    cs_free(en.kept);
    cs_free(en.visit);
    cs_free(edge_sum);
    cs_free(point_sum);
    cs_net_reach_destroy(own);
    return ok ? CS_OK : CS_ERR_NOMEM;
}
