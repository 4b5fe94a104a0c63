/*
 * test_site.c — proposed sites against a full recomputation: each proposal (and all
 * together) is added to the facilities file as an ordinary facility, the whole study is
 * run again, and the coverage, targets, accessibility and load the evaluation predicted
 * from its local search must be what the new run finds — straight and along a walking
 * network. Also bad proposals (outside the study area, an unknown kind, a capacity of
 * -5), each with a clear error.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef fx_env world;

static const char extra[] =
    "targets:\n"
    "  cover_a: {type: coverage, kind: a, within_min: 15, band: 65+, at_least: 0.95, "
    "scope: area}\n"
    "  cover_b: {type: coverage, kind: b, within_min: 10, at_least: 0.9}\n"
    "  count_a: {type: count, kind: a, at_least: 20}\n"
    "  beds_b: {type: capacity, kind: b, capacity: beds, at_least: 5000}\n"
    "  access_b: {type: accessibility, kind: b, at_least: 200}\n";

static const char network_yaml[] = "network: {path: network.geojson, crs: EPSG:32651}\n";

/* A street grid every 125 m over the 2 x 2 km fixture. */
static void write_network(const char *dir)
{
    char *path = tu_join(dir, "network.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    bool first = true;
    for (int i = 0; i <= 16; i++)
        for (int dir_ = 0; dir_ < 2; dir_++) {
            double a = 125.0 * i;
            double x0 = dir_ ? a : 0, y0 = dir_ ? 0 : a, x1 = dir_ ? a : 2000, y1 = dir_ ? 2000 : a;
            fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},"
                       "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[%.1f,%.1f],"
                       "[%.1f,%.1f]]}}\n", first ? "" : ",", FX_X0 + x0, FX_Y0 + y0,
                    FX_X0 + x1, FX_Y0 + y1);
            first = false;
        }
    fprintf(f, "]}\n");
    fclose(f);
}

static void open_world(world *w, const fx_data *d, bool network)
{
    w->dir = tu_mkdtemp();
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s%s", extra, network ? network_yaml : "");
    if (network)
        write_network(w->dir);
    assert_int_equal(fx_env_open(w, d, yaml), CS_OK);
    fx_env_set(w, "kinds.b.load_capacity", "beds");
    fx_env_set(w, "kinds.b.load_band", "65+");
    fx_env_set(w, "kinds.b.load_rate", "0.1");
    fx_env_run_ok(w);
}

/* The fixture with proposals q (indices into props) appended as facilities. */
static void with_proposals(const fx_data *d, const cs_site_input *props, const size_t *q,
                           size_t nq, fx_data *out)
{
    fx_alloc(out, d->gx, d->gy, d->cell_m, d->nfac + nq, d->npop);
    for (size_t i = 0; i < d->nfac; i++) {
        out->fx[i] = d->fx[i], out->fy[i] = d->fy[i];
        out->fkind[i] = d->fkind[i], out->fbeds[i] = d->fbeds[i];
    }
    for (size_t i = 0; i < nq; i++) {
        const cs_site_input *p = &props[q[i]];
        out->fx[d->nfac + i] = p->lon, out->fy[d->nfac + i] = p->lat;
        out->fkind[d->nfac + i] = !strcmp(p->kind, "b");
        out->fbeds[d->nfac + i] = isnan(p->capacity) ? 0 : p->capacity;
    }
    for (size_t i = 0; i < d->npop; i++) {
        out->px[i] = d->px[i], out->py[i] = d->py[i];
        out->pop[i] = d->pop[i], out->pop65[i] = d->pop65[i];
    }
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-6 * fmax(1, fabs(b)) || (isnan(a) && isnan(b));
}

/* Evaluation p of `site` against a run of the study with those proposals added. */
static void check_against_rerun(const world *base, cs_site *site, size_t p, const world *re)
{
    const cs_study *s = base->study;
    for (size_t k = 0; k < cs_study_kind_count(s); k++)
        for (size_t j = 0; j < cs_study_threshold_count(s, k); j++)
            for (size_t b = 0; b < cs_study_band_count(s); b++)
                for (size_t a = 0; a <= cs_study_area_count(s); a++) {
                    size_t area = a == cs_study_area_count(s) ? CS_DISTRICT : a;
                    cs_coverage before, after;
                    double newly;
                    assert_int_equal(
                        cs_result_coverage(base->result, k, j, b, area, &before), CS_OK);
                    assert_int_equal(
                        cs_result_coverage(re->result, k, j, b, area, &after), CS_OK);
                    assert_int_equal(cs_site_newly(site, p, k, j, b, area, &newly), CS_OK);
                    if (!near(before.covered + newly, after.covered))
                        fail_msg("proposal %zu kind %zu thr %zu band %zu area %zu: %.6f + %.6f "
                                 "!= %.6f", p, k, j, b, a, before.covered, newly, after.covered);
                }
    for (size_t t = 0; t < cs_result_target_count(base->result); t++)
        for (size_t a = 0; a <= cs_study_area_count(s); a++) {
            size_t area = a == cs_study_area_count(s) ? CS_DISTRICT : a;
            cs_target_outcome want, got;
            assert_int_equal(cs_result_target(re->result, t, area, &want), CS_OK);
            assert_int_equal(cs_site_target(site, p, t, area, &got), CS_OK);
            assert_int_equal(got.evaluated, want.evaluated);
            assert_int_equal(got.pass, want.pass);
            if (want.evaluated && !(near(got.value, want.value) && near(got.gap, want.gap)))
                fail_msg("proposal %zu target %s area %zu: %.9g (gap %.9g), rerun %.9g "
                         "(gap %.9g)", p, cs_result_target_id(base->result, t), a, got.value,
                         got.gap, want.value, want.gap);
        }
}

/* Residents aged 65+ (kind b's load band, band 1) the existing facilities of kind b
 * (the one with a capacity; the study keeps the file's order) lose in the rerun. */
static double served_moved(const world *base, const world *re, const fx_data *d)
{
    double moved = 0;
    for (size_t f = 0; f < cs_study_facility_count(base->study); f++) {
        if (d->fkind[f] != 1)
            continue;
        double before, after;
        assert_int_equal(cs_result_served(base->result, f, 1, &before, NULL), CS_OK);
        assert_int_equal(cs_result_served(re->result, f, 1, &after, NULL), CS_OK);
        moved += before - after;
    }
    return moved;
}

static void proposals_against_recomputation(bool network)
{
    fx_data d;
    fx_random(&d, 9, 2, 2, 1000, 14, 600);
    world base = {0};
    open_world(&base, &d, network);
    cs_site_input props[3] = {
        {"P1", FX_X0 + 420.5, FX_Y0 + 1610.25, "EPSG:32651", "a", NAN, 0},
        {"P2", FX_X0 + 1530, FX_Y0 + 470.75, "EPSG:32651", "b", 80, 0},
        {"P3", FX_X0 + 1700.5, FX_Y0 + 1820, "EPSG:32651", "a", NAN, 0},
    };
    cs_site *site = NULL, *cached = NULL;
    assert_int_equal(cs_site_evaluate(base.ctx, base.result, props, 3, NULL, &site), CS_OK);
    assert_int_equal(cs_site_count(site), 3);
    /* the same through a cache a server keeps (the residents' index built once) */
    cs_site_cache *cache = NULL;
    assert_int_equal(cs_site_cache_create(base.ctx, base.result, &cache), CS_OK);
    assert_int_equal(cs_site_evaluate_cached(base.ctx, NULL, props, 3, NULL, &cached),
                     CS_ERR_ARGUMENT);
    assert_int_equal(cs_site_evaluate_cached(base.ctx, cache, props, 3, NULL, &cached), CS_OK);
    for (size_t p = 0; p <= 3; p++) {
        size_t q[3] = {0, 1, 2}, one = p;
        fx_data d2;
        with_proposals(&d, props, p < 3 ? &one : q, p < 3 ? 1 : 3, &d2);
        world re = {0};
        open_world(&re, &d2, network);
        check_against_rerun(&base, site, p, &re);
        check_against_rerun(&base, cached, p, &re);
        cs_site_figures fig;
        assert_int_equal(cs_site_get_figures(site, p, &fig), CS_OK);
        if (p == 3) /* together: the load taken from existing facilities, each resident once */
            assert_true(near(fig.load_taken, 0.1 * served_moved(&base, &re, &d)));
        if (p == 1) { /* the one with beds: accessibility gained and load taken */
            double mean_before, mean_after;
            assert_int_equal(cs_result_access(base.result, 1, CS_DISTRICT, &mean_before), CS_OK);
            assert_int_equal(cs_result_access(re.result, 1, CS_DISTRICT, &mean_after), CS_OK);
            assert_true(near(mean_before + fig.access_gain, mean_after));
            assert_true(fig.access_gain > 0);
            assert_true(near(fig.load_taken, 0.1 * served_moved(&base, &re, &d)));
        }
        fx_env_close(&re);
        fx_free(&d2);
    }
    cs_site_destroy(site);
    cs_site_destroy(cached);
    cs_site_cache_destroy(cache);
    fx_env_close(&base);
    fx_free(&d);
}

static void straight_against_recomputation(void **state)
{
    (void)state;
    proposals_against_recomputation(false);
}

static void network_against_recomputation(void **state)
{
    (void)state;
    proposals_against_recomputation(true);
}

static void bad_proposals(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 4, 2, 1, 1000, 6, 100);
    world w = {0};
    open_world(&w, &d, false);
    cs_site *site = NULL;
    cs_site_input far = {"far", FX_X0 + 50000, FX_Y0, "EPSG:32651", "a", NAN, 0};
    assert_int_equal(cs_site_evaluate(w.ctx, w.result, &far, 1, NULL, &site), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "far", "outside the study area", "48.0 km", NULL));
    cs_site_input kind = {"k", FX_X0 + 500, FX_Y0 + 500, "EPSG:32651", "school", NAN, 0};
    assert_int_equal(cs_site_evaluate(w.ctx, w.result, &kind, 1, NULL, &site), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "unknown kind 'school'", "a, b", NULL));
    cs_site_input neg = {"n", FX_X0 + 500, FX_Y0 + 500, "EPSG:32651", "b", -5, 0};
    assert_int_equal(cs_site_evaluate(w.ctx, w.result, &neg, 1, NULL, &site), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "capacity -5 is not a number >= 0", NULL));
    assert_null(site);
    /* from a file: a negative capacity is named by feature and field */
    char *csv = tu_write(w.dir, "sites.csv", "id,kind,x,y,capacity\nS1,b,350500,3440500,-5\n");
    cs_site_input *in = NULL;
    size_t n = 0;
    assert_int_equal(cs_site_read(w.ctx, csv, "EPSG:32651", NULL, &in, &n), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "sites.csv", "capacity", "-5", NULL));
    assert_null(in);
    free(csv);
    /* coordinate columns: 'long' is found as longitude; others are named */
    csv = tu_write(w.dir, "long.csv", "id,kind,long,lat\nS1,b,350500,3440600\n");
    assert_int_equal(cs_site_read(w.ctx, csv, "EPSG:32651", NULL, &in, &n), CS_OK);
    assert_true(n == 1 && in[0].lon == 350500 && in[0].lat == 3440600);
    cs_site_inputs_free(in, n);
    free(csv);
    csv = tu_write(w.dir, "en.csv", "id,kind,E,N\nS1,b,350700,3440800\n");
    assert_int_equal(cs_site_read(w.ctx, csv, "EPSG:32651", NULL, &in, &n), CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "en.csv", "no field for proposals.x (longitude)",
                               "the fields are: id, kind, E, N", "name it with --x-field NAME",
                               NULL));
    assert_true(tu_has_message(w.ctx, "en.csv", "name it with --y-field NAME", NULL));
    assert_null(in);
    assert_int_equal(cs_site_read_fields(w.ctx, csv, "EPSG:32651", NULL, "E", "N", &in, &n),
                     CS_OK);
    assert_true(n == 1 && in[0].lon == 350700 && in[0].lat == 3440800);
    cs_site_inputs_free(in, n);
    in = NULL;
    assert_int_equal(cs_site_read_fields(w.ctx, csv, "EPSG:32651", NULL, "EE", "N", &in, &n),
                     CS_ERR_INPUT);
    assert_true(tu_has_message(w.ctx, "en.csv", "no field 'EE'", "name it with --x-field NAME",
                               NULL));
    assert_null(in);
    free(csv);
    fx_env_close(&w);
    fx_free(&d);
}

static void allocation_failures(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 6, 2, 1, 1000, 6, 80);
    world w = {0};
    open_world(&w, &d, true);
    cs_site_input props[2] = {
        {"P1", FX_X0 + 300, FX_Y0 + 300, "EPSG:32651", "b", 20, 0},
        {"P2", FX_X0 + 1300, FX_Y0 + 600, "EPSG:32651", "a", NAN, 0},
    };
    long n = 0;
    for (;; n++) {
        cs_site *site = NULL;
        tu_alloc_fail_after(n);
        cs_status st = cs_site_evaluate(w.ctx, w.result, props, 2, NULL, &site);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            cs_site_destroy(site);
            break;
        }
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_CRS);
        assert_null(site);
    }
    assert_true(n > 20);
    fx_env_close(&w);
    fx_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(straight_against_recomputation),
        cmocka_unit_test(network_against_recomputation),
        cmocka_unit_test(bad_proposals),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
