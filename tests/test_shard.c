/*
 * test_shard.c — careshed shard and merge through the command, on Shanghai's 229 real
 * township boundaries (../shared) with synthetic residents, facilities and walking
 * network: the merged outputs of 1, 2, 7 and 32 shards are the single run's, byte for
 * byte (summary.json but for the "shards" object that names the merge), for kinds
 * measured straight, along the network and both, with accessibility straight and along
 * the network (by bands and by a continuous decay); and what goes wrong on the way (a
 * shard without results, results of an older cut, damaged results, more shards than
 * areas, a shard cut again) is an error that says so; and a small study measured by a
 * cost matrix, merged to the bit.
 *
 * The expected outputs are those of one `careshed run` of the whole study: the issue's
 * bar is that a merge gives exactly what a single machine gives.
 */
#include "testutil.h"

#include "careshed/careshed.h"
#include "core/core.h"
#include "cover/result.h"
#include "io/config.h"
#include "io/layer.h"
#include "shard/network.h"
#include "shard/shard.h"

#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

static const char *shared;
static char *work;     /* the study and every run's folder */
static char *single;   /* the single run's outputs */

/* Shell command from a format, run; its exit code, its output in *out (free). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *text = NULL;
    int code = tu_run(cmd, &text);
    if (out)
        *out = text;
    else {
        if (code != 0)
            fprintf(stderr, "%s\n-> %d\n%s\n", cmd, code, text);
        free(text);
    }
    return code;
}

/* A jitter of up to 2e-6 degrees (about 0.2 m) on some vertices, which snapping undoes. */
static double jitter(uint64_t *rng, int i)
{
    return i % 3 == 0 ? 4e-6 * (tu_rng_unit(rng) - 0.5) : 0;
}

/* A square grid of streets around (lon, lat): `lines` lines each way, `step` degrees
 * apart, each a feature through every crossing, some vertices a little off (snapped
 * together), some lines steps (walked at half speed), and a motorway across it (left
 * out: not walked). */
static void street_grid(FILE *f, uint64_t *rng, double lon, double lat, int lines, double step,
                        int *feature)
{
    double x0 = lon - step * (lines - 1) / 2, y0 = lat - step * (lines - 1) / 2;
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < lines; i++) {
            bool steps = (*feature)++ % 13 == 5;
            fprintf(f, ",\n{\"type\":\"Feature\",\"properties\":{\"highway\":\"%s\",\"speed\":%s},"
                       "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[",
                    steps ? "steps" : "residential", steps ? "0.5" : "1");
            for (int k = 0; k < lines; k++) {
                double a = x0 + step * (dir ? k : i) + jitter(rng, k);
                double b = y0 + step * (dir ? i : k) + jitter(rng, k + 1);
                fprintf(f, "%s[%.7f,%.7f]", k ? "," : "", a, b);
            }
            fprintf(f, "]}}");
        }
    fprintf(f, ",\n{\"type\":\"Feature\",\"properties\":{\"highway\":\"motorway\",\"speed\":1},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[%.7f,%.7f],[%.7f,%.7f]]}}",
            x0, y0 + step / 3, x0 + step * (lines - 1), y0 + step * (lines - 1) / 2);
}

/* Streets around each town, a denser, larger grid in the centre, and a footway across
 * it without a shared vertex (a bridge). */
static void write_network(double town[41][2], uint64_t *rng)
{
    char *path = tu_join(work, "network.geojson");
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n"
               "{\"type\":\"Feature\",\"properties\":{\"highway\":\"footway\",\"speed\":1},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.4,31.2],"
               "[121.5,31.25]]}}");
    int feature = 0;
    street_grid(f, rng, town[0][0], town[0][1], 51, 0.004, &feature);
    for (int t = 1; t < 41; t++)
        street_grid(f, rng, town[t][0], town[t][1], 21, 0.003, &feature);
    fprintf(f, "\n]}\n");
    fclose(f);
    free(path);
}

/*
 * Residents and facilities around 40 towns and central Shanghai (many points near
 * township borders, so that shards compete for facilities), some in the sea or
 * beyond the city (left out, warned about), facilities sharing a position (ties),
 * without capacity, and far from anyone (nearest beyond every threshold). Streets
 * around the towns (write_network); residents beyond them are off the network.
 */
static void write_study(void)
{
    uint64_t rng = 20261204;
    double town[41][2] = {{121.47, 31.23}};
    for (int t = 1; t < 41; t++) {
        town[t][0] = 120.9 + 1.05 * tu_rng_unit(&rng);
        town[t][1] = 30.72 + 1.1 * tu_rng_unit(&rng);
    }
    char *path = tu_join(work, "population.csv");
    FILE *f = fopen(path, "w");
    fprintf(f, "id,lon,lat,pop,pop65,pop80\n");
    for (int i = 0; i < 24000; i++) {
        int t = i % 3 == 0 ? 0 : (int)(tu_rng_unit(&rng) * 40) + 1;
        double s = t == 0 ? 0.06 : 0.02;
        double u1 = tu_rng_unit(&rng) + 1e-12, u2 = tu_rng_unit(&rng);
        double r = s * sqrt(-2 * log(u1));
        double lon = town[t][0] + r * cos(2 * M_PI * u2), lat = town[t][1] + r * sin(2 * M_PI * u2);
        double pop = 1 + floor(tu_rng_unit(&rng) * 60) + (i % 7) * 0.25;
        /* older residents spread from a census as fractions (sums depend on their order) */
        double p65 = pop * (0.1 + 0.2 * tu_rng_unit(&rng)), p80 = p65 * 0.3;
        fprintf(f, "P%d,%.7f,%.7f,%g,%.6f,%.6f\n", i, lon, lat, pop, p65, p80);
    }
    fclose(f);
    free(path);
    path = tu_join(work, "facilities.csv");
    f = fopen(path, "w");
    fprintf(f, "id,name,kind,lon,lat,meals,beds\n");
    static const char *const kinds[] = {"centre", "meal", "home", "day"};
    for (int i = 0; i < 900; i++) {
        int t = i % 4 == 0 ? 0 : (int)(tu_rng_unit(&rng) * 40) + 1;
        double s = t == 0 ? 0.05 : 0.025;
        double lon = town[t][0] + s * (2 * tu_rng_unit(&rng) - 1);
        double lat = town[t][1] + s * (2 * tu_rng_unit(&rng) - 1);
        int meals = i % 11 == 0 ? 0 : 20 + (int)(tu_rng_unit(&rng) * 200);
        int beds = 30 + (int)(tu_rng_unit(&rng) * 300);
        fprintf(f, "f%d,设施 %d,%s,%.7f,%.7f,%d,%d\n", i, i, kinds[i % 4], lon, lat, meals, beds);
        if (i % 97 == 0) /* a second facility of the kind at the same place: ties */
            fprintf(f, "f%d-twin,设施 %d 分部,%s,%.7f,%.7f,%d,%d\n", i, i, kinds[i % 4], lon,
                    lat, meals / 2, beds / 2);
    }
    fprintf(f, "far,远处,centre,121.95,30.75,0,0\n");
    fclose(f);
    free(path);
    write_network(town, &rng);
    char study[4096];
    snprintf(study, sizeof study,
             "name: 上海 shards\n"
             "areas: {path: %s/shanghai-townships.geojson, id: name, name: name_en}\n"
             "facilities: {path: facilities.csv, x: lon, y: lat}\n"
             "population:\n  path: population.csv\n  x: lon\n  y: lat\n"
             "  bands: {65+: pop65, 80+: pop80}\n"
             "network: {path: network.geojson, speed: speed}\n"
             "measure: straight\n"
             "outside_tolerance_m: 200\nfar_outside_km: 40\n"
             "capacities: {meals: {field: meals}, beds: {field: beds}}\n"
             "kinds:\n"
             "  centre: {thresholds_min: [5, 10, 15]}\n"
             "  meal: {thresholds_min: [5, 10, 15], load_capacity: meals, load_band: 65+,\n"
             "         load_rate: 0.05, access_decay: steps}\n"
             "  home: {thresholds_min: [10, 20], load_capacity: beds, load_band: 80+,\n"
             "         access_decay: gaussian, measure: both}\n"
             "  day: {thresholds_min: [5, 10, 15], load_capacity: meals, load_band: 65+,\n"
             "        access_decay: steps, measure: network}\n"
             "targets:\n"
             "  reach: {type: coverage, kind: centre, band: 65+, within_min: 15, "
             "at_least: 0.9}\n"
             "  street: {type: coverage, scope: area, kind: meal, band: 65+, within_min: 15, "
             "at_least: 0.5}\n"
             "  access: {type: accessibility, kind: home, at_least: 1}\n"
             "  load: {type: load, kind: meal, at_most: 1}\n",
             shared);
    free(tu_write(work, "study.yaml", study));
}

static int setup(void **state)
{
    (void)state;
    work = tu_mkdtemp();
    shared = tu_shared_data();
    if (!shared)
        return 0;
    write_study();
    single = tu_join(work, "single");
    return run(NULL, "cd %s && %s run study.yaml --out single -q", work, CS_CLI);
}

static int teardown(void **state)
{
    (void)state;
    if (work)
        tu_rmtree(work);
    free(work);
    free(single);
    return 0;
}

/* summary.json without its "shards" object (the merge's folder and parts). */
static char *without_shards(char *text)
{
    char *at = text ? strstr(text, "  \"shards\": {") : NULL;
    if (!at)
        return text;
    char *end = strstr(at, "\n  },\n");
    assert_non_null(end);
    memmove(at, end + 6, strlen(end + 6) + 1);
    return text;
}

/* Every file of the single run (in folder one) is in merged, with the same bytes. */
static void same_outputs(const char *one, const char *merged)
{
    DIR *d = opendir(one);
    assert_non_null(d);
    size_t files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *a = tu_join(one, e->d_name), *b = tu_join(merged, e->d_name);
        size_t na = 0, nb = 0;
        char *ta = tu_read(a, &na), *tb = tu_read(b, &nb);
        if (!tb)
            fail_msg("%s: missing from the merge", e->d_name);
        if (!strcmp(e->d_name, "summary.json")) {
            assert_non_null(strstr(tb, "\"shards\": {"));
            ta = without_shards(ta);
            tb = without_shards(tb);
            na = strlen(ta);
            nb = strlen(tb);
        }
        if (na != nb || memcmp(ta, tb, na) != 0)
            fail_msg("%s differs between the single run and the merge (%zu, %zu bytes)",
                     e->d_name, na, nb);
        files++;
        free(ta);
        free(tb);
        free(a);
        free(b);
    }
    closedir(d);
    assert_true(files >= 10); /* layers, package, demand layer, tables, summary */
}

/* Cut into parts shards in folder `name`, run each, merge into name/merged. */
static void cut_run_merge(const char *name, int parts)
{
    assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --parts %d --out %s -q", work,
                         CS_CLI, parts, name), 0);
    for (int p = 1; p <= parts; p++)
        assert_int_equal(run(NULL, "cd %s/%s && %s run %04d/study.yaml --out %04d/out -q", work,
                             name, CS_CLI, p, p),
                         0);
    assert_int_equal(run(NULL, "cd %s && %s merge %s --out %s/merged -q", work, CS_CLI, name,
                         name),
                     0);
}

/* The manifest: every township in one shard, and the shards' own points adding up. */
static void check_manifest(const char *name, int parts, bool halos)
{
    char *dir = tu_join(work, name), *path = tu_join(dir, "shards.json");
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    size_t areas = 0, context = 0;
    for (const char *p = text; (p = strstr(p, "\"areas\": [")); p++)
        for (const char *q = strchr(p, '['); *q != ']'; q++)
            areas += *q == '"' && q[-1] != '\\' ? 1 : 0;
    for (const char *p = text; (p = strstr(p, "\"context_points\": ")); p++)
        context += strtoul(p + 18, NULL, 10);
    assert_int_equal(areas / 2, 229); /* each id opens and closes a quote */
    if (halos)
        assert_true(context > 0); /* residents of other shards compete at the borders */
    char needle[64];
    snprintf(needle, sizeof needle, "\"parts\": %d", parts);
    assert_non_null(strstr(text, needle));
    free(text);
    free(path);
    free(dir);
}

static void merged_is_the_single_run(void **state)
{
    (void)state;
    if (!shared)
        skip();
    static const int parts[] = {1, 2, 7, 32};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char name[32], merged[64];
        snprintf(name, sizeof name, "cut%d", parts[i]);
        cut_run_merge(name, parts[i]);
        check_manifest(name, parts[i], parts[i] > 1);
        snprintf(merged, sizeof merged, "%s/merged", name);
        char *dir = tu_join(work, merged);
        same_outputs(single, dir);
        free(dir);
    }
}

static void same_doubles(const double *a, const double *b, size_t n, const char *what)
{
    if ((a == NULL) != (b == NULL))
        fail_msg("%s: in one result only", what);
    for (size_t i = 0; a && i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0)
            fail_msg("%s[%zu]: %.17g in the single run, %.17g merged", what, i, a[i], b[i]);
}

/* Below the outputs' rounding: every figure of the merge of the shards in dir is the
 * single run's of the study at path to the last bit (costs, nearest facilities, ties,
 * accessibility, ratios, tables); `accessed_kinds` kinds have accessibility. Returns how
 * many points have tied nearest facilities. */
static size_t exact_merge(const char *path, const char *dir, size_t accessed_kinds)
{
    cs_context *ctx = NULL;
    cs_config *cfg = NULL, *mcfg = NULL;
    cs_study *study = NULL, *mstudy = NULL;
    cs_result *r = NULL, *m = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfg, path), CS_OK);
    assert_int_equal(cs_study_load(ctx, cfg, &study), CS_OK);
    assert_int_equal(cs_run(ctx, study, &r), CS_OK);
    assert_int_equal(cs_merge_load(ctx, dir, 0, &mcfg, &mstudy, &m), CS_OK);
    size_t N = study->dem.count, F = study->fac.count;
    assert_int_equal(mstudy->dem.count, N);
    size_t accessed = 0;
    for (size_t f = 0; f < CS_MEASURES * r->K; f++) {
        same_doubles(r->dist_m[f], m->dist_m[f], N, "dist_m");
        if (r->nearest[f])
            assert_memory_equal(r->nearest[f], m->nearest[f], N * sizeof(long));
        assert_int_equal(r->ties[f].count, m->ties[f].count);
        if (r->ties[f].count) {
            assert_memory_equal(r->ties[f].pt, m->ties[f].pt, r->ties[f].count * sizeof(size_t));
            assert_memory_equal(r->ties[f].fac, m->ties[f].fac,
                                r->ties[f].start[r->ties[f].count] * sizeof(long));
        }
    }
    for (size_t k = 0; k < r->K; k++) {
        same_doubles(r->access[k], m->access[k], N, "access");
        same_doubles(r->fac_ratio[k], m->fac_ratio[k], F, "fac_ratio");
        accessed += r->access[k] != NULL;
    }
    assert_int_equal(accessed, accessed_kinds);
    same_doubles(r->access_mean, m->access_mean, r->K * (r->A + 1), "access_mean");
    same_doubles(r->served, m->served, F * r->B, "served");
    same_doubles(r->covered, m->covered,
                 CS_MEASURES * r->K * CS_MAX_THRESHOLDS * (r->A + 1) * r->B, "covered");
    size_t tied = 0;
    for (size_t f = 0; f < CS_MEASURES * r->K; f++)
        tied += r->ties[f].count;
    cs_result_destroy(m);
    cs_result_destroy(r);
    cs_study_destroy(mstudy);
    cs_study_destroy(study);
    cs_config_destroy(mcfg);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    return tied;
}

static void merged_result_is_exact(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *path = tu_join(work, "study.yaml"), *dir = tu_join(work, "cut7");
    assert_true(exact_merge(path, dir, 3) > 0); /* the twins' residents are tied */
    free(path);
    free(dir);
}

/* The merge of the 7 shards with its large blocks spilled to a folder (cs_spill_to; from
 * 64 kB here, so that the residents' arrays, the graph's and the demand layer's are):
 * the single run's outputs byte for byte, and nothing left in the folder. */
static void merged_in_spill_is_the_single_run(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_join(work, "cut7"), *out = tu_join(work, "cut7/spilled");
    char *spill = tu_join(work, "spill");
    assert_int_equal(run(NULL, "mkdir -p %s", spill), 0);
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *study = NULL;
    cs_result *r = NULL;
    size_t min = cs_spill_min_bytes((size_t)64 << 10), made = cs_spill_made();
    assert_int_equal(cs_spill_to(spill), CS_OK);
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_merge_load(ctx, dir, 0, &cfg, &study, &r), CS_OK);
    assert_int_equal(cs_result_write_releasing(ctx, study, r, out), CS_OK);
    cs_result_destroy(r);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    assert_int_equal(cs_spill_to(NULL), CS_OK);
    cs_spill_min_bytes(min);
    print_message("%zu blocks spilled\n", cs_spill_made() - made);
    assert_true(cs_spill_made() - made >= 20);
    assert_true(tu_folder_empty(spill));
    same_outputs(single, out);
    free(spill);
    free(out);
    free(dir);
}

static void missing_and_stale_shards_are_named(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *out = NULL;
    cut_run_merge("cut3", 3);
    /* a shard without results: named with its log, unless --partial */
    assert_int_equal(run(NULL, "rm -rf %s/cut3/0002/out", work), 0);
    assert_int_equal(run(&out, "cd %s && %s merge cut3 --out m2", work, CS_CLI), 4);
    assert_non_null(strstr(out, "shard 2 has no results"));
    assert_non_null(strstr(out, "cut3/0002/slurm-*.log"));
    assert_non_null(strstr(out, "--partial"));
    free(out);
    assert_int_equal(run(&out, "cd %s && %s merge cut3 --out m2 --partial", work, CS_CLI), 0);
    assert_non_null(strstr(out, "1 of 3 shards are missing"));
    free(out);
    char *summary = tu_join(work, "m2/summary.json");
    char *text = tu_read(summary, NULL);
    assert_non_null(strstr(text, "\"partial\": true"));
    assert_non_null(strstr(text, "\"missing\": [\n      2\n    ]"));
    free(text);
    free(summary);
    /* cut again into the same folder: the old results are of another cut */
    assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --parts 3 --out cut3 -q", work,
                         CS_CLI), 0);
    assert_int_equal(run(&out, "cd %s && %s merge cut3 --out m3", work, CS_CLI), 4);
    assert_non_null(strstr(out, "of another cut"));
    free(out);
    /* damaged results */
    assert_int_equal(run(NULL, "cd %s/cut3 && %s run 0001/study.yaml --out 0001/out -q && "
                               "truncate -s 100 0001/out/shard.bin", work, CS_CLI), 0);
    assert_int_equal(run(&out, "cd %s && %s merge cut3 --out m3 --partial", work, CS_CLI), 4);
    assert_non_null(strstr(out, "0001/out/shard.bin"));
    assert_non_null(strstr(out, "damaged or cut short"));
    free(out);
    /* no manifest, and a damaged one */
    assert_int_equal(run(&out, "cd %s && %s merge single --out m4", work, CS_CLI), 4);
    assert_non_null(strstr(out, "shards.json"));
    free(out);
    assert_int_equal(run(NULL, "cd %s && mkdir -p bad && echo '{\"parts\": 2}' > "
                               "bad/shards.json", work), 0);
    assert_int_equal(run(&out, "cd %s && %s merge bad --out m4", work, CS_CLI), 4);
    assert_non_null(strstr(out, "not a manifest careshed shard wrote"));
    free(out);
    /* no shard has results, even with --partial */
    assert_int_equal(run(NULL, "rm -rf %s/cut3/000*/out", work), 0);
    assert_int_equal(run(&out, "cd %s && %s merge cut3 --out m4 --partial", work, CS_CLI), 4);
    assert_non_null(strstr(out, "no shard has results"));
    free(out);
}

/* What the shards hold no longer matches the study, or a shard's own keys are wrong. */
static void changed_studies_are_refused(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *out = NULL;
    assert_int_equal(run(NULL, "cd %s && mkdir -p changed && cp study.yaml facilities.csv "
                               "population.csv network.geojson changed/", work), 0);
    assert_int_equal(run(NULL, "cd %s/changed && %s shard study.yaml --parts 2 --out sh -q && "
                               "%s run sh/0001/study.yaml --out sh/0001/out -q && "
                               "%s run sh/0002/study.yaml --out sh/0002/out -q",
                         work, CS_CLI, CS_CLI, CS_CLI), 0);
    /* a resident moved after the cut */
    assert_int_equal(run(NULL, "cd %s/changed && sed -i '2s/,121\\./,121.0001/' "
                               "population.csv", work), 0);
    assert_int_equal(run(&out, "cd %s/changed && %s merge sh --out m", work, CS_CLI), 4);
    assert_non_null(strstr(out, "changed since the cut"));
    free(out);
    /* a facility of the shards left the study */
    assert_int_equal(run(NULL, "cd %s/changed && cp ../population.csv . && "
                               "sed -i '/^f0,/d' facilities.csv", work), 0);
    assert_int_equal(run(&out, "cd %s/changed && %s merge sh --out m", work, CS_CLI), 4);
    assert_non_null(strstr(out, "changed since the cut"));
    free(out);
    /* a shard's own mark that is neither 0 nor 1 */
    assert_int_equal(run(NULL, "cd %s/changed/sh/0001 && sed -i '2s/,[01]$/,2/' "
                               "population.csv", work), 0);
    assert_int_equal(run(&out, "cd %s/changed/sh/0001 && %s run study.yaml --out o", work,
                         CS_CLI), 4);
    assert_non_null(strstr(out, "must be its own (1) or another's (0), not 2"));
    free(out);
    /* shard keys that do not go together */
    assert_int_equal(run(&out, "cd %s/changed/sh/0002 && %s run study.yaml --out o "
                               "--set shard.parts=1", work, CS_CLI), 3);
    assert_non_null(strstr(out, "the shard keys do not go together"));
    free(out);
    /* a network box upside down */
    assert_int_equal(run(&out, "cd %s/changed/sh/0002 && %s run study.yaml --out o "
                               "--set shard.network_box=5,6,1,2", work, CS_CLI), 3);
    assert_non_null(strstr(out, "shard.network_box"));
    assert_non_null(strstr(out, "the shard keys do not go together"));
    free(out);
}

/* The shard of shards.json in folder dir that lists area id, from 1; 0 for none. */
static int shard_of(const char *dir, const char *id)
{
    char *path = tu_join(dir, "shards.json"), *text = tu_read(path, NULL);
    char needle[256];
    snprintf(needle, sizeof needle, "\"%s\"", id);
    const char *at = strstr(text, needle);
    int part = 0;
    for (const char *p = text; at && (p = strstr(p, "\"part\": ")) && p < at; p++)
        part = atoi(p + 8);
    free(text);
    free(path);
    return part;
}

/* --by FIELD: a shard per value of the areas' field (Shanghai's 16 districts). */
static void cut_by_a_field(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *out = NULL;
    assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --by district --out byd -q", work,
                         CS_CLI), 0);
    char *dir = tu_join(work, "byd");
    check_manifest("byd", 16, true);
    /* 七宝镇 and 古美街道 are both of 闵行区; 南京东路街道 of 黄浦区 */
    assert_int_not_equal(shard_of(dir, "七宝镇"), 0);
    assert_int_equal(shard_of(dir, "七宝镇"), shard_of(dir, "古美街道"));
    assert_int_not_equal(shard_of(dir, "七宝镇"), shard_of(dir, "南京东路街道"));
    free(dir);
    assert_int_equal(run(&out, "cd %s && %s shard study.yaml --by nosuch --out byx", work,
                         CS_CLI), 4);
    assert_non_null(strstr(out, "no field 'nosuch' (--by)"));
    assert_non_null(strstr(out, "district_code"));
    free(out);
    assert_int_equal(run(&out, "cd %s && %s shard study.yaml --by district --parts 3 --out byx",
                         work, CS_CLI), 2);
    free(out);
}

static void cuts_careshed_refuses(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *out = NULL;
    assert_int_equal(run(&out, "cd %s && %s shard study.yaml --parts 230 --out c", work,
                         CS_CLI), 3);
    assert_non_null(strstr(out, "230 shards of 229 areas"));
    free(out);
    assert_int_equal(run(&out, "cd %s && %s shard study.yaml --out c", work, CS_CLI), 2);
    assert_non_null(strstr(out, "--parts"));
    free(out);
    /* a shard is not cut again */
    assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --parts 2 --out c -q", work,
                         CS_CLI), 0);
    assert_int_equal(run(&out, "cd %s && %s shard c/0001/study.yaml --parts 2 --out cc", work,
                         CS_CLI), 3);
    assert_non_null(strstr(out, "itself a shard"));
    free(out);
    /* 3SFCA's selection weights reach beyond a shard's context: refused, naming the key */
    assert_int_equal(run(&out, "cd %s && %s shard study.yaml --parts 2 --out c3 "
                               "--set kinds.meal.access_method=3sfca", work, CS_CLI), 3);
    if (!strstr(out, "kinds.meal.access_method") ||
        !strstr(out, "kind 'meal' is measured by 3SFCA, which shards cannot yet give exactly") ||
        !strstr(out, "run the study whole, or shard it with access_method: 2sfca"))
        fail_msg("careshed shard with 3SFCA:\n%s", out);
    free(out);
}

/* areas.geojson in dir: four square streets s0..s3, their south-west corners at (x, y),
 * `side` degrees wide. */
static void square_areas(const char *dir, const double x[4], const double y[4], double side)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int q = 0; q < 4; q++)
        cs_buf_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"s%d\"},"
                      "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%g,%g],"
                      "[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}", q ? "," : "", q, x[q], y[q],
                      x[q] + side, y[q], x[q] + side, y[q] + side, x[q], y[q] + side, x[q], y[q]);
    cs_buf_add(&b, "]}\n");
    free(tu_write(dir, "areas.geojson", b.data));
    cs_buf_free(&b);
}

/* A small study of four square streets, `points` residents and `facilities`, in
 * folder `name`. */
static char *small_study(const char *name, int points, int facilities)
{
    char *dir = tu_join(work, name);
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    const double x[4] = {121.40, 121.42, 121.40, 121.42}, y[4] = {31.10, 31.10, 31.12, 31.12};
    square_areas(dir, x, y, 0.02);
    cs_buf b;
    cs_buf_init(&b);
    uint64_t rng = 7;
    cs_buf_add(&b, "id,lon,lat,pop,pop65\n");
    for (int i = 0; i < points; i++)
        cs_buf_printf(&b, "P%d,%.6f,%.6f,%d,%d\n", i, 121.40 + 0.04 * tu_rng_unit(&rng),
                      31.10 + 0.04 * tu_rng_unit(&rng), 10 + i % 7, 2 + i % 3);
    free(tu_write(dir, "population.csv", b.data));
    cs_buf_clear(&b);
    cs_buf_add(&b, "id,kind,lon,lat,meals\n");
    for (int i = 0; i < facilities; i++)
        cs_buf_printf(&b, "f%d,%s,%.6f,%.6f,%d\n", i, i % 2 ? "meal" : "centre",
                      121.40 + 0.04 * tu_rng_unit(&rng), 31.10 + 0.04 * tu_rng_unit(&rng),
                      30 + i);
    free(tu_write(dir, "facilities.csv", b.data));
    cs_buf_free(&b);
    free(tu_write(dir, "study.yaml",
                  "areas: {path: areas.geojson, id: code}\n"
                  "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
                  "population: {path: population.csv, x: lon, y: lat, crs: EPSG:4326,\n"
                  "             bands: {65+: pop65}}\n"
                  "measure: straight\n"
                  "capacities: {meals: {field: meals}}\n"
                  "kinds: {centre: {}, meal: {load_capacity: meals, load_band: 65+}}\n"));
    return dir;
}

/* Four streets in a row, 5 km each, with residents and facilities in all of them, and
 * walking streets only in the first: the shards of the last streets have no street
 * within reach. Measured along the network, with accessibility by bands. */
static char *row_study(const char *name)
{
    char *dir = tu_join(work, name);
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    const double x[4] = {121.40, 121.45, 121.50, 121.55}, y[4] = {31.10, 31.10, 31.10, 31.10};
    square_areas(dir, x, y, 0.05);
    cs_buf b;
    cs_buf_init(&b);
    uint64_t rng = 11;
    cs_buf_add(&b, "lon,lat,pop,pop65\n");
    for (int i = 0; i < 2000; i++) /* most in the first street, along its streets */
        cs_buf_printf(&b, "%.6f,%.6f,%d,%.4f\n",
                      121.40 + (i % 4 ? 0.02 : 0.2) * tu_rng_unit(&rng),
                      31.10 + 0.05 * tu_rng_unit(&rng), 10 + i % 7, 2.5 * tu_rng_unit(&rng));
    free(tu_write(dir, "population.csv", b.data));
    cs_buf_clear(&b);
    cs_buf_add(&b, "id,kind,lon,lat,meals\n");
    for (int i = 0; i < 60; i++)
        cs_buf_printf(&b, "f%d,%s,%.6f,%.6f,%d\n", i, i % 2 ? "meal" : "centre",
                      121.40 + (i % 3 ? 0.02 : 0.2) * tu_rng_unit(&rng),
                      31.10 + 0.05 * tu_rng_unit(&rng), 30 + i);
    free(tu_write(dir, "facilities.csv", b.data));
    cs_buf_clear(&b);
    cs_buf_add(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int k = 0; k < 2 * 11; k++) { /* an 11 x 11 grid over 121.40-121.42, 31.10-31.15 */
        int i = k % 11;
        double x0 = 121.40 + 0.002 * i, y0 = 31.10, x1 = x0, y1 = 31.15;
        if (k >= 11)
            x0 = 121.40, x1 = 121.42, y0 = y1 = 31.10 + 0.005 * i;
        cs_buf_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{},\"geometry\":"
                      "{\"type\":\"LineString\",\"coordinates\":[[%g,%g],[%g,%g]]}}",
                      k ? "," : "", x0, y0, x1, y1);
    }
    cs_buf_add(&b, "]}\n");
    free(tu_write(dir, "network.geojson", b.data));
    cs_buf_free(&b);
    free(tu_write(dir, "study.yaml",
                  "areas: {path: areas.geojson, id: code}\n"
                  "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
                  "population: {path: population.csv, x: lon, y: lat, crs: EPSG:4326,\n"
                  "             bands: {65+: pop65}}\n"
                  "network: {path: network.geojson, crs: EPSG:4326, node_crossings: true}\n"
                  "measure: network\n"
                  "capacities: {meals: {field: meals}}\n"
                  "kinds: {centre: {}, meal: {load_capacity: meals, load_band: 65+,\n"
                  "        access_decay: steps}}\n"));
    return dir;
}

/* Each allocation of careshed shard and careshed merge of the study in dir refused in
 * turn (every ninth one of the cut, every merge_step-th one of the merge): the call says
 * it ran out of memory, or succeeds as if nothing was refused; nothing leaks
 * (LeakSanitizer). */
static void cut_and_merge_without_memory(const char *dir, int parts, long merge_step)
{
    char *path = tu_join(dir, "study.yaml"), *shards = tu_join(dir, "sh");
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *study = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfg, path), CS_OK);
    assert_int_equal(cs_study_load(ctx, cfg, &study), CS_OK);
    long n = 0, refused = 0;
    for (;; n += 9) {
        tu_alloc_refuse_one(n);
        cs_status st = cs_shard_write(ctx, cfg, study, (size_t)parts, NULL, shards);
        long made = tu_alloc_made();
        tu_alloc_restore();
        cs_context_clear_messages(ctx);
        if (st != CS_OK && st != CS_ERR_NOMEM)
            fail_msg("cut, allocation %ld refused: status %d, not CS_ERR_NOMEM", n, (int)st);
        refused += st == CS_ERR_NOMEM;
        if (made <= n) /* nothing was refused: the cut is whole */
            break;
    }
    assert_true(refused > 10);
    for (int p = 1; p <= parts; p++)
        assert_int_equal(run(NULL, "cd %s && %s run %04d/study.yaml --out %04d/out -q", shards,
                             CS_CLI, p, p),
                         0);
    refused = 0;
    for (n = 0;; n += merge_step) {
        cs_config *mcfg = NULL;
        cs_study *mstudy = NULL;
        cs_result *r = NULL;
        tu_alloc_refuse_one(n);
        cs_status st = cs_merge_load(ctx, shards, 0, &mcfg, &mstudy, &r);
        long made = tu_alloc_made();
        tu_alloc_restore();
        cs_context_clear_messages(ctx);
        if (st != CS_OK && st != CS_ERR_NOMEM)
            fail_msg("merge, allocation %ld refused: status %d, not CS_ERR_NOMEM", n, (int)st);
        assert_true(st != CS_OK || r);
        refused += st == CS_ERR_NOMEM;
        cs_result_destroy(r);
        cs_study_destroy(mstudy);
        cs_config_destroy(mcfg);
        if (made <= n)
            break;
    }
    assert_true(refused > 10);
    print_message("allocation failure: %ld points of the merge checked\n", n / merge_step);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    free(path);
    free(shards);
}

/* The merge's memory does not grow with the number of shards: each shard's list of its
 * residents is as long as they are (it was the study's length for every shard, 1.4 GB
 * more for 64 shards of a province). And it holds one shard's results at a time, not
 * all of them: a national merge's 740 shards' would be 22 GB in blocks each too small
 * for --spill. The results in memory take about what their shard.bin takes. */
static void merge_memory_stays_with_the_study(void **state)
{
    (void)state;
    enum { POINTS = 20000 };
    char *dir = small_study("many", POINTS, 20);
    const int parts[2] = {1, 4};
    long peak[2], results = 0;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --parts %d --out sh%d -q && "
                                   "for p in $(seq -f %%04g 1 %d); do %s run sh%d/$p/study.yaml "
                                   "--out sh%d/$p/out -q || exit 1; done", dir, CS_CLI,
                             parts[k], k, parts[k], CS_CLI, k, k),
                         0);
        char shards[16];
        snprintf(shards, sizeof shards, "sh%d", k);
        char *path = tu_join(dir, shards);
        if (k == 0) {
            char *bin = tu_join(path, "0001/out/shard.bin");
            struct stat st;
            assert_int_equal(stat(bin, &st), 0);
            results = (long)st.st_size;
            free(bin);
        }
        cs_context *ctx = NULL;
        cs_config *cfg = NULL;
        cs_study *study = NULL;
        cs_result *r = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        tu_alloc_track();
        assert_int_equal(cs_merge_load(ctx, path, 0, &cfg, &study, &r), CS_OK);
        peak[k] = tu_alloc_peak();
        tu_alloc_restore();
        cs_result_destroy(r);
        cs_study_destroy(study);
        cs_config_destroy(cfg);
        cs_context_destroy(ctx);
        free(path);
    }
    print_message("merge peak: %ld bytes in 1 shard, %ld in 4; the results %ld bytes\n",
                  peak[0], peak[1], results);
    /* a list of the residents for each of 3 more shards would be 24 bytes a resident */
    assert_true(peak[1] < peak[0] + 8 * POINTS);
    /* three quarters of the results are never held in 4 shards (half, for uneven ones) */
    assert_true(peak[1] < peak[0] - results / 2);
    free(dir);
}

/* Measured straight (the small study) and along the network (the row of streets, whose
 * merge loads the network with many more allocations: every 61st of them is refused). */
static void shard_and_merge_without_memory(void **state)
{
    (void)state;
    char *dir = small_study("small", 300, 20);
    cut_and_merge_without_memory(dir, 2, 9);
    free(dir);
    dir = row_study("row-memory");
    cut_and_merge_without_memory(dir, 4, 61);
    free(dir);
}

/* The study in dir run whole (dir/one) and in `parts` shards (dir/sh) merged
 * (dir/merged): the same outputs. */
static void single_and_merged(const char *dir, int parts)
{
    assert_int_equal(run(NULL, "cd %s && %s run study.yaml --out one -q && %s shard study.yaml "
                               "--parts %d --out sh -q && for p in $(seq -f %%04g 1 %d); do %s "
                               "run sh/$p/study.yaml --out sh/$p/out -q || exit 1; done && %s "
                               "merge sh --out merged -q", dir, CS_CLI, CS_CLI, parts, parts,
                         CS_CLI, CS_CLI),
                     0);
    char *one = tu_join(dir, "one"), *merged = tu_join(dir, "merged");
    same_outputs(one, merged);
    free(merged);
    free(one);
}

/* More facilities than residents (the cut's buffers hold both in turn). */
static void more_facilities_than_residents(void **state)
{
    (void)state;
    char *dir = small_study("few", 12, 90);
    single_and_merged(dir, 3);
    free(dir);
}

/* Shards with no street within reach still run (their network is one edge far away),
 * and the merge is the single run's. */
static void network_shards_far_from_streets(void **state)
{
    (void)state;
    char *dir = row_study("row");
    single_and_merged(dir, 4);
    char *path = tu_join(dir, "sh/shards.json"), *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"edges\": 1,")); /* a shard far from the streets */
    assert_non_null(strstr(text, "\"edges\": 220,")); /* the first street's: all of them */
    free(text);
    free(path);
    free(dir);
}

/* id, lon and lat of each row of a small study's CSV (n rows at most). */
static size_t read_places(const char *path, char (*id)[16], double *lon, double *lat, size_t n)
{
    char *text = tu_read(path, NULL);
    size_t k = 0;
    for (char *line = strchr(text, '\n'); line && line[1] && k < n; line = strchr(line + 1, '\n')) {
        char *f = line + 1, *comma = strchr(f, ',');
        snprintf(id[k], sizeof id[k], "%.*s", (int)(comma - f), f);
        bool facility = id[k][0] == 'f'; /* facilities.csv: id,kind,lon,lat,... */
        char *at = facility ? strchr(comma + 1, ',') + 1 : comma + 1;
        lon[k] = strtod(at, &at);
        lat[k++] = strtod(at + 1, NULL);
    }
    free(text);
    return k;
}

/* A study measured by a cost matrix another router made: every resident and facility
 * within 2 km, at the straight walk times a random factor of 0.5 to 1.6, in minutes with
 * fractions (a router walking from entrances, not from the points given, may find a
 * pair cheaper than the straight line: only the matrix says which facilities reach a
 * shard and which residents compete); a facility row listing nobody; every 50th pair
 * repeated, dearer (beyond reach, for one in four) or cheaper; pairs of a candidate
 * site no proposal names. */
static char *matrix_study(const char *name)
{
    char *dir = small_study(name, 900, 40);
    static char pid[900][16], fid[40][16];
    static double px[900], py[900], fx[40], fy[40];
    char *pop = tu_join(dir, "population.csv"), *fac = tu_join(dir, "facilities.csv");
    size_t np = read_places(pop, pid, px, py, 900), nf = read_places(fac, fid, fx, fy, 40);
    assert_int_equal(np, 900);
    assert_int_equal(nf, 40);
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "origin,destination,cost\n");
    uint64_t rng = 99;
    size_t pairs = 0;
    for (size_t j = 1; j < nf; j++) /* f0 reaches no one */
        for (size_t i = 0; i < np; i++) {
            double dx = (px[i] - fx[j]) * 95300, dy = (py[i] - fy[j]) * 110900;
            double d = sqrt(dx * dx + dy * dy), detour = 0.5 + 1.1 * tu_rng_unit(&rng);
            if (d > 2000)
                continue;
            double min = d * detour / (4000.0 / 60);
            cs_buf_printf(&b, "%s,%s,%.5f\n", pid[i], fid[j], min);
            if (++pairs % 50 == 0)
                cs_buf_printf(&b, "%s,%s,%.5f\n", pid[i], fid[j],
                              pairs % 200 == 0 ? 99 : pairs % 100 == 0 ? min / 2 : min * 1.5);
            if (j == 5 && i % 3 == 0)
                cs_buf_printf(&b, "%s,site-9,%.5f\n", pid[i], min);
        }
    free(tu_write(dir, "costs.csv", b.data));
    cs_buf_free(&b);
    free(tu_write(dir, "study.yaml",
                  "areas: {path: areas.geojson, id: code}\n"
                  "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
                  "population: {path: population.csv, x: lon, y: lat, crs: EPSG:4326, id: id,\n"
                  "             bands: {65+: pop65}}\n"
                  "costs: {path: costs.csv}\n"
                  "measure: matrix\n"
                  "capacities: {meals: {field: meals}}\n"
                  "kinds: {centre: {}, meal: {load_capacity: meals, load_band: 65+,\n"
                  "        access_decay: gaussian}}\n"));
    free(pop);
    free(fac);
    return dir;
}

/* Cut as the command cuts it (reading the matrix as it cuts), the shards' merge is the
 * single run to the bit. */
static void matrix_shards(void **state)
{
    (void)state;
    char *dir = matrix_study("mx");
    char *path = tu_join(dir, "study.yaml"), *shards = tu_join(dir, "sh");
    single_and_merged(dir, 3);
    exact_merge(path, shards, 1);
    free(shards);
    free(path);
    free(dir);
}

/* A shard with no facility within reach of its residents holds none, no pair of the
 * cost matrix and one edge of the network: it still runs, and the merge is the single
 * run (measured straight, along the network and by the matrix). */
static void shard_without_facilities(void **state)
{
    (void)state;
    char *dir = tu_join(work, "nofac");
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    const double x[4] = {121.40, 121.55, 121.70, 121.85}, y[4] = {31.10, 31.10, 31.10, 31.10};
    square_areas(dir, x, y, 0.05);
    free(tu_write(dir, "population.csv", "id,lon,lat,pop,pop65\nP1,121.42,31.12,10,3\n"
                                         "P2,121.43,31.13,12,4.5\nP3,121.57,31.12,9,2\n"
                                         "P4,121.72,31.12,9,2\nP5,121.87,31.12,9,2\n"));
    free(tu_write(dir, "facilities.csv", "id,kind,lon,lat,meals\nf1,meal,121.421,31.121,20\n"));
    free(tu_write(dir, "costs.csv", "from,to,cost\nP1,f1,2.5\nP2,f1,9\nP3,f1,80\n"));
    free(tu_write(dir, "network.geojson",
                  "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                  "\"properties\":{},\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
                  "[[121.41,31.12],[121.44,31.12]]}},{\"type\":\"Feature\",\"properties\":{},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.42,31.11],"
                  "[121.42,31.14]]}}]}\n"));
    free(tu_write(dir, "study.yaml",
                  "areas: {path: areas.geojson, id: code}\n"
                  "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
                  "population: {path: population.csv, x: lon, y: lat, crs: EPSG:4326, id: id,\n"
                  "             bands: {65+: pop65}}\n"
                  "costs: {path: costs.csv}\n"
                  "network: {path: network.geojson, crs: EPSG:4326, node_crossings: true}\n"
                  "measure: [straight, network, matrix]\n"
                  "capacities: {meals: {field: meals}}\n"
                  "kinds: {meal: {load_capacity: meals, load_band: 65+}}\n"));
    single_and_merged(dir, 4);
    char *path = tu_join(dir, "sh/shards.json"), *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"facilities\": 0")); /* the far shards */
    free(text);
    free(path);
    free(dir);
}

/* ------------------------------------------------------ population grids */

/* A population grid (GeoTIFF, EPSG:4326, stored 16 rows a block, so that it is read in
 * strips) of cols x rows cells of `cell` degrees from (lon0, lat_top): a few smooth
 * peaks over a floor, with empty (0) and nodata cells among them. */
static double write_grid(const char *path, double lon0, double lat_top, double cell, int cols,
                         int rows)
{
    double total = 0;
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, cols, rows, 1,
                                 GDT_Float32, (char *[]){"BLOCKYSIZE=16", NULL});
    double gt[6] = {lon0, cell, 0, lat_top, 0, -cell};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(band, -1);
    float *v = malloc((size_t)cols * (size_t)rows * sizeof *v);
    uint64_t rng = 11;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double fx = (double)c / cols, fy = (double)r / rows;
            double d1 = (fx - 0.55) * (fx - 0.55) + (fy - 0.45) * (fy - 0.45);
            double d2 = (fx - 0.25) * (fx - 0.25) + (fy - 0.7) * (fy - 0.7);
            double people = 2 + 300 * exp(-d1 * 40) + 120 * exp(-d2 * 90);
            double u = tu_rng_unit(&rng);
            /* fractions of people: sums depend on their order */
            v[(size_t)r * cols + c] = u < 0.05 ? -1.0f : u < 0.1 ? 0.0f : (float)(people * u);
            total += v[(size_t)r * cols + c] > 0 ? v[(size_t)r * cols + c] : 0;
        }
    assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, cols, rows, v, cols, rows, GDT_Float32,
                                  0, 0), CE_None);
    free(v);
    GDALClose(ds);
    return total;
}

static const char grid_kinds[] =
    "measure: straight\n"
    "capacities: {meals: {field: meals}, beds: {field: beds}}\n"
    "kinds:\n"
    "  centre: {thresholds_min: [5, 10, 15]}\n"
    "  meal: {thresholds_min: [5, 10, 15], load_capacity: meals, load_band: 65+,\n"
    "         load_rate: 0.05, access_decay: steps}\n"
    "  home: {thresholds_min: [10, 20], load_capacity: beds, load_band: 80+,\n"
    "         access_decay: gaussian}\n";

/* Cut the study at path into dir, loaded whole or left to read its grid, cost matrix or
 * network as it cuts (holding a quarter of a megabyte of the network's lines, so that it
 * reads them again for many windows); loaded whole, its residents are checked against
 * the grid's total (when not 0). */
static void cut_with_library(const char *path, const char *dir, int parts, bool stream,
                             double total)
{
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *study = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfg, path), CS_OK);
    if (stream) {
        cs_config_stream_inputs(cfg);
        cfg->shard_network_mb = 0.25; /* a network is read again for many windows */
    }
    assert_int_equal(cs_study_load(ctx, cfg, &study), CS_OK);
    /* left to stream: no grid point, or no pair of the matrix, is held */
    if (stream)
        assert_true((study->dem.count == 0 && study->dem.stream) ||
                    (study->costs.deferred && !study->costs.pt));
    else
        assert_true(study->dem.count > 0 && !study->costs.deferred);
    if (!stream && total > 0) { /* every cell's residents are in the areas or left out */
        double in = 0;
        for (size_t i = 0; i < study->dem.count; i++)
            in += study->dem.pop[i * study->settings.band_count];
        if (!(fabs(in + study->dem.dropped_pop - total) <= 1e-9 * total))
            fail_msg("%.9g residents in the areas and %.9g left out, of %.9g in the grid", in,
                     study->dem.dropped_pop, total);
    }
    assert_int_equal(cs_shard_write(ctx, cfg, study, (size_t)parts, NULL, dir), CS_OK);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
}

/* Text without the line or key naming the cut (its id is new each time). */
static char *without_cut_id(char *text)
{
    for (char *at = text; at && (at = strstr(at, "shard.cut\"")) != NULL;)
        memset(at, '-', strcspn(at, "\n"));
    for (char *at = text; at && (at = strstr(at, "\"cut\": \"")) != NULL;)
        memset(at, '-', strcspn(at, ","));
    return text;
}

/* Two cuts into `parts` shards hold the same files, byte for byte but for the cut's id. */
static void same_cuts(const char *a, const char *b, int parts)
{
    static const char *const files[] = {"study.yaml", "areas.geojson", "facilities.csv",
                                        "population.csv", "network.geojson", "costs.csv"};
    for (int p = 0; p <= parts; p++)
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            char name[64];
            if (p == 0 && f > 0)
                break;
            if (p == 0)
                snprintf(name, sizeof name, "shards.json");
            else
                snprintf(name, sizeof name, "%04d/%s", p, files[f]);
            char *pa = tu_join(a, name), *pb = tu_join(b, name);
            size_t na = 0, nb = 0;
            char *ta = without_cut_id(tu_read(pa, &na)), *tb = without_cut_id(tu_read(pb, &nb));
            bool optional = !strcmp(files[f], "costs.csv") || !strcmp(files[f], "network.geojson");
            if ((ta || tb || !optional) &&
                (!ta || !tb || na != nb || memcmp(ta, tb, na) != 0))
                fail_msg("%s differs between the cut reading as it cuts and the cut of the "
                         "whole study", name);
            free(ta);
            free(tb);
            free(pa);
            free(pb);
        }
}

/* The study in dir cut into `parts` shards loaded whole (its residents checked against
 * total, when not 0) and reading its grid by strips: the same files. */
static void cut_both_ways(const char *dir, int parts, double total)
{
    char *path = tu_join(dir, "study.yaml");
    char *whole = tu_join(dir, "whole"), *strips = tu_join(dir, "strips");
    cut_with_library(path, whole, parts, false, total);
    cut_with_library(path, strips, parts, true, 0);
    same_cuts(whole, strips, parts);
    free(whole);
    free(strips);
    free(path);
}

/* A population grid over Shanghai's 229 townships (a 0.0018-degree grid of 583 x 611
 * cells, some 320,000 populated, within the townships' box so that every cell is read:
 * two strips): the cut that reads it a strip at a time writes the whole cut's 7 shards,
 * byte for byte. Loaded whole, its residents in the areas and those left out add up to
 * the grid's. (A grid study's shards merge to its single run in grid_cut_without_memory,
 * on a smaller grid: this one's runs take minutes under the sanitizers.) */
static void grid_cut_as_it_is_read(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_join(work, "grid");
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    char *tif = tu_join(dir, "population.tif");
    /* (its overlay with the townships once failed on a cell GEOS's box clip had cut) */
    double total = write_grid(tif, 120.9, 31.82, 0.0018, 583, 611);
    free(tif);
    char study[2048];
    snprintf(study, sizeof study,
             "areas: {path: %s/shanghai-townships.geojson, id: name, name: name_en}\n"
             "facilities: {path: ../facilities.csv, x: lon, y: lat}\n"
             "outside_tolerance_m: 200\nfar_outside_km: 40\n"
             "population: {path: population.tif, bands: {65+: {share: 0.2}, 80+: {share: "
             "0.05}}}\n%s",
             shared, grid_kinds);
    free(tu_write(dir, "study.yaml", study));
    cut_both_ways(dir, 7, total);
    free(dir);
}

/* Kinds measured along the network, two with a load capacity (their context is the
 * residents on the edges their facilities' searches list). */
static const char network_kinds[] =
    "measure: network\n"
    "capacities: {meals: {field: meals}, beds: {field: beds}}\n"
    "kinds:\n"
    "  centre: {thresholds_min: [5, 10, 15]}\n"
    "  meal: {thresholds_min: [5, 10, 15], load_capacity: meals, load_band: 65+,\n"
    "         load_rate: 0.05, access_decay: steps}\n"
    "  home: {thresholds_min: [10, 20], load_capacity: beds, load_band: 80+,\n"
    "         access_decay: gaussian, measure: both}\n";

/* A copy of text, from its start up to `cut` (which it holds), then `add`. */
static char *spliced(const char *text, const char *cut, const char *add)
{
    const char *at = strstr(text, cut);
    assert_non_null(at);
    size_t n = (size_t)(at - text);
    char *out = malloc(n + strlen(add) + 1);
    memcpy(out, text, n);
    strcpy(out + n, add);
    return out;
}

/* The same along the network (grid_cut_as_it_is_read's, coarser: 0.0036 degrees), with
 * the streets around the towns and a footway of 110 km across the city without a
 * shared vertex: the cut reading the grid by strips, which finds where each resident
 * attaches a tile at a time, writes the whole cut's 7 shards, byte for byte, network
 * files included. A meal service in the footway's middle lists its one long edge, and
 * the residents along it, in other shards and far beyond its reach, weigh on it. The
 * same with `network.node_crossings`, where each window is the whole network. */
static void grid_cut_along_the_network(void **state)
{
    (void)state;
    if (!shared)
        skip();
    char *dir = tu_join(work, "grid-network");
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    char *tif = tu_join(dir, "population.tif");
    (void)write_grid(tif, 120.9, 31.82, 0.0036, 292, 306);
    free(tif);
    char *path = tu_join(work, "network.geojson"), *text = tu_read(path, NULL);
    char *net = spliced(text, "\n]}", ",\n{\"type\":\"Feature\",\"properties\":{\"highway\":"
                        "\"footway\",\"speed\":1},\"geometry\":{\"type\":\"LineString\","
                        "\"coordinates\":[[121.0,30.9],[121.8,31.7]]}}\n]}\n");
    free(tu_write(dir, "network.geojson", net));
    free(net);
    free(text);
    free(path);
    path = tu_join(work, "facilities.csv");
    text = tu_read(path, NULL);
    char *fac = spliced(text, "far,", "far,远处,centre,121.95,30.75,0,0\n"
                                       "footway,步道,meal,121.4,31.30003,90,0\n");
    free(tu_write(dir, "facilities.csv", fac));
    free(fac);
    free(text);
    free(path);
    /* then with crossings noded, where every tile's window is the whole network */
    for (int crossings = 0; crossings < 2; crossings++) {
        char study[2048];
        snprintf(study, sizeof study,
                 "areas: {path: %s/shanghai-townships.geojson, id: name, name: name_en}\n"
                 "facilities: {path: facilities.csv, x: lon, y: lat}\n"
                 "outside_tolerance_m: 200\nfar_outside_km: 40\n"
                 "network: {path: network.geojson, speed: speed, node_crossings: %s}\n"
                 "population: {path: population.tif, bands: {65+: {share: 0.2}, 80+: "
                 "{share: 0.05}}}\n%s",
                 shared, crossings ? "true" : "false", network_kinds);
        free(tu_write(dir, "study.yaml", study));
        cut_both_ways(dir, 7, 0);
    }
    free(dir);
}

/* Cut s into 3 shards refusing every step-th allocation in turn: each refusal fails
 * cleanly (CS_ERR_NOMEM), and more than 10 are met. */
static void cut_refusing_memory(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                const char *shards, long step, const char *what)
{
    long n = 0, refused = 0;
    for (;; n += step) {
        tu_alloc_refuse_one(n);
        cs_status st = cs_shard_write(ctx, cfg, s, 3, NULL, shards);
        long made = tu_alloc_made();
        tu_alloc_restore();
        cs_context_clear_messages(ctx);
        if (st != CS_OK && st != CS_ERR_NOMEM)
            fail_msg("%s, allocation %ld refused: status %d, not CS_ERR_NOMEM", what, n, (int)st);
        refused += st == CS_ERR_NOMEM;
        if (made <= n)
            break;
    }
    assert_true(refused > 10);
    print_message("allocation failure: %ld points of the %s checked\n", n / step, what);
}

/* A footway across the four squares of grid_memory_case (or not: a street first) and
 * `grids` grids of streets `step` degrees apart, the first in the middle, the others
 * along the diagonal. */
static void small_network(const char *dir, int grids, double step, bool footway)
{
    char *path = tu_join(dir, "network.geojson");
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n"
               "{\"type\":\"Feature\",\"properties\":{\"highway\":\"%s\",\"speed\":1},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.39,31.09],"
               "[%s]]}}",
            footway ? "footway" : "service", footway ? "121.45,31.15" : "121.3901,31.09");
    uint64_t rng = 5;
    int feature = 0;
    for (int g = 0; g < grids; g++)
        street_grid(f, &rng, 121.42 + 0.012 * (g % 2 ? -(g + 1) / 2 : g / 2),
                    31.12 + 0.012 * (g % 2 ? -(g + 1) / 2 : g / 2), 11, step, &feature);
    fprintf(f, "\n]}\n");
    fclose(f);
    free(path);
}

/* The cut reading a grid by strips fails cleanly wherever memory runs out, and the
 * shards the command cuts (by strips) merge to the single run: in a straight line, or
 * along a grid of streets over the four squares. */
static void grid_memory_case(const char *name, bool network)
{
    char *dir = tu_join(work, name);
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    const double x[4] = {121.40, 121.42, 121.40, 121.42}, y[4] = {31.10, 31.10, 31.12, 31.12};
    square_areas(dir, x, y, 0.02);
    char *tif = tu_join(dir, "population.tif");
    (void)write_grid(tif, 121.399, 31.141, 0.001, 42, 42);
    free(tif);
    free(tu_write(dir, "facilities.csv", "id,kind,lon,lat,meals,beds\nf1,meal,121.405,31.105,40,0\n"
                                         "f2,meal,121.425,31.125,60,0\nf3,centre,121.41,31.13,0,0\n"
                                         "f4,home,121.43,31.11,0,80\n"));
    if (network)
        small_network(dir, 1, 0.004, true);
    char study[2048];
    snprintf(study, sizeof study,
             "areas: {path: areas.geojson, id: code}\n"
             "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
             "population: {path: population.tif, bands: {65+: {share: 0.2}, 80+: {share: "
             "0.05}}}\n%s%s",
             network ? "network: {path: network.geojson, speed: speed, crs: EPSG:4326}\n" : "",
             network ? network_kinds : grid_kinds);
    free(tu_write(dir, "study.yaml", study));
    char *path = tu_join(dir, "study.yaml"), *shards = tu_join(dir, "sh");
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *s = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfg, path), CS_OK);
    cs_config_stream_inputs(cfg);
    assert_int_equal(cs_study_load(ctx, cfg, &s), CS_OK);
    assert_non_null(s->dem.stream);
    cut_refusing_memory(ctx, cfg, s, shards, 7, "cut");
    cs_study_destroy(s);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    single_and_merged(dir, 3);
    free(path);
    free(shards);
    free(dir);
}

static void grid_cut_without_memory(void **state)
{
    (void)state;
    grid_memory_case("grid-memory", false);
    grid_memory_case("grid-memory-network", true);
}

/* The study at path loaded (its network file net, when given), streamed (with the
 * network's lines held at most `mb` MB) or whole, and its network ready to cut. */
static cs_study *load_cut_network(cs_context *ctx, const char *path, const char *net,
                                  const char *mb, cs_config **cfg, cs_shard_net *sn)
{
    cs_study *s = NULL;
    assert_int_equal(cs_config_create(ctx, cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, *cfg, path), CS_OK);
    if (net)
        assert_int_equal(cs_config_set(ctx, *cfg, "network.path", net), CS_OK);
    if (mb) {
        cs_config_stream_inputs(*cfg);
        assert_int_equal(cs_config_set(ctx, *cfg, "shard.network_memory_mb", mb), CS_OK);
    }
    assert_int_equal(cs_study_load(ctx, *cfg, &s), CS_OK);
    assert_int_equal(cs_shard_net_begin(ctx, *cfg, s, sn), CS_OK);
    return s;
}

/* A study loaded whole and streamed (load_cut_network), let go. */
static void free_loaded_pair(cs_shard_net *whole, cs_shard_net *read, cs_study *sw,
                             cs_study *sr, cs_config *cw, cs_config *cr)
{
    cs_shard_net_free(whole);
    cs_shard_net_free(read);
    cs_study_destroy(sw);
    cs_study_destroy(sr);
    cs_config_destroy(cw);
    cs_config_destroy(cr);
}

/* Two windows' lines are the same, byte for byte, and so their graphs. */
static void same_windows(const cs_net_window *a, const cs_net_window *b)
{
    const cs_lines *la = &a->lines, *lb = &b->lines;
    assert_int_equal(la->count, lb->count);
    size_t nv = la->start[la->count];
    assert_memory_equal(la->start, lb->start, (la->count + 1) * sizeof *la->start);
    assert_memory_equal(la->x, lb->x, nv * sizeof *la->x);
    assert_memory_equal(la->y, lb->y, nv * sizeof *la->y);
    assert_int_equal(la->speed != NULL, lb->speed != NULL); /* none: no speed field */
    if (la->speed)
        assert_memory_equal(la->speed, lb->speed, la->count * sizeof *la->speed);
    assert_memory_equal(a->line_of, b->line_of, la->count * sizeof *a->line_of);
    assert_int_equal(a->graph.edge_count, b->graph.edge_count);
    assert_memory_equal(a->graph.edge_cost_m, b->graph.edge_cost_m,
                        a->graph.edge_count * sizeof *a->graph.edge_cost_m);
}

/* Four squares, a grid of people, two facilities and three street grids (study.yaml in
 * dir): a study whose network the cut reads by windows. Returns its path. */
static char *windows_study(const char *dir)
{
    assert_int_equal(run(NULL, "mkdir -p %s", dir), 0);
    const double x[4] = {121.40, 121.42, 121.40, 121.42}, y[4] = {31.10, 31.10, 31.12, 31.12};
    square_areas(dir, x, y, 0.02);
    char *tif = tu_join(dir, "population.tif");
    (void)write_grid(tif, 121.399, 31.141, 0.002, 21, 21);
    free(tif);
    free(tu_write(dir, "facilities.csv", "id,kind,lon,lat,meals,beds\nf1,meal,121.405,31.105,40,0\n"
                                         "f2,centre,121.43,31.13,0,0\n"));
    small_network(dir, 3, 0.002, false);
    char study[1024];
    snprintf(study, sizeof study,
             "areas: {path: areas.geojson, id: code}\n"
             "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
             "population: {path: population.tif, bands: {65+: {share: 0.2}, 80+: {share: "
             "0.05}}}\nnetwork: {path: network.geojson, speed: speed}\n%s", network_kinds);
    free(tu_write(dir, "study.yaml", study));
    return tu_join(dir, "study.yaml");
}

/* Tiles of 400 m in rows, as a strip cut walks them, then two shards' boxes: each
 * window read is the whole load's, byte for byte. Returns the windows made. */
static size_t same_windows_throughout(cs_shard_net *whole, cs_shard_net *read)
{
    size_t windows = 0;
    for (double ty = whole->box[1]; ty < whole->box[3]; ty += 400)
        for (double tx = whole->box[0]; tx < whole->box[2]; tx += 400) {
            double q[4] = {tx, ty, tx + 400, ty + 400};
            cs_shard_net_for(whole, windows), cs_shard_net_for(read, windows++);
            assert_int_equal(cs_net_window_cover(whole, q), CS_OK);
            assert_int_equal(cs_net_window_cover(read, q), CS_OK);
            same_windows(&whole->win, &read->win);
        }
    for (int k = 0; k < 2; k++) {
        double q[4] = {whole->box[0], whole->box[1], whole->box[2], whole->box[3]};
        q[k ? 0 : 2] = (whole->box[0] + whole->box[2]) / 2;
        cs_shard_net_for(whole, windows), cs_shard_net_for(read, windows++);
        assert_int_equal(cs_net_window_cover(whole, q), CS_OK);
        assert_int_equal(cs_net_window_cover(read, q), CS_OK);
        same_windows(&whole->win, &read->win);
    }
    return windows;
}

/* What a progress stage was told: how often, the last fraction, and whether rising. */
typedef struct stage_told {
    const char *stage;
    int times;
    double last;
    bool rising;
} stage_told;

static void note_stage(void *user, const char *stage, double fraction)
{
    stage_told *t = user;
    if (strcmp(stage, t->stage) != 0)
        return;
    t->rising &= fraction >= t->last;
    t->last = fraction;
    t->times++;
}

/*
 * A network left to read (careshed shard) with room for a hundred of its vertices:
 * its GeoJSON, which has no spatial index, is copied once to a GeoPackage under $TMPDIR
 * (gone with the study; the copying told as a progress stage from GDAL's own), read by
 * window: each window the cut builds, tile by tile in
 * rows and then over each shard, is the whole load's, byte for byte, its lines read
 * again as they are needed (many times); given a megabyte, the lines are held as the
 * whole load holds them. Memory refused at any allocation of the readings, or of the
 * load, fails cleanly. A network changed since the load, or gone, is an error naming it;
 * one far from the areas is refused as a run refuses it.
 */
static void network_read_by_windows(void **state)
{
    (void)state;
    char *dir = tu_join(work, "network-windows"), *path = windows_study(dir);
    char *tmp = tu_join(dir, "tmp");
    assert_int_equal(run(NULL, "mkdir -p %s", tmp), 0);
    setenv("TMPDIR", tmp, 1);
    cs_context *ctx = NULL;
    cs_config *cw = NULL, *cr = NULL;
    cs_shard_net whole, read;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    stage_told copying = {"copy network", 0, 0, true};
    cs_context_set_progress(ctx, note_stage, &copying);
    cs_study *sw = load_cut_network(ctx, path, NULL, NULL, &cw, &whole);
    assert_true(tu_folder_empty(tmp)); /* held: no copy */
    assert_int_equal(copying.times, 0);
    cs_study *sr = load_cut_network(ctx, path, NULL, "0.002", &cr, &read);
    cs_context_set_progress(ctx, NULL, NULL);
    assert_true(copying.times >= 3 && copying.rising && copying.last == 1); /* GDAL's, then 1 */
    size_t said = cs_context_warning_count(ctx); /* the load's */
    assert_false(tu_has_message(ctx, "no spatial index", NULL));
    const cs_net_copy *copy = &sr->net.known.copy;
    assert_non_null(copy->path);
    assert_int_equal(strncmp(copy->path, tmp, strlen(tmp)), 0);
    assert_int_equal(run(NULL, "test \"$(ogrinfo -so -al %s | grep 'Feature Count')\" = "
                               "\"$(ogrinfo -so -al %s/network.geojson | grep 'Feature Count')\"",
                         copy->path, dir), 0); /* every feature */
    assert_true(sr->net.known.features.indexed);
    assert_false(sw->net.streamed);
    assert_true(sr->net.streamed && sr->net.lines.count == 0);
    { /* lines within the memory given are held as the whole load holds them */
        cs_config *cf = NULL;
        cs_shard_net fit;
        cs_study *sf = load_cut_network(ctx, path, NULL, "1", &cf, &fit);
        const cs_lines *a = &sw->net.lines, *b = &sf->net.lines;
        assert_false(sf->net.streamed);
        assert_int_equal(b->count, a->count);
        assert_memory_equal(b->start, a->start, (a->count + 1) * sizeof *a->start);
        assert_memory_equal(b->x, a->x, a->start[a->count] * sizeof *a->x);
        assert_memory_equal(b->y, a->y, a->start[a->count] * sizeof *a->y);
        assert_memory_equal(b->speed, a->speed, a->count * sizeof *a->speed);
        assert_memory_equal(b->feature, a->feature, a->count * sizeof *a->feature);
        cs_shard_net_free(&fit);
        cs_study_destroy(sf);
        cs_config_destroy(cf);
    }
    assert_int_equal(sr->net.known.count, sw->net.lines.count);
    assert_memory_equal(read.box, whole.box, sizeof read.box);
    assert_int_equal(read.first_line, whole.first_line);
    assert_int_equal(read.first.start[1], whole.first.start[1]);
    assert_memory_equal(read.first.x, whole.first.x, whole.first.start[1] * sizeof(double));
    size_t windows = same_windows_throughout(&whole, &read);
    print_message("%zu windows, the network read again %zu times\n", windows,
                  cs_line_cache_readings(read.lines)->readings);
    assert_true(cs_line_cache_readings(read.lines)->readings >= 5);
    assert_int_equal(cs_line_cache_readings(read.lines)->by_window,
                     cs_line_cache_readings(read.lines)->readings); /* the copy's index */
    assert_int_equal(cs_line_cache_readings(whole.lines)->readings, 0);
    assert_int_equal(cs_context_warning_count(ctx), said); /* the readings said nothing */
    /* memory refused at each allocation in turn, as the lines are read for three windows:
       each refusal fails cleanly, and the windows of the last try are the whole load's */
    long refusals = 0;
    for (long k = 0;; k++) {
        cs_shard_net t;
        tu_alloc_refuse_one(k);
        cs_status st = cs_shard_net_begin(ctx, cr, sr, &t);
        bool begun = st == CS_OK; /* else nothing is left */
        for (int b = 0; st == CS_OK && b < 3; b++) {
            double q[4] = {whole.box[0] + 900 * b, whole.box[1] + 1300 * b,
                           whole.box[0] + 900 * b + 400, whole.box[1] + 1300 * b + 400};
            cs_shard_net_for(&t, (size_t)b);
            cs_shard_net_for(&whole, windows++);
            st = cs_net_window_cover(&t, q);
            if (st == CS_OK && cs_net_window_cover(&whole, q) == CS_OK && tu_alloc_made() <= k)
                same_windows(&whole.win, &t.win);
        }
        long made = tu_alloc_made();
        tu_alloc_restore();
        if (begun)
            cs_shard_net_free(&t);
        assert_true(st == CS_OK || st == CS_ERR_NOMEM);
        refusals += st == CS_ERR_NOMEM;
        if (made <= k)
            break;
    }
    cs_context_clear_messages(ctx);
    print_message("allocation failure: %ld points of the readings checked\n", refusals);
    assert_true(refusals > 100);
    /* and at each allocation of the load, its lines held (1 MB) or only their boxes */
    const char *const budgets[] = {"1", "0.002"};
    for (size_t b = 0; b < 2; b++) {
        cs_config *cl = NULL;
        assert_int_equal(cs_config_create(ctx, &cl), CS_OK);
        assert_int_equal(cs_config_load(ctx, cl, path), CS_OK);
        cs_config_stream_inputs(cl);
        assert_int_equal(cs_config_set(ctx, cl, "shard.network_memory_mb", budgets[b]), CS_OK);
        long failed = 0;
        for (long k = 0;; k += 3) {
            cs_study *sl = NULL;
            tu_alloc_refuse_one(k);
            cs_status st = cs_study_load(ctx, cl, &sl);
            long made = tu_alloc_made();
            tu_alloc_restore();
            cs_context_clear_messages(ctx);
            assert_true(st == CS_OK || st == CS_ERR_NOMEM);
            failed += st == CS_ERR_NOMEM;
            if (st == CS_OK)
                assert_int_equal(sl->net.streamed, b == 1);
            cs_study_destroy(sl);
            if (made <= k)
                break;
        }
        assert_true(failed > 10);
        cs_config_destroy(cl);
    }
    /* the network changed: the streets after its first grid gone */
    char *net = tu_join(dir, "network.geojson"), *text = tu_read(net, NULL);
    char *cut = strstr(text, ",\n{\"type\":\"Feature\",\"properties\":{\"highway\":\"motorway\"");
    assert_non_null(cut);
    strcpy(cut, "\n]}\n");
    free(tu_write(dir, "network.geojson.changed", text));
    free(text);
    assert_int_equal(run(NULL, "mv %s %s.kept && mv %s.changed %s", net, net, net, net), 0);
    double all[4] = {whole.box[0], whole.box[1], whole.box[2], whole.box[3]};
    cs_shard_net_for(&read, windows++);
    assert_int_equal(cs_net_window_cover(&read, all), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "network.geojson", "changed while the study was cut",
                               "the file was written since it was loaded",
                               "cut the study again", NULL));
    /* gone */
    assert_int_equal(run(NULL, "rm %s", net), 0);
    cs_context_clear_messages(ctx);
    cs_shard_net_for(&read, windows++);
    assert_int_equal(cs_net_window_cover(&read, all), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "network.geojson", "the file is gone", NULL));
    assert_int_equal(run(NULL, "mv %s.kept %s", net, net), 0);
    /* a network far from the areas, read by batches, is refused as a run refuses it */
    free(tu_write(dir, "far.geojson", "{\"type\":\"FeatureCollection\",\"features\":[{"
                  "\"type\":\"Feature\",\"properties\":{\"highway\":\"footway\",\"speed\":1},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[100.5,20.25],"
                  "[100.75,20.5]]}}]}\n"));
    cs_config *cfar = NULL;
    cs_study *sfar = NULL;
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_config_create(ctx, &cfar), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfar, path), CS_OK);
    cs_config_stream_inputs(cfar);
    assert_int_equal(cs_config_set(ctx, cfar, "network.path", "far.geojson"), CS_OK);
    assert_int_equal(cs_config_set(ctx, cfar, "shard.network_memory_mb", "0.0001"), CS_OK);
    assert_int_equal(cs_study_load(ctx, cfar, &sfar), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "far.geojson", "misses the study area",
                               "longitude 100.5000 to 100.7500, latitude 20.2500 to 20.5000",
                               NULL));
    cs_config_destroy(cfar);
    free_loaded_pair(&whole, &read, sw, sr, cw, cr);
    assert_true(tu_folder_empty(tmp)); /* every copy gone with its study */
    unsetenv("TMPDIR");
    cs_context_destroy(ctx);
    free(net);
    free(tmp);
    free(path);
    free(dir);
}

/*
 * A network without a spatial index whose copy cannot be made is read again whole, and
 * the cut says why ($TMPDIR cannot hold it; a text field of the copy's FID column's
 * name). A text field "fid", GeoPackage's usual FID column, is copied, and so is a KML,
 * and of a file of two layers (SQLite) its first, which the reader reads, alone. The
 * windows are the whole load's all the same.
 */
static void network_read_whole_uncopied(void **state)
{
    (void)state;
    char *dir = tu_join(work, "network-uncopied"), *path = windows_study(dir);
    assert_int_equal(run(NULL, "cd %s && ogr2ogr -f KML network.kml "
                               "network.geojson && sed 's/\"properties\":{/\"properties\":"
                               "{\"careshed_fid\":\"x\",/' network.geojson > fid.geojson && "
                               "sed 's/\"properties\":{/\"properties\":{\"fid\":\"x\",/' "
                               "network.geojson > text-fid.geojson && mkdir tmp && ogr2ogr -f "
                               "SQLite two.sqlite network.geojson -nln a && ogr2ogr -update "
                               "two.sqlite network.geojson -nln b", dir), 0);
    char *tmp = tu_join(dir, "tmp"), *gone = tu_join(dir, "no-such-folder");
    const struct {
        const char *net, *tmpdir, *why; /* why: NULL when copied, "" when said without */
    } cases[] = {
        {"network.geojson", gone, "could not be copied to one (cannot make a folder in"},
        {"fid.geojson", tmp, "could not be copied to one (Wrong field type for careshed_fid)"},
        {"network.kml", tmp, NULL},
        {"two.sqlite", tmp, NULL},
        {"text-fid.geojson", tmp, NULL},
    };
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        cs_config *cw = NULL, *cr = NULL;
        cs_shard_net whole, read;
        setenv("TMPDIR", cases[c].tmpdir, 1);
        cs_context_clear_messages(ctx);
        cs_study *sw = load_cut_network(ctx, path, cases[c].net, NULL, &cw, &whole);
        cs_study *sr = load_cut_network(ctx, path, cases[c].net, "0.002", &cr, &read);
        const char *why = cases[c].why;
        char hint[128];
        snprintf(hint, sizeof hint, "ogr2ogr -f GPKG network.gpkg %s", cases[c].net);
        if (why)
            assert_true(tu_has_message(ctx, cases[c].net, "0.002 MB", "no spatial index",
                                       "reads it again, whole", hint, *why ? why : NULL, NULL));
        else
            assert_false(tu_has_message(ctx, "no spatial index", NULL));
        if (why && !*why)
            assert_false(tu_has_message(ctx, "could not be copied", NULL));
        assert_int_equal(sr->net.known.copy.path == NULL, why != NULL);
        same_windows_throughout(&whole, &read);
        const cs_network_reading *t = cs_line_cache_readings(read.lines);
        assert_true(t->readings >= 5);
        assert_int_equal(t->by_window, why ? 0 : t->readings);
        free_loaded_pair(&whole, &read, sw, sr, cw, cr);
        assert_true(tu_folder_empty(tmp)); /* no copy left */
    }
    unsetenv("TMPDIR");
    assert_int_equal(run(NULL, "test ! -e %s", gone), 0);
    cs_context_destroy(ctx);
    free(gone);
    free(tmp);
    free(path);
    free(dir);
}

/*
 * An OpenStreetMap network left to read is copied too (its text is UTF-8), its ways of a
 * class only, as the reading keeps them: on the real central Shanghai extract
 * (../shared/data/real), one way's highway= made a waterway= (a way the reading leaves
 * out of an OpenStreetMap file, and would keep in a line layer), every window the cut
 * builds is the whole load's, byte for byte, and every reading is by window.
 */
static void osm_network_copied(void **state)
{
    (void)state;
    if (!shared) {
        print_message("skipped: ../shared/data/real is absent\n");
        skip();
    }
    char *dir = tu_join(work, "network-osm"), *tmp = tu_join(dir, "tmp");
    assert_int_equal(run(NULL, "mkdir -p %s && sed '0,/k=\"highway\" v=\"residential\"/s//"
                               "k=\"waterway\" v=\"river\"/' %s/shanghai-central-drive-osm.osm "
                               "> %s/network.osm && grep -q waterway %s/network.osm",
                         tmp, shared, dir, dir), 0);
    const double x[4] = {121.462, 121.473, 121.462, 121.473};
    const double y[4] = {31.220, 31.220, 31.230, 31.230};
    square_areas(dir, x, y, 0.011);
    char *tif = tu_join(dir, "population.tif");
    (void)write_grid(tif, 121.461, 31.242, 0.001, 24, 23);
    free(tif);
    free(tu_write(dir, "facilities.csv", "id,kind,lon,lat,meals,beds\n"
                                         "f1,meal,121.468,31.226,40,0\n"
                                         "f2,centre,121.479,31.236,0,0\n"));
    char study[1024];
    snprintf(study, sizeof study,
             "areas: {path: areas.geojson, id: code}\n"
             "facilities: {path: facilities.csv, x: lon, y: lat, crs: EPSG:4326}\n"
             "population: {path: population.tif, bands: {65+: {share: 0.2}, 80+: {share: "
             "0.05}}}\nnetwork: {path: network.osm}\n%s", network_kinds);
    free(tu_write(dir, "study.yaml", study));
    char *path = tu_join(dir, "study.yaml");
    setenv("TMPDIR", tmp, 1);
    cs_context *ctx = NULL;
    cs_config *cw = NULL, *cr = NULL;
    cs_shard_net whole, read;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_study *sw = load_cut_network(ctx, path, NULL, NULL, &cw, &whole);
    cs_study *sr = load_cut_network(ctx, path, NULL, "0.002", &cr, &read);
    assert_false(tu_has_message(ctx, "no spatial index", NULL));
    assert_non_null(sr->net.known.copy.path);
    assert_true(sw->net.left_out_class > 0); /* the waterway among them */
    assert_int_equal(sr->net.known.count, sw->net.lines.count);
    size_t windows = same_windows_throughout(&whole, &read);
    const cs_network_reading *t = cs_line_cache_readings(read.lines);
    print_message("%zu windows, %zu readings by window\n", windows, t->by_window);
    assert_true(t->readings >= 5);
    assert_int_equal(t->by_window, t->readings);
    free_loaded_pair(&whole, &read, sw, sr, cw, cr);
    assert_true(tu_folder_empty(tmp));
    unsetenv("TMPDIR");
    cs_context_destroy(ctx);
    free(path);
    free(tmp);
    free(dir);
}

/*
 * A Shapefile or a CSV network left to read is copied too, its text as the reader gets it
 * from the file, and the copy read with the study's encoding: the streets' classes in
 * Chinese (住宅路, 台阶), in GBK, walked by name (network.highway). A Shapefile with a .cpg
 * (GDAL converts its text), one without and network.encoding: GBK (its bytes copied raw
 * and converted by the reader), one without and no encoding (the reader finds GBK and
 * says so, once: the readings read the text in the encoding it chose, without scanning
 * it again), a CSV of WKT lines with network.encoding: GBK, and a KML in GBK that says
 * so or with network.encoding: GBK (converted to UTF-8 before GDAL reads it, and so
 * copied, the copy then read as UTF-8). Classes in German (Straße, Gäßle: UTF-8 of
 * two-byte characters, as GBK can look by accident) are not scanned for in a GeoJSON,
 * whose text is UTF-8 by definition, and once at each load of a CSV, whose text has no
 * defined encoding (found UTF-8, and read so again). Each is copied, every reading is by
 * window, and every window the cut builds is the whole load's, byte for byte; a copy
 * whose text came out otherwise would lose the streets of those classes, and be refused
 * (then read whole, not by window).
 */
static void network_copied_in_its_encoding(void **state)
{
    (void)state;
    char *dir = tu_join(work, "network-encoding"), *path = windows_study(dir);
    char *tmp = tu_join(dir, "tmp");
    assert_int_equal(run(NULL, "cd %s && mkdir tmp && sed 's/\"residential\"/\"住宅路\"/; "
                               "s/\"steps\"/\"台阶\"/' network.geojson > zh.geojson && "
                               "ogr2ogr -f 'ESRI Shapefile' -lco ENCODING=GBK cpg.shp zh.geojson "
                               "&& for f in shp shx dbf prj; do cp cpg.$f raw.$f; done && "
                               "ogr2ogr -f CSV -lco GEOMETRY=AS_WKT zh.csv zh.geojson && "
                               "iconv -f UTF-8 -t GBK zh.csv > gbk.csv && grep -q 住宅路 zh.csv && "
                               "ogr2ogr -f KML zh.kml zh.geojson && iconv -f UTF-8 -t GBK zh.kml "
                               "| sed '1s/encoding=\"[Uu][Tt][Ff]-8\"/encoding=\"GBK\"/' > gbk.kml "
                               "&& head -1 gbk.kml | grep -q GBK && iconv -f UTF-8 -t GBK zh.kml "
                               "> raw.kml && sed 's/住宅路/Straße/; s/台阶/Gäßle/' zh.geojson > "
                               "de.geojson && ogr2ogr -f CSV -lco GEOMETRY=AS_WKT de.csv de.geojson",
                         dir), 0);
    const char *const zh = "住宅路, 台阶", *const de = "Straße, Gäßle";
    const struct {
        const char *net, *classes, *more, *said; /* more: the network's settings; said: a
                                                     warning */
        const char *found; /* the encoding the load's scan found ("": no scan) */
        size_t scans;      /* by the two loads (the copy's reading makes none) */
    } cases[] = {
        {"cpg.shp", zh, "", NULL, "", 0},
        {"raw.shp", zh, ", encoding: GBK", NULL, "", 0},
        {"raw.shp", zh, "", "network text is not UTF-8: read as GB18030 (GBK)", "GB18030", 2},
        {"gbk.csv", zh, ", encoding: GBK, crs: EPSG:4326", NULL, "", 0},
        {"gbk.kml", zh, "", NULL, "", 0},
        {"raw.kml", zh, ", encoding: GBK", NULL, "", 0},
        {"de.geojson", de, "", NULL, "", 0},
        {"de.csv", de, ", crs: EPSG:4326", NULL, "UTF-8", 2},
    };
    char *text = tu_read(path, NULL), *line = strstr(text, "network: {");
    assert_non_null(line);
    *line = 0;
    setenv("TMPDIR", tmp, 1);
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char study[4096];
        snprintf(study, sizeof study, "%snetwork: {path: %s, speed: speed, highway: [%s, "
                 "service]%s}\n%s", text, cases[c].net, cases[c].classes, cases[c].more,
                 network_kinds);
        free(tu_write(dir, "c.yaml", study));
        char *yaml = tu_join(dir, "c.yaml");
        cs_config *cw = NULL, *cr = NULL;
        cs_shard_net whole, read;
        cs_context_clear_messages(ctx);
        size_t before = cs_layer_scans();
        cs_study *sw = load_cut_network(ctx, yaml, NULL, NULL, &cw, &whole);
        cs_study *sr = load_cut_network(ctx, yaml, NULL, "0.002", &cr, &read);
        assert_int_equal(cs_layer_scans() - before, cases[c].scans);
        assert_int_equal(sw->net.left_out_class, 3); /* the three motorways only */
        assert_false(tu_has_message(ctx, "no spatial index", NULL));
        assert_int_equal(tu_has_message(ctx, cases[c].net, cases[c].said, NULL),
                         cases[c].said != NULL);
        assert_non_null(sr->net.known.copy.path);
        assert_int_equal(sr->net.known.copy.utf8, strstr(cases[c].net, ".kml") != NULL);
        assert_string_equal(sr->net.known.encoding_found, cases[c].found);
        size_t said = cs_context_warning_count(ctx), scans = cs_layer_scans();
        same_windows_throughout(&whole, &read);
        assert_int_equal(cs_layer_scans(), scans); /* none again */
        const cs_network_reading *t = cs_line_cache_readings(read.lines);
        assert_true(t->readings >= 5);
        assert_int_equal(t->by_window, t->readings);
        assert_int_equal(cs_context_warning_count(ctx), said); /* the readings said nothing */
        free_loaded_pair(&whole, &read, sw, sr, cw, cr);
        assert_true(tu_folder_empty(tmp));
        free(yaml);
    }
    unsetenv("TMPDIR");
    cs_context_destroy(ctx);
    free(text);
    free(tmp);
    free(path);
    free(dir);
}

/* A window over the whole network is refused, its message saying `said`, once
 * network.gpkg is replaced by a copy changed by the shell command `change` (run in dir on
 * the copy, x.gpkg); the package is put back after. The window is a new cut's, begun
 * before the change, which holds only its first line (lines held are not read again). */
static void changed_file_refused(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                 const char *dir, const char *change, const char *said)
{
    cs_shard_net t;
    assert_int_equal(cs_shard_net_begin(ctx, cfg, s, &t), CS_OK); /* reads the network */
    assert_int_equal(run(NULL, "cd %s && cp network.gpkg x.gpkg && %s && mv network.gpkg "
                               "kept.gpkg && mv x.gpkg network.gpkg", dir, change), 0);
    double all[4] = {t.box[0], t.box[1], t.box[2], t.box[3]};
    cs_context_clear_messages(ctx);
    cs_shard_net_for(&t, 0);
    assert_int_equal(cs_net_window_cover(&t, all), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "network.gpkg", "changed while the study was cut", said,
                               "cut the study again", NULL));
    cs_shard_net_free(&t);
    assert_int_equal(run(NULL, "cd %s && mv kept.gpkg network.gpkg", dir), 0);
}

/*
 * A GeoPackage or FlatGeobuf network, left to read, is read again by window through its
 * spatial index: each window the cut builds is the whole load's, byte for byte, every
 * reading was by window, and together they read under half the features whole readings
 * would. So with FIDs that do not follow one another (features deleted from the
 * package). A package changed since the load (a feature gone, one added in a window, one
 * with other lines, or only written again) is an error naming it; memory refused at any
 * allocation of the load or the readings fails cleanly.
 */
static void network_read_by_index(void **state)
{
    (void)state;
    char *dir = tu_join(work, "network-index"), *path = windows_study(dir);
    assert_int_equal(run(NULL, "cd %s && ogr2ogr -f GPKG network.gpkg network.geojson && "
                               "ogr2ogr -f FlatGeobuf network.fgb network.geojson && "
                               "cp network.gpkg sparse.gpkg && ogrinfo -q sparse.gpkg -sql "
                               "'DELETE FROM network WHERE fid %% 3 = 2' >/dev/null", dir), 0);
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    const char *const nets[] = {"network.gpkg", "network.fgb", "sparse.gpkg"};
    for (size_t f = 0; f < 3; f++) {
        cs_config *cw = NULL, *cr = NULL;
        cs_shard_net whole, read;
        cs_study *sw = load_cut_network(ctx, path, nets[f], NULL, &cw, &whole);
        cs_study *sr = load_cut_network(ctx, path, nets[f], "0.002", &cr, &read);
        const cs_net_features *nf = &sr->net.known.features;
        assert_true(sr->net.streamed && nf->indexed);
        assert_false(tu_has_message(ctx, "no spatial index", NULL)); /* read by window */
        assert_int_equal(nf->fid != NULL, f == 2); /* FIDs 1, 2, 4, 5, 7...: a list */
        size_t said = cs_context_warning_count(ctx);
        size_t windows = same_windows_throughout(&whole, &read);
        const cs_network_reading *t = cs_line_cache_readings(read.lines);
        print_message("%s: %zu windows, %zu readings by window of %zu features in all "
                      "(%zu in the file)\n", nets[f], windows, t->by_window, t->features,
                      nf->count);
        assert_true(t->readings >= 5);
        assert_int_equal(t->by_window, t->readings);
        assert_true(2 * t->features < t->readings * nf->count);
        assert_int_equal(cs_context_warning_count(ctx), said);
        if (f == 0) { /* changed since the load: a feature gone, added, with other lines */
            changed_file_refused(ctx, cr, sr, dir,
                                 "ogrinfo -q x.gpkg -sql 'DELETE FROM network WHERE fid = 9' "
                                 ">/dev/null", "lines now");
            const char *added = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
                                "\"Feature\",\"id\":%d,\"properties\":{\"highway\":\"footway\","
                                "\"speed\":1},\"geometry\":{\"type\":\"MultiLineString\","
                                "\"coordinates\":[[[121.41,31.11],[121.411,31.111]],"
                                "[[121.412,31.11],[121.413,31.111]]]}}]}\n";
            char text[512], cmd[1024];
            snprintf(text, sizeof text, added, 100000);
            free(tu_write(dir, "added.geojson", text));
            snprintf(cmd, sizeof cmd, "ogr2ogr -q -append -preserve_fid x.gpkg added.geojson "
                                      "-nln network 2>/dev/null");
            changed_file_refused(ctx, cr, sr, dir, cmd, "FID 100000 it did not have");
            snprintf(text, sizeof text, added, 9);
            free(tu_write(dir, "added.geojson", text));
            snprintf(cmd, sizeof cmd, "ogrinfo -q x.gpkg -sql 'DELETE FROM network WHERE fid "
                                      "= 9' >/dev/null && ogr2ogr -q -append -preserve_fid "
                                      "x.gpkg added.geojson -nln network 2>/dev/null");
            changed_file_refused(ctx, cr, sr, dir, cmd, "FID 9 has 2 lines now, 1 when");
            /* written again, the same features: seen by the file's size or time */
            changed_file_refused(ctx, cr, sr, dir, "touch -d '2001-01-01' x.gpkg",
                                 "the file was written since it was loaded");
        }
        free_loaded_pair(&whole, &read, sw, sr, cw, cr);
    }
    /* memory refused at each allocation of the package's load and of three windows */
    long refusals = 0;
    for (long k = 0;; k++) {
        cs_config *c = NULL;
        cs_study *sl = NULL;
        cs_shard_net t;
        assert_int_equal(cs_config_create(ctx, &c), CS_OK);
        assert_int_equal(cs_config_load(ctx, c, path), CS_OK);
        assert_int_equal(cs_config_set(ctx, c, "network.path", "sparse.gpkg"), CS_OK);
        cs_config_stream_inputs(c);
        assert_int_equal(cs_config_set(ctx, c, "shard.network_memory_mb", "0.002"), CS_OK);
        tu_alloc_refuse_one(k);
        cs_status st = cs_study_load(ctx, c, &sl);
        bool begun = st == CS_OK && (st = cs_shard_net_begin(ctx, c, sl, &t)) == CS_OK;
        for (int b = 0; begun && st == CS_OK && b < 3; b++) {
            double q[4] = {t.box[0] + 900 * b, t.box[1] + 1300 * b, t.box[0] + 900 * b + 400,
                           t.box[1] + 1300 * b + 400};
            cs_shard_net_for(&t, (size_t)b);
            st = cs_net_window_cover(&t, q);
        }
        long made = tu_alloc_made();
        tu_alloc_restore();
        cs_context_clear_messages(ctx);
        assert_true(st == CS_OK || st == CS_ERR_NOMEM);
        refusals += st == CS_ERR_NOMEM;
        if (begun)
            cs_shard_net_free(&t);
        cs_study_destroy(sl);
        cs_config_destroy(c);
        if (made <= k)
            break;
    }
    print_message("allocation failure: %ld points checked\n", refusals);
    assert_true(refusals > 50);
    cs_context_destroy(ctx);
    free(path);
    free(dir);
}

/* The merge refuses a walking network, facilities, areas or residents that changed since
 * the cut: the cut (reading the network in batches and the grid in strips) and the merge
 * (holding them) agree on their digests, and a vertex moved by a ten-thousandth of a
 * degree after the cut, a facility's meals changed by one, a street's corner moved or the
 * grid's residents doubled, is an error. */
/* The merge of dir/sh after change (a shell command in dir): refused (exit 4, also under
 * -q), saying says and what to do, writing nothing. */
static void merge_refused(const char *dir, const char *change, const char *says)
{
    char *out = NULL;
    assert_int_equal(run(NULL, "cd %s && %s", dir, change), 0);
    assert_int_equal(run(NULL, "cd %s && %s merge sh --out m2 -q", dir, CS_CLI), 4);
    assert_int_equal(run(&out, "cd %s && %s merge sh --out m2", dir, CS_CLI), 4);
    assert_non_null(strstr(out, says));
    assert_non_null(strstr(out, "cut the study again"));
    free(out);
    assert_int_equal(run(NULL, "test ! -e %s/m2", dir), 0);
}

static void merge_refuses_changed_inputs(void **state)
{
    (void)state;
    char *dir = tu_join(work, "network-changed"), *path = windows_study(dir);
    assert_int_equal(run(NULL, "cd %s && %s shard study.yaml --parts 2 --out sh -q --set "
                               "shard.network_memory_mb=0.002 2>/dev/null && "
                               "%s run sh/0001/study.yaml --out sh/0001/out -q && "
                               "%s run sh/0002/study.yaml --out sh/0002/out -q && "
                               "%s merge sh --out m -q", dir, CS_CLI, CS_CLI, CS_CLI, CS_CLI), 0);
    assert_int_equal(run(NULL, "grep -Eq '\"network_digest\": \"[0-9a-f]{16}\"' %s/sh/shards.json",
                         dir), 0);
    merge_refused(dir, "cp network.geojson network.geojson.cut && sed -i "
                       "'s/\\[\\[121.39,31.09\\]/[[121.3901,31.09]/' network.geojson && "
                       "grep -q '121.3901,31.09' network.geojson",
                  "network.geojson: the study's network is not what the shards were cut from: "
                  "it changed since the cut");
    merge_refused(dir, "mv network.geojson.cut network.geojson && sed -i "
                       "'s/^f1,meal,121.405,31.105,40,0$/f1,meal,121.405,31.105,41,0/' "
                       "facilities.csv && grep -q ',41,0$' facilities.csv",
                  "facilities.csv: the study's facilities are not what the shards were cut "
                  "from: they changed since the cut");
    /* the facilities as they were, a corner of street s3 moved 10 m east */
    merge_refused(dir, "sed -i 's/,41,0$/,40,0/' facilities.csv && "
                       "cp areas.geojson areas.geojson.cut && sed -i "
                       "'s/\\[121.44,31.14\\]/[121.4401,31.14]/' areas.geojson && "
                       "grep -q '121.4401,31.14' areas.geojson",
                  "areas.geojson: the study's areas are not what the shards were cut from: "
                  "their outlines, ids or names changed");
    /* the areas as they were, twice the residents in every populated cell */
    merge_refused(dir, "mv areas.geojson.cut areas.geojson && gdal_calc.py -A population.tif "
                       "--outfile=p2.tif --quiet --calc='where(A>0,A*2,A)' --NoDataValue=-1 "
                       "--type=Float32 && mv p2.tif population.tif",
                  "population.tif: the study's residents are not what the shards were cut "
                  "from: the population changed since the cut");
    free(path);
    free(dir);
}

/* Loaded with cs_config_stream_inputs, a cost matrix study holds no pair. */
static cs_study *load_streaming(cs_context *ctx, cs_config **cfg, const char *path)
{
    cs_study *s = NULL;
    assert_int_equal(cs_config_create(ctx, cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, *cfg, path), CS_OK);
    cs_config_stream_inputs(*cfg);
    assert_int_equal(cs_study_load(ctx, *cfg, &s), CS_OK);
    assert_true(s->costs.deferred);
    return s;
}

static cs_status count_pairs(void *user, size_t row, size_t pt, double cost)
{
    (void)row;
    (void)pt;
    (void)cost;
    ++*(size_t *)user;
    return CS_OK;
}

/* The cut reading the cost matrix as it cuts writes the whole cut's shards, byte for
 * byte (costs.csv included), for 2 and 4 shards; it fails cleanly wherever memory runs
 * out; a matrix changed since the study was loaded is an error (naming the row, or the
 * numbers of pairs then and now); and a study holding its pairs cannot be read again. */
static void matrix_cut_as_it_is_read(void **state)
{
    (void)state;
    char *dir = matrix_study("mx-read");
    char *path = tu_join(dir, "study.yaml");
    static const int parts[] = {2, 4};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        char *whole = tu_join(dir, "whole"), *read = tu_join(dir, "read");
        cut_with_library(path, whole, parts[k], false, 0);
        cut_with_library(path, read, parts[k], true, 0);
        same_cuts(whole, read, parts[k]);
        free(whole);
        free(read);
    }
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_study *s = load_streaming(ctx, &cfg, path);
    char *shards = tu_join(dir, "sh-memory");
    cut_refusing_memory(ctx, cfg, s, shards, 5, "matrix cut");
    /* the table read again, as the load left it, then changed: a row names nobody */
    size_t count = 0;
    assert_int_equal(cs_study_each_cost_pair(ctx, cfg, s, count_pairs, &count), CS_OK);
    cs_matrix_report report;
    assert_int_equal(cs_study_cost_matrix(s, &report), CS_ERR_ARGUMENT); /* no pair held */
    char *costs = tu_join(dir, "costs.csv");
    char *text = tu_read(costs, NULL);
    size_t rows = 0;
    for (const char *c = strchr(text, '\n') + 1; *c; c++)
        rows += *c == '\n';
    assert_int_equal(count, rows); /* every row names a point of the study */
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "%sP9999,f3,2.5\n", text);
    free(tu_write(dir, "costs.csv", b.data));
    cs_buf_free(&b);
    assert_int_equal(cs_shard_write(ctx, cfg, s, 3, NULL, shards), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, "costs.csv", "P9999", NULL));
    /* a pair more, of a known point: each row is right, but the shards would not agree */
    cs_buf_init(&b);
    cs_buf_printf(&b, "%sP1,f3,2.5\n", text);
    free(tu_write(dir, "costs.csv", b.data));
    cs_buf_free(&b);
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_shard_write(ctx, cfg, s, 3, NULL, shards), CS_ERR_INPUT);
    char then[64];
    snprintf(then, sizeof then, "%zu pairs inside the study now, %zu when", rows + 1, rows);
    assert_true(tu_has_message(ctx, "costs.csv", "changed while the study was cut", then, NULL));
    free(tu_write(dir, "costs.csv", text));
    cs_study_destroy(s);
    cs_config_destroy(cfg);
    cfg = NULL;
    /* loaded whole, the pairs are held: nothing to read again */
    assert_int_equal(cs_config_create(ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(ctx, cfg, path), CS_OK);
    assert_int_equal(cs_study_load(ctx, cfg, &s), CS_OK);
    assert_int_equal(cs_study_each_cost_pair(ctx, cfg, s, count_pairs, &count), CS_ERR_ARGUMENT);
    cs_study_destroy(s);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    free(text);
    free(costs);
    free(shards);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merged_is_the_single_run),
        cmocka_unit_test(merged_result_is_exact),
        cmocka_unit_test(merged_in_spill_is_the_single_run),
        cmocka_unit_test(missing_and_stale_shards_are_named),
        cmocka_unit_test(changed_studies_are_refused),
        cmocka_unit_test(cut_by_a_field),
        cmocka_unit_test(cuts_careshed_refuses),
        cmocka_unit_test(shard_and_merge_without_memory),
        cmocka_unit_test(merge_memory_stays_with_the_study),
        cmocka_unit_test(more_facilities_than_residents),
        cmocka_unit_test(network_shards_far_from_streets),
        cmocka_unit_test(matrix_shards),
        cmocka_unit_test(matrix_cut_as_it_is_read),
        cmocka_unit_test(shard_without_facilities),
        cmocka_unit_test(grid_cut_as_it_is_read),
        cmocka_unit_test(grid_cut_along_the_network),
        cmocka_unit_test(grid_cut_without_memory),
        cmocka_unit_test(network_read_by_windows),
        cmocka_unit_test(network_read_whole_uncopied),
        cmocka_unit_test(osm_network_copied),
        cmocka_unit_test(network_copied_in_its_encoding),
        cmocka_unit_test(network_read_by_index),
        cmocka_unit_test(merge_refuses_changed_inputs),
    };
    /* CS_TEST_ONLY=grid_* runs the tests it matches only (all of them take minutes) */
    if (getenv("CS_TEST_ONLY"))
        cmocka_set_test_filter(getenv("CS_TEST_ONLY"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
