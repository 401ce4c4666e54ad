/* ckpt_arith.h -- checked int64 arithmetic for ckptsched.
 *
 * Every function returns a ckpt_status and writes its result through a
 * pointer only on CKPT_OK.  Products of two int64 values are formed in
 * 128-bit integers, so a result is reported as CKPT_OVERFLOW exactly when
 * the exact mathematical answer leaves int64.
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

#ifndef __SIZEOF_INT128__
#error "ckptsched needs a compiler with 128-bit integers (gcc or clang)"
#endif

typedef __int128 ckpt_i128;

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

/* Store a 128-bit value into *out if it fits in int64. */
static inline ckpt_status ckpt_narrow(ckpt_i128 v, int64_t *out)
{
    if (v > (ckpt_i128)INT64_MAX || v < (ckpt_i128)INT64_MIN) return CKPT_OVERFLOW;
    *out = (int64_t)v;
    return CKPT_OK;
}

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
    if (a < 0 || b < 0 || c <= 0) return CKPT_DOMAIN;
    return ckpt_narrow((ckpt_i128)a * b / c, out);
}

/* ceil(a * b / c) for a, b >= 0, c > 0, with a 128-bit product. */
static inline ckpt_status ckpt_muldiv_ceil(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    if (a < 0 || b < 0 || c <= 0) return CKPT_DOMAIN;
    ckpt_i128 prod = (ckpt_i128)a * b;
    return ckpt_narrow(prod / c + (prod % c != 0), out);
}

#endif /* CKPT_ARITH_H */
