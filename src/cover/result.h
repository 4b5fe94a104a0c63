/*
 * result.h — the private shape of cs_result: cost fields, coverage tables, facility
 * statistics and target outcomes, all as flat arrays indexed by the helpers below.
 * Index a == the study's areas.count stands for the whole district.
 */
#ifndef CS_RESULT_H
#define CS_RESULT_H

#include "io/study.h"
#include "net/network.h"

struct cs_result {
    const cs_study *study;
    size_t K, A, B, C; /* kinds, areas, bands, capacities */
    /* per measure and kind (index m * K + k; NULL where the kind is not measured so):
     * distance of each demand point to its nearest facility, and that facility's index
     * in the study (-1 when none) */
    double **dist_m;
    long **nearest;
    cs_ties *ties;      /* per measure and kind: the points with several nearest facilities
                           (the same cost), which nearest lists by the lowest index */
    double *population; /* (A + 1) x B residents */
    double *covered;    /* M x K x CS_MAX_THRESHOLDS x (A + 1) x B residents within reach */
    double *served;     /* F x B: residents whose nearest facility within the kind's largest
                           threshold (main measure) is this one; a resident with several
                           at the same cost counts an equal share in each */
    bool has_network;
    cs_net net;           /* the network, when any kind is measured along it */
    cs_net_field *fields; /* per kind: its network search (node costs), for service areas */
    bool network_freed;   /* graph, searches and demand attachments let go once the service
                             areas were drawn (cs_result_write_releasing) */
    /* accessibility (2SFCA) of kinds with a load capacity (NULL elsewhere), main measure */
    double **access;     /* per kind: each demand point's supply per access_per residents */
    double **fac_ratio;  /* per kind: per facility of the study, its supply per resident
                            reached (step one), NaN for other kinds' facilities */
    double *access_mean; /* K x (A + 1): band-weighted mean accessibility, NaN when none */
    struct cs_patch_set *patches; /* per kind: under-served patches, ranked */
    double *fac_count;            /* K x (A + 1) facilities */
    double *fac_cap;              /* K x (A + 1) x C capacity */
    cs_target_outcome *outcomes;  /* T x (A + 1) */
    char **gap_texts;             /* CS_LANGS x T x (A + 1), NULL where passing */
    struct {                      /* a result careshed merge joined from shards */
        char *dir;                /* their folder; NULL: a run of the whole study */
        size_t parts;
        long *missing;            /* the shards without results (--partial), from 1 */
        size_t missing_count;
    } merged;
};

static inline size_t cs_res_pop(const cs_result *r, size_t a, size_t b)
{
    return a * r->B + b;
}
static inline size_t cs_res_cov(const cs_result *r, size_t m, size_t k, size_t j, size_t a,
                                size_t b)
{
    return (((m * r->K + k) * CS_MAX_THRESHOLDS + j) * (r->A + 1) + a) * r->B + b;
}
static inline size_t cs_res_field(const cs_result *r, size_t m, size_t k)
{
    return m * r->K + k;
}
/* The measure index a kind's main figures use: the network when measured, else straight. */
static inline size_t cs_res_main(const cs_result *r, size_t k)
{
    return cs_measure_index(r->study->settings.kinds[k].main_measure);
}
/* An area argument of the API into *a: CS_DISTRICT is the district (index A); false
 * when out of range. */
static inline bool cs_res_area(const cs_result *r, size_t *a)
{
    if (*a == CS_DISTRICT)
        *a = r->A;
    return *a <= r->A;
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
/* Where target t's gap text in area a in language lang is kept in gap_texts. */
static inline size_t cs_res_text(const cs_result *r, size_t t, size_t a, cs_lang lang)
{
    return (size_t)lang * r->study->settings.target_count * (r->A + 1) + cs_res_target(r, t, a);
}
/* That text; NULL where the target is met. */
static inline const char *cs_res_gap_text(const cs_result *r, size_t t, size_t a, cs_lang lang)
{
    return r->gap_texts[cs_res_text(r, t, a, lang)];
}

/* A facility's use (the residents of its kind's load band it serves, times the load
 * rate) and its capacity; false when its kind has no load capacity. */
static inline bool cs_res_load(const cs_result *r, size_t f, double *use, double *cap)
{
    const cs_kind *k = &r->study->settings.kinds[r->study->fac.kind[f]];
    if (k->load_capacity < 0)
        return false;
    *cap = r->study->fac.capacity[f * r->C + (size_t)k->load_capacity];
    *use = r->served[f * r->B + (size_t)k->load_band] * k->load_rate;
    return true;
}

#endif
