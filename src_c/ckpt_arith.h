/* ckpt_arith.h -- checked int64 arithmetic for ckptsched.
 *
 * Every function returns a ckpt_status and writes its result through a
 * pointer only on CKPT_OK.  Products of two int64 values are formed exactly
 * in 128 bits, so a result is reported as CKPT_OVERFLOW exactly when the
 * exact mathematical answer leaves int64.
 *
 * Two implementations of the few primitives, with the same results:
 *   - by default, gcc/clang's __int128 and __builtin_{add,mul}_overflow;
 *   - with CKPT_NO_INT128 defined (automatic when the compiler has no
 *     __int128), portable C11: a 64x64 -> 128-bit multiply on 32-bit halves,
 *     a 128/64 shift-and-subtract division, and comparisons with INT64_MAX.
 * tests/c/run.sh runs the C tests with both.
 *
 * Not a standalone header: ckpt.h defines ckpt_status and then includes this
 * file, so include ckpt.h.
 */
#ifndef CKPT_ARITH_H
#define CKPT_ARITH_H

#ifndef CKPT_H
#error "include ckpt.h, which defines ckpt_status and then includes ckpt_arith.h"
#endif

#include <stdint.h>

#if !defined(CKPT_NO_INT128) && !defined(__SIZEOF_INT128__)
#define CKPT_NO_INT128
#endif

#ifndef CKPT_NO_INT128

__extension__ typedef unsigned __int128 ckpt_u128;  /* (__extension__: quiet under -pedantic) */

static inline ckpt_status ckpt_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return CKPT_OVERFLOW;
    *out = r;
    return CKPT_OK;
}

static inline ckpt_status ckpt_mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return CKPT_OVERFLOW;
    *out = r;
    return CKPT_OK;
}

/* a * b = *quot * c + *rem with 0 <= *rem < c, for c > 0; CKPT_OVERFLOW (and
 * nothing written) when the quotient does not fit in 64 bits. */
static inline ckpt_status ckpt_muldivmod_u64(uint64_t a, uint64_t b, uint64_t c,
                                             uint64_t *quot, uint64_t *rem)
{
    ckpt_u128 prod = (ckpt_u128)a * b;
    if ((uint64_t)(prod >> 64) >= c) return CKPT_OVERFLOW;
    *quot = (uint64_t)(prod / c);
    *rem = (uint64_t)(prod % c);
    return CKPT_OK;
}

#else /* CKPT_NO_INT128: portable C11 */

static inline ckpt_status ckpt_add(int64_t a, int64_t b, int64_t *out)
{
    if (b > 0 ? a > INT64_MAX - b : a < INT64_MIN - b) return CKPT_OVERFLOW;
    *out = a + b;
    return CKPT_OK;
}

static inline ckpt_status ckpt_mul(int64_t a, int64_t b, int64_t *out)
{
    /* |a|, |b| <= 2^31: |a*b| <= 2^62 fits; the usual case, tested without division */
    const uint64_t half = (uint64_t)1 << 31;
    if ((uint64_t)a + half <= 2 * half && (uint64_t)b + half <= 2 * half) {
        *out = a * b;
        return CKPT_OK;
    }
    if (a != 0 && b != 0) {
        /* |a*b| <= INT64_MAX, or a*b == INT64_MIN, tested by division: never
         * negate INT64_MIN, never divide INT64_MIN by -1 */
        if (a > 0 ? (b > 0 ? a > INT64_MAX / b : b < INT64_MIN / a)
                  : (b > 0 ? a < INT64_MIN / b : (a == INT64_MIN || b < INT64_MAX / a)))
            return CKPT_OVERFLOW;
    }
    *out = a * b;
    return CKPT_OK;
}

/* The 128-bit product a * b as (*hi, *lo), from four 32x32 -> 64-bit products. */
static inline void ckpt_mul_u64_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    const uint64_t mask = 0xFFFFFFFFu;
    uint64_t a0 = a & mask, a1 = a >> 32, b0 = b & mask, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t middle = (p00 >> 32) + (p01 & mask) + (p10 & mask);  /* < 3 * 2^32 */
    *lo = (p00 & mask) | (middle << 32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
}

static inline ckpt_status ckpt_muldivmod_u64(uint64_t a, uint64_t b, uint64_t c,
                                             uint64_t *quot, uint64_t *rem)
{
    uint64_t hi, lo;
    ckpt_mul_u64_wide(a, b, &hi, &lo);
    if (hi >= c) return CKPT_OVERFLOW;
    /* long division of (hi, lo) by c, one quotient bit per round; hi < c holds
     * throughout, so the shifted remainder (carry, hi) is below 2c and one
     * subtraction of c is enough (mod 2^64 when the carry is set) */
    for (int bit = 0; bit < 64; bit++) {
        uint64_t carry = hi >> 63;
        hi = hi << 1 | lo >> 63;
        lo <<= 1;
        if (carry || hi >= c) {
            hi -= c;
            lo |= 1;
        }
    }
    *quot = lo;
    *rem = hi;
    return CKPT_OK;
}

#endif /* CKPT_NO_INT128 */

/* floor(a / b) for a >= 0, b > 0. */
static inline ckpt_status ckpt_floor_div(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b <= 0) return CKPT_DOMAIN;
    *out = a / b;
    return CKPT_OK;
}

/* ceil(a / b) for a >= 0, b > 0 (never overflows). */
static inline ckpt_status ckpt_ceil_div(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b <= 0) return CKPT_DOMAIN;
    *out = a / b + (a % b != 0);
    return CKPT_OK;
}

/* floor(a * b / c) for a, b >= 0, c > 0, with a 128-bit product. */
static inline ckpt_status ckpt_muldiv_floor(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    uint64_t quot, rem;
    if (a < 0 || b < 0 || c <= 0) return CKPT_DOMAIN;
    if (ckpt_muldivmod_u64((uint64_t)a, (uint64_t)b, (uint64_t)c, &quot, &rem) != CKPT_OK ||
        quot > (uint64_t)INT64_MAX)
        return CKPT_OVERFLOW;
    *out = (int64_t)quot;
    return CKPT_OK;
}

/* ceil(a * b / c) for a, b >= 0, c > 0, with a 128-bit product. */
static inline ckpt_status ckpt_muldiv_ceil(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    uint64_t quot, rem;
    if (a < 0 || b < 0 || c <= 0) return CKPT_DOMAIN;
    if (ckpt_muldivmod_u64((uint64_t)a, (uint64_t)b, (uint64_t)c, &quot, &rem) != CKPT_OK ||
        quot > (uint64_t)INT64_MAX || (quot == (uint64_t)INT64_MAX && rem != 0))
        return CKPT_OVERFLOW;
    *out = (int64_t)(quot + (rem != 0));
    return CKPT_OK;
}

#endif /* CKPT_ARITH_H */
