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

size_t cs_csv_bom(const char *s, size_t n)
{
    return n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

cs_status cs_csv_check(cs_context *ctx, const char *path, const char *display, bool *plain,
                       long *lines)
{
    *plain = false;
    *lines = 0;
    FILE *f = fopen(path, "rb");
    char *buf = f ? cs_malloc(BLOCK) : NULL;
    long line = 1, opened = 0; /* opened: the line of the open quote, 0 when none */
    bool comma = false, quote = false, text = false, first = true, open_line = false;
    size_t n;
    while (buf && (n = fread(buf, 1, BLOCK, f)) > 0) {
        /* a UTF-8 byte order mark (as spreadsheets write) is no text */
        const char *p = first ? buf + cs_csv_bom(buf, n) : buf, *end = buf + n;
        first = false;
        for (; p < end; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '\n') {
                line++;
            } else if (c == '"') {
                opened = opened ? 0 : line;
                quote = true;
            } else {
                comma = comma || c == ',';
                text = text || c >= 0x80; /* may need converting (GBK...): cs_layer_text */
            }
        }
        open_line = buf[n - 1] != '\n';
    }
    *lines = line - 1 + open_line;
    bool no_memory = f && !buf, failed = !f || ferror(f);
    if (f)
        fclose(f);
    cs_free(buf);
    if (no_memory)
        return cs_nomem(ctx);
    *plain = !failed && comma && !quote && !text;
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

size_t cs_csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0'; /* the last field wanted ends here too: what follows is not its */
        p = comma + 1;
    }
    return n;
}

/* The columns of names[] in the header line; false when one is missing. */
static bool find_columns(char *header, const char *const *names, size_t n, size_t *column,
                         size_t *width)
{
    char *cols[CS_CSV_MAX_COLUMNS];
    size_t count = cs_csv_split(header + cs_csv_bom(header, strlen(header)), cols,
                                CS_CSV_MAX_COLUMNS);
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

struct cs_csv_lines {
    cs_context *ctx;
    const char *display;
    FILE *f;
    char *buf;
    size_t cap, held, start; /* buf holds [start, held) not yet returned */
    long line;
    bool eof;
    cs_status st;
};

cs_status cs_csv_lines_open(cs_context *ctx, const char *path, const char *display,
                            cs_csv_lines **out)
{
    *out = NULL;
    cs_where w = {.file = display};
    cs_csv_lines *r = cs_calloc(1, sizeof *r);
    if (!r || !(r->buf = cs_malloc(BLOCK + 1))) {
        cs_free(r);
        return cs_nomem(ctx);
    }
    r->ctx = ctx;
    r->display = display;
    r->cap = BLOCK;
    if (!(r->f = fopen(path, "rb"))) {
        cs_csv_lines_close(r);
        return cs_error(ctx, CS_ERR_INPUT, &w, "check the file's permissions", "cannot be opened");
    }
    *out = r;
    return CS_OK;
}

/* Read more of the file after what is held (moved to the front); false at its end. A
 * line longer than the buffer doubles it. */
static bool refill(cs_csv_lines *r)
{
    r->held -= r->start;
    memmove(r->buf, r->buf + r->start, r->held);
    r->start = 0;
    if (r->held == r->cap) {
        char *bigger = cs_realloc(r->buf, 2 * r->cap + 1);
        if (!bigger) {
            r->st = cs_nomem(r->ctx);
            return false;
        }
        r->buf = bigger;
        r->cap *= 2;
    }
    size_t got = fread(r->buf + r->held, 1, r->cap - r->held, r->f);
    r->held += got;
    if (got == 0) {
        r->eof = true;
        if (ferror(r->f)) {
            cs_where w = {.file = r->display, .line = r->line + 1};
            r->st = cs_error(r->ctx, CS_ERR_INPUT, &w, "check the disk, or copy the file "
                             "and read the copy", "read error");
        }
    }
    return got > 0;
}

char *cs_csv_lines_next(cs_csv_lines *r, size_t *len, long *line)
{
    for (;;) {
        char *start = r->buf + r->start;
        char *nl = memchr(start, '\n', r->held - r->start);
        if (!nl && !r->eof && refill(r))
            continue;
        if (r->st != CS_OK || (!nl && r->start == r->held))
            return NULL; /* the end, or an error (cs_csv_lines_status) */
        size_t n = nl ? (size_t)(nl - start) : r->held - r->start;
        r->start += nl ? n + 1 : n;
        start[n] = '\0'; /* at the end of the file: the byte kept after the buffer */
        if (n > 0 && start[n - 1] == '\r')
            start[--n] = '\0';
        *len = n;
        *line = ++r->line;
        return start;
    }
}

cs_status cs_csv_lines_status(const cs_csv_lines *r) { return r->st; }

void cs_csv_lines_close(cs_csv_lines *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    cs_free(r->buf);
    cs_free(r);
}

cs_status cs_csv_read(cs_context *ctx, const char *path, const char *display,
                      const char *const *names, size_t n, cs_csv_row_fn fn, void *data,
                      bool *found)
{
    *found = false;
    if (n > CS_CSV_MAX_WANTED)
        return CS_ERR_ARGUMENT;
    cs_input_note(ctx, path, "table");
    cs_csv_lines *lines;
    cs_status st = cs_csv_lines_open(ctx, path, display, &lines);
    if (st != CS_OK)
        return st;
    size_t len, width, column[CS_CSV_MAX_WANTED];
    long number;
    char *line = cs_csv_lines_next(lines, &len, &number);
    *found = line && find_columns(line, names, n, column, &width);
    while (*found && st != CS_ERR_NOMEM && (line = cs_csv_lines_next(lines, &len, &number))) {
        if (len == 0)
            continue;
        char *cols[CS_CSV_MAX_COLUMNS];
        size_t count = cs_csv_split(line, cols, width);
        const char *wanted[CS_CSV_MAX_WANTED];
        for (size_t i = 0; i < n; i++)
            wanted[i] = column[i] < count ? cs_csv_trim(cols[column[i]]) : "";
        cs_status fst = fn(data, wanted, number);
        if (st == CS_OK || fst == CS_ERR_NOMEM)
            st = fst;
    }
    cs_status rst = cs_csv_lines_status(lines);
    cs_csv_lines_close(lines);
    return rst != CS_OK ? rst : st;
}
