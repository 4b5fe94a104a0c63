/*
 * fgb.c — FlatGeobuf points written directly (fgb.h). FlatBuffers are laid out here by
 * hand, front to back: a table's offsets to its strings and vectors are patched once
 * those are placed after it (FlatBuffers offsets must point forward; a table's offset
 * to its vtable is signed, and the vtable is put before it). Scalars are aligned to
 * their size within their buffer, as FlatBuffers' verifier (which GDAL runs) wants.
 */
#include "out/fgb.h"

#include "geom/hilbert.h"

#include <math.h>
#include <string.h>

#define NODE_SIZE 16    /* children per index node: FlatGeobuf's default */
#define NODE_BYTES 40   /* an index node: min x, min y, max x, max y, offset */
#define HILBERT_MAX 65535

struct cs_fgb {
    cs_fgb_sink sink; /* where the bytes go */
    void *user;
    cs_buf front;     /* the header and the index, given to the sink last, at offset 0 */
    cs_buf block;     /* a block of features, given to the sink as it is done */
    uint64_t feature_bytes; /* the features' bytes given so far */
    bool sink_failed;
    const cs_fgb_column *cols;
    size_t ncol;
    const double *lon, *lat;
    size_t n;
    size_t *order;
    double *x, *y;      /* the points' lon, lat in the features' order */
    size_t features_at; /* where the features start */
    uint64_t *offsets;  /* per feature written: its offset from features_at */
    size_t written;
    int threads; /* encoding (team size) */
    bool failed;
    uint16_t hilbert[CS_HILBERT_TABLE]; /* cs_hilbert_table */
};

/* ------------------------------------------------------- little-endian bytes */

/* v's low `bytes` bytes at p, least significant first; returns the end. On a
 * little-endian machine that is a copy, which the compiler makes one store. */
static inline unsigned char *put_le(unsigned char *p, uint64_t v, size_t bytes)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, bytes);
#else
    for (size_t k = 0; k < bytes; k++)
        p[k] = (unsigned char)(v >> (8 * k));
#endif
    return p + bytes;
}
static void put_at(cs_buf *b, size_t at, uint64_t v, size_t bytes)
{
    put_le((unsigned char *)b->data + at, v, bytes);
}
static void add_le(cs_buf *b, uint64_t v, size_t bytes)
{
    unsigned char le[8];
    put_le(le, v, bytes);
    cs_buf_addn(b, (const char *)le, bytes);
}
/* Zero bytes up to a multiple of `to` from base (none once the buffer has failed:
 * it no longer grows). */
static void pad(cs_buf *b, size_t base, size_t to)
{
    while (!b->failed && (b->len - base) % to)
        cs_buf_addc(b, 0);
}
/* The forward offset at `field` (from base) to the current end, which comes next. */
static void patch_offset(cs_buf *b, size_t field)
{
    if (!b->failed)
        put_at(b, field, b->len - field, 4);
}
/* A string (FlatBuffers: length, bytes, NUL), its offset patched into field. */
static void add_string(cs_buf *b, size_t base, size_t field, const char *s)
{
    pad(b, base, 4);
    patch_offset(b, field);
    size_t n = strlen(s);
    add_le(b, n, 4);
    cs_buf_addn(b, s, n + 1);
}
/* A vtable of nfields uint16 offsets (0: absent) for a table of table_bytes; returns
 * where it starts. */
static size_t add_vtable(cs_buf *b, size_t base, const uint16_t *fields, size_t nfields,
                         size_t table_bytes)
{
    pad(b, base, 2);
    size_t at = b->len;
    add_le(b, 4 + 2 * nfields, 2);
    add_le(b, table_bytes, 2);
    for (size_t i = 0; i < nfields; i++)
        add_le(b, fields[i], 2);
    return at;
}
/* A table's start: its signed offset back to the vtable at vtable_at. */
static size_t begin_table(cs_buf *b, size_t base, size_t vtable_at, size_t align)
{
    pad(b, base, align);
    size_t at = b->len;
    add_le(b, (uint32_t)(int32_t)(at - vtable_at), 4);
    return at;
}

/* ---------------------------------------------------------------- header */

/* Header fields by FlatGeobuf's schema: name 0, envelope 1, geometry_type 2,
 * columns 7, features_count 8, index_node_size 9, crs 10. The table: soffset, name,
 * features_count (8-aligned), envelope, columns, crs, index_node_size, geometry_type. */
static size_t header_table(cs_fgb *w, size_t base, const char *name, const double env[4])
{
    cs_buf *b = &w->front;
    static const uint16_t fields[] = {4, 16, 30, 0, 0, 0, 0, 20, 8, 28, 24};
    size_t vt = add_vtable(b, base, fields, sizeof fields / sizeof fields[0], 32);
    size_t t = begin_table(b, base, vt, 8);
    add_le(b, 0, 4);           /* name, patched */
    add_le(b, w->n, 8);        /* features_count */
    add_le(b, 0, 4);           /* envelope, patched */
    add_le(b, 0, 4);           /* columns, patched */
    add_le(b, 0, 4);           /* crs, patched */
    add_le(b, NODE_SIZE, 2);   /* index_node_size */
    add_le(b, 1, 1);           /* geometry_type: Point */
    add_le(b, 0, 1);
    add_string(b, base, t + 4, name);
    /* envelope: [double], its elements 8-aligned */
    while (!b->failed && (b->len + 4 - base) % 8)
        cs_buf_addc(b, 0);
    patch_offset(b, t + 16);
    add_le(b, 4, 4);
    for (int i = 0; i < 4; i++)
        add_le(b, cs_double_bits(env[i]), 8);
    /* columns: [Column], each a table of name (0) and type (1), sharing one vtable */
    pad(b, base, 4);
    patch_offset(b, t + 20);
    add_le(b, w->ncol, 4);
    size_t slots = b->len;
    for (size_t c = 0; c < w->ncol; c++)
        add_le(b, 0, 4);
    static const uint16_t col_fields[] = {4, 8};
    size_t col_vt = add_vtable(b, base, col_fields, 2, 12);
    for (size_t c = 0; c < w->ncol; c++) {
        pad(b, base, 4);
        patch_offset(b, slots + 4 * c);
        size_t ct = begin_table(b, base, col_vt, 4);
        add_le(b, 0, 4); /* name, patched */
        add_le(b, w->cols[c].type, 1);
        cs_buf_addn(b, "\0\0\0", 3);
        add_string(b, base, ct + 4, w->cols[c].name);
    }
    /* crs: org (0) "EPSG", code (1) 4326 */
    static const uint16_t crs_fields[] = {4, 8};
    size_t crs_vt = add_vtable(b, base, crs_fields, 2, 12);
    pad(b, base, 4);
    patch_offset(b, t + 24);
    size_t ct = begin_table(b, base, crs_vt, 4);
    add_le(b, 0, 4);
    add_le(b, 4326, 4);
    add_string(b, base, ct + 4, "EPSG");
    return t;
}

static void write_header(cs_fgb *w, const char *name, const double env[4])
{
    cs_buf *b = &w->front;
    static const char magic[8] = {'f', 'g', 'b', 3, 'f', 'g', 'b', 0};
    cs_buf_addn(b, magic, 8);
    size_t size_at = b->len;
    add_le(b, 0, 4); /* the header's size, patched */
    size_t base = b->len;
    add_le(b, 0, 4); /* root offset, patched */
    size_t t = header_table(w, base, name, env);
    if (b->failed)
        return;
    put_at(b, base, t - base, 4);
    put_at(b, size_at, b->len - base, 4);
}

/* ------------------------------------------------------------- the order */

/* The points' envelope (NaNs left out, as fmin and fmax leave them). */
static void envelope(const double *lon, const double *lat, size_t n, double env[4])
{
    double e0 = INFINITY, e1 = INFINITY, e2 = -INFINITY, e3 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        e0 = lon[i] < e0 ? lon[i] : e0;
        e1 = lat[i] < e1 ? lat[i] : e1;
        e2 = lon[i] > e2 ? lon[i] : e2;
        e3 = lat[i] > e3 ? lat[i] : e3;
    }
    env[0] = e0, env[1] = e1, env[2] = e2, env[3] = e3;
}

/* The points sorted along the Hilbert curve over env (ties by their order). */
static bool hilbert_order(cs_fgb *w, const double env[4])
{
    uint64_t *keys = cs_calloc(w->n + 1, sizeof *keys);
    if (!keys)
        return false;
    cs_hilbert_table(w->hilbert);
    double width = env[2] - env[0], height = env[3] - env[1];
    long n = (long)w->n;
    bool parallel = w->threads > 1 && n > 100000;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(w->threads) if (parallel)
#endif
    for (long i = 0; i < n; i++) {
        double fx = width > 0 ? (w->lon[i] - env[0]) / width : 0;
        double fy = height > 0 ? (w->lat[i] - env[1]) / height : 0;
        uint32_t x = (uint32_t)(fx * HILBERT_MAX), y = (uint32_t)(fy * HILBERT_MAX);
        /* the curve's index (32 bits) above the point's (below 2^32 points) */
        keys[i] = (uint64_t)cs_hilbert(w->hilbert, x, y) << 32 | (uint64_t)i;
    }
    uint64_t *tmp = cs_calloc(w->n + 1, sizeof *tmp);
    const uint64_t *sorted = tmp ? cs_radix_sort_upper(keys, tmp, w->n, 32) : NULL;
    /* the positions are read in that order by every feature and leaf: gathered once,
     * in a loop that fetches many points at once (the features' own reads waited on
     * each) */
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(w->threads) if (parallel)
#endif
    for (long r = 0; r < (sorted ? n : 0); r++) {
        size_t i = (size_t)(sorted[r] & 0xffffffffu);
        w->order[r] = i;
        w->x[r] = w->lon[i];
        w->y[r] = w->lat[i];
    }
    cs_free(keys);
    cs_free(tmp);
    return sorted != NULL;
}

/* ------------------------------------------------------------- the index */

/* Nodes per level of the packed tree, leaves first; returns the level count. */
static size_t tree_levels(size_t n, size_t *level_nodes, size_t max_levels)
{
    size_t levels = 0;
    level_nodes[levels++] = n;
    do { /* at least one level above the leaves, as FlatGeobuf's own writer has */
        n = (n + NODE_SIZE - 1) / NODE_SIZE;
        level_nodes[levels++] = n;
    } while (n != 1 && levels < max_levels);
    return levels;
}

static size_t tree_nodes(size_t n)
{
    size_t level_nodes[64], total = 0;
    size_t levels = n ? tree_levels(n, level_nodes, 64) : 0;
    for (size_t l = 0; l < levels; l++)
        total += level_nodes[l];
    return total;
}

/* The index goes to the sink in pieces of about this many bytes, after the header. */
#define INDEX_PIECE ((size_t)4 << 20)

static void add_node(cs_buf *b, const double box[4], uint64_t offset)
{
    for (int i = 0; i < 4; i++)
        add_le(b, cs_double_bits(box[i]), 8);
    add_le(b, offset, 8);
}

/* Give the front (the header, then the index nodes added so far) to the sink once it
 * holds a piece, or whatever it holds when last; false when the sink failed. */
static bool flush_front(cs_fgb *w, uint64_t *at, bool last)
{
    cs_buf *b = &w->front;
    if (b->failed || w->sink_failed || (!last && b->len < INDEX_PIECE))
        return !w->sink_failed;
    w->sink_failed = !w->sink(w->user, b->data, b->len, *at);
    *at += b->len;
    cs_buf_clear(b);
    return !w->sink_failed;
}

/* Leaf r's box: its point. */
static void leaf_box(const cs_fgb *w, size_t r, double box[4])
{
    box[0] = box[2] = w->x[r];
    box[1] = box[3] = w->y[r];
}

/*
 * The packed tree after the header, root first: the leaves (one per feature, in the
 * features' order, offset = the feature's byte offset) are the last level; each node
 * above covers NODE_SIZE nodes of the level below and holds the index of the first of
 * them. The levels above the leaves (a fifteenth of the nodes) are worked out first,
 * from the bottom; then every node is given to the sink in order, a piece at a time,
 * the leaves straight from the points.
 */
static void write_index(cs_fgb *w)
{
    size_t level_nodes[64];
    size_t levels = tree_levels(w->n, level_nodes, 64);
    size_t total = tree_nodes(w->n), start[64];
    for (size_t l = 0, at = total; l < levels; l++) { /* level l follows those above */
        at -= level_nodes[l];
        start[l] = at;
    }
    double(*box)[4] = cs_calloc(start[0] + 1, sizeof *box); /* the nodes above the leaves */
    if (!box) {
        w->front.failed = true;
        return;
    }
    for (size_t l = 0; l + 1 < levels; l++)
        for (size_t p = 0; p < level_nodes[l + 1]; p++) {
            double *parent = box[start[l + 1] + p];
            parent[0] = parent[1] = INFINITY;
            parent[2] = parent[3] = -INFINITY;
            size_t first = p * NODE_SIZE;
            size_t end = first + NODE_SIZE < level_nodes[l] ? first + NODE_SIZE : level_nodes[l];
            for (size_t c = first; c < end; c++) {
                double leaf[4], *child = leaf;
                if (l == 0)
                    leaf_box(w, c, leaf);
                else
                    child = box[start[l] + c];
                parent[0] = fmin(parent[0], child[0]);
                parent[1] = fmin(parent[1], child[1]);
                parent[2] = fmax(parent[2], child[2]);
                parent[3] = fmax(parent[3], child[3]);
            }
        }
    uint64_t at = 0;
    for (size_t l = levels - 1; l > 0; l--)
        for (size_t p = 0; p < level_nodes[l] && flush_front(w, &at, false); p++)
            add_node(&w->front, box[start[l] + p], start[l - 1] + p * NODE_SIZE);
    for (size_t r = 0; r < w->n && flush_front(w, &at, false); r++) {
        double leaf[4];
        leaf_box(w, r, leaf);
        add_node(&w->front, leaf, w->offsets[r]);
    }
    flush_front(w, &at, true);
    cs_free(box);
}

/* ------------------------------------------------------------ the features */

static void free_writer(cs_fgb *w)
{
    cs_buf_free(&w->front);
    cs_buf_free(&w->block);
    cs_free(w->order);
    cs_free(w->offsets);
    cs_free(w->x);
    cs_free(w->y);
    cs_free(w);
}

cs_fgb *cs_fgb_begin(cs_fgb_sink sink, void *user, const char *name, const cs_fgb_column *cols,
                     size_t ncol, const double *lon, const double *lat, size_t n, int threads)
{
    cs_fgb *w = cs_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    *w = (cs_fgb){.sink = sink, .user = user, .cols = cols, .ncol = ncol, .lon = lon,
                  .lat = lat, .n = n};
    cs_buf_init(&w->front);
    cs_buf_init(&w->block);
    cs_fgb_set_threads(w, threads);
    w->order = cs_calloc(n + 1, sizeof *w->order);
    w->offsets = cs_calloc(n + 1, sizeof *w->offsets);
    w->x = cs_calloc(n + 1, sizeof *w->x);
    w->y = cs_calloc(n + 1, sizeof *w->y);
    double env[4];
    envelope(lon, lat, n, env);
    if (!n)
        env[0] = env[1] = env[2] = env[3] = 0;
    if (!w->order || !w->offsets || !w->x || !w->y || !hilbert_order(w, env)) {
        free_writer(w);
        return NULL;
    }
    write_header(w, name, env);
    /* the index follows, written at the end; FlatGeobuf writes none for no features */
    w->features_at = w->front.len + (n ? tree_nodes(n) * NODE_BYTES : 0);
    return w;
}

void cs_fgb_set_threads(cs_fgb *w, int threads)
{
    w->threads = cs_team_size(threads);
}

const size_t *cs_fgb_order(const cs_fgb *w)
{
    return w->order;
}

/*
 * A feature's fixed part, from its buffer's start (after the size prefix):
 *   0 root offset -> 12 | 4 vtable (geometry 0 at +4, properties 1 at +8), table 12
 *  12 table: soffset 8, geometry -> 32, properties -> 64
 *  24 geometry's vtable (ends absent, xy 1 at +4), table 8
 *  32 geometry table: soffset 8, xy -> 44 | 40 padding
 *  44 xy: count 2, then x, y at 48 (8-aligned) | 64 properties: length, bytes
 */
#define FIXED 72 /* the size prefix and the fixed part */
static const unsigned char fixed_part[52] = {
    0, 0, 0, 0,              /* size prefix, set per feature */
    12, 0, 0, 0,             /* root */
    8, 0, 12, 0, 4, 0, 8, 0, /* feature's vtable */
    8, 0, 0, 0,              /* soffset */
    16, 0, 0, 0,             /* geometry: 32 - 16 */
    44, 0, 0, 0,             /* properties: 64 - 20 */
    8, 0, 8, 0, 0, 0, 4, 0,  /* geometry's vtable */
    8, 0, 0, 0,              /* soffset */
    8, 0, 0, 0,              /* xy: 44 - 36 */
    0, 0, 0, 0,              /* padding */
    2, 0, 0, 0               /* xy's count */
};

const char **cs_fgb_strings(char *const *texts, size_t n, char **block)
{
    size_t bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += texts[i] ? 4 + strlen(texts[i]) + 1 : 0;
    const char **out = cs_calloc(n + 1, sizeof *out);
    *block = cs_malloc(bytes);
    if (!out || !*block) {
        cs_free(out);
        cs_free(*block);
        *block = NULL;
        return NULL;
    }
    unsigned char *p = (unsigned char *)*block;
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            continue;
        size_t len = strlen(texts[i]);
        p = put_le(p, len, 4);
        memcpy(p, texts[i], len + 1);
        out[i] = (const char *)p;
        p += len + 1;
    }
    return out;
}

/* A cs_fgb_strings text's length. */
static inline size_t text_length(const char *text)
{
    const unsigned char *p = (const unsigned char *)text - 4;
    return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

/* Row q's properties from p on; returns the end. Room was made for them. */
static unsigned char *put_properties(const cs_fgb *w, unsigned char *p, size_t q,
                                     const cs_fgb_value *values, size_t stride)
{
    for (size_t c = 0; c < w->ncol; c++) {
        const cs_fgb_value *v = &values[c * stride + q];
        cs_fgb_type type = w->cols[c].type;
        if (type == CS_FGB_STRING ? !v->text : isnan(v->number))
            continue; /* null: absent */
        p = put_le(p, c, 2);
        switch (type) {
        case CS_FGB_STRING: { /* its length and bytes, as they are before it */
            size_t len = text_length(v->text);
            memcpy(p, v->text - 4, 4 + len);
            p += 4 + len;
            break;
        }
        case CS_FGB_BOOL: *p++ = v->number != 0; break;
        case CS_FGB_LONG: p = put_le(p, (uint64_t)(int64_t)v->number, 8); break;
        case CS_FGB_INT: p = put_le(p, (uint32_t)(int32_t)v->number, 4); break;
        default: p = put_le(p, cs_double_bits(v->number), 8); break;
        }
    }
    return p;
}

/* The bytes rows [from, to) take, in size[q]: the fixed part and each property
 * present. Column by column: each column's values are read in order. */
static void feature_sizes(const cs_fgb *w, size_t from, size_t to, const cs_fgb_value *values,
                          size_t stride, uint64_t *size)
{
    for (size_t q = from; q < to; q++)
        size[q] = FIXED;
    for (size_t c = 0; c < w->ncol; c++) {
        const cs_fgb_value *v = values + c * stride;
        cs_fgb_type type = w->cols[c].type;
        size_t bytes = 2 + (type == CS_FGB_BOOL ? 1 : type == CS_FGB_INT ? 4 : 8);
        if (type == CS_FGB_STRING)
            for (size_t q = from; q < to; q++)
                size[q] += v[q].text ? 2 + 4 + text_length(v[q].text) : 0;
        else
            for (size_t q = from; q < to; q++)
                size[q] += isnan(v[q].number) ? 0 : bytes;
    }
}

/* Row q's feature, the r-th of the file, at p: size bytes; false if its properties took
 * another size (which cannot happen). */
static bool put_feature(const cs_fgb *w, unsigned char *p, size_t size, size_t r, size_t q,
                        const cs_fgb_value *values, size_t stride)
{
    memcpy(p, fixed_part, sizeof fixed_part);
    put_le(p + 52, cs_double_bits(w->x[r]), 8);
    put_le(p + 60, cs_double_bits(w->y[r]), 8);
    unsigned char *end = put_properties(w, p + FIXED, q, values, stride);
    put_le(p + 68, size - FIXED, 4); /* the properties' length */
    put_le(p, size - 4, 4);          /* the size prefix */
    return end == p + size;
}

/*
 * Two passes over the block, each spread over the threads: every feature's size, so
 * that each has its place in the buffer before any is written, then the features,
 * each into its own place. The bytes do not depend on the thread count.
 */
void cs_fgb_features(cs_fgb *w, const size_t *rows, size_t n, const cs_fgb_value *values,
                     size_t stride)
{
    cs_buf *b = &w->block;
    if (w->front.failed || b->failed || w->failed || w->sink_failed || n == 0)
        return;
    if (w->written + n > w->n) {
        w->failed = true;
        return;
    }
    for (size_t q = 0; q < n; q++)
        if (w->order[w->written + q] != rows[q]) {
            w->failed = true;
            return;
        }
    uint64_t *at = w->offsets + w->written; /* sizes first, then offsets */
    long count = (long)n;
    int nt = w->threads;
    long parts = nt > 1 ? nt : 1;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (long part = 0; part < parts; part++)
        feature_sizes(w, n * (size_t)part / (size_t)parts, n * (size_t)(part + 1) / (size_t)parts,
                      values, stride, at);
    size_t total = 0;
    for (size_t q = 0; q < n; q++) {
        size_t size = at[q];
        at[q] = w->feature_bytes + total;
        total += size;
    }
    cs_buf_clear(b);
    if (!cs_buf_reserve(b, total))
        return;
    unsigned char *base = (unsigned char *)b->data;
    uint64_t first = w->feature_bytes;
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1) reduction(| : bad)
#endif
    for (long q = 0; q < count; q++) {
        uint64_t end = (size_t)q + 1 < n ? at[q + 1] : first + total;
        bad |= !put_feature(w, base + (at[q] - first), (size_t)(end - at[q]),
                            w->written + (size_t)q, (size_t)q, values, stride);
    }
    w->failed |= bad != 0;
    w->sink_failed = !w->sink(w->user, b->data, total, w->features_at + w->feature_bytes);
    w->feature_bytes += total;
    w->written += n;
}

cs_status cs_fgb_end(cs_fgb *w)
{
    cs_status st = w->front.failed || w->block.failed ? CS_ERR_NOMEM
                   : w->sink_failed                    ? CS_ERR_OUTPUT
                   : w->failed || w->written != w->n   ? CS_ERR_INTERNAL
                                                       : CS_OK;
    if (st == CS_OK) { /* the header, and the index when there are features */
        uint64_t at = 0;
        if (w->n)
            write_index(w);
        else
            flush_front(w, &at, true);
        st = w->front.failed ? CS_ERR_NOMEM : w->sink_failed ? CS_ERR_OUTPUT : CS_OK;
    }
    free_writer(w);
    return st;
}

bool cs_fgb_to_buf(void *user, const void *data, size_t len, uint64_t offset)
{
    cs_buf *b = user;
    if (offset + len > b->len) {
        size_t grow = (size_t)(offset + len - b->len);
        if (!cs_buf_reserve(b, grow))
            return false;
        memset(b->data + b->len, 0, grow);
        b->len += grow;
        b->data[b->len] = '\0'; /* as a cs_buf always ends */
    }
    memcpy(b->data + offset, data, len);
    return true;
}
