/*
 * test_patches.c — under-served patches on hand-drawn cases (cells touching only at a
 * corner, a patch across a street border, clipping at the district's edge and at a
 * border no resident crosses, ranking) and against a brute-force labelling on random
 * points, square and hexagonal, which finds each point's cell by the nearest cell centre
 * and joins cells whose centres are one cell apart. Two areas: A0 = [0, 1000] x
 * [0, 1000], A1 = [1000, 2000] x [0, 1000].
 */
#include "testutil.h"

#include "cover/patch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct env {
    cs_geos h;
    cs_rings rings;
    cs_geom *area[2];
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    e->h = cs_geos_create();
    for (int a = 0; a < 2; a++) {
        double x0 = 1000.0 * a;
        double xs[5] = {x0, x0 + 1000, x0 + 1000, x0, x0}, ys[5] = {0, 0, 1000, 1000, 0};
        const double *px = xs, *py = ys;
        size_t n = 5;
        cs_rings r = {0};
        assert_int_equal(cs_rings_add_polygon(&r, 1, &px, &py, &n), CS_OK);
        e->area[a] = cs_geom_from_polygons(e->h, &r);
        cs_rings_free(&r);
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    for (int a = 0; a < 2; a++)
        cs_geom_destroy(e->h, e->area[a]);
    cs_geos_destroy(e->h);
    free(e);
    return 0;
}

static void build(env *e, const cs_grid *g, const double *x, const double *y, const double *w,
                  const long *area, size_t n, cs_patch_set *out)
{
    double near[64];
    for (size_t i = 0; i < n; i++)
        near[i] = 100.0 + (double)i;
    assert_int_equal(cs_patches_build(e->h, g, x, y, w, area, near, n, e->area, out), CS_OK);
}

static void corner_touching_cells_stay_apart(void **state)
{
    env *e = *state;
    cs_grid g = {CS_GRID_SQUARE, 100, 0, 0};
    double x[2] = {150, 250}, y[2] = {150, 250}, w[2] = {10, 5};
    long area[2] = {0, 0};
    cs_patch_set s;
    build(e, &g, x, y, w, area, 2, &s);
    assert_int_equal(s.count, 2);
    assert_true(s.patches[0].uncovered == 10 && s.patches[1].uncovered == 5);
    assert_true(s.patches[0].cells == 1 && s.patches[1].cells == 1);
    assert_true(fabs(s.patches[0].area_m2 - 10000) < 1e-6);
    cs_patch_set_free(e->h, &s);
}

/* Hexagons of the area of a 100 m square: circumradius R = 100 sqrt(2 / (3 sqrt 3)). The
 * centres of (q, r) are at (x0 + 1.5 R q, y0 + sqrt3 R (r + q / 2)). */
static void hexagons_share_edges(void **state)
{
    env *e = *state;
    double R = 100 * sqrt(2 / (3 * sqrt(3)));
    cs_grid g = {CS_GRID_HEX, 100, 500, 500};
    /* (0, 0) and (1, 0) share an edge; (3, 0) touches neither */
    double x[3] = {500, 500 + 1.5 * R, 500 + 4.5 * R};
    double y[3] = {500, 500 + sqrt(3) * R / 2, 500 + 1.5 * sqrt(3) * R};
    double w[3] = {4, 5, 1};
    long area[3] = {0, 0, 0};
    cs_patch_set s;
    build(e, &g, x, y, w, area, 3, &s);
    assert_int_equal(s.count, 2);
    assert_true(s.patches[0].uncovered == 9 && s.patches[0].cells == 2);
    /* each hexagon has the area of the square: 2 x 10,000 m² */
    assert_true(fabs(s.patches[0].area_m2 - 20000) < 1e-6);
    assert_true(fabs(s.patches[1].area_m2 - 10000) < 1e-6);
    cs_patch_set_free(e->h, &s);
}

static void patch_across_a_street_border(void **state)
{
    env *e = *state;
    cs_grid g = {CS_GRID_SQUARE, 100, 0, 0};
    double x[2] = {950, 1050}, y[2] = {550, 550}, w[2] = {7, 3};
    long area[2] = {0, 1};
    cs_patch_set s;
    build(e, &g, x, y, w, area, 2, &s);
    assert_int_equal(s.count, 1);
    const cs_patch *p = &s.patches[0];
    assert_true(p->uncovered == 10 && p->cells == 2 && p->points == 2);
    assert_int_equal(p->area_count, 2);
    assert_true(p->areas[0] == 0 && p->areas[1] == 1);
    assert_true(fabs(p->area_m2 - 20000) < 1e-6);
    assert_true(p->nearest_m == 100);
    cs_patch_set_free(e->h, &s);
}

static void clipped_to_its_areas(void **state)
{
    env *e = *state;
    cs_grid g = {CS_GRID_SQUARE, 300, 0, 0};
    /* cell x 1800..2100, y 900..1200: inside the district only 200 x 100;
     * cell x 900..1200, y 300..600 with its one resident in A1: 200 x 300 */
    double x[2] = {1950, 1010}, y[2] = {950, 500}, w[2] = {1, 2};
    long area[2] = {1, 1};
    cs_patch_set s;
    build(e, &g, x, y, w, area, 2, &s);
    assert_int_equal(s.count, 2);
    assert_true(s.patches[0].uncovered == 2 && fabs(s.patches[0].area_m2 - 60000) < 1e-6);
    assert_true(s.patches[1].uncovered == 1 && fabs(s.patches[1].area_m2 - 20000) < 1e-6);
    cs_patch_set_free(e->h, &s);
}

static void ranked_with_ties_by_position(void **state)
{
    env *e = *state;
    cs_grid g = {CS_GRID_SQUARE, 100, 0, 0};
    /* three patches: 6 at x 750 (two points), 6 at x 150, 2 at x 450; weights <= 0 and
     * points of no weight are ignored */
    double x[6] = {750, 760, 150, 450, 450, 850};
    double y[6] = {150, 160, 150, 150, 850, 850};
    double w[6] = {2, 4, 6, 2, 0, -1};
    long area[6] = {0, 0, 0, 0, 0, 0};
    cs_patch_set s;
    build(e, &g, x, y, w, area, 6, &s);
    assert_int_equal(s.count, 3);
    /* tie at 6: the patch whose cell comes first (column 1 before column 7) leads */
    assert_true(s.patches[0].uncovered == 6 && s.patches[0].points == 1);
    assert_true(s.patches[0].nearest_m == 102);
    assert_true(s.patches[1].uncovered == 6 && s.patches[1].points == 2);
    assert_true(s.patches[1].nearest_m == 100); /* the least of 100 and 101 */
    assert_true(s.patches[2].uncovered == 2);
    cs_patch_set_free(e->h, &s);
    build(e, &g, x, y, w, area, 0, &s);
    assert_int_equal(s.count, 0);
    cs_patch_set_free(e->h, &s);
}

/* --------------------------------------------------------------- brute force */

/* The centre of the cell holding (x, y), found as the nearest centre (independent of the
 * module's rounding). */
static void brute_centre(const cs_grid *g, double x, double y, double *cx, double *cy)
{
    double best = INFINITY;
    if (g->shape == CS_GRID_SQUARE) {
        *cx = g->x0 + (floor((x - g->x0) / g->cell_m) + 0.5) * g->cell_m;
        *cy = g->y0 + (floor((y - g->y0) / g->cell_m) + 0.5) * g->cell_m;
        return;
    }
    double R = g->cell_m * sqrt(2 / (3 * sqrt(3)));
    double q0 = round((x - g->x0) / (1.5 * R));
    for (double q = q0 - 2; q <= q0 + 2; q++) {
        double r0 = round((y - g->y0) / (sqrt(3) * R) - q / 2);
        for (double r = r0 - 2; r <= r0 + 2; r++) {
            double hx = g->x0 + 1.5 * R * q, hy = g->y0 + sqrt(3) * R * (r + q / 2);
            double d = hypot(x - hx, y - hy);
            if (d < best) {
                best = d;
                *cx = hx;
                *cy = hy;
            }
        }
    }
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check_random(env *e, cs_grid_shape shape, uint64_t seed)
{
    enum { N = 600 };
    cs_grid g = {shape, 100, 0, 0};
    double x[N], y[N], w[N], near[N];
    long area[N];
    uint64_t s = seed;
    for (size_t i = 0; i < N; i++) {
        /* blobs: points near a few centres, so patches have many cells */
        double bx = 200 + 400 * (double)(i % 4), by = 500;
        x[i] = bx + (tu_rng_unit(&s) - 0.5) * 600;
        y[i] = by + (tu_rng_unit(&s) - 0.5) * 600;
        w[i] = floor(tu_rng_unit(&s) * 10);
        area[i] = x[i] < 1000 ? 0 : 1;
        near[i] = tu_rng_unit(&s) * 1000;
    }
    /* brute force: cells by nearest centre, joined when their centres are one cell
     * apart (a square's edge neighbours at s, a hexagon's at sqrt3 R) */
    double cx[N], cy[N];
    size_t cell[N], C = 0, parent[N];
    double ux[N], uy[N];
    for (size_t i = 0; i < N; i++) {
        if (!(w[i] > 0))
            continue;
        brute_centre(&g, x[i], y[i], &cx[i], &cy[i]);
        size_t c = 0;
        while (c < C && !(fabs(ux[c] - cx[i]) < 1e-6 && fabs(uy[c] - cy[i]) < 1e-6))
            c++;
        if (c == C) {
            ux[C] = cx[i];
            uy[C] = cy[i];
            parent[C] = C;
            C++;
        }
        cell[i] = c;
    }
    double step = shape == CS_GRID_SQUARE ? 100 : sqrt(3) * 100 * sqrt(2 / (3 * sqrt(3)));
    for (size_t a = 0; a < C; a++)
        for (size_t b = a + 1; b < C; b++)
            if (fabs(hypot(ux[a] - ux[b], uy[a] - uy[b]) - step) < 1e-6) {
                size_t ra = a, rb = b;
                while (parent[ra] != ra)
                    ra = parent[ra];
                while (parent[rb] != rb)
                    rb = parent[rb];
                parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
            }
    double sums[N] = {0}, total = 0;
    size_t P = 0;
    for (size_t i = 0; i < N; i++) {
        if (!(w[i] > 0))
            continue;
        size_t r = cell[i];
        while (parent[r] != r)
            r = parent[r];
        sums[r] += w[i];
        total += w[i];
    }
    double want[N];
    for (size_t c = 0; c < C; c++)
        if (parent[c] == c)
            want[P++] = sums[c];
    qsort(want, P, sizeof *want, compare_double);

    cs_patch_set set;
    assert_int_equal(cs_patches_build(e->h, &g, x, y, w, area, near, N, e->area, &set), CS_OK);
    assert_int_equal(set.count, P);
    double got[N], got_total = 0;
    size_t cells = 0;
    for (size_t p = 0; p < P; p++) {
        got[p] = set.patches[p].uncovered;
        got_total += got[p];
        cells += set.patches[p].cells;
        if (p > 0)
            assert_true(set.patches[p - 1].uncovered >= set.patches[p].uncovered);
    }
    assert_int_equal(cells, C);
    assert_true(fabs(got_total - total) < 1e-9);
    qsort(got, P, sizeof *got, compare_double);
    for (size_t p = 0; p < P; p++)
        assert_true(fabs(got[p] - want[p]) < 1e-9);

    /* the same patches, in the same order, whatever the input order */
    double x2[N], y2[N], w2[N], near2[N];
    long area2[N];
    for (size_t i = 0; i < N; i++) {
        size_t j = (i * 7 + 3) % N; /* 7 is prime to N: a permutation */
        x2[i] = x[j];
        y2[i] = y[j];
        w2[i] = w[j];
        area2[i] = area[j];
        near2[i] = near[j];
    }
    cs_patch_set again;
    assert_int_equal(cs_patches_build(e->h, &g, x2, y2, w2, area2, near2, N, e->area, &again),
                     CS_OK);
    assert_int_equal(again.count, set.count);
    for (size_t p = 0; p < P; p++) {
        assert_true(again.patches[p].uncovered == set.patches[p].uncovered);
        assert_true(again.patches[p].first_cell == set.patches[p].first_cell);
        assert_true(again.patches[p].nearest_m == set.patches[p].nearest_m);
        assert_true(fabs(again.patches[p].area_m2 - set.patches[p].area_m2) < 1e-6);
    }
    cs_patch_set_free(e->h, &again);
    cs_patch_set_free(e->h, &set);
}

static void random_against_brute_force(void **state)
{
    env *e = *state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        check_random(e, CS_GRID_SQUARE, seed);
        check_random(e, CS_GRID_HEX, seed);
    }
}

static void allocation_failures(void **state)
{
    env *e = *state;
    cs_grid g = {CS_GRID_HEX, 100, 0, 0};
    double x[4] = {950, 1050, 150, 155}, y[4] = {550, 550, 150, 160}, w[4] = {1, 2, 3, 4};
    double near[4] = {1, 2, 3, 4};
    long area[4] = {0, 1, 0, 0};
    for (long n = 0;; n++) {
        cs_patch_set s;
        tu_alloc_fail_after(n);
        cs_status st = cs_patches_build(e->h, &g, x, y, w, area, near, 4, e->area, &s);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            assert_int_equal(s.count, 2);
            cs_patch_set_free(e->h, &s);
            break;
        }
        assert_int_equal(st, CS_ERR_NOMEM);
        assert_int_equal(s.count, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(corner_touching_cells_stay_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(hexagons_share_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(patch_across_a_street_border, setup, teardown),
        cmocka_unit_test_setup_teardown(clipped_to_its_areas, setup, teardown),
        cmocka_unit_test_setup_teardown(ranked_with_ties_by_position, setup, teardown),
        cmocka_unit_test_setup_teardown(random_against_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
