/*
 * palette.h — the colours and shapes careshed draws with, in one table shared by the
 * report's maps (report/svg.c) and the GeoPackage's QGIS styles (out/styles.c), so a
 * kind looks the same in both: colour-blind-safe schemes, ColorBrewer YlGnBu for
 * shares and Okabe-Ito for facility kinds, with a different marker per kind. The
 * headline coverage (which kind, band, threshold and measure the streets are shaded
 * by) is chosen here too, once for both.
 */
#ifndef CS_PALETTE_H
#define CS_PALETTE_H

#include "io/study.h"

/* Under-served patches. */
#define CS_PATCH_COLOUR "#d55e00"
/* Shares in 5 equal classes of [0, 1], light to dark. */
#define CS_SHARE_CLASSES 5
extern const char *const cs_share_colours[CS_SHARE_CLASSES];
/* No figure (no residents). */
#define CS_NO_DATA_COLOUR "#dddddd"

/* A facility marker's shape. */
typedef enum cs_marker { CS_MARKER_CIRCLE, CS_MARKER_SQUARE, CS_MARKER_TRIANGLE,
                         CS_MARKER_DIAMOND } cs_marker;

/* Kind k's colour ("#rrggbb", 8 colours repeated) and marker (4 shapes repeated). */
const char *cs_kind_colour(size_t k);
cs_marker cs_kind_marker(size_t k);

/* The headline coverage: the first coverage target's kind, band, threshold and
 * measure index, else the first kind's largest threshold by its main measure for the
 * under-served band. */
typedef struct cs_headline {
    size_t kind, band, threshold, measure;
} cs_headline;
cs_headline cs_headline_of(const cs_study *s);

#endif /* CS_PALETTE_H */
