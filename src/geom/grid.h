/*
 * grid.h — the uniform (bucket) grid every spatial search of the library shares: the
 * point-in-area index, the network's segment index and noder, and the straight-line
 * accessibility engine.
 *
 * A grid is nx x ny cells of w x h metres from the corner (x0, y0); column c spans
 * [x0 + c*w, x0 + (c+1)*w), row r likewise in y, and cell (c, r) is number r*nx + c.
 * What the cells hold is a CSR pair (cs_ugrid_csr): start[] offsets into item[], filled
 * by a counting sort, so a cell's items are one contiguous run in the order they were
 * added. Plain arrays, no per-cell allocation; the small lookups are inline because
 * they sit in loops run millions of times.
 *
 * All arithmetic is the division (v - x0) / w, written once here: the callers whose
 * sums run in cell order depend on every point landing in the same cell each time.
 */
#ifndef CS_GRID_H
#define CS_GRID_H

#include "core/core.h"

#include <stdint.h>

typedef struct cs_ugrid {
    double x0, y0; /* corner of cell 0 */
    double w, h;   /* cell width and height, > 0 */
    size_t nx, ny; /* columns and rows, >= 1 */
} cs_ugrid;

/* Square cells of side `cell` over [x0, x0 + width] x [y0, y0 + height], grown by the
 * factor `grow` (> 1) until (width / cell + 1) * (height / cell + 1) <= max_cells;
 * nx = width / cell + 1 (truncated), likewise ny. */
void cs_ugrid_fit(cs_ugrid *g, double x0, double y0, double width, double height,
                  double cell, double grow, double max_cells);

static inline size_t cs_ugrid_cells(const cs_ugrid *g)
{
    return g->nx * g->ny;
}

/* The column holding x, clamped to the grid (NaN gives 0). */
static inline size_t cs_ugrid_clamp(double v, size_t n);
static inline size_t cs_ugrid_col(const cs_ugrid *g, double x)
{
    return cs_ugrid_clamp((x - g->x0) / g->w, g->nx);
}

/* The row holding y, clamped to the grid (NaN gives 0). */
static inline size_t cs_ugrid_row(const cs_ugrid *g, double y)
{
    return cs_ugrid_clamp((y - g->y0) / g->h, g->ny);
}

/* The cell holding (x, y), clamped to the grid. */
static inline size_t cs_ugrid_cell(const cs_ugrid *g, double x, double y)
{
    return cs_ugrid_row(g, y) * g->nx + cs_ugrid_col(g, x);
}

/* The cell holding (x, y) in *cell; false (and *cell untouched) when the point lies
 * outside the grid or is not a number. */
static inline bool cs_ugrid_find(const cs_ugrid *g, double x, double y, size_t *cell)
{
    double fx = (x - g->x0) / g->w, fy = (y - g->y0) / g->h;
    if (!(fx >= 0 && fx < (double)g->nx && fy >= 0 && fy < (double)g->ny))
        return false;
    *cell = (size_t)fy * g->nx + (size_t)fx;
    return true;
}

/* The left edge of column c, the bottom edge of row r (c == nx, r == ny: the far side). */
static inline double cs_ugrid_col_x(const cs_ugrid *g, size_t c)
{
    return g->x0 + (double)c * g->w;
}

static inline double cs_ugrid_row_y(const cs_ugrid *g, size_t r)
{
    return g->y0 + (double)r * g->h;
}

/*
 * The cells segment (ax, ay)-(bx, by) passes within `pad` of, plus a relative margin
 * of 1e-7 cell against rounding: cs_ugrid_seg_begin gives the rows s.r0 .. s.r1, then
 * cs_ugrid_seg_cols, for each row, the columns *c0 .. *c1 of the part of the segment
 * inside that row's band, so a long diagonal segment fills only its own cells, not its
 * whole bounding box. The segment must lie in the grid (widened by pad); beyond it,
 * rows and columns are clamped. Registration only has to be conservative, so it
 * multiplies by inverses where the lookups above divide.
 */
typedef struct cs_ugrid_seg {
    double ax, ay, dx, dy, inv_dy, inv_w, pad;
    size_t r0, r1;
} cs_ugrid_seg;

/* Relative margin, in cells, against rounding when a segment is registered. */
#define CS_UGRID_SEG_MARGIN 1e-7

/* v clamped to [0, n - 1] and truncated (NaN gives 0). */
static inline size_t cs_ugrid_clamp(double v, size_t n)
{
    return !(v >= 0) ? 0 : v >= (double)n ? n - 1 : (size_t)v;
}

static inline void cs_ugrid_seg_begin(const cs_ugrid *g, double ax, double ay, double bx,
                                      double by, double pad, cs_ugrid_seg *s)
{
    double inv_h = 1.0 / g->h, ylo = ay < by ? ay : by, yhi = ay < by ? by : ay;
    s->r0 = cs_ugrid_clamp((ylo - pad - g->y0) * inv_h - CS_UGRID_SEG_MARGIN, g->ny);
    s->r1 = cs_ugrid_clamp((yhi + pad - g->y0) * inv_h + CS_UGRID_SEG_MARGIN, g->ny);
    s->ax = ax;
    s->ay = ay;
    s->dx = bx - ax;
    s->dy = by - ay;
    s->inv_dy = s->dy != 0 ? 1.0 / s->dy : 0;
    s->inv_w = 1.0 / g->w;
    s->pad = pad + CS_UGRID_SEG_MARGIN * g->h;
}

static inline void cs_ugrid_seg_cols(const cs_ugrid *g, const cs_ugrid_seg *s, size_t row,
                                     size_t *c0, size_t *c1)
{
    double pad = s->pad;
    double lo = g->y0 + (double)row * g->h - pad, hi = lo + g->h + 2 * pad;
    double t0 = 0, t1 = 1;
    if (s->dy != 0) {
        t0 = (lo - s->ay) * s->inv_dy;
        t1 = (hi - s->ay) * s->inv_dy;
        if (t0 > t1) {
            double t = t0;
            t0 = t1;
            t1 = t;
        }
        t0 = t0 < 0 ? 0 : t0 > 1 ? 1 : t0;
        t1 = t1 < 0 ? 0 : t1 > 1 ? 1 : t1;
    }
    double xa = s->ax + t0 * s->dx, xb = s->ax + t1 * s->dx;
    double xlo = xa < xb ? xa : xb, xhi = xa < xb ? xb : xa;
    *c0 = cs_ugrid_clamp((xlo - pad - g->x0) * s->inv_w, g->nx);
    *c1 = cs_ugrid_clamp((xhi + pad - g->x0) * s->inv_w, g->nx);
}

/* A run of cells: first, first + stride, ... (count of them). */
typedef struct cs_ugrid_strip {
    size_t first, count, stride;
} cs_ugrid_strip;

/*
 * The cells of the square ring at Chebyshev distance r around cell (cx, cy), which
 * may lie outside the grid, as at most four strips of cells inside it: the bottom row,
 * the top row, then the left and right columns without their corners. Ring 0 is the
 * cell itself. Returns the number of strips written to out.
 */
size_t cs_ugrid_ring(const cs_ugrid *g, long cx, long cy, long r, cs_ugrid_strip out[4]);

/*
 * What the cells hold: cell c's items are item[start[c] .. start[c + 1]).
 *
 * Filling is two passes over the same (cell, id) pairs: cs_ugrid_csr_init, then every
 * pair to cs_ugrid_csr_add (counting), cs_ugrid_csr_place, then every pair to
 * cs_ugrid_csr_add again (placing, in the same order). A cell's items keep the order
 * they were added in.
 */
typedef struct cs_ugrid_csr {
    size_t ncells;
    uint32_t *start; /* ncells + 2; while filling, start[c + 1] is cell c's cursor */
    uint32_t *item;
} cs_ugrid_csr;

/* Zeroed counts for ncells cells; CS_ERR_NOMEM (csr left empty) when out of memory. */
cs_status cs_ugrid_csr_init(cs_ugrid_csr *csr, size_t ncells);

static inline void cs_ugrid_csr_add(cs_ugrid_csr *csr, size_t cell, uint32_t id)
{
    if (csr->item)
        csr->item[csr->start[cell + 1]++] = id;
    else
        csr->start[cell + 2]++;
}

/* Turn the counts into offsets and allocate item[]; CS_ERR_NOMEM when out of memory or
 * when there are UINT32_MAX items or more. */
cs_status cs_ugrid_csr_place(cs_ugrid_csr *csr);

/*
 * Counting sort of n items by their cell numbers (cell[i] < ncells, or CS_UGRID_NONE to
 * leave item i out): item[] lists the kept item numbers in cell order, input order
 * within a cell. n and ncells must be below UINT32_MAX (else CS_ERR_NOMEM, as for
 * allocation failures). The csr is freed first.
 */
#define CS_UGRID_NONE UINT32_MAX
cs_status cs_ugrid_csr_sort(cs_ugrid_csr *csr, const uint32_t *cell, size_t n, size_t ncells);

/*
 * Counting sort of points into the grid's cells: with clamp, every point goes to its
 * clamped cell (cs_ugrid_cell); without, points outside the grid are left out
 * (cs_ugrid_find). keep (may be NULL) leaves out point i when keep[i] == 0. threads > 1
 * computes the cells in parallel (OpenMP builds); the result does not depend on it.
 */
cs_status cs_ugrid_csr_points(cs_ugrid_csr *csr, const cs_ugrid *g, const double *x,
                              const double *y, const unsigned char *keep, size_t n, bool clamp,
                              int threads);

/* Frees the arrays, leaves a zeroed struct (NULL is fine). */
void cs_ugrid_csr_free(cs_ugrid_csr *csr);

#endif
