/*
 * fuzz_geojson.c — libFuzzer target for the GeoJSON network reader (io/geojson.c):
 * any bytes as a layer with fields of each kind the reader takes (text, integer,
 * 64-bit integer, real, boolean), every feature read to its end or to the first one
 * declined, and every value, text and line of each feature looked at.
 */
#include "fuzz_common.h"
#include "io/geojson.h"

#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static OGRFeatureDefnH fields(void)
{
    static OGRFeatureDefnH defn;
    if (defn)
        return defn;
    const struct {
        const char *name;
        OGRFieldType type;
        OGRFieldSubType sub;
    } f[] = {{"highway", OFTString, OFSTNone},
             {"closed", OFTInteger, OFSTNone},
             {"big", OFTInteger64, OFSTNone},
             {"speed", OFTReal, OFSTNone},
             {"lit", OFTInteger, OFSTBoolean}};
    defn = OGR_FD_Create("fuzz");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(f[i].name, f[i].type);
        OGR_Fld_SetSubType(fd, f[i].sub);
        OGR_FD_AddFieldDefn(defn, fd);
        OGR_Fld_Destroy(fd);
    }
    return defn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_context *ctx = fuzz_context();
    OGRFeatureDefnH defn = fields();
    const char *path = fuzz_write("fuzz.geojson", data, size);
    cs_geojson_rows *rows = NULL;
    size_t seen = 0;
    if (cs_geojson_open(ctx, path, defn, &rows) == CS_OK && rows) {
        while (cs_geojson_next(rows) == CS_GEOJSON_FEATURE) {
            for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
                seen += strlen(cs_geojson_text(rows, i));
                if (cs_geojson_has(rows, i) && i > 0)
                    seen += cs_geojson_number(rows, i) > 0;
            }
            const double *x, *y;
            const size_t *start;
            size_t lines = cs_geojson_lines(rows, &x, &y, &start);
            for (size_t l = 0; l < lines; l++) {
                if (start[l] > start[l + 1])
                    __builtin_trap(); /* lines never run backwards */
                for (size_t v = start[l]; v < start[l + 1]; v++)
                    seen += x[v] < y[v];
            }
            if ((cs_geojson_kind(rows) == CS_GEOM_LINE) != (lines > 0 && start[lines] > 0))
                __builtin_trap(); /* a line is a feature with a position */
        }
        cs_geojson_close(rows);
    }
    unlink(path);
    cs_context_clear_messages(ctx);
    return seen == (size_t)-1;
}
