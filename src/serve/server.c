/*
 * server.c — careshed serve's HTTP side (careshed.h, "serve"): libmicrohttpd on a
 * thread pool, the checks every request passes (Host and Origin against DNS
 * rebinding, the token, the body's size), and one table of routes to the API's
 * answers (api.c).
 */
#include "cover/result.h"
#include "serve/api.h"
#include "serve/assets.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_MAX_PROPOSALS 200

struct cs_server {
    struct MHD_Daemon *daemon;
    cs_api api;
    size_t max_body;
    unsigned port;
    char token[65];
    char hosts[2][96];   /* what Host may say: the address and, on 127.0.0.1, localhost */
    char origins[2][112]; /* http:// and the same */
    char url[256];
    char csp[512]; /* the Content-Security-Policy of every reply */
};

/* A request while its body comes in. */
typedef struct request {
    cs_buf body;
    bool too_big;
} request;

typedef enum method { GET, POST } method;

/* The routes: one line each. */
static const struct {
    method method;
    const char *path;
    void (*get)(const cs_api *api, cs_reply *rep);
    void (*post)(const cs_api *api, const char *body, size_t len, cs_reply *rep);
} routes[] = {
    {GET, "/api/study", cs_api_study, NULL},
    {GET, "/api/areas", cs_api_areas, NULL},
    {GET, "/api/facilities", cs_api_facilities, NULL},
    {GET, "/api/underserved", cs_api_underserved, NULL},
    {GET, "/api/circles", cs_api_circles, NULL},
    {GET, "/api/network", cs_api_network, NULL},
    {POST, "/api/evaluate", NULL, cs_api_evaluate},
    {POST, "/api/suggest", NULL, cs_api_suggest},
};

/* Equal texts, in a time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na && i < nb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool one_of(const char *v, const char (*list)[96], size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (list[i][0] && !strcmp(v, list[i]))
            return true;
    return false;
}

/* Host and Origin name this server; the token is the server's (with_token). false with
 * the reply. */
static bool allowed(const cs_server *s, struct MHD_Connection *c, bool with_token,
                    cs_reply *rep)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!one_of(host, s->hosts, 2)) {
        cs_api_error(rep, 403, "this server answers requests for its own address only",
                     "open the address careshed serve printed");
        return false;
    }
    bool origin_ok = !origin;
    for (size_t i = 0; origin && i < 2; i++)
        origin_ok |= s->origins[i][0] && !strcmp(origin, s->origins[i]);
    if (!origin_ok) {
        cs_api_error(rep, 403, "requests from other web pages are refused", NULL);
        return false;
    }
    if (!with_token)
        return true;
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (!token)
        token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Careshed-Token");
    if (!token || !same_secret(token, s->token)) {
        cs_api_error(rep, 401, "the request lacks the server's token",
                     "open the address careshed serve printed, with its token=...");
        return false;
    }
    return true;
}

static void route(cs_server *s, const char *path, const char *verb, request *rq,
                  cs_reply *rep)
{
    if (rq->too_big) {
        char text[96];
        snprintf(text, sizeof text, "the request body is over %zu bytes", s->max_body);
        cs_api_error(rep, 413, text, "send fewer proposals at once");
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        bool get = !strcmp(verb, MHD_HTTP_METHOD_GET), post = !strcmp(verb, MHD_HTTP_METHOD_POST);
        if (routes[i].method == GET && get)
            routes[i].get(&s->api, rep);
        else if (routes[i].method == POST && post)
            routes[i].post(&s->api, rq->body.data ? rq->body.data : "", rq->body.len, rep);
        else
            cs_api_error(rep, 405, routes[i].method == GET ? "use GET" : "use POST", NULL);
        return;
    }
    cs_api_error(rep, 404, "no such call", "see the README's list of the API's calls");
}

/* The page's file at path, or NULL. */
static const cs_asset *asset_at(const char *path)
{
    for (size_t i = 0; i < cs_asset_count; i++)
        if (!strcmp(path, cs_assets[i].path))
            return &cs_assets[i];
    return NULL;
}

/* Send the reply: its fixed bytes as they are, or a copy of its body. */
static enum MHD_Result send_reply(struct MHD_Connection *c, const cs_reply *rep,
                                  const char *csp)
{
    struct MHD_Response *res =
        rep->fixed ? MHD_create_response_from_buffer(rep->fixed_len, (void *)rep->fixed,
                                                     MHD_RESPMEM_PERSISTENT)
                   : MHD_create_response_from_buffer(rep->body.len,
                                                     rep->body.data ? rep->body.data
                                                                    : (void *)"",
                                                     MHD_RESPMEM_MUST_COPY);
    if (!res)
        return MHD_NO;
    char type[64];
    const char *media = rep->type ? rep->type : "application/json";
    snprintf(type, sizeof type, "%s%s", media,
             !strncmp(media, "text/", 5) && !strstr(media, "charset") ? "; charset=utf-8" : "");
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(res, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(res, "Content-Security-Policy", csp);
    enum MHD_Result ok = MHD_queue_response(c, rep->status, res);
    MHD_destroy_response(res);
    return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *verb, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version;
    cs_server *s = cls;
    request *rq = *state;
    if (!rq) { /* the headers: keep a place for the body */
        rq = cs_calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        cs_buf_init(&rq->body);
        *state = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > s->max_body)
            rq->too_big = true;
        else
            cs_buf_addn(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    cs_reply rep = {.status = 500};
    cs_buf_init(&rep.body);
    /* the page's script and style hold no data: they need the right Host, not the
     * token, which the page itself needs and then sends with each call */
    const cs_asset *asset = strcmp(verb, MHD_HTTP_METHOD_GET) ? NULL : asset_at(url);
    bool open_file = asset && strcmp(url, "/") != 0;
    if (rq->body.failed) {
        cs_api_error(&rep, 503, "out of memory", NULL);
    } else if (allowed(s, c, !open_file, &rep)) {
        if (asset) {
            rep.status = MHD_HTTP_OK;
            rep.type = asset->type;
            rep.fixed = asset->data;
            rep.fixed_len = asset->size;
        } else {
            route(s, url, verb, rq, &rep);
        }
    }
    enum MHD_Result ok = send_reply(c, &rep, s->csp);
    cs_buf_free(&rep.body);
    return ok;
}

static void finished(void *cls, struct MHD_Connection *c, void **state,
                     enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    request *rq = *state;
    if (rq) {
        cs_buf_free(&rq->body);
        cs_free(rq);
    }
    *state = NULL;
}

static bool random_token(char *out, size_t size)
{
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return false;
    for (size_t i = 0; i < sizeof bytes && 2 * i + 2 < size; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    return true;
}

/* The address to listen on, or the error naming it. */
static cs_status ipv4(cs_context *ctx, const char *address, struct in_addr *out)
{
    if (inet_pton(AF_INET, address, out) != 1)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, "give an IPv4 address, e.g. 127.0.0.1",
                        "cannot listen on '%.100s': not an IPv4 address", address);
    return CS_OK;
}

static cs_status listen_on(cs_context *ctx, cs_server *s, const char *address, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    cs_status st = ipv4(ctx, address, &sa.sin_addr);
    if (st != CS_OK)
        return st;
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, answer,
        s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)CS_API_THREADS, MHD_OPTION_NOTIFY_COMPLETED, finished, s,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!s->daemon) {
        cs_where w = {.file = address};
        return cs_error(ctx, CS_ERR_OUTPUT, &w, "choose another --port, or stop what uses it",
                        "cannot listen on %s port %u", address, port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return CS_OK;
}

cs_status cs_serve_check(cs_context *ctx, const cs_serve_options *opt)
{
    cs_serve_options o = opt ? *opt : (cs_serve_options){0};
    struct in_addr ip;
    cs_status st = o.listen ? ipv4(ctx, o.listen, &ip) : CS_OK;
    cs_api scratch = {0};
    if (st == CS_OK)
        st = cs_tiles_check(ctx, o.tiles, o.tiles_crs, &scratch);
    cs_free(scratch.tiles);
    return st;
}

cs_status cs_serve_start(cs_context *ctx, const cs_study *study, const cs_result *r,
                         const cs_serve_options *opt, cs_server **out)
{
    *out = NULL;
    if (!r || r->network_freed) /* its searches gone (cs_result_write_releasing) */
        return CS_ERR_ARGUMENT;
    cs_serve_options o = opt ? *opt : (cs_serve_options){0};
    const char *address = o.listen ? o.listen : "127.0.0.1";
    cs_server *s = cs_calloc(1, sizeof *s);
    if (!s)
        return cs_nomem(ctx);
    s->max_body = o.max_body ? o.max_body : DEFAULT_MAX_BODY;
    if (o.token)
        snprintf(s->token, sizeof s->token, "%s", o.token);
    else if (!random_token(s->token, sizeof s->token)) {
        cs_free(s);
        return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL, "no random numbers for a token");
    }
    o.max_proposals = o.max_proposals ? o.max_proposals : DEFAULT_MAX_PROPOSALS;
    cs_status st = cs_api_init(ctx, &s->api, study, r, &o);
    if (st != CS_OK) {
        cs_free(s);
        return st;
    }
    /* the page loads and calls nothing but this server, and the basemap's tiles */
    snprintf(s->csp, sizeof s->csp,
             "default-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data: blob:%s%s; frame-ancestors 'none'",
             s->api.tiles ? " " : "", s->api.tiles ? s->api.tiles_origin : "");
    st = listen_on(ctx, s, address, o.port);
    if (st != CS_OK) {
        cs_api_free(&s->api);
        cs_free(s);
        return st;
    }
    snprintf(s->hosts[0], sizeof s->hosts[0], "%s:%u", address, s->port);
    if (!strcmp(address, "127.0.0.1"))
        snprintf(s->hosts[1], sizeof s->hosts[1], "localhost:%u", s->port);
    for (size_t i = 0; i < 2; i++)
        if (s->hosts[i][0])
            snprintf(s->origins[i], sizeof s->origins[i], "http://%s", s->hosts[i]);
    snprintf(s->url, sizeof s->url, "http://%s/?token=%s", s->hosts[0], s->token);
    *out = s;
    return CS_OK;
}

unsigned cs_serve_port(const cs_server *s)
{
    return s->port;
}

const char *cs_serve_token(const cs_server *s)
{
    return s->token;
}

const char *cs_serve_url(const cs_server *s)
{
    return s->url;
}

void cs_serve_stop(cs_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    cs_api_free(&s->api);
    cs_free(s);
}
