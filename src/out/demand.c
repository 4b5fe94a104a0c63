/*
 * demand.c — the demand side's files: under-served patches (underserved.geojson,
 * ranked by uncovered residents within each kind) and every demand point's
 * accessibility (demand-access.csv), for kinds with a capacity.
 */
#include "cover/patch.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void patch_props(cs_json *j, const cs_result *r, size_t k, size_t rank,
                        const cs_patch *p)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    char key[96];
    cs_json_key(j, "kind");
    cs_json_string(j, kind->id);
    cs_json_key(j, "kind_name");
    cs_json_string(j, kind->name);
    cs_json_key(j, "measure");
    cs_json_string(j, cs_measure_name(cs_res_main(r, k)));
    cs_json_key(j, "beyond_m");
    cs_json_number(j, cs_kind_reach_m(kind), 1);
    cs_json_key(j, "rank");
    cs_json_number(j, (double)rank, 0);
    snprintf(key, sizeof key, "uncovered_%s", s->settings.band_names[s->settings.patch_band]);
    cs_json_key(j, key);
    cs_json_number(j, p->uncovered, 1);
    cs_json_key(j, "area_km2");
    cs_json_number(j, p->area_m2 / 1e6, 4);
    cs_json_key(j, "cells");
    cs_json_number(j, (double)p->cells, 0);
    cs_json_key(j, "nearest_facility_m");
    cs_json_number(j, p->nearest_m, 1);
    cs_json_key(j, "area_ids");
    cs_json_begin_array(j);
    for (size_t i = 0; i < p->area_count; i++)
        cs_json_string(j, s->areas.id[p->areas[i]]);
    cs_json_end_array(j);
    cs_json_key(j, "area_names");
    cs_json_begin_array(j);
    for (size_t i = 0; i < p->area_count; i++)
        cs_json_string(j, s->areas.name[p->areas[i]]);
    cs_json_end_array(j);
    cs_json_end_object(j);
}

cs_status cs_out_underserved_geojson(const cs_result *r, cs_transform *to_wgs84, cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, false);
    cs_json_begin_object(&j);
    cs_json_key(&j, "type");
    cs_json_string(&j, "FeatureCollection");
    cs_json_key(&j, "name");
    cs_json_string(&j, "underserved");
    cs_json_key(&j, "features");
    cs_json_begin_array(&j);
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < r->K; k++)
        for (size_t i = 0; st == CS_OK && i < r->patches[k].count; i++) {
            const cs_patch *p = &r->patches[k].patches[i];
            cs_buf_add(out, "\n");
            cs_json_begin_object(&j);
            cs_json_key(&j, "type");
            cs_json_string(&j, "Feature");
            cs_json_key(&j, "properties");
            cs_json_begin_object(&j);
            patch_props(&j, r, k, i + 1, p);
            cs_json_key(&j, "geometry");
            if (p->geom)
                st = cs_out_json_polygons(&j, r->study, p->geom, to_wgs84);
            else
                cs_json_null(&j);
            cs_json_end_object(&j);
        }
    cs_json_end_array(&j);
    cs_json_end_object(&j);
    cs_buf_addc(out, '\n');
    return st == CS_OK && !out->failed ? CS_OK : (st == CS_OK ? CS_ERR_NOMEM : st);
}

bool cs_out_has_access(const cs_result *r)
{
    for (size_t k = 0; k < r->K; k++)
        if (r->access && r->access[k])
            return true;
    return false;
}

cs_status cs_out_demand_csv(const cs_result *r, cs_transform *to_wgs84, cs_buf *out)
{
    const cs_study *s = r->study;
    /* the demand point's id (population.id) first, when the study reads it */
    bool ids = s->dem.id && s->dem.id_count >= s->dem.count;
    cs_buf_add(out, "\xEF\xBB\xBF"); /* UTF-8 BOM */
    cs_buf_add(out, ids ? "demand_id,lon,lat,area_id" : "lon,lat,area_id");
    for (size_t b = 0; b < r->B; b++)
        cs_buf_printf(out, ",%s", s->settings.band_names[b]);
    for (size_t k = 0; k < r->K; k++)
        if (r->access[k])
            cs_buf_printf(out, ",%s_access", s->settings.kinds[k].id);
    cs_buf_add(out, "\r\n");
    size_t n = s->dem.count;
    double *lon = cs_calloc(n + 1, sizeof *lon), *lat = cs_calloc(n + 1, sizeof *lat);
    if (!lon || !lat) {
        cs_free(lon);
        cs_free(lat);
        return CS_ERR_NOMEM;
    }
    memcpy(lon, s->dem.x, n * sizeof *lon);
    memcpy(lat, s->dem.y, n * sizeof *lat);
    cs_transform_apply(to_wgs84, lon, lat, n);
    for (size_t i = 0; i < n; i++) {
        if (ids) {
            cs_out_csv_text(out, s->dem.id[i] ? s->dem.id[i] : "");
            cs_buf_addc(out, ',');
        }
        cs_buf_add_fixed(out, lon[i], 7);
        cs_buf_addc(out, ',');
        cs_buf_add_fixed(out, lat[i], 7);
        cs_buf_addc(out, ',');
        cs_out_csv_text(out, s->areas.id[s->dem.area[i]]);
        for (size_t b = 0; b < r->B; b++) {
            cs_buf_addc(out, ',');
            cs_buf_add_fixed(out, s->dem.pop[i * r->B + b], 3);
        }
        for (size_t k = 0; k < r->K; k++)
            if (r->access[k]) {
                cs_buf_addc(out, ',');
                cs_buf_add_fixed(out, r->access[k][i], 4);
            }
        cs_buf_add(out, "\r\n");
    }
    cs_free(lon);
    cs_free(lat);
    return out->failed ? CS_ERR_NOMEM : CS_OK;
}
