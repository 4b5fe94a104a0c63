/*
 * study.c — the second half of loading a study: choose the working metric CRS, move
 * every layer into it through WGS84 (a layer already in it keeps its own coordinates;
 * the checks still see lon/lat), repair area geometries, locate every point in
 * its area, catch swapped lat/lon and points far from the study area, and resolve
 * the targets' names to indices. The result is immutable.
 */
#include "io/study.h"
#include "io/crs.h"
#include "io/load.h"
#include "io/seams.h"
#include "io/spread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WGS84 "EPSG:4326"
#define DEG_TO_M 111320.0 /* metres per degree of latitude, for rough distances */
/* Largest distance distortion of a user's working CRS at the study area's centre:
 * 0.1% is 1 m in a 1 km service circle (a 3-degree Gauss-Kruger zone stays within it). */
#define CS_MAX_SCALE_ERROR 0.001
/* Most cells a grid over the areas' extent may have (population.spread_m,
 * underserved.cell_m): 10 million is a 50 m grid over 25,000 km². */
#define CS_MAX_GRID_CELLS 10000000.0

/* The areas' extent in lon/lat, for checks on the point layers. */
typedef struct lonlat_box {
    double lon_min, lat_min, lon_max, lat_max;
} lonlat_box;

static cs_status first_error(cs_status current, cs_status next)
{
    if (next == CS_ERR_NOMEM)
        return next;
    return current != CS_OK ? current : next;
}

/* ------------------------------------------------------------ into WGS84 */

static bool fits_lonlat(const double *x, const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(x[i]) <= 180 && fabs(y[i]) <= 90))
            return false;
    return true;
}

/* Count points whose latitude is impossible but would be fine swapped. */
static size_t count_swapped(const double *x, const double *y, size_t n, size_t *example)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(y[i]) > 90 && fabs(y[i]) <= 180 && fabs(x[i]) <= 90) {
            if (count++ == 0)
                *example = i;
        }
    return count;
}

/* Whether every point is longitude/latitude read either way round. */
static bool fits_lonlat_or_swapped(const double *x, const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((fabs(x[i]) <= 180 && fabs(y[i]) <= 90) || (fabs(x[i]) <= 90 && fabs(y[i]) <= 180)))
            return false;
    return true;
}

/* What to do about swapped latitude and longitude: name the fields to exchange in a
 * table of points, or the coordinates of a layer of geometries. */
static void swapped_hint(const cs_raw_layer *raw, const char *role, char *hint, size_t size)
{
    if (raw->x_field)
        snprintf(hint, size, "latitude and longitude look swapped: exchange %s.x and %s.y, "
                 "reading x from '%.60s' and y from '%.60s' (%s.x: %.60s and %s.y: %.60s in "
                 "the study file, or --set %s.x=%.60s --set %s.y=%.60s)", role, role,
                 raw->y_field, raw->x_field, role, raw->y_field, role, raw->x_field, role,
                 raw->y_field, role, raw->x_field);
    else
        snprintf(hint, size, "latitude and longitude look swapped: the file holds latitude "
                 "first; exchange the coordinates in a GIS (or the program that wrote the "
                 "file) and run again");
}

/* ------------------------------------------------------- degrees or metres */

/* No coordinate in degrees reaches this: a larger value is metres (or feet) of a
 * projected CRS, whatever the layer's label says (layer.c leaves such values to
 * check_degrees, cs_layer_defer_metres). */
#define CS_DEGREES_MAX 360.0
/* Web Mercator's extent: ±π × 6378137 m east and north (85.05° N/S). */
#define CS_MERCATOR_MAX_M 20037508.35
/* How near the reference layers points converted by a guessed CRS must fall: 0.2 degree
 * (~20 km) takes points just outside the areas and still tells apart CRSs whose
 * central meridians are 3 degrees apart. */
#define CS_GUESS_MARGIN_DEG 0.2
/* Points tried per guess: enough to be sure, few enough to be instant. */
#define CS_GUESS_SAMPLE 256

static bool is_metres(double x, double y)
{
    return isfinite(x) && isfinite(y) && (fabs(x) > CS_DEGREES_MAX || fabs(y) > CS_DEGREES_MAX);
}

/* The longitude/latitude box of a point layer that holds degrees (labelled geographic,
 * or unlabelled, and every point fitting), as the other layers' reference for the
 * areas' own check; false for any other layer. */
static bool points_lonlat_box(cs_context *ctx, const cs_raw_points *raw, lonlat_box *box)
{
    if (raw->count == 0 || !fits_lonlat(raw->x, raw->y, raw->count) ||
        (raw->layer.srs && cs_crs_is_geographic(ctx, raw->layer.srs) != 1))
        return false;
    *box = (lonlat_box){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < raw->count; i++) {
        box->lon_min = fmin(box->lon_min, raw->x[i]), box->lon_max = fmax(box->lon_max, raw->x[i]);
        box->lat_min = fmin(box->lat_min, raw->y[i]), box->lat_max = fmax(box->lat_max, raw->y[i]);
    }
    return true;
}

/* Whether nine in ten of the n sampled points (projected metres), read in crs, fall
 * within CS_GUESS_MARGIN_DEG of ref. */
static bool lands_near(cs_context *ctx, const char *crs, const double *sx, const double *sy,
                       size_t n, const lonlat_box *ref)
{
    double x[CS_GUESS_SAMPLE], y[CS_GUESS_SAMPLE];
    memcpy(x, sx, n * sizeof *x);
    memcpy(y, sy, n * sizeof *y);
    cs_transform *t = NULL;
    if (cs_transform_create(ctx, crs, WGS84, NULL, &t) != CS_OK)
        return false;
    cs_transform_apply(t, x, y, n);
    cs_transform_destroy(t);
    size_t near = 0;
    const double m = CS_GUESS_MARGIN_DEG;
    for (size_t i = 0; i < n; i++)
        near += x[i] >= ref->lon_min - m && x[i] <= ref->lon_max + m &&
                y[i] >= ref->lat_min - m && y[i] <= ref->lat_max + m;
    return near * 10 >= n * 9;
}

/*
 * The projected CRS a layer's metres are most likely in: the first of Web Mercator
 * (what web maps use, and what a GeoJSON written from one holds), the UTM zone of ref's
 * centre, and the CGCS2000 3-degree Gauss-Kruger zone around it (easting with and
 * without the zone number in front) that puts the points within reach of ref, the
 * other layers' extent in longitude/latitude. false (no guess) without ref or when no
 * candidate fits; text receives "EPSG:<code>".
 */
static bool guess_projected(cs_context *ctx, const double *x, const double *y, size_t n,
                            const lonlat_box *ref, char *text, size_t size)
{
    if (!ref)
        return false;
    double sx[CS_GUESS_SAMPLE], sy[CS_GUESS_SAMPLE];
    size_t m = 0, metres = 0;
    for (size_t i = 0; i < n; i++)
        metres += is_metres(x[i], y[i]);
    size_t step = metres > CS_GUESS_SAMPLE ? metres / CS_GUESS_SAMPLE + 1 : 1;
    bool mercator = true;
    for (size_t i = 0, k = 0; i < n && m < CS_GUESS_SAMPLE; i++) {
        if (!is_metres(x[i], y[i]))
            continue;
        mercator = mercator && fabs(x[i]) <= CS_MERCATOR_MAX_M && fabs(y[i]) <= CS_MERCATOR_MAX_M;
        if (k++ % step == 0)
            sx[m] = x[i], sy[m] = y[i], m++;
    }
    if (m == 0)
        return false;
    double lon = (ref->lon_min + ref->lon_max) / 2, lat = (ref->lat_min + ref->lat_max) / 2;
    int utm_zone = (int)floor((lon + 180) / 6) + 1, gk_cm = (int)lround(lon / 3) * 3;
    int codes[4], count = 0;
    if (mercator)
        codes[count++] = 3857;
    if (utm_zone >= 1 && utm_zone <= 60)
        codes[count++] = (lat >= 0 ? 32600 : 32700) + utm_zone;
    if (gk_cm >= 75 && gk_cm <= 135) { /* EPSG:4534-4554: CM 75E-135E; 4513-4533 zoned */
        codes[count++] = 4534 + (gk_cm - 75) / 3;
        codes[count++] = 4513 + (gk_cm / 3 - 25);
    }
    for (int c = 0; c < count; c++) {
        snprintf(text, size, "EPSG:%d", codes[c]);
        if (lands_near(ctx, text, sx, sy, m, ref))
            return true;
    }
    return false;
}

/* Whether the file name says GeoJSON, which GDAL always labels WGS84 (RFC 7946). */
static bool named_geojson(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return (n >= 8 && !cs_strcasecmp(path + n - 8, ".geojson")) ||
           (n >= 5 && !cs_strcasecmp(path + n - 5, ".json"));
}

/*
 * A layer read as longitude/latitude (labelled geographic, or unlabelled: src NULL)
 * must hold degrees. When most of its values are beyond any degree (metres of a
 * projected CRS, say a GeoJSON written in Web Mercator, which GDAL still labels WGS84)
 * the layer fails as a whole, with the CRS they fit when a guess puts them within
 * reach of ref (guess_projected) and the key that names it. A few such values among
 * degrees are typos: each fails on its own (an unlabelled layer leaves them to the
 * "not longitude/latitude" error).
 */
static cs_status check_degrees(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                               const char *src, const double *x, const double *y, size_t n,
                               const long *feature, const lonlat_box *ref)
{
    size_t metres = 0, example = 0;
    for (size_t i = 0; i < n; i++)
        if (is_metres(x[i], y[i]) && metres++ == 0)
            example = i;
    if (metres == 0)
        return CS_OK;
    if (2 * metres < n) {
        cs_status st = CS_OK;
        size_t told = 0;
        for (size_t i = 0; src && i < n; i++) {
            if (!is_metres(x[i], y[i]))
                continue;
            bool bad_y = fabs(y[i]) > 90;
            cs_where w = {.file = raw->display};
            if (feature)
                w = cs_raw_where(raw, feature[i], NULL);
            w.field = bad_y ? raw->y_field : raw->x_field;
            char hint[160];
            snprintf(hint, sizeof hint, "check the value; if the layer is not in degrees, "
                     "name its CRS with %s.crs", role);
            if (told++ < CS_MESSAGES_PER_LAYER)
                st = cs_error(ctx, CS_ERR_INPUT, &w, hint, "%s %g is outside %s degrees of "
                              "the layer's geographic CRS", bad_y ? "latitude" : "longitude",
                              bad_y ? y[i] : x[i], bad_y ? "-90..90" : "-180..180");
        }
        if (told > CS_MESSAGES_PER_LAYER) {
            cs_where w = {.file = raw->display};
            cs_warn(ctx, &w, "fix the ones above and run again", "... and %zu more values "
                    "outside degrees, not listed", told - CS_MESSAGES_PER_LAYER);
        }
        return st;
    }
    cs_where w = {.file = raw->display};
    if (feature)
        w = cs_raw_where(raw, feature[example], NULL);
    char label[160];
    if (!src) {
        snprintf(label, sizeof label, "has no coordinate system and its coordinates are "
                 "not longitude/latitude");
    } else {
        char *name = cs_crs_short_name(ctx, src);
        if (!name)
            return cs_nomem(ctx);
        if (raw->srs_from_config)
            snprintf(label, sizeof label, "is declared %.60s (%s.crs)", name, role);
        else if (named_geojson(raw->display))
            snprintf(label, sizeof label, "is read as %.60s (GDAL reads every GeoJSON file "
                     "so)", name);
        else
            snprintf(label, sizeof label, "is labelled %.60s by its file", name);
        cs_free(name);
    }
    char guess[32], hint[320], what[200];
    if (guess_projected(ctx, x, y, n, ref, guess, sizeof guess)) {
        snprintf(what, sizeof what, "they fit %s%s: read so, they fall on the %s", guess,
                 !strcmp(guess, "EPSG:3857") ? " (Web Mercator)" : "",
                 strcmp(role, "areas") ? "study area" : "other layers");
        snprintf(hint, sizeof hint, "name the layer's CRS: %s.crs: %s in the study file "
                 "(or --set %s.crs=%s)", role, guess, role, guess);
    } else {
        snprintf(what, sizeof what, "they are projected metres in a CRS careshed cannot "
                 "guess");
        snprintf(hint, sizeof hint, "name the layer's projected CRS (shown in a GIS's layer "
                 "properties): %s.crs: EPSG:<code> in the study file, e.g. %s.crs: EPSG:3857 "
                 "for Web Mercator or EPSG:4549 (or --set %s.crs=EPSG:<code>)", role, role,
                 role);
    }
    return cs_error(ctx, CS_ERR_CRS, &w, hint, "the %s layer %s; %zu of its %zu "
                    "coordinates are metres, not degrees (e.g. %.1f, %.1f); %s", role, label,
                    metres, n, x[example], y[example], what);
}

static cs_status to_wgs84_convert(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                                  double *x, double *y, size_t n, const long *feature,
                                  const lonlat_box *ref);

/*
 * Convert a layer's coordinates (in place) to WGS84 lon/lat. feature[i] gives the
 * feature number of coordinate i for messages (NULL: none). ref: the other layers'
 * extent in lon/lat (NULL: not known), for naming the CRS of a layer in metres
 * labelled lon/lat.
 *
 * When the layer is already in the working CRS work_crs (NULL: not chosen yet, or
 * auto), *kept receives a new copy of its own coordinates (x then y, 2n values) for
 * to_working to put back: the checks below and after need lon/lat, but a round trip
 * through WGS84 moves points by ~1e-9 m, enough to put a resident exactly at a
 * threshold just beyond it. *kept is NULL otherwise, and on failure.
 */
static cs_status to_wgs84(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                          double *x, double *y, size_t n, const long *feature,
                          const lonlat_box *ref, const char *work_crs, double **kept)
{
    *kept = NULL;
    if (n > 0 && raw->srs && work_crs && cs_crs_same(ctx, raw->srs, work_crs)) {
        *kept = cs_reallocarray(NULL, 2 * n, sizeof **kept);
        if (!*kept)
            return cs_nomem(ctx);
        memcpy(*kept, x, n * sizeof *x);
        memcpy(*kept + n, y, n * sizeof *y);
    }
    cs_status st = to_wgs84_convert(ctx, raw, role, x, y, n, feature, ref);
    if (st != CS_OK) {
        cs_free(*kept);
        *kept = NULL;
    }
    return st;
}

static cs_status to_wgs84_convert(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                                  double *x, double *y, size_t n, const long *feature,
                                  const lonlat_box *ref)
{
    cs_where w = {.file = raw->display, .field = NULL};
    char key[192];
    snprintf(key, sizeof key, "name the layer's CRS with %s.crs (e.g. EPSG:4326, EPSG:4549, "
             "GCJ-02, BD-09)", role);
    const char *src = raw->srs;
    int geographic = src ? cs_crs_is_geographic(ctx, src) : -1;
    if (!src || geographic == 1) {
        cs_status st = check_degrees(ctx, raw, role, src, x, y, n, feature, ref);
        if (st != CS_OK)
            return st;
    }
    size_t example = 0, swapped = 0;
    char hint[640];
    if (!src) {
        if (!fits_lonlat(x, y, n)) {
            /* unlabelled degrees that fit only the other way round: swapped, not some CRS */
            if (!fits_lonlat_or_swapped(x, y, n) || !(swapped = count_swapped(x, y, n, &example)))
                return cs_error(ctx, CS_ERR_CRS, &w, key,
                                "the %s layer has no coordinate system and its coordinates "
                                "are not longitude/latitude", role);
        } else {
            cs_warn(ctx, &w, key, "the %s layer has no coordinate system; its coordinates fit "
                    "longitude/latitude, so they are read as WGS84", role);
        }
        src = WGS84;
        geographic = 1;
    }
    if (geographic == 1 && (swapped || (swapped = count_swapped(x, y, n, &example)) > 0)) {
        if (feature)
            w = cs_raw_where(raw, feature[example], NULL);
        swapped_hint(raw, role, hint, sizeof hint);
        return cs_error(ctx, CS_ERR_CRS, &w, hint,
                        "in the %s layer %zu of %zu points have a latitude beyond ±90 (e.g. "
                        "%.6f, %.6f)", role, swapped, n, x[example], y[example]);
    }
    /* kept in the context: a grid read by strips converts each strip with it */
    cs_transform *t = NULL;
    cs_status st = cs_transform_kept(ctx, src, WGS84, &w, &t);
    if (st != CS_OK)
        return st;
    /* the shift (GCJ-02/BD-09) works in degrees: they must be lon/lat already */
    size_t failed = cs_transform_apply(t, x, y, n);
    if (failed > 0) {
        size_t i = 0;
        while (i < n && !isnan(x[i]))
            i++;
        if (feature && i < n)
            w = cs_raw_where(raw, feature[i], NULL);
        return cs_error(ctx, CS_ERR_CRS, &w, key,
                        "%zu coordinates cannot be converted from the layer's CRS to WGS84",
                        failed);
    }
    return CS_OK;
}

/* Convert lon/lat (in place) to the working CRS; with kept (from to_wgs84, taken and
 * freed here) put the layer's own coordinates back instead. */
static cs_status to_working(cs_context *ctx, const cs_study *study, const cs_raw_layer *raw,
                            double *x, double *y, size_t n, double *kept)
{
    if (kept) {
        memcpy(x, kept, n * sizeof *x);
        memcpy(y, kept + n, n * sizeof *y);
        cs_free(kept);
        return CS_OK;
    }
    cs_where w = {.file = raw->display};
    cs_transform *t = NULL; /* kept in the context, as to_wgs84's */
    cs_status st = cs_transform_kept(ctx, WGS84, study->settings.crs, &w, &t);
    if (st != CS_OK)
        return st;
    size_t failed = cs_transform_apply(t, x, y, n);
    if (failed > 0)
        return cs_error(ctx, CS_ERR_CRS, &w, "choose a working CRS (crs:) that covers the study "
                        "area, or leave it on auto",
                        "%zu coordinates cannot be projected to the working CRS", failed);
    return CS_OK;
}

/* Whether a layer is already in the study's working CRS (chosen with the areas). */
static bool in_working_crs(cs_context *ctx, const cs_study *study, const cs_raw_layer *raw)
{
    return raw->srs && study->settings.crs && cs_crs_same(ctx, raw->srs, study->settings.crs);
}

/* The areas' extent in the working CRS (in a lonlat_box: x as lon, y as lat), for the
 * checks on layers that are already in it. */
static lonlat_box working_box(const cs_study *study)
{
    lonlat_box b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    const cs_rings *r = &study->areas.rings;
    for (size_t i = 0; i < r->vertex_count; i++) {
        b.lon_min = fmin(b.lon_min, r->x[i]), b.lon_max = fmax(b.lon_max, r->x[i]);
        b.lat_min = fmin(b.lat_min, r->y[i]), b.lat_max = fmax(b.lat_max, r->y[i]);
    }
    return b;
}

/* ------------------------------------------------------------------ areas */

static cs_status choose_crs(cs_context *ctx, const cs_config *cfg, cs_study *study,
                            const lonlat_box *box)
{
    if (cfg->crs && cs_strcasecmp(cfg->crs, "auto") != 0) {
        cs_where w = {.file = cfg->file, .field = "crs"};
        if (!cs_crs_is_metric(ctx, cfg->crs))
            return cs_error(ctx, CS_ERR_CRS, &w, "name a projected CRS in metres (e.g. "
                            "EPSG:4549, EPSG:32651) or use auto",
                            "the working CRS '%s' is unknown or not projected in metres",
                            cfg->crs);
        /* distances are measured in this CRS: it must not stretch them here (Web
         * Mercator, say, adds 17% at 31 N) */
        double lon = (box->lon_min + box->lon_max) / 2, lat = (box->lat_min + box->lat_max) / 2;
        double stretch = cs_crs_scale_error(ctx, cfg->crs, lon, lat);
        if (!(stretch <= CS_MAX_SCALE_ERROR))
            return cs_error(ctx, CS_ERR_CRS, &w, "use auto, or a CRS made for the study area "
                            "(e.g. a transverse Mercator zone such as EPSG:4549)",
                            "the working CRS '%s' distorts distances by %.2f%% at the study "
                            "area (at most %.1f%% is allowed)", cfg->crs, stretch * 100,
                            CS_MAX_SCALE_ERROR * 100);
        study->settings.crs = cs_strdup(cfg->crs);
    } else {
        study->settings.crs = cs_crs_auto_tmerc((box->lon_min + box->lon_max) / 2);
    }
    return study->settings.crs ? CS_OK : cs_nomem(ctx);
}

/* Build, check and (if needed) repair area a's geometry. */
static cs_status build_area(cs_context *ctx, cs_study *study, const cs_raw_areas *raw, size_t a)
{
    cs_rings view = raw->polys;
    view.area_ring_start = raw->polys.area_ring_start + raw->first_poly[a];
    view.area_count = raw->first_poly[a + 1] - raw->first_poly[a];
    cs_where w = {.file = raw->layer.display, .feature = raw->feature[a],
                  .feature_id = study->areas.id[a]};
    cs_geom *g = view.area_count ? cs_geom_from_polygons(study->geos, &view) : NULL;
    if (!g && cs_take_nomem())
        return cs_error(ctx, CS_ERR_NOMEM, &w, CS_NOMEM_HINT,
                        "out of memory while building the polygon");
    if (!g)
        return cs_error(ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS and run again",
                        "the polygon cannot be built (rings with fewer than 4 points?)");
    char reason[256] = "";
    if (!cs_geom_is_valid(study->geos, g, reason, sizeof reason)) {
        cs_geom *fixed = cs_geom_repair(study->geos, g);
        cs_geom_destroy(study->geos, g);
        g = fixed;
        if (!g)
            return cs_error(ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS and run again",
                            "invalid polygon (%s) that cannot be repaired", reason);
        cs_warn(ctx, &w, "check the repaired shape in areas.geojson",
                "invalid polygon (%s) was repaired", reason);
    }
    study->areas.geom[a] = g;
    study->areas.m2[a] = cs_geom_area_m2(study->geos, g);
    /* a collapsed ring (all points on a line) survives projection as a sliver */
    if (!(study->areas.m2[a] >= 1.0))
        return cs_error(ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS and run again",
                        "the polygon has no area (under 1 m²) and cannot be repaired");
    size_t first_ring = study->areas.rings.ring_count;
    if (cs_geom_append_polygons(study->geos, g, &study->areas.rings) != CS_OK)
        return cs_nomem(ctx);
    /* group this area's polygons' rings as one entry of the point index */
    cs_rings *r = &study->areas.rings;
    if (!cs_grow((void **)&r->area_ring_start, &r->area_cap, a + 2, sizeof *r->area_ring_start))
        return cs_nomem(ctx);
    r->area_count = a + 1;
    r->area_ring_start[a] = first_ring;
    r->area_ring_start[a + 1] = r->ring_count;
    return CS_OK;
}

/*
 * A grid of cell_m metres (key names it) over the extent of rings (working CRS) must
 * have at most CS_MAX_GRID_CELLS cells: a tiny cell size would make billions. Checked
 * from the extent, before any cell is made. CS_ERR_STUDY names the key, the count and
 * the smallest size that fits.
 */
static cs_status check_grid_cells(cs_context *ctx, const cs_config *cfg, const cs_rings *r,
                                  double cell_m, const char *key)
{
    if (!(cell_m > 0) || r->vertex_count == 0)
        return CS_OK;
    double box[4];
    cs_box_of(r->x, r->y, r->vertex_count, box);
    double w = box[2] - box[0], h = box[3] - box[1];
    double cells = fmax(1, ceil(w / cell_m)) * fmax(1, ceil(h / cell_m));
    if (cells <= CS_MAX_GRID_CELLS)
        return CS_OK;
    char hint[160];
    snprintf(hint, sizeof hint, "set %s to at least %.0f (metres)", key,
             ceil(sqrt(w * h / CS_MAX_GRID_CELLS)) + 1);
    cs_where where = {.file = cfg->file, .field = key};
    return cs_error(ctx, CS_ERR_STUDY, &where, hint, "%s = %g m would cut the areas' extent "
                    "(%.1f x %.1f km) into %.0f cells, more than the %.0f allowed", key,
                    cell_m, w / 1000, h / 1000, cells, CS_MAX_GRID_CELLS);
}

static cs_status place_areas(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             cs_raw_areas *raw, const lonlat_box *ref, lonlat_box *box)
{
    cs_rings *p = &raw->polys;
    /* each vertex's feature number, for the messages about coordinates */
    long *feature = cs_calloc(p->vertex_count ? p->vertex_count : 1, sizeof *feature);
    if (!feature)
        return cs_nomem(ctx);
    for (size_t a = 0; a < raw->count; a++)
        for (size_t q = raw->first_poly[a]; q < raw->first_poly[a + 1]; q++)
            for (size_t r = p->area_ring_start[q]; r < p->area_ring_start[q + 1]; r++)
                for (size_t v = p->ring_start[r]; v < p->ring_start[r + 1]; v++)
                    feature[v] = raw->feature[a];
    const char *work_crs = cfg->crs && cs_strcasecmp(cfg->crs, "auto") != 0 ? cfg->crs : NULL;
    double *kept = NULL;
    cs_status st = to_wgs84(ctx, &raw->layer, "areas", p->x, p->y, p->vertex_count, feature,
                            ref, work_crs, &kept);
    cs_free(feature);
    if (st != CS_OK)
        return st;
    *box = (lonlat_box){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < p->vertex_count; i++) {
        box->lon_min = fmin(box->lon_min, p->x[i]);
        box->lon_max = fmax(box->lon_max, p->x[i]);
        box->lat_min = fmin(box->lat_min, p->y[i]);
        box->lat_max = fmax(box->lat_max, p->y[i]);
    }
    if ((st = choose_crs(ctx, cfg, study, box)) != CS_OK) {
        cs_free(kept);
        return st;
    }
    if ((st = to_working(ctx, study, &raw->layer, p->x, p->y, p->vertex_count, kept)) != CS_OK)
        return st;
    size_t n = raw->count;
    study->areas.count = n;
    /* take the ids and names over from the raw layer */
    study->areas.id = raw->id;
    study->areas.name = raw->name;
    raw->id = raw->name = NULL;
    study->areas.geom = cs_calloc(n, sizeof *study->areas.geom);
    study->areas.m2 = cs_calloc(n, sizeof *study->areas.m2);
    if (!study->areas.geom || !study->areas.m2)
        return cs_nomem(ctx);
    for (size_t a = 0; a < n; a++)
        st = first_error(st, build_area(ctx, study, raw, a));
    if (st != CS_OK)
        return st;
    st = check_grid_cells(ctx, cfg, &study->areas.rings, cfg->patch_cell_m, "underserved.cell_m");
    if (st != CS_OK)
        return st;
    study->areas.district = cs_geom_union(study->geos, study->areas.geom, n);
    if (!study->areas.district && cs_take_nomem())
        return cs_error(ctx, CS_ERR_NOMEM, NULL, CS_NOMEM_HINT,
                        "out of memory while uniting the areas into the district");
    if (!study->areas.district)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL, "the union of the areas failed: %s",
                        ctx->foreign_error);
    st = cs_area_index_create(&study->areas.rings, &study->areas.index);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL, "the areas cannot be indexed (%s)",
                        cs_status_string(st));
    /* after the index and the district: the overlaps' owners agree with the index */
    return cs_seams_find(ctx, study, raw->layer.display);
}

/* ----------------------------------------------------------------- points */

/* Points far beyond the areas' extent: swapped lat/lon when the swapped point would lie
 * in the extent; and a layer of two or more points none of which comes near the areas,
 * which is a layer read in the wrong CRS rather than points placed wrong one by one. */
static cs_status check_far_lonlat(cs_context *ctx, const cs_raw_points *raw, const char *role,
                                  const double *lon, const double *lat, const lonlat_box *box,
                                  double margin, const double *orig_x, const double *orig_y)
{
    size_t swapped = 0, example = 0, near = 0;
    for (size_t i = 0; i < raw->count; i++) {
        bool inside = lon[i] >= box->lon_min - margin && lon[i] <= box->lon_max + margin &&
                      lat[i] >= box->lat_min - margin && lat[i] <= box->lat_max + margin;
        bool inside_swapped = lat[i] >= box->lon_min - margin && lat[i] <= box->lon_max + margin &&
                              lon[i] >= box->lat_min - margin && lon[i] <= box->lat_max + margin;
        near += inside;
        if (!inside && inside_swapped && swapped++ == 0)
            example = i;
    }
    if (swapped > 0) {
        cs_where w = cs_raw_where(&raw->layer, raw->feature[example],
                                  raw->id ? raw->id[example] : NULL);
        char hint[640];
        swapped_hint(&raw->layer, role, hint, sizeof hint);
        return cs_error(ctx, CS_ERR_CRS, &w, hint,
                        "%zu points lie far from the study area but would fall in it with x and "
                        "y exchanged (e.g. %.6f, %.6f)", swapped, lon[example], lat[example]);
    }
    if (near > 0 || raw->count < 2)
        return CS_OK;
    cs_where w = cs_raw_where(&raw->layer, raw->feature[0], raw->id ? raw->id[0] : NULL);
    char *name = cs_crs_short_name(ctx, raw->layer.srs ? raw->layer.srs : WGS84);
    if (!name)
        return cs_nomem(ctx);
    /* orig_x, orig_y: the layer's own projected coordinates, for naming the CRS they fit */
    char hint[320], guess[32];
    if (orig_x && guess_projected(ctx, orig_x, orig_y, raw->count, box, guess, sizeof guess))
        snprintf(hint, sizeof hint, "the coordinates fit %s, and read so they fall on the "
                 "study area: %s.crs: %s in the study file (or --set %s.crs=%s)", guess, role,
                 guess, role, guess);
    else
        snprintf(hint, sizeof hint, "name the CRS the layer's coordinates are in with %s.crs "
                 "(in the study file, or --set %s.crs=EPSG:<code>), and check the areas' CRS "
                 "too", role, role);
    cs_status st = cs_error(ctx, CS_ERR_CRS, &w, hint, "none of the %zu points of the %s layer "
                            "lies near the study area (far_outside_km): the layer is likely "
                            "read in the wrong CRS (%.60s, %s)", raw->count, role, name,
                            raw->layer.srs_from_config ? "declared by its crs key"
                            : raw->layer.srs           ? "from the file"
                                                       : "none given: read as WGS84");
    cs_free(name);
    return st;
}

/* Locate every point; the area index gives -1 for points outside every area. */
static cs_status locate_points(cs_context *ctx, const cs_study *study,
                               const cs_raw_points *raw, long *area, double *outside_m)
{
    cs_area_index_locate_all(study->areas.index, raw->x, raw->y, raw->count, ctx->threads, area);
    cs_status st = CS_OK;
    double far_m = study->settings.far_outside_km * 1000.0;
    size_t far_reported = 0;
    for (size_t i = 0; i < raw->count; i++) {
        outside_m[i] = 0;
        /* facilities of a kind the study leaves out were warned about; skip them */
        if (area[i] >= 0 || (raw->kind && raw->kind[i] < 0))
            continue;
        double d = INFINITY;
        area[i] = cs_area_index_nearest(study->areas.index, raw->x[i], raw->y[i], far_m, &d);
        outside_m[i] = d;
        if (area[i] >= 0)
            continue;
        cs_where w = cs_raw_where(&raw->layer, raw->feature[i], raw->id ? raw->id[i] : NULL);
        if (far_reported++ < 20) {
            double dist = INFINITY;
            cs_area_index_nearest(study->areas.index, raw->x[i], raw->y[i], 1e9, &dist);
            st = cs_error(ctx, CS_ERR_INPUT, &w,
                          "check the point's coordinates and the layer's CRS (or raise "
                          "far_outside_km)",
                          "point lies %.1f km from the study area (more than far_outside_km "
                          "= %g)", dist / 1000.0, study->settings.far_outside_km);
        } else {
            st = cs_error(ctx, CS_ERR_INPUT, &w, NULL, "point lies far from the study area");
        }
    }
    return st;
}

static cs_status place_facilities(cs_context *ctx, cs_study *study, cs_raw_points *raw,
                                  const lonlat_box *box)
{
    size_t n = raw->count;
    double *lon = cs_calloc(n ? n : 1, sizeof *lon), *lat = cs_calloc(n ? n : 1, sizeof *lat);
    long *area = cs_calloc(n ? n : 1, sizeof *area);
    double *outside = cs_calloc(n ? n : 1, sizeof *outside);
    double *kept = NULL, *orig_x = NULL, *orig_y = NULL;
    cs_status st = lon && lat && area && outside ? CS_OK : cs_nomem(ctx);
    /* a projected layer's own coordinates, to name the CRS they fit if they land far */
    if (st == CS_OK && n > 0 && raw->layer.srs && cs_crs_is_geographic(ctx, raw->layer.srs) == 0) {
        orig_x = cs_reallocarray(NULL, n, sizeof *orig_x);
        orig_y = cs_reallocarray(NULL, n, sizeof *orig_y);
        if (!orig_x || !orig_y)
            st = cs_nomem(ctx);
        else
            memcpy(orig_x, raw->x, n * sizeof *orig_x), memcpy(orig_y, raw->y, n * sizeof *orig_y);
    }
    if (st == CS_OK)
        st = to_wgs84(ctx, &raw->layer, "facilities", raw->x, raw->y, n, raw->feature, box,
                      study->settings.crs, &kept);
    if (st == CS_OK && n) { /* a shard may hold no facility */
        memcpy(lon, raw->x, n * sizeof *lon);
        memcpy(lat, raw->y, n * sizeof *lat);
    }
    if (st == CS_OK) {
        st = check_far_lonlat(ctx, raw, "facilities", lon, lat, box,
                              study->settings.far_outside_km * 1000.0 / DEG_TO_M, orig_x, orig_y);
    }
    if (st == CS_OK) {
        st = to_working(ctx, study, &raw->layer, raw->x, raw->y, n, kept);
        kept = NULL;
    }
    cs_free(kept);
    cs_free(orig_x);
    cs_free(orig_y);
    if (st == CS_OK)
        st = locate_points(ctx, study, raw, area, outside);
    if (st == CS_OK) {
        size_t nc = study->settings.capacity_count, m = 0;
        if (!cs_facilities_create(&study->fac, n, nc))
            st = cs_nomem(ctx);
        for (size_t i = 0; st == CS_OK && i < n; i++) {
            if (raw->kind[i] < 0)
                continue; /* warned about when reading */
            /* just outside (simplified boundaries): it belongs to the nearest area, as
             * residents do; farther out it is not part of any area's stock */
            if (outside[i] > study->settings.outside_tolerance_m) {
                cs_where w = cs_raw_where(&raw->layer, raw->feature[i], raw->id[i]);
                cs_warn(ctx, &w, "it still serves the residents around it but is not "
                        "counted in the district's facilities; check its position if it "
                        "should lie inside",
                        "facility lies outside every area, %.0f m from %s", outside[i],
                        study->areas.name[area[i]]);
                area[i] = -1;
            }
            study->fac.id[m] = raw->id[i];
            study->fac.name[m] = raw->name[i];
            raw->id[i] = raw->name[i] = NULL;
            study->fac.kind[m] = raw->kind[i];
            study->fac.x[m] = raw->x[i];
            study->fac.y[m] = raw->y[i];
            study->fac.lon[m] = lon[i];
            study->fac.lat[m] = lat[i];
            study->fac.area[m] = area[i];
            study->fac.opened[m] = raw->opened[i];
            study->fac.closed[m] = raw->closed[i];
            if (nc > 0)
                memcpy(&study->fac.capacity[m * nc], &raw->values[i * nc], nc * sizeof(double));
            m++;
        }
        study->fac.count = m;
    }
    cs_free(lon);
    cs_free(lat);
    cs_free(area);
    cs_free(outside);
    return st;
}

static void warn_dropped(cs_context *ctx, const cs_study *study, const cs_raw_points *raw)
{
    if (study->dem.dropped_points == 0)
        return;
    cs_where w = {.file = raw->layer.display};
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add_grouped(&b, study->dem.dropped_pop, 0);
    size_t n = study->dem.dropped_points;
    if (raw->count == 0 && raw->surfaces.kind == CS_SURFACE_CELLS) { /* no tolerance here */
        cs_warn(ctx, &w, "a grid wider than the areas holds its neighbours' residents too; "
                "check the areas' outline if these belong to the district",
                "%zu populated grid cell%s of the window over the areas (%s residents) %s "
                "wholly outside every area and %s left out (residents_left_out in "
                "summary.json)", n, n == 1 ? "" : "s", b.data ? b.data : "?",
                n == 1 ? "lies" : "lie", n == 1 ? "is" : "are");
        cs_buf_free(&b);
        return;
    }
    cs_warn(ctx, &w, "check the points' positions, or raise outside_tolerance_m",
            "%zu demand point%s (%s residents) %s outside every area, farther than "
            "outside_tolerance_m = %g m, and %s left out",
            study->dem.dropped_points, study->dem.dropped_points == 1 ? "" : "s",
            b.data ? b.data : "?", study->dem.dropped_points == 1 ? "lies" : "lie",
            study->settings.outside_tolerance_m, study->dem.dropped_points == 1 ? "is" : "are");
    cs_buf_free(&b);
}

/* Rows of several years (population.year): the study's demand becomes the latest
 * year's, the other rows are kept for the views of earlier years (cs_study_in_year). */
static cs_status split_years(cs_context *ctx, cs_study *s, const double *year)
{
    size_t n = s->dem.count, nb = s->settings.band_count, other = 0;
    double last = -INFINITY;
    for (size_t i = 0; i < n; i++)
        last = fmax(last, year[i]);
    s->dem.year = n ? last : NAN;
    for (size_t i = 0; i < n; i++)
        other += year[i] != last;
    cs_demand_rows *o = &s->dem.other;
    o->x = cs_calloc(other + 1, sizeof *o->x);
    o->y = cs_calloc(other + 1, sizeof *o->y);
    o->pop = cs_calloc((other + 1) * nb, sizeof *o->pop);
    o->area = cs_calloc(other + 1, sizeof *o->area);
    o->year = cs_calloc(other + 1, sizeof *o->year);
    if (!o->x || !o->y || !o->pop || !o->area || !o->year)
        return cs_nomem(ctx);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool now = year[i] == last;
        double *x = now ? &s->dem.x[m] : &o->x[o->count], *y = now ? &s->dem.y[m] : &o->y[o->count];
        long *area = now ? &s->dem.area[m] : &o->area[o->count];
        double *pop = now ? &s->dem.pop[m * nb] : &o->pop[o->count * nb];
        *x = s->dem.x[i];
        *y = s->dem.y[i];
        *area = s->dem.area[i];
        memmove(pop, &s->dem.pop[i * nb], nb * sizeof *pop);
        if (now)
            m++;
        else
            o->year[o->count++] = year[i];
    }
    s->dem.count = m;
    /* ids alike: the latest year's first, then the others' in their order (then the
     * ids of points left out, as they were) */
    char **ids = s->dem.id ? cs_calloc(n + 1, sizeof *ids) : NULL;
    if (s->dem.id && !ids)
        return cs_nomem(ctx);
    for (size_t i = 0, a = 0, b = m; ids && i < n; i++)
        ids[year[i] == last ? a++ : b++] = s->dem.id[i];
    if (ids)
        memcpy(s->dem.id, ids, n * sizeof *ids);
    cs_free(ids);
    return CS_OK;
}

/* The residents of the points in overlaps and gaps (of the latest year's rows when the
 * population has several): a point inside an area is tested against its overlaps, one
 * outside every area (even within the tolerance) against the gaps. */
static void count_seam_points(cs_study *study, const cs_raw_points *raw, const long *area,
                              const double *outside)
{
    double last = -INFINITY;
    for (size_t i = 0; raw->year && i < raw->count; i++)
        last = fmax(last, raw->year[i]);
    for (size_t i = 0; i < raw->count; i++) {
        if (raw->year && raw->year[i] != last)
            continue;
        long where = outside[i] > 0 ? -1 : area[i];
        cs_seams_count_points(study, &raw->x[i], &raw->y[i],
                              &raw->values[i * study->settings.band_count],
                              study->settings.band_count, &where, 1);
    }
}

/* Points: projected, located, those far outside every area left out. */
static cs_status place_points(cs_context *ctx, cs_study *study, cs_raw_points *raw,
                              const lonlat_box *box)
{
    size_t n = raw->count, nb = study->settings.band_count;
    long *area = cs_calloc(n ? n : 1, sizeof *area);
    double *outside = cs_calloc(n ? n : 1, sizeof *outside);
    cs_status st = area && outside ? CS_OK : cs_nomem(ctx);
    if (st == CS_OK && in_working_crs(ctx, study, &raw->layer)) {
        /* already in the working CRS: no round trip; the x/y swap check in metres */
        lonlat_box wbox = working_box(study);
        st = check_far_lonlat(ctx, raw, "population", raw->x, raw->y, &wbox,
                              study->settings.far_outside_km * 1000.0, NULL, NULL);
    } else if (st == CS_OK) {
        double *kept = NULL; /* none: the layer is not in the working CRS */
        st = to_wgs84(ctx, &raw->layer, "population", raw->x, raw->y, n, raw->feature, box,
                      NULL, &kept);
        if (st == CS_OK)
            st = check_far_lonlat(ctx, raw, "population", raw->x, raw->y, box,
                                  study->settings.far_outside_km * 1000.0 / DEG_TO_M, NULL, NULL);
        if (st == CS_OK)
            st = to_working(ctx, study, &raw->layer, raw->x, raw->y, n, NULL);
    }
    if (st == CS_OK)
        st = locate_points(ctx, study, raw, area, outside);
    if (st == CS_OK)
        count_seam_points(study, raw, area, outside);
    char **dropped_id = raw->id ? cs_calloc(n ? n : 1, sizeof *dropped_id) : NULL;
    if (st == CS_OK && raw->id && !dropped_id)
        st = cs_nomem(ctx);
    if (st == CS_OK) {
        /* compact in place: keep points inside an area or within the tolerance (and the
         * ids of those left out after the others) */
        size_t m = 0, d = 0;
        for (size_t i = 0; i < n; i++) {
            if (outside[i] > study->settings.outside_tolerance_m) {
                study->dem.dropped_points++;
                study->dem.dropped_pop += raw->values[i * nb];
                if (raw->id)
                    dropped_id[d++] = raw->id[i];
                continue;
            }
            raw->x[m] = raw->x[i];
            raw->y[m] = raw->y[i];
            if (raw->id)
                raw->id[m] = raw->id[i];
            if (raw->year)
                raw->year[m] = raw->year[i];
            if (raw->own)
                raw->own[m] = raw->own[i];
            area[m] = area[i];
            memmove(&raw->values[m * nb], &raw->values[i * nb], nb * sizeof(double));
            m++;
        }
        for (size_t q = 0; q < d; q++)
            raw->id[m + q] = dropped_id[q];
        study->dem.count = m;
        study->dem.x = raw->x;
        study->dem.y = raw->y;
        study->dem.pop = raw->values;
        study->dem.area = area;
        study->dem.own = raw->own;
        raw->own = NULL;
        study->dem.id = raw->id;
        study->dem.id_count = raw->id ? n : 0;
        raw->x = raw->y = raw->values = NULL;
        raw->id = NULL;
        area = NULL;
    }
    cs_free(dropped_id);
    cs_free(area);
    cs_free(outside);
    if (st == CS_OK && raw->year)
        st = split_years(ctx, study, raw->year);
    return st;
}

/* Append the points spread from surfaces to the study's demand. */
static cs_status take_demand(cs_context *ctx, cs_study *s, cs_demand_buf *d)
{
    size_t n = s->dem.count + d->count, nb = s->settings.band_count;
    double *x = cs_reallocarray(s->dem.x, n + 1, sizeof *x);
    if (x)
        s->dem.x = x;
    double *y = x ? cs_reallocarray(s->dem.y, n + 1, sizeof *y) : NULL;
    if (y)
        s->dem.y = y;
    double *pop = y ? cs_reallocarray(s->dem.pop, n + 1, nb * sizeof *pop) : NULL;
    if (pop)
        s->dem.pop = pop;
    long *area = pop ? cs_reallocarray(s->dem.area, n + 1, sizeof *area) : NULL;
    if (!area)
        return cs_nomem(ctx);
    s->dem.area = area;
    size_t m = s->dem.count;
    memcpy(&s->dem.x[m], d->x, d->count * sizeof *x);
    memcpy(&s->dem.y[m], d->y, d->count * sizeof *y);
    memcpy(&s->dem.pop[m * nb], d->pop, d->count * nb * sizeof *pop);
    memcpy(&s->dem.area[m], d->area, d->count * sizeof *area);
    s->dem.count = n;
    return CS_OK;
}

/* The study area's lon/lat box in the grid's CRS: its edges sampled, so a curved
 * image of the box is still covered. */
static cs_status grid_box(cs_context *ctx, const cs_raw_points *raw, const lonlat_box *box,
                          double out[4])
{
    enum { STEPS = 32 };
    double x[4 * STEPS], y[4 * STEPS];
    double dlon = box->lon_max - box->lon_min, dlat = box->lat_max - box->lat_min;
    for (size_t k = 0; k < STEPS; k++) { /* bottom, right, top, left */
        double t = (double)k / STEPS;
        x[k] = box->lon_min + t * dlon, y[k] = box->lat_min;
        x[STEPS + k] = box->lon_max, y[STEPS + k] = box->lat_min + t * dlat;
        x[2 * STEPS + k] = box->lon_max - t * dlon, y[2 * STEPS + k] = box->lat_max;
        x[3 * STEPS + k] = box->lon_min, y[3 * STEPS + k] = box->lat_max - t * dlat;
    }
    cs_where w = {.file = raw->layer.display};
    cs_transform *t = NULL;
    cs_status st = cs_transform_create(ctx, WGS84, raw->layer.srs, &w, &t);
    if (st != CS_OK)
        return st;
    cs_transform_apply(t, x, y, 4 * STEPS);
    cs_transform_destroy(t);
    out[0] = out[1] = INFINITY;
    out[2] = out[3] = -INFINITY;
    for (size_t k = 0; k < 4 * STEPS; k++) {
        if (!isfinite(x[k]) || !isfinite(y[k]))
            continue;
        out[0] = fmin(out[0], x[k]), out[1] = fmin(out[1], y[k]);
        out[2] = fmax(out[2], x[k]), out[3] = fmax(out[3], y[k]);
    }
    if (out[0] > out[2])
        return cs_error(ctx, CS_ERR_CRS, &w, "check the grid's CRS (population.crs)",
                        "the study area cannot be placed in the population grid's CRS");
    return CS_OK;
}

/* A surface layer's coordinates (in place) into the working CRS. */
static cs_status project_surfaces(cs_context *ctx, const cs_study *study,
                                  const cs_raw_layer *layer, double *x, double *y, size_t n,
                                  const lonlat_box *box)
{
    if (n == 0 || in_working_crs(ctx, study, layer))
        return CS_OK;
    double *kept = NULL; /* none: the layer is not in the working CRS */
    cs_status st = to_wgs84(ctx, layer, "population", x, y, n, NULL, box, NULL, &kept);
    return st == CS_OK ? to_working(ctx, study, layer, x, y, n, NULL) : st;
}

/* A population grid whose cells careshed shard reads later, strip by strip
 * (cs_study_each_demand), and what that needs of the load. */
struct cs_demand_stream {
    cs_raw_points grid; /* its layer's names and the grid's surfaces */
    lonlat_box box;
    double spread_m;
    uint64_t digest; /* of the points of the last whole reading (0: none yet) */
};

/* ------------------------------------------------------- the digests (study.h) */

#define DIGEST_START 0xcbf29ce484222325ULL /* FNV-1a's, a 64-bit word at a time */

static uint64_t digest_word(uint64_t h, uint64_t w)
{
    return (h ^ w) * 0x100000001b3ULL;
}

static uint64_t digest_xy(uint64_t h, double x, double y)
{
    return digest_word(digest_word(h, cs_double_bits(x)), cs_double_bits(y));
}

/* The digest h continued over the vertices [a, b) of x, y, their count first. */
static uint64_t digest_run(uint64_t h, const double *x, const double *y, size_t a, size_t b)
{
    h = digest_word(h, b - a);
    for (size_t v = a; v < b; v++)
        h = digest_xy(h, x[v], y[v]);
    return h;
}

/* The digest h continued over the lines l, in their order. */
static uint64_t digest_lines(uint64_t h, const cs_lines *l)
{
    for (size_t i = 0; i < l->count; i++) {
        h = digest_run(h, l->x, l->y, l->start[i], l->start[i + 1]);
        h = digest_word(h, cs_double_bits(l->speed ? l->speed[i] : 1.0));
    }
    return h;
}

uint64_t cs_study_network_digest(const cs_study *s)
{
    if (!s || !s->net.present)
        return 0;
    return s->net.streamed ? s->net.known.digest : digest_lines(DIGEST_START, &s->net.lines);
}

static uint64_t digest_text(uint64_t h, const char *t)
{
    size_t n = t ? strlen(t) : 0;
    h = digest_word(h, n);
    for (size_t i = 0; i < n; i++)
        h = digest_word(h, (unsigned char)t[i]);
    return h;
}

uint64_t cs_study_facilities_digest(const cs_study *s)
{
    if (!s || s->fac.count == 0)
        return 0;
    const cs_facilities *f = &s->fac;
    uint64_t h = digest_word(DIGEST_START, f->count);
    for (size_t i = 0; i < f->count; i++) {
        h = digest_text(h, f->id[i]);
        h = digest_word(h, (uint64_t)f->kind[i]);
        h = digest_xy(h, f->x[i], f->y[i]);
        for (size_t c = 0; c < f->capacity_count; c++)
            h = digest_word(h, cs_double_bits(f->capacity[i * f->capacity_count + c]));
        h = digest_word(h, cs_double_bits(f->opened ? f->opened[i] : NAN));
        h = digest_word(h, cs_double_bits(f->closed ? f->closed[i] : NAN));
    }
    return h;
}

/* The digest h continued over n demand points of nb bands, in their order. */
static uint64_t digest_points(uint64_t h, const double *x, const double *y, const double *pop,
                              const long *area, size_t n, size_t nb)
{
    for (size_t i = 0; i < n; i++) {
        h = digest_word(digest_xy(h, x[i], y[i]), (uint64_t)area[i]);
        for (size_t b = 0; b < nb; b++)
            h = digest_word(h, cs_double_bits(pop[i * nb + b]));
    }
    return h;
}

/* The population's digest, its points' h (n of them) done: their count, their ids, the
 * year and the other years' rows (none for a grid read in strips). */
static uint64_t digest_population_end(uint64_t h, size_t n, const cs_demand *d, size_t nb)
{
    h = digest_word(h, n);
    for (size_t i = 0; d->id && i < n; i++)
        h = digest_text(h, d->id[i]);
    h = digest_word(h, cs_double_bits(d->year));
    const cs_demand_rows *o = &d->other;
    h = digest_points(h, o->x, o->y, o->pop, o->area, o->count, nb);
    for (size_t i = 0; i < o->count; i++)
        h = digest_word(h, cs_double_bits(o->year[i]));
    return digest_word(h, o->count);
}

uint64_t cs_study_population_digest(const cs_study *s)
{
    if (!s)
        return 0;
    const cs_demand *d = &s->dem;
    if (d->stream)
        return d->stream->digest;
    size_t nb = s->settings.band_count;
    uint64_t h = digest_points(DIGEST_START, d->x, d->y, d->pop, d->area, d->count, nb);
    return digest_population_end(h, d->count, d, nb);
}

uint64_t cs_study_areas_digest(const cs_study *s)
{
    if (!s)
        return 0;
    const cs_areas *a = &s->areas;
    const cs_rings *r = &a->rings;
    uint64_t h = digest_word(DIGEST_START, a->count);
    for (size_t i = 0; i < a->count; i++) {
        h = digest_text(digest_text(h, a->id[i]), a->name ? a->name[i] : NULL);
        /* every area placed has its entry in the rings (build_area) */
        size_t r0 = r->area_ring_start[i], r1 = r->area_ring_start[i + 1];
        h = digest_word(h, r1 - r0);
        for (size_t k = r0; k < r1; k++)
            h = digest_run(h, r->x, r->y, r->ring_start[k], r->ring_start[k + 1]);
    }
    return h;
}

/* A strip of a grid's cells, projected and spread into d as it is read; with fn, d's
 * points are handed to it and dropped, strip by strip. */
typedef struct grid_strip {
    cs_context *ctx;
    const cs_study *study;
    const lonlat_box *box;
    cs_spreader *spreader;
    cs_demand_buf *d;
    cs_demand_fn fn;
    void *user;
    uint64_t digest; /* of the points handed to fn (cs_study_population_digest) */
    size_t handed;
} grid_strip;

static cs_status place_strip(void *user, cs_raw_points *p)
{
    grid_strip *g = user;
    cs_raw_surfaces *sf = &p->surfaces;
    cs_status st = project_surfaces(g->ctx, g->study, &p->layer, sf->quad_x, sf->quad_y,
                                    4 * sf->count, g->box);
    if (st == CS_OK)
        st = cs_spread_cells(g->spreader);
    if (st != CS_OK || !g->fn || g->d->count == 0)
        return st;
    cs_demand_batch b = {g->d->count, g->d->x, g->d->y, g->d->pop, g->d->area};
    g->digest = digest_points(g->digest, b.x, b.y, b.pop, b.area, b.count,
                              g->study->settings.band_count);
    g->handed += b.count;
    st = g->fn(g->user, &b);
    g->d->count = 0;
    return st;
}

/* A grid's cells over the study area, a strip at a time: projected, then spread into d. */
static cs_status spread_grid(cs_context *ctx, cs_study *study, const cs_config *cfg,
                             cs_raw_points *raw, const lonlat_box *box, cs_demand_buf *d,
                             double *ov, double *gap)
{
    double gbox[4];
    cs_status st = grid_box(ctx, raw, box, gbox);
    grid_strip g = {ctx, study, box, NULL, d, NULL, NULL, 0, 0};
    if (st == CS_OK)
        st = cs_spread_begin(ctx, study, raw, cfg->spread_m, d, ov, gap, &g.spreader);
    if (st != CS_OK)
        return st;
    st = cs_raster_each_strip(ctx, raw, gbox, CS_MAX_RASTER_CELLS, place_strip, &g);
    return cs_spread_end(g.spreader, st, &study->dem.dropped_pop, &study->dem.dropped_points);
}

/* Polygons, grid cells or area totals: projected, then spread into demand points. */
static cs_status place_surfaces(cs_context *ctx, cs_study *study, const cs_config *cfg,
                                cs_raw_points *raw, const cs_raw_areas *landuse,
                                const lonlat_box *box)
{
    cs_raw_surfaces *sf = &raw->surfaces;
    cs_status st = check_grid_cells(ctx, cfg, &study->areas.rings, cfg->spread_m,
                                    "population.spread_m");
    if (st != CS_OK)
        return st;
    cs_demand_buf d = {0};
    double *ov = cs_calloc(study->areas.overlap_count + 1, sizeof *ov);
    double *gap = cs_calloc(study->areas.gap_count + 1, sizeof *gap);
    if (!ov || !gap)
        st = cs_nomem(ctx);
    if (st == CS_OK && sf->kind == CS_SURFACE_CELLS)
        st = spread_grid(ctx, study, cfg, raw, box, &d, ov, gap);
    else if (st == CS_OK)
        st = project_surfaces(ctx, study, &raw->layer, sf->polys.x, sf->polys.y,
                              sf->polys.vertex_count, box);
    if (st == CS_OK && sf->kind != CS_SURFACE_CELLS)
        st = cs_spread_surfaces(ctx, study, raw, landuse, cfg->spread_m, &d,
                                &study->dem.dropped_pop, &study->dem.dropped_points, ov, gap);
    for (size_t k = 0; st == CS_OK && k < study->areas.overlap_count; k++)
        study->areas.overlaps[k].residents += ov[k];
    for (size_t k = 0; st == CS_OK && k < study->areas.gap_count; k++)
        study->areas.gaps[k].residents += gap[k];
    cs_free(ov);
    cs_free(gap);
    if (st == CS_OK)
        st = take_demand(ctx, study, &d);
    cs_demand_buf_free(&d);
    study->dem.estimated = sf->kind == CS_SURFACE_AREA_TOTALS;
    study->dem.source = sf->kind == CS_SURFACE_CELLS      ? "grid"
                        : sf->kind == CS_SURFACE_POLYGONS ? "polygons"
                        : sf->kind == CS_SURFACE_AREA_TOTALS ? "area totals"
                                                          : "points";
    return st;
}

static cs_status place_landuse(cs_context *ctx, cs_study *study, cs_raw_areas *landuse,
                               const lonlat_box *box)
{
    if (landuse->polys.vertex_count == 0)
        return CS_OK;
    if (in_working_crs(ctx, study, &landuse->layer))
        return CS_OK;
    double *kept = NULL;
    cs_status st = to_wgs84(ctx, &landuse->layer, "landuse", landuse->polys.x,
                            landuse->polys.y, landuse->polys.vertex_count, NULL, box, NULL, &kept);
    if (st == CS_OK)
        st = to_working(ctx, study, &landuse->layer, landuse->polys.x, landuse->polys.y,
                        landuse->polys.vertex_count, NULL);
    return st;
}

void cs_demand_stream_free(cs_demand_stream *ds)
{
    if (!ds)
        return;
    cs_raw_points_free(&ds->grid);
    cs_free(ds);
}

/* Whether the population can be left to stream: a grid (nothing at points, no years),
 * wanted so (cfg->stream_inputs), in a study measured in a straight line or along the
 * network (a cost matrix names its points by id). */
static bool streams(const cs_study *study, const cs_config *cfg, const cs_raw_points *raw)
{
    return cfg->stream_inputs && raw->surfaces.kind == CS_SURFACE_CELLS && raw->count == 0 &&
           !cs_study_any_kind_measured(study, CS_MEASURE_MATRIX);
}

/* Keep the grid for cs_study_each_demand instead of reading its cells now. */
static cs_status defer_grid(cs_context *ctx, cs_study *study, const cs_config *cfg,
                            cs_raw_points *raw, const lonlat_box *box)
{
    cs_status st = check_grid_cells(ctx, cfg, &study->areas.rings, cfg->spread_m,
                                    "population.spread_m");
    if (st != CS_OK)
        return st;
    cs_demand_stream *ds = cs_calloc(1, sizeof *ds);
    if (!ds)
        return cs_nomem(ctx);
    ds->grid.surfaces = raw->surfaces;
    memset(&raw->surfaces, 0, sizeof raw->surfaces);
    ds->grid.value_count = raw->value_count;
    ds->grid.layer.display = cs_strdup(raw->layer.display);
    ds->grid.layer.srs = raw->layer.srs ? cs_strdup(raw->layer.srs) : NULL;
    ds->box = *box;
    ds->spread_m = cfg->spread_m;
    study->dem.stream = ds;
    study->dem.source = "grid";
    if (!ds->grid.layer.display || (raw->layer.srs && !ds->grid.layer.srs))
        return cs_nomem(ctx);
    return CS_OK;
}

cs_status cs_study_each_demand(cs_context *ctx, const cs_study *study, cs_demand_fn fn,
                               void *user)
{
    cs_demand_stream *ds = study->dem.stream;
    if (!ds)
        return CS_ERR_ARGUMENT;
    double gbox[4];
    cs_status st = grid_box(ctx, &ds->grid, &ds->box, gbox);
    cs_demand_buf d = {0};
    /* the seams' residents and what is left out are the whole load's to count */
    double *ov = cs_calloc(study->areas.overlap_count + 1, sizeof *ov);
    double *gap = cs_calloc(study->areas.gap_count + 1, sizeof *gap);
    grid_strip g = {ctx, study, &ds->box, NULL, &d, fn, user, DIGEST_START, 0};
    if (st == CS_OK && (!ov || !gap))
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = cs_spread_begin(ctx, study, &ds->grid, ds->spread_m, &d, ov, gap, &g.spreader);
    if (st == CS_OK) {
        st = cs_raster_each_strip(ctx, &ds->grid, gbox, CS_MAX_RASTER_CELLS_CUT, place_strip,
                                  &g);
        st = cs_spread_end(g.spreader, st, NULL, NULL);
    }
    if (st == CS_OK)
        ds->digest = digest_population_end(g.digest, g.handed, &study->dem,
                                           study->settings.band_count);
    cs_demand_buf_free(&d);
    cs_free(ov);
    cs_free(gap);
    return st;
}

static cs_status place_population(cs_context *ctx, cs_study *study, const cs_config *cfg,
                                  cs_raw_points *raw, cs_raw_areas *landuse,
                                  const lonlat_box *box)
{
    if (streams(study, cfg, raw))
        return defer_grid(ctx, study, cfg, raw, box);
    study->dem.source = "points";
    cs_status st = raw->count > 0 ? place_points(ctx, study, raw, box) : CS_OK;
    if (st == CS_OK && raw->surfaces.kind == CS_SURFACE_AREA_TOTALS)
        st = place_landuse(ctx, study, landuse, box);
    if (st == CS_OK && raw->surfaces.kind != CS_SURFACE_NONE)
        st = place_surfaces(ctx, study, cfg, raw, landuse, box);
    if (st != CS_OK)
        return st;
    warn_dropped(ctx, study, raw);
    if (study->dem.count == 0) {
        cs_where w = {.file = raw->layer.display};
        return cs_error(ctx, CS_ERR_INPUT, &w, "check the population layer's CRS and "
                        "positions against the areas",
                        "no demand point lies in the study area");
    }
    return CS_OK;
}

/*
 * The network's lines placed in the working CRS a batch at a time (all of them at once
 * when they are held), its vertices near the areas counted: a network that misses the
 * study area is an error. Read for careshed shard (cs_config_stream_inputs), only each
 * line's box and vertex count are kept (net.known); read again, each batch is handed on.
 */
typedef struct net_placer {
    cs_context *ctx;
    cs_study *study;
    const cs_config *cfg;
    const cs_raw_layer *layer;   /* the network layer (opened before the first batch) */
    const lonlat_box *box;       /* the areas' extent (NULL: not known) */
    bool discard;                /* the areas could not be placed: the lines only read */
    bool begun;                  /* a batch was placed: `same` and the box below are set */
    bool same;                   /* the layer is in the working CRS: nothing moves */
    lonlat_box near_box;         /* the areas' extent in the layer's placed coordinates */
    double margin;
    size_t near;                 /* vertices near the areas */
    double extent[4];            /* the lines' (lon/lat, or working CRS when same) */
    cs_net_lines_known *known;   /* streamed: each line's box and vertices, added */
    size_t known_cap;
    cs_lines *kept;              /* and the lines themselves while they fit (NULL after) */
    size_t kept_cap, kept_vertex_cap, kept_bytes;
    cs_line_want want;           /* read again: the lines wanted (NULL: all) */
    cs_lines_fn fn;              /* and each batch of them handed to fn(user, ...) */
    void *user;
    uint8_t *got;                /* and each line handed on, marked (or NULL) */
    size_t handed;               /* lines handed on */
} net_placer;

static void placer_begin(net_placer *p, cs_context *ctx, cs_study *study, const cs_config *cfg,
                         const cs_raw_layer *layer, const lonlat_box *box)
{
    *p = (net_placer){.ctx = ctx, .study = study, .cfg = cfg, .layer = layer, .box = box,
                      .extent = {INFINITY, INFINITY, -INFINITY, -INFINITY}};
}

/* A batch of lines to the working CRS, its vertices near the areas counted. */
static cs_status place_batch(net_placer *p, cs_lines *l)
{
    if (!p->begun) { /* the layer is open: its CRS is known */
        /* a network already in the working CRS is checked against the areas there and
         * never moved (the biggest layer: the round trip cost ~0.65 s at city scale) */
        p->same = in_working_crs(p->ctx, p->study, p->layer);
        const cs_network_config *nc = &p->cfg->network;
        p->near_box = p->same || !p->box ? working_box(p->study) : *p->box;
        p->margin = p->same ? nc->max_attach_m : nc->max_attach_m / DEG_TO_M;
        p->begun = true;
    }
    size_t n = l->count ? l->start[l->count] : 0;
    double *kept = NULL; /* none: when the layer is in the working CRS, it stays */
    cs_status st = p->same ? CS_OK
                           : to_wgs84(p->ctx, p->layer, "network", l->x, l->y, n, NULL, p->box,
                                      NULL, &kept);
    if (st != CS_OK)
        return st;
    const lonlat_box *b = &p->near_box;
    for (size_t i = 0; i < n; i++)
        p->near += l->x[i] >= b->lon_min - p->margin && l->x[i] <= b->lon_max + p->margin &&
                   l->y[i] >= b->lat_min - p->margin && l->y[i] <= b->lat_max + p->margin;
    double e[4];
    cs_box_of(l->x, l->y, n, e);
    p->extent[0] = fmin(p->extent[0], e[0]), p->extent[1] = fmin(p->extent[1], e[1]);
    p->extent[2] = fmax(p->extent[2], e[2]), p->extent[3] = fmax(p->extent[3], e[3]);
    return p->same ? CS_OK : to_working(p->ctx, p->study, p->layer, l->x, l->y, n, NULL);
}

/* The error when the network misses the study area (a shard's network was cut for it:
 * one far from every street keeps a single edge). Its extent is given in lon/lat: lines
 * in the working CRS (when held) or their extent's corners are converted for it. */
static cs_status network_missed(net_placer *p, cs_lines *held)
{
    if (p->near > 0 || p->cfg->shard_part > 0)
        return CS_OK;
    double *kept = NULL, *e = p->extent;
    if (p->same) {
        double x[2] = {e[0], e[2]}, y[2] = {e[1], e[3]};
        double *hx = held ? held->x : x, *hy = held ? held->y : y;
        size_t n = held ? held->start[held->count] : 2;
        cs_status st = to_wgs84(p->ctx, p->layer, "network", hx, hy, n, NULL, p->box, NULL,
                                &kept);
        if (st != CS_OK)
            return st;
        cs_box_of(hx, hy, n, e);
    }
    const lonlat_box *box = p->box;
    cs_where w = {.file = p->layer->display};
    return cs_error(p->ctx, CS_ERR_INPUT, &w, "give a network that covers the study area, "
                    "or name its CRS with network.crs",
                    "the network misses the study area: its lines span longitude %.4f to "
                    "%.4f, latitude %.4f to %.4f; the areas span %.4f to %.4f, %.4f to "
                    "%.4f", e[0], e[2], e[1], e[3], box->lon_min, box->lon_max,
                    box->lat_min, box->lat_max);
}

/* The network's settings and report into the study, its lines placed. */
static cs_status take_network(cs_context *ctx, cs_study *study, const cs_config *cfg,
                              cs_raw_lines *raw)
{
    study->net.present = true;
    study->net.lines = raw->lines;
    memset(&raw->lines, 0, sizeof raw->lines);
    const cs_network_config *nc = &cfg->network;
    study->net.snap_m = nc->snap_m;
    study->net.max_attach_m = nc->max_attach_m;
    study->net.access_width_m = nc->access_width_m;
    study->net.area_max_pieces = nc->area_max_pieces;
    study->net.area_cell_m = nc->area_cell_m > 0 ? nc->area_cell_m : nc->access_width_m / 5;
    study->net.node_crossings = nc->node_crossings;
    study->net.facility_areas = nc->facility_areas;
    study->net.display = cs_strdup(raw->layer.display);
    study->net.left_out_class = raw->left_out_class;
    study->net.left_out_closed = raw->left_out_closed;
    return study->net.display ? CS_OK : cs_nomem(ctx);
}

static cs_status place_network(cs_context *ctx, cs_study *study, const cs_config *cfg,
                               cs_raw_lines *raw, const lonlat_box *box)
{
    net_placer p;
    placer_begin(&p, ctx, study, cfg, &raw->layer, box);
    cs_status st = place_batch(&p, &raw->lines);
    if (st == CS_OK)
        st = network_missed(&p, &raw->lines);
    return st == CS_OK ? take_network(ctx, study, cfg, raw) : st;
}

/* Whether the network is read as careshed shard cuts it, not held. Noded at crossings,
 * every window is the whole network (shard/window.c): it is held. */
static bool network_streamed(const cs_config *cfg)
{
    return cfg->stream_inputs && cs_config_reads_network(cfg) && !cfg->network.node_crossings;
}

/* The bytes a network's lines may take as careshed shard cuts (shard.network_memory_mb). */
static double lines_budget(const cs_config *cfg)
{
    return cfg->shard_network_mb * 1048576.0;
}

/* A batch's lines added to those kept, while they all fit the cut's budget; past it,
 * none is kept. False when out of memory. */
static bool keep_while_they_fit(net_placer *p, const cs_lines *l)
{
    cs_lines *k = p->kept;
    size_t nv = l->start[l->count], at = k->count ? k->start[k->count] : 0;
    p->kept_bytes += nv * 2 * sizeof(double) + l->count * 3 * sizeof(size_t);
    if ((double)p->kept_bytes > lines_budget(p->cfg)) {
        cs_lines_free(k);
        p->kept = NULL;
        return true;
    }
    size_t lc = p->kept_cap, xc = p->kept_vertex_cap, yc = p->kept_vertex_cap;
    void **arrays[] = {(void **)&k->start, (void **)&k->feature, (void **)&k->speed};
    const size_t sizes[] = {sizeof *k->start, sizeof *k->feature, sizeof *k->speed};
    if (!cs_grow_together(arrays, sizes, l->speed ? 3 : 2, &lc, k->count + l->count + 1) ||
        !cs_grow((void **)&k->x, &xc, at + nv, sizeof *k->x) ||
        !cs_grow((void **)&k->y, &yc, at + nv, sizeof *k->y))
        return false;
    p->kept_cap = lc, p->kept_vertex_cap = xc;
    memcpy(k->x + at, l->x, nv * sizeof *k->x);
    memcpy(k->y + at, l->y, nv * sizeof *k->y);
    for (size_t i = 0; i < l->count; i++) {
        k->start[k->count + i] = at + l->start[i];
        k->feature[k->count + i] = l->feature ? l->feature[i] : 0;
        if (l->speed)
            k->speed[k->count + i] = l->speed[i];
    }
    k->count += l->count;
    k->start[k->count] = at + nv;
    return true;
}

/* A batch placed, each line's box and vertices kept (or nothing, the areas unplaced). */
static cs_status know_batch(void *user, cs_lines *l, const size_t *line)
{
    net_placer *p = user;
    size_t first = line[0]; /* read whole: the lines come in turn */
    if (p->discard)
        return CS_OK;
    cs_status st = place_batch(p, l);
    cs_net_lines_known *k = p->known;
    void **arrays[] = {(void **)&k->box, (void **)&k->vertices};
    const size_t sizes[] = {4 * sizeof *k->box, sizeof *k->vertices};
    if (st == CS_OK && !cs_grow_together(arrays, sizes, 2, &p->known_cap, first + l->count))
        return cs_nomem(p->ctx);
    for (size_t i = 0; st == CS_OK && i < l->count; i++) {
        size_t a = l->start[i], b = l->start[i + 1];
        cs_box_of(l->x + a, l->y + a, b - a, k->box + 4 * (first + i));
        k->vertices[first + i] = b - a;
    }
    k->count = first + l->count;
    k->speed = l->speed != NULL;
    if (st == CS_OK)
        k->digest = digest_lines(first == 0 ? DIGEST_START : k->digest, l);
    if (st == CS_OK && p->kept && !keep_while_they_fit(p, l))
        st = cs_nomem(p->ctx);
    return st;
}

/* The lines of a batch wanted and not yet handed on, moved to its front; in_line[i]:
 * the study's index of the batch's i-th, line[j] that of the j-th kept. */
static void keep_wanted(net_placer *p, cs_lines *l, const size_t *in_line, size_t *line)
{
    size_t k = 0, nv = 0;
    for (size_t i = 0; i < l->count; i++) {
        size_t at = in_line[i];
        if ((p->want && !p->want(p->user, at)) || (p->got && p->got[at]))
            continue;
        size_t a = l->start[i], n = l->start[i + 1] - a;
        memmove(l->x + nv, l->x + a, n * sizeof *l->x);
        memmove(l->y + nv, l->y + a, n * sizeof *l->y);
        if (l->speed)
            l->speed[k] = l->speed[i];
        if (l->feature)
            l->feature[k] = l->feature[i];
        l->start[k] = nv;
        line[k++] = at;
        nv += n;
    }
    l->start[k] = nv;
    l->count = k;
}

/* A batch read again: the lines wanted placed and handed on. */
static cs_status hand_batch(void *user, cs_lines *l, const size_t *in_line)
{
    net_placer *p = user;
    size_t *line = cs_malloc((l->count + 1) * sizeof *line);
    if (!line)
        return CS_ERR_NOMEM;
    keep_wanted(p, l, in_line, line);
    for (size_t j = 0; p->got && j < l->count; j++)
        p->got[line[j]] = 1;
    p->handed += l->count;
    cs_status st = l->count ? place_batch(p, l) : CS_OK;
    if (st == CS_OK && l->count)
        st = p->fn(p->user, l, line);
    cs_free(line);
    return st;
}

/* The box, in the network file's CRS, of the lines want wants (by their boxes noted as
 * the file was read whole); returns how many it wants. */
static size_t wanted_box(const cs_study *s, cs_line_want want, void *user, double box[4])
{
    const cs_net_lines_known *k = &s->net.known;
    size_t n = 0;
    box[0] = box[1] = INFINITY, box[2] = box[3] = -INFINITY;
    for (size_t i = 0; i < k->count; i++) {
        if (want && !want(user, i))
            continue;
        const float *b = k->features.box + 4 * i;
        if (b[0] <= b[2]) /* a line of NaN vertices only has none */
            box[0] = fmin(box[0], b[0]), box[1] = fmin(box[1], b[1]),
            box[2] = fmax(box[2], b[2]), box[3] = fmax(box[3], b[3]);
        n++;
    }
    return n;
}

/* The settings to read the network again: its file replaced by its copy when there is
 * one, its text read in the encoding the load's scan chose (a scan at each reading
 * would read all of its text again). */
static cs_config reading_again(const cs_config *cfg, const cs_net_lines_known *known)
{
    cs_config c = *cfg;
    if (known->copy.path) {
        c.network.layer.path = known->copy.path;
        c.network.layer.layer = NULL; /* the copy's one layer */
        if (known->copy.utf8)
            c.network.layer.encoding = NULL; /* converted already */
    }
    if (*known->encoding_found)
        c.network.layer.encoding_found = known->encoding_found;
    return c;
}

/* Whether the file the network was copied from is gone (2), written since the load
 * read it (1), or as it was (0): the cut reads the copy, which would not show it. */
static int copied_file_changed(const cs_net_copy *c)
{
    struct stat fs;
    if (!c->source_mtime_ns) /* not known */
        return 0;
    if (stat(c->source, &fs) != 0)
        return 2;
    long long ns = (long long)fs.st_mtim.tv_sec * 1000000000LL + fs.st_mtim.tv_nsec;
    return (long long)fs.st_size != c->source_bytes || ns != c->source_mtime_ns;
}

/* One reading of the network: by window when box is given (and the file can be read
 * so), else whole, checked to have as many lines as the load when whole. */
static cs_status read_network_again(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                    net_placer *p, const double *box, bool *windowed,
                                    bool *written, cs_network_reading *tally)
{
    /* the features noted at the load number those read by window (read whole, they
     * come in turn, and are not noted again) */
    cs_raw_lines raw = {.features_noted = box ? (cs_net_features *)&s->net.known.features
                                              : NULL,
                        .window = box};
    p->layer = &raw.layer;
    p->begun = false;
    size_t first_message = cs_context_message_count(ctx);
    cs_status st = cs_load_network_batches(ctx, cfg, &raw, hand_batch, p);
    cs_context_forget_warnings(ctx, first_message); /* said when the study was loaded */
    *windowed = raw.windowed;
    if (tally) {
        tally->readings++;
        tally->by_window += raw.windowed;
        tally->features += raw.features;
    }
    const cs_net_lines_known *k = &s->net.known;
    cs_where w = {.file = raw.layer.display};
    if (st == CS_OK && !raw.windowed && raw.lines_handed != k->count)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again",
                      "the network changed while the study was cut: %zu lines now, %zu when "
                      "it was loaded", raw.lines_handed, k->count);
    /* a change among the lines not read again (held, or outside the window), once
     * the reading found none (the last reading's file is the one checked) */
    if (st == CS_OK && k->file_mtime_ns &&
        (raw.file_bytes != k->file_bytes || raw.file_mtime_ns != k->file_mtime_ns))
        *written = true;
    cs_raw_lines_free(&raw);
    return st;
}

cs_status cs_study_each_network_batch(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                                      cs_line_want want, cs_lines_fn fn, void *user,
                                      cs_network_reading *tally)
{
    if (!ctx || !cfg || !s || !fn || !s->net.streamed)
        return CS_ERR_ARGUMENT;
    cs_config again = reading_again(cfg, &s->net.known);
    cfg = &again;
    net_placer p;
    placer_begin(&p, ctx, (cs_study *)s, cfg, NULL, NULL);
    p.want = want;
    p.fn = fn;
    p.user = user;
    double box[4];
    size_t wanted = s->net.known.features.indexed ? wanted_box(s, want, user, box) : 0;
    bool windowed = false, written = false;
    cs_status st;
    if (wanted == 0) { /* read whole */
        st = read_network_again(ctx, cfg, s, &p, NULL, &windowed, &written, tally);
    } else {
        /* by window through the file's index; a line wanted that did not come (its box
         * in the file's CRS would have to be wrong, or the file changed) is read whole
         * after all */
        p.got = cs_calloc(s->net.known.count + 1, 1);
        if (!p.got)
            return cs_nomem(ctx);
        st = read_network_again(ctx, cfg, s, &p, box, &windowed, &written, tally);
        if (st == CS_OK && windowed && p.handed < wanted)
            st = read_network_again(ctx, cfg, s, &p, NULL, &windowed, &written, tally);
        cs_free(p.got);
    }
    const cs_net_copy *copy = &s->net.known.copy;
    int changed = st == CS_OK && copy->path ? copied_file_changed(copy) : 0;
    changed = changed ? changed : written;
    if (st == CS_OK && changed) {
        cs_where w = {.file = s->net.display};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again",
                      "the network changed while the study was cut: the file %s",
                      changed == 2 ? "is gone"
                                   : "was written since it was loaded (its size or time is not "
                                     "the same)");
    }
    return st;
}

/* The warning for a network left to read whole each time: its file has no spatial
 * index, and was not copied to one (why, when it could not be). */
static void warn_read_whole(cs_context *ctx, const cs_config *cfg, const cs_raw_lines *raw,
                            const char *why)
{
    cs_where w = {.file = raw->layer.display};
    char hint[1024];
    snprintf(hint, sizeof hint, "convert it once to a GeoPackage or FlatGeobuf, read by window "
             "through its spatial index (ogr2ogr -f GPKG network.gpkg %s, then network.path: "
             "network.gpkg), or raise shard.network_memory_mb", raw->layer.display);
    cs_warn(ctx, &w, hint, "the network's lines take more than shard.network_memory_mb (%g MB), "
            "and the file has no spatial index%s%s%s: the cut reads it again, whole, each time "
            "its windows need lines it does not hold", cfg->shard_network_mb,
            *why ? " and could not be copied to one (" : "", why, *why ? ")" : "");
}

/* The copy read whole as the load read the file, its features noted to be read by
 * window: its lines must be the file's as placed (the digest), else why says so. Its
 * messages, the file's already said, go to a context of its own. */
static cs_status note_copy(cs_context *ctx, const cs_config *cfg, cs_study *s,
                           const lonlat_box *box, cs_net_lines_known *known, char why[256])
{
    cs_context *quiet = NULL;
    if (cs_context_create_for_thread(ctx, &quiet) != CS_OK)
        return cs_nomem(ctx);
    cs_config c = reading_again(cfg, known);
    cs_raw_lines raw = {0};
    cs_net_lines_known k = {0};
    net_placer p;
    placer_begin(&p, quiet, s, &c, &raw.layer, box);
    p.known = &k;
    raw.features_noted = &k.features;
    cs_status st = cs_load_network_batches(quiet, &c, &raw, know_batch, &p);
    const cs_message *m = NULL; /* its first error */
    for (size_t i = 0; !m && i < cs_context_message_count(quiet); i++)
        if (cs_context_get_message(quiet, i)->severity == CS_SEVERITY_ERROR)
            m = cs_context_get_message(quiet, i);
    if (st == CS_ERR_NOMEM || quiet->out_of_memory)
        st = cs_nomem(ctx);
    else if (st != CS_OK)
        snprintf(why, 256, "its copy could not be read: %s", m ? m->text : "?");
    else if (!k.features.indexed || k.count != known->count || k.digest != known->digest ||
             k.speed != known->speed)
        snprintf(why, 256, "its copy's lines are not the file's");
    if (st == CS_OK && !*why) {
        cs_net_features_free(&known->features);
        known->features = k.features;
        memset(&k.features, 0, sizeof k.features);
        known->file_bytes = raw.file_bytes; /* the copy's: checked at each reading */
        known->file_mtime_ns = raw.file_mtime_ns;
    }
    raw.features_noted = NULL;
    cs_raw_lines_free(&raw);
    cs_free(k.box);
    cs_free(k.vertices);
    cs_net_features_free(&k.features);
    cs_context_destroy(quiet);
    return st == CS_OK && *why ? CS_ERR_OUTPUT : st;
}

/* A network file without a spatial index (a GeoJSON) copied once to a GeoPackage with
 * one, which the cut reads by window from then on; when no copy can be made, the file
 * is read again whole, with a warning. */
static cs_status index_by_copy(cs_context *ctx, const cs_config *cfg, cs_study *s,
                               const cs_raw_lines *raw, const lonlat_box *box,
                               cs_net_lines_known *known)
{
    double t0 = cs_stage_begin();
    char why[256] = "";
    cs_status st = cs_network_copy_make(ctx, cfg, &known->copy, why);
    if (st == CS_OK) {
        known->copy.source_bytes = raw->file_bytes;
        known->copy.source_mtime_ns = raw->file_mtime_ns;
        st = note_copy(ctx, cfg, s, box, known, why);
    }
    if (st != CS_ERR_INPUT) /* a copy was made or tried */
        cs_progress(ctx, CS_COPY_STAGE, 1);
    cs_stage_end(ctx, "copy network to GeoPackage", t0);
    if (st != CS_OK)
        cs_network_copy_remove(&known->copy);
    if (st == CS_ERR_NOMEM)
        return st;
    if (st != CS_OK)
        warn_read_whole(ctx, cfg, raw, why);
    return CS_OK;
}

/* The network read in batches and checked, only its lines' boxes kept (careshed shard). */
static cs_status know_network(cs_context *ctx, const cs_config *cfg, cs_study *s,
                              cs_raw_lines *raw, const lonlat_box *box)
{
    net_placer p;
    cs_net_lines_known known = {0};
    cs_lines kept = {0};
    bool placed = box != NULL; /* else only read, for its messages */
    placer_begin(&p, ctx, s, cfg, &raw->layer, box);
    p.known = &known;
    p.kept = &kept;
    p.discard = !placed;
    raw->features_noted = &known.features;
    cs_status st = cs_load_network_batches(ctx, cfg, raw, know_batch, &p);
    raw->features_noted = NULL;
    if (st == CS_OK && placed)
        st = network_missed(&p, p.kept);
    if (st == CS_OK && placed) {
        cs_lines_free(&raw->lines); /* the batches' room */
        raw->lines = kept; /* all of them, when they fit: held as a run holds them */
        memset(&kept, 0, sizeof kept);
        st = take_network(ctx, s, cfg, raw);
    }
    if (st == CS_OK && placed && !p.kept) {
        s->net.streamed = true;
        known.file_bytes = raw->file_bytes;
        known.file_mtime_ns = raw->file_mtime_ns;
        memcpy(known.encoding_found, raw->encoding_found, sizeof known.encoding_found);
        s->net.known = known;
        if (!known.features.indexed) /* a national GeoJSON: hours of parsing */
            st = index_by_copy(ctx, cfg, s, raw, box, &s->net.known);
    } else {
        cs_free(known.box);
        cs_free(known.vertices);
        cs_net_features_free(&known.features);
    }
    cs_lines_free(&kept);
    return st;
}

/* ---------------------------------------------------------------- targets */

static long find_threshold(const cs_kind *k, const cs_target_config *tc)
{
    for (size_t j = 0; j < k->threshold_count; j++) {
        if (!isnan(tc->within_min) && fabs(k->threshold_min[j] - tc->within_min) < 1e-9)
            return (long)j;
        if (!isnan(tc->within_m) && fabs(k->threshold_m[j] - tc->within_m) < 1e-9)
            return (long)j;
    }
    return -1;
}

static long find_kind(const cs_study *s, const char *id)
{
    for (size_t k = 0; id && k < s->settings.kind_count; k++)
        if (!strcmp(s->settings.kinds[k].id, id))
            return (long)k;
    return -1;
}

static long find_capacity(const cs_study *s, const char *id)
{
    for (size_t c = 0; id && c < s->settings.capacity_count; c++)
        if (!strcmp(s->settings.capacities[c].id, id))
            return (long)c;
    return -1;
}

static long find_band(const cs_study *s, const char *id)
{
    if (!id)
        return 0;
    for (size_t b = 0; b < s->settings.band_count; b++)
        if (!strcmp(s->settings.band_names[b], id))
            return (long)b;
    return -1;
}

static cs_status resolve_target(cs_context *ctx, const cs_config *cfg, cs_study *s,
                                const cs_target_config *tc, cs_target *t)
{
    t->id = cs_strdup(tc->id);
    t->name = cs_strdup(tc->name ? tc->name : tc->id);
    t->name_en = cs_strdup(tc->name_en ? tc->name_en : (tc->name ? NULL : tc->id));
    if (!t->id || !t->name)
        return cs_nomem(ctx);
    t->type = tc->type;
    t->scope = tc->scope ? tc->scope : CS_SCOPE_DISTRICT;
    t->per = isnan(tc->per) || tc->per <= 0 ? 1 : tc->per;
    t->at_least = tc->at_least;
    t->at_most = tc->at_most;
    t->kind = find_kind(s, tc->kind);
    t->capacity = find_capacity(s, tc->capacity);
    t->capacity_of = find_capacity(s, tc->capacity_of);
    t->band = find_band(s, tc->band);
    t->threshold = t->kind >= 0 ? find_threshold(&s->settings.kinds[t->kind], tc) : -1;
    t->measure = tc->measure ? tc->measure
                             : cs_main_measure(t->kind >= 0 ? s->settings.kinds[t->kind].measures
                                                                   : CS_MEASURE_STRAIGHT);
    char key[160];
    cs_where w = {.file = cfg->file, .line = tc->line, .field = key};
    snprintf(key, sizeof key, "targets.%s", tc->id);
    bool by_capacity = t->type == CS_TARGET_ACCESSIBILITY || t->type == CS_TARGET_LOAD;
    bool needs_kind = t->type == CS_TARGET_COVERAGE || t->type == CS_TARGET_COUNT || by_capacity;
    if ((needs_kind || tc->kind) && t->kind < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "name one of the kinds the facilities have",
                        "unknown kind '%s'", tc->kind ? tc->kind : "(none)");
    bool needs_capacity = t->type == CS_TARGET_CAPACITY || t->type == CS_TARGET_CAPACITY_PER_POP ||
                          t->type == CS_TARGET_CAPACITY_SHARE;
    if (needs_capacity && t->capacity < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "name a capacity the facilities layer has",
                        "unknown capacity '%s'", tc->capacity ? tc->capacity : "(none)");
    if (t->type == CS_TARGET_CAPACITY_SHARE && t->capacity_of < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "name a capacity the facilities layer has",
                        "unknown capacity_of '%s'", tc->capacity_of ? tc->capacity_of : "(none)");
    if (t->band < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "name a band declared under population.bands",
                        "unknown band '%s'", tc->band);
    if (t->type == CS_TARGET_COVERAGE && !(t->measure & s->settings.kinds[t->kind].measures))
        return cs_error(ctx, CS_ERR_STUDY, &w, "measure the kind that way too, or change "
                        "the target's measure", "kind '%s' is not measured %s", tc->kind,
                        cs_config_measure_text(t->measure));
    if (by_capacity && s->settings.kinds[t->kind].load_capacity < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "set the kind's capacity with "
                        "kinds.<kind>.load_capacity", "kind '%s' has no capacity to measure "
                        "%s with", tc->kind, t->type == CS_TARGET_LOAD ? "load" : "accessibility");
    if (t->type == CS_TARGET_COVERAGE && t->threshold < 0)
        return cs_error(ctx, CS_ERR_STUDY, &w, "use one of the kind's thresholds",
                        "within_min/within_m is not a threshold of kind '%s'", tc->kind);
    return CS_OK;
}

/* The capacity and band each kind's load ratio is measured with. */
static cs_status resolve_loads(cs_context *ctx, const cs_config *cfg, cs_study *s)
{
    cs_status st = CS_OK;
    for (size_t i = 0; i < cfg->kind_count && i < s->settings.kind_count; i++) {
        const cs_kind_config *kc = &cfg->kinds[i];
        cs_kind *k = &s->settings.kinds[i];
        char key[160];
        cs_where w = {.file = cfg->file, .field = key};
        k->load_capacity = find_capacity(s, kc->load_capacity);
        k->load_band = find_band(s, kc->load_band);
        if (kc->load_capacity && k->load_capacity < 0) {
            snprintf(key, sizeof key, "kinds.%s.load_capacity", kc->id);
            st = first_error(st, cs_error(ctx, CS_ERR_STUDY, &w, "name a capacity the "
                                          "facilities layer has", "unknown capacity '%s'",
                                          kc->load_capacity));
        }
        if (kc->access_decay == CS_DECAY_STEPS && kc->access_weight_count == 0 &&
            k->threshold_count == 3) {
            static const double luo_qi[3] = {1, 0.68, 0.22}; /* Luo & Qi (2009) */
            memcpy(k->access_weights, luo_qi, sizeof luo_qi);
        } else if (kc->access_decay == CS_DECAY_STEPS &&
                   kc->access_weight_count != k->threshold_count) {
            snprintf(key, sizeof key, "kinds.%s.access_weights", kc->id);
            st = first_error(st, cs_error(ctx, CS_ERR_STUDY, &w, "give one weight per "
                                          "threshold of the kind, nearest first",
                                          "%zu weights for %zu thresholds",
                                          kc->access_weight_count, k->threshold_count));
        }
        if (k->load_band < 0) {
            snprintf(key, sizeof key, "kinds.%s.load_band", kc->id);
            st = first_error(st, cs_error(ctx, CS_ERR_STUDY, &w, "name a band declared under "
                                          "population.bands", "unknown band '%s'",
                                          kc->load_band));
        }
    }
    return st;
}

/* The band under-served patches count: the one named, else the first age band. */
static cs_status resolve_patches(cs_context *ctx, const cs_config *cfg, cs_study *s)
{
    s->settings.patch_cell_m = cfg->patch_cell_m;
    s->settings.report_suggest = cfg->report_suggest;
    s->settings.demand_points_csv = cfg->demand_points_csv;
    s->settings.output_formats = cfg->output_formats ? cfg->output_formats : CS_FORMAT_ALL;
    s->settings.shapefile_names = cfg->shapefile_names;
    s->settings.demand_layer = cfg->demand_layer;
    s->settings.demand_csv = cfg->demand_csv;
    s->settings.patch_hex = cfg->patch_hex;
    s->settings.patch_band =
        cfg->patch_band ? find_band(s, cfg->patch_band) : (s->settings.band_count > 1);
    if (s->settings.patch_band >= 0)
        return CS_OK;
    cs_where w = {.file = cfg->file, .field = "underserved.band"};
    return cs_error(ctx, CS_ERR_STUDY, &w, "name a band declared under population.bands",
                    "unknown band '%s'", cfg->patch_band);
}

static cs_status resolve_targets(cs_context *ctx, const cs_config *cfg, cs_study *s)
{
    if (cfg->target_count == 0)
        return CS_OK;
    s->settings.targets = cs_calloc(cfg->target_count, sizeof *s->settings.targets);
    if (!s->settings.targets)
        return cs_nomem(ctx);
    cs_status st = CS_OK;
    for (size_t t = 0; t < cfg->target_count; t++) {
        st = first_error(
            st, resolve_target(ctx, cfg, s, &cfg->targets[t], &s->settings.targets[t]));
        s->settings.target_count++;
    }
    return st;
}

/* ------------------------------------------------------------------- load */

static void take_input(cs_context *ctx, cs_study *s, cs_raw_layer *raw)
{
    if (!raw->input.role)
        return;
    cs_input *in = &s->inputs[s->input_count++];
    *in = raw->input;
    in->crs = cs_crs_short_name(ctx, raw->srs ? raw->srs : WGS84);
    memset(&raw->input, 0, sizeof raw->input);
}

/* The layers as read, before they are placed in the study. */
typedef struct raw_layers {
    cs_raw_areas areas, landuse;
    cs_raw_points facilities, population;
    cs_raw_lines network;
    cs_raw_layer costs;
    cs_status areas_st, facilities_st, population_st, network_st;
} raw_layers;

/* An empty study with the settings load needs first. */
static cs_study *new_study(const cs_config *cfg)
{
    cs_study *s = cs_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->geos = cs_geos_create();
    s->settings.name = cs_strdup(cfg->name ? cfg->name : "careshed study");
    s->settings.lang = cfg->lang;
    s->settings.walk_speed_kmh = cfg->walk_speed_kmh;
    s->dem.year = NAN;
    s->settings.outside_tolerance_m = cfg->outside_tolerance_m;
    s->settings.far_outside_km = cfg->far_outside_km;
    if (cfg->shard_part > 0 && cs_config_shard_box(cfg, false, s->settings.shard_box)) {
        s->settings.shard_net_boxed = cs_config_shard_box(cfg, true, s->settings.shard_net_box);
        s->settings.shard_part = (long)cfg->shard_part;
        s->settings.shard_parts = (long)cfg->shard_parts;
        s->settings.shard_points = (size_t)cfg->shard_points;
        s->settings.shard_cut = cs_strdup(cfg->shard_cut ? cfg->shard_cut : "");
    }
    if (!s->geos || !s->settings.name ||
        (s->settings.shard_part > 0 && !s->settings.shard_cut)) {
        cs_study_destroy(s);
        return NULL;
    }
    return s;
}

/* The walking network, read on a thread of its own while the other layers are read:
 * with a context of its own, whose messages and inputs join the run's afterwards. */
typedef struct network_reader {
    const cs_config *cfg;
    cs_raw_lines *out;
    cs_status st;
    cs_helper helper;
} network_reader;

static void *read_network(void *arg)
{
    network_reader *n = arg;
    n->st = cs_load_network(n->helper.ctx, n->cfg, n->out);
    return NULL;
}

/* Start reading the network on a thread (inline later when there is none to be had).
 * A network that no kind walks is not read at all: a run measured straight would spend
 * a core on it while the residents are read (0.4 s of the large bench's 4.6 s). */
static void network_begin(cs_context *ctx, network_reader *n)
{
    n->helper = (cs_helper){.ctx = ctx};
    if (cs_config_reads_network(n->cfg) && !network_streamed(n->cfg))
        cs_helper_start(ctx, &n->helper, read_network, n);
}

static cs_status network_end(cs_context *ctx, network_reader *n)
{
    if (!cs_config_reads_network(n->cfg)) {
        cs_input_note_unopened(ctx, n->cfg->network.layer.path, "network");
        return CS_OK;
    }
    if (!n->helper.on_thread)
        return cs_load_network(ctx, n->cfg, n->out);
    cs_helper_join(ctx, &n->helper);
    return n->st;
}

/*
 * Read every layer and place it in the study (each even when another failed, to report
 * all), with progress by layer: a large population or network layer takes seconds.
 * The network is read on a thread beside the others, and the other layers are placed
 * (projected, and the points located in their areas) while it is still being read; its
 * messages follow theirs. The "load" stage is the reading on this thread and the wait
 * for the network, "project" the placing.
 */
typedef struct layers_read {
    raw_layers *r;
    network_reader net;
    lonlat_box box; /* the areas' extent, once they are placed */
    cs_status areas_placed;
} layers_read;

static void read_all_but_network(cs_context *ctx, const cs_config *cfg, cs_study *s,
                                 layers_read *lr)
{
    raw_layers *r = lr->r;
    double t0 = cs_stage_begin();
    cs_progress(ctx, "load", 0);
    lr->net = (network_reader){.cfg = cfg, .out = &r->network};
    network_begin(ctx, &lr->net);
    r->areas_st = cs_load_areas(ctx, cfg, &r->areas);
    cs_progress(ctx, "load", 0.1);
    r->facilities_st = cs_load_facilities(ctx, cfg, s, &r->facilities);
    cs_progress(ctx, "load", 0.2);
    /* a large table is read a part a core, but for the core reading the network */
    int cores = cs_team_size(ctx->threads);
    int threads = lr->net.helper.on_thread && cores > 1 ? cores - 1 : ctx->threads;
    r->population_st = cs_load_population(ctx, cfg, s, threads, &r->population);
    cs_status sl = cs_load_landuse(ctx, cfg, &r->landuse);
    r->population_st = first_error(r->population_st, sl);
    cs_progress(ctx, "load", 0.6);
    cs_stage_end(ctx, "load", t0);
}

/* Project and locate the areas first, then the points in them. */
static cs_status place_all_but_network(cs_context *ctx, const cs_config *cfg, cs_study *s,
                                       layers_read *lr)
{
    raw_layers *r = lr->r;
    double t0 = cs_stage_begin();
    cs_status st = CS_OK;
    cs_progress(ctx, "project", 0);
    /* the point layers' extent, for naming the CRS of areas in metres labelled lon/lat */
    lonlat_box ref;
    bool have_ref =
        (r->facilities_st == CS_OK && points_lonlat_box(ctx, &r->facilities, &ref)) ||
        (r->population_st == CS_OK && points_lonlat_box(ctx, &r->population, &ref));
    cs_status sa = r->areas_st;
    if (sa == CS_OK)
        sa = place_areas(ctx, cfg, s, &r->areas, have_ref ? &ref : NULL, &lr->box);
    cs_progress(ctx, "project", 0.1);
    if (sa == CS_OK && r->facilities_st == CS_OK)
        st = first_error(st, place_facilities(ctx, s, &r->facilities, &lr->box));
    if (sa == CS_OK && r->population_st == CS_OK)
        st = first_error(st, place_population(ctx, s, cfg, &r->population, &r->landuse,
                                              &lr->box));
    cs_progress(ctx, "project", 0.7);
    if (sa == CS_OK)
        cs_seams_warn(ctx, s, r->areas.layer.display);
    lr->areas_placed = sa;
    cs_stage_end(ctx, "project", t0);
    return first_error(st, sa);
}

/* Wait for the network, then place it along the areas. */
static cs_status read_and_place_network(cs_context *ctx, const cs_config *cfg, cs_study *s,
                                        layers_read *lr)
{
    raw_layers *r = lr->r;
    double t0 = cs_stage_begin();
    cs_progress(ctx, "load", 0.8); /* on a terminal: still loading, while it waits */
    bool streamed = network_streamed(cfg);
    /* read for careshed shard: placed as it is read, so after the areas */
    r->network_st = streamed ? know_network(ctx, cfg, s, &r->network,
                                            lr->areas_placed == CS_OK ? &lr->box : NULL)
                             : network_end(ctx, &lr->net);
    cs_progress(ctx, "load", 1);
    cs_stage_end(ctx, "load", t0);
    t0 = cs_stage_begin();
    cs_status st = CS_OK;
    if (!streamed && lr->areas_placed == CS_OK && r->network_st == CS_OK &&
        r->network.lines.count > 0)
        st = place_network(ctx, s, cfg, &r->network, &lr->box);
    cs_progress(ctx, "project", 1);
    cs_stage_end(ctx, "project", t0);
    return st;
}

/* Every layer read and placed; the first error. */
static cs_status read_and_place(cs_context *ctx, const cs_config *cfg, cs_study *s,
                                raw_layers *r)
{
    layers_read lr = {.r = r};
    read_all_but_network(ctx, cfg, s, &lr);
    cs_status placed = place_all_but_network(ctx, cfg, s, &lr);
    cs_status network = read_and_place_network(ctx, cfg, s, &lr);
    cs_status read = first_error(first_error(first_error(r->areas_st, r->facilities_st),
                                             r->population_st),
                                 r->network_st);
    return first_error(read, first_error(placed, network));
}

/* Note every input in the study (for the summary), then free what was read. */
static void take_inputs(cs_context *ctx, cs_study *s, raw_layers *r)
{
    take_input(ctx, s, &r->areas.layer);
    take_input(ctx, s, &r->facilities.layer);
    take_input(ctx, s, &r->population.layer);
    take_input(ctx, s, &r->network.layer);
    take_input(ctx, s, &r->landuse.layer);
    take_input(ctx, s, &r->costs);
    cs_raw_layer_free(&r->costs);
    cs_raw_areas_free(&r->landuse);
    cs_raw_areas_free(&r->areas);
    cs_raw_points_free(&r->facilities);
    cs_raw_points_free(&r->population);
    cs_raw_lines_free(&r->network);
}

cs_status cs_study_load(cs_context *ctx, const cs_config *cfg, cs_study **out)
{
    if (!ctx || !cfg || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    size_t errors_before = cs_context_error_count(ctx), recorded_before = ctx->error_count;
    cs_study *s = new_study(cfg);
    if (!s)
        return cs_nomem(ctx);
    cs_status st = cs_config_validate(ctx, cfg);
    raw_layers r;
    memset(&r, 0, sizeof r);
    st = first_error(st, read_and_place(ctx, cfg, s, &r));
    if (st == CS_OK && cfg->costs.layer.path) {
        double t0 = cs_stage_begin();
        st = cs_load_costs(ctx, cfg, s, &r.costs);
        cs_stage_end(ctx, "cost matrix", t0);
    }
    /* targets name kinds, capacities and bands, known only once both layers are read;
     * in this order, since targets use the loads */
    if (r.facilities_st == CS_OK && r.population_st == CS_OK) {
        st = first_error(st, resolve_loads(ctx, cfg, s));
        st = first_error(st, resolve_targets(ctx, cfg, s));
        st = first_error(st, resolve_patches(ctx, cfg, s));
    }
    take_inputs(ctx, s, &r);
    /* an error was recorded on a path that went on, or a message could not be (memory) */
    if (st == CS_OK && cs_context_error_count(ctx) > errors_before)
        st = ctx->error_count > recorded_before ? CS_ERR_INPUT : CS_ERR_NOMEM;
    if (st != CS_OK) {
        cs_study_destroy(s);
        return st;
    }
    *out = s;
    return CS_OK;
}

/* ------------------------------------------------------------- accessors */

void cs_study_destroy(cs_study *s)
{
    if (!s)
        return;
    if (s->view_of) {
        cs_study_view_free(s);
        return;
    }
    cs_areas_free(&s->areas, s->geos);
    cs_facilities_free(&s->fac);
    cs_demand_free(&s->dem);
    cs_cost_matrix_free(&s->costs);
    cs_walk_network_free(&s->net);
    cs_settings_free(&s->settings);
    for (size_t i = 0; i < s->input_count; i++) {
        cs_free(s->inputs[i].role);
        cs_free(s->inputs[i].path);
        cs_free(s->inputs[i].crs);
        for (size_t j = 0; j < s->inputs[i].file_count; j++)
            cs_free(s->inputs[i].files[j]);
        cs_free(s->inputs[i].files);
    }
    cs_geos_destroy(s->geos);
    cs_free(s);
}

size_t cs_study_area_count(const cs_study *s) { return s ? s->areas.count : 0; }
const char *cs_study_area_id(const cs_study *s, size_t i)
{
    return s && i < s->areas.count ? s->areas.id[i] : NULL;
}
const char *cs_study_area_name(const cs_study *s, size_t i)
{
    return s && i < s->areas.count ? s->areas.name[i] : NULL;
}
size_t cs_study_facility_count(const cs_study *s) { return s ? s->fac.count : 0; }

int cs_study_shard(const cs_study *s, long *part, long *parts)
{
    if (!s || s->settings.shard_part <= 0)
        return 0;
    if (part)
        *part = s->settings.shard_part;
    if (parts)
        *parts = s->settings.shard_parts;
    return 1;
}

size_t cs_study_own_demand_count(const cs_study *s)
{
    size_t n = 0;
    for (size_t i = 0; s && i < s->dem.count; i++)
        n += !s->dem.own || s->dem.own[i];
    return n;
}
size_t cs_study_demand_count(const cs_study *s) { return s ? s->dem.count : 0; }
size_t cs_study_kind_count(const cs_study *s) { return s ? s->settings.kind_count : 0; }
const char *cs_study_kind_id(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? s->settings.kinds[k].id : NULL;
}
const char *cs_study_kind_name(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? s->settings.kinds[k].name : NULL;
}
size_t cs_study_threshold_count(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? s->settings.kinds[k].threshold_count : 0;
}
double cs_study_threshold_min(const cs_study *s, size_t k, size_t j)
{
    return s && k < s->settings.kind_count && j < s->settings.kinds[k].threshold_count
               ? s->settings.kinds[k].threshold_min[j]
               : NAN;
}
double cs_study_threshold_m(const cs_study *s, size_t k, size_t j)
{
    return s && k < s->settings.kind_count && j < s->settings.kinds[k].threshold_count
               ? s->settings.kinds[k].threshold_m[j]
               : NAN;
}
size_t cs_study_band_count(const cs_study *s) { return s ? s->settings.band_count : 0; }
const char *cs_study_band_name(const cs_study *s, size_t b)
{
    return s && b < s->settings.band_count ? s->settings.band_names[b] : NULL;
}
const char *cs_study_crs(const cs_study *s) { return s ? s->settings.crs : NULL; }
size_t cs_study_capacity_count(const cs_study *s) { return s ? s->settings.capacity_count : 0; }
const char *cs_study_capacity_id(const cs_study *s, size_t c)
{
    return s && c < s->settings.capacity_count ? s->settings.capacities[c].id : NULL;
}
const char *cs_study_capacity_unit(const cs_study *s, size_t c)
{
    return s && c < s->settings.capacity_count ? s->settings.capacities[c].unit : NULL;
}

int cs_study_has_network(const cs_study *s)
{
    return s && s->net.present;
}

int cs_study_kind_measured(const cs_study *s, size_t k, cs_measure m)
{
    if (!s || k >= s->settings.kind_count)
        return 0;
    bool known = m == CS_MEASURE_STRAIGHT || m == CS_MEASURE_NETWORK || m == CS_MEASURE_MATRIX;
    return known && (s->settings.kinds[k].measures & (unsigned)m) != 0;
}

bool cs_study_any_kind_measured(const cs_study *s, unsigned measure)
{
    for (size_t k = 0; s && k < s->settings.kind_count; k++)
        if (s->settings.kinds[k].measures & measure)
            return true;
    return false;
}

long cs_study_kind_capacity(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? s->settings.kinds[k].load_capacity : -1;
}

size_t cs_study_kind_band(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? (size_t)s->settings.kinds[k].load_band : 0;
}

double cs_study_kind_access_per(const cs_study *s, size_t k)
{
    return s && k < s->settings.kind_count ? s->settings.kinds[k].access_per : NAN;
}

cs_lang cs_study_lang(const cs_study *s)
{
    if (s->settings.lang != CS_LANG_AUTO)
        return s->settings.lang;
    /* a lead byte of UTF-8's CJK blocks (U+3000-U+9FFF) in the study's name or its
     * first street's */
    const char *names[2] = {s->settings.name, s->areas.count ? s->areas.name[0] : ""};
    for (int i = 0; i < 2; i++)
        for (const unsigned char *p = (const unsigned char *)names[i]; p && *p; p++)
            if (*p >= 0xE3 && *p <= 0xE9)
                return CS_LANG_ZH;
    return CS_LANG_EN;
}
