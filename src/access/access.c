/*
 * access.c — the two-step floating catchment area method (2SFCA) and its distance-decay
 * forms (E2SFCA), in two engines.
 *
 * Straight-line engine: one uniform grid geometry (cells a quarter of the catchment
 * wide, padded by more than a catchment around the demand points' box) holds the demand
 * points and the facilities, each counting-sorted into cell order with ties kept in
 * input order. Step 1 runs in parallel over facilities: each sums P_i W(d) over the
 * points of the cells whose box lies within the catchment. Step 2 runs in parallel over
 * demand cells: a cell gathers the facilities with R_j > 0 of the cells within reach of
 * its box into a short local list, and each of its points sums R_j W(d) over that list.
 * Every sum runs in an order fixed by the data alone (cells, then input order), and each
 * output is written by one thread, so the results are bit-identical for any number of
 * threads. No pair is ever stored: memory is O(F + N).
 *
 * Pairs engine: the travel costs come from a callback. Step 1 lists each facility's
 * pairs and sums them; step 2 lists them again a chunk of facilities at a time, in
 * parallel, turns each cost into R_j W(d) there, and then adds the chunk into access[]
 * sequentially in facility order, which keeps the sums deterministic and the memory
 * bounded by one chunk of catchments.
 *
 * A pair is in reach when d <= d0, d being sqrt(dx*dx + dy*dy) or the callback's cost.
 * The straight engine never takes the root: it compares dx*dx + dy*dy with the largest
 * double whose square root is <= d0 (or <= a step limit), which is the same test
 * because sqrt is correctly rounded; so points exactly at d0 count in both engines.
 */
#include "access/access.h"

#include "geom/grid.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* Grid cells per catchment radius: smaller cells hug the catchment circle more tightly
 * (less wasted distance tests) at the price of more, shorter runs. */
#define CELLS_PER_RADIUS 4
/* Facilities whose pairs the pairs engine holds at once. */
#define PAIRS_CHUNK 256
/* Loops over the points run on several threads above this many points. */
#define PARALLEL_POINTS 100000

/* ------------------------------------------------------------------ weights */

cs_status cs_access_spec_check(const cs_access_spec *s)
{
    if (!s || !isfinite(s->catchment_m) || !(s->catchment_m > 0) || !isfinite(s->per) ||
        !(s->per > 0))
        return CS_ERR_ARGUMENT;
    switch (s->decay) {
    case CS_DECAY_NONE:
    case CS_DECAY_GAUSSIAN:
        return CS_OK;
    case CS_DECAY_POWER:
        return isfinite(s->beta) && s->beta > 0 && isfinite(s->min_m) && s->min_m > 0
                   ? CS_OK
                   : CS_ERR_ARGUMENT;
    case CS_DECAY_EXPONENTIAL:
        return isfinite(s->beta) && s->beta > 0 ? CS_OK : CS_ERR_ARGUMENT;
    case CS_DECAY_STEPS:
        if (s->step_count < 1 || s->step_count > CS_ACCESS_MAX_STEPS)
            return CS_ERR_ARGUMENT;
        for (size_t k = 0; k < s->step_count; k++) {
            if (!isfinite(s->step_m[k]) || !(s->step_m[k] >= 0) || !isfinite(s->step_w[k]) ||
                !(s->step_w[k] >= 0))
                return CS_ERR_ARGUMENT;
            if (k > 0 && !(s->step_m[k] > s->step_m[k - 1]))
                return CS_ERR_ARGUMENT;
        }
        return CS_OK;
    }
    return CS_ERR_ARGUMENT;
}

/* The weight function with its constants worked out once. The straight engine tests
 * squared distances against limits T with sqrt(d2) <= r exactly when d2 <= T, so it
 * never takes a square root yet draws every boundary where the definitions do. */
typedef struct weigher {
    cs_decay decay;
    double d0, t0;  /* catchment and its squared limit */
    double k, e, inv; /* Gaussian: exp(k d^2) with k = -1/(2 d0^2), minus e = exp(-1/2),
                       * times inv = 1/(1 - e) */
    double half_beta, min2; /* power: (max(d^2, min_m^2))^(-beta/2) */
    double rate;            /* exponential: exp(-rate d), rate = beta / 1000 m */
    bool gauss_squared;     /* the Gaussian squared (3SFCA's W G = W^2 / sum) */
    size_t steps;
    double step_m[CS_ACCESS_MAX_STEPS], step_w[CS_ACCESS_MAX_STEPS];
    double step_t[CS_ACCESS_MAX_STEPS]; /* squared limits of min(step_m, d0) */
} weigher;

/* The largest x with sqrt(x) <= r (sqrt is correctly rounded, hence monotone). */
static double squared_limit(double r)
{
    double x = r * r;
    while (x > 0 && sqrt(x) > r)
        x = nextafter(x, 0.0);
    while (x < INFINITY && sqrt(nextafter(x, INFINITY)) <= r)
        x = nextafter(x, INFINITY);
    return x;
}

static weigher make_weigher(const cs_access_spec *s)
{
    weigher w;
    memset(&w, 0, sizeof w);
    w.decay = s->decay;
    w.d0 = s->catchment_m;
    w.t0 = squared_limit(w.d0);
    w.k = -0.5 / (w.d0 * w.d0);
    w.e = exp(-0.5);
    w.inv = 1.0 / (1.0 - w.e);
    w.half_beta = s->beta / 2;
    w.min2 = s->min_m * s->min_m;
    w.rate = s->beta / 1000.0;
    if (s->decay == CS_DECAY_STEPS) {
        w.steps = s->step_count;
        for (size_t k = 0; k < w.steps; k++) {
            w.step_m[k] = s->step_m[k];
            w.step_w[k] = s->step_w[k];
            w.step_t[k] = squared_limit(fmin(s->step_m[k], w.d0));
        }
    }
    return w;
}

/* The weigher of W^2: squared steps, twice the power's and the exponential's beta, the
 * Gaussian squared. */
static weigher squared(weigher w)
{
    for (size_t k = 0; k < w.steps; k++)
        w.step_w[k] *= w.step_w[k];
    w.half_beta *= 2;
    w.rate *= 2;
    w.gauss_squared = true;
    return w;
}

/* The continuous weights of a squared distance within the catchment. */
static inline double gauss_d2(const weigher *w, double d2)
{
    double g = (exp(w->k * d2) - w->e) * w->inv;
    return g > 0 ? g : 0.0;
}

static inline double continuous_d2(const weigher *w, double d2)
{
    switch (w->decay) {
    case CS_DECAY_GAUSSIAN: {
        double g = gauss_d2(w, d2);
        return w->gauss_squared ? g * g : g;
    }
    case CS_DECAY_POWER: return pow(d2 > w->min2 ? d2 : w->min2, -w->half_beta);
    case CS_DECAY_EXPONENTIAL: return exp(-w->rate * sqrt(d2));
    default: return 1.0;
    }
}

static inline double weigh(const weigher *w, double d)
{
    if (!(d <= w->d0))
        return 0.0; /* beyond the catchment, or NaN */
    if (d < 0)
        d = 0;
    switch (w->decay) {
    case CS_DECAY_NONE:
        return 1.0;
    case CS_DECAY_STEPS:
        for (size_t k = 0; k < w->steps; k++) {
            if (d <= w->step_m[k])
                return w->step_w[k];
        }
        return 0.0;
    case CS_DECAY_GAUSSIAN:
    case CS_DECAY_POWER:
    case CS_DECAY_EXPONENTIAL:
        return continuous_d2(w, d * d);
    }
    return 0.0;
}

double cs_access_weight(const cs_access_spec *s, double d_m)
{
    weigher w = make_weigher(s);
    return weigh(&w, d_m);
}

/* People of a demand point: anything but a finite positive count is none. */
static inline double people(const double *demand, size_t i)
{
    double p = demand[i];
    return isfinite(p) && p > 0 ? p : 0.0;
}

static inline bool has_supply(const double *supply, size_t j)
{
    return isfinite(supply[j]) && supply[j] > 0;
}

/* --------------------------------------------------------------------- grid */

/* The cell geometry both point sets share (square cells, w == h). Cells are numbered
 * from the origin of the working CRS (column floor(x / w)), so that two studies with
 * the same cell size put every point in the same cell: a shard and its whole study sum
 * the same points in the same order. */
typedef struct geometry {
    cs_ugrid grid;
    long col0, row0; /* the grid's first column and row, counted from the origin */
    double slack;    /* added to the catchment in cell tests, against rounding */
} geometry;

/* Points of one set in cell order: cell c holds [start[c], start[c + 1]), where
 * start = cells.start and cells.item holds each point's input index. */
typedef struct cell_set {
    cs_ugrid_csr cells;
    double *x, *y, *w; /* w: people (demand) or R_j (facilities) */
    size_t n;
} cell_set;

static void cell_set_free(cell_set *cs)
{
    cs_ugrid_csr_free(&cs->cells);
    cs_free(cs->x);
    cs_free(cs->y);
    cs_free(cs->w);
    memset(cs, 0, sizeof *cs);
}

/* The cell size for a catchment over the extent: a quarter catchment, coarser when
 * that would make many more cells than points. */
static double cell_size(double d0, const cs_access_extent *e)
{
    double max_cells = 4.0 * (double)e->points + 4096;
    double cell = d0 / CELLS_PER_RADIUS;
    for (;;) {
        double pad = (ceil(d0 / cell) + 1) * cell;
        double nx = floor((e->box[2] - e->box[0] + 2 * pad) / cell) + 1;
        double ny = floor((e->box[3] - e->box[1] + 2 * pad) / cell) + 1;
        if (nx * ny <= max_cells)
            return cell;
        cell *= 1.5;
    }
}

/* Cells of the extent's size over the points' box, padded by more than a catchment so
 * every facility that reaches a point lies inside the grid. */
static void make_geometry(geometry *g, double d0, const double box[4],
                          const cs_access_extent *e)
{
    double cell = cell_size(d0, e);
    long pad = (long)ceil(d0 / cell) + 1;
    g->col0 = (long)floor(box[0] / cell) - pad;
    g->row0 = (long)floor(box[1] / cell) - pad;
    long col1 = (long)floor(box[2] / cell) + pad, row1 = (long)floor(box[3] / cell) + pad;
    g->grid = (cs_ugrid){(double)g->col0 * cell, (double)g->row0 * cell, cell, cell,
                         (size_t)(col1 - g->col0 + 1), (size_t)(row1 - g->row0 + 1)};
    /* of the extent, not of this grid: a shard tests its cells as its study does */
    double span = fabs(e->box[0]) + fabs(e->box[1]) + fabs(e->box[2]) + fabs(e->box[3]) +
                  4 * (double)pad * cell;
    g->slack = 1e-9 * span + 1e-9 * d0;
}

/* The cell of (x, y), or CS_UGRID_NONE outside the grid. */
static uint32_t cell_of(const geometry *g, double x, double y)
{
    double cx = floor(x / g->grid.w) - (double)g->col0;
    double cy = floor(y / g->grid.h) - (double)g->row0;
    if (!(cx >= 0 && cy >= 0 && cx < (double)g->grid.nx && cy < (double)g->grid.ny))
        return CS_UGRID_NONE;
    return (uint32_t)((size_t)cy * g->grid.nx + (size_t)cx);
}

/* Counting sort of the chosen points (keep[i]) inside the grid into cell order, stable.
 * The points' cells and the sorted copies are worked out on nt threads: at two million
 * points this ran alone between parallel stages, most of it the first touches of the
 * copies' fresh memory. */
static bool fill_cells(cell_set *cs, const geometry *g, const double *x, const double *y,
                       const double *w, const unsigned char *keep, size_t n, int nt)
{
    size_t ncells = cs_ugrid_cells(&g->grid);
    if (n >= UINT32_MAX || ncells >= UINT32_MAX)
        return false;
    uint32_t *cell = cs_reallocarray(NULL, n + 1, sizeof *cell);
    if (!cell)
        return false;
    bool parallel = nt > 1 && n > PARALLEL_POINTS;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (parallel)
#else
    (void)parallel;
#endif
    for (long i = 0; i < (long)n; i++)
        cell[i] = keep && !keep[i] ? CS_UGRID_NONE : cell_of(g, x[i], y[i]);
    cs_status st = cs_ugrid_csr_sort(&cs->cells, cell, n, ncells);
    cs_free(cell);
    if (st != CS_OK)
        return false;
    size_t kept = cs->cells.start[ncells];
    cs->x = cs_reallocarray(NULL, kept, sizeof *cs->x);
    cs->y = cs_reallocarray(NULL, kept, sizeof *cs->y);
    cs->w = cs_reallocarray(NULL, kept, sizeof *cs->w);
    if (!cs->x || !cs->y || !cs->w)
        return false;
    cs->n = kept;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (parallel)
#endif
    for (long k = 0; k < (long)kept; k++) {
        size_t i = cs->cells.item[k];
        cs->x[k] = x[i];
        cs->y[k] = y[i];
        cs->w[k] = w ? w[i] : 0.0;
    }
    return true;
}

/* The kernels: acc plus the sum of v[k] W(d_k) over a run of points within the
 * catchment of (qx, qy), one per decay. Points out of reach add +0.0, which leaves every
 * sum bit-identical to skipping them, without a branch. Without decay and with steps a
 * run is summed in four lanes (point k in lane k mod 4; at the run's end acc plus
 * (lane 0 + lane 2) + (lane 1 + lane 3)): the additions no longer wait on each other and
 * the compiler's two-double vectors take two points at once, while the order is still
 * fixed by the run alone. At the large scale this took the straight-line accessibility
 * stage from 0.69-0.87 s to 0.32-0.38 s. */
typedef double lanes __attribute__((vector_size(2 * sizeof(double))));
typedef __typeof__((lanes){0} <= (lanes){0}) lane_mask; /* a comparison's result */

static inline lanes load_lanes(const double *p)
{
    lanes v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* v where m is set, +0.0 elsewhere */
static inline lanes masked(lanes v, lane_mask m)
{
    return (lanes)((lane_mask)v & m);
}

/* Four points' terms into the lanes: the first two into lo, the other two into hi. */
typedef void four_terms(const weigher *w, lanes px, lanes py, const double *x,
                        const double *y, const double *v, lanes *lo, lanes *hi);

static inline void four_none(const weigher *w, lanes px, lanes py, const double *x,
                             const double *y, const double *v, lanes *lo, lanes *hi)
{
    const lanes t = {w->t0, w->t0};
    lanes dx0 = load_lanes(x) - px, dy0 = load_lanes(y) - py;
    lanes dx1 = load_lanes(x + 2) - px, dy1 = load_lanes(y + 2) - py;
    *lo += masked(load_lanes(v), dx0 * dx0 + dy0 * dy0 <= t);
    *hi += masked(load_lanes(v + 2), dx1 * dx1 + dy1 * dy1 <= t);
}

/* the step weight of each lane's squared distance */
static inline lanes step_weights(const weigher *w, lanes d2)
{
    lanes wt = {0, 0};
    for (size_t s = w->steps; s-- > 0;) {
        lane_mask in = d2 <= (lanes){w->step_t[s], w->step_t[s]};
        wt = masked((lanes){w->step_w[s], w->step_w[s]}, in) + masked(wt, ~in);
    }
    return wt;
}

static inline void four_steps(const weigher *w, lanes px, lanes py, const double *x,
                              const double *y, const double *v, lanes *lo, lanes *hi)
{
    lanes dx0 = load_lanes(x) - px, dy0 = load_lanes(y) - py;
    lanes dx1 = load_lanes(x + 2) - px, dy1 = load_lanes(y + 2) - py;
    *lo += load_lanes(v) * step_weights(w, dx0 * dx0 + dy0 * dy0);
    *hi += load_lanes(v + 2) * step_weights(w, dx1 * dx1 + dy1 * dy1);
}

/* A run four points at a time; the last one to three points are made four with points
 * at (qx, qy) of no weight, which add +0.0. */
static inline double run_lanes(four_terms *four, const weigher *w, double acc, double qx,
                               double qy, const double *x, const double *y, const double *v,
                               size_t n)
{
    const lanes px = {qx, qx}, py = {qy, qy};
    lanes lo = {0, 0}, hi = {0, 0};
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        four(w, px, py, x + k, y + k, v + k, &lo, &hi);
    if (k < n) {
        double x4[4], y4[4], v4[4];
        for (size_t i = 0; i < 4; i++) {
            x4[i] = k + i < n ? x[k + i] : qx;
            y4[i] = k + i < n ? y[k + i] : qy;
            v4[i] = k + i < n ? v[k + i] : 0.0;
        }
        four(w, px, py, x4, y4, v4, &lo, &hi);
    }
    lanes sum = lo + hi;
    return acc + (sum[0] + sum[1]);
}

/* A continuous weight costs an exp or a pow: gather the points in reach, a block at a
 * time, first. */
static double run_continuous(const weigher *w, double acc, double qx, double qy, const double *x,
                        const double *y, const double *v, size_t n)
{
    enum { BLOCK = 64 };
    double d2s[BLOCK], vs[BLOCK], t = w->t0;
    for (size_t a = 0; a < n; a += BLOCK) {
        size_t b = n - a > BLOCK ? a + BLOCK : n, m = 0;
        for (size_t k = a; k < b; k++) {
            double dx = x[k] - qx, dy = y[k] - qy;
            double d2 = dx * dx + dy * dy;
            d2s[m] = d2;
            vs[m] = v[k];
            m += d2 <= t;
        }
        for (size_t k = 0; k < m; k++)
            acc += vs[k] * continuous_d2(w, d2s[k]);
    }
    return acc;
}

static inline double run_sum(const weigher *w, double acc, double qx, double qy,
                             const double *x, const double *y, const double *v, size_t n)
{
    switch (w->decay) {
    case CS_DECAY_NONE:
        return run_lanes(four_none, w, acc, qx, qy, x, y, v, n);
    case CS_DECAY_STEPS:
        return run_lanes(four_steps, w, acc, qx, qy, x, y, v, n);
    case CS_DECAY_GAUSSIAN:
    case CS_DECAY_POWER:
    case CS_DECAY_EXPONENTIAL:
        return run_continuous(w, acc, qx, qy, x, y, v, n);
    }
    return acc;
}

/* Step 1 for one facility at (fx, fy): the weighted demand in its catchment. */
static double weighted_demand(const geometry *g, const cell_set *pts, const weigher *w,
                              double fx, double fy)
{
    const cs_ugrid *u = &g->grid;
    const uint32_t *start = pts->cells.start;
    double reach = w->d0 + g->slack, reach2 = reach * reach, c = u->w;
    /* the facility lies in the grid: the clamps only cut the low side of the box */
    size_t kx0 = cs_ugrid_col(u, fx - reach), kx1 = cs_ugrid_col(u, fx + reach);
    size_t ky0 = cs_ugrid_row(u, fy - reach), ky1 = cs_ugrid_row(u, fy + reach);
    double sum = 0;
    for (size_t ky = ky0; ky <= ky1; ky++) {
        double by0 = u->y0 + (double)ky * c, by1 = by0 + c;
        double gy = by0 - fy > 0 ? by0 - fy : (fy - by1 > 0 ? fy - by1 : 0.0);
        for (size_t kx = kx0; kx <= kx1; kx++) {
            double bx0 = u->x0 + (double)kx * c, bx1 = bx0 + c;
            double gx = bx0 - fx > 0 ? bx0 - fx : (fx - bx1 > 0 ? fx - bx1 : 0.0);
            if (gx * gx + gy * gy > reach2)
                continue;
            size_t cell = ky * u->nx + kx;
            size_t a = start[cell];
            sum = run_sum(w, sum, fx, fy, pts->x + a, pts->y + a, pts->w + a,
                          start[cell + 1] - a);
        }
    }
    return sum;
}

/* Cell offsets (dx, dy) whose cells can hold a facility within reach of some point of
 * a cell: the gap between the two boxes is at most the catchment. */
static long *reach_offsets(const geometry *g, double d0, size_t *count)
{
    double reach = d0 + g->slack;
    long r = (long)ceil(reach / g->grid.w) + 1;
    long *off = cs_reallocarray(NULL, (size_t)(2 * r + 1) * (size_t)(2 * r + 1),
                                2 * sizeof *off);
    if (!off)
        return NULL;
    size_t n = 0;
    for (long dy = -r; dy <= r; dy++) {
        for (long dx = -r; dx <= r; dx++) {
            double gx = (double)(labs(dx) > 0 ? labs(dx) - 1 : 0) * g->grid.w;
            double gy = (double)(labs(dy) > 0 ? labs(dy) - 1 : 0) * g->grid.w;
            if (gx * gx + gy * gy <= reach * reach) {
                off[2 * n] = dx;
                off[2 * n + 1] = dy;
                n++;
            }
        }
    }
    *count = n;
    return off;
}

/* A thread's list of the facilities near one demand cell. */
typedef struct near_list {
    double *x, *y, *r;
    size_t n, cap;
} near_list;

static bool near_list_reserve(near_list *l, size_t need)
{
    if (need <= l->cap)
        return true;
    size_t cap = l->cap ? l->cap : 256;
    while (cap < need)
        cap *= 2;
    double *x = cs_reallocarray(l->x, cap, sizeof *x);
    if (x)
        l->x = x;
    double *y = cs_reallocarray(l->y, cap, sizeof *y);
    if (y)
        l->y = y;
    double *r = cs_reallocarray(l->r, cap, sizeof *r);
    if (r)
        l->r = r;
    if (!x || !y || !r)
        return false;
    l->cap = cap;
    return true;
}

/* Gather the facilities with R_j > 0 that may reach demand cell (cx, cy). */
static bool gather_near(near_list *l, const geometry *g, const cell_set *fac,
                        const long *off, size_t noff, long cx, long cy)
{
    l->n = 0;
    for (size_t o = 0; o < noff; o++) {
        long kx = cx + off[2 * o], ky = cy + off[2 * o + 1];
        if (kx < 0 || ky < 0 || kx >= (long)g->grid.nx || ky >= (long)g->grid.ny)
            continue;
        size_t cell = (size_t)ky * g->grid.nx + (size_t)kx;
        size_t a = fac->cells.start[cell], b = fac->cells.start[cell + 1];
        if (a == b)
            continue;
        if (!near_list_reserve(l, l->n + (b - a)))
            return false;
        for (size_t k = a; k < b; k++) {
            if (fac->w[k] > 0) {
                l->x[l->n] = fac->x[k];
                l->y[l->n] = fac->y[k];
                l->r[l->n] = fac->w[k];
                l->n++;
            }
        }
    }
    return true;
}

/* Step 2 for one demand cell: each point sums R_j W(d) over the gathered list. */
static void cell_access(const cell_set *pts, size_t cell, const near_list *l,
                        const weigher *w, double per, double *access)
{
    for (size_t k = pts->cells.start[cell]; k < pts->cells.start[cell + 1]; k++) {
        double sum = run_sum(w, 0.0, pts->x[k], pts->y[k], l->x, l->y, l->r, l->n);
        access[pts->cells.item[k]] = per * sum;
    }
}

/* Which points take part, and the demand points' box; returns how many. */
static size_t mark_points(const double *x, const double *y, size_t n, unsigned char *keep,
                          double box[4])
{
    size_t kept = 0;
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        bool in = isfinite(x[i]) && isfinite(y[i]);
        if (keep)
            keep[i] = in;
        if (!in)
            continue;
        kept++;
        box[0] = fmin(box[0], x[i]);
        box[1] = fmin(box[1], y[i]);
        box[2] = fmax(box[2], x[i]);
        box[3] = fmax(box[3], y[i]);
    }
    return kept;
}

/* Step 1 over the facilities in cell order (neighbours share cached points). */
static void straight_step1(const geometry *g, const cell_set *pts, cell_set *fac,
                           const weigher *w, const double *supply, int nt, double *ratio,
                           unsigned char *state)
{
    size_t nf = fac->n;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 64) num_threads(nt)
#else
    (void)nt;
#endif
    for (size_t k = 0; k < nf; k++) {
        size_t j = fac->cells.item[k];
        double den = weighted_demand(g, pts, w, fac->x[k], fac->y[k]);
        double r = den > 0 ? supply[j] / den : 0.0;
        if (!isfinite(r))
            r = 0.0;
        fac->w[k] = r;
        ratio[j] = r;
        if (state)
            state[j] = r > 0 ? CS_ACCESS_SERVED : CS_ACCESS_NO_DEMAND;
    }
}

/* Step 2 over the demand cells; false when a thread ran out of memory. */
static bool straight_step2(const geometry *g, const cell_set *pts, const cell_set *fac,
                           const long *off, size_t noff, const weigher *w, double per, int nt,
                           double *access)
{
    size_t ncells = cs_ugrid_cells(&g->grid), nx = g->grid.nx;
    int failed = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#else
    (void)nt;
#endif
    {
        near_list l = {NULL, NULL, NULL, 0, 0};
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
        for (size_t c = 0; c < ncells; c++) {
            if (pts->cells.start[c] == pts->cells.start[c + 1])
                continue;
            long cx = (long)(c % nx), cy = (long)(c / nx);
            if (!gather_near(&l, g, fac, off, noff, cx, cy)) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
                failed = 1;
                continue;
            }
            cell_access(pts, c, &l, w, per, access);
        }
        cs_free(l.x);
        cs_free(l.y);
        cs_free(l.r);
    }
    return !failed;
}

static bool arrays_ok(size_t n, const void *a, const void *b, const void *c, const void *d)
{
    return n == 0 || (a && b && c && d);
}

/* The demand points in the cells of one catchment; each kind weighs them its own way. */
struct cs_access_cells {
    double catchment_m;
    size_t n;     /* the points given */
    size_t kept;  /* of which with a position (0: nothing to reach) */
    geometry g;
    cell_set pts; /* without weights */
};

cs_access_cells *cs_access_cells_create(double catchment_m, const double *px, const double *py,
                                        size_t N, const cs_access_extent *extent, int threads)
{
    cs_access_cells *c = cs_calloc(1, sizeof *c);
    unsigned char *keep = cs_malloc(N + 1);
    bool ok = c && keep && (N == 0 || (px && py));
    if (ok) {
        c->catchment_m = catchment_m;
        c->n = N;
        cs_access_extent own;
        c->kept = mark_points(px, py, N, keep, own.box);
        own.points = c->kept;
        if (c->kept) {
            make_geometry(&c->g, catchment_m, own.box, extent ? extent : &own);
            ok = fill_cells(&c->pts, &c->g, px, py, NULL, keep, N, cs_team_size(threads));
        }
    }
    cs_free(keep);
    if (!ok) {
        cs_access_cells_destroy(c);
        return NULL;
    }
    cs_free(c->pts.w); /* each kind has its own */
    c->pts.w = NULL;
    return c;
}

cs_access_extent cs_access_extent_of(const double *px, const double *py, size_t N)
{
    cs_access_extent e;
    e.points = mark_points(px, py, N, NULL, e.box);
    return e;
}

void cs_access_cells_destroy(cs_access_cells *c)
{
    if (!c)
        return;
    cell_set_free(&c->pts);
    cs_free(c);
}

double cs_access_cells_catchment(const cs_access_cells *c) { return c->catchment_m; }

/* The shared cells' points weighed by this kind's demand (their own weights; the rest
 * borrowed): false without memory. */
static bool weigh_points(const cs_access_cells *c, const double *demand, int nt, cell_set *pts)
{
    *pts = c->pts;
    pts->w = cs_reallocarray(NULL, c->kept, sizeof *pts->w);
    if (!pts->w)
        return false;
    long kept = (long)c->kept;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (kept > PARALLEL_POINTS)
#else
    (void)nt;
#endif
    for (long k = 0; k < kept; k++)
        pts->w[k] = people(demand, c->pts.cells.item[k]);
    return true;
}

/* 3SFCA's first pass: each point's sum of W over the facilities kept (step 2 with every
 * ratio 1) into choice; then the points' people over their sums, for step 1. */
static bool three_step_sums(const geometry *g, const cs_access_cells *cells, cell_set *pts,
                            cell_set *fac, const long *off, size_t noff, const weigher *w,
                            int nt, double *choice)
{
    for (size_t k = 0; k < fac->n; k++)
        fac->w[k] = 1.0;
    if (!straight_step2(g, pts, fac, off, noff, w, 1.0, nt, choice))
        return false;
    for (size_t k = 0; k < cells->kept; k++) {
        double c = choice[cells->pts.cells.item[k]];
        pts->w[k] = c > 0 ? pts->w[k] / c : 0.0;
    }
    return true;
}

cs_status cs_access_straight(const cs_access_spec *s, const double *fx, const double *fy,
                             const double *supply, size_t F, const double *px,
                             const double *py, const double *demand, size_t N,
                             const cs_access_cells *cells, int threads, double *ratio,
                             double *access, unsigned char *state)
{
    if (cs_access_spec_check(s) != CS_OK || !arrays_ok(F, fx, fy, supply, ratio) ||
        !arrays_ok(N, px, py, demand, access) ||
        (cells && (cells->n != N || cells->catchment_m != s->catchment_m)))
        return CS_ERR_ARGUMENT;
    weigher w = make_weigher(s);
    int nt = cs_team_size(threads);
    for (size_t j = 0; j < F; j++) {
        ratio[j] = 0.0;
        if (state)
            state[j] = CS_ACCESS_NO_DEMAND;
    }
    for (size_t i = 0; i < N; i++)
        access[i] = 0.0;

    cs_status status = CS_ERR_NOMEM;
    cs_access_cells *own =
        cells ? NULL : cs_access_cells_create(s->catchment_m, px, py, N, NULL, threads);
    cell_set pts = {0}, fac = {0};
    long *off = NULL;
    double *choice = NULL; /* 3SFCA: each point's sum of weights */
    unsigned char *keep = cs_malloc(F + 1);
    if (!keep || !(cells = cells ? cells : own))
        goto done;
    if (cells->kept == 0) {
        /* Nothing to reach: every facility with supply has no demand in reach. */
        for (size_t j = 0; j < F && state; j++) {
            if (!has_supply(supply, j) || !isfinite(fx[j]) || !isfinite(fy[j]))
                state[j] = CS_ACCESS_IGNORED;
        }
        status = CS_OK;
        goto done;
    }
    const geometry *g = &cells->g;
    if (!weigh_points(cells, demand, nt, &pts))
        goto done;

    /* Facilities with supply and a position; those outside the padded grid reach no
     * point, so they stay at R_j = 0, no demand (fill_cells leaves them out). */
    for (size_t j = 0; j < F; j++) {
        keep[j] = has_supply(supply, j) && isfinite(fx[j]) && isfinite(fy[j]);
        if (!keep[j] && state)
            state[j] = CS_ACCESS_IGNORED;
    }
    if (!fill_cells(&fac, g, fx, fy, NULL, keep, F, nt))
        goto done;
    size_t noff = 0;
    off = reach_offsets(g, s->catchment_m, &noff);
    if (!off)
        goto done;
    if (s->three_step) { /* the two steps below weigh W G = W^2 / each point's sum */
        if (!(choice = cs_calloc(N + 1, sizeof *choice)) ||
            !three_step_sums(g, cells, &pts, &fac, off, noff, &w, nt, choice))
            goto done;
        w = squared(w);
    }
    straight_step1(g, &pts, &fac, &w, supply, nt, ratio, state);
    if (!straight_step2(g, &pts, &fac, off, noff, &w, s->per, nt, access))
        goto done;
    for (size_t i = 0; choice && i < N; i++)
        access[i] = choice[i] > 0 ? access[i] / choice[i] : 0.0;
    status = CS_OK;
done:
    cs_free(choice);
    cs_free(keep);
    cs_free(off);
    cs_free(pts.w); /* the rest of pts is the cells' */
    cell_set_free(&fac);
    cs_access_cells_destroy(own);
    return status;
}

/* -------------------------------------------------------------- pairs engine */

bool cs_access_pairs_reserve(cs_access_pairs_buf *buf, size_t need)
{
    if (need <= buf->cap)
        return true;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof(double))
            return false;
        cap *= 2;
    }
    /* Either array may end up larger than cap; cap only grows once both have. */
    long *pt = cs_reallocarray(buf->pt, cap, sizeof *pt);
    if (!pt)
        return false;
    buf->pt = pt;
    double *cost = cs_reallocarray(buf->cost, cap, sizeof *cost);
    if (!cost)
        return false;
    buf->cost = cost;
    buf->cap = cap;
    return true;
}

enum { PAIRS_OK = 0, PAIRS_NOMEM = 1, PAIRS_BAD = 2 };

/* List facility j's pairs into buf; *n their count. Returns a PAIRS_* verdict. */
static int list_pairs(cs_access_pairs_fn pairs, void *data, size_t j, size_t N,
                      cs_access_pairs_buf *buf, size_t *n)
{
    *n = pairs(data, j, buf);
    if (*n == (size_t)-1) {
        *n = 0;
        return PAIRS_NOMEM;
    }
    if (*n > buf->cap)
        return PAIRS_BAD;
    for (size_t p = 0; p < *n; p++) {
        if (buf->pt[p] < 0 || (size_t)buf->pt[p] >= N)
            return PAIRS_BAD;
    }
    return PAIRS_OK;
}

/* Keep the worst verdict: running out of memory outranks a bad pair. */
static void note_verdict(int *worst, int v)
{
    if (v == PAIRS_OK)
        return;
#ifdef _OPENMP
#pragma omp critical(cs_access_verdict)
#endif
    {
        if (*worst == PAIRS_OK || v == PAIRS_NOMEM)
            *worst = v;
    }
}

/* A pair's weight: W, or for 3SFCA W G = W^2 / (resident i's sum of weights). */
static inline double pair_weight(const weigher *w, const double *choice, long i, double cost)
{
    double v = weigh(w, cost);
    return choice && v > 0 ? v * v / choice[i] : v;
}

static void pairs_step1(const weigher *w, const double *choice, const double *supply,
                        size_t from, size_t to, const double *demand, size_t N,
                        cs_access_pairs_fn pairs, void *data, cs_access_pairs_buf *bufs, int nt,
                        int *verdict, double *ratio, unsigned char *state)
{
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
#else
    (void)nt;
#endif
    for (size_t j = from; j < to; j++) {
        ratio[j] = 0.0;
        if (!has_supply(supply, j)) {
            if (state)
                state[j] = CS_ACCESS_IGNORED;
            continue;
        }
        cs_access_pairs_buf *buf = &bufs[j - from];
        size_t n;
        int v = list_pairs(pairs, data, j, N, buf, &n);
        if (v != PAIRS_OK) {
            note_verdict(verdict, v);
            continue;
        }
        double den = 0;
        for (size_t p = 0; p < n; p++)
            den += people(demand, (size_t)buf->pt[p]) *
                   pair_weight(w, choice, buf->pt[p], buf->cost[p]);
        double r = den > 0 ? supply[j] / den : 0.0;
        ratio[j] = isfinite(r) ? r : 0.0;
        if (state)
            state[j] = ratio[j] > 0 ? CS_ACCESS_SERVED : CS_ACCESS_NO_DEMAND;
    }
}

/* Step 2 for facilities [from, to): list in parallel, turning costs into R_j W(d) (or
 * R_j W G), then add into access[] in facility order. */
static void pairs_step2(const weigher *w, const double *choice, size_t from, size_t to,
                        size_t N, cs_access_pairs_fn pairs, void *data,
                        cs_access_pairs_buf *bufs, size_t *counts, int nt, int *verdict,
                        const double *ratio, double *access)
{
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
#else
    (void)nt;
#endif
    for (size_t j = from; j < to; j++) {
        cs_access_pairs_buf *buf = &bufs[j - from];
        counts[j - from] = 0;
        if (!(ratio[j] > 0))
            continue;
        size_t n;
        int v = list_pairs(pairs, data, j, N, buf, &n);
        if (v != PAIRS_OK) {
            note_verdict(verdict, v);
            continue;
        }
        for (size_t p = 0; p < n; p++)
            buf->cost[p] = ratio[j] * pair_weight(w, choice, buf->pt[p], buf->cost[p]);
        counts[j - from] = n;
    }
    if (*verdict != PAIRS_OK)
        return;
    for (size_t j = from; j < to; j++) {
        const cs_access_pairs_buf *buf = &bufs[j - from];
        for (size_t p = 0; p < counts[j - from]; p++)
            access[buf->pt[p]] += buf->cost[p];
    }
}

cs_status cs_access_pairs(const cs_access_spec *s, const double *supply, size_t F,
                          const double *demand, size_t N, cs_access_pairs_fn pairs,
                          void *data, int threads, double *ratio, double *access,
                          unsigned char *state)
{
    if (cs_access_spec_check(s) != CS_OK || (F > 0 && (!supply || !ratio || !pairs)) ||
        (N > 0 && (!demand || !access)))
        return CS_ERR_ARGUMENT;
    weigher w = make_weigher(s);
    int nt = cs_team_size(threads);
    for (size_t i = 0; i < N; i++)
        access[i] = 0.0;
    size_t chunk = F < PAIRS_CHUNK ? F : PAIRS_CHUNK;
    cs_access_pairs_buf *bufs = cs_calloc(chunk ? chunk : 1, sizeof *bufs);
    size_t *counts = cs_calloc(chunk ? chunk : 1, sizeof *counts);
    double *choice = NULL; /* 3SFCA: each resident's sum of weights */
    int verdict = PAIRS_OK;
    if (!bufs || !counts) {
        verdict = PAIRS_NOMEM;
        goto done;
    }
    /* 3SFCA: each resident's sum of weights over the facilities with supply, by step 2
     * with every such facility's ratio 1 */
    if (s->three_step && !(choice = cs_calloc(N + 1, sizeof *choice)))
        verdict = PAIRS_NOMEM;
    for (size_t j = 0; choice && j < F; j++)
        ratio[j] = has_supply(supply, j) ? 1.0 : 0.0;
    for (size_t from = 0; choice && from < F && verdict == PAIRS_OK; from += chunk) {
        size_t to = F - from > chunk ? from + chunk : F;
        pairs_step2(&w, NULL, from, to, N, pairs, data, bufs, counts, nt, &verdict, ratio,
                    choice);
    }
    for (size_t from = 0; from < F && verdict == PAIRS_OK; from += chunk) {
        size_t to = F - from > chunk ? from + chunk : F;
        pairs_step1(&w, choice, supply, from, to, demand, N, pairs, data, bufs, nt, &verdict,
                    ratio, state);
    }
    for (size_t from = 0; from < F && verdict == PAIRS_OK; from += chunk) {
        size_t to = F - from > chunk ? from + chunk : F;
        pairs_step2(&w, choice, from, to, N, pairs, data, bufs, counts, nt, &verdict, ratio,
                    access);
    }
    for (size_t i = 0; i < N; i++)
        access[i] = s->per * access[i];
done:
    for (size_t k = 0; bufs && k < chunk; k++) {
        cs_free(bufs[k].pt);
        cs_free(bufs[k].cost);
    }
    cs_free(bufs);
    cs_free(counts);
    cs_free(choice);
    return verdict == PAIRS_OK ? CS_OK : verdict == PAIRS_NOMEM ? CS_ERR_NOMEM
                                                                : CS_ERR_ARGUMENT;
}
