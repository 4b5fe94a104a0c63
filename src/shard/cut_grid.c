/*
 * cut_grid.c — careshed shard on a study whose population grid was left unread
 * (dem.stream): the whole cut's shards, the grid read a strip at a time.
 */
#include "shard/cut.h"

#include "cost/nearest.h"

#include <stdlib.h>
#include <string.h>

/*
 * A study whose population grid is read a strip at a time (cs_study_each_demand) is cut
 * without ever holding its demand points: three readings of the grid, each giving the
 * points in the study's order, do what the whole cut does with them.
 *   1. each area's residents (for the partition) and the demand's extent;
 *   2. each shard's facilities: those of every kind within its reach of an own point
 *      (as gather: the same distance, to the same margin), and its own residents;
 *   3. context and files: a point is context of every other shard holding a facility of
 *      a kind with a load capacity within that kind's reach of it; its line goes to its
 *      own shard's population file and theirs as it comes, so each file lists its points
 *      in the study's order, as the whole cut writes them. Shards are written
 *      STREAM_GROUP at a time (a grid read once more per group), each holding a
 *      STREAM_FLUSH buffer.
 * Along the network, a point is also context of every shard holding such a facility of
 * a kind measured along it whose search can list the point's edge: an edge with an end
 * within the kind's reach of the facility, or the facility's own edge (as
 * cs_shard_net_context has it). The points' edges are found a tile at a time in windows
 * (cs_net_spots), the facilities' own edges once, before reading 3; each shard's points
 * mark where its network file must reach as they are written.
 * The shards' files are the whole cut's, byte for byte.
 */
#define STREAM_GROUP 256
#define STREAM_FLUSH ((size_t)256 << 10)

/* A shard's population file as it is written. */
typedef struct shard_out {
    cs_outset *set;
    size_t file;
    uint64_t at;       /* bytes written */
    cs_buf buf;
    double box[4];     /* of its points */
} shard_out;

/* Where a point's facilities are looked for: at the point, at its edge's two ends. */
enum { NEAR_POINT, NEAR_U, NEAR_V, NEAR_PLACES };

/* The facilities of a kind (their places in its index, ascending) within twice its
 * reach, and a metre, of an anchor: those within reach of any point within reach of the
 * anchor. The grid's next points are a cell apart, so one search serves many. */
typedef struct near_cache {
    bool held;   /* an anchor and its facilities, from the present index */
    double x, y; /* the anchor */
    long *in;
    size_t n, cap;
} near_cache;

typedef struct streamed {
    cs_context *ctx;
    cut *c;
    size_t K, F, words;
    double *pop;            /* reading 1: each area's residents */
    cs_access_extent ext;   /* reading 1 */
    cs_point_index **index; /* each kind's facilities (2), or those shards hold (3) */
    long **fac_of;          /* the index's points' facilities */
    double *reach;          /* each kind's, with the margin */
    uint64_t *held;         /* shard p holds facility f: bit f of words [p * words, ...) */
    size_t *holders_at, *holders; /* reading 3: the shards holding facility f */
    members *m;
    shard_out *out;
    size_t group_from, group_to; /* reading 3: the shards written */
    size_t *stamp;          /* reading 3: the point a shard was last made context of, + 1 */
    size_t next;            /* the point's number in the study's order */
    size_t readings;        /* of the grid, begun */
    long *found;
    size_t found_cap;
    near_cache *near;       /* K * NEAR_PLACES */
    bool along;             /* reading 3: context along the network too */
    cs_net_owners owners;   /* the own edges of the facilities it weighs */
    cs_net_window win;      /* the last tile's */
    cs_net_spot *spots;     /* a batch's points' edges */
    size_t spots_cap;
} streamed;

static cs_status count_areas(void *user, const cs_demand_batch *b)
{
    streamed *t = user;
    size_t B = t->c->s->settings.band_count;
    for (size_t i = 0; i < b->count; i++)
        t->pop[b->area[i]] += b->pop[i * B];
    cs_access_extent e = cs_access_extent_of(b->x, b->y, b->count);
    t->ext.points += e.points;
    t->ext.box[0] = fmin(t->ext.box[0], e.box[0]);
    t->ext.box[1] = fmin(t->ext.box[1], e.box[1]);
    t->ext.box[2] = fmax(t->ext.box[2], e.box[2]);
    t->ext.box[3] = fmax(t->ext.box[3], e.box[3]);
    return CS_OK;
}

/* The facilities of kind k (all of them, or only those of the bit set `only`) indexed;
 * false without memory. */
static bool index_kind(streamed *t, size_t k, const uint64_t *only)
{
    const cs_study *s = t->c->s;
    double *x = cs_calloc(t->F + 1, sizeof *x), *y = cs_calloc(t->F + 1, sizeof *y);
    t->fac_of[k] = cs_calloc(t->F + 1, sizeof **t->fac_of);
    size_t n = 0;
    for (size_t f = 0; x && y && t->fac_of[k] && f < t->F; f++) {
        if (s->fac.kind[f] != (long)k || (only && !has_bit(only, f)))
            continue;
        x[n] = s->fac.x[f];
        y[n] = s->fac.y[f];
        t->fac_of[k][n++] = (long)f;
    }
    bool ok = x && y && t->fac_of[k] && cs_point_index_create(x, y, n, &t->index[k]) == CS_OK;
    cs_free(x);
    cs_free(y);
    return ok;
}

static void drop_indexes(streamed *t)
{
    for (size_t j = 0; t->near && j < t->K * NEAR_PLACES; j++)
        t->near[j].held = false;
    for (size_t k = 0; k < t->K; k++) {
        cs_point_index_destroy(t->index[k]);
        cs_free(t->fac_of[k]);
        t->index[k] = NULL;
        t->fac_of[k] = NULL;
    }
}

/* The facilities of kind k within its reach of (x, y), into t->found, ascending: their
 * count, or (size_t)-1 without memory. Filtered from those near an anchor (kept for each
 * of the places a point looks from) by the test cs_point_index_within makes, so that
 * they are exactly the facilities it finds. */
static size_t near_facilities(streamed *t, size_t k, int place, double x, double y)
{
    if (!t->index[k])
        return 0;
    near_cache *c = &t->near[k * NEAR_PLACES + (size_t)place];
    double r = t->reach[k], ax = x - c->x, ay = y - c->y;
    if (!c->held || !(sqrt(ax * ax + ay * ay) <= r)) { /* none, or too far from it */
        c->held = false;
        size_t n = cs_point_index_within(t->index[k], x, y, 2 * r + 1, &c->in, &c->cap);
        if (n == (size_t)-1 || !cs_grow((void **)&t->found, &t->found_cap, n,
                                        sizeof *t->found))
            return (size_t)-1;
        c->x = x, c->y = y, c->n = n, c->held = true;
    }
    const double *fx = t->c->s->fac.x, *fy = t->c->s->fac.y;
    size_t n = 0;
    for (size_t j = 0; j < c->n; j++) {
        long f = t->fac_of[k][c->in[j]];
        double dx = fx[f] - x, dy = fy[f] - y;
        if (sqrt(dx * dx + dy * dy) <= r)
            t->found[n++] = f;
    }
    return n;
}

static cs_status hold_facilities(void *user, const cs_demand_batch *b)
{
    streamed *t = user;
    const cs_study *s = t->c->s;
    size_t B = s->settings.band_count;
    for (size_t i = 0; i < b->count; i++) {
        size_t p = (size_t)t->c->shard_of[b->area[i]];
        t->m[p].own_n++;
        t->m[p].residents += b->pop[i * B];
        for (size_t k = 0; k < t->K; k++) {
            size_t n = near_facilities(t, k, NEAR_POINT, b->x[i], b->y[i]);
            if (n == (size_t)-1)
                return cs_nomem(t->ctx);
            for (size_t j = 0; j < n; j++)
                set_bit(t->held + p * t->words, (size_t)t->found[j]);
        }
    }
    return CS_OK;
}

/* Each shard's facilities in the study's order, and each facility's shards. */
static cs_status list_facilities(streamed *t)
{
    size_t P = t->c->parts, F = t->F;
    t->holders_at = cs_calloc(F + 2, sizeof *t->holders_at);
    if (!t->holders_at)
        return cs_nomem(t->ctx);
    for (size_t p = 0; p < P; p++) {
        members *m = &t->m[p];
        size_t n = 0; /* as many as it holds: a nation's shards each hold few */
        for (size_t w = 0; w < t->words; w++)
            n += (size_t)__builtin_popcountll(t->held[p * t->words + w]);
        m->fac = cs_calloc(n + 1, sizeof *m->fac);
        if (!m->fac)
            return cs_nomem(t->ctx);
        for (size_t f = 0; f < F; f++)
            if (has_bit(t->held + p * t->words, f)) {
                m->fac[m->fac_n++] = f;
                t->holders_at[f + 2]++;
            }
    }
    for (size_t f = 0; f < F; f++)
        t->holders_at[f + 2] += t->holders_at[f + 1];
    t->holders = cs_calloc(t->holders_at[F + 1] + 1, sizeof *t->holders);
    if (!t->holders)
        return cs_nomem(t->ctx);
    for (size_t p = 0; p < P; p++) /* ascending shards for each facility */
        for (size_t j = 0; j < t->m[p].fac_n; j++)
            t->holders[t->holders_at[t->m[p].fac[j] + 1]++] = p;
    return CS_OK;
}

/* Append a point's line to shard p's population file, writing out a full buffer. */
static cs_status put_row(streamed *t, size_t p, const cs_demand_batch *b, size_t i, bool own)
{
    shard_out *o = &t->out[p - t->group_from];
    size_t B = t->c->s->settings.band_count;
    cut_population_row(&o->buf, NULL, b->x[i], b->y[i], &b->pop[i * B], B, own);
    grow_box(o->box, b->x[i], b->y[i]);
    if (t->c->net)
        cs_net_marks_add(&t->m[p].marks, b->x[i], b->y[i]);
    if (o->buf.failed)
        return cs_nomem(t->ctx);
    if (o->buf.len < STREAM_FLUSH)
        return CS_OK;
    cs_status st = cs_outset_write_at(t->ctx, o->set, o->file, o->buf.data, o->buf.len, o->at);
    o->at += o->buf.len;
    cs_buf_clear(&o->buf);
    return st;
}

/* Point i (number `point`, of shard own) as context of the shards of this group that
 * hold facility f, those it is not yet context of. */
static cs_status to_holders(streamed *t, long f, size_t own, size_t point,
                           const cs_demand_batch *b, size_t i)
{
    cs_status st = CS_OK;
    for (size_t h = t->holders_at[f]; st == CS_OK && h < t->holders_at[f + 1]; h++) {
        size_t p = t->holders[h];
        if (p == own || p < t->group_from || p >= t->group_to || t->stamp[p] == point)
            continue;
        t->stamp[p] = point;
        t->m[p].ctx_n++;
        st = put_row(t, p, b, i, false);
    }
    return st;
}

/* Point i as context of the holders of kind k's facilities within reach of (x, y). */
static cs_status near_to_holders(streamed *t, size_t k, int place, double x, double y,
                                 size_t own, size_t point, const cs_demand_batch *b, size_t i)
{
    size_t n = near_facilities(t, k, place, x, y);
    if (n == (size_t)-1)
        return cs_nomem(t->ctx);
    cs_status st = CS_OK;
    for (size_t j = 0; st == CS_OK && j < n; j++)
        st = to_holders(t, t->found[j], own, point, b, i);
    return st;
}

/* Point i as context along the network: of the holders of the facilities whose search
 * lists its edge (spot). */
static cs_status along_to_holders(streamed *t, const cs_net_spot *sp, size_t own, size_t point,
                                  const cs_demand_batch *b, size_t i)
{
    const cs_study *s = t->c->s;
    if (isnan(sp->ux))
        return CS_OK; /* on no edge */
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < t->K; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        if (kind->load_capacity < 0 || !(kind->measures & CS_MEASURE_NETWORK))
            continue;
        st = near_to_holders(t, k, NEAR_U, sp->ux, sp->uy, own, point, b, i);
        if (st == CS_OK)
            st = near_to_holders(t, k, NEAR_V, sp->vx, sp->vy, own, point, b, i);
    }
    for (size_t j = sp->own_from; st == CS_OK && j < sp->own_to; j++)
        st = to_holders(t, (long)t->owners.fac[t->owners.order[j]], own, point, b, i);
    return st;
}

static cs_status write_points(void *user, const cs_demand_batch *b)
{
    streamed *t = user;
    const cs_study *s = t->c->s;
    cs_status st = CS_OK;
    if (t->along) { /* where the batch's points attach */
        if (!cs_grow((void **)&t->spots, &t->spots_cap, b->count, sizeof *t->spots))
            return cs_nomem(t->ctx);
        st = cs_net_spots(t->c->net, &t->win, &t->owners, b->x, b->y, b->count,
                          cut_tile_m(s), t->ctx->threads, t->spots);
        if (st != CS_OK)
            return st == CS_ERR_NOMEM ? cs_nomem(t->ctx) : st;
    }
    for (size_t i = 0; st == CS_OK && i < b->count; i++) {
        size_t own = (size_t)t->c->shard_of[b->area[i]], point = ++t->next;
        if (own >= t->group_from && own < t->group_to)
            st = put_row(t, own, b, i, true);
        for (size_t k = 0; st == CS_OK && k < t->K; k++)
            if (s->settings.kinds[k].load_capacity >= 0)
                st = near_to_holders(t, k, NEAR_POINT, b->x[i], b->y[i], own, point, b, i);
        if (st == CS_OK && t->along)
            st = along_to_holders(t, &t->spots[i], own, point, b, i);
    }
    return st;
}

/* Say on a terminal that one more reading of the grid begins: the first two, then
 * one per group of shards. */
static void say_next_reading(streamed *t)
{
    size_t groups = (t->c->parts + STREAM_GROUP - 1) / STREAM_GROUP;
    cs_progress(t->ctx, "grid", (double)++t->readings / (double)(2 + (groups ? groups : 1)));
}

/* The grid read once more, handing its points to fn; what the first reading said
 * (cells partly outside every area) is not said again, unless this one fails. */
static cs_status read_again(streamed *t, cs_demand_fn fn)
{
    say_next_reading(t);
    cs_context *quiet = NULL;
    if (cs_context_create_for_thread(t->ctx, &quiet) != CS_OK)
        return cs_nomem(t->ctx);
    cs_status st = cs_study_each_demand(quiet, t->c->s, fn, t);
    if (st != CS_OK)
        cs_context_absorb(t->ctx, quiet);
    cs_context_destroy(quiet);
    return st;
}

/* Shards [from, to): their population files written as the grid is read once more,
 * then their other files, each set committed. */
static cs_status write_group(streamed *t, const char *dir, size_t from, size_t to)
{
    cs_context *ctx = t->ctx;
    const cs_study *s = t->c->s;
    t->group_from = from;
    t->group_to = to;
    t->next = 0;
    cs_status st = CS_OK;
    size_t opened = 0;
    for (size_t p = from; st == CS_OK && p < to; p++, opened++) {
        shard_out *o = &t->out[p - from];
        *o = (shard_out){.box = {INFINITY, INFINITY, -INFINITY, -INFINITY}};
        cs_buf_init(&o->buf);
        char folder[4096];
        cut_shard_folder(folder, sizeof folder, dir, p);
        st = cs_outset_begin(ctx, folder, &o->set);
        if (st == CS_OK)
            st = cs_outset_open(ctx, o->set, "population.csv", &o->file);
        if (t->c->net)
            cs_net_marks_begin(t->c->net, cut_network_pad(s), &t->m[p].marks);
        cut_population_header(&o->buf, s->settings.band_count, false);
    }
    if (st == CS_OK)
        st = read_again(t, write_points);
    for (size_t p = from; p < from + opened; p++) {
        shard_out *o = &t->out[p - from];
        if (st == CS_OK && o->buf.len > 0)
            st = cs_outset_write_at(ctx, o->set, o->file, o->buf.data, o->buf.len, o->at);
        cs_buf_free(&o->buf);
        if (st == CS_OK) {
            cut_shard_box(t->c, p, o->box, &t->m[p]);
            st = cut_add_shard_files(ctx, t->c, p, &t->m[p], o->set);
        }
        cs_net_marks_free(&t->m[p].marks);
        st = cut_finish_set(ctx, o->set, st);
        o->set = NULL;
        cs_progress(ctx, "shards", (double)(p + 1) / (double)t->c->parts);
    }
    return st;
}

static cs_status stream_begin(cs_context *ctx, cut *c, streamed *t)
{
    const cs_study *s = c->s;
    *t = (streamed){.ctx = ctx, .c = c, .K = s->settings.kind_count, .F = s->fac.count,
                    .ext = {.box = {INFINITY, INFINITY, -INFINITY, -INFINITY}}};
    t->words = (t->F + 63) / 64;
    t->pop = cs_calloc(s->areas.count + 1, sizeof *t->pop);
    t->index = cs_calloc(t->K + 1, sizeof *t->index);
    t->fac_of = cs_calloc(t->K + 1, sizeof *t->fac_of);
    t->reach = cs_calloc(t->K + 1, sizeof *t->reach);
    t->near = cs_calloc(t->K * NEAR_PLACES + 1, sizeof *t->near);
    if (!t->pop || !t->index || !t->fac_of || !t->reach || !t->near)
        return cs_nomem(ctx);
    for (size_t k = 0; k < t->K; k++)
        t->reach[k] = with_margin(cs_kind_reach_m(&s->settings.kinds[k]));
    return CS_OK;
}

static void stream_end(streamed *t)
{
    if (t->index)
        drop_indexes(t);
    for (size_t p = 0; t->m && p < t->c->parts; p++)
        cut_members_free(&t->m[p]);
    cs_free(t->m);
    cs_free(t->out);
    cs_free(t->pop);
    cs_free(t->index);
    cs_free(t->fac_of);
    cs_free(t->reach);
    cs_free(t->held);
    cs_free(t->holders_at);
    cs_free(t->holders);
    cs_free(t->stamp);
    cs_free(t->found);
    for (size_t j = 0; t->near && j < t->K * NEAR_PLACES; j++)
        cs_free(t->near[j].in);
    cs_free(t->near);
    cs_net_owners_free(&t->owners);
    cs_net_window_free(&t->win);
    cs_free(t->spots);
}

/* The own edges of the facilities some shard holds of the kinds with a load capacity
 * measured along the network; t->along when there are such facilities. */
static cs_status own_edges(streamed *t, const uint64_t *held_any)
{
    const cs_study *s = t->c->s;
    size_t *fac = cs_calloc(t->F + 1, sizeof *fac), n = 0;
    if (!fac)
        return cs_nomem(t->ctx);
    for (size_t f = 0; f < t->F; f++) {
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        if (kind->load_capacity >= 0 && (kind->measures & CS_MEASURE_NETWORK) &&
            has_bit(held_any, f))
            fac[n++] = f;
    }
    t->along = n > 0;
    cs_status st = cs_net_owners_make(t->c->net, &t->win, fac, n, cut_tile_m(s),
                                      t->ctx->threads, &t->owners);
    cs_free(fac);
    return st == CS_ERR_NOMEM ? cs_nomem(t->ctx) : st;
}

/* Readings 1 and 2, and the partition between them. */
static cs_status stream_members(streamed *t, const char *by)
{
    cs_context *ctx = t->ctx;
    cut *c = t->c;
    cs_progress(ctx, "grid", 0);
    cs_status st = cs_study_each_demand(ctx, c->s, count_areas, t);
    if (st != CS_OK)
        return st;
    cut_set_extent(c, t->ext);
    st = by ? cut_partition_by(ctx, c, by) : cut_partition(ctx, c, t->pop);
    if (st != CS_OK)
        return st;
    size_t P = c->parts;
    t->m = cs_calloc(P + 1, sizeof *t->m);
    t->held = cs_calloc(P * t->words + 1, sizeof *t->held);
    t->out = cs_calloc((P < STREAM_GROUP ? P : STREAM_GROUP) + 1, sizeof *t->out);
    t->stamp = cs_calloc(P + 1, sizeof *t->stamp);
    if (!t->m || !t->held || !t->out || !t->stamp)
        return cs_nomem(ctx);
    for (size_t k = 0; k < t->K; k++)
        if (!index_kind(t, k, NULL))
            return cs_nomem(ctx);
    st = read_again(t, hold_facilities);
    drop_indexes(t);
    if (st == CS_OK)
        st = list_facilities(t);
    /* reading 3 looks among the facilities some shard holds */
    uint64_t *held_any = st == CS_OK ? cs_calloc(t->words + 1, sizeof *held_any) : NULL;
    if (st == CS_OK && !held_any)
        st = cs_nomem(ctx);
    for (size_t p = 0; st == CS_OK && p < P; p++)
        for (size_t w = 0; w < t->words; w++)
            held_any[w] |= t->held[p * t->words + w];
    for (size_t k = 0; st == CS_OK && k < t->K; k++)
        if (c->s->settings.kinds[k].load_capacity >= 0 && !index_kind(t, k, held_any))
            st = cs_nomem(ctx);
    if (st == CS_OK && c->net)
        st = own_edges(t, held_any);
    cs_free(held_any);
    return st;
}

cs_status cut_by_strips(cs_context *ctx, cut *c, const char *by, const char *dir,
                        cs_json *j)
{
    streamed t;
    cs_status st = stream_begin(ctx, c, &t);
    if (st == CS_OK && cs_study_any_kind_measured(c->s, CS_MEASURE_NETWORK)) {
        c->net = cs_calloc(1, sizeof *c->net);
        st = c->net ? cs_shard_net_begin(ctx, c->cfg, c->s, c->net) : cs_nomem(ctx);
    }
    if (st == CS_OK)
        st = stream_members(&t, by);
    if (st == CS_OK)
        cut_manifest_begin(j, c);
    for (size_t from = 0; st == CS_OK && from < c->parts; from += STREAM_GROUP)
        st = write_group(&t, dir, from, from + STREAM_GROUP < c->parts ? from + STREAM_GROUP
                                                                         : c->parts);
    for (size_t p = 0; st == CS_OK && p < c->parts; p++)
        cut_manifest_shard(j, c, p, &t.m[p]);
    stream_end(&t);
    return st;
}
