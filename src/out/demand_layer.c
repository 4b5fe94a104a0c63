/*
 * demand_layer.c — the demand layer, what an analyst checks first when a number
 * surprises them: one row per demand point with its number (demand_no, its place in
 * the run, 1 first), its id from the population layer (demand_id, when it has one),
 * its area, its residents by band and, per kind and measure, the nearest facility's
 * id, the cost to it in minutes and metres, and whether each threshold covers it; then
 * its accessibility per kind with a capacity.
 *
 * The columns are listed once (demand_columns) for both forms: demand.fgb, FlatGeobuf
 * written directly (fgb.h: two million points of 37 columns in some 3 s), and
 * demand.csv.
 * A point with several nearest facilities at the same cost names the first of them in
 * the facilities' order, as the other outputs do.
 */
#include "out/fgb.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum what {
    NUMBER_OF_POINT,
    ID_OF_POINT,
    AREA_ID,
    AREA_NAME,
    RESIDENTS,
    NEAREST,
    MINUTES,
    METRES,
    WITHIN,
    ACCESS
} what;

typedef struct column {
    char name[CS_NAME_MAX + 1];
    what what;
    cs_fgb_type type;
    int decimals;
    size_t m, k, j, b; /* measure, kind, threshold, band, as the column needs */
} column;

typedef struct demand_table {
    const cs_result *r;
    column *cols;
    cs_fgb_column *fgb; /* the same, as the FlatGeobuf header lists them */
    size_t count;
    const double *lon, *lat; /* every point in WGS84 (borrowed) */
    int threads;        /* gathering the columns (0 = all cores) */
    const atomic_int *threads_now; /* or this, read before each block */
    /* the texts as the FlatGeobuf writer takes them (cs_fgb_strings) */
    const char **demand_ids, **area_ids, **area_names, **facility_ids;
    char *text_blocks[4];
} demand_table;

static void add_column(demand_table *t, what w, cs_fgb_type type, int decimals,
                       const size_t at[4], const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 6, 0)));
static void add_column(demand_table *t, what w, cs_fgb_type type, int decimals,
                       const size_t at[4], const char *fmt, const char *a, const char *b)
{
    column *c = &t->cols[t->count];
    *c = (column){.what = w, .type = type, .decimals = decimals};
    if (at) {
        c->m = at[0];
        c->k = at[1];
        c->j = at[2];
        c->b = at[3];
    }
    char full[192];
    snprintf(full, sizeof full, fmt, a ? a : "", b ? b : "");
    /* at most CS_NAME_MAX, as every column (a kind id that long is the user's choice) */
    snprintf(c->name, sizeof c->name, "%.*s", CS_NAME_MAX, full);
    t->fgb[t->count] = (cs_fgb_column){c->name, type};
    t->count++;
}

/* The start of kind k's columns by measure m: "centre_walk_". */
static void kind_prefix(const cs_result *r, size_t m, size_t k, char *out, size_t n)
{
    char id[64];
    cs_out_safe_name(r->study->settings.kinds[k].id, id, sizeof id);
    snprintf(out, n, "%s_%s", id, cs_out_measure_tag(m));
}

void cs_out_demand_within_column(const cs_result *r, size_t m, size_t k, size_t j, char *out,
                                 size_t n)
{
    char prefix[96], thr[32];
    kind_prefix(r, m, k, prefix, sizeof prefix);
    cs_out_threshold_label(&r->study->settings.kinds[k], j, thr, sizeof thr);
    snprintf(out, n, "%.*swithin_%s", CS_NAME_MAX, prefix, thr);
}

/* The columns of kind k measured by m: "centre_walk_nearest", "_minutes",
 * "_metres", "_within_15min". */
static void kind_columns(demand_table *t, size_t m, size_t k)
{
    char prefix[96], within[192];
    kind_prefix(t->r, m, k, prefix, sizeof prefix);
    size_t at[4] = {m, k, 0, 0};
    add_column(t, NEAREST, CS_FGB_STRING, 0, at, "%snearest", prefix, NULL);
    add_column(t, MINUTES, CS_FGB_DOUBLE, 2, at, "%sminutes", prefix, NULL);
    add_column(t, METRES, CS_FGB_DOUBLE, 1, at, "%smetres", prefix, NULL);
    for (size_t j = 0; j < t->r->study->settings.kinds[k].threshold_count; j++) {
        at[2] = j;
        cs_out_demand_within_column(t->r, m, k, j, within, sizeof within);
        add_column(t, WITHIN, CS_FGB_BOOL, 0, at, "%s", within, NULL);
    }
}

static void demand_columns(demand_table *t)
{
    const cs_result *r = t->r;
    const cs_study *s = r->study;
    char band[64], id[64];
    add_column(t, NUMBER_OF_POINT, CS_FGB_LONG, 0, NULL, "demand_no", NULL, NULL);
    if (cs_out_has_demand_ids(s))
        add_column(t, ID_OF_POINT, CS_FGB_STRING, 0, NULL, "demand_id", NULL, NULL);
    add_column(t, AREA_ID, CS_FGB_STRING, 0, NULL, "area_id", NULL, NULL);
    add_column(t, AREA_NAME, CS_FGB_STRING, 0, NULL, "area_name", NULL, NULL);
    for (size_t b = 0; b < r->B; b++) {
        size_t at[4] = {0, 0, 0, b};
        cs_out_safe_name(s->settings.band_names[b], band, sizeof band);
        add_column(t, RESIDENTS, CS_FGB_DOUBLE, 3, at, "pop_%s", band, NULL);
    }
    for (size_t k = 0; k < r->K; k++)
        for (size_t m = 0; m < CS_MEASURES; m++)
            if (r->dist_m[cs_res_field(r, m, k)])
                kind_columns(t, m, k);
    for (size_t k = 0; r->access && k < r->K; k++)
        if (r->access[k]) {
            size_t at[4] = {0, k, 0, 0};
            cs_out_safe_name(s->settings.kinds[k].id, id, sizeof id);
            add_column(t, ACCESS, CS_FGB_DOUBLE, 4, at, "%s_access", id, NULL);
        }
}

static void table_free(demand_table *t)
{
    cs_free(t->cols);
    cs_free(t->fgb);
    cs_free(t->demand_ids);
    cs_free(t->area_ids);
    cs_free(t->area_names);
    cs_free(t->facility_ids);
    for (size_t i = 0; i < 4; i++)
        cs_free(t->text_blocks[i]);
}

/* The texts the columns show, each once (points share their area's and facility's). */
static bool table_texts(demand_table *t)
{
    const cs_study *s = t->r->study;
    if (cs_out_has_demand_ids(s) &&
        !(t->demand_ids = cs_fgb_strings(s->dem.id, s->dem.count, &t->text_blocks[0])))
        return false;
    t->area_ids = cs_fgb_strings(s->areas.id, s->areas.count, &t->text_blocks[1]);
    t->area_names = cs_fgb_strings(s->areas.name, s->areas.count, &t->text_blocks[2]);
    t->facility_ids = cs_fgb_strings(s->fac.id, s->fac.count, &t->text_blocks[3]);
    return t->area_ids && t->area_names && t->facility_ids;
}

static cs_status table_init(demand_table *t, const cs_result *r, const double *lon,
                            const double *lat, int threads)
{
    const cs_study *s = r->study;
    size_t most = 4 + r->B + r->K;
    for (size_t k = 0; k < r->K; k++)
        most += CS_MEASURES * (3 + s->settings.kinds[k].threshold_count);
    *t = (demand_table){.r = r, .lon = lon, .lat = lat, .threads = threads};
    t->cols = cs_calloc(most, sizeof *t->cols);
    t->fgb = cs_calloc(most, sizeof *t->fgb);
    if (!t->cols || !t->fgb || !table_texts(t)) {
        table_free(t);
        return CS_ERR_NOMEM;
    }
    demand_columns(t);
    return CS_OK;
}

/* ---------------------------------------------------------------- values */

/* Rows are written in blocks: each column's values of a block are gathered first, one
 * column at a time. The points come in the index's order, scattered over the arrays;
 * a loop that reads one array lets the processor fetch many points at once, where
 * reading every column of one point before the next waits on each (three times
 * slower at two million points). The costs and nearest facilities, which several
 * columns show, are gathered once a block (block_costs). */
#define BLOCK 8192

typedef cs_fgb_value cell; /* a number (NaN = null) or a text (NULL = null) */

/* A block's cost in metres (NaN out of reach) and nearest facility for each kind and
 * measure (by cs_res_field), in the block's order. */
typedef struct block_costs {
    double *metres;
    long *nearest;
} block_costs;

static void gather_costs(const cs_result *r, size_t f, const size_t *rows, size_t n,
                         block_costs *b)
{
    const double *dist = r->dist_m[f];
    const long *near = r->nearest[f];
    double *metres = b->metres + f * BLOCK;
    long *nearest = b->nearest + f * BLOCK;
    for (size_t q = 0; q < n; q++) {
        size_t i = rows[q];
        nearest[q] = near[i];
        metres[q] = near[i] >= 0 && isfinite(dist[i]) ? dist[i] : NAN;
    }
}

/* Column c of the points rows[0..n) into out: a loop per kind of column, so that each
 * runs without a branch on what it gathers and the processor fetches many points at
 * once. */
static void gather(const demand_table *t, const column *c, const size_t *rows, size_t n,
                   const block_costs *b, cell *out)
{
    const cs_result *r = t->r;
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[c->k];
    size_t f = cs_res_field(r, c->m, c->k), B = r->B;
    const double *metres = b->metres + f * BLOCK;
    const long *nearest = b->nearest + f * BLOCK;
    const double *pop = s->dem.pop + c->b, *access = r->access ? r->access[c->k] : NULL;
    const long *area = s->dem.area;
    double m_per_min = kind->walk_speed_kmh * 1000.0 / 60.0, threshold = kind->threshold_m[c->j];
    switch (c->what) {
    case NUMBER_OF_POINT:
        for (size_t q = 0; q < n; q++)
            out[q].number = (double)(rows[q] + 1);
        break;
    case ID_OF_POINT:
        for (size_t q = 0; q < n; q++)
            out[q].text = t->demand_ids[rows[q]];
        break;
    case AREA_ID:
        for (size_t q = 0; q < n; q++)
            out[q].text = t->area_ids[area[rows[q]]];
        break;
    case AREA_NAME:
        for (size_t q = 0; q < n; q++)
            out[q].text = t->area_names[area[rows[q]]];
        break;
    case RESIDENTS:
        for (size_t q = 0; q < n; q++)
            out[q].number = pop[rows[q] * B];
        break;
    case NEAREST:
        for (size_t q = 0; q < n; q++)
            out[q].text = isnan(metres[q]) ? NULL : t->facility_ids[nearest[q]];
        break;
    case MINUTES:
        for (size_t q = 0; q < n; q++)
            out[q].number = metres[q] / m_per_min;
        break;
    case METRES:
        for (size_t q = 0; q < n; q++)
            out[q].number = metres[q];
        break;
    case WITHIN: /* NaN (out of reach) is not within any threshold */
        for (size_t q = 0; q < n; q++)
            out[q].number = metres[q] <= threshold;
        break;
    case ACCESS:
        for (size_t q = 0; q < n; q++)
            out[q].number = access[rows[q]];
        break;
    }
    /* numbers as the CSV shows them: rounded to the column's decimals */
    if (c->type != CS_FGB_DOUBLE)
        return;
    double scale = pow(10, c->decimals);
    for (size_t q = 0; q < n; q++)
        if (isfinite(out[q].number))
            out[q].number = round(out[q].number * scale) / scale;
}

/* The threads to gather a block with: those given, or as many as *threads_now says. */
static int team_now(const demand_table *t)
{
    return cs_team_size(t->threads_now ? atomic_load(t->threads_now) : t->threads);
}

/* The blocks of rows[0..n): calls emit for each with the gathered columns
 * (cells[c * BLOCK + q]). */
static cs_status each_block(const demand_table *t, const size_t *rows, size_t n,
                            void (*emit)(const demand_table *, const size_t *, size_t,
                                         const cell *, int, void *),
                            void *arg)
{
    const cs_result *r = t->r;
    size_t fields = r->K * CS_MEASURES;
    cell *cells = cs_calloc(t->count * BLOCK + 1, sizeof *cells);
    block_costs b = {cs_calloc(fields * BLOCK + 1, sizeof *b.metres),
                     cs_calloc(fields * BLOCK + 1, sizeof *b.nearest)};
    if (!cells || !b.metres || !b.nearest) {
        cs_free(cells);
        cs_free(b.metres);
        cs_free(b.nearest);
        return CS_ERR_NOMEM;
    }
    for (size_t at = 0; at < n; at += BLOCK) {
        size_t len = n - at < BLOCK ? n - at : BLOCK;
        int nt = team_now(t);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
        {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (size_t f = 0; f < fields; f++)
                if (r->dist_m[f])
                    gather_costs(r, f, rows + at, len, &b);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (size_t c = 0; c < t->count; c++)
                gather(t, &t->cols[c], rows + at, len, &b, cells + c * BLOCK);
        }
        emit(t, rows + at, len, cells, nt, arg);
    }
    cs_free(cells);
    cs_free(b.metres);
    cs_free(b.nearest);
    return CS_OK;
}

/* -------------------------------------------------------------- the forms */

static void emit_fgb(const demand_table *t, const size_t *rows, size_t n, const cell *cells,
                     int threads, void *arg)
{
    (void)t;
    cs_fgb_set_threads(arg, threads);
    cs_fgb_features(arg, rows, n, cells, BLOCK);
}

cs_status cs_out_demand_fgb(const cs_result *r, const double *lon, const double *lat,
                            const atomic_int *threads_now, cs_fgb_sink sink, void *user)
{
    demand_table t;
    if (table_init(&t, r, lon, lat, atomic_load(threads_now)) != CS_OK)
        return CS_ERR_NOMEM;
    t.threads_now = threads_now;
    size_t n = r->study->dem.count;
    cs_fgb *w = cs_fgb_begin(sink, user, "demand", t.fgb, t.count, t.lon, t.lat, n,
                             team_now(&t));
    cs_status st = w ? each_block(&t, cs_fgb_order(w), n, emit_fgb, w) : CS_ERR_NOMEM;
    if (w) { /* the index needs the points: before they are freed */
        cs_status end = cs_fgb_end(w);
        if (st == CS_OK)
            st = end;
    }
    table_free(&t);
    return st;
}

static void emit_csv(const demand_table *t, const size_t *rows, size_t n, const cell *cells,
                     int threads, void *arg)
{
    (void)threads;
    cs_buf *out = arg;
    for (size_t q = 0; q < n; q++) {
        cs_buf_add_fixed(out, t->lon[rows[q]], CS_COORD_DECIMALS);
        cs_buf_addc(out, ',');
        cs_buf_add_fixed(out, t->lat[rows[q]], CS_COORD_DECIMALS);
        for (size_t ci = 0; ci < t->count; ci++) {
            const cell *v = &cells[ci * BLOCK + q];
            cs_buf_addc(out, ',');
            switch (t->cols[ci].type) {
            case CS_FGB_STRING:
                if (v->text)
                    cs_out_csv_text(out, v->text);
                break;
            case CS_FGB_BOOL: cs_buf_add(out, v->number != 0 ? "true" : "false"); break;
            default: cs_buf_add_fixed(out, v->number, t->cols[ci].decimals); break;
            }
        }
        cs_buf_add(out, "\r\n");
    }
}

cs_status cs_out_demand_layer_csv(const cs_result *r, const double *lon, const double *lat,
                                  int threads, cs_buf *out)
{
    demand_table t;
    if (table_init(&t, r, lon, lat, threads) != CS_OK)
        return CS_ERR_NOMEM;
    size_t n = r->study->dem.count;
    size_t *rows = cs_calloc(n + 1, sizeof *rows);
    cs_status st = rows ? CS_OK : CS_ERR_NOMEM;
    for (size_t i = 0; rows && i < n; i++)
        rows[i] = i;
    cs_buf_add(out, "\xEF\xBB\xBF"); /* UTF-8 BOM, for Excel */
    cs_buf_add(out, "lon,lat");
    for (size_t c = 0; c < t.count; c++)
        cs_buf_printf(out, ",%s", t.cols[c].name);
    cs_buf_add(out, "\r\n");
    if (st == CS_OK)
        st = each_block(&t, rows, n, emit_csv, out);
    cs_free(rows);
    table_free(&t);
    return st != CS_OK || out->failed ? CS_ERR_NOMEM : CS_OK;
}
