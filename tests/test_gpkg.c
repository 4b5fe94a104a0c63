/*
 * test_gpkg.c — careshed.gpkg and the column names (issue 15, items 1 and 2), on the
 * bundled sample: GDAL opens the package; each layer's feature count is checked
 * against counts taken from the inputs themselves (the areas and facilities layers read
 * with GDAL, the study's kinds and thresholds counted by hand) and its field types
 * against what each column holds; the QGIS styles in layer_styles; every column name
 * of every output file against the naming rule (checked here by its own code); the
 * Shapefile-safe names and their mapping, down to a Shapefile written by GDAL; the
 * output.formats key; the same bytes on a rerun.
 */
#include "testutil.h"

#include "out/out.h"

#include <gdal.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_utils.h>
#include <math.h>
#include <ogr_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

/* The sample, counted by hand from geodata/study.yaml: 4 kinds of 3 thresholds
 * (5, 10, 15 min), measured straight and along the network. */
#define KINDS 4
#define THRESHOLDS 3
#define MEASURES 2
#define BANDS 4   /* total, 60+, 65+, 80+ */
#define TARGETS 9 /* geodata/study.yaml: one of them per street (scope: area) */
/* Its headline: the first coverage target (centres within 15 minutes for residents
 * 60+; targets take the network's figures when there is one). */
#define HEADLINE "centre_walk_15min_a60p_share"

typedef struct run {
    char *dir;
} run;

static char *run_sample(const char *extra)
{
    char *dir = tu_mkdtemp();
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' run '%s/study.yaml' --out '%s/out' %s", CS_CLI, SAMPLE,
             dir, extra);
    int code = tu_run(cmd, &out);
    if (code != 0)
        fprintf(stderr, "%s -> %d\n%s\n", cmd, code, out);
    assert_int_equal(code, 0);
    free(out);
    return dir;
}

static int setup(void **state)
{
    GDALAllRegister();
    run *r = calloc(1, sizeof *r);
    r->dir = run_sample("");
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    run *r = *state;
    tu_rmtree(r->dir);
    free(r->dir);
    free(r);
    return 0;
}

static GDALDatasetH open_vector(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/out/%s", dir, name);
    return GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
}

static long long count_of(const char *path)
{
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    long long n = OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE);
    GDALClose(ds);
    return n;
}

static OGRLayerH layer(GDALDatasetH ds, const char *name)
{
    OGRLayerH l = GDALDatasetGetLayerByName(ds, name);
    if (!l)
        fprintf(stderr, "no layer %s\n", name);
    assert_non_null(l);
    return l;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* ------------------------------------------------------------ the package */

static void layers_and_counts(void **state)
{
    run *r = *state;
    GDALDatasetH ds = open_vector(r->dir, "careshed.gpkg");
    assert_non_null(ds);
    assert_string_equal(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "GPKG");
    /* every layer of the run, the two tidy tables and the styles */
    assert_int_equal(GDALDatasetGetLayerCount(ds), 8);
    long long areas = count_of(SAMPLE "/streets.geojson");
    long long facilities = count_of(SAMPLE "/facilities.csv"); /* every row is of a kind */
    assert_int_equal(areas, 14);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "areas"), TRUE), areas);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "facilities"), TRUE), facilities);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "service_circles"), TRUE),
                     KINDS * THRESHOLDS * MEASURES);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "service_network"), TRUE),
                     KINDS * THRESHOLDS);
    /* the patches: as many as the GeoJSON holds (the same writer's other format) */
    GDALDatasetH gj = open_vector(r->dir, "underserved.geojson");
    assert_non_null(gj);
    long long patches = OGR_L_GetFeatureCount(GDALDatasetGetLayer(gj, 0), TRUE);
    assert_true(patches > 0);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "underserved"), TRUE), patches);
    GDALClose(gj);
    /* the tidy tables: every street and the district x kind x measure x threshold x
     * band; the district row of each target, and a row per street of the one per street */
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "coverage"), TRUE),
                     (areas + 1) * KINDS * MEASURES * THRESHOLDS * BANDS);
    assert_int_equal(OGR_L_GetFeatureCount(layer(ds, "targets"), TRUE), TARGETS + areas);
    assert_int_equal(OGR_L_GetGeomType(layer(ds, "coverage")), wkbNone);
    /* geometry types */
    assert_int_equal(OGR_L_GetGeomType(layer(ds, "areas")), wkbMultiPolygon);
    assert_int_equal(OGR_L_GetGeomType(layer(ds, "facilities")), wkbPoint);
    assert_int_equal(OGR_L_GetGeomType(layer(ds, "service_network")), wkbMultiLineString);
    GDALClose(ds);
}

/* What type a column of the areas layer must have, by what it holds. */
static void expect_area_type(OGRFieldDefnH fd)
{
    const char *name = OGR_Fld_GetNameRef(fd);
    OGRFieldType t = OGR_Fld_GetType(fd);
    OGRFieldSubType sub = OGR_Fld_GetSubType(fd);
    if (!strcmp(name, "id") || !strcmp(name, "name") || !strcmp(name, "flags") ||
        ends_with(name, "_gap_text"))
        assert_int_equal(t, OFTString);
    else if (!strcmp(name, "pop_estimated") || ends_with(name, "_pass"))
        assert_true(t == OFTInteger && sub == OFSTBoolean);
    else if (ends_with(name, "_count") || ends_with(name, "_patches") ||
             ends_with(name, "_overloaded") || !strcmp(name, "flag_count"))
        assert_int_equal(t, OFTInteger64);
    else if (t != OFTReal) {
        fprintf(stderr, "areas.%s is of type %d, not Real\n", name, (int)t);
        fail();
    }
}

static void field_types(void **state)
{
    run *r = *state;
    GDALDatasetH ds = open_vector(r->dir, "careshed.gpkg");
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(layer(ds, "areas"));
    int n = OGR_FD_GetFieldCount(d);
    assert_true(n > 100);
    for (int i = 0; i < n; i++)
        expect_area_type(OGR_FD_GetFieldDefn(d, i));
    assert_true(OGR_FD_GetFieldIndex(d, HEADLINE) >= 0);
    /* the district-only targets are not in the streets' rows (they were empty text) */
    assert_int_equal(OGR_FD_GetFieldIndex(d, "t_centres_value"), -1);
    d = OGR_L_GetLayerDefn(layer(ds, "facilities"));
    OGRFieldDefnH inside = OGR_FD_GetFieldDefn(d, OGR_FD_GetFieldIndex(d, "inside_area"));
    assert_int_equal(OGR_Fld_GetSubType(inside), OFSTBoolean);
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, OGR_FD_GetFieldIndex(d, "beds"))),
                     OFTReal);
    d = OGR_L_GetLayerDefn(layer(ds, "service_circles"));
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, OGR_FD_GetFieldIndex(d, "threshold_min"))),
                     OFTReal);
    GDALClose(ds);
    /* and the GeoJSON, typed by GDAL's reading of the values: numbers stay numbers */
    ds = open_vector(r->dir, "areas.geojson");
    d = OGR_L_GetLayerDefn(GDALDatasetGetLayer(ds, 0));
    for (int i = 0; i < OGR_FD_GetFieldCount(d); i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(d, i);
        const char *name = OGR_Fld_GetNameRef(fd);
        bool text = !strcmp(name, "id") || !strcmp(name, "name") || !strcmp(name, "flags") ||
                    ends_with(name, "_gap_text");
        if (text != (OGR_Fld_GetType(fd) == OFTString))
            fprintf(stderr, "areas.geojson: %s is of type %d\n", name, (int)OGR_Fld_GetType(fd));
        assert_true(text == (OGR_Fld_GetType(fd) == OFTString));
    }
    GDALClose(ds);
}

/* The GeoPackage and the GeoJSON hold the same figures: every field of every street. */
static void same_figures_as_geojson(void **state)
{
    run *r = *state;
    GDALDatasetH gp = open_vector(r->dir, "careshed.gpkg"), gj = open_vector(r->dir, "areas.geojson");
    OGRLayerH a = layer(gp, "areas"), b = GDALDatasetGetLayer(gj, 0);
    OGRFeatureDefnH da = OGR_L_GetLayerDefn(a), db = OGR_L_GetLayerDefn(b);
    assert_int_equal(OGR_FD_GetFieldCount(da), OGR_FD_GetFieldCount(db));
    OGRFeatureH fa, fb;
    long rows = 0;
    while ((fa = OGR_L_GetNextFeature(a)) && (fb = OGR_L_GetNextFeature(b))) {
        for (int i = 0; i < OGR_FD_GetFieldCount(da); i++) {
            const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(da, i));
            int j = OGR_FD_GetFieldIndex(db, name);
            assert_true(j >= 0);
            assert_int_equal(OGR_F_IsFieldSetAndNotNull(fa, i), OGR_F_IsFieldSetAndNotNull(fb, j));
            if (OGR_F_IsFieldSetAndNotNull(fa, i))
                assert_string_equal(OGR_F_GetFieldAsString(fa, i), OGR_F_GetFieldAsString(fb, j));
        }
        assert_true(OGR_G_Equals(OGR_F_GetGeometryRef(fa), OGR_F_GetGeometryRef(fb)));
        OGR_F_Destroy(fa);
        OGR_F_Destroy(fb);
        rows++;
    }
    assert_int_equal(rows, 14);
    GDALClose(gp);
    GDALClose(gj);
}

static void styles(void **state)
{
    run *r = *state;
    GDALDatasetH ds = open_vector(r->dir, "careshed.gpkg");
    OGRLayerH st = layer(ds, "layer_styles");
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(st);
    static const char *const columns[] = {
        "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
        "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
        "update_time"};
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
        assert_true(OGR_FD_GetFieldIndex(d, columns[i]) >= 0);
    int name = OGR_FD_GetFieldIndex(d, "f_table_name"), qml = OGR_FD_GetFieldIndex(d, "styleQML");
    int def = OGR_FD_GetFieldIndex(d, "useAsDefault"), geom = OGR_FD_GetFieldIndex(d, "f_geometry_column");
    const char *want[][2] = {
        {"areas", "type=\"graduatedSymbol\" attr=\"" HEADLINE "\""},
        {"facilities", "type=\"categorizedSymbol\" attr=\"kind\""},
        {"service_circles", "type=\"categorizedSymbol\""},
        {"service_network", "type=\"categorizedSymbol\""},
        {"underserved", "type=\"categorizedSymbol\" attr=\"kind\""},
    };
    size_t found = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(st))) {
        const char *table = OGR_F_GetFieldAsString(f, name);
        const char *text = OGR_F_GetFieldAsString(f, qml);
        assert_int_equal(OGR_F_GetFieldAsInteger(f, def), 1);
        assert_string_equal(OGR_F_GetFieldAsString(f, geom), "geom");
        bool known = false;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            if (!strcmp(table, want[i][0])) {
                known = true;
                if (!strstr(text, want[i][1]))
                    fprintf(stderr, "%s: no %s in\n%s\n", table, want[i][1], text);
                assert_non_null(strstr(text, want[i][1]));
            }
        assert_true(known);
        found++;
        OGR_F_Destroy(f);
    }
    assert_int_equal(found, sizeof want / sizeof want[0]);
    /* the streets are labelled with their names */
    OGR_L_SetAttributeFilter(st, "f_table_name = 'areas'");
    f = OGR_L_GetNextFeature(st);
    assert_non_null(strstr(OGR_F_GetFieldAsString(f, qml), "fieldName=\"name\""));
    assert_non_null(strstr(OGR_F_GetFieldAsString(f, qml), "labelsEnabled=\"1\""));
    OGR_F_Destroy(f);
    GDALClose(ds);
}

/* ------------------------------------------------------------ column names */

/* The rule, spelled out here on its own: [A-Za-z][A-Za-z0-9_]*, at most 63. */
static bool follows_rule(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", s[i]))
            return false;
    return true;
}

static size_t check_layer_names(OGRLayerH l, const char *where, size_t max_len)
{
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    for (int i = 0; i < OGR_FD_GetFieldCount(d); i++) {
        const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(d, i));
        if (!follows_rule(name) || strlen(name) > max_len)
            fprintf(stderr, "%s: column '%s' breaks the rule\n", where, name);
        assert_true(follows_rule(name) && strlen(name) <= max_len);
    }
    return (size_t)OGR_FD_GetFieldCount(d);
}

static size_t check_csv_header(const char *path)
{
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    char *p = text;
    if (!strncmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    p[strcspn(p, "\r\n")] = '\0';
    size_t n = 0;
    for (char *name = strtok(p, ","); name; name = strtok(NULL, ","), n++) {
        if (!follows_rule(name))
            fprintf(stderr, "%s: column '%s' breaks the rule\n", path, name);
        assert_true(follows_rule(name));
    }
    free(text);
    return n;
}

/* Every column of every output file of the run. */
static void every_name_follows_the_rule(void **state)
{
    run *r = *state;
    static const char *const vectors[] = {"careshed.gpkg", "areas.geojson",
                                          "service-circles.geojson", "service-network.geojson",
                                          "facilities.geojson", "underserved.geojson",
                                          "demand.fgb"};
    size_t columns = 0;
    for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
        GDALDatasetH ds = open_vector(r->dir, vectors[v]);
        assert_non_null(ds);
        for (int i = 0; i < GDALDatasetGetLayerCount(ds); i++) {
            OGRLayerH l = GDALDatasetGetLayer(ds, i);
            if (strcmp(OGR_L_GetName(l), "layer_styles")) /* QGIS's own schema */
                columns += check_layer_names(l, vectors[v], 63);
        }
        GDALClose(ds);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/out/areas.csv", r->dir);
    columns += check_csv_header(path);
    snprintf(path, sizeof path, "%s/out/demand-access.csv", r->dir);
    columns += check_csv_header(path);
    assert_true(columns > 600);
}

/* The one function, on names worked by hand. */
static void safe_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"60+", "a60p"},   {"80+", "a80p"},      {"60-79", "a60_79"}, {"total", "total"},
        {"care_home", "care_home"}, {"<65", "alt65"}, {"a.b c/d", "a_b_c_d"},
        {"床", "axE5xBAx8A"}, {"_x", "a_x"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_out_safe_name(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
        assert_true(follows_rule(out));
    }
    /* too long: 54 characters, '_' and 8 hex digits, distinct for distinct names */
    char a[81], b[81], ha[64], hb[64];
    memset(a, 'x', 80);
    a[80] = '\0';
    memcpy(b, a, sizeof b);
    b[79] = 'y';
    cs_out_safe_name(a, ha, sizeof ha);
    cs_out_safe_name(b, hb, sizeof hb);
    assert_int_equal(strlen(ha), 63);
    assert_true(follows_rule(ha) && follows_rule(hb));
    assert_int_equal(strncmp(ha, a, 54), 0);
    assert_int_equal(ha[54], '_');
    assert_string_not_equal(ha, hb);
}

/* The Shapefile mapping, worked by hand: short names kept, long ones numbered by their
 * place in the layer, a short name that a number already took renumbered. */
static void shapefile_mapping(void **state)
{
    (void)state;
    cs_names *m = cs_names_create(true);
    assert_non_null(m);
    assert_string_equal(cs_names_map(m, "areas", "id"), "id");
    assert_string_equal(cs_names_map(m, "areas", "centre_15min_a60p_share"), "centre_002");
    assert_string_equal(cs_names_map(m, "areas", "centre_002"), "centre_003");
    assert_string_equal(cs_names_map(m, "areas", "meal_count_per1000"), "meal_c_004");
    /* the same name again: the same short name; another layer starts afresh */
    assert_string_equal(cs_names_map(m, "areas", "centre_15min_a60p_share"), "centre_002");
    assert_string_equal(cs_names_map(m, "facilities", "centre_15min_a60p_share"), "centre_001");
    cs_buf csv;
    cs_buf_init(&csv);
    assert_int_equal(cs_names_csv(m, &csv), CS_OK);
    assert_string_equal(csv.data, "layer,column,shapefile_column\r\n"
                                  "areas,id,id\r\n"
                                  "areas,centre_15min_a60p_share,centre_002\r\n"
                                  "areas,centre_002,centre_003\r\n"
                                  "areas,meal_count_per1000,meal_c_004\r\n"
                                  "facilities,centre_15min_a60p_share,centre_001\r\n");
    cs_buf_free(&csv);
    cs_names_destroy(m);
}

/* A run with Shapefile names and the package alone: every column at most 10
 * characters, distinct, listed in column-names.csv; GDAL writes the areas to a
 * Shapefile without renaming any. */
static void shapefile_names_run(void **state)
{
    (void)state;
    char *dir = run_sample("--set output.shapefile_names=true --set output.formats=gpkg");
    char path[1024];
    snprintf(path, sizeof path, "%s/out/areas.geojson", dir);
    assert_false(tu_exists(path)); /* geojson not asked for */
    snprintf(path, sizeof path, "%s/out/areas.csv", dir);
    assert_false(tu_exists(path));
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    assert_true(tu_exists(path));
    snprintf(path, sizeof path, "%s/out/column-names.csv", dir);
    char *mapping = tu_read(path, NULL);
    assert_non_null(mapping);
    GDALDatasetH ds = open_vector(dir, "careshed.gpkg");
    assert_non_null(ds);
    size_t columns = 0;
    for (int i = 0; i < GDALDatasetGetLayerCount(ds); i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (!strcmp(OGR_L_GetName(l), "layer_styles"))
            continue;
        columns += check_layer_names(l, "careshed.gpkg", 10);
        OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
        for (int f = 0; f < OGR_FD_GetFieldCount(d); f++) {
            char row[160];
            snprintf(row, sizeof row, ",%s\r\n", OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(d, f)));
            assert_non_null(strstr(mapping, row));
        }
    }
    /* one line per column, and the header */
    size_t lines = 0;
    for (const char *p = mapping; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, columns + 1);
    /* GDAL's Shapefile driver keeps every name (it would cut and number longer ones) */
    char shp[1024];
    snprintf(shp, sizeof shp, "%s/areas.shp", dir);
    char *args[] = {"-f", "ESRI Shapefile", "areas", NULL};
    GDALVectorTranslateOptions *opt = GDALVectorTranslateOptionsNew(args, NULL);
    GDALDatasetH src = ds;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH out = GDALVectorTranslate(shp, NULL, 1, &src, opt, NULL);
    CPLPopErrorHandler();
    GDALVectorTranslateOptionsFree(opt);
    assert_non_null(out);
    OGRFeatureDefnH a = OGR_L_GetLayerDefn(layer(ds, "areas"));
    OGRFeatureDefnH s = OGR_L_GetLayerDefn(GDALDatasetGetLayer(out, 0));
    /* a Shapefile holds at most 255 fields: the areas keep the coverage by each kind's
     * main measure (the sample's centres: along the network) and leave out the other's */
    assert_true(OGR_FD_GetFieldCount(a) <= 255);
    assert_non_null(strstr(mapping, "\nareas,centre_walk_15min_a60p_share,"));
    assert_null(strstr(mapping, "\nareas,centre_15min_a60p_share,"));
    assert_null(strstr(mapping, "\nareas,centre_15min_a60p_covered,"));
    assert_int_equal(OGR_FD_GetFieldCount(s), OGR_FD_GetFieldCount(a));
    for (int i = 0; i < OGR_FD_GetFieldCount(a); i++)
        assert_string_equal(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(s, i)),
                            OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(a, i)));
    GDALClose(out);
    GDALClose(ds);
    free(mapping);
    tu_rmtree(dir);
    free(dir);
}

/* With six thresholds the areas have more fields than a Shapefile holds, even by the
 * main measure alone: a warning says how many and what to do. */
static void too_many_fields_for_a_shapefile_warns(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "'%s' run '%s/study.yaml' --out '%s/out' --set output.shapefile_names=true "
             "--set output.formats=gpkg --set thresholds_min=5,10,15,20,25,30",
             CS_CLI, SAMPLE, dir);
    assert_int_equal(tu_run(cmd, &out), 0);
    /* 4 kinds x 6 thresholds x 4 bands x (covered, share) by the main measure alone */
    assert_non_null(strstr(out, "'output.shapefile_names': the areas layer has"));
    assert_non_null(strstr(out, "fields; a Shapefile holds 255; export the columns you need"));
    GDALDatasetH ds = open_vector(dir, "careshed.gpkg");
    int fields = OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer(ds, "areas")));
    assert_true(fields > 4 * 6 * 4 * 2 && fields > 255);
    char said[64];
    snprintf(said, sizeof said, "the areas layer has %d fields", fields);
    assert_non_null(strstr(out, said));
    GDALClose(ds);
    free(out);
    tu_rmtree(dir);
    free(dir);
}

static void bad_format_refused(void **state)
{
    (void)state;
    char cmd[2048], *out = NULL;
    char *dir = tu_mkdtemp();
    snprintf(cmd, sizeof cmd, "'%s' run '%s/study.yaml' --out '%s/out' --set output.formats=gpkg,shp",
             CS_CLI, SAMPLE, dir);
    int code = tu_run(cmd, &out);
    assert_int_equal(code, 3);
    assert_non_null(strstr(out, "output.formats must be a list of gpkg, geojson and csv, got 'gpkg,shp'"));
    free(out);
    tu_rmtree(dir);
    free(dir);
}

/* The last message of ctx names what failed. */
static void last_message_says(const cs_context *ctx, const char *what)
{
    size_t n = cs_context_message_count(ctx);
    assert_true(n > 0);
    const cs_message *m = cs_context_get_message(ctx, n - 1);
    if (!strstr(m->text, what))
        fail_msg("expected \"%s\" in \"%s\"", what, m->text);
}

/* The GeoPackage door on its own: arguments refused, a package of one feature read
 * back, a dropped package removed, a package over a file GDAL does not know refused. */
static void gpkg_door(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp(), path[512], other[512];
    snprintf(path, sizeof path, "%s/door.gpkg", dir);
    snprintf(other, sizeof other, "%s/dropped.gpkg", dir);
    cs_gpkg *g = NULL;
    cs_gpkg_layer *l = NULL;
    assert_int_equal(cs_gpkg_create(NULL, path, &g), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_create(ctx, NULL, &g), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_create(ctx, path, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_create(ctx, path, &g), CS_OK);
    assert_int_equal(cs_gpkg_layer_create(ctx, g, NULL, CS_GPKG_POINT, &l), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_layer_create(ctx, g, "p", CS_GPKG_POINT, &l), CS_OK);
    /* a field added after the first feature: null in it, typed all the same */
    cs_gpkg_feature_begin(l);
    cs_gpkg_set_number(l, cs_gpkg_field(l, "n", CS_FIELD_INTEGER), 7);
    /* POINT(121.5 31.25), little-endian WKB */
    static const unsigned char wkb[21] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0x5e, 0x40,
                                          0, 0, 0, 0, 0, 0x40, 0x3f, 0x40};
    cs_gpkg_set_wkb(l, wkb, sizeof wkb);
    assert_int_equal(cs_gpkg_feature_end(ctx, l), CS_OK);
    cs_gpkg_feature_begin(l);
    cs_gpkg_set_text(l, cs_gpkg_field(l, "t", CS_FIELD_TEXT), "二");
    cs_gpkg_set_number(l, cs_gpkg_field(l, "r", CS_FIELD_REAL), NAN);
    assert_int_equal(cs_gpkg_feature_end(ctx, l), CS_OK);
    assert_int_equal(cs_gpkg_close(NULL, g), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_close(ctx, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_gpkg_close(ctx, g), CS_OK);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH p = GDALDatasetGetLayerByName(ds, "p");
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(p);
    assert_int_equal(OGR_L_GetFeatureCount(p, TRUE), 2);
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, OGR_FD_GetFieldIndex(d, "n"))), OFTInteger64);
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, OGR_FD_GetFieldIndex(d, "r"))), OFTReal);
    OGRFeatureH a = OGR_L_GetNextFeature(p);
    assert_int_equal(OGR_F_GetFieldAsInteger64(a, OGR_FD_GetFieldIndex(d, "n")), 7);
    assert_false(OGR_F_IsFieldSetAndNotNull(a, OGR_FD_GetFieldIndex(d, "t")));
    OGRGeometryH pt = OGR_F_GetGeometryRef(a);
    assert_true(OGR_G_GetX(pt, 0) == 121.5 && OGR_G_GetY(pt, 0) == 31.25);
    OGRFeatureH b = OGR_L_GetNextFeature(p);
    assert_string_equal(OGR_F_GetFieldAsString(b, OGR_FD_GetFieldIndex(d, "t")), "二");
    assert_false(OGR_F_IsFieldSetAndNotNull(b, OGR_FD_GetFieldIndex(d, "r")));
    assert_null(OGR_F_GetGeometryRef(b));
    OGR_F_Destroy(a);
    OGR_F_Destroy(b);
    GDALClose(ds);
    /* a package where a file GDAL does not know is: refused with GDAL's reason, the
     * file left alone */
    char *text = tu_write(dir, "notes.gpkg", "not a package\n");
    assert_int_equal(cs_gpkg_create(ctx, text, &g), CS_ERR_OUTPUT);
    assert_null(g);
    last_message_says(ctx, "already exists");
    size_t len = 0;
    char *kept = tu_read(text, &len);
    assert_string_equal(kept, "not a package\n");
    free(kept);
    free(text);
    /* dropped unfinished: its file goes */
    assert_int_equal(cs_gpkg_create(ctx, other, &g), CS_OK);
    assert_int_equal(cs_gpkg_layer_create(ctx, g, "q", CS_GPKG_MULTIPOLYGON, &l), CS_OK);
    assert_true(tu_exists(other));
    cs_gpkg_destroy(g);
    assert_false(tu_exists(other));
    cs_gpkg_destroy(NULL);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* The sample run with extra arguments writes the same package, byte for byte, as the
 * run of the setup. */
static void same_package_as_setup(const run *r, const char *extra)
{
    char *dir = run_sample(extra);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/out/careshed.gpkg", r->dir);
    snprintf(b, sizeof b, "%s/out/careshed.gpkg", dir);
    size_t na = 0, nb = 0;
    char *ta = tu_read(a, &na), *tb = tu_read(b, &nb);
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(ta, tb, na);
    free(ta);
    free(tb);
    tu_rmtree(dir);
    free(dir);
}

/* The same run writes the same package, byte for byte. */
static void same_bytes(void **state)
{
    same_package_as_setup(*state, "");
}

/* Stored on the package's own thread or, with one thread, at once on the caller's: the
 * same bytes. */
static void same_bytes_on_one_thread(void **state)
{
    same_package_as_setup(*state, "--threads 1");
}


/* GDAL refusing a request (a second layer of the same name): with one thread the
 * request itself fails; on the package's thread the next feature returns the status
 * and the message arrives when the package is closed, which fails, removing its
 * file. */
static void refusal_is_reported(void **state)
{
    (void)state;
    for (int threads = 1; threads >= 0; threads--) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        cs_context_set_threads(ctx, threads);
        cs_gpkg *g = NULL;
        cs_gpkg_layer *a = NULL, *b = NULL;
        char *dir = tu_mkdtemp(), path[512];
        snprintf(path, sizeof path, "%s/refused.gpkg", dir);
        assert_int_equal(cs_gpkg_create(ctx, path, &g), CS_OK);
        assert_int_equal(cs_gpkg_layer_create(ctx, g, "twice", CS_GPKG_POINT, &a), CS_OK);
        cs_status st = cs_gpkg_layer_create(ctx, g, "twice", CS_GPKG_POINT, &b);
        if (threads == 1) {
            assert_int_equal(st, CS_ERR_OUTPUT);
            last_message_says(ctx, "adding layer twice");
        } else {
            /* the thread is told in a batch: the package's status shows at the latest
             * when it is closed */
            assert_true(st == CS_OK || st == CS_ERR_OUTPUT);
        }
        assert_int_equal(cs_gpkg_close(ctx, g), CS_ERR_OUTPUT);
        last_message_says(ctx, "adding layer twice");
        assert_false(tu_exists(path));
        cs_context_destroy(ctx);
        tu_rmtree(dir);
        free(dir);
    }
}

/* A disk that fills while SQLite writes the package in place (the file-size limit:
 * EFBIG, as a full disk gives ENOSPC): the package fails, with SQLite's reason and what
 * to do, at a feature or at the latest when it is closed; its file is removed. */
static void full_disk_is_reported(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/full.gpkg", dir);
    cs_gpkg *g = NULL;
    cs_gpkg_layer *l = NULL;
    struct rlimit old, small;
    getrlimit(RLIMIT_FSIZE, &old);
    small = old;
    small.rlim_cur = 256 << 10;
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    cs_status st = cs_gpkg_create(ctx, path, &g);
    if (st == CS_OK)
        st = cs_gpkg_layer_create(ctx, g, "many", CS_GPKG_NONE, &l);
    for (int i = 0; st == CS_OK && i < 20000; i++) { /* some 4 MB of text */
        cs_gpkg_feature_begin(l);
        cs_gpkg_set_text(l, cs_gpkg_field(l, "t", CS_FIELD_TEXT),
                         "a line of text that fills the package, two hundred bytes a "
                         "feature or so, until the disk is full; a line of text that "
                         "fills the package, two hundred bytes a feature or so, again");
        st = cs_gpkg_feature_end(ctx, l);
    }
    cs_status closed = g ? cs_gpkg_close(ctx, g) : st;
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, handler);
    assert_int_equal(closed, CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "careshed.gpkg", "the GeoPackage cannot be written",
                               "free some disk space", NULL));
    assert_false(tu_exists(path));
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* A MultiLineString of one line of n points, x = i, y = seed + i / 1000, as WKB. */
static unsigned char *one_line_wkb(size_t n, double seed, size_t *len)
{
    *len = 1 + 4 + 4 + 1 + 4 + 4 + 16 * n;
    unsigned char *w = malloc(*len), *p = w;
    const uint32_t head[] = {5, 1}, line = 2, count = (uint32_t)n;
    *p++ = 1; /* little-endian, as the machines careshed runs on */
    memcpy(p, head, 8);
    p += 8;
    *p++ = 1;
    memcpy(p, &line, 4);
    memcpy(p + 4, &count, 4);
    p += 8;
    for (size_t i = 0; i < n; i++, p += 16) {
        double xy[2] = {(double)i, seed + (double)i / 1000};
        memcpy(p, xy, 16);
    }
    return w;
}

/* Features far larger than a batch (5 MB of geometry against batches of 1 MB), between
 * small ones, on the package's thread and without it: every one stored whole, in
 * order (the large batches give their memory back once replayed). */
static void features_larger_than_a_batch(void **state)
{
    (void)state;
    const size_t points[4] = {300000, 2, 320000, 3};
    for (int threads = 1; threads >= 0; threads--) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        cs_context_set_threads(ctx, threads);
        char *dir = tu_mkdtemp(), path[512];
        snprintf(path, sizeof path, "%s/large.gpkg", dir);
        cs_gpkg *g = NULL;
        cs_gpkg_layer *l = NULL;
        assert_int_equal(cs_gpkg_create(ctx, path, &g), CS_OK);
        assert_int_equal(cs_gpkg_layer_create(ctx, g, "lines", CS_GPKG_MULTILINE, &l), CS_OK);
        for (size_t f = 0; f < 4; f++) {
            size_t len = 0;
            unsigned char *wkb = one_line_wkb(points[f], (double)f, &len);
            cs_gpkg_feature_begin(l);
            cs_gpkg_set_number(l, cs_gpkg_field(l, "n", CS_FIELD_INTEGER), (double)points[f]);
            cs_gpkg_set_wkb(l, wkb, len);
            assert_int_equal(cs_gpkg_feature_end(ctx, l), CS_OK);
            free(wkb);
        }
        assert_int_equal(cs_gpkg_close(ctx, g), CS_OK);
        GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
        assert_non_null(ds);
        OGRLayerH lines = GDALDatasetGetLayerByName(ds, "lines");
        assert_int_equal(OGR_L_GetFeatureCount(lines, TRUE), 4);
        for (size_t f = 0; f < 4; f++) {
            OGRFeatureH feature = OGR_L_GetNextFeature(lines);
            OGRGeometryH line = OGR_G_GetGeometryRef(OGR_F_GetGeometryRef(feature), 0);
            size_t n = points[f];
            assert_int_equal(OGR_F_GetFieldAsInteger64(feature, 0), (long long)n);
            assert_int_equal(OGR_G_GetPointCount(line), (int)n);
            for (size_t i = 0; i < n; i += n / 2 > 0 ? n / 2 : 1) /* first, middle, last */
                assert_true(OGR_G_GetX(line, (int)i) == (double)i &&
                            OGR_G_GetY(line, (int)i) == (double)f + (double)i / 1000);
            assert_true(OGR_G_GetY(line, (int)n - 1) == (double)f + (double)(n - 1) / 1000);
            OGR_F_Destroy(feature);
        }
        GDALClose(ds);
        cs_context_destroy(ctx);
        tu_rmtree(dir);
        free(dir);
    }
}

/* A field asked for under another case is the same field, as GDAL names them. */
static void fields_ignore_case(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_gpkg *g = NULL;
    cs_gpkg_layer *l = NULL;
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/case.gpkg", dir);
    assert_int_equal(cs_gpkg_create(ctx, path, &g), CS_OK);
    assert_int_equal(cs_gpkg_layer_create(ctx, g, "t", CS_GPKG_NONE, &l), CS_OK);
    cs_gpkg_feature_begin(l);
    int first = cs_gpkg_field(l, "Name", CS_FIELD_TEXT);
    assert_int_equal(first, 0);
    assert_int_equal(cs_gpkg_field(l, "n", CS_FIELD_REAL), 1);
    assert_int_equal(cs_gpkg_field(l, "name", CS_FIELD_TEXT), first);
    cs_gpkg_set_text(l, first, "x");
    assert_int_equal(cs_gpkg_feature_end(ctx, l), CS_OK);
    assert_int_equal(cs_gpkg_close(ctx, g), CS_OK);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(GDALDatasetGetLayerByName(ds, "t"));
    assert_int_equal(OGR_FD_GetFieldCount(d), 2);
    GDALClose(ds);
    cs_context_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

/* Each kind's reached streets, in the GeoJSON file and in the package: every line has
 * two points at least once rounded to 7 decimals (a piece of about a centimetre, one
 * point once rounded, is left out: RFC 7946 and GEOS want two). That pieces following
 * each other are one line is checked before rounding (test_network). */
static void check_network_lines(OGRLayerH l, const char *where)
{
    OGRFeatureH f;
    size_t lines = 0;
    OGR_L_ResetReading(l);
    while ((f = OGR_L_GetNextFeature(l))) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_non_null(g);
        int n = OGR_G_GetGeometryCount(g);
        for (int i = 0; i < n; i++) {
            OGRGeometryH part = OGR_G_GetGeometryRef(g, i);
            if (OGR_G_GetPointCount(part) < 2)
                fail_msg("%s: feature %lld, line %d has %d point(s)", where,
                         (long long)OGR_F_GetFID(f), i, OGR_G_GetPointCount(part));
            lines++;
        }
        OGR_F_Destroy(f);
    }
    assert_true(lines > 100);
}

static void network_lines_are_lines(void **state)
{
    run *r = *state;
    GDALDatasetH ds = open_vector(r->dir, "careshed.gpkg");
    GDALDatasetH gj = open_vector(r->dir, "service-network.geojson");
    assert_non_null(ds);
    assert_non_null(gj);
    check_network_lines(layer(ds, "service_network"), "careshed.gpkg");
    check_network_lines(GDALDatasetGetLayer(gj, 0), "service-network.geojson");
    GDALClose(ds);
    GDALClose(gj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layers_and_counts),
        cmocka_unit_test(field_types),
        cmocka_unit_test(same_figures_as_geojson),
        cmocka_unit_test(styles),
        cmocka_unit_test(every_name_follows_the_rule),
        cmocka_unit_test(same_bytes),
        cmocka_unit_test(same_bytes_on_one_thread),
        cmocka_unit_test(network_lines_are_lines),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(gpkg_door),
        cmocka_unit_test(refusal_is_reported),
        cmocka_unit_test(fields_ignore_case),
        cmocka_unit_test(full_disk_is_reported),
        cmocka_unit_test(features_larger_than_a_batch),
        cmocka_unit_test(safe_names),
        cmocka_unit_test(shapefile_mapping),
        cmocka_unit_test(shapefile_names_run),
        cmocka_unit_test(too_many_fields_for_a_shapefile_warns),
        cmocka_unit_test(bad_format_refused),
    };
    GDALAllRegister();
    int failed = cmocka_run_group_tests_name("sample run", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("names", alone, NULL, NULL);
}
