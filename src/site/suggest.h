/*
 * suggest.h — choosing new sites: cover sets of candidates, lazy greedy and exact
 * maximal/set covering (site/suggest.c), and the candidates and run (site/choose.c).
 */
#ifndef CS_SITE_SUGGEST_H
#define CS_SITE_SUGGEST_H

#include "site/site.h"

#include <glpk.h>
#include <stdint.h>

/* Candidate c covers points pt[first[c] .. first[c + 1]) (indices into weight); for
 * p-median it reaches them at cost[q] (metres), nearer than their walk now, base[i]
 * (both NULL for covering). */
typedef struct cs_cover_sets {
    size_t candidates, points;
    size_t *first;
    uint32_t *pt;
    double *weight;
    double *cost;
    double *base;
    unsigned char *existing; /* backup: the facilities reaching each point now (0 or 1;
                                those reached by two weigh nothing) */
} cs_cover_sets;
void cs_cover_sets_free(cs_cover_sets *c);

/* A candidate and a value of it; cs_by_value_down sorts the largest first, ties to the
 * lower index. */
typedef struct cs_valued {
    double v;
    size_t c;
} cs_valued;
int cs_by_value_down(const void *a, const void *b);

/* Lazy greedy (Minoux 1978) for any objective whose gains only shrink as candidates are
 * taken: gain(user, c) is candidate c's gain now, take(user, c) takes it. */
typedef struct cs_greedy_fns {
    double (*gain)(void *user, size_t c);
    void (*take)(void *user, size_t c);
} cs_greedy_fns;

/* Up to k of the candidates among[0..C) (among NULL: 0..C-1), the largest gain first
 * (ties to the lowest index), stopping once the gains reach need (INFINITY: never) or
 * none is left; their indices into chosen and gains into gains (room for k each);
 * *count how many. Errors: NOMEM. */
cs_status cs_lazy_greedy(const cs_greedy_fns *fn, void *user, const size_t *among, size_t C,
                         size_t k, double need, size_t *chosen, double *gains, size_t *count);

/* Lazy greedy: up to k candidates, stopping early once `need` is covered (use INFINITY
 * for maximal covering) or nothing is left to gain; their indices into chosen and their
 * marginal gains into gains (both room for k); *count how many. Errors: NOMEM. */
cs_status cs_greedy_cover(const cs_cover_sets *cs, size_t k, double need, size_t *chosen,
                          double *gains, size_t *count);

/* The optimum by GLPK's branch and cut, within time_limit_s: maximal covering with k
 * sites (need = INFINITY), or the fewest sites covering `need`. chosen needs room for
 * every candidate; *objective is the covered weight (max) or the site count (min), NaN
 * when no solution was found; *optimal says whether it is proven. Errors: NOMEM. */
cs_status cs_exact_cover(const cs_cover_sets *cs, size_t k, double need, double time_limit_s,
                         size_t *chosen, size_t *count, double *objective, bool *optimal);

/* Branch and cut (with GLPK's presolver) on lp within time_limit_s, then lp deleted and
 * GLPK's environment of this thread freed: the binary columns 1..C set into chosen
 * (room for C), *count, the objective (NaN when no solution was found), whether it is
 * proven optimal. */
void cs_glpk_solve(glp_prob *lp, double time_limit_s, size_t C, size_t *chosen, size_t *count,
                   double *objective, bool *optimal);

/* p-median (site/median.c): what sites[0..n) save, sum_i w_i (base_i - their walk). */
double cs_median_saving(const cs_cover_sets *cs, const size_t *sites, size_t n);

/* Greedy, then the best swaps while one shortens the walk: up to k candidates into
 * chosen (room for k), ranked by what each saves in turn (gains, room for k); *count
 * how many, *swaps how many swaps were made. Errors: NOMEM. */
cs_status cs_median_heuristic(const cs_cover_sets *cs, size_t k, int threads, size_t *chosen,
                              double *gains, size_t *count, size_t *swaps);

/* An upper bound on the saving of any k sites (the Lagrangian relaxation of each
 * resident walking to one facility, near the LP relaxation's optimum), in a bounded
 * number of passes; known: a saving reached. NaN without memory. */
double cs_median_bound(const cs_cover_sets *cs, size_t k, int threads, double known);

/* sites[0..n) reordered by what each saves in turn (greedy among them), those savings
 * into gains; *count of them save anything. Errors: NOMEM. */
cs_status cs_median_rank(const cs_cover_sets *cs, size_t *sites, size_t n, double *gains,
                         size_t *count);

/* p-center's answer (site/center.c). */
typedef struct cs_center_solution {
    size_t *sites;   /* the caller's, room for every candidate */
    size_t count;
    double before;   /* the longest walk now; INFINITY: beyond the threshold */
    double radius;   /* with the sites; INFINITY: k sites cannot bring all within it */
    double lower;    /* no k sites make it shorter */
    double left_out; /* residents (weight) no facility or candidate reaches within it */
    bool decided;    /* exact: every covering question was answered in time */
    double seconds;
} cs_center_solution;

/* p-center on cover sets whose base is each resident's walk now within the threshold
 * (INFINITY beyond): by bisection over the walks that occur, each covering question
 * answered by greedy, or with time_limit_s > 0 by GLPK within that time. Errors: NOMEM. */
cs_status cs_center_solve(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          cs_center_solution *out);

/* p-center's sites[0..n) in the order greedy brings residents (weights) walking more
 * than radius now within it, those gains into gains, the others after with 0; *count
 * is n. Errors: NOMEM. */
cs_status cs_center_rank(const cs_cover_sets *cs, double radius, size_t *sites, size_t n,
                         double *gains, size_t *count);

/* Backup coverage (site/backup.c): the weight of the residents sites[0..n) bring to two
 * facilities within reach; NaN without memory. */
double cs_backup_value(const cs_cover_sets *cs, const size_t *sites, size_t n);

/* Greedy on a surrogate (a first cover counts half), then the best swaps while one
 * brings more residents to two: up to k candidates into chosen, ranked by what each
 * adds in turn (gains: residents brought to two); *count, *swaps. Errors: NOMEM. */
cs_status cs_backup_heuristic(const cs_cover_sets *cs, size_t k, int threads, size_t *chosen,
                              double *gains, size_t *count, size_t *swaps);

/* sites[0..n) reordered by what each brings to two in turn, those gains into gains.
 * Errors: NOMEM. */
cs_status cs_backup_rank(const cs_cover_sets *cs, size_t *sites, size_t n, double *gains);

/* GLPK's optimum within time_limit_s: the sites into chosen (room for every candidate),
 * *count, their *value (NaN: none found), *optimal. Errors: NOMEM. */
cs_status cs_backup_exact(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          size_t *chosen, size_t *count, double *value, bool *optimal);

/* An exact solve's answer. */
typedef struct cs_median_solution {
    size_t *sites;   /* the caller's, room for every candidate */
    size_t count;
    double saving;   /* the best saving found; NaN: none */
    double bound;    /* no saving is larger (the optimum's when proven); NaN: none */
    double lp_bound; /* the LP relaxation's optimum; NaN when not solved in time */
    bool optimal;
    double seconds;  /* the solver's time */
} cs_median_solution;

/* GLPK's branch and cut within time_limit_s (the LP relaxation included), started from
 * the sites start[0..nstart). Errors: NOMEM. */
cs_status cs_median_exact(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          const size_t *start, size_t nstart, cs_median_solution *out);

/* A capacitated model's instance (site/capacitated.c): facilities 0 .. existing - 1
 * are open now, then come the candidates; facility f reaches the points
 * pt[first[f] .. first[f + 1]) within the threshold, walking cost[q] metres. */
typedef struct cs_capacity_sets {
    size_t points, existing, candidates;
    double *demand; /* each point's, in the kind's capacity units */
    double *room;   /* each facility's capacity */
    size_t *first;
    uint32_t *pt;
    double *cost;
    double threshold_m;
    bool median;    /* p-median: the walk counts; covering: only whether served */
} cs_capacity_sets;
void cs_capacity_sets_free(cs_capacity_sets *c);

/* The best assignment for some open facilities: units[q] on each pair, unserved[i] of
 * each point; what is served, left unserved, and walked (a unit unserved walking the
 * threshold), and the cost minimised (walk for p-median, left for covering). */
typedef struct cs_capacity_flow {
    double *units, *unserved;
    double served, left, walk, cost;
} cs_capacity_flow;
void cs_capacity_flow_free(cs_capacity_flow *f);

/* The assignment with the existing facilities and the candidates open[c] (open may be
 * NULL: none) open; out's arrays are made on its first use. Errors: NOMEM. */
cs_status cs_capacity_assign(const cs_capacity_sets *cs, const unsigned char *open,
                             cs_capacity_flow *out);

/* Up to k candidates added one by one, then swapped while that helps: chosen (room for
 * k) ranked by what each takes off the cost in turn (gains); *count, *swaps; the
 * assignment with the existing facilities alone (*before) and with the sites (*after;
 * both made on first use, as by cs_capacity_assign). Errors: NOMEM. */
cs_status cs_capacity_heuristic(const cs_capacity_sets *cs, size_t k, size_t *chosen,
                                double *gains, size_t *count, size_t *swaps,
                                cs_capacity_flow *before, cs_capacity_flow *after);

/* sites[0..n) ranked by what each takes off the cost in turn (gains); *count of them
 * take something off. Errors: NOMEM. */
cs_status cs_capacity_rank(const cs_capacity_sets *cs, size_t *sites, size_t n, double *gains,
                           size_t *count);

/* GLPK's optimum within time_limit_s: the sites into chosen (room for every candidate),
 * *count, their *cost (NaN: none found), *optimal. Errors: NOMEM. */
cs_status cs_capacity_exact(const cs_capacity_sets *cs, size_t k, double time_limit_s,
                            size_t *chosen, size_t *count, double *cost, bool *optimal);

/* assignment.csv (site/assignment.c) into out: the flow fl by demand point, the
 * existing facilities named by their study indices facility[f], the candidates
 * chosen[0..count) by site_ids; unit names the demand's columns. */
cs_status cs_assignment_csv(cs_context *ctx, const cs_study *s, const char *unit,
                            const cs_capacity_sets *cs, const cs_capacity_flow *fl,
                            const size_t *facility, const size_t *chosen,
                            const char *const *site_ids, size_t count, cs_buf *out);

#endif
