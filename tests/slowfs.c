/*
 * slowfs.c — an LD_PRELOAD shim for the kill tests (test_nothing_lost): every call
 * that changes a folder's entries or flushes a file sleeps SLOWFS_MS milliseconds
 * first, so that a kill lands between two of them far more often than it would; and
 * with SLOWFS_FSYNC_FAIL set, fsync of a file whose path contains that text fails
 * with EIO, as a disk that cannot write it would; with SLOWFS_NO_DIRECT set, a write
 * to a file opened past the page cache (O_DIRECT) fails with EINVAL, as on a file
 * system that does not take such writes.
 * Built without sanitizers; not part of careshed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void slow(void)
{
    const char *ms = getenv("SLOWFS_MS");
    long n = ms ? strtol(ms, NULL, 10) : 0;
    struct timespec t = {n / 1000, (n % 1000) * 1000000L};
    if (n > 0)
        nanosleep(&t, NULL);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

int rename(const char *a, const char *b)
{
    slow();
    return REAL("rename", int (*)(const char *, const char *))(a, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
    slow();
    return REAL("renameat2", int (*)(int, const char *, int, const char *, unsigned))(
        da, a, db, b, flags);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
    slow();
    return REAL("linkat", int (*)(int, const char *, int, const char *, int))(da, a, db, b,
                                                                             flags);
}

int unlinkat(int d, const char *a, int flags)
{
    slow();
    return REAL("unlinkat", int (*)(int, const char *, int))(d, a, flags);
}

int fsync(int fd)
{
    slow();
    const char *fail = getenv("SLOWFS_FSYNC_FAIL");
    if (fail && *fail) {
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = '\0';
            if (strstr(path, fail)) {
                errno = EIO;
                return -1;
            }
        }
    }
    return REAL("fsync", int (*)(int))(fd);
}

/* An O_DIRECT file, refused when SLOWFS_NO_DIRECT is set. */
static int refuse_direct(int fd)
{
    const char *no = getenv("SLOWFS_NO_DIRECT");
    int flags = no && *no ? fcntl(fd, F_GETFL) : 0;
    if (flags > 0 && (flags & O_DIRECT)) {
        errno = EINVAL;
        return 1;
    }
    return 0;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
    if (refuse_direct(fd))
        return -1;
    return REAL("pwrite", ssize_t (*)(int, const void *, size_t, off_t))(fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t at)
{
    if (refuse_direct(fd))
        return -1;
    return REAL("pwrite64", ssize_t (*)(int, const void *, size_t, off_t))(fd, buf, n, at);
}
