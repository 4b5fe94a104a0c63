/*
 * cut_matrix.c — careshed shard on a study whose cost matrix was left unread
 * (costs.deferred): the whole cut's shards, the matrix read as they are cut.
 */
#include "shard/cut.h"

#include <stdlib.h>
#include <string.h>

/*
 * A study whose cost matrix was left unread (costs.deferred) is cut as the whole cut
 * does, its pairs read from the table (cs_study_each_cost_pair) rather than held:
 *   1. once: for each shard, the facilities with a pair within their kind's reach of an
 *      own resident (what matrix_reaches finds), a bit per facility;
 *   2. once per group of shards, after each shard's own residents, facilities and the
 *      other context are gathered: the residents its facilities of a kind with a load
 *      capacity reach by the matrix become its context (what matrix_context marks), and
 *      its facilities' pairs within reach are kept; those to its points, by facility
 *      and point, a repeated pair at its cheapest, are its costs.csv.
 * A pair's test of reach on each copy of a repeated pair gives what the whole cut's test
 * on the cheapest gives, so the files are the whole cut's, byte for byte. A group holds
 * at most MATRIX_GROUP shards, and at most MATRIX_BYTES / (demand points) of them (each
 * marks its members in a byte per point); its kept pairs are what it holds besides.
 * Reading 1's bits take parts x facilities / 8 bytes.
 */
#define MATRIX_GROUP 64
#define MATRIX_BYTES ((size_t)256 << 20)

typedef struct matrix_cut {
    const cut *c;
    size_t words;       /* a shard's bits: one per facility */
    uint64_t *reaches;  /* parts x words: reading 1 */
    size_t from, n;     /* the group: shards from .. from + n - 1 */
    members *m;
    uint64_t *held;     /* n x words: the group's facilities */
} matrix_cut;

/* The table read again through a context of its own: what the load said of it (a
 * guessed encoding, say) is not said again, unless this reading fails. */
static cs_status read_pairs(cs_context *ctx, const cut *c, cs_pair_fn fn, void *user)
{
    cs_context *quiet = NULL;
    if (cs_context_create_for_thread(ctx, &quiet) != CS_OK)
        return cs_nomem(ctx);
    cs_status st = cs_study_each_cost_pair(quiet, c->cfg, c->s, fn, user);
    if (st != CS_OK)
        cs_context_absorb(ctx, quiet);
    cs_context_destroy(quiet);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* The pair's facility, when its pair is within its kind's reach (else -1). */
static long within_reach(const cs_study *s, size_t row, double cost, bool matrix_kinds_only)
{
    if (row >= s->fac.count)
        return -1; /* a candidate's: not cut */
    const cs_kind *kind = &s->settings.kinds[s->fac.kind[row]];
    if (matrix_kinds_only && !(kind->measures & CS_MEASURE_MATRIX))
        return -1;
    return cs_kind_matrix_m(kind, s->costs.in_m, cost) <= with_margin(cs_kind_reach_m(kind))
               ? (long)row
               : -1;
}

static cs_status note_reach(void *user, size_t row, size_t pt, double cost)
{
    matrix_cut *mc = user;
    const cs_study *s = mc->c->s;
    long f = within_reach(s, row, cost, true);
    if (f >= 0) {
        size_t p = (size_t)mc->c->shard_of[s->dem.area[pt]];
        set_bit(mc->reaches + p * mc->words, (size_t)f);
    }
    return CS_OK;
}

static bool add_pair(members *m, size_t f, size_t i, double cost)
{
    if (!cs_grow((void **)&m->pairs, &m->pair_cap, m->pair_n + 1, sizeof *m->pairs))
        return false;
    m->pairs[m->pair_n++] = (pair){(uint32_t)f, (uint32_t)i, cost};
    return true;
}

static cs_status take_pair(void *user, size_t row, size_t pt, double cost)
{
    matrix_cut *mc = user;
    const cs_study *s = mc->c->s;
    long f = within_reach(s, row, cost, false);
    if (f < 0)
        return CS_OK;
    const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
    bool competes = kind->load_capacity >= 0 && (kind->measures & CS_MEASURE_MATRIX);
    for (size_t g = 0; g < mc->n; g++) {
        if (!has_bit(mc->held + g * mc->words, (size_t)f))
            continue;
        members *m = &mc->m[g];
        if (competes && !m->in[pt])
            m->in[pt] = 2;
        if (!add_pair(m, (size_t)f, pt, cost))
            return CS_ERR_NOMEM;
    }
    return CS_OK;
}

static int by_pair(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->f != b->f)
        return a->f < b->f ? -1 : 1;
    if (a->i != b->i)
        return a->i < b->i ? -1 : 1;
    return a->cost < b->cost ? -1 : a->cost > b->cost;
}

/* The shard's kept pairs to its points, by facility and point, each pair once at its
 * cheapest (sorted cheapest first, the first of each is kept). */
static void settle_pairs(members *m)
{
    size_t n = 0;
    for (size_t q = 0; q < m->pair_n; q++)
        if (m->in[m->pairs[q].i])
            m->pairs[n++] = m->pairs[q];
    if (n > 1)
        qsort(m->pairs, n, sizeof *m->pairs, by_pair);
    m->pair_n = 0;
    for (size_t q = 0; q < n; q++)
        if (q == 0 || m->pairs[q].f != m->pairs[q - 1].f || m->pairs[q].i != m->pairs[q - 1].i)
            m->pairs[m->pair_n++] = m->pairs[q];
}

/* A gathered shard's lists cut to size: a group holds several. */
static cs_status shrink_members(cs_context *ctx, members *m)
{
    size_t *own = cs_reallocarray(m->own, m->own_n + 1, sizeof *own);
    if (own)
        m->own = own;
    size_t *fac = cs_reallocarray(m->fac, m->fac_n + 1, sizeof *fac);
    if (fac)
        m->fac = fac;
    cs_free(m->ctx); /* listed again once the matrix has added its context */
    m->ctx = NULL;
    m->ctx_n = 0;
    return own && fac ? CS_OK : cs_nomem(ctx);
}

static cs_status relist_context(cs_context *ctx, const cs_study *s, members *m)
{
    size_t n = 0;
    for (size_t i = 0; i < s->dem.count; i++)
        n += m->in[i] == 2;
    if (!(m->ctx = cs_calloc(n + 1, sizeof *m->ctx)))
        return cs_nomem(ctx);
    cut_list_context(s, m);
    return CS_OK;
}

/* Shards from .. from + n - 1: gathered, their pairs read, written. */
static cs_status matrix_group(cs_context *ctx, matrix_cut *mc, const char *dir, cs_json *j)
{
    const cut *c = mc->c;
    mc->m = cs_calloc(mc->n + 1, sizeof *mc->m);
    mc->held = cs_calloc(mc->n * mc->words + 1, sizeof *mc->held);
    cs_status st = mc->m && mc->held ? CS_OK : cs_nomem(ctx);
    for (size_t g = 0; st == CS_OK && g < mc->n; g++) {
        members *m = &mc->m[g];
        st = cut_gather(ctx, c, mc->from + g, mc->reaches + (mc->from + g) * mc->words, m);
        if (st == CS_OK)
            st = shrink_members(ctx, m);
        for (size_t q = 0; st == CS_OK && q < m->fac_n; q++)
            set_bit(mc->held + g * mc->words, m->fac[q]);
    }
    if (st == CS_OK)
        st = read_pairs(ctx, c, take_pair, mc);
    for (size_t g = 0; st == CS_OK && g < mc->n; g++) {
        size_t p = mc->from + g;
        members *m = &mc->m[g];
        st = relist_context(ctx, c->s, m);
        if (st == CS_OK) {
            double box[4];
            settle_pairs(m);
            cut_points_box(c->s, m, box);
            cut_shard_box(c, p, box, m);
            st = cut_write_shard(ctx, c, p, m, dir);
        }
        if (st == CS_OK)
            cut_manifest_shard(j, c, p, m);
        cut_members_free(m);
        cs_progress(ctx, "shards", (double)(p + 1) / (double)c->parts);
    }
    for (size_t g = 0; mc->m && g < mc->n; g++)
        cut_members_free(&mc->m[g]);
    cs_free(mc->m);
    cs_free(mc->held);
    mc->m = NULL;
    mc->held = NULL;
    return st;
}

cs_status cut_by_matrix(cs_context *ctx, const cut *c, const char *dir, cs_json *j)
{
    const cs_study *s = c->s;
    matrix_cut mc = {.c = c, .words = s->fac.count / 64 + 1};
    mc.reaches = cs_calloc(c->parts * mc.words + 1, sizeof *mc.reaches);
    cs_status st = mc.reaches ? CS_OK : cs_nomem(ctx);
    if (st == CS_OK)
        st = read_pairs(ctx, c, note_reach, &mc);
    size_t group = MATRIX_BYTES / (s->dem.count + 1);
    group = group < 1 ? 1 : group > MATRIX_GROUP ? MATRIX_GROUP : group;
    for (mc.from = 0; st == CS_OK && mc.from < c->parts; mc.from += group) {
        mc.n = c->parts - mc.from < group ? c->parts - mc.from : group;
        st = matrix_group(ctx, &mc, dir, j);
    }
    cs_free(mc.reaches);
    return st;
}
