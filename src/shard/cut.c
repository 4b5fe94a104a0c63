/*
 * cut.c — careshed shard: a loaded study cut into plain studies of whole areas
 * balanced by residents, each with the facilities and the competing residents it
 * needs, and the manifest careshed merge reads.
 *
 * Areas are ordered along a Hilbert curve through their centres and the order is cut
 * into runs of about equal residents, so that a shard's areas lie together and its
 * halo stays small. A shard holds:
 *   - its own areas, and the rest of its box as one area of other shards (halo);
 *   - its own residents, and as context those within reach of its facilities;
 *   - every facility within its kind's largest threshold of an own resident;
 *   - along the network, the whole graph's edges near all these (shard/network.h), and
 *     as context every resident on an edge its facilities' searches can list.
 * Exactness needs no more: a resident's nearest facility within reach is within the
 * shard (farther ones are found again by the merge), and a facility's step-one sum
 * adds every resident in its reach, in the whole study's order.
 *
 * This file cuts a study loaded whole; a population grid read by strips is cut in
 * cut_grid.c, a cost matrix read as the shards are cut in cut_matrix.c, into the same
 * files.
 */
#include "shard/cut.h"

#include "cost/nearest.h"
#include "geom/hilbert.h"
#include "io/load.h"
#include "out/out.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void cut_members_free(members *m)
{
    cs_free(m->own);
    cs_free(m->ctx);
    cs_free(m->in);
    cs_free(m->fac);
    cs_free(m->pairs);
    cs_net_marks_free(&m->marks);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ the partition */

typedef struct area_key {
    uint32_t h;
    size_t a;
} area_key;

static int by_key(const void *pa, const void *pb)
{
    const area_key *a = pa, *b = pb;
    return a->h != b->h ? (a->h < b->h ? -1 : 1) : (a->a < b->a ? -1 : a->a > b->a);
}

/* Areas along the curve, cut into runs of about equal residents (pop: each area's, at
 * least one area a run). */
cs_status cut_partition(cs_context *ctx, cut *c, const double *pop)
{
    const cs_study *s = c->s;
    size_t A = s->areas.count;
    area_key *key = cs_calloc(A + 1, sizeof *key);
    double all[4], box[4];
    c->shard_of = cs_calloc(A + 1, sizeof *c->shard_of);
    if (!key || !c->shard_of) {
        cs_free(key);
        return cs_nomem(ctx);
    }
    cs_box_of(s->areas.rings.x, s->areas.rings.y, s->areas.rings.vertex_count, all);
    double w = fmax(all[2] - all[0], all[3] - all[1]), total = 0;
    uint16_t table[CS_HILBERT_TABLE];
    cs_hilbert_table(table);
    for (size_t a = 0; a < A; a++) {
        double cx = 0, cy = 0;
        if (cs_geom_bounds(s->geos, s->areas.geom[a], box))
            cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
        double gx = w > 0 ? (cx - all[0]) / w * 65535.0 : 0, gy = w > 0 ? (cy - all[1]) / w * 65535.0 : 0;
        key[a] = (area_key){cs_hilbert(table, (uint32_t)fmin(fmax(gx, 0), 65535),
                                       (uint32_t)fmin(fmax(gy, 0), 65535)),
                            a};
    }
    for (size_t a = 0; a < A; a++)
        total += pop[a];
    qsort(key, A, sizeof *key, by_key);
    double sum = 0;
    size_t i = 0;
    for (size_t p = 0; p < c->parts; p++) {
        size_t left = c->parts - p - 1; /* areas kept for the shards after this one */
        double upto = total * (double)(p + 1) / (double)c->parts;
        do {
            c->shard_of[key[i].a] = (long)p;
            sum += pop[key[i].a];
            i++;
        } while (i < A - left && (p + 1 == c->parts || sum + pop[key[i].a] / 2 <= upto));
    }
    cs_free(key);
    return CS_OK;
}

/* One shard per value of the areas' field `by` (a county code, say), in the order the
 * values first come in the areas. */
cs_status cut_partition_by(cs_context *ctx, cut *c, const char *by)
{
    const cs_study *s = c->s;
    size_t A = s->areas.count;
    char **values = NULL;
    cs_idmap groups = {0};
    cs_status st = cs_load_area_values(ctx, c->cfg, by, s->areas.id, A, &values);
    c->shard_of = st == CS_OK ? cs_calloc(A + 1, sizeof *c->shard_of) : NULL;
    if (st == CS_OK && !c->shard_of)
        st = cs_nomem(ctx);
    c->parts = 0;
    for (size_t a = 0; st == CS_OK && a < A; a++) {
        long g = cs_idmap_get(&groups, values[a]);
        if (g < 0) {
            g = (long)c->parts++;
            if (cs_idmap_put(&groups, values[a], g) < -1)
                st = cs_nomem(ctx);
        }
        c->shard_of[a] = g;
    }
    if (st == CS_OK && c->parts > CS_SHARD_MAX_PARTS) {
        cs_where w = {.field = by};
        st = cs_error(ctx, CS_ERR_STUDY, &w, "shard by a field with fewer values, or use "
                      "--parts", "%zu values of %s: more than %d shards", c->parts, by,
                      CS_SHARD_MAX_PARTS);
    }
    for (size_t a = 0; values && a < A; a++)
        cs_free(values[a]);
    cs_free(values);
    cs_idmap_free(&groups);
    return st;
}

/* ------------------------------------------------------------ the members */

double cut_network_pad(const cs_study *s)
{
    double reach = 0;
    for (size_t k = 0; k < s->settings.kind_count; k++)
        if (s->settings.kinds[k].measures & CS_MEASURE_NETWORK)
            reach = fmax(reach, cs_kind_reach_m(&s->settings.kinds[k]));
    return with_margin(fmax(reach, s->net.max_attach_m)) + 1;
}

/* Shard p's window on the network, over its residents and facilities and wide enough for
 * what the context and its file then ask (edges within reach of its facilities, points
 * attaching to them), so that it seldom has to be built again. */
static cs_status network_window(const cut *c, size_t p, const members *m)
{
    const cs_study *s = c->s;
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < m->own_n; i++)
        grow_box(box, s->dem.x[m->own[i]], s->dem.y[m->own[i]]);
    for (size_t j = 0; j < m->fac_n; j++)
        grow_box(box, s->fac.x[m->fac[j]], s->fac.y[m->fac[j]]);
    cs_shard_net_for(c->net, p);
    if (!(box[0] <= box[2]))
        return CS_OK;
    double pad = 3 * cut_network_pad(s) + 2 * s->net.max_attach_m;
    double q[4] = {box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad};
    return cs_net_window_cover(c->net, q);
}

/* The residents on the edges kind k's facilities in the shard can list along the
 * network, as context (the shard's window is made). */
static cs_status network_context(cs_context *ctx, const cut *c, size_t k, double reach,
                                 members *m)
{
    size_t *fac = cs_calloc(m->fac_n + 1, sizeof *fac), n = 0;
    if (!fac)
        return CS_ERR_NOMEM;
    for (size_t j = 0; j < m->fac_n; j++)
        if (c->s->fac.kind[m->fac[j]] == (long)k)
            fac[n++] = m->fac[j];
    cs_status st = cs_shard_net_context(c->net, fac, n, reach, ctx->threads, m->in);
    cs_free(fac);
    return st;
}

/* Whether facility f's matrix row lists a pair within its kind's reach to an own
 * resident (in[i] == 1), for a kind measured by the matrix. */
static bool matrix_reaches(const cs_study *s, size_t f, const unsigned char *in)
{
    const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
    if (!(kind->measures & CS_MEASURE_MATRIX))
        return false;
    const cs_cost_matrix *mx = &s->costs;
    double reach = with_margin(cs_kind_reach_m(kind));
    for (size_t q = mx->start[f]; q < mx->end[f]; q++)
        if (in[mx->pt[q]] == 1 && cs_kind_matrix_m(kind, mx->in_m, mx->cost[q]) <= reach)
            return true;
    return false;
}

/* The residents kind k's facilities in the shard reach by the matrix, as context. */
static void matrix_context(const cs_study *s, size_t k, members *m)
{
    const cs_cost_matrix *mx = &s->costs;
    const cs_kind *kind = &s->settings.kinds[k];
    double reach = with_margin(cs_kind_reach_m(kind));
    for (size_t j = 0; j < m->fac_n; j++) {
        size_t f = m->fac[j];
        if (s->fac.kind[f] != (long)k)
            continue;
        for (size_t q = mx->start[f]; q < mx->end[f]; q++)
            if (!m->in[mx->pt[q]] && cs_kind_matrix_m(kind, mx->in_m, mx->cost[q]) <= reach)
                m->in[mx->pt[q]] = 2;
    }
}

/* The demand points marked context (in 2), in the study's order, into m->ctx (which
 * holds room for them all). */
void cut_list_context(const cs_study *s, members *m)
{
    m->ctx_n = 0;
    for (size_t i = 0; i < s->dem.count; i++)
        if (m->in[i] == 2)
            m->ctx[m->ctx_n++] = i;
}

/* Shard p's own residents, facilities within reach of them, and the context residents
 * within reach of those facilities that kinds with a load capacity weigh. A matrix
 * read as the study is cut gives reaches (the facilities its pairs within reach take to
 * an own resident) and its context later; else NULL. */
cs_status cut_gather(cs_context *ctx, const cut *c, size_t p, const uint64_t *reaches,
                     members *m)
{
    const cs_study *s = c->s;
    size_t N = s->dem.count, F = s->fac.count;
    m->own = cs_calloc(N + 1, sizeof *m->own);
    m->ctx = cs_calloc(N + 1, sizeof *m->ctx);
    m->in = cs_calloc(N + 1, 1);
    m->fac = cs_calloc(F + 1, sizeof *m->fac);
    size_t most = N > F ? N : F; /* ox, oy and d hold points, then facilities */
    double *ox = cs_calloc(most + 1, sizeof *ox), *oy = cs_calloc(most + 1, sizeof *oy);
    double *d = cs_calloc(most + 1, sizeof *d);
    cs_point_index *index = NULL;
    cs_status st = m->own && m->ctx && m->in && m->fac && ox && oy && d ? CS_OK : CS_ERR_NOMEM;
    for (size_t i = 0; st == CS_OK && i < N; i++)
        if (c->shard_of[s->dem.area[i]] == (long)p) {
            ox[m->own_n] = s->dem.x[i];
            oy[m->own_n] = s->dem.y[i];
            m->own[m->own_n++] = i;
            m->in[i] = 1;
            m->residents += s->dem.pop[i * s->settings.band_count];
        }
    if (st == CS_OK)
        st = cs_point_index_create(ox, oy, m->own_n, &index);
    if (st == CS_OK) {
        cs_point_index_nearest_all(index, s->fac.x, s->fac.y, F, ctx->threads, d, NULL);
        for (size_t f = 0; f < F; f++)
            if (d[f] <= with_margin(cs_kind_reach_m(&s->settings.kinds[s->fac.kind[f]])) ||
                (reaches ? has_bit(reaches, f) : matrix_reaches(s, f, m->in)))
                m->fac[m->fac_n++] = f;
    }
    cs_point_index_destroy(index);
    index = NULL;
    if (st == CS_OK && c->net)
        st = network_window(c, p, m);
    /* the residents who compete for the facilities a load capacity makes scarce */
    for (size_t k = 0; st == CS_OK && k < s->settings.kind_count; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        if (kind->load_capacity < 0)
            continue;
        size_t n = 0;
        for (size_t j = 0; j < m->fac_n; j++)
            if (s->fac.kind[m->fac[j]] == (long)k) {
                ox[n] = s->fac.x[m->fac[j]];
                oy[n++] = s->fac.y[m->fac[j]];
            }
        if (n == 0)
            continue;
        st = cs_point_index_create(ox, oy, n, &index);
        if (st != CS_OK)
            break;
        /* only the points in the facilities' box padded by the reach can be in reach */
        double reach = with_margin(cs_kind_reach_m(kind)), box[4];
        cs_box_of(ox, oy, n, box);
        size_t near = 0;
        for (size_t i = 0; i < N; i++)
            if (!m->in[i] && s->dem.x[i] >= box[0] - reach && s->dem.x[i] <= box[2] + reach &&
                s->dem.y[i] >= box[1] - reach && s->dem.y[i] <= box[3] + reach) {
                ox[near] = s->dem.x[i]; /* the facilities' copies are in the index */
                oy[near] = s->dem.y[i];
                m->ctx[near++] = i;
            }
        cs_point_index_nearest_all(index, ox, oy, near, ctx->threads, d, NULL);
        cs_point_index_destroy(index);
        index = NULL;
        for (size_t q = 0; q < near; q++)
            if (d[q] <= reach)
                m->in[m->ctx[q]] = 2;
        if (c->net && (kind->measures & CS_MEASURE_NETWORK))
            st = network_context(ctx, c, k, reach, m);
        if ((kind->measures & CS_MEASURE_MATRIX) && !reaches)
            matrix_context(s, k, m);
    }
    if (st == CS_OK)
        cut_list_context(s, m);
    cs_free(ox);
    cs_free(oy);
    cs_free(d);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* The box of the shard's areas, points (whose box is given) and facilities, padded past
 * the tolerance. */
void cut_shard_box(const cut *c, size_t p, const double points[4], members *m)
{
    const cs_study *s = c->s;
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}, b[4];
    for (size_t a = 0; a < s->areas.count; a++)
        if (c->shard_of[a] == (long)p && cs_geom_bounds(s->geos, s->areas.geom[a], b)) {
            grow_box(box, b[0], b[1]);
            grow_box(box, b[2], b[3]);
        }
    if (points[0] <= points[2]) {
        grow_box(box, points[0], points[1]);
        grow_box(box, points[2], points[3]);
    }
    for (size_t j = 0; j < m->fac_n; j++)
        grow_box(box, s->fac.x[m->fac[j]], s->fac.y[m->fac[j]]);
    double pad = 1000 + s->settings.outside_tolerance_m;
    m->box[0] = box[0] - pad, m->box[1] = box[1] - pad;
    m->box[2] = box[2] + pad, m->box[3] = box[3] + pad;
}

/* ------------------------------------------------------------ the files */

/* The cost matrix's pairs from the shard's facilities to its points within each kind's
 * reach, by facility in the study's order, points in theirs, costs as the study holds
 * them (the unit is repeated in the shard's study). */
static void cost_line(cs_buf *b, const cs_study *s, size_t f, size_t i, double cost)
{
    cs_out_csv_text(b, s->dem.id[i]);
    cs_buf_addc(b, ',');
    cs_out_csv_text(b, s->fac.id[f]);
    cs_buf_addc(b, ',');
    cs_shard_number(b, cost);
    cs_buf_addc(b, '\n');
}

static void costs_file(const cut *c, const members *m, cs_buf *b)
{
    const cs_study *s = c->s;
    const cs_cost_matrix *mx = &s->costs;
    cs_buf_add(b, "from,to,cost\n");
    for (size_t q = 0; q < m->pair_n; q++) /* read as the study is cut */
        cost_line(b, s, m->pairs[q].f, m->pairs[q].i, m->pairs[q].cost);
    for (size_t j = 0; !mx->deferred && j < m->fac_n; j++) {
        size_t f = m->fac[j];
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        double reach = with_margin(cs_kind_reach_m(kind));
        for (size_t q = mx->start[f]; q < mx->end[f]; q++) {
            size_t i = mx->pt[q];
            if (m->in[i] && cs_kind_matrix_m(kind, mx->in_m, mx->cost[q]) <= reach)
                cost_line(b, s, f, i, mx->cost[q]);
        }
    }
}

/* A YAML double-quoted scalar. */
static void yaml_quoted(cs_buf *b, const char *s)
{
    cs_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            cs_buf_addc(b, '\\');
            cs_buf_addc(b, (char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            cs_buf_printf(b, "\\x%02x", *p);
        } else {
            cs_buf_addc(b, (char)*p);
        }
    }
    cs_buf_addc(b, '"');
}

static void yaml_pair(cs_buf *b, const char *key, const char *value)
{
    yaml_quoted(b, key);
    cs_buf_add(b, ": ");
    yaml_quoted(b, value);
    cs_buf_addc(b, '\n');
}

static bool starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Keys a shard's study sets itself (its layers, the working CRS and language, the
 * shard keys) or leaves out (what is not sharded yet). */
static bool replaced_key(const char *key)
{
    static const char *const sections[] = {"areas.", "facilities.", "population.", "landuse.",
                                           "network.", "costs.", "shard."};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (starts(key, sections[i]))
            return true;
    return !strcmp(key, "crs") || !strcmp(key, "lang") ||
           (starts(key, "kinds.") && ends(key, ".match")) ||
           (starts(key, "capacities.") && ends(key, ".field"));
}

static void number_text(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.17g", v);
}

/* A key whose value is a box, as four exact numbers. */
static void box_pair(cs_buf *b, const char *key, const double box[4])
{
    char text[128], x0[32], y0[32], x1[32], y1[32];
    number_text(x0, sizeof x0, box[0]);
    number_text(y0, sizeof y0, box[1]);
    number_text(x1, sizeof x1, box[2]);
    number_text(y1, sizeof y1, box[3]);
    snprintf(text, sizeof text, "%s,%s,%s,%s", x0, y0, x1, y1);
    yaml_pair(b, key, text);
}

/* The network keys of a shard with a network: its edges are the whole graph's, built
 * already (no snapping or noding again), with their speed factors. */
static void network_keys(const cut *c, cs_buf *b)
{
    char text[64];
    const char *crs = c->s->settings.crs;
    yaml_pair(b, "network.path", "network.geojson");
    yaml_pair(b, "network.crs", crs);
    yaml_pair(b, "network.speed", "speed");
    yaml_pair(b, "network.snap_m", "0");
    yaml_pair(b, "network.node_crossings", "false");
    number_text(text, sizeof text, c->s->net.max_attach_m);
    yaml_pair(b, "network.max_attach_m", text);
    box_pair(b, "shard.network_box", c->net->box);
}

static void study_file(const cut *c, size_t p, cs_buf *b)
{
    const cs_study *s = c->s;
    const cs_settings *set = &s->settings;
    char text[512];
    cs_buf_printf(b, "# Shard %zu of %zu of a study, cut by careshed shard: run it with\n"
                     "# careshed run study.yaml --out out, then join the shards with careshed "
                     "merge.\n# Its own residents are those with shard_own 1; the others only "
                     "compete for its facilities.\n",
                  p + 1, c->parts);
    for (size_t i = 0; i < c->cfg->given_count; i++)
        if (!replaced_key(c->cfg->given[i].key))
            yaml_pair(b, c->cfg->given[i].key, c->cfg->given[i].value);
    yaml_pair(b, "crs", set->crs);
    yaml_pair(b, "lang", cs_study_lang(s) == CS_LANG_ZH ? "zh" : "en");
    yaml_pair(b, "areas.path", "areas.geojson");
    yaml_pair(b, "areas.crs", set->crs);
    yaml_pair(b, "areas.id", "id");
    yaml_pair(b, "areas.name", "name");
    yaml_pair(b, "facilities.path", "facilities.csv");
    yaml_pair(b, "facilities.crs", set->crs);
    yaml_pair(b, "facilities.x", "x");
    yaml_pair(b, "facilities.y", "y");
    yaml_pair(b, "facilities.id", "id");
    yaml_pair(b, "facilities.name", "name");
    yaml_pair(b, "facilities.kind", "kind");
    yaml_pair(b, "facilities.opened", "opened");
    yaml_pair(b, "facilities.closed", "closed");
    for (size_t k = 0; k < set->kind_count; k++) {
        snprintf(text, sizeof text, "kinds.%s.match", set->kinds[k].id);
        yaml_pair(b, text, set->kinds[k].id);
    }
    for (size_t q = 0; q < set->capacity_count; q++) {
        char field[32];
        snprintf(text, sizeof text, "capacities.%s.field", set->capacities[q].id);
        snprintf(field, sizeof field, "capacity_%zu", q + 1);
        yaml_pair(b, text, field);
    }
    yaml_pair(b, "population.path", "population.csv");
    yaml_pair(b, "population.crs", set->crs);
    yaml_pair(b, "population.x", "x");
    yaml_pair(b, "population.y", "y");
    yaml_pair(b, "population.total", "pop");
    for (size_t q = 1; q < set->band_count; q++) {
        char field[32];
        snprintf(text, sizeof text, "population.bands.%s.field", set->band_names[q]);
        snprintf(field, sizeof field, "band_%zu", q);
        yaml_pair(b, text, field);
    }
    snprintf(text, sizeof text, "%zu", p + 1);
    yaml_pair(b, "shard.part", text);
    snprintf(text, sizeof text, "%zu", c->parts);
    yaml_pair(b, "shard.parts", text);
    yaml_pair(b, "shard.cut", c->cut_id);
    yaml_pair(b, "shard.own", "shard_own");
    box_pair(b, "shard.demand_box", c->demand.box);
    snprintf(text, sizeof text, "%zu", c->demand.points);
    yaml_pair(b, "shard.demand_points", text);
    if (c->net)
        network_keys(c, b);
    if (s->dem.id)
        yaml_pair(b, "population.id", "id");
    if (s->costs.rows) {
        yaml_pair(b, "costs.path", "costs.csv");
        yaml_pair(b, "costs.from", "from");
        yaml_pair(b, "costs.to", "to");
        yaml_pair(b, "costs.cost", "cost");
        yaml_pair(b, "costs.unit", s->costs.in_m ? "m" : "min");
    }
}

void cs_shard_number(cs_buf *b, double v)
{
    if (isfinite(v))
        cs_buf_add_g17(b, v);
}

static void facilities_file(const cut *c, const members *m, cs_buf *b)
{
    const cs_study *s = c->s;
    size_t C = s->settings.capacity_count;
    cs_buf_add(b, "id,name,kind,x,y,opened,closed");
    for (size_t q = 0; q < C; q++)
        cs_buf_printf(b, ",capacity_%zu", q + 1);
    cs_buf_addc(b, '\n');
    for (size_t j = 0; j < m->fac_n; j++) {
        size_t f = m->fac[j];
        cs_out_csv_text(b, s->fac.id[f]);
        cs_buf_addc(b, ',');
        cs_out_csv_text(b, s->fac.name[f]);
        cs_buf_addc(b, ',');
        cs_out_csv_text(b, s->settings.kinds[s->fac.kind[f]].id);
        cs_buf_addc(b, ',');
        cs_shard_number(b, s->fac.x[f]);
        cs_buf_addc(b, ',');
        cs_shard_number(b, s->fac.y[f]);
        cs_buf_addc(b, ',');
        cs_shard_number(b, s->fac.opened[f]);
        cs_buf_addc(b, ',');
        cs_shard_number(b, s->fac.closed[f]);
        for (size_t q = 0; q < C; q++) {
            cs_buf_addc(b, ',');
            cs_shard_number(b, s->fac.capacity[f * C + q]);
        }
        cs_buf_addc(b, '\n');
    }
}

/* The population file's first line (ids: the cost matrix names the points by them). */
void cut_population_header(cs_buf *b, size_t bands, bool ids)
{
    cs_buf_add(b, ids ? "id,x,y,pop" : "x,y,pop");
    for (size_t q = 1; q < bands; q++)
        cs_buf_printf(b, ",band_%zu", q);
    cs_buf_add(b, ",shard_own\n");
}

/* A resident's line: its id (or NULL), position, residents of each band, and whether it
 * is the shard's own. */
void cut_population_row(cs_buf *b, const char *id, double x, double y, const double *pop,
                        size_t bands, bool own)
{
    if (id) {
        cs_out_csv_text(b, id);
        cs_buf_addc(b, ',');
    }
    cs_shard_number(b, x);
    cs_buf_addc(b, ',');
    cs_shard_number(b, y);
    for (size_t q = 0; q < bands; q++) {
        cs_buf_addc(b, ',');
        cs_shard_number(b, pop[q]);
    }
    cs_buf_add(b, own ? ",1\n" : ",0\n");
}

/* Own and context residents in the study's order (every sum adds them in that order). */
static void population_file(const cut *c, const members *m, cs_buf *b)
{
    const cs_study *s = c->s;
    size_t B = s->settings.band_count;
    cut_population_header(b, B, s->dem.id != NULL);
    for (size_t i = 0; i < s->dem.count; i++)
        if (m->in[i])
            cut_population_row(b, s->dem.id ? s->dem.id[i] : NULL, s->dem.x[i], s->dem.y[i],
                           &s->dem.pop[i * B], B, m->in[i] == 1);
}

static void ring_coordinates(cs_buf *b, const cs_rings *r, size_t ring)
{
    cs_buf_addc(b, '[');
    for (size_t v = r->ring_start[ring]; v < r->ring_start[ring + 1]; v++) {
        cs_buf_add(b, v > r->ring_start[ring] ? ",[" : "[");
        cs_buf_add_g17(b, r->x[v]);
        cs_buf_addc(b, ',');
        cs_buf_add_g17(b, r->y[v]);
        cs_buf_addc(b, ']');
    }
    cs_buf_addc(b, ']');
}

/* One feature of polygons (one "area" of rings each, shell first). */
static void area_feature(cs_buf *b, const char *id, const char *name, const cs_rings *polys,
                         bool first)
{
    cs_buf_add(b, first ? "\n" : ",\n");
    cs_buf_add(b, "{\"type\":\"Feature\",\"properties\":{\"id\":");
    cs_json j;
    cs_json_init(&j, b, false);
    cs_json_string(&j, id);
    cs_buf_add(b, ",\"name\":");
    cs_json_string(&j, name);
    cs_buf_add(b, "},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (size_t p = 0; p < polys->area_count; p++) {
        cs_buf_add(b, p ? ",[" : "[");
        for (size_t r = polys->area_ring_start[p]; r < polys->area_ring_start[p + 1]; r++) {
            if (r > polys->area_ring_start[p])
                cs_buf_addc(b, ',');
            ring_coordinates(b, polys, r);
        }
        cs_buf_addc(b, ']');
    }
    cs_buf_add(b, "]}}");
}

/* The shard's areas and, as one more, the rest of its box (residents of other shards). */
static cs_status areas_file(cs_context *ctx, const cut *c, size_t p, const members *m,
                            cs_buf *b)
{
    const cs_study *s = c->s;
    cs_geos h = s->geos;
    cs_geom **own = cs_calloc(s->areas.count + 1, sizeof *own);
    if (!own)
        return cs_nomem(ctx);
    size_t n = 0;
    cs_status st = CS_OK;
    cs_buf_add(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t a = 0; st == CS_OK && a < s->areas.count; a++) {
        if (c->shard_of[a] != (long)p)
            continue;
        own[n++] = s->areas.geom[a];
        cs_rings polys = {0};
        st = cs_geom_append_polygons(h, s->areas.geom[a], &polys);
        if (st == CS_OK)
            area_feature(b, s->areas.id[a], s->areas.name[a], &polys, n == 1);
        cs_rings_free(&polys);
    }
    double bx[5] = {m->box[0], m->box[2], m->box[2], m->box[0], m->box[0]};
    double by[5] = {m->box[1], m->box[1], m->box[3], m->box[3], m->box[1]};
    cs_geom *rect = st == CS_OK ? cs_geom_ring_polygon(h, bx, by, 4) : NULL;
    cs_geom *all = rect ? cs_geom_union(h, own, n) : NULL;
    cs_geom *halo = all ? cs_geom_difference(h, rect, all) : NULL;
    if (st == CS_OK && !halo)
        st = cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the study",
                      "the box of shard %zu could not be drawn", p + 1);
    if (st == CS_OK && !cs_geom_is_empty(h, halo)) {
        cs_rings polys = {0};
        st = cs_geom_append_polygons(h, halo, &polys);
        if (st == CS_OK)
            area_feature(b, "~shard-halo", "residents of other shards", &polys, n == 0);
        cs_rings_free(&polys);
    }
    cs_buf_add(b, "\n]}\n");
    cs_geom_destroy(h, rect);
    cs_geom_destroy(h, all);
    cs_geom_destroy(h, halo);
    cs_free(own);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* One of the shard's files, made by fill, into set. */
static cs_status add_file(cs_context *ctx, cs_outset *set, const char *name, cs_buf *b)
{
    cs_status st = b->failed ? cs_nomem(ctx) : cs_outset_add(ctx, set, name, b->data, b->len);
    cs_buf_free(b);
    return st;
}

/* The shard's files but its population into set: the study, its areas, facilities and,
 * when the study has them, network and cost matrix. */
cs_status cut_add_shard_files(cs_context *ctx, const cut *c, size_t p, members *m,
                              cs_outset *set)
{
    cs_buf b;
    cs_buf_init(&b);
    study_file(c, p, &b);
    cs_status st = add_file(ctx, set, "study.yaml", &b);
    if (st == CS_OK && (st = areas_file(ctx, c, p, m, &b)) == CS_OK)
        st = add_file(ctx, set, "areas.geojson", &b);
    cs_buf_free(&b);
    if (st == CS_OK) {
        facilities_file(c, m, &b);
        st = add_file(ctx, set, "facilities.csv", &b);
    }
    if (c->net)
        cs_shard_net_for(c->net, p);
    if (st == CS_OK && c->net && m->in) { /* else its points marked it as they were read */
        cs_net_marks_begin(c->net, cut_network_pad(c->s), &m->marks);
        for (size_t i = 0; i < c->s->dem.count; i++)
            if (m->in[i])
                cs_net_marks_add(&m->marks, c->s->dem.x[i], c->s->dem.y[i]);
    }
    if (st == CS_OK && c->net)
        st = cs_shard_net_file(c->net, &m->marks, m->fac, m->fac_n, &b, &m->edges);
    if (st == CS_OK && c->net)
        st = add_file(ctx, set, "network.geojson", &b);
    cs_buf_free(&b);
    if (st == CS_OK && c->s->costs.rows) {
        costs_file(c, m, &b);
        st = add_file(ctx, set, "costs.csv", &b);
    }
    return st;
}

void cut_shard_folder(char *folder, size_t size, const char *dir, size_t p)
{
    snprintf(folder, size, "%s/%04zu", dir, p + 1);
}

/* Commit set (or abort it after an error) and free it. */
cs_status cut_finish_set(cs_context *ctx, cs_outset *set, cs_status st)
{
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    return st;
}

cs_status cut_write_shard(cs_context *ctx, const cut *c, size_t p, members *m,
                          const char *dir)
{
    char folder[4096];
    cut_shard_folder(folder, sizeof folder, dir, p);
    cs_outset *set = NULL;
    cs_status st = cs_outset_begin(ctx, folder, &set);
    if (st != CS_OK)
        return st;
    cs_buf pop;
    cs_buf_init(&pop);
    population_file(c, m, &pop);
    st = add_file(ctx, set, "population.csv", &pop);
    if (st == CS_OK)
        st = cut_add_shard_files(ctx, c, p, m, set);
    return cut_finish_set(ctx, set, st);
}

/* ------------------------------------------------------------ the manifest */

void cut_manifest_shard(cs_json *j, const cut *c, size_t p, const members *m)
{
    const cs_study *s = c->s;
    char folder[24];
    snprintf(folder, sizeof folder, "%04zu", p + 1);
    cs_json_begin_object(j);
    cs_json_key(j, "part");
    cs_json_integer(j, (long long)p + 1);
    cs_json_key(j, "folder");
    cs_json_string(j, folder);
    cs_json_key(j, "residents");
    cs_json_number(j, m->residents, 1);
    cs_json_key(j, "demand_points");
    cs_json_integer(j, (long long)m->own_n);
    cs_json_key(j, "context_points");
    cs_json_integer(j, (long long)m->ctx_n);
    cs_json_key(j, "facilities");
    cs_json_integer(j, (long long)m->fac_n);
    if (c->net) {
        cs_json_key(j, "edges");
        cs_json_integer(j, (long long)m->edges);
    }
    cs_json_key(j, "areas");
    cs_json_begin_array(j);
    for (size_t a = 0; a < s->areas.count; a++)
        if (c->shard_of[a] == (long)p)
            cs_json_string(j, s->areas.id[a]);
    cs_json_end_array(j);
    cs_json_end_object(j);
}

const cs_shard_digest cs_shard_digests[CS_SHARD_DIGESTS] = {
    {"network_digest", "network", cs_study_network_digest,
     "the study's network is not what the shards were cut from: it changed since the cut"},
    {"facilities_digest", "facilities", cs_study_facilities_digest,
     "the study's facilities are not what the shards were cut from: they changed since the "
     "cut"},
    {"areas_digest", "areas", cs_study_areas_digest,
     "the study's areas are not what the shards were cut from: their outlines, ids or names "
     "changed since the cut"},
    {"population_digest", "population", cs_study_population_digest,
     "the study's residents are not what the shards were cut from: the population changed "
     "since the cut"},
};

void cs_shard_digest_text(const cs_shard_digest *d, const cs_study *s, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, d->of(s));
}

void cut_manifest_begin(cs_json *j, const cut *c)
{
    cs_json_begin_object(j);
    cs_json_key(j, "careshed_version");
    cs_json_string(j, CARESHED_VERSION);
    cs_json_key(j, "cut");
    cs_json_string(j, c->cut_id);
    cs_json_key(j, "study");
    cs_json_string(j, c->cfg->file ? c->cfg->file : "");
    cs_json_key(j, "base_dir"); /* where its relative paths start, from / */
    cs_json_string(j, c->base_dir);
    cs_json_key(j, "settings"); /* the whole study's keys, as careshed merge loads it */
    cs_json_begin_array(j);
    for (size_t i = 0; i < c->cfg->given_count; i++) {
        cs_json_begin_array(j);
        cs_json_string(j, c->cfg->given[i].key);
        cs_json_string(j, c->cfg->given[i].value);
        cs_json_end_array(j);
    }
    cs_json_end_array(j);
    for (size_t d = 0; d < CS_SHARD_DIGESTS; d++) {
        char digest[17];
        cs_shard_digest_text(&cs_shard_digests[d], c->s, digest);
        cs_json_key(j, cs_shard_digests[d].key);
        cs_json_string(j, digest);
    }
    cs_json_key(j, "parts");
    cs_json_integer(j, (long long)c->parts);
    cs_json_key(j, "shards");
    cs_json_begin_array(j);
}

/* The Slurm job array, with the folder from / (jobs start wherever Slurm puts them). */
static void sbatch_file(const cut *c, const char *dir, cs_buf *b)
{
    cs_buf_printf(b,
                  "#!/bin/sh\n"
                  "# The shards of %s as a Slurm job array: sbatch --wait %s/" CS_SHARD_SBATCH
                  "\n# then careshed merge %s --out OUT. A shard that failed is run again\n"
                  "# with sbatch --array=N (each run replaces its out/ as a whole).\n"
                  "#SBATCH --job-name=careshed-shards\n"
                  "#SBATCH --array=1-%zu\n"
                  "#SBATCH --output=%s/%%4a/slurm-%%A_%%a.log\n"
                  "#SBATCH --requeue\n"
                  "part=$(printf %%04d \"$SLURM_ARRAY_TASK_ID\")\n"
                  "exec \"${CARESHED:-careshed}\" run \"%s/$part/study.yaml\" --out "
                  "\"%s/$part/out\" --quiet\n",
                  c->cfg->file ? c->cfg->file : "the study", dir, dir, c->parts, dir, dir,
                  dir);
}

/* ------------------------------------------------- a loaded study, cut whole */

/* Each area's residents, in the study's order. */
static double *area_residents(const cs_study *s)
{
    double *pop = cs_calloc(s->areas.count + 1, sizeof *pop);
    for (size_t i = 0; pop && i < s->dem.count; i++)
        pop[s->dem.area[i]] += s->dem.pop[i * s->settings.band_count];
    return pop;
}

/* The demand's extent, which the shards' cells are laid out for; with no point, any. */
void cut_set_extent(cut *c, cs_access_extent e)
{
    c->demand = e;
    if (e.points == 0)
        memset(c->demand.box, 0, sizeof c->demand.box);
}

static cs_status partition_whole(cs_context *ctx, cut *c, const char *by)
{
    const cs_study *s = c->s;
    cut_set_extent(c, cs_access_extent_of(s->dem.x, s->dem.y, s->dem.count));
    if (by)
        return cut_partition_by(ctx, c, by);
    double *pop = area_residents(s);
    cs_status st = pop ? cut_partition(ctx, c, pop) : cs_nomem(ctx);
    cs_free(pop);
    return st;
}

/* The box of the points a shard holds (in[i] != 0). */
void cut_points_box(const cs_study *s, const members *m, double box[4])
{
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    for (size_t i = 0; i < s->dem.count; i++)
        if (m->in[i])
            grow_box(box, s->dem.x[i], s->dem.y[i]);
}

static cs_status shards_whole(cs_context *ctx, cut *c, const char *by, const char *dir,
                              cs_json *j)
{
    cs_status st = partition_whole(ctx, c, by);
    if (st == CS_OK && cs_study_any_kind_measured(c->s, CS_MEASURE_NETWORK)) {
        c->net = cs_calloc(1, sizeof *c->net);
        st = c->net ? cs_shard_net_begin(ctx, c->cfg, c->s, c->net) : cs_nomem(ctx);
    }
    if (st == CS_OK)
        cut_manifest_begin(j, c);
    if (st == CS_OK && c->s->costs.deferred)
        return cut_by_matrix(ctx, c, dir, j);
    for (size_t p = 0; st == CS_OK && p < c->parts; p++) {
        members m = {0};
        st = cut_gather(ctx, c, p, NULL, &m);
        if (st == CS_OK) {
            double box[4];
            cut_points_box(c->s, &m, box);
            cut_shard_box(c, p, box, &m);
            st = cut_write_shard(ctx, c, p, &m, dir);
        }
        if (st == CS_OK)
            cut_manifest_shard(j, c, p, &m);
        cut_members_free(&m);
        cs_progress(ctx, "shards", (double)(p + 1) / (double)c->parts);
    }
    return st;
}

/* ------------------------------------------------------------ the cut */

static cs_status check_cut(cs_context *ctx, const cs_study *s, size_t parts, const char *by)
{
    cs_where w = {.field = "--parts"};
    if (s->settings.shard_part > 0)
        return cs_error(ctx, CS_ERR_STUDY, NULL, "cut the whole study instead",
                        "the study is itself a shard (shard %ld of %ld)", s->settings.shard_part,
                        s->settings.shard_parts);
    if (!by && (parts < 1 || parts > s->areas.count || parts > CS_SHARD_MAX_PARTS))
        return cs_error(ctx, CS_ERR_STUDY, &w, "give at most one shard per area",
                        "%zu shards of %zu areas: areas are never split", parts,
                        s->areas.count);
    /* 3SFCA's selection weights reach a catchment further than a shard's context holds
     * (a facility's ratio needs its residents' sums over their own facilities) */
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        char key[160];
        snprintf(key, sizeof key, "kinds.%s.access_method", kind->id);
        cs_where at = {.field = key};
        if (kind->load_capacity >= 0 && kind->access_three_step)
            return cs_error(ctx, CS_ERR_STUDY, &at,
                            "run the study whole, or shard it with access_method: 2sfca",
                            "kind '%s' is measured by 3SFCA, which shards cannot yet give "
                            "exactly: its selection weights reach beyond a shard's context",
                            kind->id);
    }
    return CS_OK;
}

/* A new id for this cut: results of another cut are refused by the merge. */
static void new_cut_id(char out[33])
{
    unsigned char r[16] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(r, &t, sizeof t);
    }
    for (size_t i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

cs_status cs_shard_write(cs_context *ctx, const cs_config *cfg, const cs_study *study,
                         size_t parts, const char *by, const char *dir)
{
    if (!ctx || !cfg || !study || !dir || !*dir || (by && parts))
        return CS_ERR_ARGUMENT;
    cs_status st = check_cut(ctx, study, parts, by);
    if (st != CS_OK)
        return st;
    cut c = {.cfg = cfg, .s = study, .parts = parts};
    c.base_dir = realpath(cfg->base_dir && *cfg->base_dir ? cfg->base_dir : ".", NULL);
    if (!c.base_dir) {
        cs_where w = {.file = cfg->base_dir};
        return cs_error(ctx, CS_ERR_INPUT, &w, "give the study file's path from /",
                        "cannot name the study's folder (%s)", strerror(errno));
    }
    new_cut_id(c.cut_id);
    cs_buf man, sb;
    cs_buf_init(&man);
    cs_buf_init(&sb);
    cs_json j;
    cs_json_init(&j, &man, true);
    double t0 = cs_stage_begin();
    st = study->dem.stream ? cut_by_strips(ctx, &c, by, dir, &j)
                           : shards_whole(ctx, &c, by, dir, &j);
    parts = c.parts;
    cs_stage_end(ctx, "write shards", t0);
    cs_json_end_array(&j);
    cs_json_end_object(&j);
    cs_buf_addc(&man, '\n');
    char *abs_dir = st == CS_OK ? realpath(dir, NULL) : NULL; /* made by the shards */
    sbatch_file(&c, abs_dir ? abs_dir : dir, &sb);
    free(abs_dir);
    if (st == CS_OK && (man.failed || sb.failed))
        st = cs_nomem(ctx);
    cs_outset *set = NULL;
    if (st == CS_OK)
        st = cs_outset_begin(ctx, dir, &set);
    if (st == CS_OK)
        st = cs_outset_add(ctx, set, CS_SHARD_SBATCH, sb.data, sb.len);
    if (st == CS_OK) /* last: it names the shards just written */
        st = cs_outset_add(ctx, set, CS_SHARD_MANIFEST, man.data, man.len);
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    cs_buf_free(&man);
    cs_buf_free(&sb);
    cs_free(c.shard_of);
    cs_shard_net_free(c.net);
    cs_free(c.net);
    free(c.base_dir);
    return st;
}
