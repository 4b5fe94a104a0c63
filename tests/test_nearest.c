/*
 * test_nearest.c — the point index behind the straight-line cost field: nearest and
 * within-radius answers checked against brute force on uniform, clustered, duplicate
 * and collinear points, the tie rule (lowest index), identical batch answers on any
 * thread count, a hand-worked case, empty and one-point indexes, bad arguments and
 * allocation failures.
 */
#include "testutil.h"

#include "core/core.h"
#include "cost/nearest.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static double rng_normal(uint64_t *s)
{
    double u = tu_rng_unit(s), v = tu_rng_unit(s);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

enum layout { UNIFORM, CLUSTERED, DUPLICATE_GRID, COLLINEAR, ALL_SAME };

/* Points in a 10 km square laid out as asked. The duplicate grid puts several points
 * (scattered indices) on each integer-kilometre site, so queries on sites and halfway
 * between them tie. */
static void make_points(enum layout kind, size_t n, uint64_t seed, double *x, double *y)
{
    uint64_t s = seed;
    double cx[16], cy[16];
    for (int c = 0; c < 16; c++) {
        cx[c] = tu_rng_unit(&s) * 10000;
        cy[c] = tu_rng_unit(&s) * 10000;
    }
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case UNIFORM:
            x[i] = tu_rng_unit(&s) * 10000;
            y[i] = tu_rng_unit(&s) * 10000;
            break;
        case CLUSTERED: {
            int c = (int)(tu_rng_next(&s) % 16);
            x[i] = cx[c] + rng_normal(&s) * 300;
            y[i] = cy[c] + rng_normal(&s) * 300;
            break;
        }
        case DUPLICATE_GRID:
            x[i] = (double)(tu_rng_next(&s) % 11) * 1000;
            y[i] = (double)(tu_rng_next(&s) % 11) * 1000;
            break;
        case COLLINEAR: {
            double t = (double)(tu_rng_next(&s) % 2000);
            x[i] = 5 * t;
            y[i] = 2 * t + 7;
            break;
        }
        case ALL_SAME:
            x[i] = 1234.5;
            y[i] = -678.25;
            break;
        }
    }
}

/* Queries over a slightly larger square than the points; for the duplicate grid, half
 * of them sit on sites or on half-kilometre marks to force ties. */
static void make_queries(enum layout kind, size_t n, uint64_t seed, double *x, double *y)
{
    uint64_t s = seed ^ 0x5555;
    for (size_t i = 0; i < n; i++) {
        if (kind == DUPLICATE_GRID && i % 2 == 0) {
            x[i] = (double)(tu_rng_next(&s) % 23) * 500 - 500;
            y[i] = (double)(tu_rng_next(&s) % 23) * 500 - 500;
        } else {
            x[i] = tu_rng_unit(&s) * 12000 - 1000;
            y[i] = tu_rng_unit(&s) * 12000 - 1000;
        }
    }
}

/* The independent answer: every point, first minimum wins. */
static long brute_nearest(const double *x, const double *y, size_t n, double qx, double qy,
                          double *dist)
{
    long best = -1;
    double best_d2 = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - qx, dy = y[i] - qy;
        double d2 = dx * dx + dy * dy;
        if (d2 < best_d2) {
            best_d2 = d2;
            best = (long)i;
        }
    }
    *dist = sqrt(best_d2);
    return best;
}

static size_t brute_within(const double *x, const double *y, size_t n, double qx, double qy,
                           double r, long *out)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - qx, dy = y[i] - qy;
        if (sqrt(dx * dx + dy * dy) <= r)
            out[count++] = (long)i;
    }
    return count;
}

static double *alloc_doubles(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static long *alloc_longs(size_t n)
{
    long *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* ------------------------------------------------------------------ tests */

/*
 * Points P0 = (0, 0), P1 = (6, 0), P2 = (3, 4). By hand:
 *   q = (3, 0):  |P0| = 3, |P1| = 3, |P2| = 4           -> tie, lowest index: 0 at 3
 *   q = (3, 1):  |P0| = |P1| = sqrt(9 + 1) = 3.162..., |P2| = 3 -> 2 at 3
 *   q = (5, 1):  |P0| = sqrt(26), |P1| = sqrt(1 + 1), |P2| = sqrt(4 + 9) -> 1 at sqrt(2)
 *   q = (10, 0): |P1| = 4, |P2| = sqrt(49 + 16)          -> 1 at 4
 *   q = (3, 7):  |P2| = 3, |P0| = |P1| = sqrt(9 + 49)    -> 2 at 3
 * Within radius of (3, 0): r = 3 -> {0, 1}; r = 4 -> {0, 1, 2}; r = 2.999 -> {}.
 * Within r = 0 of (6, 0) -> {1}.
 */
static void hand_worked_three_points(void **state)
{
    (void)state;
    const double x[] = {0, 6, 3}, y[] = {0, 0, 4};
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, 3, &ix), CS_OK);
    struct { double qx, qy; long want; double dist; } cases[] = {
        {3, 0, 0, 3}, {3, 1, 2, 3}, {5, 1, 1, sqrt(2.0)}, {10, 0, 1, 4}, {3, 7, 2, 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double d = -1;
        assert_int_equal(cs_point_index_nearest(ix, cases[c].qx, cases[c].qy, &d),
                         cases[c].want);
        assert_true(d == cases[c].dist);
    }
    long *out = NULL;
    size_t cap = 0;
    assert_int_equal(cs_point_index_within(ix, 3, 0, 3, &out, &cap), 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
    assert_int_equal(cs_point_index_within(ix, 3, 0, 4, &out, &cap), 3);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 2);
    assert_int_equal(cs_point_index_within(ix, 3, 0, 2.999, &out, &cap), 0);
    assert_int_equal(cs_point_index_within(ix, 6, 0, 0, &out, &cap), 1);
    assert_int_equal(out[0], 1);
    cs_free(out);
    cs_point_index_destroy(ix);
}

static void empty_index(void **state)
{
    (void)state;
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(NULL, NULL, 0, &ix), CS_OK);
    assert_non_null(ix);
    double d = 0;
    assert_int_equal(cs_point_index_nearest(ix, 1, 2, &d), -1);
    assert_true(isinf(d) && d > 0);
    double qx[3] = {0, 1, 2}, qy[3] = {0, 1, 2}, dist[3];
    long near[3];
    cs_point_index_nearest_all(ix, qx, qy, 3, 2, dist, near);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(near[i], -1);
        assert_true(isinf(dist[i]) && dist[i] > 0);
    }
    cs_point_index_nearest_all(ix, NULL, NULL, 0, 1, NULL, NULL); /* no queries */
    long *out = NULL;
    size_t cap = 0;
    assert_int_equal(cs_point_index_within(ix, 0, 0, INFINITY, &out, &cap), 0);
    cs_free(out);
    cs_point_index_destroy(ix);
    cs_point_index_destroy(NULL);
}

static void one_point(void **state)
{
    (void)state;
    const double x[] = {100}, y[] = {-50};
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, 1, &ix), CS_OK);
    double d;
    assert_int_equal(cs_point_index_nearest(ix, 103, -46, &d), 0);
    assert_true(d == 5); /* 3-4-5 triangle */
    assert_int_equal(cs_point_index_nearest(ix, 100, -50, &d), 0);
    assert_true(d == 0);
    cs_point_index_destroy(ix);
}

/* The index keeps its own copy of the points. */
static void points_are_copied(void **state)
{
    (void)state;
    double x[] = {0, 10}, y[] = {0, 0};
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, 2, &ix), CS_OK);
    x[0] = 100;
    double d;
    assert_int_equal(cs_point_index_nearest(ix, 1, 0, &d), 0);
    assert_true(d == 1);
    cs_point_index_destroy(ix);
}

/* Queries of check_against_brute_force with two or more nearest points. */
static size_t tie_queries;

/* nearest, nearest_all on 1 and 2 threads, and the thread default, all equal brute force
 * exactly (index and distance). */
static void check_against_brute_force(enum layout kind, size_t n, size_t nq, uint64_t seed)
{
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    double *qx = alloc_doubles(nq), *qy = alloc_doubles(nq);
    double *d1 = alloc_doubles(nq), *d2 = alloc_doubles(nq), *d0 = alloc_doubles(nq);
    long *n1 = alloc_longs(nq), *n2 = alloc_longs(nq), *n0 = alloc_longs(nq);
    make_points(kind, n, seed, x, y);
    make_queries(kind, nq, seed, qx, qy);
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, n, &ix), CS_OK);
    cs_point_index_nearest_all(ix, qx, qy, nq, 1, d1, n1);
    cs_point_index_nearest_all(ix, qx, qy, nq, 2, d2, n2);
    cs_point_index_nearest_all(ix, qx, qy, nq, 0, d0, n0);
    for (size_t q = 0; q < nq; q++) {
        double want_d, got_d;
        long want = brute_nearest(x, y, n, qx[q], qy[q], &want_d);
        long got = cs_point_index_nearest(ix, qx[q], qy[q], &got_d);
        if (got != want || got_d != want_d)
            fail_msg("layout %d n %zu seed %llu query %zu (%.17g, %.17g): got %ld at %.17g, "
                     "want %ld at %.17g", (int)kind, n, (unsigned long long)seed, q, qx[q],
                     qy[q], got, got_d, want, want_d);
        assert_int_equal(n1[q], want);
        assert_true(d1[q] == want_d);
    }
    /* Bitwise identical regardless of thread count. */
    assert_memory_equal(n1, n2, nq * sizeof *n1);
    assert_memory_equal(d1, d2, nq * sizeof *d1);
    assert_memory_equal(n1, n0, nq * sizeof *n1);
    assert_memory_equal(d1, d0, nq * sizeof *d1);
    /* nearest_out may be NULL. */
    cs_point_index_nearest_all(ix, qx, qy, nq, 2, d2, NULL);
    assert_memory_equal(d1, d2, nq * sizeof *d1);
    /* Ties: every query with two or more points at its nearest squared distance (brute
     * force) is flagged, on any thread count, and lists exactly those points. */
    unsigned char *t1 = calloc(nq, 1), *t2 = calloc(nq, 1);
    cs_point_index_nearest_all_tied(ix, qx, qy, nq, NULL, 1, d2, n2, t1);
    cs_point_index_nearest_all_tied(ix, qx, qy, nq, NULL, 2, d2, n2, t2);
    assert_memory_equal(t1, t2, nq);
    assert_memory_equal(n1, n2, nq * sizeof *n1);
    /* the same with the queries' order made once and given (as for several kinds), and
     * with one made for other points, which is not used */
    cs_query_order *order = cs_query_order_create(qx, qy, nq);
    assert_true(order != NULL || nq < 4096);
    cs_query_order *other = cs_query_order_create(qx, qy, nq / 2);
    for (int t = 1; t <= 2; t++) {
        memset(t2, 0, nq);
        cs_point_index_nearest_all_tied(ix, qx, qy, nq, t == 1 ? order : other, t, d2, n2, t2);
        assert_memory_equal(t1, t2, nq);
        assert_memory_equal(n1, n2, nq * sizeof *n1);
        assert_memory_equal(d1, d2, nq * sizeof *d1);
    }
    cs_query_order_destroy(order);
    cs_query_order_destroy(other);
    long *want = alloc_longs(n), *got = NULL;
    size_t cap = 0, flagged = 0, tied = 0;
    for (size_t q = 0; q < nq; q++) {
        double best = INFINITY;
        for (size_t i = 0; i < n; i++) {
            double dx = x[i] - qx[q], dy = y[i] - qy[q];
            best = fmin(best, dx * dx + dy * dy);
        }
        size_t nw = 0;
        for (size_t i = 0; i < n; i++) {
            double dx = x[i] - qx[q], dy = y[i] - qy[q];
            if (dx * dx + dy * dy == best)
                want[nw++] = (long)i;
        }
        size_t ng = cs_point_index_ties(ix, qx[q], qy[q], &got, &cap);
        if (ng != nw || (nw > 1 && !t1[q]))
            fail_msg("layout %d query %zu: %zu points tie by brute force, %zu listed, "
                     "flag %d", (int)kind, q, nw, ng, t1[q]);
        if (nw)
            assert_memory_equal(got, want, nw * sizeof *want);
        flagged += t1[q];
        tied += nw > 1;
    }
    /* flags without a tie cost a second look; they must stay rare */
    if (flagged != tied) /* the flag is exact */
        fail_msg("layout %d n %zu: %zu flagged, %zu tied of %zu", (int)kind, n, flagged, tied, nq);
    tie_queries += tied;
    free(t1), free(t2), free(want), cs_free(got);
    cs_point_index_destroy(ix);
    free(x), free(y), free(qx), free(qy), free(d1), free(d2), free(d0);
    free(n1), free(n2), free(n0);
}

static void nearest_matches_brute_force(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 7, 16, 17, 33, 100, 1000, 5000};
    const enum layout kinds[] = {UNIFORM, CLUSTERED, DUPLICATE_GRID, COLLINEAR, ALL_SAME};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (uint64_t seed = 1; seed <= 3; seed++)
                check_against_brute_force(kinds[k], sizes[s], 2000, seed * 7919 + k);
    assert_true(tie_queries > 1000); /* the duplicate and same-point layouts tie */
}

/* Enough queries that the batch goes in Morton order, chunk by chunk, on both threads. */
static void large_batch_matches_brute_force(void **state)
{
    (void)state;
    check_against_brute_force(CLUSTERED, 3000, 20000, 42);
    check_against_brute_force(DUPLICATE_GRID, 3000, 20000, 43);
    check_against_brute_force(UNIFORM, 50, 20000, 44);
}

/* Queries given in reverse, or as a shuffled copy, get the same answers. */
static void batch_answers_independent_of_query_order(void **state)
{
    (void)state;
    const size_t n = 2000, nq = 9000;
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    double *qx = alloc_doubles(nq), *qy = alloc_doubles(nq);
    double *rx = alloc_doubles(nq), *ry = alloc_doubles(nq);
    double *d = alloc_doubles(nq), *rd = alloc_doubles(nq);
    long *nn = alloc_longs(nq), *rn = alloc_longs(nq);
    make_points(DUPLICATE_GRID, n, 9, x, y);
    make_queries(DUPLICATE_GRID, nq, 9, qx, qy);
    for (size_t i = 0; i < nq; i++) {
        rx[i] = qx[nq - 1 - i];
        ry[i] = qy[nq - 1 - i];
    }
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, n, &ix), CS_OK);
    cs_point_index_nearest_all(ix, qx, qy, nq, 2, d, nn);
    cs_point_index_nearest_all(ix, rx, ry, nq, 1, rd, rn);
    for (size_t i = 0; i < nq; i++) {
        assert_int_equal(nn[i], rn[nq - 1 - i]);
        assert_true(d[i] == rd[nq - 1 - i]);
    }
    cs_point_index_destroy(ix);
    free(x), free(y), free(qx), free(qy), free(rx), free(ry), free(d), free(rd);
    free(nn), free(rn);
}

static void within_matches_brute_force(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 9, 500, 3000};
    const enum layout kinds[] = {UNIFORM, CLUSTERED, DUPLICATE_GRID, COLLINEAR, ALL_SAME};
    const double radii[] = {0, 1, 250, 1000, 1500, 5000, 1e9, INFINITY, -1};
    long *out = NULL;
    size_t cap = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s], nq = 60;
            double *x = alloc_doubles(n), *y = alloc_doubles(n);
            double *qx = alloc_doubles(nq), *qy = alloc_doubles(nq);
            long *want = alloc_longs(n);
            make_points(kinds[k], n, 100 + k, x, y);
            make_queries(kinds[k], nq, 100 + k, qx, qy);
            qx[0] = x[0]; /* a query on a point, so r = 0 finds it (and its duplicates) */
            qy[0] = y[0];
            cs_point_index *ix = NULL;
            assert_int_equal(cs_point_index_create(x, y, n, &ix), CS_OK);
            for (size_t q = 0; q < nq; q++) {
                for (size_t r = 0; r < sizeof radii / sizeof radii[0]; r++) {
                    size_t wn = brute_within(x, y, n, qx[q], qy[q], radii[r], want);
                    size_t got = cs_point_index_within(ix, qx[q], qy[q], radii[r], &out, &cap);
                    assert_int_equal(got, wn);
                    if (wn)
                        assert_memory_equal(out, want, wn * sizeof *want);
                }
            }
            assert_true(cs_point_index_within(ix, x[0], y[0], 0, &out, &cap) >= 1);
            assert_int_equal(out[0], 0);
            cs_point_index_destroy(ix);
            free(x), free(y), free(qx), free(qy), free(want);
        }
    }
    cs_free(out);
}

/* A distance that lands exactly on the radius counts (distance <= r). */
static void within_includes_the_boundary(void **state)
{
    (void)state;
    const double x[] = {3, 0, -3, 0, 1}, y[] = {4, 5, -4, -5, 1};
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, 5, &ix), CS_OK);
    long *out = NULL;
    size_t cap = 0;
    assert_int_equal(cs_point_index_within(ix, 0, 0, 5, &out, &cap), 5);
    for (long i = 0; i < 5; i++)
        assert_int_equal(out[i], i);
    assert_int_equal(cs_point_index_within(ix, 0, 0, nextafter(5.0, 0.0), &out, &cap), 1);
    assert_int_equal(out[0], 4);
    cs_free(out);
    cs_point_index_destroy(ix);
}

static void bad_arguments(void **state)
{
    (void)state;
    const double x[] = {0, 1}, y[] = {0, NAN}, yi[] = {INFINITY, 0}, ok[] = {0, 1};
    cs_point_index *ix = (cs_point_index *)&ix;
    assert_int_equal(cs_point_index_create(x, ok, 2, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_point_index_create(NULL, ok, 2, &ix), CS_ERR_ARGUMENT);
    assert_null(ix);
    assert_int_equal(cs_point_index_create(x, NULL, 2, &ix), CS_ERR_ARGUMENT);
    assert_int_equal(cs_point_index_create(x, y, 2, &ix), CS_ERR_ARGUMENT);
    assert_int_equal(cs_point_index_create(x, yi, 2, &ix), CS_ERR_ARGUMENT);
    assert_null(ix);
}

/* A query that is not a finite point has no nearest facility: -1 and NaN. */
static void non_finite_query(void **state)
{
    (void)state;
    const double x[] = {0, 1}, y[] = {0, 1};
    cs_point_index *ix = NULL;
    assert_int_equal(cs_point_index_create(x, y, 2, &ix), CS_OK);
    double d = 0;
    assert_int_equal(cs_point_index_nearest(ix, NAN, 0, &d), -1);
    assert_true(isnan(d));
    assert_int_equal(cs_point_index_nearest(ix, 0, HUGE_VAL, &d), -1);
    assert_true(isnan(d));
    double qx[] = {0, NAN, 1}, qy[] = {0, 0, 1}, dist[3];
    long near[3];
    cs_point_index_nearest_all(ix, qx, qy, 3, 2, dist, near);
    assert_int_equal(near[0], 0);
    assert_int_equal(near[1], -1);
    assert_int_equal(near[2], 1);
    assert_true(dist[0] == 0 && isnan(dist[1]) && dist[2] == 0);
    cs_point_index_destroy(ix);
}

/* Every allocation failing in turn: create fails cleanly (no leak under ASan) until it
 * has all it needs; within reports (size_t)-1 and leaves the buffer usable; the batch
 * query still answers correctly when its ordering buffer cannot be had. */
static void allocation_failures(void **state)
{
    (void)state;
    const size_t n = 300, nq = 5000;
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    double *qx = alloc_doubles(nq), *qy = alloc_doubles(nq), *d = alloc_doubles(nq);
    long *nn = alloc_longs(nq);
    make_points(CLUSTERED, n, 5, x, y);
    make_queries(CLUSTERED, nq, 5, qx, qy);
    cs_point_index *ix = NULL;
    long k = 0;
    for (;; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_point_index_create(x, y, n, &ix);
        if (st == CS_OK)
            break;
        assert_int_equal(st, CS_ERR_NOMEM);
        assert_null(ix);
    }
    assert_true(k >= 4); /* the struct and its three arrays */
    assert_non_null(ix);

    tu_alloc_fail_after(0);
    long *out = NULL;
    size_t cap = 0;
    assert_true(cs_point_index_within(ix, 0, 0, INFINITY, &out, &cap) == (size_t)-1);
    tu_alloc_fail_after(0);
    cs_point_index_nearest_all(ix, qx, qy, nq, 2, d, nn);
    tu_alloc_restore();
    for (size_t q = 0; q < nq; q++) {
        double want_d;
        assert_int_equal(nn[q], brute_nearest(x, y, n, qx[q], qy[q], &want_d));
        assert_true(d[q] == want_d);
    }
    assert_int_equal(cs_point_index_within(ix, 0, 0, INFINITY, &out, &cap), n);
    cs_free(out);
    cs_point_index_destroy(ix);
    free(x), free(y), free(qx), free(qy), free(d), free(nn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_worked_three_points),
        cmocka_unit_test(empty_index),
        cmocka_unit_test(one_point),
        cmocka_unit_test(points_are_copied),
        cmocka_unit_test(nearest_matches_brute_force),
        cmocka_unit_test(large_batch_matches_brute_force),
        cmocka_unit_test(batch_answers_independent_of_query_order),
        cmocka_unit_test(within_matches_brute_force),
        cmocka_unit_test(within_includes_the_boundary),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(non_finite_query),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
