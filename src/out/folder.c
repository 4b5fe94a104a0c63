/*
 * folder.c — an output folder replaced as one unit (see folder.h): lock, ownership,
 * staging beside the folder, carrying kept files over, the atomic swap, and removing
 * what killed runs left behind.
 */
#define _GNU_SOURCE /* renameat2 */
#include "out/folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STAGING_TAG ".careshed-"      /* PARENT/.NAME.careshed-XXXXXX */
#define PREVIOUS_SUFFIX "prev"        /* PARENT/.NAME.careshed-prev: see swap_by_renames */
#define LOCK_TRIES 20
#define DETACH_BYTES ((long long)64 << 20) /* a previous set this large is removed apart */

extern char **environ;

static const char *const FOLDER_HINT = "choose another --out folder or fix its permissions";

struct cs_folder {
    char *path;    /* the output folder, resolved: absolute, no symbolic links */
    char *parent;  /* the folder holding it */
    char *name;    /* its name in parent */
    char *staging; /* the new set, beside it */
    char *owner;   /* the command writing: "run", "proposals", ... */
    int lock_fd;   /* the locked output folder, -1 when not locked */
    bool swapped;  /* staging now holds the previous set (removed by swap) */
};

/* ------------------------------------------------------------------ helpers */

static char *path_join(const char *dir, const char *name)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
    return cs_buf_take(&b);
}

static cs_status folder_error(cs_context *ctx, const char *path, int err, const char *hint,
                              const char *what)
{
    char reason[128];
    cs_describe_errno(err, reason);
    cs_where w = {.file = path};
    return cs_error(ctx, CS_ERR_OUTPUT, &w, hint, "%s: %s", what, reason);
}

/* A temporary name of an earlier careshed (".areas.geojson.tmp-Ab12Cd"): never kept. */
static bool is_old_temporary(const char *name)
{
    const char *tag = name[0] == '.' ? strstr(name, ".tmp-") : NULL;
    return tag && strlen(tag) == strlen(".tmp-XXXXXX");
}

/* PARENT/.NAME.careshed-XXXXXX (a staging folder) or .NAME.careshed-prev. */
static bool is_leftover_of(const char *entry, const char *name)
{
    size_t n = strlen(name), t = strlen(STAGING_TAG);
    if (entry[0] != '.' || strncmp(entry + 1, name, n) != 0 ||
        strncmp(entry + 1 + n, STAGING_TAG, t) != 0)
        return false;
    const char *tail = entry + 1 + n + t;
    if (!strcmp(tail, PREVIOUS_SUFFIX))
        return true;
    if (strlen(tail) != 6)
        return false;
    for (const char *c = tail; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return false;
    return true;
}

/* Remove a folder of plain files (a staging folder, a previous set). Returns 0 or an
 * errno; what cannot be removed stays. */
static int remove_set(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : errno;
    int err = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && !err)
            err = errno;
    }
    closedir(d);
    if (rmdir(path) != 0 && !err)
        err = errno;
    return err;
}

/* The disk space removing a folder's files frees, in bytes (a file linked into the new
 * set too frees none); -1 when it holds anything but plain files, which remove_set
 * leaves in place and a recursive removal would not. */
static long long set_bytes(const char *path)
{
    DIR *d = opendir(path);
    long long bytes = d ? 0 : -1;
    struct stat info;
    for (struct dirent *e; d && bytes >= 0 && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (fstatat(dirfd(d), e->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(info.st_mode))
            bytes = -1;
        else if (info.st_nlink == 1)
            bytes += (long long)info.st_blocks * 512;
    }
    if (d)
        closedir(d);
    return bytes;
}

/*
 * Remove a previous set by a process of its own, which this one does not wait for: the
 * shell started here puts rm in the background and exits at once. The new set is in
 * place already, and freeing the disk blocks of a large file is slow (0.27 s for an
 * 800 MB demand.fgb on a file system mounted with discard, a tenth of a large run).
 * The spawn costs no copy of this process's memory, and the shell gets no open file
 * of this process but /dev/null (a pipe on its output would keep a caller waiting).
 * False when it could not start; a removal cut short leaves a staging folder the next
 * run into the folder removes.
 */
static bool remove_set_detached(const char *path)
{
    static const char sh[] = "/bin/sh";
    char *argv[] = {"sh", "-c", "/bin/rm -rf -- \"$1\" &", "careshed", (char *)path, NULL};
    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&files) != 0)
        return false;
    bool started = false, ready = true;
    for (int fd = 0; fd < 3; fd++)
        ready = ready &&
                posix_spawn_file_actions_addopen(&files, fd, "/dev/null", O_RDWR, 0) == 0;
    ready = ready && posix_spawn_file_actions_addclosefrom_np(&files, 3) == 0;
    if (ready && posix_spawnattr_init(&attr) == 0) {
        pid_t pid;
        (void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID); /* not the terminal's */
        int status = 0;
        if (posix_spawn(&pid, sh, &files, &attr, argv, environ) == 0) {
            pid_t got;
            while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                ;
            /* ECHILD: a program embedding careshed ignores SIGCHLD, and its children
             * are reaped without a status; the shell has started all the same */
            started = got == pid ? WIFEXITED(status) && WEXITSTATUS(status) == 0
                                 : errno == ECHILD;
        }
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&files);
    return started;
}

/* Write all of data, retrying short writes and interruptions. 0 or an errno. */
int cs_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return ENOSPC;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

void cs_folder_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse to sync a folder */
        close(fd);
    }
}

/* ---------------------------------------------------------------- create */

cs_status cs_folder_make(cs_context *ctx, const char *dir)
{
    cs_where where = {.file = dir};
    char reason[128];
    char *path = cs_strdup(dir);
    if (!path)
        return cs_nomem(ctx);
    cs_status st = CS_OK;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            cs_describe_errno(errno, reason);
            if (saved)
                st = cs_error(ctx, CS_ERR_OUTPUT, &where, FOLDER_HINT,
                              "cannot create the output folder: %s: %s", path, reason);
            else
                st = cs_error(ctx, CS_ERR_OUTPUT, &where, FOLDER_HINT,
                              "cannot create the output folder: %s", reason);
            goto done;
        }
        *p = saved;
        if (!saved)
            break;
    }
done:
    cs_free(path);
    return st;
}

cs_status cs_folder_check_writable(cs_context *ctx, const char *dir)
{
    struct stat info;
    if (stat(dir, &info) != 0)
        return folder_error(ctx, dir, errno, FOLDER_HINT, "cannot use the output folder");
    if (!S_ISDIR(info.st_mode))
        return folder_error(ctx, dir, ENOTDIR, FOLDER_HINT, "cannot use the output folder");
    /* access() also reports a read-only file system (EROFS). It cannot see every
     * obstacle (root passes permission bits), so writes are checked again later. */
    if (access(dir, W_OK | X_OK) != 0)
        return folder_error(ctx, dir, errno, FOLDER_HINT, "the output folder is not writable");
    return CS_OK;
}

/* Where a swap without RENAME_EXCHANGE keeps the previous set for a moment. */
static char *previous_path(const char *parent, const char *name)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "%s/.%s" STAGING_TAG PREVIOUS_SUFFIX, strcmp(parent, "/") ? parent : "",
                  name);
    return cs_buf_take(&b);
}

/* Such a swap killed between its two renames left the output folder missing and the
 * previous set aside: put it back. */
static void restore_previous(const char *dir)
{
    char *copy = cs_strdup(dir);
    size_t len = copy ? strlen(copy) : 0;
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    char *slash = copy ? strrchr(copy, '/') : NULL;
    char *prev = NULL;
    if (slash && slash[1]) {
        *slash = '\0';
        prev = previous_path(slash == copy ? "/" : copy, slash + 1);
        *slash = '/';
    } else if (copy && !slash) {
        prev = previous_path(".", copy);
    }
    if (prev)
        (void)rename(prev, copy);
    cs_free(prev);
    cs_free(copy);
}

/* Resolve dir (links, "..", a relative path) and split it into parent and name. */
static cs_status resolve(cs_context *ctx, cs_folder *f, const char *dir)
{
    char *real = realpath(dir, NULL); /* malloc'ed by libc */
    if (!real)
        return errno == ENOMEM ? cs_nomem(ctx)
                               : folder_error(ctx, dir, errno, FOLDER_HINT,
                                              "cannot use the output folder");
    f->path = cs_strdup(real);
    free(real);
    if (!f->path)
        return cs_nomem(ctx);
    char *slash = strrchr(f->path, '/');
    if (!slash || !slash[1]) {
        cs_where w = {.file = dir};
        return cs_error(ctx, CS_ERR_OUTPUT, &w, "choose a folder inside it, e.g. --out out",
                        "the root folder cannot be an output folder");
    }
    f->name = cs_strdup(slash + 1);
    f->parent = slash == f->path ? cs_strdup("/") : cs_malloc((size_t)(slash - f->path) + 1);
    if (!f->name || !f->parent)
        return cs_nomem(ctx);
    if (slash != f->path) {
        memcpy(f->parent, f->path, (size_t)(slash - f->path));
        f->parent[slash - f->path] = '\0';
    }
    return CS_OK;
}

/* flock the folder; a run that swapped it meanwhile makes us lock the new one. */
static cs_status lock(cs_context *ctx, cs_folder *f)
{
    for (int tries = 0; tries < LOCK_TRIES; tries++) {
        int fd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return folder_error(ctx, f->path, errno, FOLDER_HINT, "cannot open the output folder");
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err == EWOULDBLOCK) {
                cs_where w = {.file = f->path};
                return cs_error(ctx, CS_ERR_OUTPUT, &w,
                                "wait for it to finish, or write to another --out folder",
                                "another careshed is writing to this output folder");
            }
            return folder_error(ctx, f->path, err, FOLDER_HINT, "cannot lock the output folder");
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(f->path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino) {
            f->lock_fd = fd;
            return CS_OK;
        }
        close(fd); /* swapped under us: lock what the name holds now */
    }
    cs_where w = {.file = f->path};
    return cs_error(ctx, CS_ERR_OUTPUT, &w, "write to another --out folder",
                    "the output folder keeps being replaced by another program");
}

/* A few names of a folder's entries, the smallest in byte order so that a message is
 * the same whatever order the folder lists them in, and how many there are. */
#define FEW_NAMES 3
typedef struct few_names {
    char names[FEW_NAMES][NAME_MAX + 1];
    size_t count;
} few_names;

static void few_names_add(few_names *few, const char *name)
{
    size_t held = few->count < FEW_NAMES ? few->count : FEW_NAMES;
    few->count++;
    size_t at = held;
    while (at > 0 && strcmp(name, few->names[at - 1]) < 0)
        at--;
    if (at == FEW_NAMES)
        return;
    size_t last = held < FEW_NAMES ? held : FEW_NAMES - 1;
    memmove(few->names[at + 1], few->names[at], (last - at) * sizeof few->names[0]);
    snprintf(few->names[at], sizeof few->names[at], "%s", name);
}

/* "'a', 'b', 'c' and 4 more" into b. */
static void few_names_print(cs_buf *b, const few_names *few)
{
    size_t held = few->count < FEW_NAMES ? few->count : FEW_NAMES;
    for (size_t i = 0; i < held; i++) {
        bool last = i + 1 == held && held == few->count;
        cs_buf_printf(b, "%s'%s'", i == 0 ? "" : last ? " and " : ", ", few->names[i]);
    }
    if (few->count > held)
        cs_buf_printf(b, " and %zu more", few->count - held);
}

/* Is there no folder, link or special file in the folder, and is it careshed's: new,
 * empty, marked, or holding only names careshed writes? A folder that is not is
 * refused naming what is in it, unless the context allows overwriting. */
static cs_status check_owned(cs_context *ctx, const cs_folder *f)
{
    DIR *d = opendir(f->path);
    if (!d)
        return folder_error(ctx, f->path, errno, FOLDER_HINT, "cannot list the output folder");
    bool marked = faccessat(dirfd(d), CS_FOLDER_MARKER, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    cs_status st = CS_OK;
    few_names foreign = {.count = 0};
    const cs_input_file *input = NULL; /* an input among the files */
    char input_name[NAME_MAX + 1] = "";
    for (struct dirent *e; st == CS_OK && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat info;
        if (fstatat(dirfd(d), e->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        if (!S_ISREG(info.st_mode)) {
            cs_where w = {.file = f->path};
            st = cs_error(ctx, CS_ERR_OUTPUT, &w,
                          "move it out of the output folder, or choose another --out folder",
                          "the output folder holds %s '%s', which careshed does not write; "
                          "careshed replaces its output folder as a whole",
                          S_ISDIR(info.st_mode)   ? "the folder"
                          : S_ISLNK(info.st_mode) ? "the symbolic link"
                                                  : "the special file",
                          e->d_name);
        } else if (strcmp(e->d_name, CS_FOLDER_MARKER) && !cs_out_file_owner(e->d_name) &&
                   !is_old_temporary(e->d_name)) {
            few_names_add(&foreign, e->d_name);
            if (!input && (input = cs_input_find(ctx, &info)))
                snprintf(input_name, sizeof input_name, "%s", e->d_name);
        }
    }
    closedir(d);
    /* --overwrite takes a folder of other files, never the folder of the inputs: the
     * whole folder is swapped, and the inputs are not careshed's to carry around */
    if (st == CS_OK && !marked && input) {
        cs_where w = {.file = f->path};
        return cs_error(ctx, CS_ERR_OUTPUT, &w,
                        "choose another --out folder, e.g. --out out; inputs are never "
                        "overwritten",
                        "this folder holds the %s input ('%s') and is not a careshed output "
                        "folder; careshed replaces its output folder as a whole, so it does not "
                        "write into a folder of its inputs, even with --overwrite",
                        input->role ? input->role : "study's", input_name);
    }
    if (st == CS_OK && foreign.count > 0 && !marked && !ctx->overwrite) {
        cs_buf names;
        cs_buf_init(&names);
        few_names_print(&names, &foreign);
        cs_where w = {.file = f->path};
        st = cs_error(ctx, CS_ERR_OUTPUT, &w,
                      "choose another --out folder (new or empty), or add --overwrite to write "
                      "into this one: careshed's files then replace those of the same names "
                      "and every other file stays",
                      "this folder is not a careshed output folder (it has no " CS_FOLDER_MARKER
                      " marker) and holds %zu %s careshed did not write: %s",
                      foreign.count, foreign.count == 1 ? "file" : "files",
                      names.failed ? "?" : names.data);
        cs_buf_free(&names);
    }
    return st;
}

/* Staging folders of killed runs, and a previous set a killed swap left. */
static void remove_leftovers(const cs_folder *f)
{
    DIR *d = opendir(f->parent);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_leftover_of(e->d_name, f->name))
            continue;
        char *path = path_join(f->parent, e->d_name);
        if (path)
            (void)remove_set(path);
        cs_free(path);
    }
    if (d)
        closedir(d);
}

/* The staging folder gets the output folder's permissions, which it will take over. */
static cs_status make_staging(cs_context *ctx, cs_folder *f)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "%s/.%s" STAGING_TAG "XXXXXX", strcmp(f->parent, "/") ? f->parent : "",
                  f->name);
    f->staging = cs_buf_take(&b);
    if (!f->staging)
        return cs_nomem(ctx);
    if (!mkdtemp(f->staging)) {
        int err = errno;
        cs_free(f->staging);
        f->staging = NULL;
        return folder_error(ctx, f->parent, err,
                            "careshed writes the new set beside the output folder; make its "
                            "parent folder writable or choose another --out folder",
                            "cannot create a folder beside the output folder");
    }
    struct stat info;
    if (stat(f->path, &info) == 0)
        (void)chmod(f->staging, info.st_mode & 07777);
    return CS_OK;
}

cs_status cs_folder_open(cs_context *ctx, const char *dir, const char *owner, cs_folder **out)
{
    *out = NULL;
    cs_folder *f = cs_calloc(1, sizeof *f);
    if (!f || !(f->owner = cs_strdup(owner))) {
        cs_free(f);
        return cs_nomem(ctx);
    }
    f->lock_fd = -1;
    struct stat info;
    if (lstat(dir, &info) != 0 && errno == ENOENT)
        restore_previous(dir);
    cs_status st = cs_folder_make(ctx, dir);
    if (st == CS_OK)
        st = cs_folder_check_writable(ctx, dir);
    if (st == CS_OK)
        st = resolve(ctx, f, dir);
    if (st == CS_OK)
        st = lock(ctx, f);
    if (st == CS_OK)
        st = check_owned(ctx, f);
    if (st == CS_OK) {
        remove_leftovers(f);
        st = make_staging(ctx, f);
    }
    if (st != CS_OK) {
        cs_folder_close(f);
        return st;
    }
    *out = f;
    return CS_OK;
}

cs_status cs_folder_check(cs_context *ctx, const char *dir)
{
    struct stat info;
    if (lstat(dir, &info) != 0 && errno == ENOENT)
        return CS_OK; /* made when written */
    cs_folder f = {.lock_fd = -1};
    cs_status st = cs_folder_check_writable(ctx, dir);
    if (st == CS_OK)
        st = resolve(ctx, &f, dir);
    if (st == CS_OK)
        st = check_owned(ctx, &f);
    cs_free(f.path);
    cs_free(f.parent);
    cs_free(f.name);
    return st;
}

const char *cs_folder_staging(const cs_folder *f)
{
    return f->staging;
}

/* ------------------------------------------------------------------- swap */

static bool in_list(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* What the swap would drop must not be an input (lstat: dropping a link to an input
 * leaves the input as it is). */
static cs_status check_not_input(cs_context *ctx, const cs_folder *f, int dfd, const char *name)
{
    struct stat info;
    const cs_input_file *in = NULL;
    if (fstatat(dfd, name, &info, AT_SYMLINK_NOFOLLOW) != 0 || !(in = cs_input_find(ctx, &info)))
        return CS_OK;
    char *path = path_join(f->path, name);
    cs_where w = {.file = path ? path : name};
    cs_status st = cs_error(ctx, CS_ERR_OUTPUT, &w,
                            "choose another --out folder; inputs are never overwritten",
                            "writing the output folder would replace the %s input (%s)",
                            in->role ? in->role : "study's", in->path ? in->path : "name unknown");
    cs_free(path);
    return st;
}

/* ---------------------------------------------------------------- marker */

/*
 * The marker is also the set's manifest: careshed's version and a line
 * "file OWNER NAME" for each careshed file in the folder, sorted, so that a rerun knows
 * the files of an earlier run even when this version does not write them by that name.
 */
#define MANIFEST_MAX (1 << 20) /* a larger marker is not one of ours: read as unlisted */

typedef struct manifest {
    char **lines; /* "file OWNER NAME", new */
    size_t count, capacity;
    bool failed; /* an allocation failed */
} manifest;

static void manifest_add(manifest *m, const char *owner, const char *name)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "file %s %s", owner, name);
    char *line = cs_buf_take(&b);
    if (!line || !cs_grow((void **)&m->lines, &m->capacity, m->count + 1, sizeof *m->lines)) {
        cs_free(line);
        m->failed = true;
        return;
    }
    m->lines[m->count++] = line;
}

static void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->count; i++)
        cs_free(m->lines[i]);
    cs_free(m->lines);
}

/* The previous marker's text, NULL in *out when there is none (or it is not a small
 * plain file: an early careshed's one-line marker lists nothing, which is fine). */
static cs_status read_marker(cs_context *ctx, const cs_folder *f, int dfd, char **out)
{
    *out = NULL;
    int fd = openat(dfd, CS_FOLDER_MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size > MANIFEST_MAX) {
        if (fd >= 0)
            close(fd);
        return CS_OK;
    }
    size_t len = (size_t)info.st_size, got = 0;
    char *text = cs_malloc(len + 1);
    if (!text) {
        close(fd);
        return cs_nomem(ctx);
    }
    for (ssize_t r = 1; got < len && r > 0; got += r > 0 ? (size_t)r : 0)
        r = read(fd, text + got, len - got);
    int err = got < len ? (errno ? errno : EIO) : 0;
    close(fd);
    text[got] = '\0';
    if (err) {
        cs_free(text);
        char *path = path_join(f->path, CS_FOLDER_MARKER);
        cs_status st = folder_error(ctx, path ? path : f->path, err, FOLDER_HINT,
                                    "cannot read the output folder's marker");
        cs_free(path);
        return st;
    }
    *out = text;
    return CS_OK;
}

/* The owner a marker's text lists name under, copied into owner; NULL when unlisted. */
static const char *listed_owner(const char *text, const char *name, char *owner, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *space = strncmp(line, "file ", 5) == 0 ? memchr(line + 5, ' ', len - 5) : NULL;
        if (space && (size_t)(line + len - space - 1) == n && !memcmp(space + 1, name, n) &&
            (size_t)(space - line - 5) < cap) {
            memcpy(owner, line + 5, (size_t)(space - line - 5));
            owner[space - line - 5] = '\0';
            return owner;
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Which careshed command wrote name: known by its name, or listed in the marker. */
static const char *owner_of(const char *marker, const char *name, char *owner, size_t cap)
{
    const char *known = cs_out_file_owner(name);
    return known ? known : marker ? listed_owner(marker, name, owner, cap) : NULL;
}

/* Hard-link the files the new set keeps into the staging folder and list careshed's
 * among them in m; check what it drops; count the files kept that are not careshed's. */
static cs_status carry_over(cs_context *ctx, const cs_folder *f, const char *marker,
                            const char *const *names, size_t n, manifest *m, few_names *kept)
{
    if (ctx->inputs_read_lost)
        return cs_nomem(ctx);
    DIR *d = opendir(f->path);
    if (!d)
        return folder_error(ctx, f->path, errno, FOLDER_HINT, "cannot list the output folder");
    int staging_fd = open(f->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cs_status st = staging_fd < 0 ? folder_error(ctx, f->staging, errno, FOLDER_HINT,
                                                 "cannot open the new output folder")
                                  : CS_OK;
    for (struct dirent *e; st == CS_OK && (e = readdir(d));) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        char buf[64];
        const char *owner = owner_of(marker, name, buf, sizeof buf);
        /* the owner's files of the previous set are dropped, whether the new one
         * writes them again or not: the set is exactly the new run's files */
        bool dropped = in_list(name, names, n) || is_old_temporary(name) ||
                       !strcmp(name, CS_FOLDER_MARKER) || (owner && !strcmp(owner, f->owner));
        if (dropped) {
            st = check_not_input(ctx, f, dirfd(d), name);
        } else if (linkat(dirfd(d), name, staging_fd, name, 0) != 0) {
            char *path = path_join(f->path, name);
            st = folder_error(ctx, path ? path : f->path, errno,
                              "move it out of the output folder, or choose another --out folder",
                              "cannot keep this file in the new output set");
            cs_free(path);
        } else if (owner) {
            manifest_add(m, owner, name);
        } else {
            few_names_add(kept, name);
        }
    }
    closedir(d);
    if (staging_fd >= 0)
        close(staging_fd);
    return st;
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cs_status write_marker(cs_context *ctx, const cs_folder *f, manifest *m)
{
    qsort(m->lines, m->count, sizeof *m->lines, compare_lines);
    cs_buf text;
    cs_buf_init(&text);
    cs_buf_printf(&text,
                  "# careshed output folder. Each careshed command replaces its files listed\n"
                  "# below as one set; files not listed are not careshed's and are kept.\n"
                  "version %s\n",
                  cs_version());
    for (size_t i = 0; i < m->count; i++)
        cs_buf_printf(&text, "%s\n", m->lines[i]);
    char *path = path_join(f->staging, CS_FOLDER_MARKER);
    if (!path || text.failed) {
        cs_free(path);
        cs_buf_free(&text);
        return cs_nomem(ctx);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int err = fd < 0 ? errno : cs_write_all(fd, text.data, text.len);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (fd >= 0 && close(fd) != 0 && !err)
        err = errno;
    cs_status st = err ? folder_error(ctx, path, err, FOLDER_HINT, "cannot write the output file")
                       : CS_OK;
    cs_free(path);
    cs_buf_free(&text);
    return st;
}

/* Files that are not careshed's stay in its folder: say which, every time. */
static void warn_kept(cs_context *ctx, const cs_folder *f, const few_names *kept)
{
    if (kept->count == 0)
        return;
    cs_buf names;
    cs_buf_init(&names);
    few_names_print(&names, kept);
    cs_where w = {.file = f->path};
    cs_warn(ctx, &w, "move them elsewhere if they do not belong with the outputs",
            "kept %zu %s that no careshed command wrote (%s): careshed never removes files it "
            "did not write, and they are not part of its output set",
            kept->count, kept->count == 1 ? "file" : "files", names.failed ? "?" : names.data);
    cs_buf_free(&names);
}

/* For file systems without RENAME_EXCHANGE (NFS, some FUSE): the previous set moves
 * aside to a fixed name first, which the next writer puts back if killed between the
 * two renames. */
static int swap_by_renames(const cs_folder *f)
{
    char *prev = previous_path(f->parent, f->name);
    if (!prev)
        return ENOMEM;
    (void)remove_set(prev);
    int err = 0;
    if (rename(f->path, prev) != 0) {
        err = errno;
    } else if (rename(f->staging, f->path) != 0) {
        err = errno;
        (void)rename(prev, f->path);
    } else if (rename(prev, f->staging) != 0) {
        (void)remove_set(prev);
    }
    cs_free(prev);
    return err;
}

/* The new set in the staging folder: the kept files, the marker listing them. */
static cs_status fill_staging(cs_context *ctx, cs_folder *f, const char *const *names,
                              size_t n)
{
    manifest m = {.lines = NULL};
    few_names kept = {.count = 0};
    char *marker = NULL;
    int dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cs_status st = dfd < 0 ? folder_error(ctx, f->path, errno, FOLDER_HINT,
                                          "cannot open the output folder")
                           : read_marker(ctx, f, dfd, &marker);
    if (dfd >= 0)
        close(dfd);
    for (size_t i = 0; st == CS_OK && i < n; i++)
        manifest_add(&m, f->owner, names[i]);
    if (st == CS_OK)
        st = carry_over(ctx, f, marker, names, n, &m, &kept);
    if (st == CS_OK && m.failed)
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = write_marker(ctx, f, &m);
    if (st == CS_OK)
        warn_kept(ctx, f, &kept);
    manifest_free(&m);
    cs_free(marker);
    return st;
}

cs_status cs_folder_swap(cs_context *ctx, cs_folder *f, const char *const *names, size_t n)
{
    cs_status st = fill_staging(ctx, f, names, n);
    if (st != CS_OK)
        return st;
    cs_folder_sync(f->staging);
    int err = 0;
    if (renameat2(AT_FDCWD, f->staging, AT_FDCWD, f->path, RENAME_EXCHANGE) != 0) {
        err = errno;
        if (err == EINVAL || err == ENOSYS || err == ENOTSUP)
            err = swap_by_renames(f);
    }
    if (err)
        return folder_error(ctx, f->path, err, FOLDER_HINT,
                            "cannot move the new output set into place; the folder keeps the "
                            "previous set");
    f->swapped = true;
    cs_folder_sync(f->parent);
    err = set_bytes(f->staging) >= DETACH_BYTES && remove_set_detached(f->staging)
              ? 0
              : remove_set(f->staging);
    if (err) {
        char reason[128];
        cs_describe_errno(err, reason);
        cs_where w = {.file = f->staging};
        cs_warn(ctx, &w, "the next run into the same folder removes it",
                "the previous output set could not be removed: %s", reason);
    }
    return CS_OK;
}

void cs_folder_close(cs_folder *f)
{
    if (!f)
        return;
    if (f->staging && !f->swapped)
        (void)remove_set(f->staging);
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    cs_free(f->path);
    cs_free(f->parent);
    cs_free(f->name);
    cs_free(f->staging);
    cs_free(f->owner);
    cs_free(f);
}
