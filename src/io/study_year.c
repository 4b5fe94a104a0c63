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

static bool open_in(const cs_study *s, size_t f, int year)
{
    return !(s->fac_opened[f] > year) && !(s->fac_closed[f] <= year);
}

/* The matrix rows of the kept facilities, then every candidate row, over the parent's
 * pairs (borrowed). */
static bool matrix_view(const cs_study *s, const size_t *keep, size_t n, cs_study *v)
{
    const cs_cost_matrix *m = &s->costs;
    cs_cost_matrix *o = &v->costs;
    memset(o, 0, sizeof *o);
    size_t F = s->facility_count, rows = n + (m->rows - F);
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
        o->id[r] = from < F ? v->fac_id[r] : m->id[from]; /* borrowed */
        if (cs_idmap_put(&o->ids, o->id[r], (long)r) == -2)
            return false;
    }
    return true;
}

void cs_demand_rows_free(cs_demand_rows *r)
{
    cs_free(r->x);
    cs_free(r->y);
    cs_free(r->pop);
    cs_free(r->area);
    cs_free(r->year);
    memset(r, 0, sizeof *r);
}

/* The population year a view of `year` uses: the latest not after it, else the first. */
static double population_year(const cs_study *s, int year)
{
    const cs_demand_rows *o = &s->pop_other;
    double best = s->pop_year <= year ? s->pop_year : -INFINITY, first = s->pop_year;
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
    const cs_demand_rows *o = &s->pop_other;
    size_t n = 0, nb = s->band_count;
    for (size_t i = 0; i < o->count; i++)
        n += o->year[i] == py;
    v->dem_x = cs_calloc(n + 1, sizeof *v->dem_x);
    v->dem_y = cs_calloc(n + 1, sizeof *v->dem_y);
    v->dem_pop = cs_calloc((n + 1) * nb, sizeof *v->dem_pop);
    v->dem_area = cs_calloc(n + 1, sizeof *v->dem_area);
    /* the other years' ids follow the latest year's in the study's (borrowed) */
    v->dem_id = s->dem_id ? cs_calloc(n + 1, sizeof *v->dem_id) : NULL;
    v->dem_id_count = s->dem_id ? n : 0;
    v->owns_demand = true;
    if (!v->dem_x || !v->dem_y || !v->dem_pop || !v->dem_area || (s->dem_id && !v->dem_id))
        return false;
    size_t m = 0;
    for (size_t i = 0; i < o->count; i++) {
        if (o->year[i] != py)
            continue;
        v->dem_x[m] = o->x[i];
        v->dem_y[m] = o->y[i];
        v->dem_area[m] = o->area[i];
        if (v->dem_id)
            v->dem_id[m] = s->dem_id[s->demand_count + i];
        memcpy(&v->dem_pop[m * nb], &o->pop[i * nb], nb * sizeof(double));
        m++;
    }
    v->demand_count = n;
    v->pop_year = py;
    return true;
}

#define TAKE(field, count)                                                   \
    do {                                                                     \
        v->field = cs_calloc((count) + 1, sizeof *v->field);                 \
        if (!v->field)                                                       \
            ok = false;                                                      \
    } while (0)

cs_status cs_study_in_year(cs_context *ctx, const cs_study *s, int year, cs_study **out)
{
    if (!ctx || !s || !out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    cs_study *v = cs_calloc(1, sizeof *v);
    size_t F = s->facility_count, C = s->capacity_count, n = 0;
    size_t *keep = cs_calloc(F + 1, sizeof *keep);
    if (!v || !keep) {
        cs_free(v);
        cs_free(keep);
        return cs_nomem(ctx);
    }
    *v = *s;
    v->view_of = s;
    for (size_t f = 0; f < F; f++)
        if (open_in(s, f, year))
            keep[n++] = f;
    bool ok = true;
    TAKE(fac_id, n);
    TAKE(fac_name, n);
    TAKE(fac_kind, n);
    TAKE(fac_x, n);
    TAKE(fac_y, n);
    TAKE(fac_lon, n);
    TAKE(fac_lat, n);
    TAKE(fac_area, n);
    TAKE(fac_opened, n);
    TAKE(fac_closed, n);
    TAKE(fac_capacity, n * C);
    for (size_t q = 0; ok && q < n; q++) {
        size_t f = keep[q];
        v->fac_id[q] = s->fac_id[f]; /* borrowed */
        v->fac_name[q] = s->fac_name[f];
        v->fac_kind[q] = s->fac_kind[f];
        v->fac_x[q] = s->fac_x[f];
        v->fac_y[q] = s->fac_y[f];
        v->fac_lon[q] = s->fac_lon[f];
        v->fac_lat[q] = s->fac_lat[f];
        v->fac_area[q] = s->fac_area[f];
        v->fac_opened[q] = s->fac_opened[f];
        v->fac_closed[q] = s->fac_closed[f];
        memcpy(&v->fac_capacity[q * C], &s->fac_capacity[f * C], C * sizeof(double));
    }
    v->facility_count = n;
    memset(&v->costs, 0, sizeof v->costs);
    memset(&v->pop_other, 0, sizeof v->pop_other);
    v->owns_demand = false;
    if (ok && s->has_costs)
        ok = matrix_view(s, keep, n, v);
    double py = isnan(s->pop_year) ? NAN : population_year(s, year);
    if (ok && !isnan(py) && py != s->pop_year)
        ok = demand_view(s, py, v);
    cs_free(keep);
    if (!ok) {
        cs_study_destroy(v);
        return cs_nomem(ctx);
    }
    *out = v;
    return CS_OK;
}

/* A view owns its facility arrays and matrix arrays only. */
void cs_study_view_free(cs_study *v)
{
    cs_free(v->fac_id);
    cs_free(v->fac_name);
    cs_free(v->fac_kind);
    cs_free(v->fac_x);
    cs_free(v->fac_y);
    cs_free(v->fac_lon);
    cs_free(v->fac_lat);
    cs_free(v->fac_area);
    cs_free(v->fac_opened);
    cs_free(v->fac_closed);
    cs_free(v->fac_capacity);
    cs_free(v->costs.id);
    cs_idmap_free(&v->costs.ids);
    cs_free(v->costs.start);
    cs_free(v->costs.end);
    if (v->owns_demand) {
        cs_free(v->dem_x);
        cs_free(v->dem_y);
        cs_free(v->dem_pop);
        cs_free(v->dem_area);
        cs_free(v->dem_id); /* the array only: its ids are the study's */
    }
    cs_free(v);
}

int cs_study_years(const cs_study *s, int *first, int *last)
{
    double lo = s && !isnan(s->pop_year) ? s->pop_year : INFINITY;
    double hi = s && !isnan(s->pop_year) ? s->pop_year : -INFINITY;
    for (size_t i = 0; s && i < s->pop_other.count; i++) {
        lo = fmin(lo, s->pop_other.year[i]);
        hi = fmax(hi, s->pop_other.year[i]);
    }
    for (size_t f = 0; s && f < s->facility_count; f++) {
        if (!isnan(s->fac_opened[f])) {
            lo = fmin(lo, s->fac_opened[f]);
            hi = fmax(hi, s->fac_opened[f]);
        }
        if (!isnan(s->fac_closed[f])) {
            lo = fmin(lo, s->fac_closed[f]);
            hi = fmax(hi, s->fac_closed[f]);
        }
    }
    if (!(lo <= hi))
        return 0;
    *first = (int)lo;
    *last = (int)hi;
    return 1;
}
