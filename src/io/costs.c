/*
 * costs.c — a cost matrix from another router (costs.*): a table of demand point id,
 * facility or candidate id and cost, joined to the study's demand points
 * (population.id) and facilities by id, and kept by facility or candidate (compressed
 * rows) with each row's demand points in order and each pair once.
 */
#include "io/csv.h"
#include "io/load.h"

#include <math.h>
#include <string.h>

static const char *const from_candidates[] = {"from", "origin", NULL};
static const char *const to_candidates[] = {"to", "destination", NULL};
static const char *const cost_candidates[] = {"cost", NULL};

/* The pairs as read: row (facility or candidate), demand point, cost. */
typedef struct triples {
    size_t n, cap;
    uint32_t *row, *pt;
    double *cost;
} triples;

static bool add_triple(triples *t, uint32_t row, uint32_t pt, double cost)
{
    size_t old = t->cap;
    if (!cs_grow((void **)&t->row, &t->cap, t->n + 1, sizeof *t->row))
        return false;
    if (t->cap != old) {
        uint32_t *p = cs_reallocarray(t->pt, t->cap, sizeof *p);
        if (p)
            t->pt = p;
        double *c = p ? cs_reallocarray(t->cost, t->cap, sizeof *c) : NULL;
        if (!c)
            return false;
        t->cost = c;
    }
    t->row[t->n] = row;
    t->pt[t->n] = pt;
    t->cost[t->n++] = cost;
    return true;
}

static void triples_free(triples *t)
{
    cs_free(t->row);
    cs_free(t->pt);
    cs_free(t->cost);
}

void cs_cost_matrix_free(cs_cost_matrix *m)
{
    for (size_t r = 0; m->id && r < m->rows; r++)
        cs_free(m->id[r]);
    cs_free(m->id);
    cs_idmap_free(&m->ids);
    cs_free(m->start);
    cs_free(m->end);
    cs_free(m->pt);
    cs_free(m->cost);
    memset(m, 0, sizeof *m);
}

/* What reading the table needs. */
typedef struct reader reader;
/* What becomes of a pair read: kept (the load), counted (a load leaving the pairs for
 * careshed shard) or handed on (cs_study_each_cost_pair). */
typedef cs_status (*pair_sink)(reader *rd, uint32_t row, uint32_t pt, double cost);
struct reader {
    cs_context *ctx;
    const cs_config *cfg;
    const cs_study *s;
    cs_cost_matrix *m;      /* rows added to it; NULL when reading again (rows known) */
    pair_sink sink;
    cs_layer *layer;
    int field[3];           /* from, to, cost: their indices */
    const char *names[3];   /* and names */
    cs_idmap demand;        /* demand ids -> points (>= demand_count: left out) */
    size_t id_cap;
    size_t bad_rows;        /* rows with errors: only the first few are recorded */
    size_t outside;         /* pairs naming points left out of the study */
    char last_to[64];       /* the last "to" id (when short) and its row: a router's */
    long last_row;          /* rows usually come grouped by site */
    triples t;              /* kept pairs (t.n: also those counted or handed on) */
    unsigned char *listed;  /* counted: facility f has a pair */
    cs_pair_fn fn;          /* handed on: to fn(user, ...) */
    void *user;
};

/* The row of a "to" id: a facility's, or a new candidate row. -1: out of memory. */
static long row_of(reader *rd, const char *id)
{
    if (!rd->m) /* reading again: a row not read before is nobody's (the file changed) */
        return cs_idmap_get(&rd->s->costs.ids, id);
    cs_cost_matrix *m = rd->m;
    long row = cs_idmap_get(&m->ids, id);
    if (row >= 0)
        return row;
    size_t old = rd->id_cap;
    if (!cs_grow((void **)&m->id, &rd->id_cap, m->rows + 1, sizeof *m->id))
        return -1;
    for (size_t r = old; r < rd->id_cap; r++) /* facilities' rows keep fac_id */
        m->id[r] = NULL;
    char *copy = cs_strdup(id);
    if (!copy)
        return -1;
    m->id[m->rows] = copy;
    if (cs_idmap_put(&m->ids, copy, (long)m->rows) == -2) {
        cs_free(copy);
        return -1;
    }
    return (long)m->rows++;
}

/* An error about field `field` (0 from, 1 to, 2 cost) of the row at `where`. */
static cs_status row_error(reader *rd, const cs_where *where, int field, const char *id,
                           const char *hint, const char *what, const char *text)
{
    /* a matrix made for another population can have millions of bad rows: the messages
     * beyond the first few are only counted (a summary line follows) */
    if (rd->bad_rows++ >= CS_MESSAGES_PER_LAYER)
        return CS_ERR_INPUT;
    cs_where w = *where;
    w.feature_id = id;
    w.field = rd->names[field];
    return cs_error(rd->ctx, CS_ERR_INPUT, &w, hint, what, text);
}

/* One row: demand id, facility or candidate id, cost (texts). */
static cs_status add_pair(reader *rd, const char *const *text, const cs_where *where)
{
    const cs_study *s = rd->s;
    const char *from = text[0], *to = text[1], *cost_text = text[2];
    static const char empty_hint[] = "every row needs a demand id, a facility or candidate id "
                                     "and a cost";
    if (!*from)
        return row_error(rd, where, 0, NULL, empty_hint, "empty %s", rd->names[0]);
    long pt = cs_idmap_get(&rd->demand, from);
    char shown[CS_ID_SHOWN + 4];
    if (pt < 0)
        return row_error(rd, where, 0, from, "the demand ids must be those of the population "
                         "layer (population.id): check that the matrix was made from the same "
                         "population", "no demand point has id '%s'", cs_id_shown(from, shown));
    double cost;
    if (!*cost_text)
        return row_error(rd, where, 2, from, "leave out pairs that cannot be reached",
                         "no cost given%s", "");
    if (!cs_parse_double(cost_text, &cost))
        return row_error(rd, where, 2, from, "write the cost as a plain number",
                         "'%.60s' is not a number", cost_text);
    if (cost < 0)
        return row_error(rd, where, 2, from, "costs cannot be negative", "negative cost %s",
                         cost_text);
    cost += 0.0; /* "-0" is 0: a repeated pair's copies then differ in value only */
    if (!*to)
        return row_error(rd, where, 1, from, empty_hint, "empty %s", rd->names[1]);
    if ((size_t)pt >= s->dem.count) {
        rd->outside++;
        return CS_OK;
    }
    if (strcmp(rd->last_to, to) != 0) {
        rd->last_row = row_of(rd, to);
        bool fits = strlen(to) < sizeof rd->last_to;
        memcpy(rd->last_to, fits ? to : "", fits ? strlen(to) + 1 : 1);
        if (rd->last_row < 0 && rd->m)
            return cs_nomem(rd->ctx);
    }
    return rd->last_row < 0 ? CS_OK : rd->sink(rd, (uint32_t)rd->last_row, (uint32_t)pt, cost);
}

static cs_status keep_pair(reader *rd, uint32_t row, uint32_t pt, double cost)
{
    return add_triple(&rd->t, row, pt, cost) ? CS_OK : cs_nomem(rd->ctx);
}

static cs_status count_pair(reader *rd, uint32_t row, uint32_t pt, double cost)
{
    (void)pt;
    (void)cost;
    rd->t.n++;
    if (row < rd->s->fac.count)
        rd->listed[row] = 1;
    return CS_OK;
}

static cs_status hand_pair(reader *rd, uint32_t row, uint32_t pt, double cost)
{
    rd->t.n++;
    return rd->fn(rd->user, row, pt, cost);
}

/* Through GDAL: any table it reads. */
static cs_status read_layer(reader *rd, size_t *rows)
{
    cs_status st = CS_OK;
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(rd->layer, &number)) {
        const char *text[3];
        char *copy[3];
        for (int i = 0; i < 3; i++) { /* each text lives until the next call */
            copy[i] = cs_strdup(cs_layer_text(rd->layer, rd->field[i]));
            text[i] = copy[i] ? cs_csv_trim(copy[i]) : NULL;
        }
        cs_where where = cs_layer_where(rd->layer, NULL, NULL);
        cs_status rst = copy[0] && copy[1] && copy[2] ? add_pair(rd, text, &where)
                                                      : cs_nomem(rd->ctx);
        for (int i = 0; i < 3; i++)
            cs_free(copy[i]);
        (*rows)++;
        if (st == CS_OK || rst == CS_ERR_NOMEM)
            st = rst == CS_OK ? st : rst;
    }
    return st;
}

typedef struct csv_rows {
    reader *rd;
    const char *file;
    size_t rows;
} csv_rows;

static cs_status csv_row(void *data, const char *const *fields, long line)
{
    csv_rows *cr = data;
    cs_where where = {.file = cr->file, .line = line};
    cr->rows++;
    return add_pair(cr->rd, fields, &where);
}

/* A plain CSV straight from the file (GDAL has found the fields): several times faster
 * than a GDAL feature per row. *done is false when the file is not plain enough. */
static cs_status read_plain_csv(reader *rd, const char *path, const char *display,
                                size_t *rows, bool *done)
{
    *done = false;
    if (!cs_layer_is_plain_csv(rd->layer))
        return CS_OK;
    csv_rows cr = {rd, display, 0};
    cs_status st = cs_csv_read(rd->ctx, path, display, rd->names, 3, csv_row, &cr, done);
    *rows = cr.rows;
    return st;
}

/* Every demand id into the reader's map. */
static cs_status index_demand(reader *rd)
{
    const cs_study *s = rd->s;
    for (size_t i = 0; i < s->dem.id_count; i++) {
        long had = s->dem.id[i] ? cs_idmap_put(&rd->demand, s->dem.id[i], (long)i) : -1;
        if (had == -2)
            return cs_nomem(rd->ctx);
        if (had >= 0) {
            cs_where w = {.file = rd->cfg->population.path, .field = rd->cfg->population.id_field};
            return cs_error(rd->ctx, CS_ERR_INPUT, &w, "the matrix can only name demand "
                            "points whose ids are unique", "demand id '%s' is used twice",
                            s->dem.id[i]);
        }
    }
    return CS_OK;
}

/* Every demand id and facility id into the maps; facilities are rows 0 .. F - 1. */
static cs_status index_ids(reader *rd)
{
    cs_status st = index_demand(rd);
    for (size_t f = 0; st == CS_OK && f < rd->s->fac.count; f++)
        if (cs_idmap_put(&rd->m->ids, rd->s->fac.id[f], (long)f) == -2)
            st = cs_nomem(rd->ctx);
    rd->m->rows = rd->s->fac.count;
    return st;
}

/* One stable counting sort pass of order[] by key[order[q]] < buckets. */
static bool sort_pass(size_t *order, size_t n, const uint32_t *key, size_t buckets)
{
    size_t *count = cs_calloc(buckets + 1, sizeof *count);
    size_t *out = cs_calloc(n + 1, sizeof *out);
    if (!count || !out) {
        cs_free(count);
        cs_free(out);
        return false;
    }
    for (size_t q = 0; q < n; q++)
        count[key[order[q]] + 1]++;
    for (size_t b = 0; b < buckets; b++)
        count[b + 1] += count[b];
    for (size_t q = 0; q < n; q++)
        out[count[key[order[q]]]++] = order[q];
    memcpy(order, out, n * sizeof *order);
    cs_free(count);
    cs_free(out);
    return true;
}

/* The pairs by row, each row's points in order, a repeated pair kept at its cheapest. */
static cs_status build_rows(reader *rd)
{
    cs_cost_matrix *m = rd->m;
    const triples *t = &rd->t;
    size_t *order = cs_calloc(t->n + 1, sizeof *order);
    m->start = cs_calloc(m->rows + 1, sizeof *m->start);
    m->end = cs_calloc(m->rows + 1, sizeof *m->end);
    m->pt = cs_calloc(t->n + 1, sizeof *m->pt);
    m->cost = cs_calloc(t->n + 1, sizeof *m->cost);
    if (!order || !m->start || !m->end || !m->pt || !m->cost) {
        cs_free(order);
        return cs_nomem(rd->ctx);
    }
    for (size_t q = 0; q < t->n; q++)
        order[q] = q;
    /* by point, then (stably) by row: radix order without comparisons */
    if (!sort_pass(order, t->n, t->pt, rd->s->dem.count) ||
        !sort_pass(order, t->n, t->row, m->rows)) {
        cs_free(order);
        return cs_nomem(rd->ctx);
    }
    size_t n = 0;
    for (size_t q = 0; q < t->n; q++) {
        size_t i = order[q];
        bool repeat = q > 0 && t->row[order[q - 1]] == t->row[i] && m->pt[n - 1] == t->pt[i];
        if (repeat) {
            m->pairs_repeated++;
            if (t->cost[i] < m->cost[n - 1])
                m->cost[n - 1] = t->cost[i];
            continue;
        }
        m->pt[n] = t->pt[i];
        m->cost[n] = t->cost[i];
        m->end[t->row[i]] = ++n;
    }
    for (size_t r = 0; r < m->rows; r++) { /* empty rows start where the last one ended */
        m->start[r] = r ? m->end[r - 1] : 0;
        if (m->end[r] < m->start[r])
            m->end[r] = m->start[r];
    }
    m->pairs = n;
    cs_free(order);
    return CS_OK;
}

/* Facilities of kinds measured by the matrix that it gives no pairs: they reach no one;
 * and a matrix no kind is measured by. */
static void warn_missing_rows(cs_context *ctx, const cs_study *s, const unsigned char *listed,
                              const char *file)
{
    bool used = false;
    for (size_t k = 0; k < s->settings.kind_count; k++)
        used = used || (s->settings.kinds[k].measures & CS_MEASURE_MATRIX);
    cs_where unused = {.file = file};
    if (!used)
        cs_warn(ctx, &unused, "add matrix to the study's or a kind's measure, e.g. measure: "
                "straight, matrix", "no kind is measured by the cost matrix: it is left unused");
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        if (!(s->settings.kinds[k].measures & CS_MEASURE_MATRIX))
            continue;
        size_t missing = 0, total = 0;
        const char *example = NULL;
        for (size_t f = 0; f < s->fac.count; f++) {
            if (s->fac.kind[f] != (long)k)
                continue;
            total++;
            if (!(listed ? listed[f] : s->costs.end[f] > s->costs.start[f]) && missing++ == 0)
                example = s->fac.id[f];
        }
        cs_where w = {.file = file};
        if (missing > 0)
            cs_warn(ctx, &w, "add their rows, or check the to column holds facility ids",
                    "%zu of the %zu facilities of kind %s (e.g. %s) have no row in the cost "
                    "matrix: by it they reach no one",
                    missing, total, s->settings.kinds[k].id, example);
    }
}

/* Open the table and find its three fields. */
static cs_status open_table(reader *rd, cs_raw_layer *raw)
{
    const cs_costs_config *cc = &rd->cfg->costs;
    cs_status st = cs_load_open_layer(rd->ctx, rd->cfg, &cc->layer, "costs", false, raw,
                                      &rd->layer);
    if (st != CS_OK)
        return st;
    const char *configured[3] = {cc->from_field, cc->to_field, cc->cost_field};
    const char *const *candidates[3] = {from_candidates, to_candidates, cost_candidates};
    static const char *const keys[3] = {"from", "to", "cost"};
    for (int i = 0; i < 3; i++) {
        rd->field[i] = cs_layer_find_field(rd->ctx, rd->layer, configured[i], candidates[i],
                                           keys[i], true);
        rd->names[i] = rd->field[i] >= 0 ? cs_layer_field_name(rd->layer, rd->field[i]) : keys[i];
        if (rd->field[i] < 0)
            st = CS_ERR_INPUT;
    }
    cs_layer_keep_fields(rd->layer, rd->field, 3);
    return st;
}

/* Every row of the table, through rd->sink; *rows counts them. */
static cs_status read_table(reader *rd, const cs_raw_layer *raw, size_t *rows)
{
    const cs_costs_config *cc = &rd->cfg->costs;
    char *path = cs_config_resolve_path(rd->cfg, cc->layer.path);
    bool done = false;
    cs_status st = path ? CS_OK : cs_nomem(rd->ctx);
    if (st == CS_OK && !cc->layer.layer && !cc->layer.encoding)
        st = read_plain_csv(rd, path, raw->display, rows, &done);
    if (st == CS_OK && !done)
        st = read_layer(rd, rows);
    cs_free(path);
    return st;
}

static void reader_free(reader *rd)
{
    triples_free(&rd->t);
    cs_free(rd->listed);
    cs_idmap_free(&rd->demand);
    cs_layer_close(rd->layer);
}

cs_status cs_load_costs(cs_context *ctx, const cs_config *cfg, cs_study *s, cs_raw_layer *raw)
{
    const cs_costs_config *cc = &cfg->costs;
    if (!cc->layer.path)
        return CS_OK;
    if (!s->dem.id || strcmp(s->dem.source, "points") != 0) {
        cs_where w = {.file = cfg->file, .line = cc->layer.path_line, .field = "costs.path"};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give the population as points with ids "
                        "(population.id), as the router that made the matrix had them",
                        "a cost matrix names demand points by id, but the population is "
                        "given as %s", s->dem.source);
    }
    if (!isnan(s->dem.year)) {
        cs_where w = {.file = cfg->file, .line = cc->layer.path_line, .field = "costs.path"};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give the population of one year with a cost "
                        "matrix", "a cost matrix joins one year's demand points by id, but "
                        "population.year gives several years");
    }
    /* careshed shard reads the pairs as it cuts (cs_study_each_cost_pair): here they are
     * only checked and counted */
    bool defer = cfg->stream_inputs;
    reader rd = {.ctx = ctx, .cfg = cfg, .s = s, .m = &s->costs,
                 .sink = defer ? count_pair : keep_pair};
    s->has_costs = true;
    s->costs.in_m = cc->in_m;
    s->costs.deferred = defer;
    if (defer && !(rd.listed = cs_calloc(s->fac.count + 1, 1)))
        return cs_nomem(ctx);
    size_t first_message = cs_context_message_count(ctx);
    cs_status st = open_table(&rd, raw);
    if (st == CS_OK)
        st = index_ids(&rd);
    size_t rows_read = 0;
    if (st == CS_OK)
        st = read_table(&rd, raw, &rows_read);
    raw->input.features = rows_read;
    s->costs.pairs_outside = rd.outside;
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, raw->display);
    if (rd.bad_rows > CS_MESSAGES_PER_LAYER) {
        cs_where w = {.file = raw->display};
        cs_error(ctx, CS_ERR_INPUT, &w, "fix the rows above first; the others are likely alike",
                 "and %zu more rows with errors", rd.bad_rows - CS_MESSAGES_PER_LAYER);
    }
    if (st == CS_OK && rd.t.n == 0 && cfg->shard_part == 0) {
        cs_where w = {.file = raw->display};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check that the matrix belongs to this study",
                      "no row of the cost matrix names a demand point inside the study area");
    }
    if (st == CS_OK && !defer)
        st = build_rows(&rd);
    if (defer) /* what cs_study_each_cost_pair must find again */
        s->costs.pairs = rd.t.n;
    if (st == CS_OK && defer) { /* every row empty, should anything look */
        s->costs.start = cs_calloc(s->costs.rows + 1, sizeof *s->costs.start);
        s->costs.end = cs_calloc(s->costs.rows + 1, sizeof *s->costs.end);
        if (!s->costs.start || !s->costs.end)
            st = cs_nomem(ctx);
    }
    if (st == CS_OK)
        warn_missing_rows(ctx, s, rd.listed, raw->display);
    reader_free(&rd);
    return st;
}

cs_status cs_study_each_cost_pair(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                  cs_pair_fn fn, void *user)
{
    if (!ctx || !cfg || !s || !fn || !s->costs.deferred)
        return CS_ERR_ARGUMENT;
    reader rd = {.ctx = ctx, .cfg = cfg, .s = s, .sink = hand_pair, .fn = fn, .user = user};
    cs_raw_layer raw = {0};
    size_t rows = 0;
    cs_status st = open_table(&rd, &raw);
    if (st == CS_OK)
        st = index_demand(&rd);
    if (st == CS_OK)
        st = read_table(&rd, &raw, &rows);
    if (st == CS_OK && rd.bad_rows > 0) /* the table changed since the study was loaded */
        st = CS_ERR_INPUT;
    if (st == CS_OK && rd.t.n != s->costs.pairs) {
        cs_where w = {.file = raw.display};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again",
                      "the cost matrix changed while the study was cut: %zu pairs inside the "
                      "study now, %zu when it was loaded", rd.t.n, s->costs.pairs);
    }
    reader_free(&rd);
    cs_raw_layer_free(&raw);
    return st;
}

cs_status cs_study_cost_matrix(const cs_study *s, cs_matrix_report *out)
{
    if (!s || !out || !s->has_costs || s->costs.deferred)
        return CS_ERR_ARGUMENT;
    const cs_cost_matrix *m = &s->costs;
    *out = (cs_matrix_report){m->in_m, m->pairs, m->pairs_outside, m->pairs_repeated, 0,
                              m->rows - s->fac.count};
    for (size_t f = 0; f < s->fac.count; f++)
        out->facilities_with_pairs += m->end[f] > m->start[f];
    return CS_OK;
}

long cs_cost_matrix_row(const cs_study *s, const char *id)
{
    return s->has_costs && id ? cs_idmap_get(&s->costs.ids, id) : -1;
}
