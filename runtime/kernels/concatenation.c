/*
 * CONCATENATION: joins inputs along one axis. As in TFLite Micro this is a
 * pure copy: for every index of the dimensions before the axis, each input
 * contributes one contiguous block. TFLM copies int8 bytes without looking
 * at quantization; here int8 inputs must share the output's scale and zero
 * point (what the converter produces), so a model relying on that silent
 * reinterpretation is rejected instead. TFLM rejects fused activations; a
 * float fused activation is applied here after the copy, int8 ones are
 * unsupported.
 */
#include <string.h>

#include "../tflite/options_types.h"
#include "kernel.h"
#include "quant.h"

enum { OPT_AXIS = 0, OPT_ACTIVATION = 1 };

typedef struct concat_params {
    uint16_t output;
    uint16_t inputs[TMO_MAX_OP_IO];
    uint32_t count;
    size_t outer;                    /* product of the dimensions before the axis */
    size_t block[TMO_MAX_OP_IO];     /* bytes each input contributes per outer index */
    size_t out_elements;
    uint8_t clamp;                   /* float fused activation present */
    float fact_min, fact_max;
} concat_params;

static void concat_invoke(const tmo_exec *x, const void *params, void *scratch)
{
    const concat_params *p = params;
    uint8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (size_t k = 0; k < p->outer; k++)
        for (uint32_t i = 0; i < p->count; i++) {
            const uint8_t *in = exec_tensor(x, p->inputs[i]);
            memcpy(out, in + k * p->block[i], p->block[i]);
            out += p->block[i];
        }
    if (p->clamp) {
        float *f = exec_tensor(x, p->output);
        for (size_t j = 0; j < p->out_elements; j++)
            f[j] = clamp_f32(f[j], p->fact_min, p->fact_max);
    }
}

/* The input has the output's rank and dimensions except along the axis. */
static tmo_err check_input(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                           uint32_t axis)
{
    tmo_err e;
    if ((e = prep_same_type(p, out, in, "inputs")) != TMO_OK)
        return e;
    if (in->ndim != out->ndim)
        return prep_fail_value(p, TMO_EBADMODEL, "inputs", "input rank differs from output rank",
                               in->ndim, out->ndim);
    for (uint32_t d = 0; d < out->ndim; d++)
        if (d != axis && in->dims[d] != out->dims[d])
            return prep_fail_value(p, TMO_EBADMODEL, "inputs",
                                   "input dimension off the axis differs from output",
                                   in->dims[d], out->dims[d]);
    if (out->type == TMO_INT8) {
        if ((e = prep_quantized(p, in, "inputs")) != TMO_OK)
            return e;
        if (in->scale != out->scale || in->zero_point != out->zero_point)
            return prep_fail(p, TMO_EUNSUPPORTED, "inputs.quantization",
                             "int8 input quantization differs from the output's");
    }
    return TMO_OK;
}

static tmo_err read_axis(tmo_prep *p, const tmo_tensor_info *out, uint32_t *axis)
{
    int32_t a;
    tmo_err e = prep_opt_i32(p, OPT_AXIS, 0, &a);
    if (e != TMO_OK)
        return e;
    int64_t resolved = a < 0 ? (int64_t)a + out->ndim : a;
    if (resolved < 0 || resolved >= (int64_t)out->ndim)
        return prep_fail_value(p, TMO_EBADMODEL, "axis", "axis outside the output's dimensions", a,
                               -1);
    *axis = (uint32_t)resolved;
    return TMO_OK;
}

static tmo_err set_activation(tmo_prep *p, const tmo_tensor_info *out, concat_params *cp)
{
    uint8_t act;
    tmo_err e = prep_opt_u8(p, OPT_ACTIVATION, ACT_NONE, &act);
    if (e != TMO_OK || act == ACT_NONE)
        return e;
    if (out->type == TMO_INT8)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "fused_activation_function",
                               "fused activation on int8 concatenation not supported", act, -1);
    cp->clamp = 1;
    return float_activation_range(p, (int8_t)act, &cp->fact_min, &cp->fact_max);
}

tmo_err concat_prepare(tmo_prep *p)
{
    tmo_tensor_info out, in;
    uint32_t axis = 0;
    tmo_err e;
    if ((e = prep_io_count(p, 1, TMO_MAX_OP_IO, 1)) != TMO_OK ||
        (e = prep_options(p, OPTIONS_CONCATENATION_OPTIONS)) != TMO_OK ||
        (e = prep_output(p, 0, &out)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &out, "output", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = read_axis(p, &out, &axis)) != TMO_OK)
        return e;
    if (out.type == TMO_INT8 && (e = prep_quantized(p, &out, "output")) != TMO_OK)
        return e;
    concat_params *cp = prep_alloc(p, sizeof *cp);
    if (cp == NULL)
        return TMO_ENOSPC;
    if ((e = set_activation(p, &out, cp)) != TMO_OK)
        return e;
    size_t inner = tmo_type_size(out.type);
    cp->outer = 1;
    for (uint32_t d = 0; d < axis; d++)
        cp->outer *= (size_t)out.dims[d];
    for (uint32_t d = axis + 1; d < out.ndim; d++)
        inner *= (size_t)out.dims[d];
    int64_t axis_total = 0;
    for (uint32_t i = 0; i < p->op->input_count; i++) {
        if ((e = prep_input(p, i, &in)) != TMO_OK || (e = check_input(p, &in, &out, axis)) != TMO_OK)
            return e;
        cp->inputs[i] = prep_in_index(p, i);
        cp->block[i] = (size_t)in.dims[axis] * inner;
        axis_total += in.dims[axis];
    }
    if (axis_total != out.dims[axis])
        return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                               "output size along the axis differs from the inputs' sum",
                               out.dims[axis], axis_total);
    cp->count = p->op->input_count;
    cp->output = prep_out_index(p, 0);
    cp->out_elements = out.elements;
    p->params = cp;
    p->invoke = concat_invoke;
    return TMO_OK;
}
