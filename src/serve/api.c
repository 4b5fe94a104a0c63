/*
 * api.c — the answers of careshed serve's JSON API (careshed.h, api.h): the study, its
 * layers (built once, as the run's GeoJSON files are) and the evaluation of proposed
 * sites (cs_site_evaluate, as careshed site does).
 */
#include "serve/api.h"

#include "cover/cover.h"
#include "io/crs.h"
#include "out/json.h"
#include "out/out.h"
#include "out/palette.h"
#include "io/load.h"
#include "report/report.h"
#include "site/site.h"

#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define GEOJSON "application/geo+json"
#define JSON "application/json; charset=utf-8"

/* Start the reply's JSON body afresh, an object. */
static void begin_reply(cs_reply *rep, cs_json *j)
{
    cs_buf_clear(&rep->body);
    cs_json_init(j, &rep->body, false);
    cs_json_begin_object(j);
}

void cs_api_error(cs_reply *rep, unsigned status, const char *text, const char *hint)
{
    cs_json j;
    begin_reply(rep, &j);
    cs_json_key(&j, "error");
    cs_json_string(&j, text);
    cs_json_key(&j, "hint");
    cs_json_string(&j, hint);
    cs_json_end_object(&j);
    rep->status = status;
    rep->type = JSON;
    if (!cs_json_ok(&j)) { /* no memory even for the message: one that needs none */
        static const char nomem[] = "{\"error\": \"out of memory\", \"hint\": null}";
        rep->status = 503;
        rep->fixed = nomem;
        rep->fixed_len = sizeof nomem - 1;
    }
}

/* A target's district outcome as {"id", "value", "pass", "gap"} (and "name", "target"
 * when full). */
static void target_json(const cs_result *r, size_t t, const cs_target_outcome *o, bool full,
                        cs_json *j)
{
    cs_json_begin_object(j);
    cs_json_key(j, "id");
    cs_json_string(j, cs_result_target_id(r, t));
    if (full) {
        cs_json_key(j, "name");
        cs_json_string(j, cs_result_target_name(r, t));
    }
    cs_json_key(j, "value");
    cs_json_number(j, o->evaluated ? o->value : NAN, 4);
    if (full) {
        cs_json_key(j, "target");
        cs_json_number(j, o->evaluated ? o->required : NAN, 4);
    }
    cs_json_key(j, "pass");
    if (o->evaluated)
        cs_json_boolean(j, o->pass);
    else
        cs_json_null(j);
    cs_json_key(j, "gap");
    cs_json_number(j, o->evaluated ? o->gap : NAN, 4);
    cs_json_end_object(j);
}

/* ------------------------------------------------------------ built once */

/* The measures as the API names them, by measure index (CS_M_STRAIGHT...). */
static const char *const measures[CS_MEASURES] = {"straight", "network", "matrix"};

/* Kind k's coverage columns of the areas layer: per measure it was measured by, per
 * threshold, per band ("centre_walk_15min_a60p_share"). */
static void share_columns(const cs_result *r, size_t k, cs_json *j)
{
    cs_json_begin_object(j);
    for (size_t m = 0; m < CS_MEASURES; m++) {
        if (!r->dist_m[cs_res_field(r, m, k)])
            continue;
        cs_json_key(j, measures[m]);
        cs_json_begin_array(j);
        for (size_t t = 0; t < r->study->settings.kinds[k].threshold_count; t++) {
            cs_json_begin_array(j);
            for (size_t b = 0; b < r->B; b++) {
                char name[CS_NAME_MAX + 1];
                cs_out_coverage_column(r, m, k, t, b, name, sizeof name);
                cs_json_string(j, name);
            }
            cs_json_end_array(j);
        }
        cs_json_end_array(j);
    }
    cs_json_end_object(j);
}

/* The basemap the page draws under the layers (serve --tiles), or null. */
static void tiles_json(const cs_api *api, cs_json *j)
{
    if (!api->tiles) {
        cs_json_null(j);
        return;
    }
    cs_json_begin_object(j);
    cs_json_key(j, "url");
    cs_json_string(j, api->tiles);
    cs_json_key(j, "shift"); /* how the page shifts the layers to match the tiles */
    cs_json_string(j, api->tiles_gcj02 ? "gcj02" : NULL);
    cs_json_key(j, "attribution"); /* the tiles' host, "*." and all */
    const char *host = strstr(api->tiles_origin, "://") + 3;
    cs_json_string(j, !strncmp(host, "*.", 2) ? host + 2 : host);
    cs_json_end_object(j);
}

static void study_summary(const cs_api *api, cs_json *j)
{
    const cs_study *s = api->study;
    const cs_result *r = api->r;
    cs_headline h = cs_headline_of(s);
    cs_json_begin_object(j);
    cs_json_key(j, "name");
    cs_json_string(j, s->settings.name);
    cs_json_key(j, "language");
    cs_json_string(j, cs_study_lang(s) == CS_LANG_ZH ? "zh" : "en");
    cs_json_key(j, "headline"); /* what the report and the package's styles shade by */
    cs_json_begin_object(j);
    cs_json_key(j, "kind");
    cs_json_integer(j, (long long)h.kind);
    cs_json_key(j, "threshold");
    cs_json_integer(j, (long long)h.threshold);
    cs_json_key(j, "band");
    cs_json_integer(j, (long long)h.band);
    cs_json_key(j, "measure");
    cs_json_string(j, measures[h.measure]);
    cs_json_end_object(j);
    cs_json_key(j, "network"); /* whether GET /api/network has the walking network */
    cs_json_boolean(j, cs_study_has_network(s));
    cs_json_key(j, "tiles");
    tiles_json(api, j);
    cs_json_key(j, "areas");
    cs_json_integer(j, (long long)cs_study_area_count(s));
    cs_json_key(j, "facilities");
    cs_json_integer(j, (long long)cs_study_facility_count(s));
    cs_json_key(j, "demand_points");
    cs_json_integer(j, (long long)cs_study_demand_count(s));
    cs_json_key(j, "bands");
    cs_json_begin_array(j);
    for (size_t b = 0; b < cs_study_band_count(s); b++)
        cs_json_string(j, cs_study_band_name(s, b));
    cs_json_end_array(j);
    cs_json_key(j, "kinds");
    cs_json_begin_array(j);
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, cs_study_kind_id(s, k));
        cs_json_key(j, "name");
        cs_json_string(j, cs_study_kind_name(s, k));
        cs_json_key(j, "thresholds_min");
        cs_json_begin_array(j);
        for (size_t t = 0; t < cs_study_threshold_count(s, k); t++)
            cs_json_number(j, cs_study_threshold_min(s, k, t), 3);
        cs_json_end_array(j);
        cs_json_key(j, "main_measure"); /* the one evaluations and targets use */
        cs_json_string(j, measures[cs_res_main(r, k)]);
        cs_json_key(j, "capacity_unit"); /* of its load capacity; null: none */
        long c = cs_study_kind_capacity(s, k);
        const char *unit = c >= 0 ? cs_study_capacity_unit(s, (size_t)c) : NULL;
        if (c >= 0)
            cs_json_string(j, unit ? unit : cs_study_capacity_id(s, (size_t)c));
        else
            cs_json_null(j);
        cs_json_key(j, "share_columns");
        share_columns(r, k, j);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
    cs_json_key(j, "targets");
    cs_json_begin_array(j);
    for (size_t t = 0; t < cs_result_target_count(r); t++) {
        cs_target_outcome o;
        cs_result_target(r, t, CS_DISTRICT, &o);
        target_json(r, t, &o, true, j);
    }
    cs_json_end_array(j);
    cs_json_end_object(j);
}

/* The layers the page draws, as the run's GeoJSON files have them, and the walking
 * network under them. */

/* What the layers are built from. */
typedef struct layer_sources {
    cs_transform *to_wgs84;
    cs_table table;      /* the areas' columns */
    cs_rings **net_polys; /* the network service areas, K x CS_MAX_THRESHOLDS */
} layer_sources;

/* The whole walking network, one feature of lines (none without a network). */
static cs_status network_layer(const cs_study *s, cs_transform *to_wgs84, cs_lw *w)
{
    if (!s->net.present)
        return CS_OK;
    cs_lw_feature(w);
    return cs_lw_lines(w, &s->net.lines, to_wgs84);
}

static cs_status layer_json(cs_context *ctx, const cs_result *r, cs_api_layer which,
                            const layer_sources *src, cs_buf *out)
{
    static const char *const names[] = {"areas", "facilities", "underserved",
                                        "service-circles", "network"};
    cs_lw w;
    cs_status st = cs_lw_begin(&w, ctx, names[which], names[which], out, NULL, CS_GPKG_NONE,
                               NULL);
    if (st == CS_OK) {
        switch (which) {
        case CS_LAYER_AREAS: st = cs_out_areas_layer(r, &src->table, src->to_wgs84, &w); break;
        case CS_LAYER_FACILITIES: st = cs_out_facilities_layer(r, &w); break;
        case CS_LAYER_UNDERSERVED: st = cs_out_underserved_layer(r, src->to_wgs84, &w); break;
        case CS_LAYER_CIRCLES:
            st = cs_out_circles_layer(ctx, r, src->to_wgs84, src->net_polys, &w);
            break;
        case CS_LAYER_NETWORK: st = network_layer(r->study, src->to_wgs84, &w); break;
        case CS_API_LAYERS: break;
        }
    }
    cs_status end = cs_lw_end(&w);
    return st == CS_OK ? end : st;
}

/* The service areas along the network, as a run writes them (none without one). */
static cs_status network_areas(cs_context *ctx, const cs_result *r, layer_sources *src)
{
    size_t n = r->K * CS_MAX_THRESHOLDS;
    src->net_polys = cs_calloc(n + 1, sizeof *src->net_polys);
    cs_lines *lines = cs_calloc(n + 1, sizeof *lines);
    cs_status st = src->net_polys && lines ? CS_OK : cs_nomem(ctx);
    if (st == CS_OK && r->has_network)
        st = cs_cover_network_areas(ctx, r, lines, src->net_polys);
    for (size_t i = 0; lines && i < n; i++)
        cs_lines_free(&lines[i]);
    cs_free(lines);
    return st;
}

static void free_layer_sources(const cs_result *r, layer_sources *src)
{
    for (size_t i = 0; src->net_polys && i < r->K * CS_MAX_THRESHOLDS; i++)
        cs_rings_destroy(src->net_polys[i]);
    cs_free(src->net_polys);
    cs_table_free(&src->table);
    cs_transform_destroy(src->to_wgs84);
}

/* Each of the server's threads keeps one context for its evaluations (freed when the
 * thread ends, at cs_serve_stop): PROJ then opens its database and builds the
 * transforms once per thread, not once per request. The contexts are made ready (PROJ's
 * database open, the transform that places proposals built) before the server listens,
 * so that no first click waits some 30 ms for them; a thread takes one on its first
 * request. */
struct cs_api_contexts {
    pthread_mutex_t lock;
    cs_context *ready[CS_API_THREADS];
    size_t count;
};

static pthread_key_t context_key;
static pthread_once_t context_key_once = PTHREAD_ONCE_INIT;

static void free_context(void *ctx)
{
    cs_context_destroy(ctx);
}

static void make_context_key(void)
{
    pthread_key_create(&context_key, free_context);
}

/* A context as a request finds it: one thread, the placing transform kept. */
static cs_context *ready_context(const cs_study *s)
{
    cs_context *ctx = NULL;
    cs_transform *t;
    if (cs_context_create(&ctx) != CS_OK ||
        cs_transform_kept(ctx, "EPSG:4326", s->settings.crs, NULL, &t) != CS_OK) {
        cs_context_destroy(ctx);
        return NULL;
    }
    cs_context_set_threads(ctx, 1);
    return ctx;
}

static cs_status make_contexts(cs_context *ctx, cs_api *api)
{
    api->contexts = cs_calloc(1, sizeof *api->contexts);
    if (!api->contexts || pthread_mutex_init(&api->contexts->lock, NULL) != 0) {
        cs_free(api->contexts);
        api->contexts = NULL;
        return cs_nomem(ctx);
    }
    struct cs_api_contexts *c = api->contexts;
    while (c->count < CS_API_THREADS && (c->ready[c->count] = ready_context(api->study)))
        c->count++;
    return c->count == CS_API_THREADS ? CS_OK : cs_nomem(ctx);
}

static void free_contexts(cs_api *api)
{
    if (!api->contexts)
        return;
    for (size_t i = 0; i < api->contexts->count; i++)
        cs_context_destroy(api->contexts->ready[i]);
    pthread_mutex_destroy(&api->contexts->lock);
    cs_free(api->contexts);
    api->contexts = NULL;
}

static cs_context *thread_context(const cs_api *api)
{
    pthread_once(&context_key_once, make_context_key);
    cs_context *ctx = pthread_getspecific(context_key);
    if (ctx) {
        cs_context_clear_messages(ctx);
        return ctx;
    }
    struct cs_api_contexts *c = api->contexts;
    pthread_mutex_lock(&c->lock);
    ctx = c->count > 0 ? c->ready[--c->count] : NULL;
    pthread_mutex_unlock(&c->lock);
    if (!ctx && !(ctx = ready_context(api->study)))
        return NULL;
    pthread_setspecific(context_key, ctx);
    return ctx;
}

cs_status cs_api_init(cs_context *ctx, cs_api *api, const cs_study *study, const cs_result *r,
                      const cs_serve_options *opt)
{
    *api = (cs_api){.study = study, .r = r, .max_proposals = opt->max_proposals,
                    .exclude = opt->exclude, .exclude_crs = opt->exclude_crs};
    cs_status st = cs_tiles_check(ctx, opt->tiles, opt->tiles_crs, api);
    cs_buf_init(&api->study_json);
    for (size_t i = 0; i < CS_API_LAYERS; i++)
        cs_buf_init(&api->layers[i]);
    cs_json j;
    cs_json_init(&j, &api->study_json, false);
    study_summary(api, &j);
    if (st == CS_OK && !cs_json_ok(&j))
        st = cs_nomem(ctx);
    layer_sources src = {0};
    if (st == CS_OK)
        st = cs_transform_create(ctx, cs_study_crs(study), "EPSG:4326", NULL, &src.to_wgs84);
    if (st == CS_OK && cs_out_area_table(r, false, &src.table) != CS_OK)
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = network_areas(ctx, r, &src);
    for (cs_api_layer l = 0; st == CS_OK && l < CS_API_LAYERS; l++)
        st = layer_json(ctx, r, l, &src, &api->layers[l]);
    if (st == CS_OK)
        st = cs_site_cache_create(ctx, r, &api->sites);
    if (st == CS_OK && api->exclude)
        st = cs_read_zones(ctx, api->exclude, api->exclude_crs, "EPSG:4326", &api->zones);
    if (st == CS_OK && api->zones.area_count > 0 &&
        cs_area_index_create(&api->zones, &api->zone_index) != CS_OK)
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = make_contexts(ctx, api);
    free_layer_sources(r, &src);
    if (st != CS_OK)
        cs_api_free(api);
    return st;
}

void cs_api_free(cs_api *api)
{
    cs_buf_free(&api->study_json);
    for (size_t i = 0; i < CS_API_LAYERS; i++)
        cs_buf_free(&api->layers[i]);
    cs_free(api->tiles);
    api->tiles = NULL;
    cs_site_cache_destroy(api->sites);
    api->sites = NULL;
    cs_area_index_destroy(api->zone_index);
    api->zone_index = NULL;
    free_contexts(api);
    cs_rings_free(&api->zones);
}

/* An answer built once, while the server runs. */
static void reply_fixed(cs_reply *rep, const cs_buf *b, const char *type)
{
    rep->fixed = b->data;
    rep->fixed_len = b->len;
    rep->status = 200;
    rep->type = type;
}

void cs_api_study(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->study_json, JSON);
}

void cs_api_areas(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->layers[CS_LAYER_AREAS], GEOJSON);
}

void cs_api_facilities(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->layers[CS_LAYER_FACILITIES], GEOJSON);
}

void cs_api_underserved(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->layers[CS_LAYER_UNDERSERVED], GEOJSON);
}

void cs_api_circles(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->layers[CS_LAYER_CIRCLES], GEOJSON);
}

void cs_api_network(const cs_api *api, cs_reply *rep)
{
    reply_fixed(rep, &api->layers[CS_LAYER_NETWORK], GEOJSON);
}

/* ---------------------------------------------------------------- evaluate */

/* A member's number: *out, true; absent or null: NaN, true when optional; a number
 * that is not finite, or another type: false. */
static bool member_number(json_object *o, const char *key, bool optional, double *out)
{
    json_object *v = NULL;
    *out = NAN;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return optional;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_double(v);
    return isfinite(*out);
}

static const char *member_text(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The proposals of the request into in[]; false with the error replied. */
static bool read_proposals(const cs_api *api, json_object *root, cs_site_input *in,
                           size_t *n, cs_reply *rep)
{
    json_object *list = NULL;
    char text[160];
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "proposals", &list) ||
        !json_object_is_type(list, json_type_array)) {
        cs_api_error(rep, 400, "the request has no \"proposals\" list",
                     "send {\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.4, "
                     "\"lat\": 31.1}]}");
        return false;
    }
    *n = json_object_array_length(list);
    if (*n == 0 || *n > api->max_proposals) {
        snprintf(text, sizeof text, "%zu proposals: send 1 to %zu", *n, api->max_proposals);
        cs_api_error(rep, *n ? 413 : 400, text, "evaluate fewer proposals at once");
        return false;
    }
    for (size_t i = 0; i < *n; i++) {
        json_object *p = json_object_array_get_idx(list, i);
        in[i] = (cs_site_input){.crs = "EPSG:4326", .feature = (long)i + 1};
        bool ok = json_object_is_type(p, json_type_object);
        ok = ok && member_number(p, "lon", false, &in[i].lon);
        ok = ok && member_number(p, "lat", false, &in[i].lat);
        ok = ok && member_number(p, "capacity", true, &in[i].capacity);
        in[i].kind = ok ? member_text(p, "kind") : NULL;
        in[i].id = ok ? member_text(p, "id") : NULL;
        if (!ok || !in[i].kind) {
            snprintf(text, sizeof text,
                     "proposal %zu: needs \"kind\" (text), \"lon\" and \"lat\" (finite "
                     "numbers, WGS84); \"capacity\" is a number or null", i + 1);
            cs_api_error(rep, 400, text, "fix that proposal and send the request again");
            return false;
        }
        if (api->zone_index && cs_area_index_locate(api->zone_index, in[i].lon, in[i].lat) >= 0) {
            snprintf(text, sizeof text, "proposal %zu: (%.6f, %.6f) lies in an exclusion zone "
                     "(%.60s)", i + 1, in[i].lon, in[i].lat, api->exclude);
            cs_api_error(rep, 400, text, "move it out of the zone");
            return false;
        }
    }
    return true;
}

/* The residents of each band proposal p newly brings within threshold t of kind k in
 * area a (or CS_DISTRICT), as {"total": ..., "60+": ...}. */
static void band_residents(const cs_site *site, size_t p, size_t k, size_t t, size_t a,
                           const cs_study *s, cs_json *j)
{
    cs_json_begin_object(j);
    for (size_t b = 0; b < cs_study_band_count(s); b++) {
        double v = NAN;
        cs_site_newly(site, p, k, t, b, a, &v);
        cs_json_key(j, cs_study_band_name(s, b));
        cs_json_number(j, v, 2);
    }
    cs_json_end_object(j);
}

/* Per kind and threshold, district-wide. */
static void newly_list(const cs_site *site, size_t p, const cs_study *s, cs_json *j)
{
    cs_json_begin_array(j);
    for (size_t k = 0; k < cs_study_kind_count(s); k++)
        for (size_t t = 0; t < cs_study_threshold_count(s, k); t++) {
            cs_json_begin_object(j);
            cs_json_key(j, "kind");
            cs_json_string(j, cs_study_kind_id(s, k));
            cs_json_key(j, "threshold_min");
            cs_json_number(j, cs_study_threshold_min(s, k, t), 3);
            cs_json_key(j, "residents");
            band_residents(site, p, k, t, CS_DISTRICT, s, j);
            cs_json_end_object(j);
        }
    cs_json_end_array(j);
}

/* Street by street: where its kind's largest threshold newly covers anyone (none for
 * all proposals together, which may be of several kinds). */
static void street_list(const cs_site *site, size_t p, size_t kind, const cs_study *s,
                        cs_json *j)
{
    cs_json_begin_array(j);
    size_t last = cs_study_threshold_count(s, kind) - 1;
    for (size_t a = 0; p < cs_site_count(site) && a < cs_study_area_count(s); a++) {
        double total = 0;
        cs_site_newly(site, p, kind, last, 0, a, &total);
        if (!(total > 0))
            continue;
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, cs_study_area_id(s, a));
        cs_json_key(j, "name");
        cs_json_string(j, cs_study_area_name(s, a));
        cs_json_key(j, "residents");
        band_residents(site, p, kind, last, a, s, j);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
}

/* All proposals together, area by area, for the shading: per kind, per threshold, the
 * areas where anyone is newly covered, each with its residents newly covered by band
 * ({"centre": [{"a1": [total, 60+...]}, ...]}), by the kind's main measure. */
static void area_effects(const cs_site *site, const cs_study *s, cs_json *j)
{
    size_t all = cs_site_count(site);
    cs_json_begin_object(j);
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        cs_json_key(j, cs_study_kind_id(s, k));
        cs_json_begin_array(j);
        for (size_t t = 0; t < cs_study_threshold_count(s, k); t++) {
            cs_json_begin_object(j);
            for (size_t a = 0; a < cs_study_area_count(s); a++) {
                double total = 0;
                cs_site_newly(site, all, k, t, 0, a, &total);
                if (!(total > 0))
                    continue;
                cs_json_key(j, cs_study_area_id(s, a));
                cs_json_begin_array(j);
                for (size_t b = 0; b < cs_study_band_count(s); b++) {
                    double v = NAN;
                    cs_site_newly(site, all, k, t, b, a, &v);
                    cs_json_number(j, v, 2);
                }
                cs_json_end_array(j);
            }
            cs_json_end_object(j);
        }
        cs_json_end_array(j);
    }
    cs_json_end_object(j);
}

/* Every district target with proposal p (or all together). */
static void target_list(const cs_site *site, size_t p, const cs_result *r, cs_json *j)
{
    cs_json_begin_array(j);
    for (size_t t = 0; t < cs_result_target_count(r); t++) {
        cs_target_outcome o;
        if (cs_site_target(site, p, t, CS_DISTRICT, &o) == CS_OK && o.evaluated)
            target_json(r, t, &o, false, j);
    }
    cs_json_end_array(j);
}

static void figures(const cs_site *site, size_t p, const cs_study *s, const cs_result *r,
                    cs_json *j)
{
    cs_site_figures f;
    cs_site_get_figures(site, p, &f);
    cs_json_begin_object(j);
    cs_json_key(j, "id");
    cs_json_string(j, p < cs_site_count(site) ? f.id : NULL);
    cs_json_key(j, "kind");
    cs_json_string(j, p < cs_site_count(site) ? cs_study_kind_id(s, f.kind) : NULL);
    cs_json_key(j, "within");
    cs_json_number(j, f.within, 2);
    cs_json_key(j, "overlap");
    cs_json_number(j, f.overlap, 4);
    cs_json_key(j, "access_gain");
    cs_json_number(j, f.access_gain, 8);
    cs_json_key(j, "load_taken");
    cs_json_number(j, f.load_taken, 3);
    cs_json_key(j, "own_load");
    cs_json_number(j, f.own_load, 4);
    cs_json_key(j, "neighbours");
    cs_json_integer(j, (long long)f.neighbours);
    /* residents newly within each threshold of each kind, district-wide, by band */
    cs_json_key(j, "newly");
    newly_list(site, p, s, j);
    cs_json_key(j, "streets");
    street_list(site, p, f.kind, s, j);
    cs_json_key(j, "targets");
    target_list(site, p, r, j);
    cs_json_end_object(j);
}

/* The first error the evaluation reported, as the reply (ctx NULL: it had no context,
 * for want of memory). */
static void evaluation_error(cs_context *ctx, cs_status st, cs_reply *rep)
{
    if (!ctx) {
        cs_api_error(rep, 503, "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        if (m->severity == CS_SEVERITY_ERROR) {
            char text[600];
            if (m->feature > 0)
                snprintf(text, sizeof text, "proposal %ld: %s", m->feature, m->text);
            else
                snprintf(text, sizeof text, "%s", m->text);
            cs_api_error(rep, st == CS_ERR_NOMEM ? 503 : 400, text, m->hint);
            return;
        }
    }
    /* no message: it could not be kept, for want of memory */
    cs_api_error(rep, st == CS_ERR_NOMEM ? 503 : 500, cs_status_string(st), NULL);
}

/* The answer built in rep->body: 200, or 503 when memory ran out while building it. */
static void answered(const cs_json *j, cs_reply *rep)
{
    if (!cs_json_ok(j)) {
        cs_api_error(rep, 503, "out of memory", NULL);
        return;
    }
    rep->status = 200;
    rep->type = JSON;
}

/* The request body as one JSON value; NULL with the error replied. */
static json_object *parse_body(const char *body, size_t len, const char *example, cs_reply *rep)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    bool complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
                    json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (root && complete)
        return root;
    json_object_put(root);
    char hint[200];
    snprintf(hint, sizeof hint, "send JSON, e.g. %s", example);
    cs_api_error(rep, 400, "the request body is not one JSON value", hint);
    return NULL;
}

void cs_api_evaluate(const cs_api *api, const char *body, size_t len, cs_reply *rep)
{
    json_object *root = parse_body(body, len,
                                   "{\"proposals\": [{\"kind\": \"centre\", \"lon\": "
                                   "121.4, \"lat\": 31.1}]}", rep);
    cs_site_input *in = root ? cs_calloc(api->max_proposals + 1, sizeof *in) : NULL;
    size_t n = 0;
    if (root && !in)
        cs_api_error(rep, 503, "out of memory", NULL);
    else if (root && read_proposals(api, root, in, &n, rep)) {
        cs_context *ctx = thread_context(api);
        cs_site *site = NULL;
        cs_status st = ctx ? cs_site_evaluate_cached(ctx, api->sites, in, n, "the request", &site)
                           : CS_ERR_NOMEM;
        if (st != CS_OK) {
            evaluation_error(ctx, st, rep);
        } else {
            cs_json j;
            begin_reply(rep, &j);
            cs_json_key(&j, "proposals");
            cs_json_begin_array(&j);
            for (size_t p = 0; p < n; p++)
                figures(site, p, api->study, api->r, &j);
            cs_json_end_array(&j);
            cs_json_key(&j, "together");
            figures(site, n, api->study, api->r, &j);
            cs_json_key(&j, "areas");
            area_effects(site, api->study, &j);
            cs_json_end_object(&j);
            answered(&j, rep);
        }
        cs_site_destroy(site);
    }
    json_object_put(root);
    cs_free(in);
}

/* ---------------------------------------------------------------- suggest */

#define MAX_SUGGESTIONS 50

/* The request's model: "model" (cover when absent), "capacitated" (false) and
 * "site_capacity" (the room of the sites it generates); false with the error replied. */
static bool read_model(json_object *root, cs_suggest_options *opt, cs_reply *rep)
{
    json_object *v = NULL;
    const char *name = member_text(root, "model");
    if (json_object_object_get_ex(root, "model", &v) &&
        (!name || cs_site_model_from_name(name, &opt->model) != CS_OK)) {
        cs_api_error(rep, 400, "unknown \"model\"",
                     "send \"model\": \"cover\", \"p-median\", \"p-center\" or \"backup\"");
        return false;
    }
    if (json_object_object_get_ex(root, "capacitated", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            cs_api_error(rep, 400, "\"capacitated\" is true or false", NULL);
            return false;
        }
        opt->capacitated = json_object_get_boolean(v);
    }
    if (!member_number(root, "site_capacity", true, &opt->site_capacity) ||
        opt->site_capacity <= 0) {
        cs_api_error(rep, 400, "\"site_capacity\" is a number > 0",
                     "send the room of each new site in the kind's capacity units");
        return false;
    }
    return true;
}

/* What the chosen sites do, by model: residents newly covered (covering, backup; units
 * newly served when capacitated), the mean walk (p-median) or the longest (p-center)
 * before and after; the demand served before and after when capacitated. */
static void suggest_objective(const cs_suggest_report *rp, cs_json *j)
{
    bool exact = rp->exact_listed;
    cs_json_key(j, "model");
    cs_json_string(j, cs_site_model_name(rp->model));
    cs_json_key(j, "method"); /* whose sites these are */
    cs_json_string(j, exact ? "exact"
                            : rp->model == CS_MODEL_COVER && !rp->capacitated ? "greedy"
                                                                               : "heuristic");
    cs_json_key(j, "exact_optimal");
    cs_json_boolean(j, rp->exact_run && rp->exact_optimal);
    if (rp->model == CS_MODEL_MEDIAN || rp->model == CS_MODEL_CENTER) {
        cs_json_key(j, "walk_before_m"); /* null: beyond the threshold */
        cs_json_number(j, rp->walk_before, 1);
        cs_json_key(j, "walk_after_m");
        cs_json_number(j, exact ? rp->exact_walk : rp->heuristic_walk, 1);
    } else {
        cs_json_key(j, "covered");
        cs_json_number(j, exact ? rp->exact_covered : rp->greedy_covered, 2);
        cs_json_key(j, "greedy_covered");
        cs_json_number(j, rp->greedy_covered, 2);
    }
    if (rp->model == CS_MODEL_CENTER) {
        cs_json_key(j, "left_out");
        cs_json_number(j, rp->left_out, 2);
    }
    if (rp->capacitated)
        cs_out_json_served(j, rp);
}

void cs_api_suggest(const cs_api *api, const char *body, size_t len, cs_reply *rep)
{
    json_object *root = parse_body(body, len, "{\"kind\": \"centre\", \"k\": 3}", rep);
    if (!root)
        return;
    const char *kind = json_object_is_type(root, json_type_object) ? member_text(root, "kind")
                                                                    : NULL;
    double k = NAN;
    bool k_ok = kind && member_number(root, "k", false, &k) && k >= 1 &&
                k <= MAX_SUGGESTIONS && k == floor(k);
    if (!k_ok) {
        char text[120];
        snprintf(text, sizeof text,
                 "send \"kind\" (a kind's id) and \"k\", a whole number from 1 to %d",
                 MAX_SUGGESTIONS);
        cs_api_error(rep, 400, text, "e.g. {\"kind\": \"centre\", \"k\": 3}");
        json_object_put(root);
        return;
    }
    cs_context *ctx = thread_context(api);
    /* greedy, and the exact optimum where the problem is small enough (the library's
     * size limits), within a time a meeting can wait for */
    cs_suggest_options opt = {.kind = kind, .k = (size_t)k, .within_min = NAN,
                              .reach_share = NAN, .exact = 1, .exact_time_s = 5,
                              .exclude = api->exclude, .exclude_crs = api->exclude_crs,
                              .site_capacity = NAN};
    if (!read_model(root, &opt, rep)) {
        json_object_put(root);
        return;
    }
    cs_suggest_report report;
    cs_site *site = NULL;
    cs_status st = ctx ? cs_site_suggest(ctx, api->r, &opt, &site, &report) : CS_ERR_NOMEM;
    if (st != CS_OK) {
        evaluation_error(ctx, st, rep);
    } else {
        cs_json j;
        begin_reply(rep, &j);
        cs_json_key(&j, "candidates");
        cs_json_integer(&j, (long long)report.candidates);
        suggest_objective(&report, &j);
        cs_json_key(&j, "suggestions");
        cs_json_begin_array(&j);
        for (size_t p = 0; p < cs_site_count(site); p++) {
            cs_json_begin_object(&j);
            cs_json_key(&j, "id");
            cs_json_string(&j, site->proposals[p].id);
            cs_json_key(&j, "kind");
            cs_json_string(&j, kind);
            cs_json_key(&j, "lon");
            cs_json_number(&j, site->proposals[p].lon, 7);
            cs_json_key(&j, "lat");
            cs_json_number(&j, site->proposals[p].lat, 7);
            cs_json_key(&j, "gain");
            cs_json_number(&j, cs_site_gain(site, p), 2);
            cs_json_end_object(&j);
        }
        cs_json_end_array(&j);
        cs_json_end_object(&j);
        answered(&j, rep);
    }
    cs_site_destroy(site);
    json_object_put(root);
}
