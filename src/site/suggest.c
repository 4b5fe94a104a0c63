/*
 * suggest.c — where the next sites should go: maximal covering (the K candidates that
 * together newly cover the most uncovered residents within a threshold; Church &
 * ReVelle 1974) and set covering (the fewest candidates that lift coverage to a share).
 *
 * Each candidate's cover set is the uncovered residents (beyond the threshold of every
 * existing facility of the kind, by its main measure) within the threshold of it, found
 * as for proposals: a within-radius query or one bounded network search. Lazy greedy
 * (Minoux 1978) picks the candidate of the largest marginal gain, re-evaluating a
 * candidate only when it reaches the top of the queue with a stale gain; gains only
 * shrink, so this picks what plain greedy picks, whose result is at least (1 - 1/e) of
 * the optimum. The exact answer comes from GLPK's branch and cut on the textbook
 * integer programme, for instances of moderate size.
 */
#include "site/suggest.h"

#include "cost/nearest.h"

#include <glpk.h>
#include <math.h>
#include <string.h>

void cs_cover_sets_free(cs_cover_sets *c)
{
    cs_free(c->first);
    cs_free(c->pt);
    cs_free(c->weight);
    cs_free(c->cost);
    cs_free(c->base);
    cs_free(c->existing);
    memset(c, 0, sizeof *c);
}

int cs_by_value_down(const void *a, const void *b)
{
    const cs_valued *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

/* ---------------------------------------------------------------- greedy */

typedef struct entry {
    double gain;
    size_t c;
} entry;

static bool above(const entry *a, const entry *b)
{
    return a->gain > b->gain || (a->gain == b->gain && a->c < b->c);
}

static void sift_down(entry *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < n && above(&h[l], &h[best]))
            best = l;
        if (l + 1 < n && above(&h[l + 1], &h[best]))
            best = l + 1;
        if (best == i)
            return;
        entry t = h[i];
        h[i] = h[best];
        h[best] = t;
        i = best;
    }
}

cs_status cs_lazy_greedy(const cs_greedy_fns *fn, void *user, const size_t *among, size_t C,
                         size_t k, double need, size_t *chosen, double *gains, size_t *count)
{
    entry *h = cs_calloc(C + 1, sizeof *h);
    if (!h)
        return CS_ERR_NOMEM;
    for (size_t c = 0; c < C; c++) {
        size_t id = among ? among[c] : c;
        h[c] = (entry){fn->gain(user, id), id};
    }
    for (size_t i = C / 2 + 1; i-- > 0;)
        sift_down(h, C, i);
    size_t n = C, picked = 0;
    double total = 0;
    while (picked < k && n > 0 && !(total >= need)) {
        entry top = h[0];
        double fresh = fn->gain(user, top.c);
        if (fresh < top.gain) { /* stale: put it back with its true gain */
            h[0].gain = fresh;
            sift_down(h, n, 0);
            continue;
        }
        if (!(fresh > 0))
            break; /* nothing left to gain */
        chosen[picked] = top.c;
        gains[picked++] = fresh;
        total += fresh;
        fn->take(user, top.c);
        h[0] = h[--n];
        sift_down(h, n, 0);
    }
    *count = picked;
    cs_free(h);
    return CS_OK;
}

/* Covering's gain: the weight of a candidate's points not covered yet (taken). */
typedef struct uncovered {
    const cs_cover_sets *cs;
    unsigned char *taken;
} uncovered;

static double cover_gain(void *user, size_t c)
{
    const uncovered *cv = user;
    double g = 0;
    for (size_t q = cv->cs->first[c]; q < cv->cs->first[c + 1]; q++)
        if (!cv->taken[cv->cs->pt[q]])
            g += cv->cs->weight[cv->cs->pt[q]];
    return g;
}

static void cover_take(void *user, size_t c)
{
    const uncovered *cv = user;
    for (size_t q = cv->cs->first[c]; q < cv->cs->first[c + 1]; q++)
        cv->taken[cv->cs->pt[q]] = 1;
}

cs_status cs_greedy_cover(const cs_cover_sets *cs, size_t k, double need, size_t *chosen,
                          double *gains, size_t *count)
{
    static const cs_greedy_fns fns = {cover_gain, cover_take};
    uncovered cv = {cs, cs_calloc(cs->points + 1, 1)};
    cs_status st = cv.taken ? cs_lazy_greedy(&fns, &cv, NULL, cs->candidates, k, need, chosen,
                                             gains, count)
                            : CS_ERR_NOMEM;
    cs_free(cv.taken);
    return st;
}

/* ----------------------------------------------------------------- exact */

static void quiet_glpk(void)
{
    glp_term_out(GLP_OFF);
}

/*
 * max sum w_i y_i  s.t.  y_i <= sum_{c covers i} x_c,  sum x_c <= k,  x binary, y in [0,1]
 * (maximal covering), or with need finite:
 * min sum x_c      s.t.  y_i <= sum_{c covers i} x_c,  sum w_i y_i >= need.
 */
cs_status cs_exact_cover(const cs_cover_sets *cs, size_t k, double need, double time_limit_s,
                         size_t *chosen, size_t *count, double *objective, bool *optimal)
{
    size_t C = cs->candidates, P = cs->points;
    bool covering = isfinite(need);
    quiet_glpk();
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, covering ? GLP_MIN : GLP_MAX);
    glp_add_cols(lp, (int)(C + P));
    for (size_t c = 0; c < C; c++) {
        glp_set_col_kind(lp, (int)c + 1, GLP_BV);
        glp_set_obj_coef(lp, (int)c + 1, covering ? 1 : 0);
    }
    for (size_t i = 0; i < P; i++) {
        glp_set_col_bnds(lp, (int)(C + i) + 1, GLP_DB, 0, 1);
        glp_set_obj_coef(lp, (int)(C + i) + 1, covering ? 0 : cs->weight[i]);
    }
    size_t nz = cs->first[C] + P + (covering ? P : C);
    int *ia = cs_calloc(nz + 2, sizeof *ia), *ja = cs_calloc(nz + 2, sizeof *ja);
    double *ar = cs_calloc(nz + 2, sizeof *ar);
    if (!ia || !ja || !ar) {
        cs_free(ia), cs_free(ja), cs_free(ar);
        glp_delete_prob(lp);
        glp_free_env();
        return CS_ERR_NOMEM;
    }
    /* rows 1..P: y_i - sum x_c <= 0; row P + 1: the budget or the need */
    glp_add_rows(lp, (int)P + 1);
    size_t e = 0;
    for (size_t i = 0; i < P; i++) {
        glp_set_row_bnds(lp, (int)i + 1, GLP_UP, 0, 0);
        ++e, ia[e] = (int)i + 1, ja[e] = (int)(C + i) + 1, ar[e] = 1;
    }
    for (size_t c = 0; c < C; c++)
        for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++)
            ++e, ia[e] = (int)cs->pt[q] + 1, ja[e] = (int)c + 1, ar[e] = -1;
    if (covering) {
        glp_set_row_bnds(lp, (int)P + 1, GLP_LO, need, 0);
        for (size_t i = 0; i < P; i++)
            ++e, ia[e] = (int)P + 1, ja[e] = (int)(C + i) + 1, ar[e] = cs->weight[i];
    } else {
        glp_set_row_bnds(lp, (int)P + 1, GLP_UP, 0, (double)k);
        for (size_t c = 0; c < C; c++)
            ++e, ia[e] = (int)P + 1, ja[e] = (int)c + 1, ar[e] = 1;
    }
    glp_load_matrix(lp, (int)e, ia, ja, ar);
    cs_free(ia), cs_free(ja), cs_free(ar);
    cs_glpk_solve(lp, time_limit_s, C, chosen, count, objective, optimal);
    return CS_OK;
}

void cs_glpk_solve(glp_prob *lp, double time_limit_s, size_t C, size_t *chosen, size_t *count,
                   double *objective, bool *optimal)
{
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = (int)(time_limit_s * 1000);
    int ret = glp_intopt(lp, &parm);
    int status = glp_mip_status(lp);
    *optimal = ret == 0 && status == GLP_OPT;
    *count = 0;
    *objective = NAN;
    if (status == GLP_OPT || status == GLP_FEAS) {
        *objective = glp_mip_obj_val(lp);
        for (size_t c = 0; c < C; c++)
            if (glp_mip_col_val(lp, (int)c + 1) > 0.5)
                chosen[(*count)++] = c;
    }
    glp_delete_prob(lp);
    /* GLPK keeps an environment per thread: freed here, or a server's threads would
     * each leave theirs behind when they end */
    glp_free_env();
}
