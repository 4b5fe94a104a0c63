/*
 * network_areas.c — service areas along the walking network. For each kind measured
 * along the network and each threshold: the reached network as lines (edges, and the
 * partial edges cut exactly where the budget runs out), and a polygon made of those
 * lines buffered by the access width and dissolved. Unlike a hull, the polygon never
 * jumps a river or spans a rail yard: it only follows streets that were walked.
 * Up to network.area_max_pieces street pieces the buffer is dissolved exactly by GEOS;
 * beyond, where that takes minutes, it is drawn on cells of network.area_cell_m
 * (geom/cells.c: inside the exact buffer, short of it by at most cell·√2).
 * The lines written are each kind's reached network once, split by the threshold each
 * piece is first reached within. Per-facility service areas come from one search per
 * facility.
 */
#include "cover/cover.h"

#include <math.h>
#include <string.h>

/* Append one cut polyline to lines. A cut that starts exactly where the last line ends
 * (the next piece of the same street, as edges of one way follow each other) extends
 * that line: the shared vertex is written once, not twice. */
static bool add_cut(const cs_graph *g, const cs_interval *iv, cs_lines *lines, size_t *line_cap,
                    size_t *vertex_cap)
{
    if (!cs_grow((void **)&lines->start, line_cap, lines->count + 2, sizeof *lines->start))
        return false;
    size_t at = lines->start[lines->count], len = at;
    size_t added = cs_graph_cut(g, (size_t)iv->edge, iv->from_m, iv->to_m, &lines->x, &lines->y,
                                &len, vertex_cap);
    if (added == 0)
        return false;
    double *x = lines->x, *y = lines->y;
    if (lines->count > 0 && x[at] == x[at - 1] && y[at] == y[at - 1]) {
        memmove(x + at, x + at + 1, (added - 1) * sizeof *x);
        memmove(y + at, y + at + 1, (added - 1) * sizeof *y);
        lines->start[lines->count] = len - 1;
        return true;
    }
    lines->start[++lines->count] = len;
    return true;
}

/* Pieces shorter than this (m) left by subtracting two budgets' stretches are rounding. */
#define SLIVER_M 1e-6

static bool add_interval(cs_interval **out, size_t *cap, size_t *n, long edge, double from,
                         double to)
{
    if (!(to - from > SLIVER_M))
        return true;
    if (!cs_grow((void **)out, cap, *n + 1, sizeof **out))
        return false;
    (*out)[(*n)++] = (cs_interval){edge, from, to};
    return true;
}

/* a[0 .. na) minus b[0 .. nb) into *out: both sorted by edge, then from_m, the stretches
 * of one edge disjoint (as cs_net_field_reached gives them). Returns the count, or
 * (size_t)-1 without memory. */
static size_t subtract(const cs_interval *a, size_t na, const cs_interval *b, size_t nb,
                       cs_interval **out, size_t *cap)
{
    size_t n = 0, q = 0;
    for (size_t p = 0; p < na; p++) {
        double from = a[p].from_m;
        while (q < nb && (b[q].edge < a[p].edge || (b[q].edge == a[p].edge &&
                                                    b[q].to_m <= from)))
            q++;
        /* the stretches of b on this edge overlapping a[p], in order */
        for (size_t r = q; r < nb && b[r].edge == a[p].edge && b[r].from_m < a[p].to_m; r++) {
            if (!add_interval(out, cap, &n, a[p].edge, from, fmin(b[r].from_m, a[p].to_m)))
                return (size_t)-1;
            from = fmax(from, b[r].to_m);
        }
        if (!add_interval(out, cap, &n, a[p].edge, from, a[p].to_m))
            return (size_t)-1;
    }
    return n;
}

/* The stretches iv[0 .. n) of the stretches before[0 .. m) left out: a new list in
 * *out (n of them when m is 0); its count, or (size_t)-1 without memory. */
static size_t ring_of(const cs_interval *iv, size_t n, const cs_interval *before, size_t m,
                      cs_interval **out)
{
    size_t cap = 0;
    *out = NULL;
    return subtract(iv, n, before, m, out, &cap);
}

/* Polylines built a few stretches at a time (add_cut), with the room they have. */
typedef struct line_builder {
    cs_lines *lines;
    size_t line_cap, vertex_cap;
} line_builder;

static bool builder_begin(line_builder *b, cs_lines *lines)
{
    memset(lines, 0, sizeof *lines);
    *b = (line_builder){lines, 0, 0};
    if (!cs_grow((void **)&lines->start, &b->line_cap, 1, sizeof *lines->start))
        return false;
    lines->start[0] = 0;
    return true;
}

/* The stretches iv[0 .. n) appended, the empty ones passed over. */
static bool builder_add(line_builder *b, const cs_graph *g, const cs_interval *iv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (iv[i].to_m > iv[i].from_m && !add_cut(g, &iv[i], b->lines, &b->line_cap,
                                                  &b->vertex_cap))
            return false;
    return true;
}

/* The lines trimmed to what they hold: they are kept until written. */
static void builder_end(line_builder *b)
{
    cs_lines *l = b->lines;
    size_t nv = l->start[l->count];
    l->x = cs_shrink(l->x, nv, sizeof *l->x);
    l->y = cs_shrink(l->y, nv, sizeof *l->y);
    l->start = cs_shrink(l->start, l->count + 1, sizeof *l->start);
}

/* The stretches iv[0 .. n) as polylines into *out. Errors: CS_ERR_NOMEM. */
static cs_status lines_of(const cs_graph *g, const cs_interval *iv, size_t n, cs_lines *out)
{
    line_builder b;
    if (!builder_begin(&b, out) || !builder_add(&b, g, iv, n)) {
        cs_lines_free(out);
        return CS_ERR_NOMEM;
    }
    builder_end(&b);
    return CS_OK;
}

/* How many pieces the stretches iv[0 .. n) are. */
static size_t pieces_of(const cs_interval *iv, size_t n)
{
    size_t pieces = 0;
    for (size_t i = 0; i < n; i++)
        pieces += iv[i].to_m > iv[i].from_m;
    return pieces;
}

cs_status cs_cover_reached_lines(const cs_net_field *f, double budget_m, double before_m,
                                 cs_lines *out, size_t *pieces)
{
    memset(out, 0, sizeof *out);
    cs_interval *iv = NULL, *near = NULL, *ring = NULL;
    size_t cap = 0, near_cap = 0, n = cs_net_field_reached(f, budget_m, &iv, &cap), m = 0;
    if (n != (size_t)-1 && before_m >= 0)
        m = cs_net_field_reached(f, before_m, &near, &near_cap);
    if (n != (size_t)-1 && m != (size_t)-1)
        n = ring_of(iv, n, near, m, &ring);
    cs_status st = n != (size_t)-1 && m != (size_t)-1 ? lines_of(f->g, ring, n, out)
                                                      : CS_ERR_NOMEM;
    if (st == CS_OK && pieces)
        *pieces = pieces_of(ring, n);
    cs_free(iv);
    cs_free(near);
    cs_free(ring);
    return st;
}

/* One service area: the reached lines buffered, exactly up to network.area_max_pieces
 * pieces, on cells beyond. It is not clipped to the district: the streets already end
 * where the network does, and clipping a polygon with hundreds of holes costs as much
 * again as building it. */
static cs_rings *area_of(cs_geos h, const cs_walk_network *net, const cs_lines *lines,
                         size_t pieces, cs_status *st)
{
    *st = CS_OK;
    if ((double)pieces <= net->area_max_pieces)
        return cs_rings_of_geom(h, cs_geom_buffer_lines(h, lines, net->access_width_m));
    cs_rings drawn;
    *st = cs_cells_buffer(lines, net->access_width_m, net->area_cell_m, &drawn);
    return *st == CS_OK ? cs_rings_moved(&drawn) : NULL;
}

/* What the first step of drawing (the lines, from the graph and its searches) leaves for
 * the second (the polygons, from the lines alone), per kind and threshold. */
struct cs_network_drawing {
    long jobs;      /* K x CS_MAX_THRESHOLDS */
    size_t *pieces; /* the pieces reached within each threshold */
    cs_lines *within; /* all the network within it, where few enough to dissolve exactly */
    bool *cells;      /* to be drawn on cells */
    cs_status *why;   /* why a polygon could not be drawn */
};

/* Step one's jobs: the lines they make. */
typedef struct kind_areas {
    const cs_result *r;
    cs_lines *lines;
    cs_network_drawing *d;
} kind_areas;

/* Step two's jobs: the polygons they draw from the lines. */
typedef struct kind_polygons {
    const cs_result *r;
    const cs_lines *lines;
    cs_rings **polys;
    cs_network_drawing *d;
} kind_polygons;

/* One threshold's part of a kind's service areas, made an edge at a time. */
typedef struct threshold_work {
    cs_interval *iv, *ring; /* the edge's stretches within it; those less the threshold
                               before's (reached first within this one) */
    size_t n, iv_cap, ring_cap;
    line_builder first;     /* the stretches reached first within it: the lines written */
    line_builder within;    /* all within it, while few enough to be dissolved exactly */
    bool exact;
} threshold_work;

/* Edge e's part of every threshold of kind k; false without memory. */
static bool edge_areas(const kind_areas *ka, const cs_net_field *f, size_t k, size_t e,
                       size_t *next_src, threshold_work *w)
{
    const cs_study *s = ka->r->study;
    const cs_kind *kind = &s->settings.kinds[k];
    size_t T = kind->threshold_count, any = 0;
    for (size_t j = 0; j < T; j++) {
        w[j].n = 0;
        if (!cs_net_field_edge_reached(f, e, kind->threshold_m[j], next_src, &w[j].iv,
                                       &w[j].iv_cap, &w[j].n))
            return false;
        any += w[j].n;
    }
    for (size_t j = 0; any && j < T; j++) {
        size_t nr = subtract(w[j].iv, w[j].n, j ? w[j - 1].iv : NULL, j ? w[j - 1].n : 0,
                             &w[j].ring, &w[j].ring_cap);
        if (nr == (size_t)-1 || !builder_add(&w[j].first, f->g, w[j].ring, nr))
            return false;
        size_t *pieces = &ka->d->pieces[k * CS_MAX_THRESHOLDS + j];
        *pieces += pieces_of(w[j].iv, w[j].n);
        if (w[j].exact && (double)*pieces > s->net.area_max_pieces) {
            w[j].exact = false; /* to be drawn on cells: its lines are not needed */
            cs_lines_free(w[j].within.lines);
        } else if (w[j].exact && !builder_add(&w[j].within, f->g, w[j].iv, w[j].n)) {
            return false;
        }
    }
    return true;
}

/* Kind k's lines: for each threshold j, the stretches first reached within it (its
 * lines) and, while they are few enough to be dissolved exactly, all those within it.
 * They are made an edge at a time: the whole network's stretches are never held. */
static bool kind_lines_job(const void *data, cs_geos h, const cs_geom *district, long job)
{
    (void)h;
    (void)district;
    const kind_areas *ka = data;
    const cs_result *r = ka->r;
    size_t k = (size_t)job, at = k * CS_MAX_THRESHOLDS;
    if (!r->dist_m[cs_res_field(r, 1, k)])
        return true;
    const cs_net_field *f = &r->fields[k];
    size_t T = r->study->settings.kinds[k].threshold_count, next_src = 0;
    threshold_work w[CS_MAX_THRESHOLDS];
    memset(w, 0, sizeof w);
    bool ok = true;
    for (size_t j = 0; j < T; j++) {
        w[j].exact = true;
        ok = ok && builder_begin(&w[j].first, &ka->lines[at + j]) &&
             builder_begin(&w[j].within, &ka->d->within[at + j]);
    }
    for (size_t e = 0; ok && e < f->g->edge_count; e++)
        ok = edge_areas(ka, f, k, e, &next_src, w);
    for (size_t j = 0; j < T; j++) {
        if (ok) {
            builder_end(&w[j].first);
            ka->d->cells[at + j] = !w[j].exact;
        }
        if (ok && w[j].exact)
            builder_end(&w[j].within);
        cs_free(w[j].iv);
        cs_free(w[j].ring);
    }
    return ok;
}

/* Kind k's polygons, from its lines: thresholds reaching up to network.area_max_pieces
 * pieces are dissolved exactly; the others are drawn on cells all in one pass, each
 * piece once, at the threshold that first reaches it. */
static bool kind_polygons_job(const void *data, cs_geos h, const cs_geom *district, long job)
{
    (void)district;
    const kind_polygons *kp = data;
    const cs_study *s = kp->r->study;
    size_t k = (size_t)job, at = k * CS_MAX_THRESHOLDS;
    size_t T = s->settings.kinds[k].threshold_count;
    cs_network_drawing *d = kp->d;
    if (!kp->r->dist_m[cs_res_field(kp->r, 1, k)])
        return true;
    bool cells = false;
    for (size_t j = 0; j < T; j++) {
        cells |= d->cells[at + j];
        if (!d->cells[at + j] &&
            !(kp->polys[at + j] = cs_rings_of_geom(
                  h, cs_geom_buffer_lines(h, &d->within[at + j], s->net.access_width_m))))
            return false;
        cs_lines_free(&d->within[at + j]);
    }
    if (!cells)
        return true;
    cs_rings drawn[CS_MAX_THRESHOLDS];
    d->why[at] = cs_cells_buffer_levels(&kp->lines[at], T, s->net.access_width_m,
                                        s->net.area_cell_m, &d->cells[at], drawn);
    for (size_t j = 0; j < T; j++) {
        if (d->cells[at + j] && d->why[at] == CS_OK &&
            !(kp->polys[at + j] = cs_rings_moved(&drawn[j])))
            d->why[at] = CS_ERR_NOMEM;
        cs_rings_free(&drawn[j]); /* a level not taken (none when all went well) */
    }
    return d->why[at] == CS_OK;
}

/* Say which service areas were drawn on cells, and how close that is. */
static void note_cells(cs_context *ctx, const cs_result *r, const size_t *pieces)
{
    const cs_walk_network *net = &r->study->net;
    size_t n = 0;
    for (size_t i = 0; i < r->K * CS_MAX_THRESHOLDS; i++)
        n += (double)pieces[i] > net->area_max_pieces;
    if (n == 0)
        return;
    cs_where w = {.field = "network.area_max_pieces"};
    cs_warn(ctx, &w,
            "smaller cells (network.area_cell_m) draw closer to it; a larger "
            "network.area_max_pieces dissolves exactly, taking minutes",
            "%zu network service areas reach more than %.0f street pieces and are drawn on "
            "%g m cells: inside the exact outline and short of it by at most %.1f m",
            n, net->area_max_pieces, net->area_cell_m, net->area_cell_m * M_SQRT2);
}

void cs_network_drawing_destroy(cs_network_drawing *d)
{
    if (!d)
        return;
    for (long i = 0; d->within && i < d->jobs; i++)
        cs_lines_free(&d->within[i]);
    cs_free(d->pieces);
    cs_free(d->within);
    cs_free(d->cells);
    cs_free(d->why);
    cs_free(d);
}

/* The error of a failed step: the first reason a job gave, else memory or GEOS. */
static cs_status drawing_failed(cs_context *ctx, const cs_result *r, const cs_network_drawing *d)
{
    cs_status why = CS_OK;
    for (long i = 0; why == CS_OK && i < d->jobs; i++)
        why = d->why[i];
    if (why == CS_ERR_ARGUMENT) {
        cs_where w = {.field = "network.area_cell_m"};
        return cs_error(ctx, CS_ERR_STUDY, &w, "give larger cells",
                        "the network service areas span more than 10^12 cells of %g m, or "
                        "more than 2^26 across",
                        r->study->net.area_cell_m);
    }
    if (cs_take_nomem() || why == CS_ERR_NOMEM)
        return cs_error(ctx, CS_ERR_NOMEM, NULL, CS_NOMEM_HINT,
                        "out of memory while building the network service areas");
    return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL,
                    "building the network service areas failed (GEOS, or out of memory)");
}

cs_status cs_cover_network_lines(cs_context *ctx, const cs_result *r, cs_lines *lines,
                                 cs_network_drawing **drawing)
{
    long jobs = (long)(r->K * CS_MAX_THRESHOLDS);
    memset(lines, 0, (size_t)jobs * sizeof *lines);
    cs_network_drawing *d = cs_calloc(1, sizeof *d);
    if (d) {
        d->jobs = jobs;
        d->pieces = cs_calloc((size_t)jobs, sizeof *d->pieces);
        d->within = cs_calloc((size_t)jobs, sizeof *d->within);
        d->cells = cs_calloc((size_t)jobs, sizeof *d->cells);
        d->why = cs_calloc((size_t)jobs, sizeof *d->why);
    }
    *drawing = d;
    if (!d || !d->pieces || !d->within || !d->cells || !d->why)
        return cs_nomem(ctx);
    kind_areas ka = {r, lines, d};
    if (!r->has_network ||
        cs_cover_run_jobs(&r->study->areas, (long)r->K, ctx->threads, kind_lines_job, &ka))
        return CS_OK;
    for (long i = 0; i < jobs; i++)
        cs_lines_free(&lines[i]);
    return drawing_failed(ctx, r, d);
}

cs_status cs_cover_network_polygons(cs_context *ctx, const cs_result *r, const cs_lines *lines,
                                    cs_network_drawing *drawing, cs_rings **polys)
{
    long jobs = drawing->jobs;
    for (long i = 0; i < jobs; i++)
        polys[i] = NULL;
    kind_polygons kp = {r, lines, polys, drawing};
    bool done = !r->has_network || cs_cover_run_jobs(&r->study->areas, (long)r->K,
                                                      ctx->threads, kind_polygons_job, &kp);
    cs_status st = CS_OK;
    if (done && r->has_network)
        note_cells(ctx, r, drawing->pieces);
    if (!done) {
        for (long i = 0; i < jobs; i++) {
            cs_rings_destroy(polys[i]);
            polys[i] = NULL;
        }
        st = drawing_failed(ctx, r, drawing);
    }
    cs_network_drawing_destroy(drawing);
    return st;
}

cs_status cs_cover_network_areas(cs_context *ctx, const cs_result *r, cs_lines *lines,
                                 cs_rings **polys)
{
    cs_network_drawing *d = NULL;
    cs_status st = cs_cover_network_lines(ctx, r, lines, &d);
    if (st != CS_OK) {
        cs_network_drawing_destroy(d);
        return st;
    }
    st = cs_cover_network_polygons(ctx, r, lines, d, polys);
    for (long i = 0; st != CS_OK && i < (long)(r->K * CS_MAX_THRESHOLDS); i++)
        cs_lines_free(&lines[i]);
    return st;
}

typedef struct facility_areas {
    const cs_result *r;
    cs_rings **polys;
} facility_areas;

/* Facility f's own service area at its kind's largest threshold: a search from f alone. */
static bool facility_area_job(const void *data, cs_geos h, const cs_geom *district, long i)
{
    (void)district;
    const facility_areas *fa = data;
    const cs_result *r = fa->r;
    const cs_study *s = r->study;
    size_t f = (size_t)i, k = (size_t)s->fac.kind[f];
    if (!r->dist_m[cs_res_field(r, 1, k)] || r->net.facilities.edge[f] < 0)
        return true;
    cs_attach one = {1, &r->net.facilities.edge[f], &r->net.facilities.along_m[f],
                     &r->net.facilities.access_m[f]};
    long id = (long)f;
    double budget = cs_kind_reach_m(&s->settings.kinds[k]);
    cs_net_field field;
    memset(&field, 0, sizeof field);
    cs_lines lines;
    size_t pieces = 0;
    memset(&lines, 0, sizeof lines);
    bool ok = cs_net_field_compute(&r->net.graph, &one, &id, budget, &field) == CS_OK &&
              cs_cover_reached_lines(&field, budget, -1, &lines, &pieces) == CS_OK;
    cs_status st;
    if (ok)
        ok = (fa->polys[f] = area_of(h, &s->net, &lines, pieces, &st)) != NULL;
    cs_lines_free(&lines);
    cs_net_field_free(&field);
    return ok;
}

cs_status cs_cover_facility_areas(cs_context *ctx, const cs_result *r, cs_rings **polys)
{
    const cs_study *s = r->study;
    for (size_t f = 0; f < s->fac.count; f++)
        polys[f] = NULL;
    if (!r->has_network)
        return CS_OK;
    facility_areas fa = {r, polys};
    if (cs_cover_run_jobs(&s->areas, (long)s->fac.count, ctx->threads, facility_area_job, &fa))
        return CS_OK;
    for (size_t f = 0; f < s->fac.count; f++) {
        cs_rings_destroy(polys[f]);
        polys[f] = NULL;
    }
    if (cs_take_nomem())
        return cs_error(ctx, CS_ERR_NOMEM, NULL, CS_NOMEM_HINT,
                        "out of memory while building the per-facility service areas");
    return cs_error(ctx, CS_ERR_INTERNAL, NULL, NULL,
                    "building the per-facility service areas failed (GEOS, or out of "
                    "memory)");
}
