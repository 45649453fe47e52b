/*
 * RELU and RELU6 prepare, as TFLite Micro's activations_common.cc.
 * int8 RELU requantizes from the input to the output scale (multiplier from
 * the double quotient of the scales) and clamps below at the output's zero;
 * int8 RELU6 does not requantize at all: it clamps the input bytes to the
 * input's quantized 0 and 6 and the output reuses them as they are.
 */
#include <math.h>

#include "elementwise.h"
#include "quant.h"

static tmo_err prepare_io(tmo_prep *p, tmo_tensor_info *in, tmo_tensor_info *out, ew_io *io)
{
    tmo_err e;
    if ((e = ew_prepare_io(p, in, out, io)) != TMO_OK ||
        (e = prep_type(p, in, "input", TMO_FLOAT32, TMO_INT8)) != TMO_OK ||
        (e = prep_same_type(p, in, out, "output")) != TMO_OK)
        return e;
    return TMO_OK;
}

tmo_err relu_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    relu_params *r = prep_alloc(p, sizeof *r);
    if (r == NULL)
        return TMO_ENOSPC;
    if ((e = prepare_io(p, &in, &out, &r->io)) != TMO_OK)
        return e;
    p->params = r;
    if (in.type == TMO_FLOAT32) {
        p->invoke = relu_f32_ref;
        return TMO_OK;
    }
    if ((e = ew_quantized_s8(p, &in, "input")) != TMO_OK ||
        (e = ew_quantized_s8(p, &out, "output")) != TMO_OK)
        return e;
    int shift;
    if (quant_multiplier((double)in.scale / (double)out.scale, &r->multiplier, &shift) != TMO_OK)
        return prep_fail(p, TMO_ERANGE, "quantization", "input/output scale ratio out of range");
    r->shift = shift;
    r->in_zero_point = in.zero_point;
    r->out_zero_point = out.zero_point;
    /* zero_point + round(0 / scale): the quantized 0, which the clamp keeps in range */
    r->act_min = fp_max_i32(INT8_MIN, out.zero_point);
    r->act_max = INT8_MAX;
    p->invoke = relu_s8_ref;
    return TMO_OK;
}

/*
 * TFLM's FloatToQuantizedType<int8_t>(6.0f, scale, zero_point): round in
 * float, clamp to int8. Quotients beyond the int32 range (scales below about
 * 3e-9) saturate, as the conversion does on Arm; TFLM's int32 cast is
 * undefined there.
 */
static int8_t quantize_six(float scale, int32_t zero_point)
{
    float q = roundf(6.0f / scale) + (float)zero_point;
    if (!(q > (float)INT8_MIN))
        return INT8_MIN;
    if (q > (float)INT8_MAX)
        return INT8_MAX;
    return (int8_t)q;
}

tmo_err relu6_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    relu6_params *r = prep_alloc(p, sizeof *r);
    if (r == NULL)
        return TMO_ENOSPC;
    if ((e = prepare_io(p, &in, &out, &r->io)) != TMO_OK)
        return e;
    p->params = r;
    if (in.type == TMO_FLOAT32) {
        p->invoke = relu6_f32_ref;
        return TMO_OK;
    }
    if ((e = ew_quantized_s8(p, &in, "input")) != TMO_OK)
        return e;
    r->lo = (int8_t)in.zero_point;
    r->hi = quantize_six(in.scale, in.zero_point);
    p->invoke = relu6_s8_ref;
    return TMO_OK;
}
