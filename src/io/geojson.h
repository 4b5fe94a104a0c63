/*
 * geojson.h — a GeoJSON layer of lines read in one pass of careshed's own instead of a
 * GDAL feature per line. GDAL's GeoJSON driver parses the file twice, once on opening
 * (for the fields and their types) and once more feature by feature, building JSON
 * objects for each: a city's walking network of 36 MB took 0.65 s to open and 0.7 s
 * more to read. For cs_layer (io/layer.c): GDAL still opens the file (fields, types,
 * CRS, every check on opening); this reader then gives the features.
 *
 * It takes the plain case only, and gives exactly what GDAL's features give: features
 * of type, properties and geometry (bbox ignored), property values that are text,
 * numbers, booleans or null matching their field's type, geometries that are
 * LineString or MultiLineString of 2 or 3 numbers a position, or null. A feature with
 * anything else (an "id" member, a nested value, a polygon, a point, an escape that
 * decodes to NUL or to bytes that are not UTF-8...) is declined: the layer reads it
 * and the rest through GDAL.
 */
#ifndef CS_GEOJSON_H
#define CS_GEOJSON_H

#include "io/layer.h"

#include <ogr_api.h>

typedef struct cs_geojson_rows cs_geojson_rows;

/* Whether a layer GDAL opened with driver can be read so: GeoJSON, one geometry
 * field, fields of text, integers (booleans among them) and reals only. */
bool cs_geojson_suits(const char *driver, OGRFeatureDefnH defn);

/* Start reading the file at path (fields: defn's); *out NULL (and CS_OK) when the file
 * is not an object whose "type", FeatureCollection, comes before its "features" (GDAL
 * reads it). CS_ERR_NOMEM. */
cs_status cs_geojson_open(cs_context *ctx, const char *path, OGRFeatureDefnH defn,
                          cs_geojson_rows **out);
void cs_geojson_close(cs_geojson_rows *rows);

typedef enum cs_geojson_step {
    CS_GEOJSON_FEATURE, /* the next feature is read */
    CS_GEOJSON_END,     /* no more */
    CS_GEOJSON_DECLINED /* the next feature is not one this reader takes: read it, and
                         * those after it, through GDAL */
} cs_geojson_step;
cs_geojson_step cs_geojson_next(cs_geojson_rows *rows);

/* Whether the feature has a value for field (not null). */
bool cs_geojson_has(const cs_geojson_rows *rows, int field);
/* The feature's number in a field of numbers with a value. */
double cs_geojson_number(const cs_geojson_rows *rows, int field);
/* The value of field as GDAL gives it as text (integers as "%lld", reals "%.15g",
 * booleans "1" and "0"); "" when it has none; valid until the next feature. */
const char *cs_geojson_text(const cs_geojson_rows *rows, int field);

/* CS_GEOM_LINE or CS_GEOM_NONE (no geometry, or no position). */
cs_geom_kind cs_geojson_kind(const cs_geojson_rows *rows);
/* The feature's lines: line i's positions are x, y [start[i], start[i + 1]). */
size_t cs_geojson_lines(const cs_geojson_rows *rows, const double **x, const double **y,
                        const size_t **start);

#endif
