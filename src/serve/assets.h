/*
 * assets.h — the page careshed serve shows, compiled into the library from web/ by
 * cmake/embed.cmake: its HTML, script and style, and Leaflet (web/vendor, from the
 * npm registry at a pinned version, with its licence; scripts/web-deps).
 */
#ifndef CS_SERVE_ASSETS_H
#define CS_SERVE_ASSETS_H

#include <stddef.h>

typedef struct cs_asset {
    const char *path; /* as requested: "/", "/app.js", "/vendor/leaflet.js" */
    const char *type; /* its media type (text ones are UTF-8) */
    const unsigned char *data;
    size_t size;
} cs_asset;

extern const cs_asset cs_assets[];
extern const size_t cs_asset_count;

#endif /* CS_SERVE_ASSETS_H */
