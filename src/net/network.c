/*
 * network.c — the study's walking network made ready to search: the graph, the
 * attachment of every demand point and facility to its nearest edge, the network
 * report, and the network cost field of a kind (one search from all its facilities).
 */
#include "net/network.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* How many off-network facilities a warning names before it just counts. */
#define NAMED_FACILITIES 5

void cs_net_free(cs_net *net)
{
    if (!net)
        return;
    cs_graph_free(&net->graph);
    cs_segment_index_destroy(net->index);
    cs_attach_free(&net->demand);
    cs_attach_free(&net->facilities);
    memset(net, 0, sizeof *net);
}

static bool on_island(const cs_graph *g, const cs_attach *a, size_t i)
{
    if (a->edge[i] < 0)
        return false;
    uint32_t c = g->node_component[g->edge_u[a->edge[i]]];
    return g->component_len_m[c] < CS_ISLAND_SHARE * g->total_len_m;
}

static void count_points(cs_net *net, const cs_study *s)
{
    cs_network_report *r = &net->report;
    const cs_graph *g = &net->graph;
    for (size_t i = 0; i < s->dem.count; i++) {
        double pop = s->dem.pop[i * s->settings.band_count];
        if (net->demand.edge[i] < 0) {
            r->demand_off++;
            r->demand_off_pop += pop;
        } else if (on_island(g, &net->demand, i)) {
            r->demand_islands++;
            r->demand_islands_pop += pop;
        }
    }
    for (size_t f = 0; f < s->fac.count; f++) {
        if (net->facilities.edge[f] < 0)
            r->facilities_off++;
        else if (on_island(g, &net->facilities, f))
            r->facilities_islands++;
    }
}

/* "F12, F40 and 3 more" for the facilities matching off (or island). */
static void name_facilities(cs_buf *b, const cs_net *net, const cs_study *s, bool island)
{
    size_t named = 0, total = 0;
    for (size_t f = 0; f < s->fac.count; f++) {
        bool hit =
            island ? on_island(&net->graph, &net->facilities, f) : net->facilities.edge[f] < 0;
        if (!hit)
            continue;
        if (named < NAMED_FACILITIES)
            cs_buf_printf(b, "%s%s", named++ ? ", " : "", s->fac.id[f]);
        total++;
    }
    if (total > named)
        cs_buf_printf(b, " and %zu more", total - named);
}

static void warn_points(cs_context *ctx, const cs_net *net, const cs_study *s)
{
    const cs_network_report *r = &net->report;
    cs_where w = {.file = s->net.display, .field = "network.max_attach_m"};
    if (r->demand_off)
        cs_warn(ctx, &w, "extend the network, or raise network.max_attach_m",
                "%zu demand point%s (%.0f residents) %s more than %g m from every walkable "
                "way: %s as not covered along the network",
                r->demand_off, r->demand_off == 1 ? "" : "s", r->demand_off_pop,
                r->demand_off == 1 ? "is" : "are", r->max_attach_m,
                r->demand_off == 1 ? "it counts" : "they count");
    cs_buf names;
    cs_buf_init(&names);
    if (r->facilities_off) {
        name_facilities(&names, net, s, false);
        cs_warn(ctx, &w, "extend the network, or check the facilities' positions",
                "%zu facilities are more than %g m from every walkable way and serve no one "
                "along the network: %s",
                r->facilities_off, r->max_attach_m, names.data ? names.data : "");
    }
    w.field = NULL;
    if (r->demand_islands)
        cs_warn(ctx, &w,
                "check the network's connections there (missing links, bridges "
                "or crossings); `careshed check` describes the network",
                "%zu demand point%s (%.0f residents) attach%s to small islands of the "
                "network (components with less than 1%% of its length)",
                r->demand_islands, r->demand_islands == 1 ? "" : "s", r->demand_islands_pop,
                r->demand_islands == 1 ? "es" : "");
    if (r->facilities_islands) {
        cs_buf_clear(&names);
        name_facilities(&names, net, s, true);
        cs_warn(ctx, &w, "check the network's connections near them",
                "%zu facilities attach to small islands of the network: %s",
                r->facilities_islands, names.data ? names.data : "");
    }
    cs_buf_free(&names);
}

static void fill_report(cs_net *net, const cs_study *s)
{
    const cs_graph *g = &net->graph;
    cs_network_report *r = &net->report;
    memset(r, 0, sizeof *r);
    r->edges = g->edge_count;
    r->nodes = g->node_count;
    r->length_km = g->total_len_m / 1000.0;
    r->components = g->component_count;
    r->largest_share = g->total_len_m > 0 ? g->component_len_m[0] / g->total_len_m : 0;
    r->snapped_vertices = g->snapped_vertices;
    r->noded_crossings = g->noded_crossings;
    r->left_out_class = s->net.left_out_class;
    r->left_out_closed = s->net.left_out_closed;
    r->max_attach_m = s->net.max_attach_m;
    count_points(net, s);
}

cs_status cs_net_prepare(cs_context *ctx, const cs_study *s, cs_net *out)
{
    memset(out, 0, sizeof *out);
    if (!s->net.present)
        return CS_ERR_ARGUMENT;
    double t0 = cs_stage_begin();
    cs_progress(ctx, "network", 0);
    /* a shard's nodes are numbered as in the whole network (careshed shard) */
    const double *box = s->settings.shard_net_boxed ? s->settings.shard_net_box : NULL;
    cs_status st = cs_graph_build_boxed(&s->net.lines, s->net.snap_m, s->net.node_crossings,
                                        box, &out->graph);
    if (st == CS_OK && out->graph.edge_count == 0) {
        cs_where w = {.file = s->net.display};
        st = cs_error(ctx, CS_ERR_INPUT, &w,
                      "give a network with walkable ways of some "
                      "length",
                      "the network has no edge of positive length");
    }
    if (st == CS_OK)
        st = cs_segment_index_create(&out->graph, &out->index);
    cs_stage_end(ctx, "graph", t0);
    cs_progress(ctx, "network", 0.4);
    t0 = cs_stage_begin();
    if (st == CS_OK)
        st = cs_attach_points(&out->graph, out->index, s->dem.x, s->dem.y, s->dem.count,
                              s->net.max_attach_m, ctx->threads, &out->demand);
    if (st == CS_OK)
        st = cs_attach_points(&out->graph, out->index, s->fac.x, s->fac.y, s->fac.count,
                              s->net.max_attach_m, ctx->threads, &out->facilities);
    cs_stage_end(ctx, "attach", t0);
    if (st != CS_OK) {
        cs_progress(ctx, "network", 1);
        cs_net_free(out);
        return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
    }
    fill_report(out, s);
    warn_points(ctx, out, s);
    cs_progress(ctx, "network", 1);
    return CS_OK;
}

cs_status cs_net_kind_sources(const cs_facilities *fac, const cs_net *net, size_t k,
                              cs_attach *src, long **id)
{
    size_t n = 0;
    for (size_t f = 0; f < fac->count; f++)
        n += fac->kind[f] == (long)k;
    memset(src, 0, sizeof *src);
    *id = cs_calloc(n + 1, sizeof **id);
    src->edge = cs_calloc(n + 1, sizeof *src->edge);
    src->along_m = cs_calloc(n + 1, sizeof *src->along_m);
    src->access_m = cs_calloc(n + 1, sizeof *src->access_m);
    if (!*id || !src->edge || !src->along_m || !src->access_m) {
        cs_free(*id);
        *id = NULL;
        cs_attach_free(src);
        return CS_ERR_NOMEM;
    }
    for (size_t f = 0; f < fac->count; f++) {
        if (fac->kind[f] != (long)k)
            continue;
        src->edge[src->count] = net->facilities.edge[f];
        src->along_m[src->count] = net->facilities.along_m[f];
        src->access_m[src->count] = net->facilities.access_m[f];
        (*id)[src->count++] = (long)f;
    }
    return CS_OK;
}

/* The flagged points' tied facilities, into ties. */
static cs_status list_ties(const cs_net_field *field, const cs_attach *pts,
                           const unsigned char *tied, cs_ties *ties)
{
    long *ids = NULL;
    size_t cap = 0;
    cs_status st = CS_OK;
    for (size_t i = 0; st == CS_OK && i < pts->count; i++) {
        if (!tied[i])
            continue;
        size_t n = cs_net_point_ties(field, pts->edge[i], pts->along_m[i], &ids, &cap);
        if (n == (size_t)-1 || (n > 1 && !cs_ties_add(ties, i, ids, n)))
            st = CS_ERR_NOMEM;
    }
    cs_free(ids);
    return st;
}

/* Kind k's search from all its facilities, into field. Errors: NOMEM. */
static cs_status kind_search(const cs_study *s, const cs_net *net, size_t k,
                             cs_net_field *field)
{
    cs_attach src;
    long *id = NULL;
    cs_status st = cs_net_kind_sources(&s->fac, net, k, &src, &id);
    if (st == CS_OK)
        st = cs_net_field_compute(&net->graph, &src, id,
                                  cs_kind_reach_m(&s->settings.kinds[k]), field);
    cs_free(id);
    cs_attach_free(&src);
    return st;
}

cs_status cs_net_search_kinds(cs_context *ctx, const cs_study *s, const cs_net *net,
                              cs_net_field *fields)
{
    double t0 = cs_stage_begin();
    long K = (long)s->settings.kind_count;
    int failed = 0;
#ifdef _OPENMP
    int team = ctx->threads > 0 ? ctx->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) reduction(| : failed) \
    if (team > 1)
#endif
    for (long k = 0; k < K; k++)
        if (s->settings.kinds[k].measures & CS_MEASURE_NETWORK)
            failed |= kind_search(s, net, (size_t)k, &fields[k]) != CS_OK;
    cs_stage_end(ctx, "network search", t0);
    return failed ? cs_nomem(ctx) : CS_OK;
}

cs_status cs_net_cost_field(cs_context *ctx, const cs_study *s, const cs_net *net, size_t k,
                            cs_net_field *field, double *dist_m, long *nearest, cs_ties *ties)
{
    double t0 = cs_stage_begin();
    unsigned char *tied = ties ? cs_calloc(net->demand.count + 1, 1) : NULL;
    cs_status st = ties && !tied ? CS_ERR_NOMEM : CS_OK;
    if (st == CS_OK && !field->node_cost)
        st = kind_search(s, net, k, field);
    if (st == CS_OK)
        cs_net_field_points_tied(field, &net->demand, ctx->threads, dist_m, nearest, tied);
    if (st == CS_OK && ties)
        st = list_ties(field, &net->demand, tied, ties);
    cs_stage_end(ctx, "network search", t0);
    cs_free(tied);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : st;
}

/* ------------------------------------------------------------- public API */

cs_status cs_network_check(cs_context *ctx, const cs_study *s, cs_network_report *out)
{
    if (!ctx || !s || !out)
        return CS_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!s->net.present)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, "set network.path",
                        "the study has no walking network");
    cs_net net;
    cs_status st = cs_net_prepare(ctx, s, &net);
    if (st != CS_OK)
        return st;
    *out = net.report;
    cs_net_free(&net);
    return CS_OK;
}

cs_status cs_network_cost_field_compute(cs_context *ctx, const cs_study *s, size_t k,
                                        double *dist_m, long *nearest)
{
    if (!ctx || !s || !dist_m || k >= s->settings.kind_count)
        return CS_ERR_ARGUMENT;
    if (!s->net.present)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, "set network.path",
                        "the study has no walking network");
    cs_net net;
    cs_status st = cs_net_prepare(ctx, s, &net);
    if (st != CS_OK)
        return st;
    cs_net_field field;
    memset(&field, 0, sizeof field);
    st = cs_net_cost_field(ctx, s, &net, k, &field, dist_m, nearest, NULL);
    cs_net_field_free(&field);
    cs_net_free(&net);
    return st;
}
