/*
 * result.h — the private shape of cs_result: cost fields, coverage tables, facility
 * statistics and target outcomes, all as flat arrays indexed by the helpers below.
 * Index a == area_count stands for the whole district.
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
    cs_net net;             /* the network, when any kind is measured along it */
    cs_net_field *fields;   /* per kind: its network search (node costs), for service areas */
    /* accessibility (2SFCA) of kinds with a load capacity (NULL elsewhere), main measure */
    double **access;       /* per kind: each demand point's supply per access_per residents */
    double **fac_ratio;    /* per kind: per facility of the study, its supply per resident
                              reached (step one), NaN for other kinds' facilities */
    double *access_mean;   /* K x (A + 1): band-weighted mean accessibility, NaN when none */
    struct cs_patch_set *patches; /* per kind: under-served patches, ranked */
    double *fac_count;  /* K x (A + 1) facilities */
    double *fac_cap;    /* K x (A + 1) x C capacity */
    cs_target_outcome *outcomes; /* T x (A + 1) */
    char **gap_texts;            /* T x (A + 1), NULL where passing */
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
    return cs_measure_index(r->study->kinds[k].main_measure);
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

/* A facility's use (the residents of its kind's load band it serves, times the load
 * rate) and its capacity; false when its kind has no load capacity. */
static inline bool cs_res_load(const cs_result *r, size_t f, double *use, double *cap)
{
    const cs_kind *k = &r->study->kinds[r->study->fac_kind[f]];
    if (k->load_capacity < 0)
        return false;
    *cap = r->study->fac_capacity[f * r->C + (size_t)k->load_capacity];
    *use = r->served[f * r->B + (size_t)k->load_band] * k->load_rate;
    return true;
}

/* Coverage tables and facility statistics from the cost fields (cover/coverage.c). */
cs_status cs_cover_tabulate(cs_context *ctx, cs_result *r);

/* Who each facility serves (r->served), from the main measure's cost fields. */
cs_status cs_cover_catchments(cs_context *ctx, cs_result *r);

/* Run job(data, h, district, i) for every i < jobs on up to `threads` threads (0 = all),
 * each thread with its own GEOS handle and its own copy of the district (GEOS objects
 * are not shared between threads); false when any job or set-up failed. */
typedef bool (*cs_cover_job)(const void *data, cs_geos h, const cs_geom *district, long i);
bool cs_cover_run_jobs(const cs_study *s, long jobs, int threads, cs_cover_job job,
                       const void *data);

/* Service circles of every kind k and threshold j: the union of discs around the
 * kind's facilities, clipped to the district, into out[k * CS_MAX_THRESHOLDS + j]
 * (NULL where the kind has no such threshold); new geometries, destroy each with the
 * study's GEOS handle (cover/circles.c). */
cs_status cs_cover_circles(cs_context *ctx, const cs_study *study, cs_geom **out);

/* The network reached from a search within budget_m, as polylines (partial edges cut
 * exactly at the budget). Errors: CS_ERR_NOMEM (cover/network_areas.c). */
cs_status cs_cover_reached_lines(const cs_net_field *f, double budget_m, cs_lines *out);

/* Network service areas of every kind k measured along the network and threshold j,
 * into lines[k * CS_MAX_THRESHOLDS + j] (the reached network) and polys[...] (those
 * lines buffered by the access width and dissolved; NULL where not measured, or larger
 * than network.area_max_pieces). Destroy polygons with the study's GEOS handle, free the lines. */
cs_status cs_cover_network_areas(cs_context *ctx, const cs_result *r, cs_lines *lines,
                                 cs_geom **polys);

/* Each facility's own network service area at its kind's largest threshold, into
 * polys[f] (NULL for facilities off the network or of kinds not measured so). */
cs_status cs_cover_facility_areas(cs_context *ctx, const cs_result *r, cs_geom **polys);

/* Under-served patches of every kind (cover/underserved.c); free with the result. */
cs_status cs_cover_patches(cs_context *ctx, cs_result *r);
void cs_cover_patches_free(cs_result *r);

/* Accessibility (2SFCA) of every kind with a capacity (access/kinds.c), and the
 * settings of kind k's (its catchment, decay, weights and unit). */
cs_status cs_access_kinds(cs_context *ctx, cs_result *r);
struct cs_access_spec;
void cs_access_kind_spec(const cs_kind *k, struct cs_access_spec *spec);

/* Every target at the district and every area (plan/targets.c). */
cs_status cs_plan_evaluate(cs_context *ctx, cs_result *r);

#endif
