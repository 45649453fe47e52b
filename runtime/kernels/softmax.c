/*
 * SOFTMAX prepare: checks shapes and types and computes, for int8, the
 * input scaling of TFLite Micro's CalculateSoftmaxParams: beta * input_scale
 * as a Q5.26 multiplier (PreprocessSoftmaxScaling, in double) and the
 * smallest input difference whose exp() still counts (CalculateInputRadius).
 * TFLM requires the int8 output to be scale 1/256, zero point -128.
 */
#include "softmax.h"

#include <math.h>

#include "../tflite/options_types.h"
#include "quant.h"

enum { OPT_BETA = 0 };
enum { SCALED_DIFF_INTEGER_BITS = 5 };

static tmo_err check_shapes(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                            softmax_params *sp)
{
    if (in->ndim == 0)
        return prep_fail(p, TMO_EBADMODEL, "input", "softmax input needs at least one dimension");
    if (out->ndim != in->ndim || out->dims[out->ndim - 1] != in->dims[in->ndim - 1] ||
        out->elements != in->elements)
        return prep_fail(p, TMO_EBADMODEL, "output", "output shape differs from input shape");
    if (in->elements > INT32_MAX)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "input", "tensor too large",
                               (int64_t)in->elements, INT32_MAX);
    sp->depth = in->dims[in->ndim - 1];
    sp->rows = sp->depth > 0 ? (int32_t)(in->elements / (size_t)sp->depth) : 0;
    return TMO_OK;
}

static tmo_err prepare_s8(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                          float beta, softmax_params *sp)
{
    tmo_err e;
    if ((e = prep_type(p, out, "output", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (e = prep_quantized(p, in, "input")) != TMO_OK ||
        (e = prep_quantized(p, out, "output")) != TMO_OK)
        return e;
    if (out->zero_point != -128)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "output.quantization.zero_point",
                               "int8 softmax output must have zero point -128", out->zero_point,
                               -1);
    if (out->scale != 1.0f / 256.0f)
        return prep_fail(p, TMO_EUNSUPPORTED, "output.quantization.scale",
                         "int8 softmax output must have scale 1/256");
    /* TFLM PreprocessSoftmaxScaling: double arithmetic, capped below 2^31. */
    double real = (double)beta * (double)in->scale * (double)(1 << (31 - SCALED_DIFF_INTEGER_BITS));
    const double max_real = 2147483647.0;
    if (real > max_real)
        real = max_real;
    if (!(real > 1.0))
        return prep_fail(p, TMO_ERANGE, "beta",
                         "beta times input scale is too small (or not a number) for int8 softmax");
    int shift;
    if (quant_multiplier(real, &sp->input_multiplier, &shift) != TMO_OK)
        return prep_fail(p, TMO_ERANGE, "beta", "input multiplier out of range");
    sp->input_left_shift = shift;
    /* TFLM CalculateInputRadius(5, shift, 31), negated. */
    double radius = floor(31.0 * (double)(1ll << (31 - SCALED_DIFF_INTEGER_BITS)) /
                          (double)(1ll << shift));
    sp->diff_min = -(int32_t)radius;
    p->invoke = softmax_s8_ref;
    return TMO_OK;
}

tmo_err softmax_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    float beta;
    tmo_err e;
    if ((e = prep_io_count(p, 1, 1, 1)) != TMO_OK ||
        (e = prep_options(p, OPTIONS_SOFTMAX_OPTIONS)) != TMO_OK ||
        (e = prep_input(p, 0, &in)) != TMO_OK || (e = prep_output(p, 0, &out)) != TMO_OK ||
        (e = prep_opt_f32(p, OPT_BETA, 0.0f, &beta)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK)
        return e;
    softmax_params *sp = prep_alloc(p, sizeof *sp);
    if (sp == NULL)
        return TMO_ENOSPC;
    if ((e = check_shapes(p, &in, &out, sp)) != TMO_OK)
        return e;
    sp->input = prep_in_index(p, 0);
    sp->output = prep_out_index(p, 0);
    p->params = sp;
    if (in.type == TMO_INT8)
        return prepare_s8(p, &in, &out, beta, sp);
    if (!TMO_FLOAT_KERNELS)
        return prep_no_float(p);
    if ((e = prep_type(p, &out, "output", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK)
        return e;
    sp->beta = beta;
    p->invoke = softmax_f32_ref;
    return TMO_OK;
}
