/*
 * test_capacity.c — capacity against demand through a whole run: accessibility (2SFCA
 * and its decays) of every demand point and area against a brute-force double loop
 * over the fixture's random points, a hand-worked case for the accessibility and load
 * targets, the per-street capacity columns and their gap texts, and the settings'
 * errors. Walking 80 m/min: the catchment (15 min) is 1,200 m; zones 400/800/1,200 m.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "out/out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef fx_env env;

static void open_env(env *e)
{
    assert_int_equal(fx_env_open(e, &e->d, NULL), CS_OK);
    /* kind b serves the 65+ with its beds: 10% of them use it */
    fx_env_set(e, "kinds.b.load_capacity", "beds");
    fx_env_set(e, "kinds.b.load_band", "65+");
    fx_env_set(e, "kinds.b.load_rate", "0.1");
}

/* ------------------------------------------------------------ brute force */

static double weight(int decay, double d)
{
    if (d > 1200)
        return 0;
    if (decay == 1) /* Luo & Qi's zones */
        return d <= 400 ? 1 : d <= 800 ? 0.68 : 0.22;
    if (decay == 2) {
        double e0 = exp(-0.5);
        return (exp(-0.5 * (d / 1200) * (d / 1200)) - e0) / (1 - e0);
    }
    if (decay == 3) /* power 1.5 from 100 m */
        return pow(d < 100 ? 100 : d, -1.5);
    if (decay == 4) /* exponential, 2 per km */
        return exp(-2 * d / 1000);
    return 1;
}

/* How a run of kind b's accessibility is set up. */
typedef struct access_case {
    int decay;  /* weight() */
    bool points; /* demand: each point with people 65+ once */
    bool three;  /* 3SFCA */
} access_case;

/* A pair's weight: W, or with 3SFCA W^2 over the point's sum of weights (W G). */
static double pair_w(const fx_data *d, const access_case *c, const double *choice, size_t j,
                     size_t i)
{
    double w = weight(c->decay, hypot(d->px[i] - d->fx[j], d->py[i] - d->fy[j]));
    return c->three && w > 0 ? w * w / choice[i] : w;
}

static void brute_access(const fx_data *d, const access_case *c, double *access)
{
    double *ratio = calloc(d->nfac, sizeof *ratio), *choice = calloc(d->npop, sizeof *choice);
    for (size_t i = 0; i < d->npop; i++)
        for (size_t j = 0; j < d->nfac; j++)
            if (d->fkind[j] == 1 && d->fbeds[j] > 0)
                choice[i] += weight(c->decay, hypot(d->px[i] - d->fx[j], d->py[i] - d->fy[j]));
    for (size_t j = 0; j < d->nfac; j++) {
        if (d->fkind[j] != 1)
            continue;
        double demand = 0;
        for (size_t i = 0; i < d->npop; i++)
            demand += (c->points ? d->pop65[i] > 0 : d->pop65[i]) * pair_w(d, c, choice, j, i);
        ratio[j] = demand > 0 ? d->fbeds[j] / demand : 0;
    }
    for (size_t i = 0; i < d->npop; i++) {
        access[i] = 0;
        for (size_t j = 0; j < d->nfac; j++)
            if (d->fkind[j] == 1 && ratio[j] > 0)
                access[i] += 1000 * ratio[j] * pair_w(d, c, choice, j, i);
    }
    free(ratio);
    free(choice);
}

static void access_against_brute_force(void **state)
{
    env *e = *state;
    fx_random(&e->d, 17, 2, 2, 1000, 40, 500);
    open_env(e);
    static const char *const decays[] = {"none", "steps", "gaussian", "power", "exponential"};
    /* each decay, then demand by points, and 3SFCA (straight, through the pairs engine) */
    static const access_case cases[] = {{0, false, false}, {1, false, false},
                                        {2, false, false}, {3, false, false},
                                        {4, false, false}, {0, true, false},
                                        {3, false, true},  {1, true, true}};
    fx_env_set(e, "kinds.b.access_beta", "1.5");
    double *want = calloc(e->d.npop, sizeof *want);
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        const access_case *c = &cases[n];
        int decay = c->decay;
        fx_env_set(e, "kinds.b.access_decay", decays[decay]);
        fx_env_set(e, "kinds.b.access_beta", decay == 4 ? "2" : "1.5");
        fx_env_set(e, "kinds.b.access_demand", c->points ? "points" : "people");
        fx_env_set(e, "kinds.b.access_method", c->three ? "3sfca" : "2sfca");
        fx_env_run_ok(e);
        assert_int_equal(cs_study_demand_count(e->study), e->d.npop);
        const double *got = cs_result_access_points(e->result, 1);
        assert_non_null(got);
        assert_null(cs_result_access_points(e->result, 0)); /* kind a has no capacity */
        brute_access(&e->d, c, want);
        double num[5] = {0}, den[5] = {0};
        for (size_t i = 0; i < e->d.npop; i++) {
            if (fabs(got[i] - want[i]) > 1e-9 * fmax(1, want[i]))
                fail_msg("%s%s%s point %zu: %.12g, brute force %.12g", decays[decay],
                         c->points ? " points" : "", c->three ? " 3SFCA" : "", i, got[i],
                         want[i]);
            long a = fx_area_of(&e->d, e->d.px[i], e->d.py[i]);
            num[a] += e->d.pop65[i] * want[i];
            den[a] += e->d.pop65[i];
            num[4] += e->d.pop65[i] * want[i];
            den[4] += e->d.pop65[i];
        }
        for (size_t a = 0; a <= 4; a++) {
            double mean;
            assert_int_equal(cs_result_access(e->result, 1, a == 4 ? CS_DISTRICT : a, &mean),
                             CS_OK);
            assert_true(fabs(mean - num[a] / den[a]) < 1e-9 * fmax(1, mean));
        }
    }
    double mean;
    assert_int_equal(cs_result_access(e->result, 0, CS_DISTRICT, &mean), CS_ERR_ARGUMENT);
    free(want);
}

/* -------------------------------------------------------------- by hand */

/* A0 = [0,1000] x [0,1000], A1 = [1000,2000] x [0,1000] (from FX_X0/Y0).
 *   F0 kind b at (500,500) in A0, 10 beds; F1 kind b at (1900,500) in A1, 2 beds.
 *   P0 (200,500)  65+ 100: 300 m from F0, 1700 from F1     -> F0's catchment only
 *   P1 (1500,500) 65+  50: 1000 m from F0, 400 from F1     -> both; nearest F1
 *   P2 (1950,900) 65+  30: 403.1 m from F1, 1506 from F0  -> F1 only
 * 2SFCA: R0 = 10 / 150, R1 = 2 / 80; per 1,000: P0 66.67, P1 91.67, P2 25. Every mean
 * is 66.67: A0 (P0), A1 (50 x 91.67 + 30 x 25) / 80, the district 12 beds x 1000 / 180.
 * Load (10% of the 65+ they serve): F0 serves P0: 10 of 10 beds (ratio 1); F1 serves
 * P1 and P2: 8 for 2 beds (ratio 4, 6 beds short). */
static void hand_worked(env *e)
{
    fx_alloc(&e->d, 2, 1, 1000, 2, 3);
    const double f[2][3] = {{500, 500, 10}, {1900, 500, 2}};
    for (size_t j = 0; j < 2; j++) {
        e->d.fx[j] = FX_X0 + f[j][0];
        e->d.fy[j] = FX_Y0 + f[j][1];
        e->d.fbeds[j] = f[j][2];
        e->d.fkind[j] = 1;
    }
    const double p[3][3] = {{200, 500, 100}, {1500, 500, 50}, {1950, 900, 30}};
    for (size_t i = 0; i < 3; i++) {
        e->d.px[i] = FX_X0 + p[i][0];
        e->d.py[i] = FX_Y0 + p[i][1];
        e->d.pop[i] = 2 * p[i][2];
        e->d.pop65[i] = p[i][2];
    }
    open_env(e);
    fx_env_set(e, "targets.access.type", "accessibility");
    fx_env_set(e, "targets.access.kind", "b");
    fx_env_set(e, "targets.access.at_least", "100");
    fx_env_set(e, "targets.load.type", "load");
    fx_env_set(e, "targets.load.kind", "b");
    fx_env_set(e, "targets.load.at_most", "1");
    fx_env_set(e, "targets.load.scope", "area");
    fx_env_set(e, "targets.beds.type", "capacity_per_population");
    fx_env_set(e, "targets.beds.capacity", "beds");
    fx_env_set(e, "targets.beds.band", "65+");
    fx_env_set(e, "targets.beds.per", "1000");
    fx_env_set(e, "targets.beds.at_least", "100");
    fx_env_set(e, "targets.meals.type", "capacity_per_population");
    fx_env_set(e, "targets.meals.capacity", "beds");
    fx_env_set(e, "targets.meals.band", "65+");
    fx_env_set(e, "targets.meals.at_least", "0.1");
    fx_env_set(e, "lang", "en"); /* the fixture's names are Chinese: Chinese by default */
    fx_env_run_ok(e);
}

static cs_target_outcome outcome(const env *e, const char *id, size_t a)
{
    for (size_t t = 0; t < cs_result_target_count(e->result); t++)
        if (!strcmp(cs_result_target_id(e->result, t), id)) {
            cs_target_outcome o;
            assert_int_equal(cs_result_target(e->result, t, a, &o), CS_OK);
            return o;
        }
    fail_msg("no target %s", id);
    return (cs_target_outcome){0};
}

static void accessibility_and_load_by_hand(void **state)
{
    env *e = *state;
    hand_worked(e);
    const double *acc = cs_result_access_points(e->result, 1);
    assert_true(fabs(acc[0] - 1000.0 / 15) < 1e-9);
    assert_true(fabs(acc[1] - (1000.0 / 15 + 25)) < 1e-9);
    assert_true(fabs(acc[2] - 25) < 1e-9);
    double mean;
    for (size_t a = 0; a < 2; a++) {
        assert_int_equal(cs_result_access(e->result, 1, a, &mean), CS_OK);
        assert_true(fabs(mean - 1000.0 / 15) < 1e-9);
    }
    /* accessibility: (100 - 66.67) per 1,000 of 180 residents aged 65+ = 6 beds */
    cs_target_outcome o = outcome(e, "access", CS_DISTRICT);
    assert_true(!o.pass && fabs(o.value - 1000.0 / 15) < 1e-9 && fabs(o.gap - 6) < 1e-9);
    assert_non_null(strstr(o.gap_text, "beds (床位) within reach, for 100 per 1,000 residents "
                                       "aged 65+"));
    /* load: A0's F0 is exactly full and passes; A1's F1 is 4 times full, 6 beds short */
    o = outcome(e, "load", 0);
    assert_true(o.pass && fabs(o.value - 1) < 1e-9);
    o = outcome(e, "load", 1);
    assert_true(!o.pass && fabs(o.value - 4) < 1e-9 && fabs(o.gap - 6) < 1e-9);
    assert_string_equal(o.gap_text, "short of 6 beds (床位) at meal sites loaded over 100%");
    o = outcome(e, "load", CS_DISTRICT);
    assert_true(!o.pass && fabs(o.gap - 6) < 1e-9);
    /* capacity per population in the user's words: 12 beds for 180 aged 65+ against 100
     * per 1,000 (18): 6 short; and 10% of them (18): 6 short */
    o = outcome(e, "beds", CS_DISTRICT);
    assert_string_equal(o.gap_text, "short of 6 beds (床位) for 100 per 1,000 residents aged 65+");
    o = outcome(e, "meals", CS_DISTRICT);
    assert_string_equal(o.gap_text, "short of 6 beds (床位) for 10% of residents aged 65+");
    /* the same gaps in Chinese, worded by hand (the unit "beds" is a word: left out) */
    static const struct {
        const char *id;
        size_t area;
        const char *want;
    } zh[] = {
        {"access", 2, "可达的床位缺口6（按每1,000名65岁以上居民100计）"},
        {"load", 1, "负荷超过100%的助餐点床位缺口6"},
        {"beds", 2, "床位缺口6（按每1,000名65岁以上居民100计）"},
        {"meals", 2, "床位缺口6（按65岁以上居民的10%计）"},
    };
    for (size_t i = 0; i < sizeof zh / sizeof zh[0]; i++) {
        size_t t = 0;
        while (strcmp(cs_result_target_id(e->result, t), zh[i].id))
            t++;
        assert_string_equal(cs_res_gap_text(e->result, t, zh[i].area, CS_LANG_ZH), zh[i].want);
    }
}

static double column(const cs_table *t, size_t row, const char *name)
{
    for (size_t c = 0; c < t->columns; c++)
        if (!strcmp(t->names[c], name))
            return t->cells[row * t->columns + c].number;
    fail_msg("no column %s", name);
    return NAN;
}

static void street_capacity_columns(void **state)
{
    env *e = *state;
    hand_worked(e);
    cs_table t;
    assert_int_equal(cs_out_area_table(e->result, true, &t), CS_OK);
    /* need: 10% of the 65+; short: need beyond the beds in the street */
    assert_true(column(&t, 0, "b_need") == 10 && column(&t, 0, "b_short") == 0);
    assert_true(column(&t, 1, "b_need") == 8 && column(&t, 1, "b_short") == 6);
    assert_true(column(&t, 0, "b_overloaded") == 0 && column(&t, 1, "b_overloaded") == 1);
    assert_true(column(&t, 2, "b_overloaded") == 1);
    assert_true(fabs(column(&t, 2, "b_access") - 1000.0 / 15) < 1e-9);
    /* kind a has no facility at all: every resident aged 65+ is uncovered */
    assert_true(column(&t, 2, "a_uncovered_a65p") == 180);
    assert_true(column(&t, 2, "b_uncovered_a65p") == 0 && column(&t, 2, "b_patches") == 0);
    cs_table_free(&t);
    /* counting every resident instead: P0..P2 hold 2 x (100 + 50 + 30) */
    fx_env_set(e, "underserved.band", "total");
    fx_env_run_ok(e);
    assert_int_equal(cs_out_area_table(e->result, true, &t), CS_OK);
    assert_true(column(&t, 2, "a_uncovered_total") == 360);
    cs_table_free(&t);
}

static void settings_errors(void **state)
{
    env *e = *state;
    fx_random(&e->d, 3, 2, 1, 1000, 6, 50);
    open_env(e);
    assert_int_equal(cs_config_set(e->ctx, e->cfg, "kinds.b.access_decay", "linear"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "kinds.b.access_decay", "none, steps, gaussian, power or exponential", NULL));
    /* the gravity decays' parameters, the method and the demand: each named */
    static const struct { const char *key, *value, *want; } bad[] = {
        {"kinds.b.access_beta", "0", "a number in (0, 100]"},
        {"kinds.b.access_min_m", "-1", "a number in (0, 100000]"},
        {"kinds.b.access_method", "4sfca", "2sfca or 3sfca"},
        {"kinds.b.access_demand", "households", "people or points"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cs_config_set(e->ctx, e->cfg, bad[i].key, bad[i].value), CS_ERR_STUDY);
        if (!tu_has_message(e->ctx, bad[i].key, bad[i].want, bad[i].value, NULL))
            fail_msg("no message for %s=%s", bad[i].key, bad[i].value);
    }
    assert_int_equal(cs_config_set(e->ctx, e->cfg, "kinds.b.access_weights", "1,1.5"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "kinds.b.access_weights", "[0, 1]", "1.5", NULL));
    assert_int_equal(cs_config_set(e->ctx, e->cfg, "underserved.grid", "triangle"),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "underserved.grid", "square or hex", NULL));
    assert_int_equal(cs_config_set(e->ctx, e->cfg, "underserved.cell_m", "0"), CS_ERR_STUDY);

    /* two weights for three thresholds */
    fx_env_set(e, "kinds.b.access_decay", "steps");
    fx_env_set(e, "kinds.b.access_weights", "1,0.5");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "kinds.b.access_weights", "2 weights for 3 thresholds",
                               NULL));
    fx_env_set(e, "kinds.b.access_weights", "");
    fx_env_set(e, "underserved.band", "90+");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "underserved.band", "unknown band '90+'", NULL));
    fx_env_set(e, "underserved.band", "");

    /* a load target needs at_most; accessibility needs a kind with a capacity */
    fx_env_set(e, "targets.l.type", "load");
    fx_env_set(e, "targets.l.kind", "b");
    assert_int_equal(cs_config_validate(e->ctx, e->cfg), CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "targets.l.at_most", "no at_most", NULL));
    fx_env_set(e, "targets.l.at_most", "1");
    fx_env_set(e, "targets.x.type", "accessibility");
    fx_env_set(e, "targets.x.kind", "a");
    fx_env_set(e, "targets.x.at_least", "10");
    assert_int_equal(cs_study_load(e->ctx, e->cfg, &e->study), CS_ERR_STUDY);
    assert_true(tu_has_message(e->ctx, "targets.x", "kind 'a' has no capacity", NULL));
    assert_null(e->study);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_env_setup_empty, fx_env_teardown)
    const struct CMUnitTest tests[] = {
        T(access_against_brute_force),
        T(accessibility_and_load_by_hand),
        T(street_capacity_columns),
        T(settings_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
