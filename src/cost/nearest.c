/*
 * nearest.c — a static k-d tree over 2-D points, the engine of the straight-line cost
 * field. Millions of demand points each ask once for their nearest facility, so the
 * tree is built once into flat arrays (nodes in preorder, points reordered so every
 * node owns a contiguous run) and queries walk it without allocating. The batch query
 * visits the demand points in Morton order and seeds each search with the previous
 * answer, which makes the bound tight from the first step.
 *
 * Every answer is the lexicographic minimum of (squared distance, original index) over
 * all points; pruning never discards a point that could tie, so the result does not
 * depend on the order of queries, on the seed, or on the number of threads.
 *
 * A search also notices, at almost no cost, when another point sits at exactly the
 * same squared distance (a tie it resolves by index); only those rare queries are
 * asked again for all their tied points (cs_point_index_ties).
 */
#include "cost/nearest.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Points per leaf: a leaf is scanned linearly, which is cheaper than descending further
 * once a run of points fits in a few cache lines. */
#define LEAF_SIZE 16
/* A tree over at most UINT32_MAX points is at most 32 levels deep; one stacked sibling
 * per level. */
#define STACK_DEPTH 64
/* Batch queries handed to a thread at a time; each chunk starts unseeded and keeps
 * 32 bytes a query on the stack. */
#define CHUNK 1024
/* Below this many queries the Morton sort costs more than it saves. */
#define SORT_MIN 4096
/* Bits per axis of the Morton key that orders batch queries. */
#define MORTON_BITS 12

/* For finite values only; unlike fmin/fmax these inline instead of calling libm. */
static inline double dmin(double a, double b)
{
    return a < b ? a : b;
}
static inline double dmax(double a, double b)
{
    return a > b ? a : b;
}

typedef struct node {
    double x0, y0, x1, y1; /* bounding box of the node's points (not split planes) */
    uint32_t lo, hi;       /* the node's points are xy[lo..hi) in tree order */
    uint32_t right;        /* right child; 0 for a leaf (left child is this + 1) */
} node;

struct cs_point_index {
    size_t n;
    double *xy;     /* interleaved coordinates in tree order */
    uint32_t *id;   /* original index of each point in tree order */
    node *nodes;
    size_t node_count;
};

/* ------------------------------------------------------------------ build */

static size_t count_nodes(size_t m)
{
    if (m <= LEAF_SIZE)
        return 1;
    return 1 + count_nodes(m / 2) + count_nodes(m - m / 2);
}

/* Strict order on (coordinate, original index): duplicates are distinct keys, so the
 * partition below never degrades on many equal coordinates. */
static int key_less(const double *xy, const uint32_t *id, int axis, uint32_t a, uint32_t b)
{
    double ka = xy[2 * (size_t)a + axis], kb = xy[2 * (size_t)b + axis];
    return ka < kb || (ka == kb && id[a] < id[b]);
}

static void swap_points(double *xy, uint32_t *id, uint32_t a, uint32_t b)
{
    double tx = xy[2 * (size_t)a], ty = xy[2 * (size_t)a + 1];
    xy[2 * (size_t)a] = xy[2 * (size_t)b];
    xy[2 * (size_t)a + 1] = xy[2 * (size_t)b + 1];
    xy[2 * (size_t)b] = tx;
    xy[2 * (size_t)b + 1] = ty;
    uint32_t t = id[a];
    id[a] = id[b];
    id[b] = t;
}

/* Rearrange [lo, hi) so position k holds the element of rank k and everything left of
 * it is smaller (nth_element). The pivot position is a hash of the range, which keeps
 * the build deterministic while making sorted or patterned input harmless. */
static void select_kth(double *xy, uint32_t *id, int axis, uint32_t lo, uint32_t hi,
                       uint32_t k)
{
    while (hi - lo > 1) {
        uint32_t h = (lo * 2654435761u) ^ (hi * 40503u);
        uint32_t p = lo + h % (hi - lo);
        swap_points(xy, id, p, hi - 1);
        uint32_t store = lo;
        for (uint32_t i = lo; i < hi - 1; i++) {
            if (key_less(xy, id, axis, i, hi - 1))
                swap_points(xy, id, i, store++);
        }
        swap_points(xy, id, store, hi - 1);
        if (store == k)
            return;
        if (k < store)
            hi = store;
        else
            lo = store + 1;
    }
}

/* Build the subtree over xy[lo..hi) at nodes[*next...]; returns its node index. */
static uint32_t build(cs_point_index *ix, uint32_t lo, uint32_t hi, uint32_t *next)
{
    uint32_t self = (*next)++;
    node *nd = &ix->nodes[self];
    nd->x0 = nd->y0 = INFINITY;
    nd->x1 = nd->y1 = -INFINITY;
    for (uint32_t i = lo; i < hi; i++) {
        double x = ix->xy[2 * (size_t)i], y = ix->xy[2 * (size_t)i + 1];
        nd->x0 = dmin(nd->x0, x);
        nd->x1 = dmax(nd->x1, x);
        nd->y0 = dmin(nd->y0, y);
        nd->y1 = dmax(nd->y1, y);
    }
    nd->lo = lo;
    nd->hi = hi;
    nd->right = 0;
    if (hi - lo <= LEAF_SIZE)
        return self;
    /* Split the wider side at the median; even an all-duplicate run splits in half. */
    int axis = (nd->x1 - nd->x0) >= (nd->y1 - nd->y0) ? 0 : 1;
    uint32_t mid = lo + (hi - lo) / 2;
    select_kth(ix->xy, ix->id, axis, lo, hi, mid);
    build(ix, lo, mid, next);
    uint32_t right = build(ix, mid, hi, next);
    nd->right = right; /* nodes never move: the array was sized before the build */
    return self;
}

cs_status cs_point_index_create(const double *x, const double *y, size_t n,
                                cs_point_index **out)
{
    if (!out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    if (n > 0 && (!x || !y))
        return CS_ERR_ARGUMENT;
    if (n >= UINT32_MAX)
        return CS_ERR_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return CS_ERR_ARGUMENT;
    }
    cs_status status = CS_ERR_NOMEM;
    cs_point_index *ix = cs_calloc(1, sizeof *ix);
    if (!ix)
        goto done;
    ix->n = n;
    if (n == 0) {
        status = CS_OK;
        goto done;
    }
    ix->node_count = count_nodes(n);
    ix->xy = cs_reallocarray(NULL, n, 2 * sizeof *ix->xy);
    ix->id = cs_reallocarray(NULL, n, sizeof *ix->id);
    ix->nodes = cs_reallocarray(NULL, ix->node_count, sizeof *ix->nodes);
    if (!ix->xy || !ix->id || !ix->nodes)
        goto done;
    for (size_t i = 0; i < n; i++) {
        ix->xy[2 * i] = x[i];
        ix->xy[2 * i + 1] = y[i];
        ix->id[i] = (uint32_t)i;
    }
    uint32_t next = 0;
    build(ix, 0, (uint32_t)n, &next);
    assert(next == ix->node_count);
    status = CS_OK;
done:
    if (status != CS_OK) {
        cs_point_index_destroy(ix);
        ix = NULL;
    }
    *out = ix;
    return status;
}

void cs_point_index_destroy(cs_point_index *index)
{
    if (!index)
        return;
    cs_free(index->xy);
    cs_free(index->id);
    cs_free(index->nodes);
    cs_free(index);
}

/* ----------------------------------------------------------------- nearest */

/* Squared distance from (qx, qy) to a node's box. Floating-point rounding is monotone,
 * so this never exceeds the computed squared distance of any point inside: pruning on
 * it is exact, not just approximately right. */
static inline double box_d2(const node *nd, double qx, double qy)
{
    /* Plain comparisons, not fmax: libm's fmax is a call, and this is the hot spot. */
    double dx = nd->x0 - qx > 0 ? nd->x0 - qx : (qx - nd->x1 > 0 ? qx - nd->x1 : 0.0);
    double dy = nd->y0 - qy > 0 ? nd->y0 - qy : (qy - nd->y1 > 0 ? qy - nd->y1 : 0.0);
    return dx * dx + dy * dy;
}

/* The running answer of one search: tree position, original index, squared distance,
 * and tie_d2: the squared distance at which two points were last met at once. There is
 * a tie exactly when tie_d2 equals the final d2 (d2 only ever falls, so a stale tie_d2
 * never matches). */
typedef struct best {
    double d2, tie_d2;
    uint32_t pos, id;
} best;

/* A node can hold a better answer, or a tie, only if its box is no farther. Equally far
 * boxes are entered too, so every tie is met and noticed, not pruned by index: such
 * boxes are rare but for piles of points at one spot. */
static inline int can_improve(double lb, const best *b)
{
    return lb <= b->d2;
}

static inline void scan_leaf(const cs_point_index *ix, const node *nd, double qx, double qy,
                             best *b)
{
    for (uint32_t j = nd->lo; j < nd->hi; j++) {
        double dx = ix->xy[2 * (size_t)j] - qx, dy = ix->xy[2 * (size_t)j + 1] - qy;
        double d2 = dx * dx + dy * dy;
        if (d2 > b->d2)
            continue;
        if (d2 == b->d2) {
            if (ix->id[j] == b->id)
                continue; /* the seed itself */
            b->tie_d2 = d2;
            if (ix->id[j] > b->id)
                continue;
        }
        b->d2 = d2;
        b->pos = j;
        b->id = ix->id[j];
    }
}

/* Depth-first search, nearer child first; the farther one waits on the stack with its
 * lower bound, re-checked when popped because the bound will have tightened. */
static void search(const cs_point_index *ix, double qx, double qy, best *b)
{
    struct { uint32_t node; double lb; } stack[STACK_DEPTH];
    int top = 0;
    uint32_t cur = 0;
    double lb = box_d2(&ix->nodes[0], qx, qy);
    for (;;) {
        const node *nd = &ix->nodes[cur];
        if (can_improve(lb, b)) {
            if (nd->right == 0) {
                scan_leaf(ix, nd, qx, qy, b);
            } else {
                uint32_t l = cur + 1, r = nd->right;
                double dl = box_d2(&ix->nodes[l], qx, qy);
                double dr = box_d2(&ix->nodes[r], qx, qy);
                assert(top < STACK_DEPTH);
                if (dl <= dr) {
                    stack[top].node = r;
                    stack[top++].lb = dr;
                    cur = l;
                    lb = dl;
                } else {
                    stack[top].node = l;
                    stack[top++].lb = dl;
                    cur = r;
                    lb = dr;
                }
                continue;
            }
        }
        if (top == 0)
            return;
        top--;
        cur = stack[top].node;
        lb = stack[top].lb;
    }
}

/* One query, optionally seeded with a tree position whose distance bounds the answer.
 * Returns the original index, or -1 for an empty index or a non-finite query; *tied
 * says whether another point may be at the same distance. */
static long query(const cs_point_index *ix, double qx, double qy, long seed_pos, double *d,
                  long *pos_out, bool *tied)
{
    *tied = false;
    if (ix->n == 0 || !isfinite(qx) || !isfinite(qy)) {
        *d = ix->n == 0 ? INFINITY : NAN;
        *pos_out = -1;
        return -1;
    }
    best b = {INFINITY, -1, 0, UINT32_MAX};
    if (seed_pos >= 0) {
        uint32_t s = (uint32_t)seed_pos;
        double dx = ix->xy[2 * (size_t)s] - qx, dy = ix->xy[2 * (size_t)s + 1] - qy;
        b.d2 = dx * dx + dy * dy;
        b.pos = s;
        b.id = ix->id[s];
    }
    search(ix, qx, qy, &b);
    *tied = b.tie_d2 == b.d2;
    *d = sqrt(b.d2);
    *pos_out = b.pos;
    return (long)b.id;
}

long cs_point_index_nearest(const cs_point_index *index, double qx, double qy, double *dist_m)
{
    assert(index && dist_m);
    long pos;
    bool tied;
    return query(index, qx, qy, -1, dist_m, &pos, &tied);
}

/* Collect every point at squared distance d2 exactly; nodes whose box is farther are
 * skipped (box_d2 never exceeds a point's computed squared distance). */
static bool collect_ties(const cs_point_index *ix, double qx, double qy, double d2, long **out,
                         size_t *cap, size_t *count)
{
    uint32_t stack[STACK_DEPTH];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
        const node *nd = &ix->nodes[stack[--top]];
        if (box_d2(nd, qx, qy) > d2)
            continue;
        if (nd->right != 0) {
            assert(top + 2 <= STACK_DEPTH);
            stack[top++] = nd->right;
            stack[top++] = (uint32_t)(nd - ix->nodes) + 1;
            continue;
        }
        for (uint32_t j = nd->lo; j < nd->hi; j++) {
            double dx = ix->xy[2 * (size_t)j] - qx, dy = ix->xy[2 * (size_t)j + 1] - qy;
            if (dx * dx + dy * dy != d2)
                continue;
            if (!cs_grow((void **)out, cap, *count + 1, sizeof **out))
                return false;
            (*out)[(*count)++] = (long)ix->id[j];
        }
    }
    return true;
}

size_t cs_point_index_ties(const cs_point_index *index, double qx, double qy, long **out,
                           size_t *cap)
{
    assert(index && out && cap);
    size_t count = 0;
    if (index->n == 0 || !isfinite(qx) || !isfinite(qy))
        return 0;
    best b = {INFINITY, -1, 0, UINT32_MAX};
    search(index, qx, qy, &b);
    if (!collect_ties(index, qx, qy, b.d2, out, cap, &count))
        return (size_t)-1;
    if (count > 1 && !cs_sort_ids(*out, count, index->n))
        return (size_t)-1;
    return count;
}

/* ------------------------------------------------------------- batch query */

/* Spread the low 16 bits of v to the even bit positions. */
static uint32_t spread_bits(uint32_t v)
{
    v &= 0xffffu;
    v = (v | (v << 8)) & 0x00ff00ffu;
    v = (v | (v << 4)) & 0x0f0f0f0fu;
    v = (v | (v << 2)) & 0x33333333u;
    v = (v | (v << 1)) & 0x55555555u;
    return v;
}

static uint32_t quantize(double v, double lo, double scale)
{
    double q = (v - lo) * scale;
    if (!(q > 0))
        return 0;
    if (q >= (double)((1u << MORTON_BITS) - 1))
        return (1u << MORTON_BITS) - 1;
    return (uint32_t)q;
}

struct cs_query_order {
    size_t n;
    uint64_t *keys; /* Morton key << 32 | input position, sorted */
};

cs_query_order *cs_query_order_create(const double *qx, const double *qy, size_t n)
{
    if (n < SORT_MIN || n > UINT32_MAX)
        return NULL;
    cs_query_order *order = cs_malloc(sizeof *order);
    uint64_t *keys = cs_reallocarray(NULL, n, sizeof *keys);
    uint64_t *tmp = cs_reallocarray(NULL, n, sizeof *tmp);
    if (!order || !keys || !tmp) {
        cs_free(order);
        cs_free(keys);
        cs_free(tmp);
        (void)cs_take_nomem(); /* not an error: the queries go in input order */
        return NULL;
    }
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(qx[i]) && isfinite(qy[i])) {
            x0 = dmin(x0, qx[i]);
            x1 = dmax(x1, qx[i]);
            y0 = dmin(y0, qy[i]);
            y1 = dmax(y1, qy[i]);
        }
    }
    /* One scale for both axes keeps cells square, so Morton neighbours are near. */
    double extent = dmax(x1 - x0, y1 - y0);
    double scale = extent > 0 ? (double)(1u << MORTON_BITS) / extent : 0.0;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = spread_bits(quantize(qx[i], x0, scale)) |
                       (spread_bits(quantize(qy[i], y0, scale)) << 1);
        keys[i] = ((uint64_t)key << 32) | (uint64_t)i;
    }
    order->n = n;
    order->keys = cs_radix_sort_upper(keys, tmp, n, 2 * MORTON_BITS);
    cs_free(order->keys == keys ? tmp : keys);
    return order;
}

void cs_query_order_destroy(cs_query_order *order)
{
    if (!order)
        return;
    cs_free(order->keys);
    cs_free(order);
}

/* Answer queries [from, to) of the visiting order (at most CHUNK), each seeded with the
 * one before. The queries are gathered into local arrays first and the answers
 * scattered back after: in Morton order the input positions are all over memory, and a
 * tight copy loop overlaps those cache misses where the search loop would stall on
 * each one. */
static void run_chunk(const cs_point_index *ix, const double *qx, const double *qy,
                      const uint64_t *order, size_t from, size_t to, double *dist_m,
                      long *nearest_out, unsigned char *tied_out)
{
    double cx[CHUNK], cy[CHUNK], cd[CHUNK];
    long cn[CHUNK];
    bool ct[CHUNK];
    size_t m = to - from;
    assert(m <= CHUNK);
    for (size_t k = 0; k < m; k++) {
        size_t i = order ? (size_t)(order[from + k] & 0xffffffffu) : from + k;
        cx[k] = qx[i];
        cy[k] = qy[i];
    }
    long seed = -1;
    for (size_t k = 0; k < m; k++) {
        long pos;
        cn[k] = query(ix, cx[k], cy[k], seed, &cd[k], &pos, &ct[k]);
        if (pos >= 0)
            seed = pos;
    }
    for (size_t k = 0; k < m; k++) {
        size_t i = order ? (size_t)(order[from + k] & 0xffffffffu) : from + k;
        dist_m[i] = cd[k];
        if (nearest_out)
            nearest_out[i] = cn[k];
        if (tied_out)
            tied_out[i] = ct[k];
    }
}

void cs_point_index_nearest_all(const cs_point_index *index, const double *qx,
                                const double *qy, size_t n, int threads, double *dist_m,
                                long *nearest_out)
{
    cs_point_index_nearest_all_tied(index, qx, qy, n, NULL, threads, dist_m, nearest_out,
                                    NULL);
}

void cs_point_index_nearest_all_tied(const cs_point_index *index, const double *qx,
                                     const double *qy, size_t n, const cs_query_order *given,
                                     int threads, double *dist_m, long *nearest_out,
                                     unsigned char *tied_out)
{
    assert(index && (n == 0 || (qx && qy && dist_m)));
    if (n == 0)
        return;
    bool usable = given && given->n == n; /* one made for other points is not */
    cs_query_order *own = usable ? NULL : cs_query_order_create(qx, qy, n);
    const cs_query_order *use = usable ? given : own;
    const uint64_t *order = use ? use->keys : NULL;
    size_t chunks = (n + CHUNK - 1) / CHUNK;
#ifdef _OPENMP
    int team = threads > 0 ? threads : omp_get_max_threads();
    if ((size_t)team > chunks)
        team = (int)chunks;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
#else
    (void)threads;
#endif
    for (size_t c = 0; c < chunks; c++) {
        size_t to = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
        run_chunk(index, qx, qy, order, c * CHUNK, to, dist_m, nearest_out, tied_out);
    }
    cs_query_order_destroy(own);
}

/* ------------------------------------------------------------------ within */

/* Farthest squared distance from (qx, qy) to a node's box; bounds every point inside. */
static double box_max_d2(const node *nd, double qx, double qy)
{
    double dx = dmax(fabs(nd->x0 - qx), fabs(nd->x1 - qx));
    double dy = dmax(fabs(nd->y0 - qy), fabs(nd->y1 - qy));
    return dx * dx + dy * dy;
}

static bool append_run(const cs_point_index *ix, const node *nd, double qx, double qy,
                       double r_m, bool all, long **out, size_t *cap, size_t *count)
{
    if (!cs_grow((void **)out, cap, *count + (nd->hi - nd->lo), sizeof **out))
        return false;
    for (uint32_t j = nd->lo; j < nd->hi; j++) {
        double dx = ix->xy[2 * (size_t)j] - qx, dy = ix->xy[2 * (size_t)j + 1] - qy;
        /* The test is on the distance nearest() would report, so the two agree at the
         * boundary. */
        if (all || sqrt(dx * dx + dy * dy) <= r_m)
            (*out)[(*count)++] = (long)ix->id[j];
    }
    return true;
}

size_t cs_point_index_within(const cs_point_index *index, double qx, double qy, double r_m,
                             long **out, size_t *cap)
{
    assert(index && out && cap);
    size_t count = 0;
    /* A NaN would defeat every bound and walk the whole tree to find nothing. */
    if (index->n == 0 || isnan(qx) || isnan(qy) || !(r_m >= 0))
        return 0;
    uint32_t stack[STACK_DEPTH];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
        const node *nd = &index->nodes[stack[--top]];
        if (!(sqrt(box_d2(nd, qx, qy)) <= r_m))
            continue;
        bool all = sqrt(box_max_d2(nd, qx, qy)) <= r_m;
        if (all || nd->right == 0) {
            if (!append_run(index, nd, qx, qy, r_m, all, out, cap, &count))
                return (size_t)-1;
        } else {
            assert(top + 2 <= STACK_DEPTH);
            stack[top++] = nd->right;
            stack[top++] = (uint32_t)(nd - index->nodes) + 1;
        }
    }
    if (count > 1 && !cs_sort_ids(*out, count, index->n))
        return (size_t)-1;
    return count;
}
