/*
 * LOGISTIC prepare, as TFLite Micro's CalculateArithmeticOpDataLogistic:
 * float32 runs the reference formula; int8 runs the gemmlowp fixed-point
 * kernel, which assumes an output zero point of -128 (TFLM checks that, and
 * only that: the output scale is taken to be 1/256 without a check).
 */
#include "elementwise.h"

tmo_err logistic_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    sigmoid_params *sp = prep_alloc(p, sizeof *sp);
    if (sp == NULL)
        return TMO_ENOSPC;
    if ((e = ew_prepare_io(p, &in, &out, &sp->io)) != TMO_OK ||
        (e = prep_type(p, &in, "input", TMO_FLOAT32, TMO_INT8)) != TMO_OK ||
        (e = prep_same_type(p, &in, &out, "output")) != TMO_OK)
        return e;
    p->params = sp;
    if (in.type == TMO_FLOAT32) {
        p->invoke = logistic_f32_ref;
        return TMO_OK;
    }
    if ((e = ew_quantized_s8(p, &in, "input")) != TMO_OK)
        return e;
    if (out.zero_point != INT8_MIN)
        return prep_fail_value(p, TMO_EBADMODEL, "output.quantization",
                               "int8 LOGISTIC needs an output zero point of -128", out.zero_point,
                               INT8_MIN);
    if ((e = ew_sigmoid_input(p, &in, sp)) != TMO_OK)
        return e;
    p->invoke = KERNEL_PICK(logistic_s8);
    /* Only the optimized variant builds a table; a reference build needs no scratch. */
    sp->use_table = p->invoke == logistic_s8_opt && sp->io.count >= EW_TABLE_MIN_COUNT;
    p->scratch_bytes = sp->use_table ? 256 : 0;
    return TMO_OK;
}
