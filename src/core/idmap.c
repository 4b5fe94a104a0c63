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

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const cs_idmap *m, const char *key)
{
    size_t i = (size_t)hash_text(key) & (m->cap - 1);
    while (m->key[i] && strcmp(m->key[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static bool grow(cs_idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    cs_idmap bigger = {m->count, cap, cs_calloc(cap, sizeof(char *)), cs_calloc(cap, sizeof(long))};
    if (!bigger.key || !bigger.value) {
        cs_idmap_free(&bigger);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i])
            continue;
        size_t j = slot_of(&bigger, m->key[i]);
        bigger.key[j] = m->key[i];
        bigger.value[j] = m->value[i];
    }
    cs_idmap_free(m);
    *m = bigger;
    return true;
}

long cs_idmap_put(cs_idmap *m, const char *key, long value)
{
    if (m->cap) {
        size_t i = slot_of(m, key);
        if (m->key[i])
            return m->value[i];
    }
    if (2 * (m->count + 1) > m->cap && !grow(m))
        return -2;
    size_t i = slot_of(m, key);
    m->key[i] = key;
    m->value[i] = value;
    m->count++;
    return -1;
}

long cs_idmap_get(const cs_idmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    size_t i = slot_of(m, key);
    return m->key[i] ? m->value[i] : -1;
}

void cs_idmap_free(cs_idmap *m)
{
    cs_free(m->key);
    cs_free(m->value);
    memset(m, 0, sizeof *m);
}
