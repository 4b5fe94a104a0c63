/*
 * fixture.h — small generated studies for the tests, in UTM zone 51N (EPSG:32651)
 * with the working CRS set to the same, so the tests can compute expected values by
 * brute force on the very coordinates they wrote.
 *
 * Areas are a gx x gy grid of square cells of cell_m metres from (x0, y0); ids "A<i>".
 * Facilities ("F<i>") have kinds "a" or "b" and a "beds" capacity; demand points
 * ("D<i>", in the id field, which the study does not read unless told) have "pop" and
 * "pop65". The study walks at 4.8 km/h = 80 m/min: 5/10/15 min = 400/800/1200 m.
 *
 * fx_env, below, is the harness of the tests that load a study: folder, context,
 * config, study and result made and freed in one place.
 */
#ifndef CS_FIXTURE_H
#define CS_FIXTURE_H

#include "careshed/careshed.h"

#include <stddef.h>

#define FX_X0 350000.0
#define FX_Y0 3440000.0
#define FX_M_PER_MIN 80.0

typedef struct fx_data {
    size_t gx, gy;
    double cell_m;
    size_t nfac;
    double *fx, *fy, *fbeds;
    int *fkind; /* 0 = "a", 1 = "b" */
    size_t npop;
    double *px, *py, *pop, *pop65;
} fx_data;

/* A study of gx x gy cells with room for nfac facilities and npop demand points, all
 * zero (the caller places them). */
void fx_alloc(fx_data *d, size_t gx, size_t gy, double cell_m, size_t nfac, size_t npop);
/* Random facilities and demand points inside the grid (deterministic for a seed). */
void fx_random(fx_data *d, unsigned seed, size_t gx, size_t gy, double cell_m, size_t nfac,
               size_t npop);
void fx_free(fx_data *d);

/* Write areas.geojson, facilities.csv, population.csv and study.yaml into dir, with
 * extra_yaml appended to the study (may be NULL). Returns the study path (free()). */
char *fx_write(const char *dir, const fx_data *d, const char *extra_yaml);

/* Area index (row-major) of a point in the grid, -1 outside. */
long fx_area_of(const fx_data *d, double x, double y);

/* A test's study: a temporary folder with the layers and study.yaml, the context and
 * config read from it, and the study and result once loaded and run. Start from a
 * zeroed env; fx_env_close frees all of it (members left NULL are skipped, so a test
 * may stop anywhere), removes the folder and zeroes the env again. The env owns dir,
 * study_path and d, not the data given to fx_env_open. */
typedef struct fx_env {
    char *dir;        /* made by fx_env_open unless the test set one (then taken); NULL
                       * when a test opens a file of its own elsewhere */
    char *study_path; /* the study file read */
    fx_data d;
    cs_context *ctx;
    cs_config *cfg;
    cs_study *study;
    cs_result *result;
} fx_env;

/* Write d into the env's folder with extra_yaml appended to the study (may be NULL),
 * create the context and config and read the study file into the config. Returns the
 * status of reading it (creating the context and config is asserted). */
cs_status fx_env_open(fx_env *e, const fx_data *d, const char *extra_yaml);
/* The same for a study file of the test's own at path (taken: freed with the env). */
cs_status fx_env_open_file(fx_env *e, char *path);
void fx_env_close(fx_env *e);
/* Set a study key, asserting that it takes. */
void fx_env_set(fx_env *e, const char *key, const char *value);
/* Write text to name in the env's folder. */
void fx_env_write(fx_env *e, const char *name, const char *text);
/* A lon/lat study of one street around Shanghai (121.38..121.41 E, 31.13..31.16 N,
 * ll-areas.geojson) with 100 residents at 121.39, 31.14 (ll-pop.csv) and the
 * facilities of fac_path in fac_crs ("": none given), for the CRS and coordinate cases. */
void fx_lonlat_study(fx_env *e, const char *fac_path, const char *fac_crs);
/* Load the study afresh (the previous study and result freed first); fx_env_run then
 * runs it when the load succeeds. Both return the first failure. */
cs_status fx_env_load(fx_env *e);
cs_status fx_env_run(fx_env *e);
/* The same, asserting success; on failure the context's messages are printed first. */
void fx_env_load_ok(fx_env *e);
void fx_env_run_ok(fx_env *e);
/* Load, run and write the outputs into the env's folder "out"; returns that folder
 * (free()), asserting success. */
char *fx_env_run_and_write(fx_env *e);

/* cmocka's setups and teardown: fx_env_setup opens a random 2 x 2 study of 1 km cells
 * (seed 5, 12 facilities, 200 demand points); fx_env_setup_empty gives an env with
 * nothing in it, for the test to fill d and open; fx_env_teardown closes whatever env
 * *state holds and frees it. */
int fx_env_setup(void **state);
int fx_env_setup_empty(void **state);
int fx_env_teardown(void **state);

#endif
