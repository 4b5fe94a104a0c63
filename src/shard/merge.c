/*
 * merge.c — careshed merge: the whole study loaded again from the manifest's keys, every
 * resident's cost fields and accessibility taken from the shard that owns them, and the
 * run made from those as a single run makes it (run/run.h), so that the outputs are the
 * single run's.
 *
 * What a shard cannot know is found here again: a resident whose nearest facility lies
 * beyond every threshold (outside the shard) has it searched among all facilities, and
 * a facility no shard holds reaches no resident (its ratio is 0, as a run gives it).
 */
#include "shard/shard.h"

#include "access/kinds.h"
#include "cost/matrix.h"
#include "cost/nearest.h"
#include "out/shard_results.h"
#include "run/run.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct manifest {
    char *cut, *study, *base_dir;
    size_t parts;
    json_object *root;
    json_object *settings, *shards;
} manifest;

typedef struct merge {
    const char *dir;
    manifest man;
    const cs_study *s;
    long *shard_of;           /* area -> shard */
    bool *missing;            /* per shard: no results (partial) */
    /* the study's points grouped by shard, each shard's in the study's order: shard p's
     * own points are own[own_start[p] .. own_start[p + 1]). One array, not one a shard,
     * so that --spill keeps it out of memory however many shards there are. */
    size_t *own, *own_start;
    cs_idmap fac_ids;
} merge;

static char *folder_of(const merge *m, size_t p, const char *name)
{
    size_t n = strlen(m->dir) + strlen(name) + 16;
    char *path = cs_malloc(n);
    if (path)
        snprintf(path, n, "%s/%04zu/%s", m->dir, p + 1, name);
    return path;
}

/* ------------------------------------------------------------ the manifest */

static const char *text_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static cs_status read_manifest(cs_context *ctx, const char *dir, manifest *man)
{
    size_t n = strlen(dir) + sizeof CS_SHARD_MANIFEST + 2;
    char *path = cs_malloc(n);
    if (!path)
        return cs_nomem(ctx);
    snprintf(path, n, "%s/%s", dir, CS_SHARD_MANIFEST);
    cs_where w = {.file = path};
    cs_input_note(ctx, path, "shards manifest");
    man->root = json_object_from_file(path);
    json_object *parts = NULL;
    cs_status st = CS_OK;
    if (!man->root)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "give the folder careshed shard wrote",
                      "cannot read the shards' manifest (%s)",
                      errno ? strerror(errno) : "not JSON");
    else if (!json_object_object_get_ex(man->root, "settings", &man->settings) ||
             !json_object_is_type(man->settings, json_type_array) ||
             !json_object_object_get_ex(man->root, "shards", &man->shards) ||
             !json_object_is_type(man->shards, json_type_array) ||
             !json_object_object_get_ex(man->root, "parts", &parts) ||
             !text_of(man->root, "cut") || !text_of(man->root, "study") ||
             !text_of(man->root, "base_dir") ||
             json_object_get_int64(parts) != (int64_t)json_object_array_length(man->shards) ||
             json_object_get_int64(parts) < 1)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again with careshed shard",
                      "not a manifest careshed shard wrote, or damaged");
    if (st == CS_OK) {
        man->parts = (size_t)json_object_get_int64(parts);
        man->cut = cs_strdup(text_of(man->root, "cut"));
        man->study = cs_strdup(text_of(man->root, "study"));
        man->base_dir = cs_strdup(text_of(man->root, "base_dir"));
        if (!man->cut || !man->study || !man->base_dir)
            st = cs_nomem(ctx);
    }
    cs_free(path);
    return st;
}

static void manifest_free(manifest *man)
{
    json_object_put(man->root);
    cs_free(man->cut);
    cs_free(man->study);
    cs_free(man->base_dir);
    memset(man, 0, sizeof *man);
}

/* The whole study's settings, as the cut read them. */
static cs_status settings_of(cs_context *ctx, const manifest *man, cs_config **cfg)
{
    cs_status st = cs_config_create(ctx, cfg);
    if (st != CS_OK)
        return st;
    cs_config *c = *cfg;
    c->file = *man->study ? cs_strdup(man->study) : NULL;
    c->base_dir = cs_strdup(man->base_dir);
    if ((*man->study && !c->file) || !c->base_dir)
        return cs_nomem(ctx);
    size_t n = json_object_array_length(man->settings);
    for (size_t i = 0; st == CS_OK && i < n; i++) {
        json_object *pair = json_object_array_get_idx(man->settings, i);
        if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
            return cs_error(ctx, CS_ERR_INPUT, NULL, "cut the study again with careshed shard",
                            "the shards' manifest is damaged (setting %zu)", i + 1);
        st = cs_config_set_at(ctx, c,
                              json_object_get_string(json_object_array_get_idx(pair, 0)),
                              json_object_get_string(json_object_array_get_idx(pair, 1)),
                              c->file, 0);
    }
    return st;
}

/* ------------------------------------------------------------ the shards */

/* Each area's shard, from the manifest's lists of area ids. */
static cs_status place_areas(cs_context *ctx, merge *m)
{
    const cs_study *s = m->s;
    cs_idmap ids = {0};
    m->shard_of = cs_calloc(s->areas.count + 1, sizeof *m->shard_of);
    cs_status st = m->shard_of ? CS_OK : cs_nomem(ctx);
    for (size_t a = 0; st == CS_OK && a < s->areas.count; a++) {
        m->shard_of[a] = -1;
        if (cs_idmap_put(&ids, s->areas.id[a], (long)a) < -1)
            st = cs_nomem(ctx);
    }
    for (size_t p = 0; st == CS_OK && p < m->man.parts; p++) {
        json_object *sh = json_object_array_get_idx(m->man.shards, p), *areas = NULL;
        if (!json_object_object_get_ex(sh, "areas", &areas) ||
            !json_object_is_type(areas, json_type_array)) {
            st = cs_error(ctx, CS_ERR_INPUT, NULL, "cut the study again with careshed shard",
                          "the shards' manifest is damaged (shard %zu)", p + 1);
            break;
        }
        for (size_t i = 0; st == CS_OK && i < json_object_array_length(areas); i++) {
            const char *id = json_object_get_string(json_object_array_get_idx(areas, i));
            long a = id ? cs_idmap_get(&ids, id) : -1;
            if (a < 0 || m->shard_of[a] >= 0)
                st = cs_error(ctx, CS_ERR_INPUT, NULL, "cut the study again with careshed "
                              "shard", "the study's areas are not those it was cut into "
                              "(area %s of shard %zu)", id ? id : "?", p + 1);
            else
                m->shard_of[a] = (long)p;
        }
    }
    for (size_t a = 0; st == CS_OK && a < s->areas.count; a++)
        if (m->shard_of[a] < 0)
            st = cs_error(ctx, CS_ERR_INPUT, NULL, "cut the study again with careshed shard",
                          "area %s of the study is in no shard: it changed since the cut",
                          s->areas.id[a]);
    cs_idmap_free(&ids);
    return st;
}

/* Shard p's own points in the study (*n of them), in the study's order. */
static const size_t *own_of(const merge *m, size_t p, size_t *n)
{
    *n = m->own_start[p + 1] - m->own_start[p];
    return m->own + m->own_start[p];
}

/* Shard p's results r, checked against the study and the cut; *fac (cs_free) maps the
 * shard's facilities to the study's. */
static cs_status check_results(cs_context *ctx, const merge *m, size_t p, const char *path,
                               const cs_shard_results *r, long **fac)
{
    const cs_study *s = m->s;
    cs_where w = {.file = path};
    if (strcmp(r->cut, m->man.cut) != 0 || r->part != (long)p + 1)
        return cs_error(ctx, CS_ERR_INPUT, &w, "run the shard again on its study.yaml",
                        "these results are of another cut of the study (shard %ld)", r->part);
    size_t n;
    const size_t *own = own_of(m, p, &n);
    bool same = r->K == s->settings.kind_count && r->n == n;
    for (size_t k = 0; same && k < r->K; k++)
        same = !strcmp(r->kind_id[k], s->settings.kinds[k].id) &&
               r->measures[k] == s->settings.kinds[k].measures;
    for (size_t q = 0; same && q < r->n; q++)
        same = !memcmp(&r->x[q], &s->dem.x[own[q]], sizeof(double)) &&
               !memcmp(&r->y[q], &s->dem.y[own[q]], sizeof(double));
    if (!same)
        return cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again with careshed shard and "
                        "run the shards",
                        "the shard's residents or kinds are not the study's: its layers or "
                        "settings changed since the cut");
    *fac = cs_calloc(r->F + 1, sizeof **fac);
    if (!*fac)
        return cs_nomem(ctx);
    for (size_t f = 0; f < r->F; f++) {
        (*fac)[f] = cs_idmap_get(&m->fac_ids, r->fac_id[f]);
        if ((*fac)[f] < 0)
            return cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again with careshed shard",
                            "facility %s of the shard is not in the study: it changed since "
                            "the cut", r->fac_id[f]);
    }
    return CS_OK;
}

/* A shard without results, named with its study and its log (an error, or with
 * --partial a warning). */
static void say_missing(cs_context *ctx, const merge *m, size_t p, bool partial)
{
    char *folder = folder_of(m, p, "");
    cs_buf hint;
    cs_buf_init(&hint);
    if (folder) {
        folder[strlen(folder) - 1] = 0; /* no trailing slash */
        cs_buf_printf(&hint, "run it (sbatch --array=%zu %s/" CS_SHARD_SBATCH ", or careshed "
                      "run %s/study.yaml --out %s/out) and see why it failed in its log "
                      "(%s/slurm-*.log under Slurm)%s", p + 1, m->dir, folder, folder, folder,
                      partial ? "" : "; or give --partial to merge the others, marked partial");
    }
    cs_where w = {.file = folder};
    const char *h = hint.failed ? NULL : hint.data;
    if (partial)
        cs_warn(ctx, &w, h, "shard %zu has no results (out/" CS_SHARD_RESULTS_FILE ")", p + 1);
    else
        cs_error(ctx, CS_ERR_INPUT, &w, h, "shard %zu has no results (out/"
                 CS_SHARD_RESULTS_FILE ")", p + 1);
    cs_buf_free(&hint);
    cs_free(folder);
}

/* Each shard's own points, and the shards without results, said before the run. */
static cs_status find_shards(cs_context *ctx, merge *m, bool partial, size_t *missing)
{
    const cs_study *s = m->s;
    size_t P = m->man.parts, N = s->dem.count;
    m->missing = cs_calloc(P, sizeof *m->missing);
    m->own_start = cs_calloc(P + 1, sizeof *m->own_start);
    m->own = cs_calloc(N + 1, sizeof *m->own);
    size_t *at = cs_calloc(P, sizeof *at);
    if (!m->missing || !m->own_start || !m->own || !at) {
        cs_free(at);
        return cs_nomem(ctx);
    }
    for (size_t i = 0; i < N; i++)
        m->own_start[(size_t)m->shard_of[s->dem.area[i]] + 1]++;
    for (size_t p = 0; p < P; p++)
        at[p] = m->own_start[p + 1] += m->own_start[p];
    for (size_t i = N; i-- > 0;)
        m->own[--at[(size_t)m->shard_of[s->dem.area[i]]]] = i;
    cs_free(at);
    for (size_t f = 0; f < s->fac.count; f++)
        if (cs_idmap_put(&m->fac_ids, s->fac.id[f], (long)f) < -1)
            return cs_nomem(ctx);
    cs_status st = CS_OK;
    for (size_t p = 0; p < P; p++) {
        char *path = folder_of(m, p, "out/" CS_SHARD_RESULTS_FILE);
        if (!path)
            return cs_nomem(ctx);
        if (access(path, F_OK) != 0) {
            m->missing[p] = true;
            (*missing)++;
            say_missing(ctx, m, p, partial);
            if (!partial)
                st = CS_ERR_INPUT;
        }
        cs_free(path);
    }
    return st;
}

/* ------------------------------------------------------------ the fields */

/* One field's tied residents, gathered shard by shard (so not in the study's order)
 * before they are sorted into the result: entry e's facilities, as the study's, are
 * fac[e.at .. e.at + e.n). Flat arrays, not one block a resident. */
typedef struct tie_entry {
    size_t pt, at, n;
} tie_entry;

typedef struct tie_list {
    tie_entry *e;
    size_t count, cap;
    long *fac;
    size_t used, fac_cap;
} tie_list;

/* Room for resident pt's n facilities, or NULL without memory. */
static long *tie_list_add(tie_list *t, size_t pt, size_t n)
{
    if (!cs_grow((void **)&t->e, &t->cap, t->count + 1, sizeof *t->e) ||
        !cs_grow((void **)&t->fac, &t->fac_cap, t->used + n, sizeof *t->fac))
        return NULL;
    t->e[t->count++] = (tie_entry){pt, t->used, n};
    t->used += n;
    return t->fac + t->used - n;
}

static void tie_list_free(tie_list *t)
{
    cs_free(t->e);
    cs_free(t->fac);
    memset(t, 0, sizeof *t);
}

static int by_point(const void *a, const void *b)
{
    size_t x = ((const tie_entry *)a)->pt, y = ((const tie_entry *)b)->pt;
    return x < y ? -1 : x > y;
}

/* The list, sorted, as the result's ties. */
static cs_status tie_list_into(tie_list *t, cs_ties *out)
{
    if (t->count)
        qsort(t->e, t->count, sizeof *t->e, by_point);
    for (size_t e = 0; e < t->count; e++)
        if (!cs_ties_add(out, t->e[e].pt, t->fac + t->e[e].at, t->e[e].n))
            return CS_ERR_NOMEM;
    return CS_OK;
}

/* Tie set e of t, as resident pt's, added to the list. */
static cs_status add_tie(const cs_ties *t, size_t e, size_t pt, tie_list *ties)
{
    size_t n = t->start[e + 1] - t->start[e];
    long *to = tie_list_add(ties, pt, n);
    if (!to)
        return CS_ERR_NOMEM;
    memcpy(to, t->fac + t->start[e], n * sizeof *to);
    return CS_OK;
}

/* Field f (of reach `reach`) of shard p's results sr into r: each own resident's cost
 * and nearest facility, and those tied within reach (the others are searched again). */
static cs_status join_field(const merge *m, cs_result *r, size_t p,
                            const cs_shard_results *sr, const long *fac, size_t f,
                            double reach, tie_list *ties)
{
    size_t n;
    const size_t *own = own_of(m, p, &n);
    for (size_t q = 0; q < n; q++) {
        long j = sr->nearest[f][q];
        r->dist_m[f][own[q]] = sr->dist_m[f][q];
        r->nearest[f][own[q]] = j >= 0 ? fac[j] : -1;
    }
    const cs_ties *t = &sr->ties[f];
    for (size_t e = 0; e < t->count; e++) {
        size_t q = t->pt[e], k = t->start[e + 1] - t->start[e];
        if (!(sr->dist_m[f][q] <= reach))
            continue;
        long *to = tie_list_add(ties, own[q], k);
        if (!to)
            return CS_ERR_NOMEM;
        for (size_t j = 0; j < k; j++)
            to[j] = fac[t->fac[t->start[e] + j]];
    }
    return CS_OK;
}

/* Each own resident's accessibility of shard p, and each facility's ratio from the first
 * shard holding it (every shard holding it has all its catchment: the same ratio);
 * seen[k] marks the facilities whose ratio is taken. */
static void join_access(const merge *m, cs_result *r, size_t p, const cs_shard_results *sr,
                        const long *fac, unsigned char **seen)
{
    size_t n;
    const size_t *own = own_of(m, p, &n);
    for (size_t k = 0; k < r->K; k++) {
        if (!r->access[k] || !sr->access[k])
            continue;
        for (size_t q = 0; q < n; q++)
            r->access[k][own[q]] = sr->access[k][q];
        for (size_t j = 0; j < sr->F; j++) {
            long f = fac[j];
            if (m->s->fac.kind[f] == (long)k && !seen[k][f]) {
                r->fac_ratio[k][f] = sr->ratio[k][j];
                seen[k][f] = 1;
            }
        }
    }
}

/* Shard p's results joined into r. */
static cs_status join_shard(const merge *m, cs_result *r, size_t p, const cs_shard_results *sr,
                            const long *fac, tie_list *ties, unsigned char **seen)
{
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        double reach = cs_kind_reach_m(&m->s->settings.kinds[k]);
        for (size_t mm = 0; st == CS_OK && mm < CS_MEASURES; mm++) {
            size_t f = cs_res_field(r, mm, k);
            if (r->dist_m[f])
                st = join_field(m, r, p, sr, fac, f, reach, &ties[f]);
        }
    }
    if (st == CS_OK)
        join_access(m, r, p, sr, fac, seen);
    return st;
}

/* A shard without results (--partial): its residents out of reach. */
static void join_missing(const merge *m, cs_result *r, size_t p)
{
    size_t n;
    const size_t *own = own_of(m, p, &n);
    for (size_t f = 0; f < CS_MEASURES * r->K; f++)
        for (size_t q = 0; r->dist_m[f] && q < n; q++) {
            r->dist_m[f][own[q]] = INFINITY;
            r->nearest[f][own[q]] = -1;
        }
}

/* r's arrays the shards fill: every measured field, and the accessibility and ratios
 * of each kind with a load capacity (a facility no shard holds reaches no resident: its
 * ratio is 0, as a run gives it); seen[k] for join_access. */
static cs_status begin_join(cs_context *ctx, const merge *m, cs_result *r,
                            unsigned char **seen)
{
    const cs_study *s = m->s;
    size_t N = s->dem.count;
    for (size_t k = 0; k < r->K; k++)
        for (size_t mm = 0; mm < CS_MEASURES; mm++) {
            if (!(s->settings.kinds[k].measures & cs_measure_bit(mm)))
                continue;
            size_t f = cs_res_field(r, mm, k);
            r->dist_m[f] = cs_calloc(N + 1, sizeof **r->dist_m);
            r->nearest[f] = cs_calloc(N + 1, sizeof **r->nearest);
            if (!r->dist_m[f] || !r->nearest[f])
                return cs_nomem(ctx);
        }
    cs_status st = cs_access_kinds_begin(ctx, r);
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        if (s->settings.kinds[k].load_capacity < 0)
            continue;
        r->access[k] = cs_calloc(N + 1, sizeof **r->access);
        r->fac_ratio[k] = cs_calloc(s->fac.count + 1, sizeof **r->fac_ratio);
        seen[k] = cs_calloc(s->fac.count + 1, 1);
        if (!r->access[k] || !r->fac_ratio[k] || !seen[k])
            return cs_nomem(ctx);
        for (size_t f = 0; f < s->fac.count; f++)
            r->fac_ratio[k][f] = s->fac.kind[f] == (long)k ? 0.0 : NAN;
    }
    return st;
}

/* Every shard's results joined into r, one shard at a time, each let go once joined:
 * the merge holds one shard's results, not all of them (each under --spill's block
 * size, so all of them would stay in memory nationally). A damaged or stale shard is
 * named and the others still read, so that one merge names every such shard; with r
 * NULL they are only read and checked (the shards' errors, when some are missing). */
static cs_status join_shards(cs_context *ctx, const merge *m, cs_result *r, tie_list *ties)
{
    unsigned char **seen = r ? cs_calloc(r->K + 1, sizeof *seen) : NULL;
    cs_status worst = !r ? CS_OK : seen ? begin_join(ctx, m, r, seen) : cs_nomem(ctx);
    for (size_t p = 0; r && p < m->man.parts && worst == CS_OK; p++)
        if (m->missing[p])
            join_missing(m, r, p);
    for (size_t p = 0; p < m->man.parts && worst != CS_ERR_NOMEM; p++) {
        if (m->missing[p])
            continue;
        char *path = folder_of(m, p, "out/" CS_SHARD_RESULTS_FILE);
        cs_shard_results sr;
        long *fac = NULL;
        cs_status st = path ? cs_shard_results_read(ctx, path, &sr) : cs_nomem(ctx);
        if (st == CS_OK)
            st = check_results(ctx, m, p, path, &sr, &fac);
        if (st == CS_OK && r && worst == CS_OK)
            st = join_shard(m, r, p, &sr, fac, ties, seen);
        if (st == CS_ERR_NOMEM)
            st = cs_nomem(ctx);
        if (path)
            cs_shard_results_free(&sr);
        cs_free(fac);
        cs_free(path);
        if (worst == CS_OK || st == CS_ERR_NOMEM)
            worst = st;
    }
    for (size_t k = 0; seen && k < r->K; k++)
        cs_free(seen[k]);
    cs_free(seen);
    return worst;
}

/* The residents out of reach in their shard: their nearest facility among all. */
static cs_status search_far(cs_context *ctx, cs_result *r, size_t k, size_t f,
                            const size_t *far, size_t nfar, tie_list *ties)
{
    const cs_study *s = r->study;
    double *x = cs_calloc(nfar + 1, sizeof *x), *y = cs_calloc(nfar + 1, sizeof *y);
    double *d = cs_calloc(nfar + 1, sizeof *d);
    long *near = cs_calloc(nfar + 1, sizeof *near);
    cs_ties t = {0};
    cs_status st = x && y && d && near ? CS_OK : CS_ERR_NOMEM;
    for (size_t q = 0; st == CS_OK && q < nfar; q++) {
        x[q] = s->dem.x[far[q]];
        y[q] = s->dem.y[far[q]];
    }
    if (st == CS_OK && nfar)
        st = cs_cost_field_points(ctx, s, k, x, y, nfar, NULL, d, near, &t);
    for (size_t q = 0; st == CS_OK && q < nfar; q++) {
        r->dist_m[f][far[q]] = d[q];
        r->nearest[f][far[q]] = near[q];
    }
    for (size_t e = 0; st == CS_OK && e < t.count; e++)
        st = add_tie(&t, e, far[t.pt[e]], ties);
    cs_ties_free(&t);
    cs_free(x);
    cs_free(y);
    cs_free(d);
    cs_free(near);
    return st;
}

/* The residents out of reach in their shard, by the cost matrix: their cheapest
 * facility among all the matrix lists (a pass over the kind's pairs). */
static cs_status search_far_matrix(cs_result *r, size_t k, size_t f, const size_t *far,
                                   size_t nfar, tie_list *ties)
{
    const cs_study *s = r->study;
    size_t N = s->dem.count;
    double *d = cs_calloc(N + 1, sizeof *d);
    long *near = cs_calloc(N + 1, sizeof *near);
    unsigned char *is_far = cs_calloc(N + 1, 1);
    cs_ties t = {0};
    cs_status st = d && near && is_far && cs_matrix_cost_field(s, k, d, near, &t)
                       ? CS_OK
                       : CS_ERR_NOMEM;
    for (size_t q = 0; st == CS_OK && q < nfar; q++) {
        r->dist_m[f][far[q]] = d[far[q]];
        r->nearest[f][far[q]] = near[far[q]];
        is_far[far[q]] = 1;
    }
    for (size_t e = 0; st == CS_OK && e < t.count; e++)
        if (is_far[t.pt[e]])
            st = add_tie(&t, e, t.pt[e], ties);
    cs_ties_free(&t);
    cs_free(d);
    cs_free(near);
    cs_free(is_far);
    return st;
}

/* Field f of kind k, measured mm, once the shards are joined. A resident out of reach
 * in its shard is out of reach along the network too (the run's searches stop at the
 * reach); in a straight line or by the matrix its nearest facility is searched again
 * among all. Then the ties, in the study's order. */
static cs_status finish_field(cs_context *ctx, const merge *m, cs_result *r, size_t k,
                              size_t mm, size_t f, tie_list *ties)
{
    const cs_study *s = m->s;
    size_t N = s->dem.count, nfar = 0;
    double reach = cs_kind_reach_m(&s->settings.kinds[k]);
    size_t *far = mm == CS_M_NETWORK ? NULL : cs_calloc(N + 1, sizeof *far);
    cs_status st = far || mm == CS_M_NETWORK ? CS_OK : CS_ERR_NOMEM;
    for (size_t i = 0; far && i < N; i++)
        if (!m->missing[m->shard_of[s->dem.area[i]]] &&
            (!(r->dist_m[f][i] <= reach) || r->nearest[f][i] < 0))
            far[nfar++] = i;
    if (st == CS_OK && mm == CS_M_STRAIGHT)
        st = search_far(ctx, r, k, f, far, nfar, ties);
    else if (st == CS_OK && mm == CS_M_MATRIX && nfar)
        st = search_far_matrix(r, k, f, far, nfar, ties);
    if (st == CS_OK)
        st = tie_list_into(ties, &r->ties[f]);
    cs_free(far);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* Every field and the accessibility from the shards, then the network's searches. */
static cs_status merged_fields(cs_context *ctx, cs_result *r, void *data)
{
    merge *m = data;
    tie_list *ties = cs_calloc(CS_MEASURES * r->K + 1, sizeof *ties);
    cs_status st = ties ? join_shards(ctx, m, r, ties) : cs_nomem(ctx);
    for (size_t k = 0; ties && k < r->K; k++)
        for (size_t mm = 0; mm < CS_MEASURES; mm++) {
            size_t f = cs_res_field(r, mm, k);
            if (st == CS_OK && r->dist_m[f])
                st = finish_field(ctx, m, r, k, mm, f, &ties[f]);
            tie_list_free(&ties[f]); /* each field's once sorted in, or on an error */
        }
    cs_free(ties);
    /* what only the joining needed, let go before the network's graph is built */
    cs_free(m->own);
    m->own = NULL;
    cs_memory_return();
    /* the network's report and service areas are the whole network's: its searches
       are made again here, one per kind (the costs at residents come from the shards) */
    bool network = false;
    for (size_t k = 0; k < r->K; k++)
        network |= (m->s->settings.kinds[k].measures & CS_MEASURE_NETWORK) != 0;
    if (st == CS_OK && network) {
        st = cs_net_prepare(ctx, m->s, &r->net);
        r->has_network = st == CS_OK;
        if (st == CS_OK)
            st = cs_net_search_kinds(ctx, m->s, &r->net, r->fields);
    }
    return st;
}

/* The accessibility was joined with the fields: its means by area. */
static cs_status merged_access(cs_context *ctx, cs_result *r, void *data)
{
    (void)ctx;
    merge *m = data;
    for (size_t k = 0; k < r->K; k++)
        if (m->s->settings.kinds[k].load_capacity >= 0)
            cs_access_area_means(r, k);
    return CS_OK;
}

/* ------------------------------------------------------------ the merge */

static void merge_free(merge *m)
{
    cs_free(m->missing);
    cs_free(m->own);
    cs_free(m->own_start);
    cs_free(m->shard_of);
    cs_idmap_free(&m->fac_ids);
    manifest_free(&m->man);
}

/* What the summary says of the merge: the folder, the shards, and those missing. */
static cs_status note_merge(cs_context *ctx, const merge *m, cs_result *r)
{
    r->merged.dir = cs_strdup(m->dir);
    r->merged.parts = m->man.parts;
    r->merged.missing = cs_calloc(m->man.parts + 1, sizeof *r->merged.missing);
    if (!r->merged.dir || !r->merged.missing)
        return cs_nomem(ctx);
    for (size_t p = 0; p < m->man.parts; p++)
        if (m->missing[p])
            r->merged.missing[r->merged.missing_count++] = (long)p + 1;
    return CS_OK;
}

/* The file of the study's input of this role, as the user named it. */
static const char *input_named(const cs_study *s, const char *role)
{
    for (size_t i = 0; i < s->input_count; i++)
        if (s->inputs[i].role && !strcmp(s->inputs[i].role, role))
            return s->inputs[i].path;
    return NULL;
}

/* The study's network and facilities are those the shards were cut from (the manifest's
 * digests): a street moved or a capacity changed since the cut would be in the merged
 * outputs but not in the shards' results. */
static cs_status same_inputs(cs_context *ctx, const merge *m)
{
    for (size_t d = 0; d < CS_SHARD_DIGESTS; d++) {
        const cs_shard_digest *dg = &cs_shard_digests[d];
        const char *then = text_of(m->man.root, dg->key);
        char now[17];
        cs_shard_digest_text(dg, m->s, now);
        if (!then || !strcmp(then, now))
            continue;
        const char *file = input_named(m->s, dg->role);
        cs_where w = {.file = file ? file : m->man.study};
        return cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again with careshed shard and "
                        "run the shards", "%s", dg->changed);
    }
    return CS_OK;
}

cs_status cs_merge_load(cs_context *ctx, const char *dir, int partial, cs_config **cfg,
                        cs_study **study, cs_result **result)
{
    if (!ctx || !dir || !cfg || !study || !result)
        return CS_ERR_ARGUMENT;
    *cfg = NULL;
    *study = NULL;
    *result = NULL;
    merge m = {.dir = dir};
    size_t missing = 0;
    cs_status st = read_manifest(ctx, dir, &m.man);
    if (st == CS_OK)
        st = settings_of(ctx, &m.man, cfg);
    if (st == CS_OK)
        st = cs_study_load(ctx, *cfg, study);
    m.s = *study;
    if (st == CS_OK)
        st = same_inputs(ctx, &m);
    if (st == CS_OK)
        st = place_areas(ctx, &m);
    if (st == CS_OK) {
        st = find_shards(ctx, &m, partial != 0, &missing);
        if (st == CS_ERR_INPUT)
            join_shards(ctx, &m, NULL, NULL); /* the others' errors said too */
    }
    if (st == CS_OK && missing == m.man.parts) {
        cs_where w = {.file = dir};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "run the shards first (careshed.sbatch)",
                      "no shard has results");
    }
    if (st == CS_OK && missing) {
        cs_where w = {.file = dir};
        cs_warn(ctx, &w, "run them and merge again for the whole study",
                "%zu of %zu shards are missing: their residents are counted as out of reach "
                "and the outputs are marked partial", missing, m.man.parts);
    }
    cs_run_source src = {merged_fields, merged_access, &m};
    if (st == CS_OK)
        st = cs_run_given(ctx, *study, &src, result);
    if (st == CS_OK)
        st = note_merge(ctx, &m, *result);
    merge_free(&m);
    return st;
}
