/*
 * TANH reference kernels: std::tanh on float32 (TFLM reference_ops::Tanh)
 * and reference_integer_ops::Tanh on int8 (see tanh_s8_element).
 */
#include <math.h>

#include "../elementwise.h"

void tanh_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const sigmoid_params *p = params;
    const float *in = exec_tensor(x, p->io.input);
    float *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++)
        out[i] = tanhf(in[i]);
}

void tanh_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const sigmoid_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    int8_t *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++)
        out[i] = tanh_s8_element(in[i], p);
}
