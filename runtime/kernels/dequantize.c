/*
 * DEQUANTIZE prepare: int8 (per-tensor) -> float32, as TFLite Micro's
 * DequantizePrepare (the scale is kept as the double the reference multiplies by).
 */
#include "elementwise.h"

tmo_err dequantize_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    dequantize_params *d = prep_alloc(p, sizeof *d);
    if (d == NULL)
        return TMO_ENOSPC;
    if ((e = ew_prepare_io(p, &in, &out, &d->io)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (e = prep_type(p, &out, "output", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK ||
        (e = ew_quantized_s8(p, &in, "input")) != TMO_OK)
        return e;
    d->scale = (double)in.scale;
    d->zero_point = in.zero_point;
    p->params = d;
    p->invoke = dequantize_s8_f32_ref;
    return TMO_OK;
}
