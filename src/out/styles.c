/*
 * styles.c — QGIS styles for the GeoPackage's layers, kept in the package's
 * layer_styles table (QGIS's own schema), each the layer's default, so that opening
 * careshed.gpkg in QGIS shows at once what the report's maps show:
 *
 *   areas                   graduated by the headline coverage share (YlGnBu, 5 classes),
 *                           white outlines, labelled with the street's name
 *   facilities              categorized by kind: the report's colour and marker per kind
 *   service_circles,        categorized by kind, measure and threshold, translucent,
 *   service_network         the nearest threshold darkest; the headline kind's shown
 *   facility_service_areas  categorized by kind, outlines in the kind's colour
 *   underserved             outlined in the patch colour, no fill; the headline kind's
 *                           shown (as on the report's map), the others in the legend
 *
 * The QML is put together from the small templates below; which layer gets which
 * renderer is the one table at the end (styles[]). Colours come from palette.c, the
 * table the report draws with.
 */
#include "out/out.h"
#include "out/palette.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* update_time: fixed, so that the same run writes the same bytes (as GDAL's own
 * timestamps, gpkg.h). */
#define STYLE_TIME CS_GPKG_DATE
/* Labels: a font with Chinese glyphs, which QGIS replaces by its default when absent. */
#define LABEL_FONT "Noto Sans CJK SC"

static void xml_text(cs_buf *b, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '&': cs_buf_add(b, "&amp;"); break;
        case '<': cs_buf_add(b, "&lt;"); break;
        case '>': cs_buf_add(b, "&gt;"); break;
        case '"': cs_buf_add(b, "&quot;"); break;
        default: cs_buf_addc(b, *s);
        }
}

/* "#rrggbb" as QGIS's "r,g,b,alpha". */
static void rgba(cs_buf *b, const char *hex, int alpha)
{
    unsigned r = 0, g = 0, bl = 0;
    sscanf(hex, "#%2x%2x%2x", &r, &g, &bl);
    cs_buf_printf(b, "%u,%u,%u,%d", r, g, bl, alpha);
}

static void option(cs_buf *b, const char *name, const char *value)
{
    cs_buf_printf(b, "<Option name=\"%s\" type=\"QString\" value=\"%s\"/>", name, value);
}

static void colour_option(cs_buf *b, const char *name, const char *hex, int alpha)
{
    cs_buf_printf(b, "<Option name=\"%s\" type=\"QString\" value=\"", name);
    rgba(b, hex, alpha);
    cs_buf_add(b, "\"/>");
}

/* A fill symbol named name: fill (NULL: none) with alpha, outline colour and width. */
static void fill_symbol(cs_buf *b, const char *name, const char *fill, int alpha,
                        const char *outline, const char *width_mm)
{
    cs_buf_printf(b, "<symbol type=\"fill\" name=\"%s\" alpha=\"1\" clip_to_extent=\"1\" "
                     "force_rhr=\"0\"><layer class=\"SimpleFill\" pass=\"0\" locked=\"0\" "
                     "enabled=\"1\"><Option type=\"Map\">", name);
    colour_option(b, "color", fill ? fill : "#000000", fill ? alpha : 0);
    option(b, "style", fill ? "solid" : "no");
    colour_option(b, "outline_color", outline, 255);
    option(b, "outline_style", "solid");
    option(b, "outline_width", width_mm);
    option(b, "outline_width_unit", "MM");
    option(b, "joinstyle", "round");
    cs_buf_add(b, "</Option></layer></symbol>");
}

static void line_symbol(cs_buf *b, const char *name, const char *colour, const char *width_mm)
{
    cs_buf_printf(b, "<symbol type=\"line\" name=\"%s\" alpha=\"1\" clip_to_extent=\"1\" "
                     "force_rhr=\"0\"><layer class=\"SimpleLine\" pass=\"0\" locked=\"0\" "
                     "enabled=\"1\"><Option type=\"Map\">", name);
    colour_option(b, "line_color", colour, 255);
    option(b, "line_style", "solid");
    option(b, "line_width", width_mm);
    option(b, "line_width_unit", "MM");
    option(b, "capstyle", "round");
    cs_buf_add(b, "</Option></layer></symbol>");
}

static void marker_symbol(cs_buf *b, const char *name, size_t kind)
{
    static const char *const shapes[] = {
        [CS_MARKER_CIRCLE] = "circle", [CS_MARKER_SQUARE] = "square",
        [CS_MARKER_TRIANGLE] = "triangle", [CS_MARKER_DIAMOND] = "diamond"};
    cs_buf_printf(b, "<symbol type=\"marker\" name=\"%s\" alpha=\"1\" clip_to_extent=\"1\" "
                     "force_rhr=\"0\"><layer class=\"SimpleMarker\" pass=\"0\" locked=\"0\" "
                     "enabled=\"1\"><Option type=\"Map\">", name);
    option(b, "name", shapes[cs_kind_marker(kind)]);
    colour_option(b, "color", cs_kind_colour(kind), 255);
    colour_option(b, "outline_color", "#000000", 255);
    option(b, "outline_width", "0.2");
    option(b, "outline_width_unit", "MM");
    option(b, "size", "2.6");
    option(b, "size_unit", "MM");
    cs_buf_add(b, "</Option></layer></symbol>");
}

/* A small dot without outline, for layers of many points. */
static void dot_symbol(cs_buf *b, const char *name, const char *colour)
{
    cs_buf_printf(b, "<symbol type=\"marker\" name=\"%s\" alpha=\"1\" clip_to_extent=\"1\" "
                     "force_rhr=\"0\"><layer class=\"SimpleMarker\" pass=\"0\" locked=\"0\" "
                     "enabled=\"1\"><Option type=\"Map\">", name);
    option(b, "name", "circle");
    colour_option(b, "color", colour, 255);
    option(b, "outline_style", "no");
    option(b, "size", "1.2");
    option(b, "size_unit", "MM");
    cs_buf_add(b, "</Option></layer></symbol>");
}

static void begin_qml(cs_buf *b, bool labels)
{
    cs_buf_printf(b, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
                     "<qgis version=\"3.22.16\" styleCategories=\"Symbology|Labeling\" "
                     "labelsEnabled=\"%d\">", labels ? 1 : 0);
}

static void end_qml(cs_buf *b)
{
    cs_buf_add(b, "</qgis>\n");
}

/* Street names over each street's centroid, haloed so they read on any shade. */
static void name_labels(cs_buf *b, const char *field)
{
    cs_buf_printf(b, "<labeling type=\"simple\"><settings calloutType=\"simple\">"
                     "<text-style fieldName=\"%s\" isExpression=\"0\" fontFamily=\"" LABEL_FONT
                     "\" fontSize=\"8\" fontSizeUnit=\"Point\" textColor=\"40,40,40,255\" "
                     "textOpacity=\"1\" fontWeight=\"50\" namedStyle=\"Regular\">"
                     "<text-buffer bufferDraw=\"1\" bufferSize=\"0.8\" bufferSizeUnits=\"MM\" "
                     "bufferColor=\"255,255,255,255\" bufferOpacity=\"0.8\"/></text-style>"
                     "<placement placement=\"1\" centroidInside=\"1\" centroidWhole=\"0\" "
                     "fitInPolygonOnly=\"0\" priority=\"5\"/>"
                     "<rendering obstacle=\"1\" displayAll=\"0\" drawLabels=\"1\" "
                     "scaleVisibility=\"0\" limitNumLabels=\"0\" upsidedownLabels=\"0\"/>"
                     "</settings></labeling>",
                  field);
}

typedef struct style_ctx {
    const cs_result *r;
    cs_gpkg_geometry geometry;
} style_ctx;

/* areas: graduated by the headline share. */
static void areas_qml(const style_ctx *c, cs_buf *b)
{
    const cs_study *s = c->r->study;
    cs_headline h = cs_headline_of(s);
    char column[256];
    cs_out_coverage_column(c->r, h.measure, h.kind, h.threshold, h.band, column, sizeof column);
    begin_qml(b, true);
    cs_buf_printf(b, "<renderer-v2 type=\"graduatedSymbol\" attr=\"%s\" "
                     "graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" "
                     "enableorderby=\"0\" forceraster=\"0\"><ranges>", column);
    for (int i = 0; i < CS_SHARE_CLASSES; i++) {
        /* the last class closes at 1 inclusive, QGIS's ranges being [lower, upper] */
        cs_buf_printf(b, "<range lower=\"%.1f\" upper=\"%.1f\" symbol=\"%d\" "
                         "label=\"%d–%d%%\" render=\"true\"/>",
                      (double)i / CS_SHARE_CLASSES, (double)(i + 1) / CS_SHARE_CLASSES, i,
                      100 * i / CS_SHARE_CLASSES, 100 * (i + 1) / CS_SHARE_CLASSES);
    }
    cs_buf_add(b, "</ranges><symbols>");
    for (int i = 0; i < CS_SHARE_CLASSES; i++) {
        char name[8];
        snprintf(name, sizeof name, "%d", i);
        fill_symbol(b, name, cs_share_colours[i], 255, "#ffffff", "0.3");
    }
    cs_buf_add(b, "</symbols></renderer-v2>");
    name_labels(b, "name");
    end_qml(b);
}

/* No one kind: every kind's category drawn. */
#define ALL_KINDS SIZE_MAX

/* A renderer categorised by the kind field, one category per kind: drawn when it is
 * `shown` (or shown is ALL_KINDS), else listed in the legend, unticked. */
static void kind_categories(cs_buf *b, const cs_study *s, size_t shown)
{
    cs_buf_add(b, "<renderer-v2 type=\"categorizedSymbol\" attr=\"kind\" symbollevels=\"0\" "
                  "enableorderby=\"0\" forceraster=\"0\"><categories>");
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        cs_buf_add(b, "<category value=\"");
        xml_text(b, s->settings.kinds[k].id);
        cs_buf_printf(b, "\" symbol=\"%zu\" label=\"", k);
        xml_text(b, s->settings.kinds[k].name);
        bool drawn = shown == ALL_KINDS || k == shown;
        cs_buf_printf(b, "\" render=\"%s\"/>", drawn ? "true" : "false");
    }
    cs_buf_add(b, "</categories><symbols>");
}

/* Categories of kind: each in the kind's colour and marker (or outline). */
static void by_kind_qml(const style_ctx *c, cs_buf *b)
{
    const cs_study *s = c->r->study;
    begin_qml(b, false);
    kind_categories(b, s, ALL_KINDS);
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        char name[24];
        snprintf(name, sizeof name, "%zu", k);
        if (c->geometry == CS_GPKG_POINT)
            marker_symbol(b, name, k);
        else
            fill_symbol(b, name, cs_kind_colour(k), 40, cs_kind_colour(k), "0.4");
    }
    cs_buf_add(b, "</symbols></renderer-v2>");
    end_qml(b);
}

/* Categories of kind, measure and threshold ("centre network 15min"): translucent
 * fills (or lines), the nearest threshold darkest. Only the headline's kind and measure
 * are drawn at first (the kinds overlap); the others are ticked on in the legend. */
static void by_threshold_qml(const style_ctx *c, cs_buf *b)
{
    const cs_result *r = c->r;
    const cs_study *s = r->study;
    cs_headline h = cs_headline_of(s);
    begin_qml(b, false);
    cs_buf_add(b, "<renderer-v2 type=\"categorizedSymbol\" attr=\"concat(&quot;kind&quot;, "
                  "' ', &quot;measure&quot;, ' ', &quot;threshold&quot;)\" symbollevels=\"0\" "
                  "enableorderby=\"0\" forceraster=\"0\"><categories>");
    cs_buf symbols;
    cs_buf_init(&symbols);
    size_t n = 0;
    for (size_t m = CS_M_STRAIGHT; m <= CS_M_NETWORK; m++)
        for (size_t k = 0; k < r->K; k++)
            for (size_t j = 0; j < s->settings.kinds[k].threshold_count; j++) {
                if (!r->dist_m[cs_res_field(r, m, k)] ||
                    (c->geometry == CS_GPKG_MULTILINE && m != CS_M_NETWORK))
                    continue;
                char label[32], name[24];
                cs_out_threshold_label(&s->settings.kinds[k], j, label, sizeof label);
                cs_buf_add(b, "<category value=\"");
                xml_text(b, s->settings.kinds[k].id);
                cs_buf_printf(b, " %s %s\" symbol=\"%zu\" label=\"", cs_measure_name(m), label, n);
                xml_text(b, s->settings.kinds[k].name);
                cs_buf_printf(b, " · %s · %s\" render=\"%s\"/>", cs_measure_name(m), label,
                              k == h.kind && m == h.measure ? "true" : "false");
                /* the dark end of the share scale for the nearest threshold, lighter beyond */
                size_t shade = j < CS_SHARE_CLASSES - 1 ? CS_SHARE_CLASSES - 1 - j : 1;
                snprintf(name, sizeof name, "%zu", n++);
                if (c->geometry == CS_GPKG_MULTILINE)
                    line_symbol(&symbols, name, cs_share_colours[shade], "0.5");
                else
                    fill_symbol(&symbols, name, cs_share_colours[shade], 50,
                                cs_share_colours[shade], "0.4");
            }
    cs_buf_add(b, "</categories><symbols>");
    cs_buf_addn(b, symbols.data ? symbols.data : "", symbols.len);
    if (symbols.failed)
        b->failed = true;
    cs_buf_free(&symbols);
    cs_buf_add(b, "</symbols></renderer-v2>");
    end_qml(b);
}

/* Patches: outlined in the report's patch colour, no fill, by kind; only the headline
 * kind's drawn at first, as on the report's map. */
static void patches_qml(const style_ctx *c, cs_buf *b)
{
    const cs_study *s = c->r->study;
    cs_headline h = cs_headline_of(s);
    begin_qml(b, false);
    kind_categories(b, s, h.kind);
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        char name[24];
        snprintf(name, sizeof name, "%zu", k);
        fill_symbol(b, name, NULL, 0, CS_PATCH_COLOUR, "0.5");
    }
    cs_buf_add(b, "</symbols></renderer-v2>");
    end_qml(b);
}

cs_status cs_out_demand_qml(const cs_result *r, cs_buf *b)
{
    const cs_study *s = r->study;
    cs_headline h = cs_headline_of(s);
    const cs_kind *kind = &s->settings.kinds[h.kind];
    char column[192], thr[32];
    cs_out_demand_within_column(r, h.measure, h.kind, h.threshold, column, sizeof column);
    cs_out_threshold_label(kind, h.threshold, thr, sizeof thr);
    begin_qml(b, false);
    /* categories of an expression: QGIS reads the column as a boolean */
    cs_buf_printf(b, "<renderer-v2 type=\"categorizedSymbol\" attr=\"if(&quot;%s&quot;, 1, 0)\" "
                     "symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><categories>",
                  column);
    static const char *const sign[2] = {">", "≤"};
    for (int covered = 1; covered >= 0; covered--) {
        cs_buf_printf(b, "<category value=\"%d\" symbol=\"%d\" label=\"", covered, covered);
        xml_text(b, kind->name);
        cs_buf_printf(b, " %s %s (%s)\" render=\"true\"/>", sign[covered], thr,
                      cs_measure_name(h.measure));
    }
    cs_buf_add(b, "</categories><symbols>");
    dot_symbol(b, "0", CS_PATCH_COLOUR);
    dot_symbol(b, "1", "#333333"); /* dark grey: reads on every shade of the streets */
    cs_buf_add(b, "</symbols></renderer-v2>");
    end_qml(b);
    return b->failed ? CS_ERR_NOMEM : CS_OK;
}

static const struct {
    const char *layer;
    void (*qml)(const style_ctx *c, cs_buf *b);
    const char *description;
} styles[] = {
    {"areas", areas_qml, "streets shaded by the headline coverage share"},
    {"facilities", by_kind_qml, "facilities by kind, as in the report"},
    {"service_circles", by_threshold_qml, "service areas by threshold"},
    {"service_network", by_threshold_qml, "reached streets by threshold"},
    {"facility_service_areas", by_kind_qml, "each facility's service area, by kind"},
    {"underserved", patches_qml, "under-served patches, outlined, by kind"},
};

/* The layer_styles table, as QGIS makes it. */
static const struct {
    const char *name;
    cs_field_type type;
} columns[] = {
    {"f_table_catalog", CS_FIELD_TEXT}, {"f_table_schema", CS_FIELD_TEXT},
    {"f_table_name", CS_FIELD_TEXT},    {"f_geometry_column", CS_FIELD_TEXT},
    {"styleName", CS_FIELD_TEXT},       {"styleQML", CS_FIELD_TEXT},
    {"styleSLD", CS_FIELD_TEXT},        {"useAsDefault", CS_FIELD_BOOL},
    {"description", CS_FIELD_TEXT},     {"owner", CS_FIELD_TEXT},
    {"ui", CS_FIELD_TEXT},              {"update_time", CS_FIELD_DATETIME},
};
enum { CATALOG, SCHEMA, TABLE, GEOMETRY, NAME, QML, SLD, DEFAULT, DESCRIPTION, OWNER, UI, TIME };

static cs_status style_row(cs_context *ctx, cs_gpkg_layer *l, const int *field,
                           const char *layer, const char *description, const char *qml)
{
    cs_gpkg_feature_begin(l);
    cs_gpkg_set_text(l, field[CATALOG], "");
    cs_gpkg_set_text(l, field[SCHEMA], "");
    cs_gpkg_set_text(l, field[TABLE], layer);
    cs_gpkg_set_text(l, field[GEOMETRY], "geom");
    cs_gpkg_set_text(l, field[NAME], layer);
    cs_gpkg_set_text(l, field[QML], qml);
    cs_gpkg_set_text(l, field[SLD], "");
    cs_gpkg_set_number(l, field[DEFAULT], 1);
    cs_gpkg_set_text(l, field[DESCRIPTION], description);
    cs_gpkg_set_text(l, field[OWNER], "careshed");
    cs_gpkg_set_text(l, field[UI], "");
    cs_gpkg_set_text(l, field[TIME], STYLE_TIME);
    return cs_gpkg_feature_end(ctx, l);
}

cs_status cs_out_styles(cs_context *ctx, const cs_result *r, cs_gpkg *g,
                        const char *const *layers, const cs_gpkg_geometry *geometries,
                        size_t n)
{
    cs_gpkg_layer *l = NULL;
    cs_status st = cs_gpkg_layer_create(ctx, g, "layer_styles", CS_GPKG_NONE, &l);
    int field[sizeof columns / sizeof columns[0]];
    for (size_t i = 0; st == CS_OK && i < sizeof columns / sizeof columns[0]; i++)
        if ((field[i] = cs_gpkg_field(l, columns[i].name, columns[i].type)) < 0)
            st = cs_error(ctx, CS_ERR_OUTPUT, NULL, NULL,
                          "the GeoPackage's layer_styles cannot be made");
    cs_buf qml;
    cs_buf_init(&qml);
    for (size_t i = 0; st == CS_OK && i < n; i++)
        for (size_t k = 0; st == CS_OK && k < sizeof styles / sizeof styles[0]; k++) {
            if (strcmp(styles[k].layer, layers[i]))
                continue;
            style_ctx c = {r, geometries[i]};
            cs_buf_clear(&qml);
            styles[k].qml(&c, &qml);
            st = qml.failed ? cs_nomem(ctx)
                            : style_row(ctx, l, field, layers[i], styles[k].description, qml.data);
        }
    cs_buf_free(&qml);
    return st;
}
