/*
 * test_files.c — SHA-256 of files against sha256sum, and the atomic output set:
 * commit, abort, folder creation and its failures, write failures, and commits that
 * are refused or fail part-way; a file written past the page cache. Every test checks
 * that no temporary file is left.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include "testutil.h"

#include "out/files.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file-size limit lowered to bytes (so that a write past it fails with EFBIG, its
 * signal ignored), and put back. */
typedef struct file_size_limit {
    struct rlimit old;
    void (*old_handler)(int);
} file_size_limit;

static file_size_limit limit_file_size(rlim_t bytes)
{
    file_size_limit l;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &l.old), 0);
    struct rlimit small = l.old;
    small.rlim_cur = bytes;
    l.old_handler = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    return l;
}

static void unlimit_file_size(const file_size_limit *l)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &l->old), 0);
    signal(SIGXFSZ, l->old_handler);
}

/* The folder's entries, sorted and joined by commas (new string, free()). */
static char *listing(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return strdup("(no folder)");
    char *names[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char *t = names[k];
            names[k] = names[k - 1];
            names[k - 1] = t;
        }
    char *out = calloc(1, 64 * 260);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

static void assert_listing(const char *dir, const char *want)
{
    char *got = listing(dir);
    if (strcmp(got, want) != 0)
        fail_msg("folder %s holds [%s], want [%s]", dir, got, want);
    free(got);
}

static void assert_content(const char *dir, const char *name, const char *want, size_t len)
{
    char *path = tu_join(dir, name);
    size_t got_len = 0;
    char *got = tu_read(path, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
    free(path);
}

/* Path of the one temporary whose name starts with ".name.tmp-" (free()). */
static char *find_temporary(const char *dir, const char *name)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, ".%s.tmp-", name);
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            found = tu_join(dir, e->d_name);
    if (d)
        closedir(d);
    return found;
}

/*
 * Expected digests computed with the sha256sum command-line tool:
 *   printf 'careshed\n' | sha256sum
 *   yes careshed | head -c 200000 | sha256sum      (several 64 KiB chunks)
 *   printf '' | sha256sum
 */
static void sha256_of_known_files(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    char hex[65];

    char *small = tu_write(dir, "small.txt", "careshed\n");
    assert_int_equal(cs_sha256_file(ctx, small, hex), CS_OK);
    assert_string_equal(hex, "1fba512584c7b1cf2d285e8b880b65f2c766b75bd3d4468df098ae157501f286");

    char *text = malloc(200001);
    for (size_t i = 0; i < 200000; i++)
        text[i] = "careshed\n"[i % 9];
    text[200000] = '\0';
    char *big = tu_write(dir, "big.txt", text);
    assert_int_equal(cs_sha256_file(ctx, big, hex), CS_OK);
    assert_string_equal(hex, "67ad2bc67d92281bc3453b23bcc15e3284cf8523ab41d6da9f706231405b54aa");

    char *empty = tu_write(dir, "empty.txt", "");
    assert_int_equal(cs_sha256_file(ctx, empty, hex), CS_OK);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(cs_context_message_count(ctx), 0);

    free(text);
    free(small);
    free(big);
    free(empty);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void sha256_errors_name_the_file(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    char *missing = tu_join(dir, "missing.geojson");
    char hex[65] = "junk";
    assert_int_equal(cs_sha256_file(ctx, missing, hex), CS_ERR_INPUT);
    assert_string_equal(hex, "");
    assert_true(tu_has_message(ctx, missing, "No such file", NULL));
    /* A folder opens but cannot be read. */
    assert_int_equal(cs_sha256_file(ctx, dir, hex), CS_ERR_INPUT);
    assert_true(tu_has_message(ctx, dir, "cannot read", NULL));
    assert_int_equal(cs_sha256_file(ctx, NULL, hex), CS_ERR_ARGUMENT);
    free(missing);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void outset_writes_and_commits(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *root = tu_mkdtemp();
    char *dir = tu_join(root, "out/run 1"); /* two missing levels, a space */
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_non_null(set);
    assert_listing(dir, "");
    free(tu_write(dir, "a.json", "old content"));

    const char bin[] = {'x', '\0', 'y', '\n'};
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "{\"new\":true}", 12), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "b.bin", bin, sizeof bin), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "empty.csv", NULL, 0), CS_OK);
    /* Nothing visible changes before the commit. */
    assert_content(dir, "a.json", "old content", 11);
    char *b_final = tu_join(dir, "b.bin");
    assert_false(tu_exists(b_final));
    free(b_final);
    char *tmp_b = find_temporary(dir, "b.bin");
    assert_non_null(tmp_b);
    free(tmp_b);

    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    assert_listing(dir, "a.json,b.bin,empty.csv");
    assert_content(dir, "a.json", "{\"new\":true}", 12);
    assert_content(dir, "b.bin", bin, sizeof bin);
    assert_content(dir, "empty.csv", "", 0);

    /* New files get the mode open() would give them, not mkstemp's 0600. */
    mode_t mask = umask(022);
    umask(mask);
    char *b_path = tu_join(dir, "b.bin");
    struct stat info;
    assert_int_equal(stat(b_path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0666 & ~mask);
    free(b_path);

    /* A committed set takes nothing more. */
    assert_int_equal(cs_outset_add(ctx, set, "c.txt", "c", 1), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_ARGUMENT);
    cs_outset_destroy(set);
    assert_listing(dir, "a.json,b.bin,empty.csv");
    assert_int_equal(cs_context_error_count(ctx), 2);

    tu_rmtree(root);
    free(dir);
    free(root);
    cs_context_destroy(ctx);
}

static void abort_leaves_folder_as_it_was(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "a.json", "old"));
    free(tu_write(dir, "unrelated.txt", "keep me"));

    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "new", 3), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "c.txt", "c", 1), CS_OK);
    cs_outset_abort(set);
    assert_listing(dir, "a.json,unrelated.txt");
    assert_content(dir, "a.json", "old", 3);
    cs_outset_destroy(set);

    /* Destroying an uncommitted set aborts it too. */
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "new", 3), CS_OK);
    cs_outset_destroy(set);
    assert_listing(dir, "a.json,unrelated.txt");
    assert_content(dir, "a.json", "old", 3);
    assert_content(dir, "unrelated.txt", "keep me", 7);
    cs_outset_abort(NULL);
    cs_outset_destroy(NULL);
    assert_int_equal(cs_context_message_count(ctx), 0);

    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void begin_under_a_regular_file_fails(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "existingfile", "x"));
    char *bad = tu_join(dir, "existingfile/sub");
    cs_outset *set = (cs_outset *)dir; /* must be cleared */
    assert_int_equal(cs_outset_begin(ctx, bad, &set), CS_ERR_OUTPUT);
    assert_null(set);
    assert_true(tu_has_message(ctx, bad, "Not a directory",
                               "choose another --out folder or fix its permissions", NULL));
    /* The file itself as the folder. */
    char *file = tu_join(dir, "existingfile");
    assert_int_equal(cs_outset_begin(ctx, file, &set), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, file, "Not a directory", NULL));
    assert_content(dir, "existingfile", "x", 1);
    assert_int_equal(cs_outset_begin(ctx, "", &set), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_begin(ctx, NULL, &set), CS_ERR_ARGUMENT);
    free(bad);
    free(file);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* /proc refuses new folders even to root, so this runs everywhere. */
static void begin_where_no_folder_can_be_made_fails(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    const char *bad = "/proc/careshed-never-here/out";
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, bad, &set), CS_ERR_OUTPUT);
    assert_null(set);
    assert_true(tu_has_message(ctx, bad, "/proc/careshed-never-here:",
                               "choose another --out folder", NULL));
    cs_context_destroy(ctx);
}

static void begin_on_read_only_folder_fails(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        print_message("skipping the chmod 0555 case: root ignores permission bits\n");
        return;
    }
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    char *ro = tu_join(dir, "ro");
    assert_int_equal(mkdir(ro, 0555), 0);
    chmod(ro, 0555);
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, ro, &set), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, ro, "not writable", "choose another --out folder", NULL));
    /* Nor can a folder be made inside it. */
    char *sub = tu_join(ro, "sub");
    assert_int_equal(cs_outset_begin(ctx, sub, &set), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, sub, "Permission denied", NULL));
    chmod(ro, 0755);
    free(sub);
    free(ro);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* The folder vanishes under the set: the add fails and the commit refuses. */
static void failed_add_blocks_the_commit(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *root = tu_mkdtemp();
    char *dir = tu_join(root, "out");
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(rmdir(dir), 0);
    char *a_path = tu_join(dir, "a.json");
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "a", 1), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, a_path, "cannot write", "No such file", NULL));
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(cs_outset_add(ctx, set, "b.json", "b", 1), CS_OK);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "no output was replaced", NULL));
    assert_listing(dir, "");
    cs_outset_destroy(set);
    free(a_path);
    free(dir);
    tu_rmtree(root);
    free(root);
    cs_context_destroy(ctx);
}

/* A full disk, simulated with the file-size limit (EFBIG instead of ENOSPC). */
static void write_failure_removes_the_temporary(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    char *data = calloc(1, 100000);
    file_size_limit limit = limit_file_size(4096);
    cs_status st = cs_outset_add(ctx, set, "big.json", data, 100000);
    unlimit_file_size(&limit);
    assert_int_equal(st, CS_ERR_OUTPUT);
    char *path = tu_join(dir, "big.json");
    assert_true(tu_has_message(ctx, path, "cannot write", "File too large",
                               "free some disk space", NULL));
    assert_listing(dir, "");
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    cs_outset_destroy(set);
    free(path);
    free(data);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* The second rename fails (its temporary was deleted behind the set's back). */
static void partial_commit_is_reported(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "a.json", "old a"));
    free(tu_write(dir, "b.json", "old b"));
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "new a", 5), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "b.json", "new b", 5), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "c.json", "new c", 5), CS_OK);
    char *tmp_b = find_temporary(dir, "b.json");
    assert_non_null(tmp_b);
    assert_int_equal(unlink(tmp_b), 0);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    char *b_path = tu_join(dir, "b.json");
    assert_true(tu_has_message(ctx, b_path, "1 of 3 output files were already replaced (a.json)",
                               "mixes new and old", NULL));
    assert_content(dir, "a.json", "new a", 5);
    assert_content(dir, "b.json", "old b", 5);
    assert_listing(dir, "a.json,b.json"); /* c's temporary was removed */
    cs_outset_destroy(set);
    free(b_path);
    free(tmp_b);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void folder_in_the_way_stops_commit_before_renaming(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "a.json", "old a"));
    char *b_path = tu_join(dir, "b.json");
    assert_int_equal(mkdir(b_path, 0755), 0);
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "new a", 5), CS_OK);
    /* refused when added, before anything is written for it */
    assert_int_equal(cs_outset_add(ctx, set, "b.json", "new b", 5), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, b_path, "folder is in the way", NULL));
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    assert_content(dir, "a.json", "old a", 5);
    assert_listing(dir, "a.json,b.json");
    cs_outset_destroy(set);
    free(b_path);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A killed writer's temporary is removed by the next writer of the same file; one a
 * live writer holds (flock) is left alone. */
static void dead_temporaries_are_removed(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    free(tu_write(dir, ".r.html.tmp-Dead01", "killed"));
    char *live = tu_write(dir, ".r.html.tmp-Live01", "writing");
    free(tu_write(dir, ".other.html.tmp-Dead02", "not this file's"));
    int fd = open(live, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "r.html", "new", 3), CS_OK);
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    cs_outset_destroy(set);
    assert_listing(dir, ".other.html.tmp-Dead02,.r.html.tmp-Live01,r.html");
    close(fd);
    free(live);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void bad_names_are_refused(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    const char *bad[] = {"", ".", "..", "../escape.json", "sub/a.json", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cs_outset_add(ctx, set, bad[i], "x", 1), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "x", 1), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.json", "y", 1), CS_ERR_ARGUMENT);
    assert_true(tu_has_message(ctx, "a.json", "added twice", NULL));
    /* Refused names do not block the commit. */
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    assert_listing(dir, "a.json");
    assert_content(dir, "a.json", "x", 1);
    cs_outset_destroy(set);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A file written in pieces, in any order: the gaps read as zeros; committed like any
 * other. */
static void streamed_pieces_in_any_order(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t file = 9;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_open(ctx, set, "s.bin", &file), CS_OK);
    assert_int_equal(file, 0);
    assert_int_equal(cs_outset_write_at(ctx, set, file, "world", 5, 6), CS_OK);
    assert_int_equal(cs_outset_write_at(ctx, set, file, "hello ", 6, 0), CS_OK);
    assert_int_equal(cs_outset_write_at(ctx, set, file, "!", 1, 20), CS_OK);
    /* the same name again, or a file the set does not have */
    assert_int_equal(cs_outset_open(ctx, set, "s.bin", &file), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_write_at(ctx, set, 1, "x", 1, 0), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    assert_content(dir, "s.bin", "hello world\0\0\0\0\0\0\0\0\0!", 21);
    assert_listing(dir, "s.bin");
    cs_outset_destroy(set);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A piece the disk refuses (the file-size limit): named, the temporary removed, later
 * pieces refused, and the commit too. The piece begins inside a block, so that past
 * the page cache too its start is written at once (the end of a piece may be held for
 * the next, unbuffered_held_block_failure). */
static void streamed_write_failure_of(bool unbuffered)
{
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t file = 0;
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(unbuffered ? cs_outset_open_unbuffered(ctx, set, "big.fgb", &file)
                                : cs_outset_open(ctx, set, "big.fgb", &file),
                     CS_OK);
    char *data = calloc(1, 100000);
    file_size_limit limit = limit_file_size(4096);
    cs_status st = cs_outset_write_at(ctx, set, file, data, 100000, 5000);
    unlimit_file_size(&limit);
    assert_int_equal(st, CS_ERR_OUTPUT);
    char *path = tu_join(dir, "big.fgb");
    assert_true(tu_has_message(ctx, path, "cannot write", "File too large", NULL));
    assert_int_equal(cs_outset_write_at(ctx, set, file, "x", 1, 0), CS_ERR_OUTPUT);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    cs_outset_destroy(set);
    /* nothing of it anywhere: not in the folder, no staging folder beside it */
    assert_listing(dir, "");
    free(path);
    free(data);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A file written in place by another library (as SQLite writes the GeoPackage): its
 * path is in the staging folder, it appears with the set at the commit, and its name
 * is taken; one never made stops the commit, naming it, and nothing is replaced; a set
 * of single files has no such files. */
static void a_file_written_by_path(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    const char *path = NULL;
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(cs_outset_open_path(ctx, set, "pkg.gpkg", &path), CS_OK);
    assert_non_null(path);
    assert_false(tu_exists(path)); /* the library creates it */
    char *final = tu_join(dir, "pkg.gpkg");
    assert_true(strcmp(path, final) != 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("written in place", f);
    fclose(f);
    assert_false(tu_exists(final));
    assert_int_equal(cs_outset_add(ctx, set, "pkg.gpkg", "x", 1), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_add(ctx, set, "a.csv", "a", 1), CS_OK);
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    cs_outset_destroy(set);
    assert_content(dir, "pkg.gpkg", "written in place", 16);
    assert_content(dir, "a.csv", "a", 1);
    /* never made: the commit refuses, naming it, and the folder is as it was */
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(cs_outset_open_path(ctx, set, "pkg.gpkg", &path), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "a.csv", "b", 1), CS_OK);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, final, "cannot write the output file",
                               "No such file", "no output was replaced", NULL));
    cs_outset_destroy(set);
    assert_content(dir, "pkg.gpkg", "written in place", 16);
    assert_content(dir, "a.csv", "a", 1);
    /* single files, no set, no path: refused */
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_open_path(ctx, set, "pkg.gpkg", &path), CS_ERR_ARGUMENT);
    assert_int_equal(cs_outset_open_path(ctx, NULL, "pkg.gpkg", &path), CS_ERR_ARGUMENT);
    cs_outset_destroy(set);
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(cs_outset_open_path(ctx, set, "pkg.gpkg", NULL), CS_ERR_ARGUMENT);
    cs_outset_destroy(set);
    free(final);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

static void streamed_write_failure(void **state)
{
    (void)state;
    streamed_write_failure_of(false);
    streamed_write_failure_of(true); /* past the page cache: the same */
}

/* The end of a piece, held past the page cache for the next piece, cannot be written
 * once a piece elsewhere comes (or, when none comes, at the commit): that write or the
 * commit fails naming the file, and nothing of it is left. */
static void unbuffered_held_block_failure(void **state)
{
    (void)state;
    for (int at_commit = 0; at_commit <= 1; at_commit++) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        char *dir = tu_mkdtemp();
        cs_outset *set = NULL;
        size_t file = 0;
        assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
        assert_int_equal(cs_outset_open_unbuffered(ctx, set, "held.fgb", &file), CS_OK);
        char data[5000];
        memset(data, 'h', sizeof data);
        /* a whole block, and 904 bytes of the next held; then a piece the limit allows
         * by itself (before the first) */
        assert_int_equal(cs_outset_write_at(ctx, set, file, data, sizeof data, 4096), CS_OK);
        file_size_limit limit = limit_file_size(8192);
        cs_status st = at_commit ? cs_outset_commit(ctx, set)
                                 : cs_outset_write_at(ctx, set, file, "x", 1, 100);
        unlimit_file_size(&limit);
        assert_int_equal(st, CS_ERR_OUTPUT);
        char *path = tu_join(dir, "held.fgb");
        assert_true(tu_has_message(ctx, path, "cannot write", "File too large", NULL));
        if (!at_commit)
            assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
        cs_outset_destroy(set);
        assert_listing(dir, "");
        free(path);
        tu_rmtree(dir);
        free(dir);
        cs_context_destroy(ctx);
    }
}

/* Whether this process holds a file whose path contains `name` open past the page
 * cache (O_DIRECT in its /proc/self/fdinfo flags). */
static bool open_unbuffered(const char *name)
{
    bool found = false;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        char link[300], path[4096], info[300];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n <= 0)
            continue;
        path[n] = '\0';
        snprintf(info, sizeof info, "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = strstr(path, name) ? fopen(info, "r") : NULL;
        char line[256];
        unsigned long flags;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "flags: %lo", &flags) == 1 && (flags & O_DIRECT))
                found = true;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

/* Whether the file system of dir takes unbuffered writes at all. */
static bool takes_unbuffered(const char *dir)
{
    char *path = tu_join(dir, "probe");
    int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd >= 0)
        close(fd);
    unlink(path);
    free(path);
    return fd >= 0;
}

/* Writes [cut[i], cut[i + 1]) of want for each i of order[0..n) to file. */
static void write_cut_pieces(cs_context *ctx, cs_outset *set, size_t file,
                             const unsigned char *want, const size_t *cut, const size_t *order,
                             size_t n)
{
    for (size_t q = 0; q < n; q++) {
        size_t i = order[q];
        assert_int_equal(cs_outset_write_at(ctx, set, file, want + cut[i], cut[i + 1] - cut[i],
                                            cut[i]),
                         CS_OK);
    }
}

/* A file written past the page cache one piece after another, as a streamed file is:
 * each piece goes on where the last ended, most of them ending inside a block (which
 * is held for the next piece), some shorter than what is left of that block, some
 * spanning several 4 MB copies; the first piece last, as the FlatGeobuf writer puts
 * its header and index there at the end. And the same pieces as runs of 50 one after
 * another, the runs in a shuffled order. Both read back as the bytes written. */
static void unbuffered_pieces_one_after_another(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t seq = 9, shuffled = 9;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_open_unbuffered(ctx, set, "seq.bin", &seq), CS_OK);
    assert_int_equal(cs_outset_open_unbuffered(ctx, set, "shuffled.bin", &shuffled), CS_OK);
    enum { PIECES = 3000, RUN = 50 };
    size_t *cut = calloc(PIECES + 1, sizeof *cut), *order = calloc(PIECES, sizeof *order);
    uint32_t r = 12345;
    for (size_t i = 0; i < PIECES; i++) {
        r = r * 1103515245u + 12345u;
        /* mostly under a block, now and then one over the 4 MB copied at a time */
        size_t len = i % 997 == 5 ? 5000000 + (r >> 20) : 1 + (r >> 16) % 9000;
        cut[i + 1] = cut[i] + len;
    }
    size_t total = cut[PIECES];
    unsigned char *want = calloc(total, 1);
    for (size_t i = 0; i < total; i++)
        want[i] = (unsigned char)(i * 2654435761u >> 13);
    for (size_t i = 0; i < PIECES; i++)
        order[i] = (i + 1) % PIECES;
    write_cut_pieces(ctx, set, seq, want, cut, order, PIECES);
    for (size_t i = 0; i < PIECES; i++)
        order[i] = i;
    for (size_t i = PIECES / RUN; i-- > 1;) {
        r = r * 1103515245u + 12345u;
        size_t j = (r >> 8) % (i + 1);
        for (size_t q = 0; q < RUN; q++) {
            size_t t = order[i * RUN + q];
            order[i * RUN + q] = order[j * RUN + q];
            order[j * RUN + q] = t;
        }
    }
    write_cut_pieces(ctx, set, shuffled, want, cut, order, PIECES);
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    assert_content(dir, "seq.bin", (const char *)want, total);
    assert_content(dir, "shuffled.bin", (const char *)want, total);
    cs_outset_destroy(set);
    free(want);
    free(cut);
    free(order);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A file written past the page cache, in pieces of every kind in any order: shorter
 * than a block, within one block, from one block boundary to another, longer than the
 * 4 MB copied at a time, at odd offsets, with a gap never written. It reads back as the
 * bytes written, the gap zeros. So does a large file added whole. */
static void unbuffered_pieces_in_any_order(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t file = 9;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_open_unbuffered(ctx, set, "u.bin", &file), CS_OK);
    if (takes_unbuffered(dir))
        assert_true(open_unbuffered("u.bin"));
    /* the pieces' ends: [cut[i], cut[i + 1]); piece GAP is never written */
    const size_t cut[] = {0,       100,     4096,    8192,    8200,    12000,  12288,
                          4108800, 4112896, 9000001, 9000002, 9100000, 9400003};
    enum { PIECES_U = sizeof cut / sizeof cut[0] - 1, GAP = 10 };
    size_t total = cut[PIECES_U];
    unsigned char *want = calloc(total, 1);
    for (size_t i = 0; i < total; i++)
        want[i] = (unsigned char)(i * 2654435761u >> 13);
    /* odd pieces first, then even ones backwards */
    size_t order[PIECES_U], k = 0;
    for (size_t i = 1; i < PIECES_U; i += 2)
        order[k++] = i;
    for (size_t i = PIECES_U; i-- > 0;)
        if (i % 2 == 0)
            order[k++] = i;
    for (size_t q = 0; q < PIECES_U; q++) {
        size_t i = order[q];
        if (i != GAP)
            assert_int_equal(cs_outset_write_at(ctx, set, file, want + cut[i],
                                                cut[i + 1] - cut[i], cut[i]),
                             CS_OK);
    }
    memset(want + cut[GAP], 0, cut[GAP + 1] - cut[GAP]);
    /* a file added whole from 8 MB on is written the same way; a small one is not */
    assert_int_equal(cs_outset_add(ctx, set, "added.bin", (const char *)want, total), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "small.bin", "small", 5), CS_OK);
    if (takes_unbuffered(dir)) {
        assert_true(open_unbuffered("added.bin"));
        assert_false(open_unbuffered("small.bin"));
    }
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    assert_content(dir, "u.bin", (const char *)want, total);
    assert_content(dir, "added.bin", (const char *)want, total);
    assert_content(dir, "small.bin", "small", 5);
    cs_outset_destroy(set);
    free(want);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* A write past the page cache fails on the file's writer thread, after the piece was
 * handed over: the sync, or else the commit, reports it naming the file, and nothing
 * of the file is left. */
static void unbuffered_failure_reported_later(void **state)
{
    (void)state;
    for (int by_sync = 1; by_sync >= 0; by_sync--) {
        cs_context *ctx = NULL;
        assert_int_equal(cs_context_create(&ctx), CS_OK);
        char *dir = tu_mkdtemp();
        if (!takes_unbuffered(dir)) {
            tu_rmtree(dir);
            free(dir);
            cs_context_destroy(ctx);
            skip();
        }
        cs_outset *set = NULL;
        size_t file = 0;
        assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
        assert_int_equal(cs_outset_open_unbuffered(ctx, set, "late.fgb", &file), CS_OK);
        size_t n = 3 * 4096; /* whole blocks only: all of it goes to the writer */
        char *data = calloc(1, n);
        file_size_limit limit = limit_file_size(4096);
        assert_int_equal(cs_outset_write_at(ctx, set, file, data, n, 0), CS_OK);
        cs_status st = by_sync ? cs_outset_sync(ctx, set, file) : cs_outset_commit(ctx, set);
        unlimit_file_size(&limit);
        assert_int_equal(st, CS_ERR_OUTPUT);
        char *path = tu_join(dir, "late.fgb");
        assert_true(tu_has_message(ctx, path, "cannot write", "File too large", NULL));
        if (by_sync) {
            assert_int_equal(cs_outset_write_at(ctx, set, file, "x", 1, 0), CS_ERR_OUTPUT);
            assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
        } else {
            assert_true(tu_has_message(ctx, "no output was replaced", NULL));
        }
        cs_outset_destroy(set);
        assert_listing(dir, "");
        free(path);
        free(data);
        tu_rmtree(dir);
        free(dir);
        cs_context_destroy(ctx);
    }
}

/* A file written piece by piece on another thread, with a context of its own, while
 * this thread adds 40 more files (the set's list grows and moves meanwhile). */
#define PIECES 300
#define PIECE 1000
typedef struct writer {
    cs_outset *set;
    size_t file;
    cs_context *ctx;
    cs_status st;
} writer;

static void *write_pieces(void *arg)
{
    writer *w = arg;
    char piece[PIECE];
    w->st = CS_OK;
    for (size_t p = 0; w->st == CS_OK && p < PIECES; p++) {
        memset(piece, 'a' + (int)(p % 26), sizeof piece);
        w->st = cs_outset_write_at(w->ctx, w->set, w->file, piece, sizeof piece, p * PIECE);
    }
    if (w->st == CS_OK)
        w->st = cs_outset_sync(w->ctx, w->set, w->file);
    return NULL;
}

/* Starts the writer, adds the small files, joins; the writer's messages go to ctx. */
static cs_status write_beside_a_thread(cs_context *ctx, cs_outset *set, size_t file)
{
    writer w = {set, file, NULL, CS_OK};
    assert_int_equal(cs_context_create_for_thread(ctx, &w.ctx), CS_OK);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, write_pieces, &w), 0);
    for (int i = 0; i < 40; i++) {
        char name[32], text[32];
        snprintf(name, sizeof name, "f%02d.txt", i);
        snprintf(text, sizeof text, "file %d", i);
        assert_int_equal(cs_outset_add(ctx, set, name, text, strlen(text)), CS_OK);
    }
    pthread_join(thread, NULL);
    cs_context_absorb(ctx, w.ctx);
    cs_context_destroy(w.ctx);
    return w.st;
}

static void a_file_written_on_another_thread(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t file = 0;
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(cs_outset_open(ctx, set, "big.bin", &file), CS_OK);
    assert_int_equal(write_beside_a_thread(ctx, set, file), CS_OK);
    assert_int_equal(cs_outset_commit(ctx, set), CS_OK);
    cs_outset_destroy(set);
    char *path = tu_join(dir, "big.bin");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t bad = 0, total = 0;
    for (int c; (c = fgetc(f)) != EOF; total++)
        bad += c != 'a' + (int)((total / PIECE) % 26);
    fclose(f);
    assert_int_equal(total, PIECES * PIECE);
    assert_int_equal(bad, 0);
    assert_content(dir, "f39.txt", "file 39", 7);
    char *names = listing(dir);
    size_t entries = 1;
    for (const char *c = names; *c; c++)
        entries += *c == ',';
    assert_int_equal(entries, 42); /* and the folder's mark, .careshed */
    free(names);
    free(path);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

/* The other thread's write fails (the file-size limit, which the small files stay
 * under): its message, naming the file, reaches this thread's context, and the set
 * cannot be committed; nothing is left in the folder. */
static void a_failure_on_another_thread_is_reported(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    char *dir = tu_mkdtemp();
    cs_outset *set = NULL;
    size_t file = 0;
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_int_equal(cs_outset_open(ctx, set, "big.bin", &file), CS_OK);
    file_size_limit limit = limit_file_size(100 * PIECE);
    cs_status st = write_beside_a_thread(ctx, set, file);
    unlimit_file_size(&limit);
    assert_int_equal(st, CS_ERR_OUTPUT);
    char *path = tu_join(dir, "big.bin");
    assert_true(tu_has_message(ctx, path, "cannot write", "File too large", NULL));
    assert_int_equal(cs_context_error_count(ctx), 1);
    assert_int_equal(cs_outset_sync(ctx, set, file), CS_ERR_OUTPUT); /* reported before */
    assert_int_equal(cs_context_error_count(ctx), 1);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    cs_outset_destroy(set);
    assert_listing(dir, "");
    free(path);
    tu_rmtree(dir);
    free(dir);
    cs_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_of_known_files),
        cmocka_unit_test(sha256_errors_name_the_file),
        cmocka_unit_test(outset_writes_and_commits),
        cmocka_unit_test(abort_leaves_folder_as_it_was),
        cmocka_unit_test(dead_temporaries_are_removed),
        cmocka_unit_test(begin_under_a_regular_file_fails),
        cmocka_unit_test(begin_where_no_folder_can_be_made_fails),
        cmocka_unit_test(begin_on_read_only_folder_fails),
        cmocka_unit_test(failed_add_blocks_the_commit),
        cmocka_unit_test(write_failure_removes_the_temporary),
        cmocka_unit_test(streamed_pieces_in_any_order),
        cmocka_unit_test(streamed_write_failure),
        cmocka_unit_test(a_file_written_by_path),
        cmocka_unit_test(unbuffered_pieces_in_any_order),
        cmocka_unit_test(unbuffered_pieces_one_after_another),
        cmocka_unit_test(unbuffered_held_block_failure),
        cmocka_unit_test(unbuffered_failure_reported_later),
        cmocka_unit_test(a_file_written_on_another_thread),
        cmocka_unit_test(a_failure_on_another_thread_is_reported),
        cmocka_unit_test(partial_commit_is_reported),
        cmocka_unit_test(folder_in_the_way_stops_commit_before_renaming),
        cmocka_unit_test(bad_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
