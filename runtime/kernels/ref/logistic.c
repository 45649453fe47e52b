/*
 * LOGISTIC reference kernels: TFLM reference_ops::Logistic for float32
 * (cut-offs instead of exp overflow) and reference_integer_ops::Logistic for
 * int8 (see logistic_s8_element in elementwise.h).
 */
#include <math.h>

#include "../elementwise.h"

void logistic_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const sigmoid_params *p = params;
    const float *in = exec_tensor(x, p->io.input);
    float *out = exec_tensor(x, p->io.output);
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++) {
        float v = in[i];
        if (v > cutoff_upper)
            out[i] = 1.0f;
        else if (v < cutoff_lower)
            out[i] = expf(v);
        else
            out[i] = 1.0f / (1.0f + expf(-v));
    }
}

void logistic_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const sigmoid_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++)
        out[i] = logistic_s8_element(in[i], p);
}
