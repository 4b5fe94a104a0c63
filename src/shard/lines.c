/*
 * lines.c — the network's lines as the cut holds them. A study loaded whole holds them
 * all. A network left to read (careshed shard: cs_config_stream_inputs) is held only
 * near the windows lately built: when a window needs a line not held, the lines meeting
 * a box around the window, grown while their vertices fit the budget
 * (shard.network_memory_mb), are held instead: those held already stay, the others are
 * let go, and the network is read again (cs_study_each_network_batch) for the missing
 * ones: only the features meeting them when the file has a spatial index (a GeoPackage
 * or FlatGeobuf), else the whole file. Shards near each other are cut one after
 * another, so a reading serves a group of them. (A network within the budget is held as
 * the study is loaded, and never read again.)
 */
#include "shard/network.h"

#include "shard/shard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bytes a line held takes besides its vertices: its start, speed and study index. */
#define LINE_BYTES (3 * sizeof(size_t))
#define VERTEX_BYTES (2 * sizeof(double))

struct cs_line_cache {
    cs_context *ctx;
    const cs_config *cfg;
    const cs_study *s;
    size_t budget;       /* bytes the lines held may take (streamed) */
    cs_lines held;       /* the lines held (cs_line_cache_at finds each) */
    size_t held_cap, vertex_cap;
    size_t *line;        /* streamed: each line held's index among the study's */
    long *slot;          /* streamed: each study line's index in held, -1 when not held,
                            -2 while it is being read */
    cs_network_reading tally; /* the readings again */
};

static bool streamed(const cs_line_cache *c)
{
    return c->slot != NULL;
}

void cs_line_cache_destroy(cs_line_cache *c)
{
    if (!c)
        return;
    if (streamed(c))
        cs_lines_free(&c->held);
    cs_free(c->line);
    cs_free(c->slot);
    cs_free(c);
}

cs_status cs_line_cache_create(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                               cs_line_cache **out)
{
    cs_line_cache *c = cs_calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return cs_nomem(ctx);
    *c = (cs_line_cache){.ctx = ctx, .cfg = cfg, .s = s};
    if (!s->net.streamed) {
        c->held = s->net.lines; /* borrowed: never freed here */
        return CS_OK;
    }
    double mb = cfg ? cfg->shard_network_mb : 0; /* 0: only the lines a window needs */
    c->budget = (size_t)fmin(mb * 1048576.0, (double)SIZE_MAX / 2);
    c->slot = cs_calloc(s->net.known.count + 1, sizeof *c->slot);
    if (!c->slot)
        return cs_nomem(ctx);
    for (size_t i = 0; i < s->net.known.count; i++)
        c->slot[i] = -1;
    return CS_OK;
}

const cs_lines *cs_line_cache_lines(const cs_line_cache *c)
{
    return &c->held;
}

size_t cs_line_cache_at(const cs_line_cache *c, size_t line)
{
    return streamed(c) ? (size_t)c->slot[line] : line;
}

const cs_network_reading *cs_line_cache_readings(const cs_line_cache *c)
{
    return &c->tally;
}

/* The bytes lines[] take held. */
static size_t bytes_of(const cs_line_cache *c, const long *lines, size_t n)
{
    size_t b = 0;
    for (size_t j = 0; j < n; j++)
        b += LINE_BYTES + VERTEX_BYTES * c->s->net.known.vertices[lines[j]];
    return b;
}

/* Whether the lines meeting box b fit the budget: then they replace *best (*n). False
 * when they do not, or without memory (*failed). */
static bool fits(const cs_line_cache *c, const cs_shard_net *sn, const double b[4],
                 long **best, size_t *n, bool *failed)
{
    size_t m = 0;
    long *lines = cs_shard_net_lines_meeting(sn, b, &m);
    *failed |= lines == NULL;
    if (!lines || bytes_of(c, lines, m) > c->budget) {
        cs_free(lines);
        return false;
    }
    cs_free(*best);
    *best = lines, *n = m;
    return true;
}

/*
 * The lines to read for window w: those meeting a box around it, as large as the budget
 * allows (w's own at least); into *n, a new array (NULL without memory). The cut walks
 * its tiles row by row across the network, and cuts shards near each other in turn: so
 * the box spans the network's width when that fits (a band), then grows up and down,
 * doubling; else it grows around w.
 */
static long *lines_to_read(const cs_line_cache *c, const cs_shard_net *sn, const double w[4],
                           size_t *n)
{
    long *best = cs_shard_net_lines_meeting(sn, w, n);
    bool failed = best == NULL;
    const double *all = sn->box;
    double b[4] = {fmin(w[0], all[0]), w[1], fmax(w[2], all[2]), w[3]};
    bool band = !failed && fits(c, sn, b, &best, n, &failed);
    if (!band)
        memcpy(b, w, sizeof b);
    double d = fmax(fmax(b[3] - b[1], band ? 0 : b[2] - b[0]) / 2, 500.0), g[4];
    while (!failed && !cs_box_within(all, b)) {
        memcpy(g, b, sizeof g);
        g[1] -= d, g[3] += d;
        if (!band)
            g[0] -= d, g[2] += d;
        if (!fits(c, sn, g, &best, n, &failed))
            break;
        memcpy(b, g, sizeof b);
        d *= 2;
    }
    if (failed) {
        cs_free(best);
        return NULL;
    }
    return best;
}

/* Room for `lines` lines of `vertices` vertices in all, those held kept: made at once,
 * as doubling would take up to twice what they need. False when out of memory (what is
 * held is still there). */
static bool reserve(cs_line_cache *c, size_t lines, size_t vertices)
{
    cs_lines *h = &c->held;
    void **per_line[] = {(void **)&h->start, (void **)&c->line, (void **)&h->speed};
    const size_t line_sizes[] = {sizeof *h->start, sizeof *c->line, sizeof *h->speed};
    void **per_vertex[] = {(void **)&h->x, (void **)&h->y};
    for (size_t i = 0; lines + 1 > c->held_cap && i < (c->s->net.known.speed ? 3u : 2u); i++) {
        void *p = cs_reallocarray(*per_line[i], lines + 1, line_sizes[i]);
        if (!p)
            return false;
        *per_line[i] = p;
    }
    c->held_cap = lines + 1 > c->held_cap ? lines + 1 : c->held_cap;
    for (size_t i = 0; vertices + 1 > c->vertex_cap && i < 2; i++) {
        void *p = cs_reallocarray(*per_vertex[i], vertices + 1, sizeof(double));
        if (!p)
            return false;
        *per_vertex[i] = p;
    }
    c->vertex_cap = vertices + 1 > c->vertex_cap ? vertices + 1 : c->vertex_cap;
    return true;
}

/* The lines held that keep[] marks kept (moved to the front, in their order), the others
 * let go. */
static void keep_held(cs_line_cache *c, const uint8_t *keep)
{
    cs_lines *h = &c->held;
    size_t k = 0, at = 0, a = h->count ? h->start[0] : 0;
    for (size_t j = 0; j < h->count; j++) {
        size_t b = h->start[j + 1], n = b - a; /* read before start[k], k <= j, is written */
        if (keep[j]) {
            memmove(h->x + at, h->x + a, n * sizeof *h->x);
            memmove(h->y + at, h->y + a, n * sizeof *h->y);
            if (h->speed)
                h->speed[k] = h->speed[j];
            c->line[k] = c->line[j];
            c->slot[c->line[k]] = (long)k;
            h->start[k++] = at;
            at += n;
        } else {
            c->slot[c->line[j]] = -1;
        }
        a = b;
    }
    h->count = k;
    if (h->start)
        h->start[k] = at;
}

/* Room for one more line of n vertices in the lines held. */
static bool room(cs_line_cache *c, size_t n)
{
    cs_lines *h = &c->held;
    size_t at = h->count ? h->start[h->count] : 0, lc = c->held_cap, xc = c->vertex_cap;
    size_t yc = c->vertex_cap;
    void **arrays[] = {(void **)&h->start, (void **)&c->line, (void **)&h->speed};
    const size_t sizes[] = {sizeof *h->start, sizeof *c->line, sizeof *h->speed};
    if (!cs_grow_together(arrays, sizes, c->s->net.known.speed ? 3 : 2, &lc, h->count + 2) ||
        !cs_grow((void **)&h->x, &xc, at + n, sizeof *h->x) ||
        !cs_grow((void **)&h->y, &yc, at + n, sizeof *h->y))
        return false;
    c->held_cap = lc, c->vertex_cap = xc;
    return true;
}

/* Whether line i is marked to read (slot -2; a line past those known is not). */
static bool marked(void *user, size_t i)
{
    const cs_line_cache *c = user;
    return i < c->s->net.known.count && c->slot[i] == -2;
}

/* A batch read again: the lines marked to read added to those held. */
static cs_status keep_marked(void *user, const cs_lines *batch, const size_t *line)
{
    cs_line_cache *c = user;
    cs_lines *h = &c->held;
    for (size_t i = 0; i < batch->count; i++) {
        size_t a = batch->start[i], n = batch->start[i + 1] - a;
        if (!room(c, n))
            return CS_ERR_NOMEM;
        size_t at = h->count ? h->start[h->count] : 0;
        memcpy(h->x + at, batch->x + a, n * sizeof *h->x);
        memcpy(h->y + at, batch->y + a, n * sizeof *h->y);
        h->start[h->count] = at;
        if (h->speed)
            h->speed[h->count] = batch->speed ? batch->speed[i] : 1.0;
        c->line[h->count] = line[i];
        h->start[h->count + 1] = at + n;
        c->slot[line[i]] = (long)h->count++;
    }
    return CS_OK;
}

/* Let every line held go, and those of lines[] being read (slot -1). */
static void let_go(cs_line_cache *c, const long *lines, size_t n)
{
    cs_lines *h = &c->held;
    for (size_t j = 0; j < h->count; j++)
        c->slot[c->line[j]] = -1;
    h->count = 0;
    for (size_t j = 0; j < n; j++)
        c->slot[lines[j]] = -1;
}

cs_status cs_line_cache_hold(cs_line_cache *c, const cs_shard_net *sn, const double w[4],
                             const long *lines, size_t n)
{
    if (!streamed(c))
        return CS_OK;
    size_t missing = 0;
    for (size_t j = 0; j < n; j++)
        missing += c->slot[lines[j]] < 0;
    if (missing == 0)
        return CS_OK;
    size_t m = 0;
    long *read = lines_to_read(c, sn, w, &m);
    if (!read)
        return cs_nomem(c->ctx);
    /* the lines held that the new box also wants stay (about half of them, as the cut
     * walks on), the others go; only those missing are read */
    uint8_t *keep = cs_calloc(c->held.count + 1, 1);
    if (!keep) {
        cs_free(read);
        return cs_nomem(c->ctx);
    }
    for (size_t j = 0; j < m; j++)
        if (c->slot[read[j]] >= 0)
            keep[c->slot[read[j]]] = 1;
    keep_held(c, keep);
    cs_free(keep);
    size_t vertices = c->held.count ? c->held.start[c->held.count] : 0;
    for (size_t j = 0; j < m; j++) {
        vertices += c->slot[read[j]] < 0 ? c->s->net.known.vertices[read[j]] : 0;
        if (c->slot[read[j]] < 0)
            c->slot[read[j]] = -2;
    }
    if (!reserve(c, m, vertices)) {
        let_go(c, read, m);
        cs_free(read);
        return cs_nomem(c->ctx);
    }
    double t0 = cs_stage_begin();
    size_t by_window = c->tally.by_window;
    cs_status st = cs_study_each_network_batch(c->ctx, c->cfg, c->s, marked, keep_marked, c,
                                               &c->tally);
    cs_stage_end(c->ctx, c->tally.by_window > by_window ? "read network by window"
                                                        : "read network again", t0);
    if (st == CS_ERR_NOMEM)
        st = cs_nomem(c->ctx);
    /* read whole (as many lines as at the load), every line marked came: lines[] among
     * them, as they meet w */
    if (st != CS_OK) /* nothing half read is kept */
        let_go(c, read, m);
    cs_free(read);
    return st;
}
