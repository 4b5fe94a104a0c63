/*
 * backup.c — backup coverage (Hogan & ReVelle 1986): the K candidates that bring the
 * most residents within reach of two facilities, so that a second one is near when the
 * first is full or closed.
 *
 * A resident counts as covered twice when two distinct facilities, existing or chosen,
 * lie within the threshold; one whom fewer than two facilities and candidates reach can
 * never count (unlike spopt's LSCP-B, which counts them). The cover sets list, for each
 * candidate, the residents still short of two (existing[i] facilities reach them now,
 * 0 or 1); the objective is the weight of those the chosen sites bring to two.
 *
 * The heuristic is greedy on a surrogate that also credits a first cover by half (the
 * true gain of a lone candidate is often nothing where two are needed), then the best
 * swaps on the true objective, each judged in one pass over the sets: for candidate f
 * coming in and chosen site r going out,
 *     profit(f, r) = gain(f) - loss(r) + extra(f, r)
 *     gain(f)      = residents of f covered once now           (brought to two)
 *     loss(r)      = residents of r covered exactly twice now  (dropped to one)
 *     extra(f, r)  = sum over residents of both of [twice] - [once]  (r's cover moves
 *                    to f: nothing changes for them)
 * where a resident's covers count the existing facilities and the chosen sites. The
 * exact answer is GLPK's branch and cut on
 *     max sum w_i u_i  s.t.  2 u_i <= sum_{c reaches i} x_c  (u_i binary; none now),
 *                            u_i <= sum_{c reaches i} x_c     (one now),  sum x_c <= k.
 */
#include "site/suggest.h"

#include <glpk.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Each resident's covers now (existing facilities and chosen sites). */
static void count_covers(const cs_cover_sets *cs, const size_t *sites, size_t n,
                         unsigned *covers)
{
    for (size_t i = 0; i < cs->points; i++)
        covers[i] = cs->existing[i];
    for (size_t s = 0; s < n; s++)
        for (size_t q = cs->first[sites[s]]; q < cs->first[sites[s] + 1]; q++)
            covers[cs->pt[q]]++;
}

double cs_backup_value(const cs_cover_sets *cs, const size_t *sites, size_t n)
{
    unsigned *covers = cs_calloc(cs->points + 1, sizeof *covers);
    if (!covers)
        return NAN;
    count_covers(cs, sites, n, covers);
    double v = 0;
    for (size_t i = 0; i < cs->points; i++)
        v += cs->weight[i] > 0 && covers[i] >= 2 ? cs->weight[i] : 0;
    cs_free(covers);
    return v;
}

/* What candidate c adds with the covers now: true (residents brought to two) or the
 * surrogate (a first cover credited by half). */
static double add_of(const cs_cover_sets *cs, size_t c, const unsigned *covers, bool surrogate)
{
    double g = 0;
    for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++) {
        unsigned n = covers[cs->pt[q]];
        g += n == 1 ? cs->weight[cs->pt[q]] : n == 0 && surrogate ? cs->weight[cs->pt[q]] / 2 : 0;
    }
    return g;
}

/* Greedy on the surrogate (the lowest index on ties), up to k sites into chosen. */
static void greedy(const cs_cover_sets *cs, size_t k, unsigned *covers, unsigned char *open,
                   size_t *chosen, size_t *count)
{
    *count = 0;
    while (*count < k) {
        double best = 0;
        size_t pick = 0;
        for (size_t c = 0; c < cs->candidates; c++) {
            double g = open[c] ? 0 : add_of(cs, c, covers, true);
            if (g > best)
                best = g, pick = c;
        }
        if (!(best > 0))
            return;
        open[pick] = 1;
        chosen[(*count)++] = pick;
        for (size_t q = cs->first[pick]; q < cs->first[pick + 1]; q++)
            covers[cs->pt[q]]++;
    }
}

typedef struct swap {
    double profit;
    size_t f, r; /* candidate in, slot out */
} swap;

/* The best swap, given each resident's covers and, for those with at most two covers
 * from chosen sites, which slots (by[2 i], by[2 i + 1]; -1 none). */
static swap best_swap(const cs_cover_sets *cs, size_t n, const unsigned *covers,
                      const long *by, const unsigned char *open, const double *loss,
                      int threads)
{
    swap best = {-INFINITY, 0, 0};
    long C = (long)cs->candidates;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) if (C > 256)
#endif
    {
        double *extra = cs_calloc(n + 1, sizeof *extra);
        swap mine = {-INFINITY, 0, 0};
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 64)
#endif
        for (long f = 0; f < C; f++) {
            if (!extra || open[f])
                continue;
            double gain = 0;
            for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
                size_t i = cs->pt[q];
                double w = cs->weight[i], delta = (covers[i] == 2) - (covers[i] == 1);
                gain += covers[i] == 1 ? w : 0;
                for (int t = 0; t < 2 && delta != 0; t++)
                    if (by[2 * i + t] >= 0)
                        extra[by[2 * i + t]] += w * delta;
            }
            for (size_t r = 0; r < n; r++) {
                swap s = {gain - loss[r] + extra[r], (size_t)f, r};
                if (s.profit > mine.profit ||
                    (s.profit == mine.profit && (s.f < mine.f || (s.f == mine.f && s.r < mine.r))))
                    mine = s;
                extra[r] = 0;
            }
        }
#ifdef _OPENMP
#pragma omp critical
#endif
        if (mine.profit > best.profit ||
            (mine.profit == best.profit && (mine.f < best.f || (mine.f == best.f && mine.r < best.r))))
            best = mine;
        cs_free(extra);
    }
    (void)threads;
    return best;
}

/* Swap while a swap brings more residents to two. */
static cs_status improve(const cs_cover_sets *cs, size_t *sites, size_t n, unsigned *covers,
                         unsigned char *open, int threads, size_t *swaps)
{
    size_t N = cs->points;
    long *by = cs_calloc(2 * N + 2, sizeof *by);
    double *loss = cs_calloc(n + 1, sizeof *loss), total = 0;
    if (!by || !loss) {
        cs_free(by), cs_free(loss);
        return CS_ERR_NOMEM;
    }
    for (size_t i = 0; i < N; i++)
        total += cs->weight[i];
    for (;;) {
        for (size_t i = 0; i < 2 * N; i++)
            by[i] = -1;
        memset(loss, 0, n * sizeof *loss);
        for (size_t s = 0; s < n; s++)
            for (size_t q = cs->first[sites[s]]; q < cs->first[sites[s] + 1]; q++) {
                size_t i = cs->pt[q];
                if (covers[i] > 2)
                    continue;
                by[2 * i + (by[2 * i] >= 0)] = (long)s;
                loss[s] += covers[i] == 2 ? cs->weight[i] : 0;
            }
        swap b = best_swap(cs, n, covers, by, open, loss, threads);
        if (!(b.profit > 1e-12 * total))
            break;
        size_t out = sites[b.r];
        for (size_t q = cs->first[out]; q < cs->first[out + 1]; q++)
            covers[cs->pt[q]]--;
        for (size_t q = cs->first[b.f]; q < cs->first[b.f + 1]; q++)
            covers[cs->pt[q]]++;
        open[out] = 0;
        open[b.f] = 1;
        sites[b.r] = b.f;
        ++*swaps;
    }
    cs_free(by), cs_free(loss);
    return CS_OK;
}

cs_status cs_backup_rank(const cs_cover_sets *cs, size_t *sites, size_t n, double *gains)
{
    unsigned *covers = cs_calloc(cs->points + 1, sizeof *covers);
    unsigned char *used = cs_calloc(n + 1, 1);
    size_t *ranked = cs_calloc(n + 1, sizeof *ranked);
    if (!covers || !used || !ranked) {
        cs_free(covers), cs_free(used), cs_free(ranked);
        return CS_ERR_NOMEM;
    }
    count_covers(cs, NULL, 0, covers);
    /* each in turn the one adding most (then the surrogate, then the lowest index) */
    for (size_t t = 0; t < n; t++) {
        size_t pick = 0;
        double best = -1, best_s = -1;
        for (size_t s = 0; s < n; s++) {
            if (used[s])
                continue;
            double g = add_of(cs, sites[s], covers, false);
            double h = add_of(cs, sites[s], covers, true);
            if (g > best || (g == best && h > best_s))
                best = g, best_s = h, pick = s;
        }
        used[pick] = 1;
        ranked[t] = sites[pick];
        gains[t] = best;
        for (size_t q = cs->first[sites[pick]]; q < cs->first[sites[pick] + 1]; q++)
            covers[cs->pt[q]]++;
    }
    memcpy(sites, ranked, n * sizeof *sites);
    cs_free(covers), cs_free(used), cs_free(ranked);
    return CS_OK;
}

cs_status cs_backup_heuristic(const cs_cover_sets *cs, size_t k, int threads, size_t *chosen,
                              double *gains, size_t *count, size_t *swaps)
{
    unsigned *covers = cs_calloc(cs->points + 1, sizeof *covers);
    unsigned char *open = cs_calloc(cs->candidates + 1, 1);
    cs_status st = covers && open ? CS_OK : CS_ERR_NOMEM;
    *swaps = 0;
    *count = 0;
    if (st == CS_OK) {
        count_covers(cs, NULL, 0, covers);
        greedy(cs, k, covers, open, chosen, count);
    }
    if (st == CS_OK && *count > 0)
        st = improve(cs, chosen, *count, covers, open, threads, swaps);
    if (st == CS_OK)
        st = cs_backup_rank(cs, chosen, *count, gains);
    cs_free(covers), cs_free(open);
    return st;
}

cs_status cs_backup_exact(const cs_cover_sets *cs, size_t k, double time_limit_s,
                          size_t *chosen, size_t *count, double *value, bool *optimal)
{
    size_t C = cs->candidates, N = cs->points, P = cs->first[C];
    long *row = cs_calloc(N + 1, sizeof *row);
    int *ia = cs_calloc(2 * P + N + C + 2, sizeof *ia), *ja = cs_calloc(2 * P + N + C + 2, sizeof *ja);
    double *ar = cs_calloc(2 * P + N + C + 2, sizeof *ar);
    if (!row || !ia || !ja || !ar) {
        cs_free(row), cs_free(ia), cs_free(ja), cs_free(ar);
        return CS_ERR_NOMEM;
    }
    glp_term_out(GLP_OFF);
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    /* columns: x_c (1..C), then u_i of each resident some candidate reaches */
    glp_add_cols(lp, (int)C);
    for (size_t c = 0; c < C; c++)
        glp_set_col_kind(lp, (int)c + 1, GLP_BV);
    int rows = 0;
    for (size_t q = 0; q < P; q++)
        if (!row[cs->pt[q]])
            row[cs->pt[q]] = ++rows;
    glp_add_cols(lp, rows);
    glp_add_rows(lp, rows + 1);
    size_t e = 0;
    for (size_t i = 0; i < N; i++) {
        if (!row[i])
            continue;
        int col = (int)C + (int)row[i];
        if (cs->existing[i] == 0)
            glp_set_col_kind(lp, col, GLP_BV);
        else
            glp_set_col_bnds(lp, col, GLP_DB, 0, 1);
        glp_set_obj_coef(lp, col, cs->weight[i]);
        glp_set_row_bnds(lp, (int)row[i], GLP_UP, 0, 0);
        ++e, ia[e] = (int)row[i], ja[e] = col, ar[e] = cs->existing[i] == 0 ? 2 : 1;
    }
    for (size_t c = 0; c < C; c++)
        for (size_t q = cs->first[c]; q < cs->first[c + 1]; q++)
            ++e, ia[e] = (int)row[cs->pt[q]], ja[e] = (int)c + 1, ar[e] = -1;
    glp_set_row_bnds(lp, rows + 1, GLP_UP, 0, (double)k);
    for (size_t c = 0; c < C; c++)
        ++e, ia[e] = rows + 1, ja[e] = (int)c + 1, ar[e] = 1;
    glp_load_matrix(lp, (int)e, ia, ja, ar);
    cs_free(row), cs_free(ia), cs_free(ja), cs_free(ar);
    cs_glpk_solve(lp, time_limit_s, C, chosen, count, value, optimal);
    return CS_OK;
}
