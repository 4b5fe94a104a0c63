/*
 * test_net.c — searches on the walking graph, against independent computations:
 * partial-edge and same-edge costs worked by hand, and costs (nearest source, reached
 * stretches, every point one source reaches) on random graphs against a plain Dijkstra
 * on a densified copy of the graph where every source and point is a node of its own.
 * Also the tag rule for OpenStreetMap ways and the real OpenStreetMap extract of
 * ../shared/data/real. The graph's topology and attachment are tested in test_graph.c.
 */
#include "testutil.h"

#include "io/config.h"
#include "io/load.h"
#include "access/network.h"
#include "net/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Lines from (x, y) pairs; a NAN x ends a line. */
static void make_lines(cs_lines *l, const double *xy, size_t n, const double *speeds)
{
    memset(l, 0, sizeof *l);
    l->start = calloc(n + 2, sizeof *l->start);
    l->x = calloc(n + 1, sizeof *l->x);
    l->y = calloc(n + 1, sizeof *l->y);
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

static void build(cs_graph *g, const double *xy, size_t n, const double *speeds, double snap,
                  bool node)
{
    cs_lines l;
    make_lines(&l, xy, n, speeds);
    assert_int_equal(cs_graph_build(&l, snap, node, g), CS_OK);
    free_lines(&l);
}

static void attach(const cs_graph *g, const double *x, const double *y, size_t n, double max_m,
                   cs_attach *a)
{
    cs_segment_index *ix = NULL;
    assert_int_equal(cs_segment_index_create(g, &ix), CS_OK);
    assert_int_equal(cs_attach_points(g, ix, x, y, n, max_m, 1, a), CS_OK);
    cs_segment_index_destroy(ix);
}

#define END NAN, 0
#define PAIRS(xy) (sizeof(xy) / sizeof(xy)[0] / 2)

/* --------------------------------------------------------- hand-worked costs */

/*
 * Two edges: A(0,0)-B(100,0) and B-C(150,0). Facility at (30, 10): along 30, access 10.
 * Residents: (80, 5) on the same edge: 10 + 50 + 5 = 65 (not via a node);
 * (120, 0): 10 + 70 + 20 = 100; (149, 0): 10 + 70 + 49 = 129; off (75, 400): none.
 * With the second edge at half speed: (120, 0) costs 10 + 70 + 40 = 120.
 */
static void costs_by_hand(void **state)
{
    (void)state;
    const double xy[] = {0, 0, 100, 0, END, 100, 0, 150, 0, END};
    cs_graph g;
    build(&g, xy, PAIRS(xy), NULL, 0.5, false);
    double fx = 30, fy = 10, px[] = {80, 120, 149, 75}, py[] = {5, 0, 0, 400};
    cs_attach src, pts;
    attach(&g, &fx, &fy, 1, 300, &src);
    attach(&g, px, py, 4, 300, &pts);
    assert_true(src.access_m[0] == 10 && fabs(src.along_m[0] - 30) < 1e-12);
    assert_int_equal(pts.edge[3], -1);
    long id = 7;
    cs_net_field f;
    assert_int_equal(cs_net_field_compute(&g, &src, &id, 1000, &f), CS_OK);
    double cost[4];
    long near[4];
    cs_net_field_points(&f, &pts, 1, cost, near);
    assert_true(fabs(cost[0] - 65) < 1e-9 && near[0] == 7);
    assert_true(fabs(cost[1] - 100) < 1e-9);
    assert_true(fabs(cost[2] - 129) < 1e-9);
    assert_true(isinf(cost[3]) && near[3] == -1);
    cs_net_field_free(&f);
    /* the budget: 100 is reached at 100, not at 99.9 */
    assert_int_equal(cs_net_field_compute(&g, &src, &id, 99.9, &f), CS_OK);
    cs_net_field_points(&f, &pts, 1, cost, near);
    assert_true(isinf(cost[1]) && fabs(cost[0] - 65) < 1e-9);
    cs_net_field_free(&f);
    assert_int_equal(cs_net_field_compute(&g, &src, &id, 100, &f), CS_OK);
    cs_net_field_points(&f, &pts, 1, cost, near);
    assert_true(fabs(cost[1] - 100) < 1e-9 && isinf(cost[2]));
    /* reached within 40: along the facility's edge from 0 to 60 (30 +- 30); A costs 40
     * itself, so nothing beyond it */
    cs_interval *iv = NULL;
    size_t cap = 0;
    assert_int_equal(cs_net_field_reached(&f, 40, &iv, &cap), 1);
    assert_true(iv[0].edge == 0 && fabs(iv[0].from_m - 0) < 1e-9 && fabs(iv[0].to_m - 60) < 1e-9);
    /* within 90: the whole first edge and 10 m of the second (B costs 80) */
    assert_int_equal(cs_net_field_reached(&f, 90, &iv, &cap), 2);
    assert_true(iv[0].from_m == 0 && fabs(iv[0].to_m - 100) < 1e-9);
    assert_true(iv[1].edge == 1 && iv[1].from_m == 0 && fabs(iv[1].to_m - 10) < 1e-9);
    cs_free(iv);
    cs_net_field_free(&f);
    /* a source id the searches cannot hold (negative, or not below UINT32_MAX) is
     * refused, both ways, before anything is computed */
    long bad_ids[] = {-1, (long)UINT32_MAX};
    for (size_t b = 0; b < 2; b++) {
        assert_int_equal(cs_net_field_compute(&g, &src, &bad_ids[b], 1000, &f), CS_ERR_ARGUMENT);
        assert_null(f.node_cost);
        assert_int_equal(cs_net_each_source(&g, &src, &bad_ids[b], 1000, &pts, cost, near),
                         CS_ERR_ARGUMENT);
    }
    cs_attach_free(&src);
    cs_attach_free(&pts);
    cs_graph_free(&g);

    const double speeds[] = {1, 0.5};
    build(&g, xy, PAIRS(xy), speeds, 0.5, false);
    attach(&g, &fx, &fy, 1, 300, &src);
    attach(&g, px, py, 4, 300, &pts);
    assert_int_equal(cs_net_field_compute(&g, &src, &id, 1000, &f), CS_OK);
    cs_net_field_points(&f, &pts, 1, cost, near);
    assert_true(fabs(cost[1] - 120) < 1e-9);
    cs_net_field_free(&f);
    cs_attach_free(&src);
    cs_attach_free(&pts);
    cs_graph_free(&g);
}

/* ------------------------------------------------------ random graphs */

/* A random street pattern: lines between points of a 6 x 6 lattice (100 m), so lines
 * share vertices, cross without vertices (bridges) and leave islands. */
static void random_graph(cs_graph *g, unsigned seed)
{
    srand(seed);
    double xy[2 * 200];
    size_t n = 0;
    for (int line = 0; line < 25; line++) {
        int len = 2 + rand() % 3;
        for (int v = 0; v < len; v++) {
            xy[n++] = 100.0 * (rand() % 6) + (rand() % 3 == 0 ? 0.0 : 0);
            xy[n++] = 100.0 * (rand() % 6);
        }
        xy[n++] = NAN;
        xy[n++] = 0;
    }
    double speeds[25];
    for (int i = 0; i < 25; i++)
        speeds[i] = rand() % 4 == 0 ? 0.5 : 1.0;
    build(g, xy, n / 2, speeds, 0.5, false);
}

static void random_points(double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (rand() % 60000) / 100.0 - 50;
        y[i] = (rand() % 60000) / 100.0 - 50;
    }
}

/*
 * Densified brute force: every edge is cut at the positions of the sources and points
 * on it into plain weighted pieces; a quadratic Dijkstra from each source (started at
 * its own node with its access) gives every point's best cost over all sources.
 */
typedef struct dense {
    size_t n;                 /* nodes: graph nodes, then one per source and point */
    double *w;                /* n x n piece costs (INFINITY = no piece) */
} dense;

static void dense_add(dense *d, size_t a, size_t b, double w)
{
    if (w < d->w[a * d->n + b]) {
        d->w[a * d->n + b] = w;
        d->w[b * d->n + a] = w;
    }
}

static void densify(const cs_graph *g, const cs_attach *src, const cs_attach *pts, dense *d)
{
    d->n = g->node_count + src->count + pts->count;
    d->w = malloc(d->n * d->n * sizeof *d->w);
    for (size_t i = 0; i < d->n * d->n; i++)
        d->w[i] = INFINITY;
    for (size_t e = 0; e < g->edge_count; e++) {
        /* the stops along e: its ends and every attached source and point */
        size_t ids[512];
        double at[512];
        size_t k = 0;
        ids[k] = g->edge_u[e];
        at[k++] = 0;
        for (size_t i = 0; i < src->count; i++)
            if (src->edge[i] == (long)e) {
                ids[k] = g->node_count + i;
                at[k++] = src->along_m[i];
            }
        for (size_t i = 0; i < pts->count; i++)
            if (pts->edge[i] == (long)e) {
                ids[k] = g->node_count + src->count + i;
                at[k++] = pts->along_m[i];
            }
        ids[k] = g->edge_v[e];
        at[k++] = g->edge_len_m[e];
        /* sort the stops by position (insertion sort) and link neighbours */
        for (size_t i = 1; i < k; i++)
            for (size_t j = i; j > 0 && at[j - 1] > at[j]; j--) {
                double ta = at[j];
                at[j] = at[j - 1];
                at[j - 1] = ta;
                size_t ti = ids[j];
                ids[j] = ids[j - 1];
                ids[j - 1] = ti;
            }
        double scale = g->edge_cost_m[e] / g->edge_len_m[e];
        for (size_t i = 0; i + 1 < k; i++)
            dense_add(d, ids[i], ids[i + 1], (at[i + 1] - at[i]) * scale);
    }
}

static void dense_dijkstra(const dense *d, size_t from, double start, double *dist)
{
    bool *done = calloc(d->n, sizeof *done);
    for (size_t i = 0; i < d->n; i++)
        dist[i] = INFINITY;
    dist[from] = start;
    for (;;) {
        size_t u = d->n;
        for (size_t i = 0; i < d->n; i++)
            if (!done[i] && isfinite(dist[i]) && (u == d->n || dist[i] < dist[u]))
                u = i;
        if (u == d->n)
            break;
        done[u] = true;
        for (size_t v = 0; v < d->n; v++)
            if (isfinite(d->w[u * d->n + v]))
                dist[v] = fmin(dist[v], dist[u] + d->w[u * d->n + v]);
    }
    free(done);
}

static void costs_against_brute_force(void **state)
{
    (void)state;
    for (unsigned seed = 11; seed <= 18; seed++) {
        cs_graph g;
        random_graph(&g, seed);
        enum { NS = 5, NP = 60 };
        double sx[NS], sy[NS], px[NP], py[NP];
        random_points(sx, sy, NS);
        random_points(px, py, NP);
        cs_attach src, pts;
        attach(&g, sx, sy, NS, 120, &src);
        attach(&g, px, py, NP, 120, &pts);
        dense d;
        densify(&g, &src, &pts, &d);
        double want[NP];
        for (size_t i = 0; i < NP; i++)
            want[i] = INFINITY;
        double *dist = malloc(d.n * sizeof *dist);
        for (size_t s = 0; s < NS; s++) {
            if (src.edge[s] < 0)
                continue;
            dense_dijkstra(&d, g.node_count + s, src.access_m[s], dist);
            for (size_t i = 0; i < NP; i++)
                if (pts.edge[i] >= 0)
                    want[i] = fmin(want[i], dist[g.node_count + NS + i] + pts.access_m[i]);
        }
        const double budgets[] = {150, 400, 5000};
        for (size_t b = 0; b < 3; b++) {
            cs_net_field f;
            assert_int_equal(cs_net_field_compute(&g, &src, NULL, budgets[b], &f), CS_OK);
            double got[NP], got2[NP], each[NP];
            long near[NP], near2[NP], near_each[NP];
            cs_net_field_points(&f, &pts, 1, got, near);
            cs_net_field_points(&f, &pts, 2, got2, near2);
            assert_int_equal(cs_net_each_source(&g, &src, NULL, budgets[b], &pts, each,
                                                near_each), CS_OK);
            for (size_t i = 0; i < NP; i++) {
                double w = want[i] <= budgets[b] ? want[i] : INFINITY;
                if (isinf(w) != isinf(got[i]) || (isfinite(w) && fabs(w - got[i]) > 1e-6))
                    fail_msg("seed %u budget %g point %zu: got %.9f, brute force %.9f", seed,
                             budgets[b], i, got[i], w);
                assert_true(got[i] == got2[i] && near[i] == near2[i]);
                assert_true(got[i] == each[i] || (isinf(got[i]) && isinf(each[i])));
                if (isfinite(got[i])) { /* the nearest source really is that near */
                    dense_dijkstra(&d, g.node_count + (size_t)near[i],
                                   src.access_m[near[i]], dist);
                    assert_true(fabs(dist[g.node_count + NS + i] + pts.access_m[i] - got[i]) <
                                1e-6);
                }
            }
            /* reached stretches: positions along each edge are inside one iff their
             * brute-force cost is within the budget */
            cs_interval *iv = NULL;
            size_t cap = 0, n = cs_net_field_reached(&f, budgets[b], &iv, &cap);
            assert_true(n != (size_t)-1);
            for (size_t e = 0; e < g.edge_count; e++) {
                for (int k = 0; k <= 20; k++) {
                    double t = g.edge_len_m[e] * k / 20.0;
                    double x, y;
                    cs_graph_point_at(&g, e, t, &x, &y);
                    cs_attach one = {1, (long[]){(long)e}, (double[]){t}, (double[]){0}};
                    double c;
                    long s;
                    cs_net_field_points(&f, &one, 1, &c, &s);
                    bool inside = false;
                    for (size_t i = 0; i < n; i++)
                        inside |= iv[i].edge == (long)e && iv[i].from_m - 1e-6 <= t &&
                                  t <= iv[i].to_m + 1e-6;
                    if (isfinite(c) && c < budgets[b] - 1e-6)
                        assert_true(inside);
                    if (!isfinite(c))
                        assert_false(inside);
                }
            }
            cs_free(iv);
            cs_net_field_free(&f);
        }
        free(dist);
        free(d.w);
        cs_attach_free(&src);
        cs_attach_free(&pts);
        cs_graph_free(&g);
    }
}

/*
 * Ties against brute force: a 500 m lattice of straight streets (every 100 m), sources
 * and points at whole metres beside them, so every cost is a whole number of metres
 * and the densified Dijkstra's costs compare exactly. For each point the set of
 * sources at its cheapest cost (brute force, one Dijkstra per source) must be what
 * cs_net_point_ties lists, and every point with two or more must be flagged. Many
 * points tie on such a grid (walks around a block are equal either way round).
 */
static void ties_against_brute_force(void **state)
{
    (void)state;
    double xy[2 * 40];
    size_t n = 0;
    for (int i = 0; i <= 5; i++) {
        double line[] = {0, 100.0 * i, 500, 100.0 * i, NAN, 0,
                         100.0 * i, 0, 100.0 * i, 500, NAN, 0};
        memcpy(xy + 2 * n, line, sizeof line);
        n += 6;
    }
    cs_graph g;
    build(&g, xy, n, NULL, 0.5, true);
    size_t checked_ties = 0;
    for (unsigned seed = 31; seed <= 38; seed++) {
        srand(seed);
        enum { NS = 7, NP = 80 };
        double sx[NS], sy[NS], px[NP], py[NP];
        for (size_t i = 0; i < NS + NP; i++) {
            /* on a street, at a multiple of 50 m along it, up to 20 m beside it */
            double along = 50.0 * (rand() % 11), street = 100.0 * (rand() % 6);
            double off = 10.0 * (rand() % 3);
            bool vertical = rand() % 2;
            double x = vertical ? street + off : along, y = vertical ? along : street + off;
            if (x > 500 || y > 500) { /* keep it nearest to its own street */
                x = vertical ? street - off : along;
                y = vertical ? along : street - off;
            }
            if (i < NS) {
                sx[i] = x;
                sy[i] = y;
            } else {
                px[i - NS] = x;
                py[i - NS] = y;
            }
        }
        if (seed == 31) { /* twins: one spot, two sources */
            sx[1] = sx[0];
            sy[1] = sy[0];
        }
        cs_attach src, pts;
        attach(&g, sx, sy, NS, 120, &src);
        attach(&g, px, py, NP, 120, &pts);
        dense d;
        densify(&g, &src, &pts, &d);
        double each[NS][NP];
        double *dist = malloc(d.n * sizeof *dist);
        for (size_t s = 0; s < NS; s++) {
            assert_true(src.edge[s] >= 0);
            dense_dijkstra(&d, g.node_count + s, src.access_m[s], dist);
            for (size_t i = 0; i < NP; i++)
                each[s][i] = dist[g.node_count + NS + i];
        }
        cs_net_field f;
        assert_int_equal(cs_net_field_compute(&g, &src, NULL, 5000, &f), CS_OK);
        double cost[NP];
        long near[NP];
        unsigned char tied[NP];
        cs_net_field_points_tied(&f, &pts, 2, cost, near, tied);
        long *ids = NULL;
        size_t cap = 0;
        for (size_t i = 0; i < NP; i++) {
            assert_true(pts.edge[i] >= 0);
            double best = INFINITY;
            for (size_t s = 0; s < NS; s++)
                best = fmin(best, each[s][i]);
            long want[NS];
            size_t nw = 0;
            for (size_t s = 0; s < NS; s++)
                if (each[s][i] == best)
                    want[nw++] = (long)s;
            assert_true(cost[i] - pts.access_m[i] == best);
            assert_int_equal(near[i], want[0]);
            size_t got = cs_net_point_ties(&f, pts.edge[i], pts.along_m[i], &ids, &cap);
            if (got != nw)
                fail_msg("seed %u point %zu (%g, %g): %zu sources tie by brute force, %zu "
                         "listed", seed, i, px[i], py[i], nw, got);
            for (size_t k = 0; k < nw; k++)
                assert_int_equal(ids[k], want[k]);
            if (nw > 1) {
                assert_true(tied[i]);
                checked_ties++;
            }
        }
        cs_free(ids);
        cs_net_field_free(&f);
        free(dist);
        free(d.w);
        cs_attach_free(&src);
        cs_attach_free(&pts);
    }
    if (checked_ties < 20) /* the lattice really made ties */
        fail_msg("only %zu ties", checked_ties);
    cs_graph_free(&g);
}

/* Every point one source reaches (for the 2SFCA catchments): each point within the
 * budget listed once, at its brute-force cost from that source alone. */
static void reach_from_against_brute_force(void **state)
{
    (void)state;
    for (unsigned seed = 21; seed <= 26; seed++) {
        cs_graph g;
        random_graph(&g, seed);
        enum { NS = 4, NP = 60 };
        double sx[NS], sy[NS], px[NP], py[NP];
        random_points(sx, sy, NS);
        random_points(px, py, NP);
        cs_attach src, pts;
        attach(&g, sx, sy, NS, 120, &src);
        attach(&g, px, py, NP, 120, &pts);
        dense d;
        densify(&g, &src, &pts, &d);
        double *dist = malloc(d.n * sizeof *dist);
        cs_net_reach *reach = NULL;
        assert_int_equal(cs_net_reach_create(&g, &pts, NULL, &reach), CS_OK);
        cs_net_scratch *scratch = cs_net_scratch_create(&g);
        assert_non_null(scratch);
        long *pt = NULL;
        double *cost = NULL;
        size_t cap = 0;
        const double budgets[] = {150, 400, 5000};
        for (size_t s = 0; s < NS; s++) {
            if (src.edge[s] >= 0)
                dense_dijkstra(&d, g.node_count + s, src.access_m[s], dist);
            for (size_t b = 0; b < 3; b++) {
                size_t n = cs_net_reach_from(reach, scratch, src.edge[s], src.along_m[s],
                                             src.access_m[s], budgets[b], &pt, &cost, &cap);
                assert_true(n != (size_t)-1);
                int listed[NP] = {0};
                for (size_t k = 0; k < n; k++) {
                    size_t i = (size_t)pt[k];
                    double want = dist[g.node_count + NS + i] + pts.access_m[i];
                    listed[i]++;
                    if (fabs(want - cost[k]) > 1e-6)
                        fail_msg("seed %u source %zu point %zu: %.9f, brute force %.9f", seed,
                                 s, i, cost[k], want);
                }
                for (size_t i = 0; i < NP; i++) {
                    double want = src.edge[s] < 0 || pts.edge[i] < 0
                                      ? INFINITY
                                      : dist[g.node_count + NS + i] + pts.access_m[i];
                    assert_int_equal(listed[i], want <= budgets[b] - 1e-6 ? 1
                                                : want > budgets[b] + 1e-6 ? 0
                                                                           : listed[i]);
                }
            }
        }
        cs_free(pt);
        cs_free(cost);
        cs_net_scratch_destroy(scratch);
        cs_net_reach_destroy(reach);
        free(dist);
        free(d.w);
        cs_attach_free(&src);
        cs_attach_free(&pts);
        cs_graph_free(&g);
    }
}

/* ------------------------------------------- 2SFCA along the network, by bands */

/* The weight of a cost, by hand: no decay (steps == 0) or zones 150/300/400 m of
 * 1/0.6/0.2 in a catchment d0. */
static double band_weight_by_hand(int steps, double d0, double c)
{
    if (!(c <= d0))
        return 0;
    if (!steps)
        return 1;
    return c <= 150 ? 1 : c <= 300 ? 0.6 : c <= 400 ? 0.2 : 0;
}

/* One random instance, one spec: ratio and accessibility against 2SFCA worked from the
 * brute-force costs; the same bits with one thread or three, with or without the lists
 * kept between the steps. */
static void banded_case(unsigned seed, int steps, double d0, size_t *whole)
{
    cs_graph g;
    random_graph(&g, seed);
    enum { NS = 6, NP = 300 };
    double sx[NS], sy[NS], px[NP], py[NP], supply[NS], demand[NP];
    random_points(sx, sy, NS);
    random_points(px, py, NP);
    for (size_t j = 0; j < NS; j++)
        supply[j] = j == 2 ? 0 : 5 + rand() % 20;
    for (size_t i = 0; i < NP; i++)
        demand[i] = i % 17 == 0 ? 0 : 1 + rand() % 9;
    cs_attach src, pts;
    attach(&g, sx, sy, NS, 120, &src);
    attach(&g, px, py, NP, 120, &pts);
    dense d;
    densify(&g, &src, &pts, &d);
    double *dist = malloc(d.n * sizeof *dist), cost[NS][NP];
    for (size_t j = 0; j < NS; j++) {
        if (src.edge[j] >= 0)
            dense_dijkstra(&d, g.node_count + j, src.access_m[j], dist);
        for (size_t i = 0; i < NP; i++)
            cost[j][i] = src.edge[j] < 0 || pts.edge[i] < 0
                             ? INFINITY
                             : dist[g.node_count + NS + i] + pts.access_m[i];
    }
    double want_r[NS], want_a[NP];
    for (size_t j = 0; j < NS; j++) {
        double den = 0;
        for (size_t i = 0; i < NP; i++)
            den += demand[i] * band_weight_by_hand(steps, d0, cost[j][i]);
        want_r[j] = den > 0 ? supply[j] / den : 0;
    }
    for (size_t i = 0; i < NP; i++) {
        want_a[i] = 0;
        for (size_t j = 0; j < NS; j++)
            want_a[i] += 1000 * want_r[j] * band_weight_by_hand(steps, d0, cost[j][i]);
    }
    cs_access_spec spec = {.catchment_m = d0, .decay = steps ? CS_DECAY_STEPS : CS_DECAY_NONE,
                           .step_count = 3, .step_m = {150, 300, 400},
                           .step_w = {1, 0.6, 0.2}, .per = 1000};
    assert_true(cs_access_network_banded(&spec));
    double ratio[3][NS], access[3][NP];
    const int threads[3] = {1, 3, 2};
    const size_t cache[3] = {(size_t)1 << 30, (size_t)1 << 30, 0};
    /* the last run is given the points by edge, as the kinds of a run share them */
    cs_net_reach *shared = NULL;
    assert_int_equal(cs_net_reach_create(&g, &pts, NULL, &shared), CS_OK);
    for (int run = 0; run < 3; run++)
        assert_int_equal(cs_access_network(&spec, &g, &src, supply, NS, &pts,
                                           run == 2 ? shared : NULL, demand, cache[run],
                                           threads[run], ratio[run], access[run]),
                         CS_OK);
    cs_net_reach_destroy(shared);
    for (size_t j = 0; j < NS; j++) {
        if (fabs(ratio[0][j] - want_r[j]) > 1e-9 * fmax(1e-3, want_r[j]))
            fail_msg("seed %u facility %zu: R %.12g, brute force %.12g", seed, j, ratio[0][j],
                     want_r[j]);
        assert_true(ratio[1][j] == ratio[0][j] && ratio[2][j] == ratio[0][j]);
    }
    for (size_t i = 0; i < NP; i++) {
        if (fabs(access[0][i] - want_a[i]) > 1e-9 * fmax(1, want_a[i]))
            fail_msg("seed %u point %zu: %.12g, brute force %.12g", seed, i, access[0][i],
                     want_a[i]);
        assert_true(access[1][i] == access[0][i] && access[2][i] == access[0][i]);
    }
    /* how many edges were taken whole (so that the case covers them) */
    cs_net_reach *reach = NULL;
    assert_int_equal(cs_net_reach_create(&g, &pts, NULL, &reach), CS_OK);
    cs_net_scratch *scratch = cs_net_scratch_create(&g);
    cs_net_banded l = {0};
    const double limits[2][4] = {{d0}, {150, 300, 400}};
    for (size_t j = 0; j < NS; j++) {
        assert_true(cs_net_reach_banded(reach, scratch, src.edge[j], src.along_m[j],
                                        src.access_m[j], limits[steps], steps ? 3 : 1, &l));
        *whole += l.ne;
    }
    cs_net_banded_free(&l);
    cs_net_scratch_destroy(scratch);
    cs_net_reach_destroy(reach);
    free(dist);
    free(d.w);
    cs_attach_free(&src);
    cs_attach_free(&pts);
    cs_graph_free(&g);
}

/* 2SFCA by bands of cost (no decay; steps) on random graphs against the brute force,
 * with catchments that take most edges whole and some none. */
static void banded_access_against_brute_force(void **state)
{
    (void)state;
    size_t whole = 0;
    for (unsigned seed = 31; seed <= 60; seed++) {
        banded_case(seed, 0, 5000, &whole);
        banded_case(seed, 0, 250, &whole);
        banded_case(seed, 1, 400, &whole);
    }
    if (whole < 1000)
        fail_msg("only %zu edges were taken whole", whole);
    /* a Gaussian decay has no bands */
    cs_access_spec gauss = {.catchment_m = 400, .decay = CS_DECAY_GAUSSIAN, .per = 1};
    assert_false(cs_access_network_banded(&gauss));
    cs_graph g;
    random_graph(&g, 31);
    cs_attach none = {0};
    double r = -1, a = -1;
    assert_int_equal(cs_access_network(&gauss, &g, &none, &r, 0, &none, NULL, &a, 0, 1, &r, &a),
                     CS_ERR_ARGUMENT);
    cs_graph_free(&g);
}

/* ------------------------------------------------------ OpenStreetMap tags */

static void osm_tags(void **state)
{
    (void)state;
    char v[64];
    const char *tags = "\"footway\"=>\"sidewalk\",\"foot\"=>\"no\","
                       "\"name\"=>\"a \\\"quoted\\\", name\",\"access\"=>\"private\"";
    cs_osm_tag(tags, "foot", v, sizeof v);
    assert_string_equal(v, "no");
    cs_osm_tag(tags, "footway", v, sizeof v);
    assert_string_equal(v, "sidewalk");
    cs_osm_tag(tags, "name", v, sizeof v);
    assert_string_equal(v, "a \"quoted\", name");
    cs_osm_tag(tags, "access", v, sizeof v);
    assert_string_equal(v, "private");
    cs_osm_tag(tags, "bicycle", v, sizeof v);
    assert_string_equal(v, "");
    cs_osm_tag("", "foot", v, sizeof v);
    assert_string_equal(v, "");
}

/* A hand-written OpenStreetMap file: which ways are walked, by the rule. */
static void osm_way_filter(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n");
    for (int i = 1; i <= 14; i++)
        cs_buf_printf(&b, "<node id='%d' version='1' lat='31.%04d' lon='121.%04d'/>\n", i,
                      1000 + i * 10, 4000 + i * 10);
    const char *ways[][3] = {
        {"residential", NULL, NULL},       /* kept */
        {"footway", "foot", "no"},         /* closed */
        {"service", "access", "private"},  /* closed */
        {"service", "access", "private"},  /* kept: foot=yes below */
        {"motorway", NULL, NULL},          /* class */
        {"steps", NULL, NULL},             /* kept */
        {"construction", NULL, NULL},      /* class */
    };
    for (int w = 0; w < 7; w++) {
        cs_buf_printf(&b, "<way id='%d' version='1'><nd ref='%d'/><nd ref='%d'/>"
                      "<tag k='highway' v='%s'/>", 100 + w, 2 * w + 1, 2 * w + 2, ways[w][0]);
        if (ways[w][1])
            cs_buf_printf(&b, "<tag k='%s' v='%s'/>", ways[w][1], ways[w][2]);
        if (w == 3)
            cs_buf_add(&b, "<tag k='foot' v='yes'/>");
        cs_buf_add(&b, "</way>\n");
    }
    cs_buf_add(&b, "</osm>\n");
    free(tu_write(dir, "tiny.osm", b.data));
    cs_buf_free(&b);
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    char *path = tu_join(dir, "tiny.osm");
    assert_int_equal(cs_config_set(ctx, cfg, "network.path", path), CS_OK);
    cs_raw_lines raw;
    cs_status st = cs_load_network(ctx, cfg, &raw);
    if (st != CS_OK)
        tu_dump_messages(ctx);
    assert_int_equal(st, CS_OK);
    assert_true(raw.osm);
    assert_int_equal(raw.lines.count, 3);
    assert_int_equal(raw.left_out_class, 2);
    assert_int_equal(raw.left_out_closed, 2);
    /* the kept ways are 100, 103 and 105: their first nodes are 1, 7 and 11 */
    assert_true(fabs(raw.lines.x[raw.lines.start[1]] - 121.4070) < 1e-9);
    assert_true(fabs(raw.lines.x[raw.lines.start[2]] - 121.4110) < 1e-9);
    cs_raw_lines_free(&raw);
    /* a custom list: only motorways */
    assert_int_equal(cs_config_set(ctx, cfg, "network.highway", "motorway"), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_OK);
    assert_int_equal(raw.lines.count, 1);
    cs_raw_lines_free(&raw);
    /* nothing walkable left */
    assert_int_equal(cs_config_set(ctx, cfg, "network.highway", "cycleway"), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "no way of the network can be walked", "network.highway",
                               NULL));
    cs_raw_lines_free(&raw);
    free(path);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* Line layers: fields for closure and speed, errors naming feature and field. */
static void line_layer_fields(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "roads.geojson",
                  "{\"type\":\"FeatureCollection\",\"features\":["
                  "{\"type\":\"Feature\",\"properties\":{\"shut\":\"yes\",\"pace\":1},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.4,31.1],[121.41,31.1]]}},"
                  "{\"type\":\"Feature\",\"properties\":{\"shut\":\"0\",\"pace\":0.5},"
                  "\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":"
                  "[[[121.4,31.11],[121.41,31.11]],[[121.4,31.12],[121.41,31.12]]]}},"
                  "{\"type\":\"Feature\",\"properties\":{\"shut\":\"\",\"pace\":null},"
                  "\"geometry\":{\"type\":\"Point\",\"coordinates\":[121.4,31.1]}}]}\n"));
    free(tu_write(dir, "points.geojson",
                  "{\"type\":\"FeatureCollection\",\"features\":["
                  "{\"type\":\"Feature\",\"properties\":{},"
                  "\"geometry\":{\"type\":\"Point\",\"coordinates\":[121.4,31.1]}}]}\n"));
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    char *roads = tu_join(dir, "roads.geojson"), *points = tu_join(dir, "points.geojson");
    assert_int_equal(cs_config_set(ctx, cfg, "network.path", roads), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfg, "network.closed", "shut"), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfg, "network.speed", "pace"), CS_OK);
    cs_raw_lines raw;
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_OK);
    assert_int_equal(raw.lines.count, 2); /* the multi-line's two parts */
    assert_int_equal(raw.left_out_closed, 1);
    assert_true(raw.lines.speed[0] == 0.5 && raw.lines.speed[1] == 0.5);
    assert_true(raw.lines.feature[0] == 2 && raw.lines.feature[1] == 2);
    cs_raw_lines_free(&raw);
    /* a field that is not there */
    assert_int_equal(cs_config_set(ctx, cfg, "network.closed", "closure"), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "closure", "shut, pace", NULL));
    cs_raw_lines_free(&raw);
    /* bad values name the feature and field */
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_config_set(ctx, cfg, "network.closed", "pace"), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "feature 2", "pace", "'0.5' is not a closure flag", NULL));
    cs_raw_lines_free(&raw);
    assert_int_equal(cs_config_set(ctx, cfg, "network.closed", ""), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfg, "network.speed", "shut"), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "feature 1", "shut", NULL));
    cs_raw_lines_free(&raw);
    /* a layer of points only */
    assert_int_equal(cs_config_set(ctx, cfg, "network", ""), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfg, "network.path", points), CS_OK);
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "points.geojson", "has no lines", NULL));
    cs_raw_lines_free(&raw);
    free(roads);
    free(points);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------- the real extract */

/*
 * ../shared/data/real/shanghai-central-drive-osm.osm: 796 ways. Counted independently
 * in Python (xml.etree over the file, the same tag rule): 693 ways walked, 100 left out
 * by class (75 trunk_link, 25 trunk), 3 as closed; joined at shared node ids they form
 * 75 components with 81.98 km in all, 85.94% of it in the largest (lengths from an
 * equirectangular approximation, within 0.1% here).
 */
static void real_extract(void **state)
{
    (void)state;
    const char *shared = tu_shared_data();
    if (!shared) {
        print_message("skipped: ../shared/data/real is absent\n");
        skip();
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/shanghai-central-drive-osm.osm", shared);
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfg, "network.path", path), CS_OK);
    cs_raw_lines raw;
    assert_int_equal(cs_load_network(ctx, cfg, &raw), CS_OK);
    assert_int_equal(raw.features, 796);
    assert_int_equal(raw.lines.count, 693);
    assert_int_equal(raw.left_out_class, 100);
    assert_int_equal(raw.left_out_closed, 3);
    /* into metres: a transverse Mercator at the extract's centre, by hand */
    const double lon0 = 121.4737, lat0 = 31.2304, k = cos(lat0 * M_PI / 180);
    size_t nv = raw.lines.start[raw.lines.count];
    for (size_t v = 0; v < nv; v++) {
        raw.lines.x[v] = (raw.lines.x[v] - lon0) * 111319.49 * k;
        raw.lines.y[v] = (raw.lines.y[v] - lat0) * 110851.0;
    }
    cs_graph g;
    assert_int_equal(cs_graph_build(&raw.lines, 0.5, false, &g), CS_OK);
    assert_int_equal(g.component_count, 75);
    assert_true(fabs(g.total_len_m / 1000 - 81.98) < 0.4);
    assert_true(fabs(g.component_len_m[0] / g.total_len_m - 0.8594) < 0.003);
    cs_graph_free(&g);
    cs_raw_lines_free(&raw);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(costs_by_hand),
        cmocka_unit_test(costs_against_brute_force),
        cmocka_unit_test(ties_against_brute_force),
        cmocka_unit_test(reach_from_against_brute_force),
        cmocka_unit_test(banded_access_against_brute_force),
        cmocka_unit_test(osm_tags),
        cmocka_unit_test(osm_way_filter),
        cmocka_unit_test(line_layer_fields),
        cmocka_unit_test(real_extract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
