/*
 * FULLY_CONNECTED reference kernels: the loops of TFLite Micro's reference
 * implementation, kept plain as the bit-exact oracle for optimized variants.
 * Accumulation wraps in uint32 (what TFLM's int32 does on real hardware)
 * instead of overflowing signed arithmetic on hostile weights.
 */
#include "../fixedpoint.h"
#include "../fully_connected.h"
#include "../quant.h"

void fc_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const fc_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    const int8_t *w = exec_tensor(x, p->weights);
    const int32_t *bias = p->bias != NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    int8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t u = 0; u < p->units; u++) {
            uint32_t acc = 0;
            for (int32_t d = 0; d < p->depth; d++) {
                int32_t iv = in[b * p->depth + d] + p->input_offset;
                int32_t wv = w[u * p->depth + d] + p->weights_offset;
                acc += (uint32_t)(iv * wv);
            }
            if (bias != NULL)
                acc += (uint32_t)bias[u];
            int32_t q = u * p->quant_stride;
            int32_t v = fp_requant((int32_t)acc, p->multiplier[q], p->shift[q]) + p->output_offset;
            out[b * p->units + u] = (int8_t)fp_clamp(v, p->act_min, p->act_max);
        }
    }
}

void fc_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const fc_params *p = params;
    const float *in = exec_tensor(x, p->input);
    const float *w = exec_tensor(x, p->weights);
    const float *bias = p->bias != NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    float *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t u = 0; u < p->units; u++) {
            float total = 0.0f;
            for (int32_t d = 0; d < p->depth; d++)
                total += in[b * p->depth + d] * w[u * p->depth + d];
            float bv = bias != NULL ? bias[u] : 0.0f;
            out[b * p->units + u] = clamp_f32(total + bv, p->fact_min, p->fact_max);
        }
    }
}

tmo_err fc_s8_setup_ref(tmo_prep *p, fc_params *fc)
{
    (void)fc;
    p->invoke = fc_s8_ref;
    return TMO_OK;
}
