/*
 * spread.h — demand points from population given over surfaces (io/spread.c).
 */
#ifndef CS_SPREAD_H
#define CS_SPREAD_H

#include "io/load.h"

/* Demand points being gathered (working CRS), nb values each. */
typedef struct cs_demand_buf {
    size_t count, cap, nb;
    double *x, *y, *pop;
    long *area;
} cs_demand_buf;

void cs_demand_buf_free(cs_demand_buf *d);

/*
 * Spread raw->surfaces (already in the working CRS) into demand points appended to out:
 * - polygons over their area inside the study's areas, cut by a grid of spread_m, the
 *   counts in proportion to each piece's area; the share of a polygon outside every
 *   area is left out, as for grid cells;
 * - grid cells split where they straddle areas, in proportion to area; the share of a
 *   cell outside every area is left out (it belongs to a neighbouring district);
 * - area totals over the area's residential land (landuse, may be NULL or empty) cut by
 *   the grid, or over the whole area where it has none (with a warning).
 * *dropped_pop and *dropped count what was left out (dropped: the surfaces wholly
 * outside); a warning tells the residents on the outside parts of the others. The
 * residents of polygons and cells in the study's overlaps and gaps (io/seams.h) are
 * added to overlap_residents[k] and gap_residents[k] (one per overlap and gap); area
 * totals spread over land use are not counted there.
 * Errors: CS_ERR_INPUT (an area id no area has, an area given twice), CS_ERR_NOMEM,
 * CS_ERR_INTERNAL (GEOS failed).
 */
cs_status cs_spread_surfaces(cs_context *ctx, const cs_study *study, const cs_raw_points *raw,
                             const cs_raw_areas *landuse, double spread_m, cs_demand_buf *out,
                             double *dropped_pop, size_t *dropped, double *overlap_residents,
                             double *gap_residents);

#endif
