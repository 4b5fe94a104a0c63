/*
 * assignment.c — assignment.csv of the capacitated models: where each demand point's
 * demand goes (a row for each facility that serves part of it, and one for what is
 * left unserved), by demand point.
 */
#include "io/crs.h"
#include "out/out.h"
#include "site/suggest.h"

#include <math.h>
#include <string.h>

/* The header: the point (number, id when the study reads ids, position, area), its
 * demand, the facility, whether it is a suggested site, the units it takes, the walk. */
static void header(const cs_study *s, const char *unit, cs_buf *out)
{
    char name[64];
    cs_out_safe_name(unit, name, sizeof name);
    cs_buf_add(out, "\xEF\xBB\xBF"); /* UTF-8 BOM, for Excel */
    cs_buf_add(out, cs_out_has_demand_ids(s) ? "demand_no,demand_id," : "demand_no,");
    cs_buf_printf(out, "lon,lat,area_id,demand_%s,facility_id,new_site,assigned_%s,walk_m\r\n",
                  name, name);
}

/* One row: the point's part up to the facility, then facility, new, units, walk. */
static void row_start(const cs_study *s, cs_transform *t, size_t i, double demand, cs_buf *out)
{
    double x = s->dem.x[i], y = s->dem.y[i];
    cs_transform_apply(t, &x, &y, 1);
    cs_buf_printf(out, "%zu,", i + 1);
    if (cs_out_has_demand_ids(s)) {
        cs_out_csv_text(out, s->dem.id[i] ? s->dem.id[i] : "");
        cs_buf_addc(out, ',');
    }
    cs_buf_add_fixed(out, x, 7);
    cs_buf_addc(out, ',');
    cs_buf_add_fixed(out, y, 7);
    cs_buf_addc(out, ',');
    cs_out_csv_text(out, s->areas.id[s->dem.area[i]]);
    cs_buf_addc(out, ',');
    cs_buf_add_fixed(out, demand, 3);
    cs_buf_addc(out, ',');
}

cs_status cs_assignment_csv(cs_context *ctx, const cs_study *s, const char *unit,
                            const cs_capacity_sets *cs, const cs_capacity_flow *fl,
                            const size_t *facility, const size_t *chosen,
                            const char *const *site_ids, size_t count, cs_buf *out)
{
    size_t N = cs->points, E = cs->existing, F = E + cs->candidates, P = cs->first[F];
    size_t *at = cs_calloc(N + 2, sizeof *at), *pair = cs_calloc(P + 1, sizeof *pair);
    uint32_t *owner = cs_calloc(P + 1, sizeof *owner);
    long *listed = cs_calloc(cs->candidates + 1, sizeof *listed);
    cs_transform *t = NULL; /* kept by the context */
    cs_status st = at && pair && owner && listed
                       ? cs_transform_kept(ctx, s->settings.crs, "EPSG:4326", NULL, &t)
                       : CS_ERR_NOMEM;
    for (size_t c = 0; st == CS_OK && c < cs->candidates; c++)
        listed[c] = -1;
    for (size_t q = 0; st == CS_OK && q < count; q++)
        listed[chosen[q]] = (long)q;
    /* the pairs that carry units, by point (in facility order within a point) */
    for (size_t f = 0; st == CS_OK && f < F; f++)
        for (size_t q = cs->first[f]; q < cs->first[f + 1]; q++) {
            owner[q] = (uint32_t)f;
            at[cs->pt[q] + 2] += fl->units[q] > 0;
        }
    for (size_t i = 0; st == CS_OK && i < N; i++)
        at[i + 2] += at[i + 1];
    for (size_t q = 0; st == CS_OK && q < P; q++)
        if (fl->units[q] > 0)
            pair[at[cs->pt[q] + 1]++] = q;
    if (st == CS_OK)
        header(s, unit, out);
    for (size_t i = 0; st == CS_OK && i < N; i++) {
        for (size_t k = at[i]; k < at[i + 1]; k++) {
            size_t q = pair[k], f = owner[q];
            row_start(s, t, i, cs->demand[i], out);
            bool new_site = f >= E;
            cs_out_csv_text(out, new_site ? site_ids[listed[f - E]] : s->fac.id[facility[f]]);
            cs_buf_add(out, new_site ? ",1," : ",0,");
            cs_buf_add_fixed(out, fl->units[q], 3);
            cs_buf_addc(out, ',');
            cs_buf_add_fixed(out, cs->cost[q], 1);
            cs_buf_add(out, "\r\n");
        }
        if (fl->unserved[i] > 0) { /* what no facility within the threshold has room for */
            row_start(s, t, i, cs->demand[i], out);
            cs_buf_add(out, ",,");
            cs_buf_add_fixed(out, fl->unserved[i], 3);
            cs_buf_add(out, ",\r\n");
        }
    }
    cs_free(at);
    cs_free(pair);
    cs_free(owner);
    cs_free(listed);
    if (st == CS_OK && out->failed)
        st = CS_ERR_NOMEM;
    return st;
}
