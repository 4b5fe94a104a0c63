/*
 * test_geom.c — the GEOS door: polygons from plain rings and back, repair of invalid
 * polygons, discs and their union, clipping, and buffers drawn on cells. Expected
 * areas are worked by hand; cell outlines are checked against flood fills of their
 * masks and against GEOS's exact buffers.
 */
#include "testutil.h"

#include "geom/geom.h"

#include <geos_c.h>

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

/* ------------------------------------------------------------------ cells */

/* Mark in seen the cells joined through their sides to filled cell k. */
static void flood(const uint8_t *m, size_t w, size_t h, size_t k, bool *seen)
{
    size_t *stack = malloc(w * h * sizeof *stack), n = 0;
    stack[n++] = k;
    seen[k] = true;
    while (n) {
        size_t c = stack[--n], ci = c % w, cj = c / w;
        size_t nb[4] = {ci > 0 ? c - 1 : c, ci + 1 < w ? c + 1 : c, cj > 0 ? c - w : c,
                        cj + 1 < h ? c + w : c};
        for (int d = 0; d < 4; d++)
            if (m[nb[d]] && !seen[nb[d]]) {
                seen[nb[d]] = true;
                stack[n++] = nb[d];
            }
    }
    free(stack);
}

/* Brute force: groups of filled cells joined through their sides. */
static size_t count_groups(const uint8_t *m, size_t w, size_t h)
{
    bool *seen = calloc(w * h, 1);
    size_t groups = 0;
    for (size_t k = 0; k < w * h; k++)
        if (m[k] && !seen[k]) {
            flood(m, w, h, k, seen);
            groups++;
        }
    free(seen);
    return groups;
}

/* The outline of a mask: valid without repair, one polygon per group of cells joined
 * through their sides, holding exactly the filled cells' centres, of their area. */
static void check_outline(cs_geos h, const uint8_t *m, size_t w, size_t hh, double cell)
{
    cs_rings out;
    double x0 = 100, y0 = 200;
    assert_int_equal(cs_cells_outline(m, w, hh, x0, y0, cell, &out), CS_OK);
    size_t filled = 0;
    for (size_t k = 0; k < w * hh; k++)
        filled += m[k] != 0;
    assert_int_equal(out.area_count, count_groups(m, w, hh));
    cs_geom *g = cs_geom_from_polygons(h, &out);
    assert_non_null(g);
    char why[256] = "";
    if (!cs_geom_is_valid(h, g, why, sizeof why))
        fail_msg("the outline of a %zux%zu mask is not valid: %s", w, hh, why);
    assert_true(fabs(cs_geom_area_m2(h, g) - (double)filled * cell * cell) < 1e-6);
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    for (size_t k = 0; k < w * hh; k++) {
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(
            h, x0 + ((double)(k % w) + 0.5) * cell, y0 + ((double)(k / w) + 0.5) * cell);
        if (GEOSPreparedContains_r(h, pg, p) != (m[k] != 0))
            fail_msg("cell %zu of a %zux%zu mask is %s the outline", k, w, hh,
                     m[k] ? "outside" : "inside");
        GEOSGeom_destroy_r(h, p);
    }
    GEOSPreparedGeom_destroy_r(h, pg);
    cs_geom_destroy(h, g);
    cs_rings_free(&out);
}

static void cells_outline_follows_the_mask(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    /* by hand: one cell; a ring of 8 around a hole; two cells touching at a corner
     * (two polygons); a hole touching the shell at a corner */
    static const uint8_t one[1] = {1}, ring[9] = {1, 1, 1, 1, 0, 1, 1, 1, 1},
                         corner[4] = {1, 0, 0, 1},
                         notch[16] = {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
    cs_rings out;
    assert_int_equal(cs_cells_outline(one, 1, 1, 0, 0, 10, &out), CS_OK);
    assert_int_equal(out.vertex_count, 5); /* four corners, closed */
    cs_rings_free(&out);
    check_outline(h, ring, 3, 3, 10);
    check_outline(h, corner, 2, 2, 10);
    check_outline(h, notch, 4, 4, 2.5);
    /* random masks of every density */
    srand(11);
    for (int t = 0; t < 300; t++) {
        size_t w = 1 + (size_t)(rand() % 24), hh = 1 + (size_t)(rand() % 24);
        int density = rand() % 101;
        uint8_t *m = malloc(w * hh);
        for (size_t k = 0; k < w * hh; k++)
            m[k] = rand() % 100 < density;
        check_outline(h, m, w, hh, 7.5);
        free(m);
    }
    assert_int_equal(cs_cells_outline(one, 1, 1, 0, 0, 0, &out), CS_ERR_ARGUMENT);
    cs_geos_destroy(h);
}

static double to_segment(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* Whether a covers b, with GEOS. */
static bool covers(cs_geos h, const cs_geom *a, const cs_geom *b)
{
    return GEOSCovers_r(h, a, b) == 1;
}

/* Random lines in [1000, 1400] x [-500, -100]: 1 to 6 of 2 to 5 vertices each. */
static void random_lines(cs_lines *l)
{
    size_t lines = 1 + (size_t)(rand() % 6), nv = 0;
    memset(l, 0, sizeof *l);
    l->start = calloc(lines + 1, sizeof *l->start);
    l->x = calloc(lines * 5, sizeof *l->x);
    l->y = calloc(lines * 5, sizeof *l->y);
    for (size_t p = 0; p < lines; p++) {
        size_t n = 2 + (size_t)(rand() % 4);
        for (size_t v = 0; v < n; v++, nv++) {
            l->x[nv] = 1000 + rand() % 400 + (rand() % 1000) / 1000.0;
            l->y[nv] = -500 + rand() % 400 + (rand() % 1000) / 1000.0;
        }
        l->start[p + 1] = nv;
    }
    l->count = lines;
}

/* The distance from (px, py) to the nearest of the lines l[0 .. n). */
static double to_lines(double px, double py, const cs_lines *l, size_t n)
{
    double best = INFINITY;
    for (size_t k = 0; k < n; k++)
        for (size_t p = 0; p < l[k].count; p++) {
            size_t a = l[k].start[p], b = l[k].start[p + 1];
            for (size_t v = a; v < b; v++)
                best = fmin(best, to_segment(px, py, l[k].x[v], l[k].y[v],
                                             l[k].x[v + (v + 1 < b)], l[k].y[v + (v + 1 < b)]));
        }
    return best;
}

/* Rings as GEOS polygons (new), their area as cs_rings_area_m2 gives it checked against
 * GEOS's to the last bit; the rings are freed. */
static cs_geom *as_geos(cs_geos h, cs_rings *p)
{
    cs_geom *g = cs_geom_from_polygons(h, p);
    assert_non_null(g);
    double mine = cs_rings_area_m2(p), geos = cs_geom_area_m2(h, g);
    if (mine != geos)
        fail_msg("the rings' area %.17g m², GEOS's %.17g m²", mine, geos);
    cs_rings_free(p);
    return g;
}

/* Brute force: every cell of a grid aligned on multiples of the cell is drawn in g
 * exactly when its centre lies within r of the lines l[0 .. n) (so all of it within the
 * width), and g's area is those cells'. */
static void cells_are_brute_force(cs_geos h, const cs_geom *g, const cs_lines *l, size_t n,
                                  double width, double cell, int t)
{
    double r = width - cell * M_SQRT2 / 2;
    size_t count = 0;
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    for (double cy = floor((-500 - width) / cell) * cell; cy < 0 + width; cy += cell)
        for (double cx = floor((1000 - width) / cell) * cell; cx < 1500 + width; cx += cell) {
            double best = to_lines(cx + cell / 2, cy + cell / 2, l, n);
            count += best <= r;
            GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, cx + cell / 2, cy + cell / 2);
            if (GEOSPreparedContains_r(h, pg, pt) != (best <= r))
                fail_msg("case %d: the cell at (%g, %g), %g m from the lines, is %s", t, cx,
                         cy, best, best <= r ? "left out" : "drawn");
            GEOSGeom_destroy_r(h, pt);
        }
    GEOSPreparedGeom_destroy_r(h, pg);
    double area = cs_geom_area_m2(h, g);
    if (fabs(area - (double)count * cell * cell) > 1e-6 * area + 1e-9)
        fail_msg("case %d: %g m² drawn, %zu cells of %g m within %g m", t, area, count, cell,
                 r);
}

/* Random streets drawn on cells: the cells drawn are exactly those wholly within the
 * width (found by brute force over the cell centres), and they cover GEOS's exact
 * buffer of the width less cell·√2. */
static void cells_buffer_keeps_its_bound(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    srand(5);
    for (int t = 0; t < 12; t++) {
        double width = 20 + rand() % 40, cell = 1 + rand() % 9;
        cs_lines l;
        random_lines(&l);
        cs_rings drawn;
        assert_int_equal(cs_cells_buffer(&l, width, cell, &drawn), CS_OK);
        cs_geom *g = as_geos(h, &drawn);
        assert_true(cs_geom_is_valid(h, g, NULL, 0));
        cells_are_brute_force(h, g, &l, 1, width, cell, t);
        cs_geom *inner = cs_geom_buffer_lines(h, &l, width - cell * M_SQRT2 - 1e-6);
        if (!covers(h, g, inner))
            fail_msg("case %d: the cells miss part of the %g m buffer", t,
                     width - cell * M_SQRT2);
        cs_geom_destroy(h, inner);
        cs_geom_destroy(h, g);
        cs_lines_free(&l);
    }
    /* sizes not positive, a box over 10^12 cells (1e7 x 1e7 of them), and a box over
     * 2^26 cells across (1e8 x 12), are refused */
    double x[2] = {0, 1e8}, y[2] = {0, 1e8}, flat[2] = {0, 0}, across[2] = {0, 1e9};
    size_t start[2] = {0, 2};
    cs_lines far = {1, start, x, y, NULL, NULL}, wide = {1, start, across, flat, NULL, NULL};
    cs_rings none;
    assert_int_equal(cs_cells_buffer(&far, 50, 10, &none), CS_ERR_ARGUMENT);
    assert_int_equal(cs_cells_buffer(&wide, 50, 10, &none), CS_ERR_ARGUMENT);
    assert_int_equal(cs_cells_buffer(&far, 0, 10, &none), CS_ERR_ARGUMENT);
    assert_int_equal(none.vertex_count + none.ring_count + none.area_count, 0);
    cs_geos_destroy(h);
}

/* The cells of a grid aligned on multiples of cell whose centre lies within r of the
 * point (px, py), by brute force. */
static size_t cells_near_point(double px, double py, double r, double cell)
{
    size_t n = 0;
    for (double i = floor((px - r) / cell) - 1; i <= ceil((px + r) / cell) + 1; i++)
        for (double j = floor((py - r) / cell) - 1; j <= ceil((py + r) / cell) + 1; j++)
            n += hypot((i + 0.5) * cell - px, (j + 0.5) * cell - py) <= r;
    return n;
}

/* The area where a and b differ, with GEOS. */
static double area_apart(cs_geos h, const cs_geom *a, const cs_geom *b)
{
    GEOSGeometry *d = GEOSSymDifference_r(h, a, b);
    assert_non_null(d);
    double area = cs_geom_area_m2(h, d);
    GEOSGeom_destroy_r(h, d);
    return area;
}

/* Random streets, and a point some 2,000 to 19,000 km east and 3 km south of them, drawn
 * as two levels: the grid's box spans up to 8 billion cells, far more than could be held,
 * and its rows are drawn 1 to 5 at a time (a band of 2 MB, as the box's width gives).
 * Level 0 is exactly the streets drawn alone (checked by brute force over their cells);
 * level 1 is those and the point's cells (counted by brute force) side by side. */
static void cells_far_apart_are_drawn_band_by_band(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    srand(17);
    for (int t = 0; t < 10; t++) {
        double width = 20 + rand() % 40, cell = 1 + rand() % 9, rows = 1 + t % 5;
        double px = 1000 + cell * ((double)(1 << 21) / rows - 100), py = -3500;
        size_t start[2] = {0, 1};
        cs_lines two[2], *point = &two[1];
        random_lines(&two[0]);
        *point = (cs_lines){1, start, &px, &py, NULL, NULL};
        cs_rings near, out[2];
        const bool want[2] = {true, true};
        assert_int_equal(cs_cells_buffer(&two[0], width, cell, &near), CS_OK);
        assert_int_equal(cs_cells_buffer_levels(two, 2, width, cell, want, out), CS_OK);
        cs_geom *g_near = cs_geom_from_polygons(h, &near);
        cs_geom *g0 = cs_geom_from_polygons(h, &out[0]), *g1 = cs_geom_from_polygons(h, &out[1]);
        cells_are_brute_force(h, g_near, &two[0], 1, width, cell, t);
        assert_true(area_apart(h, g0, g_near) < 1e-6);
        assert_int_equal(out[0].ring_count, near.ring_count);
        /* level 1: the streets' polygons and one more, the point's disc of cells */
        assert_int_equal(out[1].area_count, near.area_count + 1);
        double disc = (double)cells_near_point(px, py, width - cell * M_SQRT2 / 2, cell);
        double area = cs_geom_area_m2(h, g_near) + disc * cell * cell;
        assert_true(fabs(cs_geom_area_m2(h, g1) - area) < 1e-6 * area);
        GEOSGeometry *both = GEOSUnion_r(h, g_near, g1);
        assert_true(area_apart(h, both, g1) < 1e-6);
        assert_true(cs_geom_is_valid(h, g1, NULL, 0));
        GEOSGeom_destroy_r(h, both);
        cs_geom_destroy(h, g_near);
        cs_geom_destroy(h, g0);
        cs_geom_destroy(h, g1);
        cs_rings_free(&near);
        cs_rings_free(&out[0]);
        cs_rings_free(&out[1]);
        cs_lines_free(&two[0]);
    }
    cs_geos_destroy(h);
}

/* Four levels of random streets drawn at once: each level wanted is exactly the cells
 * within the width of its lines and all the levels' before it (brute force), a level
 * not wanted is not drawn, and a level with no lines of its own repeats the one before. */
static void cells_levels_each_hold_the_levels_before(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    srand(11);
    for (int t = 0; t < 6; t++) {
        double width = 20 + rand() % 40, cell = 1 + rand() % 9;
        cs_lines l[4];
        for (size_t k = 0; k < 4; k++)
            random_lines(&l[k]);
        cs_lines_free(&l[2]); /* nothing first reached at level 2 */
        const bool want[4] = {true, t % 2 == 0, true, t % 3 != 0};
        cs_rings drawn[4];
        cs_geom *g[4] = {NULL};
        assert_int_equal(cs_cells_buffer_levels(l, 4, width, cell, want, drawn), CS_OK);
        for (size_t k = 0; k < 4; k++) {
            if (!want[k]) {
                assert_int_equal(drawn[k].vertex_count + drawn[k].area_count, 0);
                continue;
            }
            g[k] = as_geos(h, &drawn[k]);
            assert_true(cs_geom_is_valid(h, g[k], NULL, 0));
            cells_are_brute_force(h, g[k], l, k + 1, width, cell, t);
        }
        assert_true(cs_geom_area_m2(h, g[2]) == cs_geom_area_m2(h, want[1] ? g[1] : g[2]));
        for (size_t k = 0; k < 4; k++) {
            cs_geom_destroy(h, g[k]);
            cs_lines_free(&l[k]);
        }
    }
    cs_geos_destroy(h);
}

/* The area of rings, as the service areas held as rings give it: a rectangle of 3 x 2 m
 * with a hole of 1 m² and a triangle apart make 5 + 0.5 m² (by hand), and GEOS's own
 * area of random buffers (several parts, holes, vertices off any grid, 500 km east of
 * the origin as in a UTM zone) is matched to the last bit. */
static void rings_area_is_geos_area(void **state)
{
    (void)state;
    double x[] = {10, 13, 13, 10, 10, 11, 11, 12, 12, 11, 20, 21, 20, 20};
    double y[] = {0, 0, 2, 2, 0, 0.5, 1.5, 1.5, 0.5, 0.5, 0, 0, 1, 0};
    size_t ring_start[] = {0, 5, 10, 14}, area_ring_start[] = {0, 2, 3};
    cs_rings hand = {x, y, 14, ring_start, 3, area_ring_start, 2, 0, 0, 0};
    assert_true(cs_rings_area_m2(&hand) == 5.5);
    cs_geos h = cs_geos_create();
    srand(23);
    size_t with_holes = 0, in_parts = 0;
    for (int t = 0; t < 40; t++) {
        cs_lines l;
        random_lines(&l);
        for (size_t v = 0; v < l.start[l.count]; v++) {
            l.x[v] += 500000;
            l.y[v] += 3400000;
        }
        cs_geom *g = cs_geom_buffer_lines(h, &l, 5 + rand() % 60);
        cs_rings p = {0};
        assert_int_equal(cs_geom_append_polygons(h, g, &p), CS_OK);
        double mine = cs_rings_area_m2(&p), geos = cs_geom_area_m2(h, g);
        if (mine != geos)
            fail_msg("case %d: the rings' area %.17g m², GEOS's %.17g m²", t, mine, geos);
        with_holes += p.ring_count > p.area_count;
        in_parts += p.area_count > 1;
        cs_rings_free(&p);
        cs_geom_destroy(h, g);
        cs_lines_free(&l);
    }
    assert_true(with_holes > 0 && in_parts > 0);
    cs_geos_destroy(h);
}

/* Memory refused at every allocation in turn: CS_ERR_NOMEM, nothing left behind (the
 * sanitizer's leak check), and the full outline once nothing is refused. */
static void cells_out_of_memory(void **state)
{
    (void)state;
    /* two streets crossing, and a loop round a block: shells, a hole, several runs */
    double x[] = {0, 300, 150, 150, 400, 600, 600, 400, 400};
    double y[] = {0, 0, -150, 150, 0, 0, 200, 200, 0};
    size_t start[] = {0, 2, 4, 9};
    cs_lines l = {3, start, x, y, NULL, NULL};
    bool done = false;
    for (long n = 0; !done; n++) {
        cs_rings out;
        tu_alloc_fail_after(n);
        cs_status st = cs_cells_buffer(&l, 30, 5, &out);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused > 0) {
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_null(out.x);
            assert_int_equal(out.area_count, 0);
        } else {
            assert_int_equal(st, CS_OK);
            assert_int_equal(out.area_count, 2);
            assert_int_equal(out.ring_count, 3);
            done = true;
        }
        cs_rings_free(&out);
    }
    /* two levels at once: the same, level 0 the first street, level 1 all three */
    cs_lines two[2] = {{1, start, x, y, NULL, NULL}, l};
    const bool want[2] = {true, true};
    done = false;
    for (long n = 0; !done; n++) {
        cs_rings out[2];
        tu_alloc_fail_after(n);
        cs_status st = cs_cells_buffer_levels(two, 2, 30, 5, want, out);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused > 0) {
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_null(out[0].x);
            assert_null(out[1].x);
        } else {
            assert_int_equal(st, CS_OK);
            assert_int_equal(out[0].area_count, 1);
            assert_int_equal(out[1].area_count, 2);
            assert_int_equal(out[1].ring_count, 3);
            done = true;
        }
        cs_rings_free(&out[0]);
        cs_rings_free(&out[1]);
    }
}

/* Polygons appended into the same rings after one allocation was refused, as the areas
 * are (each area is built even when one before failed, the load then failing): the
 * next call adds its polygons and nothing is lost (LeakSanitizer), for each allocation
 * refused in turn. */
static void polygons_appended_after_a_refusal(void **state)
{
    (void)state;
    cs_geos h = cs_geos_create();
    cs_rings in = {0};
    add_square(&in, 0, 0, 10, 4);
    cs_geom *g = cs_geom_from_polygons(h, &in);
    assert_non_null(g);
    bool refused = true;
    for (long n = 0; refused; n++) {
        cs_rings out = {0};
        tu_alloc_refuse_one(n);
        cs_status first = cs_geom_append_polygons(h, g, &out);
        tu_alloc_restore();
        refused = tu_alloc_refused() > 0;
        assert_int_equal(first, refused ? CS_ERR_NOMEM : CS_OK);
        assert_int_equal(cs_geom_append_polygons(h, g, &out), CS_OK); /* the next area */
        if (!refused)
            assert_int_equal(out.area_count, 2);
        cs_rings_free(&out);
    }
    cs_rings_free(&in);
    cs_geom_destroy(h, g);
    cs_geos_destroy(h);
}

/* Squares added one at a time, by both adders in turn, onto rings whose arrays were made
 * to their size elsewhere (no capacity known): every vertex and offset where it belongs,
 * and the arrays grown geometrically, not once per square (patches add them by the
 * hundred thousand; exact growth made that quadratic). */
static void polygons_added_one_by_one_grow_geometrically(void **state)
{
    (void)state;
    enum { N = 3000 };
    cs_geos h = cs_geos_create();
    cs_rings r = {0}; /* one square [0, 5]², arrays of exactly its size */
    r.x = calloc(5, sizeof *r.x);
    r.y = calloc(5, sizeof *r.y);
    r.ring_start = calloc(2, sizeof *r.ring_start);
    r.area_ring_start = calloc(2, sizeof *r.area_ring_start);
    assert_true(r.x && r.y && r.ring_start && r.area_ring_start);
    const double sx[5] = {0, 5, 5, 0, 0}, sy[5] = {0, 0, 5, 5, 0};
    memcpy(r.x, sx, sizeof sx);
    memcpy(r.y, sy, sizeof sy);
    r.vertex_count = 5;
    r.ring_count = r.area_count = 1;
    r.ring_start[1] = 5;
    r.area_ring_start[1] = 1;
    cs_geom **g = calloc(N, sizeof *g); /* made beforehand: only the adders are counted */
    for (size_t k = 1; k < N; k += 2) {
        cs_rings one = {0};
        add_square(&one, 10.0 * (double)k, 0, 5, 0);
        g[k] = cs_geom_from_polygons(h, &one);
        assert_non_null(g[k]);
        cs_rings_free(&one);
    }
    tu_alloc_refuse_one(-1); /* counts, refuses none */
    for (size_t k = 1; k < N; k++) {
        if (k % 2) {
            assert_int_equal(cs_geom_append_polygons(h, g[k], &r), CS_OK);
        } else {
            double x0 = 10.0 * (double)k, xs[4] = {x0, x0 + 5, x0 + 5, x0}, ys[4] = {0, 0, 5, 5};
            const double *px[1] = {xs}, *py[1] = {ys};
            size_t n = 4; /* left open: closed by the adder */
            assert_int_equal(cs_rings_add_polygon(&r, 1, px, py, &n), CS_OK);
        }
    }
    long made = tu_alloc_made();
    tu_alloc_restore();
    assert_true(made < 200); /* 4 arrays doubling to 15,000 vertices: about 50 */
    assert_int_equal(r.area_count, N);
    assert_int_equal(r.ring_count, N);
    assert_int_equal(r.vertex_count, 5 * N);
    for (size_t k = 0; k < N; k++) {
        assert_int_equal(r.area_ring_start[k], k);
        assert_int_equal(r.ring_start[k], 5 * k);
        for (size_t v = 0; v < 5; v++) {
            assert_true(r.x[5 * k + v] == 10.0 * (double)k + sx[v]);
            assert_true(r.y[5 * k + v] == sy[v]);
        }
    }
    assert_int_equal(r.area_ring_start[N], N);
    assert_int_equal(r.ring_start[N], 5 * N);
    for (size_t k = 1; k < N; k += 2)
        cs_geom_destroy(h, g[k]);
    free(g);
    cs_rings_free(&r);
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
        cmocka_unit_test(cells_outline_follows_the_mask),
        cmocka_unit_test(cells_buffer_keeps_its_bound),
        cmocka_unit_test(cells_levels_each_hold_the_levels_before),
        cmocka_unit_test(cells_far_apart_are_drawn_band_by_band),
        cmocka_unit_test(cells_out_of_memory),
        cmocka_unit_test(rings_area_is_geos_area),
        cmocka_unit_test(polygons_appended_after_a_refusal),
        cmocka_unit_test(polygons_added_one_by_one_grow_geometrically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
