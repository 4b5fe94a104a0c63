/*
 * layer.h — reading one input layer through GDAL/OGR: opening any vector format
 * (GeoJSON, Shapefile, GeoPackage, CSV with lon/lat columns, KML, FlatGeobuf...),
 * finding fields, and pulling features' points, polygons and values out as plain
 * numbers and UTF-8 text (converted from GBK, Big5 or a declared encoding), with
 * errors that name the file, feature and field.
 */
#ifndef CS_LAYER_H
#define CS_LAYER_H

#include "geom/rings.h"
#include "io/config.h"
#include "io/csv.h"

typedef struct cs_layer cs_layer;

/*
 * Open the layer that lc describes; role ("areas", "facilities", "population") is the
 * study key used in messages. path is the resolved path. OpenStreetMap files (.osm,
 * .osm.pbf, read by GDAL's OSM driver) open their "lines" layer (the ways) unless lc
 * names another; they are not counted up front (that would parse the file twice), so an
 * empty one is left to the caller. Errors (CS_ERR_INPUT): missing file, format GDAL
 * cannot read, missing layer, empty layer; the message names the file and says what to
 * do.
 */
cs_status cs_layer_open(cs_context *ctx, const cs_layer_config *lc, const char *role,
                        const char *path, bool want_points, cs_layer **out);
void cs_layer_close(cs_layer *layer);
/* GDAL's open options for the file at path, as cs_layer_open opens it (a CSL list, NULL
 * when none; CSLDestroy). A Shapefile is read as raw bytes unless a .cpg names its
 * encoding and role.encoding does not: its text is then converted by the reader like
 * any other format's. */
char **cs_layer_open_options(const cs_layer_config *lc, const char *path);

/* What path is when it is not something a layer can be read from (a FIFO, a device,
 * a socket, or a folder other than a FileGDB .gdb), e.g. "a named pipe (FIFO)"; NULL
 * when it is a regular file, a .gdb folder, or does not exist (GDAL's virtual paths
 * such as /vsizip/ are not files). Static text. A FIFO would make GDAL wait for a
 * writer forever and a device would be read without end, so this is asked first. */
const char *cs_layer_not_a_file(const char *path);

/* The file name used in messages (the path as the user gave it). Borrowed. */
const char *cs_layer_name(const cs_layer *layer);
/* Whether the file is OpenStreetMap, read through GDAL's OSM driver. */
bool cs_layer_is_osm(const cs_layer *layer);
/* Whether rows are named by line (CSV: the header is line 1). */
bool cs_layer_is_csv(const cs_layer *layer);
/* Whether it is a CSV that io/csv.c's reader takes (cs_csv_check: commas, no quote,
 * ASCII), found when it was opened. */
bool cs_layer_is_plain_csv(const cs_layer *layer);
/* The layer's CRS as WKT, or NULL when it has none. Borrowed. */
const char *cs_layer_srs(const cs_layer *layer);
/* The fields coordinates are read from (tables of points such as CSV): *x, *y receive
 * their names (borrowed, valid while the layer is open); false, with NULLs, when the
 * layer has geometries instead. */
bool cs_layer_xy_fields(const cs_layer *layer, const char **x, const char **y);
/* A caller that checks the whole layer's coordinates once read (study.c) takes over
 * values no degree can have (beyond ±360) in a layer labelled longitude/latitude: they
 * are then read as they are instead of failing feature by feature, so that a layer in
 * metres gets one message naming its likely CRS. */
void cs_layer_defer_metres(cs_layer *layer);
/* The files that make up the dataset (.shp, .dbf, .prj ...), sorted; new array of
 * new strings (free each and the array with cs_free); *count receives the number. */
char **cs_layer_files(cs_layer *layer, size_t *count);
/* Which reader reads the rows: "lines" (a plain CSV read past GDAL), "arrow" (GDAL's
 * Arrow stream, once the first row is read) or "features" (GDAL's). Static text. */
const char *cs_layer_reader(const cs_layer *layer);
/* Number of fields. */
int cs_layer_field_count(const cs_layer *layer);
/* About how many rows the layer holds, for sizing what is read from it: a CSV's lines
 * after the header (empty ones included), or the count a GeoPackage or FlatGeobuf
 * header gives when the file is large enough to hold that many (8 bytes a row at
 * least); 0 when unknown. A hint only: the rows read are what count. */
size_t cs_layer_rows_hint(const cs_layer *layer);

/*
 * Find a field: the configured name (key is the study key, e.g. "population.total"),
 * or when configured is NULL the first of candidates present (NULL-terminated; may be
 * NULL). Returns its index, or -1. When required and missing, records an error that
 * lists the fields the layer has.
 */
int cs_layer_find_field(cs_context *ctx, cs_layer *layer, const char *configured,
                        const char *const *candidates, const char *key, bool required);
/* The field's name, as UTF-8 like cs_layer_text. Borrowed, valid while the layer is
 * open. */
const char *cs_layer_field_name(const cs_layer *layer, int index);

/* Read only these fields (and the coordinates) from now on: skipping the others makes
 * large tables faster to read. Indices < 0 are ignored. */
void cs_layer_keep_fields(cs_layer *layer, const int *fields, size_t n);

/* Iterate: returns false at the end. *number is the 1-based feature number. */
bool cs_layer_next(cs_layer *layer, long *number);
/* Whether the layer can be read by window through its file's spatial index, its
 * features keeping their FIDs (a GeoPackage or FlatGeobuf with an index, read feature
 * by feature). cs_layer_window, before the first cs_layer_next, reads only the features
 * meeting box (the layer's CRS), in the index's order; false (nothing changes) when the
 * layer cannot. cs_layer_fid: the current feature's FID (-1 when it has none). */
bool cs_layer_indexed(const cs_layer *layer);
bool cs_layer_window(cs_layer *layer, const double box[4]);
int64_t cs_layer_fid(const cs_layer *layer);
/* CS_OK, or the error that ended cs_layer_next early, reported already: a read error,
 * a GeoPackage or FlatGeobuf holding fewer features than its header counts (a file cut
 * short), CS_ERR_NOMEM. */
cs_status cs_layer_read_status(const cs_layer *layer);
/*
 * A plain CSV table (read by "lines") read in parts, on several threads. Before its
 * first row, cs_layer_cut cuts the rows into at most `most` parts of about equal bytes
 * (into parts[0 .. most)) and returns how many; 0 when the layer is not such a table, is
 * smaller than cs_layer_cut_min_bytes, or cannot be cut (then read it whole). The
 * caller counts each part's lines (cs_csv_count_part, on any thread) and numbers them
 * (cs_csv_number_parts from cs_layer_cut's *first_line); cs_layer_part then opens a part
 * as a layer of its own, reporting into ctx, whose rows, feature numbers and lines are
 * those of the whole file. A part is closed with cs_layer_close, before the layer.
 */
size_t cs_layer_cut(cs_layer *layer, size_t most, cs_csv_part *parts, long *first_line);
cs_status cs_layer_part(cs_context *ctx, const cs_layer *layer, const cs_csv_part *part,
                        cs_layer **out);
/* Set the size of the smallest table cs_layer_cut cuts (tests lower it); returns the
 * size it was. */
long long cs_layer_cut_min_bytes(long long bytes);
/* The file a layer reads (a KML's UTF-8 copy, when it has one). */
const char *cs_layer_path(const cs_layer *layer);

/* Add the lines of a plain table's rows that do not sit on the line after their feature
 * number's (empty lines before them: cs_line_gaps) to `to`; false without memory. A
 * table GDAL reads skips empty lines without telling: its rows are taken to follow
 * the header. */
bool cs_layer_add_line_gaps(const cs_layer *layer, cs_line_gaps *to);

/* For tests: read every layer through GDAL's features (not past GDAL for plain CSV,
 * nor through its Arrow stream for GeoPackage and FlatGeobuf points), to compare. */
void cs_layer_read_through_features(bool on);

/* The current feature's text value of field index (empty string when unset), always
 * UTF-8: converted from the layer's encoding (role.encoding, or the one chosen when
 * the layer's text is not UTF-8, with a warning; see layer.c). Text that does not
 * convert is recorded as an error in the layer's context (naming the feature and
 * field) and comes back with '?' for its bytes that are not ASCII. The pointer is
 * valid until the next call to cs_layer_next. */
const char *cs_layer_text(cs_layer *layer, int index);
/* Whether some text of the layer did not convert (each such error is recorded). */
bool cs_layer_text_failed(const cs_layer *layer);
/* The encoding the layer's scan found for its text, "UTF-8" included, when the text has
 * no defined encoding (a CSV, a Shapefile read raw): cs_layer_config.encoding_found, to
 * read it again as it was read without scanning again. NULL when no scan was made before
 * any text was read (or role.encoding declared it). Borrowed. */
const char *cs_layer_encoding_found(const cs_layer *layer);
/* How many layers' text has been scanned for its encoding, in the process (tests). */
size_t cs_layer_scans(void);

/*
 * The current feature's value of field index as a number. Empty/unset gives
 * missing_value. Text that is not a number, NaN and (when !allow_negative) negative
 * values are errors naming the feature, its id and the field. Returns CS_OK or
 * CS_ERR_INPUT.
 */
cs_status cs_layer_number(cs_context *ctx, cs_layer *layer, int index, const char *id,
                          double missing_value, bool allow_negative, double *out);

/* Where the current feature is, for messages (borrowed strings). */
cs_where cs_layer_where(const cs_layer *layer, const char *id, const char *field);

/* The current feature's point (a Point, or a MultiPoint of one point, or x/y fields).
 * Errors name the feature. */
cs_status cs_layer_point(cs_context *ctx, cs_layer *layer, const char *id, double *x,
                         double *y);

/* Append the current feature's polygons to out, one entry per polygon (its shell
 * first, then its holes), in the source CRS. Errors name the feature (not polygonal,
 * empty). */
cs_status cs_layer_polygons(cs_context *ctx, cs_layer *layer, const char *id, cs_rings *out);

/* What the current feature's geometry is, with 2.5D, measured and curved types
 * counted as their plain kind (a CircularString is a line, a CurvePolygon a polygon). */
typedef enum cs_geom_kind {
    CS_GEOM_NONE,    /* no geometry, or an empty one */
    CS_GEOM_POINT,   /* Point, MultiPoint */
    CS_GEOM_LINE,    /* LineString, MultiLineString, curves */
    CS_GEOM_POLYGON, /* Polygon, MultiPolygon, surfaces */
    CS_GEOM_OTHER    /* GeometryCollection and the rest */
} cs_geom_kind;
cs_geom_kind cs_layer_geom_kind(const cs_layer *layer);

/* Append the current feature's lines (a LineString, each part of a MultiLineString,
 * curves made linear; parts of fewer than 2 points are skipped) to out, whose arrays
 * grow with line_cap/vertex_cap; *added receives the number appended (0 for features
 * that hold no line). Errors: CS_ERR_NOMEM. */
cs_status cs_layer_lines(cs_context *ctx, cs_layer *layer, cs_lines *out, size_t *line_cap,
                         size_t *vertex_cap, size_t *added);

#endif
