/*
 * search.h — shortest walks on the network graph.
 *
 * The cost field of a facility kind comes from ONE multi-source search started from
 * all of its facilities at once, bounded by the kind's largest threshold: every node
 * learns its cost to the nearest facility and which one it is. A resident's cost is
 * then read off its edge: the cheaper of its two end nodes plus the part of the edge
 * walked, or straight along the edge when a facility sits on the same edge, plus both
 * access distances. Partial edges are exact at both ends.
 *
 * One search per facility (cs_net_each_source) gives the same costs the
 * straightforward way; it serves per-facility service areas and the benchmark.
 */
#ifndef CS_NET_SEARCH_H
#define CS_NET_SEARCH_H

#include "net/graph.h"

/* The result of one bounded multi-source search. */
typedef struct cs_net_field {
    const cs_graph *g;   /* borrowed */
    double budget_m;     /* costs beyond it are unknown (INFINITY) */
    double *node_cost;   /* node_count: walking metres to the nearest source */
    long *node_src;      /* node_count: that source's id, -1 when beyond the budget */
    /* the sources, sorted by edge (then along_m, then id), for same-edge walks */
    size_t src_count;
    long *src_edge, *src_id;
    double *src_along_m, *src_access_m;
    uint64_t *src_edge_bits; /* bit e set: a source is on edge e (most edges have none) */
    /* nodes two or more sources reach at the same cost: node_tie[n] is 0 for others,
       else its tie set's index + 1; set i is tie_src[tie_start[i] .. tie_start[i + 1]),
       increasing ids */
    uint32_t *node_tie;
    size_t tie_sets;
    size_t *tie_start;
    long *tie_src;
} cs_net_field;

/*
 * Search from every source whose edge is >= 0 (sources off the network are skipped).
 * src_id[i] is the id reported for source i (e.g. its facility index); NULL = i.
 * Equal costs resolve to the lowest id, so the result does not depend on input order.
 * Errors: CS_ERR_NOMEM; CS_ERR_ARGUMENT when an id is negative or not below UINT32_MAX.
 */
cs_status cs_net_field_compute(const cs_graph *g, const cs_attach *src, const long *src_id,
                               double budget_m, cs_net_field *out);
void cs_net_field_free(cs_net_field *f);
/* Let go of each node's nearest sources (node_src and the ties), keeping its cost and the
 * sources: what the reached stretches (cs_net_field_reached) need. */
void cs_net_field_keep_costs(cs_net_field *f);

/*
 * The cost of each attached point (access included) and its nearest source id, on up
 * to `threads` threads. Points off the network, or costing more than the budget, get
 * INFINITY and -1. nearest may be NULL.
 */
void cs_net_field_points(const cs_net_field *f, const cs_attach *pts, int threads,
                         double *cost_m, long *nearest);

/* cs_net_field_points that also flags, in tied (may be NULL), each point that another
 * source may reach at the same cost: never a tie unflagged. */
void cs_net_field_points_tied(const cs_net_field *f, const cs_attach *pts, int threads,
                              double *cost_m, long *nearest, unsigned char *tied);

/* Every source at the cheapest cost of a point at (e, t) on the network (access not
 * included: it is the same for every source), as computed by the search: their ids,
 * increasing, into *out (grown with cs_grow; *cap its capacity). Returns the count, 0
 * when no source reaches the point, or (size_t)-1 when memory runs out. */
size_t cs_net_point_ties(const cs_net_field *f, long e, double t, long **out, size_t *cap);

/* A reached stretch of an edge: along-distances from_m <= to_m. */
typedef struct cs_interval {
    long edge;
    double from_m, to_m;
} cs_interval;

/*
 * The stretches of network reachable within budget_m (<= f->budget_m) of a source,
 * access distance included: whole edges and partial edges cut exactly at the budget.
 * Sorted by edge, then from_m; overlapping stretches of one edge are merged.
 * Returns the count into *out (grown with cs_grow), or (size_t)-1 when memory runs out.
 */
size_t cs_net_field_reached(const cs_net_field *f, double budget_m, cs_interval **out,
                            size_t *cap);

/* The same for edge e alone, appended to *out (*n held): visit the edges in increasing
 * order, with *next_src 0 before the first (several budgets may share it: it only
 * depends on e), so that the whole network's stretches need not be held at once.
 * Returns false when memory runs out. */
bool cs_net_field_edge_reached(const cs_net_field *f, size_t e, double budget_m,
                               size_t *next_src, cs_interval **out, size_t *cap, size_t *n);

/*
 * The straightforward way: one bounded search per source, each touching only the
 * nodes it reaches; for each point the cheapest over all sources (ties: lowest id).
 * Gives the same cost_m/nearest as cs_net_field_compute + cs_net_field_points.
 * Errors: CS_ERR_NOMEM; CS_ERR_ARGUMENT as cs_net_field_compute.
 */
cs_status cs_net_each_source(const cs_graph *g, const cs_attach *src, const long *src_id,
                             double budget_m, const cs_attach *pts, double *cost_m,
                             long *nearest);

/*
 * Every point one source reaches, for measures that need all pairs within reach (the
 * 2SFCA catchments), not just the nearest source. A cs_net_reach indexes the points by
 * edge (shared, read-only); a cs_net_scratch is one thread's search memory.
 */
typedef struct cs_net_reach cs_net_reach;
typedef struct cs_net_scratch cs_net_scratch;
/* keep (may be NULL: all): the points to list (the others are never reached). */
cs_status cs_net_reach_create(const cs_graph *g, const cs_attach *pts,
                              const unsigned char *keep, cs_net_reach **out);
void cs_net_reach_destroy(cs_net_reach *r);
cs_net_scratch *cs_net_scratch_create(const cs_graph *g); /* NULL when memory runs out */
void cs_net_scratch_destroy(cs_net_scratch *s);

/* The points within budget_m of a source at (edge, along_m, access_m): their indices
 * and costs (access distances included, each point once at its cheapest) into *pt and
 * *cost (grown; *cap their capacity), in a fixed order. Returns the count, or
 * (size_t)-1 when memory runs out. edge < 0 (off the network) reaches nothing. */
size_t cs_net_reach_from(const cs_net_reach *r, cs_net_scratch *s, long edge, double along_m,
                         double access_m, double budget_m, long **pt, double **cost,
                         size_t *cap);

/* The points the reach lists, in its order (by edge): their count, each one's index
 * among the points, and where each edge's start (edge e: first[e] .. first[e + 1] - 1). */
size_t cs_net_reach_count(const cs_net_reach *r);
const size_t *cs_net_reach_points(const cs_net_reach *r);
const size_t *cs_net_reach_edge_first(const cs_net_reach *r);

/*
 * What one source reaches, by bands of cost: limit[0] < ... < limit[nb - 1] (the
 * budget, nb < 256), a cost c lying in the first band b with c <= limit[b]. Edges all
 * of whose points lie in one band are listed whole (edge, band); the points of the
 * other edges within the budget one by one (position in the reach's order, cost, as
 * cs_net_reach_from gives it). Where costs only matter by band (2SFCA without decay or
 * with steps), most edges are then one entry rather than one per resident.
 */
typedef struct cs_net_banded {
    uint32_t *edge;
    uint8_t *band;
    size_t ne, ecap;
    uint32_t *pos;
    double *cost;
    size_t np, pcap;
} cs_net_banded;
/* Fills out (grown as needed; emptied first); false when memory runs out. */
bool cs_net_reach_banded(const cs_net_reach *r, cs_net_scratch *s, long edge, double along_m,
                         double access_m, const double *limit, size_t nb, cs_net_banded *out);
void cs_net_banded_free(cs_net_banded *b);

#endif
