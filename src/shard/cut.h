/*
 * cut.h — what the ways of cutting a study share (careshed shard, inside the library):
 * the cut, a shard's members, and the steps the whole cut (cut.c), the cut reading a
 * population grid by strips (cut_grid.c) and the cut reading a cost matrix as it goes
 * (cut_matrix.c) each take in their own order.
 */
#ifndef CS_SHARD_CUT_H
#define CS_SHARD_CUT_H

#include "access/access.h"
#include "out/files.h"
#include "out/json.h"
#include "shard/network.h"
#include "shard/shard.h"

#include <math.h>

/* A facility or resident this close beyond a reach is still taken: rounding must never
 * leave out one the run finds within it (taking one more costs nothing). */
static inline double with_margin(double reach_m)
{
    return reach_m * (1 + 1e-9) + 1e-6;
}

static inline void grow_box(double box[4], double x, double y)
{
    box[0] = fmin(box[0], x);
    box[1] = fmin(box[1], y);
    box[2] = fmax(box[2], x);
    box[3] = fmax(box[3], y);
}

/* Whether bit b of a bit set is set; set it. */
static inline bool has_bit(const uint64_t *bits, size_t b)
{
    return (bits[b / 64] >> (b % 64)) & 1;
}

static inline void set_bit(uint64_t *bits, size_t b)
{
    bits[b / 64] |= (uint64_t)1 << (b % 64);
}

typedef struct cut {
    const cs_config *cfg;
    const cs_study *s;
    size_t parts;
    long *shard_of;  /* area -> shard */
    char cut_id[33];
    char *base_dir; /* the study's folder from / */
    cs_access_extent demand; /* the whole study's, which each shard's cells are laid out for */
    cs_shard_net *net; /* the whole network, when a kind is measured along it */
} cut;

/* A pair of the cost matrix: facility, demand point, cost. */
typedef struct pair {
    uint32_t f, i;
    double cost;
} pair;

/* One shard's members. */
typedef struct members {
    size_t *own, own_n;   /* demand points */
    size_t *ctx, ctx_n;
    unsigned char *in;    /* demand point -> 1 own, 2 context, 0 neither */
    size_t *fac, fac_n;   /* facilities, in the study's order */
    double residents;
    double box[4];        /* of everything written, padded */
    size_t edges;         /* of the network */
    cs_net_marks marks;   /* where its network must reach */
    pair *pairs;          /* its cost matrix, when read as it is cut: sorted, each once */
    size_t pair_n, pair_cap;
} members;

void cut_members_free(members *m);

/* Areas along a Hilbert curve cut into c->parts runs of about equal residents (pop:
 * each area's), or one shard per value of the areas' field `by`: c->shard_of. */
cs_status cut_partition(cs_context *ctx, cut *c, const double *pop);
cs_status cut_partition_by(cs_context *ctx, cut *c, const char *by);
/* The extent of the whole study's demand, which every shard's patch cells follow. */
void cut_set_extent(cut *c, cs_access_extent e);

/* How near a shard's points and facilities its network must come: its points attach
 * within max_attach_m, and its facilities search as far as the largest reach. */
double cut_network_pad(const cs_study *s);
/* The tiles in which points are attached without the whole graph (cs_net_spots): wide
 * enough that a window's border is a small part of it. */
static inline double cut_tile_m(const cs_study *s)
{
    return 8 * cut_network_pad(s);
}

/* Shard p's own residents, facilities within reach of them, and the context residents
 * within reach of those facilities that kinds with a load capacity weigh. A matrix
 * read as the study is cut gives reaches (the facilities its pairs within reach take to
 * an own resident) and its context later; else NULL. */
cs_status cut_gather(cs_context *ctx, const cut *c, size_t p, const uint64_t *reaches,
                     members *m);
/* The demand points marked context (in 2), in the study's order, into m->ctx (which
 * holds room for them all). */
void cut_list_context(const cs_study *s, members *m);
/* The box of the shard's own and context points (held by the study). */
void cut_points_box(const cs_study *s, const members *m, double box[4]);
/* The box of the shard's areas, points (whose box is given) and facilities, padded past
 * the tolerance, into m->box. */
void cut_shard_box(const cut *c, size_t p, const double points[4], members *m);

/* population.csv: its first line, and a resident's line (id NULL without ids). */
void cut_population_header(cs_buf *b, size_t bands, bool ids);
void cut_population_row(cs_buf *b, const char *id, double x, double y, const double *pop,
                        size_t bands, bool own);
/* The shard's files but its population into set. */
cs_status cut_add_shard_files(cs_context *ctx, const cut *c, size_t p, members *m,
                              cs_outset *set);
/* Shard p's folder in dir. */
void cut_shard_folder(char *folder, size_t size, const char *dir, size_t p);
/* Commit set (or abort it after an error) and free it. */
cs_status cut_finish_set(cs_context *ctx, cs_outset *set, cs_status st);
/* Every file of shard p, its population from the study's points. */
cs_status cut_write_shard(cs_context *ctx, const cut *c, size_t p, members *m,
                          const char *dir);

/* The manifest: its opening, then each shard's entry in order. */
void cut_manifest_begin(cs_json *j, const cut *c);
void cut_manifest_shard(cs_json *j, const cut *c, size_t p, const members *m);

/* Partitioned, the shards gathered and written reading the cost matrix as they go
 * (cut_matrix.c); partitioned and written reading the population grid by strips
 * (cut_grid.c). */
cs_status cut_by_matrix(cs_context *ctx, const cut *c, const char *dir, cs_json *j);
cs_status cut_by_strips(cs_context *ctx, cut *c, const char *by, const char *dir, cs_json *j);

#endif
