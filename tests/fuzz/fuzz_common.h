/*
 * fuzz_common.h — what the libFuzzer targets share: one context for the whole run
 * (GDAL registers its drivers once) and a private temp folder the input bytes are
 * written to, since careshed's readers take a path, as users give them.
 */
#ifndef CS_FUZZ_COMMON_H
#define CS_FUZZ_COMMON_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* The run's context (created on first use; aborts when it cannot be). */
cs_context *fuzz_context(void);

/* Write data to <the run's temp folder>/name and return that path (static buffer,
 * valid until the next call); aborts when the file cannot be written. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

#endif
