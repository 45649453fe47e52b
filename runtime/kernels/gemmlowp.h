/*
 * The Q-format math of gemmlowp's fixedpoint.h that TFLite Micro's integer
 * LOGISTIC and TANH kernels are built on, for int32 raw values: a few
 * polynomial/Newton-Raphson steps whose every rounding and saturation must be
 * reproduced exactly for the int8 outputs to match TFLM bit for bit.
 *
 * Notation: a value "in Qk" is a raw int32 r meaning r / 2^(31-k) (k integer
 * bits, 31-k fractional bits). gemmlowp expresses the formats as template
 * parameters; here they are explicit function arguments or fixed by name.
 *
 * gemmlowp's plain add/subtract/negate are non-saturating and overflow is
 * undefined in C; on the value ranges these functions see they never
 * overflow, and the helpers below wrap (as the hardware does) rather than
 * invoke undefined behaviour should a hostile input ever get there.
 */
#ifndef TMO_GEMMLOWP_H
#define TMO_GEMMLOWP_H

#include <stdint.h>

#include "fixedpoint.h"

static inline int32_t gl_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t gl_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

static inline int32_t gl_neg(int32_t a)
{
    return (int32_t)(0u - (uint32_t)a);
}

/* Product of two Q values (formats add up): SaturatingRoundingDoublingHighMul. */
static inline int32_t gl_mul(int32_t a, int32_t b)
{
    return fp_mul_high(a, b);
}

/* (a + b) / 2 rounded half away from zero, without overflow. */
static inline int32_t gl_rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* x * 2^exponent for 0 < exponent < 31, saturating to the int32 range. */
static inline int32_t gl_saturating_shl(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* Changes a raw value from Q(src_bits) to Q(dst_bits): shift with saturation or rounding. */
static inline int32_t gl_rescale(int32_t x, int src_bits, int dst_bits)
{
    int exponent = src_bits - dst_bits;
    if (exponent > 0)
        return gl_saturating_shl(x, exponent);
    if (exponent < 0)
        return fp_rshift_round(x, -exponent);
    return x;
}

#define GL_Q0_ONE INT32_MAX /* 1.0 in Q0 saturates to the largest raw value */
#define GL_Q2_ONE (1 << 29) /* 1.0 in Q2 */

/* exp(a) for a in [-1/4, 0), Q0 in and out: Taylor expansion around -1/8. */
static inline int32_t gl_exp_on_interval_neg_quarter_to_0(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    int32_t x = gl_add(a, 1 << 28);                  /* a + 1/8 */
    int32_t x2 = gl_mul(x, x);
    int32_t x3 = gl_mul(x2, x);
    int32_t x4 = gl_mul(x2, x2);
    int32_t x4_over_4 = fp_rshift_round(x4, 2);
    int32_t poly = fp_rshift_round(gl_add(gl_mul(gl_add(x4_over_4, x3), one_third), x2), 1);
    return gl_add(exp_minus_one_eighth, gl_mul(exp_minus_one_eighth, gl_add(x, poly)));
}

/*
 * exp(a) for a <= 0 given in Q(int_bits), result in Q0: exp of the fractional
 * quarter by polynomial, times exp(-2^k) for each set bit k of the rest.
 */
static inline int32_t gl_exp_on_negative_values(int32_t a, int int_bits)
{
    /* exp(-2^k) in Q0 for k = -2 .. 4 */
    static const int32_t exp_neg_pow2[7] = {1672461947, 1302514674, 790015084, 290630308,
                                            39332535,   720401,     242};
    const int frac_bits = 31 - int_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    int32_t a_mod_quarter_minus_quarter = gl_sub(a & (one_quarter - 1), one_quarter);
    int32_t result =
        gl_exp_on_interval_neg_quarter_to_0(gl_rescale(a_mod_quarter_minus_quarter, int_bits, 0));
    int32_t remainder = gl_sub(a_mod_quarter_minus_quarter, a);
    for (int k = -2; k <= 4; k++) {
        if (int_bits > k && (remainder & ((int32_t)1 << (frac_bits + k))) != 0)
            result = gl_mul(result, exp_neg_pow2[k + 2]);
    }
    if (int_bits > 5) {
        /* Below -32 the result underflows to 0. */
        const int32_t minus_32 = -((int32_t)1 << (36 - int_bits));
        if (a < minus_32)
            result = 0;
    }
    return a == 0 ? GL_Q0_ONE : result;
}

/*
 * Newton-Raphson reciprocal shared by logistic and tanh: returns, in Q2,
 * x ~= 1 / ((1 + a) / 2) for a in (0, 1) given in Q0, and the Q0 half sum.
 */
static inline int32_t gl_reciprocal_half_denominator(int32_t a, int32_t *half_denominator)
{
    const int32_t c48_over_17 = 1515870810;      /* 48/17 in Q2 */
    const int32_t c_neg32_over_17 = -1010580540; /* -32/17 in Q2 */
    int32_t hd = gl_rounding_half_sum(a, GL_Q0_ONE);
    int32_t x = gl_add(c48_over_17, gl_mul(hd, c_neg32_over_17));
    for (int i = 0; i < 3; i++) {
        int32_t hd_x = gl_mul(hd, x);                               /* Q2 */
        int32_t one_minus_hd_x = gl_sub(GL_Q2_ONE, hd_x);           /* Q2 */
        x = gl_add(x, gl_rescale(gl_mul(x, one_minus_hd_x), 4, 2)); /* Q2*Q2 = Q4 -> Q2 */
    }
    *half_denominator = hd;
    return x;
}

/* 1 / (1 + a) for a in (0, 1), Q0 in and out. */
static inline int32_t gl_one_over_one_plus_x(int32_t a)
{
    int32_t hd;
    int32_t x = gl_reciprocal_half_denominator(a, &hd);
    return gl_rescale(x, 1, 0); /* x/2: the same raw value read as Q1, then to Q0 */
}

/* (1 - a) / (1 + a) for a in (0, 1), Q0 in and out. */
static inline int32_t gl_one_minus_x_over_one_plus_x(int32_t a)
{
    int32_t hd;
    int32_t x = gl_reciprocal_half_denominator(a, &hd);
    return gl_rescale(gl_sub(x, GL_Q2_ONE), 2, 0);
}

/* logistic(a) = 1 / (1 + exp(-a)), a in Q(int_bits), result in Q0. */
static inline int32_t gl_logistic(int32_t a, int int_bits)
{
    int32_t abs_a = a > 0 ? a : gl_neg(a);
    int32_t if_positive =
        gl_one_over_one_plus_x(gl_exp_on_negative_values(gl_neg(abs_a), int_bits));
    if (a == 0)
        return 1 << 30; /* 0.5 */
    return a > 0 ? if_positive : gl_sub(GL_Q0_ONE, if_positive);
}

/* tanh(a) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with a's sign, a in Q(int_bits), result in Q0. */
static inline int32_t gl_tanh(int32_t a, int int_bits)
{
    int32_t neg_abs = a < 0 ? a : gl_neg(a);
    /* 2 * neg_abs: the same raw value read with one more integer bit */
    int32_t t = gl_one_minus_x_over_one_plus_x(gl_exp_on_negative_values(neg_abs, int_bits + 1));
    if (a == 0)
        return 0;
    return a < 0 ? gl_neg(t) : t;
}

#endif
