/*
 * gpkg.c — a GeoPackage built through GDAL's GPKG driver in a /vsimem/ file, all of it
 * in one transaction (one SQLite commit instead of one per feature, which is what makes
 * it fast), then read back as bytes for the atomic output set.
 */
#include "io/gpkg.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* A value of the feature being filled. The feature itself is made only when it is
 * stored: a layer's definition may still grow while it is filled, and an OGR feature
 * made from the old definition would not follow. */
typedef struct value {
    int field;
    bool text;
    double number;
    size_t at; /* text: offset in texts */
} value;

struct cs_gpkg_layer {
    cs_context *ctx; /* GDAL's messages go to it */
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    value *values;       /* of the feature being filled */
    size_t value_count, value_cap;
    cs_buf texts;        /* their texts, each NUL-terminated */
    cs_buf wkb;          /* its geometry; empty = none */
    int last_field;      /* fields usually come in the same order: try the next first */
    bool failed;         /* a field could not be added */
    bool nomem;          /* memory ran out while filling the feature */
    cs_gpkg_layer *next;
    char *name;
};

struct cs_gpkg {
    char path[96];
    GDALDatasetH ds;
    OGRSpatialReferenceH wgs84;
    cs_gpkg_layer *layers;
};

/* GDAL must not print: its last message is kept for the error this module reports. */
static void CPL_STDCALL keep_message(CPLErr level, CPLErrorNum number, const char *text)
{
    if (number == CPLE_OutOfMemory || cs_message_means_nomem(text))
        cs_note_nomem();
    cs_context *ctx = CPLGetErrorHandlerUserData();
    if (ctx && level >= CE_Warning)
        snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", text);
}

static cs_status gdal_failed(cs_context *ctx, const char *what)
{
    const char *why = CPLGetLastErrorMsg();
    cs_where w = {.file = "careshed.gpkg"};
    return cs_error(ctx, CS_ERR_OUTPUT, &w, "check the free memory and disk space",
                    "the GeoPackage cannot be written: %s%s%s", what, why && *why ? ": " : "",
                    why ? why : "");
}

cs_status cs_gpkg_create(cs_context *ctx, cs_gpkg **out)
{
    if (!ctx || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    static atomic_ulong serial;
    cs_gpkg *g = cs_calloc(1, sizeof *g);
    if (!g)
        return cs_nomem(ctx);
    /* a name of its own per package, so that threads and runs never share one */
    snprintf(g->path, sizeof g->path, "/vsimem/careshed-%p-%lu.gpkg", (void *)g,
             (unsigned long)atomic_fetch_add(&serial, 1));
    cs_status st = CS_OK;
    /* GDAL stamps the package's tables with this date instead of the clock, so that
     * the same run writes the same bytes; cleared when the package is closed */
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", CS_GPKG_DATE);
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (!drv)
        st = gdal_failed(ctx, "GDAL has no GPKG driver");
    if (st == CS_OK && !(g->ds = GDALCreate(drv, g->path, 0, 0, 0, GDT_Unknown, NULL)))
        st = gdal_failed(ctx, "creating it");
    if (st == CS_OK && GDALDatasetStartTransaction(g->ds, FALSE) != OGRERR_NONE)
        st = gdal_failed(ctx, "starting its transaction");
    if (st == CS_OK) {
        g->wgs84 = OSRNewSpatialReference(NULL);
        if (!g->wgs84 || OSRImportFromEPSG(g->wgs84, 4326) != OGRERR_NONE)
            st = gdal_failed(ctx, "EPSG:4326 is unknown");
        else
            OSRSetAxisMappingStrategy(g->wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    }
    CPLPopErrorHandler();
    if (st != CS_OK) {
        cs_gpkg_destroy(g);
        return st;
    }
    *out = g;
    return CS_OK;
}

cs_status cs_gpkg_layer_create(cs_context *ctx, cs_gpkg *g, const char *name,
                               cs_gpkg_geometry geometry, cs_gpkg_layer **out)
{
    if (!ctx || !g || !name || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    static const OGRwkbGeometryType types[] = {
        [CS_GPKG_NONE] = wkbNone,
        [CS_GPKG_POINT] = wkbPoint,
        [CS_GPKG_MULTILINE] = wkbMultiLineString,
        [CS_GPKG_MULTIPOLYGON] = wkbMultiPolygon,
    };
    cs_gpkg_layer *l = cs_calloc(1, sizeof *l);
    if (!l || !(l->name = cs_strdup(name))) {
        cs_free(l);
        return cs_nomem(ctx);
    }
    cs_buf_init(&l->texts);
    cs_buf_init(&l->wkb);
    l->ctx = ctx;
    l->next = g->layers;
    g->layers = l;
    char *options[] = {"GEOMETRY_NAME=geom", "FID=fid", NULL};
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    l->layer = GDALDatasetCreateLayer(g->ds, name, geometry == CS_GPKG_NONE ? NULL : g->wgs84,
                                      types[geometry], options);
    CPLPopErrorHandler();
    if (!l->layer) {
        char what[160];
        snprintf(what, sizeof what, "adding layer %s", name);
        return gdal_failed(ctx, what);
    }
    l->defn = OGR_L_GetLayerDefn(l->layer);
    *out = l;
    return CS_OK;
}

int cs_gpkg_field(cs_gpkg_layer *l, const char *name, cs_field_type type)
{
    int n = OGR_FD_GetFieldCount(l->defn);
    int guess = l->last_field + 1;
    if (guess < n && !strcmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(l->defn, guess)), name))
        return l->last_field = guess;
    int i = OGR_FD_GetFieldIndex(l->defn, name);
    if (i >= 0)
        return l->last_field = i;
    static const OGRFieldType ogr_types[] = {
        [CS_FIELD_REAL] = OFTReal,         [CS_FIELD_INTEGER] = OFTInteger64,
        [CS_FIELD_TEXT] = OFTString,       [CS_FIELD_BOOL] = OFTInteger,
        [CS_FIELD_DATETIME] = OFTDateTime,
    };
    OGRFieldDefnH fd = OGR_Fld_Create(name, ogr_types[type]);
    if (!fd) {
        l->failed = true;
        return -1;
    }
    if (type == CS_FIELD_BOOL)
        OGR_Fld_SetSubType(fd, OFSTBoolean);
    CPLPushErrorHandlerEx(keep_message, l->ctx);
    OGRErr err = OGR_L_CreateField(l->layer, fd, TRUE);
    CPLPopErrorHandler();
    OGR_Fld_Destroy(fd);
    if (err != OGRERR_NONE) {
        l->failed = true;
        return -1;
    }
    return l->last_field = n;
}

void cs_gpkg_feature_begin(cs_gpkg_layer *l)
{
    l->value_count = 0;
    cs_buf_clear(&l->texts);
    cs_buf_clear(&l->wkb);
    l->last_field = -1;
}

static value *add_value(cs_gpkg_layer *l, int field)
{
    if (field < 0)
        return NULL;
    if (!cs_grow((void **)&l->values, &l->value_cap, l->value_count + 1, sizeof *l->values)) {
        l->nomem = true;
        return NULL;
    }
    value *v = &l->values[l->value_count++];
    *v = (value){.field = field};
    return v;
}

void cs_gpkg_set_number(cs_gpkg_layer *l, int field, double v)
{
    value *slot = v == v ? add_value(l, field) : NULL; /* NaN stays null */
    if (slot)
        slot->number = v;
}

void cs_gpkg_set_text(cs_gpkg_layer *l, int field, const char *text)
{
    value *slot = text ? add_value(l, field) : NULL;
    if (!slot)
        return;
    slot->text = true;
    slot->at = l->texts.len;
    cs_buf_addn(&l->texts, text, strlen(text) + 1);
    if (l->texts.failed)
        l->nomem = true;
}

void cs_gpkg_set_wkb(cs_gpkg_layer *l, const unsigned char *wkb, size_t len)
{
    cs_buf_clear(&l->wkb);
    cs_buf_addn(&l->wkb, (const char *)wkb, len);
    if (l->wkb.failed)
        l->nomem = true;
}

/* The OGR feature of the values filled; NULL when GDAL refuses. */
static OGRFeatureH make_feature(cs_gpkg_layer *l)
{
    OGRFeatureH f = OGR_F_Create(l->defn);
    if (!f)
        return NULL;
    for (size_t i = 0; i < l->value_count; i++) {
        const value *v = &l->values[i];
        if (v->text) {
            OGR_F_SetFieldString(f, v->field, l->texts.data + v->at);
            continue;
        }
        OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(l->defn, v->field));
        if (t == OFTInteger64)
            OGR_F_SetFieldInteger64(f, v->field, (GIntBig)v->number);
        else if (t == OFTInteger)
            OGR_F_SetFieldInteger(f, v->field, (int)v->number);
        else
            OGR_F_SetFieldDouble(f, v->field, v->number);
    }
    if (l->wkb.len) {
        OGRGeometryH geom = NULL;
        if (OGR_G_CreateFromWkbEx(l->wkb.data, NULL, &geom, l->wkb.len) != OGRERR_NONE ||
            OGR_F_SetGeometryDirectly(f, geom) != OGRERR_NONE) {
            OGR_G_DestroyGeometry(geom);
            OGR_F_Destroy(f);
            return NULL;
        }
    }
    return f;
}

cs_status cs_gpkg_feature_end(cs_context *ctx, cs_gpkg_layer *l)
{
    if (l->nomem)
        return cs_nomem(ctx);
    if (l->failed) {
        char what[160];
        snprintf(what, sizeof what, "adding a field to layer %s", l->name);
        return gdal_failed(ctx, what);
    }
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    OGRFeatureH f = make_feature(l);
    OGRErr err = f ? OGR_L_CreateFeature(l->layer, f) : OGRERR_FAILURE;
    CPLPopErrorHandler();
    OGR_F_Destroy(f);
    if (err != OGRERR_NONE) {
        char what[160];
        snprintf(what, sizeof what, "storing a feature of layer %s", l->name);
        return gdal_failed(ctx, what);
    }
    return CS_OK;
}

static void free_layers(cs_gpkg *g)
{
    while (g->layers) {
        cs_gpkg_layer *l = g->layers;
        g->layers = l->next;
        cs_free(l->values);
        cs_buf_free(&l->texts);
        cs_buf_free(&l->wkb);
        cs_free(l->name);
        cs_free(l);
    }
}

cs_status cs_gpkg_take(cs_context *ctx, cs_gpkg *g, cs_gpkg_put put, void *user)
{
    if (!ctx || !g || !put)
        return CS_ERR_ARGUMENT;
    cs_status st = CS_OK;
    free_layers(g);
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    if (GDALDatasetCommitTransaction(g->ds) != OGRERR_NONE)
        st = gdal_failed(ctx, "committing its transaction");
    /* GDAL 3.6's GDALClose returns nothing: its error counter says whether it wrote */
    GUInt32 errors_before = CPLGetErrorCounter();
    GDALClose(g->ds);
    g->ds = NULL;
    if (st == CS_OK && CPLGetErrorCounter() != errors_before && CPLGetLastErrorType() >= CE_Failure)
        st = gdal_failed(ctx, "closing it");
    CPLPopErrorHandler();
    vsi_l_offset len = 0;
    GByte *bytes = st == CS_OK ? VSIGetMemFileBuffer(g->path, &len, FALSE) : NULL;
    if (st == CS_OK && !bytes)
        st = gdal_failed(ctx, "reading it back");
    if (st == CS_OK)
        st = put(user, bytes, (size_t)len);
    cs_gpkg_destroy(g);
    return st;
}

void cs_gpkg_destroy(cs_gpkg *g)
{
    if (!g)
        return;
    free_layers(g);
    if (g->ds) {
        CPLPushErrorHandlerEx(keep_message, NULL);
        GDALDatasetRollbackTransaction(g->ds);
        GDALClose(g->ds);
        CPLPopErrorHandler();
    }
    if (g->wgs84)
        OSRDestroySpatialReference(g->wgs84);
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL);
    VSIUnlink(g->path);
    /* SQLite may leave a journal beside it */
    char journal[112];
    snprintf(journal, sizeof journal, "%s-journal", g->path);
    VSIUnlink(journal);
    cs_free(g);
}
