/*
 * test_discs.c — the traced outline of a union of equal discs (geom/discs.c) and the
 * union cs_geom_discs builds from it, against GEOS's own union of the same discs
 * drawn as 64-gons (GEOSBuffer of each point, GEOSUnaryUnion) and against distances
 * to the centres, on random, sparse and lattice layouts (where three or four circles
 * meet in one point), repeated centres, touching discs, nested shells, and every
 * allocation failing in turn.
 */
#include "testutil.h"

#include "geom/geom.h"

#include <geos_c.h>
#include <math.h>
#include <stdlib.h>

typedef struct layout {
    double *x, *y;
    size_t n;
    double r;
} layout;

static double unit(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (double)((*seed >> 8) & 0xffffff) / (double)0x1000000;
}

static layout random_layout(size_t n, double side, double r, unsigned seed)
{
    layout l = {malloc(n * sizeof *l.x), malloc(n * sizeof *l.y), n, r};
    for (size_t i = 0; i < n; i++) {
        l.x[i] = 500000 + side * unit(&seed);
        l.y[i] = 3400000 + side * unit(&seed);
    }
    return l;
}

/* Rows of centres `dx` apart, every other row shifted by `shift` and `dy` above. */
static layout lattice(size_t cols, size_t rows, double dx, double dy, double shift, double r)
{
    layout l = {malloc(cols * rows * sizeof *l.x), malloc(cols * rows * sizeof *l.y),
                cols * rows, r};
    for (size_t j = 0; j < rows; j++)
        for (size_t i = 0; i < cols; i++) {
            l.x[j * cols + i] = 1000 + (double)i * dx + (double)(j % 2) * shift;
            l.y[j * cols + i] = 2000 + (double)j * dy;
        }
    return l;
}

static void free_layout(layout *l)
{
    free(l->x);
    free(l->y);
}

/* GEOS's union of the discs drawn as 64-gons (16 segments a quarter). */
static GEOSGeometry *geos_union(GEOSContextHandle_t h, const layout *l)
{
    GEOSGeometry **discs = malloc(l->n * sizeof *discs);
    for (size_t i = 0; i < l->n; i++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, l->x[i], l->y[i]);
        discs[i] = GEOSBuffer_r(h, pt, l->r, 16);
        GEOSGeom_destroy_r(h, pt);
    }
    GEOSGeometry *c = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, discs,
                                                  (unsigned)l->n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, c);
    GEOSGeom_destroy_r(h, c);
    free(discs);
    return u;
}

static double area(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    double a = -1;
    assert_true(GEOSArea_r(h, g, &a));
    return a;
}

static double nearest_centre(const layout *l, double px, double py)
{
    double best = INFINITY;
    for (size_t i = 0; i < l->n; i++)
        best = fmin(best, hypot(px - l->x[i], py - l->y[i]));
    return best;
}

/* g against GEOS's union u of the same discs and against the distances to the
 * centres: valid; nothing of u missing; nothing beyond the true discs; no point
 * nearer a centre than the drawn discs reach left out. */
static void check_union(GEOSContextHandle_t h, const GEOSGeometry *g, const layout *l)
{
    assert_int_equal(GEOSisValid_r(h, g), 1);
    GEOSGeometry *u = geos_union(h, l);
    GEOSGeometry *missing = GEOSDifference_r(h, u, g), *extra = GEOSDifference_r(h, g, u);
    double total = area(h, u);
    assert_true(area(h, missing) <= 1e-9 * total);
    /* beyond GEOS's 64-gons only the slivers out to the exact circles, each within
     * the sagitta r (1 - cos(pi / 64)) of a chord */
    assert_true(area(h, extra) <= 0.0012 * total);
    double box[4];
    GEOSGeom_getXMin_r(h, u, &box[0]);
    GEOSGeom_getYMin_r(h, u, &box[1]);
    GEOSGeom_getXMax_r(h, u, &box[2]);
    GEOSGeom_getYMax_r(h, u, &box[3]);
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    unsigned seed = 7;
    size_t inside = 0, near = 0;
    for (int k = 0; k < 20000; k++) {
        double px = box[0] + (box[2] - box[0]) * unit(&seed);
        double py = box[1] + (box[3] - box[1]) * unit(&seed);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, px, py);
        bool in = GEOSPreparedIntersects_r(h, pg, pt) == 1;
        double d = nearest_centre(l, px, py);
        if (in)
            assert_true(d <= l->r * (1 + 1e-9));
        if (d <= l->r * cos(M_PI / 64) * (1 - 1e-9)) {
            assert_true(in);
            near++;
        }
        inside += in;
        GEOSGeom_destroy_r(h, pt);
    }
    assert_true(near > 100 && inside >= near); /* the samples did test something */
    GEOSPreparedGeom_destroy_r(h, pg);
    GEOSGeom_destroy_r(h, missing);
    GEOSGeom_destroy_r(h, extra);
    GEOSGeom_destroy_r(h, u);
}

/* The traced outline itself, when it closes, and the union the library builds. */
static void check_layout(layout *l, bool must_trace)
{
    cs_geos h = cs_geos_create();
    cs_rings out;
    cs_status st = cs_disc_outline(l->x, l->y, l->n, l->r, &out);
    assert_true(st == CS_OK || (!must_trace && st == CS_ERR_INTERNAL));
    if (st == CS_OK) {
        cs_geom *g = cs_geom_from_polygons(h, &out);
        check_union(h, g, l);
        cs_geom_destroy(h, g);
    } else {
        assert_int_equal(out.area_count, 0);
    }
    cs_rings_free(&out);
    cs_geom *g = cs_geom_discs(h, l->x, l->y, l->n, l->r);
    check_union(h, g, l);
    cs_geom_destroy(h, g);
    cs_geos_destroy(h);
    free_layout(l);
}

static void random_overlapping_discs(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 3; seed++) {
        layout l = random_layout(400, 10000, 600, seed);
        check_layout(&l, true);
    }
}

static void sparse_discs(void **state)
{
    (void)state;
    layout l = random_layout(300, 10000, 150, 11);
    check_layout(&l, true);
}

/* Centres r sqrt(3) apart on a triangular lattice: every three neighbouring circles
 * pass through one point. */
static void triple_points(void **state)
{
    (void)state;
    double r = 400, d = r * sqrt(3);
    layout l = lattice(12, 12, d, d * sqrt(3) / 2, d / 2, r);
    check_layout(&l, false);
}

/* Centres r sqrt(2) apart on a square lattice: four circles through one point, and
 * no hole. */
static void four_circles_through_a_point(void **state)
{
    (void)state;
    double r = 250;
    layout l = lattice(10, 10, r * sqrt(2), r * sqrt(2), 0, r);
    check_layout(&l, false);
}

static void repeated_centres(void **state)
{
    (void)state;
    layout l = random_layout(300, 8000, 500, 5);
    for (size_t i = 0; i + 5 < l.n; i += 5) {
        l.x[i + 1] = l.x[i];
        l.y[i + 1] = l.y[i];
    }
    check_layout(&l, true);
}

/* Two discs touching in one point, and one disc alone: whole circles. */
static void touching_and_single(void **state)
{
    (void)state;
    layout two = {malloc(2 * sizeof(double)), malloc(2 * sizeof(double)), 2, 100};
    two.x[0] = 0, two.y[0] = 0, two.x[1] = 200, two.y[1] = 0;
    cs_rings out;
    assert_int_equal(cs_disc_outline(two.x, two.y, 2, 100, &out), CS_OK);
    assert_int_equal(out.area_count, 2);
    assert_int_equal(out.ring_count, 2);
    assert_int_equal(out.vertex_count, 2 * (CS_DISC_VERTICES + 1));
    cs_rings_free(&out);
    check_layout(&two, true);
    layout one = {malloc(sizeof(double)), malloc(sizeof(double)), 1, 100};
    one.x[0] = 5, one.y[0] = 7;
    check_layout(&one, true);
}

/* A ring of discs around an empty middle with a cluster inside it: two polygons, the
 * annulus with one hole, the cluster inside the hole. */
static void shell_inside_a_hole(void **state)
{
    (void)state;
    size_t ring = 40;
    layout l = {malloc((ring + 3) * sizeof(double)), malloc((ring + 3) * sizeof(double)),
                ring + 3, 300};
    for (size_t i = 0; i < ring; i++) {
        l.x[i] = 3000 * cos(2 * M_PI * (double)i / (double)ring);
        l.y[i] = 3000 * sin(2 * M_PI * (double)i / (double)ring);
    }
    double cx[3] = {0, 200, -150}, cy[3] = {0, 100, 180};
    for (size_t i = 0; i < 3; i++) {
        l.x[ring + i] = cx[i];
        l.y[ring + i] = cy[i];
    }
    cs_rings out;
    assert_int_equal(cs_disc_outline(l.x, l.y, l.n, l.r, &out), CS_OK);
    assert_int_equal(out.area_count, 2);
    assert_int_equal(out.ring_count, 3); /* the annulus's two rings, the cluster's one */
    cs_rings_free(&out);
    check_layout(&l, true);
}

static void bad_arguments(void **state)
{
    (void)state;
    double x[1] = {0}, y[1] = {0};
    cs_rings out;
    assert_int_equal(cs_disc_outline(x, y, 0, 10, &out), CS_ERR_ARGUMENT);
    assert_int_equal(cs_disc_outline(x, y, 1, 0, &out), CS_ERR_ARGUMENT);
    assert_int_equal(cs_disc_outline(x, y, 1, NAN, &out), CS_ERR_ARGUMENT);
    assert_int_equal(cs_disc_outline(x, y, 1, INFINITY, &out), CS_ERR_ARGUMENT);
    assert_int_equal(out.area_count, 0);
}

/* Every allocation failing in turn: out of memory, nothing leaked (ASan), never a
 * partial outline. */
static void allocation_failures(void **state)
{
    (void)state;
    layout l = random_layout(60, 3000, 400, 3);
    for (long n = 0;; n++) {
        cs_rings out;
        tu_alloc_fail_after(n);
        cs_status st = cs_disc_outline(l.x, l.y, l.n, l.r, &out);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            cs_rings_free(&out);
            break;
        }
        assert_int_equal(st, CS_ERR_NOMEM);
        assert_int_equal(out.area_count, 0);
        assert_null(out.x);
    }
    free_layout(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_overlapping_discs),
        cmocka_unit_test(sparse_discs),
        cmocka_unit_test(triple_points),
        cmocka_unit_test(four_circles_through_a_point),
        cmocka_unit_test(repeated_centres),
        cmocka_unit_test(touching_and_single),
        cmocka_unit_test(shell_inside_a_hole),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
