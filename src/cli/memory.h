/* memory.h — the careshed command's memory settings (memory.c). */
#ifndef CARESHED_CLI_MEMORY_H
#define CARESHED_CLI_MEMORY_H

#include <stddef.h>

/* Keep freed memory for reuse and back large blocks with huge pages; before any work. */
void cli_memory_setup(void);

/* Ask for huge pages under the whole 2 MB pages of p[0..size), when size is 4 MB or more. */
void cli_advise_large_pages(void *p, size_t size);

#endif
