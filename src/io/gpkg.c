/*
 * gpkg.c — a GeoPackage built through GDAL's GPKG driver in its file of the output set,
 * all of it in one transaction (one SQLite commit instead of one per feature, which is
 * what makes it fast). SQLite writes it in place, spilling pages as its small cache
 * fills, so a package of hundreds of megabytes is never held in memory; its journal is
 * kept in memory and nothing is flushed to disk (the output set flushes the file at its
 * commit, and a run that fails drops it).
 *
 * GDAL's side runs on a thread of its own. Making an OGR feature of each geometry and
 * storing it in SQLite costs about as much as building the layers themselves (at the
 * large scale along the network, 1.1 s of the write stage), so the caller only writes
 * down what it asks for — layers, fields, features — in batches, and the package's
 * thread replays them in order while the caller builds the next layer. Only that thread
 * touches the dataset between cs_gpkg_create and cs_gpkg_close, so GDAL is never used
 * from two threads at once. A field's index is given by the caller's side (the fields
 * of a layer in the order first asked for, as GDAL numbers them), so nothing waits for
 * GDAL's answer. With one thread (--threads 1), or when no thread can be started, each
 * request is replayed at once on the caller's thread and its error returned there.
 *
 * Errors on the package's thread stop the replay; the caller learns the status at its
 * next feature, and the message with the package's thread's others when the package is
 * closed or destroyed.
 */
#include "io/gpkg.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A value of the feature being filled. The feature itself is made only when it is
 * stored: a layer's definition may still grow while it is filled, and an OGR feature
 * made from the old definition would not follow. */
typedef struct value {
    int field;
    bool text;
    double number;
    size_t at; /* text: offset in the feature's texts */
} value;

struct cs_gpkg_layer {
    cs_gpkg *g;
    char *name;
    /* the caller's side */
    char **fields;       /* their names, in GDAL's order */
    size_t field_count, field_cap;
    int last_field;      /* fields usually come in the same order: try the next first */
    value *values;       /* of the feature being filled */
    size_t value_count, value_cap;
    cs_buf texts;        /* their texts, each NUL-terminated */
    const unsigned char *wkb; /* its geometry (borrowed until stored); NULL = none */
    size_t wkb_len;
    bool nomem;          /* memory ran out while filling the feature */
    /* the package's thread */
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    cs_gpkg_layer *next;
};

/* A batch of requests, handed to the package's thread as a whole. */
typedef struct batch {
    cs_buf bytes;
    struct batch *next;
} batch;

struct cs_gpkg {
    char *path;
    bool made;            /* its file created and not yet complete: removed if dropped */
    GDALDatasetH ds;
    OGRSpatialReferenceH wgs84;
    cs_gpkg_layer *layers;
    cs_context *ctx;      /* the creator's: the thread's messages are absorbed into it */
    /* the requests written down, not yet handed over */
    batch *filling;
    /* the hand-over */
    cs_helper helper;     /* its context receives GDAL's messages */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    batch *queue, *queue_end, *spare;
    size_t queued_bytes;
    bool closing;         /* no more batches: the thread ends once the queue is empty */
    atomic_int status;    /* the first failure on the package's thread, CS_OK before */
};

/* A batch is handed over from this size; the caller waits while this much is queued. */
#define BATCH_BYTES ((size_t)1 << 20)
#define QUEUED_MAX ((size_t)64 << 20)
/* A spare batch keeps at most this much memory. */
#define SPARE_MAX (4 * BATCH_BYTES)

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
    return cs_error(ctx, CS_ERR_OUTPUT, &w,
                    "free some disk space, or choose another --out folder",
                    "the GeoPackage cannot be written: %s%s%s", what, why && *why ? ": " : "",
                    why ? why : "");
}

/* ------------------------------------------------------------ the requests */

typedef enum request_kind { ADD_LAYER, ADD_FIELD, ADD_FEATURE } request_kind;

/* A request as written in a batch; its values, texts and geometry follow it, each part
 * padded to 8 bytes. */
typedef struct request {
    request_kind kind;
    int number;         /* ADD_LAYER: the geometry; ADD_FIELD: the field's index and
                         * type (below); ADD_FEATURE: the value count */
    cs_field_type type;
    cs_gpkg_layer *layer;
    size_t values_len;  /* ADD_FEATURE: its values' bytes */
    size_t text_len;    /* the name (ADD_LAYER, ADD_FIELD) or the feature's texts */
    size_t wkb_len;
} request;

#define PADDED(n) (((n) + 7) & ~(size_t)7)

static const OGRwkbGeometryType geometry_types[] = {
    [CS_GPKG_NONE] = wkbNone,
    [CS_GPKG_POINT] = wkbPoint,
    [CS_GPKG_MULTILINE] = wkbMultiLineString,
    [CS_GPKG_MULTIPOLYGON] = wkbMultiPolygon,
};

static cs_status apply_layer(cs_context *ctx, cs_gpkg *g, const request *r, const char *name)
{
    cs_gpkg_layer *l = r->layer;
    char *options[] = {"GEOMETRY_NAME=geom", "FID=fid", NULL};
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    l->layer = GDALDatasetCreateLayer(g->ds, name, r->number == CS_GPKG_NONE ? NULL : g->wgs84,
                                      geometry_types[r->number], options);
    CPLPopErrorHandler();
    if (!l->layer) {
        char what[160];
        snprintf(what, sizeof what, "adding layer %s", name);
        return gdal_failed(ctx, what);
    }
    l->defn = OGR_L_GetLayerDefn(l->layer);
    return CS_OK;
}

static cs_status apply_field(cs_context *ctx, const request *r, const char *name)
{
    static const OGRFieldType ogr_types[] = {
        [CS_FIELD_REAL] = OFTReal,         [CS_FIELD_INTEGER] = OFTInteger64,
        [CS_FIELD_TEXT] = OFTString,       [CS_FIELD_BOOL] = OFTInteger,
        [CS_FIELD_DATETIME] = OFTDateTime,
    };
    cs_gpkg_layer *l = r->layer;
    OGRFieldDefnH fd = OGR_Fld_Create(name, ogr_types[r->type]);
    OGRErr err = OGRERR_FAILURE;
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    if (fd) {
        if (r->type == CS_FIELD_BOOL)
            OGR_Fld_SetSubType(fd, OFSTBoolean);
        err = OGR_L_CreateField(l->layer, fd, TRUE);
        OGR_Fld_Destroy(fd);
    }
    CPLPopErrorHandler();
    /* the caller numbered it as the next field: GDAL must agree */
    if (err != OGRERR_NONE || OGR_FD_GetFieldCount(l->defn) != r->number + 1) {
        char what[200];
        snprintf(what, sizeof what, "adding field %s to layer %s", name, l->name);
        return gdal_failed(ctx, what);
    }
    return CS_OK;
}

/* The OGR feature of the values; NULL when GDAL refuses. */
static OGRFeatureH make_feature(const cs_gpkg_layer *l, const value *values, size_t n,
                                const char *texts, const unsigned char *wkb, size_t wkb_len)
{
    OGRFeatureH f = OGR_F_Create(l->defn);
    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const value *v = &values[i];
        if (v->text) {
            OGR_F_SetFieldString(f, v->field, texts + v->at);
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
    if (wkb_len) {
        OGRGeometryH geom = NULL;
        if (OGR_G_CreateFromWkbEx(wkb, NULL, &geom, wkb_len) != OGRERR_NONE ||
            OGR_F_SetGeometryDirectly(f, geom) != OGRERR_NONE) {
            OGR_G_DestroyGeometry(geom);
            OGR_F_Destroy(f);
            return NULL;
        }
    }
    return f;
}

static cs_status apply_feature(cs_context *ctx, const request *r, const char *payload)
{
    const cs_gpkg_layer *l = r->layer;
    const value *values = (const value *)payload;
    const char *texts = payload + PADDED(r->values_len);
    const unsigned char *wkb = (const unsigned char *)texts + PADDED(r->text_len);
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    OGRFeatureH f = make_feature(l, values, (size_t)r->number, texts, wkb, r->wkb_len);
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

/* Replay a batch's requests in order, until one fails; its status. */
static cs_status apply_batch(cs_context *ctx, cs_gpkg *g, const cs_buf *b)
{
    cs_status st = CS_OK;
    for (size_t at = 0; st == CS_OK && at < b->len;) {
        const request *r = (const request *)(b->data + at);
        const char *payload = b->data + at + PADDED(sizeof *r);
        switch (r->kind) {
        case ADD_LAYER: st = apply_layer(ctx, g, r, payload); break;
        case ADD_FIELD: st = apply_field(ctx, r, payload); break;
        case ADD_FEATURE: st = apply_feature(ctx, r, payload); break;
        }
        at += PADDED(sizeof *r) + PADDED(r->values_len) + PADDED(r->text_len) +
              PADDED(r->wkb_len);
    }
    if (st == CS_ERR_NOMEM)
        st = cs_nomem(ctx);
    return st;
}

/* ------------------------------------------------------------ the hand-over */

static void *package_thread(void *arg)
{
    cs_gpkg *g = arg;
    cs_context *ctx = g->helper.ctx;
    /* the tables' date is a thread's setting: this thread makes the layers */
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", CS_GPKG_DATE);
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (!g->queue && !g->closing)
            pthread_cond_wait(&g->changed, &g->lock);
        batch *b = g->queue;
        if (!b)
            break;
        g->queue = b->next;
        if (!g->queue)
            g->queue_end = NULL;
        pthread_mutex_unlock(&g->lock);
        if (atomic_load(&g->status) == CS_OK) {
            cs_status st = apply_batch(ctx, g, &b->bytes);
            if (st != CS_OK)
                atomic_store(&g->status, st);
        }
        pthread_mutex_lock(&g->lock);
        g->queued_bytes -= b->bytes.len;
        /* a batch grown far past its size by one large feature (a province's service
         * area: 130 MB) gives its memory back rather than keep it among the spares */
        if (b->bytes.cap > SPARE_MAX)
            cs_buf_free(&b->bytes);
        else
            cs_buf_clear(&b->bytes);
        b->next = g->spare;
        g->spare = b;
        pthread_cond_broadcast(&g->changed);
    }
    pthread_mutex_unlock(&g->lock);
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL);
    return NULL;
}

/* Hand the batch being filled to the package's thread (waiting while too much is
 * queued), or replay it here when there is no such thread; the package's status. */
static cs_status hand_over(cs_gpkg *g)
{
    batch *b = g->filling;
    if (!b || b->bytes.len == 0)
        return atomic_load(&g->status);
    if (atomic_load(&g->status) != CS_OK) { /* nothing more is stored */
        cs_buf_clear(&b->bytes);
        return atomic_load(&g->status);
    }
    g->filling = NULL;
    if (!g->helper.on_thread) {
        cs_status st = apply_batch(g->ctx, g, &b->bytes);
        if (st != CS_OK)
            atomic_store(&g->status, st);
        cs_buf_clear(&b->bytes);
        g->filling = b;
        return atomic_load(&g->status);
    }
    pthread_mutex_lock(&g->lock);
    while (g->queued_bytes > QUEUED_MAX)
        pthread_cond_wait(&g->changed, &g->lock);
    b->next = NULL;
    if (g->queue_end)
        g->queue_end->next = b;
    else
        g->queue = b;
    g->queue_end = b;
    g->queued_bytes += b->bytes.len;
    if (g->spare) { /* a batch the package's thread is done with */
        g->filling = g->spare;
        g->spare = g->spare->next;
        g->filling->next = NULL;
    }
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return atomic_load(&g->status);
}

/* Room for a request with parts of these sizes in the batch being filled; NULL without
 * memory. The parts are written by the caller at the offsets returned. */
static request *add_request(cs_gpkg *g, request_kind kind, cs_gpkg_layer *l,
                            size_t values_len, size_t text_len, size_t wkb_len)
{
    if (!g->filling && !(g->filling = cs_calloc(1, sizeof *g->filling)))
        return NULL;
    cs_buf *b = &g->filling->bytes;
    size_t size = PADDED(sizeof(request)) + PADDED(values_len) + PADDED(text_len) +
                  PADDED(wkb_len);
    if (!cs_buf_reserve(b, size))
        return NULL;
    request *r = (request *)(b->data + b->len);
    memset(r, 0, size);
    *r = (request){.kind = kind, .layer = l, .values_len = values_len, .text_len = text_len,
                   .wkb_len = wkb_len};
    b->len += size;
    return r;
}

/* The request's parts: values, then texts, then geometry. */
enum { VALUES, TEXTS, GEOMETRY };
static char *part(request *r, int which)
{
    char *p = (char *)r + PADDED(sizeof *r);
    if (which > VALUES)
        p += PADDED(r->values_len);
    if (which > TEXTS)
        p += PADDED(r->text_len);
    return p;
}

/* After a request: hand the batch over when it is full, or at once without a thread
 * (so that an error is returned to its caller); the package's status. */
static cs_status requested(cs_gpkg *g)
{
    if (!g->helper.on_thread || g->filling->bytes.len >= BATCH_BYTES)
        return hand_over(g);
    return atomic_load(&g->status);
}

/* Close the hand-over: the package's thread replays what is queued and ends; its
 * messages join the creator's context. The package's status. */
static cs_status finish(cs_gpkg *g)
{
    cs_status st = hand_over(g);
    if (g->helper.on_thread) {
        pthread_mutex_lock(&g->lock);
        g->closing = true;
        pthread_cond_broadcast(&g->changed);
        pthread_mutex_unlock(&g->lock);
        cs_helper_join(g->ctx, &g->helper);
        st = atomic_load(&g->status);
    }
    return st;
}

/* ------------------------------------------------------------ the package */

static void free_batches(batch *b)
{
    while (b) {
        batch *next = b->next;
        cs_buf_free(&b->bytes);
        cs_free(b);
        b = next;
    }
}

static cs_status open_dataset(cs_context *ctx, cs_gpkg *g)
{
    cs_status st = CS_OK;
    /* GDAL stamps the package's tables with this date instead of the clock, so that
     * the same run writes the same bytes; cleared when the package is closed */
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", CS_GPKG_DATE);
    /* a journal in memory (none beside the file) and no flush: see the top */
    CPLSetThreadLocalConfigOption("OGR_SQLITE_JOURNAL", "MEMORY");
    CPLSetThreadLocalConfigOption("OGR_SQLITE_SYNCHRONOUS", "OFF");
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (!drv)
        st = gdal_failed(ctx, "GDAL has no GPKG driver");
    if (st == CS_OK && !(g->ds = GDALCreate(drv, g->path, 0, 0, 0, GDT_Unknown, NULL)))
        st = gdal_failed(ctx, "creating it");
    g->made = g->ds != NULL;
    CPLSetThreadLocalConfigOption("OGR_SQLITE_JOURNAL", NULL);
    CPLSetThreadLocalConfigOption("OGR_SQLITE_SYNCHRONOUS", NULL);
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
    return st;
}

cs_status cs_gpkg_create(cs_context *ctx, const char *path, cs_gpkg **out)
{
    if (!ctx || !path || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_gpkg *g = cs_calloc(1, sizeof *g);
    if (g && !(g->path = cs_strdup(path))) {
        cs_free(g);
        g = NULL;
    }
    if (!g)
        return cs_nomem(ctx);
    g->ctx = ctx;
    g->helper.ctx = ctx;
    atomic_init(&g->status, CS_OK);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    cs_status st = open_dataset(ctx, g);
    if (st == CS_OK && !(g->filling = cs_calloc(1, sizeof *g->filling)))
        st = cs_nomem(ctx);
    if (st != CS_OK) {
        cs_gpkg_destroy(g);
        return st;
    }
    /* from here on only the package's thread uses the dataset, until it is joined */
    cs_helper_start(ctx, &g->helper, package_thread, g);
    *out = g;
    return CS_OK;
}

cs_status cs_gpkg_layer_create(cs_context *ctx, cs_gpkg *g, const char *name,
                               cs_gpkg_geometry geometry, cs_gpkg_layer **out)
{
    if (!ctx || !g || !name || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_gpkg_layer *l = cs_calloc(1, sizeof *l);
    if (!l || !(l->name = cs_strdup(name))) {
        cs_free(l);
        return cs_nomem(ctx);
    }
    cs_buf_init(&l->texts);
    l->g = g;
    l->last_field = -1;
    l->next = g->layers;
    g->layers = l;
    size_t len = strlen(name) + 1;
    request *r = add_request(g, ADD_LAYER, l, 0, len, 0);
    if (!r)
        return cs_nomem(ctx);
    r->number = (int)geometry;
    memcpy(part(r, TEXTS), name, len);
    cs_status st = requested(g);
    if (st != CS_OK)
        return st;
    *out = l;
    return CS_OK;
}

int cs_gpkg_field(cs_gpkg_layer *l, const char *name, cs_field_type type)
{
    int n = (int)l->field_count, guess = l->last_field + 1;
    /* GDAL's names ignore ASCII case */
    if (guess < n && !strcasecmp(l->fields[guess], name))
        return l->last_field = guess;
    for (int i = 0; i < n; i++)
        if (!strcasecmp(l->fields[i], name))
            return l->last_field = i;
    size_t len = strlen(name) + 1;
    char *copy = cs_strdup(name);
    request *r = copy && cs_grow((void **)&l->fields, &l->field_cap, l->field_count + 1,
                                 sizeof *l->fields)
                     ? add_request(l->g, ADD_FIELD, l, 0, len, 0)
                     : NULL;
    if (!r) {
        cs_free(copy);
        l->nomem = true;
        return -1;
    }
    l->fields[l->field_count++] = copy;
    r->number = n;
    r->type = type;
    memcpy(part(r, TEXTS), name, len);
    requested(l->g); /* a failure is the next feature's to report */
    return l->last_field = n;
}

void cs_gpkg_feature_begin(cs_gpkg_layer *l)
{
    l->value_count = 0;
    cs_buf_clear(&l->texts);
    l->wkb = NULL;
    l->wkb_len = 0;
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
    l->wkb = len ? wkb : NULL;
    l->wkb_len = len;
}

cs_status cs_gpkg_feature_end(cs_context *ctx, cs_gpkg_layer *l)
{
    if (l->nomem)
        return cs_nomem(ctx);
    size_t values_len = l->value_count * sizeof *l->values;
    request *r = add_request(l->g, ADD_FEATURE, l, values_len, l->texts.len, l->wkb_len);
    if (!r)
        return cs_nomem(ctx);
    r->number = (int)l->value_count;
    if (values_len)
        memcpy(part(r, VALUES), l->values, values_len);
    if (l->texts.len)
        memcpy(part(r, TEXTS), l->texts.data, l->texts.len);
    if (l->wkb_len)
        memcpy(part(r, GEOMETRY), l->wkb, l->wkb_len);
    l->wkb = NULL;
    return requested(l->g);
}

static void free_layers(cs_gpkg *g)
{
    while (g->layers) {
        cs_gpkg_layer *l = g->layers;
        g->layers = l->next;
        for (size_t i = 0; i < l->field_count; i++)
            cs_free(l->fields[i]);
        cs_free(l->fields);
        cs_free(l->values);
        cs_buf_free(&l->texts);
        cs_free(l->name);
        cs_free(l);
    }
}

cs_status cs_gpkg_close(cs_context *ctx, cs_gpkg *g)
{
    if (!ctx || !g)
        return CS_ERR_ARGUMENT;
    cs_status st = finish(g);
    free_layers(g);
    CPLPushErrorHandlerEx(keep_message, ctx);
    CPLErrorReset();
    if (st == CS_OK && GDALDatasetCommitTransaction(g->ds) != OGRERR_NONE)
        st = gdal_failed(ctx, "committing its transaction");
    /* GDAL 3.6's GDALClose returns nothing: its error counter says whether it wrote */
    GUInt32 errors_before = CPLGetErrorCounter();
    if (st == CS_OK) {
        GDALClose(g->ds);
        g->ds = NULL;
    }
    if (st == CS_OK && CPLGetErrorCounter() != errors_before && CPLGetLastErrorType() >= CE_Failure)
        st = gdal_failed(ctx, "closing it");
    CPLPopErrorHandler();
    g->made = g->made && st != CS_OK; /* complete: kept */
    cs_gpkg_destroy(g);
    return st;
}

void cs_gpkg_destroy(cs_gpkg *g)
{
    if (!g)
        return;
    int ok = CS_OK; /* dropped: what is still queued is not stored */
    atomic_compare_exchange_strong(&g->status, &ok, CS_ERR_OUTPUT);
    finish(g);
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
    if (g->made)
        VSIUnlink(g->path);
    cs_free(g->path);
    free_batches(g->filling);
    free_batches(g->queue);
    free_batches(g->spare);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->changed);
    cs_free(g);
}
