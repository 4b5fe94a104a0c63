/*
 * test_alloc.c — the whole pipeline under an allocator that fails after N calls, for
 * every N until the run succeeds: each failure must come back as a clean error
 * (CS_ERR_NOMEM, or the error it caused), leave the output folder exactly as it was,
 * and leak nothing (AddressSanitizer's leak check runs at exit). The same for careshed
 * serve: building its answers, then an evaluation and a suggestion, each failing
 * allocation answered 503 with an error, never a crash, a leak or a wrong answer.
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"
#include "io/crs.h"
#include "serve/api.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One full run, written as careshed run writes it (the network let go once the service
 * areas are drawn: a failure after that must still leave a result that frees cleanly);
 * returns its status. */
static cs_status pipeline(const char *study_path, const char *out_dir)
{
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *study = NULL;
    cs_result *result = NULL;
    cs_status st = cs_context_create(&ctx);
    /* one thread: the test allocator's budget is a plain counter */
    if (st == CS_OK)
        cs_context_set_threads(ctx, 1);
    if (st == CS_OK)
        st = cs_config_create(ctx, &cfg);
    if (st == CS_OK)
        st = cs_config_load(ctx, cfg, study_path);
    if (st == CS_OK)
        st = cs_study_load(ctx, cfg, &study);
    if (st == CS_OK)
        st = cs_run(ctx, study, &result);
    if (st == CS_OK)
        st = cs_result_write_releasing(ctx, study, result, out_dir);
    /* a failed allocation must show up as an error, never as a silent success */
    if (st == CS_OK && ctx && cs_context_error_count(ctx) > 0)
        st = CS_ERR_INTERNAL;
    cs_result_destroy(result);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    return st;
}

/* The folder holds only the previous run's summary.json with its old content, and
 * no staging folder is left beside it. */
static bool folder_untouched(const char *parent, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    int others = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strcmp(e->d_name, "summary.json"))
            others++;
    closedir(d);
    if (!(d = opendir(parent)))
        return false;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, ".out.careshed-", 14))
            others++;
    closedir(d);
    char *path = tu_join(dir, "summary.json");
    char *text = tu_read(path, NULL);
    bool same = text && !strcmp(text, "old output\n");
    free(path);
    free(text);
    return same && others == 0;
}

/* Fail every allocation point in turn until a run succeeds; then every named output
 * must be there. */
static void fail_each_allocation(const char *dir, const char *study, const char *const *names,
                                 size_t nnames)
{
    char *out = tu_join(dir, "out");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && printf 'old output\\n' > '%s/summary.json'",
             out, out);
    assert_int_equal(tu_run(cmd, NULL), 0);
    long n = 0;
    cs_status st;
    for (;; n++) {
        tu_alloc_fail_after(n);
        st = pipeline(study, out);
        tu_alloc_restore();
        if (st == CS_OK)
            break;
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_INPUT || st == CS_ERR_STUDY ||
                    st == CS_ERR_OUTPUT || st == CS_ERR_CRS || st == CS_ERR_INTERNAL);
        assert_true(folder_untouched(dir, out));
        assert_true(n < 100000);
    }
    tu_alloc_restore();
    for (size_t i = 0; i < nnames; i++) {
        char *p = tu_join(out, names[i]);
        assert_true(tu_exists(p));
        free(p);
    }
    print_message("%ld allocation points failed cleanly\n", n);
    assert_true(n > 100);
    free(out);
}

static void every_allocation_failure_is_clean(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fx_data d;
    fx_random(&d, 3, 2, 1, 800, 6, 40);
    char *study = fx_write(dir, &d, "targets:\n  t1: {type: count, kind: a, at_least: 5}\n");
    const char *names[] = {"areas.geojson", "service-circles.geojson", "facilities.geojson",
                           "areas.csv", "summary.json"};
    fail_each_allocation(dir, study, names, 5);
    fx_free(&d);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* The first `from` in the file at path becomes `to`. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
    char *text = tu_read(path, NULL);
    char *at = strstr(text, from);
    assert_non_null(at);
    FILE *f = fopen(path, "w");
    fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    fclose(f);
    free(text);
}

/* Kind b of a fixture study gets a capacity (accessibility and load are computed). */
static void give_b_a_capacity(const char *study)
{
    replace_in_file(study, "unit: meal sites}",
                    "unit: meal sites, load_capacity: beds, load_band: 65+}");
}

/* The same with a walking network, its service areas (drawn on cells) and per-facility
 * areas, and accessibility along it. */
static void every_allocation_failure_is_clean_with_network(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fx_data d;
    fx_random(&d, 4, 2, 1, 800, 6, 40);
    char net[2048];
    snprintf(net, sizeof net,
             "{\"type\":\"FeatureCollection\",\"features\":["
             "{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},"
             "\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
             "[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]}},"
             "{\"type\":\"Feature\",\"properties\":{\"highway\":\"footway\"},"
             "\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
             "[[%.1f,%.1f],[%.1f,%.1f]]}}]}\n",
             FX_X0, FX_Y0 + 400, FX_X0 + 800, FX_Y0 + 400, FX_X0 + 1600, FX_Y0 + 400,
             FX_X0 + 800, FX_Y0, FX_X0 + 800, FX_Y0 + 800);
    free(tu_write(dir, "network.geojson", net));
    char *study = fx_write(dir, &d, "network: {path: network.geojson, crs: EPSG:32651, "
                                    "facility_areas: true, area_max_pieces: 0}\n"
                                    "measure: network\n");
    give_b_a_capacity(study);
    const char *names[] = {"areas.geojson", "service-circles.geojson",
                           "service-network.geojson", "facility-service-areas.geojson",
                           "facilities.geojson", "areas.csv", "summary.json"};
    fail_each_allocation(dir, study, names, 7);
    fx_free(&d);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* Population as residential blocks spread over the streets, with a kind that has a
 * capacity (accessibility, load) and the demand side's files. */
static void every_allocation_failure_is_clean_with_blocks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fx_data d;
    fx_random(&d, 5, 2, 1, 800, 6, 0);
    char *study = fx_write(dir, &d, NULL);
    char blocks[1024];
    snprintf(blocks, sizeof blocks,
             "{\"type\":\"FeatureCollection\",\"features\":["
             "{\"type\":\"Feature\",\"properties\":{\"pop\":300,\"pop65\":60},"
             "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
             "[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]}}]}\n",
             FX_X0 + 700, FX_Y0 + 300, FX_X0 + 900, FX_Y0 + 300, FX_X0 + 900, FX_Y0 + 400,
             FX_X0 + 700, FX_Y0 + 400, FX_X0 + 700, FX_Y0 + 300);
    free(tu_write(dir, "blocks.geojson", blocks));
    /* the population from the blocks; kind b gets a capacity */
    replace_in_file(study, "  path: population.csv\n", "  path: blocks.geojson\n");
    give_b_a_capacity(study);
    const char *names[] = {"areas.geojson", "facilities.geojson", "underserved.geojson",
                           "demand-access.csv", "demand.fgb", "demand.qml", "summary.json"};
    fail_each_allocation(dir, study, names, 7);
    fx_free(&d);
    free(study);
    tu_rmtree(dir);
    free(dir);
}

/* What the server's calls are given and answer, for the thread that makes them. */
typedef struct server_calls {
    cs_context *ctx;
    cs_study *study;
    cs_result *result;
    char evaluate[256];
    long failed; /* allocation points failed cleanly */
} server_calls;

/* A call under each allocation failure in turn, until it answers as it does without
 * one: each failure a 503 with an error message. */
static void fail_each_call(server_calls *c, const cs_api *api,
                           void (*call)(const cs_api *, const char *, size_t, cs_reply *),
                           const char *body)
{
    cs_reply want = {0};
    cs_buf_init(&want.body);
    call(api, body, strlen(body), &want);
    assert_int_equal(want.status, 200);
    for (long n = 0;; n++) {
        cs_reply got = {0};
        cs_buf_init(&got.body);
        tu_alloc_fail_after(n);
        call(api, body, strlen(body), &got);
        tu_alloc_restore();
        bool done = got.status == 200;
        if (done) {
            assert_int_equal(got.body.len, want.body.len);
            assert_memory_equal(got.body.data, want.body.data, want.body.len);
        } else {
            const char *text = got.fixed ? got.fixed : got.body.data;
            if (got.status != 503 || !text || !strstr(text, "\"error\""))
                fail_msg("allocation %ld: status %u: %s", n, got.status, text ? text : "");
            c->failed++;
        }
        cs_buf_free(&got.body);
        if (done)
            break;
        assert_true(n < 100000);
    }
    cs_buf_free(&want.body);
}

/* On a thread of its own, as the server's, so that its context goes with it. */
static void *server_calls_thread(void *arg)
{
    server_calls *c = arg;
    cs_serve_options opt = {.max_proposals = 4};
    cs_api api;
    for (long n = 0;; n++) {
        tu_alloc_fail_after(n);
        cs_status st = cs_api_init(c->ctx, &api, c->study, c->result, &opt);
        tu_alloc_restore();
        if (st == CS_OK)
            break;
        assert_true(st == CS_ERR_NOMEM || st == CS_ERR_CRS || st == CS_ERR_INTERNAL);
        c->failed++;
        assert_true(n < 100000);
    }
    fail_each_call(c, &api, cs_api_evaluate, c->evaluate);
    fail_each_call(c, &api, cs_api_suggest, "{\"kind\": \"a\", \"k\": 2}");
    /* capacitated: the transportation problems and assignment.csv's text */
    fail_each_call(c, &api, cs_api_suggest, "{\"kind\": \"a\", \"k\": 2, \"model\": "
                   "\"p-median\", \"capacitated\": true, \"site_capacity\": 30}");
    cs_api_free(&api);
    return NULL;
}

static void every_allocation_failure_in_the_server_is_clean(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fx_data d;
    fx_random(&d, 6, 2, 1, 800, 6, 40);
    char *path = fx_write(dir, &d, "targets:\n  t1: {type: count, kind: a, at_least: 5}\n");
    server_calls c = {0};
    cs_config *cfg = NULL;
    assert_int_equal(cs_context_create(&c.ctx), CS_OK);
    cs_context_set_threads(c.ctx, 1);
    assert_int_equal(cs_config_create(c.ctx, &cfg), CS_OK);
    assert_int_equal(cs_config_load(c.ctx, cfg, path), CS_OK);
    assert_int_equal(cs_config_set(c.ctx, cfg, "kinds.a.load_capacity", "beds"), CS_OK);
    assert_int_equal(cs_study_load(c.ctx, cfg, &c.study), CS_OK);
    assert_int_equal(cs_run(c.ctx, c.study, &c.result), CS_OK);
    /* a proposal in the first street, in WGS84 */
    double x = FX_X0 + 400, y = FX_Y0 + 400;
    cs_transform *to_wgs84 = NULL;
    assert_int_equal(cs_transform_create(c.ctx, "EPSG:32651", "EPSG:4326", NULL, &to_wgs84),
                     CS_OK);
    cs_transform_apply(to_wgs84, &x, &y, 1);
    cs_transform_destroy(to_wgs84);
    snprintf(c.evaluate, sizeof c.evaluate,
             "{\"proposals\": [{\"kind\": \"a\", \"lon\": %.7f, \"lat\": %.7f}, "
             "{\"kind\": \"b\", \"lon\": %.7f, \"lat\": %.7f, \"capacity\": 20}]}",
             x, y, x, y);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, server_calls_thread, &c), 0);
    pthread_join(th, NULL);
    print_message("%ld allocation points of the server failed cleanly\n", c.failed);
    assert_true(c.failed > 50);
    cs_result_destroy(c.result);
    cs_study_destroy(c.study);
    cs_config_destroy(cfg);
    cs_context_destroy(c.ctx);
    fx_free(&d);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allocation_failure_is_clean),
        cmocka_unit_test(every_allocation_failure_is_clean_with_network),
        cmocka_unit_test(every_allocation_failure_is_clean_with_blocks),
        cmocka_unit_test(every_allocation_failure_in_the_server_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
