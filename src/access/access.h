/*
 * access.h — capacity-aware accessibility: the two-step floating catchment area method
 * (2SFCA, Luo & Wang 2003) and its enhanced form with distance decay (E2SFCA, Luo & Qi
 * 2009), on plain arrays.
 *
 * With W(d) a weight of the distance (or any travel cost) d, zero beyond the catchment
 * d0:
 *   step 1, per facility j of supply S_j:  R_j = S_j / sum_{i: d_ij <= d0} P_i W(d_ij)
 *   step 2, per demand point i:            A_i = per * sum_{j: d_ij <= d0} R_j W(d_ij)
 * The three-step form (3SFCA, Wan, Zou & Sternberg 2012) weighs each pair by W_ij G_ij
 * instead, G_ij = W_ij / sum_{k: d_ik <= d0} W_ik being the share of resident i's
 * choice that facility j draws among those with supply within its catchment.
 * A facility whose denominator is 0 gets R_j = 0 (never NaN) and is flagged
 * CS_ACCESS_NO_DEMAND. Whatever the decay, sum_i P_i A_i / per equals the supply of the
 * facilities flagged CS_ACCESS_SERVED.
 */
#ifndef CS_ACCESS_H
#define CS_ACCESS_H

#include "core/core.h"
#include "core/model.h"

#include <stdbool.h>
#include <stddef.h>

/* How the weight falls with distance inside the catchment (core/model.h):
 * CS_DECAY_NONE     W = 1 within d0: the classic 2SFCA;
 * CS_DECAY_STEPS    W = step_w[s] for the first zone s with d <= step_m[s]; 0 past the
 *                   last zone (E2SFCA, e.g. 0-5-10-15 min with 1, 0.68, 0.22);
 * CS_DECAY_GAUSSIAN W = (exp(-d^2 / (2 d0^2)) - exp(-1/2)) / (1 - exp(-1/2)): 1 at 0,
 *                   0 at d0 (Dai 2010; Wan, Zou & Sternberg 2012);
 * CS_DECAY_POWER    W = max(d, min_m)^-beta, the gravity model's (Joseph & Bantock 1982;
 *                   with competition, Shen 1998), within d0;
 * CS_DECAY_EXPONENTIAL W = exp(-beta d / 1000 m), within d0. */
typedef cs_decay_kind cs_decay;

#define CS_ACCESS_MAX_STEPS 8

typedef struct cs_access_spec {
    double catchment_m;  /* d0: finite, > 0; a cost exactly d0 is inside */
    cs_decay decay;
    size_t step_count;   /* STEPS: 1..CS_ACCESS_MAX_STEPS zones */
    double step_m[CS_ACCESS_MAX_STEPS]; /* STEPS: zone limits, strictly ascending, >= 0 */
    double step_w[CS_ACCESS_MAX_STEPS]; /* STEPS: zone weights, finite, >= 0 */
    double per;          /* A_i is supply per this many people (1, 1000): finite, > 0 */
    double beta;         /* POWER: exponent; EXPONENTIAL: rate per km: finite, > 0 */
    double min_m;        /* POWER: least distance counted: finite, > 0 */
    bool three_step;     /* 3SFCA: each pair weighs W_ij G_ij */
} cs_access_spec;

/* What became of a facility (the optional state[] output). */
enum {
    CS_ACCESS_SERVED = 0,    /* R_j computed from the demand in reach */
    CS_ACCESS_IGNORED = 1,   /* supply <= 0 or NaN, or a non-finite position: R_j = 0 */
    CS_ACCESS_NO_DEMAND = 2  /* no (weighted) demand in reach: R_j = 0 */
};

/* CS_OK when the spec is usable, else CS_ERR_ARGUMENT. */
cs_status cs_access_spec_check(const cs_access_spec *s);

/* W(d) of a checked spec: 0 beyond the catchment and for a NaN d; a negative d counts as
 * 0. */
double cs_access_weight(const cs_access_spec *s, double d_m);

/* The extent cells are laid out for: the box (x0, y0, x1, y1) of the demand points
 * and how many there are. */
typedef struct cs_access_extent {
    double box[4];
    size_t points;
} cs_access_extent;

/* The extent of the points px, py (N) with a position: what the cells of a study's
 * shards are laid out for (careshed shard writes it into each). */
cs_access_extent cs_access_extent_of(const double *px, const double *py, size_t N);

/*
 * The demand points px, py (N) sorted into the cells of a catchment, for
 * cs_access_straight: made once for the kinds that share the catchment, since only the
 * people of each point change from one kind to the next. The cells' size is chosen for
 * extent (NULL: the points' own); a shard gives its whole study's, so that each of its
 * sums adds the same points in the same order as the whole study's, to the last bit.
 * Made on `threads` (0: all cores), the same whatever their number. NULL without memory.
 */
typedef struct cs_access_cells cs_access_cells;
cs_access_cells *cs_access_cells_create(double catchment_m, const double *px, const double *py,
                                        size_t N, const cs_access_extent *extent, int threads);
void cs_access_cells_destroy(cs_access_cells *cells);
double cs_access_cells_catchment(const cs_access_cells *cells);

/*
 * Straight-line distances. fx, fy, supply: F facilities (supply <= 0 or NaN, or a
 * non-finite position: ignored, R_j = 0). px, py, demand: N points (demand = people of
 * the point; <= 0 or NaN counts as none; a point with a non-finite position reaches
 * nothing and gets A_i = 0); cells: the same points in cells of the spec's catchment,
 * or NULL to make them here. Outputs ratio[F] (R_j: supply per person, NOT multiplied
 * by per), access[N] (A_i, multiplied by per) and, unless NULL, state[F] (CS_ACCESS_*).
 * threads: 0 = all (OpenMP); results are bit-identical for any thread count.
 * Errors: CS_ERR_ARGUMENT (bad spec, NULL arrays, cells of another catchment or
 * number of points), CS_ERR_NOMEM.
 */
cs_status cs_access_straight(const cs_access_spec *s, const double *fx, const double *fy,
                             const double *supply, size_t F, const double *px,
                             const double *py, const double *demand, size_t N,
                             const cs_access_cells *cells, int threads, double *ratio,
                             double *access, unsigned char *state);

/*
 * Any travel cost. The callback lists the demand points that facility j reaches with
 * their costs into buf (grown with cs_access_pairs_reserve, which keeps pt and cost the
 * same capacity) and returns how many, or (size_t)-1 when memory runs out. Pairs costing
 * more than d0 (or NaN) may be listed: they weigh 0. It must be thread-safe for
 * different j and list a facility's pairs in the same order every time.
 */
typedef struct cs_access_pairs_buf {
    long *pt;     /* demand point indices, 0 <= pt < N */
    double *cost; /* their costs, same units as catchment_m */
    size_t cap;   /* capacity of both arrays */
} cs_access_pairs_buf;

typedef size_t (*cs_access_pairs_fn)(void *data, size_t j, cs_access_pairs_buf *buf);

/* Grow both arrays of buf to hold at least need pairs. */
bool cs_access_pairs_reserve(cs_access_pairs_buf *buf, size_t need);

/*
 * The engine calls pairs() once per facility with supply in step 1 and once more in
 * step 2. It holds the pairs of at most a chunk of facilities at a time: each chunk is
 * listed in parallel, then its R_j W(d) are added into access[] in facility order, so
 * the sums do not depend on the thread count. With s->three_step a first pass the same
 * way (step 2 with every ratio 1) sums each resident's weights for G, as the straight
 * engine does. Outputs as cs_access_straight.
 * Errors: CS_ERR_ARGUMENT (bad spec, NULL arrays, a pair naming no demand point),
 * CS_ERR_NOMEM (also when pairs() reports no memory).
 */
cs_status cs_access_pairs(const cs_access_spec *s, const double *supply, size_t F,
                          const double *demand, size_t N, cs_access_pairs_fn pairs,
                          void *data, int threads, double *ratio, double *access,
                          unsigned char *state);

#endif
