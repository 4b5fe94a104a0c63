/*
 * test_bounds.c — every input has a bound and every bound a message (issue 12): study
 * files nested deeply or expanded by aliases, grid cell sizes that would make billions
 * of cells, rasters that claim billions of cells, FIFOs and devices given as layers,
 * absurd numbers and coordinates, unknown encodings and CRS codes, unterminated quotes,
 * and text that is not UTF-8 in the CSV output.
 *
 * Most cases run the CLI on a copy of the bundled sample (geodata/) changed by one
 * line, and check the exit code and the words of the message. Expected counts and
 * limits are computed by hand in the comments, never read from the code.
 */
#include "testutil.h"

#include "io/config.h"
#include "out/out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE CS_SOURCE_DIR "/geodata"

typedef struct fixture {
    cs_context *ctx;
    cs_config *cfg;
    char *dir; /* a copy of the sample */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || cs_context_create(&f->ctx) != CS_OK || cs_config_create(f->ctx, &f->cfg) != CS_OK)
        return -1;
    f->dir = tu_mkdtemp();
    *state = f;
    if (!f->dir)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s'/* '%s'/", SAMPLE, f->dir);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    free(out);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (getenv("TEST_BOUNDS_VERBOSE"))
        tu_dump_messages(f->ctx);
    cs_config_destroy(f->cfg);
    cs_context_destroy(f->ctx);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Run a shell command in the fixture's folder; output is stdout + stderr (free()). */
static int sh(const fixture *f, const char *command, char **output)
{
    size_t n = strlen(f->dir) + strlen(command) + 32;
    char *cmd = malloc(n);
    assert_non_null(cmd);
    snprintf(cmd, n, "cd '%s' && %s", f->dir, command);
    int rc = tu_run(cmd, output);
    free(cmd);
    return rc;
}

static void run_sh(const fixture *f, const char *command)
{
    char *out = NULL;
    int rc = sh(f, command, &out);
    if (rc != 0)
        fprintf(stderr, "%s -> %d:\n%s\n", command, rc, out);
    assert_int_equal(rc, 0);
    free(out);
}

/* Run careshed args in the fixture's folder: the exit code must be code and the output
 * must hold every one of the NULL-ended needles. */
static void expect_cli(const fixture *f, const char *args, int code, ...)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s", CS_CLI, args);
    char *out = NULL;
    int got = sh(f, cmd, &out);
    bool all = true;
    va_list ap;
    va_start(ap, code);
    for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
        all = all && strstr(out, needle) != NULL;
    va_end(ap);
    if (got != code || !all)
        fprintf(stderr, "careshed %s -> %d:\n%s\n", args, got, out);
    assert_int_equal(got, code);
    assert_true(all);
    free(out);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    free(tu_write(dir, name, text));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Write n copies of c (then a newline) to dir/name; returns the path (free()). */
static char *write_repeated(const char *dir, const char *name, const char *prefix, char c,
                            size_t n)
{
    char *path = tu_join(dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(prefix, fp);
    for (size_t i = 0; i < n; i++)
        fputc(c, fp);
    fputc('\n', fp);
    fclose(fp);
    return path;
}

/* ------------------------------------------------------------ 1. study file */

/* 900 KB of '[' took minutes in libyaml's document loader: now refused at once, naming
 * the file, the line and the limit. */
static void study_file_deep_nesting_is_refused_fast(void **state)
{
    fixture *f = *state;
    char *path = write_repeated(f->dir, "deep.yaml", "name: x\nkinds: ", '[', 900 * 1024);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    assert_true(seconds_since(&t0) < 5);
    assert_true(tu_has_message(f->ctx, "deep.yaml:2:", "nested more than 16 levels deep",
                               "check the brackets", NULL));
    free(path);
}

/* Levels count the top-level mapping: "thresholds_min:" and 15 '[' make 16 levels and
 * pass the nesting check (then fail as a list of lists, a different message); 16 '['
 * make 17 and are refused. */
static void study_file_nesting_limit_is_16(void **state)
{
    fixture *f = *state;
    char text[128] = "thresholds_min: ";
    memset(text + 16, '[', 15);
    strcpy(text + 31, "5");
    memset(text + 32, ']', 15);
    strcpy(text + 47, "\n");
    char *path = tu_write(f->dir, "s16.yaml", text);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    free(path);
    assert_false(tu_has_message(f->ctx, "nested more than", NULL));
    assert_true(tu_has_message(f->ctx, "s16.yaml:1:", "only single values", NULL));
    cs_context_clear_messages(f->ctx);
    memset(text + 16, '[', 16);
    strcpy(text + 32, "5");
    memset(text + 33, ']', 16);
    strcpy(text + 49, "\n");
    path = tu_write(f->dir, "s17.yaml", text);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    free(path);
    assert_true(tu_has_message(f->ctx, "s17.yaml:1:", "nested more than 16 levels", NULL));
}

/* A study file over 1 MiB (1,048,576 bytes) is refused before it is parsed. */
static void study_file_over_1mib_is_refused(void **state)
{
    fixture *f = *state;
    char *path = write_repeated(f->dir, "big.yaml", "# ", 'x', 1100000);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    assert_true(tu_has_message(f->ctx, "big.yaml", "larger than 1 MB", NULL));
    free(path);
}

/* Four levels of 40 aliases expand to 40^4 = 2,560,000 values: the walk stops after
 * 10,000 with a message, lists at most 30 problems, and ends quickly. */
static void alias_bomb_ends_with_a_message(void **state)
{
    fixture *f = *state;
    char text[8192] = "";
    size_t n = 0;
    const char *lines[] = {"_a: &a {", "_b: &b {", "_c: &c {", "_d: &d {", "_e: {"};
    const char *values[] = {"1", "*a", "*b", "*c", "*d"};
    for (int l = 0; l < 5; l++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%s", lines[l]);
        for (int k = 0; k < 40; k++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%sk%d: %s", k ? ", " : "", k,
                                  values[l]);
        n += (size_t)snprintf(text + n, sizeof text - n, "}\n");
    }
    char *path = tu_write(f->dir, "bomb.yaml", text);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cs_config_load(f->ctx, f->cfg, path), CS_ERR_STUDY);
    assert_true(seconds_since(&t0) < 10);
    assert_true(tu_has_message(f->ctx, "bomb.yaml", "expands to more than 10000 values",
                               "instead of repeating them with aliases", NULL));
    assert_true(tu_has_message(f->ctx, "more problems", "not listed", NULL));
    assert_true(cs_context_message_count(f->ctx) <= 32);
    free(path);
}

/* ------------------------------------------------------------ 2. grid cell sizes */

/* The sample district spans about 30 x 30 km (its streets.geojson: lon 121.254..121.568,
 * 0.313 deg x 95.3 km = 29.9 km at lat 31.1; lat 30.982..31.254, 0.272 deg x 111.2 km =
 * 30.2 km): a 1 m grid holds about 9.0e8 cells, over the 1e7 allowed; the smallest cell
 * that fits is about sqrt(9.0e8 / 1e7) = 9.5 m, so the hint names 10-19 m. */
static void tiny_underserved_cell_is_refused(void **state)
{
    fixture *f = *state;
    expect_cli(f, "run study.yaml --out out -q --set underserved.cell_m=1", 3,
               "study.yaml: 'underserved.cell_m': underserved.cell_m = 1 m would cut the "
               "areas' extent", "into 9", "cells, more than the 10000000 allowed",
               "set underserved.cell_m to at least 1", NULL);
}

/* Service-area cells must lie well inside the access width (a cell wider than the
 * width·√2 could never be drawn): more than half of it is refused before reading. */
static void coarse_area_cells_are_refused(void **state)
{
    fixture *f = *state;
    expect_cli(f, "run study.yaml --out out -q --set network.area_cell_m=30", 3,
               "study.yaml: 'network.area_cell_m': cells of 30 m are too coarse for service "
               "areas 50 m wide", "give at most half of network.access_width_m", NULL);
}

/* Service areas drawn on cells of 0.01 m over the sample's 30 km would take about
 * (30,000 / 0.01)² = 9e12 cells, over the 10^12 a drawing's box may span: refused,
 * naming the key, instead of drawing for hours. */
static void fine_area_cells_over_the_cap_are_refused(void **state)
{
    fixture *f = *state;
    expect_cli(f, "run study.yaml --out out -q --set network.area_max_pieces=0 "
                  "--set network.area_cell_m=0.01", 3,
               "'network.area_cell_m': the network service areas span more than 10^12 cells "
               "of 0.01 m, or more than 2^26 across", "give larger cells", NULL);
}

/* population.spread_m = 0.001 (inside its documented range [0, 10000]) grew memory
 * without end for a population given as area totals. */
static void tiny_spread_cell_is_refused(void **state)
{
    fixture *f = *state;
    run_sh(f, "python3 -c \"import json\nd = json.load(open('streets.geojson'))\n"
              "print('code,pop')\nfor x in d['features']: print(x['properties']['code'] + "
              "',1000')\" > totals.csv");
    expect_cli(f, "run study.yaml --out out -q --population totals.csv "
               "--set population.area=code --set population.id= --set population.x= "
               "--set population.y= --set population.bands.60+.share=0.2 "
               "--set population.bands.65+.share=0.1 --set population.bands.80+.share=0.02 "
               "--set population.spread_m=0.001",
               3, "'population.spread_m': population.spread_m = 0.001 m would cut",
               "more than the 10000000 allowed", "set population.spread_m to at least", NULL);
}

/* ------------------------------------------------------------ 3. huge rasters */

#define GRID_OPTIONS "--set population.id= --set population.x= --set population.y= " \
    "--set population.crs=EPSG:4326 --set population.bands.60+.share=0.2 " \
    "--set population.bands.65+.share=0.1 --set population.bands.80+.share=0.02"

/* careshed shard holds a grid a strip at a time, so it reads a window a run refuses:
 * 6,266 x 5,446 cells of 5e-5 degrees (34 million, all empty) over the sample's areas. */
static void cut_reads_a_window_a_run_refuses(void **state)
{
    fixture *f = *state;
    write_text(f->dir, "wide.vrt",
                  "<VRTDataset rasterXSize=\"20000\" rasterYSize=\"20000\">\n"
                  "  <SRS>EPSG:4326</SRS>\n"
                  "  <GeoTransform>121.0, 5e-5, 0, 31.5, 0, -5e-5</GeoTransform>\n"
                  "  <VRTRasterBand dataType=\"Float32\" band=\"1\"/>\n"
                  "</VRTDataset>\n");
    expect_cli(f, "run study.yaml --out out -q --measure straight --population wide.vrt "
               GRID_OPTIONS, 4, "wide.vrt: the population grid's window over the areas holds",
               "more than the 25000000 read", NULL);
    expect_cli(f, "shard study.yaml --parts 2 --out sh -q --measure straight --population "
               "wide.vrt " GRID_OPTIONS, 4,
               "wide.vrt: the population grid has no populated cell over the study area", NULL);
}

/* A VRT that claims 1e6 x 1e6 cells of 1e-6 degrees from (121, 31.5): its window over
 * the sample's areas (lon 121.2544..121.5676, lat 30.9819..31.2540) is about 313,000 x
 * 272,000 = 8.5e10 cells, which used to be read one block at a time for ever. */
static void raster_window_over_the_cap_is_refused(void **state)
{
    fixture *f = *state;
    write_text(f->dir, "big.vrt",
                  "<VRTDataset rasterXSize=\"1000000\" rasterYSize=\"1000000\">\n"
                  "  <SRS>EPSG:4326</SRS>\n"
                  "  <GeoTransform>121.0, 1e-6, 0, 31.5, 0, -1e-6</GeoTransform>\n"
                  "  <VRTRasterBand dataType=\"Float32\" band=\"1\"/>\n"
                  "</VRTDataset>\n");
    expect_cli(f, "run study.yaml --out out -q --population big.vrt " GRID_OPTIONS, 4,
               "big.vrt: the population grid's window over the areas holds 313",
               "x 272", "more than the 25000000 read", "resample the grid to larger cells",
               NULL);
    /* 2e9 x 2e9 cells of 5e-10 degrees: the same refusal, no 16 GB block buffer */
    write_text(f->dir, "big2.vrt",
                  "<VRTDataset rasterXSize=\"2000000000\" rasterYSize=\"2000000000\">\n"
                  "  <SRS>EPSG:4326</SRS>\n"
                  "  <GeoTransform>121.0, 5e-10, 0, 31.5, 0, -5e-10</GeoTransform>\n"
                  "  <VRTRasterBand dataType=\"Float32\" band=\"1\"/>\n"
                  "</VRTDataset>\n");
    expect_cli(f, "run study.yaml --out out -q --population big2.vrt " GRID_OPTIONS, 4,
               "big2.vrt: the population grid's window over the areas holds 626",
               "more than the 25000000 read", NULL);
}

/* A grid cell of 1e30 people (or inf) is refused like a negative one, naming the cell. */
static void raster_cell_over_the_people_cap_is_refused(void **state)
{
    fixture *f = *state;
    /* 3 x 3 cells of 0.1 degree from (121.25, 30.95): the middle one holds 1e30 */
    write_text(f->dir, "grid.asc", "ncols 3\nnrows 3\nxllcorner 121.25\nyllcorner 30.95\n"
                  "cellsize 0.1\nNODATA_value -9999\n5 5 5\n5 1e30 5\n5 5 5\n");
    expect_cli(f, "run study.yaml --out out -q --population grid.asc " GRID_OPTIONS, 4,
               "grid.asc: 'band 1': cell at row 2, column 2 holds 1e+30",
               "at most 10,000,000 a cell", NULL);
}

/* ------------------------------------------------------------------ 5. numbers */

/* Decimal only: strtod reads "0x7A" as 122, and takes "inf" and "nan". */
static void numbers_are_decimal_only(void **state)
{
    (void)state;
    double v = 0;
    assert_true(cs_parse_double("-1.5e3", &v));
    assert_true(v == -1500);
    assert_true(cs_parse_double(" 12 ", &v));
    assert_true(v == 12);
    assert_true(cs_parse_double(".5", &v));
    assert_true(v == 0.5);
    assert_true(cs_parse_double("+3", &v));
    assert_true(v == 3);
    const char *refused[] = {"0x7A", "0X7a", "0x1p3", "inf", "-inf", "nan", "NaN",
                             "infinity", "1e400", "12abc", "", " ", "x1", "--1"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        v = 42;
        if (cs_parse_double(refused[i], &v))
            fprintf(stderr, "'%s' was taken as %g\n", refused[i], v);
        assert_false(cs_parse_double(refused[i], &v));
        assert_true(v == 42);
    }
}

/* The short decimals most tables hold are read without strtod (core/buf.c): the same
 * double, to the bit, as strtod gives, for 200,000 random ones of 1 to 18 digits (the
 * fast path takes up to 15), signs, points anywhere, leading zeros and spaces. */
static void short_decimals_read_as_strtod_reads_them(void **state)
{
    (void)state;
    uint64_t rng = 11;
    for (int i = 0; i < 200000; i++) {
        char text[64];
        size_t n = 0;
        uint64_t r = tu_rng_next(&rng);
        if (r % 5 == 0)
            text[n++] = ' ';
        if (r % 3 == 0)
            text[n++] = r % 2 ? '-' : '+';
        int digits = 1 + (int)(tu_rng_next(&rng) % 18);
        int point = (int)(tu_rng_next(&rng) % (uint64_t)(digits + 2)) - 1; /* -1: none */
        for (int d = 0; d < digits; d++) {
            if (d == point)
                text[n++] = '.';
            text[n++] = (char)('0' + tu_rng_next(&rng) % 10);
        }
        if (point == digits)
            text[n++] = '.';
        if (r % 7 == 0)
            text[n++] = ' ';
        text[n] = '\0';
        double got = -1, want = strtod(text, NULL);
        assert_true(cs_parse_double(text, &got));
        if (memcmp(&got, &want, sizeof got))
            fail_msg("'%s': %a, strtod gives %a", text, got, want);
    }
}

/* Line 2 of the sample's population.csv is "1,121.414442,30.996376,126,23,16,3"
 * (id,lon,lat,pop,pop60,pop65,pop80); each case changes one of its fields with sed. */
static void absurd_population_rows_are_refused(void **state)
{
    fixture *f = *state;
    run_sh(f, "sed '2s/^1,121.414442,/1,0x7A,/' population.csv > hex.csv && "
              "sed '2s/,30.996376,/,nan,/' population.csv > nan.csv && "
              "sed '2s/,30.996376,/,91,/' population.csv > lat91.csv && "
              "sed '2s/,126,/,1e308,/' population.csv > huge.csv && "
              "sed '2s/,126,/,inf,/' population.csv > inf.csv && "
              "sed '2s/,126,23,/,20000000,23,/' population.csv > over.csv");
    expect_cli(f, "check study.yaml -q --population hex.csv", 4,
               "hex.csv:2: id 1: 'lon': '0x7A' is not a number",
               "plain decimal number (not hexadecimal", NULL);
    expect_cli(f, "check study.yaml -q --population nan.csv", 4,
               "nan.csv:2: id 1: 'lat': 'nan' is not a number", NULL);
    expect_cli(f, "check study.yaml -q --population lat91.csv", 4,
               "lat91.csv:2: id 1: 'lat': latitude 91 is outside -90..90 degrees",
               "name its CRS with population.crs", NULL);
    expect_cli(f, "check study.yaml -q --population huge.csv", 4,
               "huge.csv:2: id 1: 'pop': 1e+308 people at one feature is more than the "
               "10,000,000 allowed", NULL);
    expect_cli(f, "check study.yaml -q --population inf.csv", 4,
               "inf.csv:2: id 1: 'pop': 'inf' is not a number", NULL);
    expect_cli(f, "check study.yaml -q --population over.csv", 4,
               "over.csv:2: id 1: 'pop': 2e+07 people at one feature", NULL);
}

/* A facility at latitude 91 exited 5 (CRS) although the input is at fault; a street
 * polygon with a vertex at latitude 91.5 (feature 3 of streets.geojson, code 310112008)
 * likewise. */
static void coordinates_beyond_the_globe_are_input_errors(void **state)
{
    fixture *f = *state;
    run_sh(f, "sed '2s/,31.011010,/,91,/' facilities.csv > fac91.csv && python3 -c \""
              "import json\nd = json.load(open('streets.geojson'))\n"
              "c = d['features'][2]['geometry']['coordinates']\n"
              "while isinstance(c[0][0], list): c = c[0]\n"
              "c[1][1] = 91.5\njson.dump(d, open('s91.geojson', 'w'))\"");
    expect_cli(f, "check study.yaml -q --facilities fac91.csv", 4,
               "fac91.csv:2: id C001: 'lat': latitude 91 is outside -90..90 degrees", NULL);
    expect_cli(f, "check study.yaml -q --areas s91.geojson", 4,
               "s91.geojson: feature 3 (id 310112008): latitude 91.5 is outside -90..90",
               "name its CRS with areas.crs", NULL);
}

/* ------------------------------------------- 6. zero areas, encodings, unknown CRS */

/* Every street of the sample turned into the ring (121.3 31.0, 121.4 31.1, 121.5 31.2):
 * three points on a line in degrees, which projected became slivers and 4,700 "point
 * lies far" errors. Now one error names the file. */
static void streets_all_of_zero_area_are_refused(void **state)
{
    fixture *f = *state;
    run_sh(f, "python3 -c \"import json\nd = json.load(open('streets.geojson'))\n"
              "for x in d['features']: x['geometry'] = {'type': 'Polygon', 'coordinates': "
              "[[[121.3, 31.0], [121.4, 31.1], [121.5, 31.2], [121.3, 31.0]]]}\n"
              "json.dump(d, open('flat.geojson', 'w'))\"");
    expect_cli(f, "check study.yaml -q --areas flat.geojson", 4,
               "careshed: error: flat.geojson: all 14 areas have zero area: their rings are "
               "lines or points", "polygons enclose ground", NULL);
}

/* An unknown encoding was silently ignored; a known one (CP936) still passes. */
static void unknown_encoding_is_refused(void **state)
{
    fixture *f = *state;
    expect_cli(f, "check study.yaml -q --set areas.encoding=NOPE-1", 3,
               "'areas.encoding': unknown encoding 'NOPE-1'", "`iconv -l` lists them", NULL);
    expect_cli(f, "check study.yaml -q --set costs.encoding=XYZ", 3,
               "'costs.encoding': unknown encoding 'XYZ'", NULL);
    /* a known one passes (population.csv is ASCII, the same in CP936) */
    expect_cli(f, "check study.yaml -q --set population.encoding=CP936", 0, NULL);
}

/* GDAL reports an unknown GeoJSON crs member and then reads the file as WGS84: refused
 * (exit 5) unless areas.crs names the CRS. */
static void geojson_with_unknown_crs_is_refused(void **state)
{
    fixture *f = *state;
    run_sh(f, "python3 -c \"import json\nd = json.load(open('streets.geojson'))\n"
              "d['crs'] = {'type': 'name', 'properties': {'name': "
              "'urn:ogc:def:crs:EPSG::999999'}}\njson.dump(d, open('crs.geojson', 'w'))\"");
    expect_cli(f, "check study.yaml -q --areas crs.geojson", 5,
               "crs.geojson: the file names a coordinate system GDAL does not know",
               "GDAL would read it as WGS84", "name the layer's CRS with areas.crs", NULL);
    expect_cli(f, "check study.yaml -q --areas crs.geojson --set areas.crs=EPSG:4326", 0,
               NULL);
}

/* ------------------------------------------------------ 7. unterminated quotes */

/* Line 3 opens a quote that never closes: GDAL read the rest of the file as the "to"
 * id. Quotes written twice inside a quoted field stay fine. */
static void unterminated_quote_names_its_line(void **state)
{
    fixture *f = *state;
    write_text(f->dir, "costs.csv", "from,to,cost\n1,C001,100\n2,\"C002,200\n3,C003,300\n"
               "4,C001,50\n");
    expect_cli(f, "check study.yaml -q --set population.id=id --costs costs.csv", 4,
               "careshed: error: costs.csv:3: a quote opened on this line is never closed",
               "written twice", NULL);
    write_text(f->dir, "ok.csv", "from,to,cost\n1,\"C0\"\"01\",100\n2,\"C002\",200\n");
    char *out = NULL;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' check study.yaml -q --set population.id=id --costs ok.csv",
             CS_CLI);
    sh(f, cmd, &out);
    assert_null(strstr(out, "never closed"));
    free(out);
    /* past the first megabyte, whose blocks without a quote are counted at once */
    run_sh(f, "awk 'BEGIN { print \"from,to,cost\"; for (i = 1; i <= 100000; i++) "
              "print i \",C001,100\"; print \"100001,\\\"C002,200\"; "
              "print \"100002,C003,300\" }' > big.csv");
    expect_cli(f, "check study.yaml -q --set population.id=id --costs big.csv", 4,
               "big.csv:100002: a quote opened on this line is never closed", NULL);
    /* the facilities table goes through the same opener */
    run_sh(f, "sed '5s/,centre,/,\"centre,/' facilities.csv > fq.csv");
    expect_cli(f, "check study.yaml -q --facilities fq.csv", 4,
               "fq.csv:5: a quote opened on this line is never closed", NULL);
}

/* ------------------------------------------------------ 8. CSV text is UTF-8 */

/* 0xB2 0xBB (GBK bytes read as UTF-8) are two ill-formed sequences: U+FFFD (EF BF BD)
 * each, in the CSV as in the JSON; the comma still makes the CSV field quoted. */
static void csv_text_is_cleaned_like_json(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b);
    cs_out_csv_text(&b, "\xB2\xBB,x\xE6\xB1\x9F");
    assert_string_equal(b.data, "\"\xEF\xBF\xBD\xEF\xBF\xBD,x\xE6\xB1\x9F\"");
    cs_buf_clear(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    cs_json_string(&j, "\xB2\xBB,x\xE6\xB1\x9F");
    assert_string_equal(b.data, "\"\xEF\xBF\xBD\xEF\xBF\xBD,x\xE6\xB1\x9F\"");
    cs_buf_clear(&b);
    /* an overlong form (C0 80) and a lone surrogate (ED A0 80): cleaned, not copied */
    cs_out_csv_text(&b, "a\xC0\x80" "b\xED\xA0\x80");
    assert_string_equal(b.data, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"
                                "\xEF\xBF\xBD");
    cs_buf_clear(&b);
    cs_out_csv_text(&b, "plain \"q\"");
    assert_string_equal(b.data, "\"plain \"\"q\"\"\"");
    cs_buf_free(&b);
}

/* End to end: a street named with two stray bytes before its UTF-8 name is text that
 * neither UTF-8, GB18030 nor Big5 reads: an error naming the file, the feature, the
 * field and the key to set, and nothing written (it was written with two U+FFFD). */
static void stray_bytes_in_a_name_are_an_error(void **state)
{
    fixture *f = *state;
    run_sh(f, "python3 -c \"d = open('streets.geojson', 'rb').read()\n"
              "i = d.index(b'\\\"name\\\":\\\"', d.index(b'properties')) + 8\n"
              "open('bad.geojson', 'wb').write(d[:i] + b'\\xb2\\xbb' + d[i:])\"");
    expect_cli(f, "run study.yaml --out out -q --areas bad.geojson", 4,
               "bad.geojson: feature 1: 'name'", "not UTF-8", "areas.encoding", NULL);
    char *out = tu_join(f->dir, "out");
    assert_false(tu_exists(out));
    free(out);
}

/* End to end: the sample's facilities with Chinese kind names, saved in GBK. Every
 * facility is counted (all 79 centres were dropped, with coverage 0.0%), the names come
 * out as written, and no output holds U+FFFD or a byte sequence that is not UTF-8. */
static void gbk_facilities_table_reads_as_written(void **state)
{
    fixture *f = *state;
    run_sh(f, "sed 's/,centre,/,社区综合为老服务中心,/' facilities.csv | iconv -f UTF-8 -t GBK "
              "> f-gbk.csv");
    expect_cli(f, "run study.yaml --out out --facilities f-gbk.csv", 0, "f-gbk.csv",
               "not UTF-8", "GB18030", "facilities.encoding", NULL);
    char *log = NULL;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' check study.yaml --facilities f-gbk.csv", CS_CLI);
    sh(f, cmd, &log);
    assert_null(strstr(log, "match none")); /* no facility left out */
    free(log);
    char *geojson = tu_join(f->dir, "out/facilities.geojson");
    char *text = tu_read(geojson, NULL);
    assert_non_null(text);
    /* C001's name and kind in the sample's UTF-8 table */
    assert_non_null(strstr(text, "江川路街道社区综合为老服务中心"));
    free(text);
    free(geojson);
    /* every text output is UTF-8 (python's strict decoder) and holds no U+FFFD (the
     * GeoPackage and the FlatGeobuf are binary) */
    run_sh(f, "python3 -c \"import glob, sys\n"
              "for p in glob.glob('out/*'):\n"
              "    if p.endswith(('.gpkg', '.fgb')): continue\n"
              "    t = open(p, 'rb').read().decode('utf-8')\n"
              "    assert chr(0xfffd) not in t, p\"");
}

/* ------------------------------------------------------- 4. not a regular file */

/* A FIFO made GDAL wait for a writer forever; a device and a folder were read as
 * formats GDAL does not know. Each is now refused before GDAL sees it, naming the key. */
static void fifo_device_and_folder_are_refused(void **state)
{
    fixture *f = *state;
    run_sh(f, "mkfifo pipe && mkdir folder");
    expect_cli(f, "check study.yaml -q --areas pipe", 4, "careshed: error: pipe: 'areas.path': "
               "areas file is not a regular file but a named pipe (FIFO)",
               "give the path of a file", NULL);
    expect_cli(f, "check study.yaml -q --population pipe", 4, "'population.path'",
               "named pipe (FIFO)", NULL);
    expect_cli(f, "check study.yaml -q --network pipe", 4, "'network.path'", "named pipe",
               NULL);
    expect_cli(f, "check study.yaml -q --set population.id=id --costs pipe", 4,
               "'costs.path'", "named pipe", NULL);
    expect_cli(f, "check study.yaml -q --facilities /dev/zero", 4,
               "/dev/zero: 'facilities.path': facilities file is not a regular file but a "
               "device", NULL);
    expect_cli(f, "check study.yaml -q --population folder", 4,
               "folder: 'population.path'", "not a regular file but a folder", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(coarse_area_cells_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(fine_area_cells_over_the_cap_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(study_file_deep_nesting_is_refused_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(study_file_nesting_limit_is_16, setup, teardown),
        cmocka_unit_test_setup_teardown(study_file_over_1mib_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_bomb_ends_with_a_message, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_underserved_cell_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_spread_cell_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(raster_window_over_the_cap_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_reads_a_window_a_run_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(raster_cell_over_the_people_cap_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(numbers_are_decimal_only, setup, teardown),
        cmocka_unit_test(short_decimals_read_as_strtod_reads_them),
        cmocka_unit_test_setup_teardown(absurd_population_rows_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(coordinates_beyond_the_globe_are_input_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(streets_all_of_zero_area_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_encoding_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(geojson_with_unknown_crs_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(unterminated_quote_names_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_text_is_cleaned_like_json, setup, teardown),
        cmocka_unit_test_setup_teardown(stray_bytes_in_a_name_are_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(gbk_facilities_table_reads_as_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fifo_device_and_folder_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
