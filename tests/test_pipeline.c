/*
 * test_pipeline.c — the cost field, coverage tables and facility statistics of a
 * whole run on generated studies, each checked against a brute-force computation on
 * the coordinates the test wrote (all pairs, no index).
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

/* A random study of 1.5 km cells, loaded and run on the given threads (0: all). */
static void load(fx_env *L, unsigned seed, size_t gx, size_t gy, size_t nfac, size_t npop,
                 int threads)
{
    memset(L, 0, sizeof *L);
    fx_random(&L->d, seed, gx, gy, 1500, nfac, npop);
    assert_int_equal(fx_env_open(L, &L->d, NULL), CS_OK);
    cs_context_set_threads(L->ctx, threads);
    fx_env_run_ok(L);
}

/* Brute force: distance from demand point i to the nearest facility of kind k. */
static double brute_nearest(const fx_data *d, size_t i, int k)
{
    double best = INFINITY;
    for (size_t f = 0; f < d->nfac; f++)
        if (d->fkind[f] == k)
            best = fmin(best, hypot(d->px[i] - d->fx[f], d->py[i] - d->fy[f]));
    return best;
}

static void cost_field_equals_brute_force(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 4; seed++) {
        fx_env L;
        load(&L, seed, 3, 2, 5 + seed * 7, 1500, 0);
        assert_int_equal(cs_study_demand_count(L.study), L.d.npop);
        double *dist = malloc(L.d.npop * sizeof *dist);
        long *nearest = malloc(L.d.npop * sizeof *nearest);
        for (int k = 0; k < 2; k++) {
            assert_int_equal(cs_cost_field_compute(L.ctx, L.study, (size_t)k, dist, nearest),
                             CS_OK);
            for (size_t i = 0; i < L.d.npop; i++) {
                double want = brute_nearest(&L.d, i, k);
                /* the round trip through WGS84 moves points by nanometres */
                assert_true(fabs(dist[i] - want) < 1e-4);
                assert_true(nearest[i] >= 0);
            }
        }
        free(dist);
        free(nearest);
        fx_env_close(&L);
    }
}

static void kind_without_facilities_is_infinitely_far(void **state)
{
    (void)state;
    fx_env L;
    load(&L, 9, 1, 1, 1, 50, 0); /* one facility: only one of the two kinds has any */
    int missing = L.d.fkind[0] == 0 ? 1 : 0;
    double *dist = malloc(50 * sizeof *dist);
    long *nearest = malloc(50 * sizeof *nearest);
    assert_int_equal(cs_cost_field_compute(L.ctx, L.study, (size_t)missing, dist, nearest), CS_OK);
    for (size_t i = 0; i < 50; i++) {
        assert_true(isinf(dist[i]));
        assert_int_equal(nearest[i], -1);
    }
    cs_coverage c;
    assert_int_equal(cs_result_coverage(L.result, (size_t)missing, 2, 0, CS_DISTRICT, &c), CS_OK);
    assert_true(c.covered == 0 && c.total > 0 && c.share == 0);
    assert_int_equal(cs_cost_field_compute(L.ctx, L.study, 7, dist, nearest), CS_ERR_ARGUMENT);
    free(dist);
    free(nearest);
    fx_env_close(&L);
}

static void coverage_equals_brute_force(void **state)
{
    (void)state;
    const double limits_m[3] = {5 * FX_M_PER_MIN, 10 * FX_M_PER_MIN, 15 * FX_M_PER_MIN};
    for (unsigned seed = 11; seed <= 13; seed++) {
        fx_env L;
        load(&L, seed, 3, 3, 30, 3000, 0);
        size_t A = L.d.gx * L.d.gy;
        assert_int_equal(cs_study_area_count(L.study), A);
        for (int k = 0; k < 2; k++)
            for (size_t j = 0; j < 3; j++) {
                assert_true(fabs(cs_study_threshold_m(L.study, (size_t)k, j) - limits_m[j]) < 1e-9);
                double cov[10][2] = {{0}}, tot[10][2] = {{0}};
                for (size_t i = 0; i < L.d.npop; i++) {
                    long a = fx_area_of(&L.d, L.d.px[i], L.d.py[i]);
                    bool in = brute_nearest(&L.d, i, k) <= limits_m[j];
                    double v[2] = {L.d.pop[i], L.d.pop65[i]};
                    for (int b = 0; b < 2; b++) {
                        tot[a][b] += v[b];
                        tot[A][b] += v[b];
                        if (in) {
                            cov[a][b] += v[b];
                            cov[A][b] += v[b];
                        }
                    }
                }
                for (size_t a = 0; a <= A; a++)
                    for (size_t b = 0; b < 2; b++) {
                        cs_coverage c;
                        assert_int_equal(cs_result_coverage(L.result, (size_t)k, j, b,
                                                             a == A ? CS_DISTRICT : a, &c),
                                         CS_OK);
                        assert_true(c.covered == cov[a][b]);
                        assert_true(c.total == tot[a][b]);
                    }
            }
        fx_env_close(&L);
    }
}

static void facility_counts_and_capacity_by_area(void **state)
{
    (void)state;
    fx_env L;
    load(&L, 21, 2, 2, 40, 100, 0);
    for (int k = 0; k < 2; k++)
        for (size_t a = 0; a <= 4; a++) {
            double want_n = 0, want_beds = 0;
            for (size_t f = 0; f < L.d.nfac; f++)
                if (L.d.fkind[f] == k && (a == 4 || fx_area_of(&L.d, L.d.fx[f], L.d.fy[f]) == (long)a)) {
                    want_n += 1;
                    want_beds += L.d.fbeds[f];
                }
            double n, beds[1];
            assert_int_equal(cs_result_facilities(L.result, (size_t)k, a == 4 ? CS_DISTRICT : a,
                                                  &n, beds), CS_OK);
            assert_true(n == want_n);
            assert_true(beds[0] == want_beds);
        }
    fx_env_close(&L);
}

/* Every table a run makes of its cost fields, the same to the last bit in one and two
 * results: coverage by area and for the district, each facility's served residents, and
 * each point's accessibility. */
static void same_tables(const fx_env *one, const fx_env *two)
{
    const cs_study *s = one->study;
    size_t A = cs_study_area_count(s), B = cs_study_band_count(s);
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        for (size_t j = 0; j < cs_study_threshold_count(s, k); j++)
            for (size_t b = 0; b < B; b++)
                for (size_t a = 0; a <= A; a++) {
                    size_t at = a == A ? CS_DISTRICT : a;
                    cs_coverage c1, c2;
                    assert_int_equal(cs_result_coverage(one->result, k, j, b, at, &c1), CS_OK);
                    assert_int_equal(cs_result_coverage(two->result, k, j, b, at, &c2), CS_OK);
                    assert_memory_equal(&c1, &c2, sizeof c1);
                }
        const double *a1 = cs_result_access_points(one->result, k);
        const double *a2 = cs_result_access_points(two->result, k);
        assert_true((a1 == NULL) == (a2 == NULL));
        if (a1)
            assert_memory_equal(a1, a2, cs_study_demand_count(s) * sizeof *a1);
    }
    for (size_t f = 0; f < cs_study_facility_count(s); f++)
        for (size_t b = 0; b < B; b++) {
            double s1, s2, l1, l2;
            assert_int_equal(cs_result_served(one->result, f, b, &s1, &l1), CS_OK);
            assert_int_equal(cs_result_served(two->result, f, b, &s2, &l2), CS_OK);
            assert_memory_equal(&s1, &s2, sizeof s1);
            assert_memory_equal(&l1, &l2, sizeof l1);
        }
}

/* A study with accessibility (kind b weighs its beds), of more points than the loops
 * over them take on one thread, run on one thread and on two. */
static void load_with_access(fx_env *L, int threads)
{
    memset(L, 0, sizeof *L);
    fx_random(&L->d, 31, 3, 3, 1500, 60, 120000);
    assert_int_equal(fx_env_open(L, &L->d, NULL), CS_OK);
    fx_env_set(L, "kinds.b.load_capacity", "beds");
    fx_env_set(L, "kinds.b.load_band", "65+");
    cs_context_set_threads(L->ctx, threads);
    fx_env_run_ok(L);
}

static void thread_count_does_not_change_results(void **state)
{
    (void)state;
    fx_env one, two;
    load(&one, 31, 3, 3, 60, 4000, 1);
    load(&two, 31, 3, 3, 60, 4000, 2);
    size_t n = cs_study_demand_count(one.study);
    double *d1 = malloc(n * sizeof *d1), *d2 = malloc(n * sizeof *d2);
    long *n1 = malloc(n * sizeof *n1), *n2 = malloc(n * sizeof *n2);
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(cs_cost_field_compute(one.ctx, one.study, k, d1, n1), CS_OK);
        assert_int_equal(cs_cost_field_compute(two.ctx, two.study, k, d2, n2), CS_OK);
        assert_memory_equal(d1, d2, n * sizeof *d1);
        assert_memory_equal(n1, n2, n * sizeof *n1);
    }
    free(d1);
    free(d2);
    free(n1);
    free(n2);
    fx_env_close(&one);
    fx_env_close(&two);
    load_with_access(&one, 1);
    load_with_access(&two, 2);
    assert_non_null(cs_result_access_points(one.result, 1));
    same_tables(&one, &two);
    fx_env_close(&one);
    fx_env_close(&two);
}

/* What a progress callback heard: each stage's fractions in order. */
#define STAGES 16
typedef struct heard {
    char stage[STAGES][32];
    double first[STAGES], last[STAGES];
    bool backwards[STAGES];
    size_t count;
} heard;

static void listen(void *user, const char *stage, double fraction)
{
    heard *h = user;
    size_t i = 0;
    while (i < h->count && strcmp(h->stage[i], stage))
        i++;
    if (i == h->count && h->count < STAGES) {
        snprintf(h->stage[h->count], sizeof h->stage[0], "%s", stage);
        h->first[h->count] = h->last[h->count] = fraction;
        h->count++;
        return;
    }
    if (i < h->count) {
        h->backwards[i] |= fraction < h->last[i];
        h->last[i] = fraction;
    }
}

/* Every stage of a run along the network that can take seconds at city scale reports
 * progress, from its start to 100%, never going back: load, project, network, cost
 * field, coverage, accessibility, patches, service areas, write, and choosing sites. */
static void progress_covers_every_stage(void **state)
{
    (void)state;
    fx_env e = {0};
    heard h = {0};
    assert_int_equal(fx_env_open_file(&e, strdup(SAMPLE "/study.yaml")), CS_OK);
    cs_context_set_progress(e.ctx, listen, &h);
    fx_env_run_ok(&e); /* loads, then runs */
    char *out = tu_mkdtemp();
    assert_int_equal(cs_result_write(e.ctx, e.study, e.result, out), CS_OK);
    cs_suggest_options opt = {.kind = "centre", .k = 2, .within_min = NAN, .reach_share = NAN};
    cs_suggest_report rep;
    cs_site *site = NULL;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_OK);
    cs_site_destroy(site);
    static const char *const stages[] = {"load", "project", "network", "cost field",
                                         "coverage", "accessibility", "patches",
                                         "service areas", "write", "suggest"};
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++) {
        size_t i = 0;
        while (i < h.count && strcmp(h.stage[i], stages[s]))
            i++;
        if (i == h.count)
            fail_msg("no progress heard from stage '%s'", stages[s]);
        if (h.backwards[i] || h.last[i] != 1 || h.first[i] >= 1)
            fail_msg("stage '%s': from %g to %g%s", stages[s], h.first[i], h.last[i],
                     h.backwards[i] ? ", going back" : "");
    }
    tu_rmtree(out);
    free(out);
    fx_env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(progress_covers_every_stage),
        cmocka_unit_test(cost_field_equals_brute_force),
        cmocka_unit_test(kind_without_facilities_is_infinitely_far),
        cmocka_unit_test(coverage_equals_brute_force),
        cmocka_unit_test(facility_counts_and_capacity_by_area),
        cmocka_unit_test(thread_count_does_not_change_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
