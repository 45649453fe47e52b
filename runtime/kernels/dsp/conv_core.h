/*
 * The int8 convolution engine of the dsp/ CONV_2D kernel: im2col into int16
 * with the input offset added, four output pixels at a time, then for every
 * filter one pass of SMLADs over the patch (conv_core.c). The depthwise
 * kernel shares its output-stage proof (dsp_conv_fast_ok).
 *
 * Patch layout (the "column" buffer): the depth (ky, kx, c) of each pixel's
 * window is cut into groups of four taps, zero-padded at the end. Group g of
 * pixel s (0..3) is two words at int16 index (g * 4 + s) * 4:
 *   word 0 = [x0 + off, x2 + off], word 1 = [x1 + off, x3 + off],
 * the order in which SXTB16 / SXTB16 ROR #8 split four filter bytes, so one
 * filter word meets its patch words with two SMLADs and no repacking.
 */
#ifndef TMO_DSP_CONV_CORE_H
#define TMO_DSP_CONV_CORE_H

#include <stdint.h>

#include "../conv.h"

/* Where the engine finds its operands; filter rows are [out_c][depth] int8. */
typedef struct dsp_conv_args {
    const int8_t *in;     /* NHWC input */
    const int8_t *filter; /* out_c rows of depth bytes */
    const int32_t *bias;  /* out_c values, or NULL */
    int8_t *out;          /* NHWC output */
    void *scratch;        /* dsp_conv_scratch_bytes(p) bytes, 4-byte aligned */
} dsp_conv_args;

/* Taps of one window (k_h * k_w * k_c) and the same rounded up to a multiple of 4. */
static inline int32_t dsp_conv_depth(const conv_params *p)
{
    return p->k_h * p->k_w * p->k_c;
}

static inline int32_t dsp_conv_depth4(const conv_params *p)
{
    return (dsp_conv_depth(p) + 3) & ~3;
}

/* Scratch bytes the engine needs (after dsp_conv_plan). */
uint64_t dsp_conv_scratch_bytes(const conv_params *p);

/* 1 when the engine can run p (after dsp_conv_plan): rows in place or a filter small enough to copy. */
int dsp_conv_supported(const conv_params *p);

/*
 * Prepare: whether filter rows can be read as words in place
 * (p->dsp_rows_aligned: depth % 4 == 0 and a 4-aligned filter) and whether
 * the fast output stage is exact (p->dsp_fast_rq). filter is the constant
 * [out_c][depth] filter, NULL when it is not constant; bias likewise, with
 * bias_known = 0 for a bias that is not constant (absent: bias NULL,
 * bias_known 1). What is not known proves nothing: the slow stage runs.
 */
void dsp_conv_plan(conv_params *p, const int8_t *filter, const int32_t *bias, int bias_known);

/*
 * 1 when the fast output stage is exact for every channel of p (see
 * requant.h): tap k of output channel oc at filter[oc * oc_step + k *
 * tap_step], taps per channel, bias as for dsp_conv_plan.
 */
int dsp_conv_fast_ok(const conv_params *p, const int8_t *filter, int32_t oc_step, int32_t tap_step,
                     int32_t taps, const int32_t *bias, int bias_known);

/* Runs the convolution (groups == 1) on a. */
void dsp_conv_run(const conv_params *p, const dsp_conv_args *a);

#endif
