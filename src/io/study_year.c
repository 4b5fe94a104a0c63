/*
 * study_year.c — a study as it stood in one year: the same areas, residents, network
 * and settings (borrowed, not copied), with only the facilities open that year
 * (facilities.opened <= year < facilities.closed; a facility without years is always
 * open) and, when the population is given per year (population.year), the residents
 * of the latest population year not after it. Runs of such views give the
 * year-by-year figures of the annual report.
 */
#include "io/study.h"

#include <math.h>
#include <string.h>

/* The matrix rows of the kept facilities, then every candidate row, over the parent's
 * pairs (borrowed). */
static bool matrix_view(const cs_study *s, const size_t *keep, size_t n, cs_study *v)
{
    const cs_cost_matrix *m = &s->costs;
    cs_cost_matrix *o = &v->costs;
    memset(o, 0, sizeof *o);
    size_t F = s->fac.count, rows = n + (m->rows - F);
    o->rows = rows;
    o->in_m = m->in_m;
    o->pt = m->pt;
    o->cost = m->cost;
    o->start = cs_calloc(rows + 1, sizeof *o->start);
    o->end = cs_calloc(rows + 1, sizeof *o->end);
    o->id = cs_calloc(rows + 1, sizeof *o->id);
    if (!o->start || !o->end || !o->id)
        return false;
    for (size_t r = 0; r < rows; r++) {
        size_t from = r < n ? keep[r] : F + (r - n);
        o->start[r] = m->start[from];
        o->end[r] = m->end[from];
        o->pairs += m->end[from] - m->start[from];
        o->id[r] = from < F ? v->fac.id[r] : m->id[from]; /* borrowed */
        if (cs_idmap_put(&o->ids, o->id[r], (long)r) == -2)
            return false;
    }
    return true;
}

/* The population year a view of `year` uses: the latest not after it, else the first. */
static double population_year(const cs_demand *d, int year)
{
    const cs_demand_rows *o = &d->other;
    double best = d->year <= year ? d->year : -INFINITY, first = d->year;
    for (size_t i = 0; i < o->count; i++) {
        if (o->year[i] <= year && o->year[i] > best)
            best = o->year[i];
        first = fmin(first, o->year[i]);
    }
    return isinf(best) ? first : best;
}

/* The demand of population year py, when it is not the study's own. */
static bool demand_view(const cs_study *s, double py, cs_study *v)
{
    const cs_demand_rows *o = &s->dem.other;
    size_t n = 0, nb = s->settings.band_count;
    for (size_t i = 0; i < o->count; i++)
        n += o->year[i] == py;
    cs_demand *d = &v->dem;
    if (!cs_demand_create(d, n, nb, s->dem.id != NULL))
        return false;
    v->owns_demand = true;
    /* the other years' ids follow the latest year's in the study's (borrowed) */
    d->borrowed_ids = true;
    size_t m = 0;
    for (size_t i = 0; i < o->count; i++) {
        if (o->year[i] != py)
            continue;
        d->x[m] = o->x[i];
        d->y[m] = o->y[i];
        d->area[m] = o->area[i];
        if (d->id)
            d->id[m] = s->dem.id[s->dem.count + i];
        memcpy(&d->pop[m * nb], &o->pop[i * nb], nb * sizeof(double));
        m++;
    }
    d->year = py;
    d->source = s->dem.source;
    d->estimated = s->dem.estimated;
    d->dropped_pop = s->dem.dropped_pop;
    d->dropped_points = s->dem.dropped_points;
    return true;
}

cs_status cs_study_in_year(cs_context *ctx, const cs_study *s, int year, cs_study **out)
{
    if (!ctx || !s || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_study *v = cs_calloc(1, sizeof *v);
    if (!v)
        return cs_nomem(ctx);
    *v = *s;
    v->view_of = s;
    v->owns_demand = false;
    memset(&v->costs, 0, sizeof v->costs);
    memset(&v->dem.other, 0, sizeof v->dem.other);
    size_t *keep = NULL;
    bool ok = cs_facilities_in_year(&s->fac, year, &v->fac, &keep);
    if (!ok)
        memset(&v->fac, 0, sizeof v->fac);
    if (ok && s->has_costs)
        ok = matrix_view(s, keep, v->fac.count, v);
    double py = isnan(s->dem.year) ? NAN : population_year(&s->dem, year);
    if (ok && !isnan(py) && py != s->dem.year)
        ok = demand_view(s, py, v);
    cs_free(keep);
    if (!ok) {
        cs_study_destroy(v);
        return cs_nomem(ctx);
    }
    *out = v;
    return CS_OK;
}

/* A view owns its facility arrays and matrix arrays only (and its demand when its
 * population year differs). */
void cs_study_view_free(cs_study *v)
{
    cs_facilities_free(&v->fac);
    cs_free(v->costs.id);
    cs_idmap_free(&v->costs.ids);
    cs_free(v->costs.start);
    cs_free(v->costs.end);
    if (v->owns_demand)
        cs_demand_free(&v->dem);
    cs_free(v);
}
int cs_study_years(const cs_study *s, int *first, int *last)
{
    double lo = s && !isnan(s->dem.year) ? s->dem.year : INFINITY;
    double hi = s && !isnan(s->dem.year) ? s->dem.year : -INFINITY;
    for (size_t i = 0; s && i < s->dem.other.count; i++) {
        lo = fmin(lo, s->dem.other.year[i]);
        hi = fmax(hi, s->dem.other.year[i]);
    }
    for (size_t f = 0; s && f < s->fac.count; f++) {
        if (!isnan(s->fac.opened[f])) {
            lo = fmin(lo, s->fac.opened[f]);
            hi = fmax(hi, s->fac.opened[f]);
        }
        if (!isnan(s->fac.closed[f])) {
            lo = fmin(lo, s->fac.closed[f]);
            hi = fmax(hi, s->fac.closed[f]);
        }
    }
    if (!(lo <= hi))
        return 0;
    *first = (int)lo;
    *last = (int)hi;
    return 1;
}
