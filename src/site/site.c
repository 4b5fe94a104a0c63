/*
 * site.c — proposed sites: placing them in the study (any CRS, GCJ-02 and BD-09
 * included), checking them, and the accessors of cs_site. The evaluation itself is in
 * evaluate.c.
 */
#include "site/site.h"

#include "io/crs.h"
#include "io/load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WGS84 "EPSG:4326"

static long find_kind(const cs_study *s, const char *id)
{
    for (size_t k = 0; id && k < s->settings.kind_count; k++)
        if (!strcmp(s->settings.kinds[k].id, id))
            return (long)k;
    return -1;
}

static cs_status bad(cs_context *ctx, const char *noun, const cs_where *w, const char *hint,
                     const char *what, const char *detail)
{
    return cs_error(ctx, CS_ERR_INPUT, w, hint, "%s %s: %s", noun, what, detail);
}

/* The study's kinds as "centre, meal, ..." for messages. */
static void kind_list(const cs_study *s, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", k ? ", " : "", s->settings.kinds[k].id);
    }
}

/* lon/lat in crs to the working CRS, through the context's kept transforms
 * (cs_transform_kept: creating a PROJ pipeline costs milliseconds, and a server places
 * proposals on every request). noun: "proposal" or "candidate", for messages. */
static cs_status to_working(cs_context *ctx, const cs_study *s, const char *noun,
                            const cs_site_input *in, const cs_where *w, cs_proposal *p)
{
    double x = in->lon, y = in->lat;
    cs_status st = CS_OK;
    cs_transform *t = NULL;
    if (in->crs && strcmp(in->crs, WGS84) != 0) {
        st = cs_transform_kept(ctx, in->crs, WGS84, w, &t);
        if (st == CS_OK && cs_transform_apply(t, &x, &y, 1) > 0)
            st = bad(ctx, noun, w, "check the coordinates and their CRS", "coordinates",
                     "cannot be converted to longitude/latitude");
    }
    p->lon = x;
    p->lat = y;
    if (st == CS_OK)
        st = cs_transform_kept(ctx, WGS84, s->settings.crs, w, &t);
    if (st == CS_OK && cs_transform_apply(t, &x, &y, 1) > 0)
        st = bad(ctx, noun, w, "give longitude,latitude in the study's region", "coordinates",
                 "cannot be projected to the study's CRS");
    p->x = x;
    p->y = y;
    return st;
}

long cs_site_area_at(const cs_study *s, double x, double y)
{
    long a = cs_area_index_locate(s->areas.index, x, y);
    double d = INFINITY;
    return a >= 0 ? a
                  : cs_area_index_nearest(s->areas.index, x, y, s->settings.outside_tolerance_m,
                                          &d);
}

static cs_status place(cs_context *ctx, const cs_study *s, const char *noun,
                       const cs_site_input *in, size_t i, const char *where, cs_proposal *p)
{
    char number[32], kinds[512], detail[640];
    snprintf(number, sizeof number, "%zu", i + 1);
    p->id = cs_strdup(in->id ? in->id : number);
    if (!p->id)
        return cs_nomem(ctx);
    cs_where w = {.file = where, .feature = in->feature, .feature_id = p->id};
    p->kind = find_kind(s, in->kind);
    p->capacity = in->capacity;
    cs_status st = CS_OK;
    if (p->kind < 0) {
        kind_list(s, kinds, sizeof kinds);
        snprintf(detail, sizeof detail, "unknown kind '%s'", in->kind ? in->kind : "(none)");
        char hint[600];
        snprintf(hint, sizeof hint, "give one of the study's kinds: %s", kinds);
        st = bad(ctx, noun, &w, hint, "kind", detail);
    }
    if (!isnan(in->capacity) && !(in->capacity >= 0 && isfinite(in->capacity))) {
        snprintf(detail, sizeof detail, "capacity %g is not a number >= 0", in->capacity);
        st = bad(ctx, noun, &w,
                 "give the capacity in the kind's unit (beds, meals/day...), or none",
                 "capacity", detail);
    }
    p->row = cs_cost_matrix_row(s, p->id);
    if (p->kind >= 0 && (s->settings.kinds[p->kind].measures & CS_MEASURE_MATRIX) &&
        (p->row < 0 || (size_t)p->row < s->fac.count)) {
        snprintf(detail, sizeof detail, "kind '%s' is measured by the cost matrix, which %s",
                 s->settings.kinds[p->kind].id, p->row < 0 ? "has no row for this id"
                                                  : "gives this id to an existing facility");
        st = bad(ctx, noun, &w,
                 "add the site's costs to the matrix under a new id, and give that "
                 "id to the proposal (--proposals FILE with an id field)",
                 "id", detail);
    }
    if (p->kind >= 0 && !isnan(in->capacity) && s->settings.kinds[p->kind].load_capacity < 0)
        cs_warn(ctx, &w, "set kinds.<kind>.load_capacity to use it",
                "kind '%s' has no capacity measure; the capacity is left out", in->kind);
    cs_status pst = to_working(ctx, s, noun, in, &w, p);
    if (pst != CS_OK)
        return pst;
    p->area = cs_site_area_at(s, p->x, p->y);
    if (p->area < 0) {
        double d = INFINITY;
        cs_area_index_nearest(s->areas.index, p->x, p->y, 1e9, &d);
        snprintf(detail, sizeof detail, "(%.6f, %.6f) lies outside the study area, %.1f km "
                 "from the nearest area", p->lon, p->lat, d / 1000.0);
        st = bad(ctx, noun, &w,
                 strcmp(noun, "candidate")
                     ? "check the coordinates and their CRS (--at takes longitude,latitude)"
                     : "check the coordinates and their CRS (--proposals-crs)",
                 "position", detail);
    }
    return st;
}

static void free_effect(const cs_result *r, cs_site_effect *e)
{
    size_t n = CS_LANGS * r->study->settings.target_count * (r->A + 1);
    for (size_t i = 0; e->after_texts && i < n; i++)
        cs_free(e->after_texts[i]);
    cs_free(e->after_texts);
    cs_free(e->after);
    cs_free(e->newly);
}

void cs_site_destroy(cs_site *site)
{
    if (!site)
        return;
    for (size_t p = 0; p < site->P; p++)
        cs_free(site->proposals[p].id);
    for (size_t p = 0; site->effects && p <= site->P; p++)
        free_effect(site->r, &site->effects[p]);
    cs_free(site->proposals);
    cs_free(site->effects);
    cs_free(site->line);
    cs_free(site->gain);
    cs_buf_free(&site->assignment);
    cs_free(site);
}

cs_status cs_site_place(cs_context *ctx, const cs_result *r, const cs_site_input *in, size_t n,
                        const char *where, const char *noun, cs_site **out)
{
    *out = NULL;
    cs_site *site = cs_calloc(1, sizeof *site);
    if (!site)
        return cs_nomem(ctx);
    site->r = r;
    site->proposals = cs_calloc(n + 1, sizeof *site->proposals);
    cs_status st = site->proposals ? CS_OK : cs_nomem(ctx);
    size_t first_message = cs_context_message_count(ctx);
    for (size_t i = 0; st != CS_ERR_NOMEM && i < n; i++) {
        cs_status pst = place(ctx, r->study, noun, &in[i], i, where, &site->proposals[i]);
        site->P = i + 1;
        if (st == CS_OK)
            st = pst;
    }
    /* thousands of candidates with one mistake in common read as one */
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER,
                              where ? where : strcmp(noun, "candidate") ? "the proposals"
                                                                         : "the candidates");
    if (st != CS_OK) {
        cs_site_destroy(site);
        return st;
    }
    *out = site;
    return CS_OK;
}

/* Place and evaluate, with the searches' shared part from cache (NULL: built here). */
static cs_status evaluate(cs_context *ctx, const cs_result *r, const cs_site_cache *cache,
                         const cs_site_input *in, size_t n, const char *where, cs_site **out)
{
    if (!ctx || !r || (!in && n) || !out || (cache && cs_site_cache_result(cache) != r) ||
        r->network_freed)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    if (n == 0)
        return cs_error(ctx, CS_ERR_INPUT, NULL, "give --at LON,LAT,KIND or --proposals FILE",
                        "no proposal to evaluate");
    cs_site *site = NULL;
    cs_status st = cs_site_place(ctx, r, in, n, where, "proposal", &site);
    double t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_site_run(ctx, r, cache, site);
    cs_stage_end(ctx, "site", t0);
    if (st != CS_OK) {
        cs_site_destroy(site);
        return st;
    }
    *out = site;
    return CS_OK;
}

cs_status cs_site_evaluate(cs_context *ctx, const cs_result *r, const cs_site_input *in,
                           size_t n, const char *where, cs_site **out)
{
    return evaluate(ctx, r, NULL, in, n, where, out);
}

cs_status cs_site_evaluate_cached(cs_context *ctx, const cs_site_cache *cache,
                                  const cs_site_input *in, size_t n, const char *where,
                                  cs_site **out)
{
    if (!cache)
        return CS_ERR_ARGUMENT;
    return evaluate(ctx, cs_site_cache_result(cache), cache, in, n, where, out);
}

cs_status cs_site_cache_create(cs_context *ctx, const cs_result *r, cs_site_cache **out)
{
    if (!ctx || !r || !out || r->network_freed)
        return CS_ERR_ARGUMENT;
    cs_status st = cs_site_cache_build(r, NULL, out);
    if (st != CS_OK) {
        cs_site_cache_destroy(*out);
        *out = NULL;
        return cs_nomem(ctx);
    }
    return CS_OK;
}

size_t cs_site_count(const cs_site *site)
{
    return site ? site->P : 0;
}

cs_status cs_site_newly(const cs_site *site, size_t p, size_t k, size_t j, size_t b, size_t a,
                        double *out)
{
    if (!site || !out || p > site->P)
        return CS_ERR_ARGUMENT;
    const cs_result *r = site->r;
    if (!cs_res_area(r, &a) || k >= r->K || j >= r->study->settings.kinds[k].threshold_count ||
        b >= r->B)
        return CS_ERR_ARGUMENT;
    *out = site->effects[p].newly[cs_site_at(r, k, cs_res_main(r, k), j, a, b)];
    return CS_OK;
}

cs_status cs_site_get_figures(const cs_site *site, size_t p, cs_site_figures *out)
{
    if (!site || !out || p > site->P)
        return CS_ERR_ARGUMENT;
    const cs_site_effect *e = &site->effects[p];
    *out = (cs_site_figures){p < site->P ? site->proposals[p].id : "all",
                             p < site->P ? (size_t)site->proposals[p].kind : 0,
                             e->within, e->overlap, e->access_gain, e->load_taken,
                             e->neighbours, e->own_load};
    return CS_OK;
}

cs_status cs_site_target(const cs_site *site, size_t p, size_t t, size_t a,
                         cs_target_outcome *after)
{
    if (!site || !after || p > site->P || t >= site->r->study->settings.target_count)
        return CS_ERR_ARGUMENT;
    if (!cs_res_area(site->r, &a))
        return CS_ERR_ARGUMENT;
    *after = site->effects[p].after[cs_res_target(site->r, t, a)];
    return CS_OK;
}

static const char *const model_names[] = {[CS_MODEL_COVER] = "cover",
                                           [CS_MODEL_MEDIAN] = "p-median",
                                           [CS_MODEL_CENTER] = "p-center",
                                           [CS_MODEL_BACKUP] = "backup"};

const char *cs_site_model_name(cs_site_model model)
{
    return (size_t)model < sizeof model_names / sizeof model_names[0] ? model_names[model]
                                                                       : NULL;
}

cs_status cs_site_model_from_name(const char *name, cs_site_model *out)
{
    for (size_t m = 0; name && m < sizeof model_names / sizeof model_names[0]; m++)
        if (!strcmp(name, model_names[m])) {
            *out = (cs_site_model)m;
            return CS_OK;
        }
    return CS_ERR_ARGUMENT;
}

double cs_site_gain(const cs_site *site, size_t p)
{
    return site && site->gain && p < site->P ? site->gain[p] : NAN;
}
