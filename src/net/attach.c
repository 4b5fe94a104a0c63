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

#include "geom/grid.h"

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
    cs_ugrid grid;         /* from (x0, y0) */
    cs_ugrid_csr cells;    /* a segment is the index of its first vertex in g->vx/vy */
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

bool cs_attach_by_edge(const cs_graph *g, const cs_attach *pts, const unsigned char *keep,
                       size_t **first_out, size_t **of_out)
{
    /* counts go two slots up, so that placing each point with first[e + 1]++ leaves
     * first[e] at the start of edge e's run: no cursor array */
    size_t E = g->edge_count;
    size_t *first = cs_calloc(E + 2, sizeof *first);
    size_t *of = cs_calloc(pts->count + 1, sizeof *of);
    if (!first || !of) {
        cs_free(first);
        cs_free(of);
        return false;
    }
    for (size_t i = 0; i < pts->count; i++)
        if (pts->edge[i] >= 0 && (!keep || keep[i]))
            first[pts->edge[i] + 2]++;
    for (size_t e = 0; e < E; e++)
        first[e + 2] += first[e + 1];
    for (size_t i = 0; i < pts->count; i++)
        if (pts->edge[i] >= 0 && (!keep || keep[i]))
            of[first[pts->edge[i] + 1]++] = i;
    *first_out = first;
    *of_out = of;
    return true;
}

void cs_segment_index_destroy(cs_segment_index *ix)
{
    if (!ix)
        return;
    cs_ugrid_csr_free(&ix->cells);
    cs_free(ix->edge);
    cs_free(ix->along);
    cs_free(ix);
}

static size_t vertex_count(const cs_graph *g)
{
    return g->edge_count && g->edge_vstart ? g->edge_vstart[g->edge_count] : 0;
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
    double cell = nseg ? fmax(total / (double)nseg, 1e-3) : 1;
    double max_cells = fmin(2.0 * (double)nseg + 16, 4e9); /* cell ids fit 32 bits */
    cs_ugrid_fit(&ix->grid, ix->x0, ix->y0, ix->x1 - ix->x0, ix->y1 - ix->y0, cell, 1.25,
                 max_cells);
}

/* Every segment into each cell it passes through. */
static bool fill_grid(cs_segment_index *ix)
{
    const cs_graph *g = ix->g;
    const cs_ugrid *grid = &ix->grid;
    if (cs_ugrid_csr_init(&ix->cells, cs_ugrid_cells(grid)) != CS_OK)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t e = 0; e < g->edge_count; e++)
            for (size_t v = g->edge_vstart[e]; v + 1 < g->edge_vstart[e + 1]; v++) {
                double ax = g->vx[v], ay = g->vy[v], bx = g->vx[v + 1], by = g->vy[v + 1];
                cs_ugrid_seg sg;
                cs_ugrid_seg_begin(grid, ax, ay, bx, by, 0, &sg);
                for (size_t r = sg.r0; r <= sg.r1; r++) {
                    size_t c0, c1;
                    cs_ugrid_seg_cols(grid, &sg, r, &c0, &c1);
                    for (size_t c = c0; c <= c1; c++)
                        cs_ugrid_csr_add(&ix->cells, r * grid->nx + c, (uint32_t)v);
                }
            }
        if (pass == 0 && cs_ugrid_csr_place(&ix->cells) != CS_OK)
            return false;
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

/* Scan the cells of ring r around cell (cx, cy) that lie in the grid. */
static void scan_ring(const cs_segment_index *ix, long cx, long cy, long r, double x, double y,
                      hit *best)
{
    cs_ugrid_strip strip[4];
    size_t n = cs_ugrid_ring(&ix->grid, cx, cy, r, strip);
    const uint32_t *start = ix->cells.start;
    for (size_t s = 0; s < n; s++)
        for (size_t k = 0, c = strip[s].first; k < strip[s].count; k++, c += strip[s].stride)
            for (size_t i = start[c]; i < start[c + 1]; i++)
                try_segment(ix, ix->cells.item[i], x, y, best);
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
    const cs_ugrid *g = &ix->grid;
    double cell = g->w;
    double fx = (x - g->x0) / cell, fy = (y - g->y0) / cell;
    if (fabs(fx) > 1e12 || fabs(fy) > 1e12) {
        scan_all(ix, x, y, &best);
    } else {
        long cx = (long)floor(fx), cy = (long)floor(fy), nx = (long)g->nx, ny = (long)g->ny;
        /* rings before the first that reaches the grid are empty */
        long out_x = cx < 0 ? -cx : cx >= nx ? cx - nx + 1 : 0;
        long out_y = cy < 0 ? -cy : cy >= ny ? cy - ny + 1 : 0;
        double lim2 = max_m * max_m;
        for (long r = out_x > out_y ? out_x : out_y;; r++) {
            scan_ring(ix, cx, cy, r, x, y, &best);
            if (cx - r <= 0 && cy - r <= 0 && cx + r >= nx - 1 && cy + r >= ny - 1)
                break; /* the whole grid is searched */
            /* every cell not yet searched lies beyond the square of rings 0 .. r */
            double gap = fmin(fmin(x - (g->x0 + (double)(cx - r) * cell),
                                   g->x0 + (double)(cx + r + 1) * cell - x),
                              fmin(y - (g->y0 + (double)(cy - r) * cell),
                                   g->y0 + (double)(cy + r + 1) * cell - y));
            if (gap > 0 && (gap * gap > best.d2 || gap * gap > lim2))
                break;
        }
    }
    if (!(best.d2 <= max_m * max_m))
        return none;
    return best;
}

/* Fewer points than this are attached in the order given. */
#define ATTACH_ORDER_MIN 4096

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
    /* The points in the order of the grid cells they fall in, so that consecutive
     * searches touch the same cells and segments: much faster than file order for
     * millions of points. Not for a few (a site, a candidate): ordering costs a pass
     * over all the grid's cells. */
    cs_ugrid_csr order = {0};
    bool ordered = n >= ATTACH_ORDER_MIN;
    if (!out->edge || !out->along_m || !out->access_m ||
        (ordered && cs_ugrid_csr_points(&order, &ix->grid, x, y, NULL, n, true, nt) != CS_OK)) {
        cs_attach_free(out);
        return CS_ERR_NOMEM;
    }
    out->count = n;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1024) num_threads(nt) if (ordered)
#endif
    for (long k = 0; k < (long)n; k++) {
        /* in cell order the points are scattered in memory: ask for them early */
        if (ordered && (size_t)k + 16 < n) {
            size_t j = order.item[k + 16];
            PREFETCH(&x[j], 0);
            PREFETCH(&y[j], 0);
            PREFETCH(&out->edge[j], 1);
            PREFETCH(&out->along_m[j], 1);
            PREFETCH(&out->access_m[j], 1);
        }
        size_t i = ordered ? order.item[k] : (size_t)k;
        hit h = nearest(ix, x[i], y[i], max_m);
        out->edge[i] = h.edge;
        out->along_m[i] = h.edge < 0 ? 0 : h.along;
        out->access_m[i] = h.edge < 0 ? INFINITY : sqrt(h.d2);
    }
    cs_ugrid_csr_free(&order);
    return CS_OK;
}
