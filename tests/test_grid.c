/*
 * test_grid.c — the shared uniform grid (geom/grid.h) against brute force: random
 * points sorted into cells and box queries compared with a linear scan, segments
 * registered in every cell they pass through, rings of cells compared with the cells
 * at that Chebyshev distance; and the edge cases: no points, all points in one cell,
 * points on cell borders, huge and non-finite coordinates, sizes over the limits and
 * allocation failures.
 */
#include "testutil.h"

#include "core/core.h"
#include "geom/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every item of the csr once, cells in order, items ascending inside a cell; returns
 * the number of items and writes each item's cell to cell_of (SIZE_MAX = absent). */
static size_t check_csr(const cs_ugrid_csr *csr, size_t n, size_t *cell_of)
{
    for (size_t i = 0; i < n; i++)
        cell_of[i] = SIZE_MAX;
    assert_int_equal(csr->start[0], 0);
    for (size_t c = 0; c < csr->ncells; c++) {
        assert_true(csr->start[c] <= csr->start[c + 1]);
        for (size_t k = csr->start[c]; k < csr->start[c + 1]; k++) {
            uint32_t i = csr->item[k];
            assert_true(i < n);
            assert_int_equal(cell_of[i], SIZE_MAX);
            cell_of[i] = c;
            if (k > csr->start[c])
                assert_true(csr->item[k - 1] < i);
        }
    }
    return csr->start[csr->ncells];
}

/* The cell of x by walking the column borders (the independent answer), for points
 * not within rounding of a border. */
static long brute_col(double x0, double w, size_t n, double x)
{
    for (size_t c = 0; c < n; c++)
        if (x >= x0 + (double)c * w && x < x0 + (double)(c + 1) * w)
            return (long)c;
    return -1;
}

static bool near_border(double x0, double w, double x)
{
    double f = (x - x0) / w;
    return fabs(f - round(f)) < 1e-6;
}

static void random_points_and_boxes(void **state)
{
    (void)state;
    uint64_t rng = 14;
    enum { N = 5000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    size_t *cell = malloc(N * sizeof *cell);
    unsigned char *keep = malloc(N);
    assert_true(x && y && cell && keep);
    cs_ugrid g = {-120.5, 30.25, 7.0, 5.5, 23, 17};
    for (size_t i = 0; i < N; i++) {
        /* some outside the grid on every side */
        do {
            x[i] = g.x0 - 20 + tu_rng_unit(&rng) * (g.w * 23 + 40);
            y[i] = g.y0 - 20 + tu_rng_unit(&rng) * (g.h * 17 + 40);
        } while (near_border(g.x0, g.w, x[i]) || near_border(g.y0, g.h, y[i]));
        keep[i] = tu_rng_unit(&rng) < 0.8;
    }
    for (int clamp = 0; clamp < 2; clamp++) {
        cs_ugrid_csr csr = {0};
        assert_int_equal(cs_ugrid_csr_points(&csr, &g, x, y, keep, N, clamp, 2), CS_OK);
        assert_int_equal(csr.ncells, 23 * 17);
        size_t placed = check_csr(&csr, N, cell);
        size_t expect = 0;
        for (size_t i = 0; i < N; i++) {
            long cx = brute_col(g.x0, g.w, g.nx, x[i]), cy = brute_col(g.y0, g.h, g.ny, y[i]);
            if (clamp) {
                cx = cx >= 0 ? cx : x[i] < g.x0 ? 0 : (long)g.nx - 1;
                cy = cy >= 0 ? cy : y[i] < g.y0 ? 0 : (long)g.ny - 1;
            }
            if (!keep[i] || cx < 0 || cy < 0) {
                assert_int_equal(cell[i], SIZE_MAX);
                continue;
            }
            expect++;
            assert_int_equal(cell[i], (size_t)cy * g.nx + (size_t)cx);
        }
        assert_int_equal(placed, expect);

        /* box queries: the points of the cells meeting the box, filtered, are exactly
         * the kept points inside the box */
        for (int q = 0; q < 300; q++) {
            double bx0 = g.x0 + tu_rng_unit(&rng) * 170, by0 = g.y0 + tu_rng_unit(&rng) * 100;
            double bx1 = bx0 + tu_rng_unit(&rng) * 60, by1 = by0 + tu_rng_unit(&rng) * 40;
            bx1 = fmin(bx1, g.x0 + 23 * g.w - 1e-9);
            by1 = fmin(by1, g.y0 + 17 * g.h - 1e-9);
            size_t found = 0, truth = 0;
            for (size_t r = cs_ugrid_row(&g, by0); r <= cs_ugrid_row(&g, by1); r++)
                for (size_t c = cs_ugrid_col(&g, bx0); c <= cs_ugrid_col(&g, bx1); c++)
                    for (size_t k = csr.start[r * g.nx + c]; k < csr.start[r * g.nx + c + 1];
                         k++) {
                        uint32_t i = csr.item[k];
                        found += x[i] >= bx0 && x[i] <= bx1 && y[i] >= by0 && y[i] <= by1;
                    }
            for (size_t i = 0; i < N; i++)
                truth += keep[i] && x[i] >= bx0 && x[i] <= bx1 && y[i] >= by0 && y[i] <= by1;
            assert_int_equal(found, truth);
        }
        cs_ugrid_csr_free(&csr);
        assert_null(csr.start);
        assert_null(csr.item);
    }
    free(x);
    free(y);
    free(cell);
    free(keep);
}

static void empty_and_one_cell(void **state)
{
    (void)state;
    cs_ugrid g = {0, 0, 10, 10, 4, 3};
    cs_ugrid_csr csr = {0};
    /* no points: every cell empty */
    assert_int_equal(cs_ugrid_csr_points(&csr, &g, NULL, NULL, NULL, 0, true, 1), CS_OK);
    for (size_t c = 0; c <= 12; c++)
        assert_int_equal(csr.start[c], 0);
    /* all points in one cell (5, 15 is column 0, row 1): one run, input order */
    double x[6] = {5, 1, 9.5, 5, 0, 9.999}, y[6] = {15, 10, 19, 15, 10.5, 19.999};
    size_t cell[6];
    assert_int_equal(cs_ugrid_csr_points(&csr, &g, x, y, NULL, 6, false, 1), CS_OK);
    assert_int_equal(check_csr(&csr, 6, cell), 6);
    assert_int_equal(csr.start[4], 0);
    assert_int_equal(csr.start[5], 6);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(csr.item[i], i);
    /* a 1 x 1 grid holds everything when clamped */
    cs_ugrid one = {0, 0, 1, 1, 1, 1};
    double fx[3] = {-5, 0.5, 7}, fy[3] = {3, 0.5, -9};
    assert_int_equal(cs_ugrid_csr_points(&csr, &one, fx, fy, NULL, 3, true, 1), CS_OK);
    assert_int_equal(csr.start[1], 3);
    assert_int_equal(cs_ugrid_csr_points(&csr, &one, fx, fy, NULL, 3, false, 1), CS_OK);
    assert_int_equal(csr.start[1], 1);
    assert_int_equal(csr.item[0], 1);
    cs_ugrid_csr_free(&csr);
    cs_ugrid_csr_free(NULL);
}

static void borders_and_huge_coordinates(void **state)
{
    (void)state;
    /* a cell size and origin exact in binary: borders fall exactly on k * 0.25 */
    cs_ugrid g = {-1, 2, 0.25, 0.5, 8, 4};
    size_t c = 99;
    assert_int_equal(cs_ugrid_col(&g, -1), 0);      /* left border: the cell to its right */
    assert_int_equal(cs_ugrid_col(&g, -0.75), 1);   /* inner border: half-open */
    assert_int_equal(cs_ugrid_col(&g, -0.75 - 1e-12), 0);
    assert_int_equal(cs_ugrid_row(&g, 3), 2);
    assert_int_equal(cs_ugrid_col(&g, 1), 7);       /* far border: clamped back in */
    assert_false(cs_ugrid_find(&g, 1, 2.5, &c));    /* ... but outside for find */
    assert_false(cs_ugrid_find(&g, 0, 4, &c));
    assert_int_equal(c, 99);
    assert_true(cs_ugrid_find(&g, -1, 2, &c));
    assert_int_equal(c, 0);
    assert_true(cs_ugrid_find(&g, 0.75, 3.999, &c));
    assert_int_equal(c, 3 * 8 + 7);
    assert_true(cs_ugrid_col_x(&g, 8) == 1 && cs_ugrid_row_y(&g, 4) == 4);
    /* infinities and NaN clamp to an end, and are never found */
    assert_int_equal(cs_ugrid_col(&g, INFINITY), 7);
    assert_int_equal(cs_ugrid_col(&g, -INFINITY), 0);
    assert_int_equal(cs_ugrid_col(&g, NAN), 0);
    assert_int_equal(cs_ugrid_cell(&g, 1e308, -1e308), 7);
    assert_false(cs_ugrid_find(&g, NAN, 3, &c));
    assert_false(cs_ugrid_find(&g, 0, INFINITY, &c));
    assert_false(cs_ugrid_find(&g, 1e300, 3, &c));
    /* a grid far from the origin (metres near 1e15: 0.125 m is still exact) */
    cs_ugrid far = {1e15, -1e15, 0.125, 0.125, 16, 16};
    assert_int_equal(cs_ugrid_col(&far, 1e15 + 0.125), 1);
    assert_int_equal(cs_ugrid_row(&far, -1e15 + 1.875), 15);
    assert_true(cs_ugrid_find(&far, 1e15 + 1.0, -1e15 + 1.0, &c));
    assert_int_equal(c, 8 * 16 + 8);
    /* huge cells: one cell covers every double */
    cs_ugrid big;
    cs_ugrid_fit(&big, -1e300, -1e300, 1e300, 1e300, 1e300, 2, 16);
    assert_int_equal(big.nx, 2);
    assert_int_equal(cs_ugrid_cell(&big, 0, 0), 3);
}

static void fit_grows_cells_to_the_limit(void **state)
{
    (void)state;
    cs_ugrid g;
    /* 100 x 40 with cells of 1: 101 * 41 cells; at most 200 grows the cell by 2 past
     * 4 (26 * 11 = 286) to 8: (100 / 8 + 1) * (40 / 8 + 1) = 81 */
    cs_ugrid_fit(&g, 5, 6, 100, 40, 1, 2, 200);
    assert_true(g.w == 8 && g.h == 8 && g.x0 == 5 && g.y0 == 6);
    assert_int_equal(g.nx, 13);
    assert_int_equal(g.ny, 6);
    /* a zero extent: one cell */
    cs_ugrid_fit(&g, 0, 0, 0, 0, 3, 1.5, 16);
    assert_true(g.nx == 1 && g.ny == 1 && g.w == 3);
}

/* Whether segment (a, b) meets the closed box [x0, x1] x [y0, y1] (Liang-Barsky). */
static bool seg_meets_box(double ax, double ay, double bx, double by, double x0, double y0,
                          double x1, double y1)
{
    double dx = bx - ax, dy = by - ay, t0 = 0, t1 = 1;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0) {
            if (q[k] < 0)
                return false;
            continue;
        }
        double r = q[k] / p[k];
        if (p[k] < 0)
            t0 = fmax(t0, r);
        else
            t1 = fmin(t1, r);
        if (t0 > t1)
            return false;
    }
    return true;
}

static void segments_fill_the_cells_they_cross(void **state)
{
    (void)state;
    uint64_t rng = 7;
    cs_ugrid g = {0, 0, 10, 10, 12, 9};
    enum { S = 120 };
    double s[S][4];
    for (size_t i = 0; i < S; i++) {
        /* inside the grid, as the callers' grids hold all their segments */
        for (int k = 0; k < 4; k++)
            s[i][k] = tu_rng_unit(&rng) * (k % 2 ? 90 : 120);
        if (i % 10 == 0)
            s[i][3] = s[i][1]; /* horizontal */
        if (i % 10 == 1)
            s[i][2] = s[i][0]; /* vertical */
        if (i % 10 == 2)
            s[i][0] = s[i][2] = 40, s[i][1] = s[i][3] = 30; /* a point, on a corner */
    }
    double pad = 0.5;
    cs_ugrid_csr csr;
    assert_int_equal(cs_ugrid_csr_init(&csr, cs_ugrid_cells(&g)), CS_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < S; i++) {
            cs_ugrid_seg sg;
            cs_ugrid_seg_begin(&g, s[i][0], s[i][1], s[i][2], s[i][3], pad, &sg);
            for (size_t r = sg.r0; r <= sg.r1; r++) {
                size_t c0, c1;
                cs_ugrid_seg_cols(&g, &sg, r, &c0, &c1);
                for (size_t c = c0; c <= c1; c++)
                    cs_ugrid_csr_add(&csr, r * g.nx + c, (uint32_t)i);
            }
        }
        if (pass == 0)
            assert_int_equal(cs_ugrid_csr_place(&csr), CS_OK);
    }
    /* brute force: a segment is listed in a cell exactly when it meets the cell's box
     * widened by pad on every side (the clamped border cells stand for everything
     * beyond them), give or take 1e-6 of rounding margin */
    for (size_t r = 0; r < g.ny; r++)
        for (size_t c = 0; c < g.nx; c++) {
            double x0 = c == 0 ? -1e9 : cs_ugrid_col_x(&g, c);
            double x1 = c + 1 == g.nx ? 1e9 : cs_ugrid_col_x(&g, c + 1);
            double y0 = r == 0 ? -1e9 : cs_ugrid_row_y(&g, r);
            double y1 = r + 1 == g.ny ? 1e9 : cs_ugrid_row_y(&g, r + 1);
            size_t cell = r * g.nx + c, in = 0;
            for (size_t i = 0; i < S; i++) {
                bool listed = false;
                for (size_t k = csr.start[cell]; k < csr.start[cell + 1]; k++)
                    listed |= csr.item[k] == i;
                const double *v = s[i];
                double m = pad - 1e-6, M = pad + 2e-6;
                if (seg_meets_box(v[0], v[1], v[2], v[3], x0 - m, y0 - m, x1 + m, y1 + m))
                    assert_true(listed);
                if (!seg_meets_box(v[0], v[1], v[2], v[3], x0 - M, y0 - M, x1 + M, y1 + M))
                    assert_false(listed);
                in += listed;
            }
            assert_int_equal(csr.start[cell + 1] - csr.start[cell], in); /* no repeats */
        }
    cs_ugrid_csr_free(&csr);
}

static void rings_are_the_cells_at_that_distance(void **state)
{
    (void)state;
    cs_ugrid g = {0, 0, 1, 1, 7, 5};
    const long centres[][2] = {{0, 0}, {3, 2}, {6, 4}, {-3, 2}, {10, -4}, {3, 9}};
    for (size_t k = 0; k < sizeof centres / sizeof *centres; k++) {
        long cx = centres[k][0], cy = centres[k][1];
        for (long r = 0; r < 16; r++) {
            int seen[35] = {0};
            cs_ugrid_strip st[4];
            size_t n = cs_ugrid_ring(&g, cx, cy, r, st);
            assert_true(n <= 4);
            for (size_t s = 0; s < n; s++) {
                assert_true(st[s].count > 0);
                for (size_t i = 0; i < st[s].count; i++) {
                    size_t c = st[s].first + i * st[s].stride;
                    assert_true(c < 35);
                    seen[c]++;
                }
            }
            for (long y = 0; y < 5; y++)
                for (long x = 0; x < 7; x++) {
                    long d = labs(x - cx) > labs(y - cy) ? labs(x - cx) : labs(y - cy);
                    assert_int_equal(seen[y * 7 + x], d == r);
                }
        }
    }
}

static void limits_and_allocation_failures(void **state)
{
    (void)state;
    cs_ugrid_csr csr = {0};
    uint32_t dummy = 0;
    /* counts over 32 bits are refused before anything is read */
    assert_int_equal(cs_ugrid_csr_sort(&csr, &dummy, UINT32_MAX, 4), CS_ERR_NOMEM);
    assert_int_equal(cs_ugrid_csr_sort(&csr, &dummy, 1, UINT32_MAX), CS_ERR_NOMEM);
    assert_null(csr.start);
    cs_ugrid huge = {0, 0, 1, 1, 1u << 16, 1u << 16};
    double x = 0, y = 0;
    assert_int_equal(cs_ugrid_csr_points(&csr, &huge, &x, &y, NULL, 1, true, 1), CS_ERR_NOMEM);
    assert_null(csr.start);
    /* skipped items */
    uint32_t cells[4] = {2, CS_UGRID_NONE, 0, 2};
    assert_int_equal(cs_ugrid_csr_sort(&csr, cells, 4, 3), CS_OK);
    assert_int_equal(csr.start[3], 3);
    assert_int_equal(csr.item[0], 2);
    assert_int_equal(csr.item[1], 0);
    assert_int_equal(csr.item[2], 3);
    /* every allocation failed in turn: a clean error, an empty csr, no leak */
    cs_ugrid g = {0, 0, 1, 1, 5, 5};
    double px[3] = {0.5, 4.5, 2.5}, py[3] = {0.5, 4.5, 2.5};
    cs_status st = CS_ERR_NOMEM;
    long n = 0;
    for (; st != CS_OK && n < 20; n++) {
        tu_alloc_fail_after(n);
        st = cs_ugrid_csr_points(&csr, &g, px, py, NULL, 3, true, 1);
        if (st != CS_OK) {
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_null(csr.start);
            assert_null(csr.item);
        }
    }
    tu_alloc_restore();
    assert_int_equal(st, CS_OK);
    assert_true(n > 2);
    assert_int_equal(csr.item[2], 1);
    cs_ugrid_csr_free(&csr);
    tu_alloc_fail_after(0);
    assert_int_equal(cs_ugrid_csr_init(&csr, 4), CS_ERR_NOMEM);
    tu_alloc_restore();
    assert_null(csr.start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_points_and_boxes),
        cmocka_unit_test(empty_and_one_cell),
        cmocka_unit_test(borders_and_huge_coordinates),
        cmocka_unit_test(fit_grows_cells_to_the_limit),
        cmocka_unit_test(segments_fill_the_cells_they_cross),
        cmocka_unit_test(rings_are_the_cells_at_that_distance),
        cmocka_unit_test(limits_and_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
