/*
 * model.h — the study's domain types shared by every stage: how distances are measured,
 * how accessibility decays, what a target asks, and the limits on kinds' thresholds.
 * The settings (io/config.h), the loaded study (io/study.h) and the run (cover/,
 * access/, plan/, site/) all speak in these; none of them needs the others' headers
 * for it.
 */
#ifndef CS_MODEL_H
#define CS_MODEL_H

#include "core/core.h"

/* A kind has at most this many thresholds (minutes or metres). */
#define CS_MAX_THRESHOLDS 8

/* demand-access.csv is written by default up to this many demand points (a large city's
 * millions of rows take seconds to format and hundreds of MB). */
#define CS_DEMAND_CSV_AUTO_MAX 500000

/* The language of the texts careshed writes (gap texts, the report): the study's lang,
 * by default Chinese when the study's or its first street's name holds Chinese. */
typedef enum cs_lang { CS_LANG_AUTO = -1, CS_LANG_ZH, CS_LANG_EN } cs_lang;
#define CS_LANGS 2 /* the languages texts are written in */

/* report.suggest: as many sites as a kind's coverage target needs (set covering). */
#define CS_SUGGEST_TARGET (-1L)
#define CS_SUGGEST_MAX 1000L /* the most sites report.suggest may ask for */

/* output.formats: which files a run writes (summary.json always). */
#define CS_FORMAT_GPKG 1u    /* careshed.gpkg */
#define CS_FORMAT_GEOJSON 2u /* a .geojson per layer */
#define CS_FORMAT_CSV 4u     /* areas, coverage, targets and demand-access.csv */
#define CS_FORMAT_ALL (CS_FORMAT_GPKG | CS_FORMAT_GEOJSON | CS_FORMAT_CSV)

/* A measure is one bit of the public cs_measure (CS_MEASURE_STRAIGHT, _NETWORK,
 * _MATRIX); a set of them is their OR. Tables index measures 0, 1, 2 in the same order,
 * so that a bit and its index are 1 << m and its log2. */
#define CS_MEASURES 3
#define CS_M_STRAIGHT 0
#define CS_M_NETWORK 1
#define CS_M_MATRIX 2
_Static_assert(CS_MEASURE_STRAIGHT == 1u << CS_M_STRAIGHT &&
                   CS_MEASURE_NETWORK == 1u << CS_M_NETWORK &&
                   CS_MEASURE_MATRIX == 1u << CS_M_MATRIX,
               "a measure's bit is 1 << its index");

static inline size_t cs_measure_index(unsigned bit)
{
    return bit == CS_MEASURE_MATRIX ? CS_M_MATRIX
           : bit == CS_MEASURE_NETWORK ? CS_M_NETWORK
                                       : CS_M_STRAIGHT;
}
static inline unsigned cs_measure_bit(size_t m)
{
    return 1u << m;
}
/* A measure's name in outputs: "straight", "network", "matrix". */
static inline const char *cs_measure_name(size_t m)
{
    return m == CS_M_MATRIX ? "matrix" : m == CS_M_NETWORK ? "network" : "straight";
}
/* The measure of a set that targets and headline figures use: the cost matrix when
 * measured, else the network when measured, else straight. */
static inline unsigned cs_main_measure(unsigned measures)
{
    return measures & CS_MEASURE_MATRIX    ? CS_MEASURE_MATRIX
           : measures & CS_MEASURE_NETWORK ? CS_MEASURE_NETWORK
                                           : CS_MEASURE_STRAIGHT;
}

/* How accessibility (2SFCA) weighs a facility by its distance within the catchment. */
typedef enum cs_decay_kind {
    CS_DECAY_NONE = 0, /* every facility within reach counts fully (2SFCA) */
    CS_DECAY_STEPS,    /* one weight per threshold zone (E2SFCA) */
    CS_DECAY_GAUSSIAN, /* Gaussian, 1 at the facility and 0 at the catchment's edge */
    CS_DECAY_POWER,    /* gravity: max(d, min_m)^-beta */
    CS_DECAY_EXPONENTIAL /* gravity: exp(-beta d / 1 km) */
} cs_decay_kind;

/* A decay's name as the study file writes it. */
static inline const char *cs_decay_name(cs_decay_kind d)
{
    static const char *const names[] = {"none", "steps", "gaussian", "power", "exponential"};
    return (unsigned)d < sizeof names / sizeof names[0] ? names[d] : "none";
}

typedef enum cs_target_type {
    CS_TARGET_COVERAGE = 1,        /* share of band within threshold of kind >= at_least */
    CS_TARGET_COUNT,               /* number of facilities of kind >= at_least */
    CS_TARGET_CAPACITY,            /* total capacity (of kind, or all) >= at_least */
    CS_TARGET_CAPACITY_PER_POP,    /* capacity / (band population / per) >= at_least */
    CS_TARGET_CAPACITY_SHARE,      /* capacity / capacity_of >= at_least */
    CS_TARGET_ACCESSIBILITY,       /* residents' mean 2SFCA accessibility >= at_least */
    CS_TARGET_LOAD                 /* every facility's load ratio <= at_most */
} cs_target_type;

typedef enum cs_scope {
    CS_SCOPE_DISTRICT = 1,
    CS_SCOPE_AREA = 2 /* every area (street) must meet it */
} cs_scope;

#endif /* CS_MODEL_H */
