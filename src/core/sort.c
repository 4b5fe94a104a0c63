/*
 * sort.c — sorting millions of items by an integer key without comparisons, for the
 * orders careshed walks points in (Morton order for the nearest-facility searches,
 * the Hilbert curve for the FlatGeobuf index).
 */
#include "core/core.h"

#include <stdint.h>

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
