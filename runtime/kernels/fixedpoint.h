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

/*
 * round(a * b / 2^31), ties rounded up, saturating INT32_MIN * INT32_MIN.
 * gemmlowp adds a sign-dependent nudge and truncates toward zero; adding
 * 2^30 and flooring (arithmetic shift) gives the same result for every
 * input (for ab < 0 both equal -ceil((|ab| - 2^30) / 2^31)) in fewer
 * instructions.
 */
static inline int32_t fp_mul_high(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
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
 * x * multiplier * 2^shift with multiplier a non-negative Q31 value from
 * quant_multiplier(): exactly TFLM's MultiplyByQuantizedMultiplier (rounding
 * high multiply, then rounding shift with ties away from zero), in a form
 * with fewer instructions since it runs once per output element. The left
 * shift wraps as TFLM's int32 arithmetic does on every target rather than
 * being undefined. A non-negative multiplier can not hit the saturating
 * case of fp_mul_high, and the 64-bit intermediate holds x + 2^(right-1).
 */
static inline int32_t fp_requant(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t prod = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
    int64_t high = (prod + ((int64_t)1 << 30)) >> 31;
    int64_t half = ((int64_t)1 << right) >> 1;
    return (int32_t)((high + half - (int64_t)(high < 0 && half != 0)) >> right);
}

/* fp_requant() with the shift split once, for loops that reuse one multiplier. */
typedef struct fp_scale {
    int32_t multiplier;
    int left, right;
    int64_t half;
} fp_scale;

static inline fp_scale fp_scale_of(int32_t multiplier, int shift)
{
    fp_scale s;
    s.multiplier = multiplier;
    s.left = shift > 0 ? shift : 0;
    s.right = shift > 0 ? 0 : -shift;
    s.half = ((int64_t)1 << s.right) >> 1;
    return s;
}

static inline int32_t fp_requant_by(int32_t x, fp_scale s)
{
    int64_t prod = (int64_t)(int32_t)((uint32_t)x << s.left) * (int64_t)s.multiplier;
    int64_t high = (prod + ((int64_t)1 << 30)) >> 31;
    return (int32_t)((high + s.half - (int64_t)(high < 0 && s.half != 0)) >> s.right);
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
