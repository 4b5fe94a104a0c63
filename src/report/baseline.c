/*
 * baseline.c — a previous run to compare with: its targets' district values from
 * summary.json (json-c) and its streets' headline coverage from the areas.csv beside
 * it (GDAL's CSV driver), matched by target and street id.
 */
#include "out/out.h"
#include "report/report.h"

#include <gdal.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

void cs_baseline_free(cs_baseline *b)
{
    if (!b)
        return;
    for (size_t t = 0; b->target_id && t < b->target_count; t++)
        cs_free(b->target_id[t]);
    for (size_t a = 0; b->area_id && a < b->area_count; a++)
        cs_free(b->area_id[a]);
    cs_free(b->target_id);
    cs_free(b->target_value);
    cs_free(b->area_id);
    cs_free(b->area_share);
    cs_free(b->path);
    cs_free(b);
}

static cs_status bad(cs_context *ctx, const char *path, const char *what)
{
    cs_where w = {.file = path};
    return cs_error(ctx, CS_ERR_INPUT, &w, "give the summary.json of an earlier careshed run "
                    "(--baseline PREVIOUS/summary.json)", "%s", what);
}

static cs_status read_targets(cs_context *ctx, const char *path, cs_baseline *b)
{
    json_object *root = json_object_from_file(path), *targets = NULL;
    if (!root)
        return bad(ctx, path, "cannot be read as JSON");
    if (!json_object_object_get_ex(root, "targets", &targets) ||
        !json_object_is_type(targets, json_type_array)) {
        json_object_put(root);
        return bad(ctx, path, "has no targets array: it is not a careshed summary");
    }
    size_t n = json_object_array_length(targets);
    b->target_id = cs_calloc(n + 1, sizeof *b->target_id);
    b->target_value = cs_calloc(n + 1, sizeof *b->target_value);
    cs_status st = b->target_id && b->target_value ? CS_OK : cs_nomem(ctx);
    for (size_t t = 0; st == CS_OK && t < n; t++) {
        json_object *o = json_object_array_get_idx(targets, t), *id, *district, *value;
        b->target_value[t] = NAN;
        if (!json_object_object_get_ex(o, "id", &id) ||
            !(b->target_id[t] = cs_strdup(json_object_get_string(id)))) {
            st = id ? cs_nomem(ctx) : bad(ctx, path, "a target has no id");
            break;
        }
        b->target_count++;
        if (json_object_object_get_ex(o, "district", &district) &&
            json_object_object_get_ex(district, "value", &value) &&
            (json_object_is_type(value, json_type_double) ||
             json_object_is_type(value, json_type_int)))
            b->target_value[t] = json_object_get_double(value);
    }
    json_object_put(root);
    return st;
}

/* The areas.csv beside summary.json; its absence leaves the streets unknown. */
static cs_status read_areas(cs_context *ctx, const cs_reporter *rp, const char *summary,
                            cs_baseline *b)
{
    const char *slash = strrchr(summary, '/');
    cs_buf path;
    cs_buf_init(&path);
    if (slash)
        cs_buf_addn(&path, summary, (size_t)(slash - summary + 1));
    cs_buf_add(&path, "areas.csv");
    if (!path.data)
        return cs_nomem(ctx);
    char column[256];
    const cs_result *r = rp->now;
    size_t k = rp->head_kind;
    cs_out_coverage_column(r, cs_res_main(r, k), k, r->study->kinds[k].threshold_count - 1,
                           rp->head_band, column, sizeof column);
    GDALDatasetH ds = GDALOpenEx(path.data, GDAL_OF_VECTOR, NULL, NULL, NULL);
    OGRLayerH layer = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
    OGRFeatureDefnH defn = layer ? OGR_L_GetLayerDefn(layer) : NULL;
    int id_field = defn ? OGR_FD_GetFieldIndex(defn, "id") : -1;
    int share_field = defn ? OGR_FD_GetFieldIndex(defn, column) : -1;
    cs_status st = CS_OK;
    if (!ds) {
        cs_where w = {.file = path.data};
        cs_warn(ctx, &w, "keep areas.csv beside the baseline's summary.json to compare streets",
                "cannot be read: changes by street are left out");
    } else if (id_field < 0 || share_field < 0) {
        cs_where w = {.file = path.data, .field = column};
        cs_warn(ctx, &w, "the baseline may measure differently; run it with the same study",
                "has no column %s: changes by street are left out", column);
    }
    size_t cap = 0;
    OGRFeatureH f;
    while (st == CS_OK && id_field >= 0 && share_field >= 0 &&
           (f = OGR_L_GetNextFeature(layer)) != NULL) {
        size_t old = cap;
        double *shares = NULL;
        if (!cs_grow((void **)&b->area_id, &cap, b->area_count + 1, sizeof *b->area_id) ||
            (cap != old && !(shares = cs_reallocarray(b->area_share, cap, sizeof *shares))))
            st = cs_nomem(ctx);
        if (shares)
            b->area_share = shares;
        if (st == CS_OK) {
            const char *text = OGR_F_GetFieldAsString(f, share_field);
            double v;
            b->area_share[b->area_count] = cs_parse_double(text, &v) ? v : NAN;
            b->area_id[b->area_count] = cs_strdup(OGR_F_GetFieldAsString(f, id_field));
            if (!b->area_id[b->area_count++])
                st = cs_nomem(ctx);
        }
        OGR_F_Destroy(f);
    }
    if (ds)
        GDALClose(ds);
    cs_buf_free(&path);
    return st;
}

cs_status cs_baseline_read(cs_context *ctx, const char *summary_path, const cs_reporter *rp,
                           cs_baseline **out)
{
    *out = cs_calloc(1, sizeof **out);
    if (!*out || !((*out)->path = cs_strdup(summary_path)))
        return cs_nomem(ctx);
    cs_status st = read_targets(ctx, summary_path, *out);
    if (st == CS_OK)
        st = read_areas(ctx, rp, summary_path, *out);
    return st;
}
