/*
 * Pieces shared by the optimized convolution kernels: the int8 rescale in a
 * division-free form, and int8 dot products written as fixed-width lane
 * loops (a compiler with a vector unit turns each lane loop into a few SIMD
 * instructions; a scalar core runs it as an unrolled loop). Integer sums are
 * exact in any order and wrap in uint32 like TFLM's int32 does, so results
 * stay bit-identical to the reference kernels.
 */
#ifndef TMO_CONV_UTIL_H
#define TMO_CONV_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../conv.h"

/*
 * Per-output-channel constants of the int8 rescale, computed once per
 * invoke so that each output costs two multiplies' worth of work and no
 * division or branch.
 *
 * TFLite rescales twice. SaturatingRoundingDoublingHighMul, for the
 * multipliers quant_multiplier() produces (2^30 <= m < 2^31, or 0: never the
 * saturating INT32_MIN case), is floor((x*m + 2^30) / 2^31): round half up
 * in both signs, an arithmetic shift. RoundingDivideByPOT by e rounds half
 * away from zero: floor((h + 2^(e-1) - [h < 0]) / 2^e), with nothing to do
 * for e = 0 (rnd = 0 and neg_mask = 0 then).
 */
typedef struct conv_rq {
    uint32_t fold; /* bias + input_offset * sum(filter): the accumulator's constant part */
    int32_t mult;
    int32_t rnd;      /* 2^(e-1), or 0 when e = 0 */
    int32_t neg_mask; /* -1 when e > 0 (negative h round toward zero on ties), else 0 */
    uint8_t left;     /* TFLite shift > 0: x is shifted left first (wrapping) */
    uint8_t right;    /* e */
} conv_rq;

/* Scratch bytes of n conv_rq (scratch is 4-byte aligned, all conv_rq needs). */
static inline uint64_t conv_rq_bytes(int32_t n)
{
    return (uint64_t)n * sizeof(conv_rq);
}

static inline void conv_rq_init(conv_rq *rq, int32_t multiplier, int shift, uint32_t fold)
{
    int e = shift > 0 ? 0 : -shift;
    rq->left = (uint8_t)(shift > 0 ? shift : 0);
    rq->right = (uint8_t)e;
    rq->rnd = e > 0 ? (int32_t)(1u << (e - 1)) : 0;
    rq->neg_mask = e > 0 ? -1 : 0;
    rq->mult = multiplier;
    rq->fold = fold;
}

/* The rescaled accumulator, equal to fp_requant(acc, multiplier, shift). */
static inline int32_t conv_rq_apply(const conv_rq *rq, uint32_t acc)
{
    int32_t x = (int32_t)(acc << rq->left);
    int64_t high = ((int64_t)x * rq->mult + ((int64_t)1 << 30)) >> 31;
    int64_t neg = (int64_t)((high >> 63) & rq->neg_mask); /* -1 for negative high when e > 0 */
    return (int32_t)((high + rq->rnd + neg) >> rq->right);
}

/*
 * Taps k in [*lo, *hi) of one dimension whose input coordinate
 * origin + k * dilation lies in [0, size); empty ranges give *lo == *hi.
 */
static inline void conv_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                  int32_t *lo, int32_t *hi)
{
    int32_t l = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    int32_t h = origin > size - 1 ? 0 : (size - 1 - origin) / dilation + 1;
    if (h > taps)
        h = taps;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

static inline int8_t conv_clamp_s8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* sum of n int8 values (wrapping) */
static inline uint32_t conv_sum_s8(const int8_t *x, int32_t n)
{
    uint32_t lane[16] = {0};
    int32_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            lane[k] += (uint32_t)(int32_t)x[i + k];
    uint32_t s = 0;
    for (int k = 0; k < 16; k++)
        s += lane[k];
    for (; i < n; i++)
        s += (uint32_t)(int32_t)x[i];
    return s;
}

/*
 * acc[j] = sum_k x[k] * w[j * stride + k] for j < 4 (four filters, one patch).
 * narrow: no filter value is -128, so |x * w| <= 128 * 127 and two products
 * sum exactly in int16 (half the widening work for a vector unit); callers
 * pass it as a constant after checking the filter at prepare.
 */
static inline void conv_dot4_s8(const int8_t *x, const int8_t *w, int32_t n, size_t stride,
                                int narrow, uint32_t acc[4])
{
    const int8_t *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t i = 0;
    if (n >= 16) {
        uint32_t l0[16] = {0}, l1[16] = {0}, l2[16] = {0}, l3[16] = {0};
        if (narrow) {
            for (; i + 32 <= n; i += 32)
                for (int k = 0; k < 16; k++) {
                    int32_t a = x[i + k], b = x[i + 16 + k];
                    l0[k] += (uint32_t)(int16_t)(a * w0[i + k] + b * w0[i + 16 + k]);
                    l1[k] += (uint32_t)(int16_t)(a * w1[i + k] + b * w1[i + 16 + k]);
                    l2[k] += (uint32_t)(int16_t)(a * w2[i + k] + b * w2[i + 16 + k]);
                    l3[k] += (uint32_t)(int16_t)(a * w3[i + k] + b * w3[i + 16 + k]);
                }
        }
        for (; i + 16 <= n; i += 16)
            for (int k = 0; k < 16; k++) {
                int32_t v = x[i + k];
                l0[k] += (uint32_t)(v * w0[i + k]);
                l1[k] += (uint32_t)(v * w1[i + k]);
                l2[k] += (uint32_t)(v * w2[i + k]);
                l3[k] += (uint32_t)(v * w3[i + k]);
            }
        for (int k = 0; k < 16; k++) {
            s0 += l0[k];
            s1 += l1[k];
            s2 += l2[k];
            s3 += l3[k];
        }
    }
    for (; i < n; i++) {
        int32_t v = x[i];
        s0 += (uint32_t)(v * w0[i]);
        s1 += (uint32_t)(v * w1[i]);
        s2 += (uint32_t)(v * w2[i]);
        s3 += (uint32_t)(v * w3[i]);
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* sum_k x[k] * w[k] (one filter, one patch). */
static inline uint32_t conv_dot1_s8(const int8_t *x, const int8_t *w, int32_t n)
{
    uint32_t s = 0;
    int32_t i = 0;
    if (n >= 16) {
        uint32_t l[16] = {0};
        for (; i + 16 <= n; i += 16)
            for (int k = 0; k < 16; k++)
                l[k] += (uint32_t)(x[i + k] * w[i + k]);
        for (int k = 0; k < 16; k++)
            s += l[k];
    }
    for (; i < n; i++)
        s += (uint32_t)(x[i] * w[i]);
    return s;
}

/* ---- shared by opt/conv.c and opt/depthwise_conv.c ---- */

/* The CONV_2D int8 kernel on explicit tensors (filter in OHWI order). */
void conv_s8_run(const conv_params *p, const int8_t *in, const int8_t *filter,
                 const int32_t *bias, int8_t *out, void *scratch);

/* Sets p->direct and p->narrow for conv_s8_run. */
void conv_s8_choose_path(tmo_prep *p, conv_params *cp);

/* Scratch conv_s8_run needs for p (p->direct set). */
uint64_t conv_s8_scratch_bytes(const conv_params *p);

/* 1 when the filter tensor is constant and holds no -128 (enables the narrow dot). */
int conv_filter_is_narrow(tmo_prep *p, uint16_t tensor);

#endif
