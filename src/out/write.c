/*
 * write.c — cs_result_write: every output file is built in memory and written into
 * a new set that replaces the output folder as a whole only when all of them are
 * complete (files.h). A failed run leaves the folder as it was. The layers go to
 * GeoJSON files and/or the one GeoPackage careshed.gpkg (built in memory, one
 * transaction, styled for QGIS by styles.c), as output.formats says.
 */
#include "cover/cover.h"
#include "out/files.h"
#include "out/folder.h"
#include "out/out.h"
#include "out/shard_results.h"
#include "run/run.h"

#include <stdio.h>
#include <string.h>

/* What the files are built from. */
typedef struct sources {
    const cs_result *r;
    const cs_table *table;
    cs_transform *to_wgs84;
    cs_lines *net_lines;   /* K x CS_MAX_THRESHOLDS reached networks */
    cs_rings **net_polys;  /* K x CS_MAX_THRESHOLDS network service areas */
    cs_rings **fac_polys;  /* per facility, when asked for */
    double *dem_lon, *dem_lat; /* the demand points in WGS84, for the demand files */
    bool release;          /* each layer's geometry let go once written */
} sources;

typedef cs_status (*layer_fn)(cs_context *ctx, const sources *src, cs_lw *w);
typedef cs_status (*file_fn)(cs_context *ctx, const sources *src, cs_buf *out);
typedef cs_status (*stream_fn)(cs_context *ctx, const sources *src, cs_outset *set,
                               size_t file, const atomic_int *threads);

static cs_status build_areas(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return cs_out_areas_layer(src->r, src->table, src->to_wgs84, w);
}
static cs_status build_circles(cs_context *ctx, const sources *src, cs_lw *w)
{
    return cs_out_circles_layer(ctx, src->r, src->to_wgs84, src->net_polys, w);
}
static cs_status build_network(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return cs_out_network_layer(src->r, src->net_lines, src->to_wgs84, w);
}
static cs_status build_facility_areas(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return cs_out_facility_areas_layer(src->r, src->fac_polys, src->to_wgs84, w);
}
static cs_status build_facilities(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return cs_out_facilities_layer(src->r, w);
}
static cs_status build_underserved(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return cs_out_underserved_layer(src->r, src->to_wgs84, w);
}
static cs_status build_csv(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_areas_csv(src->table, out);
}
/* A tidy table, made for its file alone (out/tidy.c). */
static cs_status build_tidy(cs_status (*make)(const cs_result *, cs_table *),
                            const sources *src, cs_buf *out)
{
    cs_table t;
    cs_status st = make(src->r, &t);
    if (st == CS_OK)
        st = cs_out_areas_csv(&t, out);
    cs_table_free(&t);
    return st;
}
/* A tidy table as a layer without geometry of the package. */
static cs_status tidy_layer(cs_status (*make)(const cs_result *, cs_table *),
                            const sources *src, cs_lw *w)
{
    cs_table t;
    cs_status st = make(src->r, &t);
    for (size_t row = 0; st == CS_OK && w->st == CS_OK && row < t.rows; row++) {
        cs_lw_feature(w);
        for (size_t c = 0; c < t.columns; c++)
            cs_lw_cell(w, t.names[c], &t.cells[row * t.columns + c], t.types[c]);
        cs_lw_no_geometry(w);
    }
    cs_table_free(&t);
    return st != CS_OK ? st : w->st;
}
static cs_status build_coverage_layer(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return tidy_layer(cs_out_coverage_table, src, w);
}
static cs_status build_targets_layer(cs_context *ctx, const sources *src, cs_lw *w)
{
    (void)ctx;
    return tidy_layer(cs_out_targets_table, src, w);
}
static cs_status build_coverage(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return build_tidy(cs_out_coverage_table, src, out);
}
static cs_status build_targets(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return build_tidy(cs_out_targets_table, src, out);
}
static cs_status build_demand(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_demand_csv(src->r, src->dem_lon, src->dem_lat, out);
}
/* A file written straight into the set as it is built (cs_outset_write_at). */
typedef struct streamed {
    cs_context *ctx;
    cs_outset *set;
    size_t file;
} streamed;

static bool write_piece(void *user, const void *data, size_t len, uint64_t offset)
{
    const streamed *f = user;
    return cs_outset_write_at(f->ctx, f->set, f->file, data, len, offset) == CS_OK;
}

/* demand.fgb, streamed: some 400 bytes a demand point, never all in memory */
static cs_status stream_demand_layer(cs_context *ctx, const sources *src, cs_outset *set,
                                     size_t file, const atomic_int *threads)
{
    streamed f = {ctx, set, file};
    return cs_out_demand_fgb(src->r, src->dem_lon, src->dem_lat, threads, write_piece, &f);
}
static cs_status build_demand_style(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_demand_qml(src->r, out);
}
static cs_status build_demand_layer_csv(cs_context *ctx, const sources *src, cs_buf *out)
{
    return cs_out_demand_layer_csv(src->r, src->dem_lon, src->dem_lat, ctx->threads, out);
}
static cs_status build_summary(cs_context *ctx, const sources *src, cs_buf *out)
{
    return cs_out_summary_json(ctx, src->r, src->table, out);
}

/* The network's geometries, each let go once its layer is written (with release) or at
 * the end. */
static void drop_polys(sources *src)
{
    for (size_t i = 0; src->net_polys && i < src->r->K * CS_MAX_THRESHOLDS; i++) {
        cs_rings_destroy(src->net_polys[i]);
        src->net_polys[i] = NULL;
    }
}
static void drop_lines(sources *src)
{
    for (size_t i = 0; src->net_lines && i < src->r->K * CS_MAX_THRESHOLDS; i++)
        cs_lines_free(&src->net_lines[i]);
}
static void drop_facility_polys(sources *src)
{
    for (size_t f = 0; src->fac_polys && f < src->r->study->fac.count; f++) {
        cs_rings_destroy(src->fac_polys[f]);
        src->fac_polys[f] = NULL;
    }
}

typedef enum when {
    ALWAYS,
    WITH_NETWORK,
    WITH_FACILITY_AREAS,
    WITH_ACCESS,
    WITH_DEMAND_LAYER,
    WITH_DEMAND_CSV
} when;

/* The layers, each a GeoJSON file and a layer of careshed.gpkg (output.formats), in
 * the order both list them. More layers of the package are more rows here (and a
 * style in styles.c). */
static const struct {
    const char *layer; /* in the GeoPackage */
    const char *file;  /* GeoJSON; NULL: a table in the package only (as CSV below) */
    cs_gpkg_geometry geometry;
    layer_fn build;
    when when;
    void (*drop)(sources *src); /* what only this layer shows, let go once written */
} layers[] = {
    {"areas", "areas.geojson", CS_GPKG_MULTIPOLYGON, build_areas, ALWAYS, NULL},
    {"service_circles", "service-circles.geojson", CS_GPKG_MULTIPOLYGON, build_circles, ALWAYS,
     drop_polys},
    {"service_network", "service-network.geojson", CS_GPKG_MULTILINE, build_network,
     WITH_NETWORK, drop_lines},
    {"facility_service_areas", "facility-service-areas.geojson", CS_GPKG_MULTIPOLYGON,
     build_facility_areas, WITH_FACILITY_AREAS, drop_facility_polys},
    {"facilities", "facilities.geojson", CS_GPKG_POINT, build_facilities, ALWAYS, NULL},
    {"underserved", "underserved.geojson", CS_GPKG_MULTIPOLYGON, build_underserved, ALWAYS,
     NULL},
    {"coverage", NULL, CS_GPKG_NONE, build_coverage_layer, ALWAYS, NULL},
    {"targets", NULL, CS_GPKG_NONE, build_targets_layer, ALWAYS, NULL},
};

/* The other files, after the package; format 0: whatever output.formats says. The
 * demand layer is FlatGeobuf, not a layer of the package: GDAL's GeoPackage writer
 * needs some 25 µs a point, a minute for a city's two million (out/fgb.h). */
static const struct {
    const char *name;
    file_fn build;   /* built in memory, then added to the set */
    stream_fn stream; /* or written into the set as it is built, on a thread of its own
                       * while the other outputs are built (see streaming) */
    when when;
    unsigned format;
} files[] = {
    {"demand.fgb", NULL, stream_demand_layer, WITH_DEMAND_LAYER, 0},
    {"demand.qml", build_demand_style, NULL, WITH_DEMAND_LAYER, 0},
    {"demand.csv", build_demand_layer_csv, NULL, WITH_DEMAND_CSV, 0},
    {"demand-access.csv", build_demand, NULL, WITH_ACCESS, CS_FORMAT_CSV},
    {"areas.csv", build_csv, NULL, ALWAYS, CS_FORMAT_CSV},
    {"coverage.csv", build_coverage, NULL, ALWAYS, CS_FORMAT_CSV},
    {"targets.csv", build_targets, NULL, ALWAYS, CS_FORMAT_CSV},
    {"summary.json", build_summary, NULL, ALWAYS, 0},
};

#define GPKG_NAME "careshed.gpkg"
/* the Shapefile names' mapping (output.shapefile_names) */
#define NAMES_FILE "column-names.csv"

static bool wanted(const cs_result *r, when w)
{
    switch (w) {
    case ALWAYS: return true;
    case WITH_NETWORK: return r->has_network;
    case WITH_FACILITY_AREAS: return r->has_network && r->study->net.facility_areas;
    case WITH_DEMAND_LAYER: return r->study->settings.demand_layer;
    case WITH_DEMAND_CSV: return r->study->settings.demand_csv;
    case WITH_ACCESS:
        return cs_out_has_access(r) &&
               (r->study->settings.demand_points_csv == 1 ||
                (r->study->settings.demand_points_csv < 0 &&
                 r->study->dem.count <= CS_DEMAND_CSV_AUTO_MAX));
    }
    return false;
}

static bool format_on(const cs_result *r, unsigned format)
{
    return format == 0 || (r->study->settings.output_formats & format);
}

const char *cs_result_output_name(const cs_result *r, size_t i)
{
    if (!r)
        return NULL;
    for (size_t o = 0; o < sizeof layers / sizeof layers[0]; o++)
        if (layers[o].file && format_on(r, CS_FORMAT_GEOJSON) && wanted(r, layers[o].when) &&
            i-- == 0)
            return layers[o].file;
    if (format_on(r, CS_FORMAT_GPKG) && i-- == 0)
        return GPKG_NAME;
    if (r->study->settings.shapefile_names && i-- == 0)
        return NAMES_FILE;
    for (size_t o = 0; o < sizeof files / sizeof files[0]; o++)
        if (format_on(r, files[o].format) && wanted(r, files[o].when) && i-- == 0)
            return files[o].name;
    return NULL;
}

/* The demand points in WGS84, once for the demand files that list them. */
static cs_status demand_positions(cs_context *ctx, const cs_result *r, sources *src)
{
    if (!wanted(r, WITH_DEMAND_LAYER) && !wanted(r, WITH_DEMAND_CSV) &&
        !(wanted(r, WITH_ACCESS) && format_on(r, CS_FORMAT_CSV)))
        return CS_OK;
    size_t n = r->study->dem.count;
    src->dem_lon = cs_calloc(n + 1, sizeof *src->dem_lon);
    src->dem_lat = cs_calloc(n + 1, sizeof *src->dem_lat);
    if (!src->dem_lon || !src->dem_lat)
        return cs_nomem(ctx);
    memcpy(src->dem_lon, r->study->dem.x, n * sizeof *src->dem_lon);
    memcpy(src->dem_lat, r->study->dem.y, n * sizeof *src->dem_lat);
    cs_transform_apply(src->to_wgs84, src->dem_lon, src->dem_lat, n);
    return CS_OK;
}

/* The network's service areas, computed once for the files that show them. With
 * `release` (r itself), the graph and its searches are let go once the lines and the
 * facilities' areas are made: the polygons are drawn from the lines alone. */
static cs_status network_geometry(cs_context *ctx, const cs_result *r, sources *src,
                                  cs_result *release)
{
    size_t n = r->K * CS_MAX_THRESHOLDS + 1;
    src->net_lines = cs_calloc(n, sizeof *src->net_lines);
    src->net_polys = cs_calloc(n, sizeof *src->net_polys);
    src->fac_polys = cs_calloc(r->study->fac.count + 1, sizeof *src->fac_polys);
    if (!src->net_lines || !src->net_polys || !src->fac_polys)
        return cs_nomem(ctx);
    cs_network_drawing *drawing = NULL;
    cs_status st = cs_cover_network_lines(ctx, r, src->net_lines, &drawing);
    if (st == CS_OK && wanted(r, WITH_FACILITY_AREAS))
        st = cs_cover_facility_areas(ctx, r, src->fac_polys);
    if (st != CS_OK) {
        cs_network_drawing_destroy(drawing);
        return st;
    }
    if (release && r->has_network)
        cs_result_free_network(release);
    return cs_cover_network_polygons(ctx, r, src->net_lines, drawing, src->net_polys);
}

static void free_network_geometry(sources *src)
{
    drop_polys(src);
    drop_lines(src);
    drop_facility_polys(src);
    cs_free(src->net_lines);
    cs_free(src->net_polys);
    cs_free(src->fac_polys);
}

/* What SQLite leaves beside a package open in QGIS: the run's own, so that a rerun
 * drops them with the old package (a stale -wal beside a new package would corrupt it). */
static const char *const gpkg_sidecars[] = {GPKG_NAME "-wal", GPKG_NAME "-shm",
                                            GPKG_NAME "-journal"};

const char *cs_out_file_owner(const char *name)
{
    if (!name)
        return NULL;
    for (size_t o = 0; o < sizeof layers / sizeof layers[0]; o++)
        if (layers[o].file && !strcmp(name, layers[o].file))
            return "run";
    for (size_t o = 0; o < sizeof files / sizeof files[0]; o++)
        if (!strcmp(name, files[o].name))
            return "run";
    for (size_t o = 0; o < sizeof gpkg_sidecars / sizeof gpkg_sidecars[0]; o++)
        if (!strcmp(name, gpkg_sidecars[o]))
            return "run";
    if (!strcmp(name, GPKG_NAME) || !strcmp(name, NAMES_FILE) ||
        !strcmp(name, CS_SHARD_RESULTS_FILE))
        return "run";
    /* the report's default names: a report written into a run's folder keeps it
     * careshed's (the report is a single file, never dropped by a run) */
    if (!strcmp(name, "report.html") || !strcmp(name, "report.pdf"))
        return "report";
    return cs_out_site_file_owner(name);
}

/* One output's part of the write stage, for --timings: "write layer areas" (its
 * GeoJSON file and its rows handed to the package, computing it included), "write
 * careshed.gpkg" (styles, waiting for the package's thread to store what it was
 * handed, closing, the file), "write demand.fgb"... */
static void stage_end(cs_context *ctx, const char *what, const char *name, double t0)
{
    char stage[48];
    snprintf(stage, sizeof stage, "%s %s", what, name);
    cs_stage_end(ctx, stage, t0);
}

/*
 * A layer's GeoJSON file. A small one is added to the set whole once built; a large one
 * (a city's reached streets: 100 MB and more) goes into the set while it is built, in
 * whole 4 kB blocks past the page cache, so that its text is never held whole: growing
 * a buffer to that size cost more page faults and copies than formatting it.
 */
typedef struct json_file {
    cs_context *ctx;
    cs_outset *set;
    const char *name;
    bool open;
    size_t file;
    uint64_t written;
} json_file;

#define BLOCK ((size_t)4096)

static bool drain_json(void *user, cs_buf *json)
{
    json_file *f = user;
    if (!f->open && cs_outset_open_unbuffered(f->ctx, f->set, f->name, &f->file) != CS_OK)
        return false;
    f->open = true;
    size_t n = json->len / BLOCK * BLOCK;
    if (cs_outset_write_at(f->ctx, f->set, f->file, json->data, n, f->written) != CS_OK)
        return false;
    f->written += n;
    memmove(json->data, json->data + n, json->len - n + 1); /* the rest, and its NUL */
    json->len -= n;
    return true;
}

/* The rest of the file: the whole of it when nothing was drained. */
static cs_status finish_json(json_file *f, const cs_buf *json)
{
    if (!f->open)
        return cs_outset_add(f->ctx, f->set, f->name, json->data, json->len);
    return cs_outset_write_at(f->ctx, f->set, f->file, json->data, json->len, f->written);
}

/* Every layer, as GeoJSON files into the set and/or into the package. */
static cs_status write_layers(cs_context *ctx, sources *src, cs_outset *set,
                              cs_gpkg *gpkg, cs_names *names, cs_buf *buf)
{
    const cs_result *r = src->r;
    bool geojson = format_on(r, CS_FORMAT_GEOJSON);
    size_t n = sizeof layers / sizeof layers[0];
    const char *written[sizeof layers / sizeof layers[0]];
    cs_gpkg_geometry geometries[sizeof layers / sizeof layers[0]];
    size_t count = 0;
    cs_status st = CS_OK;
    if (!geojson && !gpkg)
        return CS_OK;
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        bool json = geojson && layers[i].file;
        if (!wanted(r, layers[i].when) || (!json && !gpkg))
            continue;
        char json_name[64] = ""; /* the collection is named as its file */
        if (json)
            snprintf(json_name, sizeof json_name, "%.*s", (int)strcspn(layers[i].file, "."),
                     layers[i].file);
        double t0 = cs_stage_begin();
        cs_lw w;
        cs_buf_clear(buf);
        json_file file = {ctx, set, layers[i].file, false, 0, 0};
        st = cs_lw_begin(&w, ctx, layers[i].layer, json_name, json ? buf : NULL, gpkg,
                         layers[i].geometry, names);
        if (json)
            cs_lw_drain_to(&w, drain_json, &file);
        if (st == CS_OK)
            st = layers[i].build(ctx, src, &w);
        cs_status end = cs_lw_end(&w); /* always: it frees the writer's scratch */
        if (st == CS_OK)
            st = end;
        if (st == CS_ERR_NOMEM)
            st = cs_nomem(ctx);
        if (st == CS_OK && json)
            st = finish_json(&file, buf);
        stage_end(ctx, "write layer", layers[i].layer, t0);
        if (src->release && layers[i].drop)
            layers[i].drop(src);
        geometries[count] = layers[i].geometry;
        written[count++] = layers[i].layer;
        cs_progress(ctx, "write", (double)(i + 1) / (double)(n + 2));
    }
    if (st == CS_OK && gpkg) {
        double t0 = cs_stage_begin();
        st = cs_out_styles(ctx, r, gpkg, written, geometries, count);
        stage_end(ctx, "write", GPKG_NAME, t0);
    }
    return st;
}

/*
 * A streamed file is written on a thread of its own, started before the other outputs
 * are built: demand.fgb is the largest output by far and waits on the disk, so the
 * layers are built meanwhile. The thread reports into a context of its own, added to
 * the run's when it is joined. With one thread (--threads 1), or when no thread can be
 * started, it is written on this thread, first.
 *
 * While this thread builds the layers, the streamed file's loops run on one thread;
 * once this one only waits for it, on all of them. Two parallel loops beside this
 * thread made three threads on two cores: the layers, the critical path along the
 * network, lost a third of a core to it (write stage 5.5 -> 6.1 s once the demand
 * layer's gathering got faster).
 */
typedef struct streaming {
    size_t which; /* in files[] */
    const sources *src;
    cs_outset *set;
    size_t file;
    cs_helper helper;
    atomic_int threads; /* its loops' threads now (0 = all cores) */
    cs_status st;
} streaming;

static void *stream_file(void *arg)
{
    streaming *s = arg;
    cs_context *ctx = s->helper.ctx;
    double t0 = cs_stage_begin();
    s->st = files[s->which].stream(ctx, s->src, s->set, s->file, &s->threads);
    if (s->st == CS_ERR_NOMEM)
        s->st = cs_nomem(ctx);
    if (s->st == CS_OK && s->helper.on_thread) /* on disk before the commit waits for it */
        s->st = cs_outset_sync(ctx, s->set, s->file);
    stage_end(ctx, "write", files[s->which].name, t0);
    return NULL;
}

/* Open file `which` of the set and start writing it. */
static cs_status stream_begin(cs_context *ctx, const sources *src, cs_outset *set, size_t which,
                              streaming *s)
{
    *s = (streaming){.which = which, .src = src, .set = set};
    s->helper.ctx = ctx;
    cs_status st = cs_outset_open_unbuffered(ctx, set, files[which].name, &s->file);
    if (st != CS_OK)
        return st;
    atomic_init(&s->threads, 1);
    if (cs_helper_start(ctx, &s->helper, stream_file, s))
        return CS_OK;
    atomic_store(&s->threads, ctx->threads);
    stream_file(s);
    return s->st;
}

/* Wait for the file to be written; its status. */
static cs_status stream_end(cs_context *ctx, streaming *s)
{
    atomic_store(&s->threads, ctx->threads);
    cs_helper_join(ctx, &s->helper);
    return s->st;
}

/* The package, when asked for, and the other files. */
static cs_status write_files(cs_context *ctx, sources *src, cs_outset *set)
{
    const cs_result *r = src->r;
    cs_gpkg *gpkg = NULL;
    cs_names *names = NULL;
    cs_buf buf;
    cs_buf_init(&buf);
    cs_status st = CS_OK;
    streaming streams[sizeof files / sizeof files[0]];
    size_t nstreams = 0;
    for (size_t i = 0; st == CS_OK && i < sizeof files / sizeof files[0]; i++)
        if (files[i].stream && format_on(r, files[i].format) && wanted(r, files[i].when))
            st = stream_begin(ctx, src, set, i, &streams[nstreams++]);
    for (size_t i = 0; st == CS_OK && i < sizeof files / sizeof files[0]; i++) {
        if (files[i].stream || !format_on(r, files[i].format) || !wanted(r, files[i].when))
            continue;
        double t0 = cs_stage_begin();
        cs_buf_clear(&buf);
        st = files[i].build(ctx, src, &buf);
        if (st == CS_ERR_NOMEM)
            st = cs_nomem(ctx);
        if (st == CS_OK)
            st = cs_outset_add(ctx, set, files[i].name, buf.data, buf.len);
        stage_end(ctx, "write", files[i].name, t0);
    }
    const char *gpkg_path = NULL; /* SQLite writes the package in place */
    if (st == CS_OK && format_on(r, CS_FORMAT_GPKG) &&
        (st = cs_outset_open_path(ctx, set, GPKG_NAME, &gpkg_path)) == CS_OK)
        st = cs_gpkg_create(ctx, gpkg_path, &gpkg);
    if (st == CS_OK && r->study->settings.shapefile_names && !(names = cs_names_create(true)))
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = write_layers(ctx, src, set, gpkg, names, &buf);
    if (st == CS_OK && gpkg) {
        double t0 = cs_stage_begin();
        st = cs_gpkg_close(ctx, gpkg);
        gpkg = NULL;
        stage_end(ctx, "write", GPKG_NAME, t0);
    }
    if (st == CS_OK && names) {
        cs_buf_clear(&buf);
        st = cs_names_csv(names, &buf) == CS_OK ? cs_outset_add(ctx, set, NAMES_FILE, buf.data, buf.len)
                                               : cs_nomem(ctx);
    }
    for (size_t i = 0; i < nstreams; i++) { /* always: a thread is joined whatever failed */
        cs_status end = stream_end(ctx, &streams[i]);
        if (st == CS_OK)
            st = end;
    }
    cs_progress(ctx, "write", 1);
    cs_gpkg_destroy(gpkg);
    cs_names_destroy(names);
    cs_buf_free(&buf);
    return st;
}

/* cs_result_write; with `release` (r itself), the network's working memory is let go as
 * soon as the service areas' lines are made: a province's graph, searches and attachments
 * (a gigabyte) are then not held beside its polygons while they are drawn and written. */
static cs_status write_result(cs_context *ctx, const cs_study *study, const cs_result *r,
                              const char *out_dir, cs_result *release)
{
    if (!ctx || !study || !r || !out_dir || r->study != study || r->network_freed)
        return CS_ERR_ARGUMENT;
    if (study->settings.shard_part > 0) /* careshed merge writes the layers of them all */
        return cs_shard_results_write(ctx, r, out_dir);
    cs_outset *set = NULL;
    cs_table table = {0};
    sources src = {.r = r, .table = &table, .release = release != NULL};
    double t0 = cs_stage_begin();
    cs_status st = cs_outset_begin_folder(ctx, out_dir, "run", &set);
    if (st == CS_OK)
        st = cs_transform_create(ctx, study->settings.crs, "EPSG:4326", NULL, &src.to_wgs84);
    if (st == CS_OK && cs_out_area_table(r, true, &table) != CS_OK)
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = demand_positions(ctx, r, &src);
    /* the service areas along the network take seconds in a city: say so before */
    if (st == CS_OK && r->has_network)
        cs_progress(ctx, "service areas", 0);
    double t1 = cs_stage_begin();
    if (st == CS_OK && release && r->has_network)
        cs_result_free_attachments(release); /* not needed to draw */
    if (st == CS_OK)
        st = network_geometry(ctx, r, &src, release);
    if (r->has_network)
        cs_stage_end(ctx, "write service areas", t1);
    if (st == CS_OK && r->has_network)
        cs_progress(ctx, "service areas", 1);
    if (release && r->has_network) /* what drawing let go, before the files are made */
        cs_memory_return();
    if (st == CS_OK)
        st = write_files(ctx, &src, set);
    if (st == CS_OK) {
        double t2 = cs_stage_begin();
        st = cs_outset_commit(ctx, set); /* waits for the disk, then swaps the set in */
        cs_stage_end(ctx, "write commit", t2);
    }
    if (st == CS_OK && cs_out_has_access(r) && !wanted(r, WITH_ACCESS) &&
        study->settings.demand_points_csv < 0 && format_on(r, CS_FORMAT_CSV)) {
        cs_where w = {.file = out_dir};
        cs_warn(ctx, &w, "set demand_points_csv: true to write it anyway",
                "demand-access.csv (each demand point's accessibility) is not written for "
                "%zu demand points (more than %d)", study->dem.count, CS_DEMAND_CSV_AUTO_MAX);
    }
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    free_network_geometry(&src);
    cs_free(src.dem_lon);
    cs_free(src.dem_lat);
    cs_table_free(&table);
    cs_transform_destroy(src.to_wgs84);
    cs_stage_end(ctx, "write", t0);
    return st;
}

cs_status cs_result_write(cs_context *ctx, const cs_study *study, const cs_result *r,
                          const char *out_dir)
{
    return write_result(ctx, study, r, out_dir, NULL);
}

cs_status cs_result_write_releasing(cs_context *ctx, const cs_study *study, cs_result *r,
                                    const char *out_dir)
{
    return write_result(ctx, study, r, out_dir, r);
}
