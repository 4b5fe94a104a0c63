/*
 * network.c — the walking network cut for the shards: the lines' boxes and the whole
 * graph's first edge, the residents a shard's facilities can weigh along it, and each
 * shard's edges, all from the shard's window (window.c).
 */
#include "shard/network.h"

#include "cost/nearest.h"
#include "shard/shard.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void cs_shard_net_free(cs_shard_net *sn)
{
    if (!sn)
        return;
    cs_net_window_free(&sn->win);
    cs_line_cache_destroy(sn->lines);
    cs_free(sn->own_box);
    cs_free(sn->grid.at);
    cs_free(sn->grid.line);
    cs_free(sn->grid.wide);
    cs_lines_free(&sn->first);
    memset(sn, 0, sizeof *sn);
}

/* Keep edge e of the window as the whole graph's first edge. False when out of memory. */
static bool keep_first(cs_shard_net *sn, size_t e)
{
    const cs_graph *g = &sn->win.graph;
    size_t a = g->edge_vstart[e], n = g->edge_vstart[e + 1] - a, line = g->edge_line[e];
    cs_lines *f = &sn->first;
    f->start = cs_calloc(2, sizeof *f->start);
    f->x = cs_calloc(n, sizeof *f->x);
    f->y = cs_calloc(n, sizeof *f->y);
    f->speed = cs_calloc(1, sizeof *f->speed);
    if (!f->start || !f->x || !f->y || !f->speed)
        return false;
    memcpy(f->x, g->vx + a, n * sizeof *f->x);
    memcpy(f->y, g->vy + a, n * sizeof *f->y);
    f->start[1] = n;
    f->count = 1;
    f->speed[0] = sn->win.lines.speed ? sn->win.lines.speed[line] : 1.0;
    sn->first_line = sn->win.line_of[line];
    return true;
}

/* The whole graph's first edge: the first edge of the first line that has one. It
 * starts where the line's first vertex snaps: in the window over that vertex. */
static cs_status find_first(cs_context *ctx, cs_shard_net *sn)
{
    const cs_study *s = sn->s;
    for (size_t i = 0; i < sn->line_count; i++) {
        const double *lb = sn->line_box + 4 * i;
        if (!(lb[0] <= lb[2] && lb[1] <= lb[3]))
            continue; /* no vertex with coordinates */
        long one = (long)i;
        cs_status st = cs_line_cache_hold(sn->lines, sn, lb, &one, 1);
        if (st != CS_OK)
            return st;
        const cs_lines *l = cs_line_cache_lines(sn->lines);
        size_t h = cs_line_cache_at(sn->lines, i), v = l->start[h];
        while (v < l->start[h + 1] && !(isfinite(l->x[v]) && isfinite(l->y[v])))
            v++;
        if (v == l->start[h + 1])
            continue; /* no vertex with coordinates */
        double d = fmax(s->net.snap_m, 0) + 1;
        double b[4] = {l->x[v] - d, l->y[v] - d, l->x[v] + d, l->y[v] + d};
        st = cs_net_window_cover(sn, b);
        if (st != CS_OK)
            return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
        const cs_graph *g = &sn->win.graph;
        for (size_t e = 0; e < g->edge_count; e++) {
            double eb[4];
            cs_edge_box(g, e, eb);
            if (sn->win.line_of[g->edge_line[e]] != i)
                continue;
            if (cs_box_meets(eb, b)) {
                st = keep_first(sn, e) ? CS_OK : cs_nomem(ctx);
                cs_net_window_free(&sn->win);
                return st;
            }
            break; /* the line's first edge is elsewhere: the line has none (see above) */
        }
        cs_net_window_free(&sn->win);
    }
    cs_where w = {.file = s->net.display};
    return cs_error(ctx, CS_ERR_INPUT, &w, "give a network with walkable ways of some length",
                    "the network has no edge of positive length");
}

/* A line over more cells than this is listed once, as wide, not in each of them. */
#define GRID_WIDE_CELLS 64

/* The cells of grid g that box b covers, clamped to the grid: false when none. */
static bool grid_cells(const cs_line_grid *g, const double b[4], size_t c[4])
{
    if (!(b[0] <= b[2] && b[1] <= b[3]))
        return false;
    double lo_x = floor((b[0] - g->x0) / g->cell), hi_x = floor((b[2] - g->x0) / g->cell);
    double lo_y = floor((b[1] - g->y0) / g->cell), hi_y = floor((b[3] - g->y0) / g->cell);
    if (hi_x < 0 || hi_y < 0 || lo_x >= (double)g->nx || lo_y >= (double)g->ny)
        return false;
    c[0] = lo_x < 0 ? 0 : (size_t)lo_x, c[1] = lo_y < 0 ? 0 : (size_t)lo_y;
    c[2] = hi_x >= (double)g->nx ? g->nx - 1 : (size_t)hi_x;
    c[3] = hi_y >= (double)g->ny ? g->ny - 1 : (size_t)hi_y;
    return true;
}

static bool is_wide(const size_t c[4])
{
    return (c[2] - c[0] + 1) * (c[3] - c[1] + 1) > GRID_WIDE_CELLS;
}

/* The lines by cells, an eighth as many as the lines (at most 4096 a side; a window is
 * some kilometres wide): counts, then places, in the lines' order, so that each cell
 * lists its lines ascending. */
static bool make_line_grid(cs_shard_net *sn)
{
    cs_line_grid *g = &sn->grid;
    double w = sn->box[2] - sn->box[0], h = sn->box[3] - sn->box[1];
    double side = sqrt(fmax(w * h, 1.0) / (double)(sn->line_count / 8 + 1));
    side = fmax(side, fmax(w, h) / 4096);
    g->cell = isfinite(side) && side > 0 ? side : 1.0;
    g->x0 = isfinite(sn->box[0]) ? sn->box[0] : 0, g->y0 = isfinite(sn->box[1]) ? sn->box[1] : 0;
    g->nx = isfinite(w) ? (size_t)(w / g->cell) + 1 : 1;
    g->ny = isfinite(h) ? (size_t)(h / g->cell) + 1 : 1;
    g->at = cs_calloc(g->nx * g->ny + 2, sizeof *g->at);
    if (!g->at)
        return false;
    size_t c[4];
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (size_t k = 0; k < g->nx * g->ny; k++)
                g->at[k + 2] += g->at[k + 1];
            g->line = cs_calloc(g->at[g->nx * g->ny + 1] + 1, sizeof *g->line);
            g->wide = cs_calloc(g->wide_n + 1, sizeof *g->wide);
            if (!g->line || !g->wide)
                return false;
            g->wide_n = 0;
        }
        for (size_t i = 0; i < sn->line_count; i++) {
            if (!grid_cells(g, sn->line_box + 4 * i, c))
                continue;
            if (is_wide(c)) {
                if (pass == 1)
                    g->wide[g->wide_n] = i;
                g->wide_n++;
                continue;
            }
            for (size_t cy = c[1]; cy <= c[3]; cy++)
                for (size_t cx = c[0]; cx <= c[2]; cx++) {
                    size_t k = cy * g->nx + cx;
                    if (pass == 0)
                        g->at[k + 2]++;
                    else
                        g->line[g->at[k + 1]++] = i;
                }
        }
    }
    return true;
}

long *cs_shard_net_lines_meeting(const cs_shard_net *sn, const double w[4], size_t *n)
{
    const cs_line_grid *g = &sn->grid;
    const double *box = sn->line_box;
    size_t c[4] = {1, 1, 0, 0}, cap = g->wide_n + 1; /* no cell, unless w covers some */
    grid_cells(g, w, c);
    for (size_t cy = c[1]; cy <= c[3]; cy++)
        cap += g->at[cy * g->nx + c[2] + 1] - g->at[cy * g->nx + c[0]];
    long *found = cs_calloc(cap, sizeof *found);
    if (!found)
        return NULL;
    *n = 0;
    for (size_t j = 0; j < g->wide_n; j++)
        if (cs_box_meets(box + 4 * g->wide[j], w))
            found[(*n)++] = (long)g->wide[j];
    for (size_t cy = c[1]; cy <= c[3]; cy++)
        for (size_t j = g->at[cy * g->nx + c[0]]; j < g->at[cy * g->nx + c[2] + 1]; j++) {
            size_t i = g->line[j];
            size_t ci[4] = {0};
            grid_cells(g, box + 4 * i, ci);
            /* listed in every cell it covers: take it from the first one w covers too */
            size_t first_x = ci[0] > c[0] ? ci[0] : c[0], first_y = ci[1] > c[1] ? ci[1] : c[1];
            if (cy == first_y && j >= g->at[cy * g->nx + first_x] &&
                j < g->at[cy * g->nx + first_x + 1] && cs_box_meets(box + 4 * i, w))
                found[(*n)++] = (long)i;
        }
    if (!cs_sort_ids(found, *n, sn->line_count + 1)) {
        cs_free(found);
        return NULL;
    }
    return found;
}

cs_status cs_shard_net_begin(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                            cs_shard_net *out)
{
    memset(out, 0, sizeof *out);
    out->s = s;
    cs_status st = cs_line_cache_create(ctx, cfg, s, &out->lines);
    const cs_lines *l = &s->net.lines;
    out->line_count = s->net.streamed ? s->net.known.count : l->count;
    if (st == CS_OK && s->net.streamed) {
        out->line_box = s->net.known.box;
    } else if (st == CS_OK) {
        out->line_box = out->own_box = cs_calloc(4 * l->count + 1, sizeof *out->own_box);
        if (!out->own_box)
            st = cs_nomem(ctx);
        for (size_t i = 0; st == CS_OK && i < l->count; i++)
            cs_box_of(l->x + l->start[i], l->y + l->start[i], l->start[i + 1] - l->start[i],
                      out->own_box + 4 * i);
    }
    /* the box of every vertex: of every line's box (NaN vertices passed over in both) */
    out->box[0] = out->box[1] = INFINITY, out->box[2] = out->box[3] = -INFINITY;
    for (size_t i = 0; st == CS_OK && i < out->line_count; i++)
        cs_box_join(out->box, out->line_box + 4 * i);
    if (st == CS_OK && !make_line_grid(out))
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = find_first(ctx, out);
    if (st != CS_OK)
        cs_shard_net_free(out);
    return st;
}

/* The edges of the window a search of reach_m from the facilities (at x, y) can list:
 * those with an end within reach_m of one in a straight line, and their own (attached
 * within max_m); into on[], and their box into ebox. False when out of memory. */
static bool listed_edges(const cs_net_window *win, const double *x, const double *y, size_t n,
                         double reach_m, double max_m, int threads, uint8_t *on,
                         double ebox[4])
{
    const cs_graph *g = &win->graph;
    size_t nn = g->node_count;
    double *nx = cs_calloc(nn + 1, sizeof *nx), *ny = cs_calloc(nn + 1, sizeof *ny);
    double *d = cs_calloc(nn + 1, sizeof *d), box[4];
    uint32_t *node = cs_calloc(nn + 1, sizeof *node);
    uint8_t *near = cs_calloc(nn + 1, 1);
    cs_point_index *index = NULL;
    cs_attach own = {0};
    bool ok = nx && ny && d && node && near && cs_point_index_create(x, y, n, &index) == CS_OK &&
              cs_attach_points(g, win->index, x, y, n, max_m, threads, &own) == CS_OK;
    if (ok) { /* only the nodes in the facilities' box padded by the reach can be near */
        cs_box_of(x, y, n, box);
        cs_box_padded(box, reach_m, box);
        size_t q = 0;
        for (size_t v = 0; v < nn; v++)
            if (cs_box_holds(box, g->node_x[v], g->node_y[v])) {
                nx[q] = g->node_x[v];
                ny[q] = g->node_y[v];
                node[q++] = (uint32_t)v;
            }
        cs_point_index_nearest_all(index, nx, ny, q, threads, d, NULL);
        for (size_t k = 0; k < q; k++)
            near[node[k]] = d[k] <= reach_m;
        for (size_t e = 0; e < g->edge_count; e++)
            on[e] = near[g->edge_u[e]] || near[g->edge_v[e]];
        for (size_t j = 0; j < n; j++)
            if (own.edge[j] >= 0)
                on[own.edge[j]] = 1;
        ebox[0] = ebox[1] = INFINITY, ebox[2] = ebox[3] = -INFINITY;
        for (size_t e = 0; e < g->edge_count; e++)
            if (on[e]) {
                double b[4];
                cs_edge_box(g, e, b);
                cs_box_join(ebox, b);
            }
    }
    cs_attach_free(&own);
    cs_point_index_destroy(index);
    cs_free(nx);
    cs_free(ny);
    cs_free(d);
    cs_free(node);
    cs_free(near);
    return ok;
}

/* Mark as context the points not yet in that attach to an edge on[]: only those within
 * max_m of ebox can. False when out of memory. */
static bool mark_attached(const cs_shard_net *sn, const uint8_t *on, const double ebox[4],
                          int threads, unsigned char *in)
{
    const cs_study *s = sn->s;
    double max_m = s->net.max_attach_m, b[4] = {ebox[0], ebox[1], ebox[2], ebox[3]};
    cs_box_padded(b, max_m, b);
    size_t n = 0;
    for (size_t i = 0; i < s->dem.count; i++)
        n += !in[i] && cs_box_holds(b, s->dem.x[i], s->dem.y[i]);
    size_t *which = cs_calloc(n + 1, sizeof *which);
    double *x = cs_calloc(n + 1, sizeof *x), *y = cs_calloc(n + 1, sizeof *y);
    cs_attach a = {0};
    bool ok = which && x && y;
    n = 0;
    for (size_t i = 0; ok && i < s->dem.count; i++)
        if (!in[i] && cs_box_holds(b, s->dem.x[i], s->dem.y[i])) {
            x[n] = s->dem.x[i];
            y[n] = s->dem.y[i];
            which[n++] = i;
        }
    ok = ok && cs_attach_points(&sn->win.graph, sn->win.index, x, y, n, max_m, threads, &a) ==
                   CS_OK;
    for (size_t k = 0; ok && k < n; k++)
        if (a.edge[k] >= 0 && on[a.edge[k]])
            in[which[k]] = 2;
    cs_attach_free(&a);
    cs_free(which);
    cs_free(x);
    cs_free(y);
    return ok;
}

cs_status cs_shard_net_context(cs_shard_net *sn, const size_t *fac, size_t n, double reach_m,
                               int threads, unsigned char *in)
{
    if (n == 0)
        return CS_OK;
    const cs_study *s = sn->s;
    double max_m = s->net.max_attach_m;
    double *x = cs_calloc(n, sizeof *x), *y = cs_calloc(n, sizeof *y), q[4], ebox[4];
    uint8_t *on = NULL;
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        return CS_ERR_NOMEM;
    }
    for (size_t j = 0; j < n; j++) {
        x[j] = s->fac.x[fac[j]];
        y[j] = s->fac.y[fac[j]];
    }
    cs_box_of(x, y, n, q);
    cs_box_padded(q, fmax(reach_m, max_m) + 1, q);
    cs_status st = CS_OK;
    /* the window must hold the edges listed and what points attach to them: grow it to
     * the listed edges' box and two attachments, until it holds them */
    while (st == CS_OK && (st = cs_net_window_cover(sn, q)) == CS_OK) {
        cs_free(on);
        on = cs_calloc(sn->win.graph.edge_count + 1, 1);
        if (!on || !listed_edges(&sn->win, x, y, n, reach_m, max_m, threads, on, ebox)) {
            st = CS_ERR_NOMEM;
            break;
        }
        double need[4] = {ebox[0], ebox[1], ebox[2], ebox[3]};
        cs_box_padded(need, 2 * max_m + 1, need);
        if (!(need[0] <= need[2]))
            break; /* no edge listed */
        cs_box_join(q, need);
        if (cs_box_within(q, sn->win.exact))
            break;
    }
    if (st == CS_OK && ebox[0] <= ebox[2] && !mark_attached(sn, on, ebox, threads, in))
        st = CS_ERR_NOMEM;
    cs_free(on);
    cs_free(x);
    cs_free(y);
    return st;
}

/* ------------------------------------------------------------ marks */

void cs_net_marks_begin(const cs_shard_net *sn, double pad_m, cs_net_marks *mk)
{
    const double *v = sn->box;
    *mk = (cs_net_marks){.x0 = v[0], .y0 = v[1], .last = SIZE_MAX,
                         .box = {INFINITY, INFINITY, -INFINITY, -INFINITY}};
    /* at most 4096 cells a side: wider cells near a huge network only add edges */
    mk->w = fmax(pad_m, fmax(v[2] - v[0], v[3] - v[1]) / 4096);
    mk->nx = (size_t)((v[2] - v[0]) / mk->w) + 1;
    mk->ny = (size_t)((v[3] - v[1]) / mk->w) + 1;
}

void cs_net_marks_free(cs_net_marks *mk)
{
    cs_free(mk->cell);
    mk->cell = NULL;
    mk->n = mk->cap = 0;
}

static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Each cell marked once, in order. */
static void marks_unique(cs_net_marks *mk)
{
    if (mk->n > 1)
        qsort(mk->cell, mk->n, sizeof *mk->cell, by_size);
    size_t k = 0;
    for (size_t i = 0; i < mk->n; i++)
        if (k == 0 || mk->cell[i] != mk->cell[k - 1])
            mk->cell[k++] = mk->cell[i];
    mk->n = k;
    mk->last = SIZE_MAX;
}

void cs_net_marks_add(cs_net_marks *mk, double x, double y)
{
    cs_box_join(mk->box, (double[4]){x, y, x, y});
    double fx = floor((x - mk->x0) / mk->w), fy = floor((y - mk->y0) / mk->w);
    /* a point more than a cell beyond the network marks none */
    if (!(fx >= -1 && fx <= (double)mk->nx && fy >= -1 && fy <= (double)mk->ny))
        return;
    size_t c = (size_t)(fy + 1) * (mk->nx + 2) + (size_t)(fx + 1); /* from (-1, -1) */
    if (c == mk->last || mk->failed)
        return;
    if (mk->n == mk->cap && mk->n >= 65536) /* the same cells come again and again */
        marks_unique(mk);
    if (mk->n == mk->cap && !cs_grow((void **)&mk->cell, &mk->cap, mk->n + 1, sizeof *mk->cell)) {
        mk->failed = true;
        return;
    }
    mk->cell[mk->n++] = mk->last = c;
}

/* The cells within one cell of a marked one, over the part of the grid they span. */
typedef struct cells {
    size_t i0, j0, nx, ny; /* the part: columns [i0, i0 + nx), rows [j0, j0 + ny) */
    unsigned char *near;
} cells;

/* The cell of v along one axis, clamped to the grid (every vertex is on it). */
static size_t cell_of(double v, double v0, double w, size_t n)
{
    double c = (v - v0) / w;
    return c > 0 ? c < (double)(n - 1) ? (size_t)c : n - 1 : 0;
}

static bool cells_make(cs_net_marks *mk, cells *c)
{
    marks_unique(mk);
    size_t W = mk->nx + 2, i0 = SIZE_MAX, i1 = 0, j0 = SIZE_MAX, j1 = 0;
    for (size_t k = 0; k < mk->n; k++) { /* in grid cells, a marked cell and its ring */
        size_t i = mk->cell[k] % W, j = mk->cell[k] / W; /* the cell's (i - 1, j - 1) */
        i0 = i < i0 ? i : i0, i1 = i > i1 ? i : i1, j0 = j < j0 ? j : j0, j1 = j > j1 ? j : j1;
    }
    *c = (cells){0};
    if (mk->n == 0)
        return true;
    /* the ring of cells (i - 2 .. i) in the grid's columns, clipped */
    i0 = i0 >= 2 ? i0 - 2 : 0, j0 = j0 >= 2 ? j0 - 2 : 0;
    i1 = i1 < mk->nx ? i1 : mk->nx - 1, j1 = j1 < mk->ny ? j1 : mk->ny - 1;
    if (i0 > i1 || j0 > j1)
        return true;
    c->i0 = i0, c->j0 = j0, c->nx = i1 - i0 + 1, c->ny = j1 - j0 + 1;
    c->near = cs_calloc(c->nx * c->ny + 1, 1);
    if (!c->near)
        return false;
    for (size_t k = 0; k < mk->n; k++) {
        long i = (long)(mk->cell[k] % W) - 1, j = (long)(mk->cell[k] / W) - 1;
        for (long b = j - 1; b <= j + 1; b++)
            for (long a = i - 1; a <= i + 1; a++)
                if (a >= (long)i0 && b >= (long)j0 && a < (long)(i0 + c->nx) &&
                    b < (long)(j0 + c->ny))
                    c->near[(size_t)(b - (long)j0) * c->nx + (size_t)(a - (long)i0)] = 1;
    }
    return true;
}

/* Whether edge e's polyline has a box meeting a cell near a mark. */
static bool edge_near(const cs_graph *g, size_t e, const cs_net_marks *mk, const cells *c)
{
    double b[4];
    cs_edge_box(g, e, b);
    size_t i0 = cell_of(b[0], mk->x0, mk->w, mk->nx), i1 = cell_of(b[2], mk->x0, mk->w, mk->nx);
    size_t j0 = cell_of(b[1], mk->y0, mk->w, mk->ny), j1 = cell_of(b[3], mk->y0, mk->w, mk->ny);
    i0 = i0 > c->i0 ? i0 : c->i0, j0 = j0 > c->j0 ? j0 : c->j0;
    for (size_t j = j0; j <= j1 && j < c->j0 + c->ny; j++)
        for (size_t i = i0; i <= i1 && i < c->i0 + c->nx; i++)
            if (c->near[(j - c->j0) * c->nx + (i - c->i0)])
                return true;
    return false;
}

/* Whether edge e of the window is the whole graph's first edge. */
static bool is_first(const cs_shard_net *sn, size_t e)
{
    const cs_graph *g = &sn->win.graph;
    const cs_lines *f = &sn->first;
    size_t a = g->edge_vstart[e], n = g->edge_vstart[e + 1] - a;
    return sn->win.line_of[g->edge_line[e]] == sn->first_line && n == f->start[1] &&
           !memcmp(g->vx + a, f->x, n * sizeof *f->x) &&
           !memcmp(g->vy + a, f->y, n * sizeof *f->y);
}

static void edge_feature(cs_buf *b, double speed, const double *x, const double *y, size_t n,
                         bool first)
{
    cs_buf_add(b, first ? "\n" : ",\n");
    cs_buf_add(b, "{\"type\":\"Feature\",\"properties\":{\"speed\":");
    cs_shard_number(b, speed);
    cs_buf_add(b, "},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
    for (size_t v = 0; v < n; v++) {
        cs_buf_add(b, v ? ",[" : "[");
        cs_shard_number(b, x[v]);
        cs_buf_addc(b, ',');
        cs_shard_number(b, y[v]);
        cs_buf_addc(b, ']');
    }
    cs_buf_add(b, "]}}");
}

cs_status cs_shard_net_file(cs_shard_net *sn, cs_net_marks *mk, const size_t *fac, size_t n,
                            cs_buf *b, size_t *edges)
{
    const cs_study *s = sn->s;
    *edges = 0;
    for (size_t j = 0; j < n; j++)
        cs_net_marks_add(mk, s->fac.x[fac[j]], s->fac.y[fac[j]]);
    cells c;
    if (mk->failed || !cells_make(mk, &c))
        return CS_ERR_NOMEM;
    double marked[4]; /* the marked cells lie within it */
    cs_box_padded(mk->box, 2 * mk->w + 1, marked);
    cs_status st = mk->box[0] <= mk->box[2] ? cs_net_window_cover(sn, marked) : CS_OK;
    if (st != CS_OK) {
        cs_free(c.near);
        return st;
    }
    cs_buf_add(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    /* the whole graph's first edge always: a shard far from every street still has a
       network, and an edge beyond pad_m is beyond its reach and attaching */
    const cs_lines *f = &sn->first;
    edge_feature(b, f->speed[0], f->x, f->y, f->start[1], true);
    (*edges)++;
    const cs_graph *g = &sn->win.graph;
    for (size_t e = 0; c.near && e < g->edge_count; e++) {
        if (!edge_near(g, e, mk, &c) || is_first(sn, e))
            continue;
        size_t a = g->edge_vstart[e];
        size_t line = g->edge_line[e];
        edge_feature(b, sn->win.lines.speed ? sn->win.lines.speed[line] : 1.0, g->vx + a, g->vy + a,
                     g->edge_vstart[e + 1] - a, false);
        (*edges)++;
    }
    cs_buf_add(b, "\n]}\n");
    cs_free(c.near);
    return CS_OK;
}
