/*
 * test_capacitated.c — the capacitated models: the transportation problem's network
 * simplex against GLPK's simplex on the same programme written out here, on random
 * instances with ties, unserved demand and empty facilities.
 */
#include "fixture.h"
#include "testutil.h"

#include "site/flow.h"
#include "site/suggest.h"

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The transportation LP by GLPK's simplex: its optimum. */
static double lp_optimum(const cs_transport *t)
{
    size_t S = t->sources, F = t->sinks, P = t->first[S];
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_rows(lp, (int)(S + F));
    for (size_t i = 0; i < S; i++)
        glp_set_row_bnds(lp, (int)i + 1, GLP_FX, (double)t->supply[i], (double)t->supply[i]);
    for (size_t j = 0; j < F; j++)
        glp_set_row_bnds(lp, (int)(S + j) + 1, GLP_UP, 0, (double)t->capacity[j]);
    glp_add_cols(lp, (int)(P + S));
    int *ia = calloc(2 * P + S + 1, sizeof *ia), *ja = calloc(2 * P + S + 1, sizeof *ja);
    double *ar = calloc(2 * P + S + 1, sizeof *ar);
    int k = 0;
    for (size_t i = 0; i < S; i++)
        for (size_t a = t->first[i]; a < t->first[i + 1]; a++) {
            glp_set_col_bnds(lp, (int)a + 1, GLP_LO, 0, 0);
            glp_set_obj_coef(lp, (int)a + 1, (double)t->cost[a]);
            ia[++k] = (int)i + 1, ja[k] = (int)a + 1, ar[k] = 1;
            ia[++k] = (int)(S + t->to[a]) + 1, ja[k] = (int)a + 1, ar[k] = 1;
        }
    for (size_t i = 0; i < S; i++) {
        int col = (int)(P + i) + 1;
        glp_set_col_bnds(lp, col, GLP_LO, 0, 0);
        glp_set_obj_coef(lp, col, (double)t->bypass[i]);
        ia[++k] = (int)i + 1, ja[k] = col, ar[k] = 1;
    }
    glp_load_matrix(lp, k, ia, ja, ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    assert_int_equal(glp_simplex(lp, &parm), 0);
    assert_int_equal(glp_get_status(lp), GLP_OPT);
    double best = glp_get_obj_val(lp);
    glp_delete_prob(lp);
    free(ia);
    free(ja);
    free(ar);
    return best;
}

/* The flow is feasible and costs what it says. */
static void check_flow(const cs_transport *t, const int64_t *flow, const int64_t *unserved,
                       double total)
{
    size_t S = t->sources, F = t->sinks;
    int64_t used[64] = {0};
    double cost = 0;
    for (size_t i = 0; i < S; i++) {
        int64_t sent = unserved[i];
        assert_true(unserved[i] >= 0);
        cost += (double)unserved[i] * (double)t->bypass[i];
        for (size_t a = t->first[i]; a < t->first[i + 1]; a++) {
            assert_true(flow[a] >= 0);
            sent += flow[a];
            used[t->to[a]] += flow[a];
            cost += (double)flow[a] * (double)t->cost[a];
        }
        assert_true(sent == t->supply[i]);
    }
    for (size_t j = 0; j < F; j++)
        assert_true(used[j] <= t->capacity[j]);
    assert_true(cost == total);
}

/* 300 random instances: 1-40 sources, 1-8 sinks, costs 0-20 (many ties), bypasses that
 * are sometimes cheaper than a sink, empty sources and sinks of no capacity; each also
 * solved again from its optimum with a sink closed, and opened again in a copy. */
static void transport_against_glpk(void **state)
{
    (void)state;
    uint64_t rng = 7;
    enum { MS = 40, MF = 8 };
    for (int round = 0; round < 300; round++) {
        size_t S = 1 + tu_rng_next(&rng) % MS, F = 1 + tu_rng_next(&rng) % MF, n = 0;
        int64_t supply[MS], bypass[MS], capacity[MF], cost[MS * MF], flow[MS * MF],
            unserved[MS];
        size_t first[MS + 1] = {0};
        uint32_t to[MS * MF];
        for (size_t i = 0; i < S; i++) {
            supply[i] = (int64_t)(tu_rng_next(&rng) % 12);
            bypass[i] = (int64_t)(5 + tu_rng_next(&rng) % 26);
            for (size_t j = 0; j < F; j++)
                if (tu_rng_next(&rng) % 3 == 0) {
                    to[n] = (uint32_t)j;
                    cost[n++] = (int64_t)(tu_rng_next(&rng) % 21);
                }
            first[i + 1] = n;
        }
        for (size_t j = 0; j < F; j++)
            capacity[j] = (int64_t)(tu_rng_next(&rng) % 30);
        cs_transport t = {S, F, supply, bypass, capacity, cost, first, to};
        double total = NAN;
        assert_int_equal(cs_transport_solve(&t, flow, unserved, &total), CS_OK);
        check_flow(&t, flow, unserved, total);
        double best = lp_optimum(&t);
        if (fabs(total - best) > 1e-6)
            fail_msg("round %d (%zu sources, %zu sinks): network simplex %g, GLPK %g", round,
                     S, F, total, best);
        /* solved again from there with sink 0 closed (a cost above every bypass), and
           a copy with it open again: as if it had no room, and as at first */
        cs_flow *solved = NULL, *copy = NULL;
        assert_int_equal(cs_flow_create(&t, NULL, &solved), CS_OK);
        assert_int_equal(cs_flow_create(&t, NULL, &copy), CS_OK);
        cs_flow_optimise(solved);
        cs_flow_set_sink_cost(solved, 0, 31);
        cs_flow_optimise(solved);
        double closed = cs_flow_read(solved, flow, unserved);
        int64_t room = capacity[0];
        capacity[0] = 0;
        check_flow(&t, flow, unserved, closed);
        if (fabs(closed - lp_optimum(&t)) > 1e-6)
            fail_msg("round %d: sink 0 closed %g, GLPK %g", round, closed, lp_optimum(&t));
        capacity[0] = room;
        assert_int_equal(cs_flow_copy(copy, solved), CS_OK);
        cs_flow_set_sink_cost(copy, 0, 0);
        cs_flow_optimise(copy);
        assert_true(fabs(cs_flow_read(copy, NULL, NULL) - best) < 1e-6);
        cs_flow_destroy(solved);
        cs_flow_destroy(copy);
    }
}

/* Hand-worked: two residents of 3 units each, one facility of room 4 that both reach
 * (costs 1 and 2), the second also reaches one of room 10 at cost 5; unserved costs 9.
 * The optimum sends the first's 3 to the near one (3), the second's 1 there (2) and 2
 * to the far one (10): 15; every unit served. */
static void transport_hand_worked(void **state)
{
    (void)state;
    const int64_t supply[] = {3, 3}, bypass[] = {9, 9}, capacity[] = {4, 10},
                  cost[] = {1, 2, 5};
    const size_t first[] = {0, 1, 3};
    const uint32_t to[] = {0, 0, 1};
    cs_transport t = {2, 2, supply, bypass, capacity, cost, first, to};
    int64_t flow[3], unserved[2];
    double total;
    assert_int_equal(cs_transport_solve(&t, flow, unserved, &total), CS_OK);
    assert_true(total == 15);
    assert_true(flow[0] == 3 && flow[1] == 1 && flow[2] == 2);
    assert_true(unserved[0] == 0 && unserved[1] == 0);
}

/* The assignment's cost for the facilities open (existing ones and open[c]) by GLPK's
 * simplex on the programme written out here: min sum cost x + bypass u. */
static double lp_cost(const cs_capacity_sets *cs, const unsigned char *open)
{
    size_t N = cs->points, E = cs->existing, F = E + cs->candidates, P = cs->first[F];
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_rows(lp, (int)(N + F));
    glp_add_cols(lp, (int)(P + N));
    int *ia = calloc(2 * P + N + 1, sizeof *ia), *ja = calloc(2 * P + N + 1, sizeof *ja);
    double *ar = calloc(2 * P + N + 1, sizeof *ar);
    int k = 0;
    for (size_t i = 0; i < N; i++) {
        glp_set_row_bnds(lp, (int)i + 1, GLP_FX, cs->demand[i], cs->demand[i]);
        glp_set_col_bnds(lp, (int)(P + i) + 1, GLP_LO, 0, 0);
        glp_set_obj_coef(lp, (int)(P + i) + 1, cs->median ? cs->threshold_m : 1);
        ia[++k] = (int)i + 1, ja[k] = (int)(P + i) + 1, ar[k] = 1;
    }
    for (size_t f = 0; f < F; f++) {
        bool is_open = f < E || open[f - E];
        glp_set_row_bnds(lp, (int)(N + f) + 1, GLP_UP, 0, is_open ? cs->room[f] : 0);
        for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
            glp_set_col_bnds(lp, (int)q + 1, GLP_LO, 0, 0);
            glp_set_obj_coef(lp, (int)q + 1, cs->median ? cs->cost[q] : 0);
            ia[++k] = (int)cs->pt[q] + 1, ja[k] = (int)q + 1, ar[k] = 1;
            ia[++k] = (int)(N + f) + 1, ja[k] = (int)q + 1, ar[k] = 1;
        }
    }
    glp_load_matrix(lp, k, ia, ja, ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    assert_int_equal(glp_simplex(lp, &parm), 0);
    double best = glp_get_obj_val(lp);
    glp_delete_prob(lp);
    free(ia);
    free(ja);
    free(ar);
    return best;
}

/* A random instance: 4-20 points of demand in eighths (0 for some), 0-2 existing
 * facilities and 6-12 candidates of room 0-12, each reaching a point with chance 1/2 at
 * a whole number of metres up to the threshold of 10 (ties). */
static void random_sets(uint64_t *rng, bool median, cs_capacity_sets *cs)
{
    size_t N = 4 + tu_rng_next(rng) % 17, E = tu_rng_next(rng) % 3,
           C = 6 + tu_rng_next(rng) % 7, F = E + C, n = 0;
    *cs = (cs_capacity_sets){.points = N, .existing = E, .candidates = C, .threshold_m = 10,
                             .median = median};
    cs->demand = cs_calloc(N, sizeof *cs->demand);
    cs->room = cs_calloc(F, sizeof *cs->room);
    cs->first = cs_calloc(F + 1, sizeof *cs->first);
    cs->pt = cs_calloc(N * F, sizeof *cs->pt);
    cs->cost = cs_calloc(N * F, sizeof *cs->cost);
    for (size_t i = 0; i < N; i++)
        cs->demand[i] = (double)(tu_rng_next(rng) % 33) / 8;
    for (size_t f = 0; f < F; f++) {
        cs->room[f] = (double)(tu_rng_next(rng) % 13);
        for (size_t i = 0; i < N; i++)
            if (tu_rng_next(rng) % 2) {
                cs->pt[n] = (uint32_t)i;
                cs->cost[n++] = (double)(tu_rng_next(rng) % 11);
            }
        cs->first[f + 1] = n;
    }
}

/* The least cost of any k candidates or fewer, by enumeration. */
static double brute_capacity(const cs_capacity_sets *cs, size_t k)
{
    double best = INFINITY;
    unsigned char open[16];
    for (unsigned mask = 0; mask < (1u << cs->candidates); mask++) {
        if ((size_t)__builtin_popcount(mask) > k)
            continue;
        for (size_t c = 0; c < cs->candidates; c++)
            open[c] = (mask >> c) & 1;
        best = fmin(best, lp_cost(cs, open));
    }
    return best;
}

/* Capacitated covering and p-median on 60 random instances x k 1-3: the assignment
 * costs what GLPK's simplex says for the same sites, the exact solve finds the
 * enumeration's optimum, and the heuristic is never better than it and equal to it on
 * nearly all (counted). */
static void capacitated_against_enumeration(void **state)
{
    (void)state;
    uint64_t rng = 11;
    int runs = 0, equal = 0;
    for (int round = 0; round < 60; round++) {
        cs_capacity_sets cs;
        random_sets(&rng, round % 2 == 1, &cs);
        for (size_t k = 1; k <= 3; k++) {
            size_t chosen[16], n = 0, swaps = 0;
            double gains[16], cost, sum = 0;
            bool optimal;
            double best = brute_capacity(&cs, k);
            cs_capacity_flow first = {0}, last = {0};
            assert_int_equal(cs_capacity_heuristic(&cs, k, chosen, gains, &n, &swaps, &first,
                                                   &last), CS_OK);
            for (size_t q = 0; q < n; q++)
                sum += gains[q];
            double before = first.cost, after = last.cost;
            assert_true(fabs(before - sum - after) < 1e-6);
            cs_capacity_flow_free(&first);
            cs_capacity_flow_free(&last);
            unsigned char none[16] = {0}, open[16] = {0};
            if (fabs(before - lp_cost(&cs, none)) > 1e-6)
                fail_msg("round %d k %zu: before %g, GLPK %g", round, k, before, lp_cost(&cs, none));
            for (size_t q = 0; q < n; q++)
                open[chosen[q]] = 1;
            double heuristic = lp_cost(&cs, open);
            if (fabs(after - heuristic) > 1e-6)
                fail_msg("round %d k %zu: the heuristic says %g, its sites cost %g", round, k,
                         after, heuristic);
            assert_true(n <= k && heuristic >= best - 1e-6);
            for (size_t q = 0; q < n; q++)
                assert_true(gains[q] > 0);
            assert_int_equal(cs_capacity_exact(&cs, k, 10, chosen, &n, &cost, &optimal), CS_OK);
            assert_true(optimal && n <= k);
            if (fabs(cost - best) > 1e-6)
                fail_msg("round %d k %zu (%s): exact %g, enumeration %g", round, k,
                         cs.median ? "p-median" : "covering", cost, best);
            runs++;
            equal += fabs(heuristic - best) < 1e-6;
        }
        cs_capacity_sets_free(&cs);
    }
    print_message("capacitated heuristic optimal on %d of %d instances\n", equal, runs);
    assert_true(equal >= runs * 98 / 100);
}

/* Hand-worked: residents A and B (10 units each) whom candidate X (room 5) reaches,
 * and C (7 units) whom candidate Y (room 6) reaches; no facility now. One site: X
 * covers 20 residents' demand but can serve only 5, Y serves 6, so capacitated
 * covering takes Y where uncapacitated covering would take X. Two sites serve 11.
 * As p-median with walks of 100 m (A, B to X) and 300 m (C to Y) and a threshold of
 * 1,000 m: Y saves 6 x 700 = 4,200 m, X 5 x 900 = 4,500 m, so p-median takes X. */
static void capacitated_hand_worked(void **state)
{
    (void)state;
    double demand[] = {10, 10, 7}, room[] = {5, 6}, cost[] = {100, 100, 300};
    size_t first[] = {0, 2, 3};
    uint32_t pt[] = {0, 1, 2};
    cs_capacity_sets cs = {.points = 3, .existing = 0, .candidates = 2, .demand = demand,
                           .room = room, .first = first, .pt = pt, .cost = cost,
                           .threshold_m = 1000};
    for (int median = 0; median <= 1; median++) {
        cs.median = median;
        size_t chosen[2], n, swaps;
        double gains[2], value;
        bool optimal;
        cs_capacity_flow first_flow = {0}, last = {0};
        assert_int_equal(cs_capacity_heuristic(&cs, 1, chosen, gains, &n, &swaps, &first_flow,
                                               &last), CS_OK);
        assert_int_equal(n, 1);
        assert_int_equal(chosen[0], median ? 0 : 1);
        assert_true(fabs(gains[0] - (median ? 4500 : 6)) < 1e-9);
        assert_true(fabs(last.served - (median ? 5 : 6)) < 1e-9);
        assert_int_equal(cs_capacity_exact(&cs, 1, 10, chosen, &n, &value, &optimal), CS_OK);
        assert_true(optimal && n == 1 && chosen[0] == (median ? 0u : 1u));
        assert_true(fabs(value - (median ? 27000 - 4500 : 21)) < 1e-6);
        assert_int_equal(cs_capacity_heuristic(&cs, 2, chosen, gains, &n, &swaps, &first_flow,
                                               &last), CS_OK);
        assert_true(n == 2 && fabs(last.served - 11) < 1e-9);
        cs_capacity_flow_free(&first_flow);
        cs_capacity_flow_free(&last);
    }
}

/* ------------------------------------------------------------ through a study */

enum { NCAND = 9, NFAC = 3, NPOP = 150 };
#define REACH_M 1200.0 /* the fixture's 15 minutes */

/* A study of 150 random residents on the 3 km square, three centres (kind a) with
 * 40, 60 and 20 beds, demand 65+ x 0.1 beds; run. */
static void capacity_study(fx_env *e, fx_data *d)
{
    fx_random(d, 21, 3, 3, 1000, NFAC, NPOP);
    const double beds[NFAC] = {40, 60, 20};
    for (size_t f = 0; f < NFAC; f++) {
        d->fkind[f] = 0;
        d->fbeds[f] = beds[f];
    }
    assert_int_equal(fx_env_open(e, d, NULL), CS_OK);
    fx_env_set(e, "kinds.a.load_capacity", "beds");
    fx_env_set(e, "kinds.a.load_band", "65+");
    fx_env_set(e, "kinds.a.load_rate", "0.1");
    fx_env_run_ok(e);
}

/* Nine candidates on a 3 x 3 grid, 1,100 m apart, of 30 to 70 beds. */
static void grid_sites(cs_site_input cand[NCAND], char names[NCAND][8])
{
    for (size_t c = 0; c < NCAND; c++) {
        snprintf(names[c], 8, "C%zu", c + 1);
        cand[c] = (cs_site_input){names[c], FX_X0 + 400 + 1100.0 * (double)(c % 3),
                                  FX_Y0 + 400 + 1100.0 * (double)(c / 3), "EPSG:32651", "a",
                                  30 + 5.0 * (double)c, 0};
    }
}

/* The instance measured here: every resident within 1,200 m of a facility or a
 * candidate, by the distances on the coordinates written. */
static void measured_sets(const fx_data *d, const cs_site_input *cand, bool median,
                          cs_capacity_sets *cs)
{
    size_t F = NFAC + NCAND, n = 0;
    *cs = (cs_capacity_sets){.points = NPOP, .existing = NFAC, .candidates = NCAND,
                             .threshold_m = REACH_M, .median = median};
    cs->demand = cs_calloc(NPOP, sizeof *cs->demand);
    cs->room = cs_calloc(F, sizeof *cs->room);
    cs->first = cs_calloc(F + 1, sizeof *cs->first);
    cs->pt = cs_calloc(NPOP * F, sizeof *cs->pt);
    cs->cost = cs_calloc(NPOP * F, sizeof *cs->cost);
    for (size_t i = 0; i < NPOP; i++)
        cs->demand[i] = d->pop65[i] * 0.1;
    for (size_t f = 0; f < F; f++) {
        double x = f < NFAC ? d->fx[f] : cand[f - NFAC].lon;
        double y = f < NFAC ? d->fy[f] : cand[f - NFAC].lat;
        cs->room[f] = f < NFAC ? d->fbeds[f] : cand[f - NFAC].capacity;
        for (size_t i = 0; i < NPOP; i++) {
            double walk = hypot(d->px[i] - x, d->py[i] - y);
            if (walk <= REACH_M && cs->demand[i] > 0) {
                cs->pt[n] = (uint32_t)i;
                cs->cost[n++] = walk;
            }
        }
        cs->first[f + 1] = n;
    }
}

/* The best pair of candidates by enumeration: its cost, and the cost with none. */
static double best_pair(const cs_capacity_sets *cs, double *none)
{
    unsigned char open[NCAND] = {0};
    *none = lp_cost(cs, open);
    double best = INFINITY;
    for (size_t a = 0; a < NCAND; a++)
        for (size_t b = a + 1; b < NCAND; b++) {
            memset(open, 0, sizeof open);
            open[a] = open[b] = 1;
            best = fmin(best, lp_cost(cs, open));
        }
    return best;
}

/* assignment.csv: every point's rows add up to its demand, no facility takes more than
 * its room, each walk is the distance measured here, and what is served is the
 * report's; returns the listed sites' indices (C1..C9 -> 0..8) into sites. */
static void check_assignment(const char *path, const fx_data *d, const cs_site_input *cand,
                             const cs_capacity_sets *cs, double served)
{
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "demand_no,lon,lat,area_id,demand_beds,facility_id,new_site,"
                                 "assigned_beds,walk_m\r\n"));
    double got[NPOP] = {0}, taken[NFAC + NCAND] = {0}, sum = 0;
    for (char *line = strstr(text, "\r\n") + 2; *line; line = strstr(line, "\r\n") + 2) {
        size_t no;
        double lon, lat, demand, units;
        char area[16], fac[16] = "", walk[32] = "";
        int n = sscanf(line, "%zu,%lf,%lf,%15[^,],%lf,%15[^,],", &no, &lon, &lat, area,
                       &demand, fac);
        assert_true(n == 6 || n == 5);
        const char *field = line;
        for (int comma = 0; comma < 7; comma++)
            field = strchr(field, ',') + 1;
        sscanf(field, "%lf,%31[^\r]", &units, walk);
        size_t i = no - 1;
        assert_true(fabs(demand - cs->demand[i]) < 1e-3);
        got[i] += units;
        if (n == 6) {
            long f = fac[0] == 'C' ? NFAC + atol(fac + 1) - 1 : atol(fac + 1); /* F0.., C1.. */
            double x = f < NFAC ? d->fx[f] : cand[f - NFAC].lon;
            double y = f < NFAC ? d->fy[f] : cand[f - NFAC].lat;
            assert_true(fabs(strtod(walk, NULL) - hypot(d->px[i] - x, d->py[i] - y)) < 0.051);
            taken[f] += units;
            sum += units;
        }
    }
    for (size_t i = 0; i < NPOP; i++)
        if (cs->demand[i] > 0 && fabs(got[i] - cs->demand[i]) > 2e-3)
            fail_msg("point %zu: %g assigned of %g", i + 1, got[i], cs->demand[i]);
    for (size_t f = 0; f < NFAC + NCAND; f++)
        assert_true(taken[f] <= cs->room[f] + 1e-6);
    assert_true(fabs(sum - served) < 0.01);
    free(text);
}

/* Capacitated covering and p-median of two sites through a study, with --exact: the
 * served and walked before, the exact optimum and the listed sites' own cost against
 * the enumeration of every pair with GLPK's simplex here; assignment.csv written. */
static void capacitated_study_against_brute_force(void **state)
{
    (void)state;
    fx_data d;
    fx_env e = {0};
    capacity_study(&e, &d);
    cs_site_input cand[NCAND];
    char names[NCAND][8];
    grid_sites(cand, names);
    for (int median = 0; median <= 1; median++) {
        cs_capacity_sets cs;
        measured_sets(&d, cand, median, &cs);
        double none, best = best_pair(&cs, &none), demand = 0;
        for (size_t i = 0; i < NPOP; i++)
            demand += cs.demand[i];
        cs_suggest_options opt = {.kind = "a", .k = 2, .within_min = NAN, .reach_share = NAN,
                                  .exact = 1, .candidates = cand, .candidate_count = NCAND,
                                  .model = median ? CS_MODEL_MEDIAN : CS_MODEL_COVER,
                                  .capacitated = 1, .site_capacity = NAN};
        cs_suggest_report rep;
        cs_site *site = NULL;
        cs_status st = cs_site_suggest(e.ctx, e.result, &opt, &site, &rep);
        if (st != CS_OK)
            tu_dump_messages(e.ctx);
        assert_int_equal(st, CS_OK);
        assert_true(rep.capacitated && fabs(rep.demand - demand) < 1e-6);
        assert_true(rep.exact_run && rep.exact_optimal && rep.exact_listed);
        /* the listed sites' cost, measured here */
        unsigned char open[NCAND] = {0};
        for (size_t p = 0; p < cs_site_count(site); p++) {
            cs_site_figures f;
            assert_int_equal(cs_site_get_figures(site, p, &f), CS_OK);
            open[atoi(f.id + 1) - 1] = 1;
        }
        double listed = lp_cost(&cs, open);
        /* walks are solved in whole centimetres: within half of one a unit */
        double tol = median ? 0.005 * demand + 1e-6 : 1e-6;
        if (fabs(listed - best) > tol)
            fail_msg("%s: listed sites cost %g, the optimum %g", median ? "p-median" : "cover",
                     listed, best);
        if (median) {
            assert_true(fabs(rep.walk_before * demand - none) < tol);
            assert_true(fabs(rep.exact_walk * demand - best) < tol);
            assert_true(rep.heuristic_walk * demand >= best - tol);
        } else {
            assert_true(fabs(rep.served_before - (demand - none)) < 1e-6);
            assert_true(fabs(rep.exact_covered - (none - best)) < 1e-6);
            assert_true(fabs(rep.served_after - (demand - best)) < 1e-6);
            assert_true(rep.greedy_covered <= none - best + 1e-6);
        }
        char *out = tu_join(e.dir, median ? "median" : "cover");
        char *path = tu_join(out, "assignment.csv");
        assert_int_equal(cs_site_write(e.ctx, site, out), CS_OK);
        check_assignment(path, &d, cand, &cs, rep.served_after);
        free(path);
        path = tu_join(out, "suggestions.geojson");
        char *text = tu_read(path, NULL);
        assert_non_null(strstr(text, "\"capacitated\":{\"demand\":"));
        free(text);
        free(path);
        free(out);
        cs_site_destroy(site);
        cs_capacity_sets_free(&cs);
    }
    fx_env_close(&e);
    fx_free(&d);
}

/* Each way --capacitated is refused names what to give. */
static void capacitated_errors(void **state)
{
    (void)state;
    fx_data d;
    fx_env e = {0};
    capacity_study(&e, &d);
    cs_site_input cand[NCAND];
    char names[NCAND][8];
    grid_sites(cand, names);
    cs_suggest_options opt = {.kind = "a", .k = 2, .within_min = NAN, .reach_share = NAN,
                              .candidates = cand, .candidate_count = NCAND,
                              .model = CS_MODEL_CENTER, .capacitated = 1};
    cs_suggest_report rep;
    cs_site *site = NULL;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "--capacitated applies to covering and p-median, not to "
                               "p-center", "give --model cover or p-median", NULL));
    opt.model = CS_MODEL_COVER;
    opt.reach_share = 0.9;
    opt.k = 0;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "--capacitated chooses K sites",
                               "give --suggest K with --capacitated", NULL));
    opt.reach_share = NAN;
    opt.k = 2;
    opt.kind = "b";
    for (size_t c = 0; c < NCAND; c++)
        cand[c].kind = "b";
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "kind 'b' has no capacity to fill",
                               "set kinds.b.load_capacity", NULL));
    opt.kind = "a";
    for (size_t c = 0; c < NCAND; c++)
        cand[c].kind = "a";
    cand[4].capacity = NAN;
    cand[4].feature = 5;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_INPUT);
    assert_true(tu_has_message(e.ctx, "candidate 'C5' (feature 5) has no capacity",
                               "give every candidate a capacity (beds), or --site-capacity N",
                               NULL));
    opt.site_capacity = 25; /* now the room of C5 */
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_OK);
    cs_site_destroy(site);
    site = NULL;
    /* more pairs than the limit (here made small) */
    opt.capacitated_max_pairs = 10;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "pairs of demand points and facilities or candidates "
                               "within the threshold, more than the 10 whose assignment",
                               "give fewer candidates (--candidates)", NULL));
    assert_null(site);
    opt.capacitated_max_pairs = 0;
    opt.candidates = NULL;
    opt.candidate_count = 0;
    opt.site_capacity = NAN;
    assert_int_equal(cs_site_suggest(e.ctx, e.result, &opt, &site, &rep), CS_ERR_STUDY);
    assert_true(tu_has_message(e.ctx, "--capacitated needs the room of the sites it generates",
                               "give --site-capacity N (beds of each new site)", NULL));
    assert_null(site);
    fx_env_close(&e);
    fx_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transport_hand_worked),
        cmocka_unit_test(transport_against_glpk),
        cmocka_unit_test(capacitated_hand_worked),
        cmocka_unit_test(capacitated_against_enumeration),
        cmocka_unit_test(capacitated_study_against_brute_force),
        cmocka_unit_test(capacitated_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
