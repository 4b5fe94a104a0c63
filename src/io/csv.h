/*
 * csv.h — a fast reader for large plain CSV tables (io/csv.c).
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include "core/core.h"

#define CS_CSV_MAX_COLUMNS 256
#define CS_CSV_MAX_WANTED 8

/* Whether path is a plain CSV this reader takes: commas, no quote anywhere, and only
 * ASCII (other text goes through GDAL and cs_layer_text, which convert it). */
bool cs_csv_is_plain(const char *path);
/* Whether every quote that opens a field in path is closed (quotes toggle, so "" inside
 * a quoted field counts twice, as in RFC 4180 and GDAL's reader). When one is not, the
 * rest of the file would be read as one field: CS_ERR_INPUT naming display and the line
 * where the quote opened. CS_OK when the file cannot be read (left to its reader). */
cs_status cs_csv_check_quotes(cs_context *ctx, const char *path, const char *display);

/* s without leading and trailing spaces and tabs (trailing ones cut in place). */
char *cs_csv_trim(char *s);

/* Called with the wanted columns' texts of one data line (line: 1-based, the header
 * is line 1; a missing column is ""). */
typedef cs_status (*cs_csv_row_fn)(void *data, const char *const *fields, long line);

/* Read path (display: its name in messages): find names[0 .. n) in the header
 * (case-insensitive), then call fn for every non-empty line. *found is false when a
 * name is missing (nothing is read). Returns the first error fn returned (reading goes
 * on past others, stops at CS_ERR_NOMEM), CS_ERR_INPUT when the file cannot be read or
 * has a line over 1 MB, CS_ERR_NOMEM. */
cs_status cs_csv_read(cs_context *ctx, const char *path, const char *display,
                      const char *const *names, size_t n, cs_csv_row_fn fn, void *data,
                      bool *found);

#endif
