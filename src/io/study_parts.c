/*
 * study_parts.c — the parts of a loaded study (areas, facilities, demand, walking
 * network, settings): making room for them, selecting facilities, freeing each.
 */
#include "io/load.h"
#include "io/seams.h"
#include "io/study.h"

#include <math.h>
#include <string.h>

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        cs_free(list[i]);
    cs_free(list);
}

void cs_areas_free(cs_areas *a, cs_geos h)
{
    for (size_t i = 0; a->geom && i < a->count; i++)
        cs_geom_destroy(h, a->geom[i]);
    cs_free(a->geom);
    cs_seams_free(a, h);
    cs_geom_destroy(h, a->district);
    cs_area_index_destroy(a->index);
    cs_rings_free(&a->rings);
    free_list(a->id, a->count);
    free_list(a->name, a->count);
    cs_free(a->m2);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------- facilities */

/* Every array of a facility set, for allocating and freeing them alike. */
#define FACILITY_ARRAYS(X)                                                   \
    X(id, 1) X(name, 1) X(kind, 1) X(x, 1) X(y, 1) X(lon, 1) X(lat, 1)        \
    X(area, 1) X(opened, 1) X(closed, 1) X(capacity, f->capacity_count)

bool cs_facilities_create(cs_facilities *f, size_t n, size_t capacity_count)
{
    memset(f, 0, sizeof *f);
    f->count = n;
    f->capacity_count = capacity_count;
    bool ok = true;
#define ALLOC(field, per)                                                    \
    f->field = cs_calloc(n * (per) + 1, sizeof *f->field);                   \
    ok = ok && f->field;
    FACILITY_ARRAYS(ALLOC)
#undef ALLOC
    for (size_t i = 0; ok && i < n; i++) {
        f->opened[i] = NAN;
        f->closed[i] = NAN;
    }
    if (!ok)
        cs_facilities_free(f);
    return ok;
}

bool cs_facilities_select(const cs_facilities *src, const size_t *rows, size_t n,
                          cs_facilities *out)
{
    size_t C = src->capacity_count;
    if (!cs_facilities_create(out, n, C))
        return false;
    out->borrowed_strings = true;
    for (size_t q = 0; q < n; q++) {
        size_t i = rows[q];
        out->id[q] = src->id[i];
        out->name[q] = src->name[i];
        out->kind[q] = src->kind[i];
        out->x[q] = src->x[i];
        out->y[q] = src->y[i];
        out->lon[q] = src->lon[i];
        out->lat[q] = src->lat[i];
        out->area[q] = src->area[i];
        out->opened[q] = src->opened[i];
        out->closed[q] = src->closed[i];
        memcpy(&out->capacity[q * C], &src->capacity[i * C], C * sizeof(double));
    }
    return true;
}

/* Open in year y when opened <= y < closed (a year not given does not limit). */
static bool open_in(const cs_facilities *f, size_t i, int year)
{
    return !(f->opened[i] > year) && !(f->closed[i] <= year);
}

bool cs_facilities_in_year(const cs_facilities *all, int year, cs_facilities *out,
                           size_t **rows)
{
    size_t *keep = cs_calloc(all->count + 1, sizeof *keep), n = 0;
    if (!keep)
        return false;
    for (size_t i = 0; i < all->count; i++)
        if (open_in(all, i, year))
            keep[n++] = i;
    bool ok = cs_facilities_select(all, keep, n, out);
    if (ok && rows)
        *rows = keep;
    else
        cs_free(keep);
    return ok;
}

void cs_facilities_free(cs_facilities *f)
{
    if (!f->borrowed_strings) {
        free_list(f->id, f->count);
        free_list(f->name, f->count);
        f->id = f->name = NULL;
    }
#define FREE(field, per) cs_free(f->field);
    FACILITY_ARRAYS(FREE)
#undef FREE
    memset(f, 0, sizeof *f);
}

/* ----------------------------------------------------------------- demand */

bool cs_demand_create(cs_demand *d, size_t n, size_t nb, bool with_ids)
{
    memset(d, 0, sizeof *d);
    d->count = n;
    d->year = NAN;
    d->x = cs_calloc(n + 1, sizeof *d->x);
    d->y = cs_calloc(n + 1, sizeof *d->y);
    d->pop = cs_calloc((n + 1) * nb, sizeof *d->pop);
    d->area = cs_calloc(n + 1, sizeof *d->area);
    d->id = with_ids ? cs_calloc(n + 1, sizeof *d->id) : NULL;
    d->id_count = with_ids ? n : 0;
    bool ok = d->x && d->y && d->pop && d->area && (!with_ids || d->id);
    if (!ok)
        cs_demand_free(d);
    return ok;
}

void cs_demand_free(cs_demand *d)
{
    cs_free(d->x);
    cs_free(d->y);
    cs_free(d->pop);
    cs_free(d->area);
    cs_free(d->own);
    if (d->borrowed_ids)
        cs_free(d->id);
    else
        free_list(d->id, d->id_count);
    cs_demand_rows_free(&d->other);
    cs_demand_stream_free(d->stream);
    memset(d, 0, sizeof *d);
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

/* ------------------------------------------------------ network, settings */

void cs_walk_network_free(cs_walk_network *n)
{
    cs_lines_free(&n->lines);
    cs_free(n->known.box);
    cs_free(n->known.vertices);
    cs_net_features_free(&n->known.features);
    cs_network_copy_remove(&n->known.copy);
    cs_free(n->display);
    memset(n, 0, sizeof *n);
}

void cs_settings_free(cs_settings *s)
{
    for (size_t k = 0; s->kinds && k < s->kind_count; k++) {
        cs_free(s->kinds[k].id);
        cs_free(s->kinds[k].name);
        cs_free(s->kinds[k].name_en);
        cs_free(s->kinds[k].unit);
    }
    cs_free(s->kinds);
    for (size_t c = 0; s->capacities && c < s->capacity_count; c++) {
        cs_free(s->capacities[c].id);
        cs_free(s->capacities[c].name);
        cs_free(s->capacities[c].unit);
    }
    cs_free(s->capacities);
    free_list(s->band_names, s->band_count);
    for (size_t t = 0; s->targets && t < s->target_count; t++) {
        cs_free(s->targets[t].id);
        cs_free(s->targets[t].name);
        cs_free(s->targets[t].name_en);
    }
    cs_free(s->targets);
    cs_free(s->name);
    cs_free(s->crs);
    cs_free(s->shard_cut);
    memset(s, 0, sizeof *s);
}
