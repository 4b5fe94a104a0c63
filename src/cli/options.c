/*
 * options.c — the careshed command's options as one table. A row per option says which
 * subcommands take it, whether it takes a value (and its placeholder), the study key it
 * sets, where and how its value is stored, and its help line. The parser (`--opt value`,
 * `--opt=value`, `-q`) and every subcommand's --help are generated from the rows, so an
 * option is written in one place.
 */
#include "options.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "careshed/careshed.h"

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

/* How a row stores its value in `options`. */
typedef enum cli_store {
    STORE_FLAG,   /* bool at offset, set to true; takes no value */
    STORE_STRING, /* const char * at offset; not empty */
    STORE_INT,    /* int at offset: a whole number from lo to hi */
    STORE_DOUBLE, /* double at offset: lo < value <= hi */
    STORE_LIST,   /* appended to the cli_list at offset (repeatable) */
    STORE_KEY,    /* the study key `key` set to the value; empty is a value here */
    STORE_CALL,   /* the row's handler parses and stores it */
    STORE_HELP    /* print the subcommand's help and stop */
} cli_store;

/* The groups of a subcommand's help, in the order printed. */
enum cli_group { GROUP_STUDY, GROUP_SITES, GROUP_CHOOSE, GROUP_REPORT, GROUP_RUN, GROUPS };

static const char *const group_titles[GROUPS] = {
    "Layers and study keys:", "Proposed sites:", "Choosing sites:", "Report:",
    "Output and running:"};

typedef struct cli_option cli_option;

/* Parse value (not empty) and store it in o; -1 to go on, else an exit code after saying
 * what is wrong. */
typedef int (*cli_handler)(options *o, const cli_option *opt, char *value);

struct cli_option {
    const char *name;   /* "--areas" */
    char short_name;    /* 'q' for -q, or 0 */
    unsigned commands;  /* the subcommands it serves (enum cli_command bits), in their help */
    unsigned ignored;   /* subcommands that accept it and do nothing with it, so that
                         * command lines that always worked still do; not in their help */
    const char *arg;    /* the value's placeholder (FILE, N, KMH); NULL: takes no value */
    const char *key;    /* the study key it is a shorthand for (STORE_KEY) */
    bool path;          /* a file path, taken from the current folder */
    cli_store store;
    size_t offset;      /* offsetof(options, field) */
    double lo, hi;      /* STORE_INT, STORE_DOUBLE: the range */
    const char *want;   /* what a valid value is: "--year needs a year, got 'x'" */
    cli_handler call;   /* STORE_CALL */
    enum cli_group group;
    const char *help;   /* lines separated by '\n' */
};

static int set_setting(options *o, const cli_option *opt, char *value);
static int set_suggest(options *o, const cli_option *opt, char *value);
static int set_model(options *o, const cli_option *opt, char *value);
static int set_within(options *o, const cli_option *opt, char *value);
static int set_lang(options *o, const cli_option *opt, char *value);

#define OFF(field) offsetof(options, field)
#define STUDY_CMDS (CLI_RUN | CLI_CHECK | CLI_SITE | CLI_REPORT | CLI_SERVE | CLI_SHARD)

static const cli_option table[] = {
    /* layers and study keys: every subcommand loads the study */
    {.name = "--areas", .commands = STUDY_CMDS, .arg = "FILE", .key = "areas.path",
     .path = true, .store = STORE_KEY, .group = GROUP_STUDY, .help = "street (area) polygons"},
    {.name = "--facilities", .commands = STUDY_CMDS, .arg = "FILE", .key = "facilities.path",
     .path = true, .store = STORE_KEY, .group = GROUP_STUDY,
     .help = "facility points or lon/lat table"},
    {.name = "--population", .commands = STUDY_CMDS, .arg = "FILE", .key = "population.path",
     .path = true, .store = STORE_KEY, .group = GROUP_STUDY, .help = "population points"},
    {.name = "--network", .commands = STUDY_CMDS, .arg = "FILE", .key = "network.path",
     .path = true, .store = STORE_KEY, .group = GROUP_STUDY,
     .help = "walking network: .osm/.osm.pbf or lines"},
    {.name = "--costs", .commands = STUDY_CMDS, .arg = "FILE", .key = "costs.path",
     .path = true, .store = STORE_KEY, .group = GROUP_STUDY,
     .help = "cost matrix from another router: demand id, site id,\n"
             "cost (see costs.* keys)"},
    {.name = "--measure", .commands = STUDY_CMDS, .arg = "M", .key = "measure",
     .store = STORE_KEY, .group = GROUP_STUDY,
     .help = "straight, network, matrix, both or a list (default:\n"
             "straight, plus network and matrix when given)"},
    {.name = "--crs", .commands = STUDY_CMDS, .arg = "CRS", .key = "crs", .store = STORE_KEY,
     .group = GROUP_STUDY, .help = "working metric CRS, e.g. EPSG:4549"},
    {.name = "--speed", .commands = STUDY_CMDS, .arg = "KMH", .key = "walk_speed_kmh",
     .store = STORE_KEY, .group = GROUP_STUDY, .help = "walking speed"},
    {.name = "--thresholds", .commands = STUDY_CMDS, .arg = "LIST", .key = "thresholds_min",
     .store = STORE_KEY, .group = GROUP_STUDY, .help = "minutes, e.g. 5,10,15"},
    {.name = "--set", .commands = STUDY_CMDS, .arg = "KEY=VALUE", .store = STORE_CALL,
     .want = "KEY=VALUE", .call = set_setting, .group = GROUP_STUDY,
     .help = "set any study key (repeatable), e.g.\n"
             "--set facilities.crs=GCJ-02 --set kinds.meal.thresholds_min=10"},
    /* site: the proposals */
    {.name = "--at", .commands = CLI_SITE, .arg = "LON,LAT[,KIND[,CAPACITY]]",
     .store = STORE_LIST, .offset = OFF(at), .group = GROUP_SITES,
     .help = "a proposed site in WGS84 (repeatable)"},
    {.name = "--proposals", .commands = CLI_SITE, .arg = "FILE", .store = STORE_STRING,
     .offset = OFF(proposals), .group = GROUP_SITES,
     .help = "proposed sites: points, any format and CRS;\n"
             "fields id, kind, capacity"},
    {.name = "--proposals-crs", .commands = CLI_SITE, .arg = "CRS", .store = STORE_STRING,
     .offset = OFF(proposals_crs), .group = GROUP_SITES,
     .help = "the CRS of --proposals and --candidates,\n"
             "e.g. GCJ-02, BD-09"},
    {.name = "--kind", .commands = CLI_SITE, .arg = "KIND", .store = STORE_STRING,
     .offset = OFF(kind), .group = GROUP_SITES,
     .help = "the kind of a site that names none; the kind to\n"
             "suggest sites for"},
    {.name = "--x-field", .commands = CLI_SITE, .arg = "NAME", .store = STORE_STRING,
     .offset = OFF(x_field), .group = GROUP_SITES,
     .help = "a table's x (lon) column, in --proposals and --candidates"},
    {.name = "--y-field", .commands = CLI_SITE, .arg = "NAME", .store = STORE_STRING,
     .offset = OFF(y_field), .group = GROUP_SITES,
     .help = "a table's y (lat) column, in --proposals and --candidates"},
    /* site: choosing sites */
    {.name = "--suggest", .commands = CLI_SITE, .arg = "K", .store = STORE_CALL,
     .want = "a whole number > 0", .call = set_suggest, .group = GROUP_CHOOSE,
     .help = "the K sites newly covering the most residents of\n"
             "underserved.band (lazy greedy; needs --kind)"},
    {.name = "--reach-share", .commands = CLI_SITE, .arg = "S", .store = STORE_DOUBLE,
     .offset = OFF(reach_share), .lo = 0, .hi = 1, .want = "a share in (0, 1]",
     .group = GROUP_CHOOSE,
     .help = "instead of --suggest: the fewest sites lifting\ncoverage to S"},
    {.name = "--within", .commands = CLI_SITE, .arg = "MIN", .store = STORE_CALL,
     .want = "minutes > 0 (or metres: 500m)", .call = set_within, .group = GROUP_CHOOSE,
     .help = "cover within MIN minutes, one of the kind's thresholds;\n"
             "500m for metre thresholds (default: the largest)"},
    {.name = "--candidates", .commands = CLI_SITE, .arg = "FILE", .store = STORE_STRING,
     .offset = OFF(candidates), .group = GROUP_CHOOSE,
     .help = "candidate sites (default: centres of under-served\ngrid cells)"},
    {.name = "--model", .commands = CLI_SITE, .arg = "M", .store = STORE_CALL,
     .want = "cover, p-median, p-center or backup", .call = set_model, .group = GROUP_CHOOSE,
     .help = "what the K sites do: cover (the most residents newly\n"
             "within the threshold; default), p-median (the\n"
             "shortest total walk, each counted up to the threshold)\n"
             "p-center (the shortest longest walk) or backup (the\n"
             "most residents newly within reach of two facilities)"},
    {.name = "--capacitated", .commands = CLI_SITE, .store = STORE_FLAG,
     .offset = OFF(capacitated), .group = GROUP_CHOOSE,
     .help = "cover or p-median with each site's room (the kind's\n"
             "load capacity) and each resident's demand (load band\n"
             "x rate); writes assignment.csv"},
    {.name = "--site-capacity", .commands = CLI_SITE, .arg = "N", .store = STORE_DOUBLE,
     .offset = OFF(site_capacity), .lo = 0, .hi = 1e12, .want = "a capacity > 0",
     .group = GROUP_CHOOSE,
     .help = "with --capacitated: the room of generated candidates\n"
             "and of those without a capacity"},
    {.name = "--exact", .commands = CLI_SITE, .store = STORE_FLAG, .offset = OFF(exact),
     .group = GROUP_CHOOSE, .help = "also solve exactly with GLPK"},
    {.name = "--exclude", .commands = CLI_SITE | CLI_SERVE, .arg = "FILE", .store = STORE_STRING,
     .offset = OFF(exclude), .group = GROUP_CHOOSE, .help = "polygons no site may lie in"},
    {.name = "--exclude-crs", .commands = CLI_SITE | CLI_SERVE, .arg = "CRS", .store = STORE_STRING,
     .offset = OFF(exclude_crs), .group = GROUP_CHOOSE, .help = "the CRS of --exclude"},
    /* report */
    {.name = "--year", .commands = CLI_REPORT, .arg = "Y", .store = STORE_INT,
     .offset = OFF(year), .lo = 1900, .hi = 2200, .want = "a year", .group = GROUP_REPORT,
     .help = "the report's year (default: the last year a facility\n"
             "opened or closed, from facilities.opened/closed)"},
    {.name = "--since", .commands = CLI_REPORT, .arg = "Y0", .store = STORE_INT,
     .offset = OFF(since), .lo = 1900, .hi = 2200, .want = "a year", .group = GROUP_REPORT,
     .help = "the first year (default Y - 4): every year from Y0\nto Y is evaluated"},
    {.name = "--baseline", .commands = CLI_REPORT, .arg = "FILE", .store = STORE_STRING,
     .offset = OFF(baseline), .group = GROUP_REPORT,
     .help = "a previous run's summary.json (with its areas.csv and\n"
             "facilities.geojson beside it) to compare with"},
    {.name = "--lang", .commands = CLI_REPORT, .arg = "zh|en", .store = STORE_CALL,
     .want = "zh or en", .call = set_lang, .group = GROUP_REPORT,
     .help = "the report's language (default: Chinese for\nChinese names)"},
    {.name = "--pdf", .commands = CLI_REPORT, .store = STORE_FLAG, .offset = OFF(pdf),
     .group = GROUP_REPORT, .help = "also FILE.pdf through Chromium"},
    /* output and running */
    {.name = "--out", .commands = CLI_RUN | CLI_SITE | CLI_MERGE, .ignored = CLI_CHECK,
     .arg = "DIR", .store = STORE_STRING, .offset = OFF(out_dir), .group = GROUP_RUN,
     .help = "output folder (default: out)"},
    {.name = "--out", .commands = CLI_SHARD, .arg = "DIR", .store = STORE_STRING,
     .offset = OFF(out_dir), .group = GROUP_RUN,
     .help = "the shards' folder (default: shards)"},
    {.name = "--parts", .commands = CLI_SHARD, .arg = "N", .store = STORE_INT,
     .offset = OFF(parts), .lo = 1, .hi = 100000, .want = "a number of shards from 1",
     .group = GROUP_RUN, .help = "how many shards (whole areas each, balanced by residents)"},
    {.name = "--by", .commands = CLI_SHARD, .arg = "FIELD", .store = STORE_STRING,
     .offset = OFF(by), .group = GROUP_RUN,
     .help = "instead: a shard per value of the areas layer's FIELD\n(e.g. a county code)"},
    {.name = "--partial", .commands = CLI_MERGE, .store = STORE_FLAG, .offset = OFF(partial),
     .group = GROUP_RUN,
     .help = "merge the shards that have results; the others' residents\n"
             "count as out of reach, and summary.json says it is partial"},
    {.name = "--overwrite", .commands = CLI_RUN | CLI_SITE | CLI_MERGE, .ignored = CLI_CHECK,
     .store = STORE_FLAG, .offset = OFF(overwrite), .group = GROUP_RUN,
     .help = "write into a DIR that is not careshed's (no .careshed marker)\n"
             "though it holds other files: careshed's files replace those\n"
             "of the same names, every other file stays"},
    {.name = "--out", .commands = CLI_REPORT, .arg = "FILE", .store = STORE_STRING,
     .offset = OFF(out_dir), .group = GROUP_RUN,
     .help = "the report (default: report.html); FILE.pdf writes\nFILE.html and prints it to FILE.pdf"},
    {.name = "--year", .commands = CLI_RUN | CLI_SITE, .ignored = CLI_CHECK, .arg = "Y",
     .store = STORE_INT, .offset = OFF(year), .lo = 1900, .hi = 2200, .want = "a year",
     .group = GROUP_RUN,
     .help = "only the facilities open in year Y (opened <= Y < closed)\n"
             "and the latest population not after Y"},
    {.name = "--check", .commands = CLI_RUN | CLI_MERGE,
     .ignored = CLI_CHECK | CLI_SITE | CLI_REPORT,
     .store = STORE_FLAG, .offset = OFF(check_targets), .group = GROUP_RUN,
     .help = "exit 1 when a target is not met"},
    {.name = "--keys", .commands = CLI_CHECK, .store = STORE_FLAG, .offset = OFF(list_keys),
     .group = GROUP_RUN, .help = "list every study key: type, values, default and help"},
    {.name = "--markdown", .commands = CLI_CHECK, .store = STORE_FLAG, .offset = OFF(markdown),
     .group = GROUP_RUN, .help = "with --keys: the list as in docs/study-file.md"},
    {.name = "--port", .commands = CLI_SERVE, .arg = "N", .store = STORE_INT,
     .offset = OFF(port), .lo = 0, .hi = 65535, .want = "a port number from 0 to 65535",
     .group = GROUP_RUN, .help = "the port to listen on (default 8040; 0: any free port)"},
    {.name = "--listen", .commands = CLI_SERVE, .arg = "ADDR", .store = STORE_STRING,
     .offset = OFF(listen), .group = GROUP_RUN,
     .help = "the IPv4 address to listen on (default 127.0.0.1:\n"
             "this computer only; another lets others in, with the token)"},
    {.name = "--tiles", .commands = CLI_SERVE, .arg = "URL", .store = STORE_STRING,
     .offset = OFF(tiles), .group = GROUP_RUN,
     .help = "a basemap under the layers: an XYZ tile address with {z} {x} {y}\n"
             "(the page fetches its tiles; default: none, the walking network)"},
    {.name = "--tiles-crs", .commands = CLI_SERVE, .arg = "CRS", .store = STORE_STRING,
     .offset = OFF(tiles_crs), .group = GROUP_RUN,
     .help = "WGS84 or GCJ-02 (AMap, Tencent: the layers are shifted to\n"
             "match); default: GCJ-02 for those maps' addresses, else WGS84"},
    {.name = "--open", .commands = CLI_SERVE, .store = STORE_FLAG, .offset = OFF(open),
     .group = GROUP_RUN, .help = "open the page in the web browser (xdg-open)"},
    {.name = "--threads", .commands = STUDY_CMDS | CLI_MERGE, .arg = "N", .store = STORE_INT,
     .offset = OFF(threads), .lo = 0, .hi = 1024, .want = "a number from 0 to 1024",
     .group = GROUP_RUN, .help = "threads for the parallel stages (default: all cores)"},
    {.name = "--spill", .commands = CLI_RUN | CLI_MERGE, .arg = "DIR", .store = STORE_STRING,
     .offset = OFF(spill), .group = GROUP_RUN,
     .help = "keep the large arrays in files in DIR (on a local disk, not\n"
             "tmpfs), which the system pages when memory runs short: a study\n"
             "larger than memory (a national merge) runs to its end, slower"},
    {.name = "--timings", .commands = STUDY_CMDS | CLI_MERGE, .store = STORE_FLAG, .offset = OFF(timings),
     .group = GROUP_RUN, .help = "print each stage's time and the peak memory to stderr"},
    {.name = "--quiet", .short_name = 'q', .commands = STUDY_CMDS | CLI_MERGE, .store = STORE_FLAG,
     .offset = OFF(quiet), .group = GROUP_RUN, .help = "print errors only"},
    {.name = "--help", .short_name = 'h', .commands = STUDY_CMDS | CLI_MERGE, .store = STORE_HELP,
     .group = GROUP_RUN, .help = "this text"},
};
#define TABLE_SIZE (sizeof table / sizeof table[0])

/* What each subcommand's help says besides its options. */
static const struct {
    unsigned bit;
    const char *name, *usage, *intro, *outro;
} command_texts[] = {
    {CLI_RUN, "run", "careshed run [STUDY.yaml] [options]",
     "Coverage of every facility kind, the targets, and the outputs in DIR.\n",
     "Outputs in DIR: areas.geojson, service-circles.geojson, facilities.geojson,\n"
     "areas.csv, coverage.csv, targets.csv, summary.json, underserved.geojson,\n"
     "demand-access.csv; with a network\n"
     "also service-network.geojson (and facility-service-areas.geojson with\n"
     "--set network.facility_areas=true).\n"
     "DIR is careshed's: each run replaces its previous files as one set (a killed run\n"
     "leaves the previous set), so files an earlier run wrote and this one does not are\n"
     "removed; DIR/.careshed lists the set. Other files in DIR stay. A DIR that holds\n"
     "files but no .careshed is refused unless --overwrite.\n"},
    {CLI_CHECK, "check", "careshed check [STUDY.yaml] [options]",
     "Load and validate everything, report every problem, compute nothing.\n", NULL},
    {CLI_SITE, "site",
     "careshed site [STUDY.yaml] --at LON,LAT[,KIND[,CAPACITY]] ... | --proposals FILE\n"
     "                     [options]\n"
     "       careshed site [STUDY.yaml] --suggest K | --reach-share S --kind KIND [options]",
     "What proposed sites would change: whom each newly covers, in which street,\n"
     "which target it closes; or where the next sites would do the most good.\n",
     "Writes DIR/proposals.geojson and one line per proposal (and one for all together),\n"
     "or DIR/suggestions.geojson and one line per chosen site. DIR follows the rules\n"
     "of careshed run's (see careshed run --help): --overwrite for a DIR of other files.\n"},
    {CLI_REPORT, "report", "careshed report [STUDY.yaml] [--out report.html] [options]",
     "The annual coverage report: a self-contained HTML page with maps, tables and\n"
     "the change since Y0 (and since --baseline).\n",
     NULL},
    {CLI_SHARD, "shard", "careshed shard [STUDY.yaml] --parts N --out DIR [options]",
     "Cut the study into N shards of whole areas, balanced by residents, each a plain\n"
     "study with the facilities, competing residents, walking network and cost-matrix\n"
     "rows it needs, for a cluster.\n",
     "Writes DIR/NNNN/study.yaml and its layers per shard, DIR/shards.json and\n"
     "DIR/careshed.sbatch (a Slurm array). Run each shard with\n"
     "  careshed run DIR/NNNN/study.yaml --out DIR/NNNN/out\n"
     "(sbatch --wait DIR/careshed.sbatch runs them all), then careshed merge DIR.\n"
     "A population grid and a cost matrix are read as the shards are cut, never held\n"
     "whole; so is a network whose lines take more than --set\n"
     "shard.network_memory_mb=MB (default 256), read again for the windows it needs;\n"
     "a file without a spatial index through an indexed GeoPackage copy in $TMPDIR.\n"},
    {CLI_MERGE, "merge", "careshed merge DIR [--out OUT] [--partial] [options]",
     "Join the results of the shards careshed shard wrote into DIR: the outputs of a\n"
     "single run of the whole study, byte for byte, with the shards in summary.json.\n",
     "A shard without results is named with its log; --partial merges the others.\n"
     "OUT follows the rules of careshed run's DIR (see careshed run --help).\n"},
    {CLI_SERVE, "serve", "careshed serve [STUDY.yaml] [--port N] [--open] [options]",
     "Run the study once and keep it in memory behind a JSON API on this computer:\n"
     "the study, its streets and facilities, and what proposed sites would change.\n",
     "Prints the address with its access token; every request must carry the token.\n"
     "Ctrl-C stops it.\n"},
};
#define COMMANDS (sizeof command_texts / sizeof command_texts[0])

static const char layers_text[] =
    "Without a study file, give the three layers; everything else has defaults\n"
    "(fields id/name/kind/pop/pop60/pop65/pop80, kinds from the kind field,\n"
    "5/10/15 minutes at 4 km/h, a transverse Mercator centred on the areas).\n";

static const char paths_text[] =
    "                      (these FILEs and --set *.path= are relative to the\n"
    "                      current folder, a study file's paths to its folder)\n";

unsigned cli_command_bit(const char *name)
{
    for (size_t c = 0; c < COMMANDS; c++)
        if (!strcmp(name, command_texts[c].name))
            return command_texts[c].bit;
    return 0;
}

static const char *command_name(unsigned bit)
{
    for (size_t c = 0; c < COMMANDS; c++)
        if (command_texts[c].bit == bit)
            return command_texts[c].name;
    return "run";
}

/* ------------------------------------------------------------------ help */

void cli_usage_main(FILE *f)
{
    fprintf(f,
            "careshed %s — how well elder-care facilities serve older residents\n\n"
            "Usage:\n"
            "  careshed run [STUDY.yaml] [options]    coverage, targets, GeoJSON/CSV/JSON\n"
            "  careshed check [STUDY.yaml] [options]  load and validate everything, report\n"
            "                                         every problem, compute nothing\n"
            "  careshed check --keys [--markdown]     list every study key: type, values,\n"
            "                                         default and what it does\n"
            "  careshed site [STUDY.yaml] --at LON,LAT[,KIND[,CAPACITY]] ... |\n"
            "                --proposals FILE [options]\n"
            "                                         what proposed sites would change\n"
            "  careshed report [STUDY.yaml] --out report.html [--year Y] [--since Y0]\n"
            "                [--baseline PREVIOUS/summary.json] [--lang zh|en] [--pdf]\n"
            "                                         the annual coverage report (HTML)\n"
            "  careshed serve [STUDY.yaml] [--port N] [--open]\n"
            "                                         the study in memory behind a JSON\n"
            "                                         API (proposed sites on demand)\n"
            "  careshed shard [STUDY.yaml] --parts N --out DIR\n"
            "                                         the study in shards for a cluster\n"
            "  careshed merge DIR --out OUT           the shards' results joined: the\n"
            "                                         outputs of a single run\n"
            "  careshed --help | --version\n\n"
            "`careshed COMMAND --help` lists a command's options, e.g.\n"
            "`careshed run --help`.\n\n"
            "%s",
            cs_version(), exit_codes_text);
}

static void pad_to(FILE *f, size_t *col, size_t to)
{
    for (; *col < to; (*col)++)
        fputc(' ', f);
}

/* The study key in brackets at column 56 when the line has room, else on a line of
 * its own there. */
static void print_key(FILE *f, size_t col, const char *key)
{
    size_t n = strlen(key) + 2;
    if (col + 1 > 56 || 56 + n > 80) {
        if (col + 1 + n <= 80) {
            fprintf(f, " [%s]", key);
            return;
        }
        fputc('\n', f);
        col = 0;
    }
    pad_to(f, &col, 56);
    fprintf(f, "[%s]", key);
}

/* One option: "  --areas FILE        street (area) polygons            [areas.path]". */
static void print_option(FILE *f, const cli_option *opt)
{
    char left[80];
    int pre = opt->short_name ? snprintf(left, sizeof left, "-%c, ", opt->short_name) : 0;
    snprintf(left + pre, sizeof left - (size_t)pre, "%s%s%s", opt->name, opt->arg ? " " : "",
             opt->arg ? opt->arg : "");
    fprintf(f, "  %s", left);
    size_t col = 2 + strlen(left);
    if (col + 2 > 22) {
        fputc('\n', f);
        col = 0;
    }
    for (const char *line = opt->help;;) {
        size_t n = strcspn(line, "\n");
        pad_to(f, &col, 22);
        fprintf(f, "%.*s", (int)n, line);
        col += n;
        if (!line[n])
            break;
        fputc('\n', f);
        col = 0;
        line += n + 1;
    }
    if (opt->key)
        print_key(f, col, opt->key);
    fputc('\n', f);
}

/* The options of one group that a subcommand serves; false when there are none. */
static bool print_group(FILE *f, unsigned bit, enum cli_group g)
{
    bool any = false, paths = false;
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (table[i].group != g || !(table[i].commands & bit))
            continue;
        if (!any)
            fprintf(f, "%s\n", group_titles[g]);
        any = true;
        print_option(f, &table[i]);
        paths |= table[i].path;
    }
    if (paths)
        fputs(paths_text, f);
    return any;
}

void cli_usage_command(FILE *f, unsigned bit)
{
    size_t c = 0;
    while (c + 1 < COMMANDS && command_texts[c].bit != bit)
        c++;
    fprintf(f, "Usage: %s\n\n%s%s\n", command_texts[c].usage, command_texts[c].intro,
            bit & STUDY_CMDS ? layers_text : ""); /* merge reads its study from DIR */
    for (int g = 0; g < GROUPS; g++)
        if (print_group(f, bit, (enum cli_group)g))
            fputc('\n', f);
    if (command_texts[c].outro)
        fprintf(f, "%s\n", command_texts[c].outro);
    fputs(exit_codes_text, f);
}

/* ------------------------------------------------------------------ parsing */

static int usage_error(const options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const options *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "careshed: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ncareshed: try 'careshed %s --help'\n", o->command);
    return EXIT_USAGE;
}

static int bad_value(const options *o, const cli_option *opt, const char *value)
{
    return usage_error(o, "%s needs %s, got '%s'", opt->name, opt->want, value);
}

bool cli_add_setting(options *o, const char *key, const char *value)
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

static bool list_append(cli_list *list, const char *value)
{
    const char **grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown)
        return false;
    list->items = grown;
    list->items[list->count++] = value;
    return true;
}

void cli_options_free(options *o)
{
    free(o->at.items);
    free(o->keys);
    free(o->values);
    for (size_t i = 0; i < o->owned_count; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->command_line);
}

bool cli_keep(options *o, char *text)
{
    char **grown = text ? realloc(o->owned, (o->owned_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        return false;
    }
    o->owned = grown;
    o->owned[o->owned_count++] = text;
    return true;
}

/* --set KEY=VALUE: the key is copied, so that argv (and the command line the report
 * quotes) keeps its '='. */
static int set_setting(options *o, const cli_option *opt, char *value)
{
    char *eq = strchr(value, '=');
    if (!eq || eq == value)
        return bad_value(o, opt, value);
    char *key = strndup(value, (size_t)(eq - value));
    return cli_keep(o, key) && cli_add_setting(o, key, eq + 1) ? -1 : EXIT_INTERNAL;
}

static int set_suggest(options *o, const cli_option *opt, char *value)
{
    char *end;
    double v = strtod(value, &end);
    /* a whole number, written as 3 or 3.0 or 3e0; one beyond a long is no count */
    if (*end || !(v > 0) || v != floor(v) || v >= (double)LONG_MAX)
        return bad_value(o, opt, value);
    o->suggest = (long)v;
    return -1;
}

static int set_model(options *o, const cli_option *opt, char *value)
{
    cs_site_model m;
    if (cs_site_model_from_name(value, &m) != CS_OK)
        return bad_value(o, opt, value);
    o->model = (int)m;
    return -1;
}

/* --within 15 or 15min: minutes; 500m: metres. */
static int set_within(options *o, const cli_option *opt, char *value)
{
    char *end;
    double v = strtod(value, &end);
    bool metres = end != value && !strcmp(end, "m");
    if (end != value && (metres || !strcmp(end, "min")))
        end += strlen(end);
    if (*end || !(v > 0))
        return bad_value(o, opt, value);
    if (metres)
        o->within_m = v, o->within_min = NAN;
    else
        o->within_min = v, o->within_m = 0;
    return -1;
}

static int set_lang(options *o, const cli_option *opt, char *value)
{
    if (strcmp(value, "zh") != 0 && strcmp(value, "en") != 0)
        return bad_value(o, opt, value);
    o->lang = value;
    return -1;
}

static int store_value(options *o, const cli_option *opt, char *value)
{
    void *field = (char *)o + opt->offset;
    char *end;
    switch (opt->store) {
    case STORE_STRING:
        *(const char **)field = value;
        return -1;
    case STORE_INT: {
        long v = strtol(value, &end, 10);
        if (end == value || *end || (double)v < opt->lo || (double)v > opt->hi)
            return bad_value(o, opt, value);
        *(int *)field = (int)v;
        return -1;
    }
    case STORE_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end || !(v > opt->lo) || v > opt->hi)
            return bad_value(o, opt, value);
        *(double *)field = v;
        return -1;
    }
    case STORE_LIST:
        return list_append(field, value) ? -1 : EXIT_INTERNAL;
    case STORE_KEY:
        return cli_add_setting(o, opt->key, value) ? -1 : EXIT_INTERNAL;
    case STORE_CALL:
        return opt->call(o, opt, value);
    default:
        return -1;
    }
}

/* The row for arg's first n bytes ("--out" of "--out=x", or "-q") that a subcommand
 * takes; NULL when none. */
static const cli_option *find_option(const char *arg, size_t n, unsigned bits)
{
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        const cli_option *opt = &table[i];
        if (!((opt->commands | opt->ignored) & bits))
            continue;
        bool is_short = n == 2 && opt->short_name && arg[1] == opt->short_name;
        if (is_short || (strlen(opt->name) == n && !strncmp(arg, opt->name, n)))
            return opt;
    }
    return NULL;
}

/* The option closest to a misspelt one, among those of `bits` first; NULL when none is
 * a near miss (as for study keys: at most 2 edits, and at most a third of the name). */
static const cli_option *closest_option(const char *arg, size_t n, unsigned bits)
{
    const cli_option *close = NULL;
    size_t best = SIZE_MAX;
    for (int pass = 0; pass < 2 && !close; pass++)
        for (size_t i = 0; i < TABLE_SIZE; i++) {
            const cli_option *opt = &table[i];
            if (pass == 0 && !(opt->commands & bits))
                continue;
            size_t d = cs_edit_distance(arg, n, opt->name, strlen(opt->name));
            if (d < best && d <= 2 && d * 3 <= strlen(opt->name) - 2) {
                best = d;
                close = opt;
            }
        }
    return close;
}

/* "site and report": the subcommands an option serves. */
static void command_names(const char *name, char *buf, size_t size)
{
    unsigned bits = 0;
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (!strcmp(table[i].name, name))
            bits |= table[i].commands;
    buf[0] = '\0';
    size_t count = 0, total = 0;
    for (unsigned b = bits; b; b &= b - 1)
        total++;
    for (size_t c = 0; c < COMMANDS; c++) {
        if (!(bits & command_texts[c].bit))
            continue;
        count++;
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s",
                 count == 1 ? "" : count == total ? " and " : ", ", command_texts[c].name);
    }
}

/* An option this subcommand does not take: another's, a misspelt one, or unknown. */
static int no_such_option(const options *o, const char *arg, size_t n)
{
    char owners[64];
    for (size_t i = 0; n > 2 && i < TABLE_SIZE; i++) {
        if (strlen(table[i].name) != n || strncmp(arg, table[i].name, n) != 0)
            continue;
        command_names(table[i].name, owners, sizeof owners);
        return usage_error(o, "%.*s is not an option of '%s' but of '%s' (see 'careshed %s "
                              "--help')", (int)n, arg, o->command, owners,
                           command_name(table[i].commands & -table[i].commands));
    }
    const cli_option *close = closest_option(arg, n, o->command_bit);
    if (!close)
        return usage_error(o, "unknown option '%.*s'", (int)n, arg);
    if (close->commands & o->command_bit)
        return usage_error(o, "unknown option '%.*s'; did you mean '%s'?", (int)n, arg,
                           close->name);
    command_names(close->name, owners, sizeof owners);
    return usage_error(o, "unknown option '%.*s'; did you mean '%s' (an option of '%s')?",
                       (int)n, arg, close->name, owners);
}

/* argv[*i], an option, and its value (after '=' or the next argument). */
static int parse_option(int argc, char **argv, int *i, options *o)
{
    char *arg = argv[*i];
    char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    const cli_option *opt = find_option(arg, n, o->command_bit);
    if (!opt)
        return no_such_option(o, arg, n);
    if (!opt->arg && eq)
        return usage_error(o, "%s takes no value, got '%s'", opt->name, arg);
    if (opt->store == STORE_HELP) {
        cli_usage_command(stdout, o->command_bit);
        return EXIT_OK;
    }
    if (opt->store == STORE_FLAG) {
        *(bool *)((char *)o + opt->offset) = true;
        return -1;
    }
    char *value = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
    if (!value)
        return usage_error(o, "%s needs a value", opt->name);
    /* empty is a value for a study key: --network '' leaves the study's network out */
    if (!*value && opt->store != STORE_KEY)
        return usage_error(o, "%s needs a value, got an empty string", opt->name);
    return store_value(o, opt, value);
}

int cli_parse(int argc, char **argv, options *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1]) {
            int code = parse_option(argc, argv, &i, o);
            if (code >= 0)
                return code;
        } else if (!o->study) {
            o->study = a;
        } else {
            return usage_error(o, "unexpected argument '%s' (only one %s)", a,
                               o->command_bit == CLI_MERGE ? "folder" : "study file");
        }
    }
    if (o->markdown && !o->list_keys)
        return usage_error(o, "%s goes with --keys", "--markdown");
    if (o->command_bit == CLI_MERGE && !o->study)
        return usage_error(o, "give the folder careshed shard wrote: careshed merge DIR");
    if (o->command_bit == CLI_SHARD && (o->parts == 0) == (o->by == NULL))
        return usage_error(o, "give the number of shards (--parts N) or the areas' field to "
                              "cut by (--by FIELD), one of the two");
    return -1;
}
