/*
 * load_network.c — reading the walking network: OpenStreetMap files through GDAL's
 * OSM driver, or any line layer, kept to the ways people can walk on.
 *
 * The rule, as for OpenStreetMap: a way is walked when its class (highway=) is in the
 * list (network.highway, or the default below), it is not tagged foot=no, and it is
 * not access=no/private unless foot=yes/designated/permissive. Line layers follow the
 * same rule when they have a class field (and foot/access fields, or OSM's other_tags);
 * they may also flag closed ways and give a walking speed factor. Features that are not
 * lines are skipped and counted. Coordinates stay in the layer's CRS.
 */
#include "io/load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Motorways and trunk roads are left out (people cannot walk on them, or only on a
 * separately mapped sidewalk), and so are construction/proposed ways, tracks, cycleways
 * and bridleways: a study that wants them lists its classes in network.highway. */
static const char *const default_highways[] = {
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "tertiary", "secondary", "primary", "tertiary_link", "secondary_link",
    "primary_link", NULL};

/* Distinct class values tallied for the message when nothing can be walked. */
#define NET_TALLY 6

void cs_raw_lines_free(cs_raw_lines *l)
{
    if (!l)
        return;
    cs_raw_layer_free(&l->layer);
    cs_lines_free(&l->lines);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------ other_tags */

/*
 * Read the quoted string at *p (which points at its opening quote), undoing \" and \\.
 * When buf is given the text goes there (cut to size); when key is given, *equal says
 * whether the text is exactly key. Leaves *p after the closing quote; false when the
 * string is not closed.
 */
static bool scan_quoted(const char **p, const char *key, bool *equal, char *buf, size_t size)
{
    const char *s = *p + 1;
    size_t n = 0, k = 0;
    bool same = key != NULL;
    while (*s && *s != '"') {
        if (*s == '\\' && s[1])
            s++;
        if (same)
            same = key[k] && key[k] == *s;
        k++;
        if (buf && n + 1 < size)
            buf[n++] = *s;
        s++;
    }
    if (buf && size)
        buf[n] = '\0';
    if (equal)
        *equal = same && !key[k];
    if (!*s)
        return false;
    *p = s + 1;
    return true;
}

/*
 * OSM's other_tags is hstore text: "key"=>"value" pairs separated by commas, with
 * quotes and backslashes inside keys and values escaped by a backslash. A value may also
 * be NULL (hstore's own spelling), read as empty.
 */
void cs_osm_tag(const char *tags, const char *key, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    const char *p = tags;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p != '"')
            return; /* not hstore text */
        bool match;
        if (!scan_quoted(&p, key, &match, NULL, 0))
            return;
        while (*p == ' ')
            p++;
        if (strncmp(p, "=>", 2) != 0)
            return;
        p += 2;
        while (*p == ' ')
            p++;
        if (!strncmp(p, "NULL", 4)) {
            p += 4;
            if (match)
                return;
            continue;
        }
        if (*p != '"')
            return;
        if (match) {
            scan_quoted(&p, NULL, NULL, buf, size);
            return;
        }
        if (!scan_quoted(&p, NULL, NULL, NULL, 0))
            return;
    }
}

/* ------------------------------------------------------------- the rule */

/* The fields the rule reads; -1 where the layer has none. */
typedef struct net_fields {
    int klass, foot, access, other_tags, closed, speed, id;
} net_fields;

/* Everything one reading of the layer keeps besides the output. */
typedef struct net_reader {
    cs_context *ctx;
    const cs_config *cfg;
    cs_layer *layer;
    cs_raw_lines *out;
    net_fields f;
    size_t feature_cap, speed_cap;
    size_t points, polygons, empty, other; /* features skipped as not lines */
    char tally_value[NET_TALLY][40];       /* classes left out, for the message */
    size_t tally_count[NET_TALLY], tally_rest;
    cs_lines_take take;                    /* the lines handed on in batches (or NULL) */
    void *user;
    size_t taken;                          /* lines handed on so far */
    size_t *line_no, line_no_cap;          /* each line handed on: its number (take) */
    cs_net_features *noting;               /* read whole: the features noted (or NULL) */
} net_reader;

static bool in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!cs_strcasecmp(v, list[i]))
            return true;
    return false;
}

static bool class_walked(const cs_config *cfg, const char *v)
{
    const cs_network_config *n = &cfg->network;
    if (n->highway_count)
        return in_list(v, (const char *const *)n->highway, n->highway_count);
    return in_list(v, default_highways, sizeof default_highways / sizeof *default_highways - 1);
}

/* foot=no, or access=no/private without an explicit permission for pedestrians. */
static bool closed_by_tags(const char *foot, const char *access)
{
    if (!cs_strcasecmp(foot, "no"))
        return true;
    bool foot_ok = !cs_strcasecmp(foot, "yes") || !cs_strcasecmp(foot, "designated") ||
                   !cs_strcasecmp(foot, "permissive");
    return (!cs_strcasecmp(access, "no") || !cs_strcasecmp(access, "private")) && !foot_ok;
}

/* A tag's value into buf: its own field when the layer has one, else from other_tags.
 * Copied, since GDAL's text of a non-text field lasts only until the next call. */
static const char *tag(net_reader *r, int field, const char *key, char *buf, size_t size)
{
    buf[0] = '\0';
    if (field >= 0)
        snprintf(buf, size, "%s", cs_layer_text(r->layer, field));
    else if (r->f.other_tags >= 0)
        cs_osm_tag(cs_layer_text(r->layer, r->f.other_tags), key, buf, size);
    return buf;
}

static void tally_class(net_reader *r, const char *v)
{
    const char *shown = *v ? v : "(no class)";
    for (size_t i = 0; i < NET_TALLY; i++) {
        if (!r->tally_count[i])
            snprintf(r->tally_value[i], sizeof r->tally_value[i], "%s", shown);
        if (!strcmp(r->tally_value[i], shown)) {
            r->tally_count[i]++;
            return;
        }
    }
    r->tally_rest++;
}

/* A closure flag: 1 when closed, 0 when open, -1 when the value is not understood. */
static int closure_value(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "y", "closed"};
    static const char *const no[] = {"0", "false", "no", "n", "open", ""};
    char t[16];
    while (*v == ' ')
        v++;
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ')
        n--;
    if (n >= sizeof t)
        return -1;
    memcpy(t, v, n);
    t[n] = '\0';
    if (in_list(t, yes, sizeof yes / sizeof *yes))
        return 1;
    if (in_list(t, no, sizeof no / sizeof *no))
        return 0;
    return -1;
}

static const char *feature_id(net_reader *r)
{
    const char *id = cs_layer_text(r->layer, r->f.id);
    return *id ? id : NULL;
}

/* The current feature's closure field: *closed is set; errors name feature and field. */
static cs_status read_closed(net_reader *r, bool *closed)
{
    const char *v = cs_layer_text(r->layer, r->f.closed);
    int c = closure_value(v);
    *closed = c == 1;
    if (c >= 0)
        return CS_OK;
    cs_where w = cs_layer_where(r->layer, feature_id(r), cs_layer_field_name(r->layer,
                                                                             r->f.closed));
    return cs_error(r->ctx, CS_ERR_INPUT, &w, "write 1/true/yes/closed for a closed way, "
                    "0/false/no/open or nothing for an open one",
                    "'%.60s' is not a closure flag", v);
}

/* The current feature's speed factor (1 when empty); errors name feature and field. */
static cs_status read_speed(net_reader *r, double *speed)
{
    const char *id = feature_id(r);
    cs_status st = cs_layer_number(r->ctx, r->layer, r->f.speed, id, 1.0, true, speed);
    if (st != CS_OK || (*speed > 0 && *speed <= 10))
        return st;
    cs_where w = cs_layer_where(r->layer, id, cs_layer_field_name(r->layer, r->f.speed));
    return cs_error(r->ctx, CS_ERR_INPUT, &w, "give a walking speed factor above 0 and at "
                    "most 10 (e.g. 0.5 on steps), or leave it empty for 1",
                    "speed factor %g is out of range", *speed);
}

/* Whether the current line feature is walked, counting the ones left out. */
static cs_status walked(net_reader *r, bool *keep, double *speed)
{
    char foot[64], access[64];
    *keep = false;
    *speed = 1;
    if (r->f.klass >= 0) {
        const char *k = cs_layer_text(r->layer, r->f.klass);
        /* A line layer's way without a class is kept: a partly classified layer (paths
         * digitised without one) must not lose them silently. OpenStreetMap lines
         * without highway= are rivers, railways, fences... */
        if ((*k || r->out->osm) && !class_walked(r->cfg, k)) {
            r->out->left_out_class++;
            tally_class(r, k);
            return CS_OK;
        }
    }
    if (closed_by_tags(tag(r, r->f.foot, "foot", foot, sizeof foot),
                       tag(r, r->f.access, "access", access, sizeof access))) {
        r->out->left_out_closed++;
        return CS_OK;
    }
    if (r->f.closed >= 0) {
        bool closed;
        cs_status st = read_closed(r, &closed);
        if (st != CS_OK || closed) {
            r->out->left_out_closed += closed;
            return st;
        }
    }
    if (r->f.speed >= 0) {
        cs_status st = read_speed(r, speed);
        if (st != CS_OK)
            return st;
    }
    *keep = true;
    return CS_OK;
}

/* ------------------------------------------------------------- reading */

static cs_status find_fields(net_reader *r)
{
    const cs_network_config *n = &r->cfg->network;
    static const char *const highway[] = {"highway", NULL};
    static const char *const foot[] = {"foot", NULL};
    static const char *const access[] = {"access", NULL};
    static const char *const other[] = {"other_tags", NULL};
    static const char *const ids[] = {"osm_id", "id", "ID", NULL};
    net_fields *f = &r->f;
    cs_context *ctx = r->ctx;
    f->klass = cs_layer_find_field(ctx, r->layer, n->class_field, highway, "class",
                                   n->class_field != NULL);
    f->foot = cs_layer_find_field(ctx, r->layer, NULL, foot, "foot", false);
    f->access = cs_layer_find_field(ctx, r->layer, NULL, access, "access", false);
    /* other_tags also comes with OpenStreetMap data converted by ogr2ogr */
    f->other_tags = cs_layer_find_field(ctx, r->layer, NULL, other, "other_tags", false);
    f->closed = cs_layer_find_field(ctx, r->layer, n->closed_field, NULL, "closed",
                                    n->closed_field != NULL);
    f->speed = cs_layer_find_field(ctx, r->layer, n->speed_field, NULL, "speed",
                                   n->speed_field != NULL);
    f->id = cs_layer_find_field(ctx, r->layer, n->layer.id_field, ids, "id",
                                n->layer.id_field != NULL);
    if ((n->class_field && f->klass < 0) || (n->closed_field && f->closed < 0) ||
        (n->speed_field && f->speed < 0) || (n->layer.id_field && f->id < 0))
        return CS_ERR_INPUT;
    int keep[] = {f->klass, f->foot, f->access, f->other_tags, f->closed, f->speed, f->id};
    cs_layer_keep_fields(r->layer, keep, sizeof keep / sizeof keep[0]);
    return CS_OK;
}

/* Remember the feature (and speed) of the lines just added. */
static cs_status note_lines(net_reader *r, size_t added, double speed, long number)
{
    cs_lines *l = &r->out->lines;
    if (!cs_grow((void **)&l->feature, &r->feature_cap, l->count, sizeof *l->feature))
        return cs_nomem(r->ctx);
    if (r->f.speed >= 0 &&
        !cs_grow((void **)&l->speed, &r->speed_cap, l->count, sizeof *l->speed))
        return cs_nomem(r->ctx);
    for (size_t i = l->count - added; i < l->count; i++) {
        l->feature[i] = number;
        if (l->speed)
            l->speed[i] = speed;
    }
    return CS_OK;
}

/* Read the current feature: skip what is not a line, apply the rule, keep the rest. */
static cs_status read_feature(net_reader *r, long number)
{
    switch (cs_layer_geom_kind(r->layer)) {
    case CS_GEOM_LINE:
        break;
    case CS_GEOM_POINT:
        r->points++;
        return CS_OK;
    case CS_GEOM_POLYGON:
        r->polygons++;
        return CS_OK;
    case CS_GEOM_NONE:
        r->empty++;
        return CS_OK;
    default:
        r->other++;
        return CS_OK;
    }
    bool keep;
    double speed;
    cs_status st = walked(r, &keep, &speed);
    if (st != CS_OK || !keep)
        return st;
    size_t added = 0;
    st = cs_layer_lines(r->ctx, r->layer, &r->out->lines, &r->out->line_cap,
                        &r->out->vertex_cap, &added);
    if (st == CS_OK && added == 0)
        r->empty++; /* lines of fewer than 2 points */
    if (added && st != CS_ERR_NOMEM) { /* lines with a bad coordinate are noted too */
        cs_status nst = note_lines(r, added, speed, number);
        st = st == CS_OK || nst == CS_ERR_NOMEM ? nst : st;
    }
    return st;
}

/* The error when nothing is left: no lines at all, or all of them left out. */
static cs_status nothing_walked(const net_reader *r)
{
    const cs_raw_lines *out = r->out;
    cs_where w = {.file = out->layer.display};
    if (out->left_out_class + out->left_out_closed == 0) {
        const size_t n[] = {r->points, r->polygons, r->empty, r->other};
        const char *const what[] = {"points", "polygons", "without geometry or too short",
                                    "other geometries"};
        cs_buf kinds;
        cs_buf_init(&kinds);
        for (size_t i = 0; i < 4; i++)
            if (n[i])
                cs_buf_printf(&kinds, "%s%zu %s", kinds.len ? ", " : ": ", n[i], what[i]);
        /* an OpenStreetMap file without lines is cut short, or its ways lack their
         * nodes (GDAL leaves such ways out): the usual hint would send users in circles */
        const char *hint = out->osm ? "check that the OpenStreetMap file is complete (not cut "
                                      "off) and holds every node its ways use (e.g. osmium "
                                      "extract --strategy complete_ways)"
                                    : "give a line layer of streets and paths, or an "
                                      "OpenStreetMap file (.osm, .osm.pbf)";
        cs_status st = cs_error(r->ctx, CS_ERR_INPUT, &w, hint,
                                "the network layer has no lines (%zu features%s)",
                                out->features,
                                kinds.data ? kinds.data : "");
        cs_buf_free(&kinds);
        return st;
    }
    cs_buf classes;
    cs_buf_init(&classes);
    for (size_t i = 0; i < NET_TALLY && r->tally_count[i]; i++)
        cs_buf_printf(&classes, "%s%s %zu", i ? ", " : " (", r->tally_value[i],
                      r->tally_count[i]);
    if (r->tally_rest)
        cs_buf_printf(&classes, ", others %zu", r->tally_rest);
    if (r->tally_count[0])
        cs_buf_add(&classes, ")");
    cs_status st = cs_error(r->ctx, CS_ERR_INPUT, &w,
                            "check network.highway (the way classes walked on; the default "
                            "leaves out motorway and trunk), network.class and network.closed",
                            "no way of the network can be walked: %zu left out by their "
                            "class%s, %zu as closed (foot=no, access=no/private or the "
                            "closed field)",
                            out->left_out_class, classes.data ? classes.data : "",
                            out->left_out_closed);
    cs_buf_free(&classes);
    return st;
}

/* ------------------------------------------- careshed shard: read by window */

void cs_net_features_free(cs_net_features *f)
{
    cs_free(f->fid);
    cs_free(f->first_line);
    cs_free(f->box);
    memset(f, 0, sizeof *f);
}

/* Feature n's FID as noted. */
static int64_t fid_of(const cs_net_features *f, size_t n)
{
    return f->fid ? f->fid[n - 1] : (int64_t)n + f->fid_offset;
}

/* The number of the feature whose FID is fid (0: none), by halving: they ascend. */
static size_t number_of_fid(const cs_net_features *f, int64_t fid)
{
    size_t lo = 1, hi = f->count + 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fid_of(f, mid) < fid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo <= f->count && fid_of(f, lo) == fid ? lo : 0;
}

/* Feature n (the next) noted as read whole: its FID, and where its lines start. FIDs
 * that do not ascend leave the file to be read whole (f->indexed false). */
static bool note_feature(net_reader *r, size_t n, int64_t fid)
{
    cs_net_features *f = r->noting;
    if (!cs_grow((void **)&f->first_line, &f->first_cap, n + 1, sizeof *f->first_line))
        return false;
    f->first_line[n - 1] = r->taken + r->out->lines.count;
    if (n == 1)
        f->fid_offset = fid - 1;
    else if (fid <= fid_of(f, n - 1)) {
        cs_net_features_free(f); /* not indexed: read whole again */
        r->noting = NULL;
        return true;
    } else if (!f->fid && fid != (int64_t)n + f->fid_offset) { /* they stop following */
        size_t cap = 0;
        if (!cs_grow((void **)&f->fid, &cap, n, sizeof *f->fid))
            return false;
        f->fid_cap = cap;
        for (size_t i = 1; i < n; i++)
            f->fid[i - 1] = (int64_t)i + f->fid_offset;
    }
    if (f->fid && !cs_grow((void **)&f->fid, &f->fid_cap, n, sizeof *f->fid))
        return false;
    if (f->fid)
        f->fid[n - 1] = fid;
    f->count = n;
    return true;
}

/* The error of a feature read by window that the whole reading did not have so:
 * another FID (had < 0), or other lines. */
static cs_status changed_since(net_reader *r, long number, int64_t fid, size_t now, long had)
{
    cs_where w = {.file = r->out->layer.display, .feature = number};
    if (had < 0)
        return cs_error(r->ctx, CS_ERR_INPUT, &w, "cut the study again",
                        "the network changed while the study was cut: it has a feature of "
                        "FID %lld it did not have", (long long)fid);
    return cs_error(r->ctx, CS_ERR_INPUT, &w, "cut the study again",
                    "the network changed while the study was cut: the feature of FID %lld "
                    "has %zu lines now, %ld when it was loaded", (long long)fid, now, had);
}

/* The feature just read: noted (read whole), or given back its number (read by
 * window), which its lines carry. */
static cs_status renumber(net_reader *r, long *number)
{
    if (r->noting)
        return note_feature(r, (size_t)*number, cs_layer_fid(r->layer)) ? CS_OK
                                                                           : cs_nomem(r->ctx);
    if (!r->out->windowed)
        return CS_OK;
    int64_t fid = cs_layer_fid(r->layer);
    size_t n = number_of_fid(r->out->features_noted, fid);
    if (n == 0)
        return changed_since(r, *number, fid, 0, -1);
    *number = (long)n;
    return CS_OK;
}

/* Each line's box in the file's CRS, rounded outward to floats, noted (read whole). */
static bool note_boxes(net_reader *r, const cs_lines *l)
{
    cs_net_features *f = r->noting;
    if (!cs_grow((void **)&f->box, &f->box_cap, 4 * (r->taken + l->count), sizeof *f->box))
        return false;
    for (size_t i = 0; i < l->count; i++) {
        double b[4];
        float *o = f->box + 4 * (r->taken + i);
        cs_box_of(l->x + l->start[i], l->y + l->start[i], l->start[i + 1] - l->start[i], b);
        for (int c = 0; c < 4; c++) {
            o[c] = (float)b[c];
            if (c < 2 && o[c] > b[c])
                o[c] = nextafterf(o[c], -INFINITY);
            else if (c >= 2 && o[c] < b[c])
                o[c] = nextafterf(o[c], INFINITY);
        }
    }
    return true;
}

/* Each line's number among the whole file's: in turn (read whole), or from its
 * feature's (read by window), which must have as many lines as it had. */
static cs_status number_lines(net_reader *r, const cs_lines *l)
{
    if (!cs_grow((void **)&r->line_no, &r->line_no_cap, l->count, sizeof *r->line_no))
        return cs_nomem(r->ctx);
    const cs_net_features *f = r->out->features_noted;
    for (size_t i = 0, k = 0; i < l->count; i++) {
        if (!r->out->windowed) {
            r->line_no[i] = r->taken + i;
            continue;
        }
        size_t n = (size_t)l->feature[i];
        k = i > 0 && l->feature[i - 1] == l->feature[i] ? k + 1 : 0;
        r->line_no[i] = f->first_line[n - 1] + k;
        size_t had = f->first_line[n] - f->first_line[n - 1];
        if (i + 1 == l->count || l->feature[i + 1] != l->feature[i]) /* its last line */
            if (k + 1 != had)
                return changed_since(r, (long)n, fid_of(f, n), k + 1, (long)had);
    }
    return CS_OK;
}

/* The lines read so far handed on, once they hold `vertices` vertices or more (0: any),
 * and forgotten. */
static cs_status hand_on(net_reader *r, size_t vertices)
{
    cs_lines *l = &r->out->lines;
    if (!r->take || l->count == 0 || l->start[l->count] < vertices)
        return CS_OK;
    if (r->noting && !note_boxes(r, l))
        return cs_nomem(r->ctx);
    cs_status st = number_lines(r, l);
    size_t n = l->count; /* take may change the lines */
    if (st == CS_OK)
        st = r->take(r->user, l, r->line_no);
    r->taken += n;
    l->count = 0;
    return st;
}

/* How the reading starts for careshed shard: by window when asked and the file can, or
 * whole, its features noted when it could be read by window later. */
static void begin_noting(net_reader *r)
{
    cs_raw_lines *out = r->out;
    if (out->window) {
        out->windowed = cs_layer_window(r->layer, out->window);
        return;
    }
    if (out->features_noted && cs_layer_indexed(r->layer)) {
        cs_net_features_free(out->features_noted);
        out->features_noted->indexed = true;
        r->noting = out->features_noted;
    }
}

cs_status cs_load_network(cs_context *ctx, const cs_config *cfg, cs_raw_lines *out)
{
    return cs_load_network_batches(ctx, cfg, out, NULL, NULL);
}

cs_status cs_load_network_batches(cs_context *ctx, const cs_config *cfg, cs_raw_lines *out,
                                  cs_lines_take take, void *user)
{
    cs_net_features *noted = out->features_noted;
    const double *window = out->window;
    memset(out, 0, sizeof *out);
    out->features_noted = noted;
    out->window = noted ? window : NULL;
    if (!cfg->network.layer.path)
        return CS_OK;
    net_reader r = {.ctx = ctx, .cfg = cfg, .out = out, .take = take, .user = user};
    cs_status st = cs_load_open_layer(ctx, cfg, &cfg->network.layer, "network", false,
                                      &out->layer, &r.layer);
    if (st != CS_OK)
        return st;
    out->osm = cs_layer_is_osm(r.layer);
    struct stat fs; /* to tell a file changed between readings (careshed shard) */
    if (cs_layer_path(r.layer) && stat(cs_layer_path(r.layer), &fs) == 0) {
        out->file_bytes = (long long)fs.st_size;
        out->file_mtime_ns = (long long)fs.st_mtim.tv_sec * 1000000000LL + fs.st_mtim.tv_nsec;
    }
    size_t first_message = cs_context_message_count(ctx);
    st = find_fields(&r);
    bool fields_found = st == CS_OK; /* else reading the features would tell nothing */
    begin_noting(&r);
    long number;
    while (fields_found && st != CS_ERR_NOMEM && cs_layer_next(r.layer, &number)) {
        out->features++;
        cs_status fst = renumber(&r, &number);
        if (fst == CS_OK)
            fst = read_feature(&r, number);
        if (fst == CS_OK)
            fst = hand_on(&r, CS_LINES_BATCH);
        if (fst != CS_OK && (st == CS_OK || fst == CS_ERR_NOMEM))
            st = fst;
    }
    if (st == CS_OK)
        st = hand_on(&r, 0);
    if (cs_layer_read_status(r.layer) != CS_OK) /* the file ended early: reported */
        st = cs_layer_read_status(r.layer);
    out->layer.input.features = out->features;
    cs_context_limit_repeats(ctx, first_message, CS_REPEATS_SHOWN, out->layer.display);
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, out->layer.display);
    const char *found = cs_layer_encoding_found(r.layer);
    snprintf(out->encoding_found, sizeof out->encoding_found, "%s", found ? found : "");
    cs_layer_close(r.layer);
    out->lines_handed = r.taken;
    cs_free(r.line_no);
    if (r.noting && !cs_grow((void **)&r.noting->first_line, &r.noting->first_cap,
                             r.noting->count + 1, sizeof *r.noting->first_line))
        st = cs_nomem(ctx);
    else if (r.noting)
        r.noting->first_line[r.noting->count] = r.taken;
    if (st == CS_OK && out->lines.count + r.taken == 0 && !out->windowed)
        st = nothing_walked(&r);
    return st;
}
