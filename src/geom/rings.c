/*
 * rings.c — the plain ring arrays (cs_rings) that areas travel in between the readers,
 * GEOS and the point index. Builders live with their producers (geom.c, the readers);
 * this file only owns the release, so every holder frees them the same way.
 */
#include "geom/rings.h"

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
