/*
 * geojson.c — the layers: areas with every indicator, service circles and network
 * areas, facilities with the area each lies in, each written through a layer writer
 * (layerw.c) as GeoJSON and/or into the GeoPackage; and the same area table as CSV
 * (UTF-8 with a byte-order mark, so Excel shows Chinese). GeoJSON follows RFC 7946:
 * WGS84 lon/lat, exterior rings counter-clockwise and holes clockwise, 7 decimals; no
 * "crs" member.
 */
#include "cover/cover.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Columns of the areas layer that the streets leave out: a target over the district as
 * a whole has its figures in the district's row only (areas.csv, summary.json), and a
 * column null in every street would be typed as text by GeoJSON readers. */
static bool district_only(const cs_result *r, const char *column)
{
    const cs_study *s = r->study;
    char prefix[80];
    for (size_t t = 0; t < s->settings.target_count; t++) {
        if (s->settings.targets[t].scope != CS_SCOPE_DISTRICT)
            continue;
        char id[64];
        cs_out_safe_name(s->settings.targets[t].id, id, sizeof id);
        int n = snprintf(prefix, sizeof prefix, "t_%s_", id);
        if (!strncmp(column, prefix, (size_t)n))
            return true;
    }
    return false;
}

/* A coverage column of a measure other than its kind's main one ("centre_15min_a60p_
 * covered" when the centres are measured along the network). */
static bool other_measure(const cs_result *r, const char *column)
{
    const cs_study *s = r->study;
    char name[256];
    for (size_t k = 0; k < r->K; k++)
        for (size_t m = 0; m < CS_MEASURES; m++) {
            if (m == cs_res_main(r, k) || !r->dist_m[cs_res_field(r, m, k)])
                continue;
            for (size_t j = 0; j < s->settings.kinds[k].threshold_count; j++)
                for (size_t band = 0; band < r->B; band++) {
                    cs_out_coverage_column(r, m, k, j, band, name, sizeof name);
                    size_t stem = strlen(name) - strlen("share");
                    if (!strcmp(column, name) ||
                        (!strncmp(column, name, stem) && !strcmp(column + stem, "covered")))
                        return true;
                }
        }
    return false;
}

/* Most Shapefile readers take 255 fields (dBASE). */
#define SHAPEFILE_FIELDS 255

/*
 * The areas layer. For a Shapefile (output.shapefile_names) the coverage by a kind's
 * other measures is left out, as it rarely fits: it stays in areas.csv and the
 * coverage table. If the layer still has more fields than a Shapefile takes, a warning
 * says so.
 */
cs_status cs_out_areas_layer(const cs_result *r, const cs_table *t, cs_transform *to_wgs84,
                             cs_lw *w)
{
    bool for_shapefile = r->study->settings.shapefile_names;
    bool *skip = cs_calloc(t->columns + 1, sizeof *skip);
    if (!skip)
        return w->st = CS_ERR_NOMEM;
    size_t kept = 0;
    for (size_t c = 0; c < t->columns; c++) {
        skip[c] = district_only(r, t->names[c]) ||
                  (for_shapefile && other_measure(r, t->names[c]));
        kept += !skip[c];
    }
    if (for_shapefile && kept > SHAPEFILE_FIELDS) {
        cs_where where = {.field = "output.shapefile_names"};
        cs_warn(w->ctx, &where,
                "export the columns you need (QGIS: Export > Save Features As, Select "
                "fields), or give fewer kinds, thresholds or bands",
                "the areas layer has %zu fields; a Shapefile holds %d", kept,
                SHAPEFILE_FIELDS);
    }
    for (size_t a = 0; a < r->A && w->st == CS_OK; a++) {
        cs_lw_feature(w);
        for (size_t c = 0; c < t->columns; c++)
            if (!skip[c])
                cs_lw_cell(w, t->names[c], &t->cells[a * t->columns + c], t->types[c]);
        cs_lw_polygons(w, r->study, r->study->areas.geom[a], to_wgs84);
    }
    cs_free(skip);
    return w->st;
}

static void threshold_props(cs_lw *w, const cs_kind *k, size_t t)
{
    char label[32]; /* what the QGIS style categorizes by */
    cs_out_threshold_label(k, t, label, sizeof label);
    cs_lw_text(w, "threshold", label);
    cs_lw_number(w, "threshold_min", k->threshold_min[t], 3);
    cs_lw_number(w, "threshold_m", k->threshold_m[t], 1);
    cs_lw_number(w, "walk_speed_kmh", isnan(k->threshold_min[t]) ? NAN : k->walk_speed_kmh, 3);
}

/* Properties every service-area feature starts with. */
static void kind_props(cs_lw *w, const cs_kind *kind, size_t m, size_t t)
{
    cs_lw_text(w, "kind", kind->id);
    cs_lw_text(w, "kind_name", kind->name);
    cs_lw_text(w, "measure", cs_measure_name(m));
    threshold_props(w, kind, t);
}

static void circle_properties(cs_lw *w, const cs_result *r, size_t m, size_t k, size_t t,
                              const cs_rings *p)
{
    const cs_study *s = r->study;
    kind_props(w, &s->settings.kinds[k], m, t);
    cs_lw_number(w, "facilities", r->fac_count[cs_res_count(r, k, r->A)], 0);
    cs_lw_number(w, "area_km2", p ? cs_rings_area_m2(p) / 1e6 : NAN, 3);
    for (size_t b = 0; b < r->B; b++) {
        char key[96], band[64];
        cs_out_safe_name(s->settings.band_names[b], band, sizeof band);
        snprintf(key, sizeof key, "covered_%s", band);
        cs_lw_number(w, key, r->covered[cs_res_cov(r, m, k, t, r->A, b)], 1);
    }
}

cs_status cs_out_circles_layer(cs_context *ctx, const cs_result *r, cs_transform *to_wgs84,
                               cs_rings *const *net_polys, cs_lw *w)
{
    const cs_study *s = r->study;
    size_t n = r->K * CS_MAX_THRESHOLDS;
    cs_geom **circles = cs_calloc(n + 1, sizeof *circles);
    bool *straight = cs_calloc(r->K + 1, sizeof *straight); /* the kinds measured so */
    if (!circles || !straight) {
        cs_free(circles);
        cs_free(straight);
        return cs_nomem(ctx);
    }
    bool any = false;
    for (size_t k = 0; k < r->K; k++)
        any |= straight[k] = r->dist_m[cs_res_field(r, CS_M_STRAIGHT, k)] != NULL;
    cs_status st = any ? cs_cover_circles(ctx, s, straight, circles) : CS_OK;
    cs_free(straight);
    /* straight circles, then network areas, so QGIS can style by "measure"; a cost
     * matrix has no shape to draw */
    for (size_t m = CS_M_STRAIGHT; m <= CS_M_NETWORK; m++)
        for (size_t k = 0; st == CS_OK && k < r->K; k++)
            for (size_t t = 0; st == CS_OK && t < s->settings.kinds[k].threshold_count; t++) {
                if (!r->dist_m[cs_res_field(r, m, k)])
                    continue;
                size_t at = k * CS_MAX_THRESHOLDS + t;
                cs_rings circle = {0};
                const cs_rings *p = m ? net_polys[at] : circles[at] ? &circle : NULL;
                if (!m && circles[at])
                    st = cs_geom_append_polygons(s->geos, circles[at], &circle);
                if (st == CS_OK) {
                    cs_lw_feature(w);
                    circle_properties(w, r, m, k, t, p);
                    cs_lw_rings(w, p, to_wgs84);
                    st = w->st;
                }
                cs_rings_free(&circle);
            }
    for (size_t i = 0; i < n; i++)
        cs_geom_destroy(s->geos, circles[i]);
    cs_free(circles);
    return st;
}

cs_status cs_out_network_layer(const cs_result *r, const cs_lines *lines,
                               cs_transform *to_wgs84, cs_lw *w)
{
    const cs_study *s = r->study;
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
            const cs_kind *kind = &s->settings.kinds[k];
            cs_lw_feature(w);
            kind_props(w, kind, 1, t);
            /* the pieces lie beyond the threshold before: a ring, not the whole reach */
            cs_lw_number(w, "beyond_min", t ? kind->threshold_min[t - 1] : 0, 3);
            cs_lw_number(w, "beyond_m", t ? kind->threshold_m[t - 1] : 0, 1);
            cs_lw_number(w, "length_km", length_m / 1000.0, 3);
            st = cs_lw_lines(w, l, to_wgs84);
        }
    return st;
}

cs_status cs_out_facility_areas_layer(const cs_result *r, cs_rings *const *polys,
                                      cs_transform *to_wgs84, cs_lw *w)
{
    const cs_study *s = r->study;
    for (size_t f = 0; w->st == CS_OK && f < s->fac.count; f++) {
        if (!polys[f])
            continue;
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        cs_lw_feature(w);
        cs_lw_text(w, "id", s->fac.id[f]);
        cs_lw_text(w, "name", s->fac.name[f]);
        kind_props(w, kind, 1, kind->threshold_count - 1);
        cs_lw_number(w, "area_km2", cs_rings_area_m2(polys[f]) / 1e6, 3);
        cs_lw_rings(w, polys[f], to_wgs84);
    }
    return w->st;
}

/* Who the facility serves within its kind's service circle, and its load. */
static void served_props(cs_lw *w, const cs_result *r, size_t f)
{
    const cs_study *s = r->study;
    char key[96], band[64];
    double served, load = NAN;
    for (size_t b = 0; b < r->B; b++) {
        cs_result_served(r, f, b, &served, b == 0 ? &load : NULL);
        cs_out_safe_name(s->settings.band_names[b], band, sizeof band);
        snprintf(key, sizeof key, "served_%s", band);
        cs_lw_number(w, key, served, 1);
    }
    cs_lw_number(w, "load_ratio", load, 3);
    double use, cap;
    if (cs_res_load(r, f, &use, &cap)) {
        /* by how much it is over: capacity units it lacks for the residents it serves */
        cs_lw_bool(w, "overloaded", true, use > cap);
        cs_lw_number(w, "over_capacity", use > cap ? use - cap : 0, 1);
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        cs_lw_number(w, "access_ratio", r->fac_ratio[s->fac.kind[f]][f] * kind->access_per, 4);
    }
    if (!r->has_network)
        return;
    cs_lw_bool(w, "on_network", true, r->net.facilities.edge[f] >= 0);
    cs_lw_number(w, "network_access_m", r->net.facilities.access_m[f], 1);
}

cs_status cs_out_facilities_layer(const cs_result *r, cs_lw *w)
{
    const cs_study *s = r->study;
    char cid[64];
    for (size_t f = 0; w->st == CS_OK && f < s->fac.count; f++) {
        const cs_kind *kind = &s->settings.kinds[s->fac.kind[f]];
        long a = s->fac.area[f];
        cs_lw_feature(w);
        cs_lw_text(w, "id", s->fac.id[f]);
        cs_lw_text(w, "name", s->fac.name[f]);
        cs_lw_text(w, "kind", kind->id);
        cs_lw_text(w, "kind_name", kind->name);
        for (size_t c = 0; c < r->C; c++) {
            if (!(r->fac_cap[cs_res_cap(r, (size_t)s->fac.kind[f], r->A, c)] > 0))
                continue;
            cs_out_safe_name(s->settings.capacities[c].id, cid, sizeof cid);
            cs_lw_number(w, cid, s->fac.capacity[f * r->C + c], 2);
        }
        cs_lw_text(w, "area_id", a >= 0 ? s->areas.id[a] : NULL);
        cs_lw_text(w, "area_name", a >= 0 ? s->areas.name[a] : NULL);
        cs_lw_bool(w, "inside_area", true, a >= 0);
        served_props(w, r, f);
        cs_lw_point(w, s->fac.lon[f], s->fac.lat[f]);
    }
    return w->st;
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
    case CS_CELL_NULL: break;
    case CS_CELL_TEXT: cs_out_csv_text(out, c->text); break;
    case CS_CELL_BOOL: cs_buf_add(out, c->number != 0 ? "true" : "false"); break;
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
