/*
 * matrix.c — the cost field from a cost matrix another router made (costs.*): for
 * every demand point, its cheapest facility of one kind among the pairs the matrix
 * lists, in metres (minutes walked at the kind's speed). Points no pair reaches are
 * at INFINITY.
 */
#include "cost/matrix.h"

#include <math.h>

void cs_matrix_cost_field(const cs_study *s, size_t k, double *dist_m, long *nearest)
{
    const cs_cost_matrix *m = &s->costs;
    const cs_kind *kind = &s->kinds[k];
    for (size_t i = 0; i < s->demand_count; i++) {
        dist_m[i] = INFINITY;
        nearest[i] = -1;
    }
    /* facilities in order and a strict comparison: ties go to the lowest index */
    for (size_t f = 0; f < s->facility_count; f++) {
        if (s->fac_kind[f] != (long)k)
            continue;
        for (size_t q = m->start[f]; q < m->end[f]; q++) {
            double d = cs_kind_matrix_m(kind, m->in_m, m->cost[q]);
            if (d < dist_m[m->pt[q]]) {
                dist_m[m->pt[q]] = d;
                nearest[m->pt[q]] = (long)f;
            }
        }
    }
}

size_t cs_matrix_reach(const cs_study *s, size_t k, size_t row, double reach_m, long *pt,
                       double *cost)
{
    const cs_cost_matrix *m = &s->costs;
    size_t n = 0;
    for (size_t q = m->start[row]; q < m->end[row]; q++) {
        double d = cs_kind_matrix_m(&s->kinds[k], m->in_m, m->cost[q]);
        if (d <= reach_m) {
            pt[n] = (long)m->pt[q];
            cost[n++] = d;
        }
    }
    return n;
}
