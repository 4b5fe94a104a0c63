/*
 * network.h — the walking network of a study in shards (careshed shard).
 *
 * The cut builds the whole network's graph once. Each shard gets the graph's edges
 * (already split at nodes and snapped) that come near it, in the whole graph's order,
 * and builds its own graph from them without snapping or noding again, its nodes
 * numbered along the whole network's Morton curve (shard.network_box). Within the
 * reach of its facilities the shard's graph is then the whole graph's: the same edges
 * in the same order at every node, the same node order, every edge's length and cost
 * summed the same way, every point attached to the same place. So every search from a
 * shard's facility visits the same nodes in the same order and sums the same doubles.
 */
#ifndef CS_SHARD_NETWORK_H
#define CS_SHARD_NETWORK_H

#include "net/network.h"

typedef struct cs_shard_net {
    cs_net net;       /* the whole study's graph and attachments */
    double box[4];    /* its nodes' box, which numbers them */
    double vbox[4];   /* the box of its edges' every vertex */
    size_t *first;    /* demand points by attached edge: edge e's are of[first[e]..first[e+1]) */
    size_t *of;
} cs_shard_net;

/* The whole network of study s, ready to cut. Errors: as cs_net_prepare. */
cs_status cs_shard_net_begin(cs_context *ctx, const cs_study *s, cs_shard_net *out);
void cs_shard_net_free(cs_shard_net *sn);

/*
 * Mark as context (in[i] = 2, unless already marked) every demand point on an edge that a
 * search of `reach_m` from one of the n facilities fac[] can list: an edge with an end
 * within reach_m of one of them in a straight line, or a facility's own edge. A 2SFCA
 * step one weighs an edge's points one by one or all at once as their bounds decide, so
 * the shard must hold all of them. Errors: CS_ERR_NOMEM.
 */
cs_status cs_shard_net_context(const cs_shard_net *sn, const cs_study *s, const size_t *fac,
                               size_t n, double reach_m, int threads, unsigned char *in);

/* The shard's network file (GeoJSON, working CRS): every edge that may pass within pad_m
 * of one of its points (in[i] != 0) or its n facilities fac[], and the graph's first
 * edge, in the graph's order, with its speed factor; *edges counts them. Edges are
 * taken by cells pad_m wide, so a few more come than are needed. Errors: CS_ERR_NOMEM. */
cs_status cs_shard_net_file(const cs_shard_net *sn, const cs_study *s, const unsigned char *in,
                            const size_t *fac, size_t n, double pad_m, cs_buf *b,
                            size_t *edges);

#endif
