/*
 * DEQUANTIZE reference kernel (TFLM reference_ops::Dequantize): the product
 * is formed in double and rounded once to float.
 */
#include "../elementwise.h"

void dequantize_s8_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const dequantize_params *p = params;
    const int8_t *in = exec_tensor(x, p->io.input);
    float *out = exec_tensor(x, p->io.output);
    (void)scratch;
    for (uint32_t i = 0; i < p->io.count; i++)
        out[i] = (float)(p->scale * (double)((int32_t)in[i] - p->zero_point));
}
