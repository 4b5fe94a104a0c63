/*
 * layer.c — one input layer through GDAL/OGR. Format differences end here: CSV
 * tables get their lon/lat columns as points, and every value leaves as plain numbers
 * or UTF-8 text. Text is converted here, whatever the format: from role.encoding when
 * it is set, else, when a value is not UTF-8, from the encoding the whole layer's text
 * reads cleanly in (GB18030/GBK or Big5, see io/textenc.h), with a warning. GDAL
 * recodes only Shapefiles (and only from a .cpg file, replacing what it cannot with
 * '?'), so a Shapefile without .cpg, or with role.encoding set, is read as raw bytes
 * and converted here too. A value that does not convert is an error naming the
 * feature and field; no text leaves this file that is not UTF-8.
 */
#include "io/layer.h"
#include "io/arrow.h"
#include "geom/geom.h"
#include "io/crs.h"
#include "io/csv.h"
#include "io/geojson.h"
#include "io/kml.h"
#include "io/textenc.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct cs_layer {
    cs_context *ctx; /* GDAL's messages go into it while the layer is open */
    char *name;   /* as the user gave it */
    char *role;
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    OGRFeatureH feature; /* current */
    long number;
    char *srs_wkt;
    int x_field, y_field; /* >= 0 for tables of points */
    bool csv;             /* feature n sits on line n + 1 */
    bool csv_plain;       /* commas, no quote, ASCII (cs_csv_check) */
    bool lonlat;          /* its CRS (lc->crs or the file's) is geographic: degrees */
    bool defer_metres;    /* values beyond ±360 are checked by the caller, layer-wide */
    char *x_name, *y_name;
    char open_failure[256]; /* GDAL's last failure while opening, even one it went past */
    /* text encoding (see the top of this file) */
    char *path;          /* as opened, for the scan that chooses an encoding */
    char *utf8_copy;     /* a KML's UTF-8 copy in GDAL's memory, opened instead (kml.h) */
    char **open_opts;    /* as opened (CSL) */
    cs_textenc *enc;     /* text that is not UTF-8 is converted from it; NULL: none yet */
    bool enc_declared;   /* role.encoding named it: every value is converted */
    bool enc_scanned;    /* the layer's text was scanned for its encoding (once) */
    bool no_encoding;    /* its text comes as the file stores it, in no defined encoding (a
                            CSV, a Shapefile read raw): text that only looks like UTF-8
                            (cs_utf8_two_byte_only) is in doubt, and starts the scan */
    bool doubt_in_enc;   /* such text is read in enc (when enc reads it plainly): enc was
                            chosen before any text of the layer was read */
    bool scan_failed;    /* no encoding reads the layer's text: reported once */
    size_t text_errors;  /* values that did not convert, reported one by one */
    int field_count;
    char **texts;        /* the current feature's converted values, by field */
    char **names;        /* field names, converted (NULL when none needed it) */
    cs_buf conv;
    /* A plain CSV table of points (csv_plain) is read
     * by csv.c's line reader, not GDAL's feature per row, which costs some five times
     * as much; GDAL still opens it, for its fields and CRS. */
    cs_csv_lines *plain;
    char **cells; /* the current line's values by field; NULL: past the line's end */
    long line;    /* the current line's number (the header is line 1) */
    /* A GeoPackage or FlatGeobuf layer of points is read through GDAL's Arrow stream
     * (io/arrow.h), started at the first row (after cs_layer_keep_fields). */
    bool arrow_suits;
    cs_arrow_rows *arrow;
    /* A GeoJSON network (lines) is read by careshed's own one pass (io/geojson.h),
     * started at the first feature; a feature it declines and those after it are read
     * by GDAL's features. */
    bool geojson_suits;
    cs_geojson_rows *geojson;
    cs_status read_failed; /* starting the stream failed, or the file was cut short */
    /* A GeoPackage or FlatGeobuf layer read through GDAL's features answers a spatial
     * filter from the file's own index, each feature keeping its FID (cs_layer_window). */
    bool spatial_index;
    long long expected;    /* the features a GeoPackage or FlatGeobuf says it holds */
    long csv_lines;        /* a CSV's lines, header included (cs_csv_check) */
    long long file_bytes;  /* the file's size; 0 when not known (not a plain file) */
    const cs_layer *part_of; /* a part of that layer's rows (cs_layer_part): it owns the rest */
    cs_line_gaps gaps;       /* a plain table's rows off their line after empty lines */
    long gap_offset;         /* how far off the last row read was */
};

/* Tests compare the readers with GDAL's features (cs_layer_read_through_features). */
static bool through_features;

void cs_layer_read_through_features(bool on) { through_features = on; }

static const char *const x_candidates[] = {"lon", "longitude", "lng", "long", "x", "LON",
                                           "Lon", "Longitude", "LONGITUDE", "LONG", "Long",
                                           "LNG", "Lng", "X", "经度", NULL};
static const char *const y_candidates[] = {"lat", "latitude", "y", "LAT", "Lat", "Latitude",
                                           "LATITUDE", "Y", "纬度", NULL};

/* GDAL must not print: its messages are kept for the next error report. */
static void CPL_STDCALL capture_gdal_message(CPLErr level, CPLErrorNum number, const char *text)
{
    if (number == CPLE_OutOfMemory || cs_message_means_nomem(text))
        cs_note_nomem();
    cs_context *ctx = CPLGetErrorHandlerUserData();
    if (ctx && level >= CE_Warning)
        snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", text);
}

/* While a layer opens: GDAL's failures are kept on the layer too, since GDAL resets its
 * error state after some it goes past (an unknown GeoJSON crs). */
static void CPL_STDCALL capture_open_message(CPLErr level, CPLErrorNum number, const char *text)
{
    (void)number;
    cs_layer *l = CPLGetErrorHandlerUserData();
    if (l && level >= CE_Failure)
        snprintf(l->open_failure, sizeof l->open_failure, "%s", text);
    if (l && level >= CE_Warning) /* as capture_gdal_message */
        snprintf(l->ctx->foreign_error, sizeof l->ctx->foreign_error, "%s", text);
}

const char *cs_layer_name(const cs_layer *layer) { return layer->name; }
const char *cs_layer_srs(const cs_layer *layer) { return layer->srs_wkt; }

bool cs_layer_xy_fields(const cs_layer *layer, const char **x, const char **y)
{
    bool fields = layer->x_field >= 0 && layer->y_field >= 0;
    *x = fields ? cs_layer_field_name(layer, layer->x_field) : NULL;
    *y = fields ? cs_layer_field_name(layer, layer->y_field) : NULL;
    return fields;
}

void cs_layer_defer_metres(cs_layer *layer) { layer->defer_metres = true; }
bool cs_layer_is_csv(const cs_layer *layer) { return layer->csv; }
bool cs_layer_is_plain_csv(const cs_layer *layer) { return layer->csv_plain; }

bool cs_layer_is_osm(const cs_layer *layer)
{
    GDALDriverH drv = layer->ds ? GDALGetDatasetDriver(layer->ds) : NULL;
    return drv && !strcmp(GDALGetDriverShortName(drv), "OSM");
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && cs_strcasecmp(s + n - m, suffix) == 0;
}

static bool has_cpg(const char *path)
{
    char *base = cs_strdup(path);
    if (!base)
        return false;
    size_t n = strlen(base);
    bool found = false;
    if (n > 4) {
        struct stat st;
        strcpy(base + n - 3, "cpg");
        found = stat(base, &st) == 0;
        if (!found) {
            strcpy(base + n - 3, "CPG");
            found = stat(base, &st) == 0;
        }
    }
    cs_free(base);
    return found;
}

/* Open options (layer.h). CSV coordinate columns are read by cs_layer_point itself (so
 * text in them is reported), so GDAL is not asked to make point geometries from them. */
char **cs_layer_open_options(const cs_layer_config *lc, const char *path)
{
    char **opts = NULL;
    if ((ends_with(path, ".shp") || ends_with(path, ".dbf")) && (lc->encoding || !has_cpg(path)))
        opts = CSLSetNameValue(opts, "ENCODING", "");
    return opts;
}

static cs_status open_error(cs_context *ctx, const char *path, const char *shown,
                            const char *role)
{
    struct stat st;
    cs_where w = {.file = shown, .field = NULL};
    if (stat(path, &st) != 0 && !strstr(path, ":")) {
        /* say where a path relative to the study file's folder was looked for: the
         * user may have meant the folder they stand in */
        char hint[1024] = "check the path";
        if (shown && *shown != '/' && strcmp(shown, path) != 0)
            snprintf(hint, sizeof hint, "check the path: a relative path in a study file is "
                     "taken from the study file's folder, so this one was looked for as "
                     "'%.900s'", path);
        return cs_error(ctx, CS_ERR_INPUT, &w, hint, "%s file not found", role);
    }
    const char *why = CPLGetLastErrorMsg();
    return cs_error(ctx, CS_ERR_INPUT, &w,
                    "use a vector format GDAL reads (GeoJSON, Shapefile, GeoPackage, CSV with "
                    "lon/lat columns, KML, FlatGeobuf...); `ogrinfo --formats` lists them",
                    "%s file cannot be read as a vector layer%s%s", role, why && *why ? ": " : "",
                    why ? why : "");
}

const char *cs_layer_not_a_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return NULL;
    if (S_ISDIR(st.st_mode))
        return ends_with(path, ".gdb") || ends_with(path, ".gdb/") ? NULL : "a folder";
    return S_ISFIFO(st.st_mode)  ? "a named pipe (FIFO)"
           : S_ISSOCK(st.st_mode) ? "a socket"
                                  : "a device";
}

/* Refuse what is not a file before GDAL opens it (CS_ERR_INPUT naming role.path). */
static cs_status check_regular_file(cs_context *ctx, const char *path, const char *shown,
                                    const char *role)
{
    const char *what = cs_layer_not_a_file(path);
    if (!what)
        return CS_OK;
    char key[64];
    snprintf(key, sizeof key, "%s.path", role);
    cs_where w = {.file = shown, .field = key};
    return cs_error(ctx, CS_ERR_INPUT, &w, "give the path of a file holding the layer",
                    "%s file is not a regular file but %s", role, what);
}

/*
 * A GeoJSON "crs" member GDAL cannot resolve (e.g. urn:ogc:def:crs:EPSG::999999) makes
 * GDAL report an error and then read the file as WGS84 all the same: refuse it rather
 * than guess, unless role.crs names the CRS. Called once the layer's CRS was read.
 */
static cs_status check_geojson_crs(cs_context *ctx, const cs_layer *l)
{
    GDALDriverH drv = GDALGetDatasetDriver(l->ds);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GeoJSON") != 0 || !l->open_failure[0])
        return CS_OK;
    char hint[160];
    snprintf(hint, sizeof hint, "fix the file's crs member, or name the layer's CRS with "
             "%s.crs (e.g. EPSG:4326)", l->role);
    cs_where w = {.file = l->name};
    return cs_error(ctx, CS_ERR_CRS, &w, hint, "the file names a coordinate system GDAL does "
                    "not know (%s); GDAL would read it as WGS84", l->open_failure);
}

static cs_status select_layer(cs_context *ctx, cs_layer *l, const cs_layer_config *lc)
{
    cs_where w = {.file = l->name};
    if (lc->layer) {
        l->layer = GDALDatasetGetLayerByName(l->ds, lc->layer);
        if (!l->layer) {
            cs_buf names;
            cs_buf_init(&names);
            for (int i = 0; i < GDALDatasetGetLayerCount(l->ds); i++)
                cs_buf_printf(&names, "%s%s", i ? ", " : "",
                              OGR_L_GetName(GDALDatasetGetLayer(l->ds, i)));
            cs_buf hint;
            cs_buf_init(&hint);
            cs_buf_printf(&hint, "set %s.layer to one of them, or leave it out for the first",
                          l->role);
            cs_status st = cs_error(ctx, CS_ERR_INPUT, &w, hint.data,
                                    "no layer named '%s'; the layers are: %s", lc->layer,
                                    names.data ? names.data : "(none)");
            cs_buf_free(&hint);
            cs_buf_free(&names);
            return st;
        }
    } else if (cs_layer_is_osm(l)) {
        /* OpenStreetMap: the ways are in "lines" (points, multipolygons... elsewhere) */
        l->layer = GDALDatasetGetLayerByName(l->ds, "lines");
        if (!l->layer)
            return cs_error(ctx, CS_ERR_INPUT, &w, "check that this is an OpenStreetMap file",
                            "the OpenStreetMap file has no 'lines' layer");
    } else {
        l->layer = GDALDatasetGetLayerCount(l->ds) > 0 ? GDALDatasetGetLayer(l->ds, 0) : NULL;
        if (!l->layer)
            return cs_error(ctx, CS_ERR_INPUT, &w, "check that this is the right file",
                            "the file holds no vector layer");
    }
    l->defn = OGR_L_GetLayerDefn(l->layer);
    return CS_OK;
}

static void read_srs(cs_layer *l)
{
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l->layer);
    if (!srs)
        return;
    char *wkt = NULL;
    const char *opts[] = {"FORMAT=WKT2_2019", NULL};
    if (OSRExportToWktEx(srs, &wkt, opts) == OGRERR_NONE && wkt)
        l->srs_wkt = cs_strdup(wkt);
    CPLFree(wkt);
}

/* Whether a layer has no feature: its count when the format knows it cheaply, else
 * whether a first feature comes (counting a CSV or GeoJSON means reading it all). */
static bool layer_is_empty(OGRLayerH layer)
{
    if (OGR_L_TestCapability(layer, OLCFastFeatureCount))
        return OGR_L_GetFeatureCount(layer, 1) == 0;
    OGRFeatureH first = OGR_L_GetNextFeature(layer);
    OGR_L_ResetReading(layer);
    if (!first)
        return true;
    OGR_F_Destroy(first);
    return false;
}

/* Every file of the dataset (a Shapefile's .dbf, .prj, .cpg...) is an input no output
 * may replace. */
static void note_files(cs_context *ctx, GDALDatasetH ds, const char *role)
{
    char **list = GDALGetFileList(ds);
    for (char **f = list; f && *f; f++)
        cs_input_note(ctx, *f, role);
    CSLDestroy(list);
}

/* Once the layer is chosen: its kind (CSV), CRS and whether it is in degrees, and the
 * checks that need them (quotes, the GeoJSON crs member, no feature at all). */
static cs_status describe_opened(cs_context *ctx, cs_layer *l, const cs_layer_config *lc,
                                 const char *path)
{
    GDALDriverH drv = GDALGetDatasetDriver(l->ds);
    l->csv = drv && !strcmp(GDALGetDriverShortName(drv), "CSV");
    cs_status st =
        l->csv ? cs_csv_check(ctx, path, l->name, &l->csv_plain, &l->csv_lines) : CS_OK;
    read_srs(l);
    if (st == CS_OK && !lc->crs)
        st = check_geojson_crs(ctx, l);
    const char *crs = lc->crs ? lc->crs : l->srs_wkt;
    l->lonlat = crs && cs_crs_is_geographic(ctx, crs) == 1;
    /* Counting an OpenStreetMap layer means parsing the whole file once more. */
    if (st == CS_OK && !lc->may_be_empty && !cs_layer_is_osm(l) && layer_is_empty(l->layer)) {
        cs_where w = {.file = l->name};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check that this is the right file and layer",
                      "the %s layer is empty", l->role);
    }
    return st;
}

/* ------------------------------------------------------------ text encoding */

static void free_texts(cs_layer *l)
{
    for (int i = 0; l->texts && i < l->field_count; i++) {
        cs_free(l->texts[i]);
        l->texts[i] = NULL;
    }
}

static const char *raw_field_name(const cs_layer *l, int index)
{
    return OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(l->defn, index));
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Where feature number (0: the field names) and field are, for messages. A field name
 * that is not UTF-8 (or holds control characters) is shown with '?' for its bytes that
 * are not printable ASCII (written into buf). */
static cs_where text_where(const cs_layer *l, long number, int field, char *buf, size_t size)
{
    const char *name = l->names ? l->names[field] : raw_field_name(l, field);
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++)
        buf[i] = (unsigned char)name[i] >= 0x20 && (unsigned char)name[i] < 0x7f ? name[i] : '?';
    buf[i] = '\0';
    bool clean = cs_utf8_valid(name, strlen(name));
    for (const char *c = name; clean && *c; c++)
        clean = (unsigned char)*c >= 0x20 && *c != 0x7f;
    cs_where w = {.file = l->name, .field = clean ? name : buf};
    if (l->csv)
        w.line = number + 1; /* the header is line 1 */
    else
        w.feature = number;
    return w;
}

/*
 * Choose the encoding of a layer whose text is not all UTF-8 (io/textenc.h gives the
 * rule): the field names and every text value that is not UTF-8, of the whole layer,
 * read once more through a second handle, go to the guess. Warns once, naming the
 * encoding and the key; when no candidate reads every value, one error names the
 * first value that the closest one fails on, and scan_failed is set.
 */
static atomic_size_t scans; /* cs_layer_scans */

size_t cs_layer_scans(void) { return atomic_load(&scans); }

static cs_status scan_encoding(cs_context *ctx, cs_layer *l)
{
    l->enc_scanned = true;
    atomic_fetch_add(&scans, 1);
    cs_textenc_guess g;
    if (cs_textenc_guess_init(&g) != CS_OK)
        return cs_nomem(ctx);
    cs_status st = CS_OK;
    for (int i = 0; st == CS_OK && i < l->field_count; i++) {
        const char *name = raw_field_name(l, i);
        if (!cs_utf8_valid(name, strlen(name)))
            st = cs_textenc_guess_add(&g, name, strlen(name), 0, i);
    }
    GDALDatasetH ds = GDALOpenEx(l->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                                 (const char *const *)l->open_opts, NULL);
    OGRLayerH layer = ds ? GDALDatasetGetLayerByName(ds, OGR_L_GetName(l->layer)) : NULL;
    OGRFeatureDefnH defn = layer ? OGR_L_GetLayerDefn(layer) : NULL;
    int n = defn ? OGR_FD_GetFieldCount(defn) : 0;
    /* only text fields: the others hold no text to choose by */
    const char **ignored = layer ? cs_calloc((size_t)n + 2, sizeof *ignored) : NULL;
    if (ignored) {
        size_t m = 0;
        for (int i = 0; i < n; i++)
            if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i)) != OFTString)
                ignored[m++] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
        ignored[m] = "OGR_GEOMETRY";
        OGR_L_SetIgnoredFields(layer, ignored);
        cs_free(ignored);
    }
    long number = 0;
    OGRFeatureH f;
    if (layer)
        OGR_L_ResetReading(layer);
    while (st == CS_OK && layer && (f = OGR_L_GetNextFeature(layer)) != NULL) {
        number++;
        for (int i = 0; st == CS_OK && i < n; i++) {
            if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i)) != OFTString ||
                !OGR_F_IsFieldSetAndNotNull(f, i))
                continue;
            const char *v = OGR_F_GetFieldAsString(f, i);
            size_t len = strlen(v);
            if (!cs_utf8_valid(v, len))
                st = cs_textenc_guess_add(&g, v, len, number, i);
        }
        OGR_F_Destroy(f);
    }
    if (ds)
        GDALClose(ds);
    if (st != CS_OK) {
        cs_textenc_guess_free(&g);
        return cs_nomem(ctx);
    }
    int best = 0;
    /* none: the layer is UTF-8 (the scan was for text that only might not be) */
    int chosen = g.values ? cs_textenc_guess_choose(&g, &best) : -1;
    char hint[256], field[128];
    if (chosen >= 0) {
        l->enc = cs_textenc_guess_take(&g, chosen);
        l->doubt_in_enc = l->no_encoding; /* else text in doubt was read as UTF-8 before */
        cs_where w = {.file = l->name};
        snprintf(hint, sizeof hint, "if that is right, set %s.encoding: %s to say so; else "
                 "name the file's encoding there, or save the file as UTF-8", l->role,
                 cs_textenc_guess_name(chosen));
        cs_warn(ctx, &w, hint, "%s text is not UTF-8: read as %s (%zu of its values %s "
                "not UTF-8)", l->role, chosen == 0 ? "GB18030 (GBK)" : "Big5", g.values,
                g.values == 1 ? "is" : "are");
    } else if (g.values > 0) {
        l->scan_failed = true;
        cs_where w = text_where(l, g.first_failure[best][0], (int)g.first_failure[best][1],
                                field, sizeof field);
        snprintf(hint, sizeof hint, "set %s.encoding to the file's encoding (`iconv -l` "
                 "lists them), or save the file as UTF-8", l->role);
        cs_error(ctx, CS_ERR_INPUT, &w, hint, "text in an unknown encoding: it is not UTF-8 "
                 "and neither GB18030 (GBK) nor Big5 reads all of the layer's text (%zu "
                 "of %zu values fail as %s, the first here)", g.failures[best], g.values, cs_textenc_guess_name(best));
    }
    cs_textenc_guess_free(&g);
    return CS_OK;
}

/* Text in doubt (see no_encoding) read in the encoding chosen for the layer when that
 * reads it as names are written (cs_textenc_convert_plain); else as it is. */
static const char *doubtful_utf8(cs_layer *l, const char *raw, size_t len)
{
    if (!l->enc || !l->doubt_in_enc)
        return raw;
    cs_status st = cs_textenc_convert_plain(l->enc, raw, len, &l->conv);
    if (st == CS_ERR_NOMEM) {
        cs_nomem(l->ctx);
        return "";
    }
    return st == CS_OK ? l->conv.data : raw;
}

/*
 * raw as UTF-8: itself when it is ASCII, or UTF-8 (unless role.encoding names another
 * encoding, or it is in doubt: doubtful_utf8), else converted into l->conv (from the
 * declared encoding, or the one the scan chooses on the first such value). Text that
 * does not convert is reported (once when the scan failed, else for each value, naming
 * feature and field) and comes back with '?' for its bytes that are not ASCII.
 */
static const char *convert_text(cs_layer *l, const char *raw, long number, int field)
{
    size_t len = strlen(raw);
    if (is_ascii(raw))
        return raw;
    bool utf8 = cs_utf8_valid(raw, len);
    if (utf8 && l->enc_declared && !l->enc) /* role.encoding: UTF-8 */
        return raw;
    if (!l->enc_declared) {
        bool doubt = (l->no_encoding || l->doubt_in_enc) && cs_utf8_two_byte_only(raw, len);
        if (utf8 && !doubt)
            return raw;
        if (!l->enc_scanned && scan_encoding(l->ctx, l) != CS_OK)
            return "";
        if (utf8)
            return doubtful_utf8(l, raw, len);
    }
    char hint[256], name[128];
    size_t bad = 0;
    cs_status st = CS_ERR_INPUT;
    if (l->enc)
        st = cs_textenc_convert(l->enc, raw, len, &l->conv, &bad);
    if (st == CS_ERR_NOMEM) {
        cs_nomem(l->ctx);
        return "";
    }
    if (st == CS_OK)
        return l->conv.data;
    if (!l->scan_failed) { /* a declared encoding (UTF-8 too) the value is not in */
        l->text_errors++;
        cs_where w = text_where(l, number, field, name, sizeof name);
        snprintf(hint, sizeof hint, "set %s.encoding to the file's encoding (e.g. GBK, "
                 "BIG5, UTF-8), or save the file as UTF-8", l->role);
        if (l->enc)
            cs_error(l->ctx, CS_ERR_INPUT, &w, hint, "text is not valid %s (%s.encoding) "
                     "at byte %zu", cs_textenc_name(l->enc), l->role, bad + 1);
        else
            cs_error(l->ctx, CS_ERR_INPUT, &w, hint, "text is not UTF-8 (%s.encoding)",
                     l->role);
    }
    cs_buf_clear(&l->conv);
    for (const char *c = raw; *c; c++)
        cs_buf_addc(&l->conv, (unsigned char)*c < 0x80 ? *c : '?');
    if (l->conv.failed) {
        cs_nomem(l->ctx);
        return "";
    }
    return l->conv.data;
}

/* Once the layer is chosen: the declared encoding, and the field names as UTF-8 (a
 * name that is not starts the scan). */
static cs_status prepare_text(cs_context *ctx, cs_layer *l, const cs_layer_config *lc)
{
    l->field_count = OGR_FD_GetFieldCount(l->defn);
    l->texts = cs_calloc((size_t)l->field_count + 1, sizeof *l->texts);
    if (!l->texts)
        return cs_nomem(ctx);
    /* a KML's UTF-8 copy was converted from role.encoding already */
    const char *encoding = l->utf8_copy ? NULL : lc->encoding;
    if (encoding && !cs_textenc_is_utf8(encoding)) {
        l->enc = cs_textenc_open(encoding);
        if (!l->enc) {
            char key[64];
            snprintf(key, sizeof key, "%s.encoding", l->role);
            cs_where w = {.file = l->name, .field = key};
            return cs_error(ctx, CS_ERR_INPUT, &w, "name a character set such as GBK, "
                            "GB18030, BIG5 or UTF-8 (`iconv -l` lists them)",
                            "unknown encoding '%.100s'", encoding);
        }
    }
    l->enc_declared = encoding != NULL;
    l->enc_scanned = l->enc_declared;
    /* as stored: a CSV's text, a Shapefile's read raw (cs_layer_open_options) */
    l->no_encoding = !encoding && (l->csv || CSLFetchNameValue(l->open_opts, "ENCODING"));
    if (!encoding && lc->encoding_found) { /* as the scan before found it */
        l->enc_scanned = true;
        if (!cs_textenc_is_utf8(lc->encoding_found)) {
            l->enc = cs_textenc_open(lc->encoding_found);
            if (!l->enc)
                return cs_nomem(ctx);
            l->doubt_in_enc = true;
        }
    }
    bool plain = true;
    for (int i = 0; i < l->field_count; i++)
        plain = plain && is_ascii(raw_field_name(l, i));
    if (plain)
        return CS_OK;
    char **names = cs_calloc((size_t)l->field_count + 1, sizeof *names);
    if (!names)
        return cs_nomem(ctx);
    for (int i = 0; i < l->field_count; i++) {
        names[i] = cs_strdup(convert_text(l, raw_field_name(l, i), 0, i));
        if (!names[i]) {
            for (int j = 0; j < i; j++)
                cs_free(names[j]);
            cs_free(names);
            return cs_nomem(ctx);
        }
    }
    l->names = names;
    /* a name that did not convert is reported and shown with '?': opening goes on, so
     * that a file that is no table at all also hears so from the field lookup */
    return CS_OK;
}

/* Whether line (the header, split in place) names GDAL's fields, in its order. */
static bool same_fields(const cs_layer *l, char *line)
{
    line += cs_csv_bom(line, strlen(line));
    size_t n = (size_t)l->field_count;
    char **names = cs_calloc(n + 1, sizeof *names);
    bool same = names && cs_csv_split(line, names, n + 1) == n;
    for (size_t i = 0; same && i < n; i++)
        same = !strcmp(names[i], raw_field_name(l, (int)i));
    cs_free(names);
    return same;
}

/*
 * Read a point table past GDAL when it is plain (see struct cs_layer) and GDAL sees it
 * as we would: no geometry of its own (no WKT column), every field text (no .csvt),
 * and the header's names, split at commas, GDAL's. Anything else stays with GDAL.
 */
static cs_status open_plain(cs_context *ctx, cs_layer *l, const char *path)
{
    if (!l->csv_plain || l->utf8_copy || through_features || OGR_FD_GetGeomFieldCount(l->defn) > 0)
        return CS_OK;
    for (int i = 0; i < l->field_count; i++)
        if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(l->defn, i)) != OFTString)
            return CS_OK;
    cs_csv_lines *lines;
    cs_status st = cs_csv_lines_open(ctx, path, l->name, &lines);
    if (st != CS_OK)
        return st;
    size_t len;
    char *header = cs_csv_lines_next(lines, &len, &l->line);
    if (!header || !same_fields(l, header)) {
        st = cs_csv_lines_status(lines);
        cs_csv_lines_close(lines);
        return st;
    }
    if (!(l->cells = cs_calloc((size_t)l->field_count + 1, sizeof *l->cells))) {
        cs_csv_lines_close(lines);
        return cs_nomem(ctx);
    }
    l->plain = lines;
    return CS_OK;
}

cs_status cs_layer_open(cs_context *ctx, const cs_layer_config *lc, const char *role,
                        const char *path, bool want_points, cs_layer **out)
{
    *out = NULL;
    cs_layer *l = cs_calloc(1, sizeof *l);
    if (!l)
        return cs_nomem(ctx);
    CPLPushErrorHandlerEx(capture_gdal_message, ctx);
    l->ctx = ctx;
    l->x_field = l->y_field = -1;
    l->name = cs_strdup(lc->path ? lc->path : path);
    l->role = cs_strdup(role);
    if (!l->name || !l->role) {
        cs_layer_close(l);
        return cs_nomem(ctx);
    }
    cs_status st = check_regular_file(ctx, path, l->name, role);
    if (st != CS_OK) {
        cs_layer_close(l);
        return st;
    }
    st = cs_kml_utf8_copy(ctx, path, l->name, role, lc->encoding, &l->utf8_copy);
    if (st != CS_OK) {
        cs_layer_close(l);
        return st;
    }
    if (l->utf8_copy)
        cs_input_note(ctx, path, role);
    const char *opened = l->utf8_copy ? l->utf8_copy : path;
    struct stat info;
    if (stat(opened, &info) == 0 && S_ISREG(info.st_mode))
        l->file_bytes = (long long)info.st_size;
    l->open_opts = cs_layer_open_options(lc, path);
    l->path = cs_strdup(opened);
    if (!l->path) {
        cs_layer_close(l);
        return cs_nomem(ctx);
    }
    CPLErrorReset();
    CPLPushErrorHandlerEx(capture_open_message, l);
    l->ds = GDALOpenEx(opened, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                       (const char *const *)l->open_opts, NULL);
    CPLPopErrorHandler();
    if (!l->ds)
        st = open_error(ctx, path, l->name, role);
    else
        note_files(ctx, l->ds, role);
    if (st == CS_OK)
        st = select_layer(ctx, l, lc);
    if (st == CS_OK)
        st = describe_opened(ctx, l, lc, path);
    if (st == CS_OK)
        st = prepare_text(ctx, l, lc);
    if (st == CS_OK && want_points && l->csv) {
        /* Point tables: find the coordinate columns ourselves so that text in them
         * is reported, not silently turned into an empty geometry. */
        l->x_field = cs_layer_find_field(ctx, l, lc->x_field, x_candidates,
                                         lc->x_field ? "x" : "x (longitude)", true);
        l->y_field = cs_layer_find_field(ctx, l, lc->y_field, y_candidates,
                                         lc->y_field ? "y" : "y (latitude)", true);
        if (l->x_field < 0 || l->y_field < 0)
            st = CS_ERR_INPUT;
    }
    if (st == CS_OK && l->x_field >= 0)
        st = open_plain(ctx, l, path);
    GDALDriverH drv = GDALGetDatasetDriver(l->ds);
    const char *driver = drv ? GDALGetDriverShortName(drv) : "";
    bool counted = !strcmp(driver, "GPKG") || !strcmp(driver, "FlatGeobuf");
    l->arrow_suits = st == CS_OK && want_points && l->x_field < 0 && !through_features &&
                     counted && cs_arrow_suits(l->layer, l->defn);
    l->geojson_suits = st == CS_OK && !strcmp(role, "network") && !through_features &&
                       !l->utf8_copy && cs_geojson_suits(driver, l->defn);
    /* their headers count the features: GDAL ends a file cut short as if it ended there
     * (FlatGeobuf, with a message only), so fewer features read is an error (at_end) */
    l->expected = st == CS_OK && counted ? (long long)OGR_L_GetFeatureCount(l->layer, 0) : -1;
    l->spatial_index = st == CS_OK && counted && !l->arrow_suits && !l->geojson_suits &&
                       !l->plain && OGR_L_TestCapability(l->layer, OLCFastSpatialFilter);
    if (st != CS_OK) {
        cs_layer_close(l);
        return st;
    }
    OGR_L_ResetReading(l->layer);
    *out = l;
    return CS_OK;
}

/* A part (cs_layer_part) holds its reader, line and texts; the rest is its layer's. */
static void close_part(cs_layer *l)
{
    if (l->enc != l->part_of->enc) /* chosen by the part's own scan */
        cs_textenc_close(l->enc);
    cs_line_gaps_free(&l->gaps);
    cs_csv_lines_close(l->plain);
    cs_free(l->cells);
    free_texts(l);
    cs_free(l->texts);
    cs_free(l);
}

void cs_layer_close(cs_layer *l)
{
    if (!l)
        return;
    if (l->part_of) {
        close_part(l);
        return;
    }
    if (l->feature)
        OGR_F_Destroy(l->feature);
    cs_line_gaps_free(&l->gaps);
    cs_csv_lines_close(l->plain);
    cs_free(l->cells);
    cs_arrow_close(l->arrow);
    cs_geojson_close(l->geojson);
    if (l->ds)
        GDALClose(l->ds);
    if (l->utf8_copy)
        VSIUnlink(l->utf8_copy);
    cs_free(l->utf8_copy);
    if (l->ctx)
        CPLPopErrorHandler();
    free_texts(l);
    for (int i = 0; l->names && i < l->field_count; i++)
        cs_free(l->names[i]);
    cs_free(l->names);
    cs_free(l->texts);
    cs_buf_free(&l->conv);
    cs_textenc_close(l->enc);
    CSLDestroy(l->open_opts);
    cs_free(l->path);
    cs_free(l->srs_wkt);
    cs_free(l->name);
    cs_free(l->role);
    cs_free(l);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cs_layer_files(cs_layer *l, size_t *count)
{
    *count = 0;
    char **list = GDALGetFileList(l->ds);
    size_t n = (size_t)CSLCount(list);
    char **out = cs_calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        out[i] = cs_strdup(list[i]);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                cs_free(out[j]);
            cs_free(out);
            out = NULL;
        }
    }
    CSLDestroy(list);
    if (out) {
        qsort(out, n, sizeof *out, compare_strings);
        *count = n;
    }
    return out;
}

void cs_layer_keep_fields(cs_layer *l, const int *fields, size_t n)
{
    int count = OGR_FD_GetFieldCount(l->defn);
    const char **ignored = cs_calloc((size_t)count + 2, sizeof *ignored);
    if (!ignored)
        return; /* only an optimisation */
    size_t m = 0;
    for (int i = 0; i < count; i++) {
        bool keep = i == l->x_field || i == l->y_field;
        for (size_t k = 0; k < n && !keep; k++)
            keep = fields[k] == i;
        if (!keep)
            ignored[m++] = raw_field_name(l, i); /* GDAL's own name */
    }
    if (l->x_field >= 0)
        ignored[m++] = "OGR_GEOMETRY";
    OGR_L_SetIgnoredFields(l->layer, ignored);
    cs_free(ignored);
}

int cs_layer_field_count(const cs_layer *l) { return l->field_count; }

const char *cs_layer_reader(const cs_layer *l)
{
    return l->plain ? "lines" : l->arrow ? "arrow" : l->geojson ? "geojson" : "features";
}

size_t cs_layer_rows_hint(const cs_layer *l)
{
    if (l->csv)
        return l->csv_lines > 1 ? (size_t)(l->csv_lines - 1) : 0;
    /* a header's count that the file is too small to hold is not believed */
    bool fits = l->expected > 0 && l->expected <= l->file_bytes / 8;
    return fits ? (size_t)l->expected : 0;
}

const char *cs_layer_field_name(const cs_layer *l, int index)
{
    return l->names ? l->names[index] : raw_field_name(l, index);
}

static int field_index(const cs_layer *l, const char *name)
{
    int n = OGR_FD_GetFieldCount(l->defn);
    for (int i = 0; i < n; i++)
        if (!strcmp(cs_layer_field_name(l, i), name))
            return i;
    for (int i = 0; i < n; i++)
        if (!cs_strcasecmp(cs_layer_field_name(l, i), name))
            return i;
    return -1;
}

static void list_fields(const cs_layer *l, cs_buf *b)
{
    int n = OGR_FD_GetFieldCount(l->defn);
    bool control = false;
    int shown = n > 40 ? 30 : n; /* a table of thousands of columns: the first few */
    cs_buf_add(b, "the fields are: ");
    for (int i = 0; i < shown; i++) {
        if (i)
            cs_buf_add(b, ", ");
        /* a binary file read as a table has "names" whose bytes no terminal should get */
        for (const char *c = cs_layer_field_name(l, i); *c; c++) {
            bool bad = (unsigned char)*c < 0x20 || *c == 0x7f;
            control = control || bad;
            cs_buf_addc(b, bad ? '?' : *c);
        }
    }
    if (shown < n)
        cs_buf_printf(b, " and %d more", n - shown);
    if (n == 0)
        cs_buf_add(b, "(none)");
    if (control)
        cs_buf_add(b, " (control characters shown as ?: is this a text table at all?)");
}

int cs_layer_find_field(cs_context *ctx, cs_layer *l, const char *configured,
                        const char *const *candidates, const char *key, bool required)
{
    int idx = -1;
    if (configured) {
        idx = field_index(l, configured);
    } else {
        for (int i = 0; candidates && candidates[i] && idx < 0; i++)
            idx = field_index(l, candidates[i]);
    }
    /* A field the user named explicitly must exist, required or not. */
    if (idx >= 0 || (!required && !configured))
        return idx;
    cs_buf hint;
    cs_buf_init(&hint);
    list_fields(l, &hint);
    bool option = !strncmp(key, "--", 2); /* a field a command's option names */
    if ((!strcmp(l->role, "proposals") || !strcmp(l->role, "candidates")) &&
        (key[0] == 'x' || key[0] == 'y'))
        cs_buf_printf(&hint, "; name it with --%c-field NAME", key[0]); /* a site file */
    else if (option)
        cs_buf_printf(&hint, "; give %s one of them", key);
    else
        cs_buf_printf(&hint, "; set %s.%s to the right one", l->role, key);
    cs_where w = {.file = l->name, .field = configured};
    if (configured && option) {
        cs_error(ctx, CS_ERR_INPUT, &w, hint.data, "no field '%s' (%s)", configured, key);
    } else if (configured) {
        cs_error(ctx, CS_ERR_INPUT, &w, hint.data, "no field '%s' (%s.%s)", configured,
                 l->role, key);
    } else {
        cs_buf tried;
        cs_buf_init(&tried);
        for (int i = 0; candidates && candidates[i]; i++)
            cs_buf_printf(&tried, "%s%s", i ? ", " : "", candidates[i]);
        cs_error(ctx, CS_ERR_INPUT, &w, hint.data, "no field for %s.%s (looked for %s)",
                 l->role, key, tried.data ? tried.data : "nothing");
        cs_buf_free(&tried);
    }
    cs_buf_free(&hint);
    return -1;
}

/* The next line of a plain table that is not empty (GDAL skips those too). */
static bool next_plain(cs_layer *l)
{
    size_t len;
    char *text;
    while ((text = cs_csv_lines_next(l->plain, &len, &l->line)) && len == 0)
        ;
    if (!text)
        return false;
    size_t n = cs_csv_split(text, l->cells, (size_t)l->field_count);
    for (size_t i = n; i < (size_t)l->field_count; i++)
        l->cells[i] = NULL;
    return true;
}

static long long cut_min_bytes = (long long)4 << 20;

long long cs_layer_cut_min_bytes(long long bytes)
{
    long long was = cut_min_bytes;
    cut_min_bytes = bytes;
    return was;
}

const char *cs_layer_path(const cs_layer *l) { return l->path; }

size_t cs_layer_cut(cs_layer *l, size_t most, cs_csv_part *parts, long *first_line)
{
    if (!l->plain || l->number > 0 || most < 2 || l->file_bytes < cut_min_bytes)
        return 0;
    *first_line = l->line + 1;
    return cs_csv_cut(l->path, cs_csv_lines_offset(l->plain), most, parts);
}

cs_status cs_layer_part(cs_context *ctx, const cs_layer *l, const cs_csv_part *part,
                        cs_layer **out)
{
    *out = NULL;
    cs_layer *p = cs_malloc(sizeof *p);
    if (!p)
        return cs_nomem(ctx);
    *p = *l; /* what the part shares; then what is its own */
    p->part_of = l;
    p->ctx = ctx;
    p->plain = NULL;
    p->line = part->first_line - 1;
    p->number = part->rows_before;
    p->read_failed = CS_OK;
    p->gaps = (cs_line_gaps){0}; /* gap_offset: 0, as the layer read no row; rows only
                                  * fall further behind, so no part misses a gap */
    p->cells = cs_calloc((size_t)l->field_count + 1, sizeof *p->cells);
    p->texts = cs_calloc((size_t)l->field_count + 1, sizeof *p->texts);
    cs_buf_init(&p->conv);
    cs_status st = p->cells && p->texts ? CS_OK : cs_nomem(ctx);
    if (st == CS_OK)
        st = cs_csv_lines_open_range(ctx, l->path, l->name, part->from, part->to,
                                     part->first_line, &p->plain);
    if (st != CS_OK) {
        close_part(p);
        return st;
    }
    *out = p;
    return CS_OK;
}

/* A plain table's row: where it no longer sits on the line after its feature number's
 * (empty lines before it), noted. False without memory (the read then fails). */
static bool note_line(cs_layer *l)
{
    long offset = l->line - (l->number + 1);
    if (offset == l->gap_offset)
        return true;
    l->gap_offset = offset;
    if (cs_line_gaps_add(&l->gaps, l->number, offset))
        return true;
    l->read_failed = cs_nomem(l->ctx);
    return false;
}

bool cs_layer_add_line_gaps(const cs_layer *l, cs_line_gaps *to)
{
    return cs_line_gaps_append(to, &l->gaps);
}

/* The layer's end: fewer features than its header counts is a read error. */
static bool at_end(cs_layer *l)
{
    if (l->read_failed == CS_OK && l->expected > l->number &&
        !(l->arrow && cs_arrow_status(l->arrow) != CS_OK)) {
        cs_where w = {.file = l->name, .feature = l->number + 1};
        l->read_failed = cs_error(l->ctx, CS_ERR_INPUT, &w, "check that the file is whole: "
                                  "copy it again, or open it in QGIS", "the file says it holds "
                                  "%lld features, but reading stopped after %ld",
                                  l->expected, l->number);
    }
    return false;
}

/* Go on with GDAL's features past the first `done` ones: the GeoJSON reader declined the
 * next. */
static void features_after(cs_layer *l, long done)
{
    cs_geojson_close(l->geojson);
    l->geojson = NULL;
    OGR_L_ResetReading(l->layer);
    for (long i = 0; i < done; i++) {
        OGRFeatureH f = OGR_L_GetNextFeature(l->layer);
        if (!f)
            break;
        OGR_F_Destroy(f);
    }
}

bool cs_layer_indexed(const cs_layer *l)
{
    return l->spatial_index;
}

bool cs_layer_window(cs_layer *l, const double box[4])
{
    if (!l->spatial_index || l->number > 0)
        return false;
    OGR_L_SetSpatialFilterRect(l->layer, box[0], box[1], box[2], box[3]);
    l->expected = -1; /* the features met, not the file's count */
    return true;
}

int64_t cs_layer_fid(const cs_layer *l)
{
    return l->feature && !l->arrow && !l->plain && !l->geojson ? (int64_t)OGR_F_GetFID(l->feature)
                                                                : -1;
}

bool cs_layer_next(cs_layer *l, long *number)
{
    if (l->geojson_suits) { /* the first feature: start the pass (the fields are chosen) */
        l->geojson_suits = false;
        l->read_failed = cs_geojson_open(l->ctx, l->path, l->defn, &l->geojson);
        if (l->read_failed != CS_OK)
            return false;
    }
    if (l->geojson) {
        free_texts(l);
        cs_geojson_step step = cs_geojson_next(l->geojson);
        if (step == CS_GEOJSON_FEATURE) {
            *number = ++l->number;
            return true;
        }
        if (step == CS_GEOJSON_END)
            return at_end(l);
        features_after(l, l->number);
    }
    if (l->arrow_suits) { /* the first row: start the stream (the fields are chosen) */
        l->arrow_suits = false;
        l->read_failed = cs_arrow_open(l->ctx, l->layer, l->defn, l->name, &l->arrow);
        if (l->read_failed != CS_OK)
            return false;
    }
    if (l->plain || l->arrow) {
        free_texts(l);
        if (l->plain ? !next_plain(l) : !cs_arrow_next(l->arrow))
            return at_end(l);
        *number = ++l->number;
        return !l->plain || note_line(l);
    }
    free_texts(l);
    if (l->feature)
        OGR_F_Destroy(l->feature);
    l->feature = OGR_L_GetNextFeature(l->layer);
    if (!l->feature)
        return at_end(l);
    *number = ++l->number;
    return true;
}

cs_status cs_layer_read_status(const cs_layer *l)
{
    if (l->read_failed != CS_OK)
        return l->read_failed;
    if (l->plain)
        return cs_csv_lines_status(l->plain);
    return l->arrow ? cs_arrow_status(l->arrow) : CS_OK;
}

/* Whether the current feature has a value for field index (of any type). */
static bool has_value(const cs_layer *l, int index)
{
    if (index < 0)
        return false;
    if (l->arrow)
        return cs_arrow_has(l->arrow, index);
    if (l->geojson)
        return cs_geojson_has(l->geojson, index);
    return l->plain ? l->cells[index] != NULL : OGR_F_IsFieldSetAndNotNull(l->feature, index);
}

const char *cs_layer_text(cs_layer *l, int index)
{
    if (!has_value(l, index))
        return "";
    if (l->plain) /* ASCII: nothing to convert */
        return l->cells[index];
    const char *raw = l->arrow     ? cs_arrow_text(l->arrow, index)
                      : l->geojson ? cs_geojson_text(l->geojson, index)
                                   : OGR_F_GetFieldAsString(l->feature, index);
    const char *text = convert_text(l, raw, l->number, index);
    if (text == raw || !*text)
        return text;
    /* kept per field: a caller may hold several of the feature's texts at once */
    cs_free(l->texts[index]);
    l->texts[index] = cs_strdup(text);
    if (!l->texts[index]) {
        cs_nomem(l->ctx);
        return "";
    }
    return l->texts[index];
}

bool cs_layer_text_failed(const cs_layer *l) { return l->scan_failed || l->text_errors; }

const char *cs_layer_encoding_found(const cs_layer *l)
{
    if (!l->no_encoding || !l->enc_scanned || l->enc_declared)
        return NULL; /* not chosen, or chosen only once text was read (then read so) */
    return l->enc ? cs_textenc_name(l->enc) : "UTF-8";
}

cs_where cs_layer_where(const cs_layer *l, const char *id, const char *field)
{
    cs_where w = {.file = l->name, .feature = l->number, .feature_id = id, .field = field};
    if (l->csv) {
        /* CSV users think in lines: the header is line 1 (GDAL gives no line number,
         * and skips empty lines: its rows are taken to follow the header). */
        w.line = l->plain ? l->line : l->number + 1;
        w.feature = 0;
    }
    return w;
}

cs_status cs_layer_number(cs_context *ctx, cs_layer *l, int index, const char *id,
                          double missing_value, bool allow_negative, double *out)
{
    *out = missing_value;
    if (!has_value(l, index))
        return CS_OK;
    OGRFieldType type = l->plain ? OFTString
                        : l->arrow ? (cs_arrow_is_number(l->arrow, index) ? OFTReal : OFTString)
                                   : OGR_Fld_GetType(OGR_FD_GetFieldDefn(l->defn, index));
    const char *text = NULL; /* as UTF-8, for the message when it is not a number */
    double v;
    bool ok;
    if (type == OFTReal || type == OFTInteger || type == OFTInteger64) {
        v = l->arrow     ? cs_arrow_number(l->arrow, index)
            : l->geojson ? cs_geojson_number(l->geojson, index)
                         : OGR_F_GetFieldAsDouble(l->feature, index);
        ok = isfinite(v);
    } else {
        text = type == OFTString ? cs_layer_text(l, index)
                                 : OGR_F_GetFieldAsString(l->feature, index);
        while (*text == ' ')
            text++;
        if (!*text)
            return CS_OK;
        ok = cs_parse_double(text, &v);
    }
    if (!ok || (!allow_negative && v < 0)) {
        cs_where w = cs_layer_where(l, id, cs_layer_field_name(l, index));
        if (!ok)
            return cs_error(ctx, CS_ERR_INPUT, &w, "write a plain decimal number (not "
                            "hexadecimal, inf or nan), or leave it empty",
                            "'%.60s' is not a number", text ? text : cs_layer_text(l, index));
        return cs_error(ctx, CS_ERR_INPUT, &w, "counts and capacities cannot be negative",
                        "negative value %g", v);
    }
    *out = v;
    return CS_OK;
}

/*
 * Coordinates must be finite, and in a geographic CRS within ±180 and ±90 degrees. A
 * point whose numbers would fit swapped is left to the study's swapped lat/lon check,
 * which says so, and so are metres in a layer that defers them (cs_layer_defer_metres).
 * field: the coordinate fields' indices (x, y), or < 0 for geometries.
 */
static cs_status check_coordinate(cs_context *ctx, cs_layer *l, const char *id, double x,
                                  double y, int x_field, int y_field)
{
    bool finite = isfinite(x) && isfinite(y);
    if (finite && (!l->lonlat || (fabs(x) <= 180 && fabs(y) <= 90) ||
                   (fabs(x) <= 90 && fabs(y) <= 180) ||
                   (l->defer_metres && (fabs(x) > 360 || fabs(y) > 360))))
        return CS_OK;
    bool bad_y = !isfinite(y) || (isfinite(x) && fabs(y) > 90);
    int field = bad_y ? y_field : x_field;
    cs_where w = cs_layer_where(l, id, field >= 0 ? cs_layer_field_name(l, field) : NULL);
    char hint[192];
    snprintf(hint, sizeof hint, "%s; if the layer is not in degrees, name its CRS with %s.crs",
             finite ? "check the value" : "give a finite number", l->role);
    if (!finite)
        return cs_error(ctx, CS_ERR_INPUT, &w, hint, "%s %g is not a finite number",
                        bad_y ? "y (latitude)" : "x (longitude)", bad_y ? y : x);
    return cs_error(ctx, CS_ERR_INPUT, &w, hint, "%s %g is outside %s degrees of the layer's "
                    "geographic CRS", bad_y ? "latitude" : "longitude", bad_y ? y : x,
                    bad_y ? "-90..90" : "-180..180");
}

/* Every vertex from index `from` of x, y (a feature's geometry) through check_coordinate. */
static cs_status check_vertices(cs_context *ctx, cs_layer *l, const char *id, const double *x,
                                const double *y, size_t from, size_t to)
{
    cs_status st = CS_OK;
    for (size_t i = from; st == CS_OK && i < to; i++)
        st = check_coordinate(ctx, l, id, x[i], y[i], -1, -1);
    return st;
}

cs_status cs_layer_point(cs_context *ctx, cs_layer *l, const char *id, double *x, double *y)
{
    *x = *y = NAN;
    if (l->x_field >= 0) {
        cs_status st = cs_layer_number(ctx, l, l->x_field, id, NAN, true, x);
        if (st == CS_OK)
            st = cs_layer_number(ctx, l, l->y_field, id, NAN, true, y);
        if (st == CS_OK && (isnan(*x) || isnan(*y))) {
            cs_where w = cs_layer_where(l, id, cs_layer_field_name(l, isnan(*x) ? l->x_field
                                                                             : l->y_field));
            return cs_error(ctx, CS_ERR_INPUT, &w, "give both coordinates or remove the row",
                            "missing coordinate");
        }
        return st == CS_OK ? check_coordinate(ctx, l, id, *x, *y, l->x_field, l->y_field) : st;
    }
    bool none;
    OGRwkbGeometryType t;
    if (l->arrow) {
        unsigned type;
        none = cs_arrow_geometry(l->arrow, x, y, &type) == CS_GEOM_NONE;
        t = (OGRwkbGeometryType)type;
    } else {
        OGRGeometryH g = l->feature ? OGR_F_GetGeometryRef(l->feature) : NULL;
        none = !g || OGR_G_IsEmpty(g);
        t = none ? wkbUnknown : wkbFlatten(OGR_G_GetGeometryType(g));
        if (!none && t == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1) {
            g = OGR_G_GetGeometryRef(g, 0);
            t = wkbPoint;
        }
        if (t == wkbPoint) {
            *x = OGR_G_GetX(g, 0);
            *y = OGR_G_GetY(g, 0);
        }
    }
    cs_where w = cs_layer_where(l, id, NULL);
    if (none)
        return cs_error(ctx, CS_ERR_INPUT, &w, "give the feature a point or remove it",
                        "no geometry");
    if (t != wkbPoint) {
        *x = *y = NAN;
        return cs_error(ctx, CS_ERR_INPUT, &w, "this layer must hold points",
                        "geometry is a %s, not a point", OGRGeometryTypeToName(t));
    }
    return check_coordinate(ctx, l, id, *x, *y, -1, -1);
}

/* Copy one OGR polygon's rings into out as one entry. */
static cs_status add_polygon(OGRGeometryH poly, cs_rings *out)
{
    int rings = OGR_G_GetGeometryCount(poly);
    if (rings <= 0)
        return CS_OK;
    double **xs = cs_calloc((size_t)rings, sizeof *xs);
    double **ys = cs_calloc((size_t)rings, sizeof *ys);
    size_t *counts = cs_calloc((size_t)rings, sizeof *counts);
    cs_status st = (xs && ys && counts) ? CS_OK : CS_ERR_NOMEM;
    for (int r = 0; st == CS_OK && r < rings; r++) {
        OGRGeometryH ring = OGR_G_GetGeometryRef(poly, r);
        int n = OGR_G_GetPointCount(ring);
        counts[r] = (size_t)(n > 0 ? n : 0);
        xs[r] = cs_calloc(counts[r] + 1, sizeof(double));
        ys[r] = cs_calloc(counts[r] + 1, sizeof(double));
        if (!xs[r] || !ys[r]) {
            st = CS_ERR_NOMEM;
            break;
        }
        OGR_G_GetPoints(ring, xs[r], sizeof(double), ys[r], sizeof(double), NULL, 0);
    }
    if (st == CS_OK)
        st = cs_rings_add_polygon(out, (size_t)rings, (const double *const *)xs,
                                  (const double *const *)ys, counts);
    for (int r = 0; xs && ys && r < rings; r++) {
        cs_free(xs[r]);
        cs_free(ys[r]);
    }
    cs_free(xs);
    cs_free(ys);
    cs_free(counts);
    return st;
}

cs_status cs_layer_polygons(cs_context *ctx, cs_layer *l, const char *id, cs_rings *out)
{
    OGRGeometryH g = l->feature ? OGR_F_GetGeometryRef(l->feature) : NULL;
    cs_where w = cs_layer_where(l, id, NULL);
    if (!g || OGR_G_IsEmpty(g))
        return cs_error(ctx, CS_ERR_INPUT, &w, "give the area a polygon or remove it",
                        "no geometry");
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    OGRGeometryH linear = NULL;
    if (t == wkbCurvePolygon || t == wkbMultiSurface) {
        linear = OGR_G_GetLinearGeometry(g, 0, NULL);
        g = linear;
        t = wkbFlatten(OGR_G_GetGeometryType(g));
    }
    cs_status st = CS_OK;
    size_t first_vertex = out->vertex_count;
    if (t == wkbPolygon) {
        st = add_polygon(g, out);
    } else if (t == wkbMultiPolygon) {
        for (int i = 0; st == CS_OK && i < OGR_G_GetGeometryCount(g); i++)
            st = add_polygon(OGR_G_GetGeometryRef(g, i), out);
    } else {
        st = cs_error(ctx, CS_ERR_INPUT, &w, "the areas layer must hold polygons",
                      "geometry is a %s, not a polygon", OGRGeometryTypeToName(t));
    }
    if (linear)
        OGR_G_DestroyGeometry(linear);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st == CS_OK)
        st = check_vertices(ctx, l, id, out->x, out->y, first_vertex, out->vertex_count);
    return st;
}

cs_geom_kind cs_layer_geom_kind(const cs_layer *l)
{
    if (l->geojson)
        return cs_geojson_kind(l->geojson);
    if (l->arrow) {
        double x, y;
        unsigned type;
        return cs_arrow_geometry(l->arrow, &x, &y, &type);
    }
    OGRGeometryH g = l->feature ? OGR_F_GetGeometryRef(l->feature) : NULL;
    if (!g || OGR_G_IsEmpty(g))
        return CS_GEOM_NONE;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    switch (t) {
    case wkbPoint:
    case wkbMultiPoint:
        return CS_GEOM_POINT;
    case wkbLineString:
    case wkbMultiLineString:
    case wkbCircularString:
    case wkbCompoundCurve:
    case wkbMultiCurve:
        return CS_GEOM_LINE;
    case wkbPolygon:
    case wkbMultiPolygon:
    case wkbCurvePolygon:
    case wkbMultiSurface:
    case wkbTriangle:
    case wkbTIN:
    case wkbPolyhedralSurface:
        return CS_GEOM_POLYGON;
    default:
        return CS_GEOM_OTHER;
    }
}

/* Room in out for one more line of n points, which then start at *first; the caller
 * fills them and ends the line (end_line). */
static bool room_for_line(cs_lines *out, size_t n, size_t *line_cap, size_t *vertex_cap,
                          size_t *first)
{
    *first = out->count ? out->start[out->count] : 0;
    size_t cx = *vertex_cap, cy = *vertex_cap, cl = *line_cap;
    if (!cs_grow((void **)&out->x, &cx, *first + n, sizeof *out->x) ||
        !cs_grow((void **)&out->y, &cy, *first + n, sizeof *out->y) ||
        !cs_grow((void **)&out->start, &cl, out->count + 2, sizeof *out->start))
        return false;
    *vertex_cap = cx;
    *line_cap = cl;
    return true;
}

static void end_line(cs_lines *out, size_t first, size_t n, size_t *added)
{
    out->start[out->count] = first;
    out->start[++out->count] = first + n;
    (*added)++;
}

/* Append one linestring (>= 2 points) to out. */
static cs_status add_line(OGRGeometryH line, cs_lines *out, size_t *line_cap, size_t *vertex_cap,
                          size_t *added)
{
    int n = OGR_G_GetPointCount(line);
    size_t first;
    if (n < 2)
        return CS_OK;
    if (!room_for_line(out, (size_t)n, line_cap, vertex_cap, &first))
        return CS_ERR_NOMEM;
    OGR_G_GetPoints(line, out->x + first, sizeof(double), out->y + first, sizeof(double), NULL,
                    0);
    end_line(out, first, (size_t)n, added);
    return CS_OK;
}

/* The GeoJSON reader's lines of the feature (those of 2 points or more) to out. */
static cs_status add_geojson_lines(const cs_geojson_rows *rows, cs_lines *out, size_t *line_cap,
                                   size_t *vertex_cap, size_t *added)
{
    const double *x, *y;
    const size_t *start;
    size_t lines = cs_geojson_lines(rows, &x, &y, &start);
    for (size_t i = 0; i < lines; i++) {
        size_t n = start[i + 1] - start[i], first;
        if (n < 2)
            continue;
        if (!room_for_line(out, n, line_cap, vertex_cap, &first))
            return CS_ERR_NOMEM;
        memcpy(out->x + first, x + start[i], n * sizeof *x);
        memcpy(out->y + first, y + start[i], n * sizeof *y);
        end_line(out, first, n, added);
    }
    return CS_OK;
}

cs_status cs_layer_lines(cs_context *ctx, cs_layer *l, cs_lines *out, size_t *line_cap,
                         size_t *vertex_cap, size_t *added)
{
    *added = 0;
    if (l->geojson) {
        size_t first_vertex = out->count ? out->start[out->count] : 0;
        cs_status st = add_geojson_lines(l->geojson, out, line_cap, vertex_cap, added);
        if (st == CS_OK && *added > 0)
            st = check_vertices(ctx, l, NULL, out->x, out->y, first_vertex,
                                out->start[out->count]);
        return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
    }
    OGRGeometryH g = l->feature ? OGR_F_GetGeometryRef(l->feature) : NULL;
    if (!g || OGR_G_IsEmpty(g))
        return CS_OK;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    OGRGeometryH linear = NULL;
    if (t == wkbCircularString || t == wkbCompoundCurve || t == wkbMultiCurve) {
        linear = OGR_G_GetLinearGeometry(g, 0, NULL);
        g = linear;
        t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
    }
    cs_status st = CS_OK;
    size_t first_vertex = out->count ? out->start[out->count] : 0;
    if (t == wkbLineString)
        st = add_line(g, out, line_cap, vertex_cap, added);
    else if (t == wkbMultiLineString)
        for (int i = 0; st == CS_OK && i < OGR_G_GetGeometryCount(g); i++)
            st = add_line(OGR_G_GetGeometryRef(g, i), out, line_cap, vertex_cap, added);
    if (linear)
        OGR_G_DestroyGeometry(linear);
    if (st == CS_OK && *added > 0)
        st = check_vertices(ctx, l, NULL, out->x, out->y, first_vertex, out->start[out->count]);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}
