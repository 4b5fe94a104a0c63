/*
 * network_copy.c — a network file without a spatial index copied once to a GeoPackage
 * with one (io/load.h), for careshed shard: when the network's lines do not fit
 * shard.network_memory_mb, the cut reads them again each time its windows need lines it
 * does not hold, and a file without an index is parsed whole each time (the province's
 * 16 shards read its GeoJSON 39 times). The copy is read by window through its index.
 *
 * The file is opened as the reader opens it (cs_layer_open_options), so the copy's text
 * is the bytes the reader would get from the file: a Shapefile read as raw bytes stays
 * raw (GeoPackage keeps them, with a warning GDAL gives here), and the copy is read with
 * the study's encoding, converted as the file's text is. The copy keeps the features in
 * the file's order, numbered 1, 2, ... (ogr2ogr -unsetFid), in a folder of its own under
 * $TMPDIR, which goes with the study. A KML that the reader converts to UTF-8 before GDAL
 * reads it (io/kml.h) is converted so here too, and its copy is read as UTF-8.
 */
#include "io/kml.h"
#include "io/layer.h"
#include "io/load.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <errno.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_NAME "network.gpkg"
#define COPY_FID "FID=careshed_fid" /* the copy's FID column, as a creation option */

/* ------------------------------------------------- the copies, for a signal */

/* The copies not removed yet, each with SQLite's files beside it, named in full when
 * made so that cs_remove_scratch, in a signal handler, only unlinks. A slot is free (0),
 * being filled (1) or held (2). */
#define SCRATCH_SLOTS 8
static const char *const sqlite_ends[] = {"", "-journal", "-wal", "-shm"};
#define SCRATCH_FILES (sizeof sqlite_ends / sizeof *sqlite_ends)
static struct {
    char file[SCRATCH_FILES][PATH_MAX];
    char dir[PATH_MAX];
} scratch[SCRATCH_SLOTS];
static atomic_int scratch_state[SCRATCH_SLOTS];

/* The copy noted for cs_remove_scratch; its slot + 1, or 0 when none is free. */
static int note_scratch(const cs_net_copy *c)
{
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        int free_slot = 0;
        if (!atomic_compare_exchange_strong(&scratch_state[i], &free_slot, 1))
            continue;
        snprintf(scratch[i].dir, PATH_MAX, "%s", c->dir);
        for (size_t f = 0; f < SCRATCH_FILES; f++)
            snprintf(scratch[i].file[f], PATH_MAX, "%s%s", c->path, sqlite_ends[f]);
        atomic_store(&scratch_state[i], 2);
        return i + 1;
    }
    return 0;
}

void cs_remove_scratch(void)
{
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        if (atomic_load(&scratch_state[i]) != 2)
            continue;
        for (size_t f = 0; f < SCRATCH_FILES; f++)
            unlink(scratch[i].file[f]);
        rmdir(scratch[i].dir);
        atomic_store(&scratch_state[i], 0);
    }
}

/* ------------------------------------------------------------- the copy */

/* GDAL's first error message, kept in why (those after it follow from it). */
static void keep_first(CPLErr level, CPLErrorNum no, const char *msg)
{
    (void)no;
    char *why = CPLGetErrorHandlerUserData();
    if (level >= CE_Failure && why && !*why && msg)
        snprintf(why, 256, "%s", msg);
}

/* Where scratch folders go: $TMPDIR, else /tmp. */
static const char *scratch_root(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

/* The folder for the copy under scratch_root(); NULL, errno set, when none. */
static char *new_folder(void)
{
    const char *tmp = scratch_root();
    size_t n = strlen(tmp) + sizeof "/careshed-network-XXXXXX";
    char *dir = cs_malloc(n);
    if (!dir) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(dir, n, "%s/careshed-network-XXXXXX", tmp);
    if (mkdtemp(dir))
        return dir;
    int e = errno;
    cs_free(dir);
    errno = e;
    return NULL;
}

/* GDAL's progress through the copy (at each feature), told at each percent as the first
 * part of the stage (the copy is read once more after it). */
typedef struct copy_progress {
    cs_context *ctx;
    int percent; /* told last */
} copy_progress;

static int CPL_STDCALL copying(double done, const char *message, void *user)
{
    (void)message;
    copy_progress *p = user;
    int percent = (int)(80 * done);
    if (percent != p->percent)
        cs_progress(p->ctx, CS_COPY_STAGE, (p->percent = percent) / 100.0);
    return TRUE;
}

/* ogr2ogr -f GPKG -nln network -unsetFid [-where where] copy source [layer]; false, why
 * set, on failure. */
static bool translate(cs_context *ctx, GDALDatasetH src, const char *layer, const char *where,
                      const char *copy, char why[256])
{
    /* the FID column named so that no field of the file is likely to take its name (a
     * text field "fid" would stop the copy) */
    char *argv[16] = {"-f", "GPKG", "-nln", "network", "-unsetFid", "-lco", COPY_FID,
                      "-lco", "SPATIAL_INDEX=YES", "-gt", "65536", "-progress"};
    size_t n = 12;
    if (where) {
        argv[n++] = "-where";
        argv[n++] = (char *)where;
    }
    if (layer)
        argv[n++] = (char *)layer;
    CPLPushErrorHandlerEx(keep_first, why);
    GDALVectorTranslateOptions *opts = GDALVectorTranslateOptionsNew(argv, NULL);
    copy_progress progress = {ctx, -1};
    if (opts)
        GDALVectorTranslateOptionsSetProgress(opts, copying, &progress);
    int usage_error = 0;
    GDALDatasetH out = opts ? GDALVectorTranslate(copy, NULL, 1, &src, opts, &usage_error)
                            : NULL;
    if (out)
        GDALClose(out); /* writes the index: a failure is said through the handler */
    bool ok = out != NULL && !*why;
    GDALVectorTranslateOptionsFree(opts);
    CPLPopErrorHandler();
    if (!ok && !*why)
        snprintf(why, 256, "GDAL could not write it");
    return ok;
}

/* The file opened as the reader opens it (a KML's UTF-8 text in GDAL's memory, *utf8
 * its path, when the reader converts it so: its messages, said at the load, are not
 * said again); NULL when it cannot be. *osm when OpenStreetMap. */
static GDALDatasetH open_copied(const cs_context *ctx, const char *path,
                                const cs_layer_config *lc, char **utf8, bool *osm)
{
    cs_context *quiet = NULL;
    *utf8 = NULL;
    if (cs_context_create_for_thread(ctx, &quiet) != CS_OK)
        return NULL;
    cs_status st = cs_kml_utf8_copy(quiet, path, path, "network", lc->encoding, utf8);
    cs_context_destroy(quiet);
    if (st != CS_OK)
        return NULL;
    char **opts = cs_layer_open_options(lc, path);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH src = GDALOpenEx(*utf8 ? *utf8 : path, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                  NULL, (const char *const *)opts, NULL);
    CPLPopErrorHandler();
    CSLDestroy(opts);
    *osm = src && !strcmp(GDALGetDriverShortName(GDALGetDatasetDriver(src)), "OSM");
    return src;
}

/* The KML's UTF-8 text in GDAL's memory let go. */
static void drop_utf8(char *utf8)
{
    if (utf8)
        VSIUnlink(utf8);
    cs_free(utf8);
}

cs_status cs_network_copy_make(cs_context *ctx, const cs_config *cfg, cs_net_copy *out,
                               char why[256])
{
    memset(out, 0, sizeof *out);
    *why = 0;
    const cs_layer_config *lc = &cfg->network.layer;
    out->source = cs_config_resolve_path(cfg, lc->path);
    if (!out->source)
        return cs_nomem(ctx);
    bool osm = false;
    char *utf8 = NULL;
    GDALDatasetH src = open_copied(ctx, out->source, lc, &utf8, &osm);
    if (!src) { /* not copied: nothing to say but the reading's warning */
        drop_utf8(utf8);
        cs_network_copy_remove(out);
        return CS_ERR_INPUT;
    }
    out->utf8 = utf8 != NULL;
    /* OpenStreetMap: its ways ("lines"), without those of no class, which the reading
     * leaves out of an OpenStreetMap file only (rivers, fences...) */
    char where[160] = "";
    const char *klass = cfg->network.class_field ? cfg->network.class_field : "highway";
    if (osm && strlen(klass) < 60 && !strchr(klass, '"'))
        snprintf(where, sizeof where, "\"%s\" IS NOT NULL AND \"%s\" <> ''", klass, klass);
    out->dir = new_folder();
    size_t n = out->dir ? strlen(out->dir) + sizeof "/" COPY_NAME : 0;
    out->path = n ? cs_malloc(n) : NULL;
    cs_status st = CS_OK;
    if (!out->dir)
        st = errno == ENOMEM ? cs_nomem(ctx) : CS_ERR_OUTPUT;
    else if (!out->path)
        st = cs_nomem(ctx);
    if (st == CS_ERR_OUTPUT)
        snprintf(why, 256, "cannot make a folder in %s (%s)", scratch_root(), strerror(errno));
    if (st == CS_OK) {
        snprintf(out->path, n, "%s/" COPY_NAME, out->dir);
        out->scratch = note_scratch(out);
        /* the layer the reader reads (ogr2ogr would put every layer into the copy) */
        OGRLayerH first = GDALDatasetGetLayer(src, 0);
        const char *layer = lc->layer ? lc->layer : osm ? "lines"
                                      : first ? OGR_L_GetName(first) : NULL;
        if (!translate(ctx, src, layer, *where ? where : NULL, out->path, why))
            st = CS_ERR_OUTPUT;
    }
    GDALClose(src);
    drop_utf8(utf8);
    if (st != CS_OK)
        cs_network_copy_remove(out);
    return st;
}

void cs_network_copy_remove(cs_net_copy *c)
{
    if (c->scratch)
        atomic_store(&scratch_state[c->scratch - 1], 0);
    if (c->path)
        unlink(c->path);
    if (c->dir)
        rmdir(c->dir);
    cs_free(c->path);
    cs_free(c->dir);
    cs_free(c->source);
    memset(c, 0, sizeof *c);
}
