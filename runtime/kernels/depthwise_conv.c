/*
 * DEPTHWISE_CONV_2D prepare: the CONV_2D steps (conv.c) plus what is
 * particular to depthwise filters [1][k_h][k_w][out_c], quantized along
 * dimension 3, with out_c = in_c * depth_multiplier.
 */
#include "depthwise_conv.h"

#include "../tflite/options_types.h"
#include "quant.h"

/* DepthwiseConv2DOptions field ids (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_DEPTH_MULTIPLIER = 3,
       OPT_ACTIVATION = 4, OPT_DILATION_W = 5, OPT_DILATION_H = 6 };

static tmo_err read_options(tmo_prep *p, conv_options *o)
{
    uint8_t act8;
    tmo_err e;
    if ((e = prep_options(p, OPTIONS_DEPTHWISE_CONV2D_OPTIONS)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_PADDING, PAD_SAME, &o->padding)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_W, 0, &o->stride_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_STRIDE_H, 0, &o->stride_h)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_DEPTH_MULTIPLIER, 0, &o->depth_mult)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_ACTIVATION, 0, &act8)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_DILATION_W, 1, &o->dil_w)) != TMO_OK ||
        (e = prep_opt_i32(p, OPT_DILATION_H, 1, &o->dil_h)) != TMO_OK)
        return e;
    o->activation = (int8_t)act8;
    return TMO_OK;
}

static tmo_err check_filter(tmo_prep *p, const conv_tensors *t, const conv_options *o,
                            conv_params *cp)
{
    const tmo_tensor_info *f = &t->filter;
    if (f->ndim != 4)
        return prep_fail_value(p, TMO_EBADMODEL, "filter", "filter must be 4-D (1HWO)", f->ndim,
                               -1);
    if (f->dims[0] != 1)
        return prep_fail_value(p, TMO_EBADMODEL, "filter", "first filter dimension must be 1",
                               f->dims[0], 1);
    cp->k_h = f->dims[1];
    cp->k_w = f->dims[2];
    cp->k_c = 1;
    if (t->out.ndim == 4 && f->dims[3] != t->out.dims[3])
        return prep_fail_value(p, TMO_EBADMODEL, "filter",
                               "filter depth differs from output channels", f->dims[3],
                               t->out.dims[3]);
    /* The option is redundant with the shapes; TFLite checks that they agree, and so do we. */
    if (t->in.ndim == 4 &&
        (o->depth_mult <= 0 || (int64_t)o->depth_mult * t->in.dims[3] != f->dims[3]))
        return prep_fail_value(p, TMO_EBADMODEL, "depth_multiplier",
                               "depth multiplier times input depth differs from filter depth",
                               o->depth_mult, -1);
    return TMO_OK;
}

tmo_err dwconv_prepare(tmo_prep *p)
{
    conv_tensors t;
    conv_options o;
    tmo_err e;
    conv_params *cp = prep_alloc(p, sizeof *cp);
    if (cp == NULL)
        return TMO_ENOSPC;
    if ((e = conv_prep_tensors(p, &t, cp)) != TMO_OK || (e = read_options(p, &o)) != TMO_OK ||
        (e = conv_prep_types(p, &t)) != TMO_OK || (e = check_filter(p, &t, &o, cp)) != TMO_OK ||
        (e = conv_prep_spatial(p, &o, &t, cp)) != TMO_OK || (e = conv_prep_bias(p, &t, cp)) != TMO_OK)
        return e;
    cp->groups = cp->in_c;
    cp->depth_mult = o.depth_mult;
    p->params = cp;
    if (t.in.type == TMO_INT8) {
        if ((e = conv_prep_quant(p, &t, o.activation, 3, cp)) != TMO_OK)
            return e;
        return KERNEL_PICK(dwconv_s8_setup)(p, cp);
    }
    if (!TMO_FLOAT_KERNELS)
        return prep_no_float(p);
    if ((e = conv_prep_float(p, o.activation, cp)) != TMO_OK)
        return e;
    return KERNEL_PICK(dwconv_f32_setup)(p, cp);
}
