/*
 * graph.h — the walking network as a compact graph (CSR arrays), and where points
 * (residents, facilities) attach to it.
 *
 * Lines from the network layer are split at shared vertices into edges; vertices
 * closer than a snap tolerance become one node; crossings without a shared vertex
 * stay unconnected (bridges, tunnels) unless the caller asks to node them. Each edge
 * keeps its polyline, so a point can attach anywhere along it and a search can stop
 * part-way along it.
 *
 * Costs are "walking metres": an edge's geometric length divided by its speed factor
 * (steps at 0.5 cost twice their length), so thresholds in metres at walking speed
 * apply unchanged.
 */
#ifndef CS_NET_GRAPH_H
#define CS_NET_GRAPH_H

#include "geom/rings.h"

#include <stdint.h>

/* One slot of a node's adjacency: an edge at the node, 16 bytes. */
typedef struct cs_adj {
    double cost_m; /* the edge's walking metres */
    uint32_t node; /* the node at its other end */
    uint32_t edge;
} cs_adj;

typedef struct cs_graph {
    size_t node_count, edge_count;
    double *node_x, *node_y;   /* numbered along a Morton curve: near nodes near in memory */

    /* edges (undirected) */
    uint32_t *edge_u, *edge_v; /* end nodes; the polyline runs from u to v */
    double *edge_len_m;        /* geometric length along the polyline (> 0) */
    double *edge_cost_m;       /* walking metres: edge_len_m / speed factor */
    size_t *edge_vstart;       /* edge_count + 1 offsets into vx/vy */
    double *vx, *vy;           /* edge polylines, node u's point first, node v's last */
    uint32_t *edge_line;       /* the line each edge comes from (edges follow the lines) */

    /* adjacency (CSR): node n's slots are adj[adj_start[n] .. adj_start[n+1]); a slot
       holds all a search reads of it, so that settling a node reads one run of memory
       (the searches' hot loop: on big networks every settled node is a cache miss) */
    size_t *adj_start;
    cs_adj *adj;

    /* connected components, numbered by decreasing total length (0 = largest) */
    uint32_t *node_component;
    size_t component_count;
    double *component_len_m;
    double total_len_m;

    /* what building did, for the network report */
    size_t snapped_vertices;   /* vertices moved onto another within the tolerance */
    size_t noded_crossings;    /* crossings given a shared node (node_crossings only) */
    size_t dropped_segments;   /* zero-length segments left out */
} cs_graph;

/*
 * Build the graph of lines. snap_m: vertices within this distance are merged into one
 * node (clusters are formed deterministically: the same input gives the same graph).
 * node_crossings: also split segments where they cross without a shared vertex.
 * Errors: CS_ERR_NOMEM only (a graph with no edges is valid; the caller reports it).
 */
cs_status cs_graph_build(const cs_lines *lines, double snap_m, bool node_crossings,
                         cs_graph *out);
/* The same, with the nodes numbered along the Morton curve of box (x0, y0, x1, y1) rather
 * than of the lines' box: a part of a network cut out with its nodes in box keeps the
 * whole network's node order (careshed shard). NULL = the box of the lines' vertices
 * (cs_lines_box), which a cut knows without building the whole graph. */
cs_status cs_graph_build_boxed(const cs_lines *lines, double snap_m, bool node_crossings,
                               const double *box, cs_graph *out);
void cs_graph_free(cs_graph *g);

/* The box of every vertex of the lines (NaN coordinates passed over). */
void cs_lines_box(const cs_lines *lines, double box[4]);

/* Where points attach to the network: the nearest point on the nearest edge. */
typedef struct cs_attach {
    size_t count;
    long *edge;       /* edge index, -1 = off-network (farther than max_m, or no edge) */
    double *along_m;  /* geometric distance from edge_u along the polyline */
    double *access_m; /* straight-line distance from the point to the network; it
                         counts toward the point's cost (INFINITY when off-network) */
} cs_attach;

void cs_attach_free(cs_attach *a);

/* The attached points by edge (CSR, by a counting sort): edge e's are
 * of[first[e] .. first[e + 1]), in point order; only those kept (keep NULL: all).
 * first has edge_count + 2 slots. False when out of memory (nothing allocated). */
bool cs_attach_by_edge(const cs_graph *g, const cs_attach *pts, const unsigned char *keep,
                       size_t **first, size_t **of);

/* A spatial index over every segment of every edge. */
typedef struct cs_segment_index cs_segment_index;

cs_status cs_segment_index_create(const cs_graph *g, cs_segment_index **out);
void cs_segment_index_destroy(cs_segment_index *index);

/*
 * Attach n points to their nearest edge within max_m, on up to `threads` threads
 * (0 = all); results identical for any thread count (equal distances go to the lowest
 * edge index, then the smallest along_m). Errors: CS_ERR_NOMEM.
 */
cs_status cs_attach_points(const cs_graph *g, const cs_segment_index *index, const double *x,
                           const double *y, size_t n, double max_m, int threads,
                           cs_attach *out);

/* Cut edge e's polyline between along-distances a_m <= b_m (clamped to the edge) and
 * append the vertices to x/y (grown with cs_grow; *cap is their capacity). Returns
 * the number of vertices appended (>= 2), or 0 when memory runs out. */
size_t cs_graph_cut(const cs_graph *g, size_t e, double a_m, double b_m, double **x,
                    double **y, size_t *len, size_t *cap);

/* The point at along-distance t_m on edge e. */
void cs_graph_point_at(const cs_graph *g, size_t e, double t_m, double *x, double *y);

#endif
