/*
 * Load-time quantization helpers shared by the kernels: converting real
 * multipliers to the fixed-point form fp_requant() uses, and fused
 * activation ranges, computed exactly the way TFLite Micro's Prepare does.
 */
#ifndef TMO_QUANT_H
#define TMO_QUANT_H

#include <stdint.h>

#include "fixedpoint.h"
#include "kernel.h"

/* TFLite ActivationFunctionType values. */
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3, ACT_TANH = 4, ACT_SIGN_BIT = 5 };

/* TFLite Padding values. */
enum { PAD_SAME = 0, PAD_VALID = 1 };

/*
 * Splits a non-negative real multiplier into a Q31 significand and a power
 * of two (TFLite QuantizeMultiplier). Fails with TMO_ERANGE for negative,
 * NaN or infinite values and for results that would need a shift above 31.
 */
tmo_err quant_multiplier(double real, int32_t *multiplier, int *shift);

/* Clamp range of a fused activation on an int8 output (TFLite CalculateActivationRangeQuantized). */
tmo_err quant_activation_range(tmo_prep *p, int32_t activation, const tmo_tensor_info *out,
                               int32_t *act_min, int32_t *act_max);

/* Clamp range of a fused activation on a float output (TFLite CalculateActivationRange). */
tmo_err float_activation_range(tmo_prep *p, int32_t activation, float *act_min, float *act_max);

/* TFLite's float activation clamp, NaN passes through as in std::min/std::max. */
static inline float clamp_f32(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
}

#endif
