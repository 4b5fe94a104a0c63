/*
 * crs.h — the one door to PROJ (with the GCJ-02/BD-09 shifts in front of it).
 *
 * Every layer goes through WGS84 lon/lat on its way into the study: source -> WGS84
 * (PROJ, or the GCJ-02/BD-09 inverse), then WGS84 -> the working metric CRS. Checks on
 * coordinates (swapped lat/lon, far outside the study area) are made in lon/lat. A
 * layer already in the working CRS (cs_crs_same) keeps its own coordinates: the round
 * trip would move them by ~1e-9 m (io/study.c).
 */
#ifndef CS_CRS_H
#define CS_CRS_H

#include "core/core.h"

typedef struct cs_transform cs_transform;

/* How a layer's coordinates are encoded before PROJ can read them. */
typedef enum cs_shift {
    CS_SHIFT_NONE = 0,
    CS_SHIFT_GCJ02, /* AMap, Tencent */
    CS_SHIFT_BD09   /* Baidu */
} cs_shift;

/* Recognise "GCJ-02"/"GCJ02"/"gcj" and "BD-09"/"BD09"/"baidu" (any case). */
cs_shift cs_shift_parse(const char *def);

/* The EPSG code a common name stands for: "WGS84" (also "WGS 84", "wgs-84", "WGS1984")
 * is "EPSG:4326", "CGCS2000" is "EPSG:4490"; matched as cs_shift_parse matches its
 * names (any case, '-', '_' and spaces ignored). NULL for anything else. Every
 * function here that takes a CRS text takes these names too. Static string. */
const char *cs_crs_alias(const char *def);

/*
 * A transform from src_def (anything proj_create accepts: "EPSG:4549", WKT, PROJJSON,
 * a PROJ string; or "GCJ-02"/"BD-09", which mean those encodings of WGS84) to dst_def,
 * in GIS axis order (lon/lat, easting/northing). where/role name the layer for errors.
 * Errors: CS_ERR_CRS naming the CRS text and PROJ's reason.
 */
cs_status cs_transform_create(cs_context *ctx, const char *src_def, const char *dst_def,
                              const cs_where *where, cs_transform **out);
void cs_transform_destroy(cs_transform *t);
/* The same transform, kept by ctx for its life and shared by every call that asks for
 * the same pair on it (creating one queries PROJ's database for milliseconds: a server
 * placing proposals asks for the same one on every request). Borrowed: never destroy
 * it; use it on ctx's thread only. */
cs_status cs_transform_kept(cs_context *ctx, const char *src_def, const char *dst_def,
                            const cs_where *where, cs_transform **out);

/* Transform n points in place. Points PROJ cannot transform become NaN; returns the
 * number of such points. */
size_t cs_transform_apply(cs_transform *t, double *x, double *y, size_t n);

/* Whether two CRS texts name the same CRS (the same text, or definitions PROJ finds
 * equivalent, e.g. "EPSG:32651" and its WKT), so that coordinates in one are already
 * in the other and need no transform. GCJ-02/BD-09 are never the same as a PROJ CRS;
 * false when either cannot be parsed. */
bool cs_crs_same(cs_context *ctx, const char *a_def, const char *b_def);

/* Whether the CRS text describes a geographic (lon/lat) CRS; -1 when unknown. */
int cs_crs_is_geographic(cs_context *ctx, const char *def);

/* Whether def is a projected CRS in metres (usable as the working CRS). */
bool cs_crs_is_metric(cs_context *ctx, const char *def);

/* How far a projected CRS stretches distances at (lon, lat): the larger of
 * |meridional scale - 1| and |parallel scale - 1|; NaN when PROJ cannot tell. */
double cs_crs_scale_error(cs_context *ctx, const char *def, double lon_deg, double lat_deg);

/* A short name for a CRS: "EPSG:4326" when it has an identifier, else its name, else
 * the text itself (for GCJ-02/BD-09). New string. */
char *cs_crs_short_name(cs_context *ctx, const char *def);

/* The automatic working CRS: a transverse Mercator on WGS84 centred at lon0
 * (rounded to 0.001 degree so the same areas always give the same CRS). New string. */
char *cs_crs_auto_tmerc(double lon0_deg);

#endif
