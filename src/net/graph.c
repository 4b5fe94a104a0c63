/*
 * graph.c — building the walking graph from polylines.
 *
 * Every vertex is first mapped to a point: the nearest earlier point within the snap
 * tolerance (found in a hash grid), or a new point of its own. Vertices are taken in
 * input order, so the same input always gives the same points. Each line becomes a
 * path of point ids with repeated points removed; optionally, crossings and
 * T-junctions are then noded by inserting a shared point into the paths concerned.
 * Paths are split into edges at every point that ends a line or is used more than
 * once; only points that end an edge become nodes, numbered by first appearance.
 * CSR adjacency and connected components (by decreasing length) complete the graph.
 *
 * Lengths everywhere are sums of sqrt(dx*dx + dy*dy) over segments in polyline order;
 * attach.c measures along-distances the same way, so they agree to the last bit.
 */
#include "net/graph.h"

#include "geom/grid.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

static double seg_len(double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay;
    return sqrt(dx * dx + dy * dy);
}

/* ------------------------------------------------------------ snapping */

typedef struct point {
    double x, y;
    uint32_t next; /* 1 + the next point in the same cell; 0 = none */
} point;

typedef struct slot {
    uint32_t head; /* 1 + the cell's latest point; 0 = empty slot */
    uint32_t tag;  /* high bits of the cell's hash, to skip most foreign cells */
} slot;

/* The points, and a hash grid over them. With a tolerance, cells are a little over
 * twice the tolerance wide, so every point within it lies in the 2 x 2 block of cells
 * nearest the query; without one, keys are the coordinates' bits (exact matches).
 * Slots hold no keys: a cell's key is recomputed from the coordinates of its chain's
 * head, which keeps the table at 8 bytes a slot. */
typedef struct snapper {
    double snap_m, cell; /* cell == 0: exact matching */
    slot *slots;
    size_t mask, used;
    point *pt;       /* the points */
    size_t count, cap;
} snapper;

static uint64_t mix(int64_t kx, int64_t ky)
{
    uint64_t h = (uint64_t)kx * 0x9E3779B97F4A7C15u + (uint64_t)ky;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 29;
    return h;
}

/* floor(v / cell), clamped (NaN goes to 0: such points never snap); *frac receives
 * where v lies inside its cell, in [0, 1). Written out because floor() is a library
 * call on baseline x86-64, and this runs several times per vertex. */
static int64_t cell_key_frac(double v, double cell, double *frac)
{
    double c = v / cell;
    *frac = 0;
    if (!(c > -4e18 && c < 4e18))
        return c != c ? 0 : c < 0 ? -(int64_t)4e18 : (int64_t)4e18;
    int64_t k = (int64_t)c; /* toward zero */
    k -= (double)k > c;
    *frac = c - (double)k;
    return k;
}

static int64_t cell_key(double v, double cell)
{
    double frac;
    return cell_key_frac(v, cell, &frac);
}

static int64_t exact_key(double v)
{
    v += 0.0; /* -0.0 and 0.0 are the same place */
    int64_t k;
    memcpy(&k, &v, sizeof k);
    return k;
}

static void key_of(const snapper *s, double x, double y, int64_t *kx, int64_t *ky)
{
    *kx = s->cell == 0 ? exact_key(x) : cell_key(x, s->cell);
    *ky = s->cell == 0 ? exact_key(y) : cell_key(y, s->cell);
}

/* Where cell (kx, ky) would sit in the table, and its tag. With a tolerance, the 4 x 4
 * cells of a block share one hashed stretch of 16 slots, so the 2 x 2 cells a query
 * probes are mostly in one or two cache lines. */
static inline size_t home_of(const snapper *s, int64_t kx, int64_t ky, uint32_t *tag)
{
    if (s->cell == 0) {
        uint64_t h = mix(kx, ky);
        *tag = (uint32_t)(h >> 32);
        return (size_t)h & s->mask;
    }
    uint64_t h = mix(kx >> 2, ky >> 2);
    size_t offset = (size_t)((ky & 3) << 2 | (kx & 3));
    *tag = (uint32_t)(h >> 32) + (uint32_t)offset;
    return ((size_t)h << 4 | offset) & s->mask;
}

/* The slot of cell (kx, ky): where it is, or the empty slot it would take. */
static slot *find_slot(const snapper *s, int64_t kx, int64_t ky)
{
    uint32_t tag;
    for (size_t i = home_of(s, kx, ky, &tag);; i = (i + 1) & s->mask) {
        slot *sl = &s->slots[i];
        if (!sl->head)
            return sl;
        if (sl->tag == tag) {
            int64_t ox, oy;
            key_of(s, s->pt[sl->head - 1].x, s->pt[sl->head - 1].y, &ox, &oy);
            if (ox == kx && oy == ky)
                return sl;
        }
    }
}

static bool snapper_init(snapper *s, double snap_m, size_t expect)
{
    memset(s, 0, sizeof *s);
    s->snap_m = snap_m > 0 ? snap_m : 0;
    s->cell = snap_m > 0 ? 2.002 * snap_m : 0; /* the margin absorbs rounding */
    size_t n = 64;
    while (n < 2 * expect) /* no rehashing unless crossings add many points */
        n *= 2;
    s->mask = n - 1;
    s->slots = cs_calloc(n, sizeof *s->slots);
    return s->slots != NULL;
}

static void snapper_free(snapper *s)
{
    cs_free(s->slots);
    cs_free(s->pt);
    memset(s, 0, sizeof *s);
}

/* The hash grid is only needed while points are being added. */
static void snapper_drop_table(snapper *s)
{
    cs_free(s->slots);
    s->slots = NULL;
}

static bool table_grow(snapper *s)
{
    size_t old_n = s->mask + 1, n = 2 * old_n;
    slot *old = s->slots, *fresh = cs_calloc(n, sizeof *fresh);
    if (!fresh)
        return false;
    s->slots = fresh;
    s->mask = n - 1;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].head) {
            int64_t kx, ky;
            key_of(s, s->pt[old[i].head - 1].x, s->pt[old[i].head - 1].y, &kx, &ky);
            *find_slot(s, kx, ky) = old[i];
        }
    cs_free(old);
    return true;
}

/* The lowest cell of the 2 x 2 block holding every point within the tolerance. */
static void block_of(const snapper *s, double x, double y, int64_t *kx, int64_t *ky)
{
    double fx, fy;
    *kx = cell_key_frac(x, s->cell, &fx);
    *ky = cell_key_frac(y, s->cell, &fy);
    *kx -= fx < 0.5;
    *ky -= fy < 0.5;
}

/* What a later vertex will read first, so it can be asked for early: on big inputs
 * every probe is a cache miss, and a slot's point is a second one behind it. Stage 0:
 * the slots of the cells the vertex will probe; stage 1 (once those have arrived):
 * their points. Returns how many addresses it put in at[]. (The caller prefetches:
 * GCC drops prefetches from a function it finds to have no other effect.) */
static int read_ahead(const snapper *s, double x, double y, int stage, const void *at[4])
{
    int64_t kx, ky;
    uint32_t tag;
    int n = s->cell == 0 ? 1 : 2, count = 0;
    if (s->cell == 0)
        key_of(s, x, y, &kx, &ky);
    else
        block_of(s, x, y, &kx, &ky);
    for (int dy = 0; dy < n; dy++)
        for (int dx = 0; dx < n; dx++) {
            const slot *sl = &s->slots[home_of(s, kx + dx, ky + dy, &tag)];
            if (stage == 0)
                at[count++] = sl;
            else if (sl->head)
                at[count++] = &s->pt[sl->head - 1];
        }
    return count;
}

/* The nearest point within the tolerance (ties: the earliest), or NONE. */
static uint32_t nearest_point(const snapper *s, double x, double y, double *d2_out)
{
    uint32_t best = NONE;
    double best_d2 = INFINITY;
    if (s->cell == 0) {
        const slot *sl = find_slot(s, exact_key(x), exact_key(y));
        for (uint32_t p = sl->head; p; p = s->pt[p - 1].next)
            if (s->pt[p - 1].x == x && s->pt[p - 1].y == y) { /* NaN never matches */
                best = p - 1;
                best_d2 = 0;
                break;
            }
        *d2_out = best_d2;
        return best;
    }
    int64_t kx, ky;
    block_of(s, x, y, &kx, &ky);
    double tol2 = s->snap_m * s->snap_m;
    for (int64_t dy = 0; dy < 2; dy++)
        for (int64_t dx = 0; dx < 2; dx++) {
            const slot *sl = find_slot(s, kx + dx, ky + dy);
            for (uint32_t p = sl->head; p; p = s->pt[p - 1].next) {
                double ex = s->pt[p - 1].x - x, ey = s->pt[p - 1].y - y, d2 = ex * ex + ey * ey;
                if (d2 <= tol2 && (d2 < best_d2 || (d2 == best_d2 && p - 1 < best))) {
                    best = p - 1;
                    best_d2 = d2;
                }
            }
        }
    *d2_out = best_d2;
    return best;
}

/* The point for vertex (x, y): an existing one within the tolerance, or a new one.
 * *moved: the vertex moved to reach it. False when memory runs out. */
static bool snap_vertex(snapper *s, double x, double y, uint32_t *pid, bool *moved)
{
    double d2;
    uint32_t p = nearest_point(s, x, y, &d2);
    *moved = false;
    if (p != NONE) {
        *pid = p;
        *moved = d2 > 0;
        return true;
    }
    if (s->count >= NONE - 1)
        return false; /* more points than ids: as good as out of memory */
    if (!cs_grow((void **)&s->pt, &s->cap, s->count + 1, sizeof *s->pt))
        return false;
    if (2 * (s->used + 1) > s->mask + 1 && !table_grow(s))
        return false;
    int64_t kx, ky;
    key_of(s, x, y, &kx, &ky);
    slot *sl = find_slot(s, kx, ky);
    if (!sl->head) {
        home_of(s, kx, ky, &sl->tag);
        s->used++;
    }
    p = (uint32_t)s->count++;
    s->pt[p].x = x;
    s->pt[p].y = y;
    s->pt[p].next = sl->head;
    sl->head = p + 1;
    *pid = p;
    return true;
}

/* -------------------------------------------------------------- paths */

/* Each line as a sequence of point ids, without repeats of the same point in a row
 * (nor vertices without finite coordinates, which loaders should not let through). */
typedef struct paths {
    size_t count;  /* lines */
    size_t *start; /* count + 1 offsets into pid */
    uint32_t *pid;
} paths;

static void paths_free(paths *p)
{
    cs_free(p->start);
    cs_free(p->pid);
    memset(p, 0, sizeof *p);
}

static bool make_paths(const cs_lines *l, snapper *s, paths *p, cs_graph *g)
{
    size_t nv = l->count && l->start ? l->start[l->count] : 0;
    p->count = l->count;
    p->start = cs_calloc(l->count + 1, sizeof *p->start);
    p->pid = cs_calloc(nv + 1, sizeof *p->pid);
    if (!p->start || !p->pid || nv >= NONE)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < l->count; i++) {
        p->start[i] = k;
        for (size_t v = l->start[i]; v < l->start[i + 1]; v++) {
            uint32_t id;
            bool moved;
            const void *at[4];
            for (int stage = 0; stage < 2; stage++) {
                size_t w = v + (stage == 0 ? 16 : 8);
                for (int j = w < nv ? read_ahead(s, l->x[w], l->y[w], stage, at) : 0; j-- > 0;)
                    PREFETCH(at[j]);
            }
            if (!isfinite(l->x[v]) || !isfinite(l->y[v])) {
                g->dropped_segments++; /* no place to put it: left out with its segment */
                continue;
            }
            if (!snap_vertex(s, l->x[v], l->y[v], &id, &moved))
                return false;
            g->snapped_vertices += moved;
            if (k > p->start[i] && p->pid[k - 1] == id)
                g->dropped_segments++;
            else
                p->pid[k++] = id;
        }
    }
    p->start[l->count] = k;
    return true;
}

/* ------------------------------------------------------------- crossings */

/* A point to insert into segment seg (the path position of its first point). */
typedef struct cut {
    uint32_t seg, pid;
    double t;
} cut;

/* Two segments crossing in both interiors, found before the crossing's point exists. */
typedef struct crossing {
    uint32_t a, b;
    double ta, tb, x, y;
} crossing;

typedef struct noder {
    const point *pt; /* the snapper's, while scanning (it grows afterwards) */
    const uint32_t *pid;
    const uint8_t *last;   /* position ends its line: no segment starts there */
    double tol;            /* how near a vertex must be to a segment to touch it */
    cs_ugrid grid;
    cs_ugrid_csr cells; /* a segment is its path position */
    cut *cuts;
    size_t ncuts, cut_cap;
    crossing *xs;
    size_t nxs, xs_cap;
} noder;

static size_t cell_at(const noder *n, double x, double y)
{
    return cs_ugrid_cell(&n->grid, x, y);
}

/* Size the grid: cells about as wide as the mean segment, but no more cells than
 * twice the segments (a sparse network in a wide box). */
static void size_noder_grid(noder *n, size_t npos)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, total = 0;
    size_t ns = 0;
    for (size_t k = 0; k < npos; k++) {
        double x = n->pt[n->pid[k]].x, y = n->pt[n->pid[k]].y;
        x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        if (!n->last[k]) {
            total += seg_len(x, y, n->pt[n->pid[k + 1]].x, n->pt[n->pid[k + 1]].y);
            ns++;
        }
    }
    if (ns == 0)
        x0 = y0 = x1 = y1 = 0;
    double cell = ns ? fmax(total / (double)ns, 1e-6) : 1;
    cs_ugrid_fit(&n->grid, x0 - n->tol, y0 - n->tol, x1 - x0 + 2 * n->tol,
                 y1 - y0 + 2 * n->tol, cell, 1.5, 2.0 * (double)ns + 16);
}

/* Every segment, widened by tol, into the cells it passes through. */
static bool fill_noder_grid(noder *n, size_t npos)
{
    const cs_ugrid *g = &n->grid;
    if (cs_ugrid_csr_init(&n->cells, cs_ugrid_cells(g)) != CS_OK)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < npos; k++) {
            if (n->last[k])
                continue;
            double ax = n->pt[n->pid[k]].x, ay = n->pt[n->pid[k]].y;
            double bx = n->pt[n->pid[k + 1]].x, by = n->pt[n->pid[k + 1]].y;
            cs_ugrid_seg sg;
            cs_ugrid_seg_begin(g, ax, ay, bx, by, n->tol, &sg);
            for (size_t r = sg.r0; r <= sg.r1; r++) {
                size_t c0, c1;
                cs_ugrid_seg_cols(g, &sg, r, &c0, &c1);
                for (size_t c = c0; c <= c1; c++)
                    cs_ugrid_csr_add(&n->cells, r * g->nx + c, (uint32_t)k);
            }
        }
        if (pass == 0 && cs_ugrid_csr_place(&n->cells) != CS_OK)
            return false;
    }
    return true;
}

static bool add_cut(noder *n, uint32_t seg, uint32_t pid, double t)
{
    if (!cs_grow((void **)&n->cuts, &n->cut_cap, n->ncuts + 1, sizeof *n->cuts))
        return false;
    n->cuts[n->ncuts++] = (cut){seg, pid, t};
    return true;
}

/* Segments a and b cross in both interiors (they share no point). */
static bool check_crossing(noder *n, uint32_t a, uint32_t b, size_t c)
{
    const point *pt = n->pt;
    uint32_t a0 = n->pid[a], a1 = n->pid[a + 1], b0 = n->pid[b], b1 = n->pid[b + 1];
    if (a0 == b0 || a0 == b1 || a1 == b0 || a1 == b1)
        return true;
    double ax = pt[a0].x, ay = pt[a0].y, adx = pt[a1].x - ax, ady = pt[a1].y - ay;
    double bx = pt[b0].x, by = pt[b0].y, bdx = pt[b1].x - bx, bdy = pt[b1].y - by;
    double den = adx * bdy - ady * bdx;
    if (den == 0)
        return true; /* parallel: touching ends are found as touches */
    double ta = ((bx - ax) * bdy - (by - ay) * bdx) / den;
    double tb = ((bx - ax) * ady - (by - ay) * adx) / den;
    const double eps = 1e-9;
    if (!(ta > eps && ta < 1 - eps && tb > eps && tb < 1 - eps))
        return true;
    double x = ax + ta * adx, y = ay + ta * ady;
    if (cell_at(n, x, y) != c) /* the pair meets in several cells: count it in one */
        return true;
    if (!cs_grow((void **)&n->xs, &n->xs_cap, n->nxs + 1, sizeof *n->xs))
        return false;
    n->xs[n->nxs++] = (crossing){a, b, ta, tb, x, y};
    return true;
}

/* The vertex at position v lies inside segment b (within tol): a T-junction, or a
 * line passing through another's vertex. */
static bool check_touch(noder *n, size_t v, uint32_t b, size_t c)
{
    uint32_t p = n->pid[v], b0 = n->pid[b], b1 = n->pid[b + 1];
    if (p == b0 || p == b1)
        return true;
    double x = n->pt[p].x, y = n->pt[p].y;
    double bx = n->pt[b0].x, by = n->pt[b0].y, dx = n->pt[b1].x - bx, dy = n->pt[b1].y - by;
    double len2 = dx * dx + dy * dy;
    double t = ((x - bx) * dx + (y - by) * dy) / len2;
    if (!(t > 1e-9 && t < 1 - 1e-9) || cell_at(n, x, y) != c)
        return true;
    double ex = bx + t * dx - x, ey = by + t * dy - y;
    if (ex * ex + ey * ey > n->tol * n->tol)
        return true;
    return add_cut(n, b, p, t);
}

/* Each vertex is tested once: as the start of its segment, or as its line's end. */
static bool check_touches(noder *n, uint32_t a, uint32_t b, size_t c)
{
    return check_touch(n, a, b, c) && (!n->last[a + 1] || check_touch(n, a + 1, b, c));
}

static bool scan_cells(noder *n)
{
    const uint32_t *first = n->cells.start;
    for (size_t c = 0; c < cs_ugrid_cells(&n->grid); c++)
        for (size_t i = first[c]; i < first[c + 1]; i++)
            for (size_t j = i + 1; j < first[c + 1]; j++) {
                uint32_t a = n->cells.item[i], b = n->cells.item[j];
                if (!check_crossing(n, a, b, c) || !check_touches(n, a, b, c) ||
                    !check_touches(n, b, a, c))
                    return false;
            }
    return true;
}

static int compare_cut_t(const void *pa, const void *pb)
{
    const cut *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

/* Order one segment's cuts along it (runs are short: insertion sort unless long). */
static void sort_run(cut *c, size_t n)
{
    if (n > 16) {
        qsort(c, n, sizeof *c, compare_cut_t);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        cut x = c[i];
        size_t j = i;
        for (; j > 0 && compare_cut_t(&x, &c[j - 1]) < 0; j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
}

/* Give each crossing its point (snapped like any vertex, so three lines crossing at
 * one place share it) and a cut in each segment that does not already end there. */
static bool crossings_to_cuts(noder *n, snapper *s)
{
    for (size_t i = 0; i < n->nxs; i++) {
        const void *at[4];
        for (int stage = 0; stage < 2; stage++) {
            size_t w = i + (stage == 0 ? 16 : 8);
            for (int j = w < n->nxs ? read_ahead(s, n->xs[w].x, n->xs[w].y, stage, at) : 0;
                 j-- > 0;)
                PREFETCH(at[j]);
        }
        const crossing *x = &n->xs[i];
        uint32_t p;
        bool moved;
        if (!snap_vertex(s, x->x, x->y, &p, &moved))
            return false;
        if (p != n->pid[x->a] && p != n->pid[x->a + 1] && !add_cut(n, x->a, p, x->ta))
            return false;
        if (p != n->pid[x->b] && p != n->pid[x->b + 1] && !add_cut(n, x->b, p, x->tb))
            return false;
    }
    return true;
}

/* Group the cuts by segment (a counting sort), order each segment's along it, drop a
 * point cut twice into one segment, and count the distinct points inserted: the
 * places newly connected. */
static bool group_cuts(noder *n, size_t npos, size_t npoints, size_t *noded)
{
    size_t *first = cs_calloc(npos + 2, sizeof *first);
    cut *sorted = cs_calloc(n->ncuts + 1, sizeof *sorted);
    uint32_t *seen = cs_calloc(npoints + 1, sizeof *seen); /* 1 + last segment cut there */
    bool ok = first && sorted && seen;
    for (size_t i = 0; ok && i < n->ncuts; i++)
        first[n->cuts[i].seg + 2]++;
    for (size_t k = 0; ok && k < npos; k++)
        first[k + 2] += first[k + 1];
    for (size_t i = 0; ok && i < n->ncuts; i++)
        sorted[first[n->cuts[i].seg + 1]++] = n->cuts[i];
    size_t kept = 0;
    *noded = 0;
    for (size_t k = 0; ok && k < npos; k++) {
        sort_run(sorted + first[k], first[k + 1] - first[k]);
        for (size_t i = first[k]; i < first[k + 1]; i++) {
            uint32_t p = sorted[i].pid;
            if (seen[p] == k + 1)
                continue;
            *noded += seen[p] == 0;
            seen[p] = (uint32_t)(k + 1);
            sorted[kept++] = sorted[i];
        }
    }
    if (ok) {
        cs_free(n->cuts);
        n->cuts = sorted;
        n->ncuts = kept;
        sorted = NULL;
    }
    cs_free(first);
    cs_free(sorted);
    cs_free(seen);
    return ok;
}

/* Insert the cuts (sorted by segment, then position along it) into the paths. */
static bool insert_cuts(paths *p, const cut *cuts, size_t ncuts)
{
    size_t npos = p->start[p->count];
    if (npos + ncuts >= NONE)
        return false;
    uint32_t *pid = cs_calloc(npos + ncuts + 1, sizeof *pid);
    if (!pid)
        return false;
    size_t k = 0, c = 0;
    for (size_t i = 0; i < p->count; i++) {
        size_t from = p->start[i], to = p->start[i + 1];
        p->start[i] = k;
        for (size_t v = from; v < to; v++) {
            pid[k++] = p->pid[v];
            for (; c < ncuts && cuts[c].seg == v; c++)
                pid[k++] = cuts[c].pid;
        }
    }
    p->start[p->count] = k;
    cs_free(p->pid);
    p->pid = pid;
    return true;
}

static bool node_crossings(paths *p, snapper *s, double snap_m, size_t *noded)
{
    size_t npos = p->start[p->count];
    noder n;
    memset(&n, 0, sizeof n);
    n.pt = s->pt;
    n.pid = p->pid;
    /* a vertex exactly on a segment is rarely exactly on it in floating point */
    n.tol = fmax(snap_m, 1e-6);
    uint8_t *last = cs_calloc(npos + 1, sizeof *last);
    bool ok = last != NULL;
    for (size_t i = 0; ok && i < p->count; i++)
        if (p->start[i + 1] > p->start[i])
            last[p->start[i + 1] - 1] = 1;
    n.last = last;
    if (ok) {
        size_noder_grid(&n, npos);
        ok = fill_noder_grid(&n, npos) && scan_cells(&n);
    }
    cs_ugrid_csr_free(&n.cells);
    ok = ok && crossings_to_cuts(&n, s) && group_cuts(&n, npos, s->count, noded) &&
         insert_cuts(p, n.cuts, n.ncuts);
    cs_free(last);
    cs_free(n.cuts);
    cs_free(n.xs);
    return ok;
}

/* ---------------------------------------------------------------- edges */

void cs_graph_free(cs_graph *g)
{
    if (!g)
        return;
    cs_free(g->node_x);
    cs_free(g->node_y);
    cs_free(g->edge_u);
    cs_free(g->edge_v);
    cs_free(g->edge_len_m);
    cs_free(g->edge_cost_m);
    cs_free(g->edge_vstart);
    cs_free(g->edge_line);
    cs_free(g->vx);
    cs_free(g->vy);
    cs_free(g->adj_start);
    cs_free(g->adj);
    cs_free(g->node_component);
    cs_free(g->component_len_m);
    memset(g, 0, sizeof *g);
}

/* Points that end an edge: a line's ends, and points used more than once (by two
 * lines, or twice by one). is_node[point] is 2 for those. A line shrunk to one point
 * has no edge and makes no node. */
static uint8_t *mark_nodes(const paths *p, size_t npoints)
{
    uint8_t *uses = cs_calloc(npoints + 1, sizeof *uses);
    if (!uses)
        return NULL;
    for (size_t i = 0; i < p->count; i++) {
        size_t a = p->start[i], b = p->start[i + 1];
        if (b - a < 2)
            continue;
        for (size_t k = a; k < b; k++)
            uses[p->pid[k]] += uses[p->pid[k]] < 2;
        uses[p->pid[a]] = 2;
        uses[p->pid[b - 1]] = 2;
    }
    return uses;
}

/* Count the edges and their vertices, to allocate them once. */
static void count_edges(const paths *p, const uint8_t *is_node, size_t *edges, size_t *verts)
{
    *edges = *verts = 0;
    for (size_t i = 0; i < p->count; i++) {
        size_t a = p->start[i], b = p->start[i + 1];
        if (b - a < 2)
            continue;
        size_t pieces = 0;
        for (size_t k = a + 1; k < b; k++)
            pieces += is_node[p->pid[k]] == 2;
        *edges += pieces;
        *verts += (b - a) + pieces - 1;
    }
}

static bool alloc_edges(cs_graph *g, size_t ne, size_t nv, size_t nn)
{
    g->edge_u = cs_calloc(ne + 1, sizeof *g->edge_u);
    g->edge_v = cs_calloc(ne + 1, sizeof *g->edge_v);
    g->edge_len_m = cs_calloc(ne + 1, sizeof *g->edge_len_m);
    g->edge_cost_m = cs_calloc(ne + 1, sizeof *g->edge_cost_m);
    g->edge_vstart = cs_calloc(ne + 1, sizeof *g->edge_vstart);
    g->edge_line = cs_calloc(ne + 1, sizeof *g->edge_line);
    g->vx = cs_calloc(nv + 1, sizeof *g->vx);
    g->vy = cs_calloc(nv + 1, sizeof *g->vy);
    g->node_x = cs_calloc(nn + 1, sizeof *g->node_x);
    g->node_y = cs_calloc(nn + 1, sizeof *g->node_y);
    return g->edge_u && g->edge_v && g->edge_len_m && g->edge_cost_m && g->edge_vstart &&
           g->edge_line && g->vx && g->vy && g->node_x && g->node_y;
}

static uint32_t node_for(cs_graph *g, uint32_t *node_of, const snapper *s, uint32_t p)
{
    if (node_of[p] == NONE) {
        g->node_x[g->node_count] = s->pt[p].x;
        g->node_y[g->node_count] = s->pt[p].y;
        node_of[p] = (uint32_t)g->node_count++;
    }
    return node_of[p];
}

/* Emit the edge along path positions [a, b] of line `line` at the given speed. */
static void emit_edge(cs_graph *g, uint32_t *node_of, const snapper *s, const uint32_t *pid,
                      size_t a, size_t b, size_t line, double speed)
{
    size_t e = g->edge_count, v = g->edge_vstart[e];
    double len = 0;
    for (size_t k = a; k <= b; k++) {
        g->vx[v + k - a] = s->pt[pid[k]].x;
        g->vy[v + k - a] = s->pt[pid[k]].y;
        if (k > a)
            len += seg_len(g->vx[v + k - a - 1], g->vy[v + k - a - 1], g->vx[v + k - a],
                           g->vy[v + k - a]);
    }
    if (!(len > 0)) { /* only with degenerate coordinates (NaN, underflow) */
        g->dropped_segments += b - a;
        return;
    }
    g->edge_u[e] = node_for(g, node_of, s, pid[a]);
    g->edge_v[e] = node_for(g, node_of, s, pid[b]);
    g->edge_len_m[e] = len;
    g->edge_cost_m[e] = len / speed;
    g->edge_line[e] = (uint32_t)line;
    g->edge_vstart[e + 1] = v + (b - a + 1);
    g->edge_count++;
}

/* Split every path at its nodes into edges. */
static bool split_paths(cs_graph *g, const cs_lines *l, const paths *p, const snapper *s)
{
    uint8_t *is_node = mark_nodes(p, s->count);
    uint32_t *node_of = cs_calloc(s->count + 1, sizeof *node_of);
    size_t ne, nv, nn = 0;
    bool ok = is_node && node_of;
    if (ok) {
        count_edges(p, is_node, &ne, &nv);
        for (size_t i = 0; i < s->count; i++) /* every marked point ends an edge */
            nn += is_node[i] == 2;
        ok = alloc_edges(g, ne, nv, nn);
    }
    for (size_t i = 0; ok && i <= s->count; i++)
        node_of[i] = NONE;
    for (size_t i = 0; ok && i < p->count; i++) {
        double speed = l->speed ? l->speed[i] : 1.0;
        size_t from = p->start[i];
        for (size_t k = from + 1; k < p->start[i + 1]; k++)
            if (is_node[p->pid[k]] == 2) {
                emit_edge(g, node_of, s, p->pid, from, k, i, speed);
                from = k;
            }
    }
    cs_free(is_node);
    cs_free(node_of);
    return ok;
}

/* ------------------------------------------------- node order, adjacency */

/* The cell of v on a grid of 65536 from v0 at scale s, clamped (a box given from outside
 * may not hold every node). */
static uint64_t morton_cell(double v, double v0, double s)
{
    double c = (v - v0) * s;
    return c >= 0 ? c < 65535 ? (uint64_t)c : 65535 : 0;
}

/* The Morton key of a point on a 65536 x 65536 grid over the box: nearby points get
 * nearby keys. */
static uint64_t morton(double x, double y, double x0, double y0, double sx, double sy)
{
    uint64_t key = 0, ix = morton_cell(x, x0, sx), iy = morton_cell(y, y0, sy);
    for (int b = 15; b >= 0; b--)
        key = (key << 2) | (((iy >> b) & 1) << 1) | ((ix >> b) & 1);
    return key;
}

/* Number the nodes along a Morton curve, so that a search's neighbouring nodes lie
 * near each other in memory (the large synthetic city's four searches took a quarter
 * less time than over nodes numbered in the file's order). */
static bool order_nodes(cs_graph *g, const cs_lines *lines, const double *given_box)
{
    size_t nn = g->node_count;
    double box[4];
    if (given_box)
        memcpy(box, given_box, sizeof box);
    else
        cs_lines_box(lines, box);
    /* the key above, the node below: a radix sort by key keeps equal keys in node order */
    uint64_t *items = cs_malloc((nn + 1) * sizeof *items);
    uint64_t *tmp = cs_malloc((nn + 1) * sizeof *tmp);
    uint32_t *new_of = cs_malloc((nn + 1) * sizeof *new_of);
    double *x = cs_malloc((nn + 1) * sizeof *x), *y = cs_malloc((nn + 1) * sizeof *y);
    bool ok = items && tmp && new_of && x && y;
    if (ok) {
        double sx = box[2] > box[0] ? 65535 / (box[2] - box[0]) : 0;
        double sy = box[3] > box[1] ? 65535 / (box[3] - box[1]) : 0;
        for (size_t n = 0; n < nn; n++)
            items[n] = morton(g->node_x[n], g->node_y[n], box[0], box[1], sx, sy) << 32 | n;
        const uint64_t *sorted = cs_radix_sort_upper(items, tmp, nn, 32);
        for (size_t n = 0; n < nn; n++) {
            uint32_t old = (uint32_t)sorted[n];
            new_of[old] = (uint32_t)n;
            x[n] = g->node_x[old];
            y[n] = g->node_y[old];
        }
        for (size_t e = 0; e < g->edge_count; e++) {
            g->edge_u[e] = new_of[g->edge_u[e]];
            g->edge_v[e] = new_of[g->edge_v[e]];
        }
        cs_free(g->node_x);
        cs_free(g->node_y);
        g->node_x = x;
        g->node_y = y;
    } else {
        cs_free(x);
        cs_free(y);
    }
    cs_free(items);
    cs_free(tmp);
    cs_free(new_of);
    return ok;
}

static bool build_adjacency(cs_graph *g)
{
    size_t nn = g->node_count, ne = g->edge_count;
    g->adj_start = cs_calloc(nn + 1, sizeof *g->adj_start);
    g->adj = cs_calloc(2 * ne + 1, sizeof *g->adj);
    if (!g->adj_start || !g->adj)
        return false;
    for (size_t e = 0; e < ne; e++) {
        g->adj_start[g->edge_u[e]]++;
        g->adj_start[g->edge_v[e]]++;
    }
    /* exclusive sums shifted by one: adj_start[n] becomes the end of n's slots, and
     * filling backwards (edges in decreasing order) moves it to the start, leaving
     * each node's slots sorted by edge and a loop's two slots side by side */
    size_t sum = 0;
    for (size_t n = 0; n < nn; n++) {
        sum += g->adj_start[n];
        g->adj_start[n] = sum;
    }
    g->adj_start[nn] = sum;
    for (size_t e = ne; e-- > 0;) {
        uint32_t u = g->edge_u[e], v = g->edge_v[e];
        size_t i = --g->adj_start[v];
        g->adj[i].edge = (uint32_t)e;
        g->adj[i].node = u;
        g->adj[i].cost_m = g->edge_cost_m[e];
        i = --g->adj_start[u];
        g->adj[i].edge = (uint32_t)e;
        g->adj[i].node = v;
        g->adj[i].cost_m = g->edge_cost_m[e];
    }
    return true;
}

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

typedef struct comp {
    double len;
    uint32_t root; /* also the component's smallest node: roots are kept smallest */
} comp;

static int compare_comps(const void *pa, const void *pb)
{
    const comp *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return (a->root > b->root) - (a->root < b->root);
}

static bool build_components(cs_graph *g)
{
    size_t nn = g->node_count;
    uint32_t *parent = cs_calloc(nn + 1, sizeof *parent);
    uint32_t *index = cs_calloc(nn + 1, sizeof *index); /* root -> component */
    comp *comps = cs_calloc(nn + 1, sizeof *comps);
    g->node_component = cs_calloc(nn + 1, sizeof *g->node_component);
    bool ok = parent && index && comps && g->node_component;
    for (size_t n = 0; ok && n < nn; n++)
        parent[n] = (uint32_t)n;
    for (size_t e = 0; ok && e < g->edge_count; e++) {
        uint32_t a = find_root(parent, g->edge_u[e]), b = find_root(parent, g->edge_v[e]);
        if (a < b)
            parent[b] = a;
        else if (b < a)
            parent[a] = b;
    }
    size_t nc = 0;
    for (size_t n = 0; ok && n < nn; n++)
        if (find_root(parent, (uint32_t)n) == n) {
            index[n] = (uint32_t)nc;
            comps[nc++] = (comp){0, (uint32_t)n};
        }
    for (size_t e = 0; ok && e < g->edge_count; e++) {
        comps[index[find_root(parent, g->edge_u[e])]].len += g->edge_len_m[e];
        g->total_len_m += g->edge_len_m[e];
    }
    if (ok) {
        qsort(comps, nc, sizeof *comps, compare_comps);
        g->component_len_m = cs_calloc(nc + 1, sizeof *g->component_len_m);
        ok = g->component_len_m != NULL;
    }
    for (size_t c = 0; ok && c < nc; c++) {
        index[comps[c].root] = (uint32_t)c;
        g->component_len_m[c] = comps[c].len;
    }
    for (size_t n = 0; ok && n < nn; n++)
        g->node_component[n] = index[find_root(parent, (uint32_t)n)];
    g->component_count = ok ? nc : 0;
    cs_free(parent);
    cs_free(index);
    cs_free(comps);
    return ok;
}

/* ----------------------------------------------------------------- build */

void cs_lines_box(const cs_lines *lines, double box[4])
{
    size_t nv = lines->count && lines->start ? lines->start[lines->count] : 0;
    cs_box_of(lines->x, lines->y, nv, box);
}

cs_status cs_graph_build(const cs_lines *lines, double snap_m, bool node_xings, cs_graph *out)
{
    return cs_graph_build_boxed(lines, snap_m, node_xings, NULL, out);
}

cs_status cs_graph_build_boxed(const cs_lines *lines, double snap_m, bool node_xings,
                               const double *box, cs_graph *out)
{
    memset(out, 0, sizeof *out);
    size_t nv = lines->count && lines->start ? lines->start[lines->count] : 0;
    snapper s;
    paths p = {0, NULL, NULL};
    bool ok = snapper_init(&s, snap_m, nv) && make_paths(lines, &s, &p, out);
    if (ok && node_xings)
        ok = node_crossings(&p, &s, snap_m, &out->noded_crossings);
    snapper_drop_table(&s);
    ok = ok && split_paths(out, lines, &p, &s) && order_nodes(out, lines, box) &&
         build_adjacency(out) && build_components(out);
    paths_free(&p);
    snapper_free(&s);
    if (!ok) {
        cs_graph_free(out);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* ------------------------------------------------------- along an edge */

void cs_graph_point_at(const cs_graph *g, size_t e, double t_m, double *x, double *y)
{
    size_t a = g->edge_vstart[e], b = g->edge_vstart[e + 1];
    double walked = 0;
    for (size_t i = a; t_m > 0 && i + 1 < b; i++) {
        double len = seg_len(g->vx[i], g->vy[i], g->vx[i + 1], g->vy[i + 1]);
        if (walked + len == t_m) { /* a vertex comes back exactly, not rebuilt */
            *x = g->vx[i + 1];
            *y = g->vy[i + 1];
            return;
        }
        if (walked + len > t_m) {
            double f = (t_m - walked) / len;
            *x = g->vx[i] + f * (g->vx[i + 1] - g->vx[i]);
            *y = g->vy[i] + f * (g->vy[i + 1] - g->vy[i]);
            return;
        }
        walked += len;
    }
    bool start = !(t_m > 0);
    *x = start ? g->vx[a] : g->vx[b - 1];
    *y = start ? g->vy[a] : g->vy[b - 1];
}

static bool push_vertex(double **x, double **y, size_t *len, size_t *cap, double px, double py)
{
    size_t c = *cap;
    if (!cs_grow((void **)x, &c, *len + 1, sizeof **x))
        return false;
    c = *cap;
    if (!cs_grow((void **)y, &c, *len + 1, sizeof **y))
        return false;
    *cap = c;
    (*x)[*len] = px;
    (*y)[(*len)++] = py;
    return true;
}

size_t cs_graph_cut(const cs_graph *g, size_t e, double a_m, double b_m, double **x, double **y,
                    size_t *len, size_t *cap)
{
    double total = g->edge_len_m[e];
    a_m = a_m < 0 ? 0 : a_m > total ? total : a_m;
    b_m = b_m < a_m ? a_m : b_m > total ? total : b_m;
    size_t before = *len, first = g->edge_vstart[e], end = g->edge_vstart[e + 1];
    double px, py, walked = 0;
    cs_graph_point_at(g, e, a_m, &px, &py);
    if (!push_vertex(x, y, len, cap, px, py))
        return 0;
    /* interior vertices whose along-distance (summed as everywhere else) lies strictly
     * between the two cut points */
    for (size_t i = first + 1; i + 1 < end && walked < b_m; i++) {
        walked += seg_len(g->vx[i - 1], g->vy[i - 1], g->vx[i], g->vy[i]);
        if (walked > a_m && walked < b_m && !push_vertex(x, y, len, cap, g->vx[i], g->vy[i]))
            return 0;
    }
    cs_graph_point_at(g, e, b_m, &px, &py);
    if (!push_vertex(x, y, len, cap, px, py))
        return 0;
    return *len - before;
}
