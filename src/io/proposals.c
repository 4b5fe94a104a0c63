/*
 * proposals.c — proposed sites from a file: points (or a table with lon/lat columns)
 * in any format GDAL reads and any CRS (the file's own, or as declared, GCJ-02 and
 * BD-09 included), with optional id, kind and capacity fields.
 */
#include "io/crs.h"
#include "io/layer.h"
#include "io/load.h"

#include <math.h>
#include <string.h>

static const char *const id_fields[] = {"id", "ID", "name", NULL};
static const char *const kind_fields[] = {"kind", "KIND", "type", NULL};
static const char *const capacity_fields[] = {"capacity", "CAPACITY", "cap", NULL};

void cs_site_inputs_free(cs_site_input *in, size_t n)
{
    for (size_t i = 0; in && i < n; i++) {
        cs_free((char *)in[i].id);
        cs_free((char *)in[i].kind);
        cs_free((char *)in[i].crs);
    }
    cs_free(in);
}

static cs_status read_one(cs_context *ctx, cs_layer *layer, const int *f, const char *crs,
                          const char *kind, long number, cs_site_input *p)
{
    memset(p, 0, sizeof *p);
    p->feature = number;
    p->capacity = NAN;
    p->id = cs_strdup(f[0] >= 0 ? cs_layer_text(layer, f[0]) : NULL);
    const char *k = f[1] >= 0 ? cs_layer_text(layer, f[1]) : NULL;
    if (!k || !*k)
        k = kind; /* an empty kind field means "not given" */
    p->kind = cs_strdup(k);
    p->crs = cs_strdup(crs);
    if ((f[0] >= 0 && !p->id) || (k && !p->kind) || (crs && !p->crs))
        return cs_nomem(ctx);
    cs_status st = cs_layer_point(ctx, layer, p->id, &p->lon, &p->lat);
    if (f[2] >= 0) {
        cs_status cst = cs_layer_number(ctx, layer, f[2], p->id, NAN, false, &p->capacity);
        if (st == CS_OK)
            st = cst;
    }
    return st;
}

/* The proposals.geojson careshed writes ends with the proposals together (id "all",
 * no kind): given back as proposals, that feature is no site. */
static bool is_careshed_total(cs_layer *layer, const int *f)
{
    const char *id = f[0] >= 0 ? cs_layer_text(layer, f[0]) : NULL;
    const char *k = f[1] >= 0 ? cs_layer_text(layer, f[1]) : NULL;
    return id && !strcmp(id, "all") && (!k || !*k);
}

cs_status cs_site_read(cs_context *ctx, const char *path, const char *crs, const char *kind,
                       cs_site_input **out, size_t *n)
{
    return cs_site_read_fields(ctx, path, crs, kind, NULL, NULL, out, n);
}

static cs_status read_sites(cs_context *ctx, const char *role, const char *path,
                            const char *crs, const char *kind, const char *x_field,
                            const char *y_field, cs_site_input **out, size_t *n);

cs_status cs_site_read_fields(cs_context *ctx, const char *path, const char *crs,
                              const char *kind, const char *x_field, const char *y_field,
                              cs_site_input **out, size_t *n)
{
    return read_sites(ctx, "proposals", path, crs, kind, x_field, y_field, out, n);
}

cs_status cs_candidates_read_fields(cs_context *ctx, const char *path, const char *crs,
                                    const char *kind, const char *x_field, const char *y_field,
                                    cs_site_input **out, size_t *n)
{
    return read_sites(ctx, "candidates", path, crs, kind, x_field, y_field, out, n);
}

/* Sites from a point layer; role names the layer in messages ("proposals file not
 * found", "no field for candidates.x"). */
static cs_status read_sites(cs_context *ctx, const char *role, const char *path,
                            const char *crs, const char *kind, const char *x_field,
                            const char *y_field, cs_site_input **out, size_t *n)
{
    if (!ctx || !path || !out || !n)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    *n = 0;
    cs_layer_config lc = {.path = (char *)path, .crs = (char *)crs, .x_field = (char *)x_field,
                          .y_field = (char *)y_field};
    cs_layer *layer = NULL;
    cs_status st = cs_layer_open(ctx, &lc, role, path, true, &layer);
    if (st != CS_OK)
        return st;
    const char *srs = crs ? crs : cs_layer_srs(layer);
    int f[3] = {cs_layer_find_field(ctx, layer, NULL, id_fields, "id", false),
                cs_layer_find_field(ctx, layer, NULL, kind_fields, "kind", false),
                cs_layer_find_field(ctx, layer, NULL, capacity_fields, "capacity", false)};
    size_t cap = 0;
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(layer, &number)) {
        if (!cs_grow((void **)out, &cap, *n + 1, sizeof **out)) {
            st = cs_nomem(ctx);
            break;
        }
        if (is_careshed_total(layer, f))
            continue;
        cs_status fst = read_one(ctx, layer, f, srs, kind, number, &(*out)[(*n)++]);
        if (st == CS_OK || fst == CS_ERR_NOMEM)
            st = fst;
    }
    if (st == CS_OK && cs_layer_text_failed(layer))
        st = CS_ERR_INPUT; /* recorded as it was read */
    if (cs_layer_read_status(layer) != CS_OK) /* the file ended early: reported */
        st = cs_layer_read_status(layer);
    cs_layer_close(layer);
    if (st != CS_OK) {
        cs_site_inputs_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return st;
}

cs_status cs_read_zones(cs_context *ctx, const char *path, const char *crs, const char *work_crs,
                        cs_rings *out)
{
    memset(out, 0, sizeof *out);
    cs_layer_config lc = {.path = (char *)path, .crs = (char *)crs};
    cs_layer *layer = NULL;
    cs_status st = cs_layer_open(ctx, &lc, "exclude", path, false, &layer);
    if (st != CS_OK)
        return st;
    /* the layer's CRS is the layer's: copied before the layer is closed */
    char *srs = cs_strdup(crs ? crs : cs_layer_srs(layer));
    if ((crs || cs_layer_srs(layer)) && !srs)
        st = cs_nomem(ctx);
    long number;
    while (st == CS_OK && cs_layer_next(layer, &number))
        st = cs_layer_polygons(ctx, layer, NULL, out);
    cs_layer_close(layer);
    cs_where w = {.file = path};
    cs_transform *to_wgs = NULL, *to_work = NULL;
    /* zones already in the working CRS keep their own coordinates (a round trip through
     * WGS84 would move them by ~1e-9 m) */
    bool same = st == CS_OK && srs && cs_crs_same(ctx, srs, work_crs);
    if (st == CS_OK && srs && !same)
        st = cs_transform_create(ctx, srs, "EPSG:4326", &w, &to_wgs);
    if (st == CS_OK && !same)
        st = cs_transform_create(ctx, "EPSG:4326", work_crs, &w, &to_work);
    if (st == CS_OK && !same &&
        ((to_wgs && cs_transform_apply(to_wgs, out->x, out->y, out->vertex_count)) ||
         cs_transform_apply(to_work, out->x, out->y, out->vertex_count)))
        st = cs_error(ctx, CS_ERR_CRS, &w, "check the layer's CRS (--exclude-crs)",
                      "the exclusion zones cannot be brought into the study's CRS");
    cs_transform_destroy(to_wgs);
    cs_transform_destroy(to_work);
    cs_free(srs);
    if (st != CS_OK)
        cs_rings_free(out);
    return st;
}
