/*
 * write.c — cs_result_write: every output file is built in memory and written into
 * a new set that replaces the output folder as a whole only when all of them are
 * complete (files.h). A failed run leaves the folder as it was.
 */
#include "cover/cover.h"
#include "out/files.h"
#include "out/folder.h"
#include "out/out.h"

#include <stdio.h>
#include <string.h>

/* What the files are built from. */
typedef struct sources {
    const cs_result *r;
    const cs_table *table;
    cs_transform *to_wgs84;
    cs_lines *net_lines; /* K x CS_MAX_THRESHOLDS reached networks */
    cs_geom **net_polys; /* K x CS_MAX_THRESHOLDS network service areas */
    cs_geom **fac_polys; /* per facility, when asked for */
} sources;

typedef cs_status (*build_fn)(cs_context *ctx, const sources *src, cs_buf *out);

static cs_status build_areas(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_areas_geojson(src->r, src->table, src->to_wgs84, out);
}
static cs_status build_circles(cs_context *ctx, const sources *src, cs_buf *out)
{
    return cs_out_circles_geojson(ctx, src->r, src->to_wgs84, src->net_polys, out);
}
static cs_status build_network(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_network_geojson(src->r, src->net_lines, src->to_wgs84, out);
}
static cs_status build_facility_areas(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_facility_areas_geojson(src->r, src->fac_polys, src->to_wgs84, out);
}
static cs_status build_facilities(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_facilities_geojson(src->r, out);
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
static cs_status build_underserved(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_underserved_geojson(src->r, src->to_wgs84, out);
}
static cs_status build_demand(cs_context *ctx, const sources *src, cs_buf *out)
{
    (void)ctx;
    return cs_out_demand_csv(src->r, src->to_wgs84, out);
}
static cs_status build_summary(cs_context *ctx, const sources *src, cs_buf *out)
{
    return cs_out_summary_json(ctx, src->r, src->table, out);
}

typedef enum when { ALWAYS, WITH_NETWORK, WITH_FACILITY_AREAS, WITH_ACCESS } when;

static const struct {
    const char *name;
    build_fn build;
    when when;
} outputs[] = {
    {"areas.geojson", build_areas, ALWAYS},
    {"service-circles.geojson", build_circles, ALWAYS},
    {"service-network.geojson", build_network, WITH_NETWORK},
    {"facility-service-areas.geojson", build_facility_areas, WITH_FACILITY_AREAS},
    {"facilities.geojson", build_facilities, ALWAYS},
    {"underserved.geojson", build_underserved, ALWAYS},
    {"demand-access.csv", build_demand, WITH_ACCESS},
    {"areas.csv", build_csv, ALWAYS},
    {"coverage.csv", build_coverage, ALWAYS},
    {"targets.csv", build_targets, ALWAYS},
    {"summary.json", build_summary, ALWAYS},
};

static bool wanted(const cs_result *r, when w)
{
    switch (w) {
    case ALWAYS:
        return true;
    case WITH_NETWORK:
        return r->has_network;
    case WITH_FACILITY_AREAS:
        return r->has_network && r->study->net.facility_areas;
    case WITH_ACCESS:
        return cs_out_has_access(r) && (r->study->settings.demand_points_csv == 1 ||
                                        (r->study->settings.demand_points_csv < 0 &&
                                         r->study->dem.count <= CS_DEMAND_CSV_AUTO_MAX));
    }
    return false;
}

const char *cs_result_output_name(const cs_result *r, size_t i)
{
    for (size_t o = 0; r && o < sizeof outputs / sizeof outputs[0]; o++)
        if (wanted(r, outputs[o].when) && i-- == 0)
            return outputs[o].name;
    return NULL;
}

/* The network's service areas, computed once for the files that show them. */
static cs_status network_geometry(cs_context *ctx, const cs_result *r, sources *src)
{
    size_t n = r->K * CS_MAX_THRESHOLDS + 1;
    src->net_lines = cs_calloc(n, sizeof *src->net_lines);
    src->net_polys = cs_calloc(n, sizeof *src->net_polys);
    src->fac_polys = cs_calloc(r->study->fac.count + 1, sizeof *src->fac_polys);
    if (!src->net_lines || !src->net_polys || !src->fac_polys)
        return cs_nomem(ctx);
    cs_status st = cs_cover_network_areas(ctx, r, src->net_lines, src->net_polys);
    if (st == CS_OK && wanted(r, WITH_FACILITY_AREAS))
        st = cs_cover_facility_areas(ctx, r, src->fac_polys);
    return st;
}

static void free_network_geometry(const cs_result *r, sources *src)
{
    const cs_study *s = r->study;
    for (size_t i = 0; i < r->K * CS_MAX_THRESHOLDS; i++) {
        if (src->net_lines)
            cs_lines_free(&src->net_lines[i]);
        if (src->net_polys)
            cs_geom_destroy(s->geos, src->net_polys[i]);
    }
    for (size_t f = 0; src->fac_polys && f < s->fac.count; f++)
        cs_geom_destroy(s->geos, src->fac_polys[f]);
    cs_free(src->net_lines);
    cs_free(src->net_polys);
    cs_free(src->fac_polys);
}

const char *cs_out_file_owner(const char *name)
{
    for (size_t o = 0; name && o < sizeof outputs / sizeof outputs[0]; o++)
        if (!strcmp(name, outputs[o].name))
            return "run";
    /* the report's default names: a report written into a run's folder keeps it
     * careshed's (the report is a single file, never dropped by a run) */
    if (name && (!strcmp(name, "report.html") || !strcmp(name, "report.pdf")))
        return "report";
    return cs_out_site_file_owner(name);
}

cs_status cs_result_write(cs_context *ctx, const cs_study *study, const cs_result *r,
                          const char *out_dir)
{
    if (!ctx || !study || !r || !out_dir || r->study != study)
        return CS_ERR_ARGUMENT;
    cs_outset *set = NULL;
    cs_table table = {0};
    sources src = {r, &table, NULL, NULL, NULL, NULL};
    cs_buf buf;
    cs_buf_init(&buf);
    double t0 = cs_stage_begin();
    cs_status st = cs_outset_begin_folder(ctx, out_dir, "run", &set);
    if (st == CS_OK)
        st = cs_transform_create(ctx, study->settings.crs, "EPSG:4326", NULL, &src.to_wgs84);
    if (st == CS_OK && cs_out_area_table(r, true, &table) != CS_OK)
        st = cs_nomem(ctx);
    /* the service areas along the network take seconds in a city: say so before */
    if (st == CS_OK && r->has_network)
        cs_progress(ctx, "service areas", 0);
    if (st == CS_OK)
        st = network_geometry(ctx, r, &src);
    if (st == CS_OK && r->has_network)
        cs_progress(ctx, "service areas", 1);
    size_t n = sizeof outputs / sizeof outputs[0];
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        if (!wanted(r, outputs[i].when))
            continue;
        cs_buf_clear(&buf);
        st = outputs[i].build(ctx, &src, &buf);
        if (st == CS_ERR_NOMEM)
            st = cs_nomem(ctx);
        if (st == CS_OK)
            st = cs_outset_add(ctx, set, outputs[i].name, buf.data, buf.len);
        cs_progress(ctx, "write", (double)(i + 1) / (double)n);
    }
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (st == CS_OK && cs_out_has_access(r) && !wanted(r, WITH_ACCESS) &&
        study->settings.demand_points_csv < 0) {
        cs_where w = {.file = out_dir};
        cs_warn(ctx, &w, "set demand_points_csv: true to write it anyway",
                "demand-access.csv (each demand point's accessibility) is not written for "
                "%zu demand points (more than %d)",
                study->dem.count, CS_DEMAND_CSV_AUTO_MAX);
    }
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    free_network_geometry(r, &src);
    cs_table_free(&table);
    cs_transform_destroy(src.to_wgs84);
    cs_buf_free(&buf);
    cs_stage_end(ctx, "write", t0);
    return st;
}
