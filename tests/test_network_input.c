/*
 * test_network_input.c — reading the walking network raw (cs_load_network): which ways
 * are kept by class, foot/access tags and the closed field, speed factors, geometry
 * (multi-lines split, curves made linear, points and polygons skipped), the errors with
 * file, feature and field, OpenStreetMap XML through GDAL's OSM driver (tags in
 * other_tags, or as fields with a custom osmconf.ini), the other_tags parser, and the
 * real OpenStreetMap extract of ../shared/data/real.
 *
 * Expected values are worked by hand from the small files written here, and for the
 * real extract counted by an independent Python script over the XML (see real_osm).
 */
#include "testutil.h"

#include "io/config.h"
#include "io/load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

typedef struct env {
    char *dir;
    cs_context *ctx;
    cs_config *cfg;
    cs_raw_lines raw;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    e->dir = tu_mkdtemp();
    assert_int_equal(cs_context_create(&e->ctx), CS_OK);
    assert_int_equal(cs_config_create(e->ctx, &e->cfg), CS_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    cs_raw_lines_free(&e->raw);
    cs_config_destroy(e->cfg);
    cs_context_destroy(e->ctx);
    tu_rmtree(e->dir);
    free(e->dir);
    free(e);
    return 0;
}

/* Write text to the temp dir and make it the network layer. */
static void use_file(env *e, const char *name, const char *text)
{
    char *path = tu_write(e->dir, name, text);
    cs_free(e->cfg->network.layer.path);
    e->cfg->network.layer.path = cs_strdup(path);
    free(path);
}

static void set_field(char **field, const char *value)
{
    cs_free(*field);
    *field = value ? cs_strdup(value) : NULL;
}

static void set_highways(cs_config *cfg, const char *const *list, size_t n)
{
    for (size_t i = 0; i < cfg->network.highway_count; i++)
        cs_free(cfg->network.highway[i]);
    cs_free(cfg->network.highway);
    cfg->network.highway = n ? cs_calloc(n, sizeof *cfg->network.highway) : NULL;
    for (size_t i = 0; i < n; i++)
        cfg->network.highway[i] = cs_strdup(list[i]);
    cfg->network.highway_count = n;
}

/* Load, expecting st; on a surprise print the messages. */
static void load(env *e, cs_status expected)
{
    cs_raw_lines_free(&e->raw);
    cs_status st = cs_load_network(e->ctx, e->cfg, &e->raw);
    if (st != expected)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, expected);
}

static size_t vertices(const cs_lines *l, size_t i)
{
    return l->start[i + 1] - l->start[i];
}

static void assert_vertex(const cs_lines *l, size_t i, size_t k, double x, double y)
{
    assert_true(fabs(l->x[l->start[i] + k] - x) < 1e-9);
    assert_true(fabs(l->y[l->start[i] + k] - y) < 1e-9);
}

#define FEATURE(props, geom) \
    "{\"type\":\"Feature\",\"properties\":{" props "},\"geometry\":" geom "}"
#define LINE(coords) "{\"type\":\"LineString\",\"coordinates\":[" coords "]}"
#define COLLECTION(...) "{\"type\":\"FeatureCollection\",\"features\":[" __VA_ARGS__ "]}\n"

/* ------------------------------------------------------------ line layers */

static void no_network(void **state)
{
    env *e = *state;
    load(e, CS_OK);
    assert_int_equal(e->raw.lines.count, 0);
    assert_null(e->raw.layer.display);
    assert_int_equal(cs_context_message_count(e->ctx), 0);
}

/*
 * Ten features: 1 residential (kept), 2 motorway, 3 trunk, 4 construction (class),
 * 5 footway MultiLineString of 2 parts (kept), 6 a Point (skipped), 7 empty class
 * (kept), 8 service with Z (kept), 9 service access=private (closed), 10 service
 * access=private foot=yes (kept). Kept lines: 1, 5a, 5b, 7, 8, 10.
 */
static const char classes_geojson[] = COLLECTION(
    FEATURE("\"id\":\"r1\",\"highway\":\"residential\"", LINE("[0,0],[1,0],[1,1]")) ","
    FEATURE("\"id\":\"m2\",\"highway\":\"motorway\"", LINE("[5,5],[6,5]")) ","
    FEATURE("\"id\":\"t3\",\"highway\":\"trunk\"", LINE("[5,6],[6,6]")) ","
    FEATURE("\"id\":\"c4\",\"highway\":\"construction\"", LINE("[5,7],[6,7]")) ","
    FEATURE("\"id\":\"f5\",\"highway\":\"footway\"",
            "{\"type\":\"MultiLineString\",\"coordinates\":"
            "[[[2,0],[3,0]],[[2,1],[3,1],[4,1]]]}") ","
    FEATURE("\"id\":\"p6\",\"highway\":\"residential\"",
            "{\"type\":\"Point\",\"coordinates\":[9,9]}") ","
    FEATURE("\"id\":\"e7\",\"highway\":\"\"", LINE("[0,3],[1,3]")) ","
    FEATURE("\"id\":\"s8\",\"highway\":\"service\"", LINE("[0,4,10],[1,4,12]")) ","
    FEATURE("\"id\":\"s9\",\"highway\":\"service\",\"access\":\"private\"",
            LINE("[0,5],[1,5]")) ","
    FEATURE("\"id\":\"s10\",\"highway\":\"service\",\"access\":\"private\","
            "\"foot\":\"yes\"", LINE("[0,6],[1,6]")));

static void classes_and_geometry(void **state)
{
    env *e = *state;
    use_file(e, "classes.geojson", classes_geojson);
    load(e, CS_OK);
    const cs_lines *l = &e->raw.lines;
    assert_false(e->raw.osm);
    assert_int_equal(e->raw.features, 10);
    assert_int_equal(e->raw.left_out_class, 3);
    assert_int_equal(e->raw.left_out_closed, 1);
    assert_int_equal(l->count, 6);
    const long feature[] = {1, 5, 5, 7, 8, 10};
    const size_t nv[] = {3, 2, 3, 2, 2, 2};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(l->feature[i], feature[i]);
        assert_int_equal(vertices(l, i), nv[i]);
    }
    assert_null(l->speed); /* no speed field: all 1 */
    assert_vertex(l, 0, 2, 1, 1);
    assert_vertex(l, 1, 0, 2, 0);
    assert_vertex(l, 2, 2, 4, 1);
    assert_vertex(l, 4, 1, 1, 4); /* the Z is dropped */
    assert_vertex(l, 5, 0, 0, 6);
    /* the layer's description, as for the other layers */
    assert_string_equal(e->raw.layer.display, e->cfg->network.layer.path);
    assert_string_equal(e->raw.layer.input.role, "network");
    assert_int_equal(e->raw.layer.input.features, 10);
    assert_false(e->raw.layer.csv);
    assert_false(e->raw.layer.srs_from_config);
    assert_non_null(e->raw.layer.srs); /* GeoJSON: WGS84 */
    assert_int_equal(cs_context_message_count(e->ctx), 0);
}

/* A class list of the study's own: only those classes, and motorways when listed. */
static void custom_highway_list(void **state)
{
    env *e = *state;
    use_file(e, "classes.geojson", classes_geojson);
    const char *const list[] = {"motorway", "Trunk", "footway"};
    set_highways(e->cfg, list, 3);
    load(e, CS_OK);
    /* 2 motorway, 3 trunk (any case), 5 footway (2 parts), 7 empty class kept; the
     * residential, construction and 3 services are left out by class */
    assert_int_equal(e->raw.lines.count, 5);
    assert_int_equal(e->raw.left_out_class, 5);
    assert_int_equal(e->raw.left_out_closed, 0);
    const long feature[] = {2, 3, 5, 5, 7};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(e->raw.lines.feature[i], feature[i]);
}

/* A configured CRS replaces the layer's. */
static void configured_crs(void **state)
{
    env *e = *state;
    use_file(e, "classes.geojson", classes_geojson);
    e->cfg->network.layer.crs = cs_strdup("EPSG:3857");
    load(e, CS_OK);
    assert_true(e->raw.layer.srs_from_config);
    assert_string_equal(e->raw.layer.srs, "EPSG:3857");
}

/* Curves are made linear; MultiCurve parts become lines of their own. */
static void curves(void **state)
{
    env *e = *state;
    use_file(e, "curves.csv",
             "WKT,highway\n"
             "\"CIRCULARSTRING (0 0,1 1,2 0)\",footway\n"
             "\"MULTICURVE ((10 0,11 0),CIRCULARSTRING (11 0,12 1,13 0))\",path\n"
             "\"COMPOUNDCURVE ((20 0,21 0),CIRCULARSTRING (21 0,22 1,23 0))\",motorway\n"
             "\"POLYGON ((0 0,1 0,1 1,0 0))\",footway\n");
    load(e, CS_OK);
    const cs_lines *l = &e->raw.lines;
    assert_true(e->raw.layer.csv);
    assert_int_equal(l->count, 3);
    assert_int_equal(e->raw.left_out_class, 1);
    /* the arc from (0,0) over (1,1) to (2,0): every vertex 1 from (1,0) */
    assert_true(vertices(l, 0) > 8);
    for (size_t v = l->start[0]; v < l->start[1]; v++)
        assert_true(fabs(hypot(l->x[v] - 1, l->y[v]) - 1) < 1e-9);
    assert_vertex(l, 0, 0, 0, 0);
    assert_vertex(l, 0, vertices(l, 0) - 1, 2, 0);
    assert_int_equal(vertices(l, 1), 2);
    assert_vertex(l, 2, vertices(l, 2) - 1, 13, 0);
    assert_int_equal(l->feature[1], 2);
    assert_int_equal(l->feature[2], 2);
}

static void only_points_and_polygons(void **state)
{
    env *e = *state;
    use_file(e, "stops.geojson", COLLECTION(
        FEATURE("\"highway\":\"bus_stop\"", "{\"type\":\"Point\",\"coordinates\":[0,0]}") ","
        FEATURE("\"highway\":\"bus_stop\"", "{\"type\":\"Point\",\"coordinates\":[1,0]}") ","
        FEATURE("\"highway\":\"pedestrian\"",
                "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}")));
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "stops.geojson", "has no lines", "3 features",
                               "2 points", "1 polygons", "OpenStreetMap", NULL));
}

static void all_left_out(void **state)
{
    env *e = *state;
    use_file(e, "fast.geojson", COLLECTION(
        FEATURE("\"highway\":\"motorway\"", LINE("[0,0],[1,0]")) ","
        FEATURE("\"highway\":\"motorway\"", LINE("[0,1],[1,1]")) ","
        FEATURE("\"highway\":\"trunk\"", LINE("[0,2],[1,2]")) ","
        FEATURE("\"highway\":\"residential\",\"foot\":\"no\"", LINE("[0,3],[1,3]"))));
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "fast.geojson", "no way of the network can be walked",
                               "3 left out by their class (motorway 2, trunk 1)",
                               "1 as closed", "network.highway", NULL));
}

static const char closed_geojson[] = COLLECTION(
    FEATURE("\"id\":\"a\",\"shut\":\"yes\"", LINE("[0,0],[1,0]")) ","
    FEATURE("\"id\":\"b\",\"shut\":\"0\"", LINE("[0,1],[1,1]")) ","
    FEATURE("\"id\":\"c\",\"shut\":\" Closed \"", LINE("[0,2],[1,2]")) ","
    FEATURE("\"id\":\"d\",\"shut\":null", LINE("[0,3],[1,3]")) ","
    FEATURE("\"id\":\"e\",\"shut\":\"OPEN\"", LINE("[0,4],[1,4]")) ","
    FEATURE("\"id\":\"f\",\"shut\":1", LINE("[0,5],[1,5]")));

static void closed_field(void **state)
{
    env *e = *state;
    use_file(e, "closed.geojson", closed_geojson);
    e->cfg->network.closed_field = cs_strdup("shut");
    load(e, CS_OK);
    /* closed: a (yes), c (Closed), f (1); open: b, d, e */
    assert_int_equal(e->raw.lines.count, 3);
    assert_int_equal(e->raw.left_out_closed, 3);
    assert_int_equal(e->raw.lines.feature[0], 2);
    assert_int_equal(e->raw.lines.feature[1], 4);
    assert_int_equal(e->raw.lines.feature[2], 5);
    /* a value that is no flag */
    use_file(e, "closed.geojson", COLLECTION(
        FEATURE("\"id\":\"a\",\"shut\":\"no\"", LINE("[0,0],[1,0]")) ","
        FEATURE("\"id\":\"b\",\"shut\":\"maybe\"", LINE("[0,1],[1,1]"))));
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "closed.geojson", "feature 2 (id b)", "'shut'",
                               "'maybe' is not a closure flag", "1/true/yes", NULL));
    /* a field that is not there */
    cs_context_clear_messages(e->ctx);
    set_field(&e->cfg->network.closed_field, "closure");
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "closed.geojson", "no field 'closure'", "id, shut",
                               "network.closed", NULL));
}

static void speed_field(void **state)
{
    env *e = *state;
    use_file(e, "pace.geojson", COLLECTION(
        FEATURE("\"pace\":0.5", LINE("[0,0],[1,0]")) ","
        FEATURE("\"pace\":null", "{\"type\":\"MultiLineString\",\"coordinates\":"
                                 "[[[0,1],[1,1]],[[0,2],[1,2]]]}") ","
        FEATURE("\"pace\":\"2\"", LINE("[0,3],[1,3]")) ","
        FEATURE("\"pace\":10", LINE("[0,4],[1,4]"))));
    e->cfg->network.speed_field = cs_strdup("pace");
    load(e, CS_OK);
    assert_int_equal(e->raw.lines.count, 5);
    const double speed[] = {0.5, 1, 1, 2, 10};
    for (size_t i = 0; i < 5; i++)
        assert_true(e->raw.lines.speed[i] == speed[i]);
    /* negative, zero, too fast, not a number: each named */
    use_file(e, "pace.geojson", COLLECTION(
        FEATURE("\"pace\":1", LINE("[0,0],[1,0]")) ","
        FEATURE("\"pace\":-0.5", LINE("[0,1],[1,1]")) ","
        FEATURE("\"pace\":0", LINE("[0,2],[1,2]")) ","
        FEATURE("\"pace\":11", LINE("[0,3],[1,3]")) ","
        FEATURE("\"pace\":\"fast\"", LINE("[0,4],[1,4]"))));
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "pace.geojson", "feature 2", "'pace'",
                               "speed factor -0.5 is out of range", "above 0", NULL));
    assert_true(tu_has_message(e->ctx, "feature 3", "'pace'", "speed factor 0 is out", NULL));
    assert_true(tu_has_message(e->ctx, "feature 4", "'pace'", "speed factor 11 is out", NULL));
    assert_true(tu_has_message(e->ctx, "feature 5", "'pace'", "'fast' is not a number", NULL));
    assert_false(tu_has_message(e->ctx, "feature 1", NULL));
}

/* A thousand rows with the same problem give 5 messages and a line counting the other
 * 995, not a thousand; all thousand are counted. */
static void repeated_errors_capped(void **state)
{
    env *e = *state;
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "pace,WKT\n");
    for (int i = 0; i < 1000; i++)
        cs_buf_printf(&b, "-1,\"LINESTRING (%d 0,%d 1)\"\n", i, i);
    use_file(e, "pace.csv", b.data);
    cs_buf_free(&b);
    e->cfg->network.speed_field = cs_strdup("pace");
    load(e, CS_ERR_INPUT);
    assert_int_equal(cs_context_error_count(e->ctx), 1000);
    assert_int_equal(cs_context_message_count(e->ctx), 5 + 1);
    assert_true(tu_has_message(e->ctx, "pace.csv:2", "'pace'", "out of range", NULL));
    assert_true(tu_has_message(e->ctx, "pace.csv:6", "'pace'", "out of range", NULL));
    assert_false(tu_has_message(e->ctx, "pace.csv:7", NULL));
    assert_true(tu_has_message(e->ctx, "pace.csv: 'pace': ... and 995 more errors like the ones "
                               "above, not listed", NULL));
}

static void class_field(void **state)
{
    env *e = *state;
    use_file(e, "kinds.geojson", COLLECTION(
        FEATURE("\"kind\":\"motorway\",\"highway\":\"footway\"", LINE("[0,0],[1,0]")) ","
        FEATURE("\"kind\":\"steps\",\"highway\":\"motorway\"", LINE("[0,1],[1,1]"))));
    /* the configured class field wins over highway */
    e->cfg->network.class_field = cs_strdup("kind");
    load(e, CS_OK);
    assert_int_equal(e->raw.lines.count, 1);
    assert_int_equal(e->raw.lines.feature[0], 2);
    assert_int_equal(e->raw.left_out_class, 1);
    /* a class field that is not there: the error lists the fields */
    set_field(&e->cfg->network.class_field, "fclass");
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "kinds.geojson", "no field 'fclass'",
                               "the fields are: kind, highway", "network.class", NULL));
    /* and so does a speed field that is missing */
    cs_context_clear_messages(e->ctx);
    set_field(&e->cfg->network.class_field, NULL);
    e->cfg->network.speed_field = cs_strdup("speed");
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "no field 'speed'", "kind, highway", NULL));
}

/* Without a class field every line is walked. */
static void no_class_field(void **state)
{
    env *e = *state;
    use_file(e, "plain.geojson", COLLECTION(
        FEATURE("\"name\":\"a\"", LINE("[0,0],[1,0]")) ","
        FEATURE("\"name\":\"b\"", LINE("[0,1],[1,1]"))));
    load(e, CS_OK);
    assert_int_equal(e->raw.lines.count, 2);
    assert_int_equal(e->raw.left_out_class + e->raw.left_out_closed, 0);
}

/* Every allocation that can fail is reported as CS_ERR_NOMEM, with nothing leaked. */
static void allocation_failures(void **state)
{
    env *e = *state;
    use_file(e, "classes.geojson", classes_geojson);
    e->cfg->network.speed_field = cs_strdup("highway"); /* text: errors on the way too */
    cs_status st = CS_ERR_NOMEM;
    long n;
    for (n = 0; st == CS_ERR_NOMEM && n < 10000; n++) {
        cs_context_clear_messages(e->ctx);
        cs_raw_lines_free(&e->raw);
        tu_alloc_fail_after(n);
        st = cs_load_network(e->ctx, e->cfg, &e->raw);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        assert_true(st == CS_ERR_INPUT || st == CS_ERR_NOMEM);
        /* the bad values' errors come through even when their messages could not
         * all be stored (which the context flags) */
        if (st == CS_ERR_INPUT && refused)
            assert_true(e->ctx->out_of_memory);
    }
    assert_int_equal(st, CS_ERR_INPUT);
    assert_true(n > 20); /* it did fail along the way */
    assert_true(tu_has_message(e->ctx, "feature 1 (id r1)", "'highway'", "not a number",
                               NULL));
}

/* ------------------------------------------------------------ other_tags */

static void other_tags_parser(void **state)
{
    (void)state;
    char v[64];
    /* prefixes of one another, escaped quotes and commas inside values */
    const char *tags = "\"footway\"=>\"sidewalk\",\"foot\"=>\"no\","
                       "\"name\"=>\"a \\\"quoted\\\", name, with => arrow\","
                       "\"access:foot\"=>\"yes\",\"access\"=>\"private\"";
    cs_osm_tag(tags, "foot", v, sizeof v);
    assert_string_equal(v, "no");
    cs_osm_tag(tags, "footway", v, sizeof v);
    assert_string_equal(v, "sidewalk");
    cs_osm_tag(tags, "foo", v, sizeof v);
    assert_string_equal(v, "");
    cs_osm_tag(tags, "name", v, sizeof v);
    assert_string_equal(v, "a \"quoted\", name, with => arrow");
    cs_osm_tag(tags, "access", v, sizeof v);
    assert_string_equal(v, "private");
    cs_osm_tag(tags, "access:foot", v, sizeof v);
    assert_string_equal(v, "yes");
    cs_osm_tag(tags, "bicycle", v, sizeof v);
    assert_string_equal(v, "");
    /* a value that looks like a key must not match */
    cs_osm_tag("\"note\"=>\"foot\",\"x\"=>\"1\"", "foot", v, sizeof v);
    assert_string_equal(v, "");
    /* escaped backslash before the closing quote, and an escaped quote in a key */
    cs_osm_tag("\"a\"=>\"c:\\\\\",\"foot\"=>\"yes\"", "foot", v, sizeof v);
    assert_string_equal(v, "yes");
    cs_osm_tag("\"a\"=>\"c:\\\\\",\"foot\"=>\"yes\"", "a", v, sizeof v);
    assert_string_equal(v, "c:\\");
    cs_osm_tag("\"say \\\"hi\\\"\"=>\"1\",\"foot\"=>\"no\"", "say \"hi\"", v, sizeof v);
    assert_string_equal(v, "1");
    /* hstore NULL, spaces around =>, empty text, a value cut to the buffer */
    cs_osm_tag("\"foot\"=>NULL,\"access\" => \"no\"", "foot", v, sizeof v);
    assert_string_equal(v, "");
    cs_osm_tag("\"foot\"=>NULL,\"access\" => \"no\"", "access", v, sizeof v);
    assert_string_equal(v, "no");
    cs_osm_tag("", "foot", v, sizeof v);
    assert_string_equal(v, "");
    char small[4];
    cs_osm_tag("\"foot\"=>\"designated\"", "foot", small, sizeof small);
    assert_string_equal(small, "des");
    /* broken text ends the search quietly */
    cs_osm_tag("\"foot\"=>\"no", "foot", v, sizeof v);
    assert_string_equal(v, "no");
    cs_osm_tag("\"foot", "foot", v, sizeof v);
    assert_string_equal(v, "");
    cs_osm_tag("garbage", "foot", v, sizeof v);
    assert_string_equal(v, "");
}

/* ------------------------------------------------------------ OpenStreetMap */

/*
 * Nodes n at (121.4 + n/1000, 31.2 + n/1000), two per way. The ways:
 *   101 highway=residential                   kept
 *   102 highway=footway foot=no               closed
 *   103 highway=service access=private        closed
 *   104 highway=service access=private foot=yes   kept
 *   105 highway=motorway                      class
 *   106 highway=steps name with quote and comma   kept
 *   107 waterway=river (no highway)           class
 */
static char *tiny_osm(void)
{
    static const char *const tags[] = {
        "<tag k='highway' v='residential'/>",
        "<tag k='highway' v='footway'/><tag k='foot' v='no'/>",
        "<tag k='highway' v='service'/><tag k='access' v='private'/>",
        "<tag k='highway' v='service'/><tag k='access' v='private'/><tag k='foot' v='yes'/>",
        "<tag k='highway' v='motorway'/>",
        "<tag k='highway' v='steps'/><tag k='note' v='say &quot;foot&quot;=&gt;&quot;no&quot;, ok'/>",
        "<tag k='waterway' v='river'/>",
    };
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n");
    for (int n = 1; n <= 14; n++)
        cs_buf_printf(&b, "<node id='%d' version='1' lat='%.3f' lon='%.3f'/>\n", n,
                      31.2 + n / 1000.0, 121.4 + n / 1000.0);
    cs_buf_add(&b, "<node id='99' version='1' lat='31.3' lon='121.5'>"
                   "<tag k='highway' v='bus_stop'/></node>\n");
    for (int w = 0; w < 7; w++)
        cs_buf_printf(&b, "<way id='%d' version='1'><nd ref='%d'/><nd ref='%d'/>%s</way>\n",
                      101 + w, 2 * w + 1, 2 * w + 2, tags[w]);
    cs_buf_add(&b, "</osm>\n");
    return cs_buf_take(&b);
}

static void assert_tiny_osm_kept(const env *e)
{
    const cs_lines *l = &e->raw.lines;
    assert_true(e->raw.osm);
    assert_int_equal(e->raw.features, 7);
    assert_int_equal(l->count, 3);
    assert_int_equal(e->raw.left_out_class, 2);
    assert_int_equal(e->raw.left_out_closed, 2);
    /* ways 101, 104 and 106: nodes 1-2, 7-8, 11-12 */
    const int first_node[] = {1, 7, 11};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(vertices(l, i), 2);
        for (int k = 0; k < 2; k++)
            assert_vertex(l, i, (size_t)k, 121.4 + (first_node[i] + k) / 1000.0,
                          31.2 + (first_node[i] + k) / 1000.0);
    }
    assert_int_equal(l->feature[0], 1);
    assert_int_equal(l->feature[1], 4);
    assert_int_equal(l->feature[2], 6);
}

static void osm_xml(void **state)
{
    env *e = *state;
    char *text = tiny_osm();
    use_file(e, "tiny.osm", text);
    cs_free(text);
    load(e, CS_OK);
    assert_tiny_osm_kept(e);
    assert_non_null(e->raw.layer.srs);
    /* a study that walks motorways too */
    const char *const list[] = {"residential", "motorway"};
    set_highways(e->cfg, list, 2);
    load(e, CS_OK);
    assert_int_equal(e->raw.lines.count, 2);
    assert_int_equal(e->raw.lines.feature[1], 5);
    assert_int_equal(e->raw.left_out_class, 5);
    /* nothing walkable */
    const char *const none[] = {"cycleway"};
    set_highways(e->cfg, none, 1);
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "tiny.osm", "7 left out by their class",
                               "(residential 1, footway 1, service 2, motorway 1, steps 1, "
                               "(no class) 1)", NULL));
    /* a file of nodes only: its lines layer is empty */
    set_highways(e->cfg, NULL, 0);
    use_file(e, "nodes.osm", "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
                             "<node id='1' version='1' lat='31.2' lon='121.4'>"
                             "<tag k='highway' v='bus_stop'/></node>\n</osm>\n");
    load(e, CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "nodes.osm", "has no lines (0 features)", NULL));
}

/* With an osmconf.ini that makes foot and access fields, those fields are read. */
static void osm_tag_fields(void **state)
{
    env *e = *state;
    const char *const candidates[] = {"/usr/share/gdal/osmconf.ini",
                                      "/usr/local/share/gdal/osmconf.ini"};
    char *conf = NULL;
    for (size_t i = 0; i < 2 && !conf; i++)
        conf = tu_read(candidates[i], NULL);
    if (!conf) {
        print_message("skipped: GDAL's osmconf.ini was not found\n");
        skip();
    }
    /* add foot and access to the [lines] attributes */
    const char *at = strstr(strstr(conf, "[lines]"), "\nattributes=");
    assert_non_null(at);
    const char *eol = strchr(at + 1, '\n');
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_addn(&b, conf, (size_t)(eol - conf));
    cs_buf_add(&b, ",foot,access");
    cs_buf_add(&b, eol);
    char *path = tu_write(e->dir, "osmconf.ini", b.data);
    cs_buf_free(&b);
    free(conf);
    setenv("OSM_CONFIG_FILE", path, 1);
    char *text = tiny_osm();
    use_file(e, "tiny.osm", text);
    cs_free(text);
    load(e, CS_OK);
    unsetenv("OSM_CONFIG_FILE");
    free(path);
    assert_tiny_osm_kept(e);
}

/* ------------------------------------------------------------ real data */

/*
 * ../shared/data/real/shanghai-central-drive-osm.osm (OSMnx 2.0.7 output, 796 ways, all
 * with highway=). Counted independently with Python's xml.etree over the XML and the
 * same rule (default class list; foot=no; access=no/private unless foot=yes/designated/
 * permissive): 693 ways kept with 2,928 vertices (lon sum 355676.1490170, lat sum
 * 91443.8833385), 100 left out by class (75 trunk_link, 25 trunk), 3 as closed (ways
 * 40036066, 401226925, 1204070539: residential, access=no). The same network as GeoJSON
 * (shanghai-central-roads.geojson, fields osm_id, name, highway...: no access) keeps 696
 * ways with 2,937 vertices, counted with Python's json module.
 */
static void real_osm(void **state)
{
    env *e = *state;
    const char *shared = tu_shared_data();
    if (!shared) {
        print_message("skipped: ../shared/data/real is absent\n");
        skip();
    }
    char *path = tu_join(shared, "shanghai-central-drive-osm.osm");
    e->cfg->network.layer.path = cs_strdup(path);
    free(path);
    load(e, CS_OK);
    const cs_lines *l = &e->raw.lines;
    assert_true(e->raw.osm);
    assert_int_equal(e->raw.features, 796);
    assert_int_equal(l->count, 693);
    assert_int_equal(e->raw.left_out_class, 100);
    assert_int_equal(e->raw.left_out_closed, 3);
    assert_int_equal(l->start[l->count], 2928);
    double sx = 0, sy = 0;
    for (size_t v = 0; v < l->start[l->count]; v++) {
        sx += l->x[v];
        sy += l->y[v];
    }
    assert_true(fabs(sx - 355676.1490170) < 1e-5);
    assert_true(fabs(sy - 91443.8833385) < 1e-5);

    path = tu_join(shared, "shanghai-central-roads.geojson");
    set_field(&e->cfg->network.layer.path, path);
    free(path);
    load(e, CS_OK);
    assert_false(e->raw.osm);
    assert_int_equal(e->raw.features, 796);
    assert_int_equal(e->raw.lines.count, 696);
    assert_int_equal(e->raw.left_out_class, 100);
    assert_int_equal(e->raw.left_out_closed, 0);
    assert_int_equal(e->raw.lines.start[e->raw.lines.count], 2937);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(no_network),
        T(classes_and_geometry),
        T(custom_highway_list),
        T(configured_crs),
        T(curves),
        T(only_points_and_polygons),
        T(all_left_out),
        T(closed_field),
        T(speed_field),
        T(repeated_errors_capped),
        T(class_field),
        T(no_class_field),
        T(allocation_failures),
        T(other_tags_parser),
        T(osm_xml),
        T(osm_tag_fields),
        T(real_osm),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
