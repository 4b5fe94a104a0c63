/*
 * arrow.c — a point layer's rows through GDAL's Arrow stream (arrow.h). GDAL fills a
 * batch of columns at a time (65,536 rows by default) from its own reader, without an
 * OGRFeature per row: a GeoPackage of two million points is read in a third of the
 * time. Columns are read in place: the Arrow C data interface's buffers (validity
 * bitmap, values; offsets and bytes for text and WKB geometries).
 */
#include "io/arrow.h"

#include <cpl_string.h>
#include <math.h>
#include <ogr_recordbatch.h>
#include <stdio.h>
#include <string.h>

typedef enum column_kind { COL_NONE, COL_INT16, COL_INT32, COL_INT64, COL_FLOAT32, COL_FLOAT64,
                           COL_TEXT } column_kind;

struct cs_arrow_rows {
    cs_context *ctx;
    const char *display;
    struct ArrowArrayStream stream;
    struct ArrowArray batch; /* release == NULL: none held */
    int64_t row;             /* in batch */
    long rows_read;
    int field_count;
    int *child;              /* per field: its column in the batch, -1 when absent */
    column_kind *kind;       /* per field */
    int geometry;            /* the geometry's column */
    char **texts;            /* per field: the row's text, when asked for */
    size_t *text_cap;
    cs_status st;
};

bool cs_arrow_suits(OGRLayerH layer, OGRFeatureDefnH defn)
{
    if (OGR_FD_GetGeomFieldCount(defn) != 1)
        return false;
    OGRwkbGeometryType t = wkbFlatten(OGR_L_GetGeomType(layer));
    if (t != wkbPoint && t != wkbMultiPoint)
        return false;
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
        OGRFieldType ft = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i));
        if (ft != OFTInteger && ft != OFTInteger64 && ft != OFTReal && ft != OFTString)
            return false;
        if (OGR_Fld_GetSubType(OGR_FD_GetFieldDefn(defn, i)) == OFSTBoolean)
            return false;
    }
    return true;
}

static column_kind kind_of(const char *format)
{
    static const struct {
        const char *format;
        column_kind kind;
    } kinds[] = {{"s", COL_INT16},   {"i", COL_INT32},   {"l", COL_INT64},
                 {"f", COL_FLOAT32}, {"g", COL_FLOAT64}, {"u", COL_TEXT}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (!strcmp(format, kinds[k].format))
            return kinds[k].kind;
    return COL_NONE;
}

/* Map the stream's columns to the fields, by name; false when one is not as expected. */
static bool map_columns(cs_arrow_rows *r, OGRFeatureDefnH defn, const struct ArrowSchema *s)
{
    const char *geom_name = OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(defn, 0));
    for (int i = 0; i < r->field_count; i++)
        r->child[i] = -1;
    r->geometry = -1;
    for (int64_t c = 0; c < s->n_children; c++) {
        const struct ArrowSchema *col = s->children[c];
        int field = OGR_FD_GetFieldIndex(defn, col->name);
        if (field >= 0 && r->child[field] < 0) {
            r->child[field] = (int)c;
            r->kind[field] = kind_of(col->format);
            if (r->kind[field] == COL_NONE)
                return false;
        } else if (!strcmp(col->format, "z") && (r->geometry < 0 || !strcmp(col->name, geom_name))) {
            r->geometry = (int)c;
        }
    }
    return r->geometry >= 0;
}

cs_status cs_arrow_open(cs_context *ctx, OGRLayerH layer, OGRFeatureDefnH defn,
                        const char *display, cs_arrow_rows **out)
{
    *out = NULL;
    cs_arrow_rows *r = cs_calloc(1, sizeof *r);
    int n = OGR_FD_GetFieldCount(defn);
    if (!r || !(r->child = cs_calloc((size_t)n + 1, sizeof *r->child)) ||
        !(r->kind = cs_calloc((size_t)n + 1, sizeof *r->kind)) ||
        !(r->texts = cs_calloc((size_t)n + 1, sizeof *r->texts)) ||
        !(r->text_cap = cs_calloc((size_t)n + 1, sizeof *r->text_cap))) {
        cs_arrow_close(r);
        return cs_nomem(ctx);
    }
    r->ctx = ctx;
    r->display = display;
    r->field_count = n;
    r->row = -1;
    /* the geometry as plain WKB; the FID is not wanted */
    char **options = CSLSetNameValue(NULL, "INCLUDE_FID", "NO");
    options = CSLSetNameValue(options, "GEOMETRY_ENCODING", "WKB");
    bool streaming = OGR_L_GetArrowStream(layer, &r->stream, options);
    CSLDestroy(options);
    struct ArrowSchema schema = {0};
    bool ok = streaming && r->stream.get_schema(&r->stream, &schema) == 0;
    ok = ok && map_columns(r, defn, &schema);
    if (schema.release)
        schema.release(&schema);
    if (!ok) {
        cs_arrow_close(r);
        OGR_L_ResetReading(layer);
        return CS_OK;
    }
    *out = r;
    return CS_OK;
}

bool cs_arrow_next(cs_arrow_rows *r)
{
    while (r->st == CS_OK && (!r->batch.release || r->row + 1 >= r->batch.length)) {
        if (r->batch.release)
            r->batch.release(&r->batch);
        memset(&r->batch, 0, sizeof r->batch);
        r->row = -1;
        if (r->stream.get_next(&r->stream, &r->batch) != 0) {
            const char *why = r->stream.get_last_error(&r->stream);
            cs_where w = {.file = r->display, .feature = r->rows_read + 1};
            r->st = cs_error(r->ctx, CS_ERR_INPUT, &w, "check that the file is whole: copy it "
                             "again, or open it in QGIS", "reading stopped here: %s",
                             why ? why : "");
            if (r->batch.release)
                r->batch.release(&r->batch);
            memset(&r->batch, 0, sizeof r->batch);
        }
        if (!r->batch.release)
            return false; /* the end, or the error above */
    }
    if (r->st != CS_OK)
        return false;
    r->row++;
    r->rows_read++;
    return true;
}

cs_status cs_arrow_status(const cs_arrow_rows *r) { return r->st; }

void cs_arrow_close(cs_arrow_rows *r)
{
    if (!r)
        return;
    if (r->batch.release)
        r->batch.release(&r->batch);
    if (r->stream.release)
        r->stream.release(&r->stream);
    for (int i = 0; r->texts && i < r->field_count; i++)
        cs_free(r->texts[i]);
    cs_free(r->texts);
    cs_free(r->text_cap);
    cs_free(r->child);
    cs_free(r->kind);
    cs_free(r);
}

/* The batch's column c, and the current row's index in its buffers. */
static const struct ArrowArray *column(const cs_arrow_rows *r, int c, int64_t *at)
{
    const struct ArrowArray *a = r->batch.children[c];
    *at = a->offset + r->batch.offset + r->row;
    return a;
}

static bool valid(const struct ArrowArray *a, int64_t at)
{
    const uint8_t *bits = a->buffers[0];
    return !bits || a->null_count == 0 || (bits[at / 8] >> (at % 8)) & 1;
}

bool cs_arrow_has(const cs_arrow_rows *r, int field)
{
    if (field < 0 || field >= r->field_count || r->child[field] < 0)
        return false;
    int64_t at;
    const struct ArrowArray *a = column(r, r->child[field], &at);
    return valid(a, at);
}

bool cs_arrow_is_number(const cs_arrow_rows *r, int field)
{
    return r->kind[field] != COL_TEXT;
}

double cs_arrow_number(const cs_arrow_rows *r, int field)
{
    int64_t at;
    const struct ArrowArray *a = column(r, r->child[field], &at);
    const void *v = a->buffers[1];
    switch (r->kind[field]) {
    case COL_INT16: return ((const int16_t *)v)[at];
    case COL_INT32: return ((const int32_t *)v)[at];
    case COL_INT64: return (double)((const int64_t *)v)[at];
    case COL_FLOAT32: return ((const float *)v)[at];
    case COL_FLOAT64: return ((const double *)v)[at];
    default: return NAN;
    }
}

/* Room for n + 1 bytes of field's text. */
static char *text_room(cs_arrow_rows *r, int field, size_t n)
{
    if (n + 1 > r->text_cap[field]) {
        size_t cap = n + 1 > 64 ? n + 1 : 64;
        char *t = cs_realloc(r->texts[field], cap);
        if (!t) {
            cs_nomem(r->ctx);
            return NULL;
        }
        r->texts[field] = t;
        r->text_cap[field] = cap;
    }
    return r->texts[field];
}

const char *cs_arrow_text(cs_arrow_rows *r, int field)
{
    if (!cs_arrow_has(r, field))
        return "";
    int64_t at;
    const struct ArrowArray *a = column(r, r->child[field], &at);
    if (r->kind[field] == COL_TEXT) {
        const int32_t *off = a->buffers[1];
        const char *bytes = a->buffers[2];
        size_t n = (size_t)(off[at + 1] - off[at]);
        char *t = text_room(r, field, n);
        if (!t)
            return "";
        memcpy(t, bytes + off[at], n);
        t[n] = '\0';
        return t;
    }
    char *t = text_room(r, field, 32);
    if (!t)
        return "";
    double v = cs_arrow_number(r, field);
    if (r->kind[field] == COL_FLOAT32 || r->kind[field] == COL_FLOAT64)
        snprintf(t, 32, "%.15g", v);
    else
        snprintf(t, 32, "%lld", r->kind[field] == COL_INT64
                                    ? (long long)((const int64_t *)a->buffers[1])[at]
                                    : (long long)v);
    return t;
}

/* A WKB unsigned 32-bit integer or double, in the byte order little (else big). */
static uint32_t wkb_u32(const unsigned char *p, bool little)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[little ? i : 3 - i] << (8 * i);
    return v;
}

static double wkb_f64(const unsigned char *p, bool little)
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* The flat geometry type of a WKB type: ISO (1001 point Z...) or with GDAL's 2.5D bit. */
static unsigned flat_type(uint32_t t)
{
    t &= ~0xE0000000u; /* EWKB/2.5D flags */
    return t % 1000;
}

cs_geom_kind cs_arrow_geometry(const cs_arrow_rows *r, double *x, double *y, unsigned *type)
{
    *x = *y = NAN;
    *type = 0;
    int64_t at;
    const struct ArrowArray *a = column(r, r->geometry, &at);
    if (!valid(a, at))
        return CS_GEOM_NONE;
    const int32_t *off = a->buffers[1];
    const unsigned char *p = (const unsigned char *)a->buffers[2] + off[at];
    size_t n = (size_t)(off[at + 1] - off[at]);
    if (n < 5)
        return CS_GEOM_NONE;
    bool little = p[0] == 1;
    *type = flat_type(wkb_u32(p + 1, little));
    if (*type == wkbMultiPoint && n >= 9 + 5 && wkb_u32(p + 5, little) == 1) {
        p += 9; /* its one point */
        n -= 9;
        little = p[0] == 1;
        *type = flat_type(wkb_u32(p + 1, little));
    }
    if (*type == wkbPoint) {
        if (n < 21)
            return CS_GEOM_NONE;
        *x = wkb_f64(p + 5, little);
        *y = wkb_f64(p + 13, little);
        return isnan(*x) && isnan(*y) ? CS_GEOM_NONE : CS_GEOM_POINT; /* NaN, NaN: empty */
    }
    if (*type == wkbMultiPoint && n >= 9 && wkb_u32(p + 5, little) == 0)
        return CS_GEOM_NONE;
    switch (*type) {
    case wkbLineString:
    case wkbMultiLineString: return CS_GEOM_LINE;
    case wkbPolygon:
    case wkbMultiPolygon: return CS_GEOM_POLYGON;
    case wkbMultiPoint: return CS_GEOM_POINT; /* of several points: *type says so */
    default: return CS_GEOM_OTHER;
    }
}
