/*
 * textenc.c — legacy Chinese text encodings to UTF-8 through iconv (see textenc.h for
 * the rule that chooses one). iconv is asked to refuse what it cannot convert (no
 * //TRANSLIT or //IGNORE), so nothing is ever replaced behind the user's back.
 */
#include "io/textenc.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

struct cs_textenc {
    iconv_t cd;
    char *name;
};

static const char *const candidates[CS_TEXTENC_CANDIDATES] = {"GB18030", "BIG5"};

const char *cs_textenc_guess_name(int candidate)
{
    return candidate >= 0 && candidate < CS_TEXTENC_CANDIDATES ? candidates[candidate] : "";
}

const char *cs_textenc_tried(void) { return "UTF-8, GB18030 (GBK) and Big5"; }

/* Length of the UTF-8 sequence at p (at most n bytes) and its code point, or 0 when it
 * is not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_next(const unsigned char *p, size_t n, unsigned long *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t len;
    unsigned long c, min;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2, c = p[0] & 0x1Fu, min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3, c = p[0] & 0x0Fu, min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4, c = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

bool cs_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        unsigned long cp;
        size_t len = utf8_next(p + i, n - i, &cp);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

bool cs_utf8_two_byte_only(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    bool beyond_ascii = false;
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = utf8_next(p + i, n - i, &cp);
        if (!len || len > 2)
            return false;
        beyond_ascii |= len == 2;
        i += len;
    }
    return beyond_ascii;
}

bool cs_textenc_is_utf8(const char *encoding)
{
    return encoding && (!cs_strcasecmp(encoding, "UTF-8") || !cs_strcasecmp(encoding, "UTF8"));
}

cs_textenc *cs_textenc_open(const char *encoding)
{
    iconv_t cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1)
        return NULL;
    cs_textenc *e = cs_calloc(1, sizeof *e);
    char *name = cs_strdup(encoding);
    if (!e || !name) {
        cs_free(e);
        cs_free(name);
        iconv_close(cd);
        return NULL;
    }
    e->cd = cd;
    e->name = name;
    return e;
}

void cs_textenc_close(cs_textenc *e)
{
    if (!e)
        return;
    iconv_close(e->cd);
    cs_free(e->name);
    cs_free(e);
}

const char *cs_textenc_name(const cs_textenc *e) { return e->name; }

/* For messages: the text with what is not ASCII (or is a control character) as '?'. */
static void shown_as_ascii(const char *in, size_t n, cs_buf *out)
{
    cs_buf_clear(out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        cs_buf_addc(out, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    if (!out->data)
        cs_buf_add(out, "");
}

cs_status cs_textenc_convert(cs_textenc *e, const char *in, size_t n, cs_buf *out,
                             size_t *bad_offset)
{
    cs_buf_clear(out);
    if (bad_offset)
        *bad_offset = 0;
    iconv(e->cd, NULL, NULL, NULL, NULL); /* back to the initial state */
    char *src = (char *)in; /* iconv's prototype; it does not write through it */
    size_t left = n;
    char chunk[1024];
    while (left > 0) {
        char *dst = chunk;
        size_t room = sizeof chunk;
        size_t r = iconv(e->cd, &src, &left, &dst, &room);
        cs_buf_addn(out, chunk, (size_t)(dst - chunk));
        if (r == (size_t)-1 && errno != E2BIG) {
            /* EILSEQ: a sequence the encoding does not have; EINVAL: cut short at the
             * end. Either way the text is not in this encoding. */
            if (bad_offset)
                *bad_offset = (size_t)(src - in);
            shown_as_ascii(in, n, out);
            return out->failed ? CS_ERR_NOMEM : CS_ERR_INPUT;
        }
    }
    char *dst = chunk;
    size_t room = sizeof chunk;
    iconv(e->cd, NULL, NULL, &dst, &room); /* stateful encodings' closing bytes */
    cs_buf_addn(out, chunk, (size_t)(dst - chunk));
    if (!out->data && !out->failed)
        cs_buf_add(out, "");
    if (out->failed)
        return CS_ERR_NOMEM;
    /* A NUL in the text would cut it short in C; no name holds one. */
    if (strlen(out->data) != out->len) {
        if (bad_offset)
            *bad_offset = (size_t)(memchr(in, 0, n) ? (const char *)memchr(in, 0, n) - in : 0);
        shown_as_ascii(in, n, out);
        return out->failed ? CS_ERR_NOMEM : CS_ERR_INPUT;
    }
    return CS_OK;
}

/* Characters that Chinese names and kinds do not use, and that wrong decoding of the
 * other encoding produces: private use, kana, Greek, Cyrillic, box drawing, bopomofo,
 * Hangul, compatibility ideographs, halfwidth katakana. */
static bool is_odd(unsigned long c)
{
    return (c >= 0xE000 && c <= 0xF8FF) || (c >= 0x3040 && c <= 0x30FF) ||
           (c >= 0x0370 && c <= 0x03FF) || (c >= 0x0400 && c <= 0x04FF) ||
           (c >= 0x2500 && c <= 0x257F) || (c >= 0x3100 && c <= 0x312F) ||
           (c >= 0x31A0 && c <= 0x31BF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF61 && c <= 0xFF9F) ||
           (c >= 0xF0000);
}

static size_t count_odd(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t odd = 0;
    for (size_t i = 0; i < n;) {
        unsigned long cp = 0;
        size_t len = utf8_next(p + i, n - i, &cp);
        if (!len)
            return odd + 1; /* cannot happen: iconv wrote UTF-8 */
        odd += is_odd(cp);
        i += len;
    }
    return odd;
}

cs_status cs_textenc_convert_plain(cs_textenc *enc, const char *in, size_t n, cs_buf *out)
{
    cs_status st = cs_textenc_convert(enc, in, n, out, NULL);
    return st == CS_OK && count_odd(out->data, out->len) ? CS_ERR_INPUT : st;
}

cs_status cs_textenc_guess_init(cs_textenc_guess *g)
{
    memset(g, 0, sizeof *g);
    cs_buf_init(&g->scratch);
    for (int i = 0; i < CS_TEXTENC_CANDIDATES; i++) {
        g->enc[i] = cs_textenc_open(candidates[i]);
        if (!g->enc[i]) {
            /* glibc knows both; memory is what ran out */
            cs_textenc_guess_free(g);
            return CS_ERR_NOMEM;
        }
    }
    return CS_OK;
}

cs_status cs_textenc_guess_add(cs_textenc_guess *g, const char *text, size_t n, long tag1,
                               long tag2)
{
    g->values++;
    for (int i = 0; i < CS_TEXTENC_CANDIDATES; i++) {
        cs_status st = cs_textenc_convert(g->enc[i], text, n, &g->scratch, NULL);
        if (st == CS_ERR_NOMEM)
            return st;
        if (st == CS_OK) {
            g->odd[i] += count_odd(g->scratch.data, g->scratch.len);
        } else if (g->failures[i]++ == 0) {
            g->first_failure[i][0] = tag1;
            g->first_failure[i][1] = tag2;
        }
    }
    return CS_OK;
}

int cs_textenc_guess_choose(const cs_textenc_guess *g, int *best)
{
    int chosen = -1, least = 0;
    for (int i = 0; i < CS_TEXTENC_CANDIDATES; i++) {
        if (g->failures[i] < g->failures[least])
            least = i;
        if (g->failures[i] == 0 && (chosen < 0 || g->odd[i] < g->odd[chosen]))
            chosen = i;
    }
    if (best)
        *best = chosen >= 0 ? chosen : least;
    return chosen;
}

cs_textenc *cs_textenc_guess_take(cs_textenc_guess *g, int candidate)
{
    cs_textenc *e = g->enc[candidate];
    g->enc[candidate] = NULL;
    return e;
}

void cs_textenc_guess_free(cs_textenc_guess *g)
{
    for (int i = 0; i < CS_TEXTENC_CANDIDATES; i++) {
        cs_textenc_close(g->enc[i]);
        g->enc[i] = NULL;
    }
    cs_buf_free(&g->scratch);
}
