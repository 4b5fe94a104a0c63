/*
 * write.c — cs_result_write: every output file is built in memory, written to a
 * temporary name in the output folder, and renamed into place only when all of them
 * are complete. A failed run leaves the folder as it was.
 */
#include "out/files.h"
#include "out/out.h"

#include <stdio.h>
#include <sys/stat.h>

typedef cs_status (*build_fn)(cs_context *ctx, const cs_result *r, const cs_table *t,
                              cs_transform *to_wgs84, cs_buf *out);

static cs_status build_areas(cs_context *ctx, const cs_result *r, const cs_table *t,
                             cs_transform *tr, cs_buf *out)
{
    (void)ctx;
    return cs_out_areas_geojson(r, t, tr, out);
}
static cs_status build_circles(cs_context *ctx, const cs_result *r, const cs_table *t,
                               cs_transform *tr, cs_buf *out)
{
    (void)t;
    return cs_out_circles_geojson(ctx, r, tr, out);
}
static cs_status build_facilities(cs_context *ctx, const cs_result *r, const cs_table *t,
                                  cs_transform *tr, cs_buf *out)
{
    (void)ctx, (void)t, (void)tr;
    return cs_out_facilities_geojson(r, out);
}
static cs_status build_csv(cs_context *ctx, const cs_result *r, const cs_table *t,
                           cs_transform *tr, cs_buf *out)
{
    (void)ctx, (void)r, (void)tr;
    return cs_out_areas_csv(t, out);
}
static cs_status build_summary(cs_context *ctx, const cs_result *r, const cs_table *t,
                               cs_transform *tr, cs_buf *out)
{
    (void)tr;
    return cs_out_summary_json(ctx, r, t, out);
}

static const struct {
    const char *name;
    build_fn build;
} outputs[] = {
    {"areas.geojson", build_areas},
    {"service-circles.geojson", build_circles},
    {"facilities.geojson", build_facilities},
    {"areas.csv", build_csv},
    {"summary.json", build_summary},
};

/* An output that would replace one of the study's input files is refused: inputs are
 * never touched, whatever --out says. */
static cs_status check_inputs_not_replaced(cs_context *ctx, const cs_study *study,
                                           const char *out_dir)
{
    for (size_t o = 0; o < sizeof outputs / sizeof outputs[0]; o++) {
        char path[4096];
        struct stat out_st;
        snprintf(path, sizeof path, "%s/%s", out_dir, outputs[o].name);
        if (stat(path, &out_st) != 0)
            continue;
        for (size_t i = 0; i < study->input_count; i++)
            for (size_t f = 0; f < study->inputs[i].file_count; f++) {
                struct stat in_st;
                if (stat(study->inputs[i].files[f], &in_st) == 0 &&
                    in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
                    cs_where w = {.file = path};
                    return cs_error(ctx, CS_ERR_OUTPUT, &w,
                                    "choose another --out folder; inputs are never overwritten",
                                    "writing it would replace the %s input",
                                    study->inputs[i].role);
                }
            }
    }
    return CS_OK;
}

cs_status cs_result_write(cs_context *ctx, const cs_study *study, const cs_result *r,
                          const char *out_dir)
{
    if (!ctx || !study || !r || !out_dir || r->study != study)
        return CS_ERR_ARGUMENT;
    cs_outset *set = NULL;
    cs_transform *to_wgs84 = NULL;
    cs_table table = {0};
    cs_buf buf;
    cs_buf_init(&buf);
    double t0 = cs_stage_begin();
    cs_status st = check_inputs_not_replaced(ctx, study, out_dir);
    if (st == CS_OK)
        st = cs_outset_begin(ctx, out_dir, &set);
    if (st == CS_OK)
        st = cs_transform_create(ctx, study->crs, "EPSG:4326", NULL, &to_wgs84);
    if (st == CS_OK && cs_out_area_table(r, true, &table) != CS_OK)
        st = cs_nomem(ctx);
    size_t n = sizeof outputs / sizeof outputs[0];
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        cs_buf_clear(&buf);
        st = outputs[i].build(ctx, r, &table, to_wgs84, &buf);
        if (st == CS_ERR_NOMEM)
            st = cs_nomem(ctx);
        if (st == CS_OK)
            st = cs_outset_add(ctx, set, outputs[i].name, buf.data, buf.len);
        cs_progress(ctx, "write", (double)(i + 1) / (double)n);
    }
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    cs_table_free(&table);
    cs_transform_destroy(to_wgs84);
    cs_buf_free(&buf);
    cs_stage_end(ctx, "write", t0);
    return st;
}
