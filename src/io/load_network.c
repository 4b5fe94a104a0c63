/*
 * load_network.c — reading the walking network: OpenStreetMap files through GDAL's
 * OSM driver, or any line layer, kept to the ways people can walk on.
 *
 * The rule, as for OpenStreetMap: a way is walked when its class (highway=) is in the
 * list (network.highway, or the default below), it is not tagged foot=no, and it is
 * not access=no/private unless foot=yes/designated/permissive. Line layers follow the
 * same rule when they have a class field (and foot/access fields); they may also flag
 * closed ways and give a walking speed factor. Coordinates stay in the layer's CRS.
 */
#include "io/load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const default_highways[] = {
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "tertiary", "secondary", "primary", "tertiary_link", "secondary_link",
    "primary_link", NULL};

void cs_raw_lines_free(cs_raw_lines *l)
{
    if (!l)
        return;
    cs_raw_layer_free(&l->layer);
    cs_lines_free(&l->lines);
    memset(l, 0, sizeof *l);
}

/*
 * The value of tag key in OSM's other_tags text ("foot"=>"no","access"=>"private"),
 * into buf (empty when absent). Values may hold escaped quotes (\") and commas.
 */
void cs_osm_tag(const char *tags, const char *key, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t klen = strlen(key);
    const char *p = tags;
    while (p && *p) {
        if (*p != '"') {
            p++;
            continue;
        }
        /* a key in quotes */
        const char *k = ++p;
        while (*p && !(*p == '"' && p[-1] != '\\'))
            p++;
        size_t kn = (size_t)(p - k);
        if (!*p)
            return;
        p++;
        if (strncmp(p, "=>\"", 3) != 0)
            continue;
        p += 3;
        size_t n = 0;
        bool match = kn == klen && !strncmp(k, key, klen);
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            if (match && n + 1 < size)
                buf[n++] = *p;
            p++;
        }
        if (match) {
            buf[n] = '\0';
            return;
        }
        if (*p)
            p++;
    }
}

/* The fields the rule reads; -1 where the layer has none. */
typedef struct net_fields {
    int klass, foot, access, other_tags, closed, speed;
} net_fields;

static bool in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; (n == 0 || i < n) && list[i]; i++)
        if (!strcmp(v, list[i]))
            return true;
    return false;
}

static bool class_walked(const cs_config *cfg, const char *v)
{
    const cs_network_config *n = &cfg->network;
    if (n->highway_count)
        return in_list(v, (const char *const *)n->highway, n->highway_count);
    return in_list(v, default_highways, 0);
}

/* foot=no, or access=no/private without an explicit foot permission. */
static bool closed_by_tags(const char *foot, const char *access)
{
    if (!strcmp(foot, "no"))
        return true;
    bool foot_ok = !strcmp(foot, "yes") || !strcmp(foot, "designated") ||
                   !strcmp(foot, "permissive");
    return (!strcmp(access, "no") || !strcmp(access, "private")) && !foot_ok;
}

static const char *tag(cs_layer *layer, int field, int other_tags, const char *key, char *buf,
                       size_t size)
{
    if (field >= 0)
        return cs_layer_text(layer, field);
    buf[0] = '\0';
    if (other_tags >= 0)
        cs_osm_tag(cs_layer_text(layer, other_tags), key, buf, size);
    return buf;
}

/* A closure flag: 1 when closed, 0 when open, -1 when the value is not understood. */
static int closure_value(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "y", "closed", NULL};
    static const char *const no[] = {"0", "false", "no", "n", "open", "", NULL};
    for (size_t i = 0; yes[i]; i++)
        if (!cs_strcasecmp(v, yes[i]))
            return 1;
    for (size_t i = 0; no[i]; i++)
        if (!cs_strcasecmp(v, no[i]))
            return 0;
    return -1;
}

/* Whether the current feature is walked; errors name the feature and field. */
static cs_status walked(cs_context *ctx, cs_layer *layer, const cs_config *cfg,
                        const net_fields *f, cs_raw_lines *out, bool *keep, double *speed)
{
    char foot[64], access[64];
    *keep = false;
    *speed = 1;
    if (f->klass >= 0) {
        const char *k = cs_layer_text(layer, f->klass);
        /* a line layer's way without a class is taken as walkable; OSM lines without
         * highway= are rivers, railways, power lines... */
        if ((*k || out->osm) && !class_walked(cfg, k)) {
            out->left_out_class++;
            return CS_OK;
        }
    }
    if (closed_by_tags(tag(layer, f->foot, f->other_tags, "foot", foot, sizeof foot),
                       tag(layer, f->access, f->other_tags, "access", access, sizeof access))) {
        out->left_out_closed++;
        return CS_OK;
    }
    const cs_network_config *n = &cfg->network;
    if (f->closed >= 0) {
        const char *v = cs_layer_text(layer, f->closed);
        int c = closure_value(v);
        if (c < 0) {
            cs_where w = cs_layer_where(layer, NULL, n->closed_field);
            return cs_error(ctx, CS_ERR_INPUT, &w, "write 1/true/yes for a closed way, "
                            "0/false/no or nothing for an open one",
                            "'%.60s' is not a closure flag", v);
        }
        if (c == 1) {
            out->left_out_closed++;
            return CS_OK;
        }
    }
    if (f->speed >= 0) {
        cs_status st = cs_layer_number(ctx, layer, f->speed, NULL, 1.0, false, speed);
        if (st != CS_OK)
            return st;
        if (!(*speed > 0 && *speed <= 10)) {
            cs_where w = cs_layer_where(layer, NULL, n->speed_field);
            return cs_error(ctx, CS_ERR_INPUT, &w, "give a walking speed factor in (0, 10], "
                            "e.g. 0.5 on steps, or leave it empty for 1",
                            "speed factor %g is out of range", *speed);
        }
    }
    *keep = true;
    return CS_OK;
}

static cs_status find_fields(cs_context *ctx, cs_layer *layer, const cs_config *cfg, bool osm,
                             net_fields *f)
{
    const cs_network_config *n = &cfg->network;
    static const char *const highway[] = {"highway", NULL};
    static const char *const foot[] = {"foot", NULL};
    static const char *const access[] = {"access", NULL};
    static const char *const other[] = {"other_tags", NULL};
    f->klass = cs_layer_find_field(ctx, layer, n->class_field, highway, "class",
                                   n->class_field != NULL);
    f->foot = cs_layer_find_field(ctx, layer, NULL, foot, "foot", false);
    f->access = cs_layer_find_field(ctx, layer, NULL, access, "access", false);
    f->other_tags = osm ? cs_layer_find_field(ctx, layer, NULL, other, "other_tags", false) : -1;
    f->closed = cs_layer_find_field(ctx, layer, n->closed_field, NULL, "closed",
                                    n->closed_field != NULL);
    f->speed = cs_layer_find_field(ctx, layer, n->speed_field, NULL, "speed",
                                   n->speed_field != NULL);
    if ((n->class_field && f->klass < 0) || (n->closed_field && f->closed < 0) ||
        (n->speed_field && f->speed < 0))
        return CS_ERR_INPUT;
    int keep[] = {f->klass, f->foot, f->access, f->other_tags, f->closed, f->speed};
    cs_layer_keep_fields(layer, keep, sizeof keep / sizeof keep[0]);
    return CS_OK;
}

/* Remember the speed and feature of the lines just added. */
static cs_status note_lines(cs_context *ctx, cs_raw_lines *out, size_t added, double speed,
                            long number, size_t *meta_cap)
{
    cs_lines *l = &out->lines;
    size_t cap_f = *meta_cap, cap_s = *meta_cap;
    if (!cs_grow((void **)&l->feature, &cap_f, l->count, sizeof *l->feature) ||
        !cs_grow((void **)&l->speed, &cap_s, l->count, sizeof *l->speed))
        return cs_nomem(ctx);
    *meta_cap = cap_f;
    for (size_t i = l->count - added; i < l->count; i++) {
        l->feature[i] = number;
        l->speed[i] = speed;
    }
    return CS_OK;
}

static cs_status no_lines(cs_context *ctx, const cs_raw_lines *out, size_t other)
{
    cs_where w = {.file = out->layer.display};
    if (out->left_out_class + out->left_out_closed == 0)
        return cs_error(ctx, CS_ERR_INPUT, &w, "give a line layer of streets and paths, or an "
                        "OpenStreetMap file (.osm, .osm.pbf)",
                        "the network layer has no lines (%zu features, %zu of them points or "
                        "polygons)", out->features, other);
    return cs_error(ctx, CS_ERR_INPUT, &w, "check network.highway (the way classes walked on) "
                    "and network.class / network.closed",
                    "no way of the network can be walked: %zu left out by their class, %zu "
                    "as closed", out->left_out_class, out->left_out_closed);
}

cs_status cs_load_network(cs_context *ctx, const cs_config *cfg, cs_raw_lines *out)
{
    memset(out, 0, sizeof *out);
    if (!cfg->network.layer.path)
        return CS_OK;
    cs_layer *layer = NULL;
    cs_status st = cs_load_open_layer(ctx, cfg, &cfg->network.layer, "network", false,
                                      &out->layer, &layer);
    if (st != CS_OK)
        return st;
    out->osm = cs_layer_is_osm(layer);
    size_t first_message = cs_context_message_count(ctx), other = 0, meta_cap = 0;
    net_fields f;
    st = find_fields(ctx, layer, cfg, out->osm, &f);
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(layer, &number)) {
        out->features++;
        bool keep;
        double speed;
        cs_status fst = walked(ctx, layer, cfg, &f, out, &keep, &speed);
        size_t added = 0;
        if (fst == CS_OK && keep)
            fst = cs_layer_lines(ctx, layer, &out->lines, &out->line_cap, &out->vertex_cap,
                                 &added);
        if (fst == CS_OK && keep && added == 0)
            other++;
        if (fst == CS_OK && added)
            fst = note_lines(ctx, out, added, speed, number, &meta_cap);
        if (st == CS_OK || fst == CS_ERR_NOMEM)
            st = fst == CS_OK ? st : fst;
    }
    out->layer.input.features = out->features;
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, out->layer.display);
    cs_layer_close(layer);
    if (st == CS_OK && out->lines.count == 0)
        st = no_lines(ctx, out, other);
    return st;
}
