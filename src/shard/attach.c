/*
 * attach.c — where points attach on the whole graph, never built: the points sorted into
 * square tiles, each tile's attached in a window over it (window.c), which is the whole
 * graph within the attachment distance of them. A point's edge is told by its two ends
 * and by what it is (its line and its polyline); the facilities' own edges are kept so
 * that a point on one of them is known.
 */
#include "shard/network.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ by tiles */

/* Point i attached to edge e of win's graph (-1: none within the distance). */
typedef cs_status (*attached_fn)(void *user, size_t i, const cs_net_window *win, long e);

typedef struct tiled {
    size_t tile, i;
} tiled;

static int by_tile(const void *pa, const void *pb)
{
    const tiled *a = pa, *b = pb;
    if (a->tile != b->tile)
        return a->tile < b->tile ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The points by tile (tile_m wide, from the points' box), each tile's in their order. */
static tiled *tiles_of(const double *x, const double *y, size_t n, double tile_m)
{
    double box[4];
    cs_box_of(x, y, n, box);
    double across = floor((box[2] - box[0]) / tile_m) + 1;
    tiled *t = cs_calloc(n + 1, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        double tx = floor((x[i] - box[0]) / tile_m), ty = floor((y[i] - box[1]) / tile_m);
        /* a point without coordinates attaches nowhere: in a tile of its own, last */
        t[i] = (tiled){isfinite(tx) && isfinite(ty) ? (size_t)(ty * across + tx) : SIZE_MAX, i};
    }
    qsort(t, n, sizeof *t, by_tile);
    return t;
}

/* Attach the n points, a tile at a time, in win (the caller's; left as the last tile's),
 * handing each to fn. Errors: CS_ERR_NOMEM, fn's. */
static cs_status attach_by_tiles(const cs_shard_net *sn, cs_net_window *win, const double *x,
                                 const double *y, size_t n, double tile_m, int threads,
                                 attached_fn fn, void *user)
{
    double max_m = sn->s->net.max_attach_m;
    tiled *t = tiles_of(x, y, n, tile_m);
    double *tx = cs_calloc(n + 1, sizeof *tx), *ty = cs_calloc(n + 1, sizeof *ty);
    cs_status st = t && tx && ty ? CS_OK : CS_ERR_NOMEM;
    for (size_t a = 0, b; st == CS_OK && a < n; a = b) {
        for (b = a; b < n && t[b].tile == t[a].tile; b++)
            tx[b - a] = x[t[b].i], ty[b - a] = y[t[b].i];
        cs_attach at = {0};
        if (t[a].tile == SIZE_MAX) { /* without coordinates */
            for (size_t k = a; st == CS_OK && k < b; k++)
                st = fn(user, t[k].i, win, -1);
            continue;
        }
        double q[4];
        cs_box_of(tx, ty, b - a, q);
        cs_box_padded(q, max_m + 1, q); /* every edge a point can attach to */
        if (win->built && !cs_box_within(q, win->exact))
            cs_net_window_free(win); /* a window over the tiles so far would grow */
        st = cs_net_window_make(sn, win, q);
        if (st == CS_OK)
            st = cs_attach_points(&win->graph, win->index, tx, ty, b - a, max_m, threads, &at);
        for (size_t k = a; st == CS_OK && k < b; k++)
            st = fn(user, t[k].i, win, at.edge[k - a]);
        cs_attach_free(&at);
    }
    cs_free(t);
    cs_free(tx);
    cs_free(ty);
    return st;
}

/* ------------------------------------------------------------ edges told apart */

/* What edge e of the window is: its line among the study's and its polyline. */
typedef struct edge_id {
    size_t line, n;
    const double *x, *y;
} edge_id;

static edge_id edge_of(const cs_net_window *win, long e)
{
    const cs_graph *g = &win->graph;
    size_t a = g->edge_vstart[e];
    return (edge_id){win->line_of[g->edge_line[e]], g->edge_vstart[e + 1] - a, g->vx + a,
                     g->vy + a};
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    return h * 0xbf58476d1ce4e5b9u;
}

static uint64_t edge_hash(edge_id id)
{
    uint64_t h = mix(id.line, id.n);
    for (size_t v = 0; v < id.n; v++) {
        uint64_t bx, by;
        memcpy(&bx, &id.x[v], sizeof bx);
        memcpy(&by, &id.y[v], sizeof by);
        h = mix(mix(h, bx), by);
    }
    return h;
}

/* The order of two edges: by hash, line, length, then coordinates; 0 for the same. */
static int edge_cmp(uint64_t ha, edge_id a, uint64_t hb, edge_id b)
{
    if (ha != hb)
        return ha < hb ? -1 : 1;
    if (a.line != b.line)
        return a.line < b.line ? -1 : 1;
    if (a.n != b.n)
        return a.n < b.n ? -1 : 1;
    int c = memcmp(a.x, b.x, a.n * sizeof *a.x);
    return c ? c : memcmp(a.y, b.y, a.n * sizeof *a.y);
}

/* ------------------------------------------------------------ facilities' own edges */

void cs_net_owners_free(cs_net_owners *o)
{
    cs_free(o->fac);
    cs_free(o->hash);
    cs_free(o->line);
    cs_free(o->start);
    cs_free(o->x);
    cs_free(o->y);
    cs_free(o->order);
    memset(o, 0, sizeof *o);
}

static edge_id owned(const cs_net_owners *o, size_t k)
{
    return (edge_id){o->line[k], o->start[k + 1] - o->start[k], o->x + o->start[k],
                     o->y + o->start[k]};
}

typedef struct owners_fill {
    cs_net_owners *o;
    const size_t *fac;
    size_t xcap, ycap;
} owners_fill;

static cs_status own_edge(void *user, size_t i, const cs_net_window *win, long e)
{
    owners_fill *f = user;
    cs_net_owners *o = f->o;
    if (e < 0)
        return CS_OK; /* no edge near it: it lists none of its own */
    edge_id id = edge_of(win, e);
    size_t at = o->start[o->n];
    if (!cs_grow((void **)&o->x, &f->xcap, at + id.n, sizeof *o->x) ||
        !cs_grow((void **)&o->y, &f->ycap, at + id.n, sizeof *o->y))
        return CS_ERR_NOMEM;
    memcpy(o->x + at, id.x, id.n * sizeof *id.x);
    memcpy(o->y + at, id.y, id.n * sizeof *id.y);
    o->fac[o->n] = f->fac[i];
    o->hash[o->n] = edge_hash(id);
    o->line[o->n] = id.line;
    o->start[++o->n] = at + id.n;
    return CS_OK;
}

/* An owner to sort: qsort hands the comparison no other pointer. */
typedef struct owner_key {
    const cs_net_owners *o;
    size_t k;
} owner_key;

static int by_edge(const void *pa, const void *pb)
{
    const owner_key *a = pa, *b = pb;
    const cs_net_owners *o = a->o;
    int c = edge_cmp(o->hash[a->k], owned(o, a->k), o->hash[b->k], owned(o, b->k));
    return c ? c : (a->k > b->k) - (a->k < b->k);
}

cs_status cs_net_owners_make(const cs_shard_net *sn, cs_net_window *win, const size_t *fac,
                             size_t n, double tile_m, int threads, cs_net_owners *o)
{
    memset(o, 0, sizeof *o);
    double *x = cs_calloc(n + 1, sizeof *x), *y = cs_calloc(n + 1, sizeof *y);
    o->fac = cs_calloc(n + 1, sizeof *o->fac);
    o->hash = cs_calloc(n + 1, sizeof *o->hash);
    o->line = cs_calloc(n + 1, sizeof *o->line);
    o->start = cs_calloc(n + 2, sizeof *o->start);
    o->order = cs_calloc(n + 1, sizeof *o->order);
    owner_key *keys = cs_calloc(n + 1, sizeof *keys);
    cs_status st = x && y && o->fac && o->hash && o->line && o->start && o->order && keys
                       ? CS_OK
                       : CS_ERR_NOMEM;
    for (size_t j = 0; st == CS_OK && j < n; j++)
        x[j] = sn->s->fac.x[fac[j]], y[j] = sn->s->fac.y[fac[j]];
    owners_fill f = {.o = o, .fac = fac};
    if (st == CS_OK)
        st = attach_by_tiles(sn, win, x, y, n, tile_m, threads, own_edge, &f);
    for (size_t k = 0; st == CS_OK && k < o->n; k++)
        keys[k] = (owner_key){o, k};
    if (st == CS_OK)
        qsort(keys, o->n, sizeof *keys, by_edge);
    for (size_t k = 0; st == CS_OK && k < o->n; k++)
        o->order[k] = keys[k].k;
    cs_free(keys);
    cs_free(x);
    cs_free(y);
    if (st != CS_OK)
        cs_net_owners_free(o);
    return st;
}

/* ------------------------------------------------------------ points */

typedef struct spots_fill {
    const cs_net_owners *o;
    cs_net_spot *out;
} spots_fill;

/* The owners (in their order) whose own edge is `id`: [*from, *to). */
static void owners_of(const cs_net_owners *o, uint64_t h, edge_id id, size_t *from, size_t *to)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) { /* the first owner's edge not before id */
        size_t mid = lo + (hi - lo) / 2, k = o->order[mid];
        if (edge_cmp(o->hash[k], owned(o, k), h, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *from = *to = lo;
    while (*to < o->n && edge_cmp(o->hash[o->order[*to]], owned(o, o->order[*to]), h, id) == 0)
        (*to)++;
}

static cs_status spot(void *user, size_t i, const cs_net_window *win, long e)
{
    spots_fill *f = user;
    cs_net_spot *s = &f->out[i];
    *s = (cs_net_spot){NAN, NAN, NAN, NAN, 0, 0};
    if (e < 0)
        return CS_OK;
    const cs_graph *g = &win->graph;
    s->ux = g->node_x[g->edge_u[e]], s->uy = g->node_y[g->edge_u[e]];
    s->vx = g->node_x[g->edge_v[e]], s->vy = g->node_y[g->edge_v[e]];
    if (f->o && f->o->n) {
        edge_id id = edge_of(win, e);
        owners_of(f->o, edge_hash(id), id, &s->own_from, &s->own_to);
    }
    return CS_OK;
}

cs_status cs_net_spots(const cs_shard_net *sn, cs_net_window *win, const cs_net_owners *o,
                       const double *x, const double *y, size_t n, double tile_m, int threads,
                       cs_net_spot *out)
{
    spots_fill f = {o, out};
    return attach_by_tiles(sn, win, x, y, n, tile_m, threads, spot, &f);
}
