/*
 * targets.c — every target evaluated for the district and every area: the indicator's
 * value, pass or fail, and the gap in the user's own units ("3,120 more residents aged
 * 65+ need a centre within 15 minutes", "short of 420 meals/day", "31 more centres").
 *
 * Ratio targets (coverage, capacity per population, capacity share) make sense at any
 * scale, so they are evaluated everywhere; absolute ones (count, capacity) only at the
 * scope they are set for. A target set for every area ("scope: area") is met by the
 * district when every area meets it, and its district gap is the sum of the areas'.
 */
#include "plan/plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Tolerance for comparing a value with its target (shares and ratios). */
#define CS_TARGET_EPS 1e-9

typedef struct measure {
    bool evaluated;
    double value, gap; /* gap in the target's units: residents, facilities, capacity */
} measure;

static double sum_capacity(const cs_result *r, const cs_target *t, size_t a, long c)
{
    double total = 0;
    for (size_t k = 0; k < r->K; k++)
        if (t->kind < 0 || (size_t)t->kind == k)
            total += r->fac_cap[cs_res_cap(r, k, a, (size_t)c)];
    return total;
}

/* The highest load ratio among the kind's facilities in scope a (every facility for the
 * district), and the capacity missing to bring each one down to at_most. */
static measure load_at(const cs_result *r, const cs_target *t, size_t a)
{
    const cs_study *s = r->study;
    measure m = {false, NAN, 0};
    for (size_t f = 0; f < s->fac.count; f++) {
        if (s->fac.kind[f] != t->kind || (a < r->A && s->fac.area[f] != (long)a))
            continue;
        double cap = 0, use = 0;
        cs_res_load(r, f, &use, &cap);
        double ratio = cap > 0 ? use / cap : (use > 0 ? INFINITY : 0);
        if (!m.evaluated || ratio > m.value)
            m.value = ratio;
        m.evaluated = true;
        if (use - t->at_most * cap > CS_TARGET_EPS)
            m.gap += use / t->at_most - cap;
    }
    return m;
}

/* The target's indicator at one scope a (an area, or r->A for the district). */
static measure measure_at(const cs_result *r, const cs_target *t, size_t a)
{
    measure m = {true, NAN, 0};
    double need;
    switch (t->type) {
    case CS_TARGET_COVERAGE: {
        double total = r->population[cs_res_pop(r, a, (size_t)t->band)];
        double covered = r->covered[cs_res_cov(r, cs_measure_index(t->measure), (size_t)t->kind,
                                               (size_t)t->threshold, a, (size_t)t->band)];
        if (!(total > 0)) { /* nobody of the band lives here: nothing to measure */
            m.evaluated = false;
            break;
        }
        m.value = covered / total;
        /* whole people: round the shortfall up, past rounding noise in the sums */
        need = ceil(t->at_least * total - covered - CS_TARGET_EPS * fmax(1, total));
        m.gap = need > 0 ? need : 0;
        break;
    }
    case CS_TARGET_COUNT:
        m.value = r->fac_count[cs_res_count(r, (size_t)t->kind, a)];
        need = ceil(t->at_least - CS_TARGET_EPS) - m.value;
        m.gap = need > 0 ? need : 0;
        break;
    case CS_TARGET_CAPACITY:
        m.value = sum_capacity(r, t, a, t->capacity);
        m.gap = t->at_least - m.value > CS_TARGET_EPS ? t->at_least - m.value : 0;
        break;
    case CS_TARGET_CAPACITY_PER_POP: {
        double pop = r->population[cs_res_pop(r, a, (size_t)t->band)];
        double cap = sum_capacity(r, t, a, t->capacity);
        if (!(pop > 0)) {
            m.evaluated = false;
            break;
        }
        m.value = cap / (pop / t->per);
        need = t->at_least * pop / t->per - cap;
        m.gap = need > CS_TARGET_EPS ? need : 0;
        break;
    }
    case CS_TARGET_ACCESSIBILITY: {
        const cs_kind *k = &r->study->settings.kinds[t->kind];
        double pop = r->population[cs_res_pop(r, a, (size_t)k->load_band)];
        m.value = r->access_mean[cs_res_count(r, (size_t)t->kind, a)];
        if (!(pop > 0) || isnan(m.value)) {
            m.evaluated = false;
            break;
        }
        /* the capacity within reach that would lift the mean to the target: the mean
         * times the band's population is the capacity it reaches (2SFCA conserves it) */
        need = (t->at_least - m.value) * pop / k->access_per;
        m.gap = need > CS_TARGET_EPS ? need : 0;
        break;
    }
    case CS_TARGET_LOAD:
        m = load_at(r, t, a);
        break;
    case CS_TARGET_CAPACITY_SHARE: {
        double part = sum_capacity(r, t, a, t->capacity);
        double whole = sum_capacity(r, t, a, t->capacity_of);
        m.value = whole > 0 ? part / whole : NAN;
        /* more of `capacity` within the same whole, e.g. beds converted to nursing beds */
        need = t->at_least * whole - part;
        m.gap = need > CS_TARGET_EPS ? need : 0;
        break;
    }
    }
    return m;
}

static bool is_absolute(const cs_target *t)
{
    return t->type == CS_TARGET_COUNT || t->type == CS_TARGET_CAPACITY;
}

static void band_phrase(cs_buf *b, const cs_study *s, const cs_target *t)
{
    if (t->band == 0)
        cs_buf_add(b, "residents");
    else
        cs_buf_printf(b, "residents aged %s", s->settings.band_names[t->band]);
}

static const char *kind_label(const cs_kind *k)
{
    return k->name_en ? k->name_en : k->name;
}

/* " for 40 per 1,000 " */
static void per_phrase(cs_buf *b, double value, double per)
{
    cs_buf_printf(b, " for %g per ", value);
    cs_buf_add_grouped(b, per, per == floor(per) ? 0 : 2);
    cs_buf_add(b, " ");
}

/* The capacity a capacity-type target counts. */
static const cs_capacity *target_capacity(const cs_result *r, const cs_target *t)
{
    const cs_study *s = r->study;
    const cs_kind *k = t->kind >= 0 ? &s->settings.kinds[t->kind] : NULL;
    long cap_id = t->type == CS_TARGET_ACCESSIBILITY || t->type == CS_TARGET_LOAD
                      ? k->load_capacity
                      : t->capacity;
    return &s->settings.capacities[cap_id];
}

/* A shortfall of capacity, rounded up so that a small one never reads 0. */
static void add_shortfall(cs_buf *b, double gap)
{
    bool whole = gap == floor(gap) || gap >= 100;
    double v = whole ? ceil(gap) : ceil(gap * 10) / 10;
    cs_buf_add_grouped(b, v, v == floor(v) ? 0 : 1); /* 6, not 6.0 */
}

/* "short of 240 meals/day (供餐能力) for 5% of residents aged 65+" and the like. */
static void capacity_gap_text(cs_buf *b, const cs_result *r, const cs_target *t, double gap)
{
    const cs_study *s = r->study;
    const cs_kind *k = t->kind >= 0 ? &s->settings.kinds[t->kind] : NULL;
    const cs_capacity *c = target_capacity(r, t);
    cs_buf_add(b, "short of ");
    add_shortfall(b, gap);
    cs_buf_printf(b, " %s", c->unit);
    if (strcmp(c->name, c->unit) != 0)
        cs_buf_printf(b, " (%s)", c->name);
    cs_target band_of = *t;
    switch (t->type) {
    case CS_TARGET_CAPACITY_PER_POP:
        if (t->per == 1 && t->at_least <= 1)
            cs_buf_printf(b, " for %g%% of ", t->at_least * 100);
        else
            per_phrase(b, t->at_least, t->per);
        band_phrase(b, s, t);
        break;
    case CS_TARGET_ACCESSIBILITY:
        band_of.band = k->load_band;
        cs_buf_add(b, " within reach,");
        per_phrase(b, t->at_least, k->access_per);
        band_phrase(b, s, &band_of);
        break;
    case CS_TARGET_LOAD:
        cs_buf_printf(b, " at %s loaded over %g%%", k->unit, t->at_most * 100);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ Chinese */

/* "60岁以上居民" for band 60+, "60–79岁居民" for 60-79, "居民" for all residents. */
static void band_phrase_zh(cs_buf *b, const cs_study *s, size_t band)
{
    const char *name = s->settings.band_names[band];
    unsigned lo = 0, hi = 0;
    int used = 0;
    if (band == 0)
        ;
    else if (sscanf(name, "%u+%n", &lo, &used) == 1 && name[used] == '\0')
        cs_buf_printf(b, "%u岁以上", lo);
    else if (sscanf(name, "%u-%u%n", &lo, &hi, &used) == 2 && name[used] == '\0')
        cs_buf_printf(b, "%u–%u岁", lo, hi);
    else
        cs_buf_add(b, name);
    cs_buf_add(b, "居民");
}

/* A unit that is a symbol (m²) is shown in Chinese text; a word (beds) is not. */
static bool unit_is_symbol(const char *unit)
{
    for (const char *p = unit; *p; p++)
        if (((*p | 32) >= 'a' && (*p | 32) <= 'z') && (((p[1] | 32) >= 'a' && (p[1] | 32) <= 'z')))
            return false;
    return true;
}

/* "（按65岁以上居民的5%计）", "（按每1,000名60岁以上居民40计）" */
static void per_phrase_zh(cs_buf *b, const cs_study *s, size_t band, double value, double per)
{
    cs_buf_add(b, "（按");
    if (per == 1 && value <= 1) {
        band_phrase_zh(b, s, band);
        cs_buf_printf(b, "的%g%%计）", value * 100);
        return;
    }
    cs_buf_add(b, "每");
    cs_buf_add_grouped(b, per, per == floor(per) ? 0 : 2);
    cs_buf_add(b, "名");
    band_phrase_zh(b, s, band);
    cs_buf_printf(b, "%g计）", value);
}

/* "床位缺口1,350", "供餐能力缺口240（按65岁以上居民的5%计）" and the like. */
static void capacity_gap_text_zh(cs_buf *b, const cs_result *r, const cs_target *t, double gap)
{
    const cs_study *s = r->study;
    const cs_kind *k = t->kind >= 0 ? &s->settings.kinds[t->kind] : NULL;
    const cs_capacity *c = target_capacity(r, t);
    if (t->type == CS_TARGET_LOAD)
        cs_buf_printf(b, "负荷超过%g%%的%s", t->at_most * 100, k->name);
    else if (t->type == CS_TARGET_ACCESSIBILITY)
        cs_buf_add(b, "可达的");
    cs_buf_printf(b, "%s缺口", c->name);
    add_shortfall(b, gap);
    if (unit_is_symbol(c->unit))
        cs_buf_printf(b, " %s", c->unit);
    if (t->type == CS_TARGET_CAPACITY_PER_POP)
        per_phrase_zh(b, s, t->band, t->at_least, t->per);
    else if (t->type == CS_TARGET_ACCESSIBILITY)
        per_phrase_zh(b, s, (size_t)k->load_band, t->at_least, k->access_per);
}

/* "还需让269,436名60岁以上居民步行15分钟内可达社区综合为老服务中心，涉及14个街镇" */
static void gap_text_zh(cs_buf *b, const cs_result *r, const cs_target *t, double gap,
                        size_t failing_areas)
{
    const cs_study *s = r->study;
    switch (t->type) {
    case CS_TARGET_COVERAGE: {
        const cs_kind *k = &s->settings.kinds[t->kind];
        cs_buf_add(b, "还需让");
        cs_buf_add_grouped(b, gap, 0);
        cs_buf_add(b, "名");
        band_phrase_zh(b, s, t->band);
        bool walk = t->measure == CS_MEASURE_NETWORK;
        if (t->measure == CS_MEASURE_MATRIX)
            cs_buf_add(b, "按研究的出行成本");
        else if (walk)
            cs_buf_add(b, "步行");
        if (!isnan(k->threshold_min[t->threshold]))
            cs_buf_printf(b, "%g分钟", k->threshold_min[t->threshold]);
        else
            cs_buf_printf(b, "%g米", k->threshold_m[t->threshold]);
        cs_buf_printf(b, "%s内可达%s", t->measure == CS_MEASURE_STRAIGHT ? "（直线距离）" : "",
                      k->name);
        break;
    }
    case CS_TARGET_COUNT:
        cs_buf_add(b, "还差");
        cs_buf_add_grouped(b, gap, 0);
        cs_buf_printf(b, "个%s", s->settings.kinds[t->kind].name);
        break;
    default:
        capacity_gap_text_zh(b, r, t, gap);
        break;
    }
    if (failing_areas > 0)
        cs_buf_printf(b, "，涉及%zu个街镇", failing_areas);
}

/* ------------------------------------------------------------------ the texts */

/* The gap in words, in lang; NULL when there is no gap (or memory ran out). */
static char *gap_text(const cs_result *r, const cs_target *t, double gap, size_t failing_areas,
                      cs_lang lang)
{
    if (!(gap > 0))
        return NULL;
    const cs_study *s = r->study;
    cs_buf b;
    cs_buf_init(&b);
    if (lang == CS_LANG_ZH) {
        gap_text_zh(&b, r, t, gap, failing_areas);
        return cs_buf_take(&b);
    }
    switch (t->type) {
    case CS_TARGET_COVERAGE: {
        const cs_kind *k = &s->settings.kinds[t->kind];
        cs_buf_add_grouped(&b, gap, 0);
        cs_buf_add(&b, " more ");
        band_phrase(&b, s, t);
        cs_buf_printf(&b, " need a %s within ", kind_label(k));
        bool walk = t->measure == CS_MEASURE_NETWORK;
        if (!isnan(k->threshold_min[t->threshold]))
            cs_buf_printf(&b, walk ? "a %g-minute walk" : "%g minutes",
                          k->threshold_min[t->threshold]);
        else
            cs_buf_printf(&b, walk ? "%g m on foot" : "%g m", k->threshold_m[t->threshold]);
        if (t->measure == CS_MEASURE_MATRIX)
            cs_buf_add(&b, " by the study's travel costs");
        break;
    }
    case CS_TARGET_COUNT:
        cs_buf_add_grouped(&b, gap, 0);
        /* the unit is plural ("centres"): one is named by the kind ("1 more centre") */
        cs_buf_printf(&b, " more %s", gap == 1 ? kind_label(&s->settings.kinds[t->kind])
                                               : s->settings.kinds[t->kind].unit);
        break;
    default:
        capacity_gap_text(&b, r, t, gap);
        break;
    }
    if (failing_areas > 0)
        cs_buf_printf(&b, ", across %zu area%s", failing_areas, failing_areas == 1 ? "" : "s");
    return cs_buf_take(&b);
}

static cs_status set_outcome(cs_result *r, size_t t, size_t a, measure m, bool binding,
                             bool pass, size_t failing_areas)
{
    const cs_target *tg = &r->study->settings.targets[t];
    cs_target_outcome *o = &r->outcomes[cs_res_target(r, t, a)];
    o->evaluated = m.evaluated;
    o->binding = binding;
    o->pass = pass;
    o->value = m.value;
    o->required = tg->type == CS_TARGET_LOAD ? tg->at_most : tg->at_least;
    o->gap = m.gap;
    o->gap_text = NULL;
    if (!m.evaluated || pass)
        return CS_OK;
    for (int lang = 0; lang < CS_LANGS; lang++) {
        char *text = gap_text(r, tg, m.gap, failing_areas, (cs_lang)lang);
        if (!text && m.gap > 0)
            return CS_ERR_NOMEM;
        r->gap_texts[cs_res_text(r, t, a, (cs_lang)lang)] = text;
    }
    o->gap_text = cs_res_gap_text(r, t, a, cs_study_lang(r->study));
    return CS_OK;
}

static cs_status evaluate_target(cs_result *r, size_t t)
{
    const cs_target *tg = &r->study->settings.targets[t];
    bool per_area = tg->scope == CS_SCOPE_AREA;
    double gap_sum = 0;
    size_t failing = 0;
    for (size_t a = 0; a < r->A; a++) {
        measure m = measure_at(r, tg, a);
        if (is_absolute(tg) && !per_area)
            m = (measure){false, NAN, 0};
        bool pass = !m.evaluated || m.gap <= 0;
        if (m.evaluated && !pass) {
            gap_sum += m.gap;
            failing++;
        }
        if (set_outcome(r, t, a, m, per_area, pass, 0) != CS_OK)
            return CS_ERR_NOMEM;
    }
    measure d = measure_at(r, tg, r->A);
    if (!d.evaluated)
        return set_outcome(r, t, r->A, d, true, false, 0);
    if (per_area) {
        /* met by the district when every area meets it */
        d.gap = gap_sum;
        if (is_absolute(tg))
            d.value = (double)(r->A - failing);
        return set_outcome(r, t, r->A, d, true, failing == 0, failing);
    }
    return set_outcome(r, t, r->A, d, true, d.gap <= 0, 0);
}

cs_status cs_plan_evaluate(cs_context *ctx, cs_result *r)
{
    size_t T = r->study->settings.target_count, A1 = r->A + 1;
    r->outcomes = cs_calloc(T * A1 + 1, sizeof *r->outcomes);
    r->gap_texts = cs_calloc(CS_LANGS * T * A1 + 1, sizeof *r->gap_texts);
    if (!r->outcomes || !r->gap_texts)
        return cs_nomem(ctx);
    for (size_t t = 0; t < T; t++)
        if (evaluate_target(r, t) != CS_OK)
            return cs_nomem(ctx);
    return CS_OK;
}
