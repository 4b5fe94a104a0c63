/*
 * csv.c — a fast reader for large plain CSV tables (a router's cost matrix of millions
 * of rows). GDAL's CSV driver builds a feature per row, which costs about 1.4 µs a row
 * (10.8 s for the 7.7 million rows of the medium benchmark); this reads the file in
 * blocks and splits lines in place. Only plain files are taken: comma-separated, no
 * quotes (anything else goes through GDAL).
 */
#include "io/csv.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define BLOCK ((size_t)1 << 20)

size_t cs_csv_bom(const char *s, size_t n)
{
    return n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

/* What a piece of a CSV holds, in one pass the compiler vectorises (no branch, no
 * carried state but sums): its newlines, and whether it has a quote, a comma, a byte
 * beyond ASCII. */
typedef struct piece_scan {
    size_t newlines;
    bool quote, comma, text;
} piece_scan;

static piece_scan scan_piece(const unsigned char *p, size_t n)
{
    size_t newlines = 0;
    unsigned char quote = 0, comma = 0, high = 0;
    for (size_t i = 0; i < n; i++) {
        newlines += p[i] == '\n';
        quote |= p[i] == '"';
        comma |= p[i] == ',';
        high |= p[i];
    }
    return (piece_scan){newlines, quote != 0, comma != 0, (high & 0x80) != 0};
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
        /* a block without quotes is counted at once; one with them, byte by byte, to
         * know the line of a quote left open */
        piece_scan scan = scan_piece((const unsigned char *)p, (size_t)(end - p));
        if (!scan.quote) {
            line += (long)scan.newlines;
            comma = comma || scan.comma;
            text = text || scan.text;
            p = end;
        }
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
    uint64_t from, read, left; /* where reading began, the bytes read since, still to read */
    long line;
    bool eof;
    cs_status st;
};

cs_status cs_csv_lines_open_range(cs_context *ctx, const char *path, const char *display,
                                  uint64_t from, uint64_t to, long first_line,
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
    r->from = from;
    r->left = to > from ? to - from : 0;
    r->line = first_line - 1;
    if (!(r->f = fopen(path, "rb"))) {
        cs_csv_lines_close(r);
        return cs_error(ctx, CS_ERR_INPUT, &w, "check the file's permissions", "cannot be opened");
    }
    if (from > 0 && fseeko(r->f, (off_t)from, SEEK_SET) != 0) {
        cs_csv_lines_close(r);
        w.line = first_line;
        return cs_error(ctx, CS_ERR_INPUT, &w, "check the disk, or copy the file and read the "
                        "copy", "read error");
    }
    *out = r;
    return CS_OK;
}

cs_status cs_csv_lines_open(cs_context *ctx, const char *path, const char *display,
                            cs_csv_lines **out)
{
    return cs_csv_lines_open_range(ctx, path, display, 0, UINT64_MAX, 1, out);
}

uint64_t cs_csv_lines_offset(const cs_csv_lines *r)
{
    return r->from + r->read - (r->held - r->start);
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
    size_t want = r->cap - r->held < r->left ? r->cap - r->held : (size_t)r->left;
    size_t got = want ? fread(r->buf + r->held, 1, want, r->f) : 0;
    r->held += got;
    r->read += got;
    r->left -= got;
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

/* -------------------------------------------------------------- line gaps */

long cs_line_gaps_line(const cs_line_gaps *g, long f)
{
    size_t lo = 0, hi = g->count; /* the last gap at or before f: [0, lo) are */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->feature[mid] <= f)
            lo = mid + 1;
        else
            hi = mid;
    }
    return f + 1 + (lo ? g->offset[lo - 1] : 0);
}

bool cs_line_gaps_add(cs_line_gaps *g, long f, long offset)
{
    void **arrays[] = {(void **)&g->feature, (void **)&g->offset};
    const size_t sizes[] = {sizeof *g->feature, sizeof *g->offset};
    if (!cs_grow_together(arrays, sizes, 2, &g->cap, g->count + 1))
        return false;
    g->feature[g->count] = f;
    g->offset[g->count++] = offset;
    return true;
}

bool cs_line_gaps_append(cs_line_gaps *to, const cs_line_gaps *from)
{
    for (size_t i = 0; i < from->count; i++)
        if (!cs_line_gaps_add(to, from->feature[i], from->offset[i]))
            return false;
    return true;
}

void cs_line_gaps_free(cs_line_gaps *g)
{
    cs_free(g->feature);
    cs_free(g->offset);
    *g = (cs_line_gaps){0};
}

/* ------------------------------------------------------------ parts of a file */

/* Where the first line at or after byte `at` of f starts (the byte after a \n at at - 1
 * or later): the file's size when none does, UINT64_MAX on a read error. */
static uint64_t line_start(FILE *f, char *buf, uint64_t at)
{
    if (at == 0)
        return 0;
    if (fseeko(f, (off_t)(at - 1), SEEK_SET) != 0)
        return UINT64_MAX;
    for (uint64_t pos = at - 1;;) {
        size_t n = fread(buf, 1, BLOCK, f);
        if (n == 0)
            return ferror(f) ? UINT64_MAX : pos;
        const char *nl = memchr(buf, '\n', n);
        if (nl)
            return pos + (uint64_t)(nl - buf) + 1;
        pos += n;
    }
}

size_t cs_csv_cut(const char *path, uint64_t from, size_t most, cs_csv_part *parts)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? cs_malloc(BLOCK) : NULL;
    size_t made = 0;
    if (buf && fseeko(f, 0, SEEK_END) == 0) {
        uint64_t size = (uint64_t)ftello(f), start = from;
        for (size_t i = 0; i < most && start < size; i++) {
            uint64_t target = from + (size - from) * (i + 1) / most;
            uint64_t end = i + 1 == most ? size : line_start(f, buf, target);
            if (end == UINT64_MAX) {
                made = 0;
                break;
            }
            if (end <= start)
                continue; /* a line longer than a part: it is the one before's */
            parts[made++] = (cs_csv_part){.from = start, .to = end};
            start = end;
        }
    }
    if (f)
        fclose(f);
    cs_free(buf);
    return made;
}

/* The lines counted so far in a part, and the one under way. */
typedef struct line_count {
    long lines, rows;
    size_t open_len; /* the line under way: its bytes so far, and its first */
    char open_first;
} line_count;

static void end_line(line_count *c)
{
    c->lines++;
    c->rows += !(c->open_len == 0 || (c->open_len == 1 && c->open_first == '\r'));
    c->open_len = 0;
}

static void count_block(line_count *c, const char *p, size_t n)
{
    for (const char *end = p + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t piece = (size_t)((nl ? nl : end) - p);
        if (piece && !c->open_len)
            c->open_first = *p;
        c->open_len += piece;
        if (!nl)
            break;
        end_line(c);
        p = nl + 1;
    }
}

bool cs_csv_count_part(const char *path, cs_csv_part *part)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? cs_malloc(BLOCK) : NULL;
    line_count c = {0};
    bool ok = buf && fseeko(f, (off_t)part->from, SEEK_SET) == 0;
    for (uint64_t left = part->to - part->from; ok && left > 0;) {
        size_t n = fread(buf, 1, left < BLOCK ? (size_t)left : BLOCK, f);
        ok = n > 0;
        count_block(&c, buf, n);
        left -= n;
    }
    if (ok && c.open_len) /* the file's last line, without a newline */
        end_line(&c);
    part->lines = c.lines;
    part->rows = c.rows;
    if (f)
        fclose(f);
    cs_free(buf);
    return ok;
}

void cs_csv_number_parts(cs_csv_part *parts, size_t n, long first_line)
{
    long line = first_line, rows = 0;
    for (size_t i = 0; i < n; i++) {
        parts[i].first_line = line;
        parts[i].rows_before = rows;
        line += parts[i].lines;
        rows += parts[i].rows;
    }
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
