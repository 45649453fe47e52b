/*
 * AVERAGE_POOL_2D and MAX_POOL_2D prepare, as TFLite Micro's PoolingPrepare:
 * output size and implicit padding from the padding mode (TFLM
 * ComputePaddingHeightWidth with dilation 1), int8 input and output with
 * the same quantization, and the fused activation range. Unlike TFLM, the
 * output shape the model declares must equal the computed one.
 */
#include <math.h>

#include "../tflite/options_types.h"
#include "padding.h"
#include "pooling.h"
#include "quant.h"

enum {
    OPT_PADDING = 0,
    OPT_STRIDE_W = 1,
    OPT_STRIDE_H = 2,
    OPT_FILTER_W = 3,
    OPT_FILTER_H = 4,
    OPT_ACTIVATION = 5
};

typedef struct pool_options {
    uint8_t padding;
    int32_t stride_w, stride_h, filter_w, filter_h;
    int32_t activation;
} pool_options;

static tmo_err read_options(tmo_prep *p, pool_options *o)
{
    uint8_t act;
    tmo_err e;
    if ((e = prep_options(p, OPTIONS_POOL2D_OPTIONS)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_PADDING, PAD_SAME, &o->padding)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_W, 0, &o->stride_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_H, 0, &o->stride_h)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_FILTER_W, 0, &o->filter_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_FILTER_H, 0, &o->filter_h)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_ACTIVATION, ACT_NONE, &act)) != TMO_OK)
        return e;
    o->activation = (int8_t)act;
    if (o->padding != PAD_SAME && o->padding != PAD_VALID)
        return prep_fail_value(p, TMO_EBADMODEL, "padding", "unknown padding mode", o->padding, -1);
    if (o->stride_w < 1)
        return prep_fail_value(p, TMO_EBADMODEL, "stride_w", "stride must be positive", o->stride_w,
                               -1);
    if (o->stride_h < 1)
        return prep_fail_value(p, TMO_EBADMODEL, "stride_h", "stride must be positive", o->stride_h,
                               -1);
    if (o->filter_w < 1)
        return prep_fail_value(p, TMO_EBADMODEL, "filter_width", "filter size must be positive",
                               o->filter_w, -1);
    if (o->filter_h < 1)
        return prep_fail_value(p, TMO_EBADMODEL, "filter_height", "filter size must be positive",
                               o->filter_h, -1);
    return TMO_OK;
}

/*
 * Output size and leading padding of one spatial dimension (dilation 1);
 * fails when the values would not fit the int arithmetic of the invoke loops.
 */
static tmo_err spatial(tmo_prep *p, const char *field, uint8_t padding, int32_t in, int32_t filter,
                       int32_t stride, int32_t declared_out, int32_t *pad)
{
    int64_t out = pad_out_size(padding, in, filter, stride, 1);
    if (out != declared_out)
        return prep_fail_value(p, TMO_EBADMODEL, field,
                               "output size differs from the one the padding mode gives",
                               declared_out, -1);
    *pad = (int32_t)pad_before(in, filter, stride, 1, out); /* <= filter / 2 */
    if ((int64_t)in + filter + stride + *pad > INT32_MAX)
        return prep_fail(p, TMO_EUNSUPPORTED, field, "filter, stride or size too large");
    return TMO_OK;
}

static tmo_err check_shapes(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                            const pool_options *o, pool_params *pp)
{
    tmo_err e;
    if (in->ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "input", "pooling input must be 4-D (NHWC)",
                               in->ndim, -1);
    if (out->ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "output", "pooling output must be 4-D (NHWC)",
                               out->ndim, -1);
    if (out->dims[0] != in->dims[0])
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output batch differs from input",
                               out->dims[0], in->dims[0]);
    if (out->dims[3] != in->dims[3])
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output depth differs from input",
                               out->dims[3], in->dims[3]);
    pp->batches = in->dims[0];
    pp->in_h = in->dims[1];
    pp->in_w = in->dims[2];
    pp->depth = in->dims[3];
    pp->out_h = out->dims[1];
    pp->out_w = out->dims[2];
    pp->stride_h = o->stride_h;
    pp->stride_w = o->stride_w;
    pp->filter_h = o->filter_h;
    pp->filter_w = o->filter_w;
    if ((e = spatial(p, "output.height", o->padding, pp->in_h, o->filter_h, o->stride_h, pp->out_h,
                     &pp->pad_h)) != TMO_OK ||
        (e = spatial(p, "output.width", o->padding, pp->in_w, o->filter_w, o->stride_w, pp->out_w,
                     &pp->pad_w)) != TMO_OK)
        return e;
    return TMO_OK;
}

static tmo_err check_quantization(tmo_prep *p, const tmo_tensor_info *in,
                                  const tmo_tensor_info *out)
{
    tmo_err e;
    if ((e = prep_quantized(p, in, "input")) != TMO_OK ||
        (e = prep_quantized(p, out, "output")) != TMO_OK)
        return e;
    /* TFLM PoolingPrepare: scales within 1e-6 (in double), equal zero points. */
    if (fabs((double)in->scale - (double)out->scale) > 1.0e-6)
        return prep_fail(p, TMO_EBADMODEL, "output.quantization.scale",
                         "pooling output scale differs from input scale");
    if (in->zero_point < -128 || in->zero_point > 127)
        return prep_fail_value(p, TMO_EBADMODEL, "input.quantization.zero_point",
                               "int8 zero point outside [-128, 127]", in->zero_point, -1);
    if (in->zero_point != out->zero_point)
        return prep_fail_value(p, TMO_EBADMODEL, "output.quantization.zero_point",
                               "pooling output zero point differs from input", out->zero_point, -1);
    return TMO_OK;
}

static tmo_err pool_prepare(tmo_prep *p, pool_setup_fn s8, tmo_invoke_fn f32)
{
    tmo_tensor_info in, out;
    pool_options o;
    tmo_err e;
    if ((e = prep_io_count(p, 1, 1, 1)) != TMO_OK || (e = prep_input(p, 0, &in)) != TMO_OK ||
        (e = prep_output(p, 0, &out)) != TMO_OK || (e = read_options(p, &o)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_same_type(p, &in, &out, "output")) != TMO_OK)
        return e;
    pool_params *pp = prep_alloc(p, sizeof *pp);
    if (pp == NULL)
        return TMO_ENOSPC;
    if ((e = check_shapes(p, &in, &out, &o, pp)) != TMO_OK)
        return e;
    pp->input = prep_in_index(p, 0);
    pp->output = prep_out_index(p, 0);
    p->params = pp;
    if (in.type == TMO_INT8) {
        if ((e = check_quantization(p, &in, &out)) != TMO_OK ||
            (e = quant_activation_range(p, o.activation, &out, &pp->act_min, &pp->act_max)) !=
                TMO_OK)
            return e;
        return s8(p, pp);
    }
    if (!TMO_FLOAT_KERNELS)
        return prep_no_float(p);
    if ((e = float_activation_range(p, o.activation, &pp->fact_min, &pp->fact_max)) != TMO_OK)
        return e;
    p->invoke = f32;
    return TMO_OK;
}

tmo_err avgpool_prepare(tmo_prep *p)
{
    return pool_prepare(p, KERNEL_PICK(avgpool_s8_setup),
                        TMO_FLOAT_KERNELS ? avgpool_f32_ref : NULL);
}

tmo_err maxpool_prepare(tmo_prep *p)
{
    return pool_prepare(p, KERNEL_PICK(maxpool_s8_setup),
                        TMO_FLOAT_KERNELS ? maxpool_f32_ref : NULL);
}
