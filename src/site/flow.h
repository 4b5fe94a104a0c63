/*
 * flow.h — the transportation problem of the capacitated models: residents' demand
 * sent to facilities with room, at the least cost, solved exactly (site/flow.c).
 */
#ifndef CS_SITE_FLOW_H
#define CS_SITE_FLOW_H

#include "core/core.h"

#include <stdint.h>

/* In whole units: source i supplies supply[i] over its arcs first[i] .. first[i + 1),
 * arc a to sink to[a] at cost[a] a unit, and leaves what no sink takes unserved at
 * bypass[i] a unit; sink j takes at most capacity[j]. Every cost is >= 0. */
typedef struct cs_transport {
    size_t sources, sinks;
    const int64_t *supply, *bypass, *capacity, *cost;
    const size_t *first;
    const uint32_t *to;
} cs_transport;

/* The least-cost flow (primal network simplex on strongly feasible trees, Cunningham
 * 1976, with block search pricing): flow[a] on each arc (room for first[sources]),
 * unserved[i] of each source, *total the cost. Errors: NOMEM. */
cs_status cs_transport_solve(const cs_transport *t, int64_t *flow, int64_t *unserved,
                             double *total);

#endif
