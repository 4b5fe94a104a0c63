/*
 * test_areaindex.c — the point-in-area index: hand-drawn areas (holes, a hole filled
 * by another area, exclaves, overlaps, points outside), nearest-boundary distances
 * worked by hand, points on a shared edge, rays meeting many areas, argument and
 * allocation errors, and a brute-force comparison with GEOS on random star-shaped
 * polygons with holes and exclaves.
 */
#include "testutil.h"

#include "core/core.h"
#include "geom/rings.h"

#include <geos_c.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ ring builder */

static void rings_init(cs_rings *r)
{
    memset(r, 0, sizeof *r);
    r->ring_start = cs_calloc(1, sizeof *r->ring_start);
    r->area_ring_start = cs_calloc(1, sizeof *r->area_ring_start);
    assert_non_null(r->ring_start);
    assert_non_null(r->area_ring_start);
}

/* Append a ring of n points (x0, y0, x1, y1, ...) to the current area; closed unless
 * `open` is set. */
static void add_ring_open(cs_rings *r, const double *xy, size_t n, bool open)
{
    size_t m = n + (open ? 0 : 1);
    r->x = cs_reallocarray(r->x, r->vertex_count + m, sizeof *r->x);
    r->y = cs_reallocarray(r->y, r->vertex_count + m, sizeof *r->y);
    r->ring_start = cs_reallocarray(r->ring_start, r->ring_count + 2, sizeof *r->ring_start);
    assert_true(r->x && r->y && r->ring_start);
    for (size_t i = 0; i < m; i++) {
        r->x[r->vertex_count + i] = xy[2 * (i % n)];
        r->y[r->vertex_count + i] = xy[2 * (i % n) + 1];
    }
    r->vertex_count += m;
    r->ring_count++;
    r->ring_start[r->ring_count] = r->vertex_count;
}

static void add_ring(cs_rings *r, const double *xy, size_t n)
{
    add_ring_open(r, xy, n, false);
}

static void add_rect(cs_rings *r, double x0, double y0, double x1, double y1)
{
    double xy[] = {x0, y0, x1, y0, x1, y1, x0, y1};
    add_ring(r, xy, 4);
}

/* Close the current area: the rings added since the last call belong to it. */
static void end_area(cs_rings *r)
{
    r->area_ring_start =
        cs_reallocarray(r->area_ring_start, r->area_count + 2, sizeof *r->area_ring_start);
    assert_non_null(r->area_ring_start);
    r->area_count++;
    r->area_ring_start[r->area_count] = r->ring_count;
}

/* |got - want| <= tol, saying both values when not */
#define assert_near(got, want, tol) check_near((got), (want), (tol), __FILE__, __LINE__)
static void check_near(double got, double want, double tol, const char *file, int line)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s:%d: got %.17g, want %.17g (tolerance %g)", file, line, got, want, tol);
}

static cs_area_index *make_index(const cs_rings *r)
{
    cs_area_index *ix = NULL;
    assert_int_equal(cs_area_index_create(r, &ix), CS_OK);
    assert_non_null(ix);
    return ix;
}

/* ------------------------------------------------------------------ hand-drawn */

static void square_with_hole(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 2, 2), 0);
    assert_int_equal(cs_area_index_locate(ix, 9.9, 5), 0);
    assert_int_equal(cs_area_index_locate(ix, 5, 5), -1);   /* in the hole */
    assert_int_equal(cs_area_index_locate(ix, 4.01, 5.99), -1);
    assert_int_equal(cs_area_index_locate(ix, 3.99, 5), 0);
    assert_int_equal(cs_area_index_locate(ix, 12, 5), -1);
    assert_int_equal(cs_area_index_locate(ix, -1, -1), -1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
    assert_null(r.x);
    assert_int_equal(r.area_count, 0);
}

static void second_area_fills_the_hole(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 5, 5), 1);
    assert_int_equal(cs_area_index_locate(ix, 5.9, 4.1), 1);
    assert_int_equal(cs_area_index_locate(ix, 2, 8), 0);
    assert_int_equal(cs_area_index_locate(ix, 6.1, 5), 0);
    assert_int_equal(cs_area_index_locate(ix, 10.5, 5), -1);
    double d = -1;
    assert_int_equal(cs_area_index_nearest(ix, 5, 5, 1, &d), 1);
    assert_true(d == 0);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void exclave(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 2, 2);
    add_rect(&r, 5, 0, 7, 2); /* second part of area 0 */
    end_area(&r);
    add_rect(&r, 2.5, 0, 4.5, 2);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 1, 1), 0);
    assert_int_equal(cs_area_index_locate(ix, 6, 1), 0);
    assert_int_equal(cs_area_index_locate(ix, 3.5, 1), 1);
    assert_int_equal(cs_area_index_locate(ix, 2.25, 1), -1);
    assert_int_equal(cs_area_index_locate(ix, 4.75, 1), -1);
    assert_int_equal(cs_area_index_locate(ix, 8, 1), -1);
    assert_int_equal(cs_area_index_locate(ix, 6, 3), -1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void overlapping_areas_lowest_wins(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    end_area(&r);
    add_rect(&r, 8, 0, 20, 10);
    end_area(&r);
    /* a large overlap, so that whole cells lie inside two areas */
    add_rect(&r, 30, 0, 130, 100);
    end_area(&r);
    add_rect(&r, 20, -10, 140, 110);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 9, 5), 0);
    assert_int_equal(cs_area_index_locate(ix, 15, 5), 1);
    assert_int_equal(cs_area_index_locate(ix, 80, 50), 2);
    assert_int_equal(cs_area_index_locate(ix, 35, 5), 2);
    assert_int_equal(cs_area_index_locate(ix, 25, 50), 3);
    assert_int_equal(cs_area_index_locate(ix, 135, 105), 3);
    assert_int_equal(cs_area_index_locate(ix, 145, 50), -1);
    for (int i = 0; i <= 100; i++) /* a walk through the doubly covered cells */
        assert_int_equal(cs_area_index_locate(ix, 30.5 + i * 0.99, 0.5 + i * 0.99), 2);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void outside_everything(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, -5, 5), -1);
    assert_int_equal(cs_area_index_locate(ix, 5, 1e9), -1);
    assert_int_equal(cs_area_index_locate(ix, NAN, 5), -1);
    assert_int_equal(cs_area_index_locate(ix, 5, INFINITY), -1);
    assert_int_equal(cs_area_index_locate(NULL, 5, 5), -1);
    double d = 0;
    assert_int_equal(cs_area_index_nearest(ix, NAN, 5, 1e7, &d), -1);
    assert_true(isinf(d));
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void nearest_by_hand(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    add_rect(&r, 20, 0, 30, 10);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    double d = -1;
    assert_int_equal(cs_area_index_nearest(ix, 2, 2, 5, &d), 0);
    assert_true(d == 0);
    /* 3 m right of area 0's edge */
    assert_int_equal(cs_area_index_nearest(ix, 13, 4, 5, &d), 0);
    assert_near(d, 3.0, 1e-12);
    assert_int_equal(cs_area_index_nearest(ix, 13, 4, 2.9, &d), -1);
    assert_true(isinf(d));
    /* 3-4-5 from the corner (10, 10) */
    assert_int_equal(cs_area_index_nearest(ix, 13, 14, 5, &d), 0);
    assert_near(d, 5.0, 1e-12);
    assert_int_equal(cs_area_index_nearest(ix, 13, 14, 4.99, &d), -1);
    /* halfway between the two areas: a tie, the lower number wins */
    assert_int_equal(cs_area_index_nearest(ix, 15, 5, 5, &d), 0);
    assert_near(d, 5.0, 1e-12);
    assert_int_equal(cs_area_index_nearest(ix, 16, 5, 5, &d), 1);
    assert_near(d, 4.0, 1e-12);
    /* in the hole of area 0 (no one fills it): its own hole ring is 0.5 away */
    assert_int_equal(cs_area_index_nearest(ix, 5, 5.5, 1, &d), 0);
    assert_near(d, 0.5, 1e-12);
    /* far away, with a large limit: distance to the corner (30, 10) */
    assert_int_equal(cs_area_index_nearest(ix, 30 + 30000, 10 + 40000, 1e7, &d), 1);
    assert_near(d, 50000.0, 1e-6);
    assert_int_equal(cs_area_index_nearest(ix, 30 + 30000, 10 + 40000, 49999, &d), -1);
    assert_int_equal(cs_area_index_nearest(ix, 30 + 30000, 10 + 40000, INFINITY, &d), 1);
    assert_near(d, 50000.0, 1e-6);
    /* a negative or NaN limit only accepts points inside */
    assert_int_equal(cs_area_index_nearest(ix, 13, 4, -1, &d), -1);
    assert_int_equal(cs_area_index_nearest(ix, 13, 4, NAN, &d), -1);
    assert_int_equal(cs_area_index_nearest(ix, 25, 5, -1, &d), 1);
    assert_int_equal(cs_area_index_nearest(ix, 13, 4, 5, NULL), 0);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);

    /* the same tie with the lower-numbered area on the right, met last in a scan */
    rings_init(&r);
    add_rect(&r, 20, 0, 30, 10);
    end_area(&r);
    add_rect(&r, 0, 0, 10, 10);
    end_area(&r);
    ix = make_index(&r);
    assert_int_equal(cs_area_index_nearest(ix, 15, 5, 5, &d), 0);
    assert_near(d, 5.0, 1e-12);
    assert_int_equal(cs_area_index_nearest(ix, 15, 5, 4.5, &d), -1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

/* Two triangles sharing a diagonal, drawn in opposite directions: each point on or
 * near the diagonal is in exactly one of them, as the documented edge rule promises. */
static void shared_edge_belongs_to_exactly_one(void **state)
{
    (void)state;
    double a[] = {0, 0, 3, 1, 0, 1};       /* counter-clockwise, above the diagonal */
    double b[] = {0, 0, 3, 0, 3, 1};       /* counter-clockwise, below it */
    double b_rev[] = {3, 1, 3, 0, 0, 0};   /* the same, clockwise */
    for (int variant = 0; variant < 2; variant++) {
        cs_rings ra, rb;
        rings_init(&ra);
        rings_init(&rb);
        add_ring(&ra, a, 3);
        end_area(&ra);
        add_ring(&rb, variant ? b_rev : b, 3);
        end_area(&rb);
        cs_area_index *ia = make_index(&ra), *ib = make_index(&rb);
        for (int k = 1; k < 997; k++) {
            double t = k / 997.0;
            double x = 3 * t, y = t;
            long in = (cs_area_index_locate(ia, x, y) == 0) + (cs_area_index_locate(ib, x, y) == 0);
            assert_int_equal(in, 1);
            x = nextafter(x, 0);
            in = (cs_area_index_locate(ia, x, y) == 0) + (cs_area_index_locate(ib, x, y) == 0);
            assert_int_equal(in, 1);
        }
        cs_area_index_destroy(ia);
        cs_area_index_destroy(ib);
        cs_rings_free(&ra);
        cs_rings_free(&rb);
    }
}

/* 40 overlapping rectangles whose right edges all lie in one cell: a ray meets more
 * areas than the query's small set holds, and the slow path must agree. */
static void ray_meeting_many_areas(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    for (int i = 0; i < 40; i++) {
        add_rect(&r, 0, 0, 10 + i * 1e-3, 10);
        end_area(&r);
    }
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 5, 5), 0);
    assert_int_equal(cs_area_index_locate(ix, 9.9999, 5), 0);
    /* 10 + i/1000 > 10.0205 for i >= 21 */
    assert_int_equal(cs_area_index_locate(ix, 10.0205, 5), 21);
    assert_int_equal(cs_area_index_locate(ix, 10.0385, 5), 39);
    assert_int_equal(cs_area_index_locate(ix, 10.0395, 5), -1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void unclosed_rings_are_closed(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    double outer[] = {0, 0, 10, 0, 10, 10, 0, 10};
    double hole[] = {4, 4, 6, 4, 6, 6, 4, 6};
    add_ring_open(&r, outer, 4, true);
    add_ring_open(&r, hole, 4, true);
    end_area(&r);
    cs_area_index *ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 2, 2), 0);
    assert_int_equal(cs_area_index_locate(ix, 5, 5), -1);
    assert_int_equal(cs_area_index_locate(ix, 11, 5), -1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

static void empty_and_degenerate_areas(void **state)
{
    (void)state;
    cs_rings r = {0};
    cs_area_index *ix = make_index(&r); /* no area at all */
    assert_int_equal(cs_area_index_locate(ix, 0, 0), -1);
    double d = 0;
    assert_int_equal(cs_area_index_nearest(ix, 0, 0, 1e7, &d), -1);
    long out[2] = {7, 7};
    double xs[2] = {0, 1}, ys[2] = {0, 1};
    cs_area_index_locate_all(ix, xs, ys, 2, 2, out);
    assert_int_equal(out[0], -1);
    assert_int_equal(out[1], -1);
    cs_area_index_destroy(ix);

    rings_init(&r);
    end_area(&r); /* area 0 without rings */
    double dot[] = {1, 1, 1, 1};
    add_ring(&r, dot, 2); /* area 1: a ring collapsed to a point */
    end_area(&r);
    add_rect(&r, 0, 0, 2, 2);
    end_area(&r);
    ix = make_index(&r);
    assert_int_equal(cs_area_index_locate(ix, 1, 1), 2);
    assert_int_equal(cs_area_index_nearest(ix, 3, 1, 2, &d), 2);
    assert_near(d, 1.0, 1e-12);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
    cs_rings_free(NULL);
}

static void bad_arguments(void **state)
{
    (void)state;
    cs_area_index *ix = (cs_area_index *)&ix;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 1, 1);
    end_area(&r);
    assert_int_equal(cs_area_index_create(NULL, &ix), CS_ERR_ARGUMENT);
    assert_null(ix);
    assert_int_equal(cs_area_index_create(&r, NULL), CS_ERR_ARGUMENT);

    r.x[2] = NAN;
    ix = (cs_area_index *)&ix;
    assert_int_equal(cs_area_index_create(&r, &ix), CS_ERR_ARGUMENT);
    assert_null(ix);
    r.x[2] = 1;

    r.ring_start[1] = r.vertex_count + 1; /* past the vertices */
    assert_int_equal(cs_area_index_create(&r, &ix), CS_ERR_ARGUMENT);
    r.ring_start[1] = r.vertex_count;

    r.area_ring_start[1] = 2; /* more rings than there are */
    assert_int_equal(cs_area_index_create(&r, &ix), CS_ERR_ARGUMENT);
    r.area_ring_start[1] = 1;

    size_t *keep = r.ring_start;
    r.ring_start = NULL;
    assert_int_equal(cs_area_index_create(&r, &ix), CS_ERR_ARGUMENT);
    r.ring_start = keep;

    assert_int_equal(cs_area_index_create(&r, &ix), CS_OK);
    cs_area_index_locate_all(ix, NULL, NULL, 3, 1, NULL); /* ignored, no crash */
    cs_area_index_destroy(ix);
    cs_area_index_destroy(NULL);
    cs_rings_free(&r);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    cs_rings r;
    rings_init(&r);
    add_rect(&r, 0, 0, 10, 10);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    add_rect(&r, 4, 4, 6, 6);
    end_area(&r);
    cs_area_index *ix = NULL;
    cs_status st = CS_ERR_NOMEM;
    long n = 0;
    for (; st != CS_OK && n < 100; n++) {
        tu_alloc_fail_after(n);
        ix = (cs_area_index *)&ix;
        st = cs_area_index_create(&r, &ix);
        if (st != CS_OK) {
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_null(ix);
        }
    }
    tu_alloc_restore();
    assert_int_equal(st, CS_OK);
    assert_true(n > 3); /* several allocations were made to fail */
    assert_int_equal(cs_area_index_locate(ix, 5, 5), 1);
    cs_area_index_destroy(ix);
    cs_rings_free(&r);
}

/* ------------------------------------------------------------- random vs GEOS */

static uint64_t rng_state;
static double uniform(double lo, double hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A star-shaped ring around (cx, cy): m vertices at jittered even angles (every gap
 * under 2*pi*1.8/m), radii in [rmin, rmax]. With m >= 8 the ring contains the disc
 * of radius rmin*cos(81°/2) > 0.76*rmin, which keeps holes of radius < 0.7*rmin inside. */
static void add_star(cs_rings *r, double cx, double cy, double rmin, double rmax, size_t m,
                     bool clockwise)
{
    double *xy = malloc(2 * m * sizeof *xy);
    assert_non_null(xy);
    for (size_t i = 0; i < m; i++) {
        double t = 2 * M_PI * ((double)i + uniform(0, 0.8)) / (double)m;
        if (clockwise)
            t = -t;
        double rad = uniform(rmin, rmax);
        xy[2 * i] = cx + rad * cos(t);
        xy[2 * i + 1] = cy + rad * sin(t);
    }
    add_ring(r, xy, m);
    free(xy);
}

static GEOSGeometry *geos_ring(GEOSContextHandle_t h, const cs_rings *r, size_t k)
{
    size_t s = r->ring_start[k], n = r->ring_start[k + 1] - s;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    for (size_t i = 0; i < n; i++)
        GEOSCoordSeq_setXY_r(h, seq, (unsigned)i, r->x[s + i], r->y[s + i]);
    return GEOSGeom_createLinearRing_r(h, seq);
}

/* One area as GEOS sees it: parts are (shell, optional hole) pairs as drawn below. */
static GEOSGeometry *geos_area(GEOSContextHandle_t h, const cs_rings *r, size_t a,
                               const int *part_rings, int parts)
{
    GEOSGeometry *polys[2];
    size_t k = r->area_ring_start[a];
    for (int p = 0; p < parts; p++) {
        GEOSGeometry *shell = geos_ring(h, r, k++);
        GEOSGeometry *hole = part_rings[p] == 2 ? geos_ring(h, r, k++) : NULL;
        polys[p] = GEOSGeom_createPolygon_r(h, shell, hole ? &hole : NULL, hole ? 1 : 0);
    }
    return GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)parts);
}

#define RANDOM_AREAS 7

static void compare_with_geos(GEOSContextHandle_t h, int round)
{
    cs_rings r;
    rings_init(&r);
    int part_rings[RANDOM_AREAS][2], parts[RANDOM_AREAS];
    for (int a = 0; a < RANDOM_AREAS; a++) {
        double cx = uniform(0, 100), cy = uniform(0, 100);
        parts[a] = uniform(0, 1) < 0.5 ? 2 : 1;
        for (int p = 0; p < parts[a]; p++) {
            /* the exclave sits 45 to the right: radii 20 + 15 < 45 keep parts apart */
            double px = cx + 45.0 * p, rmin = p ? 5 : 10, rmax = p ? 15 : 20;
            size_t m = 8 + (size_t)uniform(0, round == 0 ? 40 : 400);
            add_star(&r, px, cy, rmin, rmax, m, uniform(0, 1) < 0.5);
            part_rings[a][p] = 1;
            if (uniform(0, 1) < 0.6) {
                add_star(&r, px, cy, 0.3 * rmin, 0.69 * rmin, 8 + (size_t)uniform(0, 30),
                         uniform(0, 1) < 0.5);
                part_rings[a][p] = 2;
            }
        }
        end_area(&r);
    }
    GEOSGeometry *geom[RANDOM_AREAS], *boundary[RANDOM_AREAS];
    const GEOSPreparedGeometry *prep[RANDOM_AREAS];
    for (int a = 0; a < RANDOM_AREAS; a++) {
        geom[a] = geos_area(h, &r, (size_t)a, part_rings[a], parts[a]);
        assert_non_null(geom[a]);
        assert_int_equal(GEOSisValid_r(h, geom[a]), 1);
        prep[a] = GEOSPrepare_r(h, geom[a]);
        boundary[a] = GEOSBoundary_r(h, geom[a]);
        assert_true(prep[a] && boundary[a]);
    }
    cs_area_index *ix = make_index(&r);

    enum { N = 3000 };
    double *xs = malloc(N * sizeof *xs), *ys = malloc(N * sizeof *ys);
    long *got1 = malloc(N * sizeof *got1), *got2 = malloc(N * sizeof *got2);
    assert_true(xs && ys && got1 && got2);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) { /* near a random vertex, to stress the boundary cells */
            size_t v = (size_t)uniform(0, (double)r.vertex_count);
            xs[i] = r.x[v] + uniform(-0.5, 0.5);
            ys[i] = r.y[v] + uniform(-0.5, 0.5);
        } else {
            xs[i] = uniform(-30, 175);
            ys[i] = uniform(-30, 130);
        }
    }
    cs_area_index_locate_all(ix, xs, ys, N, 1, got1);
    cs_area_index_locate_all(ix, xs, ys, N, 2, got2);
    assert_memory_equal(got1, got2, N * sizeof *got1);

    int checked = 0, outside = 0;
    for (int i = 0; i < N; i++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, xs[i], ys[i]);
        double dist[RANDOM_AREAS], dmin = INFINITY;
        long want = -1;
        for (int a = 0; a < RANDOM_AREAS; a++) {
            assert_int_equal(GEOSDistance_r(h, boundary[a], pt, &dist[a]), 1);
            dmin = fmin(dmin, dist[a]);
            char in = GEOSPreparedContains_r(h, prep[a], pt);
            assert_true(in == 0 || in == 1);
            if (in && want < 0)
                want = a;
        }
        GEOSGeom_destroy_r(h, pt);
        assert_int_equal(got1[i], cs_area_index_locate(ix, xs[i], ys[i]));
        if (dmin < 1e-9)
            continue; /* on a boundary: any consistent answer */
        checked++;
        if (got1[i] != want)
            fail_msg("round %d point (%.17g, %.17g): index %ld, GEOS %ld", round, xs[i], ys[i],
                     got1[i], want);
        if (want >= 0)
            continue;
        /* outside: the nearest boundary, unless two areas are nearly tied */
        outside++;
        long near = -1;
        bool tie = false;
        for (int a = 0; a < RANDOM_AREAS; a++) {
            if (near < 0 || dist[a] < dist[near])
                near = a;
        }
        for (int a = 0; a < RANDOM_AREAS; a++)
            tie |= a != near && fabs(dist[a] - dist[near]) < 1e-9;
        if (tie)
            continue;
        double d = -1;
        assert_int_equal(cs_area_index_nearest(ix, xs[i], ys[i], 1e7, &d), near);
        assert_near(d, dist[near], 1e-9 * (1 + dist[near]));
        long limited = cs_area_index_nearest(ix, xs[i], ys[i], 3.0, &d);
        if (dist[near] < 3.0 - 1e-9)
            assert_int_equal(limited, near);
        else if (dist[near] > 3.0 + 1e-9)
            assert_int_equal(limited, -1);
    }
    assert_true(checked > N * 9 / 10);
    assert_true(outside > N / 10);

    /* boxes: an area the index names holds the box wholly (GEOS), and a box that no
     * boundary comes near is named, however close to a boundary it lies (the fast
     * path of spreading grid cells; boxes within a cell of another area, or of the
     * outside, used to be sent the slow way) */
    int named_near = 0;
    for (int i = 0; i < N; i++) {
        double w = uniform(0.01, 1.0), x, y;
        if (i % 2 == 0) {
            size_t v = (size_t)uniform(0, (double)r.vertex_count);
            x = r.x[v] + uniform(-3, 3);
            y = r.y[v] + uniform(-3, 3);
        } else {
            x = uniform(-30, 175);
            y = uniform(-30, 130);
        }
        GEOSGeometry *box = GEOSGeom_createRectangle_r(h, x - w, y - w, x + w, y + w);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x, y);
        assert_true(box && pt);
        double gap = INFINITY;
        long want = -1;
        for (int a = 0; a < RANDOM_AREAS; a++) {
            double d;
            assert_int_equal(GEOSDistance_r(h, boundary[a], box, &d), 1);
            gap = fmin(gap, d);
            if (want < 0 && GEOSPreparedContains_r(h, prep[a], pt) == 1)
                want = a;
        }
        long got = cs_area_index_box(ix, x - w, y - w, x + w, y + w);
        if (got >= 0) {
            assert_int_equal(GEOSPreparedCovers_r(h, prep[got], box), 1);
            assert_int_equal(got, want);
        }
        if (gap > 1e-9 && got != want)
            fail_msg("round %d box (%.17g, %.17g) +- %.17g, %.3g from every boundary: "
                     "index %ld, GEOS %ld", round, x, y, w, gap, got, want);
        named_near += got >= 0 && gap < 1.0;
        GEOSGeom_destroy_r(h, box);
        GEOSGeom_destroy_r(h, pt);
    }
    assert_true(named_near > N / 20);

    free(xs);
    free(ys);
    free(got1);
    free(got2);
    cs_area_index_destroy(ix);
    for (int a = 0; a < RANDOM_AREAS; a++) {
        GEOSPreparedGeom_destroy_r(h, prep[a]);
        GEOSGeom_destroy_r(h, geom[a]);
        GEOSGeom_destroy_r(h, boundary[a]);
    }
    cs_rings_free(&r);
}

static void random_stars_agree_with_geos(void **state)
{
    (void)state;
    GEOSContextHandle_t h = GEOS_init_r();
    assert_non_null(h);
    rng_state = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 6; round++)
        compare_with_geos(h, round);
    GEOS_finish_r(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(square_with_hole),
        cmocka_unit_test(second_area_fills_the_hole),
        cmocka_unit_test(exclave),
        cmocka_unit_test(overlapping_areas_lowest_wins),
        cmocka_unit_test(outside_everything),
        cmocka_unit_test(nearest_by_hand),
        cmocka_unit_test(shared_edge_belongs_to_exactly_one),
        cmocka_unit_test(ray_meeting_many_areas),
        cmocka_unit_test(unclosed_rings_are_closed),
        cmocka_unit_test(empty_and_degenerate_areas),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(random_stars_agree_with_geos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
