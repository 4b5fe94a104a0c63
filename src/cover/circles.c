/*
 * circles.c — service-circle polygons: for each kind and threshold, the union of discs
 * of the threshold's radius around the kind's facilities, clipped to the district.
 * Facilities outside every area still draw their circle, since they serve their
 * neighbours. The unions (outlines traced circle by circle, geom/discs.c) and their
 * clipping are shared among threads by (kind, threshold) pair, each thread with its
 * own GEOS handle, by the job runner below (the network service areas use it too).
 */
#include "cover/cover.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* The facilities of every kind as coordinate arrays: xs[k], ys[k], counts[k]. */
static bool gather_facilities(const cs_study *s, double **xs, double **ys, size_t *counts)
{
    for (size_t f = 0; f < s->fac.count; f++)
        counts[s->fac.kind[f]]++;
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        xs[k] = cs_calloc(counts[k] ? counts[k] : 1, sizeof **xs);
        ys[k] = cs_calloc(counts[k] ? counts[k] : 1, sizeof **ys);
        if (!xs[k] || !ys[k])
            return false;
        counts[k] = 0;
    }
    for (size_t f = 0; f < s->fac.count; f++) {
        size_t k = (size_t)s->fac.kind[f];
        xs[k][counts[k]] = s->fac.x[f];
        ys[k][counts[k]++] = s->fac.y[f];
    }
    return true;
}

static cs_geom *clipped_circles(cs_geos h, const cs_geom *district, const double *x,
                                const double *y, size_t n, double radius_m)
{
    cs_geom *discs = cs_geom_discs(h, x, y, n, radius_m);
    if (!discs)
        return NULL;
    cs_geom *clipped = cs_geom_intersection(h, discs, district);
    cs_geom_destroy(h, discs);
    return clipped;
}

typedef struct circle_jobs {
    const cs_study *s;
    double **xs, **ys;
    const size_t *counts;
    const bool *drawn;
    cs_geom **out;
} circle_jobs;

static bool circle_job(const void *data, cs_geos h, const cs_geom *district, long job)
{
    const circle_jobs *cj = data;
    size_t k = (size_t)job / CS_MAX_THRESHOLDS, j = (size_t)job % CS_MAX_THRESHOLDS;
    if (j >= cj->s->settings.kinds[k].threshold_count || (cj->drawn && !cj->drawn[k]))
        return true;
    cj->out[job] = clipped_circles(h, district, cj->xs[k], cj->ys[k], cj->counts[k],
                                   cj->s->settings.kinds[k].threshold_m[j]);
    return cj->out[job] != NULL;
}

bool cs_cover_run_jobs(const cs_areas *areas, long jobs, int threads, cs_cover_job job,
                       const void *data)
{
    int failed = 0, nomem = 0;
#ifdef _OPENMP
    int n = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel num_threads(n) reduction(| : failed, nomem)
#else
    (void)threads;
#endif
    {
        cs_geos h = cs_geos_create();
        cs_geom *district = NULL;
#ifdef _OPENMP
#pragma omp critical(cs_cover_clone)
#endif
        district = h ? cs_geom_clone(h, areas->district) : NULL;
        failed |= district == NULL;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (long i = 0; i < jobs; i++)
            if (district)
                failed |= !job(data, h, district, i);
        cs_geom_destroy(h, district);
        cs_geos_destroy(h);
        /* each thread's out-of-memory note, gathered for the caller's error */
        nomem |= cs_take_nomem();
    }
    if (nomem)
        cs_note_nomem();
    return !failed;
}

cs_status cs_cover_circles(cs_context *ctx, const cs_study *s, const bool *drawn, cs_geom **out)
{
    size_t K = s->settings.kind_count;
    for (size_t i = 0; i < K * CS_MAX_THRESHOLDS; i++)
        out[i] = NULL;
    double **xs = cs_calloc(K + 1, sizeof *xs), **ys = cs_calloc(K + 1, sizeof *ys);
    size_t *counts = cs_calloc(K + 1, sizeof *counts);
    cs_status st = CS_OK;
    if (!xs || !ys || !counts || !gather_facilities(s, xs, ys, counts))
        st = cs_nomem(ctx);
    else if (!cs_cover_run_jobs(&s->areas, (long)(K * CS_MAX_THRESHOLDS), ctx->threads, circle_job,
                                &(circle_jobs){s, xs, ys, counts, drawn, out}))
        st = cs_take_nomem() ? cs_error(ctx, CS_ERR_NOMEM, NULL, CS_NOMEM_HINT,
                                        "out of memory while building the service circles")
                             : cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL,
                                        "building the service-circle polygons failed in GEOS");
    for (size_t k = 0; xs && ys && k < K; k++) {
        cs_free(xs[k]);
        cs_free(ys[k]);
    }
    cs_free(xs);
    cs_free(ys);
    cs_free(counts);
    if (st != CS_OK)
        for (size_t i = 0; i < K * CS_MAX_THRESHOLDS; i++) {
            cs_geom_destroy(s->geos, out[i]);
            out[i] = NULL;
        }
    return st;
}
