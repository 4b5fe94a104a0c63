/*
 * svg.c — the report's maps and charts as inline SVG. Maps are drawn from the study's
 * geometries in its metric CRS (grid north up), with a scale bar of a round length, a
 * north arrow and a legend; colours come from colour-blind-safe schemes (ColorBrewer
 * YlGnBu for shares, Okabe-Ito for facility kinds, with a different marker per kind).
 */
#include "cover/patch.h"
#include "out/palette.h"
#include "report/report.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAP_W 680.0
#define SMALL_W 330.0
/* their widths on an A4 page (page.c's CSS: the body 180 mm, a small map's figure 86 mm) */
#define MAP_MM 180.0
#define SMALL_MM 86.0
/* a facility's marker is at least this wide in print */
#define MARKER_MM 3.0
#define MARGIN 10.0
#define LEGEND_ROW 18.0 /* px between a legend's rows, room for a marker */
#define PATCH_COLOUR CS_PATCH_COLOUR

const char *cs_svg_share_colour(double share)
{
    if (isnan(share))
        return CS_NO_DATA_COLOUR;
    int c = (int)(share * CS_SHARE_CLASSES);
    return cs_share_colours[c < 0 ? 0 : c >= CS_SHARE_CLASSES ? CS_SHARE_CLASSES - 1 : c];
}

/* Working CRS to SVG pixels: the district's box fitted into width, north up. */
typedef struct frame {
    double xmin, ymax, scale, w, h;
} frame;

static frame fit(const cs_study *s, double width)
{
    const cs_rings *r = &s->areas.rings;
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t v = 0; v < r->vertex_count; v++) {
        box[0] = fmin(box[0], r->x[v]);
        box[1] = fmin(box[1], r->y[v]);
        box[2] = fmax(box[2], r->x[v]);
        box[3] = fmax(box[3], r->y[v]);
    }
    double dx = fmax(box[2] - box[0], 1), dy = fmax(box[3] - box[1], 1);
    double scale = fmin((width - 2 * MARGIN) / dx, (1.25 * width - 2 * MARGIN) / dy);
    return (frame){box[0], box[3], scale, width, dy * scale + 2 * MARGIN + 40};
}

static double px(const frame *f, double x)
{
    return MARGIN + (x - f->xmin) * f->scale;
}
static double py(const frame *f, double y)
{
    return MARGIN + (f->ymax - y) * f->scale;
}

/* Rings [first, last) of rings as one path's data, vertices rounded to 0.1 px and
 * repeated ones dropped. */
static void ring_path(cs_buf *b, const frame *f, const cs_rings *rings, size_t first,
                      size_t last)
{
    for (size_t r = first; r < last; r++) {
        long lx = LONG_MIN, ly = LONG_MIN;
        for (size_t v = rings->ring_start[r]; v < rings->ring_start[r + 1]; v++) {
            long x = lround(px(f, rings->x[v]) * 10), y = lround(py(f, rings->y[v]) * 10);
            if (x == lx && y == ly)
                continue;
            cs_buf_printf(b, "%s%.1f %.1f", v == rings->ring_start[r] ? "M" : "L",
                          (double)x / 10, (double)y / 10);
            lx = x;
            ly = y;
        }
        cs_buf_addc(b, 'Z');
    }
}

static void areas(const cs_reporter *rp, const frame *f, size_t k, cs_buf *b)
{
    const cs_study *s = rp->now->study;
    const cs_rings *rings = &s->areas.rings;
    cs_buf_add(b, "<g class=\"areas\" stroke=\"#ffffff\" stroke-width=\"0.8\">");
    for (size_t a = 0; a < s->areas.count; a++) {
        double share = cs_report_share(rp, rp->now, k, a);
        cs_buf_printf(b, "<path fill-rule=\"evenodd\" fill=\"%s\" d=\"", cs_svg_share_colour(share));
        ring_path(b, f, rings, rings->area_ring_start[a], rings->area_ring_start[a + 1]);
        cs_buf_add(b, "\"><title>");
        cs_html_text(b, s->areas.name[a]);
        cs_buf_add(b, ": ");
        cs_html_share(b, share);
        cs_buf_add(b, "</title></path>");
    }
    cs_buf_add(b, "</g>");
}

/* The hatching that marks under-served patches: diagonal lines over the streets'
 * shading, which shows between them unchanged (a translucent fill would mix colours the
 * legend does not have), and which reads in greyscale. Named id_out, unique in the page
 * (the page's length so far). */
static void hatch_pattern(cs_buf *b, char *id_out, size_t n)
{
    snprintf(id_out, n, "hatch-%zu", b->len);
    cs_buf_printf(b, "<defs><pattern id=\"%s\" width=\"5\" height=\"5\" "
                  "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                  "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"5\" stroke=\"%s\" "
                  "stroke-width=\"1.4\"/></pattern></defs>",
                  id_out, PATCH_COLOUR);
}

static void patches(const cs_reporter *rp, const frame *f, size_t k, cs_buf *b)
{
    const cs_result *r = rp->now;
    if (!r->patches)
        return;
    char hatch[32];
    hatch_pattern(b, hatch, sizeof hatch);
    cs_buf_printf(b, "<g class=\"patches\" fill=\"url(#%s)\" stroke=\"%s\" "
                  "stroke-width=\"1.2\">", hatch, PATCH_COLOUR);
    for (size_t i = 0; i < r->patches[k].count; i++) {
        cs_rings rings = {0};
        const cs_patch *p = &r->patches[k].patches[i];
        if (p->geom && cs_geom_append_polygons(r->study->geos, p->geom, &rings) != CS_OK)
            b->failed = true; /* out of memory: the page is not written */
        if (rings.ring_count == 0) {
            cs_rings_free(&rings);
            continue;
        }
        cs_buf_add(b, "<path fill-rule=\"evenodd\" d=\"");
        ring_path(b, f, &rings, 0, rings.ring_count);
        cs_buf_printf(b, "\"><title>%.0f</title></path>", p->uncovered);
        cs_rings_free(&rings);
    }
    cs_buf_add(b, "</g>");
}

/* Marker k at (x, y): circle, square, triangle, diamond, then repeated, in the kind's
 * colour. */
static void marker(cs_buf *b, size_t k, double x, double y, double r)
{
    const char *c = cs_kind_colour(k);
    switch (cs_kind_marker(k)) {
    case CS_MARKER_CIRCLE:
        cs_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.2f\" fill=\"%s\"/>", x, y, r, c);
        break;
    case CS_MARKER_SQUARE:
        cs_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                      x - r, y - r, 2 * r, 2 * r, c);
        break;
    case CS_MARKER_TRIANGLE:
        cs_buf_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - 1.3 * r,
                      x + 1.2 * r, y + r, x - 1.2 * r, y + r, c);
        break;
    case CS_MARKER_DIAMOND:
    default:
        cs_buf_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x,
                      y - 1.4 * r, x + 1.4 * r, y, x, y + 1.4 * r, x - 1.4 * r, y, c);
    }
}

static void facilities(const cs_reporter *rp, const frame *f, long only_kind, cs_buf *b)
{
    const cs_study *s = rp->now->study;
    /* MARKER_MM wide on the printed page; a white rim keeps neighbours apart */
    double r = MARKER_MM / 2 * f->w / (f->w > SMALL_W ? MAP_MM : SMALL_MM);
    cs_buf_add(b, "<g class=\"facilities\" stroke=\"#ffffff\" stroke-width=\"0.8\">");
    for (size_t i = 0; i < s->fac.count; i++)
        if (only_kind < 0 || s->fac.kind[i] == only_kind)
            marker(b, (size_t)s->fac.kind[i], px(f, s->fac.x[i]), py(f, s->fac.y[i]), r);
    cs_buf_add(b, "</g>");
}

/* A scale bar of a round length (1, 2 or 5 x 10^n m) about a fifth of the width, at
 * the bottom left, and a north arrow at the top right. */
static void scale_and_north(const cs_reporter *rp, const frame *f, cs_buf *b)
{
    double want = f->w / 5 / f->scale, len = 1;
    while (len * 10 <= want)
        len *= 10;
    len *= want >= 5 * len ? 5 : want >= 2 * len ? 2 : 1;
    double x0 = MARGIN + 6, y0 = f->h - 16, w = len * f->scale;
    cs_buf_printf(b, "<g class=\"scalebar\" font-size=\"10\"><rect x=\"%.1f\" y=\"%.1f\" "
                  "width=\"%.1f\" height=\"4\" fill=\"#000000\"/><rect x=\"%.1f\" y=\"%.1f\" "
                  "width=\"%.1f\" height=\"4\" fill=\"#ffffff\" stroke=\"#000000\" "
                  "stroke-width=\"0.5\"/><text x=\"%.1f\" y=\"%.1f\">0</text><text x=\"%.1f\" "
                  "y=\"%.1f\" text-anchor=\"middle\">%g %s</text></g>",
                  x0, y0, w / 2, x0 + w / 2, y0, w / 2, x0 - 3, y0 - 3, x0 + w, y0 - 3,
                  len >= 1000 ? len / 1000 : len,
                  cs_report_text(rp, len >= 1000 ? T_KM : T_METRES));
    double nx = f->w - 22, ny = 14;
    cs_buf_printf(b, "<g class=\"north\"><path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" "
                  "fill=\"#000000\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                  "text-anchor=\"middle\">%s</text></g>",
                  nx, ny + 4, nx + 7, ny + 26, nx, ny + 20, nx - 7, ny + 26, nx, ny,
                  cs_report_text(rp, T_NORTH));
}

/* The first `labels` patches of kind k numbered 1.. on a white disc at a point inside
 * each. */
static void patch_labels(const cs_reporter *rp, const frame *f, size_t k, size_t labels,
                         cs_buf *b)
{
    const cs_result *r = rp->now;
    cs_buf_add(b, "<g class=\"patch-labels\" font-size=\"11\" text-anchor=\"middle\">");
    for (size_t i = 0; r->patches && i < r->patches[k].count && i < labels; i++) {
        double x, y;
        const cs_patch *p = &r->patches[k].patches[i];
        if (!p->geom || !cs_geom_point_on(r->study->geos, p->geom, &x, &y))
            continue;
        cs_buf_printf(b, "<g data-rank=\"%zu\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" "
                      "fill=\"#ffffff\" stroke=\"#000000\" stroke-width=\"1\"/><text x=\"%.1f\" "
                      "y=\"%.1f\">%zu</text></g>",
                      i + 1, px(f, x), py(f, y), px(f, x), py(f, y) + 4, i + 1);
    }
    cs_buf_add(b, "</g>");
}

/* A suggested site: a black ring with a white centre (radius r), so it reads apart from
 * the kinds' filled markers in colour and in grey. */
static void site_ring(cs_buf *b, double x, double y, double r)
{
    cs_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.2f\" fill=\"#ffffff\" "
                  "stroke=\"#000000\" stroke-width=\"1.6\"/>", x, y, r);
}

/* Suggested sites after the first `numbered`: rings, under the street names. */
static void suggested_rings(const cs_report_sites *rs, const frame *f, size_t numbered,
                            cs_buf *b)
{
    const cs_site *site = rs->site;
    double r = MARKER_MM / 2 * f->w / (f->w > SMALL_W ? MAP_MM : SMALL_MM);
    cs_buf_add(b, "<g class=\"suggested\">");
    for (size_t p = site->P; p-- > numbered;)
        site_ring(b, px(f, site->proposals[p].x), py(f, site->proposals[p].y), r);
    cs_buf_add(b, "</g>");
}

/* The first `numbered` suggested sites as black discs numbered 1.., drawn last so they
 * stay on top. */
static void suggested_numbers(const cs_report_sites *rs, const frame *f, size_t numbered,
                              cs_buf *b)
{
    const cs_site *site = rs->site;
    cs_buf_add(b, "<g class=\"suggested-labels\" font-size=\"10\" text-anchor=\"middle\">");
    for (size_t p = site->P < numbered ? site->P : numbered; p-- > 0;) {
        double x = px(f, site->proposals[p].x), y = py(f, site->proposals[p].y);
        cs_buf_printf(b, "<g data-site=\"%zu\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" "
                      "fill=\"#000000\" stroke=\"#ffffff\" stroke-width=\"1\"/><text x=\"%.1f\" "
                      "y=\"%.1f\" fill=\"#ffffff\">%zu</text></g>", p + 1, x, y, x, y + 3.5, p + 1);
    }
    cs_buf_add(b, "</g>");
}

/* A label's box on the map: left, top, right, bottom. */
typedef struct box {
    double x0, y0, x1, y1;
} box;

static bool boxes_overlap(const box *a, const box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* The width of text at font size `size`: a Chinese character an em, others 0.6 em. */
static double text_width(const char *text, double size)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x80)
            w += 0.6 * size;
        else if (*p >= 0xC0) /* the first byte of a character */
            w += *p >= 0xE0 ? size : 0.6 * size;
    return w;
}

/*
 * Every street's name: at a point inside the street when its box overlaps no name
 * placed before (larger streets first); else at the nearest free place on rings around
 * that point, with a leader line back to it. Each text carries its box (data-box) for
 * the tests that check no two names overlap.
 */
static void street_labels(const cs_reporter *rp, const frame *f, cs_buf *b)
{
    const cs_study *s = rp->now->study;
    size_t n = s->areas.count;
    double size = f->w > SMALL_W ? 10 : 7, h = size * 1.2;
    box *placed = cs_calloc(n + 1, sizeof *placed);
    size_t *order = cs_calloc(n + 1, sizeof *order), count = 0;
    if (!placed || !order) {
        cs_free(placed);
        cs_free(order);
        b->failed = true;
        return;
    }
    for (size_t a = 0; a < n; a++) { /* larger streets first: they have room */
        size_t i = a;
        for (; i > 0 && s->areas.m2[order[i - 1]] < s->areas.m2[a]; i--)
            order[i] = order[i - 1];
        order[i] = a;
    }
    /* on a pale plate, not a stroked halo: Chromium's PDF draws stroked text as Type 3
     * glyphs */
    cs_buf_printf(b, "<g class=\"street-labels\" font-size=\"%.0f\" text-anchor=\"middle\" "
                  "fill=\"#222222\">", size);
    for (size_t i = 0; i < n; i++) {
        size_t a = order[i];
        double x, y;
        if (!s->areas.geom[a] || !cs_geom_point_on(s->geos, s->areas.geom[a], &x, &y))
            continue;
        double ax = px(f, x), ay = py(f, y), w = text_width(s->areas.name[a], size);
        box at = {ax - w / 2, ay - h / 2, ax + w / 2, ay + h / 2};
        bool free_here = false;
        /* rings of 8 directions around the point, farther each time */
        for (int ring = 0; ring <= 12 && !free_here; ring++)
            for (int d = 0; d < (ring ? 8 : 1) && !free_here; d++) {
                double angle = d * M_PI / 4, r = ring * h;
                at = (box){ax + r * cos(angle) - w / 2, ay + r * sin(angle) - h / 2,
                           ax + r * cos(angle) + w / 2, ay + r * sin(angle) + h / 2};
                free_here = true;
                for (size_t q = 0; q < count && free_here; q++)
                    free_here = !boxes_overlap(&at, &placed[q]);
            }
        if (!free_here)
            continue; /* no room within 12 lines: left out rather than overlapping */
        placed[count++] = at;
        double cx = (at.x0 + at.x1) / 2, cy = (at.y0 + at.y1) / 2;
        if (fabs(cx - ax) > 0.5 || fabs(cy - ay) > 0.5) /* moved: a leader line */
            cs_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#222222\" stroke-width=\"0.6\"/>",
                          ax, ay, cx, cy > ay ? at.y0 : at.y1);
        cs_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" "
                      "fill=\"#ffffff\" fill-opacity=\"0.8\"/>",
                      at.x0 - 1, at.y0, at.x1 - at.x0 + 2, at.y1 - at.y0);
        cs_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" data-box=\"%.1f %.1f %.1f %.1f\">", cx,
                      cy + size * 0.35, at.x0, at.y0, at.x1, at.y1);
        cs_html_text(b, s->areas.name[a]);
        cs_buf_add(b, "</text>");
    }
    cs_buf_add(b, "</g>");
    cs_free(placed);
    cs_free(order);
}

/* What a map draws on top of the shading and the facilities. */
typedef struct overlay {
    size_t patch_labels;        /* the first patches numbered */
    const cs_report_sites *rs;  /* suggested sites, or NULL */
    size_t sites_numbered;      /* the first sites numbered */
} overlay;

static void map(const cs_reporter *rp, double width, long kind, const char *cls,
                const overlay *o, cs_buf *b)
{
    frame f = fit(rp->now->study, width);
    size_t k = kind >= 0 ? (size_t)kind : rp->head_kind;
    cs_buf_printf(b, "<svg class=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f "
                  "%.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">",
                  cls, f.w, f.h, f.w, f.h);
    cs_buf_printf(b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#f7f7f7\"/>", f.w, f.h);
    areas(rp, &f, k, b);
    patches(rp, &f, k, b);
    facilities(rp, &f, kind, b);
    bool sites = o && o->rs && o->rs->site;
    if (sites)
        suggested_rings(o->rs, &f, o->sites_numbered, b);
    street_labels(rp, &f, b);
    if (o && o->patch_labels)
        patch_labels(rp, &f, k, o->patch_labels, b);
    if (sites)
        suggested_numbers(o->rs, &f, o->sites_numbered, b);
    scale_and_north(rp, &f, b);
    cs_buf_add(b, "</svg>");
}

/* The kinds the district map shows: all (-1), or with thousands of facilities only the
 * headline kind's (the small maps show each kind), so the map stays readable. */
long cs_svg_district_kinds(const cs_reporter *rp)
{
    return rp->now->study->fac.count > 1000 ? (long)rp->head_kind : -1;
}

void cs_svg_district_map(const cs_reporter *rp, cs_buf *b)
{
    map(rp, MAP_W, cs_svg_district_kinds(rp), "map district-map", NULL, b);
}

void cs_svg_kind_map(const cs_reporter *rp, size_t k, cs_buf *b)
{
    map(rp, SMALL_W, (long)k, "map kind-map", NULL, b);
}

void cs_svg_patch_map(const cs_reporter *rp, cs_buf *b)
{
    overlay o = {.patch_labels = CS_PATCHES_LISTED};
    map(rp, MAP_W, (long)rp->head_kind, "map patch-map", &o, b);
}

void cs_svg_sites_map(const cs_reporter *rp, const cs_report_sites *rs, size_t numbered,
                      cs_buf *b)
{
    overlay o = {.rs = rs, .sites_numbered = numbered};
    map(rp, MAP_W, (long)rs->kind, "map sites-map", &o, b);
}

/* The legend of a map: share classes, no residents, the facility kinds shown (kind < 0:
 * all) and the patches. */
void cs_svg_legend(const cs_reporter *rp, long kind, bool with_sites, cs_buf *b)
{
    const cs_study *s = rp->now->study;
    size_t kinds = kind < 0 ? s->settings.kind_count : 1, rows = 3 + kinds + with_sites;
    double w = 330, h = rows * LEGEND_ROW + 8;
    cs_buf_printf(b, "<svg class=\"legend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                  "%.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" font-size=\"10\">",
                  w, h, w, h);
    for (int c = 0; c < 5; c++)
        cs_buf_printf(b, "<rect x=\"%d\" y=\"2\" width=\"40\" height=\"10\" fill=\"%s\" "
                      "stroke=\"#999999\" stroke-width=\"0.3\"/><text x=\"%d\" y=\"24\" "
                      "text-anchor=\"middle\">%d%%</text>",
                      14 + 40 * c, cs_share_colours[c], 14 + 40 * c, c * 20);
    cs_buf_printf(b, "<text x=\"214\" y=\"24\" text-anchor=\"middle\">100%%</text>"
                  "<rect x=\"236\" y=\"2\" width=\"20\" height=\"10\" fill=\"#dddddd\"/>"
                  "<text x=\"260\" y=\"11\">%s</text>", cs_report_text(rp, T_NO_DATA));
    double y = 40;
    char hatch[32];
    hatch_pattern(b, hatch, sizeof hatch);
    cs_buf_printf(b, "<rect x=\"4\" y=\"%.0f\" width=\"14\" height=\"11\" fill=\"url(#%s)\" "
                  "stroke=\"%s\" stroke-width=\"1.2\"/><text x=\"24\" y=\"%.0f\">%s</text>",
                  y - 10, hatch, PATCH_COLOUR, y, cs_report_text(rp, T_UNDERSERVED));
    cs_buf_add(b, "<g stroke=\"#ffffff\" stroke-width=\"0.8\">");
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        if (kind >= 0 && (size_t)kind != k)
            continue;
        y += LEGEND_ROW;
        /* the legend is shown at its own size, 1 px = MAP_MM / MAP_W mm */
        marker(b, k, 11, y - 5, MARKER_MM / 2 * MAP_W / MAP_MM);
    }
    cs_buf_add(b, "</g>");
    y = 40;
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        if (kind >= 0 && (size_t)kind != k)
            continue;
        y += LEGEND_ROW;
        cs_buf_printf(b, "<text x=\"24\" y=\"%.0f\">", y);
        cs_html_text(b, cs_report_kind_name(rp, k));
        cs_buf_add(b, "</text>");
    }
    if (with_sites) {
        y += LEGEND_ROW;
        site_ring(b, 11, y - 5, MARKER_MM / 2 * MAP_W / MAP_MM);
        cs_buf_printf(b, "<text x=\"24\" y=\"%.0f\">%s</text>", y,
                      cs_report_text(rp, T_SITE_LEGEND));
    }
    cs_buf_add(b, "</svg>");
}

/* Horizontal bars: per street (and the district) one bar per threshold, a panel per
 * measure the kind is measured by. */
void cs_svg_coverage_chart(const cs_reporter *rp, size_t k, cs_buf *b)
{
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    size_t J = kind->threshold_count, panels = 0, rows = s->areas.count + 1;
    for (size_t m = 0; m < CS_MEASURES; m++)
        panels += r->dist_m[cs_res_field(r, m, k)] != NULL;
    double label_w = 120, panel_w = panels > 1 ? 250 : 420, bar_h = 5, row_h = J * bar_h + 6;
    double w = label_w + panels * (panel_w + 36), h = 34 + rows * row_h + 30;
    cs_buf_printf(b, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                  "%.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" font-size=\"10\">",
                  w, h, w, h);
    size_t p = 0;
    for (size_t m = 0; m < CS_MEASURES; m++) {
        if (!r->dist_m[cs_res_field(r, m, k)])
            continue;
        double x0 = label_w + p++ * (panel_w + 36);
        cs_buf_printf(b, "<text x=\"%.1f\" y=\"12\">%s</text>", x0,
                      cs_report_text(rp, m == CS_M_NETWORK  ? T_NETWORK
                                         : m == CS_M_MATRIX ? T_MATRIX
                                                            : T_STRAIGHT));
        for (int t = 0; t <= 4; t++) {
            double x = x0 + panel_w * t / 4;
            cs_buf_printf(b, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#cccccc\" "
                          "stroke-width=\"0.5\"/><text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%d%%</text>",
                          x, x, 24 + rows * row_h, x, 36 + rows * row_h, t * 25);
        }
        for (size_t a = 0; a < rows; a++) {
            double total = r->population[cs_res_pop(r, a, rp->head_band)];
            for (size_t j = 0; j < J; j++) {
                double cov = r->covered[cs_res_cov(r, m, k, j, a, rp->head_band)];
                double share = total > 0 ? cov / total : 0;
                cs_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                              "fill=\"%s\"><title>%.1f%%</title></rect>",
                              x0, 24 + a * row_h + j * bar_h, share * panel_w, bar_h - 0.5,
                              cs_share_colours[J > 1 ? 1 + (3 * j) / (J - 1) : 4], share * 100);
            }
        }
    }
    for (size_t a = 0; a < rows; a++) {
        cs_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"%s>", label_w - 6,
                      24 + a * row_h + J * bar_h / 2 + 3,
                      a == s->areas.count ? " fill=\"#000000\" font-size=\"11\"" : "");
        cs_html_text(b, a < s->areas.count ? s->areas.name[a] : cs_report_text(rp, T_DISTRICT));
        cs_buf_add(b, "</text>");
    }
    double ly = h - 10;
    for (size_t j = 0; j < J; j++) {
        double x = label_w + j * 90;
        cs_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"8\" fill=\"%s\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\">",
                      x, ly - 8, cs_share_colours[J > 1 ? 1 + (3 * j) / (J - 1) : 4], x + 14, ly);
        if (!isnan(kind->threshold_min[j]))
            cs_buf_printf(b, "%g %s", kind->threshold_min[j], cs_report_text(rp, T_MINUTES));
        else
            cs_buf_printf(b, "%g %s", kind->threshold_m[j], cs_report_text(rp, T_METRES));
        cs_buf_add(b, "</text>");
    }
    cs_buf_add(b, "</svg>");
}

/* One target's district value per year, its target as a dashed line; met years as
 * filled circles, missed ones as open circles. */
void cs_svg_trend_chart(const cs_reporter *rp, size_t t, cs_buf *b)
{
    const cs_target *tg = &rp->s->settings.targets[t];
    double w = 300, h = 130, x0 = 48, y0 = 10, pw = w - x0 - 12, ph = h - y0 - 28;
    double goal = tg->type == CS_TARGET_LOAD ? tg->at_most : tg->at_least;
    double lo = isnan(goal) ? INFINITY : goal, hi = isnan(goal) ? -INFINITY : goal;
    for (size_t i = 0; i < rp->run_count; i++) {
        const cs_target_outcome *o = &rp->runs[i].district[t];
        if (o->evaluated && isfinite(o->value)) {
            lo = fmin(lo, o->value);
            hi = fmax(hi, o->value);
        }
    }
    if (!(lo <= hi))
        lo = 0, hi = 1;
    lo = fmin(lo, 0);
    hi = hi > lo ? hi * 1.08 : lo + 1;
    cs_buf_printf(b, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                  "%.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" font-size=\"9\">"
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
                  "stroke=\"#bbbbbb\" stroke-width=\"0.5\"/>",
                  w, h, w, h, x0, y0, pw, ph);
#define TX(i) (x0 + (rp->run_count > 1 ? pw * (double)(i) / (double)(rp->run_count - 1) : pw / 2))
#define TY(v) (y0 + ph - ph * ((v) - lo) / (hi - lo))
    cs_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 3, y0 + 8);
    cs_report_value(b, tg, hi);
    cs_buf_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 3, y0 + ph);
    cs_report_value(b, tg, lo);
    cs_buf_add(b, "</text>");
    if (!isnan(goal)) {
        cs_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d55e00\" "
                      "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#d55e00\">%s ",
                      x0, TY(goal), x0 + pw, TY(goal), x0 + 3, TY(goal) - 3,
                      cs_report_text(rp, T_TARGET));
        cs_report_value(b, tg, goal);
        cs_buf_add(b, "</text>");
    }
    cs_buf_add(b, "<polyline fill=\"none\" stroke=\"#0072b2\" stroke-width=\"1.5\" points=\"");
    for (size_t i = 0; i < rp->run_count; i++) {
        const cs_target_outcome *o = &rp->runs[i].district[t];
        if (o->evaluated && isfinite(o->value))
            cs_buf_printf(b, "%.1f,%.1f ", TX(i), TY(o->value));
    }
    cs_buf_add(b, "\"/>");
    for (size_t i = 0; i < rp->run_count; i++) {
        const cs_target_outcome *o = &rp->runs[i].district[t];
        if (o->evaluated && isfinite(o->value))
            cs_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" stroke=\"#0072b2\" "
                          "fill=\"%s\"><title>%d: %.6g</title></circle>",
                          TX(i), TY(o->value), o->pass ? "#0072b2" : "#ffffff", rp->runs[i].year,
                          o->value);
        if (rp->run_count <= 12 || i % 2 == 0)
            cs_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>", TX(i),
                          y0 + ph + 12, rp->runs[i].year);
    }
#undef TX
#undef TY
    cs_buf_add(b, "</svg>");
}
