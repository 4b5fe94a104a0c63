/*
 * tidy.c — the tidy tables beside the wide indicator table, for pivot tables and
 * data frames: coverage (one row per area and the district x kind x measure x
 * threshold x band) and targets (one row per scope a target is set for). They are
 * cs_tables like the wide one, so every writer of tables (CSV now) takes them as they
 * are. Their figures are the wide table's, to the same decimals, so a pivot of
 * coverage.csv gives back the columns of areas.csv.
 */
#include "io/config.h"
#include "out/out.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* Decimals as in the wide table (table.c): residents and covered to 0.1, shares and
 * target values to 4 decimals, target gaps to 0.1; the bound as summary.json. */
#define DEC_RESIDENTS 1
#define DEC_SHARE 4
#define DEC_VALUE 4
#define DEC_GAP 1
#define DEC_BOUND 6

/* The columns, each named once. */
enum { CV_AREA_ID, CV_AREA_NAME, CV_KIND, CV_MEASURE, CV_THRESHOLD_MIN, CV_THRESHOLD_M,
       CV_BAND, CV_RESIDENTS, CV_COVERED, CV_SHARE, CV_COLUMNS };
static const char *const coverage_names[CV_COLUMNS] = {
    [CV_AREA_ID] = "area_id",     [CV_AREA_NAME] = "area_name",
    [CV_KIND] = "kind",           [CV_MEASURE] = "measure",
    [CV_THRESHOLD_MIN] = "threshold_min", [CV_THRESHOLD_M] = "threshold_m",
    [CV_BAND] = "band",           [CV_RESIDENTS] = "residents",
    [CV_COVERED] = "covered",     [CV_SHARE] = "share",
};

enum { TG_AREA_ID, TG_AREA_NAME, TG_ID, TG_NAME, TG_NAME_EN, TG_TYPE, TG_SCOPE, TG_VALUE,
       TG_BOUND, TG_TARGET, TG_UNIT, TG_PASS, TG_GAP, TG_GAP_UNIT, TG_GAP_TEXT, TG_COLUMNS };
static const char *const target_names[TG_COLUMNS] = {
    [TG_AREA_ID] = "area_id",   [TG_AREA_NAME] = "area_name",
    [TG_ID] = "target_id",      [TG_NAME] = "target_name",
    [TG_NAME_EN] = "target_name_en", [TG_TYPE] = "type",
    [TG_SCOPE] = "scope",       [TG_VALUE] = "value",
    [TG_BOUND] = "bound",       [TG_TARGET] = "target",
    [TG_UNIT] = "unit",         [TG_PASS] = "pass",
    [TG_GAP] = "gap",           [TG_GAP_UNIT] = "gap_unit",
    [TG_GAP_TEXT] = "gap_text",
};

/* Each column's type, so that a GeoPackage types it even where every cell is null. */
#define TXT CS_CELL_TEXT
#define NUM CS_CELL_NUMBER
static const cs_cell_type coverage_types[CV_COLUMNS] = {TXT, TXT, TXT, TXT, NUM,
                                                        NUM, TXT, NUM, NUM, NUM};
static const cs_cell_type target_types[TG_COLUMNS] = {
    TXT, TXT, TXT, TXT, TXT, TXT, TXT, NUM, TXT, NUM, TXT, CS_CELL_BOOL, NUM, TXT, TXT};
#undef TXT
#undef NUM

/* An empty table of rows x the given columns (cells all null). */
static cs_status table_create(cs_table *t, const char *const *names,
                              const cs_cell_type *types, size_t columns, size_t rows)
{
    memset(t, 0, sizeof *t);
    t->names = cs_calloc(columns, sizeof *t->names);
    t->types = cs_calloc(columns, sizeof *t->types);
    t->cells = cs_calloc(rows * columns + 1, sizeof *t->cells);
    if (!t->names || !t->types || !t->cells) {
        cs_free(t->names);
        cs_free(t->types);
        cs_free(t->cells);
        memset(t, 0, sizeof *t);
        return CS_ERR_NOMEM;
    }
    memcpy(t->types, types, columns * sizeof *types);
    t->name_cap = t->type_cap = columns;
    t->cell_cap = rows * columns + 1;
    for (; t->columns < columns; t->columns++)
        if (!(t->names[t->columns] = cs_strdup(names[t->columns]))) {
            cs_table_free(t);
            return CS_ERR_NOMEM;
        }
    t->rows = rows;
    return CS_OK;
}

static cs_cell *cell(cs_table *t, size_t row, size_t col)
{
    return &t->cells[row * t->columns + col];
}

static void set_number(cs_table *t, size_t row, size_t col, double v, int decimals)
{
    *cell(t, row, col) =
        (cs_cell){isfinite(v) ? CS_CELL_NUMBER : CS_CELL_NULL, v, decimals, NULL, false};
}

/* Borrowed text (the study's, the result's or static); NULL is a null cell. */
static void set_text(cs_table *t, size_t row, size_t col, const char *text)
{
    *cell(t, row, col) = (cs_cell){text ? CS_CELL_TEXT : CS_CELL_NULL, 0, 0, text, false};
}

static void set_bool(cs_table *t, size_t row, size_t col, bool known, bool value)
{
    *cell(t, row, col) = (cs_cell){known ? CS_CELL_BOOL : CS_CELL_NULL, value, 0, NULL, false};
}

_Static_assert((int)CV_AREA_ID == (int)TG_AREA_ID && (int)CV_AREA_NAME == (int)TG_AREA_NAME,
               "both tables open with the area");

/* Area a's id and name, the district's at a == A (as in the wide table). */
static void set_area(cs_table *t, size_t row, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    /* both tables open with the area's id and name */
    set_text(t, row, CV_AREA_ID, a == r->A ? "district" : s->areas.id[a]);
    set_text(t, row, CV_AREA_NAME, a == r->A ? s->settings.name : s->areas.name[a]);
}

/* Rows of one area in the coverage table: kind x measure x threshold x band. */
static size_t coverage_rows_per_area(const cs_result *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->K; k++)
        for (size_t m = 0; m < CS_MEASURES; m++)
            if (r->dist_m[cs_res_field(r, m, k)])
                n += r->study->settings.kinds[k].threshold_count * r->B;
    return n;
}

static size_t coverage_area(cs_table *t, size_t row, const cs_result *r, size_t a)
{
    const cs_settings *set = &r->study->settings;
    for (size_t k = 0; k < r->K; k++) {
        const cs_kind *kind = &set->kinds[k];
        for (size_t m = 0; m < CS_MEASURES; m++) {
            if (!r->dist_m[cs_res_field(r, m, k)])
                continue;
            for (size_t j = 0; j < kind->threshold_count; j++)
                for (size_t band = 0; band < r->B; band++, row++) {
                    double total = r->population[cs_res_pop(r, a, band)];
                    double covered = r->covered[cs_res_cov(r, m, k, j, a, band)];
                    set_area(t, row, r, a);
                    set_text(t, row, CV_KIND, kind->id);
                    set_text(t, row, CV_MEASURE, cs_measure_name(m));
                    set_number(t, row, CV_THRESHOLD_MIN, kind->threshold_min[j], 6);
                    set_number(t, row, CV_THRESHOLD_M, kind->threshold_m[j], 3);
                    set_text(t, row, CV_BAND, set->band_names[band]);
                    set_number(t, row, CV_RESIDENTS, total, DEC_RESIDENTS);
                    set_number(t, row, CV_COVERED, covered, DEC_RESIDENTS);
                    /* no residents of the band: no share, a null rather than 0 or NaN */
                    set_number(t, row, CV_SHARE, total > 0 ? covered / total : NAN, DEC_SHARE);
                }
        }
    }
    return row;
}

cs_status cs_out_coverage_table(const cs_result *r, cs_table *out)
{
    size_t per_area = coverage_rows_per_area(r);
    cs_status st = table_create(out, coverage_names, coverage_types, CV_COLUMNS, (r->A + 1) * per_area);
    size_t row = 0;
    for (size_t a = 0; st == CS_OK && a <= r->A; a++)
        row = coverage_area(out, row, r, a);
    assert(st != CS_OK || row == out->rows);
    return st;
}

/* A target applies where it is set: every area and the district for scope "area",
 * the district alone for scope "district" (the wide table's area values of a
 * district target are informative, not binding). */
static bool target_applies(const cs_result *r, size_t t, size_t a)
{
    return a == r->A || r->study->settings.targets[t].scope == CS_SCOPE_AREA;
}

static bool is_absolute(const cs_target *tg)
{
    return tg->type == CS_TARGET_COUNT || tg->type == CS_TARGET_CAPACITY;
}

/* The capacity a target's gap is counted in (NULL for coverage and count). */
static const cs_capacity *gap_capacity(const cs_settings *set, const cs_target *tg)
{
    switch (tg->type) {
    case CS_TARGET_CAPACITY:
    case CS_TARGET_CAPACITY_PER_POP:
    case CS_TARGET_CAPACITY_SHARE:
        return &set->capacities[tg->capacity];
    case CS_TARGET_ACCESSIBILITY:
    case CS_TARGET_LOAD:
        return &set->capacities[set->kinds[tg->kind].load_capacity];
    default:
        return NULL;
    }
}

/* "meals/day per resident", "beds per 1000 residents" */
static void per_residents(cs_buf *b, const char *unit, double per)
{
    if (per == 1)
        cs_buf_printf(b, "%s per resident", unit);
    else
        cs_buf_printf(b, "%s per %g residents", unit, per);
}

/* The unit of a target's value (and bound) and of its gap, as plan/targets.c counts
 * them: coverage is a share of residents, short of whole residents; a count is of the
 * kind's unit; capacity targets are short of capacity. A per-area absolute target's
 * district value is the number of areas meeting it. A new string (cs_free), NULL when
 * memory ran out. */
static char *value_unit(const cs_settings *set, const cs_target *tg, bool district)
{
    cs_buf b;
    cs_buf_init(&b);
    if (district && tg->scope == CS_SCOPE_AREA && is_absolute(tg))
        return cs_strdup("areas");
    switch (tg->type) {
    case CS_TARGET_COVERAGE:
        cs_buf_add(&b, "share of residents");
        break;
    case CS_TARGET_CAPACITY_SHARE:
        cs_buf_printf(&b, "share of %s", set->capacities[tg->capacity_of].unit);
        break;
    case CS_TARGET_COUNT:
        cs_buf_add(&b, set->kinds[tg->kind].unit);
        break;
    case CS_TARGET_CAPACITY:
        cs_buf_add(&b, set->capacities[tg->capacity].unit);
        break;
    case CS_TARGET_CAPACITY_PER_POP:
    case CS_TARGET_ACCESSIBILITY:
        per_residents(&b, gap_capacity(set, tg)->unit,
                      tg->type == CS_TARGET_ACCESSIBILITY ? set->kinds[tg->kind].access_per
                                                          : tg->per);
        break;
    case CS_TARGET_LOAD:
        cs_buf_add(&b, "load ratio");
        break;
    }
    return cs_buf_take(&b);
}

static const char *gap_unit(const cs_settings *set, const cs_target *tg)
{
    const cs_capacity *c = gap_capacity(set, tg);
    if (c)
        return c->unit;
    return tg->type == CS_TARGET_COVERAGE ? "residents" : set->kinds[tg->kind].unit;
}

static bool target_row(cs_table *t, size_t row, const cs_result *r, size_t tg_i, size_t a)
{
    const cs_settings *set = &r->study->settings;
    const cs_target *tg = &set->targets[tg_i];
    const cs_target_outcome *o = &r->outcomes[cs_res_target(r, tg_i, a)];
    bool district = a == r->A, load = tg->type == CS_TARGET_LOAD;
    /* a per-area absolute target is met by the district when every area meets it */
    double bound = district && tg->scope == CS_SCOPE_AREA && is_absolute(tg)
                       ? (double)r->A
                       : load ? tg->at_most : tg->at_least;
    set_area(t, row, r, a);
    set_text(t, row, TG_ID, tg->id);
    set_text(t, row, TG_NAME, tg->name);
    set_text(t, row, TG_NAME_EN, tg->name_en);
    set_text(t, row, TG_TYPE, cs_target_type_name(tg->type));
    set_text(t, row, TG_SCOPE, tg->scope == CS_SCOPE_AREA ? "area" : "district");
    /* nothing to measure (nobody of the band lives there): value, pass and gap null */
    set_number(t, row, TG_VALUE, o->evaluated ? o->value : NAN, DEC_VALUE);
    set_text(t, row, TG_BOUND, load ? "at_most" : "at_least");
    set_number(t, row, TG_TARGET, bound, DEC_BOUND);
    char *unit = value_unit(set, tg, district);
    if (!unit)
        return false;
    *cell(t, row, TG_UNIT) = (cs_cell){CS_CELL_TEXT, 0, 0, unit, true};
    set_bool(t, row, TG_PASS, o->evaluated, o->pass);
    set_number(t, row, TG_GAP, o->evaluated ? o->gap : NAN, DEC_GAP);
    set_text(t, row, TG_GAP_UNIT, gap_unit(set, tg));
    set_text(t, row, TG_GAP_TEXT, o->evaluated ? o->gap_text : NULL);
    return true;
}

cs_status cs_out_targets_table(const cs_result *r, cs_table *out)
{
    size_t T = r->study->settings.target_count, rows = 0;
    for (size_t tg = 0; tg < T; tg++)
        for (size_t a = 0; a <= r->A; a++)
            rows += target_applies(r, tg, a);
    cs_status st = table_create(out, target_names, target_types, TG_COLUMNS, rows);
    size_t row = 0;
    /* area-major like the wide table: each area's targets, the district's last */
    for (size_t a = 0; st == CS_OK && a <= r->A; a++)
        for (size_t tg = 0; tg < T; tg++)
            if (target_applies(r, tg, a) && !target_row(out, row++, r, tg, a)) {
                cs_table_free(out); /* frees the units made so far; the rest are null */
                return CS_ERR_NOMEM;
            }
    return st;
}
