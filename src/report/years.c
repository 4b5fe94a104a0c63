/*
 * years.c — the runs a report needs: the study in every year from `since` to `year`
 * when its facilities or population carry years, else the study as given once. Only
 * each year's district outcomes are kept, and the last two runs whole; a year whose
 * open facilities and population are those of the year before reuses its run.
 */
#include "report/report.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* Whether two views hold the same facilities (in the parent's order) and population. */
static bool same_year(const cs_study *a, const cs_study *b)
{
    if (!a || !b || a->fac.count != b->fac.count ||
        !(a->dem.year == b->dem.year || (isnan(a->dem.year) && isnan(b->dem.year))))
        return false;
    for (size_t f = 0; f < a->fac.count; f++)
        if (a->fac.id[f] != b->fac.id[f]) /* borrowed from the parent: same pointer */
            return false;
    return true;
}

static void held_free(cs_report_held *h)
{
    cs_result_destroy(h->r);
    cs_study_destroy(h->view);
    memset(h, 0, sizeof *h);
}

/* The years to report: --year, else the last year in the data but not after this one
 * (a planned opening is not yet a fact); --since, else four years before. */
static cs_status choose_years(cs_reporter *rp, int *since, int *year)
{
    int first, last;
    bool years = cs_study_years(rp->s, &first, &last);
    *year = rp->opt->year;
    *since = rp->opt->since;
    if (*year == 0 && years) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        *year = last < tm.tm_year + 1900 ? last : tm.tm_year + 1900;
    }
    if (*year == 0 && *since != 0)
        cs_warn(rp->ctx, NULL, "give --year, or opened/closed years to the facilities",
                "--since is left out: the study has no years");
    if (*year != 0 && *since == 0)
        *since = *year - 4;
    if (*year != 0 && (*since > *year || *year - *since > 50))
        return cs_error(rp->ctx, CS_ERR_ARGUMENT, NULL,
                        "give --since no later than --year, "
                        "and at most 50 years before it",
                        "cannot report the years %d to %d", *since, *year);
    return CS_OK;
}

/* The run of one year: the view's, or the last one's when nothing changed. */
static cs_status run_year(cs_reporter *rp, int year, cs_report_held *out)
{
    memset(out, 0, sizeof *out);
    cs_status st = year ? cs_study_in_year(rp->ctx, rp->s, year, &out->view) : CS_OK;
    const cs_report_held *last = &rp->held[1];
    if (st == CS_OK && last->r && same_year(out->view, last->view)) {
        cs_study_destroy(out->view);
        *out = *last; /* shared */
        return CS_OK;
    }
    if (st == CS_OK)
        st = cs_run(rp->ctx, out->view ? out->view : rp->s, &out->r);
    if (st != CS_OK)
        held_free(out);
    return st;
}

static cs_status keep_outcomes(cs_reporter *rp, cs_report_run *run, const cs_result *r)
{
    size_t T = rp->s->settings.target_count;
    run->pop_year = r->study->dem.year;
    run->district = cs_calloc(T + 1, sizeof *run->district);
    if (!run->district)
        return cs_nomem(rp->ctx);
    for (size_t t = 0; t < T; t++) {
        run->district[t] = r->outcomes[cs_res_target(r, t, r->A)];
        run->district[t].gap_text = NULL;
    }
    return CS_OK;
}

cs_status cs_report_runs(cs_reporter *rp)
{
    int since, year;
    cs_status st = choose_years(rp, &since, &year);
    if (st != CS_OK)
        return st;
    rp->run_count = year ? (size_t)(year - since + 1) : 1;
    rp->runs = cs_calloc(rp->run_count, sizeof *rp->runs);
    if (!rp->runs)
        return cs_nomem(rp->ctx);
    for (size_t i = 0; st == CS_OK && i < rp->run_count; i++) {
        rp->runs[i].year = year ? since + (int)i : 0;
        cs_report_held next;
        st = run_year(rp, rp->runs[i].year, &next);
        if (st == CS_OK)
            st = keep_outcomes(rp, &rp->runs[i], next.r);
        if (st != CS_OK && next.r != rp->held[1].r)
            held_free(&next);
        if (st != CS_OK)
            break;
        /* the year before the last leaves unless the last (or the new one) shares it */
        if (rp->held[0].r != rp->held[1].r && rp->held[0].r != next.r)
            held_free(&rp->held[0]);
        rp->held[0] = rp->held[1];
        rp->held[1] = next;
    }
    if (st != CS_OK)
        return st;
    rp->now = rp->held[1].r;
    rp->prev = rp->run_count > 1 ? rp->held[0].r : NULL;
    return CS_OK;
}

void cs_report_runs_free(cs_reporter *rp)
{
    for (size_t i = 0; rp->runs && i < rp->run_count; i++)
        cs_free(rp->runs[i].district);
    cs_free(rp->runs);
    rp->runs = NULL;
    if (rp->held[0].r != rp->held[1].r)
        held_free(&rp->held[0]);
    held_free(&rp->held[1]);
}

double cs_report_share(const cs_reporter *rp, const cs_result *r, size_t k, size_t a)
{
    const cs_kind *kind = &r->study->settings.kinds[k];
    if (kind->threshold_count == 0)
        return NAN;
    bool head = k == rp->head_kind;
    size_t b = rp->head_band, j = head ? rp->head_threshold : kind->threshold_count - 1;
    size_t m = head ? rp->head_measure : cs_res_main(r, k);
    double total = r->population[cs_res_pop(r, a, b)];
    double covered = r->covered[cs_res_cov(r, m, k, j, a, b)];
    return total > 0 ? covered / total : NAN;
}
