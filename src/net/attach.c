/*
 * attach.c — where points meet the network: a uniform grid over every segment of every
 * edge, searched in square rings of cells outwards from a point's cell until the
 * unsearched cells are all farther than the best segment found; the point attaches to
 * the nearest point of the nearest segment. Equal distances go to the lowest edge,
 * then the smallest along-distance, so the answer never depends on the order cells are
 * visited or on the thread count.
 *
 * Along-distances are sums of sqrt(dx*dx + dy*dy) in polyline order, exactly as
 * graph.c measures edge lengths, so a point at an edge's end has along_m == edge_len_m.
 */
#include "net/graph.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__GNUC__)
#define PREFETCH(p, rw) __builtin_prefetch((p), (rw))
#else
#define PREFETCH(p, rw) ((void)(p))
#endif

struct cs_segment_index {
    const cs_graph *g;
    double x0, y0, x1, y1; /* the vertices' bounding box */
    double cell;
    long nx, ny;
    size_t *first;  /* cell c's segments are seg[first[c] .. first[c + 1]) */
    uint32_t *seg;  /* a segment is the index of its first vertex in g->vx/vy */
    uint32_t *edge; /* per vertex: its edge */
    double *along;  /* per vertex: along-distance from its edge's start */
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

static size_t vertex_count(const cs_graph *g)
{
    return g->edge_count && g->edge_vstart ? g->edge_vstart[g->edge_count] : 0;
}

static long clamp_cell(double v, long n)
{
    return !(v >= 0) ? 0 : v >= (double)n ? n - 1 : (long)v;
}

/* Per-vertex edge and along-distance; also the box and the total segment length. */
static bool measure(cs_segment_index *ix, double *total)
{
    const cs_graph *g = ix->g;
    size_t nv = vertex_count(g);
    ix->edge = cs_calloc(nv + 1, sizeof *ix->edge);
    ix->along = cs_calloc(nv + 1, sizeof *ix->along);
    if (!ix->edge || !ix->along)
        return false;
    ix->x0 = ix->y0 = INFINITY;
    ix->x1 = ix->y1 = -INFINITY;
    *total = 0;
    for (size_t e = 0; e < g->edge_count; e++) {
        double walked = 0;
        for (size_t v = g->edge_vstart[e]; v < g->edge_vstart[e + 1]; v++) {
            if (v > g->edge_vstart[e]) {
                double dx = g->vx[v] - g->vx[v - 1], dy = g->vy[v] - g->vy[v - 1];
                walked += sqrt(dx * dx + dy * dy);
            }
            ix->edge[v] = (uint32_t)e;
            ix->along[v] = walked;
            ix->x0 = fmin(ix->x0, g->vx[v]);
            ix->x1 = fmax(ix->x1, g->vx[v]);
            ix->y0 = fmin(ix->y0, g->vy[v]);
            ix->y1 = fmax(ix->y1, g->vy[v]);
        }
        *total += walked;
    }
    if (nv == 0)
        ix->x0 = ix->y0 = ix->x1 = ix->y1 = 0;
    return true;
}

/* Cells about as wide as the mean segment is long, which keeps a cell's list short
 * where the network is dense; but never many more cells than segments, which would
 * only cost memory and empty rings where it is sparse. */
static void size_grid(cs_segment_index *ix, size_t nseg, double total)
{
    double w = ix->x1 - ix->x0, h = ix->y1 - ix->y0;
    double cell = nseg ? fmax(total / (double)nseg, 1e-3) : 1;
    double max_cells = fmin(2.0 * (double)nseg + 16, 4e9); /* cell ids fit 32 bits */
    while ((w / cell + 1) * (h / cell + 1) > max_cells)
        cell *= 1.25;
    ix->cell = cell;
    ix->nx = (long)(w / cell) + 1;
    ix->ny = (long)(h / cell) + 1;
}

/* The columns of row iy that segment (a, b) passes through: the part of the segment
 * inside the row's band, padded against rounding, so that long diagonal segments fill
 * only their own cells rather than their whole bounding box. */
static void row_span(const cs_segment_index *ix, double ax, double ay, double bx, double by,
                     long iy, long *cx0, long *cx1)
{
    double pad = 1e-7 * ix->cell;
    double lo = ix->y0 + (double)iy * ix->cell - pad, hi = lo + ix->cell + 2 * pad;
    double t0 = 0, t1 = 1;
    if (by != ay) {
        t0 = (lo - ay) / (by - ay);
        t1 = (hi - ay) / (by - ay);
        if (t0 > t1) {
            double t = t0;
            t0 = t1;
            t1 = t;
        }
        t0 = t0 < 0 ? 0 : t0 > 1 ? 1 : t0;
        t1 = t1 < 0 ? 0 : t1 > 1 ? 1 : t1;
    }
    double xa = ax + t0 * (bx - ax), xb = ax + t1 * (bx - ax);
    *cx0 = clamp_cell((fmin(xa, xb) - pad - ix->x0) / ix->cell, ix->nx);
    *cx1 = clamp_cell((fmax(xa, xb) + pad - ix->x0) / ix->cell, ix->nx);
}

/* Every segment into each cell it passes through (CSR: count, then fill). */
static bool fill_grid(cs_segment_index *ix)
{
    const cs_graph *g = ix->g;
    size_t ncell = (size_t)ix->nx * (size_t)ix->ny;
    ix->first = cs_calloc(ncell + 2, sizeof *ix->first);
    if (!ix->first)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t e = 0; e < g->edge_count; e++)
            for (size_t v = g->edge_vstart[e]; v + 1 < g->edge_vstart[e + 1]; v++) {
                double ax = g->vx[v], ay = g->vy[v], bx = g->vx[v + 1], by = g->vy[v + 1];
                long cy0 = clamp_cell((fmin(ay, by) - ix->y0) / ix->cell - 1e-7, ix->ny);
                long cy1 = clamp_cell((fmax(ay, by) - ix->y0) / ix->cell + 1e-7, ix->ny);
                for (long cy = cy0; cy <= cy1; cy++) {
                    long cx0, cx1;
                    row_span(ix, ax, ay, bx, by, cy, &cx0, &cx1);
                    for (long cx = cx0; cx <= cx1; cx++) {
                        size_t c = (size_t)cy * (size_t)ix->nx + (size_t)cx;
                        if (pass == 0)
                            ix->first[c + 2]++;
                        else
                            ix->seg[ix->first[c + 1]++] = (uint32_t)v;
                    }
                }
            }
        if (pass == 0) {
            /* shifted sums: first[c + 1] is cell c's fill cursor, ending as c + 1's start */
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
    double total;
    size_t nv = vertex_count(g);
    bool ok = nv < UINT32_MAX && measure(ix, &total);
    if (ok) {
        size_grid(ix, nv > g->edge_count ? nv - g->edge_count : 0, total);
        ok = fill_grid(ix);
    }
    if (!ok) {
        cs_segment_index_destroy(ix);
        return CS_ERR_NOMEM;
    }
    *out = ix;
    return CS_OK;
}

/* ------------------------------------------------------------- searching */

typedef struct hit {
    double d2, along; /* squared distance; along-distance */
    long edge;
} hit;

/* Offer segment v (from vertex v to v + 1) to the search for (x, y). */
static void try_segment(const cs_segment_index *ix, uint32_t v, double x, double y, hit *best)
{
    const double *vx = ix->g->vx, *vy = ix->g->vy;
    double ax = vx[v], ay = vy[v], bx = vx[v + 1], by = vy[v + 1];
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = ((x - ax) * dx + (y - ay) * dy) / len2;
    double px, py;
    /* at either end the vertex itself, so a node shared by several edges is exactly
     * equally far from all of them and the tie rule decides */
    if (!(t > 0))
        t = 0, px = ax, py = ay;
    else if (t >= 1)
        t = 1, px = bx, py = by;
    else
        px = ax + t * dx, py = ay + t * dy;
    double ex = x - px, ey = y - py, d2 = ex * ex + ey * ey;
    if (d2 > best->d2)
        return;
    long e = (long)ix->edge[v];
    double along = t == 1 ? ix->along[v + 1] : ix->along[v] + t * sqrt(len2);
    along = fmin(along, ix->along[v + 1]);
    if (d2 < best->d2 || e < best->edge || (e == best->edge && along < best->along))
        *best = (hit){d2, along, e};
}

static void scan_cell(const cs_segment_index *ix, long cx, long cy, double x, double y,
                      hit *best)
{
    size_t c = (size_t)cy * (size_t)ix->nx + (size_t)cx;
    for (size_t i = ix->first[c]; i < ix->first[c + 1]; i++)
        try_segment(ix, ix->seg[i], x, y, best);
}

/* Scan the cells of ring r around cell (cx, cy) that lie in the grid. */
static void scan_ring(const cs_segment_index *ix, long cx, long cy, long r, double x, double y,
                      hit *best)
{
    long lo_x = cx - r < 0 ? 0 : cx - r, hi_x = cx + r >= ix->nx ? ix->nx - 1 : cx + r;
    if (cy - r >= 0 && cy - r < ix->ny)
        for (long i = lo_x; i <= hi_x; i++)
            scan_cell(ix, i, cy - r, x, y, best);
    if (r > 0 && cy + r >= 0 && cy + r < ix->ny)
        for (long i = lo_x; i <= hi_x; i++)
            scan_cell(ix, i, cy + r, x, y, best);
    long lo_y = cy - r + 1 < 0 ? 0 : cy - r + 1;
    long hi_y = cy + r - 1 >= ix->ny ? ix->ny - 1 : cy + r - 1;
    if (r > 0 && cx - r >= 0 && cx - r < ix->nx)
        for (long i = lo_y; i <= hi_y; i++)
            scan_cell(ix, cx - r, i, x, y, best);
    if (r > 0 && cx + r >= 0 && cx + r < ix->nx)
        for (long i = lo_y; i <= hi_y; i++)
            scan_cell(ix, cx + r, i, x, y, best);
}

/* Every segment, for a point too far out for cell numbers (only with a huge max_m). */
static void scan_all(const cs_segment_index *ix, double x, double y, hit *best)
{
    const cs_graph *g = ix->g;
    for (size_t e = 0; e < g->edge_count; e++)
        for (size_t v = g->edge_vstart[e]; v + 1 < g->edge_vstart[e + 1]; v++)
            try_segment(ix, (uint32_t)v, x, y, best);
}

/* The nearest segment within max_m, by rings of cells around the point's cell. */
static hit nearest(const cs_segment_index *ix, double x, double y, double max_m)
{
    hit best = {INFINITY, 0, -1};
    const hit none = {INFINITY, 0, -1};
    double ox = fmax(fmax(ix->x0 - x, x - ix->x1), 0), oy = fmax(fmax(ix->y0 - y, y - ix->y1), 0);
    if (ix->g->edge_count == 0 || !isfinite(x) || !isfinite(y) || !(max_m >= 0) ||
        !(ox * ox + oy * oy <= max_m * max_m))
        return none;
    double fx = (x - ix->x0) / ix->cell, fy = (y - ix->y0) / ix->cell;
    if (fabs(fx) > 1e12 || fabs(fy) > 1e12) {
        scan_all(ix, x, y, &best);
    } else {
        long cx = (long)floor(fx), cy = (long)floor(fy);
        /* rings before the first that reaches the grid are empty */
        long out_x = cx < 0 ? -cx : cx >= ix->nx ? cx - ix->nx + 1 : 0;
        long out_y = cy < 0 ? -cy : cy >= ix->ny ? cy - ix->ny + 1 : 0;
        double lim2 = max_m * max_m;
        for (long r = out_x > out_y ? out_x : out_y;; r++) {
            scan_ring(ix, cx, cy, r, x, y, &best);
            if (cx - r <= 0 && cy - r <= 0 && cx + r >= ix->nx - 1 && cy + r >= ix->ny - 1)
                break; /* the whole grid is searched */
            /* every cell not yet searched lies beyond the square of rings 0 .. r */
            double gap = fmin(fmin(x - (ix->x0 + (double)(cx - r) * ix->cell),
                                   ix->x0 + (double)(cx + r + 1) * ix->cell - x),
                              fmin(y - (ix->y0 + (double)(cy - r) * ix->cell),
                                   ix->y0 + (double)(cy + r + 1) * ix->cell - y));
            if (gap > 0 && (gap * gap > best.d2 || gap * gap > lim2))
                break;
        }
    }
    if (!(best.d2 <= max_m * max_m))
        return none;
    return best;
}

/* The points in the order of the grid cells they fall in (a counting sort), so that
 * consecutive searches touch the same cells and segments: much faster than file order
 * for millions of points. */
static size_t *cell_order(const cs_segment_index *ix, const double *x, const double *y,
                          size_t n, int threads)
{
    size_t ncell = (size_t)ix->nx * (size_t)ix->ny;
    size_t *order = cs_calloc(n + 1, sizeof *order);
    size_t *start = cs_calloc(ncell + 2, sizeof *start);
    uint32_t *cell = cs_calloc(n + 1, sizeof *cell); /* size_grid keeps ids in 32 bits */
    if (!order || !start || !cell) {
        cs_free(order);
        cs_free(start);
        cs_free(cell);
        return NULL;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#else
    (void)threads;
#endif
    for (long i = 0; i < (long)n; i++)
        cell[i] = (uint32_t)((size_t)clamp_cell((y[i] - ix->y0) / ix->cell, ix->ny) *
                                 (size_t)ix->nx +
                             (size_t)clamp_cell((x[i] - ix->x0) / ix->cell, ix->nx));
    for (size_t i = 0; i < n; i++)
        start[cell[i] + 2]++;
    for (size_t c = 0; c < ncell; c++)
        start[c + 2] += start[c + 1];
    for (size_t i = 0; i < n; i++)
        order[start[cell[i] + 1]++] = i;
    cs_free(start);
    cs_free(cell);
    return order;
}

cs_status cs_attach_points(const cs_graph *g, const cs_segment_index *ix, const double *x,
                           const double *y, size_t n, double max_m, int threads,
                           cs_attach *out)
{
    (void)g; /* the index knows its graph */
    memset(out, 0, sizeof *out);
    out->edge = cs_calloc(n + 1, sizeof *out->edge);
    out->along_m = cs_calloc(n + 1, sizeof *out->along_m);
    out->access_m = cs_calloc(n + 1, sizeof *out->access_m);
#ifdef _OPENMP
    int nt = threads > 0 ? threads : omp_get_max_threads();
#else
    int nt = 1;
    (void)threads;
#endif
    size_t *order =
        out->edge && out->along_m && out->access_m ? cell_order(ix, x, y, n, nt) : NULL;
    if (!order) {
        cs_attach_free(out);
        return CS_ERR_NOMEM;
    }
    out->count = n;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1024) num_threads(nt)
#endif
    for (long k = 0; k < (long)n; k++) {
        /* in cell order the points are scattered in memory: ask for them early */
        if ((size_t)k + 16 < n) {
            size_t j = order[k + 16];
            PREFETCH(&x[j], 0);
            PREFETCH(&y[j], 0);
            PREFETCH(&out->edge[j], 1);
            PREFETCH(&out->along_m[j], 1);
            PREFETCH(&out->access_m[j], 1);
        }
        size_t i = order[k];
        hit h = nearest(ix, x[i], y[i], max_m);
        out->edge[i] = h.edge;
        out->along_m[i] = h.edge < 0 ? 0 : h.along;
        out->access_m[i] = h.edge < 0 ? INFINITY : sqrt(h.d2);
    }
    cs_free(order);
    return CS_OK;
}
