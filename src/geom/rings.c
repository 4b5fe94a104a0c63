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
