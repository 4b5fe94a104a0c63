/*
 * window.c — the graph of the lines near a box, equal over that box to the whole graph
 * (network.h), so that a cut never holds the whole network's graph.
 *
 * The whole graph (graph.c) snaps each vertex to the nearest earlier point within the
 * tolerance, a point lying where the vertex that made it lies; it splits each line at
 * the points that end a line or are used more than once, and keeps the lines' order.
 * The window over box q takes, from every line, the runs of vertices within a box W
 * (q padded), a segment crossing W's border whole: pieces, in the lines' order. It
 * builds their graph and grows W until the window vouches for its edges meeting q.
 * Why they are then the whole graph's:
 *
 *  - Every such edge lies within "sure", W less four tolerances and a metre, else W
 *    grows past it. A piece ends only outside W (a vertex inside W keeps its segments),
 *    so an end inside sure is its line's end; and every vertex within two tolerances
 *    of the edge lies in W, so is taken: each point of the edge has all its uses, and
 *    the edge has the whole graph's splits, no more, no fewer.
 *  - A vertex's point depends only on its cluster: the vertices linked to it by steps
 *    of at most the tolerance, in their input order (a vertex is compared with points
 *    within the tolerance, made by vertices that close). A vertex the window lacks lies
 *    outside W, so a cluster none of whose vertices lies within the tolerance of W's
 *    border lacks none. W grows past every cluster that does and comes within two
 *    tolerances of those edges (a chain of close vertices can run far: a path digitised
 *    every 30 cm), along the whole lines that carry it, until none does.
 *  - The window keeps the lines' order, so its edges keep the whole graph's order.
 *
 * Crossings noded (network.node_crossings) are snapped in the order the noder meets
 * them, which depends on the whole extent: such a network's window is all of it.
 */
#include "shard/network.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Room past the tolerances, in metres, so that the border never touches what is needed. */
#define SLACK_M 1.0

void cs_net_window_free(cs_net_window *w)
{
    cs_segment_index_destroy(w->index);
    cs_graph_free(&w->graph);
    cs_lines_free(&w->lines);
    cs_free(w->line_of);
    memset(w, 0, sizeof *w);
}

void cs_shard_net_for(cs_shard_net *sn, size_t part)
{
    if (part != sn->part)
        cs_net_window_free(&sn->win);
    sn->part = part;
}

/* Whether the segment from vertex v to v + 1 has a box meeting box w. */
static bool segment_meets(const cs_lines *l, size_t v, const double w[4])
{
    double x0 = fmin(l->x[v], l->x[v + 1]), x1 = fmax(l->x[v], l->x[v + 1]);
    double y0 = fmin(l->y[v], l->y[v + 1]), y1 = fmax(l->y[v], l->y[v + 1]);
    return x0 <= w[2] && w[0] <= x1 && y0 <= w[3] && w[1] <= y1;
}

/* Whether vertex v of a line [a, b) is kept in the window: it lies in w, or a segment at
 * it meets w (a segment crossing the border is kept whole). */
static bool kept(const cs_lines *l, size_t a, size_t b, size_t v, const double w[4])
{
    return (l->x[v] >= w[0] && l->x[v] <= w[2] && l->y[v] >= w[1] && l->y[v] <= w[3]) ||
           (v > a && segment_meets(l, v - 1, w)) || (v + 1 < b && segment_meets(l, v, w));
}

/* The pieces of the lines within box w, as lines of their own in the lines' order: each
 * run of kept vertices of a line. A piece ends where its line leaves w, so its end is a
 * node of the window that is not one of the whole graph: but it lies outside w, far
 * from what the window vouches for. Counts first, then copies. False when out of
 * memory. */
static cs_status take_pieces(const cs_shard_net *sn, const double w[4], cs_net_window *win)
{
    cs_lines *t = &win->lines;
    size_t n = 0, nv = 0, lines_n;
    long *lines = cs_shard_net_lines_meeting(sn, w, &lines_n);
    if (!lines)
        return CS_ERR_NOMEM;
    cs_status st = cs_line_cache_hold(sn->lines, sn, w, lines, lines_n);
    if (st != CS_OK) {
        cs_free(lines);
        return st;
    }
    const cs_lines *l = cs_line_cache_lines(sn->lines);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            t->start = cs_calloc(n + 1, sizeof *t->start);
            t->x = cs_calloc(nv + 1, sizeof *t->x);
            t->y = cs_calloc(nv + 1, sizeof *t->y);
            t->speed = l->speed ? cs_calloc(n + 1, sizeof *t->speed) : NULL;
            win->line_of = cs_calloc(n + 1, sizeof *win->line_of);
            if (!t->start || !t->x || !t->y || (l->speed && !t->speed) || !win->line_of) {
                cs_free(lines);
                return CS_ERR_NOMEM;
            }
            n = nv = 0;
        }
        for (size_t j = 0; j < lines_n; j++) {
            size_t i = (size_t)lines[j], h = cs_line_cache_at(sn->lines, i);
            size_t a = l->start[h], b = l->start[h + 1];
            bool whole = false; /* the graph bridges a vertex without coordinates: keep
                                   such a line whole rather than end a piece there */
            for (size_t v = a; v < b && !whole; v++)
                whole = !isfinite(l->x[v]) || !isfinite(l->y[v]);
            for (size_t v = a; v < b; v++) {
                if (!whole && !kept(l, a, b, v, w))
                    continue;
                if (v == a || (!whole && !kept(l, a, b, v - 1, w))) { /* a piece starts */
                    if (pass == 1) {
                        t->start[n] = nv;
                        if (t->speed)
                            t->speed[n] = l->speed[h];
                        win->line_of[n] = i;
                    }
                    n++;
                }
                if (pass == 1)
                    t->x[nv] = l->x[v], t->y[nv] = l->y[v];
                nv++;
            }
        }
    }
    cs_free(lines);
    t->start[n] = nv;
    t->count = n;
    return CS_OK;
}

/* ------------------------------------------------------------ clusters */

typedef struct vkey {
    int64_t kx, ky; /* the vertex's cell, a tolerance wide */
    uint32_t v;
} vkey;

static int by_cell(const void *pa, const void *pb)
{
    const vkey *a = pa, *b = pb;
    if (a->kx != b->kx)
        return a->kx < b->kx ? -1 : 1;
    if (a->ky != b->ky)
        return a->ky < b->ky ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

static uint32_t root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* Whether key a's cell comes before cell (kx, ky). */
static bool before(const vkey *a, int64_t kx, int64_t ky)
{
    return a->kx < kx || (a->kx == kx && a->ky < ky);
}

/* Join every two vertices at most tol apart: k holds the m finite vertices by cell. Each
 * cell meets the cells after it in key order (up, and the next column's three) through
 * cursors that only move on, as the cells they look for only move on. */
static void link_close(const cs_lines *l, const vkey *k, size_t m, double tol,
                       uint32_t *parent)
{
    static const int64_t step[4][2] = {{0, 1}, {1, -1}, {1, 0}, {1, 1}};
    size_t at[4] = {0, 0, 0, 0};
    double tol2 = tol * tol;
    for (size_t a = 0; a < m; a++) {
        double x = l->x[k[a].v], y = l->y[k[a].v];
        for (size_t b = a + 1; b < m && k[b].kx == k[a].kx && k[b].ky == k[a].ky; b++) {
            double dx = l->x[k[b].v] - x, dy = l->y[k[b].v] - y;
            if (dx * dx + dy * dy <= tol2)
                parent[root(parent, k[a].v)] = root(parent, k[b].v);
        }
        for (size_t s = 0; s < 4; s++) {
            int64_t kx = k[a].kx + step[s][0], ky = k[a].ky + step[s][1];
            while (at[s] < m && before(&k[at[s]], kx, ky))
                at[s]++;
            for (size_t b = at[s]; b < m && k[b].kx == kx && k[b].ky == ky; b++) {
                double dx = l->x[k[b].v] - x, dy = l->y[k[b].v] - y;
                if (dx * dx + dy * dy <= tol2)
                    parent[root(parent, k[a].v)] = root(parent, k[b].v);
            }
        }
    }
}

/* The window's finite vertices inside box `out` but not inside box `hole` (NULL: none)
 * by cell into k[*m], joined when at most tol apart through parent[]. False when out
 * of memory. */
static bool link_vertices(const cs_lines *l, double tol, const double out[4],
                          const double *hole, vkey **k, size_t *m, uint32_t **parent)
{
    size_t nv = l->start[l->count];
    *m = 0;
    *k = cs_malloc((nv + 1) * sizeof **k);
    *parent = cs_malloc((nv + 1) * sizeof **parent);
    if (!*k || !*parent || nv >= UINT32_MAX)
        return false;
    for (size_t v = 0; v < nv; v++) {
        double x = l->x[v], y = l->y[v];
        if (!isfinite(x) || !isfinite(y) || !cs_box_holds(out, x, y) ||
            (hole && cs_box_holds(hole, x, y)))
            continue; /* the graph leaves vertices without coordinates out */
        (*parent)[v] = (uint32_t)v;
        (*k)[(*m)++] = (vkey){(int64_t)floor(x / tol), (int64_t)floor(y / tol), (uint32_t)v};
    }
    qsort(*k, *m, sizeof **k, by_cell);
    link_close(l, *k, *m, tol, *parent);
    return true;
}

/* Whether a cluster of the vertices on the border of `need` (those in the frame between
 * it and inner, and a tolerance on either side) holds a vertex inside need and one
 * outside inner. A chain of close vertices from need to the window's border has to
 * cross that frame, wider than the tolerance, by vertices inside it: so when none does,
 * no cluster reaches from need to the border, and only this frame (a few thousand
 * vertices) is sorted. Sets *unsure when one does. False when out of memory. */
static bool frame_crossed(const cs_lines *l, double tol, const double need[4],
                          const double inner[4], const double w[4], bool *unsure)
{
    vkey *k = NULL;
    uint32_t *parent = NULL;
    uint8_t *side = NULL;
    double hole[4], out[4]; /* a little more than the frame: a step of exactly tol */
    cs_box_padded(need, -(tol + SLACK_M / 2), hole);
    cs_box_padded(w, SLACK_M / 2, out);
    size_t m = 0;
    bool ok = link_vertices(l, tol, out, hole, &k, &m, &parent) &&
              (side = cs_calloc(l->start[l->count] + 1, 1)) != NULL;
    *unsure = false;
    for (size_t i = 0; ok && i < m; i++) {
        double x = l->x[k[i].v], y = l->y[k[i].v];
        uint8_t *at = &side[root(parent, k[i].v)];
        *at |= (uint8_t)((cs_box_holds(need, x, y) ? 1 : 0) |
                         (cs_box_holds(inner, x, y) ? 0 : 2));
        *unsure |= *at == 3;
    }
    cs_free(k);
    cs_free(parent);
    cs_free(side);
    return ok;
}

/*
 * The clusters of the window's vertices (within tol of one another, step by step): grow
 * w past every one that has a vertex within tol of w's border and one in `need`. *grown
 * tells whether it did. False when out of memory.
 */
static bool close_clusters(const cs_shard_net *sn, const cs_net_window *win, double tol,
                           const double need[4], double w[4], bool *grown)
{
    const cs_lines *l = &win->lines;
    double inner[4]; /* a vertex outside it may be within tol of a line not taken */
    cs_box_padded(w, -tol, inner);
    bool unsure;
    *grown = false;
    if (!frame_crossed(l, tol, need, inner, w, &unsure))
        return false;
    if (!unsure)
        return true;
    /* every vertex, to see how far the clusters that cross reach */
    size_t m = 0;
    vkey *k = NULL;
    uint32_t *parent = NULL;
    uint8_t *open = NULL;
    const double all[4] = {-INFINITY, -INFINITY, INFINITY, INFINITY};
    bool ok = link_vertices(l, tol, all, NULL, &k, &m, &parent) &&
              (open = cs_calloc(l->start[l->count] + 1, 1)) != NULL;
    for (size_t i = 0; ok && i < m; i++)
        if (!cs_box_holds(inner, l->x[k[i].v], l->y[k[i].v]))
            open[root(parent, k[i].v)] = 1;
    for (size_t i = 0; ok && i < m; i++) /* open and needed: grow past it */
        if (open[root(parent, k[i].v)] && cs_box_holds(need, l->x[k[i].v], l->y[k[i].v]))
            open[root(parent, k[i].v)] = 2;
    /* the whole lines those clusters run along (a chain follows a path digitised
       densely for as long as it is), each at once */
    double more[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t p = 0; ok && p < l->count; p++)
        for (size_t v = l->start[p]; v < l->start[p + 1]; v++)
            if (isfinite(l->x[v]) && isfinite(l->y[v]) && open[root(parent, (uint32_t)v)] == 2) {
                cs_box_join(more, sn->line_box + 4 * win->line_of[p]);
                break;
            }
    if (more[0] <= more[2]) {
        cs_box_padded(more, 4 * tol + SLACK_M, more);
        cs_box_join(w, more);
        *grown = true;
    }
    cs_free(k);
    cs_free(parent);
    cs_free(open);
    return ok;
}

/* ------------------------------------------------------------ the window */

/* The box of the window's edges meeting q, into need. Those not within box `sure` (their
 * end may be a piece's end, or a split the window lacks) are padded by margin and their
 * own size into `more`: a long edge is reached in a few steps. */
static void edges_meeting(const cs_graph *g, const double q[4], const double sure[4],
                          double margin, double need[4], double more[4])
{
    for (size_t e = 0; e < g->edge_count; e++) {
        double b[4];
        cs_edge_box(g, e, b);
        if (!cs_box_meets(b, q))
            continue;
        cs_box_join(need, b);
        if (!cs_box_within(b, sure)) {
            cs_box_padded(b, margin + fmax(b[2] - b[0], b[3] - b[1]), b);
            cs_box_join(more, b);
        }
    }
}

/* Build window win over box q afresh. */
static cs_status build(const cs_shard_net *sn, cs_net_window *win, const double q[4])
{
    const cs_study *s = sn->s;
    double tol = s->net.snap_m > 0 ? s->net.snap_m : 0, margin = 4 * tol + SLACK_M;
    /* room for the edges that cross q's border to reach their far ends at once */
    double w[4], sure[4], need[4];
    cs_box_padded(q, margin + 100 + 0.02 * fmax(q[2] - q[0], q[3] - q[1]), w);
    if (s->net.node_crossings) /* every line: see above */
        cs_box_padded(sn->box, SLACK_M, w);
    for (;;) {
        cs_net_window_free(win);
        cs_status st = take_pieces(sn, w, win);
        if (st != CS_OK)
            return st;
        st = cs_graph_build_boxed(&win->lines, s->net.snap_m, s->net.node_crossings,
                                            sn->box, &win->graph);
        if (st != CS_OK)
            return st;
        if (s->net.node_crossings)
            break;
        cs_box_padded(w, -margin, sure);
        double more[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        need[0] = need[1] = INFINITY, need[2] = need[3] = -INFINITY;
        edges_meeting(&win->graph, q, sure, margin + 100, need, more);
        if (more[0] <= more[2]) { /* reach past them, and again */
            cs_box_join(w, more);
            continue;
        }
        bool grown = false;
        cs_box_padded(need, 2 * tol, need);
        if (tol > 0 && need[0] <= need[2] && !close_clusters(sn, win, tol, need, w, &grown))
            return CS_ERR_NOMEM;
        if (!grown)
            break;
    }
    cs_status st = cs_segment_index_create(&win->graph, &win->index);
    memcpy(win->exact, q, sizeof win->exact);
    if (s->net.node_crossings) /* the whole graph: exact everywhere */
        win->exact[0] = win->exact[1] = -INFINITY, win->exact[2] = win->exact[3] = INFINITY;
    win->built = st == CS_OK;
    return st;
}

cs_status cs_net_window_make(const cs_shard_net *sn, cs_net_window *win, const double q[4])
{
    if (win->built && cs_box_within(q, win->exact))
        return CS_OK;
    double b[4];
    memcpy(b, q, sizeof b);
    if (win->built)
        cs_box_join(b, win->exact);
    cs_status st = build(sn, win, b);
    if (st != CS_OK)
        cs_net_window_free(win);
    return st;
}

cs_status cs_net_window_cover(cs_shard_net *sn, const double q[4])
{
    return cs_net_window_make(sn, &sn->win, q);
}
