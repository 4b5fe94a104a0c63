/*
 * config.c — the study's settings: the one setter every key goes through (the study
 * file and --set alike), driven by one table of keys; the checks that span several
 * keys; and lookups.
 *
 * Each key is one row of config_keys.def (included below): its dotted name, how its
 * value is kept and where (an offset in cs_config, or in an entry of kinds, targets,
 * capacities or bands), its default, the range or names it allows and a line of help.
 * Setting, restoring defaults, freeing, the lists of known keys in messages ("did you
 * mean"), and `careshed check --keys` (which docs/study-file.md's key table is
 * printed by) all read the same rows, so adding a key is one row and one field. Keys
 * that need their own parsing name a small setter in their row.
 *
 * A key is read one segment at a time; the names known at each level are those of
 * the rows below it, so an unknown key is answered with the keys that would have
 * worked. Every setter parses the whole value before it touches the config, so a bad
 * value leaves the previous one in place.
 */
#include "io/config.h"

#include <assert.h>
#include <iconv.h>
#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SAME_THRESHOLD 1e-9

/* A range a number must fall in, with the words used when it does not. */
typedef struct num_rule {
    double lo, hi;
    bool lo_open; /* lo itself excluded */
    const char *what;
    const char *hint;
} num_rule;

/* A key taking one of a few names, kept as an int-sized enum or a bool. */
typedef struct choice_name {
    const char *name;
    int value;
} choice_name;

typedef struct key_choice {
    const choice_name *names;
    size_t count;
    int def;          /* the value an empty value restores */
    bool as_bool;     /* kept in a bool, not an enum */
    const char *what; /* "square or hex", as in "... must be square or hex" */
    const char *hint;
} key_choice;

#define CHOICE(names, def, as_bool, what, hint)                                               \
    {names, sizeof names / sizeof names[0], def, as_bool, what, hint}

_Static_assert(sizeof(cs_target_type) == sizeof(int) && sizeof(cs_scope) == sizeof(int) &&
                   sizeof(cs_decay_kind) == sizeof(int) && sizeof(cs_lang) == sizeof(int),
               "choices are kept in int-sized enums");

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

static bool segs_equal(seg a, seg b)
{
    return a.n == b.n && memcmp(a.s, b.s, a.n) == 0;
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

static void append_seg(char *buf, size_t size, seg g)
{
    char part[64];
    size_t n = g.n < sizeof part ? g.n : sizeof part - 1;
    memcpy(part, g.s, n);
    part[n] = '\0';
    append(buf, size, part);
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

/* "did you mean 'name'? known keys: name, crs, ..." for a wrong segment at one level. */
static void known_keys_hint(char *buf, size_t size, const seg *names, size_t count, seg wrong)
{
    const seg *close = NULL;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        size_t d = cs_edit_distance(wrong.s, wrong.n, names[i].s, names[i].n);
        /* Only near misses: a one-letter key is never "close" to another one. */
        if (d < best && d <= 2 && d * 3 <= names[i].n) {
            best = d;
            close = &names[i];
        }
    }
    buf[0] = '\0';
    if (close) {
        append(buf, size, "did you mean '");
        append_seg(buf, size, *close);
        append(buf, size, "'? ");
    }
    append(buf, size, "known keys: ");
    for (size_t i = 0; i < count; i++) {
        if (i)
            append(buf, size, ", ");
        append_seg(buf, size, names[i]);
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

static cs_status unknown_key(const setter *s, const seg *names, size_t count, seg wrong)
{
    char hint[512];
    known_keys_hint(hint, sizeof hint, names, count, wrong);
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
static cs_status group_not_value(const setter *s, const seg *names, size_t count)
{
    char hint[512];
    known_keys_hint(hint, sizeof hint, names, count, (seg){"", 0});
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

/* One of a choice's names (exact spelling); empty restores its default. */
static cs_status set_choice(const setter *s, const key_choice *c, void *slot)
{
    char shown[64];
    int v = c->def;
    bool found = !*s->value;
    for (size_t i = 0; i < c->count && !found; i++)
        if (!strcmp(s->value, c->names[i].name)) {
            v = c->names[i].value;
            found = true;
        }
    if (!found)
        return bad(s, c->hint, "%.300s must be %s, got '%s'", s->key, c->what,
                   quote(shown, sizeof shown, s->value));
    if (c->as_bool)
        *(bool *)slot = v != 0;
    else
        memcpy(slot, &v, sizeof v); /* an int-sized enum (asserted above) */
    return CS_OK;
}

/* A single measure's name, as the study file writes it. */
static const char *measure_name(unsigned bit)
{
    return bit == CS_MEASURE_MATRIX ? "matrix" : bit == CS_MEASURE_NETWORK ? "network"
                                                                                  : "straight";
}

/* One measure's bit from its name (0 when unknown). */
static unsigned measure_named(const char *name, size_t n)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {{"straight", CS_MEASURE_STRAIGHT},
                 {"network", CS_MEASURE_NETWORK},
                 {"matrix", CS_MEASURE_MATRIX},
                 {"both", CS_MEASURE_STRAIGHT | CS_MEASURE_NETWORK}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncmp(names[i].name, name, n))
            return names[i].bits;
    return 0;
}

/* ------------------------------------------------------- the rows' own setters */

typedef struct key_row key_row;

/* Set a key the type alone cannot: base is the struct the row's offsets are in. */
typedef cs_status (*key_setter)(const setter *s, const key_row *r, char *base);

/* How a key's value is kept, which says how it is set, restored, freed and listed. */
typedef enum key_type {
    KEY_TEXT,       /* char *; NULL = not set */
    KEY_PATH,       /* a layer's path: at is the cs_layer_config, whose path_line is set */
    KEY_NUMBER,     /* double within rule */
    KEY_BOOL,       /* bool */
    KEY_LIST,       /* char ** with its size_t count at count_at */
    KEY_CHOICE,     /* one of choice's names */
    KEY_THRESHOLDS, /* double[CS_MAX_THRESHOLDS] with a size_t count (own setter) */
    KEY_WEIGHTS,    /* double[CS_MAX_THRESHOLDS] with a size_t count (own setter) */
    KEY_MEASURES,   /* unsigned bits: cs_measure or CS_FORMAT_* (own setter) */
    KEY_AUTO_BOOL   /* int: -1 auto, 0 false, 1 true (own setter) */
} key_type;

struct key_row {
    const char *key;  /* dotted name; <id> or <band> stands for an entry's id */
    key_type type;
    size_t at;        /* offset of the value in cs_config, or in the entry */
    size_t count_at;  /* KEY_LIST, KEY_THRESHOLDS, KEY_WEIGHTS: offset of the count */
    double num;       /* KEY_NUMBER, KEY_BOOL: the default */
    const char *text; /* KEY_TEXT, KEY_THRESHOLDS: the default (NULL = none) */
    const num_rule *rule;     /* KEY_NUMBER */
    const key_choice *choice; /* KEY_CHOICE */
    key_setter set;           /* own parsing; NULL = by type */
    int arg;                  /* for set: e.g. 1 = metres, not minutes */
    /* What `careshed check --keys` shows, where the storage does not say it: */
    const char *kind_text;    /* the type, e.g. "field name" for a text */
    const char *allowed;      /* the range or values */
    const char *shown;        /* the default, e.g. "the study's" */
    const char *help;         /* one line */
};

/* A group of entries named by id, each holding the rows under `entry`. */
typedef struct key_map {
    const char *group;   /* "kinds" */
    const char *entry;   /* "kinds.<id>": the prefix of its rows */
    const char *what;    /* "kind", in messages */
    const char *hint;    /* for a value given to the group itself */
    size_t array_at, count_at, size, id_at; /* in cs_config; size and id of an entry */
    size_t line_at;      /* targets: where the entry was defined; 0 = not kept */
    bool band;           /* band ids: '+' allowed, "total" reserved */
    const char *value_key; /* a value given to the entry itself sets this row ("field") */
} key_map;

static cs_status set_crs(const setter *s, const key_row *r, char *base)
{
    char **slot = (char **)(base + r->at);
    /* "auto" and the default are one thing: NULL, so readers test one case. */
    if (!cs_strcasecmp(s->value, "auto")) {
        cs_free(*slot);
        *slot = NULL;
        return CS_OK;
    }
    return set_text(s, slot, NULL);
}

/* A band id where "total" and the default are one thing: NULL. */
static cs_status set_band_ref(const setter *s, const key_row *r, char *base)
{
    char **slot = (char **)(base + r->at);
    if (!strcmp(s->value, "total")) {
        cs_free(*slot);
        *slot = NULL;
        return CS_OK;
    }
    return set_text(s, slot, NULL);
}

/* The study's thresholds: an empty value restores the row's default list. */
static cs_status set_study_thresholds(const setter *s, const key_row *r, char *base)
{
    setter with_default = *s;
    if (!*s->value)
        with_default.value = r->text;
    double v[CS_MAX_THRESHOLDS] = {0};
    size_t n = 0;
    cs_status st = parse_thresholds(&with_default, v, &n);
    if (st != CS_OK)
        return st;
    memcpy(base + r->at, v, sizeof v);
    memcpy(base + r->count_at, &n, sizeof n);
    return CS_OK;
}

/* A kind's thresholds in minutes (arg 0) or metres (arg 1): setting one clears the
 * other. */
static cs_status set_kind_thresholds(const setter *s, const key_row *r, char *base)
{
    cs_kind_config *k = (cs_kind_config *)base;
    bool in_m = r->arg;
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

/* "1,0.68,0.22": one weight in [0, 1] per threshold zone, nearest first. */
static cs_status set_access_weights(const setter *s, const key_row *r, char *base)
{
    (void)r;
    cs_kind_config *k = (cs_kind_config *)base;
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

/* straight | network | matrix, or where several measures are allowed (arg 1) a list of
 * them ("straight, matrix"; both = straight and network); empty = 0, which means "as
 * the study (or the kind) says". */
static cs_status set_measures(const setter *s, const key_row *r, char *base)
{
    bool allow_several = r->arg;
    char shown[64];
    unsigned v = 0;
    size_t names = 0;
    bool known = true;
    for (const char *p = s->value; *p && known;) {
        size_t n = strcspn(p, ", ");
        if (n > 0) {
            unsigned bits = measure_named(p, n);
            known = bits != 0 && (allow_several || bits != (CS_MEASURE_STRAIGHT |
                                                            CS_MEASURE_NETWORK));
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
    *(unsigned *)(base + r->at) = v;
    return CS_OK;
}

/* output.formats: a list of gpkg, geojson and csv; empty = 0, which means all. */
static cs_status set_formats(const setter *s, const key_row *r, char *base)
{
    static const struct {
        const char *name;
        unsigned bit;
    } formats[] = {{"gpkg", CS_FORMAT_GPKG}, {"geojson", CS_FORMAT_GEOJSON}, {"csv", CS_FORMAT_CSV}};
    char shown[64];
    unsigned v = 0;
    for (const char *p = s->value; *p;) {
        size_t n = strcspn(p, ", ");
        size_t i = 0;
        while (n > 0 && i < sizeof formats / sizeof formats[0] &&
               !(strlen(formats[i].name) == n && !strncmp(formats[i].name, p, n)))
            i++;
        if (n > 0 && i == sizeof formats / sizeof formats[0])
            return bad(s, "gpkg: careshed.gpkg, every layer styled for QGIS; geojson: a "
                          ".geojson file per layer; csv: areas.csv, coverage.csv, targets.csv and "
                          "demand-access.csv",
                       "%.300s must be a list of gpkg, geojson and csv, got '%s'", s->key,
                       quote(shown, sizeof shown, s->value));
        if (n > 0)
            v |= formats[i].bit;
        p += n + (p[n] != 0);
    }
    *(unsigned *)(base + r->at) = v;
    return CS_OK;
}

/* auto (or empty), else true or false. */
static cs_status set_auto_bool(const setter *s, const key_row *r, char *base)
{
    int *slot = (int *)(base + r->at);
    bool on = false;
    if (!*s->value || !strcmp(s->value, "auto")) {
        *slot = -1;
        return CS_OK;
    }
    cs_status st = set_bool(s, &on, false);
    if (st == CS_OK)
        *slot = on;
    return st;
}

/* report.suggest: target (or empty), else a whole number of sites. */
static cs_status set_report_suggest(const setter *s, const key_row *r, char *base)
{
    long *slot = (long *)(base + r->at);
    char shown[64];
    double v;
    if (!*s->value || !strcmp(s->value, "target")) {
        *slot = CS_SUGGEST_TARGET;
        return CS_OK;
    }
    if (!cs_parse_double(s->value, &v) || !(v >= 0 && v <= (double)CS_SUGGEST_MAX) ||
        v != floor(v))
        return bad(s, "write target for as many sites as the target needs, a number of sites, "
                   "or 0 for none", "%.300s must be %s, got '%s'", s->key, r->allowed,
                   quote(shown, sizeof shown, s->value));
    *slot = (long)v;
    return CS_OK;
}

/* A band's field and share exclude each other: setting one clears the other. */
static cs_status set_band_field(const setter *s, const key_row *r, char *base)
{
    (void)r;
    cs_band_config *b = (cs_band_config *)base;
    cs_status st = set_text(s, &b->field, NULL);
    if (st == CS_OK && b->field)
        b->share = NAN;
    return st;
}

static cs_status set_band_share(const setter *s, const key_row *r, char *base)
{
    cs_band_config *b = (cs_band_config *)base;
    cs_status st = set_number(s, &b->share, r->num, r->rule);
    if (st == CS_OK && !isnan(b->share)) {
        cs_free(b->field);
        b->field = NULL;
    }
    return st;
}

/* within_min (arg 0) and within_m (arg 1) exclude each other: setting one clears the
 * other. */
static cs_status set_within(const setter *s, const key_row *r, char *base)
{
    cs_target_config *t = (cs_target_config *)base;
    bool in_m = r->arg;
    cs_status st = set_number(s, in_m ? &t->within_m : &t->within_min, r->num, r->rule);
    if (st == CS_OK && *s->value) {
        if (in_m)
            t->within_min = NAN;
        else
            t->within_m = NAN;
    }
    return st;
}

/* ------------------------------------------------------------- the key table */

/* The rules and names keys allow, every key's row, and the groups of entries. */
#include "io/config_keys.def"

/* ------------------------------------------------------ the table at work */

#define LEVEL_MAX 48 /* the most names one level has (the top: 18) */
#define PATH_MAX_LEN 64 /* the longest row key, with room */

/* The rest of key below prefix of length n ("" = the top), or NULL when key is not
 * below it. */
static const char *below_n(const char *key, const char *prefix, size_t n)
{
    if (!n)
        return key;
    return key[0] == prefix[0] && !strncmp(key, prefix, n) && key[n] == '.' ? key + n + 1
                                                                              : NULL;
}

static const char *below(const char *key, const char *prefix)
{
    return below_n(key, prefix, strlen(prefix));
}

/* Whether a row belongs to an entry of a group (its key holds <id> or <band>). */
static bool in_entry(const key_row *r)
{
    return strchr(r->key, '<') != NULL;
}

/* The names one level below prefix knows, in table order, each once. */
static size_t level_names(const char *prefix, seg names[LEVEL_MAX])
{
    size_t n = 0;
    for (size_t i = 0; i < ROW_COUNT; i++) {
        const char *rest = below(rows[i].key, prefix);
        if (!rest)
            continue;
        seg g = next_seg(&rest);
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = segs_equal(names[j], g);
        assert(seen || n < LEVEL_MAX);
        if (!seen && n < LEVEL_MAX)
            names[n++] = g;
    }
    return n;
}

/* prefix.name (or name at the top) into buf; names come from the table, so it fits. */
static void join_key(char *buf, size_t size, const char *prefix, seg name)
{
    buf[0] = '\0';
    append(buf, size, prefix);
    if (*prefix)
        append(buf, size, ".");
    append_seg(buf, size, name);
}

static const key_row *row_named(const char *key)
{
    for (size_t i = 0; i < ROW_COUNT; i++)
        if (!strcmp(rows[i].key, key))
            return &rows[i];
    return NULL;
}

/* The first row one level below prefix whose name there is g; NULL when none. */
static const key_row *first_below(const char *prefix, seg g)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < ROW_COUNT; i++) {
        const char *rest = below_n(rows[i].key, prefix, n);
        if (rest && !strncmp(rest, g.s, g.n) && (rest[g.n] == '.' || rest[g.n] == '\0'))
            return &rows[i];
    }
    return NULL;
}

static const key_map *map_named(const char *group)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (!strcmp(maps[i].group, group))
            return &maps[i];
    return NULL;
}

/* Set one row's value in base (cs_config, or the entry the row belongs to). */
static cs_status row_set(const setter *s, const key_row *r, char *base)
{
    if (r->set)
        return r->set(s, r, base);
    char *slot = base + r->at;
    switch (r->type) {
    case KEY_TEXT:
        return set_text(s, (char **)slot, r->text);
    case KEY_PATH: {
        cs_layer_config *l = (cs_layer_config *)slot;
        cs_status st = set_text(s, &l->path, NULL);
        if (st == CS_OK)
            l->path_line = l->path ? (int)s->where.line : 0;
        return st;
    }
    case KEY_NUMBER:
        return set_number(s, (double *)slot, r->num, r->rule);
    case KEY_BOOL:
        return set_bool(s, (bool *)slot, r->num != 0);
    case KEY_LIST:
        return set_list(s, (char ***)slot, (size_t *)(base + r->count_at));
    case KEY_CHOICE:
        return set_choice(s, r->choice, slot);
    case KEY_THRESHOLDS:
    case KEY_WEIGHTS:
    case KEY_MEASURES:
    case KEY_AUTO_BOOL:
        break; /* these rows name their own setter */
    }
    assert(!"a row of this type needs its own setter");
    return cs_error(s->ctx, CS_ERR_INTERNAL, NULL, NULL, "key %s has no setter", r->key);
}

/* Release what one row's value holds. */
static void row_free(const key_row *r, char *base)
{
    char *slot = base + r->at;
    if (r->type == KEY_TEXT || r->type == KEY_PATH) {
        cs_free(*(char **)slot);
        *(char **)slot = NULL;
    } else if (r->type == KEY_LIST) {
        size_t *count = (size_t *)(base + r->count_at);
        free_strings(*(char ***)slot, *count);
        *(char ***)slot = NULL;
        *count = 0;
    }
}

/* The entries of a group: their array (the pointer in cs_config) and count. */
static char *entries(const cs_config *cfg, const key_map *m)
{
    char *array;
    memcpy(&array, (const char *)cfg + m->array_at, sizeof array);
    return array;
}

static size_t *entry_count(cs_config *cfg, const key_map *m)
{
    return (size_t *)((char *)cfg + m->count_at);
}

static char **entry_id(const key_map *m, char *e)
{
    return (char **)(e + m->id_at);
}

/* A new entry (or one restored): every row at its default, the id taken. */
static void init_entry(const setter *s, const key_map *m, char *e, char *id, int line)
{
    setter blank = *s;
    blank.value = "";
    memset(e, 0, m->size);
    *entry_id(m, e) = id;
    if (m->line_at)
        *(int *)(e + m->line_at) = line;
    size_t n = strlen(m->entry);
    for (size_t i = 0; i < ROW_COUNT; i++) {
        if (below_n(rows[i].key, m->entry, n)) {
            /* entries' defaults are numbers and NULLs: nothing to allocate or refuse */
            cs_status st = row_set(&blank, &rows[i], e);
            assert(st == CS_OK);
            (void)st;
        }
    }
}

/* Release an entry's values, but not its id. */
static void free_entry_rows(const key_map *m, char *e)
{
    size_t n = strlen(m->entry);
    for (size_t i = 0; i < ROW_COUNT; i++)
        if (below_n(rows[i].key, m->entry, n))
            row_free(&rows[i], e);
}

static void clear_entries(cs_config *cfg, const key_map *m)
{
    char *array = entries(cfg, m);
    size_t *count = entry_count(cfg, m);
    for (size_t i = 0; i < *count; i++) {
        free_entry_rows(m, array + i * m->size);
        cs_free(*entry_id(m, array + i * m->size));
    }
    cs_free(array);
    array = NULL;
    memcpy((char *)cfg + m->array_at, &array, sizeof array);
    *count = 0;
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

/* The entry named id, created at the end (at its defaults) when new; NULL = no memory. */
static char *find_or_add_entry(const setter *s, const key_map *m, seg id)
{
    cs_config *c = s->cfg;
    char *array = entries(c, m);
    size_t *count = entry_count(c, m);
    long i = find_entry(array, *count, m->size, m->id_at, id);
    if (i >= 0)
        return array + (size_t)i * m->size;
    char *copy = seg_dup(id);
    char *grown = copy ? cs_reallocarray(array, *count + 1, m->size) : NULL;
    if (!grown) {
        cs_free(copy);
        cs_nomem(s->ctx);
        return NULL;
    }
    memcpy((char *)c + m->array_at, &grown, sizeof grown);
    char *e = grown + *count * m->size;
    init_entry(s, m, e, copy, (int)s->where.line);
    ++*count;
    return e;
}

/* group[.<id>[.key]]: the group, one entry, or one of an entry's keys. */
static cs_status set_in_group(const setter *s, const key_map *m, const char *rest)
{
    if (!rest) {
        if (*s->value)
            return bad(s, m->hint, "%.300s is a group of keys, not a value", s->key);
        clear_entries(s->cfg, m);
        return CS_OK;
    }
    seg id = next_seg(&rest);
    if (!valid_id(id, m->band))
        return bad_id(s, id, m->what, m->band);
    if (m->band && seg_is(id, "total"))
        return bad(s, "use population.total for the field of all residents",
                   "'total' is reserved for all residents and cannot name a band");
    char *e = find_or_add_entry(s, m, id);
    if (!e)
        return CS_ERR_NOMEM;
    seg names[LEVEL_MAX];
    if (!rest) {
        char key[PATH_MAX_LEN];
        if (*s->value && m->value_key) {
            join_key(key, sizeof key, m->entry, (seg){m->value_key, strlen(m->value_key)});
            return row_set(s, row_named(key), e);
        }
        if (*s->value)
            return group_not_value(s, names, level_names(m->entry, names));
        char *keep = *entry_id(m, e);
        int line = m->line_at ? *(int *)(e + m->line_at) : 0;
        free_entry_rows(m, e);
        init_entry(s, m, e, keep, line);
        return CS_OK;
    }
    seg g = next_seg(&rest);
    const key_row *r = first_below(m->entry, g);
    if (!r)
        return unknown_key(s, names, level_names(m->entry, names), g);
    /* an entry's keys all take values: none groups others */
    return rest ? below_value(s, g) : row_set(s, r, e);
}

/* A whole section restored ("network:" with nothing): each of its keys, and its groups. */
static cs_status reset_section(const setter *s, const char *section)
{
    for (size_t i = 0; i < ROW_COUNT; i++) {
        if (!below(rows[i].key, section) || in_entry(&rows[i]))
            continue;
        cs_status st = row_set(s, &rows[i], (char *)s->cfg);
        if (st != CS_OK)
            return st;
    }
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (below(maps[i].group, section))
            clear_entries(s->cfg, &maps[i]);
    return CS_OK;
}

/* Walk the key down the table, one segment at a time, to its row. */
static cs_status set_key(const setter *s)
{
    char prefix[PATH_MAX_LEN] = "";
    const char *rest = s->key;
    for (;;) {
        seg g = next_seg(&rest);
        const key_row *r = first_below(prefix, g);
        seg names[LEVEL_MAX];
        if (!r)
            return unknown_key(s, names, level_names(prefix, names), g);
        char path[PATH_MAX_LEN];
        join_key(path, sizeof path, prefix, g);
        const key_map *m = map_named(path);
        if (m)
            return set_in_group(s, m, rest);
        if (!strcmp(r->key, path))
            return rest ? below_value(s, g) : row_set(s, r, (char *)s->cfg);
        if (!rest) {
            if (!*s->value)
                return reset_section(s, path);
            return group_not_value(s, names, level_names(path, names));
        }
        memcpy(prefix, path, sizeof prefix);
    }
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
    setter blank = {ctx, c, "", "", {0}};
    for (size_t i = 0; i < ROW_COUNT; i++) {
        if (in_entry(&rows[i]))
            continue;
        cs_status st = row_set(&blank, &rows[i], (char *)c);
        if (st != CS_OK) {
            cs_config_destroy(c);
            return st;
        }
    }
    *out = c;
    return CS_OK;
}

void cs_config_destroy(cs_config *cfg)
{
    if (!cfg)
        return;
    cs_free(cfg->file);
    cs_free(cfg->base_dir);
    for (size_t i = 0; i < ROW_COUNT; i++)
        if (!in_entry(&rows[i]))
            row_free(&rows[i], (char *)cfg);
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        clear_entries(cfg, &maps[i]);
    for (size_t i = 0; i < cfg->given_count; i++) {
        cs_free(cfg->given[i].key);
        cs_free(cfg->given[i].value);
    }
    cs_free(cfg->given);
    cs_free(cfg);
}

/* ---------------------------------------------------------------- setting */

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

/* Note key's value: a key set before moves to the end with its new value. */
static bool note_given(cs_config *cfg, const char *key, const char *value)
{
    for (size_t i = 0; i < cfg->given_count; i++) {
        if (strcmp(cfg->given[i].key, key) != 0)
            continue;
        cs_config_given g = cfg->given[i];
        memmove(&cfg->given[i], &cfg->given[i + 1],
                (cfg->given_count - i - 1) * sizeof *cfg->given);
        cfg->given_count--;
        cs_free(g.key);
        cs_free(g.value);
        break;
    }
    if (cfg->given_count == cfg->given_cap &&
        !cs_grow((void **)&cfg->given, &cfg->given_cap, cfg->given_count + 1, sizeof *cfg->given))
        return false;
    cs_config_given g = {cs_strdup(key), cs_strdup(value)};
    if (!g.key || !g.value) {
        cs_free(g.key);
        cs_free(g.value);
        return false;
    }
    cfg->given[cfg->given_count++] = g;
    return true;
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
    cs_status st = set_key(&s);
    if (st == CS_OK && !note_given(cfg, key, v))
        st = cs_nomem(ctx);
    cs_free(v);
    return st;
}

cs_status cs_config_set(cs_context *ctx, cs_config *cfg, const char *key, const char *value)
{
    return cs_config_set_at(ctx, cfg, key, value, NULL, 0);
}

/* ----------------------------------------------------------- listing keys */

size_t cs_config_key_count(void)
{
    return ROW_COUNT;
}

/* What a row's storage says when the row does not say more. */
static const char *type_text(const key_row *r)
{
    if (r->kind_text)
        return r->kind_text;
    switch (r->type) {
    case KEY_TEXT:
        return "text";
    case KEY_PATH:
        return "path";
    case KEY_NUMBER:
        return "number";
    case KEY_BOOL:
        return "true/false";
    case KEY_LIST:
        return "list of text";
    case KEY_CHOICE:
        return "one of";
    case KEY_THRESHOLDS:
    case KEY_WEIGHTS:
        return "list of numbers";
    case KEY_MEASURES:
        return "measure";
    case KEY_AUTO_BOOL:
        return "auto/true/false";
    }
    return "?";
}

cs_status cs_config_key_get(size_t i, cs_config_key *out)
{
    if (!out || i >= ROW_COUNT)
        return CS_ERR_ARGUMENT;
    const key_row *r = &rows[i];
    memset(out, 0, sizeof *out);
    out->key = r->key;
    out->type = type_text(r);
    out->help = r->help ? r->help : "";
    char *allowed = out->allowed, *def = out->default_value;
    size_t asize = sizeof out->allowed, dsize = sizeof out->default_value;
    if (r->allowed) {
        append(allowed, asize, r->allowed);
    } else if (r->type == KEY_NUMBER) {
        /* "a number in (0, 20]" -> "(0, 20]"; "a number >= 0" -> ">= 0"; "a whole
         * number >= 0" -> "whole number >= 0" */
        const char *w = r->rule->what;
        w += !strncmp(w, "a ", 2) ? 2 : 0;
        w += !strncmp(w, "number ", 7) ? 7 : 0;
        append(allowed, asize, !strncmp(w, "in ", 3) ? w + 3 : w);
    } else if (r->type == KEY_CHOICE) {
        for (size_t j = 0; j < r->choice->count; j++) {
            if (j)
                append(allowed, asize, ", ");
            append(allowed, asize, r->choice->names[j].name);
        }
    } else if (r->type == KEY_THRESHOLDS) {
        append(allowed, asize, "1 to 8 numbers > 0");
    }
    if (r->shown) {
        append(def, dsize, r->shown);
    } else if ((r->type == KEY_TEXT || r->type == KEY_THRESHOLDS) && r->text) {
        append(def, dsize, r->text);
    } else if (r->type == KEY_NUMBER && !isnan(r->num)) {
        snprintf(def, dsize, "%g", r->num);
    } else if (r->type == KEY_BOOL) {
        append(def, dsize, r->num != 0 ? "true" : "false");
    } else if (r->type == KEY_CHOICE) {
        for (size_t j = 0; j < r->choice->count; j++)
            if (r->choice->names[j].value == r->choice->def)
                append(def, dsize, r->choice->names[j].name);
    }
    return CS_OK;
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
    return CS_MEASURE_STRAIGHT | (cfg->network.layer.path ? CS_MEASURE_NETWORK : 0) |
           (cfg->costs.layer.path ? CS_MEASURE_MATRIX : 0);
}

void cs_config_show_network(cs_config *cfg)
{
    if (cfg)
        cfg->network.shown = true;
}

void cs_config_stream_inputs(cs_config *cfg)
{
    if (cfg)
        cfg->stream_inputs = true;
}

bool cs_config_reads_network(const cs_config *cfg)
{
    if (!cfg->network.layer.path)
        return false;
    if (cfg->network.shown)
        return true;
    if (cfg->kind_count == 0) /* the kinds will come from the data */
        return (cs_config_measures(cfg, NULL) & CS_MEASURE_NETWORK) != 0;
    for (size_t k = 0; k < cfg->kind_count; k++)
        if (cs_config_measures(cfg, &cfg->kinds[k]) & CS_MEASURE_NETWORK)
            return true;
    return false;
}

const char *cs_config_measure_text(unsigned measure)
{
    return measure == CS_MEASURE_MATRIX    ? "by the cost matrix"
           : measure == CS_MEASURE_NETWORK ? "along the network"
                                               : "straight";
}

/* "PG:dbname=x", "WFS:http://...": GDAL connection strings are not file paths. */
char *cs_config_resolve_path(const cs_config *cfg, const char *path)
{
    if (!path)
        return NULL;
    if (!cfg || !cfg->base_dir || !*cfg->base_dir || !*path || path[0] == '/' ||
        cs_path_has_scheme(path))
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
        check_measure_input(ck, CS_MEASURE_NETWORK,
                            "name the walking network with network.path (an OpenStreetMap "
                            "file or a line layer), or measure straight",
                            "walking network");
    if (!c->costs.layer.path)
        check_measure_input(ck, CS_MEASURE_MATRIX,
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

const char *cs_target_type_name(cs_target_type type)
{
    for (size_t i = 0; i < sizeof target_types / sizeof target_types[0]; i++)
        if (target_types[i].value == (int)type)
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
    const char *name = cs_target_type_name(t->type);
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

/* Service areas drawn on cells need cells well inside their width. */
static void check_cells(checker *ck)
{
    const cs_network_config *n = &ck->cfg->network;
    if (!(n->area_cell_m > n->access_width_m / 2))
        return;
    cs_where w = {.file = ck->cfg->file, .field = "network.area_cell_m"};
    cs_error(ck->ctx, CS_ERR_STUDY, &w, "give at most half of network.access_width_m, e.g. "
             "a fifth of it (0 does so)",
             "cells of %g m are too coarse for service areas %g m wide", n->area_cell_m,
             n->access_width_m);
    ck->errors++;
}

/* A number of the shard keys written as text (shard.demand_box), or NAN. */
static double shard_number(const char *text)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : NAN;
    return end && end != text && !*end && isfinite(v) ? v : NAN;
}

/* A box given as 4 numbers in text (x0, y0, x1, y1); false unless x0 <= x1, y0 <= y1. */
static bool box_of(char *const *items, size_t count, double box[4])
{
    for (size_t i = 0; i < 4; i++)
        box[i] = count == 4 ? shard_number(items[i]) : NAN;
    return box[0] <= box[2] && box[1] <= box[3];
}

/* The shard keys go together, as careshed shard writes them. */
static void check_shard(checker *ck)
{
    const cs_config *c = ck->cfg;
    if (c->shard_part == 0 && c->shard_parts == 0)
        return;
    const char *field = NULL;
    double box[4];
    if (c->shard_part != floor(c->shard_part) || c->shard_part < 1)
        field = "shard.part";
    else if (c->shard_parts != floor(c->shard_parts) || c->shard_parts < c->shard_part)
        field = "shard.parts";
    else if (!box_of(c->shard_box, c->shard_box_count, box))
        field = "shard.demand_box";
    else if (c->shard_net_box_count && !box_of(c->shard_net_box, c->shard_net_box_count, box))
        field = "shard.network_box";
    else if (c->shard_points != floor(c->shard_points))
        field = "shard.demand_points";
    if (!field)
        return;
    cs_where w = {.file = c->file, .field = field};
    cs_error(ck->ctx, CS_ERR_STUDY, &w, "cut the shards again with careshed shard",
             "the shard keys do not go together (shard %g of %g, %zu numbers in the box, "
             "%g points)", c->shard_part, c->shard_parts, c->shard_box_count, c->shard_points);
    ck->errors++;
}

bool cs_config_shard_box(const cs_config *cfg, bool network, double box[4])
{
    return network ? box_of(cfg->shard_net_box, cfg->shard_net_box_count, box)
                   : box_of(cfg->shard_box, cfg->shard_box_count, box);
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
    check_cells(&ck);
    check_shard(&ck);
    for (size_t i = 0; i < cfg->target_count; i++)
        check_target(&ck, &cfg->targets[i]);
    return ck.errors ? CS_ERR_STUDY : CS_OK;
}
