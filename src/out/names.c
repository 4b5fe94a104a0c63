/*
 * names.c — column names that work everywhere, and Shapefile-safe ones on request.
 *
 * The rule for every column of every output: letters, digits and '_', starting with a
 * letter, at most 63 characters (the limit of PostgreSQL and safe for GeoPackage,
 * SQLite, QGIS expressions, pandas and R), so that all of them read a name bare. Names
 * are built from fixed words and the study's ids (kinds, capacities, targets, age
 * bands); each id goes through cs_out_safe_name, the one place that spells the rule
 * (docs/outputs.md lists it):
 *
 *   '+' -> "p" (plus)      '<' -> "lt"       '>' -> "gt"
 *   '-', '.', ' ', '/' -> "_"                 other bytes -> "x" and two hex digits
 *   a name that does not start with a letter gets "a" (for age) in front
 *   so the band "60+" is "a60p", "60-79" is "a60_79", and "total" stays "total".
 *   A name longer than 63 keeps its first 54 characters, then '_' and 8 hex digits
 *   of a hash of the whole name (FNV-1a), so long names stay distinct.
 *
 * Shapefile names (output.shapefile_names: true) are at most 10 characters (dBASE).
 * The mapping is per layer, in the order the columns are written, and collision-free:
 * a name of at most 10 characters not yet used is kept; any other is its first 6
 * characters (a trailing '_' dropped) followed by '_' and the column's number in the
 * layer (1-based, at least 3 digits), the number raised until the name is unused.
 * column-names.csv lists every layer's mapping.
 */
#include "out/out.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '_';
}

bool cs_out_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > CS_NAME_MAX || !is_letter(name[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(name[i]))
            return false;
    return true;
}

/* What a character that may not stand in a name becomes. */
static const struct {
    char c;
    const char *as;
} replaced[] = {
    {'+', "p"}, {'<', "lt"}, {'>', "gt"}, {'-', "_"}, {'.', "_"}, {' ', "_"}, {'/', "_"},
};

/* Append text to the name being made: kept while it fits, counted always. */
static void put(char *name, size_t cap, size_t *len, const char *text)
{
    for (; *text; text++, (*len)++)
        if (*len + 1 < cap)
            name[*len] = *text;
}

void cs_out_safe_name(const char *raw, char *out, size_t n)
{
    /* no allocation: names are made feature after feature, and must not fail */
    char name[CS_NAME_MAX + 1];
    size_t len = 0;
    if (!is_letter(raw[0]))
        put(name, sizeof name, &len, "a");
    for (const char *p = raw; *p; p++) {
        char one[2] = {*p, '\0'}, hex[4];
        const char *as = one;
        if (!is_name_char(*p)) {
            size_t i = 0;
            while (i < sizeof replaced / sizeof replaced[0] && replaced[i].c != *p)
                i++;
            if (i < sizeof replaced / sizeof replaced[0]) {
                as = replaced[i].as;
            } else {
                snprintf(hex, sizeof hex, "x%02X", (unsigned)(unsigned char)*p);
                as = hex;
            }
        }
        put(name, sizeof name, &len, as);
    }
    name[len < sizeof name ? len : sizeof name - 1] = '\0';
    if (len > CS_NAME_MAX) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = raw; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        snprintf(out, n, "%.54s_%08x", name, (unsigned)h);
    } else {
        snprintf(out, n, "%s", name);
    }
}

/* ------------------------------------------------------------ the name map */

typedef struct entry {
    char *layer, *name, *shown;
} entry;

struct cs_names {
    bool shapefile;
    entry *entries;
    size_t count, cap;
    size_t guess; /* columns come in the same order feature after feature */
};

cs_names *cs_names_create(bool shapefile)
{
    cs_names *m = cs_calloc(1, sizeof *m);
    if (m)
        m->shapefile = shapefile;
    return m;
}

void cs_names_destroy(cs_names *m)
{
    for (size_t i = 0; m && i < m->count; i++) {
        cs_free(m->entries[i].layer);
        cs_free(m->entries[i].name);
        cs_free(m->entries[i].shown);
    }
    if (m)
        cs_free(m->entries);
    cs_free(m);
}

static bool is_entry(const entry *e, const char *layer, const char *name)
{
    return !strcmp(e->name, name) && !strcmp(e->layer, layer);
}

static bool shown_used(const cs_names *m, const char *layer, const char *shown)
{
    for (size_t i = 0; i < m->count; i++)
        if (!strcmp(m->entries[i].shown, shown) && !strcmp(m->entries[i].layer, layer))
            return true;
    return false;
}

/* The Shapefile name of the column-th (1-based) column of layer. */
static void short_name(const cs_names *m, const char *layer, const char *name, size_t column,
                       char out[11])
{
    if (strlen(name) <= 10 && !shown_used(m, layer, name)) {
        snprintf(out, 11, "%s", name);
        return;
    }
    char stem[7];
    snprintf(stem, sizeof stem, "%s", name);
    size_t len = strlen(stem);
    if (len > 1 && stem[len - 1] == '_')
        stem[len - 1] = '\0';
    for (size_t k = column;; k++) {
        /* a stem of 6 leaves 3 digits; more digits take letters from the stem */
        int digits = k < 1000 ? 3 : k < 10000 ? 4 : 5;
        snprintf(out, 11, "%.*s_%0*zu", 9 - digits, stem, digits, k);
        if (!shown_used(m, layer, out))
            return;
    }
}

const char *cs_names_map(cs_names *m, const char *layer, const char *name)
{
    if (m->guess < m->count && is_entry(&m->entries[m->guess], layer, name))
        return m->entries[m->guess++].shown;
    for (size_t i = 0; i < m->count; i++)
        if (is_entry(&m->entries[i], layer, name)) {
            m->guess = i + 1;
            return m->entries[i].shown;
        }
    size_t column = 1;
    for (size_t i = 0; i < m->count; i++)
        column += !strcmp(m->entries[i].layer, layer);
    char shortened[11];
    if (m->shapefile)
        short_name(m, layer, name, column, shortened);
    if (!cs_grow((void **)&m->entries, &m->cap, m->count + 1, sizeof *m->entries))
        return NULL;
    entry *e = &m->entries[m->count];
    e->layer = cs_strdup(layer);
    e->name = cs_strdup(name);
    e->shown = cs_strdup(m->shapefile ? shortened : name);
    if (!e->layer || !e->name || !e->shown) {
        cs_free(e->layer);
        cs_free(e->name);
        cs_free(e->shown);
        return NULL;
    }
    m->count++;
    m->guess = m->count;
    return e->shown;
}

cs_status cs_names_csv(const cs_names *m, cs_buf *out)
{
    cs_buf_add(out, "layer,column,shapefile_column\r\n");
    for (size_t i = 0; i < m->count; i++) {
        cs_out_csv_text(out, m->entries[i].layer);
        cs_buf_addc(out, ',');
        cs_out_csv_text(out, m->entries[i].name);
        cs_buf_addc(out, ',');
        cs_out_csv_text(out, m->entries[i].shown);
        cs_buf_add(out, "\r\n");
    }
    return out->failed ? CS_ERR_NOMEM : CS_OK;
}
