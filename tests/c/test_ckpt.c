/* test_ckpt.c -- standalone C11 test of the C core of ckptsched (src_c/).
 *
 * No framework, no Python.  Every expected value is computed independently:
 * by hand (see the comments) or by a brute-force model written from the
 * definitions in docs/semantics.md, never copied from the code under test.
 *
 * Prints one failure line per failed check (file:line, expression, values)
 * and, at the end, exactly one line "N passed, N failed".  Exit status is
 * non-zero when any check failed.
 *
 * Build and run: bash tests/c/run.sh
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"

/* ---- the tiny harness ---------------------------------------------------- */

static long long g_pass = 0, g_fail = 0;
static char g_ctx[256] = "";  /* what a loop is currently testing, for failures */
#define MAX_REPORTED 60

static void report(const char *file, int line, const char *expr)
{
    g_fail++;
    if (g_fail > MAX_REPORTED) return;
    printf("FAIL %s:%d: %s", file, line, expr);
    if (g_ctx[0]) printf("  [%s]", g_ctx);
    printf("\n");
}

static void report_eq(const char *file, int line, const char *got_expr,
                      const char *want_expr, long long got, long long want)
{
    g_fail++;
    if (g_fail <= MAX_REPORTED) {
        printf("FAIL %s:%d: %s == %s  (got %lld, want %lld)", file, line, got_expr,
               want_expr, got, want);
        if (g_ctx[0]) printf("  [%s]", g_ctx);
        printf("\n");
    }
}

#define CHECK(expr)                                                  \
    do {                                                             \
        if (expr) g_pass++;                                          \
        else report(__FILE__, __LINE__, #expr);                      \
    } while (0)

#define CHECK_EQ(got, want)                                          \
    do {                                                             \
        long long got_ = (long long)(got), want_ = (long long)(want); \
        if (got_ == want_) g_pass++;                                 \
        else report_eq(__FILE__, __LINE__, #got, #want, got_, want_); \
    } while (0)

#define SET_CTX(...) snprintf(g_ctx, sizeof g_ctx, __VA_ARGS__)
#define CLEAR_CTX() (g_ctx[0] = '\0')

/* ---- constants and a deterministic PRNG ----------------------------------- */

#define M INT64_MAX
#define P2(k) ((int64_t)1 << (k))        /* 2^k for k <= 62 */
#define SENTINEL ((int64_t)-777)

typedef unsigned __int128 u128;

static uint64_t rng_state = 0x0123456789ABCDEFULL;

static uint64_t splitmix64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* uniform-ish in [lo, hi], small ranges only */
static int64_t rnd(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(splitmix64() % (uint64_t)(hi - lo + 1));
}

/* ---- checked arithmetic (ckpt_arith.h) ------------------------------------ */

static void test_add_mul(void)
{
    int64_t r;

    r = SENTINEL; CHECK_EQ(ckpt_add(M, 0, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_add(M - 1, 1, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_add(M, 1, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_add(M, M, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_add(INT64_MIN, 0, &r), CKPT_OK); CHECK_EQ(r, INT64_MIN);
    r = SENTINEL; CHECK_EQ(ckpt_add(INT64_MIN + 1, -1, &r), CKPT_OK); CHECK_EQ(r, INT64_MIN);
    r = SENTINEL; CHECK_EQ(ckpt_add(INT64_MIN, -1, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_add(INT64_MIN, INT64_MIN, &r), CKPT_OVERFLOW);
    r = SENTINEL; CHECK_EQ(ckpt_add(M, INT64_MIN, &r), CKPT_OK); CHECK_EQ(r, -1);
    r = SENTINEL; CHECK_EQ(ckpt_add(-5, 3, &r), CKPT_OK); CHECK_EQ(r, -2);

    r = SENTINEL; CHECK_EQ(ckpt_mul(M, 1, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_mul(M, -1, &r), CKPT_OK); CHECK_EQ(r, -M);
    r = SENTINEL; CHECK_EQ(ckpt_mul(M, 2, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_mul(INT64_MIN, 1, &r), CKPT_OK); CHECK_EQ(r, INT64_MIN);
    r = SENTINEL; CHECK_EQ(ckpt_mul(INT64_MIN, -1, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_mul(INT64_MIN, 0, &r), CKPT_OK); CHECK_EQ(r, 0);
    /* 2^31 * 2^32 = 2^63 = M + 1: overflow; with a minus sign it is INT64_MIN exactly */
    r = SENTINEL; CHECK_EQ(ckpt_mul(P2(31), P2(32), &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_mul(-P2(31), P2(32), &r), CKPT_OK); CHECK_EQ(r, INT64_MIN);
    r = SENTINEL; CHECK_EQ(ckpt_mul(P2(31), P2(31), &r), CKPT_OK); CHECK_EQ(r, P2(62));
    /* floor(sqrt(M)) = 3037000499: 3037000499^2 = 9223372030926249001 <= M,
     * 3037000500^2 = 9223372037000250000 > M = 9223372036854775807 */
    r = SENTINEL; CHECK_EQ(ckpt_mul(3037000499LL, 3037000499LL, &r), CKPT_OK);
    CHECK_EQ(r, 9223372030926249001LL);
    r = SENTINEL; CHECK_EQ(ckpt_mul(3037000500LL, 3037000500LL, &r), CKPT_OVERFLOW);
    r = SENTINEL; CHECK_EQ(ckpt_mul(-3037000500LL, 3037000500LL, &r), CKPT_OVERFLOW);

    /* random operands of every magnitude and sign against __int128 */
    typedef __int128 i128;
    for (int k = 0; k < 20000; k++) {
        int64_t a = (int64_t)(splitmix64() >> (splitmix64() % 64));
        int64_t b = (int64_t)(splitmix64() >> (splitmix64() % 64));
        if (k & 1) a = -a;  /* (may be INT64_MIN already: shift 0) */
        if (k & 2) b = -b;
        if (k % 97 == 0) a = INT64_MIN;
        SET_CTX("a=%" PRId64 " b=%" PRId64, a, b);
        i128 sum = (i128)a + b, prod = (i128)a * b;
        r = SENTINEL;
        if (sum >= INT64_MIN && sum <= M) { CHECK_EQ(ckpt_add(a, b, &r), CKPT_OK); CHECK_EQ(r, (int64_t)sum); }
        else { CHECK_EQ(ckpt_add(a, b, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL); }
        r = SENTINEL;
        if (prod >= INT64_MIN && prod <= M) { CHECK_EQ(ckpt_mul(a, b, &r), CKPT_OK); CHECK_EQ(r, (int64_t)prod); }
        else { CHECK_EQ(ckpt_mul(a, b, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL); }
    }
    CLEAR_CTX();
}

/* ckpt_muldivmod_u64 against unsigned __int128 (the tests may use it with
 * CKPT_NO_INT128 too: the macro only changes the library's arithmetic). */
static void check_muldivmod(uint64_t a, uint64_t b, uint64_t c)
{
    u128 prod = (u128)a * b;
    uint64_t quot = 7, rem = 7;
    ckpt_status st = ckpt_muldivmod_u64(a, b, c, &quot, &rem);
    SET_CTX("muldivmod a=%llu b=%llu c=%llu", (unsigned long long)a, (unsigned long long)b,
            (unsigned long long)c);
    if (prod / c > (u128)UINT64_MAX) {
        CHECK_EQ(st, CKPT_OVERFLOW);
        CHECK(quot == 7 && rem == 7);
    } else {
        CHECK_EQ(st, CKPT_OK);
        CHECK(quot == (uint64_t)(prod / c) && rem == (uint64_t)(prod % c));
    }
}

static void test_muldivmod(void)
{
    const uint64_t U = UINT64_MAX, H = (uint64_t)1 << 63, L = 0xFFFFFFFFu;
    const uint64_t edges[] = {0, 1, 2, 3, L - 1, L, L + 1, L + 2, H - 1, H, H + 1, U - 1, U,
                              (uint64_t)M, 3037000499u, 3037000500u, 0x5555555555555555u,
                              0xAAAAAAAAAAAAAAAAu, 0x8000000100000001u, 0x00000001FFFFFFFFu};
    const size_t n = sizeof edges / sizeof edges[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++)
                if (edges[k] != 0) check_muldivmod(edges[i], edges[j], edges[k]);
    /* (2^64 - 1)^2 / (2^64 - 1) = 2^64 - 1: the largest quotient that fits */
    uint64_t quot = 0, rem = 1;
    CHECK_EQ(ckpt_muldivmod_u64(U, U, U, &quot, &rem), CKPT_OK);
    CHECK(quot == U && rem == 0);
    for (int k = 0; k < 20000; k++) {
        uint64_t a = splitmix64() >> (splitmix64() % 64), b = splitmix64() >> (splitmix64() % 64);
        uint64_t c = splitmix64() >> (splitmix64() % 64);
        check_muldivmod(a, b, c ? c : 1);
    }
    CLEAR_CTX();
}

static void test_div(void)
{
    int64_t r;
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(7, 2, &r), CKPT_OK); CHECK_EQ(r, 4);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(6, 2, &r), CKPT_OK); CHECK_EQ(r, 3);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(0, 5, &r), CKPT_OK); CHECK_EQ(r, 0);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(1, M, &r), CKPT_OK); CHECK_EQ(r, 1);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(M, 1, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(M, M, &r), CKPT_OK); CHECK_EQ(r, 1);
    /* M = 2^63 - 1 = 2 * (2^62 - 1) + 1: ceil(M/2) = 2^62, floor = 2^62 - 1 */
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(M, 2, &r), CKPT_OK); CHECK_EQ(r, P2(62));
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(M, M - 1, &r), CKPT_OK); CHECK_EQ(r, 2);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(-1, 2, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(INT64_MIN, 1, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(5, 0, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(5, -1, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(5, INT64_MIN, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_ceil_div(0, 0, &r), CKPT_DOMAIN);

    r = SENTINEL; CHECK_EQ(ckpt_floor_div(7, 2, &r), CKPT_OK); CHECK_EQ(r, 3);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(6, 2, &r), CKPT_OK); CHECK_EQ(r, 3);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(0, 5, &r), CKPT_OK); CHECK_EQ(r, 0);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(1, M, &r), CKPT_OK); CHECK_EQ(r, 0);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(M, 2, &r), CKPT_OK); CHECK_EQ(r, P2(62) - 1);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(M, 1, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(-1, 2, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(INT64_MIN, 1, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(5, 0, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_floor_div(5, -3, &r), CKPT_DOMAIN);

    /* small brute force: ceil/floor against repeated subtraction */
    for (int64_t a = 0; a <= 60; a++)
        for (int64_t b = 1; b <= 13; b++) {
            int64_t q = 0, rest = a;
            while (rest >= b) rest -= b, q++;
            SET_CTX("a=%" PRId64 " b=%" PRId64, a, b);
            r = SENTINEL; CHECK_EQ(ckpt_floor_div(a, b, &r), CKPT_OK); CHECK_EQ(r, q);
            r = SENTINEL; CHECK_EQ(ckpt_ceil_div(a, b, &r), CKPT_OK); CHECK_EQ(r, q + (rest > 0));
        }
    CLEAR_CTX();
}

static void test_muldiv(void)
{
    int64_t r;
    /* products far beyond int64 that divide back into range */
    /* 2^62 * 2^62 / 2^62 = 2^62 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(P2(62), P2(62), P2(62), &r), CKPT_OK);
    CHECK_EQ(r, P2(62));
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(P2(62), P2(62), P2(62), &r), CKPT_OK);
    CHECK_EQ(r, P2(62));
    /* 2^62 * 2^62 / 2^61 = 2^63 = M + 1: overflow in both directions */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(P2(62), P2(62), P2(61), &r), CKPT_OVERFLOW);
    CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(P2(62), P2(62), P2(61), &r), CKPT_OVERFLOW);
    CHECK_EQ(r, SENTINEL);
    /* (3 * 2^61) * 2^61 / (3 * 2^60) = 2^62, product 3 * 2^122 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(3 * P2(61), P2(61), 3 * P2(60), &r), CKPT_OK);
    CHECK_EQ(r, P2(62));
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(3 * P2(61), P2(61), 3 * P2(60), &r), CKPT_OK);
    CHECK_EQ(r, P2(62));
    /* M * M / M = M: a result of exactly INT64_MAX is fine */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(M, M, M, &r), CKPT_OK); CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M, M, M, &r), CKPT_OK); CHECK_EQ(r, M);
    /* M * (M - 1) / (M - 1) = M */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M, M - 1, M - 1, &r), CKPT_OK); CHECK_EQ(r, M);
    /* M * (M - 1) / M = M - 1 exactly */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(M, M - 1, M, &r), CKPT_OK); CHECK_EQ(r, M - 1);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M, M - 1, M, &r), CKPT_OK); CHECK_EQ(r, M - 1);
    /* (M-1)^2 / M = M - 2 + 1/M: floor M - 2, ceil M - 1 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(M - 1, M - 1, M, &r), CKPT_OK); CHECK_EQ(r, M - 2);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M - 1, M - 1, M, &r), CKPT_OK); CHECK_EQ(r, M - 1);
    /* M^2 / (M - 1) = M + 1 + 1/(M-1): overflow both ways */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(M, M, M - 1, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M, M, M - 1, &r), CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL);
    /* 2^64 - 1 = (2^32 - 1)(2^32 + 1) = 4294967295 * 4294967297, and
     * (2^64 - 1) / 2 = M + 1/2: floor = M fits, ceil = M + 1 overflows */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(4294967295LL, 4294967297LL, 2, &r), CKPT_OK);
    CHECK_EQ(r, M);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(4294967295LL, 4294967297LL, 2, &r), CKPT_OVERFLOW);
    CHECK_EQ(r, SENTINEL);
    /* 2^62 * 2 / 1 = 2^63: overflow; 2^62 * 2 / 2 = 2^62 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(P2(62), 2, 1, &r), CKPT_OVERFLOW);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(P2(62), 2, 2, &r), CKPT_OK); CHECK_EQ(r, P2(62));
    /* 10^18 * 10^18 / 10^18 = 10^18; 10^18 * 9 / 10 = 9 * 10^17 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(1000000000000000000LL, 1000000000000000000LL,
                                             1000000000000000000LL, &r), CKPT_OK);
    CHECK_EQ(r, 1000000000000000000LL);
    /* 7 * 10 / 3 = 23.33: floor 23, ceil 24; 0 * x = 0 */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(7, 10, 3, &r), CKPT_OK); CHECK_EQ(r, 23);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(7, 10, 3, &r), CKPT_OK); CHECK_EQ(r, 24);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(0, M, 1, &r), CKPT_OK); CHECK_EQ(r, 0);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(M, 0, 1, &r), CKPT_OK); CHECK_EQ(r, 0);
    /* 311 * 177942868878227186 = 3 * 2^64 - 2: divided by 3, the quotient is 2^64 - 1
     * with a remainder, so its ceiling is 2^64 (a 64-bit quotient + 1 must not wrap) */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(311, 177942868878227186LL, 3, &r), CKPT_OVERFLOW);
    CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(311, 177942868878227186LL, 3, &r), CKPT_OVERFLOW);
    /* (M - 1) * 3 / 2 = 1.5 (M - 1) > M -> overflow */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(M - 1, 3, 2, &r), CKPT_OVERFLOW);
    /* domain errors */
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(-1, 1, 1, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(1, -1, 1, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(1, 1, 0, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(1, 1, -1, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_floor(INT64_MIN, INT64_MIN, 1, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(-1, 1, 1, &r), CKPT_DOMAIN); CHECK_EQ(r, SENTINEL);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(1, -1, 1, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(1, 1, 0, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(1, 1, INT64_MIN, &r), CKPT_DOMAIN);
    r = SENTINEL; CHECK_EQ(ckpt_muldiv_ceil(INT64_MIN, 1, 1, &r), CKPT_DOMAIN);

    /* random large operands against unsigned 128-bit long division done here */
    for (int k = 0; k < 3000; k++) {
        int64_t a = (int64_t)(splitmix64() >> (1 + splitmix64() % 63));
        int64_t b = (int64_t)(splitmix64() >> (1 + splitmix64() % 63));
        int64_t c = (int64_t)(splitmix64() >> (1 + splitmix64() % 63));
        if (c == 0) c = 1;
        u128 prod = (u128)(uint64_t)a * (uint64_t)b;
        u128 fl = prod / (uint64_t)c, ce = fl + (prod % (uint64_t)c != 0);
        SET_CTX("a=%" PRId64 " b=%" PRId64 " c=%" PRId64, a, b, c);
        r = SENTINEL;
        ckpt_status st = ckpt_muldiv_floor(a, b, c, &r);
        if (fl <= (u128)M) { CHECK_EQ(st, CKPT_OK); CHECK_EQ(r, (int64_t)fl); }
        else { CHECK_EQ(st, CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL); }
        r = SENTINEL;
        st = ckpt_muldiv_ceil(a, b, c, &r);
        if (ce <= (u128)M) { CHECK_EQ(st, CKPT_OK); CHECK_EQ(r, (int64_t)ce); }
        else { CHECK_EQ(st, CKPT_OVERFLOW); CHECK_EQ(r, SENTINEL); }
    }
    CLEAR_CTX();
}

/* ---- run geometry ---------------------------------------------------------- */

static void test_total_steps(void)
{
    int64_t t;
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(217, 4, 1, &t), CKPT_OK); CHECK_EQ(t, 868);
    /* 10 steps * 23/10 epochs = 23 */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(10, 23, 10, &t), CKPT_OK); CHECK_EQ(t, 23);
    /* 3 steps * 1/2 epoch = 1.5 -> 2;  217 * 7/100 = 15.19 -> 16;  7 * 3/7 = 3 */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(3, 1, 2, &t), CKPT_OK); CHECK_EQ(t, 2);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(217, 7, 100, &t), CKPT_OK); CHECK_EQ(t, 16);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(7, 3, 7, &t), CKPT_OK); CHECK_EQ(t, 3);
    /* 1 step * 1/M epochs -> ceil(tiny) = 1 */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(1, 1, M, &t), CKPT_OK); CHECK_EQ(t, 1);
    /* at the int64 edge */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(M, 1, 1, &t), CKPT_OK); CHECK_EQ(t, M);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(M, M - 1, M - 1, &t), CKPT_OK); CHECK_EQ(t, M);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(M, M, M, &t), CKPT_OK); CHECK_EQ(t, M);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(M, 3, 2, &t), CKPT_OVERFLOW);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(P2(62), 2, 1, &t), CKPT_OVERFLOW);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(P2(62), 3, 2, &t), CKPT_OK); CHECK_EQ(t, 3 * P2(61));
    /* S * e = (2^32 + 1) * (2^32 - 1) / 2 = (2^64 - 1)/2 = M + 1/2: ceil is M + 1 */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(4294967297LL, 4294967295LL, 2, &t), CKPT_OVERFLOW);
    /* M = 7 * 1317624576693539401 exactly (2^63 - 1 = 7 * 73 * 127 * 337 * 92737 * 649657):
     * S = 7 with e = 1317624576693539401 epochs is T = M; one more epoch overflows */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(7, 1317624576693539401LL, 1, &t), CKPT_OK); CHECK_EQ(t, M);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(7, 1317624576693539402LL, 1, &t), CKPT_OVERFLOW);
    /* domain errors */
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(0, 1, 1, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(10, 0, 1, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(10, 1, 0, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(-10, 1, 1, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(10, -1, 1, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(10, 1, -1, &t), CKPT_DOMAIN);
    t = SENTINEL; CHECK_EQ(ckpt_total_steps(INT64_MIN, INT64_MIN, INT64_MIN, &t), CKPT_DOMAIN);

    /* brute force: T = the smallest integer >= e_num * S / e_den */
    for (int64_t S = 1; S <= 30; S++)
        for (int64_t n = 1; n <= 12; n++)
            for (int64_t d = 1; d <= 12; d++) {
                int64_t want = 0;
                while (want * d < n * S) want++;
                SET_CTX("S=%" PRId64 " e=%" PRId64 "/%" PRId64, S, n, d);
                t = SENTINEL;
                CHECK_EQ(ckpt_total_steps(S, n, d, &t), CKPT_OK);
                CHECK_EQ(t, want);
            }
    CLEAR_CTX();
}

/* Simulate a (distributed) dataloader by counting, as docs/semantics.md describes it:
 * the sampler pads (or, with drop_last, truncates) the dataset to a multiple
 * of the world size and deals indices round-robin; the loader cuts rank 0's
 * share into batches; the trainer groups batches into accumulation windows. */
static int64_t simulate_steps(int64_t N, int64_t b, int64_t g, int64_t w, int drop_last,
                              int step_partial)
{
    int64_t total = N;
    if (drop_last) while (total % w != 0) total--;
    else while (total % w != 0) total++;
    int64_t per_rank = 0;
    for (int64_t idx = 0; idx < total; idx++)
        if (idx % w == 0) per_rank++;  /* rank 0 */
    int64_t batches = 0, left = per_rank;
    while (left >= b) left -= b, batches++;
    if (left > 0 && !drop_last) batches++;
    int64_t steps = 0;
    left = batches;
    while (left >= g) left -= g, steps++;
    if (left > 0 && step_partial) steps++;
    return steps;
}

/* Check that ckpt_steps_per_epoch(N, b, g, w, drop_last, step_partial) succeeds with `want`
 * steps (the failure's context names the arguments). */
static void check_steps_per_epoch(int64_t N, int64_t b, int64_t g, int64_t w, int drop_last,
                                  int step_partial, int64_t want)
{
    int64_t S = SENTINEL;
    SET_CTX("N=%" PRId64 " b=%" PRId64 " g=%" PRId64 " w=%" PRId64
            " drop_last=%d step_partial=%d", N, b, g, w, drop_last, step_partial);
    CHECK_EQ(ckpt_steps_per_epoch(N, b, g, w, drop_last, step_partial, &S), CKPT_OK);
    CHECK_EQ(S, want);
}

static void test_steps_per_epoch(void)
{
    int64_t S;
    /* 1736 examples, batch 1, accumulation 8, one rank: 1736 / 8 = 217 */
    for (int dl = 0; dl <= 1; dl++)
        for (int sp = 0; sp <= 1; sp++)
            check_steps_per_epoch(1736, 1, 8, 1, dl, sp, 217);
    /* N=1000, b=3, g=4, w=2:
     *   no drop_last: per rank ceil(1000/2) = 500, batches ceil(500/3) = 167,
     *                 step: ceil(167/4) = 42, drop: floor(167/4) = 41
     *   drop_last:    per rank 500, batches floor(500/3) = 166,
     *                 step: ceil(166/4) = 42 (41.5), drop: floor(166/4) = 41 */
    check_steps_per_epoch(1000, 3, 4, 2, 0, 1, 42);
    check_steps_per_epoch(1000, 3, 4, 2, 0, 0, 41);
    check_steps_per_epoch(1000, 3, 4, 2, 1, 1, 42);
    check_steps_per_epoch(1000, 3, 4, 2, 1, 0, 41);
    /* N=1000, b=3, g=4, w=3 (drop_last matters at every level):
     *   no drop_last: ceil(1000/3) = 334, ceil(334/3) = 112, 112/4 = 28 either way
     *   drop_last:    floor(1000/3) = 333, floor(333/3) = 111,
     *                 step: ceil(111/4) = 28, drop: floor(111/4) = 27 */
    check_steps_per_epoch(1000, 3, 4, 3, 0, 1, 28);
    check_steps_per_epoch(1000, 3, 4, 3, 0, 0, 28);
    check_steps_per_epoch(1000, 3, 4, 3, 1, 1, 28);
    check_steps_per_epoch(1000, 3, 4, 3, 1, 0, 27);
    /* N=3, b=4, g=8: drop_last leaves no full batch -> S = 0 (not an error here) */
    check_steps_per_epoch(3, 4, 8, 1, 1, 1, 0);
    check_steps_per_epoch(3, 4, 8, 1, 1, 0, 0);
    /* without drop_last: one partial batch, which steps only with step_partial */
    check_steps_per_epoch(3, 4, 8, 1, 0, 1, 1);
    check_steps_per_epoch(3, 4, 8, 1, 0, 0, 0);
    /* huge inputs: M examples, batch 1, accum 1, one rank = M steps */
    check_steps_per_epoch(M, 1, 1, 1, 0, 1, M);
    /* M = 2 * (2^62 - 1) + 1: w=2 -> ceil 2^62, floor 2^62 - 1 */
    check_steps_per_epoch(M, 1, 1, 2, 0, 1, P2(62));
    check_steps_per_epoch(M, 1, 1, 2, 1, 1, P2(62) - 1);
    check_steps_per_epoch(1, M, M, M, 0, 1, 1);
    check_steps_per_epoch(1, M, M, M, 1, 1, 0);
    CLEAR_CTX();
    /* domain errors: any of N, b, g, w < 1 */
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(0, 1, 1, 1, 0, 1, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, 0, 1, 1, 0, 1, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, 1, 0, 1, 0, 1, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, 1, 1, 0, 0, 1, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(-10, 1, 1, 1, 1, 0, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, -1, 1, 1, 1, 0, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, 1, -1, 1, 1, 0, &S), CKPT_DOMAIN);
    S = SENTINEL; CHECK_EQ(ckpt_steps_per_epoch(10, 1, 1, INT64_MIN, 1, 0, &S), CKPT_DOMAIN);

    /* brute force against the counting simulation */
    for (int64_t N = 1; N <= 70; N++)
        for (int64_t b = 1; b <= 7; b++)
            for (int64_t g = 1; g <= 5; g++)
                for (int64_t w = 1; w <= 4; w++)
                    for (int dl = 0; dl <= 1; dl++)
                        for (int sp = 0; sp <= 1; sp++)
                            check_steps_per_epoch(N, b, g, w, dl, sp,
                                                  simulate_steps(N, b, g, w, dl, sp));
    CLEAR_CTX();
}

static void test_locate(void)
{
    int64_t e, p;
    /* 245 = 217 + 28 */
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(245, 217, &e, &p), CKPT_OK); CHECK_EQ(e, 2); CHECK_EQ(p, 28);
    /* the last step of epoch 1 belongs to epoch 1 */
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(217, 217, &e, &p), CKPT_OK); CHECK_EQ(e, 1); CHECK_EQ(p, 217);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(218, 217, &e, &p), CKPT_OK); CHECK_EQ(e, 2); CHECK_EQ(p, 1);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(1, 217, &e, &p), CKPT_OK); CHECK_EQ(e, 1); CHECK_EQ(p, 1);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(868, 217, &e, &p), CKPT_OK); CHECK_EQ(e, 4); CHECK_EQ(p, 217);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(5, 1, &e, &p), CKPT_OK); CHECK_EQ(e, 5); CHECK_EQ(p, 1);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(M, M, &e, &p), CKPT_OK); CHECK_EQ(e, 1); CHECK_EQ(p, M);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(M, 1, &e, &p), CKPT_OK); CHECK_EQ(e, M); CHECK_EQ(p, 1);
    /* M = 2 * (2^62 - 1) + 1 -> epoch 2^62, position 1 */
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(M, 2, &e, &p), CKPT_OK); CHECK_EQ(e, P2(62)); CHECK_EQ(p, 1);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(0, 217, &e, &p), CKPT_DOMAIN);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(-1, 217, &e, &p), CKPT_DOMAIN);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(INT64_MIN, 217, &e, &p), CKPT_DOMAIN);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(5, 0, &e, &p), CKPT_DOMAIN);
    e = p = SENTINEL; CHECK_EQ(ckpt_locate(5, -3, &e, &p), CKPT_DOMAIN);

    /* brute force: walk the epochs */
    for (int64_t S = 1; S <= 12; S++) {
        int64_t epoch = 1, pos = 0;
        for (int64_t s = 1; s <= 100; s++) {
            if (++pos > S) epoch++, pos = 1;
            SET_CTX("s=%" PRId64 " S=%" PRId64, s, S);
            e = p = SENTINEL;
            CHECK_EQ(ckpt_locate(s, S, &e, &p), CKPT_OK);
            CHECK_EQ(e, epoch);
            CHECK_EQ(p, pos);
        }
    }
    CLEAR_CTX();
}

/* ---- rules ------------------------------------------------------------------ */

/* "EVERY start=.. interval=.. stop=.." or "EVEN span=.. parts=.. stop=..", into g_ctx. */
static void describe_rule(const char *what, const ckpt_rule *r)
{
    if (r->kind == CKPT_RULE_EVERY)
        SET_CTX("%s EVERY start=%" PRId64 " interval=%" PRId64 " stop=%" PRId64, what,
                r->start, r->interval, r->stop);
    else
        SET_CTX("%s EVEN span=%" PRId64 " parts=%" PRId64 " stop=%" PRId64, what,
                r->span, r->parts, r->stop);
}

/* The brute-force model: mark the rule's steps in mem[0..size) straight from
 * the definition.  EVERY: start + k*interval <= stop.  EVEN: ceil(i*span/parts)
 * for i >= 1 while <= stop (it is non-decreasing in i).  Small values only. */
static void model_rule(const ckpt_rule *r, unsigned char *mem, int64_t size)
{
    memset(mem, 0, (size_t)size);
    if (r->kind == CKPT_RULE_EVERY) {
        for (int64_t s = r->start; s <= r->stop; s += r->interval) mem[s] = 1;
    } else {
        for (int64_t i = 1;; i++) {
            int64_t s = (i * r->span + r->parts - 1) / r->parts;
            if (s > r->stop) break;
            mem[s] = 1;
        }
    }
}

/* Check every query of a rule over [*, stop + 2] against the membership array
 * mem (size > stop + 2), and check the queries against each other. */
static void check_rule_vs_model(const ckpt_rule *r, const unsigned char *mem)
{
    int64_t stop = r->stop, n = 0;
    int64_t *steps = malloc((size_t)(stop + 1) * sizeof *steps);
    for (int64_t s = 1; s <= stop; s++)
        if (mem[s]) steps[n++] = s;
    for (int64_t s = stop + 1; s <= stop + 2; s++) CHECK(!mem[s]);

    CHECK_EQ(ckpt_rule_check(r), CKPT_OK);
    CHECK_EQ(ckpt_rule_count(r, stop), n);
    CHECK_EQ(ckpt_rule_count(r, stop + 1000), n);
    CHECK_EQ(ckpt_rule_count(r, M), n);
    CHECK_EQ(ckpt_rule_count(r, 0), 0);
    CHECK_EQ(ckpt_rule_count(r, -1), 0);
    CHECK_EQ(ckpt_rule_contains(r, 0), 0);
    CHECK_EQ(ckpt_rule_contains(r, -1), 0);
    CHECK_EQ(ckpt_rule_contains(r, INT64_MIN), 0);
    CHECK_EQ(ckpt_rule_contains(r, M), 0);

    /* contains and the running count */
    int64_t running = 0;
    for (int64_t s = 1; s <= stop + 2; s++) {
        running += mem[s];
        CHECK_EQ(ckpt_rule_contains(r, s), mem[s]);
        CHECK_EQ(ckpt_rule_count(r, s), running);
    }
    /* nth, and agreement of contains with the nth-generated steps */
    int64_t prev = 0;
    for (int64_t i = 1; i <= n; i++) {
        int64_t v = ckpt_rule_nth(r, i);
        CHECK_EQ(v, steps[i - 1]);
        CHECK(v > prev);
        CHECK(ckpt_rule_contains(r, v));
        prev = v;
    }
    /* next_after: the first step > s, or 0 */
    int64_t j = 0;
    for (int64_t s = 0; s <= stop + 2; s++) {
        while (j < n && steps[j] <= s) j++;
        CHECK_EQ(ckpt_rule_next_after(r, s), j < n ? steps[j] : 0);
    }
    CHECK_EQ(ckpt_rule_next_after(r, M), 0);
    free(steps);
}

static void check_named_rule(ckpt_rule r, const int64_t *want, int64_t n_want)
{
    int64_t stop = r.stop, size = stop + 3;
    unsigned char *mem = calloc((size_t)size, 1);
    describe_rule("named rule", &r);
    /* the hand-computed list is the model's list */
    model_rule(&r, mem, size);
    int64_t n_model = 0;
    for (int64_t s = 0; s < size; s++) n_model += mem[s];
    CHECK_EQ(n_model, n_want);
    for (int64_t i = 0; i < n_want; i++) CHECK(mem[want[i]]);
    /* and the code under test agrees with it */
    CHECK_EQ(ckpt_rule_count(&r, stop), n_want);
    for (int64_t i = 0; i < n_want; i++) CHECK_EQ(ckpt_rule_nth(&r, i + 1), want[i]);
    check_rule_vs_model(&r, mem);
    free(mem);
    CLEAR_CTX();
}

static void test_rule_check(void)
{
    ckpt_rule ok1 = ckpt_rule_every(1, 1, 0), ok2 = ckpt_rule_even(M, M, M);
    CHECK_EQ(ckpt_rule_check(&ok1), CKPT_OK);
    CHECK_EQ(ckpt_rule_check(&ok2), CKPT_OK);
    const ckpt_rule bad[] = {
        ckpt_rule_from_fields(0, 1, 1, 10), ckpt_rule_from_fields(3, 1, 1, 10),
        ckpt_rule_from_fields(-1, 1, 1, 10), ckpt_rule_from_fields(INT64_MIN, 1, 1, 10),
        ckpt_rule_every(0, 1, 10), ckpt_rule_every(1, 0, 10), ckpt_rule_every(1, 1, -1),
        ckpt_rule_every(-5, 1, 10), ckpt_rule_every(1, INT64_MIN, 10),
        ckpt_rule_even(0, 1, 10), ckpt_rule_even(1, 0, 10), ckpt_rule_even(1, 1, -1),
        ckpt_rule_even(INT64_MIN, 1, 10), ckpt_rule_even(1, 1, INT64_MIN),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        SET_CTX("bad rule #%zu", i);
        CHECK_EQ(ckpt_rule_check(&bad[i]), CKPT_DOMAIN);
    }
    CLEAR_CTX();
}

static void test_named_rules(void)
{
    /* EVEN span=217 parts=8 (8 saves per epoch of 217 steps) over 4 epochs, stop 868.
     * 217 = 27*8 + 1, so ceil(i*217/8) = 27i + ceil(i/8):
     *   i = 1..8:   27i+1, i = 9..16: 27i+2, i = 17..24: 27i+3, i = 25..32: 27i+4;
     * the epoch ends 217, 434, 651, 868 are i = 8, 16, 24, 32. */
    static const int64_t even217[] = {
        28, 55, 82, 109, 136, 163, 190, 217,
        245, 272, 299, 326, 353, 380, 407, 434,
        462, 489, 516, 543, 570, 597, 624, 651,
        679, 706, 733, 760, 787, 814, 841, 868};
    check_named_rule(ckpt_rule_even(217, 8, 868), even217, 32);
    {
        ckpt_rule r = ckpt_rule_even(217, 8, 868);
        CHECK(ckpt_rule_contains(&r, 217));
        CHECK(ckpt_rule_contains(&r, 434));
        CHECK(ckpt_rule_contains(&r, 651));
        CHECK(ckpt_rule_contains(&r, 868));
        CHECK(!ckpt_rule_contains(&r, 216));
        CHECK(!ckpt_rule_contains(&r, 218));
        CHECK_EQ(ckpt_rule_count(&r, 217), 8);
        CHECK_EQ(ckpt_rule_next_after(&r, 217), 245);
        CHECK_EQ(ckpt_rule_next_after(&r, 841), 868);
        CHECK_EQ(ckpt_rule_next_after(&r, 868), 0);
    }
    /* EVEN span=100 parts=6: 100/6 = 16 2/3 -> 16.67, 33.33, 50, 66.67, 83.33, 100 */
    static const int64_t even100_6[] = {17, 34, 50, 67, 84, 100};
    check_named_rule(ckpt_rule_even(100, 6, 100), even100_6, 6);
    /* EVEN span=10 parts=4: 2.5, 5, 7.5, 10 */
    static const int64_t even10_4[] = {3, 5, 8, 10};
    check_named_rule(ckpt_rule_even(10, 4, 10), even10_4, 4);
    /* EVERY start=7 interval=7 stop=100: 7, 14, ..., 98 (14 steps) */
    static const int64_t every7[] = {7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98};
    check_named_rule(ckpt_rule_every(7, 7, 100), every7, 14);
    /* EVERY start=3 interval=10 stop=33: 3, 13, 23, 33 (stop itself included) */
    static const int64_t every3_10[] = {3, 13, 23, 33};
    check_named_rule(ckpt_rule_every(3, 10, 33), every3_10, 4);
    /* EVEN with span < parts: boundaries every 3/7 step -> every step 1..9 */
    static const int64_t even3_7[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    check_named_rule(ckpt_rule_even(3, 7, 9), even3_7, 9);
    /* EVEN span == parts: every step */
    static const int64_t even5_5[] = {1, 2, 3, 4, 5};
    check_named_rule(ckpt_rule_even(5, 5, 5), even5_5, 5);
    /* EVEN span=7 parts=2: 3.5, 7, 10.5 -> 4, 7, 11; stop 10 cuts 11 */
    static const int64_t even7_2[] = {4, 7};
    check_named_rule(ckpt_rule_even(7, 2, 10), even7_2, 2);
    /* empty rules: stop 0, start past stop, spacing past stop */
    check_named_rule(ckpt_rule_every(1, 1, 0), NULL, 0);
    check_named_rule(ckpt_rule_every(11, 1, 10), NULL, 0);
    check_named_rule(ckpt_rule_even(21, 2, 10), NULL, 0);
    check_named_rule(ckpt_rule_even(1, 1, 0), NULL, 0);
}

/* A few thousand random small rules against the brute-force model. */
static void test_random_rules(void)
{
    enum { SIZE = 520 };
    unsigned char mem[SIZE];
    for (int k = 0; k < 4000; k++) {
        ckpt_rule r;
        r.kind = (k & 1) ? CKPT_RULE_EVEN : CKPT_RULE_EVERY;
        if (r.kind == CKPT_RULE_EVEN) {
            r.span = rnd(1, 300);
            r.parts = rnd(1, 300);
            if (k % 7 == 0) r.parts = rnd(1, 5);  /* more sparse rules */
        } else {
            r.start = rnd(1, 600);
            r.interval = rnd(1, 600);
            if (k % 6 == 1) r.start = rnd(1, 20), r.interval = rnd(1, 20);
        }
        r.stop = rnd(0, 500);
        char what[32];
        snprintf(what, sizeof what, "random rule #%d", k);
        describe_rule(what, &r);
        model_rule(&r, mem, SIZE);
        check_rule_vs_model(&r, mem);
    }
    CLEAR_CTX();
}

/* Model answers for an EVEN rule with span >= parts at huge values, in unsigned
 * 128-bit arithmetic: the step of boundary i is ceil(i*span/parts); s is a step iff
 * the last boundary at or before s, i = floor(s*parts/span), has ceil(i*span/parts) == s. */
static u128 even_step_u(int64_t span, int64_t parts, u128 i)
{
    return (i * (uint64_t)span + (uint64_t)parts - 1) / (uint64_t)parts;
}

static void check_even_point(const ckpt_rule *r, int64_t s)
{
    /* only for span >= parts (spacing >= 1 step, so boundary i <-> i-th step) */
    u128 i = (u128)(uint64_t)s * (uint64_t)r->parts / (uint64_t)r->span;  /* boundaries <= s */
    int want_in = s >= 1 && s <= r->stop && i >= 1 && even_step_u(r->span, r->parts, i) == (u128)s;
    SET_CTX("EVEN span=%" PRId64 " parts=%" PRId64 " stop=%" PRId64 " s=%" PRId64,
            r->span, r->parts, r->stop, s);
    CHECK_EQ(ckpt_rule_contains(r, s), want_in);
    /* the next boundary after s gives the next step */
    u128 nxt = even_step_u(r->span, r->parts, i + 1);
    int64_t want_next = (s < r->stop && nxt <= (u128)r->stop) ? (int64_t)nxt : 0;
    CHECK_EQ(ckpt_rule_next_after(r, s), want_next);
    if (s >= 1) CHECK_EQ(ckpt_rule_count(r, s) - ckpt_rule_count(r, s - 1), want_in);
}

static void test_rules_near_int64(void)
{
    /* EVERY start=M-10 interval=3 stop=M: M-10, M-7, M-4, M-1 (M+2 would pass M) */
    {
        ckpt_rule r = ckpt_rule_every(M - 10, 3, M);
        CHECK_EQ(ckpt_rule_check(&r), CKPT_OK);
        CHECK_EQ(ckpt_rule_count(&r, M), 4);
        CHECK_EQ(ckpt_rule_count(&r, M - 11), 0);
        CHECK_EQ(ckpt_rule_count(&r, M - 10), 1);
        CHECK_EQ(ckpt_rule_count(&r, M - 2), 3);
        CHECK_EQ(ckpt_rule_count(&r, M - 1), 4);
        CHECK_EQ(ckpt_rule_nth(&r, 1), M - 10);
        CHECK_EQ(ckpt_rule_nth(&r, 4), M - 1);
        CHECK(ckpt_rule_contains(&r, M - 10));
        CHECK(ckpt_rule_contains(&r, M - 1));
        CHECK(!ckpt_rule_contains(&r, M));
        CHECK(!ckpt_rule_contains(&r, M - 2));
        CHECK(!ckpt_rule_contains(&r, 1));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), M - 10);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 8), M - 7);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 2), M - 1);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), 0);
        CHECK_EQ(ckpt_rule_next_after(&r, M), 0);
        for (int64_t s = M - 12; s < M; s++) {
            int want = s >= M - 10 && (s - (M - 10)) % 3 == 0;
            CHECK_EQ(ckpt_rule_contains(&r, s), want);
        }
    }
    /* EVERY start=1 interval=M stop=M: only step 1 (1 + M overflows) */
    {
        ckpt_rule r = ckpt_rule_every(1, M, M);
        CHECK_EQ(ckpt_rule_count(&r, M), 1);
        CHECK(ckpt_rule_contains(&r, 1));
        CHECK(!ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), 1);
        CHECK_EQ(ckpt_rule_next_after(&r, 1), 0);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), 0);
    }
    /* EVERY start=M interval=M stop=M: only M */
    {
        ckpt_rule r = ckpt_rule_every(M, M, M);
        CHECK_EQ(ckpt_rule_count(&r, M), 1);
        CHECK_EQ(ckpt_rule_count(&r, M - 1), 0);
        CHECK_EQ(ckpt_rule_nth(&r, 1), M);
        CHECK(ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
        CHECK_EQ(ckpt_rule_next_after(&r, 0), M);
    }
    /* EVERY start=1 interval=1 stop=M: every step, count M */
    {
        ckpt_rule r = ckpt_rule_every(1, 1, M);
        CHECK_EQ(ckpt_rule_count(&r, M), M);
        CHECK_EQ(ckpt_rule_nth(&r, M), M);
        CHECK(ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
        CHECK_EQ(ckpt_rule_next_after(&r, M), 0);
    }
    /* EVEN span = 2^62 + 1, parts = 2^62, stop = M: spacing 1 + 2^-62 step.
     *   ceil(i*span/parts) = i + ceil(i/2^62): i + 1 for i <= 2^62, i + 2 for 2^62 < i <= 2^63.
     *   Steps: 2 .. 2^62 + 1, then 2^62 + 3 .. M (i + 2 <= M -> i <= M - 2).
     *   count(M) = M - 2 (floor(M * 2^62 / (2^62 + 1)) = 2^63 - 3, by
     *   (2x - 1)x = (x + 1)(2x - 3) + 3 with x = 2^62). Not steps: 1, 2^62 + 2. */
    {
        const int64_t x = P2(62);
        ckpt_rule r = ckpt_rule_even(x + 1, x, M);
        CHECK_EQ(ckpt_rule_check(&r), CKPT_OK);
        CHECK_EQ(ckpt_rule_count(&r, M), M - 2);
        CHECK_EQ(ckpt_rule_count(&r, 1), 0);
        CHECK_EQ(ckpt_rule_count(&r, 2), 1);
        CHECK_EQ(ckpt_rule_count(&r, x + 1), x);
        CHECK_EQ(ckpt_rule_count(&r, x + 2), x);
        CHECK_EQ(ckpt_rule_count(&r, x + 3), x + 1);
        CHECK_EQ(ckpt_rule_count(&r, M - 1), M - 3);
        CHECK_EQ(ckpt_rule_nth(&r, 1), 2);
        CHECK_EQ(ckpt_rule_nth(&r, x), x + 1);
        CHECK_EQ(ckpt_rule_nth(&r, x + 1), x + 3);
        CHECK_EQ(ckpt_rule_nth(&r, M - 3), M - 1);
        CHECK_EQ(ckpt_rule_nth(&r, M - 2), M);
        CHECK(!ckpt_rule_contains(&r, 1));
        CHECK(ckpt_rule_contains(&r, 2));
        CHECK(ckpt_rule_contains(&r, x + 1));
        CHECK(!ckpt_rule_contains(&r, x + 2));
        CHECK(ckpt_rule_contains(&r, x + 3));
        CHECK(ckpt_rule_contains(&r, M - 1));
        CHECK(ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), 2);
        CHECK_EQ(ckpt_rule_next_after(&r, 1), 2);
        CHECK_EQ(ckpt_rule_next_after(&r, x + 1), x + 3);
        CHECK_EQ(ckpt_rule_next_after(&r, x + 2), x + 3);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
        CHECK_EQ(ckpt_rule_next_after(&r, M), 0);
        for (int64_t d = 0; d < 6; d++) {
            check_even_point(&r, 1 + d);
            check_even_point(&r, x - 2 + d);
            check_even_point(&r, M - d);
        }
        CLEAR_CTX();
    }
    /* EVEN span = 2^62, parts = 2^62 + 1 (span < parts): a boundary in every step, so every step 1..M */
    {
        const int64_t x = P2(62);
        ckpt_rule r = ckpt_rule_even(x, x + 1, M);
        CHECK_EQ(ckpt_rule_count(&r, M), M);
        CHECK_EQ(ckpt_rule_count(&r, x), x);
        CHECK_EQ(ckpt_rule_nth(&r, 1), 1);
        CHECK_EQ(ckpt_rule_nth(&r, M), M);
        CHECK(ckpt_rule_contains(&r, 1));
        CHECK(ckpt_rule_contains(&r, x));
        CHECK(ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), 1);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
        CHECK_EQ(ckpt_rule_next_after(&r, M), 0);
    }
    /* EVEN span = M, parts = M - 1: ceil(i*M/(M-1)) = i + ceil(i/(M-1)) = i + 1 for
     * i <= M - 1; the steps are 2..M, count(M) = floor(M(M-1)/M) = M - 1. */
    {
        ckpt_rule r = ckpt_rule_even(M, M - 1, M);
        CHECK_EQ(ckpt_rule_count(&r, M), M - 1);
        CHECK_EQ(ckpt_rule_count(&r, 1), 0);
        CHECK_EQ(ckpt_rule_nth(&r, 1), 2);
        CHECK_EQ(ckpt_rule_nth(&r, M - 1), M);
        CHECK(!ckpt_rule_contains(&r, 1));
        CHECK(ckpt_rule_contains(&r, 2));
        CHECK(ckpt_rule_contains(&r, M));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), 2);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
        for (int64_t d = 0; d < 4; d++) { check_even_point(&r, 1 + d); check_even_point(&r, M - d); }
        CLEAR_CTX();
    }
    /* EVEN span = M, parts = 1: the only step is M */
    {
        ckpt_rule r = ckpt_rule_even(M, 1, M);
        CHECK_EQ(ckpt_rule_count(&r, M), 1);
        CHECK_EQ(ckpt_rule_count(&r, M - 1), 0);
        CHECK_EQ(ckpt_rule_nth(&r, 1), M);
        CHECK(ckpt_rule_contains(&r, M));
        CHECK(!ckpt_rule_contains(&r, M - 1));
        CHECK_EQ(ckpt_rule_next_after(&r, 0), M);
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), M);
    }
    /* EVEN span = 2^62, parts = 3, stop = M: spacing 2^62/3; count = floor(3M/2^62) = 5
     * (3M = 6*2^62 - 3).  2^62 = 1 (mod 3), so the steps are
     *   ceil(2^62/3) = (2^62 + 2)/3, ceil(2^63/3) = (2^63 + 1)/3, 2^62,
     *   ceil(2^64/3) = (2^64 + 2)/3, ceil(5*2^62/3) = (5*2^62 + 1)/3. */
    {
        const int64_t x = P2(62);
        const int64_t want[5] = {(x + 2) / 3, (int64_t)((((u128)1 << 63) + 1) / 3), x,
                                 (int64_t)((((u128)1 << 64) + 2) / 3),
                                 (int64_t)(((u128)5 * (uint64_t)x + 1) / 3)};
        ckpt_rule r = ckpt_rule_even(x, 3, M);
        CHECK_EQ(ckpt_rule_count(&r, M), 5);
        for (int64_t i = 0; i < 5; i++) {
            CHECK_EQ(ckpt_rule_nth(&r, i + 1), want[i]);
            CHECK(ckpt_rule_contains(&r, want[i]));
            CHECK(!ckpt_rule_contains(&r, want[i] - 1));
            CHECK(!ckpt_rule_contains(&r, want[i] + 1));
            CHECK_EQ(ckpt_rule_count(&r, want[i]), i + 1);
            CHECK_EQ(ckpt_rule_count(&r, want[i] - 1), i);
            CHECK_EQ(ckpt_rule_next_after(&r, want[i] - 1), want[i]);
            CHECK_EQ(ckpt_rule_next_after(&r, want[i]), i < 4 ? want[i + 1] : 0);
        }
        CHECK_EQ(ckpt_rule_next_after(&r, M - 1), 0);
        CHECK(!ckpt_rule_contains(&r, M));
    }
    /* random huge EVEN rules (span >= parts) at points near 1, near their steps and near M */
    for (int k = 0; k < 300; k++) {
        int64_t p = (int64_t)(splitmix64() >> (1 + splitmix64() % 40));
        int64_t q = (int64_t)(splitmix64() >> (1 + splitmix64() % 40));
        if (p < 1) p = 1;
        if (q < 1) q = 1;
        if (p < q) { int64_t t = p; p = q; q = t; }
        int64_t stop = (k % 3 == 0) ? M : (int64_t)(splitmix64() >> 1);
        ckpt_rule r = ckpt_rule_even(p, q, stop);
        for (int64_t d = 0; d < 3; d++) {
            check_even_point(&r, 1 + d);
            if (stop >= d) check_even_point(&r, stop - d);
            check_even_point(&r, M - d);
        }
        /* around the first few steps */
        for (u128 i = 1; i <= 3; i++) {
            u128 s = even_step_u(p, q, i);
            if (s + 1 > (u128)M) break;
            check_even_point(&r, (int64_t)s - 1);
            check_even_point(&r, (int64_t)s);
            check_even_point(&r, (int64_t)s + 1);
        }
    }
    CLEAR_CTX();
}

/* ---- schedules ------------------------------------------------------------------ */

enum { SCHED_SIZE = 700 };  /* every step and query of the random schedules is < this */

/* Check a schedule of small values against a brute-force union mem[0..SCHED_SIZE). */
static void check_sched_vs_model(const ckpt_sched *sc, const unsigned char *mem)
{
    int64_t n = 0, want[SCHED_SIZE];
    for (int64_t s = 1; s < SCHED_SIZE; s++)
        if (mem[s]) want[n++] = s;

    /* count_bound: the sum of the parts' counts (from the model), and >= count */
    int64_t bound = SENTINEL, parts = sc->n_extra;
    unsigned char part[SCHED_SIZE];
    for (int64_t i = 0; i < sc->n_rules; i++) {
        model_rule(&sc->rules[i], part, SCHED_SIZE);
        for (int64_t s = 0; s < SCHED_SIZE; s++) parts += part[s];
    }
    CHECK_EQ(ckpt_sched_count_bound(sc, &bound), CKPT_OK);
    CHECK_EQ(bound, parts);
    CHECK(bound >= n);

    /* count, with and without enough walk budget */
    int64_t cnt = SENTINEL;
    CHECK_EQ(ckpt_sched_count(sc, 1000000, &cnt), CKPT_OK);
    CHECK_EQ(cnt, n);
    cnt = SENTINEL;
    CHECK_EQ(ckpt_sched_count(sc, n, &cnt), CKPT_OK);
    CHECK_EQ(cnt, n);
    if (sc->n_rules >= 2 && n >= 1) {
        cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(sc, n - 1, &cnt), CKPT_CAPACITY);
        cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(sc, 0, &cnt), CKPT_CAPACITY);
    }

    /* fill into exactly-sized heap buffers, so ASan sees any write past cap */
    for (int64_t slack = 0; slack <= 2; slack++) {
        int64_t cap = n + slack;
        int64_t *out = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *out);
        int64_t got = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(sc, out, cap, &got), CKPT_OK);
        CHECK_EQ(got, n);
        if (got == n)
            for (int64_t i = 0; i < n; i++) CHECK_EQ(out[i], want[i]);
        free(out);
    }
    if (n >= 1) {
        int64_t cap = n - 1;
        int64_t *out = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *out);
        int64_t got = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(sc, out, cap, &got), CKPT_CAPACITY);
        free(out);
    }

    /* contains and next_after for every s, against the model */
    int64_t j = 0;
    for (int64_t s = 0; s < SCHED_SIZE; s++) {
        CHECK_EQ(ckpt_sched_contains(sc, s), mem[s]);
        while (j < n && want[j] <= s) j++;
        CHECK_EQ(ckpt_sched_next_after(sc, s), j < n ? want[j] : 0);
    }
    CHECK_EQ(ckpt_sched_contains(sc, -1), 0);
    CHECK_EQ(ckpt_sched_contains(sc, M), 0);
    CHECK_EQ(ckpt_sched_next_after(sc, M), 0);
}

static void model_sched(const ckpt_sched *sc, unsigned char *mem)
{
    unsigned char part[SCHED_SIZE];
    memset(mem, 0, SCHED_SIZE);
    for (int64_t i = 0; i < sc->n_rules; i++) {
        model_rule(&sc->rules[i], part, SCHED_SIZE);
        for (int64_t s = 0; s < SCHED_SIZE; s++) mem[s] |= part[s];
    }
    for (int64_t i = 0; i < sc->n_extra; i++) mem[sc->extra[i]] = 1;
}

static void test_sched_named(void)
{
    unsigned char mem[SCHED_SIZE];
    /* EVEN 10/4 stop 10 {3,5,8,10} + EVERY 4/4 stop 12 {4,8,12} + extra {1,5,20}
     *   union {1,3,4,5,8,10,12,20}: 8 steps; bound 4 + 3 + 3 = 10 */
    {
        const ckpt_rule rules[] = {ckpt_rule_even(10, 4, 10), ckpt_rule_every(4, 4, 12)};
        const int64_t extra[] = {1, 5, 20};
        const ckpt_sched sc = {rules, 2, extra, 3};
        const int64_t want[] = {1, 3, 4, 5, 8, 10, 12, 20};
        int64_t out[8], got = SENTINEL, cnt = SENTINEL, bound = SENTINEL;
        CHECK_EQ(ckpt_sched_count_bound(&sc, &bound), CKPT_OK); CHECK_EQ(bound, 10);
        CHECK_EQ(ckpt_sched_count(&sc, 100, &cnt), CKPT_OK); CHECK_EQ(cnt, 8);
        cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sc, 8, &cnt), CKPT_OK); CHECK_EQ(cnt, 8);
        cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sc, 7, &cnt), CKPT_CAPACITY);
        CHECK_EQ(ckpt_sched_fill(&sc, out, 8, &got), CKPT_OK); CHECK_EQ(got, 8);
        for (int i = 0; i < 8; i++) CHECK_EQ(out[i], want[i]);
        got = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(&sc, out, 7, &got), CKPT_CAPACITY);
        CHECK_EQ(ckpt_sched_fill(&sc, out, 0, &got), CKPT_CAPACITY);
        CHECK(!ckpt_sched_contains(&sc, 2));
        CHECK(ckpt_sched_contains(&sc, 12));
        CHECK(ckpt_sched_contains(&sc, 20));
        CHECK(!ckpt_sched_contains(&sc, 16));
        CHECK_EQ(ckpt_sched_next_after(&sc, 0), 1);
        CHECK_EQ(ckpt_sched_next_after(&sc, 5), 8);
        CHECK_EQ(ckpt_sched_next_after(&sc, 12), 20);
        CHECK_EQ(ckpt_sched_next_after(&sc, 20), 0);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    /* zero rules, zero extras */
    {
        const ckpt_sched sc = {NULL, 0, NULL, 0};
        int64_t out[1] = {SENTINEL}, got = SENTINEL, cnt = SENTINEL, bound = SENTINEL;
        CHECK_EQ(ckpt_sched_count_bound(&sc, &bound), CKPT_OK); CHECK_EQ(bound, 0);
        CHECK_EQ(ckpt_sched_count(&sc, 0, &cnt), CKPT_OK); CHECK_EQ(cnt, 0);
        CHECK_EQ(ckpt_sched_fill(&sc, out, 0, &got), CKPT_OK); CHECK_EQ(got, 0);
        got = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(&sc, out, 1, &got), CKPT_OK); CHECK_EQ(got, 0);
        CHECK_EQ(ckpt_sched_contains(&sc, 0), 0);
        CHECK_EQ(ckpt_sched_contains(&sc, 1), 0);
        CHECK_EQ(ckpt_sched_next_after(&sc, 0), 0);
        CHECK_EQ(ckpt_sched_next_after(&sc, 5), 0);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    /* rules that produce nothing, no extras */
    {
        const ckpt_rule rules[] = {ckpt_rule_every(5, 1, 4), ckpt_rule_even(9, 1, 8),
                                   ckpt_rule_every(1, 1, 0)};
        const ckpt_sched sc = {rules, 3, NULL, 0};
        int64_t out[1], got = SENTINEL, cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sc, 0, &cnt), CKPT_OK); CHECK_EQ(cnt, 0);
        CHECK_EQ(ckpt_sched_fill(&sc, out, 0, &got), CKPT_OK); CHECK_EQ(got, 0);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    /* one rule: count is exact without walking, whatever the walk limit */
    {
        const ckpt_rule rules[] = {ckpt_rule_every(7, 7, 100)};
        const int64_t extra[] = {7, 8, 14, 200};
        const ckpt_sched sc = {rules, 1, extra, 4};
        int64_t cnt = SENTINEL, bound = SENTINEL;
        /* 14 rule steps + 8 and 200 (7 and 14 are already steps) = 16 */
        CHECK_EQ(ckpt_sched_count(&sc, 0, &cnt), CKPT_OK); CHECK_EQ(cnt, 16);
        CHECK_EQ(ckpt_sched_count_bound(&sc, &bound), CKPT_OK); CHECK_EQ(bound, 18);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    /* only extras */
    {
        const int64_t extra[] = {2, 3, 5, 7, 11, 13, 699};
        const ckpt_sched sc = {NULL, 0, extra, 7};
        int64_t cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sc, 0, &cnt), CKPT_OK); CHECK_EQ(cnt, 7);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    /* the same rule twice: duplicates collapse */
    {
        const ckpt_rule rules[] = {ckpt_rule_even(217, 8, 651), ckpt_rule_even(217, 8, 651)};
        const ckpt_sched sc = {rules, 2, NULL, 0};
        int64_t cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sc, 24, &cnt), CKPT_OK); CHECK_EQ(cnt, 24);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
}

static void test_sched_random(void)
{
    unsigned char mem[SCHED_SIZE];
    for (int k = 0; k < 2500; k++) {
        ckpt_rule rules[5];
        int64_t extra[12];
        int64_t n_rules = rnd(0, 5), n_extra = 0;
        for (int64_t i = 0; i < n_rules; i++) {
            ckpt_rule *r = &rules[i];
            r->kind = rnd(1, 2);
            if (r->kind == CKPT_RULE_EVEN) {
                r->span = rnd(1, 300);
                r->parts = rnd(1, (k % 3 == 0) ? 300 : 8);
            } else {
                r->start = rnd(1, (k % 4 == 0) ? 600 : 60);
                r->interval = rnd(1, (k % 4 == 0) ? 600 : 60);
            }
            r->stop = rnd(0, 500);
            if (i > 0 && rnd(0, 9) == 0) *r = rules[0];  /* an exact duplicate */
        }
        /* strictly increasing extras in [1, 650], some beyond every stop */
        int64_t want_extra = rnd(0, 10), s = 0;
        while (n_extra < want_extra) {
            s += rnd(1, 120);
            if (s >= 650) break;
            extra[n_extra++] = s;
        }
        const ckpt_sched sc = {rules, n_rules, n_extra ? extra : NULL, n_extra};
        SET_CTX("random sched #%d (%" PRId64 " rules, %" PRId64 " extras)", k, n_rules, n_extra);
        model_sched(&sc, mem);
        check_sched_vs_model(&sc, mem);
    }
    CLEAR_CTX();
}

static void test_sched_near_int64(void)
{
    /* EVERY M-10 / 3 / M {M-10, M-7, M-4, M-1}
     * + EVEN span=2^62 parts=3 stop=M {(2^62+2)/3, (2^63+1)/3, 2^62, (2^64+2)/3, (5*2^62+1)/3}
     * + extras {1, M-4, M}: 11 distinct steps (M-4 twice), bound 4 + 5 + 3 = 12 */
    const int64_t x = P2(62);
    const ckpt_rule rules[] = {ckpt_rule_every(M - 10, 3, M), ckpt_rule_even(x, 3, M)};
    const int64_t extra[] = {1, M - 4, M};
    const ckpt_sched sc = {rules, 2, extra, 3};
    const int64_t want[11] = {
        1, (x + 2) / 3, (int64_t)((((u128)1 << 63) + 1) / 3), x,
        (int64_t)((((u128)1 << 64) + 2) / 3), (int64_t)(((u128)5 * (uint64_t)x + 1) / 3),
        M - 10, M - 7, M - 4, M - 1, M};
    for (int i = 1; i < 11; i++) CHECK(want[i] > want[i - 1]);  /* hand list is sorted */
    int64_t out[11], got = SENTINEL, cnt = SENTINEL, bound = SENTINEL;
    CHECK_EQ(ckpt_sched_count_bound(&sc, &bound), CKPT_OK); CHECK_EQ(bound, 12);
    CHECK_EQ(ckpt_sched_count(&sc, 100, &cnt), CKPT_OK); CHECK_EQ(cnt, 11);
    cnt = SENTINEL;
    CHECK_EQ(ckpt_sched_count(&sc, 10, &cnt), CKPT_CAPACITY);
    CHECK_EQ(ckpt_sched_fill(&sc, out, 11, &got), CKPT_OK); CHECK_EQ(got, 11);
    for (int i = 0; i < 11; i++) CHECK_EQ(out[i], want[i]);
    CHECK_EQ(ckpt_sched_fill(&sc, out, 10, &got), CKPT_CAPACITY);
    CHECK_EQ(ckpt_sched_next_after(&sc, 0), 1);
    for (int i = 0; i < 11; i++) {
        CHECK(ckpt_sched_contains(&sc, want[i]));
        CHECK(!ckpt_sched_contains(&sc, want[i] - 1) || (i > 0 && want[i - 1] == want[i] - 1));
        CHECK_EQ(ckpt_sched_next_after(&sc, want[i]), i < 10 ? want[i + 1] : 0);
        CHECK_EQ(ckpt_sched_next_after(&sc, want[i] - 1), want[i]);
    }

    /* schedules whose last step is INT64_MAX itself, with no extra step there
     * (the step M must be listed like any other) */
    {
        /* EVERY start=M interval=M stop=M: {M} */
        const ckpt_rule r1[] = {ckpt_rule_every(M, M, M)};
        const ckpt_sched s1 = {r1, 1, NULL, 0};
        int64_t buf[8], c1 = SENTINEL, n1 = SENTINEL;
        SET_CTX("sched {EVERY M/M/M}");
        CHECK_EQ(ckpt_sched_count(&s1, 10, &c1), CKPT_OK); CHECK_EQ(c1, 1);
        CHECK_EQ(ckpt_sched_fill(&s1, buf, 8, &n1), CKPT_OK); CHECK_EQ(n1, 1);
        if (n1 == 1) CHECK_EQ(buf[0], M);
        CHECK(ckpt_sched_contains(&s1, M));
        CHECK_EQ(ckpt_sched_next_after(&s1, 0), M);

        /* EVERY start=M-1 interval=1 stop=M: {M-1, M} */
        const ckpt_rule r2[] = {ckpt_rule_every(M - 1, 1, M)};
        const ckpt_sched s2 = {r2, 1, NULL, 0};
        n1 = SENTINEL;
        SET_CTX("sched {EVERY M-1/1/M}");
        CHECK_EQ(ckpt_sched_fill(&s2, buf, 8, &n1), CKPT_OK); CHECK_EQ(n1, 2);
        if (n1 == 2) { CHECK_EQ(buf[0], M - 1); CHECK_EQ(buf[1], M); }

        /* EVERY M-10/3/M {M-10, M-7, M-4, M-1} + EVEN span=M parts=1 {M}: 5 steps */
        const ckpt_rule r3[] = {ckpt_rule_every(M - 10, 3, M), ckpt_rule_even(M, 1, M)};
        const ckpt_sched s3 = {r3, 2, NULL, 0};
        const int64_t w3[] = {M - 10, M - 7, M - 4, M - 1, M};
        c1 = n1 = SENTINEL;
        SET_CTX("sched {EVERY M-10/3/M, EVEN M/1/M}");
        CHECK_EQ(ckpt_sched_count(&s3, 10, &c1), CKPT_OK); CHECK_EQ(c1, 5);
        CHECK_EQ(ckpt_sched_fill(&s3, buf, 8, &n1), CKPT_OK); CHECK_EQ(n1, 5);
        if (n1 == 5) for (int i = 0; i < 5; i++) CHECK_EQ(buf[i], w3[i]);

        /* EVEN span=M parts=1 {M} + extras {1, 2}: {1, 2, M} */
        const ckpt_rule r4[] = {ckpt_rule_even(M, 1, M)};
        const int64_t e4[] = {1, 2};
        const ckpt_sched s4 = {r4, 1, e4, 2};
        c1 = n1 = SENTINEL;
        SET_CTX("sched {EVEN M/1/M} + {1, 2}");
        CHECK_EQ(ckpt_sched_count(&s4, 10, &c1), CKPT_OK); CHECK_EQ(c1, 3);
        CHECK_EQ(ckpt_sched_fill(&s4, buf, 8, &n1), CKPT_OK); CHECK_EQ(n1, 3);
        if (n1 == 3) { CHECK_EQ(buf[0], 1); CHECK_EQ(buf[1], 2); CHECK_EQ(buf[2], M); }
        CLEAR_CTX();
    }

    /* huge rules whose union cannot be walked: CKPT_CAPACITY, not a hang or overflow */
    {
        const ckpt_rule big[] = {ckpt_rule_even(x + 1, x, M), ckpt_rule_every(1, 2, M)};
        const ckpt_sched sb = {big, 2, NULL, 0};
        int64_t buf[16];
        cnt = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sb, 1000, &cnt), CKPT_CAPACITY);
        got = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(&sb, buf, 16, &got), CKPT_CAPACITY);
        /* the union's steps: EVEN gives 2..2^62+1, 2^62+3..M; EVERY 1,3,5,... -> every step */
        CHECK(ckpt_sched_contains(&sb, 1));
        CHECK(!ckpt_sched_contains(&sb, x + 2));  /* x+2 is even (not EVERY) and not EVEN */
        CHECK(ckpt_sched_contains(&sb, x + 1));
        CHECK(ckpt_sched_contains(&sb, x + 3));
        CHECK_EQ(ckpt_sched_next_after(&sb, x + 1), x + 3);
        CHECK_EQ(ckpt_sched_next_after(&sb, M - 1), M);
        CHECK_EQ(ckpt_sched_next_after(&sb, M), 0);
        /* bound: (M - 2) + 2^62 (odd steps 1..M) overflows int64 */
        int64_t b = SENTINEL;
        CHECK_EQ(ckpt_sched_count_bound(&sb, &b), CKPT_OVERFLOW);
    }
    /* count_bound overflow with one every-step rule over [1, M] and one extra */
    {
        const ckpt_rule all[] = {ckpt_rule_even(x, x + 1, M)};
        const int64_t ex[] = {5};
        const ckpt_sched sa = {all, 1, ex, 1};
        int64_t b = SENTINEL;
        CHECK_EQ(ckpt_sched_count_bound(&sa, &b), CKPT_OVERFLOW);
        const ckpt_sched sa0 = {all, 1, NULL, 0};
        b = SENTINEL;
        CHECK_EQ(ckpt_sched_count_bound(&sa0, &b), CKPT_OK);
        CHECK_EQ(b, M);
        int64_t c = SENTINEL;
        CHECK_EQ(ckpt_sched_count(&sa0, 0, &c), CKPT_OK);
        CHECK_EQ(c, M);
    }
}

/* More rules than any fixed-size internal table might hold: the reference
 * backend (_schedule_py.py) has no limit on the number of rules. */
static void test_sched_many_rules(void)
{
    enum { NR = CKPT_MAX_RULES + 1 };
    ckpt_rule rules[NR];
    unsigned char mem[SCHED_SIZE];
    int64_t out[700], n = SENTINEL;
    /* EVERY start=k interval=100 stop=650, k = 1..NR: with the first CKPT_MAX_RULES
     * of them, the steps s <= 650 with (s - 1) % 100 < CKPT_MAX_RULES */
    for (int64_t k = 0; k < NR; k++) {
        rules[k] = ckpt_rule_every(k + 1, 100, 650);
    }
    const ckpt_sched sc = {rules, CKPT_MAX_RULES, NULL, 0};
    int64_t want = 0;
    for (int64_t s = 1; s <= 650; s++) want += (s - 1) % 100 < CKPT_MAX_RULES;
    int64_t cnt = SENTINEL;
    SET_CTX("CKPT_MAX_RULES EVERY rules");
    CHECK_EQ(ckpt_sched_count(&sc, 1000, &cnt), CKPT_OK);
    CHECK_EQ(cnt, want);
    model_sched(&sc, mem);
    check_sched_vs_model(&sc, mem);
    /* one rule more than the documented limit is a domain error, not a crash */
    const ckpt_sched over = {rules, NR, NULL, 0};
    SET_CTX("CKPT_MAX_RULES + 1 rules");
    CHECK_EQ(ckpt_sched_count(&over, 1000, &cnt), CKPT_DOMAIN);
    CHECK_EQ(ckpt_sched_fill(&over, out, 700, &n), CKPT_DOMAIN);
    CLEAR_CTX();
}

/* The two ways ckpt_rule_contains answers for an EVEN rule: one 64-bit remainder while
 * s*parts fits in int64, the 128-bit boundary counts beyond.  Steps on both sides of
 * s*parts = 2^63 are checked against the 128-bit model (check_even_point). */
static void test_even_contains_both_paths(void)
{
    const int64_t parts_list[] = {P2(31) + 1, P2(32) - 1, P2(32) + 3, P2(40) + 7, 999999937};
    for (size_t p = 0; p < sizeof parts_list / sizeof parts_list[0]; p++) {
        const int64_t parts = parts_list[p];
        const int64_t edge = M / parts;  /* the last s with s*parts in int64 */
        const int64_t spans[] = {parts, parts + 1, 2 * parts - 1, 3 * parts + 5, M / 2, M};
        for (size_t q = 0; q < sizeof spans / sizeof spans[0]; q++) {
            ckpt_rule r = ckpt_rule_even(spans[q], parts, M);
            for (int64_t d = -3; d <= 3; d++) check_even_point(&r, edge + d);
            /* the steps of the rule next to the edge are found by both paths */
            int64_t i = ckpt_rule_count(&r, edge);
            for (int64_t k = i - 2; k <= i + 2; k++) {
                if (k < 1) continue;
                int64_t v = ckpt_rule_nth(&r, k);
                if (v > r.stop) continue;
                SET_CTX("EVEN span=%" PRId64 " parts=%" PRId64 " step #%" PRId64 " = %" PRId64,
                        r.span, r.parts, k, v);
                CHECK(ckpt_rule_contains(&r, v));
                CHECK(!ckpt_rule_contains(&r, v - 1) || r.span < 2 * r.parts);
            }
        }
    }
    CLEAR_CTX();
}

/* The k-th step (k from 1) of the steps a fill test expects from its rule. */
typedef int64_t (*nth_step_fn)(const void *model, int64_t k);

static int64_t rule_nth_step(const void *rule, int64_t k)
{
    return ckpt_rule_nth((const ckpt_rule *)rule, k);
}

/* An arithmetic progression first, first + spacing, ... written out by hand, so that
 * the model of a long fill does not go through ckpt_rule_nth. */
typedef struct {
    int64_t first, spacing;
} progression;

static int64_t progression_step(const void *model, int64_t k)
{
    const progression *p = model;
    return p->first + (k - 1) * p->spacing;
}

/* Check that out[0..n) is exactly the merge of the model's steps 1..count with the
 * sorted extra steps, a step in both written once (the context is the caller's). */
static void check_fill_is_merge(const int64_t *out, int64_t n, nth_step_fn nth_step,
                                const void *model, int64_t count, const int64_t *extra,
                                int64_t n_extra)
{
    int64_t k = 1, e = 0, w = 0, bad = 0;
    while (k <= count || e < n_extra) {
        int64_t a = k <= count ? nth_step(model, k) : M;
        int64_t b = e < n_extra ? extra[e] : M;
        int64_t low = a < b ? a : b;
        if (w >= n || out[w] != low) bad++;
        w++;
        if (a == low) k++;
        if (b == low) e++;
    }
    CHECK_EQ(n, w);
    CHECK_EQ(bad, 0);
}

/* ckpt_sched_fill of one EVEN rule writes one period incrementally and the rest by
 * adding span/gcd to the step one period earlier: compare with ckpt_rule_nth over
 * periods from 1 to more than the number of steps, and with extra steps splitting
 * the run into pieces (each piece starts its own period). */
static void test_even_fill_periods(void)
{
    enum { CAP = 20000 };
    int64_t *out = malloc(CAP * sizeof *out);
    for (int k = 0; k < 300; k++) {
        int64_t parts = rnd(1, (k % 3 == 0) ? 40 : 5000);
        int64_t span = parts + rnd(0, (k % 2) ? 3 * parts : 7);
        if (k % 5 == 0) span = parts * rnd(1, 9);                  /* period 1 */
        if (k % 7 == 0) span = parts * rnd(1, 9) + 1;              /* period = parts */
        ckpt_rule r = ckpt_rule_even(span, parts, rnd(1, 9000));
        int64_t extra[3] = {rnd(1, 3000), 0, 0};
        extra[1] = extra[0] + rnd(1, 3000);
        extra[2] = extra[1] + rnd(1, 3000);
        int64_t n_extra = rnd(0, 3);
        const ckpt_sched sc = {&r, 1, n_extra ? extra : NULL, n_extra};
        SET_CTX("EVEN fill span=%" PRId64 " parts=%" PRId64 " stop=%" PRId64 ", %" PRId64
                " extras", span, parts, r.stop, n_extra);
        int64_t n = SENTINEL;
        CHECK_EQ(ckpt_sched_fill(&sc, out, CAP, &n), CKPT_OK);
        /* the model: the rule's steps by nth, merged with the extras */
        check_fill_is_merge(out, n, rule_nth_step, &r, ckpt_rule_count(&r, r.stop),
                            extra, n_extra);
    }
    free(out);
    CLEAR_CTX();
}

/* Long arithmetic progressions (EVERY, EVEN with parts dividing span, EVEN with a step in
 * every step) are written with 16-byte streaming stores on x86-64: check them at lengths
 * of both parities, with an extra step first (so the rule starts at an odd, unaligned
 * position of the output) and one in the middle. */
static void test_long_progression_fills(void)
{
    const int64_t base = (int64_t)1 << 17;  /* STREAM_FROM in ckpt.c */
    for (int variant = 0; variant < 3; variant++) {
        for (int64_t extra_len = 0; extra_len < 4; extra_len++) {
            const int64_t len = base + extra_len;  /* the rule's steps */
            ckpt_rule r;
            int64_t first, spacing;
            if (variant == 0) {
                first = 2, spacing = 3;
                r = ckpt_rule_every(first, spacing, first + (len - 1) * spacing);
            } else if (variant == 1) {
                first = 5, spacing = 5;  /* ceil(i * 10 / 2) = 5i */
                r = ckpt_rule_even(10, 2, len * spacing);
            } else {
                first = 1, spacing = 1;  /* span < parts: every step */
                r = ckpt_rule_even(3, 7, len);
            }
            for (int with_extra = 0; with_extra < 2; with_extra++) {
                /* extras: step 1 before an EVERY/EVEN start > 1 (variant 2 has 1 itself),
                 * and one between two steps of the rule in the middle */
                int64_t mid = first + (len / 2) * spacing + (spacing > 1 ? 1 : 0);
                int64_t extra[2] = {1, mid};
                int64_t n_extra = with_extra ? 2 : 0;
                const ckpt_sched sc = {&r, 1, n_extra ? extra : NULL, n_extra};
                int64_t cap = len + n_extra, n = SENTINEL;
                int64_t *out = malloc((size_t)cap * sizeof *out);
                SET_CTX("progression variant %d, %" PRId64 " steps, %" PRId64 " extras",
                        variant, len, n_extra);
                CHECK_EQ(ckpt_sched_fill(&sc, out, cap, &n), CKPT_OK);
                const progression model = {first, spacing};
                check_fill_is_merge(out, n, progression_step, &model, len, extra, n_extra);
                free(out);
            }
        }
    }
    CLEAR_CTX();
}

/* ---- post-processing ---------------------------------------------------------------- */

static void test_min_interval(void)
{
    int64_t out[16], n = SENTINEL;
    /* min 10 over 10 20 25 30 45 50 52, forced 52:
     * 10 first; 20 (+10) kept; 25 (+5) no; 30 (+10) kept; 45 (+15) kept; 50 (+5) no;
     * 52 forced -> 10 20 30 45 52 */
    {
        const int64_t steps[] = {10, 20, 25, 30, 45, 50, 52};
        const int64_t want[] = {10, 20, 30, 45, 52};
        CHECK_EQ(ckpt_min_interval(steps, 7, 10, 52, out, &n), CKPT_OK);
        CHECK_EQ(n, 5);
        for (int i = 0; i < 5; i++) CHECK_EQ(out[i], want[i]);
        /* without forcing: 52 is only 7 after 45 -> dropped */
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 7, 10, 0, out, &n), CKPT_OK);
        CHECK_EQ(n, 4);
        for (int i = 0; i < 4; i++) CHECK_EQ(out[i], want[i]);
    }
    /* the first step is always kept, however close to 0 */
    {
        const int64_t steps[] = {1, 2, 3, 50};
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 4, 100, 0, out, &n), CKPT_OK);
        CHECK_EQ(n, 1);
        CHECK_EQ(out[0], 1);
        /* a forced step in the middle resets the spacing: 1, 2 (forced), then 50 is
         * 48 after 2 -> dropped with min 100 */
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 4, 100, 2, out, &n), CKPT_OK);
        CHECK_EQ(n, 2);
        CHECK_EQ(out[0], 1);
        CHECK_EQ(out[1], 2);
        /* min 47: 1, then 50 (+49) */
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 4, 47, 0, out, &n), CKPT_OK);
        CHECK_EQ(n, 2);
        CHECK_EQ(out[1], 50);
        /* min 0 and 1 keep everything */
        for (int64_t m = 0; m <= 1; m++) {
            n = SENTINEL;
            CHECK_EQ(ckpt_min_interval(steps, 4, m, 0, out, &n), CKPT_OK);
            CHECK_EQ(n, 4);
            for (int i = 0; i < 4; i++) CHECK_EQ(out[i], steps[i]);
        }
    }
    /* out aliasing the input */
    {
        int64_t buf[] = {3, 6, 7, 9, 12, 13, 20};
        /* min 3: 3, 6, 9, 12, then 13 (+1) no, 20 (+8) yes -> 3 6 9 12 20 */
        const int64_t want[] = {3, 6, 9, 12, 20};
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(buf, 7, 3, 0, buf, &n), CKPT_OK);
        CHECK_EQ(n, 5);
        for (int i = 0; i < 5; i++) CHECK_EQ(buf[i], want[i]);
    }
    /* near int64 */
    {
        const int64_t steps[] = {1, M - 1, M};
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 3, M - 1, M, out, &n), CKPT_OK);
        CHECK_EQ(n, 2);   /* 1; M-1 is M-2 after 1 -> no; M forced */
        CHECK_EQ(out[0], 1);
        CHECK_EQ(out[1], M);
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, 3, M, 0, out, &n), CKPT_OK);
        CHECK_EQ(n, 1);
    }
    /* empty input, domain errors */
    n = SENTINEL;
    CHECK_EQ(ckpt_min_interval(out, 0, 5, 0, out, &n), CKPT_OK);
    CHECK_EQ(n, 0);
    n = SENTINEL;
    CHECK_EQ(ckpt_min_interval(out, -1, 5, 0, out, &n), CKPT_DOMAIN);
    CHECK_EQ(ckpt_min_interval(out, 0, -1, 0, out, &n), CKPT_DOMAIN);

    /* random: against the greedy written out here */
    for (int k = 0; k < 500; k++) {
        int64_t steps[30], want[30], nw = 0, ns = rnd(0, 30), s = 0, last = 0;
        for (int64_t i = 0; i < ns; i++) steps[i] = (s += rnd(1, 9));
        int64_t m = rnd(0, 15), forced = ns && rnd(0, 1) ? steps[rnd(0, ns - 1)] : 0;
        for (int64_t i = 0; i < ns; i++)
            if (nw == 0 || steps[i] == forced || steps[i] - last >= m) want[nw++] = last = steps[i];
        SET_CTX("random min_interval #%d m=%" PRId64 " forced=%" PRId64, k, m, forced);
        n = SENTINEL;
        CHECK_EQ(ckpt_min_interval(steps, ns, m, forced, steps, &n), CKPT_OK);  /* in place */
        CHECK_EQ(n, nw);
        if (n == nw)
            for (int64_t i = 0; i < nw; i++) CHECK_EQ(steps[i], want[i]);
    }
    CLEAR_CTX();
}

/* Check that ckpt_longest_gap of the n steps (a run of `total` steps) succeeds with the
 * longest stretch `want_gap`, closed at step `want_end`. */
static void check_longest_gap(const int64_t *steps, int64_t n, int64_t total, int64_t want_gap,
                              int64_t want_end)
{
    int64_t gap = SENTINEL, end = SENTINEL;
    SET_CTX("longest_gap of %" PRId64 " steps from %" PRId64 ", total %" PRId64, n,
            n ? steps[0] : 0, total);
    CHECK_EQ(ckpt_longest_gap(steps, n, total, &gap, &end), CKPT_OK);
    CHECK_EQ(gap, want_gap);
    CHECK_EQ(end, want_end);
}

static void test_longest_gap(void)
{
    int64_t gap, end;
    /* 0 -> 3 -> 10 -> 12 -> 20: gaps 3, 7, 2, 8: the tail wins */
    check_longest_gap((const int64_t[]){3, 10, 12}, 3, 20, 8, 20);
    /* 0 -> 9 -> 10 -> 12: the gap from 0 to the first step wins */
    check_longest_gap((const int64_t[]){9, 10}, 2, 12, 9, 9);
    /* 0 -> 2 -> 9 -> 10 = total: a gap between steps wins, no tail */
    check_longest_gap((const int64_t[]){2, 9, 10}, 3, 10, 7, 9);
    /* ties: 4, 4, 4 -> the first one */
    check_longest_gap((const int64_t[]){4, 8}, 2, 12, 4, 4);
    /* no steps: the whole run */
    check_longest_gap(NULL, 0, 5, 5, 5);
    /* every step saved: gap 1 closed by step 1 */
    check_longest_gap((const int64_t[]){1, 2, 3}, 3, 3, 1, 1);
    /* near int64: 0 -> 1 -> M: gap M - 1 closed by M; 0 -> M: gap M */
    check_longest_gap((const int64_t[]){1}, 1, M, M - 1, M);
    check_longest_gap((const int64_t[]){M}, 1, M, M, M);
    CLEAR_CTX();
    /* domain errors: unsorted, duplicate, step 0 / negative, step past total, total < 1, n < 0 */
    {
        const int64_t unsorted[] = {5, 3}, dup[] = {3, 3}, zero[] = {0, 4}, neg[] = {INT64_MIN, 4},
                      past[] = {3, 11};
        gap = end = SENTINEL;
        CHECK_EQ(ckpt_longest_gap(unsorted, 2, 10, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(dup, 2, 10, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(zero, 2, 10, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(neg, 2, 10, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(past, 2, 10, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(past, 1, 0, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(NULL, 0, 0, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(NULL, 0, -1, &gap, &end), CKPT_DOMAIN);
        CHECK_EQ(ckpt_longest_gap(past, -1, 10, &gap, &end), CKPT_DOMAIN);
    }
    /* random: against marking the saved steps on a timeline and scanning it */
    for (int k = 0; k < 500; k++) {
        int64_t steps[20], ns = rnd(0, 20), s = 0, total;
        for (int64_t i = 0; i < ns; i++) steps[i] = (s += rnd(1, 12));
        total = s + rnd(ns ? 0 : 1, 15);
        unsigned char saved[256] = {0};
        for (int64_t i = 0; i < ns; i++) saved[steps[i]] = 1;
        saved[total] = 1;  /* the run's end closes the last stretch */
        int64_t best = 0, best_end = 0, run = 0;
        for (int64_t t = 1; t <= total; t++) {
            run++;
            if (saved[t]) {
                if (run > best) best = run, best_end = t;
                run = 0;
            }
        }
        check_longest_gap(steps, ns, total, best, best_end);
    }
    CLEAR_CTX();
}

/* Last, because if it trips UBSan the process aborts: the exact count of a
 * schedule whose one rule covers every step of [1, M], with one extra step
 * that the rule already contains, is M -- it fits in int64.  The reference
 * (_schedule_py.py) reports OverflowError here (its count goes through
 * count_bound, which overflows), so either CKPT_OK with M or CKPT_OVERFLOW is
 * acceptable; signed overflow inside ckpt_sched_count is not. */
static void test_sched_count_one_huge_rule(void)
{
    const int64_t x = P2(62);
    const ckpt_rule all[] = {ckpt_rule_even(x, x + 1, M)};
    const int64_t ex[] = {5};
    const ckpt_sched sa = {all, 1, ex, 1};
    int64_t c = SENTINEL;
    ckpt_status st = ckpt_sched_count(&sa, 0, &c);
    CHECK(st == CKPT_OVERFLOW || st == CKPT_OK);
    if (st == CKPT_OK) CHECK_EQ(c, M);
}

int main(void)
{
    /* line-buffered, so failure lines survive a sanitizer abort */
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_add_mul();
    test_muldivmod();
    test_div();
    test_muldiv();
    test_total_steps();
    test_steps_per_epoch();
    test_locate();
    test_rule_check();
    test_named_rules();
    test_random_rules();
    test_rules_near_int64();
    test_sched_named();
    test_sched_random();
    test_sched_near_int64();
    test_sched_many_rules();
    test_even_contains_both_paths();
    test_even_fill_periods();
    test_long_progression_fills();
    test_min_interval();
    test_longest_gap();
    test_sched_count_one_huge_rule();

    printf("%lld passed, %lld failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
