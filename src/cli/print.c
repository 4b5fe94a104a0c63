/*
 * print.c — the results of a run as the careshed command shows them on stdout: the
 * district's coverage per kind and threshold, the under-served patches, accessibility,
 * the targets, the walking network's report. Kind names line up in terminal columns,
 * Chinese ones too.
 */
#include "print.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

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

const char *cli_noun(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

void cli_print_network(const cs_network_report *n)
{
    printf("Walking network: %zu %s, %.1f km, %zu connected %s, %.2f%% of the "
           "length in the largest\n", n->edges, cli_noun(n->edges, "edge", "edges"),
           n->length_km, n->components, cli_noun(n->components, "component", "components"),
           n->largest_share * 100);
    printf("  ways left out: %zu by class (motorway, trunk, ...), %zu closed to walkers\n",
           n->left_out_class, n->left_out_closed);
    printf("  off the network (over %g m from any way): %zu %s (%.0f residents), "
           "%zu %s\n", n->max_attach_m, n->demand_off,
           cli_noun(n->demand_off, "demand point", "demand points"), n->demand_off_pop,
           n->facilities_off, cli_noun(n->facilities_off, "facility", "facilities"));
    printf("  on small islands (<1%% of the length): %zu %s (%.0f residents), "
           "%zu %s\n", n->demand_islands, cli_noun(n->demand_islands, "demand point",
           "demand points"), n->demand_islands_pop, n->facilities_islands,
           cli_noun(n->facilities_islands, "facility", "facilities"));
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
void cli_print_results(const cs_study *s, const cs_result *r, const char *out_dir)
{
    size_t band = cs_study_band_count(s) > 1 ? 1 : 0;
    size_t na = cs_study_area_count(s), nf = cs_study_facility_count(s),
           nd = cs_study_demand_count(s);
    printf("%zu %s, %zu %s, %zu %s\n", na, cli_noun(na, "area", "areas"), nf,
           cli_noun(nf, "facility", "facilities"), nd,
           cli_noun(nd, "demand point", "demand points"));
    cs_network_report net;
    bool network = cs_result_network(r, &net) == CS_OK;
    if (network)
        cli_print_network(&net);
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
