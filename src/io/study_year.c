/*
 * study_year.c — a study as it stood in one year: the same areas, residents, network
 * and settings (borrowed, not copied), with only the facilities open that year
 * (facilities.opened <= year < facilities.closed; a facility without years is always
 * open). Runs of such views give the year-by-year figures of the annual report.
 */
#include "io/study.h"

#include <math.h>
#include <string.h>

static bool open_in(const cs_study *s, size_t f, int year)
{
    return !(s->fac_opened[f] > year) && !(s->fac_closed[f] <= year);
}

/* The matrix rows of the kept facilities (then every candidate row), pairs copied. */
static bool matrix_view(const cs_study *s, const size_t *keep, size_t n, cs_study *v)
{
    const cs_cost_matrix *m = &s->costs;
    cs_cost_matrix *o = &v->costs;
    memset(o, 0, sizeof *o);
    size_t F = s->facility_count, rows = n + (m->rows - F), pairs = 0;
    o->rows = rows;
    o->in_m = m->in_m;
    o->first = cs_calloc(rows + 1, sizeof *o->first);
    o->id = cs_calloc(rows + 1, sizeof *o->id);
    if (!o->first || !o->id)
        return false;
    for (size_t r = 0; r < rows; r++) {
        size_t from = r < n ? keep[r] : F + (r - n);
        pairs += m->first[from + 1] - m->first[from];
        o->first[r + 1] = pairs;
        o->id[r] = from < F ? v->fac_id[r] : m->id[from]; /* borrowed */
        if (cs_idmap_put(&o->ids, o->id[r], (long)r) == -2)
            return false;
    }
    o->pt = cs_calloc(pairs + 1, sizeof *o->pt);
    o->cost = cs_calloc(pairs + 1, sizeof *o->cost);
    if (!o->pt || !o->cost)
        return false;
    for (size_t r = 0; r < rows; r++) {
        size_t from = r < n ? keep[r] : F + (r - n), len = m->first[from + 1] - m->first[from];
        memcpy(&o->pt[o->first[r]], &m->pt[m->first[from]], len * sizeof *o->pt);
        memcpy(&o->cost[o->first[r]], &m->cost[m->first[from]], len * sizeof *o->cost);
    }
    o->pairs = pairs;
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
    if (ok && s->has_costs)
        ok = matrix_view(s, keep, n, v);
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
    cs_free(v->costs.first);
    cs_free(v->costs.pt);
    cs_free(v->costs.cost);
    cs_free(v);
}

int cs_study_years(const cs_study *s, int *first, int *last)
{
    double lo = INFINITY, hi = -INFINITY;
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
