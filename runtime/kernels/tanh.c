/*
 * TANH prepare, as TFLite Micro's tanh CalculateArithmeticOpData: float32
 * runs std::tanh; int8 runs the gemmlowp fixed-point kernel, whose output is
 * in scale 1/128 with zero point 0. TFLM checks nothing about the output's
 * quantization here, so neither do we (the kernel's output is the same bytes
 * whatever the model claims).
 */
#include "elementwise.h"

tmo_err tanh_prepare(tmo_prep *p)
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
        p->invoke = tanh_f32_ref;
        return TMO_OK;
    }
    if ((e = ew_quantized_s8(p, &in, "input")) != TMO_OK ||
        (e = ew_sigmoid_input(p, &in, sp)) != TMO_OK)
        return e;
    p->invoke = KERNEL_PICK(tanh_s8);
    /* Only the optimized variant builds a table; a reference build needs no scratch. */
    sp->use_table = p->invoke == tanh_s8_opt && sp->io.count >= EW_TABLE_MIN_COUNT;
    p->scratch_bytes = sp->use_table ? 256 : 0;
    return TMO_OK;
}
