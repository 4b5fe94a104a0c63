/*
 * baseline.c — a previous run to compare with: its targets' district values from
 * summary.json (json-c), and from the files beside it (through GDAL) its streets'
 * headline coverage (areas.csv) and its facilities (facilities.geojson), matched by
 * target, street and facility id.
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
    char **facility_texts[4] = {b->fac_id, b->fac_name, b->fac_kind, b->fac_street};
    for (int i = 0; i < 4; i++) {
        for (size_t f = 0; facility_texts[i] && f < b->fac_count; f++)
            cs_free(facility_texts[i][f]);
        cs_free(facility_texts[i]);
    }
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

/* A number of the summary's unrounded figures ("exact": {section: {key: number}}), or
 * of one of its objects (section NULL); NaN when it has none. */
static double exact_number(json_object *in, const char *section, const char *key)
{
    json_object *o = in, *v = NULL;
    if (section && !json_object_object_get_ex(in, section, &o))
        return NAN;
    if (!json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return NAN;
    return json_object_get_double(v);
}

/* The targets' district values: unrounded from "exact" (runs since it was written),
 * else as the targets list shows them. */
static cs_status read_targets(cs_context *ctx, const char *path, json_object *root,
                              cs_baseline *b)
{
    json_object *targets = NULL, *exact = NULL;
    if (!json_object_object_get_ex(root, "targets", &targets) ||
        !json_object_is_type(targets, json_type_array))
        return bad(ctx, path, "has no targets array: it is not a careshed summary");
    json_object_object_get_ex(root, "exact", &exact);
    size_t n = json_object_array_length(targets);
    b->target_id = cs_calloc(n + 1, sizeof *b->target_id);
    b->target_value = cs_calloc(n + 1, sizeof *b->target_value);
    cs_status st = b->target_id && b->target_value ? CS_OK : cs_nomem(ctx);
    for (size_t t = 0; st == CS_OK && t < n; t++) {
        json_object *o = json_object_array_get_idx(targets, t), *id, *district;
        b->target_value[t] = NAN;
        if (!json_object_object_get_ex(o, "id", &id) ||
            !(b->target_id[t] = cs_strdup(json_object_get_string(id)))) {
            st = id ? cs_nomem(ctx) : bad(ctx, path, "a target has no id");
            break;
        }
        b->target_count++;
        b->target_value[t] = exact ? exact_number(exact, "targets", b->target_id[t]) : NAN;
        if (!exact && json_object_object_get_ex(o, "district", &district))
            b->target_value[t] = exact_number(district, NULL, "value");
    }
    return st;
}

/* The streets' headline coverage, unrounded, from the summary's "exact" areas; false
 * when the summary has none (a run before they were written). */
static bool read_exact_areas(cs_context *ctx, const cs_reporter *rp, json_object *root,
                             cs_baseline *b, cs_status *st)
{
    json_object *exact = NULL, *areas = NULL;
    if (!json_object_object_get_ex(root, "exact", &exact) ||
        !json_object_object_get_ex(exact, "areas", &areas) ||
        !json_object_is_type(areas, json_type_object))
        return false;
    char column[256];
    cs_out_coverage_column(rp->now, rp->head_measure, rp->head_kind, rp->head_threshold,
                           rp->head_band, column, sizeof column);
    size_t n = (size_t)json_object_object_length(areas), i = 0;
    b->area_id = cs_calloc(n + 1, sizeof *b->area_id);
    b->area_share = cs_calloc(n + 1, sizeof *b->area_share);
    if (!b->area_id || !b->area_share) {
        *st = cs_nomem(ctx);
        return true;
    }
    json_object_object_foreach(areas, id, figures)
    {
        if (i == n || !(b->area_id[i] = cs_strdup(id))) {
            *st = cs_nomem(ctx);
            break;
        }
        b->area_share[i++] = exact_number(figures, NULL, column);
        b->area_count = i;
    }
    return true;
}

/* The path of file name beside summary.json, noted as the baseline's (a report never
 * writes over the run it compares with, whether it reads the file or not). */
static void beside(cs_context *ctx, const char *summary, const char *name, cs_buf *path)
{
    const char *slash = strrchr(summary, '/');
    if (slash)
        cs_buf_addn(path, summary, (size_t)(slash - summary + 1));
    cs_buf_add(path, name);
    cs_input_note(ctx, path->data, "baseline");
}

/* A file beside summary.json, opened with GDAL; NULL (with a warning saying what is
 * left out) when it cannot be read. */
static GDALDatasetH open_beside(cs_context *ctx, const char *summary, const char *name,
                                const char *left_out)
{
    cs_buf path;
    cs_buf_init(&path);
    beside(ctx, summary, name, &path);
    GDALDatasetH ds = path.data ? GDALOpenEx(path.data, GDAL_OF_VECTOR, NULL, NULL, NULL)
                                : NULL;
    if (!ds) {
        cs_where w = {.file = path.data ? path.data : name};
        cs_warn(ctx, &w, "keep the run's files together to compare with them",
                "cannot be read: %s are left out", left_out);
    }
    cs_buf_free(&path);
    return ds;
}

/* Append a text to a growing list (count in *n, capacity in *cap). */
static bool add_text(char ***list, size_t *n, size_t *cap, const char *text)
{
    if (!cs_grow((void **)list, cap, *n + 1, sizeof **list))
        return false;
    (*list)[*n] = cs_strdup(text);
    return (*list)[(*n)++] != NULL;
}

/* The streets' headline coverage from the areas.csv beside summary.json. */
static cs_status read_areas(cs_context *ctx, const cs_reporter *rp, const char *summary,
                            cs_baseline *b)
{
    char column[256];
    const cs_result *r = rp->now;
    cs_out_coverage_column(r, rp->head_measure, rp->head_kind, rp->head_threshold,
                           rp->head_band, column, sizeof column);
    GDALDatasetH ds = open_beside(ctx, summary, "areas.csv", "the changes by street");
    if (!ds)
        return CS_OK;
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH defn = layer ? OGR_L_GetLayerDefn(layer) : NULL;
    int id_field = defn ? OGR_FD_GetFieldIndex(defn, "id") : -1;
    int share_field = defn ? OGR_FD_GetFieldIndex(defn, column) : -1;
    if (defn && share_field < 0) { /* a baseline run before the naming rule */
        char old[256];
        cs_out_coverage_column_v1(r, rp->head_measure, rp->head_kind, rp->head_threshold,
                                  rp->head_band, old, sizeof old);
        share_field = OGR_FD_GetFieldIndex(defn, old);
    }
    if (id_field < 0 || share_field < 0) {
        cs_where w = {.file = "areas.csv", .field = column};
        cs_warn(ctx, &w, "the baseline may measure differently; run it with the same study",
                "the baseline has no column %s: changes by street are left out", column);
    }
    cs_status st = CS_OK;
    size_t cap = 0, share_cap = 0;
    OGRFeatureH f;
    while (st == CS_OK && id_field >= 0 && share_field >= 0 &&
           (f = OGR_L_GetNextFeature(layer)) != NULL) {
        double v;
        size_t n = b->area_count;
        if (!cs_grow((void **)&b->area_share, &share_cap, n + 1, sizeof *b->area_share) ||
            !add_text(&b->area_id, &b->area_count, &cap, OGR_F_GetFieldAsString(f, id_field)))
            st = cs_nomem(ctx);
        else
            b->area_share[n] = cs_parse_double(OGR_F_GetFieldAsString(f, share_field), &v)
                                   ? v
                                   : NAN;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return st;
}

/* The facilities from the facilities.geojson beside summary.json: id, name, kind, street. */
static cs_status read_facilities(cs_context *ctx, const char *summary, cs_baseline *b)
{
    GDALDatasetH ds = open_beside(ctx, summary, "facilities.geojson",
                                  "the new and closed facilities");
    if (!ds)
        return CS_OK;
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH defn = layer ? OGR_L_GetLayerDefn(layer) : NULL;
    static const char *const names[4] = {"id", "name", "kind_name", "area_name"};
    int field[4];
    for (int i = 0; i < 4; i++)
        field[i] = defn ? OGR_FD_GetFieldIndex(defn, names[i]) : -1;
    b->has_facilities = field[0] >= 0;
    cs_status st = CS_OK;
    size_t cap[4] = {0};
    OGRFeatureH f;
    while (st == CS_OK && b->has_facilities && (f = OGR_L_GetNextFeature(layer)) != NULL) {
        char ***list[4] = {&b->fac_id, &b->fac_name, &b->fac_kind, &b->fac_street};
        char *text[4];
        bool ok = true;
        for (int i = 0; i < 4; i++) {
            text[i] = cs_strdup(field[i] >= 0 ? OGR_F_GetFieldAsString(f, field[i]) : "");
            ok = ok && text[i];
        }
        for (int i = 0; ok && i < 4; i++) /* every list grows, or none takes a text */
            ok = cs_grow((void **)list[i], &cap[i], b->fac_count + 1, sizeof(char *));
        for (int i = 0; i < 4; i++) {
            if (ok)
                (*list[i])[b->fac_count] = text[i];
            else
                cs_free(text[i]);
        }
        b->fac_count += ok;
        if (!ok)
            st = cs_nomem(ctx);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return st;
}

cs_status cs_baseline_read(cs_context *ctx, const char *summary_path, const cs_reporter *rp,
                           cs_baseline **out)
{
    *out = cs_calloc(1, sizeof **out);
    if (!*out || !((*out)->path = cs_strdup(summary_path)))
        return cs_nomem(ctx);
    cs_input_note(ctx, summary_path, "baseline");
    json_object *root = json_object_from_file(summary_path);
    if (!root)
        return bad(ctx, summary_path, "cannot be read as JSON");
    cs_status st = read_targets(ctx, summary_path, root, *out);
    if (st == CS_OK && !read_exact_areas(ctx, rp, root, *out, &st))
        st = read_areas(ctx, rp, summary_path, *out); /* areas.csv, rounded */
    else {
        cs_buf areas;
        cs_buf_init(&areas);
        beside(ctx, summary_path, "areas.csv", &areas);
        cs_buf_free(&areas);
    }
    json_object_put(root);
    if (st == CS_OK)
        st = read_facilities(ctx, summary_path, *out);
    return st;
}
