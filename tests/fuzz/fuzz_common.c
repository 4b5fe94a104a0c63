/*
 * fuzz_common.c — the context and temp files the libFuzzer targets share.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cs_context *context;
static char folder[256];

static void remove_folder(void)
{
    if (folder[0])
        rmdir(folder);
}

cs_context *fuzz_context(void)
{
    if (!context && cs_context_create(&context) != CS_OK) {
        fprintf(stderr, "fuzz: cannot create a careshed context\n");
        abort();
    }
    return context;
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    if (!folder[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(folder, sizeof folder, "%s/careshed-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(folder)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_folder);
    }
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: writing the input");
        abort();
    }
    return path;
}
