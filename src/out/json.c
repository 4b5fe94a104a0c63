/*
 * json.c — the streaming JSON writer (see json.h). Separators and indentation are
 * decided before each value from a per-level "already has a member" flag, so callers
 * never manage commas. Numbers are formatted with printf and tidied afterwards, with
 * the decimal point normalised so a locale set by the application cannot change the
 * bytes written.
 */
#include "out/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DECIMALS 17

void cs_json_init(cs_json *j, cs_buf *buf, bool pretty)
{
    memset(j, 0, sizeof *j);
    j->buf = buf;
    j->pretty = pretty;
}

static bool level_ok(const cs_json *j)
{
    return j->depth >= 0 && j->depth < CS_JSON_MAX_DEPTH;
}

static void newline_indent(cs_json *j, int depth)
{
    cs_buf_addc(j->buf, '\n');
    for (int i = 0; i < depth; i++)
        cs_buf_addn(j->buf, "  ", 2);
}

/* Comma and indentation before a key, an array element or a top-level value. */
static void separate(cs_json *j)
{
    if (!level_ok(j)) {
        j->misused = true;
        return;
    }
    if (j->need_comma[j->depth]) {
        if (j->depth == 0)
            j->misused = true; /* a second top-level value */
        else
            cs_buf_addc(j->buf, ',');
    }
    j->need_comma[j->depth] = true;
    if (j->pretty && j->depth > 0)
        newline_indent(j, j->depth);
}

/* Called before every value: a member's value follows its key directly. */
static void begin_value(cs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0 && level_ok(j) && j->is_object[j->depth])
        j->misused = true; /* a value inside an object without a key */
    separate(j);
}

static void begin_container(cs_json *j, bool object)
{
    begin_value(j);
    cs_buf_addc(j->buf, object ? '{' : '[');
    j->depth++;
    if (!level_ok(j)) {
        j->misused = true;
        return;
    }
    j->need_comma[j->depth] = false;
    j->is_object[j->depth] = object;
}

static void end_container(cs_json *j, bool object)
{
    if (j->after_key) {
        j->misused = true; /* a key without its value */
        j->after_key = false;
    }
    if (j->depth <= 0) {
        j->misused = true;
        return;
    }
    if (level_ok(j)) {
        if (j->is_object[j->depth] != object)
            j->misused = true;
        if (j->pretty && j->need_comma[j->depth])
            newline_indent(j, j->depth - 1);
    }
    cs_buf_addc(j->buf, object ? '}' : ']');
    j->depth--;
}

void cs_json_begin_object(cs_json *j)
{
    begin_container(j, true);
}

void cs_json_end_object(cs_json *j)
{
    end_container(j, true);
}

void cs_json_begin_array(cs_json *j)
{
    begin_container(j, false);
}

void cs_json_end_array(cs_json *j)
{
    end_container(j, false);
}

/*
 * Length of the UTF-8 sequence at p and whether it is well formed (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). An ill-formed sequence's length
 * is its maximal subpart (at least 1), so it is replaced by exactly one U+FFFD as
 * Unicode recommends. Stops at the terminating NUL, which is never a continuation.
 */
static size_t utf8_next(const unsigned char *p, uint32_t *cp, bool *valid)
{
    unsigned b = p[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t v;
    *valid = false;
    if (b < 0x80) {
        *cp = b;
        *valid = true;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0F;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
        hi = b == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07;
        lo = b == 0xF0 ? 0x90 : 0x80; /* no overlongs */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (p[i] < lo || p[i] > hi)
            return i;
        v = (v << 6) | (p[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    *valid = true;
    return need + 1;
}

/* The escape for a character that cannot appear raw, or NULL when it can. */
static const char *escape_for(uint32_t cp, char tmp[8])
{
    switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case 0x2028: return "\\u2028";
    case 0x2029: return "\\u2029";
    default: break;
    }
    if (cp < 0x20) {
        snprintf(tmp, 8, "\\u%04x", (unsigned)cp);
        return tmp;
    }
    return NULL;
}

/* Append s with each invalid UTF-8 sequence replaced by U+FFFD and, when json, each
 * character JSON must escape by its escape. */
static void add_replaced(cs_buf *b, const char *s, bool json)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        uint32_t cp = 0;
        bool valid;
        size_t n = utf8_next(p, &cp, &valid);
        char tmp[8];
        const char *replacement = !valid ? "\xEF\xBF\xBD" : json ? escape_for(cp, tmp) : NULL;
        if (replacement) {
            /* Flush the run of characters that pass through unchanged. */
            cs_buf_addn(b, (const char *)run, (size_t)(p - run));
            cs_buf_add(b, replacement);
            run = p + n;
        }
        p += n;
    }
    cs_buf_addn(b, (const char *)run, (size_t)(p - run));
}

void cs_utf8_add_clean(cs_buf *b, const char *s)
{
    add_replaced(b, s, false);
}

bool cs_utf8_is_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        bool valid;
        p += utf8_next(p, &cp, &valid);
        if (!valid)
            return false;
    }
    return true;
}

static void add_quoted(cs_buf *b, const char *s)
{
    cs_buf_addc(b, '"');
    add_replaced(b, s, true);
    cs_buf_addc(b, '"');
}

void cs_json_key(cs_json *j, const char *key)
{
    if (j->after_key || j->depth <= 0 || !level_ok(j) || !j->is_object[j->depth])
        j->misused = true;
    j->after_key = false;
    separate(j);
    if (!key) {
        j->misused = true;
        key = "";
    }
    add_quoted(j->buf, key);
    cs_buf_add(j->buf, j->pretty ? ": " : ":");
    j->after_key = true;
}

void cs_json_string(cs_json *j, const char *s)
{
    begin_value(j);
    if (s)
        add_quoted(j->buf, s);
    else
        cs_buf_addn(j->buf, "null", 4);
}

/*
 * Replace whatever the C locale printed as decimal point (possibly several bytes)
 * by '.', so the output never depends on setlocale().
 */
static void normalise_decimal_point(char *text)
{
    char *p = text + (*text == '-');
    p += strspn(p, "0123456789");
    if (!*p || *p == 'e' || *p == 'E') /* no decimals: 1e-05 */
        return;
    char *digits = p + strcspn(p, "0123456789");
    *p = '.';
    memmove(p + 1, digits, strlen(digits) + 1);
}

void cs_json_number(cs_json *j, double v, int max_decimals)
{
    begin_value(j);
    if (!isfinite(v)) {
        cs_buf_addn(j->buf, "null", 4);
        return;
    }
    int decimals = max_decimals < 0 ? 0 : max_decimals > MAX_DECIMALS ? MAX_DECIMALS
                                                                      : max_decimals;
    /* DBL_MAX in fixed notation: 309 digits, sign, point and the decimals. */
    char text[400];
    snprintf(text, sizeof text, "%.*f", decimals, v);
    normalise_decimal_point(text);
    char *dot = strchr(text, '.');
    if (dot) {
        char *end = text + strlen(text);
        while (end > dot + 1 && end[-1] == '0')
            end--;
        if (end == dot + 1)
            end = dot;
        *end = '\0';
    }
    cs_buf_add(j->buf, strcmp(text, "-0") == 0 ? "0" : text);
}

static const double powers[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* Whether v at `decimals` decimals can take the integer path: v * 10^decimals well
 * inside double's exact integers. */
static bool integer_path(double v, int decimals)
{
    return decimals >= 0 && decimals <= 9 && fabs(v) * powers[decimals] < 1e15;
}

/* v (rounded to `decimals` already, integer_path true) as cs_json_number writes it,
 * into out (room for 40); returns its length. */
static size_t rounded_text(double v, int decimals, char *out)
{
    unsigned long long u = (unsigned long long)llround(fabs(v) * powers[decimals]);
    int d = decimals;
    for (; d > 0 && u % 10 == 0; d--) /* no trailing zeros, as cs_json_number */
        u /= 10;
    return cs_fixed_digits(u, d, v < 0 && u > 0 /* never "-0" */, out);
}

void cs_json_rounded(cs_json *j, double v, int decimals)
{
    if (!integer_path(v, decimals)) {
        cs_json_number(j, v, decimals);
        return;
    }
    begin_value(j);
    char text[40];
    cs_buf_addn(j->buf, text, rounded_text(v, decimals, text));
}

void cs_json_rounded_pairs(cs_json *j, const double *x, const double *y, size_t n,
                           int decimals)
{
    bool fast = !j->pretty;
    for (size_t i = 0; fast && i < n; i++)
        fast = integer_path(x[i], decimals) && integer_path(y[i], decimals);
    if (!fast) {
        cs_json_begin_array(j);
        for (size_t i = 0; i < n; i++) {
            cs_json_begin_array(j);
            cs_json_rounded(j, x[i], decimals);
            cs_json_rounded(j, y[i], decimals);
            cs_json_end_array(j);
        }
        cs_json_end_array(j);
        return;
    }
    begin_value(j);
    /* "[x,y]," at most 2 x 40 + 4 bytes a point, and the brackets */
    if (!cs_buf_reserve(j->buf, n * 84 + 2))
        return;
    char *out = j->buf->data + j->buf->len, *p = out;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        *p++ = i ? ',' : '[';
        if (i)
            *p++ = '[';
        p += rounded_text(x[i], decimals, p);
        *p++ = ',';
        p += rounded_text(y[i], decimals, p);
        *p++ = ']';
    }
    *p++ = ']';
    *p = '\0';
    j->buf->len += (size_t)(p - out);
}

void cs_json_exact(cs_json *j, double v)
{
    begin_value(j);
    if (!isfinite(v)) {
        cs_buf_addn(j->buf, "null", 4);
        return;
    }
    char text[40];
    if (v == floor(v) && fabs(v) < 1e15) { /* a whole number as one: 15650, not 1.565e+04 */
        snprintf(text, sizeof text, "%.0f", v);
        cs_buf_add(j->buf, strcmp(text, "-0") == 0 ? "0" : text);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v) /* read back as printed, in the same locale */
            break;
    }
    normalise_decimal_point(text);
    cs_buf_add(j->buf, text);
}

void cs_json_integer(cs_json *j, long long v)
{
    begin_value(j);
    cs_buf_printf(j->buf, "%lld", v);
}

void cs_json_boolean(cs_json *j, bool v)
{
    begin_value(j);
    cs_buf_add(j->buf, v ? "true" : "false");
}

void cs_json_null(cs_json *j)
{
    begin_value(j);
    cs_buf_addn(j->buf, "null", 4);
}

void cs_json_raw(cs_json *j, const char *already_formatted)
{
    begin_value(j);
    cs_buf_add(j->buf, already_formatted ? already_formatted : "null");
}

bool cs_json_ok(const cs_json *j)
{
    return !j->misused && !j->after_key && j->depth == 0 && !j->buf->failed;
}
