/*
 * test_network.c — network mode end to end: a river crossed by one bridge (straight
 * line covers, the network does not), both measures side by side, network service
 * areas checked against a brute-force search (no polygon point farther than the budget
 * plus the access width along the network), catchments and load ratios worked by
 * hand, and bad network settings and inputs.
 *
 * Studies are in UTM 51N with the working CRS the same (see fixture.h: 80 m/min, so
 * 5/10/15 minutes are 400/800/1200 m); the network is written in the same CRS.
 */
#include "fixture.h"
#include "testutil.h"

#include "cover/cover.h"
#include "geom/geom.h"
#include "io/config.h"

#include <geos_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Lines given as (x, y) pairs relative to the fixture origin; a NAN x ends a line. */
static void write_network(const char *dir, const double *xy, size_t n, const char *highway)
{
    char *path = tu_join(dir, "network.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    bool open = false, first = true;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (isnan(x)) {
            fprintf(f, "]}}\n");
            open = false;
            continue;
        }
        if (!open) {
            fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"highway\":\"%s\"},"
                       "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[",
                    first ? "" : ",", highway);
            first = false;
            open = true;
        } else {
            fprintf(f, ",");
        }
        fprintf(f, "[%.3f,%.3f]", FX_X0 + x, FX_Y0 + y);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

/* Load the study in dir (written with fx_write; dir is taken) and run it; expect_load is
 * the status the load must give (the run happens only when it is CS_OK). */
static void start(fx_env *R, char *dir, const fx_data *d, const char *yaml,
                  cs_status expect_load)
{
    memset(R, 0, sizeof *R);
    R->dir = dir;
    cs_status st = fx_env_open(R, d, yaml);
    if (st == CS_OK)
        st = fx_env_load(R);
    if (st != expect_load)
        tu_dump_messages(R->ctx);
    assert_int_equal(st, expect_load);
    if (st == CS_OK) {
        st = cs_run(R->ctx, R->study, &R->result);
        if (st != CS_OK)
            tu_dump_messages(R->ctx);
        assert_int_equal(st, CS_OK);
    }
}

/* ----------------------------------------------------- a river, one bridge */

/*
 * Two 2000 m cells side by side; a river runs north-south along x = 2000 between them.
 * Streets: y = 1000 on each bank (stopping 100 m short of the river), x = 1900 on the
 * west bank and x = 2100 on the east bank, and one bridge at y = 1900.
 * Facility F (kind a) at (1800, 1000); resident W at (1100, 1000) (100 people), E at
 * (2300, 1000) (300 people).
 * By hand: straight F-W 700 m, F-E 500 m: both within 10 minutes (800 m).
 * Along the network: F-W 700 m; F-E 100 (to the corner) + 900 (north) + 200 (bridge)
 * + 900 (south) + 200 (east) = 2300 m, beyond 15 minutes (1200 m).
 */
static const double river_streets[] = {
    100, 1000, 1900, 1000, NAN, 0,   /* west street */
    2100, 1000, 3900, 1000, NAN, 0,  /* east street */
    1900, 100, 1900, 1000, 1900, 1900, NAN, 0, /* west bank */
    2100, 100, 2100, 1000, 2100, 1900, NAN, 0, /* east bank */
    1900, 1900, 2100, 1900, NAN, 0,  /* the bridge */
};

static void river_data(fx_data *d)
{
    fx_alloc(d, 2, 1, 2000, 1, 2);
    d->fx[0] = FX_X0 + 1800;
    d->fy[0] = FX_Y0 + 1000;
    d->fbeds[0] = 40;
    d->px[0] = FX_X0 + 1100;
    d->py[0] = FX_Y0 + 1000;
    d->pop[0] = 100;
    d->pop65[0] = 20;
    d->px[1] = FX_X0 + 2300;
    d->py[1] = FX_Y0 + 1000;
    d->pop[1] = 300;
    d->pop65[1] = 60;
}

static const char river_yaml[] =
    "network: {path: network.geojson, crs: EPSG:32651}\n"
    "measure: both\n";

/* The river's study, loaded and run. */
static void start_river(fx_env *R, const fx_data *d)
{
    char *dir = tu_mkdtemp();
    write_network(dir, river_streets, sizeof river_streets / sizeof(double) / 2, "residential");
    start(R, dir, d, river_yaml, CS_OK);
}

static void river_with_one_bridge(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    fx_env R;
    start_river(&R, &d);
    assert_true(cs_study_has_network(R.study));
    assert_true(cs_study_kind_measured(R.study, 0, CS_MEASURE_STRAIGHT));
    assert_true(cs_study_kind_measured(R.study, 0, CS_MEASURE_NETWORK));

    /* the cost fields, worked by hand */
    double dist[2];
    long near[2];
    assert_int_equal(cs_cost_field_compute(R.ctx, R.study, 0, dist, near), CS_OK);
    assert_true(fabs(dist[0] - 700) < 1e-6 && fabs(dist[1] - 500) < 1e-6);
    assert_int_equal(cs_network_cost_field_compute(R.ctx, R.study, 0, dist, near), CS_OK);
    assert_true(fabs(dist[0] - 700) < 1e-6);
    assert_true(isinf(dist[1]) && near[1] == -1); /* 2300 m: beyond the 1200 m budget */
    assert_int_equal(near[0], 0);

    /* straight: everyone within 10 and 15 minutes; on foot: only W (100 of 400) */
    cs_coverage c;
    assert_int_equal(cs_result_coverage_by(R.result, CS_MEASURE_STRAIGHT, 0, 2, 0, CS_DISTRICT,
                                           &c), CS_OK);
    assert_true(c.covered == 400 && c.total == 400);
    assert_int_equal(cs_result_coverage_by(R.result, CS_MEASURE_NETWORK, 0, 2, 0, CS_DISTRICT,
                                           &c), CS_OK);
    assert_true(c.covered == 100 && c.total == 400);
    /* the main figure is the network's */
    assert_int_equal(cs_result_coverage(R.result, 0, 2, 0, CS_DISTRICT, &c), CS_OK);
    assert_true(c.covered == 100);
    /* the east cell (area 1): straight 300 of 300, on foot none */
    assert_int_equal(cs_result_coverage_by(R.result, CS_MEASURE_STRAIGHT, 0, 1, 0, 1, &c), CS_OK);
    assert_true(c.covered == 300);
    assert_int_equal(cs_result_coverage_by(R.result, CS_MEASURE_NETWORK, 0, 1, 0, 1, &c), CS_OK);
    assert_true(c.covered == 0);

    cs_network_report n;
    assert_int_equal(cs_result_network(R.result, &n), CS_OK);
    assert_int_equal(n.components, 1);
    if (fabs(n.length_km - 7.4) >= 1e-6) /* 4 x 1.8 + 0.2 */
        fail_msg("network length %.9f km, want 7.4", n.length_km); /* 1.8 + 1.8 + 1.8 + 1.8 + 0.2 */
    assert_int_equal(n.demand_off, 0);

    /* the 15-minute network area stops at the bridge's east end: E is not inside */
    cs_lines lines[2 * CS_MAX_THRESHOLDS];
    cs_rings *polys[2 * CS_MAX_THRESHOLDS];
    assert_int_equal(cs_cover_network_areas(R.ctx, R.result, lines, polys), CS_OK);
    cs_area_index *ix = NULL;
    /* each polygon is an "area" of the rings: locate() says whether a point is inside */
    assert_non_null(polys[2]);
    assert_int_equal(cs_area_index_create(polys[2], &ix), CS_OK);
    assert_true(cs_area_index_locate(ix, FX_X0 + 2300, FX_Y0 + 1000) < 0);
    assert_true(cs_area_index_locate(ix, FX_X0 + 1100, FX_Y0 + 1000) >= 0);
    assert_true(cs_area_index_locate(ix, FX_X0 + 2130, FX_Y0 + 1900) >= 0); /* past the bridge */
    cs_area_index_destroy(ix);
    for (size_t i = 0; i < 2 * CS_MAX_THRESHOLDS; i++) {
        cs_lines_free(&lines[i]);
        cs_rings_destroy(polys[i]);
    }
    fx_env_close(&R);
    fx_free(&d);
}

/* Service circles are drawn for the kinds asked for only (a kind measured along the
 * network alone has none to show): the river's facility, its first threshold's circle
 * wholly inside the district, so of area pi r^2 (traced with straight sides: within
 * 0.5%). */
static void circles_of_the_kinds_asked_for(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    fx_env R;
    start_river(&R, &d);
    const cs_study *s = R.study;
    size_t n = s->settings.kind_count * CS_MAX_THRESHOLDS;
    cs_geom **circles = calloc(n, sizeof *circles);
    bool *none = calloc(s->settings.kind_count, sizeof *none);
    assert_int_equal(cs_cover_circles(R.ctx, s, none, circles), CS_OK);
    for (size_t i = 0; i < n; i++)
        assert_null(circles[i]);
    assert_int_equal(cs_cover_circles(R.ctx, s, NULL, circles), CS_OK);
    const cs_kind *k = &s->settings.kinds[0];
    for (size_t j = 0; j < k->threshold_count; j++)
        assert_non_null(circles[j]);
    double r = k->threshold_m[0], area = cs_geom_area_m2(s->geos, circles[0]);
    assert_true(fabs(area / (M_PI * r * r) - 1) < 0.005);
    for (size_t i = 0; i < n; i++)
        cs_geom_destroy(s->geos, circles[i]);
    free(circles);
    free(none);
    fx_env_close(&R);
    fx_free(&d);
}

/* A second bridge on the street F and E stand on: E is then 500 m away on foot too. */
static void second_bridge_covers(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    double streets[sizeof river_streets / sizeof(double) + 6];
    memcpy(streets, river_streets, sizeof river_streets);
    size_t n = sizeof river_streets / sizeof(double);
    const double bridge[] = {1900, 1000, 2100, 1000, NAN, 0};
    memcpy(streets + n, bridge, sizeof bridge);
    char *dir = tu_mkdtemp();
    write_network(dir, streets, (n + 6) / 2, "residential");
    fx_env R;
    start(&R, dir, &d, river_yaml, CS_OK);
    cs_coverage c;
    assert_int_equal(cs_result_coverage_by(R.result, CS_MEASURE_NETWORK, 0, 1, 0, CS_DISTRICT,
                                           &c), CS_OK);
    assert_true(c.covered == 400); /* W 700 m, E 500 m: both within 800 m */
    fx_env_close(&R);
    fx_free(&d);
}

/* The bridge is a motorway, which the default class filter leaves out: E is cut off
 * and the network falls into two components. */
static void motorway_bridge_is_not_walked(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    char *dir = tu_mkdtemp();
    size_t n = sizeof river_streets / sizeof(double) / 2;
    write_network(dir, river_streets, n - 3, "residential"); /* all but the bridge */
    /* append the bridge as a motorway by rewriting the file with one more feature */
    char *path = tu_join(dir, "network.geojson");
    size_t len = 0;
    char *text = tu_read(path, &len);
    char *end = strrchr(text, ']');
    *end = '\0';
    size_t more_len = strlen(text) + 512;
    char *more = malloc(more_len);
    assert_true(snprintf(more, more_len, "%s,{\"type\":\"Feature\",\"properties\":{\"highway\":"
                                "\"motorway\"},\"geometry\":{\"type\":\"LineString\","
                                "\"coordinates\":[[%.3f,%.3f],[%.3f,%.3f]]}}]}\n",
                         text, FX_X0 + 1900, FX_Y0 + 1900, FX_X0 + 2100, FX_Y0 + 1900) > 0);
    free(tu_write(dir, "network.geojson", more));
    free(more);
    free(text);
    free(path);
    fx_env R;
    start(&R, dir, &d, river_yaml, CS_OK);
    cs_network_report r;
    assert_int_equal(cs_result_network(R.result, &r), CS_OK);
    assert_int_equal(r.components, 2);
    assert_int_equal(r.left_out_class, 1);
    assert_true(fabs(r.largest_share - 0.5) < 1e-9); /* 3.6 km on each bank */
    fx_env_close(&R);
    fx_free(&d);
}

/* A reached network larger than network.area_max_pieces gets its polygon drawn on
 * cells, and a warning says so and how close it is. */
static void large_areas_drawn_on_cells(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    char *dir = tu_mkdtemp();
    write_network(dir, river_streets, sizeof river_streets / sizeof(double) / 2, "residential");
    fx_env R;
    start(&R, dir, &d, "network: {path: network.geojson, crs: EPSG:32651, area_max_pieces: 2, "
                       "facility_areas: true}\n",
          CS_OK);
    char *out = tu_join(dir, "out");
    assert_int_equal(cs_result_write(R.ctx, R.study, R.result, out), CS_OK);
    assert_true(tu_has_message(R.ctx, "network.area_max_pieces", "drawn on 10 m cells",
                               "short of it by at most 14.1 m", NULL));
    char *path = tu_join(out, "service-circles.geojson");
    char *text = tu_read(path, NULL);
    /* 15 minutes reach more than 2 pieces: drawn on cells, every feature has its polygon */
    assert_non_null(strstr(text, "\"measure\":\"network\""));
    assert_null(strstr(text, "\"geometry\":null"));
    free(text);
    free(path);
    /* the one facility's own service area (15 minutes) is written when asked for */
    path = tu_join(out, "facility-service-areas.geojson");
    text = tu_read(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"id\":\"F0\""));
    assert_non_null(strstr(text, "\"threshold_min\":15"));
    free(text);
    free(path);
    free(out);
    fx_env_close(&R);
    fx_free(&d);
}

/* ---------------------------------------- service areas: the self-check */

#define GRID_N 13        /* 13 x 13 street crossings */
#define GRID_STEP 250.0  /* metres between streets */

/* The grid of streets: one line per row and per column, a vertex at every crossing. */
static void write_grid(const char *dir)
{
    size_t n = 2 * GRID_N * (GRID_N + 1);
    double *xy = calloc(2 * n, sizeof *xy);
    size_t k = 0;
    for (int dir_i = 0; dir_i < 2; dir_i++)
        for (int a = 0; a < GRID_N; a++) {
            for (int b = 0; b < GRID_N; b++) {
                xy[k++] = dir_i ? a * GRID_STEP : b * GRID_STEP;
                xy[k++] = dir_i ? b * GRID_STEP : a * GRID_STEP;
            }
            xy[k++] = NAN;
            xy[k++] = 0;
        }
    write_network(dir, xy, k / 2, "footway");
    free(xy);
}

/* The kinds of a run share the demand points by edge (access/kinds.c): each kind's
 * accessibility along the network, by bands (kind b, no decay) and by pairs (kind a,
 * Gaussian), is bit for bit the same with both kinds given capacities as with one kind
 * at a time. */
static void kinds_share_the_points_by_edge(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 23, 3, 3, 1000, 30, 400);
    const char *const kind[2] = {"a", "b"};
    double *alone[2] = {NULL, NULL};
    for (int run = 0; run < 3; run++) { /* a alone, b alone, both */
        fx_env R;
        memset(&R, 0, sizeof R);
        R.dir = tu_mkdtemp(); /* removed by fx_env_close */
        write_grid(R.dir);
        assert_int_equal(fx_env_open(&R, &d, "network: {path: network.geojson, crs: "
                                              "EPSG:32651, access_width_m: 40}\n"
                                              "measure: network\n"),
                         CS_OK);
        fx_env_set(&R, "kinds.a.access_decay", "gaussian");
        fx_env_set(&R, "kinds.b.access_decay", "none");
        for (int k = 0; k < 2; k++) {
            if (run == 1 - k)
                continue;
            char key[64];
            snprintf(key, sizeof key, "kinds.%s.load_capacity", kind[k]);
            fx_env_set(&R, key, "beds");
            snprintf(key, sizeof key, "kinds.%s.load_band", kind[k]);
            fx_env_set(&R, key, "65+");
        }
        fx_env_run_ok(&R);
        size_t n = cs_study_demand_count(R.study);
        for (int k = 0; k < 2; k++) {
            const double *got = cs_result_access_points(R.result, (size_t)k);
            if (run == 1 - k) {
                assert_null(got);
                continue;
            }
            assert_non_null(got);
            double sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += got[i];
            assert_true(sum > 0); /* residents reach some beds */
            if (run < 2) {
                alone[k] = malloc(n * sizeof *got);
                memcpy(alone[k], got, n * sizeof *got);
            } else {
                assert_memory_equal(got, alone[k], n * sizeof *got);
            }
        }
        fx_env_close(&R);
    }
    free(alone[0]);
    free(alone[1]);
    fx_free(&d);
}

/* Brute-force node costs on the grid: Dijkstra by linear scans over the 169 nodes, from
 * facilities placed exactly on horizontal streets (access 0). */
static void grid_costs(const fx_data *d, double *cost)
{
    int nn = GRID_N * GRID_N;
    bool done[GRID_N * GRID_N] = {false};
    for (int i = 0; i < nn; i++)
        cost[i] = INFINITY;
    for (size_t f = 0; f < d->nfac; f++) {
        double x = d->fx[f] - FX_X0, y = d->fy[f] - FX_Y0;
        int row = (int)lround(y / GRID_STEP), col = (int)floor(x / GRID_STEP);
        double t = x - col * GRID_STEP;
        cost[row * GRID_N + col] = fmin(cost[row * GRID_N + col], t);
        cost[row * GRID_N + col + 1] = fmin(cost[row * GRID_N + col + 1], GRID_STEP - t);
    }
    for (int it = 0; it < nn; it++) {
        int u = -1;
        for (int i = 0; i < nn; i++)
            if (!done[i] && (u < 0 || cost[i] < cost[u]))
                u = i;
        done[u] = true;
        int r = u / GRID_N, c = u % GRID_N;
        int nb[4][2] = {{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}};
        for (int k = 0; k < 4; k++)
            if (nb[k][0] >= 0 && nb[k][0] < GRID_N && nb[k][1] >= 0 && nb[k][1] < GRID_N) {
                int v = nb[k][0] * GRID_N + nb[k][1];
                cost[v] = fmin(cost[v], cost[u] + GRID_STEP);
            }
    }
}

static double point_segment(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* Distance from p to the part of edge (a -> b, length GRID_STEP) reached within budget:
 * from each end as far as its cost allows, and around facilities on the edge. */
static double to_reached(double px, double py, double ax, double ay, double bx, double by,
                         double ca, double cb, const fx_data *d, double budget)
{
    double best = INFINITY, ux = (bx - ax) / GRID_STEP, uy = (by - ay) / GRID_STEP;
    double lo[8], hi[8];
    size_t n = 0;
    if (ca <= budget) {
        lo[n] = 0;
        hi[n++] = fmin(GRID_STEP, budget - ca);
    }
    if (cb <= budget) {
        lo[n] = fmax(0, GRID_STEP - (budget - cb));
        hi[n++] = GRID_STEP;
    }
    for (size_t f = 0; f < d->nfac && n < 8; f++) {
        double fx = d->fx[f] - FX_X0 - ax, fy = d->fy[f] - FX_Y0 - ay;
        double t = fx * ux + fy * uy;
        if (fabs(fx * uy - fy * ux) < 1e-6 && t >= 0 && t <= GRID_STEP) {
            lo[n] = fmax(0, t - budget);
            hi[n++] = fmin(GRID_STEP, t + budget);
        }
    }
    for (size_t i = 0; i < n; i++)
        best = fmin(best, point_segment(px, py, ax + lo[i] * ux, ay + lo[i] * uy,
                                        ax + hi[i] * ux, ay + hi[i] * uy));
    return best;
}

static double line_length(const cs_lines *l)
{
    double m = 0;
    for (size_t p = 0; p < l->count; p++)
        for (size_t v = l->start[p]; v + 1 < l->start[p + 1]; v++)
            m += hypot(l->x[v + 1] - l->x[v], l->y[v + 1] - l->y[v]);
    return m;
}

static double to_reached_network(double px, double py, const double *cost, const fx_data *d,
                                 double budget)
{
    double best = INFINITY;
    for (int r = 0; r < GRID_N; r++)
        for (int c = 0; c < GRID_N; c++) {
            double x = c * GRID_STEP, y = r * GRID_STEP, cu = cost[r * GRID_N + c];
            if (c + 1 < GRID_N)
                best = fmin(best, to_reached(px, py, x, y, x + GRID_STEP, y, cu,
                                             cost[r * GRID_N + c + 1], d, budget));
            if (r + 1 < GRID_N)
                best = fmin(best, to_reached(px, py, x, y, x, y + GRID_STEP, cu,
                                             cost[(r + 1) * GRID_N + c], d, budget));
        }
    return best;
}

/* Segment a of a ring's lines (the network first reached within budget, 400 m past the
 * threshold before): its middle was not reached within the threshold before. */
static void ring_segment_check(const cs_lines *l, size_t a, const double *cost,
                               const fx_data *d, double budget)
{
    double mx = (l->x[a] + l->x[a + 1]) / 2 - FX_X0, my = (l->y[a] + l->y[a + 1]) / 2 - FX_Y0;
    double half = hypot(l->x[a + 1] - l->x[a], l->y[a + 1] - l->y[a]) / 2;
    if (half > 1e-3 && !(to_reached_network(mx, my, cost, d, budget - 400) > 1e-4))
        fail_msg("a piece of the %g m ring at (%.3f, %.3f) was reached within %g m", budget,
                 mx, my, budget - 400);
}

/* The self-check with the areas dissolved exactly (cells = false) or drawn on cells. */
static void self_check(bool cells)
{
    fx_data d;
    fx_alloc(&d, 2, 2, 1500, 4, 1);
    srand(7);
    for (size_t f = 0; f < d.nfac; f++) { /* on a horizontal street, inside a block */
        int row = 1 + rand() % (GRID_N - 2), col = rand() % (GRID_N - 1);
        d.fx[f] = FX_X0 + col * GRID_STEP + 10 + rand() % 230;
        d.fy[f] = FX_Y0 + row * GRID_STEP;
    }
    d.px[0] = FX_X0 + 10;
    d.py[0] = FX_Y0 + 10;
    d.pop[0] = 1;
    char *dir = tu_mkdtemp();
    write_grid(dir);
    fx_env R;
    start(&R, dir, &d, cells ? "network: {path: network.geojson, crs: EPSG:32651, "
                               "access_width_m: 40, area_max_pieces: 0, area_cell_m: 7}\n"
                               "measure: network\n"
                             : "network: {path: network.geojson, crs: EPSG:32651, "
                               "access_width_m: 40}\nmeasure: network\n",
          CS_OK);
    double cost[GRID_N * GRID_N];
    grid_costs(&d, cost);
    cs_lines lines[2 * CS_MAX_THRESHOLDS];
    cs_rings *polys[2 * CS_MAX_THRESHOLDS];
    assert_int_equal(cs_cover_network_areas(R.ctx, R.result, lines, polys), CS_OK);
    size_t checked = 0;
    for (size_t j = 0; j < 3; j++) {
        double budget = 400.0 * (double)(j + 1);
        assert_non_null(polys[j]);
        const cs_rings *rings = polys[j];
        for (size_t v = 0; v < rings->vertex_count; v++) {
            double px = rings->x[v] - FX_X0, py = rings->y[v] - FX_Y0;
            double far = to_reached_network(px, py, cost, &d, budget);
            if (far > 40 + 1e-6)
                fail_msg("vertex (%.3f, %.3f) of the %g m area is %.3f m from the reached "
                         "network", px, py, budget, far);
            checked++;
        }
        /* and every vertex of the reached lines is itself reached */
        for (size_t v = 0; lines[j].count && v < lines[j].start[lines[j].count]; v++)
            assert_true(to_reached_network(lines[j].x[v] - FX_X0, lines[j].y[v] - FX_Y0,
                                           cost, &d, budget + 1e-6) < 1e-6);
        /* the lines of threshold j are those first reached within it: the middle of each
         * segment is off the network reached within the threshold before */
        for (size_t p = 0; j > 0 && p < lines[j].count; p++)
            for (size_t a = lines[j].start[p]; a + 1 < lines[j].start[p + 1]; a++)
                ring_segment_check(&lines[j], a, cost, &d, budget);
        /* pieces that follow each other are one line: no line starts where the one
         * before it ends (that vertex would be written twice) */
        for (size_t p = 1; p < lines[j].count; p++) {
            size_t a = lines[j].start[p];
            assert_false(lines[j].x[a] == lines[j].x[a - 1] &&
                         lines[j].y[a] == lines[j].y[a - 1]);
        }
    }
    /* the rings together are the network reached within the largest threshold, once */
    double rings_m = 0, all_m = 0;
    cs_lines all;
    assert_int_equal(cs_cover_reached_lines(&R.result->fields[0], 1200, -1, &all, NULL), CS_OK);
    for (size_t j = 0; j < 3; j++)
        rings_m += line_length(&lines[j]);
    all_m = line_length(&all);
    cs_lines_free(&all);
    if (!(all_m > 1000 && fabs(rings_m - all_m) < 1e-6 * all_m))
        fail_msg("the rings add up to %.6f m, the reached network is %.6f m", rings_m, all_m);
    assert_true(checked > 100);
    for (size_t i = 0; i < 2 * CS_MAX_THRESHOLDS; i++) {
        cs_lines_free(&lines[i]);
        cs_rings_destroy(polys[i]);
    }
    fx_env_close(&R);
    fx_free(&d);
}

static void service_area_self_check(void **state)
{
    (void)state;
    self_check(false);
    self_check(true);
}

/* On the bundled sample, each threshold of the first kind: the service area drawn on
 * cells covers GEOS's exact union of the streets buffered by the width less cell·√2
 * (the documented bound), and reaches beyond the exact union only where GEOS draws
 * round ends with chords inside their circles (two per quarter: at most
 * width (1 - cos(pi / 8)), 3.8 m of 50) and simplifies the streets first (by 1% of the
 * width). */
static void cells_against_the_exact_union(void **state)
{
    (void)state;
    fx_env e = {0};
    assert_int_equal(fx_env_open_file(&e, strdup(CS_SOURCE_DIR "/geodata/study.yaml")), CS_OK);
    fx_env_run_ok(&e);
    cs_geos h = e.study->geos;
    const cs_walk_network *net = &e.study->net;
    size_t K = e.result->K;
    cs_lines *lines = calloc(K * CS_MAX_THRESHOLDS, sizeof *lines);
    cs_rings **polys = calloc(K * CS_MAX_THRESHOLDS, sizeof *polys);
    assert_int_equal(cs_cover_network_areas(e.ctx, e.result, lines, polys), CS_OK);
    const cs_kind *kind = &e.study->settings.kinds[0];
    assert_true(kind->threshold_count == 3 && net->area_cell_m == 10);
    for (size_t j = 0; j < kind->threshold_count; j++) {
        cs_lines within;
        size_t pieces = 0;
        assert_int_equal(cs_cover_reached_lines(&e.result->fields[0], kind->threshold_m[j],
                                                -1, &within, &pieces), CS_OK);
        assert_true((double)pieces <= net->area_max_pieces); /* polys[j] is exact */
        assert_true(within.count < pieces); /* pieces of one street joined */
        cs_rings drawn_rings;
        assert_int_equal(cs_cells_buffer(&within, net->access_width_m, net->area_cell_m,
                                         &drawn_rings), CS_OK);
        cs_geom *cells = cs_geom_from_polygons(h, &drawn_rings);
        cs_geom *exact_g = cs_geom_from_polygons(h, polys[j]);
        assert_non_null(cells);
        assert_non_null(exact_g);
        cs_geom *inner = cs_geom_buffer_lines(h, &within, net->access_width_m -
                                                              net->area_cell_m * M_SQRT2 - 1e-6);
        cs_geom *chords = GEOSBuffer_r(
            h, exact_g, net->access_width_m * (1 - cos(M_PI / 8) + 0.01), 8);
        assert_true(GEOSCovers_r(h, cells, inner) == 1);
        assert_true(GEOSCovers_r(h, chords, cells) == 1);
        double exact = cs_rings_area_m2(polys[j]), drawn = cs_rings_area_m2(&drawn_rings);
        assert_true(exact == cs_geom_area_m2(h, exact_g) && drawn == cs_geom_area_m2(h, cells));
        print_message("%g m: exact %.3f km², on cells %.3f km² (%.1f%%)\n",
                      kind->threshold_m[j], exact / 1e6, drawn / 1e6, 100 * drawn / exact);
        assert_true(drawn < exact && drawn > 0.8 * exact);
        cs_geom_destroy(h, chords);
        cs_geom_destroy(h, inner);
        cs_geom_destroy(h, cells);
        cs_geom_destroy(h, exact_g);
        cs_rings_free(&drawn_rings);
        cs_lines_free(&within);
    }
    for (size_t i = 0; i < K * CS_MAX_THRESHOLDS; i++) {
        cs_lines_free(&lines[i]);
        cs_rings_destroy(polys[i]);
    }
    free(lines);
    free(polys);
    fx_env_close(&e);
}

/* The sample (geodata) loaded and run in e, with a study key set first when key is given. */
static void sample_run(fx_env *e, const char *key, const char *value)
{
    assert_int_equal(fx_env_open_file(e, strdup(CS_SOURCE_DIR "/geodata/study.yaml")), CS_OK);
    if (key)
        fx_env_set(e, key, value);
    fx_env_run_ok(e);
}

/* Every file written into da and db, byte for byte the same; how many. */
static size_t same_files(const cs_result *r, const char *da, const char *db)
{
    size_t i = 0;
    for (const char *name; (name = cs_result_output_name(r, i)); i++) {
        char *pa = tu_join(da, name), *pb = tu_join(db, name);
        size_t na = 0, nb = 0;
        char *ta = tu_read(pa, &na), *tb = tu_read(pb, &nb);
        if (!ta || !tb || na != nb || memcmp(ta, tb, na) != 0)
            fail_msg("%s differs (%zu and %zu bytes)", name, na, nb);
        free(ta);
        free(tb);
        free(pa);
        free(pb);
    }
    return i;
}

/* Two runs of the sample with setting key (or none), written the one by cs_result_write
 * into da, the other by cs_result_write_releasing into db: `same` files, each the same
 * byte for byte. */
typedef struct written_pair {
    fx_env a, b;
    char *da, *db;
    size_t same;
} written_pair;

static void write_both_ways(written_pair *p, const char *key, const char *value)
{
    memset(p, 0, sizeof *p);
    sample_run(&p->a, key, value);
    sample_run(&p->b, key, value);
    p->da = tu_mkdtemp();
    p->db = tu_mkdtemp();
    assert_int_equal(cs_result_write(p->a.ctx, p->a.study, p->a.result, p->da), CS_OK);
    assert_int_equal(cs_result_write_releasing(p->b.ctx, p->b.study, p->b.result, p->db),
                     CS_OK);
    p->same = same_files(p->a.result, p->da, p->db);
}

static void close_pair(written_pair *p)
{
    tu_rmtree(p->da);
    tu_rmtree(p->db);
    free(p->da);
    free(p->db);
    fx_env_close(&p->a);
    fx_env_close(&p->b);
}

/* The sample written by cs_result_write and, from a second run of it, by
 * cs_result_write_releasing (which lets go of the index, the demand points' attachments
 * and each node's nearest facility before drawing the service areas, of the graph and
 * searches once their lines are made, before the polygons): the same files byte for
 * byte, with the polygons dissolved exactly or drawn on cells and with each facility's
 * own area (drawn before the graph goes). The released result gives
 * the same coverage (every kind, threshold, band and street), network report and
 * facility loads as the other; what needs the network's searches is refused (writing
 * again, evaluating or suggesting sites, serving), and it is destroyed cleanly (the
 * sanitizer). A result without a network keeps all it had. */
static void writing_releases_the_network(void **state)
{
    (void)state;
    written_pair p;
    write_both_ways(&p, "network.area_max_pieces", "0"); /* every polygon on cells */
    assert_true(p.same >= 10);
    close_pair(&p);
    write_both_ways(&p, "network.facility_areas", "true"); /* a layer more */
    assert_true(p.same >= 11);
    close_pair(&p);
    write_both_ways(&p, NULL, NULL);
    assert_true(p.same >= 10 && p.b.result->has_network);
    const cs_study *sa = p.a.study, *sb = p.b.study;
    const cs_result *ra = p.a.result, *rb = p.b.result;
    for (size_t k = 0; k < ra->K; k++)
        for (size_t j = 0; j < sa->settings.kinds[k].threshold_count; j++)
            for (size_t band = 0; band < ra->B; band++)
                for (size_t area = 0; area <= ra->A; area++) {
                    cs_coverage ca, cb;
                    assert_int_equal(cs_result_coverage(ra, k, j, band, area, &ca), CS_OK);
                    assert_int_equal(cs_result_coverage(rb, k, j, band, area, &cb), CS_OK);
                    assert_memory_equal(&ca, &cb, sizeof ca);
                }
    cs_network_report na, nb;
    assert_int_equal(cs_result_network(ra, &na), CS_OK);
    assert_int_equal(cs_result_network(rb, &nb), CS_OK);
    assert_true(na.edges > 0 && na.edges == nb.edges && na.length_km == nb.length_km);
    for (size_t f = 0; f < sa->fac.count; f++) {
        double va, vb, la, lb;
        assert_int_equal(cs_result_served(ra, f, 0, &va, &la), CS_OK);
        assert_int_equal(cs_result_served(rb, f, 0, &vb, &lb), CS_OK);
        assert_true(va == vb && (la == lb || (isnan(la) && isnan(lb))));
    }
    /* what needs the searches */
    cs_context *cb = p.b.ctx;
    assert_int_equal(cs_result_write_releasing(cb, sb, p.b.result, p.db), CS_ERR_ARGUMENT);
    assert_int_equal(cs_result_write(cb, sb, rb, p.db), CS_ERR_ARGUMENT);
    cs_site_cache *cache = NULL;
    assert_int_equal(cs_site_cache_create(cb, rb, &cache), CS_ERR_ARGUMENT);
    cs_site_input in = {.lon = 121.38, .lat = 31.1, .kind = sa->settings.kinds[0].id,
                        .capacity = NAN};
    cs_site *site = NULL;
    assert_int_equal(cs_site_evaluate(cb, rb, &in, 1, NULL, &site), CS_ERR_ARGUMENT);
    cs_suggest_options so = {.kind = in.kind, .k = 1, .within_min = NAN, .reach_share = NAN};
    cs_suggest_report rep;
    assert_int_equal(cs_site_suggest(cb, rb, &so, &site, &rep), CS_ERR_ARGUMENT);
    cs_server *server = NULL;
    assert_int_equal(cs_serve_start(cb, sb, rb, NULL, &server), CS_ERR_ARGUMENT);
    assert_int_equal(cs_serve_start(cb, sb, NULL, NULL, &server), CS_ERR_ARGUMENT);
    assert_null(site);
    assert_null(server);
    close_pair(&p);

    /* in a straight line there is no network to let go: sites are still evaluated */
    fx_env c = {0};
    sample_run(&c, "measure", "straight");
    char *dc = tu_mkdtemp();
    assert_int_equal(cs_result_write_releasing(c.ctx, c.study, c.result, dc), CS_OK);
    assert_int_equal(cs_site_cache_create(c.ctx, c.result, &cache), CS_OK);
    cs_site_cache_destroy(cache);
    tu_rmtree(dc);
    free(dc);
    fx_env_close(&c);
}

/* The service areas are made an edge at a time (the whole network's stretches never
 * held): on the sample, with network.area_max_pieces between the first and the last
 * threshold's pieces (so the first is dissolved exactly and the last drawn on cells),
 * each threshold's lines are, vertex for vertex, those cs_cover_reached_lines gives from
 * the whole lists; the exact polygon is GEOS's buffer of all the network reached within
 * its threshold (the same area), and the one on cells is the cells of that network. */
static void areas_made_edge_by_edge(void **state)
{
    (void)state;
    fx_env e = {0};
    sample_run(&e, NULL, NULL);
    cs_geos h = e.study->geos;
    const cs_kind *kind = &e.study->settings.kinds[0];
    size_t T = kind->threshold_count, pieces[CS_MAX_THRESHOLDS];
    cs_lines whole[CS_MAX_THRESHOLDS], first[CS_MAX_THRESHOLDS];
    for (size_t j = 0; j < T; j++) {
        assert_int_equal(cs_cover_reached_lines(&e.result->fields[0], kind->threshold_m[j], -1,
                                                &whole[j], &pieces[j]), CS_OK);
        assert_int_equal(cs_cover_reached_lines(&e.result->fields[0], kind->threshold_m[j],
                                                j ? kind->threshold_m[j - 1] : -1, &first[j],
                                                NULL), CS_OK);
    }
    assert_true(T == 3 && pieces[0] < pieces[T - 1]);
    /* the study's setting, changed here alone: thresholds 0 exact, T - 1 on cells */
    ((cs_study *)e.study)->net.area_max_pieces = (double)pieces[0];
    size_t K = e.result->K;
    cs_lines *lines = calloc(K * CS_MAX_THRESHOLDS, sizeof *lines);
    cs_rings **polys = calloc(K * CS_MAX_THRESHOLDS, sizeof *polys);
    assert_int_equal(cs_cover_network_areas(e.ctx, e.result, lines, polys), CS_OK);
    for (size_t j = 0; j < T; j++) {
        assert_int_equal(lines[j].count, first[j].count);
        for (size_t l = 0; l <= first[j].count; l++)
            assert_int_equal(lines[j].start[l], first[j].start[l]);
        size_t nv = first[j].start[first[j].count];
        assert_true(nv > 0);
        assert_memory_equal(lines[j].x, first[j].x, nv * sizeof *first[j].x);
        assert_memory_equal(lines[j].y, first[j].y, nv * sizeof *first[j].y);
    }
    cs_rings *exact = cs_rings_of_geom(h, cs_geom_buffer_lines(h, &whole[0],
                                                                e.study->net.access_width_m));
    assert_non_null(exact);
    assert_true(cs_rings_area_m2(polys[0]) == cs_rings_area_m2(exact));
    cs_rings drawn;
    assert_int_equal(cs_cells_buffer(&whole[T - 1], e.study->net.access_width_m,
                                     e.study->net.area_cell_m, &drawn), CS_OK);
    double cell2 = e.study->net.area_cell_m * e.study->net.area_cell_m;
    double got = cs_rings_area_m2(polys[T - 1]), want = cs_rings_area_m2(&drawn);
    /* the same cells, but where a cut's vertex moves a cell's centre across the width
     * by rounding: a few cells at most */
    if (!(want > 0 && fabs(got - want) <= 4 * cell2))
        fail_msg("on cells %.1f m², the cells of the reached network %.1f m²", got, want);
    cs_rings_free(&drawn);
    cs_rings_destroy(exact);
    for (size_t j = 0; j < T; j++) {
        cs_lines_free(&whole[j]);
        cs_lines_free(&first[j]);
    }
    for (size_t i = 0; i < K * CS_MAX_THRESHOLDS; i++) {
        cs_lines_free(&lines[i]);
        cs_rings_destroy(polys[i]);
    }
    free(lines);
    free(polys);
    fx_env_close(&e);
}

/* ------------------------------------------------ catchments and loads */

/*
 * Kind b, two facilities on one street (y = 1000): G0 at x = 500 (20 beds), G1 at
 * x = 1500 (10 beds). Residents on the street: at 300 (100 people, 65+: 50), at 1100
 * (200, 65+: 100) and at 1400 (300, 65+: 150); at 3000 (1000 people): beyond 1200 m of
 * both. By hand, nearest within 15 minutes: 300 -> G0 (200 m); 1100 -> G1 (400 vs 600);
 * 1400 -> G1 (100). G0 serves 100 (65+: 50), G1 serves 500 (65+: 250).
 * Load with 10% of 65+ using beds: G0 5 / 20 = 0.25, G1 25 / 10 = 2.5 (overloaded).
 */
static void catchments_and_load(void **state)
{
    (void)state;
    fx_data d;
    fx_alloc(&d, 2, 1, 2000, 2, 4);
    const double fxs[] = {500, 1500}, beds[] = {20, 10};
    for (size_t f = 0; f < 2; f++) {
        d.fx[f] = FX_X0 + fxs[f];
        d.fy[f] = FX_Y0 + 1000;
        d.fbeds[f] = beds[f];
        d.fkind[f] = 1;
    }
    const double pxs[] = {300, 1100, 1400, 3000}, pops[] = {100, 200, 300, 1000};
    for (size_t i = 0; i < 4; i++) {
        d.px[i] = FX_X0 + pxs[i];
        d.py[i] = FX_Y0 + 1000;
        d.pop[i] = pops[i];
        d.pop65[i] = pops[i] / 2;
    }
    const double street[] = {0, 1000, 4000, 1000, NAN, 0};
    char *dir = tu_mkdtemp();
    write_network(dir, street, 3, "residential");
    fx_env R;
    start(&R, dir, &d, "network: {path: network.geojson, crs: EPSG:32651}\n"
                       "kinds.b.load_capacity: beds\nkinds.b.load_band: 65+\nkinds.b.load_rate: 0.1\n",
          CS_OK);
    double served, load;
    assert_int_equal(cs_result_served(R.result, 0, 0, &served, &load), CS_OK);
    assert_true(served == 100 && fabs(load - 0.25) < 1e-12);
    assert_int_equal(cs_result_served(R.result, 0, 1, &served, NULL), CS_OK);
    assert_true(served == 50);
    assert_int_equal(cs_result_served(R.result, 1, 0, &served, &load), CS_OK);
    assert_true(served == 500 && fabs(load - 2.5) < 1e-12);
    assert_int_equal(cs_result_served(R.result, 2, 0, &served, &load), CS_ERR_ARGUMENT);
    fx_env_close(&R);
    fx_free(&d);
}

/* ----------------------------------------------------------------- ties */

/* start() on a given number of threads. */
static void start_on(fx_env *R, char *dir, const fx_data *d, const char *yaml, int threads)
{
    memset(R, 0, sizeof *R);
    R->dir = dir;
    cs_status st = fx_env_open(R, d, yaml);
    cs_context_set_threads(R->ctx, threads);
    if (st == CS_OK)
        st = fx_env_run(R);
    if (st != CS_OK)
        tu_dump_messages(R->ctx);
    assert_int_equal(st, CS_OK);
}

static void expect_served(const fx_env *R, size_t f, double all, double old, double load)
{
    double served, got_load;
    assert_int_equal(cs_result_served(R->result, f, 0, &served, &got_load), CS_OK);
    if (fabs(served - all) > 1e-9 || (!isnan(load) && fabs(got_load - load) > 1e-12))
        fail_msg("facility %zu serves %.12g (load %.12g), by hand %.12g (load %.12g)", f,
                 served, got_load, all, load);
    assert_int_equal(cs_result_served(R->result, f, 1, &served, NULL), CS_OK);
    assert_true(fabs(served - old) < 1e-9);
}

static const char load_yaml[] =
    "kinds.b.load_capacity: beds\nkinds.b.load_band: 65+\nkinds.b.load_rate: 0.1\n";

/*
 * Twins, straight line: kind b, T0 and T1 both at (1000, 1000) with 20 and 10 beds,
 * F2 at (3000, 1000) with 10. Residents: (1300, 1000) 100 people (65+: 50), (1000, 1600)
 * 300 (65+: 150): 300 m and 600 m from the twins, beyond 1200 m of F2; (3000, 1300)
 * 40 (65+: 20): F2's. By hand, each twin serves half of 400 = 200 (65+: 100, use
 * 100 x 0.1 = 10): loads 10 / 20 = 0.5 and 10 / 10 = 1. F2 serves 40, load 2 / 10.
 */
static void twins_share_equally(void **state)
{
    (void)state;
    fx_data d;
    fx_alloc(&d, 2, 1, 2000, 3, 3);
    const double fxs[] = {1000, 1000, 3000}, beds[] = {20, 10, 10};
    for (size_t f = 0; f < 3; f++) {
        d.fx[f] = FX_X0 + fxs[f];
        d.fy[f] = FX_Y0 + 1000;
        d.fbeds[f] = beds[f];
        d.fkind[f] = 1;
    }
    const double pxs[] = {1300, 1000, 3000}, pys[] = {1000, 1600, 1300},
                 pops[] = {100, 300, 40};
    for (size_t i = 0; i < 3; i++) {
        d.px[i] = FX_X0 + pxs[i];
        d.py[i] = FX_Y0 + pys[i];
        d.pop[i] = pops[i];
        d.pop65[i] = pops[i] / 2;
    }
    fx_env R;
    start_on(&R, tu_mkdtemp(), &d, load_yaml, 2);
    expect_served(&R, 0, 200, 100, 0.5);
    expect_served(&R, 1, 200, 100, 1.0);
    expect_served(&R, 2, 40, 20, 0.2);
    fx_env_close(&R);
    fx_free(&d);
}

/*
 * One street (y = 1000, x 0..4000), along the network: G0 at x = 500 (20 beds), G1 at
 * x = 1500 (10 beds). Residents on the street: at 1000 (200 people, 65+: 100), 500 m
 * from both; at 300 (100, 65+: 50), G0's (200 m vs 1200 m). By hand: G0 serves 100 +
 * 200 / 2 = 200 (65+: 100, use 10, load 0.5); G1 serves 100 (65+: 50, use 5, load 0.5).
 */
static void equidistant_on_the_network(void **state)
{
    (void)state;
    fx_data d;
    fx_alloc(&d, 2, 1, 2000, 2, 2);
    const double fxs[] = {500, 1500}, beds[] = {20, 10};
    for (size_t f = 0; f < 2; f++) {
        d.fx[f] = FX_X0 + fxs[f];
        d.fy[f] = FX_Y0 + 1000;
        d.fbeds[f] = beds[f];
        d.fkind[f] = 1;
    }
    const double pxs[] = {1000, 300}, pops[] = {200, 100};
    for (size_t i = 0; i < 2; i++) {
        d.px[i] = FX_X0 + pxs[i];
        d.py[i] = FX_Y0 + 1000;
        d.pop[i] = pops[i];
        d.pop65[i] = pops[i] / 2;
    }
    const double street[] = {0, 1000, 4000, 1000, NAN, 0};
    char *dir = tu_mkdtemp();
    write_network(dir, street, 3, "residential");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "network: {path: network.geojson, crs: EPSG:32651}\n%s",
             load_yaml);
    fx_env R;
    start_on(&R, dir, &d, yaml, 1);
    expect_served(&R, 0, 200, 100, 0.5);
    expect_served(&R, 1, 100, 50, 0.5);
    fx_env_close(&R);
    fx_free(&d);
}

/*
 * Three-way, straight line: H0 (1000, 1000), H1 (1600, 1000), H2 (1300, 1900); the
 * resident at (1300, 1400), 300 people (65+: 150), is 500 m from each (300-400-500 and
 * 0-500). By hand each serves 100 (65+: 50); all have 10 beds: load 5 / 10 = 0.5.
 */
static void three_way_tie(void **state)
{
    (void)state;
    fx_data d;
    fx_alloc(&d, 2, 1, 2000, 3, 1);
    const double fxs[] = {1000, 1600, 1300}, fys[] = {1000, 1000, 1900};
    for (size_t f = 0; f < 3; f++) {
        d.fx[f] = FX_X0 + fxs[f];
        d.fy[f] = FX_Y0 + fys[f];
        d.fbeds[f] = 10;
        d.fkind[f] = 1;
    }
    d.px[0] = FX_X0 + 1300;
    d.py[0] = FX_Y0 + 1400;
    d.pop[0] = 300;
    d.pop65[0] = 150;
    fx_env R;
    start_on(&R, tu_mkdtemp(), &d, load_yaml, 1);
    for (size_t f = 0; f < 3; f++)
        expect_served(&R, f, 100, 50, 0.5);
    fx_env_close(&R);
    fx_free(&d);
}

/*
 * Order and threads: a lattice of streets every 100 m over 2 x 2 km, facilities on
 * 100 m points (some twins), residents on 50 m points, so ties abound straight and
 * along the network. The facility file reversed, and run on 1 or 2 threads, must give
 * every facility the same served residents to the last bit.
 */
static void ties_do_not_depend_on_order(void **state)
{
    (void)state;
    enum { NF = 24, NP = 600 };
    double lattice[2 * 6 * 42];
    size_t n = 0;
    for (int i = 0; i <= 20; i++) {
        double line[] = {0, 100.0 * i, 2000, 100.0 * i, NAN, 0,
                         100.0 * i, 0, 100.0 * i, 2000, NAN, 0};
        memcpy(lattice + 2 * n, line, sizeof line);
        n += 6;
    }
    fx_data d[2];
    for (int v = 0; v < 2; v++) {
        fx_alloc(&d[v], 1, 1, 2000, NF, NP);
        unsigned long long r = 12345;
        for (size_t f = 0; f < NF; f++) {
            size_t at = v == 0 ? f : NF - 1 - f; /* reversed in the second file */
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            bool twin = f % 4 == 1;
            d[v].fx[at] = twin ? d[v].fx[v == 0 ? at - 1 : at + 1]
                               : FX_X0 + 100.0 * (double)((r >> 33) % 21);
            d[v].fy[at] = twin ? d[v].fy[v == 0 ? at - 1 : at + 1]
                               : FX_Y0 + 100.0 * (double)((r >> 45) % 21);
            d[v].fbeds[at] = 5 + (double)(f % 3);
            d[v].fkind[at] = (int)((f / 2) % 2); /* twins share a kind */
        }
        r = 999;
        for (size_t i = 0; i < NP; i++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            d[v].px[i] = FX_X0 + 50.0 * (double)((r >> 33) % 41);
            d[v].py[i] = FX_Y0 + 50.0 * (double)((r >> 45) % 41);
            d[v].pop[i] = 10 + (double)(i % 7);
            d[v].pop65[i] = 3 + (double)(i % 5);
        }
    }
    const char *modes[] = {"", "network: {path: network.geojson, crs: EPSG:32651}\n"};
    for (int m = 0; m < 2; m++) {
        double served[3][NF][2];
        for (int v = 0; v < 3; v++) {
            char *dir = tu_mkdtemp();
            write_network(dir, lattice, n, "residential");
            fx_env R;
            start_on(&R, dir, &d[v == 1], modes[m], v == 2 ? 2 : 1);
            for (size_t f = 0; f < NF; f++) {
                size_t at = v == 1 ? NF - 1 - f : f;
                for (size_t b = 0; b < 2; b++)
                    assert_int_equal(cs_result_served(R.result, at, b, &served[v][f][b], NULL),
                                     CS_OK);
            }
            fx_env_close(&R);
        }
        double total = 0;
        for (size_t f = 0; f < NF; f++)
            for (size_t b = 0; b < 2; b++) {
                if (served[1][f][b] != served[0][f][b] || served[2][f][b] != served[0][f][b])
                    fail_msg("%s: facility %zu band %zu serves %.17g, reversed %.17g, on two "
                             "threads %.17g", m ? "network" : "straight", f, b,
                             served[0][f][b], served[1][f][b], served[2][f][b]);
                total += served[0][f][b];
            }
        assert_true(total > 0);
        /* the twins share: each of a pair serves the same */
        for (size_t f = 1; f < NF; f += 4)
            assert_true(served[0][f][0] == served[0][f - 1][0] && served[0][f][0] > 0);
    }
    fx_free(&d[0]);
    fx_free(&d[1]);
}

/* ------------------------------------------------------- bad settings */

static void study_error(const char *yaml, bool with_network, cs_status want, const char *a,
                        const char *b)
{
    fx_data d;
    river_data(&d);
    char *dir = tu_mkdtemp();
    if (with_network)
        write_network(dir, river_streets, sizeof river_streets / sizeof(double) / 2,
                      "residential");
    fx_env R;
    start(&R, dir, &d, yaml, want);
    if (!tu_has_message(R.ctx, a, b, NULL)) {
        tu_dump_messages(R.ctx);
        fail_msg("no message with '%s' and '%s'", a, b);
    }
    fx_env_close(&R);
    fx_free(&d);
}

static void network_measure_needs_network(void **state)
{
    (void)state;
    study_error("measure: network\n", false, CS_ERR_STUDY, "no walking network is given",
                "network.path");
    study_error("kinds.a.measure: network\n", false, CS_ERR_STUDY, "kinds.a.measure",
                "no walking network is given");
}

/* A network that no kind walks is not read: measured straight, the study loads and runs
 * without it (the file named is not even there), and has no network; a kind of its own
 * measured along it has it read, and its error named; and one shown is read. */
static void network_read_only_when_walked(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    fx_env R;
    start(&R, tu_mkdtemp(), &d, "network: {path: nowhere.geojson, crs: EPSG:32651}\n"
                                "measure: straight\n", CS_OK);
    assert_false(cs_study_has_network(R.study));
    assert_false(cs_study_kind_measured(R.study, 0, CS_MEASURE_NETWORK));
    fx_env_close(&R);
    fx_free(&d);
    study_error("network: {path: nowhere.geojson, crs: EPSG:32651}\nmeasure: straight\n"
                "kinds.b.measure: both\n", false, CS_ERR_INPUT, "nowhere.geojson", NULL);
    /* shown (careshed serve draws it), it is read though no kind walks it */
    river_data(&d);
    memset(&R, 0, sizeof R);
    R.dir = tu_mkdtemp();
    write_network(R.dir, river_streets, sizeof river_streets / sizeof(double) / 2,
                  "residential");
    assert_int_equal(fx_env_open(&R, &d, "network: {path: network.geojson, crs: EPSG:32651}\n"
                                         "measure: straight\n"),
                     CS_OK);
    cs_config_show_network(R.cfg);
    assert_int_equal(fx_env_load(&R), CS_OK);
    assert_true(cs_study_has_network(R.study));
    assert_false(cs_study_kind_measured(R.study, 0, CS_MEASURE_NETWORK));
    fx_env_close(&R);
    fx_free(&d);
}

static void bad_network_settings(void **state)
{
    (void)state;
    study_error("network: {path: network.geojson, crs: EPSG:32651, node_crossings: maybe}\n",
                true, CS_ERR_STUDY, "network.node_crossings", "true or false");
    study_error("network: {path: network.geojson, crs: EPSG:32651, snap: 1}\n", true,
                CS_ERR_STUDY, "unknown key", "snap_m");
    study_error("network: {path: network.geojson, crs: EPSG:32651, max_attach_m: 0}\n", true,
                CS_ERR_STUDY, "max_attach_m", "(0, 100000]");
    study_error("measure: sometimes\n", true, CS_ERR_STUDY, "straight, network, matrix, both or a list",
                "sometimes");
    study_error("network: {path: network.geojson, crs: EPSG:32651}\n"
                "kinds.a.measure: straight\n"
                "targets:\n  t: {type: coverage, kind: a, within_min: 15, at_least: 0.9, "
                "measure: network}\n",
                true, CS_ERR_STUDY, "targets.t.measure", "kind 'a' is not");
    study_error("network: {path: network.geojson, crs: EPSG:32651}\n"
                "kinds.b.load_capacity: places\n",
                true, CS_ERR_STUDY, "kinds.b.load_capacity", "unknown capacity 'places'");
}

static void bad_network_input(void **state)
{
    (void)state;
    /* a CRS PROJ does not know */
    study_error("network: {path: network.geojson, crs: EPSG:999999}\n", true, CS_ERR_CRS,
                "network.geojson", "EPSG:999999");
    /* the same lines read as lon/lat degrees of UTM 51N near the equator: far away */
    study_error("network: {path: network.geojson, crs: EPSG:32751}\n", true, CS_ERR_INPUT,
                "misses the study area", "network.crs");
    /* a file that is not there */
    study_error("network: {path: nowhere.geojson, crs: EPSG:32651}\n", false, CS_ERR_INPUT,
                "nowhere.geojson", NULL);
}

/* A resident 400 m from the only street is off the network with the default 300 m:
 * never covered on foot, counted and reported; with max_attach_m 500 it is on. */
static void off_network_points(void **state)
{
    (void)state;
    fx_data d;
    river_data(&d);
    d.py[1] = FX_Y0 + 1400; /* E moves 400 m north of the east street (100 m west of...) */
    d.px[1] = FX_X0 + 3000;
    char *dir = tu_mkdtemp();
    write_network(dir, river_streets, sizeof river_streets / sizeof(double) / 2, "residential");
    fx_env R;
    start(&R, dir, &d, river_yaml, CS_OK);
    cs_network_report n;
    assert_int_equal(cs_result_network(R.result, &n), CS_OK);
    assert_int_equal(n.demand_off, 1);
    assert_true(n.demand_off_pop == 300);
    assert_true(tu_has_message(R.ctx, "1 demand point (300 residents) is more than 300 m",
                               "it counts as not covered", NULL));
    fx_env_close(&R);

    dir = tu_mkdtemp();
    write_network(dir, river_streets, sizeof river_streets / sizeof(double) / 2, "residential");
    start(&R, dir, &d, "network: {path: network.geojson, crs: EPSG:32651, max_attach_m: 500}\n",
          CS_OK);
    assert_int_equal(cs_result_network(R.result, &n), CS_OK);
    assert_int_equal(n.demand_off, 0);
    fx_env_close(&R);
    fx_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(river_with_one_bridge),
        cmocka_unit_test(circles_of_the_kinds_asked_for),
        cmocka_unit_test(second_bridge_covers),
        cmocka_unit_test(motorway_bridge_is_not_walked),
        cmocka_unit_test(service_area_self_check),
        cmocka_unit_test(large_areas_drawn_on_cells),
        cmocka_unit_test(cells_against_the_exact_union),
        cmocka_unit_test(writing_releases_the_network),
        cmocka_unit_test(areas_made_edge_by_edge),
        cmocka_unit_test(catchments_and_load),
        cmocka_unit_test(twins_share_equally),
        cmocka_unit_test(equidistant_on_the_network),
        cmocka_unit_test(three_way_tie),
        cmocka_unit_test(ties_do_not_depend_on_order),
        cmocka_unit_test(network_measure_needs_network),
        cmocka_unit_test(network_read_only_when_walked),
        cmocka_unit_test(bad_network_settings),
        cmocka_unit_test(bad_network_input),
        cmocka_unit_test(off_network_points),
        cmocka_unit_test(kinds_share_the_points_by_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
