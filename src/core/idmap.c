/*
 * idmap.c — text ids to indices, for joining tables by id (a cost matrix's rows to
 * demand points and facilities). Linear probing on an FNV-1a hash, kept at most half
 * full.
 */
#include "core/core.h"

#include <stdint.h>
#include <string.h>

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot holding key (of hash h), or the empty slot where it would go. A slot keeps
 * its key's high hash bits beside the key and value (one cache line), so other keys
 * are passed over without reading their text (a cache miss each in a large table). */
static size_t slot_of(const cs_idmap *m, const char *key, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    uint32_t tag = (uint32_t)(h >> 32);
    while (m->slot[i].key && (m->slot[i].tag != tag || strcmp(m->slot[i].key, key) != 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static bool grow(cs_idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    cs_idmap bigger = {m->count, cap, cs_calloc(cap, sizeof(cs_idslot))};
    if (!bigger.slot)
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i].key)
            bigger.slot[slot_of(&bigger, m->slot[i].key, hash_text(m->slot[i].key))] =
                m->slot[i];
    cs_idmap_free(m);
    *m = bigger;
    return true;
}

long cs_idmap_put(cs_idmap *m, const char *key, long value)
{
    uint64_t h = hash_text(key);
    if (m->cap) {
        size_t i = slot_of(m, key, h);
        if (m->slot[i].key)
            return m->slot[i].value;
    }
    if (2 * (m->count + 1) > m->cap && !grow(m))
        return -2;
    m->slot[slot_of(m, key, h)] = (cs_idslot){key, value, (uint32_t)(h >> 32)};
    m->count++;
    return -1;
}

long cs_idmap_get(const cs_idmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    size_t i = slot_of(m, key, hash_text(key));
    return m->slot[i].key ? m->slot[i].value : -1;
}

void cs_idmap_free(cs_idmap *m)
{
    cs_free(m->slot);
    memset(m, 0, sizeof *m);
}
