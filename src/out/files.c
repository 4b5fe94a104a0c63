/*
 * files.c — SHA-256 of files through OpenSSL's EVP interface, and the output set
 * every writer goes through (see files.h): a folder replaced as a whole (folder.c),
 * or single files each renamed into place from a temporary beside it.
 */
#define _GNU_SOURCE /* sync_file_range */
#include "out/files.h"

#include "out/folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA256_CHUNK (64 * 1024)


/* ----------------------------------------------------------------- SHA-256 */

static void to_hex(const unsigned char *digest, unsigned len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0F];
    }
    hex[2 * len] = '\0';
}

cs_status cs_sha256_file(cs_context *ctx, const char *path, char hex_out[65])
{
    if (hex_out)
        hex_out[0] = '\0';
    if (!path || !hex_out)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_sha256_file needs a path and an output buffer");
    cs_where where = {.file = path};
    char reason[128];
    cs_status st = CS_OK;
    unsigned char *chunk = NULL;
    EVP_MD_CTX *md = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cs_describe_errno(errno, reason);
        st = cs_error(ctx, CS_ERR_INPUT, &where, "check the path and its permissions",
                      "cannot open the file to compute its checksum: %s", reason);
        goto done;
    }
    chunk = cs_malloc(SHA256_CHUNK);
    if (!chunk) {
        st = cs_nomem(ctx);
        goto done;
    }
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        st = cs_error(ctx, CS_ERR_INTERNAL, &where, NULL, "OpenSSL cannot start SHA-256");
        goto done;
    }
    for (;;) {
        size_t n = fread(chunk, 1, SHA256_CHUNK, f);
        if (n > 0 && EVP_DigestUpdate(md, chunk, n) != 1) {
            st = cs_error(ctx, CS_ERR_INTERNAL, &where, NULL, "OpenSSL SHA-256 failed");
            goto done;
        }
        if (n < SHA256_CHUNK) {
            if (ferror(f)) {
                /* Also where a folder given as a file ends up (EISDIR). */
                cs_describe_errno(errno, reason);
                st = cs_error(ctx, CS_ERR_INPUT, &where, "check the path",
                              "cannot read the file to compute its checksum: %s", reason);
                goto done;
            }
            break;
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    if (EVP_DigestFinal_ex(md, digest, &digest_len) != 1 || digest_len != 32) {
        st = cs_error(ctx, CS_ERR_INTERNAL, &where, NULL, "OpenSSL SHA-256 failed");
        goto done;
    }
    to_hex(digest, digest_len, hex_out);
done:
    EVP_MD_CTX_free(md);
    cs_free(chunk);
    if (f)
        fclose(f);
    return st;
}

/* ------------------------------------------------------------ output set */

typedef struct pending_file {
    char *name;       /* as given to cs_outset_add */
    char *tmp_path;   /* where it is written: a temporary, or its place in the staging
                       * folder; exists until renamed or removed */
    char *final_path; /* dir/name */
    int fd;           /* the temporary, open until the set is flushed at commit (single
                       * files: and flock'ed until renamed or removed, so others can tell
                       * it from a dead run's) */
    struct direct_writer *direct; /* an unbuffered file's writer; NULL otherwise */
    bool by_path;     /* written in place by another library (fd -1): opened to flush */
} pending_file;

struct cs_outset {
    pthread_mutex_t lock; /* the list of files and `failed`: a file may be written from
                           * another thread while this one adds files (files.h) */
    char *dir;
    cs_folder *folder; /* a folder replaced as a whole; NULL: single files */
    pending_file *files;
    size_t count, capacity;
    mode_t file_mode; /* mkstemp makes 0600 files; outputs get the usual 0666 & ~umask */
    bool failed;      /* an add failed: commit must refuse */
    bool committed;
};

/*
 * The mode a plain open() would give a new file. The umask is read from
 * /proc/self/status because umask() can only be read by changing it, which would
 * race with other threads; 022 when that is unavailable.
 */
static mode_t default_file_mode(void)
{
    unsigned mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        unsigned value;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &value) == 1)
                mask = value;
        fclose(f);
    }
    return (mode_t)(0666 & ~mask);
}

static cs_status new_set(cs_context *ctx, const char *dir, cs_outset **out)
{
    cs_outset *set = cs_calloc(1, sizeof *set);
    if (!set || !(set->dir = cs_strdup(dir))) {
        cs_free(set);
        return cs_nomem(ctx);
    }
    set->file_mode = default_file_mode();
    pthread_mutex_init(&set->lock, NULL);
    *out = set;
    return CS_OK;
}

cs_status cs_outset_begin(cs_context *ctx, const char *dir, cs_outset **out)
{
    if (out)
        *out = NULL;
    if (!dir || !*dir || !out)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_begin needs a folder name and an output pointer");
    cs_status st = cs_folder_make(ctx, dir);
    if (st == CS_OK)
        st = cs_folder_check_writable(ctx, dir);
    return st == CS_OK ? new_set(ctx, dir, out) : st;
}

cs_status cs_outset_begin_folder(cs_context *ctx, const char *dir, const char *owner,
                                 cs_outset **out)
{
    if (out)
        *out = NULL;
    if (!dir || !*dir || !owner || !out)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_begin_folder needs a folder name, an owner and an output "
                        "pointer");
    cs_folder *folder = NULL;
    cs_status st = cs_folder_open(ctx, dir, owner, &folder);
    if (st == CS_OK)
        st = new_set(ctx, dir, out);
    if (st == CS_OK)
        (*out)->folder = folder;
    else
        cs_folder_close(folder);
    return st;
}

static bool valid_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0 && strcmp(name, CS_FOLDER_MARKER) != 0;
}

/* Temporaries of name that no live writer holds (killed runs left them): removed. A
 * writer keeps an flock on its temporary until it is renamed, so a lock we can take
 * is a dead writer's. */
static void remove_dead_temporaries(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    size_t n = strlen(name);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *s = e->d_name;
        if (s[0] != '.' || strncmp(s + 1, name, n) || strncmp(s + 1 + n, ".tmp-", 5) ||
            strlen(s + 1 + n + 5) != 6)
            continue;
        int fd = openat(dirfd(d), s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
            (void)unlinkat(dirfd(d), s, 0);
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
}

/* Create f->tmp_path: a mkstemp template for single files (locked), a new name in the
 * staging folder otherwise; f->fd open on it. 0 or an errno (nothing created). */
static int open_temporary(const cs_outset *set, pending_file *f)
{
    if (!set->folder)
        remove_dead_temporaries(set->dir, f->name);
    int fd = set->folder ? open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)
                         : mkstemp(f->tmp_path);
    if (fd < 0)
        return errno;
    if (!set->folder)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC); /* no child process holds the lock */
    if (!set->folder && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        unlink(f->tmp_path);
        return err;
    }
    /* Best effort: a file left at 0600 is still a correct output. */
    if (!set->folder)
        (void)fchmod(fd, set->file_mode);
    f->fd = fd;
    return 0;
}

/* ------------------------------------------------ writing past the page cache */

/* Unbuffered files are written in whole blocks of DIRECT_ALIGN bytes at offsets of a
 * multiple of it, from memory aligned the same, DIRECT_CHUNK at most at a time. */
#define DIRECT_ALIGN ((uint64_t)4096)
#define DIRECT_CHUNK ((size_t)4 << 20)
/* cs_outset_add writes a file of this size or more past the page cache */
#define DIRECT_MIN ((size_t)8 << 20)
/* an unbuffered file's writer asks for what it wrote to be on disk after this much */
#define DIRECT_SYNC_EVERY ((uint64_t)64 << 20)

/*
 * An unbuffered file's writer. Copying hundreds of megabytes into fresh page-cache
 * pages costs more processor time than building them (on a 2-core virtual machine
 * 1.7 s of the 2.1 s of writing 800 MB, against 0.1 s unbuffered), and the disk is as
 * fast either way; but an unbuffered write waits for the disk. So a thread of the
 * file's own writes the whole blocks, from one of two aligned copies while the caller
 * fills the other: the disk works while the next piece is built. The block a piece
 * ends in is held for the next piece (carry, below); a block a piece starts in after a
 * gap, and a held block no piece fills, go through the page cache (pieces never
 * overlap, so no block is written both ways), and so does everything once the file
 * system refuses (EINVAL).
 * A failed write is kept and reported by the next write, the sync or the commit.
 */
typedef struct direct_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int fd, buffered_fd; /* the temporary past the page cache, and through it */
    unsigned char *memory, *copy[2];
    uint64_t at[2];
    size_t len[2];
    bool full[2];        /* copy i waits to be written */
    int fill, write;     /* the copy filled next, the copy written next */
    bool stop, refused;
    int err;             /* the first write that failed (an errno) */
    uint64_t unsynced;   /* bytes written since the last sync (writer thread only) */
    /* The start of a block a piece ended in, held until the next piece (which usually
     * goes on where this one ended) fills it, and only then written past the cache.
     * Written through the page cache at once, it made each piece wait for the disk:
     * the file system locks the file while a write past the cache runs (demand.fgb of
     * the large bench study: 1.75 -> 1.49 s). Used by the caller's thread only. */
    unsigned char carry[DIRECT_ALIGN];
    uint64_t carry_at;   /* the block's offset */
    size_t carry_len;    /* bytes of it held (0: none) */
} direct_writer;

/* len bytes at offset of fd. 0 or an errno. */
static int write_all(int fd, const unsigned char *data, size_t len, uint64_t offset)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, data + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        done += (size_t)n;
    }
    return 0;
}

/* A write past the page cache may still wait in a cache below it (a virtual machine's
 * disk is often a file in its host's page cache), to be written only when the file is
 * synced: on the bench machine demand.fgb's sync then waited 0.4 s for 800 MB. Synced
 * now and then on the writer's thread, the disk writes them while the rest is built.
 * Best effort: a failure here is reported again to the file's other descriptor, whose
 * fsync the sync or the commit checks (write errors are kept per open file). */
static void sync_now_and_then(direct_writer *w, size_t written)
{
    w->unsynced += written;
    if (w->unsynced < DIRECT_SYNC_EVERY)
        return;
    w->unsynced = 0;
    (void)fdatasync(w->fd);
}

static void *direct_write_loop(void *arg)
{
    direct_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->full[w->write] && !w->stop)
            pthread_cond_wait(&w->changed, &w->lock);
        if (!w->full[w->write])
            break; /* stopped, and nothing left */
        int i = w->write;
        bool refused = w->refused;
        pthread_mutex_unlock(&w->lock);
        int err = refused ? EINVAL : write_all(w->fd, w->copy[i], w->len[i], w->at[i]);
        if (err == EINVAL) { /* the file system will not: through the page cache */
            refused = true;
            err = write_all(w->buffered_fd, w->copy[i], w->len[i], w->at[i]);
        }
        if (!err)
            sync_now_and_then(w, w->len[i]);
        pthread_mutex_lock(&w->lock);
        w->refused = refused;
        if (err && !w->err)
            w->err = err;
        w->full[i] = false;
        w->write = 1 - i;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* A writer for f's temporary, past the page cache where the file system allows it;
 * NULL (f written through the page cache like any other) otherwise. */
static direct_writer *direct_start(const pending_file *f)
{
#ifdef O_DIRECT
    direct_writer *w = cs_calloc(1, sizeof *w);
    if (!w) {
        (void)cs_take_nomem(); /* not an error: the file is written buffered */
        return NULL;
    }
    w->buffered_fd = f->fd;
    w->fd = open(f->tmp_path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    w->memory = w->fd >= 0 ? cs_malloc(2 * DIRECT_CHUNK + DIRECT_ALIGN) : NULL;
    bool ok = w->memory && pthread_mutex_init(&w->lock, NULL) == 0;
    if (ok && pthread_cond_init(&w->changed, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        ok = false;
    }
    if (ok) {
        uintptr_t at = ((uintptr_t)w->memory + DIRECT_ALIGN - 1) & ~(uintptr_t)(DIRECT_ALIGN - 1);
        w->copy[0] = (unsigned char *)at;
        w->copy[1] = w->copy[0] + DIRECT_CHUNK;
        if (pthread_create(&w->thread, NULL, direct_write_loop, w) != 0) {
            pthread_cond_destroy(&w->changed);
            pthread_mutex_destroy(&w->lock);
            ok = false;
        }
    }
    if (!ok) {
        (void)cs_take_nomem();
        if (w->fd >= 0)
            close(w->fd);
        cs_free(w->memory);
        cs_free(w);
        return NULL;
    }
    return w;
#else
    (void)f;
    return NULL;
#endif
}

/* Hand the whole blocks [from, to) of a piece starting at offset to the writer. 0, or
 * the errno of a write that failed before. */
static int direct_queue(direct_writer *w, const char *data, uint64_t offset, uint64_t from,
                        uint64_t to)
{
    for (uint64_t at = from; at < to;) {
        size_t n = to - at < DIRECT_CHUNK ? (size_t)(to - at) : DIRECT_CHUNK;
        pthread_mutex_lock(&w->lock);
        while (w->full[w->fill] && !w->err)
            pthread_cond_wait(&w->changed, &w->lock);
        int err = w->err, i = w->fill;
        pthread_mutex_unlock(&w->lock);
        if (err)
            return err;
        memcpy(w->copy[i], data + (at - offset), n);
        pthread_mutex_lock(&w->lock);
        w->at[i] = at;
        w->len[i] = n;
        w->full[i] = true;
        w->fill = 1 - i;
        pthread_cond_broadcast(&w->changed);
        pthread_mutex_unlock(&w->lock);
        at += n;
    }
    return 0;
}

/* The held start of a block, through the page cache (its whole block never goes past
 * it). 0 or an errno. */
static int direct_flush_carry(direct_writer *w)
{
    size_t n = w->carry_len;
    w->carry_len = 0;
    return n ? write_all(w->buffered_fd, w->carry, n, w->carry_at) : 0;
}

/* Let writer w write what it holds and end (NULL: none); 0 or the errno of a write
 * that failed. */
static int direct_end(direct_writer *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    int err = w->err, carried = direct_flush_carry(w);
    if (!err)
        err = carried;
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    close(w->fd);
    cs_free(w->memory);
    cs_free(w);
    return err;
}

/* End f's writer, if it has one: as direct_end. */
static int direct_finish(pending_file *f)
{
    direct_writer *w = f->direct;
    f->direct = NULL;
    return direct_end(w);
}

/* len bytes at offset of f's temporary, through the page cache. Their writing to disk
 * is started, not waited for: flush_all waits at commit, so that the disk works while
 * the other outputs are built. 0 or an errno. */
static int write_buffered(const pending_file *f, const char *data, size_t len, uint64_t offset)
{
    int err = write_all(f->fd, (const unsigned char *)data, len, offset);
#ifdef SYNC_FILE_RANGE_WRITE
    if (!err && len > 0)
        (void)sync_file_range(f->fd, (off_t)offset, (off_t)len, SYNC_FILE_RANGE_WRITE);
#endif
    return err;
}

/* Writer w's held block continued by the first bytes of a piece at *offset, when the
 * piece goes on where the held bytes end; written past the cache once whole. Any other
 * piece has the held bytes written through the cache first (pieces never overlap, but
 * one may fill a gap before them). 0 or an errno. */
static int direct_continue(direct_writer *w, const char **data, size_t *len, uint64_t *offset)
{
    if (!w->carry_len)
        return 0;
    if (*offset != w->carry_at + w->carry_len)
        return direct_flush_carry(w);
    size_t n = DIRECT_ALIGN - w->carry_len < *len ? DIRECT_ALIGN - w->carry_len : *len;
    memcpy(w->carry + w->carry_len, *data, n);
    w->carry_len += n;
    *data += n;
    *len -= n;
    *offset += n;
    if (w->carry_len < DIRECT_ALIGN)
        return 0;
    w->carry_len = 0;
    return direct_queue(w, (const char *)w->carry, w->carry_at, w->carry_at,
                        w->carry_at + DIRECT_ALIGN);
}

/* len bytes at offset of f's temporary: an unbuffered file's whole blocks through its
 * writer, a block the piece ends in held for the next piece, the start of a block it
 * begins in (after a gap) through the page cache. 0 or an errno. */
static int write_temporary(const pending_file *f, const char *data, size_t len, uint64_t offset)
{
    direct_writer *w = f->direct;
    if (!w)
        return write_buffered(f, data, len, offset);
    int err = direct_continue(w, &data, &len, &offset);
    if (err || len == 0)
        return err;
    uint64_t end = offset + len;
    uint64_t from = (offset + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
    uint64_t to = end / DIRECT_ALIGN * DIRECT_ALIGN;
    if (end <= from) /* within the block it begins in, after a gap */
        return write_buffered(f, data, len, offset);
    err = write_buffered(f, data, (size_t)(from - offset), offset);
    if (!err && to > from)
        err = direct_queue(w, data, offset, from, to);
    if (!err && end > to) {
        memcpy(w->carry, data + (to - offset), (size_t)(end - to));
        w->carry_at = to;
        w->carry_len = (size_t)(end - to);
    }
    return err;
}

static void mark_failed(cs_outset *set)
{
    pthread_mutex_lock(&set->lock);
    set->failed = true;
    pthread_mutex_unlock(&set->lock);
}

/* f's temporary could not be written: it is removed. */
static cs_status file_failed(cs_context *ctx, pending_file *f, int err)
{
    char reason[128];
    cs_describe_errno(err, reason);
    cs_where where = {.file = f->final_path};
    cs_status st = cs_error(ctx, CS_ERR_OUTPUT, &where,
                            "free some disk space, or choose another --out folder or fix "
                            "its permissions",
                            "cannot write the output file: %s", reason);
    (void)direct_finish(f); /* the first failure is the one reported */
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    unlink(f->tmp_path);
    return st;
}

/* As file_failed for the set's file, and the set can no longer be committed. */
static cs_status write_failed(cs_context *ctx, cs_outset *set, size_t file, int err)
{
    pthread_mutex_lock(&set->lock);
    cs_status st = file_failed(ctx, &set->files[file], err);
    set->failed = true;
    pthread_mutex_unlock(&set->lock);
    return st;
}

/* Wait for every file of the set to be on disk (fsync), and close the staging
 * folder's files; CS_ERR_OUTPUT naming the first file that could not be written. */
static cs_status flush_all(cs_context *ctx, cs_outset *set)
{
    for (size_t i = 0; i < set->count; i++) {
        pending_file *f = &set->files[i];
        int err = direct_finish(f); /* what it wrote is the file's: the fsync covers it */
        if (f->by_path && (f->fd = open(f->tmp_path, O_RDONLY | O_CLOEXEC)) < 0)
            err = errno;
        if (!err && fsync(f->fd) != 0)
            err = errno;
        /* close() can be where a network file system reports a failed write */
        if (set->folder && close(f->fd) != 0 && !err)
            err = errno;
        if (set->folder)
            f->fd = -1;
        if (err) {
            char reason[128];
            cs_describe_errno(err, reason);
            cs_where where = {.file = f->final_path};
            return cs_error(ctx, CS_ERR_OUTPUT, &where,
                            "free some disk space, or choose another --out folder or fix "
                            "its permissions",
                            "cannot write the output file: %s; no output was replaced",
                            reason);
        }
    }
    return CS_OK;
}

static void free_pending(pending_file *f)
{
    (void)direct_finish(f);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    cs_free(f->name);
    cs_free(f->tmp_path);
    cs_free(f->final_path);
}

static char *join_path(const char *dir, const char *prefix, const char *name,
                       const char *suffix)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "%s/%s%s%s", dir, prefix, name, suffix);
    return cs_buf_take(&b);
}

/* How a pending file is written: through the page cache, past it, or by another
 * library at its path (not created here). */
typedef enum written { BUFFERED, UNBUFFERED, BY_PATH } written;

static cs_status open_file(cs_context *ctx, cs_outset *set, const char *name, written how,
                           size_t *file)
{
    if (!set || !valid_name(name) || !file || set->committed)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_open: no set, an invalid file name, or a committed set");
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->files[i].name, name) == 0)
            return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                            "output file '%s' was added twice", name);
    pending_file f = {.fd = -1};
    f.name = cs_strdup(name);
    f.tmp_path = set->folder ? join_path(cs_folder_staging(set->folder), "", name, "")
                             : join_path(set->dir, ".", name, ".tmp-XXXXXX");
    f.final_path = join_path(set->dir, "", name, "");
    pthread_mutex_lock(&set->lock);
    bool room = cs_grow((void **)&set->files, &set->capacity, set->count + 1, sizeof f);
    pthread_mutex_unlock(&set->lock);
    if (!f.name || !f.tmp_path || !f.final_path || !room) {
        free_pending(&f);
        mark_failed(set);
        return cs_nomem(ctx);
    }
    cs_status st = set->folder ? CS_OK : cs_output_path_check(ctx, f.final_path);
    /* a file written by path is left to its library to create (GDAL refuses to make a
     * package over a file); its name in the staging folder is the set's alone */
    int err = st == CS_OK && how != BY_PATH ? open_temporary(set, &f) : 0;
    if (st == CS_OK && err)
        st = file_failed(ctx, &f, err);
    if (st != CS_OK) {
        free_pending(&f);
        mark_failed(set);
        return st;
    }
    if (how == UNBUFFERED)
        f.direct = direct_start(&f);
    f.by_path = how == BY_PATH;
    pthread_mutex_lock(&set->lock);
    *file = set->count;
    set->files[set->count++] = f;
    pthread_mutex_unlock(&set->lock);
    return CS_OK;
}

cs_status cs_outset_open(cs_context *ctx, cs_outset *set, const char *name, size_t *file)
{
    return open_file(ctx, set, name, BUFFERED, file);
}

cs_status cs_outset_open_unbuffered(cs_context *ctx, cs_outset *set, const char *name,
                                    size_t *file)
{
    return open_file(ctx, set, name, UNBUFFERED, file);
}

cs_status cs_outset_open_path(cs_context *ctx, cs_outset *set, const char *name,
                              const char **path)
{
    if (!set || !set->folder || !path)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_open_path: no set, a set of single files, or no path");
    size_t file = 0;
    cs_status st = open_file(ctx, set, name, BY_PATH, &file);
    if (st != CS_OK)
        return st;
    pthread_mutex_lock(&set->lock);
    *path = set->files[file].tmp_path;
    pthread_mutex_unlock(&set->lock);
    return CS_OK;
}

cs_status cs_outset_write_at(cs_context *ctx, cs_outset *set, size_t file, const void *data,
                             size_t len, uint64_t offset)
{
    if (!set || file >= set->count || (!data && len > 0) || set->committed)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_write_at: no set, no such file, or a committed set");
    /* the file as it is now: another thread may move the list while this one writes */
    pthread_mutex_lock(&set->lock);
    pending_file f = set->files[file];
    pthread_mutex_unlock(&set->lock);
    if (f.fd < 0) /* its writing failed before, and was reported */
        return CS_ERR_OUTPUT;
    int err = write_temporary(&f, data, len, offset);
    return err ? write_failed(ctx, set, file, err) : CS_OK;
}

cs_status cs_outset_sync(cs_context *ctx, cs_outset *set, size_t file)
{
    /* the writer, taken from the list under its lock: the list may move meanwhile */
    pthread_mutex_lock(&set->lock);
    int fd = file < set->count ? set->files[file].fd : -1;
    direct_writer *w = fd >= 0 ? set->files[file].direct : NULL;
    if (w)
        set->files[file].direct = NULL;
    pthread_mutex_unlock(&set->lock);
    if (fd < 0)
        return CS_ERR_OUTPUT; /* reported when its writing failed */
    int err = direct_end(w);
    if (!err && fsync(fd) != 0)
        err = errno;
    return err ? write_failed(ctx, set, file, err) : CS_OK;
}

cs_status cs_outset_add(cs_context *ctx, cs_outset *set, const char *name, const char *data,
                        size_t len)
{
    size_t file = 0;
    /* a large file (a layer of a city's streets, the package) costs less past the page
     * cache too; a small one is not worth a second descriptor */
    cs_status st = open_file(ctx, set, name, len >= DIRECT_MIN, &file);
    if (st != CS_OK)
        return st;
    st = cs_outset_write_at(ctx, set, file, data ? data : "", len, 0);
    if (st != CS_OK) { /* not written: the set no longer lists it (its temporary is gone) */
        pthread_mutex_lock(&set->lock);
        free_pending(&set->files[file]);
        set->count--;
        pthread_mutex_unlock(&set->lock);
    }
    return st;
}

void cs_outset_abort(cs_outset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++) {
        unlink(set->files[i].tmp_path);
        free_pending(&set->files[i]);
    }
    set->count = 0;
}

/* Rename i failed after 0..i-1 succeeded: say exactly what state the folder is in. */
static cs_status report_partial_commit(cs_context *ctx, const cs_outset *set, size_t i,
                                       int err)
{
    char reason[128];
    cs_describe_errno(err, reason);
    cs_buf done;
    cs_buf_init(&done);
    for (size_t k = 0; k < i; k++)
        cs_buf_printf(&done, "%s%s", k ? ", " : "", set->files[k].name);
    cs_where where = {.file = set->files[i].final_path};
    cs_status st = cs_error(
        ctx, CS_ERR_OUTPUT, &where,
        "the output folder now mixes new and old files; fix the cause and run again",
        "cannot move the new file into place: %s; %zu of %zu output files were already "
        "replaced (%s), the others keep their old content",
        reason, i, set->count, i == 0 ? "none" : done.failed ? "?" : done.data);
    cs_buf_free(&done);
    return st;
}

/* Single files: each renamed into place (atomic per file). */
static cs_status commit_files(cs_context *ctx, cs_outset *set)
{
    for (size_t i = 0; i < set->count; i++) {
        cs_status st = cs_output_path_check(ctx, set->files[i].final_path);
        if (st != CS_OK)
            return st;
    }
    for (size_t i = 0; i < set->count; i++) {
        if (rename(set->files[i].tmp_path, set->files[i].final_path) != 0) {
            cs_status st = report_partial_commit(ctx, set, i, errno);
            /* The renamed ones are in place; drop them from what abort removes. */
            for (size_t k = 0; k < i; k++)
                free_pending(&set->files[k]);
            memmove(set->files, set->files + i, (set->count - i) * sizeof *set->files);
            set->count -= i;
            return st;
        }
    }
    cs_folder_sync(set->dir); /* the renames themselves made durable */
    return CS_OK;
}

/* A folder: the staging folder, holding every file, is swapped in as a whole. */
static cs_status commit_folder(cs_context *ctx, cs_outset *set)
{
    const char **names = cs_calloc(set->count + 1, sizeof *names);
    if (!names)
        return cs_nomem(ctx);
    for (size_t i = 0; i < set->count; i++)
        names[i] = set->files[i].name;
    cs_status st = cs_folder_swap(ctx, set->folder, names, set->count);
    cs_free(names);
    return st;
}

cs_status cs_outset_commit(cs_context *ctx, cs_outset *set)
{
    if (!set || set->committed)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL,
                        "cs_outset_commit: no set, or a set already committed");
    cs_status st = CS_OK;
    if (set->failed) {
        cs_where where = {.file = set->dir};
        st = cs_error(ctx, CS_ERR_OUTPUT, &where, NULL,
                      "an output file could not be written, so no output was replaced");
    } else {
        st = flush_all(ctx, set);
        if (st == CS_OK)
            st = set->folder ? commit_folder(ctx, set) : commit_files(ctx, set);
    }
    if (st == CS_OK) {
        for (size_t i = 0; i < set->count; i++)
            free_pending(&set->files[i]);
        set->count = 0;
    }
    cs_outset_abort(set);
    set->committed = true;
    return st;
}

void cs_outset_destroy(cs_outset *set)
{
    if (!set)
        return;
    cs_outset_abort(set);
    cs_folder_close(set->folder);
    pthread_mutex_destroy(&set->lock);
    cs_free(set->files);
    cs_free(set->dir);
    cs_free(set);
}

cs_status cs_output_folder_check(cs_context *ctx, const char *dir)
{
    if (!ctx || !dir || !*dir)
        return CS_ERR_ARGUMENT;
    return cs_folder_check(ctx, dir);
}

cs_status cs_output_path_check(cs_context *ctx, const char *path)
{
    if (!ctx || !path || !*path)
        return CS_ERR_ARGUMENT;
    cs_where where = {.file = path};
    if (ctx->inputs_read_lost)
        return cs_nomem(ctx);
    struct stat info;
    if (stat(path, &info) != 0)
        return CS_OK; /* nothing there yet (or a dangling link, which rename replaces) */
    const cs_input_file *in = cs_input_find(ctx, &info);
    if (in)
        return cs_error(ctx, CS_ERR_OUTPUT, &where,
                        "choose another output name; inputs are never overwritten",
                        "writing it would replace the %s input (%s)",
                        in->role ? in->role : "study's", in->path ? in->path : "name unknown");
    if (S_ISDIR(info.st_mode))
        return cs_error(ctx, CS_ERR_OUTPUT, &where,
                        "remove or rename that folder, or choose another output name",
                        "a folder is in the way of this output file; no output was replaced");
    if (!S_ISREG(info.st_mode))
        return cs_error(ctx, CS_ERR_OUTPUT, &where,
                        "give an output file name in a folder, e.g. out/report.html",
                        "is a device, pipe or socket, not a file careshed may write");
    return CS_OK;
}
