/*
 * options.h — the careshed command's options: what a command line asked for, the exit
 * codes, and the parser and help generated from one table of options (options.c).
 */
#ifndef CS_CLI_OPTIONS_H
#define CS_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* The subcommands, as bits: an option row says which of them take it. */
enum cli_command {
    CLI_RUN = 1,
    CLI_CHECK = 2,
    CLI_SITE = 4,
    CLI_REPORT = 8,
    CLI_SERVE = 16,
    CLI_SHARD = 32,
    CLI_MERGE = 64,
    CLI_ALL = 127
};

/* Values of a repeatable option, in the order given. */
typedef struct cli_list {
    const char **items;
    size_t count;
} cli_list;

typedef struct options {
    const char *command; /* "run", "check", "site", "report", "serve", "shard" or "merge" */
    unsigned command_bit; /* its enum cli_command */
    const char *study;
    const char *out_dir;
    const char *pdf_out; /* report --out FILE.pdf: the PDF's name as given */
    bool overwrite; /* --overwrite: a DIR that is not careshed's may be written into */
    /* site: proposals given with --at, a --proposals file, its CRS, a default kind */
    cli_list at;
    const char *proposals, *proposals_crs, *kind, *x_field, *y_field;
    /* site --suggest K / --reach-share S: choose sites (from --candidates or generated) */
    long suggest;
    double reach_share, within_min, within_m;
    bool exact;
    int model; /* --model: a cs_site_model */
    bool capacitated;
    double site_capacity; /* --site-capacity; NaN: none */
    const char *candidates, *exclude, *exclude_crs;
    /* report: the years, a baseline, the language, PDF, and the command for the methods */
    int year, since;
    const char *baseline, *lang;
    bool pdf;
    char *command_line;
    /* serve: where to listen, and whether to open the page in the browser */
    const char *listen;
    const char *tiles, *tiles_crs; /* the page's basemap */
    int port;
    bool open;
    bool check_targets, quiet, timings;
    int parts;      /* shard --parts N */
    const char *by; /* shard --by FIELD: a shard per value of the areas' field */
    bool partial; /* merge --partial: without the shards that have no results */
    const char *spill; /* run, merge --spill DIR: large arrays in files there (cs_spill_to) */
    bool list_keys, markdown; /* check --keys [--markdown] */
    int threads;
    /* key=value settings in the order given */
    const char **keys, **values;
    size_t settings;
    char **owned; /* values made here (layer paths joined to the current folder) */
    size_t owned_count;
} options;

/* The bit of a subcommand's name, or 0 when it is none. */
unsigned cli_command_bit(const char *name);

/* Fill *o (set up by the caller with the command and defaults) from argv[2..argc-1]:
 * `--opt value`, `--opt=value`, `-q`, the study file. Returns -1 to go on, else the exit
 * code: EXIT_OK after printing the command's help, EXIT_USAGE after saying what is wrong
 * on stderr, EXIT_INTERNAL when out of memory. Values point into argv (--set writes a
 * '\0' over its '='). */
int cli_parse(int argc, char **argv, options *o);

/* Append a key=value setting to o; false when out of memory. */
bool cli_add_setting(options *o, const char *key, const char *value);
/* Keep text (malloc'd, may be NULL) until cli_options_free; false (text freed) when it
 * is NULL or out of memory. */
bool cli_keep(options *o, char *text);

/* Free what parsing allocated in o (not o itself). */
void cli_options_free(options *o);

/* `careshed --help`: the commands and the exit codes. */
void cli_usage_main(FILE *f);

/* `careshed COMMAND --help`: its options from the table, grouped, with their study keys
 * in brackets, the command's prose and the exit codes. */
void cli_usage_command(FILE *f, unsigned command_bit);

#endif
