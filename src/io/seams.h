/*
 * seams.h — where the areas (streets) overlap and where they leave gaps between them
 * (io/seams.c).
 *
 * Real boundaries are digitised and simplified street by street, so neighbours overlap
 * here and leave slivers there. Without a rule, residents given over polygons or grid
 * cells in an overlap would be counted in both streets. The rule: an overlap belongs
 * to the area that comes first in the areas layer, as a point in it already did
 * (cs_area_index_locate gives the lowest-numbered area). The other area's geometry
 * loses the overlap at load, so every point of the plane lies in at most one area's
 * geometry and the district total equals the residents placed. A gap is a hole of the
 * union of the areas (whatever its size: a digitising sliver or an enclave of another
 * district); residents given over a gap are outside every area and left out.
 */
#ifndef CS_SEAMS_H
#define CS_SEAMS_H

#include "io/study.h"

/* One overlap or gap. */
typedef struct cs_seam {
    long a, b;     /* overlap: its two areas, a < b, a owns it; gap: up to two areas
                      it borders (-1 when fewer) */
    cs_geom *geom; /* in the working CRS */
    double m2;
    double x, y;      /* a point on it (working CRS) */
    double lon, lat;  /* the same in WGS84 */
    double residents; /* total band: placed in it (overlap) or left out in it (gap) */
} cs_seam;

/*
 * Find the overlaps between the study's areas and its gaps (the areas, their index and
 * the district must be built), give each overlap to its first area (the other loses it
 * from areas.geom and areas.m2; an area left with no ground is warned about, naming
 * areas_file) and fill study->areas.overlaps and study->areas.gaps. Errors:
 * CS_ERR_NOMEM, CS_ERR_INTERNAL (GEOS failed), CS_ERR_CRS (the working CRS cannot be
 * turned back into lon/lat).
 */
cs_status cs_seams_find(cs_context *ctx, cs_study *study, const char *areas_file);

/* Add the residents of n located points to the seams they lie in: area[i] >= 0 is the
 * area holding point i (overlaps of that area are tested), -1 outside every area (gaps
 * are tested). pop is the total band, stride values apart. */
void cs_seams_count_points(cs_study *study, const double *x, const double *y, const double *pop,
                           size_t stride, const long *area, size_t n);

/* Warnings for the overlaps and gaps: how many, how large, the largest few with their
 * areas' names, where, and the residents in them. */
void cs_seams_warn(cs_context *ctx, const cs_study *study, const char *areas_file);

/* Free the seams of a study (not of a year's view, which borrows them). */
void cs_seams_free(struct cs_areas *areas, cs_geos h);

#endif
