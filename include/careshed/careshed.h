/*
 * careshed.h — the whole public API of the careshed library.
 *
 * careshed measures how well a district's elder-care facilities serve its older
 * residents: who lives within a 5-, 10- or 15-minute service circle of each kind of
 * facility, which streets (areas) fall short of a plan's targets, and by how much.
 *
 * The flow is one way:
 *
 *   cs_config  (a study file and/or key=value settings)
 *     -> cs_study_load()   read, validate and project every layer into one metric CRS
 *     -> cs_run()          cost fields, coverage per area and district, targets
 *     -> cs_result_write() GeoJSON, CSV and a JSON summary, written atomically
 *
 * Conventions
 * - Every fallible call returns a cs_status (CS_OK is 0) and puts its results in
 *   trailing out-parameters, which are cleared (set to NULL/0) on failure.
 * - The library never prints and never exits. What went wrong, in which file, which
 *   feature or line, which field, and what to do, is recorded as cs_message entries
 *   in the cs_context; warnings are recorded there too.
 * - A cs_context belongs to one thread at a time: it owns that thread's GEOS handle
 *   and PROJ context. Call GDALAllRegister() (or let cs_context_create do it) from the
 *   main thread before any thread starts.
 * - Ownership is written at each prototype: "borrowed" pointers stay valid until the
 *   named object is destroyed; "new" objects are freed with the named function.
 * - Units are part of names: _m, _m2, _min, _kmh, lon_deg.
 */
#ifndef CARESHED_H
#define CARESHED_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CARESHED_BUILDING) && defined(__GNUC__)
#define CS_API __attribute__((visibility("default")))
#else
#define CS_API
#endif

#define CARESHED_VERSION "0.1.0"

/* ------------------------------------------------------------------ status */

/** Status of every fallible call. Values are stable; new ones are only appended. */
typedef enum cs_status {
    CS_OK = 0,
    CS_ERR_ARGUMENT = 1, /**< an API call got a NULL or out-of-range argument */
    CS_ERR_NOMEM = 2,    /**< memory could not be allocated */
    CS_ERR_STUDY = 3,    /**< the study file or a setting is invalid */
    CS_ERR_INPUT = 4,    /**< an input layer is missing, unreadable or invalid */
    CS_ERR_CRS = 5,      /**< a coordinate system is unknown or cannot be converted */
    CS_ERR_OUTPUT = 6,   /**< an output cannot be written */
    CS_ERR_INTERNAL = 7  /**< a bug or an unexpected failure in a dependency */
} cs_status;

/** A short English phrase for a status ("input error"). Never NULL; static storage. */
CS_API const char *cs_status_string(cs_status status);

/** The library's version string, e.g. "0.1.0". Static storage. */
CS_API const char *cs_version(void);

/**
 * The Levenshtein distance between a[0..an) and b[0..bn) (bytes), or SIZE_MAX when
 * either is longer than 40 bytes: the measure behind careshed's "did you mean"
 * suggestions for study keys and command-line options alike.
 */
CS_API size_t cs_edit_distance(const char *a, size_t an, const char *b, size_t bn);

/**
 * Whether a path starts with a scheme ("https:", "PG:"): two or more letters (then
 * letters, digits, '+', '-', '.') and ':'. Such a path names no file in a folder and is
 * never joined to one.
 */
CS_API int cs_path_has_scheme(const char *path);

/* --------------------------------------------------------------- allocator */

/** Functions the library allocates with. All three must be set. */
typedef struct cs_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} cs_allocator;

/**
 * Replace the allocator for all later allocations (NULL restores malloc/realloc/free).
 * Not thread-safe: call it before creating any context, and never while objects made
 * with another allocator are alive. Memory inside GDAL, GEOS and PROJ is unaffected.
 */
CS_API void cs_set_allocator(const cs_allocator *allocator);

/* --------------------------------------------------------------- messages */

typedef enum cs_severity {
    CS_SEVERITY_WARNING = 1,
    CS_SEVERITY_ERROR = 2
} cs_severity;

/**
 * One problem found by the library. Strings are borrowed from the context and valid
 * until cs_context_clear_messages() or cs_context_destroy(); any may be NULL, and
 * line/feature are 0 when they do not apply.
 */
typedef struct cs_message {
    cs_severity severity;
    cs_status status;       /**< class of the problem (input, CRS, ...) */
    const char *file;       /**< file concerned */
    long line;              /**< 1-based line in a text file (study file, CSV) */
    long feature;           /**< 1-based feature number in a layer */
    const char *feature_id; /**< the feature's id value, when known */
    const char *field;      /**< field or study key concerned */
    const char *text;       /**< what is wrong */
    const char *hint;       /**< what the user can do about it */
} cs_message;

/**
 * Format a message on one line, without the program's name and without a newline:
 * "error: streets.shp: feature 12 (id 310112001): field 'pop': negative value -5;
 * fix the value or remove the feature". Writes at most size bytes including the
 * terminating NUL; returns the length the full text needs (like snprintf).
 */
CS_API size_t cs_message_format(const cs_message *message, char *buffer, size_t size);

/* ---------------------------------------------------------------- context */

typedef struct cs_context cs_context;

/** Progress callback: stage name (static storage) and fraction done in [0, 1]. */
typedef void (*cs_progress_fn)(void *user, const char *stage, double fraction);

/**
 * Create a context: a message list, a GEOS handle and a PROJ context for one thread.
 * Registers GDAL drivers on first use. *out is new, free with cs_context_destroy().
 * Errors: CS_ERR_NOMEM (also when proj.db is there but could not be opened under a
 * memory limit); CS_ERR_CRS when PROJ's database cannot be found (the message names
 * PROJ_DATA). Starts the OpenMP threads (see cs_context_set_threads).
 */
CS_API cs_status cs_context_create(cs_context **out);

/** Destroy a context and everything it owns. NULL is ignored. */
CS_API void cs_context_destroy(cs_context *ctx);

/** Number of messages (warnings and errors) recorded so far. */
CS_API size_t cs_context_message_count(const cs_context *ctx);

/** Number of warnings reported so far, including those not listed one by one (a
 * summary line such as "... and 1,234 more warnings like the ones above" stands for
 * them and is not counted itself). */
CS_API size_t cs_context_warning_count(const cs_context *ctx);

/** Number of errors among the messages. */
CS_API size_t cs_context_error_count(const cs_context *ctx);

/** Message i (0-based, in the order found); borrowed; NULL when i is out of range. */
CS_API const cs_message *cs_context_get_message(const cs_context *ctx, size_t i);

/** Forget all messages. */
CS_API void cs_context_clear_messages(cs_context *ctx);

/** Report progress of long stages to fn (NULL to stop). Called on the context's thread. */
CS_API void cs_context_set_progress(cs_context *ctx, cs_progress_fn fn, void *user);

/**
 * Use up to n threads for the parallel stages (0 = all cores). Results never depend on
 * n. Under an address-space limit (ulimit -v) fewer threads are used when their stacks
 * would not fit, and the threads are started here, on the calling thread, so that no
 * later stage has to start one when memory is short (OpenMP ends the program when it
 * cannot). Call it from the thread that runs the study.
 */
CS_API void cs_context_set_threads(cs_context *ctx, int n);

/**
 * Let the writers of an output folder (cs_result_write, cs_site_write and
 * cs_output_folder_check) take a folder that is not careshed's: one that holds files
 * careshed did not write and no .careshed marker. careshed's files replace those of
 * the same names; every other file stays (careshed never removes a file it did not
 * write), and the folder becomes careshed's. Off by default: such a folder is refused.
 * Inputs are never replaced either way. The command line's --overwrite.
 */
CS_API void cs_context_set_overwrite(cs_context *ctx, bool on);

/**
 * Wall-clock seconds spent in each stage so far ("load", "project", "index",
 * "cost field", with a network "graph", "attach" and "network search", then
 * "coverage", "write", and the write stage's parts: "write service areas" and
 * "write <output>" for each layer, the package and each file), summed over calls, in
 * the order first entered. Returns the number of stages; stage i's name (valid as long
 * as the context) and seconds through the out-parameters when i is in range.
 */
CS_API size_t cs_context_timings(const cs_context *ctx, size_t i, const char **stage,
                                 double *seconds);

/* ------------------------------------------------------------------ config */

/**
 * A study's settings: where each layer is, which fields hold what, coordinate
 * systems, facility kinds with thresholds, and targets. Keys are dotted paths, the
 * same in the YAML study file and in cs_config_set(), e.g. "walk_speed_kmh",
 * "areas.path", "kinds.centre.thresholds_min", "targets.meals.at_least".
 * The full list of keys is in docs/study-file.md and cs_config_key_get().
 */
typedef struct cs_config cs_config;

/** A config holding the defaults. *out is new, free with cs_config_destroy(). */
CS_API cs_status cs_config_create(cs_context *ctx, cs_config **out);

/** Free a config. NULL is ignored. */
CS_API void cs_config_destroy(cs_config *cfg);

/**
 * Read a YAML study file into cfg, on top of what cfg holds. Relative layer paths are
 * taken relative to the study file's folder. Every unknown key and bad value is
 * recorded (file, line, key) and reading goes on, so one call reports them all.
 * Errors: CS_ERR_STUDY (file missing, not YAML, unknown keys, bad values), CS_ERR_NOMEM.
 */
CS_API cs_status cs_config_load(cs_context *ctx, cs_config *cfg, const char *path);

/**
 * Set one key, as the command line's "--set key=value" does. Lists are written with
 * commas ("5,10,15"); an empty value restores the default. A relative layer path
 * (areas.path, ...) is taken from the folder of the study file read last, as one
 * written in it; the careshed command joins the paths typed on its command line to
 * the current folder before setting them.
 * Errors: CS_ERR_STUDY (unknown key or bad value), CS_ERR_NOMEM.
 */
CS_API cs_status cs_config_set(cs_context *ctx, cs_config *cfg, const char *key,
                               const char *value);

/**
 * Have cs_study_load read the walking network even when no kind is measured along it
 * (a network no kind walks is otherwise not read): careshed serve draws it under its
 * map. NULL is ignored.
 */
CS_API void cs_config_show_network(cs_config *cfg);

/**
 * For careshed shard: have cs_study_load leave unread what cs_shard_write can read as
 * it cuts, so that a national input is never held whole: a population grid when every
 * kind is measured in a straight line (read a strip at a time, three times), and a cost
 * matrix's pairs (checked as the load reads it, then read again once, and once more per
 * group of shards), and a network whose lines take more than shard.network_memory_mb
 * (only each line's box held; read again by window through the file's spatial index, a
 * GeoJSON's or an OpenStreetMap file's through a copy made in $TMPDIR, removed with the
 * study). Such a study lacks its demand points or pairs: give it to cs_shard_write
 * only. A population of points loads whole as without it. NULL is ignored.
 */
CS_API void cs_config_stream_inputs(cs_config *cfg);

/**
 * Remove the scratch files careshed made and has not removed yet (the network's copy
 * of a study loaded for careshed shard, see cs_config_stream_inputs). Async-signal-safe:
 * for a program's handler of SIGINT or SIGTERM, just before the program ends; nothing of
 * careshed may be used after it.
 */
CS_API void cs_remove_scratch(void);

/**
 * Keep careshed's large blocks (8 MB and more: the residents' positions, numbers and
 * results, the graph...) in files in the folder dir from now on, each removed from the
 * folder as it is made and mapped into memory: the system writes their pages to disk
 * and drops them when memory runs short, so that a study larger than the machine's
 * memory (a national merge) runs to its end, slower, where it would otherwise be killed.
 * Each block's disk is taken as it is made; a block the disk has no room for is kept in
 * memory. Nothing is left in dir, even when the process is killed. NULL: blocks made from now on
 * stay in memory. CS_ERR_ARGUMENT when dir is not a folder this process can write in.
 */
CS_API cs_status cs_spill_to(const char *dir);

/** One study key, as `careshed check --keys` lists it. */
typedef struct cs_config_key {
    const char *key;          /**< dotted name; <id> (<band>) stands for an entry's id */
    const char *type;         /**< "text", "field name", "number", "true/false", ... */
    char allowed[256];        /**< the range or the values allowed; "" when any */
    char default_value[160];  /**< what leaving the key out means; "" when nothing */
    const char *help;         /**< one line */
} cs_config_key;

/** The number of study keys. */
CS_API size_t cs_config_key_count(void);

/**
 * Fill *out with key i (0 <= i < cs_config_key_count()), in the order of
 * docs/study-file.md. The const char * members are static.
 * Errors: CS_ERR_ARGUMENT (out NULL or i out of range; nothing is recorded).
 */
CS_API cs_status cs_config_key_get(size_t i, cs_config_key *out);

/* ------------------------------------------------------------------- study */

/** Coordinates in WGS84, longitude first. */
typedef struct cs_lonlat {
    double lon_deg;
    double lat_deg;
} cs_lonlat;

/** A loaded study: every layer validated and projected to one metric CRS; immutable. */
typedef struct cs_study cs_study;

/**
 * Load everything cfg names: areas (streets), facilities and population. Geometries
 * are repaired (with a warning naming the feature) or rejected; fields are checked;
 * points are located in areas; all coordinates are projected into the working CRS.
 * Every problem found is recorded, not just the first: check the context's messages.
 * *out is new, free with cs_study_destroy(); cfg is only read and may be destroyed
 * after the call.
 * Errors: CS_ERR_STUDY, CS_ERR_INPUT, CS_ERR_CRS, CS_ERR_NOMEM.
 */
CS_API cs_status cs_study_load(cs_context *ctx, const cs_config *cfg, cs_study **out);

/** Free a study. NULL is ignored. */
CS_API void cs_study_destroy(cs_study *study);
/**
 * The study as it stood in `year`: the same areas, network and settings, with only the
 * facilities open that year (facilities.opened <= year < facilities.closed; a facility
 * without years is always open) and, when the population is given per year
 * (population.year), the residents of the latest population year not after it (else
 * the first). It borrows from study, which must outlive it; run it with cs_run, free
 * it with cs_study_destroy. Errors: CS_ERR_NOMEM.
 */
CS_API cs_status cs_study_in_year(cs_context *ctx, const cs_study *study, int year,
                                  cs_study **out);
/** 1 and the first and last year any facility opened or closed or the population is
 *  given for, or 0 when there are no years. */
CS_API int cs_study_years(const cs_study *study, int *first, int *last);

/** Number of areas (streets). */
CS_API size_t cs_study_area_count(const cs_study *study);
/** Area i's id and name; borrowed until the study is destroyed. */
CS_API const char *cs_study_area_id(const cs_study *study, size_t i);
CS_API const char *cs_study_area_name(const cs_study *study, size_t i);
/** Number of facilities and of demand points. */
CS_API size_t cs_study_facility_count(const cs_study *study);
CS_API size_t cs_study_demand_count(const cs_study *study);
/** Number of facility kinds; kind k's id and display name (borrowed). */
CS_API size_t cs_study_kind_count(const cs_study *study);
CS_API const char *cs_study_kind_id(const cs_study *study, size_t k);
CS_API const char *cs_study_kind_name(const cs_study *study, size_t k);
/** Number of thresholds of kind k and threshold j in minutes (NaN for metre-only
 *  thresholds) and in metres. */
CS_API size_t cs_study_threshold_count(const cs_study *study, size_t k);
CS_API double cs_study_threshold_min(const cs_study *study, size_t k, size_t j);
CS_API double cs_study_threshold_m(const cs_study *study, size_t k, size_t j);
/** Population bands: band 0 is all residents ("total"), then the age bands ("60+"...). */
CS_API size_t cs_study_band_count(const cs_study *study);
CS_API const char *cs_study_band_name(const cs_study *study, size_t b);
/** Capacities measured at facilities (beds, meals/day ...): count, id and unit. */
CS_API size_t cs_study_capacity_count(const cs_study *study);
CS_API const char *cs_study_capacity_id(const cs_study *study, size_t c);
CS_API const char *cs_study_capacity_unit(const cs_study *study, size_t c);
/** Description of the working CRS (PROJ string); borrowed. */
CS_API const char *cs_study_crs(const cs_study *study);

/** How distances are measured. */
typedef enum cs_measure {
    CS_MEASURE_STRAIGHT = 1, /**< straight line, as the crow flies */
    CS_MEASURE_NETWORK = 2,  /**< along the walking network */
    CS_MEASURE_MATRIX = 4    /**< from the study's cost matrix (costs.*) */
} cs_measure;

/** 1 when kind k is measured this way (see the study file's measure keys). */
CS_API int cs_study_kind_measured(const cs_study *study, size_t k, cs_measure measure);
/** The capacity a kind's load and accessibility are measured in (kinds.<k>.load_capacity),
 *  -1 when none; the band using it; accessibility's population unit (access_per). */
CS_API long cs_study_kind_capacity(const cs_study *study, size_t k);
CS_API size_t cs_study_kind_band(const cs_study *study, size_t k);
CS_API double cs_study_kind_access_per(const cs_study *study, size_t k);
/** 1 when the study has a walking network. */
CS_API int cs_study_has_network(const cs_study *study);
/** The cost matrix (costs.*) as joined to the study. */
typedef struct cs_matrix_report {
    int in_m;                     /**< costs in metres (else minutes) */
    size_t pairs;                 /**< demand point - site pairs kept */
    size_t pairs_left_out;        /**< rows naming demand points outside the study area */
    size_t pairs_repeated;        /**< rows repeating a pair (the cheapest is kept) */
    size_t facilities_with_pairs; /**< facilities the matrix gives any pair */
    size_t candidate_sites;       /**< ids of its to column that are no facility's */
} cs_matrix_report;
/** Errors: CS_ERR_ARGUMENT when the study has no cost matrix. */
CS_API cs_status cs_study_cost_matrix(const cs_study *study, cs_matrix_report *out);

/* ----------------------------------------------------------------- network */

/** What the walking network is like, and how well the study's points reach it. */
typedef struct cs_network_report {
    size_t edges, nodes;
    double length_km;           /**< total length of the edges */
    size_t components;          /**< connected components */
    double largest_share;       /**< share of the length in the largest component */
    size_t snapped_vertices;    /**< vertices merged within network.snap_m */
    size_t noded_crossings;     /**< crossings given a node (network.node_crossings) */
    size_t left_out_class;      /**< ways left out by class (motorway, trunk, ...) */
    size_t left_out_closed;     /**< ways left out as closed to walkers */
    double max_attach_m;        /**< points farther from every edge are off-network */
    size_t demand_off;          /**< demand points off the network (never covered) */
    double demand_off_pop;      /**< their residents */
    size_t facilities_off;      /**< facilities off the network (serve no one on foot) */
    size_t demand_islands;      /**< demand points on small islands (< 1% of the length) */
    double demand_islands_pop;
    size_t facilities_islands;
} cs_network_report;

/**
 * Build the study's walking network and attach every demand point and facility to
 * it, as a run does, and describe it. Warnings name points off the network.
 * Errors: CS_ERR_ARGUMENT (the study has no network), CS_ERR_INPUT (no walkable
 * edge), CS_ERR_NOMEM.
 */
CS_API cs_status cs_network_check(cs_context *ctx, const cs_study *study,
                                  cs_network_report *out);

/* -------------------------------------------------------------- cost field */

/**
 * The cost field of kind k: for every demand point, the straight-line distance in
 * metres to the nearest facility of that kind (INFINITY when the kind has none).
 * dist_m must hold cs_study_demand_count() values; nearest (may be NULL) receives the
 * facility index, or -1. Uses a spatial index, never all pairs.
 * Errors: CS_ERR_ARGUMENT, CS_ERR_NOMEM.
 */
CS_API cs_status cs_cost_field_compute(cs_context *ctx, const cs_study *study, size_t k,
                                       double *dist_m, long *nearest);

/**
 * The same along the walking network: for every demand point, the walking distance
 * in metres (at walking speed; a way's speed factor stretches it) to the nearest
 * facility of kind k, the straight access from the point to the network and from the
 * network to the facility included. Computed by one search from all the kind's
 * facilities at once, bounded by the kind's largest threshold: beyond it, and for
 * points off the network, INFINITY and -1. Builds the network for this one call; a
 * run builds it once for all kinds.
 * Errors: CS_ERR_ARGUMENT (no network, bad k), CS_ERR_INPUT, CS_ERR_NOMEM.
 */
CS_API cs_status cs_network_cost_field_compute(cs_context *ctx, const cs_study *study,
                                               size_t k, double *dist_m, long *nearest);

/* ------------------------------------------------------------------ result */

/** The outcome of a run: cost fields, coverage, facility statistics and targets. */
typedef struct cs_result cs_result;

/**
 * Compute the cost field of every kind, coverage per area and district at every
 * threshold and band, facility counts and capacities, and every target.
 * *out is new, free with cs_result_destroy(); it borrows study, which must outlive it.
 * Errors: CS_ERR_NOMEM, CS_ERR_INTERNAL.
 */
CS_API cs_status cs_run(cs_context *ctx, const cs_study *study, cs_result **out);

/** Free a result. NULL is ignored. */
CS_API void cs_result_destroy(cs_result *result);

/** Coverage of one kind, threshold and band, for area a or, with a = CS_DISTRICT,
 *  the whole district: residents of the band covered and in all. Measured along the
 *  network when the kind is, else straight (cs_result_coverage_by chooses). */
#define CS_DISTRICT ((size_t)-1)
typedef struct cs_coverage {
    double covered;
    double total;
    double share; /**< covered / total; NaN when total is 0 */
} cs_coverage;
CS_API cs_status cs_result_coverage(const cs_result *result, size_t k, size_t j, size_t b,
                                    size_t a, cs_coverage *out);
/** The same for one measure; CS_ERR_ARGUMENT when kind k is not measured that way. */
CS_API cs_status cs_result_coverage_by(const cs_result *result, cs_measure measure, size_t k,
                                       size_t j, size_t b, size_t a, cs_coverage *out);

/**
 * Who facility f serves: the residents of band b whose nearest facility of its kind,
 * within the kind's largest threshold (by its main measure), is f. *load is served
 * residents of the kind's load band times its load rate over the facility's load
 * capacity (NaN when the kind has none or the capacity is 0).
 */
CS_API cs_status cs_result_served(const cs_result *result, size_t f, size_t b, double *served,
                                  double *load);

/**
 * An under-served patch: contiguous grid cells (underserved.cell_m, square or hex)
 * holding residents of the patch band (underserved.band) beyond the largest threshold
 * of a kind, by its main measure. Patches are ranked by uncovered residents.
 */
typedef struct cs_patch_info {
    double uncovered;  /**< residents of the band beyond reach */
    double area_m2;    /**< the patch's cells clipped to the areas it lies in */
    double nearest_m;  /**< straight line from its nearest resident to the kind's nearest facility */
    size_t cells;
    size_t area_count; /**< areas it lies in, */
    const long *areas; /**< their indices, ascending */
} cs_patch_info;
CS_API size_t cs_result_patch_count(const cs_result *result, size_t k);
CS_API cs_status cs_result_patch(const cs_result *result, size_t k, size_t i,
                                 cs_patch_info *out);

/**
 * Accessibility of kind k (2SFCA, or E2SFCA with kinds.<k>.access_decay): the capacity
 * within reach per kinds.<k>.access_per residents of its load band, averaged over the
 * band's residents of area a (or CS_DISTRICT). NaN where the band has nobody.
 * CS_ERR_ARGUMENT when the kind has no capacity (kinds.<k>.load_capacity).
 */
CS_API cs_status cs_result_access(const cs_result *result, size_t k, size_t a, double *mean);
/** Each demand point's accessibility of kind k, or NULL when the kind has none. */
CS_API const double *cs_result_access_points(const cs_result *result, size_t k);

/** The network report of the run; CS_ERR_ARGUMENT when it used no network. */
CS_API cs_status cs_result_network(const cs_result *result, cs_network_report *out);

/**
 * Facilities of kind k in area a (or CS_DISTRICT, which also counts facilities
 * outside every area): their number, and when capacity is not NULL their total of
 * each capacity (cs_study_capacity_count() values).
 */
CS_API cs_status cs_result_facilities(const cs_result *result, size_t k, size_t a,
                                      double *count, double *capacity);

/** Outcome of one target at one scope. */
typedef struct cs_target_outcome {
    int evaluated;   /**< 0 when the target does not apply at this scope */
    int binding;     /**< 1 when this scope is the one the target is set for */
    int pass;        /**< 1 when the value meets the target */
    double value;    /**< the indicator's value, in the target's units */
    double required; /**< the target value */
    double gap;      /**< how much is missing in the user's units (0 when it passes) */
    const char *gap_text; /**< "3,120 more residents aged 65+ need ..."; borrowed, NULL on pass */
} cs_target_outcome;

/** Number of targets; target t's id and name (borrowed). */
CS_API size_t cs_result_target_count(const cs_result *result);
CS_API const char *cs_result_target_id(const cs_result *result, size_t t);
CS_API const char *cs_result_target_name(const cs_result *result, size_t t);
/** Target t at area a or CS_DISTRICT. */
CS_API cs_status cs_result_target(const cs_result *result, size_t t, size_t a,
                                  cs_target_outcome *out);
/** Number of binding targets that fail (district or any area, as each target says). */
CS_API size_t cs_result_failed_targets(const cs_result *result);

/* ------------------------------------------------------------------ siting */

/** Proposed sites evaluated against a run (cs_site_evaluate). */
typedef struct cs_site cs_site;

/** One proposed site. */
typedef struct cs_site_input {
    const char *id;  /**< shown in outputs; NULL = its number from 1 */
    double lon, lat; /**< in crs */
    const char *crs; /**< NULL = WGS84; "GCJ-02", "BD-09", "EPSG:4549", ... */
    const char *kind;  /**< a kind id of the study */
    double capacity;   /**< in the kind's load capacity (beds, meals/day...); NaN = none */
    long feature;      /**< its feature or line in a proposals file, for messages; 0 = none */
} cs_site_input;

/**
 * What each proposal alone, and all of them together, would change: residents newly
 * within each threshold of its kind, by street; the share of its service circle's
 * residents already covered; every target after; with a capacity, the accessibility
 * it adds and the load it takes from neighbouring facilities. Only the residents
 * around each proposal are visited, on the run's cost fields. where names the file the
 * proposals came from, for messages (NULL: the command line).
 * Errors: CS_ERR_INPUT (a proposal outside the study area, an unknown kind, a negative
 * capacity; each named), CS_ERR_CRS, CS_ERR_NOMEM.
 */
CS_API cs_status cs_site_evaluate(cs_context *ctx, const cs_result *result,
                                  const cs_site_input *in, size_t n, const char *where,
                                  cs_site **out);
CS_API void cs_site_destroy(cs_site *site);
/**
 * What evaluations of one run share: the residents' index (and the network's, along
 * it), which cs_site_evaluate builds on every call (half a second at two million
 * residents). Build it once for many evaluations (a server); it is read-only, so
 * evaluations on several threads may share it, each with its own context. It borrows
 * the result, which must outlive it. Errors: CS_ERR_ARGUMENT, CS_ERR_NOMEM.
 */
typedef struct cs_site_cache cs_site_cache;
CS_API cs_status cs_site_cache_create(cs_context *ctx, const cs_result *result,
                                      cs_site_cache **out);
CS_API void cs_site_cache_destroy(cs_site_cache *cache);
/** cs_site_evaluate against the cache's result, with its shared part. */
CS_API cs_status cs_site_evaluate_cached(cs_context *ctx, const cs_site_cache *cache,
                                         const cs_site_input *in, size_t n,
                                         const char *where, cs_site **out);
/**
 * Read proposals from a point layer (any format GDAL reads; CSV with lon/lat columns)
 * in its own CRS or crs (e.g. "BD-09"), with optional fields id, kind (kind where the
 * row has none) and capacity. *out is new (free with cs_site_inputs_free).
 * Errors: CS_ERR_INPUT naming the file, feature and field (e.g. a negative or
 * non-numeric capacity).
 */
CS_API cs_status cs_site_read(cs_context *ctx, const char *path, const char *crs,
                              const char *kind, cs_site_input **out, size_t *n);
/** cs_site_read with a table's coordinate fields named (NULL: found by name, e.g. lon,
 *  lng, long, longitude, x and lat, latitude, y). A named field must exist
 *  (CS_ERR_INPUT listing the fields there). */
CS_API cs_status cs_site_read_fields(cs_context *ctx, const char *path, const char *crs,
                                     const char *kind, const char *x_field,
                                     const char *y_field, cs_site_input **out, size_t *n);
/** cs_site_read_fields for candidate sites (cs_suggest_options): the same reading,
 *  with messages naming them candidates. */
CS_API cs_status cs_candidates_read_fields(cs_context *ctx, const char *path,
                                           const char *crs, const char *kind,
                                           const char *x_field, const char *y_field,
                                           cs_site_input **out, size_t *n);
CS_API void cs_site_inputs_free(cs_site_input *in, size_t n);
/** The number of proposals; index cs_site_count() in the calls below is all together. */
CS_API size_t cs_site_count(const cs_site *site);
/** Residents of band b in area a (or CS_DISTRICT) newly within threshold j of kind k,
 *  by the kind's main measure, for proposal p (or all together). */
CS_API cs_status cs_site_newly(const cs_site *site, size_t p, size_t k, size_t j, size_t b,
                               size_t a, double *out);
typedef struct cs_site_figures {
    const char *id;
    size_t kind;
    double within;      /**< residents of the patch band within its largest threshold */
    double overlap;     /**< the share of them already covered; NaN when none */
    double access_gain; /**< district mean accessibility it adds (NaN without capacity) */
    double load_taken;  /**< use (capacity units) it takes from neighbouring facilities */
    size_t neighbours;  /**< how many facilities lose residents to it */
    double own_load;    /**< its use over its capacity (NaN without capacity) */
} cs_site_figures;
CS_API cs_status cs_site_get_figures(const cs_site *site, size_t p, cs_site_figures *out);
/** Target t at area a (or CS_DISTRICT) with proposal p (or all together) added. */
CS_API cs_status cs_site_target(const cs_site *site, size_t p, size_t t, size_t a,
                                cs_target_outcome *after);
/** What the chosen sites are to do (careshed site --model). */
typedef enum cs_site_model {
    CS_MODEL_COVER = 0, /**< newly cover the most residents of the band within the
                             threshold (maximal covering), or with reach_share the fewest
                             sites lifting coverage to it (set covering) */
    CS_MODEL_MEDIAN,    /**< p-median: the shortest total walk of the band's residents to
                             their nearest facility, existing ones included, each walk
                             counted up to the threshold */
    CS_MODEL_CENTER,    /**< p-center: the shortest longest walk of any resident of the
                             band, among those a facility or a candidate reaches within
                             the threshold */
    CS_MODEL_BACKUP     /**< backup coverage: the most residents of the band newly within
                             the threshold of two facilities, existing ones included */
} cs_site_model;
/** A model's name as careshed site --model takes it ("cover", "p-median", "p-center",
 *  "backup"); NULL for
 *  none. */
CS_API const char *cs_site_model_name(cs_site_model model);
/** The model of a name (cs_site_model_name's); CS_ERR_ARGUMENT for none. */
CS_API cs_status cs_site_model_from_name(const char *name, cs_site_model *out);
/** Choosing new sites (careshed site --suggest). */
typedef struct cs_suggest_options {
    const char *kind;
    size_t k;           /**< maximal covering: the number of sites to choose */
    double within_min;  /**< the threshold covered; NaN = the kind's largest */
    double reach_share; /**< set covering: the fewest sites lifting the band's coverage
                             to this share; NaN = maximal covering */
    int exact;          /**< also solve exactly (GLPK) and report greedy's gap */
    double exact_time_s;/**< time limit of the exact solver; 0 = 60 s */
    const cs_site_input *candidates; /**< candidate sites; NULL = generated in the grid
                                          cells of uncovered residents: their centres (a
                                          centre outside the study area: the cell's
                                          uncovered resident nearest it), or
                                          the network's nodes there (inside the study
                                          area) for a kind measured along the network */
    size_t candidate_count;
    const char *exclude;     /**< polygons no site may lie in (water, industry); NULL */
    const char *exclude_crs; /**< their CRS when the file has none or it is GCJ-02/BD-09 */
    double within_m;    /**< the threshold covered in metres (one of the kind's, for a kind
                             with metre thresholds); used when > 0, instead of within_min */
    const char *band;   /**< the band whose residents are covered (a band's name, or
                             "total"); NULL = underserved.band (capacitated: the kind's
                             load_band) */
    cs_site_model model;
    int capacitated;    /**< covering or p-median with each facility's room (the kind's
                             load_capacity) and each resident's demand (band x load_rate):
                             demand served within the threshold, split among facilities */
    double site_capacity; /**< capacitated: the room of a candidate without its own
                               capacity (generated ones); 0 or NaN = none */
    size_t capacitated_max_pairs; /**< capacitated: refuse more pairs of demand points
                                       and facilities or candidates within the threshold
                                       than this (the assignment's time grows faster
                                       than they do); 0 = 20,000,000 */
} cs_suggest_options;
typedef struct cs_suggest_report {
    size_t candidates;     /**< candidates considered */
    size_t excluded;       /**< candidates left out inside exclusion polygons */
    size_t chosen;         /**< sites chosen by greedy */
    double greedy_covered; /**< residents of the band newly covered by them */
    double need;           /**< set covering: residents to cover to reach the share */
    int exact_run;         /**< whether the exact solver ran (size limits) */
    int exact_optimal;     /**< it proved optimality within the time limit */
    double exact_value;    /**< its covered residents (max) or site count (set covering) */
    double gap;            /**< (exact - greedy) / exact for maximal covering */
    int exact_listed;      /**< the sites returned are the exact solution's (it was found
                                and is no worse than greedy's); else greedy's */
    size_t exact_chosen;   /**< sites in the exact solution (0 when none was found) */
    double exact_covered;  /**< residents of the band they newly cover; NaN: none */
    double exact_seconds;  /**< the exact solver's time */
    /* p-median: the band's mean walk to the nearest facility (metres of the kind's main
       measure, each walk counted up to the threshold); p-center: the longest walk
       (INFINITY: beyond the threshold) */
    double walk_before;    /**< with the existing facilities alone */
    double heuristic_walk; /**< with greedy's sites improved by swaps */
    double exact_walk;     /**< with the exact solution's; NaN: none found */
    double walk_bound;     /**< no choice of sites walks less (the LP relaxation's, or
                                the exact solver's bound); NaN: not known */
    size_t swaps;          /**< swaps that improved greedy's sites */
    double left_out;       /**< p-center: residents of the band no facility or candidate
                                reaches within the threshold, left out of the longest walk */
    cs_site_model model;   /**< the model solved */
    /* capacitated: demand in the kind's capacity units (greedy_covered and
       exact_covered are then units newly served; the walks are per unit, a unit left
       unserved walking the threshold) */
    int capacitated;
    double demand;         /**< the band's demand in all */
    double served_before;  /**< served within the threshold by the existing facilities */
    double served_after;   /**< with the sites listed */
} cs_suggest_report;
/**
 * Choose sites for kind opt->kind: maximal covering by lazy greedy (at least 1 - 1/e of
 * the optimum), or set covering; with opt->exact also GLPK's optimum. The chosen sites
 * (the exact solution's when it was found and is no worse than greedy's, ranked by
 * marginal gain; else greedy's) come back as proposals evaluated as by cs_site_evaluate,
 * in the order chosen, with their marginal gains (cs_site_gain); cs_site_write writes
 * suggestions.geojson, with both solutions' values. With opt->model CS_MODEL_MEDIAN:
 * p-median, greedy improved by the best swaps (vertex substitution), with opt->exact
 * also GLPK's optimum within the time limit and the gap to its bound; the gains are
 * then the metres each site takes off the band's mean walk.
 * Errors: CS_ERR_STUDY (options that do not fit the study: an unknown kind, a threshold
 * the kind does not have, a kind measured by the cost matrix without candidates, nothing
 * to choose, reach_share with p-median), CS_ERR_ARGUMENT (NULL arguments), CS_ERR_INPUT (bad candidates),
 * CS_ERR_NOMEM.
 */
CS_API cs_status cs_site_suggest(cs_context *ctx, const cs_result *result,
                                 const cs_suggest_options *opt, cs_site **out,
                                 cs_suggest_report *report);
/** The marginal gain of suggested site p (residents of the band it added, or for
 *  p-median the metres it took off their mean walk); NaN for
 *  proposals that were not suggested. */
CS_API double cs_site_gain(const cs_site *site, size_t p);
/** A one-line answer for proposal p (or all together); static storage until the next
 *  call or cs_site_destroy. */
CS_API const char *cs_site_line(cs_site *site, size_t p);
/** Write proposals.geojson (every figure, per proposal and street; suggestions.geojson,
 *  ranked with marginal gains, for suggested sites) into out_dir, atomically.
 *  Errors: CS_ERR_OUTPUT, CS_ERR_NOMEM. */
CS_API cs_status cs_site_write(cs_context *ctx, const cs_site *site, const char *out_dir);


/* ------------------------------------------------------------------ report */

/** The annual coverage report (careshed report). */
typedef struct cs_report_options {
    const char *lang;     /**< "zh" or "en"; NULL = Chinese when the study's names are */
    int year;             /**< the year reported; 0 = the last year a facility opened or
                               closed (none: the study as given) */
    int since;            /**< the first year of the trend; 0 = four years before year */
    const char *baseline; /**< a previous run's summary.json (its areas.csv and
                               facilities.geojson beside it are read too) to compare
                               with; NULL */
    const char *command;  /**< the command line that made it, for the methods; NULL */
} cs_report_options;
/**
 * Evaluate the study in every year from opt->since to opt->year (facilities open in each,
 * see cs_study_in_year) and write the report as one HTML file at path (atomically):
 * indicators against targets, their trend, changes since the previous year or the
 * baseline, maps, charts, a per-street table and the methods. Errors: CS_ERR_ARGUMENT
 * (bad years or language), CS_ERR_INPUT (unreadable baseline), CS_ERR_OUTPUT,
 * CS_ERR_NOMEM, and those of cs_run.
 */
CS_API cs_status cs_report_write(cs_context *ctx, const cs_study *study,
                                 const cs_report_options *opt, const char *path);

/**
 * Write areas.geojson, service-circles.geojson, facilities.geojson, summary.json and
 * areas.csv into out_dir (created if missing); with a walking network also
 * service-network.geojson (the reached streets) and, when network.facility_areas is
 * set, facility-service-areas.geojson. out_dir is careshed's own folder and changes as
 * one unit: the new set is written beside it and swapped in atomically, so at any
 * instant, even if the process is killed, it holds the complete previous set or the
 * complete new one; files of an earlier run that this run does not write are gone
 * (the folder's .careshed marker lists each set's files), files of other commands
 * (careshed site) and files careshed did not write are kept (with a warning naming
 * the latter). A folder that holds files but no marker is refused unless
 * cs_context_set_overwrite is on. A second writer to the same
 * folder is refused while one writes. The same study and options give byte-identical
 * files.
 * Errors: CS_ERR_OUTPUT (the folder cannot be created or written, another careshed
 * is writing to it, it holds files careshed did not write, or the new set would
 * replace a file read as an input), CS_ERR_NOMEM, CS_ERR_INTERNAL.
 */
CS_API cs_status cs_result_write(cs_context *ctx, const cs_study *study,
                                 const cs_result *result, const char *out_dir);
/**
 * cs_result_write for the last use of a result's network: once the service areas' lines
 * are made, the network's graph, its searches and where the demand points attach are
 * freed before their polygons are drawn and the files written (a province's network
 * takes a gigabyte; the memory is handed back to the system), and
 * the files are cs_result_write's, byte for byte. The result still answers every
 * cs_result_* query and can be destroyed as ever; a result with a network cannot then
 * be written again, nor given to cs_site_evaluate, cs_site_cache_create,
 * cs_site_suggest or cs_serve_start (CS_ERR_ARGUMENT). careshed run and merge write
 * this way. Errors: those of cs_result_write.
 */
CS_API cs_status cs_result_write_releasing(cs_context *ctx, const cs_study *study,
                                           cs_result *result, const char *out_dir);
/**
 * Check that path may be written as an output file: it is not a file this context
 * has read as an input (by any name: a link, a relative path), nor a folder, device,
 * pipe or socket. CS_OK when nothing is there yet or a plain file that is no input.
 * Errors: CS_ERR_OUTPUT naming path and the input it would replace; CS_ERR_ARGUMENT;
 * CS_ERR_NOMEM when the list of inputs read is incomplete.
 */
CS_API cs_status cs_output_path_check(cs_context *ctx, const char *path);

/**
 * Check, before the work, that out_dir could take cs_result_write's (or
 * cs_site_write's) outputs: missing (it will be made), or a writable folder careshed
 * owns (empty, marked by its .careshed file, or holding only names careshed writes;
 * any folder of plain files with cs_context_set_overwrite) with no folder, link or
 * special file inside. Changes nothing. Errors: CS_ERR_OUTPUT naming the folder, the
 * first few files in the way and how many, and what to do; CS_ERR_ARGUMENT;
 * CS_ERR_NOMEM.
 */
CS_API cs_status cs_output_folder_check(cs_context *ctx, const char *out_dir);

/** The name of the i-th file cs_result_write writes for this result (in writing
 *  order), or NULL past the last. */
CS_API const char *cs_result_output_name(const cs_result *result, size_t i);

/* ------------------------------------------------------------------ shards */

/**
 * careshed shard: cut the study (loaded from cfg) into `parts` plain studies of whole
 * areas, balanced by residents (or, with `by` and parts 0, one per value of the areas
 * layer's field `by`, e.g. a county code), each with the facilities within reach of its residents
 * and, as context, the residents of other shards who compete for them; written into
 * dir as NNNN/study.yaml (and its layers), with the manifest shards.json and a Slurm
 * array script careshed.sbatch. Each shard is run with cs_run and cs_result_write (the
 * command `careshed run NNNN/study.yaml --out NNNN/out`), which for a shard writes
 * shard.bin, its own residents' results. A study loaded with cs_config_stream_inputs is
 * cut while its grid or cost matrix is read, into the same files.
 * Errors: CS_ERR_STUDY (more shards than areas, the study is a shard, a kind measured
 * by 3SFCA), CS_ERR_OUTPUT (dir cannot be written), CS_ERR_NOMEM.
 */
CS_API cs_status cs_shard_write(cs_context *ctx, const cs_config *cfg, const cs_study *study,
                                size_t parts, const char *by, const char *dir);

/** Whether the study is a shard cut by careshed shard, and which (*part of *parts). */
CS_API int cs_study_shard(const cs_study *study, long *part, long *parts);
/** Its own demand points (a shard's, without those of other shards); all of a study's. */
CS_API size_t cs_study_own_demand_count(const cs_study *study);

/**
 * careshed merge: the study dir's shards were cut from, loaded again from the
 * manifest's settings, and its run joined from the shards' results, as a single run
 * gives it (cs_result_write then writes the single run's outputs, with the shards
 * listed in summary.json). All three are new (cs_result_destroy, cs_study_destroy,
 * cs_config_destroy). A shard without results is an error naming it and its log,
 * unless partial: then a warning, its residents count as out of reach and summary.json
 * says the result is partial. Errors: CS_ERR_INPUT (no manifest, results damaged or of
 * another cut, the study changed since the cut, a shard missing), those of loading the
 * study, CS_ERR_NOMEM.
 */
CS_API cs_status cs_merge_load(cs_context *ctx, const char *dir, int partial, cs_config **cfg,
                               cs_study **study, cs_result **result);

/* ------------------------------------------------------------------- serve */

/**
 * careshed serve: one study, run once and kept in memory, answering a small JSON API
 * over HTTP (libmicrohttpd, a pool of threads of its own) for the planner's
 * workbench and for scripts. It listens on 127.0.0.1 unless told another address;
 * every request must carry the server's random token (query "token=" or header
 * "X-Careshed-Token"); requests whose Host (or Origin, when sent) is not the served
 * address are refused, against DNS rebinding; bodies and proposal counts are limited;
 * clients never name a file. The calls (README, "careshed serve"):
 *   GET  /api/study      the study: kinds, thresholds, bands, targets, counts
 *   GET  /api/areas      the streets with every indicator (GeoJSON, WGS84)
 *   GET  /api/facilities the facilities (GeoJSON, WGS84)
 *   GET  /api/circles    the straight-line service areas per kind and threshold
 *   GET  /api/underserved the under-served patches
 *   POST /api/evaluate   {"proposals": [{"kind", "lon", "lat", "id"?, "capacity"?}]}:
 *                        each proposal alone and all together, as cs_site_evaluate
 *   POST /api/suggest    {"kind", "k", "model"?, "capacitated"?, "site_capacity"?}: the
 *                        k sites chosen, as cs_site_suggest (the heuristic, and exact
 *                        where small enough, within 5 s)
 * Errors are {"error": text, "hint": text} with a 4xx status.
 */
typedef struct cs_server cs_server;

typedef struct cs_serve_options {
    const char *listen;   /**< an IPv4 address; NULL: 127.0.0.1 */
    unsigned port;        /**< 0: any free port */
    const char *token;    /**< NULL: 32 random hex digits */
    size_t max_body;      /**< bytes of a request body; 0: 1 MiB */
    size_t max_proposals; /**< per evaluation; 0: 200 */
    const char *exclude;     /**< polygons no site may lie in (water, industry): a proposal
                                  there is refused, suggestions avoid them; NULL: none */
    const char *exclude_crs; /**< their CRS when the file has none or it is GCJ-02/BD-09 */
    const char *tiles;       /**< an XYZ basemap's URL template, http(s) with {z} {x} {y}
                                  (and {s}: a, b, c); the page fetches its tiles; NULL: none,
                                  the walking network or the areas' outlines instead */
    const char *tiles_crs;   /**< what its tiles are drawn in: "WGS84" or "GCJ-02" (AMap,
                                  Tencent: the page shifts the layers to match); NULL:
                                  GCJ-02 for those maps' hosts, else WGS84 */
} cs_serve_options;

/**
 * Serve the run result of study (both borrowed, read-only, until cs_serve_stop). The
 * layers it serves are built first. *out is new. Errors: CS_ERR_ARGUMENT (a listen
 * address that is not IPv4), those of reading the exclusion zones (CS_ERR_INPUT...), CS_ERR_OUTPUT naming the address when it cannot listen
 * there (a port in use), CS_ERR_NOMEM.
 */
CS_API cs_status cs_serve_start(cs_context *ctx, const cs_study *study,
                                const cs_result *result, const cs_serve_options *opt,
                                cs_server **out);
/** The checks of cs_serve_start that need no study (the listen address, the tile
 *  address and CRS), to make before a long run. Errors: CS_ERR_ARGUMENT. */
CS_API cs_status cs_serve_check(cs_context *ctx, const cs_serve_options *opt);
/** The port it listens on, its token, and the page's address with the token. */
CS_API unsigned cs_serve_port(const cs_server *server);
CS_API const char *cs_serve_token(const cs_server *server);
CS_API const char *cs_serve_url(const cs_server *server);
/** Stop listening, finish the requests under way, free everything. NULL is ignored. */
CS_API void cs_serve_stop(cs_server *server);

#ifdef __cplusplus
}
#endif

#endif /* CARESHED_H */
