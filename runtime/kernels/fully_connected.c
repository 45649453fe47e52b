/*
 * FULLY_CONNECTED prepare: shapes, quantization and activation range, with
 * the multiplier arithmetic of TFLite Micro's CalculateOpDataFullyConnected
 * (per-tensor: float product of scales; per-channel: double product).
 */
#include "fully_connected.h"

#include "../tflite/options_types.h"
#include "quant.h"

enum { OPT_ACTIVATION = 0, OPT_WEIGHTS_FORMAT = 1 };

static tmo_err check_shapes(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *w,
                            const tmo_tensor_info *bias, int has_bias, const tmo_tensor_info *out,
                            fc_params *fc)
{
    if (w->ndim != 2)
        return prep_fail_value(p, TMO_EBADMODEL, "weights", "weights must be 2-D", w->ndim, 2);
    fc->units = w->dims[0];
    fc->depth = w->dims[1];
    if (in->elements % (size_t)fc->depth != 0)
        return prep_fail_value(p, TMO_EBADMODEL, "input",
                               "input size is not a multiple of the weights depth",
                               (int64_t)in->elements, fc->depth);
    fc->batches = (int32_t)(in->elements / (size_t)fc->depth);
    if (out->ndim == 0 || out->dims[out->ndim - 1] != fc->units)
        return prep_fail(p, TMO_EBADMODEL, "output", "last output dimension differs from units");
    if ((uint64_t)out->elements != (uint64_t)fc->batches * (uint64_t)fc->units)
        return prep_fail_value(p, TMO_EBADMODEL, "output", "output size differs from batches x units",
                               (int64_t)out->elements, (int64_t)fc->batches * fc->units);
    if (has_bias && bias->elements != (size_t)fc->units)
        return prep_fail_value(p, TMO_EBADMODEL, "bias", "bias size differs from units",
                               (int64_t)bias->elements, fc->units);
    return TMO_OK;
}

static tmo_err prepare_s8(tmo_prep *p, const tmo_tensor_info *in, const tmo_tensor_info *w,
                          const tmo_tensor_info *bias, int has_bias, const tmo_tensor_info *out,
                          int32_t activation, fc_params *fc)
{
    tmo_err e;
    if ((e = prep_type(p, w, "weights", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (e = prep_type(p, out, "output", TMO_INT8, TMO_INT8)) != TMO_OK ||
        (has_bias && (e = prep_type(p, bias, "bias", TMO_INT32, TMO_INT32)) != TMO_OK))
        return e;
    if ((e = prep_quantized(p, in, "input")) != TMO_OK ||
        (e = prep_quantized(p, w, "weights")) != TMO_OK ||
        (e = prep_quantized(p, out, "output")) != TMO_OK)
        return e;
    int per_channel = w->scale_count > 1;
    if (per_channel && (w->quant_dim != 0 || w->scale_count != (uint32_t)fc->units))
        return prep_fail(p, TMO_EBADMODEL, "weights.quantization",
                         "per-channel scales must run along the units dimension");
    int32_t channels = per_channel ? fc->units : 1;
    int32_t *mult = prep_alloc(p, sizeof(int32_t) * (size_t)channels);
    int8_t *shift = prep_alloc(p, (size_t)channels);
    if (mult == NULL || shift == NULL)
        return TMO_ENOSPC;
    fc->quant_stride = per_channel ? 1 : 0;
    for (int32_t u = 0; u < channels; u++) {
        double real;
        if (per_channel)
            real = (double)in->scale * (double)tmo_tensor_scale(w, (uint32_t)u) / (double)out->scale;
        else
            real = (double)(in->scale * w->scale) / (double)out->scale;
        int s;
        if (quant_multiplier(real, &mult[u], &s) != TMO_OK)
            return prep_fail(p, TMO_ERANGE, "quantization", "output multiplier out of range");
        shift[u] = (int8_t)s;
    }
    fc->multiplier = mult;
    fc->shift = shift;
    fc->input_offset = -in->zero_point;
    fc->weights_offset = -w->zero_point;
    fc->output_offset = out->zero_point;
    if ((e = quant_activation_range(p, activation, out, &fc->act_min, &fc->act_max)) != TMO_OK)
        return e;
    return KERNEL_PICK(fc_s8_setup)(p, fc);
}

static tmo_err prepare_f32(tmo_prep *p, const tmo_tensor_info *w, const tmo_tensor_info *bias,
                           int has_bias, const tmo_tensor_info *out, int32_t activation,
                           fc_params *fc)
{
    tmo_err e;
    if (w->type == TMO_INT8)
        return prep_fail(p, TMO_EUNSUPPORTED, "weights",
                         "hybrid models (float activations, int8 weights) are not supported");
    if ((e = prep_type(p, w, "weights", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_type(p, out, "output", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK ||
        (has_bias && (e = prep_type(p, bias, "bias", TMO_FLOAT32, TMO_FLOAT32)) != TMO_OK))
        return e;
    if ((e = float_activation_range(p, activation, &fc->fact_min, &fc->fact_max)) != TMO_OK)
        return e;
    p->invoke = KERNEL_PICK(fc_f32);
    return TMO_OK;
}

tmo_err fc_prepare(tmo_prep *p)
{
    tmo_tensor_info in, w, bias, out;
    int has_bias;
    int32_t activation;
    uint8_t format;
    tmo_err e;
    if ((e = prep_io_count(p, 2, 3, 1)) != TMO_OK || (e = prep_options(p, OPTIONS_FULLY_CONNECTED_OPTIONS)) ||
        (e = prep_input(p, 0, &in)) != TMO_OK || (e = prep_input(p, 1, &w)) != TMO_OK ||
        (e = prep_input_opt(p, 2, &bias, &has_bias)) != TMO_OK || (e = prep_output(p, 0, &out)))
        return e;
    uint8_t act8;
    if ((e = prep_opt_u8(p, OPT_ACTIVATION, 0, &act8)) != TMO_OK ||
        (e = prep_opt_u8(p, OPT_WEIGHTS_FORMAT, 0, &format)) != TMO_OK)
        return e;
    activation = (int8_t)act8;
    if (format != 0)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "weights_format",
                               "shuffled weights format is not supported", format, -1);
    fc_params *fc = prep_alloc(p, sizeof *fc);
    if (fc == NULL)
        return TMO_ENOSPC;
    if ((e = check_shapes(p, &in, &w, &bias, has_bias, &out, fc)) != TMO_OK)
        return e;
    fc->input = prep_in_index(p, 0);
    fc->weights = prep_in_index(p, 1);
    fc->bias = has_bias ? prep_in_index(p, 2) : NO_TENSOR;
    fc->output = prep_out_index(p, 0);
    p->params = fc;
    if ((e = prep_type(p, &in, "input", TMO_INT8, TMO_FLOAT32)) != TMO_OK)
        return e;
    if (in.type == TMO_INT8)
        return prepare_s8(p, &in, &w, &bias, has_bias, &out, activation, fc);
    if (!TMO_FLOAT_KERNELS)
        return prep_no_float(p);
    return prepare_f32(p, &w, &bias, has_bias, &out, activation, fc);
}
