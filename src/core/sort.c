/*
 * sort.c — sorting millions of items by an integer key without comparisons, for the
 * orders careshed walks points in (Morton order for the nearest-facility searches,
 * the Hilbert curve for the FlatGeobuf index, the ids a query finds).
 */
#include "core/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

bool cs_sort_ids(long *ids, size_t n, size_t below)
{
    if (n < 256) { /* a few passes over 256 counts would cost more */
        qsort(ids, n, sizeof *ids, compare_long);
        return true;
    }
    long *tmp = cs_calloc(n, sizeof *tmp), *a = ids, *b = tmp;
    if (!tmp)
        return false;
    for (int shift = 0; shift < 64 && (below - 1) >> shift; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[(((unsigned long)a[i] >> shift) & 0xff) + 1]++;
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++)
            b[count[((unsigned long)a[i] >> shift) & 0xff]++] = a[i];
        long *t = a;
        a = b;
        b = t;
    }
    if (a != ids)
        memcpy(ids, a, n * sizeof *ids);
    cs_free(tmp);
    return true;
}

uint64_t *cs_radix_sort_upper(uint64_t *a, uint64_t *tmp, size_t n, int key_bits)
{
    for (int shift = 32; shift < 32 + key_bits; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xff) + 1]++;
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xff]++] = a[i];
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}
