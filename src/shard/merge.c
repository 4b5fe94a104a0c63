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
    cs_shard_results *res;    /* per shard; zeroed when missing (partial) */
    bool *missing;
    size_t **own, *own_n;     /* per shard: its own points in the study */
    long **fac;               /* per shard: its facilities in the study */
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

/* Shard p's results, checked against the study and the cut. */
static cs_status check_results(cs_context *ctx, merge *m, size_t p, const char *path)
{
    const cs_study *s = m->s;
    const cs_shard_results *r = &m->res[p];
    cs_where w = {.file = path};
    if (strcmp(r->cut, m->man.cut) != 0 || r->part != (long)p + 1)
        return cs_error(ctx, CS_ERR_INPUT, &w, "run the shard again on its study.yaml",
                        "these results are of another cut of the study (shard %ld)", r->part);
    bool same = r->K == s->settings.kind_count && r->n == m->own_n[p];
    for (size_t k = 0; same && k < r->K; k++)
        same = !strcmp(r->kind_id[k], s->settings.kinds[k].id) &&
               r->measures[k] == s->settings.kinds[k].measures;
    for (size_t q = 0; same && q < r->n; q++) {
        size_t i = m->own[p][q];
        same = !memcmp(&r->x[q], &s->dem.x[i], sizeof(double)) &&
               !memcmp(&r->y[q], &s->dem.y[i], sizeof(double));
    }
    if (!same)
        return cs_error(ctx, CS_ERR_INPUT, &w, "cut the study again with careshed shard and "
                        "run the shards",
                        "the shard's residents or kinds are not the study's: its layers or "
                        "settings changed since the cut");
    m->fac[p] = cs_calloc(r->F + 1, sizeof *m->fac[p]);
    if (!m->fac[p])
        return cs_nomem(ctx);
    for (size_t f = 0; f < r->F; f++) {
        m->fac[p][f] = cs_idmap_get(&m->fac_ids, r->fac_id[f]);
        if (m->fac[p][f] < 0)
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

/* Every shard's results, and which are missing. */
static cs_status read_shards(cs_context *ctx, merge *m, bool partial, size_t *missing)
{
    const cs_study *s = m->s;
    size_t P = m->man.parts;
    m->res = cs_calloc(P, sizeof *m->res);
    m->missing = cs_calloc(P, sizeof *m->missing);
    m->own = cs_calloc(P, sizeof *m->own);
    m->own_n = cs_calloc(P, sizeof *m->own_n);
    m->fac = cs_calloc(P, sizeof *m->fac);
    if (!m->res || !m->missing || !m->own || !m->own_n || !m->fac)
        return cs_nomem(ctx);
    /* each shard's list as long as its own residents (the study's length for each made
     * the merge of 64 shards of a province take 1.4 GB more) */
    for (size_t i = 0; i < s->dem.count; i++)
        m->own_n[(size_t)m->shard_of[s->dem.area[i]]]++;
    for (size_t p = 0; p < P; p++) {
        if (!(m->own[p] = cs_calloc(m->own_n[p] + 1, sizeof *m->own[p])))
            return cs_nomem(ctx);
        m->own_n[p] = 0;
    }
    for (size_t i = 0; i < s->dem.count; i++) {
        size_t p = (size_t)m->shard_of[s->dem.area[i]];
        m->own[p][m->own_n[p]++] = i;
    }
    for (size_t f = 0; f < s->fac.count; f++)
        if (cs_idmap_put(&m->fac_ids, s->fac.id[f], (long)f) < -1)
            return cs_nomem(ctx);
    cs_status worst = CS_OK;
    for (size_t p = 0; p < P && worst != CS_ERR_NOMEM; p++) {
        char *path = folder_of(m, p, "out/" CS_SHARD_RESULTS_FILE);
        if (!path)
            return cs_nomem(ctx);
        cs_status st = CS_OK;
        if (access(path, F_OK) != 0) {
            m->missing[p] = true;
            (*missing)++;
            say_missing(ctx, m, p, partial);
            st = partial ? CS_OK : CS_ERR_INPUT;
        } else {
            st = cs_shard_results_read(ctx, path, &m->res[p]);
            if (st == CS_OK)
                st = check_results(ctx, m, p, path);
        }
        cs_free(path);
        if (worst == CS_OK || st == CS_ERR_NOMEM)
            worst = st;
    }
    return worst;
}

/* ------------------------------------------------------------ the fields */

typedef struct tie_entry {
    size_t pt, n;
    long *fac;
} tie_entry;

static int by_point(const void *a, const void *b)
{
    size_t x = ((const tie_entry *)a)->pt, y = ((const tie_entry *)b)->pt;
    return x < y ? -1 : x > y;
}

/* Field f of kind k from the shards, into r; the residents whose nearest facility is
 * out of the kind's reach are listed in far[] (*nfar) to be searched again. */
static cs_status fill_field(merge *m, cs_result *r, size_t f, double reach, size_t *far,
                            size_t *nfar, tie_entry **ties, size_t *nties, size_t *cap)
{
    for (size_t p = 0; p < m->man.parts; p++) {
        const cs_shard_results *sr = &m->res[p];
        for (size_t q = 0; q < m->own_n[p]; q++) {
            size_t i = m->own[p][q];
            if (m->missing[p]) {
                r->dist_m[f][i] = INFINITY;
                r->nearest[f][i] = -1;
                continue;
            }
            long j = sr->nearest[f][q];
            r->dist_m[f][i] = sr->dist_m[f][q];
            r->nearest[f][i] = j >= 0 ? m->fac[p][j] : -1;
            if (!(sr->dist_m[f][q] <= reach) || j < 0)
                far[(*nfar)++] = i;
        }
        const cs_ties *t = m->missing[p] ? NULL : &sr->ties[f];
        for (size_t e = 0; t && e < t->count; e++) {
            size_t q = t->pt[e], n = t->start[e + 1] - t->start[e];
            if (!(sr->dist_m[f][q] <= reach))
                continue; /* searched again */
            if (*nties == *cap && !cs_grow((void **)ties, cap, *nties + 1, sizeof **ties))
                return CS_ERR_NOMEM;
            long *fac = cs_calloc(n, sizeof *fac);
            if (!fac)
                return CS_ERR_NOMEM;
            for (size_t j = 0; j < n; j++)
                fac[j] = m->fac[p][t->fac[t->start[e] + j]];
            (*ties)[(*nties)++] = (tie_entry){m->own[p][q], n, fac};
        }
    }
    return CS_OK;
}

/* Tie set e of t, as resident pt's, added to the list. */
static cs_status add_tie(const cs_ties *t, size_t e, size_t pt, tie_entry **ties, size_t *nties,
                         size_t *cap)
{
    size_t n = t->start[e + 1] - t->start[e];
    long *fac = cs_calloc(n, sizeof *fac);
    if (!fac || (*nties == *cap && !cs_grow((void **)ties, cap, *nties + 1, sizeof **ties))) {
        cs_free(fac);
        return CS_ERR_NOMEM;
    }
    memcpy(fac, t->fac + t->start[e], n * sizeof *fac);
    (*ties)[(*nties)++] = (tie_entry){pt, n, fac};
    return CS_OK;
}

/* The residents out of reach in their shard: their nearest facility among all. */
static cs_status search_far(cs_context *ctx, cs_result *r, size_t k, size_t f,
                            const size_t *far, size_t nfar, tie_entry **ties, size_t *nties,
                            size_t *cap)
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
        st = add_tie(&t, e, far[t.pt[e]], ties, nties, cap);
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
                                   size_t nfar, tie_entry **ties, size_t *nties, size_t *cap)
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
            st = add_tie(&t, e, t.pt[e], ties, nties, cap);
    cs_ties_free(&t);
    cs_free(d);
    cs_free(near);
    cs_free(is_far);
    return st;
}

/* Field f of kind k, measured mm, from the shards. A resident out of reach in its shard
 * is out of reach along the network too (the run's searches stop at the reach); in a
 * straight line or by the matrix its nearest facility is searched again among all. */
static cs_status kind_field(cs_context *ctx, merge *m, cs_result *r, size_t k, size_t mm,
                            size_t f)
{
    size_t N = m->s->dem.count;
    double reach = cs_kind_reach_m(&m->s->settings.kinds[k]);
    r->dist_m[f] = cs_calloc(N + 1, sizeof **r->dist_m);
    r->nearest[f] = cs_calloc(N + 1, sizeof **r->nearest);
    size_t *far = cs_calloc(N + 1, sizeof *far), nfar = 0, nties = 0, cap = 0;
    tie_entry *ties = NULL;
    cs_status st = r->dist_m[f] && r->nearest[f] && far ? CS_OK : CS_ERR_NOMEM;
    if (st == CS_OK)
        st = fill_field(m, r, f, reach, far, &nfar, &ties, &nties, &cap);
    if (st == CS_OK && mm == CS_M_STRAIGHT)
        st = search_far(ctx, r, k, f, far, nfar, &ties, &nties, &cap);
    else if (st == CS_OK && mm == CS_M_MATRIX && nfar)
        st = search_far_matrix(r, k, f, far, nfar, &ties, &nties, &cap);
    if (st == CS_OK && nties)
        qsort(ties, nties, sizeof *ties, by_point);
    for (size_t e = 0; st == CS_OK && e < nties; e++)
        if (!cs_ties_add(&r->ties[f], ties[e].pt, ties[e].fac, ties[e].n))
            st = CS_ERR_NOMEM;
    for (size_t e = 0; e < nties; e++)
        cs_free(ties[e].fac);
    cs_free(ties);
    cs_free(far);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* The shards' fields of f, once joined: memory for the rest of the run. */
static void drop_field(merge *m, size_t f)
{
    for (size_t p = 0; p < m->man.parts; p++) {
        cs_shard_results *sr = &m->res[p];
        if (m->missing[p] || !sr->dist_m)
            continue;
        cs_free(sr->dist_m[f]);
        cs_free(sr->nearest[f]);
        cs_ties_free(&sr->ties[f]);
        sr->dist_m[f] = NULL;
        sr->nearest[f] = NULL;
    }
}

/* Each resident's accessibility from its shard; each facility's ratio from the first
 * shard holding it (every shard holding it has all its catchment: the same ratio). */
static cs_status join_access(cs_context *ctx, merge *m, cs_result *r)
{
    const cs_study *s = m->s;
    cs_status st = cs_access_kinds_begin(ctx, r);
    for (size_t k = 0; st == CS_OK && k < r->K; k++) {
        if (s->settings.kinds[k].load_capacity < 0)
            continue;
        r->access[k] = cs_calloc(s->dem.count + 1, sizeof **r->access);
        r->fac_ratio[k] = cs_calloc(s->fac.count + 1, sizeof **r->fac_ratio);
        unsigned char *seen = cs_calloc(s->fac.count + 1, 1);
        if (!r->access[k] || !r->fac_ratio[k] || !seen) {
            cs_free(seen);
            return cs_nomem(ctx);
        }
        for (size_t f = 0; f < s->fac.count; f++)
            r->fac_ratio[k][f] = s->fac.kind[f] == (long)k ? 0.0 : NAN;
        for (size_t p = 0; p < m->man.parts; p++) {
            const cs_shard_results *sr = &m->res[p];
            if (m->missing[p] || !sr->access[k])
                continue;
            for (size_t q = 0; q < m->own_n[p]; q++)
                r->access[k][m->own[p][q]] = sr->access[k][q];
            for (size_t j = 0; j < sr->F; j++) {
                long f = m->fac[p][j];
                if (s->fac.kind[f] == (long)k && !seen[f]) {
                    r->fac_ratio[k][f] = sr->ratio[k][j];
                    seen[f] = 1;
                }
            }
        }
        cs_free(seen);
    }
    return st;
}

/* The shards' results, once joined: a province's 16 held 250 MB, which the network's
 * graph would otherwise be built beside. */
static void drop_shards(merge *m)
{
    for (size_t p = 0; p < m->man.parts; p++) {
        cs_shard_results_free(&m->res[p]);
        cs_free(m->own[p]);
        cs_free(m->fac[p]);
        m->own[p] = NULL;
        m->fac[p] = NULL;
    }
}

/* Every field and the accessibility from the shards, then the network's searches. */
static cs_status merged_fields(cs_context *ctx, cs_result *r, void *data)
{
    merge *m = data;
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < r->K; k++)
        for (size_t mm = 0; st == CS_OK && mm < CS_MEASURES; mm++)
            if (m->s->settings.kinds[k].measures & cs_measure_bit(mm)) {
                st = kind_field(ctx, m, r, k, mm, cs_res_field(r, mm, k));
                drop_field(m, cs_res_field(r, mm, k));
            }
    if (st == CS_OK)
        st = join_access(ctx, m, r);
    drop_shards(m);
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
    for (size_t p = 0; p < m->man.parts; p++) {
        if (m->res)
            cs_shard_results_free(&m->res[p]);
        if (m->own)
            cs_free(m->own[p]);
        if (m->fac)
            cs_free(m->fac[p]);
    }
    cs_free(m->res);
    cs_free(m->missing);
    cs_free(m->own);
    cs_free(m->own_n);
    cs_free(m->fac);
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
    if (st == CS_OK)
        st = read_shards(ctx, &m, partial != 0, &missing);
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
