/*
 * test_suggest.c — choosing sites: lazy greedy and GLPK's exact maximal and set
 * covering on the textbook case where greedy falls short, against brute-force
 * enumeration on small random instances (greedy never below 1 - 1/e of the optimum),
 * and through a whole study against a brute force that measures every distance itself.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "site/suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void make_sets(cs_cover_sets *cs, size_t C, size_t P, const size_t *first,
                      const uint32_t *pt, const double *w)
{
    memset(cs, 0, sizeof *cs);
    cs->candidates = C;
    cs->points = P;
    cs->first = cs_calloc(C + 1, sizeof *cs->first);
    cs->pt = cs_calloc(first[C] + 1, sizeof *cs->pt);
    cs->weight = cs_calloc(P + 1, sizeof *cs->weight);
    memcpy(cs->first, first, (C + 1) * sizeof *first);
    memcpy(cs->pt, pt, first[C] * sizeof *pt);
    memcpy(cs->weight, w, P * sizeof *w);
}

/* Six unit points; S0 = {0,1,2,3}, S1 = {0,1,4}, S2 = {2,3,5}. With two sites greedy
 * takes S0 (4) and then gains 1: 5; the optimum S1 + S2 covers all 6. Covering all 6
 * takes greedy three sites, the optimum two. */
static void textbook_case(void **state)
{
    (void)state;
    const size_t first[] = {0, 4, 7, 10};
    const uint32_t pt[] = {0, 1, 2, 3, 0, 1, 4, 2, 3, 5};
    const double w[] = {1, 1, 1, 1, 1, 1};
    cs_cover_sets cs;
    make_sets(&cs, 3, 6, first, pt, w);
    size_t chosen[3], n;
    double gains[3], value;
    bool optimal;
    assert_int_equal(cs_greedy_cover(&cs, 2, INFINITY, chosen, gains, &n), CS_OK);
    assert_int_equal(n, 2);
    assert_true(chosen[0] == 0 && chosen[1] == 1); /* the tie goes to the lower index */
    assert_true(gains[0] == 4 && gains[1] == 1);
    assert_int_equal(cs_exact_cover(&cs, 2, INFINITY, 10, chosen, &n, &value, &optimal), CS_OK);
    assert_true(optimal && value == 6 && n == 2 && chosen[0] == 1 && chosen[1] == 2);
    assert_int_equal(cs_greedy_cover(&cs, 3, 6, chosen, gains, &n), CS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cs_exact_cover(&cs, 3, 6, 10, chosen, &n, &value, &optimal), CS_OK);
    assert_true(optimal && value == 2 && n == 2);
    cs_cover_sets_free(&cs);
}

/* The best covered weight over every subset of at most k candidates. */
static double brute_best(const cs_cover_sets *cs, size_t k)
{
    double best = 0;
    for (unsigned mask = 0; mask < (1u << cs->candidates); mask++) {
        if ((size_t)__builtin_popcount(mask) > k)
            continue;
        double got = 0;
        for (size_t i = 0; i < cs->points; i++) {
            bool in = false;
            for (size_t c = 0; c < cs->candidates && !in; c++)
                if (mask & (1u << c))
                    for (size_t q = cs->first[c]; q < cs->first[c + 1] && !in; q++)
                        in = cs->pt[q] == i;
            got += in ? cs->weight[i] : 0;
        }
        best = fmax(best, got);
    }
    return best;
}

static void random_against_enumeration(void **state)
{
    (void)state;
    uint64_t s = 42;
    for (int round = 0; round < 40; round++) {
        size_t C = 6 + tu_rng_next(&s) % 7, P = 10 + tu_rng_next(&s) % 30;
        size_t first[16] = {0};
        uint32_t pt[16 * 40];
        double w[40];
        size_t n = 0;
        for (size_t i = 0; i < P; i++)
            w[i] = (double)(1 + tu_rng_next(&s) % 20);
        for (size_t c = 0; c < C; c++) {
            for (size_t i = 0; i < P; i++)
                if (tu_rng_next(&s) % 4 == 0)
                    pt[n++] = (uint32_t)i;
            first[c + 1] = n;
        }
        cs_cover_sets cs;
        make_sets(&cs, C, P, first, pt, w);
        for (size_t k = 1; k <= 4; k++) {
            size_t chosen[16], m;
            double gains[16], value, greedy = 0;
            bool optimal;
            double best = brute_best(&cs, k);
            assert_int_equal(cs_greedy_cover(&cs, k, INFINITY, chosen, gains, &m), CS_OK);
            for (size_t q = 0; q < m; q++)
                greedy += gains[q];
            assert_int_equal(cs_exact_cover(&cs, k, INFINITY, 10, chosen, &m, &value, &optimal),
                             CS_OK);
            assert_true(optimal);
            if (fabs(value - best) > 1e-9)
                fail_msg("round %d k %zu: exact %g, enumeration %g", round, k, value, best);
            assert_true(greedy <= best + 1e-9);
            assert_true(greedy >= (1 - exp(-1)) * best - 1e-9);
        }
        cs_cover_sets_free(&cs);
    }
}

/* Nine candidates C1..C9 of kind a on a 3 x 3 grid, 1,100 m apart, 400 m in from the
 * corner of the fixture's 3 km square. */
enum { NC = 9 };
static void grid_candidates(cs_site_input cand[NC], char names[NC][8])
{
    for (size_t c = 0; c < NC; c++) {
        snprintf(names[c], 8, "C%zu", c + 1);
        cand[c] = (cs_site_input){names[c], FX_X0 + 400 + 1100.0 * (double)(c % 3),
                                  FX_Y0 + 400 + 1100.0 * (double)(c / 3), "EPSG:32651", "a",
                                  NAN, 0};
    }
}

/* The study of 300 random residents on the 3 km square with one centre (kind a) in a
 * corner, most residents uncovered; run. */
static void corner_study(fx_env *e, fx_data *d)
{
    fx_random(d, 12, 3, 3, 1000, 1, 300);
    d->fkind[0] = 0;
    d->fx[0] = FX_X0 + 100;
    d->fy[0] = FX_Y0 + 100;
    assert_int_equal(fx_env_open(e, d, NULL), CS_OK);
    fx_env_run_ok(e);
}

/* cs_site_suggest, its messages shown when it fails. */
static void suggest_ok(cs_context *ctx, const cs_result *r, const cs_suggest_options *opt,
                       cs_site **site, cs_suggest_report *rep)
{
    cs_status st = cs_site_suggest(ctx, r, opt, site, rep);
    if (st != CS_OK)
        tu_dump_messages(ctx);
    assert_int_equal(st, CS_OK);
}

/* Through a study: candidates given; the optimum of two sites by brute force over the
 * candidate pairs, measuring every distance here. */
static void study_against_brute_force(void **state)
{
    (void)state;
    fx_data d;
    fx_env e = {0};
    corner_study(&e, &d);
    cs_context *ctx = e.ctx;
    cs_result *r = e.result;
    const char *dir = e.dir;
    cs_site_input cand[NC];
    char names[NC][8];
    grid_candidates(cand, names);
    /* uncovered (beyond 1,200 m of every facility) residents aged 65+ */
    double best = 0;
    for (size_t c1 = 0; c1 < NC; c1++)
        for (size_t c2 = c1 + 1; c2 < NC; c2++) {
            double got = 0;
            for (size_t i = 0; i < d.npop; i++) {
                double now = INFINITY;
                for (size_t f = 0; f < d.nfac; f++)
                    now = fmin(now, hypot(d.px[i] - d.fx[f], d.py[i] - d.fy[f]));
                double a = hypot(d.px[i] - cand[c1].lon, d.py[i] - cand[c1].lat);
                double b = hypot(d.px[i] - cand[c2].lon, d.py[i] - cand[c2].lat);
                if (now > 1200 && fmin(a, b) <= 1200)
                    got += d.pop65[i];
            }
            best = fmax(best, got);
        }
    cs_suggest_options opt = {"a", 2, NAN, NAN, 1, 0, cand, NC, NULL, NULL, 0, NULL, CS_MODEL_COVER, 0, NAN, 0};
    cs_suggest_report rep;
    cs_site *site = NULL;
    suggest_ok(ctx, r, &opt, &site, &rep);
    assert_true(rep.exact_run && rep.exact_optimal && best > 0 && rep.chosen == 2);
    assert_true(fabs(rep.exact_value - best) < 1e-6);
    assert_true(rep.greedy_covered <= best + 1e-6 && rep.greedy_covered >= 0.632 * best);
    assert_int_equal(cs_site_count(site), rep.chosen);
    /* the sites listed (the exact solution's), evaluated together, newly cover the
     * optimum found by brute force */
    assert_true(rep.exact_listed && fabs(rep.exact_covered - best) < 1e-6);
    double together;
    assert_int_equal(cs_site_newly(site, cs_site_count(site), 0, 2, 1, CS_DISTRICT, &together),
                     CS_OK);
    assert_true(fabs(together - best) < 1e-6);
    /* an exclusion zone around the first site chosen: it is left out, and the best of
     * the rest (by brute force again) is what the exact solver finds */
    cs_site_figures first;
    assert_int_equal(cs_site_get_figures(site, 0, &first), CS_OK);
    size_t c0 = 0;
    double bx = NAN, by = NAN;
    for (size_t c = 0; c < NC; c++)
        if (!strcmp(first.id, names[c]))
            c0 = c, bx = cand[c].lon, by = cand[c].lat;
    assert_false(isnan(bx));
    char zone[512];
    snprintf(zone, sizeof zone, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
             "\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
             "[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]}}]}\n",
             bx - 50, by - 50, bx + 50, by - 50, bx + 50, by + 50, bx - 50, by + 50, bx - 50,
             by - 50);
    char *zpath = tu_write(dir, "water.geojson", zone);
    cs_site_destroy(site);
    site = NULL;
    opt.exclude = zpath;
    opt.exclude_crs = "EPSG:32651";
    assert_int_equal(cs_site_suggest(ctx, r, &opt, &site, &rep), CS_OK);
    assert_int_equal(rep.excluded, 1);
    for (size_t p = 0; p < cs_site_count(site); p++) {
        cs_site_figures f;
        assert_int_equal(cs_site_get_figures(site, p, &f), CS_OK);
        assert_string_not_equal(f.id, names[c0]);
    }
    double best_rest = 0;
    for (size_t c1 = 0; c1 < NC; c1++)
        for (size_t c2 = c1 + 1; c2 < NC; c2++) {
            if (c1 == c0 || c2 == c0)
                continue;
            double got = 0;
            for (size_t i = 0; i < d.npop; i++) {
                double now = hypot(d.px[i] - d.fx[0], d.py[i] - d.fy[0]);
                double a = hypot(d.px[i] - cand[c1].lon, d.py[i] - cand[c1].lat);
                double b = hypot(d.px[i] - cand[c2].lon, d.py[i] - cand[c2].lat);
                if (now > 1200 && fmin(a, b) <= 1200)
                    got += d.pop65[i];
            }
            best_rest = fmax(best_rest, got);
        }
    assert_true(fabs(rep.exact_value - best_rest) < 1e-6);
    free(zpath);
    cs_site_destroy(site);
    /* errors */
    cs_suggest_options bad = {"zz", 2, NAN, NAN, 0, 0, NULL, 0, NULL, NULL, 0, NULL, CS_MODEL_COVER, 0, NAN, 0};
    assert_int_equal(cs_site_suggest(ctx, r, &bad, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "unknown kind 'zz' to suggest sites for (--kind)",
                               "give --kind one of the study's kinds: a, b", NULL));
    bad.kind = "a";
    bad.within_min = 7;
    assert_int_equal(cs_site_suggest(ctx, r, &bad, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "--within 7 minutes is not a threshold of kind 'a'",
                               "give --within one of the kind's thresholds: 5, 10, 15 min",
                               NULL));
    bad.within_min = NAN;
    bad.within_m = 999;
    assert_int_equal(cs_site_suggest(ctx, r, &bad, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "--within 999 m is not a threshold of kind 'a'", NULL));
    bad.within_m = 0;
    bad.k = 0;
    assert_int_equal(cs_site_suggest(ctx, r, &bad, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "nothing to choose", "give --suggest K > 0", NULL));
    fx_env_close(&e);
    fx_free(&d);
}

/* The textbook case placed on a line (metres from FX_X0, all at FX_Y0 + 500; 1,200 m
 * threshold): residents of weight 10 at 3,000 (p4), 4,000 (p0, p1), 6,000 (p2, p3) and
 * 7,000 (p5); candidates C1 at 5,000 (reaches p0-p3), C2 at 3,500 (p4, p0, p1), C3 at
 * 6,500 (p2, p3, p5); the one facility at 100 m reaches none of them. By enumeration
 * over the 3 pairs: C1+C2 and C1+C3 newly cover 50, C2+C3 all 60. Greedy takes C1 then
 * C2 (50); --exact must list C2 and C3 (60) and report both values; covering all 60
 * takes greedy three sites and the optimum two. */
static void line_case(fx_data *d_)
{
    fx_data d;
    fx_alloc(&d, 10, 1, 1000, 1, 6);
    d.fkind[0] = 0;
    d.fx[0] = FX_X0 + 100;
    d.fy[0] = FX_Y0 + 500;
    d.fbeds[0] = 10;
    const double at[6] = {4000, 4000, 6000, 6000, 3000, 7000};
    for (size_t i = 0; i < 6; i++) {
        d.px[i] = FX_X0 + at[i];
        d.py[i] = FX_Y0 + 500;
        d.pop[i] = d.pop65[i] = 10;
    }
    *d_ = d;
}

static const double line_cx[3] = {5000, 3500, 6500};

/* The line case loaded and run (with one setting when key is given). */
static void line_run_open(fx_env *lr, const char *key, const char *value)
{
    memset(lr, 0, sizeof *lr);
    line_case(&lr->d);
    assert_int_equal(fx_env_open(lr, &lr->d, NULL), CS_OK);
    if (key)
        fx_env_set(lr, key, value);
    fx_env_run_ok(lr);
}

/* The line case's three candidates. */
static void line_candidates(cs_site_input cand[3])
{
    const char *names[3] = {"C1", "C2", "C3"};
    for (size_t c = 0; c < 3; c++)
        cand[c] = (cs_site_input){names[c], FX_X0 + line_cx[c], FX_Y0 + 500, "EPSG:32651", "a",
                                  NAN, 0};
}

static void exact_sites_listed(void **state)
{
    (void)state;
    fx_env lr;
    line_run_open(&lr, NULL, NULL);
    cs_context *ctx = lr.ctx;
    cs_result *r = lr.result;
    cs_site_input cand[3];
    line_candidates(cand);
    /* maximal covering, two sites */
    cs_suggest_options opt = {"a", 2, NAN, NAN, 1, 0, cand, 3, NULL, NULL, 0, NULL, CS_MODEL_COVER, 0, NAN, 0};
    cs_suggest_report rep;
    cs_site *site = NULL;
    suggest_ok(ctx, r, &opt, &site, &rep);
    assert_int_equal(rep.chosen, 2);
    assert_true(fabs(rep.greedy_covered - 50) < 1e-9);
    assert_true(rep.exact_run && rep.exact_optimal && rep.exact_listed);
    assert_int_equal(rep.exact_chosen, 2);
    assert_true(fabs(rep.exact_covered - 60) < 1e-9 && fabs(rep.exact_value - 60) < 1e-6);
    assert_int_equal(cs_site_count(site), 2);
    cs_site_figures f0, f1;
    assert_int_equal(cs_site_get_figures(site, 0, &f0), CS_OK);
    assert_int_equal(cs_site_get_figures(site, 1, &f1), CS_OK);
    assert_true((!strcmp(f0.id, "C2") && !strcmp(f1.id, "C3")) ||
                (!strcmp(f0.id, "C3") && !strcmp(f1.id, "C2")));
    assert_true(cs_site_gain(site, 0) == 30 && cs_site_gain(site, 1) == 30);
    double together;
    assert_int_equal(cs_site_newly(site, 2, 0, 2, 1, CS_DISTRICT, &together), CS_OK);
    assert_true(fabs(together - 60) < 1e-6);
    char *out = tu_join(lr.dir, "out");
    assert_int_equal(cs_site_write(ctx, site, out), CS_OK);
    char *path = tu_join(out, "suggestions.geojson");
    char *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"listed\":\"exact\",\"greedy\":{\"sites\":2,"
                                 "\"newly_covered\":50},\"exact\":{\"sites\":2,"
                                 "\"newly_covered\":60,\"optimal\":true,\"seconds\":"));
    free(text);
    cs_site_destroy(site);
    /* without --exact greedy's sites are listed and the exact one is null */
    opt.exact = 0;
    assert_int_equal(cs_site_suggest(ctx, r, &opt, &site, &rep), CS_OK);
    assert_false(rep.exact_listed);
    assert_int_equal(cs_site_get_figures(site, 0, &f0), CS_OK);
    assert_string_equal(f0.id, "C1");
    assert_int_equal(cs_site_write(ctx, site, out), CS_OK);
    text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"listed\":\"greedy\",\"greedy\":{\"sites\":2,"
                                 "\"newly_covered\":50},\"exact\":null"));
    free(text);
    cs_site_destroy(site);
    /* set covering of all 60: greedy three sites, the optimum two (C2, C3) listed */
    cs_suggest_options cover = {"a", 0, NAN, 1.0, 1, 0, cand, 3, NULL, NULL, 0, NULL, CS_MODEL_COVER, 0, NAN, 0};
    assert_int_equal(cs_site_suggest(ctx, r, &cover, &site, &rep), CS_OK);
    assert_int_equal(rep.chosen, 3);
    assert_true(rep.exact_listed && rep.exact_chosen == 2 && fabs(rep.exact_covered - 60) < 1e-9);
    assert_int_equal(cs_site_count(site), 2);
    assert_int_equal(cs_site_get_figures(site, 0, &f0), CS_OK);
    assert_int_equal(cs_site_get_figures(site, 1, &f1), CS_OK);
    assert_true(strcmp(f0.id, "C1") && strcmp(f1.id, "C1"));
    cs_site_destroy(site);
    free(path);
    free(out);
    fx_env_close(&lr);
}

/* The same line with kind a's thresholds in metres (600, 1,200): --within 600 m reaches
 * from C2 (3,500) p4 and p0, p1 (30) and from C3 (6,500) p2, p3, p5 (30), from C1
 * (5,000) nothing; within 1,200 m C1 reaches 40. Minutes are no threshold of it. */
static void within_metres(void **state)
{
    (void)state;
    fx_env lr;
    line_run_open(&lr, "kinds.a.thresholds_m", "600,1200");
    cs_context *ctx = lr.ctx;
    cs_result *r = lr.result;
    cs_site_input cand[3];
    line_candidates(cand);
    cs_suggest_options opt = {"a", 1, NAN, NAN, 0, 0, cand, 3, NULL, NULL, 600, NULL, CS_MODEL_COVER, 0, NAN, 0};
    cs_suggest_report rep;
    cs_site *site = NULL;
    cs_site_figures f;
    assert_int_equal(cs_site_suggest(ctx, r, &opt, &site, &rep), CS_OK);
    assert_true(rep.chosen == 1 && rep.greedy_covered == 30);
    assert_int_equal(cs_site_get_figures(site, 0, &f), CS_OK);
    assert_string_equal(f.id, "C2"); /* the tie with C3 goes to the lower index */
    cs_site_destroy(site);
    opt.within_m = 1200;
    assert_int_equal(cs_site_suggest(ctx, r, &opt, &site, &rep), CS_OK);
    assert_true(rep.chosen == 1 && rep.greedy_covered == 40);
    assert_int_equal(cs_site_get_figures(site, 0, &f), CS_OK);
    assert_string_equal(f.id, "C1");
    cs_site_destroy(site);
    site = NULL;
    opt.within_m = 0;
    opt.within_min = 15;
    assert_int_equal(cs_site_suggest(ctx, r, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(ctx, "--within 15 minutes is not a threshold of kind 'a'",
                               "give --within one of the kind's thresholds: 600, 1200 m "
                               "(metres with an m: --within 500m)", NULL));
    assert_null(site);
    fx_env_close(&lr);
}

/* Generated candidates on the line case with 3,000 m cells: the cells' centres lie
 * 1,000 m off the 1,000 m-high strip of areas, so each cell's candidate is its uncovered
 * resident nearest the centre. Covering all 60 (band total: every resident) then takes
 * two sites, each at a resident, inside the study; an unknown band is refused. */
static void generated_candidates_stay_inside(void **state)
{
    (void)state;
    fx_env lr;
    line_run_open(&lr, "underserved.cell_m", "3000");
    cs_suggest_options opt = {.kind = "a", .within_min = NAN, .reach_share = 1,
                              .band = "total"};
    cs_suggest_report rep;
    cs_site *site = NULL;
    assert_int_equal(cs_site_suggest(lr.ctx, lr.result, &opt, &site, &rep), CS_OK);
    assert_true(rep.need == 60 && rep.greedy_covered == 60 && rep.chosen == 2);
    const cs_study *s = lr.result->study;
    for (size_t p = 0; p < site->P; p++) {
        const cs_proposal *pr = &site->proposals[p];
        bool at_resident = false;
        for (size_t i = 0; i < s->dem.count; i++)
            at_resident |= fabs(s->dem.x[i] - pr->x) < 0.01 && fabs(s->dem.y[i] - pr->y) < 0.01;
        assert_true(at_resident && pr->area >= 0);
    }
    cs_site_destroy(site);
    site = NULL;
    opt.band = "90+";
    assert_int_equal(cs_site_suggest(lr.ctx, lr.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(lr.ctx, "unknown band '90+' to suggest sites for",
                               "give one of the study's bands: total, ", NULL));
    assert_null(site);
    fx_env_close(&lr);
}

/* ------------------------------------------------------------------ p-median */

/* p-median sets from dense costs: cost[c * P + i] < 0 where c does not reach i. */
static void make_median(cs_cover_sets *cs, size_t C, size_t P, const double *cost,
                        const double *base, const double *w)
{
    memset(cs, 0, sizeof *cs);
    cs->candidates = C;
    cs->points = P;
    cs->first = cs_calloc(C + 1, sizeof *cs->first);
    cs->pt = cs_calloc(C * P + 1, sizeof *cs->pt);
    cs->cost = cs_calloc(C * P + 1, sizeof *cs->cost);
    cs->weight = cs_calloc(P + 1, sizeof *cs->weight);
    cs->base = cs_calloc(P + 1, sizeof *cs->base);
    memcpy(cs->weight, w, P * sizeof *w);
    memcpy(cs->base, base, P * sizeof *base);
    size_t n = 0;
    for (size_t c = 0; c < C; c++) {
        cs->first[c] = n;
        for (size_t i = 0; i < P; i++)
            if (cost[c * P + i] >= 0 && cost[c * P + i] < base[i]) {
                cs->pt[n] = (uint32_t)i;
                cs->cost[n++] = cost[c * P + i];
            }
    }
    cs->first[C] = n;
}

/* The total walk with the candidates of mask open, from the dense costs. */
static double walk_of(unsigned mask, size_t C, size_t P, const double *cost,
                      const double *base, const double *w)
{
    double total = 0;
    for (size_t i = 0; i < P; i++) {
        double d = base[i];
        for (size_t c = 0; c < C; c++)
            if ((mask & (1u << c)) && cost[c * P + i] >= 0)
                d = fmin(d, cost[c * P + i]);
        total += w[i] * d;
    }
    return total;
}

static unsigned mask_of(const size_t *sites, size_t n)
{
    unsigned m = 0;
    for (size_t q = 0; q < n; q++)
        m |= 1u << sites[q];
    return m;
}

/* Six residents of weight 1, each walking 10 now. A reaches residents 0-3 at 1 (saves
 * 36), B residents 0, 1, 4 at 0 (30), C residents 2, 3, 5 at 0 (30). Greedy takes A
 * and then B (+12; C ties, the lower index wins): 48 saved. Swapping A for C saves all
 * 60, the optimum, as B + C is by enumeration of the three pairs (48, 48, 60). */
static void median_textbook_case(void **state)
{
    (void)state;
    const double X = -1;
    const double cost[3 * 6] = {1, 1, 1, 1, X, X, /* A */
                                0, 0, X, X, 0, X, /* B */
                                X, X, 0, 0, X, 0 /* C */};
    const double base[6] = {10, 10, 10, 10, 10, 10}, w[6] = {1, 1, 1, 1, 1, 1};
    cs_cover_sets cs;
    make_median(&cs, 3, 6, cost, base, w);
    size_t chosen[3], n, swaps;
    double gains[3];
    assert_int_equal(cs_median_heuristic(&cs, 1, 1, chosen, gains, &n, &swaps), CS_OK);
    assert_true(n == 1 && chosen[0] == 0 && gains[0] == 36 && swaps == 0);
    assert_int_equal(cs_median_heuristic(&cs, 2, 1, chosen, gains, &n, &swaps), CS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(swaps, 1);
    assert_true(mask_of(chosen, n) == 6u && gains[0] == 30 && gains[1] == 30);
    assert_true(cs_median_saving(&cs, chosen, n) == 60);
    /* the bound: at least the optimum (60), and here reaching it */
    double bound = cs_median_bound(&cs, 2, 1, 48);
    assert_true(bound >= 60 - 1e-9 && bound <= 60 + 1e-6);
    size_t sites[3], start[2] = {0, 1};
    cs_median_solution sol = {.sites = sites};
    assert_int_equal(cs_median_exact(&cs, 2, 10, start, 2, &sol), CS_OK);
    assert_true(sol.optimal && sol.saving == 60 && sol.bound == 60 && sol.count == 2);
    assert_true(mask_of(sol.sites, sol.count) == 6u);
    assert_true(sol.lp_bound >= 60 - 1e-9);
    cs_cover_sets_free(&cs);
}

/* Random costs (whole metres, so ties are common) against enumeration of every set of
 * at most k candidates: the exact solve is the optimum, the bound is never below it,
 * the heuristic never above it, no single swap improves the heuristic's sites, and its
 * ranked gains add up to what its sites save. */
static void median_against_enumeration(void **state)
{
    (void)state;
    uint64_t s = 7;
    for (int round = 0; round < 40; round++) {
        size_t C = 5 + tu_rng_next(&s) % 8, P = 8 + tu_rng_next(&s) % 30;
        double cost[12 * 40], base[40], w[40];
        for (size_t i = 0; i < P; i++) {
            w[i] = (double)(1 + tu_rng_next(&s) % 20);
            base[i] = (double)(3 + tu_rng_next(&s) % 12);
        }
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < P; i++)
                cost[c * P + i] = tu_rng_next(&s) % 3 == 0
                                      ? (double)(tu_rng_next(&s) % 15) : -1;
        cs_cover_sets cs;
        make_median(&cs, C, P, cost, base, w);
        double before = walk_of(0, C, P, cost, base, w);
        for (size_t k = 1; k <= 4 && k < C; k++) {
            double best = INFINITY;
            for (unsigned mask = 0; mask < (1u << C); mask++)
                if ((size_t)__builtin_popcount(mask) <= k)
                    best = fmin(best, walk_of(mask, C, P, cost, base, w));
            size_t chosen[12], n, swaps;
            double gains[12], saved = 0;
            assert_int_equal(cs_median_heuristic(&cs, k, 2, chosen, gains, &n, &swaps), CS_OK);
            for (size_t q = 0; q < n; q++)
                saved += gains[q];
            unsigned mine = mask_of(chosen, n);
            double walk = walk_of(mine, C, P, cost, base, w);
            if (fabs(before - saved - walk) > 1e-9)
                fail_msg("round %d k %zu: gains %g, walk %g -> %g", round, k, saved, before, walk);
            assert_true(walk >= best - 1e-9);
            for (size_t q = 0; q < n; q++) /* no swap improves */
                for (size_t f = 0; f < C; f++)
                    if (!(mine & (1u << f))) {
                        unsigned other = (mine & ~(1u << chosen[q])) | (1u << f);
                        if (walk_of(other, C, P, cost, base, w) < walk - 1e-9)
                            fail_msg("round %d k %zu: swapping %zu for %zu improves", round, k,
                                     chosen[q], f);
                    }
            double bound = cs_median_bound(&cs, k, 2, saved);
            if (before - bound > best + 1e-9)
                fail_msg("round %d k %zu: bound %g above the optimum %g", round, k,
                         before - bound, best);
            size_t sites[12];
            cs_median_solution sol = {.sites = sites};
            assert_int_equal(cs_median_exact(&cs, k, 10, chosen, n, &sol), CS_OK);
            assert_true(sol.optimal && sol.count <= k);
            if (fabs(before - sol.saving - best) > 1e-9 ||
                fabs(walk_of(mask_of(sol.sites, sol.count), C, P, cost, base, w) - best) > 1e-9)
                fail_msg("round %d k %zu: exact %g, enumeration %g", round, k,
                         before - sol.saving, best);
            assert_true(fabs(sol.bound - sol.saving) < 1e-9 && sol.lp_bound >= sol.saving - 1e-9);
        }
        cs_cover_sets_free(&cs);
    }
}

/* Through a study, straight line: the mean walk (each counted up to 1,200 m, the
 * largest threshold) of the residents aged 65+ before and with the best two of nine
 * given candidates, by brute force over the candidate pairs measuring every distance
 * here; the exact solve finds it, and the sites listed walk it. */
static void median_study_against_brute_force(void **state)
{
    (void)state;
    fx_data d;
    fx_env e = {0};
    corner_study(&e, &d);
    cs_site_input cand[NC];
    char names[NC][8];
    grid_candidates(cand, names);
    double weight = 0, before = 0, best = INFINITY, pair_walk[NC][NC];
    for (size_t i = 0; i < d.npop; i++) {
        double now = fmin(1200, hypot(d.px[i] - d.fx[0], d.py[i] - d.fy[0]));
        weight += d.pop65[i];
        before += d.pop65[i] * now;
    }
    for (size_t c1 = 0; c1 < NC; c1++)
        for (size_t c2 = c1 + 1; c2 < NC; c2++) {
            double walk = 0;
            for (size_t i = 0; i < d.npop; i++) {
                double now = fmin(1200, hypot(d.px[i] - d.fx[0], d.py[i] - d.fy[0]));
                double a = hypot(d.px[i] - cand[c1].lon, d.py[i] - cand[c1].lat);
                double b = hypot(d.px[i] - cand[c2].lon, d.py[i] - cand[c2].lat);
                walk += d.pop65[i] * fmin(now, fmin(a, b));
            }
            pair_walk[c1][c2] = pair_walk[c2][c1] = walk;
            best = fmin(best, walk);
        }
    cs_suggest_options opt = {.kind = "a", .k = 2, .within_min = NAN, .reach_share = NAN,
                              .exact = 1, .candidates = cand, .candidate_count = NC,
                              .model = CS_MODEL_MEDIAN};
    cs_suggest_report rep;
    cs_site *site = NULL;
    suggest_ok(e.ctx, e.result, &opt, &site, &rep);
    assert_true(fabs(rep.walk_before - before / weight) < 1e-6);
    assert_true(rep.exact_run && rep.exact_optimal && rep.exact_listed);
    if (fabs(rep.exact_walk - best / weight) > 1e-6)
        fail_msg("exact %.6f m, brute force %.6f m", rep.exact_walk, best / weight);
    assert_true(rep.heuristic_walk >= best / weight - 1e-6);
    assert_true(rep.walk_bound <= best / weight + 1e-6);
    assert_int_equal(cs_site_count(site), 2);
    size_t at[2];
    double gains = 0;
    for (size_t p = 0; p < 2; p++) {
        cs_site_figures f;
        assert_int_equal(cs_site_get_figures(site, p, &f), CS_OK);
        at[p] = (size_t)atoi(f.id + 1) - 1;
        gains += cs_site_gain(site, p);
    }
    assert_true(fabs(pair_walk[at[0]][at[1]] - best) < 1e-6);
    assert_true(fabs(rep.walk_before - gains - best / weight) < 1e-6);
    assert_true(cs_site_gain(site, 0) >= cs_site_gain(site, 1));
    /* suggestions.geojson states the model, the walks and the solve */
    char *out = tu_join(e.dir, "out"), *path = tu_join(out, "suggestions.geojson");
    assert_int_equal(cs_site_write(e.ctx, site, out), CS_OK);
    char *text = tu_read(path, NULL);
    const char *want = "\"model\":\"p-median\",\"listed\":\"exact\",\"mean_walk_before_m\":";
    const char *at_before = strstr(text, want);
    assert_non_null(at_before);
    assert_true(fabs(strtod(at_before + strlen(want), NULL) - before / weight) < 0.006);
    assert_non_null(strstr(text, "\"optimal\":true,\"seconds\":"));
    assert_non_null(strstr(text, "\"rank\":1,\"mean_walk_saved_m\":"));
    free(text);
    free(path);
    free(out);
    cs_site_destroy(site);
    site = NULL;
    /* set covering's share is no p-median option; an unknown model is refused */
    opt.reach_share = 0.9;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "--reach-share asks for set covering; p-median chooses "
                               "K sites", "give --suggest K with --model p-median", NULL));
    opt.reach_share = NAN;
    opt.model = (cs_site_model)7;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_ARGUMENT);
    assert_null(site);
    fx_env_close(&e);
    fx_free(&d);
}

/* A time limit too short for the LP relaxation (1 ms on 60 candidates x 400 residents,
 * every pair improving): no proof of optimality; whatever was found is a valid saving
 * no larger than the bound, and the heuristic's bound stays above both. */
static void median_exact_stops_at_its_time_limit(void **state)
{
    (void)state;
    enum { C = 60, P = 400 };
    static double cost[C * P], base[P], w[P];
    uint64_t s = 9;
    for (size_t i = 0; i < P; i++) {
        w[i] = (double)(1 + tu_rng_next(&s) % 9);
        base[i] = 2000;
    }
    for (size_t q = 0; q < C * P; q++)
        cost[q] = (double)(tu_rng_next(&s) % 1999);
    cs_cover_sets cs;
    make_median(&cs, C, P, cost, base, w);
    size_t start[C], n, swaps, sites[C];
    double gains[C];
    assert_int_equal(cs_median_heuristic(&cs, 5, 2, start, gains, &n, &swaps), CS_OK);
    cs_median_solution sol = {.sites = sites};
    assert_int_equal(cs_median_exact(&cs, 5, 0.001, start, n, &sol), CS_OK);
    assert_false(sol.optimal);
    if (!isnan(sol.saving)) {
        assert_true(sol.saving <= sol.bound + 1e-6 && sol.count <= 5);
        assert_true(fabs(cs_median_saving(&cs, sol.sites, sol.count) - sol.saving) <
                    1e-6 * sol.saving);
    }
    cs_cover_sets_free(&cs);
}

/* ------------------------------------------------------------------ p-center */

/* The longest walk with the candidates of mask open, over the residents some facility
 * or candidate reaches (base INFINITY: beyond the threshold now); cost < 0: no pair. */
static double longest_of(unsigned mask, size_t C, size_t P, const double *cost,
                         const double *base)
{
    double longest = 0;
    for (size_t i = 0; i < P; i++) {
        double d = base[i], any = base[i];
        for (size_t c = 0; c < C; c++)
            if (cost[c * P + i] >= 0) {
                any = fmin(any, cost[c * P + i]);
                if (mask & (1u << c))
                    d = fmin(d, cost[c * P + i]);
            }
        if (isfinite(any))
            longest = fmax(longest, d);
    }
    return longest;
}

/* Random instances, some residents beyond the threshold now (and some of them beyond
 * every candidate), against enumeration of every set of at most k candidates. */
static void center_against_enumeration(void **state)
{
    (void)state;
    uint64_t s = 11;
    for (int round = 0; round < 40; round++) {
        size_t C = 5 + tu_rng_next(&s) % 8, P = 8 + tu_rng_next(&s) % 30;
        double cost[12 * 40], base[40], w[40], out = 0;
        for (size_t i = 0; i < P; i++) {
            w[i] = (double)(1 + tu_rng_next(&s) % 20);
            base[i] = tu_rng_next(&s) % 4 == 0 ? INFINITY : (double)(3 + tu_rng_next(&s) % 12);
        }
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < P; i++)
                cost[c * P + i] = tu_rng_next(&s) % 3 == 0
                                      ? (double)(tu_rng_next(&s) % 15) : -1;
        for (size_t i = 0; i < P; i++) {
            bool reached = isfinite(base[i]);
            for (size_t c = 0; c < C; c++)
                reached |= cost[c * P + i] >= 0;
            out += reached ? 0 : w[i];
        }
        cs_cover_sets cs;
        make_median(&cs, C, P, cost, base, w);
        for (size_t k = 1; k <= 4 && k < C; k++) {
            double best = INFINITY;
            for (unsigned mask = 0; mask < (1u << C); mask++)
                if ((size_t)__builtin_popcount(mask) <= k)
                    best = fmin(best, longest_of(mask, C, P, cost, base));
            size_t hs[12], es[12];
            cs_center_solution h = {.sites = hs}, e = {.sites = es};
            assert_int_equal(cs_center_solve(&cs, k, 0, &h), CS_OK);
            assert_int_equal(cs_center_solve(&cs, k, 10, &e), CS_OK);
            assert_true(h.left_out == out && e.left_out == out);
            assert_true(e.decided && h.count <= k && e.count <= k);
            if (e.radius != best || longest_of(mask_of(es, e.count), C, P, cost, base) != best)
                fail_msg("round %d k %zu: exact %g, enumeration %g", round, k, e.radius, best);
            assert_true(h.radius >= best && h.lower <= best && e.lower == best);
            if (isfinite(h.radius))
                assert_true(longest_of(mask_of(hs, h.count), C, P, cost, base) == h.radius);
        }
        cs_cover_sets_free(&cs);
    }
}

/* Through a study, straight line: the longest walk of the residents aged 65+ whom the
 * facility or one of nine candidates reaches within 1,200 m, with the best five, by
 * brute force over the sets of candidates; those reached by none are left out. */
static void center_study_against_brute_force(void **state)
{
    (void)state;
    fx_data d;
    fx_env e = {0};
    corner_study(&e, &d);
    cs_site_input cand[NC];
    char names[NC][8];
    grid_candidates(cand, names);
    /* each resident's walk now (within 1,200 m) and from each candidate */
    double now[300], to[NC][300], left_out = 0, before = 0, best = INFINITY;
    for (size_t i = 0; i < d.npop; i++) {
        double n = hypot(d.px[i] - d.fx[0], d.py[i] - d.fy[0]);
        now[i] = n <= 1200 ? n : INFINITY;
        bool reached = isfinite(now[i]);
        for (size_t c = 0; c < NC; c++) {
            double t = hypot(d.px[i] - cand[c].lon, d.py[i] - cand[c].lat);
            to[c][i] = t <= 1200 ? t : INFINITY;
            reached |= isfinite(to[c][i]);
        }
        if (!(d.pop65[i] > 0))
            continue;
        if (!reached)
            left_out += d.pop65[i];
        else
            before = fmax(before, now[i]);
    }
    for (unsigned mask = 0; mask < (1u << NC); mask++) {
        if (__builtin_popcount(mask) > 5)
            continue;
        double longest = 0;
        for (size_t i = 0; i < d.npop; i++) {
            double w = now[i];
            bool reached = isfinite(now[i]);
            for (size_t c = 0; c < NC; c++) {
                reached |= isfinite(to[c][i]);
                if (mask & (1u << c))
                    w = fmin(w, to[c][i]);
            }
            if (d.pop65[i] > 0 && reached)
                longest = fmax(longest, w);
        }
        best = fmin(best, longest);
    }
    if (!(isfinite(best) && isinf(before))) /* some walk beyond 1,200 m now */
        fail_msg("best %g before %g left out %g", best, before, left_out);
    cs_suggest_options opt = {.kind = "a", .k = 5, .within_min = NAN, .reach_share = NAN,
                              .exact = 1, .candidates = cand, .candidate_count = NC,
                              .model = CS_MODEL_CENTER};
    cs_suggest_report rep;
    cs_site *site = NULL;
    suggest_ok(e.ctx, e.result, &opt, &site, &rep);
    assert_true(isinf(rep.walk_before) && fabs(rep.left_out - left_out) < 1e-9);
    assert_true(rep.exact_run && rep.exact_optimal && rep.exact_listed);
    if (fabs(rep.exact_walk - best) > 1e-6)
        fail_msg("exact %.6f m, brute force %.6f m", rep.exact_walk, best);
    assert_true(rep.heuristic_walk >= best - 1e-9 && fabs(rep.walk_bound - best) < 1e-6);
    /* the sites listed make the longest walk the optimum */
    size_t n = cs_site_count(site), at[5];
    assert_true(n >= 1 && n <= 5);
    for (size_t p = 0; p < n; p++) {
        cs_site_figures f;
        assert_int_equal(cs_site_get_figures(site, p, &f), CS_OK);
        at[p] = (size_t)atoi(f.id + 1) - 1;
    }
    double longest = 0;
    for (size_t i = 0; i < d.npop; i++) {
        double w = now[i];
        for (size_t p = 0; p < n; p++)
            w = fmin(w, to[at[p]][i]);
        if (d.pop65[i] > 0 && isfinite(w))
            longest = fmax(longest, w);
    }
    assert_true(fabs(longest - best) < 1e-6);
    char *out = tu_join(e.dir, "out"), *path = tu_join(out, "suggestions.geojson");
    assert_int_equal(cs_site_write(e.ctx, site, out), CS_OK);
    char *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"model\":\"p-center\",\"listed\":\"exact\","
                                 "\"longest_walk_before_m\":null,"));
    free(text);
    free(path);
    free(out);
    cs_site_destroy(site);
    fx_env_close(&e);
    fx_free(&d);
}

/* ------------------------------------------------------------------ backup */

/* Residents newly within reach of two facilities with the candidates of mask, from the
 * dense reach (reach[c * P + i]) and the facilities reaching each now (have). */
static double twice_of(unsigned mask, size_t C, size_t P, const unsigned char *reach,
                       const unsigned *have, const double *w)
{
    double got = 0;
    for (size_t i = 0; i < P; i++) {
        unsigned n = have[i];
        for (size_t c = 0; c < C; c++)
            n += (mask & (1u << c)) && reach[c * P + i];
        got += have[i] < 2 && n >= 2 ? w[i] : 0;
    }
    return got;
}

/* Backup sets from the dense reach: residents reached by two facilities now weigh
 * nothing and are in no set. */
static void make_backup(cs_cover_sets *cs, size_t C, size_t P, const unsigned char *reach,
                        const unsigned *have, const double *w)
{
    memset(cs, 0, sizeof *cs);
    cs->candidates = C;
    cs->points = P;
    cs->first = cs_calloc(C + 1, sizeof *cs->first);
    cs->pt = cs_calloc(C * P + 1, sizeof *cs->pt);
    cs->weight = cs_calloc(P + 1, sizeof *cs->weight);
    cs->existing = cs_calloc(P + 1, 1);
    for (size_t i = 0; i < P; i++) {
        cs->weight[i] = have[i] < 2 ? w[i] : 0;
        cs->existing[i] = (unsigned char)(have[i] < 2 ? have[i] : 2);
    }
    size_t n = 0;
    for (size_t c = 0; c < C; c++) {
        cs->first[c] = n;
        for (size_t i = 0; i < P; i++)
            if (reach[c * P + i] && have[i] < 2)
                cs->pt[n++] = (uint32_t)i;
    }
    cs->first[C] = n;
}

/* Random instances against enumeration: the exact solve is the optimum; the heuristic
 * never above it, its gains add up to what its sites bring to two, and no single swap
 * improves it. A resident reached by one candidate and no facility never counts. */
static void backup_against_enumeration(void **state)
{
    (void)state;
    uint64_t s = 5;
    for (int round = 0; round < 40; round++) {
        size_t C = 5 + tu_rng_next(&s) % 8, P = 8 + tu_rng_next(&s) % 30;
        unsigned char reach[12 * 40];
        unsigned have[40];
        double w[40];
        for (size_t i = 0; i < P; i++) {
            w[i] = (double)(1 + tu_rng_next(&s) % 20);
            have[i] = (unsigned)(tu_rng_next(&s) % 4 == 0 ? 2 : tu_rng_next(&s) % 2);
        }
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < P; i++)
                reach[c * P + i] = tu_rng_next(&s) % 3 == 0;
        cs_cover_sets cs;
        make_backup(&cs, C, P, reach, have, w);
        for (size_t k = 1; k <= 4 && k < C; k++) {
            double best = 0;
            for (unsigned mask = 0; mask < (1u << C); mask++)
                if ((size_t)__builtin_popcount(mask) <= k)
                    best = fmax(best, twice_of(mask, C, P, reach, have, w));
            size_t chosen[12], n, swaps, sites[12];
            double gains[12], got = 0, value;
            bool optimal;
            assert_int_equal(cs_backup_heuristic(&cs, k, 2, chosen, gains, &n, &swaps), CS_OK);
            for (size_t q = 0; q < n; q++)
                got += gains[q];
            unsigned mine = mask_of(chosen, n);
            double twice = twice_of(mine, C, P, reach, have, w);
            if (fabs(got - twice) > 1e-9 || twice > best + 1e-9)
                fail_msg("round %d k %zu: gains %g, twice %g, best %g", round, k, got, twice,
                         best);
            assert_true(fabs(cs_backup_value(&cs, chosen, n) - twice) < 1e-9);
            for (size_t q = 0; q < n; q++)
                for (size_t f = 0; f < C; f++)
                    if (!(mine & (1u << f)) &&
                        twice_of((mine & ~(1u << chosen[q])) | (1u << f), C, P, reach, have,
                                 w) > twice + 1e-9)
                        fail_msg("round %d k %zu: swapping %zu for %zu improves", round, k,
                                 chosen[q], f);
            assert_int_equal(cs_backup_exact(&cs, k, 10, sites, &n, &value, &optimal), CS_OK);
            assert_true(optimal && n <= k);
            if (fabs(value - best) > 1e-9 ||
                fabs(twice_of(mask_of(sites, n), C, P, reach, have, w) - best) > 1e-9)
                fail_msg("round %d k %zu: exact %g, enumeration %g", round, k, value, best);
        }
        cs_cover_sets_free(&cs);
    }
}

/* Through a study, straight line, two centres: the residents aged 65+ newly within
 * 1,200 m of two facilities with the best two of nine candidates, by brute force over
 * the pairs measuring every distance here. */
static void backup_study_against_brute_force(void **state)
{
    (void)state;
    fx_data d;
    fx_random(&d, 12, 3, 3, 1000, 2, 300);
    d.fkind[0] = d.fkind[1] = 0;
    d.fx[0] = FX_X0 + 300, d.fy[0] = FX_Y0 + 300;
    d.fx[1] = FX_X0 + 2700, d.fy[1] = FX_Y0 + 2700;
    fx_env e = {0};
    assert_int_equal(fx_env_open(&e, &d, NULL), CS_OK);
    fx_env_run_ok(&e);
    cs_site_input cand[NC];
    char names[NC][8];
    grid_candidates(cand, names);
    static unsigned char reach[NC * 300];
    unsigned have[300];
    for (size_t i = 0; i < d.npop; i++) {
        have[i] = 0;
        for (size_t f = 0; f < 2; f++)
            have[i] += hypot(d.px[i] - d.fx[f], d.py[i] - d.fy[f]) <= 1200;
        for (size_t c = 0; c < NC; c++)
            reach[c * d.npop + i] = hypot(d.px[i] - cand[c].lon, d.py[i] - cand[c].lat) <= 1200;
    }
    double best = 0;
    for (unsigned mask = 0; mask < (1u << NC); mask++)
        if (__builtin_popcount(mask) <= 2)
            best = fmax(best, twice_of(mask, NC, d.npop, reach, have, d.pop65));
    cs_suggest_options opt = {.kind = "a", .k = 2, .within_min = NAN, .reach_share = NAN,
                              .exact = 1, .candidates = cand, .candidate_count = NC,
                              .model = CS_MODEL_BACKUP};
    cs_suggest_report rep;
    cs_site *site = NULL;
    suggest_ok(e.ctx, e.result, &opt, &site, &rep);
    assert_true(best > 0 && rep.exact_run && rep.exact_optimal && rep.exact_listed);
    if (fabs(rep.exact_covered - best) > 1e-6)
        fail_msg("exact %.3f, brute force %.3f", rep.exact_covered, best);
    assert_true(rep.greedy_covered <= best + 1e-6);
    unsigned mask = 0;
    double gains = 0;
    for (size_t p = 0; p < cs_site_count(site); p++) {
        cs_site_figures f;
        assert_int_equal(cs_site_get_figures(site, p, &f), CS_OK);
        mask |= 1u << (atoi(f.id + 1) - 1);
        gains += cs_site_gain(site, p);
    }
    assert_true(fabs(twice_of(mask, NC, d.npop, reach, have, d.pop65) - best) < 1e-6);
    assert_true(fabs(gains - best) < 1e-6);
    cs_site_destroy(site);
    fx_env_close(&e);
    fx_free(&d);
}

/* p-center's exact solve out of time before its questions are answered: undecided, and
 * its bound no longer than the heuristic's answer. */
static void center_exact_stops_at_its_time_limit(void **state)
{
    (void)state;
    enum { C = 60, P = 400 };
    static double cost[C * P], base[P], w[P];
    uint64_t s = 13;
    for (size_t i = 0; i < P; i++) {
        w[i] = 1;
        base[i] = INFINITY;
    }
    for (size_t q = 0; q < C * P; q++)
        cost[q] = (double)(tu_rng_next(&s) % 1999);
    cs_cover_sets cs;
    make_median(&cs, C, P, cost, base, w);
    size_t hs[C], es[C];
    cs_center_solution h = {.sites = hs}, e = {.sites = es};
    assert_int_equal(cs_center_solve(&cs, 5, 0, &h), CS_OK);
    assert_int_equal(cs_center_solve(&cs, 5, 0.001, &e), CS_OK);
    assert_true(h.decided && isfinite(h.radius));
    assert_false(e.decided);
    assert_true(e.lower <= h.radius && e.lower >= h.lower);
    cs_cover_sets_free(&cs);
}

/* spopt's San Francisco case (tests/data/spopt-sf, BSD 3-Clause): 205 census tracts
 * weighted by their population in 2000 (w) and their network distances to 16 candidate
 * stores (d[store][tract]). */
typedef struct sf_case {
    size_t tracts, stores;
    char tract[205][16], store[16][16];
    double w[205];
    double d[16][205];
} sf_case;

/* name's index among names[0..*n), added when new */
static size_t sf_index(char (*names)[16], size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(names[i], name))
            return i;
    snprintf(names[*n], sizeof names[*n], "%s", name);
    return (*n)++;
}

static void sf_read(sf_case *sf)
{
    memset(sf, 0, sizeof *sf);
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/tests/data/spopt-sf/SF_demand_205_centroid_uniform_weight.csv",
             CS_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f)); /* the header */
    while (fgets(line, sizeof line, f)) {
        /* "","OBJECTID","ID","NAME","STATE_NAME","AREA","POP2000",...: quoted NAME */
        char *field[8];
        char *p = line;
        for (int k = 0; k < 8; k++) {
            field[k] = p;
            p = strchr(p, ',');
            assert_non_null(p);
            *p++ = '\0';
        }
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)strlen(field[3]) - 2, field[3] + 1);
        size_t t = sf_index(sf->tract, &sf->tracts, name);
        sf->w[t] = atof(field[6]);
    }
    fclose(f);
    assert_int_equal(sf->tracts, 205);
    snprintf(path, sizeof path, "%s/tests/data/spopt-sf/"
             "SF_network_distance_candidateStore_16_censusTract_205_new.csv", CS_SOURCE_DIR);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f)); /* distance,name,DestinationName,demand */
    size_t rows = 0, tracts = sf->tracts;
    while (fgets(line, sizeof line, f)) {
        char store[16], tract[16];
        double d;
        assert_int_equal(sscanf(line, "%lf,%15[^,],%15[^,],", &d, store, tract), 3);
        size_t c = sf_index(sf->store, &sf->stores, store);
        size_t t = sf_index(sf->tract, &tracts, tract);
        assert_true(c < 16 && t < 205);
        sf->d[c][t] = d;
        rows++;
    }
    fclose(f);
    assert_int_equal(tracts, 205); /* every tract of the matrix has a weight */
    assert_int_equal(rows, 205 * 16);
}

/* Published optima on spopt's San Francisco case: p-median of 4 stores, mean distance
 * 2982.1268579890657 m (spopt's test_p_median.py asserts it), and maximal covering of
 * 4 stores within 5,000 m leaving 21 tracts uncovered (test_mclp.py). No store exists
 * yet: every tract's walk now is a cap beyond every distance. */
static void spopt_san_francisco(void **state)
{
    (void)state;
    static sf_case sf;
    sf_read(&sf);
    size_t C = sf.stores, P = sf.tracts;
    static double cost[16 * 205], base[205];
    double weight = 0;
    for (size_t t = 0; t < P; t++) {
        base[t] = 1e5;
        weight += sf.w[t];
        for (size_t c = 0; c < C; c++)
            cost[c * P + t] = sf.d[c][t];
    }
    cs_cover_sets cs;
    make_median(&cs, C, P, cost, base, sf.w);
    size_t sites[16], start[16], n, swaps;
    double gains[16], saved = 0;
    assert_int_equal(cs_median_heuristic(&cs, 4, 2, start, gains, &n, &swaps), CS_OK);
    for (size_t q = 0; q < n; q++)
        saved += gains[q];
    cs_median_solution sol = {.sites = sites};
    assert_int_equal(cs_median_exact(&cs, 4, 30, start, n, &sol), CS_OK);
    double total = 1e5 * weight, mean = (total - sol.saving) / weight;
    assert_true(sol.optimal && sol.count == 4);
    if (fabs(mean - 2982.1268579890657) > 1e-6)
        fail_msg("p-median of 4: mean %.10f m, spopt 2982.1268579890657", mean);
    assert_true((total - saved) / weight >= mean - 1e-6);
    assert_true((total - cs_median_bound(&cs, 4, 2, saved)) / weight <= mean + 1e-6);
    cs_cover_sets_free(&cs);
    /* p-center of 4 stores: the longest distance by enumeration of the 1,820 sets of 4
     * (7403.0638108499 m, as a GLPK model of the textbook formulation gives), from no
     * store at all (every tract beyond reach now) */
    for (size_t t = 0; t < P; t++)
        base[t] = INFINITY;
    make_median(&cs, C, P, cost, base, sf.w);
    double longest = INFINITY;
    for (unsigned mask = 0; mask < (1u << C); mask++)
        if (__builtin_popcount(mask) == 4)
            longest = fmin(longest, longest_of(mask, C, P, cost, base));
    assert_true(fabs(longest - 7403.0638108499) < 1e-6);
    cs_center_solution center = {.sites = sites};
    assert_int_equal(cs_center_solve(&cs, 4, 30, &center), CS_OK);
    assert_true(center.decided && center.radius == longest && center.left_out == 0);
    cs_cover_sets_free(&cs);
    /* maximal covering within 5,000 m (inclusive, as spopt) */
    size_t first[17] = {0}, npt = 0;
    static uint32_t pt[16 * 205];
    for (size_t c = 0; c < C; c++) {
        for (size_t t = 0; t < P; t++)
            if (sf.d[c][t] <= 5000)
                pt[npt++] = (uint32_t)t;
        first[c + 1] = npt;
    }
    make_sets(&cs, C, P, first, pt, sf.w);
    double covered;
    bool optimal;
    assert_int_equal(cs_exact_cover(&cs, 4, INFINITY, 30, sites, &n, &covered, &optimal), CS_OK);
    assert_true(optimal && n == 4);
    size_t uncovered = 0;
    for (size_t t = 0; t < P; t++) {
        bool in = false;
        for (size_t q = 0; q < n && !in; q++)
            in = sf.d[sites[q]][t] <= 5000;
        uncovered += !in;
    }
    assert_int_equal(uncovered, 21);
    cs_cover_sets_free(&cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(textbook_case),
        cmocka_unit_test(random_against_enumeration),
        cmocka_unit_test(study_against_brute_force),
        cmocka_unit_test(exact_sites_listed),
        cmocka_unit_test(within_metres),
        cmocka_unit_test(generated_candidates_stay_inside),
        cmocka_unit_test(median_textbook_case),
        cmocka_unit_test(median_against_enumeration),
        cmocka_unit_test(median_study_against_brute_force),
        cmocka_unit_test(median_exact_stops_at_its_time_limit),
        cmocka_unit_test(center_against_enumeration),
        cmocka_unit_test(center_study_against_brute_force),
        cmocka_unit_test(center_exact_stops_at_its_time_limit),
        cmocka_unit_test(backup_against_enumeration),
        cmocka_unit_test(backup_study_against_brute_force),
        cmocka_unit_test(spopt_san_francisco),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
