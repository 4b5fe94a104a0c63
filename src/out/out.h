/*
 * out.h — private pieces of the output stage: a table of indicators per area (shared
 * by areas.geojson and areas.csv so both carry exactly the same columns), and
 * geometry writing in RFC 7946 GeoJSON (WGS84 lon/lat, right-hand rings, 7 decimals).
 */
#ifndef CS_OUT_H
#define CS_OUT_H

#include "cover/result.h"
#include "io/crs.h"
#include "out/json.h"

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
    cs_cell *cells; /* rows x columns */
    size_t name_cap, cell_cap;
    bool failed;
} cs_table;

/* The indicator table of every area: one row per area, then one for the district
 * when with_district (id "district"). */
cs_status cs_out_area_table(const cs_result *r, bool with_district, cs_table *out);
/* The name of the share column of kind k's threshold j, measure m, band (as in
 * areas.csv): "centre_walk_15min_60+_share". */
void cs_out_coverage_column(const cs_result *r, size_t m, size_t k, size_t j, size_t band,
                            char *out, size_t n);
void cs_table_free(cs_table *t);
/* The tidy tables (out/tidy.c), new in *out (free with cs_table_free; cleared on
 * failure, CS_ERR_NOMEM). Coverage: one row per area and then the district x kind x
 * measure x threshold x band, with residents, covered and share (null without
 * residents). Targets: one row per area a target is set for (scope "area") and the
 * district, with value, bound, pass, gap and their units. */
cs_status cs_out_coverage_table(const cs_result *r, cs_table *out);
cs_status cs_out_targets_table(const cs_result *r, cs_table *out);

/* Write one cell as a JSON value. */
void cs_out_json_cell(cs_json *j, const cs_cell *c);

/* Write a polygonal geometry (working CRS) as a GeoJSON geometry object in WGS84,
 * through to_wgs84 (working CRS -> EPSG:4326). */
cs_status cs_out_json_polygons(cs_json *j, const cs_study *s, const cs_geom *g,
                               cs_transform *to_wgs84);

/* The files: each returns a new buffer in *out. */
cs_status cs_out_areas_geojson(const cs_result *r, const cs_table *t, cs_transform *to_wgs84,
                               cs_buf *out);
/* Any cs_table as CSV (areas.csv, coverage.csv, targets.csv). */
cs_status cs_out_areas_csv(const cs_table *t, cs_buf *out);
cs_status cs_out_facilities_geojson(const cs_result *r, cs_buf *out);
/* Straight circles (computed here) and the network areas net_polys (see
 * cs_cover_network_areas) of every kind and threshold. */
cs_status cs_out_circles_geojson(cs_context *ctx, const cs_result *r, cs_transform *to_wgs84,
                                 cs_geom *const *net_polys, cs_buf *out);
/* The reached network of every kind and threshold (lines from cs_cover_network_areas). */
cs_status cs_out_network_geojson(const cs_result *r, const cs_lines *lines,
                                 cs_transform *to_wgs84, cs_buf *out);
/* Per-facility service areas (from cs_cover_facility_areas). */
cs_status cs_out_facility_areas_geojson(const cs_result *r, cs_geom *const *polys,
                                        cs_transform *to_wgs84, cs_buf *out);
/* RFC 4180 quoting of one CSV field. */
void cs_out_csv_text(cs_buf *out, const char *text);
/* Under-served patches of every kind (out/demand.c). */
cs_status cs_out_underserved_geojson(const cs_result *r, cs_transform *to_wgs84, cs_buf *out);
/* Whether any kind has accessibility figures, and every demand point's. */
bool cs_out_has_access(const cs_result *r);
cs_status cs_out_demand_csv(const cs_result *r, cs_transform *to_wgs84, cs_buf *out);
cs_status cs_out_summary_json(cs_context *ctx, const cs_result *r, const cs_table *t,
                              cs_buf *out);

#endif
