/*
 * QUANTIZE prepare: float32 -> int8 (affine, per-tensor) and int8 -> int8
 * requantization, with the parameters of TFLite Micro's
 * PrepareQuantizeReference (the effective scale is a double quotient).
 */
#include "elementwise.h"
#include "quant.h"

tmo_err quantize_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    quantize_params *q = prep_alloc(p, sizeof *q);
    if (q == NULL)
        return TMO_ENOSPC;
    if ((e = ew_prepare_io(p, &in, &out, &q->io)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &in, "input", TMO_FLOAT32, TMO_INT8)) != TMO_OK ||
        (e = prep_type(p, &out, "output", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (e = ew_quantized_s8(p, &out, "output")) != TMO_OK)
        return e;
    q->scale = out.scale;
    q->zero_point = out.zero_point;
    p->params = q;
    if (in.type == TMO_FLOAT32) {
        p->invoke = quantize_f32_s8_ref;
        return TMO_OK;
    }
    if ((e = ew_quantized_s8(p, &in, "input")) != TMO_OK)
        return e;
    int shift;
    if (quant_multiplier((double)in.scale / (double)out.scale, &q->multiplier, &shift) != TMO_OK)
        return prep_fail(p, TMO_ERANGE, "quantization", "input/output scale ratio out of range");
    q->shift = shift;
    q->in_zero_point = in.zero_point;
    p->invoke = quantize_s8_s8_ref;
    return TMO_OK;
}
