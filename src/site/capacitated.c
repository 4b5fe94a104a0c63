/*
 * capacitated.c — capacitated covering and p-median: sites with room for so many
 * (beds, meals, places), residents who need so much (band x rate), each resident's
 * demand split among the facilities within the threshold that have room.
 *
 * For a set of open facilities (the existing ones and the sites chosen) the best
 * assignment is a transportation problem, solved exactly by the network simplex
 * (site/flow.c): demand goes to facilities within reach up to their room, and what is
 * left is unserved. Covering minimises the unserved demand (maximises what is served
 * within the threshold); p-median minimises the total walk of the demand, a unit left
 * unserved counting as the threshold (as uncapacitated p-median counts walks beyond
 * it). Demand and room are counted in thousandths of a unit and walks in centimetres,
 * so every flow is exact.
 *
 * The heuristic adds sites one at a time. A candidate's worth is first estimated from
 * the assignment now, by filling its room with what it would take over at the largest
 * saving a unit (unserved demand, or for p-median demand that walks farther now): a
 * feasible change, so never more than its true gain. The best few by that estimate are
 * then solved exactly with the candidate added and the best true gain is taken; the
 * estimate misses what a site frees at its neighbours. Then single swaps of a chosen
 * site for a candidate are tried the same way while one improves. Each of these solves
 * starts from the solved state with one site opened or closed (site/flow.c), so it
 * makes only the pivots the change calls for. The exact answer is
 * GLPK's branch and cut on the mixed-integer programme with the strong constraints
 * x_ic <= d_i y_c.
 */
#include "site/flow.h"
#include "site/suggest.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_PARTS 1000.0 /* demand and room in thousandths of a unit */
#define COST_PARTS 100.0  /* walks in centimetres */
#define SHORTLIST 8       /* candidates solved exactly at each step of the heuristic */

void cs_capacity_sets_free(cs_capacity_sets *c)
{
    cs_free(c->demand);
    cs_free(c->room);
    cs_free(c->first);
    cs_free(c->pt);
    cs_free(c->cost);
    memset(c, 0, sizeof *c);
}

void cs_capacity_flow_free(cs_capacity_flow *f)
{
    cs_free(f->units);
    cs_free(f->unserved);
    memset(f, 0, sizeof *f);
}

static int64_t parts(double v, double scale)
{
    return (int64_t)llround(v * scale);
}

/* The transportation problem of the open facilities, by source (the points with
 * demand); arc[a] is the pair index q it stands for. */
typedef struct problem {
    cs_transport t;
    size_t *src_point; /* each source's point */
    size_t *arc;       /* each arc's pair */
    int64_t *supply, *bypass, *capacity, *cost, *flow, *unserved;
    size_t *first;
    uint32_t *to;
} problem;

static void problem_free(problem *p)
{
    cs_free(p->src_point);
    cs_free(p->arc);
    cs_free(p->supply);
    cs_free(p->bypass);
    cs_free(p->capacity);
    cs_free(p->cost);
    cs_free(p->flow);
    cs_free(p->unserved);
    cs_free(p->first);
    cs_free(p->to);
}

static bool is_open(const cs_capacity_sets *cs, const unsigned char *open, size_t f)
{
    return f < cs->existing || (open && open[f - cs->existing]);
}

/* Build the problem of the facilities open (existing ones and candidates open[c]). */
static cs_status build(const cs_capacity_sets *cs, const unsigned char *open, problem *p)
{
    size_t N = cs->points, Fa = cs->existing + cs->candidates, S = 0, F = 0, P = 0;
    size_t *source = cs_calloc(N + 1, sizeof *source); /* each point's source + 1 */
    uint32_t *sink = cs_calloc(Fa + 1, sizeof *sink);
    if (!source || !sink) {
        cs_free(source);
        cs_free(sink);
        return CS_ERR_NOMEM;
    }
    for (size_t i = 0; i < N; i++)
        if (parts(cs->demand[i], UNIT_PARTS) > 0)
            source[i] = ++S;
    for (size_t f = 0; f < Fa; f++)
        if (is_open(cs, open, f)) {
            sink[f] = (uint32_t)F++;
            for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++)
                P += source[cs->pt[q]] > 0;
        }
    p->src_point = cs_calloc(S + 1, sizeof *p->src_point);
    p->arc = cs_calloc(P + 1, sizeof *p->arc);
    p->supply = cs_calloc(S + 1, sizeof *p->supply);
    p->bypass = cs_calloc(S + 1, sizeof *p->bypass);
    p->capacity = cs_calloc(F + 1, sizeof *p->capacity);
    p->cost = cs_calloc(P + 1, sizeof *p->cost);
    p->flow = cs_calloc(P + 1, sizeof *p->flow);
    p->unserved = cs_calloc(S + 1, sizeof *p->unserved);
    p->first = cs_calloc(S + 2, sizeof *p->first);
    p->to = cs_calloc(P + 1, sizeof *p->to);
    cs_status st = p->src_point && p->arc && p->supply && p->bypass && p->capacity &&
                           p->cost && p->flow && p->unserved && p->first && p->to
                       ? CS_OK
                       : CS_ERR_NOMEM;
    int64_t bypass = cs->median ? parts(cs->threshold_m, COST_PARTS) : 1;
    for (size_t i = 0; st == CS_OK && i < N; i++)
        if (source[i]) {
            p->src_point[source[i] - 1] = i;
            p->supply[source[i] - 1] = parts(cs->demand[i], UNIT_PARTS);
            p->bypass[source[i] - 1] = bypass;
        }
    /* arcs by source: source s - 1's counted into first[s + 1], summed so that first[s]
       is where its arcs start, then placed facility by facility */
    for (size_t f = 0; st == CS_OK && f < Fa; f++)
        if (is_open(cs, open, f)) {
            p->capacity[sink[f]] = parts(cs->room[f], UNIT_PARTS);
            for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++)
                if (source[cs->pt[q]])
                    p->first[source[cs->pt[q]] + 1]++;
        }
    for (size_t s = 0; st == CS_OK && s <= S; s++)
        p->first[s + 1] += p->first[s];
    for (size_t f = 0; st == CS_OK && f < Fa; f++)
        if (is_open(cs, open, f))
            for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
                size_t s = source[cs->pt[q]];
                if (!s)
                    continue;
                size_t a = p->first[s]++; /* ends as source s - 1's end: s's start */
                p->arc[a] = q;
                p->to[a] = sink[f];
                p->cost[a] = cs->median ? parts(cs->cost[q], COST_PARTS) : 0;
            }
    p->t = (cs_transport){S, F, p->supply, p->bypass, p->capacity, p->cost, p->first, p->to};
    cs_free(source);
    cs_free(sink);
    return st;
}

/* The problem's flows (p->flow, p->unserved) in units by pair and point into out, with
 * what is served, left and walked, and the cost. */
/* out's arrays, made on its first use: false without memory. */
static bool flow_room(const cs_capacity_sets *cs, cs_capacity_flow *out)
{
    size_t N = cs->points, P = cs->first[cs->existing + cs->candidates];
    if (!out->units) {
        out->units = cs_calloc(P + 1, sizeof *out->units);
        out->unserved = cs_calloc(N + 1, sizeof *out->unserved);
    }
    return out->units && out->unserved;
}

static cs_status extract(const cs_capacity_sets *cs, const problem *p, cs_capacity_flow *out)
{
    if (!flow_room(cs, out))
        return CS_ERR_NOMEM;
    size_t N = cs->points, P = cs->first[cs->existing + cs->candidates];
    memset(out->units, 0, (P + 1) * sizeof *out->units);
    memset(out->unserved, 0, (N + 1) * sizeof *out->unserved);
    out->served = out->walk = out->left = 0;
    for (size_t s = 0; s < p->t.sources; s++) {
        size_t i = p->src_point[s];
        out->unserved[i] = (double)p->unserved[s] / UNIT_PARTS;
        out->left += out->unserved[i];
        out->walk += out->unserved[i] * cs->threshold_m;
        for (size_t a = p->first[s]; a < p->first[s + 1]; a++) {
            double u = (double)p->flow[a] / UNIT_PARTS;
            out->units[p->arc[a]] = u;
            out->served += u;
            out->walk += u * cs->cost[p->arc[a]];
        }
    }
    out->cost = cs->median ? out->walk : out->left;
    return CS_OK;
}

cs_status cs_capacity_assign(const cs_capacity_sets *cs, const unsigned char *open,
                             cs_capacity_flow *out)
{
    problem p = {0};
    double ignored;
    cs_status st = build(cs, open, &p);
    if (st == CS_OK)
        st = cs_transport_solve(&p.t, p.flow, p.unserved, &ignored);
    if (st == CS_OK)
        st = extract(cs, &p, out);
    problem_free(&p);
    return st;
}

/* ------------------------------------------------------------ the estimate */

/* A saving a unit and the units it applies to. */
typedef struct item {
    double saving, units;
} item;

static int by_saving(const void *a, const void *b)
{
    double x = ((const item *)a)->saving, y = ((const item *)b)->saving;
    return (x < y) - (x > y);
}

/* Each point's served pieces now (walk and units), by point: piece[at[i] .. at[i+1]). */
typedef struct pieces {
    size_t *at;
    item *piece; /* saving holds the walk */
} pieces;

static cs_status make_pieces(const cs_capacity_sets *cs, const cs_capacity_flow *fl, pieces *pc)
{
    size_t N = cs->points, Fa = cs->existing + cs->candidates;
    pc->at = cs_calloc(N + 2, sizeof *pc->at);
    size_t n = 0;
    for (size_t q = 0; q < cs->first[Fa]; q++)
        n += fl->units[q] > 0;
    pc->piece = cs_calloc(n + 1, sizeof *pc->piece);
    if (!pc->at || !pc->piece)
        return CS_ERR_NOMEM;
    for (size_t f = 0; f < Fa; f++)
        for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++)
            pc->at[cs->pt[q] + 2] += fl->units[q] > 0;
    for (size_t i = 0; i < N; i++)
        pc->at[i + 2] += pc->at[i + 1];
    for (size_t f = 0; f < Fa; f++)
        for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++)
            if (fl->units[q] > 0)
                pc->piece[pc->at[cs->pt[q] + 1]++] = (item){cs->cost[q], fl->units[q]};
    return CS_OK;
}

static void pieces_free(pieces *pc)
{
    cs_free(pc->at);
    cs_free(pc->piece);
}

/* What candidate c could save by filling its room at the largest savings a unit. */
static double estimate(const cs_capacity_sets *cs, const cs_capacity_flow *fl,
                       const pieces *pc, size_t c, item **buf, size_t *cap)
{
    size_t f = cs->existing + c, n = 0;
    for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
        size_t i = cs->pt[q];
        double d = cs->cost[q];
        size_t need = n + 1 + (cs->median ? pc->at[i + 1] - pc->at[i] : 0);
        if (!cs_grow((void **)buf, cap, need, sizeof **buf))
            return NAN;
        if (fl->unserved[i] > 0)
            (*buf)[n++] = (item){cs->median ? cs->threshold_m - d : 1, fl->unserved[i]};
        for (size_t k = pc->at[i]; cs->median && k < pc->at[i + 1]; k++)
            if (pc->piece[k].saving > d)
                (*buf)[n++] = (item){pc->piece[k].saving - d, pc->piece[k].units};
    }
    if (n > 1)
        qsort(*buf, n, sizeof **buf, by_saving);
    double room = cs->room[f], saved = 0;
    for (size_t k = 0; k < n && room > 0; k++) {
        double take = fmin(room, (*buf)[k].units);
        saved += take * (*buf)[k].saving;
        room -= take;
    }
    return saved;
}

/* ------------------------------------------------------------ the heuristic */

/* The heuristic's working state: the problem of every facility and candidate, solved
 * with the sites open now (base) and tried with one more (trial); candidate c is sink
 * existing + c, open at cost 0 and closed at one no unit pays. */
typedef struct search {
    const cs_capacity_sets *cs;
    problem p;
    cs_flow *base, *trial;
    int64_t closed;
    unsigned char *open;
    cs_capacity_flow now;
    item *buf;
    size_t cap;
    cs_valued *order; /* candidates by estimate */
} search;

static void search_free(search *s)
{
    problem_free(&s->p);
    cs_flow_destroy(s->base);
    cs_flow_destroy(s->trial);
    cs_free(s->open);
    cs_capacity_flow_free(&s->now);
    cs_free(s->buf);
    cs_free(s->order);
}

/* Candidate c opened or closed in state st. */
static void set_open(search *s, cs_flow *st, size_t c, bool open)
{
    cs_flow_set_sink_cost(st, s->cs->existing + c, open ? 0 : s->closed);
}

/* State st solved, its flows into out. */
static cs_status solve_state(search *s, cs_flow *st, cs_capacity_flow *out)
{
    cs_flow_optimise(st);
    cs_flow_read(st, s->p.flow, s->p.unserved);
    return extract(s->cs, &s->p, out);
}

/* The candidate among[0..n) (closed ones) that improves the assignment now the most
 * when added, of the SHORTLIST best by estimate, into *best (C: none improves), its
 * assignment's cost as the solver counts it (thousandths of a unit, centimetres) into
 * *cost. */
static cs_status best_addition(search *s, const size_t *among, size_t n, size_t *best,
                               double *cost)
{
    const cs_capacity_sets *cs = s->cs;
    pieces pc = {0};
    cs_status st = make_pieces(cs, &s->now, &pc);
    size_t m = 0;
    for (size_t k = 0; st == CS_OK && k < n; k++) {
        size_t c = among ? among[k] : k;
        if (s->open[c])
            continue;
        double e = estimate(cs, &s->now, &pc, c, &s->buf, &s->cap);
        if (isnan(e))
            st = CS_ERR_NOMEM;
        s->order[m++] = (cs_valued){e, c};
    }
    pieces_free(&pc);
    qsort(s->order, m, sizeof *s->order, cs_by_value_down);
    *best = cs->candidates;
    *cost = cs_flow_read(s->base, NULL, NULL);
    for (size_t k = 0; st == CS_OK && k < m && k < SHORTLIST; k++) {
        size_t c = s->order[k].c;
        st = cs_flow_copy(s->trial, s->base);
        set_open(s, s->trial, c, true);
        cs_flow_optimise(s->trial);
        double tried = cs_flow_read(s->trial, NULL, NULL); /* (whole numbers) */
        if (st == CS_OK && tried < *cost) {
            *cost = tried;
            *best = c;
        }
    }
    return st;
}

/* Add sites from among[0..n) (NULL: every candidate) up to k, the best true gain each
 * time: chosen (room for k) in that order, gains (the cost each took off). */
static cs_status add_greedily(search *s, const size_t *among, size_t n, size_t k,
                              size_t *chosen, double *gains, size_t *count)
{
    cs_status st = CS_OK;
    *count = 0;
    while (st == CS_OK && *count < k) {
        size_t c;
        double cost, before = s->now.cost;
        st = best_addition(s, among, n, &c, &cost);
        if (st != CS_OK || c == s->cs->candidates)
            break;
        s->open[c] = 1;
        set_open(s, s->base, c, true);
        chosen[*count] = c;
        st = solve_state(s, s->base, &s->now);
        gains[(*count)++] = before - s->now.cost;
    }
    return st;
}

static cs_status search_init(search *s, const cs_capacity_sets *cs)
{
    s->cs = cs;
    size_t E = cs->existing, C = cs->candidates;
    s->open = cs_calloc(C + 1, 1);
    s->order = cs_calloc(C + 1, sizeof *s->order);
    unsigned char *all = cs_calloc(C + 1, 1);
    int64_t *sink_cost = cs_calloc(E + C + 1, sizeof *sink_cost);
    cs_status st = s->open && s->order && all && sink_cost ? CS_OK : CS_ERR_NOMEM;
    if (st == CS_OK) {
        memset(all, 1, C);
        st = build(cs, all, &s->p);
    }
    /* a unit through a closed site would pay more than staying unserved */
    s->closed = (cs->median ? parts(cs->threshold_m, COST_PARTS) : 1) + 1;
    for (size_t c = 0; st == CS_OK && c < C; c++)
        sink_cost[E + c] = s->closed;
    if (st == CS_OK)
        st = cs_flow_create(&s->p.t, sink_cost, &s->base);
    if (st == CS_OK)
        st = cs_flow_create(&s->p.t, sink_cost, &s->trial);
    if (st == CS_OK)
        st = solve_state(s, s->base, &s->now);
    cs_free(all);
    cs_free(sink_cost);
    return st;
}

/* One pass of swaps: each chosen site in turn closed and the best addition tried in
 * its place; kept when the cost falls. *swapped counts them. */
static cs_status swap_pass(search *s, size_t *chosen, size_t n, size_t *swapped)
{
    cs_status st = CS_OK;
    for (size_t q = 0; st == CS_OK && q < n; q++) {
        double before = cs_flow_read(s->base, NULL, NULL);
        size_t r = chosen[q], c;
        double cost;
        s->open[r] = 0;
        set_open(s, s->base, r, false);
        st = solve_state(s, s->base, &s->now);
        if (st == CS_OK)
            st = best_addition(s, NULL, s->cs->candidates, &c, &cost);
        if (st != CS_OK)
            break;
        bool better = c != s->cs->candidates && c != r && cost < before;
        s->open[better ? c : r] = 1;
        set_open(s, s->base, better ? c : r, true);
        if (better) {
            chosen[q] = c;
            (*swapped)++;
        }
        st = solve_state(s, s->base, &s->now);
    }
    return st;
}

/* sites[0..n) (all open now) ranked in the search's own state: closed, then added
 * back greedily among themselves. */
static cs_status rank_open(search *s, size_t *sites, size_t n, double *gains, size_t *count)
{
    size_t *among = cs_calloc(n + 1, sizeof *among);
    if (!among)
        return CS_ERR_NOMEM;
    memcpy(among, sites, n * sizeof *among);
    for (size_t q = 0; q < n; q++) {
        s->open[sites[q]] = 0;
        set_open(s, s->base, sites[q], false);
    }
    cs_status st = solve_state(s, s->base, &s->now);
    if (st == CS_OK)
        st = add_greedily(s, among, n, n, sites, gains, count);
    cs_free(among);
    return st;
}

/* dst (made on first use) becomes the flow src. */
static cs_status flow_copy(const cs_capacity_sets *cs, cs_capacity_flow *dst,
                           const cs_capacity_flow *src)
{
    size_t N = cs->points, P = cs->first[cs->existing + cs->candidates];
    if (!flow_room(cs, dst))
        return CS_ERR_NOMEM;
    memcpy(dst->units, src->units, (P + 1) * sizeof *dst->units);
    memcpy(dst->unserved, src->unserved, (N + 1) * sizeof *dst->unserved);
    dst->served = src->served;
    dst->left = src->left;
    dst->walk = src->walk;
    dst->cost = src->cost;
    return CS_OK;
}

cs_status cs_capacity_heuristic(const cs_capacity_sets *cs, size_t k, size_t *chosen,
                                double *gains, size_t *count, size_t *swaps,
                                cs_capacity_flow *before, cs_capacity_flow *after)
{
    search s = {0};
    cs_status st = search_init(&s, cs);
    if (st == CS_OK)
        st = flow_copy(cs, before, &s.now);
    if (st == CS_OK)
        st = add_greedily(&s, NULL, cs->candidates, k, chosen, gains, count);
    *swaps = 0;
    for (int pass = 0; st == CS_OK && pass < 3 && *count > 0; pass++) {
        size_t was = *swaps;
        st = swap_pass(&s, chosen, *count, swaps);
        if (*swaps == was)
            break;
    }
    /* the sites ranked by what each adds in turn */
    if (st == CS_OK && *swaps > 0)
        st = rank_open(&s, chosen, *count, gains, count);
    if (st == CS_OK)
        st = flow_copy(cs, after, &s.now);
    search_free(&s);
    return st;
}

cs_status cs_capacity_rank(const cs_capacity_sets *cs, size_t *sites, size_t n, double *gains,
                           size_t *count)
{
    search s = {0};
    cs_status st = search_init(&s, cs);
    for (size_t q = 0; st == CS_OK && q < n; q++) {
        s.open[sites[q]] = 1;
        set_open(&s, s.base, sites[q], true);
    }
    if (st == CS_OK)
        st = rank_open(&s, sites, n, gains, count);
    search_free(&s);
    return st;
}

/* ------------------------------------------------------------ exact */

/* Columns: y_c (binary) first, then x_q for every pair, then u_i for every point. */
cs_status cs_capacity_exact(const cs_capacity_sets *cs, size_t k, double time_limit_s,
                            size_t *chosen, size_t *count, double *cost, bool *optimal)
{
    size_t N = cs->points, E = cs->existing, C = cs->candidates, P = cs->first[E + C];
    size_t nz = 2 * P + N + 3 * (cs->first[E + C] - cs->first[E]) + C + 1;
    int *ia = cs_calloc(nz + 1, sizeof *ia), *ja = cs_calloc(nz + 1, sizeof *ja);
    double *ar = cs_calloc(nz + 1, sizeof *ar);
    if (!ia || !ja || !ar) {
        cs_free(ia);
        cs_free(ja);
        cs_free(ar);
        return CS_ERR_NOMEM;
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    int rows = (int)(N + E + C + 1), y0 = 1, x0 = (int)C + 1, u0 = (int)(C + P) + 1;
    glp_add_rows(lp, rows);
    glp_add_cols(lp, (int)(C + P + N));
    size_t n = 0;
    for (size_t i = 0; i < N; i++) { /* sum_f x_if + u_i = d_i */
        glp_set_row_bnds(lp, (int)i + 1, GLP_FX, cs->demand[i], cs->demand[i]);
        glp_set_col_bnds(lp, u0 + (int)i, GLP_LO, 0, 0);
        glp_set_obj_coef(lp, u0 + (int)i, cs->median ? cs->threshold_m : 1);
        ia[++n] = (int)i + 1, ja[n] = u0 + (int)i, ar[n] = 1;
    }
    for (size_t f = 0; f < E + C; f++) { /* sum_i x_if <= room_f (y_f for candidates) */
        int row = (int)(N + f) + 1;
        glp_set_row_bnds(lp, row, GLP_UP, 0, f < E ? cs->room[f] : 0);
        if (f >= E) {
            ia[++n] = row, ja[n] = y0 + (int)(f - E), ar[n] = -cs->room[f];
            glp_set_col_kind(lp, y0 + (int)(f - E), GLP_BV);
        }
        for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
            int col = x0 + (int)q;
            glp_set_col_bnds(lp, col, GLP_LO, 0, 0);
            glp_set_obj_coef(lp, col, cs->median ? cs->cost[q] : 0);
            ia[++n] = (int)cs->pt[q] + 1, ja[n] = col, ar[n] = 1;
            ia[++n] = row, ja[n] = col, ar[n] = 1;
            if (f >= E) { /* x_ic <= d_i y_c */
                int strong = glp_add_rows(lp, 1);
                glp_set_row_bnds(lp, strong, GLP_UP, 0, 0);
                ia[++n] = strong, ja[n] = col, ar[n] = 1;
                ia[++n] = strong, ja[n] = y0 + (int)(f - E), ar[n] = -cs->demand[cs->pt[q]];
            }
        }
    }
    int sites = rows; /* sum_c y_c <= k */
    glp_set_row_bnds(lp, sites, GLP_UP, 0, (double)k);
    for (size_t c = 0; c < C; c++)
        ia[++n] = sites, ja[n] = y0 + (int)c, ar[n] = 1;
    glp_load_matrix(lp, (int)n, ia, ja, ar);
    cs_free(ia);
    cs_free(ja);
    cs_free(ar);
    cs_glpk_solve(lp, time_limit_s, C, chosen, count, cost, optimal);
    return CS_OK;
}
