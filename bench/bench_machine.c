/*
 * bench_machine.c — how fast the machine is right now, by a fixed piece of work that no
 * change to careshed alters: fresh memory touched page by page (the kernel's faults and
 * zeroing, which a virtual machine makes dear), then on every core a fixed sort of
 * pseudo-random numbers. scripts/bench times it beside each run, so that --compare can
 * tell a slower program from a slower hour on a shared machine.
 *
 * The disk is timed apart: a large run's demand layer (800 MB at the large scale) is
 * written as fast as the disk takes it, synced, whatever the processors' speed, and
 * the disk of a shared machine has slow hours of its own.
 *
 *   bench_machine             prints the seconds taken, e.g. "0.412"
 *   bench_machine --disk DIR  prints the seconds taken to write 256 MB into a file in
 *                             DIR as careshed writes its demand layer (past the page
 *                             cache in 4 MB pieces, synced every 64 MB and at the end),
 *                             then removes it
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define TOUCHED_BYTES ((size_t)128 << 20)
#define SORTED 250000 /* numbers sorted by each of 8 pieces of work */
#define PIECES 8
#define DISK_BYTES ((size_t)256 << 20)
#define DISK_PIECE ((size_t)4 << 20)
#define DISK_SYNC_EVERY ((size_t)64 << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fresh pages, each written once; a byte of them, so that the work is not dropped. */
static unsigned char touch_fresh_memory(void)
{
    unsigned char *m = mmap(NULL, TOUCHED_BYTES, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "bench_machine: no memory\n");
        exit(1);
    }
    for (size_t i = 0; i < TOUCHED_BYTES; i += 4096)
        m[i] = (unsigned char)i;
    unsigned char kept = m[TOUCHED_BYTES / 2];
    munmap(m, TOUCHED_BYTES);
    return kept;
}

/* Piece p: SORTED numbers from a fixed sequence, sorted; their middle one. */
static double sort_piece(int p)
{
    double *v = malloc(SORTED * sizeof *v);
    if (!v) {
        fprintf(stderr, "bench_machine: no memory\n");
        exit(1);
    }
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(p + 1);
    for (size_t i = 0; i < SORTED; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (double)(s >> 11);
    }
    qsort(v, SORTED, sizeof *v, by_value);
    double middle = v[SORTED / 2];
    free(v);
    return middle;
}

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "bench_machine: cannot %s %s\n", what, path);
    exit(1);
}

/* The seconds DISK_BYTES take to be written into a new file in dir and synced. */
static double time_disk(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.bench-machine-disk", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
    if (fd < 0) /* a file system without O_DIRECT: through the page cache */
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    void *piece = NULL;
    if (fd < 0 || posix_memalign(&piece, 4096, DISK_PIECE) != 0)
        fail("write a file in", dir);
    memset(piece, 0x5a, DISK_PIECE);
    double t0 = now();
    for (size_t at = 0; at < DISK_BYTES; at += DISK_PIECE) {
        if (pwrite(fd, piece, DISK_PIECE, (off_t)at) != (ssize_t)DISK_PIECE)
            fail("write", path);
        if ((at + DISK_PIECE) % DISK_SYNC_EVERY == 0 && fdatasync(fd) != 0)
            fail("sync", path);
    }
    if (fsync(fd) != 0)
        fail("sync", path);
    double t = now() - t0;
    close(fd);
    unlink(path);
    free(piece);
    return t;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--disk")) {
        printf("%.4f\n", time_disk(argv[2]));
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: bench_machine [--disk DIR]\n");
        return 2;
    }
    double t0 = now();
    unsigned kept = touch_fresh_memory();
    double sum = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sum)
#endif
    for (int p = 0; p < PIECES; p++)
        sum += sort_piece(p);
    double t = now() - t0;
    if (sum < 0 || kept > 255) /* never: keeps the work from being optimised away */
        return 1;
    printf("%.4f\n", t);
    return 0;
}
