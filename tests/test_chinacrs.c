/*
 * test_chinacrs.c — GCJ-02 and BD-09: forward formulas against values published by
 * other projects, round trips over all of China, the identity outside China, and
 * the Baidu-encoded facility points of the shared real data.
 */
#include "testutil.h"

#include "io/chinacrs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Great-circle distance in metres on a sphere of the mean Earth radius. */
static double haversine_m(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 6371008.8, k = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * k, dlon = (lon2 - lon1) * k;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * k) * cos(lat2 * k) * sin(dlon / 2) * sin(dlon / 2);
    return 2.0 * r * asin(sqrt(h));
}

typedef void (*convert_fn)(double, double, double *, double *);

static void check_pair(convert_fn f, double lon, double lat, double want_lon,
                       double want_lat, double tol_deg)
{
    double got_lon, got_lat;
    f(lon, lat, &got_lon, &got_lat);
    if (fabs(got_lon - want_lon) > tol_deg || fabs(got_lat - want_lat) > tol_deg)
        fail_msg("(%.8f, %.8f) -> (%.10f, %.10f), published (%.10f, %.10f)", lon, lat,
                 got_lon, got_lat, want_lon, want_lat);
}

/*
 * Published reference pairs:
 * - wandergis/coordtransform, test/app.js (its "//result" comments), input
 *   (116.404, 39.915), near Tiananmen, Beijing:
 *     wgs84togcj02 -> 116.41024449916938, 39.91640428150164
 *     gcj02tobd09  -> 116.41036949371029, 39.92133699351021
 *     bd09togcj02  -> 116.39762729119315, 39.90865673957631
 * - hujiulong/gcoord, test/unit/crs/WGS84.spec.ts, GCJ02.spec.js and BD09.spec.ts,
 *   input (123, 45):
 *     WGS84 -> GCJ02 123.00607541, 45.00197815
 *     WGS84 -> BD09  123.0124491,  45.0083293
 *     GCJ02 -> BD09  123.00636499, 45.00636899
 *     BD09  -> GCJ02 122.99363304, 44.99365430
 *     BD09  -> WGS84 122.98762210, 44.99171540
 * The forward values are checked to 1e-6 degree. Both projects invert BD-09 with the
 * closed-form approximation, which is up to ~1e-6 degree from the exact inverse we
 * compute, so the inverse values get 2e-6 degree (about 0.2 m).
 */
static void forward_matches_published_values(void **state)
{
    (void)state;
    check_pair(cs_gcj02_from_wgs84, 116.404, 39.915, 116.41024449916938, 39.91640428150164,
               1e-6);
    check_pair(cs_bd09_from_gcj02, 116.404, 39.915, 116.41036949371029, 39.92133699351021,
               1e-6);
    check_pair(cs_gcj02_from_wgs84, 123, 45, 123.00607541, 45.00197815, 1e-6);
    check_pair(cs_bd09_from_wgs84, 123, 45, 123.0124491, 45.0083293, 1e-6);
    check_pair(cs_bd09_from_gcj02, 123, 45, 123.00636499, 45.00636899, 1e-6);
}

static void inverse_close_to_published_approximations(void **state)
{
    (void)state;
    check_pair(cs_gcj02_from_bd09, 116.404, 39.915, 116.39762729119315, 39.90865673957631,
               2e-6);
    check_pair(cs_gcj02_from_bd09, 123, 45, 122.99363304, 44.99365430, 2e-6);
    check_pair(cs_wgs84_from_bd09, 123, 45, 122.98762210, 44.99171540, 2e-6);
}

/* The inverses must satisfy their definition: forward(inverse(p)) == p. */
static void inverses_solve_the_forward_formula(void **state)
{
    (void)state;
    double worst_gcj = 0, worst_bd = 0;
    for (double lon = 73.0; lon <= 137.0; lon += 0.37) {
        for (double lat = 1.5; lat <= 55.0; lat += 0.41) {
            double w_lon, w_lat, g_lon, g_lat, b_lon, b_lat;
            cs_wgs84_from_gcj02(lon, lat, &w_lon, &w_lat);
            cs_gcj02_from_wgs84(w_lon, w_lat, &g_lon, &g_lat);
            worst_gcj = fmax(worst_gcj, fmax(fabs(g_lon - lon), fabs(g_lat - lat)));
            cs_gcj02_from_bd09(lon, lat, &g_lon, &g_lat);
            cs_bd09_from_gcj02(g_lon, g_lat, &b_lon, &b_lat);
            worst_bd = fmax(worst_bd, fmax(fabs(b_lon - lon), fabs(b_lat - lat)));
        }
    }
    print_message("forward(inverse(p)) - p, worst: GCJ-02 %.3g deg, BD-09 %.3g deg\n",
                  worst_gcj, worst_bd);
    assert_true(worst_gcj < 1e-9);
    assert_true(worst_bd < 1e-9);
}

/* Every 0.5 degree inside the China rectangle, error in metres by haversine. */
static void round_trips_over_china_grid(void **state)
{
    (void)state;
    double worst_gcj_m = 0, worst_bd_m = 0, min_shift_m = 1e9;
    size_t points = 0;
    for (double lon = 72.5; lon <= 137.5; lon += 0.5) {
        for (double lat = 1.0; lat <= 55.5; lat += 0.5) {
            double g_lon, g_lat, b_lon, b_lat, w_lon, w_lat;
            cs_gcj02_from_wgs84(lon, lat, &g_lon, &g_lat);
            min_shift_m = fmin(min_shift_m, haversine_m(lon, lat, g_lon, g_lat));
            cs_wgs84_from_gcj02(g_lon, g_lat, &w_lon, &w_lat);
            worst_gcj_m = fmax(worst_gcj_m, haversine_m(lon, lat, w_lon, w_lat));
            cs_bd09_from_wgs84(lon, lat, &b_lon, &b_lat);
            cs_wgs84_from_bd09(b_lon, b_lat, &w_lon, &w_lat);
            worst_bd_m = fmax(worst_bd_m, haversine_m(lon, lat, w_lon, w_lat));
            points++;
        }
    }
    print_message("%zu grid points: worst round trip WGS84->GCJ-02->WGS84 %.3g m, "
                  "WGS84->BD-09->WGS84 %.3g m; smallest GCJ-02 shift %.1f m\n",
                  points, worst_gcj_m, worst_bd_m, min_shift_m);
    assert_int_equal(points, 131 * 110);
    /* The shift really applied everywhere (it is tens to hundreds of metres). */
    assert_true(min_shift_m > 10.0);
    assert_true(worst_gcj_m < 1e-3);
    assert_true(worst_bd_m < 1e-3);
}

static void identity_outside_china(void **state)
{
    (void)state;
    const double points[][2] = {
        {2.35, 48.85},     /* Paris */
        {-74.0, 40.7},     /* New York */
        {71.9, 40.0},      /* just west of the rectangle */
        {137.9, 35.0},     /* just east */
        {120.0, 55.9},     /* just north */
        {103.8, 0.8},      /* Singapore, just south */
        {151.2, -33.9},    /* Sydney */
    };
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        double lon = points[i][0], lat = points[i][1], x, y;
        assert_false(cs_china_in_bounds(lon, lat));
        cs_gcj02_from_wgs84(lon, lat, &x, &y);
        assert_true(x == lon && y == lat);
        cs_wgs84_from_gcj02(lon, lat, &x, &y);
        assert_true(x == lon && y == lat);
        /* BD-09 has no bounds: it still shifts, and still round-trips. */
        cs_bd09_from_wgs84(lon, lat, &x, &y);
        assert_true(fabs(x - lon) > 1e-3);
        cs_wgs84_from_bd09(x, y, &x, &y);
        assert_true(fabs(x - lon) < 1e-9 && fabs(y - lat) < 1e-9);
    }
    assert_true(cs_china_in_bounds(121.4, 31.2));
    assert_true(cs_china_in_bounds(72.004, 0.8293));
    assert_true(cs_china_in_bounds(137.8347, 55.8271));
    assert_false(cs_china_in_bounds(NAN, 31.2));
}

static void nan_passes_through_and_in_place_works(void **state)
{
    (void)state;
    double x = NAN, y = 31.2;
    cs_wgs84_from_bd09(x, y, &x, &y);
    assert_true(isnan(x));
    x = 121.4;
    y = NAN;
    cs_gcj02_from_bd09(x, y, &x, &y);
    assert_true(isnan(y));
    /* In place, as crs.c calls it: same result as with separate outputs. */
    double lon = 121.4, lat = 31.15, want_lon, want_lat;
    cs_wgs84_from_gcj02(lon, lat, &want_lon, &want_lat);
    cs_wgs84_from_gcj02(lon, lat, &lon, &lat);
    assert_true(lon == want_lon && lat == want_lat);
}

/* Read the number after `key` at or after *p; advances *p. */
static bool next_number(const char **p, const char *key, double *out)
{
    const char *k = strstr(*p, key);
    if (!k)
        return false;
    char *end;
    *out = strtod(k + strlen(key), &end);
    *p = end;
    return end != k + strlen(key);
}

/*
 * The shared facility file keeps each point's Baidu coordinates (src_lon/src_lat,
 * BD-09) and the WGS84 point its author computed from them with the closed-form
 * BD-09 -> GCJ-02 approximation and an iterative GCJ-02 inverse. Ours must agree to
 * 1 m (the approximation alone accounts for up to ~0.25 m).
 */
static void real_baidu_facilities_match_author_conversion(void **state)
{
    (void)state;
    const char *dir = tu_shared_data();
    if (!dir) {
        print_message("skipping: shared real data absent\n");
        return;
    }
    char *path = tu_join(dir, "minhang-gumei-elder-facilities.geojson");
    char *text = tu_read(path, NULL);
    free(path);
    if (!text) {
        print_message("skipping: minhang-gumei-elder-facilities.geojson absent\n");
        return;
    }
    const char *p = text;
    size_t found = 0;
    double worst_m = 0;
    double src_lon = 0, src_lat = 0, lon = 0, lat = 0;
    while (next_number(&p, "\"src_lon\":", &src_lon)) {
        assert_true(next_number(&p, "\"src_lat\":", &src_lat));
        assert_true(next_number(&p, "\"coordinates\": [", &lon));
        assert_true(*p == ',');
        p++;
        char *end;
        lat = strtod(p, &end);
        assert_true(end != p);
        p = end;
        double w_lon, w_lat;
        cs_wgs84_from_bd09(src_lon, src_lat, &w_lon, &w_lat);
        double d = haversine_m(w_lon, w_lat, lon, lat);
        worst_m = fmax(worst_m, d);
        if (d > 1.0)
            fail_msg("BD-09 (%.6f, %.6f) -> (%.7f, %.7f), file has (%.7f, %.7f): %.2f m",
                     src_lon, src_lat, w_lon, w_lat, lon, lat, d);
        found++;
    }
    free(text);
    print_message("%zu facilities, worst distance to the file's WGS84 point %.3f m\n",
                  found, worst_m);
    assert_int_equal(found, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_matches_published_values),
        cmocka_unit_test(inverse_close_to_published_approximations),
        cmocka_unit_test(inverses_solve_the_forward_formula),
        cmocka_unit_test(round_trips_over_china_grid),
        cmocka_unit_test(identity_outside_china),
        cmocka_unit_test(nan_passes_through_and_in_place_works),
        cmocka_unit_test(real_baidu_facilities_match_author_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
