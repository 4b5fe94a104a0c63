/*
 * spread.c — demand points from population given over surfaces: residential blocks,
 * grid cells and street totals (see spread.h for the rules).
 *
 * Every surface is cut into pieces — by the areas it overlaps and, for polygons and
 * area totals, by a square grid of population.spread_m anchored at the areas' lower-left
 * corner — and its counts go to the pieces' centroids in proportion to their areas. The
 * pieces of one surface therefore add up to its counts (to rounding), which is what
 * "spread by area, not piled on the centroid" asks, and each piece knows its area
 * without a point-in-polygon test.
 *
 * Grid cells are the bulk (a city's 100 m grid has hundreds of thousands); a cell that
 * the area index can place wholly inside one area becomes one point without GEOS.
 */
#include "io/spread.h"

#include "io/seams.h"

#include <assert.h>
#include <math.h>
#include <string.h>

void cs_demand_buf_free(cs_demand_buf *d)
{
    cs_free(d->x);
    cs_free(d->y);
    cs_free(d->pop);
    cs_free(d->area);
    memset(d, 0, sizeof *d);
}

static bool demand_add(cs_demand_buf *d, double x, double y, long area, const double *values,
                       double share)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        double *nx = cs_reallocarray(d->x, cap, sizeof *nx);
        if (nx)
            d->x = nx;
        double *ny = nx ? cs_reallocarray(d->y, cap, sizeof *ny) : NULL;
        if (ny)
            d->y = ny;
        double *np = ny ? cs_reallocarray(d->pop, cap, d->nb * sizeof *np) : NULL;
        if (np)
            d->pop = np;
        long *na = np ? cs_reallocarray(d->area, cap, sizeof *na) : NULL;
        if (!na)
            return false;
        d->area = na;
        d->cap = cap;
    }
    size_t i = d->count++;
    d->x[i] = x;
    d->y[i] = y;
    d->area[i] = area;
    for (size_t b = 0; b < d->nb; b++)
        d->pop[i * d->nb + b] = values[b] * share;
    return true;
}

/* ------------------------------------------------------------- the grid */

typedef struct spreader {
    cs_context *ctx;
    const cs_study *study;
    const cs_raw_points *raw;
    double cell_m, x0, y0; /* the spreading grid */
    double *box;           /* 4 per area */
    cs_pieces pieces;
    long *piece_area;      /* the area of each piece */
    size_t piece_area_cap;
    cs_demand_buf *out;
    double dropped_pop;
    size_t dropped;
    /* residents in the study's overlaps and gaps: each surface's m² in them, turned
     * into residents when the surface is emitted (see seams.h) */
    bool track;            /* off while pieces are gathered for later (land use) */
    bool pending;          /* some m² below wait for emit_pieces */
    size_t *ov_first;      /* area a owns overlaps [ov_first[a], ov_first[a + 1]) */
    double *ov_box, *gap_box; /* 4 each */
    double *ov_m2, *gap_m2;
    double *ov_residents, *gap_residents; /* the caller's */
    /* surfaces partly outside every area, and their residents left out there */
    size_t partial;
    double partial_pop;
} spreader;

static bool boxes_meet(const double *a, const double *b)
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static cs_status area_boxes(spreader *sp)
{
    const cs_study *s = sp->study;
    sp->box = cs_calloc(4 * s->areas.count + 4, sizeof *sp->box);
    if (!sp->box)
        return CS_ERR_NOMEM;
    double *all = &sp->box[4 * s->areas.count];
    all[0] = all[1] = INFINITY;
    all[2] = all[3] = -INFINITY;
    for (size_t a = 0; a < s->areas.count; a++) {
        double *b = &sp->box[4 * a];
        if (!cs_geom_bounds(s->geos, s->areas.geom[a], b))
            b[0] = b[1] = INFINITY, b[2] = b[3] = -INFINITY;
        all[0] = fmin(all[0], b[0]);
        all[1] = fmin(all[1], b[1]);
        all[2] = fmax(all[2], b[2]);
        all[3] = fmax(all[3], b[3]);
    }
    sp->x0 = all[0];
    sp->y0 = all[1];
    return CS_OK;
}

/* The seams' boxes and m² counters, and each area's overlaps (listed by owner, as
 * cs_geom_overlaps finds them). */
static cs_status seam_setup(spreader *sp)
{
    const cs_study *s = sp->study;
    size_t no = s->areas.overlap_count, ng = s->areas.gap_count;
    sp->ov_first = cs_calloc(s->areas.count + 2, sizeof *sp->ov_first);
    sp->ov_box = cs_calloc(4 * no + 4, sizeof *sp->ov_box);
    sp->gap_box = cs_calloc(4 * ng + 4, sizeof *sp->gap_box);
    sp->ov_m2 = cs_calloc(no + 1, sizeof *sp->ov_m2);
    sp->gap_m2 = cs_calloc(ng + 1, sizeof *sp->gap_m2);
    if (!sp->ov_first || !sp->ov_box || !sp->gap_box || !sp->ov_m2 || !sp->gap_m2)
        return CS_ERR_NOMEM;
    for (size_t k = 0; k < no; k++) {
        assert(k == 0 || s->areas.overlaps[k].a >= s->areas.overlaps[k - 1].a);
        sp->ov_first[s->areas.overlaps[k].a + 1]++;
        if (!cs_geom_bounds(s->geos, s->areas.overlaps[k].geom, &sp->ov_box[4 * k]))
            sp->ov_box[4 * k] = INFINITY, sp->ov_box[4 * k + 2] = -INFINITY;
    }
    for (size_t a = 0; a < s->areas.count; a++)
        sp->ov_first[a + 1] += sp->ov_first[a];
    for (size_t k = 0; k < ng; k++)
        if (!cs_geom_bounds(s->geos, s->areas.gaps[k].geom, &sp->gap_box[4 * k]))
            sp->gap_box[4 * k] = INFINITY, sp->gap_box[4 * k + 2] = -INFINITY;
    sp->track = no + ng > 0;
    return CS_OK;
}

/* Add the m² of g in seam k (box sb) to *m2. */
static cs_status seam_m2(spreader *sp, const cs_geom *g, const double *g_box, const cs_seam *k,
                         const double *sb, double *m2)
{
    if (!boxes_meet(g_box, sb))
        return CS_OK;
    cs_geom *in = cs_geom_intersection(sp->study->geos, g, k->geom);
    if (!in)
        return CS_ERR_INTERNAL;
    double a = cs_geom_area_m2(sp->study->geos, in);
    cs_geom_destroy(sp->study->geos, in);
    if (a > 0) {
        *m2 += a;
        sp->pending = true;
    }
    return CS_OK;
}

/* Append the pieces of g ∩ area a (cut by the grid when cut) to sp->pieces. g_box is
 * g's bounding box: the area is first clipped to it, which is much faster than the
 * general intersection when g is small and the area large. */
static cs_status cut_in_area(spreader *sp, const cs_geom *g, const double *g_box, size_t a,
                             bool cut)
{
    cs_geos h = sp->study->geos;
    cs_geom *near = cs_geom_clip_box(h, sp->study->areas.geom[a], g_box);
    /* GEOS 3.11's rectangle clipping fails on a few valid shapes (an area that gave up
     * overlaps, at one cell of Shanghai's 229 townships), and gives an invalid one for
     * others, whose overlay then fails or, worse, counts part of the cell twice (a
     * 0.0018-degree grid over them placed 39 residents more than it holds): the general
     * overlay then */
    if (near && !cs_geom_is_valid(h, near, NULL, 0)) {
        cs_geom_destroy(h, near);
        near = NULL;
    }
    cs_geom *part = cs_geom_intersection(h, g, near ? near : sp->study->areas.geom[a]);
    cs_geom_destroy(h, near);
    if (!part)
        return CS_ERR_INTERNAL;
    size_t before = sp->pieces.count;
    cs_status st = cs_geom_grid_pieces(h, part, cut ? sp->cell_m : 0, sp->x0, sp->y0,
                                       &sp->pieces);
    cs_geom_destroy(h, part);
    if (st == CS_OK && !cs_grow((void **)&sp->piece_area, &sp->piece_area_cap,
                                sp->pieces.count + 1, sizeof *sp->piece_area))
        st = CS_ERR_NOMEM;
    for (size_t i = before; st == CS_OK && i < sp->pieces.count; i++)
        sp->piece_area[i] = (long)a;
    /* the overlaps a owns: the part of g in them counts in a, and is reported */
    for (size_t k = sp->ov_first[a]; st == CS_OK && sp->track && k < sp->ov_first[a + 1]; k++)
        st = seam_m2(sp, g, g_box, &sp->study->areas.overlaps[k], &sp->ov_box[4 * k],
                     &sp->ov_m2[k]);
    return st;
}

/* The pieces of g in every area its box meets. */
static cs_status cut_by_areas(spreader *sp, const cs_geom *g, bool cut)
{
    double gb[4];
    if (!cs_geom_bounds(sp->study->geos, g, gb))
        return CS_OK;
    cs_status st = CS_OK;
    for (size_t a = 0; st == CS_OK && a < sp->study->areas.count; a++)
        if (boxes_meet(gb, &sp->box[4 * a]))
            st = cut_in_area(sp, g, gb, a, cut);
    for (size_t k = 0; st == CS_OK && sp->track && k < sp->study->areas.gap_count; k++)
        st = seam_m2(sp, g, gb, &sp->study->areas.gaps[k], &sp->gap_box[4 * k], &sp->gap_m2[k]);
    return st;
}

/* Give values to the pieces gathered, each its share of `whole` m²; what the pieces do
 * not cover of `whole` is left out. */
static cs_status emit_pieces(spreader *sp, const double *values, double whole)
{
    double kept = 0;
    for (size_t i = 0; i < sp->pieces.count; i++) {
        double share = sp->pieces.m2[i] / whole;
        kept += share;
        if (!demand_add(sp->out, sp->pieces.x[i], sp->pieces.y[i], sp->piece_area[i], values,
                        share))
            return CS_ERR_NOMEM;
    }
    if (kept < 1 - 1e-9) {
        sp->dropped_pop += values[0] * (1 - kept);
        if (sp->pieces.count == 0) {
            sp->dropped++;
        } else if (kept < 1 - 1e-6) { /* not mere rounding of the overlay */
            sp->partial++;
            sp->partial_pop += values[0] * (1 - kept);
        }
    }
    sp->pieces.count = 0;
    if (sp->pending) {
        const cs_study *s = sp->study;
        for (size_t k = 0; k < s->areas.overlap_count; k++) {
            sp->ov_residents[k] += values[0] * sp->ov_m2[k] / whole;
            sp->ov_m2[k] = 0;
        }
        for (size_t k = 0; k < s->areas.gap_count; k++) {
            sp->gap_residents[k] += values[0] * sp->gap_m2[k] / whole;
            sp->gap_m2[k] = 0;
        }
        sp->pending = false;
    }
    return CS_OK;
}

static double pieces_m2(const spreader *sp)
{
    double sum = 0;
    for (size_t i = 0; i < sp->pieces.count; i++)
        sum += sp->pieces.m2[i];
    return sum;
}

/* ------------------------------------------------------------ polygons */

/* Polygon feature f of a layer (polygons [first, first + n) of polys) as one valid
 * geometry, repaired with a warning when invalid; NULL (with an error) when it cannot
 * be built or repaired. */
static cs_geom *valid_polygon(spreader *sp, const cs_raw_layer *layer, const cs_rings *polys,
                              size_t first, size_t n, long feature)
{
    cs_geos h = sp->study->geos;
    cs_where w = cs_raw_where(layer, feature, NULL);
    cs_geom *g = cs_geom_from_polygon_range(h, polys, first, n);
    if (!g && cs_take_nomem()) {
        cs_error(sp->ctx, CS_ERR_NOMEM, &w, CS_NOMEM_HINT,
                 "out of memory while building the polygon");
        return NULL;
    }
    if (!g) {
        cs_error(sp->ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS and run again",
                 "the polygon cannot be built (rings with fewer than 4 points?)");
        return NULL;
    }
    char reason[256] = "";
    if (cs_geom_is_valid(h, g, reason, sizeof reason))
        return g;
    cs_geom *fixed = cs_geom_repair(h, g);
    cs_geom_destroy(h, g);
    if (!fixed)
        cs_error(sp->ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS and run again",
                 "invalid polygon (%s) that cannot be repaired", reason);
    else
        cs_warn(sp->ctx, &w, "check its shape", "invalid polygon (%s) was repaired; its "
                "residents are spread over the repaired shape", reason);
    return fixed;
}

static cs_status spread_polygons(spreader *sp)
{
    const cs_raw_surfaces *sf = &sp->raw->surfaces;
    cs_geos h = sp->study->geos;
    cs_status st = CS_OK;
    for (size_t i = 0; st == CS_OK && i < sf->count; i++) {
        size_t n = sf->first[i + 1] - sf->first[i];
        if (n == 0)
            continue;
        cs_geom *g = valid_polygon(sp, &sp->raw->layer, &sf->polys, sf->first[i], n,
                                   sf->feature[i]);
        if (!g)
            return CS_ERR_INPUT;
        double whole = cs_geom_area_m2(h, g);
        st = cut_by_areas(sp, g, true);
        cs_geom_destroy(h, g);
        /* by area, as grid cells: the part outside every area (beyond the district's
         * edge or in a gap between streets) is left out and counted */
        if (st == CS_OK)
            st = emit_pieces(sp, &sf->values[i * sf->value_count], whole);
    }
    return st;
}

/* ---------------------------------------------------------------- cells */

static double quad_area(const double *x, const double *y)
{
    double a = 0;
    for (size_t k = 0; k < 4; k++)
        a += x[k] * y[(k + 1) % 4] - x[(k + 1) % 4] * y[k];
    return fabs(a) / 2;
}

static cs_status spread_cell(spreader *sp, size_t i)
{
    const cs_raw_surfaces *sf = &sp->raw->surfaces;
    const double *x = &sf->quad_x[4 * i], *y = &sf->quad_y[4 * i];
    const double *values = &sf->values[i * sf->value_count];
    double b[4] = {fmin(fmin(x[0], x[1]), fmin(x[2], x[3])),
                   fmin(fmin(y[0], y[1]), fmin(y[2], y[3])),
                   fmax(fmax(x[0], x[1]), fmax(x[2], x[3])),
                   fmax(fmax(y[0], y[1]), fmax(y[2], y[3]))};
    long a = cs_area_index_box(sp->study->areas.index, b[0], b[1], b[2], b[3]);
    /* near an overlap its owner holds, the cell's part in it is measured below */
    for (size_t k = a >= 0 ? sp->ov_first[a] : 0; a >= 0 && k < sp->ov_first[a + 1]; k++)
        if (boxes_meet(b, &sp->ov_box[4 * k]))
            a = -1;
    if (a >= 0) /* wholly inside one area: no geometry needed */
        return demand_add(sp->out, (x[0] + x[1] + x[2] + x[3]) / 4,
                          (y[0] + y[1] + y[2] + y[3]) / 4, a, values, 1)
                   ? CS_OK
                   : CS_ERR_NOMEM;
    cs_geos h = sp->study->geos;
    cs_geom *g = cs_geom_ring_polygon(h, x, y, 4);
    if (!g)
        return CS_ERR_INTERNAL;
    cs_status st = cut_by_areas(sp, g, false);
    cs_geom_destroy(h, g);
    return st == CS_OK ? emit_pieces(sp, values, quad_area(x, y)) : st;
}

/* ---------------------------------------------------------- area totals */

/* Which row holds each area's totals (-1: none); unknown and repeated ids are errors. */
static cs_status match_rows(spreader *sp, long *row_of_area)
{
    const cs_raw_surfaces *sf = &sp->raw->surfaces;
    const cs_study *s = sp->study;
    cs_status st = CS_OK;
    for (size_t a = 0; a < s->areas.count; a++)
        row_of_area[a] = -1;
    for (size_t i = 0; i < sf->count; i++) {
        size_t a = 0;
        while (a < s->areas.count && strcmp(s->areas.id[a], sf->area_key[i]) != 0)
            a++;
        cs_where w = cs_raw_where(&sp->raw->layer, sf->feature[i], sf->area_key[i]);
        w.field = sf->area_field;
        if (a == s->areas.count) {
            st = cs_error(sp->ctx, CS_ERR_INPUT, &w, "use the ids of the areas layer "
                          "(population.area names the field holding them)",
                          "no area has the id '%s'", sf->area_key[i]);
        } else if (row_of_area[a] >= 0) {
            st = cs_error(sp->ctx, CS_ERR_INPUT, &w, "give each area one row of totals",
                          "area '%s' already has totals on an earlier row", sf->area_key[i]);
        } else {
            row_of_area[a] = (long)i;
        }
    }
    return st;
}

/* The residential land of every area, cut by the grid, into per-area piece lists. */
static cs_status residential_pieces(spreader *sp, const cs_raw_areas *landuse, cs_pieces *by_area)
{
    cs_geos h = sp->study->geos;
    cs_status st = CS_OK;
    for (size_t f = 0; st == CS_OK && landuse && f < landuse->count; f++) {
        size_t n = landuse->first_poly[f + 1] - landuse->first_poly[f];
        if (n == 0)
            continue;
        cs_geom *g = valid_polygon(sp, &landuse->layer, &landuse->polys, landuse->first_poly[f],
                                   n, landuse->feature[f]);
        if (!g)
            return CS_ERR_INPUT;
        /* land is not people: its pieces are weighed later, by area */
        bool track = sp->track;
        sp->track = false;
        st = cut_by_areas(sp, g, true);
        sp->track = track;
        cs_geom_destroy(h, g);
        for (size_t i = 0; st == CS_OK && i < sp->pieces.count; i++) {
            cs_pieces *dst = &by_area[sp->piece_area[i]];
            cs_pieces one = {1, 1, &sp->pieces.x[i], &sp->pieces.y[i], &sp->pieces.m2[i]};
            st = cs_pieces_append(dst, &one);
        }
        sp->pieces.count = 0;
    }
    return st;
}

static cs_status spread_totals(spreader *sp, const cs_raw_areas *landuse)
{
    const cs_study *s = sp->study;
    const cs_raw_surfaces *sf = &sp->raw->surfaces;
    long *row = cs_calloc(s->areas.count + 1, sizeof *row);
    cs_pieces *land = cs_calloc(s->areas.count + 1, sizeof *land);
    cs_status st = row && land ? match_rows(sp, row) : CS_ERR_NOMEM;
    if (st == CS_OK)
        st = residential_pieces(sp, landuse, land);
    for (size_t a = 0; st == CS_OK && a < s->areas.count; a++) {
        cs_where w = {.file = sp->raw->layer.display, .feature_id = s->areas.id[a]};
        if (row[a] < 0) {
            cs_warn(sp->ctx, &w, "add a row for it if people live there",
                    "area %s has no population totals; it counts no residents",
                    s->areas.name[a]);
            continue;
        }
        if (land[a].count > 0) {
            st = cs_pieces_append(&sp->pieces, &land[a]);
            if (st == CS_OK && !cs_grow((void **)&sp->piece_area, &sp->piece_area_cap,
                                        sp->pieces.count + 1, sizeof *sp->piece_area))
                st = CS_ERR_NOMEM;
            for (size_t i = 0; st == CS_OK && i < sp->pieces.count; i++)
                sp->piece_area[i] = (long)a;
        } else {
            if (landuse && landuse->count > 0)
                cs_warn(sp->ctx, &w, "add its residential land to the land-use layer",
                        "area %s has no residential land; its residents are spread over "
                        "the whole area", s->areas.name[a]);
            st = cut_in_area(sp, s->areas.geom[a], &sp->box[4 * a], a, true);
        }
        if (st == CS_OK)
            st = emit_pieces(sp, &sf->values[(size_t)row[a] * sf->value_count], pieces_m2(sp));
    }
    for (size_t a = 0; land && a < s->areas.count; a++)
        cs_pieces_free(&land[a]);
    cs_free(land);
    cs_free(row);
    return st;
}

struct cs_spreader {
    spreader sp;
};

cs_status cs_spread_begin(cs_context *ctx, const cs_study *study, const cs_raw_points *raw,
                          double spread_m, cs_demand_buf *out, double *overlap_residents,
                          double *gap_residents, cs_spreader **made)
{
    *made = NULL;
    cs_spreader *s = cs_calloc(1, sizeof *s);
    if (!s)
        return cs_nomem(ctx);
    s->sp = (spreader){.ctx = ctx, .study = study, .raw = raw, .cell_m = spread_m, .out = out,
                       .ov_residents = overlap_residents, .gap_residents = gap_residents};
    out->nb = study->settings.band_count;
    cs_status st = area_boxes(&s->sp);
    if (st == CS_OK)
        st = seam_setup(&s->sp);
    if (st == CS_OK && !cs_grow((void **)&s->sp.piece_area, &s->sp.piece_area_cap, 64,
                                sizeof *s->sp.piece_area))
        st = CS_ERR_NOMEM;
    if (st != CS_OK)
        return cs_spread_end(s, st, NULL, NULL);
    *made = s;
    return CS_OK;
}

cs_status cs_spread_cells(cs_spreader *s)
{
    const cs_raw_surfaces *sf = &s->sp.raw->surfaces;
    cs_status st = CS_OK;
    for (size_t i = 0; st == CS_OK && i < sf->count; i++)
        st = spread_cell(&s->sp, i);
    return st;
}

/* Say what was left out of surfaces partly outside every area. */
static void warn_partial(const spreader *sp)
{
    const cs_raw_surfaces *sf = &sp->raw->surfaces;
    if (sp->partial == 0 || sf->kind == CS_SURFACE_AREA_TOTALS)
        return;
    cs_where w = {.file = sp->raw->layer.display};
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add_grouped(&b, sp->partial_pop, 0);
    cs_warn(sp->ctx, &w, "check the areas' outline if these people belong to the district",
            "%zu %s partly outside every area (beyond the district's edge or in gaps "
            "between areas): the %s residents on the parts outside, by area, are left "
            "out (residents_left_out in summary.json)",
            sp->partial,
            sf->kind == CS_SURFACE_CELLS
                ? (sp->partial == 1 ? "grid cell lies" : "grid cells lie")
                : (sp->partial == 1 ? "polygon lies" : "polygons lie"),
            b.data ? b.data : "?");
    cs_buf_free(&b);
}

cs_status cs_spread_end(cs_spreader *s, cs_status st, double *dropped_pop, size_t *dropped)
{
    if (!s)
        return st;
    spreader *sp = &s->sp;
    if (dropped_pop)
        *dropped_pop += sp->dropped_pop;
    if (dropped)
        *dropped += sp->dropped;
    if (st == CS_OK)
        warn_partial(sp);
    cs_context *ctx = sp->ctx;
    cs_free(sp->ov_first);
    cs_free(sp->ov_box);
    cs_free(sp->gap_box);
    cs_free(sp->ov_m2);
    cs_free(sp->gap_m2);
    cs_pieces_free(&sp->pieces);
    cs_free(sp->piece_area);
    cs_free(sp->box);
    cs_free(s);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st == CS_ERR_INTERNAL)
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, "report this with the input files",
                        "GEOS failed while spreading the population over its surfaces");
    return st;
}

cs_status cs_spread_surfaces(cs_context *ctx, const cs_study *study, const cs_raw_points *raw,
                             const cs_raw_areas *landuse, double spread_m, cs_demand_buf *out,
                             double *dropped_pop, size_t *dropped, double *overlap_residents,
                             double *gap_residents)
{
    cs_spreader *s = NULL;
    cs_status st = cs_spread_begin(ctx, study, raw, spread_m, out, overlap_residents,
                                   gap_residents, &s);
    if (st != CS_OK)
        return st;
    cs_surface_kind kind = raw->surfaces.kind;
    if (kind == CS_SURFACE_POLYGONS)
        st = spread_polygons(&s->sp);
    else if (kind == CS_SURFACE_CELLS)
        st = cs_spread_cells(s);
    else if (kind == CS_SURFACE_AREA_TOTALS)
        st = spread_totals(&s->sp, landuse);
    return cs_spread_end(s, st, dropped_pop, dropped);
}
