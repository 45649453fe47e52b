/*
 * PAD and PADV2, as TFLite Micro's pad.cc: constant int32 paddings [rank, 2]
 * (before, after) for an input of up to 5 dimensions; the fill is the output
 * zero point for int8 PAD, 0.0 for float PAD, and PADV2's scalar
 * constant_values input (int8: same quantization as the output, TFLM's
 * check). Paddings must be non-negative and match the declared output shape.
 * int64 paddings are rejected: TFLM would read them as int32.
 */
#include <string.h>

#include "../tflite/options_types.h"
#include "kernel.h"

enum { BUILTIN_PADV2 = 60, PAD_MAX_DIMS = 5 };
#define NO_VALUE_TENSOR 0xffffu

typedef struct pad_params {
    uint16_t input, output, value; /* value = NO_VALUE_TENSOR for PAD */
    uint8_t elem_size;              /* 1 (int8) or 4 (float32) */
    int8_t zero_fill;               /* PAD's int8 fill (output zero point) */
    /* Shapes extended to 5 dimensions with leading 1s, as TFLM's PadImpl. */
    int32_t out_dims[PAD_MAX_DIMS];
    int32_t before[PAD_MAX_DIMS], after[PAD_MAX_DIMS];
} pad_params;

static void fill(uint8_t *dst, const uint8_t *value, size_t elem_size, size_t n)
{
    if (elem_size == 1) {
        memset(dst, value[0], n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * elem_size, value, elem_size);
}

static int in_padding(const pad_params *p, const int32_t *idx)
{
    for (int d = 0; d < PAD_MAX_DIMS - 1; d++)
        if (idx[d] < p->before[d] || idx[d] >= p->out_dims[d] - p->after[d])
            return 1;
    return 0;
}

/* Walks the output in order; rows (the last dimension) are filled or copied whole. */
static void pad_invoke(const tmo_exec *x, const void *params, void *scratch)
{
    const pad_params *p = params;
    const uint8_t *in = exec_tensor(x, p->input);
    uint8_t *out = exec_tensor(x, p->output);
    uint8_t value[4] = {0, 0, 0, 0};
    size_t es = p->elem_size;
    (void)scratch;
    if (p->value != NO_VALUE_TENSOR)
        memcpy(value, exec_tensor(x, p->value), es);
    else if (es == 1)
        value[0] = (uint8_t)p->zero_fill;
    const int last = PAD_MAX_DIMS - 1;
    size_t row = (size_t)p->out_dims[last];
    size_t row_in = row - (size_t)p->before[last] - (size_t)p->after[last];
    int32_t idx[PAD_MAX_DIMS - 1] = {0, 0, 0, 0};
    for (;;) {
        if (in_padding(p, idx)) {
            fill(out, value, es, row);
        } else {
            fill(out, value, es, (size_t)p->before[last]);
            memcpy(out + (size_t)p->before[last] * es, in, row_in * es);
            fill(out + ((size_t)p->before[last] + row_in) * es, value, es,
                 (size_t)p->after[last]);
            in += row_in * es;
        }
        out += row * es;
        int d = last - 1;
        while (d >= 0 && ++idx[d] >= p->out_dims[d])
            idx[d--] = 0;
        if (d < 0)
            return;
    }
}

static tmo_err check_value(tmo_prep *p, const tmo_tensor_info *value, const tmo_tensor_info *out)
{
    tmo_err e;
    if ((e = prep_same_type(p, out, value, "constant_values")) != TMO_OK)
        return e;
    if (value->elements != 1)
        return prep_fail_value(p, TMO_EBADMODEL, "constant_values",
                               "pad value must be a single element", (int64_t)value->elements, 1);
    if (out->type == TMO_INT8 &&
        (value->zero_point != out->zero_point || value->scale != out->scale))
        return prep_fail(p, TMO_EBADMODEL, "constant_values.quantization",
                         "pad value quantization differs from the output's");
    return TMO_OK;
}

/* Reads the paddings and checks them against the input and output shapes. */
static tmo_err read_paddings(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                             const tmo_tensor_info *pads, pad_params *pp)
{
    tmo_err e;
    if ((e = prep_type(p, pads, "paddings", TMO_INT32, TMO_INT32)) != TMO_OK)
        return e;
    if (pads->data == NULL)
        return prep_fail(p, TMO_EUNSUPPORTED, "paddings", "paddings tensor must be constant");
    if (pads->elements != 2u * in->ndim)
        return prep_fail_value(p, TMO_EBADMODEL, "paddings",
                               "paddings must hold a (before, after) pair per dimension",
                               (int64_t)pads->elements, 2 * (int64_t)in->ndim);
    const uint8_t *le = pads->data;
    uint32_t lead = PAD_MAX_DIMS - in->ndim;
    for (uint32_t d = 0; d < PAD_MAX_DIMS; d++) {
        pp->out_dims[d] = 1;
        pp->before[d] = pp->after[d] = 0;
    }
    for (uint32_t d = 0; d < in->ndim; d++) {
        int32_t v[2];
        for (int k = 0; k < 2; k++) {
            const uint8_t *b = le + 4 * (2 * d + (uint32_t)k);
            v[k] = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24);
            if (v[k] < 0)
                return prep_fail_value(p, TMO_EUNSUPPORTED, "paddings",
                                       "negative padding not supported", v[k], -1);
        }
        if ((int64_t)in->dims[d] + v[0] + v[1] != out->dims[d])
            return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                                   "output dimension differs from input plus paddings",
                                   out->dims[d], (int64_t)in->dims[d] + v[0] + v[1]);
        pp->before[lead + d] = v[0];
        pp->after[lead + d] = v[1];
        pp->out_dims[lead + d] = out->dims[d];
    }
    return TMO_OK;
}

tmo_err pad_prepare(tmo_prep *p)
{
    tmo_tensor_info in, pads, value, out;
    int has_value = 0;
    tmo_err e;
    int v2 = p->op->builtin == BUILTIN_PADV2;
    if ((e = prep_io_count(p, 2, v2 ? 3 : 2, 1)) != TMO_OK ||
        (e = prep_options(p, v2 ? OPTIONS_PADV2_OPTIONS : OPTIONS_PAD_OPTIONS)) != TMO_OK ||
        (e = prep_input(p, 0, &in)) != TMO_OK || (e = prep_input(p, 1, &pads)) != TMO_OK ||
        (e = prep_input_opt(p, 2, &value, &has_value)) != TMO_OK ||
        (e = prep_output(p, 0, &out)) != TMO_OK)
        return e;
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_same_type(p, &in, &out, "output")) != TMO_OK)
        return e;
    if (in.ndim == 0 || in.ndim > PAD_MAX_DIMS)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "input", "pad supports 1 to 5 dimensions",
                               in.ndim, PAD_MAX_DIMS);
    if (out.ndim != in.ndim)
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output rank differs from input rank",
                               out.ndim, in.ndim);
    if (has_value && (e = check_value(p, &value, &out)) != TMO_OK)
        return e;
    if (in.type == TMO_INT8 && !has_value) {
        if ((e = prep_quantized(p, &out, "output")) != TMO_OK)
            return e;
        if (out.zero_point < -128 || out.zero_point > 127)
            return prep_fail_value(p, TMO_EBADMODEL, "output.quantization.zero_point",
                                   "int8 zero point outside [-128, 127]", out.zero_point, -1);
    }
    pad_params *pp = prep_alloc(p, sizeof *pp);
    if (pp == NULL)
        return TMO_ENOSPC;
    if ((e = read_paddings(p, &in, &out, &pads, pp)) != TMO_OK)
        return e;
    pp->input = prep_in_index(p, 0);
    pp->output = prep_out_index(p, 0);
    pp->value = has_value ? prep_in_index(p, 2) : NO_VALUE_TENSOR;
    pp->elem_size = (uint8_t)tmo_type_size(in.type);
    pp->zero_fill = in.type == TMO_INT8 && !has_value ? (int8_t)out.zero_point : 0;
    p->params = pp;
    p->invoke = pad_invoke;
    return TMO_OK;
}
