/*
 * search.c — shortest walks on the network graph: one bounded multi-source search per
 * kind (Dijkstra with a binary heap, keys compared as (cost, source id) so ties always
 * go to the lowest id), costs read off at attached points with exact partial edges,
 * the reached stretches of every edge, and the straightforward one-search-per-source
 * way used to check and benchmark it.
 *
 * Ties: a node two sources reach at the same cost (the same double, summed the same
 * way) is flagged during the search, and the flag flows on to the nodes it is the
 * cheapest way to; after the search, only the flagged nodes (rare) get the full list of
 * their tied sources, in the order they were settled, from their cheapest neighbours.
 */
#include "net/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* ------------------------------------------------------------------ heap */

/* The fields' heap: a 4-ary heap of (cost, source, node), 16 bytes an entry (a node's
 * four children share a cache line), ordered by cost and then source id, so that of
 * sources at the same cost the lowest id is settled first. Source ids are below
 * UINT32_MAX (checked where a search starts). */
typedef struct entry {
    double cost;
    uint32_t src, node;
} entry;

typedef struct heap {
    entry *e;
    size_t n, cap;
} heap;

static inline bool before(double ca, uint32_t sa, double cb, uint32_t sb)
{
    return ca < cb || (ca == cb && sa < sb);
}

static bool heap_push(heap *h, double cost, uint32_t s, uint32_t node)
{
    if (h->n == h->cap && !cs_grow((void **)&h->e, &h->cap, h->n + 1, sizeof *h->e))
        return false;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (!before(cost, s, h->e[p].cost, h->e[p].src))
            break;
        h->e[i] = h->e[p];
        i = p;
    }
    h->e[i] = (entry){cost, s, node};
    return true;
}

static entry heap_pop(heap *h)
{
    entry top = h->e[0], last = h->e[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 4 * i + 1, end = 4 * i + 5, best = c;
        if (c >= h->n)
            break;
        end = end < h->n ? end : h->n;
        for (size_t k = c + 1; k < end; k++)
            if (before(h->e[k].cost, h->e[k].src, h->e[best].cost, h->e[best].src))
                best = k;
        if (!before(h->e[best].cost, h->e[best].src, last.cost, last.src))
            break;
        h->e[i] = h->e[best];
        i = best;
    }
    if (h->n)
        h->e[i] = last;
    return top;
}

/* Whether every source id fits the heap's entries. */
static bool ids_fit(const long *id, size_t n)
{
    if (!id)
        return n < UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0 || id[i] >= (long)UINT32_MAX)
            return false;
    return true;
}

/* ------------------------------------------------------------- searching */

static double edge_scale(const cs_graph *g, size_t e)
{
    return g->edge_cost_m[e] / g->edge_len_m[e];
}

/* A tie flag of the search (NODE_TIED), later the index + 1 of the node's tie set. */
#define NODE_TIED UINT32_MAX
#define NO_SOURCE UINT32_MAX

/* What a search knows of a node, in 16 bytes: a node offered to is read and written in
 * one cache line (three arrays took three misses per improvement on big networks). */
typedef struct node_state {
    double cost;  /* INFINITY until reached */
    uint32_t src; /* the source reaching it at that cost (lowest id), NO_SOURCE */
    uint32_t tie; /* the tie flag (NODE_TIED or the tie flag of a node offering it) */
} node_state;

static void states_reset(node_state *ns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ns[i] = (node_state){INFINITY, NO_SOURCE, 0};
}

/* The flagged nodes of a search, in settling order. */
typedef struct tie_track {
    uint32_t *list;
    size_t n, cap;
} tie_track;

/* Offer (cost, src) to node v; pushes it when it improves v. With ties, flags v when
 * another source reaches it at the same cost, or when the node offering it (ptie) is
 * tied. */
static bool offer(heap *h, node_state *ns, bool ties, uint32_t v, double c, uint32_t s,
                  uint32_t ptie, double budget, uint32_t *touched, size_t *ntouched)
{
    node_state *n = &ns[v];
    if (!(c <= budget) || c > n->cost)
        return true;
    if (c == n->cost) {
        if (ties && (s != n->src || ptie))
            n->tie = NODE_TIED;
        if (s >= n->src)
            return true;
    } else if (ties) {
        n->tie = ptie;
    }
    if (touched && isinf(n->cost))
        touched[(*ntouched)++] = v;
    n->cost = c;
    n->src = s;
    return heap_push(h, c, s, v);
}

/* Dijkstra from the entries already offered; stops at the budget. tt (may be NULL)
 * keeps the ties. */
static bool settle(const cs_graph *g, heap *h, node_state *ns, tie_track *tt, double budget,
                   uint32_t *touched, size_t *ntouched)
{
    while (h->n) {
        entry top = heap_pop(h);
        if (h->n) { /* the next node settled is likely the new top: fetch its state and
                       adjacency while this one's neighbours are offered to */
            __builtin_prefetch(&ns[h->e[0].node]);
            __builtin_prefetch(&g->adj_start[h->e[0].node]);
        }
        const node_state *at = &ns[top.node];
        if (top.cost != at->cost || top.src != at->src)
            continue; /* a stale entry: the node was improved since */
        uint32_t ptie = tt ? at->tie : 0;
        if (ptie) {
            if (!cs_grow((void **)&tt->list, &tt->cap, tt->n + 1, sizeof *tt->list))
                return false;
            tt->list[tt->n++] = top.node;
        }
        for (size_t k = g->adj_start[top.node]; k < g->adj_start[top.node + 1]; k++) {
            double c = top.cost + g->adj[k].cost_m;
            if (!offer(h, ns, tt != NULL, g->adj[k].node, c, top.src, ptie, budget, touched,
                       ntouched))
                return false;
        }
    }
    return true;
}

/* Offer source (edge e, along t, access a, id s) to both ends of its edge. */
static bool offer_source(const cs_graph *g, heap *h, node_state *ns, bool ties, long e, double t,
                         double a, uint32_t s, double budget, uint32_t *touched,
                         size_t *ntouched)
{
    double scale = edge_scale(g, (size_t)e);
    return offer(h, ns, ties, g->edge_u[e], a + t * scale, s, 0, budget, touched, ntouched) &&
           offer(h, ns, ties, g->edge_v[e], a + (g->edge_len_m[e] - t) * scale, s, 0, budget,
                 touched, ntouched);
}

typedef struct source {
    long edge, id;
    double along, access;
} source;

static int compare_sources(const void *pa, const void *pb)
{
    const source *a = pa, *b = pb;
    if (a->edge != b->edge)
        return a->edge < b->edge ? -1 : 1;
    if (a->along != b->along)
        return a->along < b->along ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Copy the sources on the network into f, sorted by edge, along and id. */
static bool keep_sources(cs_net_field *f, const cs_attach *src, const long *src_id)
{
    size_t n = 0;
    for (size_t i = 0; i < src->count; i++)
        n += src->edge[i] >= 0;
    source *s = cs_calloc(n + 1, sizeof *s);
    f->src_edge = cs_calloc(n + 1, sizeof *f->src_edge);
    f->src_id = cs_calloc(n + 1, sizeof *f->src_id);
    f->src_along_m = cs_calloc(n + 1, sizeof *f->src_along_m);
    f->src_access_m = cs_calloc(n + 1, sizeof *f->src_access_m);
    f->src_edge_bits = cs_calloc(f->g->edge_count / 64 + 1, sizeof *f->src_edge_bits);
    bool ok = s && f->src_edge && f->src_id && f->src_along_m && f->src_access_m &&
              f->src_edge_bits;
    if (ok) {
        size_t m = 0;
        for (size_t i = 0; i < src->count; i++)
            if (src->edge[i] >= 0)
                s[m++] = (source){src->edge[i], src_id ? src_id[i] : (long)i, src->along_m[i],
                                  src->access_m[i]};
        qsort(s, n, sizeof *s, compare_sources);
        for (size_t i = 0; i < n; i++) {
            f->src_edge_bits[s[i].edge / 64] |= (uint64_t)1 << (s[i].edge % 64);
            f->src_edge[i] = s[i].edge;
            f->src_id[i] = s[i].id;
            f->src_along_m[i] = s[i].along;
            f->src_access_m[i] = s[i].access;
        }
        f->src_count = n;
    }
    cs_free(s);
    return ok;
}

void cs_net_field_free(cs_net_field *f)
{
    if (!f)
        return;
    cs_free(f->node_cost);
    cs_free(f->node_src);
    cs_free(f->src_edge);
    cs_free(f->src_id);
    cs_free(f->src_along_m);
    cs_free(f->src_access_m);
    cs_free(f->src_edge_bits);
    cs_free(f->node_tie);
    cs_free(f->tie_start);
    cs_free(f->tie_src);
    memset(f, 0, sizeof *f);
}

void cs_net_field_keep_costs(cs_net_field *f)
{
    if (!f)
        return;
    cs_free(f->node_src);
    cs_free(f->node_tie);
    cs_free(f->tie_start);
    cs_free(f->tie_src);
    f->node_src = NULL;
    f->node_tie = NULL;
    f->tie_start = NULL;
    f->tie_src = NULL;
    f->tie_sets = 0;
}

static bool resolve_ties(cs_net_field *f, const uint32_t *list, size_t n);

cs_status cs_net_field_compute(const cs_graph *g, const cs_attach *src, const long *src_id,
                               double budget_m, cs_net_field *out)
{
    memset(out, 0, sizeof *out);
    if (!ids_fit(src_id, src->count))
        return CS_ERR_ARGUMENT;
    out->g = g;
    out->budget_m = budget_m;
    size_t nn = g->node_count;
    node_state *ns = cs_malloc((nn + 1) * sizeof *ns);
    heap h = {0};
    tie_track tt = {0};
    bool ok = ns && keep_sources(out, src, src_id);
    if (ok)
        states_reset(ns, nn);
    for (size_t i = 0; ok && i < out->src_count; i++)
        ok = offer_source(g, &h, ns, true, out->src_edge[i], out->src_along_m[i],
                          out->src_access_m[i], (uint32_t)out->src_id[i], budget_m, NULL, NULL);
    if (ok)
        ok = settle(g, &h, ns, &tt, budget_m, NULL, NULL);
    cs_free(h.e);
    if (ok) {
        out->node_cost = cs_malloc((nn + 1) * sizeof *out->node_cost);
        out->node_src = cs_malloc((nn + 1) * sizeof *out->node_src);
        out->node_tie = cs_malloc((nn + 1) * sizeof *out->node_tie);
        ok = out->node_cost && out->node_src && out->node_tie;
    }
    for (size_t i = 0; ok && i < nn; i++) {
        out->node_cost[i] = ns[i].cost;
        out->node_src[i] = ns[i].src == NO_SOURCE ? -1 : (long)ns[i].src;
        out->node_tie[i] = ns[i].tie;
    }
    cs_free(ns);
    if (ok && tt.n)
        ok = resolve_ties(out, tt.list, tt.n);
    cs_free(tt.list);
    if (!ok) {
        cs_net_field_free(out);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* The first of the sorted sources on edge e; src_count when none is. Most edges have
 * none, and for them the edge's bit answers at once: every point's cost looks its edge
 * up, and a binary search's steps go to memory (the large scale's network search stage
 * 0.78 -> 0.58 s). */
static size_t first_source(const cs_net_field *f, long e)
{
    if (!(f->src_edge_bits[e / 64] >> (e % 64) & 1))
        return f->src_count;
    size_t lo = 0, hi = f->src_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->src_edge[mid] < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------------------------ ties */

static int compare_long(const void *pa, const void *pb)
{
    long a = *(const long *)pa, b = *(const long *)pb;
    return (a > b) - (a < b);
}

/* Add node u's sources (its tie set, else its one source) to ids[*n..]. */
static bool add_node_sources(const cs_net_field *f, uint32_t u, long **ids, size_t *cap,
                             size_t *n)
{
    uint32_t t = f->node_tie ? f->node_tie[u] : 0;
    size_t from = 0, to = 0;
    if (t && t != NODE_TIED) {
        from = f->tie_start[t - 1];
        to = f->tie_start[t];
    }
    if (!cs_grow((void **)ids, cap, *n + (to - from) + 1, sizeof **ids))
        return false;
    if (from == to) {
        if (f->node_src[u] >= 0)
            (*ids)[(*n)++] = f->node_src[u];
        return true;
    }
    for (size_t i = from; i < to; i++)
        (*ids)[(*n)++] = f->tie_src[i];
    return true;
}

static bool add_id(long id, long **ids, size_t *cap, size_t *n)
{
    if (!cs_grow((void **)ids, cap, *n + 1, sizeof **ids))
        return false;
    (*ids)[(*n)++] = id;
    return true;
}

/* Sort and keep each id once; the new count. */
static size_t unique_ids(long *ids, size_t n)
{
    if (n < 2)
        return n;
    qsort(ids, n, sizeof *ids, compare_long);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (ids[i] != ids[m - 1])
            ids[m++] = ids[i];
    return m;
}

/* The tie set of every flagged node, in settling order: the union of the sets of the
 * neighbours it is reached from at its cost (settled before it, as every edge costs
 * more than nothing) and of the sources on its edges offering that same cost. The sums
 * are those of the search, so equal means what it meant there. */
static bool resolve_ties(cs_net_field *f, const uint32_t *list, size_t n)
{
    const cs_graph *g = f->g;
    long *ids = NULL;
    size_t cap = 0, sets = 0, used = 0, start_cap = 0, src_cap = 0;
    bool ok = cs_grow((void **)&f->tie_start, &start_cap, 1, sizeof *f->tie_start);
    if (ok)
        f->tie_start[0] = 0;
    for (size_t q = 0; ok && q < n; q++) {
        uint32_t v = list[q];
        double cv = f->node_cost[v];
        size_t m = 0;
        for (size_t k = g->adj_start[v]; ok && k < g->adj_start[v + 1]; k++) {
            uint32_t u = g->adj[k].node, e = g->adj[k].edge;
            if (f->node_cost[u] + g->edge_cost_m[e] == cv)
                ok = add_node_sources(f, u, &ids, &cap, &m);
            double scale = edge_scale(g, e);
            for (size_t i = first_source(f, e); ok && i < f->src_count && f->src_edge[i] == e;
                 i++) {
                double a = f->src_access_m[i], t = f->src_along_m[i];
                if ((g->edge_u[e] == v && a + t * scale == cv) ||
                    (g->edge_v[e] == v && a + (g->edge_len_m[e] - t) * scale == cv))
                    ok = add_id(f->src_id[i], &ids, &cap, &m);
            }
        }
        if (!ok)
            break;
        m = unique_ids(ids, m);
        ok = cs_grow((void **)&f->tie_src, &src_cap, used + m + 1, sizeof *f->tie_src) &&
             cs_grow((void **)&f->tie_start, &start_cap, sets + 2, sizeof *f->tie_start);
        if (!ok)
            break;
        for (size_t i = 0; i < m; i++)
            f->tie_src[used++] = ids[i];
        f->tie_start[++sets] = used;
        f->node_tie[v] = (uint32_t)sets; /* index + 1 */
    }
    f->tie_sets = sets;
    cs_free(ids);
    return ok;
}

/* The best (cost, source) of a point at (e, t) on the network, access not included;
 * *tied when another source may reach it at the same cost. */
static void point_best(const cs_net_field *f, long e, double t, double *best, long *best_src,
                       bool *tied)
{
    const cs_graph *g = f->g;
    double scale = edge_scale(g, (size_t)e), len = g->edge_len_m[e];
    uint32_t u = g->edge_u[e], v = g->edge_v[e];
    double c = f->node_cost[u] + t * scale;
    long s = f->node_src[u];
    bool tie = f->node_tie && f->node_tie[u];
    double cv = f->node_cost[v] + (len - t) * scale;
    if (cv < c) {
        c = cv;
        s = f->node_src[v];
        tie = f->node_tie && f->node_tie[v];
    } else if (cv == c && isfinite(c)) {
        tie = tie || f->node_src[v] != s || (f->node_tie && f->node_tie[v]);
        s = f->node_src[v] < s ? f->node_src[v] : s;
    }
    for (size_t i = first_source(f, e); i < f->src_count && f->src_edge[i] == e; i++) {
        double cs = f->src_access_m[i] + fabs(t - f->src_along_m[i]) * scale;
        if (cs < c) {
            c = cs;
            s = f->src_id[i];
            tie = false;
        } else if (cs == c) {
            tie = tie || f->src_id[i] != s;
            s = f->src_id[i] < s ? f->src_id[i] : s;
        }
    }
    *best = c;
    *best_src = s;
    *tied = tie;
}

size_t cs_net_point_ties(const cs_net_field *f, long e, double t, long **out, size_t *cap)
{
    if (e < 0)
        return 0;
    const cs_graph *g = f->g;
    double c;
    long s;
    bool tied;
    point_best(f, e, t, &c, &s, &tied);
    if (!isfinite(c))
        return 0;
    /* the same sums as point_best, each candidate at the best cost adds its sources */
    double scale = edge_scale(g, (size_t)e), len = g->edge_len_m[e];
    uint32_t u = g->edge_u[e], v = g->edge_v[e];
    size_t n = 0;
    bool ok = true;
    if (f->node_cost[u] + t * scale == c)
        ok = add_node_sources(f, u, out, cap, &n);
    if (ok && f->node_cost[v] + (len - t) * scale == c)
        ok = add_node_sources(f, v, out, cap, &n);
    for (size_t i = first_source(f, e); ok && i < f->src_count && f->src_edge[i] == e; i++)
        if (f->src_access_m[i] + fabs(t - f->src_along_m[i]) * scale == c)
            ok = add_id(f->src_id[i], out, cap, &n);
    return ok ? unique_ids(*out, n) : (size_t)-1;
}

void cs_net_field_points(const cs_net_field *f, const cs_attach *pts, int threads,
                         double *cost_m, long *nearest)
{
    cs_net_field_points_tied(f, pts, threads, cost_m, nearest, NULL);
}

void cs_net_field_points_tied(const cs_net_field *f, const cs_attach *pts, int threads,
                              double *cost_m, long *nearest, unsigned char *tied)
{
    long n = (long)pts->count;
#ifdef _OPENMP
    int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(nt)
#else
    (void)threads;
#endif
    for (long i = 0; i < n; i++) {
        double c = INFINITY;
        long s = -1;
        bool tie = false;
        if (pts->edge[i] >= 0) {
            point_best(f, pts->edge[i], pts->along_m[i], &c, &s, &tie);
            c += pts->access_m[i];
            if (!(c <= f->budget_m)) {
                c = INFINITY;
                s = -1;
                tie = false;
            }
        }
        cost_m[i] = c;
        if (nearest)
            nearest[i] = s;
        if (tied)
            tied[i] = tie;
    }
}

/* ------------------------------------------------------------ reached */

/* Append edge e's reached stretches (at most n_src + 2 before merging). */
static bool edge_reached(const cs_net_field *f, long e, double b, size_t first_src,
                         cs_interval **out, size_t *cap, size_t *n)
{
    const cs_graph *g = f->g;
    double len = g->edge_len_m[e], per_m = g->edge_len_m[e] / g->edge_cost_m[e];
    double cu = f->node_cost[g->edge_u[e]], cv = f->node_cost[g->edge_v[e]];
    size_t last_src = first_src;
    while (last_src < f->src_count && f->src_edge[last_src] == e)
        last_src++;
    if (!cs_grow((void **)out, cap, *n + 2 + (last_src - first_src), sizeof **out))
        return false;
    cs_interval *iv = *out + *n;
    size_t k = 0;
    if (cu <= b)
        iv[k++] = (cs_interval){e, 0, fmin(len, (b - cu) * per_m)};
    if (cv <= b)
        iv[k++] = (cs_interval){e, fmax(0, len - (b - cv) * per_m), len};
    for (size_t i = first_src; i < last_src; i++)
        if (f->src_access_m[i] <= b) {
            double r = (b - f->src_access_m[i]) * per_m;
            iv[k++] = (cs_interval){e, fmax(0, f->src_along_m[i] - r),
                                    fmin(len, f->src_along_m[i] + r)};
        }
    /* by start (a few stretches: insertion), then overlapping ones merged, empty ones
     * dropped */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && iv[j - 1].from_m > iv[j].from_m; j--) {
            cs_interval t = iv[j];
            iv[j] = iv[j - 1];
            iv[j - 1] = t;
        }
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(iv[i].to_m > iv[i].from_m))
            continue;
        if (m > 0 && iv[i].from_m <= iv[m - 1].to_m)
            iv[m - 1].to_m = fmax(iv[m - 1].to_m, iv[i].to_m);
        else
            iv[m++] = iv[i];
    }
    *n += m;
    return true;
}

bool cs_net_field_edge_reached(const cs_net_field *f, size_t e, double budget_m,
                               size_t *next_src, cs_interval **out, size_t *cap, size_t *n)
{
    const cs_graph *g = f->g;
    while (*next_src < f->src_count && f->src_edge[*next_src] < (long)e)
        (*next_src)++;
    bool near_src = *next_src < f->src_count && f->src_edge[*next_src] == (long)e;
    if (!near_src && !(f->node_cost[g->edge_u[e]] <= budget_m) &&
        !(f->node_cost[g->edge_v[e]] <= budget_m))
        return true;
    return edge_reached(f, (long)e, budget_m, *next_src, out, cap, n);
}

size_t cs_net_field_reached(const cs_net_field *f, double budget_m, cs_interval **out,
                            size_t *cap)
{
    size_t n = 0, next_src = 0;
    for (size_t e = 0; e < f->g->edge_count; e++)
        if (!cs_net_field_edge_reached(f, e, budget_m, &next_src, out, cap, &n))
            return (size_t)-1;
    return n;
}

/* ------------------------------------------------ one search per source */

static void improve(double *cost_m, long *nearest, size_t p, double c, long s, double budget)
{
    if (c <= budget && before(c, s, cost_m[p], nearest[p])) {
        cost_m[p] = c;
        nearest[p] = s;
    }
}

/* After one source's search: update the points on every edge it reached. */
static void update_points(const cs_graph *g, const cs_attach *pts, const size_t *first,
                          const size_t *of, const node_state *ns, const uint32_t *touched,
                          size_t ntouched, long id, double budget, double *cost_m, long *nearest)
{
    for (size_t k = 0; k < ntouched; k++) {
        uint32_t u = touched[k];
        for (size_t a = g->adj_start[u]; a < g->adj_start[u + 1]; a++) {
            uint32_t e = g->adj[a].edge;
            double scale = edge_scale(g, e), len = g->edge_len_m[e];
            for (size_t q = first[e]; q < first[e + 1]; q++) {
                size_t p = of[q];
                double t = pts->along_m[p];
                double c = g->edge_u[e] == u ? ns[u].cost + t * scale : INFINITY;
                if (g->edge_v[e] == u)
                    c = cs_min(c, ns[u].cost + (len - t) * scale);
                improve(cost_m, nearest, p, c + pts->access_m[p], id, budget);
            }
        }
    }
}

cs_status cs_net_each_source(const cs_graph *g, const cs_attach *src, const long *src_id,
                             double budget_m, const cs_attach *pts, double *cost_m,
                             long *nearest)
{
    if (!ids_fit(src_id, src->count))
        return CS_ERR_ARGUMENT;
    size_t nn = g->node_count, *first = NULL, *of = NULL;
    node_state *ns = cs_malloc((nn + 1) * sizeof *ns);
    uint32_t *touched = cs_calloc(nn + 1, sizeof *touched);
    heap h = {0};
    bool ok = ns && touched && cs_attach_by_edge(g, pts, NULL, &first, &of);
    if (ok)
        states_reset(ns, nn);
    for (size_t i = 0; ok && i < pts->count; i++) {
        cost_m[i] = INFINITY;
        nearest[i] = -1;
    }
    for (size_t i = 0; ok && i < src->count; i++) {
        long e = src->edge[i], id = src_id ? src_id[i] : (long)i;
        if (e < 0)
            continue;
        size_t ntouched = 0;
        h.n = 0;
        ok = offer_source(g, &h, ns, false, e, src->along_m[i], src->access_m[i], (uint32_t)id,
                          budget_m, touched, &ntouched) &&
             settle(g, &h, ns, NULL, budget_m, touched, &ntouched);
        if (!ok)
            break;
        update_points(g, pts, first, of, ns, touched, ntouched, id, budget_m, cost_m, nearest);
        /* the walk along the source's own edge */
        double scale = edge_scale(g, (size_t)e);
        for (size_t q = first[e]; q < first[e + 1]; q++) {
            size_t p = of[q];
            double c = src->access_m[i] + fabs(pts->along_m[p] - src->along_m[i]) * scale;
            improve(cost_m, nearest, p, c + pts->access_m[p], id, budget_m);
        }
        for (size_t k = 0; k < ntouched; k++)
            ns[touched[k]] = (node_state){INFINITY, NO_SOURCE, 0};
    }
    cs_free(h.e);
    cs_free(ns);
    cs_free(touched);
    cs_free(first);
    cs_free(of);
    return ok ? CS_OK : CS_ERR_NOMEM;
}

/* ------------------------------------------- every point one source reaches */

struct cs_net_reach {
    const cs_graph *g;
    const cs_attach *pts;
    size_t *first, *of; /* points by edge */
    double *along, *access; /* theirs, in the same order: read in sequence, not scattered
                               over the points (the pairs' hot loop) */
    double *access_lo, *access_hi; /* per edge: its points' least and greatest access */
};

/* A single source's search needs neither source ids nor ties: a 4-ary heap of (cost,
 * node), compared on cost alone (the fields' heap also orders by source). */
typedef struct qentry {
    double cost;
    uint32_t node;
} qentry;

typedef struct qheap {
    qentry *e;
    size_t n, cap;
} qheap;

static bool qheap_push(qheap *h, double cost, uint32_t node)
{
    if (h->n == h->cap && !cs_grow((void **)&h->e, &h->cap, h->n + 1, sizeof *h->e))
        return false;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (!(cost < h->e[p].cost))
            break;
        h->e[i] = h->e[p];
        i = p;
    }
    h->e[i] = (qentry){cost, node};
    return true;
}

static qentry qheap_pop(qheap *h)
{
    qentry top = h->e[0], last = h->e[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 4 * i + 1, end = 4 * i + 5, best = c;
        if (c >= h->n)
            break;
        end = end < h->n ? end : h->n;
        for (size_t k = c + 1; k < end; k++)
            if (h->e[k].cost < h->e[best].cost)
                best = k;
        if (!(h->e[best].cost < last.cost))
            break;
        h->e[i] = h->e[best];
        i = best;
    }
    if (h->n)
        h->e[i] = last;
    return top;
}

struct cs_net_scratch {
    double *cost;
    uint32_t *touched;
    qheap h;
};

/* Offer cost c to node v of a single source's search (as offer, without source ids). */
static inline bool offer_one(qheap *h, double *cost, uint32_t v, double c, double budget,
                             uint32_t *touched, size_t *ntouched)
{
    if (!(c <= budget) || !(c < cost[v]))
        return true;
    if (isinf(cost[v]))
        touched[(*ntouched)++] = v;
    cost[v] = c;
    return qheap_push(h, c, v);
}

/* The access bounds of each edge's points, for cs_net_reach_banded. */
static bool access_bounds(cs_net_reach *r)
{
    size_t ne = r->g->edge_count;
    r->access_lo = cs_malloc((ne + 1) * sizeof *r->access_lo);
    r->access_hi = cs_malloc((ne + 1) * sizeof *r->access_hi);
    if (!r->access_lo || !r->access_hi)
        return false;
    for (size_t e = 0; e < ne; e++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t q = r->first[e]; q < r->first[e + 1]; q++) {
            lo = cs_min(lo, r->access[q]);
            hi = cs_max(hi, r->access[q]);
        }
        r->access_lo[e] = lo;
        r->access_hi[e] = hi;
    }
    return true;
}

cs_status cs_net_reach_create(const cs_graph *g, const cs_attach *pts,
                              const unsigned char *keep, cs_net_reach **out)
{
    cs_net_reach *r = cs_calloc(1, sizeof *r);
    if (!r || !cs_attach_by_edge(g, pts, keep, &r->first, &r->of)) {
        cs_free(r);
        return CS_ERR_NOMEM;
    }
    r->g = g;
    r->pts = pts;
    size_t n = r->first[g->edge_count];
    r->along = cs_calloc(n + 1, sizeof *r->along);
    r->access = cs_calloc(n + 1, sizeof *r->access);
    if (!r->along || !r->access) {
        cs_net_reach_destroy(r);
        return CS_ERR_NOMEM;
    }
    for (size_t q = 0; q < n; q++) {
        r->along[q] = pts->along_m[r->of[q]];
        r->access[q] = pts->access_m[r->of[q]];
    }
    if (!access_bounds(r)) {
        cs_net_reach_destroy(r);
        return CS_ERR_NOMEM;
    }
    *out = r;
    return CS_OK;
}

size_t cs_net_reach_count(const cs_net_reach *r)
{
    return r->first[r->g->edge_count];
}

const size_t *cs_net_reach_points(const cs_net_reach *r)
{
    return r->of;
}

const size_t *cs_net_reach_edge_first(const cs_net_reach *r)
{
    return r->first;
}

void cs_net_reach_destroy(cs_net_reach *r)
{
    if (!r)
        return;
    cs_free(r->first);
    cs_free(r->of);
    cs_free(r->along);
    cs_free(r->access);
    cs_free(r->access_lo);
    cs_free(r->access_hi);
    cs_free(r);
}

cs_net_scratch *cs_net_scratch_create(const cs_graph *g)
{
    cs_net_scratch *s = cs_calloc(1, sizeof *s);
    size_t nn = g->node_count + 1;
    if (!s || !(s->cost = cs_calloc(nn, sizeof *s->cost)) ||
        !(s->touched = cs_calloc(nn, sizeof *s->touched))) {
        cs_net_scratch_destroy(s);
        return NULL;
    }
    for (size_t i = 0; i < nn; i++)
        s->cost[i] = INFINITY;
    return s;
}

void cs_net_scratch_destroy(cs_net_scratch *s)
{
    if (!s)
        return;
    cs_free(s->cost);
    cs_free(s->touched);
    cs_free(s->h.e);
    cs_free(s);
}

/* Room in the pair lists for `extra` more after the n held (cap: both lists' size). */
static bool reserve_pairs(size_t extra, long **pt, double **cost, size_t *cap, size_t n)
{
    if (n + extra <= *cap)
        return true;
    size_t want = *cap ? *cap : 256;
    while (want < n + extra)
        want *= 2;
    long *np = cs_reallocarray(*pt, want, sizeof *np);
    if (!np)
        return false;
    *pt = np;
    double *nc = cs_reallocarray(*cost, want, sizeof *nc);
    if (!nc)
        return false; /* *cap stays: the cost list is still the old size */
    *cost = nc;
    *cap = want;
    return true;
}

/* The points of edge e with their cheapest cost over both of its ends (and, on the
 * source's own edge, the walk along it); each edge is listed by one end only. */
static bool edge_pairs(const cs_net_reach *r, const double *cost, long e, long src_edge,
                       double src_t, double src_a, double budget, long **pt, double **pc,
                       size_t *cap, size_t *n)
{
    const cs_graph *g = r->g;
    double scale = edge_scale(g, (size_t)e), len = g->edge_len_m[e];
    double cu = cost[g->edge_u[e]], cv = cost[g->edge_v[e]];
    size_t lo = r->first[e], hi = r->first[e + 1];
    if (hi > lo && !reserve_pairs(hi - lo, pt, pc, cap, *n))
        return false;
    long *out_pt = *pt;
    double *out_c = *pc;
    size_t m = *n;
    for (size_t q = lo; q < hi; q++) {
        double t = r->along[q];
        double c = cs_min(cu + t * scale, cv + (len - t) * scale);
        if (e == src_edge)
            c = cs_min(c, src_a + fabs(t - src_t) * scale);
        c += r->access[q];
        if (c <= budget) {
            out_pt[m] = (long)r->of[q];
            out_c[m++] = c;
        }
    }
    *n = m;
    return true;
}

/* A loop appears twice in its node's list: only its first slot counts. */
static bool listed_before(const cs_graph *g, uint32_t u, size_t a)
{
    if (g->adj[a].node != u)
        return false;
    for (size_t b = g->adj_start[u]; b < a; b++)
        if (g->adj[b].edge == g->adj[a].edge)
            return true;
    return false;
}

/* One source's search within budget_m (Dijkstra, as settle for one source); the nodes
 * reached are s->touched[0 .. *ntouched). */
static bool reach_search(const cs_net_reach *r, cs_net_scratch *s, long edge, double along_m,
                         double access_m, double budget_m, size_t *ntouched)
{
    const cs_graph *g = r->g;
    double scale = edge_scale(g, (size_t)edge), *cost = s->cost;
    qheap *h = &s->h;
    *ntouched = 0;
    h->n = 0;
    if (!offer_one(h, cost, g->edge_u[edge], access_m + along_m * scale, budget_m, s->touched,
                   ntouched) ||
        !offer_one(h, cost, g->edge_v[edge], access_m + (g->edge_len_m[edge] - along_m) * scale,
                   budget_m, s->touched, ntouched))
        return false;
    while (h->n) {
        qentry top = qheap_pop(h);
        if (top.cost != cost[top.node])
            continue; /* a stale entry: the node was improved since */
        for (size_t k = g->adj_start[top.node]; k < g->adj_start[top.node + 1]; k++)
            if (!offer_one(h, cost, g->adj[k].node, top.cost + g->adj[k].cost_m, budget_m,
                           s->touched, ntouched))
                return false;
    }
    return true;
}

/* Whether the search lists edge adj[a].edge from reached node u: each edge reached is
 * listed once, the source's own edge apart (listed first); an edge with both ends
 * reached from its lower end. */
static bool lists_edge(const cs_graph *g, const cs_net_scratch *s, uint32_t u, size_t a,
                       long edge)
{
    uint32_t e = g->adj[a].edge, v = g->adj[a].node;
    return (long)e != edge && !(isfinite(s->cost[v]) && v < u) && !listed_before(g, u, a);
}

static void reach_reset(cs_net_scratch *s, size_t ntouched)
{
    for (size_t k = 0; k < ntouched; k++)
        s->cost[s->touched[k]] = INFINITY;
}

size_t cs_net_reach_from(const cs_net_reach *r, cs_net_scratch *s, long edge, double along_m,
                         double access_m, double budget_m, long **pt, double **cost,
                         size_t *cap)
{
    const cs_graph *g = r->g;
    size_t n = 0, ntouched = 0;
    if (edge < 0)
        return 0;
    bool ok = reach_search(r, s, edge, along_m, access_m, budget_m, &ntouched);
    /* the source's own edge first (its ends may not be reached within the budget) */
    ok = ok && edge_pairs(r, s->cost, edge, edge, along_m, access_m, budget_m, pt, cost, cap, &n);
    for (size_t k = 0; ok && k < ntouched; k++) {
        uint32_t u = s->touched[k];
        for (size_t a = g->adj_start[u]; ok && a < g->adj_start[u + 1]; a++)
            if (lists_edge(g, s, u, a, edge))
                ok = edge_pairs(r, s->cost, (long)g->adj[a].edge, edge, along_m, access_m,
                                budget_m, pt, cost, cap, &n);
    }
    reach_reset(s, ntouched);
    return ok ? n : (size_t)-1;
}

/* ------------------------------------------------ costs by band, edge by edge */

void cs_net_banded_free(cs_net_banded *b)
{
    cs_free(b->edge);
    cs_free(b->band);
    cs_free(b->pos);
    cs_free(b->cost);
    memset(b, 0, sizeof *b);
}

/* The band of cost c: the first b with c <= limit[b]; nb when beyond them all. */
static size_t band_of(const double *limit, size_t nb, double c)
{
    size_t b = 0;
    while (b < nb && !(c <= limit[b]))
        b++;
    return b;
}

/* Room for one more whole edge, and for one more point (out of the hot loop). */
static bool grow_edges(cs_net_banded *out)
{
    void **const array[] = {(void **)&out->edge, (void **)&out->band};
    const size_t size[] = {sizeof *out->edge, sizeof *out->band};
    return cs_grow_together(array, size, 2, &out->ecap, out->ne + 1);
}
static bool grow_points(cs_net_banded *out)
{
    void **const array[] = {(void **)&out->pos, (void **)&out->cost};
    const size_t size[] = {sizeof *out->pos, sizeof *out->cost};
    return cs_grow_together(array, size, 2, &out->pcap, out->np + 1);
}

static inline bool add_whole_edge(cs_net_banded *out, uint32_t e, size_t band)
{
    if (out->ne == out->ecap && !grow_edges(out))
        return false;
    out->edge[out->ne] = e;
    out->band[out->ne++] = (uint8_t)band;
    return true;
}

static inline bool add_point(cs_net_banded *out, size_t q, double c)
{
    if (out->np == out->pcap && !grow_points(out))
        return false;
    out->pos[out->np] = (uint32_t)q;
    out->cost[out->np++] = c;
    return true;
}

/*
 * Edge e's points, by band: the whole edge at once when the bounds of its points' costs
 * fall in one band, else point by point (costs as edge_pairs works them out). The
 * bounds: no point costs less than the cheaper end plus the least access, nor more than
 * the two ends' mean plus half the edge (where the walks from either end meet) plus the
 * greatest access (with one end reached: that end plus the edge). They are widened by
 * far more than rounding, so a bound never decides a point the exact cost would not.
 */
static bool edge_banded(const cs_net_reach *r, const double *cost, long e, long src_edge,
                        double src_t, double src_a, const double *limit, size_t nb,
                        cs_net_banded *out)
{
    const cs_graph *g = r->g;
    size_t lo = r->first[e], hi = r->first[e + 1];
    if (lo == hi)
        return true;
    double scale = edge_scale(g, (size_t)e), len = g->edge_len_m[e];
    double cu = cost[g->edge_u[e]], cv = cost[g->edge_v[e]];
    if (e != src_edge) {
        double least = cs_min(cu, cv) + r->access_lo[e];
        double most = (isfinite(cu) && isfinite(cv) ? (cu + cv + len * scale) / 2
                                                    : cs_min(cu, cv) + len * scale) +
                      r->access_hi[e];
        double slack = 1e-9 * (fabs(most) + 1);
        size_t b = band_of(limit, nb, least - slack);
        if (b == nb)
            return true; /* all beyond the budget */
        if (b == band_of(limit, nb, most + slack))
            return add_whole_edge(out, (uint32_t)e, b);
    }
    for (size_t q = lo; q < hi; q++) {
        double t = r->along[q];
        double c = cs_min(cu + t * scale, cv + (len - t) * scale);
        if (e == src_edge)
            c = cs_min(c, src_a + fabs(t - src_t) * scale);
        c += r->access[q];
        if (c <= limit[nb - 1] && !add_point(out, q, c))
            return false;
    }
    return true;
}

bool cs_net_reach_banded(const cs_net_reach *r, cs_net_scratch *s, long edge, double along_m,
                         double access_m, const double *limit, size_t nb, cs_net_banded *out)
{
    const cs_graph *g = r->g;
    size_t ntouched = 0;
    out->ne = out->np = 0;
    if (edge < 0)
        return true;
    bool ok = reach_search(r, s, edge, along_m, access_m, limit[nb - 1], &ntouched) &&
              edge_banded(r, s->cost, edge, edge, along_m, access_m, limit, nb, out);
    for (size_t k = 0; ok && k < ntouched; k++) {
        uint32_t u = s->touched[k];
        for (size_t a = g->adj_start[u]; ok && a < g->adj_start[u + 1]; a++)
            if (lists_edge(g, s, u, a, edge))
                ok = edge_banded(r, s->cost, (long)g->adj[a].edge, edge, along_m, access_m,
                                 limit, nb, out);
    }
    reach_reset(s, ntouched);
    return ok;
}
