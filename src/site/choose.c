/*
 * choose.c — cs_site_suggest: candidates (given, or the centres of the grid cells that
 * hold residents the sites are for: uncovered ones, or for p-median any of the band; a
 * kind measured by a cost matrix needs given ones, with rows in it), their cover sets,
 * the choice (covering here and in suggest.c, p-median in median.c), then the chosen
 * sites evaluated as proposals.
 */
#include "cost/nearest.h"
#include "cover/patch.h"
#include "io/crs.h"
#include "io/load.h"
#include "site/suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Exact solving is tried up to these sizes (GLPK's branch and cut grows fast; p-median's
 * programme has a row and a column per pair, p-center solves one covering programme
 * per walk it tries). */
#define EXACT_MAX_CANDIDATES 5000
#define EXACT_MAX_PAIRS 2000000
#define EXACT_MAX_COST_PAIRS 50000
/* The capacitated models solve the assignment exactly at every step (a medium city's
 * 4.6 million pairs take half a minute): beyond this many pairs they refuse. */
#define CAPACITATED_MAX_PAIRS 20000000

typedef struct chooser {
    cs_context *ctx;
    const cs_result *r;
    size_t k, m;       /* kind and its main measure */
    size_t band;       /* the band covered */
    double within_m;
    const double *now; /* the kind's cost field */
    double *cx, *cy;   /* candidates, working CRS */
    long *row;         /* given candidates: their rows of the cost matrix (-1: none) */
    size_t nc;
    size_t *keep;      /* after exclusion: each candidate's number before it (or NULL) */
    size_t threshold;  /* the kind's threshold covered (index) */
    cs_site_model model;
    unsigned char *existing; /* backup: facilities of the kind reaching each point, up to 2 */
    bool capacitated;
    cs_capacity_sets sets;   /* capacitated: the instance, kept for the assignment */
    size_t *facility;        /* its existing facilities' indices in the study */
    cs_capacity_flow flow;   /* the listed sites' assignment */
} chooser;

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool add_candidate(chooser *ch, size_t *cap, double x, double y)
{
    if (!cs_grow((void **)&ch->cx, cap, ch->nc + 1, sizeof *ch->cx))
        return false;
    double *cy = cs_reallocarray(ch->cy, *cap, sizeof *cy);
    if (!cy)
        return false;
    ch->cy = cy;
    ch->cx[ch->nc] = x;
    ch->cy[ch->nc++] = y;
    return true;
}

/* Whether resident i is one the sites are for: of the band chosen for, and uncovered
 * (covering), short of two facilities within reach (backup), or any (p-median,
 * p-center). */
static bool wanted(const chooser *ch, size_t i)
{
    const cs_study *s = ch->r->study;
    if (!(s->dem.pop[i * ch->r->B + ch->band] > 0))
        return false;
    if (ch->capacitated)
        return true;
    switch (ch->model) {
    case CS_MODEL_COVER: return ch->now[i] > ch->within_m;
    case CS_MODEL_BACKUP: return ch->existing[i] < 2;
    default: return true;
    }
}

/* What to do with each reach of reach_all: visit(user, p, pairs) for position p, on any
 * thread; an error stops the rest. */
typedef cs_status (*reach_visit)(void *user, size_t p, const cs_pairs *pairs);

/*
 * Reach the residents within the threshold (only those in keep; NULL: all) from n
 * positions (x, y; row: their rows of the cost matrix, NULL: none), on the context's
 * threads, each with a reacher of its own over one shared part; shown as progress of
 * the suggest stage.
 */
static cs_status reach_all(chooser *ch, const unsigned char *keep, size_t n, const double *x,
                           const double *y, const long *row, reach_visit visit, void *user)
{
    cs_site_cache *shared = NULL;
    cs_status st = cs_site_cache_build(ch->r, keep, &shared);
    int failed = st != CS_OK ? (int)st : 0;
    long count = (long)n, done = 0;
#ifdef _OPENMP
    int nt = ch->ctx->threads > 0 ? ch->ctx->threads : omp_get_max_threads();
#pragma omp parallel num_threads(nt) if (st == CS_OK && count > 64)
#endif
    {
        cs_reacher *rc = NULL;
        cs_pairs pr = {0};
        /* (failed is only written after the loop's closing barrier) */
        cs_status mine = failed ? (cs_status)failed : cs_reacher_create_shared(shared, &rc);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
        for (long p = 0; p < count; p++) {
            if (mine == CS_OK)
                mine = cs_reacher_reach(rc, x[p], y[p], row ? row[p] : -1, ch->k, ch->m,
                                        ch->within_m, &pr);
            if (mine == CS_OK)
                mine = visit(user, (size_t)p, &pr);
            long now;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
            now = ++done;
            /* the searches are most of the time: shown by the calling thread only */
#ifdef _OPENMP
            if (omp_get_thread_num() == 0 && now % 256 == 0)
#else
            if (now % 256 == 0)
#endif
                cs_progress(ch->ctx, "suggest", 0.9 * (double)now / (double)count);
        }
        if (mine != CS_OK) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            failed = (int)mine;
        }
        cs_free(pr.pt);
        cs_free(pr.cost);
        cs_reacher_destroy(rc);
    }
    cs_site_cache_destroy(shared);
    return failed ? (cs_status)failed : st;
}

/* Count a facility's reach into the residents' counts. */
static cs_status count_reach(void *user, size_t p, const cs_pairs *pairs)
{
    unsigned *n = user;
    (void)p;
    for (size_t q = 0; q < pairs->n; q++) {
#ifdef _OPENMP
#pragma omp atomic
#endif
        n[pairs->pt[q]]++;
    }
    return CS_OK;
}

/* The kind's facilities: their positions and rows of the cost matrix (a facility's row
 * is its index in the study) into new arrays with room for `extra` more after them;
 * *count of them. Errors: NOMEM. */
static cs_status kind_facilities(const chooser *ch, size_t extra, double **fx, double **fy,
                                 long **row, size_t *count)
{
    const cs_study *s = ch->r->study;
    size_t F = s->fac.count + extra + 1;
    *fx = cs_calloc(F, sizeof **fx);
    *fy = cs_calloc(F, sizeof **fy);
    *row = cs_calloc(F, sizeof **row);
    if (!*fx || !*fy || !*row)
        return CS_ERR_NOMEM;
    *count = 0;
    for (size_t f = 0; f < s->fac.count; f++)
        if (s->fac.kind[f] == (long)ch->k) {
            (*fx)[*count] = s->fac.x[f];
            (*fy)[*count] = s->fac.y[f];
            (*row)[(*count)++] = (long)f;
        }
    return CS_OK;
}

/* Backup coverage: how many facilities of the kind reach each resident within the
 * threshold now, up to 2; one reach from each facility, shared among the threads. */
static cs_status existing_covers(chooser *ch)
{
    const cs_study *s = ch->r->study;
    size_t N = s->dem.count, F = 0;
    unsigned *n = cs_calloc(N + 1, sizeof *n);
    double *fx = NULL, *fy = NULL;
    long *row = NULL;
    ch->existing = cs_calloc(N + 1, 1);
    cs_status st = n && ch->existing ? kind_facilities(ch, 0, &fx, &fy, &row, &F)
                                     : CS_ERR_NOMEM;
    if (st == CS_OK)
        st = reach_all(ch, NULL, F, fx, fy, row, count_reach, n);
    for (size_t i = 0; st == CS_OK && i < N; i++)
        ch->existing[i] = (unsigned char)(n[i] < 2 ? n[i] : 2);
    cs_free(n);
    cs_free(fx);
    cs_free(fy);
    cs_free(row);
    return st;
}

/* Straight line: a candidate at each cell's centre; where the centre lies outside the
 * study area (a cell on its edge), at the cell's wanted resident nearest the centre. */
static cs_status cell_candidates(chooser *ch, const cs_grid *g, const int64_t *keys, size_t u,
                                 size_t *cap)
{
    const cs_study *s = ch->r->study;
    double *cx = cs_calloc(u + 1, sizeof *cx), *cy = cs_calloc(u + 1, sizeof *cy);
    double *best = cs_calloc(u + 1, sizeof *best); /* squared distance; 0: the centre */
    cs_status st = cx && cy && best ? CS_OK : CS_ERR_NOMEM;
    for (size_t q = 0; st == CS_OK && q < u; q++) {
        int32_t col, row;
        cs_grid_key_cell(keys[q], &col, &row);
        cx[q] = g->x0 + ((double)col + 0.5) * g->cell_m;
        cy[q] = g->y0 + ((double)row + 0.5) * g->cell_m;
        best[q] = cs_site_area_at(s, cx[q], cy[q]) >= 0 ? 0 : INFINITY;
    }
    for (size_t i = 0; st == CS_OK && i < s->dem.count; i++) {
        if (!wanted(ch, i))
            continue;
        int32_t col, row;
        cs_grid_cell(g, s->dem.x[i], s->dem.y[i], &col, &row);
        int64_t key = cs_grid_key(col, row);
        const int64_t *hit = bsearch(&key, keys, u, sizeof *keys, compare_i64);
        size_t q = (size_t)(hit - keys);
        double dx = s->dem.x[i] - g->x0 - ((double)col + 0.5) * g->cell_m;
        double dy = s->dem.y[i] - g->y0 - ((double)row + 0.5) * g->cell_m;
        if (best[q] > 0 && dx * dx + dy * dy < best[q]) {
            best[q] = dx * dx + dy * dy;
            cx[q] = s->dem.x[i];
            cy[q] = s->dem.y[i];
        }
    }
    for (size_t q = 0; st == CS_OK && q < u; q++)
        if (!add_candidate(ch, cap, cx[q], cy[q]))
            st = CS_ERR_NOMEM;
    cs_free(cx);
    cs_free(cy);
    cs_free(best);
    return st;
}

/* Generated candidates, in the grid cells (underserved.cell_m, anchored as the patches)
 * that hold residents the sites are for (wanted): the cells' centres (cell_candidates),
 * or for a kind measured along the network the network's nodes in them that lie in the
 * study area. */
static cs_status generate_candidates(chooser *ch)
{
    const cs_study *s = ch->r->study;
    size_t N = s->dem.count, n = 0, cap = 0;
    cs_grid g = cs_study_patch_grid(s);
    g.shape = CS_GRID_SQUARE; /* candidates at square cells' centres */
    int64_t *keys = cs_calloc(N + 1, sizeof *keys);
    if (!keys)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < N; i++) {
        if (!wanted(ch, i))
            continue;
        int32_t col, row;
        cs_grid_cell(&g, s->dem.x[i], s->dem.y[i], &col, &row);
        keys[n++] = cs_grid_key(col, row);
    }
    qsort(keys, n, sizeof *keys, compare_i64);
    size_t u = 0; /* unique cells */
    for (size_t q = 0; q < n; q++)
        if (q == 0 || keys[q] != keys[u - 1])
            keys[u++] = keys[q];
    cs_status st = CS_OK;
    if (ch->m == CS_M_NETWORK) {
        const cs_graph *gr = &ch->r->net.graph;
        for (size_t v = 0; st == CS_OK && v < gr->node_count; v++) {
            int32_t col, row;
            cs_grid_cell(&g, gr->node_x[v], gr->node_y[v], &col, &row);
            int64_t key = cs_grid_key(col, row);
            if (bsearch(&key, keys, u, sizeof *keys, compare_i64) &&
                cs_site_area_at(s, gr->node_x[v], gr->node_y[v]) >= 0 &&
                !add_candidate(ch, &cap, gr->node_x[v], gr->node_y[v]))
                st = CS_ERR_NOMEM;
        }
    } else {
        st = cell_candidates(ch, &g, keys, u, &cap);
    }
    cs_free(keys);
    return st;
}

static bool append_point(cs_cover_sets *cs, size_t *cap, size_t *n, size_t i)
{
    if (!cs_grow((void **)&cs->pt, cap, *n + 1, sizeof *cs->pt))
        return false;
    cs->pt[(*n)++] = (uint32_t)i;
    return true;
}

/* Straight line: an index over the uncovered residents only (usually a small share of
 * all), queried within the threshold of every candidate. */
static cs_status straight_sets(chooser *ch, cs_cover_sets *cs, size_t *n, size_t *cap)
{
    const cs_study *s = ch->r->study;
    size_t N = s->dem.count, U = 0, idx_cap = 0;
    size_t *uid = cs_calloc(N + 1, sizeof *uid);
    double *ux = cs_calloc(N + 1, sizeof *ux), *uy = cs_calloc(N + 1, sizeof *uy);
    long *idx = NULL;
    cs_point_index *ix = NULL;
    cs_status st = uid && ux && uy ? CS_OK : CS_ERR_NOMEM;
    for (size_t i = 0; st == CS_OK && i < N; i++)
        if (cs->weight[i] > 0) {
            ux[U] = s->dem.x[i];
            uy[U] = s->dem.y[i];
            uid[U++] = i;
        }
    if (st == CS_OK)
        st = cs_point_index_create(ux, uy, U, &ix);
    for (size_t c = 0; st == CS_OK && c < ch->nc; c++) {
        cs->first[c] = *n;
        size_t m = cs_point_index_within(ix, ch->cx[c], ch->cy[c], ch->within_m, &idx, &idx_cap);
        if (m == (size_t)-1)
            st = CS_ERR_NOMEM;
        for (size_t q = 0; st == CS_OK && q < m; q++)
            if (!append_point(cs, cap, n, uid[idx[q]]))
                st = CS_ERR_NOMEM;
    }
    cs_point_index_destroy(ix);
    cs_free(idx);
    cs_free(uid);
    cs_free(ux);
    cs_free(uy);
    return st;
}

/* Whether a candidate reaching resident i at `cost` counts: the resident is one the
 * sites are for, and for p-median the candidate is nearer than its walk now. */
static bool counts(const cs_cover_sets *cs, size_t i, double cost)
{
    return cs->weight[i] > 0 && (!cs->base || cost < cs->base[i]);
}

/* One candidate's residents (and for p-median their costs), while the sets are made. */
typedef struct found {
    uint32_t *pt;
    double *cost;
    size_t n;
} reached;

/* The lists while they are made: of the cover sets cs (what counts), or for the
 * capacitated models (cs NULL) of every resident with demand, with costs. */
typedef struct listing {
    const cs_cover_sets *cs;
    const double *demand;
    reached *lists;
} listing;

static bool listed(const listing *ls, size_t i, double cost)
{
    return ls->cs ? counts(ls->cs, i, cost) : ls->demand[i] > 0;
}

/* Reach p's residents that count into its list. */
static cs_status list_reach(void *user, size_t p, const cs_pairs *pr)
{
    const listing *ls = user;
    bool costs = !ls->cs || ls->cs->base;
    reached *f = &ls->lists[p];
    size_t m = 0;
    for (size_t q = 0; q < pr->n; q++)
        m += listed(ls, (size_t)pr->pt[q], pr->cost[q]);
    f->n = 0;
    f->pt = m ? cs_calloc(m, sizeof *f->pt) : NULL;
    f->cost = m && costs ? cs_calloc(m, sizeof *f->cost) : NULL;
    if (m && (!f->pt || (costs && !f->cost)))
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < pr->n; q++)
        if (listed(ls, (size_t)pr->pt[q], pr->cost[q])) {
            if (f->cost)
                f->cost[f->n] = pr->cost[q];
            f->pt[f->n++] = (uint32_t)pr->pt[q];
        }
    return CS_OK;
}

/* Along the network (one bounded search per candidate) or from the cost matrix (each
 * candidate's row), the candidates shared among the threads, each with a reacher of its
 * own; the sets are joined in candidate order, so any number of threads gives the same.
 * The searches list only the residents still to cover (the others weigh nothing). */
static cs_status search_sets(chooser *ch, cs_cover_sets *cs, size_t *n, size_t *cap)
{
    size_t N = cs->points;
    reached *lists = cs_calloc(ch->nc + 1, sizeof *lists);
    unsigned char *open = cs_calloc(N + 1, 1);
    for (size_t i = 0; open && i < N; i++)
        open[i] = cs->weight[i] > 0;
    listing ls = {cs, NULL, lists};
    cs_status st = lists && open ? reach_all(ch, open, ch->nc, ch->cx, ch->cy, ch->row,
                                            list_reach, &ls)
                                 : CS_ERR_NOMEM;
    size_t cost_cap = 0;
    for (size_t c = 0; st == CS_OK && c < ch->nc; c++) {
        cs->first[c] = *n;
        if (cs->base && !cs_grow((void **)&cs->cost, &cost_cap, *n + lists[c].n + 1,
                                 sizeof *cs->cost))
            st = CS_ERR_NOMEM;
        for (size_t q = 0; st == CS_OK && q < lists[c].n; q++) {
            if (cs->base)
                cs->cost[*n] = lists[c].cost[q];
            if (!append_point(cs, cap, n, lists[c].pt[q]))
                st = CS_ERR_NOMEM;
        }
    }
    for (size_t c = 0; lists && c < ch->nc; c++) {
        cs_free(lists[c].pt);
        cs_free(lists[c].cost);
    }
    cs_free(lists);
    cs_free(open);
    return st;
}

/* Each candidate's residents within reach that count (uncovered ones; for p-median
 * those it is nearer to than their walk now, with its costs), and their weights. */
static cs_status cover_sets(chooser *ch, cs_cover_sets *cs)
{
    const cs_study *s = ch->r->study;
    size_t N = s->dem.count, cap = 0, n = 0;
    bool median = ch->model == CS_MODEL_MEDIAN || ch->model == CS_MODEL_CENTER; /* costs */
    cs->candidates = ch->nc;
    cs->points = N;
    cs->first = cs_calloc(ch->nc + 1, sizeof *cs->first);
    cs->weight = cs_calloc(N + 1, sizeof *cs->weight);
    cs->base = median ? cs_calloc(N + 1, sizeof *cs->base) : NULL;
    cs->existing = ch->model == CS_MODEL_BACKUP ? cs_calloc(N + 1, 1) : NULL;
    if (!cs->first || !cs->weight || (median && !cs->base) ||
        (ch->model == CS_MODEL_BACKUP && !cs->existing))
        return CS_ERR_NOMEM;
    if (cs->existing)
        memcpy(cs->existing, ch->existing, N);
    for (size_t i = 0; i < N; i++) {
        cs->weight[i] = wanted(ch, i) ? s->dem.pop[i * ch->r->B + ch->band] : 0;
        /* p-median counts walks beyond the threshold as the threshold; to p-center
         * they are unknown */
        if (ch->model == CS_MODEL_MEDIAN)
            cs->base[i] = fmin(ch->now[i], ch->within_m);
        else if (median)
            cs->base[i] = ch->now[i] <= ch->within_m ? ch->now[i] : INFINITY;
    }
    cs_status st = ch->m == CS_M_STRAIGHT && !median ? straight_sets(ch, cs, &n, &cap)
                                                     : search_sets(ch, cs, &n, &cap);
    cs->first[ch->nc] = n;
    return st;
}

/* Residents of the band that set covering must newly cover to reach share. */
static double needed(const chooser *ch, double share, size_t j)
{
    const cs_result *r = ch->r;
    double total = r->population[cs_res_pop(r, r->A, ch->band)];
    double covered = r->covered[cs_res_cov(r, ch->m, ch->k, j, r->A, ch->band)];
    return share * total - covered;
}

/* The exact solution's sites best[0..nbest) ranked by marginal gain (greedy within
 * them; sites that add nothing are left out), as indices into the candidates. */
static cs_status rank_exact(const cs_cover_sets *cs, const size_t *best, size_t nbest,
                            size_t *chosen, double *gains, size_t *count)
{
    cs_cover_sets sub = {.candidates = nbest, .points = cs->points, .weight = cs->weight};
    size_t n = 0, cap = 0;
    cs_status st = (sub.first = cs_calloc(nbest + 1, sizeof *sub.first)) ? CS_OK : CS_ERR_NOMEM;
    for (size_t b = 0; st == CS_OK && b < nbest; b++) {
        sub.first[b] = n;
        for (size_t q = cs->first[best[b]]; st == CS_OK && q < cs->first[best[b] + 1]; q++)
            if (!append_point(&sub, &cap, &n, cs->pt[q]))
                st = CS_ERR_NOMEM;
    }
    if (st == CS_OK) {
        sub.first[nbest] = n;
        st = cs_greedy_cover(&sub, nbest, INFINITY, chosen, gains, count);
    }
    for (size_t q = 0; st == CS_OK && q < *count; q++)
        chosen[q] = best[chosen[q]];
    cs_free(sub.first);
    cs_free(sub.pt);
    return st;
}

/* The reach sets, timed as a stage of their own. */
static cs_status timed_sets(chooser *ch, cs_cover_sets *cs)
{
    double t0 = cs_stage_begin();
    cs_status st = cover_sets(ch, cs);
    cs_stage_end(ch->ctx, "suggest reach sets", t0);
    return st;
}

/* Whether the exact solve was asked for and the sets are within its sizes. */
static bool exact_fits(const chooser *ch, const cs_suggest_options *opt, size_t pairs,
                       size_t max_pairs)
{
    return opt->exact && ch->nc <= EXACT_MAX_CANDIDATES && pairs <= max_pairs;
}

/* The exact solver's time limit: the option's, 60 s without one. */
static double time_limit(const cs_suggest_options *opt)
{
    return opt->exact_time_s > 0 ? opt->exact_time_s : 60;
}

/* The exact p-median's sites listed, ranked, when it walks no more than the heuristic. */
static cs_status list_exact_median(const cs_cover_sets *cs, cs_median_solution *sol,
                                   double total, double weight, size_t *chosen, double *gains,
                                   size_t *count, cs_suggest_report *rep)
{
    rep->exact_walk = (total - sol->saving) / weight;
    rep->exact_value = rep->exact_walk;
    rep->exact_chosen = sol->count;
    if (rep->exact_walk > rep->heuristic_walk)
        return CS_OK; /* a time limit's best found, worse than the heuristic's */
    size_t m = 0;
    cs_status st = cs_median_rank(cs, sol->sites, sol->count, gains, &m);
    if (st != CS_OK)
        return st;
    memcpy(chosen, sol->sites, m * sizeof *chosen);
    *count = m;
    rep->exact_listed = 1;
    return CS_OK;
}

/* p-median: the heuristic's sites, or with opt->exact the exact solution's when it walks
 * no more; gains in metres off the band's mean walk. */
static cs_status solve_median(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                              double *gains, size_t *count, cs_suggest_report *rep)
{
    cs_cover_sets cs = {0};
    cs_status st = timed_sets(ch, &cs);
    double total = 0, weight = 0;
    for (size_t i = 0; st == CS_OK && i < cs.points; i++) {
        total += cs.weight[i] * cs.base[i];
        weight += cs.weight[i];
    }
    weight = weight > 0 ? weight : 1;
    rep->walk_before = total / weight;
    double t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_median_heuristic(&cs, opt->k, ch->ctx->threads, chosen, gains, count,
                                 &rep->swaps);
    cs_stage_end(ch->ctx, "suggest heuristic", t0);
    double saved = 0;
    for (size_t q = 0; st == CS_OK && q < *count; q++)
        saved += gains[q];
    rep->chosen = *count;
    rep->heuristic_walk = (total - saved) / weight;
    t0 = cs_stage_begin();
    double bound = st == CS_OK ? cs_median_bound(&cs, opt->k, ch->ctx->threads, saved) : NAN;
    if (st == CS_OK && isnan(bound))
        st = CS_ERR_NOMEM;
    cs_stage_end(ch->ctx, "suggest bound", t0);
    if (st == CS_OK && exact_fits(ch, opt, cs.first[ch->nc], EXACT_MAX_COST_PAIRS)) {
        cs_median_solution sol = {.sites = cs_calloc(ch->nc + 1, sizeof *sol.sites)};
        st = sol.sites ? cs_median_exact(&cs, opt->k, time_limit(opt),
                                         chosen, *count, &sol)
                       : CS_ERR_NOMEM;
        rep->exact_run = st == CS_OK;
        rep->exact_optimal = sol.optimal;
        rep->exact_seconds = sol.seconds;
        bound = fmin(bound, !isnan(sol.bound) ? sol.bound : sol.lp_bound);
        if (st == CS_OK && !isnan(sol.saving))
            st = list_exact_median(&cs, &sol, total, weight, chosen, gains, count, rep);
        cs_free(sol.sites);
    }
    if (!isnan(bound)) { /* the heuristic's walk over the least any choice could walk */
        rep->walk_bound = (total - bound) / weight;
        rep->gap = rep->walk_bound > 0
                       ? (rep->heuristic_walk - rep->walk_bound) / rep->walk_bound
                       : 0;
    }
    for (size_t q = 0; q < *count; q++)
        gains[q] /= weight;
    cs_cover_sets_free(&cs);
    return st;
}

/* p-center: the heuristic's sites, or with opt->exact the exact solution's when its
 * longest walk is no longer; gains in residents brought within that walk. */
static cs_status solve_center(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                              double *gains, size_t *count, cs_suggest_report *rep)
{
    cs_cover_sets cs = {0};
    cs_status st = timed_sets(ch, &cs);
    cs_center_solution h = {.sites = chosen}, e = {0};
    if (st == CS_OK)
        st = cs_center_solve(&cs, opt->k, 0, &h);
    rep->walk_before = h.before;
    rep->heuristic_walk = h.radius;
    rep->walk_bound = h.lower;
    rep->left_out = h.left_out;
    rep->chosen = *count = h.count;
    if (st == CS_OK && exact_fits(ch, opt, cs.first[ch->nc], EXACT_MAX_COST_PAIRS)) {
        e.sites = cs_calloc(ch->nc + 1, sizeof *e.sites);
        st = e.sites ? cs_center_solve(&cs, opt->k, time_limit(opt), &e)
                     : CS_ERR_NOMEM;
        rep->exact_run = st == CS_OK;
        rep->exact_optimal = e.decided;
        rep->exact_seconds = e.seconds;
        rep->exact_walk = rep->exact_value = e.radius;
        rep->exact_chosen = e.count;
        rep->walk_bound = fmax(rep->walk_bound, e.lower);
        if (st == CS_OK && e.radius <= h.radius && isfinite(e.radius)) {
            memcpy(chosen, e.sites, e.count * sizeof *chosen);
            *count = e.count;
            rep->exact_listed = 1;
        }
    }
    double radius = rep->exact_listed ? e.radius : h.radius;
    rep->gap = rep->walk_bound > 0 ? (h.radius - rep->walk_bound) / rep->walk_bound : 0;
    if (st == CS_OK && isinf(radius)) {
        cs_warn(ch->ctx, NULL, "--model cover brings the most of them within it",
                "%zu sites cannot bring every resident of the band within the threshold",
                opt->k);
        *count = 0;
    }
    if (st == CS_OK && *count > 0)
        st = cs_center_rank(&cs, radius, chosen, *count, gains, count);
    cs_free(e.sites);
    cs_cover_sets_free(&cs);
    return st;
}

/* Backup coverage: the heuristic's sites, or with opt->exact the exact solution's when
 * it brings no fewer to two; gains in residents brought to two. */
static cs_status solve_backup(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                              double *gains, size_t *count, cs_suggest_report *rep)
{
    cs_cover_sets cs = {0};
    cs_status st = timed_sets(ch, &cs);
    if (st == CS_OK)
        st = cs_backup_heuristic(&cs, opt->k, ch->ctx->threads, chosen, gains, count,
                                 &rep->swaps);
    rep->chosen = *count;
    rep->greedy_covered = 0;
    for (size_t q = 0; q < *count; q++)
        rep->greedy_covered += gains[q];
    if (st == CS_OK && exact_fits(ch, opt, cs.first[ch->nc], EXACT_MAX_COST_PAIRS)) {
        size_t *best = cs_calloc(ch->nc + 1, sizeof *best), n = 0;
        bool optimal = false;
        double t0 = cs_stage_begin();
        st = best ? cs_backup_exact(&cs, opt->k, time_limit(opt),
                                    best, &n, &rep->exact_value, &optimal)
                  : CS_ERR_NOMEM;
        rep->exact_seconds = cs_stage_begin() - t0;
        rep->exact_run = st == CS_OK;
        rep->exact_optimal = optimal;
        rep->exact_covered = rep->exact_value;
        rep->exact_chosen = n;
        if (rep->exact_value > 0)
            rep->gap = (rep->exact_value - rep->greedy_covered) / rep->exact_value;
        if (st == CS_OK && !isnan(rep->exact_value) &&
            rep->exact_value >= rep->greedy_covered - 1e-9) {
            st = cs_backup_rank(&cs, best, n, gains);
            memcpy(chosen, best, n * sizeof *chosen);
            *count = n;
            rep->exact_listed = 1;
        }
        cs_free(best);
    }
    cs_cover_sets_free(&cs);
    return st;
}

/* Maximal covering, or with opt->reach_share set covering: greedy's sites, or with
 * opt->exact the exact solution's when it is no worse. */
static cs_status solve_cover(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                             double *gains, size_t *count, cs_suggest_report *rep)
{
    cs_cover_sets cs = {0};
    cs_status st = cover_sets(ch, &cs);
    bool covering = !isnan(opt->reach_share);
    double need = covering ? needed(ch, opt->reach_share, ch->threshold) : INFINITY;
    size_t k = covering ? ch->nc : opt->k;
    rep->need = covering ? need : NAN;
    if (st == CS_OK && !(need > 0))
        *count = 0; /* the share is reached already */
    else if (st == CS_OK)
        st = cs_greedy_cover(&cs, k, need, chosen, gains, count);
    rep->chosen = *count;
    rep->greedy_covered = 0;
    for (size_t q = 0; q < *count; q++)
        rep->greedy_covered += gains[q];
    if (st == CS_OK && need > 0 && exact_fits(ch, opt, cs.first[ch->nc], EXACT_MAX_PAIRS)) {
        size_t *best = cs_calloc(ch->nc + 1, sizeof *best), nbest = 0, m = 0;
        size_t *ranked = cs_calloc(ch->nc + 1, sizeof *ranked);
        double *rgains = cs_calloc(ch->nc + 1, sizeof *rgains);
        bool optimal = false;
        double t0 = cs_stage_begin();
        st = best && ranked && rgains
                 ? cs_exact_cover(&cs, opt->k, need, time_limit(opt), best, &nbest,
                                  &rep->exact_value, &optimal)
                 : CS_ERR_NOMEM;
        rep->exact_run = st == CS_OK;
        rep->exact_optimal = optimal;
        rep->exact_seconds = cs_stage_begin() - t0;
        if (!covering && rep->exact_value > 0)
            rep->gap = (rep->exact_value - rep->greedy_covered) / rep->exact_value;
        if (st == CS_OK && !isnan(rep->exact_value))
            st = rank_exact(&cs, best, nbest, ranked, rgains, &m);
        if (st == CS_OK && !isnan(rep->exact_value)) {
            rep->exact_chosen = m;
            rep->exact_covered = 0;
            for (size_t q = 0; q < m; q++)
                rep->exact_covered += rgains[q];
        }
        /* listed: the exact solution unless it is worse (a time limit's best found) */
        if (st == CS_OK && !isnan(rep->exact_value) &&
            (covering ? m <= *count && rep->exact_covered >= need - 1e-9 * fabs(need)
                      : rep->exact_covered >= rep->greedy_covered - 1e-9)) {
            rep->exact_listed = 1;
            memcpy(chosen, ranked, m * sizeof *ranked);
            memcpy(gains, rgains, m * sizeof *rgains);
            *count = m;
        }
        cs_free(best);
        cs_free(ranked);
        cs_free(rgains);
    }
    cs_cover_sets_free(&cs);
    return st;
}

/* ---------------------------------------------------- capacitated models */

/* The room of a candidate without a capacity of its own; NaN: none given. */
static double site_room(const cs_suggest_options *opt)
{
    return opt->site_capacity > 0 ? opt->site_capacity : NAN;
}

/* The room of candidate c: its own capacity, else site_room. */
static double candidate_room(const chooser *ch, const cs_suggest_options *opt, size_t c)
{
    size_t given = ch->keep ? ch->keep[c] : c;
    double own = opt->candidates ? opt->candidates[given].capacity : NAN;
    return !isnan(own) ? own : site_room(opt);
}

/* The existing facilities of the kind (positions, rows, room) into the sets. */
static cs_status existing_facilities(chooser *ch, double **fx, double **fy, long **row)
{
    const cs_study *s = ch->r->study;
    size_t cap = (size_t)s->settings.kinds[ch->k].load_capacity, E = 0;
    cs_status st = kind_facilities(ch, ch->nc, fx, fy, row, &E);
    ch->facility = cs_calloc(E + 1, sizeof *ch->facility);
    ch->sets.room = cs_calloc(E + ch->nc + 1, sizeof *ch->sets.room);
    if (st == CS_OK && (!ch->facility || !ch->sets.room))
        st = CS_ERR_NOMEM;
    for (size_t e = 0; st == CS_OK && e < E; e++) {
        ch->facility[e] = (size_t)(*row)[e];
        ch->sets.room[e] = s->fac.capacity[ch->facility[e] * s->fac.capacity_count + cap];
    }
    ch->sets.existing = E;
    return st;
}

/*
 * The capacitated instance: each resident's demand (band x load_rate), the existing
 * facilities of the kind and the candidates with their room, and every pair within the
 * threshold (one reach from each facility and candidate).
 */
static cs_status capacity_sets(chooser *ch, const cs_suggest_options *opt)
{
    const cs_study *s = ch->r->study;
    cs_capacity_sets *cs = &ch->sets;
    size_t N = s->dem.count;
    double *fx = NULL, *fy = NULL;
    long *row = NULL;
    cs->points = N;
    cs->candidates = ch->nc;
    cs->threshold_m = ch->within_m;
    cs->median = ch->model == CS_MODEL_MEDIAN;
    cs->demand = cs_calloc(N + 1, sizeof *cs->demand);
    unsigned char *keep = cs_calloc(N + 1, 1);
    cs_status st = cs->demand && keep ? existing_facilities(ch, &fx, &fy, &row) : CS_ERR_NOMEM;
    double rate = s->settings.kinds[ch->k].load_rate;
    for (size_t i = 0; st == CS_OK && i < N; i++) {
        cs->demand[i] = wanted(ch, i) ? s->dem.pop[i * ch->r->B + ch->band] * rate : 0;
        keep[i] = cs->demand[i] > 0;
    }
    size_t E = cs->existing, F = E + ch->nc;
    for (size_t c = 0; st == CS_OK && c < ch->nc; c++) {
        fx[E + c] = ch->cx[c];
        fy[E + c] = ch->cy[c];
        row[E + c] = ch->row ? ch->row[c] : -1;
        cs->room[E + c] = candidate_room(ch, opt, c);
    }
    reached *lists = st == CS_OK ? cs_calloc(F + 1, sizeof *lists) : NULL;
    listing ls = {NULL, cs->demand, lists};
    if (st == CS_OK)
        st = lists ? reach_all(ch, keep, F, fx, fy, row, list_reach, &ls) : CS_ERR_NOMEM;
    size_t n = 0;
    for (size_t f = 0; st == CS_OK && f < F; f++)
        n += lists[f].n;
    cs->first = st == CS_OK ? cs_calloc(F + 1, sizeof *cs->first) : NULL;
    cs->pt = st == CS_OK ? cs_calloc(n + 1, sizeof *cs->pt) : NULL;
    cs->cost = st == CS_OK ? cs_calloc(n + 1, sizeof *cs->cost) : NULL;
    if (st == CS_OK && (!cs->first || !cs->pt || !cs->cost))
        st = CS_ERR_NOMEM;
    for (size_t f = 0, q = 0; st == CS_OK && f < F; f++) {
        cs->first[f] = q;
        if (lists[f].n) {
            memcpy(cs->pt + q, lists[f].pt, lists[f].n * sizeof *cs->pt);
            memcpy(cs->cost + q, lists[f].cost, lists[f].n * sizeof *cs->cost);
        }
        q += lists[f].n;
        cs->first[f + 1] = q;
    }
    for (size_t f = 0; lists && f < F; f++) {
        cs_free(lists[f].pt);
        cs_free(lists[f].cost);
    }
    cs_free(lists);
    cs_free(keep);
    cs_free(fx);
    cs_free(fy);
    cs_free(row);
    return st;
}

/* The capacitated instance's size against opt->capacitated_max_pairs (default
 * CAPACITATED_MAX_PAIRS): CS_ERR_STUDY, saying how to make it smaller, beyond it. */
static cs_status check_pairs(chooser *ch, const cs_suggest_options *opt, size_t pairs)
{
    size_t most = opt->capacitated_max_pairs ? opt->capacitated_max_pairs
                                             : CAPACITATED_MAX_PAIRS;
    if (pairs <= most)
        return CS_OK;
    return cs_error(ch->ctx, CS_ERR_STUDY, NULL, "give fewer candidates (--candidates), a "
                    "shorter threshold (--within), or a smaller study area",
                    "--capacitated: %zu pairs of demand points and facilities or candidates "
                    "within the threshold, more than the %zu whose assignment careshed "
                    "solves (its time grows faster than the pairs)", pairs, most);
}

/* The exact capacitated solution's sites listed (ranked) when they cost no more than
 * the heuristic's. */
static cs_status capacity_exact(chooser *ch, const cs_suggest_options *opt, double after,
                                size_t *chosen, double *gains, size_t *count,
                                cs_suggest_report *rep, double *cost)
{
    size_t *best = cs_calloc(ch->nc + 1, sizeof *best), n = 0;
    bool optimal = false;
    double t0 = cs_stage_begin();
    cs_status st = best ? cs_capacity_exact(&ch->sets, opt->k, time_limit(opt), best, &n, cost,
                                            &optimal)
                        : CS_ERR_NOMEM;
    rep->exact_run = st == CS_OK;
    rep->exact_optimal = optimal;
    rep->exact_seconds = cs_stage_begin() - t0;
    if (st == CS_OK && !isnan(*cost) && *cost <= after + 1e-9 * fabs(after)) {
        st = cs_capacity_rank(&ch->sets, best, n, gains, &n);
        memcpy(chosen, best, n * sizeof *chosen);
        *count = n;
        rep->exact_chosen = n;
        rep->exact_listed = 1;
    }
    cs_free(best);
    return st;
}

/* Capacitated covering or p-median: the heuristic's sites, or with opt->exact GLPK's
 * when they cost no more; the listed sites' assignment kept in ch->flow. Gains: units
 * newly served (covering), metres off the mean walk of a unit (p-median). */
static cs_status solve_capacitated(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                                   double *gains, size_t *count, cs_suggest_report *rep)
{
    double t0 = cs_stage_begin();
    cs_status st = capacity_sets(ch, opt);
    cs_stage_end(ch->ctx, "suggest reach sets", t0);
    const cs_capacity_sets *cs = &ch->sets;
    if (st == CS_OK)
        st = check_pairs(ch, opt, cs->first[cs->existing + cs->candidates]);
    cs_capacity_flow first = {0};
    double exact = NAN, D = 0;
    for (size_t i = 0; st == CS_OK && i < cs->points; i++)
        D += cs->demand[i];
    rep->capacitated = 1;
    rep->demand = D;
    t0 = cs_stage_begin();
    if (st == CS_OK) /* the listed sites' assignment: the heuristic's, unless exact's */
        st = cs_capacity_heuristic(cs, opt->k, chosen, gains, count, &rep->swaps, &first,
                                   &ch->flow);
    cs_stage_end(ch->ctx, "suggest heuristic", t0);
    double before = first.cost, after = ch->flow.cost;
    rep->chosen = *count;
    if (st == CS_OK && exact_fits(ch, opt, cs->first[cs->existing + cs->candidates],
                                  EXACT_MAX_COST_PAIRS))
        st = capacity_exact(ch, opt, after, chosen, gains, count, rep, &exact);
    unsigned char *open = rep->exact_listed ? cs_calloc(ch->nc + 1, 1) : NULL;
    if (st == CS_OK && rep->exact_listed && !open)
        st = CS_ERR_NOMEM;
    for (size_t q = 0; open && q < *count; q++)
        open[chosen[q]] = 1;
    if (st == CS_OK && open)
        st = cs_capacity_assign(cs, open, &ch->flow);
    rep->served_before = first.served;
    rep->served_after = ch->flow.served;
    cs_free(open);
    cs_capacity_flow_free(&first);
    double per = D > 0 ? D : 1;
    if (cs->median) {
        rep->walk_before = before / per;
        rep->heuristic_walk = after / per;
        rep->exact_walk = exact / per;
        if (rep->exact_optimal)
            rep->walk_bound = rep->exact_walk;
        if (rep->exact_walk > 0)
            rep->gap = (rep->heuristic_walk - rep->exact_walk) / rep->exact_walk;
        for (size_t q = 0; q < *count; q++)
            gains[q] /= per;
    } else {
        rep->greedy_covered = before - after;
        rep->exact_covered = before - exact;
        rep->exact_value = rep->exact_covered;
        if (rep->exact_covered > 0)
            rep->gap = (rep->exact_covered - rep->greedy_covered) / rep->exact_covered;
    }
    return st;
}

typedef cs_status (*solver)(chooser *ch, const cs_suggest_options *opt, size_t *chosen,
                            double *gains, size_t *count, cs_suggest_report *rep);
/* Each model's solver, by cs_site_model. */
static const solver solvers[] = {[CS_MODEL_COVER] = solve_cover,
                                 [CS_MODEL_MEDIAN] = solve_median,
                                 [CS_MODEL_CENTER] = solve_center,
                                 [CS_MODEL_BACKUP] = solve_backup};

/* The model's sites into *chosen (new) with their gains (*gains, new), *count of them. */
static cs_status solve(chooser *ch, const cs_suggest_options *opt, size_t **chosen,
                       double **gains, size_t *count, cs_suggest_report *rep)
{
    rep->exact_value = rep->gap = rep->exact_covered = rep->need = NAN;
    rep->greedy_covered = rep->walk_before = rep->heuristic_walk = NAN;
    rep->exact_walk = rep->walk_bound = NAN;
    rep->candidates = ch->nc;
    rep->model = ch->model;
    *chosen = cs_calloc(ch->nc + 1, sizeof **chosen);
    *gains = cs_calloc(ch->nc + 1, sizeof **gains);
    if (!*chosen || !*gains)
        return CS_ERR_NOMEM;
    return (ch->capacitated ? solve_capacitated : solvers[ch->model])(ch, opt, *chosen, *gains,
                                                                      count, rep);
}

/* The chosen candidates as proposals (lon/lat), evaluated together and alone. */
static cs_status evaluate_chosen(chooser *ch, const cs_suggest_options *opt,
                                 const size_t *chosen, const double *gains, size_t n,
                                 cs_site **out)
{
    const cs_study *s = ch->r->study;
    cs_site_input *in = cs_calloc(n + 1, sizeof *in);
    char (*ids)[32] = cs_calloc(n + 1, sizeof *ids);
    cs_transform *t = NULL;
    cs_status st = in && ids ? cs_transform_kept(ch->ctx, s->settings.crs, "EPSG:4326", NULL, &t)
                             : cs_nomem(ch->ctx);
    for (size_t q = 0; st == CS_OK && q < n; q++) {
        size_t c = ch->keep ? ch->keep[chosen[q]] : chosen[q];
        const cs_site_input *given = opt->candidates ? &opt->candidates[c] : NULL;
        double x = ch->cx[chosen[q]], y = ch->cy[chosen[q]];
        cs_transform_apply(t, &x, &y, 1);
        snprintf(ids[q], sizeof ids[q], "S%zu", q + 1);
        double capacity = given ? given->capacity : NAN;
        if (ch->capacitated && isnan(capacity))
            capacity = site_room(opt);
        in[q] = (cs_site_input){given && given->id ? given->id : ids[q], x, y, NULL,
                                s->settings.kinds[ch->k].id, capacity,
                                given ? given->feature : 0};
    }
    if (st == CS_OK && n > 0)
        st = cs_site_evaluate(ch->ctx, ch->r, in, n, NULL, out);
    if (st == CS_OK && n > 0) {
        (*out)->gain = cs_calloc(n, sizeof *(*out)->gain);
        if (!(*out)->gain)
            st = CS_ERR_NOMEM;
        for (size_t q = 0; st == CS_OK && q < n; q++)
            (*out)->gain[q] = gains[q];
    }
    cs_free(in);
    cs_free(ids);
    return st;
}

/* assignment.csv of the listed sites into their site. */
static cs_status write_assignment(chooser *ch, const size_t *chosen, size_t n, cs_site **out)
{
    const cs_study *s = ch->r->study;
    const char **ids = cs_calloc(n + 1, sizeof *ids);
    if (!ids)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < n; q++)
        ids[q] = (*out)->proposals[q].id;
    const cs_kind *kind = &s->settings.kinds[ch->k];
    cs_status st = cs_assignment_csv(ch->ctx, s, s->settings.capacities[kind->load_capacity].id,
                                     &ch->sets, &ch->flow, ch->facility, chosen, ids, n,
                                     &(*out)->assignment);
    cs_free(ids);
    return st;
}

/* Given candidates into the working CRS (placed as proposals are, with their errors). */
static cs_status place_candidates(chooser *ch, const cs_suggest_options *opt)
{
    cs_site *placed = NULL;
    ch->cx = cs_calloc(opt->candidate_count + 1, sizeof *ch->cx);
    ch->cy = cs_calloc(opt->candidate_count + 1, sizeof *ch->cy);
    ch->row = cs_calloc(opt->candidate_count + 1, sizeof *ch->row);
    if (!ch->cx || !ch->cy || !ch->row)
        return CS_ERR_NOMEM;
    cs_status st = cs_site_place(ch->ctx, ch->r, opt->candidates, opt->candidate_count, NULL,
                                 "candidate", &placed);
    for (size_t c = 0; st == CS_OK && c < opt->candidate_count; c++) {
        ch->cx[c] = placed->proposals[c].x;
        ch->cy[c] = placed->proposals[c].y;
        ch->row[c] = placed->proposals[c].row;
    }
    ch->nc = st == CS_OK ? opt->candidate_count : 0;
    cs_site_destroy(placed);
    return st;
}

/* Candidates inside an exclusion polygon are left out (their order kept); given
 * candidates keep their numbers through ch->keep. */
static cs_status exclude_candidates(chooser *ch, const cs_suggest_options *opt,
                                    size_t *excluded)
{
    cs_rings zones = {0};
    cs_area_index *ix = NULL;
    cs_status st = cs_read_zones(ch->ctx, opt->exclude, opt->exclude_crs,
                                 ch->r->study->settings.crs, &zones);
    if (st == CS_OK && zones.area_count > 0)
        st = cs_area_index_create(&zones, &ix);
    ch->keep = st == CS_OK ? cs_calloc(ch->nc + 1, sizeof *ch->keep) : NULL;
    if (st == CS_OK && !ch->keep)
        st = CS_ERR_NOMEM;
    size_t n = 0;
    for (size_t c = 0; st == CS_OK && c < ch->nc; c++) {
        if (ix && cs_area_index_locate(ix, ch->cx[c], ch->cy[c]) >= 0)
            continue;
        ch->cx[n] = ch->cx[c];
        ch->cy[n] = ch->cy[c];
        if (ch->row)
            ch->row[n] = ch->row[c];
        ch->keep[n++] = c;
    }
    if (st == CS_OK) {
        *excluded = ch->nc - n;
        ch->nc = n;
    }
    cs_area_index_destroy(ix);
    cs_rings_free(&zones);
    return st;
}

/* A kind's thresholds as the study gives them ("5, 10, 15 min" or "300, 500 m"). */
static const char *threshold_list(const cs_kind *kind, char *buf, size_t size)
{
    size_t n = 0;
    bool metres = kind->threshold_count > 0 && isnan(kind->threshold_min[0]);
    buf[0] = '\0';
    for (size_t t = 0; t < kind->threshold_count && n < size; t++)
        n += (size_t)snprintf(buf + n, size - n, "%s%g", t ? ", " : "",
                              metres ? kind->threshold_m[t] : kind->threshold_min[t]);
    if (n < size)
        snprintf(buf + n, size - n, metres ? " m" : " min");
    return buf;
}

/* The band the options name (underserved.band without one) into *band; CS_ERR_STUDY
 * for an unknown one. */
static cs_status check_band(cs_context *ctx, const cs_study *s, const char *id, size_t *band)
{
    *band = (size_t)s->settings.patch_band;
    char list[512];
    size_t n = 0;
    list[0] = '\0';
    for (size_t b = 0; id && b < s->settings.band_count; b++) {
        if (!strcmp(s->settings.band_names[b], id))
            return *band = b, CS_OK;
        if (n < sizeof list)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", b ? ", " : "",
                                  s->settings.band_names[b]);
    }
    if (!id)
        return CS_OK;
    char hint[600];
    snprintf(hint, sizeof hint, "give one of the study's bands: %s", list);
    return cs_error(ctx, CS_ERR_STUDY, NULL, hint, "unknown band '%s' to suggest sites for", id);
}

/* The capacitated models' own conditions: covering or p-median choosing K sites, a kind
 * with a load capacity, a room for candidates without one. */
static cs_status check_capacitated(cs_context *ctx, const cs_study *s,
                                   const cs_suggest_options *opt, const cs_kind *kind)
{
    char hint[300];
    if (opt->model != CS_MODEL_COVER && opt->model != CS_MODEL_MEDIAN)
        return cs_error(ctx, CS_ERR_STUDY, NULL, "give --model cover or p-median with "
                        "--capacitated", "--capacitated applies to covering and p-median, "
                        "not to %s", cs_site_model_name(opt->model));
    if (!isnan(opt->reach_share))
        return cs_error(ctx, CS_ERR_STUDY, NULL, "give --suggest K with --capacitated",
                        "--reach-share asks for set covering; --capacitated chooses K sites");
    if (kind->load_capacity < 0) {
        snprintf(hint, sizeof hint, "set kinds.%s.load_capacity (with load_band and "
                 "load_rate) in the study file", kind->id);
        return cs_error(ctx, CS_ERR_STUDY, NULL, hint, "kind '%s' has no capacity to fill: "
                        "--capacitated needs one", kind->id);
    }
    const char *unit = s->settings.capacities[kind->load_capacity].unit;
    for (size_t c = 0; c < opt->candidate_count && isnan(site_room(opt)); c++)
        if (isnan(opt->candidates[c].capacity)) {
            snprintf(hint, sizeof hint, "give every candidate a capacity (%s), or "
                     "--site-capacity N for those without", unit ? unit : "");
            return cs_error(ctx, CS_ERR_INPUT, NULL, hint,
                            "candidate '%s' (feature %ld) has no capacity for --capacitated",
                            opt->candidates[c].id ? opt->candidates[c].id : "",
                            opt->candidates[c].feature);
        }
    if (!opt->candidates && isnan(site_room(opt))) {
        snprintf(hint, sizeof hint, "give --site-capacity N (%s of each new site), or "
                 "--candidates FILE with a capacity each", unit ? unit : "");
        return cs_error(ctx, CS_ERR_STUDY, NULL, hint, "--capacitated needs the room of "
                        "the sites it generates");
    }
    return CS_OK;
}

/* The kind (*k) and threshold (*j) the options name; CS_ERR_STUDY, naming the option,
 * when they do not fit the study. */
static cs_status check_options(cs_context *ctx, const cs_result *r,
                               const cs_suggest_options *opt, long *k, size_t *j)
{
    const cs_study *s = r->study;
    char list[512];
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < s->settings.kind_count; i++) {
        if (opt->kind && !strcmp(s->settings.kinds[i].id, opt->kind))
            *k = (long)i;
        if (n < sizeof list)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                                  s->settings.kinds[i].id);
    }
    char hint[700];
    snprintf(hint, sizeof hint, "give --kind one of the study's kinds: %s", list);
    if (*k < 0)
        return cs_error(ctx, CS_ERR_STUDY, NULL, hint,
                        "unknown kind '%s' to suggest sites for (--kind)",
                        opt->kind ? opt->kind : "");
    const cs_kind *kind = &s->settings.kinds[*k];
    if (kind->threshold_count == 0)
        return cs_error(ctx, CS_ERR_STUDY, NULL, "give the kind thresholds in the study file",
                        "kind '%s' has no thresholds to cover within", kind->id);
    bool by_min = !isnan(opt->within_min), by_m = opt->within_m > 0;
    *j = kind->threshold_count - 1;
    bool found = !by_min && !by_m;
    for (size_t t = 0; !found && t < kind->threshold_count; t++)
        if (by_min ? fabs(kind->threshold_min[t] - opt->within_min) < 1e-9
                   : fabs(kind->threshold_m[t] - opt->within_m) < 1e-6 * opt->within_m)
            *j = t, found = true;
    if (!found) {
        bool metres = isnan(kind->threshold_min[0]);
        snprintf(hint, sizeof hint, "give --within one of the kind's thresholds: %s%s",
                 threshold_list(kind, list, sizeof list),
                 metres ? " (metres with an m: --within 500m)" : "");
        return cs_error(ctx, CS_ERR_STUDY, NULL, hint,
                        "--within %g %s is not a threshold of kind '%s'",
                        by_min ? opt->within_min : opt->within_m, by_min ? "minutes" : "m",
                        kind->id);
    }
    if (opt->model != CS_MODEL_COVER && !isnan(opt->reach_share)) {
        snprintf(hint, sizeof hint, "give --suggest K with --model %s",
                 cs_site_model_name(opt->model));
        return cs_error(ctx, CS_ERR_STUDY, NULL, hint,
                        "--reach-share asks for set covering; %s chooses K sites",
                        cs_site_model_name(opt->model));
    }
    if (opt->capacitated) {
        cs_status st = check_capacitated(ctx, s, opt, kind);
        if (st != CS_OK)
            return st;
    }
    if (isnan(opt->reach_share) ? opt->k == 0 : !(opt->reach_share > 0 && opt->reach_share <= 1))
        return cs_error(ctx, CS_ERR_STUDY, NULL, "give --suggest K > 0, or --reach-share "
                        "in (0, 1]", "nothing to choose");
    return CS_OK;
}

cs_status cs_site_suggest(cs_context *ctx, const cs_result *r, const cs_suggest_options *opt,
                          cs_site **out, cs_suggest_report *report)
{
    if (!ctx || !r || !opt || !out || !report || !cs_site_model_name(opt->model) ||
        r->network_freed)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    memset(report, 0, sizeof *report);
    const cs_study *s = r->study;
    chooser ch = {.ctx = ctx, .r = r, .model = opt->model, .capacitated = opt->capacitated};
    long k = -1;
    size_t j = 0;
    cs_status st = check_options(ctx, r, opt, &k, &j);
    if (st == CS_OK)
        st = check_band(ctx, s, opt->band, &ch.band);
    if (st != CS_OK)
        return st;
    const cs_kind *kind = &s->settings.kinds[k];
    if (ch.capacitated && !opt->band)
        ch.band = (size_t)kind->load_band;
    ch.k = (size_t)k;
    ch.m = cs_res_main(r, ch.k);
    ch.threshold = j;
    ch.within_m = kind->threshold_m[j];
    ch.now = r->dist_m[cs_res_field(r, ch.m, ch.k)];
    if (ch.m == CS_M_MATRIX && !opt->candidates)
        return cs_error(ctx, CS_ERR_STUDY, NULL, "give the candidates with --candidates "
                        "FILE, with the ids the matrix's to column uses",
                        "kind '%s' is measured by the cost matrix, which has costs only for "
                        "the sites it names", kind->id);
    size_t *chosen = NULL, count = 0;
    double *gains = NULL;
    double t0 = cs_stage_begin();
    cs_progress(ctx, "suggest", 0);
    if (opt->model == CS_MODEL_BACKUP)
        st = existing_covers(&ch);
    if (st == CS_OK)
        st = opt->candidates ? place_candidates(&ch, opt) : generate_candidates(&ch);
    if (st == CS_OK && opt->exclude)
        st = exclude_candidates(&ch, opt, &report->excluded);
    if (st == CS_OK)
        st = solve(&ch, opt, &chosen, &gains, &count, report);
    cs_progress(ctx, "suggest", 1);
    cs_stage_end(ctx, "suggest", t0);
    if (st == CS_OK && count == 0 &&
        (opt->model == CS_MODEL_COVER || opt->model == CS_MODEL_BACKUP))
        cs_warn(ctx, NULL, NULL, "no site is needed or none of the %zu candidates adds "
                "coverage", ch.nc);
    else if (st == CS_OK && count == 0 && opt->model == CS_MODEL_MEDIAN)
        cs_warn(ctx, NULL, NULL, "none of the %zu candidates shortens a walk", ch.nc);
    if (st == CS_OK)
        st = evaluate_chosen(&ch, opt, chosen, gains, count, out);
    if (st == CS_OK && ch.capacitated && count > 0)
        st = write_assignment(&ch, chosen, count, out);
    if (st == CS_OK && *out)
        (*out)->suggest = *report;
    cs_free(chosen);
    cs_free(gains);
    cs_free(ch.cx);
    cs_free(ch.cy);
    cs_free(ch.row);
    cs_free(ch.keep);
    cs_free(ch.existing);
    cs_capacity_sets_free(&ch.sets);
    cs_capacity_flow_free(&ch.flow);
    cs_free(ch.facility);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    return st;
}
