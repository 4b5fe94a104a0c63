/*
 * geojson.c — a GeoJSON layer of lines in one pass (geojson.h). The file is mapped and
 * walked once: the members of the FeatureCollection up to "features", then a feature
 * at a time. Anything this reader does not take makes the feature declined rather
 * than guessed at, so what it gives is always what GDAL gives.
 */
#include "io/geojson.h"
#include "io/textenc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* V_NULL: null, and seen (a property given twice is not taken) */
typedef enum value_kind { V_NONE, V_NULL, V_TEXT, V_INTEGER, V_REAL } value_kind;

struct cs_geojson_rows {
    const char *map;   /* the file, mapped */
    size_t map_len;
    const char *at, *end;
    const char *kept;  /* the map's pages from here on are still mapped in */
    bool first;        /* no feature read yet */
    int field_count;
    const char **name; /* per field: GDAL's name */
    OGRFieldType *type;
    bool *boolean;
    /* the current feature */
    value_kind *kind;
    double *number;
    long long *integer;
    size_t *text_at;  /* in texts */
    cs_buf texts;
    char (*shown)[32]; /* a number as text, when asked for */
    double *x, *y;
    size_t points, point_cap;
    size_t *start; /* line i: points start[i] .. start[i + 1] - 1 */
    size_t lines, line_cap;
};

bool cs_geojson_suits(const char *driver, OGRFeatureDefnH defn)
{
    if (strcmp(driver, "GeoJSON") != 0 || OGR_FD_GetGeomFieldCount(defn) != 1)
        return false;
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
        OGRFieldDefnH f = OGR_FD_GetFieldDefn(defn, i);
        OGRFieldType t = OGR_Fld_GetType(f);
        OGRFieldSubType sub = OGR_Fld_GetSubType(f);
        if (t != OFTInteger && t != OFTInteger64 && t != OFTReal && t != OFTString)
            return false;
        if (sub != OFSTNone && !(sub == OFSTBoolean && t == OFTInteger))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ JSON tokens */

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* A string at *p ('"'): its raw bytes between the quotes in *s, *n; *escaped when it
 * holds a backslash. False for one that does not end or holds a control character. */
static bool string_span(const char **p, const char *end, const char **s, size_t *n,
                        bool *escaped)
{
    const char *q = *p + 1;
    *escaped = false;
    *s = q;
    for (; q < end && *q != '"'; q++) {
        if ((unsigned char)*q < 0x20)
            return false;
        if (*q == '\\') {
            *escaped = true;
            if (++q >= end)
                return false;
        }
    }
    if (q >= end)
        return false;
    *n = (size_t)(q - *s);
    *p = q + 1;
    return true;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void add_utf8(cs_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    cs_buf_addn(b, u, n);
}

/* The string's text, unescaped, appended to b with its NUL. False for an escape that is
 * not JSON's, one that gives NUL or half a surrogate pair, and bytes that are not
 * UTF-8 (GDAL's handling of those is not this reader's to guess). */
static bool add_text(cs_buf *b, const char *s, size_t n)
{
    if (!cs_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            size_t j = i;
            while (j < n && s[j] != '\\')
                j++;
            cs_buf_addn(b, s + i, j - i);
            i = j - 1;
            continue;
        }
        char c = s[++i];
        const char *simple = strchr("\"\\/bfnrt", c);
        if (simple && c) {
            cs_buf_addc(b, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
            continue;
        }
        if (c != 'u' || i + 4 >= n)
            return false;
        int cp = hex4(s + i + 1);
        i += 4;
        if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
            return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair: \uD8xx\uDCxx */
            int lo = i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u' ? hex4(s + i + 3) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        add_utf8(b, (unsigned)cp);
    }
    cs_buf_addc(b, '\0');
    return !b->failed;
}

/* A number at *p, as JSON writes one: its value, and whether it is an integer (no
 * fraction, no exponent) in *integer when it fits 64 bits. */
static bool number_at(const char **p, const char *end, double *v, bool *is_integer,
                      long long *integer)
{
    const char *q = *p;
    if (q < end && *q == '-')
        q++;
    if (q >= end || !(*q >= '0' && *q <= '9'))
        return false;
    if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9')
        return false; /* a leading zero */
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    *is_integer = true;
    if (q < end && *q == '.') {
        *is_integer = false;
        if (++q >= end || !(*q >= '0' && *q <= '9'))
            return false;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        *is_integer = false;
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || !(*q >= '0' && *q <= '9'))
            return false;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    char text[64];
    size_t n = (size_t)(q - *p);
    if (n >= sizeof text)
        return false;
    memcpy(text, *p, n);
    text[n] = '\0';
    if (!cs_parse_double(text, v))
        return false;
    if (*is_integer) {
        errno = 0;
        *integer = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            *is_integer = false;
    }
    *p = q;
    return true;
}

static bool literal(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

/* Past any value at *p, nested ones included. */
static bool skip_value(const char **p, const char *end)
{
    int depth = 0;
    const char *q = *p;
    do {
        q = ws(q, end);
        if (q >= end)
            return false;
        const char *s;
        size_t n;
        bool escaped, is_integer;
        double v;
        long long iv;
        switch (*q) {
        case '{':
        case '[': depth++; q++; break;
        case '}':
        case ']':
            if (--depth < 0)
                return false;
            q++;
            break;
        case ',':
        case ':':
            if (depth == 0)
                return false;
            q++;
            break;
        case '"':
            if (!string_span(&q, end, &s, &n, &escaped))
                return false;
            break;
        case 't': if (!literal(&q, end, "true")) return false; break;
        case 'f': if (!literal(&q, end, "false")) return false; break;
        case 'n': if (!literal(&q, end, "null")) return false; break;
        default:
            if (!number_at(&q, end, &v, &is_integer, &iv))
                return false;
        }
    } while (depth > 0);
    *p = q;
    return true;
}

/* The next member's key of an object (after '{' or a ','), as raw bytes; false at
 * its end ('}' taken, *closed set) or on anything else. Keys with escapes are not
 * taken. */
static bool next_key(const char **p, const char *end, bool *first, const char **key,
                     size_t *len, bool *closed)
{
    const char *q = ws(*p, end);
    *closed = false;
    if (q < end && *q == '}') {
        *closed = true;
        *p = q + 1;
        return false;
    }
    if (!*first) {
        if (q >= end || *q != ',')
            return false;
        q = ws(q + 1, end);
    }
    *first = false;
    bool escaped;
    if (q >= end || *q != '"' || !string_span(&q, end, key, len, &escaped) || escaped)
        return false;
    q = ws(q, end);
    if (q >= end || *q != ':')
        return false;
    *p = ws(q + 1, end);
    return true;
}

static bool is_key(const char *key, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(key, word, len) == 0;
}

/* A string value at *p, its raw bytes in *s, *n. */
static bool string_value(const char **p, const char *end, const char **s, size_t *n)
{
    bool escaped;
    return *p < end && **p == '"' && string_span(p, end, s, n, &escaped);
}

/* A string value at *p that is word. */
static bool string_is(const char **p, const char *end, const char *word)
{
    const char *s;
    size_t n;
    return string_value(p, end, &s, &n) && is_key(s, n, word);
}

/* At *p, null (*null set, passed) or an object (its '{' passed); false for anything
 * else. */
static bool object_or_null(const char **p, const char *end, bool *null)
{
    *null = *p < end && **p == 'n';
    if (*null)
        return literal(p, end, "null");
    if (*p >= end || **p != '{')
        return false;
    (*p)++;
    return true;
}

/* ------------------------------------------------------------ a feature */

static int field_of(const cs_geojson_rows *r, const char *key, size_t len)
{
    for (int i = 0; i < r->field_count; i++)
        if (is_key(key, len, r->name[i]))
            return i;
    return -1;
}

/* One property's value into field f. */
static bool property(cs_geojson_rows *r, int f, const char **p)
{
    const char *q = *p;
    OGRFieldType t = r->type[f];
    if (q >= r->end) /* the file ends after the key */
        return false;
    if (*q == 'n')
        return literal(p, r->end, "null");
    if (*q == 't' || *q == 'f') {
        if (!r->boolean[f] || !literal(p, r->end, *q == 't' ? "true" : "false"))
            return false;
        r->kind[f] = V_INTEGER;
        r->integer[f] = *q == 't';
        r->number[f] = (double)r->integer[f];
        return true;
    }
    if (*q == '"') {
        const char *s;
        size_t n;
        if (t != OFTString || !string_value(p, r->end, &s, &n))
            return false;
        r->text_at[f] = r->texts.len;
        r->kind[f] = V_TEXT;
        return add_text(&r->texts, s, n);
    }
    double v;
    bool is_integer;
    long long iv;
    if (t == OFTString || r->boolean[f] || !number_at(p, r->end, &v, &is_integer, &iv))
        return false;
    if (t == OFTInteger && !(is_integer && iv >= INT32_MIN && iv <= INT32_MAX))
        return false;
    if (t == OFTInteger64 && !is_integer)
        return false;
    r->kind[f] = t == OFTReal ? V_REAL : V_INTEGER;
    r->number[f] = t == OFTReal ? v : (double)iv;
    r->integer[f] = iv;
    return true;
}

static bool properties(cs_geojson_rows *r, const char **p)
{
    bool null;
    if (!object_or_null(p, r->end, &null) || null)
        return null;
    bool first = true, closed;
    const char *key;
    size_t len;
    while (next_key(p, r->end, &first, &key, &len, &closed)) {
        int f = field_of(r, key, len);
        if (f < 0 || r->kind[f] != V_NONE) /* not a field of GDAL's, or twice */
            return false;
        r->kind[f] = V_NULL;
        if (!property(r, f, p))
            return false;
    }
    return closed;
}

static bool add_point(cs_geojson_rows *r, double x, double y)
{
    void **const array[] = {(void **)&r->x, (void **)&r->y};
    const size_t size[] = {sizeof *r->x, sizeof *r->y};
    if (!cs_grow_together(array, size, 2, &r->point_cap, r->points + 1))
        return false;
    r->x[r->points] = x;
    r->y[r->points++] = y;
    return true;
}

/* A position: 2 or 3 numbers. */
static bool position(cs_geojson_rows *r, const char **p)
{
    double c[3];
    int n = 0;
    const char *q = ws(*p, r->end);
    if (q >= r->end || *q != '[')
        return false;
    q++;
    for (;;) {
        q = ws(q, r->end);
        bool is_integer;
        long long iv;
        if (n == 3 || !number_at(&q, r->end, &c[n++], &is_integer, &iv))
            return false;
        q = ws(q, r->end);
        if (q < r->end && *q == ',') {
            q++;
            continue;
        }
        if (q >= r->end || *q != ']' || n < 2)
            return false;
        *p = q + 1;
        return add_point(r, c[0], c[1]);
    }
}

/* An array of items, each read by item; empty arrays allowed. */
static bool array_of(cs_geojson_rows *r, const char **p, bool (*item)(cs_geojson_rows *,
                                                                     const char **))
{
    const char *q = ws(*p, r->end);
    if (q >= r->end || *q != '[')
        return false;
    q = ws(q + 1, r->end);
    if (q < r->end && *q == ']') {
        *p = q + 1;
        return true;
    }
    for (;;) {
        if (!item(r, &q))
            return false;
        q = ws(q, r->end);
        if (q < r->end && *q == ',') {
            q++;
            continue;
        }
        if (q >= r->end || *q != ']')
            return false;
        *p = q + 1;
        return true;
    }
}

/* A line: its positions, then its end in start. */
static bool line(cs_geojson_rows *r, const char **p)
{
    if (!array_of(r, p, position))
        return false;
    size_t cap = r->line_cap;
    if (!cs_grow((void **)&r->start, &cap, r->lines + 2, sizeof *r->start))
        return false;
    r->line_cap = cap;
    r->start[++r->lines] = r->points;
    return true;
}

static bool geometry(cs_geojson_rows *r, const char **p)
{
    bool null;
    if (!object_or_null(p, r->end, &null) || null)
        return null;
    bool first = true, closed, multi = false, typed = false;
    const char *key, *coordinates = NULL;
    size_t len;
    while (next_key(p, r->end, &first, &key, &len, &closed)) {
        if (is_key(key, len, "type")) {
            const char *s;
            size_t n;
            if (!string_value(p, r->end, &s, &n))
                return false;
            multi = is_key(s, n, "MultiLineString");
            typed = multi || is_key(s, n, "LineString");
            if (!typed)
                return false;
        } else if (is_key(key, len, "coordinates")) {
            coordinates = *p;
            if (!skip_value(p, r->end))
                return false;
        } else if (!is_key(key, len, "bbox") || !skip_value(p, r->end)) {
            return false;
        }
    }
    if (!closed || !typed || !coordinates)
        return false;
    return multi ? array_of(r, &coordinates, line) : line(r, &coordinates);
}

/* The feature at *p ('{'). */
static bool feature(cs_geojson_rows *r, const char **p)
{
    (*p)++;
    bool first = true, closed, typed = false;
    const char *key;
    size_t len;
    while (next_key(p, r->end, &first, &key, &len, &closed)) {
        if (is_key(key, len, "type")) {
            if (!string_is(p, r->end, "Feature"))
                return false;
            typed = true;
        } else if (is_key(key, len, "properties")) {
            if (!properties(r, p))
                return false;
        } else if (is_key(key, len, "geometry")) {
            if (!geometry(r, p))
                return false;
        } else if (!is_key(key, len, "bbox") || !skip_value(p, r->end)) {
            return false; /* "id" among them: GDAL makes it a field or the feature's id */
        }
    }
    return closed && typed;
}

static void clear_feature(cs_geojson_rows *r)
{
    for (int i = 0; i < r->field_count; i++)
        r->kind[i] = V_NONE;
    cs_buf_clear(&r->texts);
    r->points = r->lines = 0;
    if (r->start)
        r->start[0] = 0;
}

/* The bytes read past, in steps of this many: the file's pages behind are let go. */
#define LET_GO_STEP ((size_t)32 << 20)

/*
 * Let the pages of the features read go (they stay in the page cache, and a fault reads
 * them again): else a file of gigabytes is counted whole in the process's memory as it
 * is read, and careshed shard, reading the network again while it holds a window's
 * graph, added the network file's size to its peak.
 */
static void let_go_behind(cs_geojson_rows *r)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if ((size_t)(r->at - r->kept) < LET_GO_STEP || page == 0)
        return;
    const char *upto = r->map + ((size_t)(r->at - r->map) / page) * page;
    (void)madvise((void *)r->kept, (size_t)(upto - r->kept), MADV_DONTNEED);
    r->kept = upto;
}

cs_geojson_step cs_geojson_next(cs_geojson_rows *r)
{
    const char *p = ws(r->at, r->end);
    if (p < r->end && *p == ']')
        return CS_GEOJSON_END;
    if (!r->first) {
        if (p >= r->end || *p != ',')
            return CS_GEOJSON_DECLINED;
        p = ws(p + 1, r->end);
    }
    clear_feature(r);
    if (!r->start && !cs_grow((void **)&r->start, &r->line_cap, 2, sizeof *r->start))
        return CS_GEOJSON_DECLINED;
    r->start[0] = 0;
    if (p >= r->end || *p != '{' || !feature(r, &p))
        return CS_GEOJSON_DECLINED;
    r->first = false;
    r->at = p;
    let_go_behind(r);
    return CS_GEOJSON_FEATURE;
}

/* ------------------------------------------------------------ open, close */

/* Past the FeatureCollection's members up to its "features" array's '['. Its "type"
 * must come first and say so: what the file is cannot be known otherwise before the
 * features are read (the usual order; GDAL reads the others). */
static bool find_features(cs_geojson_rows *r)
{
    const char *p = ws(r->map, r->end);
    if (p >= r->end || *p != '{')
        return false;
    p++;
    bool first = true, closed, collection = false;
    const char *key;
    size_t len;
    while (next_key(&p, r->end, &first, &key, &len, &closed)) {
        if (is_key(key, len, "features")) {
            if (!collection || p >= r->end || *p != '[')
                return false;
            r->at = p + 1;
            return true;
        }
        if (is_key(key, len, "type")) {
            if (!string_is(&p, r->end, "FeatureCollection"))
                return false;
            collection = true;
        } else if (!skip_value(&p, r->end)) {
            return false;
        }
    }
    return false;
}

cs_status cs_geojson_open(cs_context *ctx, const char *path, OGRFeatureDefnH defn,
                          cs_geojson_rows **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0)
        return CS_OK; /* GDAL reads it, and says why not */
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size == 0) {
        close(fd);
        return CS_OK;
    }
    void *map = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return CS_OK;
    (void)madvise(map, (size_t)info.st_size, MADV_SEQUENTIAL);
    cs_geojson_rows *r = cs_calloc(1, sizeof *r);
    int n = OGR_FD_GetFieldCount(defn);
    size_t m = (size_t)n + 1;
    if (r) {
        r->map = r->kept = map;
        r->map_len = (size_t)info.st_size;
        r->end = r->map + r->map_len;
        r->first = true;
        r->field_count = n;
        cs_buf_init(&r->texts);
        r->name = cs_calloc(m, sizeof *r->name);
        r->type = cs_calloc(m, sizeof *r->type);
        r->boolean = cs_calloc(m, sizeof *r->boolean);
        r->kind = cs_calloc(m, sizeof *r->kind);
        r->number = cs_calloc(m, sizeof *r->number);
        r->integer = cs_calloc(m, sizeof *r->integer);
        r->text_at = cs_calloc(m, sizeof *r->text_at);
        r->shown = cs_calloc(m, sizeof *r->shown);
    } else {
        munmap(map, (size_t)info.st_size);
    }
    if (!r || !r->name || !r->type || !r->boolean || !r->kind || !r->number || !r->integer ||
        !r->text_at || !r->shown) {
        cs_geojson_close(r);
        return cs_nomem(ctx);
    }
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH f = OGR_FD_GetFieldDefn(defn, i);
        r->name[i] = OGR_Fld_GetNameRef(f);
        r->type[i] = OGR_Fld_GetType(f);
        r->boolean[i] = OGR_Fld_GetSubType(f) == OFSTBoolean;
    }
    if (!find_features(r)) {
        cs_geojson_close(r);
        return CS_OK;
    }
    *out = r;
    return CS_OK;
}

void cs_geojson_close(cs_geojson_rows *r)
{
    if (!r)
        return;
    if (r->map)
        munmap((void *)r->map, r->map_len);
    cs_free(r->name);
    cs_free(r->type);
    cs_free(r->boolean);
    cs_free(r->kind);
    cs_free(r->number);
    cs_free(r->integer);
    cs_free(r->text_at);
    cs_free(r->shown);
    cs_buf_free(&r->texts);
    cs_free(r->x);
    cs_free(r->y);
    cs_free(r->start);
    cs_free(r);
}

/* ------------------------------------------------------------ values */

bool cs_geojson_has(const cs_geojson_rows *r, int field)
{
    return field >= 0 && field < r->field_count && r->kind[field] >= V_TEXT;
}

double cs_geojson_number(const cs_geojson_rows *r, int field)
{
    return cs_geojson_has(r, field) ? r->number[field] : NAN;
}

const char *cs_geojson_text(const cs_geojson_rows *r, int field)
{
    if (!cs_geojson_has(r, field))
        return "";
    char *shown = r->shown[field];
    switch (r->kind[field]) {
    case V_TEXT: return r->texts.data + r->text_at[field];
    case V_INTEGER: snprintf(shown, sizeof r->shown[field], "%lld", r->integer[field]); break;
    default: snprintf(shown, sizeof r->shown[field], "%.15g", r->number[field]); break;
    }
    return shown;
}

cs_geom_kind cs_geojson_kind(const cs_geojson_rows *r)
{
    return r->points > 0 ? CS_GEOM_LINE : CS_GEOM_NONE;
}

size_t cs_geojson_lines(const cs_geojson_rows *r, const double **x, const double **y,
                        const size_t **start)
{
    *x = r->x;
    *y = r->y;
    *start = r->start;
    return r->lines;
}
