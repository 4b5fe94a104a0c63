/*
 * test_json.c — the JSON writer: nested documents compact and pretty against
 * hand-written text, number formatting, string escaping, invalid UTF-8 and misuse;
 * and a layer's GeoJSON drained while it is written (out/layerw.c).
 */
#include "testutil.h"

#include "out/json.h"
#include "out/out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The same document written in either style. */
static void write_sample(cs_json *j)
{
    cs_json_begin_object(j);
    cs_json_key(j, "name");
    cs_json_string(j, "古美");
    cs_json_key(j, "n");
    cs_json_integer(j, 3);
    cs_json_key(j, "ok");
    cs_json_boolean(j, true);
    cs_json_key(j, "none");
    cs_json_string(j, NULL);
    cs_json_key(j, "list");
    cs_json_begin_array(j);
    cs_json_integer(j, 1);
    cs_json_number(j, 2.5, 3);
    cs_json_begin_array(j);
    cs_json_end_array(j);
    cs_json_begin_object(j);
    cs_json_end_object(j);
    cs_json_raw(j, "[1,2]");
    cs_json_end_array(j);
    cs_json_key(j, "obj");
    cs_json_begin_object(j);
    cs_json_key(j, "a");
    cs_json_begin_array(j);
    cs_json_begin_object(j);
    cs_json_key(j, "b");
    cs_json_boolean(j, false);
    cs_json_key(j, "c");
    cs_json_null(j);
    cs_json_end_object(j);
    cs_json_end_array(j);
    cs_json_end_object(j);
    cs_json_end_object(j);
}

static void nested_compact(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    write_sample(&j);
    assert_true(cs_json_ok(&j));
    assert_string_equal(b.data, "{\"name\":\"古美\",\"n\":3,\"ok\":true,\"none\":null,"
                                "\"list\":[1,2.5,[],{},[1,2]],"
                                "\"obj\":{\"a\":[{\"b\":false,\"c\":null}]}}");
    cs_buf_free(&b);
}

static void nested_pretty(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, true);
    write_sample(&j);
    assert_true(cs_json_ok(&j));
    assert_string_equal(b.data, "{\n"
                                "  \"name\": \"古美\",\n"
                                "  \"n\": 3,\n"
                                "  \"ok\": true,\n"
                                "  \"none\": null,\n"
                                "  \"list\": [\n"
                                "    1,\n"
                                "    2.5,\n"
                                "    [],\n"
                                "    {},\n"
                                "    [1,2]\n"
                                "  ],\n"
                                "  \"obj\": {\n"
                                "    \"a\": [\n"
                                "      {\n"
                                "        \"b\": false,\n"
                                "        \"c\": null\n"
                                "      }\n"
                                "    ]\n"
                                "  }\n"
                                "}");
    cs_buf_free(&b);
}

static void top_level_scalars(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, true);
    cs_json_integer(&j, -9223372036854775807LL - 1);
    assert_true(cs_json_ok(&j));
    assert_string_equal(b.data, "-9223372036854775808");
    /* A second top-level value is not JSON. */
    cs_json_null(&j);
    assert_false(cs_json_ok(&j));
    cs_buf_free(&b);
}

static char *number_text(double v, int decimals)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    cs_json_number(&j, v, decimals);
    assert_true(cs_json_ok(&j));
    return cs_buf_take(&b);
}

/*
 * Expected texts worked out by hand; the ties follow printf, which rounds the exact
 * binary value and breaks exact ties to even (checked with Python's '%.0f' % 2.5).
 */
static void number_formatting(void **state)
{
    (void)state;
    struct { double v; int d; const char *want; } cases[] = {
        {0.1 + 0.2, 7, "0.3"},
        {121.4006000, 7, "121.4006"},
        {1e-9, 7, "0"},
        {-0.00000001, 7, "0"},
        {-0.0, 3, "0"},
        {2.5, 0, "2"},    /* tie to even */
        {3.5, 0, "4"},    /* tie to even */
        {-1.5, 0, "-2"},  /* tie to even */
        {0.5, 0, "0"},
        {-0.5, 0, "0"},   /* "-0" after rounding */
        {1.005, 2, "1"},  /* 1.005 is 1.00499999999999989... in binary */
        {100, 2, "100"},  /* integer zeros are kept */
        {100.10, 1, "100.1"},
        {1e20, 2, "100000000000000000000"},
        {-31.2301, 3, "-31.23"},
        {3.14159, -1, "3"},                         /* negative decimals: 0 */
        {1.0 / 3.0, 40, "0.33333333333333331"},     /* clamped to 17 */
        {NAN, 2, "null"},
        {INFINITY, 2, "null"},
        {-INFINITY, 2, "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = number_text(cases[i].v, cases[i].d);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("case %zu: %.17g at %d decimals gave \"%s\", want \"%s\"", i,
                     cases[i].v, cases[i].d, s, cases[i].want);
        cs_free(s);
    }
    char *huge = number_text(-1.7976931348623157e308, 17);
    assert_int_equal(strlen(huge), 310); /* sign and 309 digits, no decimals left */
    cs_free(huge);
}

static char *string_text(const char *s)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    cs_json_string(&j, s);
    assert_true(cs_json_ok(&j));
    return cs_buf_take(&b);
}

/* cs_json_rounded writes what printf's cs_json_number writes for values rounded to
 * the decimals first (as the layers round their coordinates): 200,000 random longitudes,
 * latitudes and small numbers at 0..9 decimals, plus the edges (zero, -0, values just
 * under 1, the largest taking the integer path, and those beyond it). */
static void rounded_numbers_as_printf(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 200000 + 12; i++) {
        int d = i % 10;
        double scale = pow(10, d), v;
        if (i < 200000) {
            double range = i % 3 == 0 ? 360 : i % 3 == 1 ? 180 : 2;
            v = ((double)rand() / RAND_MAX - 0.5) * range;
        } else {
            static const double edges[12] = {0, -0.0, 0.99999999, -0.99999999, 1e-9, -1e-9,
                                             99999.9999999, -99999.9999999, 1e6, 1e8, 5e8, 1e16};
            v = edges[i - 200000];
            d = 7;
            scale = 1e7;
        }
        v = round(v * scale) / scale;
        cs_buf a, b;
        cs_json ja, jb;
        cs_buf_init(&a);
        cs_buf_init(&b);
        cs_json_init(&ja, &a, false);
        cs_json_init(&jb, &b, false);
        cs_json_rounded(&ja, v, d);
        cs_json_number(&jb, v, d);
        if (strcmp(a.data, b.data))
            fail_msg("%.17g at %d decimals: '%s', printf '%s'", v, d, a.data, b.data);
        cs_buf_free(&a);
        cs_buf_free(&b);
    }
    /* pairs in one go: what the array of arrays of cs_json_number says, compact and
     * pretty (the latter by the general path), and with a number beyond the integer
     * path */
    double x[5] = {121.4123456, -0.5, 0, 1e16, 3}, y[5] = {31.1, 2, -1e-7, 4, 5};
    for (int pretty = 0; pretty < 2; pretty++)
        for (size_t n = 0; n <= 5; n += 3) {
            cs_buf a, b;
            cs_json ja, jb;
            cs_buf_init(&a);
            cs_buf_init(&b);
            cs_json_init(&ja, &a, pretty);
            cs_json_init(&jb, &b, pretty);
            cs_json_begin_array(&ja);
            cs_json_rounded_pairs(&ja, x, y, n, 7);
            cs_json_integer(&ja, 1);
            cs_json_end_array(&ja);
            cs_json_begin_array(&jb);
            cs_json_begin_array(&jb);
            for (size_t i = 0; i < n; i++) {
                cs_json_begin_array(&jb);
                cs_json_number(&jb, x[i], 7);
                cs_json_number(&jb, y[i], 7);
                cs_json_end_array(&jb);
            }
            cs_json_end_array(&jb);
            cs_json_integer(&jb, 1);
            cs_json_end_array(&jb);
            assert_true(cs_json_ok(&ja));
            assert_string_equal(a.data, b.data);
            cs_buf_free(&a);
            cs_buf_free(&b);
        }
}

static void check_strings(const char *const (*cases)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *s = string_text(cases[i][0]);
        if (strcmp(s, cases[i][1]) != 0)
            fail_msg("case %zu: got %s, want %s", i, s, cases[i][1]);
        assert_true(cs_is_utf8(s));
        cs_free(s);
    }
}

static char *exact_text(double v)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    cs_json_exact(&j, v);
    assert_true(cs_json_ok(&j));
    return cs_buf_take(&b);
}

/* Full precision: hand-worked shortest texts, and 100,000 random doubles of every
 * magnitude that each read back (strtod) as exactly themselves. */
static void exact_numbers(void **state)
{
    (void)state;
    struct { double v; const char *want; } cases[] = {
        {15650, "15650"}, {-0.0, "0"}, {0.1 + 0.2, "0.30000000000000004"}, {0.054, "0.054"},
        {1.0 / 3.0, "0.3333333333333333"}, {1e-5, "1e-05"}, {2.5e-7, "2.5e-07"},
        {1e20, "1e+20"}, {NAN, "null"}, {INFINITY, "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = exact_text(cases[i].v);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("case %zu: %.17g gave \"%s\", want \"%s\"", i, cases[i].v, s,
                     cases[i].want);
        cs_free(s);
    }
    unsigned long long x = 88172645463325252ULL; /* xorshift64 */
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v = ldexp((double)(x >> 11) / 9007199254740992.0, (int)(x % 80) - 40);
        char *s = exact_text(i % 2 ? v : -v);
        if (strtod(s, NULL) != (i % 2 ? v : -v))
            fail_msg("%.17g gave \"%s\", which reads back otherwise", v, s);
        cs_free(s);
    }
}

static void string_escaping(void **state)
{
    (void)state;
    const char *const cases[][2] = {
        {"", "\"\""},
        {"plain / text", "\"plain / text\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\""},
        {"\x01\x1f x", "\"\\u0001\\u001f x\""},
        {"\x7f", "\"\x7f\""},                             /* DEL may stay raw */
        {"闵行区 é 😀", "\"闵行区 é 😀\""},                 /* UTF-8 passes through */
        {"a\xE2\x80\xA8" "b\xE2\x80\xA9", "\"a\\u2028b\\u2029\""},
        {"\xEF\xBF\xBD", "\"\xEF\xBF\xBD\""},               /* a real U+FFFD stays */
    };
    check_strings(cases, sizeof cases / sizeof cases[0]);
}

/* Each ill-formed subsequence becomes one U+FFFD (Unicode's maximal subpart rule). */
static void invalid_utf8_replaced(void **state)
{
    (void)state;
#define R "\xEF\xBF\xBD"
    const char *const cases[][2] = {
        {"\xff", "\"" R "\""},
        {"a\xC3", "\"a" R "\""},                          /* truncated 2-byte */
        {"\xE4\xB8x", "\"" R "x\""},                      /* truncated 3-byte: one */
        {"\xF0\x9F\x98!", "\"" R "!\""},                  /* truncated 4-byte: one */
        {"\xC0\xAF", "\"" R R "\""},                      /* overlong '/' */
        {"\xE0\x80\x80", "\"" R R R "\""},                /* overlong 3-byte */
        {"\xED\xA0\x80", "\"" R R R "\""},                /* surrogate D800 */
        {"\xF4\x90\x80\x80", "\"" R R R R "\""},          /* above U+10FFFF */
        {"\x80z", "\"" R "z\""},                          /* stray continuation */
        {"\xB9\xC5\xC3\xC0", "\"" R R R R "\""},          /* GBK bytes of 古美 */
        {"ok\xC3\xA9\xFE\"", "\"ok\xC3\xA9" R "\\\"\""},  /* valid, invalid, escape */
    };
#undef R
    check_strings(cases, sizeof cases / sizeof cases[0]);
}

static void keys_are_escaped(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    cs_json_begin_object(&j);
    cs_json_key(&j, "a\"\n\xff");
    cs_json_integer(&j, 1);
    cs_json_end_object(&j);
    assert_true(cs_json_ok(&j));
    assert_string_equal(b.data, "{\"a\\\"\\n\xEF\xBF\xBD\":1}");
    cs_buf_free(&b);
}

/* Each misuse leaves cs_json_ok false; none may crash or overrun. */
static void misuse_is_reported(void **state)
{
    (void)state;
    for (int kind = 0; kind < 7; kind++) {
        cs_buf b;
        cs_buf_init(&b);
        cs_json j;
        cs_json_init(&j, &b, kind % 2 == 0);
        switch (kind) {
        case 0: /* value in an object without a key */
            cs_json_begin_object(&j);
            cs_json_integer(&j, 1);
            cs_json_end_object(&j);
            break;
        case 1: /* key in an array */
            cs_json_begin_array(&j);
            cs_json_key(&j, "k");
            cs_json_integer(&j, 1);
            cs_json_end_array(&j);
            break;
        case 2: /* unclosed */
            cs_json_begin_array(&j);
            break;
        case 3: /* closed twice, wrong kind */
            cs_json_begin_array(&j);
            cs_json_end_object(&j);
            cs_json_end_array(&j);
            break;
        case 4: /* key without value */
            cs_json_begin_object(&j);
            cs_json_key(&j, "k");
            cs_json_end_object(&j);
            break;
        case 5: /* NULL key */
            cs_json_begin_object(&j);
            cs_json_key(&j, NULL);
            cs_json_null(&j);
            cs_json_end_object(&j);
            break;
        case 6: /* too deep, then balanced again */
            for (int i = 0; i < CS_JSON_MAX_DEPTH + 10; i++)
                cs_json_begin_array(&j);
            for (int i = 0; i < CS_JSON_MAX_DEPTH + 10; i++)
                cs_json_end_array(&j);
            assert_int_equal(j.depth, 0);
            break;
        }
        if (cs_json_ok(&j))
            fail_msg("misuse %d not reported; output %s", kind, b.data);
        cs_buf_free(&b);
    }
    /* The deepest allowed nesting is fine. */
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, false);
    for (int i = 0; i < CS_JSON_MAX_DEPTH - 1; i++)
        cs_json_begin_array(&j);
    for (int i = 0; i < CS_JSON_MAX_DEPTH - 1; i++)
        cs_json_end_array(&j);
    assert_true(cs_json_ok(&j));
    assert_int_equal(b.len, 2 * (CS_JSON_MAX_DEPTH - 1));
    cs_buf_free(&b);
}

/* What a drain was handed: the pieces joined, and how it was called. */
typedef struct drained {
    cs_buf text;
    size_t calls, fail_at; /* fail_at: the call that fails (0: none) */
    size_t largest_held;   /* the most text the writer held when it drained */
    bool odd_piece;        /* a piece that was empty or not whole 4 kB blocks */
} drained;

/* Like write.c's: whole 4 kB blocks taken from the front, the rest left. */
static bool take_blocks(void *user, cs_buf *json)
{
    drained *d = user;
    if (++d->calls == d->fail_at)
        return false;
    size_t n = json->len / 4096 * 4096;
    d->odd_piece |= n == 0 || n % 4096 != 0;
    d->largest_held = json->len > d->largest_held ? json->len : d->largest_held;
    cs_buf_addn(&d->text, json->data, n);
    memmove(json->data, json->data + n, json->len - n + 1);
    json->len -= n;
    return true;
}

#define LAYER_POINTS 200000 /* about 20 MB of GeoJSON */

/* A layer of points with a text and a number each, drained to d (NULL: not drained). */
static cs_status point_layer(cs_context *ctx, cs_buf *json, drained *d)
{
    cs_lw w;
    cs_status st = cs_lw_begin(&w, ctx, "points", "points", json, NULL, CS_GPKG_POINT, NULL);
    assert_int_equal(st, CS_OK);
    if (d)
        cs_lw_drain_to(&w, take_blocks, d);
    char id[32];
    for (int i = 0; i < LAYER_POINTS && w.st == CS_OK; i++) {
        snprintf(id, sizeof id, "p%06d 点", i);
        cs_lw_feature(&w);
        cs_lw_text(&w, "id", id);
        cs_lw_number(&w, "people", i * 0.37, 2);
        cs_lw_point(&w, 121.0 + i * 1e-6, 31.0 + (i % 977) * 1e-5);
    }
    return cs_lw_end(&w);
}

/* The pieces drained and what is left are the text written without a drain; the
 * writer never holds much more than CS_LW_DRAIN_AT; a failed drain stops it. */
static void drained_layer_is_the_same_text(void **state)
{
    (void)state;
    cs_context *ctx = NULL;
    assert_int_equal(cs_context_create(&ctx), CS_OK);
    cs_buf whole, held;
    cs_buf_init(&whole);
    cs_buf_init(&held);
    assert_int_equal(point_layer(ctx, &whole, NULL), CS_OK);
    assert_true(whole.len > 2 * CS_LW_DRAIN_AT);

    drained d = {0};
    cs_buf_init(&d.text);
    assert_int_equal(point_layer(ctx, &held, &d), CS_OK);
    assert_true(d.calls >= 2);
    assert_false(d.odd_piece);
    assert_true(d.largest_held >= CS_LW_DRAIN_AT);
    assert_true(d.largest_held < CS_LW_DRAIN_AT + 4096); /* drained at a feature's start */
    assert_true(held.len < CS_LW_DRAIN_AT);
    cs_buf_addn(&d.text, held.data, held.len);
    assert_int_equal(d.text.len, whole.len);
    assert_memory_equal(d.text.data, whole.data, whole.len);
    cs_buf_free(&d.text);

    drained fails = {.fail_at = 2};
    cs_buf_init(&fails.text);
    cs_buf_clear(&held);
    assert_int_equal(point_layer(ctx, &held, &fails), CS_ERR_OUTPUT);
    assert_int_equal(fails.calls, 2); /* not called again once it failed */
    cs_buf_free(&fails.text);
    cs_buf_free(&whole);
    cs_buf_free(&held);
    cs_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_compact),
        cmocka_unit_test(nested_pretty),
        cmocka_unit_test(top_level_scalars),
        cmocka_unit_test(number_formatting),
        cmocka_unit_test(exact_numbers),
        cmocka_unit_test(rounded_numbers_as_printf),
        cmocka_unit_test(string_escaping),
        cmocka_unit_test(invalid_utf8_replaced),
        cmocka_unit_test(keys_are_escaped),
        cmocka_unit_test(misuse_is_reported),
        cmocka_unit_test(drained_layer_is_the_same_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
