/*
 * test_core.c — the context's message list and formatting, the string buffer, number
 * parsing and the allocator override.
 */
#include "testutil.h"

#include "core/core.h"
#include "io/textenc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void message_names_file_feature_field_and_hint(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_where w = {.file = "streets.shp", .feature = 12, .feature_id = "310112001",
                  .field = "pop"};
    assert_int_equal(cs_error(ctx, CS_ERR_INPUT, &w, "fix the value", "negative value %d", -5),
                     CS_ERR_INPUT);
    assert_int_equal(cs_warn(ctx, NULL, NULL, "just a warning"), CS_OK);
    assert_int_equal(cs_context_message_count(ctx), 2);
    assert_int_equal(cs_context_error_count(ctx), 1);
    char text[256];
    cs_message_format(cs_context_get_message(ctx, 0), text, sizeof text);
    assert_string_equal(text, "error: streets.shp: feature 12 (id 310112001): 'pop': "
                              "negative value -5; fix the value");
    cs_message_format(cs_context_get_message(ctx, 1), text, sizeof text);
    assert_string_equal(text, "warning: just a warning");
    /* truncation behaves like snprintf */
    size_t need = cs_message_format(cs_context_get_message(ctx, 1), text, 5);
    assert_int_equal(need, strlen("warning: just a warning"));
    assert_string_equal(text, "warn");
    assert_null(cs_context_get_message(ctx, 2));
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_context_message_count(ctx), 0);
    cs_context_destroy(ctx);
}

/* Three kinds interleaved over 1,200 rows (a bad total, a negative band — errors —
 * and a warning about a third field), after a message from before `from`: each kind
 * keeps its first 3, in order, and gets one line counting the rest; counts stay. */
static void repeats_are_listed_a_few_times_then_counted(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    assert_int_equal(cs_warn(ctx, NULL, NULL, "before"), CS_OK);
    for (long row = 2; row < 1202; row++) {
        cs_where w = {.file = "pop.csv", .line = row, .field = "pop"};
        (void)cs_error(ctx, CS_ERR_INPUT, &w, "write a number", "'x%ld' is not a number", row);
        w.field = "pop65";
        (void)cs_error(ctx, CS_ERR_INPUT, &w, "cannot be negative", "negative value -%ld", row);
        if (row % 2 == 0) { /* 600 of them */
            w.field = "year";
            (void)cs_warn(ctx, &w, "check the year", "year %ld is late", row);
        }
    }
    assert_int_equal(cs_context_message_count(ctx), 1 + 2400 + 600);
    cs_context_limit_repeats(ctx, 1, 3, "pop.csv");
    assert_int_equal(cs_context_error_count(ctx), 2400);
    assert_int_equal(cs_context_message_count(ctx), 1 + 3 * 3 + 3);
    /* the warnings reported, not the lines left: "before" and the 600 about the year */
    assert_int_equal(cs_context_warning_count(ctx), 1 + 600);
    char text[256];
    const char *const want[] = {
        "warning: before",
        "error: pop.csv:2: 'pop': 'x2' is not a number; write a number",
        "error: pop.csv:2: 'pop65': negative value -2; cannot be negative",
        "warning: pop.csv:2: 'year': year 2 is late; check the year",
        "error: pop.csv:3: 'pop': 'x3' is not a number; write a number",
        "error: pop.csv:3: 'pop65': negative value -3; cannot be negative",
        "error: pop.csv:4: 'pop': 'x4' is not a number; write a number",
        "error: pop.csv:4: 'pop65': negative value -4; cannot be negative",
        "warning: pop.csv:4: 'year': year 4 is late; check the year",
        "warning: pop.csv:6: 'year': year 6 is late; check the year",
        "warning: pop.csv: 'pop': ... and 1,197 more errors like the ones above, not listed; "
        "fix the ones above and run again",
        "warning: pop.csv: 'pop65': ... and 1,197 more errors like the ones above, not "
        "listed; fix the ones above and run again",
        "warning: pop.csv: 'year': ... and 597 more warnings like the ones above, not listed; "
        "fix the ones above and run again",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cs_message_format(cs_context_get_message(ctx, i), text, sizeof text);
        assert_string_equal(text, want[i]);
    }
    /* nothing more than `keep` of any kind: left as it is */
    cs_context_clear_messages(ctx);
    cs_where w = {.file = "f.csv", .line = 2, .field = "pop"};
    (void)cs_error(ctx, CS_ERR_INPUT, &w, "h", "one");
    (void)cs_error(ctx, CS_ERR_INPUT, &w, "h", "two");
    cs_context_limit_repeats(ctx, 0, 2, "f.csv");
    assert_int_equal(cs_context_message_count(ctx), 2);
    assert_int_equal(cs_context_warning_count(ctx), 0);
    /* a list cut short: its note is not a warning either */
    for (int i = 0; i < 20; i++)
        (void)cs_warn(ctx, &w, "h", "warning %d", i);
    cs_context_limit_messages(ctx, 2, 5, "f.csv");
    assert_int_equal(cs_context_message_count(ctx), 2 + 5 + 1);
    assert_int_equal(cs_context_warning_count(ctx), 20);
    cs_context_destroy(ctx);
}

/* What a helper context collected on another thread is added to the parent's: its
 * messages after the parent's own, in order, its counts and its stage times. */
static void helper_context_is_absorbed(void **state)
{
    (void)state;
    cs_context *ctx = NULL, *helper = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_context_set_threads(ctx, 3);
    assert_int_equal(cs_context_create_for_thread(ctx, &helper), CS_OK);
    assert_int_equal(helper->threads, ctx->threads);
    cs_warn(ctx, NULL, NULL, "first, on the parent");
    cs_stage_end(ctx, "write", cs_stage_begin() - 1.0);
    cs_where w = {.file = "demand.fgb"};
    assert_int_equal(cs_error(helper, CS_ERR_OUTPUT, &w, "free some space", "cannot write"),
                     CS_ERR_OUTPUT);
    cs_warn(helper, NULL, NULL, "second, on the helper");
    cs_stage_end(helper, "write", cs_stage_begin() - 2.0);
    cs_stage_end(helper, "write demand.fgb", cs_stage_begin() - 0.5);
    cs_context_absorb(ctx, helper);
    assert_int_equal(cs_context_message_count(ctx), 3);
    assert_int_equal(cs_context_error_count(ctx), 1);
    assert_int_equal(cs_context_warning_count(ctx), 2);
    char text[256];
    cs_message_format(cs_context_get_message(ctx, 0), text, sizeof text);
    assert_string_equal(text, "warning: first, on the parent");
    cs_message_format(cs_context_get_message(ctx, 1), text, sizeof text);
    assert_string_equal(text, "error: demand.fgb: cannot write; free some space");
    cs_message_format(cs_context_get_message(ctx, 2), text, sizeof text);
    assert_string_equal(text, "warning: second, on the helper");
    const char *stage = NULL;
    double seconds = 0;
    assert_int_equal(cs_context_timings(ctx, 0, &stage, &seconds), 2);
    assert_string_equal(stage, "write");
    assert_true(seconds >= 3.0 && seconds < 3.5);
    cs_context_timings(ctx, 1, &stage, &seconds);
    assert_string_equal(stage, "write demand.fgb");
    assert_true(seconds >= 0.5 && seconds < 1.0);
    /* the helper is left empty */
    assert_int_equal(cs_context_message_count(helper), 0);
    assert_int_equal(cs_context_error_count(helper), 0);
    assert_int_equal(cs_context_timings(helper, 0, NULL, NULL), 0);
    cs_context_destroy(helper);
    cs_context_destroy(ctx);
}

static void grouped_numbers(void **state)
{
    (void)state;
    struct { double v; int d; const char *want; } cases[] = {
        {3120, 0, "3,120"}, {0, 0, "0"}, {-1234567.891, 2, "-1,234,567.89"},
        {999.6, 0, "1,000"}, {-0.4, 0, "0"}, {12, 1, "12.0"}, {NAN, 0, "n/a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_add_grouped(&b, cases[i].v, cases[i].d);
        char *s = cs_buf_take(&b);
        assert_string_equal(s, cases[i].want);
        cs_free(s);
    }
}

static void strict_number_parsing(void **state)
{
    (void)state;
    double v;
    assert_true(cs_parse_double(" 4.5 ", &v));
    assert_true(v == 4.5);
    assert_false(cs_parse_double("4.5km", &v));
    assert_false(cs_parse_double("", &v));
    assert_false(cs_parse_double("nan", &v));
    assert_false(cs_parse_double("1e999", &v));
    assert_false(cs_parse_double(NULL, &v));
}

static void utf8_check(void **state)
{
    (void)state;
    assert_true(cs_is_utf8("闵行区 abc"));
    assert_false(cs_is_utf8("\xc3\xfc\xd0\xd0")); /* 闵行 in GBK */
    assert_false(cs_is_utf8("\xc0\x80"));         /* overlong */
    /* UTF-8 of two-byte characters only, as GBK byte pairs can be by accident */
    const char gbk[] = "\xd7\xa1\xd5\xac\xc2\xb7"; /* 住宅路 in GBK: U+05E1 U+056C U+00B7 */
    assert_true(cs_utf8_two_byte_only(gbk, strlen(gbk)));
    assert_true(cs_utf8_two_byte_only("Caf\xc3\xa9 0", 6)); /* Café 0 */
    assert_false(cs_utf8_two_byte_only("abc", 3));           /* nothing beyond ASCII */
    assert_false(cs_utf8_two_byte_only("\xe9\x97\xb5", 3));  /* 闵 in UTF-8: three bytes */
    assert_false(cs_utf8_two_byte_only("Caf\xc3\xa9\xe9\x97\xb5", 8));
    assert_false(cs_utf8_two_byte_only("\xc3\xfc\xd0\xd0", 4)); /* 闵行 in GBK: not UTF-8 */
}

/* The mappings of spilled blocks the process holds (/proc/self/maps names their files,
 * "(deleted)"). */
static int spill_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, "careshed-spill-") != NULL;
    if (f)
        fclose(f);
    return n;
}

static bool holds_pattern(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 7 + 3))
            return false;
    return true;
}

static void put_pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7 + 3);
}

/*
 * Blocks spilled to a folder (cs_spill_to; from 1 MB here): a block grown from memory
 * into the spill, within it and back keeps its bytes; each spilled block is a file
 * removed from the folder as it is made (the folder stays empty), mapped while held and
 * unmapped when freed; calloc's are zero. A file, or a folder that is not there, is
 * refused; NULL turns spilling off.
 */
static void spilled_blocks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), *file = tu_write(dir, "f", "x");
    assert_int_equal(cs_spill_to(file), CS_ERR_ARGUMENT);
    assert_int_equal(cs_spill_to("/no/such/folder"), CS_ERR_ARGUMENT);
    unlink(file);
    size_t min = cs_spill_min_bytes((size_t)1 << 20), made = cs_spill_made();
    assert_int_equal(cs_spill_to(dir), CS_OK);
    unsigned char *p = cs_malloc(1000);
    assert_int_equal(cs_spill_made(), made); /* small: in memory */
    put_pattern(p, 1000);
    p = cs_realloc(p, (size_t)3 << 20); /* into the spill */
    assert_int_equal(cs_spill_made(), made + 1);
    assert_true(holds_pattern(p, 1000));
    put_pattern(p, (size_t)3 << 20);
    p = cs_realloc(p, (size_t)6 << 20); /* within it */
    assert_int_equal(cs_spill_made(), made + 2);
    assert_true(holds_pattern(p, (size_t)3 << 20));
    assert_int_equal(spill_mappings(), 1);
    unsigned char *z = cs_calloc((size_t)2 << 20, 1);
    assert_int_equal(spill_mappings(), 2);
    size_t nonzero = 0;
    for (size_t i = 0; i < (size_t)2 << 20; i++)
        nonzero += z[i] != 0;
    assert_int_equal(nonzero, 0);
    assert_true(tu_folder_empty(dir));
    cs_free(z);
    p = cs_realloc(p, 1000); /* back to memory */
    assert_true(holds_pattern(p, 1000));
    assert_int_equal(spill_mappings(), 0);
    cs_free(p);
    unsigned char *fresh = cs_realloc(NULL, (size_t)2 << 20); /* realloc as malloc */
    assert_int_equal(spill_mappings(), 1);
    cs_free(fresh);
    assert_int_equal(spill_mappings(), 0);
    assert_int_equal(cs_spill_to(NULL), CS_OK);
    made = cs_spill_made();
    cs_free(cs_malloc((size_t)2 << 20));
    assert_int_equal(cs_spill_made(), made);
    cs_spill_min_bytes(min);
    tu_rmtree(dir);
    free(file);
    free(dir);
}

static void report_survives_allocation_failure(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    for (long n = 0; n < 12; n++) {
        tu_alloc_fail_after(n);
        cs_where w = {.file = "f", .field = "x"};
        assert_int_equal(cs_error(ctx, CS_ERR_INPUT, &w, "hint", "text %ld", n), CS_ERR_INPUT);
        /* the error is counted whether or not its text could be stored */
        assert_true(cs_context_error_count(ctx) >= 1);
        cs_context_clear_messages(ctx);
    }
    tu_alloc_restore();
    cs_context_destroy(ctx);
}

/* What the libraries say when memory runs out, and what they say otherwise. */
static void foreign_messages_about_memory(void **state)
{
    (void)state;
    assert_true(cs_message_means_nomem("std::bad_alloc"));
    assert_true(cs_message_means_nomem("CPLMalloc(): Out of memory allocating 1048576 bytes."));
    assert_true(cs_message_means_nomem("sqlite3_open_v2: out of memory"));
    assert_true(cs_message_means_nomem("mmap failed: Cannot allocate memory"));
    assert_true(cs_message_means_nomem("Not enough memory to open the layer"));
    assert_false(cs_message_means_nomem("Self-intersection at or near point 3 4"));
    assert_false(cs_message_means_nomem("proj_create: no database context specified"));
    assert_false(cs_message_means_nomem("Failed to open the memory driver"));
    assert_false(cs_message_means_nomem(""));
    assert_false(cs_message_means_nomem(NULL));
}

/* A failed allocation leaves a note for this thread, read once. */
static void failed_allocation_is_noted(void **state)
{
    (void)state;
    (void)cs_take_nomem();
    assert_false(cs_take_nomem());
    void *p = cs_malloc(16);
    assert_non_null(p);
    cs_free(p);
    assert_false(cs_take_nomem());
    tu_alloc_fail_after(0);
    p = cs_malloc(16);
    tu_alloc_restore();
    assert_null(p);
    assert_true(cs_take_nomem());
    assert_false(cs_take_nomem());
}

/* An error that running out of memory caused is reported as out of memory, with the
 * memory hint instead of its own, once; the errors after it are counted, not listed;
 * an error with no such cause after it is listed as it is. */
static void error_caused_by_memory_says_so_once(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_where w = {.file = "streets.geojson", .feature = 3};
    cs_note_nomem(); /* as GEOS's handler does on std::bad_alloc */
    assert_int_equal(cs_error(ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS",
                              "the polygon cannot be built"),
                     CS_ERR_NOMEM);
    assert_int_equal(cs_context_message_count(ctx), 1);
    char text[512];
    cs_message_format(cs_context_get_message(ctx, 0), text, sizeof text);
    assert_string_equal(text, "error: streets.geojson: feature 3: out of memory: the polygon "
                              "cannot be built; free memory, raise the limit (ulimit -v) or "
                              "use a smaller study");
    assert_int_equal(cs_context_get_message(ctx, 0)->status, CS_ERR_NOMEM);
    w.feature = 4;
    cs_note_nomem();
    assert_int_equal(cs_error(ctx, CS_ERR_INPUT, &w, "fix the geometry in a GIS",
                              "the polygon cannot be built"),
                     CS_ERR_NOMEM);
    assert_int_equal(cs_context_message_count(ctx), 1);
    assert_int_equal(cs_context_error_count(ctx), 2);
    w.feature = 5;
    assert_int_equal(cs_error(ctx, CS_ERR_INPUT, &w, "give it a number", "'pop' is text"),
                     CS_ERR_INPUT);
    assert_int_equal(cs_context_message_count(ctx), 2);
    cs_message_format(cs_context_get_message(ctx, 1), text, sizeof text);
    assert_string_equal(text, "error: streets.geojson: feature 5: 'pop' is text; give it a "
                              "number");
    /* a note left without an error does not outlive clearing the messages */
    cs_note_nomem();
    cs_context_clear_messages(ctx);
    assert_int_equal(cs_error(ctx, CS_ERR_CRS, NULL, NULL, "unknown CRS"), CS_ERR_CRS);
    cs_context_destroy(ctx);
}

/* The fast fixed-decimal writer: exactly d decimals, no exponent, and the number read
 * back within half a unit of the last decimal (printf's own rounding of exact ties may
 * differ in the last digit). */
static void fixed_numbers_round_right(void **state)
{
    (void)state;
    unsigned long long seed = 7;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double mag = pow(10, (double)(seed >> 60) - 6);
        double v = ((double)(seed >> 11) / 9007199254740992.0 - 0.3) * mag;
        int d = (int)((seed >> 40) % 10);
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_add_fixed(&b, v, d);
        const char *dot = strchr(b.data, '.');
        assert_true(d == 0 ? dot == NULL : dot != NULL && (int)strlen(dot + 1) == d);
        assert_null(strpbrk(b.data, "eE"));
        double back = strtod(b.data, NULL);
        if (fabs(back - v) > 0.5 * pow(10, -d) * (1 + 1e-6) + 1e-15 * fabs(v))
            fail_msg("%.17g with %d decimals: %s", v, d, b.data);
        cs_buf_free(&b);
    }
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_add_fixed(&b, NAN, 2);
    cs_buf_add_fixed(&b, 121.4567891, 7);
    cs_buf_addc(&b, '|');
    cs_buf_add_fixed(&b, 3e9, 1); /* beyond the fast path */
    assert_string_equal(b.data, "121.4567891|3000000000.0");
    cs_buf_free(&b);
}

/* The digits of an integer u with a point put before its last d digits, against
 * printf's digits of u: every length of u and of its fraction, leading zeros of the
 * fraction, and the sign. */
static void fixed_digits_match_printf(void **state)
{
    (void)state;
    unsigned long long seed = 11;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned long long u = seed >> (seed % 64);
        if (i < 1000)
            u = (unsigned long long)i;
        int d = (int)((seed >> 20) % 21);
        bool negative = (seed >> 30) & 1;
        char digits[48], want[64], got[40];
        int len = snprintf(digits, sizeof digits, "%0*llu", d + 1, u);
        snprintf(want, sizeof want, "%s%.*s%s%s", negative ? "-" : "", len - d, digits,
                 d ? "." : "", digits + len - d);
        size_t n = cs_fixed_digits(u, d, negative, got);
        got[n] = '\0';
        if (strcmp(got, want) != 0)
            fail_msg("%llu with %d decimals: %s, not %s", u, d, got, want);
    }
}

/* A number as printf's %.17g writes it, against printf itself: random bit patterns of
 * every exponent, dyadic fractions (whose ties at the 17th digit go to even), decimals
 * as inputs hold them, whole numbers, and the edges of %g's fixed notation (1e-4, 1e16,
 * 1e17) and of rounding up to another digit (9.99...). */
static void g17_numbers_are_printf_s(void **state)
{
    (void)state;
    double edges[] = {1e-4, nextafter(1e-4, 0), nextafter(1e-4, 1), 1e16, 1e17,
                      nextafter(1e17, 0), 99999999999999999.0, 9.9999999999999999,
                      0.99999999999999994, 9.999999999999999e-5, 0.1, 0.5, 1.5, 2.5,
                      1 + 0x1p-17, 1 + 3 * 0x1p-17, 121.4, 31.30003, 3520123.4567,
                      0x1p-1074, 1.7976931348623157e308, 0.0, -0.0, 15650, -2.5};
    unsigned long long seed = 13;
    for (size_t i = 0; i < 2000000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double v;
        size_t n_edges = sizeof edges / sizeof *edges;
        if (i < 2 * n_edges)
            v = i % 2 ? -edges[i / 2] : edges[i / 2];
        else if (i % 4 == 0) { /* any bit pattern but NaN and infinities */
            unsigned long long bits = seed ^ (seed >> 29);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else if (i % 4 == 1) /* m / 2^k: exact decimals of k digits, ties included */
            v = ldexp((double)(seed >> (11 + (seed & 31))), -(int)((seed >> 5) % 70));
        else if (i % 4 == 2) { /* a short decimal, as a coordinate or a count is typed */
            char text[32];
            snprintf(text, sizeof text, "%.*f", (int)((seed >> 7) % 9),
                     (double)(seed >> 20) * pow(10, (double)((seed >> 3) % 12) - 10));
            v = strtod(text, NULL);
        } else { /* metres and degrees as a projection leaves them */
            double scale = pow(10, (double)(seed % 18) - 4);
            v = ((double)(seed >> 11) / 9007199254740992.0 - 0.5) * scale;
        }
        char want[64];
        snprintf(want, sizeof want, "%.17g", v);
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_add_g17(&b, v);
        if (!b.data || strcmp(b.data, want) != 0)
            fail_msg("%a: %s, not %s", v, b.data ? b.data : "(nothing)", want);
        cs_buf_free(&b);
    }
}

/* Hand-worked distances (the classic kitten/sitting is 3) and the path schemes GDAL
 * and URLs use, against paths that only look alike. */
static void names_distance_and_schemes(void **state)
{
    (void)state;
    assert_int_equal(cs_edit_distance("kitten", 6, "sitting", 7), 3);
    assert_int_equal(cs_edit_distance("", 0, "abc", 3), 3);
    assert_int_equal(cs_edit_distance("areas", 5, "areas", 5), 0);
    assert_int_equal(cs_edit_distance("threshold_min", 13, "thresholds_min", 14), 1);
    assert_int_equal(cs_edit_distance("meal", 4, "meals", 5), 1);
    char longer[42];
    memset(longer, 'a', 41);
    longer[41] = '\0';
    assert_true(cs_edit_distance(longer, 41, "a", 1) == SIZE_MAX);
    assert_true(cs_path_has_scheme("PG:dbname=x"));
    assert_true(cs_path_has_scheme("https://example.org/a.geojson"));
    assert_true(cs_path_has_scheme("WFS:http://x"));
    assert_false(cs_path_has_scheme("C:\\data\\a.shp")); /* a drive letter */
    assert_false(cs_path_has_scheme("/vsizip/a.zip"));
    assert_false(cs_path_has_scheme("streets.geojson"));
    assert_false(cs_path_has_scheme("2024:x"));
    assert_false(cs_path_has_scheme(""));
}

static int ascending_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Ids sorted by radix (and by comparisons when few) come out as qsort sorts them:
 * few and many, with repeats, up to bounds of one to four bytes and beyond. */
static void ids_sort_as_qsort_does(void **state)
{
    (void)state;
    uint64_t s = 3;
    const size_t sizes[] = {0, 1, 2, 255, 256, 257, 5000};
    const size_t below[] = {1, 7, 256, 257, 70000, (size_t)1 << 33};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof below / sizeof below[0]; b++) {
            size_t n = sizes[a];
            long *ids = calloc(n + 1, sizeof *ids), *want = calloc(n + 1, sizeof *want);
            for (size_t i = 0; i < n; i++)
                ids[i] = want[i] = (long)(tu_rng_next(&s) % below[b]);
            qsort(want, n, sizeof *want, ascending_long);
            assert_true(cs_sort_ids(ids, n, below[b]));
            assert_memory_equal(ids, want, n * sizeof *ids + (n == 0));
            free(ids);
            free(want);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_names_file_feature_field_and_hint),
        cmocka_unit_test(repeats_are_listed_a_few_times_then_counted),
        cmocka_unit_test(helper_context_is_absorbed),
        cmocka_unit_test(grouped_numbers),
        cmocka_unit_test(fixed_numbers_round_right),
        cmocka_unit_test(fixed_digits_match_printf),
        cmocka_unit_test(g17_numbers_are_printf_s),
        cmocka_unit_test(strict_number_parsing),
        cmocka_unit_test(utf8_check),
        cmocka_unit_test(spilled_blocks),
        cmocka_unit_test(report_survives_allocation_failure),
        cmocka_unit_test(foreign_messages_about_memory),
        cmocka_unit_test(failed_allocation_is_noted),
        cmocka_unit_test(error_caused_by_memory_says_so_once),
        cmocka_unit_test(names_distance_and_schemes),
        cmocka_unit_test(ids_sort_as_qsort_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
