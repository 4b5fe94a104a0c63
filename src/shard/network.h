/*
 * network.h — the walking network of a study in shards (careshed shard).
 *
 * The cut does not build the whole network's graph. For each shard it builds the graph
 * of the pieces of lines near the shard (a window), grown until, over the box it was
 * asked for, its edges are the whole graph's: the same pieces, split and snapped alike,
 * in the same order (window.c says why; with node_crossings a window is the whole
 * network). Each shard gets those edges that come near it, in that
 * order, and builds its own graph from them without snapping or noding again, its nodes
 * numbered along the Morton curve of the box of every line's vertices
 * (shard.network_box), as a single run numbers them. Within the reach of its facilities
 * the shard's graph is then the whole graph's: the same edges in the same order at
 * every node, the same node order, every edge's length and cost summed the same way,
 * every point attached to the same place. So every search from a shard's facility visits
 * the same nodes in the same order and sums the same doubles.
 */
#ifndef CS_SHARD_NETWORK_H
#define CS_SHARD_NETWORK_H

#include "net/network.h"

/* Boxes (x0, y0, x1, y1), as the windows use them. */
static inline bool cs_box_meets(const double a[4], const double b[4])
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static inline bool cs_box_within(const double a[4], const double b[4]) /* a within b */
{
    return a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
}

static inline void cs_box_padded(const double in[4], double d, double out[4])
{
    out[0] = in[0] - d, out[1] = in[1] - d, out[2] = in[2] + d, out[3] = in[3] + d;
}

static inline void cs_box_join(double a[4], const double b[4])
{
    a[0] = a[0] < b[0] ? a[0] : b[0], a[1] = a[1] < b[1] ? a[1] : b[1];
    a[2] = a[2] > b[2] ? a[2] : b[2], a[3] = a[3] > b[3] ? a[3] : b[3];
}

static inline bool cs_box_holds(const double b[4], double x, double y)
{
    return x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
}

/* The box of edge e's polyline. */
static inline void cs_edge_box(const cs_graph *g, size_t e, double b[4])
{
    size_t a = g->edge_vstart[e];
    cs_box_of(g->vx + a, g->vy + a, g->edge_vstart[e + 1] - a, b);
}

/* The graph of the lines near a box. */
typedef struct cs_net_window {
    cs_lines lines;           /* the lines taken, in the study's order */
    size_t *line_of;          /* each one's index among the study's lines */
    cs_graph graph;
    cs_segment_index *index;  /* over its edges, to attach points */
    double exact[4];          /* over this box its edges are the whole graph's */
    bool built;
} cs_net_window;

/* The lines by the cells of a grid their boxes meet, so that a window finds its lines
 * without looking at every line's box (a strip cut builds one window a tile). */
typedef struct cs_line_grid {
    double x0, y0, cell; /* square cells `cell` wide from (x0, y0) */
    size_t nx, ny;
    size_t *at;          /* nx * ny + 1: cell c holds lines line[at[c] .. at[c + 1]) */
    size_t *line;
    size_t *wide;        /* lines over too many cells to list in each: in every answer */
    size_t wide_n;
} cs_line_grid;

/*
 * The network's lines as the cut holds them (lines.c): the study's, or for a network
 * left to read (net.streamed) those near the windows lately built, at most
 * shard.network_memory_mb of them, the network read again for others.
 */
typedef struct cs_line_cache cs_line_cache;
cs_status cs_line_cache_create(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                               cs_line_cache **out);
void cs_line_cache_destroy(cs_line_cache *c);
struct cs_shard_net;
/* Hold lines[] (n, ascending), which meet box w: when some are not held, the network is
 * read again for the lines meeting w grown as far as they fit. Errors: CS_ERR_NOMEM,
 * CS_ERR_INPUT (the network cannot be read again, or changed since the study was
 * loaded). */
cs_status cs_line_cache_hold(cs_line_cache *c, const struct cs_shard_net *sn,
                             const double w[4], const long *lines, size_t n);
/* The lines held; study line i held is their line cs_line_cache_at(c, i). */
const cs_lines *cs_line_cache_lines(const cs_line_cache *c);
size_t cs_line_cache_at(const cs_line_cache *c, size_t line);
/* The network's readings again: how many, how many by window, the features read. */
const cs_network_reading *cs_line_cache_readings(const cs_line_cache *c);

typedef struct cs_shard_net {
    const cs_study *s;
    cs_line_cache *lines; /* their vertices */
    size_t line_count;
    double box[4];      /* the box of every line's vertices, which numbers the nodes */
    const double *line_box; /* 4 per line: each line's box (the study's when streamed) */
    double *own_box;    /* line_box when made here */
    cs_line_grid grid;  /* over line_box */
    cs_net_window win;  /* the window of shard `part` */
    size_t part;
    size_t first_line;  /* the line of the whole graph's first edge */
    cs_lines first;     /* that edge, as one line (every shard's file holds it) */
} cs_shard_net;

/* The network of study s (loaded with cfg), ready to cut: the lines' boxes and the whole
 * graph's first edge. Errors: CS_ERR_INPUT (no edge of positive length, as a run says;
 * the network cannot be read again), CS_ERR_NOMEM. */
cs_status cs_shard_net_begin(cs_context *ctx, const cs_config *cfg, const cs_study *s,
                            cs_shard_net *out);
void cs_shard_net_free(cs_shard_net *sn);

/* The lines whose box meets box w, ascending, into a new array of *n (NULL without
 * memory; the caller frees it). */
long *cs_shard_net_lines_meeting(const cs_shard_net *sn, const double w[4], size_t *n);

/* Forget the window (another shard's lies elsewhere), unless it is shard part's. */
void cs_shard_net_for(cs_shard_net *sn, size_t part);

/*
 * Make sure the window's edges are the whole graph's over box q (x0, y0, x1, y1): keep it
 * when they are, else build it again over q and what it already covered. Errors:
 * CS_ERR_NOMEM, and CS_ERR_INPUT when lines not held cannot be read again (said in the
 * cut's context: cs_line_cache_hold).
 */
cs_status cs_net_window_cover(cs_shard_net *sn, const double q[4]);
/* The same for a window of the caller's (zeroed at first), not the shard's. */
cs_status cs_net_window_make(const cs_shard_net *sn, cs_net_window *win, const double q[4]);
void cs_net_window_free(cs_net_window *w);

/*
 * Mark as context (in[i] = 2, unless already marked) every demand point on an edge that a
 * search of `reach_m` from one of the n facilities fac[] can list: an edge with an end
 * within reach_m of one of them in a straight line, or a facility's own edge. A 2SFCA
 * step one weighs an edge's points one by one or all at once as their bounds decide, so
 * the shard must hold all of them. Errors: CS_ERR_NOMEM.
 */
cs_status cs_shard_net_context(cs_shard_net *sn, const size_t *fac, size_t n, double reach_m,
                               int threads, unsigned char *in);

/*
 * Where points attach on the whole graph, which is never built (attach.c): the points
 * by square tiles tile_m wide, each tile's attached in window win (the caller's, left
 * as the last tile's), on up to `threads` threads. First the own edges of some
 * facilities, then, for each point, the ends of its edge and the facilities whose own
 * edge it is. Errors: CS_ERR_NOMEM.
 */
typedef struct cs_net_owners {
    size_t n;              /* facilities attached to an edge */
    size_t *fac;           /* each one's facility */
    uint64_t *hash;        /* of its edge's line and polyline */
    size_t *line, *start;  /* the edge's line; start: n + 1 into x, y, its polyline */
    double *x, *y;
    size_t *order;         /* the n by edge (hash, line, polyline), then as given */
} cs_net_owners;

cs_status cs_net_owners_make(const cs_shard_net *sn, cs_net_window *win, const size_t *fac,
                             size_t n, double tile_m, int threads, cs_net_owners *out);
void cs_net_owners_free(cs_net_owners *o);

typedef struct cs_net_spot {
    double ux, uy, vx, vy;   /* the ends of the point's edge (NaN: it attaches to none) */
    size_t own_from, own_to; /* the owners (o->order[from..to)) whose own edge it is */
} cs_net_spot;

cs_status cs_net_spots(const cs_shard_net *sn, cs_net_window *win, const cs_net_owners *o,
                       const double *x, const double *y, size_t n, double tile_m, int threads,
                       cs_net_spot *out);

/* Where a shard's network must reach: cells pad_m wide over the box of every line's
 * vertices (at most 4096 a side), each marked near a point of the shard (own or context)
 * or one of its facilities, and the box of those. */
typedef struct cs_net_marks {
    double x0, y0, w;
    size_t nx, ny;
    size_t *cell, n, cap; /* the cells marked, from (-1, -1): a point a cell past the
                             network's box marks one, one farther out none */
    size_t last;          /* the cell marked last */
    double box[4];
    bool failed;          /* out of memory */
} cs_net_marks;

void cs_net_marks_begin(const cs_shard_net *sn, double pad_m, cs_net_marks *mk);
void cs_net_marks_add(cs_net_marks *mk, double x, double y);
void cs_net_marks_free(cs_net_marks *mk);

/* The shard's network file (GeoJSON, working CRS): every edge that may pass within pad_m
 * of a point marked in mk or its n facilities fac[] (marked here), and the whole graph's
 * first edge, in the whole graph's order, with its speed factor; *edges counts them.
 * Edges are taken by cells pad_m wide, so a few more come than are needed. Errors:
 * CS_ERR_NOMEM. */
cs_status cs_shard_net_file(cs_shard_net *sn, cs_net_marks *mk, const size_t *fac, size_t n,
                            cs_buf *b, size_t *edges);

#endif
