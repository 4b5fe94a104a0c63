/*
 * suggest.h — choosing new sites: cover sets of candidates, lazy greedy and exact
 * maximal/set covering (site/suggest.c), and the candidates and run (site/choose.c).
 */
#ifndef CS_SITE_SUGGEST_H
#define CS_SITE_SUGGEST_H

#include "site/site.h"

#include <stdint.h>

/* Candidate c covers points pt[first[c] .. first[c + 1]) (indices into weight). */
typedef struct cs_cover_sets {
    size_t candidates, points;
    size_t *first;
    uint32_t *pt;
    double *weight;
} cs_cover_sets;
void cs_cover_sets_free(cs_cover_sets *c);

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

#endif
