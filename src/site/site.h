/*
 * site.h — the private shape of cs_site: what proposed sites would change, from the
 * run's cost fields and a search around each site only (site/evaluate.c).
 */
#ifndef CS_SITE_H
#define CS_SITE_H

#include "cover/result.h"

/* One proposed site, placed in the study. */
typedef struct cs_proposal {
    char *id;
    double lon, lat, x, y;
    long kind;
    double capacity;  /* in the kind's load capacity; NaN when not given */
    long area;        /* -1: outside every area (only just: within the tolerance) */
    long row;         /* its row of the cost matrix, -1 when none */
} cs_proposal;

/* What one proposal (or all of them together: index P) changes. */
typedef struct cs_site_effect {
    double *newly;          /* K x M x CS_MAX_THRESHOLDS x (A + 1) x B residents newly
                               covered (cs_site_at) */
    double within, overlap; /* patch band within its largest threshold; share already covered */
    double access_gain;     /* district mean accessibility gained (its kind's units) */
    double load_taken;      /* capacity units of use moved from neighbouring facilities */
    size_t neighbours;      /* facilities losing residents to it */
    double own_load;        /* its use (residents it would serve x rate) over its capacity */
    cs_target_outcome *after; /* T x (A + 1) */
    char **after_texts;     /* their gap texts */
} cs_site_effect;

struct cs_site {
    const cs_result *r;
    size_t P;
    cs_proposal *proposals;
    cs_site_effect *effects; /* P + 1: each alone, then all together */
    char *line;              /* the last one-line answer */
    double *gain;            /* suggested sites: marginal gains (NULL for proposals) */
    cs_suggest_report suggest; /* suggested sites: how they were chosen */
    cs_buf assignment;       /* capacitated: assignment.csv (empty otherwise) */
};

/* Residents around a position with their costs (site/evaluate.c). */
typedef struct cs_pairs {
    size_t n, cap;
    long *pt;
    double *cost;
} cs_pairs;
typedef struct cs_reacher cs_reacher;
/* A reacher with its own shared part (cs_site_cache), or borrowing one, which must
 * outlive it; *out even on failure (free with cs_reacher_destroy). */
cs_status cs_reacher_create(const cs_result *r, cs_reacher **out);
cs_status cs_reacher_create_shared(const cs_site_cache *shared, cs_reacher **out);
/* The shared part alone, reaching along the network only the demand points kept (keep
 * NULL: all); *out even on failure (free with cs_site_cache_destroy). */
cs_status cs_site_cache_build(const cs_result *r, const unsigned char *keep,
                              cs_site_cache **out);
const cs_result *cs_site_cache_result(const cs_site_cache *c);
void cs_reacher_destroy(cs_reacher *rc);
/* The residents within reach_m (metres) of a site of kind k at (x, y), whose row of the
 * cost matrix is row (-1: none), by measure m, into out (grown). Errors: CS_ERR_NOMEM. */
cs_status cs_reacher_reach(cs_reacher *rc, double x, double y, long row, size_t k, size_t m,
                           double reach_m, cs_pairs *out);

/* The area a site at (x, y) (working CRS) counts in: the one holding it, else one within
 * settings.outside_tolerance_m; -1 when none, and the site cannot be placed. */
long cs_site_area_at(const cs_study *s, double x, double y);

/* Place proposals (checked, in the working CRS) without evaluating them; *out is new.
 * noun names them in messages ("proposal", "candidate"). Errors as cs_site_evaluate's. */
cs_status cs_site_place(cs_context *ctx, const cs_result *r, const cs_site_input *in, size_t n,
                        const char *where, const char *noun, cs_site **out);

/* Evaluate every proposal of site (placed already) against r (site/evaluate.c), with
 * the searches' shared part from cache (NULL: built for this call). */
cs_status cs_site_run(cs_context *ctx, const cs_result *r, const cs_site_cache *cache,
                      cs_site *site);

static inline size_t cs_site_at(const cs_result *r, size_t k, size_t m, size_t j, size_t a,
                                size_t b)
{
    return cs_res_cov(r, m, k, j, a, b);
}

#endif
