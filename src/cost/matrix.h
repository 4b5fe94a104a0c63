/*
 * matrix.h — costs from the study's cost matrix (costs.*), in metres for a kind.
 */
#ifndef CS_MATRIX_H
#define CS_MATRIX_H

#include "io/study.h"

/* Each demand point's cheapest facility of kind k by the matrix: its cost in metres
 * into dist_m (INFINITY when no pair reaches it) and its index into nearest (-1; the
 * lowest index among equal costs); into *ties (may be NULL) the points whose cheapest
 * cost several facilities share, with all of them. False when memory runs out. */
bool cs_matrix_cost_field(const cs_study *s, size_t k, double *dist_m, long *nearest,
                          cs_ties *ties);

/* The pairs of matrix row `row` within reach_m (in metres for kind k), in point order,
 * into pt and cost (room for the row's pairs: cs_matrix_row_size). Returns the count. */
size_t cs_matrix_reach(const cs_study *s, size_t k, size_t row, double reach_m, long *pt,
                       double *cost);

static inline size_t cs_matrix_row_size(const cs_study *s, size_t row)
{
    return s->costs.end[row] - s->costs.start[row];
}

#endif
