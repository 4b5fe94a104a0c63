/*
 * attach.c — where points meet the network: a uniform grid over every segment of every
 * edge, searched ring by ring outwards from a point's cell until no closer segment can
 * remain; the point attaches to the nearest point of the nearest segment. Equal
 * distances go to the lowest edge, then the smallest along-distance, so the answer
 * never depends on the order cells are visited or on the thread count.
 */
#include "net/graph.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

struct cs_segment_index {
    const cs_graph *g;
    double x0, y0, cell;
    size_t nx, ny;
    size_t *first;    /* cell c's segments are seg[first[c] .. first[c + 1]) */
    uint32_t *seg;    /* segment = index of its first vertex in g->vx/vy */
    uint32_t *edge;   /* the edge of each vertex's segment */
    double *along;    /* along-distance of each vertex from its edge's start */
};

void cs_attach_free(cs_attach *a)
{
    if (!a)
        return;
    cs_free(a->edge);
    cs_free(a->along_m);
    cs_free(a->access_m);
    memset(a, 0, sizeof *a);
}

void cs_segment_index_destroy(cs_segment_index *ix)
{
    if (!ix)
        return;
    cs_free(ix->first);
    cs_free(ix->seg);
    cs_free(ix->edge);
    cs_free(ix->along);
    cs_free(ix);
}

static size_t cell_of(double v, double v0, double cell, size_t n)
{
    double c = floor((v - v0) / cell);
    return c < 0 ? 0 : c >= (double)n ? n - 1 : (size_t)c;
}

/* The grid's extent and cell size: about two segments per cell on average. */
static void size_grid(cs_segment_index *ix, size_t nseg)
{
    const cs_graph *g = ix->g;
    size_t nv = g->edge_vstart[g->edge_count];
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t v = 0; v < nv; v++) {
        x0 = fmin(x0, g->vx[v]);
        x1 = fmax(x1, g->vx[v]);
        y0 = fmin(y0, g->vy[v]);
        y1 = fmax(y1, g->vy[v]);
    }
    if (nv == 0)
        x0 = y0 = x1 = y1 = 0;
    double w = fmax(x1 - x0, 1), h = fmax(y1 - y0, 1);
    ix->cell = fmax(sqrt(w * h / (double)(nseg ? nseg : 1) * 2), 1.0);
    ix->x0 = x0;
    ix->y0 = y0;
    ix->nx = (size_t)(w / ix->cell) + 1;
    ix->ny = (size_t)(h / ix->cell) + 1;
}

/* Put every segment into each cell its bounding box touches (CSR, two passes). */
static bool fill_grid(cs_segment_index *ix)
{
    const cs_graph *g = ix->g;
    size_t ncell = ix->nx * ix->ny;
    ix->first = cs_calloc(ncell + 2, sizeof *ix->first);
    if (!ix->first)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t e = 0; e < g->edge_count; e++)
            for (size_t v = g->edge_vstart[e]; v + 1 < g->edge_vstart[e + 1]; v++) {
                size_t cx0 = cell_of(fmin(g->vx[v], g->vx[v + 1]), ix->x0, ix->cell, ix->nx);
                size_t cx1 = cell_of(fmax(g->vx[v], g->vx[v + 1]), ix->x0, ix->cell, ix->nx);
                size_t cy0 = cell_of(fmin(g->vy[v], g->vy[v + 1]), ix->y0, ix->cell, ix->ny);
                size_t cy1 = cell_of(fmax(g->vy[v], g->vy[v + 1]), ix->y0, ix->cell, ix->ny);
                for (size_t cy = cy0; cy <= cy1; cy++)
                    for (size_t cx = cx0; cx <= cx1; cx++) {
                        size_t c = cy * ix->nx + cx;
                        if (pass == 0)
                            ix->first[c + 2]++;
                        else
                            ix->seg[ix->first[c + 1]++] = (uint32_t)v;
                    }
            }
        if (pass == 0) {
            /* first[c + 2] counted cell c; shifted sums make first[c + 1] the fill
             * cursor of cell c, which ends as cell c + 1's start */
            for (size_t c = 0; c < ncell; c++)
                ix->first[c + 2] += ix->first[c + 1];
            ix->seg = cs_calloc(ix->first[ncell + 1] + 1, sizeof *ix->seg);
            if (!ix->seg)
                return false;
        }
    }
    return true;
}

cs_status cs_segment_index_create(const cs_graph *g, cs_segment_index **out)
{
    *out = NULL;
    cs_segment_index *ix = cs_calloc(1, sizeof *ix);
    if (!ix)
        return CS_ERR_NOMEM;
    ix->g = g;
    size_t nv = g->edge_vstart[g->edge_count];
    ix->edge = cs_calloc(nv + 1, sizeof *ix->edge);
    ix->along = cs_calloc(nv + 1, sizeof *ix->along);
    bool ok = ix->edge && ix->along;
    for (size_t e = 0; ok && e < g->edge_count; e++) {
        double walked = 0;
        for (size_t v = g->edge_vstart[e]; v < g->edge_vstart[e + 1]; v++) {
            if (v > g->edge_vstart[e])
                walked += hypot(g->vx[v] - g->vx[v - 1], g->vy[v] - g->vy[v - 1]);
            ix->edge[v] = (uint32_t)e;
            ix->along[v] = walked;
        }
    }
    if (ok) {
        size_grid(ix, nv > g->edge_count ? nv - g->edge_count : 0);
        ok = fill_grid(ix);
    }
    if (!ok) {
        cs_segment_index_destroy(ix);
        return CS_ERR_NOMEM;
    }
    *out = ix;
    return CS_OK;
}

typedef struct hit {
    double dist, along;
    long edge;
} hit;

static bool better(double d, long e, double along, const hit *h)
{
    return d < h->dist || (d == h->dist && (e < h->edge || (e == h->edge && along < h->along)));
}

/* Offer segment v (from vertex v to v + 1) to the search for (x, y). */
static void try_segment(const cs_segment_index *ix, uint32_t v, double x, double y, hit *best)
{
    const cs_graph *g = ix->g;
    double ax = g->vx[v], ay = g->vy[v], dx = g->vx[v + 1] - ax, dy = g->vy[v + 1] - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double px = ax + t * dx, py = ay + t * dy;
    double d = hypot(x - px, y - py);
    double along = ix->along[v] + t * sqrt(len2);
    long e = (long)ix->edge[v];
    /* the along-distance is measured to the end vertex exactly, not through t */
    if (t == 1)
        along = ix->along[v + 1];
    if (better(d, e, along, best))
        *best = (hit){d, along, e};
}

static void scan_cell(const cs_segment_index *ix, long cx, long cy, double x, double y,
                      hit *best)
{
    if (cx < 0 || cy < 0 || cx >= (long)ix->nx || cy >= (long)ix->ny)
        return;
    size_t c = (size_t)cy * ix->nx + (size_t)cx;
    for (size_t i = ix->first[c]; i < ix->first[c + 1]; i++)
        try_segment(ix, ix->seg[i], x, y, best);
}

/* The nearest segment within max_m, by rings of cells around the point's cell. */
static hit nearest(const cs_segment_index *ix, double x, double y, double max_m)
{
    hit best = {INFINITY, 0, -1};
    if (!isfinite(x) || !isfinite(y) || ix->g->edge_count == 0)
        return best;
    long cx = (long)floor((x - ix->x0) / ix->cell), cy = (long)floor((y - ix->y0) / ix->cell);
    /* how far outside the grid the point is, in cells: rings before that are empty */
    long out_x = cx < 0 ? -cx : cx >= (long)ix->nx ? cx - (long)ix->nx + 1 : 0;
    long out_y = cy < 0 ? -cy : cy >= (long)ix->ny ? cy - (long)ix->ny + 1 : 0;
    long r0 = out_x > out_y ? out_x : out_y;
    long rmax = (long)(ix->nx > ix->ny ? ix->nx : ix->ny) + r0;
    for (long r = r0; r <= rmax; r++) {
        /* cells of ring r are at least (r - 1) cells from the point */
        if ((double)(r - 1) * ix->cell > fmin(best.dist, max_m))
            break;
        if (r == 0) {
            scan_cell(ix, cx, cy, x, y, &best);
            continue;
        }
        for (long i = -r; i <= r; i++) {
            scan_cell(ix, cx + i, cy - r, x, y, &best);
            scan_cell(ix, cx + i, cy + r, x, y, &best);
        }
        for (long i = -r + 1; i <= r - 1; i++) {
            scan_cell(ix, cx - r, cy + i, x, y, &best);
            scan_cell(ix, cx + r, cy + i, x, y, &best);
        }
    }
    if (!(best.dist <= max_m))
        best = (hit){INFINITY, 0, -1};
    return best;
}

/* The points in the order of the grid cells they fall in (a counting sort), so that
 * consecutive searches touch the same cells and segments: it halves the time of
 * attaching millions of points given in file order. */
static size_t *cell_order(const cs_segment_index *ix, const double *x, const double *y,
                          size_t n)
{
    size_t ncell = ix->nx * ix->ny;
    size_t *order = cs_calloc(n + 1, sizeof *order);
    size_t *start = cs_calloc(ncell + 2, sizeof *start);
    if (!order || !start) {
        cs_free(order);
        cs_free(start);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = isfinite(x[i]) && isfinite(y[i])
                       ? cell_of(y[i], ix->y0, ix->cell, ix->ny) * ix->nx +
                             cell_of(x[i], ix->x0, ix->cell, ix->nx)
                       : 0;
        start[c + 2]++;
    }
    for (size_t c = 0; c < ncell; c++)
        start[c + 2] += start[c + 1];
    for (size_t i = 0; i < n; i++) {
        size_t c = isfinite(x[i]) && isfinite(y[i])
                       ? cell_of(y[i], ix->y0, ix->cell, ix->ny) * ix->nx +
                             cell_of(x[i], ix->x0, ix->cell, ix->nx)
                       : 0;
        order[start[c + 1]++] = i;
    }
    cs_free(start);
    return order;
}

cs_status cs_attach_points(const cs_graph *g, const cs_segment_index *ix, const double *x,
                           const double *y, size_t n, double max_m, int threads,
                           cs_attach *out)
{
    (void)g;
    memset(out, 0, sizeof *out);
    out->edge = cs_calloc(n + 1, sizeof *out->edge);
    out->along_m = cs_calloc(n + 1, sizeof *out->along_m);
    out->access_m = cs_calloc(n + 1, sizeof *out->access_m);
    size_t *order = cell_order(ix, x, y, n);
    if (!out->edge || !out->along_m || !out->access_m || !order) {
        cs_attach_free(out);
        cs_free(order);
        return CS_ERR_NOMEM;
    }
    out->count = n;
#ifdef _OPENMP
    int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1024) num_threads(nt)
#else
    (void)threads;
#endif
    for (long k = 0; k < (long)n; k++) {
        size_t i = order[k];
        hit h = nearest(ix, x[i], y[i], max_m);
        out->edge[i] = h.edge;
        out->along_m[i] = h.along;
        out->access_m[i] = h.dist;
    }
    cs_free(order);
    return CS_OK;
}
