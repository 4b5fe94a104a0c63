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

/* The solver's state, to change and solve again from where it is. */
typedef struct cs_flow cs_flow;
/* The problem's state, not yet solved, each sink's arc to the root costing
 * sink_cost[j] a unit (NULL: 0). *out NULL on failure. Errors: NOMEM. */
cs_status cs_flow_create(const cs_transport *t, const int64_t *sink_cost, cs_flow **out);
/* Sink j's arc to the root costs `cost` a unit from now (0: open; more than any
 * bypass: closed, as no unit will take it). */
void cs_flow_set_sink_cost(cs_flow *s, size_t j, int64_t cost);
/* Pivot to the least-cost flow from the state as it is. */
void cs_flow_optimise(cs_flow *s);
/* The flow on each pair arc (flow may be NULL) and each source's unserved units
 * (unserved may be NULL); returns their cost (the sinks' own costs left out). */
double cs_flow_read(const cs_flow *s, int64_t *flow, int64_t *unserved);
/* dst, made by cs_flow_create from the same problem as src, becomes src (only the sinks'
 * costs may differ between such states). Errors: ARGUMENT (another problem's size). */
cs_status cs_flow_copy(cs_flow *dst, const cs_flow *src);
void cs_flow_destroy(cs_flow *s);

#endif
