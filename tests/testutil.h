/*
 * testutil.h — small helpers shared by the tests: temporary folders, files, running
 * the CLI, finding the shared real data, and searching the context's messages.
 */
#ifndef CS_TESTUTIL_H
#define CS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "careshed/careshed.h"

/* A fresh temporary folder (new string, free()); removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *path);
/* Whether the folder at path holds nothing (or is not there). */
bool tu_folder_empty(const char *path);
/* path = dir + "/" + name; new string, free(). */
char *tu_join(const char *dir, const char *name);
/* Write text to dir/name; returns the full path (free()). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Read a whole file (free()); NULL if missing. */
char *tu_read(const char *path, size_t *len);
bool tu_exists(const char *path);
/* Run a shell command; returns its exit code; stdout+stderr go to *output (free()). */
int tu_run(const char *command, char **output);
/* The shared real-data folder, or NULL when absent (the caller skips). */
const char *tu_shared_data(void);
/* True if any message of the context contains all of the given substrings (NULL-ended)
 * in its formatted text. */
bool tu_has_message(const cs_context *ctx, ...);
/* Install an allocator that lets n more allocations succeed and refuses every one
 * after (n < 0: refuses none); tu_alloc_refused() counts the refusals since. Restore
 * the default with tu_alloc_restore(). For the tests that make allocation fail. */
void tu_alloc_fail_after(long n);
void tu_alloc_restore(void);
long tu_alloc_refused(void);
/* Install an allocator that lets n allocations succeed, refuses the next one only and
 * lets the rest succeed, on any thread; tu_alloc_made() counts the allocations asked
 * for since (the refused one included), tu_alloc_refused() the refusals (0 or 1). */
void tu_alloc_refuse_one(long n);
long tu_alloc_made(void);
/* Install an allocator that counts the bytes careshed holds (freed ones included, when
 * allocated before); tu_alloc_peak() gives their peak since. Restore with
 * tu_alloc_restore(). */
void tu_alloc_track(void);
long tu_alloc_peak(void);

/* splitmix64: a reproducible random generator independent of the C library; and a
 * uniform double in [0, 1) from it. */
uint64_t tu_rng_next(uint64_t *state);
double tu_rng_unit(uint64_t *state);

/* Print all messages of a context (for debugging failed tests). */
void tu_dump_messages(const cs_context *ctx);

#endif
