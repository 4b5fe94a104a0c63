/*
 * ties.c — the demand points whose nearest facility is not one but several at the same
 * cost (see cs_ties in core.h). Kept apart from the cost fields, which hold one nearest
 * facility per point: ties are rare, and only the few tied points pay for a list.
 */
#include "core/core.h"

#include <assert.h>
#include <string.h>

bool cs_ties_add(cs_ties *t, size_t pt, const long *fac, size_t n)
{
    assert(t->count == 0 || pt > t->pt[t->count - 1]);
    size_t used = t->count ? t->start[t->count] : 0;
    if (!cs_grow((void **)&t->pt, &t->pt_cap, t->count + 1, sizeof *t->pt) ||
        !cs_grow((void **)&t->start, &t->start_cap, t->count + 2, sizeof *t->start) ||
        !cs_grow((void **)&t->fac, &t->fac_cap, used + n, sizeof *t->fac))
        return false;
    t->start[t->count] = used;
    memcpy(t->fac + used, fac, n * sizeof *fac);
    t->pt[t->count++] = pt;
    t->start[t->count] = used + n;
    return true;
}

void cs_ties_free(cs_ties *t)
{
    if (!t)
        return;
    cs_free(t->pt);
    cs_free(t->start);
    cs_free(t->fac);
    memset(t, 0, sizeof *t);
}
