/*
 * load.h — the first half of loading a study: reading each layer's features into
 * plain arrays in the layer's own CRS, checking every field and value on the way.
 * The second half (study.c) moves everything into the working CRS and locates points
 * in areas.
 */
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include "io/layer.h"
#include "io/study.h"

/* After this many messages about one layer's features the rest are summarised. */
#define CS_MESSAGES_PER_LAYER 20
/* Most people one population point, polygon or grid cell may hold: more is a unit or
 * field mistake (a whole city has fewer), and sums stay exact in a double. */
#define CS_MAX_PEOPLE 1e7
#define CS_MAX_PEOPLE_TEXT "10,000,000"

/* What every layer keeps besides its features. */
typedef struct cs_raw_layer {
    char *display;  /* path as the user gave it */
    char *srs;      /* configured CRS text, else the layer's WKT, else NULL */
    bool srs_from_config;
    bool csv;       /* rows are named by line (the header is line 1), not feature */
    cs_line_gaps gaps; /* a CSV's rows after empty lines (as its reader tells) */
    char *x_field, *y_field; /* the coordinate fields of a table of points, else NULL */
    cs_input input; /* for the summary */
} cs_raw_layer;

typedef struct cs_raw_areas {
    cs_raw_layer layer;
    size_t count;
    char **id, **name;
    long *feature;
    cs_rings polys;     /* one entry per polygon (shell first), source CRS */
    size_t *first_poly; /* area a owns polygons [first_poly[a], first_poly[a + 1]) */
} cs_raw_areas;

/* Population given over surfaces rather than at points: polygons (blocks, compounds),
 * grid cells, or totals per area; spread into demand points once projected
 * (io/spread.c). */
typedef enum cs_surface_kind {
    CS_SURFACE_NONE = 0,
    CS_SURFACE_POLYGONS,   /* spread over each polygon by area */
    CS_SURFACE_CELLS,      /* grid cells: split at area boundaries only */
    CS_SURFACE_AREA_TOTALS /* one row per area: spread over its residential land */
} cs_surface_kind;

typedef struct cs_raw_surfaces {
    cs_surface_kind kind;
    size_t count, cap;       /* features (polygons, cells or rows) */
    long *feature;           /* 1-based feature or line number; cells: row * cols + col + 1 */
    double *values;          /* count x value_count, as the points' values */
    size_t value_count;
    cs_rings polys;          /* POLYGONS: feature i owns polygons [first[i], first[i + 1]) */
    size_t *first;
    double *quad_x, *quad_y; /* CELLS: 4 corners each */
    char *raster_path;       /* CELLS: the grid, read once the study area is known */
    double gt[6];            /* its geotransform */
    size_t raster_cols, raster_rows;
    double *band_share;      /* value_count: each band's share of the count ([0] unused) */
    char **area_key;         /* AREA_TOTALS: each row's area id, */
    char *area_field;        /* read from this field */
} cs_raw_surfaces;

typedef struct cs_raw_points {
    cs_raw_layer layer;
    size_t count, cap;
    double *x, *y;      /* source coordinates */
    long *feature;      /* 1-based feature number, for messages */
    char **id, **name;  /* facilities; population: id only when keep_ids */
    bool keep_ids;      /* population: keep each point's id (for a cost matrix) */
    long *kind;         /* facilities: index into the study's kinds, -1 = ignored */
    double *opened, *closed; /* facilities: years, NaN when not given */
    double *year;       /* population with population.year: the year of each point */
    unsigned char *own; /* a shard's population (shard.own): 1 for its own residents */
    double *values;     /* count x value_count: capacities or population bands */
    size_t value_count;
    cs_raw_surfaces surfaces; /* population: what is not given at points */
    bool fixed;         /* its arrays are a part of another's: they never grow */
} cs_raw_points;

/* The network layer's lines that can be walked on, in the source CRS. */
typedef struct cs_raw_lines {
    cs_raw_layer layer;
    cs_lines lines;        /* multi-lines are split; lines.feature names their feature */
    size_t line_cap, vertex_cap;
    bool osm;              /* read through GDAL's OSM driver */
    size_t features;       /* features read */
    size_t left_out_class; /* left out by their class (highway=motorway, ...) */
    size_t left_out_closed;/* left out as closed (foot=no, access=private, closed field) */
    size_t lines_handed;   /* read in batches: the lines handed on (none left in lines) */
    /* careshed shard: the features noted as the file is read whole (when it can be read
     * by window), or, read again, those meeting window (the file's CRS) numbered by them */
    cs_net_features *features_noted;
    const double *window;
    bool windowed;         /* the reading was by window (else whole) */
    long long file_bytes, file_mtime_ns; /* the file as it was opened (0: not known) */
    char encoding_found[32]; /* its text's, as a scan chose it (cs_layer_encoding_found) */
} cs_raw_lines;

/* The value of tag key in an OpenStreetMap other_tags text ("foot"=>"no",...), into
 * buf (empty when absent); escaped quotes inside values are understood. */
void cs_osm_tag(const char *tags, const char *key, char *buf, size_t size);

void cs_raw_layer_free(cs_raw_layer *raw);
void cs_raw_areas_free(cs_raw_areas *a);
void cs_raw_lines_free(cs_raw_lines *l);

/* Read the network layer cfg->network names (nothing when its path is NULL). Keeps the
 * ways usable on foot. Errors: CS_ERR_INPUT (unreadable, no lines, bad fields). */
cs_status cs_load_network(cs_context *ctx, const cs_config *cfg, cs_raw_lines *out);

/* The same, the lines handed to take(user, lines, line) in batches of about
 * CS_LINES_BATCH vertices as they are read (line[i]: the index of line i among all the
 * network's, as the whole file numbers them), then forgotten (take may change them):
 * out->lines is left empty. Errors: those of cs_load_network (a feature read by window
 * that the whole reading did not have, or with other lines: the file changed), and
 * take's. */
#define CS_LINES_BATCH ((size_t)1 << 20)
typedef cs_status (*cs_lines_take)(void *user, cs_lines *lines, const size_t *line);
cs_status cs_load_network_batches(cs_context *ctx, const cs_config *cfg, cs_raw_lines *out,
                                  cs_lines_take take, void *user);
void cs_raw_points_free(cs_raw_points *p);

/* The network file (one without a spatial index: a GeoJSON, an OpenStreetMap file, a
 * Shapefile...) copied to an indexed GeoPackage in a new folder under $TMPDIR, its
 * features (an OpenStreetMap file's ways of a class) in the file's order numbered from 1,
 * its text the bytes the reader gets from the file, for careshed shard to read by window
 * (network_copy.c). Errors: CS_ERR_INPUT, nothing said, when the file cannot be opened
 * again; CS_ERR_OUTPUT when the copy cannot be made, why saying so; CS_ERR_NOMEM.
 * Nothing is left on error. */
cs_status cs_network_copy_make(cs_context *ctx, const cs_config *cfg, cs_net_copy *out,
                               char why[256]);
/* The progress stage of making the copy and reading it once (to 1 when done). */
#define CS_COPY_STAGE "copy network"
/* The copy and its folder removed. */
void cs_network_copy_remove(cs_net_copy *copy);

/* Read the areas layer. Errors are recorded; returns the first error status. */
cs_status cs_load_areas(cs_context *ctx, const cs_config *cfg, cs_raw_areas *out);

/* Read facilities; sets the study's kinds and capacities (from cfg or the data). */
cs_status cs_load_facilities(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             cs_raw_points *out);

/* Read population; sets the study's bands (from cfg or the data). A large plain CSV of
 * points is read in parts on up to `threads` threads (0 = all cores). */
cs_status cs_load_population(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             int threads, cs_raw_points *out);

/* Whether GDAL reads the layer lc describes as a raster grid. */
bool cs_is_raster(const cs_config *cfg, const cs_layer_config *lc);

/* Open a population grid (the first band counts residents; age bands are shares of
 * it) and check it; its cells are read later, over the study area only. Errors:
 * CS_ERR_INPUT (unreadable, no geotransform), CS_ERR_CRS (no CRS), CS_ERR_STUDY (a band
 * mapped to a field). */
cs_status cs_load_population_raster(cs_context *ctx, const cs_config *cfg, cs_study *study,
                                    cs_raw_points *p);

/* What takes a strip of a grid's cells (in p->surfaces, in the grid's CRS; they are
 * dropped once it returns). Its error stops the reading. */
typedef cs_status (*cs_raster_strip_fn)(void *user, cs_raw_points *p);

/* Most cells read from a grid's window over the areas by a run: 25 million is a 5,000 x
 * 5,000 window, a 30 m grid over 150 x 150 km. The cut of a study (careshed shard), which
 * holds only a strip, reads up to 10 billion: a 100 m grid over 10,000 x 10,000 km. A
 * window beyond is a grid wrongly placed, or one that would take hours to read. */
#define CS_MAX_RASTER_CELLS 25000000.0
#define CS_MAX_RASTER_CELLS_CUT 1e10

/* Read the populated cells of the grid within box (xmin, ymin, xmax, ymax in the grid's
 * CRS) one block at a time, and hand them to strip() some 262,000 at a time (whole
 * blocks), in the grid's block order: a window of a national grid is never held whole.
 * Errors: CS_ERR_INPUT (a window of more than max_cells cells, negative counts, nothing
 * populated there, unreadable), or strip()'s. */
cs_status cs_raster_each_strip(cs_context *ctx, cs_raw_points *p, const double *box,
                               double max_cells, cs_raster_strip_fn strip, void *user);

/* The text of the areas layer's `field` for each of the n areas of ids (by id; "" for
 * an area the layer no longer has), into *values (n new strings in a new array).
 * Errors: CS_ERR_INPUT (the layer or the field cannot be read), CS_ERR_NOMEM. */
cs_status cs_load_area_values(cs_context *ctx, const cs_config *cfg, const char *field,
                              char *const *ids, size_t n, char ***values);

/* Read the residential polygons of the land-use layer (nothing when none is given). */
cs_status cs_load_landuse(cs_context *ctx, const cs_config *cfg, cs_raw_areas *out);

void cs_raw_surfaces_free(cs_raw_surfaces *s);

/* Read the cost matrix cfg->costs names (nothing when none) into study->costs, joined
 * by id to the study's demand points (those left out of the study are skipped) and
 * facilities; other ids become candidate rows. raw describes the table for the summary.
 * Errors: CS_ERR_STUDY (population without ids), CS_ERR_INPUT (unreadable, missing
 * fields, unknown demand ids, empty or negative or non-numeric costs, repeated demand
 * ids, nothing inside the study). */
cs_status cs_load_costs(cs_context *ctx, const cs_config *cfg, cs_study *study,
                        cs_raw_layer *raw);

/* Polygons of a layer (e.g. water, industrial land) in the working CRS work_crs, one
 * "area" per polygon, from the layer's CRS or crs. Errors: CS_ERR_INPUT, CS_ERR_CRS. */
cs_status cs_read_zones(cs_context *ctx, const char *path, const char *crs, const char *work_crs,
                        cs_rings *out);

/* Open the layer lc describes (role is its study key) and fill raw's description of it.
 * Errors: CS_ERR_STUDY when lc has no path, and those of cs_layer_open. */
cs_status cs_load_open_layer(cs_context *ctx, const cs_config *cfg, const cs_layer_config *lc,
                             const char *role, bool points, cs_raw_layer *raw, cs_layer **out);

/* Where feature number `feature` of a raw layer is, for messages. */
cs_where cs_raw_where(const cs_raw_layer *raw, long feature, const char *id);

/* Report duplicate ids among n (feature numbers for messages); role is the study key
 * ("areas", "facilities"). */
cs_status cs_check_unique_ids(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                              char *const *ids, const long *feature, size_t n);

#endif
