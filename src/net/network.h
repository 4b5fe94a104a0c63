/*
 * network.h — the walking network of a study, ready to search: the graph built from
 * the study's lines, every demand point and facility attached to it, and what a
 * planner should know about it (the network report). Built once per run.
 */
#ifndef CS_NET_NETWORK_H
#define CS_NET_NETWORK_H

#include "io/study.h"
#include "net/search.h"

/* A component holding less than this share of the network's length is a "small
 * island": points attached there are reported, since few facilities can reach them. */
#define CS_ISLAND_SHARE 0.01

typedef struct cs_net {
    cs_graph graph;
    cs_segment_index *index;
    cs_attach demand;       /* one per demand point */
    cs_attach facilities;   /* one per facility */
    cs_network_report report;
} cs_net;

/*
 * Build the graph of the study's network and attach its points; record warnings for
 * points off the network and on small islands. Errors: CS_ERR_INPUT (no walkable
 * edge), CS_ERR_NOMEM.
 */
cs_status cs_net_prepare(cs_context *ctx, const cs_study *study, cs_net *out);
void cs_net_free(cs_net *net);

/*
 * The network cost field of kind k: one search from all its facilities, bounded by
 * the kind's largest threshold. dist_m/nearest as in cs_cost_field_compute (INFINITY
 * and -1 beyond the largest threshold or off the network). The search itself is kept
 * in *field for service areas (free with cs_net_field_free); a field already searched
 * (cs_net_search_kinds) is used as it is. Into *ties (may be NULL) the demand points
 * several facilities reach at the same cheapest cost.
 */
cs_status cs_net_cost_field(cs_context *ctx, const cs_study *study, const cs_net *net,
                            size_t k, cs_net_field *field, double *dist_m, long *nearest,
                            cs_ties *ties);

/* The searches of every kind measured along the network, into fields[k], the kinds
 * side by side on the context's threads (the rest of each cost field follows in
 * cs_net_cost_field). Errors: NOMEM. */
cs_status cs_net_search_kinds(cs_context *ctx, const cs_study *study, const cs_net *net,
                              cs_net_field *fields);

/* The facilities of kind k as search sources: their attachments into *src (free with
 * cs_attach_free) and their study indices into *id (new, cs_free). Errors: NOMEM. */
cs_status cs_net_kind_sources(const cs_facilities *fac, const cs_net *net, size_t k,
                              cs_attach *src, long **id);

#endif
