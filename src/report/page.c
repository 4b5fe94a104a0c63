/*
 * page.c — cs_report_write: the report's page, section by section, from the runs of
 * every year (report/years.c), in Chinese or English. Every number shown comes from
 * the same results as summary.json; the headline table also carries each value
 * unrounded (data-value) so a reader, or a test, can check it against the summary.
 */
#include "cover/patch.h"
#include "out/files.h"
#include "out/palette.h"
#include "report/report.h"

#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Print-friendly: A4 pages, nothing split across a page break, no fonts fetched. */
static const char css[] =
    "@page{size:A4;margin:14mm}"
    /* Fonts with TrueType outlines first (DejaVu Sans for Latin and digits, WenQuanYi
     * Micro Hei for Chinese), and no synthetic bold: Chromium's PDF embeds those as
     * CID TrueType fonts, but draws a CFF font (Noto Sans CJK) or a synthesised bold
     * as Type 3 glyphs, which archives and print shops refuse. Elsewhere the system's
     * Chinese font is used. */
    "body{font-family:'DejaVu Sans','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',"
    "'Noto Sans CJK SC','Source Han Sans SC',sans-serif;font-synthesis:none;color:#222;"
    "max-width:180mm;margin:0 auto;font-size:10.5pt;line-height:1.45}"
    /* no bold at all, so that Latin and Chinese words of a heading match (the Chinese
     * font has no bold of its own); headings stand out by size and colour */
    "h1,h2,h3,th,b,strong,.pass,.fail,svg text{font-weight:normal}h1,h2{color:#123}"
    "h1{font-size:18pt;margin:0 0 2mm}h2{font-size:13pt;border-bottom:1px solid #999;"
    "margin-top:8mm;break-after:avoid}h3{font-size:11pt;break-after:avoid}"
    ".sub{color:#555;margin:0 0 4mm}"
    "table{border-collapse:collapse;width:100%;margin:2mm 0 4mm;font-size:9pt}"
    "th,td{border:1px solid #bbb;padding:1mm 1.5mm;text-align:left;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right;white-space:nowrap}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    ".st{white-space:nowrap}.pass{color:#0b6e4f}.fail{color:#b2182b}"
    "figure{margin:2mm 0 5mm;break-inside:avoid}figcaption{font-size:9pt;color:#444}"
    "svg{max-width:100%;height:auto;display:block}"
    ".maps{display:flex;flex-wrap:wrap;gap:4mm}.maps figure{width:86mm}"
    "#summary p{font-size:11.5pt}.summary-map{width:86mm}"
    ".trends{display:flex;flex-wrap:wrap;gap:3mm}.trends figure{width:86mm}"
    "code{font-size:8.5pt;word-break:break-all}"
    "@media print{h2{break-before:auto}.map-section{break-before:page}"
    ".map-section h3{break-before:page}#summary{break-after:page}}";

void cs_html_text(cs_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': cs_buf_add(b, "&lt;"); break;
        case '>': cs_buf_add(b, "&gt;"); break;
        case '&': cs_buf_add(b, "&amp;"); break;
        case '"': cs_buf_add(b, "&quot;"); break;
        default: cs_buf_addc(b, *s);
        }
    }
}

void cs_html_number(cs_buf *b, double v, int decimals)
{
    if (isfinite(v))
        cs_buf_add_grouped(b, v, decimals);
    else
        cs_buf_add(b, "—");
}

void cs_html_share(cs_buf *b, double share)
{
    if (isfinite(share))
        cs_buf_printf(b, "%.1f%%", share * 100);
    else
        cs_buf_add(b, "—");
}

static const char *tx(const cs_reporter *rp, cs_text id)
{
    return cs_report_text(rp, id);
}

const char *cs_report_kind_name(const cs_reporter *rp, size_t k)
{
    const cs_kind *kind = &rp->s->settings.kinds[k];
    return rp->lang == CS_LANG_EN && kind->name_en ? kind->name_en : kind->name;
}

const char *cs_report_target_name(const cs_reporter *rp, size_t t)
{
    const cs_target *tg = &rp->s->settings.targets[t];
    return rp->lang == CS_LANG_EN && tg->name_en ? tg->name_en : tg->name;
}

/* Whether a target's values are shares (shown as percentages). */
static bool is_share(const cs_target *tg)
{
    return tg->type == CS_TARGET_COVERAGE || tg->type == CS_TARGET_CAPACITY_SHARE ||
           tg->type == CS_TARGET_LOAD ||
           (tg->type == CS_TARGET_CAPACITY_PER_POP && tg->per == 1);
}

void cs_report_value(cs_buf *b, const cs_target *tg, double v)
{
    if (is_share(tg))
        cs_html_share(b, v);
    else
        cs_html_number(b, v, fabs(v) < 100 && v != floor(v) ? 2 : 0);
}

static const cs_target_outcome *district_outcome(const cs_result *r, size_t t)
{
    return &r->outcomes[cs_res_target(r, t, r->A)];
}

/* The change of target t's value since the previous year, else the baseline. */
static double target_change(const cs_reporter *rp, size_t t)
{
    const cs_target_outcome *now = district_outcome(rp->now, t);
    if (rp->base) {
        for (size_t i = 0; i < rp->base->target_count; i++)
            if (!strcmp(rp->base->target_id[i], rp->s->settings.targets[t].id))
                return now->value - rp->base->target_value[i];
        return NAN;
    }
    if (!rp->prev)
        return NAN;
    const cs_target_outcome *before = district_outcome(rp->prev, t);
    return before->evaluated && now->evaluated ? now->value - before->value : NAN;
}

/* The sign of v as shown with `decimals` decimals: 0 when it rounds to zero there, so
 * that no change is shown (or coloured) where the figures shown do not differ. */
static int shown_sign(double v, int decimals)
{
    double half = pow(10, -decimals) / 2;
    return v >= half ? 1 : v <= -half ? -1 : 0;
}

static const char *sign_text(int sign)
{
    return sign > 0 ? "+" : sign < 0 ? "−" : "±";
}

static void headline(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    if (rp->s->settings.target_count == 0) {
        cs_buf_printf(b, "<section id=\"headline\"><h2>%s</h2><p>%s</p></section>",
                      tx(rp, T_HEADLINE), tx(rp, T_NO_TARGETS));
        return;
    }
    cs_buf_printf(b, "<section id=\"headline\"><h2>%s</h2><table class=\"headline\"><thead><tr>"
                  "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                  "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s "
                  "(%s)</th></tr></thead><tbody>",
                  tx(rp, T_HEADLINE), tx(rp, T_INDICATOR), tx(rp, T_VALUE), tx(rp, T_TARGET),
                  tx(rp, T_STATUS), tx(rp, T_GAP), tx(rp, T_CHANGE),
                  tx(rp, rp->base ? T_SINCE_BASELINE : T_SINCE_PREVIOUS));
    for (size_t t = 0; t < rp->s->settings.target_count; t++) {
        const cs_target *tg = &rp->s->settings.targets[t];
        const cs_target_outcome *o = district_outcome(rp->now, t);
        cs_buf_printf(b, "<tr data-target=\"");
        cs_html_text(b, tg->id);
        cs_buf_printf(b, "\" data-value=\"%.17g\" data-pass=\"%d\"><th scope=\"row\">",
                      o->evaluated ? o->value : NAN, o->pass);
        cs_html_text(b, cs_report_target_name(rp, t));
        cs_buf_add(b, "</th><td class=\"n\">");
        if (o->evaluated)
            cs_report_value(b, tg, o->value);
        else
            cs_buf_add(b, "—");
        cs_buf_printf(b, "</td><td class=\"n\">%s ",
                      tx(rp, tg->type == CS_TARGET_LOAD ? T_AT_MOST : T_AT_LEAST));
        cs_report_value(b, tg, tg->type == CS_TARGET_LOAD ? tg->at_most : tg->at_least);
        cs_buf_printf(b, "</td><td class=\"st %s\">%s</td><td>",
                      !o->evaluated ? "" : o->pass ? "pass" : "fail",
                      tx(rp, !o->evaluated ? T_NOT_EVALUATED : o->pass ? T_PASS : T_FAIL));
        if (o->evaluated && !o->pass)
            cs_html_text(b, cs_res_gap_text(rp->now, t, rp->now->A, rp->lang));
        cs_buf_add(b, "</td><td class=\"n\">");
        double change = target_change(rp, t);
        if (isfinite(change)) {
            double shown = is_share(tg) ? change * 100 : change; /* pp, or the unit */
            int decimals = is_share(tg) ? 1 : fabs(change) < 100 && change != floor(change) ? 2 : 0;
            int sign = shown_sign(shown, decimals);
            cs_buf_add(b, sign_text(sign));
            if (is_share(tg))
                cs_buf_printf(b, "%.1f %s", sign ? fabs(shown) : 0.0, tx(rp, T_PP));
            else
                cs_html_number(b, sign ? fabs(shown) : 0.0, sign ? decimals : 0);
        } else {
            cs_buf_add(b, "—");
        }
        cs_buf_add(b, "</td></tr>");
    }
    cs_buf_add(b, "</tbody></table></section>");
}

/* Every target's district value in every year, and a small chart per target. */
static void trend(cs_reporter *rp)
{
    if (rp->run_count < 2 || rp->s->settings.target_count == 0)
        return;
    cs_buf *b = rp->out;
    cs_buf_printf(b, "<section id=\"trend\"><h2>%s</h2><table class=\"trend\"><thead><tr>"
                  "<th scope=\"col\">%s</th>", tx(rp, T_TREND), tx(rp, T_INDICATOR));
    for (size_t i = 0; i < rp->run_count; i++)
        cs_buf_printf(b, "<th scope=\"col\">%d</th>", rp->runs[i].year);
    cs_buf_printf(b, "<th scope=\"col\">%s</th></tr></thead><tbody>", tx(rp, T_TARGET));
    for (size_t t = 0; t < rp->s->settings.target_count; t++) {
        const cs_target *tg = &rp->s->settings.targets[t];
        cs_buf_add(b, "<tr><th scope=\"row\">");
        cs_html_text(b, cs_report_target_name(rp, t));
        cs_buf_add(b, "</th>");
        for (size_t i = 0; i < rp->run_count; i++) {
            const cs_target_outcome *o = &rp->runs[i].district[t];
            cs_buf_printf(b, "<td class=\"n %s\" data-year=\"%d\" data-target=\"",
                          o->evaluated ? (o->pass ? "pass" : "fail") : "", rp->runs[i].year);
            cs_html_text(b, tg->id);
            cs_buf_printf(b, "\" data-value=\"%.17g\">", o->evaluated ? o->value : NAN);
            if (o->evaluated)
                cs_report_value(b, tg, o->value);
            else
                cs_buf_add(b, "—");
            cs_buf_add(b, "</td>");
        }
        cs_buf_printf(b, "<td class=\"n\">%s ", tx(rp, tg->type == CS_TARGET_LOAD ? T_AT_MOST
                                                                                    : T_AT_LEAST));
        cs_report_value(b, tg, tg->type == CS_TARGET_LOAD ? tg->at_most : tg->at_least);
        cs_buf_add(b, "</td></tr>");
    }
    if (!isnan(rp->s->dem.year)) { /* which population each year was measured against */
        cs_buf_printf(b, "<tr><th scope=\"row\">%s</th>", tx(rp, T_POP_YEAR));
        for (size_t i = 0; i < rp->run_count; i++)
            cs_buf_printf(b, "<td class=\"n\">%.0f</td>", rp->runs[i].pop_year);
        cs_buf_add(b, "<td></td></tr>");
    }
    cs_buf_add(b, "</tbody></table><div class=\"trends\">");
    for (size_t t = 0; t < rp->s->settings.target_count; t++) {
        cs_buf_add(b, "<figure>");
        cs_svg_trend_chart(rp, t, b);
        cs_buf_add(b, "<figcaption>");
        cs_html_text(b, cs_report_target_name(rp, t));
        cs_buf_add(b, "</figcaption></figure>");
    }
    cs_buf_add(b, "</div></section>");
}

/* The facilities of a year's study, or of the baseline run. */
typedef struct fac_source {
    const cs_study *s; /* NULL: the baseline's */
    const cs_baseline *base;
} fac_source;

static size_t source_count(const fac_source *src)
{
    return src->s ? src->s->fac.count : src->base->fac_count;
}

/* Facility i's id, name, kind and street. */
static void source_row(const cs_reporter *rp, const fac_source *src, size_t i,
                       const char *cell[4])
{
    const cs_study *s = src->s;
    if (!s) {
        const cs_baseline *b = src->base;
        cell[0] = b->fac_id[i], cell[1] = b->fac_name[i], cell[2] = b->fac_kind[i];
        cell[3] = b->fac_street[i];
        return;
    }
    cell[0] = s->fac.id[i];
    cell[1] = s->fac.name[i];
    cell[2] = cs_report_kind_name(rp, (size_t)s->fac.kind[i]);
    cell[3] = s->fac.area[i] >= 0 ? s->areas.name[s->fac.area[i]] : "";
}

/* The facilities of `in` that `notin` lacks (by id): opened, or closed. */
static void facility_list(cs_reporter *rp, const fac_source *in, const fac_source *notin,
                          cs_text title)
{
    cs_buf *b = rp->out;
    cs_buf_printf(b, "<h3>%s</h3>", tx(rp, title));
    cs_idmap other = {0};
    for (size_t g = 0; g < source_count(notin); g++) {
        const char *cell[4];
        source_row(rp, notin, g, cell);
        if (cs_idmap_put(&other, cell[0], (long)g) == -2)
            b->failed = true; /* out of memory: the page is not written */
    }
    size_t n = 0;
    for (size_t f = 0; f < source_count(in) && !b->failed; f++) {
        const char *cell[4];
        source_row(rp, in, f, cell);
        if (cs_idmap_get(&other, cell[0]) >= 0)
            continue;
        if (n++ == 0)
            cs_buf_printf(b, "<table class=\"facility-changes\"><thead><tr><th scope=\"col\">id"
                          "</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                          "<th scope=\"col\">%s</th></tr></thead><tbody>",
                          tx(rp, T_NAME), tx(rp, T_KIND), tx(rp, T_STREET));
        for (int i = 0; i < 4; i++) {
            cs_buf_add(b, i ? "</td><td>" : "<tr><td>");
            cs_html_text(b, cell[i]);
        }
        cs_buf_add(b, "</td></tr>");
    }
    cs_idmap_free(&other);
    cs_buf_printf(b, n ? "</tbody></table>" : "<p>%s</p>", tx(rp, T_NONE));
}

/* The headline coverage of street a before (previous year or baseline); NaN unknown. */
static double share_before(const cs_reporter *rp, size_t k, size_t a)
{
    if (rp->base) { /* areas.csv's last row is the district's */
        const char *id = a < rp->s->areas.count ? rp->s->areas.id[a] : "district";
        for (size_t i = 0; k == rp->head_kind && i < rp->base->area_count; i++)
            if (!strcmp(rp->base->area_id[i], id))
                return rp->base->area_share[i];
        return NAN;
    }
    return rp->prev ? cs_report_share(rp, rp->prev, k, a) : NAN;
}

static void changes(cs_reporter *rp)
{
    if (!rp->prev && !rp->base)
        return;
    cs_buf *b = rp->out;
    const cs_study *s = rp->s;
    cs_buf_printf(b, "<section id=\"changes\"><h2>%s (%s)</h2>", tx(rp, T_CHANGES),
                  tx(rp, rp->base ? T_SINCE_BASELINE : T_SINCE_PREVIOUS));
    fac_source now = {rp->now->study, NULL};
    fac_source before = rp->base ? (fac_source){NULL, rp->base} : (fac_source){rp->prev->study,
                                                                               NULL};
    if (!rp->base || rp->base->has_facilities) {
        facility_list(rp, &now, &before, T_NEW_FACILITIES);
        facility_list(rp, &before, &now, T_CLOSED_FACILITIES);
    }
    size_t kinds = rp->base ? 1 : s->settings.kind_count;
    cs_buf_printf(b, "<h3>%s</h3><table class=\"coverage-changes\"><thead><tr><th scope=\"col\">"
                  "%s</th>", tx(rp, T_COVERAGE_CHANGE), tx(rp, T_STREET));
    for (size_t q = 0; q < kinds; q++) {
        cs_buf_add(b, "<th scope=\"col\">");
        cs_html_text(b, cs_report_kind_name(rp, rp->base ? rp->head_kind : q));
        cs_buf_add(b, "</th>");
    }
    cs_buf_add(b, "</tr></thead><tbody>");
    for (size_t a = 0; a <= s->areas.count; a++) {
        cs_buf_add(b, "<tr><th scope=\"row\">");
        cs_html_text(b, a < s->areas.count ? s->areas.name[a] : tx(rp, T_DISTRICT));
        cs_buf_add(b, "</th>");
        for (size_t q = 0; q < kinds; q++) {
            size_t k = rp->base ? rp->head_kind : q;
            double pp = (cs_report_share(rp, rp->now, k, a) - share_before(rp, k, a)) * 100;
            int sign = isfinite(pp) ? shown_sign(pp, 1) : 0;
            cs_buf_printf(b, "<td class=\"n%s\">", sign > 0 ? " pass" : sign < 0 ? " fail" : "");
            if (isfinite(pp))
                cs_buf_printf(b, "%s%.1f", sign_text(sign), sign ? fabs(pp) : 0.0);
            else
                cs_buf_add(b, "—");
            cs_buf_add(b, "</td>");
        }
        cs_buf_add(b, "</tr>");
    }
    cs_buf_add(b, "</tbody></table></section>");
}

/* What a map of kind k shades: "社区综合为老服务中心，步行路网，15 分钟，60+", as
 * cs_report_share measures it (the headline's threshold and measure for its kind, else
 * the largest threshold by the kind's main measure). */
void cs_report_map_shows(const cs_reporter *rp, size_t k, cs_buf *b)
{
    const cs_kind *kind = &rp->s->settings.kinds[k];
    bool head = k == rp->head_kind;
    size_t m = head ? rp->head_measure : cs_res_main(rp->now, k);
    size_t j = head ? rp->head_threshold : kind->threshold_count - 1;
    const char *sep = rp->lang == CS_LANG_ZH ? "，" : ", ";
    cs_html_text(b, cs_report_kind_name(rp, k));
    cs_buf_printf(b, "%s%s%s", sep,
                  tx(rp, m == CS_M_NETWORK ? T_NETWORK : m == CS_M_MATRIX ? T_MATRIX : T_STRAIGHT),
                  sep);
    if (j < kind->threshold_count)
        cs_buf_printf(b, "%g %s%s",
                      isnan(kind->threshold_min[j]) ? kind->threshold_m[j] : kind->threshold_min[j],
                      tx(rp, isnan(kind->threshold_min[j]) ? T_METRES : T_MINUTES), sep);
    cs_html_text(b, rp->s->settings.band_names[rp->head_band]);
}

void cs_report_map_caption(const cs_reporter *rp, size_t k, cs_buf *b)
{
    bool zh = rp->lang == CS_LANG_ZH;
    cs_buf_printf(b, "%s%s", tx(rp, T_MAP_CAPTION), zh ? "（" : " (");
    cs_report_map_shows(rp, k, b);
    cs_buf_add(b, zh ? "）" : ")");
}

static void maps(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->now->study;
    cs_buf_printf(b, "<section id=\"maps\" class=\"map-section\"><h2>%s</h2><figure>",
                  tx(rp, T_MAP));
    cs_svg_district_map(rp, b);
    cs_svg_legend(rp, cs_svg_district_kinds(rp), false, b);
    cs_buf_add(b, "<figcaption>");
    cs_report_map_caption(rp, rp->head_kind, b);
    cs_buf_add(b, tx(rp, T_END));
    if (cs_svg_district_kinds(rp) >= 0)
        cs_buf_printf(b, "%s%s", tx(rp, T_ONLY_HEAD), tx(rp, T_END));
    cs_buf_printf(b, "%s%s</figcaption></figure><h3>%s</h3><div class=\"maps\">",
                  tx(rp, T_NETWORK_NOTE), tx(rp, T_END), tx(rp, T_KIND_MAPS));
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        cs_buf_add(b, "<figure>");
        cs_svg_kind_map(rp, k, b);
        cs_svg_legend(rp, (long)k, false, b);
        cs_buf_add(b, "<figcaption>");
        cs_report_map_shows(rp, k, b);
        if (rp->now->fac_count[cs_res_count(rp->now, k, rp->now->A)] == 0)
            cs_buf_printf(b, " — %s", tx(rp, T_NO_FACILITIES));
        cs_buf_add(b, "</figcaption></figure>");
    }
    cs_buf_add(b, "</div></section>");
}

static void charts(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->now->study;
    cs_buf_printf(b, "<section id=\"charts\"><h2>%s</h2>", tx(rp, T_CHARTS));
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        if (s->settings.kinds[k].threshold_count == 0)
            continue;
        cs_buf_add(b, "<figure>");
        cs_svg_coverage_chart(rp, k, b);
        cs_buf_add(b, "<figcaption>");
        cs_html_text(b, cs_report_kind_name(rp, k));
        bool zh = rp->lang == CS_LANG_ZH;
        cs_buf_printf(b, "%s%s%s", zh ? "：" : ": ", tx(rp, T_CHARTS_CAPTION), zh ? "（" : " (");
        cs_html_text(b, s->settings.band_names[rp->head_band]);
        cs_buf_printf(b, "%s</figcaption></figure>", zh ? "）" : ")");
    }
    cs_buf_add(b, "</section>");
}

static void streets(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    cs_buf_printf(b, "<section id=\"streets\"><h2>%s</h2><table class=\"streets\"><thead><tr>"
                  "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">",
                  tx(rp, T_STREETS), tx(rp, T_STREET), tx(rp, T_POPULATION));
    cs_html_text(b, s->settings.band_names[rp->head_band]);
    cs_buf_add(b, "</th>");
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        cs_buf_add(b, "<th scope=\"col\">");
        cs_html_text(b, cs_report_kind_name(rp, k));
        cs_buf_printf(b, ": %s / %s</th>", tx(rp, T_FACILITIES), tx(rp, T_COVERAGE_SHARE));
    }
    cs_buf_add(b, "</tr></thead><tbody>");
    for (size_t a = 0; a <= s->areas.count; a++) {
        cs_buf_add(b, "<tr><th scope=\"row\">");
        cs_html_text(b, a < s->areas.count ? s->areas.name[a] : tx(rp, T_DISTRICT));
        cs_buf_add(b, "</th><td class=\"n\">");
        cs_html_number(b, r->population[cs_res_pop(r, a, 0)], 0);
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_number(b, r->population[cs_res_pop(r, a, rp->head_band)], 0);
        cs_buf_add(b, "</td>");
        for (size_t k = 0; k < s->settings.kind_count; k++) {
            cs_buf_add(b, "<td class=\"n\">");
            cs_html_number(b, r->fac_count[cs_res_count(r, k, a)], 0);
            cs_buf_add(b, " / ");
            cs_html_share(b, cs_report_share(rp, r, k, a));
            cs_buf_add(b, "</td>");
        }
        cs_buf_add(b, "</tr>");
    }
    cs_buf_add(b, "</tbody></table></section>");
}

/* How many targets street a misses. */
static size_t missed_count(const cs_result *r, size_t a)
{
    size_t n = 0;
    for (size_t t = 0; t < r->study->settings.target_count; t++) {
        const cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
        n += o->evaluated && !o->pass;
    }
    return n;
}

/* Whether street a is worse off than street c: more targets missed, then less covered. */
static bool worse(const cs_reporter *rp, size_t a, size_t c)
{
    size_t ma = missed_count(rp->now, a), mc = missed_count(rp->now, c);
    if (ma != mc)
        return ma > mc;
    double sa = cs_report_share(rp, rp->now, rp->head_kind, a);
    double sc = cs_report_share(rp, rp->now, rp->head_kind, c);
    return (isnan(sc) && !isnan(sa)) || sa < sc;
}

/* Insert item into the ranked list[0..n), before every item it comes before (by
 * before(rp, item, other)); returns n + 1. */
static size_t insert_ranked(const cs_reporter *rp, size_t *list, size_t n, size_t item,
                            bool (*before)(const cs_reporter *, size_t, size_t))
{
    size_t i = n;
    for (; i > 0 && before(rp, item, list[i - 1]); i--)
        list[i] = list[i - 1];
    list[i] = item;
    return n + 1;
}

/* The streets that miss a target, worst first, into order (room for every street);
 * their count. */
static size_t streets_behind(const cs_reporter *rp, size_t *order)
{
    size_t n = 0;
    for (size_t a = 0; a < rp->now->A; a++)
        if (missed_count(rp->now, a))
            n = insert_ranked(rp, order, n, a, worse);
    return n;
}

/* Where the district falls short: each street's missed targets and by how much, the
 * streets worst first. */
static void street_misses(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    size_t *order = cs_calloc(s->areas.count + 1, sizeof *order);
    if (!order) {
        b->failed = true;
        return;
    }
    size_t n = streets_behind(rp, order);
    cs_buf_printf(b, "<section id=\"misses\"><h2>%s</h2><p class=\"sub\">%s</p>",
                  tx(rp, T_MISSES), tx(rp, T_MISSES_NOTE));
    if (n == 0)
        cs_buf_printf(b, "<p>%s</p>", tx(rp, T_NONE));
    else
        cs_buf_printf(b, "<table class=\"misses\"><thead><tr><th scope=\"col\">%s</th>"
                      "<th scope=\"col\">%s</th><th scope=\"col\">%s / %s</th></tr></thead>"
                      "<tbody>", tx(rp, T_STREET), tx(rp, T_MISSED), tx(rp, T_INDICATOR),
                      tx(rp, T_GAP));
    for (size_t i = 0; i < n; i++) {
        size_t a = order[i];
        cs_buf_add(b, "<tr data-area=\"");
        cs_html_text(b, s->areas.id[a]);
        cs_buf_add(b, "\" data-missed=\"");
        const char *sep = "";
        for (size_t t = 0; t < s->settings.target_count; t++) {
            const cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
            if (o->evaluated && !o->pass) {
                cs_buf_add(b, sep);
                cs_html_text(b, s->settings.targets[t].id);
                sep = ",";
            }
        }
        cs_buf_add(b, "\"><th scope=\"row\">");
        cs_html_text(b, s->areas.name[a]);
        cs_buf_printf(b, "</th><td class=\"n\">%zu</td><td>", missed_count(r, a));
        sep = "";
        for (size_t t = 0; t < s->settings.target_count; t++) {
            const cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
            if (!o->evaluated || o->pass)
                continue;
            cs_buf_add(b, sep);
            cs_html_text(b, cs_report_target_name(rp, t));
            cs_buf_add(b, rp->lang == CS_LANG_ZH ? "：" : ": ");
            const char *gap = cs_res_gap_text(r, t, a, rp->lang);
            cs_html_text(b, gap ? gap : "");
            sep = "<br>";
        }
        cs_buf_add(b, "</td></tr>");
    }
    cs_buf_add(b, n ? "</tbody></table></section>" : "</section>");
    cs_free(order);
}

/* The headline kind's largest under-served patches: numbered on a map, and a table of
 * their residents not covered, area, streets and nearest facility (as summary.json). */
static void largest_patches(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    const cs_patch_set *ps = r->patches ? &r->patches[rp->head_kind] : NULL;
    cs_buf_printf(b, "<section id=\"patches\"><h2>%s</h2><p class=\"sub\">%s</p>",
                  tx(rp, T_PATCHES), tx(rp, T_PATCHES_NOTE));
    if (!ps || ps->count == 0) {
        cs_buf_printf(b, "<p>%s</p></section>", tx(rp, T_NONE));
        return;
    }
    cs_buf_add(b, "<figure>");
    cs_svg_patch_map(rp, b);
    cs_buf_add(b, "<figcaption>");
    cs_html_text(b, cs_report_kind_name(rp, rp->head_kind));
    cs_buf_add(b, rp->lang == CS_LANG_ZH ? "；" : "; ");
    cs_html_text(b, s->settings.band_names[s->settings.patch_band]);
    cs_buf_printf(b, "</figcaption></figure><table class=\"patches\"><thead><tr>"
                  "<th scope=\"col\">%s</th><th scope=\"col\">%s (",
                  tx(rp, T_RANK), tx(rp, T_NOT_COVERED));
    cs_html_text(b, s->settings.band_names[s->settings.patch_band]);
    cs_buf_printf(b, ")</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                  "<th scope=\"col\">%s</th></tr></thead><tbody>",
                  tx(rp, T_AREA_KM2), tx(rp, T_STREET), tx(rp, T_NEAREST_M));
    for (size_t i = 0; i < ps->count && i < CS_PATCHES_LISTED; i++) {
        const cs_patch *p = &ps->patches[i];
        cs_buf_printf(b, "<tr data-rank=\"%zu\"><td class=\"n\">%zu</td><td class=\"n\">", i + 1,
                      i + 1);
        cs_html_number(b, p->uncovered, 0);
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_number(b, p->area_m2 / 1e6, 2);
        cs_buf_add(b, "</td><td>");
        for (size_t j = 0; j < p->area_count; j++) {
            cs_buf_add(b, j ? (rp->lang == CS_LANG_ZH ? "、" : ", ") : "");
            cs_html_text(b, s->areas.name[p->areas[j]]);
        }
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_number(b, p->nearest_m, 0);
        cs_buf_add(b, "</td></tr>");
    }
    cs_buf_add(b, "</tbody></table></section>");
}

/* What an input file is for, in the report's language. */
static const char *role_text(const cs_reporter *rp, const char *role)
{
    static const struct {
        const char *role;
        cs_text text;
    } roles[] = {{"areas", T_ROLE_AREAS},         {"facilities", T_ROLE_FACILITIES},
                 {"population", T_ROLE_POPULATION}, {"network", T_ROLE_NETWORK},
                 {"costs", T_ROLE_COSTS},          {"landuse", T_ROLE_LANDUSE}};
    for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
        if (!strcmp(role, roles[i].role))
            return tx(rp, roles[i].text);
    return role;
}

/* Where the residents' positions come from (cs_demand's source), in words. */
static const char *population_source_text(const cs_reporter *rp, const char *source)
{
    return !strcmp(source, "polygons")      ? tx(rp, T_POP_POLYGONS)
           : !strcmp(source, "grid")        ? tx(rp, T_POP_GRID)
           : !strcmp(source, "area totals") ? tx(rp, T_POP_TOTALS)
                                            : tx(rp, T_POP_POINTS);
}

/* "121.411°E" */
static void add_longitude(cs_buf *b, double lon)
{
    cs_buf_printf(b, "%g°%s", fabs(lon), lon < 0 ? "W" : "E");
}

/*
 * The working CRS in words: careshed's own centred transverse Mercator ("+proj=tmerc
 * +lon_0=121.411 ... +datum=WGS84") as "横轴墨卡托投影，中央经线 121.411°E（WGS84）", a
 * Gauss-Krüger or UTM CRS by its zone, any other by the name PROJ gives it. The
 * definition itself is kept in the cell's title.
 */
static void crs_in_words(const cs_reporter *rp, const char *crs, cs_buf *b)
{
    bool zh = rp->lang == CS_LANG_ZH;
    const char *comma = zh ? "，" : ", ";
    const char *lon = strstr(crs, "+lon_0="), *datum = strstr(crs, "+datum=");
    if (strstr(crs, "+proj=tmerc") && lon) {
        cs_buf_printf(b, "%s%s%s ", tx(rp, T_TMERC), comma, tx(rp, T_CENTRAL_MERIDIAN));
        add_longitude(b, atof(lon + 7));
        if (datum)
            cs_buf_printf(b, zh ? "（%.*s）" : " (%.*s)", (int)strcspn(datum + 7, " "),
                          datum + 7);
        return;
    }
    PJ *pj = proj_create(rp->ctx->proj, crs);
    const char *name = pj ? proj_get_name(pj) : NULL;
    const char *slash = name ? strstr(name, " / ") : NULL;
    int degrees = 0, zone = 0, cm = 0;
    char hemisphere = 0;
    if (slash && sscanf(slash, " / %d-degree Gauss-Kruger CM %dE", &degrees, &cm) == 2) {
        cs_buf_printf(b, "%.*s ", (int)(slash - name), name);
        cs_buf_printf(b, tx(rp, T_GAUSS_KRUGER), degrees);
        cs_buf_printf(b, "%s%s ", comma, tx(rp, T_CENTRAL_MERIDIAN));
        add_longitude(b, cm);
    } else if (slash && sscanf(slash, " / UTM zone %d%c", &zone, &hemisphere) == 2) {
        cs_buf_printf(b, "%.*s ", (int)(slash - name), name);
        cs_buf_printf(b, tx(rp, T_UTM_ZONE), zone,
                      tx(rp, hemisphere == 'S' ? T_SOUTHERN : T_NORTHERN));
    } else {
        cs_html_text(b, name ? name : crs);
    }
    proj_destroy(pj);
}

static void source_rows(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->s;
    for (size_t i = 0; i < s->input_count; i++) {
        const cs_input *in = &s->inputs[i];
        for (size_t f = 0; f < in->file_count; f++) {
            struct stat st;
            char date[32] = "—", hex[65] = "";
            if (stat(in->files[f], &st) == 0) {
                struct tm tm;
                gmtime_r(&st.st_mtime, &tm);
                strftime(date, sizeof date, "%Y-%m-%d", &tm);
            }
            /* a file gone since it was read is shown without a checksum, not an error */
            if (access(in->files[f], R_OK) != 0 ||
                cs_sha256_file(rp->ctx, in->files[f], hex) != CS_OK)
                snprintf(hex, sizeof hex, "—");
            cs_buf_add(b, "<tr><td>");
            cs_html_text(b, role_text(rp, in->role));
            cs_buf_add(b, "</td><td><code>");
            cs_html_text(b, in->files[f]);
            cs_buf_printf(b, "</code></td><td class=\"n\">%zu</td><td>", in->features);
            cs_html_text(b, in->crs);
            cs_buf_printf(b, "</td><td>%s</td><td><code>%s</code></td></tr>", date, hex);
        }
    }
}

static void methods(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->s;
    cs_buf_printf(b, "<section id=\"methods\"><h2>%s</h2><h3>%s</h3><table class=\"sources\">"
                  "<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                  "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                  "<th scope=\"col\">%s</th></tr></thead><tbody>",
                  tx(rp, T_METHODS), tx(rp, T_SOURCES), tx(rp, T_ROLE), tx(rp, T_FILE),
                  tx(rp, T_FEATURES), tx(rp, T_CRS), tx(rp, T_MODIFIED), tx(rp, T_SHA256));
    source_rows(rp);
    cs_buf_printf(b, "</tbody></table><h3>%s</h3><table class=\"settings\"><tbody>",
                  tx(rp, T_SETTINGS));
    cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td title=\"", tx(rp, T_WORKING_CRS));
    cs_html_text(b, s->settings.crs);
    cs_buf_add(b, "\">");
    cs_buf words;
    cs_buf_init(&words);
    crs_in_words(rp, s->settings.crs, &words);
    cs_html_text(b, words.data ? words.data : "");
    cs_buf_free(&words);
    cs_buf_printf(b, "</td></tr><tr><th scope=\"row\">%s</th><td>%g %s</td></tr>",
                  tx(rp, T_SPEED), s->settings.walk_speed_kmh, tx(rp, T_KMH));
    for (size_t k = 0; k < s->settings.kind_count; k++) {
        const cs_kind *kind = &s->settings.kinds[k];
        cs_buf_add(b, "<tr><th scope=\"row\">");
        cs_html_text(b, cs_report_kind_name(rp, k));
        cs_buf_printf(b, "</th><td>%s: ", tx(rp, T_THRESHOLDS));
        for (size_t j = 0; j < kind->threshold_count; j++)
            cs_buf_printf(b, "%s%g %s", j ? ", " : "",
                          isnan(kind->threshold_min[j]) ? kind->threshold_m[j]
                                                        : kind->threshold_min[j],
                          tx(rp, isnan(kind->threshold_min[j]) ? T_METRES : T_MINUTES));
        cs_buf_printf(b, " (%g %s); %s: ", kind->walk_speed_kmh, tx(rp, T_KMH),
                      tx(rp, T_MEASURES));
        const char *sep = "";
        for (size_t m = 0; m < CS_MEASURES; m++)
            if (kind->measures & cs_measure_bit(m)) {
                cs_buf_printf(b, "%s%s", sep, tx(rp, m == CS_M_NETWORK  ? T_NETWORK
                                                      : m == CS_M_MATRIX ? T_MATRIX
                                                                         : T_STRAIGHT));
                sep = ", ";
            }
        cs_buf_add(b, "</td></tr>");
    }
    cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td>%s%s%s</td></tr>", tx(rp, T_POP_SOURCE),
                  population_source_text(rp, s->dem.source), s->dem.estimated ? "; " : "",
                  s->dem.estimated ? tx(rp, T_ESTIMATED) : "");
    if (!isnan(rp->now->study->dem.year))
        cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td>%.0f</td></tr>", tx(rp, T_POP_YEAR),
                      rp->now->study->dem.year);
    cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td>%g %s%s%s</td></tr>",
                  tx(rp, T_PATCH_GRID), s->settings.patch_cell_m, tx(rp, T_METRES),
                  rp->lang == CS_LANG_ZH ? "，" : ", ",
                  tx(rp, s->settings.patch_hex ? T_GRID_HEX : T_GRID_SQUARE));
    cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td>", tx(rp, T_LEFT_OUT));
    cs_html_number(b, s->dem.dropped_pop, 0);
    cs_buf_add(b, "</td></tr>");
    if (rp->opt->command) {
        cs_buf_printf(b, "<tr><th scope=\"row\">%s</th><td><code>", tx(rp, T_REPRODUCE));
        cs_html_text(b, rp->opt->command);
        cs_buf_add(b, "</code></td></tr>");
    }
    cs_buf_printf(b, "</tbody></table><p>careshed %s</p></section>", CARESHED_VERSION);
}

/* The kind and band of the headline coverage: the first coverage target's. */
/* The headline, as the GeoPackage's street style shades it (out/palette.c). */
static void choose_headline(cs_reporter *rp)
{
    cs_headline h = cs_headline_of(rp->s);
    rp->head_kind = h.kind;
    rp->head_band = h.band;
    rp->head_threshold = h.threshold;
    rp->head_measure = h.measure;
}

/* How far target t's district value is from its target, as a share of the target (0
 * when met): the measure the summary ranks gaps by, whatever their units. */
static double shortfall(const cs_reporter *rp, size_t t)
{
    const cs_target *tg = &rp->s->settings.targets[t];
    const cs_target_outcome *o = district_outcome(rp->now, t);
    if (!o->evaluated || o->pass)
        return 0;
    if (tg->type == CS_TARGET_LOAD)
        return tg->at_most > 0 ? o->value / tg->at_most - 1 : 0;
    return tg->at_least > 0 ? 1 - o->value / tg->at_least : 0;
}

static bool larger_shortfall(const cs_reporter *rp, size_t t, size_t u)
{
    return shortfall(rp, t) > shortfall(rp, u);
}

/* Page 1 for a director: the year, the targets met, the three largest gaps in the
 * plan's units, the streets furthest behind, the change in the headline coverage, and
 * a small map. */
static void summary(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->s;
    const cs_result *r = rp->now;
    size_t T = s->settings.target_count, met = 0, failed = 0;
    for (size_t t = 0; t < T; t++) {
        const cs_target_outcome *o = district_outcome(r, t);
        met += o->evaluated && o->pass;
        failed += o->evaluated && !o->pass;
    }
    cs_buf_printf(b, "<section id=\"summary\"><h2>%s</h2><p data-met=\"%zu\" "
                  "data-failed=\"%zu\">", tx(rp, T_SUMMARY), met, failed);
    char year[32] = "";
    int y = rp->runs[rp->run_count - 1].year;
    if (y)
        snprintf(year, sizeof year, rp->lang == CS_LANG_ZH ? "%d 年，" : "In %d: ", y);
    cs_buf_printf(b, tx(rp, T_SUMMARY_MET), year, met + failed, met, failed);
    /* the three largest gaps, by how far each falls short of its target, and the three
     * streets furthest behind (the first of the misses table) */
    size_t *gaps = cs_calloc(T + 1, sizeof *gaps), n = 0, m = 0;
    size_t *behind = cs_calloc(s->areas.count + 1, sizeof *behind);
    if (!gaps || !behind) {
        b->failed = true;
        cs_free(gaps);
        cs_free(behind);
        return;
    }
    for (size_t t = 0; t < T; t++)
        if (shortfall(rp, t) > 0)
            n = insert_ranked(rp, gaps, n, t, larger_shortfall);
    n = n < 3 ? n : 3;
    m = streets_behind(rp, behind);
    m = m < 3 ? m : 3;
    if (n) {
        cs_buf_printf(b, "</p><p class=\"gaps\">%s", tx(rp, T_SUMMARY_GAPS));
        for (size_t i = 0; i < n; i++) {
            cs_buf_printf(b, "%s<span data-target=\"", i ? tx(rp, T_LIST_SEP) : "");
            cs_html_text(b, s->settings.targets[gaps[i]].id);
            cs_buf_add(b, "\">");
            cs_html_text(b, cs_report_target_name(rp, gaps[i]));
            cs_buf_add(b, rp->lang == CS_LANG_ZH ? "：" : ": ");
            const char *gap = cs_res_gap_text(r, gaps[i], r->A, rp->lang);
            cs_html_text(b, gap ? gap : "");
            cs_buf_add(b, "</span>");
        }
        cs_buf_add(b, tx(rp, T_END));
    }
    if (m) {
        cs_buf_printf(b, "</p><p class=\"behind\">%s", tx(rp, T_SUMMARY_BEHIND));
        for (size_t i = 0; i < m; i++) {
            cs_buf_printf(b, "%s<span data-area=\"", i ? (rp->lang == CS_LANG_ZH ? "、" : ", ")
                                                        : "");
            cs_html_text(b, s->areas.id[behind[i]]);
            cs_buf_add(b, "\">");
            cs_html_text(b, s->areas.name[behind[i]]);
            cs_buf_printf(b, tx(rp, T_SUMMARY_MISSED_N), missed_count(r, behind[i]));
            cs_buf_add(b, "</span>");
        }
        cs_buf_add(b, tx(rp, T_END));
    }
    cs_free(gaps);
    cs_free(behind);
    /* the headline coverage now, and its change */
    double share = cs_report_share(rp, r, rp->head_kind, r->A);
    double before = share_before(rp, rp->head_kind, r->A);
    cs_buf_add(b, "</p><p class=\"coverage\">");
    cs_buf head;
    cs_buf_init(&head);
    cs_html_share(&head, share);
    cs_buf_printf(b, tx(rp, T_SUMMARY_CHANGE), cs_report_kind_name(rp, rp->head_kind),
                  s->settings.band_names[rp->head_band], head.data ? head.data : "");
    cs_buf_free(&head);
    double pp = (share - before) * 100;
    if (isfinite(pp)) {
        int sign = shown_sign(pp, 1);
        cs_buf_printf(b, "%s%s %s%.1f %s", rp->lang == CS_LANG_ZH ? "，" : ", ",
                      tx(rp, rp->base ? T_SINCE_BASELINE : T_SINCE_PREVIOUS), sign_text(sign),
                      sign ? fabs(pp) : 0.0, tx(rp, T_PP));
    }
    cs_buf_printf(b, "%s</p>", tx(rp, T_END));
    /* what the suggested sites would close */
    for (size_t i = 0; i < rp->sites_count; i++) {
        if (!cs_report_sites_chosen(&rp->sites[i]))
            continue;
        cs_buf_printf(b, "<p class=\"sites\" data-kind=\"%s\">",
                      s->settings.kinds[rp->sites[i].kind].id);
        cs_report_sites_sentence(rp, &rp->sites[i], b);
        cs_buf_add(b, "</p>");
    }
    cs_buf_add(b, "<figure class=\"summary-map\">");
    cs_svg_kind_map(rp, rp->head_kind, b);
    cs_svg_legend(rp, (long)rp->head_kind, false, b);
    cs_buf_add(b, "<figcaption>");
    cs_report_map_caption(rp, rp->head_kind, b);
    cs_buf_add(b, "</figcaption></figure></section>");
}

static void page(cs_reporter *rp)
{
    cs_buf *b = rp->out;
    const cs_study *s = rp->s;
    char generated[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(generated, sizeof generated, "%Y-%m-%d", &tm);
    cs_buf_printf(b, "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>", rp->lang == CS_LANG_ZH ? "zh-CN" : "en");
    cs_html_text(b, s->settings.name);
    cs_buf_printf(b, " — %s</title><style>%s</style></head><body><header><h1>", tx(rp, T_TITLE),
                  css);
    cs_html_text(b, s->settings.name);
    int year = rp->runs[rp->run_count - 1].year;
    if (year)
        cs_buf_printf(b, " %d", year);
    cs_buf_printf(b, " · %s</h1><p class=\"sub\">%s · %s %s</p></header>", tx(rp, T_TITLE),
                  tx(rp, T_SUBTITLE), tx(rp, T_GENERATED), generated);
    if (s->settings.target_count)
        summary(rp);
    headline(rp);
    trend(rp);
    changes(rp);
    street_misses(rp); /* where the plan falls short, next to how far */
    maps(rp);
    charts(rp);
    streets(rp);
    largest_patches(rp);
    cs_report_sites_section(rp, b);
    methods(rp);
    cs_buf_add(b, "</body></html>\n");
}

static cs_status write_file(cs_context *ctx, const char *path, const cs_buf *b)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? cs_malloc((size_t)(slash - path) + 2) : cs_strdup(".");
    if (!dir)
        return cs_nomem(ctx);
    if (slash) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if (!dir[0])
            strcpy(dir, "/");
    }
    cs_outset *set = NULL;
    cs_status st = cs_outset_begin(ctx, dir, &set);
    if (st == CS_OK)
        st = cs_outset_add(ctx, set, slash ? slash + 1 : path, b->data, b->len);
    if (st == CS_OK)
        st = cs_outset_commit(ctx, set);
    cs_outset_destroy(set);
    cs_free(dir);
    return st;
}

cs_status cs_report_write(cs_context *ctx, const cs_study *study, const cs_report_options *opt,
                          const char *path)
{
    if (!ctx || !study || !opt || !path || !*path)
        return CS_ERR_ARGUMENT;
    cs_status checked = cs_output_path_check(ctx, path); /* an input, a folder, a device */
    if (checked != CS_OK)
        return checked;
    if (path[strlen(path) - 1] == '/') {
        cs_where w = {.file = path};
        return cs_error(ctx, CS_ERR_OUTPUT, &w, "give the report a file name, e.g. "
                        "out/report.html", "is a folder");
    }
    if (opt->lang && strcmp(opt->lang, "zh") != 0 && strcmp(opt->lang, "en") != 0)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, "use --lang zh or --lang en",
                        "unknown report language '%s'", opt->lang);
    cs_buf out;
    cs_buf_init(&out);
    cs_reporter rp = {.ctx = ctx, .s = study, .opt = opt, .out = &out};
    rp.lang = opt->lang ? (!strcmp(opt->lang, "en") ? CS_LANG_EN : CS_LANG_ZH)
                        : cs_study_lang(study);
    choose_headline(&rp);
    double t0 = cs_stage_begin();
    cs_status st = cs_report_runs(&rp);
    cs_stage_end(ctx, "report runs", t0);
    if (st == CS_OK && opt->baseline)
        st = cs_baseline_read(ctx, opt->baseline, &rp, &rp.base);
    if (st == CS_OK)
        st = cs_report_suggest(&rp);
    t0 = cs_stage_begin();
    if (st == CS_OK)
        page(&rp);
    if (st == CS_OK && (out.failed || !out.data))
        st = cs_nomem(ctx);
    if (st == CS_OK)
        st = write_file(ctx, path, &out);
    cs_stage_end(ctx, "report page", t0);
    cs_baseline_free(rp.base);
    cs_report_suggest_free(&rp);
    cs_report_runs_free(&rp);
    cs_buf_free(&out);
    return st;
}
