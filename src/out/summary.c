/*
 * summary.c — summary.json: what was run (version, options, kinds, the inputs with
 * their SHA-256 checksums), what came out for the district, every target with the
 * areas that fall short, and the warnings. Enough to reproduce and audit a run.
 */
#include "cover/patch.h"
#include "io/config.h"
#include "out/files.h"
#include "out/out.h"

#include <math.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static cs_status write_inputs(cs_context *ctx, cs_json *j, const cs_study *s)
{
    cs_json_key(j, "inputs");
    cs_json_begin_array(j);
    for (size_t i = 0; i < s->input_count; i++) {
        const cs_input *in = &s->inputs[i];
        cs_json_begin_object(j);
        cs_json_key(j, "role");
        cs_json_string(j, in->role);
        cs_json_key(j, "path");
        cs_json_string(j, in->path);
        cs_json_key(j, "crs");
        cs_json_string(j, in->crs);
        cs_json_key(j, "features");
        cs_json_integer(j, (long long)in->features);
        cs_json_key(j, "files");
        cs_json_begin_array(j);
        for (size_t f = 0; f < in->file_count; f++) {
            char hex[65];
            cs_status st = cs_sha256_file(ctx, in->files[f], hex);
            if (st != CS_OK)
                return st;
            cs_json_begin_object(j);
            cs_json_key(j, "name");
            cs_json_string(j, base_name(in->files[f]));
            cs_json_key(j, "sha256");
            cs_json_string(j, hex);
            cs_json_end_object(j);
        }
        cs_json_end_array(j);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
    return CS_OK;
}

static void write_numbers(cs_json *j, const char *key, const double *v, size_t n, int decimals)
{
    cs_json_key(j, key);
    cs_json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        cs_json_number(j, v[i], decimals);
    cs_json_end_array(j);
}

/* The cost matrix as joined to the study. */
static void write_costs(cs_json *j, const cs_study *s)
{
    cs_matrix_report m;
    if (cs_study_cost_matrix(s, &m) != CS_OK)
        return;
    cs_json_key(j, "cost_matrix");
    cs_json_begin_object(j);
    cs_json_key(j, "unit");
    cs_json_string(j, m.in_m ? "m" : "min");
    const struct {
        const char *key;
        size_t value;
    } counts[] = {{"pairs", m.pairs},
                  {"pairs_left_out", m.pairs_left_out},
                  {"pairs_repeated", m.pairs_repeated},
                  {"facilities_with_pairs", m.facilities_with_pairs},
                  {"candidate_sites", m.candidate_sites}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        cs_json_key(j, counts[i].key);
        cs_json_integer(j, (long long)counts[i].value);
    }
    cs_json_end_object(j);
}

static void write_options(cs_json *j, const cs_study *s)
{
    cs_json_key(j, "options");
    cs_json_begin_object(j);
    cs_json_key(j, "network");
    cs_json_boolean(j, s->net.present);
    if (s->net.present) {
        cs_json_key(j, "network_settings");
        cs_json_begin_object(j);
        cs_json_key(j, "snap_m");
        cs_json_number(j, s->net.snap_m, 3);
        cs_json_key(j, "node_crossings");
        cs_json_boolean(j, s->net.node_crossings);
        cs_json_key(j, "max_attach_m");
        cs_json_number(j, s->net.max_attach_m, 3);
        cs_json_key(j, "access_width_m");
        cs_json_number(j, s->net.access_width_m, 3);
        cs_json_end_object(j);
    }
    cs_json_key(j, "walk_speed_kmh");
    cs_json_number(j, s->settings.walk_speed_kmh, 3);
    cs_json_key(j, "outside_tolerance_m");
    cs_json_number(j, s->settings.outside_tolerance_m, 3);
    cs_json_key(j, "far_outside_km");
    cs_json_number(j, s->settings.far_outside_km, 3);
    cs_json_key(j, "bands");
    cs_json_begin_array(j);
    for (size_t b = 0; b < s->settings.band_count; b++)
        cs_json_string(j, s->settings.band_names[b]);
    cs_json_end_array(j);
    cs_json_key(j, "capacities");
    cs_json_begin_array(j);
    for (size_t c = 0; c < s->settings.capacity_count; c++) {
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, s->settings.capacities[c].id);
        cs_json_key(j, "name");
        cs_json_string(j, s->settings.capacities[c].name);
        cs_json_key(j, "unit");
        cs_json_string(j, s->settings.capacities[c].unit);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
    cs_json_key(j, "kinds");
    cs_json_begin_array(j);
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, kind->id);
        cs_json_key(j, "name");
        cs_json_string(j, kind->name);
        cs_json_key(j, "name_en");
        cs_json_string(j, kind->name_en);
        cs_json_key(j, "walk_speed_kmh");
        cs_json_number(j, kind->walk_speed_kmh, 3);
        cs_json_key(j, "measures");
        cs_json_begin_array(j);
        for (size_t m = 0; m < CS_MEASURES; m++)
            if (kind->measures & cs_measure_bit(m))
                cs_json_string(j, cs_measure_name(m));
        cs_json_end_array(j);
        write_numbers(j, "thresholds_min", kind->threshold_min, kind->threshold_count, 3);
        write_numbers(j, "thresholds_m", kind->threshold_m, kind->threshold_count, 1);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
    cs_json_end_object(j);
}

static void write_network(cs_json *j, const cs_network_report *n)
{
    cs_json_key(j, "network");
    cs_json_begin_object(j);
    cs_json_key(j, "edges");
    cs_json_integer(j, (long long)n->edges);
    cs_json_key(j, "nodes");
    cs_json_integer(j, (long long)n->nodes);
    cs_json_key(j, "length_km");
    cs_json_number(j, n->length_km, 3);
    cs_json_key(j, "components");
    cs_json_integer(j, (long long)n->components);
    cs_json_key(j, "largest_component_share");
    cs_json_number(j, n->largest_share, 4);
    cs_json_key(j, "ways_left_out_by_class");
    cs_json_integer(j, (long long)n->left_out_class);
    cs_json_key(j, "ways_left_out_closed");
    cs_json_integer(j, (long long)n->left_out_closed);
    cs_json_key(j, "demand_points_off_network");
    cs_json_integer(j, (long long)n->demand_off);
    cs_json_key(j, "residents_off_network");
    cs_json_number(j, n->demand_off_pop, 1);
    cs_json_key(j, "facilities_off_network");
    cs_json_integer(j, (long long)n->facilities_off);
    cs_json_key(j, "demand_points_on_islands");
    cs_json_integer(j, (long long)n->demand_islands);
    cs_json_key(j, "facilities_on_islands");
    cs_json_integer(j, (long long)n->facilities_islands);
    cs_json_end_object(j);
}

static void write_outcome(cs_json *j, const cs_target_outcome *o)
{
    cs_json_key(j, "value");
    cs_json_number(j, o->value, 6);
    cs_json_key(j, "pass");
    cs_json_boolean(j, o->pass);
    cs_json_key(j, "gap");
    cs_json_number(j, o->gap, 2);
    cs_json_key(j, "gap_text");
    cs_json_string(j, o->gap_text);
}

static void write_targets(cs_json *j, const cs_result *r)
{
    const cs_study *s = r->study;
    cs_json_key(j, "targets");
    cs_json_begin_array(j);
    for (size_t t = 0; t < s->settings.target_count; t++) {
        const cs_target *tg = &s->settings.targets[t];
        cs_json_begin_object(j);
        cs_json_key(j, "id");
        cs_json_string(j, tg->id);
        cs_json_key(j, "name");
        cs_json_string(j, tg->name);
        cs_json_key(j, "name_en");
        cs_json_string(j, tg->name_en);
        cs_json_key(j, "type");
        cs_json_string(j, cs_target_type_name(tg->type));
        cs_json_key(j, "scope");
        cs_json_string(j, tg->scope == CS_SCOPE_AREA ? "area" : "district");
        if (tg->kind >= 0) {
            cs_json_key(j, "kind");
            cs_json_string(j, s->settings.kinds[tg->kind].id);
        }
        if (tg->type == CS_TARGET_COVERAGE) {
            const cs_kind *kind = &s->settings.kinds[tg->kind];
            cs_json_key(j, "measure");
            cs_json_string(j, cs_measure_name(cs_measure_index(tg->measure)));
            cs_json_key(j, "band");
            cs_json_string(j, s->settings.band_names[tg->band]);
            bool metres = isnan(kind->threshold_min[tg->threshold]);
            cs_json_key(j, metres ? "within_m" : "within_min");
            cs_json_number(j, metres ? kind->threshold_m[tg->threshold]
                                     : kind->threshold_min[tg->threshold], 3);
        }
        cs_json_key(j, tg->type == CS_TARGET_LOAD ? "at_most" : "at_least");
        cs_json_number(j, tg->type == CS_TARGET_LOAD ? tg->at_most : tg->at_least, 6);
        cs_json_key(j, "district");
        cs_json_begin_object(j);
        write_outcome(j, &r->outcomes[cs_res_target(r, t, r->A)]);
        cs_json_end_object(j);
        cs_json_key(j, "areas_short");
        cs_json_begin_array(j);
        for (size_t a = 0; a < r->A; a++) {
            const cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
            if (!o->evaluated || o->pass)
                continue;
            cs_json_begin_object(j);
            cs_json_key(j, "id");
            cs_json_string(j, s->areas.id[a]);
            cs_json_key(j, "name");
            cs_json_string(j, s->areas.name[a]);
            write_outcome(j, o);
            cs_json_end_object(j);
        }
        cs_json_end_array(j);
        cs_json_end_object(j);
    }
    cs_json_end_array(j);
}

/* Where the population came from, how under-served patches and accessibility were
 * made, and the largest patches of each kind. */
static void write_demand(cs_json *j, const cs_result *r)
{
    const cs_study *s = r->study;
    cs_json_key(j, "population");
    cs_json_begin_object(j);
    cs_json_key(j, "source");
    cs_json_string(j, s->dem.source);
    cs_json_key(j, "estimated");
    cs_json_boolean(j, s->dem.estimated);
    if (!isnan(s->dem.year)) { /* population.year: the latest year's rows are used */
        cs_json_key(j, "year");
        cs_json_number(j, s->dem.year, 0);
    }
    cs_json_end_object(j);
    cs_json_key(j, "underserved");
    cs_json_begin_object(j);
    cs_json_key(j, "grid");
    cs_json_string(j, s->settings.patch_hex ? "hex" : "square");
    cs_json_key(j, "cell_m");
    cs_json_number(j, s->settings.patch_cell_m, 1);
    cs_json_key(j, "band");
    cs_json_string(j, s->settings.band_names[s->settings.patch_band]);
    cs_json_key(j, "kinds");
    cs_json_begin_object(j);
    for (size_t k = 0; k < r->K; k++) {
        const cs_patch_set *ps = &r->patches[k];
        cs_json_key(j, s->settings.kinds[k].id);
        cs_json_begin_object(j);
        cs_json_key(j, "patches");
        cs_json_integer(j, (long long)ps->count);
        cs_json_key(j, "largest");
        cs_json_begin_array(j);
        for (size_t p = 0; p < ps->count && p < CS_PATCHES_LISTED; p++) {
            cs_json_begin_object(j);
            cs_json_key(j, "uncovered");
            cs_json_number(j, ps->patches[p].uncovered, 1);
            cs_json_key(j, "area_km2");
            cs_json_number(j, ps->patches[p].area_m2 / 1e6, 4);
            cs_json_key(j, "nearest_facility_m");
            cs_json_number(j, ps->patches[p].nearest_m, 1);
            cs_json_key(j, "area_ids");
            cs_json_begin_array(j);
            for (size_t i = 0; i < ps->patches[p].area_count; i++)
                cs_json_string(j, s->areas.id[ps->patches[p].areas[i]]);
            cs_json_end_array(j);
            cs_json_end_object(j);
        }
        cs_json_end_array(j);
        if (s->settings.kinds[k].load_capacity >= 0) {
            cs_json_key(j, "accessibility");
            cs_json_begin_object(j);
            cs_json_key(j, "method");
            cs_decay_kind decay = s->settings.kinds[k].access_decay;
            cs_json_string(j, s->settings.kinds[k].access_three_step ? "3SFCA"
                              : decay == CS_DECAY_NONE               ? "2SFCA"
                              : decay >= CS_DECAY_POWER ? "gravity 2SFCA" /* Shen 1998 */
                                                        : "E2SFCA");
            cs_json_key(j, "decay");
            cs_json_string(j, cs_decay_name(s->settings.kinds[k].access_decay));
            if (s->settings.kinds[k].access_decay >= CS_DECAY_POWER) { /* gravity */
                cs_json_key(j, "beta");
                cs_json_number(j, s->settings.kinds[k].access_beta, 6);
                cs_json_key(j, "min_m");
                cs_json_number(j, s->settings.kinds[k].access_min_m, 3);
            }
            cs_json_key(j, "catchment_m");
            cs_json_number(j, cs_kind_reach_m(&s->settings.kinds[k]), 1);
            cs_json_key(j, "per");
            cs_json_number(j, s->settings.kinds[k].access_per, 0);
            cs_json_key(j, "demand");
            cs_json_string(j, s->settings.kinds[k].access_points ? "points" : "people");
            cs_json_key(j, "band");
            cs_json_string(j, s->settings.band_names[s->settings.kinds[k].load_band]);
            cs_json_key(j, "capacity");
            cs_json_string(j, s->settings.capacities[s->settings.kinds[k].load_capacity].id);
            cs_json_end_object(j);
        }
        cs_json_end_object(j);
    }
    cs_json_end_object(j);
    cs_json_end_object(j);
}

/* A result joined from shards (careshed merge): which, and whether some are missing. */
static void write_merged(cs_json *j, const cs_result *r)
{
    if (!r->merged.dir)
        return;
    cs_json_key(j, "shards");
    cs_json_begin_object(j);
    cs_json_key(j, "folder");
    cs_json_string(j, r->merged.dir);
    cs_json_key(j, "parts");
    cs_json_integer(j, (long long)r->merged.parts);
    cs_json_key(j, "partial");
    cs_json_boolean(j, r->merged.missing_count > 0);
    cs_json_key(j, "missing");
    cs_json_begin_array(j);
    for (size_t i = 0; i < r->merged.missing_count; i++)
        cs_json_integer(j, r->merged.missing[i]);
    cs_json_end_array(j);
    cs_json_end_object(j);
}

static void write_messages(cs_json *j, const cs_context *ctx)
{
    cs_json_key(j, "warnings");
    cs_json_begin_array(j);
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        char text[1024];
        cs_message_format(m, text, sizeof text);
        if (m->severity == CS_SEVERITY_WARNING)
            cs_json_string(j, text);
    }
    cs_json_end_array(j);
}

/* Whether column c of the area table is a coverage share ("centre_walk_15min_a60p_share"). */
static bool share_column(const cs_table *t, size_t c)
{
    size_t n = strlen(t->names[c]);
    return t->types[c] == CS_CELL_NUMBER && n > 6 && !strcmp(t->names[c] + n - 6, "_share");
}

/*
 * The figures a later report compares with (careshed report --baseline), unrounded, so
 * that what did not change shows no change: each target's district value, and each
 * area's coverage shares (the district last, as "district").
 */
static void write_exact(cs_json *j, const cs_result *r, const cs_table *t)
{
    const cs_study *s = r->study;
    cs_json_key(j, "exact");
    cs_json_begin_object(j);
    cs_json_key(j, "targets");
    cs_json_begin_object(j);
    for (size_t g = 0; g < s->settings.target_count; g++) {
        const cs_target_outcome *o = &r->outcomes[cs_res_target(r, g, r->A)];
        cs_json_key(j, s->settings.targets[g].id);
        cs_json_exact(j, o->evaluated ? o->value : NAN);
    }
    cs_json_end_object(j);
    cs_json_key(j, "areas");
    cs_json_begin_object(j);
    for (size_t row = 0; row < t->rows; row++) {
        cs_json_key(j, t->cells[row * t->columns].text); /* the id */
        cs_json_begin_object(j);
        for (size_t c = 0; c < t->columns; c++)
            if (share_column(t, c)) {
                const cs_cell *cell = &t->cells[row * t->columns + c];
                cs_json_key(j, t->names[c]);
                cs_json_exact(j, cell->type == CS_CELL_NUMBER ? cell->number : NAN);
            }
        cs_json_end_object(j);
    }
    cs_json_end_object(j);
    cs_json_end_object(j);
}

cs_status cs_out_summary_json(cs_context *ctx, const cs_result *r, const cs_table *t,
                              cs_buf *out)
{
    const cs_study *s = r->study;
    cs_json j;
    cs_json_init(&j, out, true);
    cs_json_begin_object(&j);
    cs_json_key(&j, "careshed_version");
    cs_json_string(&j, CARESHED_VERSION);
    cs_json_key(&j, "study");
    cs_json_string(&j, s->settings.name);
    cs_json_key(&j, "crs");
    cs_json_string(&j, s->settings.crs);
    write_options(&j, s);
    cs_status st = write_inputs(ctx, &j, s);
    if (st != CS_OK)
        return st;
    cs_json_key(&j, "counts");
    cs_json_begin_object(&j);
    cs_json_key(&j, "areas");
    cs_json_integer(&j, (long long)s->areas.count);
    cs_json_key(&j, "facilities");
    cs_json_integer(&j, (long long)s->fac.count);
    cs_json_key(&j, "demand_points");
    cs_json_integer(&j, (long long)s->dem.count);
    cs_json_key(&j, "demand_points_left_out");
    cs_json_integer(&j, (long long)s->dem.dropped_points);
    cs_json_key(&j, "residents_left_out");
    cs_json_number(&j, s->dem.dropped_pop, 1);
    cs_json_end_object(&j);
    write_demand(&j, r);
    if (r->has_network)
        write_network(&j, &r->net.report);
    write_costs(&j, s);
    cs_json_key(&j, "district");
    cs_json_begin_object(&j);
    size_t row = t->rows - 1; /* the district is the table's last row */
    for (size_t c = 0; c < t->columns; c++) {
        cs_json_key(&j, t->names[c]);
        cs_out_json_cell(&j, &t->cells[row * t->columns + c]);
    }
    cs_json_end_object(&j);
    write_targets(&j, r);
    cs_json_key(&j, "failed_targets");
    cs_json_integer(&j, (long long)cs_result_failed_targets(r));
    write_exact(&j, r, t);
    write_merged(&j, r);
    write_messages(&j, ctx);
    cs_json_end_object(&j);
    cs_buf_addc(out, '\n');
    return out->failed ? cs_nomem(ctx) : CS_OK;
}
