/*
 * result.h — the private shape of cs_result: cost fields, coverage tables, facility
 * statistics and target outcomes, all as flat arrays indexed by the helpers below.
 * Index a == area_count stands for the whole district.
 */
#ifndef CS_RESULT_H
#define CS_RESULT_H

#include "io/study.h"

struct cs_result {
    const cs_study *study;
    size_t K, A, B, C; /* kinds, areas, bands, capacities */
    double **dist_m;   /* per kind: distance of each demand point to its nearest facility */
    long **nearest;    /* per kind: that facility's index in the study, or -1 */
    double *population; /* (A + 1) x B residents */
    double *covered;    /* K x CS_MAX_THRESHOLDS x (A + 1) x B residents within reach */
    double *fac_count;  /* K x (A + 1) facilities */
    double *fac_cap;    /* K x (A + 1) x C capacity */
    cs_target_outcome *outcomes; /* T x (A + 1) */
    char **gap_texts;            /* T x (A + 1), NULL where passing */
};

static inline size_t cs_res_pop(const cs_result *r, size_t a, size_t b)
{
    return a * r->B + b;
}
static inline size_t cs_res_cov(const cs_result *r, size_t k, size_t j, size_t a, size_t b)
{
    return ((k * CS_MAX_THRESHOLDS + j) * (r->A + 1) + a) * r->B + b;
}
static inline size_t cs_res_count(const cs_result *r, size_t k, size_t a)
{
    return k * (r->A + 1) + a;
}
static inline size_t cs_res_cap(const cs_result *r, size_t k, size_t a, size_t c)
{
    return (k * (r->A + 1) + a) * r->C + c;
}
static inline size_t cs_res_target(const cs_result *r, size_t t, size_t a)
{
    return t * (r->A + 1) + a;
}

/* Coverage tables and facility statistics from the cost fields (cover/coverage.c). */
cs_status cs_cover_tabulate(cs_context *ctx, cs_result *r);

/* Service circles of every kind k and threshold j: the union of discs around the
 * kind's facilities, clipped to the district, into out[k * CS_MAX_THRESHOLDS + j]
 * (NULL where the kind has no such threshold); new geometries, destroy each with the
 * study's GEOS handle (cover/circles.c). */
cs_status cs_cover_circles(cs_context *ctx, const cs_study *study, cs_geom **out);

/* Every target at the district and every area (plan/targets.c). */
cs_status cs_plan_evaluate(cs_context *ctx, cs_result *r);

#endif
