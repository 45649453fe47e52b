/*
 * The unary elementwise operators (QUANTIZE, DEQUANTIZE, LOGISTIC, TANH,
 * RELU, RELU6): their prepare-time parameters, the invoke variants that
 * consume them, and the per-element int8 math shared by the reference loops
 * and the table-driven optimized variants.
 */
#ifndef TMO_ELEMENTWISE_H
#define TMO_ELEMENTWISE_H

#include "fixedpoint.h"
#include "gemmlowp.h"
#include "kernel.h"

/* One input, one output with the same number of elements. */
typedef struct ew_io {
    uint16_t input, output;
    uint32_t count;
} ew_io;

/* QUANTIZE float32 -> int8, and int8 -> int8 requantization. */
typedef struct quantize_params {
    ew_io io;
    float scale;           /* output scale (float -> int8) */
    int32_t zero_point;    /* output zero point */
    int32_t in_zero_point; /* int8 -> int8 */
    int32_t multiplier;    /* int8 -> int8: input scale / output scale */
    int32_t shift;
} quantize_params;

/* DEQUANTIZE int8 -> float32. */
typedef struct dequantize_params {
    ew_io io;
    double scale;
    int32_t zero_point;
} dequantize_params;

/* LOGISTIC and TANH on int8: input rescaled to Q4.27, saturating outside +-radius. */
typedef struct sigmoid_params {
    ew_io io;
    int32_t zero_point;
    int32_t radius;
    int32_t multiplier;
    int32_t shift;
    uint8_t use_table; /* optimized variant: build a 256-entry table in scratch */
} sigmoid_params;

/* RELU on int8: requantize to the output scale, clamp below at the output's zero. */
typedef struct relu_params {
    ew_io io;
    int32_t in_zero_point, out_zero_point;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} relu_params;

/* RELU6 on int8: clamp to the input's quantized 0 and 6 (no requantization, as TFLM). */
typedef struct relu6_params {
    ew_io io;
    int8_t lo, hi;
} relu6_params;

/* Shared prepare: exactly one input and one output, with equal element counts (types: caller). */
tmo_err ew_prepare_io(tmo_prep *p, tmo_tensor_info *in, tmo_tensor_info *out, ew_io *io);

/* Requires per-tensor int8 quantization with a positive scale and an int8 zero point. */
tmo_err ew_quantized_s8(tmo_prep *p, const tmo_tensor_info *t, const char *which);

/*
 * LOGISTIC/TANH int8 input parameters as TFLM computes them (kInputIntegerBits
 * = 4): multiplier and shift from frexp(scale * 2^27), saturation radius.
 */
tmo_err ew_sigmoid_input(tmo_prep *p, const tmo_tensor_info *in, sigmoid_params *sp);

/* Elements at which the table-driven int8 variants start to pay off. */
#define EW_TABLE_MIN_COUNT 512u

void quantize_f32_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void quantize_s8_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void dequantize_s8_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void logistic_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void logistic_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void logistic_s8_opt(const tmo_exec *x, const void *params, void *scratch);
void tanh_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void tanh_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void tanh_s8_opt(const tmo_exec *x, const void *params, void *scratch);
void relu_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void relu_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void relu6_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void relu6_s8_ref(const tmo_exec *x, const void *params, void *scratch);

/* TFLM reference_integer_ops::Logistic for one element (output scale 1/256, zero point -128). */
static inline int8_t logistic_s8_element(int8_t v, const sigmoid_params *p)
{
    int32_t input = (int32_t)v - p->zero_point;
    if (input <= -p->radius)
        return INT8_MIN;
    if (input >= p->radius)
        return INT8_MAX;
    int32_t q4 = fp_requant(input, p->multiplier, p->shift);
    int32_t out = fp_rshift_round(gl_logistic(q4, 4), 31 - 8) - 128;
    return (int8_t)fp_clamp(out, INT8_MIN, INT8_MAX);
}

/* TFLM reference_integer_ops::Tanh for one element (output scale 1/128, zero point 0). */
static inline int8_t tanh_s8_element(int8_t v, const sigmoid_params *p)
{
    int32_t input = (int32_t)v - p->zero_point;
    if (input <= -p->radius)
        return INT8_MIN;
    if (input >= p->radius)
        return INT8_MAX;
    int32_t q4 = fp_requant(input, p->multiplier, p->shift);
    int32_t out = fp_rshift_round(gl_tanh(q4, 4), 31 - 7);
    return (int8_t)fp_clamp(out, INT8_MIN, INT8_MAX);
}

#endif
