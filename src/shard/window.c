/*
 * window.c — the graph of the lines near a box, equal over that box to the whole graph
 * (network.h), so that a cut never holds the whole network's graph.
 *
 * The whole graph (graph.c) snaps each vertex to the nearest earlier point within the
 * tolerance, a point lying where the vertex that made it lies; it splits each line at
 * the points that end a line or are used more than once, and keeps the lines' order.
 * The window over box q takes every line whose box meets W, the union of q and the
 * boxes of the lines meeting q (padded by the tolerance: snapping moves a vertex that
 * far), padded by four tolerances and a metre. Why its edges meeting q are the whole's:
 *
 *  - An edge meeting q comes from a line meeting q padded, and every line with a vertex
 *    within two tolerances of such a line is taken (its box meets W).
 *  - A vertex's point depends only on its cluster: the vertices linked to it by steps
 *    of at most the tolerance, in their input order (a vertex is compared with points
 *    within the tolerance, made by vertices that close). A line the window misses lies
 *    wholly outside W, so a cluster none of whose vertices lies within the tolerance of
 *    W's border misses none of its vertices. The window grows past every cluster that
 *    does and comes within two tolerances of the lines meeting q (a chain of close
 *    vertices can run far: a path digitised every 30 cm), until none does. Then those
 *    lines' points, and every use of them, are the whole graph's: so are their splits.
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

static bool meets(const double a[4], const double b[4])
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

/* Whether a lies within b. */
static bool within(const double a[4], const double b[4])
{
    return a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
}

static void padded(const double in[4], double d, double out[4])
{
    out[0] = in[0] - d, out[1] = in[1] - d, out[2] = in[2] + d, out[3] = in[3] + d;
}

static void join(double a[4], const double b[4])
{
    a[0] = fmin(a[0], b[0]), a[1] = fmin(a[1], b[1]);
    a[2] = fmax(a[2], b[2]), a[3] = fmax(a[3], b[3]);
}

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

/* Copy the lines whose box meets box w, in their order. False when out of memory. */
static bool take_lines(const cs_shard_net *sn, const double w[4], cs_net_window *win)
{
    const cs_lines *l = &sn->s->net.lines;
    size_t n = 0, nv = 0;
    for (size_t i = 0; i < l->count; i++)
        if (meets(sn->line_box + 4 * i, w)) {
            n++;
            nv += l->start[i + 1] - l->start[i];
        }
    cs_lines *t = &win->lines;
    t->start = cs_calloc(n + 1, sizeof *t->start);
    t->x = cs_calloc(nv + 1, sizeof *t->x);
    t->y = cs_calloc(nv + 1, sizeof *t->y);
    t->speed = l->speed ? cs_calloc(n + 1, sizeof *t->speed) : NULL;
    win->line_of = cs_calloc(n + 1, sizeof *win->line_of);
    if (!t->start || !t->x || !t->y || (l->speed && !t->speed) || !win->line_of)
        return false;
    size_t k = 0, v = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (!meets(sn->line_box + 4 * i, w))
            continue;
        size_t a = l->start[i], len = l->start[i + 1] - a;
        t->start[k] = v;
        memcpy(t->x + v, l->x + a, len * sizeof *t->x);
        memcpy(t->y + v, l->y + a, len * sizeof *t->y);
        if (t->speed)
            t->speed[k] = l->speed[i];
        win->line_of[k++] = i;
        v += len;
    }
    t->start[k] = v;
    t->count = k;
    return true;
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

static bool point_in(const double b[4], double x, double y)
{
    return x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
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
        if (!isfinite(x) || !isfinite(y) || !point_in(out, x, y) || (hole && point_in(hole, x, y)))
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
    padded(need, -(tol + SLACK_M / 2), hole);
    padded(w, SLACK_M / 2, out);
    size_t m = 0;
    bool ok = link_vertices(l, tol, out, hole, &k, &m, &parent) &&
              (side = cs_calloc(l->start[l->count] + 1, 1)) != NULL;
    *unsure = false;
    for (size_t i = 0; ok && i < m; i++) {
        double x = l->x[k[i].v], y = l->y[k[i].v];
        uint8_t *at = &side[root(parent, k[i].v)];
        *at |= (uint8_t)((point_in(need, x, y) ? 1 : 0) | (point_in(inner, x, y) ? 0 : 2));
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
static bool close_clusters(const cs_lines *l, double tol, const double need[4], double w[4],
                           bool *grown)
{
    double inner[4]; /* a vertex outside it may be within tol of a line not taken */
    padded(w, -tol, inner);
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
        if (!point_in(inner, l->x[k[i].v], l->y[k[i].v]))
            open[root(parent, k[i].v)] = 1;
    for (size_t i = 0; ok && i < m; i++) /* open and needed: grow past it */
        if (open[root(parent, k[i].v)] && point_in(need, l->x[k[i].v], l->y[k[i].v]))
            open[root(parent, k[i].v)] = 2;
    double more[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; ok && i < m; i++)
        if (open[root(parent, k[i].v)] == 2) {
            double x = l->x[k[i].v], y = l->y[k[i].v];
            join(more, (double[4]){x, y, x, y});
        }
    if (more[0] <= more[2]) {
        padded(more, 4 * tol + SLACK_M, more);
        join(w, more);
        *grown = true;
    }
    cs_free(k);
    cs_free(parent);
    cs_free(open);
    return ok;
}

/* ------------------------------------------------------------ the window */

/* Build the window over box q afresh. */
static cs_status build(cs_shard_net *sn, const double q[4])
{
    const cs_study *s = sn->s;
    const cs_lines *l = &s->net.lines;
    double tol = s->net.snap_m > 0 ? s->net.snap_m : 0;
    double wide[4], need[4], w[4];
    padded(q, tol, wide);
    memcpy(need, q, sizeof need);
    for (size_t i = 0; i < l->count; i++)
        if (meets(sn->line_box + 4 * i, wide))
            join(need, sn->line_box + 4 * i);
    padded(need, 4 * tol + SLACK_M, w);
    padded(need, 2 * tol, need);
    if (s->net.node_crossings) /* every line: see above */
        padded(sn->box, SLACK_M, w);
    cs_net_window *win = &sn->win;
    for (;;) {
        cs_net_window_free(win);
        if (!take_lines(sn, w, win))
            return CS_ERR_NOMEM;
        bool grown = false;
        bool clusters = tol > 0 && !s->net.node_crossings;
        if (clusters && !close_clusters(&win->lines, tol, need, w, &grown))
            return CS_ERR_NOMEM;
        if (!grown)
            break;
    }
    cs_status st = cs_graph_build_boxed(&win->lines, s->net.snap_m, s->net.node_crossings,
                                        sn->box, &win->graph);
    if (st == CS_OK)
        st = cs_segment_index_create(&win->graph, &win->index);
    memcpy(win->exact, q, sizeof win->exact);
    win->built = st == CS_OK;
    return st;
}

cs_status cs_net_window_cover(cs_shard_net *sn, const double q[4])
{
    if (sn->win.built && within(q, sn->win.exact))
        return CS_OK;
    double b[4];
    memcpy(b, q, sizeof b);
    if (sn->win.built)
        join(b, sn->win.exact);
    cs_status st = build(sn, b);
    if (st != CS_OK)
        cs_net_window_free(&sn->win);
    return st;
}
