/*
 * MUL prepare: shapes and broadcasting, then TFLite Micro's
 * CalculateOpDataMul for int8 (one multiplier for in1_scale * in2_scale /
 * out_scale, in double) or the float clamp range.
 */
#include "mul.h"

#include "../tflite/options_types.h"
#include "quant.h"

tmo_err mul_prepare(tmo_prep *p)
{
    tmo_err e;
    bcast_operands ops;
    mul_params *m = prep_alloc(p, sizeof *m);
    if (m == NULL)
        return TMO_ENOSPC;
    if ((e = bcast_prepare_binary(p, OPTIONS_MUL_OPTIONS, &ops, &m->plan)) != TMO_OK)
        return e;
    m->in1 = prep_in_index(p, 0);
    m->in2 = prep_in_index(p, 1);
    m->output = prep_out_index(p, 0);
    p->params = m;
    if (ops.in1.type == TMO_FLOAT32) {
        if ((e = float_activation_range(p, ops.activation, &m->fact_min, &m->fact_max)) != TMO_OK)
            return e;
        p->invoke = mul_f32_ref;
        return TMO_OK;
    }
    if ((e = quant_activation_range(p, ops.activation, &ops.out, &m->act_min, &m->act_max)) !=
        TMO_OK)
        return e;
    double real = (double)ops.in1.scale * (double)ops.in2.scale / (double)ops.out.scale;
    int shift;
    if (quant_multiplier(real, &m->multiplier, &shift) != TMO_OK)
        return prep_fail(p, TMO_ERANGE, "output.quantization", "scale ratio out of range");
    m->shift = shift;
    m->in1_offset = -ops.in1.zero_point;
    m->in2_offset = -ops.in2.zero_point;
    m->out_offset = ops.out.zero_point;
    return KERNEL_PICK(mul_s8_setup)(p, m);
}
