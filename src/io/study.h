/*
 * study.h — the loaded study (the private shape of cs_study): every layer validated
 * and projected into one metric CRS, as plain arrays (struct of arrays) for anything
 * counted in thousands or millions, GEOS geometries only for the areas.
 */
#ifndef CS_STUDY_H
#define CS_STUDY_H

#include "geom/geom.h"
#include "io/config.h"

#include <stdint.h>

typedef struct cs_kind {
    char *id, *name, *name_en, *unit;
    size_t threshold_count;
    double threshold_min[CS_MAX_THRESHOLDS]; /* NaN for metre thresholds */
    double threshold_m[CS_MAX_THRESHOLDS];
    double walk_speed_kmh;
    unsigned measures;     /* cs_measure bits: how this kind is measured */
    unsigned main_measure; /* the one of them its targets and headline figures use */
    long load_capacity;    /* capacity index for the load ratio; -1 = none */
    long load_band;        /* band using the kind */
    double load_rate;      /* share of the band that uses it */
    cs_decay_kind access_decay;               /* accessibility (2SFCA) distance weights */
    double access_weights[CS_MAX_THRESHOLDS]; /* steps: weight per threshold zone */
    double access_per;                        /* accessibility per this many residents */
} cs_kind;

/* A kind's largest threshold in metres: how far its reach goes (0 without thresholds). */
static inline double cs_kind_reach_m(const cs_kind *k)
{
    return k->threshold_count ? k->threshold_m[k->threshold_count - 1] : 0;
}

/* A cost of the matrix in metres for kind k: minutes are walked at the kind's speed,
 * as its minute thresholds are, so a cost equal to a threshold stays within it. */
static inline double cs_kind_matrix_m(const cs_kind *k, bool in_m, double cost)
{
    return in_m ? cost : cost * k->walk_speed_kmh * 1000.0 / 60.0;
}

typedef struct cs_capacity {
    char *id, *name, *unit;
} cs_capacity;

/* A target with its names resolved to indices. */
typedef struct cs_target {
    char *id, *name, *name_en;
    cs_target_type type;
    cs_scope scope;
    long kind;        /* -1 = all kinds */
    long capacity, capacity_of;
    long band;        /* 0 = total */
    long threshold;   /* coverage: index into the kind's thresholds */
    double per, at_least, at_most;
    unsigned measure;  /* coverage: CS_MEASURE_STRAIGHT or CS_MEASURE_NETWORK */
} cs_target;

/* Demand points of other years (population.year), located. */
typedef struct cs_demand_rows {
    size_t count;
    double *x, *y, *pop; /* pop: count x band_count */
    long *area;
    double *year;
} cs_demand_rows;
void cs_demand_rows_free(cs_demand_rows *r);

/* A cost matrix from another router (costs.*), by row: rows [0, facility_count) are
 * the study's facilities in order, later rows the other ids of its "to" column
 * (candidate sites). Row r reaches demand points pt[start[r] .. end[r]), each once,
 * at cost[...] in minutes or (in_m) metres; pairs not listed are out of reach. A year's
 * view of the study has rows of its own over its parent's pairs. */
typedef struct cs_cost_matrix {
    size_t rows;
    char **id;        /* rows >= facility_count: their ids (facilities' are fac_id) */
    cs_idmap ids;     /* every row's id -> row */
    size_t *start, *end;
    uint32_t *pt;
    double *cost;
    bool in_m;
    size_t pairs;          /* kept (after merging repeated pairs) */
    size_t pairs_outside;  /* rows naming demand points left out (outside every area) */
    size_t pairs_repeated; /* rows repeating a pair: the cheapest is kept */
} cs_cost_matrix;

void cs_cost_matrix_free(cs_cost_matrix *m);
/* Free a year's view (io/study_year.c); cs_study_destroy calls it for views. */
void cs_study_view_free(cs_study *v);
/* The matrix row of a facility or candidate id, or -1 (also without a matrix). */
long cs_cost_matrix_row(const cs_study *s, const char *id);

/* One input file, for the summary (path as given and the files GDAL read). */
typedef struct cs_input {
    char *role, *path;
    char **files; /* every file making up the dataset (.shp, .dbf, .prj, ...) */
    size_t file_count;
    char *crs;    /* the CRS the layer was read in */
    size_t features;
} cs_input;

struct cs_study {
    const cs_study *view_of; /* a year's view (cs_study_in_year) borrows all but its
                                facilities and matrix (and with owns_demand its demand)
                                from this study; NULL */
    bool owns_demand;
    cs_geos geos;    /* the study's own GEOS handle: its geometries live with it */
    char *name;
    char *crs;       /* working CRS (PROJ string or user's definition) */
    double walk_speed_kmh;

    /* areas */
    size_t area_count;
    char **area_id, **area_name;
    double *area_m2;
    cs_geom **area_geom;   /* valid (Multi)Polygons in the working CRS */
    cs_geom *district;     /* union of the areas */
    cs_rings rings;        /* every area's rings, for the point index */
    cs_area_index *area_index;
    /* where the areas overlap (each overlap given to the first of its two areas, whose
     * area_geom keeps it while the other's loses it) and the gaps between them (holes
     * of the district); see io/seams.h */
    size_t overlap_count, gap_count;
    struct cs_seam *overlaps, *gaps;

    /* facilities */
    size_t facility_count;
    char **fac_id, **fac_name;
    long *fac_kind;        /* index into kinds */
    double *fac_x, *fac_y; /* working CRS */
    double *fac_lon, *fac_lat;
    double *fac_capacity;  /* facility_count x capacity_count, 0 when not given */
    long *fac_area;        /* -1 when outside every area */
    double *fac_opened, *fac_closed; /* years (facilities.opened/closed), NaN = not given:
                                        open in year y when opened <= y < closed */

    /* demand */
    size_t demand_count;
    double *dem_x, *dem_y;
    double *dem_pop;       /* demand_count x band_count; band 0 = total */
    long *dem_area;        /* always a valid area (points outside are dropped) */
    char **dem_id;         /* with a cost matrix or population.id: each point's id, then
                              those of the dropped points (NULL otherwise) */
    size_t dem_id_count;
    double pop_year;       /* population.year: the year of the demand above (the latest);
                              NaN when the population has no years */
    cs_demand_rows pop_other; /* and the rows of the other years */
    double dropped_pop;    /* residents outside every area, left out */
    const char *pop_source; /* "points", "polygons", "grid" or "area totals" (static) */
    bool pop_estimated;    /* spread from area totals: positions are estimates */
    size_t dropped_points;

    size_t kind_count;     cs_kind *kinds;
    size_t capacity_count; cs_capacity *capacities;
    size_t band_count;     char **band_names; /* [0] = "total" */
    size_t target_count;   cs_target *targets;

    /* walking network (optional): the walkable ways in the working CRS */
    bool has_network;
    cs_lines net_lines;
    cs_network_config net;  /* its settings (layer strings not kept: NULL) */
    char *net_display;      /* the network file as the user named it */
    size_t net_left_out_class, net_left_out_closed;

    /* under-served patches: the grid and the band counted */
    double patch_cell_m;
    bool patch_hex;
    int demand_points_csv;   /* as cs_config's */
    unsigned output_formats; /* CS_FORMAT_* bits (config.h), never 0 */
    bool shapefile_names;    /* output.shapefile_names */
    long patch_band;

    bool has_costs;
    cs_cost_matrix costs;

    size_t input_count;    cs_input inputs[6];
    double outside_tolerance_m, far_outside_km;
};

#endif
