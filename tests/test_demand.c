/*
 * test_demand.c — population from surfaces: residential blocks spread by area (not
 * piled on their centroid), a hand-made GeoTIFF grid with cells split across streets
 * and cut at the district's edge, and street totals spread over residential land. The
 * expected counts are worked by hand on two 1 km square areas side by side:
 * A0 = [0, 1000] x [0, 1000] and A1 = [1000, 2000] x [0, 1000] (metres from FX_X0/Y0).
 */
#include "fixture.h"
#include "testutil.h"

#include "io/seams.h"
#include "io/study.h"

#include <gdal.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef fx_env env;

/* Two 1 km areas side by side and one facility at the middle of A0; the demand is each
 * test's own. */
static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    fx_alloc(&e->d, 2, 1, 1000, 1, 0);
    e->d.fx[0] = FX_X0 + 500;
    e->d.fy[0] = FX_Y0 + 500;
    e->d.fbeds[0] = 10;
    assert_int_equal(fx_env_open(e, &e->d, NULL), CS_OK);
    *state = e;
    return 0;
}

/* Residents of band b per area (from the demand points). */
static void area_sums(const cs_study *s, size_t b, double sums[2])
{
    sums[0] = sums[1] = 0;
    for (size_t i = 0; i < s->dem.count; i++)
        sums[s->dem.area[i]] += s->dem.pop[i * s->settings.band_count + b];
}

/* A rectangle feature, metres from the fixture's origin. */
static void rect(FILE *f, bool first, double x0, double y0, double x1, double y1,
                 const char *props)
{
    fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]]}}\n",
            first ? "" : ",", props, FX_X0 + x0, FX_Y0 + y0, FX_X0 + x1, FX_Y0 + y0, FX_X0 + x1,
            FX_Y0 + y1, FX_X0 + x0, FX_Y0 + y1, FX_X0 + x0, FX_Y0 + y0);
}

/* ------------------------------------------------------------- polygons */

static void write_blocks(env *e)
{
    char *path = tu_join(e->dir, "blocks.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    /* across the A0/A1 border, 300 m on each side */
    rect(f, true, 700, 300, 1300, 700, "\"pop\":1200,\"pop65\":300");
    /* a quarter outside the district: its people spread by area, as a grid cell's */
    rect(f, false, 1700, 100, 2100, 200, "\"pop\":100,\"pop65\":20");
    /* wholly outside */
    rect(f, false, 3000, 100, 3100, 200, "\"pop\":50,\"pop65\":5");
    fprintf(f, "]}\n");
    fclose(f);
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", "blocks.geojson");
    fx_env_set(e, "population.crs", "EPSG:32651");
    fx_env_set(e, "population.bands.65+", "pop65");
}

static void polygons_spread_by_area(void **state)
{
    env *e = *state;
    write_blocks(e);
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double pop[2], old[2];
    area_sums(s, 0, pop);
    area_sums(s, 1, old);
    /* the first block splits 300:300 m across the border; the second keeps the 300 of
     * its 400 m inside (75 of 100, 15 of 20), the 100 m beyond the edge are left out
     * with the third block and reported */
    assert_true(fabs(pop[0] - 600) < 1e-9);
    assert_true(fabs(pop[1] - 675) < 1e-9);
    assert_true(fabs(old[0] - 150) < 1e-9);
    assert_true(fabs(old[1] - 165) < 1e-9);
    assert_true(fabs(s->dem.dropped_pop - 75) < 1e-9);
    assert_true(tu_has_message(e->ctx, "blocks.geojson", "1 polygon lies partly outside every "
                               "area", "the 25 residents on the parts outside", NULL));
    /* 50 m grid anchored at the areas' corner: 12 x 8 cells, then 6 x 2 inside */
    assert_int_equal(s->dem.count, 96 + 12);
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < 96; i++) {
        assert_true(fabs(s->dem.pop[i * s->settings.band_count] - 12.5) < 1e-9);
        xmin = fmin(xmin, s->dem.x[i] - FX_X0);
        xmax = fmax(xmax, s->dem.x[i] - FX_X0);
    }
    assert_true(fabs(xmin - 725) < 1e-6 && fabs(xmax - 1275) < 1e-6);
    assert_string_equal(s->dem.source, "polygons");
    assert_false(s->dem.estimated);
}

static void polygons_conserve_on_a_coarse_grid(void **state)
{
    env *e = *state;
    write_blocks(e);
    /* a grid not aligned with the blocks: pieces of unequal size, same totals */
    fx_env_set(e, "population.spread_m", "37");
    fx_env_load_ok(e);
    double pop[2];
    area_sums(e->study, 0, pop);
    assert_true(fabs(pop[0] - 600) < 1e-9);
    assert_true(fabs(pop[1] - 675) < 1e-9);
    /* and with no grid: one point per piece (each side of the border) */
    fx_env_set(e, "population.spread_m", "0");
    fx_env_load_ok(e);
    area_sums(e->study, 0, pop);
    assert_true(fabs(pop[0] - 600) < 1e-9);
    assert_int_equal(e->study->dem.count, 3);
}

static void invalid_block_is_repaired(void **state)
{
    env *e = *state;
    char *path = tu_join(e->dir, "bowtie.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    /* a bow tie (self-intersecting) in A0: two triangles of 10,000 m² once repaired */
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
               "\"properties\":{\"pop\":40,\"pop65\":8},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]}}]}\n",
            FX_X0 + 100, FX_Y0 + 100, FX_X0 + 300, FX_Y0 + 300, FX_X0 + 300, FX_Y0 + 100,
            FX_X0 + 100, FX_Y0 + 300, FX_X0 + 100, FX_Y0 + 100);
    fclose(f);
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", "bowtie.geojson");
    fx_env_set(e, "population.crs", "EPSG:32651");
    fx_env_set(e, "population.bands.65+", "pop65");
    fx_env_load_ok(e);
    assert_true(tu_has_message(e->ctx, "bowtie.geojson", "feature 1", "was repaired", NULL));
    double pop[2];
    area_sums(e->study, 0, pop);
    assert_true(fabs(pop[0] - 40) < 1e-9 && pop[1] == 0);
    /* each triangle's points lie in it: below the diagonal pair's crossing at (200,200) */
    for (size_t i = 0; i < e->study->dem.count; i++) {
        double x = e->study->dem.x[i] - FX_X0, y = e->study->dem.y[i] - FX_Y0;
        assert_true(x > 100 && x < 300 && y > 100 && y < 300);
    }
}

/* ------------------------------------------------------ overlaps and gaps */

/* Replace the fixture's areas (A0, A1) with the given features (rect()s). */
static void write_areas(env *e, void (*draw)(FILE *f))
{
    char *path = tu_join(e->dir, "areas.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    draw(f);
    fprintf(f, "]}\n");
    fclose(f);
}

/* A0 = [0, 1000] x [0, 1000] and A1 = [950, 2000] x [0, 1000]: they overlap on
 * [950, 1000] x [0, 1000], 50,000 m². */
static void draw_overlapping(FILE *f)
{
    rect(f, true, 0, 0, 1000, 1000, "\"id\":\"A0\",\"name\":\"A0\"");
    rect(f, false, 950, 0, 2000, 1000, "\"id\":\"A1\",\"name\":\"A1\"");
}

static void draw_blocks(env *e, const char *name, const double (*r)[4], const double *pop,
                        size_t n)
{
    char *path = tu_join(e->dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (size_t i = 0; i < n; i++) {
        char props[64];
        snprintf(props, sizeof props, "\"pop\":%g,\"pop65\":0", pop[i]);
        rect(f, i == 0, r[i][0], r[i][1], r[i][2], r[i][3], props);
    }
    fprintf(f, "]}\n");
    fclose(f);
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", name);
    fx_env_set(e, "population.crs", "EPSG:32651");
    fx_env_set(e, "population.bands.65+", "pop65");
}

/* Residents of blocks in an overlap count once, in the area first in the layer; the
 * overlap is reported with its area and residents. By hand: block 1 ([800, 1000] x
 * [400, 600], 400 people) lies in A0, a quarter of it in the overlap (100); block 2
 * ([900, 1100] x [0, 100], 200 people) has 100 m² x 100 in A0 without the overlap,
 * 50 x 100 in the overlap and 100 x 100 in A1 beyond it: 50 + 50 to A0, 100 to A1. */
static void overlap_counted_once(void **state)
{
    env *e = *state;
    write_areas(e, draw_overlapping);
    const double r[2][4] = {{800, 400, 1000, 600}, {900, 0, 1100, 100}};
    const double pop[2] = {400, 200};
    draw_blocks(e, "blocks.geojson", r, pop, 2);
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double sums[2];
    area_sums(s, 0, sums);
    assert_true(fabs(sums[0] - 500) < 1e-6);
    assert_true(fabs(sums[1] - 100) < 1e-6);
    assert_true(fabs(sums[0] + sums[1] - 600) < 1e-6); /* the district holds what was placed */
    assert_true(fabs(s->dem.dropped_pop) < 1e-6);
    assert_int_equal(s->areas.overlap_count, 1);
    assert_int_equal(s->areas.overlaps[0].a, 0);
    assert_int_equal(s->areas.overlaps[0].b, 1);
    assert_true(fabs(s->areas.overlaps[0].m2 - 50000) < 1e-3);
    assert_true(fabs(s->areas.overlaps[0].residents - 150) < 1e-6);
    /* A1 gave the overlap up: its area is 1,000,000 m², not 1,050,000 */
    assert_true(fabs(s->areas.m2[0] - 1e6) < 1e-3);
    assert_true(fabs(s->areas.m2[1] - 1e6) < 1e-3);
    assert_int_equal(s->areas.gap_count, 0);
    assert_true(tu_has_message(e->ctx, "areas.geojson", "1 overlap between areas", "50,000 m²",
                               "150 residents in them", "A0 / A1", "comes first", NULL));
}

/* A point in an overlap goes to the area that the overlap's spread residents go to,
 * and counts among the overlap's residents. */
static void points_in_overlap_follow_the_rule(void **state)
{
    env *e = *state;
    write_areas(e, draw_overlapping);
    free(tu_write(e->dir, "points.csv", "x,y,pop,pop65\n"
                  "350975,3440500,30,0\n"    /* in the overlap */
                  "351500,3440500,7,0\n"));  /* in A1 only */
    fx_env_set(e, "population.path", "points.csv");
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    assert_int_equal(s->dem.count, 2);
    assert_int_equal(s->dem.area[0], 0);
    assert_int_equal(s->dem.area[1], 1);
    assert_true(fabs(s->areas.overlaps[0].residents - 30) < 1e-9);
    /* a small block around the same point: all of it to the same area */
    const double r[1][4] = {{970, 490, 980, 510}};
    const double pop[1] = {30};
    draw_blocks(e, "small.geojson", r, pop, 1);
    fx_env_load_ok(e);
    double sums[2];
    area_sums(e->study, 0, sums);
    assert_true(fabs(sums[0] - 30) < 1e-9 && sums[1] == 0);
    assert_true(fabs(e->study->areas.overlaps[0].residents - 30) < 1e-9);
}

/* With overlaps and a block across the edge, every allocation of the load fails in
 * turn: each failure is a clean error (ASan checks for leaks). */
/* Loading the study fails cleanly (no leak, an error) at every allocation; returns how
 * many were tried. */
static long every_allocation_failure(env *e)
{
    long n = 0;
    for (;; n++) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        cs_study *s = NULL;
        tu_alloc_fail_after(n);
        cs_status st = cs_study_load(ctx, e->cfg, &s);
        tu_alloc_restore();
        cs_study_destroy(s);
        cs_context_destroy(ctx);
        if (st == CS_OK)
            break;
        /* as in test_alloc: a reader may turn a refused allocation into a bad input */
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_INPUT || st == CS_ERR_INTERNAL);
        assert_true(n < 100000);
    }
    return n;
}

static void seams_survive_every_allocation_failure(void **state)
{
    env *e = *state;
    write_areas(e, draw_overlapping);
    const double r[3][4] = {{800, 400, 1000, 600}, {900, 0, 1100, 100}, {1900, 0, 2100, 100}};
    const double pop[3] = {400, 200, 100};
    draw_blocks(e, "blocks.geojson", r, pop, 3);
    assert_true(every_allocation_failure(e) > 50);
}

/* An area drawn wholly inside an earlier one keeps no ground, with a warning. */
static void draw_nested(FILE *f)
{
    rect(f, true, 0, 0, 1000, 1000, "\"id\":\"A0\",\"name\":\"A0\"");
    rect(f, false, 200, 200, 400, 400, "\"id\":\"A1\",\"name\":\"A1\"");
}

static void area_inside_an_earlier_one(void **state)
{
    env *e = *state;
    write_areas(e, draw_nested);
    const double r[1][4] = {{100, 100, 500, 500}};
    const double pop[1] = {160};
    draw_blocks(e, "blocks.geojson", r, pop, 1);
    fx_env_load_ok(e);
    double sums[2];
    area_sums(e->study, 0, sums);
    assert_true(fabs(sums[0] - 160) < 1e-6 && sums[1] == 0);
    assert_true(e->study->areas.m2[1] < 1);
    assert_true(fabs(e->study->areas.overlaps[0].residents - 40) < 1e-6); /* 200² of 400² */
    assert_true(tu_has_message(e->ctx, "areas.geojson", "A1", "lies wholly within areas before "
                               "it", NULL));
}

/* A0 with a hole [400, 600]^2 that no area fills (a gap of 40,000 m²) and A1 beside it.
 * A block over [500, 700] x [450, 550] (200 people) has half its area in the gap: 100
 * left out, reported as in the gap and in residents_left_out. */
static void draw_gap(FILE *f)
{
    fprintf(f, "{\"type\":\"Feature\",\"properties\":{\"id\":\"A0\",\"name\":\"A0\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.2f,%.2f],[%.2f,%.2f],"
               "[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]],[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],"
               "[%.2f,%.2f],[%.2f,%.2f]]]}}\n",
            FX_X0, FX_Y0, FX_X0 + 1000, FX_Y0, FX_X0 + 1000, FX_Y0 + 1000, FX_X0, FX_Y0 + 1000,
            FX_X0, FX_Y0, FX_X0 + 400, FX_Y0 + 400, FX_X0 + 400, FX_Y0 + 600, FX_X0 + 600,
            FX_Y0 + 600, FX_X0 + 600, FX_Y0 + 400, FX_X0 + 400, FX_Y0 + 400);
    rect(f, false, 1000, 0, 2000, 1000, "\"id\":\"A1\",\"name\":\"A1\"");
}

static void gap_reported_and_left_out(void **state)
{
    env *e = *state;
    write_areas(e, draw_gap);
    const double r[1][4] = {{500, 450, 700, 550}};
    const double pop[1] = {200};
    draw_blocks(e, "blocks.geojson", r, pop, 1);
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double sums[2];
    area_sums(s, 0, sums);
    assert_true(fabs(sums[0] - 100) < 1e-6 && sums[1] == 0);
    assert_true(fabs(s->dem.dropped_pop - 100) < 1e-6);
    assert_int_equal(s->areas.overlap_count, 0);
    assert_int_equal(s->areas.gap_count, 1);
    assert_true(fabs(s->areas.gaps[0].m2 - 40000) < 1e-3);
    assert_true(fabs(s->areas.gaps[0].residents - 100) < 1e-6);
    assert_int_equal(s->areas.gaps[0].a, 0);
    assert_true(tu_has_message(e->ctx, "areas.geojson", "1 gap between areas", "40,000 m²",
                               "100 residents in them left out", "beside A0", NULL));
    /* a point in the gap is outside every area: dropped beyond the tolerance, and
     * counted as in the gap */
    free(tu_write(e->dir, "points.csv",
                  "x,y,pop,pop65\n350500,3440500,12,0\n351500,3440500,7,0\n"));
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", "points.csv");
    fx_env_set(e, "population.crs", "EPSG:32651");
    fx_env_set(e, "population.bands.65+", "pop65");
    fx_env_set(e, "outside_tolerance_m", "10");
    fx_env_load_ok(e);
    assert_int_equal(e->study->dem.count, 1);
    assert_true(fabs(e->study->areas.gaps[0].residents - 12) < 1e-9);
    assert_true(fabs(e->study->dem.dropped_pop - 12) < 1e-9);
}

/* ----------------------------------------------------------------- raster */

/* A 4 x 2 grid of 250 m cells, its top-left corner at (625, 1100): row 0 spans y 850..1100
 * (150 m of it inside the district), row 1 y 600..850; columns start at x 625, 875, 1125,
 * 1375, so column 1 straddles the A0/A1 border at 1000. */
static char *write_grid(env *e, const char *name, const double *v, bool with_crs,
                        bool with_nodata)
{
    char *path = tu_join(e->dir, name);
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = GDALCreate(drv, path, 4, 2, 1, GDT_Float32, NULL);
    double gt[6] = {FX_X0 + 625, 250, 0, FX_Y0 + 1100, 0, -250};
    if (strcmp(name, "nogeo.tif") != 0)
        GDALSetGeoTransform(ds, gt);
    if (with_crs) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(srs, 32651);
        GDALSetSpatialRef(ds, srs);
        OSRDestroySpatialReference(srs);
    }
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    if (with_nodata)
        GDALSetRasterNoDataValue(band, -1);
    float buf[8];
    for (size_t i = 0; i < 8; i++)
        buf[i] = (float)v[i];
    assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, 4, 2, buf, 4, 2, GDT_Float32, 0, 0),
                     CE_None);
    GDALClose(ds);
    return path;
}

static void use_grid(env *e, const char *name)
{
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", name);
    fx_env_set(e, "population.bands.65+.share", "0.2");
}

static void raster_cells_split_and_cut(void **state)
{
    env *e = *state;
    const double v[8] = {10, 20, -1, 40, 0, 60, 30, 5};
    free(write_grid(e, "grid.tif", v, true, true));
    use_grid(e, "grid.tif");
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double pop[2], old[2];
    area_sums(s, 0, pop);
    area_sums(s, 1, old);
    /* row 0 is 60% inside: A0 10*.6 + 20*.5*.6 = 12, A1 20*.5*.6 + 40*.6 = 30;
     * row 1: A0 60/2 = 30, A1 60/2 + 30 + 5 = 65; the nodata and zero cells add nothing */
    assert_true(fabs(pop[0] - 42) < 1e-6);
    assert_true(fabs(pop[1] - 95) < 1e-6);
    assert_true(fabs(old[0] - 8.4) < 1e-6);
    assert_true(fabs(old[1] - 19) < 1e-6);
    assert_true(fabs(s->dem.dropped_pop - 0.4 * 70) < 1e-6);
    /* pieces: row 0 cells 0, 1 (two), 3; row 1 cells 1 (two), 2, 3 */
    assert_int_equal(s->dem.count, 8);
    assert_string_equal(s->dem.source, "grid");
}

/* A grid's cells are read, projected and spread a strip at a time: a failure anywhere
 * in it stops the load with an error and leaves nothing behind. */
static void grid_survives_every_allocation_failure(void **state)
{
    env *e = *state;
    const double v[8] = {10, 20, -1, 40, 0, 60, 30, 5};
    free(write_grid(e, "grid.tif", v, true, true));
    use_grid(e, "grid.tif");
    assert_true(every_allocation_failure(e) > 50);
}

/* A grid of 100 km x 100 km (250 m cells, one resident each) around the two 1 km
 * areas: only the window over the areas is read (a few hundred cells, not 160,000),
 * and the areas get their 32 cells (to rounding: the areas went through WGS84). */
static void large_grid_read_over_the_study_area(void **state)
{
    env *e = *state;
    enum { N = 400 };
    char *path = tu_join(e->dir, "big.tif");
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, N, N, 1, GDT_Float32,
                                 (char *[]){"TILED=YES", NULL});
    double gt[6] = {FX_X0 - 50000, 250, 0, FX_Y0 + 50000, 0, -250};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 32651);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    float *ones = malloc(N * N * sizeof *ones);
    for (size_t i = 0; i < N * N; i++)
        ones[i] = 1;
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, N, N, ones, N, N,
                                  GDT_Float32, 0, 0), CE_None);
    free(ones);
    GDALClose(ds);
    free(path);
    use_grid(e, "big.tif");
    fx_env_load_ok(e);
    double pop[2];
    area_sums(e->study, 0, pop);
    if (!(fabs(pop[0] - 16) < 1e-6 && fabs(pop[1] - 16) < 1e-6))
        fail_msg("areas %.12g %.12g, left out %.12g", pop[0], pop[1], e->study->dem.dropped_pop);
    /* what was read beyond the areas is only the window's margin, said as grid cells */
    assert_true(e->study->dem.dropped_pop > 0 && e->study->dem.dropped_pop < 400);
    assert_true(tu_has_message(e->ctx, "big.tif", "populated grid cells of the window",
                               "wholly outside every area", "residents_left_out", NULL));
    assert_false(tu_has_message(e->ctx, "big.tif", "outside_tolerance_m", NULL));
}

/* A grid study left for careshed shard to read by strips (cs_config_stream_inputs)
 * holds no residents at the load: the overlap is reported with its area, and no count
 * of its residents (not "0 residents in them"). */
static void overlap_of_a_grid_read_later(void **state)
{
    env *e = *state;
    write_areas(e, draw_overlapping);
    const double v[8] = {10, 20, -1, 40, 0, 60, 30, 5};
    free(write_grid(e, "grid.tif", v, true, true));
    use_grid(e, "grid.tif");
    cs_config_stream_inputs(e->cfg);
    fx_env_load_ok(e);
    assert_non_null(e->study->dem.stream);
    assert_int_equal(e->study->areas.overlap_count, 1);
    assert_true(tu_has_message(e->ctx, "areas.geojson", "1 overlap between areas", "50,000 m²",
                               "in all; each overlap counts", "A0 / A1", NULL));
    assert_false(tu_has_message(e->ctx, "residents", NULL));
}

/* A grid stored a row a block, 2.5 m cells over both areas and a 10 m margin (330,000
 * cells: several strips of the reading): every cell's count reaches the area its centre
 * lies in, the margin's are left out, and the points come in the grid's row order. */
static void grid_read_in_strips(void **state)
{
    env *e = *state;
    enum { COLS = 808, ROWS = 408 };
    const double cell = 2.5, left = -10, top = 1010;
    char *path = tu_join(e->dir, "rows.tif");
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, COLS, ROWS, 1,
                                 GDT_Float32, (char *[]){"BLOCKYSIZE=1", NULL});
    double gt[6] = {FX_X0 + left, cell, 0, FX_Y0 + top, 0, -cell};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 32651);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    int bw = 0, bh = 0;
    GDALGetBlockSize(GDALGetRasterBand(ds, 1), &bw, &bh);
    assert_int_equal(bh, 1);
    float *v = malloc(COLS * ROWS * sizeof *v);
    double want[2] = {0, 0}, outside = 0;
    for (size_t r = 0; r < ROWS; r++)
        for (size_t c = 0; c < COLS; c++) {
            v[r * COLS + c] = (float)(1 + (r * 7 + c * 3) % 5);
            double x = left + (c + 0.5) * cell, y = top - (r + 0.5) * cell;
            if (x > 0 && x < 2000 && y > 0 && y < 1000)
                want[x < 1000 ? 0 : 1] += v[r * COLS + c];
            else
                outside += v[r * COLS + c];
        }
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, COLS, ROWS, v, COLS,
                                  ROWS, GDT_Float32, 0, 0), CE_None);
    free(v);
    GDALClose(ds);
    free(path);
    use_grid(e, "rows.tif");
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double pop[2];
    area_sums(s, 0, pop);
    if (!(fabs(pop[0] - want[0]) < 1e-6 && fabs(pop[1] - want[1]) < 1e-6))
        fail_msg("areas %.12g %.12g, expected %.12g %.12g", pop[0], pop[1], want[0], want[1]);
    assert_true(fabs(s->dem.dropped_pop - outside) < 1e-6);
    /* each point (a cell, or a piece of one cut at the areas' edges) in row order */
    long last = -1;
    for (size_t i = 0; i < s->dem.count; i++) {
        long r = (long)floor((FX_Y0 + top - s->dem.y[i]) / cell);
        long c = (long)floor((s->dem.x[i] - FX_X0 - left) / cell);
        long at = r * COLS + c;
        if (at < last)
            fail_msg("point %zu (row %ld, column %ld) comes after a later cell", i, r, c);
        last = at;
    }
    assert_true(s->dem.count >= 800 * 400);
}

static void raster_errors(void **state)
{
    env *e = *state;
    const double bad[8] = {10, -3, 5, 5, 5, 5, 5, 5};
    free(write_grid(e, "negative.tif", bad, true, false));
    use_grid(e, "negative.tif");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "negative.tif", "row 1, column 2", "-3", "nodata", NULL));

    const double ok[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    free(write_grid(e, "nocrs.tif", ok, false, false));
    use_grid(e, "nocrs.tif");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_CRS);
    assert_true(tu_has_message(e->ctx, "nocrs.tif", "no coordinate system", "population.crs",
                               NULL));

    fx_env_set(e, "population.crs", "EPSG:999999");
    assert_int_not_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_OK);
    assert_true(tu_has_message(e->ctx, "nocrs.tif", "EPSG:999999", NULL));

    free(write_grid(e, "nogeo.tif", ok, true, false));
    use_grid(e, "nogeo.tif");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "nogeo.tif", "no geotransform", NULL));

    const double empty[8] = {-1, -1, 0, 0, -1, -1, 0, 0};
    free(write_grid(e, "empty.tif", empty, true, true));
    use_grid(e, "empty.tif");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "empty.tif", "no populated cell", "nodata", NULL));

    free(write_grid(e, "grid.tif", ok, true, false));
    use_grid(e, "grid.tif");
    fx_env_set(e, "population.bands.65+", "pop65");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "population.bands.65+", "share", NULL));
    assert_null(e->study);
}

/* ------------------------------------------------------------ area totals */

static void write_landuse(env *e)
{
    char *path = tu_join(e->dir, "landuse.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    rect(f, true, 0, 0, 1000, 500, "\"landuse\":\"Residential\"");
    rect(f, false, 1000, 0, 2000, 1000, "\"landuse\":\"industrial\"");
    fprintf(f, "]}\n");
    fclose(f);
}

static void use_totals(env *e, const char *csv)
{
    free(tu_write(e->dir, "totals.csv", csv));
    fx_env_set(e, "population", "");
    fx_env_set(e, "population.path", "totals.csv");
    fx_env_set(e, "population.area", "code");
    fx_env_set(e, "population.bands.65+", "pop65");
}

static void totals_spread_over_residential_land(void **state)
{
    env *e = *state;
    write_landuse(e);
    use_totals(e, "code,pop,pop65\nA0,1000,200\nA1,500,100\n");
    fx_env_set(e, "landuse.path", "landuse.geojson");
    fx_env_set(e, "landuse.crs", "EPSG:32651");
    fx_env_load_ok(e);
    const cs_study *s = e->study;
    double pop[2], old[2];
    area_sums(s, 0, pop);
    area_sums(s, 1, old);
    assert_true(fabs(pop[0] - 1000) < 1e-9 && fabs(pop[1] - 500) < 1e-9);
    assert_true(fabs(old[0] - 200) < 1e-9 && fabs(old[1] - 100) < 1e-9);
    size_t in_a0 = 0, in_a1 = 0;
    for (size_t i = 0; i < s->dem.count; i++) {
        if (s->dem.area[i] == 0) {
            in_a0++;
            assert_true(s->dem.y[i] - FX_Y0 < 500); /* only on the residential half */
        } else {
            in_a1++;
        }
    }
    assert_int_equal(in_a0, 20 * 10); /* 50 m cells on the residential half */
    assert_int_equal(in_a1, 20 * 20); /* no residential land: the whole area */
    assert_true(tu_has_message(e->ctx, "区1", "no residential land", NULL));
    assert_true(s->dem.estimated);
    assert_string_equal(s->dem.source, "area totals");
}

static void totals_errors(void **state)
{
    env *e = *state;
    use_totals(e, "code,pop,pop65\nA0,1000,200\nA9,500,100\n");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "totals.csv:3", "'code'", "no area has the id 'A9'",
                               NULL));
    use_totals(e, "code,pop,pop65\nA0,1000,200\nA0,500,100\n");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "already has totals", NULL));
    use_totals(e, "code,pop,pop65\nA0,abc,200\nA1,500,100\n");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "totals.csv", "pop", "abc", NULL));
    /* a land-use layer without its class field */
    write_landuse(e);
    use_totals(e, "code,pop,pop65\nA0,1000,200\nA1,500,100\n");
    fx_env_set(e, "landuse.path", "landuse.geojson");
    fx_env_set(e, "landuse.class", "zoning");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_INPUT);
    assert_true(tu_has_message(e->ctx, "landuse.geojson", "zoning", NULL));
    fx_env_set(e, "landuse", "");
    /* an area without a row counts nobody, with a warning */
    use_totals(e, "code,pop,pop65\nA0,1000,200\n");
    fx_env_load_ok(e);
    assert_true(tu_has_message(e->ctx, "区1", "no population totals", NULL));
}

/* demand-access.csv: with population.id set, each row starts with the point's id (the
 * fixture writes D0, D1, ... in order); without it there is no id column. */
static void demand_ids_in_access_csv(void **state)
{
    (void)state;
    fx_data d;
    fx_alloc(&d, 2, 1, 1000, 1, 3);
    d.fx[0] = FX_X0 + 500;
    d.fy[0] = FX_Y0 + 500;
    d.fbeds[0] = 10;
    for (size_t i = 0; i < 3; i++) {
        d.px[i] = FX_X0 + 300 + 600 * (double)i;
        d.py[i] = FX_Y0 + 400;
        d.pop[i] = 100;
        d.pop65[i] = 20;
    }
    for (int with_id = 1; with_id >= 0; with_id--) {
        fx_env e = {0};
        assert_int_equal(fx_env_open(&e, &d, NULL), CS_OK);
        fx_env_set(&e, "kinds.a.load_capacity", "beds");
        if (with_id)
            fx_env_set(&e, "population.id", "id");
        cs_status st = fx_env_run(&e);
        char *out = tu_join(e.dir, with_id ? "with" : "without");
        if (st == CS_OK)
            st = cs_result_write(e.ctx, e.study, e.result, out);
        if (st != CS_OK)
            tu_dump_messages(e.ctx);
        assert_int_equal(st, CS_OK);
        char *path = tu_join(out, "demand-access.csv");
        char *text = tu_read(path, NULL);
        assert_non_null(text);
        if (with_id) {
            assert_true(!strncmp(text, "\xEF\xBB\xBF" "demand_no,demand_id,lon,lat,area_id,", 38));
            assert_non_null(strstr(text, "\r\n1,D0,"));
            assert_non_null(strstr(text, "\r\n2,D1,"));
            assert_non_null(strstr(text, "\r\n3,D2,"));
        } else {
            assert_true(!strncmp(text, "\xEF\xBB\xBF" "demand_no,lon,lat,area_id,", 29));
            assert_null(strstr(text, "D0"));
        }
        free(text);
        free(path);
        free(out);
        fx_env_close(&e);
    }
    /* population.year: rows of 2020 and 2024 interleaved; the study's demand is 2024's
     * and the view of 2021 is 2020's, each row with its own id */
    fx_env e = {0};
    assert_int_equal(fx_env_open(&e, &d, NULL), CS_OK);
    fx_env_write(&e, "population.csv",
                 "x,y,pop,pop65,id,year\n"
                 "350300,3440400,100,20,OLD1,2020\n"
                 "350900,3440400,100,20,NEW1,2024\n"
                 "351500,3440400,100,20,OLD2,2020\n"
                 "350600,3440400,100,20,NEW2,2024\n");
    cs_study *v = NULL;
    cs_result *rv = NULL;
    fx_env_set(&e, "kinds.a.load_capacity", "beds");
    fx_env_set(&e, "population.id", "id");
    fx_env_set(&e, "population.year", "year");
    cs_status st = fx_env_run(&e);
    if (st == CS_OK)
        st = cs_study_in_year(e.ctx, e.study, 2021, &v);
    if (st == CS_OK)
        st = cs_run(e.ctx, v, &rv);
    char *now = tu_join(e.dir, "now"), *then = tu_join(e.dir, "then");
    if (st == CS_OK)
        st = cs_result_write(e.ctx, e.study, e.result, now);
    if (st == CS_OK)
        st = cs_result_write(e.ctx, v, rv, then);
    if (st != CS_OK)
        tu_dump_messages(e.ctx);
    assert_int_equal(st, CS_OK);
    const char *want[2][2] = {{"NEW1", "NEW2"}, {"OLD1", "OLD2"}};
    for (int y = 0; y < 2; y++) {
        char *path = tu_join(y ? then : now, "demand-access.csv");
        char *text = tu_read(path, NULL), *p1, *p2;
        assert_non_null(text);
        /* each id with its own x: NEW1 350900 is east of NEW2 350600, OLD2 of OLD1 */
        assert_non_null(p1 = strstr(text, want[y][0]));
        assert_non_null(p2 = strstr(text, want[y][1]));
        assert_null(strstr(text, want[1 - y][0]));
        assert_null(strstr(text, want[1 - y][1]));
        double lon1 = strtod(p1 + 5, NULL), lon2 = strtod(p2 + 5, NULL);
        assert_true(y ? lon1 < lon2 : lon1 > lon2);
        free(text);
        free(path);
    }
    free(now);
    free(then);
    cs_result_destroy(rv);
    cs_study_destroy(v);
    fx_env_close(&e);
    fx_free(&d);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, fx_env_teardown)
    const struct CMUnitTest tests[] = {
        T(polygons_spread_by_area),
        T(polygons_conserve_on_a_coarse_grid),
        T(invalid_block_is_repaired),
        T(overlap_counted_once),
        T(overlap_of_a_grid_read_later),
        T(points_in_overlap_follow_the_rule),
        T(gap_reported_and_left_out),
        T(area_inside_an_earlier_one),
        T(seams_survive_every_allocation_failure),
        T(raster_cells_split_and_cut),
        T(grid_survives_every_allocation_failure),
        T(large_grid_read_over_the_study_area),
        T(grid_read_in_strips),
        T(raster_errors),
        T(totals_spread_over_residential_land),
        T(totals_errors),
        cmocka_unit_test(demand_ids_in_access_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
