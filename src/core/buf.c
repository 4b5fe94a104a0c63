/*
 * buf.c — a growable string buffer and small text utilities. A failed allocation
 * marks the buffer failed instead of returning an error from every append, so
 * writers can check once at the end.
 */
#include "core/core.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_buf_init(cs_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void cs_buf_free(cs_buf *b)
{
    cs_free(b->data);
    cs_buf_init(b);
}

void cs_buf_clear(cs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static inline bool reserve(cs_buf *b, size_t extra)
{
    if (b->len + extra < b->cap && !b->failed)
        return true; /* the usual case, without a call */
    if (b->failed)
        return false;
    if (!cs_grow((void **)&b->data, &b->cap, b->len + extra + 1, 1)) {
        b->failed = true;
        return false;
    }
    return true;
}

bool cs_buf_reserve(cs_buf *b, size_t extra)
{
    return reserve(b, extra);
}

void cs_buf_addn(cs_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cs_buf_add(cs_buf *b, const char *s)
{
    cs_buf_addn(b, s, strlen(s));
}

void cs_buf_addc(cs_buf *b, char c)
{
    cs_buf_addn(b, &c, 1);
}

void cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || !reserve(b, (size_t)n)) {
        if (n < 0)
            b->failed = true;
        va_end(ap2);
        return;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void cs_buf_printf(cs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *cs_buf_take(cs_buf *b)
{
    if (b->failed) {
        cs_buf_free(b);
        return NULL;
    }
    if (!b->data)
        reserve(b, 0);
    if (b->failed)
        return NULL;
    if (b->len == 0)
        b->data[0] = '\0';
    char *s = b->data;
    cs_buf_init(b);
    return s;
}

void cs_buf_add_grouped(cs_buf *b, double value, int decimals)
{
    char digits[64];
    if (!isfinite(value)) {
        cs_buf_add(b, isnan(value) ? "n/a" : (value > 0 ? "inf" : "-inf"));
        return;
    }
    snprintf(digits, sizeof digits, "%.*f", decimals, fabs(value));
    /* "-0" after rounding is printed as "0" */
    bool negative = value < 0 && strspn(digits, "0.") != strlen(digits);
    if (negative)
        cs_buf_addc(b, '-');
    const char *dot = strchr(digits, '.');
    size_t int_len = dot ? (size_t)(dot - digits) : strlen(digits);
    for (size_t i = 0; i < int_len; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            cs_buf_addc(b, ',');
        cs_buf_addc(b, digits[i]);
    }
    if (dot)
        cs_buf_add(b, dot);
}

void cs_buf_add_fixed(cs_buf *b, double value, int decimals)
{
    static const double scale[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    /* the fast path needs value * 10^decimals well inside double's exact integers */
    if (decimals < 0 || decimals > 9 || !(fabs(value) * scale[decimals < 0 || decimals > 9
                                                                   ? 0 : decimals] < 1e15)) {
        if (isfinite(value))
            cs_buf_printf(b, "%.*f", decimals < 0 ? 0 : decimals, value);
        else
            cs_buf_add(b, "");
        return;
    }
    /* integer arithmetic */
    double r = round(fabs(value) * scale[decimals]);
    char out[40];
    cs_buf_addn(b, out, cs_fixed_digits((unsigned long long)r, decimals, value < 0 && r > 0, out));
}

/* "00".."99": two digits a division (a city's coordinates are most of what is written) */
static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

size_t cs_fixed_digits(unsigned long long u, int decimals, bool negative, char out[40])
{
    char text[48], *end = text + sizeof text, *p = end; /* written backwards */
    int d = decimals > 0 ? decimals : 0;
    for (; d >= 2; d -= 2, u /= 100)
        memcpy(p -= 2, digit_pairs + 2 * (u % 100), 2);
    if (d == 1) {
        *--p = (char)('0' + u % 10);
        u /= 10;
    }
    if (decimals > 0)
        *--p = '.';
    for (; u >= 100; u /= 100) /* the whole part: one digit at least */
        memcpy(p -= 2, digit_pairs + 2 * (u % 100), 2);
    if (u >= 10)
        memcpy(p -= 2, digit_pairs + 2 * u, 2);
    else
        *--p = (char)('0' + u);
    if (negative)
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    return n;
}

/* 10^0 .. 10^19; 10^20, for %.17g's 20 decimals at 1e-4, is 10^19 * 10 */
__extension__ typedef unsigned __int128 u128; /* a GCC and Clang type, not ISO C */

static const uint64_t tens_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};

/*
 * %g's fixed notation, exactly: v = m / 2^k with m below 2^53, so m * 10^d / 2^k
 * rounded to nearest, ties to even, is v's d-decimal rounding as glibc's printf makes
 * it from v's exact binary value; d is chosen so that it has 17 digits. false outside
 * 1e-4 <= |v| < 1e17 (exponent notation or subnormals), for printf.
 */
static bool g17_fixed(double v, char out[40], size_t *len)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e17))
        return false;
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits); /* normal here: 1e-4 <= a */
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int e2 = (int)(bits >> 52) - 1022; /* a = m / 2^53 * 2^e2 */
    int k = 53 - e2;                   /* a = m / 2^k, k in -3..66 */
    if (k <= 0) {                      /* a whole number of up to 17 digits */
        *len = cs_fixed_digits(m << -k, 0, v < 0, out);
        return true;
    }
    int d = 16 - (int)floor((e2 - 1) * 0.30103); /* from log10(2^(e2 - 1)); corrected below */
    uint64_t n;
    for (;;) {
        if (d < 0 || d > 20)
            return false;
        u128 x = (u128)m * tens_u64[d < 20 ? d : 19] * (d < 20 ? 1 : 10);
        u128 half = (u128)1 << (k - 1);
        u128 rest = x & ((half << 1) - 1);
        n = (uint64_t)(x >> k);
        n += rest > half || (rest == half && (n & 1));
        if (n >= 100000000000000000ULL) /* rounded up to 18 digits */
            d--;
        else if (n < 10000000000000000ULL)
            d++;
        else
            break;
    }
    for (; d > 0 && n % 10 == 0; d--) /* %g drops trailing zeros */
        n /= 10;
    *len = cs_fixed_digits(n, d, v < 0, out);
    return true;
}

void cs_buf_add_g17(cs_buf *b, double v)
{
    char text[40];
    size_t n;
    if (v == 0)
        cs_buf_add(b, signbit(v) ? "-0" : "0");
    else if (g17_fixed(v, text, &n))
        cs_buf_addn(b, text, n);
    else
        cs_buf_printf(b, "%.17g", v);
}

/*
 * Plain decimals of at most 15 digits and no exponent, as most tables hold them: the
 * digits are an integer below 2^53 and the power of ten an exact double (to 1e22), so
 * one division, correctly rounded, gives what strtod gives (Clinger's fast path)
 * without its arbitrary-precision machinery. false: anything else, for strtod.
 */
static bool parse_short_decimal(const char *s, double *out)
{
    static const double tens[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    bool negative = *s == '-';
    s += *s == '-' || *s == '+';
    uint64_t m = 0;
    int digits = 0, decimals = -1; /* -1: no point yet */
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            m = m * 10 + (uint64_t)(*s - '0');
            digits++;
            decimals += decimals >= 0;
        } else if (*s == '.' && decimals < 0) {
            decimals = 0;
        } else {
            break;
        }
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s || digits == 0 || digits > 15)
        return false;
    double v = decimals > 0 ? (double)m / tens[decimals] : (double)m;
    *out = negative ? -v : v;
    return true;
}

bool cs_parse_double(const char *s, double *out)
{
    if (!s)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    /* decimal only: strtod also takes "0x7A" (122), "inf", "nan" and "infinity" */
    const char *digits = s + (*s == '+' || *s == '-');
    if (!(isdigit((unsigned char)*digits) || *digits == '.') || strpbrk(s, "xX"))
        return false;
    if (parse_short_decimal(s, out))
        return true;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    while (end && isspace((unsigned char)*end))
        end++;
    if (errno == ERANGE || !end || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

const char *cs_id_shown(const char *id, char *buf)
{
    size_t n = strlen(id);
    if (n <= CS_ID_SHOWN)
        return id;
    n = CS_ID_SHOWN;
    while (n > 0 && ((unsigned char)id[n] & 0xC0) == 0x80) /* inside a character */
        n--;
    memcpy(buf, id, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

bool cs_is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n;
        if (*p < 0x80)
            n = 0;
        else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
            n = 1;
        else if ((*p & 0xF0) == 0xE0)
            n = 2;
        else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
            n = 3;
        else
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return false;
    }
    return true;
}

int cs_strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

void cs_describe_errno(int err, char reason[128])
{
    if (strerror_r(err, reason, 128) != 0)
        snprintf(reason, 128, "error %d", err);
}
