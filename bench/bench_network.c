/*
 * bench_network.c — the network cost field two ways on one study: one bounded search
 * per kind from all its facilities at once (what careshed does), and the
 * straightforward way, one bounded search per facility. Prints both times per kind,
 * their ratio, and checks that both give the same costs and nearest facilities.
 *
 *   bench_network STUDY.yaml [threads]
 */
#include "net/network.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The straightforward way for kind k; returns seconds. */
static double each_source(const cs_study *s, const cs_net *net, size_t k, double *cost,
                          long *nearest)
{
    cs_attach src;
    long *id = NULL;
    if (cs_net_kind_sources(&s->fac, net, k, &src, &id) != CS_OK) {
        fprintf(stderr, "bench_network: out of memory\n");
        exit(1);
    }
    double t0 = now();
    if (cs_net_each_source(&net->graph, &src, id, cs_kind_reach_m(&s->settings.kinds[k]), &net->demand,
                           cost, nearest) != CS_OK) {
        fprintf(stderr, "bench_network: out of memory\n");
        exit(1);
    }
    double t = now() - t0;
    cs_attach_free(&src);
    cs_free(id);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_network STUDY.yaml [threads]\n");
        return 2;
    }
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *s = NULL;
    if (cs_context_create(&ctx) != CS_OK || cs_config_create(ctx, &cfg) != CS_OK ||
        cs_config_load(ctx, cfg, argv[1]) != CS_OK || cs_study_load(ctx, cfg, &s) != CS_OK) {
        for (size_t i = 0; ctx && i < cs_context_message_count(ctx); i++) {
            char text[1024];
            cs_message_format(cs_context_get_message(ctx, i), text, sizeof text);
            fprintf(stderr, "bench_network: %s\n", text);
        }
        return 1;
    }
    cs_context_set_threads(ctx, argc > 2 ? atoi(argv[2]) : 0);
    cs_net net;
    if (cs_net_prepare(ctx, s, &net) != CS_OK) {
        fprintf(stderr, "bench_network: the network could not be built\n");
        return 1;
    }
    size_t n = s->dem.count;
    double *a = calloc(n + 1, sizeof *a), *b = calloc(n + 1, sizeof *b);
    long *na = calloc(n + 1, sizeof *na), *nb = calloc(n + 1, sizeof *nb);
    double one_total = 0, each_total = 0;
    int mismatches = 0;
    printf("%zu edges, %zu demand points, %zu facilities\n", net.graph.edge_count, n,
           s->fac.count);
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        cs_net_field field;
        memset(&field, 0, sizeof field);
        double t0 = now();
        cs_net_cost_field(ctx, s, &net, k, &field, a, na, NULL);
        double one = now() - t0;
        cs_net_field_free(&field);
        double each = each_source(s, &net, k, b, nb);
        for (size_t i = 0; i < n; i++)
            if (na[i] != nb[i] || !(a[i] == b[i] || (isinf(a[i]) && isinf(b[i]))))
                mismatches++;
        printf("  %-12s one search %8.1f ms   one per facility %8.1f ms   ratio %5.1fx\n",
               s->settings.kinds[k].id, one * 1000, each * 1000, each / one);
        one_total += one;
        each_total += each;
    }
    printf("  %-12s one search %8.1f ms   one per facility %8.1f ms   ratio %5.1fx\n",
           "all kinds", one_total * 1000, each_total * 1000, each_total / one_total);
    printf("  results identical: %s (%d differences)\n", mismatches ? "NO" : "yes",
           mismatches);
    free(a);
    free(b);
    free(na);
    free(nb);
    cs_net_free(&net);
    cs_study_destroy(s);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    return mismatches ? 1 : 0;
}
