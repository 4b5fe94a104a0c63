/*
 * names.c — small helpers on names shared by the library and the CLI: the edit
 * distance of "did you mean" and the test for a path with a scheme.
 */
#include "core/core.h"

#include <stdint.h>

enum { MAX_COMPARED = 40 }; /* longer names are never suggested */

size_t cs_edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    size_t row[MAX_COMPARED + 1];
    if (an > MAX_COMPARED || bn > MAX_COMPARED)
        return SIZE_MAX;
    for (size_t j = 0; j <= bn; j++)
        row[j] = j;
    for (size_t i = 1; i <= an; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[bn];
}

static int is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int cs_path_has_scheme(const char *path)
{
    size_t n = 0;
    while (is_letter(path[n]) ||
           (n > 0 && ((path[n] >= '0' && path[n] <= '9') || path[n] == '+' || path[n] == '-' ||
                      path[n] == '.')))
        n++;
    return n >= 2 && path[n] == ':';
}
