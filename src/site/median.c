/*
 * median.c — p-median with the existing facilities kept (ReVelle & Swain 1970): the K
 * candidates that most shorten the band's walks to their nearest facility.
 *
 * Every resident i has a walk now, base_i (to the nearest existing facility, capped at
 * the threshold), and only the pairs (c, i) where candidate c is nearer than that
 * matter: the cover sets with costs (suggest.h). Choosing S saves
 *     saving(S) = sum_i w_i (base_i - min(base_i, min_{c in S} d_ic)),
 * and the total walk is sum_i w_i base_i - saving(S).
 *
 * The heuristic starts from lazy greedy (saving is submodular: gains only shrink) and
 * then swaps one chosen site for one candidate while that shortens the walk, the best
 * swap first (vertex substitution, Teitz & Bart 1968). Each swap is judged in one pass
 * over the pairs with the gain/loss/extra sums of Whitaker (1983) as Resende & Werneck
 * (2007) write them: for a candidate f and an open site r,
 *     profit(f, r) = gain(f) - loss(r) + extra(f, r)
 *     gain(f)      = sum_i w_i max(0, d1_i - d_if)
 *     loss(r)      = sum_{i: r nearest} w_i (d2_i - d1_i)
 *     extra(f, r)  = sum_{i: r nearest, d_if < d2_i} w_i (d2_i - max(d_if, d1_i))
 * with d1, d2 each resident's nearest and second-nearest of the existing facilities
 * (base) and the open sites.
 *
 * The exact answer is GLPK's branch and cut on the strong formulation over the pairs,
 * its LP relaxation's optimum the bound the gap is measured against, started from the
 * heuristic's solution so that a solve stopped by its time limit still has one.
 */
#include "site/suggest.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The pairs by resident: resident i's candidates cand[at[i] .. at[i + 1]), costs cost. */
typedef struct by_point {
    size_t *at;
    uint32_t *cand;
    double *cost;
} by_point;

static void by_point_free(by_point *b)
{
    cs_free(b->at);
    cs_free(b->cand);
    cs_free(b->cost);
}

static cs_status transpose(const cs_cover_sets *cs, by_point *b)
{
    size_t C = cs->candidates, N = cs->points, P = cs->first[C];
    b->at = cs_calloc(N + 2, sizeof *b->at);
    b->cand = cs_calloc(P + 1, sizeof *b->cand);
    b->cost = cs_calloc(P + 1, sizeof *b->cost);
    if (!b->at || !b->cand || !b->cost)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < P; q++)
        b->at[cs->pt[q] + 2]++;
    for (size_t i = 0; i < N; i++)
        b->at[i + 2] += b->at[i + 1];
    for (size_t c = 0; c < C; c++)
        for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++) {
            size_t to = b->at[cs->pt[q] + 1]++;
            b->cand[to] = (uint32_t)c;
            b->cost[to] = cs->cost[q];
        }
    return CS_OK;
}

double cs_median_saving(const cs_cover_sets *cs, const size_t *sites, size_t n)
{
    size_t N = cs->points;
    double *best = cs_calloc(N + 1, sizeof *best);
    if (!best)
        return NAN;
    memcpy(best, cs->base, N * sizeof *best);
    for (size_t s = 0; s < n; s++)
        for (size_t q = cs->first[sites[s]]; q < cs->first[sites[s] + 1]; q++)
            best[cs->pt[q]] = fmin(best[cs->pt[q]], cs->cost[q]);
    double saving = 0;
    for (size_t i = 0; i < N; i++)
        saving += cs->weight[i] * (cs->base[i] - best[i]);
    cs_free(best);
    return saving;
}

/* ---------------------------------------------------------------- greedy */

/* Greedy's state: every resident's walk with the sites taken so far. */
typedef struct walks {
    const cs_cover_sets *cs;
    double *d1;
} walks;

/* What candidate c would save with every resident's walk at d1. */
static double saving_of(void *user, size_t c)
{
    const walks *wk = user;
    const cs_cover_sets *cs = wk->cs;
    double g = 0;
    for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++) {
        size_t i = cs->pt[q];
        if (cs->cost[q] < wk->d1[i])
            g += cs->weight[i] * (wk->d1[i] - cs->cost[q]);
    }
    return g;
}

static void take(void *user, size_t c)
{
    const walks *wk = user;
    for (size_t q = wk->cs->first[c]; q < wk->cs->first[c + 1]; q++)
        wk->d1[wk->cs->pt[q]] = fmin(wk->d1[wk->cs->pt[q]], wk->cs->cost[q]);
}

/* Lazy greedy among the candidates `among` (NULL: all C), up to k of them: their indices
 * into chosen in the order taken, their savings into gains; *count how many. */
static cs_status greedy(const cs_cover_sets *cs, const size_t *among, size_t C, size_t k,
                        size_t *chosen, double *gains, size_t *count)
{
    static const cs_greedy_fns fns = {saving_of, take};
    walks wk = {cs, cs_calloc(cs->points + 1, sizeof *wk.d1)};
    if (!wk.d1)
        return CS_ERR_NOMEM;
    memcpy(wk.d1, cs->base, cs->points * sizeof *wk.d1);
    cs_status st = cs_lazy_greedy(&fns, &wk, among, C, k, INFINITY, chosen, gains, count);
    cs_free(wk.d1);
    return st;
}

/* ---------------------------------------------------------- interchange */

typedef struct swapper {
    const cs_cover_sets *cs;
    by_point bp;
    size_t n;        /* open sites */
    size_t *open;    /* their candidates, by slot */
    long *slot;      /* each candidate's slot, -1 when closed */
    double *d1, *d2; /* each resident's nearest and second nearest walk */
    long *near;      /* the slot of its nearest open site, -1: an existing facility */
    double *loss;    /* by slot */
} swapper;

/* Each resident's d1, d2 and nearest slot, and each slot's loss, for the open sites. */
static void settle(swapper *sw)
{
    const cs_cover_sets *cs = sw->cs;
    memset(sw->loss, 0, sw->n * sizeof *sw->loss);
    for (size_t i = 0; i < cs->points; i++) {
        double d1 = cs->base[i], d2 = INFINITY;
        long near = -1;
        for (size_t q = sw->bp.at[i]; q < sw->bp.at[i + 1]; q++) {
            long s = sw->slot[sw->bp.cand[q]];
            double d = sw->bp.cost[q];
            if (s < 0)
                continue;
            if (d < d1 || (d == d1 && near >= 0 && s < near)) {
                d2 = near >= 0 ? d1 : fmin(d2, d1);
                d1 = d;
                near = s;
            } else {
                d2 = fmin(d2, d);
            }
        }
        if (near >= 0)
            d2 = fmin(d2, cs->base[i]); /* the existing facilities stay */
        sw->d1[i] = d1;
        sw->d2[i] = d2;
        sw->near[i] = near;
        if (near >= 0)
            sw->loss[near] += cs->weight[i] * (d2 - d1);
    }
}

typedef struct swap {
    double profit;
    size_t f;
    size_t r; /* slot */
} swap;

static bool better(const swap *a, const swap *b)
{
    return a->profit > b->profit ||
           (a->profit == b->profit && (a->f < b->f || (a->f == b->f && a->r < b->r)));
}

/* The best swap bringing candidate f in, with extra (n slots, zero) as scratch. */
static swap best_for(const swapper *sw, size_t f, double *extra)
{
    const cs_cover_sets *cs = sw->cs;
    double gain = 0;
    for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
        size_t i = cs->pt[q];
        double d = cs->cost[q], d1 = sw->d1[i];
        if (d < d1)
            gain += cs->weight[i] * (d1 - d);
        long r = sw->near[i];
        if (r >= 0 && d < sw->d2[i])
            extra[r] += cs->weight[i] * (sw->d2[i] - fmax(d, d1));
    }
    swap best = {-INFINITY, f, 0};
    for (size_t r = 0; r < sw->n; r++) {
        swap s = {gain - sw->loss[r] + extra[r], f, r};
        if (better(&s, &best))
            best = s;
        extra[r] = 0;
    }
    return best;
}

/* The best swap of all, on `threads` threads; ties to the lowest candidate, then slot. */
static cs_status best_swap(const swapper *sw, int threads, swap *out)
{
    long C = (long)sw->cs->candidates;
    swap best = {-INFINITY, 0, 0};
    int failed = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) if (C > 256)
#endif
    {
        double *extra = cs_calloc(sw->n + 1, sizeof *extra);
        swap mine = {-INFINITY, 0, 0};
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 64)
#endif
        for (long f = 0; f < C; f++)
            if (extra && sw->slot[f] < 0) {
                swap s = best_for(sw, (size_t)f, extra);
                if (better(&s, &mine))
                    mine = s;
            }
#ifdef _OPENMP
#pragma omp critical
#endif
        {
            if (!extra)
                failed = 1;
            else if (better(&mine, &best))
                best = mine;
        }
        cs_free(extra);
    }
    (void)threads;
    *out = best;
    return failed ? CS_ERR_NOMEM : CS_OK;
}

static void swapper_free(swapper *sw)
{
    by_point_free(&sw->bp);
    cs_free(sw->open);
    cs_free(sw->slot);
    cs_free(sw->d1);
    cs_free(sw->d2);
    cs_free(sw->near);
    cs_free(sw->loss);
}

/* Swap while a swap shortens the total walk by more than rounding could. */
static cs_status interchange(const cs_cover_sets *cs, size_t *sites, size_t n, int threads,
                             size_t *swaps)
{
    size_t C = cs->candidates, N = cs->points;
    swapper sw = {.cs = cs, .n = n};
    sw.open = cs_calloc(n + 1, sizeof *sw.open);
    sw.slot = cs_calloc(C + 1, sizeof *sw.slot);
    sw.d1 = cs_calloc(N + 1, sizeof *sw.d1);
    sw.d2 = cs_calloc(N + 1, sizeof *sw.d2);
    sw.near = cs_calloc(N + 1, sizeof *sw.near);
    sw.loss = cs_calloc(n + 1, sizeof *sw.loss);
    cs_status st = sw.open && sw.slot && sw.d1 && sw.d2 && sw.near && sw.loss
                       ? transpose(cs, &sw.bp)
                       : CS_ERR_NOMEM;
    double total = 0;
    for (size_t i = 0; i < N; i++)
        total += cs->weight[i] * cs->base[i];
    for (size_t c = 0; st == CS_OK && c < C; c++)
        sw.slot[c] = -1;
    for (size_t s = 0; st == CS_OK && s < n; s++) {
        sw.open[s] = sites[s];
        sw.slot[sites[s]] = (long)s;
    }
    *swaps = 0;
    while (st == CS_OK && n < C) {
        settle(&sw);
        swap best;
        st = best_swap(&sw, threads, &best);
        if (st != CS_OK || !(best.profit > 1e-12 * total))
            break;
        sw.slot[sw.open[best.r]] = -1;
        sw.open[best.r] = best.f;
        sw.slot[best.f] = (long)best.r;
        ++*swaps;
    }
    if (st == CS_OK)
        memcpy(sites, sw.open, n * sizeof *sites);
    swapper_free(&sw);
    return st;
}

cs_status cs_median_rank(const cs_cover_sets *cs, size_t *sites, size_t n, double *gains,
                         size_t *count)
{
    size_t *among = cs_calloc(n + 1, sizeof *among);
    if (!among)
        return CS_ERR_NOMEM;
    memcpy(among, sites, n * sizeof *among);
    cs_status st = greedy(cs, among, n, n, sites, gains, count);
    cs_free(among);
    return st;
}

cs_status cs_median_heuristic(const cs_cover_sets *cs, size_t k, int threads, size_t *chosen,
                              double *gains, size_t *count, size_t *swaps)
{
    *swaps = 0;
    cs_status st = greedy(cs, NULL, cs->candidates, k, chosen, gains, count);
    if (st == CS_OK && *count > 0)
        st = interchange(cs, chosen, *count, threads, swaps);
    if (st == CS_OK && *swaps > 0)
        st = cs_median_rank(cs, chosen, *count, gains, count);
    return st;
}

/* ------------------------------------------------------ Lagrangian bound */

/* The k largest positive rho_c into top (room for C), their sum into *sum; how many. */
static size_t largest(const double *rho, size_t C, size_t k, cs_valued *top, double *sum)
{
    size_t m = 0;
    for (size_t c = 0; c < C; c++)
        if (rho[c] > 0)
            top[m++] = (cs_valued){rho[c], c};
    qsort(top, m, sizeof *top, cs_by_value_down);
    m = m < k ? m : k;
    *sum = 0;
    for (size_t t = 0; t < m; t++)
        *sum += top[t].v;
    return m;
}

/* The pairs for the bound: each pair's resident renumbered among the residents that
 * have pairs (at[q] in [0, n)), and its saving s_q. */
typedef struct priced {
    uint32_t *at;
    double *s;
    size_t n;
} priced;

static cs_status price_pairs(const cs_cover_sets *cs, priced *pp)
{
    size_t N = cs->points, P = cs->first[cs->candidates];
    uint32_t *local = cs_calloc(N + 1, sizeof *local); /* 0: none yet, else index + 1 */
    pp->at = cs_calloc(P + 1, sizeof *pp->at);
    pp->s = cs_calloc(P + 1, sizeof *pp->s);
    pp->n = 0;
    if (!local || !pp->at || !pp->s) {
        cs_free(local);
        return CS_ERR_NOMEM;
    }
    for (size_t q = 0; q < P; q++) {
        size_t i = cs->pt[q];
        if (!local[i])
            local[i] = (uint32_t)++pp->n;
        pp->at[q] = local[i] - 1;
        pp->s[q] = cs->weight[i] * (cs->base[i] - cs->cost[q]);
    }
    cs_free(local);
    return CS_OK;
}

double cs_median_bound(const cs_cover_sets *cs, size_t k, int threads, double known)
{
    size_t C = cs->candidates, P = cs->first[C];
    priced pp = {0};
    cs_status st = price_pairs(cs, &pp);
    size_t n = pp.n;
    double *lambda = cs_calloc(n + 1, sizeof *lambda), *g = cs_calloc(n + 1, sizeof *g);
    double *rho = cs_calloc(C + 1, sizeof *rho);
    cs_valued *top = cs_calloc(C + 1, sizeof *top);
    (void)threads;
    if (st != CS_OK || !lambda || !g || !rho || !top) {
        cs_free(pp.at), cs_free(pp.s);
        cs_free(lambda), cs_free(g), cs_free(rho), cs_free(top);
        return NAN;
    }
    for (size_t q = 0; q < P; q++)
        lambda[pp.at[q]] = fmax(lambda[pp.at[q]], pp.s[q]);
    double best = INFINITY, mu = 2;
    size_t iterations = P ? (size_t)fmax(10, fmin(300, 4e8 / (double)P)) : 1, stale = 0;
    for (size_t it = 0; it < iterations; it++) {
        double L = 0, chosen;
        for (size_t a = 0; a < n; a++)
            L += lambda[a];
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 64) if (P > 100000) \
    num_threads(threads > 0 ? threads : omp_get_max_threads())
#endif
        for (long c = 0; c < (long)C; c++) {
            double sum = 0;
            for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++)
                sum += pp.s[q] > lambda[pp.at[q]] ? pp.s[q] - lambda[pp.at[q]] : 0;
            rho[c] = sum;
        }
        size_t m = largest(rho, C, k, top, &chosen);
        L += chosen;
        if (isinf(best) || L < best - 1e-12 * fabs(best)) {
            best = L;
            stale = 0;
        } else if (++stale == 20) {
            mu /= 2;
            stale = 0;
        }
        if (best - known <= 1e-9 * fabs(best))
            break; /* the bound meets the saving reached: optimal */
        /* the subgradient: 1 - the pairs of resident a the chosen sites take, none
         * where a price at 0 would go below */
        for (size_t a = 0; a < n; a++)
            g[a] = 1;
        for (size_t t = 0; t < m; t++)
            for (size_t q = cs->first[top[t].c]; q < cs->first[top[t].c + 1]; q++)
                if (pp.s[q] > lambda[pp.at[q]])
                    g[pp.at[q]] -= 1;
        double norm = 0;
        for (size_t a = 0; a < n; a++) {
            if (lambda[a] <= 0 && g[a] > 0)
                g[a] = 0;
            norm += g[a] * g[a];
        }
        if (norm == 0)
            break; /* every resident takes exactly one pair: L is the optimum */
        double step = mu * (L - known) / norm;
        for (size_t a = 0; a < n; a++)
            lambda[a] = fmax(0, lambda[a] - step * g[a]);
    }
    cs_free(pp.at), cs_free(pp.s);
    cs_free(lambda), cs_free(g), cs_free(rho), cs_free(top);
    return best;
}

/* ----------------------------------------------------------------- exact */

typedef struct solve_watch {
    const double *start; /* the heuristic's column values, given at the root */
    bool given;
    double bound;        /* the best bound seen (an upper bound on the saving) */
} solve_watch;

static void watch(glp_tree *T, void *info)
{
    solve_watch *w = info;
    if (glp_ios_reason(T) == GLP_IHEUR && !w->given) {
        w->given = true;
        glp_ios_heur_sol(T, w->start);
    }
    int node = glp_ios_best_node(T);
    if (node)
        w->bound = fmin(w->bound, glp_ios_node_bound(T, node));
}

/* Columns: y_c (1..C), then x_q (C+1..C+P); rows: one per resident with pairs
 * (sum_q x_q <= 1), one per pair (x_q - y_c <= 0), the budget (sum y_c <= k). */
static cs_status build(glp_prob *lp, const cs_cover_sets *cs, size_t k)
{
    size_t C = cs->candidates, N = cs->points, P = cs->first[C];
    long *row_of = cs_calloc(N + 1, sizeof *row_of);
    int *ia = cs_calloc(3 * P + C + 2, sizeof *ia), *ja = cs_calloc(3 * P + C + 2, sizeof *ja);
    double *ar = cs_calloc(3 * P + C + 2, sizeof *ar);
    if (!row_of || !ia || !ja || !ar) {
        cs_free(row_of), cs_free(ia), cs_free(ja), cs_free(ar);
        return CS_ERR_NOMEM;
    }
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_cols(lp, (int)(C + P));
    for (size_t c = 0; c < C; c++)
        glp_set_col_kind(lp, (int)c + 1, GLP_BV);
    int rows = 0;
    for (size_t q = 0; q < P; q++)
        if (!row_of[cs->pt[q]])
            row_of[cs->pt[q]] = ++rows;
    glp_add_rows(lp, rows + (int)P + 1);
    for (int r = 1; r <= rows; r++)
        glp_set_row_bnds(lp, r, GLP_UP, 0, 1);
    size_t e = 0;
    for (size_t c = 0; c < C; c++)
        for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++) {
            size_t i = cs->pt[q];
            int col = (int)(C + q) + 1, link = rows + (int)q + 1;
            glp_set_col_bnds(lp, col, GLP_DB, 0, 1);
            glp_set_obj_coef(lp, col, cs->weight[i] * (cs->base[i] - cs->cost[q]));
            glp_set_row_bnds(lp, link, GLP_UP, 0, 0);
            ++e, ia[e] = (int)row_of[i], ja[e] = col, ar[e] = 1;
            ++e, ia[e] = link, ja[e] = col, ar[e] = 1;
            ++e, ia[e] = link, ja[e] = (int)c + 1, ar[e] = -1;
        }
    int budget = rows + (int)P + 1;
    glp_set_row_bnds(lp, budget, GLP_UP, 0, (double)k);
    for (size_t c = 0; c < C; c++)
        ++e, ia[e] = budget, ja[e] = (int)c + 1, ar[e] = 1;
    glp_load_matrix(lp, (int)e, ia, ja, ar);
    cs_free(row_of), cs_free(ia), cs_free(ja), cs_free(ar);
    return CS_OK;
}

/* The heuristic's sites as column values: each resident on the pair of its nearest. */
static cs_status start_values(const cs_cover_sets *cs, const size_t *sites, size_t n,
                              double **out)
{
    size_t C = cs->candidates, N = cs->points, P = cs->first[C];
    double *v = cs_calloc(C + P + 2, sizeof *v);
    double *best = cs_calloc(N + 1, sizeof *best);
    size_t *at = cs_calloc(N + 1, sizeof *at);
    if (!v || !best || !at) {
        cs_free(v), cs_free(best), cs_free(at);
        return CS_ERR_NOMEM;
    }
    memcpy(best, cs->base, N * sizeof *best);
    for (size_t s = 0; s < n; s++) {
        v[sites[s] + 1] = 1;
        for (size_t q = cs->first[sites[s]]; q < cs->first[sites[s] + 1]; q++)
            if (cs->cost[q] < best[cs->pt[q]]) {
                best[cs->pt[q]] = cs->cost[q];
                at[cs->pt[q]] = q + 1;
            }
    }
    for (size_t i = 0; i < N; i++)
        if (at[i])
            v[C + at[i]] = 1;
    cs_free(best), cs_free(at);
    *out = v;
    return CS_OK;
}

cs_status cs_median_exact(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          const size_t *start, size_t nstart, cs_median_solution *out)
{
    size_t C = cs->candidates;
    double t0 = cs_stage_begin();
    *out = (cs_median_solution){.sites = out->sites, .saving = NAN, .bound = NAN,
                                .lp_bound = NAN};
    glp_term_out(GLP_OFF);
    glp_prob *lp = glp_create_prob();
    double *values = NULL;
    cs_status st = build(lp, cs, k);
    if (st == CS_OK)
        st = start_values(cs, start, nstart, &values);
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.meth = GLP_DUALP;
    sp.tm_lim = (int)(time_limit_s * 1000);
    int ret = st == CS_OK ? glp_simplex(lp, &sp) : -1;
    bool lp_solved = ret == 0 && glp_get_status(lp) == GLP_OPT;
    if (lp_solved) {
        out->lp_bound = glp_get_obj_val(lp);
        solve_watch w = {values, false, out->lp_bound};
        glp_iocp parm;
        glp_init_iocp(&parm);
        parm.msg_lev = GLP_MSG_OFF;
        parm.cb_func = watch;
        parm.cb_info = &w;
        double left = time_limit_s - (cs_stage_begin() - t0);
        parm.tm_lim = left > 0.001 ? (int)(left * 1000) : 1;
        glp_intopt(lp, &parm);
        int status = glp_mip_status(lp);
        out->optimal = status == GLP_OPT;
        if (status == GLP_OPT || status == GLP_FEAS) {
            out->saving = glp_mip_obj_val(lp);
            out->bound = out->optimal ? out->saving : fmax(w.bound, out->saving);
            for (size_t c = 0; c < C; c++)
                if (glp_mip_col_val(lp, (int)c + 1) > 0.5)
                    out->sites[out->count++] = c;
        }
    }
    out->seconds = cs_stage_begin() - t0;
    cs_free(values);
    glp_delete_prob(lp);
    glp_free_env(); /* GLPK keeps an environment per thread */
    return st;
}
