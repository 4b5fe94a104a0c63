/*
 * palette.c — the one table of colours and markers, and the headline's choice
 * (palette.h).
 */
#include "out/palette.h"

const char *const cs_share_colours[CS_SHARE_CLASSES] = {"#ffffcc", "#a1dab4", "#41b6c4",
                                                        "#2c7fb8", "#253494"};

static const struct {
    const char *colour;
    cs_marker marker;
} kinds[8] = {
    {"#e69f00", CS_MARKER_CIRCLE}, {"#56b4e9", CS_MARKER_SQUARE},
    {"#009e73", CS_MARKER_TRIANGLE}, {"#f0e442", CS_MARKER_DIAMOND},
    {"#0072b2", CS_MARKER_CIRCLE}, {"#d55e00", CS_MARKER_SQUARE},
    {"#cc79a7", CS_MARKER_TRIANGLE}, {"#000000", CS_MARKER_DIAMOND},
};

const char *cs_kind_colour(size_t k)
{
    return kinds[k % 8].colour;
}

cs_marker cs_kind_marker(size_t k)
{
    return kinds[k % 8].marker;
}

cs_headline cs_headline_of(const cs_study *s)
{
    cs_headline h = {0, s->settings.patch_band >= 0 ? (size_t)s->settings.patch_band : 0, 0, 0};
    for (size_t t = 0; t < s->settings.target_count; t++)
        if (s->settings.targets[t].type == CS_TARGET_COVERAGE) {
            h.kind = (size_t)s->settings.targets[t].kind;
            h.band = (size_t)s->settings.targets[t].band;
            h.threshold = (size_t)s->settings.targets[t].threshold;
            h.measure = cs_measure_index(s->settings.targets[t].measure);
            return h;
        }
    if (s->settings.kind_count > 0) {
        const cs_kind *k = &s->settings.kinds[0];
        h.threshold = k->threshold_count ? k->threshold_count - 1 : 0;
        h.measure = cs_measure_index(k->main_measure);
    }
    return h;
}
