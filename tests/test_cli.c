/*
 * test_cli.c — the careshed command end to end on the bundled sample: help and exit
 * codes, the five outputs, byte-identical reruns (any thread count), the quick run
 * without a study file, `check`, inputs left untouched, failed runs leaving no output.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

/* the bundled study has a walking network, hence service-network.geojson */
static const char *outputs[] = {"areas.geojson", "service-circles.geojson",
                                "facilities.geojson", "areas.csv", "summary.json",
                                "service-network.geojson", "underserved.geojson",
                                "demand-access.csv", "coverage.csv", "targets.csv",
                                "demand.fgb", "demand.qml"};
#define OUTPUTS (sizeof outputs / sizeof outputs[0])

static int cli(const char *args, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s", CS_CLI, args);
    return tu_run(cmd, output);
}

static void expect_cli(const char *args, int code, const char *needle)
{
    char *out = NULL;
    int got = cli(args, &out);
    if (got != code || (needle && !strstr(out, needle)))
        fprintf(stderr, "careshed %s -> %d:\n%s\n", args, got, out);
    assert_int_equal(got, code);
    if (needle)
        assert_non_null(strstr(out, needle));
    free(out);
}

static void help_version_and_usage_errors(void **state)
{
    (void)state;
    expect_cli("--help", 0, "Exit codes:");
    expect_cli("run --help", 0, "--population FILE");
    expect_cli("run --help", 0, "6  an output cannot be written");
    expect_cli("--version", 0, "careshed " CARESHED_VERSION);
    expect_cli("", 2, "Usage:");
    expect_cli("frobnicate", 2, "careshed: unknown command 'frobnicate'");
    expect_cli("run --bogus", 2, "careshed: unknown option '--bogus'");
    expect_cli("run --out", 2, "careshed: --out needs a value");
    expect_cli("run --set novalue", 2, "needs KEY=VALUE");
    expect_cli("run a.yaml b.yaml", 2, "only one study file");
}

static char *run_sample(const char *extra, int want_code)
{
    char *dir = tu_mkdtemp();
    char args[2048];
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/out' %s", SAMPLE, dir,
             extra ? extra : "");
    char *out = NULL;
    int code = cli(args, &out);
    if (code != want_code)
        fprintf(stderr, "%s\n", out);
    assert_int_equal(code, want_code);
    free(out);
    return dir;
}

static char *read_output(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/out/%s", dir, name);
    return tu_read(path, len);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Sum of the pop column of the sample's population.csv, read independently. */
static double sample_population(void)
{
    char *text = tu_read(SAMPLE "/population.csv", NULL);
    assert_non_null(text);
    char *line = strchr(text, '\n');
    /* find the pop column in the header */
    int col = -1, i = 0;
    for (char *h = text; h < line; i++) {
        char *comma = memchr(h, ',', (size_t)(line - h));
        size_t n = comma ? (size_t)(comma - h) : (size_t)(line - h);
        if (n == 3 && !strncmp(h, "pop", 3))
            col = i;
        h = comma ? comma + 1 : line;
    }
    assert_true(col >= 0);
    double total = 0;
    for (char *p = line + 1; *p;) {
        char *end = strchr(p, '\n');
        char *field = p;
        for (int c = 0; c < col; c++)
            field = strchr(field, ',') + 1;
        total += strtod(field, NULL);
        p = end ? end + 1 : p + strlen(p);
    }
    free(text);
    return total;
}

/* careshed args gives code and its output lacks needle. */
static void expect_cli_without(const char *args, int code, const char *needle)
{
    char *out = NULL;
    int got = cli(args, &out);
    if (got != code || strstr(out, needle))
        fprintf(stderr, "careshed %s -> %d (should lack '%s'):\n%s\n", args, got, needle, out);
    assert_int_equal(got, code);
    assert_null(strstr(out, needle));
    free(out);
}

/* Each subcommand's --help lists the options it takes, and not the others'. */
static void each_command_has_its_own_help(void **state)
{
    (void)state;
    const struct { const char *cmd, *has[4], *lacks[3]; } helps[] = {
        {"run", {"\n  --network FILE", "[network.path]", "\n  --check ", "Outputs in DIR:"},
         {"\n  --lang ", "\n  --suggest ", "\n  --keys "}},
        {"check", {"\n  --keys ", "\n  --areas FILE", "[areas.path]", "-q, --quiet"},
         {"\n  --check ", "\n  --at ", "\n  --pdf "}},
        {"site", {"\n  --at LON,LAT[,KIND[,CAPACITY]]", "\n  --suggest K", "\n  --exact ",
                  "\n  --out DIR"},
         {"\n  --lang ", "\n  --pdf ", "\n  --since "}},
        {"report", {"\n  --lang zh|en", "\n  --pdf ", "\n  --since Y0", "\n  --out FILE"},
         {"\n  --suggest ", "\n  --at ", "\n  --out DIR"}},
    };
    char args[64];
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        snprintf(args, sizeof args, "%s --help", helps[i].cmd);
        for (size_t j = 0; j < 4; j++)
            expect_cli(args, 0, helps[i].has[j]);
        for (size_t j = 0; j < 3; j++)
            expect_cli_without(args, 0, helps[i].lacks[j]);
        expect_cli(args, 0, "7  out of memory or internal error");
        snprintf(args, sizeof args, "%s -h", helps[i].cmd);
        expect_cli(args, 0, "Usage: careshed ");
    }
    /* the overview stays the overview */
    expect_cli_without("--help", 0, "\n  --network FILE");
}

/* An option of another subcommand says whose it is; a misspelt one gets a near miss. */
static void wrong_and_misspelt_options(void **state)
{
    (void)state;
    expect_cli("run --exact", 2, "--exact is not an option of 'run' but of 'site'");
    expect_cli("run --exact", 2, "see 'careshed site --help'");
    expect_cli("report x.yaml --suggest 3", 2,
               "--suggest is not an option of 'report' but of 'site'");
    expect_cli("check x.yaml --pdf", 2, "--pdf is not an option of 'check' but of 'report'");
    expect_cli("run --keys", 2, "--keys is not an option of 'run' but of 'check'");
    expect_cli("site x.yaml --lang=en", 2, "try 'careshed site --help'");
    expect_cli("run --netwrok x.osm", 2,
               "unknown option '--netwrok'; did you mean '--network'?");
    expect_cli("run --popluation=p.csv", 2, "did you mean '--population'?");
    expect_cli("report --sugest 3", 2, "did you mean '--suggest' (an option of 'site')?");
    expect_cli_without("run --bogus", 2, "did you mean");
    expect_cli("run -x", 2, "unknown option '-x'");
    expect_cli("run --quiet=yes", 2, "--quiet takes no value, got '--quiet=yes'");
}

/* --opt=value is --opt value: the same checks and the same effect. */
static void option_equals_value(void **state)
{
    (void)state;
    expect_cli("run --threads=4x", 2, "--threads needs a number from 0 to 1024, got '4x'");
    expect_cli("run --out=", 2, "--out needs a value, got an empty string");
    expect_cli("site x.yaml --within=5km", 2, "--within needs minutes > 0 (or metres: 500m)");
    expect_cli("run '" SAMPLE "/study.yaml' --set=walk_speed_kmh=fast", 3, "walk_speed_kmh");
    /* --measure=straight --network= leaves the network out, as with a space */
    char *eq = tu_mkdtemp(), *sp = tu_mkdtemp();
    char args[2048], path[1024], *out = NULL;
    snprintf(args, sizeof args, "run '%s/study.yaml' --out='%s/out' --measure=straight "
             "--network= --threads=1 -q", SAMPLE, eq);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    snprintf(path, sizeof path, "%s/out/service-network.geojson", eq);
    assert_false(tu_exists(path));
    char *areas = read_output(eq, "areas.csv", NULL);
    assert_non_null(strstr(areas, "centre_15min_a60p_share"));
    assert_null(strstr(areas, "centre_walk_15min_a60p_share"));
    free(areas);
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --threads 1 -q", SAMPLE, sp);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    for (size_t i = 0; i < 5; i++) { /* the outputs without a network */
        size_t la = 0, lb = 0;
        char *ta = read_output(eq, outputs[i], &la), *tb = read_output(sp, outputs[i], &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la);
        free(ta);
        free(tb);
    }
    tu_rmtree(eq);
    tu_rmtree(sp);
    free(eq);
    free(sp);
}

/* README's options table names options, placeholders and study keys as the commands'
 * --help do, and every option of run is in it. */
static void readme_options_agree_with_help(void **state)
{
    (void)state;
    char *readme = tu_read(CS_SOURCE_DIR "/README.md", NULL), *help = NULL, *others = NULL;
    assert_non_null(readme);
    assert_int_equal(cli("run --help", &help), 0);
    /* a row may be another command's (check --keys): their helps after run's */
    char *all = strdup(help);
    const char *commands[] = {"check --help", "site --help", "report --help", "serve --help"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cli(commands[i], &others), 0);
        char *grown = realloc(all, strlen(all) + strlen(others) + 1);
        assert_non_null(grown);
        all = strcat(grown, others);
        free(others);
    }
    char *table = strstr(readme, "| option | study key | meaning |"), *row = table;
    assert_non_null(table);
    size_t rows = 0;
    for (row = strchr(row, '\n') + 1; *row == '|'; row = strchr(row, '\n') + 1) {
        char *cells[3] = {row + 1};
        for (int c = 1; c < 3; c++)
            cells[c] = strchr(cells[c - 1], '|') + 1;
        if (!strncmp(row, "|---", 4))
            continue;
        /* "`-q`, `--quiet`" -> "-q, --quiet" */
        char option[128] = "\n  ", key[128] = "";
        for (char *t = strchr(cells[0], '`'); t && t < cells[1]; t = strchr(t, '`')) {
            char *end = strchr(t + 1, '`');
            if (option[3])
                strcat(option, ", ");
            strncat(option, t + 1, (size_t)(end - t - 1));
            t = end + 1;
        }
        char *k = strchr(cells[1], '`');
        if (k && k < cells[2])
            snprintf(key, sizeof key, "[%.*s]", (int)(strchr(k + 1, '`') - k - 1), k + 1);
        char *at = strstr(all, option);
        if (!at)
            fprintf(stderr, "README's %s is in no command's --help\n", option + 3);
        assert_non_null(at);
        char *next = strstr(at + 1, "\n  -"), *found = key[0] ? strstr(at, key) : NULL;
        if (key[0] && (!found || (next && found > next)))
            fprintf(stderr, "--help gives %s no %s\n", option + 3, key);
        assert_true(!key[0] || (found && (!next || found < next)));
        rows++;
    }
    assert_true(rows >= 16);
    *row = '\0'; /* the table ends here */
    /* and the other way: run's options are all in README, except --help */
    for (char *o = strstr(help, "\n  -"); o; o = strstr(o + 1, "\n  -")) {
        char name[64];
        sscanf(o + 3, "%63[^ \n]", name);
        if (!strcmp(name, "-h,"))
            continue;
        char want[80];
        snprintf(want, sizeof want, "`%s", !strcmp(name, "-q,") ? "--quiet" : name);
        if (!strstr(table, want))
            fprintf(stderr, "run's %s is not in README's options table\n", name);
        assert_non_null(strstr(table, want));
    }
    free(all);
    free(help);
    free(readme);
}

static void sample_run_writes_every_output(void **state)
{
    (void)state;
    char *dir = run_sample(NULL, 0);
    for (size_t i = 0; i < OUTPUTS; i++) {
        size_t len = 0;
        char *text = read_output(dir, outputs[i], &len);
        assert_non_null(text);
        assert_true(len > 100);
        free(text);
    }
    char *areas = read_output(dir, "areas.geojson", NULL);
    assert_int_equal(count(areas, "\"type\":\"Feature\""), 14);
    assert_null(strstr(areas, "\"crs\"")); /* RFC 7946: no crs member */
    assert_non_null(strstr(areas, "江川路街道"));
    free(areas);
    char *csv = read_output(dir, "areas.csv", NULL);
    assert_memory_equal(csv, "\xEF\xBB\xBF" "id,name,", 11);
    assert_int_equal(count(csv, "\r\n"), 16); /* header, 14 areas, the district */
    free(csv);
    char *summary = read_output(dir, "summary.json", NULL);
    assert_non_null(strstr(summary, "\"careshed_version\": \"" CARESHED_VERSION "\""));
    assert_non_null(strstr(summary, "\"sha256\""));
    assert_non_null(strstr(summary, "社区综合为老服务中心"));
    /* the district's residents equal the sum of the population file */
    char want[64];
    snprintf(want, sizeof want, "\"pop_total\": %.0f", sample_population());
    assert_non_null(strstr(summary, want));
    /* the coverage target is measured along the network, as the kind is */
    assert_non_null(strstr(summary, "\"measure\": \"network\""));
    assert_non_null(strstr(summary, "名60岁以上居民步行15分钟内可达社区综合为老服务中心"));
    /* scripts/make-sample finds the network in two pieces by shared vertices */
    assert_non_null(strstr(summary, "\"components\": 2"));
    free(summary);
    char *facilities = read_output(dir, "facilities.geojson", NULL);
    assert_int_equal(count(facilities, "\"type\":\"Feature\""), 79 + 106 + 80 + 63);
    free(facilities);
    /* GDAL (as QGIS does) reads every GeoJSON output as WGS84 with the right counts */
    const struct { const char *name; const char *count; } layers[] = {
        {"areas.geojson", "Feature Count: 14"},
        {"service-circles.geojson", "Feature Count: 24"}, /* 12 straight, 12 network */
        {"facilities.geojson", "Feature Count: 328"},
        {"service-network.geojson", "Feature Count: 12"},
    };
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        char cmd[2048], *info = NULL;
        snprintf(cmd, sizeof cmd, "ogrinfo -ro -so -al '%s/out/%s'", dir, layers[i].name);
        assert_int_equal(tu_run(cmd, &info), 0);
        assert_non_null(strstr(info, layers[i].count));
        assert_non_null(strstr(info, "WGS 84"));
        free(info);
    }
    tu_rmtree(dir);
    free(dir);
}

/* Every coordinate in a GeoJSON file has at most 7 decimals and rings turn the right
 * way (checked on areas.geojson by the shoelace sum of the first ring). */
/* Straight-line figures, against the generator's own brute force. */
static void sample_straight_line_matches_generator(void **state)
{
    (void)state;
    char *dir = run_sample("--set targets.service_circle_15min.measure=straight", 0);
    char *summary = read_output(dir, "summary.json", NULL);
    /* scripts/make-sample computes the same straight-line coverage by brute force in
     * Python and prints it (geodata/README.md): 130,859 residents aged 60+ are beyond
     * 1,000 m of a centre, 47,235 of them in 浦江镇. */
    assert_non_null(strstr(summary, "还需让130,859名60岁以上居民15分钟（直线距离）内可达"
                                    "社区综合为老服务中心，涉及11个街镇"));
    assert_non_null(strstr(summary, "\"gap_text\": \"还需让47,235名60岁以上居民"));
    free(summary);
    tu_rmtree(dir);
    free(dir);
}

/* The under-served patches of centres hold exactly the residents aged 60+ beyond 15
 * minutes of one: straight line, the generator's 130,859. */
static void sample_patches_hold_the_uncovered(void **state)
{
    (void)state;
    char *dir = run_sample("--measure straight --network ''", 0);
    char *patches = read_output(dir, "underserved.geojson", NULL);
    double sum = 0;
    size_t n = 0;
    for (char *line = strtok(patches, "\n"); line; line = strtok(NULL, "\n")) {
        const char *u = strstr(line, "\"uncovered_a60p\":");
        if (!strstr(line, "\"kind\":\"centre\"") || !u)
            continue;
        sum += strtod(u + strlen("\"uncovered_a60p\":"), NULL);
        n++;
    }
    assert_true(n > 0);
    assert_true(fabs(sum - 130859) < 0.5 * (double)n); /* written to 0.1 each */
    free(patches);
    char *info = NULL, cmd[2048];
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so -al '%s/out/underserved.geojson'", dir);
    assert_int_equal(tu_run(cmd, &info), 0);
    assert_non_null(strstr(info, "WGS 84"));
    assert_non_null(strstr(info, "Geometry: Multi Polygon"));
    free(info);
    tu_rmtree(dir);
    free(dir);
}

/* careshed site: a line per proposal and together, proposals.geojson, clear errors. */
static void site_command(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[2048], *out = NULL;
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --at 121.38,31.15,centre --at 121.45,31.05,meal,120", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_non_null(strstr(out, "1 (centre, 古美路街道): centre newly covers"));
    assert_non_null(strstr(out, "2 (meal, "));
    assert_non_null(strstr(out, "all 2 together:"));
    free(out);
    char *geo = read_output(dir, "proposals.geojson", NULL);
    assert_int_equal(count(geo, "\"type\":\"Feature\""), 3);
    assert_non_null(strstr(geo, "\"centre_new_15min_a60p\""));
    free(geo);
    const struct { const char *at; int code; const char *needle; } bad[] = {
        {"10,10,centre", 4, "outside the study area"},
        {"121.38,31.15,school", 4, "unknown kind 'school'"},
        {"121.38,31.15,meal,-5", 4, "capacity -5 is not a number >= 0"},
        {"121.38", 3, "--at needs LON,LAT[,KIND[,CAPACITY]]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
                 "--network '' --at %s", SAMPLE, dir, bad[i].at);
        expect_cli(args, bad[i].code, bad[i].needle);
    }
    /* choosing sites: greedy equals GLPK's optimum here or is within 1 - 1/e of it */
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --suggest 3 --kind centre --exact", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_non_null(strstr(out, "greedy chose 3 sites newly covering"));
    assert_non_null(strstr(out, "(optimal)"));
    assert_non_null(strstr(out, "; exact chose 3 sites newly covering"));
    assert_non_null(strstr(out, "Listed: the exact solution's 3 sites"));
    assert_non_null(strstr(out, "#1 +"));
    free(out);
    geo = read_output(dir, "suggestions.geojson", NULL);
    assert_int_equal(count(geo, "\"type\":\"Feature\""), 4);
    assert_non_null(strstr(geo, "\"marginal_gain\""));
    assert_non_null(strstr(geo, "\"listed\":\"exact\",\"greedy\":{\"sites\":3,"));
    assert_non_null(strstr(geo, "\"exact\":{\"sites\":3,"));
    free(geo);
    /* along the network (some 2,800 candidates, searched on all threads): on one thread
     * the same sites, gains and file, and the sites cover what their lines say */
    char *along[2], *sites[2];
    for (int t = 0; t < 2; t++) {
        snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/net%d' --measure network "
                 "--suggest 5 --kind centre --threads %d -q", SAMPLE, dir, t, t ? 1 : 2);
        assert_int_equal(cli(args, &along[t]), 0);
        char name[64];
        snprintf(name, sizeof name, "net%d/suggestions.geojson", t);
        char *path = tu_join(dir, name);
        sites[t] = tu_read(path, NULL);
        free(path);
        assert_non_null(sites[t]);
        assert_int_equal(count(sites[t], "\"type\":\"Feature\""), 6);
    }
    assert_non_null(strstr(along[0], "greedy chose 5 sites newly covering"));
    assert_string_equal(along[0], along[1]);
    assert_string_equal(sites[0], sites[1]);
    for (int t = 0; t < 2; t++)
        free(along[t]), free(sites[t]);
    /* p-median along the network: the walks before and after, the bound, and on one
     * thread the same answer (the swaps are judged on all threads) */
    for (int t = 0; t < 2; t++) {
        snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/med%d' --measure network "
                 "--suggest 8 --kind centre --model p-median --threads %d -q", SAMPLE, dir, t,
                 t ? 1 : 2);
        assert_int_equal(cli(args, &along[t]), 0);
        char name[64];
        snprintf(name, sizeof name, "med%d/suggestions.geojson", t);
        char *path = tu_join(dir, name);
        sites[t] = tu_read(path, NULL);
        free(path);
        assert_non_null(sites[t]);
    }
    double before, after, bound = NAN;
    const char *walks = "chose 8 sites; mean walk (each counted up to the threshold) ";
    const char *less = strstr(along[0], "no choice of 8 sites walks less than ");
    if (!strstr(along[0], walks) ||
        sscanf(strstr(along[0], walks) + strlen(walks), "%lf m -> %lf m", &before, &after) != 2)
        fail_msg("p-median's answer:\n%s", along[0]);
    if (strstr(along[0], "the heuristic's sites are optimal: no choice of 8 sites walks less"))
        bound = after;
    else if (less)
        sscanf(less + strlen("no choice of 8 sites walks less than "), "%lf", &bound);
    if (!(bound <= after && after < before))
        fail_msg("p-median's answer:\n%s", along[0]);
    assert_non_null(strstr(along[0], "\n#8 -"));
    assert_non_null(strstr(sites[0], "\"model\":\"p-median\""));
    assert_string_equal(along[0], along[1]);
    assert_string_equal(sites[0], sites[1]);
    for (int t = 0; t < 2; t++)
        free(along[t]), free(sites[t]);
    /* p-center on a whole district: no four sites bring everyone within 15 minutes, and
     * it says so; backup coverage counts residents newly within reach of two */
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --suggest 4 --kind centre --model p-center 2>&1", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    if (!strstr(out, "warning: 4 sites cannot bring every resident of the band within the "
                     "threshold; --model cover brings the most of them within it") ||
        !strstr(out, "p-center: 0 sites; the longest walk beyond the threshold -> still "
                     "beyond the threshold"))
        fail_msg("careshed %s:\n%s", args, out);
    free(out);
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --suggest 3 --kind centre --model backup -q", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    if (!strstr(out, "backup: greedy and swaps chose 3 sites newly covering ") ||
        !strstr(out, " residents twice\n"))
        fail_msg("careshed %s:\n%s", args, out);
    free(out);
    /* capacitated covering of day-care places: the demand served before and after, the
     * sites with their places, assignment.csv beside suggestions.geojson; a room that is
     * no number and a kind without a capacity are refused, saying what to give */
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/cap' --measure straight "
             "--network '' --suggest 2 --kind daycare --capacitated --site-capacity 100 -q",
             SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    double served_before, served_after;
    const char *served = strstr(out, " places: ");
    if (!strstr(out, "capacitated covering: the heuristic and ") || !served ||
        sscanf(served + strlen(" places: "), "%lf served within the threshold -> %lf",
               &served_before, &served_after) != 2 || !(served_after > served_before) ||
        !strstr(out, "\n#2 +"))
        fail_msg("careshed %s:\n%s", args, out);
    free(out);
    char *assigned_path = tu_join(dir, "cap/assignment.csv");
    char *assigned = tu_read(assigned_path, NULL);
    free(assigned_path);
    assert_non_null(assigned);
    assert_non_null(strstr(assigned, "demand_places,facility_id,new_site,assigned_places,walk_m"));
    free(assigned);
    expect_cli("site x.yaml --suggest 2 --kind daycare --capacitated --site-capacity 0", 2,
               "--site-capacity");
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/cap' --measure straight "
             "--network '' --suggest 2 --kind centre --capacitated --site-capacity 50",
             SAMPLE, dir);
    expect_cli(args, 3, "kind 'centre' has no capacity to fill");
    /* a candidates file is named as such in its messages, not as proposals */
    const struct { const char *text; const char *needle; } cands[] = {
        {NULL, "candidates file not found"},
        {"foo,bar\n1,2\n", "no field for candidates.x"},
        {"lon,lat\n10,10\n", "candidate position: (10.000000, 10.000000) lies outside"},
    };
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char *path = cands[i].text ? tu_write(dir, "cand.csv", cands[i].text)
                                   : tu_join(dir, "none.csv");
        snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
                 "--network '' --suggest 2 --kind centre --candidates '%s'", SAMPLE, dir, path);
        assert_int_equal(cli(args, &out), 4);
        /* (--proposals-crs names the CRS of both files, so it may be advised) */
        if (!strstr(out, cands[i].needle) || strstr(out, "proposals file") ||
            strstr(out, "proposal position") || strstr(out, "proposals input"))
            fail_msg("careshed %s:\n%s", args, out);
        free(out);
        free(path);
    }
    expect_cli("site x.yaml --suggest 0", 2, "--suggest needs a whole number > 0");
    expect_cli("site x.yaml --within 5km", 2, "--within needs minutes > 0 (or metres: 500m)");
    expect_cli("site x.yaml --suggest 2 --model median", 2,
               "--model needs cover, p-median, p-center or backup, got 'median'");
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --measure straight "
             "--network '' --reach-share 0.9 --kind centre --model p-median", SAMPLE, dir);
    expect_cli(args, 3, "--reach-share asks for set covering; p-median chooses K sites");
    tu_rmtree(dir);
    free(dir);
}

/* --measure and --network are shorthands for the study keys. */
static void measure_and_network_options(void **state)
{
    (void)state;
    char *dir = run_sample("--measure straight --network ''", 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/out/service-network.geojson", dir);
    assert_false(tu_exists(path));
    char *areas = read_output(dir, "areas.csv", NULL);
    assert_non_null(strstr(areas, "centre_15min_a60p_share"));
    assert_null(strstr(areas, "centre_walk_15min_a60p_share"));
    free(areas);
    tu_rmtree(dir);
    free(dir);
    dir = run_sample("--measure network", 0);
    areas = read_output(dir, "areas.csv", NULL);
    assert_null(strstr(areas, "centre_15min_a60p_share"));
    assert_non_null(strstr(areas, "centre_walk_15min_a60p_share"));
    free(areas);
    /* a later run without a network into the same folder replaces the whole set: the
     * network file of the earlier run is gone */
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/out' --measure straight "
             "--network ''", SAMPLE, dir);
    snprintf(path, sizeof path, "%s/out/service-network.geojson", dir);
    assert_true(tu_exists(path));
    char *marker = read_output(dir, ".careshed", NULL);
    assert_non_null(strstr(marker, "\nfile run service-network.geojson\n"));
    free(marker);
    assert_int_equal(cli(args, &out), 0);
    assert_false(tu_exists(path));
    assert_null(strstr(out, "earlier run"));
    assert_null(strstr(out, "kept")); /* nothing but careshed's files in the folder */
    /* the marker lists exactly the new set: every output of a run without a network
     * (the sample has capacities, so demand-access.csv too), sorted */
    marker = read_output(dir, ".careshed", NULL);
    const char *want = "version " CARESHED_VERSION "\n"
                       "file run areas.csv\n"
                       "file run areas.geojson\n"
                       "file run careshed.gpkg\n"
                       "file run coverage.csv\n"
                       "file run demand-access.csv\n"
                       "file run demand.fgb\n"
                       "file run demand.qml\n"
                       "file run facilities.geojson\n"
                       "file run service-circles.geojson\n"
                       "file run summary.json\n"
                       "file run targets.csv\n"
                       "file run underserved.geojson\n";
    assert_non_null(strstr(marker, want));
    assert_string_equal(strstr(marker, want), want);
    free(marker);
    free(out);
    tu_rmtree(dir);
    free(dir);
    expect_cli("run '" SAMPLE "/study.yaml' --measure often", 3,
               "straight, network, matrix, both or a list of them");
}

/* A folder of other files is refused (exit 6, naming them, changing nothing) and taken
 * with --overwrite, which keeps them; site follows the same rules. */
static void foreign_output_folder(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char cmd[2048], args[2048], *before = NULL, *after = NULL, *out = NULL;
    snprintf(cmd, sizeof cmd, "cd '%s' && mkdir o && echo draft > o/thesis.docx && "
             "echo 1 > o/b.csv && echo 2 > o/a.csv && echo 3 > o/c.csv", dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    char ls[1024];
    snprintf(ls, sizeof ls, "cd '%s/o' && ls -la --time-style=full-iso && sha256sum *", dir);
    tu_run(ls, &before);
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/o' --measure straight -q",
             SAMPLE, dir);
    expect_cli(args, 6, "holds 4 files careshed did not write: 'a.csv', 'b.csv', 'c.csv' "
                        "and 1 more");
    expect_cli(args, 6, "/o: this folder is not a careshed output folder");
    expect_cli(args, 6, "or add --overwrite to write into this one");
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/o' --measure straight "
             "--at 121.42,31.11,centre -q", SAMPLE, dir);
    expect_cli(args, 6, "holds 4 files careshed did not write");
    tu_run(ls, &after);
    assert_string_equal(before, after);

    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/o' --measure straight "
             "--overwrite", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_non_null(strstr(out, "kept 4 files that no careshed command wrote"));
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s/o' && cat thesis.docx && LC_ALL=C ls -A | tr '\\n' ' '", dir);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_string_equal(out, "draft\n.careshed a.csv areas.csv areas.geojson b.csv c.csv "
                             "careshed.gpkg coverage.csv demand-access.csv demand.fgb demand.qml "
                             "facilities.geojson "
                             "service-circles.geojson summary.json targets.csv thesis.docx "
                             "underserved.geojson ");
    free(out);
    free(before);
    free(after);
    tu_rmtree(dir);
    free(dir);
}

/* --costs: a hand-made matrix for two residents (ids 1 and 2 of the sample, 23 and 45
 * aged 60+) and the first two centres, one pair beyond 15 minutes, and a candidate. */
static void cost_matrix_option(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "costs.csv", "from,to,cost\n1,C001,3\n2,C001,12\n2,C002,20\n"
                                    "1,N1,2\n"));
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/out' --costs '%s/costs.csv' "
             "--set population.id=id --measure straight,matrix", SAMPLE, dir, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_non_null(strstr(out, "Cost matrix: 4 pairs in minutes, 2 of 328 facilities with "
                                "pairs, 1 candidate sites"));
    free(out);
    char *summary = read_output(dir, "summary.json", NULL);
    assert_non_null(strstr(summary, "\"centre_matrix_5min_a60p_covered\": 23,"));
    assert_non_null(strstr(summary, "\"centre_matrix_15min_a60p_covered\": 68,"));
    free(summary);
    /* a proposal by --at has no id the matrix knows */
    snprintf(args, sizeof args, "site '%s/study.yaml' --out '%s/out' --costs '%s/costs.csv' "
             "--set population.id=id --measure matrix --at 121.40,31.05,centre", SAMPLE, dir,
             dir);
    expect_cli(args, 4, "no row for this id");
    tu_rmtree(dir);
    free(dir);
}

static void geojson_is_rfc7946(void **state)
{
    (void)state;
    char *dir = run_sample(NULL, 0);
    char *areas = read_output(dir, "areas.geojson", NULL);
    const char *p = strstr(areas, "\"coordinates\":[[[[");
    assert_non_null(p);
    p += strlen("\"coordinates\":[[[");
    double area2 = 0, x0 = 0, y0 = 0, px = 0, py = 0;
    int n = 0;
    while (*p == '[') {
        char *end;
        double x = strtod(p + 1, &end);
        const char *dot = strchr(p, '.');
        assert_true(dot && strcspn(dot + 1, ",]") <= 7);
        double y = strtod(end + 1, &end);
        if (n == 0) {
            x0 = x;
            y0 = y;
        } else {
            area2 += px * y - x * py;
        }
        px = x;
        py = y;
        n++;
        p = end + 1; /* past ']' */
        if (*p == ',')
            p++;
    }
    assert_true(n >= 4);
    assert_true(px == x0 && py == y0); /* closed */
    assert_true(area2 > 0);            /* exterior ring counter-clockwise */
    free(areas);
    tu_rmtree(dir);
    free(dir);
}

static void reruns_are_byte_identical(void **state)
{
    (void)state;
    char *a = run_sample("--threads 1", 0);
    char *b = run_sample("--threads 2", 0);
    for (size_t i = 0; i < OUTPUTS; i++) {
        size_t la = 0, lb = 0;
        char *ta = read_output(a, outputs[i], &la), *tb = read_output(b, outputs[i], &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la);
        free(ta);
        free(tb);
    }
    tu_rmtree(a);
    tu_rmtree(b);
    free(a);
    free(b);
}

static void check_flag_fails_on_unmet_targets(void **state)
{
    (void)state;
    /* the sample is made so that some streets fall short */
    char *dir = run_sample("--check -q", 1);
    tu_rmtree(dir);
    free(dir);
}

static void check_command(void **state)
{
    (void)state;
    expect_cli("check '" SAMPLE "/study.yaml'", 0, "check passed");
    /* scripts/make-sample checks its network independently (geodata/README.md): two
     * components by shared vertices, 99.96% of the length in the largest */
    expect_cli("check '" SAMPLE "/study.yaml'", 0,
               "2 connected components, 99.96% of the length in the largest");
    char *dir = tu_mkdtemp();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "walk_sped_kmh: 4\n"
             "areas: {path: %s/streets.geojson, id: code}\n"
             "facilities: {path: missing.csv}\n"
             "population: {path: %s/population.csv, x: lon, y: lat, crs: EPSG:4326, total: people}\n",
             SAMPLE, SAMPLE);
    char *study = tu_write(dir, "bad.yaml", yaml);
    char args[1024];
    snprintf(args, sizeof args, "check '%s'", study);
    char *out = NULL;
    assert_int_equal(cli(args, &out), 3);
    /* every problem, not just the first */
    assert_non_null(strstr(out, "careshed: error: "));
    assert_non_null(strstr(out, "bad.yaml:1"));
    assert_non_null(strstr(out, "walk_sped_kmh"));
    assert_non_null(strstr(out, "missing.csv"));
    assert_non_null(strstr(out, "no field 'people'"));
    free(out);
    /* a study file that cannot be read or is not YAML: that error alone, not also
     * "no layer given" for every layer it would have named */
    const char *unread[] = {"missing.yaml", "notyaml.yaml", ""};
    free(tu_write(dir, "notyaml.yaml", "areas: [\n"));
    for (size_t i = 0; i < sizeof unread / sizeof unread[0]; i++) {
        snprintf(args, sizeof args, "check '%s/%s'", dir, unread[i]);
        assert_int_equal(cli(args, &out), 3);
        assert_non_null(strstr(out, "careshed: error: "));
        if (strstr(out, "no areas layer given"))
            fail_msg("careshed %s:\n%s", args, out);
        assert_non_null(strstr(out, "1 error)"));
        free(out);
    }
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* check --keys lists the study keys; the values expected are those docs/study-file.md
 * gave by hand before the list was printed from the code. */
static void check_lists_keys(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(cli("check --keys 2>/dev/null", &out), 0);
    assert_non_null(strstr(out, "walk_speed_kmh"));
    assert_non_null(strstr(out, "number: (0, 20]; default 4\n"));
    assert_non_null(strstr(out, "kinds.<id>.access_decay"));
    assert_non_null(strstr(out, "one of: none, steps, gaussian, power, exponential; default none\n"));
    assert_non_null(strstr(out, "targets.<id>.scope"));
    assert_non_null(strstr(out, "population.bands.<band>.share"));
    free(out);
    assert_int_equal(cli("check --keys --markdown 2>/dev/null", &out), 0);
    assert_non_null(strstr(out, "\n| `network.snap_m` | number | [0, 100] | 0.5 | "));
    assert_non_null(strstr(out, "\n| `costs.unit` | one of | min, m | min | "));
    assert_non_null(strstr(out, "\n| `targets.<id>.per` | number | > 0 | 1 | "));
    free(out);
    expect_cli("check --markdown", 2, "careshed: --markdown goes with --keys");
    expect_cli("run --keys", 2, "careshed: --keys is not an option of 'run' but of 'check'");
}

static void exit_codes_by_error_class(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char args[8192];
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/o' --set population.path=nope.csv",
             SAMPLE, dir);
    expect_cli(args, 4, "nope.csv");
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/o' --set facilities.crs=EPSG:999999",
             SAMPLE, dir);
    expect_cli(args, 5, "unknown coordinate system");
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/o' --crs EPSG:3857", SAMPLE, dir);
    expect_cli(args, 5, "distorts distances by 17.");
    snprintf(args, sizeof args, "run '%s/study.yaml' --out /proc/careshed-cannot/out -q", SAMPLE);
    expect_cli(args, 6, "careshed: error: ");
    snprintf(args, sizeof args, "run '%s/study.yaml' --set walk_speed_kmh=fast", SAMPLE);
    expect_cli(args, 3, "walk_speed_kmh");
    /* serve's own options are usage errors, said before the study is run (the run's
     * "computing the coverage" never shows, nor a server's address) */
    snprintf(args, sizeof args,
             "serve '%s/study.yaml' --tiles 'https://t.example/{z}/{x}.png' --timings", SAMPLE);
    expect_cli_without(args, 2, "time load");
    expect_cli(args, 2, "--tiles 'https://t.example/{z}/{x}.png': it must hold {z}, {x} and {y}");
    snprintf(args, sizeof args, "serve '%s/study.yaml' --listen somewhere", SAMPLE);
    expect_cli(args, 2, "cannot listen on 'somewhere': not an IPv4 address");
    /* report --out FILE.pdf whose FILE.html would not fit a path */
    char long_out[4400];
    memset(long_out, 'r', 4300);
    strcpy(long_out + 4300, ".pdf");
    snprintf(args, sizeof args, "report '%s/study.yaml' --out %s", SAMPLE, long_out);
    expect_cli(args, 2, ": the path is too long");
    /* none of the failed runs created the output folder's files */
    char *o = tu_join(dir, "o/summary.json");
    assert_false(tu_exists(o));
    free(o);
    tu_rmtree(dir);
    free(dir);
}

static char *checksums(void)
{
    char *out = NULL;
    assert_int_equal(tu_run("cd '" SAMPLE "' && sha256sum * && ls -la --time-style=full-iso", &out), 0);
    return out;
}

static void inputs_untouched_and_failed_run_leaves_nothing(void **state)
{
    (void)state;
    char *before = checksums();
    char *dir = run_sample(NULL, 0);
    char *after = checksums();
    assert_string_equal(before, after);
    /* a run that fails leaves an existing output folder as it was */
    char args[2048];
    snprintf(args, sizeof args,
             "run '%s/study.yaml' --out '%s/out' --set facilities.crs=EPSG:999999 -q", SAMPLE, dir);
    char *listing_before = NULL, *listing_after = NULL;
    char ls[1024];
    snprintf(ls, sizeof ls, "cd '%s/out' && ls -la --time-style=full-iso && sha256sum *", dir);
    tu_run(ls, &listing_before);
    assert_int_equal(cli(args, NULL), 5);
    tu_run(ls, &listing_after);
    assert_string_equal(listing_before, listing_after);
    free(listing_before);
    free(listing_after);
    free(before);
    free(after);
    tu_rmtree(dir);
    free(dir);
}

static void output_never_replaces_an_input(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s/streets.geojson' '%s/areas.geojson'", SAMPLE, dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    char *before = NULL, *after = NULL;
    snprintf(cmd, sizeof cmd, "sha256sum '%s/areas.geojson'", dir);
    tu_run(cmd, &before);
    char args[2048];
    snprintf(args, sizeof args, "run '%s/study.yaml' --set areas.path='%s/areas.geojson' --out '%s'",
             SAMPLE, dir, dir);
    expect_cli(args, 6, "would replace the areas input");
    tu_run(cmd, &after);
    assert_string_equal(before, after);
    free(before);
    free(after);
    tu_rmtree(dir);
    free(dir);
}

static void quick_run_without_study_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char args[2048];
    snprintf(args, sizeof args,
             "run --areas '%s/streets.geojson' --facilities '%s/facilities.csv' "
             "--population '%s/population.csv' --out '%s/quick'",
             SAMPLE, SAMPLE, SAMPLE, dir);
    char *out = NULL;
    int code = cli(args, &out);
    if (code != 0)
        fprintf(stderr, "%s\n", out);
    assert_int_equal(code, 0);
    /* kinds come from the kind field, sorted; CSV layers without CRS read as WGS84 */
    assert_non_null(strstr(out, "care_home"));
    assert_non_null(strstr(out, "read as WGS84"));
    free(out);
    /* same coverage as the study run (same thresholds and speed) */
    char *ref = run_sample(NULL, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/quick/summary.json", dir);
    char *quick = tu_read(path, NULL);
    char *full = read_output(ref, "summary.json", NULL);
    const char *key = "\"centre_15min_a60p_share\": ";
    char *q = strstr(quick, key), *f = strstr(full, key);
    assert_non_null(q);
    assert_non_null(f);
    assert_true(strtod(q + strlen(key), NULL) == strtod(f + strlen(key), NULL));
    free(quick);
    free(full);
    tu_rmtree(ref);
    free(ref);
    tu_rmtree(dir);
    free(dir);
}

/* A kind named in Chinese lines up with one named in Latin letters: each Chinese
 * character takes two terminal columns, so 日间照料 (8 columns) gets 4 spaces of padding
 * to the 12 columns of the kind column, and meal gets 8. */
static void chinese_kind_names_line_up(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "areas.geojson",
                  "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                  "\"properties\":{\"id\":\"A\",\"name\":\"North\"},\"geometry\":{\"type\":"
                  "\"Polygon\",\"coordinates\":[[[121.40,31.01],[121.42,31.01],[121.42,31.03],"
                  "[121.40,31.03],[121.40,31.01]]]}},{\"type\":\"Feature\",\"properties\":"
                  "{\"id\":\"B\",\"name\":\"South\"},\"geometry\":{\"type\":\"Polygon\","
                  "\"coordinates\":[[[121.40,30.99],[121.42,30.99],[121.42,31.01],[121.40,31.01],"
                  "[121.40,30.99]]]}}]}\n"));
    free(tu_write(dir, "facilities.csv", "id,name,kind,lon,lat\nF1,One,日间照料,121.41,31.02\n"
                                         "F2,Two,meal,121.41,31.00\n"));
    free(tu_write(dir, "population.csv", "id,lon,lat,pop,pop60,pop65,pop80\n"
                                         "1,121.405,31.015,100,30,20,5\n"
                                         "2,121.415,31.005,80,20,10,2\n"
                                         "3,121.41,30.995,50,10,5,1\n"));
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "run --areas '%s/areas.geojson' --facilities "
             "'%s/facilities.csv' --population '%s/population.csv' --set "
             "facilities.crs=EPSG:4326 --set population.crs=EPSG:4326 --out '%s/out'",
             dir, dir, dir, dir);
    int code = cli(args, &out);
    if (code != 0)
        fprintf(stderr, "%s\n", out);
    assert_int_equal(code, 0);
    /* the coverage table: "  " + kind + padding to 12 columns + "  %4g min" */
    assert_non_null(strstr(out, "\n  meal" "        " "     5 min"));
    assert_non_null(strstr(out, "\n  日间照料" "    " "     5 min"));
    /* the patches: "  " + kind + padding + " %4zu patch" */
    assert_non_null(strstr(out, "\n  meal" "        " "    1 patch"));
    assert_non_null(strstr(out, "\n  日间照料" "    " "    2 patches"));
    free(out);
    tu_rmtree(dir);
    free(dir);
}

/* --timings names each output's part of the write stage, and the parts fit in it: those
 * written one after another together, demand.fgb (written on a thread of its own
 * beside them) alone. */
static void timings_list_each_output(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[2048], *out = NULL;
    snprintf(args, sizeof args,
             "run '%s/study.yaml' --measure straight --out '%s/out' -q --timings", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    const char *parts[] = {"write layer areas ", "write layer service_circles ",
                           "write layer facilities ", "write careshed.gpkg ",
                           "write areas.csv ", "write summary.json ", "write commit "};
    double sum = 0, write = -1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *p = strstr(out, parts[i]);
        assert_non_null(p);
        sum += strtod(p + strlen(parts[i]), NULL);
    }
    for (const char *p = out; (p = strstr(p, "careshed: time write ")) != NULL; p++)
        if (p[21] == ' ')
            write = strtod(p + 21, NULL);
    assert_true(write > 0 && sum <= write);
    const char *fgb = strstr(out, "write demand.fgb ");
    assert_non_null(fgb);
    assert_true(strtod(fgb + strlen("write demand.fgb "), NULL) <= write);
    free(out);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    if (!tu_exists(SAMPLE "/study.yaml")) {
        fprintf(stderr, "the bundled sample is missing: run scripts/make-sample\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timings_list_each_output),
        cmocka_unit_test(help_version_and_usage_errors),
        cmocka_unit_test(each_command_has_its_own_help),
        cmocka_unit_test(wrong_and_misspelt_options),
        cmocka_unit_test(option_equals_value),
        cmocka_unit_test(readme_options_agree_with_help),
        cmocka_unit_test(sample_run_writes_every_output),
        cmocka_unit_test(sample_straight_line_matches_generator),
        cmocka_unit_test(sample_patches_hold_the_uncovered),
        cmocka_unit_test(site_command),
        cmocka_unit_test(measure_and_network_options),
        cmocka_unit_test(foreign_output_folder),
        cmocka_unit_test(cost_matrix_option),
        cmocka_unit_test(geojson_is_rfc7946),
        cmocka_unit_test(reruns_are_byte_identical),
        cmocka_unit_test(check_flag_fails_on_unmet_targets),
        cmocka_unit_test(check_command),
        cmocka_unit_test(exit_codes_by_error_class),
        cmocka_unit_test(inputs_untouched_and_failed_run_leaves_nothing),
        cmocka_unit_test(output_never_replaces_an_input),
        cmocka_unit_test(quick_run_without_study_file),
        cmocka_unit_test(chinese_kind_names_line_up),
        cmocka_unit_test(check_lists_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
