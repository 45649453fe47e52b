/*
 * CONV_2D optimized int8 kernel.
 *
 * sum(w * (x + offset)) + bias is computed as sum(w * x) + fold, with
 * fold = bias + offset * sum(w) per output channel, so the inner loop
 * multiplies raw int8 values (conv_dot4_s8, vectorizable). Windows that
 * reach past the input are first copied into a patch whose outside taps
 * hold the input zero point: there x + offset = 0, exactly the implicit zero
 * of the reference, so the same fold holds for every window. All sums wrap
 * in uint32, so the result equals the reference for any depth.
 *
 * Scratch: the rescale constants and fold of every output channel
 * (conv_rq, recomputed every invoke so they cost no persistent memory) and
 * one patch of k_h * k_w * k_c bytes.
 */
#include <string.h>

#include "../conv.h"
#include "conv_util.h"

/*
 * Short runs (a few channels) are moved inline: a library call costs more
 * than such bytes. Whole words only where both ends are 4-byte aligned (the
 * usual channel counts, multiples of 4): a core that traps unaligned access
 * (Cortex-M0+, or any Cortex-M with CCR.UNALIGN_TRP set) must never see an
 * unaligned word load, and compilers turn a fixed 4-byte memcpy into one.
 */
static inline int word_aligned(const void *a, const void *b)
{
    return (((uintptr_t)a | (uintptr_t)b) & 3u) == 0;
}

static inline void copy_run(int8_t *dst, const int8_t *src, size_t n)
{
    if (n > 64) {
        memcpy(dst, src, n);
        return;
    }
    if (word_aligned(dst, src))
        for (; n >= 4; n -= 4, dst += 4, src += 4)
            memcpy(dst, src, 4);
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static inline void fill_run(int8_t *dst, int8_t v, size_t n)
{
    if (n > 64) {
        memset(dst, v, n);
        return;
    }
    if (word_aligned(dst, dst)) {
        uint32_t pattern = (uint32_t)(uint8_t)v * 0x01010101u;
        for (; n >= 4; n -= 4, dst += 4)
            memcpy(dst, &pattern, 4);
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = v;
}

/* Copies the window of output pixel (oy, ox), group g, into patch in filter order (ky, kx, kc). */
static void gather_patch(const conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox,
                         int32_t g, int8_t zp, int8_t *patch)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const size_t row = (size_t)p->k_w * (size_t)p->k_c;
    const int contiguous = p->dil_w == 1 && p->groups == 1;
    for (int32_t ky = 0; ky < p->k_h; ky++, patch += row) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            fill_run(patch, zp, row);
            continue;
        }
        const int8_t *in_row = in_b + (size_t)iy * (size_t)p->in_w * (size_t)p->in_c;
        if (contiguous) {
            /* Taps kx in [lo, hi) are inside: one run of whole pixels. */
            int32_t lo = x0 < 0 ? -x0 : 0;
            int32_t hi = p->in_w - x0 < p->k_w ? p->in_w - x0 : p->k_w;
            if (lo > p->k_w)
                lo = p->k_w;
            if (hi < lo)
                hi = lo;
            size_t c = (size_t)p->k_c;
            fill_run(patch, zp, (size_t)lo * c);
            if (hi > lo)
                copy_run(patch + (size_t)lo * c, in_row + (size_t)(x0 + lo) * c,
                       (size_t)(hi - lo) * c);
            fill_run(patch + (size_t)hi * c, zp, (size_t)(p->k_w - hi) * c);
            continue;
        }
        for (int32_t kx = 0; kx < p->k_w; kx++) {
            const int32_t ix = x0 + kx * p->dil_w;
            int8_t *dst = patch + (size_t)kx * (size_t)p->k_c;
            if (ix < 0 || ix >= p->in_w)
                fill_run(dst, zp, (size_t)p->k_c);
            else
                copy_run(dst, in_row + (size_t)ix * (size_t)p->in_c + (size_t)g * (size_t)p->k_c,
                       (size_t)p->k_c);
        }
    }
}

/* count output channels starting at oc0 from one patch. */
static inline void output_channels(const conv_params *p, const int8_t *patch,
                                   const int8_t *filter, int32_t depth, int32_t oc0,
                                   int32_t count, const conv_rq *rq, int narrow, int8_t *out)
{
    const int32_t zp = p->output_offset, lo = p->act_min, hi = p->act_max;
    rq += oc0;
    out += oc0;
    const int8_t *w = filter + (size_t)oc0 * (size_t)depth;
    int32_t j = 0;
    for (; j + 4 <= count; j += 4, w += 4 * (size_t)depth) {
        uint32_t acc[4];
        conv_dot4_s8(patch, w, depth, (size_t)depth, narrow, acc);
        for (int t = 0; t < 4; t++)
            out[j + t] = conv_clamp_s8(conv_rq_apply(&rq[j + t], acc[t] + rq[j + t].fold) + zp,
                                       lo, hi);
    }
    for (; j < count; j++, w += depth) {
        uint32_t acc = conv_dot1_s8(patch, w, depth);
        out[j] = conv_clamp_s8(conv_rq_apply(&rq[j], acc + rq[j].fold) + zp, lo, hi);
    }
}

/* All output pixels; narrow is a constant at each call site. */
static inline void run(const conv_params *p, const int8_t *in, const int8_t *filter,
                       const conv_rq *rq, int8_t *patch, int narrow, int8_t *out)
{
    const int32_t depth = p->k_h * p->k_w * p->k_c;
    const int32_t per_group = p->out_c / p->groups;
    const int8_t zp = (int8_t)(-p->input_offset);
    const size_t in_image = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = in + (size_t)b * in_image;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->out_c) {
                if (p->direct) {
                    size_t at = ((size_t)oy * (size_t)p->stride_h * (size_t)p->in_w +
                                 (size_t)ox * (size_t)p->stride_w) * (size_t)p->in_c;
                    output_channels(p, in_b + at, filter, depth, 0, p->out_c, rq, narrow, out);
                    continue;
                }
                for (int32_t g = 0; g < p->groups; g++) {
                    gather_patch(p, in_b, oy, ox, g, zp, patch);
                    output_channels(p, patch, filter, depth, g * per_group, per_group, rq, narrow,
                                    out);
                }
            }
        }
    }
}

void conv_s8_run(const conv_params *p, const int8_t *in, const int8_t *filter,
                 const int32_t *bias, int8_t *out, void *scratch)
{
    const int32_t depth = p->k_h * p->k_w * p->k_c;
    conv_rq *rq = scratch;
    int8_t *patch = (int8_t *)(rq + p->out_c);
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        uint32_t fold = (bias != NULL ? (uint32_t)bias[oc] : 0u) +
                        (uint32_t)p->input_offset * conv_sum_s8(filter + (size_t)oc * depth, depth);
        conv_rq_init(&rq[oc], p->multiplier[oc], p->shift[oc], fold);
    }
    if (p->narrow)
        run(p, in, filter, rq, patch, 1, out);
    else
        run(p, in, filter, rq, patch, 0, out);
}

void conv_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    conv_s8_run(p, exec_tensor(x, p->input), exec_tensor(x, p->filter),
                p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL,
                exec_tensor(x, p->output), scratch);
}

/* Whether the constant int8 tensor t avoids -128 (no data: unknown, so no). */
int conv_filter_is_narrow(tmo_prep *p, uint16_t tensor)
{
    tmo_tensor_info t;
    if (tmo_model_tensor(p->m, tensor, &t) != TMO_OK || t.data == NULL)
        return 0;
    const int8_t *v = t.data;
    for (size_t i = 0; i < t.elements; i++)
        if (v[i] == -128)
            return 0;
    return 1;
}

uint64_t conv_s8_scratch_bytes(const conv_params *cp)
{
    uint64_t depth = (uint64_t)cp->k_h * (uint64_t)cp->k_w * (uint64_t)cp->k_c;
    return conv_rq_bytes(cp->out_c) + (cp->direct ? 0u : depth);
}

void conv_s8_choose_path(tmo_prep *p, conv_params *cp)
{
    /* 1x1 windows that never leave the input need no patch (TFLite allows outputs larger
     * than the padding mode implies, hence the bound checks). */
    cp->direct = cp->k_h == 1 && cp->k_w == 1 && cp->groups == 1 && cp->pad_h == 0 &&
                 cp->pad_w == 0 && (int64_t)(cp->out_h - 1) * cp->stride_h < cp->in_h &&
                 (int64_t)(cp->out_w - 1) * cp->stride_w < cp->in_w;
    cp->narrow = (uint8_t)conv_filter_is_narrow(p, cp->filter);
}

tmo_err conv_s8_setup_opt(tmo_prep *p, conv_params *cp)
{
    conv_s8_choose_path(p, cp);
    uint64_t bytes = conv_s8_scratch_bytes(cp);
    if (bytes > 0x3fffffffu)
        return prep_fail(p, TMO_EUNSUPPORTED, "filter", "filter too large for the scratch buffer");
    p->scratch_bytes = (uint32_t)bytes;
    p->invoke = conv_s8_opt;
    return TMO_OK;
}
