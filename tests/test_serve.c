/*
 * test_serve.c — careshed serve's JSON API over real HTTP (a plain socket client):
 * every call, the token, Host and Origin checks, the limits, each error's status and
 * message, that the server goes on serving after bad requests, concurrent
 * evaluations, and the answers against the library's own (cs_site_evaluate,
 * cs_result_target, the study's counts) on the bundled sample; the basemap's address
 * checks and security policy; a run along the network: its service areas, the
 * network itself and the proposals' effects area by area; --open.
 */
#include "fixture.h"
#include "io/study.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static fx_env env;
static cs_server *server;
static char last_head[8192]; /* the status line and headers of the last reply */

/* One HTTP/1.1 exchange; returns the status, the body into *body (free()). */
static int http(unsigned port, const char *method, const char *path, const char *headers,
                const char *body, char **reply)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t blen = body ? strlen(body) : 0;
    char *req = malloc(blen + 4096);
    int n = snprintf(req, blen + 4096,
                     "%s %s HTTP/1.1\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, headers, blen, body ? body : "");
    for (int sent = 0; sent < n;) {
        ssize_t k = send(fd, req + sent, (size_t)(n - sent), 0);
        if (k <= 0)
            break; /* the server may close early on a refused body */
        sent += (int)k;
    }
    free(req);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (ssize_t k; (k = recv(fd, buf + len, cap - len - 1, 0)) > 0;) {
        len += (size_t)k;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fd);
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    char *start = strstr(buf, "\r\n\r\n");
    snprintf(last_head, sizeof last_head, "%.*s", start ? (int)(start - buf) : 0, buf);
    if (reply)
        *reply = strdup(start ? start + 4 : "");
    free(buf);
    return status;
}

/* The usual headers: the server's own Host, and the token. */
static void headers(char *out, size_t n, const char *host, bool token)
{
    snprintf(out, n, "Host: %s\r\n%s%s%s", host, token ? "X-Careshed-Token: " : "",
             token ? cs_serve_token(server) : "", token ? "\r\n" : "");
}

static int call(const char *method, const char *path, const char *body, char **reply)
{
    char h[256], host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", cs_serve_port(server));
    headers(h, sizeof h, host, true);
    return http(cs_serve_port(server), method, path, h, body, reply);
}

static int setup(void **state)
{
    (void)state;
    memset(&env, 0, sizeof env);
    if (fx_env_open_file(&env, strdup(CS_SOURCE_DIR "/geodata/study.yaml")) != CS_OK ||
        cs_config_set(env.ctx, env.cfg, "measure", "straight") != CS_OK)
        return -1;
    fx_env_run_ok(&env);
    cs_serve_options o = {.max_body = 4096, .max_proposals = 3};
    return cs_serve_start(env.ctx, env.study, env.result, &o, &server) == CS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cs_serve_stop(server);
    fx_env_close(&env);
    return 0;
}

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    return o;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, key, &v));
    return v;
}

/* GET /api/study: the study's counts, kinds and targets, as the library has them. */
static void study_call(void **state)
{
    (void)state;
    char *body = NULL;
    assert_int_equal(call("GET", "/api/study", NULL, &body), 200);
    json_object *o = parse(body);
    assert_int_equal(json_object_get_int(member(o, "areas")), cs_study_area_count(env.study));
    assert_int_equal(json_object_get_int(member(o, "demand_points")),
                     cs_study_demand_count(env.study));
    json_object *kinds = member(o, "kinds");
    assert_int_equal(json_object_array_length(kinds), cs_study_kind_count(env.study));
    assert_string_equal(json_object_get_string(member(json_object_array_get_idx(kinds, 0), "id")),
                        cs_study_kind_id(env.study, 0));
    json_object *targets = member(o, "targets");
    assert_int_equal(json_object_array_length(targets), cs_result_target_count(env.result));
    for (size_t t = 0; t < cs_result_target_count(env.result); t++) {
        cs_target_outcome want;
        cs_result_target(env.result, t, CS_DISTRICT, &want);
        json_object *got = json_object_array_get_idx(targets, t);
        assert_string_equal(json_object_get_string(member(got, "id")),
                            cs_result_target_id(env.result, t));
        if (want.evaluated)
            assert_true(fabs(json_object_get_double(member(got, "value")) - want.value) <=
                        1e-4 * fmax(1, fabs(want.value)));
    }
    json_object_put(o);
    free(body);
}

/* The layers: one feature per street, per facility, per kind and threshold; the
 * under-served patches as the run writes them. */
static void layer_calls(void **state)
{
    (void)state;
    size_t thresholds = 0;
    for (size_t k = 0; k < cs_study_kind_count(env.study); k++)
        thresholds += cs_study_threshold_count(env.study, k);
    /* a straight-line run: a service circle per kind and threshold */
    const char *paths[] = {"/api/areas", "/api/facilities", "/api/circles"};
    size_t want[] = {cs_study_area_count(env.study), cs_study_facility_count(env.study),
                     thresholds};
    for (size_t i = 0; i < 3; i++) {
        char *body = NULL;
        assert_int_equal(call("GET", paths[i], NULL, &body), 200);
        json_object *o = parse(body);
        assert_string_equal(json_object_get_string(member(o, "type")), "FeatureCollection");
        assert_int_equal(json_object_array_length(member(o, "features")), want[i]);
        json_object_put(o);
        free(body);
    }
    char *body = NULL, *tmp = tu_mkdtemp(), *dir = tu_join(tmp, "out");
    assert_int_equal(cs_result_write(env.ctx, env.study, env.result, dir), CS_OK);
    char *file = tu_join(dir, "underserved.geojson");
    assert_int_equal(call("GET", "/api/underserved", NULL, &body), 200);
    json_object *got = parse(body), *written = json_object_from_file(file);
    assert_non_null(written);
    assert_int_equal(json_object_array_length(member(got, "features")),
                     json_object_array_length(member(written, "features")));
    json_object_put(got);
    json_object_put(written);
    free(body);
    free(file);
    free(dir);
    tu_rmtree(tmp);
    free(tmp);
}

/* The page: "/" needs the token, its script and style (no data) only the Host. */
static void page_and_its_files(void **state)
{
    (void)state;
    unsigned port = cs_serve_port(server);
    char h[256], host[64], *body = NULL;
    snprintf(host, sizeof host, "127.0.0.1:%u", port);
    headers(h, sizeof h, host, false);
    assert_int_equal(http(port, "GET", "/", h, NULL, NULL), 401);
    assert_int_equal(http(port, "GET", "/app.js", h, NULL, &body), 200);
    assert_non_null(strstr(body, "api/evaluate"));
    free(body);
    assert_int_equal(http(port, "GET", "/vendor/leaflet.js", h, NULL, &body), 200);
    assert_true(strlen(body) > 100000);
    free(body);
    assert_int_equal(http(port, "GET", "/vendor/LICENSE-leaflet.txt", h, NULL, &body), 200);
    assert_non_null(strstr(body, "BSD 2-Clause"));
    free(body);
    assert_int_equal(call("GET", "/", NULL, &body), 200);
    assert_non_null(strstr(body, "<script src=\"app.js\">"));
    free(body);
    /* another Host gets none of them */
    headers(h, sizeof h, "evil.example:80", false);
    assert_int_equal(http(port, "GET", "/app.js", h, NULL, NULL), 403);
}

/* The token, by header or query; the Host and Origin; each refused with its status. */
static void token_host_and_origin(void **state)
{
    (void)state;
    unsigned port = cs_serve_port(server);
    char h[512], host[64], path[160], *body = NULL;
    snprintf(host, sizeof host, "127.0.0.1:%u", port);
    headers(h, sizeof h, host, false);
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, &body), 401);
    assert_non_null(strstr(body, "token"));
    free(body);
    snprintf(path, sizeof path, "/api/study?token=%s", cs_serve_token(server));
    assert_int_equal(http(port, "GET", path, h, NULL, NULL), 200);
    assert_int_equal(http(port, "GET", "/api/study?token=0123", h, NULL, NULL), 401);
    /* another name for this computer, or another site's page */
    headers(h, sizeof h, "evil.example:80", true);
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, &body), 403);
    assert_non_null(strstr(body, "its own address"));
    free(body);
    snprintf(host, sizeof host, "localhost:%u", port);
    headers(h, sizeof h, host, true);
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, NULL), 200);
    size_t used = strlen(h);
    snprintf(h + used, sizeof h - used, "Origin: http://evil.example\r\n");
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, NULL), 403);
    snprintf(h + used, sizeof h - used, "Origin: http://localhost:%u\r\n", port);
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, NULL), 200);
}

/* One proposal evaluated through the API and by the library directly: the same. */
static void evaluate_matches_the_library(void **state)
{
    (void)state;
    char *body = NULL;
    assert_int_equal(call("POST", "/api/evaluate",
                          "{\"proposals\": [{\"id\": \"P\", \"kind\": \"centre\", "
                          "\"lon\": 121.42, \"lat\": 31.11}]}",
                          &body),
                     200);
    cs_site_input in = {.id = "P", .lon = 121.42, .lat = 31.11, .kind = "centre",
                        .capacity = NAN};
    cs_site *site = NULL;
    assert_int_equal(cs_site_evaluate(env.ctx, env.result, &in, 1, NULL, &site), CS_OK);
    json_object *o = parse(body);
    json_object *p = json_object_array_get_idx(member(o, "proposals"), 0);
    assert_string_equal(json_object_get_string(member(p, "id")), "P");
    cs_site_figures f;
    cs_site_get_figures(site, 0, &f);
    assert_true(fabs(json_object_get_double(member(p, "within")) - f.within) < 0.01);
    json_object *newly = member(p, "newly");
    size_t row = 0;
    for (size_t k = 0; k < cs_study_kind_count(env.study); k++)
        for (size_t t = 0; t < cs_study_threshold_count(env.study, k); t++, row++) {
            json_object *res = member(json_object_array_get_idx(newly, row), "residents");
            for (size_t b = 0; b < cs_study_band_count(env.study); b++) {
                double want = NAN;
                cs_site_newly(site, 0, k, t, b, CS_DISTRICT, &want);
                double got = json_object_get_double(member(res, cs_study_band_name(env.study, b)));
                assert_true(fabs(got - want) < 0.01);
            }
        }
    /* one proposal: all together newly covers what it alone does */
    json_object *together = member(member(o, "together"), "newly");
    for (size_t i = 0; i < row; i++) {
        json_object *a = member(json_object_array_get_idx(newly, i), "residents");
        json_object *t = member(json_object_array_get_idx(together, i), "residents");
        assert_true(fabs(json_object_get_double(member(a, "total")) -
                         json_object_get_double(member(t, "total"))) < 0.01);
    }
    cs_site_destroy(site);
    json_object_put(o);
    free(body);
}

/* Suggestions: the sites careshed site --suggest chooses, with their gains. */
static void suggest_matches_the_library(void **state)
{
    (void)state;
    char *body = NULL;
    assert_int_equal(call("POST", "/api/suggest", "{\"kind\": \"centre\", \"k\": 3}", &body),
                     200);
    cs_suggest_options opt = {.kind = "centre", .k = 3, .within_min = NAN, .reach_share = NAN,
                              .exact = 1, .exact_time_s = 5};
    cs_suggest_report report;
    cs_site *site = NULL;
    assert_int_equal(cs_site_suggest(env.ctx, env.result, &opt, &site, &report), CS_OK);
    json_object *o = parse(body), *list = member(o, "suggestions");
    assert_int_equal(json_object_array_length(list), cs_site_count(site));
    for (size_t p = 0; p < cs_site_count(site); p++) {
        json_object *one = json_object_array_get_idx(list, p);
        double gain = json_object_get_double(member(one, "gain"));
        assert_true(fabs(gain - cs_site_gain(site, p)) < 0.01);
    }
    assert_true(fabs(json_object_get_double(member(o, "greedy_covered")) - report.greedy_covered) <
                0.01);
    assert_string_equal(json_object_get_string(member(o, "method")),
                        report.exact_listed ? "exact" : "greedy");
    cs_site_destroy(site);
    json_object_put(o);
    free(body);
    const char *bad[] = {"{\"kind\": \"centre\", \"k\": 0}", "{\"kind\": \"centre\", \"k\": 2.5}",
                         "{\"kind\": \"centre\", \"k\": 51}", "{\"k\": 2}", "[]", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(call("POST", "/api/suggest", bad[i], &body), 400);
        free(body);
    }
    assert_int_equal(call("POST", "/api/suggest", "{\"kind\": \"hospital\", \"k\": 2}", &body),
                     400);
    assert_non_null(strstr(body, "unknown kind 'hospital'"));
    free(body);
}

/* The other models through the API: the walks (p-median) and the demand served
 * (capacitated covering) are the library's for the same options; bad model options
 * are refused, saying what to send. */
static void suggest_models_match_the_library(void **state)
{
    (void)state;
    const struct {
        const char *request, *key;
        cs_site_model model;
        int capacitated;
    } cases[] = {
        {"{\"kind\": \"centre\", \"k\": 2, \"model\": \"p-median\"}", "walk_after_m",
         CS_MODEL_MEDIAN, 0},
        {"{\"kind\": \"daycare\", \"k\": 2, \"capacitated\": true, \"site_capacity\": 100}",
         "served_after", CS_MODEL_COVER, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *body = NULL;
        assert_int_equal(call("POST", "/api/suggest", cases[c].request, &body), 200);
        cs_suggest_options opt = {.kind = cases[c].capacitated ? "daycare" : "centre", .k = 2,
                                  .within_min = NAN, .reach_share = NAN, .exact = 1,
                                  .exact_time_s = 5, .model = cases[c].model,
                                  .capacitated = cases[c].capacitated, .site_capacity = 100};
        cs_suggest_report report;
        cs_site *site = NULL;
        assert_int_equal(cs_site_suggest(env.ctx, env.result, &opt, &site, &report), CS_OK);
        json_object *o = parse(body);
        double want = cases[c].capacitated ? report.served_after
                      : report.exact_listed ? report.exact_walk
                                            : report.heuristic_walk;
        double got = json_object_get_double(member(o, cases[c].key));
        if (fabs(got - want) > 0.051) /* (walks are sent to 0.1 m) */
            fail_msg("%s: %s %g, the library %g", cases[c].request, cases[c].key, got, want);
        assert_string_equal(json_object_get_string(member(o, "model")),
                            cs_site_model_name(cases[c].model));
        assert_int_equal(json_object_array_length(member(o, "suggestions")),
                         cs_site_count(site));
        cs_site_destroy(site);
        json_object_put(o);
        free(body);
    }
    const struct {
        const char *request, *says;
    } bad[] = {
        {"{\"kind\": \"centre\", \"k\": 2, \"model\": \"median\"}", "unknown \\\"model\\\""},
        {"{\"kind\": \"centre\", \"k\": 2, \"capacitated\": 1}", "is true or false"},
        {"{\"kind\": \"meal\", \"k\": 2, \"capacitated\": true, \"site_capacity\": -3}",
         "is a number > 0"},
        {"{\"kind\": \"centre\", \"k\": 2, \"capacitated\": true, \"site_capacity\": 3}",
         "kind 'centre' has no capacity to fill"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *body = NULL;
        assert_int_equal(call("POST", "/api/suggest", bad[i].request, &body), 400);
        if (!strstr(body, bad[i].says))
            fail_msg("%s: %s", bad[i].request, body);
        free(body);
    }
}

/* Each bad request: its status and a message saying what is wrong; the server goes
 * on serving. */
static void bad_requests(void **state)
{
    (void)state;
    const struct {
        const char *method, *path, *body;
        int status;
        const char *says;
    } cases[] = {
        {"POST", "/api/evaluate", "{\"proposals\": [", 400, "not one JSON value"},
        {"POST", "/api/evaluate", "[1, 2]", 400, "no \\\"proposals\\\" list"},
        {"POST", "/api/evaluate", "{\"proposals\": []}", 400, "send 1 to 3"},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": NaN}]}", 400,
         "finite numbers"},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"centre\", \"lon\": \"121.42\", \"lat\": 31.1}]}",
         400, "proposal 1"},
        {"POST", "/api/evaluate", "{\"proposals\": [{\"lon\": 121.42, \"lat\": 31.1}]}", 400,
         "\\\"kind\\\""},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"hospital\", \"lon\": 121.42, \"lat\": 31.11}]}", 400,
         "unknown kind 'hospital'"},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 10, \"lat\": 10}]}", 400,
         "outside the study area"},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": 31.11, "
         "\"capacity\": -5}]}",
         400, "proposal 1"},
        {"POST", "/api/evaluate",
         "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": 31.11}, "
         "{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": 31.11}, "
         "{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": 31.11}, "
         "{\"kind\": \"centre\", \"lon\": 121.42, \"lat\": 31.11}]}",
         413, "4 proposals"},
        {"GET", "/api/evaluate", NULL, 405, "use POST"},
        {"POST", "/api/study", "{}", 405, "use GET"},
        {"GET", "/etc/passwd", NULL, 404, "no such call"},
        {"GET", "/api/study/../../x", NULL, 404, "no such call"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = NULL;
        int status = call(cases[i].method, cases[i].path, cases[i].body, &body);
        if (status != cases[i].status || !strstr(body, cases[i].says))
            fail_msg("case %zu: %d %s", i, status, body);
        free(body);
    }
    /* a body over the limit (4096 bytes here) */
    char *big = malloc(6000);
    memset(big, ' ', 5999);
    big[5999] = '\0';
    char *body = NULL;
    assert_int_equal(call("POST", "/api/evaluate", big, &body), 413);
    assert_non_null(strstr(body, "over 4096 bytes"));
    free(body);
    free(big);
    assert_int_equal(call("GET", "/api/study", NULL, NULL), 200);
}

/* Evaluations from several clients at once: every answer whole and the same. */
static void *evaluate_once(void *arg)
{
    char **out = arg;
    if (call("POST", "/api/evaluate",
             "{\"proposals\": [{\"kind\": \"meal\", \"lon\": 121.40, \"lat\": 31.05}]}",
             out) != 200) {
        free(*out);
        *out = NULL;
    }
    return NULL;
}

static void concurrent_evaluations(void **state)
{
    (void)state;
    enum { N = 12 };
    pthread_t th[N];
    char *bodies[N] = {0};
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, evaluate_once, &bodies[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_non_null(bodies[i]);
        assert_string_equal(bodies[i], bodies[0]);
    }
    for (int i = 0; i < N; i++)
        free(bodies[i]);
}

/* An exclusion layer (water, industry): a proposal in it is refused with a message
 * naming the zone's file, one beside it is evaluated; a missing file stops the start. */
static void exclusion_zones(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *zones = tu_write(dir, "water.geojson",
                           "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": "
                           "\"Feature\", \"properties\": {}, \"geometry\": {\"type\": "
                           "\"Polygon\", \"coordinates\": [[[121.41, 31.10], [121.43, 31.10], "
                           "[121.43, 31.12], [121.41, 31.12], [121.41, 31.10]]]}}]}");
    cs_server *other = NULL;
    cs_serve_options o = {.exclude = zones};
    assert_int_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &other), CS_OK);
    cs_server *main_server = server;
    server = other; /* call() talks to it */
    char *body = NULL;
    assert_int_equal(call("POST", "/api/evaluate",
                          "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.42, "
                          "\"lat\": 31.11}]}", &body), 400);
    assert_non_null(strstr(body, "lies in an exclusion zone"));
    assert_non_null(strstr(body, "water.geojson"));
    free(body);
    assert_int_equal(call("POST", "/api/evaluate",
                          "{\"proposals\": [{\"kind\": \"centre\", \"lon\": 121.40, "
                          "\"lat\": 31.05}]}", NULL), 200);
    /* the suggestions keep out of it */
    assert_int_equal(call("POST", "/api/suggest", "{\"kind\": \"centre\", \"k\": 5}", &body),
                     200);
    json_object *root = parse(body), *list = member(root, "suggestions");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *one = json_object_array_get_idx(list, i);
        double lon = json_object_get_double(member(one, "lon"));
        double lat = json_object_get_double(member(one, "lat"));
        assert_false(lon > 121.41 && lon < 121.43 && lat > 31.10 && lat < 31.12);
    }
    json_object_put(root);
    free(body);
    server = main_server;
    cs_serve_stop(other);
    /* a zone file that is not there: said, nothing started */
    char *missing = tu_join(dir, "lake.geojson");
    o.exclude = missing;
    other = NULL;
    assert_int_not_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &other), CS_OK);
    assert_null(other);
    assert_true(tu_has_message(env.ctx, "lake.geojson", NULL));
    free(missing);
    free(zones);
    tu_rmtree(dir);
    free(dir);
}

/* The basemap (--tiles): an address that is not an XYZ template, holds what could end
 * the security policy, or tiles in a CRS the page cannot match, is refused with what to
 * give; a good one reaches the page with its shift and the policy lets in its host. */
static void tiles_for_the_basemap(void **state)
{
    (void)state;
    const struct {
        const char *url, *crs, *says;
    } bad[] = {
        {"tile.example.org/{z}/{x}/{y}.png", NULL, "begin with https://"},
        {"ftp://tile.example.org/{z}/{x}/{y}.png", NULL, "begin with https://"},
        {"https://tile.example.org/{z}/{x}.png", NULL, "{z}, {x} and {y}"},
        {"https://t.example.org/{z}/{x}/{y}.png; script-src *", NULL, "quotes"},
        {"https://t.example.org/{z}/{x}/{y}.png'", NULL, "quotes"},
        {"https://a.{s}.example.org/{z}/{x}/{y}.png", NULL, "first part of the host"},
        {"https:///{z}/{x}/{y}.png", NULL, "names no host"},
        {"https://t.example.org/{z}/{x}/{y}.png", "BD-09", "Baidu"},
        {"https://t.example.org/{z}/{x}/{y}.png", "EPSG:4549", "give WGS84"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_server *other = NULL;
        cs_serve_options o = {.tiles = bad[i].url, .tiles_crs = bad[i].crs};
        assert_int_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &other),
                         CS_ERR_ARGUMENT);
        assert_null(other);
        if (!tu_has_message(env.ctx, bad[i].says, NULL))
            fail_msg("case %zu (%s): no message saying '%s'", i, bad[i].url, bad[i].says);
    }
    const struct {
        const char *url, *crs, *policy, *shift;
    } good[] = {
        {"https://{s}.tile.example.org/{z}/{x}/{y}.png", NULL, "https://*.tile.example.org",
         NULL},
        {"https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8", NULL,
         "https://*.is.autonavi.com", "gcj02"},
        {"http://127.0.0.1:9/{z}/{x}/{-y}.png", "GCJ-02", "http://127.0.0.1:9", "gcj02"},
        {"https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={-y}", "WGS84", "https://rt0.map.gtimg.com",
         NULL},
    };
    cs_server *main_server = server;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cs_serve_options o = {.tiles = good[i].url, .tiles_crs = good[i].crs};
        assert_int_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &server), CS_OK);
        char *body = NULL, policy[300];
        assert_int_equal(call("GET", "/api/study", NULL, &body), 200);
        snprintf(policy, sizeof policy, "img-src 'self' data: blob: %s;", good[i].policy);
        if (!strstr(last_head, policy))
            fail_msg("case %zu: the policy lacks '%s':\n%s", i, policy, last_head);
        json_object *o2 = parse(body), *tiles = member(o2, "tiles");
        assert_string_equal(json_object_get_string(member(tiles, "url")), good[i].url);
        json_object *shift = member(tiles, "shift");
        if (good[i].shift)
            assert_string_equal(json_object_get_string(shift), good[i].shift);
        else
            assert_null(shift);
        json_object_put(o2);
        free(body);
        cs_serve_stop(server);
    }
    server = main_server;
    /* without tiles, the page loads images from nowhere else */
    char *body = NULL;
    assert_int_equal(call("GET", "/api/study", NULL, &body), 200);
    assert_non_null(strstr(last_head, "img-src 'self' data: blob:;"));
    assert_non_null(strstr(body, "\"tiles\":null"));
    free(body);
}

/* A run along the walking network: the network's service areas among the circles, the
 * network itself for the background, and two proposals' effects area by area, as the
 * library has them and summing to the district's. */
static void along_the_network(void **state)
{
    (void)state;
    fx_env net;
    memset(&net, 0, sizeof net);
    assert_int_equal(fx_env_open_file(&net, strdup(CS_SOURCE_DIR "/geodata/study.yaml")), CS_OK);
    fx_env_run_ok(&net);
    cs_server *main_server = server;
    cs_serve_options o = {0};
    assert_int_equal(cs_serve_start(net.ctx, net.study, net.result, &o, &server), CS_OK);
    const cs_study *s = net.study;
    char *body = NULL;
    assert_int_equal(call("GET", "/api/study", NULL, &body), 200);
    json_object *study = parse(body), *kinds = member(study, "kinds");
    assert_true(json_object_get_boolean(member(study, "network")));
    for (size_t k = 0; k < cs_study_kind_count(s); k++)
        assert_string_equal(
            json_object_get_string(member(json_object_array_get_idx(kinds, k), "main_measure")),
            "network");
    json_object_put(study);
    free(body);
    /* a network service area, with its shape, per kind and threshold */
    size_t thresholds = 0, drawn = 0;
    for (size_t k = 0; k < cs_study_kind_count(s); k++)
        thresholds += cs_study_threshold_count(s, k);
    assert_int_equal(call("GET", "/api/circles", NULL, &body), 200);
    json_object *circles = parse(body), *features = member(circles, "features");
    for (size_t i = 0; i < json_object_array_length(features); i++) {
        json_object *f = json_object_array_get_idx(features, i);
        if (!strcmp(json_object_get_string(member(member(f, "properties"), "measure")),
                    "network") &&
            json_object_is_type(member(f, "geometry"), json_type_object))
            drawn++;
    }
    assert_int_equal(drawn, thresholds);
    json_object_put(circles);
    free(body);
    /* the network: one feature, a line per walkable way of the study's */
    assert_int_equal(call("GET", "/api/network", NULL, &body), 200);
    json_object *network = parse(body), *nf = member(network, "features");
    assert_int_equal(json_object_array_length(nf), 1);
    json_object *geometry = member(json_object_array_get_idx(nf, 0), "geometry");
    assert_string_equal(json_object_get_string(member(geometry, "type")), "MultiLineString");
    assert_int_equal(json_object_array_length(member(geometry, "coordinates")),
                     s->net.lines.count);
    json_object_put(network);
    free(body);
    /* two proposals of two kinds: their effect area by area */
    assert_int_equal(call("POST", "/api/evaluate",
                          "{\"proposals\": [{\"id\": \"A\", \"kind\": \"centre\", "
                          "\"lon\": 121.42, \"lat\": 31.11}, {\"id\": \"B\", \"kind\": "
                          "\"meal\", \"lon\": 121.50, \"lat\": 31.07}]}",
                          &body),
                     200);
    cs_site_input in[] = {{.id = "A", .lon = 121.42, .lat = 31.11, .kind = "centre",
                           .capacity = NAN},
                          {.id = "B", .lon = 121.50, .lat = 31.07, .kind = "meal",
                           .capacity = NAN}};
    cs_site *site = NULL;
    assert_int_equal(cs_site_evaluate(net.ctx, net.result, in, 2, NULL, &site), CS_OK);
    json_object *answer = parse(body), *areas = member(answer, "areas");
    size_t listed = 0;
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        json_object *by_threshold = member(areas, cs_study_kind_id(s, k));
        for (size_t t = 0; t < cs_study_threshold_count(s, k); t++) {
            json_object *by_area = json_object_array_get_idx(by_threshold, t);
            for (size_t b = 0; b < cs_study_band_count(s); b++) {
                double sum = 0, district = NAN;
                for (size_t a = 0; a < cs_study_area_count(s); a++) {
                    double want = NAN;
                    cs_site_newly(site, 2, k, t, b, a, &want);
                    json_object *got = NULL;
                    if (!json_object_object_get_ex(by_area, cs_study_area_id(s, a), &got)) {
                        assert_false(want > 0);
                        continue;
                    }
                    double v = json_object_get_double(json_object_array_get_idx(got, b));
                    assert_true(fabs(v - want) < 0.01);
                    sum += v;
                    listed += b == 0;
                }
                cs_site_newly(site, 2, k, t, b, CS_DISTRICT, &district);
                assert_true(fabs(sum - district) < 0.05);
            }
        }
    }
    assert_true(listed >= 2); /* both proposals newly cover someone */
    cs_site_destroy(site);
    json_object_put(answer);
    free(body);
    cs_serve_stop(server);
    server = main_server;
    fx_env_close(&net);
}

/* A port in use and an address that is not one: said, nothing started. */
static void cannot_listen(void **state)
{
    (void)state;
    cs_server *other = NULL;
    cs_serve_options o = {.port = cs_serve_port(server)};
    assert_int_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &other), CS_ERR_OUTPUT);
    assert_null(other);
    assert_true(tu_has_message(env.ctx, "cannot listen on 127.0.0.1 port", "--port", NULL));
    o = (cs_serve_options){.listen = "localhost"};
    assert_int_equal(cs_serve_start(env.ctx, env.study, env.result, &o, &other),
                     CS_ERR_ARGUMENT);
    assert_true(tu_has_message(env.ctx, "not an IPv4 address", NULL));
    assert_null(other);
}

/* careshed serve: prints the address with the token, answers, and stops on Ctrl-C
 * (SIGINT) with exit 0 and a last word; with --open it hands the address to xdg-open
 * (here a script of the test's that writes down what it was given). */
static void command_serves_until_interrupted(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), *opened = tu_join(dir, "opened"), script[512];
    snprintf(script, sizeof script, "#!/bin/sh\necho \"$1\" > %s.tmp && mv %s.tmp %s\n",
             opened, opened, opened);
    char *fake = tu_write(dir, "xdg-open", script);
    assert_int_equal(chmod(fake, 0755), 0);
    int out[2], err[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]), close(err[0]);
        char path[4096];
        snprintf(path, sizeof path, "%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin");
        setenv("PATH", path, 1);
        execl(CS_CLI, CS_CLI, "serve", CS_SOURCE_DIR "/geodata/study.yaml", "--measure",
              "straight", "--port", "0", "--open", (char *)NULL);
        _exit(98);
    }
    close(out[1]), close(err[1]);
    char line[256] = "";
    FILE *f = fdopen(out[0], "r");
    assert_non_null(fgets(line, sizeof line, f));
    unsigned port = 0;
    char token[80] = "";
    assert_int_equal(sscanf(line, "http://127.0.0.1:%u/?token=%79[0-9a-f]", &port, token), 2);
    assert_int_equal(strlen(token), 32);
    char *given = NULL;
    for (int i = 0; i < 500 && !(given = tu_read(opened, NULL)); i++)
        usleep(20000);
    assert_non_null(given);
    assert_string_equal(given, line); /* the address printed, newline and all */
    free(given);
    char h[256], host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", port);
    snprintf(h, sizeof h, "Host: %s\r\nX-Careshed-Token: %s\r\n", host, token);
    char *body = NULL;
    assert_int_equal(http(port, "GET", "/api/study", h, NULL, &body), 200);
    assert_non_null(strstr(body, "\"kinds\""));
    free(body);
    kill(pid, SIGINT);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char said[4096] = "";
    ssize_t n = read(err[0], said, sizeof said - 1);
    said[n > 0 ? n : 0] = '\0';
    assert_non_null(strstr(said, "careshed: stopped"));
    assert_null(strstr(said, "could not open a browser"));
    fclose(f);
    close(err[0]);
    free(fake);
    free(opened);
    tu_rmtree(dir);
    free(dir);
}

/* --open without xdg-open on PATH: a warning saying to open the address by hand, and
 * the server serves on until Ctrl-C. */
static void open_without_a_browser_warns(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), cmd[4096], *said = NULL;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env PATH=/nonexistent '%s' serve '%s/geodata/study.yaml' --measure "
             "straight --port 0 --open >out 2>err & pid=$!; "
             "for i in $(seq 600); do grep -q 'could not open a browser' '%s/err' && break; "
             "sleep 0.1; done; kill -INT $pid; wait $pid; echo \"exit $?\"; cat '%s/err'",
             dir, CS_CLI, CS_SOURCE_DIR, dir, dir);
    assert_int_equal(tu_run(cmd, &said), 0);
    assert_non_null(strstr(said, "could not open a browser (xdg-open); open the address above "
                                 "yourself"));
    assert_non_null(strstr(said, "exit 0"));
    assert_non_null(strstr(said, "careshed: stopped"));
    free(said);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(study_call),
        cmocka_unit_test(layer_calls),
        cmocka_unit_test(page_and_its_files),
        cmocka_unit_test(token_host_and_origin),
        cmocka_unit_test(evaluate_matches_the_library),
        cmocka_unit_test(suggest_matches_the_library),
        cmocka_unit_test(suggest_models_match_the_library),
        cmocka_unit_test(bad_requests),
        cmocka_unit_test(concurrent_evaluations),
        cmocka_unit_test(exclusion_zones),
        cmocka_unit_test(tiles_for_the_basemap),
        cmocka_unit_test(along_the_network),
        cmocka_unit_test(cannot_listen),
        cmocka_unit_test(command_serves_until_interrupted),
        cmocka_unit_test(open_without_a_browser_warns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
