/*
 * test_graph.c — the walking graph (src/net/graph.c) and point attachment
 * (src/net/attach.c) against independent computations: small networks worked by hand
 * (junctions, crossings with and without noding, snapping, a line touching itself,
 * zero-length pieces, speed factors, component order, cutting a bent edge); snapping
 * of random clustered vertices against a plain loop over earlier points; crossing,
 * T-junction and component counts of random segments against a loop over all pairs;
 * and the attachment of random points against a loop over every segment of every
 * edge, on one and two threads. Allocation failures are tried at every allocation.
 */
#include "testutil.h"

#include "net/graph.h"
#include "shard/network.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

#define END NAN, 0
#define PAIRS(xy) (sizeof(xy) / sizeof(xy)[0] / 2)
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* Lines from (x, y) pairs; a NAN x ends a line. The test owns the arrays. */
static void make_lines(cs_lines *l, const double *xy, size_t n, const double *speeds)
{
    memset(l, 0, sizeof *l);
    l->start = calloc(n + 2, sizeof *l->start);
    l->x = calloc(n + 1, sizeof *l->x);
    l->y = calloc(n + 1, sizeof *l->y);
    assert_non_null(l->start);
    assert_non_null(l->x);
    assert_non_null(l->y);
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(xy[2 * i])) {
            l->start[++l->count] = v;
            continue;
        }
        l->x[v] = xy[2 * i];
        l->y[v++] = xy[2 * i + 1];
    }
    if (speeds) {
        l->speed = calloc(l->count + 1, sizeof *l->speed);
        assert_non_null(l->speed);
        memcpy(l->speed, speeds, l->count * sizeof *l->speed);
    }
}

static void free_lines(cs_lines *l)
{
    free(l->start);
    free(l->x);
    free(l->y);
    free(l->speed);
    memset(l, 0, sizeof *l);
}

/* Structural checks that hold for every graph: CSR slots sorted by edge with the right
 * far ends (a loop twice), compact nodes, both ends of an edge in one component,
 * components by decreasing length, lengths that are the polylines' lengths. */
static void check_invariants(const cs_graph *g)
{
    size_t nn = g->node_count, ne = g->edge_count;
    assert_int_equal(g->adj_start[0], 0);
    assert_int_equal(g->adj_start[nn], 2 * ne);
    size_t *seen = calloc(ne + 1, sizeof *seen);
    bool *used = calloc(nn + 1, sizeof *used);
    assert_non_null(seen);
    assert_non_null(used);
    for (size_t n = 0; n < nn; n++) {
        assert_true(g->adj_start[n + 1] > g->adj_start[n]); /* every node has an edge */
        for (size_t s = g->adj_start[n]; s < g->adj_start[n + 1]; s++) {
            uint32_t e = g->adj[s].edge;
            assert_true(e < ne);
            if (s > g->adj_start[n])
                assert_true(g->adj[s - 1].edge <= e);
            bool at_u = g->edge_u[e] == n, at_v = g->edge_v[e] == n;
            assert_true(at_u || at_v);
            assert_int_equal(g->adj[s].node, at_u ? g->edge_v[e] : g->edge_u[e]);
            seen[e]++;
        }
    }
    double total = 0;
    double *comp_len = calloc(g->component_count + 1, sizeof *comp_len);
    assert_non_null(comp_len);
    for (size_t e = 0; e < ne; e++) {
        assert_int_equal(seen[e], 2);
        uint32_t u = g->edge_u[e], v = g->edge_v[e];
        used[u] = used[v] = true;
        size_t a = g->edge_vstart[e], b = g->edge_vstart[e + 1];
        assert_true(b >= a + 2);
        assert_true(g->vx[a] == g->node_x[u] && g->vy[a] == g->node_y[u]);
        assert_true(g->vx[b - 1] == g->node_x[v] && g->vy[b - 1] == g->node_y[v]);
        double len = 0;
        for (size_t i = a; i + 1 < b; i++)
            len += hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
        assert_true(g->edge_len_m[e] > 0);
        assert_true(fabs(g->edge_len_m[e] - len) < 1e-9 * (1 + len));
        assert_int_equal(g->node_component[u], g->node_component[v]);
        assert_true(g->node_component[u] < g->component_count);
        comp_len[g->node_component[u]] += g->edge_len_m[e];
        total += g->edge_len_m[e];
    }
    for (size_t n = 0; n < nn; n++)
        assert_true(used[n]);
    assert_true(fabs(g->total_len_m - total) < 1e-6);
    for (size_t c = 0; c < g->component_count; c++) {
        assert_true(fabs(g->component_len_m[c] - comp_len[c]) < 1e-6);
        if (c > 0)
            assert_true(g->component_len_m[c - 1] >= g->component_len_m[c]);
    }
    free(seen);
    free(used);
    free(comp_len);
}

/* Renumber the nodes in order of first appearance along the edges (u, then v), the
 * order the cases below are written in (the graph numbers them along a Morton curve),
 * and rebuild the slots the same way: by node, each node's sorted by edge. */
static void by_appearance(cs_graph *g)
{
    size_t nn = g->node_count, ne = g->edge_count, next = 0;
    uint32_t *to = malloc((nn + 1) * sizeof *to);
    for (size_t n = 0; n < nn; n++)
        to[n] = UINT32_MAX;
    for (size_t e = 0; e < ne; e++) {
        if (to[g->edge_u[e]] == UINT32_MAX)
            to[g->edge_u[e]] = (uint32_t)next++;
        if (to[g->edge_v[e]] == UINT32_MAX)
            to[g->edge_v[e]] = (uint32_t)next++;
    }
    assert_int_equal(next, nn);
    double *x = malloc((nn + 1) * sizeof *x), *y = malloc((nn + 1) * sizeof *y);
    uint32_t *comp = malloc((nn + 1) * sizeof *comp);
    for (size_t n = 0; n < nn; n++) {
        x[to[n]] = g->node_x[n];
        y[to[n]] = g->node_y[n];
        comp[to[n]] = g->node_component[n];
    }
    memcpy(g->node_x, x, nn * sizeof *x);
    memcpy(g->node_y, y, nn * sizeof *y);
    memcpy(g->node_component, comp, nn * sizeof *comp);
    for (size_t e = 0; e < ne; e++) {
        g->edge_u[e] = to[g->edge_u[e]];
        g->edge_v[e] = to[g->edge_v[e]];
    }
    memset(g->adj_start, 0, (nn + 1) * sizeof *g->adj_start);
    for (size_t e = 0; e < ne; e++) {
        g->adj_start[g->edge_u[e] + 1]++;
        g->adj_start[g->edge_v[e] + 1]++;
    }
    for (size_t n = 0; n < nn; n++)
        g->adj_start[n + 1] += g->adj_start[n];
    size_t *fill = malloc((nn + 1) * sizeof *fill);
    memcpy(fill, g->adj_start, (nn + 1) * sizeof *fill);
    for (size_t e = 0; e < ne; e++) {
        uint32_t u = g->edge_u[e], v = g->edge_v[e];
        size_t i = fill[u]++;
        g->adj[i].edge = (uint32_t)e;
        g->adj[i].node = v;
        g->adj[i].cost_m = g->edge_cost_m[e];
        i = fill[v]++;
        g->adj[i].edge = (uint32_t)e;
        g->adj[i].node = u;
        g->adj[i].cost_m = g->edge_cost_m[e];
    }
    free(fill);
    free(to);
    free(x);
    free(y);
    free(comp);
}

static void build(cs_graph *g, const double *xy, size_t n, const double *speeds, double snap,
                  bool node)
{
    cs_lines l;
    make_lines(&l, xy, n, speeds);
    assert_int_equal(cs_graph_build(&l, snap, node, g), CS_OK);
    free_lines(&l);
    check_invariants(g);
    by_appearance(g);
    check_invariants(g);
}

static void assert_node(const cs_graph *g, size_t n, double x, double y)
{
    assert_true(n < g->node_count);
    assert_true(NEAR(g->node_x[n], x) && NEAR(g->node_y[n], y));
}

static size_t degree(const cs_graph *g, size_t n)
{
    return g->adj_start[n + 1] - g->adj_start[n];
}

/* -------------------------------------------------------------- topology */

static void t_junction_at_shared_vertex(void **state)
{
    (void)state;
    /* a street 0-200 with a side street north from its vertex at 100 */
    const double xy[] = {0, 0, 100, 0, 200, 0, END, 100, 0, 100, 80, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.node_count, 4);
    assert_int_equal(g.edge_count, 3);
    /* nodes by first appearance along the lines */
    assert_node(&g, 0, 0, 0);
    assert_node(&g, 1, 100, 0);
    assert_node(&g, 2, 200, 0);
    assert_node(&g, 3, 100, 80);
    const uint32_t u[] = {0, 1, 1}, v[] = {1, 2, 3};
    const double len[] = {100, 100, 80};
    for (size_t e = 0; e < 3; e++) {
        assert_int_equal(g.edge_u[e], u[e]);
        assert_int_equal(g.edge_v[e], v[e]);
        assert_true(NEAR(g.edge_len_m[e], len[e]) && NEAR(g.edge_cost_m[e], len[e]));
        assert_int_equal(g.edge_vstart[e + 1] - g.edge_vstart[e], 2);
    }
    /* the junction: edges 0, 1, 2 to nodes 0, 2, 3 */
    assert_int_equal(degree(&g, 1), 3);
    const uint32_t slots_e[] = {0, 1, 2}, slots_n[] = {0, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(g.adj[g.adj_start[1] + i].edge, slots_e[i]);
        assert_int_equal(g.adj[g.adj_start[1] + i].node, slots_n[i]);
    }
    assert_int_equal(g.component_count, 1);
    assert_true(NEAR(g.total_len_m, 280) && NEAR(g.component_len_m[0], 280));
    /* a shared vertex is an exact duplicate, not a snapped one */
    assert_int_equal(g.snapped_vertices, 0);
    assert_int_equal(g.dropped_segments, 0);
    assert_int_equal(g.noded_crossings, 0);
    cs_graph_free(&g);
    /* noding changes nothing here */
    build(&g, xy, PAIRS(xy), NULL, 0.5, true);
    assert_int_equal(g.edge_count, 3);
    assert_int_equal(g.noded_crossings, 0);
    cs_graph_free(&g);
}

static void crossing_without_vertex(void **state)
{
    (void)state;
    /* a bridge over a street: no shared vertex */
    const double xy[] = {0, 0, 200, 0, END, 100, -100, 100, 100, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.edge_count, 2);
    assert_int_equal(g.node_count, 4);
    assert_int_equal(g.component_count, 2);
    /* equal lengths: the component with the node first along the graph's Morton curve
     * first; over the box (0..200, -100..100) that is (100, -100), whose cell
     * (32767, 0) interleaves lower than (0, 0)'s (0, 32767): the bridge's */
    assert_int_equal(g.node_component[0], 1);
    assert_int_equal(g.node_component[1], 1);
    assert_int_equal(g.node_component[2], 0);
    assert_int_equal(g.node_component[3], 0);
    assert_int_equal(g.noded_crossings, 0);
    cs_graph_free(&g);

    /* noded: four 100 m edges around a new node at (100, 0) */
    build(&g, xy, PAIRS(xy), NULL, 0.5, true);
    assert_int_equal(g.edge_count, 4);
    assert_int_equal(g.node_count, 5);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.noded_crossings, 1);
    assert_node(&g, 0, 0, 0);
    assert_node(&g, 1, 100, 0);
    assert_node(&g, 2, 200, 0);
    assert_node(&g, 3, 100, -100);
    assert_node(&g, 4, 100, 100);
    assert_int_equal(degree(&g, 1), 4);
    for (size_t e = 0; e < 4; e++)
        assert_true(NEAR(g.edge_len_m[e], 100));
    cs_graph_free(&g);
}

static void crossings_noded(void **state)
{
    (void)state;
    cs_graph g;
    /* a T whose stem ends on the street's interior, without a vertex there */
    const double tee[] = {0, 0, 200, 0, END, 50, 0, 50, 60, END};
    build(&g, tee, PAIRS(tee), NULL, 0.5, false);
    assert_int_equal(g.component_count, 2);
    cs_graph_free(&g);
    build(&g, tee, PAIRS(tee), NULL, 0.5, true);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.edge_count, 3);
    assert_int_equal(g.noded_crossings, 1);
    assert_true(NEAR(g.edge_len_m[0], 50) && NEAR(g.edge_len_m[1], 150));
    cs_graph_free(&g);

    /* the stem stops 0.3 m short: joined within a 0.5 m tolerance, at the stem's end */
    const double gap[] = {0, 0, 200, 0, END, 50, 0.3, 50, 60, END};
    build(&g, gap, PAIRS(gap), NULL, 0.5, true);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.edge_count, 3);
    assert_node(&g, 1, 50, 0.3);
    assert_true(NEAR(g.edge_len_m[0], sqrt(50 * 50 + 0.09)));
    assert_true(NEAR(g.edge_len_m[1], sqrt(150 * 150 + 0.09)));
    assert_true(NEAR(g.edge_len_m[2], 59.7));
    cs_graph_free(&g);
    build(&g, gap, PAIRS(gap), NULL, 0.2, true);
    assert_int_equal(g.component_count, 2);
    cs_graph_free(&g);

    /* a street through another's interior vertex: only one of them has it */
    const double x_one[] = {0, 0, 100, 0, 200, 0, END, 100, -100, 100, 100, END};
    build(&g, x_one, PAIRS(x_one), NULL, 0.5, false);
    assert_int_equal(g.component_count, 2);
    cs_graph_free(&g);
    build(&g, x_one, PAIRS(x_one), NULL, 0.5, true);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.edge_count, 4);
    assert_int_equal(g.noded_crossings, 1);
    cs_graph_free(&g);

    /* three streets through one point: one new node, six edges */
    const double three[] = {-100, 0, 100, 0, END, 0, -100, 0, 100, END,
                            -100, -100, 100, 100, END};
    build(&g, three, PAIRS(three), NULL, 0.5, true);
    assert_int_equal(g.node_count, 7);
    assert_int_equal(g.edge_count, 6);
    assert_int_equal(g.noded_crossings, 1);
    assert_node(&g, 1, 0, 0);
    assert_int_equal(degree(&g, 1), 6);
    cs_graph_free(&g);

    /* one street crossed twice, the later crossing given first: cut in order along it */
    const double two[] = {0, 0, 300, 0, END, 200, -50, 200, 50, END, 100, -50, 100, 50, END};
    build(&g, two, PAIRS(two), NULL, 0.5, true);
    assert_int_equal(g.edge_count, 7);
    assert_int_equal(g.noded_crossings, 2);
    assert_node(&g, 1, 100, 0);
    assert_node(&g, 2, 200, 0);
    for (size_t e = 0; e < 3; e++)
        assert_true(NEAR(g.edge_len_m[e], 100));
    assert_int_equal(g.edge_u[0], 0);
    assert_int_equal(g.edge_v[2], 3);
    cs_graph_free(&g);

    /* a grid of 20 by 20 streets without shared vertices: 400 crossings, each street
     * cut into 21 edges, all one component */
    double grid[40 * 3 * 2];
    for (size_t i = 0; i < 20; i++) {
        double *h = grid + 6 * i, *v = grid + 6 * (20 + i);
        h[0] = -5, h[1] = 10.0 * (double)i, h[2] = 195, h[3] = 10.0 * (double)i;
        v[0] = 10.0 * (double)i, v[1] = -5, v[2] = 10.0 * (double)i, v[3] = 195;
        h[4] = v[4] = NAN;
        h[5] = v[5] = 0;
    }
    build(&g, grid, PAIRS(grid), NULL, 0.5, true);
    assert_int_equal(g.noded_crossings, 400);
    assert_int_equal(g.edge_count, 40 * 21);
    assert_int_equal(g.node_count, 80 + 400);
    assert_int_equal(g.component_count, 1);
    assert_true(NEAR(g.total_len_m, 40 * 200));
    /* along the first street: 5 m, then 19 pieces of 10 m, then 5 m */
    for (size_t e = 0; e < 21; e++)
        assert_true(NEAR(g.edge_len_m[e], e == 0 || e == 20 ? 5 : 10));
    cs_graph_free(&g);

    /* a line crossing itself (segments 0 and 2): the crossing becomes its node */
    const double self[] = {0, 0, 100, 100, 100, 0, 0, 100, END};
    build(&g, self, PAIRS(self), NULL, 0.5, false);
    assert_int_equal(g.edge_count, 1);
    cs_graph_free(&g);
    build(&g, self, PAIRS(self), NULL, 0.5, true);
    assert_int_equal(g.edge_count, 3);
    assert_int_equal(g.node_count, 3);
    assert_int_equal(g.noded_crossings, 1);
    assert_node(&g, 1, 50, 50);
    double d = 50 * sqrt(2);
    assert_true(NEAR(g.edge_len_m[0], d));
    assert_int_equal(g.edge_u[1], g.edge_v[1]); /* the loop 50,50 - 100,100 - 100,0 */
    assert_true(NEAR(g.edge_len_m[1], 2 * d + 100));
    assert_true(NEAR(g.edge_len_m[2], d));
    cs_graph_free(&g);
}

static void snapping(void **state)
{
    (void)state;
    /* two streets whose ends are 0.3 m apart */
    const double xy[] = {0, 0, 100, 0, END, 100.3, 0, 200, 0, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.node_count, 3);
    assert_int_equal(g.snapped_vertices, 1);
    /* the later vertex moves onto the earlier one */
    assert_node(&g, 1, 100, 0);
    assert_true(NEAR(g.edge_len_m[1], 100));
    cs_graph_free(&g);
    build(&g, xy, PAIRS(xy), NULL, 0.2, false);
    assert_int_equal(g.component_count, 2);
    assert_int_equal(g.node_count, 4);
    assert_int_equal(g.snapped_vertices, 0);
    cs_graph_free(&g);
    build(&g, xy, PAIRS(xy), NULL, 0, false);
    assert_int_equal(g.component_count, 2);
    cs_graph_free(&g);

    /* no chaining: 0.4 joins 0, but 0.8 is 0.8 from the only point and stays apart */
    const double chain[] = {0, 0, 0, 50, END, 0.4, 0, 50, 0, END, 0.8, 0, 0.8, -50, END};
    build(&g, chain, PAIRS(chain), NULL, 0.5, false);
    assert_int_equal(g.snapped_vertices, 1);
    assert_int_equal(g.component_count, 2);
    assert_node(&g, 0, 0, 0);
    cs_graph_free(&g);

    /* a vertex within reach of two points goes to the nearer (0.35 m, not 0.45 m) */
    const double two[] = {0, 0, 0, 50, END, 0.8, 0, 0.8, 50, END, 0.45, 0, 0.45, -50, END};
    build(&g, two, PAIRS(two), NULL, 0.5, false);
    assert_int_equal(g.snapped_vertices, 1);
    assert_int_equal(g.component_count, 2);
    assert_int_equal(g.node_component[2], g.node_component[3]); /* with 0.8, 0 */
    assert_int_equal(g.edge_u[2], 2);
    cs_graph_free(&g);

    /* negative and positive zero are one place even without a tolerance */
    const double zero[] = {-0.0, 0, 10, 0, END, 0.0, -0.0, 0, 10, END};
    build(&g, zero, PAIRS(zero), NULL, 0, false);
    assert_int_equal(g.component_count, 1);
    assert_int_equal(g.node_count, 3);
    cs_graph_free(&g);
}

/* Snapping by brute force: each vertex in input order goes to the nearest earlier
 * point within tol (ties: the earliest), or becomes a point itself. */
static void random_snapping(void **state)
{
    (void)state;
    enum { LINES = 2000, V = 2 * LINES };
    const double tol = 0.5;
    static double vx[V], vy[V], px[V], py[V], xy[3 * V];
    static size_t rep[V];
    srand(5);
    /* vertices in clusters about a tolerance wide, so that many snap and some are
     * within reach of two points */
    double cx = 0, cy = 0;
    for (size_t i = 0; i < V; i++) {
        if (i % 8 != 1) { /* every fourth line has both ends in one cluster */
            cx = rand() % 40 * 2.5;
            cy = rand() % 40 * 2.5;
        }
        vx[i] = cx + (rand() % 1201 - 600) / 1000.0;
        vy[i] = cy + (rand() % 1201 - 600) / 1000.0;
    }
    size_t np = 0, moved = 0;
    for (size_t i = 0; i < V; i++) {
        size_t best = np;
        double best_d = INFINITY;
        for (size_t p = 0; p < np; p++) {
            double d = hypot(px[p] - vx[i], py[p] - vy[i]);
            if (d <= tol && d < best_d)
                best = p, best_d = d;
        }
        if (best == np) {
            px[np] = vx[i];
            py[np++] = vy[i];
        }
        moved += best_d > 0 && best_d <= tol;
        rep[i] = best;
    }
    for (size_t i = 0; i < LINES; i++) {
        xy[6 * i] = vx[2 * i], xy[6 * i + 1] = vy[2 * i];
        xy[6 * i + 2] = vx[2 * i + 1], xy[6 * i + 3] = vy[2 * i + 1];
        xy[6 * i + 4] = NAN, xy[6 * i + 5] = 0;
    }
    cs_graph g;
    build(&g, xy, 3 * LINES, NULL, tol, false);
    assert_int_equal(g.snapped_vertices, moved);
    /* every line whose ends stay apart is an edge between its ends' points */
    size_t e = 0;
    for (size_t i = 0; i < LINES; i++) {
        size_t a = rep[2 * i], b = rep[2 * i + 1];
        if (a == b)
            continue;
        assert_true(e < g.edge_count);
        assert_true(g.node_x[g.edge_u[e]] == px[a] && g.node_y[g.edge_u[e]] == py[a]);
        assert_true(g.node_x[g.edge_v[e]] == px[b] && g.node_y[g.edge_v[e]] == py[b]);
        e++;
    }
    assert_int_equal(g.edge_count, e);
    assert_int_equal(g.dropped_segments, LINES - e);
    assert_true(moved > V / 4 && e > LINES / 2 && e < LINES - LINES / 16);
    cs_graph_free(&g);
}

static void line_touching_itself(void **state)
{
    (void)state;
    /* a lollipop: in to (100,0), round a square back to (100,0), then out south */
    const double xy[] = {0, 0, 100, 0, 200, 0, 200, 100, 100, 100, 100, 0, 100, -50, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.node_count, 3);
    assert_int_equal(g.edge_count, 3);
    assert_node(&g, 1, 100, 0);
    assert_true(NEAR(g.edge_len_m[0], 100));
    assert_int_equal(g.edge_u[1], 1);
    assert_int_equal(g.edge_v[1], 1);
    assert_true(NEAR(g.edge_len_m[1], 400));
    assert_int_equal(g.edge_vstart[2] - g.edge_vstart[1], 5);
    assert_true(NEAR(g.edge_len_m[2], 50));
    /* the loop takes two of the node's four slots */
    assert_int_equal(degree(&g, 1), 4);
    const uint32_t slots[] = {0, 1, 1, 2};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(g.adj[g.adj_start[1] + i].edge, slots[i]);
    cs_graph_free(&g);

    /* a closed ring alone: one loop edge, one node */
    const double ring[] = {0, 0, 10, 0, 10, 10, 0, 0, END};
    build(&g, ring, PAIRS(ring), NULL, 0.5, false);
    assert_int_equal(g.node_count, 1);
    assert_int_equal(g.edge_count, 1);
    assert_true(NEAR(g.edge_len_m[0], 20 + sqrt(200)));
    assert_int_equal(degree(&g, 0), 2);
    cs_graph_free(&g);
}

static void zero_length_pieces(void **state)
{
    (void)state;
    /* a repeated vertex, a line of one point twice, a line of a single vertex, a line
     * that snapping shrinks to one point, and a tiny ring that does too */
    const double xy[] = {0,   0, 50,  0,   50, 0,   100, 0, END, 7, 7, 7, 7, END,
                         9,   9, END, 300, 0,  300.2, 0, END, 400, 0, 400.2, 0,
                         400, 0.1, 400, 0, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.edge_count, 1);
    assert_int_equal(g.node_count, 2);
    assert_int_equal(g.dropped_segments, 1 + 1 + 1 + 3);
    assert_int_equal(g.snapped_vertices, 1 + 2);
    assert_true(NEAR(g.edge_len_m[0], 100));
    /* the repeated vertex is kept once */
    assert_int_equal(g.edge_vstart[1] - g.edge_vstart[0], 3);
    cs_graph_free(&g);

    /* a vertex without finite coordinates is left out with its segment */
    const double inf[] = {600, 0, INFINITY, 5, 700, 0, END, 600, 0, 600, -HUGE_VAL, END};
    build(&g, inf, PAIRS(inf), NULL, 0, false);
    assert_int_equal(g.edge_count, 1);
    assert_int_equal(g.dropped_segments, 2);
    assert_true(NEAR(g.edge_len_m[0], 100));
    cs_graph_free(&g);

    /* a one-point line sitting on another line's vertex does not split it */
    const double on[] = {0, 0, 50, 0, 100, 0, END, 50, 0, 50, 0, END};
    build(&g, on, PAIRS(on), NULL, 0.5, false);
    assert_int_equal(g.edge_count, 1);
    cs_graph_free(&g);

    /* no lines at all is a valid, empty graph */
    cs_lines none;
    memset(&none, 0, sizeof none);
    assert_int_equal(cs_graph_build(&none, 0.5, true, &g), CS_OK);
    assert_int_equal(g.edge_count, 0);
    assert_int_equal(g.node_count, 0);
    assert_int_equal(g.component_count, 0);
    assert_true(g.total_len_m == 0);
    cs_segment_index *ix = NULL;
    assert_int_equal(cs_segment_index_create(&g, &ix), CS_OK);
    cs_attach a;
    const double px[] = {0, 5}, py[] = {0, 5};
    assert_int_equal(cs_attach_points(&g, ix, px, py, 2, 1e9, 1, &a), CS_OK);
    assert_int_equal(a.count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(a.edge[i], -1);
        assert_true(a.along_m[i] == 0 && isinf(a.access_m[i]));
    }
    cs_attach_free(&a);
    cs_segment_index_destroy(ix);
    cs_graph_free(&g);
}

static void speed_factors(void **state)
{
    (void)state;
    const double xy[] = {0, 0, 100, 0, END, 100, 0, 100, 30, END, 100, 30, 140, 60, END};
    const double speeds[] = {1, 0.5, 2};
    cs_graph g;
    build(&g, xy, PAIRS(xy), speeds, 0.5, false);
    assert_int_equal(g.edge_count, 3);
    assert_true(NEAR(g.edge_cost_m[0], 100));
    assert_true(NEAR(g.edge_len_m[1], 30) && NEAR(g.edge_cost_m[1], 60));
    assert_true(NEAR(g.edge_len_m[2], 50) && NEAR(g.edge_cost_m[2], 25));
    /* lengths, not costs, make up the network's length */
    assert_true(NEAR(g.total_len_m, 180));
    cs_graph_free(&g);
}

/* Nodes are numbered along a Morton curve: on a 64 x 64 grid of streets given row
 * after row, then column after column, every aligned block of 2^k x 2^k crossings gets
 * consecutive numbers, so consecutive nodes are 1 step apart on average (the curve's
 * jumps are rare), where the order of first appearance along the lines would put each
 * row's end 63 steps from the next row's start. */
static void nodes_follow_a_morton_curve(void **state)
{
    (void)state;
    enum { N = 64 };
    double *xy = malloc(2 * N * (N + 1) * 2 * sizeof *xy);
    size_t k = 0;
    for (int dir = 0; dir < 2; dir++)
        for (int a = 0; a < N; a++) {
            for (int b = 0; b < N; b++) {
                xy[k++] = dir ? a * 10.0 : b * 10.0;
                xy[k++] = dir ? b * 10.0 : a * 10.0;
            }
            xy[k++] = NAN; /* END */
            xy[k++] = 0;
        }
    cs_lines l;
    make_lines(&l, xy, k / 2, NULL);
    cs_graph g;
    assert_int_equal(cs_graph_build(&l, 0.5, false, &g), CS_OK);
    free_lines(&l);
    check_invariants(&g);
    assert_int_equal(g.node_count, N * N);
    /* each 8 x 8 block of crossings is 64 consecutive numbers */
    for (size_t n = 0; n < g.node_count; n += 64) {
        double x0 = floor(g.node_x[n] / 80) * 80, y0 = floor(g.node_y[n] / 80) * 80;
        for (size_t m = n; m < n + 64; m++)
            if (!(g.node_x[m] >= x0 && g.node_x[m] < x0 + 80 && g.node_y[m] >= y0 &&
                  g.node_y[m] < y0 + 80))
                fail_msg("node %zu (%g, %g) is outside the 8 x 8 block of node %zu", m,
                         g.node_x[m], g.node_y[m], n);
    }
    double steps = 0;
    for (size_t n = 1; n < g.node_count; n++)
        steps += hypot(g.node_x[n] - g.node_x[n - 1], g.node_y[n] - g.node_y[n - 1]) / 10;
    assert_true(steps / (double)(g.node_count - 1) < 2);
    cs_graph_free(&g);
    free(xy);
}

static void components_by_length(void **state)
{
    (void)state;
    /* a short piece first, a long one second, a triangle loop third */
    const double xy[] = {0, 0, 10, 0, END, 0, 100, 500, 100, END,
                         0, 200, 50, 200, 50, 250, 0, 200, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.component_count, 3);
    assert_true(NEAR(g.component_len_m[0], 500));
    assert_true(NEAR(g.component_len_m[1], 100 + sqrt(2) * 50));
    assert_true(NEAR(g.component_len_m[2], 10));
    /* nodes 0, 1: the short piece; 2, 3: the long one; 4: the loop's */
    const uint32_t comp[] = {2, 2, 0, 0, 1};
    assert_int_equal(g.node_count, 5);
    for (size_t n = 0; n < 5; n++)
        assert_int_equal(g.node_component[n], comp[n]);
    assert_true(NEAR(g.total_len_m, 610 + sqrt(2) * 50));
    cs_graph_free(&g);
}

/* ------------------------------------------------------- along an edge */

static void cut_bent_edge(void **state)
{
    (void)state;
    /* one edge: (0,0) -50- (30,40) -60- (30,100) -60- (90,100), 170 m */
    const double xy[] = {0, 0, 30, 40, 30, 100, 90, 100, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    assert_int_equal(g.edge_count, 1);
    assert_true(NEAR(g.edge_len_m[0], 170));
    double *x = NULL, *y = NULL;
    size_t len = 0, cap = 0;

    /* 25 .. 140: (15,20) on the first leg, both corners, (60,100) on the last */
    assert_int_equal(cs_graph_cut(&g, 0, 25, 140, &x, &y, &len, &cap), 4);
    const double want1[] = {15, 20, 30, 40, 30, 100, 60, 100};
    for (size_t i = 0; i < 4; i++)
        assert_true(NEAR(x[i], want1[2 * i]) && NEAR(y[i], want1[2 * i + 1]));

    /* within one leg: no corner between; appended after what is there */
    assert_int_equal(cs_graph_cut(&g, 0, 60, 80, &x, &y, &len, &cap), 2);
    assert_int_equal(len, 6);
    assert_true(NEAR(x[4], 30) && NEAR(y[4], 50) && NEAR(x[5], 30) && NEAR(y[5], 70));

    /* clamped to the edge: the whole polyline */
    assert_int_equal(cs_graph_cut(&g, 0, -10, 1e9, &x, &y, &len, &cap), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(x[6 + i] == g.vx[i] && y[6 + i] == g.vy[i]);

    /* from a corner exactly: the corner once, as the start */
    assert_int_equal(cs_graph_cut(&g, 0, 50, 120, &x, &y, &len, &cap), 3);
    assert_true(x[10] == 30 && y[10] == 40);
    assert_true(x[11] == 30 && y[11] == 100);
    assert_true(NEAR(x[12], 40) && NEAR(y[12], 100));

    /* an empty stretch is still two points */
    assert_int_equal(cs_graph_cut(&g, 0, 110, 110, &x, &y, &len, &cap), 2);
    assert_true(x[13] == 30 && y[13] == 100 && x[14] == 30 && y[14] == 100);
    assert_int_equal(len, 15);
    assert_true(cap >= len);

    double px, py;
    cs_graph_point_at(&g, 0, 0, &px, &py);
    assert_true(px == 0 && py == 0);
    cs_graph_point_at(&g, 0, 10, &px, &py);
    assert_true(NEAR(px, 6) && NEAR(py, 8));
    cs_graph_point_at(&g, 0, 50, &px, &py);
    assert_true(px == 30 && py == 40);
    cs_graph_point_at(&g, 0, 80, &px, &py);
    assert_true(NEAR(px, 30) && NEAR(py, 70));
    cs_graph_point_at(&g, 0, 170, &px, &py);
    assert_true(px == 90 && py == 100);
    cs_graph_point_at(&g, 0, 500, &px, &py);
    assert_true(px == 90 && py == 100);
    cs_graph_point_at(&g, 0, -5, &px, &py);
    assert_true(px == 0 && py == 0);
    cs_free(x);
    cs_free(y);

    /* out of memory: nothing appended is counted */
    x = y = NULL;
    len = cap = 0;
    tu_alloc_fail_after(0);
    size_t got = cs_graph_cut(&g, 0, 0, 170, &x, &y, &len, &cap);
    tu_alloc_restore();
    assert_int_equal(got, 0);
    cs_free(x);
    cs_free(y);
    cs_graph_free(&g);
}

/* ------------------------------------------------ random crossings */

/* Do segments p0-p1 and q0-q1 cross in both interiors? (orientation signs) */
static bool proper_cross(const double *p, const double *q)
{
    double d1 = (q[2] - q[0]) * (p[1] - q[1]) - (q[3] - q[1]) * (p[0] - q[0]);
    double d2 = (q[2] - q[0]) * (p[3] - q[1]) - (q[3] - q[1]) * (p[2] - q[0]);
    double d3 = (p[2] - p[0]) * (q[1] - p[1]) - (p[3] - p[1]) * (q[0] - p[0]);
    double d4 = (p[2] - p[0]) * (q[3] - p[1]) - (p[3] - p[1]) * (q[2] - p[0]);
    return d1 * d2 < 0 && d3 * d4 < 0;
}

static size_t find_set(size_t *parent, size_t i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

static void random_crossings(void **state)
{
    (void)state;
    srand(7);
    enum { N = 300 };
    /* random segments, a few long ones spanning many grid cells */
    double *xy = calloc(3 * N * 2, sizeof *xy);
    assert_non_null(xy);
    for (size_t i = 0; i < N; i++) {
        double x = rand() % 100000 / 100.0, y = rand() % 100000 / 100.0;
        double r = i % 25 == 0 ? 600 : 5 + rand() % 6000 / 100.0;
        double a = rand() % 6283 / 1000.0;
        double *s = xy + 6 * i;
        s[0] = x, s[1] = y, s[2] = x + r * cos(a), s[3] = y + r * sin(a), s[4] = NAN;
        s[5] = 0;
    }
    size_t crossings = 0;
    size_t parent[N];
    for (size_t i = 0; i < N; i++)
        parent[i] = i;
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            if (proper_cross(xy + 6 * i, xy + 6 * j)) {
                crossings++;
                parent[find_set(parent, i)] = find_set(parent, j);
            }
    size_t components = 0;
    for (size_t i = 0; i < N; i++)
        components += find_set(parent, i) == i;
    assert_true(crossings > 50); /* the test means something */

    cs_graph g;
    /* a tiny tolerance: random segments never come that close without crossing */
    build(&g, xy, 3 * N, NULL, 1e-7, false);
    assert_int_equal(g.edge_count, N);
    assert_int_equal(g.component_count, N);
    cs_graph_free(&g);
    build(&g, xy, 3 * N, NULL, 1e-7, true);
    assert_int_equal(g.noded_crossings, crossings);
    assert_int_equal(g.edge_count, N + 2 * crossings);
    assert_int_equal(g.node_count, 2 * N + crossings);
    assert_int_equal(g.component_count, components);
    cs_graph_free(&g);
    free(xy);
}

/* Does point p lie within tol of segment q's interior? */
static bool touches_segment(const double *p, const double *q, double tol)
{
    double dx = q[2] - q[0], dy = q[3] - q[1];
    double t = ((p[0] - q[0]) * dx + (p[1] - q[1]) * dy) / (dx * dx + dy * dy);
    return t > 1e-9 && t < 1 - 1e-9 &&
           hypot(q[0] + t * dx - p[0], q[1] + t * dy - p[1]) <= tol;
}

/* Where segments p and q cross (they must). */
static void cross_point(const double *p, const double *q, double *x, double *y)
{
    double den = (p[2] - p[0]) * (q[3] - q[1]) - (p[3] - p[1]) * (q[2] - q[0]);
    double t = ((q[0] - p[0]) * (q[3] - q[1]) - (q[1] - p[1]) * (q[2] - q[0])) / den;
    *x = p[0] + t * (p[2] - p[0]);
    *y = p[1] + t * (p[3] - p[1]);
}

/* Segment k may join segments 0 .. k - 1 if it makes no near misses that the counts
 * below cannot foresee: ends closer than twice the tolerance, a crossing that close to
 * an end or to another crossing. Its crossings are added to xs. */
static bool acceptable(double (*seg)[4], size_t k, double *xs, size_t *nxs, double tol)
{
    size_t first = *nxs;
    for (size_t c = 0; c < first; c++)
        for (size_t a = 0; a < 2; a++)
            if (hypot(xs[2 * c] - seg[k][2 * a], xs[2 * c + 1] - seg[k][2 * a + 1]) <= 2 * tol)
                return false;
    for (size_t j = 0; j < k; j++) {
        for (size_t a = 0; a < 2; a++)
            for (size_t b = 0; b < 2; b++)
                if (hypot(seg[k][2 * a] - seg[j][2 * b], seg[k][2 * a + 1] - seg[j][2 * b + 1]) <=
                    2 * tol)
                    goto reject;
        if (proper_cross(seg[k], seg[j])) {
            assert_true(*nxs < 4 * (k + 1));
            cross_point(seg[k], seg[j], &xs[2 * *nxs], &xs[2 * *nxs + 1]);
            (*nxs)++;
        }
    }
    for (size_t c = first; c < *nxs; c++) {
        for (size_t j = 0; j <= k; j++)
            for (size_t a = 0; a < 2; a++)
                if (hypot(xs[2 * c] - seg[j][2 * a], xs[2 * c + 1] - seg[j][2 * a + 1]) <= 2 * tol)
                    goto reject;
        for (size_t d = 0; d < c; d++)
            if (hypot(xs[2 * c] - xs[2 * d], xs[2 * c + 1] - xs[2 * d + 1]) <= 2 * tol)
                goto reject;
    }
    return true;
reject:
    *nxs = first;
    return false;
}

static void random_touches(void **state)
{
    (void)state;
    enum { N = 400, T = 300, ALL = N + T };
    const double tol = 0.5;
    static double seg[ALL][4], xs[2 * 4 * ALL]; /* crossings: far fewer than 4 a segment */
    size_t nxs = 0;
    srand(11);
    for (size_t i = 0; i < N;) {
        double x = rand() % 15000 / 100.0, y = rand() % 15000 / 100.0;
        double r = 2 + rand() % 800 / 100.0, a = rand() % 6283 / 1000.0;
        seg[i][0] = x, seg[i][1] = y, seg[i][2] = x + r * cos(a), seg[i][3] = y + r * sin(a);
        i += acceptable(seg, i, xs, &nxs, tol);
    }
    /* stems ending 0.05 to 0.45 m short of a random segment, leaving it at an angle;
     * segments are short, so grid cells are too and many stems end in another cell */
    for (size_t i = N; i < ALL;) {
        const double *s = seg[rand() % N];
        double dx = s[2] - s[0], dy = s[3] - s[1], len = hypot(dx, dy);
        double t = 0.1 + rand() % 800 / 1000.0, gap = 0.05 + rand() % 400 / 1000.0;
        double side = rand() % 2 ? 1 : -1, turn = (rand() % 2000 - 1000) / 1000.0;
        double nx = -dy / len * side, ny = dx / len * side;
        double ux = nx * cos(turn) - ny * sin(turn), uy = nx * sin(turn) + ny * cos(turn);
        seg[i][0] = s[0] + t * dx + gap * nx, seg[i][1] = s[1] + t * dy + gap * ny;
        seg[i][2] = seg[i][0] + 5 * ux, seg[i][3] = seg[i][1] + 5 * uy;
        i += acceptable(seg, i, xs, &nxs, tol);
    }
    /* count by brute force: crossings, (end, segment) touches, the ends that touch */
    size_t touch_pairs = 0, touch_ends = 0, parent[ALL];
    for (size_t i = 0; i < ALL; i++)
        parent[i] = i;
    for (size_t i = 0; i < ALL; i++)
        for (size_t j = i + 1; j < ALL; j++)
            if (proper_cross(seg[i], seg[j]))
                parent[find_set(parent, i)] = find_set(parent, j);
    for (size_t i = 0; i < ALL; i++)
        for (size_t end = 0; end < 2; end++) {
            bool touched = false;
            for (size_t j = 0; j < ALL; j++)
                if (j != i && touches_segment(seg[i] + 2 * end, seg[j], tol)) {
                    touch_pairs++;
                    touched = true;
                    parent[find_set(parent, i)] = find_set(parent, j);
                }
            touch_ends += touched;
        }
    size_t components = 0;
    for (size_t i = 0; i < ALL; i++)
        components += find_set(parent, i) == i;
    /* the test means something */
    assert_true(touch_ends > T / 2);
    assert_true(nxs > 50);

    static double xy[ALL * 3 * 2];
    for (size_t i = 0; i < ALL; i++) {
        memcpy(xy + 6 * i, seg[i], 4 * sizeof *xy);
        xy[6 * i + 4] = NAN;
        xy[6 * i + 5] = 0;
    }
    cs_graph g;
    build(&g, xy, 3 * ALL, NULL, tol, false);
    assert_int_equal(g.edge_count, ALL);
    assert_int_equal(g.noded_crossings, 0);
    cs_graph_free(&g);
    build(&g, xy, 3 * ALL, NULL, tol, true);
    assert_int_equal(g.noded_crossings, nxs + touch_ends);
    assert_int_equal(g.edge_count, ALL + 2 * nxs + touch_pairs);
    assert_int_equal(g.node_count, 2 * ALL + nxs);
    assert_int_equal(g.component_count, components);
    cs_graph_free(&g);
}

/* --------------------------------------------------------- a part of it */

/* A part of a network cut out as careshed shard cuts it (the whole graph's edges that
 * meet a window, as lines of their own, built without snapping or noding again, nodes
 * numbered on the whole graph's box) is the whole graph there: its edges in the same
 * order with the same polylines, lengths and costs to the bit, its nodes in the same
 * order, each node's edges in the same order. */
static void part_keeps_the_whole_order(void **state)
{
    (void)state;
    srand(20261205);
    enum { LINES = 300 };
    double *xy = calloc(LINES * 8 * 2, sizeof *xy), speeds[LINES];
    assert_non_null(xy);
    size_t n = 0;
    for (size_t i = 0; i < LINES; i++) {
        double x = rand() % 200000 / 100.0, y = rand() % 200000 / 100.0;
        size_t k = 2 + (size_t)(rand() % 6);
        for (size_t j = 0; j < k; j++, n++) {
            xy[2 * n] = x + (rand() % 3 == 0 ? 0.3 * (rand() % 100) / 100.0 : 0);
            xy[2 * n + 1] = y;
            x += (rand() % 40000 - 20000) / 100.0;
            y += (rand() % 40000 - 20000) / 100.0;
        }
        xy[2 * n] = NAN, xy[2 * n + 1] = 0, n++;
        speeds[i] = (double)(1 + rand() % 4) / 3.0; /* not exact in binary */
    }
    cs_lines l;
    make_lines(&l, xy, n, speeds);
    cs_graph g, h;
    assert_int_equal(cs_graph_build(&l, 0.5, true, &g), CS_OK);
    double box[4]; /* which numbers the whole graph's nodes */
    cs_lines_box(&l, box);
    /* the edges meeting the window, as lines */
    const double win[4] = {600, 500, 1300, 1400};
    size_t *sel = calloc(g.edge_count + 1, sizeof *sel), ns = 0, nv = 0;
    double *pxy = calloc(2 * (g.edge_vstart[g.edge_count] + g.edge_count) + 2, sizeof *pxy);
    double *psp = calloc(g.edge_count + 1, sizeof *psp);
    assert_non_null(sel);
    assert_non_null(pxy);
    assert_non_null(psp);
    for (size_t e = 0; e < g.edge_count; e++) {
        double b[4];
        size_t a = g.edge_vstart[e], m = g.edge_vstart[e + 1] - a;
        cs_box_of(g.vx + a, g.vy + a, m, b);
        if (b[0] > win[2] || b[2] < win[0] || b[1] > win[3] || b[3] < win[1])
            continue;
        for (size_t v = a; v < a + m; v++, nv++)
            pxy[2 * nv] = g.vx[v], pxy[2 * nv + 1] = g.vy[v];
        pxy[2 * nv] = NAN, pxy[2 * nv + 1] = 0, nv++;
        psp[ns] = speeds[g.edge_line[e]];
        sel[ns++] = e;
    }
    assert_true(ns > 50 && ns < g.edge_count / 2);
    cs_lines pl;
    make_lines(&pl, pxy, nv, psp);
    assert_int_equal(cs_graph_build_boxed(&pl, 0, false, box, &h), CS_OK);
    assert_int_equal(h.edge_count, ns);
    uint32_t *node = calloc(h.node_count + 1, sizeof *node); /* part node -> whole node */
    assert_non_null(node);
    for (size_t i = 0; i < ns; i++) {
        size_t e = sel[i];
        assert_memory_equal(&h.edge_len_m[i], &g.edge_len_m[e], sizeof(double));
        assert_memory_equal(&h.edge_cost_m[i], &g.edge_cost_m[e], sizeof(double));
        assert_int_equal(h.edge_vstart[i + 1] - h.edge_vstart[i],
                         g.edge_vstart[e + 1] - g.edge_vstart[e]);
        node[h.edge_u[i]] = g.edge_u[e];
        node[h.edge_v[i]] = g.edge_v[e];
    }
    for (size_t i = 0; i < ns; i++) { /* one whole node for each node of the part */
        assert_int_equal(node[h.edge_u[i]], g.edge_u[sel[i]]);
        assert_int_equal(node[h.edge_v[i]], g.edge_v[sel[i]]);
    }
    for (size_t v = 1; v < h.node_count; v++)
        assert_true(node[v - 1] < node[v]); /* the whole graph's node order */
    for (size_t v = 0; v < h.node_count; v++) /* each node's edges in the whole's order */
        for (size_t a = h.adj_start[v] + 1; a < h.adj_start[v + 1]; a++)
            assert_true(sel[h.adj[a - 1].edge] <= sel[h.adj[a].edge]);
    free(node);
    cs_graph_free(&h);
    free_lines(&pl);
    free(sel);
    free(pxy);
    free(psp);
    cs_graph_free(&g);
    free_lines(&l);
    free(xy);
}

/* The edges of g whose polyline's box meets q, by index. */
static size_t edges_meeting(const cs_graph *g, const double q[4], size_t *out)
{
    size_t n = 0;
    for (size_t e = 0; e < g->edge_count; e++) {
        double b[4];
        size_t a = g->edge_vstart[e];
        cs_box_of(g->vx + a, g->vy + a, g->edge_vstart[e + 1] - a, b);
        if (b[0] <= q[2] && q[0] <= b[2] && b[1] <= q[3] && q[1] <= b[3])
            out[n++] = e;
    }
    return n;
}

enum { RANDOM_LINES = 2000 };

/* The lines of window_is_the_whole_graph into s (snapped at 0.5 m, attached within
 * 300 m): the two traps, then RANDOM_LINES random ones; their vertices (x, y, NaN
 * between lines) are returned, *n of them, and where each trap's line 1 starts. */
static double *trap_lines(cs_study *s, size_t *count, size_t trap_at[2])
{
    srand(20261206);
    enum { RANDOM = RANDOM_LINES, MAX = RANDOM * 9 + 8000 };
    double *xy = calloc(2 * MAX, sizeof *xy), speeds[RANDOM + 6];
    assert_non_null(xy);
    size_t n = 0;
    /* twice, the second at y = 1000 with line 1 a vertex longer: whichever point a
       window's piece of line 1 starts from, one of the two is not the whole graph's */
    for (int t = 0; t < 2; t++) {
        double y0 = 1000.0 * t, x0 = 600 + 0.3 * t;
        xy[2 * n] = x0 + 0.25, xy[2 * n + 1] = y0 + 0.3, n++; /* line 0 */
        xy[2 * n] = 620, xy[2 * n + 1] = y0 + 10, n++;
        xy[2 * n] = NAN, n++;
        trap_at[t] = n;
        for (int k = 0; k <= 1870 + t; k++) /* line 1, from x0 to 39 */
            xy[2 * n] = x0 - 0.3 * k, xy[2 * n + 1] = y0 + 0.3, n++;
        xy[2 * n] = NAN, n++;
        const double line2[] = {0, 0, 20, 0, 40, 0, 50, 0};
        for (size_t v = 0; v < 4; v++)
            xy[2 * n] = line2[2 * v], xy[2 * n + 1] = y0 + line2[2 * v + 1], n++;
        xy[2 * n] = NAN, n++;
    }
    for (size_t i = 0; i < 6; i++)
        speeds[i] = 1;
    for (size_t i = 0; i < RANDOM; i++) { /* lines over 2 km, many within 50 cm of others */
        double x = rand() % 200000 / 100.0, y = rand() % 200000 / 100.0;
        size_t k = 2 + (size_t)(rand() % 6);
        if (i > 10 && rand() % 3 == 0) { /* from near an earlier vertex */
            size_t at = (size_t)rand() % n;
            if (!isnan(xy[2 * at]))
                x = xy[2 * at] + (rand() % 90) / 100.0 - 0.45, y = xy[2 * at + 1];
        }
        for (size_t j = 0; j < k; j++, n++) {
            xy[2 * n] = x, xy[2 * n + 1] = y;
            x += (rand() % 20000 - 10000) / 100.0;
            y += (rand() % 20000 - 10000) / 100.0;
        }
        xy[2 * n] = NAN, n++;
        speeds[i + 6] = (double)(1 + rand() % 4) / 3.0;
    }
    memset(s, 0, sizeof *s);
    make_lines(&s->net.lines, xy, n, speeds);
    for (size_t i = 10; i < s->net.lines.count; i += 97) /* a vertex without coordinates */
        if (s->net.lines.start[i + 1] - s->net.lines.start[i] >= 3)
            s->net.lines.x[s->net.lines.start[i] + 1] = NAN;
    s->net.present = true;
    s->net.snap_m = 0.5;
    s->net.max_attach_m = 300;
    s->net.display = "lines";
    *count = n;
    return xy;
}

/*
 * The cut's window over box q (src/shard/window.c) against the whole graph: the edges
 * meeting q are the whole graph's, one for one, in its order, with the same polylines,
 * lengths and costs to the bit and from the same lines (some with a vertex without
 * coordinates, which the graph bridges). Lines 0 to 2 (and 3 to 5) are a trap for a
 * window that stops at a fixed margin: line 1 is a path digitised every 30 cm (each
 * vertex within the 50 cm tolerance of the next) from far outside the window to a
 * vertex of line 2, which crosses the window; line 0, far away, moves the point that
 * line 1's first vertex snaps to, which shifts every point along line 1, and so which
 * point line 2's vertex snaps to. Without the window's check of such chains, or of the
 * edges' ends, this test fails.
 */
static void window_is_the_whole_graph(void **state)
{
    (void)state;
    cs_study s;
    size_t n, trap_at[2];
    double *xy = trap_lines(&s, &n, trap_at);
    cs_graph g;
    assert_int_equal(cs_graph_build(&s.net.lines, 0.5, false, &g), CS_OK);
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_shard_net sn;
    assert_int_equal(cs_shard_net_begin(ctx, NULL, &s, &sn), CS_OK);
    size_t *whole = calloc(g.edge_count + 1, sizeof *whole);
    size_t *part = calloc(g.edge_count * 2 + 1, sizeof *part);
    assert_non_null(whole);
    assert_non_null(part);
    const double boxes[][4] = {{0, -5, 10, 5},          {0, 995, 10, 1005},
                               {-50, -50, 300, 250},    {900, 900, 1100, 1000},
                               {1500, 0, 2100, 400},    {300, 1200, 340, 1260},
                               {0, 0, 2000, 2000}};
    for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
        cs_shard_net_for(&sn, b);
        assert_int_equal(cs_net_window_cover(&sn, boxes[b]), CS_OK);
        const cs_graph *w = &sn.win.graph;
        size_t nw = edges_meeting(&g, boxes[b], whole), np = edges_meeting(w, boxes[b], part);
        if (b < 6)
            assert_true(sn.win.lines.start[sn.win.lines.count] < /* a window, not all */
                        s.net.lines.start[s.net.lines.count]);
        assert_true(nw > 0);
        assert_int_equal(np, nw);
        for (size_t i = 0; i < nw; i++) {
            size_t e = whole[i], f = part[i];
            size_t len = g.edge_vstart[e + 1] - g.edge_vstart[e];
            assert_int_equal(w->edge_vstart[f + 1] - w->edge_vstart[f], len);
            assert_memory_equal(w->vx + w->edge_vstart[f], g.vx + g.edge_vstart[e],
                                len * sizeof(double));
            assert_memory_equal(w->vy + w->edge_vstart[f], g.vy + g.edge_vstart[e],
                                len * sizeof(double));
            assert_memory_equal(&w->edge_cost_m[f], &g.edge_cost_m[e], sizeof(double));
            assert_int_equal(sn.win.line_of[w->edge_line[f]], g.edge_line[e]);
        }
    }
    /* each trap's edge of line 2 ends at the point line 1 gives its vertex at x = 40,
       which line 0 settles: lines 1 and 2 alone give the other point */
    for (int t = 0; t < 2; t++) {
        edges_meeting(&g, boxes[t], whole);
        size_t e2 = whole[0], end = g.edge_vstart[e2 + 1] - 1;
        assert_int_equal(g.edge_line[e2], 3 * t + 2);
        assert_true(fabs(g.vx[end] - 39.9) < 1e-9 || fabs(g.vx[end] - 40.2) < 1e-9);
        cs_lines trap;
        make_lines(&trap, xy + 2 * trap_at[t], 1871 + (size_t)t + 1 + 4 + 1, NULL);
        cs_graph h;
        assert_int_equal(cs_graph_build(&trap, 0.5, false, &h), CS_OK);
        assert_int_equal(h.edge_line[0], 0); /* line 1, first here */
        assert_true(h.edge_count >= 2 && h.edge_line[h.edge_count - 2] == 1);
        assert_true(h.vx[h.edge_vstart[h.edge_count - 1]] != g.vx[end]);
        cs_graph_free(&h);
        free_lines(&trap);
    }
    cs_shard_net_free(&sn);
    /* out of memory at every allocation of a window over the trap: nothing is left */
    bool done = false;
    for (long k = 0; !done; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_shard_net_begin(ctx, NULL, &s, &sn);
        if (st == CS_OK) {
            cs_shard_net_for(&sn, 0);
            st = cs_net_window_cover(&sn, boxes[0]);
            done = st == CS_OK;
            if (!done)
                assert_false(sn.win.built);
            cs_shard_net_free(&sn);
        }
        tu_alloc_fail_after(-1);
        assert_true(done || st == CS_ERR_NOMEM);
    }
    cs_context_destroy(ctx);
    free(whole);
    free(part);
    cs_graph_free(&g);
    free_lines(&s.net.lines);
    free(xy);
}

/*
 * The lines a window takes are found through a grid of their boxes (some lines over so
 * many cells that they are kept aside as wide): for boxes of every size, inside, across
 * and outside the lines, points, and boxes without end, the answer is every line whose
 * box meets the box, each once, ascending, as a scan of all the boxes finds them.
 */
static void lines_meeting_a_box_as_a_scan_finds_them(void **state)
{
    (void)state;
    enum { LINES = 3000 };
    double *xy = calloc(LINES * 5 * 2, sizeof *xy);
    assert_non_null(xy);
    size_t n = 0;
    srand(20261206);
    for (size_t i = 0; i < LINES; i++, n++) { /* over 2 km; one in 40 crossing it */
        double x = rand() % 200000 / 100.0, y = rand() % 200000 / 100.0;
        double step = i % 40 == 0 ? 1500 : 30;
        for (int k = 0; k < 4; k++, n++) {
            xy[2 * n] = x, xy[2 * n + 1] = y;
            x += (rand() % 2001 - 1000) / 1000.0 * step, y += rand() % 1001 / 1000.0 * step;
        }
        xy[2 * n] = NAN;
    }
    cs_study s;
    memset(&s, 0, sizeof s);
    make_lines(&s.net.lines, xy, n, NULL);
    s.net.present = true;
    s.net.max_attach_m = 100;
    s.net.display = "lines";
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_shard_net sn;
    assert_int_equal(cs_shard_net_begin(ctx, NULL, &s, &sn), CS_OK);
    size_t lines = s.net.lines.count;
    assert_true(sn.grid.wide_n > 0 && sn.grid.wide_n < lines / 20);
    assert_true(sn.grid.nx > 10 && sn.grid.ny > 10);
    srand(7);
    for (int q = 0; q < 3000; q++) {
        double x = rand() % 260000 / 100.0 - 300, y = rand() % 260000 / 100.0 - 300;
        double w = q % 5 == 0 ? 0 : pow(10, rand() % 400 / 100.0 - 1), h = w * (rand() % 3 + 1);
        double box[4] = {x, y, x + w, y + h};
        if (q % 97 == 0)
            box[0] = box[1] = -INFINITY;
        if (q % 89 == 0)
            box[2] = INFINITY;
        size_t got_n = 0;
        long *got = cs_shard_net_lines_meeting(&sn, box, &got_n);
        assert_non_null(got);
        size_t j = 0;
        for (size_t i = 0; i < lines; i++)
            if (cs_box_meets(sn.line_box + 4 * i, box)) {
                assert_true(j < got_n);
                assert_int_equal(got[j++], (long)i);
            }
        assert_int_equal(got_n, j);
        cs_free(got);
    }
    cs_shard_net_free(&sn);
    bool done = false; /* out of memory at each allocation: nothing is left */
    for (long k = 0; !done; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_shard_net_begin(ctx, NULL, &s, &sn);
        size_t got_n;
        long *got = st == CS_OK ? cs_shard_net_lines_meeting(&sn, sn.box, &got_n) : NULL;
        done = got != NULL;
        tu_alloc_fail_after(-1);
        assert_true(done || st == CS_ERR_NOMEM || st == CS_OK);
        if (done)
            assert_int_equal(got_n, lines);
        cs_free(got);
        if (st == CS_OK)
            cs_shard_net_free(&sn);
    }
    cs_context_destroy(ctx);
    free_lines(&s.net.lines);
    free(xy);
}

/*
 * Where points attach, found a tile at a time (cs_net_spots, tiles 150 m wide on the
 * trap lines), is where they attach on the whole graph (cs_attach_points within 60 m):
 * the same edge ends to the bit, or none; and the facilities whose own edge a point's
 * is are those attached to the same edge of the whole graph. Some points lie where a
 * facility does, some nowhere near a line, one has no coordinates. Out of memory at
 * every allocation, nothing is left.
 */
static void points_attach_as_on_the_whole_graph(void **state)
{
    (void)state;
    cs_study s;
    size_t n, trap_at[2];
    double *xy = trap_lines(&s, &n, trap_at);
    s.net.max_attach_m = 60;
    enum { P = 3000, F = 300 };
    double *x = calloc(P, sizeof *x), *y = calloc(P, sizeof *y);
    double fx[F], fy[F];
    size_t fac[F];
    srand(7);
    for (size_t f = 0; f < F; f++) {
        fx[f] = rand() % 210000 / 100.0 - 50, fy[f] = rand() % 210000 / 100.0 - 50;
        fac[f] = F - 1 - f; /* given in another order than the study's */
    }
    for (size_t i = 0; i < P; i++) {
        size_t f = (size_t)rand() % F;
        bool at_facility = i % 5 == 0;
        x[i] = at_facility ? fx[f] : rand() % 320000 / 100.0 - 600;
        y[i] = at_facility ? fy[f] : rand() % 320000 / 100.0 - 600;
    }
    x[17] = NAN;
    s.fac.x = fx, s.fac.y = fy, s.fac.count = F;
    cs_graph g;
    cs_segment_index *index = NULL;
    cs_attach pa = {0}, fa = {0};
    assert_int_equal(cs_graph_build(&s.net.lines, 0.5, false, &g), CS_OK);
    assert_int_equal(cs_segment_index_create(&g, &index), CS_OK);
    assert_int_equal(cs_attach_points(&g, index, x, y, P, 60, 1, &pa), CS_OK);
    assert_int_equal(cs_attach_points(&g, index, fx, fy, F, 60, 1, &fa), CS_OK);
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_shard_net sn;
    assert_int_equal(cs_shard_net_begin(ctx, NULL, &s, &sn), CS_OK);
    cs_net_window win = {0};
    cs_net_owners o;
    cs_net_spot *spot = calloc(P, sizeof *spot);
    assert_int_equal(cs_net_owners_make(&sn, &win, fac, F, 150, 2, &o), CS_OK);
    assert_int_equal(cs_net_spots(&sn, &win, &o, x, y, P, 150, 2, spot), CS_OK);
    size_t on = 0, owned = 0;
    for (size_t i = 0; i < P; i++) {
        long e = pa.edge[i];
        if (e < 0) {
            assert_true(isnan(spot[i].ux) && spot[i].own_from == spot[i].own_to);
            continue;
        }
        on++;
        double ends[4] = {g.node_x[g.edge_u[e]], g.node_y[g.edge_u[e]], g.node_x[g.edge_v[e]],
                          g.node_y[g.edge_v[e]]};
        assert_memory_equal(&spot[i].ux, ends, sizeof ends);
        size_t same = 0; /* facilities on the same edge of the whole graph */
        for (size_t f = 0; f < F; f++)
            same += fa.edge[f] == e;
        assert_int_equal(spot[i].own_to - spot[i].own_from, same);
        for (size_t j = spot[i].own_from; j < spot[i].own_to; j++)
            assert_int_equal(fa.edge[o.fac[o.order[j]]], e);
        owned += same > 0;
    }
    assert_true(on > P / 3 && on < P - P / 10); /* many points on it, some off it */
    assert_true(owned > P / 10);
    cs_net_owners_free(&o);
    cs_net_window_free(&win);
    /* out of memory at every allocation (a few points in two tiles) */
    bool done = false;
    for (long k = 0; !done; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_net_owners_make(&sn, &win, fac, 20, 1200, 1, &o);
        if (st == CS_OK)
            st = cs_net_spots(&sn, &win, &o, x, y, 40, 1200, 1, spot);
        tu_alloc_fail_after(-1);
        done = st == CS_OK;
        assert_true(done || st == CS_ERR_NOMEM);
        cs_net_owners_free(&o);
        cs_net_window_free(&win);
    }
    cs_shard_net_free(&sn);
    cs_context_destroy(ctx);
    cs_attach_free(&pa);
    cs_attach_free(&fa);
    cs_segment_index_destroy(index);
    cs_graph_free(&g);
    free_lines(&s.net.lines);
    free(spot);
    free(x);
    free(y);
    free(xy);
}

/* ------------------------------------------------------------ attaching */

/* A random network: polylines in a 1000 m square, many starting at an earlier line's
 * vertex, so nodes are shared by several edges. */
static void random_graph(cs_graph *g, unsigned seed)
{
    srand(seed);
    enum { LINES = 150 };
    double *xy = calloc(LINES * 6 * 2, sizeof *xy);
    assert_non_null(xy);
    size_t n = 0, first_of_prev = 0;
    for (size_t i = 0; i < LINES; i++) {
        size_t k = 2 + (size_t)(rand() % 4);
        double x, y;
        if (i > 0 && rand() % 3 != 0) { /* start at a vertex of an earlier line */
            size_t from = first_of_prev + (size_t)(rand() % 2);
            x = xy[2 * from];
            y = xy[2 * from + 1];
        } else {
            x = rand() % 100000 / 100.0;
            y = rand() % 100000 / 100.0;
        }
        first_of_prev = n;
        for (size_t j = 0; j < k; j++) {
            xy[2 * n] = x;
            xy[2 * n + 1] = y;
            n++;
            x += (rand() % 20000 - 10000) / 100.0;
            y += (rand() % 20000 - 10000) / 100.0;
        }
        xy[2 * n] = NAN;
        xy[2 * n + 1] = 0;
        n++;
    }
    build(g, xy, n, NULL, 0.5, false);
    free(xy);
}

typedef struct found {
    long edge;
    double along, access;
} found;

/* The nearest point over every segment of every edge, in edge order; equal distances
 * go to the lowest edge, then the smallest along-distance. */
static found brute_force(const cs_graph *g, double x, double y, double max_m)
{
    found best = {-1, 0, INFINITY};
    for (size_t e = 0; e < g->edge_count; e++) {
        double walked = 0;
        for (size_t i = g->edge_vstart[e]; i + 1 < g->edge_vstart[e + 1]; i++) {
            double ax = g->vx[i], ay = g->vy[i], bx = g->vx[i + 1], by = g->vy[i + 1];
            double seg = hypot(bx - ax, by - ay);
            double t = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / (seg * seg);
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double px = t == 0 ? ax : t == 1 ? bx : ax + t * (bx - ax);
            double py = t == 0 ? ay : t == 1 ? by : ay + t * (by - ay);
            double d = hypot(x - px, y - py), along = walked + t * seg;
            if (d < best.access - 1e-9 ||
                (fabs(d - best.access) <= 1e-9 &&
                 ((long)e < best.edge || ((long)e == best.edge && along < best.along))))
                best = (found){(long)e, along, d};
            walked += seg;
        }
    }
    if (!(best.access <= max_m))
        best = (found){-1, 0, INFINITY};
    return best;
}

static void attach_against_brute_force(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 3; seed++) {
        cs_graph g;
        random_graph(&g, seed);
        assert_true(g.edge_count > 100);
        /* random points over and around the network, every node exactly, a point just
         * off a node, and points far away or not numbers */
        size_t n = 3000 + g.node_count + 4;
        double *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
        assert_non_null(x);
        assert_non_null(y);
        size_t k = 0;
        for (; k < 3000; k++) {
            x[k] = -300 + rand() % 160000 / 100.0;
            y[k] = -300 + rand() % 160000 / 100.0;
        }
        for (size_t v = 0; v < g.node_count; v++, k++) {
            x[k] = g.node_x[v];
            y[k] = g.node_y[v];
        }
        x[k] = 1e7, y[k++] = 1e7;
        x[k] = -1e300, y[k++] = 0;
        x[k] = NAN, y[k++] = 0;
        x[k] = g.node_x[0] + 1e-3, y[k++] = g.node_y[0];
        assert_int_equal(k, n);
        const double max_m = 80;

        cs_segment_index *ix = NULL;
        assert_int_equal(cs_segment_index_create(&g, &ix), CS_OK);
        cs_attach a1, a2;
        assert_int_equal(cs_attach_points(&g, ix, x, y, n, max_m, 1, &a1), CS_OK);
        assert_int_equal(cs_attach_points(&g, ix, x, y, n, max_m, 2, &a2), CS_OK);
        assert_int_equal(a1.count, n);
        /* identical on any number of threads, to the bit */
        assert_memory_equal(a1.edge, a2.edge, n * sizeof *a1.edge);
        assert_memory_equal(a1.along_m, a2.along_m, n * sizeof *a1.along_m);
        assert_memory_equal(a1.access_m, a2.access_m, n * sizeof *a1.access_m);

        size_t on = 0, off = 0;
        for (size_t i = 0; i < n; i++) {
            found want = brute_force(&g, x[i], y[i], max_m);
            if (a1.edge[i] != want.edge)
                fprintf(stderr, "point %zu (%.17g, %.17g): edge %ld want %ld\n", i, x[i],
                        y[i], a1.edge[i], want.edge);
            assert_int_equal(a1.edge[i], want.edge);
            if (want.edge < 0) {
                assert_true(a1.along_m[i] == 0 && isinf(a1.access_m[i]));
                off++;
                continue;
            }
            on++;
            assert_true(fabs(a1.along_m[i] - want.along) < 1e-7);
            assert_true(fabs(a1.access_m[i] - want.access) < 1e-9);
            assert_true(a1.along_m[i] >= 0 && a1.along_m[i] <= g.edge_len_m[a1.edge[i]]);
            /* the attachment point is where the access distance says */
            double px, py;
            cs_graph_point_at(&g, (size_t)a1.edge[i], a1.along_m[i], &px, &py);
            assert_true(fabs(hypot(px - x[i], py - y[i]) - a1.access_m[i]) < 1e-6);
        }
        assert_true(on > 1000 && off > 100);
        /* a point on a node: the node's lowest edge (its first slot), at that end */
        for (size_t v = 0; v < g.node_count; v++) {
            size_t i = 3000 + v;
            uint32_t e = g.adj[g.adj_start[v]].edge;
            assert_int_equal(a1.edge[i], e);
            assert_true(a1.access_m[i] == 0);
            assert_true(a1.along_m[i] == (g.edge_u[e] == v ? 0 : g.edge_len_m[e]));
        }
        /* beyond the limit, but found with no limit, however far */
        const double fx[] = {1e7, 2e15, -3e14}, fy[] = {1e7, 1e3, -1e15};
        cs_attach far;
        assert_int_equal(cs_attach_points(&g, ix, fx, fy, 3, INFINITY, 0, &far), CS_OK);
        for (size_t i = 0; i < 3; i++) {
            found want = brute_force(&g, fx[i], fy[i], INFINITY);
            assert_int_equal(far.edge[i], want.edge);
            assert_true(fabs(far.access_m[i] - want.access) < 1e-6 * want.access);
        }
        cs_attach_free(&far);

        cs_attach_free(&a1);
        cs_attach_free(&a2);
        cs_segment_index_destroy(ix);
        cs_graph_free(&g);
        free(x);
        free(y);
    }
}

static void attach_by_hand(void **state)
{
    (void)state;
    /* the T: edges 0 (0,0)-(100,0), 1 (100,0)-(200,0), 2 (100,0)-(100,80) */
    const double xy[] = {0, 0, 100, 0, 200, 0, END, 100, 0, 100, 80, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    cs_segment_index *ix = NULL;
    assert_int_equal(cs_segment_index_create(&g, &ix), CS_OK);
    const double px[] = {30, 150, 110, 100, 90, 300, 100, 120};
    const double py[] = {10, -20, 50, 0, 10, 0, 95, 10};
    const long edge[] = {0, 1, 2, 0, 0, -1, 2, 1};
    const double along[] = {30, 50, 50, 100, 90, 0, 80, 20};
    const double access[] = {10, 20, 10, 0, 10, INFINITY, 15, 10};
    cs_attach a;
    assert_int_equal(cs_attach_points(&g, ix, px, py, 8, 50, 0, &a), CS_OK);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(a.edge[i], edge[i]);
        assert_true(NEAR(a.along_m[i], along[i]));
        assert_true(a.access_m[i] == access[i] || NEAR(a.access_m[i], access[i]));
    }
    cs_attach_free(&a);
    /* (110, 10) is 10 m from edge 1 and edge 2 alike: the lower edge wins */
    const double tx[] = {110}, ty[] = {10};
    assert_int_equal(cs_attach_points(&g, ix, tx, ty, 1, 50, 1, &a), CS_OK);
    assert_int_equal(a.edge[0], 1);
    assert_true(NEAR(a.along_m[0], 10));
    cs_attach_free(&a);
    cs_segment_index_destroy(ix);
    cs_graph_free(&g);
}

/* ------------------------------------------------------ out of memory */

static void out_of_memory(void **state)
{
    (void)state;
    /* a network that uses every step: crossings, a T, a loop, a snapped end, two
     * components, and a 6 by 6 grid whose crossings outgrow the snapping table */
    const double base[] = {0,   0, 200, 0,   END, 100, -100, 100, 100, END, 50, 0.3, 50, 60,
                           END, 0, 0,   0,   50,  -30, 50,   0,   0,   END, 500, 500, 510,
                           500, END, 510.3, 500, 520, 500, END};
    double xy[PAIRS(base) * 2 + 12 * 3 * 2];
    memcpy(xy, base, sizeof base);
    for (size_t i = 0; i < 6; i++) {
        double *h = xy + PAIRS(base) * 2 + 6 * i, *v = h + 36;
        h[0] = 295, h[1] = 10.0 * (double)i, h[2] = 360, h[3] = 10.0 * (double)i;
        v[0] = 300 + 10.0 * (double)i, v[1] = -5, v[2] = 300 + 10.0 * (double)i, v[3] = 60;
        h[4] = v[4] = NAN;
        h[5] = v[5] = 0;
    }
    cs_lines l;
    make_lines(&l, xy, PAIRS(xy), NULL);
    const double px[] = {10, 100, 505, 1000}, py[] = {5, 50, 1, 1000};
    bool done = false;
    for (long n = 0; !done; n++) {
        cs_graph g;
        cs_segment_index *ix = NULL;
        cs_attach a;
        memset(&a, 0, sizeof a);
        tu_alloc_fail_after(n);
        cs_status st = cs_graph_build(&l, 0.5, true, &g);
        if (st == CS_OK) {
            st = cs_segment_index_create(&g, &ix);
            if (st != CS_OK)
                assert_null(ix);
        } else {
            /* nothing left behind */
            assert_null(g.edge_u);
            assert_null(g.node_x);
            assert_null(g.adj_start);
            assert_int_equal(g.edge_count, 0);
        }
        if (st == CS_OK) {
            st = cs_attach_points(&g, ix, px, py, 4, 100, 2, &a);
            if (st != CS_OK)
                assert_null(a.edge);
        }
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused > 0)
            assert_int_equal(st, CS_ERR_NOMEM);
        else {
            assert_int_equal(st, CS_OK);
            assert_int_equal(g.component_count, 3);
            assert_int_equal(g.noded_crossings, 2 + 36);
            assert_int_equal(g.snapped_vertices, 1);
            assert_int_equal(a.edge[3], -1);
            done = true;
        }
        cs_attach_free(&a);
        cs_segment_index_destroy(ix);
        cs_graph_free(&g);
        assert_true(n < 1000);
    }
    free_lines(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_junction_at_shared_vertex),
        cmocka_unit_test(crossing_without_vertex),
        cmocka_unit_test(crossings_noded),
        cmocka_unit_test(snapping),
        cmocka_unit_test(random_snapping),
        cmocka_unit_test(line_touching_itself),
        cmocka_unit_test(zero_length_pieces),
        cmocka_unit_test(speed_factors),
        cmocka_unit_test(components_by_length),
        cmocka_unit_test(nodes_follow_a_morton_curve),
        cmocka_unit_test(part_keeps_the_whole_order),
        cmocka_unit_test(window_is_the_whole_graph),
        cmocka_unit_test(lines_meeting_a_box_as_a_scan_finds_them),
        cmocka_unit_test(points_attach_as_on_the_whole_graph),
        cmocka_unit_test(cut_bent_edge),
        cmocka_unit_test(random_crossings),
        cmocka_unit_test(random_touches),
        cmocka_unit_test(attach_by_hand),
        cmocka_unit_test(attach_against_brute_force),
        cmocka_unit_test(out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
