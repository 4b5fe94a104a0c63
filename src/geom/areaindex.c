/*
 * areaindex.c — which area (street) a point lies in, fast enough for millions of
 * residents against areas with thousands of vertices each.
 *
 * A uniform grid covers the extent of all rings. Every cell lists the ring edges that
 * pass through it (registered conservatively, with a small margin); a cell with no
 * edge is "uniform" and knows which single area contains it, or that none does (a
 * cell with no edge inside two overlapping areas is marked "multi"). A point in a
 * uniform cell is answered by one lookup. Otherwise a horizontal ray goes from the
 * point to the right through the cells of its row, counting crossings with the edges
 * of each cell, until it enters a uniform cell, whose status completes the even-odd
 * parity of every area. A crossing is counted only in the cell whose x-window holds
 * it, so an edge listed in several cells counts once.
 *
 * The result is exactly the classic crossing-number test run over all edges with the
 * half-open rule (an edge counts when ylo <= y < yhi and it crosses the ray strictly
 * right of the point), with the crossing abscissa computed from the edge's endpoints
 * taken in a canonical order (lower y first). Points on a boundary therefore get a
 * consistent answer: roughly, points on bottom and left edges are inside, on top and
 * right edges outside; and a point on an edge shared by two areas (whatever the
 * orientation of their rings) is inside exactly one of them when they do not otherwise
 * overlap there.
 *
 * Cell statuses are filled row by row from right to left, each from a short ray walk
 * that ends in the already-classified cells to its right, so the build costs about
 * one pass over the cells and edges.
 */
#include "geom/rings.h"

#include "geom/grid.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Cell statuses: >= 0 is the one area containing the whole cell. */
#define CELL_OUTSIDE (-1) /* no edge, no area */
#define CELL_EDGES (-2)   /* edges pass through the cell */
#define CELL_MULTI (-3)   /* no edge, but inside two or more overlapping areas */

/* About four cells per edge keeps the boundary cells a small share of the extent
 * while the grid stays a few bytes per edge; the cap bounds memory (12 bytes a cell). */
#define CELLS_PER_EDGE 4.0
#define MAX_CELLS ((size_t)1 << 22)

/* Distinct areas one query ray may cross an odd number of times before the query
 * falls back to testing areas one by one. */
#define PARITY_CAP 32

typedef struct edge {
    double xa, ya, xb, yb; /* canonical order: ya < yb, or ya == yb and xa <= xb */
    double k;              /* dx/dy, 0 for horizontal edges */
    uint32_t area;
} edge;

struct cs_area_index {
    size_t area_count;
    double *area_box; /* 4 per area: xmin, ymin, xmax, ymax (empty: xmin > xmax) */
    edge *edges;
    size_t edge_count;
    cs_ugrid grid;        /* nx == 0 when there is no edge */
    double x1, y1;        /* the grid's far corner */
    double eps;           /* margin for registering edges, far above rounding error */
    cs_ugrid_csr cells;   /* the edges passing through each cell */
    int32_t *status;
};

/* ------------------------------------------------------------------- parity sets */

/*
 * The areas crossed an odd number of times so far. Three modes: one area only
 * (`only` >= 0, parity in n); a small set on the stack for queries; and, at build
 * time, a flag per area (bit 1 odd, bit 2 listed) with every touched area in list.
 */
typedef struct parity {
    long only;
    uint8_t *flag;
    uint32_t *list;
    size_t n, cap;
    bool overflow;
} parity;

static inline void parity_toggle(parity *p, uint32_t area)
{
    if (p->only >= 0) {
        if ((long)area == p->only)
            p->n ^= 1;
        return;
    }
    if (p->flag) {
        if (!(p->flag[area] & 2)) {
            p->flag[area] = 2;
            p->list[p->n++] = area;
        }
        p->flag[area] ^= 1;
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->list[i] == area) {
            p->list[i] = p->list[--p->n];
            return;
        }
    }
    if (p->n == p->cap)
        p->overflow = true;
    else
        p->list[p->n++] = area;
}

/* Lowest odd area of a small or build-mode set, -1 if none; *odd_count if wanted. */
static long parity_lowest(const parity *p, size_t *odd_count)
{
    long best = -1;
    size_t count = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->flag && !(p->flag[p->list[i]] & 1))
            continue;
        count++;
        if (best < 0 || (long)p->list[i] < best)
            best = (long)p->list[i];
    }
    if (odd_count)
        *odd_count = count;
    return best;
}

/* ------------------------------------------------------------------------- grid */

static inline double col_x(const cs_area_index *ix, size_t c)
{
    return cs_ugrid_col_x(&ix->grid, c);
}

static inline double row_y(const cs_area_index *ix, size_t r)
{
    return cs_ugrid_row_y(&ix->grid, r);
}

/* The cell of (x, y), false outside the grid (hence outside every area). The column
 * is settled exactly against col_x, since the ray windows start from it. */
static bool find_cell(const cs_area_index *ix, double x, double y, size_t *row, size_t *col)
{
    const cs_ugrid *g = &ix->grid;
    if (!(x >= g->x0 && x <= ix->x1 && y >= g->y0 && y <= ix->y1))
        return false;
    size_t c = cs_ugrid_col(g, x);
    while (c > 0 && x < col_x(ix, c))
        c--;
    while (c + 1 < g->nx && x >= col_x(ix, c + 1))
        c++;
    *col = c;
    *row = cs_ugrid_row(g, y);
    return true;
}

/*
 * Add to p the crossings of the ray from (px, py) towards +x with the edges of row
 * `row`, starting in column col, until the ray enters a cell with a uniform status,
 * which is returned (-1 when the ray leaves the grid). The status of column col
 * itself is never read, so the build can call this for a cell not yet classified.
 */
static long walk_right(const cs_area_index *ix, size_t row, size_t col, double px, double py,
                       parity *p)
{
    size_t ncols = ix->grid.nx;
    const int32_t *status = ix->status + row * ncols;
    const uint32_t *start = ix->cells.start + row * ncols;
    double lo = nextafter(px, INFINITY); /* cx > px  <=>  cx >= lo */
    for (size_t c = col; c < ncols; c++) {
        if (c > col) {
            if (status[c] >= CELL_OUTSIDE)
                return status[c];
            lo = col_x(ix, c);
        }
        double hi = c + 1 < ncols ? col_x(ix, c + 1) : INFINITY;
        for (size_t k = start[c]; k < start[c + 1]; k++) {
            const edge *e = &ix->edges[ix->cells.item[k]];
            if (py >= e->ya && py < e->yb) {
                double cx = e->xa + (py - e->ya) * e->k;
                if (cx >= lo && cx < hi)
                    parity_toggle(p, e->area);
            }
        }
    }
    return CELL_OUTSIDE;
}

/* ------------------------------------------------------------------------ build */

static bool same_point(const cs_rings *r, size_t i, size_t j)
{
    return r->x[i] == r->x[j] && r->y[i] == r->y[j];
}

/* The rings must be consistent and finite; only rings owned by areas are read. */
static cs_status check_rings(const cs_rings *r)
{
    if (r->area_count == 0)
        return CS_OK;
    if (!r->area_ring_start || r->area_count > INT32_MAX)
        return CS_ERR_ARGUMENT;
    for (size_t a = 0; a < r->area_count; a++)
        if (r->area_ring_start[a] > r->area_ring_start[a + 1])
            return CS_ERR_ARGUMENT;
    size_t first = r->area_ring_start[0], last = r->area_ring_start[r->area_count];
    if (first == last)
        return CS_OK;
    if (last > r->ring_count || !r->ring_start)
        return CS_ERR_ARGUMENT;
    for (size_t k = first; k < last; k++) {
        size_t s = r->ring_start[k], e = r->ring_start[k + 1];
        if (s > e || e > r->vertex_count || (e > s && (!r->x || !r->y)))
            return CS_ERR_ARGUMENT;
        for (size_t i = s; i < e; i++)
            if (!isfinite(r->x[i]) || !isfinite(r->y[i]))
                return CS_ERR_ARGUMENT;
    }
    return CS_OK;
}

/* Edge i of a ring runs from vertex i to the next, the last one back to the first
 * (zero length when the ring is closed, and zero-length edges are dropped), so an
 * unclosed ring is closed implicitly. */
static void make_edge(const cs_rings *r, size_t i, size_t j, uint32_t area, edge *e)
{
    double x1 = r->x[i], y1 = r->y[i], x2 = r->x[j], y2 = r->y[j];
    if (y1 > y2 || (y1 == y2 && x1 > x2)) {
        double t = x1;
        x1 = x2;
        x2 = t;
        t = y1;
        y1 = y2;
        y2 = t;
    }
    *e = (edge){x1, y1, x2, y2, y2 > y1 ? (x2 - x1) / (y2 - y1) : 0.0, area};
}

/* Visits or counts every edge; with out == NULL only counts. */
static size_t collect_edges(const cs_rings *r, edge *out, double *box)
{
    size_t n = 0;
    for (size_t a = 0; a < r->area_count; a++) {
        double *b = box ? box + 4 * a : NULL;
        if (b) {
            b[0] = b[1] = INFINITY;
            b[2] = b[3] = -INFINITY;
        }
        for (size_t k = r->area_ring_start[a]; k < r->area_ring_start[a + 1]; k++) {
            size_t s = r->ring_start[k], e = r->ring_start[k + 1];
            for (size_t i = s; i < e; i++) {
                size_t j = i + 1 < e ? i + 1 : s;
                if (same_point(r, i, j))
                    continue;
                if (out)
                    make_edge(r, i, j, (uint32_t)a, &out[n]);
                if (b) {
                    b[0] = fmin(b[0], r->x[i]);
                    b[1] = fmin(b[1], r->y[i]);
                    b[2] = fmax(b[2], r->x[i]);
                    b[3] = fmax(b[3], r->y[i]);
                }
                n++;
            }
        }
    }
    return n;
}

static cs_status build_edges(cs_area_index *ix, const cs_rings *r)
{
    ix->area_count = r->area_count;
    ix->area_box = cs_calloc(r->area_count ? 4 * r->area_count : 1, sizeof *ix->area_box);
    if (!ix->area_box)
        return CS_ERR_NOMEM;
    size_t n = collect_edges(r, NULL, NULL);
    if (n >= UINT32_MAX)
        return CS_ERR_ARGUMENT;
    ix->edges = cs_calloc(n ? n : 1, sizeof *ix->edges);
    if (!ix->edges)
        return CS_ERR_NOMEM;
    ix->edge_count = collect_edges(r, ix->edges, ix->area_box);
    return CS_OK;
}

/* Square cells, about CELLS_PER_EDGE per edge, over the padded extent of all edges. */
static void setup_grid(cs_area_index *ix)
{
    double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < ix->edge_count; i++) {
        const edge *e = &ix->edges[i];
        xmin = fmin(xmin, fmin(e->xa, e->xb));
        xmax = fmax(xmax, fmax(e->xa, e->xb));
        ymin = fmin(ymin, e->ya);
        ymax = fmax(ymax, e->yb);
    }
    double span = fmax(xmax - xmin, ymax - ymin);
    double mag = fmax(fmax(fabs(xmin), fabs(xmax)), fmax(fabs(ymin), fabs(ymax)));
    /* ~4500 ulps of the coordinates: every rounding error of the tests is far below */
    ix->eps = 1e-12 * (mag + span) + 1e-300;
    double pad = 1e-9 * span + 4 * ix->eps;
    double width = (xmax - xmin) + 2 * pad, height = (ymax - ymin) + 2 * pad;
    double target = fmin(CELLS_PER_EDGE * (double)ix->edge_count, (double)MAX_CELLS);
    target = fmax(target, 1.0);
    double side = sqrt(width * height / target);
    double nc = fmin(fmax(ceil(width / side), 1.0), target);
    double nr = fmin(fmax(ceil(height / side), 1.0), target);
    ix->grid = (cs_ugrid){xmin - pad, ymin - pad, width / nc, height / nr, (size_t)nc,
                          (size_t)nr};
    ix->x1 = col_x(ix, ix->grid.nx);
    ix->y1 = row_y(ix, ix->grid.ny);
}

/* Every edge into the cells it passes within eps of. */
static cs_status register_edges(cs_area_index *ix)
{
    const cs_ugrid *g = &ix->grid;
    if (cs_ugrid_csr_init(&ix->cells, cs_ugrid_cells(g)) != CS_OK)
        return CS_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ix->edge_count; i++) {
            const edge *e = &ix->edges[i];
            cs_ugrid_seg sg;
            cs_ugrid_seg_begin(g, e->xa, e->ya, e->xb, e->yb, ix->eps, &sg);
            for (size_t r = sg.r0; r <= sg.r1; r++) {
                size_t c0, c1;
                cs_ugrid_seg_cols(g, &sg, r, &c0, &c1);
                for (size_t c = c0; c <= c1; c++)
                    cs_ugrid_csr_add(&ix->cells, r * g->nx + c, (uint32_t)i);
            }
        }
        if (pass == 0 && cs_ugrid_csr_place(&ix->cells) != CS_OK)
            return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* Statuses of the cells without edges, from rays that end in cells to their right
 * (rows are independent; right to left within a row). */
static cs_status classify_cells(cs_area_index *ix)
{
    size_t ncols = ix->grid.nx, cells = cs_ugrid_cells(&ix->grid);
    ix->status = cs_calloc(cells, sizeof *ix->status);
    uint8_t *flag = cs_calloc(ix->area_count ? ix->area_count : 1, sizeof *flag);
    uint32_t *list = cs_calloc(ix->area_count ? ix->area_count : 1, sizeof *list);
    cs_status st = CS_ERR_NOMEM;
    if (!ix->status || !flag || !list)
        goto done;
    for (size_t cell = 0; cell < cells; cell++)
        ix->status[cell] = ix->cells.start[cell + 1] > ix->cells.start[cell] ? CELL_EDGES : 0;
    for (size_t r = 0; r < ix->grid.ny; r++) {
        double yc = row_y(ix, r) + 0.5 * ix->grid.h;
        for (size_t c = ncols; c-- > 0;) {
            int32_t *s = &ix->status[r * ncols + c];
            if (*s == CELL_EDGES)
                continue;
            parity p = {.only = -1, .flag = flag, .list = list, .cap = ix->area_count};
            long u = walk_right(ix, r, c, col_x(ix, c) + 0.5 * ix->grid.w, yc, &p);
            if (u >= 0)
                parity_toggle(&p, (uint32_t)u);
            size_t odd = 0;
            long lowest = parity_lowest(&p, &odd);
            *s = odd == 0 ? CELL_OUTSIDE : odd == 1 ? (int32_t)lowest : CELL_MULTI;
            for (size_t i = 0; i < p.n; i++)
                flag[list[i]] = 0;
        }
    }
    st = CS_OK;
done:
    cs_free(flag);
    cs_free(list);
    return st;
}

cs_status cs_area_index_create(const cs_rings *rings, cs_area_index **out)
{
    if (!out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    if (!rings)
        return CS_ERR_ARGUMENT;
    cs_status st = check_rings(rings);
    if (st != CS_OK)
        return st;
    cs_area_index *ix = cs_calloc(1, sizeof *ix);
    if (!ix)
        return CS_ERR_NOMEM;
    st = build_edges(ix, rings);
    if (st != CS_OK || ix->edge_count == 0)
        goto done; /* no edge: an empty grid, every point outside */
    setup_grid(ix);
    st = register_edges(ix);
    if (st == CS_OK)
        st = classify_cells(ix);
done:
    if (st != CS_OK)
        cs_area_index_destroy(ix);
    else
        *out = ix;
    return st;
}

void cs_area_index_destroy(cs_area_index *index)
{
    if (!index)
        return;
    cs_free(index->area_box);
    cs_free(index->edges);
    cs_ugrid_csr_free(&index->cells);
    cs_free(index->status);
    cs_free(index);
}

/* ----------------------------------------------------------------------- locate */

static bool in_box(const cs_area_index *ix, size_t a, double x, double y)
{
    const double *b = ix->area_box + 4 * a;
    return x >= b[0] - ix->eps && x <= b[2] + ix->eps && y >= b[1] - ix->eps &&
           y <= b[3] + ix->eps;
}

/* The slow path when one ray meets more areas than the small set holds: one walk
 * per area that could contain the point, lowest first. */
static long locate_one_by_one(const cs_area_index *ix, size_t row, size_t col, double x,
                              double y)
{
    for (size_t a = 0; a < ix->area_count; a++) {
        if (!in_box(ix, a, x, y))
            continue;
        parity p = {.only = (long)a};
        long u = walk_right(ix, row, col, x, y, &p);
        if ((p.n ^ (u == (long)a)) & 1)
            return (long)a;
    }
    return -1;
}

long cs_area_index_locate(const cs_area_index *index, double x, double y)
{
    size_t row, col;
    if (!index || index->grid.nx == 0 || !find_cell(index, x, y, &row, &col))
        return -1;
    int32_t s = index->status[row * index->grid.nx + col];
    if (s >= CELL_OUTSIDE)
        return s;
    uint32_t list[PARITY_CAP];
    parity p = {.only = -1, .list = list, .cap = PARITY_CAP};
    long u = walk_right(index, row, col, x, y, &p);
    if (u >= 0)
        parity_toggle(&p, (uint32_t)u);
    if (p.overflow)
        return locate_one_by_one(index, row, col, x, y);
    return parity_lowest(&p, NULL);
}

void cs_area_index_locate_all(const cs_area_index *index, const double *x, const double *y,
                              size_t n, int threads, long *area_out)
{
    if (!x || !y || !area_out)
        return;
#ifdef _OPENMP
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (nt > 1 && n > 1) {
        long long count = (long long)n;
#pragma omp parallel for schedule(static, 4096) num_threads(nt)
        for (long long i = 0; i < count; i++)
            area_out[i] = cs_area_index_locate(index, x[i], y[i]);
        return;
    }
#else
    (void)threads;
#endif
    for (size_t i = 0; i < n; i++)
        area_out[i] = cs_area_index_locate(index, x[i], y[i]);
}

/* ---------------------------------------------------------------------- nearest */

static double segment_distance(const edge *e, double x, double y)
{
    double dx = e->xb - e->xa, dy = e->yb - e->ya;
    double t = ((x - e->xa) * dx + (y - e->ya) * dy) / (dx * dx + dy * dy);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(x - (e->xa + t * dx), y - (e->ya + t * dy));
}

/* A lower bound on the distance from (x, y) to anything registered in a cell (whose
 * edges may stick out of it by eps). */
static double cell_distance(const cs_area_index *ix, size_t row, size_t c, double x, double y)
{
    double dx = fmax(fmax(col_x(ix, c) - x, x - col_x(ix, c + 1)), 0);
    double dy = fmax(fmax(row_y(ix, row) - y, y - row_y(ix, row + 1)), 0);
    return fmax(hypot(dx, dy) - 2 * ix->eps, 0);
}

/* Scan the cells meeting the square of half-side r around (x, y); returns whether the
 * square covers the whole grid. Ties go to the lower area, and the canonical edge
 * order makes a shared edge equally far from both its areas. */
static bool scan_square(const cs_area_index *ix, double x, double y, double r, double *best_d,
                        long *best_a)
{
    const cs_ugrid *g = &ix->grid;
    double m = r + ix->eps;
    size_t c0 = cs_ugrid_col(g, x - m), c1 = cs_ugrid_col(g, x + m);
    size_t r0 = cs_ugrid_row(g, y - m), r1 = cs_ugrid_row(g, y + m);
    for (size_t row = r0; row <= r1; row++) {
        for (size_t c = c0; c <= c1; c++) {
            size_t cell = row * g->nx + c;
            if (cell_distance(ix, row, c, x, y) > *best_d)
                continue; /* nothing in it can beat or tie the best */
            for (size_t k = ix->cells.start[cell]; k < ix->cells.start[cell + 1]; k++) {
                const edge *e = &ix->edges[ix->cells.item[k]];
                double d = segment_distance(e, x, y);
                if (d < *best_d || (d == *best_d && (long)e->area < *best_a)) {
                    *best_d = d;
                    *best_a = (long)e->area;
                }
            }
        }
    }
    return x - m <= g->x0 && x + m >= ix->x1 && y - m <= g->y0 && y + m >= ix->y1;
}

long cs_area_index_nearest(const cs_area_index *index, double x, double y, double max_dist_m,
                           double *dist_m)
{
    if (dist_m)
        *dist_m = INFINITY;
    if (!index || !isfinite(x) || !isfinite(y))
        return -1;
    long a = cs_area_index_locate(index, x, y);
    if (a >= 0) {
        if (dist_m)
            *dist_m = 0;
        return a;
    }
    if (index->grid.nx == 0 || !(max_dist_m >= 0))
        return -1;
    /* Squares of doubling size: once the best distance found fits in the square
     * searched, no edge outside it can be nearer. */
    double gx = fmax(fmax(index->grid.x0 - x, x - index->x1), 0);
    double gy = fmax(fmax(index->grid.y0 - y, y - index->y1), 0);
    double to_grid = hypot(gx, gy);
    if (to_grid > max_dist_m)
        return -1;
    double best_d = INFINITY;
    long best_a = -1;
    /* Grow the reach into the grid from its near side, not from the point, so a point
     * far outside does not jump at once to scanning the whole grid. */
    double step = fmax(index->grid.w, index->grid.h);
    for (double grow = step;; grow *= 2) {
        double rr = fmin(fmax(gx, gy) + grow, max_dist_m);
        bool all = scan_square(index, x, y, rr, &best_d, &best_a);
        if (best_d <= rr || rr >= max_dist_m || all)
            break;
    }
    if (best_a < 0 || best_d > max_dist_m)
        return -1;
    if (dist_m)
        *dist_m = best_d;
    return best_a;
}

/* Whether segment e meets the closed box b (xmin, ymin, xmax, ymax): Liang–Barsky. */
static bool edge_meets_box(const edge *e, const double *b)
{
    double dx = e->xb - e->xa, dy = e->yb - e->ya, t0 = 0, t1 = 1;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {e->xa - b[0], b[2] - e->xa, e->ya - b[1], b[3] - e->ya};
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0) {
            if (q[k] < 0)
                return false;
            continue;
        }
        double r = q[k] / p[k];
        if (p[k] < 0)
            t0 = r > t0 ? r : t0;
        else
            t1 = r < t1 ? r : t1;
        if (t0 > t1)
            return false;
    }
    return true;
}

long cs_area_index_box(const cs_area_index *index, double xmin, double ymin, double xmax,
                       double ymax)
{
    const cs_area_index *ix = index;
    const cs_ugrid *g = ix ? &ix->grid : NULL;
    if (!ix || g->nx == 0 ||
        !(xmin >= g->x0 && xmax <= ix->x1 && ymin >= g->y0 && ymax <= ix->y1))
        return -1;
    /* the cells the box covers, and a margin of one cell against rounding in the
     * lookups: an edge there meeting the box is checked too, but the margin's own
     * area says nothing about the box (a cell beside a boundary has another area
     * next door; counting it sent every box within a cell of a boundary the slow way).
     * A covered cell inside overlapping areas says only that the box is in them: the
     * lowest of them is the area of its centre. */
    size_t b0 = cs_ugrid_col(g, xmin), b1 = cs_ugrid_col(g, xmax);
    size_t a0 = cs_ugrid_row(g, ymin), a1 = cs_ugrid_row(g, ymax);
    size_t c0 = b0 ? b0 - 1 : 0, c1 = b1 + 1 < g->nx ? b1 + 1 : b1;
    size_t r0 = a0 ? a0 - 1 : 0, r1 = a1 + 1 < g->ny ? a1 + 1 : a1;
    const double box[4] = {xmin, ymin, xmax, ymax};
    long area = -1;
    for (size_t r = r0; r <= r1; r++)
        for (size_t c = c0; c <= c1; c++) {
            size_t cell = r * g->nx + c;
            int32_t s = ix->status[cell];
            bool covered = r >= a0 && r <= a1 && c >= b0 && c <= b1;
            if (s == CELL_EDGES) {
                for (size_t k = ix->cells.start[cell]; k < ix->cells.start[cell + 1]; k++)
                    if (edge_meets_box(&ix->edges[ix->cells.item[k]], box))
                        return -1;
            } else if (!covered || s == CELL_MULTI) {
                continue;
            } else if (s == CELL_OUTSIDE || (area >= 0 && s != area)) {
                return -1;
            } else {
                area = s;
            }
        }
    /* no boundary crosses the box: it lies wholly in the area of any of its points */
    long here = cs_area_index_locate(ix, (xmin + xmax) / 2, (ymin + ymax) / 2);
    return area >= 0 && here != area ? -1 : here;
}
