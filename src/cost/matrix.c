/*
 * matrix.c — the cost field from a cost matrix another router made (costs.*): for
 * every demand point, its cheapest facility of one kind among the pairs the matrix
 * lists, in metres (minutes walked at the kind's speed). Points no pair reaches are
 * at INFINITY. Points whose cheapest cost two or more facilities share (the same
 * number, as converted) are listed apart, with all of them.
 */
#include "cost/matrix.h"

#include <math.h>

/* The tied points' facilities: a second pass over the kind's pairs, only when the
 * first met a tie. */
static bool list_ties(const cs_study *s, size_t k, const double *dist_m, unsigned char *tied,
                      cs_ties *ties)
{
    const cs_cost_matrix *m = &s->costs;
    const cs_kind *kind = &s->settings.kinds[k];
    size_t *count = cs_calloc(s->dem.count + 1, sizeof *count);
    size_t *first = cs_calloc(s->dem.count + 2, sizeof *first);
    long *fac = NULL;
    bool ok = count && first;
    /* count, then place (facilities in increasing order), as CSR */
    for (int pass = 0; ok && pass < 2; pass++) {
        for (size_t f = 0; f < s->fac.count; f++) {
            if (s->fac.kind[f] != (long)k)
                continue;
            for (size_t q = m->start[f]; q < m->end[f]; q++) {
                size_t i = m->pt[q];
                if (!tied[i] || cs_kind_matrix_m(kind, m->in_m, m->cost[q]) != dist_m[i])
                    continue;
                if (pass == 0)
                    count[i]++;
                else if (count[i] == 0 || fac[first[i] + count[i] - 1] != (long)f)
                    fac[first[i] + count[i]++] = (long)f; /* a pair listed twice once */
            }
        }
        if (pass == 0) {
            for (size_t i = 0; i < s->dem.count; i++) {
                first[i + 1] = first[i] + count[i];
                count[i] = 0;
            }
            ok = (fac = cs_calloc(first[s->dem.count] + 1, sizeof *fac)) != NULL;
        }
    }
    for (size_t i = 0; ok && i < s->dem.count; i++)
        if (count[i] > 1)
            ok = cs_ties_add(ties, i, fac + first[i], count[i]);
    cs_free(count);
    cs_free(first);
    cs_free(fac);
    return ok;
}

bool cs_matrix_cost_field(const cs_study *s, size_t k, double *dist_m, long *nearest,
                          cs_ties *ties)
{
    const cs_cost_matrix *m = &s->costs;
    const cs_kind *kind = &s->settings.kinds[k];
    unsigned char *tied = ties ? cs_calloc(s->dem.count + 1, 1) : NULL;
    if (ties && !tied)
        return false;
    bool any = false;
    for (size_t i = 0; i < s->dem.count; i++) {
        dist_m[i] = INFINITY;
        nearest[i] = -1;
    }
    /* facilities in order and a strict comparison: ties go to the lowest index */
    for (size_t f = 0; f < s->fac.count; f++) {
        if (s->fac.kind[f] != (long)k)
            continue;
        for (size_t q = m->start[f]; q < m->end[f]; q++) {
            double d = cs_kind_matrix_m(kind, m->in_m, m->cost[q]);
            if (d < dist_m[m->pt[q]]) {
                dist_m[m->pt[q]] = d;
                nearest[m->pt[q]] = (long)f;
                if (tied)
                    tied[m->pt[q]] = 0;
            } else if (tied && d == dist_m[m->pt[q]] && isfinite(d) &&
                       nearest[m->pt[q]] != (long)f) {
                tied[m->pt[q]] = 1;
                any = true;
            }
        }
    }
    bool ok = !any || list_ties(s, k, dist_m, tied, ties);
    cs_free(tied);
    return ok;
}

size_t cs_matrix_reach(const cs_study *s, size_t k, size_t row, double reach_m, long *pt,
                       double *cost)
{
    const cs_cost_matrix *m = &s->costs;
    size_t n = 0;
    for (size_t q = m->start[row]; q < m->end[row]; q++) {
        double d = cs_kind_matrix_m(&s->settings.kinds[k], m->in_m, m->cost[q]);
        if (d <= reach_m) {
            pt[n] = (long)m->pt[q];
            cost[n++] = d;
        }
    }
    return n;
}
