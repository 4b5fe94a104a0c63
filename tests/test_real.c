/*
 * test_real.c — the real Minhang boundaries in ../shared/data/real (14 units with holes,
 * enclaves and exclaves) and the real 古美 facilities and committees in BD-09. Skips
 * when the shared data are absent.
 *
 * The expected areas were computed independently with GDAL/GEOS (OGR Contains on the
 * source polygons), not with careshed: e.g. (121.383210, 31.010592) lies in a hole of
 * 江川路街道 and inside 马桥镇.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "io/seams.h"
#include "io/study.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shared;

static int setup(void **state)
{
    (void)state;
    shared = tu_shared_data();
    return 0;
}

static long area_by_id(const cs_study *s, const char *id)
{
    for (size_t a = 0; a < cs_study_area_count(s); a++)
        if (!strcmp(cs_study_area_id(s, a), id))
            return (long)a;
    return -1;
}

static void run_study(fx_env *r, const char *study_path)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(fx_env_open_file(r, strdup(study_path)), CS_OK);
    fx_env_run_ok(r);
}

static double facilities_in(fx_env *r, const char *area_id)
{
    long a = area_by_id(r->study, area_id);
    assert_true(a >= 0);
    double n;
    assert_int_equal(cs_result_facilities(r->result, 0, (size_t)a, &n, NULL), CS_OK);
    return n;
}

/* Points in holes belong to the unit that fills the hole; points in exclaves to their
 * own unit. */
static void holes_and_exclaves(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "points.csv",
                  "id,kind,lon,lat,pop\n"
                  "H1,x,121.383210,31.010592,100\n"  /* hole of 江川路 -> 马桥镇 */
                  "H2,x,121.444903,31.091245,100\n"  /* hole of 梅陇 -> 吴泾镇 */
                  "H3,x,121.382038,31.072049,100\n"  /* hole of 颛桥 -> 莘庄工业区 */
                  "E1,x,121.470859,31.116949,100\n"  /* exclave of 浦锦街道 */
                  "E2,x,121.243545,31.259563,100\n"  /* exclave of 华漕镇 */
                  "E3,x,121.388321,30.998565,100\n")); /* second part of 马桥镇 */
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "areas: {path: %s/minhang-streets.geojson, id: code9, name: name}\n"
             "facilities: {path: points.csv, crs: EPSG:4326}\n"
             "population: {path: points.csv, crs: EPSG:4326}\n"
             "outside_tolerance_m: 0\n",
             shared);
    char *study = tu_write(dir, "study.yaml", yaml);
    fx_env r;
    run_study(&r, study);
    assert_int_equal(cs_study_area_count(r.study), 14);
    assert_int_equal(cs_study_demand_count(r.study), 6);
    assert_true(facilities_in(&r, "310112112") == 2); /* 马桥镇: H1 and E3 */
    assert_true(facilities_in(&r, "310112110") == 1); /* 吴泾镇 */
    assert_true(facilities_in(&r, "310112501") == 1); /* 莘庄工业区 */
    assert_true(facilities_in(&r, "310112009") == 1); /* 浦锦街道 */
    assert_true(facilities_in(&r, "310112106") == 1); /* 华漕镇 */
    assert_true(facilities_in(&r, "310112001") == 0); /* 江川路街道: only holes */
    assert_true(facilities_in(&r, "310112108") == 0); /* 梅陇镇 */
    assert_true(facilities_in(&r, "310112103") == 0); /* 颛桥镇 */
    /* residents follow the same rule: 马桥镇 has 200 */
    cs_coverage c;
    assert_int_equal(cs_result_coverage(r.result, 0, 0, 0, (size_t)area_by_id(r.study, "310112112"),
                                        &c), CS_OK);
    assert_true(c.total == 200 && c.covered == 200);
    fx_env_close(&r);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* The 古美 facilities and committees in BD-09 (their source coordinates) all land in
 * 古美路街道 once converted, as they do in the shared data's own conversion. */
static void bd09_points_land_in_gumei(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_mkdtemp();
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ogr2ogr -q -f CSV fac.csv '%s/minhang-gumei-elder-facilities.geojson' "
             "-dialect SQLite -sql \"SELECT id, name, 'home' AS kind, src_lon, src_lat, beds "
             "FROM \\\"minhang-gumei-elder-facilities\\\"\" && "
             "ogr2ogr -q -f CSV pop.csv '%s/minhang-gumei-committees.geojson' -dialect SQLite "
             "-sql \"SELECT id, src_lon, src_lat, 1000 AS pop FROM "
             "\\\"minhang-gumei-committees\\\"\"",
             dir, shared, shared);
    char *out = NULL;
    int code = tu_run(cmd, &out);
    if (code != 0)
        fprintf(stderr, "%s\n", out);
    free(out);
    assert_int_equal(code, 0);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "areas: {path: %s/minhang-streets.geojson, id: code9, name: name}\n"
             "facilities: {path: fac.csv, crs: BD-09, x: src_lon, y: src_lat}\n"
             "population: {path: pop.csv, crs: BD-09, x: src_lon, y: src_lat}\n"
             "outside_tolerance_m: 0\n",
             shared);
    char *study = tu_write(dir, "study.yaml", yaml);
    fx_env r;
    run_study(&r, study);
    assert_true(facilities_in(&r, "310112006") == 6);
    cs_coverage c;
    long gumei = area_by_id(r.study, "310112006");
    assert_int_equal(cs_result_coverage(r.result, 0, 2, 0, (size_t)gumei, &c), CS_OK);
    assert_true(c.total == 40000); /* all 40 committee points, 1,000 each */
    /* 古美 is about 2.5 km across and has 6 homes: most of it is within 15 minutes */
    assert_true(c.share > 0.5);
    fx_env_close(&r);

    /* The same through the command line, with every output written */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run study.yaml --out out -q", dir, CS_CLI);
    assert_int_equal(tu_run(cmd, NULL), 0);
    char *areas_path = tu_join(dir, "out/areas.geojson");
    char *areas = tu_read(areas_path, NULL);
    assert_non_null(areas);
    size_t features = 0;
    for (const char *p = areas; (p = strstr(p, "\"type\":\"Feature\"")) != NULL; p++)
        features++;
    assert_int_equal(features, 14);
    assert_non_null(strstr(areas, "\"name\":\"古美街道\""));
    free(areas);
    free(areas_path);
    /* the report's district map draws the 14 streets, holes and exclaves included (one
     * even-odd path each, with as many rings as the streets have) */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' report study.yaml --out out/report.html -q", dir,
             CS_CLI);
    assert_int_equal(tu_run(cmd, NULL), 0);
    char *report_path = tu_join(dir, "out/report.html"), *report = tu_read(report_path, NULL);
    const char *map = strstr(report, "class=\"map district-map\"");
    const char *map_end = map ? strstr(map, "</svg>") : NULL;
    assert_non_null(map_end);
    size_t streets = 0, rings = 0;
    for (const char *p = map; (p = strstr(p, "<path fill-rule=\"evenodd\" fill=")) && p < map_end;
         p++) {
        streets++;
        for (const char *q = p; *q != '>' && q < map_end; q++)
            rings += *q == 'M';
    }
    assert_int_equal(streets, 14);
    assert_true(rings > 14); /* the holes and exclaves are drawn */
    free(report);
    free(report_path);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* The real boundaries overlap in 22 places. One grid cell of 1,000 people over the
 * 江川路/颛桥 overlap is counted once: the district holds 1,000. Expected values computed
 * independently with GDAL/SpatiaLite on the source polygons in lon/lat: the cell
 * [121.4306, 121.4316] x [31.0126, 31.0136] lies wholly in the two units' union;
 * 50.132% of it in 江川路街道 (the overlap included), 2.717% in the overlap; the 22
 * overlaps total 17,101 m² (the sliver areas move by a few per cent with the plane the
 * overlay is made in). 江川路街道 comes first in the layer, so it keeps the overlap; a
 * point in the overlap (GEOS point-on-surface of the intersection) goes there too. */
static void overlap_counted_once(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "cell.asc", "ncols 1\nnrows 1\nxllcorner 121.4306\nyllcorner 31.0126\n"
                                   "cellsize 0.001\nNODATA_value -9999\n1000\n"));
    free(tu_write(dir, "fac.csv", "id,kind,lon,lat\nF1,x,121.431098,31.013111\n"));
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "areas: {path: %s/minhang-streets.geojson, id: code9, name: name}\n"
             "facilities: {path: fac.csv, crs: EPSG:4326}\n"
             "population: {path: cell.asc, crs: EPSG:4326, id: '', x: '', y: ''}\n",
             shared);
    char *study = tu_write(dir, "study.yaml", yaml);
    fx_env r;
    run_study(&r, study);
    const cs_study *s = r.study;
    long jiangchuan = area_by_id(s, "310112001"), zhuanqiao = area_by_id(s, "310112103");
    double total = 0, by[2] = {0, 0};
    for (size_t i = 0; i < cs_study_demand_count(s); i++) {
        double pop = s->dem.pop[i * s->settings.band_count];
        total += pop;
        by[0] += s->dem.area[i] == jiangchuan ? pop : 0;
        by[1] += s->dem.area[i] == zhuanqiao ? pop : 0;
    }
    assert_true(fabs(total - 1000) < 1e-6);
    assert_true(fabs(by[0] + by[1] - 1000) < 1e-6);
    assert_true(fabs(by[0] - 501.32) < 0.5);
    assert_true(fabs(by[1] - 498.68) < 0.5);
    assert_true(s->dem.dropped_pop < 1e-6);
    /* the district's row agrees */
    cs_coverage c;
    assert_int_equal(cs_result_coverage(r.result, 0, 0, 0, cs_study_area_count(s), &c), CS_OK);
    assert_true(fabs(c.total - 1000) < 1e-6);
    /* the overlaps: 22 of them, about 0.017 km², the cell's share named */
    assert_int_equal(s->areas.overlap_count, 22);
    double m2 = 0, in_pair = -1;
    for (size_t k = 0; k < s->areas.overlap_count; k++) {
        m2 += s->areas.overlaps[k].m2;
        if (s->areas.overlaps[k].a == jiangchuan && s->areas.overlaps[k].b == zhuanqiao)
            in_pair = s->areas.overlaps[k].residents;
    }
    assert_true(fabs(m2 - 17101) < 0.02 * 17101);
    assert_true(fabs(in_pair - 27.17) < 0.5);
    assert_true(
        tu_has_message(r.ctx, "22 overlaps between areas", "江川路街道 / 颛桥镇", NULL));
    /* the facility in the overlap lies in the area the overlap's residents went to */
    assert_true(facilities_in(&r, "310112001") == 1);
    assert_true(facilities_in(&r, "310112103") == 0);
    fx_env_close(&r);
    /* `careshed check` says so, with the gaps (holes in the units' union) */
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' check study.yaml", dir, CS_CLI);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, "careshed: warning: "));
    assert_non_null(strstr(out, "22 overlaps between areas"));
    assert_non_null(strstr(out, "gaps between areas (holes in their union)"));
    assert_non_null(strstr(out, "check passed"));
    free(out);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holes_and_exclaves),
        cmocka_unit_test(bd09_points_land_in_gumei),
        cmocka_unit_test(overlap_counted_once),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
