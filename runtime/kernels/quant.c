/*
 * Load-time quantization helpers (see quant.h). Float arithmetic here runs
 * once per model load, never at invoke.
 */
#include "quant.h"

#include <float.h>
#include <math.h>

tmo_err quant_multiplier(double real, int32_t *multiplier, int *shift)
{
    *multiplier = 0;
    *shift = 0;
    if (real == 0.0)
        return TMO_OK;
    if (!(real > 0.0) || real > 1e300)
        return TMO_ERANGE;
    int exp;
    double q = frexp(real, &exp);
    int64_t fixed = (int64_t)round(q * (double)(1ll << 31));
    if (fixed == (1ll << 31)) {
        fixed /= 2;
        exp++;
    }
    if (exp < -31) {
        exp = 0;
        fixed = 0;
    }
    if (exp > 31)
        return TMO_ERANGE;
    *multiplier = (int32_t)fixed;
    *shift = exp;
    return TMO_OK;
}

/* zero_point + round(f / scale), saturated to int32 instead of overflowing the cast. */
static int32_t quantize_bound(float f, float scale, int32_t zero_point)
{
    float q = roundf(f / scale);
    double v = (double)zero_point + (double)q;
    if (!(v > -2147483648.0))
        return INT32_MIN;
    if (v > 2147483647.0)
        return INT32_MAX;
    return (int32_t)v;
}

tmo_err quant_activation_range(tmo_prep *p, int32_t activation, const tmo_tensor_info *out,
                               int32_t *act_min, int32_t *act_max)
{
    int32_t qmin = out->type == TMO_INT8 ? -128 : out->type == TMO_INT16 ? -32768 : 0;
    int32_t qmax = out->type == TMO_INT8 ? 127 : out->type == TMO_INT16 ? 32767 : 255;
    float s = out->scale;
    int32_t zp = out->zero_point;
    *act_min = qmin;
    *act_max = qmax;
    switch (activation) {
    case ACT_NONE:
        break;
    case ACT_RELU:
        *act_min = fp_max_i32(qmin, quantize_bound(0.0f, s, zp));
        break;
    case ACT_RELU6:
        *act_min = fp_max_i32(qmin, quantize_bound(0.0f, s, zp));
        *act_max = fp_min_i32(qmax, quantize_bound(6.0f, s, zp));
        break;
    case ACT_RELU_N1_TO_1:
        *act_min = fp_max_i32(qmin, quantize_bound(-1.0f, s, zp));
        *act_max = fp_min_i32(qmax, quantize_bound(1.0f, s, zp));
        break;
    default:
        return prep_fail_value(p, TMO_EUNSUPPORTED, "fused_activation_function",
                               "fused activation not supported on quantized outputs", activation,
                               -1);
    }
    return TMO_OK;
}

tmo_err float_activation_range(tmo_prep *p, int32_t activation, float *act_min, float *act_max)
{
    *act_min = -FLT_MAX;
    *act_max = FLT_MAX;
    switch (activation) {
    case ACT_NONE:
        break;
    case ACT_RELU:
        *act_min = 0.0f;
        break;
    case ACT_RELU6:
        *act_min = 0.0f;
        *act_max = 6.0f;
        break;
    case ACT_RELU_N1_TO_1:
        *act_min = -1.0f;
        *act_max = 1.0f;
        break;
    default:
        return prep_fail_value(p, TMO_EUNSUPPORTED, "fused_activation_function",
                               "fused activation not supported", activation, -1);
    }
    return TMO_OK;
}
