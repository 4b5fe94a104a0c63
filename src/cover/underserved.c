/*
 * underserved.c — where the uncovered residents are: for every kind, the residents of
 * the patch band beyond the kind's largest threshold (its main measure) are gathered on
 * the study's grid into patches (cover/patches.c), each with the straight-line
 * distance from its nearest resident to the nearest facility of the kind.
 */
#include "cost/nearest.h"
#include "cover/patch.h"
#include "cover/cover.h"

#include <math.h>

/* The uncovered residents of kind k: positions, counts, areas. */
typedef struct uncovered {
    size_t n;
    double *x, *y, *w, *near_m;
    long *area;
} uncovered;

static void uncovered_free(uncovered *u)
{
    cs_free(u->x);
    cs_free(u->y);
    cs_free(u->w);
    cs_free(u->near_m);
    cs_free(u->area);
}

static cs_status gather(const cs_result *r, size_t k, uncovered *u)
{
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    size_t N = s->dem.count, band = (size_t)s->settings.patch_band;
    const double *dist = r->dist_m[cs_res_field(r, cs_res_main(r, k), k)];
    double reach = cs_kind_reach_m(kind);
    u->x = cs_calloc(N + 1, sizeof *u->x);
    u->y = cs_calloc(N + 1, sizeof *u->y);
    u->w = cs_calloc(N + 1, sizeof *u->w);
    u->near_m = cs_calloc(N + 1, sizeof *u->near_m);
    u->area = cs_calloc(N + 1, sizeof *u->area);
    if (!u->x || !u->y || !u->w || !u->near_m || !u->area)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < N; i++) {
        double w = s->dem.pop[i * r->B + band];
        if (!(w > 0) || dist[i] <= reach)
            continue;
        u->x[u->n] = s->dem.x[i];
        u->y[u->n] = s->dem.y[i];
        u->w[u->n] = w;
        u->area[u->n++] = s->dem.area[i];
    }
    return CS_OK;
}

/* Straight-line distance of each uncovered resident to the kind's nearest facility. */
static cs_status nearest_facility(const cs_result *r, size_t k, int threads, uncovered *u)
{
    const cs_study *s = r->study;
    size_t F = s->fac.count, n = 0;
    double *fx = cs_calloc(F + 1, sizeof *fx), *fy = cs_calloc(F + 1, sizeof *fy);
    cs_point_index *ix = NULL;
    cs_status st = fx && fy ? CS_OK : CS_ERR_NOMEM;
    for (size_t f = 0; st == CS_OK && f < F; f++)
        if (s->fac.kind[f] == (long)k) {
            fx[n] = s->fac.x[f];
            fy[n++] = s->fac.y[f];
        }
    if (st == CS_OK)
        st = cs_point_index_create(fx, fy, n, &ix);
    if (st == CS_OK)
        cs_point_index_nearest_all(ix, u->x, u->y, u->n, threads, u->near_m, NULL);
    cs_point_index_destroy(ix);
    cs_free(fx);
    cs_free(fy);
    return st;
}

cs_grid cs_study_patch_grid(const cs_study *s)
{
    cs_grid g = {s->settings.patch_hex ? CS_GRID_HEX : CS_GRID_SQUARE, s->settings.patch_cell_m,
                 INFINITY, INFINITY};
    for (size_t v = 0; v < s->areas.rings.vertex_count; v++) {
        g.x0 = fmin(g.x0, s->areas.rings.x[v]);
        g.y0 = fmin(g.y0, s->areas.rings.y[v]);
    }
    return g;
}

cs_status cs_cover_patches(cs_context *ctx, cs_result *r)
{
    const cs_study *s = r->study;
    r->patches = cs_calloc(r->K + 1, sizeof *r->patches);
    if (!r->patches)
        return cs_nomem(ctx);
    cs_grid grid = cs_study_patch_grid(s);
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        uncovered u = {0};
        st = gather(r, k, &u);
        if (st == CS_OK)
            st = nearest_facility(r, k, ctx->threads, &u);
        if (st == CS_OK)
            st = cs_patches_build(s->geos, &grid, u.x, u.y, u.w, u.area, u.near_m, u.n,
                                  s->areas.geom, &r->patches[k]);
        uncovered_free(&u);
        cs_progress(ctx, "patches", (double)(k + 1) / (double)r->K);
    }
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the study",
                        "GEOS failed while drawing the under-served patches");
    return CS_OK;
}

void cs_cover_patches_free(cs_result *r)
{
    for (size_t k = 0; r->patches && k < r->K; k++)
        cs_patch_set_free(r->study->geos, &r->patches[k]);
    cs_free(r->patches);
    r->patches = NULL;
}
