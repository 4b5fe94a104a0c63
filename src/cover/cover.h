/*
 * cover.h — the coverage stage: from the cost fields of a run to its coverage tables,
 * catchments, service circles and network service areas, and under-served patches.
 */
#ifndef CS_COVER_H
#define CS_COVER_H

#include "cover/result.h"

/* Coverage tables and facility statistics from the cost fields (cover/coverage.c). */
cs_status cs_cover_tabulate(cs_context *ctx, cs_result *r);

/* Who each facility serves (r->served), from the main measure's cost fields. */
cs_status cs_cover_catchments(cs_context *ctx, cs_result *r);

/* Run job(data, h, district, i) for every i < jobs on up to `threads` threads (0 = all),
 * each thread with its own GEOS handle and its own copy of the district (GEOS objects
 * are not shared between threads); false when any job or set-up failed. */
typedef bool (*cs_cover_job)(const void *data, cs_geos h, const cs_geom *district, long i);
bool cs_cover_run_jobs(const cs_areas *areas, long jobs, int threads, cs_cover_job job,
                       const void *data);

/* Service circles of every kind k with drawn[k] (NULL: every kind) and threshold j: the
 * union of discs around the kind's facilities, clipped to the district, into
 * out[k * CS_MAX_THRESHOLDS + j] (NULL where the kind has no such threshold or is not
 * drawn); new geometries, destroy each with the study's GEOS handle (cover/circles.c). */
cs_status cs_cover_circles(cs_context *ctx, const cs_study *study, const bool *drawn,
                           cs_geom **out);

/* The network reached from a search within budget_m but not within before_m (< 0:
 * all of it), as polylines (partial edges cut exactly at the budgets; pieces that
 * follow each other on one street joined into one line), and into *pieces (when not
 * NULL) how many street pieces they are. Errors: CS_ERR_NOMEM (cover/network_areas.c). */
cs_status cs_cover_reached_lines(const cs_net_field *f, double budget_m, double before_m,
                                 cs_lines *out, size_t *pieces);

/* Network service areas of every kind k measured along the network and threshold j:
 * lines[k * CS_MAX_THRESHOLDS + j], the network first reached within threshold j (within
 * it, not within threshold j - 1: each street piece once per kind), and polys[...], all
 * the network reached within threshold j buffered by the access width and dissolved,
 * or drawn on cells beyond network.area_max_pieces pieces (NULL where not measured).
 * The polygons are held as rings (cs_rings_destroy them), not as GEOS geometries: a
 * city's take some 24 bytes a vertex as GEOS, 16 as rings, and are only written. */
cs_status cs_cover_network_areas(cs_context *ctx, const cs_result *r, cs_lines *lines,
                                 cs_rings **polys);

/* The same in two steps, so that the graph and its searches can be let go between them
 * (cs_result_write_releasing): the lines, from the graph and the searches, and what the
 * polygons will need (*drawing); then the polygons, from the lines and *drawing alone,
 * which it frees. A province's lines are 0.4 GB, its graph and searches 0.6 GB. */
typedef struct cs_network_drawing cs_network_drawing;
cs_status cs_cover_network_lines(cs_context *ctx, const cs_result *r, cs_lines *lines,
                                 cs_network_drawing **drawing);
cs_status cs_cover_network_polygons(cs_context *ctx, const cs_result *r, const cs_lines *lines,
                                    cs_network_drawing *drawing, cs_rings **polys);
void cs_network_drawing_destroy(cs_network_drawing *drawing);

/* Each facility's own network service area at its kind's largest threshold, into
 * polys[f] (NULL for facilities off the network or of kinds not measured so). */
cs_status cs_cover_facility_areas(cs_context *ctx, const cs_result *r, cs_rings **polys);

/* Under-served patches of every kind (cover/underserved.c); free with the result. */
cs_status cs_cover_patches(cs_context *ctx, cs_result *r);
void cs_cover_patches_free(cs_result *r);

#endif
