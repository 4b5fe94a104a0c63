/*
 * config.c — the study's settings: defaults, the one setter every key goes through
 * (the study file and --set alike), the checks that span several keys, and lookups.
 *
 * A key is a dotted path read one segment at a time; each level has a list of the
 * names it knows, so an unknown key is answered with the keys that would have worked.
 * Every setter parses the whole value before it touches the config, so a bad value
 * leaves the previous one in place.
 */
#include "io/config.h"

#include <iconv.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_NAME "careshed study"
#define DEFAULT_KIND_FIELD "kind"
#define DEFAULT_TOTAL_FIELD "pop"
#define DEFAULT_WALK_SPEED_KMH 4.0
#define DEFAULT_OUTSIDE_TOLERANCE_M 50.0
#define DEFAULT_FAR_OUTSIDE_KM 10.0
#define DEFAULT_SNAP_M 0.5
#define DEFAULT_MAX_ATTACH_M 300.0
#define DEFAULT_ACCESS_WIDTH_M 50.0
#define DEFAULT_LOAD_RATE 1.0
#define DEFAULT_AREA_MAX_PIECES 50000
#define DEFAULT_SPREAD_M 50.0
#define DEFAULT_PATCH_CELL_M 250.0
#define DEFAULT_ACCESS_PER 1000.0
#define DEFAULT_LANDUSE_CLASS "landuse"
#define SAME_THRESHOLD 1e-9

static const double default_thresholds_min[] = {5, 10, 15};

/* ------------------------------------------------------------ key tables */

static const char *const top_keys[] = {
    "name", "crs", "walk_speed_kmh", "thresholds_min", "outside_tolerance_m",
    "far_outside_km", "measure", "demand_points_csv", "areas", "facilities", "population",
    "landuse", "underserved", "network", "costs", "capacities", "kinds", "targets", NULL};
static const char *const areas_keys[] = {"path", "layer", "crs", "encoding", "x",
                                         "y", "id", "name", NULL};
static const char *const facilities_keys[] = {"path", "layer", "crs", "encoding", "x", "y",
                                              "id", "name", "kind", "opened", "closed", NULL};
static const char *const population_keys[] = {"path", "layer", "crs", "encoding", "x", "y",
                                              "id", "name", "total", "bands", "area",
                                              "spread_m", "year", NULL};
static const char *const landuse_keys[] = {"path", "layer", "crs", "encoding", "class",
                                           "residential", NULL};
static const char *const underserved_keys[] = {"cell_m", "grid", "band", NULL};
static const char *const network_keys[] = {
    "path", "layer", "crs", "encoding", "id", "name", "class", "closed", "speed", "highway",
    "snap_m", "node_crossings", "max_attach_m", "access_width_m", "area_max_pieces",
    "facility_areas", NULL};
static const char *const costs_keys[] = {"path", "layer", "encoding", "from", "to", "cost",
                                         "unit", NULL};
static const char *const band_keys[] = {"field", "share", NULL};
static const char *const capacity_keys[] = {"field", "unit", "name", NULL};
static const char *const kind_keys[] = {"name", "name_en", "unit", "match", "thresholds_min",
                                        "thresholds_m", "walk_speed_kmh", "measure",
                                        "load_capacity", "load_band", "load_rate",
                                        "access_decay", "access_weights", "access_per", NULL};
static const char *const target_keys[] = {
    "name", "name_en", "type", "scope", "kind", "capacity", "capacity_of", "band",
    "within_min", "within_m", "per", "at_least", "at_most", "measure", NULL};

/* The text fields every layer has, by key. */
static const struct {
    const char *key;
    size_t offset;
} layer_fields[] = {
    {"path", offsetof(cs_layer_config, path)},
    {"layer", offsetof(cs_layer_config, layer)},
    {"crs", offsetof(cs_layer_config, crs)},
    {"encoding", offsetof(cs_layer_config, encoding)},
    {"x", offsetof(cs_layer_config, x_field)},
    {"y", offsetof(cs_layer_config, y_field)},
    {"id", offsetof(cs_layer_config, id_field)},
    {"name", offsetof(cs_layer_config, name_field)},
};

static const struct {
    const char *name;
    cs_target_type type;
} target_types[] = {
    {"coverage", CS_TARGET_COVERAGE},
    {"count", CS_TARGET_COUNT},
    {"capacity", CS_TARGET_CAPACITY},
    {"capacity_per_population", CS_TARGET_CAPACITY_PER_POP},
    {"capacity_share", CS_TARGET_CAPACITY_SHARE},
    {"accessibility", CS_TARGET_ACCESSIBILITY},
    {"load", CS_TARGET_LOAD},
};

/* A range a number must fall in, with the words used when it does not. */
typedef struct num_rule {
    double lo, hi;
    bool lo_open; /* lo itself excluded */
    const char *what;
    const char *hint;
} num_rule;

static const num_rule speed_rule = {0, 20, true, "a number in (0, 20]",
                                    "give a walking speed in km/h, e.g. 4"};
static const num_rule tolerance_rule = {0, HUGE_VAL, false, "a number >= 0",
                                        "give a distance in metres, e.g. 50"};
static const num_rule far_rule = {0, HUGE_VAL, true, "a number > 0",
                                  "give a distance in kilometres, e.g. 10"};
static const num_rule within_rule = {0, HUGE_VAL, true, "a number > 0",
                                     "give one of the kind's thresholds, e.g. 15"};
static const num_rule per_rule = {0, HUGE_VAL, true, "a number > 0",
                                  "give a population unit, e.g. 1 or 1000"};
static const num_rule at_least_rule = {0, HUGE_VAL, false, "a number >= 0",
                                       "give the target value; shares as 0.9 for 90%"};
static const num_rule snap_rule = {0, 100, false, "a number in [0, 100]",
                                   "give a distance in metres, e.g. 0.5"};
static const num_rule attach_rule = {0, 100000, true, "a number in (0, 100000]",
                                     "give a distance in metres, e.g. 300"};
static const num_rule width_rule = {0, 10000, true, "a number in (0, 10000]",
                                    "give a width in metres, e.g. 50"};
static const num_rule pieces_rule = {0, 1e9, false, "a number in [0, 1e9]",
                                     "give a number of street pieces, e.g. 50000; 0 skips "
                                     "the polygons"};
static const num_rule rate_rule = {0, 1000, true, "a number in (0, 1000]",
                                   "give the share of the band using the kind, e.g. 0.05"};
static const num_rule spread_rule = {0, 10000, false, "a number in [0, 10000]",
                                     "give a grid size in metres, e.g. 50; 0 keeps each "
                                     "polygon's population at its centroid"};
static const num_rule cell_rule = {1, 100000, false, "a number in [1, 100000]",
                                   "give a grid cell size in metres, e.g. 250"};
static const num_rule at_most_rule = {0, HUGE_VAL, true, "a number > 0",
                                      "give the highest load ratio allowed, e.g. 1 for full"};
static const num_rule share_rule = {0, 1, false, "a number in [0, 1]",
                                    "give the band's share of all residents, e.g. 0.2"};

/* ------------------------------------------------------------ small helpers */

/* A part of a string: one segment of a key or one item of a list. */
typedef struct seg {
    const char *s;
    size_t n;
} seg;

/* The next dot-separated segment of *rest; *rest becomes NULL after the last one. */
static seg next_seg(const char **rest)
{
    const char *p = *rest;
    const char *dot = strchr(p, '.');
    seg g = {p, dot ? (size_t)(dot - p) : strlen(p)};
    *rest = dot ? dot + 1 : NULL;
    return g;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The next comma-separated item of *rest, trimmed; *rest becomes NULL after the last. */
static seg next_item(const char **rest)
{
    const char *p = *rest;
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    *rest = comma ? comma + 1 : NULL;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    return (seg){p, (size_t)(end - p)};
}

static size_t count_items(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    return n;
}

static bool seg_is(seg g, const char *name)
{
    return strlen(name) == g.n && memcmp(g.s, name, g.n) == 0;
}

static bool in_list(const char *const *names, seg g)
{
    for (size_t i = 0; names[i]; i++)
        if (seg_is(g, names[i]))
            return true;
    return false;
}

static char *seg_dup(seg g)
{
    char *d = cs_malloc(g.n + 1);
    if (d) {
        memcpy(d, g.s, g.n);
        d[g.n] = '\0';
    }
    return d;
}

/* Append s to the NUL-terminated text in buf, cutting it (with "...") when full. */
static void append(char *buf, size_t size, const char *s)
{
    size_t len = strlen(buf), n = strlen(s);
    if (len + n < size) {
        memcpy(buf + len, s, n + 1);
    } else if (size >= 4) {
        memcpy(buf + size - 4, "...", 4);
    }
}

/* A value as shown in messages: at most size-4 bytes, cut at a character boundary. */
static const char *quote(char *buf, size_t size, const char *value)
{
    size_t n = strlen(value);
    if (n < size) {
        memcpy(buf, value, n + 1);
        return buf;
    }
    n = size - 4;
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, value, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

static size_t edit_distance(seg a, const char *b)
{
    size_t bn = strlen(b);
    size_t row[41];
    if (a.n > 40 || bn > 40)
        return SIZE_MAX;
    for (size_t j = 0; j <= bn; j++)
        row[j] = j;
    for (size_t i = 1; i <= a.n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t up = row[j];
            size_t best = diag + (a.s[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[bn];
}

/* "did you mean 'name'? known keys: name, crs, ..." for a wrong segment at one level. */
static void known_keys_hint(char *buf, size_t size, const char *const *names, seg wrong)
{
    const char *close = NULL;
    size_t best = SIZE_MAX;
    for (size_t i = 0; names[i]; i++) {
        size_t d = edit_distance(wrong, names[i]);
        /* Only near misses: a one-letter key is never "close" to another one. */
        if (d < best && d <= 2 && d * 3 <= strlen(names[i])) {
            best = d;
            close = names[i];
        }
    }
    buf[0] = '\0';
    if (close) {
        append(buf, size, "did you mean '");
        append(buf, size, close);
        append(buf, size, "'? ");
    }
    append(buf, size, "known keys: ");
    for (size_t i = 0; names[i]; i++) {
        if (i)
            append(buf, size, ", ");
        append(buf, size, names[i]);
    }
}

/* Ids are letters of any script, digits, '_' and '-'; bands may also hold '+'. */
static bool valid_id(seg g, bool band)
{
    if (g.n == 0)
        return false;
    for (size_t i = 0; i < g.n; i++) {
        unsigned char c = (unsigned char)g.s[i];
        bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || (band && c == '+');
        if (!ok)
            return false;
    }
    return true;
}

static void free_strings(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cs_free(list[i]);
    cs_free(list);
}

/* ------------------------------------------------------- entries: init/free */

static void free_layer(cs_layer_config *l)
{
    for (size_t i = 0; i < sizeof layer_fields / sizeof layer_fields[0]; i++)
        cs_free(*(char **)((char *)l + layer_fields[i].offset));
    memset(l, 0, sizeof *l);
}

static void init_capacity(cs_capacity_config *c, char *id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
}

static void free_capacity(cs_capacity_config *c)
{
    cs_free(c->id);
    cs_free(c->field);
    cs_free(c->unit);
    cs_free(c->name);
}

static void init_band(cs_band_config *b, char *id)
{
    memset(b, 0, sizeof *b);
    b->id = id;
    b->share = NAN;
}

static void free_band(cs_band_config *b)
{
    cs_free(b->id);
    cs_free(b->field);
}

static void init_kind(cs_kind_config *k, char *id)
{
    memset(k, 0, sizeof *k);
    k->id = id;
    k->walk_speed_kmh = NAN;
    k->load_rate = DEFAULT_LOAD_RATE;
    k->access_per = DEFAULT_ACCESS_PER;
}

static void free_kind(cs_kind_config *k)
{
    cs_free(k->id);
    cs_free(k->name);
    cs_free(k->name_en);
    cs_free(k->unit);
    cs_free(k->load_capacity);
    cs_free(k->load_band);
    free_strings(k->match, k->match_count);
}

static void init_target(cs_target_config *t, char *id, int line)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->scope = CS_SCOPE_DISTRICT;
    t->within_min = NAN;
    t->within_m = NAN;
    t->per = 1;
    t->at_least = NAN;
    t->at_most = NAN;
    t->line = line;
}

static void free_target(cs_target_config *t)
{
    cs_free(t->id);
    cs_free(t->name);
    cs_free(t->name_en);
    cs_free(t->kind);
    cs_free(t->capacity);
    cs_free(t->capacity_of);
    cs_free(t->band);
}

static void reset_network(cs_network_config *n)
{
    free_layer(&n->layer);
    free_strings(n->highway, n->highway_count);
    cs_free(n->class_field);
    cs_free(n->closed_field);
    cs_free(n->speed_field);
    memset(n, 0, sizeof *n);
    n->snap_m = DEFAULT_SNAP_M;
    n->max_attach_m = DEFAULT_MAX_ATTACH_M;
    n->access_width_m = DEFAULT_ACCESS_WIDTH_M;
    n->area_max_pieces = DEFAULT_AREA_MAX_PIECES;
}

static void reset_costs(cs_costs_config *m)
{
    free_layer(&m->layer);
    cs_free(m->from_field);
    cs_free(m->to_field);
    cs_free(m->cost_field);
    memset(m, 0, sizeof *m);
}

static void clear_capacities(cs_config *c)
{
    for (size_t i = 0; i < c->capacity_count; i++)
        free_capacity(&c->capacities[i]);
    cs_free(c->capacities);
    c->capacities = NULL;
    c->capacity_count = 0;
}

static void clear_bands(cs_config *c)
{
    for (size_t i = 0; i < c->band_count; i++)
        free_band(&c->bands[i]);
    cs_free(c->bands);
    c->bands = NULL;
    c->band_count = 0;
}

static void clear_kinds(cs_config *c)
{
    for (size_t i = 0; i < c->kind_count; i++)
        free_kind(&c->kinds[i]);
    cs_free(c->kinds);
    c->kinds = NULL;
    c->kind_count = 0;
}

static void clear_targets(cs_config *c)
{
    for (size_t i = 0; i < c->target_count; i++)
        free_target(&c->targets[i]);
    cs_free(c->targets);
    c->targets = NULL;
    c->target_count = 0;
}

/* Index of the entry whose id (a char * at id_offset) equals g; -1 when absent. */
static long find_entry(const void *array, size_t count, size_t size, size_t id_offset, seg g)
{
    for (size_t i = 0; i < count; i++) {
        const char *id = *(char *const *)((const char *)array + i * size + id_offset);
        if (id && seg_is(g, id))
            return (long)i;
    }
    return -1;
}

/* Make room for one more element at the end; the caller fills it and counts it. */
static bool make_room(void **array, size_t count, size_t size)
{
    void *p = cs_reallocarray(*array, count + 1, size);
    if (!p)
        return false;
    *array = p;
    return true;
}

/* --------------------------------------------------------- create/destroy */

cs_status cs_config_create(cs_context *ctx, cs_config **out)
{
    if (!out)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL, "cs_config_create: out is NULL");
    *out = NULL;
    cs_config *c = cs_calloc(1, sizeof *c);
    if (!c)
        return cs_nomem(ctx);
    c->name = cs_strdup(DEFAULT_NAME);
    c->kind_field = cs_strdup(DEFAULT_KIND_FIELD);
    c->total_field = cs_strdup(DEFAULT_TOTAL_FIELD);
    if (!c->name || !c->kind_field || !c->total_field) {
        cs_config_destroy(c);
        return cs_nomem(ctx);
    }
    c->walk_speed_kmh = DEFAULT_WALK_SPEED_KMH;
    memcpy(c->thresholds_min, default_thresholds_min, sizeof default_thresholds_min);
    c->threshold_count = sizeof default_thresholds_min / sizeof default_thresholds_min[0];
    c->outside_tolerance_m = DEFAULT_OUTSIDE_TOLERANCE_M;
    c->far_outside_km = DEFAULT_FAR_OUTSIDE_KM;
    c->spread_m = DEFAULT_SPREAD_M;
    c->demand_points_csv = -1;
    c->patch_cell_m = DEFAULT_PATCH_CELL_M;
    reset_network(&c->network);
    *out = c;
    return CS_OK;
}

void cs_config_destroy(cs_config *cfg)
{
    if (!cfg)
        return;
    cs_free(cfg->file);
    cs_free(cfg->base_dir);
    cs_free(cfg->name);
    cs_free(cfg->crs);
    free_layer(&cfg->areas);
    free_layer(&cfg->facilities);
    cs_free(cfg->kind_field);
    cs_free(cfg->opened_field);
    cs_free(cfg->closed_field);
    free_layer(&cfg->population);
    cs_free(cfg->total_field);
    cs_free(cfg->area_field);
    cs_free(cfg->pop_year_field);
    free_layer(&cfg->landuse);
    cs_free(cfg->landuse_class);
    free_strings(cfg->landuse_residential, cfg->landuse_residential_count);
    cs_free(cfg->patch_band);
    reset_network(&cfg->network);
    reset_costs(&cfg->costs);
    clear_capacities(cfg);
    clear_bands(cfg);
    clear_kinds(cfg);
    clear_targets(cfg);
    cs_free(cfg);
}

/* ---------------------------------------------------------------- setters */

/* One cs_config_set_at() call: the key, its trimmed value and where it came from. */
typedef struct setter {
    cs_context *ctx;
    cs_config *cfg;
    const char *key;   /* the whole key, for messages */
    const char *value; /* trimmed; "" restores the default */
    cs_where where;
} setter;

static cs_status bad(const setter *s, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cs_status bad(const setter *s, const char *hint, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cs_error(s->ctx, CS_ERR_STUDY, &s->where, hint, "%s", text);
}

static cs_status unknown_key(const setter *s, const char *const *names, seg wrong)
{
    char hint[512];
    known_keys_hint(hint, sizeof hint, names, wrong);
    return bad(s, hint, "unknown key '%.300s'", s->key);
}

/* A key that goes on below a key taking a single value ("name.x"). */
static cs_status below_value(const setter *s, seg leaf)
{
    char hint[160];
    snprintf(hint, sizeof hint, "'%.*s' takes a single value, not keys below it",
             (int)leaf.n, leaf.s);
    return bad(s, hint, "unknown key '%.300s'", s->key);
}

/* A value given to a key that only groups other keys ("areas: streets.geojson"). */
static cs_status group_not_value(const setter *s, const char *const *names)
{
    char hint[512];
    known_keys_hint(hint, sizeof hint, names, (seg){"", 0});
    return bad(s, hint, "%.300s is a group of keys, not a value", s->key);
}

static cs_status bad_id(const setter *s, seg id, const char *what, bool band)
{
    return bad(s,
               band ? "band ids are letters, digits, '_', '-' and '+', e.g. 60+"
                    : "ids are letters (any script), digits, '_' and '-'",
               "'%.*s' is not a valid %s id", (int)(id.n > 100 ? 100 : id.n), id.s, what);
}

static cs_status set_text(const setter *s, char **slot, const char *def)
{
    const char *v = *s->value ? s->value : def;
    char *copy = NULL;
    if (v && !(copy = cs_strdup(v)))
        return cs_nomem(s->ctx);
    cs_free(*slot);
    *slot = copy;
    return CS_OK;
}

static bool rule_holds(const num_rule *r, double v)
{
    return (r->lo_open ? v > r->lo : v >= r->lo) && v <= r->hi;
}

/* Set a number; an empty value restores def. */
static cs_status set_number(const setter *s, double *slot, double def, const num_rule *r)
{
    char shown[64];
    double v;
    if (!*s->value) {
        *slot = def;
        return CS_OK;
    }
    if (!cs_parse_double(s->value, &v) || !rule_holds(r, v))
        return bad(s, r->hint, "%.300s must be %s, got '%s'", s->key, r->what,
                   quote(shown, sizeof shown, s->value));
    *slot = v;
    return CS_OK;
}

static void sort_doubles(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Parse "5,10,15" into 1..CS_MAX_THRESHOLDS distinct positive numbers, ascending. */
static cs_status parse_thresholds(const setter *s, double out[CS_MAX_THRESHOLDS],
                                  size_t *count)
{
    const char *hint = "write 1 to 8 numbers > 0 separated by commas, e.g. 5,10,15";
    char shown[64];
    size_t items = count_items(s->value);
    if (items > CS_MAX_THRESHOLDS)
        return bad(s, hint, "%.300s has %zu values; at most %d are allowed", s->key, items,
                   CS_MAX_THRESHOLDS);
    size_t n = 0;
    for (const char *p = s->value; p;) {
        seg item = next_item(&p);
        char num[64];
        double v;
        if (item.n == 0)
            return bad(s, hint, "%.300s has an empty value in '%s'", s->key,
                       quote(shown, sizeof shown, s->value));
        bool ok = item.n < sizeof num;
        if (ok) {
            memcpy(num, item.s, item.n);
            num[item.n] = '\0';
            ok = cs_parse_double(num, &v) && v > 0;
        }
        if (!ok)
            return bad(s, hint, "%.300s must be numbers > 0, got '%.*s'", s->key,
                       (int)(item.n > 60 ? 60 : item.n), item.s);
        out[n++] = v;
    }
    sort_doubles(out, n);
    for (size_t i = 1; i < n; i++)
        if (fabs(out[i] - out[i - 1]) <= SAME_THRESHOLD)
            return bad(s, hint, "%.300s lists %g twice", s->key, out[i]);
    *count = n;
    return CS_OK;
}

static cs_status set_study_thresholds(const setter *s)
{
    cs_config *c = s->cfg;
    double v[CS_MAX_THRESHOLDS] = {0};
    size_t n = sizeof default_thresholds_min / sizeof default_thresholds_min[0];
    if (*s->value) {
        cs_status st = parse_thresholds(s, v, &n);
        if (st != CS_OK)
            return st;
    } else {
        memcpy(v, default_thresholds_min, sizeof default_thresholds_min);
    }
    memcpy(c->thresholds_min, v, sizeof v);
    c->threshold_count = n;
    return CS_OK;
}

static cs_status set_crs(const setter *s)
{
    /* "auto" and the default are one thing: NULL, so readers test one case. */
    if (!cs_strcasecmp(s->value, "auto")) {
        cs_free(s->cfg->crs);
        s->cfg->crs = NULL;
        return CS_OK;
    }
    return set_text(s, &s->cfg->crs, NULL);
}

/* A list of non-empty words written with commas ("centre,中心"); empty = NULL. */
static cs_status set_list(const setter *s, char ***slot, size_t *slot_count)
{
    char **list = NULL;
    size_t n = 0;
    if (*s->value) {
        char shown[64];
        list = cs_calloc(count_items(s->value), sizeof *list);
        if (!list)
            return cs_nomem(s->ctx);
        for (const char *p = s->value; p;) {
            seg item = next_item(&p);
            if (item.n == 0) {
                free_strings(list, n);
                return bad(s, "write the values separated by commas, e.g. a,b",
                           "%.300s has an empty value in '%s'", s->key,
                           quote(shown, sizeof shown, s->value));
            }
            if (!(list[n] = seg_dup(item))) {
                free_strings(list, n);
                return cs_nomem(s->ctx);
            }
            n++;
        }
    }
    free_strings(*slot, *slot_count);
    *slot = list;
    *slot_count = n;
    return CS_OK;
}

/* "yes"/"no" and their usual spellings; empty restores def. */
static cs_status set_bool(const setter *s, bool *slot, bool def)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    char shown[64];
    if (!*s->value) {
        *slot = def;
        return CS_OK;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!cs_strcasecmp(s->value, yes[i]) || !cs_strcasecmp(s->value, no[i])) {
            *slot = !cs_strcasecmp(s->value, yes[i]);
            return CS_OK;
        }
    }
    return bad(s, "write true or false", "%.300s must be true or false, got '%s'", s->key,
               quote(shown, sizeof shown, s->value));
}

/* A single measure's name, as the study file writes it. */
static const char *measure_name(unsigned bit)
{
    return bit == CS_MEASURE_MATRIX_BIT ? "matrix" : bit == CS_MEASURE_NETWORK_BIT ? "network"
                                                                                  : "straight";
}

/* One measure's bit from its name (0 when unknown). */
static unsigned measure_named(const char *name, size_t n)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {{"straight", CS_MEASURE_STRAIGHT_BIT},
                 {"network", CS_MEASURE_NETWORK_BIT},
                 {"matrix", CS_MEASURE_MATRIX_BIT},
                 {"both", CS_MEASURE_STRAIGHT_BIT | CS_MEASURE_NETWORK_BIT}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncmp(names[i].name, name, n))
            return names[i].bits;
    return 0;
}

/* straight | network | matrix, or where several measures are allowed a list of them
 * ("straight, matrix"; both = straight and network); empty = 0, which means "as the
 * study (or the kind) says". */
static cs_status set_measures(const setter *s, unsigned *slot, bool allow_several)
{
    char shown[64];
    unsigned v = 0;
    size_t names = 0;
    bool known = true;
    for (const char *p = s->value; *p && known;) {
        size_t n = strcspn(p, ", ");
        if (n > 0) {
            unsigned bits = measure_named(p, n);
            known = bits != 0 && (allow_several || bits != (CS_MEASURE_STRAIGHT_BIT |
                                                            CS_MEASURE_NETWORK_BIT));
            v |= bits;
            names++;
        }
        p += n + (p[n] != 0);
    }
    if (!known || (!allow_several && names > 1))
        return bad(s,
                   allow_several ? "straight: as the crow flies; network: along the walking "
                                   "network; matrix: the cost matrix (costs.path); list "
                                   "several to see them side by side, e.g. straight, network"
                                 : "straight: as the crow flies; network: along the walking "
                                   "network; matrix: the cost matrix (costs.path)",
                   "%.300s must be %s, got '%s'", s->key,
                   allow_several ? "straight, network, matrix, both or a list of them"
                                 : "one of straight, network and matrix",
                   quote(shown, sizeof shown, s->value));
    *slot = v;
    return CS_OK;
}

/* A band id where "total" and the default are one thing: NULL. */
static cs_status set_target_band_text(const setter *s, char **slot)
{
    if (!strcmp(s->value, "total")) {
        cs_free(*slot);
        *slot = NULL;
        return CS_OK;
    }
    return set_text(s, slot, NULL);
}

/* ----------------------------------------------------------------- layers */

typedef enum layer_role { ROLE_AREAS, ROLE_FACILITIES, ROLE_POPULATION } layer_role;

/* Restore a whole layer section (key "areas", "facilities" or "population"). */
static cs_status reset_layer_section(const setter *s, layer_role role)
{
    cs_config *c = s->cfg;
    if (role == ROLE_AREAS) {
        free_layer(&c->areas);
        return CS_OK;
    }
    char *field = cs_strdup(role == ROLE_FACILITIES ? DEFAULT_KIND_FIELD : DEFAULT_TOTAL_FIELD);
    if (!field)
        return cs_nomem(s->ctx);
    if (role == ROLE_FACILITIES) {
        free_layer(&c->facilities);
        cs_free(c->kind_field);
        c->kind_field = field;
        cs_free(c->opened_field);
        cs_free(c->closed_field);
        c->opened_field = c->closed_field = NULL;
    } else {
        free_layer(&c->population);
        cs_free(c->total_field);
        c->total_field = field;
        cs_free(c->area_field);
        c->area_field = NULL;
        cs_free(c->pop_year_field);
        c->pop_year_field = NULL;
        c->spread_m = DEFAULT_SPREAD_M;
        clear_bands(c);
    }
    return CS_OK;
}

static cs_status set_band_field(const setter *s, cs_band_config *b)
{
    cs_status st = set_text(s, &b->field, NULL);
    if (st == CS_OK && b->field)
        b->share = NAN; /* a field and a share exclude each other */
    return st;
}

static cs_status set_band_share(const setter *s, cs_band_config *b)
{
    cs_status st = set_number(s, &b->share, NAN, &share_rule);
    if (st == CS_OK && !isnan(b->share)) {
        cs_free(b->field);
        b->field = NULL;
    }
    return st;
}

/* population.bands[.<band>[.field|.share]] */
static cs_status set_bands(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return bad(s, "give one key per band, e.g. population.bands.60+: pop60",
                       "%.300s is a group of keys, not a value", s->key);
        clear_bands(c);
        return CS_OK;
    }
    seg id = next_seg(&rest);
    if (!valid_id(id, true))
        return bad_id(s, id, "band", true);
    if (seg_is(id, "total"))
        return bad(s, "use population.total for the field of all residents",
                   "'total' is reserved for all residents and cannot name a band");
    long i = find_entry(c->bands, c->band_count, sizeof *c->bands,
                        offsetof(cs_band_config, id), id);
    if (i < 0) {
        char *copy = seg_dup(id);
        if (!copy || !make_room((void **)&c->bands, c->band_count, sizeof *c->bands)) {
            cs_free(copy);
            return cs_nomem(s->ctx);
        }
        init_band(&c->bands[c->band_count], copy);
        i = (long)c->band_count++;
    }
    cs_band_config *b = &c->bands[i];
    if (!rest) {
        if (*s->value)
            return set_band_field(s, b);
        cs_free(b->field);
        b->field = NULL;
        b->share = NAN;
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest && in_list(band_keys, g))
        return below_value(s, g);
    if (!rest && seg_is(g, "field"))
        return set_band_field(s, b);
    if (!rest && seg_is(g, "share"))
        return set_band_share(s, b);
    return unknown_key(s, band_keys, g);
}

/* areas.*, facilities.*, population.* */
static cs_status set_layer(const setter *s, layer_role role, const char *rest)
{
    cs_config *c = s->cfg;
    const char *const *names = role == ROLE_AREAS        ? areas_keys
                               : role == ROLE_FACILITIES ? facilities_keys
                                                         : population_keys;
    cs_layer_config *l = role == ROLE_AREAS        ? &c->areas
                         : role == ROLE_FACILITIES ? &c->facilities
                                                   : &c->population;
    if (!rest)
        return *s->value ? group_not_value(s, names) : reset_layer_section(s, role);
    seg g = next_seg(&rest);
    if (role == ROLE_POPULATION && seg_is(g, "bands"))
        return set_bands(s, rest);
    if (rest && in_list(names, g))
        return below_value(s, g);
    if (!rest && role == ROLE_FACILITIES && seg_is(g, "kind"))
        return set_text(s, &c->kind_field, DEFAULT_KIND_FIELD);
    if (!rest && role == ROLE_FACILITIES && seg_is(g, "opened"))
        return set_text(s, &c->opened_field, NULL);
    if (!rest && role == ROLE_FACILITIES && seg_is(g, "closed"))
        return set_text(s, &c->closed_field, NULL);
    if (!rest && role == ROLE_POPULATION && seg_is(g, "total"))
        return set_text(s, &c->total_field, DEFAULT_TOTAL_FIELD);
    if (!rest && role == ROLE_POPULATION && seg_is(g, "area"))
        return set_text(s, &c->area_field, NULL);
    if (!rest && role == ROLE_POPULATION && seg_is(g, "year"))
        return set_text(s, &c->pop_year_field, NULL);
    if (!rest && role == ROLE_POPULATION && seg_is(g, "spread_m"))
        return set_number(s, &c->spread_m, DEFAULT_SPREAD_M, &spread_rule);
    for (size_t i = 0; !rest && i < sizeof layer_fields / sizeof layer_fields[0]; i++) {
        if (!seg_is(g, layer_fields[i].key))
            continue;
        cs_status st = set_text(s, (char **)((char *)l + layer_fields[i].offset), NULL);
        if (st == CS_OK && !strcmp(layer_fields[i].key, "path"))
            l->path_line = l->path ? (int)s->where.line : 0;
        return st;
    }
    return unknown_key(s, names, g);
}

/* landuse.*: residential land, over which area totals are spread */
static cs_status set_landuse(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return group_not_value(s, landuse_keys);
        free_layer(&c->landuse);
        cs_free(c->landuse_class);
        c->landuse_class = NULL;
        free_strings(c->landuse_residential, c->landuse_residential_count);
        c->landuse_residential = NULL;
        c->landuse_residential_count = 0;
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest)
        return in_list(landuse_keys, g) ? below_value(s, g) : unknown_key(s, landuse_keys, g);
    if (seg_is(g, "class"))
        return set_text(s, &c->landuse_class, NULL);
    if (seg_is(g, "residential"))
        return set_list(s, &c->landuse_residential, &c->landuse_residential_count);
    for (size_t i = 0; i < 4; i++) { /* path, layer, crs, encoding */
        if (!seg_is(g, layer_fields[i].key))
            continue;
        cs_status st = set_text(s, (char **)((char *)&c->landuse + layer_fields[i].offset), NULL);
        if (st == CS_OK && i == 0)
            c->landuse.path_line = c->landuse.path ? (int)s->where.line : 0;
        return st;
    }
    return unknown_key(s, landuse_keys, g);
}

/* underserved.*: the grid under-served patches are gathered on */
static cs_status set_underserved(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return group_not_value(s, underserved_keys);
        c->patch_cell_m = DEFAULT_PATCH_CELL_M;
        c->patch_hex = false;
        cs_free(c->patch_band);
        c->patch_band = NULL;
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest)
        return in_list(underserved_keys, g) ? below_value(s, g)
                                            : unknown_key(s, underserved_keys, g);
    if (seg_is(g, "cell_m"))
        return set_number(s, &c->patch_cell_m, DEFAULT_PATCH_CELL_M, &cell_rule);
    if (seg_is(g, "band")) /* "total" is kept: unset means the first age band */
        return set_text(s, &c->patch_band, NULL);
    if (seg_is(g, "grid")) {
        char shown[64];
        if (!*s->value || !strcmp(s->value, "square") || !strcmp(s->value, "hex")) {
            c->patch_hex = !strcmp(s->value, "hex");
            return CS_OK;
        }
        return bad(s, "write square or hex", "%.300s must be square or hex, got '%s'", s->key,
                   quote(shown, sizeof shown, s->value));
    }
    return unknown_key(s, underserved_keys, g);
}

/* network.* */
static cs_status set_network(const setter *s, const char *rest)
{
    cs_network_config *n = &s->cfg->network;
    if (!rest) {
        if (*s->value)
            return group_not_value(s, network_keys);
        reset_network(n);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest)
        return in_list(network_keys, g) ? below_value(s, g) : unknown_key(s, network_keys, g);
    for (size_t i = 0; i < sizeof layer_fields / sizeof layer_fields[0]; i++) {
        if (!seg_is(g, layer_fields[i].key) || seg_is(g, "x") || seg_is(g, "y"))
            continue;
        cs_status st = set_text(s, (char **)((char *)&n->layer + layer_fields[i].offset), NULL);
        if (st == CS_OK && !strcmp(layer_fields[i].key, "path"))
            n->layer.path_line = n->layer.path ? (int)s->where.line : 0;
        return st;
    }
    if (seg_is(g, "class"))
        return set_text(s, &n->class_field, NULL);
    if (seg_is(g, "closed"))
        return set_text(s, &n->closed_field, NULL);
    if (seg_is(g, "speed"))
        return set_text(s, &n->speed_field, NULL);
    if (seg_is(g, "highway"))
        return set_list(s, &n->highway, &n->highway_count);
    if (seg_is(g, "snap_m"))
        return set_number(s, &n->snap_m, DEFAULT_SNAP_M, &snap_rule);
    if (seg_is(g, "node_crossings"))
        return set_bool(s, &n->node_crossings, false);
    if (seg_is(g, "max_attach_m"))
        return set_number(s, &n->max_attach_m, DEFAULT_MAX_ATTACH_M, &attach_rule);
    if (seg_is(g, "access_width_m"))
        return set_number(s, &n->access_width_m, DEFAULT_ACCESS_WIDTH_M, &width_rule);
    if (seg_is(g, "facility_areas"))
        return set_bool(s, &n->facility_areas, false);
    if (seg_is(g, "area_max_pieces"))
        return set_number(s, &n->area_max_pieces, DEFAULT_AREA_MAX_PIECES, &pieces_rule);
    return unknown_key(s, network_keys, g);
}

/* costs.*: a cost matrix from another router */
static cs_status set_costs(const setter *s, const char *rest)
{
    cs_costs_config *m = &s->cfg->costs;
    if (!rest) {
        if (*s->value)
            return group_not_value(s, costs_keys);
        reset_costs(m);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest)
        return in_list(costs_keys, g) ? below_value(s, g) : unknown_key(s, costs_keys, g);
    if (seg_is(g, "from"))
        return set_text(s, &m->from_field, NULL);
    if (seg_is(g, "to"))
        return set_text(s, &m->to_field, NULL);
    if (seg_is(g, "cost"))
        return set_text(s, &m->cost_field, NULL);
    if (seg_is(g, "unit")) {
        char shown[64];
        if (!*s->value || !strcmp(s->value, "min") || !strcmp(s->value, "m")) {
            m->in_m = !strcmp(s->value, "m");
            return CS_OK;
        }
        return bad(s, "write min for minutes or m for metres",
                   "%.300s must be min or m, got '%s'", s->key,
                   quote(shown, sizeof shown, s->value));
    }
    for (size_t i = 0; i < 4; i++) { /* path, layer, crs (not offered), encoding */
        if (!seg_is(g, layer_fields[i].key) || seg_is(g, "crs"))
            continue;
        cs_status st = set_text(s, (char **)((char *)&m->layer + layer_fields[i].offset), NULL);
        if (st == CS_OK && i == 0)
            m->layer.path_line = m->layer.path ? (int)s->where.line : 0;
        return st;
    }
    return unknown_key(s, costs_keys, g);
}

/* ------------------------------------------------------------- capacities */

static cs_status set_capacities(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return bad(s, "give one group of keys per capacity, e.g. capacities.beds.field",
                       "%.300s is a group of keys, not a value", s->key);
        clear_capacities(c);
        return CS_OK;
    }
    seg id = next_seg(&rest);
    if (!valid_id(id, false))
        return bad_id(s, id, "capacity", false);
    long i = find_entry(c->capacities, c->capacity_count, sizeof *c->capacities,
                        offsetof(cs_capacity_config, id), id);
    if (i < 0) {
        char *copy = seg_dup(id);
        if (!copy ||
            !make_room((void **)&c->capacities, c->capacity_count, sizeof *c->capacities)) {
            cs_free(copy);
            return cs_nomem(s->ctx);
        }
        init_capacity(&c->capacities[c->capacity_count], copy);
        i = (long)c->capacity_count++;
    }
    cs_capacity_config *cap = &c->capacities[i];
    if (!rest) {
        if (*s->value)
            return group_not_value(s, capacity_keys);
        char *keep = cap->id;
        cap->id = NULL;
        free_capacity(cap);
        init_capacity(cap, keep);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest && in_list(capacity_keys, g))
        return below_value(s, g);
    if (!rest && seg_is(g, "field"))
        return set_text(s, &cap->field, NULL);
    if (!rest && seg_is(g, "unit"))
        return set_text(s, &cap->unit, NULL);
    if (!rest && seg_is(g, "name"))
        return set_text(s, &cap->name, NULL);
    return unknown_key(s, capacity_keys, g);
}

/* ------------------------------------------------------------------ kinds */

static cs_status set_kind_thresholds(const setter *s, cs_kind_config *k, bool in_m)
{
    if (!*s->value) {
        /* Restoring one unit leaves thresholds given in the other unit alone. */
        if (k->thresholds_in_m == in_m) {
            k->threshold_count = 0;
            k->thresholds_in_m = false;
        }
        return CS_OK;
    }
    double v[CS_MAX_THRESHOLDS] = {0};
    size_t n = 0;
    cs_status st = parse_thresholds(s, v, &n);
    if (st != CS_OK)
        return st;
    memset(k->thresholds_min, 0, sizeof k->thresholds_min);
    memset(k->thresholds_m, 0, sizeof k->thresholds_m);
    memcpy(in_m ? k->thresholds_m : k->thresholds_min, v, sizeof v);
    k->threshold_count = n;
    k->thresholds_in_m = in_m;
    return CS_OK;
}

static cs_status set_decay(const setter *s, cs_kind_config *k)
{
    static const char *const names[] = {"none", "steps", "gaussian"};
    char shown[64];
    if (!*s->value) {
        k->access_decay = CS_DECAY_NONE;
        return CS_OK;
    }
    for (size_t i = 0; i < 3; i++)
        if (!strcmp(s->value, names[i])) {
            k->access_decay = (cs_decay_kind)i;
            return CS_OK;
        }
    return bad(s, "none: every facility within reach counts fully (2SFCA); steps: "
               "access_weights per threshold zone; gaussian: fading to 0 at the catchment",
               "%.300s must be none, steps or gaussian, got '%s'", s->key,
               quote(shown, sizeof shown, s->value));
}

/* "1,0.68,0.22": one weight in [0, 1] per threshold zone, nearest first. */
static cs_status set_access_weights(const setter *s, cs_kind_config *k)
{
    const char *hint = "write one weight in [0, 1] per threshold, nearest first, e.g. 1,0.68,0.22";
    size_t n = 0;
    if (count_items(s->value) > CS_MAX_THRESHOLDS)
        return bad(s, hint, "%.300s has more values than thresholds can have (%d)", s->key,
                   CS_MAX_THRESHOLDS);
    for (const char *p = *s->value ? s->value : NULL; p;) {
        seg item = next_item(&p);
        char num[64];
        double v;
        bool ok = item.n > 0 && item.n < sizeof num;
        if (ok) {
            memcpy(num, item.s, item.n);
            num[item.n] = '\0';
            ok = cs_parse_double(num, &v) && v >= 0 && v <= 1;
        }
        if (!ok)
            return bad(s, hint, "%.300s must be weights in [0, 1], got '%.*s'", s->key,
                       (int)(item.n > 60 ? 60 : item.n), item.s);
        k->access_weights[n++] = v;
    }
    k->access_weight_count = n;
    return CS_OK;
}

static cs_status set_kinds(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return bad(s, "give one group of keys per kind, e.g. kinds.centre.name",
                       "%.300s is a group of keys, not a value", s->key);
        clear_kinds(c);
        return CS_OK;
    }
    seg id = next_seg(&rest);
    if (!valid_id(id, false))
        return bad_id(s, id, "kind", false);
    long i = find_entry(c->kinds, c->kind_count, sizeof *c->kinds,
                        offsetof(cs_kind_config, id), id);
    if (i < 0) {
        char *copy = seg_dup(id);
        if (!copy || !make_room((void **)&c->kinds, c->kind_count, sizeof *c->kinds)) {
            cs_free(copy);
            return cs_nomem(s->ctx);
        }
        init_kind(&c->kinds[c->kind_count], copy);
        i = (long)c->kind_count++;
    }
    cs_kind_config *k = &c->kinds[i];
    if (!rest) {
        if (*s->value)
            return group_not_value(s, kind_keys);
        char *keep = k->id;
        k->id = NULL;
        free_kind(k);
        init_kind(k, keep);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest && in_list(kind_keys, g))
        return below_value(s, g);
    if (rest)
        return unknown_key(s, kind_keys, g);
    if (seg_is(g, "name"))
        return set_text(s, &k->name, NULL);
    if (seg_is(g, "name_en"))
        return set_text(s, &k->name_en, NULL);
    if (seg_is(g, "unit"))
        return set_text(s, &k->unit, NULL);
    if (seg_is(g, "match"))
        return set_list(s, &k->match, &k->match_count);
    if (seg_is(g, "measure"))
        return set_measures(s, &k->measures, true);
    if (seg_is(g, "load_capacity"))
        return set_text(s, &k->load_capacity, NULL);
    if (seg_is(g, "load_band"))
        return set_target_band_text(s, &k->load_band);
    if (seg_is(g, "load_rate"))
        return set_number(s, &k->load_rate, DEFAULT_LOAD_RATE, &rate_rule);
    if (seg_is(g, "access_decay"))
        return set_decay(s, k);
    if (seg_is(g, "access_weights"))
        return set_access_weights(s, k);
    if (seg_is(g, "access_per"))
        return set_number(s, &k->access_per, DEFAULT_ACCESS_PER, &per_rule);
    if (seg_is(g, "thresholds_min"))
        return set_kind_thresholds(s, k, false);
    if (seg_is(g, "thresholds_m"))
        return set_kind_thresholds(s, k, true);
    if (seg_is(g, "walk_speed_kmh"))
        return set_number(s, &k->walk_speed_kmh, NAN, &speed_rule);
    return unknown_key(s, kind_keys, g);
}

/* ---------------------------------------------------------------- targets */

static cs_status set_target_type(const setter *s, cs_target_config *t)
{
    char shown[64];
    if (!*s->value) {
        t->type = 0;
        return CS_OK;
    }
    for (size_t i = 0; i < sizeof target_types / sizeof target_types[0]; i++) {
        if (!strcmp(s->value, target_types[i].name)) {
            t->type = target_types[i].type;
            return CS_OK;
        }
    }
    return bad(s, "see docs/study-file.md for what each type measures",
               "%.300s must be one of coverage, count, capacity, capacity_per_population, "
               "capacity_share, accessibility or load, got '%s'",
               s->key, quote(shown, sizeof shown, s->value));
}

static cs_status set_scope(const setter *s, cs_target_config *t)
{
    char shown[64];
    if (!*s->value || !strcmp(s->value, "district")) {
        t->scope = CS_SCOPE_DISTRICT;
        return CS_OK;
    }
    if (!strcmp(s->value, "area")) {
        t->scope = CS_SCOPE_AREA;
        return CS_OK;
    }
    return bad(s, "district: the district as a whole; area: every area on its own",
               "%.300s must be district or area, got '%s'", s->key,
               quote(shown, sizeof shown, s->value));
}

/* within_min and within_m exclude each other: setting one clears the other. */
static cs_status set_within(const setter *s, cs_target_config *t, bool in_m)
{
    cs_status st = set_number(s, in_m ? &t->within_m : &t->within_min, NAN, &within_rule);
    if (st == CS_OK && *s->value) {
        if (in_m)
            t->within_min = NAN;
        else
            t->within_m = NAN;
    }
    return st;
}

static cs_status set_target_field(const setter *s, cs_target_config *t, seg g)
{
    if (seg_is(g, "name"))
        return set_text(s, &t->name, NULL);
    if (seg_is(g, "name_en"))
        return set_text(s, &t->name_en, NULL);
    if (seg_is(g, "type"))
        return set_target_type(s, t);
    if (seg_is(g, "scope"))
        return set_scope(s, t);
    if (seg_is(g, "kind"))
        return set_text(s, &t->kind, NULL);
    if (seg_is(g, "capacity"))
        return set_text(s, &t->capacity, NULL);
    if (seg_is(g, "capacity_of"))
        return set_text(s, &t->capacity_of, NULL);
    if (seg_is(g, "band"))
        return set_target_band_text(s, &t->band);
    if (seg_is(g, "measure"))
        return set_measures(s, &t->measure, false);
    if (seg_is(g, "within_min"))
        return set_within(s, t, false);
    if (seg_is(g, "within_m"))
        return set_within(s, t, true);
    if (seg_is(g, "per"))
        return set_number(s, &t->per, 1, &per_rule);
    if (seg_is(g, "at_least"))
        return set_number(s, &t->at_least, NAN, &at_least_rule);
    if (seg_is(g, "at_most"))
        return set_number(s, &t->at_most, NAN, &at_most_rule);
    return unknown_key(s, target_keys, g);
}

static cs_status set_targets(const setter *s, const char *rest)
{
    cs_config *c = s->cfg;
    if (!rest) {
        if (*s->value)
            return bad(s, "give one group of keys per target, e.g. targets.beds.type",
                       "%.300s is a group of keys, not a value", s->key);
        clear_targets(c);
        return CS_OK;
    }
    seg id = next_seg(&rest);
    if (!valid_id(id, false))
        return bad_id(s, id, "target", false);
    long i = find_entry(c->targets, c->target_count, sizeof *c->targets,
                        offsetof(cs_target_config, id), id);
    if (i < 0) {
        char *copy = seg_dup(id);
        if (!copy || !make_room((void **)&c->targets, c->target_count, sizeof *c->targets)) {
            cs_free(copy);
            return cs_nomem(s->ctx);
        }
        init_target(&c->targets[c->target_count], copy, (int)s->where.line);
        i = (long)c->target_count++;
    }
    cs_target_config *t = &c->targets[i];
    if (!rest) {
        if (*s->value)
            return group_not_value(s, target_keys);
        char *keep = t->id;
        int line = t->line;
        t->id = NULL;
        free_target(t);
        init_target(t, keep, line);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    if (rest)
        return in_list(target_keys, g) ? below_value(s, g) : unknown_key(s, target_keys, g);
    return set_target_field(s, t, g);
}

/* -------------------------------------------------------------- top level */

static cs_status set_top(const setter *s)
{
    cs_config *c = s->cfg;
    const char *rest = s->key;
    seg g = next_seg(&rest);
    if (seg_is(g, "areas"))
        return set_layer(s, ROLE_AREAS, rest);
    if (seg_is(g, "facilities"))
        return set_layer(s, ROLE_FACILITIES, rest);
    if (seg_is(g, "population"))
        return set_layer(s, ROLE_POPULATION, rest);
    if (seg_is(g, "network"))
        return set_network(s, rest);
    if (seg_is(g, "landuse"))
        return set_landuse(s, rest);
    if (seg_is(g, "costs"))
        return set_costs(s, rest);
    if (seg_is(g, "underserved"))
        return set_underserved(s, rest);
    if (seg_is(g, "capacities"))
        return set_capacities(s, rest);
    if (seg_is(g, "kinds"))
        return set_kinds(s, rest);
    if (seg_is(g, "targets"))
        return set_targets(s, rest);
    if (rest)
        return in_list(top_keys, g) ? below_value(s, g) : unknown_key(s, top_keys, g);
    if (seg_is(g, "name"))
        return set_text(s, &c->name, DEFAULT_NAME);
    if (seg_is(g, "crs"))
        return set_crs(s);
    if (seg_is(g, "walk_speed_kmh"))
        return set_number(s, &c->walk_speed_kmh, DEFAULT_WALK_SPEED_KMH, &speed_rule);
    if (seg_is(g, "thresholds_min"))
        return set_study_thresholds(s);
    if (seg_is(g, "outside_tolerance_m"))
        return set_number(s, &c->outside_tolerance_m, DEFAULT_OUTSIDE_TOLERANCE_M,
                          &tolerance_rule);
    if (seg_is(g, "far_outside_km"))
        return set_number(s, &c->far_outside_km, DEFAULT_FAR_OUTSIDE_KM, &far_rule);
    if (seg_is(g, "measure"))
        return set_measures(s, &c->measures, true);
    if (seg_is(g, "demand_points_csv")) {
        bool on = false;
        if (!*s->value || !strcmp(s->value, "auto")) {
            c->demand_points_csv = -1;
            return CS_OK;
        }
        cs_status st = set_bool(s, &on, false);
        if (st == CS_OK)
            c->demand_points_csv = on;
        return st;
    }
    return unknown_key(s, top_keys, g);
}

/* A copy of value without surrounding white space ("" for NULL). */
static char *trimmed_copy(const char *value)
{
    const char *p = value ? value : "";
    size_t n = strlen(p);
    while (n && is_space(*p)) {
        p++;
        n--;
    }
    while (n && is_space(p[n - 1]))
        n--;
    return seg_dup((seg){p, n});
}

cs_status cs_config_set_at(cs_context *ctx, cs_config *cfg, const char *key, const char *value,
                           const char *file, int line)
{
    if (!cfg || !key)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL, "cs_config_set: %s is NULL",
                        cfg ? "the key" : "the config");
    setter s = {ctx, cfg, key, NULL, {.file = file, .line = line, .field = key}};
    if (!cs_is_utf8(key)) {
        s.where.field = NULL; /* never copy broken text into messages */
        return bad(&s, "write keys in UTF-8", "a key is not UTF-8 text");
    }
    if (value && !cs_is_utf8(value))
        return bad(&s, "save the study file as UTF-8 (or use a UTF-8 terminal)",
                   "the value of %.300s is not UTF-8 text", key);
    char *v = trimmed_copy(value);
    if (!v)
        return cs_nomem(ctx);
    s.value = v;
    cs_status st = set_top(&s);
    cs_free(v);
    return st;
}

cs_status cs_config_set(cs_context *ctx, cs_config *cfg, const char *key, const char *value)
{
    return cs_config_set_at(ctx, cfg, key, value, NULL, 0);
}

/* ----------------------------------------------------------------- lookups */

long cs_config_find_kind(const cs_config *cfg, const char *id)
{
    if (!cfg || !id)
        return -1;
    return find_entry(cfg->kinds, cfg->kind_count, sizeof *cfg->kinds,
                      offsetof(cs_kind_config, id), (seg){id, strlen(id)});
}

long cs_config_find_capacity(const cs_config *cfg, const char *id)
{
    if (!cfg || !id)
        return -1;
    return find_entry(cfg->capacities, cfg->capacity_count, sizeof *cfg->capacities,
                      offsetof(cs_capacity_config, id), (seg){id, strlen(id)});
}

long cs_config_find_band(const cs_config *cfg, const char *id)
{
    if (!cfg || !id)
        return -1;
    return find_entry(cfg->bands, cfg->band_count, sizeof *cfg->bands,
                      offsetof(cs_band_config, id), (seg){id, strlen(id)});
}

unsigned cs_config_measures(const cs_config *cfg, const cs_kind_config *kind)
{
    if (kind && kind->measures)
        return kind->measures;
    if (cfg->measures)
        return cfg->measures;
    return CS_MEASURE_STRAIGHT_BIT | (cfg->network.layer.path ? CS_MEASURE_NETWORK_BIT : 0) |
           (cfg->costs.layer.path ? CS_MEASURE_MATRIX_BIT : 0);
}

unsigned cs_config_main_measure(unsigned measures)
{
    return measures & CS_MEASURE_MATRIX_BIT    ? CS_MEASURE_MATRIX_BIT
           : measures & CS_MEASURE_NETWORK_BIT ? CS_MEASURE_NETWORK_BIT
                                               : CS_MEASURE_STRAIGHT_BIT;
}

const char *cs_config_measure_text(unsigned measure)
{
    return measure == CS_MEASURE_MATRIX_BIT    ? "by the cost matrix"
           : measure == CS_MEASURE_NETWORK_BIT ? "along the network"
                                               : "straight";
}

/* "PG:dbname=x", "WFS:http://...": GDAL connection strings are not file paths. */
static bool has_prefix_scheme(const char *path)
{
    size_t n = 0;
    while ((path[n] >= 'A' && path[n] <= 'Z') || (path[n] >= 'a' && path[n] <= 'z') ||
           (n > 0 && ((path[n] >= '0' && path[n] <= '9') || path[n] == '+' ||
                      path[n] == '-' || path[n] == '.')))
        n++;
    return n >= 2 && path[n] == ':';
}

char *cs_config_resolve_path(const cs_config *cfg, const char *path)
{
    if (!path)
        return NULL;
    if (!cfg || !cfg->base_dir || !*cfg->base_dir || !*path || path[0] == '/' ||
        has_prefix_scheme(path))
        return cs_strdup(path);
    size_t dn = strlen(cfg->base_dir), pn = strlen(path);
    bool slash = cfg->base_dir[dn - 1] != '/';
    char *joined = cs_malloc(dn + slash + pn + 1);
    if (!joined)
        return NULL;
    memcpy(joined, cfg->base_dir, dn);
    if (slash)
        joined[dn] = '/';
    memcpy(joined + dn + slash, path, pn + 1);
    return joined;
}

/* -------------------------------------------------------------- validation */

/* What validation is checking, so each problem names its file, line and key. */
typedef struct checker {
    cs_context *ctx;
    const cs_config *cfg;
    size_t errors;
} checker;

static void problem(checker *ck, int line, const char *field, const char *hint,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(checker *ck, int line, const char *field, const char *hint,
                    const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* Line 0 means the setting came from the command line, not from the file. */
    cs_where where = {.file = line > 0 ? ck->cfg->file : NULL, .line = line, .field = field};
    cs_error(ck->ctx, CS_ERR_STUDY, &where, hint, "%s", text);
    ck->errors++;
}

/* "defined kinds: centre, care_home" (or "no kinds are defined") into buf. */
static void defined_ids(char *buf, size_t size, const char *what, const void *array,
                        size_t count, size_t elem_size, size_t id_offset)
{
    buf[0] = '\0';
    if (count == 0) {
        snprintf(buf, size, "no %s are defined", what);
        return;
    }
    snprintf(buf, size, "defined %s: ", what);
    for (size_t i = 0; i < count; i++) {
        if (i)
            append(buf, size, ", ");
        append(buf, size, *(char *const *)((const char *)array + i * elem_size + id_offset));
    }
}

/* The thresholds a kind really uses: its own, or the study's (always minutes). */
static size_t kind_thresholds(const cs_config *cfg, const cs_kind_config *k,
                              const double **values, bool *in_m)
{
    if (k->threshold_count > 0) {
        *in_m = k->thresholds_in_m;
        *values = k->thresholds_in_m ? k->thresholds_m : k->thresholds_min;
        return k->threshold_count;
    }
    *in_m = false;
    *values = cfg->thresholds_min;
    return cfg->threshold_count;
}

static void check_bands(checker *ck)
{
    const cs_config *c = ck->cfg;
    for (size_t i = 0; i < c->band_count; i++) {
        const cs_band_config *b = &c->bands[i];
        if (b->field || !isnan(b->share))
            continue;
        char field[256], hint[640];
        snprintf(field, sizeof field, "population.bands.%s", b->id);
        snprintf(hint, sizeof hint, "set %s to a population field, or %s.share", field,
                 field);
        problem(ck, 0, field, hint, "band '%s' has neither a field nor a share", b->id);
    }
}

/* The values of the kind field that mean kind k: its match list, or its id. */
static size_t kind_matches(const cs_kind_config *k, const char *const **list)
{
    if (k->match_count) {
        *list = (const char *const *)k->match;
        return k->match_count;
    }
    *list = (const char *const *)&k->id;
    return 1;
}

/* A facility must belong to one kind only, so no value may match two kinds. */
static void check_kind_matches(checker *ck)
{
    const cs_config *c = ck->cfg;
    for (size_t a = 0; a < c->kind_count; a++) {
        for (size_t b = a + 1; b < c->kind_count; b++) {
            const char *const *ma, *const *mb;
            size_t na = kind_matches(&c->kinds[a], &ma), nb = kind_matches(&c->kinds[b], &mb);
            for (size_t i = 0; i < na; i++) {
                for (size_t j = 0; j < nb; j++) {
                    if (strcmp(ma[i], mb[j]))
                        continue;
                    char field[256];
                    snprintf(field, sizeof field, "kinds.%s.match", c->kinds[b].id);
                    problem(ck, 0, field, "each value of the kind field must name one kind",
                            "kinds '%s' and '%s' both match '%s'", c->kinds[a].id,
                            c->kinds[b].id, ma[i]);
                }
            }
        }
    }
}

/* Report when the target names an id that is not defined; true when it is fine. */
static bool check_named(checker *ck, const cs_target_config *t, const char *key,
                        const char *id, long found, const char *what, const void *array,
                        size_t count, size_t elem_size, size_t id_offset)
{
    if (!id || found >= 0)
        return true;
    char field[256], hint[512];
    snprintf(field, sizeof field, "targets.%s.%s", t->id, key);
    defined_ids(hint, sizeof hint, what, array, count, elem_size, id_offset);
    problem(ck, t->line, field, hint, "target '%s' names %s '%s', which is not defined", t->id,
            key, id);
    return false;
}

static void require(checker *ck, const cs_target_config *t, const char *key, const char *value,
                    const char *type_name)
{
    if (value)
        return;
    char field[256], hint[640];
    snprintf(field, sizeof field, "targets.%s.%s", t->id, key);
    snprintf(hint, sizeof hint, "set %s", field);
    problem(ck, t->line, field, hint, "target '%s' (%s) needs a %s", t->id, type_name, key);
}

static void format_thresholds(char *buf, size_t size, const double *v, size_t n, bool in_m)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char num[40];
        snprintf(num, sizeof num, "%s%g", i ? ", " : "", v[i]);
        append(buf, size, num);
    }
    append(buf, size, in_m ? " m" : " min");
}

/*
 * A coverage target counts residents within one of its kind's thresholds. Thresholds
 * in minutes also have a length in metres at the kind's walking speed, which within_m
 * may name; thresholds in metres have no time, as in the study (io/study.c).
 */
static void check_within(checker *ck, const cs_target_config *t, const cs_kind_config *k)
{
    bool want_m = isnan(t->within_min);
    double within = want_m ? t->within_m : t->within_min;
    char field[256], list[200], hint[512];
    snprintf(field, sizeof field, "targets.%s.%s", t->id, want_m ? "within_m" : "within_min");
    if (isnan(within)) {
        snprintf(hint, sizeof hint, "set targets.%s.within_min to a threshold of kind '%s'",
                 t->id, k->id);
        problem(ck, t->line, field, hint, "coverage target '%s' needs within_min or within_m",
                t->id);
        return;
    }
    const double *v;
    bool in_m;
    size_t n = kind_thresholds(ck->cfg, k, &v, &in_m);
    double speed_kmh = isnan(k->walk_speed_kmh) ? ck->cfg->walk_speed_kmh : k->walk_speed_kmh;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        double m = in_m ? v[i] : v[i] * speed_kmh * 1000.0 / 60.0;
        if (want_m)
            found = found || fabs(m - within) <= SAME_THRESHOLD;
        else
            found = found || (!in_m && fabs(v[i] - within) <= SAME_THRESHOLD);
    }
    if (found)
        return;
    format_thresholds(list, sizeof list, v, n, in_m);
    if (want_m == in_m)
        snprintf(hint, sizeof hint, "use one of the kind's thresholds, or add %g to kinds.%s.%s",
                 within, k->id, in_m ? "thresholds_m" : "thresholds_min");
    else if (in_m)
        snprintf(hint, sizeof hint, "kind '%s' has thresholds in metres: use within_m", k->id);
    else
        snprintf(hint, sizeof hint, "use within_min, or within_m equal to a threshold walked "
                 "at %g km/h", speed_kmh);
    problem(ck, t->line, field, hint, "%s %g is not a threshold of kind '%s' (%s)",
            want_m ? "within_m" : "within_min", within, k->id, list);
}

/* A measure that needs an input the study does not name: the network, or the cost
 * matrix. */
static void check_measure_input(checker *ck, unsigned bit, const char *hint, const char *what)
{
    const cs_config *c = ck->cfg;
    if (c->measures & bit)
        problem(ck, 0, "measure", hint, "measure asks for the %s, but no %s is given", what,
                what);
    for (size_t i = 0; i < c->kind_count; i++) {
        if (!(c->kinds[i].measures & bit))
            continue;
        char field[256];
        snprintf(field, sizeof field, "kinds.%s.measure", c->kinds[i].id);
        problem(ck, 0, field, hint, "kind '%s' is to be measured %s, but no %s is given",
                c->kinds[i].id, cs_config_measure_text(bit), what);
    }
}

static void check_measures(checker *ck)
{
    const cs_config *c = ck->cfg;
    if (!c->network.layer.path)
        check_measure_input(ck, CS_MEASURE_NETWORK_BIT,
                            "name the walking network with network.path (an OpenStreetMap "
                            "file or a line layer), or measure straight",
                            "walking network");
    if (!c->costs.layer.path)
        check_measure_input(ck, CS_MEASURE_MATRIX_BIT,
                            "name the cost matrix with costs.path (a table of demand id, "
                            "facility id and cost), or measure straight",
                            "cost matrix");
    else if (!c->population.id_field)
        problem(ck, c->costs.layer.path_line, "population.id",
                "name the population field holding the ids the matrix's from column uses",
                "a cost matrix names demand points by id, but population.id is not set");
}

/* A coverage target's measure must be one its kind is measured by. */
static void check_target_measure(checker *ck, const cs_target_config *t,
                                 const cs_kind_config *k)
{
    unsigned have = cs_config_measures(ck->cfg, k);
    if (!t->measure || (t->measure & have))
        return;
    char field[256], hint[320];
    snprintf(field, sizeof field, "targets.%s.measure", t->id);
    snprintf(hint, sizeof hint, "add %s to kinds.%s.measure, or remove %s",
             measure_name(t->measure), k->id, field);
    problem(ck, t->line, field, hint, "target '%s' is measured %s, but kind '%s' is not",
            t->id, cs_config_measure_text(t->measure), k->id);
}

static void check_share(checker *ck, const cs_target_config *t, const char *type_name)
{
    if (isnan(t->at_least) || t->at_least <= 1)
        return;
    char field[256];
    snprintf(field, sizeof field, "targets.%s.at_least", t->id);
    problem(ck, t->line, field, "write a share as a fraction: 90% is 0.9",
            "at_least of %s target '%s' must be a share in [0, 1], got %g", type_name, t->id,
            t->at_least);
}

static const char *type_name(cs_target_type type)
{
    for (size_t i = 0; i < sizeof target_types / sizeof target_types[0]; i++)
        if (target_types[i].type == type)
            return target_types[i].name;
    return "?";
}

static void check_target(checker *ck, const cs_target_config *t)
{
    const cs_config *c = ck->cfg;
    char field[256], hint[640];
    if (!t->type) {
        snprintf(field, sizeof field, "targets.%s.type", t->id);
        snprintf(hint, sizeof hint, "set %s to coverage, count, capacity, "
                 "capacity_per_population, capacity_share, accessibility or load", field);
        problem(ck, t->line, field, hint, "target '%s' has no type", t->id);
    }
    if (t->type == CS_TARGET_LOAD) {
        if (isnan(t->at_most)) {
            snprintf(field, sizeof field, "targets.%s.at_most", t->id);
            problem(ck, t->line, field, "set it to the highest load ratio allowed, e.g. 1",
                    "load target '%s' has no at_most", t->id);
        }
    } else if (isnan(t->at_least)) {
        snprintf(field, sizeof field, "targets.%s.at_least", t->id);
        snprintf(hint, sizeof hint, "set %s to the target value", field);
        problem(ck, t->line, field, hint, "target '%s' has no at_least", t->id);
    }
    long kind = cs_config_find_kind(c, t->kind);
    bool kind_ok = check_named(ck, t, "kind", t->kind, kind, "kinds", c->kinds, c->kind_count,
                               sizeof *c->kinds, offsetof(cs_kind_config, id));
    check_named(ck, t, "capacity", t->capacity, cs_config_find_capacity(c, t->capacity),
                "capacities", c->capacities, c->capacity_count, sizeof *c->capacities,
                offsetof(cs_capacity_config, id));
    check_named(ck, t, "capacity_of", t->capacity_of,
                cs_config_find_capacity(c, t->capacity_of), "capacities", c->capacities,
                c->capacity_count, sizeof *c->capacities, offsetof(cs_capacity_config, id));
    check_named(ck, t, "band", t->band, cs_config_find_band(c, t->band), "bands (and total)",
                c->bands, c->band_count, sizeof *c->bands, offsetof(cs_band_config, id));
    const char *name = type_name(t->type);
    switch (t->type) {
    case CS_TARGET_COVERAGE:
        require(ck, t, "kind", t->kind, name);
        if (t->kind && kind_ok) {
            check_within(ck, t, &c->kinds[kind]);
            check_target_measure(ck, t, &c->kinds[kind]);
        }
        check_share(ck, t, name);
        break;
    case CS_TARGET_COUNT:
        require(ck, t, "kind", t->kind, name);
        break;
    case CS_TARGET_CAPACITY:
        require(ck, t, "capacity", t->capacity, name);
        break;
    case CS_TARGET_CAPACITY_PER_POP:
        require(ck, t, "capacity", t->capacity, name);
        if (!(t->per > 0)) {
            snprintf(field, sizeof field, "targets.%s.per", t->id);
            problem(ck, t->line, field, per_rule.hint, "per of target '%s' must be > 0",
                    t->id);
        }
        break;
    case CS_TARGET_CAPACITY_SHARE:
        require(ck, t, "capacity", t->capacity, name);
        require(ck, t, "capacity_of", t->capacity_of, name);
        check_share(ck, t, name);
        break;
    case CS_TARGET_ACCESSIBILITY:
    case CS_TARGET_LOAD:
        require(ck, t, "kind", t->kind, name);
        break;
    }
    if (t->type && t->type != CS_TARGET_COVERAGE &&
        (!isnan(t->within_min) || !isnan(t->within_m))) {
        snprintf(field, sizeof field, "targets.%s.within_min", t->id);
        cs_where where = {.file = t->line > 0 ? c->file : NULL, .line = t->line,
                          .field = field};
        cs_warn(ck->ctx, &where, "remove it", "target '%s' is not a coverage target; "
                "within_min/within_m are ignored", t->id);
    }
}

/* Every *.encoding must name a character set iconv knows (GDAL recodes with iconv): an
 * unknown one was silently ignored and the text read as it came. */
static void check_encodings(checker *ck)
{
    const cs_config *c = ck->cfg;
    const struct {
        const cs_layer_config *lc;
        const char *key;
    } layers[] = {{&c->areas, "areas.encoding"},      {&c->facilities, "facilities.encoding"},
                  {&c->population, "population.encoding"}, {&c->landuse, "landuse.encoding"},
                  {&c->network.layer, "network.encoding"}, {&c->costs.layer, "costs.encoding"}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const char *enc = layers[i].lc->encoding;
        if (!enc)
            continue;
        iconv_t cd = iconv_open("UTF-8", enc);
        if (cd != (iconv_t)-1) {
            iconv_close(cd);
            continue;
        }
        problem(ck, 0, layers[i].key, "name a character set such as CP936, GBK, GB18030, "
                "BIG5, UTF-8 or ISO-8859-1 (`iconv -l` lists them)",
                "unknown encoding '%.100s'", enc);
    }
}

cs_status cs_config_validate(cs_context *ctx, const cs_config *cfg)
{
    if (!cfg)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL, "cs_config_validate: cfg is NULL");
    checker ck = {ctx, cfg, 0};
    check_bands(&ck);
    check_kind_matches(&ck);
    check_measures(&ck);
    check_encodings(&ck);
    for (size_t i = 0; i < cfg->target_count; i++)
        check_target(&ck, &cfg->targets[i]);
    return ck.errors ? CS_ERR_STUDY : CS_OK;
}
