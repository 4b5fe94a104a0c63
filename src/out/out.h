/*
 * out.h — private pieces of the output stage: a table of indicators per area (shared
 * by areas.geojson, the GeoPackage's areas and areas.csv so all carry exactly the same
 * columns), column names that follow one rule (names.c), and the layer writer
 * (layerw.c) through which every layer goes to RFC 7946 GeoJSON (WGS84 lon/lat,
 * right-hand rings, 7 decimals) and/or careshed.gpkg.
 */
#ifndef CS_OUT_H
#define CS_OUT_H

#include "cover/result.h"
#include "geom/rings.h"
#include "io/crs.h"
#include "io/gpkg.h"
#include "out/fgb.h"
#include "out/json.h"

#include <stdatomic.h>

/* Coordinates in GeoJSON: 7 decimals of a degree, about 1 cm. */
#define CS_COORD_DECIMALS 7

typedef enum cs_cell_type { CS_CELL_NULL, CS_CELL_NUMBER, CS_CELL_TEXT, CS_CELL_BOOL } cs_cell_type;

typedef struct cs_cell {
    cs_cell_type type;
    double number;
    int decimals;
    const char *text; /* borrowed from the study/result, or owned by the table */
    bool owned;
} cs_cell;

typedef struct cs_table {
    size_t columns, rows;
    char **names;  /* column names */
    cs_cell_type *types; /* each column's type (of its values; cells may be null) */
    cs_cell *cells; /* rows x columns */
    size_t name_cap, type_cap, cell_cap;
    bool failed;
} cs_table;

/* The indicator table of every area: one row per area, then one for the district
 * when with_district (id "district"). */
cs_status cs_out_area_table(const cs_result *r, bool with_district, cs_table *out);
/* The name of the share column of kind k's threshold j, measure m, band (as in
 * areas.csv): "centre_walk_15min_a60p_share". */
void cs_out_coverage_column(const cs_result *r, size_t m, size_t k, size_t j, size_t band,
                            char *out, size_t n);
/* The same column as runs before the naming rule (names.c) called it,
 * "centre_walk_15min_60+_share": a baseline's areas.csv may be of such a run. */
void cs_out_coverage_column_v1(const cs_result *r, size_t m, size_t k, size_t j, size_t band,
                               char *out, size_t n);
void cs_table_free(cs_table *t);
/* What columns of measure m carry after the kind's id: "" (straight), "walk_",
 * "matrix_". */
const char *cs_out_measure_tag(size_t m);
/* A threshold as columns and styles name it: "15min", "500m"; a decimal point becomes
 * '_' ("7_5min"). */
void cs_out_threshold_label(const cs_kind *k, size_t j, char *out, size_t n);

/* The QGIS styles of the layers written to g (names and geometries of n layers), as
 * the package's layer_styles table (styles.c). */
cs_status cs_out_styles(cs_context *ctx, const cs_result *r, cs_gpkg *g,
                        const char *const *layers, const cs_gpkg_geometry *geometries,
                        size_t n);

/* ------------------------------------------------------------ names (names.c) */

/* The longest column name (PostgreSQL's limit, kept by every output). */
#define CS_NAME_MAX 63
/* Whether name follows the rule: [A-Za-z][A-Za-z0-9_]*, at most CS_NAME_MAX. */
bool cs_out_name_ok(const char *name);
/* raw (an id, a band name) made to follow the rule; "60+" -> "a60p" (names.c says how).
 * out holds n bytes; 64 is always enough. */
void cs_out_safe_name(const char *raw, char *out, size_t n);

/* The names written, per layer, and their Shapefile-safe forms when asked for. */
typedef struct cs_names cs_names;
/* New map (cs_names_destroy), NULL without memory. shapefile: map to 10 characters. */
cs_names *cs_names_create(bool shapefile);
void cs_names_destroy(cs_names *m);
/* The name column name of layer is written under (borrowed, valid until destroy);
 * NULL without memory. */
const char *cs_names_map(cs_names *m, const char *layer, const char *name);
/* The map as CSV: layer, column, shapefile_column. */
cs_status cs_names_csv(const cs_names *m, cs_buf *out);

/* ------------------------------------------------------- layer writer (layerw.c) */

/* A layer written as GeoJSON into json (its collection named json_name), as layer
 * name of gpkg, or both (json and gpkg may be NULL). Usage: cs_lw_begin; per feature cs_lw_feature, its properties, then exactly
 * one geometry call, which stores the feature; cs_lw_end. Errors stick in st. */
/* Takes the leading part of a large GeoJSON text out of json while it is written
 * (cs_lw_drain_to); false on failure (reported into the writer's context). */
typedef bool (*cs_lw_drain)(void *user, cs_buf *json);

typedef struct cs_lw {
    cs_context *ctx;
    const char *layer_name;
    cs_buf *json;
    cs_json j;
    cs_lw_drain drain;
    void *drain_user;
    cs_gpkg_layer *gpkg;
    cs_names *names;
    cs_buf wkb;
    double *px, *py; /* a ring's cleaned points */
    size_t scratch_cap;
    cs_status st;
} cs_lw;

cs_status cs_lw_begin(cs_lw *w, cs_context *ctx, const char *name, const char *json_name,
                      cs_buf *json, cs_gpkg *gpkg, cs_gpkg_geometry geometry, cs_names *names);
/* Hand the GeoJSON text to drain whenever it holds CS_LW_DRAIN_AT bytes or more, between
 * features and between a geometry's rings or lines, so that a layer of a city's streets
 * is never held whole; what is left at cs_lw_end stays in json. A failed drain makes st
 * CS_ERR_OUTPUT. */
#define CS_LW_DRAIN_AT ((size_t)8 << 20)
void cs_lw_drain_to(cs_lw *w, cs_lw_drain drain, void *user);
void cs_lw_feature(cs_lw *w);
/* A number with at most decimals decimals; decimals 0 makes an integer column. NaN is
 * null. */
void cs_lw_number(cs_lw *w, const char *name, double v, int decimals);
void cs_lw_text(cs_lw *w, const char *name, const char *text); /* NULL is null */
void cs_lw_bool(cs_lw *w, const char *name, bool known, bool v); /* null unless known */
/* A list of texts: a JSON array; in a GeoPackage the items joined by ", ". */
void cs_lw_texts(cs_lw *w, const char *name, const char *const *items, size_t n);
/* A table cell, typed as its column. */
void cs_lw_cell(cs_lw *w, const char *name, const cs_cell *c, cs_cell_type column);
/* The geometry, in the working CRS; each ends and stores the feature. A NULL g is a
 * feature without geometry. */
void cs_lw_polygons(cs_lw *w, const cs_study *s, const cs_geom *g, cs_transform *to_wgs84);
void cs_lw_rings(cs_lw *w, const cs_rings *polygons, cs_transform *to_wgs84);
cs_status cs_lw_lines(cs_lw *w, const cs_lines *lines, cs_transform *to_wgs84);
void cs_lw_point(cs_lw *w, double lon, double lat);
void cs_lw_no_geometry(cs_lw *w);
/* Close the collection; the first error met, else CS_OK. */
cs_status cs_lw_end(cs_lw *w);

/* The tidy tables (out/tidy.c), new in *out (free with cs_table_free; cleared on
 * failure, CS_ERR_NOMEM). Coverage: one row per area and then the district x kind x
 * measure x threshold x band, with residents, covered and share (null without
 * residents). Targets: one row per area a target is set for (scope "area") and the
 * district, with value, bound, pass, gap and their units. */
cs_status cs_out_coverage_table(const cs_result *r, cs_table *out);
cs_status cs_out_targets_table(const cs_result *r, cs_table *out);

/* Write one cell as a JSON value. */
void cs_out_json_cell(cs_json *j, const cs_cell *c);
/* A capacitated choice's demand and what is served before and after, as members of the
 * object being written (in the kind's capacity units). */
void cs_out_json_served(cs_json *j, const cs_suggest_report *rep);

/* The layers: each writes its features through w (begun by the caller). */
cs_status cs_out_areas_layer(const cs_result *r, const cs_table *t, cs_transform *to_wgs84,
                             cs_lw *w);
cs_status cs_out_facilities_layer(const cs_result *r, cs_lw *w);
/* Straight circles (computed here) and the network areas net_polys (see
 * cs_cover_network_areas) of every kind and threshold. */
cs_status cs_out_circles_layer(cs_context *ctx, const cs_result *r, cs_transform *to_wgs84,
                               cs_rings *const *net_polys, cs_lw *w);
/* The reached network of every kind, a feature per threshold with the pieces first
 * reached within it (lines from cs_cover_network_areas). */
cs_status cs_out_network_layer(const cs_result *r, const cs_lines *lines,
                               cs_transform *to_wgs84, cs_lw *w);
/* Per-facility service areas (from cs_cover_facility_areas). */
cs_status cs_out_facility_areas_layer(const cs_result *r, cs_rings *const *polys,
                                      cs_transform *to_wgs84, cs_lw *w);
/* Under-served patches of every kind (out/demand.c). */
cs_status cs_out_underserved_layer(const cs_result *r, cs_transform *to_wgs84, cs_lw *w);
cs_status cs_out_areas_csv(const cs_table *t, cs_buf *out);
/* RFC 4180 quoting of one CSV field. */
void cs_out_csv_text(cs_buf *out, const char *text);
/* Whether the demand points have ids of their own (population.id). */
static inline bool cs_out_has_demand_ids(const cs_study *s)
{
    return s->dem.id && s->dem.id_count >= s->dem.count;
}
/* Whether any kind has accessibility figures, and every demand point's. */
bool cs_out_has_access(const cs_result *r);
/* The demand files take every demand point's position in WGS84 (lon, lat: the study's
 * demand order), transformed once for all of them. */
cs_status cs_out_demand_csv(const cs_result *r, const double *lon, const double *lat,
                            cs_buf *out);
/* The demand layer's column of whether kind k's threshold j covers a point by measure
 * m: "centre_walk_within_15min". */
void cs_out_demand_within_column(const cs_result *r, size_t m, size_t k, size_t j, char *out,
                                 size_t n);
/* demand.qml, the demand layer's QGIS style (QGIS loads it with demand.fgb): points by
 * whether the headline threshold covers them. */
cs_status cs_out_demand_qml(const cs_result *r, cs_buf *out);
/* The demand layer: every demand point with its results (demand_layer.c says which),
 * as FlatGeobuf (demand.fgb, streamed to a sink, fgb.h) or as CSV with lon, lat
 * (demand.csv). The FlatGeobuf's threads are read before each block of points from
 * *threads_now (0 = all cores), which may change while it is written. */
cs_status cs_out_demand_fgb(const cs_result *r, const double *lon, const double *lat,
                            const atomic_int *threads_now, cs_fgb_sink sink, void *user);
cs_status cs_out_demand_layer_csv(const cs_result *r, const double *lon, const double *lat,
                                  int threads, cs_buf *out);
cs_status cs_out_summary_json(cs_context *ctx, const cs_result *r, const cs_table *t,
                              cs_buf *out);

#endif
