/*
 * alloc.c — the one door every library allocation goes through, so that a test can
 * swap in an allocator that fails after N calls and check for clean errors.
 */
#include "core/core.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cs_allocator current = {malloc, realloc, free};

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
    void *p = current.malloc_fn(size ? size : 1);
    if (!p)
        memory_failed = true;
    return p;
}

void *cs_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = cs_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *cs_realloc(void *ptr, size_t size)
{
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
    if (ptr)
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
    if (!array || n == 0 || elem_size == 0 || n > SIZE_MAX / elem_size)
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
