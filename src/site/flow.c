/*
 * flow.c — the transportation problem by the primal network simplex.
 *
 * GLPK's min-cost flow routines are too slow here (its out-of-kilter method took 15 s
 * on 84,000 pairs, its simplex 118 s; RELAX-IV is disabled in Debian's build), so the
 * flow is solved by the network simplex on its own graph: the sources (residents), the
 * sinks (facilities) and a root that every unit ends at, through a sink's arc (at most
 * its capacity) or a source's bypass (unserved). The first tree hangs every source on
 * its bypass and every sink on an arc of no capacity from the root, which leaves the
 * tree at its first pivot: a strongly feasible tree (every tree arc with no flow points
 * away from the root), kept so by the leaving arc rule of Cunningham (1976), which
 * rules out cycling. Units are whole, so every pivot is exact.
 *
 * The tree is kept as parent links, depths and lists of children; a pivot re-roots the
 * subtree it cuts off and walks it once to move its depths and potentials. Entering
 * arcs are found by block search (Grigoriadis 1986): the most negative reduced cost
 * within a block of about sqrt(arcs), the blocks taken in turn.
 *
 * A solved state can be changed and solved again from where it is: a sink's arc to the
 * root gets another cost (a facility opened at 0, closed at a cost no unit would pay),
 * which leaves the flow feasible, so only the pivots the change calls for are made.
 *
 * Arcs are priced from a list of those that might enter, not from all: an arc leaves
 * the list when it is found unable to, and comes back when its reduced cost may have
 * changed (its end's potential moved in a pivot's re-rooted subtree, or its own cost
 * changed). Late pivots, and those after a change, then look at a few arcs rather
 * than at millions. The list starts, and starts again after every potential was
 * worked out anew, with every arc. A pivot whose re-rooted subtree is larger than a
 * block drops the list (listing its arcs would cost more than pricing all), and every
 * arc is priced by the block search until none can enter, when the list starts empty.
 */
#include "site/flow.h"

#include <math.h>
#include <string.h>

#define UNLIMITED (INT64_MAX / 4)

enum { TREE = 0, LOWER = 1, UPPER = -1 };

struct cs_flow {
    size_t n, m; /* nodes (the root last), arcs */
    size_t sources, sinks, pairs;
    uint32_t *src, *dst;
    int64_t *cost, *cap, *flow;
    signed char *state;
    uint32_t *parent, *pred; /* a node's parent and the tree arc to it */
    signed char *up;         /* 1: the tree arc points to the parent, -1: from it */
    uint32_t *depth, *child, *next, *prev; /* lists of children (NONE ends them) */
    uint32_t *stack;
    int64_t *pi;
    size_t block, start;
    bool stale; /* a cost changed: the potentials are to be worked out again */
    /* each node's arcs, inc[inc_first[v] .. inc_first[v + 1]) */
    size_t *inc_first;
    uint32_t *inc;
    /* no arc outside cand[0 .. ncand) can enter (in_cand marks those in it; NONE is a
       place left by one that was dropped, dead of them) */
    uint32_t *cand;
    size_t ncand, dead;
    unsigned char *in_cand;
    bool listed; /* false: the list is not kept, and every arc is priced */
};
typedef struct cs_flow simplex;

#define NONE UINT32_MAX

static void unlink_child(simplex *s, uint32_t v)
{
    uint32_t p = s->parent[v];
    if (s->prev[v] != NONE)
        s->next[s->prev[v]] = s->next[v];
    else
        s->child[p] = s->next[v];
    if (s->next[v] != NONE)
        s->prev[s->next[v]] = s->prev[v];
}

static void link_child(simplex *s, uint32_t v, uint32_t p, uint32_t arc)
{
    s->parent[v] = p;
    s->pred[v] = arc;
    s->up[v] = s->src[arc] == v ? 1 : -1;
    s->prev[v] = NONE;
    s->next[v] = s->child[p];
    if (s->child[p] != NONE)
        s->prev[s->child[p]] = v;
    s->child[p] = v;
}

static void set_arc(simplex *s, size_t a, uint32_t from, uint32_t to, int64_t cost,
                    int64_t cap)
{
    s->src[a] = from;
    s->dst[a] = to;
    s->cost[a] = cost;
    s->cap[a] = cap;
    s->state[a] = LOWER;
}

/*
 * The graph: pair arcs first (their flows are the answer), then the sinks' arcs to the
 * root, the sources' bypasses, and one arc of no capacity from the root to each node
 * for the first tree.
 */
static void build(simplex *s, const cs_transport *t, const int64_t *sink_cost)
{
    size_t S = t->sources, F = t->sinks, P = t->first[S];
    uint32_t root = (uint32_t)(S + F);
    for (size_t i = 0; i < S; i++)
        for (size_t a = t->first[i]; a < t->first[i + 1]; a++)
            set_arc(s, a, (uint32_t)i, (uint32_t)(S + t->to[a]), t->cost[a], UNLIMITED);
    for (size_t j = 0; j < F; j++)
        set_arc(s, P + j, (uint32_t)(S + j), root, sink_cost ? sink_cost[j] : 0, t->capacity[j]);
    for (size_t i = 0; i < S; i++)
        set_arc(s, P + F + i, (uint32_t)i, root, t->bypass[i], UNLIMITED);
    /* (a sink's costs minus its arc to the root, so that a closed one starts at the
       potential that keeps units away from it; no unit takes these arcs) */
    for (size_t v = 0; v < S + F; v++)
        set_arc(s, P + F + S + v, root, (uint32_t)v,
                v >= S && sink_cost ? -sink_cost[v - S] : 0, 0);
    for (size_t v = 0; v <= S + F; v++)
        s->child[v] = NONE;
    s->parent[root] = NONE;
    s->depth[root] = 0;
    s->pi[root] = 0;
    for (size_t v = 0; v < S + F; v++) {
        /* a source with supply on its bypass (flow toward the root); the others on
           their empty arcs from the root */
        bool bypass = v < S && t->supply[v] > 0;
        size_t arc = bypass ? P + F + v : P + F + S + v;
        s->flow[arc] = bypass ? t->supply[v] : 0;
        s->state[arc] = TREE;
        link_child(s, (uint32_t)v, root, (uint32_t)arc);
        s->depth[v] = 1;
        s->pi[v] = bypass ? -t->bypass[v] : s->cost[arc];
    }
}

/* Each node's arcs (both ends), for tracking. */
static void incidence(simplex *s)
{
    for (size_t a = 0; a < s->m; a++) {
        s->inc_first[s->src[a] + 2]++;
        s->inc_first[s->dst[a] + 2]++;
    }
    for (size_t v = 0; v <= s->n; v++)
        s->inc_first[v + 1] += s->inc_first[v];
    for (size_t a = 0; a < s->m; a++) {
        s->inc[s->inc_first[s->src[a] + 1]++] = (uint32_t)a;
        s->inc[s->inc_first[s->dst[a] + 1]++] = (uint32_t)a;
    }
}

static int64_t reduced(const simplex *s, size_t a)
{
    return s->cost[a] + s->pi[s->src[a]] - s->pi[s->dst[a]];
}

/* The list without the places of dropped arcs (their order kept). */
static void compact(simplex *s)
{
    size_t n = 0;
    for (size_t k = 0; k < s->ncand; k++)
        if (s->cand[k] != NONE)
            s->cand[n++] = s->cand[k];
    s->ncand = n;
    s->dead = 0;
    s->start = 0;
}

/* Arc a on the list, when it could ever enter and is not on it already. */
static void list_arc(simplex *s, uint32_t a)
{
    if (!s->listed || s->in_cand[a] || s->state[a] == TREE || s->cap[a] == 0)
        return;
    if (s->ncand == s->m)
        compact(s); /* (some place is dead: not every arc is on the list) */
    s->in_cand[a] = 1;
    s->cand[s->ncand++] = a;
}

/* No list: every arc is priced until none can enter. */
static void unlist(simplex *s)
{
    for (size_t k = 0; k < s->ncand; k++)
        if (s->cand[k] != NONE)
            s->in_cand[s->cand[k]] = 0;
    s->ncand = s->dead = 0;
    s->listed = false;
}

/* Every arc that could ever enter on the list. */
static void list_all(simplex *s)
{
    unlist(s);
    s->listed = true;
    s->start = 0;
    for (size_t a = 0; a < s->m; a++)
        list_arc(s, (uint32_t)a);
}

/* Block search over every arc; m when none can enter, and from then on listed. */
static size_t entering_any(simplex *s)
{
    size_t best = s->m, left = s->block;
    int64_t least = 0;
    for (size_t k = 0; k < s->m; k++) {
        size_t a = s->start + k < s->m ? s->start + k : s->start + k - s->m;
        if (s->state[a] != TREE && s->cap[a] > 0) {
            int64_t c = s->state[a] * reduced(s, a);
            if (c < least) {
                least = c;
                best = a;
            }
        }
        if (--left == 0) {
            if (best < s->m) {
                s->start = a + 1 < s->m ? a + 1 : 0;
                return best;
            }
            left = s->block;
        }
    }
    if (best == s->m) {
        s->listed = true; /* none can enter: the empty list holds all that can */
        s->start = 0;
    }
    return best;
}

/* The entering arc: the most negative signed reduced cost in the first block of the
 * list (from where the last search stopped) that has one, those that cannot enter
 * dropped; m when none is left (optimal). */
static size_t entering(simplex *s)
{
    if (!s->listed)
        return entering_any(s);
    size_t best = s->m, left = s->block, n = s->ncand;
    size_t k = s->start < n ? s->start : 0;
    int64_t least = 0;
    for (size_t seen = 0; seen < n; seen++, k = k + 1 < n ? k + 1 : 0) {
        uint32_t a = s->cand[k];
        if (a != NONE) {
            int64_t c = s->state[a] == TREE ? 0 : s->state[a] * reduced(s, a);
            if (c >= 0) {
                s->in_cand[a] = 0;
                s->cand[k] = NONE;
                s->dead++;
            } else if (c < least) {
                least = c;
                best = a;
            }
        }
        if (--left == 0) {
            if (best < s->m) {
                s->start = k + 1;
                break;
            }
            left = s->block;
        }
    }
    if (s->dead > s->ncand / 2)
        compact(s);
    return best;
}

static uint32_t join(const simplex *s, uint32_t a, uint32_t b)
{
    while (a != b) {
        if (s->depth[a] >= s->depth[b])
            a = s->parent[a];
        else
            b = s->parent[b];
    }
    return a;
}

/* The room a tree arc leaves for flow moving up from v (toward the parent), or down. */
static int64_t room(const simplex *s, uint32_t v, bool moving_up)
{
    size_t a = s->pred[v];
    bool with_arc = (s->up[v] == 1) == moving_up;
    return with_arc ? (s->cap[a] >= UNLIMITED ? UNLIMITED : s->cap[a] - s->flow[a])
                    : s->flow[a];
}

/* Re-root the subtree of out at u_in and hang it on v_in by the entering arc e; move
 * its potentials by what makes e's reduced cost 0, and its depths. */
static void reroot(simplex *s, uint32_t out, uint32_t u_in, uint32_t v_in, uint32_t e)
{
    uint32_t above = v_in, arc = e, x = u_in;
    for (;;) {
        uint32_t old_parent = s->parent[x], old_arc = s->pred[x];
        unlink_child(s, x);
        link_child(s, x, above, arc);
        if (x == out)
            break;
        above = x;
        arc = old_arc;
        x = old_parent;
    }
    int64_t want = s->up[u_in] == 1 ? s->pi[v_in] - s->cost[e] : s->pi[v_in] + s->cost[e];
    int64_t sigma = want - s->pi[u_in];
    size_t top = 0, seen = 0;
    s->stack[top++] = u_in;
    while (top) {
        uint32_t v = s->stack[--top];
        s->pi[v] += sigma;
        s->depth[v] = s->depth[s->parent[v]] + 1;
        /* its arcs' reduced costs moved by sigma: listed, unless the subtree is so
           large that pricing every arc until none can enter costs less */
        if (s->listed && ++seen > s->block)
            unlist(s);
        for (size_t k = s->inc_first[v]; s->listed && k < s->inc_first[v + 1]; k++)
            list_arc(s, s->inc[k]);
        for (uint32_t c = s->child[v]; c != NONE; c = s->next[c])
            s->stack[top++] = c;
    }
}

/* Every potential from the root down, each tree arc's reduced cost 0. */
static void potentials(simplex *s)
{
    size_t top = 0;
    uint32_t root = (uint32_t)(s->n - 1);
    for (uint32_t c = s->child[root]; c != NONE; c = s->next[c])
        s->stack[top++] = c;
    list_all(s); /* every reduced cost may have changed */
    while (top) {
        uint32_t v = s->stack[--top];
        uint32_t a = s->pred[v], p = s->parent[v];
        s->pi[v] = s->up[v] == 1 ? s->pi[p] - s->cost[a] : s->pi[p] + s->cost[a];
        for (uint32_t c = s->child[v]; c != NONE; c = s->next[c])
            s->stack[top++] = c;
    }
    s->stale = false;
}

/* One pivot on entering arc e. */
static void pivot(simplex *s, uint32_t e)
{
    uint32_t first = s->state[e] == LOWER ? s->src[e] : s->dst[e];
    uint32_t second = s->state[e] == LOWER ? s->dst[e] : s->src[e];
    uint32_t top = join(s, first, second), out = NONE;
    int64_t delta = s->cap[e];
    int side = 0;
    /* the last blocking arc along the cycle from the join, in the flow's direction:
       flow runs down to first (strictly smaller replaces), then up from second (ties
       replace) */
    for (uint32_t v = first; v != top; v = s->parent[v]) {
        int64_t d = room(s, v, false);
        if (d < delta)
            delta = d, out = v, side = 1;
    }
    for (uint32_t v = second; v != top; v = s->parent[v]) {
        int64_t d = room(s, v, true);
        if (d <= delta)
            delta = d, out = v, side = 2;
    }
    if (delta > 0) {
        int64_t val = s->state[e] * delta;
        s->flow[e] += val;
        for (uint32_t v = s->src[e]; v != top; v = s->parent[v])
            s->flow[s->pred[v]] -= s->up[v] * val;
        for (uint32_t v = s->dst[e]; v != top; v = s->parent[v])
            s->flow[s->pred[v]] += s->up[v] * val;
    }
    if (side == 0) { /* the entering arc went from one bound to the other */
        s->state[e] = (signed char)-s->state[e];
        return; /* (no potential moved) */
    }
    uint32_t leaving = s->pred[out];
    s->state[leaving] = s->flow[leaving] == 0 ? LOWER : UPPER;
    s->state[e] = TREE;
    if (side == 1)
        reroot(s, out, first, second, e);
    else
        reroot(s, out, second, first, e);
}

void cs_flow_destroy(cs_flow *s)
{
    if (!s)
        return;
    cs_free(s->src);
    cs_free(s->dst);
    cs_free(s->cost);
    cs_free(s->cap);
    cs_free(s->flow);
    cs_free(s->state);
    cs_free(s->parent);
    cs_free(s->pred);
    cs_free(s->up);
    cs_free(s->depth);
    cs_free(s->child);
    cs_free(s->next);
    cs_free(s->prev);
    cs_free(s->stack);
    cs_free(s->pi);
    cs_free(s->inc_first);
    cs_free(s->inc);
    cs_free(s->cand);
    cs_free(s->in_cand);
    cs_free(s);
}

static bool simplex_alloc(simplex *s, size_t n, size_t m)
{
    s->n = n;
    s->m = m;
    s->src = cs_calloc(m, sizeof *s->src);
    s->dst = cs_calloc(m, sizeof *s->dst);
    s->cost = cs_calloc(m, sizeof *s->cost);
    s->cap = cs_calloc(m, sizeof *s->cap);
    s->flow = cs_calloc(m, sizeof *s->flow);
    s->state = cs_calloc(m, sizeof *s->state);
    s->parent = cs_calloc(n, sizeof *s->parent);
    s->pred = cs_calloc(n, sizeof *s->pred);
    s->up = cs_calloc(n, sizeof *s->up);
    s->depth = cs_calloc(n, sizeof *s->depth);
    s->child = cs_calloc(n, sizeof *s->child);
    s->next = cs_calloc(n, sizeof *s->next);
    s->prev = cs_calloc(n, sizeof *s->prev);
    s->stack = cs_calloc(n, sizeof *s->stack);
    s->pi = cs_calloc(n, sizeof *s->pi);
    s->inc_first = cs_calloc(n + 2, sizeof *s->inc_first);
    s->inc = cs_calloc(2 * m, sizeof *s->inc);
    s->cand = cs_calloc(m, sizeof *s->cand);
    s->in_cand = cs_calloc(m, sizeof *s->in_cand);
    s->block = (size_t)sqrt((double)m);
    s->block = s->block < 10 ? 10 : s->block;
    return s->src && s->dst && s->cost && s->cap && s->flow && s->state && s->parent &&
           s->pred && s->up && s->depth && s->child && s->next && s->prev && s->stack &&
           s->pi && s->inc_first && s->inc && s->cand && s->in_cand;
}

cs_status cs_flow_create(const cs_transport *t, const int64_t *sink_cost, cs_flow **out)
{
    size_t S = t->sources, F = t->sinks, P = t->first[S];
    size_t n = S + F + 1, m = P + F + S + (S + F);
    *out = NULL;
    if (n >= NONE || m >= NONE)
        return CS_ERR_NOMEM; /* beyond what 32-bit node and arc numbers hold */
    simplex *s = cs_calloc(1, sizeof *s);
    if (!s || !simplex_alloc(s, n, m)) {
        cs_flow_destroy(s);
        return CS_ERR_NOMEM;
    }
    s->sources = S;
    s->sinks = F;
    s->pairs = P;
    build(s, t, sink_cost);
    incidence(s);
    list_all(s);
    *out = s;
    return CS_OK;
}

void cs_flow_set_sink_cost(cs_flow *s, size_t j, int64_t cost)
{
    size_t a = s->pairs + j;
    s->cost[a] = cost;
    if (s->state[a] == TREE)
        s->stale = true; /* its subtree's potentials move */
    else
        list_arc(s, (uint32_t)a); /* only its own reduced cost changed */
}

void cs_flow_optimise(cs_flow *s)
{
    if (s->stale)
        potentials(s);
    for (size_t e = entering(s); e < s->m; e = entering(s))
        pivot(s, (uint32_t)e);
}

double cs_flow_read(const cs_flow *s, int64_t *flow, int64_t *unserved)
{
    size_t P = s->pairs, F = s->sinks;
    double sum = 0; /* (in double: flows times costs may pass 64 bits) */
    for (size_t a = 0; a < P; a++) {
        if (flow)
            flow[a] = s->flow[a];
        sum += (double)s->flow[a] * (double)s->cost[a];
    }
    for (size_t i = 0; i < s->sources; i++) {
        int64_t u = s->flow[P + F + i];
        if (unserved)
            unserved[i] = u;
        sum += (double)u * (double)s->cost[P + F + i];
    }
    return sum;
}

cs_status cs_flow_copy(cs_flow *dst, const cs_flow *src)
{
    if (dst->n != src->n || dst->m != src->m)
        return CS_ERR_ARGUMENT;
    size_t n = src->n, m = src->m;
    /* (of the costs only the sinks' arcs change; capacities never do) */
    memcpy(dst->cost + src->pairs, src->cost + src->pairs, src->sinks * sizeof *dst->cost);
    memcpy(dst->flow, src->flow, m * sizeof *dst->flow);
    memcpy(dst->state, src->state, m * sizeof *dst->state);
    memcpy(dst->parent, src->parent, n * sizeof *dst->parent);
    memcpy(dst->pred, src->pred, n * sizeof *dst->pred);
    memcpy(dst->up, src->up, n * sizeof *dst->up);
    memcpy(dst->depth, src->depth, n * sizeof *dst->depth);
    memcpy(dst->child, src->child, n * sizeof *dst->child);
    memcpy(dst->next, src->next, n * sizeof *dst->next);
    memcpy(dst->prev, src->prev, n * sizeof *dst->prev);
    memcpy(dst->pi, src->pi, n * sizeof *dst->pi);
    memcpy(dst->cand, src->cand, src->ncand * sizeof *dst->cand);
    memcpy(dst->in_cand, src->in_cand, m);
    dst->ncand = src->ncand;
    dst->dead = src->dead;
    dst->listed = src->listed;
    dst->start = src->start;
    dst->stale = src->stale;
    return CS_OK;
}

cs_status cs_transport_solve(const cs_transport *t, int64_t *flow, int64_t *unserved,
                             double *total)
{
    cs_flow *s = NULL;
    cs_status st = cs_flow_create(t, NULL, &s);
    if (st != CS_OK)
        return st;
    cs_flow_optimise(s);
    *total = cs_flow_read(s, flow, unserved);
    cs_flow_destroy(s);
    return CS_OK;
}
