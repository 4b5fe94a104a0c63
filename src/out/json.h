/*
 * json.h — a small streaming JSON writer into a cs_buf. Output depends only on the
 * calls made (no locale, no hash order), so the same results give the same bytes.
 * Strings always come out as valid UTF-8 JSON, whatever bytes they went in as.
 *
 * Usage: cs_json_init, then begin/end object or array, key before each member value,
 * values. The writer does not fail by itself; misuse (a value where a key is needed,
 * unbalanced ends, more than CS_JSON_MAX_DEPTH levels) is remembered and reported by
 * cs_json_ok(), and allocation failures by the buffer's `failed` flag.
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include "core/core.h"

#include <stdbool.h>

#define CS_JSON_MAX_DEPTH 64

typedef struct cs_json {
    cs_buf *buf;                          /* borrowed; output is appended to it */
    int depth;                            /* open containers; 0 at the top level */
    bool need_comma[CS_JSON_MAX_DEPTH];   /* level already holds a member/value */
    bool is_object[CS_JSON_MAX_DEPTH];    /* level is an object (else an array) */
    bool pretty;                          /* 2-space indentation, one member per line */
    bool after_key;                       /* a key was written; its value comes next */
    bool misused;                         /* calls did not form a valid document */
} cs_json;

/*
 * Start writing into buf (appending to what it holds). pretty: members and elements
 * on their own lines indented by 2 spaces per level, ": " after keys, empty
 * containers as {} and []; otherwise no whitespace at all. No final newline.
 */
void cs_json_init(cs_json *j, cs_buf *buf, bool pretty);

void cs_json_begin_object(cs_json *j);
void cs_json_end_object(cs_json *j);
void cs_json_begin_array(cs_json *j);
void cs_json_end_array(cs_json *j);

/* An object member's name (escaped like a string); the value call follows. */
void cs_json_key(cs_json *j, const char *key);

/*
 * A string value; NULL writes null. '"', '\\' and control characters are escaped
 * (\n \t \r \b \f, others as \u00XX), as are U+2028 and U+2029 (so the text is also
 * safe inside JavaScript); other UTF-8 passes through; each invalid UTF-8 sequence
 * (maximal ill-formed subpart) becomes U+FFFD.
 */
void cs_json_string(cs_json *j, const char *s);

/*
 * Append s to b as valid UTF-8 without any escaping: each invalid UTF-8 sequence
 * becomes U+FFFD exactly as in cs_json_string, so a CSV written with it holds the same
 * text as the GeoJSON beside it.
 */
void cs_utf8_add_clean(cs_buf *b, const char *s);
/* Whether cs_utf8_add_clean would leave s unchanged (s is well-formed UTF-8). */
bool cs_utf8_is_clean(const char *s);

/*
 * A number in fixed notation with at most max_decimals decimals (clamped to 0..17),
 * rounded by printf (exact binary value, ties to even: 2.5 -> 2), then trailing zeros
 * and a trailing '.' removed; "-0" is written as 0. NaN and infinities are written as
 * null, since JSON has no such numbers.
 */
void cs_json_number(cs_json *j, double v, int max_decimals);
/* The same for v already rounded to `decimals` (0..9) decimals, as the layers' coordinates
 * are: written by integer arithmetic, several times faster than cs_json_number, with the
 * same text. */
void cs_json_rounded(cs_json *j, double v, int decimals);
/* An array of n [x, y] pairs, each number as cs_json_rounded writes it, in one go. */
void cs_json_rounded_pairs(cs_json *j, const double *x, const double *y, size_t n,
                           int decimals);

/* A number at full precision: a whole number as one, else the shortest decimal (%g,
 * up to 17 digits) that reads back as exactly v; null for NaN and infinities. */
void cs_json_exact(cs_json *j, double v);

void cs_json_integer(cs_json *j, long long v);
void cs_json_boolean(cs_json *j, bool v);
void cs_json_null(cs_json *j);

/* A value the caller already formatted as JSON, inserted verbatim (NULL writes null). */
void cs_json_raw(cs_json *j, const char *already_formatted);

/*
 * Whether the document is complete and well formed: every container closed, no key
 * without its value, no misuse, and no allocation failure in the buffer. Call it
 * once at the end.
 */
bool cs_json_ok(const cs_json *j);

#endif /* CS_JSON_H */
