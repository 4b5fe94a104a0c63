/*
 * geom.c — GEOS behind one door: building polygons from plain rings, validity and
 * repair, unions, discs and intersections for service circles, and turning GEOS
 * polygons back into plain rings for indexing and output.
 */
#include "geom/geom.h"

#include <geos_c.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quarter-circle segments of the round caps and joins of buffered streets: 2 keeps
 * every outline vertex exactly at the width and the chords within 8% of it (4 m at
 * 50 m) inside, and halves the buffering time of 4. */
#define CS_LINE_QUADSEGS 2

/* GEOS reports a std::bad_alloc as an error message (and a NULL or 2 result): note
 * it, so that the error it causes is reported as out of memory. */
static void note_geos_error(const char *message, void *user)
{
    (void)user;
    if (cs_message_means_nomem(message))
        cs_note_nomem();
}

cs_geos cs_geos_create(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    if (h)
        GEOSContext_setErrorMessageHandler_r(h, note_geos_error, NULL);
    return h;
}

void cs_geos_destroy(cs_geos h)
{
    if (h)
        GEOS_finish_r(h);
}

static GEOSCoordSequence *ring_sequence(cs_geos h, const cs_rings *r, size_t ring)
{
    size_t start = r->ring_start[ring], end = r->ring_start[ring + 1];
    size_t n = end - start;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    if (!seq)
        return NULL;
    for (size_t i = 0; i < n; i++)
        GEOSCoordSeq_setXY_r(h, seq, (unsigned)i, r->x[start + i], r->y[start + i]);
    return seq;
}

static GEOSGeometry *one_polygon(cs_geos h, const cs_rings *r, size_t poly)
{
    size_t first = r->area_ring_start[poly], last = r->area_ring_start[poly + 1];
    if (first == last)
        return NULL;
    GEOSGeometry *shell = NULL, **holes = NULL;
    size_t hole_count = last - first - 1, made = 0;
    GEOSCoordSequence *seq = ring_sequence(h, r, first);
    shell = seq ? GEOSGeom_createLinearRing_r(h, seq) : NULL;
    if (!shell)
        goto fail;
    holes = cs_calloc(hole_count ? hole_count : 1, sizeof *holes);
    if (!holes)
        goto fail;
    for (; made < hole_count; made++) {
        seq = ring_sequence(h, r, first + 1 + made);
        holes[made] = seq ? GEOSGeom_createLinearRing_r(h, seq) : NULL;
        if (!holes[made])
            goto fail;
    }
    GEOSGeometry *poly_geom = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)hole_count);
    cs_free(holes);
    return poly_geom;
fail:
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, holes[i]);
    cs_free(holes);
    if (shell)
        GEOSGeom_destroy_r(h, shell);
    return NULL;
}

cs_geom *cs_geom_from_polygons(cs_geos h, const cs_rings *polygons)
{
    return cs_geom_from_polygon_range(h, polygons, 0, polygons->area_count);
}

cs_geom *cs_geom_from_polygon_range(cs_geos h, const cs_rings *polygons, size_t first,
                                    size_t n)
{
    GEOSGeometry **parts = cs_calloc(n ? n : 1, sizeof *parts);
    if (!parts)
        return NULL;
    size_t made = 0;
    for (; made < n; made++) {
        parts[made] = one_polygon(h, polygons, first + made);
        if (!parts[made])
            break;
    }
    GEOSGeometry *g = NULL;
    if (made == n)
        g = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    if (!g)
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    cs_free(parts);
    return g;
}

bool cs_geom_is_valid(cs_geos h, const cs_geom *g, char *reason, size_t reason_size)
{
    char *why = NULL;
    GEOSGeometry *where = NULL;
    char valid = GEOSisValidDetail_r(h, g, 0, &why, &where);
    if (valid != 1 && reason && reason_size) {
        if (why && where) {
            double x = 0, y = 0;
            GEOSGeomGetX_r(h, where, &x);
            GEOSGeomGetY_r(h, where, &y);
            snprintf(reason, reason_size, "%s", why);
        } else {
            snprintf(reason, reason_size, "%s", why ? why : "GEOS could not check it");
        }
    }
    if (why)
        GEOSFree_r(h, why);
    if (where)
        GEOSGeom_destroy_r(h, where);
    return valid == 1;
}

/* Collect the polygons of g (any nesting of collections) into a new MultiPolygon. */
static void collect_polygons(cs_geos h, const GEOSGeometry *g, GEOSGeometry ***list,
                             size_t *count, size_t *cap, bool *failed)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) == 1)
            return;
        if (!cs_grow((void **)list, cap, *count + 1, sizeof **list)) {
            *failed = true;
            return;
        }
        GEOSGeometry *c = GEOSGeom_clone_r(h, g);
        if (!c)
            *failed = true;
        else
            (*list)[(*count)++] = c;
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            collect_polygons(h, GEOSGetGeometryN_r(h, g, i), list, count, cap, failed);
    }
}

/* The polygons of g as a new MultiPolygon; NULL when g has none, or when memory ran out
 * (then *failed, if given, is set). */
static cs_geom *polygonal_part(cs_geos h, const GEOSGeometry *g, bool *failed_out)
{
    GEOSGeometry **list = NULL;
    size_t count = 0, cap = 0;
    bool failed = false;
    collect_polygons(h, g, &list, &count, &cap, &failed);
    GEOSGeometry *out = NULL;
    if (!failed && count > 0) {
        out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, list, (unsigned)count);
        failed = !out;
    }
    if (!out)
        for (size_t i = 0; i < count; i++)
            GEOSGeom_destroy_r(h, list[i]);
    cs_free(list);
    if (failed_out)
        *failed_out = failed;
    return out;
}

cs_geom *cs_geom_repair(cs_geos h, const cs_geom *g)
{
    /* The "structure" method (GEOS 3.10+): the union of the shells minus the holes.
     * GEOSMakeValid's default "linework" method builds every face of the noded rings,
     * which takes over a minute on one 2,000-vertex ring whose loops cross 2,500 times
     * (a drawing error no worse than a bow tie); this takes a fraction of a second and
     * keeps the area the ring encloses, which is what a street boundary means. */
    GEOSMakeValidParams *params = GEOSMakeValidParams_create_r(h);
    if (!params)
        return NULL;
    GEOSGeometry *fixed = NULL;
    if (GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_STRUCTURE) &&
        GEOSMakeValidParams_setKeepCollapsed_r(h, params, 0))
        fixed = GEOSMakeValidWithParams_r(h, g, params);
    GEOSMakeValidParams_destroy_r(h, params);
    if (!fixed)
        return NULL;
    cs_geom *out = polygonal_part(h, fixed, NULL);
    GEOSGeom_destroy_r(h, fixed);
    if (out && GEOSisValid_r(h, out) != 1) {
        GEOSGeom_destroy_r(h, out);
        return NULL;
    }
    return out;
}

/* Room for `vertices`, `rings` and `areas` more in r, growing its arrays geometrically
 * (adding pieces one by one stays linear). False when out of memory. */
static bool rings_reserve(cs_rings *r, size_t vertices, size_t rings, size_t areas)
{
    if (!r->ring_start && !(r->ring_start = cs_calloc(1, sizeof *r->ring_start)))
        return false;
    if (!r->area_ring_start && !(r->area_ring_start = cs_calloc(1, sizeof *r->area_ring_start)))
        return false;
    size_t vcap = r->vertex_cap;
    if (!cs_grow((void **)&r->x, &vcap, r->vertex_count + vertices, sizeof *r->x))
        return false;
    if (vcap != r->vertex_cap) { /* y always has x's length */
        double *ny = cs_reallocarray(r->y, vcap, sizeof *r->y);
        if (!ny)
            return false;
        r->y = ny;
        r->vertex_cap = vcap;
    }
    return cs_grow((void **)&r->ring_start, &r->ring_cap, r->ring_count + rings + 1,
                   sizeof *r->ring_start) &&
           cs_grow((void **)&r->area_ring_start, &r->area_cap, r->area_count + areas + 1,
                   sizeof *r->area_ring_start);
}

static cs_status append_ring(cs_geos h, const GEOSGeometry *ring, cs_rings *out)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n))
        return CS_ERR_INTERNAL;
    if (!rings_reserve(out, n, 1, 0))
        return CS_ERR_NOMEM;
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, seq, i, &out->x[out->vertex_count + i],
                             &out->y[out->vertex_count + i]);
    out->vertex_count += n;
    out->ring_count++;
    out->ring_start[out->ring_count] = out->vertex_count;
    return CS_OK;
}

cs_status cs_geom_append_polygons(cs_geos h, const cs_geom *g, cs_rings *out)
{
    if (!rings_reserve(out, 0, 0, 0))
        return CS_ERR_NOMEM;
    int type = GEOSGeomTypeId_r(h, g);
    int n = (type == GEOS_POLYGON) ? 1 : GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *poly = type == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeomTypeId_r(h, poly) != GEOS_POLYGON || GEOSisEmpty_r(h, poly) == 1)
            continue;
        cs_status st = append_ring(h, GEOSGetExteriorRing_r(h, poly), out);
        int holes = GEOSGetNumInteriorRings_r(h, poly);
        for (int k = 0; st == CS_OK && k < holes; k++)
            st = append_ring(h, GEOSGetInteriorRingN_r(h, poly, k), out);
        if (st != CS_OK)
            return st;
        if (!rings_reserve(out, 0, 0, 1))
            return CS_ERR_NOMEM;
        out->area_count++;
        out->area_ring_start[out->area_count] = out->ring_count;
    }
    return CS_OK;
}

cs_rings *cs_rings_of_geom(cs_geos h, cs_geom *g)
{
    if (!g)
        return NULL;
    cs_rings p = {0};
    cs_status st = cs_geom_append_polygons(h, g, &p);
    cs_geom_destroy(h, g);
    if (st == CS_OK)
        return cs_rings_moved(&p);
    cs_rings_free(&p);
    return NULL;
}

cs_geom *cs_geom_union(cs_geos h, cs_geom *const *geoms, size_t n)
{
    GEOSGeometry **clones = cs_calloc(n ? n : 1, sizeof *clones);
    if (!clones)
        return NULL;
    size_t made = 0;
    for (; made < n; made++) {
        clones[made] = GEOSGeom_clone_r(h, geoms[made]);
        if (!clones[made])
            break;
    }
    GEOSGeometry *coll = NULL, *u = NULL;
    if (made == n)
        coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)n);
    if (!coll) {
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(h, clones[i]);
    } else {
        u = n ? GEOSUnaryUnion_r(h, coll) : GEOSGeom_createEmptyPolygon_r(h);
        GEOSGeom_destroy_r(h, coll);
    }
    cs_free(clones);
    return u;
}

/* The regular CS_DISC_VERTICES-gon inscribed in the circle of radius r around (cx, cy). */
static GEOSGeometry *disc_polygon(cs_geos h, double cx, double cy, double r)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, CS_DISC_VERTICES + 1, 2);
    if (!seq)
        return NULL;
    for (unsigned v = 0; v <= CS_DISC_VERTICES; v++) {
        double a = 2 * M_PI * (v % CS_DISC_VERTICES) / CS_DISC_VERTICES;
        GEOSCoordSeq_setXY_r(h, seq, v, cx + r * cos(a), cy + r * sin(a));
    }
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(h, seq);
    return ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
}

/* The discs unioned by GEOS, for when their outline cannot be traced. */
static cs_geom *union_of_discs(cs_geos h, const double *x, const double *y, size_t n,
                               double radius_m)
{
    GEOSGeometry **discs = cs_calloc(n, sizeof *discs);
    if (!discs)
        return NULL;
    size_t made = 0;
    for (; made < n; made++) {
        discs[made] = disc_polygon(h, x[made], y[made], radius_m);
        if (!discs[made])
            break;
    }
    GEOSGeometry *u = NULL;
    if (made == n) {
        GEOSGeometry *coll =
            GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, discs, (unsigned)n);
        if (coll) {
            u = GEOSUnaryUnion_r(h, coll);
            GEOSGeom_destroy_r(h, coll);
            cs_free(discs);
            return u;
        }
    }
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, discs[i]);
    cs_free(discs);
    return NULL;
}

cs_geom *cs_geom_discs(cs_geos h, const double *x, const double *y, size_t n, double radius_m)
{
    if (n == 0)
        return GEOSGeom_createEmptyPolygon_r(h);
    cs_rings outline;
    cs_status st = cs_disc_outline(x, y, n, radius_m, &outline);
    if (st == CS_ERR_NOMEM)
        return NULL;
    cs_geom *g = st == CS_OK ? cs_geom_from_polygons(h, &outline) : NULL;
    cs_rings_free(&outline);
    /* the traced outline is valid by construction, but for rounding where circles
     * touch: checked, as it is cheap next to the union it replaces */
    if (g && GEOSisValid_r(h, g) == 1)
        return g;
    cs_geom_destroy(h, g);
    return union_of_discs(h, x, y, n, radius_m);
}

static GEOSGeometry *line_string(cs_geos h, const cs_lines *lines, size_t i)
{
    size_t first = lines->start[i], n = lines->start[i + 1] - first;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    if (!seq)
        return NULL;
    for (size_t v = 0; v < n; v++)
        if (!GEOSCoordSeq_setXY_r(h, seq, (unsigned)v, lines->x[first + v],
                                  lines->y[first + v])) {
            GEOSCoordSeq_destroy_r(h, seq);
            return NULL;
        }
    return GEOSGeom_createLineString_r(h, seq); /* takes seq, even on failure */
}

/* The union of each line's own buffer: one cascaded union is much faster than
 * buffering the whole collection at once. */
static GEOSGeometry *buffer_each(cs_geos h, const GEOSGeometry *lines, double width_m)
{
    int n = GEOSGetNumGeometries_r(h, lines);
    if (n <= 0)
        return GEOSGeom_createEmptyPolygon_r(h);
    GEOSGeometry **parts = cs_calloc((size_t)n, sizeof *parts);
    if (!parts)
        return NULL;
    int made = 0;
    while (made < n && (parts[made] = GEOSBuffer_r(h, GEOSGetGeometryN_r(h, lines, made),
                                                   width_m, CS_LINE_QUADSEGS)))
        made++;
    GEOSGeometry *u = NULL;
    if (made == n) {
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts,
                                                         (unsigned)n);
        if (coll) {
            made = 0;
            u = GEOSUnaryUnion_r(h, coll);
            GEOSGeom_destroy_r(h, coll);
        }
    }
    for (int i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    cs_free(parts);
    return u;
}

cs_geom *cs_geom_buffer_lines(cs_geos h, const cs_lines *lines, double width_m)
{
    if (lines->count == 0)
        return GEOSGeom_createEmptyPolygon_r(h);
    GEOSGeometry **parts = cs_calloc(lines->count, sizeof *parts);
    if (!parts)
        return NULL;
    size_t made = 0;
    while (made < lines->count && (parts[made] = line_string(h, lines, made)))
        made++;
    GEOSGeometry *u = NULL;
    if (made == lines->count) {
        GEOSGeometry *multi = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, parts,
                                                          (unsigned)made);
        if (multi) {
            made = 0; /* the collection owns the parts now */
            /* joining the touching pieces first leaves far fewer lines to buffer;
             * round joins and caps keep the width exact around bends and ends */
            GEOSGeometry *merged = GEOSLineMerge_r(h, multi);
            GEOSGeom_destroy_r(h, multi);
            GEOSGeometry *buffered = merged ? buffer_each(h, merged, width_m) : NULL;
            if (merged)
                GEOSGeom_destroy_r(h, merged);
            u = buffered ? polygonal_part(h, buffered, NULL) : NULL;
            if (buffered)
                GEOSGeom_destroy_r(h, buffered);
        }
    }
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    cs_free(parts);
    return u;
}

cs_geom *cs_geom_intersection(cs_geos h, const cs_geom *a, const cs_geom *b)
{
    GEOSGeometry *i = GEOSIntersection_r(h, a, b);
    if (!i)
        return NULL;
    bool failed = false;
    cs_geom *poly = polygonal_part(h, i, &failed);
    GEOSGeom_destroy_r(h, i);
    if (failed)
        return NULL;
    return poly ? poly : GEOSGeom_createEmptyPolygon_r(h);
}

double cs_geom_area_m2(cs_geos h, const cs_geom *g)
{
    double a = 0;
    if (!GEOSArea_r(h, g, &a))
        return NAN;
    return a;
}

bool cs_geom_is_empty(cs_geos h, const cs_geom *g)
{
    return GEOSisEmpty_r(h, g) == 1;
}

cs_geom *cs_geom_clone(cs_geos h, const cs_geom *g)
{
    return GEOSGeom_clone_r(h, g);
}

void cs_geom_destroy(cs_geos h, cs_geom *g)
{
    if (g)
        GEOSGeom_destroy_r(h, g);
}

cs_status cs_rings_add_polygon(cs_rings *r, size_t ring_count, const double *const *xs,
                               const double *const *ys, const size_t *counts)
{
    size_t added = 0;
    for (size_t k = 0; k < ring_count; k++) {
        size_t n = counts[k];
        bool closed = n > 0 && xs[k][0] == xs[k][n - 1] && ys[k][0] == ys[k][n - 1];
        added += n + (closed ? 0 : 1);
    }
    if (!rings_reserve(r, added, ring_count, 1))
        return CS_ERR_NOMEM;
    for (size_t k = 0; k < ring_count; k++) {
        size_t n = counts[k], v = r->vertex_count;
        memcpy(r->x + v, xs[k], n * sizeof(double));
        memcpy(r->y + v, ys[k], n * sizeof(double));
        v += n;
        if (n > 0 && (xs[k][0] != xs[k][n - 1] || ys[k][0] != ys[k][n - 1])) {
            r->x[v] = xs[k][0];
            r->y[v] = ys[k][0];
            v++;
        }
        r->vertex_count = v;
        r->ring_count++;
        r->ring_start[r->ring_count] = v;
    }
    r->area_count++;
    r->area_ring_start[r->area_count] = r->ring_count;
    return CS_OK;
}

/* ------------------------------------------------------------ grid pieces */

static bool add_piece(cs_pieces *out, double x, double y, double m2)
{
    if (out->count == out->cap) {
        size_t cap = out->cap;
        if (!cs_grow((void **)&out->x, &cap, out->count + 1, sizeof *out->x))
            return false;
        cap = out->cap;
        if (!cs_grow((void **)&out->y, &cap, out->count + 1, sizeof *out->y))
            return false;
        cap = out->cap;
        if (!cs_grow((void **)&out->m2, &cap, out->count + 1, sizeof *out->m2))
            return false;
        out->cap = cap;
    }
    out->x[out->count] = x;
    out->y[out->count] = y;
    out->m2[out->count++] = m2;
    return true;
}

/* The centroid and area of a polygonal g as one piece (nothing when its area is 0). */
static cs_status whole_piece(cs_geos h, const GEOSGeometry *g, cs_pieces *out)
{
    double m2 = 0, x = 0, y = 0;
    if (!GEOSArea_r(h, g, &m2))
        return CS_ERR_INTERNAL;
    if (!(m2 > 0))
        return CS_OK;
    GEOSGeometry *c = GEOSGetCentroid_r(h, g);
    bool ok = c && GEOSGeomGetX_r(h, c, &x) && GEOSGeomGetY_r(h, c, &y);
    if (c)
        GEOSGeom_destroy_r(h, c);
    if (!ok)
        return CS_ERR_INTERNAL;
    return add_piece(out, x, y, m2) ? CS_OK : CS_ERR_NOMEM;
}

static GEOSGeometry *box_polygon(cs_geos h, double x0, double y0, double x1, double y1)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, 5, 2);
    if (!seq)
        return NULL;
    double xs[5] = {x0, x1, x1, x0, x0}, ys[5] = {y0, y0, y1, y1, y0};
    for (unsigned i = 0; i < 5; i++)
        GEOSCoordSeq_setXY_r(h, seq, i, xs[i], ys[i]);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(h, seq);
    return ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
}

/* Pieces smaller than this share of a grid cell are rounding slivers. */
#define SLIVER 1e-6

/* One grid cell's share of g: the whole cell when g holds it, else the intersection. */
static cs_status cell_piece(cs_geos h, const GEOSGeometry *g, const GEOSPreparedGeometry *pg,
                            double x0, double y0, double cell_m, cs_pieces *out)
{
    GEOSGeometry *cell = box_polygon(h, x0, y0, x0 + cell_m, y0 + cell_m);
    if (!cell)
        return CS_ERR_INTERNAL;
    cs_status st = CS_OK;
    char inside = GEOSPreparedContainsProperly_r(h, pg, cell);
    if (inside == 1) {
        st = add_piece(out, x0 + cell_m / 2, y0 + cell_m / 2, cell_m * cell_m) ? CS_OK
                                                                               : CS_ERR_NOMEM;
    } else if (inside == 0 && GEOSPreparedIntersects_r(h, pg, cell) == 1) {
        GEOSGeometry *part = GEOSIntersection_r(h, g, cell);
        double m2 = 0;
        if (part && !GEOSArea_r(h, part, &m2))
            st = CS_ERR_INTERNAL;
        /* slivers where g's edge runs along a grid line up to rounding are not pieces */
        else if (part && m2 > SLIVER * cell_m * cell_m)
            st = whole_piece(h, part, out);
        else if (!part)
            st = CS_ERR_INTERNAL;
        if (part)
            GEOSGeom_destroy_r(h, part);
    } else if (inside != 0) {
        st = CS_ERR_INTERNAL;
    }
    GEOSGeom_destroy_r(h, cell);
    return st;
}

cs_status cs_geom_grid_pieces(cs_geos h, const cs_geom *g, double cell_m, double x0,
                              double y0, cs_pieces *out)
{
    double xmin, ymin, xmax, ymax;
    if (GEOSisEmpty_r(h, g))
        return CS_OK;
    if (!GEOSGeom_getXMin_r(h, g, &xmin) || !GEOSGeom_getYMin_r(h, g, &ymin) ||
        !GEOSGeom_getXMax_r(h, g, &xmax) || !GEOSGeom_getYMax_r(h, g, &ymax))
        return CS_ERR_INTERNAL;
    if (!(cell_m > 0) || (xmax - xmin <= cell_m && ymax - ymin <= cell_m &&
                          floor((xmin - x0) / cell_m) == floor((xmax - x0) / cell_m) &&
                          floor((ymin - y0) / cell_m) == floor((ymax - y0) / cell_m)))
        return whole_piece(h, g, out);
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    if (!pg)
        return CS_ERR_INTERNAL;
    cs_status st = CS_OK;
    double c0 = floor((xmin - x0) / cell_m), c1 = floor((xmax - x0) / cell_m);
    double r0 = floor((ymin - y0) / cell_m), r1 = floor((ymax - y0) / cell_m);
    for (double r = r0; st == CS_OK && r <= r1; r++)
        for (double c = c0; st == CS_OK && c <= c1; c++)
            st = cell_piece(h, g, pg, x0 + c * cell_m, y0 + r * cell_m, cell_m, out);
    GEOSPreparedGeom_destroy_r(h, pg);
    return st;
}

cs_status cs_pieces_append(cs_pieces *dst, const cs_pieces *src)
{
    for (size_t i = 0; i < src->count; i++)
        if (!add_piece(dst, src->x[i], src->y[i], src->m2[i]))
            return CS_ERR_NOMEM;
    return CS_OK;
}

void cs_pieces_free(cs_pieces *p)
{
    cs_free(p->x);
    cs_free(p->y);
    cs_free(p->m2);
    memset(p, 0, sizeof *p);
}

bool cs_geom_bounds(cs_geos h, const cs_geom *g, double box[4])
{
    return !GEOSisEmpty_r(h, g) && GEOSGeom_getXMin_r(h, g, &box[0]) &&
           GEOSGeom_getYMin_r(h, g, &box[1]) && GEOSGeom_getXMax_r(h, g, &box[2]) &&
           GEOSGeom_getYMax_r(h, g, &box[3]);
}

cs_geom *cs_geom_ring_polygon(cs_geos h, const double *x, const double *y, size_t n)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)n + 1, 2);
    if (!seq)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        GEOSCoordSeq_setXY_r(h, seq, (unsigned)i, x[i % n], y[i % n]);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(h, seq);
    return ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
}

cs_geom *cs_geom_cells_union(cs_geos h, const cs_rings *cells)
{
    size_t n = cells->area_count;
    GEOSGeometry **parts = cs_calloc(n ? n : 1, sizeof *parts);
    if (!parts)
        return NULL;
    size_t made = 0;
    for (; made < n; made++)
        if (!(parts[made] = one_polygon(h, cells, made)))
            break;
    GEOSGeometry *coll = NULL, *u = NULL;
    if (made == n)
        coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    if (!coll) {
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    } else {
        /* cells share edges exactly and never overlap: a coverage, dissolved edge by
         * edge without the general overlay */
        u = n ? GEOSCoverageUnion_r(h, coll) : GEOSGeom_createEmptyPolygon_r(h);
        GEOSGeom_destroy_r(h, coll);
    }
    cs_free(parts);
    return u;
}

cs_geom *cs_geom_clip_box(cs_geos h, const cs_geom *g, const double box[4])
{
    GEOSGeometry *c = GEOSClipByRect_r(h, g, box[0], box[1], box[2], box[3]);
    if (!c)
        return NULL;
    bool failed = false;
    cs_geom *poly = polygonal_part(h, c, &failed);
    GEOSGeom_destroy_r(h, c);
    if (failed)
        return NULL;
    return poly ? poly : GEOSGeom_createEmptyPolygon_r(h);
}

/* ------------------------------------------------------------ overlaps between areas */

typedef struct candidates {
    size_t *list, count, cap;
    bool failed;
} candidates;

static void note_candidate(void *item, void *user)
{
    candidates *c = user;
    if (!cs_grow((void **)&c->list, &c->cap, c->count + 1, sizeof *c->list)) {
        c->failed = true;
        return;
    }
    c->list[c->count++] = (size_t)(uintptr_t)item;
}

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The polygonal part of a ∩ b when it has positive area, else NULL (*failed on error).
 * Both are first clipped to the common part of their boxes, where the whole of a ∩ b
 * lies: neighbours share a strip of their boxes, and the overlay costs by vertices. */
static cs_geom *shared_area(cs_geos h, const GEOSGeometry *a, const GEOSGeometry *b,
                            bool *failed)
{
    double ba[4], bb[4];
    GEOSGeometry *ca = NULL, *cb = NULL;
    if (cs_geom_bounds(h, a, ba) && cs_geom_bounds(h, b, bb)) {
        /* a margin keeps the clip's new edges off the shapes' shared boundary */
        double m = 1e-6 * fmax(fmax(ba[2] - ba[0], ba[3] - ba[1]), 1.0);
        double box[4] = {fmax(ba[0], bb[0]) - m, fmax(ba[1], bb[1]) - m,
                         fmin(ba[2], bb[2]) + m, fmin(ba[3], bb[3]) + m};
        ca = cs_geom_clip_box(h, a, box);
        cb = ca ? cs_geom_clip_box(h, b, box) : NULL;
        if (!ca || !cb) { /* GEOS 3.11's clipping fails on a few shapes */
            cs_geom_destroy(h, ca);
            ca = cb = NULL;
        }
    }
    GEOSGeometry *i = GEOSIntersection_r(h, ca ? ca : a, cb ? cb : b);
    cs_geom_destroy(h, ca);
    cs_geom_destroy(h, cb);
    if (!i) {
        *failed = true;
        return NULL;
    }
    cs_geom *poly = polygonal_part(h, i, failed);
    GEOSGeom_destroy_r(h, i);
    double m2 = 0;
    if (poly && (!GEOSArea_r(h, poly, &m2) || !(m2 > 0))) {
        GEOSGeom_destroy_r(h, poly);
        poly = NULL;
    }
    return poly;
}

cs_status cs_geom_overlaps(cs_geos h, cs_geom *const *geoms, size_t n, cs_geom_overlap **out,
                           size_t *count)
{
    *out = NULL;
    *count = 0;
    if (n < 2)
        return CS_OK;
    cs_status st = CS_ERR_NOMEM;
    candidates c = {0};
    cs_geom_overlap *found = NULL;
    size_t nfound = 0, cap = 0;
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    if (!tree)
        goto done;
    for (size_t i = 0; i < n; i++)
        GEOSSTRtree_insert_r(h, tree, geoms[i], (void *)(uintptr_t)i);
    for (size_t i = 0; i < n; i++) {
        c.count = 0;
        GEOSSTRtree_query_r(h, tree, geoms[i], note_candidate, &c);
        if (c.failed)
            goto done;
        /* the tree's order is its own: pairs are visited in (i, j) order */
        qsort(c.list, c.count, sizeof *c.list, compare_size);
        const GEOSPreparedGeometry *pg = NULL;
        for (size_t k = 0; k < c.count; k++) {
            size_t j = c.list[k];
            if (j <= i)
                continue;
            if (!pg && !(pg = GEOSPrepare_r(h, geoms[i]))) {
                st = CS_ERR_INTERNAL;
                goto done;
            }
            /* boxes that meet while the shapes do not cost no overlay */
            char meets = GEOSPreparedIntersects_r(h, pg, geoms[j]);
            if (meets == 2) {
                GEOSPreparedGeom_destroy_r(h, pg);
                st = CS_ERR_INTERNAL;
                goto done;
            }
            if (meets != 1)
                continue;
            bool failed = false;
            cs_geom *shared = shared_area(h, geoms[i], geoms[j], &failed);
            if (failed || (shared && !cs_grow((void **)&found, &cap, nfound + 1,
                                              sizeof *found))) {
                cs_geom_destroy(h, shared);
                GEOSPreparedGeom_destroy_r(h, pg);
                st = failed && !cs_take_nomem() ? CS_ERR_INTERNAL : CS_ERR_NOMEM;
                goto done;
            }
            if (shared)
                found[nfound++] = (cs_geom_overlap){i, j, shared};
        }
        if (pg)
            GEOSPreparedGeom_destroy_r(h, pg);
    }
    st = CS_OK;
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    cs_free(c.list);
    if (st != CS_OK) {
        for (size_t k = 0; k < nfound; k++)
            cs_geom_destroy(h, found[k].geom);
        cs_free(found);
        return st;
    }
    *out = found;
    *count = nfound;
    return CS_OK;
}

cs_geom *cs_geom_difference(cs_geos h, const cs_geom *a, const cs_geom *b)
{
    GEOSGeometry *d = GEOSDifference_r(h, a, b);
    if (!d)
        return NULL;
    bool failed = false;
    cs_geom *poly = polygonal_part(h, d, &failed);
    GEOSGeom_destroy_r(h, d);
    if (failed)
        return NULL;
    return poly ? poly : GEOSGeom_createEmptyPolygon_r(h);
}

cs_status cs_geom_holes(cs_geos h, const cs_geom *g, cs_geom ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    int type = GEOSGeomTypeId_r(h, g);
    int n = type == GEOS_POLYGON ? 1 : type == GEOS_MULTIPOLYGON ? GEOSGetNumGeometries_r(h, g) : 0;
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *poly = type == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, i);
        int holes = GEOSisEmpty_r(h, poly) == 1 ? 0 : GEOSGetNumInteriorRings_r(h, poly);
        for (int k = 0; k < holes; k++) {
            const GEOSGeometry *ring = GEOSGetInteriorRingN_r(h, poly, k);
            GEOSGeometry *shell = ring ? GEOSGeom_clone_r(h, ring) : NULL;
            GEOSGeometry *hole = shell ? GEOSGeom_createPolygon_r(h, shell, NULL, 0) : NULL;
            if (!hole || !cs_grow((void **)out, &cap, *count + 1, sizeof **out)) {
                if (hole)
                    GEOSGeom_destroy_r(h, hole);
                else if (shell)
                    GEOSGeom_destroy_r(h, shell);
                for (size_t q = 0; q < *count; q++)
                    GEOSGeom_destroy_r(h, (*out)[q]);
                cs_free(*out);
                *out = NULL;
                *count = 0;
                return CS_ERR_NOMEM;
            }
            (*out)[(*count)++] = hole;
        }
    }
    return CS_OK;
}

bool cs_geom_point_on(cs_geos h, const cs_geom *g, double *x, double *y)
{
    GEOSGeometry *p = GEOSPointOnSurface_r(h, g);
    bool ok = p && GEOSisEmpty_r(h, p) == 0 && GEOSGeomGetX_r(h, p, x) && GEOSGeomGetY_r(h, p, y);
    if (p)
        GEOSGeom_destroy_r(h, p);
    return ok;
}

int cs_geom_covers_xy(cs_geos h, const cs_geom *g, double x, double y)
{
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, x, y);
    if (!p)
        return -1;
    char r = GEOSCovers_r(h, g, p);
    GEOSGeom_destroy_r(h, p);
    return r == 2 ? -1 : r;
}

int cs_geom_intersects(cs_geos h, const cs_geom *a, const cs_geom *b)
{
    char r = GEOSIntersects_r(h, a, b);
    return r == 2 ? -1 : r;
}

cs_status cs_geom_bordering(cs_geos h, cs_geom *const *areas, size_t n, cs_geom *const *targets,
                            size_t m, long (*out)[2])
{
    for (size_t t = 0; t < m; t++)
        out[t][0] = out[t][1] = -1;
    if (n == 0 || m == 0)
        return CS_OK;
    cs_status st = CS_ERR_NOMEM;
    candidates c = {0};
    const GEOSPreparedGeometry **prep = cs_calloc(n, sizeof *prep);
    GEOSSTRtree *tree = prep ? GEOSSTRtree_create_r(h, 10) : NULL;
    if (!tree)
        goto done;
    for (size_t i = 0; i < n; i++)
        GEOSSTRtree_insert_r(h, tree, areas[i], (void *)(uintptr_t)i);
    for (size_t t = 0; t < m; t++) {
        c.count = 0;
        GEOSSTRtree_query_r(h, tree, targets[t], note_candidate, &c);
        if (c.failed)
            goto done;
        qsort(c.list, c.count, sizeof *c.list, compare_size);
        for (size_t k = 0; k < c.count && out[t][1] < 0; k++) {
            size_t a = c.list[k];
            /* each area is prepared once, when first needed: its segment index then
             * answers every small target around it */
            if (!prep[a] && !(prep[a] = GEOSPrepare_r(h, areas[a]))) {
                st = CS_ERR_INTERNAL;
                goto done;
            }
            char meets = GEOSPreparedIntersects_r(h, prep[a], targets[t]);
            if (meets == 2) {
                st = CS_ERR_INTERNAL;
                goto done;
            }
            if (meets == 1)
                out[t][out[t][0] < 0 ? 0 : 1] = (long)a;
        }
    }
    st = CS_OK;
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    for (size_t i = 0; prep && i < n; i++)
        if (prep[i])
            GEOSPreparedGeom_destroy_r(h, prep[i]);
    cs_free(prep);
    cs_free(c.list);
    return st;
}
