/*
 * test_nothing_lost.c — the careshed command never loses anything: no command
 * (run, site, report) replaces any kind of input, whatever --out says; an output
 * folder killed at random moments during a run (with folder changes slowed by an
 * LD_PRELOAD shim) always holds a complete set, the previous or the new; two runs
 * racing into one folder leave one complete set; and a cut stopped by a signal leaves
 * no scratch file. Expected sets come from runs that were not killed.
 */
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

static char *work; /* a copy of the sample with extra inputs, shared by the tests */

static int cli(const char *args, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", work, CS_CLI, args);
    return tu_run(cmd, output);
}

/* A shell command in the work folder. */
static int sh(const char *command, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s", work, command);
    return tu_run(cmd, output);
}

/* The checksum of every file under work, as one text. */
static char *tree_checksums(void)
{
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -type f -print0 | sort -z | xargs -0 sha256sum", work);
    assert_int_equal(tu_run(cmd, &out), 0);
    return out;
}

static int setup(void **state)
{
    (void)state;
    work = tu_mkdtemp();
    char cmd[4096];
    /* the sample, its streets as a Shapefile (sidecars), a tiny cost matrix, one
     * proposal, an exclusion zone, and an earlier run to compare with */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cp '%s'/*.yaml '%s'/*.csv '%s'/*.geojson . && "
             "ogr2ogr -q streets.shp streets.geojson && "
             "printf 'from,to,cost\\n1,C001,3\\n2,C002,12\\n' > costs.csv && "
             "printf 'id,lon,lat,kind\\nP1,121.42,31.11,centre\\n' > sites.csv && "
             "printf 'id,wkt\\nZ,\"POLYGON((121.3 31.0,121.31 31.0,121.31 31.01,121.3 31.0))\"\\n'"
             " > zones.csv && "
             "'%s' run study.yaml --out before --measure straight -q",
             work, SAMPLE, SAMPLE, SAMPLE, CS_CLI);
    return tu_run(cmd, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(work);
    free(work);
    return 0;
}

/* careshed args must exit 6 naming the input's role, and change no file at all. */
static void expect_refused(const char *args, const char *role)
{
    char *before = tree_checksums(), *out = NULL;
    int code = cli(args, &out);
    char *after = tree_checksums();
    char needle[128];
    snprintf(needle, sizeof needle, "would replace the %s input", role);
    if (code != 6 || !strstr(out, needle) || strcmp(before, after))
        fprintf(stderr, "careshed %s -> %d:\n%s\n", args, code, out);
    assert_int_equal(code, 6);
    assert_non_null(strstr(out, needle));
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(out);
}

static void report_never_replaces_an_input(void **state)
{
    (void)state;
    static const struct {
        const char *out, *role;
    } cases[] = {
        {"study.yaml", "study file"},  {"streets.geojson", "areas"},
        {"facilities.csv", "facilities"}, {"population.csv", "population"},
        {"network.geojson", "network"}, {"before/summary.json", "baseline"},
        {"before/areas.csv", "baseline"}, {"before/facilities.geojson", "baseline"},
    };
    char args[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args,
                 "report study.yaml --measure straight --out '%s' --baseline "
                 "before/summary.json -q",
                 cases[i].out);
        expect_refused(args, cases[i].role);
    }
    /* every file of a Shapefile, by any name (a hard link, a relative path) */
    const char *sidecars[] = {"streets.shp", "streets.shx", "streets.dbf", "streets.prj",
                              "./../$(basename $PWD)/streets.dbf"};
    for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
        snprintf(args, sizeof args,
                 "report study.yaml --measure straight --set areas.path=streets.shp "
                 "--out \"%s\" -q",
                 sidecars[i]);
        expect_refused(args, "areas");
    }
    /* a network the run does not read (no kind walks it) is an input all the same, every
     * file of it */
    assert_int_equal(sh("ogr2ogr -q walks.shp network.geojson", NULL), 0);
    const char *network_files[] = {"walks.shp", "walks.dbf", "walks.prj"};
    for (size_t i = 0; i < sizeof network_files / sizeof network_files[0]; i++) {
        snprintf(args, sizeof args,
                 "report study.yaml --measure straight --set network.path=walks.shp "
                 "--out %s -q",
                 network_files[i]);
        expect_refused(args, "network");
    }
    assert_int_equal(sh("rm walks.*", NULL), 0);
    expect_refused("report study.yaml --costs costs.csv --set population.id=id "
                   "--measure straight,matrix --out costs.csv -q",
                   "costs");
    /* the PDF beside the report is checked too, before anything is written */
    assert_int_equal(sh("ln population.csv linked.pdf", NULL), 0);
    expect_refused("report study.yaml --measure straight --out linked.html --pdf -q", "population");
    assert_int_equal(sh("rm linked.pdf", NULL), 0);
}

static void report_refuses_devices_pipes_and_folders(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(sh("mkfifo pipe && ls -l /dev/null", NULL), 0);
    assert_int_equal(cli("report study.yaml --out /dev/null -q", &out), 6);
    assert_non_null(strstr(out, "/dev/null: is a device, pipe or socket"));
    free(out);
    struct stat info;
    assert_int_equal(stat("/dev/null", &info), 0);
    assert_true(S_ISCHR(info.st_mode));
    assert_int_equal(cli("report study.yaml --out pipe -q", &out), 6);
    assert_non_null(strstr(out, "is a device, pipe or socket"));
    free(out);
    assert_int_equal(cli("report study.yaml --out before/.. -q", &out), 6);
    assert_non_null(strstr(out, "a folder is in the way"));
    free(out);
    assert_int_equal(sh("rm pipe", NULL), 0);
}

static void run_never_replaces_an_input(void **state)
{
    (void)state;
    /* an input inside the output folder, under the name of a file the run writes */
    struct {
        const char *prepare, *args, *role;
    } cases[] = {
        {"cp population.csv before/areas.csv", "--set population.path=before/areas.csv",
         "population"},
        {"cp streets.geojson before/areas.geojson", "--areas before/areas.geojson", "areas"},
        {"cp network.geojson before/service-network.geojson",
         "--measure both --network before/service-network.geojson", "network"},
    };
    char args[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sh(cases[i].prepare, NULL), 0);
        snprintf(args, sizeof args, "run study.yaml --measure straight %s --out before -q",
                 cases[i].args);
        expect_refused(args, cases[i].role);
        /* the earlier run again */
        assert_int_equal(cli("run study.yaml --out before --measure straight -q", NULL), 0);
    }
}

static void site_never_replaces_an_input(void **state)
{
    (void)state;
    assert_int_equal(cli("site study.yaml --measure straight --proposals sites.csv --out before "
                         "-q", NULL),
                     0);
    expect_refused("site study.yaml --measure straight --proposals before/proposals.geojson "
                   "--out before -q",
                   "proposals");
    assert_int_equal(cli("site study.yaml --measure straight --suggest 1 --kind centre --out "
                         "before -q", NULL),
                     0);
    expect_refused("site study.yaml --measure straight --suggest 1 --kind centre --candidates "
                   "before/suggestions.geojson --out before -q",
                   "candidates");
    assert_int_equal(sh("rm before/suggestions.geojson && "
                         "ogr2ogr -q -f GeoJSON before/suggestions.geojson zones.csv",
                         NULL),
                     0);
    expect_refused("site study.yaml --measure straight --suggest 1 --kind centre --exclude "
                   "before/suggestions.geojson --out before -q",
                   "exclude");
    /* the run's files are still there, next to the site's */
    char *out = NULL;
    assert_int_equal(sh("ls -A before", &out), 0);
    assert_non_null(strstr(out, "areas.geojson"));
    assert_non_null(strstr(out, "proposals.geojson"));
    assert_non_null(strstr(out, "suggestions.geojson"));
    free(out);
}

/* ------------------------------------------------------------- kills, races */

/* "name sha256" of every file in dir, hidden ones included, sorted; not a pipe (one a
 * failed test left behind would be read forever). */
static char *folder_signature(const char *dir)
{
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -mindepth 1 ! -type p -print0 | sort -z | "
             "xargs -0 -r sha256sum", dir);
    tu_run(cmd, &out);
    return out;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Start careshed run into out with renames and syncs slowed; returns its pid. The two
 * sets differ in their files too: at 3 km/h without demand-access.csv, whose absence
 * the folder must show exactly when the set of the 3 km/h run is whole. */
static pid_t start_run(const char *out, const char *speed, bool slow)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(work) != 0 || !freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(99);
        if (slow) {
            setenv("LD_PRELOAD", CS_SLOWFS, 1);
            setenv("SLOWFS_MS", "40", 1);
            /* the shim comes before the sanitizer runtime */
            setenv("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0", 1);
        }
        char set[64];
        snprintf(set, sizeof set, "walk_speed_kmh=%s", speed);
        const char *demand = strcmp(speed, "3") ? "demand_points_csv=true"
                                                 : "demand_points_csv=false";
        execl(CS_CLI, CS_CLI, "run", "study.yaml", "--measure", "straight", "--set", set,
              "--set", demand, "--out", out, "-q", (char *)NULL);
        _exit(98);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/* No staging folder or temporary is left beside or inside the folder. */
static size_t leftovers(void)
{
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "cd '%s' && ls -A | grep -c '^\\.kill\\.careshed-'; "
             "ls -A kill | grep -c 'tmp-'", work);
    tu_run(cmd, &out);
    size_t a = 0, b = 0;
    sscanf(out, "%zu %zu", &a, &b);
    free(out);
    return a + b;
}

/* The names of the staging folders beside out, joined by '/'. */
static void staging_names(const char *out, char *names, size_t size)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, ".%s.careshed-", out);
    names[0] = '\0';
    DIR *d = opendir(work);
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, prefix, strlen(prefix)) &&
            strlen(names) + strlen(e->d_name) + 2 < size) {
            strcat(names, e->d_name);
            strcat(names, "/");
        }
    if (d)
        closedir(d);
}

/* Wait until a staging folder that was not there before (the names in `before`)
 * appears beside out, i.e. the run's write stage has begun, or the run has ended. */
static void wait_for_staging(pid_t pid, const char *out, const char *before)
{
    double t0 = now_s();
    for (;;) {
        char now[4096];
        staging_names(out, now, sizeof now);
        bool found = false;
        for (char *name = strtok(now, "/"); name && !found; name = strtok(NULL, "/")) {
            char entry[300];
            snprintf(entry, sizeof entry, "%s/", name);
            found = !strstr(before, entry);
        }
        int status;
        if (found || waitpid(pid, &status, WNOHANG) != 0 || now_s() - t0 > 120)
            return;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static void killed_runs_leave_a_complete_set(void **state)
{
    (void)state;
    char *dir = tu_join(work, "kill");
    /* the two sets, from runs that were not killed; and how long writing takes */
    assert_int_equal(wait_exit(start_run("kill", "3", false)), 0);
    char *set_b = folder_signature(dir);
    char before[4096];
    staging_names("kill", before, sizeof before);
    pid_t pid = start_run("kill", "4", true);
    wait_for_staging(pid, "kill", before);
    double t0 = now_s();
    assert_int_equal(wait_exit(pid), 0);
    double write_s = now_s() - t0;
    char *set_a = folder_signature(dir);
    assert_string_not_equal(set_a, set_b);
    /* the sets differ in their file lists, and each marker lists its own */
    assert_non_null(strstr(set_a, "./demand-access.csv"));
    assert_null(strstr(set_b, "./demand-access.csv"));
    char *marker_path = tu_join(dir, ".careshed");
    char *marker = tu_read(marker_path, NULL);
    assert_non_null(strstr(marker, "file run demand-access.csv\n"));
    free(marker);
    free(marker_path);
    print_message("writing the set, slowed, takes %.2f s\n", write_s);

    uint64_t rng = 12;
    size_t outcomes[2] = {0, 0};
    /* kills at random moments up to a little past the measured write; on a loaded
     * machine a write can take longer than it did when measured, so while no kill has
     * yet landed after the swap the span grows, for at most 48 kills */
    double span = 1.1 * write_s;
    int kills = 0;
    for (int k = 0; k < 16 || (!(outcomes[0] && outcomes[1]) && k < 48); k++, kills++) {
        /* the folder holds a complete set before each kill; write the other one and
         * kill it at a random moment of its write stage (or just after) */
        char *current = folder_signature(dir);
        bool is_a = !strcmp(current, set_a);
        staging_names("kill", before, sizeof before); /* killed runs leave theirs */
        pid = start_run("kill", is_a ? "3" : "4", true);
        wait_for_staging(pid, "kill", before);
        double at = span * tu_rng_unit(&rng);
        sleep_s(at);
        kill(pid, SIGKILL);
        int code = wait_exit(pid);
        char *after = folder_signature(dir);
        bool whole_a = !strcmp(after, set_a), whole_b = !strcmp(after, set_b);
        if (!whole_a && !whole_b)
            fprintf(stderr, "kill %d %.2f s into writing (exit %d) left a mixed folder:\n%s\n",
                    k, at, code, after);
        assert_true(whole_a || whole_b);
        outcomes[whole_a == is_a ? 0 : 1]++;
        if (k >= 8 && outcomes[1] == 0)
            span *= 1.5;
        free(after);
        free(current);
    }
    print_message("%d kills while writing: %zu left the previous set, %zu the new one\n",
                  kills, outcomes[0], outcomes[1]);
    /* the kills landed on both sides of the swap */
    assert_true(outcomes[0] > 0 && outcomes[1] > 0);
    /* the next run removes what the killed ones left */
    assert_int_equal(wait_exit(start_run("kill", "4", false)), 0);
    assert_int_equal(leftovers(), 0);
    char *last = folder_signature(dir);
    assert_string_equal(last, set_a);
    free(last);
    free(set_a);
    free(set_b);
    free(dir);
}

static void racing_runs_leave_one_complete_set(void **state)
{
    (void)state;
    char *dir = tu_join(work, "race");
    assert_int_equal(wait_exit(start_run("race", "3", false)), 0);
    char *set_b = folder_signature(dir);
    assert_int_equal(wait_exit(start_run("race", "4", false)), 0);
    char *set_a = folder_signature(dir);
    for (int round = 0; round < 4; round++) {
        pid_t a = start_run("race", "4", true), b = start_run("race", "3", true);
        int code_a = wait_exit(a), code_b = wait_exit(b);
        /* each finished or was refused (exit 6: another careshed is writing) */
        assert_true(code_a == 0 || code_a == 6);
        assert_true(code_b == 0 || code_b == 6);
        assert_true(code_a == 0 || code_b == 0);
        char *after = folder_signature(dir);
        assert_true(!strcmp(after, set_a) || !strcmp(after, set_b));
        if (code_a != 0)
            assert_string_equal(after, set_b);
        if (code_b != 0)
            assert_string_equal(after, set_a);
        free(after);
    }
    /* the refusal says why */
    char *out = NULL;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec 9<race && flock -x 9 && '%s' run study.yaml --measure straight "
             "--out race -q",
             work, CS_CLI);
    assert_int_equal(tu_run(cmd, &out), 6);
    assert_non_null(strstr(out, "another careshed is writing to this output folder"));
    free(out);
    free(set_a);
    free(set_b);
    free(dir);
}

/* A file the disk cannot write (fsync fails, through the shim): the command exits 6
 * naming it, and the folder, or the single file, keeps its previous content, with no
 * temporary left. */
static void a_file_the_disk_cannot_write_replaces_nothing(void **state)
{
    (void)state;
    char *before = folder_signature(work);
    char *out = NULL, cmd[4096];
    snprintf(cmd, sizeof cmd,
             "LD_PRELOAD='%s' SLOWFS_FSYNC_FAIL=summary.json "
             "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 '%s' run study.yaml "
             "--measure straight --set walk_speed_kmh=3 --out before -q",
             CS_SLOWFS, CS_CLI);
    assert_int_equal(sh(cmd, &out), 6);
    assert_non_null(strstr(out, "summary.json"));
    assert_non_null(strstr(out, "cannot write the output file: "));
    assert_non_null(strstr(out, "no output was replaced"));
    free(out);
    /* a report, a single file: the same, beside the earlier one */
    snprintf(cmd, sizeof cmd, "'%s' report study.yaml --measure straight --out memo.html -q",
             CS_CLI);
    assert_int_equal(sh(cmd, NULL), 0);
    char *with_memo = folder_signature(work);
    snprintf(cmd, sizeof cmd,
             "LD_PRELOAD='%s' SLOWFS_FSYNC_FAIL=memo.html "
             "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 '%s' report study.yaml "
             "--measure straight --set walk_speed_kmh=3 --out memo.html -q",
             CS_SLOWFS, CS_CLI);
    assert_int_equal(sh(cmd, &out), 6);
    assert_non_null(strstr(out, "memo.html"));
    assert_non_null(strstr(out, "cannot write the output file: "));
    free(out);
    char *after_memo = folder_signature(work);
    assert_string_equal(after_memo, with_memo);
    free(after_memo);
    assert_int_equal(sh("rm memo.html", NULL), 0);
    char *after = folder_signature(work);
    assert_string_equal(after, before);
    free(with_memo);
    free(after);
    free(before);
}

/* A file system that refuses writes past the page cache (through the shim): the
 * demand layer, the one file written that way, is written through the page cache
 * instead, byte for byte the same as where they are taken. */
static void unbuffered_writes_refused_fall_back(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' run study.yaml --measure straight --out direct_taken -q && "
             "LD_PRELOAD='%s' SLOWFS_NO_DIRECT=1 "
             "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 '%s' run study.yaml "
             "--measure straight --out direct_refused -q && "
             "test -s direct_taken/demand.fgb && "
             "cmp direct_taken/demand.fgb direct_refused/demand.fgb && "
             "cmp direct_taken/summary.json direct_refused/summary.json",
             CS_CLI, CS_SLOWFS, CS_CLI);
    char *out = NULL;
    int code = sh(cmd, &out);
    if (code != 0)
        fail_msg("exit %d: %s", code, out ? out : "");
    free(out);
    assert_int_equal(sh("rm -r direct_taken direct_refused", NULL), 0);
}

/* Whether the folder holds nothing. */
static bool folder_empty(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n == 0;
}

/* A cut stopped by Ctrl-C or a scheduler's SIGTERM while its network's copy is in
 * $TMPDIR (the sample's network given 10 kB of lines, folder changes slowed) leaves
 * nothing there, and ends by that signal. */
static void stopped_cut_leaves_no_copy(void **state)
{
    (void)state;
    char *tmp = tu_join(work, "scratch");
    assert_int_equal(mkdir(tmp, 0755), 0);
    const int stops[] = {SIGINT, SIGTERM};
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(work) != 0 || !freopen("/dev/null", "w", stdout) ||
                !freopen("/dev/null", "w", stderr))
                _exit(99);
            setenv("TMPDIR", tmp, 1);
            setenv("LD_PRELOAD", CS_SLOWFS, 1);
            setenv("SLOWFS_MS", "40", 1);
            setenv("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0", 1);
            execl(CS_CLI, CS_CLI, "shard", "study.yaml", "--parts", "2", "--out", "stopped",
                  "--set", "measure=network", "--set", "shard.network_memory_mb=0.01", "-q",
                  (char *)NULL);
            _exit(98);
        }
        bool copying = false; /* its folder made */
        for (int i = 0; i < 10000 && !copying; i++)
            if (!(copying = !folder_empty(tmp)))
                usleep(1000);
        assert_true(copying);
        assert_int_equal(kill(pid, stops[k]), 0);
        assert_int_equal(wait_exit(pid), -stops[k]);
        assert_true(folder_empty(tmp));
    }
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unbuffered_writes_refused_fall_back),
        cmocka_unit_test(report_never_replaces_an_input),
        cmocka_unit_test(report_refuses_devices_pipes_and_folders),
        cmocka_unit_test(run_never_replaces_an_input),
        cmocka_unit_test(site_never_replaces_an_input),
        cmocka_unit_test(a_file_the_disk_cannot_write_replaces_nothing),
        cmocka_unit_test(killed_runs_leave_a_complete_set),
        cmocka_unit_test(racing_runs_leave_one_complete_set),
        cmocka_unit_test(stopped_cut_leaves_no_copy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
