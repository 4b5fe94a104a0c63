/*
 * tiles.c — the basemap of careshed serve's page (--tiles): an XYZ tile URL template
 * checked before the server starts, the origin its security policy lets the page load
 * images from, and whether its tiles are drawn in GCJ-02, the offset encoding of WGS84
 * that Chinese web maps (AMap, Tencent) use, which the page then shifts its layers to.
 */
#include "serve/api.h"

#include "io/crs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Hosts of maps whose tiles are drawn in GCJ-02 (a host ending with one of them). */
static const char *const gcj02_hosts[] = {"autonavi.com", "amap.com", "map.qq.com",
                                          "gtimg.cn", "geoq.cn"};

static bool ends_with(const char *s, size_t n, const char *tail)
{
    size_t m = strlen(tail);
    return n >= m && !memcmp(s + n - m, tail, m) && (n == m || s[n - m - 1] == '.');
}

/* Characters a URL template may hold: nothing that would end a header, a policy or
 * an HTML attribute (space, quotes, ';', ',', '<', '>', '\\', control bytes). */
static bool safe_url(const char *url)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("\"'`;,<>\\", *p))
            return false;
    return true;
}

static cs_status bad_tiles(cs_context *ctx, const char *url, const char *what)
{
    return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                    "--tiles '%s': %s; give an XYZ tile address such as "
                    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    url, what);
}

/* The policy source for the host in [host, host + n): itself, or with {s} in its first
 * label, every name under the rest ("*.tile.example.org"). */
static cs_status tiles_origin(cs_context *ctx, const char *url, const char *scheme_end,
                              size_t n, cs_api *api)
{
    const char *host = scheme_end + 3, *s = strstr(host, "{s}");
    const char *dot = memchr(host, '.', n);
    size_t scheme = (size_t)(scheme_end - url) + 3;
    if (n == 0 || n + scheme + 2 >= sizeof api->tiles_origin)
        return bad_tiles(ctx, url, "it names no host, or a very long one");
    if (s && s < host + n) {
        const char *again = strstr(s + 3, "{s}");
        if (!dot || s > dot || (again && again < host + n))
            return bad_tiles(ctx, url, "{s} may only stand in the first part of the host");
        snprintf(api->tiles_origin, sizeof api->tiles_origin, "%.*s*%.*s", (int)scheme, url,
                 (int)(host + n - dot), dot);
    } else {
        snprintf(api->tiles_origin, sizeof api->tiles_origin, "%.*s", (int)(scheme + n), url);
    }
    return CS_OK;
}

/* WGS84 by name or code, or web Mercator, the grid of XYZ tiles drawn on it. */
static bool wgs84(const char *crs)
{
    const char *alias = cs_crs_alias(crs);
    return (alias && !strcmp(alias, "EPSG:4326")) || !strcasecmp(crs, "EPSG:4326") ||
           !strcasecmp(crs, "EPSG:3857");
}

cs_status cs_tiles_check(cs_context *ctx, const char *url, const char *crs, cs_api *api)
{
    if (!url)
        return CS_OK;
    const char *scheme_end = strstr(url, "://");
    if (!safe_url(url))
        return bad_tiles(ctx, url, "it holds spaces, quotes or other characters a web "
                                   "address cannot");
    if (!scheme_end || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return bad_tiles(ctx, url, "it must begin with https:// or http://");
    if (!strstr(url, "{z}") || !strstr(url, "{x}") || (!strstr(url, "{y}") && !strstr(url, "{-y}")))
        return bad_tiles(ctx, url, "it must hold {z}, {x} and {y} where the tile's zoom, "
                                   "column and row go");
    const char *host = scheme_end + 3;
    size_t n = strcspn(host, "/?#");
    cs_status st = tiles_origin(ctx, url, scheme_end, n, api);
    if (st != CS_OK)
        return st;
    if (!crs) {
        size_t name = strcspn(host, ":/?#"); /* without a port */
        for (size_t i = 0; i < sizeof gcj02_hosts / sizeof gcj02_hosts[0]; i++)
            api->tiles_gcj02 |= ends_with(host, name, gcj02_hosts[i]);
    } else if (cs_shift_parse(crs) == CS_SHIFT_GCJ02) {
        api->tiles_gcj02 = true;
    } else if (!wgs84(crs)) {
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "--tiles-crs '%s': give WGS84 (most tile servers) or GCJ-02 (AMap, "
                        "Tencent); Baidu's tiles (BD-09) are cut in their own grid and "
                        "cannot be shown",
                        crs);
    }
    api->tiles = cs_strdup(url);
    return api->tiles ? CS_OK : cs_nomem(ctx);
}
