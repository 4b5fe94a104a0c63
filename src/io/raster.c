/*
 * raster.c — population from a grid (WorldPop, GHSL, a census grid as GeoTIFF or any
 * raster GDAL reads): every populated cell becomes a quadrilateral with its count,
 * later split across the areas it straddles (io/spread.c).
 *
 * The grid is checked when the layers are read, and its cells are read once the study
 * area is known: only the window over the areas' box (a national WorldPop grid holds
 * billions of cells), one block at a time in the file's own block layout, keeping only
 * populated cells. Cells equal
 * to the band's nodata value, or not a number, are empty. A negative count is an error
 * naming the cell, since a grid that holds them is not a population count.
 */
#include "io/layer.h"
#include "io/load.h"

#include <cpl_string.h>
#include <gdal.h>
#include <math.h>
#include <stdio.h>
#include <string.h>



/* Whether GDAL reads path as a raster and not as a vector layer: a table of points
 * (which GDAL's XYZ driver would also take for a grid) stays points. */
bool cs_is_raster(const cs_config *cfg, const cs_layer_config *lc)
{
    if (!lc->path)
        return false;
    char *path = cs_config_resolve_path(cfg, lc->path);
    if (!path)
        return false;
    if (cs_layer_not_a_file(path)) { /* cs_layer_open refuses it, before GDAL waits on it */
        cs_free(path);
        return false;
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    bool raster = false;
    if (ds) {
        GDALClose(ds);
    } else if ((ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL))) {
        raster = GDALGetRasterCount(ds) > 0;
        GDALClose(ds);
    }
    CPLPopErrorHandler();
    cs_free(path);
    return raster;
}

static bool grow_cells(cs_raw_surfaces *s)
{
    if (s->count < s->cap)
        return true;
    size_t cap = s->cap ? s->cap * 2 : 4096;
    double *qx = cs_reallocarray(s->quad_x, cap, 4 * sizeof *qx);
    if (!qx)
        return false;
    s->quad_x = qx;
    double *qy = cs_reallocarray(s->quad_y, cap, 4 * sizeof *qy);
    if (!qy)
        return false;
    s->quad_y = qy;
    long *f = cs_reallocarray(s->feature, cap, sizeof *f);
    if (!f)
        return false;
    s->feature = f;
    double *v = cs_reallocarray(s->values, cap, s->value_count * sizeof *v);
    if (!v)
        return false;
    s->values = v;
    s->cap = cap;
    return true;
}

/* Append cell (row, col) with count v; its corners come from the geotransform. */
static bool add_cell(cs_raw_surfaces *s, const double *gt, size_t row, size_t col, size_t cols,
                     double v, const double *share)
{
    if (!grow_cells(s))
        return false;
    size_t i = s->count++;
    static const double dc[4] = {0, 1, 1, 0}, dr[4] = {0, 0, 1, 1};
    for (size_t k = 0; k < 4; k++) {
        double c = (double)col + dc[k], r = (double)row + dr[k];
        s->quad_x[4 * i + k] = gt[0] + c * gt[1] + r * gt[2];
        s->quad_y[4 * i + k] = gt[3] + c * gt[4] + r * gt[5];
    }
    s->feature[i] = (long)(row * cols + col + 1);
    double *vals = &s->values[i * s->value_count];
    vals[0] = v;
    for (size_t b = 1; b < s->value_count; b++)
        vals[b] = v * share[b];
    return true;
}

/* Age bands of a grid can only be shares of its count. */
static cs_status raster_bands(cs_context *ctx, const cs_config *cfg, cs_study *study,
                              const char *display, double **share)
{
    size_t n = cfg->band_count;
    study->settings.band_names = cs_calloc(n + 1, sizeof *study->settings.band_names);
    *share = cs_calloc(n + 1, sizeof **share);
    if (!study->settings.band_names || !*share ||
        !(study->settings.band_names[0] = cs_strdup("total")))
        return cs_nomem(ctx);
    study->settings.band_count = 1;
    cs_status st = CS_OK;
    for (size_t b = 0; b < n; b++) {
        const cs_band_config *bc = &cfg->bands[b];
        if (bc->field) {
            char key[96];
            snprintf(key, sizeof key, "population.bands.%s", bc->id);
            cs_where w = {.file = display, .field = key};
            st = cs_error(ctx, CS_ERR_STUDY, &w, "a population grid holds one count per "
                          "cell: give the band as a share of it, e.g. {share: 0.2}",
                          "band %s names a field, but the population is a raster", bc->id);
            continue;
        }
        (*share)[study->settings.band_count] = bc->share;
        if (!(study->settings.band_names[study->settings.band_count++] = cs_strdup(bc->id)))
            return cs_nomem(ctx);
    }
    return st;
}

static void describe_input(cs_context *ctx, GDALDatasetH ds, const cs_layer_config *lc,
                           cs_raw_layer *raw)
{
    raw->display = cs_strdup(lc->path);
    raw->srs_from_config = lc->crs != NULL;
    const char *wkt = GDALGetProjectionRef(ds);
    raw->srs = cs_strdup(lc->crs ? lc->crs : (wkt && *wkt ? wkt : NULL));
    raw->input.role = cs_strdup("population");
    raw->input.path = cs_strdup(lc->path);
    char **files = GDALGetFileList(ds);
    size_t n = (size_t)CSLCount(files);
    for (size_t i = 0; i < n; i++)
        cs_input_note(ctx, files[i], "population");
    raw->input.files = cs_calloc(n + 1, sizeof *raw->input.files);
    for (size_t i = 0; raw->input.files && i < n; i++)
        if ((raw->input.files[i] = cs_strdup(files[i])))
            raw->input.file_count++;
    CSLDestroy(files);
}

typedef struct grid_reader {
    cs_context *ctx;
    GDALRasterBandH band;
    const double *gt;
    size_t cols;           /* of the whole grid (cells are numbered by it) */
    size_t r0, r1, c0, c1; /* the window read */
    int has_nodata;
    double nodata;
    const double *share;
    const char *display;
    size_t negatives;
    size_t cells;          /* populated cells handed on */
} grid_reader;

/* One block's cells into s. */
static cs_status read_block(grid_reader *g, size_t r0, size_t c0, size_t h, size_t w,
                            double *buf, cs_raw_surfaces *s)
{
    if (GDALRasterIO(g->band, GF_Read, (int)c0, (int)r0, (int)w, (int)h, buf, (int)w, (int)h,
                     GDT_Float64, 0, 0) != CE_None) {
        cs_where where = {.file = g->display};
        return cs_error(g->ctx, CS_ERR_INPUT, &where, "check that the file is complete and "
                        "readable", "cannot read rows %zu–%zu of the population grid", r0 + 1,
                        r0 + h);
    }
    for (size_t r = 0; r < h; r++)
        for (size_t c = 0; c < w; c++) {
            double v = buf[r * w + c];
            if (isnan(v) || (g->has_nodata && v == g->nodata) || v == 0)
                continue;
            if (!(v > 0 && v <= CS_MAX_PEOPLE)) {
                if (g->negatives++ < CS_MESSAGES_PER_LAYER) {
                    cs_where where = {.file = g->display, .field = "band 1"};
                    cs_error(g->ctx, CS_ERR_INPUT, &where, "a population grid counts people "
                             "(at most " CS_MAX_PEOPLE_TEXT " a cell): set the band's nodata "
                             "value if this marks empty cells",
                             "cell at row %zu, column %zu holds %g", r0 + r + 1, c0 + c + 1, v);
                }
                continue;
            }
            if (!add_cell(s, g->gt, r0 + r, c0 + c, g->cols, v, g->share))
                return cs_nomem(g->ctx);
        }
    return CS_OK;
}

/* Populated cells handed on together (a strip): enough that a grid stored a row a block
 * is not projected and spread a row at a time, few enough that a strip's arrays stay a
 * few megabytes however wide the grid (a national grid's row of blocks holds millions). */
#define STRIP_CELLS ((size_t)1 << 18)

/*
 * The window's cells, one block of the file's own layout at a time, handed to strip()
 * once STRIP_CELLS or more are held (after a whole block) and at the end, then dropped
 * from s: the cells come in the same order however they are cut into strips, and only
 * a strip's are held.
 */
static cs_status read_grid(grid_reader *g, cs_raw_points *p, cs_raster_strip_fn strip,
                           void *user)
{
    cs_raw_surfaces *s = &p->surfaces;
    int bw = 0, bh = 0;
    GDALGetBlockSize(g->band, &bw, &bh);
    size_t w = bw > 0 ? (size_t)bw : g->c1 - g->c0, h = bh > 0 ? (size_t)bh : 1;
    /* a block is clipped to the window: a grid of a 2-billion-cell row has such blocks */
    size_t bufw = w < g->c1 - g->c0 ? w : g->c1 - g->c0;
    size_t bufh = h < g->r1 - g->r0 ? h : g->r1 - g->r0;
    double *buf = cs_calloc(bufw * bufh + 1, sizeof *buf);
    if (!buf)
        return cs_nomem(g->ctx);
    cs_status st = CS_OK;
    /* blocks aligned with the file's, clipped to the window */
    for (size_t br = g->r0 / h * h; st == CS_OK && br < g->r1; br += h) {
        size_t r0 = br > g->r0 ? br : g->r0, r1 = br + h < g->r1 ? br + h : g->r1;
        for (size_t bc = g->c0 / w * w; st == CS_OK && bc < g->c1; bc += w) {
            size_t c0 = bc > g->c0 ? bc : g->c0, c1 = bc + w < g->c1 ? bc + w : g->c1;
            st = read_block(g, r0, c0, r1 - r0, c1 - c0, buf, s);
            if (st != CS_OK || (s->count < STRIP_CELLS && (r1 < g->r1 || c1 < g->c1)))
                continue;
            g->cells += s->count;
            if (s->count > 0 && g->negatives == 0) /* else: errors to say only */
                st = strip(user, p);
            s->count = 0;
        }
    }
    cs_free(buf);
    if (st == CS_OK && g->negatives > 0)
        st = CS_ERR_INPUT;
    if (g->negatives > CS_MESSAGES_PER_LAYER) {
        cs_where where = {.file = g->display};
        cs_error(g->ctx, CS_ERR_INPUT, &where, NULL, "%zu more cells hold counts that are "
                 "negative, not finite or over " CS_MAX_PEOPLE_TEXT,
                 g->negatives - CS_MESSAGES_PER_LAYER);
    }
    return st;
}

cs_status cs_load_population_raster(cs_context *ctx, const cs_config *cfg, cs_study *study,
                                    cs_raw_points *p)
{
    memset(p, 0, sizeof *p);
    const cs_layer_config *lc = &cfg->population;
    cs_raw_surfaces *sf = &p->surfaces;
    sf->raster_path = cs_config_resolve_path(cfg, lc->path);
    if (!sf->raster_path)
        return cs_nomem(ctx);
    GDALDatasetH ds = GDALOpenEx(sf->raster_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL,
                                 NULL, NULL);
    cs_where w = {.file = lc->path};
    if (!ds)
        return cs_error(ctx, CS_ERR_INPUT, &w, "check the path and that GDAL can read it",
                        "cannot open the population grid");
    describe_input(ctx, ds, lc, &p->layer);
    cs_status st = raster_bands(ctx, cfg, study, lc->path, &sf->band_share);
    if (st == CS_OK && GDALGetGeoTransform(ds, sf->gt) != CE_None)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "georeference the grid (e.g. with gdal_translate "
                      "-a_ullr and -a_srs)", "the population grid has no geotransform");
    if (st == CS_OK && !p->layer.srs)
        st = cs_error(ctx, CS_ERR_CRS, &w, "name the grid's CRS with population.crs (e.g. "
                      "EPSG:4326)", "the population grid has no coordinate system");
    sf->kind = CS_SURFACE_CELLS;
    sf->value_count = study->settings.band_count;
    sf->raster_cols = (size_t)GDALGetRasterXSize(ds);
    sf->raster_rows = (size_t)GDALGetRasterYSize(ds);
    if (!p->layer.display || !p->layer.input.role || !p->layer.input.path ||
        !p->layer.input.files)
        st = cs_nomem(ctx);
    GDALClose(ds);
    return st;
}

/* The pixel window [c0, c1) x [r0, r1) covering the box (in the grid's CRS) plus a
 * cell of margin, clamped to the grid; false when they do not meet. */
static bool window_of(const cs_raw_surfaces *sf, const double *box, size_t *c0, size_t *c1,
                      size_t *r0, size_t *r1)
{
    double inv[6];
    if (!GDALInvGeoTransform((double *)sf->gt, inv))
        return false;
    double cmin = INFINITY, cmax = -INFINITY, rmin = INFINITY, rmax = -INFINITY;
    const double xs[4] = {box[0], box[2], box[2], box[0]}, ys[4] = {box[1], box[1], box[3], box[3]};
    for (int k = 0; k < 4; k++) {
        double c = inv[0] + xs[k] * inv[1] + ys[k] * inv[2];
        double r = inv[3] + xs[k] * inv[4] + ys[k] * inv[5];
        cmin = fmin(cmin, c), cmax = fmax(cmax, c), rmin = fmin(rmin, r), rmax = fmax(rmax, r);
    }
    cmin = floor(cmin) - 1, rmin = floor(rmin) - 1, cmax = ceil(cmax) + 1, rmax = ceil(rmax) + 1;
    double nc = (double)sf->raster_cols, nr = (double)sf->raster_rows;
    if (!(cmax > 0 && rmax > 0 && cmin < nc && rmin < nr))
        return false;
    *c0 = cmin > 0 ? (size_t)cmin : 0;
    *r0 = rmin > 0 ? (size_t)rmin : 0;
    *c1 = cmax < nc ? (size_t)cmax : sf->raster_cols;
    *r1 = rmax < nr ? (size_t)rmax : sf->raster_rows;
    return true;
}

cs_status cs_raster_each_strip(cs_context *ctx, cs_raw_points *p, const double *box,
                               double max_cells, cs_raster_strip_fn strip, void *user)
{
    cs_raw_surfaces *sf = &p->surfaces;
    cs_where w = {.file = p->layer.display};
    GDALDatasetH ds = GDALOpenEx(sf->raster_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL,
                                 NULL, NULL);
    if (!ds)
        return cs_error(ctx, CS_ERR_INPUT, &w, "check that the file is still there",
                        "cannot open the population grid");
    size_t c0, c1, r0, r1, cells = 0;
    cs_status st = CS_OK;
    bool meets = window_of(sf, box, &c0, &c1, &r0, &r1);
    if (meets && (double)(c1 - c0) * (double)(r1 - r0) > max_cells) {
        st = cs_error(ctx, CS_ERR_INPUT, &w, "resample the grid to larger cells (e.g. gdalwarp "
                      "-tr) or check its geotransform", "the population grid's window over the "
                      "areas holds %zu x %zu = %.0f cells, more than the %.0f read", c1 - c0,
                      r1 - r0, (double)(c1 - c0) * (double)(r1 - r0), max_cells);
    } else if (meets) {
        grid_reader g = {ctx, GDALGetRasterBand(ds, 1), sf->gt, sf->raster_cols, r0, r1, c0, c1,
                         0, 0, sf->band_share, p->layer.display, 0, 0};
        g.nodata = GDALGetRasterNoDataValue(g.band, &g.has_nodata);
        st = read_grid(&g, p, strip, user);
        cells = g.cells;
    }
    p->layer.input.features = cells;
    if (st == CS_OK && cells == 0)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check the band, its nodata value and that the "
                      "grid covers the areas", "the population grid has no populated cell "
                      "over the study area");
    GDALClose(ds);
    return st;
}
