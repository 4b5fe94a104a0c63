/*
 * fgb.h — a FlatGeobuf file of points, written directly: the format of the layers too
 * large for GDAL's GeoPackage writer (the demand layer holds every demand point, two
 * million in a city; GDAL needs some 25 µs a point for a GeoPackage of 30 columns,
 * this about 1 µs).
 *
 * The file follows the FlatGeobuf 3.0 specification (flatgeobuf.org): magic bytes, a
 * header (a FlatBuffers table: name, envelope, point type, columns, feature count,
 * EPSG:4326), a packed Hilbert R-tree of node size 16, then the features in the
 * tree's order, each a FlatBuffers table with its point and its properties. GDAL and
 * QGIS read it, with the index, as their own.
 *
 * Use: cs_fgb_begin with the points, then cs_fgb_features for the points of
 * cs_fgb_order (the Hilbert order) a block at a time, then cs_fgb_end. The bytes go to
 * a sink: each block of features as it is done, at its place after the header and the
 * index, then the header and the index at the start, in pieces of some 4 MB; only a
 * block, the index's levels above its leaves (a fifteenth of it) and a piece are ever
 * held in memory.
 */
#ifndef CS_FGB_H
#define CS_FGB_H

#include "core/core.h"

#include <stdint.h>

/* A column's type, by FlatGeobuf's own codes. */
typedef enum cs_fgb_type {
    CS_FGB_BOOL = 2,
    CS_FGB_INT = 5,
    CS_FGB_LONG = 7,
    CS_FGB_DOUBLE = 10,
    CS_FGB_STRING = 11
} cs_fgb_type;

typedef struct cs_fgb_column {
    char *name; /* owned by the caller; letters, digits, '_' */
    cs_fgb_type type;
} cs_fgb_column;

typedef struct cs_fgb cs_fgb;

/* Where the file's bytes go: len bytes at offset; false when they could not be written
 * (the writer then stops, and cs_fgb_end says CS_ERR_OUTPUT). */
typedef bool (*cs_fgb_sink)(void *user, const void *data, size_t len, uint64_t offset);

/* A sink into a cs_buf (user), for a file built in memory. */
bool cs_fgb_to_buf(void *user, const void *data, size_t len, uint64_t offset);

/*
 * Start a layer called name of the n points (lon[i], lat[i]) (EPSG:4326), with ncol
 * columns, into sink, encoded on `threads` threads (0 = all cores; the bytes are the
 * same). The arrays must live until cs_fgb_end. NULL without memory.
 */
cs_fgb *cs_fgb_begin(cs_fgb_sink sink, void *user, const char *name, const cs_fgb_column *cols,
                     size_t ncol, const double *lon, const double *lat, size_t n, int threads);
/* The threads the next blocks are encoded on (0 = all cores). */
void cs_fgb_set_threads(cs_fgb *w, int threads);
/* The points in the order their features must be written (n of them). */
const size_t *cs_fgb_order(const cs_fgb *w);
/* A property's value: number for BOOL (0 = false), LONG and DOUBLE columns, text for
 * STRING, one of cs_fgb_strings's; NaN or NULL is null. */
typedef union cs_fgb_value {
    double number;
    const char *text;
} cs_fgb_value;
/* The n texts (NULL stays NULL) copied into one block as STRING values: each preceded
 * by its length (4 bytes, little-endian, as the file has it, so that it is copied
 * without being measured) and followed by a NUL (so that it is a C string too). Free
 * the array and *block with cs_free; NULL (and *block NULL) without memory. */
const char **cs_fgb_strings(char *const *texts, size_t n, char **block);
/* The features of the points rows[0..n), the next n of cs_fgb_order: property c of
 * row q is values[c * stride + q]. */
void cs_fgb_features(cs_fgb *w, const size_t *rows, size_t n, const cs_fgb_value *values,
                     size_t stride);
/* Finish the file (the header and the index) and free the writer. CS_ERR_NOMEM when
 * memory ran out on the way, CS_ERR_OUTPUT when the sink failed, CS_ERR_INTERNAL when
 * the features written were not the n points in cs_fgb_order; the file is not valid
 * then. */
cs_status cs_fgb_end(cs_fgb *w);

#endif /* CS_FGB_H */
