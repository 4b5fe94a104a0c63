/*
 * table.c — the indicator table: one row per area (and one for the district), one
 * column per indicator. areas.geojson, the GeoPackage's areas and areas.csv are all
 * written from it, so they never disagree. Column names say kind, threshold and band,
 * every id made safe by cs_out_safe_name (names.c): "centre_15min_a60p_share"
 * (straight), "centre_walk_15min_a60p_share" (network), "meal_meals_per1000_a65p",
 * "meal_access", "centre_uncovered_a60p", "t_meals_gap". A threshold's decimal point
 * becomes '_' ("7_5min").
 */
#include "cover/patch.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct builder {
    cs_table *t;
    size_t row, col;
    size_t made; /* cells created so far, for the clean-up on failure */
} builder;

/* Columns are declared while the first row is written; later rows only fill cells. */
static cs_cell *next_cell(builder *b, const char *name, cs_cell_type type)
{
    cs_table *t = b->t;
    if (t->failed)
        return NULL;
    if (b->row == 0) {
        char safe_name[CS_NAME_MAX + 1]; /* parts are safe; this bounds the length */
        cs_out_safe_name(name, safe_name, sizeof safe_name);
        name = safe_name;
        if (!cs_grow((void **)&t->names, &t->name_cap, t->columns + 1, sizeof *t->names) ||
            !cs_grow((void **)&t->types, &t->type_cap, t->columns + 1, sizeof *t->types) ||
            !(t->names[t->columns] = cs_strdup(name))) {
            t->failed = true;
            return NULL;
        }
        t->types[t->columns] = type;
        t->columns++;
    }
    size_t index = b->row * t->columns + b->col;
    if (!cs_grow((void **)&t->cells, &t->cell_cap, index + 1, sizeof *t->cells)) {
        t->failed = true;
        return NULL;
    }
    b->col++;
    b->made++;
    t->cells[index] = (cs_cell){0};
    return &t->cells[index];
}

static void add_number(builder *b, const char *name, double v, int decimals)
{
    cs_cell *c = next_cell(b, name, CS_CELL_NUMBER);
    if (c)
        *c = (cs_cell){isfinite(v) ? CS_CELL_NUMBER : CS_CELL_NULL, v, decimals, NULL, false};
}

static void add_text(builder *b, const char *name, const char *text, bool owned)
{
    cs_cell *c = next_cell(b, name, CS_CELL_TEXT);
    if (!c) {
        if (owned)
            cs_free((char *)text);
        return;
    }
    *c = (cs_cell){text ? CS_CELL_TEXT : CS_CELL_NULL, 0, 0, text, owned};
}

static void add_bool(builder *b, const char *name, int evaluated, int value)
{
    cs_cell *c = next_cell(b, name, CS_CELL_BOOL);
    if (c)
        *c = (cs_cell){evaluated ? CS_CELL_BOOL : CS_CELL_NULL, value, 0, NULL, false};
}

/* An id made a safe part of a column name (names.c), into buf. */
static const char *safe(const char *raw, char buf[64])
{
    cs_out_safe_name(raw, buf, 64);
    return buf;
}

static double per_1000(double value, double pop)
{
    return pop > 0 ? value * 1000.0 / pop : NAN;
}

/* Whether kind k has any of capacity c in the district (else its columns are left out). */
static bool kind_has_capacity(const cs_result *r, size_t k, size_t c)
{
    return r->fac_cap[cs_res_cap(r, k, r->A, c)] > 0;
}


/* How a measure's coverage columns are tagged: none for straight, walk_, matrix_. */
const char *cs_out_measure_tag(size_t m)
{
    return m == CS_M_NETWORK ? "walk_" : m == CS_M_MATRIX ? "matrix_" : "";
}

void cs_out_coverage_column_v1(const cs_result *r, size_t m, size_t k, size_t j, size_t band,
                               char *out, size_t n)
{
    const cs_kind *kind = &r->study->settings.kinds[k];
    char thr[32];
    if (!isnan(kind->threshold_min[j]))
        snprintf(thr, sizeof thr, "%gmin", kind->threshold_min[j]);
    else
        snprintf(thr, sizeof thr, "%gm", kind->threshold_m[j]);
    snprintf(out, n, "%s_%s%s_%s_share", kind->id, cs_out_measure_tag(m), thr,
             r->study->settings.band_names[band]);
}

void cs_out_coverage_column(const cs_result *r, size_t m, size_t k, size_t j, size_t band,
                            char *out, size_t n)
{
    const cs_kind *kind = &r->study->settings.kinds[k];
    char thr[32], kid[64], tag[64];
    cs_out_threshold_label(kind, j, thr, sizeof thr);
    snprintf(out, n, "%s_%s%s_%s_share", safe(kind->id, kid), cs_out_measure_tag(m), thr,
             safe(r->study->settings.band_names[band], tag));
}

void cs_out_threshold_label(const cs_kind *k, size_t j, char *out, size_t n)
{
    if (!isnan(k->threshold_min[j]))
        snprintf(out, n, "%gmin", k->threshold_min[j]);
    else
        snprintf(out, n, "%gm", k->threshold_m[j]);
    for (char *p = out; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')))
            *p = '_';
}

static void facility_columns(builder *b, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    char name[256], kbuf[64], cbuf[64], tag[64];
    for (size_t k = 0; k < r->K; k++) {
        const char *kid = safe(s->settings.kinds[k].id, kbuf);
        double count = r->fac_count[cs_res_count(r, k, a)];
        snprintf(name, sizeof name, "%s_count", kid);
        add_number(b, name, count, 0);
        for (size_t band = 0; band < r->B; band++) {
            snprintf(name, sizeof name, "%s_count_per1000%s%s", kid, band ? "_" : "",
                     band ? safe(s->settings.band_names[band], tag) : "");
            add_number(b, name, per_1000(count, r->population[cs_res_pop(r, a, band)]), 4);
        }
        for (size_t c = 0; c < r->C; c++) {
            if (!kind_has_capacity(r, k, c))
                continue;
            const char *cid = safe(s->settings.capacities[c].id, cbuf);
            double cap = r->fac_cap[cs_res_cap(r, k, a, c)];
            snprintf(name, sizeof name, "%s_%s", kid, cid);
            add_number(b, name, cap, 2);
            for (size_t band = 0; band < r->B; band++) {
                snprintf(name, sizeof name, "%s_%s_per1000%s%s", kid, cid, band ? "_" : "",
                         band ? safe(s->settings.band_names[band], tag) : "");
                add_number(b, name, per_1000(cap, r->population[cs_res_pop(r, a, band)]), 3);
            }
        }
    }
}

/* Straight-line figures are "centre_15min_a60p_share"; along the network, side by
 * side, "centre_walk_15min_a60p_share", and from a cost matrix
 * "centre_matrix_15min_a60p_share". */
static void coverage_columns(builder *b, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    char name[256], thr[32], kid[64], tag[64];
    for (size_t k = 0; k < r->K; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        safe(kind->id, kid);
        for (size_t j = 0; j < kind->threshold_count; j++) {
            cs_out_threshold_label(kind, j, thr, sizeof thr);
            for (size_t m = 0; m < CS_MEASURES; m++) {
                if (!r->dist_m[cs_res_field(r, m, k)])
                    continue;
                const char *measure = cs_out_measure_tag(m);
                for (size_t band = 0; band < r->B; band++) {
                    double total = r->population[cs_res_pop(r, a, band)];
                    double covered = r->covered[cs_res_cov(r, m, k, j, a, band)];
                    safe(s->settings.band_names[band], tag);
                    snprintf(name, sizeof name, "%s_%s%s_%s_covered", kid, measure, thr, tag);
                    add_number(b, name, covered, 1);
                    snprintf(name, sizeof name, "%s_%s%s_%s_share", kid, measure, thr, tag);
                    add_number(b, name, total > 0 ? covered / total : NAN, 4);
                }
            }
        }
    }
}

/* Patches of kind k touching area a (every patch for the district). */
static size_t patches_in(const cs_result *r, size_t k, size_t a)
{
    const cs_patch_set *ps = &r->patches[k];
    size_t n = 0;
    for (size_t p = 0; p < ps->count; p++) {
        bool in = a == r->A;
        for (size_t i = 0; !in && i < ps->patches[p].area_count; i++)
            in = ps->patches[p].areas[i] == (long)a;
        n += in;
    }
    return n;
}

/* Facilities of kind k in area a loaded beyond their capacity. */
static size_t overloaded_in(const cs_result *r, size_t k, size_t a)
{
    const cs_study *s = r->study;
    size_t n = 0;
    for (size_t f = 0; f < s->fac.count; f++) {
        double use, cap;
        if (s->fac.kind[f] == (long)k && (a == r->A || s->fac.area[f] == (long)a) &&
            cs_res_load(r, f, &use, &cap) && use > cap)
            n++;
    }
    return n;
}

/* Where the uncovered are (beyond the largest threshold, by the kind's main measure)
 * and, for kinds with a capacity, accessibility and the capacity the band needs. */
static void demand_columns(builder *b, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    char name[256], kid[64], tag[64];
    size_t pb = (size_t)s->settings.patch_band;
    for (size_t k = 0; k < r->K; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        safe(kind->id, kid);
        double pop = r->population[cs_res_pop(r, a, pb)];
        double covered = r->covered[cs_res_cov(r, cs_res_main(r, k), k,
                                               kind->threshold_count - 1, a, pb)];
        snprintf(name, sizeof name, "%s_uncovered_%s", kid, safe(s->settings.band_names[pb], tag));
        add_number(b, name, pop - covered, 1);
        snprintf(name, sizeof name, "%s_patches", kid);
        add_number(b, name, (double)patches_in(r, k, a), 0);
        if (kind->load_capacity < 0)
            continue;
        double need = r->population[cs_res_pop(r, a, (size_t)kind->load_band)] * kind->load_rate;
        double have = r->fac_cap[cs_res_cap(r, k, a, (size_t)kind->load_capacity)];
        snprintf(name, sizeof name, "%s_access", kid);
        add_number(b, name, r->access_mean[cs_res_count(r, k, a)], 4);
        snprintf(name, sizeof name, "%s_need", kid);
        add_number(b, name, need, 1);
        snprintf(name, sizeof name, "%s_short", kid);
        add_number(b, name, need > have ? need - have : 0, 1);
        snprintf(name, sizeof name, "%s_overloaded", kid);
        add_number(b, name, (double)overloaded_in(r, k, a), 0);
    }
}

static void target_columns(builder *b, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    char name[256], tbuf[64];
    cs_buf flags;
    cs_buf_init(&flags);
    for (size_t t = 0; t < s->settings.target_count; t++) {
        const cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
        const char *tid = safe(s->settings.targets[t].id, tbuf);
        snprintf(name, sizeof name, "t_%s_value", tid);
        add_number(b, name, o->evaluated ? o->value : NAN, 4);
        snprintf(name, sizeof name, "t_%s_pass", tid);
        add_bool(b, name, o->evaluated, o->pass);
        snprintf(name, sizeof name, "t_%s_gap", tid);
        add_number(b, name, o->evaluated ? o->gap : NAN, 1);
        snprintf(name, sizeof name, "t_%s_gap_text", tid);
        add_text(b, name, o->evaluated ? o->gap_text : NULL, false);
        if (o->evaluated && !o->pass)
            cs_buf_printf(&flags, "%s%s", flags.len ? "," : "", s->settings.targets[t].id);
    }
    if (flags.failed)
        b->t->failed = true;
    size_t count = 0;
    for (size_t i = 0; flags.data && i < flags.len; i++)
        count += flags.data[i] == ',';
    add_number(b, "flag_count", flags.len ? (double)count + 1 : 0, 0);
    add_text(b, "flags", cs_buf_take(&flags), true);
}

static void area_row(builder *b, const cs_result *r, size_t a)
{
    const cs_study *s = r->study;
    bool district = a == r->A;
    b->col = 0;
    add_text(b, "id", district ? "district" : s->areas.id[a], false);
    add_text(b, "name", district ? s->settings.name : s->areas.name[a], false);
    double m2 = 0;
    if (district)
        for (size_t i = 0; i < r->A; i++)
            m2 += s->areas.m2[i];
    add_number(b, "area_km2", (district ? m2 : s->areas.m2[a]) / 1e6, 3);
    add_bool(b, "pop_estimated", true, s->dem.estimated);
    char name[128], tag[64];
    for (size_t band = 0; band < r->B; band++) {
        snprintf(name, sizeof name, "pop_%s", safe(s->settings.band_names[band], tag));
        add_number(b, name, r->population[cs_res_pop(r, a, band)], 1);
    }
    facility_columns(b, r, a);
    coverage_columns(b, r, a);
    demand_columns(b, r, a);
    target_columns(b, r, a);
    b->row++;
}

cs_status cs_out_area_table(const cs_result *r, bool with_district, cs_table *out)
{
    memset(out, 0, sizeof *out);
    builder b = {out, 0, 0, 0};
    for (size_t a = 0; a < r->A; a++)
        area_row(&b, r, a);
    if (with_district)
        area_row(&b, r, r->A);
    if (out->failed) {
        /* free exactly the cells made so far, the partial row included */
        for (size_t i = 0; out->cells && i < b.made; i++)
            if (out->cells[i].owned)
                cs_free((char *)out->cells[i].text);
        out->rows = 0;
        cs_table_free(out);
        return CS_ERR_NOMEM;
    }
    out->rows = b.row;
    return CS_OK;
}

void cs_table_free(cs_table *t)
{
    for (size_t i = 0; i < t->columns; i++)
        cs_free(t->names[i]);
    for (size_t i = 0; t->cells && i < t->rows * t->columns; i++)
        if (t->cells[i].owned)
            cs_free((char *)t->cells[i].text);
    cs_free(t->names);
    cs_free(t->types);
    cs_free(t->cells);
    memset(t, 0, sizeof *t);
}

void cs_out_json_cell(cs_json *j, const cs_cell *c)
{
    switch (c->type) {
    case CS_CELL_NULL: cs_json_null(j); break;
    case CS_CELL_NUMBER: cs_json_number(j, c->number, c->decimals); break;
    case CS_CELL_TEXT: cs_json_string(j, c->text); break;
    case CS_CELL_BOOL: cs_json_boolean(j, c->number != 0); break;
    }
}
