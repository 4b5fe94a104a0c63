/*
 * fuzz_csv.c — libFuzzer target for the plain CSV reader (io/csv.c): cs_csv_check
 * and cs_csv_read over any bytes, asking for three columns as the cost-matrix reader
 * does, with a row callback that reads every field it is given and turns some rows
 * into errors (reading must go on past them).
 */
#include "fuzz_common.h"
#include "io/csv.h"

#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct rows {
    size_t count, bytes;
} rows;

static cs_status row(void *data, const char *const *fields, long line)
{
    rows *r = data;
    r->count++;
    for (int i = 0; i < 3; i++)
        r->bytes += strlen(fields[i]); /* every field is a readable string */
    if (line < 2)
        __builtin_trap(); /* the header is line 1 and is never a row */
    if (fields[2][0] == '!') {
        cs_where w = {.file = "fuzz.csv", .line = line, .field = "cost"};
        return cs_error(fuzz_context(), CS_ERR_INPUT, &w, "fuzz", "a row the callback refuses");
    }
    return CS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_context *ctx = fuzz_context();
    const char *path = fuzz_write("fuzz.csv", data, size);
    static const char *const names[3] = {"from", "to", "cost"};
    bool plain = false;
    long lines;
    (void)cs_csv_check(ctx, path, "fuzz.csv", &plain, &lines);
    rows r = {0, 0};
    bool found = false;
    (void)cs_csv_read(ctx, path, "fuzz.csv", names, 3, row, &r, &found);
    unlink(path);
    cs_context_clear_messages(ctx);
    return 0;
}
