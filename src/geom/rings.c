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
