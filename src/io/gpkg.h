/*
 * gpkg.h — writing a GeoPackage: GDAL's door on the output side, as layer.c is on the
 * input side. The package is built in GDAL's memory file system, every layer in one
 * transaction, and handed back as bytes, so that it joins the other output files in
 * their atomic set (out/files.h) and a failed run leaves nothing behind.
 *
 * The rest of the code sees plain types: fields by name and type, geometries as
 * ISO WKB, coordinates in EPSG:4326 (lon, lat), as in the GeoJSON outputs.
 */
#ifndef CS_GPKG_H
#define CS_GPKG_H

#include "core/core.h"

/* The date the package's tables are stamped with (gpkg_contents.last_change): fixed,
 * so that the same run writes the same bytes. */
#define CS_GPKG_DATE "2000-01-01T00:00:00.000Z"

typedef struct cs_gpkg cs_gpkg;
typedef struct cs_gpkg_layer cs_gpkg_layer;

/* What a layer's geometries are; NONE makes an attribute table (layer_styles). */
typedef enum cs_gpkg_geometry {
    CS_GPKG_NONE,
    CS_GPKG_POINT,
    CS_GPKG_MULTILINE,
    CS_GPKG_MULTIPOLYGON
} cs_gpkg_geometry;

/* A field's type: REAL (double), INTEGER (64-bit), TEXT (UTF-8), BOOL (an integer
 * of GDAL's boolean subtype, which QGIS shows as a check box), DATETIME (text in
 * ISO 8601, "2026-12-02T16:00:00Z"). */
typedef enum cs_field_type {
    CS_FIELD_REAL,
    CS_FIELD_INTEGER,
    CS_FIELD_TEXT,
    CS_FIELD_BOOL,
    CS_FIELD_DATETIME
} cs_field_type;

/*
 * Start a package at path, a new file SQLite writes in place (GDAL refuses to write
 * over a file). *out is new (cs_gpkg_close or cs_gpkg_destroy), NULL on failure. Errors:
 * CS_ERR_ARGUMENT, CS_ERR_OUTPUT with GDAL's reason (no GPKG driver, SQLite failing,
 * the folder not writable), CS_ERR_NOMEM.
 *
 * What follows is stored by a thread of the package's own, in the order asked, while
 * the caller goes on (gpkg.c); with ctx->threads 1, at once. A failure there is
 * returned by the next cs_gpkg_feature_end (or cs_gpkg_layer_create) as its status,
 * and its message joins ctx when the package is closed or destroyed.
 */
cs_status cs_gpkg_create(cs_context *ctx, const char *path, cs_gpkg **out);

/*
 * A new layer named name (letters, digits, '_' and '-'). *out is borrowed: valid until
 * the package is closed or destroyed. Errors: CS_ERR_OUTPUT with GDAL's reason,
 * CS_ERR_NOMEM.
 */
cs_status cs_gpkg_layer_create(cs_context *ctx, cs_gpkg *g, const char *name,
                               cs_gpkg_geometry geometry, cs_gpkg_layer **out);

/*
 * The index of field name in layer l, added with type when missing (a layer may gain
 * fields after it has features: they are null in those). Fields are numbered in the
 * order first asked for. -1 without memory; the layer then records the error for
 * cs_gpkg_feature_end.
 */
int cs_gpkg_field(cs_gpkg_layer *l, const char *name, cs_field_type type);

/* A new feature of l, all fields null and no geometry, filled by the setters below and
 * stored by cs_gpkg_feature_end. */
void cs_gpkg_feature_begin(cs_gpkg_layer *l);
void cs_gpkg_set_number(cs_gpkg_layer *l, int field, double v); /* NaN stays null */
void cs_gpkg_set_text(cs_gpkg_layer *l, int field, const char *text); /* NULL stays null */
/* The geometry as ISO WKB, len bytes read by cs_gpkg_feature_end (keep them until then). */
void cs_gpkg_set_wkb(cs_gpkg_layer *l, const unsigned char *wkb, size_t len);
/* Store the feature. Errors: CS_ERR_OUTPUT with GDAL's reason, CS_ERR_NOMEM. */
cs_status cs_gpkg_feature_end(cs_context *ctx, cs_gpkg_layer *l);

/*
 * Commit the transaction and close the package: its file is complete (not flushed to
 * disk: the caller's output set does that). The package is destroyed either way, and
 * on failure its file removed. Errors: CS_ERR_ARGUMENT, CS_ERR_OUTPUT with GDAL's
 * reason.
 */
cs_status cs_gpkg_close(cs_context *ctx, cs_gpkg *g);

/* Drop an unfinished package, removing its file. NULL is ignored. */
void cs_gpkg_destroy(cs_gpkg *g);

#endif /* CS_GPKG_H */
