/*
 * RELU and RELU6 reference kernels (TFLM ReluFloat, Relu6Float,
 * ReluQuantized, Relu6Quantized). The float comparisons are written as TFLM
 * writes them, so NaN and -0.0 pass through the same way.
 */
#include "../elementwise.h"

void relu_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const relu_params *p = params;
    const float *in = exec_tensor(x, p->io.input);
    float *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        float v = in[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
}

void relu6_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const relu6_params *p = params;
    const float *in = exec_tensor(x, p->io.input);
    float *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        float v = in[i];
        out[i] = v > 6.0f ? 6.0f : v < 0.0f ? 0.0f : v;
    }
}

void relu_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const relu_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        int32_t v = gl_add(p->out_zero_point,
                           fp_requant((int32_t)in[i] - p->in_zero_point, p->multiplier, p->shift));
        out[i] = (int8_t)fp_clamp(v, p->act_min, p->act_max);
    }
}

void relu6_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const relu6_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        int8_t v = in[i];
        out[i] = v > p->hi ? p->hi : v < p->lo ? p->lo : v;
    }
}
