/*
 * demand.c — the demand side's files: under-served patches (underserved.geojson,
 * ranked by uncovered residents within each kind) and every demand point's
 * accessibility (demand-access.csv), for kinds with a capacity.
 */
#include "cover/patch.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>

static void patch_props(cs_lw *w, const cs_result *r, size_t k, size_t rank,
                        const cs_patch *p, const char **items)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    char key[96], band[64];
    cs_lw_text(w, "kind", kind->id);
    cs_lw_text(w, "kind_name", kind->name);
    cs_lw_text(w, "measure", cs_measure_name(cs_res_main(r, k)));
    cs_lw_number(w, "beyond_m", cs_kind_reach_m(kind), 1);
    cs_lw_number(w, "rank", (double)rank, 0);
    cs_out_safe_name(s->settings.band_names[s->settings.patch_band], band, sizeof band);
    snprintf(key, sizeof key, "uncovered_%s", band);
    cs_lw_number(w, key, p->uncovered, 1);
    cs_lw_number(w, "area_km2", p->area_m2 / 1e6, 4);
    cs_lw_number(w, "cells", (double)p->cells, 0);
    cs_lw_number(w, "nearest_facility_m", p->nearest_m, 1);
    for (size_t i = 0; i < p->area_count; i++)
        items[i] = s->areas.id[p->areas[i]];
    cs_lw_texts(w, "area_ids", items, p->area_count);
    for (size_t i = 0; i < p->area_count; i++)
        items[i] = s->areas.name[p->areas[i]];
    cs_lw_texts(w, "area_names", items, p->area_count);
}

cs_status cs_out_underserved_layer(const cs_result *r, cs_transform *to_wgs84, cs_lw *w)
{
    /* room for the names of every area a patch touches */
    const char **items = cs_calloc(r->A + 1, sizeof *items);
    if (!items)
        return w->st = CS_ERR_NOMEM;
    for (size_t k = 0; w->st == CS_OK && k < r->K; k++)
        for (size_t i = 0; w->st == CS_OK && i < r->patches[k].count; i++) {
            const cs_patch *p = &r->patches[k].patches[i];
            cs_lw_feature(w);
            patch_props(w, r, k, i + 1, p, items);
            cs_lw_polygons(w, r->study, p->geom, to_wgs84);
        }
    cs_free(items);
    return w->st;
}

bool cs_out_has_access(const cs_result *r)
{
    for (size_t k = 0; k < r->K; k++)
        if (r->access && r->access[k])
            return true;
    return false;
}

cs_status cs_out_demand_csv(const cs_result *r, const double *lon, const double *lat,
                            cs_buf *out)
{
    const cs_study *s = r->study;
    /* the demand point's number (as in demand.fgb) and its id (population.id) when the
     * study reads it */
    bool ids = cs_out_has_demand_ids(s);
    cs_buf_add(out, "\xEF\xBB\xBF"); /* UTF-8 BOM */
    cs_buf_add(out, ids ? "demand_no,demand_id,lon,lat,area_id" : "demand_no,lon,lat,area_id");
    char name[64];
    for (size_t b = 0; b < r->B; b++) {
        cs_out_safe_name(s->settings.band_names[b], name, sizeof name);
        cs_buf_printf(out, ",%s", name);
    }
    for (size_t k = 0; k < r->K; k++)
        if (r->access[k]) {
            cs_out_safe_name(s->settings.kinds[k].id, name, sizeof name);
            cs_buf_printf(out, ",%s_access", name);
        }
    cs_buf_add(out, "\r\n");
    size_t n = s->dem.count;
    for (size_t i = 0; i < n; i++) {
        cs_buf_printf(out, "%zu,", i + 1);
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
    return out->failed ? CS_ERR_NOMEM : CS_OK;
}
