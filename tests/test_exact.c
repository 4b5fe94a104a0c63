/*
 * test_exact.c — residents exactly at a threshold are covered (issue 13 item 4).
 *
 * Every layer and the study are in EPSG:32651 (UTM 51N), so the layers keep their own
 * coordinates: no round trip through WGS84 moves a point by a nanometre. The points are
 * placed at distances that are exact in doubles (axis-aligned, and 600/800 right
 * triangles: 600² + 800² = 1000² exactly), so the expected costs below are worked out by
 * hand, not by careshed.
 */
#include "fixture.h"
#include "testutil.h"

#include "core/core.h"
#include "geom/rings.h"
#include "io/config.h"
#include "io/crs.h"
#include "io/load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAC_COUNT 3
#define RES_PER_FAC 12

/* Facilities 6 km apart, so each resident's nearest is the one it was placed around. */
static const double fac_xy[FAC_COUNT][2] = {
    {350000.0, 3430000.0}, {356000.0, 3430000.0}, {353000.0, 3436000.0}};
/* 1000 m exactly: four along the axes, eight on 600/800 right triangles. */
static const double res_off[RES_PER_FAC][2] = {
    {1000, 0},   {-1000, 0},  {0, 1000},   {0, -1000}, {600, 800},  {600, -800},
    {-600, 800}, {-600, -800}, {800, 600}, {800, -600}, {-800, 600}, {-800, -600}};

/* One area around everything, a GeoJSON whose own crs member names EPSG:32651. */
static const char areas_geojson[] =
    "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
    "{\"name\":\"urn:ogc:def:crs:EPSG::32651\"}},\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"code\":\"A1\",\"name\":\"A\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[347000,3427000],[359000,3427000],[359000,3439000],"
    "[347000,3439000],[347000,3427000]]]}}]}";

/* Write the study (working CRS work_crs; kind thresholds given by thresholds_line and
 * measured by measure), the areas and facilities above, population from pop_csv, and
 * network_geojson when not NULL; load it, expecting the status expect, and run it
 * when that is CS_OK. */
static void run_study(fx_env *r, cs_status expect, const char *work_crs,
                      const char *thresholds_line, const char *measure, const char *fac_csv,
                      const char *pop_csv, const char *network_geojson)
{
    memset(r, 0, sizeof *r);
    r->dir = tu_mkdtemp();
    char study[2048];
    snprintf(study, sizeof study,
             "name: exact\n"
             "crs: \"%s\"\n"
             "walk_speed_kmh: 4\n"
             "measure: %s\n"
             "areas:\n  path: areas.geojson\n  id: code\n  name: name\n"
             "facilities:\n  path: facilities.csv\n  crs: EPSG:32651\n  x: x\n  y: y\n"
             "  id: id\n  name: name\n  kind: kind\n"
             "population:\n  path: population.csv\n  crs: EPSG:32651\n  x: x\n  y: y\n"
             "  id: id\n  total: pop\n"
             "%s"
             "kinds:\n  centre:\n    name: centre\n    match: [centre]\n    %s\n",
             work_crs, measure,
             network_geojson ? "network:\n  path: network.geojson\n  crs: EPSG:32651\n" : "",
             thresholds_line);
    fx_env_write(r, "areas.geojson", areas_geojson);
    fx_env_write(r, "facilities.csv", fac_csv);
    fx_env_write(r, "population.csv", pop_csv);
    if (network_geojson)
        fx_env_write(r, "network.geojson", network_geojson);
    assert_int_equal(fx_env_open_file(r, tu_write(r->dir, "study.yaml", study)), CS_OK);
    cs_status st = fx_env_load(r);
    if (st != expect)
        tu_dump_messages(r->ctx);
    assert_int_equal(st, expect);
    if (st == CS_OK)
        assert_int_equal(cs_run(r->ctx, r->study, &r->result), CS_OK);
}

static char *ring_facilities(void)
{
    static char csv[512];
    size_t n = (size_t)snprintf(csv, sizeof csv, "id,name,kind,x,y\n");
    for (size_t f = 0; f < FAC_COUNT; f++)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "F%zu,f%zu,centre,%.2f,%.2f\n", f, f,
                              fac_xy[f][0], fac_xy[f][1]);
    return csv;
}

static char *ring_residents(void)
{
    static char csv[4096];
    size_t n = (size_t)snprintf(csv, sizeof csv, "id,x,y,pop\n");
    for (size_t f = 0; f < FAC_COUNT; f++)
        for (size_t j = 0; j < RES_PER_FAC; j++)
            n += (size_t)snprintf(csv + n, sizeof csv - n, "%zu,%.2f,%.2f,1\n",
                                  f * RES_PER_FAC + j + 1, fac_xy[f][0] + res_off[j][0],
                                  fac_xy[f][1] + res_off[j][1]);
    return csv;
}

static void assert_district(const fx_env *r, cs_measure m, size_t j, double covered,
                            double total)
{
    cs_coverage c;
    assert_int_equal(cs_result_coverage_by(r->result, m, 0, j, 0, CS_DISTRICT, &c), CS_OK);
    assert_true(c.covered == covered);
    assert_true(c.total == total);
}

/* The 36 residents exactly 1000 m from a facility, 15 min at 4 km/h = 1000 m: every
 * straight distance is exactly 1000 and all 36 are covered (17 were, with the WGS84
 * round trip). A threshold a millimetre shorter covers none of them. */
static void straight_exactly_at_threshold(void **state)
{
    (void)state;
    fx_env r;
    run_study(&r, CS_OK, "EPSG:32651", "thresholds_min: [15]", "straight", ring_facilities(),
              ring_residents(), NULL);
    /* 15 min * 4 km/h = 60 km·min/h = 1000 m, exactly */
    assert_true(cs_study_threshold_m(r.study, 0, 0) == 1000.0);
    size_t n = cs_study_demand_count(r.study);
    assert_int_equal(n, FAC_COUNT * RES_PER_FAC);
    double dist[FAC_COUNT * RES_PER_FAC];
    assert_int_equal(cs_cost_field_compute(r.ctx, r.study, 0, dist, NULL), CS_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(dist[i] == 1000.0);
    assert_district(&r, CS_MEASURE_STRAIGHT, 0, 36, 36);
    fx_env_close(&r);

    run_study(&r, CS_OK, "EPSG:32651", "thresholds_m: [999.999, 1000]", "straight",
              ring_facilities(), ring_residents(), NULL);
    assert_district(&r, CS_MEASURE_STRAIGHT, 0, 0, 36);
    assert_district(&r, CS_MEASURE_STRAIGHT, 1, 36, 36);
    fx_env_close(&r);
}

/* The working CRS written as a PROJ string for the same UTM zone: PROJ finds it the
 * same CRS as the layers' EPSG:32651, so they are not transformed either. */
static void same_crs_written_differently(void **state)
{
    (void)state;
    fx_env r;
    run_study(&r, CS_OK, "+proj=utm +zone=51 +datum=WGS84 +units=m +no_defs +type=crs",
              "thresholds_m: [1000]", "straight", ring_facilities(), ring_residents(), NULL);
    double dist[FAC_COUNT * RES_PER_FAC];
    assert_int_equal(cs_cost_field_compute(r.ctx, r.study, 0, dist, NULL), CS_OK);
    for (size_t i = 0; i < FAC_COUNT * RES_PER_FAC; i++)
        assert_true(dist[i] == 1000.0);
    assert_district(&r, CS_MEASURE_STRAIGHT, 0, 36, 36);
    fx_env_close(&r);
}

/*
 * Along a hand-made network: a street along y = 3430000 from x = 349000 to 352000, cut
 * at a crossing (350500) where a side street runs north. The facility stands 300 m north
 * of the street at x = 350000. Walks, by hand (facility access 300 included):
 *   R1 (350700, 3430000) on the street, through the crossing: 300 + 500 + 200 = 1000
 *   R2 (349600, 3429700) 300 south, same edge:               300 + 400 + 300 = 1000
 *   R3 (350600, 3429900) 100 south:                          300 + 600 + 100 = 1000
 *   R4 (350500, 3430200) on the side street:                 300 + 500 + 200 = 1000
 *   R5 (351000, 3430000) on the street:                      300 + 1000      = 1300
 * so with a 1000 m threshold R1..R4 are covered (exactly at it) and R5 is not.
 */
static void network_exactly_at_threshold(void **state)
{
    (void)state;
    const char *network =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[349000,3430000],[350500,3430000]]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[350500,3430000],[352000,3430000]]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[350500,3430000],[350500,3431000]]}}]}";
    const char *fac = "id,name,kind,x,y\nF0,f0,centre,350000.00,3430300.00\n";
    const char *pop = "id,x,y,pop\n"
                      "R1,350700.00,3430000.00,1\n"
                      "R2,349600.00,3429700.00,1\n"
                      "R3,350600.00,3429900.00,1\n"
                      "R4,350500.00,3430200.00,1\n"
                      "R5,351000.00,3430000.00,1\n";
    fx_env r;
    run_study(&r, CS_OK, "EPSG:32651", "thresholds_m: [1000]", "network", fac, pop, network);
    size_t n = cs_study_demand_count(r.study);
    assert_int_equal(n, 5);
    double dist[5];
    long nearest[5];
    assert_int_equal(cs_network_cost_field_compute(r.ctx, r.study, 0, dist, nearest), CS_OK);
    size_t at = 0, beyond = 0;
    for (size_t i = 0; i < n; i++) {
        if (dist[i] == 1000.0 && nearest[i] == 0)
            at++;
        else if (isinf(dist[i]) && nearest[i] == -1)
            beyond++;
    }
    assert_int_equal(at, 4);
    assert_int_equal(beyond, 1);
    assert_district(&r, CS_MEASURE_NETWORK, 0, 4, 5);
    fx_env_close(&r);

    /* a millimetre shorter covers none of them; 1300 m, R5's walk exactly, all five */
    run_study(&r, CS_OK, "EPSG:32651", "thresholds_m: [999.999, 1300]", "network", fac, pop,
              network);
    assert_district(&r, CS_MEASURE_NETWORK, 0, 0, 5);
    assert_district(&r, CS_MEASURE_NETWORK, 1, 5, 5);
    fx_env_close(&r);
}

/* Residents in the working CRS with x and y exchanged: checked in metres against the
 * areas' extent there (the layer never goes through lon/lat), and refused naming the
 * layer, the feature and the fields to exchange. */
static void swapped_xy_in_working_crs(void **state)
{
    (void)state;
    fx_env r;
    run_study(&r, CS_ERR_CRS, "EPSG:32651", "thresholds_m: [1000]", "straight", ring_facilities(),
              "id,x,y,pop\nS1,3430600.00,350800.00,1\n", NULL);
    assert_true(tu_has_message(r.ctx, "population.csv", "1 points lie far from the study area",
                               "would fall in it with x and y exchanged",
                               "exchange population.x and population.y", NULL));
    fx_env_close(&r);
}

/* Which CRS texts name the same CRS: by hand from their definitions. */
static void crs_same_by_definition(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_true(cs_crs_same(ctx, "EPSG:32651", "EPSG:32651"));
    assert_true(cs_crs_same(ctx, "EPSG:32651",
                            "+proj=utm +zone=51 +datum=WGS84 +units=m +no_defs +type=crs"));
    assert_false(cs_crs_same(ctx, "EPSG:32651", "EPSG:32650")); /* the next zone west */
    assert_false(cs_crs_same(ctx, "EPSG:4326", "EPSG:4490"));   /* CGCS2000 is not WGS84 */
    assert_false(cs_crs_same(ctx, "EPSG:4326", "GCJ-02"));      /* GCJ-02 is shifted */
    assert_true(cs_crs_same(ctx, "GCJ-02", "gcj02"));
    assert_false(cs_crs_same(ctx, "GCJ-02", "BD-09"));
    assert_false(cs_crs_same(ctx, "EPSG:32651", "not a crs"));
    assert_false(cs_crs_same(ctx, "EPSG:32651", NULL));
    cs_context_destroy(ctx);
}

/* Exclusion zones (careshed site --exclude) in the working CRS keep their coordinates
 * to the last bit. */
static void zones_in_working_crs_untouched(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_write(dir, "zones.geojson",
                          "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
                          "\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
                          "\"coordinates\":[[[350000.1,3430000.7],[350999.3,3430000.7],"
                          "[350999.3,3430999.9],[350000.1,3430000.7]]]}}]}");
    const double want_x[4] = {350000.1, 350999.3, 350999.3, 350000.1};
    const double want_y[4] = {3430000.7, 3430000.7, 3430999.9, 3430000.7};
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    const char *work[2] = {"EPSG:32651",
                           "+proj=utm +zone=51 +datum=WGS84 +units=m +no_defs +type=crs"};
    for (size_t w = 0; w < 2; w++) {
        cs_rings zones;
        assert_int_equal(cs_read_zones(ctx, path, "EPSG:32651", work[w], &zones), CS_OK);
        assert_int_equal(zones.vertex_count, 4);
        for (size_t i = 0; i < 4; i++) {
            assert_true(zones.x[i] == want_x[i]);
            assert_true(zones.y[i] == want_y[i]);
        }
        cs_rings_free(&zones);
    }
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(straight_exactly_at_threshold),
        cmocka_unit_test(same_crs_written_differently),
        cmocka_unit_test(network_exactly_at_threshold),
        cmocka_unit_test(swapped_xy_in_working_crs),
        cmocka_unit_test(crs_same_by_definition),
        cmocka_unit_test(zones_in_working_crs_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
