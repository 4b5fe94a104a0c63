/*
 * test_plan.c — target arithmetic against cases worked by hand.
 *
 * Two 1 km squares side by side (UTM 51N, offsets from X0/Y0): A0 = [0,1000]x[0,1000],
 * A1 = [1000,2000]x[0,1000]. Walking 80 m/min: 5/10/15 min = 400/800/1200 m.
 *   F0 kind a at (100,100) in A0: beds 100, nursing 30
 *   F1 kind b at (1900,900) in A1: beds 50, nursing 40
 *   P0 (490,100)  A0 pop 1000, 65+ 200: 390 m from F0 -> a within 5, 10, 15 min
 *   P1 (100,850)  A0 pop  500, 65+ 100: 750 m from F0 -> a within 10, 15 min
 *   P2 (1500,100) A1 pop 2000, 65+ 500: 1400 m from F0 -> a never;
 *                                        hypot(400,800) = 894.4 m from F1 -> b within 15
 *   P3 (1900,510) A1 pop  300, 65+  60: 390 m from F1 -> b within 5, 10, 15
 * Worked by hand below, target by target.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char areas[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"A0\",\"name\":\"west\"},\"geometry\":"
    "{\"type\":\"Polygon\",\"coordinates\":[[[350000,3440000],[351000,3440000],[351000,3441000],"
    "[350000,3441000],[350000,3440000]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"A1\",\"name\":\"east\"},\"geometry\":"
    "{\"type\":\"Polygon\",\"coordinates\":[[[351000,3440000],[352000,3440000],[352000,3441000],"
    "[351000,3441000],[351000,3440000]]]}}]}\n";

static const char facilities[] = "id,kind,x,y,beds,nursing\n"
                                 "F0,a,350100,3440100,100,30\n"
                                 "F1,b,351900,3440900,50,40\n";

static const char population[] = "x,y,pop,pop65\n"
                                 "350490,3440100,1000,200\n"
                                 "350100,3440850,500,100\n"
                                 "351500,3440100,2000,500\n"
                                 "351900,3440510,300,60\n";

static const char study[] =
    "crs: EPSG:32651\n"
    "walk_speed_kmh: 4.8\n"
    "areas: {path: areas.geojson, crs: EPSG:32651}\n"
    "facilities: {path: facilities.csv, crs: EPSG:32651, x: x, y: y}\n"
    "population: {path: population.csv, crs: EPSG:32651, x: x, y: y, bands: {65+: pop65}}\n"
    "capacities:\n"
    "  beds: {unit: beds, name: 床位}\n"
    "  nursing: {unit: beds, name: 护理型床位}\n"
    "kinds:\n"
    "  a: {name_en: centre, unit: centres}\n"
    "  b: {name_en: meal site, unit: meal sites}\n"
    "targets:\n"
    "  circle: {type: coverage, kind: a, within_min: 15, band: 65+, at_least: 0.9, scope: area}\n"
    "  centres: {type: count, kind: a, at_least: 3}\n"
    "  meal_each: {type: count, kind: b, at_least: 1, scope: area}\n"
    "  beds: {type: capacity, capacity: beds, at_least: 200}\n"
    "  beds_per_65: {type: capacity_per_population, capacity: beds, band: 65+, per: 1000, "
    "at_least: 200}\n"
    "  nursing_share: {type: capacity_share, capacity: nursing, capacity_of: beds, at_least: 0.6}\n"
    "  meal_5min: {type: coverage, kind: b, within_min: 5, at_least: 0.05}\n";

typedef fx_env world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = tu_mkdtemp();
    fx_env_write(w, "areas.geojson", areas);
    fx_env_write(w, "facilities.csv", facilities);
    fx_env_write(w, "population.csv", population);
    assert_int_equal(fx_env_open_file(w, tu_write(w->dir, "study.yaml", study)), CS_OK);
    fx_env_load_ok(w);
    assert_int_equal(cs_run(w->ctx, w->study, &w->result), CS_OK);
    *state = w;
    return 0;
}

static cs_target_outcome outcome(world *w, const char *id, size_t area)
{
    for (size_t t = 0; t < cs_result_target_count(w->result); t++)
        if (!strcmp(cs_result_target_id(w->result, t), id)) {
            cs_target_outcome o;
            assert_int_equal(cs_result_target(w->result, t, area, &o), CS_OK);
            return o;
        }
    fail_msg("no target %s", id);
    return (cs_target_outcome){0};
}

static void coverage_target_per_area(void **state)
{
    world *w = *state;
    /* A0: 65+ = 200 + 100 = 300, all within 15 min of F0: share 1 >= 0.9. */
    cs_target_outcome o = outcome(w, "circle", 0);
    assert_true(o.evaluated && o.binding && o.pass);
    assert_true(fabs(o.value - 1.0) < 1e-12);
    /* A1: 65+ = 500 + 60 = 560, none within reach of a: need ceil(0.9 * 560) = 504. */
    o = outcome(w, "circle", 1);
    assert_false(o.pass);
    assert_true(o.value == 0 && o.gap == 504);
    assert_string_equal(o.gap_text,
                        "504 more residents aged 65+ need a centre within 15 minutes");
    /* District, set for every area: fails with the areas' gaps summed. Its value is the
     * district share: 300 / 860. */
    o = outcome(w, "circle", CS_DISTRICT);
    assert_false(o.pass);
    assert_true(fabs(o.value - 300.0 / 860.0) < 1e-12);
    assert_true(o.gap == 504);
    assert_string_equal(o.gap_text, "504 more residents aged 65+ need a centre within 15 "
                                    "minutes, across 1 area");
}

static void count_targets(void **state)
{
    world *w = *state;
    /* District: 1 centre, 3 wanted: 2 more. Not evaluated per area (absolute). */
    cs_target_outcome o = outcome(w, "centres", CS_DISTRICT);
    assert_false(o.pass);
    assert_true(o.value == 1 && o.gap == 2);
    assert_string_equal(o.gap_text, "2 more centres");
    assert_false(outcome(w, "centres", 0).evaluated);
    /* One meal site in every area: A0 has none (gap 1), A1 has F1. */
    o = outcome(w, "meal_each", 0);
    assert_true(o.evaluated && !o.pass && o.gap == 1);
    assert_string_equal(o.gap_text, "1 more meal site"); /* one: the kind's name_en */
    assert_true(outcome(w, "meal_each", 1).pass);
    o = outcome(w, "meal_each", CS_DISTRICT);
    assert_true(!o.pass && o.gap == 1 && o.value == 1); /* 1 of 2 areas meets it */
}

static void capacity_targets(void **state)
{
    world *w = *state;
    /* Beds: 100 + 50 = 150 of 200: short of 50. */
    cs_target_outcome o = outcome(w, "beds", CS_DISTRICT);
    assert_true(!o.pass && o.value == 150 && o.gap == 50);
    assert_string_equal(o.gap_text, "short of 50 beds (床位)");
    /* Beds per 1,000 aged 65+ >= 200. District: 150 / 0.86 = 174.42; need 172: short 22.
     * A0: 100 beds for 300 -> 333.3, passes. A1: 50 for 560 -> 89.3; need 112: short 62. */
    o = outcome(w, "beds_per_65", CS_DISTRICT);
    assert_true(!o.pass && fabs(o.value - 150 / 0.86) < 1e-9 && fabs(o.gap - 22) < 1e-9);
    assert_string_equal(o.gap_text, "short of 22 beds (床位) for 200 per 1,000 residents aged 65+");
    o = outcome(w, "beds_per_65", 0);
    assert_true(o.pass && !o.binding && fabs(o.value - 1000.0 / 3) < 1e-9);
    o = outcome(w, "beds_per_65", 1);
    assert_true(!o.pass && fabs(o.gap - 62) < 1e-9);
    /* Nursing share >= 60%: district 70 / 150 = 0.467; need 90: short of 20 nursing beds.
     * A0: 30/100 -> short of 30; A1: 40/50 = 0.8 passes. */
    o = outcome(w, "nursing_share", CS_DISTRICT);
    assert_true(!o.pass && fabs(o.value - 70.0 / 150) < 1e-12 && fabs(o.gap - 20) < 1e-9);
    assert_string_equal(o.gap_text, "short of 20 beds (护理型床位)");
    assert_true(fabs(outcome(w, "nursing_share", 0).gap - 30) < 1e-9);
    assert_true(outcome(w, "nursing_share", 1).pass);
}

static void passing_target_and_failed_count(void **state)
{
    world *w = *state;
    /* Kind b within 5 min (400 m), all residents: only P3 (300 of 3,800) = 7.9% >= 5%. */
    cs_target_outcome o = outcome(w, "meal_5min", CS_DISTRICT);
    assert_true(o.pass && fabs(o.value - 300.0 / 3800) < 1e-12 && o.gap == 0);
    assert_null(o.gap_text);
    /* failing binding targets: circle, centres, meal_each, beds, beds_per_65, nursing_share */
    assert_int_equal(cs_result_failed_targets(w->result), 6);
}

static void coverage_by_threshold(void **state)
{
    world *w = *state;
    /* kind a, 65+: 5 min: P0 (200); 10 min: P0 + P1 (300); 15 min: same. */
    const double want[3] = {200, 300, 300};
    for (size_t j = 0; j < 3; j++) {
        cs_coverage c;
        assert_int_equal(cs_result_coverage(w->result, 0, j, 1, CS_DISTRICT, &c), CS_OK);
        assert_true(c.covered == want[j] && c.total == 860);
    }
    /* kind b, all residents, 15 min in A1: P2 + P3 = 2,300 of 2,300. */
    cs_coverage c;
    assert_int_equal(cs_result_coverage(w->result, 1, 2, 0, 1, &c), CS_OK);
    assert_true(c.covered == 2300 && c.total == 2300 && c.share == 1);
    assert_int_equal(cs_result_coverage(w->result, 1, 3, 0, 1, &c), CS_ERR_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coverage_target_per_area),
        cmocka_unit_test(count_targets),
        cmocka_unit_test(capacity_targets),
        cmocka_unit_test(passing_target_and_failed_count),
        cmocka_unit_test(coverage_by_threshold),
    };
    return cmocka_run_group_tests(tests, setup, fx_env_teardown);
}
