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

/* The study and its run, and the answers that never change, built once. */
typedef struct cs_api {
    const cs_study *study;
    const cs_result *r;
    size_t max_proposals;
    cs_buf study_json, areas_json, facilities_json, underserved_json, circles_json;
    cs_site_cache *sites; /* the residents' index, shared by every evaluation */
    const char *exclude, *exclude_crs; /* exclusion zones, for the suggestions */
    cs_rings zones;       /* the same, in WGS84, for the proposals */
    cs_area_index *zone_index;
} cs_api;

cs_status cs_api_init(cs_context *ctx, cs_api *api, const cs_study *study, const cs_result *r,
                      const cs_serve_options *opt);
void cs_api_free(cs_api *api);

/* {"error": text, "hint": hint} with status. */
void cs_api_error(cs_reply *rep, unsigned status, const char *text, const char *hint);

/* The calls; body is the request's (NUL-terminated, len bytes). */
void cs_api_study(const cs_api *api, cs_reply *rep);
void cs_api_areas(const cs_api *api, cs_reply *rep);
void cs_api_facilities(const cs_api *api, cs_reply *rep);
void cs_api_underserved(const cs_api *api, cs_reply *rep);
void cs_api_circles(const cs_api *api, cs_reply *rep);
void cs_api_evaluate(const cs_api *api, const char *body, size_t len, cs_reply *rep);
void cs_api_suggest(const cs_api *api, const char *body, size_t len, cs_reply *rep);

#endif /* CS_SERVE_API_H */
