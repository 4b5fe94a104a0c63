/*
 * discs.c — the outline of a union of equal discs, traced circle by circle.
 *
 * GEOS unions thousands of discs pairwise, some 40 µs for each, whatever their shape;
 * a district's service circles (12 unions of thousands of discs) took seconds. For
 * equal discs the outline can be traced directly. On each circle, every other circle
 * closer than 2 r covers one arc (of half-angle acos(d / 2 r) around the direction to
 * it); what no neighbour covers lies on the union's outline. Walking such an arc
 * counter-clockwise, the union lies on the left; the arc ends where neighbour k's
 * cover begins, which is where k's circle leaves circle i's cover, so the outline goes
 * on along the arc of circle k that starts where i's cover of k ends. Following these
 * links closes every ring of the outline: counter-clockwise rings are shells, clockwise
 * ones holes, each in the smallest shell around it.
 *
 * Arcs are drawn as the polygon inscribed in the circle through its exact end points
 * and the vertices of the regular CS_DISC_VERTICES-gon between them, so the outline
 * lies inside the union and within its sagitta, r (1 - cos(pi / 64)) (0.12 % of the
 * radius), of the true one, as GEOS's union of 64-gons would. Each edge lies in the
 * Voronoi cell of its circle's centre (its points are nearer to that centre than to any
 * other), so the rings do not cross. Where three circles pass through one point, the
 * arcs computed on each circle may disagree in the last bits: the links then do not
 * close, and the caller falls back to GEOS (CS_ERR_INTERNAL).
 */
#include "geom/geom.h"
#include "geom/grid.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define NONE UINT32_MAX
#define STEP (2 * M_PI / CS_DISC_VERTICES)
/* Vertices of the 64-gon closer than this (radians) to an arc's end are left out, so
 * that no edge is shorter than the rounding of the ends. */
#define VERTEX_GAP 1e-9

/* The arc of a circle that no neighbour covers: from angle a0 to a1 (a0 < a1 <=
 * a0 + 2 pi), between the end of neighbour `from`'s cover and the start of neighbour
 * `to`'s (NONE: a whole circle). */
typedef struct arc {
    uint32_t circle, from, to;
    double a0, a1;
} arc;

/* The cover of circle i by neighbour j: angles s .. e. */
typedef struct span {
    double s, e;
    uint32_t j;
} span;

typedef struct growing {
    void *data;
    size_t count, cap, size;
} growing;

static void *grow(growing *g)
{
    if (g->count == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        void *d = cs_reallocarray(g->data, cap, g->size);
        if (!d)
            return NULL;
        g->data = d;
        g->cap = cap;
    }
    return (char *)g->data + g->size * g->count++;
}

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s ? 1 : (x->j > y->j) - (x->j < y->j);
}

typedef struct tracer {
    const double *x, *y;
    size_t n;
    double r;
    cs_ugrid grid; /* cells of 2 r: the neighbours that matter are in the 3 x 3 block */
    cs_ugrid_csr csr;
    growing arcs, spans;
    size_t *arc_start; /* circle i's arcs: arcs[arc_start[i] .. arc_start[i + 1]) */
    double cosines[CS_DISC_VERTICES], sines[CS_DISC_VERTICES];
    /* the outline: ring vertices, ring starts, signed areas */
    growing vx, vy, rings, areas;
} tracer;

/* The sectors of 2 pi / 64 wholly inside angles s .. e (e - s < pi), as bits. */
static uint64_t whole_sectors(double s, double e)
{
    double step = 2 * M_PI / 64;
    long first = (long)ceil(s / step + 1e-9), last = (long)floor(e / step - 1e-9) - 1;
    if (last < first)
        return 0;
    uint64_t run = last - first + 1 >= 64 ? UINT64_MAX : ((uint64_t)1 << (last - first + 1)) - 1;
    unsigned shift = (unsigned)(first % 64);
    return shift ? run << shift | run >> (64 - shift) : run;
}

/* The neighbours' covers of circle i into t->spans; false when i repeats an earlier
 * centre (its disc is that one), when the covers leave nothing of it (*covered), or
 * out of memory (*nomem). Most circles of a dense union are covered all round: the
 * sectors each cover holds whole say so before any sorting. */
static bool covers(tracer *t, size_t i, bool *covered, bool *nomem)
{
    uint64_t sectors = 0;
    const double *x = t->x, *y = t->y;
    double reach2 = 4 * t->r * t->r;
    t->spans.count = 0;
    long cx = (long)cs_ugrid_col(&t->grid, x[i]), cy = (long)cs_ugrid_row(&t->grid, y[i]);
    for (long ring = 0; ring <= 1; ring++) {
        cs_ugrid_strip strips[4];
        size_t ns = cs_ugrid_ring(&t->grid, cx, cy, ring, strips);
        for (size_t s = 0; s < ns; s++)
            for (size_t k = 0; k < strips[s].count; k++) {
                size_t cell = strips[s].first + k * strips[s].stride;
                for (uint32_t p = t->csr.start[cell]; p < t->csr.start[cell + 1]; p++) {
                    size_t j = t->csr.item[p];
                    double dx = x[j] - x[i], dy = y[j] - y[i], d2 = dx * dx + dy * dy;
                    if (d2 == 0 && j < i)
                        return false;
                    if (d2 == 0 || d2 >= reach2)
                        continue;
                    double phi = atan2(dy, dx), half = acos(sqrt(d2) / (2 * t->r));
                    double s0 = phi - half;
                    if (s0 < 0)
                        s0 += 2 * M_PI;
                    span *sp = grow(&t->spans);
                    if (!sp) {
                        *nomem = true;
                        return false;
                    }
                    *sp = (span){s0, s0 + 2 * half, (uint32_t)j};
                    sectors |= whole_sectors(s0, s0 + 2 * half);
                    if (sectors == UINT64_MAX) { /* no arc left: the other covers are moot */
                        *covered = true;
                        return false;
                    }
                }
            }
    }
    *covered = sectors == UINT64_MAX;
    return !*covered;
}

/* Circle i's uncovered arcs, appended to t->arcs. */
static bool circle_arcs(tracer *t, size_t i)
{
    span *sp = t->spans.data;
    size_t m = t->spans.count;
    if (m == 0) {
        arc *a = grow(&t->arcs);
        if (a)
            *a = (arc){(uint32_t)i, NONE, NONE, 0, 2 * M_PI};
        return a != NULL;
    }
    qsort(sp, m, sizeof *sp, by_start);
    /* the reach of the covers that wrap past 2 pi, as an angle before the first start */
    size_t far = 0;
    for (size_t k = 1; k < m; k++)
        if (sp[k].e > sp[far].e)
            far = k;
    double reach = sp[far].e - 2 * M_PI;
    uint32_t reacher = sp[far].j;
    for (size_t k = 0; k < m; k++) {
        if (sp[k].s > reach) {
            arc *a = grow(&t->arcs);
            if (!a)
                return false;
            *a = (arc){(uint32_t)i, reacher, sp[k].j, reach, sp[k].s};
        }
        if (sp[k].e > reach) {
            reach = sp[k].e;
            reacher = sp[k].j;
        }
    }
    return true;
}

static bool vertex(tracer *t, double x, double y)
{
    double *px = grow(&t->vx), *py = grow(&t->vy);
    if (!px || !py)
        return false;
    *px = x;
    *py = y;
    return true;
}

/* The arc's start and the 64-gon's vertices inside it (its end is the next arc's start). */
static bool draw_arc(tracer *t, const arc *a)
{
    double cx = t->x[a->circle], cy = t->y[a->circle], r = t->r;
    if (a->from == NONE) { /* a whole circle */
        for (unsigned v = 0; v < CS_DISC_VERTICES; v++)
            if (!vertex(t, cx + r * t->cosines[v], cy + r * t->sines[v]))
                return false;
        return true;
    }
    if (!vertex(t, cx + r * cos(a->a0), cy + r * sin(a->a0)))
        return false;
    for (double m = floor(a->a0 / STEP) + 1; m * STEP < a->a1 - VERTEX_GAP; m++) {
        if (m * STEP <= a->a0 + VERTEX_GAP)
            continue;
        long v = (long)m % CS_DISC_VERTICES;
        v += v < 0 ? CS_DISC_VERTICES : 0;
        if (!vertex(t, cx + r * t->cosines[v], cy + r * t->sines[v]))
            return false;
    }
    return true;
}

/* Close the ring begun at vertex `first`: its signed area (shoelace), or a failure
 * when it has fewer than 3 vertices or no area. */
static cs_status end_ring(tracer *t, size_t first)
{
    const double *x = t->vx.data, *y = t->vy.data;
    size_t last = t->vx.count;
    if (last - first < 3)
        return CS_ERR_INTERNAL;
    double twice = 0;
    for (size_t v = first; v < last; v++) {
        size_t w = v + 1 < last ? v + 1 : first;
        twice += (x[v] - x[first]) * (y[w] - y[first]) - (x[w] - x[first]) * (y[v] - y[first]);
    }
    size_t *start = grow(&t->rings);
    double *area = grow(&t->areas);
    if (!start || !area)
        return CS_ERR_NOMEM;
    *start = first;
    *area = twice / 2;
    return *area != 0 ? CS_OK : CS_ERR_INTERNAL;
}

/* Follow the links from arc `first` round to it again, drawing the ring. */
static cs_status trace_ring(tracer *t, size_t first, unsigned char *done)
{
    const arc *arcs = t->arcs.data;
    size_t begin = t->vx.count, cur = first;
    for (size_t steps = 0; steps <= t->arcs.count; steps++) {
        if (done[cur])
            return CS_ERR_INTERNAL;
        done[cur] = 1;
        if (!draw_arc(t, &arcs[cur]))
            return CS_ERR_NOMEM;
        uint32_t k = arcs[cur].to, i = arcs[cur].circle;
        if (k == NONE)
            return end_ring(t, begin);
        size_t next = t->arc_start[k];
        while (next < t->arc_start[k + 1] && arcs[next].from != i)
            next++;
        if (next == t->arc_start[k + 1])
            return CS_ERR_INTERNAL;
        if (next == first)
            return end_ring(t, begin);
        cur = next;
    }
    return CS_ERR_INTERNAL;
}

/* Whether (px, py) is inside ring q (even-odd). */
static bool in_ring(const tracer *t, size_t q, double px, double py)
{
    const double *x = t->vx.data, *y = t->vy.data;
    const size_t *start = t->rings.data;
    size_t first = start[q], last = q + 1 < t->rings.count ? start[q + 1] : t->vx.count;
    bool in = false;
    for (size_t v = first, w = last - 1; v < last; w = v++)
        if ((y[v] > py) != (y[w] > py) &&
            px < x[w] + (py - y[w]) / (y[v] - y[w]) * (x[v] - x[w]))
            in = !in;
    return in;
}

/* The shell each hole lies in: the smallest shell around its first vertex. */
static cs_status holes_in_shells(const tracer *t, size_t *shell_of)
{
    const double *x = t->vx.data, *y = t->vy.data, *area = t->areas.data;
    const size_t *start = t->rings.data;
    size_t nr = t->rings.count;
    double *box = cs_calloc(4 * nr + 1, sizeof *box);
    if (!box)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < nr; q++) {
        double *b = box + 4 * q;
        size_t last = q + 1 < nr ? start[q + 1] : t->vx.count;
        b[0] = b[2] = x[start[q]];
        b[1] = b[3] = y[start[q]];
        for (size_t v = start[q]; v < last; v++) {
            b[0] = fmin(b[0], x[v]);
            b[1] = fmin(b[1], y[v]);
            b[2] = fmax(b[2], x[v]);
            b[3] = fmax(b[3], y[v]);
        }
    }
    cs_status st = CS_OK;
    for (size_t h = 0; st == CS_OK && h < nr; h++) {
        shell_of[h] = h;
        if (area[h] > 0)
            continue;
        double best = INFINITY, px = x[start[h]], py = y[start[h]];
        for (size_t q = 0; q < nr; q++) {
            const double *b = box + 4 * q;
            if (area[q] > 0 && area[q] < best && area[q] > -area[h] && px >= b[0] &&
                py >= b[1] && px <= b[2] && py <= b[3] && in_ring(t, q, px, py)) {
                best = area[q];
                shell_of[h] = q;
            }
        }
        if (shell_of[h] == h)
            st = CS_ERR_INTERNAL;
    }
    cs_free(box);
    return st;
}

/* The rings as polygons: each shell followed by its holes. */
static cs_status to_polygons(const tracer *t, const size_t *shell_of, cs_rings *out)
{
    const size_t *start = t->rings.data;
    size_t nr = t->rings.count, nv = t->vx.count;
    *out = (cs_rings){0};
    out->x = cs_calloc(nv + nr, sizeof *out->x);
    out->y = cs_calloc(nv + nr, sizeof *out->y);
    out->ring_start = cs_calloc(nr + 1, sizeof *out->ring_start);
    out->area_ring_start = cs_calloc(nr + 1, sizeof *out->area_ring_start);
    if (!out->x || !out->y || !out->ring_start || !out->area_ring_start)
        return CS_ERR_NOMEM;
    for (size_t q = 0; q < nr; q++) {
        if (shell_of[q] != q)
            continue;
        out->area_ring_start[out->area_count++] = out->ring_count;
        for (size_t k = 0; k < nr; k++) { /* the shell, then its holes */
            size_t h = k == 0 ? q : k <= q ? k - 1 : k;
            if (shell_of[h] != q)
                continue;
            size_t first = start[h], last = h + 1 < nr ? start[h + 1] : nv;
            out->ring_start[out->ring_count++] = out->vertex_count;
            for (size_t v = first; v <= last; v++) { /* closed: the first vertex again */
                size_t src = v < last ? v : first;
                out->x[out->vertex_count] = ((const double *)t->vx.data)[src];
                out->y[out->vertex_count++] = ((const double *)t->vy.data)[src];
            }
        }
    }
    out->ring_start[out->ring_count] = out->vertex_count;
    out->area_ring_start[out->area_count] = out->ring_count;
    return CS_OK;
}

static cs_status trace(tracer *t, cs_rings *out)
{
    double box[4];
    cs_box_of(t->x, t->y, t->n, box);
    double x0 = box[0], y0 = box[1], x1 = box[2], y1 = box[3];
    /* the grid grows its cells when the extent would need more than 4 n of them */
    cs_ugrid_fit(&t->grid, x0, y0, x1 - x0, y1 - y0, 2 * t->r, 1.5, 4.0 * (double)t->n + 16);
    t->arc_start = cs_calloc(t->n + 1, sizeof *t->arc_start);
    if (!t->arc_start ||
        cs_ugrid_csr_points(&t->csr, &t->grid, t->x, t->y, NULL, t->n, true, 1) != CS_OK)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < t->n; i++) {
        t->arc_start[i] = t->arcs.count;
        bool covered = false, nomem = false;
        if (covers(t, i, &covered, &nomem) && !circle_arcs(t, i))
            return CS_ERR_NOMEM;
        if (nomem)
            return CS_ERR_NOMEM;
    }
    t->arc_start[t->n] = t->arcs.count;
    unsigned char *done = cs_calloc(t->arcs.count + 1, 1);
    if (!done)
        return CS_ERR_NOMEM;
    cs_status st = CS_OK;
    for (size_t a = 0; st == CS_OK && a < t->arcs.count; a++)
        if (!done[a])
            st = trace_ring(t, a, done);
    cs_free(done);
    size_t *shell_of = st == CS_OK ? cs_calloc(t->rings.count + 1, sizeof *shell_of) : NULL;
    if (st == CS_OK && !shell_of)
        st = CS_ERR_NOMEM;
    if (st == CS_OK)
        st = holes_in_shells(t, shell_of);
    if (st == CS_OK)
        st = to_polygons(t, shell_of, out);
    cs_free(shell_of);
    return st;
}

cs_status cs_disc_outline(const double *x, const double *y, size_t n, double r, cs_rings *out)
{
    *out = (cs_rings){0};
    if (n == 0 || n >= UINT32_MAX || !(r > 0) || !isfinite(r))
        return CS_ERR_ARGUMENT;
    tracer t = {.x = x, .y = y, .n = n, .r = r};
    t.arcs.size = sizeof(arc);
    t.spans.size = sizeof(span);
    t.vx.size = t.vy.size = t.areas.size = sizeof(double);
    t.rings.size = sizeof(size_t);
    for (unsigned v = 0; v < CS_DISC_VERTICES; v++) {
        t.cosines[v] = cos(v * STEP);
        t.sines[v] = sin(v * STEP);
    }
    cs_status st = trace(&t, out);
    if (st != CS_OK)
        cs_rings_free(out);
    cs_ugrid_csr_free(&t.csr);
    cs_free(t.arc_start);
    cs_free(t.arcs.data);
    cs_free(t.spans.data);
    cs_free(t.vx.data);
    cs_free(t.vy.data);
    cs_free(t.rings.data);
    cs_free(t.areas.data);
    return st;
}
