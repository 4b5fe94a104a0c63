/*
 * alloc.c — the one door every library allocation goes through, so that a test can
 * swap in an allocator that fails after N calls and check for clean errors; and, when
 * asked (cs_spill_to), large blocks kept in scratch files the system pages.
 */
#define _GNU_SOURCE /* fallocate */
#include "careshed/careshed.h"
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static cs_allocator current = {malloc, realloc, free};

/* ------------------------------------------------------------ spilled blocks */

/*
 * A block of spill_min bytes or more, once cs_spill_to named a folder, is a file there,
 * unlinked as it is made and mapped shared: its pages are the page cache's, which the
 * system writes back and drops when memory runs short, where anonymous memory (no swap
 * on most compute nodes) would end the process. Its disk is taken as it is made
 * (fallocate), so that a full disk is a block kept in memory, not a SIGBUS later. The
 * blocks are found again, at free and realloc, in a table of their addresses: open
 * addressing, read without a lock, written under one. A freed slot is marked gone, so
 * that probes for the blocks after it go on; it is emptied once the slot after it is
 * empty (then no probe for a block held passes it), with the gone ones before it.
 */
#define SPILL_SLOTS 65536
#define SPILL_GONE ((void *)1) /* a freed slot: probing goes on past it */
static void *_Atomic spill_at[SPILL_SLOTS];
static size_t spill_len[SPILL_SLOTS];
static atomic_size_t spill_live, spill_used; /* blocks held; slots taken (freed too) */
static atomic_size_t spill_made;               /* blocks spilled so far (tests) */
static atomic_size_t spill_min = (size_t)8 << 20;
static pthread_mutex_t spill_lock = PTHREAD_MUTEX_INITIALIZER;
static char spill_dir[PATH_MAX]; /* under spill_lock */
static atomic_bool spill_on;

size_t cs_spill_min_bytes(size_t bytes)
{
    return atomic_exchange(&spill_min, bytes);
}

size_t cs_spill_made(void) { return atomic_load(&spill_made); }

cs_status cs_spill_to(const char *dir)
{
    struct stat st;
    if (dir && strlen(dir) + sizeof "/careshed-spill-XXXXXX" > sizeof spill_dir)
        errno = ENAMETOOLONG;
    else if (dir && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        errno = ENOTDIR;
    else if (!dir || (stat(dir, &st) == 0 && access(dir, W_OK | X_OK) == 0))
        errno = 0;
    if (dir && errno)
        return CS_ERR_ARGUMENT;
    pthread_mutex_lock(&spill_lock);
    snprintf(spill_dir, sizeof spill_dir, "%s", dir ? dir : "");
    atomic_store(&spill_on, dir != NULL);
    pthread_mutex_unlock(&spill_lock);
    return CS_OK;
}

static size_t slot_of(const void *p)
{
    return (size_t)(((uintptr_t)p >> 12) * 2654435761u % SPILL_SLOTS);
}

/* The slot of spilled block p, or -1 when p is not one. */
static long spilled(const void *p)
{
    if (!p || atomic_load(&spill_live) == 0)
        return -1;
    for (size_t i = slot_of(p), n = 0; n < SPILL_SLOTS; i = (i + 1) % SPILL_SLOTS, n++) {
        void *q = atomic_load(&spill_at[i]);
        if (q == p)
            return (long)i;
        if (!q)
            return -1;
    }
    return -1;
}

/* Whether a block of size bytes goes to the spill. */
static bool spills(size_t size)
{
    return size >= atomic_load(&spill_min) && atomic_load(&spill_on) &&
           atomic_load(&spill_used) < SPILL_SLOTS / 2;
}

/* A new spilled block of at least size bytes (zeroed), or NULL (then malloc's). */
static void *spill_alloc(size_t size)
{
    if (!spills(size))
        return NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (size + page - 1) / page * page;
    char path[sizeof spill_dir + sizeof "/careshed-spill-XXXXXX"];
    pthread_mutex_lock(&spill_lock);
    snprintf(path, sizeof path, "%s/careshed-spill-XXXXXX", spill_dir);
    pthread_mutex_unlock(&spill_lock);
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    /* its disk taken now: a full disk would otherwise end the process (SIGBUS) at the
     * first write back of a page it has no room for */
    void *p = fallocate(fd, 0, 0, (off_t)len) == 0
                  ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                  : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    pthread_mutex_lock(&spill_lock);
    size_t i = slot_of(p);
    while (atomic_load(&spill_at[i]) && atomic_load(&spill_at[i]) != SPILL_GONE)
        i = (i + 1) % SPILL_SLOTS;
    if (!atomic_load(&spill_at[i]))
        atomic_fetch_add(&spill_used, 1);
    spill_len[i] = len;
    atomic_store(&spill_at[i], p);
    atomic_fetch_add(&spill_live, 1);
    atomic_fetch_add(&spill_made, 1);
    pthread_mutex_unlock(&spill_lock);
    return p;
}

static void spill_free(void *p, long slot)
{
    pthread_mutex_lock(&spill_lock);
    size_t len = spill_len[slot], i = (size_t)slot;
    atomic_store(&spill_at[i], SPILL_GONE);
    while (atomic_load(&spill_at[i]) == SPILL_GONE &&
           !atomic_load(&spill_at[(i + 1) % SPILL_SLOTS])) {
        atomic_store(&spill_at[i], NULL);
        atomic_fetch_sub(&spill_used, 1);
        i = (i + SPILL_SLOTS - 1) % SPILL_SLOTS;
    }
    atomic_fetch_sub(&spill_live, 1);
    pthread_mutex_unlock(&spill_lock);
    munmap(p, len); /* its address taken again only now */
}

/* The usable size of a block of the allocator's (at least what was asked): the allocator
 * set by cs_set_allocator hands out glibc's blocks (the command's, the tests'). */
static size_t malloc_size(void *p)
{
#ifdef __GLIBC__
    return p ? malloc_usable_size(p) : 0;
#else
    (void)p;
    return 0;
#endif
}

/* Set when an allocation of this thread failed or a library said it ran out of memory;
 * read (and cleared) by cs_take_nomem so that an error it caused is reported as what it
 * is. Per thread: the job runners gather their threads' flags themselves. */
static _Thread_local bool memory_failed;

void cs_note_nomem(void)
{
    memory_failed = true;
}

bool cs_take_nomem(void)
{
    bool failed = memory_failed;
    memory_failed = false;
    return failed;
}

void cs_set_allocator(const cs_allocator *allocator)
{
    if (allocator && allocator->malloc_fn && allocator->realloc_fn && allocator->free_fn)
        current = *allocator;
    else
        current = (cs_allocator){malloc, realloc, free};
}

void cs_memory_return(void)
{
#ifdef __GLIBC__
    if (current.free_fn == free)
        malloc_trim(0);
#endif
}

void *cs_malloc(size_t size)
{
    void *s = spill_alloc(size);
    if (s)
        return s;
    void *p = current.malloc_fn(size ? size : 1);
    if (!p)
        memory_failed = true;
    return p;
}

void *cs_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *s = spill_alloc(count * size);
    if (s) /* a new file's pages are zeros: written, each would go to disk */
        return s;
    void *p = cs_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

/* A spilled block resized: kept when it still holds size bytes of the spill's; else a
 * new block and a copy. */
static void *respill(void *ptr, long slot, size_t size)
{
    size_t had = spill_len[slot];
    if (size <= had && size >= atomic_load(&spill_min))
        return ptr; /* a spilled block does not shrink */
    void *p = cs_malloc(size);
    if (!p)
        return NULL;
    memcpy(p, ptr, had < size ? had : size);
    cs_free(ptr);
    return p;
}

/* A block of the allocator's grown into the spill, or NULL (then realloc's). */
static void *into_spill(void *ptr, size_t size)
{
    size_t had = malloc_size(ptr); /* 0 unknown: left to realloc */
    void *p = had ? spill_alloc(size) : NULL;
    if (p) {
        memcpy(p, ptr, had < size ? had : size);
        current.free_fn(ptr);
    }
    return p;
}

void *cs_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return cs_malloc(size);
    long slot = spilled(ptr);
    if (slot >= 0)
        return respill(ptr, slot, size);
    void *s = spills(size) ? into_spill(ptr, size) : NULL;
    if (s)
        return s;
    void *p = current.realloc_fn(ptr, size ? size : 1);
    if (!p)
        memory_failed = true;
    return p;
}

void *cs_reallocarray(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return cs_realloc(ptr, count * size);
}

void cs_free(void *ptr)
{
    long slot = spilled(ptr);
    if (slot >= 0)
        spill_free(ptr, slot);
    else if (ptr)
        current.free_fn(ptr);
}

char *cs_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = cs_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *cs_shrink(void *array, size_t n, size_t elem_size)
{
    if (!array || n == 0 || elem_size == 0 || n > SIZE_MAX / elem_size || spilled(array) >= 0)
        return array;
    void *p = current.realloc_fn(array, n * elem_size);
    return p ? p : array;
}

bool cs_grow(void **array, size_t *capacity, size_t need, size_t elem_size)
{
    if (need <= *capacity)
        return true;
    size_t cap = *capacity ? *capacity : 8;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    void *p = cs_reallocarray(*array, cap, elem_size);
    if (!p)
        return false;
    *array = p;
    *capacity = cap;
    return true;
}

bool cs_budget_take(size_t *left, size_t n)
{
    size_t have = __atomic_load_n(left, __ATOMIC_RELAXED);
    while (have >= n)
        if (__atomic_compare_exchange_n(left, &have, have - n, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return true;
    return false;
}

bool cs_grow_together(void **const *array, const size_t *size, size_t n, size_t *cap,
                      size_t need)
{
    if (need <= *cap)
        return true;
    size_t want = *cap > 32 ? 2 * *cap : 64;
    want = want > need ? want : need;
    for (size_t i = 0; i < n; i++) {
        void *p = cs_reallocarray(*array[i], want, size[i]);
        if (!p)
            return false;
        *array[i] = p;
    }
    *cap = want;
    return true;
}
