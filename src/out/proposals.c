/*
 * proposals.c — what proposed sites change, in words (one line each, for the terminal)
 * and as proposals.geojson: one point per proposal, then the proposals together as a
 * MultiPoint, each with the residents it newly covers at every threshold (district and
 * by street), its overlap with existing service, accessibility and load, and every
 * target it moves, before and after.
 */
#include "out/files.h"
#include "out/folder.h"
#include "out/out.h"
#include "site/site.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *thr_label(const cs_kind *k, size_t j, char *buf, size_t n)
{
    if (!isnan(k->threshold_min[j]))
        snprintf(buf, n, "%gmin", k->threshold_min[j]);
    else
        snprintf(buf, n, "%gm", k->threshold_m[j]);
    return buf;
}

/* The kinds whose figures a proposal (or all together: every kind proposed) shows. */
static bool shows_kind(const cs_site *site, size_t p, size_t k)
{
    if (p < site->P)
        return (size_t)site->proposals[p].kind == k;
    for (size_t q = 0; q < site->P; q++)
        if ((size_t)site->proposals[q].kind == k)
            return true;
    return false;
}

static double newly_at(const cs_site *site, size_t p, size_t k, size_t j, size_t a, size_t b)
{
    const cs_result *r = site->r;
    return site->effects[p].newly[cs_site_at(r, k, cs_res_main(r, k), j, a, b)];
}

/* "narrows 织密15分钟养老服务圈 (60+ within 15 min 75.6% -> 76.1%)" for each target that
 * moves at the district. */
static void target_changes(cs_buf *b, const cs_site *site, size_t p)
{
    const cs_result *r = site->r;
    for (size_t t = 0; t < r->study->settings.target_count; t++) {
        const cs_target_outcome *before = &r->outcomes[cs_res_target(r, t, r->A)];
        const cs_target_outcome *after = &site->effects[p].after[cs_res_target(r, t, r->A)];
        if (!after->evaluated || after->value == before->value)
            continue;
        const char *verb = !before->pass && after->pass ? "closes"
                           : after->gap < before->gap   ? "narrows"
                                                        : "changes";
        cs_buf_printf(b, "; %s %s (%.4g -> %.4g)", verb, r->study->settings.targets[t].name,
                      before->value, after->value);
    }
}

const char *cs_site_line(cs_site *site, size_t p)
{
    if (!site || p > site->P)
        return NULL;
    const cs_result *r = site->r;
    const cs_study *s = r->study;
    size_t pb = (size_t)s->settings.patch_band;
    cs_buf b;
    cs_buf_init(&b);
    if (p < site->P) {
        const cs_proposal *pr = &site->proposals[p];
        cs_buf_printf(&b, "%s (%s, %s):", pr->id, s->settings.kinds[pr->kind].id,
                      pr->area >= 0 ? s->areas.name[pr->area] : "just outside");
    } else {
        cs_buf_printf(&b, "all %zu together:", site->P);
    }
    for (size_t k = 0; k < r->K; k++) {
        if (!shows_kind(site, p, k))
            continue;
        const cs_kind *kind = &s->settings.kinds[k];
        cs_buf_printf(&b, " %s newly covers", kind->id);
        for (size_t j = 0; j < kind->threshold_count; j++) {
            char thr[32];
            cs_buf_add(&b, j ? ", " : " ");
            cs_buf_add_grouped(&b, newly_at(site, p, k, j, r->A, pb), 0);
            cs_buf_printf(&b, " in %s", thr_label(kind, j, thr, sizeof thr));
        }
        cs_buf_printf(&b, " (residents %s)", s->settings.band_names[pb]);
    }
    const cs_site_effect *e = &site->effects[p];
    if (!isnan(e->overlap))
        cs_buf_printf(&b, "; %.0f%% of those within reach already covered", e->overlap * 100);
    if (!isnan(e->own_load))
        cs_buf_printf(&b, "; load %.2f, taking %.1f from %zu neighbours", e->own_load,
                      e->load_taken, e->neighbours);
    target_changes(&b, site, p);
    cs_free(site->line);
    site->line = cs_buf_take(&b);
    return site->line;
}

/* ------------------------------------------------------------- the file */

static void newly_props(cs_json *j, const cs_site *site, size_t p)
{
    const cs_result *r = site->r;
    const cs_study *s = r->study;
    char raw[256], key[CS_NAME_MAX + 1], thr[32], kid[64], band[64];
    for (size_t k = 0; k < r->K; k++) {
        if (!shows_kind(site, p, k))
            continue;
        const cs_kind *kind = &s->settings.kinds[k];
        cs_out_safe_name(kind->id, kid, sizeof kid); /* a column name: names.c's rule */
        for (size_t t = 0; t < kind->threshold_count; t++)
            for (size_t b = 0; b < r->B; b++) {
                cs_out_threshold_label(kind, t, thr, sizeof thr);
                cs_out_safe_name(s->settings.band_names[b], band, sizeof band);
                snprintf(raw, sizeof raw, "%s_new_%s_%s", kid, thr, band);
                cs_out_safe_name(raw, key, sizeof key); /* at most 63 characters */
                cs_json_key(j, key);
                cs_json_number(j, newly_at(site, p, k, t, r->A, b), 1);
            }
        /* by street, at the largest threshold, the patch band */
        snprintf(raw, sizeof raw, "%s_new_by_street", kid);
        cs_out_safe_name(raw, key, sizeof key);
        cs_json_key(j, key);
        cs_json_begin_object(j);
        for (size_t a = 0; a < r->A; a++) {
            double v = newly_at(site, p, k, kind->threshold_count - 1, a,
                                (size_t)s->settings.patch_band);
            if (v > 0) {
                cs_json_key(j, s->areas.id[a]);
                cs_json_number(j, v, 1);
            }
        }
        cs_json_end_object(j);
    }
}

static void target_props(cs_json *j, const cs_site *site, size_t p)
{
    const cs_result *r = site->r;
    cs_json_key(j, "targets");
    cs_json_begin_array(j);
    for (size_t t = 0; t < r->study->settings.target_count; t++) {
        const cs_target_outcome *b = &r->outcomes[cs_res_target(r, t, r->A)];
        const cs_target_outcome *a = &site->effects[p].after[cs_res_target(r, t, r->A)];
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, r->study->settings.targets[t].id);
        cs_json_key(j, "value_before");
        cs_json_number(j, b->evaluated ? b->value : NAN, 6);
        cs_json_key(j, "value_after");
        cs_json_number(j, a->evaluated ? a->value : NAN, 6);
        cs_json_key(j, "pass_before");
        cs_json_boolean(j, b->pass);
        cs_json_key(j, "pass_after");
        cs_json_boolean(j, a->pass);
        cs_json_key(j, "gap_before");
        cs_json_number(j, b->gap, 1);
        cs_json_key(j, "gap_after");
        cs_json_number(j, a->gap, 1);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
}

static void feature(cs_json *j, cs_buf *out, cs_site *site, size_t p)
{
    const cs_site_effect *e = &site->effects[p];
    const cs_study *s = site->r->study;
    cs_buf_add(out, "\n");
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, "Feature");
    cs_json_key(j, "properties");
    cs_json_begin_object(j);
    cs_json_key(j, "id");
    cs_json_string(j, p < site->P ? site->proposals[p].id : "all");
    if (site->gain && p < site->P) { /* suggested: in the order chosen */
        cs_json_key(j, "rank");
        cs_json_integer(j, (long long)p + 1);
        bool median = site->suggest.model == CS_MODEL_MEDIAN;
        /* p-center's: residents walking more than the longest walk now brought within it */
        cs_json_key(j, median ? "mean_walk_saved_m" : "marginal_gain");
        cs_json_number(j, site->gain[p], median ? 3 : 1);
    }
    if (p < site->P) {
        const cs_proposal *pr = &site->proposals[p];
        cs_json_key(j, "kind");
        cs_json_string(j, s->settings.kinds[pr->kind].id);
        cs_json_key(j, "area_id");
        cs_json_string(j, pr->area >= 0 ? s->areas.id[pr->area] : NULL);
        cs_json_key(j, "capacity");
        cs_json_number(j, pr->capacity, 2);
    }
    newly_props(j, site, p);
    cs_json_key(j, "within");
    cs_json_number(j, e->within, 1);
    cs_json_key(j, "overlap_share");
    cs_json_number(j, e->overlap, 4);
    cs_json_key(j, "access_gain");
    cs_json_number(j, e->access_gain, 4);
    cs_json_key(j, "load_taken");
    cs_json_number(j, e->load_taken, 2);
    cs_json_key(j, "neighbours_losing");
    cs_json_integer(j, (long long)e->neighbours);
    cs_json_key(j, "own_load_ratio");
    cs_json_number(j, e->own_load, 3);
    cs_json_key(j, "summary");
    cs_json_string(j, cs_site_line(site, p));
    target_props(j, site, p);
    cs_json_end_object(j);
    cs_json_key(j, "geometry");
    cs_json_begin_object(j);
    cs_json_key(j, "type");
    cs_json_string(j, p < site->P ? "Point" : "MultiPoint");
    cs_json_key(j, "coordinates");
    cs_json_begin_array(j);
    for (size_t q = p < site->P ? p : 0; q < (p < site->P ? p + 1 : site->P); q++) {
        if (p == site->P)
            cs_json_begin_array(j);
        cs_json_number(j, site->proposals[q].lon, CS_COORD_DECIMALS);
        cs_json_number(j, site->proposals[q].lat, CS_COORD_DECIMALS);
        if (p == site->P)
            cs_json_end_array(j);
    }
    cs_json_end_array(j);
    cs_json_end_object(j);
    cs_json_end_object(j);
}

/* p-median's or p-center's answer: the mean (or longest) walk in metres before, with
 * the heuristic's and the exact solution's sites (null when none was found), the least
 * any choice could reach and the heuristic's gap to it; p-center's residents left out. */
static void walk_props(cs_json *j, const cs_suggest_report *rep)
{
    bool median = rep->model == CS_MODEL_MEDIAN;
    const char *walk = median ? "mean_walk_m" : "longest_walk_m";
    cs_json_key(j, "listed");
    cs_json_string(j, rep->exact_listed ? "exact" : "heuristic");
    cs_json_key(j, median ? "mean_walk_before_m" : "longest_walk_before_m");
    cs_json_number(j, rep->walk_before, 2); /* null: beyond the threshold */
    cs_json_key(j, "heuristic");
    cs_json_begin_object(j);
    cs_json_key(j, "sites");
    cs_json_integer(j, (long long)rep->chosen);
    if (median) {
        cs_json_key(j, "swaps");
        cs_json_integer(j, (long long)rep->swaps);
    }
    cs_json_key(j, walk);
    cs_json_number(j, rep->heuristic_walk, 2);
    cs_json_end_object(j);
    cs_json_key(j, "exact");
    if (!rep->exact_run) {
        cs_json_null(j);
    } else {
        cs_json_begin_object(j);
        cs_json_key(j, "sites");
        cs_json_integer(j, (long long)rep->exact_chosen);
        cs_json_key(j, walk);
        cs_json_number(j, rep->exact_walk, 2); /* null: none found within the time */
        cs_json_key(j, "optimal");
        cs_json_boolean(j, rep->exact_optimal);
        cs_json_key(j, "seconds");
        cs_json_number(j, rep->exact_seconds, 3);
        cs_json_end_object(j);
    }
    cs_json_key(j, median ? "mean_walk_bound_m" : "longest_walk_bound_m");
    cs_json_number(j, rep->walk_bound, 2);
    cs_json_key(j, "gap");
    cs_json_number(j, rep->gap, 6);
    if (!median) {
        cs_json_key(j, "left_out");
        cs_json_number(j, rep->left_out, 1);
    }
}

void cs_out_json_served(cs_json *j, const cs_suggest_report *rep)
{
    cs_json_key(j, "demand");
    cs_json_number(j, rep->demand, 3);
    cs_json_key(j, "served_before");
    cs_json_number(j, rep->served_before, 3);
    cs_json_key(j, "served_after");
    cs_json_number(j, rep->served_after, 3);
}

/* How suggested sites were chosen: the model, which solution is listed, and both
 * solutions' sizes and residents newly covered (the exact one null when it was not
 * found). */
static void choice_props(cs_json *j, const cs_suggest_report *rep)
{
    bool exact = rep->exact_run && !isnan(rep->exact_covered);
    cs_json_key(j, "model");
    cs_json_string(j, cs_site_model_name(rep->model));
    if (rep->capacitated) { /* demand in the kind's capacity units (newly_covered too) */
        cs_json_key(j, "capacitated");
        cs_json_begin_object(j);
        cs_out_json_served(j, rep);
        cs_json_end_object(j);
    }
    if (rep->model != CS_MODEL_COVER) {
        walk_props(j, rep);
        return;
    }
    cs_json_key(j, "listed");
    cs_json_string(j, rep->exact_listed ? "exact" : "greedy");
    cs_json_key(j, "greedy");
    cs_json_begin_object(j);
    cs_json_key(j, "sites");
    cs_json_integer(j, (long long)rep->chosen);
    cs_json_key(j, "newly_covered");
    cs_json_number(j, rep->greedy_covered, 1);
    cs_json_end_object(j);
    cs_json_key(j, "exact");
    if (!exact) {
        cs_json_null(j);
        return;
    }
    cs_json_begin_object(j);
    cs_json_key(j, "sites");
    cs_json_integer(j, (long long)rep->exact_chosen);
    cs_json_key(j, "newly_covered");
    cs_json_number(j, rep->exact_covered, 1);
    cs_json_key(j, "optimal");
    cs_json_boolean(j, rep->exact_optimal);
    cs_json_key(j, "seconds");
    cs_json_number(j, rep->exact_seconds, 3);
    cs_json_end_object(j);
}

/* The site command's files, by owner (proposals, suggestions) in a shared output
 * folder. */
static const char PROPOSALS[] = "proposals", SUGGESTIONS[] = "suggestions";
static const struct {
    const char *owner, *file;
} site_files[] = {{PROPOSALS, "proposals.geojson"}, {SUGGESTIONS, "suggestions.geojson"},
                  {SUGGESTIONS, "assignment.csv"}};
enum { ASSIGNMENT = 2 }; /* the capacitated models' assignment, beside suggestions */

const char *cs_out_site_file_owner(const char *name)
{
    for (size_t i = 0; name && i < sizeof site_files / sizeof site_files[0]; i++)
        if (!strcmp(name, site_files[i].file))
            return site_files[i].owner;
    return NULL;
}

cs_status cs_site_write(cs_context *ctx, const cs_site *csite, const char *out_dir)
{
    if (!ctx || !csite || !out_dir)
        return CS_ERR_ARGUMENT;
    cs_site *site = (cs_site *)csite; /* the one-line texts are cached in it */
    cs_buf buf;
    cs_buf_init(&buf);
    cs_json j;
    cs_json_init(&j, &buf, false);
    cs_json_begin_object(&j);
    cs_json_key(&j, "type");
    cs_json_string(&j, "FeatureCollection");
    const char *name = site->gain ? "suggestions" : "proposals";
    cs_json_key(&j, "name");
    cs_json_string(&j, name);
    if (site->gain)
        choice_props(&j, &site->suggest);
    cs_json_key(&j, "features");
    cs_json_begin_array(&j);
    for (size_t p = 0; p <= site->P; p++)
        feature(&j, &buf, site, p);
    cs_json_end_array(&j);
    cs_json_end_object(&j);
    cs_buf_addc(&buf, '\n');
    cs_outset *set = NULL;
    size_t which = site->gain ? 1 : 0;
    cs_status st = buf.failed ? cs_nomem(ctx)
                              : cs_outset_begin_folder(ctx, out_dir, site_files[which].owner, &set);
    if (st == CS_OK)
        st = cs_outset_add(ctx, set, site_files[which].file, buf.data, buf.len);
    if (st == CS_OK && site->assignment.len > 0)
        st = cs_outset_add(ctx, set, site_files[ASSIGNMENT].file, site->assignment.data,
                           site->assignment.len);
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    cs_buf_free(&buf);
    return st;
}
