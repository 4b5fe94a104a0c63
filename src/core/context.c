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

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void register_gdal(void)
{
    GDALAllRegister();
}

static void geos_message(const char *message, void *user)
{
    cs_context *ctx = user;
    snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", message);
}

static void proj_message(void *user, int level, const char *message)
{
    cs_context *ctx = user;
    if (level <= PJ_LOG_ERROR)
        snprintf(ctx->foreign_error, sizeof ctx->foreign_error, "%s", message);
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
    ctx->threads = 0;
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
    ctx->out_of_memory = false;
}

void cs_context_destroy(cs_context *ctx)
{
    if (!ctx)
        return;
    cs_context_clear_messages(ctx);
    cs_free(ctx->messages);
    cs_input_forget(ctx);
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
        ctx->threads = n < 0 ? 0 : n;
}

void cs_progress(cs_context *ctx, const char *stage, double fraction)
{
    if (ctx && ctx->progress)
        ctx->progress(ctx->progress_user, stage, fraction);
}

cs_status cs_report(cs_context *ctx, cs_severity sev, cs_status status, const cs_where *where,
                    const char *hint, const char *fmt, ...)
{
    cs_status result = sev == CS_SEVERITY_ERROR ? status : CS_OK;
    if (!ctx)
        return result;
    if (sev == CS_SEVERITY_ERROR)
        ctx->error_count++;
    if (!cs_grow((void **)&ctx->messages, &ctx->message_capacity, ctx->message_count + 1,
                 sizeof *ctx->messages)) {
        ctx->out_of_memory = true;
        return result;
    }
    cs_buf text;
    cs_buf_init(&text);
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
        m.feature_id = cs_strdup(where->feature_id);
        m.field = cs_strdup(where->field);
        ok = ok && (!where->file || m.file) && (!where->feature_id || m.feature_id) &&
             (!where->field || m.field);
    }
    if (!ok) {
        free_message(&m);
        ctx->out_of_memory = true;
        return result;
    }
    ctx->messages[ctx->message_count++] = m;
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
    cs_buf_free(&b);
}

double cs_stage_begin(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cs_stage_end(cs_context *ctx, const char *stage, double start)
{
    if (!ctx)
        return;
    double elapsed = cs_stage_begin() - start;
    size_t i = 0;
    while (i < ctx->stage_count && strcmp(ctx->stage_names[i], stage) != 0)
        i++;
    if (i == ctx->stage_count) {
        if (i == sizeof ctx->stage_names / sizeof ctx->stage_names[0])
            return;
        ctx->stage_names[ctx->stage_count++] = stage;
        ctx->stage_seconds[i] = 0;
    }
    ctx->stage_seconds[i] += elapsed;
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
