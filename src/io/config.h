/*
 * config.h — the study's settings in memory (the private shape of cs_config).
 *
 * A study file and the command line's --set both end in cs_config_set_at(), which
 * finds each dotted key in one table of keys (config.c: name, where its value is kept,
 * default, range, help), so the YAML reader and the overrides accept exactly the same
 * keys and values, and report problems the same way (file, line, key). Adding a key is
 * a field here and a row there.
 *
 * Strings are owned by the config (cs_malloc'd); NULL means "not set / default".
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include "core/model.h"

/* A target type's name as the study file writes it ("capacity_per_population"), from
 * the one table of them the study file is read with; "?" for none. */
const char *cs_target_type_name(cs_target_type type);

/* Where one input layer is and how to read it. */
typedef struct cs_layer_config {
    char *path;     /* file or GDAL dataset name; relative to the study file's folder */
    char *layer;    /* layer name; NULL = the first layer */
    char *crs;      /* "EPSG:4326", "GCJ-02", "BD-09", WKT or PROJ string; NULL = from file */
    char *encoding; /* e.g. "CP936" for Shapefiles without .cpg; NULL = .cpg or detected */
    char *x_field;  /* for tables of points (CSV): longitude/easting field */
    char *y_field;  /*                              latitude/northing field */
    char *id_field;
    char *name_field;
    int path_line;  /* line in the study file where path was set (0 = not from a file) */
    bool may_be_empty; /* not a key: a shard's layers may hold nothing (careshed shard) */
    /* not a key: the encoding a scan of the same text chose when it was read before
     * (careshed shard reads its network again): text is read as that scan read it,
     * without scanning again. Borrowed. */
    const char *encoding_found;
} cs_layer_config;

/* A named capacity measured at facilities: beds, meals per day, floor area... */
typedef struct cs_capacity_config {
    char *id;    /* "beds" */
    char *field; /* facility field holding it; NULL = same as id */
    char *unit;  /* "beds", "meals/day", "m²"; NULL = id */
    char *name;  /* display name, e.g. 床位; NULL = id */
} cs_capacity_config;

/* A population band (age group) counted at demand points. */
typedef struct cs_band_config {
    char *id;    /* "60+" */
    char *field; /* population field holding the count */
    double share; /* used when field is NULL: share of the total (e.g. census 0.2021) */
} cs_band_config;

/* A facility kind with its service thresholds. */
typedef struct cs_kind_config {
    char *id;       /* "centre" */
    char *name;     /* display name; NULL = id */
    char *name_en;
    char *unit;     /* what one facility is called in gap texts ("centres"); NULL = id */
    char **match;   /* values of the facility kind field meaning this kind; NULL = {id} */
    size_t match_count;
    double thresholds_min[CS_MAX_THRESHOLDS]; /* minutes at walk_speed_kmh */
    double thresholds_m[CS_MAX_THRESHOLDS];   /* or metres; only one of the two is used */
    size_t threshold_count;
    bool thresholds_in_m;
    double walk_speed_kmh; /* NaN = the study's */
    unsigned measures;     /* cs_measure bits; 0 = the study's */
    char *load_capacity;   /* capacity a facility's load is measured against; NULL = none */
    char *load_band;       /* band whose residents use it; NULL = "total" */
    double load_rate;      /* share of that band that uses it (e.g. 0.05); default 1 */
    int access_method;            /* accessibility: 0 = 2SFCA, 1 = 3SFCA */
    int access_demand;            /* accessibility's demand: 0 = people, 1 = points */
    cs_decay_kind access_decay;   /* accessibility (2SFCA) weights by distance */
    double access_weights[CS_MAX_THRESHOLDS]; /* steps: one weight per threshold zone */
    size_t access_weight_count;
    double access_per;     /* accessibility per this many residents; default 1000 */
    double access_beta;    /* power: exponent; exponential: rate per km; default 1 */
    double access_min_m;   /* power: the least distance counted; default 100 */
} cs_kind_config;

/* A cost matrix from another router: one row per (demand point, facility or candidate)
 * pair it can reach, with the cost in minutes or metres. Pairs not listed are out of
 * reach. */
typedef struct cs_costs_config {
    cs_layer_config layer; /* layer.path NULL = no matrix */
    char *from_field;      /* the demand point's id (population.id); default "from" */
    char *to_field;        /* the facility's or candidate's id; default "to" */
    char *cost_field;      /* default "cost" */
    bool in_m;             /* costs are metres; default minutes (at each kind's speed) */
} cs_costs_config;

/* The walking network: OpenStreetMap (.osm, .osm.pbf) or any line layer. */
typedef struct cs_network_config {
    cs_layer_config layer;     /* layer.path NULL = no network */
    char **highway;            /* way classes walked on; NULL = the default list */
    size_t highway_count;
    char *class_field;         /* line layers: field of the way class; NULL = "highway"
                                  when present (classes are then filtered as in OSM) */
    char *closed_field;        /* line layers: field flagging closed ways (1/true/yes) */
    char *speed_field;         /* line layers: field of a walking speed factor (> 0) */
    double snap_m;             /* vertices this close are one node; default 0.5 */
    bool node_crossings;       /* split lines where they cross; default false */
    double max_attach_m;       /* farther from every edge = off-network; default 300 */
    double access_width_m;     /* buffer of reached lines in service areas; default 50 */
    double area_max_pieces;    /* service areas of at most this many reached street pieces
                                  are dissolved exactly, larger ones drawn on cells
                                  (dissolving more takes minutes); default 50000, 0 = all
                                  on cells */
    double area_cell_m;        /* the cells' size; default 0 = access_width_m / 5 */
    bool facility_areas;       /* also write per-facility service areas; default false */
    bool shown;                /* drawn (careshed serve's map): read even when no kind
                                  walks it (cs_config_show_network) */
} cs_network_config;

typedef struct cs_target_config {
    char *id;
    char *name;    /* display name (Chinese in the bundled study) */
    char *name_en;
    cs_target_type type;
    cs_scope scope;
    char *kind;        /* kind id; NULL = all kinds (capacity targets) */
    char *capacity;    /* capacity id */
    char *capacity_of; /* for CAPACITY_SHARE: the denominator capacity */
    char *band;        /* band id; NULL = "total" */
    double within_min; /* COVERAGE: threshold in minutes (or within_m) */
    double within_m;
    double per;        /* CAPACITY_PER_POP: population unit (1, 1000); default 1 */
    double at_least;   /* the target value */
    double at_most;    /* LOAD: the highest load ratio allowed (1 = full) */
    unsigned measure;  /* COVERAGE: one cs_measure bit; 0 = the kind's main one */
    int line;          /* where the target was defined, for messages */
} cs_target_config;

struct cs_config {
    char *file;      /* the study file read last, for messages; NULL */
    char *base_dir;  /* folder relative layer paths are taken from; NULL = cwd */
    char *name;      /* study name */
    cs_lang lang;    /* the texts' language; CS_LANG_AUTO from the names */
    char *crs;       /* working metric CRS; NULL or "auto" = tmerc at the centre */
    double walk_speed_kmh;                     /* default 4 */
    double thresholds_min[CS_MAX_THRESHOLDS];  /* default 5, 10, 15 */
    size_t threshold_count;
    double outside_tolerance_m; /* a point this close to an area counts in it; default 50 */
    double far_outside_km;      /* a point farther from the areas is an error; default 10 */

    cs_layer_config areas;
    cs_layer_config facilities;
    char *kind_field;           /* facilities: field holding the kind; default "kind" */
    char *opened_field;         /* facilities: year opened; NULL = "opened" when present */
    char *closed_field;         /* facilities: year closed; NULL = "closed" when present */
    cs_layer_config population;
    char *total_field;          /* population: residents field; default "pop" */
    char *area_field;           /* population: field of area ids = totals per area */
    char *pop_year_field;       /* population: the year each point's counts are of (rows of
                                   several years); NULL = one year */
    double spread_m;            /* polygon population is spread on a grid this fine */
    cs_layer_config landuse;    /* land use polygons, for spreading area totals */
    char *landuse_class;        /* its class field; default "landuse" */
    char **landuse_residential; /* classes that are residential; default residential */
    size_t landuse_residential_count;
    int demand_points_csv;      /* demand-access.csv: 1 always, 0 never, -1 (default) when
                                   the study has at most CS_DEMAND_CSV_AUTO_MAX points */
    unsigned output_formats;    /* CS_FORMAT_* bits; 0 = all */
    bool shapefile_names;       /* layers' columns at most 10 characters */
    bool demand_layer;          /* demand.fgb, every demand point's results */
    bool demand_csv;            /* and the same as demand.csv */
    double patch_cell_m;        /* under-served patches: grid cell size; default 250 */
    long report_suggest;        /* report.suggest: sites per kind; CS_SUGGEST_TARGET */
    bool patch_hex;             /* hexagonal cells instead of squares */
    char *patch_band;           /* band counted; NULL = the first age band */
    cs_network_config network;
    cs_costs_config costs;
    unsigned measures;          /* cs_measure bits; 0 = straight, plus network with a
                                   network and matrix with a cost matrix */
    /* a shard cut by careshed shard (shard.*): its number from 1 (0: not a shard), how
       many there are, the population field marking its own residents, its whole
       study's demand box (4 numbers as text) and points, and its whole network's node
       box (when the shard has a network) */
    double shard_part, shard_parts, shard_points;
    double shard_network_mb; /* careshed shard: the network's lines held at most */
    char *shard_own_field, *shard_cut;
    bool stream_inputs; /* careshed shard: a grid population and a cost matrix are read
                           as the shards are cut (cs_config_stream_inputs) */
    char **shard_box, **shard_net_box;
    size_t shard_box_count, shard_net_box_count;

    cs_capacity_config *capacities; size_t capacity_count;
    cs_band_config *bands;         size_t band_count;
    cs_kind_config *kinds;         size_t kind_count;
    cs_target_config *targets;     size_t target_count;

    /* every key set (by the study file, then --set), each with the value it was given
       last, in the order of those last settings: what a study cut from this one
       (careshed shard) repeats */
    struct cs_config_given *given; size_t given_count, given_cap;
};

/* A key as set, and its value as text. */
typedef struct cs_config_given {
    char *key, *value;
} cs_config_given;

/*
 * Set one dotted key from text. file/line say where the value came from (NULL/0 for
 * the command line) and appear in messages. Records an error and returns
 * CS_ERR_STUDY for unknown keys (listing the known ones) and bad values.
 */
cs_status cs_config_set_at(cs_context *ctx, cs_config *cfg, const char *key, const char *value,
                           const char *file, int line);

/*
 * Check what single keys cannot: every target names a known kind, capacity and band,
 * coverage targets name a threshold of their kind, and so on. Records every problem.
 */
cs_status cs_config_validate(cs_context *ctx, const cs_config *cfg);

/* Find by id; -1 when absent. */
long cs_config_find_kind(const cs_config *cfg, const char *id);
long cs_config_find_capacity(const cs_config *cfg, const char *id);
long cs_config_find_band(const cs_config *cfg, const char *id); /* "total" -> -1 too */

/* How kind (NULL: a kind taken from the data) is measured: its own setting, else the
 * study's, else straight plus the network and the cost matrix when they are given. */
unsigned cs_config_measures(const cs_config *cfg, const cs_kind_config *kind);
/* Whether a network is given and some kind walks it (is measured along it) or it is
 * shown: only then is it read. */
bool cs_config_reads_network(const cs_config *cfg);
/* How one measure reads in messages: "straight", "along the network", "by the cost
 * matrix". Static. */
const char *cs_config_measure_text(unsigned measure);

/* shard.demand_box (network: shard.network_box) as numbers; false when it does not hold
 * 4 numbers, x0 <= x1 and y0 <= y1. */
bool cs_config_shard_box(const cs_config *cfg, bool network, double box[4]);

/* Resolve a layer path against base_dir; new string (cs_free). */
char *cs_config_resolve_path(const cs_config *cfg, const char *path);

#endif /* CS_CONFIG_H */
