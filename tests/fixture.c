/*
 * fixture.c — generated studies for the tests (see fixture.h).
 */
#include "fixture.h"
#include "testutil.h"

#include "io/config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double uniform(unsigned long long *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

void fx_alloc(fx_data *d, size_t gx, size_t gy, double cell_m, size_t nfac, size_t npop)
{
    memset(d, 0, sizeof *d);
    d->gx = gx;
    d->gy = gy;
    d->cell_m = cell_m;
    d->nfac = nfac;
    d->npop = npop;
    d->fx = calloc(nfac + 1, sizeof(double));
    d->fy = calloc(nfac + 1, sizeof(double));
    d->fbeds = calloc(nfac + 1, sizeof(double));
    d->fkind = calloc(nfac + 1, sizeof(int));
    d->px = calloc(npop + 1, sizeof(double));
    d->py = calloc(npop + 1, sizeof(double));
    d->pop = calloc(npop + 1, sizeof(double));
    d->pop65 = calloc(npop + 1, sizeof(double));
}

void fx_random(fx_data *d, unsigned seed, size_t gx, size_t gy, double cell_m, size_t nfac,
               size_t npop)
{
    unsigned long long s = seed * 2654435761ULL + 1;
    fx_alloc(d, gx, gy, cell_m, nfac, npop);
    /* keep points 1 m inside the grid so none sits on its outer edge */
    double w = (double)gx * cell_m - 2, h = (double)gy * cell_m - 2;
    for (size_t i = 0; i < nfac; i++) {
        d->fx[i] = FX_X0 + 1 + round(uniform(&s) * w * 100) / 100;
        d->fy[i] = FX_Y0 + 1 + round(uniform(&s) * h * 100) / 100;
        d->fkind[i] = uniform(&s) < 0.6 ? 0 : 1;
        d->fbeds[i] = floor(uniform(&s) * 200);
    }
    for (size_t i = 0; i < npop; i++) {
        double x, y;
        do { /* avoid cell borders, where the area is ambiguous */
            x = FX_X0 + 1 + round(uniform(&s) * w * 100) / 100;
            y = FX_Y0 + 1 + round(uniform(&s) * h * 100) / 100;
        } while (fmod(x - FX_X0, cell_m) < 0.5 || fmod(y - FX_Y0, cell_m) < 0.5);
        d->px[i] = x;
        d->py[i] = y;
        d->pop[i] = 1 + floor(uniform(&s) * 500);
        d->pop65[i] = floor(d->pop[i] * uniform(&s) * 0.3);
    }
}

void fx_free(fx_data *d)
{
    free(d->fx);
    free(d->fy);
    free(d->fbeds);
    free(d->fkind);
    free(d->px);
    free(d->py);
    free(d->pop);
    free(d->pop65);
    memset(d, 0, sizeof *d);
}

long fx_area_of(const fx_data *d, double x, double y)
{
    double cx = floor((x - FX_X0) / d->cell_m), cy = floor((y - FX_Y0) / d->cell_m);
    if (cx < 0 || cy < 0 || cx >= (double)d->gx || cy >= (double)d->gy)
        return -1;
    return (long)(cy * (double)d->gx + cx);
}

char *fx_write(const char *dir, const fx_data *d, const char *extra_yaml)
{
    char *path = tu_join(dir, "areas.geojson");
    FILE *f = fopen(path, "w");
    free(path);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (size_t j = 0; j < d->gy; j++)
        for (size_t i = 0; i < d->gx; i++) {
            double x0 = FX_X0 + (double)i * d->cell_m, y0 = FX_Y0 + (double)j * d->cell_m;
            double x1 = x0 + d->cell_m, y1 = y0 + d->cell_m;
            size_t a = j * d->gx + i;
            fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"id\":\"A%zu\",\"name\":\"区%zu\"},"
                       "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.2f,%.2f],[%.2f,%.2f],"
                       "[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]]}}\n",
                    a ? "," : "", a, a, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
        }
    fprintf(f, "]}\n");
    fclose(f);
    path = tu_join(dir, "facilities.csv");
    f = fopen(path, "w");
    free(path);
    fprintf(f, "id,name,kind,x,y,beds\n");
    for (size_t i = 0; i < d->nfac; i++)
        fprintf(f, "F%zu,设施%zu,%s,%.2f,%.2f,%.0f\n", i, i, d->fkind[i] ? "b" : "a", d->fx[i],
                d->fy[i], d->fbeds[i]);
    fclose(f);
    path = tu_join(dir, "population.csv");
    f = fopen(path, "w");
    free(path);
    fprintf(f, "x,y,pop,pop65,id\n");
    for (size_t i = 0; i < d->npop; i++)
        fprintf(f, "%.2f,%.2f,%.0f,%.0f,D%zu\n", d->px[i], d->py[i], d->pop[i], d->pop65[i], i);
    fclose(f);
    path = tu_join(dir, "study.yaml");
    f = fopen(path, "w");
    fprintf(f,
            "name: fixture\n"
            "crs: EPSG:32651\n"
            "walk_speed_kmh: 4.8\n"
            "thresholds_min: [5, 10, 15]\n"
            "areas: {path: areas.geojson, crs: EPSG:32651, id: id, name: name}\n"
            "facilities: {path: facilities.csv, crs: EPSG:32651, x: x, y: y, id: id, name: name,"
            " kind: kind}\n"
            "population:\n"
            "  path: population.csv\n"
            "  crs: EPSG:32651\n"
            "  x: x\n"
            "  y: y\n"
            "  total: pop\n"
            "  bands:\n"
            "    65+: pop65\n"
            "capacities:\n"
            "  beds: {field: beds, unit: beds, name: 床位}\n"
            "kinds:\n"
            "  a: {name: 中心, name_en: centre, unit: centres}\n"
            "  b: {name: 助餐点, name_en: meal site, unit: meal sites}\n"
            "%s",
            extra_yaml ? extra_yaml : "");
    fclose(f);
    return path;
}

cs_status fx_env_open(fx_env *e, const fx_data *d, const char *extra_yaml)
{
    if (!e->dir)
        e->dir = tu_mkdtemp();
    return fx_env_open_file(e, fx_write(e->dir, d, extra_yaml));
}

cs_status fx_env_open_file(fx_env *e, char *path)
{
    e->study_path = path;
    assert_int_equal(cs_context_create(&e->ctx), CS_OK);
    assert_int_equal(cs_config_create(e->ctx, &e->cfg), CS_OK);
    return cs_config_load(e->ctx, e->cfg, path);
}

void fx_env_close(fx_env *e)
{
    cs_result_destroy(e->result);
    cs_study_destroy(e->study);
    cs_config_destroy(e->cfg);
    cs_context_destroy(e->ctx);
    if (e->dir)
        tu_rmtree(e->dir);
    free(e->dir);
    free(e->study_path);
    fx_free(&e->d);
    memset(e, 0, sizeof *e);
}

void fx_env_set(fx_env *e, const char *key, const char *value)
{
    assert_int_equal(cs_config_set(e->ctx, e->cfg, key, value), CS_OK);
}

void fx_env_write(fx_env *e, const char *name, const char *text)
{
    free(tu_write(e->dir, name, text));
}

cs_status fx_env_load(fx_env *e)
{
    cs_result_destroy(e->result);
    cs_study_destroy(e->study);
    e->result = NULL;
    e->study = NULL;
    return cs_study_load(e->ctx, e->cfg, &e->study);
}

cs_status fx_env_run(fx_env *e)
{
    cs_status st = fx_env_load(e);
    return st == CS_OK ? cs_run(e->ctx, e->study, &e->result) : st;
}

/* Print the messages before the assertion fails, so the failure says why. */
static void assert_ok(const fx_env *e, cs_status st)
{
    if (st != CS_OK)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, CS_OK);
}

void fx_env_load_ok(fx_env *e)
{
    assert_ok(e, fx_env_load(e));
}

void fx_env_run_ok(fx_env *e)
{
    assert_ok(e, fx_env_run(e));
}

char *fx_env_run_and_write(fx_env *e)
{
    fx_env_run_ok(e);
    char *out = tu_join(e->dir, "out");
    cs_status st = cs_result_write(e->ctx, e->study, e->result, out);
    if (st != CS_OK)
        tu_dump_messages(e->ctx);
    assert_int_equal(st, CS_OK);
    return out;
}

int fx_env_setup(void **state)
{
    fx_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    fx_random(&e->d, 5, 2, 2, 1000, 12, 200);
    assert_int_equal(fx_env_open(e, &e->d, NULL), CS_OK);
    *state = e;
    return 0;
}

int fx_env_setup_empty(void **state)
{
    *state = calloc(1, sizeof(fx_env));
    assert_non_null(*state);
    return 0;
}

int fx_env_teardown(void **state)
{
    fx_env *e = *state;
    fx_env_close(e);
    free(e);
    return 0;
}

/* fx_lonlat_study's street: 121.38..121.41 E, 31.13..31.16 N (Shanghai). */
static const char lonlat_street[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"S\"},\"geometry\":"
    "{\"type\":\"Polygon\",\"coordinates\":[[[121.38,31.13],[121.41,31.13],"
    "[121.41,31.16],[121.38,31.16],[121.38,31.13]]]}}]}\n";

void fx_lonlat_study(fx_env *e, const char *fac_path, const char *fac_crs)
{
    fx_env_write(e, "ll-areas.geojson", lonlat_street);
    fx_env_write(e, "ll-pop.csv", "lon,lat,pop\n121.39,31.14,100\n");
    fx_env_set(e, "crs", "auto");
    fx_env_set(e, "areas.path", "ll-areas.geojson");
    fx_env_set(e, "areas.crs", "");
    fx_env_set(e, "areas.name", "");
    fx_env_set(e, "facilities.name", "");
    fx_env_set(e, "population.path", "ll-pop.csv");
    fx_env_set(e, "population.crs", "EPSG:4326");
    fx_env_set(e, "population.x", "");
    fx_env_set(e, "population.y", "");
    fx_env_set(e, "population.bands.65+", "");
    fx_env_set(e, "population.bands.65+.share", "0.14");
    fx_env_set(e, "facilities.path", fac_path);
    fx_env_set(e, "facilities.crs", fac_crs);
    fx_env_set(e, "facilities.x", "");
    fx_env_set(e, "facilities.y", "");
}
