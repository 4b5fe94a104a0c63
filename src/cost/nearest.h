/*
 * nearest.h — a static spatial index over 2-D points (facilities) answering nearest-
 * neighbour and within-radius queries. It is the straight-line cost field's engine:
 * every demand point asks for its nearest facility once, never all pairs.
 */
#ifndef CS_NEAREST_H
#define CS_NEAREST_H

#include "core/core.h"

typedef struct cs_point_index cs_point_index;

/* Build over n points (copied; n may be 0). */
cs_status cs_point_index_create(const double *x, const double *y, size_t n,
                                cs_point_index **out);
void cs_point_index_destroy(cs_point_index *index);

/* Nearest point to (qx, qy): its index, or -1 when the index is empty (then
 * *dist_m = INFINITY) or the query is not finite (then *dist_m = NAN). Equal
 * distances resolve to the lowest index. */
long cs_point_index_nearest(const cs_point_index *index, double qx, double qy, double *dist_m);

/* nearest() for n queries on up to `threads` threads (0 = all); results identical for
 * any thread count. nearest_out may be NULL. */
void cs_point_index_nearest_all(const cs_point_index *index, const double *qx,
                                const double *qy, size_t n, int threads, double *dist_m,
                                long *nearest_out);

/* The order a batch of query points is visited in (the Morton order of their cells, so
 * that each search starts next to the last one's answer), made once for all the indexes
 * the same points are put to (the kinds of facility). NULL when there are too few
 * points for it to pay, or no memory: queries then go in input order, to the same
 * answers. */
typedef struct cs_query_order cs_query_order;
cs_query_order *cs_query_order_create(const double *qx, const double *qy, size_t n);
void cs_query_order_destroy(cs_query_order *order);

/* nearest_all() that also flags, in tied_out (may be NULL), each query that may have
 * more than one nearest point: never a tie unflagged; rarely a flag without a tie.
 * order: the queries' order, made for these n points, or NULL to make it here. */
void cs_point_index_nearest_all_tied(const cs_point_index *index, const double *qx,
                                     const double *qy, size_t n, const cs_query_order *order,
                                     int threads, double *dist_m, long *nearest_out,
                                     unsigned char *tied_out);

/* Every point at the nearest squared distance from (qx, qy) (the same squared distance
 * as computed, no tolerance), in increasing index order, into *out (grown with cs_grow;
 * *cap its capacity). Returns the count (0 for an empty index or a non-finite query),
 * or (size_t)-1 when memory runs out. */
size_t cs_point_index_ties(const cs_point_index *index, double qx, double qy, long **out,
                           size_t *cap);

/* Indices of all points within r_m of (qx, qy) (distance <= r_m), in increasing index
 * order, into *out (grown with cs_grow; *cap its capacity). Returns the count, or
 * (size_t)-1 when memory runs out. */
size_t cs_point_index_within(const cs_point_index *index, double qx, double qy, double r_m,
                             long **out, size_t *cap);

/* cs_cost_field_compute (careshed.h) that also lists, into *ties (may be NULL), the
 * demand points with more than one nearest facility of kind k, with all of them; order
 * is the demand points' (cs_query_order_create), or NULL. */
cs_status cs_cost_field_ties(cs_context *ctx, const cs_study *study, size_t k,
                             const cs_query_order *order, double *dist_m, long *nearest,
                             cs_ties *ties);
/* The same for the points px, py (np; ties list them by their index there). */
cs_status cs_cost_field_points(cs_context *ctx, const cs_study *study, size_t k,
                               const double *px, const double *py, size_t np,
                               const cs_query_order *order, double *dist_m, long *nearest,
                               cs_ties *ties);

#endif
