/*
 * spread.h — demand points from population given over surfaces (io/spread.c).
 */
#ifndef CS_SPREAD_H
#define CS_SPREAD_H

#include "io/load.h"

/* Demand points being gathered (working CRS), nb values each. */
typedef struct cs_demand {
    size_t count, cap, nb;
    double *x, *y, *pop;
    long *area;
} cs_demand;

void cs_demand_free(cs_demand *d);

/*
 * Spread raw->surfaces (already in the working CRS) into demand points appended to out:
 * - polygons over their area inside the study's areas, cut by a grid of spread_m, the
 *   counts in proportion to each piece's area (all of a polygon's people are kept when
 *   part of it lies outside; a polygon wholly outside is left out);
 * - grid cells split where they straddle areas, in proportion to area; the share of a
 *   cell outside every area is left out (it belongs to a neighbouring district);
 * - area totals over the area's residential land (landuse, may be NULL or empty) cut by
 *   the grid, or over the whole area where it has none (with a warning).
 * *dropped_pop and *dropped count what was left out.
 * Errors: CS_ERR_INPUT (an area id no area has, an area given twice), CS_ERR_NOMEM,
 * CS_ERR_INTERNAL (GEOS failed).
 */
cs_status cs_spread_surfaces(cs_context *ctx, const cs_study *study, const cs_raw_points *raw,
                             const cs_raw_areas *landuse, double spread_m, cs_demand *out,
                             double *dropped_pop, size_t *dropped);

#endif
