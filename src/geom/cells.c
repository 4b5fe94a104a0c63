/*
 * cells.c — the area within a width of many lines, drawn on a grid of cells and
 * outlined as polygons.
 *
 * Dissolving the buffers of a city's reached streets with GEOS takes minutes, and the
 * time grows with the overlapping pieces. On a grid it grows with the area: each
 * segment fills, row by row, the cells it reaches, and the filled cells are outlined
 * in one pass over their runs.
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

#define CELL_IN 1u
#define SIDE(s) (2u << (s)) /* side s not yet walked: 0 bottom, 1 right, 2 top, 3 left */

/* At most this many cells in a grid (a byte each). */
#define CELLS_MAX 1e9

typedef struct grid {
    uint8_t *cell;
    size_t w, h;
    double x0, y0, size;
} grid;

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
 * Set to value the cells whose centre lies within r of the segment a-b. Along each row (the
 * line y) those centres are an interval, as the set within r of a segment is convex:
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
    double inv = 1 / g->size;
    ax = (ax - g->x0) * inv, ay = (ay - g->y0) * inv;
    bx = (bx - g->x0) * inv, by = (by - g->y0) * inv;
    r *= inv;
    size_t j0, j1;
    if (!cells_within(cs_min(ay, by) - r, cs_max(ay, by) + r, g->h, &j0, &j1))
        return;
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
        if (lo <= hi && cells_within(lo, hi, g->w, &i0, &i1))
            memset(g->cell + j * g->w + i0, value, i1 - i0 + 1);
    }
}

/* A grid over the box of lines[0 .. levels) widened by width_m, its origin on a multiple
 * of the cell size (so that grids of the same cell size line up), with an empty border. */
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
    if (!(w * h <= CELLS_MAX))
        return CS_ERR_ARGUMENT;
    g->w = (size_t)w;
    g->h = (size_t)h;
    g->cell = cs_calloc(g->w * g->h, 1);
    return g->cell ? CS_OK : CS_ERR_NOMEM;
}

/* ------------------------------------------------------------ the outline */

typedef struct runs {
    uint32_t *i0, *i1;  /* run r covers cells i0[r] .. i1[r] - 1 of its row */
    uint32_t *row;      /* its row */
    uint32_t *parent;   /* union-find over runs */
    size_t count, cap;
    size_t *row_first;  /* row j's runs: row_first[j] .. row_first[j + 1] - 1 */
} runs;

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
    if (!cs_grow_together(array, size, 4, &rs->cap, rs->count + 1))
        return false;
    size_t r = rs->count++;
    rs->i0[r] = (uint32_t)i0;
    rs->i1[r] = (uint32_t)i1;
    rs->row[r] = (uint32_t)row;
    rs->parent[r] = (uint32_t)r;
    return true;
}

/* The first filled cell of row at i or after, before end (the row's empty border cell,
 * which stops the scan); most of a grid is empty, so eight cells are skipped at once. */
static size_t next_filled(const uint8_t *row, size_t i, size_t end)
{
    uint64_t eight;
    for (; i + 8 <= end; i += 8) {
        memcpy(&eight, row + i, 8);
        if (eight)
            break;
    }
    while (i < end && !row[i])
        i++;
    return i;
}

/* The runs of filled cells, row by row, joined with the overlapping runs of the row
 * below (cells touching through a side); each filled cell marks its sides facing an
 * empty cell as not yet walked. */
static bool find_runs(grid *g, runs *rs)
{
    size_t below = 0, below_end = 0; /* the runs of the row below */
    rs->row_first = cs_calloc(g->h + 1, sizeof *rs->row_first);
    if (!rs->row_first)
        return false;
    for (size_t j = 1; j + 1 < g->h; j++) {
        uint8_t *row = g->cell + j * g->w;
        size_t first = rs->count;
        rs->row_first[j] = first;
        for (size_t i = 1; i + 1 < g->w; i++) {
            i = next_filled(row, i, g->w - 1);
            if (i + 1 >= g->w)
                break;
            size_t e = i;
            while (row[e])
                e++;
            if (!add_run(rs, j, i, e))
                return false;
            for (size_t c = i; c < e; c++) {
                uint8_t s = CELL_IN;
                s |= row[c - g->w] ? 0 : SIDE(0);
                s |= c + 1 == e ? SIDE(1) : 0;
                s |= row[c + g->w] ? 0 : SIDE(2);
                s |= c == i ? SIDE(3) : 0;
                row[c] = s;
            }
            i = e;
        }
        for (size_t a = first, b = below; a < rs->count; a++) {
            while (b < below_end && rs->i1[b] <= rs->i0[a])
                b++;
            for (size_t c = b; c < below_end && rs->i0[c] < rs->i1[a]; c++) {
                uint32_t x = find(rs->parent, (uint32_t)a), y = find(rs->parent, (uint32_t)c);
                if (x != y)
                    rs->parent[x > y ? x : y] = x < y ? x : y;
            }
        }
        below = first;
        below_end = rs->count;
    }
    rs->row_first[g->h - 1] = rs->row_first[g->h] = rs->count;
    return true;
}

/* The component of filled cell idx: its run's root. */
static uint32_t component_of(const grid *g, const runs *rs, size_t idx)
{
    size_t j = idx / g->w, i = idx % g->w, lo = rs->row_first[j], hi = rs->row_first[j + 1];
    while (hi - lo > 1) { /* the last run starting at or before i */
        size_t mid = lo + (hi - lo) / 2;
        if (rs->i0[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return find(rs->parent, (uint32_t)lo);
}

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

/* The corner where side s of cell (i, j) ends, walking with the cell on the left. */
static const int END_X[4] = {1, 1, 0, 0}, END_Y[4] = {0, 1, 1, 0};

/* Walk the ring through side 0 of cell idx, clearing the sides walked; its corners
 * (where it turns) into t, closed. */
static bool walk(grid *g, const runs *rs, size_t idx, traced *t)
{
    const ptrdiff_t across[4] = {-(ptrdiff_t)g->w, 1, (ptrdiff_t)g->w, -1};
    size_t first = t->nv, at = idx;
    int s = 0;
    if (!add_vertex(t, idx % g->w, idx / g->w))
        return false;
    do {
        g->cell[at] &= (uint8_t)~SIDE(s);
        /* turn left if the cell's next side is a boundary (unless a cell of the same
         * component touches this corner: then into it); else go straight along the
         * neighbour there; else turn right into the cell ahead */
        int next = (s + 1) & 3, ns;
        size_t n = (size_t)((ptrdiff_t)at + across[next]), to;
        size_t corner = (size_t)((ptrdiff_t)n + across[s]);
        if (!(g->cell[n] & CELL_IN) &&
            (!(g->cell[corner] & CELL_IN) ||
             component_of(g, rs, corner) != component_of(g, rs, at))) {
            ns = next;
            to = at;
        } else if (!(g->cell[corner] & CELL_IN)) {
            ns = s;
            to = n;
        } else {
            ns = (s + 3) & 3;
            to = corner;
        }
        if (ns != s && !add_vertex(t, at % g->w + (size_t)END_X[s], at / g->w + (size_t)END_Y[s]))
            return false;
        at = to;
        s = ns;
    } while (!(at == idx && s == 0));
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

/* Every ring, found through its first side 0 in row order. */
static bool walk_all(grid *g, runs *rs, traced *t)
{
    for (size_t r = 0; r < rs->count; r++) {
        size_t base = (size_t)rs->row[r] * g->w;
        for (size_t i = rs->i0[r]; i < rs->i1[r]; i++)
            if (g->cell[base + i] & SIDE(0))
                if (!walk(g, rs, base + i, t) || !add_ring(t, find(rs->parent, (uint32_t)r)))
                    return false;
    }
    return true;
}

/* The rings into out, one area per component: its shell first, then its holes. */
static cs_status assemble(const grid *g, const runs *rs, const traced *t, cs_rings *out)
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
            out->x[v] = g->x0 + (double)t->vx[p] * g->size;
            out->y[v] = g->y0 + (double)t->vy[p] * g->size;
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

static cs_status outline(grid *g, cs_rings *out)
{
    runs rs = {0};
    traced t = {0};
    cs_status st = find_runs(g, &rs) && walk_all(g, &rs, &t) ? assemble(g, &rs, &t, out)
                                                               : CS_ERR_NOMEM;
    cs_free(rs.i0);
    cs_free(rs.i1);
    cs_free(rs.row);
    cs_free(rs.parent);
    cs_free(rs.row_first);
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
    if (!(cell_m > 0) || w == 0 || h == 0 || (double)(w + 2) * (double)(h + 2) > CELLS_MAX)
        return CS_ERR_ARGUMENT;
    /* a copy with an empty border */
    grid g = {cs_calloc((w + 2) * (h + 2), 1), w + 2, h + 2, x0 - cell_m, y0 - cell_m, cell_m};
    if (!g.cell)
        return CS_ERR_NOMEM;
    for (size_t j = 0; j < h; j++)
        for (size_t i = 0; i < w; i++)
            g.cell[(j + 1) * g.w + i + 1] = filled[j * w + i] ? CELL_IN : 0;
    cs_status st = outline(&g, out);
    cs_free(g.cell);
    return st;
}

/* Set to value the cells within r of the lines. */
static void fill_lines(grid *g, const cs_lines *lines, double r, uint8_t value)
{
    for (size_t p = 0; p < lines->count; p++) {
        size_t a = lines->start[p], b = lines->start[p + 1];
        for (size_t v = a; v + 1 < b; v++)
            fill_segment(g, lines->x[v], lines->y[v], lines->x[v + 1], lines->y[v + 1], r,
                         value);
        if (b - a == 1)
            fill_segment(g, lines->x[a], lines->y[a], lines->x[a], lines->y[a], r, value);
    }
}

/*
 * Each level's cells on one grid: every segment is drawn once, at its own level. A cell
 * holds levels - l for the first level l whose lines reach it (0: none): the levels are
 * drawn last to first, each over the ones after it. Level l's outline is then the
 * cells holding at least levels - l, traced on a copy (tracing marks the cells).
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
    grid g, work;
    cs_status st = grid_for(lines, used, width_m, cell_m, &g);
    if (st != CS_OK)
        return st;
    work = g;
    work.cell = cs_malloc(g.w * g.h);
    if (!work.cell) {
        cs_free(g.cell);
        return CS_ERR_NOMEM;
    }
    for (size_t l = used; l-- > 0;)
        fill_lines(&g, &lines[l], r, (uint8_t)(levels - l));
    for (size_t l = 0; st == CS_OK && l < used; l++) {
        if (!want[l])
            continue;
        uint8_t least = (uint8_t)(levels - l);
        for (size_t c = 0; c < g.w * g.h; c++)
            work.cell[c] = g.cell[c] >= least ? CELL_IN : 0;
        st = outline(&work, &out[l]);
    }
    cs_free(g.cell);
    cs_free(work.cell);
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
