/*
 * test_outfolder.c — an output folder changes as one unit (src/out/folder.c): the
 * new set replaces the old as a whole, other commands' and users' files are kept,
 * foreign folders are refused, a locked folder is refused, leftovers of killed runs
 * are removed, and nothing the context read as an input is ever dropped or replaced.
 * Expected listings are written out by hand.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "out/files.h"
#include "testutil.h"

static cs_context *ctx;

static int setup(void **state)
{
    (void)state;
    return cs_context_create(&ctx) == CS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cs_context_destroy(ctx);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's entries, hidden ones included, sorted and joined by commas. */
static char *listing(const char *dir)
{
    char *names[64];
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) && n < 64;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    static char out[4096];
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, i ? "," : "");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

static void assert_content(const char *dir, const char *name, const char *want)
{
    char *path = tu_join(dir, name);
    size_t len = 0;
    char *got = tu_read(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
    free(path);
}

/* One set: begin, add "name=content" pairs, commit. Returns the commit's status. */
static cs_status write_set(const char *dir, const char *owner, const char *const *files)
{
    cs_context_clear_messages(ctx); /* so each check sees this call's messages only */
    cs_outset *set = NULL;
    cs_status st = cs_outset_begin_folder(ctx, dir, owner, &set);
    for (size_t i = 0; st == CS_OK && files[i]; i += 2)
        st = cs_outset_add(ctx, set, files[i], files[i + 1], strlen(files[i + 1]));
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    cs_outset_destroy(set);
    return st;
}

static void new_set_replaces_the_old_one_as_a_whole(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char *dir = tu_join(root, "out/run");
    const char *first[] = {"areas.geojson", "A1", "summary.json", "S1",
                           "service-network.geojson", "N1", NULL};
    assert_int_equal(write_set(dir, "run", first), CS_OK);
    assert_string_equal(listing(dir),
                        ".careshed,areas.geojson,service-network.geojson,summary.json");
    assert_string_equal(listing(root), "out");
    char *out = tu_join(root, "out");
    assert_string_equal(listing(out), "run"); /* no staging folder left beside it */

    /* A user's notes and a site's proposals stay; the run's network file, not written
     * this time, goes. */
    free(tu_write(dir, "notes.txt", "mine"));
    const char *site[] = {"proposals.geojson", "P1", NULL};
    assert_int_equal(write_set(dir, "proposals", site), CS_OK);
    const char *second[] = {"areas.geojson", "A2", "summary.json", "S2", NULL};
    assert_int_equal(write_set(dir, "run", second), CS_OK);
    assert_string_equal(listing(dir),
                        ".careshed,areas.geojson,notes.txt,proposals.geojson,summary.json");
    assert_content(dir, "areas.geojson", "A2");
    assert_content(dir, "notes.txt", "mine");
    assert_content(dir, "proposals.geojson", "P1");
    /* suggestions do not drop proposals: each site file is its own owner */
    const char *suggest[] = {"suggestions.geojson", "G1", NULL};
    assert_int_equal(write_set(dir, "suggestions", suggest), CS_OK);
    assert_content(dir, "proposals.geojson", "P1");
    assert_content(dir, "suggestions.geojson", "G1");
    assert_string_equal(listing(out), "run");
    free(out);
    free(dir);
    tu_rmtree(root);
    free(root);
}

/* A file of size bytes, written (so that it holds its disk blocks). */
static void write_large(const char *dir, const char *name, size_t size)
{
    char *path = tu_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    for (size_t done = 0; done < size; done += sizeof block)
        assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    assert_int_equal(fclose(f), 0);
    free(path);
}

/* A previous set above 64 MB is removed by a process of its own, after the swap: the
 * new set is whole at once, a file another command owns stays, and the previous set
 * is gone soon after. */
static void a_large_previous_set_is_removed_apart(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char *dir = tu_join(root, "out");
    const char *first[] = {"summary.json", "S1", NULL};
    assert_int_equal(write_set(dir, "run", first), CS_OK);
    const char *site[] = {"proposals.geojson", "P1", NULL};
    assert_int_equal(write_set(dir, "proposals", site), CS_OK);
    write_large(dir, "demand.fgb", (size_t)70 << 20); /* the run's, by its name */
    const char *second[] = {"summary.json", "S2", NULL};
    assert_int_equal(write_set(dir, "run", second), CS_OK);
    assert_string_equal(listing(dir), ".careshed,proposals.geojson,summary.json");
    assert_content(dir, "summary.json", "S2");
    assert_content(dir, "proposals.geojson", "P1");
    int waited = 0;
    while (strcmp(listing(root), "out") && waited++ < 300)
        usleep(100000);
    assert_string_equal(listing(root), "out");
    assert_content(dir, "proposals.geojson", "P1");
    free(dir);
    tu_rmtree(root);
    free(root);
}

static void folder_keeps_its_permissions(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    assert_int_equal(chmod(dir, 0750), 0);
    const char *files[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    struct stat info;
    assert_int_equal(stat(dir, &info), 0);
    assert_int_equal(info.st_mode & 07777, 0750);
    tu_rmtree(dir);
    free(dir);
}

static void foreign_folders_are_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "thesis.docx", "years of work"));
    const char *files[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, dir, "not a careshed output folder",
                               "holds 1 file careshed did not write: 'thesis.docx'",
                               "another --out folder (new or empty)", "--overwrite", NULL));
    assert_string_equal(listing(dir), "thesis.docx");

    /* A folder inside: refused even in a folder of careshed's own. */
    free(tu_write(dir, ".careshed", "marker"));
    char *sub = tu_join(dir, "maps");
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "holds the folder 'maps'", "move it out", NULL));
    rmdir(sub);
    /* A pipe and a symbolic link too. */
    char *fifo = tu_join(dir, "pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "holds the special file 'pipe'", NULL));
    unlink(fifo);
    char *link = tu_join(dir, "areas.geojson");
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "holds the symbolic link 'areas.geojson'", NULL));
    unlink(link);
    /* With the marker, a user's file is kept, and the run says so. */
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    assert_string_equal(listing(dir), ".careshed,summary.json,thesis.docx");
    assert_content(dir, "thesis.docx", "years of work");
    assert_true(tu_has_message(ctx, dir, "kept 1 file that no careshed command wrote "
                               "('thesis.docx')", "never removes files it did not write",
                               NULL));
    /* --overwrite does not let a folder, link or special file in */
    assert_int_equal(mkdir(sub, 0777), 0);
    cs_context_set_overwrite(ctx, true);
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "holds the folder 'maps'", NULL));
    cs_context_set_overwrite(ctx, false);
    rmdir(sub);

    /* A file in the way of the folder, and the root folder. */
    char *file = tu_join(dir, "thesis.docx");
    assert_int_equal(write_set(file, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, file, "Not a directory", NULL));
    assert_int_equal(write_set("/", "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "the root folder cannot be an output folder", NULL));
    free(file);
    free(link);
    free(fifo);
    free(sub);
    tu_rmtree(dir);
    free(dir);
}

/* The check before the work says what the write would say, and changes nothing. */
static void folders_are_checked_before_the_work(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char *missing = tu_join(root, "new/run");
    assert_int_equal(cs_output_folder_check(ctx, missing), CS_OK);
    assert_false(tu_exists(missing)); /* not made by a check */
    free(tu_write(root, "thesis.docx", "years of work"));
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_output_folder_check(ctx, root), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "holds 1 file careshed did not write: 'thesis.docx'",
                               "--overwrite", NULL));
    cs_context_set_overwrite(ctx, true);
    assert_int_equal(cs_output_folder_check(ctx, root), CS_OK);
    cs_context_set_overwrite(ctx, false);
    char *file = tu_join(root, "thesis.docx");
    assert_int_equal(cs_output_folder_check(ctx, file), CS_ERR_OUTPUT);
    const char *files[] = {"summary.json", "{}", NULL};
    char *run = tu_join(root, "run");
    assert_int_equal(write_set(run, "run", files), CS_OK);
    assert_int_equal(cs_output_folder_check(ctx, run), CS_OK);
    assert_string_equal(listing(root), "run,thesis.docx");
    assert_int_equal(cs_output_folder_check(ctx, ""), CS_ERR_ARGUMENT);
    free(run);
    free(file);
    free(missing);
    tu_rmtree(root);
    free(root);
}

static void folders_of_earlier_versions_are_careshed_s(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    free(tu_write(dir, "areas.geojson", "old"));
    free(tu_write(dir, "service-network.geojson", "old"));
    free(tu_write(dir, ".summary.json.tmp-Ab12Cd", "a killed run's temporary"));
    free(tu_write(dir, "report.html", "scripts/sample writes its report here"));
    const char *files[] = {"areas.geojson", "new", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    assert_string_equal(listing(dir), ".careshed,areas.geojson,report.html");
    /* the report is careshed's by its name, kept and listed under its command */
    assert_content(dir, ".careshed",
                   "# careshed output folder. Each careshed command replaces its files listed\n"
                   "# below as one set; files not listed are not careshed's and are kept.\n"
                   "version " CARESHED_VERSION "\n"
                   "file report report.html\n"
                   "file run areas.geojson\n");
    tu_rmtree(dir);
    free(dir);
}

static void a_locked_folder_is_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    const char *files[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, dir, "another careshed is writing to this output folder",
                               "wait for it to finish", NULL));
    assert_string_equal(listing(dir), "");
    close(fd);
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    tu_rmtree(dir);
    free(dir);
}

static void leftovers_of_killed_runs_are_removed(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char *dir = tu_join(root, "out");
    assert_int_equal(mkdir(dir, 0777), 0);
    const char *leftovers[] = {".out.careshed-Ab12Cd", ".out.careshed-prev"};
    const char *kept[] = {".out.careshed-toolong1", ".outer.careshed-Ab12Cd"};
    for (size_t i = 0; i < 2; i++) {
        char *p = tu_join(root, leftovers[i]);
        assert_int_equal(mkdir(p, 0777), 0);
        free(tu_write(p, "areas.geojson", "half"));
        free(p);
        p = tu_join(root, kept[i]);
        assert_int_equal(mkdir(p, 0777), 0);
        free(p);
    }
    const char *files[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    assert_string_equal(listing(root), ".out.careshed-toolong1,.outer.careshed-Ab12Cd,out");

    /* A swap without RENAME_EXCHANGE killed between its renames: the folder is missing
     * and the previous set is aside. It comes back before the next set is written. */
    char *prev = tu_join(root, ".out.careshed-prev");
    assert_int_equal(rename(dir, prev), 0);
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin_folder(ctx, dir, "run", &set), CS_OK);
    assert_string_equal(listing(dir), ".careshed,summary.json");
    cs_outset_destroy(set); /* nothing committed: the folder is as it was */
    assert_string_equal(listing(dir), ".careshed,summary.json");
    assert_string_equal(listing(root), ".out.careshed-toolong1,.outer.careshed-Ab12Cd,out");
    free(prev);
    free(dir);
    tu_rmtree(root);
    free(root);
}

static void an_input_is_never_dropped_or_replaced(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *first[] = {"areas.csv", "old table", "summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", first), CS_OK);
    char *table = tu_join(dir, "areas.csv");
    cs_input_note(ctx, table, "population");

    /* replaced by a file of the same name */
    const char *same[] = {"areas.csv", "new table", NULL};
    assert_int_equal(write_set(dir, "run", same), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "would replace the population input", table, NULL));
    /* dropped because the new set lacks it */
    const char *without[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", without), CS_ERR_OUTPUT);
    assert_string_equal(listing(dir), ".careshed,areas.csv,summary.json");
    assert_content(dir, "areas.csv", "old table");
    /* nor is the marker, were someone to read it */
    char *marker = tu_join(dir, ".careshed");
    cs_input_note(ctx, marker, "study file");
    assert_int_equal(write_set(dir, "proposals", without), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, "would replace the study file input", NULL));
    free(marker);
    cs_input_forget(ctx);
    cs_input_note(ctx, table, "population");
    /* another command's set keeps it: allowed */
    const char *site[] = {"proposals.geojson", "P", NULL};
    assert_int_equal(write_set(dir, "proposals", site), CS_OK);
    assert_content(dir, "areas.csv", "old table");
    free(table);
    tu_rmtree(dir);
    free(dir);
}

static cs_status check_path(const char *path)
{
    cs_context_clear_messages(ctx);
    return cs_output_path_check(ctx, path);
}

static void output_paths_are_checked(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *input = tu_write(dir, "streets.geojson", "{}");
    cs_input_note(ctx, input, "areas");
    char *hard = tu_join(dir, "hard.geojson");
    char *soft = tu_join(dir, "soft.geojson");
    char *fifo = tu_join(dir, "fifo");
    char *fresh = tu_join(dir, "report.html");
    assert_int_equal(link(input, hard), 0);
    assert_int_equal(symlink(input, soft), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(check_path(fresh), CS_OK);
    assert_int_equal(check_path(input), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, input, "would replace the areas input", NULL));
    assert_int_equal(check_path(hard), CS_ERR_OUTPUT);
    assert_int_equal(check_path(soft), CS_ERR_OUTPUT);
    assert_int_equal(check_path(fifo), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, fifo, "device, pipe or socket", NULL));
    assert_int_equal(check_path("/dev/null"), CS_ERR_OUTPUT);
    assert_int_equal(check_path(dir), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, dir, "a folder is in the way", NULL));
    assert_int_equal(check_path(""), CS_ERR_ARGUMENT);

    /* Single files through an output set are checked the same way. */
    cs_outset *set = NULL;
    assert_int_equal(cs_outset_begin(ctx, dir, &set), CS_OK);
    assert_int_equal(cs_outset_add(ctx, set, "hard.geojson", "x", 1), CS_ERR_OUTPUT);
    assert_int_equal(cs_outset_commit(ctx, set), CS_ERR_OUTPUT);
    cs_outset_destroy(set);
    assert_string_equal(listing(dir), "fifo,hard.geojson,soft.geojson,streets.geojson");
    assert_content(dir, "streets.geojson", "{}");
    free(input);
    free(hard);
    free(soft);
    free(fifo);
    free(fresh);
    tu_rmtree(dir);
    free(dir);
}

/* Every allocation failed in turn: a clean error, and the folder as it was. */
static void allocation_failures_leave_the_folder_as_it_was(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *old[] = {"areas.geojson", "old", NULL};
    assert_int_equal(write_set(dir, "run", old), CS_OK);
    const char *files[] = {"areas.geojson", "new", "summary.json", "{}", NULL};
    for (long n = 0;; n++) {
        tu_alloc_fail_after(n);
        cs_status st = write_set(dir, "run", files);
        long refused = tu_alloc_refused();
        tu_alloc_restore();
        if (refused == 0) {
            assert_int_equal(st, CS_OK);
            break;
        }
        if (st != CS_ERR_NOMEM)
            tu_dump_messages(ctx);
        assert_int_equal(st, CS_ERR_NOMEM);
        assert_string_equal(listing(dir), ".careshed,areas.geojson");
        assert_content(dir, "areas.geojson", "old");
        char *parent = strdup(dir);
        *strrchr(parent, '/') = '\0';
        DIR *d = opendir(parent);
        const char *base = strrchr(dir, '/') + 1;
        for (struct dirent *e; (e = readdir(d));)
            assert_null(strstr(e->d_name, base) == e->d_name + 1 ? e->d_name : NULL);
        closedir(d);
        free(parent);
    }
    assert_content(dir, "areas.geojson", "new");
    tu_rmtree(dir);
    free(dir);
}

/* The refusal names the first three entries in byte order and how many there are; with
 * --overwrite careshed's files replace those of the same names and the rest stay. */
static void a_foreign_folder_is_taken_only_with_overwrite(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *mine[] = {"zeta.txt", "beta.csv", "areas.csv", "Alpha.docx", "gamma.png"};
    for (size_t i = 0; i < 5; i++)
        free(tu_write(dir, mine[i], "mine"));
    const char *files[] = {"areas.csv", "new table", "summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", files), CS_ERR_OUTPUT);
    /* areas.csv is a name careshed writes: not among the four it did not write */
    assert_true(tu_has_message(ctx, dir, "holds 4 files careshed did not write: "
                               "'Alpha.docx', 'beta.csv', 'gamma.png' and 1 more",
                               NULL));
    assert_string_equal(listing(dir), "Alpha.docx,areas.csv,beta.csv,gamma.png,zeta.txt");
    assert_content(dir, "areas.csv", "mine");

    cs_context_set_overwrite(ctx, true);
    assert_int_equal(write_set(dir, "run", files), CS_OK);
    cs_context_set_overwrite(ctx, false);
    assert_string_equal(listing(dir), ".careshed,Alpha.docx,areas.csv,beta.csv,gamma.png,"
                                      "summary.json,zeta.txt");
    assert_content(dir, "areas.csv", "new table");
    assert_content(dir, "zeta.txt", "mine");
    assert_true(tu_has_message(ctx, "kept 4 files that no careshed command wrote ('Alpha.docx', "
                               "'beta.csv', 'gamma.png' and 1 more)", NULL));
    /* never a folder of inputs, even with --overwrite */
    char *other = tu_mkdtemp();
    char *input = tu_write(other, "population.csv", "id,pop");
    cs_input_note(ctx, input, "population");
    cs_context_set_overwrite(ctx, true);
    assert_int_equal(write_set(other, "run", files), CS_ERR_OUTPUT);
    assert_true(tu_has_message(ctx, other, "holds the population input ('population.csv')",
                               "even with --overwrite", "choose another --out folder", NULL));
    assert_int_equal(cs_output_folder_check(ctx, other), CS_ERR_OUTPUT);
    cs_context_set_overwrite(ctx, false);
    cs_input_forget(ctx);
    assert_string_equal(listing(other), "population.csv");
    free(input);
    tu_rmtree(other);
    free(other);
    /* now careshed's: the next run needs no --overwrite, and lists only its own */
    const char *again[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", again), CS_OK);
    assert_string_equal(listing(dir),
                        ".careshed,Alpha.docx,beta.csv,gamma.png,summary.json,zeta.txt");
    assert_content(dir, ".careshed",
                   "# careshed output folder. Each careshed command replaces its files listed\n"
                   "# below as one set; files not listed are not careshed's and are kept.\n"
                   "version " CARESHED_VERSION "\n"
                   "file run summary.json\n");
    tu_rmtree(dir);
    free(dir);
}

/* The marker lists the set, sorted by command and name; a rerun drops what the marker
 * lists for its command even under a name this version does not write (a newer
 * version's file), and keeps what it lists for other commands. */
static void the_marker_lists_the_set(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *site[] = {"proposals.geojson", "P", NULL};
    assert_int_equal(write_set(dir, "proposals", site), CS_OK);
    const char *run[] = {"summary.json", "{}", "service-network.geojson", "N", "areas.csv",
                         "A", NULL};
    assert_int_equal(write_set(dir, "run", run), CS_OK);
    static const char head[] =
        "# careshed output folder. Each careshed command replaces its files listed\n"
        "# below as one set; files not listed are not careshed's and are kept.\n"
        "version " CARESHED_VERSION "\n";
    assert_content(dir, ".careshed",
                   "# careshed output folder. Each careshed command replaces its files listed\n"
                   "# below as one set; files not listed are not careshed's and are kept.\n"
                   "version " CARESHED_VERSION "\n"
                   "file proposals proposals.geojson\n"
                   "file run areas.csv\n"
                   "file run service-network.geojson\n"
                   "file run summary.json\n");
    /* a newer careshed's run wrote extra.gpkg; a tool of the user's wrote notes.txt;
     * a future command wrote plan.pdf */
    free(tu_write(dir, "extra.gpkg", "G"));
    free(tu_write(dir, "notes.txt", "mine"));
    free(tu_write(dir, "plan.pdf", "F"));
    char marker[1024];
    snprintf(marker, sizeof marker, "%sfile run extra.gpkg\nfile later plan.pdf\n", head);
    free(tu_write(dir, ".careshed", marker));
    const char *rerun[] = {"summary.json", "{}", NULL};
    assert_int_equal(write_set(dir, "run", rerun), CS_OK);
    assert_string_equal(listing(dir), ".careshed,notes.txt,plan.pdf,proposals.geojson,"
                                      "summary.json");
    assert_content(dir, ".careshed",
                   "# careshed output folder. Each careshed command replaces its files listed\n"
                   "# below as one set; files not listed are not careshed's and are kept.\n"
                   "version " CARESHED_VERSION "\n"
                   "file later plan.pdf\n"
                   "file proposals proposals.geojson\n"
                   "file run summary.json\n");
    /* an early careshed's one-line marker lists nothing: still careshed's folder */
    free(tu_write(dir, ".careshed", "This folder is written by careshed.\n"));
    assert_int_equal(write_set(dir, "run", rerun), CS_OK);
    assert_string_equal(listing(dir), ".careshed,notes.txt,plan.pdf,proposals.geojson,"
                                      "summary.json");
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_set_replaces_the_old_one_as_a_whole),
        cmocka_unit_test(a_large_previous_set_is_removed_apart),
        cmocka_unit_test(folder_keeps_its_permissions),
        cmocka_unit_test(foreign_folders_are_refused),
        cmocka_unit_test(folders_are_checked_before_the_work),
        cmocka_unit_test(folders_of_earlier_versions_are_careshed_s),
        cmocka_unit_test(a_foreign_folder_is_taken_only_with_overwrite),
        cmocka_unit_test(the_marker_lists_the_set),
        cmocka_unit_test(a_locked_folder_is_refused),
        cmocka_unit_test(leftovers_of_killed_runs_are_removed),
        cmocka_unit_test(an_input_is_never_dropped_or_replaced),
        cmocka_unit_test(output_paths_are_checked),
        cmocka_unit_test(allocation_failures_leave_the_folder_as_it_was),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
