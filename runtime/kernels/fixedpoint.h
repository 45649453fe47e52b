/*
 * Integer requantization primitives with the exact rounding of TFLite Micro's
 * reference kernels (gemmlowp's SaturatingRoundingDoublingHighMul followed by
 * RoundingDivideByPOT, i.e. "double rounding"). Every int8 kernel rescales
 * through these so that results are bit-identical to TFLM.
 *
 * Assumes arithmetic right shift of negative integers, as every compiler the
 * project supports (GCC, Clang, Arm) implements it.
 */
#ifndef TMO_FIXEDPOINT_H
#define TMO_FIXEDPOINT_H

#include <stdint.h>

/* round(a * b / 2^31), saturating the single overflow case INT32_MIN * INT32_MIN. */
static inline int32_t fp_mul_high(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t fp_rshift_round(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/*
 * x * multiplier * 2^shift with multiplier a Q31 value from quant_multiplier().
 * The left shift wraps like TFLM's int32 arithmetic does on every target
 * rather than being undefined.
 */
static inline int32_t fp_requant(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return fp_rshift_round(fp_mul_high((int32_t)((uint32_t)x << left), multiplier), right);
}

static inline int32_t fp_max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static inline int32_t fp_min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

static inline int32_t fp_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#endif
