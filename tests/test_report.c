/*
 * test_report.c — the annual report. Rendered in headless Chromium (Debian's chromium,
 * installed by scripts/test's set-up; the tests that need it skip without it): a
 * screenshot is taken, the page logs nothing to the console, the district map is not
 * blank, and the headline numbers in the rendered page equal summary.json's. The
 * year-by-year figures are checked against separate runs of each year's facilities,
 * the changes against a baseline run; a district without facilities of a kind and one
 * of a single street still render; bad years, languages and baselines get errors.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"

#include <ctype.h>
#include <gdal.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

static bool have_chromium(void)
{
    return access("/usr/bin/chromium", X_OK) == 0;
}

#define NEED_CHROMIUM()                                                                    \
    do {                                                                                   \
        if (!have_chromium()) {                                                            \
            fprintf(stderr, "skipped: Chromium is not installed (scripts/setup-deps --test)\n"); \
            skip();                                                                        \
        }                                                                                  \
    } while (0)

/* Run headless Chromium on file `html` with `args`; its stderr (where the console
 * goes) into *log, stdout into *out (each may be NULL). Returns its exit code. */
static int chromium(const char *html, const char *args, char **out, char **log)
{
    char *dir = tu_mkdtemp(), cmd[16384], *err_path = tu_join(dir, "stderr");
    /* in a subshell: tu_run sends the command's stderr to its output */
    snprintf(cmd, sizeof cmd, "(cd '%s' && HOME='%s' chromium --headless --no-sandbox "
             "--disable-gpu --hide-scrollbars --enable-logging=stderr --v=0 %s 'file://%s' "
             "2>'%s')", dir, dir, args, html, err_path);
    char *discard = NULL;
    int code = tu_run(cmd, out ? out : &discard);
    free(discard);
    if (log)
        *log = tu_read(err_path, NULL);
    free(err_path);
    tu_rmtree(dir);
    free(dir);
    return code;
}

/* Console messages Chromium logged for the page (lines with ":CONSOLE"). */
static bool console_clean(const char *log)
{
    return !log || !strstr(log, ":CONSOLE");
}

static int cli(const char *args, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s", CS_CLI, args);
    return tu_run(cmd, output);
}

/* The number after `key` in text (e.g. after `data-value="`), NaN when absent. */
static double number_after(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= 5e-7 + 1e-9 * fabs(b);
}

/* The screenshot's pixels (RGB) through GDAL's PNG driver: how many differ from the
 * map's background and how many distinct colours there are. */
static void count_pixels(const char *png, long *painted, long *colours, long *total)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(png, GA_ReadOnly);
    assert_non_null(ds);
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    unsigned char *rgb = malloc((size_t)w * h * 3);
    for (int b = 0; b < 3; b++)
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Read, 0, 0, w, h,
                                      rgb + (size_t)b * w * h, w, h, GDT_Byte, 0, 0), CE_None);
    GDALClose(ds);
    static unsigned char seen[1 << 15]; /* 5 bits per channel */
    memset(seen, 0, sizeof seen);
    *painted = *colours = 0;
    *total = (long)w * h;
    for (long i = 0; i < *total; i++) {
        unsigned r = rgb[i], g = rgb[i + (long)w * h], bl = rgb[i + 2L * w * h];
        bool background = (r >= 0xf5 && g >= 0xf5 && bl >= 0xf5);
        *painted += !background;
        unsigned key = (r >> 3) << 10 | (g >> 3) << 5 | (bl >> 3);
        *colours += !seen[key];
        seen[key] = 1;
    }
    free(rgb);
}

/* The district map alone, as a page of its own size, for the blank check. */
static char *map_page(const char *dir, const char *html)
{
    const char *start = strstr(html, "<svg class=\"map district-map\"");
    assert_non_null(start);
    const char *end = strstr(start, "</svg>");
    assert_non_null(end);
    char *page = malloc((size_t)(end - start) + 200);
    sprintf(page, "<!DOCTYPE html><html><body style=\"margin:0\">%.*s</svg></body></html>",
            (int)(end - start), start);
    char *path = tu_write(dir, "map.html", page);
    free(page);
    return path;
}

static void sample_report_renders(void **state)
{
    (void)state;
    NEED_CHROMIUM();
    char *dir = tu_mkdtemp(), args[2048], *out = NULL;
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/run' -q", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    /* a --set that changes nothing, to see it quoted whole in the methods */
    snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/report.html' -q "
             "--set demand_points_csv=auto", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *html_path = tu_join(dir, "report.html"), *html = tu_read(html_path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "--set demand_points_csv=auto"));
    /* self-contained: nothing fetched, no scripts */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "@import"));
    assert_null(strstr(html, "https://"));
    for (const char *p = strstr(html, "http://"); p; p = strstr(p + 1, "http://"))
        assert_int_equal(strncmp(p, "http://www.w3.org/2000/svg\"", 27), 0);
    /* the headline numbers in the rendered page are summary.json's */
    char *dom = NULL, *log = NULL;
    assert_int_equal(chromium(html_path, "--dump-dom", &dom, &log), 0);
    assert_true(console_clean(log));
    free(log);
    char *summary_path = tu_join(dir, "run/summary.json");
    json_object *summary = json_object_from_file(summary_path), *targets;
    assert_non_null(summary);
    assert_true(json_object_object_get_ex(summary, "targets", &targets));
    size_t n = json_object_array_length(targets);
    assert_true(n >= 5);
    for (size_t t = 0; t < n; t++) {
        json_object *tg = json_object_array_get_idx(targets, t), *id, *district, *value, *pass;
        assert_true(json_object_object_get_ex(tg, "id", &id));
        assert_true(json_object_object_get_ex(tg, "district", &district));
        assert_true(json_object_object_get_ex(district, "value", &value));
        assert_true(json_object_object_get_ex(district, "pass", &pass));
        char key[256];
        snprintf(key, sizeof key, "<tr data-target=\"%s\" data-value=\"",
                 json_object_get_string(id));
        double shown = number_after(dom, key);
        if (!same(shown, json_object_get_double(value)))
            fail_msg("target %s: page %.9g, summary.json %.9g", json_object_get_string(id),
                     shown, json_object_get_double(value));
        snprintf(key, sizeof key, "<tr data-target=\"%s\" data-value=\"",
                 json_object_get_string(id));
        const char *row = strstr(dom, key);
        assert_non_null(row);
        assert_non_null(strstr(row, json_object_get_boolean(pass) ? "data-pass=\"1\""
                                                                  : "data-pass=\"0\""));
    }
    json_object_put(summary);
    free(summary_path);
    free(dom);
    /* a screenshot, and the map area is painted with the coverage colours */
    char *shot = tu_join(dir, "shot.png"), shot_arg[4200];
    snprintf(shot_arg, sizeof shot_arg, "--window-size=900,2400 --screenshot='%s'", shot);
    assert_int_equal(chromium(html_path, shot_arg, NULL, NULL), 0);
    assert_true(tu_exists(shot));
    char *map_path = map_page(dir, html);
    snprintf(shot_arg, sizeof shot_arg, "--window-size=680,800 --screenshot='%s'", shot);
    assert_int_equal(chromium(map_path, shot_arg, NULL, NULL), 0);
    long painted, colours, total;
    count_pixels(shot, &painted, &colours, &total);
    assert_true(painted > total / 3);
    assert_true(colours >= 8);
    free(map_path);
    free(shot);
    free(html);
    free(html_path);
    tu_rmtree(dir);
    free(dir);
}

/* The console check can fail: a page with a script error is caught. */
static void console_errors_are_seen(void **state)
{
    (void)state;
    NEED_CHROMIUM();
    char *dir = tu_mkdtemp();
    char *bad = tu_write(dir, "bad.html", "<html><body><script>nosuch();</script></body></html>");
    char *log = NULL;
    chromium(bad, "--dump-dom", NULL, &log);
    assert_false(console_clean(log));
    free(log);
    free(bad);
    tu_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------ year by year */

static const char targets_yaml[] =
    "targets:\n"
    "  cover_a: {type: coverage, kind: a, within_min: 15, band: 65+, at_least: 0.9}\n"
    "  count_a: {type: count, kind: a, at_least: 8}\n"
    "  beds_b: {type: capacity, kind: b, capacity: beds, at_least: 400}\n";

/* Facilities with opened/closed years (0: none), all of them or only those open in
 * `year` (then without the year columns), into dir/name. */
static void write_facilities(const char *dir, const char *name, const fx_data *d,
                             const int *opened, const int *closed, int year)
{
    char *path = tu_join(dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, year ? "id,name,kind,x,y,beds\n" : "id,name,kind,x,y,beds,opened,closed\n");
    for (size_t i = 0; i < d->nfac; i++) {
        bool open = (!opened[i] || opened[i] <= year) && (!closed[i] || closed[i] > year);
        if (year && !open)
            continue;
        fprintf(f, "F%zu,设施%zu,%s,%.2f,%.2f,%.0f", i, i, d->fkind[i] ? "b" : "a", d->fx[i],
                d->fy[i], d->fbeds[i]);
        if (!year) {
            if (opened[i])
                fprintf(f, ",%d", opened[i]);
            else
                fprintf(f, ",");
            if (closed[i])
                fprintf(f, ",%d", closed[i]);
            else
                fprintf(f, ",");
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

/* A context, the study file's settings with set[0 .. n) (key, value) on top, and the
 * study loaded from them: the status of loading. */
static cs_status configure(fx_env *w, const char *study, const char *const (*set)[2],
                           size_t n)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(fx_env_open_file(w, strdup(study)), CS_OK);
    for (size_t i = 0; i < n; i++)
        fx_env_set(w, set[i][0], set[i][1]);
    return fx_env_load(w);
}

static void load(fx_env *w, const char *study, const char *facilities)
{
    const char *const set[1][2] = {{"facilities.path", facilities}};
    cs_status st = configure(w, study, set, facilities ? 1 : 0);
    if (st != CS_OK)
        tu_dump_messages(w->ctx);
    assert_int_equal(st, CS_OK);
}

static void years_against_separate_runs(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 21, 2, 2, 1000, 16, 800);
    int opened[16] = {0}, closed[16] = {0};
    for (size_t i = 0; i < 16; i++) { /* openings and closings spread over 2019-2024 */
        opened[i] = i % 3 == 0 ? 0 : 2018 + (int)(i % 6);
        closed[i] = i % 5 == 4 ? 2022 + (int)(i % 2) : 0;
    }
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml);
    write_facilities(dir, "facilities.csv", &d, opened, closed, 0);
    fx_env all;
    load(&all, study, NULL);
    int first, last;
    assert_true(cs_study_years(all.study, &first, &last));
    assert_int_equal(first, 2019);
    assert_int_equal(last, 2023);
    char *html_path = tu_join(dir, "report.html");
    cs_report_options opt = {.lang = "en", .year = 2023, .since = 2019};
    cs_status st = cs_report_write(all.ctx, all.study, &opt, html_path);
    if (st != CS_OK)
        tu_dump_messages(all.ctx);
    assert_int_equal(st, CS_OK);
    char *html = tu_read(html_path, NULL);
    for (int year = 2019; year <= 2023; year++) {
        char name[64];
        snprintf(name, sizeof name, "facilities-%d.csv", year);
        write_facilities(dir, name, &d, opened, closed, year);
        fx_env one;
        load(&one, study, name);
        assert_int_equal(cs_run(one.ctx, one.study, &one.result), CS_OK);
        for (size_t t = 0; t < cs_result_target_count(one.result); t++) {
            cs_target_outcome o;
            assert_int_equal(cs_result_target(one.result, t, CS_DISTRICT, &o), CS_OK);
            char key[256];
            snprintf(key, sizeof key, "data-year=\"%d\" data-target=\"%s\" data-value=\"", year,
                     cs_result_target_id(one.result, t));
            double shown = number_after(html, key);
            if (!(fabs(shown - o.value) <= 1e-12 * fmax(1, fabs(o.value))))
                fail_msg("%d %s: report %.17g, separate run %.17g", year,
                         cs_result_target_id(one.result, t), shown, o.value);
        }
        fx_env_close(&one);
    }
    /* careshed run --year counts the facilities open that year (and says so without) */
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "run '%s' --year 2021 --out '%s/y2021'", study, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_null(strstr(out, "carry years"));
    size_t open2021 = 0;
    for (size_t i = 0; i < 16; i++)
        open2021 += (!opened[i] || opened[i] <= 2021) && (!closed[i] || closed[i] > 2021);
    char want[64];
    snprintf(want, sizeof want, "%zu facilities", open2021);
    assert_non_null(strstr(out, want));
    free(out);
    snprintf(args, sizeof args, "run '%s' --out '%s/all'", study, dir);
    assert_int_equal(cli(args, &out), 0);
    assert_non_null(strstr(out, "carry years (2019 to 2023)"));
    assert_non_null(strstr(out, "16 facilities"));
    free(out);
    /* 2023: F5 and F11 opened, F9 (open from the start) closed */
    const char *changes = strstr(html, "id=\"changes\"");
    assert_non_null(changes);
    const char *closed_at = strstr(changes, "Closed facilities");
    assert_non_null(closed_at);
    assert_true(strstr(changes, "<td>F5</td>") < closed_at);
    assert_true(strstr(changes, "<td>F11</td>") < closed_at);
    assert_non_null(strstr(closed_at, "<td>F9</td>"));
    free(html);
    free(html_path);
    fx_env_close(&all);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* Population rows of d, scaled for a year (every third point's 65+ grows by half, the
 * others' by a tenth each year after 2021), with a year column or not. */
static void write_population(const char *dir, const char *name, const fx_data *d,
                             const int *years, size_t nyears)
{
    char *path = tu_join(dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, nyears > 1 ? "x,y,pop,pop65,year\n" : "x,y,pop,pop65\n");
    for (size_t y = 0; y < nyears; y++)
        for (size_t i = 0; i < d->npop; i++) {
            double grow = 1 + (years[y] - 2021) * (i % 3 == 0 ? 0.5 : 0.1);
            double pop65 = fmin(d->pop[i], round(d->pop65[i] * grow));
            fprintf(f, "%.2f,%.2f,%.0f,%.0f", d->px[i], d->py[i], d->pop[i], pop65);
            if (nyears > 1)
                fprintf(f, ",%d", years[y]);
            fprintf(f, "\n");
        }
    fclose(f);
}

/* Population given for 2021 and 2023: 2021 and 2022 use the first, 2023 and 2024 the
 * second; each year against a run of that population alone. */
static void population_years_against_separate_runs(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 31, 2, 2, 1000, 8, 400);
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml);
    const int years[2] = {2021, 2023};
    write_population(dir, "population.csv", &d, years, 2);
    fx_env all;
    const char *const by_year[][2] = {{"population.year", "year"}};
    assert_int_equal(configure(&all, study, by_year, 1), CS_OK);
    assert_int_equal(cs_study_demand_count(all.study), d.npop); /* the latest year's */
    char *html_path = tu_join(dir, "report.html");
    cs_report_options opt = {.lang = "en", .year = 2024, .since = 2021};
    assert_int_equal(cs_report_write(all.ctx, all.study, &opt, html_path), CS_OK);
    char *html = tu_read(html_path, NULL);
    for (int year = 2021; year <= 2024; year++) {
        int py = year < 2023 ? 2021 : 2023;
        write_population(dir, "one.csv", &d, &py, 1);
        fx_env one;
        const char *const one_year[][2] = {{"population.path", "one.csv"}};
        assert_int_equal(configure(&one, study, one_year, 1), CS_OK);
        assert_int_equal(cs_run(one.ctx, one.study, &one.result), CS_OK);
        for (size_t t = 0; t < cs_result_target_count(one.result); t++) {
            cs_target_outcome o;
            assert_int_equal(cs_result_target(one.result, t, CS_DISTRICT, &o), CS_OK);
            char key[256];
            snprintf(key, sizeof key, "data-year=\"%d\" data-target=\"%s\" data-value=\"",
                     year, cs_result_target_id(one.result, t));
            double shown = number_after(html, key);
            if (!(fabs(shown - o.value) <= 1e-12 * fmax(1, fabs(o.value))))
                fail_msg("%d %s: report %.17g, separate run %.17g", year,
                         cs_result_target_id(one.result, t), shown, o.value);
        }
        fx_env_close(&one);
    }
    /* the population grew: coverage of 65+ differs between 2022 and 2023 */
    assert_true(number_after(html, "data-year=\"2022\" data-target=\"cover_a\" data-value=\"") !=
                number_after(html, "data-year=\"2023\" data-target=\"cover_a\" data-value=\""));
    free(html);
    free(html_path);
    fx_env_close(&all);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* The change column against a baseline: this run's value minus the baseline's. */
static void baseline_changes(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 23, 2, 2, 1000, 10, 500);
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml), args[4096], *out = NULL;
    /* the baseline had F99 (since closed) and not yet F3 (since opened) */
    char *before_csv = tu_join(dir, "facilities-before.csv");
    FILE *f = fopen(before_csv, "w");
    fprintf(f, "id,name,kind,x,y,beds\nF99,旧站,a,%.2f,%.2f,0\n", d.fx[0], d.fy[0]);
    for (size_t i = 0; i < d.nfac; i++)
        if (i != 3)
            fprintf(f, "F%zu,设施%zu,%s,%.2f,%.2f,%.0f\n", i, i, d.fkind[i] ? "b" : "a", d.fx[i],
                    d.fy[i], d.fbeds[i]);
    fclose(f);
    snprintf(args, sizeof args, "run '%s' --out '%s/before' -q --set 'kinds.a.thresholds_min=5,10,12' "
             "--set targets.cover_a.within_min=12 --set 'facilities.path=%s'", study, dir,
             before_csv);
    free(before_csv);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    snprintf(args, sizeof args, "report '%s' --out '%s/report.html' --baseline '%s/before/summary.json' "
             "--lang en -q", study, dir, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    fx_env now;
    load(&now, study, NULL);
    assert_int_equal(cs_run(now.ctx, now.study, &now.result), CS_OK);
    char *summary = tu_join(dir, "before/summary.json");
    json_object *root = json_object_from_file(summary), *targets, *tg, *district, *value;
    assert_true(json_object_object_get_ex(root, "targets", &targets));
    tg = json_object_array_get_idx(targets, 0); /* cover_a */
    assert_true(json_object_object_get_ex(tg, "district", &district));
    assert_true(json_object_object_get_ex(district, "value", &value));
    cs_target_outcome o;
    assert_int_equal(cs_result_target(now.result, 0, CS_DISTRICT, &o), CS_OK);
    double pp = (o.value - json_object_get_double(value)) * 100;
    assert_true(pp > 0); /* 15 minutes reach more than 12 */
    char *html_path = tu_join(dir, "report.html"), *html = tu_read(html_path, NULL), want[64];
    const char *row = strstr(html, "<tr data-target=\"cover_a\"");
    assert_non_null(row);
    snprintf(want, sizeof want, "+%.1f pp</td></tr>", pp);
    const char *end = strstr(row, "</tr>");
    const char *hit = strstr(row, want);
    assert_true(hit && hit < end + 1);
    assert_non_null(strstr(html, "since the baseline run"));
    const char *changes = strstr(html, "id=\"changes\""), *closed = strstr(html, "Closed facilities");
    assert_true(changes && closed);
    const char *f3 = strstr(changes, "<td>F3</td>"), *f99 = strstr(changes, "<td>F99</td>");
    assert_true(f3 && f3 < closed);  /* opened since */
    assert_true(f99 && f99 > closed); /* closed since */
    assert_non_null(strstr(f99, "旧站"));
    json_object_put(root);
    free(summary);
    free(html);
    free(html_path);
    fx_env_close(&now);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* The changes the report shows: every target's (its headline row's last cell) and
 * every street's (the coverage-changes table), in *shown (new, free()), separated by
 * '|'. */
static char *shown_changes(const char *html)
{
    cs_buf b;
    cs_buf_init(&b);
    for (const char *row = html; (row = strstr(row, "<tr data-target=\"")) != NULL; row++) {
        const char *end = strstr(row, "</tr>"), *cell = row, *last = NULL;
        while ((cell = strstr(cell, "<td")) && cell < end)
            last = cell++;
        assert_non_null(last);
        const char *text = strchr(last, '>') + 1;
        cs_buf_addn(&b, text, (size_t)(strstr(text, "</td>") - text));
        cs_buf_addc(&b, '|');
    }
    const char *table = strstr(html, "class=\"coverage-changes\"");
    assert_non_null(table);
    const char *end = strstr(table, "</table>");
    for (const char *cell = table; (cell = strstr(cell, "<td class=\"n")) && cell < end; cell++) {
        const char *text = strchr(cell, '>') + 1;
        cs_buf_addn(&b, text, (size_t)(strstr(text, "</td>") - text));
        cs_buf_addc(&b, '|');
    }
    return cs_buf_take(&b);
}

/* Against a baseline run of the same study nothing changed, and nothing is shown as a
 * change: every target "±0" (or "±0.0 个百分点"), every street "±0.0", none coloured; the
 * same when the baseline is a run from before summary.json held unrounded figures
 * (its "exact" removed), whose areas.csv and targets are rounded. */
static void unchanged_baseline_shows_no_change(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[4096], *out = NULL;
    snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/before' -q", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *summary = tu_join(dir, "before/summary.json");
    for (int old = 0; old < 2; old++) {
        if (old) { /* as a run before the unrounded figures */
            json_object *root = json_object_from_file(summary);
            assert_non_null(root);
            json_object_object_del(root, "exact");
            assert_int_equal(json_object_to_file(summary, root), 0);
            json_object_put(root);
        }
        snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/r.html' --baseline '%s' -q",
                 SAMPLE, dir, summary);
        assert_int_equal(cli(args, &out), 0);
        free(out);
        char *path = tu_join(dir, "r.html"), *html = tu_read(path, NULL);
        char *changes = shown_changes(html);
        size_t n = 0;
        for (char *c = changes, *next; *c; c = next + 1, n++) {
            next = strchr(c, '|');
            *next = '\0';
            if (strcmp(c, "±0") && strcmp(c, "±0.0 个百分点") && strcmp(c, "±0.0"))
                fail_msg("%s baseline: a change shown where nothing changed: \"%s\"",
                         old ? "an older" : "a", c);
        }
        assert_true(n >= 9 + 15); /* the sample's 9 targets, 14 streets and the district */
        const char *table = strstr(html, "class=\"coverage-changes\"");
        assert_null(strstr(table, "class=\"n pass\""));
        assert_null(strstr(table, "class=\"n fail\""));
        free(changes);
        free(html);
        free(path);
    }
    free(summary);
    tu_rmtree(dir);
    free(dir);
}

/* The page's text as a reader sees it: tags, styles, scripts and <code> (file names,
 * checksums, the command line) left out, entities as written. New string. */
static char *reader_text(const char *html)
{
    cs_buf b;
    cs_buf_init(&b);
    static const char *const skipped[] = {"<style", "<script", "<code", "<title"};
    static const char *const ends[] = {"</style>", "</script>", "</code>", "</title>"};
    for (const char *p = html; *p;) {
        size_t i = 0;
        while (i < 4 && strncmp(p, skipped[i], strlen(skipped[i])))
            i++;
        if (i < 4) {
            const char *end = strstr(p, ends[i]);
            p = end ? end + strlen(ends[i]) : p + strlen(p);
        } else if (*p == '<') {
            const char *end = strchr(p, '>');
            p = end ? end + 1 : p + strlen(p);
            cs_buf_addc(&b, '\n');
        } else {
            cs_buf_addc(&b, *p++);
        }
    }
    return cs_buf_take(&b);
}

/* The Chinese report of the sample in Chinese throughout: no English word (two or more
 * Latin letters) outside the study's own name, acronyms (SHA-256, EPSG, WGS84) and
 * careshed's name; the gap texts, units, roles and the working CRS included. In
 * English (--lang en) the gap texts are English. */
static void chinese_report_has_no_english(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[4096], *out = NULL;
    snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/zh.html' -q", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *path = tu_join(dir, "zh.html"), *html = tu_read(path, NULL), *text = reader_text(html);
    static const char *const allowed[] = {"illustrative", "sample", "SHA", "EPSG", "WGS",
                                          "careshed"};
    for (const char *p = text; *p; p++) {
        if (!isalpha((unsigned char)*p) || !isalpha((unsigned char)p[1]))
            continue;
        size_t n = 0;
        while (isalpha((unsigned char)p[n]))
            n++;
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            ok = ok || (strlen(allowed[i]) == n && !strncmp(p, allowed[i], n));
        if (!ok) {
            const char *line = p;
            while (line > text && line[-1] != '\n')
                line--;
            fail_msg("an English word in the Chinese report: '%.*s' in \"%.*s\"", (int)n, p,
                     (int)strcspn(line, "\n"), line);
        }
        p += n - 1;
    }
    /* the gap texts are the plan's in Chinese, e.g. the centres short of 110 */
    assert_non_null(strstr(html, "还差"));
    assert_non_null(strstr(html, "横轴墨卡托投影，中央经线"));
    free(text);
    free(html);
    free(path);
    snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/en.html' --lang en -q", SAMPLE,
             dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    path = tu_join(dir, "en.html");
    html = tu_read(path, NULL);
    assert_non_null(strstr(html, " more centres<"));
    assert_non_null(strstr(html, "short of "));
    assert_non_null(strstr(html, "Transverse Mercator, central meridian"));
    assert_null(strstr(html, "还差"));
    free(html);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* The sample's report, in a new folder *dir (free both) after a run of the sample into
 * dir/run when with_run; its HTML (free()). */
static char *sample_report(bool with_run, char **dir)
{
    char args[4096], *out = NULL;
    *dir = tu_mkdtemp();
    if (with_run) {
        snprintf(args, sizeof args, "run '%s/study.yaml' --out '%s/run' -q", SAMPLE, *dir);
        assert_int_equal(cli(args, &out), 0);
        free(out);
    }
    snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/r.html' -q", SAMPLE, *dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *path = tu_join(*dir, "r.html"), *html = tu_read(path, NULL);
    free(path);
    assert_non_null(html);
    return html;
}

/* The pattern a group or swatch fills with ("url(#hatch-123)") is defined in the same
 * SVG [svg, end). */
static void pattern_defined(const char *fill, const char *svg, const char *end)
{
    char id[64], want[96];
    assert_int_equal(sscanf(fill, "fill=\"url(#%63[^)])", id), 1);
    snprintf(want, sizeof want, "<pattern id=\"%s\"", id);
    const char *def = strstr(svg, want);
    assert_true(def && def < end);
}

/* Maps that print readably (issue 17): the under-served patches hatched over the
 * shading, whose colours stay as the legend shows them (no translucent fill), with the
 * same hatching in the legend and named in the caption; every facility marker at least
 * 3 mm wide on A4 (the district map is 680 px wide shown 180 mm wide, the body's width;
 * a small map 330 px in 86 mm). */
static void maps_print_readably(void **state)
{
    (void)state;
    char *dir = NULL, *html = sample_report(false, &dir);
    static const struct {
        const char *cls;
        double mm_per_px;
    } maps[] = {{"<svg class=\"map district-map\"", 180.0 / 680}, {"<svg class=\"map kind-map\"", 86.0 / 330}};
    for (size_t m = 0; m < 2; m++) {
        const char *svg = strstr(html, maps[m].cls), *end = svg ? strstr(svg, "</svg>") : NULL;
        assert_true(svg && end);
        const char *group = strstr(svg, "<g class=\"patches\"");
        assert_true(group && group < end);
        const char *group_end = strchr(group, '>');
        const char *fill = strstr(group, "fill=\"url(#");
        assert_true(fill && fill < group_end);
        const char *opacity = strstr(group, "opacity");
        assert_true(!opacity || opacity > group_end);
        pattern_defined(fill, svg, end);
        size_t circles = 0;
        const char *fac = strstr(svg, "<g class=\"facilities\"");
        for (const char *c = fac; (c = strstr(c, "<circle ")) && c < end; c++, circles++) {
            double r = atof(strstr(c, " r=\"") + 4);
            if (2 * r * maps[m].mm_per_px < 3.0 - 1e-6)
                fail_msg("a marker %.2f mm wide on A4", 2 * r * maps[m].mm_per_px);
        }
        assert_true(circles > 0);
        /* the legend after the map shows the same hatching */
        const char *legend = strstr(end, "<svg class=\"legend\""), *legend_end = strstr(legend, "</svg>");
        const char *swatch = strstr(legend, "fill=\"url(#");
        assert_true(swatch && swatch < legend_end);
        pattern_defined(swatch, legend, legend_end);
    }
    const char *caption = strstr(html, "<figcaption>");
    assert_non_null(caption);
    assert_true(strstr(caption, "斜线区为薄弱片区") < strstr(caption, "</figcaption>"));
    free(html);
    tu_rmtree(dir);
    free(dir);
}

/* The report's table of targets each street misses lists exactly the streets and
 * targets areas.csv flags (its flags and flag_count columns, written by the run), the
 * streets with the most missed first. */
static void street_misses_match_the_flags(void **state)
{
    (void)state;
    char *dir = NULL, *html = sample_report(true, &dir);
    const char *section = strstr(html, "<section id=\"misses\">");
    assert_non_null(section);
    const char *section_end = strstr(section, "</section>");
    char *csv = tu_join(dir, "run/areas.csv");
    GDALDatasetH ds = GDALOpenEx(csv, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    size_t flagged = 0;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        const char *id = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "id"));
        const char *flags = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "flags"));
        char want[1024];
        snprintf(want, sizeof want, "<tr data-area=\"%s\" data-missed=\"%s\">", id, flags);
        const char *row = strstr(section, want);
        if (strcmp(id, "district") && *flags) {
            flagged++;
            if (!row || row > section_end)
                fail_msg("street %s (missing %s) is not listed as such", id, flags);
            char count[64];
            snprintf(count, sizeof count, "<td class=\"n\">%d</td>",
                     OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "flag_count")));
            assert_true(strstr(row, count) < strstr(row, "</tr>"));
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    /* no other rows, and the counts never rise down the table */
    size_t rows = 0;
    int last = 1 << 30;
    for (const char *r = section; (r = strstr(r, "<tr data-area=")) && r < section_end; r++) {
        rows++;
        int n = atoi(strstr(r, "<td class=\"n\">") + strlen("<td class=\"n\">"));
        assert_true(n <= last && n > 0);
        last = n;
    }
    assert_int_equal(rows, flagged);
    assert_true(flagged > 0);
    free(csv);
    free(html);
    tu_rmtree(dir);
    free(dir);
}

/* The number in a table cell that starts at cell ("<td class="n">162,922</td>"). */
static double cell_number(const char *cell)
{
    char digits[64];
    size_t n = 0;
    for (const char *c = strchr(cell, '>') + 1; *c != '<' && n + 1 < sizeof digits; c++)
        if (*c != ',')
            digits[n++] = *c;
    digits[n] = '\0';
    return atof(digits);
}

/* The largest under-served patches of the headline kind (the sample's centres): the
 * report's table shows summary.json's five (residents not covered, area, nearest
 * facility; its streets by name, from areas.csv), and its map numbers them 1-5. */
static void largest_patches_match_the_summary(void **state)
{
    (void)state;
    char *dir = NULL, *html = sample_report(true, &dir);
    const char *table = strstr(html, "<table class=\"patches\">");
    assert_non_null(table);
    char *summary = tu_join(dir, "run/summary.json");
    json_object *root = json_object_from_file(summary), *kinds = NULL, *centre = NULL,
                *largest = NULL, *underserved = NULL;
    assert_true(json_object_object_get_ex(root, "underserved", &underserved) &&
                json_object_object_get_ex(underserved, "kinds", &kinds) &&
                json_object_object_get_ex(kinds, "centre", &centre) &&
                json_object_object_get_ex(centre, "largest", &largest));
    size_t n = json_object_array_length(largest);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(largest, i), *v, *ids;
        char want[64];
        snprintf(want, sizeof want, "<tr data-rank=\"%zu\">", i + 1);
        const char *row = strstr(table, want), *cell = row;
        assert_non_null(row);
        const char *fields[] = {"uncovered", "area_km2", NULL, "nearest_facility_m"};
        const double tolerance[] = {0.5, 0.005, 0, 0.5};
        cell = strstr(cell, "<td") + 1; /* the rank */
        for (int f = 0; f < 4; f++) {
            cell = strstr(cell, "<td");
            if (fields[f]) {
                assert_true(json_object_object_get_ex(p, fields[f], &v));
                if (fabs(cell_number(cell) - json_object_get_double(v)) > tolerance[f])
                    fail_msg("patch %zu: %s %g in the report, %g in summary.json", i + 1,
                             fields[f], cell_number(cell), json_object_get_double(v));
            } else { /* each street of the patch, by its name in areas.csv */
                assert_true(json_object_object_get_ex(p, "area_ids", &ids));
                const char *end = strstr(cell, "</td>");
                for (size_t a = 0; a < json_object_array_length(ids); a++) {
                    char *csv = tu_join(dir, "run/areas.csv"), *text = tu_read(csv, NULL);
                    const char *line = strstr(text, json_object_get_string(
                                                        json_object_array_get_idx(ids, a)));
                    assert_non_null(line);
                    const char *name = strchr(line, ',') + 1;
                    char street[128];
                    snprintf(street, sizeof street, "%.*s", (int)strcspn(name, ",\r\n"), name);
                    const char *hit = strstr(cell, street);
                    assert_true(hit && hit < end);
                    free(text);
                    free(csv);
                }
            }
            cell++;
        }
        snprintf(want, sizeof want, "<g data-rank=\"%zu\">", i + 1);
        const char *label = strstr(html, want), *map = strstr(html, "<svg class=\"map patch-map\"");
        assert_true(label && map && label > map && label < strstr(map, "</svg>"));
    }
    json_object_put(root);
    free(summary);
    free(html);
    tu_rmtree(dir);
    free(dir);
}

/* Page 1 against the run's own files, ranked here independently: the targets met and
 * missed (summary.json's pass), the three largest gaps (by 1 - value / at_least, or
 * value / at_most - 1 for a load, from summary.json), the streets furthest behind (the
 * three most flag_count of areas.csv). */
static void first_page_matches_the_run(void **state)
{
    (void)state;
    char *dir = NULL, *html = sample_report(true, &dir);
    const char *page1 = strstr(html, "<section id=\"summary\">");
    assert_non_null(page1);
    const char *page1_end = strstr(page1, "</section>");
    char *summary = tu_join(dir, "run/summary.json");
    json_object *root = json_object_from_file(summary), *targets = NULL;
    assert_true(json_object_object_get_ex(root, "targets", &targets));
    size_t T = json_object_array_length(targets), met = 0, failed = 0;
    double worst[3] = {0, 0, 0};
    const char *worst_id[3] = {NULL, NULL, NULL};
    for (size_t t = 0; t < T; t++) {
        json_object *tg = json_object_array_get_idx(targets, t), *d, *v, *pass, *bound, *id;
        assert_true(json_object_object_get_ex(tg, "district", &d) &&
                    json_object_object_get_ex(d, "pass", &pass) &&
                    json_object_object_get_ex(d, "value", &v) &&
                    json_object_object_get_ex(tg, "id", &id));
        bool ok = json_object_get_boolean(pass);
        met += ok;
        failed += !ok;
        if (ok)
            continue;
        double short_of = json_object_object_get_ex(tg, "at_least", &bound)
                              ? 1 - json_object_get_double(v) / json_object_get_double(bound)
                              : 0;
        if (json_object_object_get_ex(tg, "at_most", &bound))
            short_of = json_object_get_double(v) / json_object_get_double(bound) - 1;
        for (int i = 0; i < 3; i++)
            if (short_of > worst[i]) {
                for (int j = 2; j > i; j--) {
                    worst[j] = worst[j - 1];
                    worst_id[j] = worst_id[j - 1];
                }
                worst[i] = short_of;
                worst_id[i] = json_object_get_string(id);
                break;
            }
    }
    char want[256];
    snprintf(want, sizeof want, "data-met=\"%zu\" data-failed=\"%zu\"", met, failed);
    assert_true(strstr(page1, want) && strstr(page1, want) < page1_end);
    const char *at = page1;
    for (int i = 0; i < 3 && worst_id[i]; i++) { /* in this order */
        snprintf(want, sizeof want, "<span data-target=\"%s\">", worst_id[i]);
        const char *hit = strstr(at, want);
        if (!hit || hit > page1_end)
            fail_msg("gap %d should be %s", i + 1, worst_id[i]);
        at = hit;
    }
    /* the streets behind: their flag counts are the three largest of areas.csv */
    char *csv = tu_join(dir, "run/areas.csv");
    GDALDatasetH ds = GDALOpenEx(csv, GDAL_OF_VECTOR, NULL, NULL, NULL);
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    int counts[512], listed_counts[3], n = 0, listed = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL && n < 512) {
        const char *id = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "id"));
        int c = OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "flag_count"));
        if (strcmp(id, "district")) {
            counts[n++] = c;
            snprintf(want, sizeof want, "<span data-area=\"%s\">", id);
            const char *hit = strstr(page1, want);
            if (hit && hit < page1_end)
                listed_counts[listed++] = c;
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    assert_int_equal(listed, 3);
    int least_listed = listed_counts[0];
    for (int k = 1; k < 3; k++)
        least_listed = listed_counts[k] < least_listed ? listed_counts[k] : least_listed;
    int above = 0;
    for (int i = 0; i < n; i++)
        above += counts[i] > least_listed;
    assert_true(above <= 2); /* only listed streets miss more than the least listed: the
                              * three listed are the three that miss most */
    json_object_put(root);
    free(csv);
    free(summary);
    free(html);
    tu_rmtree(dir);
    free(dir);
}

/* Every map names its streets: on the sample's district map all 14 names, no two of
 * their boxes overlapping (each text's data-box); the same on the maps by kind. */
static void street_names_do_not_overlap(void **state)
{
    (void)state;
    char *dir = NULL, *html = sample_report(false, &dir);
    const char *maps[] = {"<svg class=\"map district-map\"", "<svg class=\"map kind-map\""};
    for (int m = 0; m < 2; m++) {
        const char *svg = strstr(html, maps[m]), *end = strstr(svg, "</svg>");
        double bx[64][4];
        size_t n = 0;
        for (const char *t = svg; (t = strstr(t, "data-box=\"")) && t < end && n < 64; t++, n++)
            assert_int_equal(sscanf(t, "data-box=\"%lf %lf %lf %lf\"", &bx[n][0], &bx[n][1],
                                    &bx[n][2], &bx[n][3]),
                             4);
        assert_int_equal(n, 14);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (bx[i][0] < bx[j][2] && bx[j][0] < bx[i][2] && bx[i][1] < bx[j][3] &&
                    bx[j][1] < bx[i][3])
                    fail_msg("street names %zu and %zu overlap on %s", i, j, maps[m]);
    }
    free(html);
    tu_rmtree(dir);
    free(dir);
}

/* A district of one street, with no facility of kind b, still renders. */
static void odd_districts_render(void **state)
{
    (void)state;
    NEED_CHROMIUM();
    fx_data d;
    fx_random(&d, 25, 1, 1, 1500, 5, 200);
    for (size_t i = 0; i < d.nfac; i++)
        d.fkind[i] = 0;
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml), args[4096], *out = NULL;
    snprintf(args, sizeof args, "report '%s' --out '%s/report.html' --lang en -q", study, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *html_path = tu_join(dir, "report.html"), *html = tu_read(html_path, NULL);
    assert_non_null(strstr(html, "The district has no facility of this kind"));
    char *log = NULL, *shot = tu_join(dir, "shot.png"), shot_arg[4200];
    snprintf(shot_arg, sizeof shot_arg, "--window-size=900,1600 --screenshot='%s'", shot);
    assert_int_equal(chromium(html_path, shot_arg, NULL, &log), 0);
    assert_true(console_clean(log));
    assert_true(tu_exists(shot));
    char *map_path = map_page(dir, html);
    snprintf(shot_arg, sizeof shot_arg, "--window-size=680,800 --screenshot='%s'", shot);
    assert_int_equal(chromium(map_path, shot_arg, NULL, NULL), 0);
    long painted, colours, total;
    count_pixels(shot, &painted, &colours, &total);
    assert_true(painted > total / 4);
    free(map_path);
    free(log);
    free(shot);
    free(html);
    free(html_path);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* With over a thousand facilities the district map shows the headline kind's only
 * (kind a, of the coverage target), each once. */
static void crowded_district_map(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 33, 2, 2, 1000, 1200, 100);
    size_t kind_a = 0;
    for (size_t i = 0; i < d.nfac; i++)
        kind_a += d.fkind[i] == 0;
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml), args[4096], *out = NULL;
    snprintf(args, sizeof args, "report '%s' --out '%s/report.html' --lang en -q", study, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *html_path = tu_join(dir, "report.html"), *html = tu_read(html_path, NULL);
    const char *map = strstr(html, "class=\"map district-map\"");
    const char *marks = strstr(map, "<g class=\"facilities\"");
    const char *end = strstr(marks, "</g>");
    size_t circles = 0, others = 0;
    for (const char *p = marks; p < end; p++) {
        circles += !strncmp(p, "<circle", 7);
        others += !strncmp(p, "<rect", 5) || !strncmp(p, "<path", 5);
    }
    assert_int_equal(circles, kind_a); /* kind a (index 0) is drawn as circles */
    assert_int_equal(others, 0);
    assert_non_null(strstr(html, "only this kind's are shown"));
    free(html);
    free(html_path);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* The PDF's fonts, as poppler's pdffonts lists them: every one embedded, TrueType
 * (CID), none of Type 3 (glyphs drawn as pictures, which archives and print shops
 * refuse); and its text is searchable: pdftotext finds a street's Chinese name. */
static void pdf_fonts_are_embedded_truetype(const char *pdf)
{
    char cmd[2048], *fonts = NULL, *text = NULL;
    snprintf(cmd, sizeof cmd, "pdffonts '%s'", pdf);
    assert_int_equal(tu_run(cmd, &fonts), 0);
    size_t listed = 0, truetype = 0;
    char *rest = strstr(fonts, "\n---"), *line = NULL;
    assert_non_null(rest);
    rest = strchr(rest + 1, '\n'); /* the lines after the header's rule */
    while (rest && (line = strtok_r(rest, "\n", &rest)) != NULL) {
        listed++;
        truetype += strstr(line, " CID TrueType ") != NULL;
        if (strstr(line, " Type 3 "))
            fail_msg("a Type 3 font in %s:\n%s", pdf, line);
    }
    if (listed == 0 || truetype != listed)
        fail_msg("fonts of %s are not all CID TrueType:\n%s", pdf, fonts);
    snprintf(cmd, sizeof cmd, "pdftotext '%s' -", pdf);
    assert_int_equal(tu_run(cmd, &text), 0);
    assert_non_null(strstr(text, "莘庄镇"));
    free(fonts);
    free(text);
}

static void pdf_through_chromium(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[4096], *out = NULL;
    /* without Chromium on PATH: a clear message, and the HTML is still written */
    snprintf(args, sizeof args, "env PATH=/nonexistent '%s' report '%s/study.yaml' --out "
             "'%s/r.html' --pdf -q", CS_CLI, SAMPLE, dir);
    assert_int_equal(tu_run(args, &out), 6);
    assert_non_null(strstr(out, "--pdf needs Chromium, which is not installed"));
    free(out);
    char *html = tu_join(dir, "r.html");
    assert_true(tu_exists(html));
    free(html);
    if (have_chromium()) { /* a name a URL would cut at '#' */
        snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/r 4#x.html' --pdf -q",
                 SAMPLE, dir);
        assert_int_equal(cli(args, &out), 0);
        free(out);
        char *pdf = tu_join(dir, "r 4#x.pdf"), *bytes = tu_read(pdf, NULL);
        assert_non_null(bytes);
        assert_int_equal(strncmp(bytes, "%PDF", 4), 0);
        free(bytes);
        free(pdf);
        /* --out FILE.pdf: the HTML beside it as FILE.html, the PDF a real one, with
         * the report's pages (not Chromium's blank page for HTML named .pdf) */
        snprintf(args, sizeof args, "report '%s/study.yaml' --out '%s/asked.PDF'", SAMPLE,
                 dir);
        assert_int_equal(cli(args, &out), 0);
        char *said_html = tu_join(dir, "asked.html"), *said_pdf = tu_join(dir, "asked.PDF");
        assert_non_null(strstr(out, said_html));
        assert_non_null(strstr(out, said_pdf));
        free(out);
        size_t len = 0;
        bytes = tu_read(said_pdf, &len);
        assert_non_null(bytes);
        assert_int_equal(strncmp(bytes, "%PDF", 4), 0);
        assert_true(len > 100000); /* a blank page is some 1 kB */
        free(bytes);
        bytes = tu_read(said_html, NULL);
        assert_non_null(bytes);
        assert_int_equal(strncmp(bytes, "<!DOCTYPE html>", 15), 0);
        free(bytes);
        pdf_fonts_are_embedded_truetype(said_pdf);
        free(said_html);
        free(said_pdf);
    }
    tu_rmtree(dir);
    free(dir);
}

static void bad_reports(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 27, 2, 1, 1000, 4, 50);
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, NULL);
    fx_env w;
    load(&w, study, NULL);
    char *path = tu_join(dir, "r.html");
    cs_report_options opt = {.lang = "fr"};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, path), CS_ERR_ARGUMENT);
    assert_true(tu_has_message(w.ctx, "unknown report language 'fr'", NULL));
    opt = (cs_report_options){.year = 2020, .since = 2022};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, path), CS_ERR_ARGUMENT);
    assert_true(tu_has_message(w.ctx, "cannot report the years 2022 to 2020", NULL));
    opt = (cs_report_options){.since = 2020, .lang = "en"};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, path), CS_OK);
    assert_true(tu_has_message(w.ctx, "--since is left out: the study has no years", NULL));
    char *html = tu_read(path, NULL); /* a study without targets says so */
    assert_non_null(strstr(html, "The study sets no targets"));
    free(html);
    remove(path);
    char *folder = tu_join(dir, "out/");
    opt = (cs_report_options){0};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, folder), CS_ERR_OUTPUT);
    assert_true(tu_has_message(w.ctx, "out/", "is a folder", NULL));
    free(folder);
    char *bad = tu_write(dir, "bad.json", "{\"no\": 1}");
    opt = (cs_report_options){.baseline = bad};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, path), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "bad.json", "not a careshed summary", NULL));
    char *garbage = tu_write(dir, "garbage.json", "not json");
    opt = (cs_report_options){.baseline = garbage};
    assert_int_equal(cs_report_write(w.ctx, w.study, &opt, path), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "garbage.json", "cannot be read as JSON", NULL));
    assert_false(tu_exists(path)); /* nothing written on failure */
    fx_env_close(&w);
    /* years that are not years, and closing before opening */
    static const struct {
        const char *row, *want;
    } years[] = {{"2023.5,", "2023.5 is not a year"}, {"20x1,", "'20x1' is not a number"},
                 {"2022,2020", "closed in 2020, before it opened (2022)"}};
    for (size_t q = 0; q < 3; q++) {
        char text[512];
        snprintf(text, sizeof text, "id,name,kind,x,y,beds,opened,closed\n"
                 "F0,x,a,350500,3440500,0,%s\n", years[q].row);
        free(tu_write(dir, "facilities.csv", text));
        fx_env e;
        assert_int_equal(configure(&e, study, NULL, 0), CS_ERR_INPUT);
        if (!tu_has_message(e.ctx, "facilities.csv:2:", years[q].want, NULL)) {
            tu_dump_messages(e.ctx);
            fail_msg("no message '%s'", years[q].want);
        }
        fx_env_close(&e);
    }
    /* population years: every row needs one; points only; not with a cost matrix */
    static const struct {
        const char *file, *text, *key, *value, *want;
    } pops[] = {
        {"p1.csv", "x,y,pop,pop65,year\n350500,3440500,10,2,2021\n350600,3440500,10,2,\n",
         NULL, NULL, "no year given"},
        {"p2.geojson", "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
         "\"properties\":{\"pop\":10,\"pop65\":2,\"year\":2021},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[350100,3440100],[350200,3440100],[350200,3440200],"
         "[350100,3440100]]]}}]}", NULL, NULL, "population.year is for point populations"},
        {"p3.csv", "x,y,pop,pop65,year,id\n350500,3440500,10,2,2021,D1\n", "costs.path",
         "costs.csv", "population.year gives several years"},
    };
    free(tu_write(dir, "costs.csv", "from,to,cost\nD1,F0,3\n"));
    free(tu_write(dir, "facilities.csv", "id,name,kind,x,y,beds\nF0,x,a,350500,3440500,0\n"));
    for (size_t q = 0; q < 3; q++) {
        free(tu_write(dir, pops[q].file, pops[q].text));
        fx_env e;
        /* the id field only matters with the matrix (the last case) */
        const char *const set[][2] = {{"population.path", pops[q].file},
                                      {"population.year", "year"},
                                      {"population.id", "id"},
                                      {pops[q].key, pops[q].value}};
        assert_int_not_equal(configure(&e, study, set, pops[q].key ? 4 : 2), CS_OK);
        if (!tu_has_message(e.ctx, pops[q].want, NULL)) {
            tu_dump_messages(e.ctx);
            fail_msg("no message '%s'", pops[q].want);
        }
        fx_env_close(&e);
    }
    /* nor a grid */
    char *tif = tu_join(dir, "grid.tif");
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), tif, 1, 1, 1, GDT_Float32, NULL);
    GDALClose(ds);
    fx_env g;
    const char *const grid[][2] = {{"population", ""}, {"population.path", "grid.tif"},
                                   {"population.year", "year"}};
    assert_int_equal(configure(&g, study, grid, 3), CS_ERR_STUDY);
    assert_true(tu_has_message(g.ctx, "population.year is for point populations, not grids",
                               NULL));
    fx_env_close(&g);
    free(tif);
    free(bad);
    free(garbage);
    free(path);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* Writing a report of two years with a baseline fails cleanly wherever memory runs
 * out, and leaves no file behind. */
static void allocation_failures(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 29, 2, 1, 1000, 4, 60);
    int opened[4] = {0, 2022, 0, 0}, closed[4] = {0, 0, 2023, 0};
    char *dir = tu_mkdtemp(), *study = fx_write(dir, &d, targets_yaml), args[4096], *out = NULL;
    write_facilities(dir, "facilities.csv", &d, opened, closed, 0);
    snprintf(args, sizeof args, "run '%s' --out '%s/before' -q", study, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    fx_env w;
    load(&w, study, NULL);
    char *path = tu_join(dir, "r.html"), *base = tu_join(dir, "before/summary.json");
    cs_report_options opt = {.year = 2023, .since = 2022, .baseline = base};
    long n = 0;
    for (;; n++) {
        tu_alloc_fail_after(n);
        cs_status st = cs_report_write(w.ctx, w.study, &opt, path);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            break;
        }
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_INTERNAL || st == CS_ERR_OUTPUT ||
                    st == CS_ERR_INPUT);
        assert_false(tu_exists(path));
    }
    assert_true(n > 100);
    assert_true(tu_exists(path));
    free(path);
    free(base);
    fx_env_close(&w);
    free(study);
    tu_rmtree(dir);
    free(dir);
    fx_free(&d);
}

/* The report's sites for `--set report.suggest=SETTING` on the sample: its HTML (free()). */
static char *suggest_report(const char *dir, const char *setting)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "report '%s/study.yaml' --set report.suggest=%s --out '%s/s.html' -q",
             SAMPLE, setting, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *path = tu_join(dir, "s.html"), *html = tu_read(path, NULL);
    free(path);
    assert_non_null(html);
    return html;
}

static size_t count_of(const char *from, const char *to, const char *what)
{
    size_t n = 0;
    for (const char *p = from; (p = strstr(p, what)) && (!to || p < to); p++)
        n++;
    return n;
}

/* report.suggest: 3 lists the three sites `careshed site --suggest 3` chooses, with the
 * same residents newly covered, numbered on a map whose legend has them, as maximal
 * covering; 0 suggests none (no section, nothing on page 1); a met target needs none;
 * a bad setting is refused naming the key. (The default, as many as the target needs,
 * is checked number by number in tests/web/report.test.mjs.) */
static void suggested_sites_follow_the_setting(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), args[4096], *out = NULL;
    snprintf(args, sizeof args, "site '%s/study.yaml' --suggest 3 --kind centre --out '%s/site' -q",
             SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    double gains[3];
    const char *line = out;
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "\n#%d +", i + 1);
        line = strstr(line, key);
        assert_non_null(line);
        gains[i] = strtod(line + strlen(key), NULL);
        line++;
    }
    free(out);
    char *html = suggest_report(dir, "3");
    const char *section = strstr(html, "<section id=\"sites\">");
    assert_non_null(section);
    const char *end = strstr(section, "</section>");
    assert_true(strstr(section, "data-sites=\"3\"") < end);
    assert_true(strstr(section, "最大覆盖") < end);
    assert_int_equal(count_of(section, end, "<tr data-site=\""), 3);
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "<tr data-site=\"%d\" data-gain=\"", i + 1);
        assert_true(same(number_after(section, key), gains[i]));
    }
    const char *map = strstr(section, "<svg class=\"map sites-map\""), *map_end = strstr(map, "</svg>");
    assert_int_equal(count_of(map, map_end, "<g data-site=\""), 3);
    const char *legend = strstr(map_end, "<svg class=\"legend\"");
    assert_true(legend && strstr(legend, "建议新址（待实地核查）") < strstr(legend, "</svg>"));
    assert_non_null(strstr(html, "<p class=\"sites\" data-kind=\"centre\">"));
    free(html);

    html = suggest_report(dir, "0");
    assert_null(strstr(html, "<section id=\"sites\">"));
    assert_null(strstr(html, "<p class=\"sites\""));
    free(html);

    snprintf(args, sizeof args, "report '%s/study.yaml' --set targets.service_circle_15min.at_least=0.1 "
             "--out '%s/met.html' -q", SAMPLE, dir);
    assert_int_equal(cli(args, &out), 0);
    free(out);
    char *path = tu_join(dir, "met.html");
    html = tu_read(path, NULL);
    free(path);
    assert_non_null(strstr(html, "data-sites=\"0\""));
    assert_non_null(strstr(html, "已达标，无需新增"));
    assert_null(strstr(html, "<p class=\"sites\""));
    free(html);

    snprintf(args, sizeof args, "report '%s/study.yaml' --set report.suggest=many --out '%s/bad.html'",
             SAMPLE, dir);
    assert_int_equal(cli(args, &out), 3);
    assert_non_null(strstr(out, "report.suggest must be target, or a whole number in [0, 1000], got 'many'"));
    free(out);
    path = tu_join(dir, "bad.html");
    assert_false(tu_exists(path));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_report_renders),
        cmocka_unit_test(console_errors_are_seen),
        cmocka_unit_test(years_against_separate_runs),
        cmocka_unit_test(population_years_against_separate_runs),
        cmocka_unit_test(baseline_changes),
        cmocka_unit_test(unchanged_baseline_shows_no_change),
        cmocka_unit_test(chinese_report_has_no_english),
        cmocka_unit_test(maps_print_readably),
        cmocka_unit_test(street_misses_match_the_flags),
        cmocka_unit_test(largest_patches_match_the_summary),
        cmocka_unit_test(first_page_matches_the_run),
        cmocka_unit_test(street_names_do_not_overlap),
        cmocka_unit_test(suggested_sites_follow_the_setting),
        cmocka_unit_test(odd_districts_render),
        cmocka_unit_test(crowded_district_map),
        cmocka_unit_test(pdf_through_chromium),
        cmocka_unit_test(bad_reports),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
