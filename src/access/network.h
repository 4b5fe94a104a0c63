/*
 * network.h — 2SFCA along the walking network by bands of cost (access/network.c): for
 * the decays whose weight is constant over bands of cost (none, steps), each reached
 * edge whose residents all fall in one band counts at once.
 */
#ifndef CS_ACCESS_NETWORK_H
#define CS_ACCESS_NETWORK_H

#include "access/access.h"
#include "net/search.h"

/* Whether spec's weights come in bands of cost (no decay, or steps). */
bool cs_access_network_banded(const cs_access_spec *spec);

/*
 * 2SFCA of F facilities at the attachments fac (supply[j] each; supply <= 0 or NaN:
 * ignored) over the demand points attached as pts (demand[i] people each; <= 0 or NaN:
 * none; points off the network reach nothing and get 0), for a spec with bands. reach:
 * pts by edge (cs_net_reach_create of g and pts, all points kept), shared by the kinds
 * of a run; NULL: made here. Outputs as cs_access_pairs: ratio[F], access[N]. Lists of
 * up to cache_bytes are kept from step one for step two. threads: 0 = all; the results
 * do not depend on it. Errors: CS_ERR_ARGUMENT (a spec without bands), CS_ERR_NOMEM.
 */
cs_status cs_access_network(const cs_access_spec *spec, const cs_graph *g, const cs_attach *fac,
                            const double *supply, size_t F, const cs_attach *pts,
                            const cs_net_reach *reach, const double *demand,
                            size_t cache_bytes, int threads, double *ratio, double *access);

#endif
