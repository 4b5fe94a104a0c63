/*
 * network.c — the walking network cut for the shards: the whole graph built once, the
 * residents a shard's facilities can weigh along it, and each shard's edges.
 */
#include "shard/network.h"

#include "cost/nearest.h"
#include "shard/shard.h"

#include <math.h>
#include <string.h>

void cs_shard_net_free(cs_shard_net *sn)
{
    if (!sn)
        return;
    cs_net_free(&sn->net);
    cs_free(sn->first);
    cs_free(sn->of);
    memset(sn, 0, sizeof *sn);
}

cs_status cs_shard_net_begin(cs_context *ctx, const cs_study *s, cs_shard_net *out)
{
    memset(out, 0, sizeof *out);
    cs_status st = cs_net_prepare(ctx, s, &out->net);
    if (st != CS_OK)
        return st;
    const cs_graph *g = &out->net.graph;
    cs_box_of(g->node_x, g->node_y, g->node_count, out->box);
    cs_box_of(g->vx, g->vy, g->edge_vstart[g->edge_count], out->vbox);
    if (!cs_attach_by_edge(g, &out->net.demand, NULL, &out->first, &out->of)) {
        cs_shard_net_free(out);
        return cs_nomem(ctx);
    }
    return CS_OK;
}

static void mark_edge_points(const cs_shard_net *sn, size_t e, unsigned char *in)
{
    for (size_t q = sn->first[e]; q < sn->first[e + 1]; q++)
        if (!in[sn->of[q]])
            in[sn->of[q]] = 2;
}

cs_status cs_shard_net_context(const cs_shard_net *sn, const cs_study *s, const size_t *fac,
                               size_t n, double reach_m, int threads, unsigned char *in)
{
    if (n == 0)
        return CS_OK;
    const cs_graph *g = &sn->net.graph;
    size_t nn = g->node_count, most = nn > n ? nn : n;
    double *x = cs_calloc(most + 1, sizeof *x), *y = cs_calloc(most + 1, sizeof *y);
    double *d = cs_calloc(most + 1, sizeof *d), box[4];
    uint32_t *node = cs_calloc(nn + 1, sizeof *node);
    unsigned char *near = cs_calloc(nn + 1, 1);
    cs_point_index *index = NULL;
    bool ok = x && y && d && node && near;
    for (size_t j = 0; ok && j < n; j++) {
        x[j] = s->fac.x[fac[j]];
        y[j] = s->fac.y[fac[j]];
    }
    ok = ok && cs_point_index_create(x, y, n, &index) == CS_OK;
    if (ok) { /* only the nodes in the facilities' box padded by the reach can be near */
        cs_box_of(x, y, n, box);
        size_t q = 0;
        for (size_t v = 0; v < nn; v++)
            if (g->node_x[v] >= box[0] - reach_m && g->node_x[v] <= box[2] + reach_m &&
                g->node_y[v] >= box[1] - reach_m && g->node_y[v] <= box[3] + reach_m) {
                x[q] = g->node_x[v]; /* the facilities' copies are in the index */
                y[q] = g->node_y[v];
                node[q++] = (uint32_t)v;
            }
        cs_point_index_nearest_all(index, x, y, q, threads, d, NULL);
        for (size_t k = 0; k < q; k++)
            near[node[k]] = d[k] <= reach_m;
        for (size_t e = 0; e < g->edge_count; e++)
            if (near[g->edge_u[e]] || near[g->edge_v[e]])
                mark_edge_points(sn, e, in);
        for (size_t j = 0; j < n; j++)
            if (sn->net.facilities.edge[fac[j]] >= 0)
                mark_edge_points(sn, (size_t)sn->net.facilities.edge[fac[j]], in);
    }
    cs_point_index_destroy(index);
    cs_free(x);
    cs_free(y);
    cs_free(d);
    cs_free(node);
    cs_free(near);
    return ok ? CS_OK : CS_ERR_NOMEM;
}

/* Cells pad_m wide over the network's vertices, marked near the shard's points. */
typedef struct cells {
    double x0, y0, w;
    size_t nx, ny;
    unsigned char *near; /* a mark within one cell of a point's cell: pad_m of it */
} cells;

/* The cell of v along one axis, clamped to the grid (every vertex is on it). */
static size_t cell_of(double v, double v0, double w, size_t n)
{
    double c = (v - v0) / w;
    return c > 0 ? c < (double)(n - 1) ? (size_t)c : n - 1 : 0;
}

/* Mark the cells within one cell of (x, y)'s, those of the grid (a point more than a
 * cell beyond the network marks none). */
static void mark_near(cells *c, double x, double y)
{
    double fx = floor((x - c->x0) / c->w), fy = floor((y - c->y0) / c->w);
    if (!(fx >= -1 && fx <= (double)c->nx && fy >= -1 && fy <= (double)c->ny))
        return;
    long i = (long)fx, j = (long)fy;
    for (long b = j - 1; b <= j + 1; b++)
        for (long a = i - 1; a <= i + 1; a++)
            if (a >= 0 && b >= 0 && a < (long)c->nx && b < (long)c->ny)
                c->near[(size_t)b * c->nx + (size_t)a] = 1;
}

static bool cells_make(cells *c, const cs_shard_net *sn, const cs_study *s,
                       const unsigned char *in, const size_t *fac, size_t n, double pad_m)
{
    const double *v = sn->vbox;
    c->x0 = v[0], c->y0 = v[1];
    /* at most 4096 cells a side: wider cells near a huge network only add edges */
    c->w = fmax(pad_m, fmax(v[2] - v[0], v[3] - v[1]) / 4096);
    c->nx = (size_t)((v[2] - v[0]) / c->w) + 1;
    c->ny = (size_t)((v[3] - v[1]) / c->w) + 1;
    c->near = cs_calloc(c->nx * c->ny + 1, 1);
    if (!c->near)
        return false;
    for (size_t i = 0; i < s->dem.count; i++)
        if (in[i])
            mark_near(c, s->dem.x[i], s->dem.y[i]);
    for (size_t j = 0; j < n; j++)
        mark_near(c, s->fac.x[fac[j]], s->fac.y[fac[j]]);
    return true;
}

/* Whether edge e's polyline has a box meeting a marked cell. */
static bool edge_near(const cs_graph *g, size_t e, const cells *c)
{
    double b[4];
    size_t a = g->edge_vstart[e];
    cs_box_of(g->vx + a, g->vy + a, g->edge_vstart[e + 1] - a, b);
    size_t i0 = cell_of(b[0], c->x0, c->w, c->nx), i1 = cell_of(b[2], c->x0, c->w, c->nx);
    size_t j0 = cell_of(b[1], c->y0, c->w, c->ny), j1 = cell_of(b[3], c->y0, c->w, c->ny);
    for (size_t j = j0; j <= j1; j++)
        for (size_t i = i0; i <= i1; i++)
            if (c->near[j * c->nx + i])
                return true;
    return false;
}

cs_status cs_shard_net_file(const cs_shard_net *sn, const cs_study *s, const unsigned char *in,
                            const size_t *fac, size_t n, double pad_m, cs_buf *b,
                            size_t *edges)
{
    const cs_graph *g = &sn->net.graph;
    const double *speed = s->net.lines.speed;
    cells c;
    *edges = 0;
    if (!cells_make(&c, sn, s, in, fac, n, pad_m))
        return CS_ERR_NOMEM;
    cs_buf_add(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t e = 0; e < g->edge_count; e++) {
        /* the graph's first edge always: a shard far from every street still has a
           network, and an edge beyond pad_m is beyond its reach and attaching */
        if (e > 0 && !edge_near(g, e, &c))
            continue;
        cs_buf_add(b, (*edges)++ ? ",\n" : "\n");
        cs_buf_add(b, "{\"type\":\"Feature\",\"properties\":{\"speed\":");
        cs_shard_number(b, speed ? speed[g->edge_line[e]] : 1.0);
        cs_buf_add(b, "},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
        for (size_t v = g->edge_vstart[e]; v < g->edge_vstart[e + 1]; v++) {
            cs_buf_add(b, v > g->edge_vstart[e] ? ",[" : "[");
            cs_shard_number(b, g->vx[v]);
            cs_buf_addc(b, ',');
            cs_shard_number(b, g->vy[v]);
            cs_buf_addc(b, ']');
        }
        cs_buf_add(b, "]}}");
    }
    cs_buf_add(b, "\n]}\n");
    cs_free(c.near);
    return CS_OK;
}
