/*
 * shard_results.c — shard.bin: a shard's own residents' results, written by its run and
 * read back by careshed merge (the layout is the order of the calls below, one writer
 * and one reader side by side).
 */
#include "out/shard_results.h"

#include "out/files.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char MAGIC[8] = {'C', 'S', 'H', 'A', 'R', 'D', '\r', '\n'};
#define VERSION 1u
/* a text (an id) is at most this long: more is a damaged file */
#define MAX_TEXT (1u << 20)

_Static_assert(sizeof(double) == 8, "doubles are IEEE 754 binary64");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shard.bin is little-endian: add byte swapping for this machine"
#endif

/* ------------------------------------------------------------------ writing */

static void put(cs_buf *b, const void *p, size_t n)
{
    cs_buf_addn(b, p, n);
}

static void put_u64(cs_buf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

static void put_text(cs_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    put(b, &n, sizeof n);
    put(b, s, n);
}

/* The own points' indices in the study (the others compete only). */
static size_t own_points(const cs_study *s, size_t *own)
{
    size_t n = 0;
    for (size_t i = 0; i < s->dem.count; i++)
        if (!s->dem.own || s->dem.own[i])
            own[n++] = i;
    return n;
}

static void put_field(cs_buf *b, const cs_result *r, size_t f, const size_t *own, size_t n)
{
    for (size_t q = 0; q < n; q++)
        put(b, &r->dist_m[f][own[q]], sizeof(double));
    for (size_t q = 0; q < n; q++)
        put_u64(b, (uint64_t)(int64_t)r->nearest[f][own[q]]);
    /* the tied own points, by their place among the own points */
    const cs_ties *t = &r->ties[f];
    size_t count = 0, facs = 0;
    for (size_t i = 0, q = 0; i < t->count; i++) {
        while (q < n && own[q] < t->pt[i])
            q++;
        if (q < n && own[q] == t->pt[i]) {
            count++;
            facs += t->start[i + 1] - t->start[i];
        }
    }
    put_u64(b, count);
    put_u64(b, facs);
    for (size_t i = 0, q = 0; i < t->count; i++) {
        while (q < n && own[q] < t->pt[i])
            q++;
        if (q == n || own[q] != t->pt[i])
            continue;
        put_u64(b, q);
        put_u64(b, t->start[i + 1] - t->start[i]);
        for (size_t j = t->start[i]; j < t->start[i + 1]; j++)
            put_u64(b, (uint64_t)(int64_t)t->fac[j]);
    }
}

static void put_results(cs_buf *b, const cs_result *r, const size_t *own, size_t n)
{
    const cs_study *s = r->study;
    uint32_t version = VERSION;
    put(b, MAGIC, sizeof MAGIC);
    put(b, &version, sizeof version);
    put_u64(b, (uint64_t)s->settings.shard_part);
    put_u64(b, (uint64_t)s->settings.shard_parts);
    put_text(b, s->settings.shard_cut ? s->settings.shard_cut : "");
    put_u64(b, r->K);
    for (size_t k = 0; k < r->K; k++) {
        put_text(b, s->settings.kinds[k].id);
        put_u64(b, s->settings.kinds[k].measures);
        put_u64(b, r->access && r->access[k] ? 1 : 0);
    }
    put_u64(b, s->fac.count);
    for (size_t f = 0; f < s->fac.count; f++)
        put_text(b, s->fac.id[f]);
    put_u64(b, n);
    for (size_t q = 0; q < n; q++)
        put(b, &s->dem.x[own[q]], sizeof(double));
    for (size_t q = 0; q < n; q++)
        put(b, &s->dem.y[own[q]], sizeof(double));
    for (size_t m = 0; m < CS_MEASURES; m++)
        for (size_t k = 0; k < r->K; k++)
            if (r->dist_m[cs_res_field(r, m, k)])
                put_field(b, r, cs_res_field(r, m, k), own, n);
    for (size_t k = 0; k < r->K; k++) {
        if (!r->access || !r->access[k])
            continue;
        for (size_t q = 0; q < n; q++)
            put(b, &r->access[k][own[q]], sizeof(double));
        put(b, r->fac_ratio[k], s->fac.count * sizeof(double));
    }
}

cs_status cs_shard_results_write(cs_context *ctx, const cs_result *r, const char *out_dir)
{
    const cs_study *s = r->study;
    size_t *own = cs_calloc(s->dem.count + 1, sizeof *own);
    if (!own)
        return cs_nomem(ctx);
    size_t n = own_points(s, own);
    cs_buf b;
    cs_buf_init(&b);
    put_results(&b, r, own, n);
    cs_free(own);
    cs_outset *set = NULL;
    cs_status st = b.failed ? cs_nomem(ctx) : cs_outset_begin_folder(ctx, out_dir, "run", &set);
    if (st == CS_OK)
        st = cs_outset_add(ctx, set, CS_SHARD_RESULTS_FILE, b.data, b.len);
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    if (set && st != CS_OK)
        cs_outset_abort(set);
    cs_outset_destroy(set);
    cs_buf_free(&b);
    return st;
}

/* ------------------------------------------------------------------ reading */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad, nomem;
} reader;

static bool take(reader *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(out, 0, n);
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}

static uint64_t take_u64(reader *r)
{
    uint64_t v = 0;
    take(r, &v, sizeof v);
    return v;
}

/* A count of items of `size` bytes each that the rest of the file can hold. */
static size_t take_count(reader *r, size_t size)
{
    uint64_t v = take_u64(r);
    if (v > (uint64_t)(r->end - r->p) / (size ? size : 1)) {
        r->bad = true;
        return 0;
    }
    return (size_t)v;
}

static char *take_text(reader *r)
{
    uint32_t n = 0;
    if (!take(r, &n, sizeof n) || n > MAX_TEXT || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    char *s = cs_malloc((size_t)n + 1);
    if (!s) {
        r->nomem = true;
        return NULL;
    }
    take(r, s, n);
    s[n] = 0;
    return s;
}

static void *take_array(reader *r, size_t n, size_t size)
{
    void *a = cs_calloc(n + 1, size);
    if (!a) {
        r->nomem = true;
        return NULL;
    }
    take(r, a, n * size);
    return a;
}

static long *take_longs(reader *r, size_t n)
{
    long *a = cs_calloc(n + 1, sizeof *a);
    if (!a) {
        r->nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (long)(int64_t)take_u64(r);
    return a;
}

static void take_ties(reader *r, size_t n, size_t F, cs_ties *t)
{
    size_t count = take_count(r, 16), facs = take_count(r, 8);
    long *fac = cs_calloc(facs + 1, sizeof *fac);
    if (!fac) {
        r->nomem = true;
        return;
    }
    size_t last = 0;
    for (size_t i = 0; i < count && !r->bad && !r->nomem; i++) {
        size_t pt = (size_t)take_u64(r), k = take_count(r, 8);
        if (pt >= n || (i && pt <= last) || k < 2 || k > facs)
            r->bad = true;
        for (size_t j = 0; j < k && !r->bad; j++) {
            fac[j] = (long)(int64_t)take_u64(r);
            r->bad = fac[j] < 0 || (size_t)fac[j] >= F || (j && fac[j] <= fac[j - 1]);
        }
        if (!r->bad && !cs_ties_add(t, pt, fac, k))
            r->nomem = true;
        last = pt;
    }
    cs_free(fac);
}

static void take_field(reader *r, cs_shard_results *s, size_t f)
{
    s->dist_m[f] = take_array(r, s->n, sizeof(double));
    s->nearest[f] = take_longs(r, s->n);
    for (size_t q = 0; s->nearest[f] && q < s->n; q++)
        if (s->nearest[f][q] < -1 || s->nearest[f][q] >= (long)s->F)
            r->bad = true;
    take_ties(r, s->n, s->F, &s->ties[f]);
}

static void take_results(reader *r, cs_shard_results *s)
{
    char magic[sizeof MAGIC];
    uint32_t version = 0;
    if (!take(r, magic, sizeof magic) || memcmp(magic, MAGIC, sizeof MAGIC) != 0 ||
        !take(r, &version, sizeof version) || version != VERSION) {
        r->bad = true;
        return;
    }
    s->part = (long)take_u64(r);
    s->parts = (long)take_u64(r);
    s->cut = take_text(r);
    s->K = take_count(r, 20);
    s->kind_id = cs_calloc(s->K + 1, sizeof *s->kind_id);
    s->measures = cs_calloc(s->K + 1, sizeof *s->measures);
    s->has_access = cs_calloc(s->K + 1, sizeof *s->has_access);
    s->dist_m = cs_calloc(CS_MEASURES * s->K + 1, sizeof *s->dist_m);
    s->nearest = cs_calloc(CS_MEASURES * s->K + 1, sizeof *s->nearest);
    s->ties = cs_calloc(CS_MEASURES * s->K + 1, sizeof *s->ties);
    s->access = cs_calloc(s->K + 1, sizeof *s->access);
    s->ratio = cs_calloc(s->K + 1, sizeof *s->ratio);
    if (!s->kind_id || !s->measures || !s->has_access || !s->dist_m || !s->nearest ||
        !s->ties || !s->access || !s->ratio) {
        r->nomem = true;
        return;
    }
    for (size_t k = 0; k < s->K && !r->bad && !r->nomem; k++) {
        s->kind_id[k] = take_text(r);
        s->measures[k] = (unsigned)take_u64(r) & (CS_MEASURE_STRAIGHT | CS_MEASURE_NETWORK |
                                                  CS_MEASURE_MATRIX);
        s->has_access[k] = take_u64(r) != 0;
    }
    s->F = take_count(r, 4);
    s->fac_id = cs_calloc(s->F + 1, sizeof *s->fac_id);
    if (!s->fac_id)
        r->nomem = true;
    for (size_t f = 0; f < s->F && !r->bad && !r->nomem; f++)
        s->fac_id[f] = take_text(r);
    s->n = take_count(r, 16);
    if (r->bad || r->nomem)
        return;
    s->x = take_array(r, s->n, sizeof(double));
    s->y = take_array(r, s->n, sizeof(double));
    for (size_t m = 0; m < CS_MEASURES; m++)
        for (size_t k = 0; k < s->K && !r->bad && !r->nomem; k++)
            if (s->measures[k] & (1u << m))
                take_field(r, s, m * s->K + k);
    for (size_t k = 0; k < s->K && !r->bad && !r->nomem; k++) {
        if (!s->has_access[k])
            continue;
        s->access[k] = take_array(r, s->n, sizeof(double));
        s->ratio[k] = take_array(r, s->F, sizeof(double));
    }
    if (r->p != r->end)
        r->bad = true; /* more than was written */
}

/* The whole file into *data (cs_free). */
static cs_status read_whole(cs_context *ctx, const char *path, char **data, size_t *len)
{
    cs_where w = {.file = path};
    FILE *f = fopen(path, "rb");
    struct stat info;
    if (!f || fstat(fileno(f), &info) != 0 || !S_ISREG(info.st_mode)) {
        int err = f ? EISDIR : errno;
        if (f)
            fclose(f);
        return cs_error(ctx, CS_ERR_INPUT, &w, "run the shard (careshed run on its study.yaml)",
                        "cannot read the shard's results (%s)", strerror(err));
    }
    cs_input_note(ctx, path, "shard results");
    *len = (size_t)info.st_size;
    *data = cs_malloc(*len + 1);
    if (!*data) {
        fclose(f);
        return cs_nomem(ctx);
    }
    size_t got = fread(*data, 1, *len, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (got == *len && !failed)
        return CS_OK;
    cs_free(*data);
    *data = NULL;
    return cs_error(ctx, CS_ERR_INPUT, &w, "check the disk, or run the shard again",
                    "read error");
}

cs_status cs_shard_results_read(cs_context *ctx, const char *path, cs_shard_results *out)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *data = NULL;
    cs_where w = {.file = path};
    cs_status st = read_whole(ctx, path, &data, &len);
    if (st != CS_OK)
        return st;
    reader r = {(const unsigned char *)data, (const unsigned char *)data + len, false, false};
    take_results(&r, out);
    cs_free(data);
    if (r.nomem)
        st = cs_nomem(ctx);
    else if (r.bad)
        st = cs_error(ctx, CS_ERR_INPUT, &w, "run the shard again (careshed run on its "
                      "study.yaml)", "not a shard's results, or damaged or cut short");
    if (st != CS_OK)
        cs_shard_results_free(out);
    return st;
}

void cs_shard_results_free(cs_shard_results *s)
{
    for (size_t k = 0; s->kind_id && k < s->K; k++)
        cs_free(s->kind_id[k]);
    for (size_t f = 0; s->fac_id && f < s->F; f++)
        cs_free(s->fac_id[f]);
    for (size_t i = 0; i < CS_MEASURES * s->K; i++) {
        if (s->dist_m)
            cs_free(s->dist_m[i]);
        if (s->nearest)
            cs_free(s->nearest[i]);
        if (s->ties)
            cs_ties_free(&s->ties[i]);
    }
    for (size_t k = 0; k < s->K; k++) {
        if (s->access)
            cs_free(s->access[k]);
        if (s->ratio)
            cs_free(s->ratio[k]);
    }
    cs_free(s->cut);
    cs_free(s->kind_id);
    cs_free(s->measures);
    cs_free(s->has_access);
    cs_free(s->fac_id);
    cs_free(s->x);
    cs_free(s->y);
    cs_free(s->dist_m);
    cs_free(s->nearest);
    cs_free(s->ties);
    cs_free(s->access);
    cs_free(s->ratio);
    memset(s, 0, sizeof *s);
}
