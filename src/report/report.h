/*
 * report.h — the annual coverage report (careshed report): one self-contained HTML
 * page (inline CSS and SVG, nothing fetched) built from the same results as the
 * GeoJSON outputs: the plan's indicators against their targets, year by year when
 * facilities carry opened/closed years, what changed since the previous year or a
 * baseline run, maps drawn in the study's metric CRS, charts, a per-street table and
 * the methods.
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include "cover/result.h"
#include "site/site.h"

/* Text in the report's language. */

/* One evaluated year (year 0: the study as given, without years): what the trend needs. */
typedef struct cs_report_run {
    int year;
    double pop_year;               /* the population's year, NaN without population.year */
    cs_target_outcome *district;   /* each target at the district (gap texts not kept) */
} cs_report_run;

/* A run kept whole: the last two years' (the page's maps, tables and changes). */
typedef struct cs_report_held {
    cs_study *view; /* NULL when the study itself is run */
    cs_result *r;
} cs_report_held;

/* A previous run's figures (its summary.json and the areas.csv beside it). */
typedef struct cs_baseline {
    char *path;
    size_t target_count;
    char **target_id;
    double *target_value;  /* NaN when not evaluated */
    size_t area_count;
    char **area_id;
    double *area_share;    /* per area: the headline coverage share; NaN when absent */
    bool has_facilities;   /* its facilities.geojson was read */
    size_t fac_count;
    char **fac_id, **fac_name, **fac_kind, **fac_street;
} cs_baseline;

/* The sites suggested for a kind with a coverage target (report/sites.c). */
typedef struct cs_report_sites {
    size_t kind, target;
    bool met;              /* the target is met already: nothing suggested */
    cs_site *site;         /* the sites chosen, evaluated together; NULL: none */
    cs_suggest_report rep;
    double before, after;  /* the target's district value now and with the sites */
    size_t short_before, short_after; /* streets missing the target now and with them */
} cs_report_sites;

typedef struct cs_reporter {
    cs_context *ctx;
    const cs_study *s;
    const cs_report_options *opt;
    cs_lang lang;
    size_t run_count;
    cs_report_run *runs;   /* the years in order; the last is the one reported */
    cs_report_held held[2]; /* the year before and the last (the same when nothing
                               changed between them) */
    const cs_result *now;  /* the last year's run */
    const cs_result *prev; /* the year before's, NULL when only one */
    cs_baseline *base;     /* NULL without --baseline */
    size_t head_kind;      /* the kind of the headline coverage (the first coverage
                              target's, else kind 0) */
    size_t head_band;      /* its band (the target's, else the patch band) */
    size_t head_threshold; /* its threshold (the target's, else the largest) */
    size_t head_measure;   /* its measure index (the target's, else the kind's main) */
    size_t sites_count;
    cs_report_sites *sites; /* per kind with a coverage target (report.suggest) */
    cs_buf *out;
} cs_reporter;

/* Evaluate every year from opt->since to opt->year (report/years.c). */
cs_status cs_report_runs(cs_reporter *rp);
void cs_report_runs_free(cs_reporter *rp);

/* The suggested sites of every kind with a coverage target, as report.suggest asks
 * (report/sites.c); the section showing them, and page 1's sentence for one kind. */
cs_status cs_report_suggest(cs_reporter *rp);
void cs_report_suggest_free(cs_reporter *rp);
size_t cs_report_sites_chosen(const cs_report_sites *rs);
void cs_report_sites_section(const cs_reporter *rp, cs_buf *b);
void cs_report_sites_sentence(const cs_reporter *rp, const cs_report_sites *rs, cs_buf *b);

/* Read a baseline (report/baseline.c). Errors: CS_ERR_INPUT naming the file. */
cs_status cs_baseline_read(cs_context *ctx, const char *summary_path, const cs_reporter *rp,
                           cs_baseline **out);
void cs_baseline_free(cs_baseline *b);

/* The coverage share of kind k in area a (r->A: the district) for band rp->head_band:
 * for the headline kind at the headline target's threshold and measure, for others at
 * their largest threshold and main measure; NaN without residents. */
double cs_report_share(const cs_reporter *rp, const cs_result *r, size_t kind, size_t a);

/* Text of string id in the report's language (report/text.c). */
typedef enum cs_text {
    T_TITLE, T_SUBTITLE, T_GENERATED, T_HEADLINE, T_INDICATOR, T_VALUE, T_TARGET, T_STATUS,
    T_GAP, T_CHANGE, T_PASS, T_FAIL, T_NOT_EVALUATED, T_TREND, T_YEAR, T_CHANGES,
    T_SINCE_PREVIOUS, T_SINCE_BASELINE, T_NEW_FACILITIES, T_CLOSED_FACILITIES, T_NONE,
    T_COVERAGE_CHANGE, T_STREET, T_KIND, T_NAME, T_BEFORE, T_AFTER, T_MAP, T_MAP_CAPTION,
    T_KIND_MAPS, T_CHARTS, T_CHARTS_CAPTION, T_STREETS, T_POPULATION, T_FACILITIES,
    T_METHODS, T_SOURCES, T_ROLE, T_FILE, T_FEATURES, T_CRS, T_MODIFIED, T_SHA256,
    T_SETTINGS, T_WORKING_CRS, T_SPEED, T_MEASURES, T_THRESHOLDS, T_POP_SOURCE,
    T_ESTIMATED, T_PATCH_GRID, T_LEFT_OUT, T_REPRODUCE, T_UNDERSERVED, T_COVERAGE_SHARE,
    T_NO_DATA, T_STRAIGHT, T_NETWORK, T_MATRIX, T_NORTH, T_AT_LEAST, T_AT_MOST,
    T_MINUTES, T_METRES, T_NO_FACILITIES, T_NETWORK_NOTE, T_DISTRICT, T_POP_YEAR, T_NO_TARGETS,
    T_ONLY_HEAD, T_KM, T_KMH, T_ROLE_AREAS, T_ROLE_FACILITIES, T_ROLE_POPULATION,
    T_ROLE_NETWORK, T_ROLE_COSTS, T_ROLE_LANDUSE, T_POP_POINTS, T_POP_POLYGONS, T_POP_GRID,
    T_POP_TOTALS, T_GRID_SQUARE, T_GRID_HEX, T_TMERC, T_CENTRAL_MERIDIAN, T_UTM_ZONE,
    T_GAUSS_KRUGER, T_NORTHERN, T_SOUTHERN, T_PP, T_MISSES, T_MISSES_NOTE, T_MISSED,
    T_PATCHES, T_PATCHES_NOTE, T_RANK, T_NOT_COVERED, T_AREA_KM2, T_NEAREST_M, T_SUMMARY,
    T_SUMMARY_MET, T_SUMMARY_GAPS, T_SUMMARY_BEHIND, T_SUMMARY_MISSED_N, T_SUMMARY_CHANGE,
    T_LIST_SEP, T_END, T_SITES, T_SITES_NOTE, T_SITES_SENTENCE, T_SITES_SENTENCE_1,
    T_SITES_BY_TARGET, T_SITES_BY_COUNT, T_SITES_MET, T_SITES_NONE, T_SITES_UNREACHABLE,
    T_SITES_STREETS_SHORT, T_SITES_REST, T_POSITION, T_NEWLY_COVERED, T_COVERAGE_AFTER,
    T_SITE_LEGEND, T_COUNT
} cs_text;
const char *cs_report_text(const cs_reporter *rp, cs_text id);

/* Names in the report's language, and what a kind's map shows (report/page.c). */
const char *cs_report_kind_name(const cs_reporter *rp, size_t k);
const char *cs_report_target_name(const cs_reporter *rp, size_t t);
void cs_report_map_shows(const cs_reporter *rp, size_t k, cs_buf *b);
/* A map's caption: what the colours and symbols mean, then what it shows (above). */
void cs_report_map_caption(const cs_reporter *rp, size_t k, cs_buf *b);

/* HTML helpers (report/page.c). */
void cs_html_text(cs_buf *b, const char *s); /* escaped */
void cs_html_number(cs_buf *b, double v, int decimals); /* grouped; "—" for NaN */
void cs_html_share(cs_buf *b, double share);              /* "60.5%"; "—" for NaN */
/* A target's value as shown: shares as percentages, other values grouped. */
void cs_report_value(cs_buf *b, const cs_target *tg, double v);

/* Maps and charts as inline SVG (report/svg.c). */
void cs_svg_district_map(const cs_reporter *rp, cs_buf *b);
long cs_svg_district_kinds(const cs_reporter *rp); /* -1: all, else the one kind shown */
void cs_svg_kind_map(const cs_reporter *rp, size_t k, cs_buf *b);
/* The headline kind's map with its largest patches numbered 1.. (CS_PATCHES_LISTED). */
void cs_svg_patch_map(const cs_reporter *rp, cs_buf *b);
/* Kind rs->kind's map with its suggested sites, the first `numbered` numbered 1... */
void cs_svg_sites_map(const cs_reporter *rp, const cs_report_sites *rs, size_t numbered,
                      cs_buf *b);
void cs_svg_coverage_chart(const cs_reporter *rp, size_t k, cs_buf *b);
void cs_svg_trend_chart(const cs_reporter *rp, size_t t, cs_buf *b);
/* with_sites: a row for suggested sites too */
void cs_svg_legend(const cs_reporter *rp, long kind, bool with_sites, cs_buf *b);
/* The colour of a share in the sequential, colour-blind-safe scale. */
const char *cs_svg_share_colour(double share);

#endif
