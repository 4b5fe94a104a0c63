/*
 * test_geom.c — the GEOS door: polygons from plain rings and back, repair of invalid
 * polygons, discs and their union, clipping. Expected areas are worked by hand.
 */
#include "testutil.h"

#include "geom/geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A square [x0, x0+s] x [y0, y0+s] as one polygon (optionally with a square hole). */
static void add_square(cs_rings *r, double x0, double y0, double s, double hole)
{
    double xs[5] = {x0, x0 + s, x0 + s, x0, x0}, ys[5] = {y0, y0, y0 + s, y0 + s, y0};
    double c = s / 2, h = hole / 2;
    double hx[5] = {x0 + c - h, x0 + c - h, x0 + c + h, x0 + c + h, x0 + c - h};
    double hy[5] = {y0 + c - h, y0 + c + h, y0 + c + h, y0 + c - h, y0 + c - h};
    const double *px[2] = {xs, hx}, *py[2] = {ys, hy};
    size_t counts[2] = {5, 5};
    assert_int_equal(cs_rings_add_polygon(r, hole > 0 ? 2 : 1, px, py, counts), CS_OK);
}

static void polygons_round_trip(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    cs_rings in = {0};
    add_square(&in, 0, 0, 10, 4);  /* 100 - 16 = 84 */
    add_square(&in, 20, 0, 5, 0);  /* 25 */
    cs_geom *g = cs_geom_from_polygons(h, &in);
    assert_non_null(g);
    assert_true(cs_geom_is_valid(h, g, NULL, 0));
    assert_true(fabs(cs_geom_area_m2(h, g) - 109) < 1e-9);
    cs_rings out = {0};
    assert_int_equal(cs_geom_append_polygons(h, g, &out), CS_OK);
    assert_int_equal(out.area_count, 2);
    assert_int_equal(out.ring_count, 3);
    assert_int_equal(out.area_ring_start[1] - out.area_ring_start[0], 2); /* shell + hole */
    cs_rings_free(&out);
    cs_rings_free(&in);
    cs_geom_destroy(h, g);
    cs_geos_destroy(h);
}

static void unclosed_ring_is_closed(void **state)
{
    (void)state;
    cs_rings r = {0};
    double xs[4] = {0, 1, 1, 0}, ys[4] = {0, 0, 1, 1};
    const double *px[1] = {xs}, *py[1] = {ys};
    size_t n = 4;
    assert_int_equal(cs_rings_add_polygon(&r, 1, px, py, &n), CS_OK);
    assert_int_equal(r.vertex_count, 5);
    assert_true(r.x[4] == 0 && r.y[4] == 0);
    cs_rings_free(&r);
}

static void bow_tie_is_repaired(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    cs_rings r = {0};
    /* a bow tie: two triangles of 2 x 2 / 4 = 1 each around the crossing at (1, 1) */
    double xs[5] = {0, 2, 2, 0, 0}, ys[5] = {0, 2, 0, 2, 0};
    const double *px[1] = {xs}, *py[1] = {ys};
    size_t n = 5;
    assert_int_equal(cs_rings_add_polygon(&r, 1, px, py, &n), CS_OK);
    cs_geom *g = cs_geom_from_polygons(h, &r);
    char reason[128] = "";
    assert_false(cs_geom_is_valid(h, g, reason, sizeof reason));
    assert_non_null(strstr(reason, "Self-intersection"));
    cs_geom *fixed = cs_geom_repair(h, g);
    assert_non_null(fixed);
    assert_true(cs_geom_is_valid(h, fixed, NULL, 0));
    assert_true(fabs(cs_geom_area_m2(h, fixed) - 2) < 1e-9);
    cs_geom_destroy(h, fixed);
    cs_geom_destroy(h, g);
    cs_rings_free(&r);
    cs_geos_destroy(h);
}

static void discs_union_and_clip(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    /* two discs of radius 100 whose centres are 100 apart: the union is
     * 2 pi r^2 - lens, lens = 2 r^2 acos(d / 2r) - (d / 2) sqrt(4 r^2 - d^2) */
    double x[2] = {0, 100}, y[2] = {0, 0}, r = 100, d = 100;
    cs_geom *u = cs_geom_discs(h, x, y, 2, r);
    double lens = 2 * r * r * acos(d / (2 * r)) - d / 2 * sqrt(4 * r * r - d * d);
    double want = 2 * M_PI * r * r - lens;
    /* discs are polygons of 64 sides: within 0.5% of the true area */
    assert_true(fabs(cs_geom_area_m2(h, u) - want) / want < 0.005);
    /* clipped to the half plane x >= 50 (a big square): exactly half of the union */
    cs_rings sq = {0};
    add_square(&sq, 50, -1000, 2000, 0);
    cs_geom *half = cs_geom_from_polygons(h, &sq);
    cs_geom *clip = cs_geom_intersection(h, u, half);
    assert_true(fabs(cs_geom_area_m2(h, clip) - cs_geom_area_m2(h, u) / 2) < 1e-6);
    /* no discs at all: an empty geometry */
    cs_geom *none = cs_geom_discs(h, NULL, NULL, 0, r);
    assert_true(cs_geom_is_empty(h, none));
    cs_geom_destroy(h, none);
    cs_geom_destroy(h, clip);
    cs_geom_destroy(h, half);
    cs_geom_destroy(h, u);
    cs_rings_free(&sq);
    cs_geos_destroy(h);
}

static void union_of_neighbours(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    cs_rings a = {0}, b = {0};
    add_square(&a, 0, 0, 10, 0);
    add_square(&b, 10, 0, 10, 0);
    cs_geom *ga = cs_geom_from_polygons(h, &a), *gb = cs_geom_from_polygons(h, &b);
    cs_geom *both[2] = {ga, gb};
    cs_geom *u = cs_geom_union(h, both, 2);
    assert_true(fabs(cs_geom_area_m2(h, u) - 200) < 1e-9);
    cs_rings out = {0};
    assert_int_equal(cs_geom_append_polygons(h, u, &out), CS_OK);
    assert_int_equal(out.area_count, 1); /* dissolved into one polygon */
    cs_rings_free(&out);
    cs_geom_destroy(h, u);
    cs_geom_destroy(h, ga);
    cs_geom_destroy(h, gb);
    cs_rings_free(&a);
    cs_rings_free(&b);
    cs_geos_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(polygons_round_trip),
        cmocka_unit_test(unclosed_ring_is_closed),
        cmocka_unit_test(bow_tie_is_repaired),
        cmocka_unit_test(discs_union_and_clip),
        cmocka_unit_test(union_of_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
