/*
 * patch.c — under-served patches (see patch.h).
 *
 * Points are keyed by their grid cell and sorted, so the occupied cells come out in key
 * order with their points in a run; edge-sharing neighbours are found by binary search
 * among the occupied keys and joined with union-find. Cells touching only at a corner
 * stay apart: on a square grid that is the 4-neighbourhood. Hexagons (flat-topped, of
 * the same area as a square of cell_m) have six edge neighbours and no corner-only ones.
 *
 * Cell vertices are computed from integer lattice indices, so a vertex shared by two
 * cells is bit-identical in both and their union is exact (GEOS's coverage union, not
 * the general overlay). The union is then clipped to the areas the patch's residents
 * live in: a cell reaching over a street border where none of them lives is cut back.
 */
#include "cover/patch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- the grid */

/* Circumradius of a hexagon with the area of a square of side s: (3√3/2) R² = s². */
static double hex_radius(double s)
{
    return s * sqrt(2.0 / (3.0 * sqrt(3.0)));
}

void cs_grid_cell(const cs_grid *g, double x, double y, int32_t *col, int32_t *row)
{
    double px = x - g->x0, py = y - g->y0;
    if (g->shape == CS_GRID_SQUARE) {
        *col = (int32_t)floor(px / g->cell_m);
        *row = (int32_t)floor(py / g->cell_m);
        return;
    }
    /* axial coordinates (q, r), rounded through cube coordinates */
    double R = hex_radius(g->cell_m);
    double q = (2.0 / 3.0 * px) / R, r = (-1.0 / 3.0 * px + sqrt(3.0) / 3.0 * py) / R;
    double s = -q - r;
    double rq = round(q), rr = round(r), rs = round(s);
    double dq = fabs(rq - q), dr = fabs(rr - r), ds = fabs(rs - s);
    if (dq > dr && dq > ds)
        rq = -rr - rs;
    else if (dr > ds)
        rr = -rq - rs;
    *col = (int32_t)rq;
    *row = (int32_t)rr;
}

int64_t cs_grid_key(int32_t col, int32_t row)
{
    /* ordered by column, then row */
    return (int64_t)col * 4294967296LL + ((int64_t)row + 2147483648LL);
}

void cs_grid_key_cell(int64_t key, int32_t *col, int32_t *row)
{
    int64_t low = (int64_t)((uint64_t)key & 0xffffffffu); /* row + 2^31 */
    *col = (int32_t)((key - low) / 4294967296LL);
    *row = (int32_t)(low - 2147483648LL);
}

/* The cell's polygon: vertices from lattice indices, counter-clockwise. */
static cs_status add_cell_polygon(const cs_grid *g, int32_t col, int32_t row, cs_rings *out)
{
    double xs[7], ys[7];
    size_t n;
    if (g->shape == CS_GRID_SQUARE) {
        static const int dc[4] = {0, 1, 1, 0}, dr[4] = {0, 0, 1, 1};
        for (n = 0; n < 4; n++) {
            xs[n] = g->x0 + (double)(col + dc[n]) * g->cell_m;
            ys[n] = g->y0 + (double)(row + dr[n]) * g->cell_m;
        }
    } else {
        /* vertex lattice: x = x0 + i R/2, y = y0 + j R√3/2; the centre of (q, r) is at
         * i = 3q, j = 2r + q */
        static const int di[6] = {2, 1, -1, -2, -1, 1}, dj[6] = {0, 1, 1, 0, -1, -1};
        double R = hex_radius(g->cell_m), hx = R / 2, hy = R * sqrt(3.0) / 2;
        int64_t ic = 3 * (int64_t)col, jc = 2 * (int64_t)row + col;
        for (n = 0; n < 6; n++) {
            xs[n] = g->x0 + (double)(ic + di[n]) * hx;
            ys[n] = g->y0 + (double)(jc + dj[n]) * hy;
        }
    }
    xs[n] = xs[0];
    ys[n] = ys[0];
    n++;
    const double *px = xs, *py = ys;
    return cs_rings_add_polygon(out, 1, &px, &py, &n);
}

/* Edge neighbours with a greater key (each pair is joined once). */
static size_t forward_neighbours(const cs_grid *g, int32_t col, int32_t row, int64_t *out)
{
    if (g->shape == CS_GRID_SQUARE) {
        out[0] = cs_grid_key(col + 1, row);
        out[1] = cs_grid_key(col, row + 1);
        return 2;
    }
    out[0] = cs_grid_key(col + 1, row);
    out[1] = cs_grid_key(col, row + 1);
    out[2] = cs_grid_key(col + 1, row - 1);
    return 3;
}

/* ------------------------------------------------------------- labelling */

typedef struct keyed {
    int64_t key;
    size_t i;
} keyed;

static int compare_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static size_t find_root(size_t *parent, size_t c)
{
    while (parent[c] != c) {
        parent[c] = parent[parent[c]];
        c = parent[c];
    }
    return c;
}

static long find_key(const int64_t *keys, size_t n, int64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == key ? (long)lo : -1;
}

/* The working state of one build. */
typedef struct build {
    const cs_grid *grid;
    keyed *pts;          /* m points with weight, by cell key */
    size_t m;
    int64_t *cell_key;   /* C occupied cells, ascending */
    size_t *cell_first;  /* C + 1: cell c holds pts[cell_first[c] .. cell_first[c + 1]) */
    size_t C;
    size_t *patch_of;    /* per cell: its patch (numbered by lowest cell) */
    size_t P;
} build;

static cs_status key_points(build *b, const double *x, const double *y, const double *w,
                            size_t n)
{
    b->pts = cs_calloc(n + 1, sizeof *b->pts);
    if (!b->pts)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] > 0) || !isfinite(x[i]) || !isfinite(y[i]))
            continue;
        int32_t col, row;
        cs_grid_cell(b->grid, x[i], y[i], &col, &row);
        b->pts[b->m++] = (keyed){cs_grid_key(col, row), i};
    }
    qsort(b->pts, b->m, sizeof *b->pts, compare_keyed);
    b->cell_key = cs_calloc(b->m + 1, sizeof *b->cell_key);
    b->cell_first = cs_calloc(b->m + 2, sizeof *b->cell_first);
    if (!b->cell_key || !b->cell_first)
        return CS_ERR_NOMEM;
    for (size_t k = 0; k < b->m; k++)
        if (k == 0 || b->pts[k].key != b->pts[k - 1].key) {
            b->cell_first[b->C] = k;
            b->cell_key[b->C++] = b->pts[k].key;
        }
    b->cell_first[b->C] = b->m;
    return CS_OK;
}

static cs_status label_cells(build *b)
{
    size_t *parent = cs_calloc(b->C + 1, sizeof *parent);
    b->patch_of = cs_calloc(b->C + 1, sizeof *b->patch_of);
    if (!parent || !b->patch_of) {
        cs_free(parent);
        return CS_ERR_NOMEM;
    }
    for (size_t c = 0; c < b->C; c++)
        parent[c] = c;
    for (size_t c = 0; c < b->C; c++) {
        int32_t col, row;
        int64_t nb[3];
        cs_grid_key_cell(b->cell_key[c], &col, &row);
        size_t k = forward_neighbours(b->grid, col, row, nb);
        for (size_t j = 0; j < k; j++) {
            long d = find_key(b->cell_key, b->C, nb[j]);
            if (d < 0)
                continue;
            size_t ra = find_root(parent, c), rb = find_root(parent, (size_t)d);
            if (ra != rb) /* the lower cell is the root: patches number by their first cell */
                parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
        }
    }
    /* roots are the lowest cells of their patches, met in key order */
    for (size_t c = 0; c < b->C; c++) {
        size_t r = find_root(parent, c);
        b->patch_of[c] = r == c ? b->P++ : b->patch_of[r];
    }
    cs_free(parent);
    return CS_OK;
}

/* ---------------------------------------------------------------- figures */

static int compare_long(const void *pa, const void *pb)
{
    long a = *(const long *)pa, b = *(const long *)pb;
    return (a > b) - (a < b);
}

/* Counts, weights, nearest distance and the areas of every patch. */
static cs_status patch_figures(build *b, const double *w, const long *area, const double *near_m,
                               cs_patch *p)
{
    /* the last patch each area was added to: a patch's list grows only when one of its
     * points lies in an area not just added to it (repeats are removed after sorting) */
    long max_area = -1;
    for (size_t k = 0; k < b->m; k++)
        max_area = area[b->pts[k].i] > max_area ? area[b->pts[k].i] : max_area;
    size_t *last = cs_calloc((size_t)(max_area + 1) + 1, sizeof *last);
    if (!last)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < b->P; q++)
        p[q].nearest_m = INFINITY;
    cs_status st = CS_OK;
    for (size_t c = 0; st == CS_OK && c < b->C; c++) {
        size_t q = b->patch_of[c];
        cs_patch *pt = &p[q];
        if (pt->cells++ == 0)
            pt->first_cell = b->cell_key[c];
        for (size_t k = b->cell_first[c]; st == CS_OK && k < b->cell_first[c + 1]; k++) {
            size_t i = b->pts[k].i;
            pt->uncovered += w[i];
            pt->points++;
            pt->nearest_m = fmin(pt->nearest_m, near_m[i]);
            if (last[area[i]] == q + 1)
                continue;
            last[area[i]] = q + 1;
            long *grown = cs_reallocarray(pt->areas, pt->area_count + 1, sizeof *grown);
            if (!grown)
                st = CS_ERR_NOMEM;
            else
                (pt->areas = grown)[pt->area_count++] = area[i];
        }
    }
    cs_free(last);
    for (size_t q = 0; st == CS_OK && q < b->P; q++) {
        cs_patch *pt = &p[q];
        qsort(pt->areas, pt->area_count, sizeof *pt->areas, compare_long);
        size_t u = 0;
        for (size_t a = 0; a < pt->area_count; a++)
            if (u == 0 || pt->areas[a] != pt->areas[u - 1])
                pt->areas[u++] = pt->areas[a];
        pt->area_count = u;
    }
    return st;
}

/* The patch's cells dissolved and clipped to its areas. */
static cs_status patch_geometry(cs_geos h, const build *b, const size_t *cells, size_t ncells,
                                cs_geom *const *area_geom, cs_patch *p)
{
    cs_rings rings = {0};
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < ncells; k++) {
        int32_t col, row;
        cs_grid_key_cell(b->cell_key[cells[k]], &col, &row);
        st = add_cell_polygon(b->grid, col, row, &rings);
    }
    cs_geom *u = st == CS_OK ? cs_geom_cells_union(h, &rings) : NULL;
    cs_rings_free(&rings);
    if (st != CS_OK)
        return st;
    if (!u) /* the cells are valid by construction: only memory can fail here */
        return CS_ERR_NOMEM;
    cs_geom **mine = cs_calloc(p->area_count + 1, sizeof *mine);
    if (!mine) {
        cs_geom_destroy(h, u);
        return CS_ERR_NOMEM;
    }
    for (size_t a = 0; a < p->area_count; a++)
        mine[a] = area_geom[p->areas[a]];
    cs_geom *clip = p->area_count == 1 ? NULL : cs_geom_union(h, mine, p->area_count);
    const cs_geom *by = p->area_count == 1 ? mine[0] : clip;
    p->geom = by ? cs_geom_intersection(h, u, by) : NULL;
    cs_free(mine);
    cs_geom_destroy(h, clip);
    cs_geom_destroy(h, u);
    if (!p->geom)
        return CS_ERR_NOMEM;
    p->area_m2 = cs_geom_area_m2(h, p->geom);
    return CS_OK;
}

static int compare_patches(const void *pa, const void *pb)
{
    const cs_patch *a = pa, *b = pb;
    if (a->uncovered != b->uncovered)
        return a->uncovered > b->uncovered ? -1 : 1;
    return (a->first_cell > b->first_cell) - (a->first_cell < b->first_cell);
}

/* Cells grouped by patch (in key order within each), then each patch's geometry. */
static cs_status geometries(cs_geos h, const build *b, cs_geom *const *area_geom, cs_patch *p)
{
    size_t *first = cs_calloc(b->P + 2, sizeof *first), *order = cs_calloc(b->C + 1, sizeof *order);
    cs_status st = first && order ? CS_OK : CS_ERR_NOMEM;
    for (size_t c = 0; st == CS_OK && c < b->C; c++)
        first[b->patch_of[c] + 1]++;
    for (size_t q = 0; st == CS_OK && q < b->P; q++)
        first[q + 1] += first[q];
    for (size_t c = 0; st == CS_OK && c < b->C; c++)
        order[first[b->patch_of[c]]++] = c;
    for (size_t q = b->P; st == CS_OK && q > 0; q--)
        first[q] = first[q - 1];
    if (first)
        first[0] = 0;
    for (size_t q = 0; st == CS_OK && q < b->P; q++)
        st = patch_geometry(h, b, &order[first[q]], first[q + 1] - first[q], area_geom, &p[q]);
    cs_free(first);
    cs_free(order);
    return st;
}

cs_status cs_patches_build(cs_geos h, const cs_grid *grid, const double *x, const double *y,
                           const double *weight, const long *area, const double *near_m,
                           size_t n, cs_geom *const *area_geom, cs_patch_set *out)
{
    memset(out, 0, sizeof *out);
    build b = {.grid = grid};
    cs_status st = key_points(&b, x, y, weight, n);
    if (st == CS_OK)
        st = label_cells(&b);
    cs_patch *p = st == CS_OK ? cs_calloc(b.P + 1, sizeof *p) : NULL;
    if (st == CS_OK && !p)
        st = CS_ERR_NOMEM;
    if (st == CS_OK)
        st = patch_figures(&b, weight, area, near_m, p);
    if (st == CS_OK)
        st = geometries(h, &b, area_geom, p);
    out->patches = p;
    out->count = p ? b.P : 0;
    if (st == CS_OK)
        qsort(p, b.P, sizeof *p, compare_patches);
    else
        cs_patch_set_free(h, out);
    cs_free(b.pts);
    cs_free(b.cell_key);
    cs_free(b.cell_first);
    cs_free(b.patch_of);
    return st;
}

void cs_patch_set_free(cs_geos h, cs_patch_set *s)
{
    for (size_t i = 0; s->patches && i < s->count; i++) {
        cs_free(s->patches[i].areas);
        cs_geom_destroy(h, s->patches[i].geom);
    }
    cs_free(s->patches);
    memset(s, 0, sizeof *s);
}
