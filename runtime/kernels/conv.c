/*
 * CONV_2D prepare, and the prepare steps it shares with DEPTHWISE_CONV_2D:
 * geometry and padding as TFLite Micro's ComputePaddingHeightWidth gives
 * them, quantization as its PopulateConvolutionQuantizationParams computes
 * it. Everything invoke relies on is checked here.
 */
#include "conv.h"

#include "../tflite/options_types.h"
#include "padding.h"
#include "quant.h"

/* Conv2DOptions field ids (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3, OPT_DILATION_W = 4,
       OPT_DILATION_H = 5 };

/* Bound on the span of input coordinates a window covers, so index arithmetic stays in int32. */
#define MAX_SPAN ((int64_t)1 << 30)

tmo_err conv_prep_tensors(tmo_prep *p, conv_tensors *t, conv_params *cp)
{
    tmo_err e;
    if ((e = prep_io_count(p, 2, 3, 1)) != TMO_OK || (e = prep_input(p, 0, &t->in)) != TMO_OK ||
        (e = prep_input(p, 1, &t->filter)) != TMO_OK ||
        (e = prep_input_opt(p, 2, &t->bias, &t->has_bias)) != TMO_OK ||
        (e = prep_output(p, 0, &t->out)) != TMO_OK)
        return e;
    cp->input = prep_in_index(p, 0);
    cp->filter = prep_in_index(p, 1);
    cp->bias = t->has_bias ? prep_in_index(p, 2) : CONV_NO_TENSOR;
    cp->output = prep_out_index(p, 0);
    return TMO_OK;
}

tmo_err conv_prep_types(tmo_prep *p, const conv_tensors *t)
{
    tmo_err e;
    if ((e = prep_type(p, &t->in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_same_type(p, &t->in, &t->out, "output")) != TMO_OK)
        return e;
    if (t->in.type == TMO_FLOAT32) {
        if (t->filter.type == TMO_INT8)
            return prep_fail(p, TMO_EUNSUPPORTED, "filter",
                             "hybrid models (float activations, int8 weights) are not supported");
        if ((e = prep_type(p, &t->filter, "filter", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK ||
            (t->has_bias && (e = prep_type(p, &t->bias, "bias", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK))
            return e;
        return TMO_OK;
    }
    if ((e = prep_type(p, &t->filter, "filter", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (t->has_bias && (e = prep_type(p, &t->bias, "bias", TMO_INT32, TMO_INT32)) != TMO_OK))
        return e;
    return TMO_OK;
}

/*
 * Leading padding of one dimension. As in TFLite Micro, the padding comes
 * from the output size the padding mode implies, while the loops run over
 * the output tensor's own size: TFLM does not require the two to agree (its
 * own kernel tests use a larger output), and windows that fall outside the
 * input simply see implicit zeros. So a mismatch is accepted, not an error.
 */
static tmo_err spatial(tmo_prep *p, const char *field, uint8_t padding, int32_t in, int32_t filter,
                       int32_t stride, int32_t dilation, int32_t out, int32_t *pad)
{
    int64_t implied = pad_out_size(padding, in, filter, stride, dilation);
    int64_t before = pad_before(in, filter, stride, dilation, implied);
    int64_t span = (int64_t)(out - 1) * stride + pad_effective_filter(filter, dilation);
    if (span > MAX_SPAN || before > MAX_SPAN || in > MAX_SPAN)
        return prep_fail(p, TMO_EUNSUPPORTED, field, "stride, dilation or size too large");
    *pad = (int32_t)before;
    return TMO_OK;
}

static tmo_err positive(tmo_prep *p, const char *field, int32_t v)
{
    if (v <= 0)
        return prep_fail_value(p, TMO_EBADMODEL, field, "must be positive", v, -1);
    return TMO_OK;
}

tmo_err conv_prep_spatial(tmo_prep *p, const conv_options *o, const conv_tensors *t,
                          conv_params *cp)
{
    tmo_err e;
    if (t->in.ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "input", "input must be 4-D (NHWC)", t->in.ndim,
                               -1);
    if (t->out.ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output must be 4-D (NHWC)",
                               t->out.ndim, -1);
    if (t->out.dims[0] != t->in.dims[0])
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output batch differs from input",
                               t->out.dims[0], t->in.dims[0]);
    if (o->padding != PAD_SAME && o->padding != PAD_VALID)
        return prep_fail_value(p, TMO_EBADMODEL, "padding", "unknown padding mode", o->padding,
                               -1);
    if ((e = positive(p, "stride_h", o->stride_h)) != TMO_OK ||
        (e = positive(p, "stride_w", o->stride_w)) != TMO_OK ||
        (e = positive(p, "dilation_h_factor", o->dil_h)) != TMO_OK ||
        (e = positive(p, "dilation_w_factor", o->dil_w)) != TMO_OK)
        return e;
    cp->batches = t->in.dims[0];
    cp->in_h = t->in.dims[1];
    cp->in_w = t->in.dims[2];
    cp->in_c = t->in.dims[3];
    cp->out_h = t->out.dims[1];
    cp->out_w = t->out.dims[2];
    cp->out_c = t->out.dims[3];
    cp->stride_h = o->stride_h;
    cp->stride_w = o->stride_w;
    cp->dil_h = o->dil_h;
    cp->dil_w = o->dil_w;
    if ((e = spatial(p, "output height", o->padding, cp->in_h, cp->k_h, cp->stride_h, cp->dil_h,
                     cp->out_h, &cp->pad_h)) != TMO_OK ||
        (e = spatial(p, "output width", o->padding, cp->in_w, cp->k_w, cp->stride_w, cp->dil_w,
                     cp->out_w, &cp->pad_w)) != TMO_OK)
        return e;
    return TMO_OK;
}

tmo_err conv_prep_bias(tmo_prep *p, const conv_tensors *t, const conv_params *cp)
{
    if (t->has_bias && t->bias.elements != (size_t)cp->out_c)
        return prep_fail_value(p, TMO_EBADMODEL, "bias", "bias size differs from output channels",
                               (int64_t)t->bias.elements, cp->out_c);
    return TMO_OK;
}

tmo_err conv_prep_quant(tmo_prep *p, const conv_tensors *t, int32_t activation, int32_t quant_dim,
                        conv_params *cp)
{
    tmo_err e;
    if ((e = prep_quantized(p, &t->in, "input")) != TMO_OK ||
        (e = prep_quantized(p, &t->filter, "filter")) != TMO_OK ||
        (e = prep_quantized(p, &t->out, "output")) != TMO_OK)
        return e;
    const tmo_tensor_info *f = &t->filter;
    int per_channel = f->scale_count > 1;
    if (per_channel && (f->quant_dim != quant_dim || f->scale_count != (uint32_t)cp->out_c))
        return prep_fail_value(p, TMO_EBADMODEL, "filter.quantization",
                               "per-channel scales must run along the output channel dimension",
                               f->quant_dim, quant_dim);
    int32_t *mult = prep_alloc(p, sizeof(int32_t) * (size_t)cp->out_c);
    int8_t *shift = prep_alloc(p, (size_t)cp->out_c);
    if (mult == NULL || shift == NULL)
        return TMO_ENOSPC;
    /* TFLite: double(input scale) * double(filter scale) / double(output scale), per channel. */
    for (int32_t c = 0; c < cp->out_c; c++) {
        float fs = per_channel ? tmo_tensor_scale(f, (uint32_t)c) : f->scale;
        double real = (double)t->in.scale * (double)fs / (double)t->out.scale;
        int s;
        if (quant_multiplier(real, &mult[c], &s) != TMO_OK)
            return prep_fail_value(p, TMO_ERANGE, "filter.quantization",
                                   "output multiplier out of range for channel", c, -1);
        shift[c] = (int8_t)s;
    }
    cp->multiplier = mult;
    cp->shift = shift;
    /*
     * The filter zero point is not used: the TFLite quantization spec fixes
     * it at 0 for int8 filters and TFLite Micro's kernels ignore it too.
     */
    cp->input_offset = -t->in.zero_point;
    cp->output_offset = t->out.zero_point;
    return quant_activation_range(p, activation, &t->out, &cp->act_min, &cp->act_max);
}

tmo_err conv_prep_float(tmo_prep *p, int32_t activation, conv_params *cp)
{
    return float_activation_range(p, activation, &cp->fact_min, &cp->fact_max);
}

static tmo_err read_options(tmo_prep *p, conv_options *o)
{
    uint8_t act8;
    tmo_err e;
    if ((e = prep_options(p, OPTIONS_CONV2D_OPTIONS)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_PADDING, PAD_SAME, &o->padding)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_W, 0, &o->stride_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_H, 0, &o->stride_h)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_ACTIVATION, 0, &act8)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_DILATION_W, 1, &o->dil_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_DILATION_H, 1, &o->dil_h)) != TMO_OK)
        return e;
    o->activation = (int8_t)act8;
    o->depth_mult = 0;
    return TMO_OK;
}

/* Filter [out_c][k_h][k_w][k_c]; the input depth must be a whole number of groups of k_c. */
static tmo_err check_filter(tmo_prep *p, const conv_tensors *t, conv_params *cp)
{
    const tmo_tensor_info *f = &t->filter;
    if (f->ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "filter", "filter must be 4-D (OHWI)", f->ndim,
                               -1);
    cp->k_h = f->dims[1];
    cp->k_w = f->dims[2];
    cp->k_c = f->dims[3];
    if (t->in.ndim == 4 && t->in.dims[3] % cp->k_c != 0)
        return prep_fail_value(p, TMO_EBADMODEL, "filter",
                               "input depth is not a multiple of the filter depth", t->in.dims[3],
                               cp->k_c);
    return TMO_OK;
}

tmo_err conv_prepare(tmo_prep *p)
{
    conv_tensors t;
    conv_options o;
    tmo_err e;
    conv_params *cp = prep_alloc(p, sizeof *cp);
    if (cp == NULL)
        return TMO_ENOSPC;
    if ((e = conv_prep_tensors(p, &t, cp)) != TMO_OK || (e = read_options(p, &o)) != TMO_OK ||
        (e = conv_prep_types(p, &t)) != TMO_OK || (e = check_filter(p, &t, cp)) != TMO_OK ||
        (e = conv_prep_spatial(p, &o, &t, cp)) != TMO_OK)
        return e;
    if (t.filter.dims[0] != cp->out_c)
        return prep_fail_value(p, TMO_EBADMODEL, "filter",
                               "filter count differs from output channels", t.filter.dims[0],
                               cp->out_c);
    cp->groups = cp->in_c / cp->k_c;
    if (cp->out_c % cp->groups != 0)
        return prep_fail_value(p, TMO_EBADMODEL, "filter",
                               "output channels are not a multiple of the groups", cp->out_c,
                               cp->groups);
    cp->depth_mult = 0;
    if ((e = conv_prep_bias(p, &t, cp)) != TMO_OK)
        return e;
    p->params = cp;
    if (t.in.type == TMO_INT8) {
        if ((e = conv_prep_quant(p, &t, o.activation, 0, cp)) != TMO_OK)
            return e;
        return KERNEL_PICK(conv_s8_setup)(p, cp);
    }
    if (!TMO_FLOAT_KERNELS)
        return prep_no_float(p);
    if ((e = conv_prep_float(p, o.activation, cp)) != TMO_OK)
        return e;
    return KERNEL_PICK(conv_f32_setup)(p, cp);
}
