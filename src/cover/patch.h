/*
 * patch.h — under-served patches: uncovered residents gathered on a square or hexagonal
 * grid, edge-sharing cells merged into patches, each patch a polygon clipped to the
 * areas its residents live in (cover/patch.c).
 */
#ifndef CS_COVER_PATCH_H
#define CS_COVER_PATCH_H

#include "geom/geom.h"

#include <stdint.h>

typedef enum cs_grid_shape { CS_GRID_SQUARE, CS_GRID_HEX } cs_grid_shape;

/* A grid: square cells of side cell_m, or flat-topped hexagons of the same area, with
 * their lattice anchored at (x0, y0). */
typedef struct cs_grid {
    cs_grid_shape shape;
    double cell_m, x0, y0;
} cs_grid;

typedef struct cs_patch {
    double uncovered;     /* sum of its points' weights */
    size_t points, cells;
    double area_m2;       /* of geom */
    double nearest_m;     /* the least near_m of its points */
    size_t area_count;
    long *areas;          /* the areas its points lie in, ascending */
    cs_geom *geom;        /* its cells' union clipped to those areas (NULL when empty) */
    int64_t first_cell;   /* its lowest cell key: ties in the ranking go by it */
} cs_patch;

/* The largest patches of a kind that summary.json and the report list. */
#define CS_PATCHES_LISTED 5

typedef struct cs_patch_set {
    size_t count;
    cs_patch *patches;    /* ranked: uncovered descending, then first_cell */
} cs_patch_set;

/*
 * Patches of the n points (x, y) with weight[i] > 0 (others are ignored), lying in areas
 * area[i] (>= 0), near_m[i] away from the nearest facility. area_geom holds the areas'
 * polygons, with GEOS handle h. Errors: CS_ERR_NOMEM, CS_ERR_INTERNAL (GEOS failed).
 */
cs_status cs_patches_build(cs_geos h, const cs_grid *grid, const double *x, const double *y,
                           const double *weight, const long *area, const double *near_m,
                           size_t n, cs_geom *const *area_geom, cs_patch_set *out);
void cs_patch_set_free(cs_geos h, cs_patch_set *s);

/* The under-served patches' grid of a study: its shape and cell size, anchored at the
 * areas' lower-left corner so it is the same on every run (cover/underserved.c). */
struct cs_study;
cs_grid cs_study_patch_grid(const struct cs_study *s);

/* The cell of (x, y) as integer lattice coordinates (column, row), and the key of a
 * cell; exposed for the tests. */
void cs_grid_cell(const cs_grid *g, double x, double y, int32_t *col, int32_t *row);
int64_t cs_grid_key(int32_t col, int32_t row);
void cs_grid_key_cell(int64_t key, int32_t *col, int32_t *row); /* the inverse */

#endif
