/*
 * test_coords.c — coordinates that are not what they claim: latitude and longitude
 * swapped in a layer without a CRS, metres in a layer read as longitude/latitude (a
 * GeoJSON written in Web Mercator or a UTM zone, which GDAL labels WGS84), and the
 * common names of WGS84 and CGCS2000. Each error must name the layer, the file, the
 * feature and the fix; each correctly declared input must still load to the same
 * place. Expected coordinates come from the Web Mercator formula worked here, or from
 * gdaltransform (noted where used).
 */
#include "fixture.h"
#include "testutil.h"

#include "io/study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef fx_env env;

static cs_status load(env *e)
{
    cs_context_clear_messages(e->ctx); /* each load's messages on their own */
    return fx_env_load(e);
}

static void expect(env *e, cs_status want)
{
    cs_status st = load(e);
    if (st != want)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, want);
    assert_null(e->study);
}

static void expect_ok(env *e)
{
    cs_status st = load(e);
    if (st != CS_OK)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, CS_OK);
}

/* Web Mercator (EPSG:3857) by its formula: the sphere of radius 6378137 m. */
static void mercator(double lon_deg, double lat_deg, double *x_m, double *y_m)
{
    const double r = 6378137.0, rad = M_PI / 180.0;
    *x_m = r * lon_deg * rad;
    *y_m = r * log(tan(M_PI / 4 + lat_deg * rad / 2));
}

/* A GeoJSON of points with no crs member (so GDAL reads it as WGS84). */
static void write_points_geojson(env *e, const char *name, const double *x, const double *y,
                                 size_t n)
{
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text,
                                   "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "%s{\"type\":\"Feature\",\"properties\":{\"id\":\"F%zu\","
                                 "\"kind\":\"a\",\"beds\":1},\"geometry\":{\"type\":\"Point\","
                                 "\"coordinates\":[%.3f,%.3f]}}",
                                 i ? "," : "", i + 1, x[i], y[i]);
    snprintf(text + used, sizeof text - used, "]}\n");
    fx_env_write(e, name, text);
}

/* Facilities at these lon/lat points inside the street, and their Web Mercator metres. */
static const double fac_lon[3] = {121.385, 121.395, 121.405};
static const double fac_lat[3] = {31.135, 31.145, 31.155};

/* ------------------------------------------------------------------ swapped */

static void swapped_without_crs(void **state)
{
    env *e = *state;
    /* the file's "lon" column holds latitudes; no CRS anywhere */
    fx_env_write(e, "sw.csv", "id,kind,lon,lat,beds\nF1,a,31.135,121.385,1\n"
                            "F2,a,31.145,121.395,1\n");
    fx_lonlat_study(e, "sw.csv", "");
    expect(e, CS_ERR_CRS);
    /* the layer, file and line, and the fix: which field to read x and y from */
    assert_true(tu_has_message(e->ctx, "error", "sw.csv:2", "facilities layer", "swapped",
                               "facilities.x: lat", "facilities.y: lon",
                               "--set facilities.x=lat", NULL));
    assert_false(tu_has_message(e->ctx, "not longitude/latitude", NULL));
    /* the fix it names works: the points land where they belong */
    fx_env_set(e, "facilities.x", "lat");
    fx_env_set(e, "facilities.y", "lon");
    expect_ok(e);
    assert_int_equal(e->study->fac.count, 2);
    assert_true(fabs(e->study->fac.lon[1] - 121.395) < 1e-9);
    assert_true(fabs(e->study->fac.lat[1] - 31.145) < 1e-9);
}

static void swapped_declared_names_fields(void **state)
{
    env *e = *state;
    fx_env_write(e, "sw.csv", "id,kind,lon,lat,beds\nF1,a,31.135,121.385,1\n");
    fx_lonlat_study(e, "sw.csv", "EPSG:4326");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "sw.csv:2", "swapped", "facilities.x: lat", NULL));
}

static void unlabelled_other_numbers_still_refused(void **state)
{
    env *e = *state;
    /* 200, 100 is no lon/lat either way round: not called swapped */
    fx_env_write(e, "odd.csv", "id,kind,lon,lat,beds\nF1,a,200,100,1\n");
    fx_lonlat_study(e, "odd.csv", "");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "odd.csv", "not longitude/latitude", "facilities.crs",
                               NULL));
    assert_false(tu_has_message(e->ctx, "swapped", NULL));
}

/* ----------------------------------------------------------- metres as degrees */

static void web_mercator_facilities(void **state)
{
    env *e = *state;
    double x[3], y[3];
    for (int i = 0; i < 3; i++)
        mercator(fac_lon[i], fac_lat[i], &x[i], &y[i]);
    write_points_geojson(e, "merc.geojson", x, y, 3);
    fx_lonlat_study(e, "merc.geojson", "");
    expect(e, CS_ERR_CRS);
    /* one message for the layer (not one per feature), naming the CRS and the fix */
    assert_true(tu_has_message(e->ctx, "error", "merc.geojson", "feature 1", "facilities layer",
                               "metres, not degrees", "EPSG:3857", "Web Mercator",
                               "facilities.crs: EPSG:3857", "--set facilities.crs=EPSG:3857",
                               NULL));
    assert_false(tu_has_message(e->ctx, "outside -90..90", NULL));
    assert_false(tu_has_message(e->ctx, "working CRS", NULL));
    assert_int_equal(cs_context_error_count(e->ctx), 1);
    /* with the CRS named, the facilities are where they were made from (4 mm: the
     * coordinates were written to 1 mm) */
    fx_env_set(e, "facilities.crs", "EPSG:3857");
    expect_ok(e);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(e->study->fac.lon[i] - fac_lon[i]) < 4e-8);
        assert_true(fabs(e->study->fac.lat[i] - fac_lat[i]) < 4e-8);
    }
}

static void web_mercator_areas_named_from_points(void **state)
{
    env *e = *state;
    double x[5], y[5];
    const double lon[5] = {121.38, 121.41, 121.41, 121.38, 121.38},
                 lat[5] = {31.13, 31.13, 31.16, 31.16, 31.13};
    for (int i = 0; i < 5; i++)
        mercator(lon[i], lat[i], &x[i], &y[i]);
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
             "\"properties\":{\"id\":\"S\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
             "[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f]]]}}]}\n",
             x[0], y[0], x[1], y[1], x[2], y[2], x[3], y[3], x[4], y[4]);
    fx_env_write(e, "fac.csv", "id,kind,lon,lat,beds\nF1,a,121.395,31.145,1\n");
    fx_lonlat_study(e, "fac.csv", "EPSG:4326");
    fx_env_write(e, "merc-areas.geojson", text);
    fx_env_set(e, "areas.path", "merc-areas.geojson");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "merc-areas.geojson: feature 1", "areas layer", "metres",
                               "EPSG:3857", "areas.crs: EPSG:3857", NULL));
    fx_env_set(e, "areas.crs", "EPSG:3857");
    expect_ok(e);
    assert_int_equal(e->study->areas.count, 1);
}

static void utm_and_gauss_kruger_facilities(void **state)
{
    env *e = *state;
    /* 121.395 E, 31.145 N by gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32651 and
     * EPSG:4549 (CGCS2000 3-degree Gauss-Kruger CM 120E) */
    double x[1] = {346999.933}, y[1] = {3446780.288};
    write_points_geojson(e, "utm.geojson", x, y, 1);
    fx_lonlat_study(e, "utm.geojson", "");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "utm.geojson", "facilities layer", "metres",
                               "facilities.crs: EPSG:32651", NULL));
    x[0] = 633032.587, y[0] = 3447888.292;
    write_points_geojson(e, "gk.geojson", x, y, 1);
    fx_env_set(e, "facilities.path", "gk.geojson");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "gk.geojson", "facilities.crs: EPSG:4549", NULL));
    fx_env_set(e, "facilities.crs", "EPSG:4549");
    expect_ok(e);
    assert_true(fabs(e->study->fac.lon[0] - 121.395) < 1e-7);
    assert_true(fabs(e->study->fac.lat[0] - 31.145) < 1e-7);
}

static void metres_with_no_sound_guess(void **state)
{
    env *e = *state;
    /* metres that no candidate puts near Shanghai (Web Mercator: 44.9 E, 40.9 N) */
    double x[1] = {5000000}, y[1] = {5000000};
    write_points_geojson(e, "far.geojson", x, y, 1);
    fx_lonlat_study(e, "far.geojson", "");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "far.geojson", "facilities layer", "metres, not degrees",
                               "cannot guess", "facilities.crs: EPSG:", NULL));
    assert_false(tu_has_message(e->ctx, "they fit EPSG", NULL));
}

static void metres_in_declared_csv(void **state)
{
    env *e = *state;
    /* a CSV declared EPSG:4326 that holds Web Mercator metres: the declaration is named */
    double x[2], y[2];
    mercator(fac_lon[0], fac_lat[0], &x[0], &y[0]);
    mercator(fac_lon[1], fac_lat[1], &x[1], &y[1]);
    char text[256];
    snprintf(text, sizeof text, "id,kind,x,y,beds\nF1,a,%.3f,%.3f,1\nF2,a,%.3f,%.3f,1\n", x[0],
             y[0], x[1], y[1]);
    fx_env_write(e, "m.csv", text);
    fx_lonlat_study(e, "m.csv", "EPSG:4326");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "m.csv:2", "declared EPSG:4326 (facilities.crs)",
                               "facilities.crs: EPSG:3857", NULL));
}

static void one_typo_among_degrees_is_told_by_line(void **state)
{
    env *e = *state;
    /* one latitude typed in metres among degrees: that row, not the layer's CRS */
    fx_env_write(e, "t.csv", "id,kind,lon,lat,beds\nF1,a,121.385,31.135,1\n"
                           "F2,a,121.395,3114500,1\nF3,a,121.405,31.155,1\n");
    fx_lonlat_study(e, "t.csv", "EPSG:4326");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "t.csv:3", "'lat'", "latitude 3.1145e+06",
                               "outside -90..90", NULL));
    assert_false(tu_has_message(e->ctx, "EPSG:3857", NULL));
}

/* ------------------------------------------------------- far from the areas */

static void layer_in_the_wrong_projected_crs(void **state)
{
    env *e = *state;
    /* UTM 51N metres (gdaltransform, as above) declared as CGCS2000 CM 120E: every
     * facility lands ~300 km east; one error for the layer, naming the CRS they fit */
    fx_env_write(e, "w.csv", "id,kind,x,y,beds\nF1,a,346999.933,3446780.288,1\n"
                           "F2,a,346999.933,3446780.288,1\n");
    fx_lonlat_study(e, "w.csv", "EPSG:4549");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "w.csv:2", "none of the 2 points of the facilities layer",
                               "wrong CRS (EPSG:4549, declared", "facilities.crs: EPSG:32651",
                               NULL));
    assert_false(tu_has_message(e->ctx, "point lies", NULL));
    fx_env_set(e, "facilities.crs", "EPSG:32651");
    expect_ok(e);
    assert_true(fabs(e->study->fac.lon[1] - 121.395) < 1e-7);
}

static void population_far_without_a_guess(void **state)
{
    env *e = *state;
    /* degrees of another city (Beijing) in the population layer: the layer is named */
    fx_env_write(e, "f.csv", "id,kind,lon,lat,beds\nF1,a,121.395,31.145,1\n");
    fx_lonlat_study(e, "f.csv", "EPSG:4326");
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n116.39,39.91,100\n116.40,39.92,50\n");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "ll-pop.csv:2", "none of the 2 points of the population "
                               "layer", "population.crs", NULL));
    /* one point far among near ones is that point's problem, as before */
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n121.39,31.14,100\n116.40,39.92,50\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "ll-pop.csv:3", "point lies", "from the study area",
                               NULL));
    assert_false(tu_has_message(e->ctx, "none of the", NULL));
}

/* ------------------------------------------------------------------ aliases */

static void wgs84_and_cgcs2000_names(void **state)
{
    env *e = *state;
    fx_env_write(e, "f.csv", "id,kind,lon,lat,beds\nF1,a,121.395,31.145,1\n");
    fx_lonlat_study(e, "f.csv", "EPSG:4326");
    expect_ok(e);
    double x = e->study->fac.x[0], y = e->study->fac.y[0];
    const char *names[] = {"WGS84", "wgs84", "WGS 84", "wgs-84", "WGS_1984"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        fx_env_set(e, "facilities.crs", names[i]);
        expect_ok(e);
        /* the same numbers read as the same CRS: exactly the same place */
        assert_true(e->study->fac.x[0] == x && e->study->fac.y[0] == y);
    }
    fx_env_set(e, "facilities.crs", "EPSG:4490");
    expect_ok(e);
    x = e->study->fac.x[0], y = e->study->fac.y[0];
    fx_env_set(e, "facilities.crs", "CGCS2000");
    expect_ok(e);
    assert_true(e->study->fac.x[0] == x && e->study->fac.y[0] == y);
    /* a name that is neither is still refused, and the hint names the accepted ones */
    fx_env_set(e, "facilities.crs", "WGS85");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "unknown coordinate system 'WGS85'", "WGS84",
                               "CGCS2000", NULL));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_env_setup, fx_env_teardown)
    const struct CMUnitTest tests[] = {
        T(swapped_without_crs),
        T(swapped_declared_names_fields),
        T(unlabelled_other_numbers_still_refused),
        T(web_mercator_facilities),
        T(web_mercator_areas_named_from_points),
        T(utm_and_gauss_kruger_facilities),
        T(metres_with_no_sound_guess),
        T(metres_in_declared_csv),
        T(one_typo_among_degrees_is_told_by_line),
        T(layer_in_the_wrong_projected_crs),
        T(population_far_without_a_guess),
        T(wgs84_and_cgcs2000_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
