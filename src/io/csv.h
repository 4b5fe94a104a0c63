/*
 * csv.h — a fast reader for large plain CSV tables (io/csv.c).
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include "core/core.h"

#define CS_CSV_MAX_COLUMNS 256
#define CS_CSV_MAX_WANTED 8

/* Check path's quotes, in one pass that also tells whether it is a plain CSV this
 * reader takes (*plain): commas, no quote anywhere, and only ASCII after a UTF-8 byte
 * order mark, if any (other text goes through GDAL and cs_layer_text, which convert
 * it). Every quote that opens a field must be closed (quotes toggle, so "" inside a
 * quoted field counts twice, as in RFC 4180 and GDAL's reader); when one is not, the
 * rest of the file would be read as one field: CS_ERR_INPUT naming display and the
 * line where the quote opened. CS_OK, not plain, when the file cannot be read (left to
 * its reader). *lines receives the number of lines (a last one without a newline
 * counts), for sizing what is read from them. */
cs_status cs_csv_check(cs_context *ctx, const char *path, const char *display, bool *plain,
                       long *lines);
/* The length of the UTF-8 byte order mark s[0 .. n) starts with: 3, or 0 if none. */
size_t cs_csv_bom(const char *s, size_t n);

/* s without leading and trailing spaces and tabs (trailing ones cut in place). */
char *cs_csv_trim(char *s);

/* Split line (NUL-terminated, no newline) at commas into fields[0 .. max); returns how
 * many. Each field is cut at its comma, the last one wanted too. */
size_t cs_csv_split(char *line, char **fields, size_t max);

/* A file's lines, read in blocks (a line may be of any length). */
typedef struct cs_csv_lines cs_csv_lines;
/* Open path (display: its name in messages); CS_ERR_INPUT when it cannot be. */
cs_status cs_csv_lines_open(cs_context *ctx, const char *path, const char *display,
                            cs_csv_lines **out);
/* As cs_csv_lines_open, but only the file's bytes [from, to) (from: a line's start),
 * whose first line is numbered first_line. */
cs_status cs_csv_lines_open_range(cs_context *ctx, const char *path, const char *display,
                                  uint64_t from, uint64_t to, long first_line,
                                  cs_csv_lines **out);
/* Where in the file the next line starts. */
uint64_t cs_csv_lines_offset(const cs_csv_lines *lines);
/* The next line, without its \n or \r\n, NUL-terminated and writable until the next
 * call; its length and number (1-based). NULL at the end of the file or on an error,
 * which is reported (cs_csv_lines_status tells which). */
char *cs_csv_lines_next(cs_csv_lines *lines, size_t *len, long *line);
/* CS_OK, or the error that ended the reading (the file's, CS_ERR_NOMEM). */
cs_status cs_csv_lines_status(const cs_csv_lines *lines);
void cs_csv_lines_close(cs_csv_lines *lines);

/*
 * A file's lines in parts, to be read on several threads. cs_csv_cut cuts the bytes
 * from `from` (a line's start) to the end into at most `most` parts of about equal
 * bytes, each starting at a line's start, and returns how many (0 when the file cannot
 * be read). cs_csv_count_part counts a part's lines and rows (the lines that are not
 * empty as cs_csv_lines_next gives them: a line of only \r is empty), on any thread;
 * false on a read error. cs_csv_number_parts then gives each part its first line's
 * number and the rows before it.
 */
typedef struct cs_csv_part {
    uint64_t from, to;
    long lines, rows;
    long first_line, rows_before;
} cs_csv_part;
size_t cs_csv_cut(const char *path, uint64_t from, size_t most, cs_csv_part *parts);
bool cs_csv_count_part(const char *path, cs_csv_part *part);
void cs_csv_number_parts(cs_csv_part *parts, size_t n, long first_line);

/*
 * Where a table's rows stop following its header line after line (the empty lines
 * skipped): from feature feature[i] on, a row's line is its feature number + 1 +
 * offset[i] (the features in order). No gaps: every row's line is its feature + 1.
 */
typedef struct cs_line_gaps {
    long *feature, *offset;
    size_t count, cap;
} cs_line_gaps;
/* Feature f's line (the header is line 1). */
long cs_line_gaps_line(const cs_line_gaps *g, long f);
/* Note that rows from feature f on are offset lines further (after those before it);
 * false without memory. */
bool cs_line_gaps_add(cs_line_gaps *g, long f, long offset);
/* Add from's gaps after to's (from's features come after); false without memory. */
bool cs_line_gaps_append(cs_line_gaps *to, const cs_line_gaps *from);
void cs_line_gaps_free(cs_line_gaps *g);

/* Called with the wanted columns' texts of one data line (line: 1-based, the header
 * is line 1; a missing column is ""). */
typedef cs_status (*cs_csv_row_fn)(void *data, const char *const *fields, long line);

/* Read path (display: its name in messages): find names[0 .. n) in the header
 * (case-insensitive), then call fn for every non-empty line. *found is false when a
 * name is missing (nothing is read). Returns the first error fn returned (reading goes
 * on past others, stops at CS_ERR_NOMEM), CS_ERR_INPUT when the file cannot be read or
 * CS_ERR_NOMEM. */
cs_status cs_csv_read(cs_context *ctx, const char *path, const char *display,
                      const char *const *names, size_t n, cs_csv_row_fn fn, void *data,
                      bool *found);

#endif
