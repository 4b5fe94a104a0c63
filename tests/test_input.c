/*
 * test_input.c — reading layers: every bad-input case the users meet gets a clear
 * error (file, feature or line, field, what to do) or warning, and odd but valid
 * inputs (no CRS, GCJ-02/BD-09, GBK Shapefiles, other formats) load correctly.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "io/csv.h"
#include "io/geojson.h"
#include "io/layer.h"
#include "io/study.h"

#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef fx_env env;

static void expect(env *e, cs_status want, ...)
{
    cs_status st = fx_env_load(e);
    if (st != want)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, want);
    assert_null(e->study);
    (void)0;
}

static void missing_file(void **state)
{
    env *e = *state;
    fx_env_set(e, "population.path", "nowhere.csv");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "nowhere.csv", "not found", "check the path", NULL));
}

static void unknown_format(void **state)
{
    env *e = *state;
    fx_env_write(e, "garbage.xyz", "\x01\x02 this is not a vector file \x03");
    fx_env_set(e, "facilities.path", "garbage.xyz");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "garbage.xyz", "cannot be read as a vector layer",
                               "ogrinfo --formats", NULL));
}

static void missing_field_lists_fields(void **state)
{
    env *e = *state;
    fx_env_set(e, "population.total", "people");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv", "no field 'people'",
                               "the fields are: x, y, pop, pop65", NULL));
}

static void text_in_number_field(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,100,10\n"
                                    "350200,3440200,12O,5\n");
    expect(e, CS_ERR_INPUT);
    /* CSV rows are named by line: the header is line 1 */
    assert_true(
        tu_has_message(e->ctx, "population.csv:3:", "'pop'", "'12O' is not a number", NULL));
}

static void empty_layer(void **state)
{
    env *e = *state;
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "facilities.csv", "layer is empty", NULL));
}

static const char bowtie[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"A0\",\"name\":\"bow\"},\"geometry\":"
    "{\"type\":\"Polygon\",\"coordinates\":[[[350000,3440000],[352000,3442000],[352000,3440000],"
    "[350000,3442000],[350000,3440000]]]}}]}\n";

static void invalid_polygon_is_repaired_with_warning(void **state)
{
    env *e = *state;
    fx_env_write(e, "areas.geojson", bowtie);
    fx_env_set(e, "far_outside_km", "50");
    cs_status st = fx_env_load(e);
    if (st != CS_OK)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, CS_OK);
    assert_true(tu_has_message(e->ctx, "warning", "areas.geojson", "feature 1 (id A0)",
                               "invalid polygon", "repaired", NULL));
    /* the bow tie's two triangles: 2 x (2000 x 1000 / 2) = 2 km² */
    assert_int_equal(cs_study_area_count(e->study), 1);
}

static void unrepairable_polygon_is_an_error(void **state)
{
    env *e = *state;
    fx_env_write(e, "areas.geojson",
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"id\":\"flat\",\"name\":\"f\"},\"geometry\":"
               "{\"type\":\"Polygon\",\"coordinates\":[[[350000,3440000],[351000,3440000],"
               "[352000,3440000],[350000,3440000]]]}}]}\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "areas.geojson", "id flat", "cannot be repaired",
                               NULL));
}

static void duplicate_ids(void **state)
{
    env *e = *state;
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF1,x,a,350100,3440100,1\n"
                                    "F2,y,a,350200,3440100,1\nF1,z,b,350300,3440100,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "facilities.csv:4:", "id F1", "duplicate id",
                               "line 2 has the same id", "facilities.id", NULL));
}

static void age_bands_must_nest(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,p60,p65,p80\n350100,3440100,100,30,40,10\n");
    fx_env_set(e, "population.bands.65+", "p65");
    fx_env_set(e, "population.bands.60+", "p60");
    fx_env_set(e, "population.bands.80+", "p80");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv:2:", "'p65'",
                               "65+ count 40 exceeds the 60+ count 30", NULL));
    assert_false(tu_has_message(e->ctx, "80+ count", NULL));
}

static void negative_and_nan_values(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,-5,0\n"
                                    "350200,3440200,100,200\n");
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF1,x,a,350100,3440100,nan\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv:2:", "'pop'", "negative value -5", NULL));
    assert_true(tu_has_message(e->ctx, "population.csv:3:", "65+ count 200 exceeds the total 100",
                               NULL));
    assert_true(tu_has_message(e->ctx, "facilities.csv:2:", "id F1", "'beds'",
                               "'nan' is not a number", NULL));
}

static void facility_outside_every_area_warns_and_serves(void **state)
{
    env *e = *state;
    /* the grid spans 2 x 2 km; F9 stands 300 m east of it, 390 m from a resident */
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF9,out,a,352300,3440500,10\n");
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n351910,3440500,100,20\n");
    cs_status st = fx_env_load(e);
    assert_int_equal(st, CS_OK);
    assert_true(tu_has_message(e->ctx, "warning", "id F9", "outside every area", "300 m",
                               "still serves", NULL));
    cs_result *r = NULL;
    assert_int_equal(cs_run(e->ctx, e->study, &r), CS_OK);
    cs_coverage c;
    assert_int_equal(cs_result_coverage(r, 0, 0, 0, CS_DISTRICT, &c), CS_OK);
    assert_true(c.covered == 100); /* 390 m from F9: within 5 minutes (400 m) */
    double n;
    /* it serves its neighbours but is not part of the district's stock */
    assert_int_equal(cs_result_facilities(r, 0, CS_DISTRICT, &n, NULL), CS_OK);
    assert_true(n == 0);
    assert_int_equal(cs_result_facilities(r, 0, 1, &n, NULL), CS_OK);
    assert_true(n == 0);
    cs_result_destroy(r);
}

static void facility_just_outside_belongs_to_nearest_area(void **state)
{
    env *e = *state;
    /* 30 m east of the grid (within the 50 m tolerance), beside area A1 (x 1-2 km, y 0-1 km) */
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF8,edge,a,352030,3440500,10\n");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_false(tu_has_message(e->ctx, "outside every area", NULL));
    cs_result *r = NULL;
    assert_int_equal(cs_run(e->ctx, e->study, &r), CS_OK);
    double n;
    assert_int_equal(cs_result_facilities(r, 0, 1, &n, NULL), CS_OK);
    assert_true(n == 1);
    cs_result_destroy(r);
}

static void no_resident_inside(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n348000,3440500,7,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv", "no demand point lies in the study area",
                               NULL));
}

static void left_out_kind_far_away_is_only_warned(void **state)
{
    env *e = *state;
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF1,x,a,350100,3440100,1\n"
                                    "F2,far,zoo,850100,3440100,1\n");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_true(tu_has_message(e->ctx, "warning", "kind 'zoo'", "left out", NULL));
    assert_int_equal(cs_study_facility_count(e->study), 1);
}

static void point_far_outside(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,10,1\n850100,3440100,10,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv:3:", "498.1 km from the study area",
                               "far_outside_km", NULL));
}

static void demand_just_outside_is_kept_or_dropped(void **state)
{
    env *e = *state;
    /* 30 m outside: within the 50 m tolerance, counted; 2 km outside: left out */
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n349970,3440500,10,1\n348000,3440500,7,1\n");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_int_equal(cs_study_demand_count(e->study), 1);
    assert_true(tu_has_message(e->ctx, "warning", "1 demand point (7 residents) lies",
                               "outside every area", "and is left out", NULL));
}

/* The shared lon/lat study (fixture.c) with facilities given as text. */
static void lonlat_study(env *e, const char *fac_csv, const char *fac_crs)
{
    fx_env_write(e, "ll-fac.csv", fac_csv);
    fx_lonlat_study(e, "ll-fac.csv", fac_crs);
}

static void swapped_lat_lon(void **state)
{
    env *e = *state;
    lonlat_study(e, "id,kind,lon,lat,beds\nF1,a,31.14,121.39,1\n", "EPSG:4326");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "ll-fac.csv", "latitude beyond", "swapped", NULL));
}

static void swapped_in_a_plausible_range(void **state)
{
    env *e = *state;
    /* both numbers are valid lon/lat, but only the swapped point is near the areas */
    fx_env_write(e, "ll-areas2.geojson",
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"id\":\"S\"},\"geometry\":"
               "{\"type\":\"Polygon\",\"coordinates\":[[[10.0,50.0],[10.1,50.0],"
               "[10.1,50.1],[10.0,50.1],[10.0,50.0]]]}}]}\n");
    lonlat_study(e, "id,kind,lon,lat,beds\nF1,a,50.05,10.05,1\n", "EPSG:4326");
    fx_env_set(e, "areas.path", "ll-areas2.geojson");
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n10.05,50.05,100\n");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "ll-fac.csv", "would fall in it with x and y exchanged",
                               "swapped", NULL));
}

static void unknown_crs(void **state)
{
    env *e = *state;
    fx_env_set(e, "facilities.crs", "EPSG:999999");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "facilities.csv", "unknown coordinate system 'EPSG:999999'",
                               "GCJ-02", NULL));
}

static void layer_without_crs(void **state)
{
    env *e = *state;
    /* lon/lat numbers and no CRS anywhere: read as WGS84, with a warning */
    lonlat_study(e, "id,kind,lon,lat,beds\nF1,a,121.395,31.145,1\n", "");
    fx_env_set(e, "population.crs", "");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_true(tu_has_message(e->ctx, "warning", "ll-pop.csv", "no coordinate system",
                               "read as WGS84", NULL));
    /* metres and no CRS: an error that says how to name one */
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n350100,3440100,100\n");
    expect(e, CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "error", "ll-pop.csv", "not longitude/latitude",
                               "population.crs", NULL));
}

static void gcj02_and_bd09_layers(void **state)
{
    env *e = *state;
    /* 古美 facility 莲花敬老院: BD-09 (121.402695, 31.160113) is WGS84 (121.3915041,
     * 31.1562316) per the shared data's conversion; GCJ-02 of that WGS84 point is the
     * BD-09 point less Baidu's own offset. Here: the study's area contains only the
     * converted point, so loading succeeds only when the shift is applied. */
    lonlat_study(e, "id,kind,lon,lat,beds\nF1,a,121.402695,31.160113,1\n", "BD-09");
    fx_env_write(e, "ll-areas.geojson",
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"id\":\"S\"},\"geometry\":"
               "{\"type\":\"Polygon\",\"coordinates\":[[[121.388,31.153],[121.395,31.153],"
               "[121.395,31.159],[121.388,31.159],[121.388,31.153]]]}}]}\n");
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n121.3915,31.1562,100\n");
    fx_env_set(e, "outside_tolerance_m", "0");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_false(tu_has_message(e->ctx, "outside every area", NULL));
    cs_result *r = NULL;
    assert_int_equal(cs_run(e->ctx, e->study, &r), CS_OK);
    double n;
    assert_int_equal(cs_result_facilities(r, 0, 0, &n, NULL), CS_OK);
    assert_true(n == 1); /* the BD-09 point landed inside the small area */
    cs_result_destroy(r);
}

/* Write a Shapefile of the two-area grid with GBK names and no .cpg. */
static void gbk_shapefile_without_cpg(void **state)
{
    env *e = *state;
    /* 闵行 and 七宝 in GBK (checked with iconv -t GBK) */
    char *areas_csv = tu_write(e->dir, "gbk.csv",
                               "WKT,code,name\n"
                               "\"POLYGON((350000 3440000,351000 3440000,351000 3441000,350000 "
                               "3441000,350000 3440000))\",A0,\xe3\xc9\xd0\xd0\n"
                               "\"POLYGON((351000 3440000,352000 3440000,352000 3441000,351000 "
                               "3441000,351000 3440000))\",A1,\xc6\xdf\xb1\xa6\n");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ogr2ogr -q -f 'ESRI Shapefile' -oo ENCODING='' -lco ENCODING='' "
             "-a_srs EPSG:32651 gbk.shp gbk.csv && rm -f gbk.cpg", e->dir);
    if (tu_run(cmd, NULL) != 0) {
        free(areas_csv);
        skip();
    }
    free(areas_csv);
    fx_env_set(e, "areas.path", "gbk.shp");
    fx_env_set(e, "areas.id", "code");
    fx_env_set(e, "areas.crs", "");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_string_equal(cs_study_area_name(e->study, 0), "闵行");
    assert_string_equal(cs_study_area_name(e->study, 1), "七宝");
    assert_true(tu_has_message(e->ctx, "warning", "gbk.shp", "GBK", NULL));
    /* naming the encoding gives the same names without a warning */
    cs_context_clear_messages(e->ctx);
    fx_env_set(e, "areas.encoding", "CP936");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_string_equal(cs_study_area_name(e->study, 0), "闵行");
    assert_false(tu_has_message(e->ctx, "GBK", NULL));
}

/* ------------------------------------------------------------- text encodings */

/* The fixture's facilities with names word0, word1 ... and kinds kinds[0] / kinds[1],
 * as UTF-8, then turned into encoding enc with iconv (independent of careshed) into
 * name; the study reads them with the kinds matched by those words. Skips when iconv
 * is missing or cannot write the text in enc. */
static void write_facilities_in(env *e, const char *name, const char *enc, const char *word,
                                const char *const kinds[2], bool chinese_header)
{
    char utf8_name[64];
    snprintf(utf8_name, sizeof utf8_name, "%s.utf8", name);
    char *path = tu_join(e->dir, utf8_name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(chinese_header ? "编号,名称,类型,x,y,beds\n" : "id,name,kind,x,y,beds\n", f);
    for (size_t i = 0; i < e->d.nfac; i++)
        fprintf(f, "F%zu,%s%zu,%s,%.2f,%.2f,%.0f\n", i, word, i, kinds[e->d.fkind[i]],
                e->d.fx[i], e->d.fy[i], e->d.fbeds[i]);
    fclose(f);
    free(path);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && iconv -f UTF-8 -t %s %s > %s", e->dir, enc,
             utf8_name, name);
    if (tu_run(cmd, NULL) != 0)
        skip();
    fx_env_set(e, "facilities.path", name);
    fx_env_set(e, "kinds.a.match", kinds[0]);
    fx_env_set(e, "kinds.b.match", kinds[1]);
    if (chinese_header) {
        fx_env_set(e, "facilities.id", "编号");
        fx_env_set(e, "facilities.name", "名称");
        fx_env_set(e, "facilities.kind", "类型");
    }
}

/* Every facility is kept, with the name and kind it was written with in UTF-8. */
static void expect_facilities_as_written(env *e, const char *word)
{
    assert_int_equal(fx_env_load(e), CS_OK);
    const cs_study *s = e->study;
    assert_int_equal(cs_study_facility_count(s), e->d.nfac);
    for (size_t i = 0; i < e->d.nfac; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s%zu", word, i);
        assert_string_equal(s->fac.name[i], want);
        assert_int_equal(s->fac.kind[i], e->d.fkind[i]);
    }
}

static const char *const kinds_gbk[2] = {"中心", "助餐点"};

/* A GBK table with facilities.encoding: GBK: read as written, no warning. GDAL has no
 * encoding option for CSV, so the key was ignored and every facility dropped. */
static void gbk_csv_with_declared_encoding(void **state)
{
    env *e = *state;
    write_facilities_in(e, "f-gbk.csv", "GBK", "设施", kinds_gbk, false);
    fx_env_set(e, "facilities.encoding", "GBK");
    expect_facilities_as_written(e, "设施");
    assert_false(tu_has_message(e->ctx, "not UTF-8", NULL));
}

/* Declared UTF-8 (facilities.encoding: UTF-8), Chinese names and field names in UTF-8
 * are read as written: the key checks the text, it does not refuse it. */
static void utf8_declared_reads_chinese(void **state)
{
    env *e = *state;
    write_facilities_in(e, "f-utf8.csv", "UTF-8", "设施", kinds_gbk, true);
    fx_env_set(e, "facilities.encoding", "UTF-8");
    expect_facilities_as_written(e, "设施");
    assert_int_equal(cs_context_message_count(e->ctx), 0);
}

/* Undeclared: the text is not UTF-8, GB18030 reads it all; one warning names the file,
 * the encoding and the key. Field names in GBK are found too. */
static void gbk_csv_detected_with_warning(void **state)
{
    env *e = *state;
    write_facilities_in(e, "f-gbk.csv", "GBK", "设施", kinds_gbk, true);
    expect_facilities_as_written(e, "设施");
    assert_true(tu_has_message(e->ctx, "warning", "f-gbk.csv", "not UTF-8", "GB18030",
                               "facilities.encoding", NULL));
}

/* GBK text that happens to be valid UTF-8 (住宅路 in GBK is d7a1 d5ac c2b7, which UTF-8
 * reads as Hebrew, Armenian and a middle dot) in a GBK table without a declared
 * encoding: read as GBK like the rest of the table, the first name before any text
 * that is not UTF-8; and so Big5 text in a Big5 table. Names in UTF-8 of the same two-byte kind (Latin-1, Cyrillic), in a
 * UTF-8 table, stay as they are, with nothing said: the table's text, in no defined
 * encoding, is scanned once; the same names in a GeoJSON, UTF-8 by definition, are not
 * scanned for. */
static void gbk_text_valid_as_utf8(void **state)
{
    env *e = *state;
    write_facilities_in(e, "f-gbk.csv", "GBK", "住宅路", kinds_gbk, false);
    char *path = tu_join(e->dir, "f-gbk.csv"), *raw = tu_read(path, NULL);
    free(path);
    const char gbk[] = "\xd7\xa1\xd5\xac\xc2\xb7"; /* 住宅路, by iconv above */
    assert_non_null(strstr(raw, gbk));
    free(raw);
    expect_facilities_as_written(e, "住宅路");
    assert_true(tu_has_message(e->ctx, "warning", "f-gbk.csv", "not UTF-8", "GB18030", NULL));
    /* Big5 too: 簡禮 is c2b2 c2a7, "²§" as UTF-8 */
    static const char *const kinds_big5[2] = {"綜合服務中心", "長者飯堂"};
    cs_context_clear_messages(e->ctx);
    write_facilities_in(e, "f-big5.csv", "BIG5", "簡禮", kinds_big5, false);
    path = tu_join(e->dir, "f-big5.csv");
    raw = tu_read(path, NULL);
    free(path);
    assert_non_null(strstr(raw, "\xc2\xb2\xc2\xa7"));
    free(raw);
    expect_facilities_as_written(e, "簡禮");
    assert_true(tu_has_message(e->ctx, "warning", "f-big5.csv", "Big5", NULL));
    const char *const words[] = {"Café", "Дом"};
    for (size_t w = 0; w < 2; w++) {
        cs_context_clear_messages(e->ctx);
        write_facilities_in(e, "f-utf8.csv", "UTF-8", words[w], kinds_gbk, false);
        size_t scans = cs_layer_scans();
        expect_facilities_as_written(e, words[w]);
        assert_int_equal(cs_layer_scans() - scans, 1);
        assert_int_equal(cs_context_message_count(e->ctx), 0);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "cd '%s' && rm -f f.geojson && ogr2ogr -f GeoJSON f.geojson "
                 "f-utf8.csv -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y", e->dir);
        assert_int_equal(tu_run(cmd, NULL), 0);
        fx_env_set(e, "facilities.path", "f.geojson");
        scans = cs_layer_scans();
        expect_facilities_as_written(e, words[w]);
        assert_int_equal(cs_layer_scans(), scans);
        assert_int_equal(cs_context_message_count(e->ctx), 0);
    }
}

/* A GeoJSON with GBK names (not valid GeoJSON, but common): the street names come out
 * as written, with a warning naming areas.encoding. */
static void gbk_geojson_detected(void **state)
{
    env *e = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && iconv -f UTF-8 -t GBK areas.geojson > a-gbk.geojson",
             e->dir);
    if (tu_run(cmd, NULL) != 0)
        skip();
    fx_env_set(e, "areas.path", "a-gbk.geojson");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_int_equal(cs_study_area_count(e->study), e->d.gx * e->d.gy);
    for (size_t a = 0; a < cs_study_area_count(e->study); a++) {
        char want[32];
        snprintf(want, sizeof want, "区%zu", a); /* as fx_write names them */
        assert_string_equal(cs_study_area_name(e->study, a), want);
    }
    assert_true(tu_has_message(e->ctx, "warning", "a-gbk.geojson", "GB18030",
                               "areas.encoding", NULL));
}

/* Big5 (traditional characters): chosen over GB18030, which reads Big5 bytes too but
 * as kana, Greek and private-use characters. Declared, it reads the same. */
static void big5_csv_detected_and_declared(void **state)
{
    env *e = *state;
    static const char *const kinds[2] = {"綜合服務中心", "長者飯堂"};
    write_facilities_in(e, "f-big5.csv", "BIG5", "養老設施", kinds, false);
    expect_facilities_as_written(e, "養老設施");
    assert_true(tu_has_message(e->ctx, "warning", "f-big5.csv", "Big5", "facilities.encoding",
                               NULL));
    cs_context_clear_messages(e->ctx);
    fx_env_set(e, "facilities.encoding", "BIG5");
    expect_facilities_as_written(e, "養老設施");
    assert_false(tu_has_message(e->ctx, "not UTF-8", NULL));
}

/* GB18030 proper: a name with a character GBK lacks, written in four bytes (U+20000). */
static void gb18030_four_byte_characters(void **state)
{
    env *e = *state;
    write_facilities_in(e, "f-gb18030.csv", "GB18030", "𠀀院", kinds_gbk, false);
    char *path = tu_join(e->dir, "f-gb18030.csv");
    size_t len = 0;
    char *text = tu_read(path, &len);
    free(path);
    /* U+20000 by GB18030's four-byte rule: 0x90308130 + 0x10000 steps */
    assert_non_null(strstr(text, "\x95\x32\x82\x36"));
    free(text);
    expect_facilities_as_written(e, "𠀀院");
    assert_true(tu_has_message(e->ctx, "warning", "GB18030", NULL));
}

/* A Shapefile in Big5 without .cpg: chosen like any layer's text (it was read as GBK). */
static void big5_shapefile_without_cpg(void **state)
{
    env *e = *state;
    /* 閔行 and 七寶 in Big5 (checked with iconv -t BIG5) */
    char *areas_csv = tu_write(e->dir, "b5.csv",
                               "WKT,code,name\n"
                               "\"POLYGON((350000 3440000,351000 3440000,351000 3441000,350000 "
                               "3441000,350000 3440000))\",A0,\xb6\x7b\xa6\xe6\n"
                               "\"POLYGON((351000 3440000,352000 3440000,352000 3441000,351000 "
                               "3441000,351000 3440000))\",A1,\xa4\x43\xc4\x5f\n");
    free(areas_csv);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ogr2ogr -q -f 'ESRI Shapefile' -oo ENCODING='' -lco ENCODING='' "
             "-a_srs EPSG:32651 b5.shp b5.csv && rm -f b5.cpg", e->dir);
    if (tu_run(cmd, NULL) != 0)
        skip();
    fx_env_set(e, "areas.path", "b5.shp");
    fx_env_set(e, "areas.id", "code");
    fx_env_set(e, "areas.crs", "");
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_string_equal(cs_study_area_name(e->study, 0), "閔行");
    assert_string_equal(cs_study_area_name(e->study, 1), "七寶");
    assert_true(tu_has_message(e->ctx, "warning", "b5.shp", "Big5", "areas.encoding", NULL));
}

/* A study file saved in GBK is read, with a warning; its Chinese names come through. */
static void study_file_in_gbk(void **state)
{
    env *e = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && iconv -f UTF-8 -t GBK study.yaml > study-gbk.yaml",
             e->dir);
    if (tu_run(cmd, NULL) != 0)
        skip();
    char *path = tu_join(e->dir, "study-gbk.yaml");
    cs_config_destroy(e->cfg);
    assert_int_equal(cs_config_create(e->ctx, &e->cfg), CS_OK);
    assert_int_equal(cs_config_load(e->ctx, e->cfg, path), CS_OK);
    free(path);
    assert_true(tu_has_message(e->ctx, "warning", "study-gbk.yaml", "not UTF-8", "GB18030",
                               NULL));
    assert_int_equal(fx_env_load(e), CS_OK);
    assert_string_equal(cs_study_kind_name(e->study, 0), "中心"); /* as fx_write has it */
    assert_string_equal(cs_study_kind_name(e->study, 1), "助餐点");
}

/* Text no candidate reads (0x80 and 0xFF are not in GBK, GB18030 or Big5) is an error
 * naming the file, the line and the field and the key to set; text that is not in a
 * declared encoding too. Nothing is loaded. */
static void unconvertible_text_is_an_error(void **state)
{
    env *e = *state;
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF0,ok,a,350100,3440100,1\n"
                                    "F1,bad\x80\xff,a,350200,3440200,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "facilities.csv:3:", "'name'", "not UTF-8",
                               "GB18030", "Big5", "facilities.encoding", NULL));
    /* declared: 0x81 0x20 is a GBK lead byte with no trail */
    cs_context_clear_messages(e->ctx);
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF0,ok,a,350100,3440100,1\n"
                                    "F1,a\x81 b,a,350200,3440200,1\n");
    fx_env_set(e, "facilities.encoding", "GBK");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "facilities.csv:3:", "'name'",
                               "not valid GBK", "facilities.encoding", NULL));
    /* declared UTF-8: no guessing */
    cs_context_clear_messages(e->ctx);
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF0,\xd6\xd0,a,350100,3440100,1\n");
    fx_env_set(e, "facilities.encoding", "UTF-8");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "facilities.csv:2:", "'name'", "not UTF-8",
                               NULL));
}

/* The fixture's streets as KML (ogr2ogr) with their UTF-8 text turned into enc by
 * iconv and the declaration's encoding set to `declared` (sed), into name; the study
 * reads them. Skips when a tool is missing. */
static void write_areas_kml(env *e, const char *name, const char *enc, const char *declared)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ogr2ogr -q -f KML -s_srs EPSG:32651 -t_srs EPSG:4326 from.kml "
             "areas.geojson && iconv -f UTF-8 -t %s from.kml | "
             "sed '1s/encoding=\"utf-8\"/encoding=\"%s\"/' > %s && rm from.kml",
             e->dir, enc, declared, name);
    if (tu_run(cmd, NULL) != 0)
        skip();
    fx_env_set(e, "areas.path", name);
    fx_env_set(e, "areas.crs", "");
}

static void expect_area_names_as_written(env *e)
{
    cs_status st = fx_env_load(e);
    if (st != CS_OK)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, CS_OK);
    assert_int_equal(cs_study_area_count(e->study), e->d.gx * e->d.gy);
    for (size_t a = 0; a < cs_study_area_count(e->study); a++) {
        char want[32];
        snprintf(want, sizeof want, "区%zu", a); /* as fx_write names them */
        assert_string_equal(cs_study_area_name(e->study, a), want);
    }
}

/* KML in GBK, which GDAL's reader refuses ("unknown encoding"): declared GBK or
 * GB2312, declared UTF-8 with GBK bytes (GB18030 chosen), or undeclared with
 * areas.encoding: GBK, the names come out as written, and the file is untouched. */
static void gbk_kml(void **state)
{
    env *e = *state;
    write_areas_kml(e, "a-gbk.kml", "GBK", "GBK");
    char *path = tu_join(e->dir, "a-gbk.kml");
    size_t before_len = 0, after_len = 0;
    char *before = tu_read(path, &before_len);
    expect_area_names_as_written(e);
    char *after = tu_read(path, &after_len);
    assert_true(before_len == after_len && !memcmp(before, after, before_len));
    free(before);
    free(after);
    free(path);
    write_areas_kml(e, "a-gb2312.kml", "GBK", "GB2312");
    expect_area_names_as_written(e);
    write_areas_kml(e, "a-lies.kml", "GBK", "utf-8");
    expect_area_names_as_written(e);
    write_areas_kml(e, "a-gbk.kml", "GBK", "GBK");
    fx_env_set(e, "areas.encoding", "GBK");
    expect_area_names_as_written(e);
    /* UTF-8 KML is read as it is, declared or set */
    write_areas_kml(e, "a-plain.kml", "UTF-8", "utf-8");
    fx_env_set(e, "areas.encoding", "UTF-8");
    expect_area_names_as_written(e);
}

/* A KML whose text does not convert: declared in an encoding iconv does not know, or
 * with a byte GBK has no character for (0x81 then a space), the error names the file,
 * the line and the key to set. */
static void unreadable_kml_is_an_error(void **state)
{
    env *e = *state;
    write_areas_kml(e, "a-bad.kml", "GBK", "X-NO-SUCH");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "a-bad.kml", "unknown encoding 'X-NO-SUCH'",
                               "declaration", "areas.encoding", NULL));
    cs_context_clear_messages(e->ctx);
    char *path = tu_join(e->dir, "a-broken.kml");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("<?xml version=\"1.0\" encoding=\"GBK\"?>\n<kml>\n<Document>\n"
          "<Placemark><name>a\x81 b</name></Placemark>\n</Document></kml>\n", f);
    fclose(f);
    free(path);
    fx_env_set(e, "areas.path", "a-broken.kml");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "error", "a-broken.kml:4:", "not valid GBK",
                               "areas.encoding", NULL));
}

/* The same study read from other formats gives the same coverage. */
static void other_formats_give_same_results(void **state)
{
    env *e = *state;
    assert_int_equal(fx_env_load(e), CS_OK);
    cs_result *base = NULL;
    assert_int_equal(cs_run(e->ctx, e->study, &base), CS_OK);
    cs_coverage want;
    assert_int_equal(cs_result_coverage(base, 0, 1, 1, CS_DISTRICT, &want), CS_OK);
    cs_result_destroy(base); /* it borrows the study, which the next load replaces */
    const struct {
        const char *driver, *ext, *srs;
    } formats[] = {
        {"GPKG", "gpkg", "EPSG:32651"},
        {"ESRI Shapefile", "shp", "EPSG:32651"},
        {"FlatGeobuf", "fgb", "EPSG:32651"},
        {"KML", "kml", "EPSG:4326"},
        {"GeoJSON", "geojson", "EPSG:4326"},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char cmd[2048];
        const char *layers[] = {"areas.geojson", "facilities.csv", "population.csv"};
        const char *roles[] = {"areas", "facilities", "population"};
        for (int l = 0; l < 3; l++) {
            const char *oo = l ? "-oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y" : "";
            snprintf(cmd, sizeof cmd,
                     "cd '%s' && rm -rf conv-%s.%s && ogr2ogr -q -f '%s' %s -s_srs EPSG:32651 "
                     "-t_srs %s conv-%s.%s %s",
                     e->dir, roles[l], formats[i].ext, formats[i].driver, oo, formats[i].srs,
                     roles[l], formats[i].ext, layers[l]);
            assert_int_equal(tu_run(cmd, NULL), 0);
            char key[64], value[64];
            snprintf(key, sizeof key, "%s.path", roles[l]);
            snprintf(value, sizeof value, "conv-%s.%s", roles[l], formats[i].ext);
            fx_env_set(e, key, value);
            snprintf(key, sizeof key, "%s.crs", roles[l]);
            fx_env_set(e, key, ""); /* from the file */
            if (l) {
                snprintf(key, sizeof key, "%s.x", roles[l]);
                fx_env_set(e, key, "");
                snprintf(key, sizeof key, "%s.y", roles[l]);
                fx_env_set(e, key, "");
            }
        }
        cs_status st = fx_env_load(e);
        if (st != CS_OK)
            tu_dump_messages(e->ctx);
        assert_int_equal(st, CS_OK);
        cs_result *r = NULL;
        assert_int_equal(cs_run(e->ctx, e->study, &r), CS_OK);
        cs_coverage got;
        assert_int_equal(cs_result_coverage(r, 0, 1, 1, CS_DISTRICT, &got), CS_OK);
        assert_true(got.covered == want.covered && got.total == want.total);
        assert_int_equal(cs_study_facility_count(e->study), e->d.nfac);
        cs_result_destroy(r);
    }
}

static void every_problem_is_reported(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,-1,0\n350100,3440100,x,0\n"
                                    "350100,3440100,5,9\n");
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF1,a,a,350100,3440100,-3\n"
                                    "F1,b,a,350100,3440100,1\n");
    expect(e, CS_ERR_INPUT);
    /* three population rows and two facility problems: all five reported */
    assert_true(cs_context_error_count(e->ctx) >= 5);
    assert_true(tu_has_message(e->ctx, "population.csv:2:", NULL));
    assert_true(tu_has_message(e->ctx, "population.csv:3:", NULL));
    assert_true(tu_has_message(e->ctx, "population.csv:4:", NULL));
    assert_true(tu_has_message(e->ctx, "facilities.csv:2:", "negative", NULL));
    assert_true(tu_has_message(e->ctx, "duplicate id", NULL));
}

/* How many messages hold needle. */
static size_t count_messages(const cs_context *ctx, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        char text[2048];
        cs_message_format(cs_context_get_message(ctx, i), text, sizeof text);
        n += strstr(text, needle) != NULL;
    }
    return n;
}

static void many_bad_rows_are_summarised(void **state)
{
    env *e = *state;
    char *text = malloc(200 * 40 + 64);
    strcpy(text, "x,y,pop,pop65\n");
    for (int i = 0; i < 200; i++)
        strcat(text, "350100,3440100,-1,0\n");
    fx_env_write(e, "population.csv", text);
    free(text);
    expect(e, CS_ERR_INPUT);
    /* every row is counted; 5 are listed, then one line counts the other 195 */
    assert_int_equal(cs_context_error_count(e->ctx), 200);
    assert_int_equal(cs_context_message_count(e->ctx), 6);
    assert_int_equal(count_messages(e->ctx, "'pop': negative value -1"), 5);
    assert_true(tu_has_message(e->ctx, "population.csv:6:", "negative value -1", NULL));
    assert_false(tu_has_message(e->ctx, "population.csv:7:", NULL));
    const cs_message *last = cs_context_get_message(e->ctx, 5);
    assert_int_equal(last->severity, CS_SEVERITY_WARNING);
    assert_string_equal(last->field, "pop");
    assert_true(tu_has_message(e->ctx, "population.csv: 'pop': ... and 195 more errors like the "
                               "ones above, not listed", "fix the ones above", NULL));
}

/* A population file of 3,000 rows without its total column: one error, for the column,
 * not one more per row for each age band "exceeding" a total of 0. */
static void missing_column_is_one_error(void **state)
{
    env *e = *state;
    char *text = malloc(3000 * 24 + 64);
    strcpy(text, "x,y,pop65\n");
    char *end = text + strlen(text);
    for (int i = 0; i < 3000; i++)
        end += sprintf(end, "350100,3440100,2\n");
    fx_env_write(e, "population.csv", text);
    free(text);
    expect(e, CS_ERR_INPUT);
    assert_int_equal(cs_context_error_count(e->ctx), 1);
    assert_int_equal(cs_context_message_count(e->ctx), 1);
    assert_true(tu_has_message(e->ctx, "population.csv", "no field 'pop' (population.total)",
                               "set population.total", NULL));
}

/* Two problems on every one of 3,000 rows (a total that is not a number, a negative
 * band): both kinds are listed 5 times and counted, and a bad band is not then also
 * compared with the total or another band. */
static void repeated_errors_are_listed_a_few_times_each(void **state)
{
    env *e = *state;
    char *text = malloc(3000 * 32 + 64);
    strcpy(text, "x,y,pop,pop65\n");
    char *end = text + strlen(text);
    for (int i = 0; i < 3000; i++)
        end += sprintf(end, "350100,3440100,x%d,-%d\n", i + 1, i + 1);
    fx_env_write(e, "population.csv", text);
    free(text);
    expect(e, CS_ERR_INPUT);
    assert_int_equal(cs_context_error_count(e->ctx), 6000);
    assert_int_equal(cs_context_message_count(e->ctx), 12);
    assert_int_equal(count_messages(e->ctx, "is not a number"), 5);
    assert_int_equal(count_messages(e->ctx, "negative value"), 5);
    assert_true(tu_has_message(e->ctx, "population.csv:2:", "'pop': 'x1' is not a number", NULL));
    assert_true(tu_has_message(e->ctx, "population.csv:6:", "'pop65': negative value -5", NULL));
    assert_true(tu_has_message(e->ctx, "'pop': ... and 2,995 more errors like the ones above",
                               NULL));
    assert_true(tu_has_message(e->ctx, "'pop65': ... and 2,995 more errors like the ones above",
                               NULL));
    assert_false(tu_has_message(e->ctx, "exceeds", NULL));
}


/* ------------------------------------------- plain CSV tables read past GDAL */

/* Open path as role for reading both ways (through GDAL's features or not) into *ctx,
 * noting the status in out; the layer, NULL when it did not open. */
static cs_layer *open_reading(const char *path, bool through_gdal, const char *role,
                              bool want_points, cs_context **ctx, cs_buf *out)
{
    assert_int_equal(cs_context_create(ctx), CS_OK);
    cs_layer_read_through_features(through_gdal);
    cs_layer_config lc = {.path = (char *)path};
    cs_layer *l = NULL;
    cs_buf_init(out);
    cs_status st = cs_layer_open(*ctx, &lc, role, path, want_points, &l);
    cs_buf_printf(out, "open %d\n", (int)st);
    return l;
}

/* Each field's text and number, with their statuses, into out. */
static void note_fields(cs_context *ctx, cs_layer *l, cs_buf *out)
{
    for (int i = 0; i < cs_layer_field_count(l); i++) {
        double v = -1;
        cs_status nst = cs_layer_number(ctx, l, i, NULL, -2, true, &v);
        cs_buf_printf(out, " %s='%s' %d %a;", cs_layer_field_name(l, i), cs_layer_text(l, i),
                      (int)nst, v);
    }
}

/* The end of a reading: its status into out, which reader read it (16 bytes), the
 * layer and context closed; out's text. */
static char *end_reading(cs_context *ctx, cs_layer *l, cs_buf *out, char *reader)
{
    if (l)
        cs_buf_printf(out, "end %d\n", (int)cs_layer_read_status(l));
    snprintf(reader, 16, "%s", l ? cs_layer_reader(l) : "");
    cs_layer_close(l);
    cs_layer_read_through_features(false);
    cs_context_destroy(ctx);
    assert_false(out->failed);
    return out->data;
}

/* Everything a point layer gives of path, row by row (its number, each field's text
 * and number, the point, with the messages' count), as text to compare two readings;
 * *last_line: the line cs_layer_where gives the last row; reader: which reader read it
 * (16 bytes); last_message: the last message (512 bytes); *rows_hint: the layer's
 * cs_layer_rows_hint. */
static char *read_table(const char *path, bool through_gdal, long *last_line, char *reader,
                        char *last_message, size_t *rows_hint)
{
    cs_context *ctx = NULL;
    cs_buf out;
    cs_layer *l = open_reading(path, through_gdal, "population", true, &ctx, &out);
    *rows_hint = l ? cs_layer_rows_hint(l) : 0;
    long number;
    *last_line = 0;
    while (l && cs_layer_next(l, &number)) {
        cs_buf_printf(&out, "row %ld:", number);
        note_fields(ctx, l, &out);
        double x = 0, y = 0;
        cs_status pst = cs_layer_point(ctx, l, NULL, &x, &y);
        cs_buf_printf(&out, " point %d %a %a; messages %zu\n", (int)pst, x, y,
                      cs_context_message_count(ctx));
        *last_line = cs_layer_where(l, NULL, NULL).line;
    }
    size_t count = cs_context_message_count(ctx);
    snprintf(last_message, 512, "%s", "");
    if (count)
        cs_message_format(cs_context_get_message(ctx, count - 1), last_message, 512);
    return end_reading(ctx, l, &out, reader);
}

/*
 * A plain CSV table (commas, no quote, ASCII) is read by careshed's own line reader:
 * every value, number, point and message must be what GDAL's CSV driver gives, for
 * rows short and long, empty values, spaces, CRLF, a byte order mark, odd numbers and
 * a file of many blocks. Tables GDAL reads otherwise (semicolons, renamed columns)
 * stay with GDAL. Each case has an empty line before its last row: GDAL skips it and
 * numbers rows as if it were not there, the line reader names the row's real line
 * (which shows which reader read it).
 */
static void plain_csv_reads_as_gdal_reads_it(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    /* many rows, over several of the reader's 1 MB blocks */
    cs_buf big;
    cs_buf_init(&big);
    cs_buf_add(&big, "id,lon,lat,pop\n");
    uint64_t rng = 7;
    for (int i = 0; i < 60000; i++)
        cs_buf_printf(&big, "P%d,%.6f,%.*f,%d\n", i, 121 + tu_rng_unit(&rng),
                      (int)(tu_rng_next(&rng) % 12), 31 + tu_rng_unit(&rng),
                      (int)(tu_rng_next(&rng) % 50));
    cs_buf_add(&big, "\nlast,121.5,31.5,3\n");
    /* one row of 2.5 MB (a long id) */
    size_t long_len = 2500000;
    char *long_id = malloc(long_len + 1);
    assert_non_null(long_id);
    memset(long_id, 'x', long_len);
    long_id[long_len] = '\0';
    cs_buf longer;
    cs_buf_init(&longer);
    cs_buf_printf(&longer, "id,lon,lat,pop\n%s,121.1,31.2,5\n\n2,121.2,31.3,7\n", long_id);
    free(long_id);
    assert_false(big.failed || longer.failed);
    const struct {
        const char *text;
        int plain; /* 1: read past GDAL, 0: by GDAL, -1: either */
        long last_line; /* of the last row, when read past GDAL */
    } cases[] = {
        {"id,lon,lat,pop\n1,121.1,31.2,5\n\n2,121.2,31.3,7\n", 1, 4},
        {"\xEF\xBB\xBFid,lon,lat,pop\r\n1,121.1,31.2,5\r\n\r\n2,121.2,31.3,7\r\n", 1, 4},
        {"id,lon,lat,pop\n1,121.1,31.2\n2,121.2\n\n3,121.3,31.3,5,9,9\n", 1, 5},
        {"id,lon,lat,pop\n 1 , 121.1,31.2 , \n,121,31,\n\n4,121, 31 ,+3\n", 1, 5},
        {"id,lon,lat,pop\n1,121.1,31.2,5\n\n2,121.2,31.3,7", 1, 4},
        {"id,lon,lat,pop\n1,121.100000000000001,31.2,1e3\n2,121.2,31.3,-0\n3,121,31,.5\n"
         "4,121,31,5.\n5,121,31,0x10\n6,121,31,nan\n7,1.2.3,31,1\n8,121,31,0012.50\n"
         "9,121,31,123456789012345\n10,-121.987654321012,31,1234567890123456\n"
         "\n11,121,31,99999999999999999999\n", 1, 13},
        {"id,lon,lat,pop\n1,121.1,31.2,5\n\n2,-200,31.3,7\n", 1, 4},
        {"id;lon;lat;pop\n1;121,1;31,2;5\n\n2;121;31;7\n", 0, 0},
        {"id,lon,lat,\n1,121.1,31.2,5\n\n2,121.2,31.3,7\n", 0, 0},
        {"id,lon,lat,pop,pop\n1,121.1,31.2,5,6\n\n2,121.2,31.3,7,8\n", -1, 0},
        {big.data, 1, 60003},
        {longer.data, 1, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu.csv", c);
        char *path = tu_write(dir, name, cases[c].text);
        long ours_line, gdal_line;
        char ours_reader[16], gdal_reader[16];
        char message[512];
        size_t ours_hint, gdal_hint;
        char *ours = read_table(path, false, &ours_line, ours_reader, message, &ours_hint);
        char *gdal = read_table(path, true, &gdal_line, gdal_reader, message, &gdal_hint);
        assert_string_equal(gdal_reader, "features");
        if (cases[c].plain >= 0)
            assert_string_equal(ours_reader, cases[c].plain ? "lines" : "features");
        if (strcmp(ours, gdal)) {
            size_t at = 0;
            while (ours[at] == gdal[at])
                at++;
            fail_msg("case %zu differs at byte %zu:\nours: %.300s\nGDAL: %.300s", c, at,
                     ours + (at > 100 ? at - 100 : 0), gdal + (at > 100 ? at - 100 : 0));
        }
        assert_true(strstr(ours, "row ") != NULL); /* rows were read */
        if (cases[c].plain == 1) {
            if (ours_line != cases[c].last_line)
                fail_msg("case %zu: last row on line %ld, not %ld", c, ours_line,
                         cases[c].last_line);
            assert_int_equal(gdal_line, cases[c].last_line - 1);
            /* the lines after the header (the empty one included), whoever reads them */
            assert_int_equal(ours_hint, cases[c].last_line - 1);
            assert_int_equal(gdal_hint, cases[c].last_line - 1);
        } else if (cases[c].plain == 0) {
            assert_int_equal(ours_line, gdal_line);
        }
        cs_free(ours);
        cs_free(gdal);
        free(path);
    }
    cs_buf_free(&big);
    cs_buf_free(&longer);
    tu_rmtree(dir);
    free(dir);
}

/* A point layer of path in format driver, with a feature per row of rows[] (WKT, or
 * NULL for none) and its fields id (integer), name (text), pop (real), pop60 (64-bit
 * integer), some of them null. */
static void write_points(const char *path, const char *driver, const char *const *wkt,
                         size_t n)
{
    GDALDriverH drv = GDALGetDriverByName(driver);
    assert_non_null(drv);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    OGRLayerH layer = GDALDatasetCreateLayer(ds, "population", srs, wkbPoint, NULL);
    assert_non_null(layer);
    const struct {
        const char *name;
        OGRFieldType type;
    } fields[] = {{"id", OFTInteger}, {"name", OFTString}, {"pop", OFTReal},
                  {"pop60", OFTInteger64}};
    for (size_t f = 0; f < 4; f++) {
        OGRFieldDefnH fd = OGR_Fld_Create(fields[f].name, fields[f].type);
        assert_int_equal(OGR_L_CreateField(layer, fd, 1), OGRERR_NONE);
        OGR_Fld_Destroy(fd);
    }
    static const char *const names[] = {"闵行", "plain", "", "a,b \"c\""};
    for (size_t i = 0; i < n; i++) {
        OGRFeatureH ft = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        OGR_F_SetFieldInteger(ft, 0, (int)i + 1);
        if (i % 5 != 3)
            OGR_F_SetFieldString(ft, 1, names[i % 4]);
        if (i % 7 != 2)
            OGR_F_SetFieldDouble(ft, 2, i % 3 == 0 ? 12.5 + (double)i : -1.25 * (double)i);
        if (i % 6 != 5)
            OGR_F_SetFieldInteger64(ft, 3, (GIntBig)i * 1000003);
        if (wkt[i]) {
            OGRGeometryH g = NULL;
            char *text = (char *)wkt[i];
            assert_int_equal(OGR_G_CreateFromWkt(&text, srs, &g), OGRERR_NONE);
            OGR_F_SetGeometryDirectly(ft, g);
        }
        assert_int_equal(OGR_L_CreateFeature(layer, ft), OGRERR_NONE);
        OGR_F_Destroy(ft);
    }
    OSRDestroySpatialReference(srs);
    GDALClose(ds);
}

/* Cut the file at path to its first 60%, as a copy broken off would be. */
static void cut_short(const char *path)
{
    size_t len;
    char *bytes = tu_read(path, &len);
    assert_non_null(bytes);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len * 6 / 10, f), len * 6 / 10);
    fclose(f);
    free(bytes);
}

/*
 * GeoPackage and FlatGeobuf layers of points are read through GDAL's Arrow stream: every
 * value, number, point and message must be what GDAL's features give, for nulls, text,
 * reals, 64-bit integers, empty and missing geometries, multipoints of one and of two
 * points, 3D points and coordinates out of range, over several of the stream's batches.
 */
static void arrow_stream_reads_as_features_read(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    static const char *const odd[] = {"POINT (121.4 31.1)", NULL, "POINT EMPTY",
                                      "MULTIPOINT ((121.5 31.2))",
                                      "MULTIPOINT ((121.5 31.2),(121.6 31.3))",
                                      "POINT Z (121.45 31.15 7)", "POINT (200 31)",
                                      "POINT (121.123456789012 30.987654321098)"};
    size_t n = 70000; /* two batches and some */
    const char **wkt = calloc(n, sizeof *wkt);
    char (*made)[64] = calloc(n, sizeof *made);
    assert_true(wkt && made);
    for (size_t i = 0; i < n; i++) {
        if (i < sizeof odd / sizeof odd[0]) {
            wkt[i] = odd[i];
            continue;
        }
        snprintf(made[i], sizeof made[i], "POINT (%.6f %.6f)", 121 + (double)(i % 997) / 1e4,
                 31 + (double)(i % 991) / 1e4);
        wkt[i] = made[i];
    }
    const char *drivers[][2] = {{"GPKG", "p.gpkg"}, {"FlatGeobuf", "p.fgb"}};
    for (size_t d = 0; d < 2; d++) {
        char *path = tu_join(dir, drivers[d][1]);
        /* FlatGeobuf takes only the layer's type: no multipoints there */
        if (d == 1) {
            wkt[3] = "POINT (121.5 31.2)";
            wkt[4] = "POINT (121.6 31.3)";
            wkt[5] = "POINT (121.45 31.15)";
        }
        write_points(path, drivers[d][0], wkt, n);
        long line;
        char ours_reader[16], features_reader[16];
        char message[512];
        size_t hint;
        char *ours = read_table(path, false, &line, ours_reader, message, &hint);
        /* the count the file's header gives (FlatGeobuf's leaves out the two without a
         * geometry) */
        assert_int_equal(hint, d == 0 ? n : n - 2);
        char *features = read_table(path, true, &line, features_reader, message, &hint);
        assert_string_equal(ours_reader, "arrow");
        assert_string_equal(features_reader, "features");
        if (strcmp(ours, features)) {
            size_t at = 0;
            while (ours[at] == features[at])
                at++;
            fail_msg("%s differs at byte %zu:\nArrow:    %.300s\nfeatures: %.300s",
                     drivers[d][0], at, ours + (at > 100 ? at - 100 : 0),
                     features + (at > 100 ? at - 100 : 0));
        }
        /* every row (FlatGeobuf's writer leaves out the two without a geometry) */
        assert_non_null(strstr(ours, d == 0 ? "row 70000:" : "row 69998:"));
        cs_free(ours);
        cs_free(features);
        free(path);
    }
    /* a file cut short: its rows end with an error naming the file, not silently */
    char *path = tu_join(dir, "p.fgb");
    cut_short(path);
    long line;
    char reader[16];
    char message[512];
    size_t hint;
    char *cut = read_table(path, false, &line, reader, message, &hint);
    assert_string_equal(reader, "arrow");
    assert_non_null(strstr(cut, "\nend 4\n"));
    if (!strstr(message, "p.fgb") || !strstr(message, "says it holds 69998 features") ||
        !strstr(message, "check that the file is whole"))
        fail_msg("message: %s", message);
    cs_free(cut);
    /* the same through GDAL's features (as for layers of lines and polygons) */
    cut = read_table(path, true, &line, reader, message, &hint);
    assert_string_equal(reader, "features");
    assert_non_null(strstr(cut, "\nend 4\n"));
    if (!strstr(message, "says it holds 69998 features"))
        fail_msg("message: %s", message);
    cs_free(cut);
    free(path);
    free(wkt);
    free(made);
    tu_rmtree(dir);
    free(dir);
}

/* A GeoPackage whose contents table claims far more features than the file could
 * hold: the claim is no size to reserve (a trillion rows would be asked of the
 * allocator, which AddressSanitizer refuses by aborting), and reading ends with the
 * file's own error, not an out-of-memory one. */
static void header_count_beyond_the_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "p.gpkg");
    static const char *const wkt[] = {"POINT (121.4 31.1)", "POINT (121.5 31.2)",
                                      "POINT (121.6 31.3)"};
    write_points(path, "GPKG", wkt, 3);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
    assert_non_null(ds);
    GDALDatasetExecuteSQL(ds, "UPDATE gpkg_ogr_contents SET feature_count = 1000000000000",
                          NULL, NULL);
    GDALClose(ds);
    long line;
    char reader[16], message[512];
    size_t hint = 1;
    char *text = read_table(path, false, &line, reader, message, &hint);
    assert_int_equal(hint, 0);
    assert_non_null(strstr(text, "row 3:"));
    if (!strstr(message, "says it holds 1000000000000 features") ||
        strstr(message, "memory"))
        fail_msg("message: %s", message);
    cs_free(text);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* An allocator that refuses the first request of one size (then gives as malloc). */
static size_t refused_size;
static bool refused;
static void *refuse_once(size_t n)
{
    if (!refused && n == refused_size) {
        refused = true;
        return NULL;
    }
    return malloc(n);
}
static void *refuse_once_realloc(void *p, size_t n)
{
    if (!refused && n == refused_size) {
        refused = true;
        return NULL;
    }
    return realloc(p, n);
}

/* The residents' arrays are sized for the rows of the file before it is read; when that
 * memory cannot be had, the rows are read all the same, the arrays growing as they
 * come: the study is the one a normal load gives, with no error. */
static void refused_reservation_is_no_error(void **state)
{
    (void)state;
    enum { N = 1237 }; /* its first array (x) is asked for at N doubles */
    fx_env e = {0};
    fx_random(&e.d, 5, 3, 2, 1000, 6, N);
    assert_int_equal(fx_env_open(&e, &e.d, NULL), CS_OK);
    assert_int_equal(fx_env_load(&e), CS_OK);
    size_t count = e.study->dem.count, bands = e.study->settings.band_count;
    double *pop = malloc(count * bands * sizeof *pop);
    assert_non_null(pop);
    memcpy(pop, e.study->dem.pop, count * bands * sizeof *pop);
    refused_size = N * sizeof(double);
    refused = false;
    cs_set_allocator(&(cs_allocator){refuse_once, refuse_once_realloc, free});
    cs_status st = fx_env_load(&e);
    cs_set_allocator(NULL);
    assert_true(refused);
    assert_int_equal(st, CS_OK);
    assert_int_equal(cs_context_error_count(e.ctx), 0);
    assert_int_equal(e.study->dem.count, count);
    assert_memory_equal(e.study->dem.pop, pop, count * bands * sizeof *pop);
    free(pop);
    fx_env_close(&e);
}

/* The sample's walking network as a FlatGeobuf cut short (lines: read by GDAL's
 * features): the run stops with exit 4 naming the file, instead of walking part of it. */
static void network_cut_short_is_an_error(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && ogr2ogr -q -f FlatGeobuf net.fgb '%s/geodata/network.geojson'",
             dir, CS_SOURCE_DIR);
    if (tu_run(cmd, NULL) != 0) {
        tu_rmtree(dir);
        free(dir);
        skip();
    }
    char *path = tu_join(dir, "net.fgb");
    cut_short(path);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' check '%s/geodata/study.yaml' --set network.path='%s' -q",
             CS_CLI, CS_SOURCE_DIR, path);
    int rc = tu_run(cmd, &out);
    if (rc != 4 || !strstr(out, "net.fgb") || !strstr(out, "features, but reading stopped after") ||
        !strstr(out, "check that the file is whole"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* ------------------------------------------- GeoJSON networks read past GDAL */

/* Everything a network layer gives of path, feature by feature (each field's text and
 * number, the geometry's kind, the lines added and their points), with the messages'
 * count, as text to compare two readings; reader: which reader read it at the end. */
static char *read_network(const char *path, bool through_gdal, char *reader)
{
    cs_context *ctx = NULL;
    cs_buf out;
    cs_layer *l = open_reading(path, through_gdal, "network", false, &ctx, &out);
    cs_lines lines = {0};
    size_t line_cap = 0, vertex_cap = 0;
    long number;
    while (l && cs_layer_next(l, &number)) {
        cs_buf_printf(&out, "feature %ld:", number);
        note_fields(ctx, l, &out);
        size_t before = lines.count, added = 0;
        cs_geom_kind kind = cs_layer_geom_kind(l);
        cs_status lst = kind == CS_GEOM_LINE
                            ? cs_layer_lines(ctx, l, &lines, &line_cap, &vertex_cap, &added)
                            : CS_OK;
        cs_buf_printf(&out, " kind %d, %d, %zu lines:", (int)kind, (int)lst, added);
        for (size_t k = before; k < lines.count; k++)
            for (size_t v = lines.start[k]; v < lines.start[k + 1]; v++)
                cs_buf_printf(&out, " %a %a", lines.x[v], lines.y[v]);
        cs_buf_printf(&out, "; messages %zu\n", cs_context_message_count(ctx));
    }
    cs_lines_free(&lines);
    return end_reading(ctx, l, &out, reader);
}

#define GJ_HEAD "{\"type\":\"FeatureCollection\",\"name\":\"net\",\"features\":[\n"
#define GJ_LINE(props) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" \
                       "{\"type\":\"LineString\",\"coordinates\":[[121.1,31.1],[121.2,31.2]]}}"

/*
 * A GeoJSON network is read by careshed's own pass: every value, number, line, point
 * and message must be what GDAL's features give, for text with escapes, numbers of
 * every kind, booleans, nulls, missing properties and geometries, 3D positions,
 * multilines with empty and one-point members, members in any order. A feature the
 * pass does not take (an "id", a nested value, a polygon, a point, a lone surrogate)
 * and the ones after it are read by GDAL, with the same result; so is a layer whose
 * fields GDAL types otherwise (dates).
 */
static void geojson_network_reads_as_gdal_reads_it(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    /* many features: GDAL streams a large file */
    cs_buf big;
    cs_buf_init(&big);
    cs_buf_add(&big, GJ_HEAD);
    uint64_t rng = 11;
    for (int i = 0; i < 30000; i++)
        cs_buf_printf(&big, "%s{\"type\":\"Feature\",\"properties\":{\"highway\":\"%s\","
                      "\"closed\":%d,\"speed_factor\":%s},\"geometry\":{\"type\":"
                      "\"LineString\",\"coordinates\":[[%.7f,%.7f],[%.7f,%.7f]]}}",
                      i ? ",\n" : "", i % 3 ? "residential" : "footway", i % 17 == 0,
                      i % 5 ? "1" : "0.85", 121 + tu_rng_unit(&rng), 31 + tu_rng_unit(&rng),
                      121 + tu_rng_unit(&rng), 31 + tu_rng_unit(&rng));
    cs_buf_add(&big, "\n]}\n");
    /* the same, with a feature near the end that the pass declines ("id") */
    cs_buf declined;
    cs_buf_init(&declined);
    const char *near_end = strstr(big.data + big.len - 2000, "{\"type\":\"Feature\",");
    assert_non_null(near_end);
    cs_buf_addn(&declined, big.data, (size_t)(near_end - big.data));
    cs_buf_add(&declined, "{\"id\":\"way/1\",");
    cs_buf_add(&declined, near_end + 1);
    assert_false(big.failed || declined.failed);
    const struct {
        const char *text;
        const char *reader; /* at the end */
    } cases[] = {
        /* plain: the pass reads every feature */
        {GJ_HEAD
         "{\"type\":\"Feature\",\"properties\":{\"highway\":\"foot\\u0077ay\",\"name\":"
         "\"\\u95f5\\u884c \\\"q\\\" \\\\ \\/ \\n\\t \\ud83d\\ude00 闵行\",\"closed\":0,"
         "\"speed\":1,\"lit\":true,\"big\":12345678901234,\"width\":-2.5e1},"
         "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.1,31.1,4.5],"
         "[121.2000000000000001,31.2]]}},\n"
         "{\"geometry\":{\"coordinates\":[[[121.3,31.3],[121.4,31.4]],[],[[121.5,31.5]],"
         "[[121.6,31.6],[121.7,31.7],[121.8,31.8]]],\"bbox\":[1,2,3,4],\"type\":"
         "\"MultiLineString\"},\"bbox\":[1,2,3,4],\"type\":\"Feature\",\"properties\":"
         "{\"speed\":2.75,\"lit\":false,\"highway\":null,\"big\":-3,\"width\":"
         "0.123456789012345}},\n"
         "{\"type\":\"Feature\",\"properties\":null,\"geometry\":null},\n"
         "{\"type\":\"Feature\",\"properties\":{}},\n"
         "{\"type\":\"Feature\",\"properties\":{\"name\":\"\"},\"geometry\":{\"type\":"
         "\"LineString\",\"coordinates\":[]}},\n"
         "{\"type\":\"Feature\",\"properties\":{\"closed\":1},\"geometry\":{\"type\":"
         "\"LineString\",\"coordinates\":[[121.9,31.9]]}},\n"
         "{\"type\":\"Feature\",\"properties\":{\"speed\":0,\"width\":1E-7},"
         "\"geometry\":{\"type\":"
         "\"MultiLineString\",\"coordinates\":[[]]}},\n"
         " { \"type\" : \"Feature\" , \"properties\" : { \"highway\" : \"x\" } , "
         "\"geometry\" : { \"type\" : \"LineString\" , \"coordinates\" : [ [ 200 , 31 ] ,"
         " [ 121 , -0.0 ] ] } }\n]}",
         "geojson"},
        {"{\"bbox\":[121,31,122,32],\"type\":\"FeatureCollection\",\"features\":["
         GJ_LINE("{\"a\":\"1\"}") "," GJ_LINE("{\"a\":\"2\"}") "],\"name\":\"n\"}",
         "geojson"},
        /* the collection's type after its features: GDAL reads it all */
        {"{\"features\":[" GJ_LINE("{\"a\":\"1\"}") "," GJ_LINE("{\"a\":\"2\"}")
         "],\"type\":\"FeatureCollection\"}",
         "features"},
        {big.data, "geojson"},
        {declined.data, "features"},
        /* declined at the second feature */
        {GJ_HEAD GJ_LINE("{\"a\":1}") ",{\"type\":\"Feature\",\"id\":7,\"properties\":"
                 "{\"a\":2},\"geometry\":null}," GJ_LINE("{\"a\":3}") "]}",
         "features"},
        {GJ_HEAD GJ_LINE("{\"a\":\"x\"}") "," GJ_LINE("{\"a\":{\"b\":1}}") ","
                 GJ_LINE("{\"a\":\"y\"}") "]}",
         "features"},
        {GJ_HEAD GJ_LINE("{\"a\":1}") ",{\"type\":\"Feature\",\"properties\":{\"a\":2},"
                 "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121,31],[122,31],"
                 "[122,32],[121,31]]]}}," GJ_LINE("{\"a\":3}") "]}",
         "features"},
        {GJ_HEAD GJ_LINE("{\"a\":\"x\"}") "," GJ_LINE("{\"a\":\"\\ud800\"}") "]}", "features"},
        /* declined at the first */
        {GJ_HEAD "{\"type\":\"Feature\",\"properties\":{\"a\":1},\"geometry\":{\"type\":"
                 "\"Point\",\"coordinates\":[121,31]}}," GJ_LINE("{\"a\":2}") "]}",
         "features"},
        /* fields GDAL types as dates: not read by the pass at all */
        {GJ_HEAD GJ_LINE("{\"d\":\"2024-01-02\"}") "," GJ_LINE("{\"d\":null}") "]}",
         "features"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[32];
        snprintf(name, sizeof name, "n%zu.geojson", c);
        char *path = tu_write(dir, name, cases[c].text);
        char ours_reader[16], gdal_reader[16];
        char *ours = read_network(path, false, ours_reader);
        char *gdal = read_network(path, true, gdal_reader);
        assert_string_equal(gdal_reader, "features");
        if (strcmp(ours_reader, cases[c].reader))
            fail_msg("case %zu read by %s, not %s", c, ours_reader, cases[c].reader);
        if (strcmp(ours, gdal)) {
            size_t at = 0;
            while (ours[at] == gdal[at])
                at++;
            fail_msg("case %zu differs at byte %zu:\nours: %.300s\nGDAL: %.300s", c, at,
                     ours + (at > 100 ? at - 100 : 0), gdal + (at > 100 ? at - 100 : 0));
        }
        assert_true(strstr(ours, "feature 2:") != NULL); /* features were read */
        cs_free(ours);
        cs_free(gdal);
        free(path);
    }
    cs_buf_free(&big);
    cs_buf_free(&declined);
    tu_rmtree(dir);
    free(dir);
}

/* A real network: Shanghai's central roads from OpenStreetMap (names in Chinese, every
 * field text), read by careshed's pass as GDAL's features read it. */
static void real_geojson_network_reads_as_gdal_reads_it(void **state)
{
    (void)state;
    const char *shared = tu_shared_data();
    if (!shared) {
        print_message("skipped: ../shared/data/real is absent\n");
        skip();
    }
    char *path = tu_join(shared, "shanghai-central-roads.geojson");
    char ours_reader[16], gdal_reader[16];
    char *ours = read_network(path, false, ours_reader);
    char *gdal = read_network(path, true, gdal_reader);
    assert_string_equal(ours_reader, "geojson");
    assert_string_equal(gdal_reader, "features");
    assert_true(strstr(ours, "feature 700:") != NULL);
    assert_string_equal(ours, gdal);
    cs_free(ours);
    cs_free(gdal);
    free(path);
}

/* A file that ends right after a key's colon, on a page's end: the pass declines the
 * feature without reading past the file (the mapping ends there). */
static void geojson_pass_stops_at_the_file_end(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    OGRFeatureDefnH defn = OGR_FD_Create("net");
    OGRFieldDefnH fd = OGR_Fld_Create("a", OFTString);
    OGR_FD_AddFieldDefn(defn, fd);
    OGR_Fld_Destroy(fd);
    long page = sysconf(_SC_PAGESIZE);
    const char *const ends[] = {"\"properties\":", "\"geometry\":",
                                "\"properties\":{\"a\":"};
    for (size_t c = 0; c < sizeof ends / sizeof ends[0]; c++) {
        cs_buf text;
        cs_buf_init(&text);
        cs_buf_add(&text, GJ_HEAD "{\"type\":\"Feature\",");
        size_t pad = (size_t)page - text.len - strlen(ends[c]);
        cs_buf_add(&text, "\"bbox\":\"");
        for (size_t i = 0; i + 10 < pad; i++)
            cs_buf_addc(&text, 'x');
        cs_buf_add(&text, "\",");
        while (text.len + strlen(ends[c]) < (size_t)page)
            cs_buf_addc(&text, ' ');
        cs_buf_add(&text, ends[c]);
        assert_int_equal(text.len, (size_t)page);
        char *path = tu_write(dir, "end.geojson", text.data);
        cs_geojson_rows *rows = NULL;
        assert_int_equal(cs_geojson_open(ctx, path, defn, &rows), CS_OK);
        assert_non_null(rows);
        assert_int_equal(cs_geojson_next(rows), CS_GEOJSON_DECLINED);
        cs_geojson_close(rows);
        cs_buf_free(&text);
        free(path);
    }
    OGR_FD_Release(defn);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* Each allocation of the pass's opening refused in turn: CS_ERR_NOMEM, the context
 * knowing memory ran out (the command says so), nothing left allocated (LeakSanitizer);
 * past the last, it opens. */
static void geojson_pass_without_memory(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_write(dir, "n.geojson", GJ_HEAD GJ_LINE("{\"a\":\"x\"}") "]}");
    OGRFeatureDefnH defn = OGR_FD_Create("net");
    OGRFieldDefnH fd = OGR_Fld_Create("a", OFTString);
    OGR_FD_AddFieldDefn(defn, fd);
    OGR_Fld_Destroy(fd);
    bool opened = false;
    for (int refused_at = 0; !opened && refused_at < 50; refused_at++) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        cs_geojson_rows *rows = NULL;
        tu_alloc_refuse_one(refused_at);
        cs_status st = cs_geojson_open(ctx, path, defn, &rows);
        tu_alloc_restore();
        opened = tu_alloc_refused() == 0;
        if (opened) {
            assert_int_equal(st, CS_OK);
            assert_non_null(rows);
            assert_int_equal(cs_geojson_next(rows), CS_GEOJSON_FEATURE);
            assert_string_equal(cs_geojson_text(rows, 0), "x");
        } else {
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_null(rows);
            assert_true(ctx->out_of_memory);
        }
        cs_geojson_close(rows);
        cs_context_destroy(ctx);
    }
    assert_true(opened);
    OGR_FD_Release(defn);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* A read error ends a table with an error naming the file (not a shorter table). */
static void unreadable_lines_are_an_error(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_csv_lines *lines = NULL;
    /* a folder opens, and its first read fails (EISDIR) */
    assert_int_equal(cs_csv_lines_open(ctx, dir, "table.csv", &lines), CS_OK);
    size_t len;
    long line;
    assert_null(cs_csv_lines_next(lines, &len, &line));
    assert_int_equal(cs_csv_lines_status(lines), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "table.csv:1:", "read error", "check the disk", NULL));
    cs_csv_lines_close(lines);
    char *missing = tu_join(dir, "none.csv");
    assert_int_equal(cs_csv_lines_open(ctx, missing, "none.csv", &lines), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "none.csv", "cannot be opened", NULL));
    free(missing);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------ a large plain table in parts */

/* "h\na\n\nb\r\n\r\nc" cut after its header: lines 2 "a", 3 "", 4 "b\r", 5 "\r" and 6 "c"
 * (no newline), of which 2, 4 and 6 are rows. Three parts of about 3 bytes start at the
 * lines after bytes 5 and 8 (worked by hand); each part's lines read back as the whole
 * file's. */
static void csv_parts_are_counted_and_numbered(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_write(dir, "t.csv", "h\na\n\nb\r\n\r\nc");
    cs_csv_part parts[8];
    assert_int_equal(cs_csv_cut(path, 2, 3, parts), 3);
    const uint64_t from[] = {2, 5, 8}, to[] = {5, 8, 11};
    const long lines[] = {2, 1, 2}, rows[] = {1, 1, 1}, first[] = {2, 4, 5}, before[] = {0, 1, 2};
    for (size_t i = 0; i < 3; i++)
        assert_true(cs_csv_count_part(path, &parts[i]));
    cs_csv_number_parts(parts, 3, 2);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(parts[i].from, from[i]);
        assert_int_equal(parts[i].to, to[i]);
        assert_int_equal(parts[i].lines, lines[i]);
        assert_int_equal(parts[i].rows, rows[i]);
        assert_int_equal(parts[i].first_line, first[i]);
        assert_int_equal(parts[i].rows_before, before[i]);
    }
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_csv_lines *r = NULL;
    assert_int_equal(cs_csv_lines_open_range(ctx, path, "t.csv", 8, 11, 5, &r), CS_OK);
    size_t len;
    long line;
    char *text = cs_csv_lines_next(r, &len, &line);
    assert_non_null(text);
    assert_int_equal(len, 0);
    assert_int_equal(line, 5);
    text = cs_csv_lines_next(r, &len, &line);
    assert_string_equal(text, "c");
    assert_int_equal(line, 6);
    assert_null(cs_csv_lines_next(r, &len, &line));
    assert_int_equal(cs_csv_lines_status(r), CS_OK);
    cs_csv_lines_close(r);
    /* more parts than lines: fewer are made, still covering every byte once */
    size_t n = cs_csv_cut(path, 2, 8, parts);
    assert_true(n >= 1 && n <= 5);
    long all_lines = 0, all_rows = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(parts[i].from, i ? parts[i - 1].to : 2);
        assert_true(cs_csv_count_part(path, &parts[i]));
        all_lines += parts[i].lines;
        all_rows += parts[i].rows;
    }
    assert_int_equal(parts[n - 1].to, 11);
    assert_int_equal(all_lines, 5);
    assert_int_equal(all_rows, 3);
    /* a file that cannot be read is no parts */
    char *missing = tu_join(dir, "none.csv");
    assert_int_equal(cs_csv_cut(missing, 0, 2, parts), 0);
    parts[0] = (cs_csv_part){.from = 0, .to = 4};
    assert_false(cs_csv_count_part(missing, &parts[0]));
    free(missing);
    cs_context_destroy(ctx);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* What write_rows puts among good rows: nothing, rows that cannot be read (a negative
 * total, text in a band, a band above the total, a missing coordinate), or points far
 * outside the study (reported after reading, by their feature numbers). */
enum bad_rows { NONE_BAD, UNREADABLE, FAR_OUTSIDE };

/*
 * The fixture's population as a table of n rows with what tables hold: \r\n endings,
 * empty lines and lines of only \r, no newline at the end; and `bad` rows.
 * *first_bad_line gets the line of the first bad row, counted as written.
 */
static void write_rows(env *e, size_t n, enum bad_rows bad, long *first_bad_line)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "x,y,pop,pop65,id,year\n");
    long line = 1;
    *first_bad_line = 0;
    for (size_t i = 0; i < n; i++) {
        double x = 350005 + (double)(i * 7919 % 1990), y = 3440005 + (double)(i * 104729 % 1990);
        int pop = (int)(i % 9) + 1, pop65 = (int)(i % 3);
        line++;
        if (bad && i % 250 == 17 && !*first_bad_line)
            *first_bad_line = line;
        if (bad == UNREADABLE && i % 250 == 17)
            cs_buf_printf(&b, "%.0f,%.0f,-%d,0,D%zu,%zu\n", x, y, pop, i, 2023 + i % 2);
        else if (bad == UNREADABLE && i % 400 == 33)
            cs_buf_printf(&b, "%.0f,%.0f,%d,many,D%zu,%zu\n", x, y, pop, i, 2023 + i % 2);
        else if (bad == UNREADABLE && i % 700 == 51)
            cs_buf_printf(&b, "%.0f,%.0f,%d,%d,D%zu,%zu\n", x, y, pop, pop + 5, i, 2023 + i % 2);
        else if (bad == UNREADABLE && i % 900 == 77)
            cs_buf_printf(&b, "%.0f,,%d,%d,D%zu,%zu\n", x, pop, pop65, i, 2023 + i % 2);
        else if (bad == FAR_OUTSIDE && i % 250 == 17)
            cs_buf_printf(&b, "850100,%.0f,%d,%d,D%zu,%zu\n", y, pop, pop65, i, 2023 + i % 2);
        else
            cs_buf_printf(&b, "%.0f,%.0f,%d,%d,D%zu,%zu%s", x, y, pop, pop65, i, 2023 + i % 2,
                          i + 1 == n ? "" : i % 5 ? "\n" : "\r\n");
        if (i % 100 == 99 && i + 1 < n) {
            cs_buf_add(&b, i % 300 == 299 ? "\r\n" : "\n");
            line++;
        }
    }
    fx_env_write(e, "population.csv", b.data);
    cs_buf_free(&b);
    fx_env_set(e, "population.id", "id");
    fx_env_set(e, "population.year", "year");
}

/* Load with this many threads; the demand points read and the messages, as text. */
static void load_noting(env *e, int threads, cs_status want, cs_buf *out)
{
    cs_context_set_threads(e->ctx, threads);
    size_t first = cs_context_message_count(e->ctx);
    cs_status st = fx_env_load(e);
    if (st != want)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, want);
    cs_buf_init(out);
    for (size_t i = first; i < cs_context_message_count(e->ctx); i++) {
        char text[2048];
        cs_message_format(cs_context_get_message(e->ctx, i), text, sizeof text);
        cs_buf_printf(out, "%s\n", text);
    }
    const cs_study *s = e->study;
    for (size_t i = 0; s && i < s->dem.count; i++)
        cs_buf_printf(out, "%s %a %a %a %a\n", s->dem.id[i], s->dem.x[i], s->dem.y[i],
                      s->dem.pop[i * 2], s->dem.pop[i * 2 + 1]);
}

/* Read in 2, 3 and 7 parts, a table gives the points and messages (every line and
 * feature number among them) it gives read whole, with good rows and with bad ones. */
static void population_in_parts_reads_as_whole(void **state)
{
    env *e = *state;
    long long was = cs_layer_cut_min_bytes(0);
    for (int bad = NONE_BAD; bad <= FAR_OUTSIDE; bad++) {
        long first_bad_line;
        write_rows(e, 3000, bad, &first_bad_line);
        cs_buf whole, parts;
        load_noting(e, 1, bad ? CS_ERR_INPUT : CS_OK, &whole);
        char where[64]; /* the first bad row, on its line counted as written */
        snprintf(where, sizeof where, "population.csv:%ld:", first_bad_line);
        if (bad == NONE_BAD)
            assert_non_null(strstr(whole.data, "D2999 "));
        else if (bad == UNREADABLE)
            assert_true(tu_has_message(e->ctx, where, "negative", NULL));
        else /* named after reading, by its feature number and the lines before it */
            assert_true(tu_has_message(e->ctx, where, "km from the study", NULL));
        const int threads[] = {2, 3, 7};
        for (size_t t = 0; t < 3; t++) {
            load_noting(e, threads[t], bad ? CS_ERR_INPUT : CS_OK, &parts);
            assert_string_equal(parts.data, whole.data);
            cs_buf_free(&parts);
        }
        cs_buf_free(&whole);
    }
    cs_layer_cut_min_bytes(was);
}

/* Load with the allocation at `at` refused (LONG_MAX: none); how many were made. */
static long load_refusing(env *e, long at, cs_status *st)
{
    tu_alloc_refuse_one(at);
    *st = fx_env_load(e);
    tu_alloc_restore();
    return tu_alloc_made();
}

/* Memory refused at 200 points spread over a load that reads its table in 3 parts:
 * the load says it ran out, or (the memory refused was only wanted) loads as it does
 * with all it asks for; nothing is left allocated (LeakSanitizer). */
static void population_in_parts_without_memory(void **state)
{
    env *e = *state;
    long long was = cs_layer_cut_min_bytes(0);
    long first;
    write_rows(e, 600, NONE_BAD, &first);
    cs_context_set_threads(e->ctx, 3);
    cs_status st;
    long made = load_refusing(e, LONG_MAX, &st);
    assert_int_equal(st, CS_OK);
    size_t points = e->study->dem.count;
    for (long at = 0; at < made; at += made / 200 + 1) {
        size_t first_message = cs_context_message_count(e->ctx);
        load_refusing(e, at, &st);
        if (st == CS_OK) {
            assert_int_equal(e->study->dem.count, points);
            continue;
        }
        assert_int_equal(st, CS_ERR_NOMEM);
        bool said = e->ctx->out_of_memory;
        for (size_t i = first_message; i < cs_context_message_count(e->ctx); i++)
            said = said || cs_context_get_message(e->ctx, i)->status == CS_ERR_NOMEM;
        assert_true(said);
    }
    cs_layer_cut_min_bytes(was);
}

/* The table rewritten with shorter lines at the first part's opening (the second line
 * reader opened: the first is the whole layer's), after its lines were counted. */
static const char *rewrite_path;
static int readers_opened;

static void *rewrite_at_second_reader(size_t n)
{
    if (n == ((size_t)1 << 20) + 1 && ++readers_opened == 2) {
        FILE *f = fopen(rewrite_path, "r+");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        long at = fprintf(f, "x,y,pop,pop65,id\n");
        while (at + 21 <= size)
            at += fprintf(f, "350100,3440100,1,0,D\n");
        while (at++ < size)
            fputc('\n', f);
        fclose(f);
    }
    return malloc(n);
}

/* A table of 2,000 rows loaded in parts on two threads with malloc replaced by tamper
 * (which may change the file, rewrite_path, as it is read); the load's status. */
static cs_status load_in_parts_with(env *e, void *(*tamper)(size_t))
{
    long long was = cs_layer_cut_min_bytes(0);
    long first;
    write_rows(e, 2000, NONE_BAD, &first);
    char *path = tu_join(e->dir, "population.csv");
    rewrite_path = path;
    cs_context_set_threads(e->ctx, 2);
    cs_set_allocator(&(cs_allocator){tamper, realloc, free});
    cs_status st = fx_env_load(e);
    cs_set_allocator(NULL);
    free(path);
    cs_layer_cut_min_bytes(was);
    return st;
}

/* A table that changes between the counting of its parts' lines and their reading is
 * an error that says so (not a shorter table, nor running out of memory). */
static void table_changed_while_read(void **state)
{
    env *e = *state;
    readers_opened = 0;
    cs_status st = load_in_parts_with(e, rewrite_at_second_reader);
    assert_int_equal(readers_opened >= 2, true);
    assert_int_equal(st, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv:", "the file changed while it was read",
                               "read it again", NULL));
}

/* Messages given after a table is read name its rows' real lines, empty lines before
 * them counted: a point far outside on line 6 (after two empty lines and a line of only
 * CR), duplicate facility ids on lines 3 and 5 (after one); read whole and in parts. */
static void rows_after_empty_lines_are_named_by_their_line(void **state)
{
    env *e = *state;
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,10,1\n\n\r\n\n"
                                    "850100,3440100,10,1\n350200,3440200,5,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv:6:", "km from the study area", NULL));
    long long was = cs_layer_cut_min_bytes(0);
    cs_context_set_threads(e->ctx, 3);
    size_t first = cs_context_message_count(e->ctx);
    expect(e, CS_ERR_INPUT);
    bool named = false;
    for (size_t i = first; i < cs_context_message_count(e->ctx); i++) {
        const cs_message *m = cs_context_get_message(e->ctx, i);
        named = named || (m->line == 6 && strstr(m->text, "km from the study area"));
    }
    assert_true(named);
    cs_layer_cut_min_bytes(was);
    fx_env_write(e, "population.csv", "x,y,pop,pop65\n350100,3440100,10,1\n");
    fx_env_write(e, "facilities.csv", "id,name,kind,x,y,beds\nF1,a,a,350100,3440100,3\n"
                                    "F2,b,a,350200,3440100,1\n\nF2,c,a,350300,3440100,1\n");
    expect(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "facilities.csv:5:", "duplicate id",
                               "line 3 has the same id", NULL));
}

/* The table cut to its header when a part's lines are first counted (the fourth block
 * of 1 MB asked for: after the facilities' and the population's quote checks and the
 * cut), after it was cut into parts: a read error naming the file, not a shorter
 * table. */
static int blocks_asked;

static void *truncate_at_fourth_block(size_t n)
{
    if (n == (size_t)1 << 20 && ++blocks_asked == 4)
        assert_int_equal(truncate(rewrite_path, 17), 0); /* "x,y,pop,pop65,id\n" */
    return malloc(n);
}

static void table_cut_short_while_counted(void **state)
{
    env *e = *state;
    blocks_asked = 0;
    cs_status st = load_in_parts_with(e, truncate_at_fourth_block);
    assert_true(blocks_asked >= 4);
    assert_int_equal(st, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "population.csv", "read error", "check the disk", NULL));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_env_setup, fx_env_teardown)
    const struct CMUnitTest tests[] = {
        T(missing_file),
        T(unknown_format),
        T(missing_field_lists_fields),
        T(text_in_number_field),
        T(empty_layer),
        T(invalid_polygon_is_repaired_with_warning),
        T(unrepairable_polygon_is_an_error),
        T(duplicate_ids),
        T(age_bands_must_nest),
        T(negative_and_nan_values),
        T(facility_outside_every_area_warns_and_serves),
        T(facility_just_outside_belongs_to_nearest_area),
        T(no_resident_inside),
        T(left_out_kind_far_away_is_only_warned),
        T(point_far_outside),
        T(demand_just_outside_is_kept_or_dropped),
        T(swapped_lat_lon),
        T(swapped_in_a_plausible_range),
        T(unknown_crs),
        T(layer_without_crs),
        T(gcj02_and_bd09_layers),
        T(gbk_shapefile_without_cpg),
        T(gbk_csv_with_declared_encoding),
        T(utf8_declared_reads_chinese),
        T(gbk_text_valid_as_utf8),
        T(gbk_csv_detected_with_warning),
        T(gbk_geojson_detected),
        T(big5_csv_detected_and_declared),
        T(gb18030_four_byte_characters),
        T(big5_shapefile_without_cpg),
        T(study_file_in_gbk),
        T(unconvertible_text_is_an_error),
        T(gbk_kml),
        T(unreadable_kml_is_an_error),
        T(other_formats_give_same_results),
        T(every_problem_is_reported),
        T(many_bad_rows_are_summarised),
        T(missing_column_is_one_error),
        T(repeated_errors_are_listed_a_few_times_each),
        cmocka_unit_test(plain_csv_reads_as_gdal_reads_it),
        cmocka_unit_test(geojson_network_reads_as_gdal_reads_it),
        cmocka_unit_test(real_geojson_network_reads_as_gdal_reads_it),
        cmocka_unit_test(geojson_pass_stops_at_the_file_end),
        cmocka_unit_test(geojson_pass_without_memory),
        cmocka_unit_test(unreadable_lines_are_an_error),
        cmocka_unit_test(csv_parts_are_counted_and_numbered),
        T(population_in_parts_reads_as_whole),
        T(population_in_parts_without_memory),
        T(table_changed_while_read),
        T(table_cut_short_while_counted),
        T(rows_after_empty_lines_are_named_by_their_line),
        cmocka_unit_test(arrow_stream_reads_as_features_read),
        cmocka_unit_test(network_cut_short_is_an_error),
        cmocka_unit_test(header_count_beyond_the_file),
        cmocka_unit_test(refused_reservation_is_no_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
