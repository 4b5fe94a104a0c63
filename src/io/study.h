/*
 * study.h — the loaded study (the private shape of cs_study): every layer validated
 * and projected into one metric CRS, as plain arrays (struct of arrays) for anything
 * counted in thousands or millions, GEOS geometries only for the areas.
 */
#ifndef CS_STUDY_H
#define CS_STUDY_H

#include "core/model.h"
#include "geom/geom.h"

#include <stdint.h>

typedef struct cs_kind {
    char *id, *name, *name_en, *unit;
    size_t threshold_count;
    double threshold_min[CS_MAX_THRESHOLDS]; /* NaN for metre thresholds */
    double threshold_m[CS_MAX_THRESHOLDS];
    double walk_speed_kmh;
    unsigned measures;          /* cs_measure bits: how this kind is measured */
    unsigned main_measure;      /* the one of them its targets and headline figures use */
    long load_capacity;         /* capacity index for the load ratio; -1 = none */
    long load_band;             /* band using the kind */
    double load_rate;           /* share of the band that uses it */
    bool access_three_step;     /* accessibility by 3SFCA rather than 2SFCA */
    bool access_points;         /* its demand: points with people of the band, not people */
    cs_decay_kind access_decay; /* accessibility (2SFCA) distance weights */
    double access_weights[CS_MAX_THRESHOLDS]; /* steps: weight per threshold zone */
    double access_per;                        /* accessibility per this many residents */
    double access_beta, access_min_m;         /* gravity decays (cs_kind_config) */
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
    long kind; /* -1 = all kinds */
    long capacity, capacity_of;
    long band;      /* 0 = total */
    long threshold; /* coverage: index into the kind's thresholds */
    double per, at_least, at_most;
    unsigned measure; /* coverage: CS_MEASURE_STRAIGHT or CS_MEASURE_NETWORK */
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
    char **id;    /* rows >= facility_count: their ids (facilities' are fac_id) */
    cs_idmap ids; /* every row's id -> row */
    size_t *start, *end;
    uint32_t *pt;
    double *cost;
    bool in_m;
    size_t pairs;          /* kept (after merging repeated pairs); deferred: those read,
                              repeats included */
    size_t pairs_outside;  /* rows naming demand points left out (outside every area) */
    size_t pairs_repeated; /* rows repeating a pair: the cheapest is kept */
    bool deferred;         /* left for cs_study_each_cost_pair: every row empty */
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
    char *crs; /* the CRS the layer was read in */
    size_t features;
} cs_input;

/* The study's areas (streets): geometry, names and the indexes over them. */
typedef struct cs_areas {
    size_t count;
    char **id, **name;
    double *m2;
    cs_geom **geom;    /* valid (Multi)Polygons in the working CRS */
    cs_geom *district; /* union of the areas */
    cs_rings rings;    /* every area's rings, for the point index */
    cs_area_index *index;
    /* where the areas overlap (each overlap given to the first of its two areas, whose
     * geom keeps it while the other's loses it) and the gaps between them (holes of
     * the district); see io/seams.h */
    size_t overlap_count, gap_count;
    struct cs_seam *overlaps, *gaps;
} cs_areas;
void cs_areas_free(cs_areas *a, cs_geos h);

/* The facilities, as parallel arrays. A selection (cs_facilities_select) borrows the
 * id and name strings of the set it was taken from and owns the arrays. */
typedef struct cs_facilities {
    size_t count;
    size_t capacity_count; /* columns of capacity */
    char **id, **name;
    long *kind;    /* index into the kinds */
    double *x, *y; /* working CRS */
    double *lon, *lat;
    double *capacity;        /* count x capacity_count, 0 when not given */
    long *area;              /* -1 when outside every area */
    double *opened, *closed; /* years (facilities.opened/closed), NaN = not given: open
                                in year y when opened <= y < closed */
    bool borrowed_strings;
} cs_facilities;
/* Room for n facilities (strings NULL, years NaN); false when out of memory. */
bool cs_facilities_create(cs_facilities *f, size_t n, size_t capacity_count);
/* The facilities rows[0..n) of src, in that order. */
bool cs_facilities_select(const cs_facilities *src, const size_t *rows, size_t n,
                          cs_facilities *out);
/* The facilities open in `year`; *rows (when rows) gets their indices in all. */
bool cs_facilities_in_year(const cs_facilities *all, int year, cs_facilities *out,
                           size_t **rows);
void cs_facilities_free(cs_facilities *f);

/* The residents: demand points of the (latest) population year, each in an area. */
typedef struct cs_demand {
    size_t count;
    double *x, *y;
    double *pop; /* count x band_count; band 0 = total */
    long *area;  /* always a valid area (points outside are dropped) */
    unsigned char *own; /* a shard's: 1 for its own residents, 0 for those of other shards
                           who compete for its facilities (NULL: the study is whole) */
    char **id;   /* with a cost matrix or population.id: each point's id, then
                    those of the dropped points (NULL otherwise) */
    size_t id_count;
    bool borrowed_ids;    /* a year's demand: id strings belong to the study's */
    double year;          /* population.year: the year of the demand above (the
                             latest); NaN when the population has no years */
    cs_demand_rows other; /* and the rows of the other years */
    double dropped_pop;   /* residents outside every area, left out */
    const char *source;   /* "points", "polygons", "grid" or "area totals" (static) */
    struct cs_demand_stream *stream; /* a grid left to read by cs_study_each_demand (and
                                        count 0), or NULL */
    bool estimated;       /* spread from area totals: positions are estimates */
    size_t dropped_points;
} cs_demand;
/* Room for n points of nb bands (with ids when with_ids). */
bool cs_demand_create(cs_demand *d, size_t n, size_t nb, bool with_ids);
void cs_demand_free(cs_demand *d);

/* The walking network (optional): the walkable ways in the working CRS. */
/*
 * A network file's features as careshed shard first read it whole, so that reading it
 * again by window (through the file's spatial index: cs_layer_window) gives each
 * feature met its number, and so its lines, back: the FIDs (ascending, as GeoPackage
 * and FlatGeobuf read them whole), where each feature's lines start, and each line's box
 * in the file's CRS.
 */
typedef struct cs_net_features {
    bool indexed;        /* the file can be read by window (else nothing below is kept) */
    size_t count;        /* features */
    int64_t fid_offset;  /* feature n's FID is n + fid_offset, */
    int64_t *fid;        /* or fid[n - 1] when they do not follow one another */
    size_t *first_line;  /* count + 1: feature n's lines are [first_line[n-1], first_line[n]) */
    float *box;          /* 4 per line: its box in the file's CRS, rounded outward */
    size_t fid_cap, first_cap, box_cap;
} cs_net_features;
void cs_net_features_free(cs_net_features *f);

/* A network file without a spatial index, copied to one that has (careshed shard). */
typedef struct cs_net_copy {
    char *dir, *path;   /* the copy, in a folder of its own (NULL: none) */
    char *source;       /* the file it copies */
    long long source_bytes, source_mtime_ns; /* that file as the load read it */
    int scratch;        /* its place among those cs_remove_scratch removes, + 1 (0: none) */
    bool utf8;          /* its text is the file's converted to UTF-8 (a KML: io/kml.h) */
} cs_net_copy;

/* A network left to read (careshed shard; see cs_study_each_network_batch): what the
 * whole load knew of its lines, in the working CRS. */
typedef struct cs_net_lines_known {
    size_t count;           /* lines: the whole load's, in its order */
    double *box;            /* 4 per line: its box (NaN vertices passed over) */
    size_t *vertices;       /* per line: its vertices */
    bool speed;             /* the lines carry a speed factor */
    cs_net_features features; /* to read the file again by window, when it can be */
    long long file_bytes, file_mtime_ns; /* the file as the load read it (0: not known) */
    uint64_t digest;        /* of the lines as placed (cs_study_network_digest) */
    cs_net_copy copy;       /* the file copied to be read by window (then `features` and
                               file_bytes are the copy's) */
    char encoding_found[32]; /* its text's, as the load's scan chose it ("": none) */
} cs_net_lines_known;

typedef struct cs_walk_network {
    bool present;
    cs_lines lines;         /* empty when streamed */
    bool streamed;          /* left to read: only `known` is held */
    cs_net_lines_known known;
    char *display;            /* the network file as the user named it */
    /* its settings (network.*, see io/config.h) */
    double snap_m, max_attach_m, access_width_m, area_max_pieces, area_cell_m;
    bool node_crossings, facility_areas;
    size_t left_out_class, left_out_closed;
} cs_walk_network;
void cs_walk_network_free(cs_walk_network *n);

/* What the study file settles: the kinds and their thresholds, capacities, population
 * bands, targets, the working CRS and the grids and tolerances of the run. */
typedef struct cs_settings {
    char *name;
    cs_lang lang; /* as given (CS_LANG_AUTO: see cs_study_lang) */
    char *crs; /* working CRS (PROJ string or user's definition) */
    double walk_speed_kmh;
    size_t kind_count;
    cs_kind *kinds;
    size_t capacity_count;
    cs_capacity *capacities;
    size_t band_count;
    char **band_names; /* [0] = "total" */
    size_t target_count;
    cs_target *targets;
    /* under-served patches: the grid and the band counted */
    double patch_cell_m;
    long report_suggest; /* report.suggest: sites per kind, or CS_SUGGEST_TARGET */
    bool patch_hex;
    int demand_points_csv;   /* as cs_config's */
    unsigned output_formats; /* CS_FORMAT_* bits (core/model.h), never 0 */
    bool shapefile_names;    /* output.shapefile_names */
    bool demand_layer, demand_csv; /* output.demand, output.demand_csv */
    long patch_band;
    double outside_tolerance_m, far_outside_km;
    /* a shard cut by careshed shard: its number from 1 (0: the study is whole), how many
       there are, the whole study's demand box (x0, y0, x1, y1) and point count, and its
       whole network's node box (shard_net_boxed: given) */
    long shard_part, shard_parts;
    char *shard_cut; /* the cut's id */
    double shard_box[4], shard_net_box[4];
    bool shard_net_boxed;
    size_t shard_points;
} cs_settings;
void cs_settings_free(cs_settings *s);

struct cs_study {
    const cs_study *view_of; /* a year's view (cs_study_in_year) borrows all but its
                                facilities and matrix (and, when its population year
                                differs, its demand) from this study; NULL */
    bool owns_demand;        /* a view whose population year differs owns its demand */
    cs_geos geos;            /* the study's own GEOS handle: its geometries live with it */
    cs_areas areas;
    cs_facilities fac;
    cs_demand dem;
    cs_walk_network net;
    cs_settings settings;
    bool has_costs;
    cs_cost_matrix costs;
    size_t input_count;
    cs_input inputs[6];
};

/* The language of the texts careshed writes for the study: its lang, else Chinese when
 * its name or its first street's holds Chinese characters, else English. */
cs_lang cs_study_lang(const cs_study *s);
/* Whether some kind is measured that way (CS_MEASURE_NETWORK...). */
bool cs_study_any_kind_measured(const cs_study *s, unsigned measure);

/*
 * careshed shard on a population grid: with cs_config_stream_inputs(cfg) (careshed.h)
 * a study measured in a straight line only is loaded without its demand points, which
 * cs_study_each_demand then makes again each time it is called, a strip of the grid at
 * a time, handing each batch to fn: the same points, in the same order, as the whole
 * load's dem (x, y in the working CRS, pop count x band_count, area), never all held.
 * Warnings of the spreading are said on each call. Errors: CS_ERR_ARGUMENT (the study
 * holds its points), fn's, and those of reading the grid.
 */
typedef struct cs_demand_batch {
    size_t count;
    const double *x, *y, *pop;
    const long *area;
} cs_demand_batch;
typedef cs_status (*cs_demand_fn)(void *user, const cs_demand_batch *b);
typedef struct cs_demand_stream cs_demand_stream;
cs_status cs_study_each_demand(cs_context *ctx, const cs_study *study, cs_demand_fn fn,
                               void *user);
void cs_demand_stream_free(cs_demand_stream *ds);

/*
 * careshed shard on a cost matrix: with cs_config_stream_inputs(cfg) the study is loaded
 * with the matrix checked (every error and warning of the whole load) and its rows
 * known, but no pair held (costs.deferred; every row empty). cs_study_each_cost_pair
 * reads the table again, handing fn each pair inside the study as the table lists it:
 * its row (facility or candidate), demand point and cost, repeated pairs as they come.
 * Errors: CS_ERR_ARGUMENT (the study holds its pairs), CS_ERR_INPUT (the table cannot
 * be read again, or has changed since: rows with errors, or another number of pairs
 * inside the study), CS_ERR_NOMEM, fn's.
 */
typedef cs_status (*cs_pair_fn)(void *user, size_t row, size_t pt, double cost);
cs_status cs_study_each_cost_pair(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                  cs_pair_fn fn, void *user);

/*
 * careshed shard along the network: with cs_config_stream_inputs(cfg), a study whose
 * network is not noded at crossings and whose lines take more than
 * shard.network_memory_mb is loaded with the network checked (every error and warning
 * of the whole load) and its lines' boxes known (net.streamed, net.known), but no vertex
 * held (lines that fit are held, as in the whole load). cs_study_each_network_batch
 * reads the network again, handing fn batches of the lines want(user, i) wants (every
 * line when want is NULL) in the working CRS, as the whole load would hold them: batch
 * line j is the study's line line[j]. Only those wanted are converted. A GeoPackage or
 * FlatGeobuf with a spatial index is read by window: only its features whose boxes meet
 * the lines wanted (the others are passed over by the index), each found again by its
 * FID. The reading's warnings are not said again; *tally (when given) adds the
 * readings, those by window and the features read. Errors: CS_ERR_ARGUMENT (the study
 * holds its lines), CS_ERR_INPUT (the network cannot be read again, or has changed
 * since: another number of lines, a feature it did not have or with other lines, or
 * the file written again since the load: another size or time),
 * CS_ERR_NOMEM, fn's.
 */
/* Digests of what the load placed, so that careshed merge can tell the inputs the shards
 * were cut from (0 when absent): the network's lines (each line's vertices, their
 * coordinates' bits and its speed; the same whether the lines are held or were read in
 * batches), the facilities (ids, kinds, positions, capacities, years), the areas (ids,
 * names, rings) and the population (each point's position, area and residents by band,
 * ids and years; for a grid read in strips, those of the last whole reading by
 * cs_study_each_demand, 0 before one). */
uint64_t cs_study_network_digest(const cs_study *s);
uint64_t cs_study_facilities_digest(const cs_study *s);
uint64_t cs_study_areas_digest(const cs_study *s);
uint64_t cs_study_population_digest(const cs_study *s);

typedef bool (*cs_line_want)(void *user, size_t line);
typedef cs_status (*cs_lines_fn)(void *user, const cs_lines *batch, const size_t *line);
typedef struct cs_network_reading {
    size_t readings, by_window, features;
} cs_network_reading;
cs_status cs_study_each_network_batch(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                      cs_line_want want, cs_lines_fn fn, void *user,
                                      cs_network_reading *tally);

#endif
