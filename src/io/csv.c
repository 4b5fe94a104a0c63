/*
 * csv.c — a fast reader for large plain CSV tables (a router's cost matrix of millions
 * of rows). GDAL's CSV driver builds a feature per row, which costs about 1.4 µs a row
 * (10.8 s for the 7.7 million rows of the medium benchmark); this reads the file in
 * blocks and splits lines in place. Only plain files are taken: comma-separated, no
 * quotes (anything else goes through GDAL).
 */
#include "io/csv.h"

#include <stdio.h>
#include <string.h>

#define BLOCK ((size_t)1 << 20)

bool cs_csv_is_plain(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = cs_malloc(BLOCK);
    bool comma = false, quote = false, text = false;
    size_t n;
    /* a quote anywhere means quoted fields: one pass of memchr, tens of ms per 100 MB */
    while (f && buf && !quote && !text && (n = fread(buf, 1, BLOCK, f)) > 0) {
        quote = memchr(buf, '"', n) != NULL;
        comma = comma || memchr(buf, ',', n) != NULL;
        /* text beyond ASCII may need converting (GBK...): cs_layer_text does that */
        for (size_t i = 0; i < n && !text; i++)
            text = (unsigned char)buf[i] >= 0x80;
    }
    if (f)
        fclose(f);
    bool plain = f && buf && comma && !quote && !text;
    cs_free(buf);
    return plain;
}

cs_status cs_csv_check_quotes(cs_context *ctx, const char *path, const char *display)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? cs_malloc(BLOCK) : NULL;
    long line = 1, opened = 0; /* opened: the line of the open quote, 0 when none */
    size_t n;
    while (buf && (n = fread(buf, 1, BLOCK, f)) > 0)
        for (const char *p = buf, *end = buf + n; p < end; p++) {
            if (*p == '\n')
                line++;
            else if (*p == '"')
                opened = opened ? 0 : line;
        }
    bool no_memory = f && !buf;
    if (f)
        fclose(f);
    cs_free(buf);
    if (no_memory)
        return cs_nomem(ctx);
    if (!opened)
        return CS_OK;
    cs_where w = {.file = display, .line = opened};
    return cs_error(ctx, CS_ERR_INPUT, &w, "close the quote (a quote inside a quoted field is "
                    "written twice: \"\")", "a quote opened on this line is never closed, so "
                    "the rest of the file would be read as one field");
}

char *cs_csv_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Split line (NUL-terminated, no newline) at commas into fields[0 .. max). */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

/* The columns of names[] in the header line; false when one is missing. */
static bool find_columns(char *header, const char *const *names, size_t n, size_t *column,
                         size_t *width)
{
    if (!strncmp(header, "\xEF\xBB\xBF", 3)) /* UTF-8 byte order mark */
        memmove(header, header + 3, strlen(header + 3) + 1);
    char *cols[CS_CSV_MAX_COLUMNS];
    size_t count = split(header, cols, CS_CSV_MAX_COLUMNS);
    *width = 0;
    for (size_t i = 0; i < n; i++) {
        column[i] = count;
        for (size_t c = 0; c < count && column[i] == count; c++)
            if (!cs_strcasecmp(cols[c], names[i]))
                column[i] = c;
        if (column[i] == count)
            return false;
        if (column[i] + 1 > *width)
            *width = column[i] + 1;
    }
    return true;
}

typedef struct line_reader {
    cs_context *ctx;
    const char *const *names;
    size_t n, width, column[CS_CSV_MAX_WANTED];
    bool have_header, found;
    cs_csv_row_fn fn;
    void *data;
    long line;
    cs_status st;
} line_reader;

static void take_line(line_reader *lr, char *line, size_t len)
{
    lr->line++;
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (!lr->have_header) {
        lr->have_header = true;
        lr->found = find_columns(line, lr->names, lr->n, lr->column, &lr->width);
        return;
    }
    if (len == 0 || !lr->found || lr->st == CS_ERR_NOMEM)
        return;
    char *cols[CS_CSV_MAX_COLUMNS];
    size_t count = split(line, cols, lr->width);
    const char *wanted[CS_CSV_MAX_WANTED];
    for (size_t i = 0; i < lr->n; i++)
        wanted[i] = lr->column[i] < count ? cs_csv_trim(cols[lr->column[i]]) : "";
    cs_status st = lr->fn(lr->data, wanted, lr->line);
    if (lr->st == CS_OK || st == CS_ERR_NOMEM)
        lr->st = st;
}

cs_status cs_csv_read(cs_context *ctx, const char *path, const char *display,
                      const char *const *names, size_t n, cs_csv_row_fn fn, void *data,
                      bool *found)
{
    *found = false;
    if (n > CS_CSV_MAX_WANTED)
        return CS_ERR_ARGUMENT;
    cs_where w = {.file = display};
    cs_input_note(ctx, path, "table");
    FILE *f = fopen(path, "rb");
    char *buf = cs_malloc(BLOCK + 1);
    if (!f || !buf) {
        if (f)
            fclose(f);
        cs_free(buf);
        return f ? cs_nomem(ctx)
                 : cs_error(ctx, CS_ERR_INPUT, &w, "check the file's permissions",
                            "cannot be opened");
    }
    line_reader lr = {.ctx = ctx, .names = names, .n = n, .fn = fn, .data = data};
    size_t held = 0, got;
    cs_status st = CS_OK;
    while (st == CS_OK && (got = fread(buf + held, 1, BLOCK - held, f)) > 0) {
        held += got;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', held - (size_t)(start - buf))) != NULL) {
            *nl = '\0';
            take_line(&lr, start, (size_t)(nl - start));
            start = nl + 1;
        }
        held -= (size_t)(start - buf);
        memmove(buf, start, held);
        if (held == BLOCK) {
            w.line = lr.line + 1;
            st = cs_error(ctx, CS_ERR_INPUT, &w, "check that this is a table with one pair "
                          "per line", "a line longer than %zu bytes", BLOCK);
        }
        if (lr.have_header && !lr.found)
            break;
    }
    if (st == CS_OK && held > 0 && !(lr.have_header && !lr.found)) {
        buf[held] = '\0';
        take_line(&lr, buf, held);
    }
    if (st == CS_OK && ferror(f))
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check the disk", "read error");
    fclose(f);
    cs_free(buf);
    *found = lr.found;
    return st == CS_OK ? lr.st : st;
}
