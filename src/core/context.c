/*
 * context.c — the per-thread context: the message list every error and warning goes
 * into, the GEOS handle and the PROJ context. Messages from GEOS, PROJ and GDAL are
 * captured into ctx->foreign_error so the next report can quote them; nothing is
 * printed.
 */
#include "core/core.h"

#include <cpl_error.h>
#include <gdal.h>
#include <geos_c.h>
#include <math.h>
#include <proj.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void register_gdal(void)
{
    GDALAllRegister();
}

static void geos_message(const char *message, void *user)
{
    cs_context *ctx = user;
    if (cs_message_means_nomem(message))
        cs_note_nomem();
    snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", message);
}

static void proj_message(void *user, int level, const char *message)
{
    cs_context *ctx = user;
    if (cs_message_means_nomem(message))
        cs_note_nomem();
    if (level <= PJ_LOG_ERROR)
        snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", message);
}

bool cs_message_means_nomem(const char *text)
{
    static const char *const signs[] = {"bad_alloc", "out of memory", "cannot allocate memory",
                                        "memory allocation failed", "failed to allocate",
                                        "not enough memory", "insufficient memory", NULL};
    if (!text)
        return false;
    char lower[512];
    size_t n = 0;
    for (; text[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)(text[n] >= 'A' && text[n] <= 'Z' ? text[n] + 32 : text[n]);
    lower[n] = '\0';
    for (size_t i = 0; signs[i]; i++)
        if (strstr(lower, signs[i]))
            return true;
    return false;
}

/* Whether the process runs under an address-space or data limit (ulimit -v / -d). */
static bool memory_limited(void)
{
    struct rlimit as, data;
    return (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) ||
           (getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY);
}

/* Whether proj.db is in one of PROJ's search paths (so that failing to open it is not
 * a missing installation). */
static bool proj_db_present(void)
{
    PJ_INFO info = proj_info();
    const char *p = info.searchpath;
    while (p && *p) {
        size_t n = strcspn(p, ":;");
        char path[4096];
        if (n > 0 && n + sizeof "/proj.db" < sizeof path) {
            memcpy(path, p, n);
            memcpy(path + n, "/proj.db", sizeof "/proj.db");
            if (access(path, R_OK) == 0)
                return true;
        }
        p += n;
        if (*p)
            p++;
    }
    return false;
}

/* The address space this process uses now, in bytes (0 when unknown). */
static size_t address_space_used(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)pages * (size_t)page : 0;
}

/*
 * Threads for the parallel stages. Under an address-space limit (ulimit -v) libgomp
 * cannot create a thread whose stack does not fit, and then ends the program (exit 1,
 * "libgomp: Thread creation failed"), which careshed cannot catch; and every thread
 * works on its own geometry at the same time, so that a thread too many turns a run
 * that fits into one that does not. So, under a limit, each thread beyond the first
 * needs its stack plus 128 MB to work in, of the address space still free, and
 * its stack must really map (mapped and unmapped here); then the threads are started
 * now, while memory is still free: libgomp keeps them for the later parallel regions
 * of this thread with as many threads or fewer, which then start no new thread.
 * Returns the threads to use (0: all cores, when nothing was cut).
 */
static int prepare_threads(int wanted)
{
#ifdef _OPENMP
    int n = wanted > 0 ? wanted : omp_get_max_threads();
    struct rlimit as;
    if (n > 1 && getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
        size_t stack = 8u << 20;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) == 0) {
            size_t s = 0;
            if (pthread_attr_getstacksize(&attr, &s) == 0 && s > 0)
                stack = s;
            pthread_attr_destroy(&attr);
        }
        size_t used = address_space_used(), limit = (size_t)as.rlim_cur;
        size_t free_now = used < limit ? limit - used : 0;
        size_t per_thread = stack + (128u << 20);
        if ((size_t)(n - 1) > free_now / per_thread)
            n = 1 + (int)(free_now / per_thread);
        /* each stack, its guard page and some room for libgomp and the first steps */
        for (; n > 1; n--) {
            size_t need = (size_t)(n - 1) * (stack + (64u << 10)) + (16u << 20);
            void *p = mmap(NULL, need, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           -1, 0);
            if (p != MAP_FAILED) {
                munmap(p, need);
                break;
            }
        }
    }
    if (n > 1) {
        int started = 0;
#pragma omp parallel num_threads(n) reduction(+ : started)
        started += 1;
        (void)started;
    }
    return wanted > 0 || n < omp_get_max_threads() ? n : 0;
#else
    return wanted;
#endif
}

const char *cs_version(void)
{
    return CARESHED_VERSION;
}

const char *cs_status_string(cs_status status)
{
    switch (status) {
    case CS_OK: return "success";
    case CS_ERR_ARGUMENT: return "invalid argument";
    case CS_ERR_NOMEM: return "out of memory";
    case CS_ERR_STUDY: return "study error";
    case CS_ERR_INPUT: return "input error";
    case CS_ERR_CRS: return "coordinate system error";
    case CS_ERR_OUTPUT: return "output error";
    case CS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

cs_status cs_context_create(cs_context **out)
{
    if (!out)
        return CS_ERR_ARGUMENT;
    *out = NULL;
    pthread_once(&gdal_once, register_gdal);
    cs_context *ctx = cs_calloc(1, sizeof *ctx);
    if (!ctx)
        return CS_ERR_NOMEM;
    (void)cs_take_nomem(); /* a note left by an earlier failure is not this context's */
    ctx->threads = prepare_threads(0);
    if (!cs_input_reserve(ctx)) {
        cs_context_destroy(ctx);
        return CS_ERR_NOMEM;
    }
    ctx->geos = GEOS_init_r();
    ctx->proj = proj_context_create();
    if (!ctx->geos || !ctx->proj) {
        cs_context_destroy(ctx);
        return CS_ERR_NOMEM;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->geos, NULL, NULL);
    proj_log_func(ctx->proj, ctx, proj_message);
    /* Fail early, with a useful message, when proj.db cannot be found. */
    PJ *probe = proj_create(ctx->proj, "EPSG:4326");
    if (!probe) {
        *out = ctx;
        /* PROJ says "no database context specified" whether proj.db is missing or could
         * not be opened for lack of memory: when the file is there and memory is
         * limited (or a message said so), it is memory. */
        if (cs_take_nomem() || cs_message_means_nomem(ctx->foreign_error) ||
            (memory_limited() && proj_db_present()))
            return cs_error(ctx, CS_ERR_NOMEM, NULL, CS_NOMEM_HINT,
                            "out of memory while opening PROJ's database (proj.db): %s",
                            ctx->foreign_error);
        return cs_error(ctx, CS_ERR_CRS, NULL,
                        "install the proj-data package or set PROJ_DATA to the folder "
                        "holding proj.db",
                        "PROJ cannot read its database (proj.db): %s", ctx->foreign_error);
    }
    proj_destroy(probe);
    *out = ctx;
    return CS_OK;
}

static void free_message(cs_message *m)
{
    cs_free((char *)m->file);
    cs_free((char *)m->feature_id);
    cs_free((char *)m->field);
    cs_free((char *)m->text);
    cs_free((char *)m->hint);
}

void cs_context_clear_messages(cs_context *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->message_count; i++)
        free_message(&ctx->messages[i]);
    ctx->message_count = 0;
    ctx->error_count = 0;
    ctx->warning_count = 0;
    ctx->out_of_memory = false;
    ctx->nomem_reported = false;
    (void)cs_take_nomem();
}

void cs_context_destroy(cs_context *ctx)
{
    if (!ctx)
        return;
    cs_context_clear_messages(ctx);
    cs_free(ctx->messages);
    cs_input_forget(ctx);
    if (ctx->kept_free) /* before PROJ's context, which they belong to */
        ctx->kept_free(ctx->kept_transforms);
    if (ctx->geos)
        GEOS_finish_r(ctx->geos);
    if (ctx->proj)
        proj_context_destroy(ctx->proj);
    cs_free(ctx);
}

size_t cs_context_message_count(const cs_context *ctx)
{
    return ctx ? ctx->message_count : 0;
}

size_t cs_context_warning_count(const cs_context *ctx)
{
    return ctx ? ctx->warning_count : 0;
}

size_t cs_context_error_count(const cs_context *ctx)
{
    return ctx ? ctx->error_count + (ctx->out_of_memory ? 1 : 0) : 0;
}

const cs_message *cs_context_get_message(const cs_context *ctx, size_t i)
{
    if (!ctx || i >= ctx->message_count)
        return NULL;
    return &ctx->messages[i];
}

void cs_context_set_progress(cs_context *ctx, cs_progress_fn fn, void *user)
{
    if (!ctx)
        return;
    ctx->progress = fn;
    ctx->progress_user = user;
}

void cs_context_set_threads(cs_context *ctx, int n)
{
    if (ctx)
        ctx->threads = prepare_threads(n < 0 ? 0 : n);
}

void cs_context_set_overwrite(cs_context *ctx, bool on)
{
    if (ctx)
        ctx->overwrite = on;
}

void cs_progress(cs_context *ctx, const char *stage, double fraction)
{
    if (ctx && ctx->progress)
        ctx->progress(ctx->progress_user, stage, fraction);
}

/* A feature's id as messages show it (ids of any length can be read: a table's first
 * column mistaken for one). */
static char *clipped_id(const char *id)
{
    char buf[CS_ID_SHOWN + 4];
    return id ? cs_strdup(cs_id_shown(id, buf)) : NULL;
}

cs_status cs_report(cs_context *ctx, cs_severity sev, cs_status status, const cs_where *where,
                    const char *hint, const char *fmt, ...)
{
    /* An error that running out of memory caused is reported as out of memory, once:
     * the errors it causes next (each feature GEOS could not build, ...) are counted
     * but not listed. */
    bool converted = false;
    if (sev == CS_SEVERITY_ERROR && status != CS_ERR_ARGUMENT && ctx) {
        bool nomem = cs_take_nomem();
        if ((nomem || status == CS_ERR_NOMEM) && ctx->nomem_reported) {
            ctx->error_count++;
            return CS_ERR_NOMEM;
        }
        converted = nomem && status != CS_ERR_NOMEM;
        if (nomem || status == CS_ERR_NOMEM) {
            status = CS_ERR_NOMEM;
            ctx->nomem_reported = true;
        }
    }
    cs_status result = sev == CS_SEVERITY_ERROR ? status : CS_OK;
    if (!ctx)
        return result;
    if (sev == CS_SEVERITY_ERROR)
        ctx->error_count++;
    else
        ctx->warning_count++;
    if (!cs_grow((void **)&ctx->messages, &ctx->message_capacity, ctx->message_count + 1,
                 sizeof *ctx->messages)) {
        ctx->out_of_memory = true;
        (void)cs_take_nomem();
        return result;
    }
    cs_buf text;
    cs_buf_init(&text);
    if (converted) {
        cs_buf_add(&text, "out of memory: ");
        hint = CS_NOMEM_HINT;
    }
    va_list ap;
    va_start(ap, fmt);
    cs_buf_vprintf(&text, fmt, ap);
    va_end(ap);
    cs_message m = {0};
    m.severity = sev;
    m.status = sev == CS_SEVERITY_ERROR ? status : CS_OK;
    m.text = cs_buf_take(&text);
    m.hint = cs_strdup(hint);
    bool ok = m.text && (!hint || m.hint);
    if (where) {
        m.file = cs_strdup(where->file);
        m.line = where->line;
        m.feature = where->feature;
        m.feature_id = clipped_id(where->feature_id);
        m.field = cs_strdup(where->field);
        ok = ok && (!where->file || m.file) && (!where->feature_id || m.feature_id) &&
             (!where->field || m.field);
    }
    if (!ok) {
        free_message(&m);
        ctx->out_of_memory = true;
        (void)cs_take_nomem();
        return result;
    }
    ctx->messages[ctx->message_count++] = m;
    (void)cs_take_nomem(); /* our own allocations here are not the next error's cause */
    return result;
}

cs_status cs_nomem(cs_context *ctx)
{
    if (ctx)
        ctx->out_of_memory = true;
    return CS_ERR_NOMEM;
}

size_t cs_message_format(const cs_message *m, char *buffer, size_t size)
{
    cs_buf b;
    cs_buf_init(&b);
    if (!m) {
        if (size)
            buffer[0] = '\0';
        return 0;
    }
    cs_buf_add(&b, m->severity == CS_SEVERITY_ERROR ? "error: " : "warning: ");
    if (m->file) {
        cs_buf_add(&b, m->file);
        if (m->line > 0)
            cs_buf_printf(&b, ":%ld", m->line);
        cs_buf_add(&b, ": ");
    } else if (m->line > 0) {
        cs_buf_printf(&b, "line %ld: ", m->line);
    }
    if (m->feature > 0) {
        cs_buf_printf(&b, "feature %ld", m->feature);
        if (m->feature_id)
            cs_buf_printf(&b, " (id %s)", m->feature_id);
        cs_buf_add(&b, ": ");
    } else if (m->feature_id) {
        cs_buf_printf(&b, "id %s: ", m->feature_id);
    }
    if (m->field)
        cs_buf_printf(&b, "'%s': ", m->field);
    cs_buf_add(&b, m->text ? m->text : "(no text)");
    if (m->hint) {
        cs_buf_add(&b, "; ");
        cs_buf_add(&b, m->hint);
    }
    size_t need = b.len;
    if (size) {
        size_t n = b.failed ? 0 : (need < size - 1 ? need : size - 1);
        if (n)
            memcpy(buffer, b.data, n);
        buffer[n] = '\0';
    }
    cs_buf_free(&b);
    return need;
}

void cs_context_limit_messages(cs_context *ctx, size_t from, size_t keep, const char *file)
{
    if (!ctx || ctx->message_count <= from + keep + 1)
        return;
    size_t dropped_errors = 0, dropped = ctx->message_count - from - keep;
    for (size_t i = from + keep; i < ctx->message_count; i++) {
        if (ctx->messages[i].severity == CS_SEVERITY_ERROR)
            dropped_errors++;
        free_message(&ctx->messages[i]);
    }
    ctx->message_count = from + keep;
    /* The dropped errors are still counted in error_count; the summary is a note. */
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add(&b, "... and ");
    cs_buf_add_grouped(&b, (double)dropped, 0);
    cs_buf_printf(&b, " more problems (%zu of them errors) not listed", dropped_errors);
    cs_where w = {.file = file};
    cs_report(ctx, CS_SEVERITY_WARNING, CS_OK, &w, "fix the ones above and run again",
              "%s", b.failed ? "... more problems not listed" : b.data);
    ctx->warning_count--; /* a note about others, not a warning of its own */
    cs_buf_free(&b);
}

void cs_context_forget_warnings(cs_context *ctx, size_t from)
{
    if (!ctx)
        return;
    size_t kept = from;
    for (size_t i = from; i < ctx->message_count; i++) {
        if (ctx->messages[i].severity == CS_SEVERITY_WARNING) {
            free_message(&ctx->messages[i]);
            ctx->warning_count -= ctx->warning_count > 0; /* (a summary note is not counted) */
        } else {
            ctx->messages[kept++] = ctx->messages[i];
        }
    }
    if (kept < ctx->message_count)
        ctx->message_count = kept;
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Whether two messages are the same kind of problem (their texts differ by row). */
static bool same_kind(const cs_message *a, const cs_message *b)
{
    return a->severity == b->severity && a->status == b->status && same_text(a->file, b->file) &&
           same_text(a->field, b->field) && same_text(a->hint, b->hint);
}

void cs_context_limit_repeats(cs_context *ctx, size_t from, size_t keep, const char *file)
{
    if (!ctx || keep == 0 || ctx->message_count <= from + keep)
        return;
    /* Kinds are few (a layer's fields times its problems); past MAX_KINDS, a new kind
     * is left whole, and cs_context_limit_messages still bounds the list. */
    enum { MAX_KINDS = 128 };
    size_t first[MAX_KINDS], seen[MAX_KINDS], dropped_errors[MAX_KINDS];
    size_t kinds = 0, out = from;
    for (size_t i = from; i < ctx->message_count; i++) {
        cs_message *m = &ctx->messages[i];
        size_t k = 0;
        while (k < kinds && !same_kind(&ctx->messages[first[k]], m))
            k++;
        if (k == kinds && kinds < MAX_KINDS) {
            first[kinds] = out; /* the first of a kind is always kept */
            seen[kinds] = dropped_errors[kinds] = 0;
            kinds++;
        }
        if (k < kinds && ++seen[k] > keep) {
            dropped_errors[k] += m->severity == CS_SEVERITY_ERROR;
            free_message(m);
            continue;
        }
        ctx->messages[out++] = *m;
    }
    ctx->message_count = out;
    for (size_t k = 0; k < kinds; k++) {
        if (seen[k] <= keep)
            continue;
        size_t dropped = seen[k] - keep;
        const cs_message *m = &ctx->messages[first[k]];
        /* copied: reporting may move the messages */
        char *field = cs_strdup(m->field);
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_add(&b, "... and ");
        cs_buf_add_grouped(&b, (double)dropped, 0);
        if (dropped_errors[k] == dropped)
            cs_buf_add(&b, dropped == 1 ? " more error" : " more errors");
        else
            cs_buf_add(&b, dropped == 1 ? " more warning" : " more warnings");
        cs_buf_add(&b, " like the ones above, not listed");
        cs_where w = {.file = file, .field = field};
        cs_report(ctx, CS_SEVERITY_WARNING, CS_OK, &w, "fix the ones above and run again",
                  "%s", b.failed ? "... more like the ones above, not listed" : b.data);
        ctx->warning_count--; /* a note about others, not a warning of its own */
        cs_buf_free(&b);
        cs_free(field);
    }
}

double cs_stage_begin(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void add_stage_time(cs_context *ctx, const char *stage, double elapsed)
{
    size_t i = 0;
    size_t len = sizeof ctx->stage_names[0];
    while (i < ctx->stage_count && strncmp(ctx->stage_names[i], stage, len - 1) != 0)
        i++;
    if (i == ctx->stage_count) {
        if (i == sizeof ctx->stage_names / sizeof ctx->stage_names[0])
            return;
        snprintf(ctx->stage_names[i], sizeof ctx->stage_names[i], "%s", stage);
        ctx->stage_count++;
        ctx->stage_seconds[i] = 0;
    }
    ctx->stage_seconds[i] += elapsed;
}

void cs_stage_end(cs_context *ctx, const char *stage, double start)
{
    if (ctx)
        add_stage_time(ctx, stage, cs_stage_begin() - start);
}

int cs_team_size(int threads)
{
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
    return 1;
#endif
}

cs_status cs_context_create_for_thread(const cs_context *parent, cs_context **out)
{
    *out = NULL;
    cs_context *ctx = cs_calloc(1, sizeof *ctx);
    if (!ctx)
        return CS_ERR_NOMEM;
    ctx->threads = parent->threads;
    ctx->overwrite = parent->overwrite;
    /* PROJ contexts are one thread's each (a reader asks whether a CRS is lon/lat) */
    ctx->proj = proj_context_create();
    if (!ctx->proj) {
        cs_free(ctx);
        return CS_ERR_NOMEM;
    }
    proj_log_func(ctx->proj, ctx, proj_message);
    *out = ctx;
    return CS_OK;
}

void cs_context_absorb(cs_context *ctx, cs_context *helper)
{
    for (size_t i = 0; i < helper->message_count; i++) {
        if (cs_grow((void **)&ctx->messages, &ctx->message_capacity, ctx->message_count + 1,
                    sizeof *ctx->messages))
            ctx->messages[ctx->message_count++] = helper->messages[i];
        else { /* counted below, as a message that could not be stored */
            free_message(&helper->messages[i]);
            ctx->out_of_memory = true;
        }
    }
    helper->message_count = 0;
    /* the files it read are inputs of the run too, which no writer may replace */
    for (size_t i = 0; i < helper->inputs_read_count; i++) {
        cs_input_file *in = &helper->inputs_read[i];
        if (cs_grow((void **)&ctx->inputs_read, &ctx->inputs_read_capacity,
                    ctx->inputs_read_count + 1, sizeof *ctx->inputs_read)) {
            ctx->inputs_read[ctx->inputs_read_count++] = *in;
        } else {
            cs_free(in->path);
            cs_free(in->role);
            ctx->inputs_read_lost = true;
        }
    }
    helper->inputs_read_count = 0;
    ctx->inputs_read_lost |= helper->inputs_read_lost;
    ctx->error_count += helper->error_count;
    ctx->warning_count += helper->warning_count;
    ctx->out_of_memory |= helper->out_of_memory;
    ctx->nomem_reported |= helper->nomem_reported;
    for (size_t i = 0; i < helper->stage_count; i++)
        add_stage_time(ctx, helper->stage_names[i], helper->stage_seconds[i]);
    helper->error_count = helper->warning_count = helper->stage_count = 0;
    helper->out_of_memory = helper->nomem_reported = false;
}

bool cs_helper_start(cs_context *ctx, cs_helper *h, void *(*fn)(void *), void *arg)
{
    h->ctx = ctx;
    h->on_thread = false;
    if (ctx->threads == 1 || cs_context_create_for_thread(ctx, &h->ctx) != CS_OK) {
        h->ctx = ctx;
        return false;
    }
    h->on_thread = true;
    if (pthread_create(&h->thread, NULL, fn, arg) == 0)
        return true;
    h->on_thread = false;
    cs_context_destroy(h->ctx);
    h->ctx = ctx;
    return false;
}

void cs_helper_join(cs_context *ctx, cs_helper *h)
{
    if (!h->on_thread)
        return;
    pthread_join(h->thread, NULL);
    cs_context_absorb(ctx, h->ctx);
    cs_context_destroy(h->ctx);
    h->ctx = ctx;
    h->on_thread = false;
}

size_t cs_context_timings(const cs_context *ctx, size_t i, const char **stage, double *seconds)
{
    if (!ctx)
        return 0;
    if (i < ctx->stage_count) {
        if (stage)
            *stage = ctx->stage_names[i];
        if (seconds)
            *seconds = ctx->stage_seconds[i];
    }
    return ctx->stage_count;
}
