/*
 * graph.c — building the walking graph from polylines: vertices within the snap
 * tolerance merged into one point (a hash grid, first come first kept, so the same
 * input always gives the same graph), optional noding of crossings, lines split into
 * edges at every point that is a line's end or is shared, compact node numbers, CSR
 * adjacency and connected components by length.
 */
#include "net/graph.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ snapping */

typedef struct snapper {
    double cell, snap_m;
    size_t mask;
    int64_t *kx, *ky;  /* hash slots: cell coordinates */
    long *head;        /* first point in the slot's cell, -1 = empty slot */
    long *next;        /* next point in the same cell */
    double *px, *py;   /* points (representatives) */
    size_t count;
} snapper;

static uint64_t hash_cell(int64_t x, int64_t y)
{
    uint64_t h = (uint64_t)x * 0x9E3779B97F4A7C15ull ^ ((uint64_t)y + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    return h * 0xBF58476D1CE4E5B9ull;
}

/* The slot of cell (x, y): where it is, or the empty slot it would take. */
static size_t slot_of(const snapper *s, int64_t x, int64_t y)
{
    size_t i = hash_cell(x, y) & s->mask;
    while (s->head[i] >= 0 && (s->kx[i] != x || s->ky[i] != y))
        i = (i + 1) & s->mask;
    return i;
}

/* The point within snap_m of (x, y), or a new one there. */
static long snap_point(snapper *s, double x, double y, bool *moved)
{
    int64_t cx = (int64_t)floor(x / s->cell), cy = (int64_t)floor(y / s->cell);
    long best = -1;
    double best_d = INFINITY;
    for (int64_t dy = -1; dy <= 1; dy++)
        for (int64_t dx = -1; dx <= 1; dx++) {
            size_t i = slot_of(s, cx + dx, cy + dy);
            for (long p = s->head[i]; p >= 0; p = s->next[p]) {
                double d = hypot(s->px[p] - x, s->py[p] - y);
                if (d <= s->snap_m && (d < best_d || (d == best_d && p < best))) {
                    best = p;
                    best_d = d;
                }
            }
        }
    if (best >= 0) {
        *moved = best_d > 0;
        return best;
    }
    long p = (long)s->count++;
    size_t i = slot_of(s, cx, cy);
    s->px[p] = x;
    s->py[p] = y;
    s->next[p] = s->head[i];
    s->kx[i] = cx;
    s->ky[i] = cy;
    s->head[i] = p;
    *moved = false;
    return p;
}

static void snapper_free(snapper *s)
{
    cs_free(s->kx);
    cs_free(s->ky);
    cs_free(s->head);
    cs_free(s->next);
    cs_free(s->px);
    cs_free(s->py);
}

/* Map every vertex to a point: pid[v]. */
static bool snap_all(const cs_lines *lines, double snap_m, long *pid, snapper *s, size_t *moved)
{
    size_t nv = lines->count ? lines->start[lines->count] : 0;
    size_t slots = 16;
    while (slots < 2 * nv + 16)
        slots *= 2;
    memset(s, 0, sizeof *s);
    s->cell = snap_m > 0 ? snap_m : 1.0;
    s->snap_m = snap_m;
    s->mask = slots - 1;
    s->kx = cs_calloc(slots, sizeof *s->kx);
    s->ky = cs_calloc(slots, sizeof *s->ky);
    s->head = cs_calloc(slots, sizeof *s->head);
    s->next = cs_calloc(nv + 1, sizeof *s->next);
    s->px = cs_calloc(nv + 1, sizeof *s->px);
    s->py = cs_calloc(nv + 1, sizeof *s->py);
    if (!s->kx || !s->ky || !s->head || !s->next || !s->px || !s->py)
        return false;
    for (size_t i = 0; i < slots; i++)
        s->head[i] = -1;
    *moved = 0;
    for (size_t v = 0; v < nv; v++) {
        bool m = false;
        pid[v] = snap_point(s, lines->x[v], lines->y[v], &m);
        *moved += m;
    }
    return true;
}

/* ------------------------------------------------------------- crossings */

/* Lines with the crossings noded: a copy of lines with a vertex inserted wherever two
 * segments cross in their interiors (and where a line's end touches another's
 * segment). The grid over segments keeps it from being all pairs. */
typedef struct cut {
    size_t seg;   /* segment (its first vertex index) */
    double t;     /* where along it, in (0, 1) */
    double x, y;
} cut;

static int compare_cuts(const void *pa, const void *pb)
{
    const cut *a = pa, *b = pb;
    if (a->seg != b->seg)
        return a->seg < b->seg ? -1 : 1;
    return (a->t > b->t) - (a->t < b->t);
}

static bool add_cut(cut **cuts, size_t *n, size_t *cap, size_t seg, double t, double x, double y)
{
    if (!cs_grow((void **)cuts, cap, *n + 1, sizeof **cuts))
        return false;
    (*cuts)[(*n)++] = (cut){seg, t, x, y};
    return true;
}

/* Where segments a (a0-a1) and b (b0-b1) cross, if they do in both interiors. */
static bool crossing(const cs_lines *l, size_t a, size_t b, double *ta, double *tb)
{
    double ax = l->x[a], ay = l->y[a], adx = l->x[a + 1] - ax, ady = l->y[a + 1] - ay;
    double bx = l->x[b], by = l->y[b], bdx = l->x[b + 1] - bx, bdy = l->y[b + 1] - by;
    double den = adx * bdy - ady * bdx;
    if (den == 0)
        return false;
    *ta = ((bx - ax) * bdy - (by - ay) * bdx) / den;
    *tb = ((bx - ax) * ady - (by - ay) * adx) / den;
    const double eps = 1e-9;
    return *ta > eps && *ta < 1 - eps && *tb > eps && *tb < 1 - eps;
}

/* Is vertex v (a line's end) on segment b's interior, within tol? */
static bool touches(const cs_lines *l, size_t v, size_t b, double tol, double *tb)
{
    double bx = l->x[b], by = l->y[b], dx = l->x[b + 1] - bx, dy = l->y[b + 1] - by;
    double len2 = dx * dx + dy * dy;
    if (len2 == 0)
        return false;
    double t = ((l->x[v] - bx) * dx + (l->y[v] - by) * dy) / len2;
    if (t <= 1e-9 || t >= 1 - 1e-9)
        return false;
    *tb = t;
    return hypot(bx + t * dx - l->x[v], by + t * dy - l->y[v]) <= tol;
}

/* Segment ids per grid cell (CSR), for the crossing search. */
typedef struct seg_grid {
    double x0, y0, cell;
    size_t nx, ny;
    size_t *first, *ids;
} seg_grid;

static size_t clampi(double v, size_t n)
{
    return v < 0 ? 0 : v >= (double)n ? n - 1 : (size_t)v;
}

static bool seg_grid_build(const cs_lines *l, const bool *is_seg, size_t nv, seg_grid *g)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, total = 0;
    size_t ns = 0;
    for (size_t v = 0; v + 1 < nv; v++)
        if (is_seg[v]) {
            x0 = fmin(x0, fmin(l->x[v], l->x[v + 1]));
            x1 = fmax(x1, fmax(l->x[v], l->x[v + 1]));
            y0 = fmin(y0, fmin(l->y[v], l->y[v + 1]));
            y1 = fmax(y1, fmax(l->y[v], l->y[v + 1]));
            total += hypot(l->x[v + 1] - l->x[v], l->y[v + 1] - l->y[v]);
            ns++;
        }
    memset(g, 0, sizeof *g);
    g->cell = ns ? fmax(total / (double)ns, 1.0) : 1.0;
    g->x0 = x0;
    g->y0 = y0;
    g->nx = ns ? (size_t)((x1 - x0) / g->cell) + 1 : 1;
    g->ny = ns ? (size_t)((y1 - y0) / g->cell) + 1 : 1;
    while (g->nx * g->ny > 4 * ns + 16) { /* keep the grid near the segment count */
        g->cell *= 2;
        g->nx = (size_t)((x1 - x0) / g->cell) + 1;
        g->ny = (size_t)((y1 - y0) / g->cell) + 1;
    }
    g->first = cs_calloc(g->nx * g->ny + 1, sizeof *g->first);
    if (!g->first)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t v = 0; v + 1 < nv; v++) {
            if (!is_seg[v])
                continue;
            size_t ix0 = clampi((fmin(l->x[v], l->x[v + 1]) - x0) / g->cell, g->nx);
            size_t ix1 = clampi((fmax(l->x[v], l->x[v + 1]) - x0) / g->cell, g->nx);
            size_t iy0 = clampi((fmin(l->y[v], l->y[v + 1]) - y0) / g->cell, g->ny);
            size_t iy1 = clampi((fmax(l->y[v], l->y[v + 1]) - y0) / g->cell, g->ny);
            for (size_t iy = iy0; iy <= iy1; iy++)
                for (size_t ix = ix0; ix <= ix1; ix++) {
                    size_t c = iy * g->nx + ix;
                    if (pass == 0)
                        g->first[c + 1]++;
                    else
                        g->ids[g->first[c]++] = v;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < g->nx * g->ny; c++)
                g->first[c + 1] += g->first[c];
            g->ids = cs_calloc(g->first[g->nx * g->ny] + 1, sizeof *g->ids);
            if (!g->ids)
                return false;
        }
    }
    /* the fill pass moved each start to the next cell's: shift back */
    for (size_t c = g->nx * g->ny; c > 0; c--)
        g->first[c] = g->first[c - 1];
    g->first[0] = 0;
    return true;
}

/* Find the cuts: proper crossings, and vertices lying inside another segment (a T, or
 * a line passing through a vertex of another line there). */
static bool find_cuts(const cs_lines *l, const bool *is_seg, const bool *is_end, size_t nv,
                      double tol, cut **cuts, size_t *n, size_t *crossings)
{
    seg_grid g;
    size_t cap = 0;
    bool ok = seg_grid_build(l, is_seg, nv, &g);
    for (size_t c = 0; ok && c < g.nx * g.ny; c++) {
        for (size_t i = g.first[c]; ok && i < g.first[c + 1]; i++) {
            for (size_t j = g.first[c]; ok && j < g.first[c + 1]; j++) {
                size_t a = g.ids[i], b = g.ids[j];
                double ta, tb;
                if (a < b && b != a + 1 && crossing(l, a, b, &ta, &tb)) {
                    double x = l->x[a] + ta * (l->x[a + 1] - l->x[a]);
                    double y = l->y[a] + ta * (l->y[a + 1] - l->y[a]);
                    /* count the pair once: in the cell holding the crossing */
                    if (clampi((x - g.x0) / g.cell, g.nx) + g.nx * clampi((y - g.y0) / g.cell, g.ny) != c)
                        continue;
                    ok = add_cut(cuts, n, &cap, a, ta, x, y) && add_cut(cuts, n, &cap, b, tb, x, y);
                    *crossings += ok;
                }
                for (int end = 0; ok && end < 2 && a != b; end++) {
                    /* every vertex once: as the start of its segment, or as the last
                     * vertex of its line */
                    size_t v = a + (size_t)end;
                    if ((end == 0 || is_end[v]) && v != b && v != b + 1 &&
                        touches(l, v, b, tol, &tb) &&
                        clampi((l->x[v] - g.x0) / g.cell, g.nx) +
                                g.nx * clampi((l->y[v] - g.y0) / g.cell, g.ny) == c) {
                        ok = add_cut(cuts, n, &cap, b, tb, l->x[v], l->y[v]);
                        *crossings += ok;
                    }
                }
            }
        }
    }
    cs_free(g.first);
    cs_free(g.ids);
    if (ok)
        qsort(*cuts, *n, sizeof **cuts, compare_cuts);
    return ok;
}

/* A copy of lines with every cut inserted as a vertex. */
static bool node_crossings(const cs_lines *l, double tol, cs_lines *out, size_t *crossings)
{
    size_t nv = l->count ? l->start[l->count] : 0;
    bool *is_seg = cs_calloc(nv + 1, sizeof *is_seg), *is_end = cs_calloc(nv + 1, sizeof *is_end);
    cut *cuts = NULL;
    size_t ncuts = 0;
    memset(out, 0, sizeof *out);
    bool ok = is_seg && is_end;
    for (size_t i = 0; ok && i < l->count; i++) {
        for (size_t v = l->start[i]; v + 1 < l->start[i + 1]; v++)
            is_seg[v] = true;
        if (l->start[i + 1] > l->start[i]) {
            is_end[l->start[i]] = true;
            is_end[l->start[i + 1] - 1] = true;
        }
    }
    ok = ok && find_cuts(l, is_seg, is_end, nv, tol, &cuts, &ncuts, crossings);
    out->count = l->count;
    out->start = ok ? cs_calloc(l->count + 1, sizeof *out->start) : NULL;
    out->x = ok ? cs_calloc(nv + ncuts + 1, sizeof *out->x) : NULL;
    out->y = ok ? cs_calloc(nv + ncuts + 1, sizeof *out->y) : NULL;
    out->speed = l->speed;     /* borrowed: same lines, same order */
    out->feature = l->feature;
    ok = ok && out->start && out->x && out->y;
    size_t k = 0, c = 0;
    for (size_t i = 0; ok && i < l->count; i++) {
        out->start[i] = k;
        for (size_t v = l->start[i]; v < l->start[i + 1]; v++) {
            out->x[k] = l->x[v];
            out->y[k++] = l->y[v];
            for (; c < ncuts && cuts[c].seg == v; c++) {
                out->x[k] = cuts[c].x;
                out->y[k++] = cuts[c].y;
            }
        }
    }
    if (ok)
        out->start[l->count] = k;
    cs_free(is_seg);
    cs_free(is_end);
    cs_free(cuts);
    if (!ok) {
        cs_free(out->start);
        cs_free(out->x);
        cs_free(out->y);
        memset(out, 0, sizeof *out);
    }
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
    cs_free(g->vx);
    cs_free(g->vy);
    cs_free(g->adj_start);
    cs_free(g->adj_edge);
    cs_free(g->adj_node);
    cs_free(g->node_component);
    cs_free(g->component_len_m);
    memset(g, 0, sizeof *g);
}

/* Points that end an edge: a line's ends, and points used more than once. */
static bool mark_nodes(const cs_lines *l, const long *pid, size_t npoints, bool **is_node)
{
    uint8_t *uses = cs_calloc(npoints + 1, sizeof *uses);
    *is_node = cs_calloc(npoints + 1, sizeof **is_node);
    if (!uses || !*is_node) {
        cs_free(uses);
        return false;
    }
    for (size_t i = 0; i < l->count; i++) {
        size_t a = l->start[i], b = l->start[i + 1];
        long last = -1;
        for (size_t v = a; v < b; v++) {
            if (pid[v] == last)
                continue; /* a zero-length segment */
            if (uses[pid[v]] < 2)
                uses[pid[v]]++;
            last = pid[v];
        }
        if (b > a) {
            (*is_node)[pid[a]] = true;
            (*is_node)[pid[b - 1]] = true;
        }
    }
    for (size_t p = 0; p < npoints; p++)
        if (uses[p] >= 2)
            (*is_node)[p] = true;
    cs_free(uses);
    return true;
}

typedef struct builder {
    cs_graph *g;
    size_t edge_cap, vstart_cap, vertex_cap, node_cap;
    long *node_of;  /* point -> node, -1 until used */
    const double *px, *py;
} builder;

/* Grow arrays that share one capacity *cap (all of elem_size) to hold need. */
static bool grow_all(void **arrays[], size_t n, size_t *cap, size_t need, size_t elem_size)
{
    size_t c = *cap;
    for (size_t i = 0; i < n; i++) {
        c = *cap; /* each from the same start, so all end with the same capacity */
        if (!cs_grow(arrays[i], &c, need, elem_size))
            return false;
    }
    *cap = c;
    return true;
}

static long node_for(builder *b, long p)
{
    if (b->node_of[p] >= 0)
        return b->node_of[p];
    cs_graph *g = b->g;
    void **xy[] = {(void **)&g->node_x, (void **)&g->node_y};
    if (!grow_all(xy, 2, &b->node_cap, g->node_count + 1, sizeof(double)))
        return -1;
    g->node_x[g->node_count] = b->px[p];
    g->node_y[g->node_count] = b->py[p];
    b->node_of[p] = (long)g->node_count++;
    return b->node_of[p];
}

/* Emit the edge whose polyline points are pts[0..n) (point ids), if it has length. */
static bool emit_edge(builder *b, const long *pts, size_t n, double speed)
{
    cs_graph *g = b->g;
    double len = 0;
    for (size_t i = 0; i + 1 < n; i++)
        len += hypot(b->px[pts[i + 1]] - b->px[pts[i]], b->py[pts[i + 1]] - b->py[pts[i]]);
    if (!(len > 0))
        return true;
    long u = node_for(b, pts[0]), v = node_for(b, pts[n - 1]);
    if (u < 0 || v < 0)
        return false;
    size_t e = g->edge_count, start = e ? g->edge_vstart[e] : 0;
    void **ends[] = {(void **)&g->edge_u, (void **)&g->edge_v};
    void **lens[] = {(void **)&g->edge_len_m, (void **)&g->edge_cost_m};
    void **verts[] = {(void **)&g->vx, (void **)&g->vy};
    size_t end_cap = b->edge_cap;
    if (!grow_all(ends, 2, &end_cap, e + 1, sizeof(uint32_t)) ||
        !grow_all(lens, 2, &b->edge_cap, e + 1, sizeof(double)) ||
        !cs_grow((void **)&g->edge_vstart, &b->vstart_cap, e + 2, sizeof *g->edge_vstart) ||
        !grow_all(verts, 2, &b->vertex_cap, start + n, sizeof(double)))
        return false;
    for (size_t i = 0; i < n; i++) {
        g->vx[start + i] = b->px[pts[i]];
        g->vy[start + i] = b->py[pts[i]];
    }
    g->edge_u[e] = (uint32_t)u;
    g->edge_v[e] = (uint32_t)v;
    g->edge_len_m[e] = len;
    g->edge_cost_m[e] = len / speed;
    g->edge_vstart[e] = start;
    g->edge_vstart[e + 1] = start + n;
    g->edge_count++;
    return true;
}

/* Split every line at its nodes into edges. */
static bool split_lines(builder *b, const cs_lines *l, const long *pid, const bool *is_node,
                        size_t *dropped)
{
    size_t longest = 0;
    for (size_t i = 0; i < l->count; i++)
        if (l->start[i + 1] - l->start[i] > longest)
            longest = l->start[i + 1] - l->start[i];
    long *run = cs_calloc(longest + 1, sizeof *run);
    if (!run)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < l->count; i++) {
        double speed = l->speed ? l->speed[i] : 1.0;
        size_t n = 0;
        for (size_t v = l->start[i]; ok && v < l->start[i + 1]; v++) {
            if (n > 0 && run[n - 1] == pid[v]) {
                (*dropped)++;
                continue;
            }
            run[n++] = pid[v];
            if (n > 1 && is_node[pid[v]]) {
                ok = emit_edge(b, run, n, speed);
                run[0] = pid[v];
                n = 1;
            }
        }
    }
    cs_free(run);
    return ok;
}

/* ------------------------------------------------- adjacency, components */

static bool build_adjacency(cs_graph *g)
{
    g->adj_start = cs_calloc(g->node_count + 2, sizeof *g->adj_start);
    g->adj_edge = cs_calloc(2 * g->edge_count + 1, sizeof *g->adj_edge);
    g->adj_node = cs_calloc(2 * g->edge_count + 1, sizeof *g->adj_node);
    if (!g->adj_start || !g->adj_edge || !g->adj_node)
        return false;
    for (size_t e = 0; e < g->edge_count; e++) {
        g->adj_start[g->edge_u[e] + 1]++;
        g->adj_start[g->edge_v[e] + 1]++;
    }
    for (size_t n = 0; n < g->node_count; n++)
        g->adj_start[n + 1] += g->adj_start[n];
    size_t *cursor = cs_calloc(g->node_count + 1, sizeof *cursor);
    if (!cursor)
        return false;
    memcpy(cursor, g->adj_start, g->node_count * sizeof *cursor);
    /* edges in order, so each node's slots come out sorted by edge */
    for (size_t e = 0; e < g->edge_count; e++) {
        uint32_t u = g->edge_u[e], v = g->edge_v[e];
        g->adj_edge[cursor[u]] = (uint32_t)e;
        g->adj_node[cursor[u]++] = v;
        g->adj_edge[cursor[v]] = (uint32_t)e;
        g->adj_node[cursor[v]++] = u;
    }
    cs_free(cursor);
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
    uint32_t first_node, root;
} comp;

static int compare_comps(const void *pa, const void *pb)
{
    const comp *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return (a->first_node > b->first_node) - (a->first_node < b->first_node);
}

static bool build_components(cs_graph *g)
{
    size_t nn = g->node_count;
    uint32_t *parent = cs_calloc(nn + 1, sizeof *parent);
    uint32_t *index = cs_calloc(nn + 1, sizeof *index); /* root -> component slot */
    comp *comps = cs_calloc(nn + 1, sizeof *comps);
    g->node_component = cs_calloc(nn + 1, sizeof *g->node_component);
    bool ok = parent && index && comps && g->node_component;
    for (size_t n = 0; ok && n < nn; n++)
        parent[n] = (uint32_t)n;
    for (size_t e = 0; ok && e < g->edge_count; e++) {
        uint32_t a = find_root(parent, g->edge_u[e]), b = find_root(parent, g->edge_v[e]);
        if (a != b)
            parent[a > b ? a : b] = a > b ? b : a;
    }
    size_t nc = 0;
    for (size_t n = 0; ok && n < nn; n++) {
        uint32_t r = find_root(parent, (uint32_t)n);
        if (r == n) {
            index[r] = (uint32_t)nc;
            comps[nc++] = (comp){0, (uint32_t)n, r};
        }
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

cs_status cs_graph_build(const cs_lines *lines, double snap_m, bool node_xings, cs_graph *out)
{
    memset(out, 0, sizeof *out);
    cs_lines noded = {0};
    const cs_lines *l = lines;
    if (node_xings) {
        if (!node_crossings(lines, fmax(snap_m, 1e-6), &noded, &out->noded_crossings))
            return CS_ERR_NOMEM;
        l = &noded;
    }
    size_t nv = l->count ? l->start[l->count] : 0;
    long *pid = cs_calloc(nv + 1, sizeof *pid);
    bool *is_node = NULL;
    snapper s;
    memset(&s, 0, sizeof s);
    builder b = {out, 0, 0, 0, 0, NULL, NULL, NULL};
    bool ok = pid && snap_all(l, snap_m, pid, &s, &out->snapped_vertices);
    ok = ok && mark_nodes(l, pid, s.count, &is_node);
    if (ok) {
        b.node_of = cs_calloc(s.count + 1, sizeof *b.node_of);
        b.px = s.px;
        b.py = s.py;
        ok = b.node_of != NULL;
        for (size_t p = 0; ok && p < s.count; p++)
            b.node_of[p] = -1;
    }
    ok = ok && split_lines(&b, l, pid, is_node, &out->dropped_segments);
    if (ok && out->edge_count == 0) { /* valid, but keep the arrays allocated */
        out->edge_vstart = cs_calloc(1, sizeof *out->edge_vstart);
        ok = out->edge_vstart != NULL;
    }
    ok = ok && build_adjacency(out) && build_components(out);
    cs_free(pid);
    cs_free(is_node);
    cs_free(b.node_of);
    snapper_free(&s);
    if (node_xings) {
        cs_free(noded.start);
        cs_free(noded.x);
        cs_free(noded.y);
    }
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
    for (size_t i = a; i + 1 < b; i++) {
        double seg = hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
        if (walked + seg >= t_m || i + 2 == b) {
            double f = seg > 0 ? (t_m - walked) / seg : 0;
            f = f < 0 ? 0 : f > 1 ? 1 : f;
            *x = g->vx[i] + f * (g->vx[i + 1] - g->vx[i]);
            *y = g->vy[i] + f * (g->vy[i + 1] - g->vy[i]);
            return;
        }
        walked += seg;
    }
    *x = g->vx[a];
    *y = g->vy[a];
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
    double L = g->edge_len_m[e];
    a_m = a_m < 0 ? 0 : a_m > L ? L : a_m;
    b_m = b_m < a_m ? a_m : b_m > L ? L : b_m;
    size_t before_len = *len;
    double px, py;
    cs_graph_point_at(g, e, a_m, &px, &py);
    if (!push_vertex(x, y, len, cap, px, py))
        return 0;
    double walked = 0;
    for (size_t i = g->edge_vstart[e]; i + 1 < g->edge_vstart[e + 1]; i++) {
        walked += hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
        bool interior = i + 2 < g->edge_vstart[e + 1];
        if (interior && walked > a_m && walked < b_m &&
            !push_vertex(x, y, len, cap, g->vx[i + 1], g->vy[i + 1]))
            return 0;
    }
    cs_graph_point_at(g, e, b_m, &px, &py);
    if (!push_vertex(x, y, len, cap, px, py))
        return 0;
    return *len - before_len;
}
