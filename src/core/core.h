/*
 * core.h — private helpers every module shares: allocation through the one
 * overridable allocator, the context (messages, GEOS handle, PROJ context), and a
 * growable string buffer. Not part of the public API.
 */
#ifndef CS_CORE_H
#define CS_CORE_H

#include "careshed/careshed.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stat;

/* ---------------------------------------------------------------- memory */

/* fmin and fmax for numbers that are never NaN, inlined (libm's are calls, which hot
 * loops feel). */
static inline double cs_min(double a, double b)
{
    return a < b ? a : b;
}
static inline double cs_max(double a, double b)
{
    return a > b ? a : b;
}
/* A double's bits, as stored (for files written byte for byte, and digests). */
static inline uint64_t cs_double_bits(double v)
{
    uint64_t u;
    __builtin_memcpy(&u, &v, sizeof u);
    return u;
}

/* All library allocations go through these, so tests can make them fail. */
void *cs_malloc(size_t size);
void *cs_calloc(size_t count, size_t size); /* zeroed; checks count*size overflow */
void *cs_realloc(void *ptr, size_t size);
void *cs_reallocarray(void *ptr, size_t count, size_t size); /* checks overflow */
/* The size from which blocks are spilled once cs_spill_to named a folder (8 MB; tests
 * lower it); returns the one before. cs_spill_made: the blocks spilled so far. */
size_t cs_spill_min_bytes(size_t bytes);
size_t cs_spill_made(void);
void cs_free(void *ptr);
char *cs_strdup(const char *s); /* NULL in, NULL out */

/* Memory freed handed back to the system, after letting a large part of a run go: glibc
 * keeps what its heaps free below their tops, so a process that let the graph of a
 * province go (0.6 GB) would otherwise still hold it while it draws and writes. */
void cs_memory_return(void);

/* Running out of memory, wherever it happens (our allocator, GEOS's std::bad_alloc,
 * GDAL's CPLE_OutOfMemory, PROJ), is noted per thread: cs_note_nomem sets the note,
 * cs_take_nomem returns and clears it. cs_report turns the next error into an
 * out-of-memory error when the note is set, so that, say, a polygon GEOS could not
 * build for lack of memory is not blamed on the geometry. */
void cs_note_nomem(void);
bool cs_take_nomem(void);

/* Whether a message from GEOS, GDAL, PROJ or the C library says memory ran out
 * ("std::bad_alloc", "out of memory", "Cannot allocate memory", ...). */
bool cs_message_means_nomem(const char *text);

/* The hint of every out-of-memory message. */
#define CS_NOMEM_HINT "free memory, raise the limit (ulimit -v) or use a smaller study"

/* Grow *array (of *capacity elements of elem_size) to hold at least need elements. */
bool cs_grow(void **array, size_t *capacity, size_t need, size_t elem_size);
/* An array grown beyond its n elements, trimmed to them for keeping (what is held until
 * written); kept as it is when it cannot be (that is no failure: nothing is noted). */
void *cs_shrink(void *array, size_t n, size_t elem_size);
/* Take n from the budget *left when it holds that much, safely from any thread; false
 * (and *left unchanged) when it does not. */
bool cs_budget_take(size_t *left, size_t n);
/* Grow n parallel arrays (*array[i] of elements of size[i] bytes) together to hold need
 * elements; *cap is their common capacity, raised only once all have grown. */
bool cs_grow_together(void **const *array, const size_t *size, size_t n, size_t *cap,
                      size_t need);

/* Sort n 64-bit items by their bits [32, 32 + key_bits) (key_bits a multiple of 8,
 * at most 32), stably: a least significant digit radix sort, a byte a pass, moving
 * between a and tmp (n items each). Returns the one that holds the sorted items.
 * With the item's own index in the low 32 bits, ties keep their order. */
uint64_t *cs_radix_sort_upper(uint64_t *a, uint64_t *tmp, size_t n, int key_bits);

/* Sort ids[0..n), each in [0, below), ascending: by radix for many (a byte a pass over
 * the bits `below` needs), else by comparisons. False without memory (ids untouched). */
bool cs_sort_ids(long *ids, size_t n, size_t below);

/* ------------------------------------------------------------------ ties */

/* The demand points with more than one nearest facility (equal costs, as computed):
 * tied point pt[i] has the facilities fac[start[i] .. start[i + 1]), in increasing
 * index order; points in increasing order. Zero-initialised is an empty set. Ties are
 * rare, so a cost field keeps its single nearest facility and lists only these. */
typedef struct cs_ties {
    size_t count;
    size_t *pt, *start;
    long *fac;
    size_t pt_cap, start_cap, fac_cap;
} cs_ties;

/* Append point pt (greater than any listed) with its n facilities (sorted, distinct);
 * false when memory runs out (the set is then unchanged). */
bool cs_ties_add(cs_ties *t, size_t pt, const long *fac, size_t n);
void cs_ties_free(cs_ties *t);

/* ---------------------------------------------------------------- id map */

/* Text ids to indices: open addressing, grown as needed. Keys are borrowed (they must
 * outlive the map). Zero-initialised is an empty map. */
typedef struct cs_idslot {
    const char *key; /* NULL: empty */
    long value;
    uint32_t tag;    /* the high half of the key's hash */
} cs_idslot;
typedef struct cs_idmap {
    size_t count, cap; /* cap: a power of two, or 0 */
    cs_idslot *slot;
} cs_idmap;
/* Add key -> value (value >= 0). Returns the value already held when the key is there
 * (the map is then unchanged), -1 when added, -2 when memory ran out. */
long cs_idmap_put(cs_idmap *m, const char *key, long value);
/* The value of key, or -1. */
long cs_idmap_get(const cs_idmap *m, const char *key);
void cs_idmap_free(cs_idmap *m);

/* ---------------------------------------------------------------- context */

struct GEOSContextHandle_HS;
struct pj_ctx;

/* A file read as an input, known by device and inode so that any name of it matches. */
typedef struct cs_input_file {
    uint64_t dev, ino;
    char *path; /* NULL when memory ran short */
    char *role; /* "areas", "study file", ...; NULL when memory ran short */
} cs_input_file;

struct cs_context {
    cs_message *messages;
    size_t message_count, message_capacity;
    size_t error_count;
    size_t warning_count; /* warnings reported, listed or not; summary notes not counted */
    bool out_of_memory; /* a message could not be stored */
    bool nomem_reported; /* an out-of-memory error is stored: later errors are its echoes */
    struct GEOSContextHandle_HS *geos;
    struct pj_ctx *proj;
    char foreign_error[512]; /* last message from GEOS/PROJ/GDAL, for the next report */
    cs_progress_fn progress;
    void *progress_user;
    int threads;
    char stage_names[32][48]; /* stage timings (names copied), see cs_context_timings */
    double stage_seconds[32];
    size_t stage_count;
    cs_input_file *inputs_read; /* see cs_input_note */
    size_t inputs_read_count, inputs_read_capacity;
    bool inputs_read_lost;      /* one could not be recorded: writers must refuse */
    bool overwrite; /* output folders that are not careshed's may be written into */
    /* transforms kept for the context's life (io/crs.h, cs_transform_kept), freed with
     * it through kept_free */
    void *kept_transforms;
    void (*kept_free)(void *kept);
};

/*
 * Where a problem is. Any member may be NULL/0. The strings are copied.
 */
typedef struct cs_where {
    const char *file;
    long line;
    long feature;
    const char *feature_id;
    const char *field;
} cs_where;

/*
 * Record a message: text is printf-formatted, hint is a plain string (may be NULL).
 * Returns status for errors so callers can write `return cs_error(...)`; for warnings
 * returns CS_OK. A message that cannot be stored sets ctx->out_of_memory.
 */
cs_status cs_report(cs_context *ctx, cs_severity sev, cs_status status, const cs_where *where,
                    const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define cs_error(ctx, status, where, hint, ...) \
    cs_report((ctx), CS_SEVERITY_ERROR, (status), (where), (hint), __VA_ARGS__)
#define cs_warn(ctx, where, hint, ...) \
    cs_report((ctx), CS_SEVERITY_WARNING, CS_OK, (where), (hint), __VA_ARGS__)
/* Shorthand for the one error every allocation failure records. */
cs_status cs_nomem(cs_context *ctx);

/* Stage timing: returns a start mark; cs_stage_end adds the time since it to stage,
 * a name copied (at most 47 bytes) into the context; at most 32 stages are kept. */
double cs_stage_begin(void);
void cs_stage_end(cs_context *ctx, const char *stage, double start);

/*
 * A context for work on a thread of its own that needs neither GEOS nor PROJ: it
 * collects the thread's messages and stage times (a context is used by one thread at
 * a time), and takes the parent's thread count and overwrite setting. Once the thread
 * is done, cs_context_absorb adds what it collected to the parent's, in order.
 * CS_ERR_NOMEM (nothing made) without memory.
 */
cs_status cs_context_create_for_thread(const cs_context *parent, cs_context **out);
/* Move helper's messages, counts, stage times and inputs read into ctx; helper is left
 * empty. */
void cs_context_absorb(cs_context *ctx, cs_context *helper);

/* The threads a parallel loop asked to run on `threads` gets: that many, or all cores
 * when it is 0 or less (1 without OpenMP). */
int cs_team_size(int threads);

/* Work done on a thread of its own, reporting into a context of its own. */
typedef struct cs_helper {
    cs_context *ctx; /* the thread's; the caller's when the work runs inline */
    pthread_t thread;
    bool on_thread;  /* set before the thread starts: the work may read it */
} cs_helper;
/* Start fn(arg) on a thread with h->ctx its context. False, with h->ctx = ctx, when
 * ctx->threads is 1 or no thread or context can be had: the caller then calls fn
 * itself. */
bool cs_helper_start(cs_context *ctx, cs_helper *h, void *(*fn)(void *), void *arg);
/* Wait for the thread (nothing when the work ran inline) and absorb its context. */
void cs_helper_join(cs_context *ctx, cs_helper *h);

/* Report progress if a callback is set. */
void cs_progress(cs_context *ctx, const char *stage, double fraction);

/* ------------------------------------------------------------ inputs read */

/*
 * Note that path was read as an input (role says which: "areas", "study file"...).
 * Every reader calls this for each file it opens, sidecars included; every writer
 * refuses to replace a noted file (cs_input_find). Files that do not exist are
 * ignored; when memory runs out the context remembers that a file went unnoted.
 */
void cs_input_note(cs_context *ctx, const char *path, const char *role);

/* A file the study names but this run does not open (a network no kind walks): path,
 * and the files beside it whose names start with its own up to the first dot (a
 * Shapefile's .dbf and .prj), are noted all the same, as GDAL would list them had it
 * opened the dataset: an input is never replaced, whether a run reads it or not. */
void cs_input_note_unopened(cs_context *ctx, const char *path, const char *role);

/* Room for this many inputs is made when the context is created, so that noting them
 * never fails for want of memory. False when it cannot be made. */
#define CS_INPUTS_RESERVED 64
bool cs_input_reserve(cs_context *ctx);

/* The noted input that is the same file (device and inode) as info, or NULL. */
const cs_input_file *cs_input_find(const cs_context *ctx, const struct stat *info);

/* Free the list of inputs read (cs_context_destroy calls it). */
void cs_input_forget(cs_context *ctx);

/* ------------------------------------------------------------ string buffer */

typedef struct cs_buf {
    char *data;   /* NUL-terminated while ok */
    size_t len, cap;
    bool failed;  /* an allocation failed; further appends are ignored */
} cs_buf;

void cs_buf_init(cs_buf *b);
void cs_buf_free(cs_buf *b);
void cs_buf_clear(cs_buf *b);
void cs_buf_add(cs_buf *b, const char *s);
void cs_buf_addn(cs_buf *b, const char *s, size_t n);
void cs_buf_addc(cs_buf *b, char c);
/* Room for extra more bytes (and the NUL) without another allocation; false (and the
 * buffer failed) without memory. */
bool cs_buf_reserve(cs_buf *b, size_t extra);
void cs_buf_printf(cs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Take the string out (the buffer is left empty); NULL if an allocation failed. */
char *cs_buf_take(cs_buf *b);

/* A number with exactly `decimals` (0..9) decimals and no exponent, rounded to within
 * half a unit of the last decimal, fast (for large tables); non-finite values are
 * written as nothing (an empty CSV field). */
void cs_buf_add_fixed(cs_buf *b, double value, int decimals);
/* v exactly as printf's "%.17g" writes it (enough digits to read back to the bit), by
 * integer arithmetic in %g's fixed-notation range: several times faster than printf. */
void cs_buf_add_g17(cs_buf *b, double v);
/* u / 10^decimals (0..20) in fixed notation into out, '-' first when negative; returns
 * its length (the integer path of cs_buf_add_fixed and of JSON's rounded numbers). */
size_t cs_fixed_digits(unsigned long long u, int decimals, bool negative, char out[40]);

/* Format a number with thousands separators: 3120 -> "3,120"; decimals as given. */
void cs_buf_add_grouped(cs_buf *b, double value, int decimals);

/* ------------------------------------------------------------------ misc */

/* Strict number parsing: the whole string (spaces around allowed) must be a finite
 * decimal number, e.g. "-1.5e3"; hexadecimal ("0x7A"), "inf" and "nan", which strtod
 * takes, are refused. */
bool cs_parse_double(const char *s, double *out);
/* The system's text for an error number, without strerror's shared buffer. */
void cs_describe_errno(int err, char reason[128]);
/* True if s is valid UTF-8. */
bool cs_is_utf8(const char *s);
/* At most this many bytes of an id in a message (then "..."). */
#define CS_ID_SHOWN 80
/* id as a message shows it: itself, or its first CS_ID_SHOWN bytes (cut between UTF-8
 * characters) and "...", written into buf of CS_ID_SHOWN + 4 bytes. */
const char *cs_id_shown(const char *id, char *buf);
/* Case-insensitive ASCII comparison. */
int cs_strcasecmp(const char *a, const char *b);

/* Keep at most `keep` of the messages recorded since index `from` and replace the
 * rest with one summary line ("... and 1,234 more problems like these in <file>").
 * Counts are unchanged. Used so a file with a million bad rows stays readable. */
void cs_context_limit_messages(cs_context *ctx, size_t from, size_t keep, const char *file);

/* Forget the warnings recorded since index `from` (a file read again says them once),
 * keeping the other messages in order. */
void cs_context_forget_warnings(cs_context *ctx, size_t from);

/* How many messages of one kind a layer lists before counting the rest. */
#define CS_REPEATS_SHOWN 5

/* Keep the first `keep` of each kind of message recorded since index `from` — a kind is
 * the same severity, status, file, field and hint, as one missing or bad value repeated
 * over many rows is — and replace the rest of each kind with one summary line naming
 * the field ("... and 58,930 more like these, not listed"). Counts are unchanged. */
void cs_context_limit_repeats(cs_context *ctx, size_t from, size_t keep, const char *file);

#endif /* CS_CORE_H */
