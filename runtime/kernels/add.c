/*
 * ADD prepare: shapes and broadcasting, then TFLite Micro's
 * CalculateOpDataAdd for int8 (left shift 20, multipliers relative to twice
 * the larger input scale, all computed in double) or the float clamp range.
 */
#include "add.h"

#include "../tflite/options_types.h"
#include "quant.h"

enum { ADD_LEFT_SHIFT = 20 };

/* TFLM QuantizeMultiplierSmallerThanOneExp: only multipliers in (0, 1), right shifts. */
static tmo_err smaller_than_one(tmo_prep *p, double real, const char *which, int32_t *multiplier,
                                int32_t *shift)
{
    int s;
    if (!(real > 0.0 && real < 1.0) || quant_multiplier(real, multiplier, &s) != TMO_OK || s > 0)
        return prep_fail(p, TMO_ERANGE, which,
                         "scale ratio must be below 1 (output scale too small for the inputs)");
    *shift = s;
    return TMO_OK;
}

static tmo_err prepare_s8(tmo_prep *p, const bcast_operands *ops, add_params *a)
{
    tmo_err e;
    float max_scale = ops->in1.scale > ops->in2.scale ? ops->in1.scale : ops->in2.scale;
    double twice_max = 2.0 * (double)max_scale;
    double real1 = (double)ops->in1.scale / twice_max;
    double real2 = (double)ops->in2.scale / twice_max;
    double real_out = twice_max / ((double)(1 << ADD_LEFT_SHIFT) * (double)ops->out.scale);
    if ((e = smaller_than_one(p, real1, "input1.quantization", &a->in1_multiplier,
                              &a->in1_shift)) != TMO_OK ||
        (e = smaller_than_one(p, real2, "input2.quantization", &a->in2_multiplier,
                              &a->in2_shift)) != TMO_OK ||
        (e = smaller_than_one(p, real_out, "output.quantization", &a->out_multiplier,
                              &a->out_shift)) != TMO_OK)
        return e;
    a->in1_offset = -ops->in1.zero_point;
    a->in2_offset = -ops->in2.zero_point;
    a->out_offset = ops->out.zero_point;
    a->left_shift = ADD_LEFT_SHIFT;
    if ((e = quant_activation_range(p, ops->activation, &ops->out, &a->act_min, &a->act_max)) !=
        TMO_OK)
        return e;
    return KERNEL_PICK(add_s8_setup)(p, a, ops->out.elements);
}

tmo_err add_prepare(tmo_prep *p)
{
    tmo_err e;
    bcast_operands ops;
    add_params *a = prep_alloc(p, sizeof *a);
    if (a == NULL)
        return TMO_ENOSPC;
    if ((e = bcast_prepare_binary(p, OPTIONS_ADD_OPTIONS, &ops, &a->plan)) != TMO_OK)
        return e;
    a->in1 = prep_in_index(p, 0);
    a->in2 = prep_in_index(p, 1);
    a->output = prep_out_index(p, 0);
    p->params = a;
    if (ops.in1.type == TMO_INT8)
        return prepare_s8(p, &ops, a);
    if ((e = float_activation_range(p, ops.activation, &a->fact_min, &a->fact_max)) != TMO_OK)
        return e;
    p->invoke = add_f32_ref;
    return TMO_OK;
}
