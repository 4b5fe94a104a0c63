/*
 * load_layers.c — reading the areas, facilities and population layers into plain
 * arrays in their own CRS. Every field and value is checked here, and every problem
 * is recorded (not just the first), so `careshed check` can list them all.
 */
#include "io/load.h"
#include "io/layer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const id_candidates[] = {"id", "ID", "Id", "code", "CODE", "fid", NULL};
static const char *const name_candidates[] = {"name", "NAME", "Name", "名称", NULL};
static const char *const opened_candidates[] = {"opened", "open_year", "opened_year", NULL};
static const char *const closed_candidates[] = {"closed", "close_year", "closed_year", NULL};

/* Known capacity fields, recognised when the study names none. */
static const struct {
    const char *field, *id, *unit;
} known_capacities[] = {
    {"beds", "beds", "beds"},
    {"nursing_beds", "nursing_beds", "beds"},
    {"dementia_beds", "dementia_beds", "beds"},
    {"meals_per_day", "meals", "meals/day"},
    {"meals", "meals", "meals/day"},
    {"floor_area_m2", "floor_area", "m²"},
    {"places", "places", "places"},
};

/* Known age-band fields, recognised when the study names none. */
static const struct {
    const char *band;
    const char *fields[4];
} known_bands[] = {
    {"60+", {"pop60", "pop_60", "age60", "60+"}},
    {"65+", {"pop65", "pop_65", "age65", "65+"}},
    {"80+", {"pop80", "pop_80", "age80", "80+"}},
};

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        cs_free(s[i]);
    cs_free(s);
}

void cs_raw_layer_free(cs_raw_layer *l)
{
    cs_free(l->display);
    cs_free(l->srs);
    cs_free(l->x_field);
    cs_free(l->y_field);
    cs_line_gaps_free(&l->gaps);
    cs_free(l->input.role);
    cs_free(l->input.path);
    cs_free(l->input.crs);
    free_strings(l->input.files, l->input.file_count);
    memset(l, 0, sizeof *l);
}

void cs_raw_areas_free(cs_raw_areas *a)
{
    cs_raw_layer_free(&a->layer);
    free_strings(a->id, a->count);
    free_strings(a->name, a->count);
    cs_free(a->feature);
    cs_rings_free(&a->polys);
    cs_free(a->first_poly);
    memset(a, 0, sizeof *a);
}

void cs_raw_points_free(cs_raw_points *p)
{
    cs_raw_layer_free(&p->layer);
    cs_free(p->x);
    cs_free(p->y);
    cs_free(p->feature);
    free_strings(p->id, p->count);
    free_strings(p->name, p->count);
    cs_free(p->kind);
    cs_free(p->opened);
    cs_free(p->closed);
    cs_free(p->year);
    cs_free(p->own);
    cs_free(p->values);
    cs_raw_surfaces_free(&p->surfaces);
    memset(p, 0, sizeof *p);
}

void cs_raw_surfaces_free(cs_raw_surfaces *s)
{
    cs_free(s->feature);
    cs_free(s->values);
    cs_rings_free(&s->polys);
    cs_free(s->first);
    cs_free(s->quad_x);
    cs_free(s->quad_y);
    free_strings(s->area_key, s->area_key ? s->count : 0);
    cs_free(s->area_field);
    cs_free(s->raster_path);
    cs_free(s->band_share);
    memset(s, 0, sizeof *s);
}

/* Open a layer and fill the common record. */
cs_status cs_load_open_layer(cs_context *ctx, const cs_config *cfg, const cs_layer_config *lc,
                            const char *role, bool points, cs_raw_layer *raw, cs_layer **out)
{
    *out = NULL;
    if (!lc->path) {
        cs_where w = {.file = cfg->file, .field = role};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give it in the study file or with --areas, "
                        "--facilities, --population",
                        "no %s layer given (%s.path)", role, role);
    }
    char *path = cs_config_resolve_path(cfg, lc->path);
    if (!path)
        return cs_nomem(ctx);
    /* a shard far from every facility holds none, nor any pair of the cost matrix */
    cs_layer_config shard_lc = *lc;
    shard_lc.may_be_empty = cfg->shard_part > 0;
    cs_status st = cs_layer_open(ctx, &shard_lc, role, path, points, out);
    cs_free(path);
    if (st != CS_OK)
        return st;
    /* metres in a layer labelled lon/lat are told layer-wide, with the likely CRS
     * (study.c) */
    cs_layer_defer_metres(*out);
    const char *xf = NULL, *yf = NULL;
    if (cs_layer_xy_fields(*out, &xf, &yf)) {
        raw->x_field = cs_strdup(xf);
        raw->y_field = cs_strdup(yf);
    }
    raw->display = cs_strdup(lc->path);
    raw->csv = cs_layer_is_csv(*out);
    raw->srs_from_config = lc->crs != NULL;
    raw->srs = cs_strdup(lc->crs ? lc->crs : cs_layer_srs(*out));
    raw->input.role = cs_strdup(role);
    raw->input.path = cs_strdup(lc->path);
    raw->input.files = cs_layer_files(*out, &raw->input.file_count);
    if (!raw->display || !raw->input.role || !raw->input.path || !raw->input.files ||
        (!raw->srs && (lc->crs || cs_layer_srs(*out))) || (xf && (!raw->x_field ||
        !raw->y_field))) {
        cs_layer_close(*out);
        *out = NULL;
        return cs_nomem(ctx);
    }
    return CS_OK;
}

/* The feature's id text: the id field's value, or its number when there is no field. */
static char *feature_id(cs_layer *layer, int id_field, long number)
{
    if (id_field < 0) {
        char text[32];
        snprintf(text, sizeof text, "%ld", number);
        return cs_strdup(text);
    }
    return cs_strdup(cs_layer_text(layer, id_field));
}

static char *const *sort_ids;
static int compare_index_by_id(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_ids[i], sort_ids[j]);
    return c ? c : (i < j ? -1 : i > j);
}

cs_where cs_raw_where(const cs_raw_layer *raw, long feature, const char *id)
{
    cs_where w = {.file = raw->display, .feature_id = id};
    if (raw->csv)
        w.line = cs_line_gaps_line(&raw->gaps, feature);
    else
        w.feature = feature;
    return w;
}

cs_status cs_check_unique_ids(cs_context *ctx, const cs_raw_layer *raw, const char *role,
                              char *const *ids, const long *feature, size_t n)
{
    size_t *order = cs_calloc(n ? n : 1, sizeof *order);
    if (!order)
        return cs_nomem(ctx);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* qsort has no context argument in C11; loading is single-threaded. */
    sort_ids = ids;
    qsort(order, n, sizeof *order, compare_index_by_id);
    sort_ids = NULL;
    cs_status st = CS_OK;
    for (size_t k = 1; k < n; k++) {
        size_t a = order[k - 1], b = order[k];
        if (strcmp(ids[a], ids[b]) != 0)
            continue;
        cs_where w = cs_raw_where(raw, feature[b], ids[b]);
        char hint[160];
        snprintf(hint, sizeof hint, "give every feature a distinct id (or name the id field "
                 "with %s.id)", role);
        st = cs_error(ctx, CS_ERR_INPUT, &w, hint, "duplicate id: %s %ld has the same id",
                      raw->csv ? "line" : "feature",
                      raw->csv ? cs_line_gaps_line(&raw->gaps, feature[a]) : feature[a]);
    }
    cs_free(order);
    return st;
}

/* ------------------------------------------------------------------- areas */

static cs_status read_area(cs_context *ctx, cs_layer *layer, int id_field, int name_field,
                           long number, cs_raw_areas *a, size_t *cap)
{
    if (!cs_grow((void **)&a->id, cap, a->count + 1, sizeof *a->id))
        return cs_nomem(ctx);
    /* the other arrays follow id's capacity exactly */
    char **names = cs_reallocarray(a->name, *cap, sizeof *names);
    if (names)
        a->name = names;
    long *features = cs_reallocarray(a->feature, *cap, sizeof *features);
    if (features)
        a->feature = features;
    size_t *first = cs_reallocarray(a->first_poly, *cap + 1, sizeof *first);
    if (first)
        a->first_poly = first;
    if (!names || !features || !first)
        return cs_nomem(ctx);
    size_t i = a->count;
    a->id[i] = feature_id(layer, id_field, number);
    a->name[i] = cs_strdup(name_field >= 0 ? cs_layer_text(layer, name_field) : "");
    a->feature[i] = number;
    a->first_poly[i] = a->polys.area_count;
    a->count++;
    a->first_poly[a->count] = a->polys.area_count;
    if (!a->id[i] || !a->name[i])
        return cs_nomem(ctx);
    if (!a->name[i][0]) {
        cs_free(a->name[i]);
        a->name[i] = cs_strdup(a->id[i]);
        if (!a->name[i])
            return cs_nomem(ctx);
    }
    cs_where w = cs_layer_where(layer, a->id[i],
                                id_field >= 0 ? cs_layer_field_name(layer, id_field) : NULL);
    if (!a->id[i][0])
        return cs_error(ctx, CS_ERR_INPUT, &w, "give every area an id", "empty id");
    cs_status st = cs_layer_polygons(ctx, layer, a->id[i], &a->polys);
    a->first_poly[a->count] = a->polys.area_count;
    return st;
}

/* Whether every ring of r encloses no area in its own coordinates (all its points on a
 * line, or on one point): no triangle of a fan over its points has an area, compared
 * with the square of the extent so units do not matter (a self-crossing ring, whose
 * signed area can be 0, has such triangles). Such "areas" become slivers once
 * projected, and every point falls outside them. */
static bool all_rings_flat(const cs_rings *r)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, total = 0;
    for (size_t k = 0; k < r->ring_count; k++) {
        size_t first = r->ring_start[k], end = r->ring_start[k + 1];
        for (size_t i = first; i + 1 < end; i++) {
            double ax = r->x[i] - r->x[first], ay = r->y[i] - r->y[first];
            double bx = r->x[i + 1] - r->x[first], by = r->y[i + 1] - r->y[first];
            total += fabs(ax * by - bx * ay) / 2;
            x0 = fmin(x0, r->x[i]), x1 = fmax(x1, r->x[i]);
            y0 = fmin(y0, r->y[i]), y1 = fmax(y1, r->y[i]);
        }
    }
    double extent = fmax(x1 - x0, y1 - y0);
    return !(total > 1e-9 * extent * extent);
}

cs_status cs_load_areas(cs_context *ctx, const cs_config *cfg, cs_raw_areas *a)
{
    memset(a, 0, sizeof *a);
    cs_layer *layer = NULL;
    cs_status st = cs_load_open_layer(ctx, cfg, &cfg->areas, "areas", false, &a->layer, &layer);
    if (st != CS_OK)
        return st;
    size_t first_message = cs_context_message_count(ctx);
    int id_field = cs_layer_find_field(ctx, layer, cfg->areas.id_field, id_candidates, "id",
                                       cfg->areas.id_field != NULL);
    int name_field = cs_layer_find_field(ctx, layer, cfg->areas.name_field, name_candidates,
                                         "name", cfg->areas.name_field != NULL);
    if ((cfg->areas.id_field && id_field < 0) || (cfg->areas.name_field && name_field < 0))
        st = CS_ERR_INPUT;
    cs_layer_keep_fields(layer, (const int[]){id_field, name_field}, 2);
    size_t cap = 0;
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(layer, &number)) {
        cs_status fst = read_area(ctx, layer, id_field, name_field, number, a, &cap);
        if (fst != CS_OK && st == CS_OK)
            st = fst;
        if (fst == CS_ERR_NOMEM)
            st = fst;
    }
    if (cs_layer_read_status(layer) != CS_OK) /* the file ended early: reported */
        st = cs_layer_read_status(layer);
    a->layer.input.features = a->count;
    /* one flat area is reported by name when its geometry is built (study.c) */
    if (st == CS_OK && a->count > 1 && all_rings_flat(&a->polys)) {
        cs_where w = {.file = a->layer.display};
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check that this is the areas layer and that its "
                      "polygons enclose ground", "all %zu areas have zero area: their rings "
                      "are lines or points", a->count);
    }
    if (st != CS_ERR_NOMEM && a->count > 0) {
        cs_status ust = cs_check_unique_ids(ctx, &a->layer, "areas", a->id, a->feature,
                                            a->count);
        if (st == CS_OK)
            st = ust;
    }
    cs_context_limit_repeats(ctx, first_message, CS_REPEATS_SHOWN, a->layer.display);
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, a->layer.display);
    cs_layer_close(layer);
    return st;
}

cs_status cs_load_area_values(cs_context *ctx, const cs_config *cfg, const char *field,
                              char *const *ids, size_t n, char ***values)
{
    *values = cs_calloc(n + 1, sizeof **values);
    cs_raw_layer raw = {0};
    cs_layer *layer = NULL;
    cs_idmap index = {0};
    cs_status st = *values ? CS_OK : cs_nomem(ctx);
    if (st == CS_OK)
        st = cs_load_open_layer(ctx, cfg, &cfg->areas, "areas", false, &raw, &layer);
    int id_field = -1, value_field = -1;
    if (st == CS_OK) {
        id_field = cs_layer_find_field(ctx, layer, cfg->areas.id_field, id_candidates, "id",
                                       cfg->areas.id_field != NULL);
        value_field = cs_layer_find_field(ctx, layer, field, NULL, "--by", true);
        if ((cfg->areas.id_field && id_field < 0) || value_field < 0)
            st = CS_ERR_INPUT;
    }
    for (size_t a = 0; st == CS_OK && a < n; a++)
        if (cs_idmap_put(&index, ids[a], (long)a) < -1)
            st = cs_nomem(ctx);
    long number;
    while (st == CS_OK && cs_layer_next(layer, &number)) {
        char *id = feature_id(layer, id_field, number);
        long a = id ? cs_idmap_get(&index, id) : -1;
        if (!id)
            st = cs_nomem(ctx);
        else if (a >= 0 && !(*values)[a] &&
                 !((*values)[a] = cs_strdup(cs_layer_text(layer, value_field))))
            st = cs_nomem(ctx);
        cs_free(id);
    }
    if (st == CS_OK && cs_layer_read_status(layer) != CS_OK)
        st = cs_layer_read_status(layer);
    for (size_t a = 0; st == CS_OK && a < n; a++)
        if (!(*values)[a] && !((*values)[a] = cs_strdup("")))
            st = cs_nomem(ctx);
    cs_layer_close(layer);
    cs_raw_layer_free(&raw);
    cs_idmap_free(&index);
    if (st != CS_OK) {
        for (size_t a = 0; *values && a < n; a++)
            cs_free((*values)[a]);
        cs_free(*values);
        *values = NULL;
    }
    return st;
}

/* ----------------------------------------------------------------- land use */

static bool is_residential(const cs_config *cfg, const char *cls)
{
    if (!cfg->landuse_residential_count)
        return !cs_strcasecmp(cls, "residential");
    for (size_t i = 0; i < cfg->landuse_residential_count; i++)
        if (!cs_strcasecmp(cls, cfg->landuse_residential[i]))
            return true;
    return false;
}

cs_status cs_load_landuse(cs_context *ctx, const cs_config *cfg, cs_raw_areas *a)
{
    memset(a, 0, sizeof *a);
    if (!cfg->landuse.path)
        return CS_OK;
    cs_layer *layer = NULL;
    cs_status st = cs_load_open_layer(ctx, cfg, &cfg->landuse, "landuse", false, &a->layer,
                                      &layer);
    if (st != CS_OK)
        return st;
    size_t first_message = cs_context_message_count(ctx);
    const char *class_name = cfg->landuse_class ? cfg->landuse_class : "landuse";
    int class_field = cs_layer_find_field(ctx, layer, class_name, NULL, "class", true);
    if (class_field < 0)
        st = CS_ERR_INPUT;
    size_t cap = 0;
    long number;
    while (st == CS_OK && cs_layer_next(layer, &number)) {
        if (!is_residential(cfg, cs_layer_text(layer, class_field)))
            continue;
        st = read_area(ctx, layer, -1, -1, number, a, &cap);
    }
    a->layer.input.features = a->count;
    cs_context_limit_repeats(ctx, first_message, CS_REPEATS_SHOWN, a->layer.display);
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, a->layer.display);
    cs_layer_close(layer);
    return st;
}

/* -------------------------------------------------------------- point layers */

/* Room for cap points in every array the points use (cap >= p->count). */
static bool resize_points(cs_raw_points *p, size_t cap, bool named)
{
#define RESIZE(field, size)                                                  \
    do {                                                                     \
        void *q = cs_reallocarray(p->field, cap, size);                      \
        if (!q)                                                              \
            return false;                                                    \
        p->field = q;                                                        \
    } while (0)
    RESIZE(x, sizeof *p->x);
    RESIZE(y, sizeof *p->y);
    RESIZE(feature, sizeof *p->feature);
    if (named || p->keep_ids)
        RESIZE(id, sizeof *p->id);
    if (p->year)
        RESIZE(year, sizeof *p->year);
    if (p->own)
        RESIZE(own, sizeof *p->own);
    if (named) {
        RESIZE(name, sizeof *p->name);
        RESIZE(kind, sizeof *p->kind);
        RESIZE(opened, sizeof *p->opened);
        RESIZE(closed, sizeof *p->closed);
    }
    if (p->value_count)
        RESIZE(values, p->value_count * sizeof *p->values);
#undef RESIZE
    p->cap = cap;
    return true;
}

/* Room for one more point: the arrays double when full. */
static bool grow_points(cs_raw_points *p, bool named)
{
    if (p->count < p->cap)
        return true;
    return !p->fixed && p->cap <= SIZE_MAX / 2 &&
           resize_points(p, p->cap ? 2 * p->cap : 8, named);
}

/*
 * Room for the rows the layer says it holds, before they are read: growing by doubling
 * copies every array several times over, into fresh pages each time (a fifth of the
 * reading of two million points). Only a hint: when its memory cannot be had, the
 * arrays grow as the points come.
 */
static void reserve_points(cs_raw_points *p, const cs_layer *layer, bool named)
{
    size_t rows = cs_layer_rows_hint(layer);
    if (rows > p->cap && !resize_points(p, rows, named))
        (void)cs_take_nomem(); /* no error: every array keeps p->cap, and grows later */
}

/* Find the capacity fields: the study's, or the known names present in the layer. */
static cs_status resolve_capacities(cs_context *ctx, const cs_config *cfg, cs_layer *layer,
                                    cs_study *study, int *fields)
{
    cs_status st = CS_OK;
    if (cfg->capacity_count > 0) {
        study->settings.capacities =
            cs_calloc(cfg->capacity_count, sizeof *study->settings.capacities);
        if (!study->settings.capacities)
            return cs_nomem(ctx);
        for (size_t c = 0; c < cfg->capacity_count; c++) {
            const cs_capacity_config *cc = &cfg->capacities[c];
            cs_capacity *cap = &study->settings.capacities[study->settings.capacity_count++];
            cap->id = cs_strdup(cc->id);
            cap->name = cs_strdup(cc->name ? cc->name : cc->id);
            cap->unit = cs_strdup(cc->unit ? cc->unit : cc->id);
            if (!cap->id || !cap->name || !cap->unit)
                return cs_nomem(ctx);
            char key[128];
            snprintf(key, sizeof key, "capacities.%s.field", cc->id);
            fields[c] = cs_layer_find_field(ctx, layer, cc->field ? cc->field : cc->id, NULL,
                                            key, true);
            if (fields[c] < 0)
                st = CS_ERR_INPUT;
        }
        return st;
    }
    size_t n = sizeof known_capacities / sizeof known_capacities[0];
    study->settings.capacities = cs_calloc(n, sizeof *study->settings.capacities);
    if (!study->settings.capacities)
        return cs_nomem(ctx);
    for (size_t k = 0; k < n; k++) {
        int f = cs_layer_find_field(ctx, layer, NULL,
                                    (const char *const[]){known_capacities[k].field, NULL},
                                    known_capacities[k].id, false);
        bool taken = false;
        for (size_t c = 0; c < study->settings.capacity_count; c++)
            taken |= !strcmp(study->settings.capacities[c].id, known_capacities[k].id);
        if (f < 0 || taken)
            continue;
        cs_capacity *cap = &study->settings.capacities[study->settings.capacity_count];
        cap->id = cs_strdup(known_capacities[k].id);
        cap->name = cs_strdup(known_capacities[k].id);
        cap->unit = cs_strdup(known_capacities[k].unit);
        if (!cap->id || !cap->name || !cap->unit)
            return cs_nomem(ctx);
        fields[study->settings.capacity_count++] = f;
    }
    return CS_OK;
}

static cs_status set_kind(cs_context *ctx, const cs_config *cfg, const cs_kind_config *kc,
                          const char *id, cs_kind *k)
{
    k->id = cs_strdup(kc ? kc->id : id);
    k->name = cs_strdup(kc && kc->name ? kc->name : k->id);
    k->name_en = cs_strdup(kc && kc->name_en ? kc->name_en : (kc ? NULL : k->id));
    k->unit = cs_strdup(kc && kc->unit ? kc->unit : "facilities");
    if (!k->id || !k->name || !k->unit || (k->name_en == NULL && kc && kc->name_en))
        return cs_nomem(ctx);
    k->walk_speed_kmh = kc && !isnan(kc->walk_speed_kmh) ? kc->walk_speed_kmh
                                                        : cfg->walk_speed_kmh;
    k->measures = cs_config_measures(cfg, kc);
    k->main_measure = cs_main_measure(k->measures);
    /* the load's capacity and band are named in the study but resolved once both
     * point layers are read (io/study.c) */
    k->load_capacity = -1;
    k->load_rate = kc ? kc->load_rate : 1.0;
    k->access_decay = kc ? kc->access_decay : CS_DECAY_NONE;
    k->access_three_step = kc && kc->access_method == 1;
    k->access_points = kc && kc->access_demand == 1;
    k->access_per = kc ? kc->access_per : 1000.0;
    k->access_beta = kc ? kc->access_beta : 1.0;
    k->access_min_m = kc ? kc->access_min_m : 100.0;
    if (kc)
        memcpy(k->access_weights, kc->access_weights, sizeof k->access_weights);
    if (kc && kc->threshold_count > 0 && kc->thresholds_in_m) {
        k->threshold_count = kc->threshold_count;
        for (size_t j = 0; j < k->threshold_count; j++) {
            k->threshold_m[j] = kc->thresholds_m[j];
            k->threshold_min[j] = NAN;
        }
    } else {
        const double *mins = kc && kc->threshold_count ? kc->thresholds_min : cfg->thresholds_min;
        k->threshold_count = kc && kc->threshold_count ? kc->threshold_count : cfg->threshold_count;
        for (size_t j = 0; j < k->threshold_count; j++) {
            k->threshold_min[j] = mins[j];
            /* minutes * km/h * 1000 is exact for ordinary values, so only the division
             * rounds: 15 min at 4 km/h is 1000 m exactly, where 15 * (4000 / 60) gave
             * 1000.0000000000001. cs_kind_matrix_m converts matrix minutes the same way,
             * so a cost of 15 min still meets a 15 min threshold. */
            k->threshold_m[j] = cs_kind_matrix_m(k, false, mins[j]);
        }
    }
    return CS_OK;
}

static int compare_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Kinds from the study, or one kind per distinct value of the kind field. */
static cs_status resolve_kinds(cs_context *ctx, const cs_config *cfg, cs_study *study,
                               char **values, size_t n)
{
    if (cfg->kind_count > 0) {
        study->settings.kinds = cs_calloc(cfg->kind_count, sizeof *study->settings.kinds);
        if (!study->settings.kinds)
            return cs_nomem(ctx);
        for (size_t k = 0; k < cfg->kind_count; k++) {
            cs_status st = set_kind(ctx, cfg, &cfg->kinds[k], NULL, &study->settings.kinds[k]);
            study->settings.kind_count++;
            if (st != CS_OK)
                return st;
        }
        return CS_OK;
    }
    char **sorted = cs_calloc(n ? n : 1, sizeof *sorted);
    if (!sorted)
        return cs_nomem(ctx);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (values[i] && values[i][0])
            sorted[m++] = values[i];
    qsort(sorted, m, sizeof *sorted, compare_cstr);
    size_t distinct = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
            sorted[distinct++] = sorted[i];
    study->settings.kinds = cs_calloc(distinct ? distinct : 1, sizeof *study->settings.kinds);
    cs_status st = study->settings.kinds ? CS_OK : cs_nomem(ctx);
    for (size_t k = 0; st == CS_OK && k < distinct; k++) {
        st = set_kind(ctx, cfg, NULL, sorted[k], &study->settings.kinds[k]);
        study->settings.kind_count++;
    }
    cs_free(sorted);
    return st;
}

static long match_kind(const cs_config *cfg, const cs_study *study, const char *value)
{
    if (cfg->kind_count == 0) {
        for (size_t k = 0; k < study->settings.kind_count; k++)
            if (!strcmp(study->settings.kinds[k].id, value))
                return (long)k;
        return -1;
    }
    for (size_t k = 0; k < cfg->kind_count; k++) {
        const cs_kind_config *kc = &cfg->kinds[k];
        if (kc->match_count == 0 && !strcmp(kc->id, value))
            return (long)k;
        for (size_t m = 0; m < kc->match_count; m++)
            if (!strcmp(kc->match[m], value))
                return (long)k;
    }
    return -1;
}

/* Warn once per kind value that matches no kind, with how many facilities carry it. */
static void warn_unmatched_kinds(cs_context *ctx, const cs_study *study, const char *file,
                                 char **values, const long *kinds, size_t n)
{
    char **unmatched = cs_calloc(n ? n : 1, sizeof *unmatched);
    if (!unmatched)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (kinds[i] < 0)
            unmatched[m++] = values[i];
    qsort(unmatched, m, sizeof *unmatched, compare_cstr);
    cs_buf known;
    cs_buf_init(&known);
    for (size_t k = 0; k < study->settings.kind_count; k++)
        cs_buf_printf(&known, "%s%s", k ? ", " : "", study->settings.kinds[k].id);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && !strcmp(unmatched[j], unmatched[i]))
            j++;
        cs_where w = {.file = file, .field = "kind"};
        cs_warn(ctx, &w, "add it to a kind's match list in the study to count these",
                "%zu facilities of kind '%s' match none of the study's kinds (%s) and are "
                "left out", j - i, unmatched[i], known.data ? known.data : "none");
        i = j;
    }
    cs_buf_free(&known);
    cs_free(unmatched);
}

/* A facility's year (opened or closed) from field (NaN when the field is absent or the
 * value empty): a whole number between 1900 and 2200. */
static cs_status read_year(cs_context *ctx, cs_layer *layer, int field, const char *id,
                           double *year)
{
    cs_status st = cs_layer_number(ctx, layer, field, id, NAN, false, year);
    if (st != CS_OK || isnan(*year) || (*year == floor(*year) && *year >= 1900 && *year <= 2200))
        return st;
    cs_where w = cs_layer_where(layer, id, cs_layer_field_name(layer, field));
    return cs_error(ctx, CS_ERR_INPUT, &w, "give the year as a whole number, e.g. 2023, or "
                    "leave it empty", "%g is not a year", *year);
}

static cs_status read_years(cs_context *ctx, cs_layer *layer, const int *fields, size_t i,
                            cs_raw_points *p)
{
    cs_status st = read_year(ctx, layer, fields[0], p->id[i], &p->opened[i]);
    cs_status cst = read_year(ctx, layer, fields[1], p->id[i], &p->closed[i]);
    if (st == CS_OK)
        st = cst;
    if (st == CS_OK && p->closed[i] < p->opened[i]) {
        cs_where w = cs_layer_where(layer, p->id[i], cs_layer_field_name(layer, fields[1]));
        st = cs_error(ctx, CS_ERR_INPUT, &w, "check the two years", "closed in %g, before "
                      "it opened (%g)", p->closed[i], p->opened[i]);
    }
    return st;
}

static cs_status read_facility(cs_context *ctx, cs_layer *layer, const int *fields,
                               size_t capacity_count, long number, cs_raw_points *p,
                               char ***kind_values, size_t *kind_cap)
{
    if (!grow_points(p, true) ||
        !cs_grow((void **)kind_values, kind_cap, p->count + 1, sizeof **kind_values))
        return cs_nomem(ctx);
    size_t i = p->count++;
    p->feature[i] = number;
    p->kind[i] = -1;
    p->id[i] = feature_id(layer, fields[0], number);
    p->name[i] = cs_strdup(cs_layer_text(layer, fields[1]));
    (*kind_values)[i] = cs_strdup(cs_layer_text(layer, fields[2]));
    for (size_t c = 0; c < capacity_count; c++)
        p->values[i * capacity_count + c] = 0;
    p->x[i] = p->y[i] = NAN;
    if (!p->id[i] || !p->name[i] || !(*kind_values)[i])
        return cs_nomem(ctx);
    cs_status st = CS_OK;
    if (fields[0] >= 0 && !p->id[i][0]) {
        cs_where w = cs_layer_where(layer, NULL, cs_layer_field_name(layer, fields[0]));
        st = cs_error(ctx, CS_ERR_INPUT, &w, "give every facility an id", "empty id");
    }
    cs_status pst = cs_layer_point(ctx, layer, p->id[i], &p->x[i], &p->y[i]);
    if (st == CS_OK)
        st = pst;
    for (size_t c = 0; c < capacity_count; c++) {
        double v;
        cs_status cst = cs_layer_number(ctx, layer, fields[5 + c], p->id[i], 0, false, &v);
        p->values[i * capacity_count + c] = cst == CS_OK ? v : 0;
        if (st == CS_OK)
            st = cst;
    }
    cs_status yst = read_years(ctx, layer, fields + 3, i, p);
    return st == CS_OK ? yst : st;
}

cs_status cs_load_facilities(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             cs_raw_points *p)
{
    memset(p, 0, sizeof *p);
    cs_layer *layer = NULL;
    cs_status st =
        cs_load_open_layer(ctx, cfg, &cfg->facilities, "facilities", true, &p->layer, &layer);
    if (st != CS_OK)
        return st;
    size_t first_message = cs_context_message_count(ctx);
    size_t ncap_max = cfg->capacity_count + sizeof known_capacities / sizeof known_capacities[0];
    /* id, name, kind, opened, closed, then the capacities */
    int *fields = cs_calloc(5 + ncap_max, sizeof *fields);
    char **kind_values = NULL;
    size_t kind_cap = 0;
    if (!fields) {
        cs_layer_close(layer);
        return cs_nomem(ctx);
    }
    fields[0] = cs_layer_find_field(ctx, layer, cfg->facilities.id_field, id_candidates, "id",
                                    cfg->facilities.id_field != NULL);
    fields[1] = cs_layer_find_field(ctx, layer, cfg->facilities.name_field, name_candidates,
                                    "name", cfg->facilities.name_field != NULL);
    fields[2] = cs_layer_find_field(ctx, layer, cfg->kind_field, NULL, "kind", true);
    fields[3] = cs_layer_find_field(ctx, layer, cfg->opened_field, opened_candidates, "opened",
                                    cfg->opened_field != NULL);
    fields[4] = cs_layer_find_field(ctx, layer, cfg->closed_field, closed_candidates, "closed",
                                    cfg->closed_field != NULL);
    if ((cfg->facilities.id_field && fields[0] < 0) ||
        (cfg->facilities.name_field && fields[1] < 0) || fields[2] < 0 ||
        (cfg->opened_field && fields[3] < 0) || (cfg->closed_field && fields[4] < 0))
        st = CS_ERR_INPUT;
    cs_status cst = resolve_capacities(ctx, cfg, layer, study, fields + 5);
    if (st == CS_OK || cst == CS_ERR_NOMEM)
        st = cst;
    p->value_count = study->settings.capacity_count;
    cs_layer_keep_fields(layer, fields, 5 + study->settings.capacity_count);
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(layer, &number)) {
        cs_status fst = read_facility(ctx, layer, fields, study->settings.capacity_count, number, p,
                                      &kind_values, &kind_cap);
        if (st == CS_OK || fst == CS_ERR_NOMEM)
            st = fst == CS_OK ? st : fst;
    }
    if (cs_layer_read_status(layer) != CS_OK) /* the file ended early: reported */
        st = cs_layer_read_status(layer);
    p->layer.input.features = p->count;
    if (st != CS_ERR_NOMEM) {
        cs_status kst = resolve_kinds(ctx, cfg, study, kind_values, p->count);
        for (size_t i = 0; kst == CS_OK && i < p->count; i++)
            p->kind[i] = match_kind(cfg, study, kind_values[i]);
        if (kst == CS_OK)
            warn_unmatched_kinds(ctx, study, p->layer.display, kind_values, p->kind, p->count);
        if (st == CS_OK || kst == CS_ERR_NOMEM)
            st = kst;
    }
    if (st != CS_ERR_NOMEM && !cs_layer_add_line_gaps(layer, &p->layer.gaps))
        st = cs_nomem(ctx);
    if (st != CS_ERR_NOMEM && fields[0] >= 0) {
        cs_status ust = cs_check_unique_ids(ctx, &p->layer, "facilities", p->id,
                                            p->feature, p->count);
        if (st == CS_OK)
            st = ust;
    }
    cs_context_limit_repeats(ctx, first_message, CS_REPEATS_SHOWN, p->layer.display);
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, p->layer.display);
    free_strings(kind_values, p->count);
    cs_free(fields);
    cs_layer_close(layer);
    return st;
}

/* ----------------------------------------------------------------- population */

typedef struct band_source {
    int field;    /* >= 0: counted in this field */
    double share; /* else: this share of the total */
} band_source;

static cs_status resolve_bands(cs_context *ctx, const cs_config *cfg, cs_layer *layer,
                               cs_study *study, band_source *src)
{
    size_t known = sizeof known_bands / sizeof known_bands[0];
    size_t n = cfg->band_count ? cfg->band_count : known;
    study->settings.band_names = cs_calloc(n + 1, sizeof *study->settings.band_names);
    if (!study->settings.band_names || !(study->settings.band_names[0] = cs_strdup("total")))
        return cs_nomem(ctx);
    study->settings.band_count = 1;
    cs_status st = CS_OK;
    for (size_t b = 0; b < n; b++) {
        const char *name;
        band_source s = {-1, NAN};
        if (cfg->band_count) {
            const cs_band_config *bc = &cfg->bands[b];
            name = bc->id;
            if (bc->field) {
                char key[96];
                snprintf(key, sizeof key, "bands.%s", bc->id);
                s.field = cs_layer_find_field(ctx, layer, bc->field, NULL, key, true);
                if (s.field < 0)
                    st = CS_ERR_INPUT;
            } else {
                s.share = bc->share;
            }
        } else {
            name = known_bands[b].band;
            const char *cands[5] = {known_bands[b].fields[0], known_bands[b].fields[1],
                                    known_bands[b].fields[2], known_bands[b].fields[3], NULL};
            s.field = cs_layer_find_field(ctx, layer, NULL, cands, name, false);
            if (s.field < 0)
                continue;
        }
        src[study->settings.band_count - 1] = s;
        if (!(study->settings.band_names[study->settings.band_count++] = cs_strdup(name)))
            return cs_nomem(ctx);
    }
    return st;
}

/* The lower age of a band named "<age>+" ("65+" -> 65), or -1. */
static long band_age(const char *name)
{
    char *end;
    long age = strtol(name, &end, 10);
    return end != name && end[0] == '+' && end[1] == '\0' ? age : -1;
}

/* Open-ended age bands nest: 80+ cannot hold more people than 65+, nor 65+ than 60+. */
static cs_status check_nested_bands(cs_context *ctx, cs_layer *layer, const char *id,
                                    const band_source *src, const cs_study *study,
                                    const double *v)
{
    cs_status st = CS_OK;
    for (size_t b = 1; b < study->settings.band_count; b++)
        for (size_t c = 1; c < study->settings.band_count; c++) {
            if (!(v[c] > v[b] * (1 + 1e-9))) /* first: a row's bands mostly nest */
                continue;
            long young = band_age(study->settings.band_names[b]),
                 old = band_age(study->settings.band_names[c]);
            if (young < 0 || old <= young || src[b - 1].field < 0 || src[c - 1].field < 0)
                continue;
            cs_where w = cs_layer_where(layer, id, cs_layer_field_name(layer, src[c - 1].field));
            st = cs_error(ctx, CS_ERR_INPUT, &w,
                          "older age bands are part of younger ones; "
                          "check the field mapping",
                          "%s count %g exceeds the %s count %g", study->settings.band_names[c],
                          v[c], study->settings.band_names[b], v[b]);
        }
    return st;
}

/* Room for one more surface row (a polygon feature or an area's totals). */
static bool grow_surfaces(cs_raw_surfaces *sf, bool polygons)
{
    if (sf->count + 1 < sf->cap)
        return true;
    size_t cap = sf->cap ? sf->cap * 2 : 64;
    long *f = cs_reallocarray(sf->feature, cap, sizeof *f);
    if (f)
        sf->feature = f;
    double *v = f ? cs_reallocarray(sf->values, cap, sf->value_count * sizeof *v) : NULL;
    if (v)
        sf->values = v;
    void *extra = !v ? NULL
                  : polygons ? cs_reallocarray(sf->first, cap + 1, sizeof *sf->first)
                             : cs_reallocarray(sf->area_key, cap, sizeof *sf->area_key);
    if (!extra)
        return false;
    if (polygons)
        sf->first = extra;
    else
        sf->area_key = extra;
    sf->cap = cap;
    return true;
}

/* Move the demand row just read (point i) to the surfaces: its polygons, or the id of
 * the area whose totals it holds. */
static cs_status move_to_surfaces(cs_context *ctx, cs_layer *layer, int area_field,
                                  const char *id, cs_raw_points *p)
{
    cs_raw_surfaces *sf = &p->surfaces;
    bool polygons = area_field < 0;
    sf->kind = polygons ? CS_SURFACE_POLYGONS : CS_SURFACE_AREA_TOTALS;
    sf->value_count = p->value_count;
    if (!grow_surfaces(sf, polygons))
        return cs_nomem(ctx);
    size_t i = p->count - 1, j = sf->count;
    cs_status st = CS_OK;
    if (polygons) {
        if (j == 0)
            sf->first[0] = 0;
        st = cs_layer_polygons(ctx, layer, id, &sf->polys);
        sf->first[j + 1] = sf->polys.area_count;
    } else {
        sf->area_key[j] = cs_strdup(cs_layer_text(layer, area_field));
        if (!sf->area_key[j])
            st = cs_nomem(ctx);
    }
    if (st == CS_ERR_NOMEM)
        return st;
    sf->feature[j] = p->feature[i];
    memcpy(&sf->values[j * p->value_count], &p->values[i * p->value_count],
           p->value_count * sizeof(double));
    sf->count++;
    p->count--;
    return st;
}

/* A point's year (population.year): required on every row, for points only. */
static cs_status read_population_year(cs_context *ctx, cs_layer *layer, int field,
                                      const char *id, bool surface, double *year)
{
    cs_where w = cs_layer_where(layer, id, cs_layer_field_name(layer, field));
    if (surface)
        return cs_error(ctx, CS_ERR_INPUT, &w, "give the population of each year as points, "
                        "or leave population.year unset", "population.year is for point "
                        "populations; this feature is a surface");
    cs_status st = read_year(ctx, layer, field, id, year);
    if (st == CS_OK && isnan(*year))
        st = cs_error(ctx, CS_ERR_INPUT, &w, "give every row the year its counts are of",
                      "no year given");
    return st;
}

/* A count of people (total or band) of the current feature: a number in
 * [0, CS_MAX_PEOPLE]; more is a unit or field mistake that would swamp every sum. */
static cs_status read_people(cs_context *ctx, cs_layer *layer, int field, const char *id,
                             double *v)
{
    cs_status st = cs_layer_number(ctx, layer, field, id, 0, false, v);
    if (st != CS_OK || *v <= CS_MAX_PEOPLE)
        return st;
    cs_where w = cs_layer_where(layer, id, cs_layer_field_name(layer, field));
    st = cs_error(ctx, CS_ERR_INPUT, &w, "check that the field counts people and its unit",
                  "%g people at one feature is more than the " CS_MAX_PEOPLE_TEXT " allowed",
                  *v);
    *v = 0;
    return st;
}

/* A shard's point: its own (1) or another shard's, competing for its facilities (0). */
static cs_status read_own(cs_context *ctx, cs_layer *layer, int field, const char *id,
                          unsigned char *own)
{
    double v = NAN;
    cs_status st = cs_layer_number(ctx, layer, field, id, NAN, false, &v);
    *own = v == 1;
    if (st != CS_OK || v == 0 || v == 1)
        return st;
    cs_where w = cs_layer_where(layer, id, cs_layer_field_name(layer, field));
    return cs_error(ctx, CS_ERR_INPUT, &w, "cut the shards again with careshed shard",
                    "a shard's point must be its own (1) or another's (0), not %g", v);
}

static cs_status read_demand(cs_context *ctx, cs_layer *layer, const int *fields,
                             const band_source *src, const cs_study *study, long number,
                             cs_raw_points *p)
{
    int id_field = fields[0], total_field = fields[1], area_field = fields[2];
    int year_field = fields[3], own_field = fields[4];
    if (!grow_points(p, false))
        return cs_nomem(ctx);
    size_t i = p->count++, nb = study->settings.band_count;
    double *v = &p->values[i * nb];
    if (p->keep_ids)
        p->id[i] = NULL;
    for (size_t b = 0; b < nb; b++)
        v[b] = 0;
    p->feature[i] = number;
    p->x[i] = p->y[i] = NAN;
    const char *id = id_field >= 0 ? cs_layer_text(layer, id_field) : NULL;
    char *id_copy = cs_strdup(id); /* the text buffer changes with the next read */
    if (id && !id_copy)
        return cs_nomem(ctx);
    bool surface = area_field >= 0 || cs_layer_geom_kind(layer) == CS_GEOM_POLYGON;
    cs_status st = surface ? CS_OK : cs_layer_point(ctx, layer, id_copy, &p->x[i], &p->y[i]);
    cs_status vst = read_people(ctx, layer, total_field, id_copy, &v[0]);
    /* a total that failed, or whose field is missing (reported once for the layer),
     * is no total: comparing each row's bands with it would repeat that one error on
     * every row */
    bool total_ok = vst == CS_OK && total_field >= 0;
    if (st == CS_OK)
        st = vst;
    for (size_t b = 1; b < nb; b++) {
        if (src[b - 1].field >= 0) {
            vst = read_people(ctx, layer, src[b - 1].field, id_copy, &v[b]);
            if (vst != CS_OK)
                v[b] = NAN; /* no count: compared with nothing below */
            if (vst == CS_OK && total_ok && v[b] > v[0] * (1 + 1e-9)) {
                cs_where w = cs_layer_where(layer, id_copy,
                                            cs_layer_field_name(layer, src[b - 1].field));
                vst = cs_error(ctx, CS_ERR_INPUT, &w,
                               "an age band cannot hold more people "
                               "than the total; check the field mapping",
                               "%s count %g exceeds the total %g",
                               study->settings.band_names[b], v[b], v[0]);
            }
            if (st == CS_OK)
                st = vst;
        } else {
            v[b] = v[0] * src[b - 1].share;
        }
    }
    cs_status nst = check_nested_bands(ctx, layer, id_copy, src, study, v);
    if (st == CS_OK)
        st = nst;
    for (size_t b = 1; b < nb; b++)
        if (isnan(v[b]))
            v[b] = 0;
    if (year_field >= 0) {
        cs_status yst = read_population_year(ctx, layer, year_field, id_copy, surface,
                                             &p->year[i]);
        if (st == CS_OK)
            st = yst;
    }
    if (own_field >= 0) {
        cs_status ost = read_own(ctx, layer, own_field, id_copy, &p->own[i]);
        if (st == CS_OK)
            st = ost;
    }
    if (surface && st != CS_ERR_NOMEM) {
        cs_status mst = move_to_surfaces(ctx, layer, area_field, id_copy, p);
        if (st == CS_OK || mst == CS_ERR_NOMEM)
            st = mst;
    } else if (p->keep_ids) {
        p->id[i] = id_copy;
        id_copy = NULL;
    }
    cs_free(id_copy);
    return st;
}

/* What a population row is read with (read_demand's arguments). */
typedef struct demand_source {
    const int *fields;
    const band_source *bands;
    const cs_study *study;
} demand_source;

/* The status of rows read so far, then `next`'s: the first error stands, but running out
 * of memory is said whenever it happens. */
static cs_status later_status(cs_status st, cs_status next)
{
    return st == CS_OK || next == CS_ERR_NOMEM ? (next == CS_OK ? st : next) : st;
}

/* Every row of the layer, one after another. */
static cs_status read_demand_rows(cs_context *ctx, cs_layer *layer, const demand_source *from,
                                  cs_raw_points *p)
{
    cs_status st = CS_OK;
    long number;
    while (st != CS_ERR_NOMEM && cs_layer_next(layer, &number)) {
        if (p->fixed && p->count == p->cap) { /* more rows than were counted in the part */
            cs_where w = cs_layer_where(layer, NULL, NULL);
            return cs_error(ctx, CS_ERR_INPUT, &w, "read it again once nothing writes to it",
                            "the file changed while it was read");
        }
        st = later_status(st, read_demand(ctx, layer, from->fields, from->bands, from->study,
                                          number, p));
    }
    if (cs_layer_read_status(layer) != CS_OK) /* the file ended early: reported */
        st = cs_layer_read_status(layer);
    return st;
}

/*
 * A large plain table of points is read in parts, one a thread (its rows were 0.6 s of
 * the 0.64 s of reading two million points on one core). Each part's lines are counted
 * first, so that each has its feature numbers and its place in the points' arrays
 * before any is read; its messages are its own, joined in the file's order. The
 * points, their numbers and every message are those of reading the table whole.
 */
typedef struct demand_part {
    cs_csv_part rows;
    cs_context *ctx;
    cs_raw_points points; /* a view of the part's place in the layer's arrays */
    cs_line_gaps gaps;
    cs_status st;
} demand_part;

static void count_part(const cs_layer *layer, demand_part *d)
{
    if (cs_csv_count_part(cs_layer_path(layer), &d->rows))
        return;
    if (cs_take_nomem()) { /* its buffer */
        d->st = cs_nomem(d->ctx);
        return;
    }
    cs_where w = {.file = cs_layer_name(layer)};
    d->st = cs_error(d->ctx, CS_ERR_INPUT, &w, "check the disk, or copy the file and read the "
                     "copy", "read error");
}

/* Part d's place in p's arrays, from index at on. */
static cs_raw_points part_view(const cs_raw_points *p, size_t at, size_t rows)
{
    size_t nv = p->value_count;
    return (cs_raw_points){.x = p->x + at, .y = p->y + at, .feature = p->feature + at,
                           .id = p->keep_ids ? p->id + at : NULL,
                           .year = p->year ? p->year + at : NULL,
                           .own = p->own ? p->own + at : NULL,
                           .values = nv ? p->values + at * nv : NULL, .value_count = nv,
                           .keep_ids = p->keep_ids, .cap = rows, .fixed = true};
}

static void read_part(cs_layer *layer, const demand_source *from, demand_part *d)
{
    cs_layer *part = NULL;
    if (d->st == CS_OK)
        d->st = cs_layer_part(d->ctx, layer, &d->rows, &part);
    if (d->st == CS_OK)
        d->st = read_demand_rows(d->ctx, part, from, &d->points);
    if (part && d->st != CS_ERR_NOMEM && !cs_layer_add_line_gaps(part, &d->gaps))
        d->st = cs_nomem(d->ctx);
    cs_layer_close(part);
    (void)cs_take_nomem(); /* reported in d->ctx: no note is left on this thread */
}

/* Move part d's points (at its place) to index `at` of p, after the parts before it
 * (parts that stopped early leave a gap). */
static void close_gap(cs_raw_points *p, size_t at, const cs_raw_points *q)
{
    size_t n = q->count, nv = p->value_count;
    if (n == 0 || q->x == p->x + at)
        return;
    memmove(p->x + at, q->x, n * sizeof *p->x);
    memmove(p->y + at, q->y, n * sizeof *p->y);
    memmove(p->feature + at, q->feature, n * sizeof *p->feature);
    if (p->keep_ids)
        memmove(p->id + at, q->id, n * sizeof *p->id);
    if (p->year)
        memmove(p->year + at, q->year, n * sizeof *p->year);
    if (p->own)
        memmove(p->own + at, q->own, n * sizeof *p->own);
    if (nv)
        memmove(p->values + at * nv, q->values, n * nv * sizeof *p->values);
}

/* The layer's parts, each with a context of its own; NULL (read it whole) when it is not
 * cut or what that takes cannot be had. */
static demand_part *start_parts(cs_context *ctx, cs_layer *layer, int threads, size_t *n,
                                long *first_line)
{
    cs_csv_part cut[64];
    *n = cs_layer_cut(layer, threads < 64 ? (size_t)threads : 64, cut, first_line);
    demand_part *d = *n ? cs_calloc(*n, sizeof *d) : NULL;
    size_t made = 0;
    for (; d && made < *n; made++) {
        d[made].rows = cut[made];
        if (cs_context_create_for_thread(ctx, &d[made].ctx) != CS_OK)
            break;
    }
    if (d && made == *n)
        return d;
    for (size_t i = 0; d && i < made; i++)
        cs_context_destroy(d[i].ctx);
    cs_free(d);
    (void)cs_take_nomem(); /* no error: the layer is read whole */
    return NULL;
}

/* Number the counted parts and give each its place in p's arrays; CS_OK, or what stops
 * every part from being read. */
static cs_status place_parts(cs_context *ctx, demand_part *d, size_t n, long first_line,
                             cs_raw_points *p)
{
    cs_csv_part cut[64];
    cs_status st = CS_OK;
    for (size_t i = 0; i < n; i++) {
        cut[i] = d[i].rows;
        st = later_status(st, d[i].st);
    }
    cs_csv_number_parts(cut, n, first_line);
    size_t rows = (size_t)(cut[n - 1].rows_before + cut[n - 1].rows);
    if (st == CS_OK && rows > p->cap && !resize_points(p, rows, false))
        st = cs_nomem(ctx);
    for (size_t i = 0; i < n; i++) {
        d[i].rows = cut[i];
        d[i].points = (cs_raw_points){.fixed = true};
        if (st == CS_OK)
            d[i].points = part_view(p, (size_t)cut[i].rows_before, (size_t)cut[i].rows);
        else /* the lines after a part not counted are not known */
            d[i].st = later_status(d[i].st, st);
    }
    return st;
}

static cs_status read_demand_parts(cs_context *ctx, cs_layer *layer, const demand_source *from,
                                   int threads, cs_raw_points *p)
{
    int nt = cs_team_size(threads);
    size_t n;
    long first_line;
    demand_part *d = start_parts(ctx, layer, nt, &n, &first_line);
    if (!d)
        return read_demand_rows(ctx, layer, from, p);
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(nt)
#endif
    for (size_t i = 0; i < n; i++)
        count_part(layer, &d[i]);
    cs_status st = place_parts(ctx, d, n, first_line, p);
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(nt)
#endif
    for (size_t i = 0; i < n; i++)
        read_part(layer, from, &d[i]);
    for (size_t i = 0; i < n; i++) { /* in the file's order */
        cs_context_absorb(ctx, d[i].ctx);
        cs_context_destroy(d[i].ctx);
        st = later_status(st, d[i].st);
        close_gap(p, p->count, &d[i].points);
        p->count += d[i].points.count;
        if (st != CS_ERR_NOMEM && !cs_line_gaps_append(&p->layer.gaps, &d[i].gaps))
            st = cs_nomem(ctx);
        cs_line_gaps_free(&d[i].gaps);
    }
    cs_free(d);
    return st;
}

cs_status cs_load_population(cs_context *ctx, const cs_config *cfg, cs_study *study,
                             int threads, cs_raw_points *p)
{
    memset(p, 0, sizeof *p);
    if (cs_is_raster(cfg, &cfg->population) && cfg->pop_year_field) {
        cs_where w = {.file = cfg->population.path, .field = "population.year"};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give the population of each year as points, "
                        "or leave population.year unset", "population.year is for point "
                        "populations, not grids");
    }
    if (cs_is_raster(cfg, &cfg->population))
        return cs_load_population_raster(ctx, cfg, study, p);
    p->keep_ids = cfg->costs.layer.path != NULL || cfg->population.id_field != NULL;
    cs_layer *layer = NULL;
    cs_status st = cs_load_open_layer(ctx, cfg, &cfg->population, "population",
                                      cfg->area_field == NULL, &p->layer, &layer);
    if (st != CS_OK)
        return st;
    size_t first_message = cs_context_message_count(ctx);
    size_t nb_max = (cfg->band_count ? cfg->band_count : 3) + 1;
    band_source *src = cs_calloc(nb_max, sizeof *src);
    if (!src) {
        cs_layer_close(layer);
        return cs_nomem(ctx);
    }
    int id_field = cs_layer_find_field(ctx, layer, cfg->population.id_field, NULL, "id",
                                       cfg->population.id_field != NULL);
    int total_field = cs_layer_find_field(ctx, layer, cfg->total_field, NULL, "total", true);
    int area_field = cfg->area_field ? cs_layer_find_field(ctx, layer, cfg->area_field, NULL,
                                                           "area", true)
                                     : -1;
    int year_field = cfg->pop_year_field ? cs_layer_find_field(ctx, layer, cfg->pop_year_field,
                                                               NULL, "year", true)
                                         : -1;
    int own_field = cfg->shard_part > 0 ? cs_layer_find_field(ctx, layer, cfg->shard_own_field,
                                                              NULL, "shard.own", true)
                                        : -1;
    if ((cfg->population.id_field && id_field < 0) || total_field < 0 ||
        (cfg->area_field && area_field < 0) || (cfg->pop_year_field && year_field < 0) ||
        (cfg->shard_part > 0 && own_field < 0))
        st = CS_ERR_INPUT;
    if (year_field >= 0 && !(p->year = cs_calloc(1, sizeof *p->year)))
        st = cs_nomem(ctx); /* grown with the points */
    if (own_field >= 0 && !(p->own = cs_calloc(1, sizeof *p->own)))
        st = cs_nomem(ctx);
    cs_status bst = resolve_bands(ctx, cfg, layer, study, src);
    if (st == CS_OK || bst == CS_ERR_NOMEM)
        st = bst;
    p->value_count = study->settings.band_count;
    reserve_points(p, layer, false);
    /* the five fields above and each band's but the total's (none when resolving the
     * bands ran out of memory) */
    size_t bands = study->settings.band_count, nkeep = 5 + (bands > 0 ? bands - 1 : 0);
    int *keep = cs_calloc(nkeep, sizeof *keep);
    if (keep) { /* only an optimisation: without it every field is read */
        keep[0] = id_field;
        keep[1] = total_field;
        keep[2] = area_field;
        keep[3] = year_field;
        keep[4] = own_field;
        for (size_t b = 1; b < bands; b++)
            keep[b + 4] = src[b - 1].field;
        cs_layer_keep_fields(layer, keep, nkeep);
        cs_free(keep);
    }
    const int fields[5] = {id_field, total_field, area_field, year_field, own_field};
    demand_source from = {fields, src, study};
    if (st != CS_ERR_NOMEM) /* surfaces are read whole: each row may make several */
        st = later_status(st, area_field < 0 ? read_demand_parts(ctx, layer, &from, threads, p)
                                             : read_demand_rows(ctx, layer, &from, p));
    if (st != CS_ERR_NOMEM && !cs_layer_add_line_gaps(layer, &p->layer.gaps))
        st = cs_nomem(ctx); /* the whole layer's; its parts' are added as they are joined */
    p->layer.input.features = p->count + p->surfaces.count;
    if (st == CS_OK && area_field >= 0 &&
        !(p->surfaces.area_field = cs_strdup(cs_layer_field_name(layer, area_field))))
        st = cs_nomem(ctx);
    cs_context_limit_repeats(ctx, first_message, CS_REPEATS_SHOWN, p->layer.display);
    cs_context_limit_messages(ctx, first_message, CS_MESSAGES_PER_LAYER, p->layer.display);
    cs_free(src);
    cs_layer_close(layer);
    return st;
}
