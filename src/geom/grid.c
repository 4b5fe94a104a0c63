/*
 * grid.c — the shared uniform grid (see grid.h): sizing, the cells a segment passes
 * through, rings of cells around a cell, and the counting sort that fills the cells.
 */
#include "geom/grid.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

void cs_ugrid_fit(cs_ugrid *g, double x0, double y0, double width, double height,
                  double cell, double grow, double max_cells)
{
    while ((width / cell + 1) * (height / cell + 1) > max_cells)
        cell *= grow;
    g->x0 = x0;
    g->y0 = y0;
    g->w = g->h = cell;
    g->nx = (size_t)(width / cell) + 1;
    g->ny = (size_t)(height / cell) + 1;
}

/* The part [lo, hi] of [a, b] inside [0, n - 1], as a count (0 when disjoint). */
static size_t span(long a, long b, size_t n, size_t *lo)
{
    long from = a < 0 ? 0 : a, to = b >= (long)n ? (long)n - 1 : b;
    *lo = (size_t)from;
    return to >= from ? (size_t)(to - from + 1) : 0;
}

size_t cs_ugrid_ring(const cs_ugrid *g, long cx, long cy, long r, cs_ugrid_strip out[4])
{
    size_t k = 0, lo;
    long nx = (long)g->nx, ny = (long)g->ny;
    size_t cols = span(cx - r, cx + r, g->nx, &lo);
    for (int side = 0; side < 2 && cols; side++) {
        long row = side ? cy + r : cy - r;
        if ((side && r == 0) || row < 0 || row >= ny)
            continue;
        out[k++] = (cs_ugrid_strip){(size_t)row * g->nx + lo, cols, 1};
    }
    if (r == 0)
        return k;
    size_t rows = span(cy - r + 1, cy + r - 1, g->ny, &lo);
    for (int side = 0; side < 2 && rows; side++) {
        long col = side ? cx + r : cx - r;
        if (col < 0 || col >= nx)
            continue;
        out[k++] = (cs_ugrid_strip){lo * g->nx + (size_t)col, rows, g->nx};
    }
    return k;
}

void cs_ugrid_csr_free(cs_ugrid_csr *csr)
{
    if (!csr)
        return;
    cs_free(csr->start);
    cs_free(csr->item);
    memset(csr, 0, sizeof *csr);
}

cs_status cs_ugrid_csr_init(cs_ugrid_csr *csr, size_t ncells)
{
    memset(csr, 0, sizeof *csr);
    csr->start = ncells < SIZE_MAX - 2 ? cs_calloc(ncells + 2, sizeof *csr->start) : NULL;
    if (!csr->start)
        return CS_ERR_NOMEM;
    csr->ncells = ncells;
    return CS_OK;
}

cs_status cs_ugrid_csr_place(cs_ugrid_csr *csr)
{
    /* shifted sums: start[c + 1] becomes cell c's cursor, and ends as cell c + 1's start;
     * the counts cannot overflow before the sum does, which is checked in 64 bits */
    uint32_t *s = csr->start;
    uint64_t total = 0;
    for (size_t c = 0; c < csr->ncells; c++) {
        total += s[c + 2];
        if (total >= UINT32_MAX)
            return CS_ERR_NOMEM;
        s[c + 2] = (uint32_t)total;
    }
    csr->item = cs_calloc(s[csr->ncells + 1] + 1, sizeof *csr->item);
    return csr->item ? CS_OK : CS_ERR_NOMEM;
}

cs_status cs_ugrid_csr_sort(cs_ugrid_csr *csr, const uint32_t *cell, size_t n, size_t ncells)
{
    cs_ugrid_csr_free(csr);
    if (n >= UINT32_MAX || ncells >= UINT32_MAX)
        return CS_ERR_NOMEM;
    cs_status st = cs_ugrid_csr_init(csr, ncells);
    for (size_t i = 0; st == CS_OK && i < n; i++)
        if (cell[i] != CS_UGRID_NONE)
            csr->start[cell[i] + 2]++;
    if (st == CS_OK)
        st = cs_ugrid_csr_place(csr);
    for (size_t i = 0; st == CS_OK && i < n; i++)
        if (cell[i] != CS_UGRID_NONE)
            csr->item[csr->start[cell[i] + 1]++] = (uint32_t)i;
    if (st != CS_OK)
        cs_ugrid_csr_free(csr);
    return st;
}

cs_status cs_ugrid_csr_points(cs_ugrid_csr *csr, const cs_ugrid *g, const double *x,
                              const double *y, const unsigned char *keep, size_t n, bool clamp,
                              int threads)
{
    cs_ugrid_csr_free(csr);
    if (n >= UINT32_MAX || cs_ugrid_cells(g) >= UINT32_MAX)
        return CS_ERR_NOMEM;
    uint32_t *cell = cs_calloc(n + 1, sizeof *cell);
    if (!cell)
        return CS_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads > 1 ? threads : 1)
#else
    (void)threads;
#endif
    for (long i = 0; i < (long)n; i++) {
        size_t c = CS_UGRID_NONE;
        if (keep && !keep[i])
            c = CS_UGRID_NONE;
        else if (clamp)
            c = cs_ugrid_cell(g, x[i], y[i]);
        else if (!cs_ugrid_find(g, x[i], y[i], &c))
            c = CS_UGRID_NONE;
        cell[i] = (uint32_t)c;
    }
    cs_status st = cs_ugrid_csr_sort(csr, cell, n, cs_ugrid_cells(g));
    cs_free(cell);
    return st;
}
