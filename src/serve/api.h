/*
 * api.h — the JSON API behind careshed serve (careshed.h lists the calls): what each
 * call answers, apart from HTTP, so that the server glue (server.c) stays a table of
 * routes and its checks.
 */
#ifndef CS_SERVE_API_H
#define CS_SERVE_API_H

#include "core/core.h"
#include "geom/rings.h"
#include "careshed/careshed.h"


/* What a call answers: an HTTP status, a content type and the body. */
typedef struct cs_reply {
    unsigned status;
    const char *type;
    cs_buf body;
    /* or bytes that outlive every request (the page's files, the layers built once),
     * sent as they are, without a copy */
    const void *fixed;
    size_t fixed_len;
} cs_reply;

/* The layers the page draws, built once (GET /api/<name>). */
typedef enum cs_api_layer {
    CS_LAYER_AREAS,
    CS_LAYER_FACILITIES,
    CS_LAYER_UNDERSERVED,
    CS_LAYER_CIRCLES, /* straight-line and network service areas */
    CS_LAYER_NETWORK, /* the walking network, the background without tiles */
    CS_API_LAYERS
} cs_api_layer;

/* The study and its run, and the answers that never change, built once. */
typedef struct cs_api {
    const cs_study *study;
    const cs_result *r;
    size_t max_proposals;
    cs_buf study_json, layers[CS_API_LAYERS];
    char *tiles;            /* the basemap's URL template (serve --tiles), or NULL */
    char tiles_origin[256]; /* its scheme and host, for the page's security policy */
    bool tiles_gcj02;       /* its tiles are drawn in GCJ-02: the page shifts the layers */
    cs_site_cache *sites; /* the residents' index, shared by every evaluation */
    const char *exclude, *exclude_crs; /* exclusion zones, for the suggestions */
    cs_rings zones;       /* the same, in WGS84, for the proposals */
    cs_area_index *zone_index;
    struct cs_api_contexts *contexts; /* made ready before the first request */
} cs_api;

/* The threads that answer requests, each with a context of its own. */
#define CS_API_THREADS 4

cs_status cs_api_init(cs_context *ctx, cs_api *api, const cs_study *study, const cs_result *r,
                      const cs_serve_options *opt);
void cs_api_free(cs_api *api);

/* Check a tile URL template (http(s), {z} {x} {y}, a host that may hold {s} in its
 * first label) and the CRS its tiles are drawn in (NULL: GCJ-02 for the hosts of
 * Chinese maps known to use it, else WGS84), into api->tiles...; NULL url: no tiles.
 * Errors: CS_ERR_ARGUMENT naming the option and what to give. */
cs_status cs_tiles_check(cs_context *ctx, const char *url, const char *crs, cs_api *api);

/* {"error": text, "hint": hint} with status. */
void cs_api_error(cs_reply *rep, unsigned status, const char *text, const char *hint);

/* The calls; body is the request's (NUL-terminated, len bytes). */
void cs_api_study(const cs_api *api, cs_reply *rep);
void cs_api_areas(const cs_api *api, cs_reply *rep);
void cs_api_facilities(const cs_api *api, cs_reply *rep);
void cs_api_underserved(const cs_api *api, cs_reply *rep);
void cs_api_circles(const cs_api *api, cs_reply *rep);
void cs_api_network(const cs_api *api, cs_reply *rep);
void cs_api_evaluate(const cs_api *api, const char *body, size_t len, cs_reply *rep);
void cs_api_suggest(const cs_api *api, const char *body, size_t len, cs_reply *rep);

#endif /* CS_SERVE_API_H */
