/*
 * test_access.c — capacity-aware accessibility (2SFCA / E2SFCA): a published worked
 * example, hand-worked cases for every decay, both engines against an O(F*N) brute force
 * written from the definitions (points exactly at the catchment, duplicates, facilities
 * with no demand in reach), bit-identical results on any thread count, the conservation
 * property, edge cases, bad arguments and allocation failures.
 */
#include "testutil.h"

#include "access/access.h"
#include "core/core.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static double *alloc_doubles(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static cs_access_spec spec_none(double d0, double per)
{
    cs_access_spec s;
    memset(&s, 0, sizeof s);
    s.catchment_m = d0;
    s.decay = CS_DECAY_NONE;
    s.per = per;
    return s;
}

static cs_access_spec spec_of(cs_decay decay, double d0, double per)
{
    cs_access_spec s = spec_none(d0, per);
    s.decay = decay;
    s.beta = decay == CS_DECAY_POWER ? 1.5 : 2; /* gravity: per km for exponential */
    s.min_m = 50;
    if (decay == CS_DECAY_STEPS) {
        /* Luo & Qi's three zones, scaled to the catchment. */
        s.step_count = 3;
        s.step_m[0] = d0 / 3;
        s.step_m[1] = 2 * d0 / 3;
        s.step_m[2] = d0;
        s.step_w[0] = 1;
        s.step_w[1] = 0.68;
        s.step_w[2] = 0.22;
    }
    return s;
}

static bool close_to(double got, double want, double rel)
{
    double scale = fmax(fabs(got), fabs(want));
    return fabs(got - want) <= rel * scale;
}

#define assert_close(got, want, rel)                                                    \
    do {                                                                                \
        double g_ = (got), w_ = (want);                                                 \
        if (!close_to(g_, w_, (rel)))                                                   \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                           \
    } while (0)

/* One problem: facilities and demand points. */
typedef struct problem {
    size_t F, N;
    double *fx, *fy, *supply;
    double *px, *py, *demand;
} problem;

static void problem_alloc(problem *p, size_t F, size_t N)
{
    p->F = F;
    p->N = N;
    p->fx = alloc_doubles(F);
    p->fy = alloc_doubles(F);
    p->supply = alloc_doubles(F);
    p->px = alloc_doubles(N);
    p->py = alloc_doubles(N);
    p->demand = alloc_doubles(N);
}

static void problem_free(problem *p)
{
    free(p->fx), free(p->fy), free(p->supply), free(p->px), free(p->py), free(p->demand);
}

/* Random facilities and points in an 8 km square with every awkward case: facilities on
 * whole metres with points exactly d0 away (on both axes and on a 3-4-5 diagonal),
 * facilities far outside with no demand in reach, no or bad supply, a NaN position;
 * duplicate points, zero, negative and NaN demand, a point with no position. */
static void make_problem(problem *p, size_t F, size_t N, double d0, uint64_t seed)
{
    problem_alloc(p, F, N);
    uint64_t s = seed;
    size_t i = 0;
    for (size_t j = 0; j < F; j++) {
        p->fx[j] = tu_rng_unit(&s) * 8000;
        p->fy[j] = tu_rng_unit(&s) * 8000;
        p->supply[j] = 1 + (double)(tu_rng_next(&s) % 20);
        if (j % 5 == 0) {
            p->fx[j] = floor(p->fx[j]);
            p->fy[j] = floor(p->fy[j]);
            double ex[4][2] = {{d0, 0}, {0, -d0}, {0.6 * d0, 0.8 * d0}, {-0.8 * d0, 0.6 * d0}};
            for (int k = 0; k < 4 && i < N; k++, i++) {
                p->px[i] = p->fx[j] + ex[k][0];
                p->py[i] = p->fy[j] + ex[k][1];
                p->demand[i] = 1 + (double)(tu_rng_next(&s) % 50);
            }
        }
        if (j % 11 == 3) { /* far away: no demand in reach */
            p->fx[j] = 1e5 + tu_rng_unit(&s) * 1000;
        }
        if (j % 13 == 5) { /* just outside the square: reaches only its border */
            p->fx[j] = -d0 * 0.9;
        }
    }
    for (; i < N; i++) {
        if (i > 10 && tu_rng_next(&s) % 10 == 0) { /* a duplicate of an earlier point */
            size_t k = (size_t)(tu_rng_next(&s) % i);
            p->px[i] = p->px[k];
            p->py[i] = p->py[k];
        } else {
            p->px[i] = tu_rng_unit(&s) * 8000;
            p->py[i] = tu_rng_unit(&s) * 8000;
        }
        p->demand[i] = tu_rng_next(&s) % 7 == 0 ? 0 : (double)(tu_rng_next(&s) % 200);
    }
    if (F > 6) {
        p->supply[1] = 0;
        p->supply[2] = -3;
        p->supply[4] = NAN;
        p->fx[6] = NAN;
    }
    if (N > 20) {
        p->demand[7] = NAN;
        p->demand[8] = -50;
        p->px[9] = NAN;
        p->demand[9] = 100;
    }
}

/* W(d) written out from the definitions, independently of the library. */
static double brute_weight(const cs_access_spec *s, double d)
{
    if (!(d <= s->catchment_m))
        return 0;
    switch (s->decay) {
    case CS_DECAY_NONE:
        return 1;
    case CS_DECAY_STEPS:
        for (size_t k = 0; k < s->step_count; k++)
            if (d <= s->step_m[k])
                return s->step_w[k];
        return 0;
    case CS_DECAY_GAUSSIAN: {
        double t = d / s->catchment_m;
        return fmax(0, (exp(-0.5 * t * t) - exp(-0.5)) / (1 - exp(-0.5)));
    }
    case CS_DECAY_POWER:
        return 1 / pow(d < s->min_m ? s->min_m : d, s->beta);
    case CS_DECAY_EXPONENTIAL:
        return exp(-s->beta * d / 1000);
    }
    return 0;
}

static double brute_people(double v)
{
    return isfinite(v) && v > 0 ? v : 0;
}

static double brute_dist(const problem *p, size_t j, size_t i)
{
    double dx = p->px[i] - p->fx[j], dy = p->py[i] - p->fy[j];
    return sqrt(dx * dx + dy * dy);
}

/* The double loop: R_j and A_i straight from the definitions. */
static void brute_force(const cs_access_spec *s, const problem *p, double *ratio,
                        double *access, unsigned char *state)
{
    for (size_t j = 0; j < p->F; j++) {
        ratio[j] = 0;
        bool ok = isfinite(p->supply[j]) && p->supply[j] > 0 && isfinite(p->fx[j]) &&
                  isfinite(p->fy[j]);
        if (!ok) {
            state[j] = CS_ACCESS_IGNORED;
            continue;
        }
        double den = 0;
        for (size_t i = 0; i < p->N; i++)
            den += brute_people(p->demand[i]) * brute_weight(s, brute_dist(p, j, i));
        ratio[j] = den > 0 ? p->supply[j] / den : 0;
        state[j] = den > 0 ? CS_ACCESS_SERVED : CS_ACCESS_NO_DEMAND;
    }
    for (size_t i = 0; i < p->N; i++) {
        double sum = 0;
        for (size_t j = 0; j < p->F; j++)
            if (ratio[j] > 0)
                sum += ratio[j] * brute_weight(s, brute_dist(p, j, i));
        access[i] = s->per * sum;
    }
}

/* 3SFCA by the double loop: each resident's weights over the facilities with supply
 * summed first, then 2SFCA with each pair weighing W^2 / that sum (W G). */
static void brute_three_step(const cs_access_spec *s, const problem *p, double *ratio,
                             double *access, unsigned char *state)
{
    double *choice = calloc(p->N + 1, sizeof *choice);
    for (size_t i = 0; i < p->N; i++)
        for (size_t j = 0; j < p->F; j++)
            if (isfinite(p->supply[j]) && p->supply[j] > 0)
                choice[i] += brute_weight(s, brute_dist(p, j, i));
    for (size_t j = 0; j < p->F; j++) {
        ratio[j] = 0;
        if (!(isfinite(p->supply[j]) && p->supply[j] > 0 && isfinite(p->fx[j]) &&
              isfinite(p->fy[j]))) {
            state[j] = CS_ACCESS_IGNORED;
            continue;
        }
        double den = 0;
        for (size_t i = 0; i < p->N; i++) {
            double w = brute_weight(s, brute_dist(p, j, i));
            den += w > 0 ? brute_people(p->demand[i]) * w * w / choice[i] : 0;
        }
        ratio[j] = den > 0 ? p->supply[j] / den : 0;
        state[j] = den > 0 ? CS_ACCESS_SERVED : CS_ACCESS_NO_DEMAND;
    }
    for (size_t i = 0; i < p->N; i++) {
        double sum = 0;
        for (size_t j = 0; j < p->F; j++) {
            double w = brute_weight(s, brute_dist(p, j, i));
            if (ratio[j] > 0 && w > 0)
                sum += ratio[j] * w * w / choice[i];
        }
        access[i] = s->per * sum;
    }
    free(choice);
}

/* A pairs callback by brute force: every point within 1.5 d0 (the engine must drop
 * those past d0), in index order. */
typedef struct brute_pairs {
    const problem *p;
    double reach;
} brute_pairs;

static size_t brute_pairs_fn(void *data, size_t j, cs_access_pairs_buf *buf)
{
    const brute_pairs *bp = data;
    const problem *p = bp->p;
    size_t n = 0;
    for (size_t i = 0; i < p->N; i++) {
        double d = brute_dist(p, j, i);
        if (d <= bp->reach) {
            if (!cs_access_pairs_reserve(buf, n + 1))
                return (size_t)-1;
            buf->pt[n] = (long)i;
            buf->cost[n] = d;
            n++;
        }
    }
    return n;
}

/* Straight distances from plain (facility, point) arrays, for hand-worked cases. */
typedef struct outputs {
    double *ratio, *access;
    unsigned char *state;
} outputs;

static void outputs_alloc(outputs *o, size_t F, size_t N)
{
    o->ratio = alloc_doubles(F);
    o->access = alloc_doubles(N);
    o->state = calloc(F ? F : 1, 1);
    assert_non_null(o->state);
}

static void outputs_free(outputs *o)
{
    free(o->ratio), free(o->access), free(o->state);
}

static void run_straight(const cs_access_spec *s, const problem *p, int threads, outputs *o)
{
    assert_int_equal(cs_access_straight(s, p->fx, p->fy, p->supply, p->F, p->px, p->py,
                                        p->demand, p->N, NULL, threads, o->ratio, o->access,
                                        o->state),
                     CS_OK);
}

static void run_pairs(const cs_access_spec *s, const problem *p, int threads, outputs *o)
{
    brute_pairs bp = {p, 1.5 * s->catchment_m};
    assert_int_equal(cs_access_pairs(s, p->supply, p->F, p->demand, p->N, brute_pairs_fn,
                                     &bp, threads, o->ratio, o->access, o->state),
                     CS_OK);
}

/* Both engines on a hand-worked problem: the same ratios and accessibility. */
static void check_both(const cs_access_spec *s, const problem *p, const double *want_r,
                       const double *want_a, double rel)
{
    outputs o;
    outputs_alloc(&o, p->F, p->N);
    for (int engine = 0; engine < 2; engine++) {
        if (engine == 0)
            run_straight(s, p, 2, &o);
        else
            run_pairs(s, p, 2, &o);
        for (size_t j = 0; j < p->F; j++)
            assert_close(o.ratio[j], want_r[j], rel);
        for (size_t i = 0; i < p->N; i++)
            assert_close(o.access[i], want_a[i], rel);
    }
    outputs_free(&o);
}

/* ------------------------------------------------------------------ tests */

/*
 * A published worked example. We could not find the numbers of Luo & Wang's (2003)
 * Fig. 3 illustration in the reference material available, so this reproduces the
 * documented quickstart of the sdc-catchment Python package (PyPI "sdc-catchment",
 * "Floating catchment area spatial accessibility (2SFCA, E2SFCA, and variants)"):
 * consumers c1, c2, c3 of 100 people at (0,0), (1,0), (2,0); providers p1, p2 of 10 at
 * (0,0) and (2,0); Gaussian decay exp(-d^2 / 2) with scale 1; documented result
 * c1 0.065179, c2 0.069641, c3 0.065179 (supply per person).
 * Every distance there is 0, 1 or 2, so the E2SFCA step decay with zones d <= 0, <= 1,
 * <= 2 and weights 1, exp(-1/2), exp(-2) (catchment 2, per = 1) is the same weight
 * function on this data: R_1 = R_2 = 10 / (100 (1 + e^-0.5 + e^-2)) = 0.0574097.
 */
static void published_worked_example(void **state)
{
    (void)state;
    problem p;
    problem_alloc(&p, 2, 3);
    const double cx[] = {0, 1, 2}, sx[] = {0, 2};
    for (int i = 0; i < 3; i++) {
        p.px[i] = cx[i];
        p.py[i] = 0;
        p.demand[i] = 100;
    }
    for (int j = 0; j < 2; j++) {
        p.fx[j] = sx[j];
        p.fy[j] = 0;
        p.supply[j] = 10;
    }
    cs_access_spec s = spec_none(2, 1);
    s.decay = CS_DECAY_STEPS;
    s.step_count = 3;
    s.step_m[0] = 0, s.step_m[1] = 1, s.step_m[2] = 2;
    s.step_w[0] = 1, s.step_w[1] = exp(-0.5), s.step_w[2] = exp(-2.0);
    const double want_a[] = {0.065179, 0.069641, 0.065179};
    const double want_r[] = {0.0574097, 0.0574097};
    check_both(&s, &p, want_r, want_a, 1e-5); /* the documentation prints 6 digits */
    problem_free(&p);
}

/*
 * The classic 2SFCA picture, laid out as Luo & Wang's (2003) Fig. 3 is usually retold
 * (one physician at a and one at b, 8 people in a's catchment and 4 in b's, ratios 1/8
 * and 1/4, 3/8 where the catchments overlap); the figure's text itself could not be
 * read from the stored copy of the paper, so the values here are worked by hand:
 * physicians a at (0,0) and b at (10,0), one each, catchment 6.
 *   a reaches (-3,0) with 3 people, (0,3) with 2 and (5,0) with 3: 8 people, R_a = 1/8;
 *   b reaches (5,0) with 3 and (13,0) with 1: 4 people, R_b = 1/4.
 *   Residents reaching only a have 1/8, those in the overlap (5,0) 1/8 + 1/4 = 3/8,
 *   those reaching only b 1/4 (per = 1).
 */
static void classic_two_physicians(void **state)
{
    (void)state;
    problem p;
    problem_alloc(&p, 2, 4);
    const double x[] = {-3, 0, 5, 13}, y[] = {0, 3, 0, 0}, pop[] = {3, 2, 3, 1};
    for (int i = 0; i < 4; i++) {
        p.px[i] = x[i];
        p.py[i] = y[i];
        p.demand[i] = pop[i];
    }
    p.fx[0] = 0, p.fy[0] = 0, p.supply[0] = 1;
    p.fx[1] = 10, p.fy[1] = 0, p.supply[1] = 1;
    cs_access_spec s = spec_none(6, 1);
    const double want_r[] = {1.0 / 8, 1.0 / 4};
    const double want_a[] = {1.0 / 8, 1.0 / 8, 3.0 / 8, 1.0 / 4};
    check_both(&s, &p, want_r, want_a, 1e-15);
    problem_free(&p);
}

/*
 * E2SFCA with Luo & Qi's zones 0-5, 5-10, 10-15 and weights 1, 0.68, 0.22 (catchment
 * 15, per = 1000). Facility A at (0,0), supply 2; B at (12,21), supply 1. Points:
 *   p0 (3,4), 100 people:  A 5 (zone 1, 1);            B sqrt(370) = 19.2 (out)
 *   p1 (6,8), 200 people:  A 10 (zone 2, 0.68);        B sqrt(205) = 14.3 (zone 3, 0.22)
 *   p2 (9,12), 300 people: A 15 (zone 3, 0.22);        B sqrt(90) = 9.49 (zone 2, 0.68)
 *   p3 (12,16), 50 people: A 20 (out);                 B 5 (zone 1, 1)
 * R_A = 2 / (100 + 200*0.68 + 300*0.22) = 2/302 = 0.00662251655629139
 * R_B = 1 / (50 + 300*0.68 + 200*0.22) = 1/298 = 0.00335570469798658
 * A (per 1000): p0 1000 R_A = 6.62251655629; p1 1000 (0.68 R_A + 0.22 R_B) = 5.24156629184;
 *   p2 1000 (0.22 R_A + 0.68 R_B) = 3.73883283701; p3 1000 R_B = 3.35570469799.
 * Check: (100*6.6225 + 200*5.2416 + 300*3.7388 + 50*3.3557) / 1000 = 3 = S_A + S_B.
 */
static void hand_worked_steps(void **state)
{
    (void)state;
    problem p;
    problem_alloc(&p, 2, 4);
    const double x[] = {3, 6, 9, 12}, y[] = {4, 8, 12, 16}, pop[] = {100, 200, 300, 50};
    for (int i = 0; i < 4; i++) {
        p.px[i] = x[i];
        p.py[i] = y[i];
        p.demand[i] = pop[i];
    }
    p.fx[0] = 0, p.fy[0] = 0, p.supply[0] = 2;
    p.fx[1] = 12, p.fy[1] = 21, p.supply[1] = 1;
    cs_access_spec s = spec_none(15, 1000);
    s.decay = CS_DECAY_STEPS;
    s.step_count = 3;
    s.step_m[0] = 5, s.step_m[1] = 10, s.step_m[2] = 15;
    s.step_w[0] = 1, s.step_w[1] = 0.68, s.step_w[2] = 0.22;
    const double want_r[] = {0.00662251655629139, 0.00335570469798658};
    const double want_a[] = {6.62251655629, 5.24156629184, 3.73883283701, 3.35570469799};
    check_both(&s, &p, want_r, want_a, 1e-11);
    problem_free(&p);
}

/*
 * Gaussian decay, catchment 10, per = 1000: W(d) = (exp(-d^2/200) - e^-0.5) /
 * (1 - e^-0.5); W(0) = 1, W(5) = 0.701366573239004, W(6) = 0.58134021708421,
 * W(10) = 0. Facility F0 at (0,0), supply 3; F1 at (16,0), supply 1. Points:
 *   p0 (0,0) 10 people: F0 0;  F1 16 (out)
 *   p1 (3,4) 20 people: F0 5;  F1 sqrt(185) (out)
 *   p2 (8,6) 30 people: F0 10, F1 10: inside both but weight 0
 *   p3 (10,0) 40 people: F0 10 (weight 0); F1 6
 *   p4 (16,0) 5 people: F1 0
 * R_0 = 3 / (10 + 20 W(5)) = 3 / 24.0273314647801 = 0.124857810547854
 * R_1 = 1 / (40 W(6) + 5) = 1 / 28.2536086833684 = 0.0353937088605837
 * A: p0 1000 R_0 = 124.857810548; p1 1000 R_0 W(5) = 87.5710947261; p2 0;
 *    p3 1000 R_1 W(6) = 20.5757863924; p4 1000 R_1 = 35.3937088606.
 */
static void hand_worked_gaussian(void **state)
{
    (void)state;
    problem p;
    problem_alloc(&p, 2, 5);
    const double x[] = {0, 3, 8, 10, 16}, y[] = {0, 4, 6, 0, 0}, pop[] = {10, 20, 30, 40, 5};
    for (int i = 0; i < 5; i++) {
        p.px[i] = x[i];
        p.py[i] = y[i];
        p.demand[i] = pop[i];
    }
    p.fx[0] = 0, p.fy[0] = 0, p.supply[0] = 3;
    p.fx[1] = 16, p.fy[1] = 0, p.supply[1] = 1;
    cs_access_spec s = spec_of(CS_DECAY_GAUSSIAN, 10, 1000);
    assert_close(cs_access_weight(&s, 5), 0.701366573239004, 1e-13);
    assert_close(cs_access_weight(&s, 6), 0.58134021708421, 1e-13);
    const double want_r[] = {0.124857810547854, 0.0353937088605837};
    const double want_a[] = {124.857810548, 87.5710947261, 0, 20.5757863924, 35.3937088606};
    check_both(&s, &p, want_r, want_a, 1e-11);
    problem_free(&p);
}

static void weight_function(void **state)
{
    (void)state;
    cs_access_spec n = spec_of(CS_DECAY_NONE, 100, 1);
    assert_true(cs_access_weight(&n, 0) == 1);
    assert_true(cs_access_weight(&n, 100) == 1);
    assert_true(cs_access_weight(&n, nextafter(100, 200)) == 0);
    assert_true(cs_access_weight(&n, NAN) == 0);
    assert_true(cs_access_weight(&n, -5) == 1);
    cs_access_spec st = spec_of(CS_DECAY_STEPS, 15, 1);
    st.step_m[0] = 5, st.step_m[1] = 10, st.step_m[2] = 12; /* 12..15 weighs nothing */
    assert_true(cs_access_weight(&st, 5) == 1);
    assert_true(cs_access_weight(&st, nextafter(5, 6)) == 0.68);
    assert_true(cs_access_weight(&st, 10) == 0.68);
    assert_true(cs_access_weight(&st, 11) == 0.22);
    assert_true(cs_access_weight(&st, 13) == 0);
    assert_true(cs_access_weight(&st, 16) == 0);
    cs_access_spec g = spec_of(CS_DECAY_GAUSSIAN, 1000, 1);
    assert_true(cs_access_weight(&g, 0) == 1);
    assert_true(cs_access_weight(&g, 1000) == 0);
    assert_true(cs_access_weight(&g, 1001) == 0);
    double prev = 1;
    for (double d = 50; d <= 1000; d += 50) { /* strictly falling inside */
        double w = cs_access_weight(&g, d);
        assert_true(w < prev && w >= 0);
        prev = w;
    }
}

static void compare_outputs(const outputs *got, const outputs *want, const problem *p,
                            bool pairs_engine, const char *what)
{
    for (size_t j = 0; j < p->F; j++) {
        if (!close_to(got->ratio[j], want->ratio[j], 1e-9))
            fail_msg("%s: ratio[%zu] = %.17g, want %.17g", what, j, got->ratio[j],
                     want->ratio[j]);
        /* The pairs engine knows no positions: a NaN-placed facility just reaches
         * nothing there. */
        bool placed = isfinite(p->fx[j]) && isfinite(p->fy[j]);
        if (!pairs_engine || placed)
            assert_int_equal(got->state[j], want->state[j]);
    }
    for (size_t i = 0; i < p->N; i++) {
        if (!close_to(got->access[i], want->access[i], 1e-9))
            fail_msg("%s: access[%zu] = %.17g, want %.17g", what, i, got->access[i],
                     want->access[i]);
    }
}

static void engines_match_brute_force(void **state)
{
    (void)state;
    const struct { size_t F, N; double d0; } sizes[] = {
        {40, 2500, 1000}, {7, 300, 1000}, {120, 900, 1500}, {25, 3000, 400}, {1, 50, 1000},
    };
    const cs_decay decays[] = {CS_DECAY_NONE, CS_DECAY_STEPS, CS_DECAY_GAUSSIAN,
                               CS_DECAY_POWER, CS_DECAY_EXPONENTIAL};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            problem p;
            make_problem(&p, sizes[z].F, sizes[z].N, sizes[z].d0, seed * 1009 + z);
            outputs want, got;
            outputs_alloc(&want, p.F, p.N);
            outputs_alloc(&got, p.F, p.N);
            for (size_t d = 0; d < sizeof decays / sizeof decays[0]; d++) {
                cs_access_spec s = spec_of(decays[d], sizes[z].d0, d == 1 ? 1000 : 1);
                brute_force(&s, &p, want.ratio, want.access, want.state);
                run_straight(&s, &p, 2, &got);
                compare_outputs(&got, &want, &p, false, "straight");
                run_pairs(&s, &p, 2, &got);
                compare_outputs(&got, &want, &p, true, "pairs");
            }
            /* The awkward cases did occur. */
            if (p.F >= 7) {
                cs_access_spec s = spec_of(CS_DECAY_NONE, sizes[z].d0, 1);
                brute_force(&s, &p, want.ratio, want.access, want.state);
                assert_int_equal(want.state[1], CS_ACCESS_IGNORED);
                assert_int_equal(want.state[6], CS_ACCESS_IGNORED);
                assert_int_equal(want.state[3], CS_ACCESS_NO_DEMAND);
                assert_true(want.state[0] == CS_ACCESS_SERVED);
            }
            outputs_free(&want);
            outputs_free(&got);
            problem_free(&p);
        }
    }
}

/* Points exactly d0 away count in NONE and STEPS and weigh 0 in GAUSSIAN. */
static void points_exactly_at_the_catchment(void **state)
{
    (void)state;
    problem p;
    problem_alloc(&p, 1, 3);
    p.fx[0] = 1000, p.fy[0] = 2000, p.supply[0] = 6;
    const double x[] = {2000, 1600, 1000}, y[] = {2000, 2800, 1000};
    for (int i = 0; i < 3; i++)
        p.px[i] = x[i], p.py[i] = y[i], p.demand[i] = 1;
    outputs o;
    outputs_alloc(&o, 1, 3);
    cs_access_spec s = spec_of(CS_DECAY_NONE, 1000, 1);
    run_straight(&s, &p, 1, &o);
    assert_true(o.ratio[0] == 2);
    s = spec_of(CS_DECAY_STEPS, 1000, 1);
    run_straight(&s, &p, 1, &o);
    assert_close(o.ratio[0], 6 / 0.66, 1e-15);
    s = spec_of(CS_DECAY_GAUSSIAN, 1000, 1);
    run_straight(&s, &p, 1, &o);
    assert_true(o.ratio[0] == 0);
    assert_int_equal(o.state[0], CS_ACCESS_NO_DEMAND);
    for (int i = 0; i < 3; i++)
        assert_true(o.access[i] == 0);
    outputs_free(&o);
    problem_free(&p);
}

static void identical_on_any_thread_count(void **state)
{
    (void)state;
    problem p;
    make_problem(&p, 400, 120000, 700, 77); /* above the points loops run in parallel */
    const cs_decay decays[] = {CS_DECAY_NONE, CS_DECAY_STEPS, CS_DECAY_GAUSSIAN};
    outputs a, b, c;
    outputs_alloc(&a, p.F, p.N);
    outputs_alloc(&b, p.F, p.N);
    outputs_alloc(&c, p.F, p.N);
    for (int d = 0; d < 3; d++) {
        cs_access_spec s = spec_of(decays[d], 700, 1000);
        run_straight(&s, &p, 1, &a);
        run_straight(&s, &p, 2, &b);
        run_straight(&s, &p, 0, &c);
        assert_memory_equal(a.ratio, b.ratio, p.F * sizeof *a.ratio);
        assert_memory_equal(a.access, b.access, p.N * sizeof *a.access);
        assert_memory_equal(a.state, b.state, p.F);
        assert_memory_equal(a.ratio, c.ratio, p.F * sizeof *a.ratio);
        assert_memory_equal(a.access, c.access, p.N * sizeof *a.access);
    }
    problem_free(&p);
    /* The pairs engine on a smaller problem (its test callback is brute force); more
     * facilities than a chunk so the chunks' order matters. */
    outputs_free(&a);
    outputs_free(&b);
    outputs_free(&c);
    make_problem(&p, 600, 3000, 700, 78);
    outputs_alloc(&a, p.F, p.N);
    outputs_alloc(&b, p.F, p.N);
    outputs_alloc(&c, p.F, p.N);
    for (int d = 0; d < 3; d++) {
        cs_access_spec s = spec_of(decays[d], 700, 1000);
        run_pairs(&s, &p, 1, &a);
        run_pairs(&s, &p, 2, &b);
        run_pairs(&s, &p, 0, &c);
        assert_memory_equal(a.ratio, b.ratio, p.F * sizeof *a.ratio);
        assert_memory_equal(a.access, b.access, p.N * sizeof *a.access);
        assert_memory_equal(a.state, b.state, p.F);
        assert_memory_equal(a.access, c.access, p.N * sizeof *a.access);
    }
    outputs_free(&a);
    outputs_free(&b);
    outputs_free(&c);
    problem_free(&p);
}

/* sum_i P_i A_i / per == sum of S_j over the facilities with demand in reach. */
static void supply_is_conserved(void **state)
{
    (void)state;
    const cs_decay decays[] = {CS_DECAY_NONE, CS_DECAY_STEPS, CS_DECAY_GAUSSIAN,
                               CS_DECAY_POWER, CS_DECAY_EXPONENTIAL};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        problem p;
        make_problem(&p, 150, 20000, 900, seed * 31);
        outputs o;
        outputs_alloc(&o, p.F, p.N);
        for (size_t d = 0; d < sizeof decays / sizeof decays[0]; d++) {
            cs_access_spec s = spec_of(decays[d], 900, 1000);
            for (int engine = 0; engine < 2; engine++) {
                if (engine == 0)
                    run_straight(&s, &p, 2, &o);
                else
                    run_pairs(&s, &p, 2, &o);
                double served = 0, reached = 0;
                size_t unserved = 0;
                for (size_t j = 0; j < p.F; j++) {
                    if (o.state[j] == CS_ACCESS_SERVED)
                        served += p.supply[j];
                    else
                        unserved++;
                }
                for (size_t i = 0; i < p.N; i++)
                    reached += brute_people(p.demand[i]) * o.access[i] / s.per;
                assert_true(unserved > 0 && served > 0);
                assert_close(reached, served, 1e-9);
            }
        }
        outputs_free(&o);
        problem_free(&p);
    }
}

static void edge_cases(void **state)
{
    (void)state;
    cs_access_spec s = spec_of(CS_DECAY_NONE, 1000, 1000);
    double r[3] = {9, 9, 9}, a[3] = {9, 9, 9};
    unsigned char st[3] = {9, 9, 9};
    double fx[3] = {0, NAN, 500}, fy[3] = {0, 0, 5e6}, sup[3] = {1, 1, 1};
    double px[3] = {10, 20, 30}, py[3] = {0, 0, 0}, dem[3] = {5, 5, 5};

    /* No facilities: nobody has access. */
    assert_int_equal(cs_access_straight(&s, NULL, NULL, NULL, 0, px, py, dem, 3, NULL, 2, NULL, a,
                                        NULL),
                     CS_OK);
    for (int i = 0; i < 3; i++)
        assert_true(a[i] == 0);
    /* No demand points: every facility with supply has no demand in reach. */
    assert_int_equal(cs_access_straight(&s, fx, fy, sup, 3, NULL, NULL, NULL, 0, NULL, 2, r, NULL,
                                        st),
                     CS_OK);
    assert_true(r[0] == 0 && r[1] == 0 && r[2] == 0);
    assert_int_equal(st[0], CS_ACCESS_NO_DEMAND);
    assert_int_equal(st[1], CS_ACCESS_IGNORED);
    assert_int_equal(st[2], CS_ACCESS_NO_DEMAND);
    /* A NaN facility is ignored, one far away has no demand, the one near serves all. */
    assert_int_equal(cs_access_straight(&s, fx, fy, sup, 3, px, py, dem, 3, NULL, 2, r, a, st),
                     CS_OK);
    assert_true(r[0] == 1.0 / 15 && r[1] == 0 && r[2] == 0);
    assert_int_equal(st[0], CS_ACCESS_SERVED);
    assert_int_equal(st[1], CS_ACCESS_IGNORED);
    assert_int_equal(st[2], CS_ACCESS_NO_DEMAND);
    for (int i = 0; i < 3; i++)
        assert_close(a[i], 1000.0 / 15, 1e-15);
    /* All demand zero: no ratio anywhere, no access, never NaN. */
    double zero[3] = {0, 0, 0};
    assert_int_equal(cs_access_straight(&s, fx, fy, sup, 3, px, py, zero, 3, NULL, 2, r, a, st),
                     CS_OK);
    assert_true(r[0] == 0 && r[1] == 0 && r[2] == 0);
    assert_int_equal(st[0], CS_ACCESS_NO_DEMAND);
    for (int i = 0; i < 3; i++)
        assert_true(a[i] == 0);
    /* All points without positions. */
    double nanx[3] = {NAN, NAN, INFINITY};
    assert_int_equal(cs_access_straight(&s, fx, fy, sup, 3, nanx, py, dem, 3, NULL, 2, r, a, st),
                     CS_OK);
    assert_int_equal(st[0], CS_ACCESS_NO_DEMAND);
    assert_int_equal(st[1], CS_ACCESS_IGNORED);
    for (int i = 0; i < 3; i++)
        assert_true(a[i] == 0);
    /* state may be NULL. */
    assert_int_equal(cs_access_straight(&s, fx, fy, sup, 3, px, py, dem, 3, NULL, 1, r, a, NULL),
                     CS_OK);
    assert_true(r[0] == 1.0 / 15);
    /* Every point in one place, the facility on top of it. */
    double same[3] = {7, 7, 7};
    assert_int_equal(cs_access_straight(&s, same, same, sup, 1, same, same, dem, 3, NULL, 2, r, a,
                                        st),
                     CS_OK);
    assert_true(r[0] == 1.0 / 15);
    /* A tiny catchment over a wide area still works (the grid coarsens). */
    cs_access_spec tiny = spec_of(CS_DECAY_NONE, 1e-3, 1);
    double wx[3] = {0, 1e6, 2e6}, wy[3] = {0, 1e6, 0};
    assert_int_equal(cs_access_straight(&tiny, wx, wy, sup, 3, wx, wy, dem, 3, NULL, 2, r, a, st),
                     CS_OK);
    for (int i = 0; i < 3; i++)
        assert_true(r[i] == 1.0 / 5 && a[i] == 1.0 / 5);

    /* The pairs engine: no facilities, no points. */
    problem p = {0};
    brute_pairs bp = {&p, 1000};
    assert_int_equal(cs_access_pairs(&s, NULL, 0, dem, 3, brute_pairs_fn, &bp, 2, NULL, a,
                                     NULL),
                     CS_OK);
    for (int i = 0; i < 3; i++)
        assert_true(a[i] == 0);
    assert_int_equal(cs_access_pairs(&s, sup, 3, NULL, 0, brute_pairs_fn, &bp, 2, r, NULL,
                                     st),
                     CS_OK);
    assert_int_equal(st[0], CS_ACCESS_NO_DEMAND);
}

/* A callback naming a point that does not exist. */
static size_t bad_pairs_fn(void *data, size_t j, cs_access_pairs_buf *buf)
{
    (void)data;
    if (!cs_access_pairs_reserve(buf, 2))
        return (size_t)-1;
    buf->pt[0] = 0;
    buf->cost[0] = 1;
    buf->pt[1] = j == 1 ? 3 : -1;
    buf->cost[1] = 1;
    return j == 1 ? 2 : 1;
}

static void bad_arguments(void **state)
{
    (void)state;
    double r[2], a[3], f[2] = {0, 1}, sup[2] = {1, 1}, p[3] = {0, 1, 2}, dem[3] = {1, 1, 1};
    cs_access_spec good = spec_of(CS_DECAY_STEPS, 10, 1);
    assert_int_equal(cs_access_spec_check(&good), CS_OK);
    cs_access_spec bad[8];
    for (int k = 0; k < 8; k++)
        bad[k] = good;
    bad[0].catchment_m = 0;
    bad[1].catchment_m = INFINITY;
    bad[2].per = 0;
    bad[3].step_count = 0;
    bad[4].step_count = CS_ACCESS_MAX_STEPS + 1;
    bad[5].step_m[1] = bad[5].step_m[0]; /* not ascending */
    bad[6].step_w[2] = -1;
    bad[7].decay = (cs_decay)42;
    for (int k = 0; k < 8; k++) {
        assert_int_equal(cs_access_spec_check(&bad[k]), CS_ERR_ARGUMENT);
        assert_int_equal(cs_access_straight(&bad[k], f, f, sup, 2, p, p, dem, 3, NULL, 1, r, a,
                                            NULL),
                         CS_ERR_ARGUMENT);
    }
    assert_int_equal(cs_access_spec_check(NULL), CS_ERR_ARGUMENT);
    assert_int_equal(cs_access_straight(&good, f, NULL, sup, 2, p, p, dem, 3, NULL, 1, r, a, NULL),
                     CS_ERR_ARGUMENT);
    assert_int_equal(cs_access_straight(&good, f, f, sup, 2, p, p, dem, 3, NULL, 1, r, NULL, NULL),
                     CS_ERR_ARGUMENT);
    assert_int_equal(cs_access_pairs(&good, sup, 2, dem, 3, NULL, NULL, 1, r, a, NULL),
                     CS_ERR_ARGUMENT);
    assert_int_equal(cs_access_pairs(&good, sup, 2, dem, 3, bad_pairs_fn, NULL, 1, r, a, NULL),
                     CS_ERR_ARGUMENT);
    assert_int_equal(cs_access_pairs(&good, sup, 2, dem, 3, bad_pairs_fn, NULL, 2, r, a, NULL),
                     CS_ERR_ARGUMENT);
}

/* Every allocation failure returns CS_ERR_NOMEM and leaks nothing (ASan checks). */
static void allocation_failures(void **state)
{
    (void)state;
    problem p;
    make_problem(&p, 30, 2000, 1000, 5);
    outputs o, want;
    outputs_alloc(&o, p.F, p.N);
    outputs_alloc(&want, p.F, p.N);
    cs_access_spec s = spec_of(CS_DECAY_GAUSSIAN, 1000, 1000);
    run_straight(&s, &p, 1, &want);
    long k = 0;
    for (;; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_access_straight(&s, p.fx, p.fy, p.supply, p.F, p.px, p.py,
                                          p.demand, p.N, NULL, 1, o.ratio, o.access, o.state);
        tu_alloc_restore();
        if (st == CS_OK)
            break;
        assert_int_equal(st, CS_ERR_NOMEM);
    }
    assert_true(k >= 12);
    assert_memory_equal(o.access, want.access, p.N * sizeof *o.access);

    run_pairs(&s, &p, 1, &want);
    brute_pairs bp = {&p, 1.5 * s.catchment_m};
    for (k = 0;; k++) {
        tu_alloc_fail_after(k);
        cs_status st = cs_access_pairs(&s, p.supply, p.F, p.demand, p.N, brute_pairs_fn, &bp,
                                       1, o.ratio, o.access, o.state);
        tu_alloc_restore();
        if (st == CS_OK)
            break;
        assert_int_equal(st, CS_ERR_NOMEM);
    }
    assert_true(k >= 3);
    assert_memory_equal(o.access, want.access, p.N * sizeof *o.access);
    outputs_free(&o);
    outputs_free(&want);
    problem_free(&p);
}

/* Points sorted into cells once serve every kind of the same catchment: each decay and
 * demand gives bit for bit what it gives with cells of its own; cells of another
 * catchment or of other points are refused; making them without memory gives NULL. */
static void shared_cells_give_the_same_access(void **state)
{
    (void)state;
    problem p;
    make_problem(&p, 40, 3000, 1000, 11);
    outputs o, want;
    outputs_alloc(&o, p.F, p.N);
    outputs_alloc(&want, p.F, p.N);
    cs_access_cells *cells = cs_access_cells_create(1000, p.px, p.py, p.N, NULL, 0);
    assert_non_null(cells);
    const cs_decay decays[] = {CS_DECAY_NONE, CS_DECAY_STEPS, CS_DECAY_GAUSSIAN};
    for (size_t d = 0; d < 3; d++) {
        for (size_t i = 0; d == 1 && i < p.N; i++) /* another band's people */
            p.demand[i] = (double)(i % 7);
        cs_access_spec s = spec_of(decays[d], 1000, 1000);
        run_straight(&s, &p, 2, &want);
        assert_int_equal(cs_access_straight(&s, p.fx, p.fy, p.supply, p.F, p.px, p.py,
                                            p.demand, p.N, cells, 2, o.ratio, o.access,
                                            o.state),
                         CS_OK);
        assert_memory_equal(o.access, want.access, p.N * sizeof *o.access);
        assert_memory_equal(o.ratio, want.ratio, p.F * sizeof *o.ratio);
        assert_memory_equal(o.state, want.state, p.F);
    }
    cs_access_spec wider = spec_of(CS_DECAY_NONE, 1500, 1000);
    assert_int_equal(cs_access_straight(&wider, p.fx, p.fy, p.supply, p.F, p.px, p.py,
                                        p.demand, p.N, cells, 1, o.ratio, o.access, NULL),
                     CS_ERR_ARGUMENT);
    cs_access_spec same = spec_of(CS_DECAY_NONE, 1000, 1000);
    assert_int_equal(cs_access_straight(&same, p.fx, p.fy, p.supply, p.F, p.px, p.py,
                                        p.demand, p.N - 1, cells, 1, o.ratio, o.access, NULL),
                     CS_ERR_ARGUMENT);
    cs_access_cells_destroy(cells);
    long k = 0;
    for (;; k++) {
        tu_alloc_fail_after(k);
        cells = cs_access_cells_create(1000, p.px, p.py, p.N, NULL, 0);
        tu_alloc_restore();
        if (cells)
            break;
    }
    assert_true(k >= 4);
    cs_access_cells_destroy(cells);
    outputs_free(&o);
    outputs_free(&want);
    problem_free(&p);
}

/* The hospital example of PySAL access's tests (test_hospital_example.py): tracts of
 * 100, 50 and 10 people with 15, 20 and 100 doctors, each 1 from its own doctors, 40
 * between tract 3 and the others and 80 between tracts 1 and 2 (beyond the catchment of
 * 61), gravity weights 1/cost. access's own 2SFCA reference gives 0.331444117,
 * 0.5798281321 and 7.2864181699, which the steps by hand confirm: R = 15 / 100.25,
 * 20 / 50.25, 100 / 13.75, A_1 = R_1 + R_3 / 40... */
typedef struct hospital {
    double cost[3][3];
} hospital;

static size_t hospital_pairs(void *data, size_t j, cs_access_pairs_buf *buf)
{
    const hospital *h = data;
    if (!cs_access_pairs_reserve(buf, 3))
        return (size_t)-1;
    for (size_t i = 0; i < 3; i++) {
        buf->pt[i] = (long)i;
        buf->cost[i] = h->cost[j][i];
    }
    return 3;
}

static void gravity_hospital_example(void **state)
{
    (void)state;
    hospital h = {{{1, 80, 40}, {80, 1, 40}, {40, 40, 1}}};
    const double people[3] = {100, 50, 10}, doctors[3] = {15, 20, 100};
    const double want[3] = {0.331444117, 0.5798281321, 7.2864181699};
    cs_access_spec s = spec_none(61, 1);
    s.decay = CS_DECAY_POWER;
    s.beta = 1;
    s.min_m = 1;
    double ratio[3], access[3];
    unsigned char st[3];
    assert_int_equal(cs_access_pairs(&s, doctors, 3, people, 3, hospital_pairs, &h, 1, ratio,
                                     access, st),
                     CS_OK);
    for (size_t i = 0; i < 3; i++)
        assert_close(access[i], want[i], 1e-9);
    assert_close(ratio[2], 100 / 13.75, 1e-12);
    /* the exponential's weights: the same sums with exp(-beta d / km) */
    s.decay = CS_DECAY_EXPONENTIAL;
    s.beta = 20; /* exp(-0.02) at 1, exp(-0.8) at 40 */
    assert_int_equal(cs_access_pairs(&s, doctors, 3, people, 3, hospital_pairs, &h, 1, ratio,
                                     access, st),
                     CS_OK);
    double w1 = exp(-0.02), w40 = exp(-0.8);
    double r1 = 15 / (100 * w1 + 10 * w40), r2 = 20 / (50 * w1 + 10 * w40);
    double r3 = 100 / (10 * w1 + 100 * w40 + 50 * w40);
    assert_close(access[0], r1 * w1 + r3 * w40, 1e-12);
    assert_close(access[2], r3 * w1 + (r1 + r2) * w40, 1e-12);
    /* a gravity decay needs a positive beta (and, for power, min_m) */
    s.beta = 0;
    assert_int_equal(cs_access_spec_check(&s), CS_ERR_ARGUMENT);
    s.decay = CS_DECAY_POWER;
    s.beta = 1;
    s.min_m = 0;
    assert_int_equal(cs_access_spec_check(&s), CS_ERR_ARGUMENT);
}

/* 3SFCA (Wan, Zou & Sternberg 2012) against the double loop for every decay, in both
 * engines, on random problems with ignored facilities and people-less points; supply is
 * conserved. */
static void three_step_matches_brute_force(void **state)
{
    (void)state;
    const cs_decay decays[] = {CS_DECAY_NONE, CS_DECAY_STEPS, CS_DECAY_GAUSSIAN,
                               CS_DECAY_POWER, CS_DECAY_EXPONENTIAL};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        problem p;
        make_problem(&p, 60, 2000, 900, seed * 77);
        outputs want, got;
        outputs_alloc(&want, p.F, p.N);
        outputs_alloc(&got, p.F, p.N);
        for (size_t d = 0; d < sizeof decays / sizeof decays[0]; d++) {
            cs_access_spec s = spec_of(decays[d], 900, 1000);
            s.three_step = true;
            brute_three_step(&s, &p, want.ratio, want.access, want.state);
            for (int threads = 1; threads <= 2; threads++) {
                run_straight(&s, &p, threads, &got);
                compare_outputs(&got, &want, &p, false, "three-step straight");
                run_pairs(&s, &p, threads, &got);
                compare_outputs(&got, &want, &p, true, "three-step pairs");
            }
            double served = 0, reached = 0;
            for (size_t j = 0; j < p.F; j++)
                served += got.state[j] == CS_ACCESS_SERVED ? p.supply[j] : 0;
            for (size_t i = 0; i < p.N; i++)
                reached += brute_people(p.demand[i]) * got.access[i] / s.per;
            assert_close(reached, served, 1e-9);
        }
        outputs_free(&want);
        outputs_free(&got);
        problem_free(&p);
    }
}

/* The hospital example by hand with 3SFCA's selection weights, G_ij over the facilities
 * in the catchment (61): tract 1 reaches its own doctors (1) and tract 3's (1/40), so
 * its weights sum to 1.025; tract 2 likewise; tract 3 all three: 1.05. */
static void three_step_hospital_by_hand(void **state)
{
    (void)state;
    hospital h = {{{1, 80, 40}, {80, 1, 40}, {40, 40, 1}}};
    const double people[3] = {100, 50, 10}, doctors[3] = {15, 20, 100};
    cs_access_spec s = spec_none(61, 1);
    s.decay = CS_DECAY_POWER;
    s.beta = 1;
    s.min_m = 1;
    s.three_step = true;
    double ratio[3], access[3];
    unsigned char st[3];
    assert_int_equal(cs_access_pairs(&s, doctors, 3, people, 3, hospital_pairs, &h, 1, ratio,
                                     access, st),
                     CS_OK);
    double c1 = 1.025, c2 = 1.025, c3 = 1.05, f = 1.0 / 1600; /* (1/40)^2 */
    double r1 = 15 / (100 / c1 + 10 * f / c3), r2 = 20 / (50 / c2 + 10 * f / c3);
    double r3 = 100 / (10 / c3 + 100 * f / c1 + 50 * f / c2);
    assert_close(ratio[0], r1, 1e-12);
    assert_close(ratio[2], r3, 1e-12);
    assert_close(access[0], r1 / c1 + r3 * f / c1, 1e-12);
    assert_close(access[1], r2 / c2 + r3 * f / c2, 1e-12);
    assert_close(access[2], r3 / c3 + (r1 + r2) * f / c3, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_worked_example),
        cmocka_unit_test(classic_two_physicians),
        cmocka_unit_test(hand_worked_steps),
        cmocka_unit_test(hand_worked_gaussian),
        cmocka_unit_test(weight_function),
        cmocka_unit_test(gravity_hospital_example),
        cmocka_unit_test(three_step_matches_brute_force),
        cmocka_unit_test(three_step_hospital_by_hand),
        cmocka_unit_test(engines_match_brute_force),
        cmocka_unit_test(points_exactly_at_the_catchment),
        cmocka_unit_test(identical_on_any_thread_count),
        cmocka_unit_test(supply_is_conserved),
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(shared_cells_give_the_same_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
