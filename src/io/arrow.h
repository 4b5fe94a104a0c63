/*
 * arrow.h — a point layer's rows through GDAL's columnar Arrow stream (GDAL 3.6,
 * OGR_L_GetArrowStream) instead of a GDAL feature per row: batches of columns, read in
 * place. For cs_layer (io/layer.c), which takes it for GeoPackage and FlatGeobuf
 * layers of points whose fields are numbers and text.
 */
#ifndef CS_ARROW_H
#define CS_ARROW_H

#include "io/layer.h"

#include <ogr_api.h>

typedef struct cs_arrow_rows cs_arrow_rows;

/* Whether layer (defn: its definition) can be read so: one geometry field, of points,
 * and fields of integers, reals or text only. */
bool cs_arrow_suits(OGRLayerH layer, OGRFeatureDefnH defn);

/* Start reading layer's rows (after OGR_L_SetIgnoredFields, which the stream
 * honours); display names the file in messages. Fields are those of defn, by index.
 * CS_OK with *out NULL when the stream's columns are not what cs_arrow_suits expected
 * (nothing is reported: read the layer by features instead). */
cs_status cs_arrow_open(cs_context *ctx, OGRLayerH layer, OGRFeatureDefnH defn,
                        const char *display, cs_arrow_rows **out);
/* The next row; false at the end or on an error (cs_arrow_status, reported). */
bool cs_arrow_next(cs_arrow_rows *rows);
cs_status cs_arrow_status(const cs_arrow_rows *rows);
void cs_arrow_close(cs_arrow_rows *rows);

/* Whether the row has a value for field (not null, not ignored). */
bool cs_arrow_has(const cs_arrow_rows *rows, int field);
/* Whether field holds numbers (else text). */
bool cs_arrow_is_number(const cs_arrow_rows *rows, int field);
/* The row's number in field (a number field with a value). */
double cs_arrow_number(const cs_arrow_rows *rows, int field);
/* The row's value of field as text, as GDAL gives it (numbers as "%lld" or "%.15g");
 * NUL-terminated, valid until the next row; "" when it has none. */
const char *cs_arrow_text(cs_arrow_rows *rows, int field);

/* The row's geometry's kind, and *type its flat WKB type (OGRwkbGeometryType); a point,
 * or a multipoint of one, gives *x, *y and *type wkbPoint. CS_GEOM_NONE: none, or
 * empty. */
cs_geom_kind cs_arrow_geometry(const cs_arrow_rows *rows, double *x, double *y,
                               unsigned *type);

#endif
