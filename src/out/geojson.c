/*
 * geojson.c — the GeoJSON and CSV files: areas with every indicator, service circles,
 * facilities with the area each lies in, and the same area table as CSV (UTF-8 with a
 * byte-order mark, so Excel shows Chinese). GeoJSON follows RFC 7946: WGS84 lon/lat,
 * exterior rings counter-clockwise and holes clockwise, 7 decimals; no "crs" member.
 */
#include "cover/cover.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double signed_area(const double *x, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++)
        s += x[i] * y[i + 1] - x[i + 1] * y[i];
    return s / 2;
}

/* Points [0, n) as a JSON array of [lon, lat], backwards when reverse; consecutive
 * points equal at 7 decimals are written once. */
static void write_points(cs_json *j, const double *x, const double *y, size_t n, bool reverse)
{
    cs_json_begin_array(j);
    double last_x = NAN, last_y = NAN;
    double scale = pow(10, CS_COORD_DECIMALS);
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        double rx = round(x[i] * scale) / scale, ry = round(y[i] * scale) / scale;
        if (rx == last_x && ry == last_y)
            continue;
        cs_json_begin_array(j);
        cs_json_number(j, rx, CS_COORD_DECIMALS);
        cs_json_number(j, ry, CS_COORD_DECIMALS);
        cs_json_end_array(j);
        last_x = rx;
        last_y = ry;
    }
    cs_json_end_array(j);
}

/* One ring; ccw says which way it must turn. */
static void write_ring(cs_json *j, const double *x, const double *y, size_t n, bool ccw)
{
    write_points(j, x, y, n, (signed_area(x, y, n) > 0) != ccw);
}

cs_status cs_out_json_polygons(cs_json *j, const cs_study *s, const cs_geom *g,
                               cs_transform *to_wgs84)
{
    cs_rings p = {0};
    cs_status st = cs_geom_append_polygons(s->geos, g, &p);
    if (st != CS_OK) {
        cs_rings_free(&p);
        return st;
    }
    cs_transform_apply(to_wgs84, p.x, p.y, p.vertex_count);
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, "MultiPolygon");
    cs_json_key(j, "coordinates");
    cs_json_begin_array(j);
    for (size_t poly = 0; poly < p.area_count; poly++) {
        cs_json_begin_array(j);
        for (size_t r = p.area_ring_start[poly]; r < p.area_ring_start[poly + 1]; r++) {
            size_t start = p.ring_start[r], n = p.ring_start[r + 1] - start;
            write_ring(j, p.x + start, p.y + start, n, r == p.area_ring_start[poly]);
        }
        cs_json_end_array(j);
    }
    cs_json_end_array(j);
    cs_json_end_object(j);
    cs_rings_free(&p);
    return CS_OK;
}

/* Lines (working CRS) as a MultiLineString in WGS84; consecutive points equal at 7
 * decimals are written once. */
static cs_status json_lines(cs_json *j, const cs_lines *lines, cs_transform *to_wgs84)
{
    size_t n = lines->count ? lines->start[lines->count] : 0;
    double *x = cs_calloc(n + 1, sizeof *x), *y = cs_calloc(n + 1, sizeof *y);
    if (!x || !y) {
        cs_free(x);
        cs_free(y);
        return CS_ERR_NOMEM;
    }
    if (n) { /* a kind that reaches nothing has no vertices at all */
        memcpy(x, lines->x, n * sizeof *x);
        memcpy(y, lines->y, n * sizeof *y);
        cs_transform_apply(to_wgs84, x, y, n);
    }
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, "MultiLineString");
    cs_json_key(j, "coordinates");
    cs_json_begin_array(j);
    for (size_t l = 0; l < lines->count; l++)
        write_points(j, x + lines->start[l], y + lines->start[l],
                     lines->start[l + 1] - lines->start[l], false);
    cs_json_end_array(j);
    cs_json_end_object(j);
    cs_free(x);
    cs_free(y);
    return CS_OK;
}

static void begin_collection(cs_json *j, const char *name)
{
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, "FeatureCollection");
    cs_json_key(j, "name");
    cs_json_string(j, name);
    cs_json_key(j, "features");
    cs_json_begin_array(j);
}

/* A new feature on its own line, left open in its properties object. */
static void begin_feature(cs_json *j, cs_buf *out)
{
    cs_buf_add(out, "\n");
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, "Feature");
    cs_json_key(j, "properties");
    cs_json_begin_object(j);
}

static void end_collection(cs_json *j)
{
    cs_json_end_array(j);
    cs_json_end_object(j);
}

static cs_status finish(cs_buf *out)
{
    cs_buf_addc(out, '\n');
    return out->failed ? CS_ERR_NOMEM : CS_OK;
}

cs_status cs_out_areas_geojson(const cs_result *r, const cs_table *t, cs_transform *to_wgs84,
                               cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, false);
    begin_collection(&j, "areas");
    for (size_t a = 0; a < r->A; a++) {
        begin_feature(&j, out);
        for (size_t c = 0; c < t->columns; c++) {
            cs_json_key(&j, t->names[c]);
            cs_out_json_cell(&j, &t->cells[a * t->columns + c]);
        }
        cs_json_end_object(&j);
        cs_json_key(&j, "geometry");
        cs_status st = cs_out_json_polygons(&j, r->study, r->study->areas.geom[a], to_wgs84);
        if (st != CS_OK)
            return st;
        cs_json_end_object(&j);
    }
    end_collection(&j);
    return finish(out);
}

static void threshold_props(cs_json *j, const cs_kind *k, size_t t)
{
    cs_json_key(j, "threshold_min");
    cs_json_number(j, k->threshold_min[t], 3);
    cs_json_key(j, "threshold_m");
    cs_json_number(j, k->threshold_m[t], 1);
    cs_json_key(j, "walk_speed_kmh");
    cs_json_number(j, isnan(k->threshold_min[t]) ? NAN : k->walk_speed_kmh, 3);
}

/* Properties every service-area feature starts with. */
static void kind_props(cs_json *j, const cs_kind *kind, size_t m, size_t t)
{
    cs_json_key(j, "kind");
    cs_json_string(j, kind->id);
    cs_json_key(j, "kind_name");
    cs_json_string(j, kind->name);
    cs_json_key(j, "measure");
    cs_json_string(j, cs_measure_name(m));
    threshold_props(j, kind, t);
}

static void circle_properties(cs_json *j, const cs_result *r, size_t m, size_t k, size_t t,
                              const cs_geom *g)
{
    const cs_study *s = r->study;
    kind_props(j, &s->settings.kinds[k], m, t);
    cs_json_key(j, "facilities");
    cs_json_number(j, r->fac_count[cs_res_count(r, k, r->A)], 0);
    cs_json_key(j, "area_km2");
    cs_json_number(j, g ? cs_geom_area_m2(s->geos, g) / 1e6 : NAN, 3);
    for (size_t b = 0; b < r->B; b++) {
        char key[96];
        snprintf(key, sizeof key, "covered_%s", s->settings.band_names[b]);
        cs_json_key(j, key);
        cs_json_number(j, r->covered[cs_res_cov(r, m, k, t, r->A, b)], 1);
    }
    cs_json_end_object(j);
}

cs_status cs_out_circles_geojson(cs_context *ctx, const cs_result *r, cs_transform *to_wgs84,
                                 cs_geom *const *net_polys, cs_buf *out)
{
    const cs_study *s = r->study;
    size_t n = r->K * CS_MAX_THRESHOLDS;
    cs_geom **circles = cs_calloc(n + 1, sizeof *circles);
    if (!circles)
        return cs_nomem(ctx);
    cs_status st = cs_cover_circles(ctx, s, circles);
    cs_json j;
    cs_json_init(&j, out, false);
    begin_collection(&j, "service-circles");
    /* straight circles, then network areas, so QGIS can style by "measure"; a cost
     * matrix has no shape to draw */
    for (size_t m = CS_M_STRAIGHT; m <= CS_M_NETWORK; m++)
        for (size_t k = 0; st == CS_OK && k < r->K; k++)
            for (size_t t = 0; st == CS_OK && t < s->settings.kinds[k].threshold_count; t++) {
                if (!r->dist_m[cs_res_field(r, m, k)])
                    continue;
                const cs_geom *g = (m ? net_polys : circles)[k * CS_MAX_THRESHOLDS + t];
                begin_feature(&j, out);
                circle_properties(&j, r, m, k, t, g);
                cs_json_key(&j, "geometry");
                if (g)
                    st = cs_out_json_polygons(&j, s, g, to_wgs84);
                else /* too large to dissolve (network.area_max_pieces) */
                    cs_json_null(&j);
                cs_json_end_object(&j);
            }
    end_collection(&j);
    for (size_t i = 0; i < n; i++)
        cs_geom_destroy(s->geos, circles[i]);
    cs_free(circles);
    return st == CS_OK ? finish(out) : st;
}

cs_status cs_out_network_geojson(const cs_result *r, const cs_lines *lines,
                                 cs_transform *to_wgs84, cs_buf *out)
{
    const cs_study *s = r->study;
    cs_json j;
    cs_json_init(&j, out, false);
    begin_collection(&j, "service-network");
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < r->K; k++)
        for (size_t t = 0; st == CS_OK && t < s->settings.kinds[k].threshold_count; t++) {
            const cs_lines *l = &lines[k * CS_MAX_THRESHOLDS + t];
            if (!r->dist_m[cs_res_field(r, 1, k)])
                continue;
            double length_m = 0;
            for (size_t p = 0; p < l->count; p++)
                for (size_t i = l->start[p]; i + 1 < l->start[p + 1]; i++)
                    length_m += hypot(l->x[i + 1] - l->x[i], l->y[i + 1] - l->y[i]);
            begin_feature(&j, out);
            kind_props(&j, &s->settings.kinds[k], 1, t);
            cs_json_key(&j, "length_km");
            cs_json_number(&j, length_m / 1000.0, 3);
            cs_json_end_object(&j);
            cs_json_key(&j, "geometry");
            st = json_lines(&j, l, to_wgs84);
            cs_json_end_object(&j);
        }
    end_collection(&j);
    return st == CS_OK ? finish(out) : st;
}

cs_status cs_out_facility_areas_geojson(const cs_result *r, cs_geom *const *polys,
                                        cs_transform *to_wgs84, cs_buf *out)
{
    const cs_study *s = r->study;
    cs_json j;
    cs_json_init(&j, out, false);
    begin_collection(&j, "facility-service-areas");
    cs_status st = CS_OK;
    for (size_t f = 0; st == CS_OK && f < s->fac.count; f++) {
        if (!polys[f])
            continue;
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        begin_feature(&j, out);
        cs_json_key(&j, "id");
        cs_json_string(&j, s->fac.id[f]);
        cs_json_key(&j, "name");
        cs_json_string(&j, s->fac.name[f]);
        kind_props(&j, kind, 1, kind->threshold_count - 1);
        cs_json_key(&j, "area_km2");
        cs_json_number(&j, cs_geom_area_m2(s->geos, polys[f]) / 1e6, 3);
        cs_json_end_object(&j);
        cs_json_key(&j, "geometry");
        st = cs_out_json_polygons(&j, s, polys[f], to_wgs84);
        cs_json_end_object(&j);
    }
    end_collection(&j);
    return st == CS_OK ? finish(out) : st;
}

/* Who the facility serves within its kind's service circle, and its load. */
static void served_props(cs_json *j, const cs_result *r, size_t f)
{
    const cs_study *s = r->study;
    char key[96];
    double served, load = NAN;
    for (size_t b = 0; b < r->B; b++) {
        cs_result_served(r, f, b, &served, b == 0 ? &load : NULL);
        snprintf(key, sizeof key, "served_%s", s->settings.band_names[b]);
        cs_json_key(j, key);
        cs_json_number(j, served, 1);
    }
    cs_json_key(j, "load_ratio");
    cs_json_number(j, load, 3);
    double use, cap;
    if (cs_res_load(r, f, &use, &cap)) {
        /* by how much it is over: capacity units it lacks for the residents it serves */
        cs_json_key(j, "overloaded");
        cs_json_boolean(j, use > cap);
        cs_json_key(j, "over_capacity");
        cs_json_number(j, use > cap ? use - cap : 0, 1);
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        cs_json_key(j, "access_ratio");
        cs_json_number(j, r->fac_ratio[s->fac.kind[f]][f] * kind->access_per, 4);
    }
    if (!r->has_network)
        return;
    cs_json_key(j, "on_network");
    cs_json_boolean(j, r->net.facilities.edge[f] >= 0);
    cs_json_key(j, "network_access_m");
    cs_json_number(j, r->net.facilities.access_m[f], 1);
}

cs_status cs_out_facilities_geojson(const cs_result *r, cs_buf *out)
{
    const cs_study *s = r->study;
    cs_json j;
    cs_json_init(&j, out, false);
    begin_collection(&j, "facilities");
    for (size_t f = 0; f < s->fac.count; f++) {
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        long a = s->fac.area[f];
        begin_feature(&j, out);
        cs_json_key(&j, "id");
        cs_json_string(&j, s->fac.id[f]);
        cs_json_key(&j, "name");
        cs_json_string(&j, s->fac.name[f]);
        cs_json_key(&j, "kind");
        cs_json_string(&j, kind->id);
        cs_json_key(&j, "kind_name");
        cs_json_string(&j, kind->name);
        for (size_t c = 0; c < r->C; c++) {
            if (!(r->fac_cap[cs_res_cap(r, (size_t)s->fac.kind[f], r->A, c)] > 0))
                continue;
            cs_json_key(&j, s->settings.capacities[c].id);
            cs_json_number(&j, s->fac.capacity[f * r->C + c], 2);
        }
        cs_json_key(&j, "area_id");
        cs_json_string(&j, a >= 0 ? s->areas.id[a] : NULL);
        cs_json_key(&j, "area_name");
        cs_json_string(&j, a >= 0 ? s->areas.name[a] : NULL);
        cs_json_key(&j, "inside_area");
        cs_json_boolean(&j, a >= 0);
        served_props(&j, r, f);
        cs_json_end_object(&j);
        cs_json_key(&j, "geometry");
        cs_json_begin_object(&j);
        cs_json_key(&j, "type");
        cs_json_string(&j, "Point");
        cs_json_key(&j, "coordinates");
        cs_json_begin_array(&j);
        cs_json_number(&j, s->fac.lon[f], CS_COORD_DECIMALS);
        cs_json_number(&j, s->fac.lat[f], CS_COORD_DECIMALS);
        cs_json_end_array(&j);
        cs_json_end_object(&j);
        cs_json_end_object(&j);
    }
    end_collection(&j);
    return finish(out);
}

/* RFC 4180 quoting: only when the text holds a comma, quote or line break. Text that
 * is not UTF-8 is cleaned as in the GeoJSON outputs (cs_utf8_add_clean). */
void cs_out_csv_text(cs_buf *out, const char *text)
{
    if (!cs_utf8_is_clean(text)) {
        cs_buf clean;
        cs_buf_init(&clean);
        cs_utf8_add_clean(&clean, text);
        if (clean.failed)
            out->failed = true;
        else
            cs_out_csv_text(out, clean.data);
        cs_buf_free(&clean);
        return;
    }
    if (!strpbrk(text, ",\"\r\n")) {
        cs_buf_add(out, text);
        return;
    }
    cs_buf_addc(out, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            cs_buf_addc(out, '"');
        cs_buf_addc(out, *p);
    }
    cs_buf_addc(out, '"');
}

static void csv_cell(cs_buf *out, const cs_cell *c)
{
    cs_json j;
    switch (c->type) {
    case CS_CELL_NULL:
        break;
    case CS_CELL_TEXT:
        cs_out_csv_text(out, c->text);
        break;
    case CS_CELL_BOOL:
        cs_buf_add(out, c->number != 0 ? "true" : "false");
        break;
    case CS_CELL_NUMBER:
        cs_json_init(&j, out, false);
        cs_json_number(&j, c->number, c->decimals);
        break;
    }
}

cs_status cs_out_areas_csv(const cs_table *t, cs_buf *out)
{
    cs_buf_add(out, "\xEF\xBB\xBF"); /* UTF-8 byte-order mark for Excel */
    for (size_t c = 0; c < t->columns; c++) {
        if (c)
            cs_buf_addc(out, ',');
        cs_out_csv_text(out, t->names[c]);
    }
    cs_buf_add(out, "\r\n");
    for (size_t row = 0; row < t->rows; row++) {
        for (size_t c = 0; c < t->columns; c++) {
            if (c)
                cs_buf_addc(out, ',');
            csv_cell(out, &t->cells[row * t->columns + c]);
        }
        cs_buf_add(out, "\r\n");
    }
    return out->failed ? CS_ERR_NOMEM : CS_OK;
}
