/*
 * main.c — the careshed command: parse options, call the library, show messages and
 * progress, map errors to exit codes. Data (the results table) goes to stdout, talk
 * to stderr with the program's name in front. Uses the public API only.
 */
#include "careshed/careshed.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pdf.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_TARGETS = 1,
    EXIT_USAGE = 2,
    EXIT_STUDY = 3,
    EXIT_INPUT = 4,
    EXIT_CRS = 5,
    EXIT_OUTPUT = 6,
    EXIT_INTERNAL = 7
};

static const char exit_codes_text[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  --check was given and a target is not met\n"
    "  2  usage error (unknown option, missing value)\n"
    "  3  the study file or a --set value is invalid\n"
    "  4  an input layer is missing, unreadable or invalid\n"
    "  5  a coordinate system is unknown or cannot be converted\n"
    "  6  an output cannot be written\n"
    "  7  out of memory or internal error\n";

static void usage_main(FILE *f)
{
    fprintf(f,
            "careshed %s — how well elder-care facilities serve older residents\n\n"
            "Usage:\n"
            "  careshed run [STUDY.yaml] [options]    coverage, targets, GeoJSON/CSV/JSON\n"
            "  careshed check [STUDY.yaml] [options]  load and validate everything, report\n"
            "                                         every problem, compute nothing\n"
            "  careshed site [STUDY.yaml] --at LON,LAT[,KIND[,CAPACITY]] ... |\n"
            "                --proposals FILE [options]\n"
            "                                         what proposed sites would change\n"
            "  careshed report [STUDY.yaml] --out report.html [--year Y] [--since Y0]\n"
            "                [--baseline PREVIOUS/summary.json] [--lang zh|en] [--pdf]\n"
            "                                         the annual coverage report (HTML)\n"
            "  careshed --help | --version\n\n"
            "`careshed run --help` lists the options.\n\n%s",
            cs_version(), exit_codes_text);
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "Usage: careshed run [STUDY.yaml] [options]\n"
            "       careshed check [STUDY.yaml] [options]\n\n"
            "Without a study file, give the three layers; everything else has defaults\n"
            "(fields id/name/kind/pop/pop60/pop65/pop80, kinds from the kind field,\n"
            "5/10/15 minutes at 4 km/h, a transverse Mercator centred on the areas).\n\n"
            "Options:\n"
            "  --areas FILE        street (area) polygons            [areas.path]\n"
            "  --facilities FILE   facility points or lon/lat table  [facilities.path]\n"
            "  --population FILE   population points                 [population.path]\n"
            "  --network FILE      walking network: .osm/.osm.pbf or lines [network.path]\n"
            "  --costs FILE        cost matrix from another router: demand id, site id,\n"
            "                      cost (see costs.* keys)           [costs.path]\n"
            "                      (these FILEs and --set *.path= are relative to the\n"
            "                      current folder, a study file's paths to its folder)\n"
            "  --measure M         straight, network, matrix, both or a list (default:\n"
            "                      straight, plus network and matrix when given) [measure]\n"
            "  --out DIR           output folder (default: out)\n"
            "  --crs CRS           working metric CRS, e.g. EPSG:4549 [crs]\n"
            "  --speed KMH         walking speed                     [walk_speed_kmh]\n"
            "  --thresholds LIST   minutes, e.g. 5,10,15             [thresholds_min]\n"
            "  --set KEY=VALUE     set any study key (repeatable), e.g.\n"
            "                      --set facilities.crs=GCJ-02 --set kinds.meal.thresholds_min=10\n"
            "  --year Y            only the facilities open in year Y (opened <= Y < closed)\n"
            "                      and the latest population not after Y\n"
            "  --check             exit 1 when a target is not met (run only)\n"
            "  --threads N         threads for the cost field (default: all cores)\n"
            "  --timings           print each stage's time and the peak memory to stderr\n"
            "  -q, --quiet         print errors only\n"
            "  -h, --help          this text\n\n"
            "Site (careshed site): --at LON,LAT[,KIND[,CAPACITY]] (repeatable, WGS84),\n"
            "  --proposals FILE (points, any format and CRS; fields id, kind, capacity),\n"
            "  --proposals-crs CRS (e.g. GCJ-02, BD-09), --kind KIND (when not given per\n"
            "  site); --x-field/--y-field NAME: a table's coordinate columns (here and in\n"
            "  --candidates); writes DIR/proposals.geojson and one line per proposal.\n"
            "  --suggest K --kind KIND: the K sites newly covering the most residents of\n"
            "  underserved.band (lazy greedy); --reach-share S instead: the fewest sites\n"
            "  lifting coverage to S; --within MIN, or 500m for metre thresholds (default:\n"
            "  the largest threshold);\n"
            "  --candidates FILE (default: centres of under-served grid cells); --exact:\n"
            "  also solve exactly with GLPK; --exclude FILE: polygons no site may lie in\n"
            "  (--exclude-crs CRS). Writes DIR/suggestions.geojson.\n\n"
            "Report (careshed report): --out FILE (default report.html); --year Y (default:\n"
            "  the last year a facility opened or closed, from facilities.opened/closed);\n"
            "  --since Y0 (default Y - 4): every year from Y0 to Y is evaluated; --baseline\n"
            "  PREVIOUS/summary.json (with its areas.csv, facilities.geojson) to compare\n"
            "  with; --lang zh|en\n"
            "  (default: Chinese for Chinese names); --pdf: also FILE.pdf through Chromium.\n\n"
            "Outputs in DIR: areas.geojson, service-circles.geojson, facilities.geojson,\n"
            "areas.csv, summary.json; with a network also service-network.geojson (and\n"
            "facility-service-areas.geojson with --set network.facility_areas=true).\n\n%s",
            exit_codes_text);
}

typedef struct options {
    const char *command;
    const char *study;
    const char *out_dir;
    /* site: proposals given with --at, a --proposals file, its CRS, a default kind */
    const char **at;
    size_t at_count;
    const char *proposals, *proposals_crs, *kind, *x_field, *y_field;
    /* site --suggest K / --reach-share S: choose sites (from --candidates or generated) */
    long suggest;
    double reach_share, within_min, within_m;
    bool exact;
    const char *candidates, *exclude, *exclude_crs;
    /* report: the years, a baseline, the language, PDF, and the command for the methods */
    int year, since;
    const char *baseline, *lang;
    bool pdf;
    char *command_line;
    bool check_targets, quiet, timings;
    int threads;
    /* key=value settings in the order given */
    const char **keys, **values;
    size_t settings;
    char **owned; /* values made here (layer paths joined to the current folder) */
    size_t owned_count;
} options;

static int exit_for(cs_status st)
{
    switch (st) {
    case CS_OK: return EXIT_OK;
    case CS_ERR_STUDY: return EXIT_STUDY;
    case CS_ERR_INPUT: return EXIT_INPUT;
    case CS_ERR_CRS: return EXIT_CRS;
    case CS_ERR_OUTPUT: return EXIT_OUTPUT;
    default: return EXIT_INTERNAL;
    }
}

/*
 * The last line of defence. A library that runs out of memory may not return an error
 * but end the program: libgomp calls exit(1) when it cannot start a thread or allocate
 * ("libgomp: Thread creation failed"), json-c and glibc abort on an assertion. careshed
 * must still end with exit 7 and one message naming the stage. `cli_stage` says what the
 * command was doing; `finished` is set when main returns by itself.
 */
static const char *volatile cli_stage = "starting";
static const char nomem_hint[] =
    "free memory, raise the limit (ulimit -v) or use a smaller study";
static volatile sig_atomic_t finished;
static char limit_text[96]; /* " with the address space limited to N MB", or "" */

static void write_text(const char *text)
{
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, text, n);
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

/* Async-signal-safe: only write and strlen. */
static void write_stopped_message(const char *how)
{
    write_text("careshed: error: out of memory while ");
    write_text((const char *)cli_stage);
    write_text(" (");
    write_text(how);
    write_text(")");
    write_text(limit_text);
    write_text("; ");
    write_text(nomem_hint);
    write_text("; if memory was plentiful, this is a bug: please report it\n");
}

static void on_fatal_signal(int sig)
{
    write_stopped_message(sig == SIGABRT ? "a library aborted" : "a library crashed");
    _exit(EXIT_INTERNAL);
}

static void on_early_exit(void)
{
    if (finished)
        return;
    write_stopped_message("a library ended the program");
    _exit(EXIT_INTERNAL);
}

static void install_safety_net(void)
{
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        snprintf(limit_text, sizeof limit_text,
                 " with the address space limited to %.0f MB", (double)as.rlim_cur / 1048576.0);
    atexit(on_early_exit);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, NULL);
    /* A crash under a memory limit is most likely a library using memory it could not
     * get; without a limit it is a bug, and the default (a core dump, or the
     * sanitizers' report) serves better. */
    if (limit_text[0]) {
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
    }
}

/* Print the messages from *shown on; returns whether an out-of-memory error was among
 * them. */
static bool print_messages(const cs_context *ctx, size_t *shown, bool quiet)
{
    bool nomem = false;
    for (; *shown < cs_context_message_count(ctx); (*shown)++) {
        const cs_message *m = cs_context_get_message(ctx, *shown);
        if (m->severity == CS_SEVERITY_ERROR && m->status == CS_ERR_NOMEM)
            nomem = true;
        if (quiet && m->severity != CS_SEVERITY_ERROR)
            continue;
        char text[4096];
        cs_message_format(m, text, sizeof text);
        fprintf(stderr, "careshed: %s\n", text);
    }
    return nomem;
}

static void progress(void *user, const char *stage, double fraction)
{
    (void)user;
    fprintf(stderr, "\rcareshed: %-12s %3.0f%%%s", stage, fraction * 100,
            fraction >= 1 ? "\n" : "");
    fflush(stderr);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "careshed: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\ncareshed: try 'careshed run --help'\n");
    return EXIT_USAGE;
}

/* An option given no value, or an empty one (--out ""). */
static int missing_value(const char *option, const char *value)
{
    return usage_error(value ? "%s needs a value, got an empty string" : "%s needs a value",
                       option);
}

/* Whether an error since message `from` is about the study file as a whole (it could
 * not be read, or is not YAML), not about one of its keys: then its layers are unknown,
 * and `check` does not go on to say that none were given. */
static bool study_file_unread(const cs_context *ctx, size_t from)
{
    for (size_t i = from; i < cs_context_message_count(ctx); i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        if (m->severity == CS_SEVERITY_ERROR && !m->field)
            return true;
    }
    return false;
}

/* The keys naming an input layer's file. */
static bool is_layer_path(const char *key)
{
    static const char *const keys[] = {"areas.path",   "facilities.path", "population.path",
                                       "landuse.path", "network.path",    "costs.path"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(key, keys[i]))
            return true;
    return false;
}

/* "PG:dbname=x", "WFS:http://...": GDAL connection strings are not file paths. */
static bool has_scheme(const char *path)
{
    size_t n = 0;
    while ((path[n] >= 'A' && path[n] <= 'Z') || (path[n] >= 'a' && path[n] <= 'z') ||
           (n > 0 && ((path[n] >= '0' && path[n] <= '9') || path[n] == '+' ||
                      path[n] == '-' || path[n] == '.')))
        n++;
    return n >= 2 && path[n] == ':';
}

/*
 * A layer path typed on the command line (--population pop.csv, --set costs.path=m.csv)
 * is relative to the folder the user stands in, as any path typed in a shell is; the
 * library takes a relative path as relative to the study file's folder. So a relative
 * one is joined here to the current folder. Sets *out to value itself when it needs no
 * change (empty, absolute, a connection string), else to a new string kept in o->owned;
 * false when out of memory or the current folder cannot be named.
 */
static bool path_from_here(options *o, const char *value, const char **out)
{
    *out = value;
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || *p == '/' || has_scheme(p))
        return true;
    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
        fprintf(stderr, "careshed: error: cannot name the current folder to find '%s' in "
                        "(%s); give the path from / instead\n", value, strerror(errno));
        return false;
    }
    size_t dn = strlen(cwd), pn = strlen(p);
    bool slash = dn == 0 || cwd[dn - 1] != '/';
    char *joined = malloc(dn + slash + pn + 1);
    char **grown = joined ? realloc(o->owned, (o->owned_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(joined);
        free(cwd);
        return false;
    }
    o->owned = grown;
    memcpy(joined, cwd, dn);
    if (slash)
        joined[dn] = '/';
    memcpy(joined + dn + slash, p, pn + 1);
    free(cwd);
    o->owned[o->owned_count++] = joined;
    *out = joined;
    return true;
}

static bool add_setting(options *o, const char *key, const char *value)
{
    const char **k = realloc(o->keys, (o->settings + 1) * sizeof *k);
    if (k)
        o->keys = k;
    const char **v = realloc(o->values, (o->settings + 1) * sizeof *v);
    if (v)
        o->values = v;
    if (!k || !v)
        return false;
    o->keys[o->settings] = key;
    o->values[o->settings++] = value;
    return true;
}

/* Options that are shorthands for study keys. */
static const struct {
    const char *option, *key;
} shorthands[] = {
    {"--areas", "areas.path"},         {"--facilities", "facilities.path"},
    {"--population", "population.path"}, {"--crs", "crs"},
    {"--speed", "walk_speed_kmh"},     {"--thresholds", "thresholds_min"},
    {"--network", "network.path"},     {"--measure", "measure"}, {"--costs", "costs.path"},
};

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, options *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool matched = false;
        for (size_t s = 0; s < sizeof shorthands / sizeof shorthands[0]; s++)
            if (!strcmp(a, shorthands[s].option)) {
                /* empty is a value here: --network '' leaves the study's network out */
                if (!next)
                    return usage_error("%s needs a value", a);
                if (!add_setting(o, shorthands[s].key, next))
                    return EXIT_INTERNAL;
                i++;
                matched = true;
            }
        if (matched)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_run(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--timings")) {
            o->timings = true;
        } else if (!strcmp(a, "--check")) {
            o->check_targets = true;
        } else if (!strcmp(o->command, "site") && !strcmp(a, "--exact")) {
            o->exact = true;
        } else if (!strcmp(o->command, "report") && !strcmp(a, "--pdf")) {
            o->pdf = true;
        } else if (!strcmp(a, "--year") ||
                   (!strcmp(o->command, "report") && !strcmp(a, "--since"))) {
            if (!next || !*next)
                return missing_value(a, next);
            i++;
            char *end;
            long y = strtol(next, &end, 10);
            if (*end || y < 1900 || y > 2200)
                return usage_error(!strcmp(a, "--year") ? "--year needs a year, got '%s'"
                                                        : "--since needs a year, got '%s'",
                                   next);
            *(!strcmp(a, "--year") ? &o->year : &o->since) = (int)y;
        } else if (!strcmp(o->command, "report") &&
                   (!strcmp(a, "--baseline") || !strcmp(a, "--lang"))) {
            if (!next || !*next)
                return missing_value(a, next);
            i++;
            if (!strcmp(a, "--lang") && strcmp(next, "zh") != 0 && strcmp(next, "en") != 0)
                return usage_error("--lang needs zh or en, got '%s'", next);
            *(!strcmp(a, "--baseline") ? &o->baseline : &o->lang) = next;
        } else if (!strcmp(o->command, "site") &&
                   (!strcmp(a, "--suggest") || !strcmp(a, "--reach-share") ||
                    !strcmp(a, "--within"))) {
            if (!next || !*next)
                return missing_value(a, next);
            i++;
            char *end;
            double v = strtod(next, &end);
            bool metres = !strcmp(a, "--within") && end != next && !strcmp(end, "m");
            if (!strcmp(a, "--within") && end != next && (metres || !strcmp(end, "min")))
                end += strlen(end); /* 500m: metres; 15 or 15min: minutes */
            if (*end || !(v > 0) || (!strcmp(a, "--suggest") && v != floor(v)) ||
                (!strcmp(a, "--reach-share") && v > 1))
                return usage_error(!strcmp(a, "--suggest")       ? "--suggest needs a whole "
                                                                   "number > 0, got '%s'"
                                   : !strcmp(a, "--reach-share") ? "--reach-share needs a "
                                                                   "share in (0, 1], got '%s'"
                                                                 : "--within needs minutes "
                                                                   "> 0 (or metres: 500m), "
                                                                   "got '%s'", next);
            if (!strcmp(a, "--suggest"))
                o->suggest = (long)v;
            else if (!strcmp(a, "--reach-share"))
                o->reach_share = v;
            else if (metres)
                o->within_m = v, o->within_min = NAN;
            else
                o->within_min = v, o->within_m = 0;
        } else if (!strcmp(o->command, "site") &&
                   (!strcmp(a, "--at") || !strcmp(a, "--proposals") ||
                    !strcmp(a, "--proposals-crs") || !strcmp(a, "--kind") ||
                    !strcmp(a, "--candidates") || !strcmp(a, "--exclude") ||
                    !strcmp(a, "--exclude-crs") || !strcmp(a, "--x-field") ||
                    !strcmp(a, "--y-field"))) {
            if (!next || !*next)
                return missing_value(a, next);
            i++;
            if (!strcmp(a, "--candidates") || !strcmp(a, "--exclude") ||
                !strcmp(a, "--exclude-crs") || !strcmp(a, "--x-field") ||
                !strcmp(a, "--y-field")) {
                *(!strcmp(a, "--candidates") ? &o->candidates
                  : !strcmp(a, "--exclude")  ? &o->exclude
                  : !strcmp(a, "--x-field")  ? &o->x_field
                  : !strcmp(a, "--y-field")  ? &o->y_field
                                             : &o->exclude_crs) = next;
                continue;
            }
            if (!strcmp(a, "--at")) {
                const char **grown = realloc(o->at, (o->at_count + 1) * sizeof *grown);
                if (!grown)
                    return EXIT_INTERNAL;
                o->at = grown;
                o->at[o->at_count++] = next;
            } else if (!strcmp(a, "--proposals")) {
                o->proposals = next;
            } else if (!strcmp(a, "--proposals-crs")) {
                o->proposals_crs = next;
            } else {
                o->kind = next;
            }
        } else if (!strcmp(a, "--out") || !strcmp(a, "--threads") || !strcmp(a, "--set")) {
            if (!next || !*next)
                return missing_value(a, next);
            i++;
            if (!strcmp(a, "--out")) {
                o->out_dir = next;
            } else if (!strcmp(a, "--threads")) {
                char *end;
                long n = strtol(next, &end, 10);
                if (end == next || *end || n < 0 || n > 1024)
                    return usage_error("--threads needs a number from 0 to 1024, got '%s'", next);
                o->threads = (int)n;
            } else {
                char *eq = strchr(next, '=');
                if (!eq || eq == next)
                    return usage_error("--set needs KEY=VALUE, got '%s'", next);
                *eq = '\0';
                if (!add_setting(o, next, eq + 1))
                    return EXIT_INTERNAL;
            }
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (!o->study) {
            o->study = a;
        } else {
            return usage_error("unexpected argument '%s' (only one study file)", a);
        }
    }
    /* With the study file in another folder, the library would take a relative layer
     * path from that folder; one typed here means the current folder. (With the study
     * file here, or none, the path is left as typed, which messages then show.) */
    for (size_t i = 0; o->study && strchr(o->study, '/') && i < o->settings; i++)
        if (is_layer_path(o->keys[i]) && !path_from_here(o, o->values[i], &o->values[i]))
            return EXIT_INTERNAL;
    return -1;
}

static const char *kind_label(const cs_study *s, size_t k)
{
    return cs_study_kind_name(s, k);
}

/* Whether code point c takes two columns on a terminal: East Asian Wide and Fullwidth
 * (Unicode's EastAsianWidth W and F: CJK, kana, Hangul, fullwidth forms, the emoji
 * block). */
static bool is_wide(unsigned long c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
           (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
           (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

/* Columns UTF-8 text takes on a terminal, whatever the locale: 2 for a wide character,
 * 0 for a combining mark, else 1 (a byte that is not UTF-8 counts as one). */
static size_t display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long c = *p;
        size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        c &= n == 3 ? 0x07 : n == 2 ? 0x0F : n == 1 ? 0x1F : 0xFF;
        size_t i = 1;
        for (; i <= n && (p[i] & 0xC0) == 0x80; i++)
            c = c << 6 | (p[i] & 0x3F);
        if (i <= n) { /* broken sequence: one column for its first byte */
            w++;
            p++;
            continue;
        }
        p += n + 1;
        bool combining = (c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
                         (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x20D0 && c <= 0x20FF);
        w += combining ? 0 : is_wide(c) ? 2 : 1;
    }
    return w;
}

/* text, then spaces up to `columns` terminal columns (printf's %-12s counts bytes, which
 * puts a Chinese kind name's columns out of line). */
static void print_padded(const char *text, size_t columns)
{
    fputs(text, stdout);
    for (size_t w = display_width(text); w < columns; w++)
        putchar(' ');
}

/* "1 error", "2 errors": the noun for n, singular or plural. */
static const char *noun(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_network(const cs_network_report *n)
{
    printf("Walking network: %zu %s, %.1f km, %zu connected %s, %.2f%% of the "
           "length in the largest\n", n->edges, noun(n->edges, "edge", "edges"), n->length_km,
           n->components, noun(n->components, "component", "components"),
           n->largest_share * 100);
    printf("  ways left out: %zu by class (motorway, trunk, ...), %zu closed to walkers\n",
           n->left_out_class, n->left_out_closed);
    printf("  off the network (over %g m from any way): %zu %s (%.0f residents), "
           "%zu %s\n", n->max_attach_m, n->demand_off,
           noun(n->demand_off, "demand point", "demand points"), n->demand_off_pop,
           n->facilities_off, noun(n->facilities_off, "facility", "facilities"));
    printf("  on small islands (<1%% of the length): %zu %s (%.0f residents), "
           "%zu %s\n", n->demand_islands, noun(n->demand_islands, "demand point",
           "demand points"), n->demand_islands_pop, n->facilities_islands,
           noun(n->facilities_islands, "facility", "facilities"));
}

/* One kind's district coverage at every threshold: "15 min 92.0% / 71.3%" when it is
 * measured more than one way (straight line, network, cost matrix). */
static void print_kind_coverage(const cs_study *s, const cs_result *r, size_t k, size_t band)
{
    printf("  ");
    print_padded(cs_study_kind_id(s, k), 12);
    for (size_t j = 0; j < cs_study_threshold_count(s, k); j++) {
        double min = cs_study_threshold_min(s, k, j);
        if (!isnan(min))
            printf("  %4g min", min);
        else
            printf("  %5g m", cs_study_threshold_m(s, k, j));
        const char *sep = " ";
        static const cs_measure measures[] = {CS_MEASURE_STRAIGHT, CS_MEASURE_NETWORK,
                                              CS_MEASURE_MATRIX};
        for (size_t m = 0; m < sizeof measures / sizeof measures[0]; m++) {
            cs_coverage c;
            if (cs_result_coverage_by(r, measures[m], k, j, band, CS_DISTRICT, &c) != CS_OK)
                continue;
            printf("%s%5.1f%%", sep, c.share * 100);
            sep = " / ";
        }
    }
    printf("   %s\n", kind_label(s, k));
}

/* Where the uncovered are, and the capacity within reach. */
static void print_demand(const cs_study *s, const cs_result *r)
{
    printf("\nUnder-served patches (beyond each kind's largest threshold):\n");
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        size_t n = cs_result_patch_count(r, k);
        printf("  ");
        print_padded(cs_study_kind_id(s, k), 12);
        printf(" %4zu patch%s", n, n == 1 ? "  " : "es");
        cs_patch_info p;
        if (n > 0 && cs_result_patch(r, k, 0, &p) == CS_OK) {
            printf("; largest: %.0f residents, %.2f km², in %s", p.uncovered, p.area_m2 / 1e6,
                   cs_study_area_name(s, (size_t)p.areas[0]));
            if (p.area_count > 1)
                printf(" and %zu more area%s", p.area_count - 1, p.area_count > 2 ? "s" : "");
        }
        printf("\n");
    }
    bool header = false;
    for (size_t k = 0; k < cs_study_kind_count(s); k++) {
        double mean;
        if (cs_result_access(r, k, CS_DISTRICT, &mean) != CS_OK)
            continue;
        if (!header)
            printf("\nAccessibility (capacity within reach, 2SFCA):\n");
        header = true;
        size_t band = cs_study_kind_band(s, k);
        printf("  ");
        print_padded(cs_study_kind_id(s, k), 12);
        printf(" %10.2f %s per %g %s%s\n", mean,
               cs_study_capacity_unit(s, (size_t)cs_study_kind_capacity(s, k)),
               cs_study_kind_access_per(s, k), band ? "residents aged " : "residents",
               band ? cs_study_band_name(s, band) : "");
    }
}

/* The short results table on stdout. */
static void print_results(const cs_study *s, const cs_result *r, const char *out_dir)
{
    size_t band = cs_study_band_count(s) > 1 ? 1 : 0;
    size_t na = cs_study_area_count(s), nf = cs_study_facility_count(s),
           nd = cs_study_demand_count(s);
    printf("%zu %s, %zu %s, %zu %s\n", na, noun(na, "area", "areas"), nf,
           noun(nf, "facility", "facilities"), nd, noun(nd, "demand point", "demand points"));
    cs_network_report net;
    bool network = cs_result_network(r, &net) == CS_OK;
    if (network)
        print_network(&net);
    cs_matrix_report mx;
    bool matrix = cs_study_cost_matrix(s, &mx) == CS_OK;
    if (matrix)
        printf("Cost matrix: %zu pairs in %s, %zu of %zu facilities with pairs, %zu candidate "
               "sites; %zu rows outside the study area, %zu repeated\n", mx.pairs,
               mx.in_m ? "metres" : "minutes", mx.facilities_with_pairs,
               cs_study_facility_count(s), mx.candidate_sites, mx.pairs_left_out,
               mx.pairs_repeated);
    printf("\nDistrict coverage of %s%s (%s%s%s, where measured so):\n",
           band ? "residents aged " : "all residents", band ? cs_study_band_name(s, band) : "",
           "straight line", network ? " / on foot along the network" : "",
           matrix ? " / by the cost matrix" : "");
    for (size_t k = 0; k < cs_study_kind_count(s); k++)
        print_kind_coverage(s, r, k, band);
    print_demand(s, r);
    if (cs_result_target_count(r) > 0) {
        printf("\nTargets (district):\n");
        for (size_t t = 0; t < cs_result_target_count(r); t++) {
            cs_target_outcome o;
            cs_result_target(r, t, CS_DISTRICT, &o);
            printf("  %s  %s", o.pass ? "pass" : "FAIL", cs_result_target_name(r, t));
            if (!o.pass && o.gap_text)
                printf(": %s", o.gap_text);
            printf("\n");
        }
        printf("%zu of %zu targets not met\n", cs_result_failed_targets(r),
               cs_result_target_count(r));
    }
    printf("\nWrote %s/{", out_dir);
    for (size_t i = 0; cs_result_output_name(r, i); i++)
        printf("%s%s", i ? ", " : "", cs_result_output_name(r, i));
    printf("}\n");
}

/* --at LON,LAT[,KIND[,CAPACITY]] into a proposal; false when it does not parse. */
static bool parse_at(const char *text, const char *kind, cs_site_input *p, char **kind_copy)
{
    char *copy = strdup(text), *save = NULL, *end;
    if (!copy)
        return false;
    char *lon = strtok_r(copy, ",", &save), *lat = strtok_r(NULL, ",", &save);
    char *k = strtok_r(NULL, ",", &save), *cap = strtok_r(NULL, ",", &save);
    bool ok = lon && lat && !strtok_r(NULL, ",", &save);
    memset(p, 0, sizeof *p);
    p->capacity = NAN;
    if (ok) {
        p->lon = strtod(lon, &end);
        ok = *end == '\0';
        p->lat = strtod(lat, &end);
        ok = ok && *end == '\0';
    }
    if (ok && cap) {
        p->capacity = strtod(cap, &end);
        ok = *end == '\0';
    }
    *kind_copy = ok ? strdup(k && *k ? k : (kind ? kind : "")) : NULL;
    p->kind = *kind_copy;
    free(copy);
    return ok && *kind_copy;
}

/* careshed site: evaluate the proposals against the run, print a line each, write
 * proposals.geojson. */
static cs_status evaluate_sites(cs_context *ctx, const options *o, const cs_result *r,
                                size_t *shown)
{
    cs_site_input *in = NULL;
    size_t n = 0;
    cs_status st = CS_OK;
    if (o->proposals) {
        st = cs_site_read_fields(ctx, o->proposals, o->proposals_crs, o->kind, o->x_field,
                                 o->y_field, &in, &n);
    }
    char **kinds = calloc(o->at_count + 1, sizeof *kinds);
    cs_site_input *all = st == CS_OK ? calloc(n + o->at_count + 1, sizeof *all) : NULL;
    if (st == CS_OK && (!all || !kinds))
        st = CS_ERR_NOMEM;
    for (size_t i = 0; st == CS_OK && i < n; i++)
        all[i] = in[i];
    for (size_t i = 0; st == CS_OK && i < o->at_count; i++) {
        if (!parse_at(o->at[i], o->kind, &all[n + i], &kinds[i])) {
            fprintf(stderr, "careshed: --at needs LON,LAT[,KIND[,CAPACITY]] (and a kind, "
                            "here or with --kind), got '%s'\n", o->at[i]);
            st = CS_ERR_STUDY;
        }
    }
    cs_site *site = NULL;
    if (st == CS_OK)
        st = cs_site_evaluate(ctx, r, all, n + o->at_count, o->proposals, &site);
    if (st == CS_OK)
        st = cs_site_write(ctx, site, o->out_dir);
    print_messages(ctx, shown, o->quiet);
    for (size_t p = 0; st == CS_OK && p <= cs_site_count(site); p++)
        if (p < cs_site_count(site) || cs_site_count(site) > 1)
            printf("%s\n", cs_site_line(site, p));
    if (st == CS_OK && !o->quiet)
        printf("\nWrote %s/proposals.geojson\n", o->out_dir);
    cs_site_destroy(site);
    for (size_t i = 0; kinds && i < o->at_count; i++)
        free(kinds[i]);
    free(kinds);
    free(all);
    cs_site_inputs_free(in, n);
    return st;
}

/* careshed site --suggest K | --reach-share S: choose sites, print and write them. */
static cs_status suggest_sites(cs_context *ctx, const options *o, const cs_result *r,
                               size_t *shown)
{
    cs_site_input *cand = NULL;
    size_t nc = 0;
    cs_status st = CS_OK;
    if (!o->kind) {
        fprintf(stderr, "careshed: --suggest and --reach-share need --kind KIND\n");
        return CS_ERR_STUDY;
    }
    if (o->candidates)
        st = cs_candidates_read_fields(ctx, o->candidates, o->proposals_crs, o->kind,
                                       o->x_field, o->y_field, &cand, &nc);
    cs_suggest_options opt = {o->kind, (size_t)(o->suggest > 0 ? o->suggest : 0),
                              o->within_min, o->reach_share, o->exact, 0, cand, nc,
                              o->exclude, o->exclude_crs, o->within_m};
    cs_suggest_report rep;
    cs_site *site = NULL;
    if (st == CS_OK)
        st = cs_site_suggest(ctx, r, &opt, &site, &rep);
    if (st == CS_OK && site)
        st = cs_site_write(ctx, site, o->out_dir);
    print_messages(ctx, shown, o->quiet);
    if (st == CS_OK) {
        if (rep.excluded)
            printf("%zu candidates left out in the exclusion zones\n", rep.excluded);
        printf("%zu candidates; greedy chose %zu site%s newly covering %.0f residents",
               rep.candidates, rep.chosen, rep.chosen == 1 ? "" : "s", rep.greedy_covered);
        if (!isnan(rep.need))
            printf(" (%.0f needed for a share of %g)", rep.need > 0 ? rep.need : 0,
                   o->reach_share);
        if (rep.exact_run && !isnan(rep.exact_covered))
            printf("; exact chose %zu site%s newly covering %.0f residents%s", rep.exact_chosen,
                   rep.exact_chosen == 1 ? "" : "s", rep.exact_covered,
                   rep.exact_optimal ? " (optimal)" : " (time limit: best found)");
        printf("\n");
        if (o->exact && !rep.exact_run)
            printf("exact: not run (too large for the exact solver)\n");
        else if (o->exact && isnan(rep.exact_covered))
            printf("exact: no solution found within the time limit\n");
        else if (o->exact && isnan(o->reach_share))
            printf("exact: %.0f residents%s; greedy is %.2f%% below\n", rep.exact_covered,
                   rep.exact_optimal ? " (optimal)" : " (time limit: best found)",
                   rep.gap * 100);
        else if (o->exact)
            printf("exact: %zu sites%s\n", rep.exact_chosen,
                   rep.exact_optimal ? " (optimal)" : " (time limit: best found)");
        if (site && o->exact)
            printf("Listed: %s's %zu site%s\n", rep.exact_listed ? "the exact solution" : "greedy",
                   cs_site_count(site), cs_site_count(site) == 1 ? "" : "s");
        for (size_t p = 0; site && p < cs_site_count(site); p++)
            printf("#%zu +%.0f  %s\n", p + 1, cs_site_gain(site, p), cs_site_line(site, p));
        if (site && !o->quiet)
            printf("\nWrote %s/suggestions.geojson\n", o->out_dir);
    }
    cs_site_destroy(site);
    cs_site_inputs_free(cand, nc);
    return st;
}

static void print_timings(const cs_context *ctx)
{
    size_t n = cs_context_timings(ctx, 0, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        const char *stage;
        double seconds;
        cs_context_timings(ctx, i, &stage, &seconds);
        fprintf(stderr, "careshed: time %-14s %9.4f s\n", stage, seconds);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(stderr, "careshed: peak memory %9.1f MB\n", (double)ru.ru_maxrss / 1024.0);
}

/* The command as typed, arguments quoted where the shell would need it. */
static char *command_line(int argc, char **argv)
{
    size_t n = 16;
    for (int i = 0; i < argc; i++)
        n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    p += sprintf(p, "careshed");
    for (int i = 1; i < argc; i++) {
        bool plain = argv[i][0] && strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                                    "QRSTUVWXYZ0123456789-_./=,:+") ==
                                           strlen(argv[i]);
        *p++ = ' ';
        if (plain) {
            p += sprintf(p, "%s", argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++)
            p += *c == '\'' ? sprintf(p, "'\\''") : sprintf(p, "%c", *c);
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}

static cs_status write_report(cs_context *ctx, const options *o, const cs_study *study)
{
    cs_report_options ro = {o->lang, o->year, o->since, o->baseline, o->command_line};
    char pdf[4200];
    /* the PDF goes beside the report: neither may replace an input */
    if (o->pdf && cs_cli_pdf_name(o->out_dir, pdf, sizeof pdf)) {
        cs_status st = cs_output_path_check(ctx, pdf);
        if (st != CS_OK)
            return st;
    }
    return cs_report_write(ctx, study, &ro, o->out_dir);
}

/* Say where the report went and print it to PDF when asked. */
static int finish_report(const options *o)
{
    if (!o->quiet)
        printf("Wrote %s\n", o->out_dir);
    if (!o->pdf)
        return EXIT_OK;
    char pdf[4200];
    if (!cs_cli_pdf_name(o->out_dir, pdf, sizeof pdf)) {
        fprintf(stderr, "careshed: %s: the path is too long to print to PDF\n", o->out_dir);
        return EXIT_OUTPUT;
    }
    if (cs_cli_print_pdf(o->out_dir, pdf) != 0)
        return EXIT_OUTPUT;
    if (!o->quiet)
        printf("Wrote %s\n", pdf);
    return EXIT_OK;
}

/* run and site: the study as given, or as it stood in --year. */
static cs_status run_year(cs_context *ctx, const options *o, const cs_study *study,
                          cs_study **view, cs_result **result)
{
    int first, last;
    if (o->year == 0 && cs_study_years(study, &first, &last) && !o->quiet)
        fprintf(stderr, "careshed: warning: the facilities or population carry years (%d to "
                        "%d), but every facility and the latest population are counted; give "
                        "--year Y to count those of year Y\n", first, last);
    cs_status st = o->year ? cs_study_in_year(ctx, study, o->year, view) : CS_OK;
    if (st == CS_OK)
        st = cs_run(ctx, *view ? *view : study, result);
    return st;
}

/* What run and site do with the run: write the outputs, or evaluate or choose sites. */
static cs_status use_result(cs_context *ctx, const options *o, const cs_study *study,
                            const cs_result *result, size_t *shown)
{
    if (strcmp(o->command, "site") != 0)
        return cs_result_write(ctx, study, result, o->out_dir);
    if (o->suggest > 0 || !isnan(o->reach_share))
        return suggest_sites(ctx, o, result, shown);
    return evaluate_sites(ctx, o, result, shown);
}

static int run(options *o)
{
    bool check_only = !strcmp(o->command, "check");
    cs_context *ctx = NULL;
    cs_config *cfg = NULL;
    cs_study *study = NULL, *view = NULL; /* view: the study in --year */
    cs_result *result = NULL;
    size_t shown = 0;
    bool nomem_shown = false;
    cli_stage = "starting";
    cs_status st = cs_context_create(&ctx);
    if (st != CS_OK) {
        if (ctx)
            nomem_shown = print_messages(ctx, &shown, false);
        if (st == CS_ERR_NOMEM && !nomem_shown)
            fprintf(stderr, "careshed: error: out of memory while starting; %s\n", nomem_hint);
        else if (!ctx)
            fprintf(stderr, "careshed: error: %s\n", cs_status_string(st));
        cs_context_destroy(ctx);
        return exit_for(st);
    }
    cs_context_set_threads(ctx, o->threads);
    if (isatty(STDERR_FILENO) && !o->quiet)
        cs_context_set_progress(ctx, progress, NULL);
    cli_stage = "reading the study file";
    st = cs_config_create(ctx, &cfg);
    cs_status load_st = CS_OK;
    bool file_read = true; /* the study file was read and parsed, whatever its keys say */
    if (st == CS_OK && o->study) {
        size_t before = cs_context_message_count(ctx);
        load_st = cs_config_load(ctx, cfg, o->study);
        file_read = !study_file_unread(ctx, before);
    }
    for (size_t i = 0; st == CS_OK && i < o->settings; i++) {
        cs_status sst = cs_config_set(ctx, cfg, o->keys[i], o->values[i]);
        if (load_st == CS_OK)
            load_st = sst;
    }
    if (st == CS_OK)
        st = load_st;
    /* a folder careshed may not write to is said before any work is done */
    if (st == CS_OK && (!strcmp(o->command, "run") || !strcmp(o->command, "site")))
        st = cs_output_folder_check(ctx, o->out_dir);
    /* `check` goes on to the layers even when settings are wrong, to list everything */
    if (st == CS_OK)
        cli_stage = "loading the layers";
    if (st == CS_OK || (check_only && st == CS_ERR_STUDY && file_read)) {
        cs_status lst = cs_study_load(ctx, cfg, &study);
        if (st == CS_OK)
            st = lst;
    }
    bool site_only = !strcmp(o->command, "site");
    bool report_only = !strcmp(o->command, "report");
    if (st == CS_OK)
        cli_stage = report_only ? "writing the report" : "computing the coverage";
    if (st == CS_OK && report_only)
        st = write_report(ctx, o, study);
    else if (st == CS_OK && !check_only)
        st = run_year(ctx, o, study, &view, &result);
    if (st == CS_OK) /* else the stage that failed stays named */
        cli_stage = site_only ? "evaluating the sites" : "writing the outputs";
    if (st == CS_OK && result)
        st = use_result(ctx, o, view ? view : study, result, &shown);
    /* use_result may have printed some messages already: look at them all again */
    for (size_t i = 0; i < shown; i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        nomem_shown |= m->severity == CS_SEVERITY_ERROR && m->status == CS_ERR_NOMEM;
    }
    nomem_shown |= print_messages(ctx, &shown, o->quiet);
    if (o->timings)
        print_timings(ctx);
    int code = exit_for(st);
    if (st == CS_OK && check_only && cs_study_has_network(study)) {
        cs_network_report net;
        cli_stage = "checking the network";
        st = cs_network_check(ctx, study, &net);
        nomem_shown |= print_messages(ctx, &shown, o->quiet);
        code = exit_for(st);
        if (st == CS_OK && !o->quiet)
            print_network(&net);
    }
    if (st == CS_OK && check_only) {
        if (!o->quiet)
        if (!o->quiet) {
            size_t na = cs_study_area_count(study), nf = cs_study_facility_count(study),
                   nd = cs_study_demand_count(study), nw = cs_context_warning_count(ctx);
            fprintf(stderr, "careshed: check passed: %zu %s, %zu %s, %zu %s, %zu %s\n", na,
                    noun(na, "area", "areas"), nf, noun(nf, "facility", "facilities"), nd,
                    noun(nd, "demand point", "demand points"), nw,
                    noun(nw, "warning", "warnings"));
        }
    } else if (st == CS_OK && site_only) {
        /* the answers were printed as they came */
    } else if (st == CS_OK && report_only) {
        code = finish_report(o);
    } else if (st == CS_OK) {
        if (!o->quiet)
            print_results(view ? view : study, result, o->out_dir);
        if (o->check_targets && cs_result_failed_targets(result) > 0)
            code = EXIT_TARGETS;
    } else if (st == CS_ERR_NOMEM) {
        /* one line about memory, also under -q: the library's, or this one when it had
         * no memory left to say so */
        if (!nomem_shown)
            fprintf(stderr, "careshed: error: out of memory while %s; %s\n", cli_stage,
                    nomem_hint);
    } else if (!o->quiet || cs_context_error_count(ctx) == 0) {
        size_t ne = cs_context_error_count(ctx);
        fprintf(stderr, "careshed: %s failed (%s, %zu %s)\n", o->command,
                cs_status_string(st), ne, noun(ne, "error", "errors"));
    }
    cs_result_destroy(result);
    cs_study_destroy(view);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    return code;
}

static int main_body(int argc, char **argv);

int main(int argc, char **argv)
{
    install_safety_net();
    int code = main_body(argc, argv);
    finished = 1;
    return code;
}

static int main_body(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("careshed %s\n", cs_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "check") != 0 && strcmp(cmd, "site") != 0 &&
        strcmp(cmd, "report") != 0) {
        fprintf(stderr, "careshed: unknown command '%s'\n", cmd);
        usage_main(stderr);
        return EXIT_USAGE;
    }
    options o = {.command = cmd, .out_dir = strcmp(cmd, "report") ? "out" : "report.html",
                 .reach_share = NAN, .within_min = NAN};
    int code = parse(argc, argv, &o);
    if (code < 0 && !(o.command_line = command_line(argc, argv)))
        code = EXIT_INTERNAL;
    if (code < 0)
        code = run(&o);
    free(o.at); /* also when parse stopped at a usage error after an --at */
    free(o.keys);
    free(o.values);
    for (size_t i = 0; i < o.owned_count; i++)
        free(o.owned[i]);
    free(o.owned);
    free(o.command_line);
    return code;
}
