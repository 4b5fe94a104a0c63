/*
 * rings.h — areas as plain arrays of rings (and lines as plain arrays of polylines), and the point-in-area index built on them.
 *
 * An area (a street, possibly with holes and several parts) is a set of closed rings;
 * a point is inside the area when a ray from it crosses the area's rings an odd number
 * of times (even-odd rule), which handles holes and exclaves without knowing which
 * ring is which. Coordinates are in the study's metric CRS.
 */
#ifndef CS_RINGS_H
#define CS_RINGS_H

#include "core/core.h"

typedef struct cs_rings {
    double *x, *y;           /* all vertices; each ring closed (last vertex == first) */
    size_t vertex_count;
    size_t *ring_start;      /* ring r spans [ring_start[r], ring_start[r + 1]) */
    size_t ring_count;
    size_t *area_ring_start; /* area a owns rings [area_ring_start[a], area_ring_start[a + 1]) */
    size_t area_count;
    /* allocated lengths of x and y, ring_start and area_ring_start, for the adders of
     * geom.h that grow them geometrically; 0 when unknown (arrays made to their size
     * elsewhere: the adders then grow from the counts) */
    size_t vertex_cap, ring_cap, area_cap;
} cs_rings;

void cs_rings_free(cs_rings *rings); /* frees the arrays, leaves a zeroed struct */

/* Rings held on their own (the service areas, made once and kept until written): from's
 * arrays, trimmed to their counts, in a new struct, from left zeroed; NULL when out of
 * memory (from then freed). cs_rings_destroy frees the arrays and the struct. */
cs_rings *cs_rings_moved(cs_rings *from);
void cs_rings_destroy(cs_rings *rings);

/* The area of the rings taken as polygons (each area's first ring its shell, the others
 * its holes): the shells' areas less the holes', summed area by area, exactly as GEOS
 * gives it for the same polygons (GEOSArea_r), to the last bit. */
double cs_rings_area_m2(const cs_rings *rings);

/* Polylines (the walking network's ways) as plain arrays. */
typedef struct cs_lines {
    size_t count;          /* lines */
    size_t *start;         /* count + 1 offsets: line i is vertices [start[i], start[i+1]) */
    double *x, *y;         /* vertices */
    double *speed;         /* per line: walking speed factor (> 0); NULL = all 1 */
    long *feature;         /* per line: 1-based feature number in its file; NULL = none */
} cs_lines;

void cs_lines_free(cs_lines *lines); /* frees the arrays, leaves a zeroed struct */

/* The box of n points: box[0..3] = xmin, ymin, xmax, ymax (infinite, min > max, when
 * n is 0; NaN coordinates are passed over). */
void cs_box_of(const double *x, const double *y, size_t n, double box[4]);

typedef struct cs_area_index cs_area_index;

/* Build the index; borrows rings, which must outlive it. */
cs_status cs_area_index_create(const cs_rings *rings, cs_area_index **out);
void cs_area_index_destroy(cs_area_index *index);

/* The lowest-numbered area containing (x, y), or -1. */
long cs_area_index_locate(const cs_area_index *index, double x, double y);

/* The area whose boundary is nearest to (x, y) within max_dist_m (ties: lowest
 * number), or -1; *dist_m receives the distance (0 when inside). */
long cs_area_index_nearest(const cs_area_index *index, double x, double y, double max_dist_m,
                           double *dist_m);

/* The area wholly containing the box (the lowest-numbered where areas overlap), when no
 * area's boundary meets the box (the grid cells under it and around it are checked
 * edge by edge), else -1. A fast path only: -1 does not mean the box is outside. */
long cs_area_index_box(const cs_area_index *index, double xmin, double ymin, double xmax,
                       double ymax);

/* locate() for n points, on up to `threads` threads (0 = all); results identical for
 * any thread count. */
void cs_area_index_locate_all(const cs_area_index *index, const double *x, const double *y,
                              size_t n, int threads, long *area_out);

#endif
