/*
 * MEAN (reduce), as TFLite Micro's reduce_common.cc EvalMean:
 *  - float: sum of each output's inputs in input order, divided by the
 *    count (TFLM's 4-D mean over H and W is a separate loop with the same
 *    order and the same division, so it needs no separate path);
 *  - int8 with identical input and output quantization: int32 sum of the
 *    raw values divided by the count with C's truncating division
 *    (reference_ops::Mean<int8_t, int32_t>);
 *  - int8 otherwise: QuantizedMeanOrSum, the zero-point-corrected sum times
 *    input_scale / output_scale with 1/count folded into the multiplier.
 * The axis tensor must be constant. Unlike TFLM, whose fixed buffers hold
 * two reduced axes and five dimensions, any number of axes and up to
 * TMO_MAX_DIMS dimensions are reduced correctly.
 */
#include "../tflite/options_types.h"
#include "fixedpoint.h"
#include "kernel.h"
#include "quant.h"

enum { OPT_KEEP_DIMS = 0 };

typedef struct mean_params {
    uint16_t input, output;
    uint32_t kept_n, reduced_n;
    int32_t kept_dims[TMO_MAX_DIMS], reduced_dims[TMO_MAX_DIMS];
    size_t kept_stride[TMO_MAX_DIMS], reduced_stride[TMO_MAX_DIMS]; /* in input elements */
    size_t count;       /* input elements per output element */
    /* int8 requantizing path */
    int32_t multiplier; /* input_scale / output_scale / count */
    int32_t shift;
    int32_t input_zp, output_zp;
} mean_params;

/* Advances a row-major multi-index; returns 0 after the last one. */
static int next_index(int32_t *idx, const int32_t *dims, uint32_t n)
{
    for (uint32_t d = n; d-- > 0;) {
        if (++idx[d] < dims[d])
            return 1;
        idx[d] = 0;
    }
    return 0;
}

static size_t index_offset(const int32_t *idx, const size_t *stride, uint32_t n)
{
    size_t off = 0;
    for (uint32_t d = 0; d < n; d++)
        off += (size_t)idx[d] * stride[d];
    return off;
}

static float sum_f32(const mean_params *p, const float *in)
{
    int32_t r[TMO_MAX_DIMS] = {0};
    float sum = 0.0f;
    do
        sum += in[index_offset(r, p->reduced_stride, p->reduced_n)];
    while (next_index(r, p->reduced_dims, p->reduced_n));
    return sum;
}

/* int32 sum of raw values, wrapping like TFLM's int32 accumulator would. */
static int32_t sum_s8(const mean_params *p, const int8_t *in)
{
    int32_t r[TMO_MAX_DIMS] = {0};
    uint32_t sum = 0;
    do
        sum += (uint32_t)(int32_t)in[index_offset(r, p->reduced_stride, p->reduced_n)];
    while (next_index(r, p->reduced_dims, p->reduced_n));
    return (int32_t)sum;
}

static void mean_f32(const tmo_exec *x, const void *params, void *scratch)
{
    const mean_params *p = params;
    const float *in = exec_tensor(x, p->input);
    float *out = exec_tensor(x, p->output);
    int32_t k[TMO_MAX_DIMS] = {0};
    size_t o = 0;
    (void)scratch;
    do
        out[o++] = sum_f32(p, in + index_offset(k, p->kept_stride, p->kept_n)) / (float)p->count;
    while (next_index(k, p->kept_dims, p->kept_n));
}

static void mean_s8_same_quant(const tmo_exec *x, const void *params, void *scratch)
{
    const mean_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    int32_t k[TMO_MAX_DIMS] = {0};
    size_t o = 0;
    (void)scratch;
    do {
        int32_t sum = sum_s8(p, in + index_offset(k, p->kept_stride, p->kept_n));
        out[o++] = (int8_t)(int32_t)((int64_t)sum / (int64_t)p->count); /* truncating, as TFLM */
    } while (next_index(k, p->kept_dims, p->kept_n));
}

static void mean_s8_requant(const tmo_exec *x, const void *params, void *scratch)
{
    const mean_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    int32_t k[TMO_MAX_DIMS] = {0};
    size_t o = 0;
    (void)scratch;
    do {
        int32_t sum = sum_s8(p, in + index_offset(k, p->kept_stride, p->kept_n));
        /* TFLM computes this in int64, then narrows it to int32. */
        int64_t centered = (int64_t)sum - (int64_t)p->input_zp * (int64_t)p->count;
        int32_t v = fp_requant((int32_t)(uint32_t)(uint64_t)centered, p->multiplier, p->shift);
        out[o++] = (int8_t)fp_clamp((int32_t)((uint32_t)v + (uint32_t)p->output_zp), -128, 127);
    } while (next_index(k, p->kept_dims, p->kept_n));
}

/* Marks the reduced dimensions from the constant axis tensor (negative axes count from the end). */
static tmo_err resolve_axes(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *axis,
                            uint8_t *reduced)
{
    tmo_err e;
    if ((e = prep_type(p, axis, "axis", TMO_INT32, TMO_INT32)) != TMO_OK)
        return e;
    if (axis->data == NULL)
        return prep_fail(p, TMO_EUNSUPPORTED, "axis", "axis tensor must be constant");
    if (in->ndim == 0)
        return TMO_OK; /* TFLM ResolveAxis: a scalar's mean is itself, whatever the axes */
    const uint8_t *le = axis->data;
    for (size_t i = 0; i < axis->elements; i++) {
        int32_t a = (int32_t)((uint32_t)le[4 * i] | (uint32_t)le[4 * i + 1] << 8 |
                              (uint32_t)le[4 * i + 2] << 16 | (uint32_t)le[4 * i + 3] << 24);
        int64_t r = a < 0 ? (int64_t)a + in->ndim : a;
        if (r < 0 || r >= (int64_t)in->ndim)
            return prep_fail_value(p, TMO_EBADMODEL, "axis", "axis outside the input's dimensions",
                                   a, -1);
        reduced[r] = 1;
    }
    return TMO_OK;
}

/* Splits the input dimensions into kept and reduced ones and checks the output size. */
static tmo_err plan_dims(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                         const uint8_t *reduced, mean_params *mp)
{
    size_t strides[TMO_MAX_DIMS], stride = 1, out_elements = 1;
    for (uint32_t d = in->ndim; d-- > 0;) {
        strides[d] = stride;
        stride *= (size_t)in->dims[d];
    }
    /* Both lists outermost first, so that next_index walks in input order. */
    uint32_t nk = 0, nr = 0;
    mp->count = 1;
    for (uint32_t d = 0; d < in->ndim; d++) {
        if (reduced[d]) {
            mp->count *= (size_t)in->dims[d];
            mp->reduced_dims[nr] = in->dims[d];
            mp->reduced_stride[nr++] = strides[d];
        } else {
            out_elements *= (size_t)in->dims[d];
            mp->kept_dims[nk] = in->dims[d];
            mp->kept_stride[nk++] = strides[d];
        }
    }
    mp->kept_n = nk;
    mp->reduced_n = nr;
    if (out->elements != out_elements)
        return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                               "output element count differs from the reduced input",
                               (int64_t)out->elements, (int64_t)out_elements);
    return TMO_OK;
}

/* TFLM QuantizedMeanOrSum: fold 1/count into multiplier and shift. */
static void fold_count(mean_params *mp, int32_t multiplier, int shift)
{
    int log2_count = 0;
    while (log2_count < 63 && ((uint64_t)mp->count >> (log2_count + 1)) != 0)
        log2_count++;
    int s = log2_count < 32 ? log2_count : 32;
    if (s > 31 + shift)
        s = 31 + shift;
    mp->multiplier = (int32_t)(((int64_t)multiplier << s) / (int64_t)mp->count);
    mp->shift = shift - s;
}

static tmo_err prepare_s8(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *out,
                          mean_params *mp)
{
    tmo_err e;
    if ((e = prep_quantized(p, in, "input")) != TMO_OK ||
        (e = prep_quantized(p, out, "output")) != TMO_OK)
        return e;
    if (in->zero_point == out->zero_point && in->scale == out->scale) {
        p->invoke = mean_s8_same_quant;
        return TMO_OK;
    }
    int32_t multiplier;
    int shift;
    if (quant_multiplier((double)in->scale / (double)out->scale, &multiplier, &shift) != TMO_OK)
        return prep_fail(p, TMO_ERANGE, "quantization", "input/output scale ratio out of range");
    fold_count(mp, multiplier, shift);
    mp->input_zp = in->zero_point;
    mp->output_zp = out->zero_point;
    p->invoke = mean_s8_requant;
    return TMO_OK;
}

tmo_err mean_prepare(tmo_prep *p)
{
    tmo_tensor_info in, axis, out;
    uint8_t keep_dims;
    uint8_t reduced[TMO_MAX_DIMS] = {0};
    tmo_err e;
    if ((e = prep_io_count(p, 2, 2, 1)) != TMO_OK ||
        (e = prep_options(p, OPTIONS_REDUCER_OPTIONS)) != TMO_OK ||
        (e = prep_input(p, 0, &in)) != TMO_OK || (e = prep_input(p, 1, &axis)) != TMO_OK ||
        (e = prep_output(p, 0, &out)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_KEEP_DIMS, 0, &keep_dims)) != TMO_OK)
        return e;
    (void)keep_dims; /* the output tensor's shape already says it; only its size is checked */
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_same_type(p, &in, &out, "output")) != TMO_OK ||
        (e = resolve_axes(p, &in, &axis, reduced)) != TMO_OK)
        return e;
    mean_params *mp = prep_alloc(p, sizeof *mp);
    if (mp == NULL)
        return TMO_ENOSPC;
    if ((e = plan_dims(p, &in, &out, reduced, mp)) != TMO_OK)
        return e;
    mp->input = prep_in_index(p, 0);
    mp->output = prep_out_index(p, 0);
    p->params = mp;
    if (in.type == TMO_INT8)
        return prepare_s8(p, &in, &out, mp);
    p->invoke = mean_f32;
    return TMO_OK;
}
