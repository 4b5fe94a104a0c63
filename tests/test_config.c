/*
 * test_config.c — the study settings: defaults, reading a study file (the example in
 * docs/study-file.md) field by field, --set overrides, every error path of the reader,
 * the setter and the cross-key checks, path resolution, and allocation failures.
 *
 * Expected values are read off the study texts by hand (or located in them by
 * searching the text), never taken from the code under test.
 */
#include "testutil.h"

#include "io/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The example of docs/study-file.md without its care_home kind, so validation has
 * exactly one problem to find. */
static const char full_study[] =
    "name: 闵行区 (illustrative sample)   # shown in outputs\n"
    "crs: auto            # working metric CRS: auto = transverse Mercator centred on the\n"
    "                     # areas; or any CRS PROJ knows, e.g. EPSG:4549\n"
    "walk_speed_kmh: 4    # default walking speed (> 0, ≤ 20)\n"
    "thresholds_min: [5, 10, 15]   # default thresholds of every kind, minutes (1..8 values, > 0)\n"
    "outside_tolerance_m: 50       # a demand point outside every area but this close to one\n"
    "                              # counts in it (≥ 0)\n"
    "far_outside_km: 10            # a point farther than this from the areas is an error (> 0)\n"
    "\n"
    "areas:               # the streets (街道/镇): polygons\n"
    "  path: streets.geojson\n"
    "  layer: ~           # layer name inside the file; default: the first\n"
    "  crs: ~             # default: the file's own; EPSG:4326, EPSG:4490, GCJ-02, BD-09, WKT, PROJ\n"
    "  encoding: ~        # e.g. CP936 for a Shapefile without .cpg\n"
    "  id: code           # default: the first of id, code, ID, CODE\n"
    "  name: name         # default: the first of name, NAME\n"
    "\n"
    "facilities:          # points, or a table with x/y columns\n"
    "  path: facilities.csv\n"
    "  crs: EPSG:4326\n"
    "  x: lon             # for tables (CSV, XLSX): default lon/longitude/x\n"
    "  y: lat             #                         default lat/latitude/y\n"
    "  id: id\n"
    "  name: name\n"
    "  kind: kind         # field holding the kind (matched against kinds.*.match)\n"
    "\n"
    "population:          # demand points\n"
    "  path: population.csv\n"
    "  crs: EPSG:4326\n"
    "  x: lon\n"
    "  y: lat\n"
    "  id: id             # optional\n"
    "  total: pop         # residents; default pop\n"
    "  bands:             # age bands: a field name, or a share of the total\n"
    "    60+: pop60\n"
    "    65+: pop65\n"
    "    80+: {share: 0.0268}\n"
    "\n"
    "capacities:          # capacities measured at facilities\n"
    "  beds:         {field: beds,          unit: beds,      name: 床位}\n"
    "  nursing_beds: {field: nursing_beds,  unit: beds,      name: 护理型床位}\n"
    "  meals:        {field: meals_per_day, unit: meals/day, name: 供餐能力}\n"
    "  floor_area:   {field: floor_area_m2, unit: m²,        name: 建筑面积}\n"
    "  places:       {field: places,        unit: places,    name: 托位}\n"
    "\n"
    "kinds:               # facility kinds, in this order in all outputs\n"
    "  centre:\n"
    "    name: 社区综合为老服务中心\n"
    "    name_en: community elder-service centre\n"
    "    unit: centres                  # what one facility is called in gap texts\n"
    "    match: [centre, 社区综合为老服务中心]   # values of the kind field; default [id]\n"
    "    thresholds_min: [5, 10, 15]    # or thresholds_m: [300, 500, 1000]\n"
    "    walk_speed_kmh: 4              # default: the study's\n"
    "\n"
    "targets:             # each evaluated for the district and every area\n"
    "  coverage_15min:\n"
    "    name: 15分钟养老服务圈覆盖率\n"
    "    name_en: 60+ residents within 15 minutes of a centre\n"
    "    type: coverage          # share of band within threshold of kind\n"
    "    kind: centre\n"
    "    within_min: 15          # or within_m; must be one of the kind's thresholds\n"
    "    band: 60+               # default total\n"
    "    at_least: 0.9           # a share in [0, 1]\n"
    "    scope: area             # area: every street must meet it; district (default)\n"
    "  centres:\n"
    "    type: count             # facilities of kind\n"
    "    kind: centre\n"
    "    at_least: 110\n"
    "  beds:\n"
    "    type: capacity          # total capacity (kind optional: all kinds)\n"
    "    capacity: beds\n"
    "    kind: care_home\n"
    "    at_least: 17000\n"
    "  meals:\n"
    "    type: capacity_per_population   # capacity per `per` residents of band\n"
    "    capacity: meals\n"
    "    band: 65+\n"
    "    per: 1                  # default 1; 1000 for \"per 1,000 residents\"\n"
    "    at_least: 0.05\n"
    "  nursing_share:\n"
    "    type: capacity_share    # capacity / capacity_of\n"
    "    capacity: nursing_beds\n"
    "    capacity_of: beds\n"
    "    at_least: 0.6\n";

/* 1-based line of the first line of text containing needle; independent of the reader. */
static long line_containing(const char *text, const char *needle)
{
    long line = 1;
    const char *hit = strstr(text, needle);
    assert_non_null(hit);
    for (const char *p = text; p < hit; p++)
        line += *p == '\n';
    return line;
}

static size_t count_errors(const cs_context *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < cs_context_message_count(ctx); i++)
        n += cs_context_get_message(ctx, i)->severity == CS_SEVERITY_ERROR;
    return n;
}

/* The first error message whose text contains needle. */
static const cs_message *find_message(const cs_context *ctx, const char *needle)
{
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        if (m->text && strstr(m->text, needle))
            return m;
    }
    return NULL;
}

typedef struct fixture {
    cs_context *ctx;
    cs_config *cfg;
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || cs_context_create(&f->ctx) != CS_OK || cs_config_create(f->ctx, &f->cfg) != CS_OK)
        return -1;
    f->dir = tu_mkdtemp();
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (getenv("TEST_CONFIG_VERBOSE"))
        tu_dump_messages(f->ctx);
    cs_config_destroy(f->cfg);
    cs_context_destroy(f->ctx);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Write text as dir/name and load it into the fixture's config. */
static cs_status load_text(fixture *f, const char *name, const char *text, char **path_out)
{
    char *path = tu_write(f->dir, name, text);
    cs_status st = cs_config_load(f->ctx, f->cfg, path);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return st;
}

/* ------------------------------------------------------------------ defaults */

static void defaults(void **state)
{
    fixture *f = *state;
    const cs_config *c = f->cfg;
    assert_string_equal(c->name, "careshed study");
    assert_null(c->crs);
    assert_true(c->walk_speed_kmh == 4);
    assert_int_equal(c->threshold_count, 3);
    assert_true(c->thresholds_min[0] == 5 && c->thresholds_min[1] == 10 &&
                c->thresholds_min[2] == 15);
    assert_true(c->outside_tolerance_m == 50);
    assert_true(c->far_outside_km == 10);
    assert_string_equal(c->kind_field, "kind");
    assert_string_equal(c->total_field, "pop");
    assert_null(c->file);
    assert_null(c->base_dir);
    assert_null(c->areas.path);
    assert_null(c->facilities.crs);
    assert_null(c->population.x_field);
    assert_int_equal(c->capacity_count + c->band_count + c->kind_count + c->target_count, 0);
    assert_int_equal(cs_config_find_kind(c, "centre"), -1);
    assert_int_equal(cs_context_message_count(f->ctx), 0);
}

static void entries_have_their_defaults(void **state)
{
    fixture *f = *state;
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds.centre.name", "中心"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.t.type", "count"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "capacities.beds.unit", "beds"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.60+.field", "p60"), CS_OK);
    const cs_kind_config *k = &f->cfg->kinds[0];
    assert_string_equal(k->id, "centre");
    assert_true(isnan(k->walk_speed_kmh));
    assert_int_equal(k->threshold_count, 0);
    assert_null(k->match);
    const cs_target_config *t = &f->cfg->targets[0];
    assert_true(t->per == 1);
    assert_int_equal(t->scope, CS_SCOPE_DISTRICT);
    assert_true(isnan(t->within_min) && isnan(t->within_m) && isnan(t->at_least));
    assert_int_equal(t->line, 0);
    assert_null(f->cfg->capacities[0].field);
    assert_true(isnan(f->cfg->bands[0].share));
    assert_string_equal(f->cfg->bands[0].field, "p60");
}

/* The network keys: defaults, values read back, lists, booleans, measures and
 * resets; each expected value is the literal the test wrote. */
static void network_settings(void **state)
{
    fixture *f = *state;
    cs_context *ctx = f->ctx;
    cs_config *c = f->cfg;
    assert_null(c->network.layer.path);
    assert_true(c->network.snap_m == 0.5 && c->network.max_attach_m == 300 &&
                c->network.access_width_m == 50);
    assert_false(c->network.node_crossings || c->network.facility_areas);
    assert_int_equal(c->measures, 0);
    /* without a network everything is straight */
    assert_int_equal(cs_config_measures(c, NULL), CS_MEASURE_STRAIGHT);
    static const char text[] =
        "measure: network\n"
        "network:\n"
        "  path: roads.osm.pbf\n"
        "  highway: [footway, steps]\n"
        "  closed: shut\n"
        "  speed: pace\n"
        "  class: kind\n"
        "  snap_m: 0\n"
        "  node_crossings: yes\n"
        "  max_attach_m: 150\n"
        "  access_width_m: 25\n"
        "  facility_areas: TRUE\n"
        "kinds:\n"
        "  meal: {measure: both, load_capacity: meals, load_band: 65+, load_rate: 0.05}\n"
        "targets:\n"
        "  t: {type: coverage, kind: meal, within_min: 15, at_least: 0.9, measure: straight}\n";
    assert_int_equal(load_text(f, "net.yaml", text, NULL), CS_OK);
    assert_int_equal(cs_context_message_count(ctx), 0);
    const cs_network_config *n = &c->network;
    assert_non_null(strstr(n->layer.path, "roads.osm.pbf"));
    assert_int_equal(n->highway_count, 2);
    assert_string_equal(n->highway[0], "footway");
    assert_string_equal(n->highway[1], "steps");
    assert_string_equal(n->closed_field, "shut");
    assert_string_equal(n->speed_field, "pace");
    assert_string_equal(n->class_field, "kind");
    assert_true(n->snap_m == 0 && n->max_attach_m == 150 && n->access_width_m == 25);
    assert_true(n->node_crossings && n->facility_areas);
    assert_int_equal(c->measures, CS_MEASURE_NETWORK);
    const cs_kind_config *k = &c->kinds[0];
    assert_int_equal(k->measures, CS_MEASURE_STRAIGHT | CS_MEASURE_NETWORK);
    assert_string_equal(k->load_capacity, "meals");
    assert_string_equal(k->load_band, "65+");
    assert_true(k->load_rate == 0.05);
    assert_int_equal(c->targets[0].measure, CS_MEASURE_STRAIGHT);
    assert_int_equal(cs_config_validate(ctx, c), CS_OK);
    /* an empty value restores a default; the whole section resets */
    assert_int_equal(cs_config_set(ctx, c, "network.max_attach_m", ""), CS_OK);
    assert_true(n->max_attach_m == 300);
    assert_int_equal(cs_config_set(ctx, c, "kinds.meal.load_band", "total"), CS_OK);
    assert_null(k->load_band);
    assert_int_equal(cs_config_set(ctx, c, "network", ""), CS_OK);
    assert_null(n->layer.path);
    assert_int_equal(n->highway_count, 0);
    assert_false(n->node_crossings);
    /* measuring along a network that is no longer there is an error */
    assert_int_equal(cs_config_validate(ctx, c), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "measure", "no walking network is given", NULL));
    /* a target cannot take "both" */
    assert_int_equal(cs_config_set(ctx, c, "targets.t.measure", "both"), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "targets.t.measure", "one of straight, network and matrix", NULL));
    assert_int_equal(cs_config_set(ctx, c, "network.x", "lon"), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "unknown key 'network.x'", NULL));
}

/* ---------------------------------------------------------- the full study */

static void full_study_read_back(void **state)
{
    fixture *f = *state;
    char *path = NULL;
    assert_int_equal(load_text(f, "study.yaml", full_study, &path), CS_OK);
    assert_int_equal(cs_context_message_count(f->ctx), 0);
    const cs_config *c = f->cfg;
    assert_string_equal(c->file, path);
    assert_string_equal(c->base_dir, f->dir);
    assert_string_equal(c->name, "闵行区 (illustrative sample)");
    assert_null(c->crs); /* auto */
    assert_true(c->walk_speed_kmh == 4);
    assert_int_equal(c->threshold_count, 3);
    assert_true(c->thresholds_min[0] == 5 && c->thresholds_min[1] == 10 &&
                c->thresholds_min[2] == 15);
    assert_true(c->outside_tolerance_m == 50);
    assert_true(c->far_outside_km == 10);

    assert_string_equal(c->areas.path, "streets.geojson");
    assert_int_equal(c->areas.path_line, line_containing(full_study, "streets.geojson"));
    assert_null(c->areas.layer);
    assert_null(c->areas.crs);
    assert_null(c->areas.encoding);
    assert_string_equal(c->areas.id_field, "code");
    assert_string_equal(c->areas.name_field, "name");

    assert_string_equal(c->facilities.path, "facilities.csv");
    assert_string_equal(c->facilities.crs, "EPSG:4326");
    assert_string_equal(c->facilities.x_field, "lon");
    assert_string_equal(c->facilities.y_field, "lat");
    assert_string_equal(c->facilities.id_field, "id");
    assert_string_equal(c->facilities.name_field, "name");
    assert_string_equal(c->kind_field, "kind");

    assert_string_equal(c->population.path, "population.csv");
    assert_string_equal(c->population.crs, "EPSG:4326");
    assert_string_equal(c->population.x_field, "lon");
    assert_string_equal(c->population.y_field, "lat");
    assert_string_equal(c->population.id_field, "id");
    assert_null(c->population.name_field);
    assert_string_equal(c->total_field, "pop");
    assert_int_equal(c->band_count, 3);
    assert_string_equal(c->bands[0].id, "60+");
    assert_string_equal(c->bands[0].field, "pop60");
    assert_true(isnan(c->bands[0].share));
    assert_string_equal(c->bands[1].id, "65+");
    assert_string_equal(c->bands[1].field, "pop65");
    assert_string_equal(c->bands[2].id, "80+");
    assert_null(c->bands[2].field);
    assert_true(c->bands[2].share == 0.0268);

    static const char *const caps[][4] = {
        {"beds", "beds", "beds", "床位"},
        {"nursing_beds", "nursing_beds", "beds", "护理型床位"},
        {"meals", "meals_per_day", "meals/day", "供餐能力"},
        {"floor_area", "floor_area_m2", "m²", "建筑面积"},
        {"places", "places", "places", "托位"},
    };
    assert_int_equal(c->capacity_count, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(c->capacities[i].id, caps[i][0]);
        assert_string_equal(c->capacities[i].field, caps[i][1]);
        assert_string_equal(c->capacities[i].unit, caps[i][2]);
        assert_string_equal(c->capacities[i].name, caps[i][3]);
    }

    assert_int_equal(c->kind_count, 1);
    const cs_kind_config *k = &c->kinds[0];
    assert_string_equal(k->id, "centre");
    assert_string_equal(k->name, "社区综合为老服务中心");
    assert_string_equal(k->name_en, "community elder-service centre");
    assert_string_equal(k->unit, "centres");
    assert_int_equal(k->match_count, 2);
    assert_string_equal(k->match[0], "centre");
    assert_string_equal(k->match[1], "社区综合为老服务中心");
    assert_int_equal(k->threshold_count, 3);
    assert_false(k->thresholds_in_m);
    assert_true(k->thresholds_min[0] == 5 && k->thresholds_min[1] == 10 &&
                k->thresholds_min[2] == 15);
    assert_true(k->walk_speed_kmh == 4);

    assert_int_equal(c->target_count, 5);
    const cs_target_config *t = c->targets;
    assert_string_equal(t[0].id, "coverage_15min");
    assert_int_equal(t[0].line, line_containing(full_study, "  coverage_15min:"));
    assert_string_equal(t[0].name, "15分钟养老服务圈覆盖率");
    assert_string_equal(t[0].name_en, "60+ residents within 15 minutes of a centre");
    assert_int_equal(t[0].type, CS_TARGET_COVERAGE);
    assert_string_equal(t[0].kind, "centre");
    assert_true(t[0].within_min == 15);
    assert_true(isnan(t[0].within_m));
    assert_string_equal(t[0].band, "60+");
    assert_true(t[0].at_least == 0.9);
    assert_int_equal(t[0].scope, CS_SCOPE_AREA);

    assert_string_equal(t[1].id, "centres");
    assert_int_equal(t[1].type, CS_TARGET_COUNT);
    assert_string_equal(t[1].kind, "centre");
    assert_true(t[1].at_least == 110);
    assert_int_equal(t[1].scope, CS_SCOPE_DISTRICT);
    assert_null(t[1].name);

    assert_string_equal(t[2].id, "beds");
    assert_int_equal(t[2].type, CS_TARGET_CAPACITY);
    assert_string_equal(t[2].capacity, "beds");
    assert_string_equal(t[2].kind, "care_home");
    assert_true(t[2].at_least == 17000);

    assert_string_equal(t[3].id, "meals");
    assert_int_equal(t[3].type, CS_TARGET_CAPACITY_PER_POP);
    assert_string_equal(t[3].capacity, "meals");
    assert_string_equal(t[3].band, "65+");
    assert_true(t[3].per == 1);
    assert_true(t[3].at_least == 0.05);

    assert_string_equal(t[4].id, "nursing_share");
    assert_int_equal(t[4].type, CS_TARGET_CAPACITY_SHARE);
    assert_string_equal(t[4].capacity, "nursing_beds");
    assert_string_equal(t[4].capacity_of, "beds");
    assert_true(t[4].at_least == 0.6);
    assert_int_equal(t[4].line, line_containing(full_study, "  nursing_share:"));

    assert_int_equal(cs_config_find_kind(c, "centre"), 0);
    assert_int_equal(cs_config_find_capacity(c, "meals"), 2);
    assert_int_equal(cs_config_find_capacity(c, "bed"), -1);
    assert_int_equal(cs_config_find_band(c, "80+"), 2);
    assert_int_equal(cs_config_find_band(c, "total"), -1);

    char *resolved = cs_config_resolve_path(c, c->areas.path);
    char *want = tu_join(f->dir, "streets.geojson");
    assert_string_equal(resolved, want);
    cs_free(resolved);
    free(want);

    /* The example names kind care_home, which it never defines: the only problem. */
    assert_int_equal(cs_config_validate(f->ctx, c), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = find_message(f->ctx, "care_home");
    assert_non_null(m);
    assert_string_equal(m->field, "targets.beds.kind");
    assert_int_equal(m->line, line_containing(full_study, "  beds:\n    type: capacity"));
    assert_string_equal(m->file, path);
    assert_true(tu_has_message(f->ctx, "defined kinds: centre", NULL));
    free(path);
}

/* The example in the documentation itself must keep loading. */
static void documentation_example_loads(void **state)
{
    fixture *f = *state;
    char *doc = tu_read(CS_SOURCE_DIR "/docs/study-file.md", NULL);
    assert_non_null(doc);
    char *start = strstr(doc, "```yaml\n");
    assert_non_null(start);
    start += strlen("```yaml\n");
    char *end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    assert_int_equal(load_text(f, "doc.yaml", start, NULL), CS_OK);
    assert_int_equal(cs_context_message_count(f->ctx), 0);
    assert_true(f->cfg->kind_count >= 1);
    free(doc);
}

/* ---------------------------------------------------------------- overrides */

static void overrides_replace_values(void **state)
{
    fixture *f = *state;
    cs_context *ctx = f->ctx;
    cs_config *c = f->cfg;
    assert_int_equal(load_text(f, "study.yaml", full_study, NULL), CS_OK);

    assert_int_equal(cs_config_set(ctx, c, "walk_speed_kmh", "3.5"), CS_OK);
    assert_true(c->walk_speed_kmh == 3.5);
    assert_int_equal(cs_config_set(ctx, c, "thresholds_min", " 15, 5,10 ,20"), CS_OK);
    assert_int_equal(c->threshold_count, 4);
    assert_true(c->thresholds_min[0] == 5 && c->thresholds_min[1] == 10 &&
                c->thresholds_min[2] == 15 && c->thresholds_min[3] == 20);
    assert_int_equal(cs_config_set(ctx, c, "thresholds_min", ""), CS_OK);
    assert_int_equal(c->threshold_count, 3);
    assert_true(c->thresholds_min[2] == 15);

    assert_int_equal(cs_config_set(ctx, c, "name", "Other"), CS_OK);
    assert_string_equal(c->name, "Other");
    assert_int_equal(cs_config_set(ctx, c, "name", ""), CS_OK);
    assert_string_equal(c->name, "careshed study");
    assert_int_equal(cs_config_set(ctx, c, "crs", "EPSG:4549"), CS_OK);
    assert_string_equal(c->crs, "EPSG:4549");
    assert_int_equal(cs_config_set(ctx, c, "crs", "auto"), CS_OK);
    assert_null(c->crs);
    assert_int_equal(cs_config_set(ctx, c, "facilities.kind", "type"), CS_OK);
    assert_string_equal(c->kind_field, "type");
    assert_int_equal(cs_config_set(ctx, c, "facilities.kind", NULL), CS_OK);
    assert_string_equal(c->kind_field, "kind");
    assert_int_equal(cs_config_set(ctx, c, "population.total", "residents"), CS_OK);
    assert_string_equal(c->total_field, "residents");
    assert_int_equal(cs_config_set(ctx, c, "areas.layer", "streets"), CS_OK);
    assert_string_equal(c->areas.layer, "streets");
    assert_int_equal(cs_config_set(ctx, c, "areas.path", "/data/other.shp"), CS_OK);
    assert_string_equal(c->areas.path, "/data/other.shp");
    assert_int_equal(c->areas.path_line, 0);

    /* Kind thresholds: metres replace minutes and back. */
    cs_kind_config *k = &c->kinds[0];
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.thresholds_m", "1000,300,500"), CS_OK);
    assert_true(k->thresholds_in_m);
    assert_int_equal(k->threshold_count, 3);
    assert_true(k->thresholds_m[0] == 300 && k->thresholds_m[1] == 500 &&
                k->thresholds_m[2] == 1000);
    assert_true(k->thresholds_min[0] == 0 && k->thresholds_min[2] == 0);
    /* restoring minutes leaves thresholds given in metres alone */
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.thresholds_min", ""), CS_OK);
    assert_true(k->thresholds_in_m);
    assert_int_equal(k->threshold_count, 3);
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.thresholds_min", "10"), CS_OK);
    assert_false(k->thresholds_in_m);
    assert_int_equal(k->threshold_count, 1);
    assert_true(k->thresholds_min[0] == 10 && k->thresholds_m[0] == 0);
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.thresholds_min", ""), CS_OK);
    assert_int_equal(k->threshold_count, 0); /* the study's again */
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.walk_speed_kmh", ""), CS_OK);
    assert_true(isnan(k->walk_speed_kmh));
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.match", "a, b ,c"), CS_OK);
    assert_int_equal(k->match_count, 3);
    assert_string_equal(k->match[1], "b");
    assert_int_equal(cs_config_set(ctx, c, "kinds.centre.match", ""), CS_OK);
    assert_int_equal(k->match_count, 0);
    assert_null(k->match);

    /* within_min and within_m exclude each other */
    cs_target_config *t = &c->targets[0];
    assert_int_equal(cs_config_set(ctx, c, "targets.coverage_15min.within_m", "500"), CS_OK);
    assert_true(t->within_m == 500 && isnan(t->within_min));
    assert_int_equal(cs_config_set(ctx, c, "targets.coverage_15min.band", "total"), CS_OK);
    assert_null(t->band);
    assert_int_equal(cs_config_set(ctx, c, "targets.coverage_15min.scope", ""), CS_OK);
    assert_int_equal(t->scope, CS_SCOPE_DISTRICT);
    assert_int_equal(cs_config_set(ctx, c, "targets.meals.per", "1000"), CS_OK);
    assert_true(c->targets[3].per == 1000);

    /* a band's field and share exclude each other */
    assert_int_equal(cs_config_set(ctx, c, "population.bands.60+.share", "0.25"), CS_OK);
    assert_null(c->bands[0].field);
    assert_true(c->bands[0].share == 0.25);
    assert_int_equal(cs_config_set(ctx, c, "population.bands.60+", "p60"), CS_OK);
    assert_string_equal(c->bands[0].field, "p60");
    assert_true(isnan(c->bands[0].share));

    /* new entries go at the end, in order of first mention; ids in any script */
    assert_int_equal(cs_config_set(ctx, c, "kinds.日间照料.name", "日间照料中心"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "kinds.canteen-2.unit", "canteens"), CS_OK);
    assert_int_equal(c->kind_count, 3);
    assert_string_equal(c->kinds[1].id, "日间照料");
    assert_string_equal(c->kinds[2].id, "canteen-2");
    assert_int_equal(cs_config_find_kind(c, "canteen-2"), 2);
    assert_int_equal(cs_config_set(ctx, c, "kinds.日间照料.name", "other"), CS_OK);
    assert_int_equal(c->kind_count, 3);

    /* empty values on groups restore their defaults */
    assert_int_equal(cs_config_set(ctx, c, "kinds.canteen-2", ""), CS_OK);
    assert_int_equal(c->kind_count, 3);
    assert_null(c->kinds[2].unit);
    assert_int_equal(cs_config_set(ctx, c, "population.bands", ""), CS_OK);
    assert_int_equal(c->band_count, 0);
    assert_int_equal(cs_config_set(ctx, c, "targets", ""), CS_OK);
    assert_int_equal(c->target_count, 0);
    assert_int_equal(cs_config_set(ctx, c, "facilities", ""), CS_OK);
    assert_null(c->facilities.path);
    assert_string_equal(c->kind_field, "kind");
    assert_int_equal(cs_context_message_count(ctx), 0);
}

/* A file read on top of settings changes only what it names. */
static void file_on_top_and_nulls_restore_defaults(void **state)
{
    fixture *f = *state;
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "far_outside_km", "3"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "walk_speed_kmh", "5"), CS_OK);
    assert_int_equal(load_text(f, "s.yaml",
                               "name: x\n"
                               "walk_speed_kmh: ~\n"
                               "outside_tolerance_m: 0\n"
                               "kinds:\n"
                               "  a: ~\n"
                               "  b: {}\n"
                               "  c:\n"
                               "    thresholds_min: 7\n",
                               NULL),
                     CS_OK);
    assert_true(f->cfg->far_outside_km == 3);
    assert_true(f->cfg->walk_speed_kmh == 4);
    assert_true(f->cfg->outside_tolerance_m == 0);
    assert_int_equal(f->cfg->kind_count, 3);
    assert_string_equal(f->cfg->kinds[1].id, "b");
    assert_int_equal(f->cfg->kinds[2].threshold_count, 1);
    assert_true(f->cfg->kinds[2].thresholds_min[0] == 7);
}

/* ------------------------------------------------------------ setter errors */

static void unknown_key_top_level(void **state)
{
    fixture *f = *state;
    char *path = NULL;
    assert_int_equal(load_text(f, "s.yaml", "name: x\nwalk_sped_kmh: 5\n", &path),
                     CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->file, path);
    assert_int_equal(m->line, 2);
    assert_string_equal(m->field, "walk_sped_kmh");
    assert_string_equal(m->text, "unknown key 'walk_sped_kmh'");
    assert_non_null(strstr(m->hint, "did you mean 'walk_speed_kmh'?"));
    assert_non_null(strstr(m->hint, "known keys: name, lang, crs, walk_speed_kmh, thresholds_min, "
                                    "outside_tolerance_m, far_outside_km, measure, demand_points_csv, output, areas, "
                                    "facilities, population, landuse, underserved, report, network, costs, "
                                    "shard, capacities, kinds, "
                                    "targets"));
    char want[512];
    snprintf(want, sizeof want, "%s:2: 'walk_sped_kmh': unknown key", path);
    assert_true(tu_has_message(f->ctx, want, NULL));
    free(path);
}

static void unknown_key_nested(void **state)
{
    fixture *f = *state;
    char *path = NULL;
    const char *text = "kinds:\n"
                       "  centre:\n"
                       "    name: 中心\n"
                       "    nmae_en: centre\n"
                       "areas:\n"
                       "  path: a.shp\n"
                       "  fields: x\n";
    assert_int_equal(load_text(f, "s.yaml", text, &path), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 2);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_int_equal(m->line, 4);
    assert_string_equal(m->field, "kinds.centre.nmae_en");
    assert_string_equal(m->file, path);
    assert_string_equal(m->text, "unknown key 'kinds.centre.nmae_en'");
    assert_string_equal(m->hint, "did you mean 'name_en'? known keys: name, name_en, unit, "
                                 "match, thresholds_min, thresholds_m, walk_speed_kmh, "
                                 "measure, load_capacity, load_band, load_rate, "
                                 "access_method, access_demand, access_decay, access_weights, "
                                 "access_beta, access_min_m, access_per");
    m = cs_context_get_message(f->ctx, 1);
    assert_int_equal(m->line, 7);
    assert_string_equal(m->field, "areas.fields");
    assert_string_equal(m->hint, "known keys: path, layer, crs, encoding, x, y, id, name");
    /* the good keys around them were still read */
    assert_string_equal(f->cfg->kinds[0].name, "中心");
    assert_string_equal(f->cfg->areas.path, "a.shp");
    free(path);
}

static void unknown_key_from_set(void **state)
{
    fixture *f = *state;
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.t.at_leas", "3"), CS_ERR_STUDY);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_null(m->file);
    assert_int_equal(m->line, 0);
    assert_string_equal(m->field, "targets.t.at_leas");
    assert_non_null(strstr(m->hint, "did you mean 'at_least'?"));
    assert_non_null(strstr(m->hint, "known keys: name, name_en, type, scope, kind"));
    /* a key below a single value, and a value for a group */
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "name.zh", "x"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "unknown key 'name.zh'", "takes a single value", NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "areas", "streets.geojson"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "areas is a group of keys, not a value",
                               "known keys: path", NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.60+.field.x", "a"),
                     CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "", "a"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds..name", "a"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "'' is not a valid kind id", NULL));
    assert_int_equal(count_errors(f->ctx), 6);
}

/* The names each level knows, as the study file's reader listed them before they were
 * taken from the table of keys (the twelve lists of names it had, copied by hand), and
 * report's, added since. */
static void known_keys_at_every_level(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *key, *known;
    } levels[] = {
        {"zz", "name, lang, crs, walk_speed_kmh, thresholds_min, outside_tolerance_m, "
               "far_outside_km, measure, demand_points_csv, output, areas, facilities, population, "
               "landuse, underserved, report, network, costs, shard, capacities, kinds, targets"},
        {"report.zz", "suggest"},
        {"areas.zz", "path, layer, crs, encoding, x, y, id, name"},
        {"facilities.zz", "path, layer, crs, encoding, x, y, id, name, kind, opened, closed"},
        {"population.zz", "path, layer, crs, encoding, x, y, id, name, total, bands, area, "
                          "spread_m, year"},
        {"landuse.zz", "path, layer, crs, encoding, class, residential"},
        {"underserved.zz", "cell_m, grid, band"},
        {"output.zz", "formats, shapefile_names, demand, demand_csv"},
        {"network.zz", "path, layer, crs, encoding, id, name, class, closed, speed, highway, "
                       "snap_m, node_crossings, max_attach_m, access_width_m, "
                       "area_max_pieces, area_cell_m, facility_areas"},
        {"costs.zz", "path, layer, encoding, from, to, cost, unit"},
        {"shard.zz", "part, parts, cut, own, demand_box, network_box, network_memory_mb, "
                     "demand_points"},
        {"population.bands.60+.zz", "field, share"},
        {"capacities.beds.zz", "field, unit, name"},
        {"kinds.centre.zz", "name, name_en, unit, match, thresholds_min, thresholds_m, "
                            "walk_speed_kmh, measure, load_capacity, load_band, load_rate, "
                            "access_method, access_demand, access_decay, access_weights, "
                            "access_beta, access_min_m, access_per"},
        {"targets.t.zz", "name, name_en, type, scope, kind, capacity, capacity_of, band, "
                         "within_min, within_m, per, at_least, at_most, measure"},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        cs_context_clear_messages(f->ctx);
        assert_int_equal(cs_config_set(f->ctx, f->cfg, levels[i].key, "1"), CS_ERR_STUDY);
        const cs_message *m = cs_context_get_message(f->ctx, 0);
        char want[512];
        snprintf(want, sizeof want, "known keys: %s", levels[i].known);
        if (strcmp(m->hint, want) != 0)
            fail_msg("%s: hint '%s', want '%s'", levels[i].key, m->hint, want);
        snprintf(want, sizeof want, "unknown key '%s'", levels[i].key);
        assert_string_equal(m->text, want);
    }
    /* a whole section given a value lists its keys, without a guess */
    cs_context_clear_messages(f->ctx);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "underserved", "x"), CS_ERR_STUDY);
    assert_string_equal(cs_context_get_message(f->ctx, 0)->hint,
                        "known keys: cell_m, grid, band");
    assert_string_equal(cs_context_get_message(f->ctx, 0)->text,
                        "underserved is a group of keys, not a value");
}

/* Every listed key is one the setter takes, and the list has every key: 123, the leaf
 * keys of those fifteen lists (the group "population.bands" counted by its two keys). */
static void listed_keys_are_the_keys(void **state)
{
    fixture *f = *state;
    size_t n = cs_config_key_count();
    assert_int_equal(n, 123);
    cs_config_key k;
    assert_int_equal(cs_config_key_get(n, &k), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_key_get(0, NULL), CS_ERR_ARGUMENT);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cs_config_key_get(i, &k), CS_OK);
        assert_true(*k.key && *k.type && *k.help);
        /* Markdown cells: no '|', and no '<' that a renderer would take for a tag */
        const char *cells[] = {k.type, k.allowed, k.default_value, k.help};
        for (size_t c = 0; c < 4; c++) {
            assert_null(strchr(cells[c], '|'));
            for (const char *p = strchr(cells[c], '<'); p; p = strchr(p + 1, '<'))
                assert_false((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'));
        }
        for (size_t j = 0; j < i; j++) {
            cs_config_key other;
            assert_int_equal(cs_config_key_get(j, &other), CS_OK);
            assert_string_not_equal(other.key, k.key);
        }
        /* the key with ids filled in, set to its default */
        char key[128];
        size_t o = 0;
        for (const char *p = k.key; *p && o + 8 < sizeof key;) {
            if (!strncmp(p, "<id>", 4)) {
                memcpy(key + o, "x1", 2), o += 2, p += 4;
            } else if (!strncmp(p, "<band>", 6)) {
                memcpy(key + o, "60+", 3), o += 3, p += 6;
            } else {
                key[o++] = *p++;
            }
        }
        key[o] = '\0';
        if (cs_config_set(f->ctx, f->cfg, key, "") != CS_OK)
            fail_msg("listed key '%s' (%s) is not accepted", k.key, key);
    }
    assert_int_equal(cs_context_message_count(f->ctx), 0);
    /* the defaults listed are those the config starts with (read off docs/study-file.md) */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cs_config_key_get(i, &k), CS_OK);
        if (!strcmp(k.key, "walk_speed_kmh"))
            assert_string_equal(k.default_value, "4");
        if (!strcmp(k.key, "network.area_max_pieces"))
            assert_string_equal(k.allowed, "[0, 1e9]");
        if (!strcmp(k.key, "targets.<id>.scope"))
            assert_string_equal(k.default_value, "district");
    }
}

/* A whole section given no value restores every key in it (and only there). */
static void sections_restore_their_defaults(void **state)
{
    fixture *f = *state;
    cs_context *ctx = f->ctx;
    cs_config *c = f->cfg;
    static const char text[] =
        "name: kept\n"
        "population: {path: p.csv, total: people, area: code, year: yr, spread_m: 10,\n"
        "             bands: {60+: p60}}\n"
        "landuse: {path: l.shp, class: kind, residential: [a, b]}\n"
        "underserved: {cell_m: 100, grid: hex, band: 60+}\n"
        "costs: {path: c.csv, from: o, to: d, cost: minutes, unit: m}\n";
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_OK);
    assert_int_equal(c->population.path_line, 2);
    assert_true(c->patch_hex && c->costs.in_m && c->spread_m == 10);
    static const char *const sections[] = {"population", "landuse", "underserved", "costs"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cs_config_set(ctx, c, sections[i], ""), CS_OK);
    assert_null(c->population.path);
    assert_int_equal(c->population.path_line, 0);
    assert_string_equal(c->total_field, "pop");
    assert_null(c->area_field);
    assert_null(c->pop_year_field);
    assert_true(c->spread_m == 50);
    assert_int_equal(c->band_count, 0);
    assert_null(c->landuse.path);
    assert_null(c->landuse_class);
    assert_int_equal(c->landuse_residential_count, 0);
    assert_true(c->patch_cell_m == 250 && !c->patch_hex);
    assert_null(c->patch_band);
    assert_null(c->costs.layer.path);
    assert_null(c->costs.from_field);
    assert_null(c->costs.cost_field);
    assert_false(c->costs.in_m);
    assert_string_equal(c->name, "kept");
    assert_int_equal(cs_context_message_count(ctx), 0);
}

static void bad_ids(void **state)
{
    fixture *f = *state;
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds.day care.name", "x"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "'day care' is not a valid kind id", NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "capacities.beds+.unit", "x"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.a/b.type", "count"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.total", "pop"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "'total' is reserved", NULL));
    assert_int_equal(f->cfg->kind_count + f->cfg->capacity_count + f->cfg->target_count +
                         f->cfg->band_count, 0);
    /* '+' and '-' in bands; non-ASCII letters anywhere */
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.15-64", "p"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.60+", "p60"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "capacities.床位.field", "beds"), CS_OK);
    /* text that is not UTF-8 (GBK for 床位) */
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "capacities.beds.name", "\xb4\xb2\xce\xbb"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "not UTF-8", NULL));
    assert_int_equal(count_errors(f->ctx), 5);
}

static void bad_number(void **state)
{
    fixture *f = *state;
    char *path = NULL;
    assert_int_equal(load_text(f, "s.yaml", "name: x\n\nwalk_speed_kmh: fast\n", &path),
                     CS_ERR_STUDY);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->text, "walk_speed_kmh must be a number in (0, 20], got 'fast'");
    assert_int_equal(m->line, 3);
    assert_string_equal(m->field, "walk_speed_kmh");
    assert_non_null(m->hint);
    assert_true(f->cfg->walk_speed_kmh == 4); /* unchanged */
    static const char *const bad[] = {"4 km/h", "nan", "inf", "1e999", "0", "20.5", "4,5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cs_config_set(f->ctx, f->cfg, "walk_speed_kmh", bad[i]), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "walk_speed_kmh", "20"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "outside_tolerance_m", "-1"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "outside_tolerance_m must be a number >= 0, got '-1'",
                               NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "far_outside_km", "0"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.t.per", "0"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.t.at_least", "-0.1"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.t.within_min", "x"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "population.bands.80+.share", "1.5"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "population.bands.80+.share must be a number in [0, 1]",
                               NULL));
    assert_int_equal(count_errors(f->ctx), 1 + 7 + 6);
    free(path);
}

static void negative_speed(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", "kinds:\n  centre:\n    walk_speed_kmh: -3\n", NULL),
                     CS_ERR_STUDY);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->text,
                        "kinds.centre.walk_speed_kmh must be a number in (0, 20], got '-3'");
    assert_int_equal(m->line, 3);
    assert_true(isnan(f->cfg->kinds[0].walk_speed_kmh));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "walk_speed_kmh", "-4"), CS_ERR_STUDY);
    assert_true(f->cfg->walk_speed_kmh == 4);
}

static void bad_thresholds(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", "thresholds_min: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", NULL),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "s.yaml:1: 'thresholds_min': thresholds_min has 9 values;"
                               " at most 8 are allowed", NULL));
    assert_int_equal(f->cfg->threshold_count, 3);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "1,2,3,4,5,6,7,8"), CS_OK);
    assert_int_equal(f->cfg->threshold_count, 8);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "5,10,5"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "thresholds_min lists 5 twice", NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "5,-10"), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "thresholds_min must be numbers > 0, got '-10'", NULL));
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "5,,10"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds.k.thresholds_m", "0"), CS_ERR_STUDY);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds.k.match", "a,,b"), CS_ERR_STUDY);
    assert_int_equal(f->cfg->threshold_count, 8); /* the last good value stays */
    assert_int_equal(count_errors(f->ctx), 6);
}

static void bad_target_type(void **state)
{
    fixture *f = *state;
    const char *text = "targets:\n"
                       "  t1:\n"
                       "    type: share\n"
                       "    scope: street\n";
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 2);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->text, "targets.t1.type must be one of coverage, count, capacity, "
                                 "capacity_per_population, capacity_share, accessibility or load, got 'share'");
    assert_int_equal(m->line, 3);
    assert_string_equal(m->field, "targets.t1.type");
    m = cs_context_get_message(f->ctx, 1);
    assert_string_equal(m->text, "targets.t1.scope must be district or area, got 'street'");
    assert_int_equal(m->line, 4);
    assert_int_equal(f->cfg->targets[0].type, 0);
    assert_int_equal(f->cfg->targets[0].line, 2);
}

/* --------------------------------------------------------------- validation */

static const char valid_targets[] =
    "kinds:\n"
    "  centre:\n"
    "    thresholds_min: [5, 10, 15]\n"
    "  station:\n"
    "    thresholds_m: [300, 500]\n"
    "capacities:\n"
    "  beds: {field: beds}\n"
    "population:\n"
    "  bands:\n"
    "    60+: pop60\n"
    "targets:\n"
    "  cov:\n"
    "    type: coverage\n"
    "    kind: centre\n"
    "    within_min: 10\n"
    "    band: 60+\n"
    "    at_least: 0.9\n"
    "  cov_m:\n"
    "    type: coverage\n"
    "    kind: station\n"
    "    within_m: 500\n"
    "    at_least: 0.5\n"
    "  cov_m_of_minutes:\n" /* 15 min at 4 km/h = 1000 m */
    "    type: coverage\n"
    "    kind: centre\n"
    "    within_m: 1000\n"
    "    at_least: 1\n"
    "  beds_per_1000:\n"
    "    type: capacity_per_population\n"
    "    capacity: beds\n"
    "    band: 60+\n"
    "    per: 1000\n"
    "    at_least: 40\n";

static void valid_targets_pass(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", valid_targets, NULL), CS_OK);
    assert_int_equal(cs_config_validate(f->ctx, f->cfg), CS_OK);
    assert_int_equal(cs_context_message_count(f->ctx), 0);
}

static void target_names_unknown_kind(void **state)
{
    fixture *f = *state;
    char *text = malloc(sizeof valid_targets + 200);
    sprintf(text, "%s  homes:\n    type: count\n    kind: care_home\n    at_least: 3\n",
            valid_targets);
    char *path = NULL;
    assert_int_equal(load_text(f, "s.yaml", text, &path), CS_OK);
    assert_int_equal(cs_config_validate(f->ctx, f->cfg), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->file, path);
    assert_int_equal(m->line, line_containing(text, "  homes:"));
    assert_string_equal(m->field, "targets.homes.kind");
    assert_string_equal(m->text, "target 'homes' names kind 'care_home', which is not defined");
    assert_string_equal(m->hint, "defined kinds: centre, station");
    free(path);
    free(text);
}

static void coverage_within_not_a_threshold(void **state)
{
    fixture *f = *state;
    char *text = malloc(sizeof valid_targets + 200);
    sprintf(text, "%s  cov20:\n    type: coverage\n    kind: centre\n    within_min: 20\n"
                  "    at_least: 0.8\n",
            valid_targets);
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_OK);
    assert_int_equal(cs_config_validate(f->ctx, f->cfg), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_int_equal(m->line, line_containing(text, "  cov20:"));
    assert_string_equal(m->field, "targets.cov20.within_min");
    assert_string_equal(m->text, "within_min 20 is not a threshold of kind 'centre' "
                                 "(5, 10, 15 min)");
    /* the study's thresholds count for a kind without its own */
    cs_context_clear_messages(f->ctx);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "kinds.centre.thresholds_min", ""), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "5,20"), CS_OK);
    assert_int_equal(cs_config_validate(f->ctx, f->cfg), CS_ERR_STUDY);
    /* now 10 (target cov) is the one missing; 1000 m is no longer 15 min either */
    assert_int_equal(count_errors(f->ctx), 2);
    assert_true(tu_has_message(f->ctx, "within_min 10 is not a threshold of kind 'centre' "
                               "(5, 20 min)", NULL));
    assert_true(tu_has_message(f->ctx, "within_m 1000 is not a threshold", NULL));
    /* metres against a kind counted in metres, minutes against it: unit mismatch */
    cs_context_clear_messages(f->ctx);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "thresholds_min", "5,10,15"), CS_OK);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, "targets.cov_m.within_min", "5"), CS_OK);
    assert_int_equal(cs_config_validate(f->ctx, f->cfg), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 2); /* cov20 and cov_m */
    assert_true(tu_has_message(f->ctx, "kind 'station' has thresholds in metres", NULL));
    free(text);
}

static void other_target_problems(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", valid_targets, NULL), CS_OK);
    cs_context *ctx = f->ctx;
    cs_config *c = f->cfg;
    /* 1: no type; 2: no at_least */
    assert_int_equal(cs_config_set(ctx, c, "targets.empty.name", "x"), CS_OK);
    /* 3: count without kind */
    assert_int_equal(cs_config_set(ctx, c, "targets.n.type", "count"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.n.at_least", "3"), CS_OK);
    /* 4: capacity naming an unknown capacity */
    assert_int_equal(cs_config_set(ctx, c, "targets.cap.type", "capacity"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.cap.capacity", "meals"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.cap.at_least", "3"), CS_OK);
    /* 5: an unknown band */
    assert_int_equal(cs_config_set(ctx, c, "targets.beds_per_1000.band", "65+"), CS_OK);
    /* 6: capacity_share without capacity_of; 7: at_least above 1 */
    assert_int_equal(cs_config_set(ctx, c, "targets.sh.type", "capacity_share"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.sh.capacity", "beds"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.sh.at_least", "60"), CS_OK);
    /* 8: coverage share above 1 */
    assert_int_equal(cs_config_set(ctx, c, "targets.cov.at_least", "90"), CS_OK);
    /* 9: coverage without within */
    assert_int_equal(cs_config_set(ctx, c, "targets.cov_m.within_m", ""), CS_OK);
    /* 10: a band with neither field nor share */
    assert_int_equal(cs_config_set(ctx, c, "population.bands.80+", ""), CS_OK);
    /* 11: two kinds claiming one value of the kind field */
    assert_int_equal(cs_config_set(ctx, c, "kinds.station.match", "station,centre"), CS_OK);
    assert_int_equal(cs_config_validate(ctx, c), CS_ERR_STUDY);
    assert_int_equal(count_errors(ctx), 11);
    assert_true(tu_has_message(ctx, "'targets.empty.type': target 'empty' has no type", NULL));
    assert_true(tu_has_message(ctx, "target 'empty' has no at_least", NULL));
    assert_true(tu_has_message(ctx, "target 'n' (count) needs a kind", NULL));
    assert_true(tu_has_message(ctx, "names capacity 'meals', which is not defined",
                               "defined capacities: beds", NULL));
    assert_true(tu_has_message(ctx, "names band '65+'", "60+, 80+", NULL));
    assert_true(tu_has_message(ctx, "target 'sh' (capacity_share) needs a capacity_of", NULL));
    assert_true(tu_has_message(ctx, "capacity_share target 'sh' must be a share in [0, 1]",
                               NULL));
    assert_true(tu_has_message(ctx, "coverage target 'cov' must be a share in [0, 1], got 90",
                               NULL));
    assert_true(tu_has_message(ctx, "'cov_m' needs within_min or within_m", NULL));
    assert_true(tu_has_message(ctx, "band '80+' has neither a field nor a share", NULL));
    assert_true(tu_has_message(ctx, "kinds 'centre' and 'station' both match 'centre'", NULL));
    /* targets set from the command line carry no file or line */
    const cs_message *m = find_message(ctx, "target 'n'");
    assert_null(m->file);
    assert_int_equal(m->line, 0);
    /* a threshold on a target that is not about coverage: a warning, not an error */
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_config_set(ctx, c, "targets", ""), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "population.bands.80+.share", "0.03"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "kinds.station.match", ""), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.n.type", "count"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.n.kind", "centre"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.n.at_least", "3"), CS_OK);
    assert_int_equal(cs_config_set(ctx, c, "targets.n.within_min", "5"), CS_OK);
    assert_int_equal(cs_config_validate(ctx, c), CS_OK);
    assert_int_equal(cs_context_message_count(ctx), 1);
    assert_int_equal(cs_context_error_count(ctx), 0);
    assert_true(tu_has_message(ctx, "warning: ", "not a coverage target", NULL));
}

static void argument_checks(void **state)
{
    fixture *f = *state;
    assert_int_equal(cs_config_create(f->ctx, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_set(f->ctx, NULL, "name", "x"), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_set(f->ctx, f->cfg, NULL, "x"), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_load(f->ctx, NULL, "x.yaml"), CS_ERR_ARGUMENT);
    assert_int_equal(cs_config_validate(f->ctx, NULL), CS_ERR_ARGUMENT);
    assert_int_equal(count_errors(f->ctx), 6);
    cs_config_destroy(NULL);
    assert_int_equal(cs_config_find_kind(NULL, "x"), -1);
    assert_int_equal(cs_config_find_band(f->cfg, NULL), -1);
    /* no context at all: the status still says what went wrong */
    assert_int_equal(cs_config_set(NULL, f->cfg, "nope", "x"), CS_ERR_STUDY);
}

/* ------------------------------------------------------------ reader errors */

static void yaml_syntax_error(void **state)
{
    fixture *f = *state;
    char *path = NULL;
    assert_int_equal(load_text(f, "s.yaml", "name: a\nwalk_speed_kmh: 4\ncrs: b: c\n", &path),
                     CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->file, path);
    assert_int_equal(m->line, 3);
    /* the ':' after b is the 7th character of line 3 */
    assert_non_null(strstr(m->text, "column 7"));
    assert_non_null(strstr(m->text, "mapping values are not allowed"));
    cs_context_clear_messages(f->ctx);
    /* an unclosed list: libyaml's context names where the list began */
    assert_int_equal(load_text(f, "s.yaml", "name: a\nthresholds_min: [5, 10\nfar_outside_km: 3\n",
                               NULL),
                     CS_ERR_STUDY);
    m = cs_context_get_message(f->ctx, 0);
    assert_int_equal(m->line, 3);
    assert_non_null(strstr(m->text, "while parsing a flow sequence, from line 2"));
    cs_context_clear_messages(f->ctx);
    /* bytes that are not UTF-8, nor GB18030 or Big5 (0x80, 0xFF), on line 2 (GBK is
     * read: test_input's study_file_in_gbk) */
    assert_int_equal(load_text(f, "s.yaml", "walk_speed_kmh: 4\nname: \x80\xff\n", NULL),
                     CS_ERR_STUDY);
    m = cs_context_get_message(f->ctx, 0);
    assert_int_equal(m->line, 2);
    assert_non_null(strstr(m->hint, "UTF-8"));
    free(path);
}

static void missing_file(void **state)
{
    fixture *f = *state;
    char *path = tu_join(f->dir, "nope.yaml");
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 1);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_string_equal(m->file, path);
    assert_string_equal(m->hint, "check the path");
    assert_non_null(strstr(m->text, "No such file"));
    assert_null(f->cfg->file);
    cs_context_clear_messages(f->ctx);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, f->dir), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "folder", "check the path", NULL));
    free(path);
}

static void duplicate_key(void **state)
{
    fixture *f = *state;
    const char *text = "name: a\n"
                       "kinds:\n"
                       "  centre: {unit: centres}\n"
                       "  centre:\n"
                       "    unit: other\n"
                       "walk_speed_kmh: 4\n"
                       "name: b\n";
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 2);
    const cs_message *m = cs_context_get_message(f->ctx, 0);
    assert_int_equal(m->line, 4);
    assert_string_equal(m->field, "kinds.centre");
    assert_string_equal(m->text, "key 'kinds.centre' appears twice, on lines 3 and 4");
    m = cs_context_get_message(f->ctx, 1);
    assert_int_equal(m->line, 7);
    assert_string_equal(m->text, "key 'name' appears twice, on lines 1 and 7");
    assert_string_equal(f->cfg->name, "a"); /* the first one stands */
    assert_string_equal(f->cfg->kinds[0].unit, "centres");
}

static void not_a_mapping(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", "- name\n- crs\n", NULL), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "s.yaml:1: ", "not a list", NULL));
    cs_context_clear_messages(f->ctx);
    assert_int_equal(load_text(f, "s.yaml", "# only a comment\n", NULL), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "the study file is empty", NULL));
    cs_context_clear_messages(f->ctx);
    assert_int_equal(load_text(f, "s.yaml", "name: a\n---\nname: b\n", NULL), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "s.yaml:3: ", "more than one YAML document", NULL));
    cs_context_clear_messages(f->ctx);
    /* lists of mappings, mapping keys, lists where one value belongs */
    const char *text = "kinds:\n"
                       "  - centre\n"
                       "thresholds_min: [[5], 10]\n"
                       "? [a, b]\n"
                       ": 1\n"
                       "kinds.centre.match: [\"a,b\"]\n";
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 4);
    assert_true(tu_has_message(f->ctx, "s.yaml:1: 'kinds'", "group of keys", NULL));
    assert_true(tu_has_message(f->ctx, "s.yaml:3: ", "only single values", NULL));
    assert_true(tu_has_message(f->ctx, "s.yaml:4: ", "a key must be text", NULL));
    assert_true(tu_has_message(f->ctx, "s.yaml:6: ", "contains a comma", NULL));
}

/* An alias that contains itself must not send the reader round forever. */
static void recursive_alias(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "s.yaml", "kinds: &a {centre: *a}\n", NULL), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "nested too deeply", NULL));
    cs_context_clear_messages(f->ctx);
    /* a plain alias is fine */
    assert_int_equal(load_text(f, "s.yaml",
                               "thresholds_min: &t [5, 10]\n"
                               "kinds: {centre: {thresholds_min: *t}}\n",
                               NULL),
                     CS_OK);
    assert_int_equal(f->cfg->kinds[0].threshold_count, 2);
}

static void many_errors_all_reported(void **state)
{
    fixture *f = *state;
    const char *text = "name: ok\n"
                       "walk_sped_kmh: 4\n"        /* 1 unknown key */
                       "walk_speed_kmh: fast\n"    /* 2 bad number */
                       "thresholds_min: [5, 0]\n"  /* 3 bad threshold */
                       "areas:\n"
                       "  pth: x.geojson\n"        /* 4 unknown nested key */
                       "  path: streets.geojson\n"
                       "kinds:\n"
                       "  centre:\n"
                       "    walk_speed_kmh: -1\n"  /* 5 negative speed */
                       "targets:\n"
                       "  t1:\n"
                       "    type: nonsense\n"      /* 6 bad type */
                       "    scope: everywhere\n"   /* 7 bad scope */
                       "far_outside_km: 3\n";
    assert_int_equal(load_text(f, "s.yaml", text, NULL), CS_ERR_STUDY);
    assert_int_equal(count_errors(f->ctx), 7);
    static const long lines[] = {2, 3, 4, 6, 10, 13, 14};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(cs_context_get_message(f->ctx, i)->line, lines[i]);
    /* reading went on past every one of them */
    assert_string_equal(f->cfg->areas.path, "streets.geojson");
    assert_true(f->cfg->far_outside_km == 3);
    assert_string_equal(f->cfg->name, "ok");
}

/* ------------------------------------------------------------------- paths */

static void relative_paths(void **state)
{
    fixture *f = *state;
    char *sub = tu_join(f->dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    char *path = tu_write(sub, "study.yaml", "areas: {path: streets.geojson}\n"
                                             "facilities: {path: /abs/f.csv}\n"
                                             "population: {path: \"PG:dbname=x\"}\n");
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_OK);
    assert_string_equal(f->cfg->base_dir, sub);
    char *want = tu_join(sub, "streets.geojson");
    char *got = cs_config_resolve_path(f->cfg, f->cfg->areas.path);
    assert_string_equal(got, want);
    cs_free(got);
    free(want);
    got = cs_config_resolve_path(f->cfg, f->cfg->facilities.path);
    assert_string_equal(got, "/abs/f.csv");
    cs_free(got);
    got = cs_config_resolve_path(f->cfg, f->cfg->population.path);
    assert_string_equal(got, "PG:dbname=x");
    cs_free(got);
    got = cs_config_resolve_path(f->cfg, "../up/x.shp");
    want = tu_join(sub, "../up/x.shp");
    assert_string_equal(got, want);
    cs_free(got);
    free(want);
    assert_null(cs_config_resolve_path(f->cfg, NULL));

    /* a study file named relative to the working folder */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, "sub/study.yaml"), CS_OK);
    assert_string_equal(f->cfg->file, "sub/study.yaml");
    assert_string_equal(f->cfg->base_dir, "sub");
    got = cs_config_resolve_path(f->cfg, "streets.geojson");
    assert_string_equal(got, "sub/streets.geojson");
    cs_free(got);
    /* ... and one in the working folder itself: paths stay as they are */
    char *here = tu_write(f->dir, "here.yaml", "name: here\n");
    assert_int_equal(cs_config_load(f->ctx, f->cfg, "here.yaml"), CS_OK);
    assert_null(f->cfg->base_dir);
    got = cs_config_resolve_path(f->cfg, "streets.geojson");
    assert_string_equal(got, "streets.geojson");
    cs_free(got);
    assert_int_equal(chdir(cwd), 0);

    /* a root folder ends in '/' already */
    cs_config *c = NULL;
    assert_int_equal(cs_config_create(f->ctx, &c), CS_OK);
    c->base_dir = cs_strdup("/");
    got = cs_config_resolve_path(c, "x.csv");
    assert_string_equal(got, "/x.csv");
    cs_free(got);
    cs_config_destroy(c);
    free(here);
    free(path);
    free(sub);
}

/* ------------------------------------------------------- allocation failure */

static void allocation_failures_are_clean(void **state)
{
    fixture *f = *state;
    char *path = tu_write(f->dir, "study.yaml", full_study);
    long n = 0;
    for (;; n++) {
        assert_true(n < 100000);
        tu_alloc_fail_after(n);
        cs_config *cfg = NULL;
        cs_status st = cs_config_create(f->ctx, &cfg);
        if (st == CS_OK) {
            st = cs_config_load(f->ctx, cfg, path);
            if (st == CS_OK) /* the overrides must fail cleanly too */
                st = cs_config_set(f->ctx, cfg, "kinds.centre.match", "a,b,c,d");
        }
        bool complete = st == CS_OK && cfg->target_count == 5 && cfg->kind_count == 1 &&
                        cfg->kinds[0].match_count == 4 && cfg->capacity_count == 5;
        if (st != CS_OK && st != CS_ERR_NOMEM)
            fail_msg("allocation %ld failed: status %d, not CS_ERR_NOMEM", n, (int)st);
        if (st == CS_ERR_NOMEM)
            assert_true(cs_context_error_count(f->ctx) >= 1);
        cs_config_destroy(cfg);
        tu_alloc_restore();
        cs_context_clear_messages(f->ctx);
        if (st == CS_OK) {
            /* success must never hide a failed allocation */
            assert_int_equal(tu_alloc_refused(), 0);
            assert_true(complete);
            break;
        }
    }
    /* many allocation points were exercised, each failing cleanly */
    assert_true(n > 100);
    print_message("allocation failure: %ld points checked\n", n);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_have_their_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(network_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(full_study_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(documentation_example_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(overrides_replace_values, setup, teardown),
        cmocka_unit_test_setup_teardown(file_on_top_and_nulls_restore_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key_top_level, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key_from_set, setup, teardown),
        cmocka_unit_test_setup_teardown(known_keys_at_every_level, setup, teardown),
        cmocka_unit_test_setup_teardown(listed_keys_are_the_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(sections_restore_their_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_number, setup, teardown),
        cmocka_unit_test_setup_teardown(negative_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_target_type, setup, teardown),
        cmocka_unit_test_setup_teardown(valid_targets_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(target_names_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(coverage_within_not_a_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(other_target_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(argument_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(yaml_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(not_a_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(recursive_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(many_errors_all_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_are_clean, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
