/*
 * main.c — the careshed command: parse options, call the library, show messages and
 * progress, map errors to exit codes. Data (the results table) goes to stdout, talk
 * to stderr with the program's name in front. Uses the public API only.
 */
#include "careshed/careshed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

extern char **environ;

#include "memory.h"
#include "options.h"
#include "pdf.h"
#include "print.h"

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
    cs_remove_scratch();
    write_stopped_message(sig == SIGABRT ? "a library aborted" : "a library crashed");
    _exit(EXIT_INTERNAL);
}

static void on_early_exit(void)
{
    if (finished)
        return;
    cs_remove_scratch();
    write_stopped_message("a library ended the program");
    _exit(EXIT_INTERNAL);
}

/* Stopped (Ctrl-C, a scheduler's SIGTERM): the scratch files go, then the signal ends
 * the program as it would have. */
static void on_stop_signal(int sig)
{
    cs_remove_scratch();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* careshed shard may copy the network to $TMPDIR: a stop does not leave it there. */
static void remove_scratch_when_stopped(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    const int stops[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; i++)
        sigaction(stops[i], &sa, NULL);
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
    fprintf(stderr, "\rcareshed: %-13s %3.0f%%%s", stage, fraction * 100,
            fraction >= 1 ? "\n" : "");
    fflush(stderr);
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
    cs_config_key k;
    for (size_t i = 0; cs_config_key_get(i, &k) == CS_OK; i++)
        if (!strcmp(key, k.key))
            return !strcmp(k.type, "path");
    return false;
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
    if (!*p || *p == '/' || cs_path_has_scheme(p))
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
    if (joined) {
        memcpy(joined, cwd, dn);
        if (slash)
            joined[dn] = '/';
        memcpy(joined + dn + slash, p, pn + 1);
    }
    free(cwd);
    if (!cli_keep(o, joined))
        return false;
    *out = joined;
    return true;
}

/* With the study file in another folder, the library would take a relative layer path
 * from that folder; one typed here means the current folder. (With the study file here,
 * or none, the path is left as typed, which messages then show.) False when out of
 * memory or the current folder cannot be named. */
static bool join_layer_paths(options *o)
{
    for (size_t i = 0; o->study && strchr(o->study, '/') && i < o->settings; i++)
        if (is_layer_path(o->keys[i]) && !path_from_here(o, o->values[i], &o->values[i]))
            return false;
    return true;
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
    char **kinds = calloc(o->at.count + 1, sizeof *kinds);
    cs_site_input *all = st == CS_OK ? calloc(n + o->at.count + 1, sizeof *all) : NULL;
    if (st == CS_OK && (!all || !kinds))
        st = CS_ERR_NOMEM;
    for (size_t i = 0; st == CS_OK && i < n; i++)
        all[i] = in[i];
    for (size_t i = 0; st == CS_OK && i < o->at.count; i++) {
        if (!parse_at(o->at.items[i], o->kind, &all[n + i], &kinds[i])) {
            fprintf(stderr, "careshed: --at needs LON,LAT[,KIND[,CAPACITY]] (and a kind, "
                            "here or with --kind), got '%s'\n", o->at.items[i]);
            st = CS_ERR_STUDY;
        }
    }
    cs_site *site = NULL;
    if (st == CS_OK)
        st = cs_site_evaluate(ctx, r, all, n + o->at.count, o->proposals, &site);
    if (st == CS_OK)
        st = cs_site_write(ctx, site, o->out_dir);
    print_messages(ctx, shown, o->quiet);
    for (size_t p = 0; st == CS_OK && p <= cs_site_count(site); p++)
        if (p < cs_site_count(site) || cs_site_count(site) > 1)
            printf("%s\n", cs_site_line(site, p));
    if (st == CS_OK && !o->quiet)
        printf("\nWrote %s/proposals.geojson\n", o->out_dir);
    cs_site_destroy(site);
    for (size_t i = 0; kinds && i < o->at.count; i++)
        free(kinds[i]);
    free(kinds);
    free(all);
    cs_site_inputs_free(in, n);
    return st;
}

/* Whose sites are listed (with --exact), each with its gain (p-median's in metres off
 * the mean walk, the others' in residents), and where they were written. */
static void print_listed(const options *o, const cs_suggest_report *rep, cs_site *site,
                         const char *heuristic)
{
    if (site && o->exact)
        printf("Listed: %s's %zu site%s\n", rep->exact_listed ? "the exact solution" : heuristic,
               cs_site_count(site), cs_site_count(site) == 1 ? "" : "s");
    for (size_t p = 0; site && p < cs_site_count(site); p++) {
        if (rep->model == CS_MODEL_MEDIAN)
            printf("#%zu -%.1f m  %s\n", p + 1, cs_site_gain(site, p), cs_site_line(site, p));
        else
            printf("#%zu +%.0f  %s\n", p + 1, cs_site_gain(site, p), cs_site_line(site, p));
    }
    if (site && !o->quiet)
        printf("\nWrote %s/suggestions.geojson\n", o->out_dir);
}

/* p-median's answer: the mean walk before and after, the exact solve's, the sites. */
static void print_median(const options *o, const cs_suggest_report *rep, cs_site *site)
{
    printf("%zu candidates; p-median: greedy and %zu swap%s chose %zu site%s; mean walk "
           "(each counted up to the threshold) %.1f m -> %.1f m\n",
           rep->candidates, rep->swaps, rep->swaps == 1 ? "" : "s", rep->chosen,
           rep->chosen == 1 ? "" : "s", rep->walk_before, rep->heuristic_walk);
    if (o->exact && !rep->exact_run)
        printf("exact: not run (too large for the exact solver)\n");
    else if (o->exact && rep->exact_optimal)
        printf("exact: %.1f m (optimal, %.2f s)\n", rep->exact_walk, rep->exact_seconds);
    else if (o->exact && !isnan(rep->exact_walk))
        printf("exact: time limit reached after %.2f s; best found %.1f m\n",
               rep->exact_seconds, rep->exact_walk);
    else if (o->exact)
        printf("exact: time limit reached after %.2f s with no solution of its own\n",
               rep->exact_seconds);
    if (rep->exact_optimal)
        printf("the heuristic is %.3f%% above the optimum\n", rep->gap * 100);
    else if (!isnan(rep->walk_bound) && rep->gap < 5e-7)
        printf("the heuristic's sites are optimal: no choice of %zu sites walks less (the "
               "bound meets them)\n", (size_t)o->suggest);
    else if (!isnan(rep->walk_bound))
        printf("no choice of %zu sites walks less than %.1f m: the heuristic is at most "
               "%.3f%% above the optimum\n", (size_t)o->suggest, rep->walk_bound,
               rep->gap * 100);
    print_listed(o, rep, site, "the heuristic");
}

/* p-center's answer: the longest walk before and after, the exact solve's, the sites. */
static void print_center(const options *o, const cs_suggest_report *rep, cs_site *site)
{
    char before[32];
    if (isinf(rep->walk_before))
        snprintf(before, sizeof before, "beyond the threshold");
    else
        snprintf(before, sizeof before, "%.1f m", rep->walk_before);
    printf("%zu candidates; p-center: %zu site%s; the longest walk %s -> ", rep->candidates,
           rep->chosen, rep->chosen == 1 ? "" : "s", before);
    if (isinf(rep->heuristic_walk))
        printf("still beyond the threshold\n");
    else
        printf("%.1f m\n", rep->heuristic_walk);
    if (rep->left_out > 0)
        printf("%.0f residents no facility or candidate reaches within the threshold are "
               "left out\n", rep->left_out);
    if (o->exact && !rep->exact_run)
        printf("exact: not run (too large for the exact solver)\n");
    else if (o->exact && rep->exact_optimal && isinf(rep->exact_walk))
        printf("exact: no choice of %zu sites brings every resident within the threshold "
               "(proven, %.2f s)\n", (size_t)o->suggest, rep->exact_seconds);
    else if (o->exact && rep->exact_optimal)
        printf("exact: %.1f m (optimal, %.2f s, %zu site%s)\n", rep->exact_walk,
               rep->exact_seconds, rep->exact_chosen, rep->exact_chosen == 1 ? "" : "s");
    else if (o->exact && isinf(rep->exact_walk))
        printf("exact: time limit reached after %.2f s with no choice of its own bringing "
               "everyone within the threshold\n", rep->exact_seconds);
    else if (o->exact)
        printf("exact: time limit reached after %.2f s; best found %.1f m\n",
               rep->exact_seconds, rep->exact_walk);
    if (!isnan(rep->walk_bound) && isfinite(rep->heuristic_walk))
        printf("no choice of %zu sites makes the longest walk shorter than %.1f m%s\n",
               (size_t)o->suggest, rep->walk_bound,
               rep->gap < 5e-7 ? ": the heuristic's sites are optimal" : "");
    print_listed(o, rep, site, "the heuristic");
}

/* The capacitated models' answer: demand served before and after, for p-median the
 * mean walk of a unit, the exact solve's, the sites (gains in units or metres). */
static void print_capacitated(const options *o, const cs_suggest_report *rep, cs_site *site,
                              const char *unit)
{
    bool median = rep->model == CS_MODEL_MEDIAN;
    printf("%zu candidates; capacitated %s: the heuristic and %zu swap%s chose %zu site%s\n",
           rep->candidates, median ? "p-median" : "covering", rep->swaps,
           rep->swaps == 1 ? "" : "s", rep->chosen, rep->chosen == 1 ? "" : "s");
    printf("demand of %.1f %s: %.1f served within the threshold -> %.1f with the sites listed\n",
           rep->demand, unit, rep->served_before, rep->served_after);
    if (median)
        printf("mean walk of a unit of demand (one unserved counting the threshold) %.1f m -> "
               "%.1f m\n", rep->walk_before, rep->heuristic_walk);
    double heuristic = median ? rep->heuristic_walk : rep->greedy_covered;
    double exact = median ? rep->exact_walk : rep->exact_covered;
    if (o->exact && !rep->exact_run)
        printf("exact: not run (too large for the exact solver)\n");
    else if (o->exact && isnan(exact))
        printf("exact: time limit reached after %.2f s with no solution of its own\n",
               rep->exact_seconds);
    else if (o->exact)
        printf("exact: %.1f %s (%s, %.2f s); the heuristic's %.1f is %.3f%% %s\n", exact,
               median ? "m" : unit,
               rep->exact_optimal ? "optimal" : "time limit: best found", rep->exact_seconds,
               heuristic, fabs(rep->gap) * 100, median ? "above" : "below");
    if (site && o->exact)
        printf("Listed: %s's %zu site%s\n", rep->exact_listed ? "the exact solution" :
               "the heuristic", cs_site_count(site), cs_site_count(site) == 1 ? "" : "s");
    for (size_t p = 0; site && p < cs_site_count(site); p++) {
        if (median)
            printf("#%zu -%.1f m  %s\n", p + 1, cs_site_gain(site, p), cs_site_line(site, p));
        else
            printf("#%zu +%.1f %s  %s\n", p + 1, cs_site_gain(site, p), unit,
                   cs_site_line(site, p));
    }
    if (site && !o->quiet)
        printf("\nWrote %s/suggestions.geojson and %s/assignment.csv\n", o->out_dir,
               o->out_dir);
}

/* careshed site --suggest K | --reach-share S: choose sites, print and write them. */
static cs_status suggest_sites(cs_context *ctx, const options *o, const cs_study *study,
                               const cs_result *r, size_t *shown)
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
                              o->exclude, o->exclude_crs, o->within_m, NULL,
                              (cs_site_model)o->model, o->capacitated, o->site_capacity, 0};
    cs_suggest_report rep;
    cs_site *site = NULL;
    if (st == CS_OK)
        st = cs_site_suggest(ctx, r, &opt, &site, &rep);
    if (st == CS_OK && site)
        st = cs_site_write(ctx, site, o->out_dir);
    print_messages(ctx, shown, o->quiet);
    if (st == CS_OK && rep.excluded)
        printf("%zu candidates left out in the exclusion zones\n", rep.excluded);
    if (st == CS_OK && rep.capacitated) {
        long c = -1;
        for (size_t k = 0; k < cs_study_kind_count(study); k++)
            if (!strcmp(cs_study_kind_id(study, k), o->kind))
                c = cs_study_kind_capacity(study, k);
        print_capacitated(o, &rep, site, cs_study_capacity_unit(study, (size_t)c));
    } else if (st == CS_OK && o->model == CS_MODEL_MEDIAN) {
        print_median(o, &rep, site);
    } else if (st == CS_OK && o->model == CS_MODEL_CENTER) {
        print_center(o, &rep, site);
    } else if (st == CS_OK) {
        /* backup coverage: residents newly within reach of two facilities */
        const char *twice = o->model == CS_MODEL_BACKUP ? " twice" : "";
        printf("%zu candidates; %s chose %zu site%s newly covering %.0f residents%s",
               rep.candidates, o->model == CS_MODEL_BACKUP ? "backup: greedy and swaps" : "greedy",
               rep.chosen, rep.chosen == 1 ? "" : "s", rep.greedy_covered, twice);
        if (!isnan(rep.need))
            printf(" (%.0f needed for a share of %g)", rep.need > 0 ? rep.need : 0,
                   o->reach_share);
        if (rep.exact_run && !isnan(rep.exact_covered))
            printf("; exact chose %zu site%s newly covering %.0f residents%s%s", rep.exact_chosen,
                   rep.exact_chosen == 1 ? "" : "s", rep.exact_covered, twice,
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
        print_listed(o, &rep, site, o->model == CS_MODEL_BACKUP ? "the heuristic" : "greedy");
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
        fprintf(stderr, "careshed: time %-30s %9.4f s\n", stage, seconds);
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

/* report --out FILE.pdf: the report is HTML, so it goes to FILE.html and is printed to
 * FILE.pdf, as with --pdf (else the HTML would be written under the PDF's name and
 * printed to FILE.pdf.pdf, a blank page). */
static bool report_as_pdf(options *o, char *html, size_t size)
{
    size_t len = strlen(o->out_dir);
    if (len < 4 || strcasecmp(o->out_dir + len - 4, ".pdf") != 0)
        return true;
    if ((size_t)snprintf(html, size, "%.*s.html", (int)(len - 4), o->out_dir) >= size) {
        fprintf(stderr, "careshed: --out %s: the path is too long\n", o->out_dir);
        return false;
    }
    o->pdf_out = o->out_dir;
    o->out_dir = html;
    o->pdf = true;
    return true;
}

/* Where the report's PDF goes: the name given, or the HTML's with .pdf. */
static bool report_pdf_name(const options *o, char *pdf, size_t size)
{
    if (o->pdf_out)
        return (size_t)snprintf(pdf, size, "%s", o->pdf_out) < size;
    return cs_cli_pdf_name(o->out_dir, pdf, size);
}

static cs_status write_report(cs_context *ctx, const options *o, const cs_study *study)
{
    cs_report_options ro = {o->lang, o->year, o->since, o->baseline, o->command_line};
    char pdf[4200];
    /* the PDF goes beside the report: neither may replace an input */
    if (o->pdf && report_pdf_name(o, pdf, sizeof pdf)) {
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
    if (!report_pdf_name(o, pdf, sizeof pdf)) {
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

/* What careshed serve's options ask of the server. */
static cs_serve_options serve_options(const options *o)
{
    return (cs_serve_options){.listen = o->listen, .port = (unsigned)o->port,
                              .exclude = o->exclude, .exclude_crs = o->exclude_crs,
                              .tiles = o->tiles, .tiles_crs = o->tiles_crs};
}

/* Start the desktop's browser on url (xdg-open, not waited for), with the signals this
 * process blocks unblocked for it and its output out of the terminal's way. */
static bool open_in_browser(const char *url)
{
    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;
    sigset_t none;
    sigemptyset(&none);
    bool ok = posix_spawn_file_actions_init(&files) == 0;
    if (!ok)
        return false;
    ok = posix_spawnattr_init(&attr) == 0;
    if (ok) {
        posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&files, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        pid_t pid;
        char *argv[] = {"xdg-open", (char *)url, NULL};
        ok = posix_spawnp(&pid, "xdg-open", &files, &attr, argv, environ) == 0;
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&files);
    return ok;
}

/* serve: the run behind the API until Ctrl-C (SIGINT) or SIGTERM. The signals are
 * blocked before the server's threads start, so that they all come here. */
static cs_status serve_result(cs_context *ctx, const options *o, const cs_study *study,
                              const cs_result *result)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    cs_serve_options so = serve_options(o);
    cs_server *server = NULL;
    cs_status st = cs_serve_start(ctx, study, result, &so, &server);
    if (st != CS_OK)
        return st;
    if (o->listen && strcmp(o->listen, "127.0.0.1") != 0)
        fprintf(stderr, "careshed: warning: listening on %s: anyone who can reach this "
                        "computer and has the token can use the study\n", o->listen);
    printf("%s\n", cs_serve_url(server));
    fflush(stdout);
    if (!o->quiet)
        fprintf(stderr, "careshed: serving the study at the address above; Ctrl-C stops\n");
    if (o->open && !open_in_browser(cs_serve_url(server)))
        fprintf(stderr, "careshed: warning: could not open a browser (xdg-open); open the "
                        "address above yourself\n");
    int sig = 0;
    sigwait(&stop, &sig);
    cs_serve_stop(server);
    if (!o->quiet)
        fprintf(stderr, "careshed: stopped\n");
    return CS_OK;
}

/* What run and site do with the run: write the outputs, or evaluate or choose sites;
 * serve serves it. */
static cs_status use_result(cs_context *ctx, const options *o, const cs_study *study,
                            cs_result *result, size_t *shown)
{
    if (!strcmp(o->command, "serve"))
        return serve_result(ctx, o, study, result);
    if (strcmp(o->command, "site") != 0) /* the last use of its network */
        return cs_result_write_releasing(ctx, study, result, o->out_dir);
    if (o->suggest > 0 || !isnan(o->reach_share))
        return suggest_sites(ctx, o, study, result, shown);
    return evaluate_sites(ctx, o, result, shown);
}

/* A context for the run; on failure, says why (also without memory to say it) and
 * returns NULL with *code set. */
static cs_context *open_context(const options *o, int *code)
{
    cs_context *ctx = NULL;
    size_t shown = 0;
    cli_stage = "starting";
    cs_status st = cs_context_create(&ctx);
    if (st == CS_OK) {
        cs_context_set_threads(ctx, o->threads);
        cs_context_set_overwrite(ctx, o->overwrite);
        if (isatty(STDERR_FILENO) && !o->quiet)
            cs_context_set_progress(ctx, progress, NULL);
        return ctx;
    }
    bool nomem_shown = ctx && print_messages(ctx, &shown, false);
    if (st == CS_ERR_NOMEM && !nomem_shown)
        fprintf(stderr, "careshed: error: out of memory while starting; %s\n", nomem_hint);
    else if (!ctx)
        fprintf(stderr, "careshed: error: %s\n", cs_status_string(st));
    cs_context_destroy(ctx);
    *code = exit_for(st);
    return NULL;
}

/* The study file, then the --set keys over it. *file_read: the file was read and parsed,
 * whatever its keys say (check goes on to the layers then, to list everything). */
static cs_status read_settings(cs_context *ctx, const options *o, cs_config **cfg,
                               bool *file_read)
{
    cli_stage = "reading the study file";
    cs_status st = cs_config_create(ctx, cfg), load_st = CS_OK;
    *file_read = true;
    if (st == CS_OK && o->study) {
        size_t before = cs_context_message_count(ctx);
        load_st = cs_config_load(ctx, *cfg, o->study);
        *file_read = !study_file_unread(ctx, before);
    }
    for (size_t i = 0; st == CS_OK && i < o->settings; i++) {
        cs_status sst = cs_config_set(ctx, *cfg, o->keys[i], o->values[i]);
        if (load_st == CS_OK)
            load_st = sst;
    }
    return st == CS_OK ? load_st : st;
}

/* check: the network's description, when there is a network. */
static cs_status check_network(cs_context *ctx, const options *o, const cs_study *study,
                               size_t *shown, bool *nomem_shown)
{
    if (!cs_study_has_network(study))
        return CS_OK;
    cs_network_report net;
    cli_stage = "checking the network";
    cs_status st = cs_network_check(ctx, study, &net);
    *nomem_shown |= print_messages(ctx, shown, o->quiet);
    if (st == CS_OK && !o->quiet)
        cli_print_network(&net);
    return st;
}

/* check: the one-line verdict. */
static void say_check_passed(cs_context *ctx, const options *o, const cs_study *study)
{
    if (o->quiet)
        return;
    size_t na = cs_study_area_count(study), nf = cs_study_facility_count(study),
           nd = cs_study_demand_count(study), nw = cs_context_warning_count(ctx);
    fprintf(stderr, "careshed: check passed: %zu %s, %zu %s, %zu %s, %zu %s\n", na,
            cli_noun(na, "area", "areas"), nf, cli_noun(nf, "facility", "facilities"), nd,
            cli_noun(nd, "demand point", "demand points"), nw,
            cli_noun(nw, "warning", "warnings"));
}

/* The last word of a failed command: one line about memory (also under -q: the
 * library's, or this one when it had no memory left to say so), or which command failed. */
static void say_failed(cs_context *ctx, const options *o, cs_status st, bool nomem_shown)
{
    if (st == CS_ERR_NOMEM) {
        if (!nomem_shown)
            fprintf(stderr, "careshed: error: out of memory while %s; %s\n", cli_stage,
                    nomem_hint);
    } else if (!o->quiet || cs_context_error_count(ctx) == 0) {
        size_t ne = cs_context_error_count(ctx);
        fprintf(stderr, "careshed: %s failed (%s, %zu %s)\n", o->command,
                cs_status_string(st), ne, cli_noun(ne, "error", "errors"));
    }
}

/* Whether any message shown so far was an error about memory. */
static bool nomem_among(cs_context *ctx, size_t shown)
{
    bool any = false;
    for (size_t i = 0; i < shown; i++) {
        const cs_message *m = cs_context_get_message(ctx, i);
        any |= m->severity == CS_SEVERITY_ERROR && m->status == CS_ERR_NOMEM;
    }
    return any;
}

/* shard: the study cut into --parts shards in DIR. */
static cs_status write_shards(cs_context *ctx, const options *o, const cs_config *cfg,
                              const cs_study *study)
{
    cs_status st = cs_shard_write(ctx, cfg, study, (size_t)o->parts, o->by, o->out_dir);
    if (st == CS_OK && !o->quiet)
        printf("Wrote the shards to %s/ (%s/shards.json lists them). Run them (sbatch --wait "
               "%s/careshed.sbatch on a Slurm cluster, or careshed run %s/NNNN/study.yaml "
               "--out %s/NNNN/out each), then careshed merge %s --out OUT\n", o->out_dir,
               o->out_dir, o->out_dir, o->out_dir, o->out_dir, o->out_dir);
    return st;
}

/* The last lines of run and merge: the results, or what a shard's run wrote. */
static void print_results(const options *o, const cs_study *study, const cs_result *result)
{
    long part = 0, parts = 0;
    if (o->quiet)
        return;
    if (!cs_study_shard(study, &part, &parts)) {
        cli_print_results(study, result, o->out_dir);
        return;
    }
    size_t own = cs_study_own_demand_count(study);
    printf("Shard %ld of %ld: wrote the results of its %zu %s to %s/shard.bin; careshed "
           "merge joins the shards\n", part, parts, own,
           cli_noun(own, "demand point", "demand points"), o->out_dir);
}

static int run(options *o)
{
    bool check_only = !strcmp(o->command, "check");
    bool site_only = !strcmp(o->command, "site");
    bool report_only = !strcmp(o->command, "report");
    bool shard_only = o->command_bit == CLI_SHARD, merge_only = o->command_bit == CLI_MERGE;
    int code = EXIT_OK;
    cs_context *ctx = open_context(o, &code);
    if (!ctx)
        return code;
    cs_config *cfg = NULL;
    cs_study *study = NULL, *view = NULL; /* view: the study in --year */
    cs_result *result = NULL;
    size_t shown = 0;
    bool file_read = true;
    cs_status st = merge_only ? CS_OK : read_settings(ctx, o, &cfg, &file_read);
    /* a folder careshed may not write to is said before any work is done */
    if (st == CS_OK && (!strcmp(o->command, "run") || site_only || merge_only))
        st = cs_output_folder_check(ctx, o->out_dir);
    bool bad_serve_option = false; /* a usage error (exit 2), said before the run */
    if (st == CS_OK && !strcmp(o->command, "serve")) {
        cs_serve_options so = serve_options(o);
        st = cs_serve_check(ctx, &so);
        bad_serve_option = st != CS_OK;
        cs_config_show_network(cfg); /* drawn under the map, whatever is measured */
    }
    if (st == CS_OK && shard_only) {
        cs_config_stream_inputs(cfg); /* a grid, a matrix, a large network: read as cut */
        remove_scratch_when_stopped();
    }
    if (st == CS_OK)
        cli_stage = "loading the layers";
    if (st == CS_OK && merge_only) {
        cli_stage = "joining the shards";
        st = cs_merge_load(ctx, o->study, o->partial, &cfg, &study, &result);
    } else if (st == CS_OK || (check_only && st == CS_ERR_STUDY && file_read)) {
        cs_status lst = cs_study_load(ctx, cfg, &study);
        if (st == CS_OK)
            st = lst;
    }
    if (st == CS_OK)
        cli_stage = report_only ? "writing the report"
                    : shard_only ? "writing the shards"
                                 : "computing the coverage";
    if (st == CS_OK && report_only)
        st = write_report(ctx, o, study);
    else if (st == CS_OK && shard_only)
        st = write_shards(ctx, o, cfg, study);
    else if (st == CS_OK && !check_only && !merge_only)
        st = run_year(ctx, o, study, &view, &result);
    if (st == CS_OK) /* else the stage that failed stays named */
        cli_stage = site_only                    ? "evaluating the sites"
                    : !strcmp(o->command, "serve") ? "serving the study"
                                                   : "writing the outputs";
    if (st == CS_OK && result)
        st = use_result(ctx, o, view ? view : study, result, &shown);
    /* use_result may have printed some messages already: look at them all again */
    bool nomem_shown = nomem_among(ctx, shown);
    nomem_shown |= print_messages(ctx, &shown, o->quiet);
    if (o->timings)
        print_timings(ctx);
    if (st == CS_OK && check_only)
        st = check_network(ctx, o, study, &shown, &nomem_shown);
    code = bad_serve_option ? EXIT_USAGE : exit_for(st);
    if (st != CS_OK)
        say_failed(ctx, o, st, nomem_shown);
    else if (check_only)
        say_check_passed(ctx, o, study);
    else if (report_only)
        code = finish_report(o);
    else if (result && !site_only && strcmp(o->command, "serve") != 0) { /* site printed
                                                                 * its answers as they came */
        print_results(o, view ? view : study, result);
        if (o->check_targets && cs_result_failed_targets(result) > 0)
            code = EXIT_TARGETS;
    }
    cs_result_destroy(result);
    cs_study_destroy(view);
    cs_study_destroy(study);
    cs_config_destroy(cfg);
    cs_context_destroy(ctx);
    return code;
}

/* careshed check --keys: every study key from the library's table, as text or as the
 * Markdown table of docs/study-file.md. */
static int print_keys(bool markdown)
{
    cs_config_key k;
    int width = 0;
    for (size_t i = 0; cs_config_key_get(i, &k) == CS_OK; i++)
        if ((int)strlen(k.key) > width)
            width = (int)strlen(k.key);
    if (markdown)
        printf("| key | type | allowed | default | what it does |\n|---|---|---|---|---|\n");
    for (size_t i = 0; cs_config_key_get(i, &k) == CS_OK; i++) {
        if (markdown) {
            printf("| `%s` | %s | %s | %s | %s |\n", k.key, k.type, k.allowed, k.default_value,
                   k.help);
            continue;
        }
        printf("%-*s  %s", width, k.key, k.type);
        if (*k.allowed)
            printf(": %s", k.allowed);
        if (*k.default_value)
            printf("; default %s", k.default_value);
        printf("\n%-*s  %s\n", width, "", k.help);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "careshed: error: cannot write the keys to standard output (%s)\n",
                strerror(errno));
        return EXIT_OUTPUT;
    }
    return EXIT_OK;
}

static int main_body(int argc, char **argv);

/* Whether the folder is in memory (tmpfs): spilling there would save none. */
static bool spill_in_memory(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

int main(int argc, char **argv)
{
    cli_memory_setup();
    install_safety_net();
    int code = main_body(argc, argv);
    finished = 1;
    return code;
}

static int main_body(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        cli_usage_main(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("careshed %s\n", cs_version());
        return EXIT_OK;
    }
    unsigned bit = cli_command_bit(cmd);
    if (!bit) {
        fprintf(stderr, "careshed: unknown command '%s'\n", cmd);
        cli_usage_main(stderr);
        return EXIT_USAGE;
    }
    options o = {.command = cmd, .command_bit = bit, .port = 8040,
                 .out_dir = bit == CLI_REPORT ? "report.html" : bit == CLI_SHARD ? "shards" : "out",
                 .reach_share = NAN, .within_min = NAN,
                 .site_capacity = NAN};
    int code = cli_parse(argc, argv, &o);
    if (code < 0 && o.list_keys)
        code = print_keys(o.markdown);
    if (code < 0 && !join_layer_paths(&o))
        code = EXIT_INTERNAL;
    if (code < 0 && !(o.command_line = command_line(argc, argv)))
        code = EXIT_INTERNAL;
    char html[4200];
    if (code < 0 && bit == CLI_REPORT && !report_as_pdf(&o, html, sizeof html))
        code = EXIT_USAGE;
    if (code < 0 && o.spill && cs_spill_to(o.spill) != CS_OK) {
        fprintf(stderr, "careshed: error: --spill %s: not a folder careshed can write in "
                "(%s); name a folder on a local disk with room for the study's arrays, "
                "e.g. --spill /scratch/$USER (not tmpfs)\n", o.spill, strerror(errno));
        code = EXIT_USAGE;
    } else if (code < 0 && o.spill && !o.quiet && spill_in_memory(o.spill)) {
        fprintf(stderr, "careshed: warning: --spill %s: the folder is in memory (tmpfs), "
                "so spilling there saves none; name a folder on a disk\n", o.spill);
    }
    if (code < 0)
        code = run(&o);
    cli_options_free(&o); /* also when parsing stopped at a usage error */
    return code;
}
