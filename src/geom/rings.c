/*
 * rings.c — the plain ring arrays (cs_rings) that areas travel in between the readers,
 * GEOS and the point index. Builders live with their producers (geom.c, the readers);
 * this file owns the release, so every holder frees them the same way, and the box of
 * a set of points.
 */
#include "geom/rings.h"

#include <math.h>
#include <string.h>

void cs_rings_free(cs_rings *rings)
{
    if (!rings)
        return;
    cs_free(rings->x);
    cs_free(rings->y);
    cs_free(rings->ring_start);
    cs_free(rings->area_ring_start);
    memset(rings, 0, sizeof *rings);
}

cs_rings *cs_rings_moved(cs_rings *from)
{
    cs_rings *p = cs_malloc(sizeof *p);
    if (!p) {
        cs_rings_free(from);
        return NULL;
    }
    *p = *from;
    memset(from, 0, sizeof *from);
    p->x = cs_shrink(p->x, p->vertex_count, sizeof *p->x);
    p->y = cs_shrink(p->y, p->vertex_count, sizeof *p->y);
    p->ring_start = cs_shrink(p->ring_start, p->ring_count + 1, sizeof *p->ring_start);
    p->area_ring_start = cs_shrink(p->area_ring_start, p->area_count + 1,
                                   sizeof *p->area_ring_start);
    p->vertex_cap = p->ring_cap = p->area_cap = 0; /* unknown: grown from the counts */
    return p;
}

void cs_rings_destroy(cs_rings *rings)
{
    cs_rings_free(rings);
    cs_free(rings);
}

/* A ring's signed area by the shoelace, its x taken from the first vertex's (less
 * rounding far from the origin), term by term as GEOS's Area::ofRingSigned adds them. */
static double ring_signed_area(const double *x, const double *y, size_t n)
{
    if (n < 3)
        return 0;
    double x0 = x[0], sum = 0;
    for (size_t i = 1; i + 1 < n; i++)
        sum += (x[i] - x0) * (y[i - 1] - y[i + 1]);
    return sum / 2.0;
}

double cs_rings_area_m2(const cs_rings *rings)
{
    double area = 0;
    for (size_t a = 0; a < rings->area_count; a++) {
        double polygon = 0;
        for (size_t r = rings->area_ring_start[a]; r < rings->area_ring_start[a + 1]; r++) {
            size_t start = rings->ring_start[r], n = rings->ring_start[r + 1] - start;
            double part = fabs(ring_signed_area(rings->x + start, rings->y + start, n));
            polygon = r == rings->area_ring_start[a] ? part : polygon - part;
        }
        area += polygon;
    }
    return area;
}

void cs_box_of(const double *x, const double *y, size_t n, double box[4])
{
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        box[0] = fmin(box[0], x[i]); /* fmin: a NaN is passed over */
        box[1] = fmin(box[1], y[i]);
        box[2] = fmax(box[2], x[i]);
        box[3] = fmax(box[3], y[i]);
    }
}

void cs_lines_free(cs_lines *lines)
{
    if (!lines)
        return;
    cs_free(lines->start);
    cs_free(lines->x);
    cs_free(lines->y);
    cs_free(lines->speed);
    cs_free(lines->feature);
    memset(lines, 0, sizeof *lines);
}
