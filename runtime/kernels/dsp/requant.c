/*
 * Prepare-time proofs for the fast output stage of the dsp/ kernels
 * (requant.h): shift range and accumulator bounds from constant data.
 */
#include "requant.h"

int dsp_rq_scale_ok(const int32_t *mult, const int8_t *shift, int32_t stride, int32_t n)
{
    for (int32_t c = 0; c < n; c++) {
        int32_t s = shift[c * stride];
        if (s > -1 || s < -DSP_RQ_MAX_RIGHT || mult[c * stride] <= (1 << 30))
            return 0;
    }
    return 1;
}

int64_t dsp_acc_bound(const int8_t *w, int32_t depth, int32_t step, int32_t bias, int32_t offset)
{
    /* x + offset ranges over [-128 + offset, 127 + offset]; |w * (x + offset)| peaks at an end. */
    int64_t lo = -128 + (int64_t)offset, hi = 127 + (int64_t)offset;
    int64_t reach = lo < 0 ? -lo : lo;
    if ((hi < 0 ? -hi : hi) > reach)
        reach = hi < 0 ? -hi : hi;
    int64_t sum = 0;
    for (int32_t k = 0; k < depth; k++) {
        int32_t v = w[(int64_t)k * step];
        sum += v < 0 ? -v : v;
    }
    return (bias < 0 ? -(int64_t)bias : bias) + sum * reach;
}

void dsp_chan_fill(dsp_chan *t, int32_t n, const int32_t *mult, const int8_t *shift, int32_t stride,
                   int32_t zp, int fast)
{
    for (int32_t c = 0; c < n; c++)
        t[c] = dsp_chan_of(mult[c * stride], shift[c * stride], zp, fast);
}

int8_t dsp_out_slow(int32_t acc, const dsp_chan *c, int32_t lo, int32_t hi)
{
    return dsp_clamp(fp_requant(acc, c->mult, c->right) + c->add, lo, hi);
}
