/*
 * test_crs.c — the CRS door: transforms through PROJ in lon/lat order, the GCJ-02 and
 * BD-09 encodings in front of it, the automatic transverse Mercator, short names and
 * the errors for unknown CRSs. Reference values are hand-checked or published.
 */
#include "testutil.h"

#include "core/core.h"
#include "io/chinacrs.h"
#include "io/crs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cs_context *ctx;

static int setup(void **state)
{
    (void)state;
    return cs_context_create(&ctx) == CS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cs_context_destroy(ctx);
    return 0;
}

static void lonlat_order_to_utm(void **state)
{
    (void)state;
    cs_transform *t = NULL;
    assert_int_equal(cs_transform_create(ctx, "EPSG:4326", "EPSG:32651", NULL, &t), CS_OK);
    /* the central meridian of zone 51 (123 E) on the equator: easting 500,000 m */
    double x[2] = {123.0, 121.4}, y[2] = {0.0, 31.1};
    assert_int_equal(cs_transform_apply(t, x, y, 2), 0);
    assert_true(fabs(x[0] - 500000) < 1e-6 && fabs(y[0]) < 1e-6);
    /* Shanghai lies west of 123 E and about 3,440 km north */
    assert_true(x[1] > 300000 && x[1] < 400000 && y[1] > 3.43e6 && y[1] < 3.45e6);
    cs_transform_destroy(t);
}

/* A kept transform: the same one for the same pair, the same numbers as a transform of
 * its own, and still right after more pairs than are kept pushed the first ones out. */
static void kept_transforms_are_shared(void **state)
{
    (void)state;
    cs_context *own = NULL;
    assert_int_equal(cs_context_create(&own), CS_OK);
    cs_transform *a = NULL, *b = NULL, *fresh = NULL;
    assert_int_equal(cs_transform_kept(own, "EPSG:4326", "EPSG:32651", NULL, &a), CS_OK);
    assert_int_equal(cs_transform_kept(own, "EPSG:4326", "EPSG:32651", NULL, &b), CS_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(cs_transform_create(own, "EPSG:4326", "EPSG:32651", NULL, &fresh), CS_OK);
    double x = 121.4, y = 31.1, fx = x, fy = y;
    cs_transform_apply(a, &x, &y, 1);
    cs_transform_apply(fresh, &fx, &fy, 1);
    assert_true(x == fx && y == fy);
    /* ten UTM zones, more than are kept: each still transforms as its own would */
    for (int round = 0; round < 2; round++)
        for (int zone = 45; zone <= 54; zone++) {
            char code[16];
            snprintf(code, sizeof code, "EPSG:326%02d", zone);
            cs_transform *t = NULL;
            assert_int_equal(cs_transform_kept(own, "EPSG:4326", code, NULL, &t), CS_OK);
            /* the zone's central meridian on the equator: easting 500,000 m */
            double cx = -183.0 + 6.0 * zone, cy = 0;
            cs_transform_apply(t, &cx, &cy, 1);
            assert_true(fabs(cx - 500000) < 1e-6 && fabs(cy) < 1e-6);
        }
    /* an unknown CRS: the error, nothing kept */
    cs_transform *bad = NULL;
    assert_int_equal(cs_transform_kept(own, "EPSG:4326", "EPSG:999999", NULL, &bad), CS_ERR_CRS);
    assert_null(bad);
    cs_transform_destroy(fresh);
    cs_context_destroy(own); /* frees the kept ones (the leak check would say) */
}

/* Many points at once are shared among threads, each with its own copy of the PROJ
 * operation: the same numbers as one thread and as one point at a time, failures
 * (latitudes beyond the pole) counted and NaN in both. */
static void many_points_on_several_threads(void **state)
{
    (void)state;
    size_t n = 250001;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *x1 = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = x1[i] = 120.5 + 2.0 * (double)(i % 1000) / 1000;
        y[i] = y1[i] = 30.5 + 1.5 * (double)(i / 1000) / 250;
    }
    y[7] = y1[7] = 95; /* not a latitude */
    cs_transform *t = NULL, *one = NULL;
    cs_context_set_threads(ctx, 2);
    assert_int_equal(cs_transform_create(ctx, "EPSG:4326", "EPSG:32651", NULL, &t), CS_OK);
    cs_context_set_threads(ctx, 1);
    assert_int_equal(cs_transform_create(ctx, "EPSG:4326", "EPSG:32651", NULL, &one), CS_OK);
    cs_context_set_threads(ctx, 0);
    assert_int_equal(cs_transform_apply(t, x, y, n), 1);
    assert_int_equal(cs_transform_apply(one, x1, y1, n), 1);
    assert_true(isnan(x[7]) && isnan(y[7]));
    for (size_t i = 0; i < n; i += 7919) { /* and one point at a time */
        double px = 120.5 + 2.0 * (double)(i % 1000) / 1000;
        double py = i == 7 ? 95 : 30.5 + 1.5 * (double)(i / 1000) / 250;
        cs_transform_apply(one, &px, &py, 1);
        assert_true(i == 7 || (px == x[i] && py == y[i]));
    }
    assert_memory_equal(x, x1, n * sizeof *x);
    assert_memory_equal(y, y1, n * sizeof *y);
    cs_transform_destroy(t);
    cs_transform_destroy(one);
    free(x), free(y), free(x1), free(y1);
}

static void auto_tmerc_is_metric_and_centred(void **state)
{
    (void)state;
    char *def = cs_crs_auto_tmerc(121.40449);
    assert_non_null(strstr(def, "+lon_0=121.404 "));
    assert_true(cs_crs_is_metric(ctx, def));
    assert_false(cs_crs_is_metric(ctx, "EPSG:4326"));
    assert_int_equal(cs_crs_is_geographic(ctx, "EPSG:4490"), 1);
    assert_int_equal(cs_crs_is_geographic(ctx, "EPSG:4549"), 0);
    assert_int_equal(cs_crs_is_geographic(ctx, "GCJ-02"), 1);
    assert_int_equal(cs_crs_is_geographic(ctx, "not a crs"), -1);
    /* on the central meridian, northing 0 at the equator and x = the false easting */
    cs_transform *t = NULL;
    assert_int_equal(cs_transform_create(ctx, "EPSG:4326", def, NULL, &t), CS_OK);
    double x = 121.404, y = 0;
    cs_transform_apply(t, &x, &y, 1);
    assert_true(fabs(x - 500000) < 1e-6 && fabs(y) < 1e-6);
    cs_transform_destroy(t);
    cs_free(def);
}

static void shifted_encodings_go_through_wgs84(void **state)
{
    (void)state;
    assert_int_equal(cs_shift_parse("GCJ-02"), CS_SHIFT_GCJ02);
    assert_int_equal(cs_shift_parse("gcj02"), CS_SHIFT_GCJ02);
    assert_int_equal(cs_shift_parse("BD-09"), CS_SHIFT_BD09);
    assert_int_equal(cs_shift_parse("baidu"), CS_SHIFT_BD09);
    assert_int_equal(cs_shift_parse("EPSG:4326"), CS_SHIFT_NONE);
    /* GCJ-02 -> WGS84 through a transform equals the direct inverse */
    double glon, glat;
    cs_gcj02_from_wgs84(121.4, 31.1, &glon, &glat);
    cs_transform *t = NULL;
    assert_int_equal(cs_transform_create(ctx, "GCJ-02", "EPSG:4326", NULL, &t), CS_OK);
    double x = glon, y = glat;
    cs_transform_apply(t, &x, &y, 1);
    assert_true(fabs(x - 121.4) < 1e-8 && fabs(y - 31.1) < 1e-8);
    cs_transform_destroy(t);
}

static void unknown_crs_names_the_text(void **state)
{
    (void)state;
    cs_context_clear_messages(ctx);
    cs_transform *t = NULL;
    cs_where w = {.file = "f.csv"};
    assert_int_equal(cs_transform_create(ctx, "EPSG:999999", "EPSG:4326", &w, &t), CS_ERR_CRS);
    assert_null(t);
    assert_true(tu_has_message(ctx, "f.csv", "unknown coordinate system 'EPSG:999999'", NULL));
    /* a bare word is not guessed (PROJ alone would match "FOO" to some datum) */
    assert_int_equal(cs_transform_create(ctx, "FOO", "EPSG:4326", &w, &t), CS_ERR_CRS);
    assert_true(tu_has_message(ctx, "unknown coordinate system 'FOO'", "not an AUTH:CODE", NULL));
}

static void points_that_cannot_be_transformed_are_counted(void **state)
{
    (void)state;
    cs_transform *t = NULL;
    assert_int_equal(cs_transform_create(ctx, "EPSG:4326", "EPSG:32651", NULL, &t), CS_OK);
    double x[2] = {121.4, 500}, y[2] = {31.1, 95};
    assert_int_equal(cs_transform_apply(t, x, y, 2), 1);
    assert_true(isnan(x[1]) && isnan(y[1]) && isfinite(x[0]));
    cs_transform_destroy(t);
}

static void distance_distortion_of_a_crs(void **state)
{
    (void)state;
    /* UTM on its central meridian: scale k0 = 0.9996, so 0.04% */
    assert_true(fabs(cs_crs_scale_error(ctx, "EPSG:32651", 123.0, 31.0) - 0.0004) < 1e-5);
    /* Web Mercator north-south scale is a / (M cos(phi)), M the meridian radius */
    double a = 6378137.0, e2 = 0.00669437999014, phi = 31.0 * M_PI / 180;
    double m = a * (1 - e2) / pow(1 - e2 * sin(phi) * sin(phi), 1.5);
    double want = a / (m * cos(phi)) - 1;
    assert_true(fabs(cs_crs_scale_error(ctx, "EPSG:3857", 121.4, 31.0) - want) < 1e-4);
    assert_true(isnan(cs_crs_scale_error(ctx, "FOO", 121.4, 31.0)));
}

static void short_names(void **state)
{
    (void)state;
    char *a = cs_crs_short_name(ctx, "EPSG:4549");
    assert_string_equal(a, "EPSG:4549");
    char *b = cs_crs_short_name(ctx, "BD-09");
    assert_string_equal(b, "BD-09");
    cs_free(a);
    cs_free(b);
}

static void names_of_wgs84_and_cgcs2000(void **state)
{
    (void)state;
    const char *wgs[] = {"WGS84", "wgs84", "WGS 84", "wgs-84", "WGS_84", "WGS1984"};
    for (size_t i = 0; i < sizeof wgs / sizeof *wgs; i++) {
        assert_string_equal(cs_crs_alias(wgs[i]), "EPSG:4326");
        assert_true(cs_crs_same(ctx, wgs[i], "EPSG:4326"));
        assert_int_equal(cs_crs_is_geographic(ctx, wgs[i]), 1);
        /* the same transform as EPSG:4326: 123 E on the equator is UTM 51N's origin */
        cs_transform *t = NULL;
        assert_int_equal(cs_transform_create(ctx, wgs[i], "EPSG:32651", NULL, &t), CS_OK);
        double x = 123.0, y = 0.0;
        assert_int_equal(cs_transform_apply(t, &x, &y, 1), 0);
        assert_true(fabs(x - 500000) < 1e-6 && fabs(y) < 1e-6);
        cs_transform_destroy(t);
    }
    assert_string_equal(cs_crs_alias("CGCS2000"), "EPSG:4490");
    assert_string_equal(cs_crs_alias("cgcs-2000"), "EPSG:4490");
    assert_true(cs_crs_same(ctx, "CGCS2000", "EPSG:4490"));
    char *name = cs_crs_short_name(ctx, "WGS 84");
    assert_string_equal(name, "EPSG:4326");
    cs_free(name);
    /* near misses stay unknown (no loose matching), and so do the shifted encodings */
    assert_null(cs_crs_alias("WGS85"));
    assert_null(cs_crs_alias("WGS84x"));
    assert_null(cs_crs_alias("GCJ-02"));
    assert_null(cs_crs_alias(NULL));
    assert_int_equal(cs_crs_is_geographic(ctx, "WGS85"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lonlat_order_to_utm),
        cmocka_unit_test(kept_transforms_are_shared),
        cmocka_unit_test(many_points_on_several_threads),
        cmocka_unit_test(auto_tmerc_is_metric_and_centred),
        cmocka_unit_test(shifted_encodings_go_through_wgs84),
        cmocka_unit_test(unknown_crs_names_the_text),
        cmocka_unit_test(points_that_cannot_be_transformed_are_counted),
        cmocka_unit_test(distance_distortion_of_a_crs),
        cmocka_unit_test(short_names),
        cmocka_unit_test(names_of_wgs84_and_cgcs2000),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
