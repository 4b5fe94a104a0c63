/*
 * load.h — the first half of loading a study: reading each layer's features into
 * plain arrays in the layer's own CRS, checking every field and value on the way.
 * The second half (study.c) moves everything into the working CRS and locates points
 * in areas.
 */
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include "io/study.h"

/* What every layer keeps besides its features. */
typedef struct cs_raw_layer {
    char *display;  /* path as the user gave it */
    char *srs;      /* configured CRS text, else the layer's WKT, else NULL */
    bool srs_from_config;
    bool csv;       /* rows are named by line (the header is line 1), not feature */
    cs_input input; /* for the summary */
} cs_raw_layer;

typedef struct cs_raw_areas {
    cs_raw_layer layer;
    size_t count;
    char **id, **name;
    long *feature;
    cs_rings polys;     /* one entry per polygon (shell first), source CRS */
    size_t *first_poly; /* area a owns polygons [first_poly[a], first_poly[a + 1]) */
} cs_raw_areas;

typedef struct cs_raw_points {
    cs_raw_layer layer;
    size_t count, cap;
    double *x, *y;      /* source coordinates */
    long *feature;      /* 1-based feature number, for messages */
    char **id, **name;  /* facilities (NULL for population) */
    long *kind;         /* facilities: index into the study's kinds, -1 = ignored */
    double *values;     /* count x value_count: capacities or population bands */
    size_t value_count;
} cs_raw_points;

void cs_raw_areas_free(cs_raw_areas *a);
void cs_raw_points_free(cs_raw_points *p);

/* Read the areas layer. Errors are recorded; returns the first error status. */
cs_status cs_load_areas(cs_context *ctx, const cs_config *cfg, cs_raw_areas *out);

/* Read facilities; sets the study's kinds and capacities (from cfg or the data). */
cs_status cs_load_facilities(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             cs_raw_points *out);

/* Read population; sets the study's bands (from cfg or the data). */
cs_status cs_load_population(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             cs_raw_points *out);

/* Where feature number `feature` of a raw layer is, for messages. */
cs_where cs_raw_where(const cs_raw_layer *raw, long feature, const char *id);

/* Report duplicate ids among n (feature numbers for messages); role is the study key
 * ("areas", "facilities"). */
cs_status cs_check_unique_ids(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                              char *const *ids, const long *feature, size_t n);

#endif
