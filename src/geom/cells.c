/*
 * cells.c — the area within a width of many lines, drawn on a grid of cells and
 * outlined as polygons.
 *
 * Dissolving the buffers of a city's reached streets with GEOS takes minutes, and the
 * time grows with the overlapping pieces. On a grid it grows with the area: each
 * segment fills, row by row, the cells it reaches, and the filled cells are outlined
 * in one pass over their runs.
 *
 * The grid is never held whole. The segments are listed by the bands of rows they
 * meet; a band at a time is filled in one small buffer (about 2 MB, reused) and kept
 * only as its runs of filled cells, and the outline is traced on the runs. So memory
 * grows with the runs, that is with the outline, not with the box: a province's or a
 * country's service areas need no more cells in memory than a district's.
 *
 * The bound. A cell is filled only when all of it lies within width_m of a line (its
 * centre within width_m - cell_m·√2/2), so the outline never reaches farther than
 * width_m from the lines: it lies inside the exact buffer. A point within
 * width_m - cell_m·√2 of a line has its cell's centre within width_m - cell_m·√2/2, so
 * it is inside: no point of the exact buffer is farther than cell_m·√2 from the
 * outline.
 *
 * The outline. Each filled cell's side facing an empty cell is a boundary edge, walked
 * with the filled cell on the left (shells anticlockwise, holes clockwise). Cells are
 * joined into components through their sides, by their runs (union-find); each
 * component is one polygon, its shell the ring of positive area and its holes the
 * others. Where two filled cells touch only at a corner, a ring must not pass that
 * corner twice (the polygon would be invalid): of different components, each walk
 * stays with its own cell (two polygons touching there); of one component, the walk
 * turns into the other cell, splitting the rings there (a hole touching its shell, or
 * another hole, at that corner). So the polygons are valid without repair.
 */
#include "geom/geom.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* At most this many cells in a grid's box, and across or along it (a row of 64 MB). */
#define CELLS_MAX 1e12
#define ACROSS_MAX (1u << 26)
/* The rows filled at once: a band of about this many bytes, reused band after band. */
#define BAND_BYTES ((size_t)1 << 21)

typedef struct grid {
    size_t w, h; /* cells across and along, an empty border included */
    double x0, y0, size;
    uint8_t *band;         /* rows band_first .. band_first + band_rows - 1 */
    size_t band_first, band_rows;
    size_t *lo, *hi;       /* the cells written in each row of the band, lo > hi: none */
} grid;

/* Whether a box of w x h cells may be drawn. */
static bool box_fits(double w, double h)
{
    return w * h <= CELLS_MAX && w <= ACROSS_MAX && h <= ACROSS_MAX;
}

/* The first and last cell (inclusive) of the inner grid (the border cells stay empty),
 * n cells across, whose centre c + 0.5 lies in [lo, hi], in cell units; false when
 * none. */
static bool cells_within(double lo, double hi, size_t n, size_t *first, size_t *last)
{
    double a = lo - 0.5, b = hi - 0.5;
    a = a > 1 ? a : 1;
    b = b < (double)n - 2 ? b : (double)n - 2;
    if (!(a <= b))
        return false;
    size_t i0 = (size_t)a, i1 = (size_t)b; /* both positive: truncation is the floor */
    i0 += (double)i0 < a;                   /* and a's ceiling */
    *first = i0;
    *last = i1;
    return i0 <= i1;
}

/* The rows *j0 .. *j1 whose cell centres may lie within r of the segment from height ay
 * to by; false when none. */
static bool rows_of(const grid *g, double ay, double by, double r, size_t *j0, size_t *j1)
{
    double inv = 1 / g->size;
    ay = (ay - g->y0) * inv, by = (by - g->y0) * inv;
    r *= inv;
    return cells_within(cs_min(ay, by) - r, cs_max(ay, by) + r, g->h, j0, j1);
}

/* Widen [*lo, *hi] by the x of the row y within r of (cx, cy) (r2 = r²). */
static inline void add_disc(double cx, double cy, double r2, double y, double *lo, double *hi)
{
    double dy = y - cy, h2 = r2 - dy * dy;
    if (h2 < 0)
        return;
    double half = sqrt(h2);
    *lo = cx - half < *lo ? cx - half : *lo;
    *hi = cx + half > *hi ? cx + half : *hi;
}

/* Narrow [*lo, *hi] to the x with (x - ax)·k within [p, q]; inv_k = 1 / k. */
static inline void narrow(double ax, double k, double inv_k, double p, double q, double *lo,
                          double *hi)
{
    if (k == 0) {
        if (p > 0 || q < 0)
            *lo = INFINITY, *hi = -INFINITY;
        return;
    }
    double u = ax + p * inv_k, v = ax + q * inv_k;
    double a = u < v ? u : v, b = u < v ? v : u;
    *lo = a > *lo ? a : *lo;
    *hi = b < *hi ? b : *hi;
}

/*
 * Set to value the cells of the band whose centre lies within r of the segment a-b.
 * Along each row (the line y) those centres are an interval, as the set within r of a
 * segment is convex:
 * the hull of the two end discs and of the band of points whose foot falls on the
 * segment and whose distance from it is at most r. With v = y - ay and d = b - a, the
 * foot's position (x - ax)·dx + v·dy lies in [0, |d|²], and the signed distance times
 * |d|, v·dx - (x - ax)·dy, in [-r|d|, r|d|]: each bounds x - ax by a division fixed for
 * the segment. Worked in cell units (cell (i, j) centred at (i + 0.5, j + 0.5)), so a
 * row costs two square roots and no division.
 */
static void fill_segment(grid *g, double ax, double ay, double bx, double by, double r,
                         uint8_t value)
{
    size_t j0, j1, band_last = g->band_first + g->band_rows - 1; /* may pass the grid's end */
    if (!rows_of(g, ay, by, r, &j0, &j1) || j1 < g->band_first || j0 > band_last)
        return;
    j0 = j0 > g->band_first ? j0 : g->band_first;
    j1 = j1 < band_last ? j1 : band_last;
    double inv = 1 / g->size;
    ax = (ax - g->x0) * inv, ay = (ay - g->y0) * inv;
    bx = (bx - g->x0) * inv, by = (by - g->y0) * inv;
    r *= inv;
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy, rl = r * sqrt(len2);
    double r2 = r * r, inv_dx = dx != 0 ? 1 / dx : 0, inv_dy = dy != 0 ? 1 / dy : 0;
    for (size_t j = j0; j <= j1; j++) {
        double y = (double)j + 0.5, v = y - ay, lo = INFINITY, hi = -INFINITY;
        add_disc(ax, ay, r2, y, &lo, &hi);
        add_disc(bx, by, r2, y, &lo, &hi);
        if (len2 > 0) {
            double l = -INFINITY, h = INFINITY;
            narrow(ax, dx, inv_dx, -v * dy, len2 - v * dy, &l, &h);
            narrow(ax, -dy, -inv_dy, -v * dx - rl, -v * dx + rl, &l, &h);
            if (l <= h) {
                lo = l < lo ? l : lo;
                hi = h > hi ? h : hi;
            }
        }
        size_t i0, i1;
        if (lo <= hi && cells_within(lo, hi, g->w, &i0, &i1)) {
            size_t row = j - g->band_first;
            memset(g->band + row * g->w + i0, value, i1 - i0 + 1);
            g->lo[row] = i0 < g->lo[row] ? i0 : g->lo[row];
            g->hi[row] = i1 > g->hi[row] ? i1 : g->hi[row];
        }
    }
}

static void grid_free(grid *g)
{
    cs_free(g->band);
    cs_free(g->lo);
    cs_free(g->hi);
}

/* A grid over the box of lines[0 .. levels) widened by width_m, its origin on a multiple
 * of the cell size (so that grids of the same cell size line up), with an empty border,
 * and its band of rows. */
static cs_status grid_for(const cs_lines *lines, size_t levels, double width_m, double cell_m,
                          grid *g)
{
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t l = 0; l < levels; l++) {
        double b[4];
        if (lines[l].count == 0)
            continue;
        cs_box_of(lines[l].x, lines[l].y, lines[l].start[lines[l].count], b);
        box[0] = cs_min(box[0], b[0]);
        box[1] = cs_min(box[1], b[1]);
        box[2] = cs_max(box[2], b[2]);
        box[3] = cs_max(box[3], b[3]);
    }
    g->size = cell_m;
    g->x0 = (floor((box[0] - width_m) / cell_m) - 1) * cell_m;
    g->y0 = (floor((box[1] - width_m) / cell_m) - 1) * cell_m;
    double w = ceil((box[2] + width_m - g->x0) / cell_m) + 2;
    double h = ceil((box[3] + width_m - g->y0) / cell_m) + 2;
    if (!box_fits(w, h))
        return CS_ERR_ARGUMENT;
    g->w = (size_t)w;
    g->h = (size_t)h;
    g->band_first = 0;
    g->band_rows = BAND_BYTES / g->w > 1 ? BAND_BYTES / g->w : 1;
    g->band_rows = g->band_rows < g->h ? g->band_rows : g->h;
    g->band = cs_calloc(g->w * g->band_rows, 1);
    g->lo = cs_malloc(g->band_rows * sizeof *g->lo);
    g->hi = cs_calloc(g->band_rows, sizeof *g->hi);
    if (!g->band || !g->lo || !g->hi) {
        grid_free(g);
        return CS_ERR_NOMEM;
    }
    for (size_t row = 0; row < g->band_rows; row++)
        g->lo[row] = SIZE_MAX;
    return CS_OK;
}

/* ------------------------------------------------------------ the runs */

/* The filled cells as runs along the rows, joined into components. */
typedef struct runs {
    uint32_t *i0, *i1;  /* run r covers cells i0[r] .. i1[r] - 1 of its row */
    uint32_t *row;      /* its row */
    uint32_t *parent;   /* union-find over runs */
    size_t count, cap;
    size_t *row_first;  /* row j's runs: row_first[j] .. row_first[j + 1] - 1 */
} runs;

static void runs_free(runs *rs)
{
    cs_free(rs->i0);
    cs_free(rs->i1);
    cs_free(rs->row);
    cs_free(rs->parent);
    cs_free(rs->row_first);
    memset(rs, 0, sizeof *rs);
}

static uint32_t find(uint32_t *parent, uint32_t r)
{
    while (parent[r] != r) {
        parent[r] = parent[parent[r]];
        r = parent[r];
    }
    return r;
}

static bool add_run(runs *rs, size_t row, size_t i0, size_t i1)
{
    void **const array[] = {(void **)&rs->i0, (void **)&rs->i1, (void **)&rs->row,
                            (void **)&rs->parent};
    const size_t size[] = {sizeof *rs->i0, sizeof *rs->i1, sizeof *rs->row,
                           sizeof *rs->parent};
    if (rs->count >= UINT32_MAX || !cs_grow_together(array, size, 4, &rs->cap, rs->count + 1))
        return false;
    size_t r = rs->count++;
    rs->i0[r] = (uint32_t)i0;
    rs->i1[r] = (uint32_t)i1;
    rs->row[r] = (uint32_t)row;
    rs->parent[r] = (uint32_t)r;
    return true;
}

/* The first cell of row at i or after, before end, holding at least least, else end;
 * most of a grid is empty, so eight empty cells are skipped at once. */
static size_t next_at_least(const uint8_t *row, size_t i, size_t end, uint8_t least)
{
    uint64_t eight;
    while (i < end) {
        if (i + 8 <= end) {
            memcpy(&eight, row + i, 8);
            if (!eight) {
                i += 8;
                continue;
            }
        }
        if (row[i] >= least)
            return i;
        i++;
    }
    return end;
}

/* Row j's runs of cells holding at least least, all of them within cells lo .. hi
 * (1 <= lo, hi + 1 < the row's width: the first and last cell are empty), joined with
 * the overlapping runs of row j - 1 (cells touching through a side). Rows are added in
 * order, from 1. */
static bool add_row(runs *rs, const uint8_t *row, size_t lo, size_t hi, size_t j,
                    uint8_t least)
{
    size_t first = rs->count;
    rs->row_first[j] = first;
    for (size_t i = next_at_least(row, lo, hi + 1, least); i <= hi;
         i = next_at_least(row, i, hi + 1, least)) {
        size_t e = i;
        while (row[e] >= least)
            e++;
        if (!add_run(rs, j, i, e))
            return false;
        i = e;
    }
    for (size_t a = first, b = rs->row_first[j - 1]; a < rs->count; a++) {
        while (b < first && rs->i1[b] <= rs->i0[a])
            b++;
        for (size_t c = b; c < first && rs->i0[c] < rs->i1[a]; c++) {
            uint32_t x = find(rs->parent, (uint32_t)a), y = find(rs->parent, (uint32_t)c);
            if (x != y)
                rs->parent[x > y ? x : y] = x < y ? x : y;
        }
    }
    return true;
}

/* Room for the runs of h rows, the first and last empty. */
static bool runs_begin(runs *rs, size_t h)
{
    memset(rs, 0, sizeof *rs);
    rs->row_first = cs_calloc(h + 1, sizeof *rs->row_first);
    return rs->row_first != NULL;
}

static void runs_end(runs *rs, size_t h)
{
    rs->row_first[h - 1] = rs->row_first[h] = rs->count;
}

/* Whether cell (i, j) is filled, and then its run; rows 0 and h - 1 hold none. */
static bool cell_in(const runs *rs, size_t i, size_t j, size_t *run)
{
    size_t lo = rs->row_first[j], hi = rs->row_first[j + 1];
    if (lo == hi || rs->i0[lo] > i)
        return false;
    while (hi - lo > 1) { /* the last run starting at or before i */
        size_t mid = lo + (hi - lo) / 2;
        if (rs->i0[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    *run = lo;
    return i < rs->i1[lo];
}

/* ------------------------------------------------------------ the outline */

typedef struct traced {
    int32_t *vx, *vy;       /* ring vertices in cell corners */
    size_t nv, vcap;
    size_t *start;          /* ring r: vertices start[r] .. start[r + 1] - 1 */
    uint32_t *root;         /* its component's run */
    double *area;           /* its signed area, in cells */
    size_t count, cap;
} traced;

static bool add_vertex(traced *t, size_t i, size_t j)
{
    void **const array[] = {(void **)&t->vx, (void **)&t->vy};
    const size_t size[] = {sizeof *t->vx, sizeof *t->vy};
    if (!cs_grow_together(array, size, 2, &t->vcap, t->nv + 1))
        return false;
    t->vx[t->nv] = (int32_t)i;
    t->vy[t->nv++] = (int32_t)j;
    return true;
}

/*
 * The bottom sides already walked. A cell's bottom side facing an empty cell is walked
 * eastwards; a ring that reaches such a stretch of bottom sides enters it at its west
 * end and follows it to the east end, so a stretch is walked whole, by one ring. Rings
 * are started from the first stretch not yet walked, in row order, and a ring only
 * walks stretches after its start: a min-heap of the stretches' first cells (j·w + i)
 * says which ones the scan is to skip.
 */
typedef struct walked {
    uint64_t *key;
    size_t count, cap;
} walked;

static bool walked_add(walked *h, uint64_t key)
{
    if (!cs_grow((void **)&h->key, &h->cap, h->count + 1, sizeof *h->key))
        return false;
    size_t at = h->count++;
    while (at > 0 && h->key[(at - 1) / 2] > key) {
        h->key[at] = h->key[(at - 1) / 2];
        at = (at - 1) / 2;
    }
    h->key[at] = key;
    return true;
}

/* Whether the stretch starting at key was walked (taking it off the heap). */
static bool walked_take(walked *h, uint64_t key)
{
    if (h->count == 0 || h->key[0] != key)
        return false;
    uint64_t last = h->key[--h->count];
    size_t at = 0;
    for (;;) {
        size_t c = 2 * at + 1;
        if (c >= h->count)
            break;
        c += c + 1 < h->count && h->key[c + 1] < h->key[c];
        if (last <= h->key[c])
            break;
        h->key[at] = h->key[c];
        at = c;
    }
    if (h->count > 0)
        h->key[at] = last;
    return true;
}

/* Across side s of a cell (0 bottom, 1 right, 2 top, 3 left), and the corner where side
 * s ends, walking with the cell on the left. */
static const int ACROSS_X[4] = {0, 1, 0, -1}, ACROSS_Y[4] = {-1, 0, 1, 0};
static const int END_X[4] = {1, 1, 0, 0}, END_Y[4] = {0, 1, 1, 0};

static size_t step(size_t i, int d)
{
    return (size_t)((ptrdiff_t)i + d);
}

/* Walk the ring through the bottom side of cell (i, j) of run `run`; its corners (where
 * it turns) into t, closed, and the stretches of bottom sides it enters into seen. */
static bool walk(runs *rs, size_t w, size_t i, size_t j, size_t run, walked *seen, traced *t)
{
    size_t first = t->nv, ai = i, aj = j, ar = run;
    int s = 0;
    if (!add_vertex(t, i, j))
        return false;
    do {
        /* turn left if the cell's next side is a boundary (unless a cell of the same
         * component touches this corner: then into it); else go straight along the
         * neighbour there; else turn right into the cell ahead */
        int next = (s + 1) & 3, ns;
        size_t ni = step(ai, ACROSS_X[next]), nj = step(aj, ACROSS_Y[next]);
        size_t ci = step(ni, ACROSS_X[s]), cj = step(nj, ACROSS_Y[s]);
        size_t nr = 0, cr = 0, ti = ai, tj = aj, tr = ar;
        bool n_in = cell_in(rs, ni, nj, &nr), c_in = cell_in(rs, ci, cj, &cr);
        if (!n_in && (!c_in || find(rs->parent, (uint32_t)cr) !=
                                   find(rs->parent, (uint32_t)ar))) {
            ns = next;
        } else if (!c_in) {
            ns = s;
            ti = ni, tj = nj, tr = nr;
        } else {
            ns = (s + 3) & 3;
            ti = ci, tj = cj, tr = cr;
        }
        if (ns != s && !add_vertex(t, ai + (size_t)END_X[s], aj + (size_t)END_Y[s]))
            return false;
        if (ns == 0 && s != 0 && !(ti == i && tj == j) && !walked_add(seen, tj * w + ti))
            return false;
        ai = ti, aj = tj, ar = tr;
        s = ns;
    } while (!(ai == i && aj == j && s == 0));
    if ((t->vx[t->nv - 1] != t->vx[first] || t->vy[t->nv - 1] != t->vy[first]) &&
        !add_vertex(t, (size_t)t->vx[first], (size_t)t->vy[first]))
        return false;
    return true;
}

static bool add_ring(traced *t, uint32_t root)
{
    void **const array[] = {(void **)&t->root, (void **)&t->area, (void **)&t->start};
    const size_t size[] = {sizeof *t->root, sizeof *t->area, sizeof *t->start};
    if (!cs_grow_together(array, size, 3, &t->cap, t->count + 2))
        return false;
    if (t->count == 0)
        t->start[0] = 0;
    size_t a = t->start[t->count], b = t->nv;
    double twice = 0;
    for (size_t v = a; v + 1 < b; v++)
        twice += (double)t->vx[v] * t->vy[v + 1] - (double)t->vx[v + 1] * t->vy[v];
    t->root[t->count] = root;
    t->area[t->count] = twice / 2;
    t->start[++t->count] = b;
    return true;
}

/* Every ring, found through the first cell of its first stretch of bottom sides facing
 * an empty cell, in row order. */
static bool walk_all(runs *rs, size_t w, traced *t)
{
    walked seen = {0};
    bool ok = true;
    for (size_t r = 0; ok && r < rs->count; r++) {
        size_t j = rs->row[r], i = rs->i0[r], end = rs->i1[r];
        size_t b = rs->row_first[j - 1], below_end = rs->row_first[j]; /* the row below */
        while (b < below_end && rs->i1[b] <= i)
            b++;
        while (ok && i < end) {
            if (b < below_end && rs->i0[b] <= i) { /* above a filled cell up to i1[b] */
                i = rs->i1[b++];
                continue;
            }
            if (!walked_take(&seen, (uint64_t)j * w + i))
                ok = walk(rs, w, i, j, r, &seen, t) &&
                     add_ring(t, find(rs->parent, (uint32_t)r));
            i = b < below_end && rs->i0[b] < end ? rs->i0[b] : end;
        }
    }
    cs_free(seen.key);
    return ok;
}

/* The rings into out, one area per component: its shell first, then its holes; corner
 * (i, j) is at x0 + i·size, y0 + j·size. */
static cs_status assemble(const runs *rs, const traced *t, double x0, double y0, double size,
                          cs_rings *out)
{
    memset(out, 0, sizeof *out);
    uint32_t *comp = cs_malloc((rs->count ? rs->count : 1) * sizeof *comp);
    size_t *count = NULL, *order = NULL, ncomp = 0;
    if (!comp)
        return CS_ERR_NOMEM;
    for (size_t r = 0; r < rs->count; r++)
        comp[r] = UINT32_MAX;
    for (size_t r = 0; r < t->count; r++)
        if (comp[t->root[r]] == UINT32_MAX)
            comp[t->root[r]] = (uint32_t)ncomp++;
    count = cs_calloc(ncomp + 1, sizeof *count);
    order = cs_malloc((t->count ? t->count : 1) * sizeof *order);
    out->x = cs_malloc((t->nv ? t->nv : 1) * sizeof *out->x);
    out->y = cs_malloc((t->nv ? t->nv : 1) * sizeof *out->y);
    out->ring_start = cs_malloc((t->count + 1) * sizeof *out->ring_start);
    out->area_ring_start = cs_malloc((ncomp + 1) * sizeof *out->area_ring_start);
    if (!count || !order || !out->x || !out->y || !out->ring_start || !out->area_ring_start) {
        cs_free(comp);
        cs_free(count);
        cs_free(order);
        cs_rings_free(out);
        return CS_ERR_NOMEM;
    }
    /* rings by component, in the order found; the shell (positive area) to the front */
    for (size_t r = 0; r < t->count; r++)
        count[comp[t->root[r]] + 1]++;
    for (size_t c = 0; c < ncomp; c++)
        count[c + 1] += count[c];
    memcpy(out->area_ring_start, count, (ncomp + 1) * sizeof *count);
    for (size_t r = 0; r < t->count; r++) {
        size_t c = comp[t->root[r]], at = count[c]++;
        order[at] = r;
        if (t->area[r] > 0 && at != out->area_ring_start[c]) {
            order[at] = order[out->area_ring_start[c]];
            order[out->area_ring_start[c]] = r;
        }
    }
    out->ring_start[0] = 0;
    for (size_t k = 0; k < t->count; k++) {
        size_t r = order[k], v = out->ring_start[k];
        for (size_t p = t->start[r]; p < t->start[r + 1]; p++, v++) {
            out->x[v] = x0 + (double)t->vx[p] * size;
            out->y[v] = y0 + (double)t->vy[p] * size;
        }
        out->ring_start[k + 1] = v;
    }
    out->vertex_count = t->nv;
    out->ring_count = t->count;
    out->area_count = ncomp;
    cs_free(comp);
    cs_free(count);
    cs_free(order);
    return CS_OK;
}

/* The outline of the runs of a grid w cells across. */
static cs_status outline(runs *rs, size_t w, double x0, double y0, double size, cs_rings *out)
{
    traced t = {0};
    cs_status st = walk_all(rs, w, &t) ? assemble(rs, &t, x0, y0, size, out) : CS_ERR_NOMEM;
    cs_free(t.vx);
    cs_free(t.vy);
    cs_free(t.start);
    cs_free(t.root);
    cs_free(t.area);
    return st;
}

cs_status cs_cells_outline(const uint8_t *filled, size_t w, size_t h, double x0, double y0,
                           double cell_m, cs_rings *out)
{
    memset(out, 0, sizeof *out);
    if (!(cell_m > 0) || w == 0 || h == 0 || !box_fits((double)w + 2, (double)h + 2))
        return CS_ERR_ARGUMENT;
    /* each row copied between empty border cells */
    runs rs;
    uint8_t *row = cs_calloc(w + 2, 1);
    bool ok = row && runs_begin(&rs, h + 2);
    for (size_t j = 0; ok && j < h; j++) {
        for (size_t i = 0; i < w; i++)
            row[i + 1] = filled[j * w + i] != 0;
        ok = add_row(&rs, row, 1, w, j + 1, 1);
    }
    cs_status st = CS_ERR_NOMEM;
    if (ok) {
        runs_end(&rs, h + 2);
        st = outline(&rs, w + 2, x0 - cell_m, y0 - cell_m, cell_m, out);
    }
    if (row)
        runs_free(&rs);
    cs_free(row);
    return st;
}

/* ------------------------------------------------------------ drawing */

/* A segment in the bands its rows meet: its level (the top 8 bits), whether it is a
 * line of one point (bit 55), and its first vertex. */
#define SEG_POINT ((uint64_t)1 << 55)
#define SEG_VERTEX (SEG_POINT - 1)

/* Segment v-to of level l listed in each band of rows it meets (at[k]: the next place
 * in band k's list) or, when seg is NULL, counted there (at[k + 1]). */
static void list_segment(const grid *g, const cs_lines *ln, size_t l, size_t v, size_t to,
                         double r, size_t *at, uint64_t *seg)
{
    size_t j0, j1;
    if (!rows_of(g, ln->y[v], ln->y[to], r, &j0, &j1))
        return;
    uint64_t key = (uint64_t)l << 56 | (to == v ? SEG_POINT : 0) | v;
    for (size_t k = j0 / g->band_rows; k <= j1 / g->band_rows; k++) {
        if (seg)
            seg[at[k]++] = key;
        else
            at[k + 1]++;
    }
}

/* Each segment of the levels used (a line of one point: that point), from the last
 * level to the first, listed or counted by list_segment. */
static void list_segments(const grid *g, const cs_lines *lines, size_t used, double r,
                          size_t *at, uint64_t *seg)
{
    for (size_t l = used; l-- > 0;) {
        const cs_lines *ln = &lines[l];
        for (size_t p = 0; p < ln->count; p++) {
            size_t a = ln->start[p], b = ln->start[p + 1];
            for (size_t v = a; v + 1 < b; v++)
                list_segment(g, ln, l, v, v + 1, r, at, seg);
            if (b - a == 1)
                list_segment(g, ln, l, a, a, r, at, seg);
        }
    }
}

/* The segments listed in bands: band k's are seg[first[k] .. first[k + 1]); levels drawn
 * last to first in each. */
static bool sort_into_bands(const grid *g, const cs_lines *lines, size_t used, double r,
                            uint64_t **seg, size_t **first)
{
    size_t bands = (g->h + g->band_rows - 1) / g->band_rows;
    size_t *at = cs_calloc(bands + 1, sizeof *at);
    *first = cs_calloc(bands + 1, sizeof **first);
    *seg = NULL;
    if (at && *first) {
        list_segments(g, lines, used, r, *first, NULL);
        for (size_t k = 0; k < bands; k++)
            (*first)[k + 1] += (*first)[k];
        memcpy(at, *first, bands * sizeof *at);
        *seg = cs_malloc((*first)[bands] ? (*first)[bands] * sizeof **seg : 1);
    }
    if (*seg)
        list_segments(g, lines, used, r, at, *seg);
    cs_free(at);
    return *seg != NULL;
}

/* Fill the band with the segments listed for it: each cell holds levels - l for the
 * first level l whose lines reach it (0: none), the levels drawn last to first. */
static void fill_band(grid *g, const cs_lines *lines, size_t levels, const uint64_t *seg,
                      size_t n, double r)
{
    for (size_t row = 0; row < g->band_rows; row++)
        if (g->lo[row] <= g->hi[row]) { /* only what the band before wrote */
            memset(g->band + row * g->w + g->lo[row], 0, g->hi[row] - g->lo[row] + 1);
            g->lo[row] = SIZE_MAX;
            g->hi[row] = 0;
        }
    for (size_t e = 0; e < n; e++) {
        size_t l = (size_t)(seg[e] >> 56), v = (size_t)(seg[e] & SEG_VERTEX);
        size_t to = seg[e] & SEG_POINT ? v : v + 1;
        fill_segment(g, lines[l].x[v], lines[l].y[v], lines[l].x[to], lines[l].y[to], r,
                     (uint8_t)(levels - l));
    }
}

/* Each wanted level's runs, drawn band by band. */
static bool draw_runs(grid *g, const cs_lines *lines, size_t levels, size_t used,
                      const bool *want, double r, runs *rs)
{
    uint64_t *seg;
    size_t *first;
    bool ok = sort_into_bands(g, lines, used, r, &seg, &first);
    for (size_t k = 0; ok && k * g->band_rows < g->h; k++) {
        g->band_first = k * g->band_rows;
        size_t end = g->band_first + g->band_rows, last = g->h - 1; /* row h - 1: border */
        end = end < last ? end : last;
        fill_band(g, lines, levels, seg + first[k], first[k + 1] - first[k], r);
        for (size_t j = g->band_first > 0 ? g->band_first : 1; ok && j < end; j++) {
            size_t row = j - g->band_first;
            for (size_t l = 0; ok && l < used; l++)
                if (want[l])
                    ok = add_row(&rs[l], g->band + row * g->w, g->lo[row], g->hi[row], j,
                                 (uint8_t)(levels - l));
        }
    }
    cs_free(seg);
    cs_free(first);
    for (size_t l = 0; ok && l < used; l++)
        if (want[l])
            runs_end(&rs[l], g->h);
    return ok;
}

/*
 * Each level's cells drawn on one grid, band of rows by band: every segment is drawn
 * once, at its own level, in each band it meets. A cell holds levels - l for the first
 * level l whose lines reach it; level l's runs are the cells holding at least
 * levels - l, and its outline is traced on them. The grid is never held whole: memory
 * grows with the runs (the outline), not with the box.
 */
cs_status cs_cells_buffer_levels(const cs_lines *lines, size_t levels, double width_m,
                                 double cell_m, const bool *want, cs_rings *out)
{
    for (size_t l = 0; l < levels; l++)
        memset(&out[l], 0, sizeof out[l]);
    if (!(cell_m > 0) || !(width_m > 0) || levels == 0 || levels >= UINT8_MAX)
        return CS_ERR_ARGUMENT;
    double r = width_m - cell_m * M_SQRT2 / 2;
    size_t used = 0, any = 0; /* the levels up to the last wanted; lines in them */
    for (size_t l = 0; l < levels; l++)
        if (want[l])
            used = l + 1;
    for (size_t l = 0; l < used; l++)
        any += lines[l].count;
    if (any == 0 || r < 0)
        return CS_OK;
    grid g;
    cs_status st = grid_for(lines, used, width_m, cell_m, &g);
    if (st != CS_OK)
        return st;
    runs *rs = cs_calloc(used, sizeof *rs);
    bool ok = rs != NULL;
    for (size_t l = 0; ok && l < used; l++)
        ok = !want[l] || runs_begin(&rs[l], g.h);
    ok = ok && draw_runs(&g, lines, levels, used, want, r, rs);
    grid_free(&g);
    st = ok ? CS_OK : CS_ERR_NOMEM;
    for (size_t l = 0; st == CS_OK && l < used; l++)
        if (want[l])
            st = outline(&rs[l], g.w, g.x0, g.y0, g.size, &out[l]);
    for (size_t l = 0; rs && l < used; l++)
        runs_free(&rs[l]);
    cs_free(rs);
    if (st != CS_OK)
        for (size_t l = 0; l < levels; l++)
            cs_rings_free(&out[l]);
    return st;
}

cs_status cs_cells_buffer(const cs_lines *lines, double width_m, double cell_m, cs_rings *out)
{
    const bool want = true;
    return cs_cells_buffer_levels(lines, 1, width_m, cell_m, &want, out);
}
