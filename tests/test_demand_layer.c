/*
 * test_demand_layer.c — the per-resident demand layer (issue 15, item 4): demand.fgb,
 * FlatGeobuf written by careshed's own writer, read back by GDAL (which verifies every
 * FlatBuffers table it reads). Each point's nearest facility, cost and cover are
 * checked against a brute force over the fixture's coordinates (straight line in the
 * working CRS, 80 m a minute), its position against PROJ's own transform, and the
 * spatial index against a scan of every point; then nulls (a kind without
 * facilities), output.demand: false, output.demand_csv and a single point.
 */
#include "testutil.h"

#include "fixture.h"
#include "out/fgb.h"
#include "out/out.h"

#include <cpl_vsi.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double thresholds_m[3] = {400, 800, 1200};

static GDALDatasetH open_layer(const char *out, const char *name, OGRLayerH *layer)
{
    char *path = tu_join(out, name);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    free(path);
    assert_non_null(ds);
    *layer = GDALDatasetGetLayer(ds, 0);
    assert_non_null(*layer);
    return ds;
}

static int field(OGRLayerH l, const char *name, OGRFieldType type, OGRFieldSubType sub)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    int i = OGR_FD_GetFieldIndex(defn, name);
    if (i < 0)
        fail_msg("demand.fgb has no column %s", name);
    OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
    assert_int_equal(OGR_Fld_GetType(fd), type);
    assert_int_equal(OGR_Fld_GetSubType(fd), sub);
    return i;
}

/* The nearest facility of kind k to point i by brute force: its index, *d its distance;
 * -1 when the kind has none. */
static long nearest(const fx_data *d, int k, size_t i, double *dist)
{
    long best = -1;
    *dist = INFINITY;
    for (size_t f = 0; f < d->nfac; f++) {
        if (d->fkind[f] != k)
            continue;
        double t = hypot(d->fx[f] - d->px[i], d->fy[f] - d->py[i]);
        if (t < *dist) {
            *dist = t;
            best = (long)f;
        }
    }
    return best;
}

/* Point i's columns of kind k ("a" or "b") against the brute force. */
static void check_kind(OGRLayerH l, OGRFeatureH f, const fx_data *d, int k, size_t i)
{
    char name[64];
    const char *kid = k ? "b" : "a";
    double dist;
    long want = nearest(d, k, i, &dist);
    snprintf(name, sizeof name, "%s_nearest", kid);
    int fi = field(l, name, OFTString, OFSTNone);
    snprintf(name, sizeof name, "%s_metres", kid);
    int fm = field(l, name, OFTReal, OFSTNone);
    snprintf(name, sizeof name, "%s_minutes", kid);
    int fmin = field(l, name, OFTReal, OFSTNone);
    if (want < 0) {
        assert_false(OGR_F_IsFieldSetAndNotNull(f, fi));
        assert_false(OGR_F_IsFieldSetAndNotNull(f, fm));
        assert_false(OGR_F_IsFieldSetAndNotNull(f, fmin));
    } else {
        char id[32];
        snprintf(id, sizeof id, "F%ld", want);
        assert_string_equal(OGR_F_GetFieldAsString(f, fi), id);
        assert_true(fabs(OGR_F_GetFieldAsDouble(f, fm) - dist) <= 0.051);
        assert_true(fabs(OGR_F_GetFieldAsDouble(f, fmin) - dist / FX_M_PER_MIN) <= 0.0051);
    }
    for (size_t j = 0; j < 3; j++) {
        snprintf(name, sizeof name, "%s_within_%dmin", kid, 5 * (int)(j + 1));
        int fw = field(l, name, OFTInteger, OFSTBoolean);
        if (fabs(dist - thresholds_m[j]) > 0.01)
            assert_int_equal(OGR_F_GetFieldAsInteger(f, fw), dist <= thresholds_m[j]);
    }
}

/* Every feature against the fixture; returns how many there were. */
static size_t check_features(OGRLayerH l, const fx_data *d, bool with_b)
{
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL), wgs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(utm, 32651);
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(utm, wgs);
    int fno = field(l, "demand_no", OFTInteger64, OFSTNone);
    int fid = field(l, "demand_id", OFTString, OFSTNone);
    int farea = field(l, "area_id", OFTString, OFSTNone);
    int fpop = field(l, "pop_total", OFTReal, OFSTNone);
    int fpop65 = field(l, "pop_a65p", OFTReal, OFSTNone);
    size_t count = 0;
    bool *seen = calloc(d->npop, 1);
    OGR_L_ResetReading(l);
    for (OGRFeatureH f; (f = OGR_L_GetNextFeature(l)); OGR_F_Destroy(f), count++) {
        long long no = OGR_F_GetFieldAsInteger64(f, fno);
        assert_true(no >= 1 && no <= (long long)d->npop);
        size_t i = (size_t)(no - 1);
        assert_false(seen[i]);
        seen[i] = true;
        char want[32];
        snprintf(want, sizeof want, "D%zu", i);
        assert_string_equal(OGR_F_GetFieldAsString(f, fid), want);
        snprintf(want, sizeof want, "A%ld", fx_area_of(d, d->px[i], d->py[i]));
        assert_string_equal(OGR_F_GetFieldAsString(f, farea), want);
        assert_true(OGR_F_GetFieldAsDouble(f, fpop) == d->pop[i]);
        assert_true(OGR_F_GetFieldAsDouble(f, fpop65) == d->pop65[i]);
        double x = d->px[i], y = d->py[i];
        assert_true(OCTTransform(ct, 1, &x, &y, NULL));
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_non_null(g);
        assert_true(fabs(OGR_G_GetX(g, 0) - x) < 1e-9 && fabs(OGR_G_GetY(g, 0) - y) < 1e-9);
        check_kind(l, f, d, 0, i);
        if (with_b)
            check_kind(l, f, d, 1, i);
    }
    free(seen);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(wgs);
    return count;
}

/* The spatial index: a box's features through the index equal a scan of all points. */
static void check_index(OGRLayerH l, double x0, double y0, double x1, double y1)
{
    size_t scanned = 0, filtered = 0;
    OGR_L_SetSpatialFilter(l, NULL);
    OGR_L_ResetReading(l);
    for (OGRFeatureH f; (f = OGR_L_GetNextFeature(l)); OGR_F_Destroy(f)) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        double x = OGR_G_GetX(g, 0), y = OGR_G_GetY(g, 0);
        scanned += x >= x0 && x <= x1 && y >= y0 && y <= y1;
    }
    OGR_L_SetSpatialFilterRect(l, x0, y0, x1, y1);
    OGR_L_ResetReading(l);
    for (OGRFeatureH f; (f = OGR_L_GetNextFeature(l)); OGR_F_Destroy(f))
        filtered++;
    OGR_L_SetSpatialFilter(l, NULL);
    assert_int_equal(filtered, scanned);
}

static void layer_matches_brute_force(void **state)
{
    (void)state;
    fx_env e = {0};
    fx_random(&e.d, 7, 3, 2, 1000, 14, 700);
    assert_int_equal(fx_env_open(&e, &e.d, NULL), CS_OK);
    fx_env_set(&e, "population.id", "id");
    fx_env_set(&e, "kinds.a.load_capacity", "beds");
    char *out = fx_env_run_and_write(&e);
    OGRLayerH l;
    GDALDatasetH ds = open_layer(out, "demand.fgb", &l);
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), 700);
    assert_int_equal(wkbFlatten(OGR_L_GetGeomType(l)), wkbPoint);
    field(l, "a_access", OFTReal, OFSTNone);
    assert_int_equal(check_features(l, &e.d, true), 700);
    /* boxes across the grid, in degrees around its cells (~121.45 E, 31.09 N) */
    OGREnvelope env;
    assert_int_equal(OGR_L_GetExtent(l, &env, TRUE), OGRERR_NONE);
    for (int q = 0; q < 6; q++) {
        double fx0 = 0.17 * q, fy0 = 0.11 * q;
        double w = env.MaxX - env.MinX, h = env.MaxY - env.MinY;
        check_index(l, env.MinX + fx0 * w, env.MinY + fy0 * h, env.MinX + (fx0 + 0.3) * w,
                    env.MinY + (fy0 + 0.45) * h);
    }
    GDALClose(ds);
    free(out);
    fx_env_close(&e);
}

/* Kind b without facilities: its nearest and costs are null and nothing is within;
 * output.demand_csv writes the same rows as CSV; output.demand: false writes no layer. */
static void nulls_csv_and_switches(void **state)
{
    (void)state;
    fx_env e = {0};
    fx_random(&e.d, 3, 2, 2, 1000, 6, 150);
    for (size_t f = 0; f < e.d.nfac; f++)
        e.d.fkind[f] = 0;
    assert_int_equal(fx_env_open(&e, &e.d, NULL), CS_OK);
    fx_env_set(&e, "population.id", "id");
    fx_env_set(&e, "output.demand_csv", "true");
    char *out = fx_env_run_and_write(&e);
    OGRLayerH l;
    GDALDatasetH ds = open_layer(out, "demand.fgb", &l);
    assert_int_equal(check_features(l, &e.d, true), 150);
    GDALClose(ds);
    /* the CSV: the same columns after lon, lat, one row per point in the run's order */
    char *path = tu_join(out, "demand.csv");
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    assert_true(!strncmp(text, "\xEF\xBB\xBF" "lon,lat,demand_no,demand_id,area_id,", 38));
    size_t rows = 0;
    for (char *p = strstr(text, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n"))
        rows++;
    assert_int_equal(rows, 150);
    /* the first row: point D0, nearest a-facility by brute force, b empty */
    double dist;
    long f0 = nearest(&e.d, 0, 0, &dist);
    char want[128];
    snprintf(want, sizeof want, ",1,D0,A%ld,", fx_area_of(&e.d, e.d.px[0], e.d.py[0]));
    char *row = strstr(text, "\r\n") + 2;
    assert_non_null(strstr(row, want));
    snprintf(want, sizeof want, ",F%ld,%.2f,%.1f,", f0, dist / FX_M_PER_MIN, dist);
    assert_true(strstr(row, want) && strstr(row, want) < strstr(row, "\r\n"));
    assert_non_null(strstr(row, ",,,,false,false,false"));
    free(text);
    free(path);
    free(out);
    /* output.demand: false */
    fx_env_set(&e, "output.demand", "false");
    fx_env_set(&e, "output.demand_csv", "false");
    out = fx_env_run_and_write(&e);
    path = tu_join(out, "demand.fgb");
    assert_false(tu_exists(path));
    free(path);
    path = tu_join(out, "demand.csv");
    assert_false(tu_exists(path));
    free(path);
    free(out);
    fx_env_close(&e);
}

/* One demand point: the index has a root above its one leaf, as FlatGeobuf's own
 * writer makes it, and GDAL finds the point through it. */
static void one_point(void **state)
{
    (void)state;
    fx_env e = {0};
    fx_random(&e.d, 11, 1, 1, 1000, 3, 1);
    assert_int_equal(fx_env_open(&e, &e.d, NULL), CS_OK);
    fx_env_set(&e, "population.id", "id");
    char *out = fx_env_run_and_write(&e);
    OGRLayerH l;
    GDALDatasetH ds = open_layer(out, "demand.fgb", &l);
    assert_int_equal(check_features(l, &e.d, true), 1);
    OGREnvelope env;
    assert_int_equal(OGR_L_GetExtent(l, &env, TRUE), OGRERR_NONE);
    check_index(l, env.MinX - 1e-4, env.MinY - 1e-4, env.MaxX + 1e-4, env.MaxY + 1e-4);
    check_index(l, env.MaxX + 1e-4, env.MaxY + 1e-4, env.MaxX + 1e-3, env.MaxY + 1e-3);
    GDALClose(ds);
    free(out);
    fx_env_close(&e);
}

/* The Hilbert curve's index of (x, y) on a 65536 grid, by the classic loop (xy2d). */
static uint64_t xy2d(uint32_t x, uint32_t y)
{
    const uint32_t n = 65536;
    uint64_t d = 0;
    for (uint32_t s = n / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += (uint64_t)s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

typedef struct keyed {
    uint64_t key;
    size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* The features' order is the points' along the classic Hilbert curve over their
 * envelope cut into 65536 x 65536 cells (ties by the points' order), as sorted here:
 * scattered points, clusters sharing cells, the envelope's corners, and points all on
 * one meridian (an envelope of no width). The scattered ones' index (5 MB, written in
 * two pieces) finds through GDAL what a scan finds. */
static void order_is_the_classic_hilbert_curve(void **state)
{
    (void)state;
    enum { N = 120000 };
    double *lon = malloc(N * sizeof *lon), *lat = malloc(N * sizeof *lat);
    keyed *want = malloc(N * sizeof *want);
    cs_fgb_value *values = calloc(N, sizeof *values);
    assert_true(lon && lat && want && values);
    uint64_t rng = 11;
    char name[] = "n";
    cs_fgb_column col = {name, CS_FGB_LONG};
    for (int flat = 0; flat < 2; flat++) {
        for (size_t i = 0; i < N; i++) {
            double u = tu_rng_unit(&rng), v = tu_rng_unit(&rng);
            if (i % 5 == 0) { /* clustered: many in one cell */
                u = 0.25 + 1e-7 * (double)(i % 3);
                v = 0.75;
            }
            lon[i] = flat ? 121.5 : 121 + u;
            lat[i] = 31 + v;
            values[i].number = (double)i;
        }
        lon[1] = flat ? 121.5 : 120.9, lat[1] = 30.9; /* the envelope's corners */
        lon[2] = flat ? 121.5 : 122.1, lat[2] = 32.1;
        double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
        for (size_t i = 0; i < N; i++) {
            x0 = fmin(x0, lon[i]), y0 = fmin(y0, lat[i]);
            x1 = fmax(x1, lon[i]), y1 = fmax(y1, lat[i]);
        }
        for (size_t i = 0; i < N; i++) {
            double fx = x1 > x0 ? (lon[i] - x0) / (x1 - x0) : 0;
            double fy = y1 > y0 ? (lat[i] - y0) / (y1 - y0) : 0;
            want[i] = (keyed){xy2d((uint32_t)(fx * 65535), (uint32_t)(fy * 65535)), i};
        }
        qsort(want, N, sizeof *want, by_key);
        cs_buf out;
        cs_buf_init(&out);
        cs_fgb *w = cs_fgb_begin(cs_fgb_to_buf, &out, "t", &col, 1, lon, lat, N, 2);
        assert_non_null(w);
        const size_t *order = cs_fgb_order(w);
        for (size_t r = 0; r < N; r++)
            if (order[r] != want[r].i)
                fail_msg("%s: feature %zu is point %zu, not %zu", flat ? "flat" : "scattered", r,
                         order[r], want[r].i);
        for (size_t r = 0; r < N; r++)
            values[r].number = (double)order[r];
        cs_fgb_features(w, order, N, values, N);
        assert_int_equal(cs_fgb_end(w), CS_OK);
        if (!flat) {
            VSIFCloseL(VSIFileFromMemBuffer("/vsimem/order.fgb", (GByte *)out.data, out.len,
                                            FALSE));
            GDALDatasetH ds = GDALOpenEx("/vsimem/order.fgb", GDAL_OF_VECTOR, NULL, NULL, NULL);
            assert_non_null(ds);
            OGRLayerH l = GDALDatasetGetLayer(ds, 0);
            assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), N);
            check_index(l, 121.2, 31.1, 121.3, 31.8);
            check_index(l, 120.8, 31.7, 121.26, 31.76);
            GDALClose(ds);
            VSIUnlink("/vsimem/order.fgb");
        }
        cs_buf_free(&out);
    }
    free(lon);
    free(lat);
    free(want);
    free(values);
}

/* A sink into a buffer that also changes the writer's thread count at every piece, as
 * the run does when it stops building layers and waits for the file. */
typedef struct switching_sink {
    cs_buf *out;
    atomic_int *threads;
} switching_sink;

static bool switch_threads(void *user, const void *data, size_t len, uint64_t offset)
{
    switching_sink *s = user;
    atomic_store(s->threads, atomic_load(s->threads) == 1 ? 2 : 1);
    return cs_fgb_to_buf(s->out, data, len, offset);
}

/* The demand layer's bytes do not depend on its threads, even when their number
 * changes between blocks (20,000 points: three blocks). */
static void bytes_do_not_depend_on_threads(void **state)
{
    (void)state;
    fx_env e = {0};
    fx_random(&e.d, 9, 4, 3, 1000, 12, 20000);
    assert_int_equal(fx_env_open(&e, &e.d, NULL), CS_OK);
    fx_env_run_ok(&e);
    const cs_demand *dem = &e.study->dem;
    cs_buf one, switching;
    cs_buf_init(&one);
    cs_buf_init(&switching);
    atomic_int threads;
    atomic_init(&threads, 1);
    assert_int_equal(cs_out_demand_fgb(e.result, dem->x, dem->y, &threads, cs_fgb_to_buf, &one),
                     CS_OK);
    switching_sink s = {&switching, &threads};
    atomic_store(&threads, 2);
    assert_int_equal(cs_out_demand_fgb(e.result, dem->x, dem->y, &threads, switch_threads, &s),
                     CS_OK);
    assert_true(one.len > 20000 * 100);
    assert_int_equal(switching.len, one.len);
    assert_memory_equal(switching.data, one.data, one.len);
    cs_buf_free(&one);
    cs_buf_free(&switching);
    fx_env_close(&e);
}

/* The writer refuses features out of the index's order, or too few of them, as an
 * internal error rather than a file GDAL would misread. */
static void features_out_of_order_are_refused(void **state)
{
    (void)state;
    const double lon[3] = {121.1, 121.5, 121.3}, lat[3] = {31.0, 31.4, 31.2};
    char name[] = "n";
    cs_fgb_column col = {name, CS_FGB_LONG};
    for (int wrong = 0; wrong < 2; wrong++) {
        cs_buf out;
        cs_buf_init(&out);
        cs_fgb *w = cs_fgb_begin(cs_fgb_to_buf, &out, "t", &col, 1, lon, lat, 3, 1);
        assert_non_null(w);
        const size_t *order = cs_fgb_order(w);
        size_t rows[3] = {order[0], order[1], order[2]};
        cs_fgb_value values[3] = {{.number = 1}, {.number = 2}, {.number = 3}};
        if (wrong == 0) { /* two swapped */
            size_t t = rows[0];
            rows[0] = rows[1];
            rows[1] = t;
        }
        cs_fgb_features(w, rows, wrong == 0 ? 3 : 2, values, 3); /* or one too few */
        assert_int_equal(cs_fgb_end(w), CS_ERR_INTERNAL);
        cs_buf_free(&out);
    }
}

/* A sink that takes `left` pieces, then refuses: counts the calls. */
typedef struct failing_sink {
    int left, calls;
} failing_sink;

static bool refuse_after(void *user, const void *data, size_t len, uint64_t offset)
{
    (void)data, (void)len, (void)offset;
    failing_sink *f = user;
    f->calls++;
    return f->left-- > 0;
}

/* A sink that fails, at the first block, a later one or the header: CS_ERR_OUTPUT,
 * and the writer stops giving it pieces. */
static void failing_sink_stops_the_writer(void **state)
{
    (void)state;
    enum { N = 3 };
    const double lon[N] = {121.1, 121.5, 121.3}, lat[N] = {31.0, 31.4, 31.2};
    char name[] = "n";
    cs_fgb_column col = {name, CS_FGB_LONG};
    cs_fgb_value values[N] = {{.number = 1}, {.number = 2}, {.number = 3}};
    /* three pieces when all goes well: two blocks of features, then the header */
    for (int left = 0; left <= 3; left++) {
        failing_sink f = {left, 0};
        cs_fgb *w = cs_fgb_begin(refuse_after, &f, "t", &col, 1, lon, lat, N, 1);
        assert_non_null(w);
        const size_t *order = cs_fgb_order(w);
        size_t rows[N] = {order[0], order[1], order[2]};
        cs_fgb_features(w, rows, 2, values, N);
        cs_fgb_features(w, rows + 2, 1, values + 2, N);
        assert_int_equal(cs_fgb_end(w), left < 3 ? CS_ERR_OUTPUT : CS_OK);
        assert_int_equal(f.calls, left < 3 ? left + 1 : 3);
    }
}

int main(void)
{
    GDALAllRegister();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layer_matches_brute_force),
        cmocka_unit_test(nulls_csv_and_switches),
        cmocka_unit_test(one_point),
        cmocka_unit_test(order_is_the_classic_hilbert_curve),
        cmocka_unit_test(bytes_do_not_depend_on_threads),
        cmocka_unit_test(failing_sink_stops_the_writer),
        cmocka_unit_test(features_out_of_order_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
