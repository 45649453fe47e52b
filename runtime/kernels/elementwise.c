/*
 * Prepare-time checks shared by the unary elementwise operators.
 */
#include "elementwise.h"

#include <math.h>

tmo_err ew_prepare_io(tmo_prep *p, tmo_tensor_info *in, tmo_tensor_info *out, ew_io *io)
{
    tmo_err e;
    if ((e = prep_io_count(p, 1, 1, 1)) != TMO_OK || (e = prep_input(p, 0, in)) != TMO_OK ||
        (e = prep_output(p, 0, out)) != TMO_OK)
        return e;
    if (in->elements != out->elements)
        return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                               "output element count differs from the input's",
                               (int64_t)out->elements, (int64_t)in->elements);
    if (in->elements > UINT32_MAX)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "input", "tensor has too many elements",
                               (int64_t)in->elements, UINT32_MAX);
    io->input = prep_in_index(p, 0);
    io->output = prep_out_index(p, 0);
    io->count = (uint32_t)in->elements;
    return TMO_OK;
}

tmo_err ew_quantized_s8(tmo_prep *p, const tmo_tensor_info *t, const char *which)
{
    tmo_err e = prep_quantized(p, t, which);
    if (e != TMO_OK)
        return e;
    if (t->scale_count != 1)
        return prep_fail_value(p, TMO_EUNSUPPORTED, which,
                               "per-channel quantization is not supported by this operator",
                               t->scale_count, 1);
    if (t->zero_point < INT8_MIN || t->zero_point > INT8_MAX)
        return prep_fail_value(p, TMO_EBADMODEL, which, "int8 zero point out of range",
                               t->zero_point, -1);
    return TMO_OK;
}

tmo_err ew_sigmoid_input(tmo_prep *p, const tmo_tensor_info *in, sigmoid_params *sp)
{
    enum { INPUT_INTEGER_BITS = 4 };
    double real = (double)in->scale * (double)(1 << (31 - INPUT_INTEGER_BITS));
    int shift;
    double q = frexp(real, &shift);
    /* TFLM computes the radius with 1 << shift: defined only for shifts from 0
     * up, i.e. input scales of at least 2^-28 (far below any real model). */
    if (shift < 0)
        return prep_fail(p, TMO_ERANGE, "input.quantization",
                         "input scale too small for the fixed-point kernel (below 2^-28)");
    /* q < 1 - 2^-24 for any float scale, so the rounded value stays below 2^31. */
    sp->multiplier = (int32_t)round(q * 2147483648.0);
    sp->shift = shift;
    sp->zero_point = in->zero_point;
    /* floor(15 * 2^27 / 2^shift): exact in double, 0 for shifts past 30, which
     * sends every input to the saturated ends without reaching the multiply. */
    double radius =
        floor(ldexp((double)((1 << INPUT_INTEGER_BITS) - 1) * (double)(1 << 27), -shift));
    sp->radius = (int32_t)radius;
    return TMO_OK;
}
