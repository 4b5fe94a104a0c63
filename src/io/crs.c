/*
 * crs.c — coordinate transforms through PROJ, with the GCJ-02 and BD-09 encodings
 * handled before PROJ sees the coordinates (PROJ does not know them).
 */
#include "io/crs.h"
#include "io/chinacrs.h"

#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

struct cs_transform {
    PJ *pj;         /* NULL when src and dst are the same */
    cs_shift shift; /* applied first: source encoding -> WGS84 */
    int threads;    /* the context's, for many points at once (0: all cores) */
};

/* A CRS name as the aliases are matched: lower case, without '-', '_' and spaces
 * ("WGS 84", "wgs-84" and "WGS84" all become "wgs84"); "" when too long for one. */
static void alias_key(const char *def, char *norm, size_t size)
{
    size_t n = 0;
    for (const char *p = def; *p; p++) {
        if (*p == '-' || *p == '_' || *p == ' ')
            continue;
        if (n + 1 >= size) {
            n = 0;
            break;
        }
        norm[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    }
    norm[n] = '\0';
}

cs_shift cs_shift_parse(const char *def)
{
    if (!def)
        return CS_SHIFT_NONE;
    char norm[32];
    alias_key(def, norm, sizeof norm);
    if (!strcmp(norm, "gcj02") || !strcmp(norm, "gcj") || !strcmp(norm, "amap") ||
        !strcmp(norm, "tencent"))
        return CS_SHIFT_GCJ02;
    if (!strcmp(norm, "bd09") || !strcmp(norm, "bd09ll") || !strcmp(norm, "baidu"))
        return CS_SHIFT_BD09;
    return CS_SHIFT_NONE;
}

const char *cs_crs_alias(const char *def)
{
    if (!def)
        return NULL;
    char norm[32];
    alias_key(def, norm, sizeof norm);
    if (!strcmp(norm, "wgs84") || !strcmp(norm, "wgs1984"))
        return "EPSG:4326";
    if (!strcmp(norm, "cgcs2000") || !strcmp(norm, "cgcs"))
        return "EPSG:4490";
    return NULL;
}

/* PROJ also takes bare names and matches them loosely ("FOO" becomes some datum);
 * careshed takes only definitions that cannot be guessed: AUTH:CODE, WKT, PROJJSON or
 * a PROJ string. */
static bool is_exact_definition(const char *def)
{
    return strchr(def, ':') || strchr(def, '[') || def[0] == '{' || def[0] == '+';
}

static PJ *create_crs(cs_context *ctx, const char *def)
{
    ctx->foreign_error[0] = '\0';
    if (cs_crs_alias(def))
        def = cs_crs_alias(def);
    if (!is_exact_definition(def)) {
        snprintf(ctx->foreign_error, sizeof ctx->foreign_error,
                 "not an AUTH:CODE, WKT, PROJJSON or PROJ string");
        return NULL;
    }
    return proj_create(ctx->proj, def);
}

cs_status cs_transform_create(cs_context *ctx, const char *src_def, const char *dst_def,
                              const cs_where *where, cs_transform **out)
{
    *out = NULL;
    cs_transform *t = cs_calloc(1, sizeof *t);
    if (!t)
        return cs_nomem(ctx);
    t->threads = ctx->threads;
    t->shift = cs_shift_parse(src_def);
    if (t->shift != CS_SHIFT_NONE)
        src_def = "EPSG:4326";
    if (cs_crs_alias(src_def))
        src_def = cs_crs_alias(src_def);
    if (cs_crs_alias(dst_def))
        dst_def = cs_crs_alias(dst_def);
    if (!strcmp(src_def, dst_def)) {
        *out = t;
        return CS_OK;
    }
    PJ *src = create_crs(ctx, src_def);
    if (!src) {
        cs_free(t);
        return cs_error(ctx, CS_ERR_CRS, where,
                        "name a CRS PROJ knows (EPSG:4326, EPSG:4490, EPSG:4549, a WKT or "
                        "PROJ string), WGS84, CGCS2000, GCJ-02 or BD-09",
                        "unknown coordinate system '%.200s' (%s)", src_def,
                        ctx->foreign_error[0] ? ctx->foreign_error : "PROJ cannot parse it");
    }
    PJ *dst = create_crs(ctx, dst_def);
    if (!dst) {
        proj_destroy(src);
        cs_free(t);
        return cs_error(ctx, CS_ERR_CRS, where, "name a projected CRS in metres",
                        "unknown coordinate system '%.200s' (%s)", dst_def,
                        ctx->foreign_error[0] ? ctx->foreign_error : "PROJ cannot parse it");
    }
    PJ *op = proj_create_crs_to_crs_from_pj(ctx->proj, src, dst, NULL, NULL);
    proj_destroy(src);
    proj_destroy(dst);
    PJ *norm = op ? proj_normalize_for_visualization(ctx->proj, op) : NULL;
    proj_destroy(op);
    if (!norm) {
        cs_free(t);
        return cs_error(ctx, CS_ERR_CRS, where, "check the layer's CRS",
                        "no transformation from '%.200s' to '%.200s' (%s)", src_def, dst_def,
                        ctx->foreign_error);
    }
    t->pj = norm;
    *out = t;
    return CS_OK;
}

void cs_transform_destroy(cs_transform *t)
{
    if (!t)
        return;
    proj_destroy(t->pj);
    cs_free(t);
}

/* The transforms a context keeps: a few pairs, the oldest given up for a new one. */
#define KEPT_MAX 8
typedef struct kept {
    struct {
        char *src, *dst;
        cs_transform *t;
    } pair[KEPT_MAX];
    size_t count, next; /* next: the oldest, when all are used */
} kept;

static void kept_free(void *p)
{
    kept *k = p;
    for (size_t i = 0; i < k->count; i++) {
        cs_free(k->pair[i].src);
        cs_free(k->pair[i].dst);
        cs_transform_destroy(k->pair[i].t);
    }
    cs_free(k);
}

cs_status cs_transform_kept(cs_context *ctx, const char *src_def, const char *dst_def,
                            const cs_where *where, cs_transform **out)
{
    *out = NULL;
    if (!ctx->kept_transforms) {
        ctx->kept_transforms = cs_calloc(1, sizeof(kept));
        if (!ctx->kept_transforms)
            return cs_nomem(ctx);
        ctx->kept_free = kept_free;
    }
    kept *k = ctx->kept_transforms;
    for (size_t i = 0; i < k->count; i++)
        if (!strcmp(k->pair[i].src, src_def) && !strcmp(k->pair[i].dst, dst_def)) {
            *out = k->pair[i].t;
            return CS_OK;
        }
    char *src = cs_strdup(src_def), *dst = cs_strdup(dst_def);
    cs_transform *t = NULL;
    cs_status st = src && dst ? cs_transform_create(ctx, src_def, dst_def, where, &t)
                              : cs_nomem(ctx);
    if (st != CS_OK) {
        cs_free(src);
        cs_free(dst);
        return st;
    }
    size_t slot;
    if (k->count < KEPT_MAX) {
        slot = k->count++;
    } else { /* all used: the oldest makes room */
        slot = k->next;
        k->next = (k->next + 1) % KEPT_MAX;
        cs_free(k->pair[slot].src);
        cs_free(k->pair[slot].dst);
        cs_transform_destroy(k->pair[slot].t);
    }
    k->pair[slot].src = src;
    k->pair[slot].dst = dst;
    k->pair[slot].t = t;
    *out = t;
    return CS_OK;
}

/* Points [0, n) through pj (NULL: none) after the shift; returns how many failed. */
static size_t apply_range(PJ *pj, cs_shift shift, double *x, double *y, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (shift == CS_SHIFT_GCJ02)
            cs_wgs84_from_gcj02(x[i], y[i], &x[i], &y[i]);
        else if (shift == CS_SHIFT_BD09)
            cs_wgs84_from_bd09(x[i], y[i], &x[i], &y[i]);
    }
    if (pj && n > 0)
        proj_trans_generic(pj, PJ_FWD, x, sizeof *x, n, y, sizeof *y, n, NULL, 0, 0, NULL, 0,
                           0);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]) || fabs(x[i]) > 1e20 || fabs(y[i]) > 1e20) {
            x[i] = y[i] = NAN;
            failed++;
        }
    }
    return failed;
}

/* Below this many points one thread does it: a thread's PROJ context and copy of the
 * operation cost about as much as transforming some ten thousand points. */
#define PARALLEL_MIN 100000
#define MAX_THREADS 64

size_t cs_transform_apply(cs_transform *t, double *x, double *y, size_t n)
{
    int nt = 1;
#ifdef _OPENMP
    nt = t->threads > 0 ? t->threads : omp_get_max_threads();
#endif
    if (!t->pj || n < PARALLEL_MIN || nt < 2)
        return apply_range(t->pj, t->shift, x, y, n);
    /* PROJ objects belong to one context, used by one thread: each other thread gets a
     * context and a copy of the operation of its own; if PROJ cannot copy it, one
     * thread does it all. The results are the same. */
    nt = nt < MAX_THREADS ? nt : MAX_THREADS;
    PJ_CONTEXT *contexts[MAX_THREADS] = {0};
    PJ *ops[MAX_THREADS] = {t->pj};
    int made = 1;
    for (; made < nt; made++) {
        contexts[made] = proj_context_create();
        if (contexts[made])
            proj_log_level(contexts[made], PJ_LOG_NONE);
        ops[made] = contexts[made] ? proj_clone(contexts[made], t->pj) : NULL;
        if (!ops[made])
            break;
    }
    size_t failed = 0;
    if (made < nt) {
        failed = apply_range(t->pj, t->shift, x, y, n);
    } else {
        size_t chunk = (n + (size_t)nt - 1) / (size_t)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(nt) reduction(+ : failed)
#endif
        for (int c = 0; c < nt; c++) {
            size_t first = (size_t)c * chunk;
            size_t len = first >= n ? 0 : n - first < chunk ? n - first : chunk;
            failed += apply_range(ops[c], t->shift, x + first, y + first, len);
        }
    }
    for (int c = 1; c <= made && c < nt; c++) {
        proj_destroy(ops[c]);
        if (contexts[c])
            proj_context_destroy(contexts[c]);
    }
    return failed;
}

bool cs_crs_same(cs_context *ctx, const char *a_def, const char *b_def)
{
    if (!a_def || !b_def)
        return false;
    bool shift_a = cs_shift_parse(a_def) != CS_SHIFT_NONE,
         shift_b = cs_shift_parse(b_def) != CS_SHIFT_NONE;
    if (shift_a || shift_b)
        return shift_a && shift_b && cs_shift_parse(a_def) == cs_shift_parse(b_def);
    if (!strcmp(a_def, b_def))
        return true;
    PJ *a = create_crs(ctx, a_def);
    PJ *b = a ? create_crs(ctx, b_def) : NULL;
    /* PJ_COMP_EQUIVALENT: same datum, projection, parameters, units and axis order,
     * names and identifiers aside (a .prj WKT without an ID matches its EPSG code) */
    bool same = a && b && proj_is_equivalent_to_with_ctx(ctx->proj, a, b, PJ_COMP_EQUIVALENT);
    proj_destroy(b);
    proj_destroy(a);
    ctx->foreign_error[0] = '\0';
    return same;
}

int cs_crs_is_geographic(cs_context *ctx, const char *def)
{
    if (cs_shift_parse(def) != CS_SHIFT_NONE)
        return 1;
    PJ *crs = create_crs(ctx, def);
    if (!crs)
        return -1;
    PJ_TYPE type = proj_get_type(crs);
    if (type == PJ_TYPE_BOUND_CRS) {
        PJ *base = proj_get_source_crs(ctx->proj, crs);
        proj_destroy(crs);
        crs = base;
        type = crs ? proj_get_type(crs) : PJ_TYPE_UNKNOWN;
    }
    proj_destroy(crs);
    return type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS;
}

bool cs_crs_is_metric(cs_context *ctx, const char *def)
{
    PJ *crs = create_crs(ctx, def);
    if (!crs)
        return false;
    bool ok = false;
    if (proj_get_type(crs) == PJ_TYPE_PROJECTED_CRS) {
        PJ *cs = proj_crs_get_coordinate_system(ctx->proj, crs);
        double factor = 0;
        if (cs && proj_cs_get_axis_info(ctx->proj, cs, 0, NULL, NULL, NULL, &factor, NULL,
                                        NULL, NULL))
            ok = fabs(factor - 1.0) < 1e-12;
        proj_destroy(cs);
    }
    proj_destroy(crs);
    return ok;
}

double cs_crs_scale_error(cs_context *ctx, const char *def, double lon_deg, double lat_deg)
{
    /* Project the point and two neighbours 0.001 degree east and north, and compare the
     * projected steps with the true ones on the WGS84 ellipsoid (radii of curvature
     * M and N): exact to about 1e-6 over such a short step. */
    cs_transform *t = NULL;
    if (cs_transform_create(ctx, "EPSG:4326", def, NULL, &t) != CS_OK)
        return NAN;
    const double step = 0.001, a = 6378137.0, e2 = 0.00669437999014;
    double x[3] = {lon_deg, lon_deg + step, lon_deg}, y[3] = {lat_deg, lat_deg, lat_deg + step};
    size_t failed = cs_transform_apply(t, x, y, 3);
    cs_transform_destroy(t);
    if (failed)
        return NAN;
    double phi = (lat_deg + step / 2) * M_PI / 180, s2 = sin(phi) * sin(phi);
    double m = a * (1 - e2) / pow(1 - e2 * s2, 1.5), n = a / sqrt(1 - e2 * s2);
    double east_true = n * cos(lat_deg * M_PI / 180) * step * M_PI / 180;
    double north_true = m * step * M_PI / 180;
    double east = hypot(x[1] - x[0], y[1] - y[0]), north = hypot(x[2] - x[0], y[2] - y[0]);
    return fmax(fabs(east / east_true - 1), fabs(north / north_true - 1));
}

char *cs_crs_short_name(cs_context *ctx, const char *def)
{
    PJ *crs = cs_shift_parse(def) == CS_SHIFT_NONE ? create_crs(ctx, def) : NULL;
    if (!crs)
        return cs_strdup(def);
    char text[256] = "";
    const char *auth = proj_get_id_auth_name(crs, 0), *code = proj_get_id_code(crs, 0);
    if (auth && code) {
        snprintf(text, sizeof text, "%s:%s", auth, code);
    } else {
        /* a WKT without an ID (e.g. from a .prj file): PROJ's confident match, if any */
        int *confidence = NULL;
        PJ_OBJ_LIST *matches = proj_identify(ctx->proj, crs, "EPSG", NULL, &confidence);
        if (matches && proj_list_get_count(matches) > 0 && confidence[0] >= 90) {
            PJ *best = proj_list_get(ctx->proj, matches, 0);
            snprintf(text, sizeof text, "%s:%s", proj_get_id_auth_name(best, 0),
                     proj_get_id_code(best, 0));
            proj_destroy(best);
        }
        proj_list_destroy(matches);
        proj_int_list_destroy(confidence);
    }
    if (!text[0])
        snprintf(text, sizeof text, "%s", proj_get_name(crs) ? proj_get_name(crs) : def);
    proj_destroy(crs);
    return cs_strdup(text);
}

char *cs_crs_auto_tmerc(double lon0_deg)
{
    char text[160];
    snprintf(text, sizeof text,
             "+proj=tmerc +lat_0=0 +lon_0=%.3f +k=1 +x_0=500000 +y_0=0 +datum=WGS84 "
             "+units=m +no_defs +type=crs",
             round(lon0_deg * 1000.0) / 1000.0);
    return cs_strdup(text);
}
