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

/*
 * The same, a batch of grid cells at a time (a strip of a grid read by
 * cs_raster_each_strip): cs_spread_begin, then cs_spread_cells for the cells raw->surfaces
 * holds each time (already in the working CRS), then cs_spread_end with the status so
 * far, which adds what was left out to *dropped_pop and *dropped (either may be NULL),
 * warns as above when st is CS_OK, frees the spreader and returns st (a GEOS failure or
 * no memory said in ctx). The points come as cs_spread_surfaces makes them from the
 * cells taken together. cs_spread_begin ends the spreader itself when it fails.
 */
typedef struct cs_spreader cs_spreader;
cs_status cs_spread_begin(cs_context *ctx, const cs_study *study, const cs_raw_points *raw,
                          double spread_m, cs_demand_buf *out, double *overlap_residents,
                          double *gap_residents, cs_spreader **made);
cs_status cs_spread_cells(cs_spreader *s);
cs_status cs_spread_end(cs_spreader *s, cs_status st, double *dropped_pop, size_t *dropped);

#endif
