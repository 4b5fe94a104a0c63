/*
 * kml.c — KML whose text is not UTF-8 (io/kml.h). GDAL reads KML through expat, which
 * takes UTF-8, UTF-16, ISO-8859-1 and US-ASCII only: a file declared GBK stops at its
 * first line ("unknown encoding"), and GBK bytes in a file declared UTF-8 stop at the
 * first name. Such a file is converted to UTF-8 here, its declaration rewritten, into a
 * file in GDAL's memory that is opened instead; the file itself is never touched.
 */
#include "io/kml.h"
#include "io/textenc.h"

#include <cpl_vsi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Larger files are left to GDAL as they are (a KML this size is not hand-made). */
#define KML_MAX_BYTES ((size_t)512 << 20)

static bool ends_with_kml(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && cs_strcasecmp(path + n - 4, ".kml") == 0;
}

/* The whole file into *b; false when it cannot be read or is too large. */
static bool read_whole(const char *path, cs_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b->len + n <= KML_MAX_BYTES)
        cs_buf_addn(b, chunk, n);
    bool ok = !ferror(f) && n == 0 && !b->failed;
    fclose(f);
    return ok;
}

/* The XML declaration's encoding value: *at and *len its place in text; false when the
 * file declares none. */
static bool declared_encoding(const char *text, size_t n, size_t *at, size_t *len)
{
    if (n < 5 || strncmp(text, "<?xml", 5) != 0)
        return false;
    const char *end = memchr(text, '>', n < 512 ? n : 512);
    const char *key = end ? strstr(text, "encoding") : NULL;
    if (!key || key > end)
        return false;
    const char *p = key + strlen("encoding");
    while (p < end && (*p == ' ' || *p == '='))
        p++;
    if (p >= end || (*p != '"' && *p != '\''))
        return false;
    const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
    if (!close)
        return false;
    *at = (size_t)(p + 1 - text);
    *len = (size_t)(close - p - 1);
    return true;
}

/* Encodings expat reads itself. */
static bool expat_reads(const char *name)
{
    static const char *const known[] = {"UTF-8", "UTF8", "US-ASCII", "ASCII", "UTF-16",
                                        "ISO-8859-1", "LATIN1"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (cs_strcasecmp(name, known[i]) == 0)
            return true;
    return false;
}

/* The line of byte offset `at`, for messages. */
static long line_of(const char *text, size_t at)
{
    long line = 1;
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* The converter for the file: the study's role.encoding, else the declared one (GB2312
 * read as its superset GB18030), else the candidate that reads the text best. */
static cs_status choose_encoding(cs_context *ctx, const cs_buf *raw, const char *setting,
                                 const char *declared, const cs_where *w, const char *role,
                                 cs_textenc **enc)
{
    const char *name = setting ? setting : declared;
    if (name && cs_strcasecmp(name, "GB2312") == 0)
        name = "GB18030";
    if (name) {
        *enc = cs_textenc_open(name);
        if (*enc)
            return CS_OK;
        char hint[160];
        snprintf(hint, sizeof hint, "set %s.encoding to the file's encoding (e.g. GBK, "
                 "GB18030, BIG5), or save the file as UTF-8", role);
        return cs_error(ctx, CS_ERR_INPUT, w, hint, "unknown encoding '%.100s'%s", name,
                        setting ? "" : " (the file's declaration)");
    }
    cs_textenc_guess g;
    if (cs_textenc_guess_init(&g) != CS_OK)
        return cs_nomem(ctx);
    cs_status st = cs_textenc_guess_add(&g, raw->data, raw->len, 0, 0);
    int best = 0;
    int chosen = st == CS_OK ? cs_textenc_guess_choose(&g, &best) : -1;
    if (chosen >= 0)
        *enc = cs_textenc_guess_take(&g, chosen);
    cs_textenc_guess_free(&g);
    if (st != CS_OK || (chosen >= 0 && !*enc))
        return cs_nomem(ctx);
    if (chosen < 0) {
        char hint[160];
        snprintf(hint, sizeof hint, "set %s.encoding to the file's encoding (`iconv -l` "
                 "lists them), or save the file as UTF-8", role);
        return cs_error(ctx, CS_ERR_INPUT, w, hint, "text in an unknown encoding: it is not "
                        "%s", cs_textenc_tried());
    }
    return CS_OK;
}

/* raw converted by enc, its declaration saying UTF-8, into out. */
static cs_status convert(cs_context *ctx, const cs_buf *raw, cs_textenc *enc, bool declared,
                         const cs_where *where, const char *role, cs_buf *out)
{
    size_t bad = 0;
    cs_status st = cs_textenc_convert(enc, raw->data, raw->len, out, &bad);
    if (st == CS_ERR_NOMEM)
        return cs_nomem(ctx);
    if (st != CS_OK) {
        cs_where w = *where;
        w.line = line_of(raw->data, bad);
        char hint[160];
        snprintf(hint, sizeof hint, "set %s.encoding to the file's encoding, or save the "
                 "file as UTF-8", role);
        return cs_error(ctx, CS_ERR_INPUT, &w, hint, "text is not valid %s",
                        cs_textenc_name(enc));
    }
    size_t at = 0, len = 0;
    if (declared && declared_encoding(out->data, out->len, &at, &len)) {
        cs_buf fixed;
        cs_buf_init(&fixed);
        cs_buf_addn(&fixed, out->data, at);
        cs_buf_add(&fixed, "UTF-8");
        cs_buf_addn(&fixed, out->data + at + len, out->len - at - len);
        if (fixed.failed) {
            cs_buf_free(&fixed);
            return cs_nomem(ctx);
        }
        cs_buf_free(out);
        *out = fixed;
    }
    return out->failed ? cs_nomem(ctx) : CS_OK;
}

/* text into a new file of GDAL's memory; its path (cs_free) or NULL. */
static char *memory_file(const cs_buf *text)
{
    static atomic_uint serial;
    char path[96];
    snprintf(path, sizeof path, "/vsimem/careshed-kml/%u.kml", atomic_fetch_add(&serial, 1));
    VSILFILE *f = VSIFOpenL(path, "wb");
    if (!f)
        return NULL;
    bool ok = VSIFWriteL(text->data, 1, text->len, f) == text->len;
    ok = VSIFCloseL(f) == 0 && ok;
    char *copy = ok ? cs_strdup(path) : NULL;
    if (!copy)
        VSIUnlink(path);
    return copy;
}

cs_status cs_kml_utf8_copy(cs_context *ctx, const char *path, const char *shown,
                           const char *role, const char *encoding, char **copy)
{
    *copy = NULL;
    if (!ends_with_kml(path) || (encoding && cs_textenc_is_utf8(encoding)))
        return CS_OK;
    cs_buf raw, text;
    cs_buf_init(&raw);
    cs_buf_init(&text);
    if (!read_whole(path, &raw)) { /* GDAL says why when it opens it */
        bool nomem = raw.failed;
        cs_buf_free(&raw);
        return nomem ? cs_nomem(ctx) : CS_OK;
    }
    size_t at = 0, len = 0;
    char declared[64] = "";
    if (declared_encoding(raw.data, raw.len, &at, &len))
        snprintf(declared, sizeof declared, "%.*s", (int)(len < 63 ? len : 63), raw.data + at);
    bool utf8 = cs_utf8_valid(raw.data, raw.len);
    /* what expat reads as it is: UTF-8 text declared UTF-8 (or nothing), or a
     * declared encoding it knows, unless role.encoding says otherwise */
    bool as_is = !encoding && (*declared ? expat_reads(declared) &&
                                               (utf8 || !cs_textenc_is_utf8(declared))
                                         : utf8);
    cs_status st = CS_OK;
    if (!as_is) {
        cs_where w = {.file = shown};
        cs_textenc *enc = NULL;
        /* a declaration of UTF-8 that the bytes belie is no guide */
        const char *from = *declared && !cs_textenc_is_utf8(declared) ? declared : NULL;
        st = choose_encoding(ctx, &raw, encoding, from, &w, role, &enc);
        if (st == CS_OK)
            st = convert(ctx, &raw, enc, *declared != '\0', &w, role, &text);
        if (st == CS_OK && !(*copy = memory_file(&text)))
            st = cs_nomem(ctx);
        cs_textenc_close(enc);
    }
    cs_buf_free(&raw);
    cs_buf_free(&text);
    return st;
}
