/*
 * center.c — p-center with the existing facilities kept (Hakimi 1965): the K candidates
 * that make the longest walk of any resident as short as it can be.
 *
 * The instance is p-median's (median.c), with each resident's walk now, base_i, known
 * within the threshold only (INFINITY beyond it), and the pairs where a candidate is
 * nearer. The longest walk with sites S is max_i min(base_i, min_{c in S} d_ic).
 * Residents whom neither a facility nor any candidate reaches within the threshold
 * cannot count: they are left out, and counted apart.
 *
 * A longest walk r is reachable with k sites when the residents walking more than r now
 * can all be brought within r by k candidates: a set covering problem. The answer is
 * the smallest such r among the walks that occur (each base_i and pair cost), found by
 * bisection (Minieka 1970); the heuristic answers each covering question by greedy
 * (so it may miss a reachable r), the exact solve by GLPK's set covering, within the
 * time limit. The least any choice could reach is at least the longest of each
 * resident's own best walk (every candidate open).
 */
#include "site/suggest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The walks that occur, ascending and once each, from lo up: *out (new), *n of them. */
static cs_status radii(const cs_cover_sets *cs, const unsigned char *in, double lo,
                       double **out, size_t *n)
{
    size_t N = cs->points, P = cs->first[cs->candidates], m = 0;
    double *v = cs_calloc(N + P + 1, sizeof *v);
    if (!v)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < N; i++)
        if (in[i] && cs->base[i] >= lo && isfinite(cs->base[i]))
            v[m++] = cs->base[i];
    for (size_t q = 0; q < P; q++)
        if (in[cs->pt[q]] && cs->cost[q] >= lo)
            v[m++] = cs->cost[q];
    qsort(v, m, sizeof *v, by_value);
    size_t u = 0;
    for (size_t q = 0; q < m; q++)
        if (u == 0 || v[q] != v[u - 1])
            v[u++] = v[q];
    *out = v;
    *n = u;
    return CS_OK;
}

/* The covering question at radius r: the residents walking more than r now (weight 1,
 * or their residents when weighted) and the candidates bringing them within r. *need
 * how many; *stuck whether one of them no candidate brings within r. */
static cs_status at_radius(const cs_cover_sets *cs, const unsigned char *in, double r,
                           bool weighted, cs_cover_sets *sub, double *need, bool *stuck)
{
    size_t C = cs->candidates, N = cs->points, n = 0;
    unsigned char *reached = cs_calloc(N + 1, 1);
    *sub = (cs_cover_sets){.candidates = C, .points = N};
    sub->first = cs_calloc(C + 1, sizeof *sub->first);
    sub->pt = cs_calloc(cs->first[C] + 1, sizeof *sub->pt);
    sub->weight = cs_calloc(N + 1, sizeof *sub->weight);
    if (!reached || !sub->first || !sub->pt || !sub->weight) {
        cs_free(reached);
        return CS_ERR_NOMEM;
    }
    *need = 0;
    for (size_t i = 0; i < N; i++)
        if (in[i] && cs->base[i] > r) {
            sub->weight[i] = weighted ? cs->weight[i] : 1;
            *need += sub->weight[i];
        }
    for (size_t c = 0; c < C; c++) {
        sub->first[c] = n;
        for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++)
            if (sub->weight[cs->pt[q]] > 0 && cs->cost[q] <= r) {
                sub->pt[n++] = cs->pt[q];
                reached[cs->pt[q]] = 1;
            }
    }
    sub->first[C] = n;
    *stuck = false;
    for (size_t i = 0; i < N && !*stuck; i++)
        *stuck = sub->weight[i] > 0 && !reached[i];
    cs_free(reached);
    return CS_OK;
}

/* Whether k sites bring everyone within r: by greedy, or (time > 0) by GLPK within
 * time seconds; the sites into sites (room for every candidate), *n of them; *decided
 * false when GLPK ran out of time without an answer. */
static cs_status reachable(const cs_cover_sets *cs, const unsigned char *in, double r, size_t k,
                           double time, size_t *sites, size_t *n, bool *yes, bool *decided)
{
    cs_cover_sets sub;
    double need, got = 0;
    bool stuck;
    cs_status st = at_radius(cs, in, r, false, &sub, &need, &stuck);
    *yes = false;
    *decided = true;
    *n = 0;
    if (st != CS_OK || stuck) {
        cs_cover_sets_free(&sub);
        return st;
    }
    if (!(need > 0)) {
        *yes = true; /* nobody walks more than r already */
    } else if (time > 0) {
        bool optimal;
        st = cs_exact_cover(&sub, cs->candidates, need, time, sites, n, &got, &optimal);
        *yes = st == CS_OK && !isnan(got) && *n <= k;
        *decided = *yes || optimal;
    } else {
        double *gains = cs_calloc(k + 1, sizeof *gains);
        st = gains ? cs_greedy_cover(&sub, k, need, sites, gains, n) : CS_ERR_NOMEM;
        for (size_t q = 0; st == CS_OK && q < *n; q++)
            got += gains[q];
        *yes = st == CS_OK && got >= need;
        cs_free(gains);
    }
    cs_cover_sets_free(&sub);
    return st;
}

/* The longest walk of the residents in with sites[0..n) open, using best as scratch. */
static double longest(const cs_cover_sets *cs, const unsigned char *in, const size_t *sites,
                      size_t n, double *best)
{
    memcpy(best, cs->base, cs->points * sizeof *best);
    for (size_t s = 0; s < n; s++)
        for (size_t q = cs->first[sites[s]]; q < cs->first[sites[s] + 1]; q++)
            best[cs->pt[q]] = fmin(best[cs->pt[q]], cs->cost[q]);
    double r = 0;
    for (size_t i = 0; i < cs->points; i++)
        if (in[i])
            r = fmax(r, best[i]);
    return r;
}

cs_status cs_center_solve(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          cs_center_solution *out)
{
    size_t N = cs->points, C = cs->candidates;
    double t0 = cs_stage_begin();
    bool exact = time_limit_s > 0;
    unsigned char *in = cs_calloc(N + 1, 1);
    double *best = cs_calloc(N + 1, sizeof *best), *v = NULL;
    size_t *sites = cs_calloc(C + 1, sizeof *sites), nv = 0;
    cs_status st = in && best && sites ? CS_OK : CS_ERR_NOMEM;
    *out = (cs_center_solution){.sites = out->sites, .decided = true};
    /* who counts, the walk now, and each one's best walk with every candidate open */
    for (size_t i = 0; st == CS_OK && i < N; i++)
        best[i] = cs->base[i];
    for (size_t q = 0; st == CS_OK && q < cs->first[C]; q++)
        best[cs->pt[q]] = fmin(best[cs->pt[q]], cs->cost[q]);
    for (size_t i = 0; st == CS_OK && i < N; i++) {
        if (!(cs->weight[i] > 0))
            continue;
        if (isinf(best[i])) { /* beyond the threshold, whatever is chosen */
            out->left_out += cs->weight[i];
            continue;
        }
        in[i] = 1;
        out->before = fmax(out->before, cs->base[i]);
        out->lower = fmax(out->lower, best[i]);
    }
    if (st == CS_OK)
        st = radii(cs, in, out->lower, &v, &nv);
    /* bisection over the walks that occur: the answer is the first reachable v[lo ..
     * hi), hi = nv while none is known to be (the longest walk stays as it is now) */
    size_t lo = 0, hi = nv;
    out->radius = out->before;
    while (st == CS_OK && lo < hi) {
        size_t mid = lo + (hi - lo) / 2, n;
        bool yes, decided;
        double left = exact ? time_limit_s - (cs_stage_begin() - t0) : 0;
        if (exact && left <= 0.001) {
            out->decided = false;
            break;
        }
        st = reachable(cs, in, v[mid], k, left, sites, &n, &yes, &decided);
        if (st == CS_OK && !decided) {
            out->decided = false;
            break;
        }
        if (st == CS_OK && yes) {
            hi = mid;
            out->radius = v[mid];
            out->count = n;
            memcpy(out->sites, sites, n * sizeof *sites);
        } else {
            lo = mid + 1;
        }
    }
    /* greedy's sites may do better than the walk they were asked for */
    if (st == CS_OK && out->count > 0)
        out->radius = longest(cs, in, out->sites, out->count, best);
    if (st == CS_OK && exact && out->decided)
        out->lower = out->radius; /* every smaller walk was refuted */
    else if (st == CS_OK && exact && lo < nv)
        out->lower = fmax(out->lower, v[lo]);
    out->seconds = cs_stage_begin() - t0;
    cs_free(in);
    cs_free(best);
    cs_free(v);
    cs_free(sites);
    return st;
}

cs_status cs_center_rank(const cs_cover_sets *cs, double radius, size_t *sites, size_t n,
                         double *gains, size_t *count)
{
    unsigned char *in = cs_calloc(cs->points + 1, 1);
    cs_cover_sets sub = {0}, pick = {0};
    double need;
    bool stuck;
    if (!in)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < cs->points; i++)
        in[i] = cs->weight[i] > 0;
    cs_status st = at_radius(cs, in, radius, true, &sub, &need, &stuck);
    /* the sets of the sites alone, in their order */
    pick = (cs_cover_sets){.candidates = n, .points = cs->points, .weight = sub.weight};
    pick.first = st == CS_OK ? cs_calloc(n + 1, sizeof *pick.first) : NULL;
    pick.pt = st == CS_OK ? cs_calloc(sub.first[sub.candidates] + 1, sizeof *pick.pt) : NULL;
    if (st == CS_OK && (!pick.first || !pick.pt))
        st = CS_ERR_NOMEM;
    size_t m = 0;
    for (size_t s = 0; st == CS_OK && s < n; s++) {
        pick.first[s] = m;
        for (size_t q = sub.first[sites[s]]; q < sub.first[sites[s] + 1]; q++)
            pick.pt[m++] = sub.pt[q];
    }
    size_t *order = st == CS_OK ? cs_calloc(n + 1, sizeof *order) : NULL;
    if (st == CS_OK && !order)
        st = CS_ERR_NOMEM;
    if (st == CS_OK) {
        pick.first[n] = m;
        st = cs_greedy_cover(&pick, n, INFINITY, order, gains, count);
    }
    /* the sites that bring nobody new within the radius follow, with no gain */
    unsigned char *listed = st == CS_OK ? cs_calloc(n + 1, 1) : NULL;
    if (st == CS_OK && !listed)
        st = CS_ERR_NOMEM;
    size_t *ranked = st == CS_OK ? cs_calloc(n + 1, sizeof *ranked) : NULL;
    if (st == CS_OK && !ranked)
        st = CS_ERR_NOMEM;
    for (size_t q = 0; st == CS_OK && q < *count; q++) {
        ranked[q] = sites[order[q]];
        listed[order[q]] = 1;
    }
    for (size_t s = 0; st == CS_OK && s < n; s++)
        if (!listed[s]) {
            gains[*count] = 0;
            ranked[(*count)++] = sites[s];
        }
    if (st == CS_OK)
        memcpy(sites, ranked, n * sizeof *sites);
    pick.weight = NULL; /* sub's */
    cs_cover_sets_free(&pick);
    cs_cover_sets_free(&sub);
    cs_free(order);
    cs_free(listed);
    cs_free(ranked);
    cs_free(in);
    return st;
}
