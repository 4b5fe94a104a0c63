/*
 * costs.c — a cost matrix from another router (costs.*): a table of demand point id,
 * facility or candidate id and cost, joined to the study's demand points
 * (population.id) and facilities by id, and kept by facility or candidate (compressed
 * rows) with each row's demand points in order and each pair once.
 */
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
    cs_free(m->first);
    cs_free(m->pt);
    cs_free(m->cost);
    memset(m, 0, sizeof *m);
}

/* What reading the table needs. */
typedef struct reader {
    cs_context *ctx;
    const cs_config *cfg;
    cs_study *s;
    cs_layer *layer;
    int from, to, cost;     /* field indices */
    cs_idmap demand;        /* demand ids -> points (>= demand_count: left out) */
    size_t id_cap;
    triples t;
} reader;

/* The row of a "to" id: a facility's, or a new candidate row. -1: out of memory. */
static long row_of(reader *rd, const char *id)
{
    cs_cost_matrix *m = &rd->s->costs;
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

static cs_status text_field(reader *rd, int field, const char *id, const char **out)
{
    *out = cs_layer_text(rd->layer, field);
    if (**out)
        return CS_OK;
    cs_where w = cs_layer_where(rd->layer, id, cs_layer_field_name(rd->layer, field));
    return cs_error(rd->ctx, CS_ERR_INPUT, &w, "every row needs a demand id, a facility or "
                    "candidate id and a cost", "empty %s", cs_layer_field_name(rd->layer, field));
}

static cs_status read_row(reader *rd)
{
    cs_study *s = rd->s;
    const char *from, *to;
    cs_status st = text_field(rd, rd->from, NULL, &from);
    if (st != CS_OK)
        return st;
    long pt = cs_idmap_get(&rd->demand, from);
    if (pt < 0) {
        cs_where w = cs_layer_where(rd->layer, from, cs_layer_field_name(rd->layer, rd->from));
        return cs_error(rd->ctx, CS_ERR_INPUT, &w, "the demand ids must be those of the "
                        "population layer (population.id): check that the matrix was made "
                        "from the same population", "no demand point has id '%s'", from);
    }
    double cost;
    st = cs_layer_number(rd->ctx, rd->layer, rd->cost, from, NAN, false, &cost);
    if (st == CS_OK && isnan(cost)) {
        cs_where w = cs_layer_where(rd->layer, from, cs_layer_field_name(rd->layer, rd->cost));
        st = cs_error(rd->ctx, CS_ERR_INPUT, &w, "leave out pairs that cannot be reached",
                      "no cost given");
    }
    if (st == CS_OK)
        st = text_field(rd, rd->to, from, &to);
    if (st != CS_OK)
        return st;
    if ((size_t)pt >= s->demand_count) {
        s->costs.pairs_outside++;
        return CS_OK;
    }
    long row = row_of(rd, to);
    if (row < 0 || !add_triple(&rd->t, (uint32_t)row, (uint32_t)pt, cost))
        return cs_nomem(rd->ctx);
    return CS_OK;
}

/* Every demand id and facility id into the maps; facilities are rows 0 .. F - 1. */
static cs_status index_ids(reader *rd)
{
    cs_study *s = rd->s;
    for (size_t i = 0; i < s->dem_id_count; i++) {
        long had = s->dem_id[i] ? cs_idmap_put(&rd->demand, s->dem_id[i], (long)i) : -1;
        if (had == -2)
            return cs_nomem(rd->ctx);
        if (had >= 0) {
            cs_where w = {.file = rd->cfg->population.path, .field = rd->cfg->population.id_field};
            return cs_error(rd->ctx, CS_ERR_INPUT, &w, "the matrix can only name demand "
                            "points whose ids are unique", "demand id '%s' is used twice",
                            s->dem_id[i]);
        }
    }
    for (size_t f = 0; f < s->facility_count; f++)
        if (cs_idmap_put(&s->costs.ids, s->fac_id[f], (long)f) == -2)
            return cs_nomem(rd->ctx);
    s->costs.rows = s->facility_count;
    return CS_OK;
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
    cs_cost_matrix *m = &rd->s->costs;
    const triples *t = &rd->t;
    size_t *order = cs_calloc(t->n + 1, sizeof *order);
    m->first = cs_calloc(m->rows + 1, sizeof *m->first);
    m->pt = cs_calloc(t->n + 1, sizeof *m->pt);
    m->cost = cs_calloc(t->n + 1, sizeof *m->cost);
    if (!order || !m->first || !m->pt || !m->cost) {
        cs_free(order);
        return cs_nomem(rd->ctx);
    }
    for (size_t q = 0; q < t->n; q++)
        order[q] = q;
    /* by point, then (stably) by row: radix order without comparisons */
    if (!sort_pass(order, t->n, t->pt, rd->s->demand_count) ||
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
        m->first[t->row[i] + 1] = ++n;
    }
    for (size_t r = 0; r < m->rows; r++) /* empty rows start where the last one ended */
        if (m->first[r + 1] < m->first[r])
            m->first[r + 1] = m->first[r];
    m->pairs = n;
    cs_free(order);
    return CS_OK;
}

/* Facilities of kinds measured by the matrix that it gives no pairs: they reach no one;
 * and a matrix no kind is measured by. */
static void warn_missing_rows(cs_context *ctx, const cs_study *s, const char *file)
{
    bool used = false;
    for (size_t k = 0; k < s->kind_count; k++)
        used = used || (s->kinds[k].measures & CS_MEASURE_MATRIX_BIT);
    cs_where unused = {.file = file};
    if (!used)
        cs_warn(ctx, &unused, "add matrix to the study's or a kind's measure, e.g. measure: "
                "straight, matrix", "no kind is measured by the cost matrix: it is left unused");
    for (size_t k = 0; k < s->kind_count; k++) {
        if (!(s->kinds[k].measures & CS_MEASURE_MATRIX_BIT))
            continue;
        size_t missing = 0, total = 0;
        const char *example = NULL;
        for (size_t f = 0; f < s->facility_count; f++) {
            if (s->fac_kind[f] != (long)k)
                continue;
            total++;
            if (s->costs.first[f + 1] == s->costs.first[f] && missing++ == 0)
                example = s->fac_id[f];
        }
        cs_where w = {.file = file};
        if (missing > 0)
            cs_warn(ctx, &w, "add their rows, or check the to column holds facility ids",
                    "%zu of the %zu facilities of kind %s (e.g. %s) have no row in the cost "
                    "matrix: by it they reach no one", missing, total, s->kinds[k].id, example);
    }
}

cs_status cs_load_costs(cs_context *ctx, const cs_config *cfg, cs_study *s, cs_raw_layer *raw)
{
    const cs_costs_config *cc = &cfg->costs;
    if (!cc->layer.path)
        return CS_OK;
    if (!s->dem_id || strcmp(s->pop_source, "points") != 0) {
        cs_where w = {.file = cfg->file, .line = cc->layer.path_line, .field = "costs.path"};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give the population as points with ids "
                        "(population.id), as the router that made the matrix had them",
                        "a cost matrix names demand points by id, but the population is "
                        "given as %s", s->pop_source);
    }
    reader rd = {.ctx = ctx, .cfg = cfg, .s = s};
    s->has_costs = true;
    s->costs.in_m = cc->in_m;
    cs_status st = cs_load_open_layer(ctx, cfg, &cc->layer, "costs", false, raw, &rd.layer);
    if (st != CS_OK)
        return st;
    size_t first_message = cs_context_message_count(ctx);
    rd.from = cs_layer_find_field(ctx, rd.layer, cc->from_field, from_candidates, "from", true);
    rd.to = cs_layer_find_field(ctx, rd.layer, cc->to_field, to_candidates, "to", true);
    rd.cost = cs_layer_find_field(ctx, rd.layer, cc->cost_field, cost_candidates, "cost", true);
    if (rd.from < 0 || rd.to < 0 || rd.cost < 0)
        st = CS_ERR_INPUT;
    cs_layer_keep_fields(rd.layer, (const int[]){rd.from, rd.to, rd.cost}, 3);
    if (st == CS_OK)
        st = index_ids(&rd);
    long number;
    size_t rows_read = 0;
    while (st != CS_ERR_NOMEM && cs_layer_next(rd.layer, &number)) {
        cs_status rst = read_row(&rd);
        rows_read++;
        if (st == CS_OK || rst == CS_ERR_NOMEM)
            st = rst == CS_OK ? st : rst;
    }
    raw->input.features = rows_read;
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, raw->display);
    if (st == CS_OK && rd.t.n == 0) {
        cs_where w = {.file = raw->display};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check that the matrix belongs to this study",
                      "no row of the cost matrix names a demand point inside the study area");
    }
    if (st == CS_OK)
        st = build_rows(&rd);
    if (st == CS_OK)
        warn_missing_rows(ctx, s, raw->display);
    triples_free(&rd.t);
    cs_idmap_free(&rd.demand);
    cs_layer_close(rd.layer);
    return st;
}

cs_status cs_study_cost_matrix(const cs_study *s, cs_matrix_report *out)
{
    if (!s || !out || !s->has_costs)
        return CS_ERR_ARGUMENT;
    const cs_cost_matrix *m = &s->costs;
    *out = (cs_matrix_report){m->in_m, m->pairs, m->pairs_outside, m->pairs_repeated, 0,
                              m->rows - s->facility_count};
    for (size_t f = 0; f < s->facility_count; f++)
        out->facilities_with_pairs += m->first[f + 1] > m->first[f];
    return CS_OK;
}

long cs_cost_matrix_row(const cs_study *s, const char *id)
{
    return s->has_costs && id ? cs_idmap_get(&s->costs.ids, id) : -1;
}
