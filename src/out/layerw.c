/*
 * layerw.c — one writer for a layer in every format: each output layer's code says
 * once which properties and which geometry a feature has, and this writes it as a
 * GeoJSON feature, as a GeoPackage feature, or both in the same pass (the geometry is
 * cleaned once for both: WGS84, 7 decimals, repeated points dropped, RFC 7946 ring
 * order). Property values carry their type, so a GeoPackage column is typed even where
 * every value is null.
 *
 * Column names go through the layer's name map when Shapefile-safe names are asked for
 * (names.c), which records each mapping for column-names.csv.
 */
#include "out/out.h"

#include <math.h>
#include <string.h>

cs_status cs_lw_begin(cs_lw *w, cs_context *ctx, const char *name, const char *json_name,
                      cs_buf *json, cs_gpkg *gpkg, cs_gpkg_geometry geometry, cs_names *names)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->json = json;
    w->names = names;
    w->layer_name = name;
    cs_buf_init(&w->wkb);
    if (gpkg) {
        w->st = cs_gpkg_layer_create(ctx, gpkg, name, geometry, &w->gpkg);
        if (w->st != CS_OK)
            return w->st;
    }
    if (json) {
        cs_json_init(&w->j, json, false);
        cs_json_begin_object(&w->j);
        cs_json_key(&w->j, "type");
        cs_json_string(&w->j, "FeatureCollection");
        cs_json_key(&w->j, "name");
        cs_json_string(&w->j, json_name);
        cs_json_key(&w->j, "features");
        cs_json_begin_array(&w->j);
    }
    return CS_OK;
}

void cs_lw_drain_to(cs_lw *w, cs_lw_drain drain, void *user)
{
    w->drain = drain;
    w->drain_user = user;
}

/* The text so far to the drain, once there is enough of it. */
static void maybe_drain(cs_lw *w)
{
    if (w->drain && w->json && w->json->len >= CS_LW_DRAIN_AT && w->st == CS_OK &&
        !w->json->failed && !w->drain(w->drain_user, w->json))
        w->st = CS_ERR_OUTPUT;
}

void cs_lw_feature(cs_lw *w)
{
    maybe_drain(w);
    if (w->json) {
        cs_buf_add(w->json, "\n");
        cs_json_begin_object(&w->j);
        cs_json_key(&w->j, "type");
        cs_json_string(&w->j, "Feature");
        cs_json_key(&w->j, "properties");
        cs_json_begin_object(&w->j);
    }
    if (w->gpkg)
        cs_gpkg_feature_begin(w->gpkg);
}

/* The name a property is written under, and its GeoPackage field. */
static const char *key(cs_lw *w, const char *name, cs_field_type type, int *field)
{
    const char *shown = name;
    if (w->names) {
        shown = cs_names_map(w->names, w->layer_name, name);
        if (!shown) {
            w->st = CS_ERR_NOMEM;
            shown = name;
        }
    }
    if (w->json)
        cs_json_key(&w->j, shown);
    *field = w->gpkg ? cs_gpkg_field(w->gpkg, shown, type) : -1;
    return shown;
}

/* Text as in the GeoJSON: bytes that are not UTF-8 become U+FFFD. */
static void gpkg_text(cs_lw *w, int field, const char *text)
{
    if (cs_utf8_is_clean(text)) {
        cs_gpkg_set_text(w->gpkg, field, text);
        return;
    }
    cs_buf clean;
    cs_buf_init(&clean);
    cs_utf8_add_clean(&clean, text);
    if (clean.failed)
        w->st = CS_ERR_NOMEM;
    else
        cs_gpkg_set_text(w->gpkg, field, clean.data);
    cs_buf_free(&clean);
}

/* v rounded to decimals as "%.*f" (and so the GeoJSON) rounds it: to the nearest,
 * ties to even, on v's exact binary value. v * 10^decimals may itself round onto a
 * tie; fma gives the product's exact remainder, which says the side of the tie. */
static double fixed_round(double v, int decimals)
{
    if (!isfinite(v) || decimals < 0 || decimals > 15)
        return v;
    double scale = pow(10, decimals), p = v * scale;
    if (fabs(p) >= 0x1p52)
        return v; /* no fraction left to round */
    double r = nearbyint(p);
    if (fabs(p - trunc(p)) == 0.5) {
        double e = fma(v, scale, -p);
        if (e > 0)
            r = ceil(p);
        else if (e < 0)
            r = floor(p);
    }
    return r / scale;
}

void cs_lw_number(cs_lw *w, const char *name, double v, int decimals)
{
    int field;
    key(w, name, decimals == 0 ? CS_FIELD_INTEGER : CS_FIELD_REAL, &field);
    if (w->json)
        cs_json_number(&w->j, v, decimals);
    if (w->gpkg) /* the same rounding as the GeoJSON's, so both hold the same figures */
        cs_gpkg_set_number(w->gpkg, field, isfinite(v) ? fixed_round(v, decimals) : NAN);
}

void cs_lw_text(cs_lw *w, const char *name, const char *text)
{
    int field;
    key(w, name, CS_FIELD_TEXT, &field);
    if (w->json)
        cs_json_string(&w->j, text);
    if (w->gpkg && text)
        gpkg_text(w, field, text);
}

void cs_lw_bool(cs_lw *w, const char *name, bool known, bool v)
{
    int field;
    key(w, name, CS_FIELD_BOOL, &field);
    if (w->json) {
        if (known)
            cs_json_boolean(&w->j, v);
        else
            cs_json_null(&w->j);
    }
    if (w->gpkg)
        cs_gpkg_set_number(w->gpkg, field, known ? v : NAN);
}

void cs_lw_texts(cs_lw *w, const char *name, const char *const *items, size_t n)
{
    int field;
    key(w, name, CS_FIELD_TEXT, &field);
    if (w->json) {
        cs_json_begin_array(&w->j);
        for (size_t i = 0; i < n; i++)
            cs_json_string(&w->j, items[i]);
        cs_json_end_array(&w->j);
    }
    if (w->gpkg) {
        /* a GeoPackage has no list type: the items joined by ", " */
        cs_buf joined;
        cs_buf_init(&joined);
        for (size_t i = 0; i < n; i++)
            cs_buf_printf(&joined, "%s%s", i ? ", " : "", items[i] ? items[i] : "");
        if (joined.failed)
            w->st = CS_ERR_NOMEM;
        else if (n)
            gpkg_text(w, field, joined.data);
        cs_buf_free(&joined);
    }
}

void cs_lw_cell(cs_lw *w, const char *name, const cs_cell *c, cs_cell_type column)
{
    bool null = c->type == CS_CELL_NULL;
    switch (column) {
    case CS_CELL_TEXT: cs_lw_text(w, name, null ? NULL : c->text); break;
    case CS_CELL_BOOL: cs_lw_bool(w, name, !null, !null && c->number != 0); break;
    case CS_CELL_NUMBER:
    case CS_CELL_NULL:
    default: cs_lw_number(w, name, null ? NAN : c->number, c->decimals); break;
    }
}

/* ------------------------------------------------------------------ geometry */

static void wkb_u8(cs_buf *b, unsigned char v)
{
    cs_buf_addn(b, (const char *)&v, 1);
}
static void wkb_u32(cs_buf *b, uint32_t v)
{
    unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24)};
    cs_buf_addn(b, (const char *)le, 4);
}
/* v little-endian into out[0..8). */
static void le_f64(unsigned char *out, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(u >> (8 * i));
}
static void wkb_f64(cs_buf *b, double v)
{
    unsigned char le[8];
    le_f64(le, v);
    cs_buf_addn(b, (const char *)le, 8);
}
/* A WKB header: little-endian, then the type. */
static void wkb_header(cs_buf *b, uint32_t type)
{
    wkb_u8(b, 1);
    wkb_u32(b, type);
}

static double signed_area(const double *x, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++)
        s += x[i] * y[i + 1] - x[i + 1] * y[i];
    return s / 2;
}

/* Points [0, n) rounded to 7 decimals, backwards when reverse, consecutive equal
 * points once, into the writer's scratch; returns how many. */
static size_t clean_points(cs_lw *w, const double *x, const double *y, size_t n, bool reverse)
{
    if (n > w->scratch_cap) {
        double *nx = cs_realloc(w->px, n * sizeof *nx);
        if (nx)
            w->px = nx;
        double *ny = nx ? cs_realloc(w->py, n * sizeof *ny) : NULL;
        if (ny)
            w->py = ny;
        if (!nx || !ny) {
            w->st = CS_ERR_NOMEM;
            return 0;
        }
        w->scratch_cap = n;
    }
    double scale = pow(10, CS_COORD_DECIMALS);
    double last_x = NAN, last_y = NAN;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        double rx = round(x[i] * scale) / scale, ry = round(y[i] * scale) / scale;
        if (rx == last_x && ry == last_y)
            continue;
        w->px[m] = last_x = rx;
        w->py[m++] = last_y = ry;
    }
    return m;
}

/* The cleaned points as a JSON array and/or a WKB point list. */
static void emit_points(cs_lw *w, size_t m)
{
    if (w->json)
        cs_json_rounded_pairs(&w->j, w->px, w->py, m, CS_COORD_DECIMALS); /* rounded above */
    if (w->gpkg) {
        wkb_u32(&w->wkb, (uint32_t)m);
        if (!cs_buf_reserve(&w->wkb, 16 * m))
            return;
        unsigned char *out = (unsigned char *)w->wkb.data + w->wkb.len;
        for (size_t i = 0; i < m; i++) {
            le_f64(out + 16 * i, w->px[i]);
            le_f64(out + 16 * i + 8, w->py[i]);
        }
        w->wkb.len += 16 * m;
        w->wkb.data[w->wkb.len] = '\0';
    }
}

/* Close the properties and open the geometry member. */
static void begin_geometry(cs_lw *w, const char *type)
{
    cs_buf_clear(&w->wkb);
    if (!w->json)
        return;
    cs_json_end_object(&w->j);
    cs_json_key(&w->j, "geometry");
    if (!type)
        return;
    cs_json_begin_object(&w->j);
    cs_json_key(&w->j, "type");
    cs_json_string(&w->j, type);
    cs_json_key(&w->j, "coordinates");
}

/* Close the geometry (when there is one) and the feature, and store it. */
static void end_feature(cs_lw *w, bool has_geometry)
{
    if (w->json) {
        if (has_geometry)
            cs_json_end_object(&w->j);
        cs_json_end_object(&w->j);
    }
    if (!w->gpkg || w->st != CS_OK)
        return;
    if (w->wkb.failed) {
        w->st = CS_ERR_NOMEM;
        return;
    }
    if (has_geometry)
        cs_gpkg_set_wkb(w->gpkg, (const unsigned char *)w->wkb.data, w->wkb.len);
    w->st = cs_gpkg_feature_end(w->ctx, w->gpkg);
}

/* Polygons p as the feature's geometry, their vertices at x, y (already in WGS84). */
static void emit_polygons(cs_lw *w, const cs_rings *p, const double *x, const double *y)
{
    begin_geometry(w, "MultiPolygon");
    if (w->json)
        cs_json_begin_array(&w->j);
    wkb_header(&w->wkb, 6);
    wkb_u32(&w->wkb, (uint32_t)p->area_count);
    for (size_t poly = 0; poly < p->area_count; poly++) {
        if (w->json)
            cs_json_begin_array(&w->j);
        size_t first = p->area_ring_start[poly], end = p->area_ring_start[poly + 1];
        wkb_header(&w->wkb, 3);
        wkb_u32(&w->wkb, (uint32_t)(end - first));
        for (size_t r = first; r < end; r++) {
            size_t start = p->ring_start[r], n = p->ring_start[r + 1] - start;
            bool ccw = r == first; /* the exterior turns counter-clockwise, holes not */
            bool reverse = (signed_area(x + start, y + start, n) > 0) != ccw;
            emit_points(w, clean_points(w, x + start, y + start, n, reverse));
            maybe_drain(w);
        }
        if (w->json)
            cs_json_end_array(&w->j);
    }
    if (w->json)
        cs_json_end_array(&w->j);
    end_feature(w, true);
}

void cs_lw_polygons(cs_lw *w, const cs_study *s, const cs_geom *g, cs_transform *to_wgs84)
{
    if (!g) {
        cs_lw_no_geometry(w);
        return;
    }
    cs_rings p = {0};
    cs_status st = cs_geom_append_polygons(s->geos, g, &p);
    if (st == CS_OK) { /* the rings are this feature's own: taken to WGS84 in place */
        cs_transform_apply(to_wgs84, p.x, p.y, p.vertex_count);
        emit_polygons(w, &p, p.x, p.y);
    } else if (w->st == CS_OK) {
        w->st = st;
    }
    cs_rings_free(&p);
}

void cs_lw_rings(cs_lw *w, const cs_rings *p, cs_transform *to_wgs84)
{
    if (!p) {
        cs_lw_no_geometry(w);
        return;
    }
    size_t nv = p->vertex_count;
    double *x = cs_malloc((nv + 1) * sizeof *x), *y = cs_malloc((nv + 1) * sizeof *y);
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        w->st = CS_ERR_NOMEM;
        return;
    }
    if (nv) { /* the rings are kept: their copy goes to WGS84 */
        memcpy(x, p->x, nv * sizeof *x);
        memcpy(y, p->y, nv * sizeof *y);
        cs_transform_apply(to_wgs84, x, y, nv);
    }
    emit_polygons(w, p, x, y);
    cs_free(x);
    cs_free(y);
}

cs_status cs_lw_lines(cs_lw *w, const cs_lines *lines, cs_transform *to_wgs84)
{
    size_t n = lines->count ? lines->start[lines->count] : 0;
    double *x = cs_calloc(n + 1, sizeof *x), *y = cs_calloc(n + 1, sizeof *y);
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        return w->st = CS_ERR_NOMEM;
    }
    if (n) { /* a kind that reaches nothing has no vertices at all */
        memcpy(x, lines->x, n * sizeof *x);
        memcpy(y, lines->y, n * sizeof *y);
        cs_transform_apply(to_wgs84, x, y, n);
    }
    begin_geometry(w, "MultiLineString");
    if (w->json)
        cs_json_begin_array(&w->j);
    wkb_header(&w->wkb, 5);
    size_t count_at = w->wkb.len;
    wkb_u32(&w->wkb, 0); /* the lines written: set below */
    uint32_t written = 0;
    for (size_t l = 0; l < lines->count; l++) {
        /* a piece shorter than the coordinates' precision (about 1 cm) is one point once
         * rounded: not a line (GeoJSON and GEOS want two positions at least) */
        size_t m = clean_points(w, x + lines->start[l], y + lines->start[l],
                                lines->start[l + 1] - lines->start[l], false);
        if (m < 2)
            continue;
        wkb_header(&w->wkb, 2);
        emit_points(w, m);
        maybe_drain(w);
        written++;
    }
    if (!w->wkb.failed) {
        unsigned char le[4] = {(unsigned char)written, (unsigned char)(written >> 8),
                               (unsigned char)(written >> 16), (unsigned char)(written >> 24)};
        memcpy(w->wkb.data + count_at, le, 4);
    }
    if (w->json)
        cs_json_end_array(&w->j);
    cs_free(x);
    cs_free(y);
    end_feature(w, true);
    return w->st;
}

void cs_lw_point(cs_lw *w, double lon, double lat)
{
    begin_geometry(w, "Point");
    if (w->json) {
        cs_json_begin_array(&w->j);
        cs_json_number(&w->j, lon, CS_COORD_DECIMALS);
        cs_json_number(&w->j, lat, CS_COORD_DECIMALS);
        cs_json_end_array(&w->j);
    }
    wkb_header(&w->wkb, 1);
    wkb_f64(&w->wkb, fixed_round(lon, CS_COORD_DECIMALS));
    wkb_f64(&w->wkb, fixed_round(lat, CS_COORD_DECIMALS));
    end_feature(w, true);
}

void cs_lw_no_geometry(cs_lw *w)
{
    begin_geometry(w, NULL);
    if (w->json)
        cs_json_null(&w->j);
    end_feature(w, false);
}

cs_status cs_lw_end(cs_lw *w)
{
    if (w->json) {
        cs_json_end_array(&w->j);
        cs_json_end_object(&w->j);
        cs_buf_addc(w->json, '\n');
        if (w->json->failed && w->st == CS_OK)
            w->st = CS_ERR_NOMEM;
    }
    cs_buf_free(&w->wkb);
    cs_free(w->px);
    cs_free(w->py);
    w->px = w->py = NULL;
    return w->st;
}
