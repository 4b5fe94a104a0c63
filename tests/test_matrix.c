/*
 * test_matrix.c — a cost matrix from another router (costs.*). Coverage, nearest
 * facilities, 2SFCA accessibility, proposals and suggestions from it are checked
 * against brute force over the very costs the test wrote; a matrix of straight-line
 * distances must agree with the straight measure; repeated pairs keep the cheapest;
 * bad matrices get errors naming the file, line and field.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "io/study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCAND 5   /* candidate sites C0..C4, rows of the matrix only */
#define LISTED 20 /* pairs costing more minutes than this are not listed */

/* The fixture, candidates and every listed cost (INFINITY where not listed), by
 * point i and site j (facilities, then candidates). */
typedef struct matrix_case {
    fx_data d;
    double cx[NCAND], cy[NCAND];
    size_t sites;
    double *cost; /* npop x sites, minutes */
    fx_env e;     /* the study of d (e.d is left empty) */
} matrix_case;

static double *cost_at(matrix_case *c, size_t i, size_t j)
{
    return &c->cost[i * c->sites + j];
}

static void site_xy(const matrix_case *c, size_t j, double *x, double *y)
{
    *x = j < c->d.nfac ? c->d.fx[j] : c->cx[j - c->d.nfac];
    *y = j < c->d.nfac ? c->d.fy[j] : c->cy[j - c->d.nfac];
}

static void site_id(const matrix_case *c, size_t j, char *buf, size_t size)
{
    if (j < c->d.nfac)
        snprintf(buf, size, "F%zu", j);
    else
        snprintf(buf, size, "C%zu", j - c->d.nfac);
}

/* Walking minutes from the straight distance times a random detour of up to 60%, so
 * the matrix orders sites differently from the straight line. A few pairs are listed
 * twice, a dearer copy before or after the real one. */
static void make_costs(matrix_case *c, unsigned seed)
{
    fx_random(&c->d, seed, 2, 2, 1000, 6, 600);
    uint64_t rng = seed * 7919u + 1;
    for (size_t q = 0; q < NCAND; q++) {
        c->cx[q] = FX_X0 + 100 + 1800 * tu_rng_unit(&rng);
        c->cy[q] = FX_Y0 + 100 + 1800 * tu_rng_unit(&rng);
    }
    c->sites = c->d.nfac + NCAND;
    c->cost = calloc(c->d.npop * c->sites, sizeof *c->cost);
    for (size_t i = 0; i < c->d.npop; i++)
        for (size_t j = 0; j < c->sites; j++) {
            double x, y;
            site_xy(c, j, &x, &y);
            double min = hypot(c->d.px[i] - x, c->d.py[i] - y) / FX_M_PER_MIN *
                         (1 + 0.6 * tu_rng_unit(&rng));
            *cost_at(c, i, j) = min <= LISTED ? min : INFINITY;
        }
}

/* The matrix as a plain CSV (read straight from the file), or in a form only GDAL
 * reads: quoted ids; or with a byte order mark and CRLF line ends; or with spaces
 * around the values. */
typedef enum csv_form { CSV_PLAIN, CSV_QUOTED, CSV_BOM_CRLF, CSV_SPACES } csv_form;

static void write_costs_as(matrix_case *c, const char *name, csv_form form)
{
    char *path = tu_join(c->e.dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    const char *q = form == CSV_QUOTED ? "\"" : form == CSV_SPACES ? " " : "";
    const char *eol = form == CSV_BOM_CRLF ? "\r\n" : "\n";
    fprintf(f, "%sorigin_id,site,minutes%s", form == CSV_BOM_CRLF ? "\xEF\xBB\xBF" : "", eol);
    size_t written = 0;
    for (size_t i = 0; i < c->d.npop; i++)
        for (size_t j = 0; j < c->sites; j++) {
            double v = *cost_at(c, i, j);
            if (isinf(v))
                continue;
            char id[32];
            site_id(c, j, id, sizeof id);
            if (written < 3)
                fprintf(f, "%sD%zu%s,%s%s%s,%.17g%s", q, i, q, q, id, q, v + 3, eol);
            fprintf(f, "%sD%zu%s,%s%s%s,%.17g%s", q, i, q, q, id, q, v, eol);
            if (written >= 3 && written < 6)
                fprintf(f, "%sD%zu%s,%s%s%s,%.17g%s", q, i, q, q, id, q, v + 3, eol);
            written++;
        }
    fclose(f);
}

static void write_costs(matrix_case *c, const char *name)
{
    write_costs_as(c, name, CSV_PLAIN);
}

static const char *const extra = NULL;

static cs_status load_case(matrix_case *c, const char *const (*set)[2], size_t nset)
{
    assert_int_equal(fx_env_open(&c->e, &c->d, extra), CS_OK);
    const char *const load[][2] = {{"kinds.b.load_capacity", "beds"},
                                   {"kinds.b.load_band", "65+"}, {"kinds.b.load_rate", "0.1"}};
    for (size_t q = 0; q < 3; q++)
        fx_env_set(&c->e, load[q][0], load[q][1]);
    for (size_t q = 0; q < nset; q++)
        fx_env_set(&c->e, set[q][0], set[q][1]);
    return fx_env_run(&c->e);
}

static const char *const matrix_keys[][2] = {
    {"population.id", "id"}, {"costs.path", "costs.csv"}, {"costs.from", "origin_id"},
    {"costs.to", "site"},    {"costs.cost", "minutes"}};

static void open_case(matrix_case *c, unsigned seed)
{
    memset(c, 0, sizeof *c);
    make_costs(c, seed);
    c->e.dir = tu_mkdtemp();
    write_costs(c, "costs.csv");
    cs_status st = load_case(c, matrix_keys, 5);
    if (st != CS_OK)
        tu_dump_messages(c->e.ctx);
    assert_int_equal(st, CS_OK);
}

static void close_case(matrix_case *c)
{
    fx_env_close(&c->e);
    free(c->cost);
    fx_free(&c->d);
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1, fabs(b)) || (isnan(a) && isnan(b));
}

/* The cheapest existing facility of kind `kind` for point i (ties: the lowest index). */
static long nearest_of(matrix_case *c, size_t i, int kind, double *min)
{
    long best = -1;
    *min = INFINITY;
    for (size_t f = 0; f < c->d.nfac; f++)
        if (c->d.fkind[f] == kind && *cost_at(c, i, f) < *min) {
            *min = *cost_at(c, i, f);
            best = (long)f;
        }
    return best;
}

static double band_pop(const matrix_case *c, size_t i, size_t b)
{
    return b == 0 ? c->d.pop[i] : c->d.pop65[i];
}

static void coverage_by_brute_force(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 3);
    const cs_cost_matrix *m = &c.e.study->costs;
    assert_int_equal(m->pairs_repeated, 6);
    assert_int_equal(m->rows, c.sites);
    assert_int_equal(cs_study_kind_measured(c.e.study, 0, CS_MEASURE_MATRIX), 1);
    assert_int_equal(cs_study_kind_measured(c.e.study, 0, CS_MEASURE_STRAIGHT), 1);
    static const double thr[3] = {5, 10, 15};
    size_t areas = cs_study_area_count(c.e.study);
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < 3; j++)
            for (size_t b = 0; b < 2; b++) {
                double want[5] = {0}; /* 4 areas and the district */
                for (size_t i = 0; i < c.d.npop; i++) {
                    double min;
                    nearest_of(&c, i, k, &min);
                    if (min <= thr[j]) {
                        want[fx_area_of(&c.d, c.d.px[i], c.d.py[i])] += band_pop(&c, i, b);
                        want[4] += band_pop(&c, i, b);
                    }
                }
                double total = 0;
                for (size_t i = 0; i < c.d.npop; i++)
                    total += band_pop(&c, i, b);
                if (j == 2) /* some within 15 minutes, some not: the check can fail */
                    assert_true(want[4] > 0 && want[4] < total);
                for (size_t a = 0; a <= areas; a++) {
                    cs_coverage got, main;
                    size_t area = a == areas ? CS_DISTRICT : a;
                    assert_int_equal(cs_result_coverage_by(c.e.result, CS_MEASURE_MATRIX,
                                                           (size_t)k, j, b, area, &got),
                                     CS_OK);
                    assert_int_equal(
                        cs_result_coverage(c.e.result, (size_t)k, j, b, area, &main), CS_OK);
                    assert_true(near(got.covered, want[a]));
                    assert_true(near(main.covered, want[a])); /* the matrix is the main measure */
                }
            }
    /* catchments: each resident aged 65+ goes to its cheapest facility within 15 min */
    for (size_t f = 0; f < c.d.nfac; f++) {
        double want = 0, got;
        for (size_t i = 0; i < c.d.npop; i++) {
            double min;
            if (nearest_of(&c, i, c.d.fkind[f], &min) == (long)f && min <= 15)
                want += c.d.pop65[i];
        }
        assert_int_equal(cs_result_served(c.e.result, f, 1, &got, NULL), CS_OK);
        assert_true(near(got, want));
    }
    close_case(&c);
}

/* Whole minutes, as many routers write them, make ties common: a resident whose
 * cheapest cost two or more facilities of a kind share counts an equal share in each
 * (brute force over the costs written). */
static void whole_minutes_share(void **state)
{
    (void)state;
    matrix_case c;
    memset(&c, 0, sizeof c);
    make_costs(&c, 41);
    for (size_t q = 0; q < c.d.npop * c.sites; q++)
        c.cost[q] = ceil(c.cost[q]);
    c.e.dir = tu_mkdtemp();
    write_costs(&c, "costs.csv");
    assert_int_equal(load_case(&c, matrix_keys, 5), CS_OK);
    double *want = calloc(c.d.nfac, sizeof *want);
    size_t tied = 0;
    for (size_t i = 0; i < c.d.npop; i++)
        for (int kind = 0; kind < 2; kind++) {
            double min;
            nearest_of(&c, i, kind, &min);
            if (!(min <= 15))
                continue;
            size_t n = 0;
            for (size_t f = 0; f < c.d.nfac; f++)
                n += c.d.fkind[f] == kind && *cost_at(&c, i, f) == min;
            tied += n > 1;
            for (size_t f = 0; f < c.d.nfac; f++)
                if (c.d.fkind[f] == kind && *cost_at(&c, i, f) == min)
                    want[f] += c.d.pop65[i] / (double)n;
        }
    assert_true(tied >= 10);
    for (size_t f = 0; f < c.d.nfac; f++) {
        double got;
        assert_int_equal(cs_result_served(c.e.result, f, 1, &got, NULL), CS_OK);
        if (!near(got, want[f]))
            fail_msg("F%zu serves %.9g residents 65+, by brute force %.9g", f, got, want[f]);
    }
    free(want);
    close_case(&c);
}

/* A year's view keeps the matrix rows of its open facilities and every candidate:
 * coverage and a proposal in 2023, when F1 and F4 have not opened yet, by brute force
 * over the other facilities. */
static void matrix_in_a_year(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 37);
    char *path = tu_join(c.e.dir, "facilities.csv");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "id,name,kind,x,y,beds,opened\n");
    for (size_t i = 0; i < c.d.nfac; i++)
        fprintf(f, "F%zu,f,%s,%.2f,%.2f,%.0f,%s\n", i, c.d.fkind[i] ? "b" : "a", c.d.fx[i],
                c.d.fy[i], c.d.fbeds[i], i == 1 || i == 4 ? "2024" : "");
    fclose(f);
    cs_study *s = NULL, *view = NULL;
    cs_result *r = NULL;
    assert_int_equal(cs_study_load(c.e.ctx, c.e.cfg, &s), CS_OK);
    assert_int_equal(cs_study_in_year(c.e.ctx, s, 2023, &view), CS_OK);
    assert_int_equal(cs_study_facility_count(view), c.d.nfac - 2);
    assert_int_equal(cs_run(c.e.ctx, view, &r), CS_OK);
    for (int k = 0; k < 2; k++) {
        double want = 0;
        for (size_t i = 0; i < c.d.npop; i++) {
            double min = INFINITY;
            for (size_t j = 0; j < c.d.nfac; j++)
                if (c.d.fkind[j] == k && j != 1 && j != 4)
                    min = fmin(min, *cost_at(&c, i, j));
            want += min <= 15 ? c.d.pop65[i] : 0;
        }
        cs_coverage got;
        assert_int_equal(cs_result_coverage(r, (size_t)k, 2, 1, CS_DISTRICT, &got), CS_OK);
        assert_true(near(got.covered, want));
    }
    cs_site_input in = {"C2", c.cx[2], c.cy[2], "EPSG:32651", "a", NAN, 0};
    cs_site *site = NULL;
    assert_int_equal(cs_site_evaluate(c.e.ctx, r, &in, 1, NULL, &site), CS_OK);
    double want = 0, got;
    for (size_t i = 0; i < c.d.npop; i++) {
        double now = INFINITY;
        for (size_t j = 0; j < c.d.nfac; j++)
            if (c.d.fkind[j] == 0 && j != 1 && j != 4)
                now = fmin(now, *cost_at(&c, i, j));
        if (*cost_at(&c, i, c.d.nfac + 2) <= 15 && now > 15)
            want += c.d.pop65[i];
    }
    assert_int_equal(cs_site_newly(site, 0, 0, 2, 1, CS_DISTRICT, &got), CS_OK);
    assert_true(near(got, want));
    cs_site_destroy(site);
    cs_result_destroy(r);
    cs_study_destroy(view);
    cs_study_destroy(s);
    close_case(&c);
}

/* The fast reader of plain CSV and GDAL's reader give the same matrix. */
static void readers_agree(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 19);
    const cs_cost_matrix *plain = &c.e.study->costs;
    for (csv_form form = CSV_QUOTED; form <= CSV_SPACES; form++) {
        write_costs_as(&c, "costs.csv", form);
        cs_study *s = NULL;
        assert_int_equal(cs_study_load(c.e.ctx, c.e.cfg, &s), CS_OK);
        const cs_cost_matrix *m = &s->costs;
        assert_int_equal(m->rows, plain->rows);
        assert_int_equal(m->pairs, plain->pairs);
        assert_int_equal(m->pairs_repeated, plain->pairs_repeated);
        for (size_t r = 0; r < m->rows; r++) {
            assert_int_equal(m->start[r], plain->start[r]);
            assert_int_equal(m->end[r], plain->end[r]);
        }
        for (size_t q = 0; q < m->pairs; q++) {
            assert_int_equal(m->pt[q], plain->pt[q]);
            assert_true(m->cost[q] == plain->cost[q]);
        }
        cs_study_destroy(s);
    }
    close_case(&c);
}

/* 2SFCA of kind b (beds, 65+, within 15 min) from the listed costs, per point. */
static void access_by_brute_force(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 5);
    size_t F = c.d.nfac, N = c.d.npop;
    double *ratio = calloc(F, sizeof *ratio), mean = 0, total = 0;
    for (size_t f = 0; f < F; f++) {
        double reached = 0;
        for (size_t i = 0; i < N; i++)
            if (*cost_at(&c, i, f) <= 15)
                reached += c.d.pop65[i];
        ratio[f] = c.d.fkind[f] == 1 && reached > 0 ? c.d.fbeds[f] / reached : 0;
    }
    const double *got = cs_result_access_points(c.e.result, 1);
    assert_non_null(got);
    for (size_t i = 0; i < N; i++) {
        double want = 0;
        for (size_t f = 0; f < F; f++)
            if (*cost_at(&c, i, f) <= 15)
                want += ratio[f] * 1000;
        if (!near(got[i], want))
            fail_msg("point %zu: accessibility %.12g, brute force %.12g", i, got[i], want);
        mean += c.d.pop65[i] * want;
        total += c.d.pop65[i];
    }
    double district;
    assert_int_equal(cs_result_access(c.e.result, 1, CS_DISTRICT, &district), CS_OK);
    assert_true(near(district, mean / total));
    free(ratio);
    close_case(&c);
}

/* A matrix of the straight-line distances (metres) must give the straight measure's
 * coverage and accessibility. */
static void straight_distances_agree(void **state)
{
    (void)state;
    matrix_case c;
    memset(&c, 0, sizeof c);
    fx_random(&c.d, 11, 2, 2, 1000, 12, 500);
    c.e.dir = tu_mkdtemp();
    char *path = tu_join(c.e.dir, "costs.csv");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "from,to,cost\n");
    for (size_t i = 0; i < c.d.npop; i++)
        for (size_t j = 0; j < c.d.nfac; j++) {
            /* the coordinates as the study reads them back from the fixture's files */
            char t[64];
            double px, py, fx, fy;
            snprintf(t, sizeof t, "%.2f %.2f %.2f %.2f", c.d.px[i], c.d.py[i], c.d.fx[j],
                     c.d.fy[j]);
            assert_int_equal(sscanf(t, "%lf %lf %lf %lf", &px, &py, &fx, &fy), 4);
            double dist = hypot(px - fx, py - fy);
            if (dist <= 1500)
                fprintf(f, "D%zu,F%zu,%.17g\n", i, j, dist);
        }
    fclose(f);
    const char *const set[][2] = {{"population.id", "id"}, {"costs.path", "costs.csv"},
                                  {"costs.unit", "m"}, {"measure", "straight, matrix"}};
    cs_status st = load_case(&c, set, 4);
    if (st != CS_OK)
        tu_dump_messages(c.e.ctx);
    assert_int_equal(st, CS_OK);
    for (size_t k = 0; k < 2; k++)
        for (size_t j = 0; j < 3; j++)
            for (size_t b = 0; b < 2; b++) {
                cs_coverage s, m;
                assert_int_equal(cs_result_coverage_by(c.e.result, CS_MEASURE_STRAIGHT, k, j, b,
                                                       CS_DISTRICT, &s), CS_OK);
                assert_int_equal(cs_result_coverage_by(c.e.result, CS_MEASURE_MATRIX, k, j, b,
                                                       CS_DISTRICT, &m), CS_OK);
                assert_true(near(s.covered, m.covered));
            }
    /* accessibility by the matrix (the main measure) against the straight engine's,
     * in a second study measured straight only */
    cs_result *straight = NULL;
    cs_study *sst = NULL;
    assert_int_equal(cs_config_set(c.e.ctx, c.e.cfg, "measure", "straight"), CS_OK);
    assert_int_equal(cs_study_load(c.e.ctx, c.e.cfg, &sst), CS_OK);
    assert_int_equal(cs_run(c.e.ctx, sst, &straight), CS_OK);
    const double *am = cs_result_access_points(c.e.result, 1);
    const double *as = cs_result_access_points(straight, 1);
    for (size_t i = 0; i < c.d.npop; i++)
        assert_true(fabs(am[i] - as[i]) <= 1e-9 * fmax(1, fabs(as[i])));
    cs_result_destroy(straight);
    cs_study_destroy(sst);
    close_case(&c);
}

/* Residents of band b newly within thr minutes of the sites `props` (candidate
 * numbers) of kind `kind`, by brute force. */
static double newly_by_brute_force(matrix_case *c, const size_t *props, size_t n, int kind,
                                   double thr, size_t b)
{
    double sum = 0;
    for (size_t i = 0; i < c->d.npop; i++) {
        double now, best = INFINITY;
        nearest_of(c, i, kind, &now);
        for (size_t q = 0; q < n; q++)
            best = fmin(best, *cost_at(c, i, c->d.nfac + props[q]));
        if (best <= thr && now > thr)
            sum += band_pop(c, i, b);
    }
    return sum;
}

static void proposals_by_matrix(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 7);
    cs_site_input in[2] = {{"C0", c.cx[0], c.cy[0], "EPSG:32651", "a", NAN, 0},
                           {"C3", c.cx[3], c.cy[3], "EPSG:32651", "a", NAN, 0}};
    cs_site *site = NULL;
    assert_int_equal(cs_site_evaluate(c.e.ctx, c.e.result, in, 2, NULL, &site), CS_OK);
    static const double thr[3] = {5, 10, 15};
    const size_t one[2] = {0, 3};
    for (size_t p = 0; p <= 2; p++)
        for (size_t j = 0; j < 3; j++)
            for (size_t b = 0; b < 2; b++) {
                double got, want = newly_by_brute_force(&c, p < 2 ? &one[p] : one,
                                                        p < 2 ? 1 : 2, 0, thr[j], b);
                assert_int_equal(cs_site_newly(site, p, 0, j, b, CS_DISTRICT, &got), CS_OK);
                if (!near(got, want))
                    fail_msg("proposal %zu, %g min, band %zu: %.6f, brute force %.6f", p,
                             thr[j], b, got, want);
                if (j == 2)
                    assert_true(want > 0);
            }
    cs_site_destroy(site);
    site = NULL;
    /* a site the matrix has no costs for, and one named as an existing facility */
    cs_site_input unknown = {"C9", c.cx[0], c.cy[0], "EPSG:32651", "a", NAN, 0};
    assert_int_equal(cs_site_evaluate(c.e.ctx, c.e.result, &unknown, 1, NULL, &site), CS_ERR_INPUT);
    assert_true(tu_has_message(c.e.ctx, "C9", "measured by the cost matrix", "no row for this id",
                               NULL));
    /* many sites with the same mistake: the messages are summarised */
    cs_site_input many[40];
    char many_ids[40][8];
    for (size_t q = 0; q < 40; q++) {
        snprintf(many_ids[q], sizeof many_ids[q], "X%zu", q);
        many[q] = (cs_site_input){many_ids[q], c.cx[0], c.cy[0], "EPSG:32651", "a", NAN, 0};
    }
    size_t before = cs_context_message_count(c.e.ctx);
    assert_int_equal(cs_site_evaluate(c.e.ctx, c.e.result, many, 40, "sites.csv", &site),
                     CS_ERR_INPUT);
    assert_true(cs_context_message_count(c.e.ctx) - before <= 21);
    assert_true(tu_has_message(c.e.ctx, "more", "sites.csv", NULL));
    cs_site_input existing = {"F2", c.cx[0], c.cy[0], "EPSG:32651", "a", NAN, 0};
    assert_int_equal(cs_site_evaluate(c.e.ctx, c.e.result, &existing, 1, NULL, &site),
                     CS_ERR_INPUT);
    assert_true(tu_has_message(c.e.ctx, "F2", "an existing facility", NULL));
    assert_null(site);
    close_case(&c);
}

static void suggestions_by_matrix(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 13);
    cs_site_input cand[NCAND];
    char ids[NCAND][8];
    for (size_t q = 0; q < NCAND; q++) {
        snprintf(ids[q], sizeof ids[q], "C%zu", q);
        cand[q] = (cs_site_input){ids[q], c.cx[q], c.cy[q], "EPSG:32651", "a", NAN, 0};
    }
    /* the best pair by enumeration, residents aged 65+ newly within 15 minutes */
    double best = -1;
    for (size_t p = 0; p < NCAND; p++)
        for (size_t q = p + 1; q < NCAND; q++)
            best = fmax(best, newly_by_brute_force(&c, (size_t[]){p, q}, 2, 0, 15, 1));
    cs_suggest_options opt = {.kind = "a", .k = 2, .within_min = NAN, .reach_share = NAN,
                              .exact = 1, .candidates = cand, .candidate_count = NCAND};
    cs_site *site = NULL;
    cs_suggest_report rep;
    assert_int_equal(cs_site_suggest(c.e.ctx, c.e.result, &opt, &site, &rep), CS_OK);
    assert_true(best > 0);
    assert_true(rep.exact_run);
    assert_true(near(rep.exact_value, best));
    /* the sites listed are the exact solution's: together they newly cover the best */
    assert_true(rep.exact_listed);
    size_t listed[2], nl = cs_site_count(site);
    cs_site_figures fig;
    assert_true(nl >= 1 && nl <= 2 && nl == rep.exact_chosen);
    for (size_t p = 0; p < nl; p++) {
        assert_int_equal(cs_site_get_figures(site, p, &fig), CS_OK);
        listed[p] = (size_t)(fig.id[1] - '0');
    }
    assert_true(near(newly_by_brute_force(&c, listed, nl, 0, 15, 1), best));
    cs_site_destroy(site);
    site = NULL;
    /* greedy's own sites without --exact */
    opt.exact = 0;
    assert_int_equal(cs_site_suggest(c.e.ctx, c.e.result, &opt, &site, &rep), CS_OK);
    assert_false(rep.exact_listed);
    assert_int_equal(cs_site_get_figures(site, 0, &fig), CS_OK);
    size_t first = (size_t)(fig.id[1] - '0');
    double first_gain = newly_by_brute_force(&c, &first, 1, 0, 15, 1);
    for (size_t q = 0; q < NCAND; q++) /* greedy's first pick is the best single site */
        assert_true(first_gain >= newly_by_brute_force(&c, &q, 1, 0, 15, 1));
    assert_true(near(cs_site_gain(site, 0), first_gain));
    cs_site_destroy(site);
    site = NULL;
    /* generated candidates have no costs */
    opt.candidates = NULL;
    opt.candidate_count = 0;
    assert_int_equal(cs_site_suggest(c.e.ctx, c.e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "kind 'a' is measured by the cost matrix",
                               "give the candidates with --candidates FILE", NULL));
    close_case(&c);
}

/* A study whose costs.csv holds `text`, loaded with the matrix keys: the status. */
static cs_status load_matrix_text(matrix_case *c, const char *text,
                                  const char *const (*set)[2], size_t nset)
{
    memset(c, 0, sizeof *c);
    fx_random(&c->d, 2, 2, 1, 1000, 4, 20);
    c->e.dir = tu_mkdtemp();
    free(tu_write(c->e.dir, "costs.csv", text));
    return load_case(c, set, nset);
}

static void bad_matrices(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want[3];
    } cases[] = {
        {"origin_id,site,minutes\nD1,F0,3\nD99,F1,4\n",
         {"costs.csv:3:", "no demand point has id 'D99'", "population.id"}},
        {"origin_id,site,minutes\nD1,F0,abc\n", {"costs.csv:2:", "'minutes'", "not a number"}},
        {"origin_id,site,minutes\nD1,F0,-2\n", {"costs.csv:2:", "'minutes'", "-2"}},
        {"origin_id,site,minutes\nD1,F0,\n", {"costs.csv:2:", "no cost given", NULL}},
        {"origin_id,site,minutes\nD1,,4\n", {"costs.csv:2:", "empty site", NULL}},
        {"origin_id,site,time\nD1,F0,4\n",
         {"costs.csv", "no field 'minutes' (costs.cost)", "time"}},
    };
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        matrix_case c;
        assert_int_equal(load_matrix_text(&c, cases[q].text, matrix_keys, 5), CS_ERR_INPUT);
        if (!tu_has_message(c.e.ctx, cases[q].want[0], cases[q].want[1],
                            cases[q].want[2], NULL)) {
            tu_dump_messages(c.e.ctx);
            fail_msg("case %zu: no message with '%s'", q, cases[q].want[1]);
        }
        close_case(&c);
    }
    /* a matrix for another population: the first rows' errors, then a count */
    char many[4096] = "origin_id,site,minutes\n";
    for (int q = 0; q < 50; q++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "Z%d,F0,3\n", q);
    matrix_case mc;
    assert_int_equal(load_matrix_text(&mc, many, matrix_keys, 5), CS_ERR_INPUT);
    assert_true(tu_has_message(mc.e.ctx, "and 30 more rows with errors", NULL));
    assert_true(cs_context_message_count(mc.e.ctx) <= 25);
    close_case(&mc);
    /* a line over the reader's 1 MB block is read whole: its id is named, on its line */
    size_t long_len = (1u << 20) + 100;
    char *text = malloc(long_len + 64);
    strcpy(text, "origin_id,site,minutes\nD1,F0,3\n");
    memset(text + strlen(text), 'x', long_len);
    strcpy(text + strlen("origin_id,site,minutes\nD1,F0,3\n") + long_len, ",F0,4\n");
    matrix_case c;
    assert_int_equal(load_matrix_text(&c, text, matrix_keys, 5), CS_ERR_INPUT);
    assert_true(tu_has_message(c.e.ctx, "costs.csv:3:", "no demand point has id 'xxxx", NULL));
    /* the id, shown in the message twice, is cut to CS_ID_SHOWN bytes each time */
    for (size_t m = 0; m < cs_context_message_count(c.e.ctx); m++) {
        char shown[1024];
        assert_true(cs_message_format(cs_context_get_message(c.e.ctx, m), shown,
                                      sizeof shown) < 600);
    }
    assert_true(tu_has_message(c.e.ctx, "xxx...'", NULL));
    close_case(&c);
    free(text);
}

static void bad_matrix_settings(void **state)
{
    (void)state;
    matrix_case c;
    /* the matrix names demand points by id */
    assert_int_equal(load_matrix_text(&c, "from,to,cost\nD1,F0,3\n", &matrix_keys[1], 1),
                     CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "population.id", "not set", NULL));
    close_case(&c);
    /* measured by a matrix that is not given */
    const char *const no_matrix[][2] = {{"kinds.a.measure", "matrix"}};
    assert_int_equal(load_matrix_text(&c, "", no_matrix, 1), CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "kinds.a.measure", "no cost matrix is given", NULL));
    close_case(&c);
    /* not a measure */
    assert_int_equal(cs_context_create(&c.e.ctx), CS_OK);
    assert_int_equal(cs_config_create(c.e.ctx, &c.e.cfg), CS_OK);
    assert_int_equal(cs_config_set(c.e.ctx, c.e.cfg, "measure", "straight, router"), CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "straight, network, matrix, both or a list", NULL));
    assert_int_equal(cs_config_set(c.e.ctx, c.e.cfg, "costs.unit", "hours"), CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "costs.unit", "min or m", NULL));
    cs_config_destroy(c.e.cfg);
    cs_context_destroy(c.e.ctx);
    /* rows only for points left out of the study */
    const char *const far[][2] = {{"population.id", "id"}, {"costs.path", "costs.csv"}};
    memset(&c, 0, sizeof c);
    fx_random(&c.d, 2, 2, 1, 1000, 4, 20);
    c.d.px[0] = FX_X0 + 5000; /* 3 km outside the 2 x 1 km grid: left out */
    c.e.dir = tu_mkdtemp();
    free(tu_write(c.e.dir, "costs.csv", "from,to,cost\nD0,F0,3\n"));
    assert_int_equal(load_case(&c, far, 2), CS_ERR_INPUT);
    assert_true(tu_has_message(c.e.ctx, "no row of the cost matrix names a demand point inside",
                               NULL));
    close_case(&c);
    /* population as totals per street has no ids to join */
    memset(&c, 0, sizeof c);
    fx_random(&c.d, 2, 2, 1, 1000, 4, 20);
    c.e.dir = tu_mkdtemp();
    free(tu_write(c.e.dir, "totals.csv", "id,area,pop,pop65\nT1,A0,100,20\nT2,A1,50,10\n"));
    free(tu_write(c.e.dir, "costs.csv", "from,to,cost\nT1,F0,3\n"));
    const char *const totals[][2] = {{"population.path", "totals.csv"}, {"population.x", ""},
                                     {"population.y", ""}, {"population.area", "area"},
                                     {"population.id", "id"}, {"costs.path", "costs.csv"}};
    assert_int_equal(load_case(&c, totals, 6), CS_ERR_STUDY);
    assert_true(tu_has_message(c.e.ctx, "costs.path", "population is given as area totals", NULL));
    close_case(&c);
}

/* Loading and running with a matrix, and evaluating a proposal by it, fail cleanly
 * wherever memory runs out. */
static void allocation_failures(void **state)
{
    (void)state;
    matrix_case c;
    open_case(&c, 17);
    cs_site_input in = {"C1", c.cx[1], c.cy[1], "EPSG:32651", "b", 30, 0};
    long n = 0;
    for (;; n++) {
        cs_study *s = NULL;
        cs_result *r = NULL;
        cs_site *site = NULL;
        tu_alloc_fail_after(n);
        cs_status st = cs_study_load(c.e.ctx, c.e.cfg, &s);
        if (st == CS_OK)
            st = cs_run(c.e.ctx, s, &r);
        if (st == CS_OK)
            st = cs_site_evaluate(c.e.ctx, r, &in, 1, NULL, &site);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        cs_site_destroy(site);
        cs_result_destroy(r);
        cs_study_destroy(s);
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            break;
        }
        /* GEOS and PROJ report their own failures as such */
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_CRS || st == CS_ERR_INPUT ||
                    st == CS_ERR_INTERNAL);
    }
    assert_true(n > 100);
    close_case(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coverage_by_brute_force),
        cmocka_unit_test(whole_minutes_share),
        cmocka_unit_test(access_by_brute_force),
        cmocka_unit_test(readers_agree),
        cmocka_unit_test(matrix_in_a_year),
        cmocka_unit_test(straight_distances_agree),
        cmocka_unit_test(proposals_by_matrix),
        cmocka_unit_test(suggestions_by_matrix),
        cmocka_unit_test(bad_matrices),
        cmocka_unit_test(bad_matrix_settings),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
