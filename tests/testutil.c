/*
 * testutil.c — helpers shared by the tests (see testutil.h).
 */
#include "testutil.h"

#include <dirent.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_mkdtemp(void)
{
    char tmpl[] = "/tmp/careshed-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void tu_rmtree(const char *path)
{
    if (!path || strncmp(path, "/tmp/careshed-test-", 19) != 0)
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

bool tu_folder_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n == 0;
}

char *tu_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *tu_write(const char *dir, const char *name, const char *text)
{
    char *p = tu_join(dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return p;
    fputs(text, f);
    fclose(f);
    return p;
}

char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return s;
}

bool tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_run(const char *command, char **output)
{
    char *full = malloc(strlen(command) + 16);
    sprintf(full, "%s 2>&1", command);
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int status = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *tu_shared_data(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/data/real", CS_SHARED_DIR);
    char *probe = tu_join(path, "minhang-streets.geojson");
    bool ok = tu_exists(probe);
    free(probe);
    if (!ok) {
        fprintf(stderr, "skipping: the shared real data (%s) is absent\n", path);
        return NULL;
    }
    return path;
}

bool tu_has_message(const cs_context *ctx, ...)
{
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        char text[2048];
        cs_message_format(cs_context_get_message(ctx, i), text, sizeof text);
        va_list ap;
        va_start(ap, ctx);
        bool all = true;
        const char *needle;
        while ((needle = va_arg(ap, const char *)) != NULL)
            if (!strstr(text, needle))
                all = false;
        va_end(ap);
        if (all)
            return true;
    }
    if (getenv("CS_TEST_DUMP"))
        tu_dump_messages(ctx);
    return false;
}

void tu_dump_messages(const cs_context *ctx)
{
    for (size_t i = 0; i < cs_context_message_count(ctx); i++) {
        char text[2048];
        cs_message_format(cs_context_get_message(ctx, i), text, sizeof text);
        fprintf(stderr, "  [msg] %s\n", text);
    }
}

static long alloc_budget = -1; /* allocations left before refusing; -1 = never refuse */
static atomic_long alloc_refused;

static bool alloc_allowed(void)
{
    if (alloc_budget == 0) {
        alloc_refused++;
        return false;
    }
    if (alloc_budget > 0)
        alloc_budget--;
    return true;
}

static void *budget_malloc(size_t n)
{
    return alloc_allowed() ? malloc(n) : NULL;
}

static void *budget_realloc(void *p, size_t n)
{
    return alloc_allowed() ? realloc(p, n) : NULL;
}

void tu_alloc_fail_after(long n)
{
    static const cs_allocator budgeted = {budget_malloc, budget_realloc, free};
    alloc_budget = n;
    alloc_refused = 0;
    cs_set_allocator(&budgeted);
}

void tu_alloc_restore(void)
{
    alloc_budget = -1;
    cs_set_allocator(NULL);
}

long tu_alloc_refused(void)
{
    return atomic_load(&alloc_refused);
}

/* tu_alloc_refuse_one's count-down, and the allocations asked for since */
static atomic_long one_left, one_made;

static bool one_allowed(void)
{
    atomic_fetch_add(&one_made, 1);
    if (atomic_fetch_sub(&one_left, 1) != 0)
        return true;
    atomic_fetch_add(&alloc_refused, 1);
    return false;
}

static void *one_malloc(size_t n)
{
    return one_allowed() ? malloc(n) : NULL;
}

static void *one_realloc(void *p, size_t n)
{
    return one_allowed() ? realloc(p, n) : NULL;
}

void tu_alloc_refuse_one(long n)
{
    static const cs_allocator one = {one_malloc, one_realloc, free};
    atomic_store(&one_left, n);
    atomic_store(&one_made, 0);
    atomic_store(&alloc_refused, 0);
    cs_set_allocator(&one);
}

long tu_alloc_made(void)
{
    return atomic_load(&one_made);
}

/* tu_alloc_track's bytes in use (as malloc_usable_size counts them) and their peak */
static atomic_long track_now, track_peak;

static void track(void *p, long sign)
{
    if (!p)
        return;
    long n = sign * (long)malloc_usable_size(p);
    long now = atomic_fetch_add(&track_now, n) + n, peak = atomic_load(&track_peak);
    while (now > peak && !atomic_compare_exchange_weak(&track_peak, &peak, now))
        ;
}

static void *track_malloc(size_t n)
{
    void *p = malloc(n);
    track(p, 1);
    return p;
}

static void *track_realloc(void *p, size_t n)
{
    long old = p ? (long)malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q) {
        atomic_fetch_sub(&track_now, old);
        track(q, 1);
    }
    return q;
}

static void track_free(void *p)
{
    track(p, -1);
    free(p);
}

void tu_alloc_track(void)
{
    static const cs_allocator tracked = {track_malloc, track_realloc, track_free};
    atomic_store(&track_now, 0);
    atomic_store(&track_peak, 0);
    cs_set_allocator(&tracked);
}

long tu_alloc_peak(void)
{
    return atomic_load(&track_peak);
}

uint64_t tu_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double tu_rng_unit(uint64_t *s)
{
    return (double)(tu_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
