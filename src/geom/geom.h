/*
 * geom.h — the one door to GEOS. The rest of the library sees cs_geom pointers and
 * plain ring arrays (cs_rings); only geom.c includes geos_c.h.
 *
 * Polygons cross this door as cs_rings where each "area" is one polygon: its first
 * ring is the shell, the rest are holes.
 */
#ifndef CS_GEOM_H
#define CS_GEOM_H

#include "geom/rings.h"

#include <stdint.h>

struct GEOSGeom_t;
typedef struct GEOSGeom_t cs_geom;
struct GEOSContextHandle_HS;
typedef struct GEOSContextHandle_HS *cs_geos;

/* A GEOS handle of one's own (for objects that outlive a context), and its end. */
cs_geos cs_geos_create(void);
void cs_geos_destroy(cs_geos h);

/* A new (Multi)Polygon from polygons given as rings (see above). NULL on failure. */
cs_geom *cs_geom_from_polygons(cs_geos h, const cs_rings *polygons);

/* Polygons first .. first + n - 1 of `polygons` as one MultiPolygon; new; NULL on failure. */
cs_geom *cs_geom_from_polygon_range(cs_geos h, const cs_rings *polygons, size_t first,
                                    size_t n);

/* Whether g is valid; when not, why (GEOS's reason) goes into reason. */
bool cs_geom_is_valid(cs_geos h, const cs_geom *g, char *reason, size_t reason_size);

/* The polygonal part of GEOS's repair of g (new), or NULL when nothing polygonal is
 * left or the repair fails. */
cs_geom *cs_geom_repair(cs_geos h, const cs_geom *g);

/* Append the polygons of a polygonal g to out, one "area" per polygon. */
cs_status cs_geom_append_polygons(cs_geos h, const cs_geom *g, cs_rings *out);

/* g's polygons as rings held on their own (cs_rings_moved), g destroyed; NULL when g is
 * NULL or out of memory. */
cs_rings *cs_rings_of_geom(cs_geos h, cs_geom *g);

/* Union of n geometries (borrowed); new; NULL on failure. n = 0 gives an empty polygon. */
cs_geom *cs_geom_union(cs_geos h, cs_geom *const *geoms, size_t n);

/* A disc is drawn as the regular polygon of this many vertices inscribed in its
 * circle, the first at angle 0: its outline is within r (1 - cos(pi / 64)), 0.12 % of
 * the radius, of the circle. */
#define CS_DISC_VERTICES 64

/* The outline of the union of n discs of radius r around (x[i], y[i]), traced circle
 * by circle (discs.c): polygons (shells with their holes) into out, within the union
 * and within a drawn disc's 0.12 % of it. CS_ERR_INTERNAL when rounding where three
 * circles meet keeps the outline from closing (out empty: union the discs instead),
 * CS_ERR_ARGUMENT when n = 0 or r is not a positive number, CS_ERR_NOMEM. */
cs_status cs_disc_outline(const double *x, const double *y, size_t n, double r, cs_rings *out);

/* Union of discs of radius_m around n points, traced by cs_disc_outline or, where it
 * cannot close the outline, unioned by GEOS; new; an empty polygon when n = 0; NULL
 * on failure. */
cs_geom *cs_geom_discs(cs_geos h, const double *x, const double *y, size_t n, double radius_m);

/* The area within width_m of any of the lines, dissolved into one (Multi)Polygon;
 * new; an empty polygon when there are no lines; NULL on failure. */
cs_geom *cs_geom_buffer_lines(cs_geos h, const cs_lines *lines, double width_m);

/* The area within width_m of the lines drawn on square cells of cell_m (cells.c): the
 * cells lying wholly within width_m, as polygons (one area per group of cells joined
 * through their sides) into out. It lies inside the exact buffer, and no point of the
 * exact buffer is farther than cell_m·√2 from it. Its cost grows with the area, not
 * with the overlaps; its memory with the outline, not with the box (the grid is drawn
 * a band of rows at a time). CS_ERR_ARGUMENT when a size is not positive or the box
 * would span more than 10^12 cells, or 2^26 across or along (a larger cell is needed),
 * CS_ERR_NOMEM. */
cs_status cs_cells_buffer(const cs_lines *lines, double width_m, double cell_m, cs_rings *out);

/* cs_cells_buffer of several levels of lines at once: out[l], for each l with want[l],
 * is the area within width_m of the lines of levels 0 .. l (the others are left empty).
 * Each segment is drawn once, not once for every level that includes it; levels < 255. */
cs_status cs_cells_buffer_levels(const cs_lines *lines, size_t levels, double width_m,
                                 double cell_m, const bool *want, cs_rings *out);

/* The outline of the cells filled (non-zero) in a w × h grid, row 0 at the bottom, cell
 * (i, j) spanning x0 + i·cell_m .. and y0 + j·cell_m ..; as cs_cells_buffer. */
cs_status cs_cells_outline(const uint8_t *filled, size_t w, size_t h, double x0, double y0,
                           double cell_m, cs_rings *out);

/* a ∩ b; new. */
cs_geom *cs_geom_intersection(cs_geos h, const cs_geom *a, const cs_geom *b);

double cs_geom_area_m2(cs_geos h, const cs_geom *g);
bool cs_geom_is_empty(cs_geos h, const cs_geom *g);
cs_geom *cs_geom_clone(cs_geos h, const cs_geom *g);
void cs_geom_destroy(cs_geos h, cs_geom *g);

/* Pieces of a polygonal geometry: a centroid and an area (m²) each. */
typedef struct cs_pieces {
    size_t count, cap;
    double *x, *y, *m2;
} cs_pieces;
void cs_pieces_free(cs_pieces *p);
cs_status cs_pieces_append(cs_pieces *dst, const cs_pieces *src); /* CS_ERR_NOMEM */

/* Cut g by a square grid of cell_m metres anchored at (x0, y0) and append every piece
 * of positive area to out: whole cells where g holds them, intersections elsewhere.
 * cell_m <= 0, or g within one cell, gives g as one piece. Errors: CS_ERR_NOMEM,
 * CS_ERR_INTERNAL (GEOS failed). */
cs_status cs_geom_grid_pieces(cs_geos h, const cs_geom *g, double cell_m, double x0,
                              double y0, cs_pieces *out);

/* The polygon of one ring of n >= 3 vertices (closed here); new; NULL on failure. */
cs_geom *cs_geom_ring_polygon(cs_geos h, const double *x, const double *y, size_t n);

/* The union of grid cells given as polygons (one "area" each) that share edges with
 * bit-identical vertices and do not overlap; new; NULL on failure. */
cs_geom *cs_geom_cells_union(cs_geos h, const cs_rings *cells);

/* The polygonal part of g within the box (xmin, ymin, xmax, ymax): fast for a small box
 * over a large polygon; new; NULL on failure. */
cs_geom *cs_geom_clip_box(cs_geos h, const cs_geom *g, const double box[4]);

/* g's bounding box (xmin, ymin, xmax, ymax); false when g is empty. */
bool cs_geom_bounds(cs_geos h, const cs_geom *g, double box[4]);

/* Two areas whose interiors share positive area (a < b), and that shared part (new). */
typedef struct cs_geom_overlap {
    size_t a, b;
    cs_geom *geom;
} cs_geom_overlap;

/* Every pair of the n polygonal geoms (borrowed) sharing positive area, in (a, b)
 * order: candidates from an STRtree of their boxes, then prepared predicates, so that
 * pairs that only touch cost no overlay. *out is new (destroy each geom, cs_free the
 * array); nothing on failure. Errors: CS_ERR_NOMEM, CS_ERR_INTERNAL (GEOS failed). */
cs_status cs_geom_overlaps(cs_geos h, cs_geom *const *geoms, size_t n, cs_geom_overlap **out,
                           size_t *count);

/* For each of the m targets, the first two of the n areas (lowest numbers) that meet
 * it, -1 when fewer (an STRtree of the areas, each prepared once). Errors:
 * CS_ERR_NOMEM, CS_ERR_INTERNAL (GEOS failed). */
cs_status cs_geom_bordering(cs_geos h, cs_geom *const *areas, size_t n, cs_geom *const *targets,
                            size_t m, long (*out)[2]);

/* The polygonal part of a minus b; new; NULL on failure. */
cs_geom *cs_geom_difference(cs_geos h, const cs_geom *a, const cs_geom *b);

/* The holes of a polygonal g, each as a polygon of its own (new; destroy each, cs_free
 * the array); nothing on failure. Errors: CS_ERR_NOMEM. */
cs_status cs_geom_holes(cs_geos h, const cs_geom *g, cs_geom ***out, size_t *count);

/* A point on g's surface (GEOS's point-on-surface); false when g is empty or GEOS fails. */
bool cs_geom_point_on(cs_geos h, const cs_geom *g, double *x, double *y);

/* Whether g covers (x, y): 1 or 0, -1 when GEOS fails. */
int cs_geom_covers_xy(cs_geos h, const cs_geom *g, double x, double y);

/* Whether a and b meet: 1 or 0, -1 when GEOS fails. */
int cs_geom_intersects(cs_geos h, const cs_geom *a, const cs_geom *b);

/* Append one polygon given by its rings to a cs_rings (helper for builders): the rings
 * are copied and closed if needed. */
cs_status cs_rings_add_polygon(cs_rings *r, size_t ring_count, const double *const *xs,
                               const double *const *ys, const size_t *counts);

#endif
