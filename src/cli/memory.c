/*
 * memory.c — how the careshed command takes memory from the system. The library
 * allocates through cs_set_allocator's functions; the command gives it glibc's, tuned
 * for a run that holds a few large arrays and allocates and frees big blocks by the
 * thousand, on machines (virtual ones above all) where a page fault is dear.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#endif
#include "memory.h"

#include "careshed/careshed.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

/* The size of a transparent huge page on x86-64 and most arm64 kernels. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

void cli_advise_large_pages(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (!p || size < 2 * HUGE_PAGE)
        return;
    uintptr_t from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t to = ((uintptr_t)p + size) & ~(HUGE_PAGE - 1);
    if (to > from) /* advice only: a kernel without huge pages refuses, and that is fine */
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}

/* The heap's end when last advised. */
static _Atomic uintptr_t advised_end;

/*
 * New heap pages advised for huge pages before they are touched, at the next block
 * asked for: glibc grows its heap for small blocks (two million ids, say) and for
 * GDAL's, and M_TOP_PAD (below) makes it grow in long steps. At the large scale this
 * halved the page faults of a straight-line run (47k -> 23k) and took a third of a
 * network run's (160k -> 104k), the memory used about the same.
 */
static void advise_heap_growth(void)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    uintptr_t end = (uintptr_t)sbrk(0), was = advised_end;
    if (end <= was || !atomic_compare_exchange_strong(&advised_end, &was, end))
        return;
    uintptr_t from = (was + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), to = end & ~(HUGE_PAGE - 1);
    if (was && to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#endif
}

/*
 * A block of 4 MB or more (a cost field, a graph's arrays, a grid of cells) is backed
 * by huge pages where the kernel offers them on request (transparent_hugepage set to
 * "madvise", Debian's default): one fault then maps 2 MB instead of 4 kB. At the large
 * scale this took the walking graph's building from about 0.86 s to 0.60 s, most of
 * which had been first touches of fresh memory.
 */
static void *malloc_large_pages(size_t size)
{
    advise_heap_growth();
    void *p = malloc(size);
    cli_advise_large_pages(p, size);
    return p;
}

/*
 * A block growing to 4 MB or more. realloc copies it into fresh pages before the advice
 * could be given (glibc copies even a block mapped on its own), a 4 kB fault each: so a
 * new block, advised, then the copy. Growing arrays (a network's edges, an output's
 * text) took 340 MB of such faults at the large scale, 40% of the run's.
 */
static void *realloc_large_pages(void *ptr, size_t size)
{
#ifdef __GLIBC__
    size_t old = ptr ? malloc_usable_size(ptr) : 0;
    if (ptr && size >= 2 * HUGE_PAGE && size > old) {
        void *p = malloc_large_pages(size);
        if (!p)
            return NULL; /* as realloc: the block is left as it was */
        memcpy(p, ptr, old);
        free(ptr);
        return p;
    }
#endif
    void *p = realloc(ptr, size);
    cli_advise_large_pages(p, size);
    return p;
}

/*
 * Keep freed memory for reuse. By default glibc gives each block of more than 128 kB
 * (raised as such blocks are freed, up to 32 MB) its own mapping and returns it on free,
 * and trims the heap's top: every later block of that size then faults its pages in
 * afresh. A run allocates and frees such blocks by the thousand (each facility's pairs,
 * each kind's cell grid), and at the large scale this took a fifth of the whole run
 * (600,000 faults). The peak is unchanged: the memory kept is memory the run used.
 */
void cli_memory_setup(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_TOP_PAD, 32 << 20);
    advise_heap_growth();
#endif
    cs_set_allocator(&(cs_allocator){malloc_large_pages, realloc_large_pages, free});
}
