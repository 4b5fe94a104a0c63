/*
 * test_tidy.c — the tidy tables coverage.csv and targets.csv: they sum back to the wide
 * table (areas.csv), the district rows are the sums of the area rows, covered counts
 * agree with a brute force on a hand-made study, target rows agree with summary.json
 * and exist only where a target is set, every column name is letters, digits and
 * underscores, and a refused allocation leaves no table and no leak.
 */
#include "testutil.h"
#include "fixture.h"

#include "out/out.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a CSV reader */

/* A CSV file read whole: rows x columns of fields, row 0 the header. */
typedef struct csv {
    size_t rows, columns;
    char **field;
} csv;

/* RFC 4180 fields (quotes doubled inside quotes), CRLF rows, a leading UTF-8 BOM. */
static void csv_read(const char *dir, const char *name, csv *c)
{
    char *path = tu_join(dir, name);
    char *text = tu_read(path, NULL);
    free(path);
    assert_non_null(text);
    assert_memory_equal(text, "\xEF\xBB\xBF", 3);
    memset(c, 0, sizeof *c);
    size_t cap = 0, col = 0;
    const char *p = text + 3;
    while (*p) {
        char *f = calloc(strlen(p) + 1, 1), *o = f;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
                *o++ = *p == '"' ? *++p : *p;
            p++;
        } else {
            while (*p && *p != ',' && *p != '\r')
                *o++ = *p++;
        }
        size_t at = c->rows * c->columns + col++; /* columns is 0 in the header */
        if (at >= cap) {
            cap = cap * 2 + 256;
            c->field = realloc(c->field, cap * sizeof *c->field);
            assert_non_null(c->field);
        }
        c->field[at] = f;
        if (*p == ',') {
            p++;
            continue;
        }
        assert_memory_equal(p, "\r\n", 2);
        p += 2;
        if (c->rows == 0)
            c->columns = col;
        assert_int_equal(col, c->columns);
        c->rows++;
        col = 0;
    }
    free(text);
}

static void csv_free(csv *c)
{
    for (size_t i = 0; i < c->rows * c->columns; i++)
        free(c->field[i]);
    free(c->field);
}

static long csv_column(const csv *c, const char *name)
{
    for (size_t i = 0; i < c->columns; i++)
        if (!strcmp(c->field[i], name))
            return (long)i;
    return -1;
}

/* The field of row (1 = first data row) under the named column, which must exist. */
static const char *csv_get(const csv *c, size_t row, const char *name)
{
    long i = csv_column(c, name);
    if (i < 0)
        fail_msg("no column %s", name);
    return c->field[row * c->columns + (size_t)i];
}

static double csv_number(const csv *c, size_t row, const char *name)
{
    const char *f = csv_get(c, row, name);
    return *f ? strtod(f, NULL) : NAN;
}

/* The data row of areas.csv with this id. */
static size_t csv_row_of(const csv *c, const char *id_column, const char *id)
{
    for (size_t r = 1; r < c->rows; r++)
        if (!strcmp(csv_get(c, r, id_column), id))
            return r;
    fail_msg("no row %s", id);
    return 0;
}

/* ---------------------------------------------------------------- running a study */

/* A band as column names spell it (docs/outputs.md): one starting with a digit gets
 * an 'a' before it, '+' becomes 'p' and '-' '_' ("65+" -> "a65p"). */
static const char *band_column(const char *band, char *out, size_t n)
{
    size_t o = 0;
    if (band[0] >= '0' && band[0] <= '9')
        out[o++] = 'a';
    for (; *band && o + 1 < n; band++)
        out[o++] = *band == '+' ? 'p' : *band == '-' ? '_' : *band;
    out[o] = '\0';
    return out;
}

/* "centre_15min_a65p_covered": the wide table's column of a coverage row. */
static void wide_column(const csv *cov, size_t row, const char *what, char *out, size_t n)
{
    const char *m = csv_get(cov, row, "measure");
    const char *tag = !strcmp(m, "network") ? "walk_" : !strcmp(m, "matrix") ? "matrix_" : "";
    char band[64];
    snprintf(out, n, "%s_%s%smin_%s_%s", csv_get(cov, row, "kind"), tag,
             csv_get(cov, row, "threshold_min"),
             band_column(csv_get(cov, row, "band"), band, sizeof band), what);
}

/* ---------------------------------------------------------------- the tests */

/* Every coverage row gives back the wide table's figures; the district rows are the
 * sums of the area rows; the rows are the full product. */
static void coverage_sums_back_to_the_wide_table(void **state)
{
    fx_env *e = *state;
    char *out = fx_env_run_and_write(e);
    csv wide, cov, tg;
    csv_read(out, "areas.csv", &wide);
    csv_read(out, "coverage.csv", &cov);
    csv_read(out, "targets.csv", &tg);
    /* 4 areas and the district x 2 kinds x 1 measure x 3 thresholds x 2 bands */
    assert_int_equal(cov.rows - 1, 5 * 2 * 1 * 3 * 2);
    assert_int_equal(tg.rows, 1); /* no targets: the header alone */
    char name[256];
    double sum_res[2][3][2] = {{{0}}}, sum_cov[2][3][2] = {{{0}}};
    for (size_t r = 1; r < cov.rows; r++) {
        size_t w = csv_row_of(&wide, "id", csv_get(&cov, r, "area_id"));
        assert_string_equal(csv_get(&cov, r, "area_name"), csv_get(&wide, w, "name"));
        char band[64];
        snprintf(name, sizeof name, "pop_%s",
                 band_column(csv_get(&cov, r, "band"), band, sizeof band));
        assert_string_equal(csv_get(&cov, r, "residents"), csv_get(&wide, w, name));
        wide_column(&cov, r, "covered", name, sizeof name);
        assert_string_equal(csv_get(&cov, r, "covered"), csv_get(&wide, w, name));
        wide_column(&cov, r, "share", name, sizeof name);
        assert_string_equal(csv_get(&cov, r, "share"), csv_get(&wide, w, name));
        assert_string_equal(csv_get(&cov, r, "measure"), "straight");
        /* 80 m a minute */
        assert_true(fabs(csv_number(&cov, r, "threshold_min") * FX_M_PER_MIN -
                         csv_number(&cov, r, "threshold_m")) < 1e-6);
        size_t k = strcmp(csv_get(&cov, r, "kind"), "a") != 0;
        size_t j = (size_t)(csv_number(&cov, r, "threshold_min") / 5) - 1;
        size_t b = strcmp(csv_get(&cov, r, "band"), "total") != 0;
        assert_true(j < 3);
        if (strcmp(csv_get(&cov, r, "area_id"), "district") != 0) {
            sum_res[k][j][b] += csv_number(&cov, r, "residents");
            sum_cov[k][j][b] += csv_number(&cov, r, "covered");
            continue;
        }
        /* whole residents in the fixture: the sums are exact */
        assert_true(fabs(csv_number(&cov, r, "residents") - sum_res[k][j][b]) < 1e-6);
        assert_true(fabs(csv_number(&cov, r, "covered") - sum_cov[k][j][b]) < 1e-6);
        assert_true(sum_res[k][j][b] > 0);
    }
    csv_free(&wide);
    csv_free(&cov);
    csv_free(&tg);
    free(out);
}

/* Points placed so each distance is worked by hand (3-4-5 triangles); three areas of
 * 1 km, the third empty. Facility F0 (kind a) at (200, 500), F1 (kind b) at
 * (1800, 500); 5/10/15 min = 400/800/1200 m. */
static const struct {
    double x, y, pop, pop65;
    double to_a, to_b; /* straight distances to F0 and F1, by hand */
} points[] = {
    {500, 900, 10, 4, 500, 1360.147},  /* A0: (300, 400) -> 500 */
    {200, 200, 20, 5, 300, 1627.882},  /* A0: (0, 300) -> 300 */
    {1100, 500, 30, 6, 900, 700},      /* A1 */
    {1900, 100, 40, 7, 1746.425, 412.311}, /* A1: (100, 400) to F1 */
};
#define POINTS (sizeof points / sizeof points[0])

static void hand_made_study(fx_env *e, const char *targets)
{
    fx_alloc(&e->d, 3, 1, 1000, 2, POINTS);
    e->d.fx[0] = FX_X0 + 200, e->d.fy[0] = FX_Y0 + 500, e->d.fkind[0] = 0;
    e->d.fx[1] = FX_X0 + 1800, e->d.fy[1] = FX_Y0 + 500, e->d.fkind[1] = 1;
    for (size_t i = 0; i < POINTS; i++) {
        e->d.px[i] = FX_X0 + points[i].x, e->d.py[i] = FX_Y0 + points[i].y;
        e->d.pop[i] = points[i].pop, e->d.pop65[i] = points[i].pop65;
        /* the table's hand distances are right */
        double fx[2] = {200, 1800}, d[2] = {points[i].to_a, points[i].to_b};
        for (size_t f = 0; f < 2; f++)
            assert_true(fabs(hypot(points[i].x - fx[f], points[i].y - 500) - d[f]) < 1e-3);
    }
    assert_int_equal(fx_env_open(e, &e->d, targets), CS_OK);
}

static void covered_agrees_with_a_brute_force(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, NULL);
    char *out = fx_env_run_and_write(e);
    csv cov;
    csv_read(out, "coverage.csv", &cov);
    assert_int_equal(cov.rows - 1, 4 * 2 * 3 * 2); /* (3 areas + district) x 2 x 3 x 2 */
    for (size_t r = 1; r < cov.rows; r++) {
        const char *area = csv_get(&cov, r, "area_id");
        bool b = !strcmp(csv_get(&cov, r, "kind"), "b");
        bool old = !strcmp(csv_get(&cov, r, "band"), "65+");
        double reach = csv_number(&cov, r, "threshold_m"), res = 0, covered = 0;
        for (size_t i = 0; i < POINTS; i++) {
            char id[8];
            snprintf(id, sizeof id, "A%d", points[i].x >= 1000);
            if (strcmp(area, "district") != 0 && strcmp(area, id) != 0)
                continue;
            double n = old ? points[i].pop65 : points[i].pop;
            res += n;
            covered += (b ? points[i].to_b : points[i].to_a) <= reach ? n : 0;
        }
        assert_true(fabs(csv_number(&cov, r, "residents") - res) < 1e-9);
        assert_true(fabs(csv_number(&cov, r, "covered") - covered) < 1e-9);
        if (res > 0)
            assert_true(fabs(csv_number(&cov, r, "share") - covered / res) < 5e-5);
        else /* nobody lives in A2: no share, an empty field rather than 0 */
            assert_string_equal(csv_get(&cov, r, "share"), "");
    }
    /* one row as a user reads it: A0's residents within 5 minutes of a centre */
    assert_string_equal(csv_get(&cov, 1, "area_id"), "A0");
    assert_string_equal(csv_get(&cov, 1, "kind"), "a");
    assert_string_equal(csv_get(&cov, 1, "measure"), "straight");
    assert_string_equal(csv_get(&cov, 1, "threshold_min"), "5");
    assert_string_equal(csv_get(&cov, 1, "threshold_m"), "400");
    assert_string_equal(csv_get(&cov, 1, "band"), "total");
    assert_string_equal(csv_get(&cov, 1, "residents"), "30");
    assert_string_equal(csv_get(&cov, 1, "covered"), "20");
    assert_string_equal(csv_get(&cov, 1, "share"), "0.6667");
    csv_free(&cov);
    free(out);
}

/* The district row of one target, or 0. */
static size_t target_row(const csv *tg, const char *target, const char *area)
{
    for (size_t r = 1; r < tg->rows; r++)
        if (!strcmp(csv_get(tg, r, "target_id"), target) &&
            !strcmp(csv_get(tg, r, "area_id"), area))
            return r;
    return 0;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no %s in summary.json", key);
    return v;
}

/* One outcome of summary.json against a row of targets.csv: value to the table's 4
 * decimals (summary.json keeps 6), gap to its 0.1 (summary.json's 0.01). */
static void assert_outcome(const csv *tg, size_t r, json_object *o)
{
    assert_true(r > 0);
    assert_true(fabs(csv_number(tg, r, "value") - json_object_get_double(member(o, "value"))) <
                5e-5 + 1e-12);
    assert_string_equal(csv_get(tg, r, "pass"),
                        json_object_get_boolean(member(o, "pass")) ? "true" : "false");
    assert_true(fabs(csv_number(tg, r, "gap") - json_object_get_double(member(o, "gap"))) <
                0.05 + 1e-9);
    json_object *text = member(o, "gap_text");
    assert_string_equal(csv_get(tg, r, "gap_text"), text ? json_object_get_string(text) : "");
}

static const char *const three_targets =
    "targets:\n"
    "  near: {type: coverage, kind: a, within_min: 10, band: 65+, at_least: 0.9,"
    " scope: area}\n"
    "  whole: {type: coverage, kind: b, within_min: 15, at_least: 0.5}\n"
    "  count: {type: count, kind: a, at_least: 2}\n";

static void targets_agree_with_the_summary(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, three_targets);
    char *out = fx_env_run_and_write(e);
    csv tg;
    csv_read(out, "targets.csv", &tg);
    /* near: A0, A1, A2 and the district; whole and count: the district alone */
    assert_int_equal(tg.rows - 1, 3 + 1 + 1 + 1);
    char *path = tu_join(out, "summary.json");
    json_object *root = json_object_from_file(path);
    free(path);
    assert_non_null(root);
    json_object *targets = member(root, "targets");
    size_t short_rows = 0;
    for (size_t t = 0; t < json_object_array_length(targets); t++) {
        json_object *o = json_object_array_get_idx(targets, t);
        const char *id = json_object_get_string(member(o, "id"));
        size_t d = target_row(&tg, id, "district");
        assert_outcome(&tg, d, member(o, "district"));
        assert_string_equal(csv_get(&tg, d, "scope"), json_object_get_string(member(o, "scope")));
        assert_true(fabs(csv_number(&tg, d, "target") -
                         json_object_get_double(member(o, "at_least"))) < 1e-9);
        /* summary.json also lists the areas below a district target's level; those
         * are not rows here (the target is not set for them) */
        if (strcmp(json_object_get_string(member(o, "scope")), "area") != 0)
            continue;
        json_object *shorts = member(o, "areas_short");
        for (size_t s = 0; s < json_object_array_length(shorts); s++) {
            json_object *a = json_object_array_get_idx(shorts, s);
            assert_outcome(&tg, target_row(&tg, id, json_object_get_string(member(a, "id"))), a);
        }
        short_rows += json_object_array_length(shorts);
    }
    /* the failing area rows are exactly summary.json's areas short */
    size_t failing = 0;
    for (size_t r = 1; r < tg.rows; r++)
        failing += strcmp(csv_get(&tg, r, "area_id"), "district") != 0 &&
                   !strcmp(csv_get(&tg, r, "pass"), "false");
    json_object_put(root);
    assert_int_equal(failing, short_rows);

    /* by hand: 65+ within 800 m of a centre are 9 of 9 in A0, 0 of 13 in A1 (short of
     * ceil(0.9 x 13) = 12), nobody in A2 (nothing to measure: empty fields) */
    size_t r = target_row(&tg, "near", "A0");
    assert_string_equal(csv_get(&tg, r, "value"), "1");
    assert_string_equal(csv_get(&tg, r, "pass"), "true");
    assert_string_equal(csv_get(&tg, r, "unit"), "share of residents");
    assert_string_equal(csv_get(&tg, r, "type"), "coverage"); /* as the study file says */
    r = target_row(&tg, "near", "A1");
    assert_string_equal(csv_get(&tg, r, "value"), "0");
    assert_string_equal(csv_get(&tg, r, "pass"), "false");
    assert_string_equal(csv_get(&tg, r, "gap"), "12");
    assert_string_equal(csv_get(&tg, r, "gap_unit"), "residents");
    /* in the study's language: Chinese, as its names are */
    assert_string_equal(csv_get(&tg, r, "gap_text"),
                        "还需让12名65岁以上居民10分钟（直线距离）内可达中心");
    r = target_row(&tg, "near", "A2");
    assert_string_equal(csv_get(&tg, r, "value"), "");
    assert_string_equal(csv_get(&tg, r, "pass"), "");
    assert_string_equal(csv_get(&tg, r, "gap"), "");
    /* one centre of two: short of one, counted in the kind's unit */
    r = target_row(&tg, "count", "district");
    assert_string_equal(csv_get(&tg, r, "type"), "count");
    assert_string_equal(csv_get(&tg, r, "value"), "1");
    assert_string_equal(csv_get(&tg, r, "target"), "2");
    assert_string_equal(csv_get(&tg, r, "bound"), "at_least");
    assert_string_equal(csv_get(&tg, r, "pass"), "false");
    assert_string_equal(csv_get(&tg, r, "gap"), "1");
    assert_string_equal(csv_get(&tg, r, "unit"), "centres");
    assert_string_equal(csv_get(&tg, r, "gap_text"), "还差1个中心");
    csv_free(&tg);
    free(out);
}

/* lang: en writes the same gaps in English, in targets.csv and areas.csv alike. */
static void gap_texts_follow_the_study_language(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, three_targets);
    fx_env_set(e, "lang", "en");
    char *out = fx_env_run_and_write(e);
    csv tg, areas;
    csv_read(out, "targets.csv", &tg);
    csv_read(out, "areas.csv", &areas);
    assert_string_equal(csv_get(&tg, target_row(&tg, "near", "A1"), "gap_text"),
                        "12 more residents aged 65+ need a centre within 10 minutes");
    assert_string_equal(csv_get(&tg, target_row(&tg, "count", "district"), "gap_text"),
                        "1 more centre");
    assert_string_equal(csv_get(&areas, csv_row_of(&areas, "id", "A1"), "t_near_gap_text"),
                        "12 more residents aged 65+ need a centre within 10 minutes");
    csv_free(&tg);
    csv_free(&areas);
    free(out);
}

/* A district-only target has no area rows, even a ratio the wide table shows per
 * area (its t_whole_value column is filled for every street). */
static void district_target_has_no_area_rows(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, three_targets);
    char *out = fx_env_run_and_write(e);
    csv tg, wide;
    csv_read(out, "targets.csv", &tg);
    csv_read(out, "areas.csv", &wide);
    assert_string_not_equal(csv_get(&wide, csv_row_of(&wide, "id", "A1"), "t_whole_value"), "");
    for (size_t r = 1; r < tg.rows; r++) {
        const char *id = csv_get(&tg, r, "target_id");
        if (!strcmp(id, "whole") || !strcmp(id, "count")) {
            assert_string_equal(csv_get(&tg, r, "area_id"), "district");
            assert_string_equal(csv_get(&tg, r, "scope"), "district");
        }
    }
    assert_true(target_row(&tg, "whole", "district") > 0);
    assert_true(target_row(&tg, "count", "district") > 0);
    csv_free(&tg);
    csv_free(&wide);
    free(out);
}

static bool good_name(const char *s)
{
    if (!isalpha((unsigned char)s[0]) || strlen(s) > 63)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static void column_names_are_letters_digits_underscores(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, three_targets);
    char *out = fx_env_run_and_write(e);
    const char *files[] = {"coverage.csv", "targets.csv"};
    for (size_t f = 0; f < 2; f++) {
        csv c;
        csv_read(out, files[f], &c);
        assert_true(c.columns >= 10);
        for (size_t i = 0; i < c.columns; i++)
            if (!good_name(c.field[i]))
                fail_msg("%s: column \"%s\"", files[f], c.field[i]);
        csv_free(&c);
    }
    free(out);
}

/* Each allocation of either table refused in turn: CS_ERR_NOMEM, an empty table, no
 * leak (ASan); then with none refused, the table is whole. */
static void refused_allocations_leave_no_table(void **state)
{
    fx_env *e = *state;
    hand_made_study(e, three_targets);
    fx_env_load_ok(e);
    fx_env_run_ok(e);
    cs_status (*make[])(const cs_result *, cs_table *) = {cs_out_coverage_table,
                                                          cs_out_targets_table};
    for (size_t m = 0; m < 2; m++) {
        long n = 0;
        for (;; n++) {
            cs_table t;
            tu_alloc_fail_after(n);
            cs_status st = make[m](e->result, &t);
            bool refused = tu_alloc_refused() > 0;
            tu_alloc_restore();
            if (!refused) {
                assert_int_equal(st, CS_OK);
                assert_true(t.rows > 0);
                cs_table_free(&t);
                break;
            }
            assert_int_equal(st, CS_ERR_NOMEM);
            assert_int_equal(t.rows, 0);
            assert_null(t.cells);
        }
        assert_true(n > 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(coverage_sums_back_to_the_wide_table, fx_env_setup,
                                        fx_env_teardown),
        cmocka_unit_test_setup_teardown(covered_agrees_with_a_brute_force, fx_env_setup_empty,
                                        fx_env_teardown),
        cmocka_unit_test_setup_teardown(targets_agree_with_the_summary, fx_env_setup_empty,
                                        fx_env_teardown),
        cmocka_unit_test_setup_teardown(gap_texts_follow_the_study_language, fx_env_setup_empty,
                                        fx_env_teardown),
        cmocka_unit_test_setup_teardown(district_target_has_no_area_rows, fx_env_setup_empty,
                                        fx_env_teardown),
        cmocka_unit_test_setup_teardown(column_names_are_letters_digits_underscores,
                                        fx_env_setup_empty, fx_env_teardown),
        cmocka_unit_test_setup_teardown(refused_allocations_leave_no_table, fx_env_setup_empty,
                                        fx_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
