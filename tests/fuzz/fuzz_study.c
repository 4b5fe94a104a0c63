/*
 * fuzz_study.c — libFuzzer target for the study-file reader (io/study_file.c):
 * cs_config_load over any bytes, then cs_config_validate when it loaded, as the CLI
 * does. Whatever the bytes, it must return a status and record its messages: no
 * crash, leak, undefined behaviour or runaway alias expansion.
 */
#include "fuzz_common.h"
#include "io/config.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_context *ctx = fuzz_context();
    const char *path = fuzz_write("study.yaml", data, size);
    cs_config *cfg = NULL;
    if (cs_config_create(ctx, &cfg) == CS_OK) {
        if (cs_config_load(ctx, cfg, path) == CS_OK)
            (void)cs_config_validate(ctx, cfg);
        cs_config_destroy(cfg);
    }
    unlink(path);
    cs_context_clear_messages(ctx);
    return 0;
}
