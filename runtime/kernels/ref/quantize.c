/*
 * QUANTIZE reference kernels (TFLM reference_ops::AffineQuantize and
 * reference_ops::Requantize).
 */
#include <math.h>

#include "../elementwise.h"

/*
 * round(v / scale) in float, then the float -> int32 conversion. TFLM's
 * static_cast is undefined for NaN and quotients beyond int32; this
 * saturates them (NaN to 0) as the conversion instruction does on Arm.
 */
static int32_t round_to_i32(float v, float scale)
{
    float r = roundf(v / scale);
    if (r != r)
        return 0;
    if (r >= 2147483648.0f)
        return INT32_MAX;
    if (r < -2147483648.0f)
        return INT32_MIN;
    return (int32_t)r;
}

void quantize_f32_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const quantize_params *p = params;
    const float *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        int64_t v = (int64_t)round_to_i32(in[i], p->scale) + p->zero_point;
        out[i] = (int8_t)(v < INT8_MIN ? INT8_MIN : v > INT8_MAX ? INT8_MAX : v);
    }
}

void quantize_s8_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const quantize_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        int32_t v = gl_add(fp_requant((int32_t)in[i] - p->in_zero_point, p->multiplier, p->shift),
                           p->zero_point);
        out[i] = (int8_t)fp_clamp(v, INT8_MIN, INT8_MAX);
    }
}
