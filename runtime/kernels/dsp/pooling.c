/*
 * AVERAGE_POOL_2D and MAX_POOL_2D int8 for Cortex-M cores with the DSP
 * extension, four channels per word (depth a multiple of four):
 *
 * average: per tap one LDR and two SXTAB16 add channels (0, 2) and (1, 3)
 * into 16-bit lanes, exact while the window has at most 255 taps
 * (|sum| <= 255 * 128 < 2^15); then per channel TFLite's rounding division,
 * (sum +- count / 2) / count truncated, with one SDIV.
 * max: per tap SSUB8 + SEL keep the bytewise maximum; the activation range
 * is applied the same way to the whole word, stored as one STR.
 *
 * Other depths and larger windows run the reference loops.
 */
#include "../pooling.h"
#include "dsp.h"

#define MAX_WORD_TAPS 255

/* Input rows [y0, y1), columns [x0, x1) of one output pixel's window. */
typedef struct window {
    int32_t y0, y1, x0, x1;
} window;

static window clip(const pool_params *p, int32_t oy, int32_t ox)
{
    const int32_t oy0 = oy * p->stride_h - p->pad_h, ox0 = ox * p->stride_w - p->pad_w;
    window w;
    w.y0 = oy0 < 0 ? 0 : oy0;
    w.y1 = oy0 + p->filter_h < p->in_h ? oy0 + p->filter_h : p->in_h;
    w.x0 = ox0 < 0 ? 0 : ox0;
    w.x1 = ox0 + p->filter_w < p->in_w ? ox0 + p->filter_w : p->in_w;
    return w;
}

/* TFLite's rounding division of an average: half away from zero, then truncation. */
static inline int32_t average(int32_t sum, int32_t count, int32_t half, int32_t lo, int32_t hi)
{
    int32_t sign = sum >> 31; /* 0 or -1: +half, or -half for negative sums */
    int32_t v = (sum + ((half ^ sign) - sign)) / count;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

static void avgpool_words(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    const size_t row = (size_t)p->in_w * (size_t)p->depth;
    const int32_t quads = p->depth >> 2, lo = p->act_min, hi = p->act_max;
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = in + (size_t)b * (size_t)p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->depth) {
                const window w = clip(p, oy, ox);
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                if (count <=
                    0) { /* no tap inside: TFLM divides nothing and stores the clamp of 0 */
                    for (int32_t c = 0; c < p->depth; c++)
                        out[c] = (int8_t)(0 < lo ? lo : 0 > hi ? hi : 0);
                    continue;
                }
                const int32_t half = count / 2;
                const int8_t *base = in_b + (size_t)w.y0 * row + (size_t)w.x0 * (size_t)p->depth;
                for (int32_t q = 0; q < quads; q++) {
                    uint32_t s02 = 0, s13 = 0;
                    const int8_t *r = base + (size_t)q * 4u;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const int8_t *s = r;
                        for (int32_t xx = w.x0; xx < w.x1; xx++, s += p->depth) {
                            uint32_t v = dsp_load32(s);
                            s02 = __sxtab16(s02, v);
                            s13 = dsp_sxtab16_ror8(s13, v);
                        }
                    }
                    int8_t *o = out + (size_t)q * 4u;
                    o[0] = (int8_t)average((int16_t)(s02 & 0xffffu), count, half, lo, hi);
                    o[1] = (int8_t)average((int16_t)(s13 & 0xffffu), count, half, lo, hi);
                    o[2] = (int8_t)average((int16_t)(s02 >> 16), count, half, lo, hi);
                    o[3] = (int8_t)average((int16_t)(s13 >> 16), count, half, lo, hi);
                }
            }
    }
}

static void maxpool_words(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    const size_t row = (size_t)p->in_w * (size_t)p->depth;
    const int32_t quads = p->depth >> 2;
    const uint32_t lo4 = (uint32_t)(uint8_t)p->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)p->act_max * 0x01010101u;
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = in + (size_t)b * (size_t)p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->depth) {
                const window w = clip(p, oy, ox);
                const int8_t *base = in_b + (size_t)w.y0 * row + (size_t)w.x0 * (size_t)p->depth;
                for (int32_t q = 0; q < quads; q++) {
                    uint32_t m = 0x80808080u; /* -128: the reference's start value */
                    const int8_t *r = base + (size_t)q * 4u;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const int8_t *s = r;
                        for (int32_t xx = w.x0; xx < w.x1; xx++, s += p->depth)
                            m = dsp_max_s8x4(dsp_load32(s), m);
                    }
                    dsp_store32(out + (size_t)q * 4u, dsp_min_s8x4(dsp_max_s8x4(m, lo4), hi4));
                }
            }
    }
}

/*
 * Words of four channels: depth % 4 == 0 keeps every pixel aligned, as
 * activations start on a word (a constant input must be checked).
 */
static int words(tmo_prep *p, const pool_params *pp)
{
    tmo_tensor_info in;
    return (pp->depth & 3) == 0 && tmo_model_tensor(p->m, pp->input, &in) == TMO_OK &&
           ((uintptr_t)in.data & 3u) == 0;
}

tmo_err avgpool_s8_setup_opt(tmo_prep *p, pool_params *pp)
{
    if (!words(p, pp) || (int64_t)pp->filter_h * pp->filter_w > MAX_WORD_TAPS)
        return avgpool_s8_setup_ref(p, pp);
    p->invoke = avgpool_words;
    return TMO_OK;
}

tmo_err maxpool_s8_setup_opt(tmo_prep *p, pool_params *pp)
{
    if (!words(p, pp))
        return maxpool_s8_setup_ref(p, pp);
    p->invoke = maxpool_words;
    return TMO_OK;
}
