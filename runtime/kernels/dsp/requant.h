/*
 * The output stage of the dsp/ int8 kernels: accumulator -> int8, equal to
 * TFLite Micro's MultiplyByQuantizedMultiplier + zero point + clamp.
 *
 * Fast form (four instructions): with e = -shift >= 1 and a = acc,
 *   h   = SMMULR(2a, m)                = SaturatingRoundingDoublingHighMul(a, m)
 *   out = (h - [h < 0] + 2^(e-1) + zp * 2^e) >> e
 *                                      = RoundingDivideByPOT(h, e) + zp
 * computed as t = SMMLAR(2a, m, 2^(e-1) + zp * 2^e); t += (2a >> 31);
 * out = t >> e. SMMULR rounds (2am + 2^31) / 2^32 down, which is
 * (am + 2^30) / 2^31 rounded down, gemmlowp's result, as long as 2a does
 * not overflow; subtracting [h < 0] turns its round-half-up into
 * RoundingDivideByPOT's round-half-away-from-zero, and zp * 2^e passes
 * through the shift exactly. h < 0 exactly when a < 0 provided
 * m > 2^30 (a <= -1 gives am + 2^30 < 0; a >= 0 gives h >= 0), which is
 * why the sign comes from 2a. prepare proves |a| < 2^30 from the constant
 * weights and bias, 1 <= e <= 22 and m > 2^30 for every channel
 * (nothing overflows then); otherwise the kernel takes the slow form,
 * TFLite's arithmetic in 64 bits (fp_requant).
 */
#ifndef TMO_DSP_REQUANT_H
#define TMO_DSP_REQUANT_H

#include <stdint.h>

#include "../fixedpoint.h"
#include "../kernel.h"
#include "dsp.h"

/* Largest e = -shift of the fast form: zp * 2^e and 2^(e-1) stay far from overflow. */
#define DSP_RQ_MAX_RIGHT 22
/* Accumulators the fast form takes: 2 * acc must fit in int32. */
#define DSP_RQ_MAX_ACC ((int64_t)1 << 30)

/*
 * Everything the output stage needs for one output channel, filled once
 * per invoke (dsp_chan_fill) so the hot loop fetches it with one LDM.
 * Fast form: add = 2^(e-1) + zp * 2^e, right = e. Slow form: right holds
 * TFLite's shift and add the zero point. (The bias is read from the model:
 * 12 bytes per channel of scratch instead of 16 matter where the arena
 * peaks.)
 */
typedef struct dsp_chan {
    int32_t mult;
    int32_t add;
    int32_t right;
} dsp_chan;

/*
 * Output stage kinds, a constant at each call site (one copy of a hot loop
 * per kind, so there are only two): FULL, the fast form then SSAT #8, when
 * the fast form is exact and the activation range is all of int8; ANY,
 * otherwise: the fast form or (fast == 0) the slow one, then the clamp.
 */
enum { DSP_OUT_FULL = 0, DSP_OUT_ANY = 1 };

/* One channel's constants (see dsp_chan_fill). */
static inline dsp_chan dsp_chan_of(int32_t mult, int32_t shift, int32_t zp, int fast)
{
    dsp_chan c;
    c.mult = mult;
    if (fast) {
        int32_t e = -shift;
        c.right = e;
        c.add = (int32_t)((1u << e) >> 1) + (int32_t)((uint32_t)zp << e);
    } else {
        c.right = shift;
        c.add = zp;
    }
    return c;
}

/*
 * Fills n channels: multiplier mult[c * stride] and shift[c * stride]
 * (stride 0 repeats one per-tensor value), output zero point zp.
 */
void dsp_chan_fill(dsp_chan *t, int32_t n, const int32_t *mult, const int8_t *shift, int32_t stride,
                   int32_t zp, int fast);

/* Fast form without the clamp; valid only under the conditions above. */
static inline int32_t dsp_rq_fast(int32_t acc, const dsp_chan *c)
{
    int32_t a2 = (int32_t)((uint32_t)acc << 1);
    return (dsp_smmlar(a2, c->mult, c->add) + (a2 >> 31)) >> c->right;
}

/* Slow form, clamped: TFLite's arithmetic for any accumulator and shift (not inlined: rare). */
int8_t dsp_out_slow(int32_t acc, const dsp_chan *c, int32_t lo, int32_t hi);

static inline int8_t dsp_clamp(int32_t v, int32_t lo, int32_t hi)
{
    v = v < lo ? lo : v;
    return (int8_t)(v > hi ? hi : v);
}

/* One int8 output of kind (a constant) from its accumulator; fast as in DSP_OUT_ANY. */
static inline int8_t dsp_out(int32_t acc, const dsp_chan *c, int kind, int fast, int32_t lo,
                             int32_t hi)
{
    if (kind == DSP_OUT_FULL)
        return (int8_t)__ssat(dsp_rq_fast(acc, c), 8);
    if (fast)
        return dsp_clamp(dsp_rq_fast(acc, c), lo, hi);
    return dsp_out_slow(acc, c, lo, hi);
}

/*
 * Four outputs of consecutive channels as one little-endian word (for one
 * STR where the output is aligned): each rescaled and saturated to int8,
 * then the activation range applied to all four bytes at once (SSUB8/SEL)
 * unless kind is FULL. lo4/hi4 hold the range in every byte.
 */
static inline uint32_t dsp_out4(int32_t a0, int32_t a1, int32_t a2, int32_t a3, const dsp_chan *c,
                                int kind, int fast, uint32_t lo4, uint32_t hi4)
{
    int32_t v0, v1, v2, v3;
    if (kind == DSP_OUT_FULL || fast) {
        v0 = __ssat(dsp_rq_fast(a0, &c[0]), 8);
        v1 = __ssat(dsp_rq_fast(a1, &c[1]), 8);
        v2 = __ssat(dsp_rq_fast(a2, &c[2]), 8);
        v3 = __ssat(dsp_rq_fast(a3, &c[3]), 8);
    } else {
        v0 = dsp_out_slow(a0, &c[0], -128, 127);
        v1 = dsp_out_slow(a1, &c[1], -128, 127);
        v2 = dsp_out_slow(a2, &c[2], -128, 127);
        v3 = dsp_out_slow(a3, &c[3], -128, 127);
    }
    uint32_t w = ((uint32_t)v0 & 0xffu) | (((uint32_t)v1 & 0xffu) << 8) |
                 (((uint32_t)v2 & 0xffu) << 16) | ((uint32_t)v3 << 24);
    if (kind == DSP_OUT_FULL)
        return w;
    return dsp_min_s8x4(dsp_max_s8x4(w, lo4), hi4);
}

/* The kind for a layer: FULL when the fast form is exact and the range is all of int8. */
static inline int dsp_out_kind(int fast, int32_t lo, int32_t hi)
{
    return fast && lo == -128 && hi == 127 ? DSP_OUT_FULL : DSP_OUT_ANY;
}

/* An int8 value in every byte. */
static inline uint32_t dsp_splat8(int32_t v)
{
    return (uint32_t)(uint8_t)v * 0x01010101u;
}

/*
 * 1 when every channel c < n has shift[c * stride] in [-DSP_RQ_MAX_RIGHT, -1]
 * and mult[c * stride] > 2^30: the fast form's conditions other than the bound.
 */
int dsp_rq_scale_ok(const int32_t *mult, const int8_t *shift, int32_t stride, int32_t n);

/*
 * Largest |bias + sum_k w[k * step] * (x_k + offset)| over all int8 x_k:
 * the bound on one output's accumulator that the fast form needs.
 */
int64_t dsp_acc_bound(const int8_t *w, int32_t depth, int32_t step, int32_t bias, int32_t offset);

#endif
