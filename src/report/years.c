/*
 * years.c — the runs a report needs: the study in every year from `since` to `year`
 * when its facilities carry opened/closed years, else the study as given once.
 */
#include "report/report.h"

#include <math.h>

cs_status cs_report_runs(cs_reporter *rp)
{
    int first, last, year = rp->opt->year, since = rp->opt->since;
    bool years = cs_study_years(rp->s, &first, &last);
    if (year == 0 && years)
        year = last;
    if (year != 0 && since == 0)
        since = year - 4;
    if (year != 0 && (since > year || year - since > 50))
        return cs_error(rp->ctx, CS_ERR_ARGUMENT, NULL, "give --since no later than --year, "
                        "and at most 50 years before it", "cannot report the years %d to %d",
                        since, year);
    rp->run_count = year ? (size_t)(year - since + 1) : 1;
    rp->runs = cs_calloc(rp->run_count, sizeof *rp->runs);
    if (!rp->runs)
        return cs_nomem(rp->ctx);
    cs_status st = CS_OK;
    for (size_t i = 0; st == CS_OK && i < rp->run_count; i++) {
        cs_report_run *run = &rp->runs[i];
        run->year = year ? since + (int)i : 0;
        if (year)
            st = cs_study_in_year(rp->ctx, rp->s, run->year, &run->view);
        if (st == CS_OK)
            st = cs_run(rp->ctx, run->view ? run->view : rp->s, &run->r);
    }
    if (st != CS_OK)
        return st;
    rp->now = rp->runs[rp->run_count - 1].r;
    rp->prev = rp->run_count > 1 ? rp->runs[rp->run_count - 2].r : NULL;
    return CS_OK;
}

void cs_report_runs_free(cs_reporter *rp)
{
    for (size_t i = 0; rp->runs && i < rp->run_count; i++) {
        cs_result_destroy(rp->runs[i].r);
        cs_study_destroy(rp->runs[i].view);
    }
    cs_free(rp->runs);
    rp->runs = NULL;
}

double cs_report_share(const cs_reporter *rp, const cs_result *r, size_t k, size_t a)
{
    const cs_kind *kind = &r->study->kinds[k];
    if (kind->threshold_count == 0)
        return NAN;
    size_t b = rp->head_band, j = kind->threshold_count - 1;
    double total = r->population[cs_res_pop(r, a, b)];
    double covered = r->covered[cs_res_cov(r, cs_res_main(r, k), k, j, a, b)];
    return total > 0 ? covered / total : NAN;
}
