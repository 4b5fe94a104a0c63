/*
 * inputs.c — the list of files a context has read. Readers note each file they open;
 * writers look up every file they would replace or remove, so that no command ever
 * overwrites an input, whatever name (a link, a relative path) the output is given.
 */
#include "core/core.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool cs_input_reserve(cs_context *ctx)
{
    return cs_grow((void **)&ctx->inputs_read, &ctx->inputs_read_capacity, CS_INPUTS_RESERVED,
                   sizeof *ctx->inputs_read);
}

void cs_input_note(cs_context *ctx, const char *path, const char *role)
{
    struct stat info;
    if (!ctx || !path || stat(path, &info) != 0)
        return;
    if (cs_input_find(ctx, &info))
        return;
    /* Within the reserve this needs no memory, so a study's inputs are always known;
     * names are for messages only and may be missing when memory runs short. */
    if (!cs_grow((void **)&ctx->inputs_read, &ctx->inputs_read_capacity,
                 ctx->inputs_read_count + 1, sizeof *ctx->inputs_read)) {
        ctx->inputs_read_lost = true;
        return;
    }
    cs_input_file *in = &ctx->inputs_read[ctx->inputs_read_count++];
    in->dev = (uint64_t)info.st_dev;
    in->ino = (uint64_t)info.st_ino;
    in->path = cs_strdup(path);
    in->role = cs_strdup(role);
}

void cs_input_note_unopened(cs_context *ctx, const char *path, const char *role)
{
    cs_input_note(ctx, path, role);
    const char *slash = path ? strrchr(path, '/') : NULL;
    const char *name = slash ? slash + 1 : path;
    const char *dot = name ? strchr(name, '.') : NULL;
    if (!dot || dot == name)
        return;
    /* the folder as "dir/" ("./" when the path names none) */
    const char *dir = slash ? path : "./";
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 2, stem_len = (size_t)(dot - name) + 1;
    char *sibling = cs_malloc(dir_len + NAME_MAX + 1);
    DIR *d = NULL;
    if (sibling) {
        memcpy(sibling, dir, dir_len);
        sibling[dir_len] = '\0';
        d = opendir(sibling);
    }
    if (!sibling && ctx)
        ctx->inputs_read_lost = true;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        if (strncmp(e->d_name, name, stem_len) == 0) { /* "stem." */
            snprintf(sibling + dir_len, NAME_MAX + 1, "%s", e->d_name);
            cs_input_note(ctx, sibling, role);
        }
    if (d)
        closedir(d);
    cs_free(sibling);
}

/* Is the noted file still there under its name? A deleted input's inode number can
 * be given to a new file, which is no input. */
static bool still_there(const cs_input_file *in)
{
    struct stat now;
    if (!in->path)
        return true; /* its name is unknown: take it as there */
    return stat(in->path, &now) == 0 && (uint64_t)now.st_dev == in->dev &&
           (uint64_t)now.st_ino == in->ino;
}

const cs_input_file *cs_input_find(const cs_context *ctx, const struct stat *info)
{
    for (size_t i = 0; ctx && i < ctx->inputs_read_count; i++)
        if (ctx->inputs_read[i].dev == (uint64_t)info->st_dev &&
            ctx->inputs_read[i].ino == (uint64_t)info->st_ino && still_there(&ctx->inputs_read[i]))
            return &ctx->inputs_read[i];
    return NULL;
}

void cs_input_forget(cs_context *ctx)
{
    for (size_t i = 0; ctx && i < ctx->inputs_read_count; i++) {
        cs_free(ctx->inputs_read[i].path);
        cs_free(ctx->inputs_read[i].role);
    }
    if (ctx) {
        cs_free(ctx->inputs_read);
        ctx->inputs_read = NULL;
        ctx->inputs_read_count = ctx->inputs_read_capacity = 0;
        ctx->inputs_read_lost = false;
    }
}
