/*
 * sites.c — the report's suggested sites: for each kind with a coverage target that is
 * not met, the sites `careshed site --suggest` would choose (report.suggest: as many as
 * the target needs by set covering, or the best N by maximal covering), a map and a
 * table of what each adds, and the sentence of page 1. They are marked as suggestions
 * for planners to check on the ground.
 */
#include "report/report.h"
#include "site/site.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Rows of the table; the rest are summed in one row (the map shows them all). */
#define SITES_LISTED 15

/* Kind k's first coverage target measured by the kind's main measure, or -1. */
static long coverage_target(const cs_study *s, size_t k)
{
    for (size_t t = 0; t < s->settings.target_count; t++) {
        const cs_target *tg = &s->settings.targets[t];
        if (tg->type == CS_TARGET_COVERAGE && tg->kind == (long)k &&
            tg->measure == s->settings.kinds[k].main_measure)
            return (long)t;
    }
    return -1;
}

/* Streets missing target t: now (after = false) or with the suggested sites. */
static size_t streets_short(const cs_result *r, const cs_report_sites *rs, size_t t, bool after)
{
    const cs_target_outcome *o =
        after && rs->site ? rs->site->effects[rs->site->P].after : r->outcomes;
    size_t n = 0;
    for (size_t a = 0; a < r->A; a++) {
        const cs_target_outcome *x = &o[cs_res_target(r, t, a)];
        n += x->evaluated && !x->pass;
    }
    return n;
}

/* Choose kind k's sites for target t, as `careshed site` would with the same options. */
static cs_status suggest_for(cs_reporter *rp, size_t k, size_t t, cs_report_sites *rs)
{
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    const cs_target *tg = &s->settings.targets[t];
    const cs_kind *kind = &s->settings.kinds[k];
    long want = s->settings.report_suggest;
    const cs_target_outcome *now = &r->outcomes[cs_res_target(r, t, r->A)];
    *rs = (cs_report_sites){.kind = k, .target = t, .before = now->value, .after = now->value};
    rs->met = now->evaluated && now->pass;
    rs->short_before = rs->short_after = streets_short(r, rs, t, false);
    if (rs->met || !now->evaluated)
        return CS_OK;
    cs_suggest_options opt = {.kind = kind->id,
                              .k = want == CS_SUGGEST_TARGET ? 0 : (size_t)want,
                              .within_min = NAN,
                              .reach_share = want == CS_SUGGEST_TARGET ? tg->at_least : NAN,
                              .within_m = kind->threshold_m[tg->threshold],
                              .band = s->settings.band_names[tg->band]};
    cs_status st = cs_site_suggest(rp->ctx, r, &opt, &rs->site, &rs->rep);
    if (st == CS_OK && rs->site) {
        rs->after = rs->site->effects[rs->site->P].after[cs_res_target(r, t, r->A)].value;
        rs->short_after = streets_short(r, rs, t, true);
    }
    return st;
}

cs_status cs_report_suggest(cs_reporter *rp)
{
    const cs_study *s = rp->now->study;
    if (s->settings.report_suggest == 0)
        return CS_OK;
    rp->sites = cs_calloc(s->settings.kind_count + 1, sizeof *rp->sites);
    if (!rp->sites)
        return cs_nomem(rp->ctx);
    double t0 = cs_stage_begin();
    cs_status st = CS_OK;
    for (size_t k = 0; st == CS_OK && k < s->settings.kind_count; k++) {
        long t = coverage_target(s, k);
        if (t >= 0)
            st = suggest_for(rp, k, (size_t)t, &rp->sites[rp->sites_count++]);
    }
    cs_stage_end(rp->ctx, "report suggest", t0);
    return st;
}

void cs_report_suggest_free(cs_reporter *rp)
{
    for (size_t i = 0; i < rp->sites_count; i++)
        cs_site_destroy(rp->sites[i].site);
    cs_free(rp->sites);
    rp->sites = NULL;
    rp->sites_count = 0;
}

size_t cs_report_sites_chosen(const cs_report_sites *rs)
{
    return rs->site ? rs->site->P : 0;
}

/* "kind: N sites would lift <target> from a to b" in the report's language. */
void cs_report_sites_sentence(const cs_reporter *rp, const cs_report_sites *rs, cs_buf *b)
{
    const cs_target *tg = &rp->s->settings.targets[rs->target];
    cs_buf from, to;
    cs_buf_init(&from);
    cs_buf_init(&to);
    cs_report_value(&from, tg, rs->before);
    cs_report_value(&to, tg, rs->after);
    size_t n = cs_report_sites_chosen(rs);
    cs_buf_printf(b, cs_report_text(rp, n == 1 ? T_SITES_SENTENCE_1 : T_SITES_SENTENCE),
                  cs_report_kind_name(rp, rs->kind), n,
                  cs_report_target_name(rp, rs->target), from.data ? from.data : "",
                  to.data ? to.data : "");
    cs_buf_free(&from);
    cs_buf_free(&to);
}

/* How the sites were chosen, what kept them from reaching the target, and what still
 * falls short. */
static void limits(const cs_reporter *rp, const cs_report_sites *rs, cs_buf *b)
{
    const cs_target *tg = &rp->s->settings.targets[rs->target];
    long want = rp->s->settings.report_suggest;
    cs_buf_printf(b, cs_report_text(rp, want == CS_SUGGEST_TARGET ? T_SITES_BY_TARGET
                                                                  : T_SITES_BY_COUNT), want);
    if (want == CS_SUGGEST_TARGET && rs->after < tg->at_least)
        cs_buf_add(b, cs_report_text(rp, T_SITES_UNREACHABLE));
    if (tg->scope == CS_SCOPE_AREA && rs->short_after > 0)
        cs_buf_printf(b, cs_report_text(rp, T_SITES_STREETS_SHORT), rs->short_before,
                      rs->short_after);
}

/* One row per listed site: its street, position, residents it adds and the coverage
 * after it and those before it; the rest in one row. */
static void table(const cs_reporter *rp, const cs_report_sites *rs, cs_buf *b)
{
    const cs_result *r = rp->now;
    const cs_study *s = r->study;
    const cs_target *tg = &s->settings.targets[rs->target];
    const cs_site *site = rs->site;
    size_t m = cs_measure_index(tg->measure), band = (size_t)tg->band;
    double pop = r->population[cs_res_pop(r, r->A, band)];
    double covered = r->covered[cs_res_cov(r, m, rs->kind, (size_t)tg->threshold, r->A, band)];
    bool zh = rp->lang == CS_LANG_ZH;
    cs_buf_printf(b, "<table class=\"sites\" data-kind=\"%s\"><thead><tr><th scope=\"col\">%s"
                  "</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">"
                  "%s%s", s->settings.kinds[rs->kind].id, cs_report_text(rp, T_RANK),
                  cs_report_text(rp, T_STREET), cs_report_text(rp, T_POSITION),
                  cs_report_text(rp, T_NEWLY_COVERED), zh ? "（" : " (");
    cs_html_text(b, s->settings.band_names[band]);
    cs_buf_printf(b, "%s</th><th scope=\"col\">%s</th></tr></thead><tbody>", zh ? "）" : ")",
                  cs_report_text(rp, T_COVERAGE_AFTER));
    double rest = 0;
    for (size_t p = 0; p < site->P; p++) {
        const cs_proposal *pr = &site->proposals[p];
        covered += site->gain[p];
        if (p >= SITES_LISTED) {
            rest += site->gain[p];
            continue;
        }
        cs_buf_printf(b, "<tr data-site=\"%zu\" data-gain=\"%.17g\" data-lon=\"%.6f\" "
                      "data-lat=\"%.6f\"><td class=\"n\">%zu</td><td>", p + 1, site->gain[p],
                      pr->lon, pr->lat, p + 1);
        cs_html_text(b, pr->area >= 0 ? s->areas.name[pr->area] : "—");
        cs_buf_printf(b, "</td><td class=\"n\">%.5f, %.5f</td><td class=\"n\">", pr->lon, pr->lat);
        cs_html_number(b, site->gain[p], 0);
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_share(b, pop > 0 ? covered / pop : NAN);
        cs_buf_add(b, "</td></tr>");
    }
    if (site->P > SITES_LISTED) {
        cs_buf_printf(b, "<tr class=\"rest\"><td></td><td colspan=\"2\">");
        cs_buf_printf(b, cs_report_text(rp, T_SITES_REST), site->P - SITES_LISTED);
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_number(b, rest, 0);
        cs_buf_add(b, "</td><td class=\"n\">");
        cs_html_share(b, pop > 0 ? covered / pop : NAN);
        cs_buf_add(b, "</td></tr>");
    }
    cs_buf_add(b, "</tbody></table>");
}

static void kind_sites(const cs_reporter *rp, const cs_report_sites *rs, cs_buf *b)
{
    const cs_study *s = rp->s;
    cs_buf_add(b, "<h3>");
    cs_html_text(b, cs_report_kind_name(rp, rs->kind));
    cs_buf_printf(b, "</h3><p data-kind=\"%s\" data-sites=\"%zu\" data-before=\"%.17g\" "
                  "data-after=\"%.17g\">", s->settings.kinds[rs->kind].id,
                  cs_report_sites_chosen(rs), rs->before, rs->after);
    if (rs->met) {
        cs_buf_printf(b, cs_report_text(rp, T_SITES_MET), cs_report_target_name(rp, rs->target));
        cs_buf_add(b, "</p>");
        return;
    }
    if (!rs->site) {
        cs_buf_printf(b, cs_report_text(rp, T_SITES_NONE), rs->rep.candidates);
        cs_buf_add(b, "</p>");
        return;
    }
    cs_report_sites_sentence(rp, rs, b);
    limits(rp, rs, b);
    cs_buf_add(b, "</p>");
    table(rp, rs, b);
    cs_buf_add(b, "<figure>");
    cs_svg_sites_map(rp, rs, SITES_LISTED, b);
    cs_svg_legend(rp, (long)rs->kind, true, b);
    cs_buf_add(b, "<figcaption>");
    cs_report_map_caption(rp, rs->kind, b);
    cs_buf_add(b, "</figcaption></figure>");
}

void cs_report_sites_section(const cs_reporter *rp, cs_buf *b)
{
    if (rp->sites_count == 0)
        return;
    cs_buf_printf(b, "<section id=\"sites\"><h2>%s</h2><p class=\"note\">%s</p>",
                  cs_report_text(rp, T_SITES), cs_report_text(rp, T_SITES_NOTE));
    for (size_t i = 0; i < rp->sites_count; i++)
        kind_sites(rp, &rp->sites[i], b);
    cs_buf_add(b, "</section>");
}
