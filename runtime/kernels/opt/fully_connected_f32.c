/*
 * FULLY_CONNECTED optimized float32 kernel: each output keeps the reference
 * summation order (d = 0, 1, ...) so results are bit-identical; four units
 * share every input load.
 */
#include "../fully_connected.h"
#include "../quant.h"

/* Four output units at once, each summed in reference order. */
static void fc_f32_block4(const float *row, const float *w, int32_t depth, const float *bias,
                          float *out, float lo, float hi)
{
    const float *w0 = w, *w1 = w + depth, *w2 = w + 2 * (size_t)depth, *w3 = w + 3 * (size_t)depth;
    float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
    for (int32_t d = 0; d < depth; d++) {
        float v = row[d];
        t0 += v * w0[d];
        t1 += v * w1[d];
        t2 += v * w2[d];
        t3 += v * w3[d];
    }
    float b0 = 0.0f, b1 = 0.0f, b2 = 0.0f, b3 = 0.0f;
    if (bias != NULL) {
        b0 = bias[0];
        b1 = bias[1];
        b2 = bias[2];
        b3 = bias[3];
    }
    out[0] = clamp_f32(t0 + b0, lo, hi);
    out[1] = clamp_f32(t1 + b1, lo, hi);
    out[2] = clamp_f32(t2 + b2, lo, hi);
    out[3] = clamp_f32(t3 + b3, lo, hi);
}

void fc_f32_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const fc_params *p = params;
    const float *in = exec_tensor(x, p->input);
    const float *w = exec_tensor(x, p->weights);
    const float *bias = p->bias != NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    float *out = exec_tensor(x, p->output);
    const size_t depth = (size_t)p->depth;
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        const float *row = in + (size_t)b * depth;
        float *orow = out + (size_t)b * (size_t)p->units;
        int32_t u = 0;
        for (; u + 4 <= p->units; u += 4)
            fc_f32_block4(row, w + (size_t)u * depth, p->depth, bias ? bias + u : NULL, orow + u,
                          p->fact_min, p->fact_max);
        for (; u < p->units; u++) {
            const float *wu = w + (size_t)u * depth;
            float total = 0.0f;
            for (size_t d = 0; d < depth; d++)
                total += row[d] * wu[d];
            orow[u] = clamp_f32(total + (bias ? bias[u] : 0.0f), p->fact_min, p->fact_max);
        }
    }
}
