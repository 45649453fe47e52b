/*
 * CONV_2D and DEPTHWISE_CONV_2D: the parameters prepare computes, the
 * prepare steps both operators share (conv.c), and the invoke variants.
 *
 * Layouts are TFLite's: input and output NHWC; CONV_2D filter
 * [out_c][k_h][k_w][k_c] (OHWI, k_c = in_c / groups); DEPTHWISE_CONV_2D
 * filter [1][k_h][k_w][out_c] with out_c = in_c * depth_mult, output channel
 * c * depth_mult + m reading input channel c.
 */
#ifndef TMO_CONV_H
#define TMO_CONV_H

#include "kernel.h"

#define CONV_NO_TENSOR 0xffffu

typedef struct conv_params {
    uint16_t input, filter, bias, output; /* tensor indices; bias = CONV_NO_TENSOR when absent */
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t k_c;        /* CONV_2D: filter input depth; DEPTHWISE_CONV_2D: 1 */
    int32_t groups;     /* CONV_2D: in_c / k_c; DEPTHWISE_CONV_2D: in_c */
    int32_t depth_mult; /* DEPTHWISE_CONV_2D: out_c / in_c; CONV_2D: 0 */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* implicit zero rows/columns before the input */
    /* int8 */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    const int32_t *multiplier; /* per output channel (per-tensor filters repeat one value) */
    const int8_t *shift;       /* per output channel, TFLite exponent (> 0: left shift) */
    /* float32 */
    float fact_min, fact_max;
    /* Optimized kernels only (set by the *_setup_opt functions). */
    uint8_t direct; /* CONV_2D: every window is one contiguous input pixel (1x1, one group) */
    uint8_t narrow; /* int8: the filter is constant and holds no -128 */
    uint8_t blocked; /* float32: the filter is constant and finite, so taps outside the
                      * input may be summed as exact zeros and four pixels run at once */
    /* Cortex-M DSP kernels only (dsp/, set by their setup functions). */
    uint8_t dsp_path;         /* which dsp/ loop runs (0: the reference kernel) */
    uint8_t dsp_rows_aligned; /* filter rows can be read as words where they are */
    uint8_t dsp_fast_rq;      /* the 32-bit output stage is exact for every channel */
    uint8_t dsp_full_range;   /* activation range is all of int8 (a plain saturation) */
} conv_params;

/* Reference kernels: TFLite Micro's loops, the bit-exact oracle. */
void conv_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void conv_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void dwconv_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void dwconv_f32_ref(const tmo_exec *x, const void *params, void *scratch);

/* Optimized kernels: same results, bit for bit. They need their setup at prepare. */
void conv_s8_opt(const tmo_exec *x, const void *params, void *scratch);
void conv_f32_opt(const tmo_exec *x, const void *params, void *scratch);
void dwconv_s8_opt(const tmo_exec *x, const void *params, void *scratch);
void dwconv_f32_opt(const tmo_exec *x, const void *params, void *scratch);

/*
 * Last step of prepare: choose the invoke function (p->invoke) and compute
 * what it needs (into prep_alloc memory, p->scratch_bytes). The _ref variants
 * pick the reference loop; the _opt variants may fall back to it (e.g. when
 * the filter is not constant). KERNEL_PICK chooses between them.
 */
tmo_err conv_s8_setup_ref(tmo_prep *p, conv_params *cp);
tmo_err conv_s8_setup_opt(tmo_prep *p, conv_params *cp);
tmo_err conv_f32_setup_ref(tmo_prep *p, conv_params *cp);
tmo_err conv_f32_setup_opt(tmo_prep *p, conv_params *cp);
tmo_err dwconv_s8_setup_ref(tmo_prep *p, conv_params *cp);
tmo_err dwconv_s8_setup_opt(tmo_prep *p, conv_params *cp);
tmo_err dwconv_f32_setup_ref(tmo_prep *p, conv_params *cp);
tmo_err dwconv_f32_setup_opt(tmo_prep *p, conv_params *cp);

/* ---- prepare steps shared by CONV_2D and DEPTHWISE_CONV_2D (conv.c) ---- */

typedef struct conv_options {
    uint8_t padding; /* PAD_SAME or PAD_VALID */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t activation;
    int32_t depth_mult; /* DEPTHWISE_CONV_2D only */
} conv_options;

typedef struct conv_tensors {
    tmo_tensor_info in, filter, bias, out;
    int has_bias;
} conv_tensors;

/* Reads the operator's inputs and output and records their indices in cp. */
tmo_err conv_prep_tensors(tmo_prep *p, conv_tensors *t, conv_params *cp);

/*
 * Checks the types: int8 input with int8 filter, int8 output and int32 bias,
 * or float32 throughout. Hybrid operators (float input, int8 filter) fail
 * with EUNSUPPORTED as in TFLite Micro.
 */
tmo_err conv_prep_types(tmo_prep *p, const conv_tensors *t);

/*
 * Spatial geometry: input and output must be 4-D with matching batches,
 * strides and dilations positive, the output size the padding mode gives,
 * and every coordinate the invoke loops form must fit in int32.
 * Expects cp->k_h, k_w set; sets the rest of the geometry except channels.
 */
tmo_err conv_prep_spatial(tmo_prep *p, const conv_options *o, const conv_tensors *t,
                          conv_params *cp);

/*
 * int8: offsets, activation range and per-channel multipliers, with the
 * double-precision product of TFLite's PopulateConvolutionQuantizationParams.
 * Per-channel filter scales must run along quant_dim.
 */
tmo_err conv_prep_quant(tmo_prep *p, const conv_tensors *t, int32_t activation, int32_t quant_dim,
                        conv_params *cp);

/* float32: activation range. */
tmo_err conv_prep_float(tmo_prep *p, int32_t activation, conv_params *cp);

/* Bias, when present, must hold one value per output channel. */
tmo_err conv_prep_bias(tmo_prep *p, const conv_tensors *t, const conv_params *cp);

#endif
