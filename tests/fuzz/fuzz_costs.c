/*
 * fuzz_costs.c — libFuzzer target for the cost-matrix reader (io/costs.c): the
 * narrowest entry that takes a file, cs_load_costs, over any bytes written as a .csv,
 * joined to a small fixed study (demand ids 1..3 inside, 4 left out; facilities F1 of
 * a kind measured by the matrix and F2 of one that is not). Plain tables go through
 * io/csv.c, others (quotes) through GDAL's CSV driver, as in a real run.
 */
#include "fuzz_common.h"
#include "io/config.h"
#include "io/load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_context *ctx = fuzz_context();
    const char *path = fuzz_write("costs.csv", data, size);
    static cs_config *cfg;
    if (!cfg && (cs_config_create(ctx, &cfg) != CS_OK ||
                 cs_config_set_at(ctx, cfg, "costs.path", path, NULL, 0) != CS_OK))
        abort();

    static char *dem_id[4] = {"1", "2", "3", "4"};
    static char *fac_id[2] = {"F1", "F2"};
    static long fac_kind[2] = {0, 1};
    cs_kind kinds[2];
    memset(kinds, 0, sizeof kinds);
    kinds[0].id = "centre";
    kinds[0].measures = CS_MEASURE_MATRIX;
    kinds[1].id = "meal";
    cs_study s;
    memset(&s, 0, sizeof s);
    s.dem.count = 3;
    s.dem.id = dem_id;
    s.dem.id_count = 4;
    s.dem.source = "points";
    s.dem.year = NAN;
    s.fac.count = 2;
    s.fac.id = fac_id;
    s.fac.kind = fac_kind;
    s.settings.kind_count = 2;
    s.settings.kinds = kinds;

    cs_raw_layer raw;
    memset(&raw, 0, sizeof raw);
    cs_status st = cs_load_costs(ctx, cfg, &s, &raw);
    if (st == CS_OK) {
        /* the contract of cs_cost_matrix: rows in order, each pair once, points inside */
        const cs_cost_matrix *m = &s.costs;
        for (size_t r = 0; r < m->rows; r++) {
            if (m->start[r] > m->end[r] || m->end[r] > m->pairs)
                __builtin_trap();
            for (size_t q = m->start[r]; q < m->end[r]; q++)
                if (m->pt[q] >= s.dem.count || (q > m->start[r] && m->pt[q] <= m->pt[q - 1]) ||
                    !(m->cost[q] >= 0))
                    __builtin_trap();
        }
    }
    cs_cost_matrix_free(&s.costs);
    cs_raw_layer_free(&raw);
    unlink(path);
    cs_context_clear_messages(ctx);
    return 0;
}
