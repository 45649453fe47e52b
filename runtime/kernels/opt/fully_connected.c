/*
 * FULLY_CONNECTED optimized kernels.
 *
 * int8: sum((x + xo) * (w + wo)) is expanded to
 *   sum(x*w) + xo*sum(w) + wo*sum(x) + depth*xo*wo
 * so the inner loop multiplies raw int8 values (vectorizable), with sum(x)
 * computed once per row. Exact integer arithmetic: bit-identical to the
 * reference. Depths beyond the exactness bound of dot_s8_with_wsum() use the
 * reference loop.
 * float: each output keeps the reference summation order (d = 0, 1, ...)
 * so results are bit-identical; four units share every input load.
 */
#include "../fixedpoint.h"
#include "../fully_connected.h"
#include "../quant.h"
#include "dot.h"

#define MAX_FAST_DEPTH 131071

void fc_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const fc_params *p = params;
    if (p->depth > MAX_FAST_DEPTH) {
        fc_s8_ref(x, params, scratch);
        return;
    }
    const int8_t *in = exec_tensor(x, p->input);
    const int8_t *w = exec_tensor(x, p->weights);
    const int32_t *bias = p->bias != NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    int8_t *out = exec_tensor(x, p->output);
    const int32_t depth = p->depth;
    const uint32_t in_off = (uint32_t)p->input_offset;
    const uint32_t cross = (uint32_t)depth * in_off * (uint32_t)p->weights_offset;
    fp_scale scale = fp_scale_of(p->multiplier[0], p->shift[0]);
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *row = in + (size_t)b * (size_t)depth;
        int8_t *orow = out + (size_t)b * (size_t)p->units;
        uint32_t row_term = (uint32_t)p->weights_offset * (uint32_t)sum_s8(row, depth) + cross;
        const int8_t *wu = w;
        for (int32_t u = 0; u < p->units; u++, wu += depth) {
            int32_t sum_xw, sum_w;
            dot_s8_with_wsum(row, wu, depth, &sum_xw, &sum_w);
            uint32_t acc = (uint32_t)sum_xw + in_off * (uint32_t)sum_w + row_term;
            if (bias != NULL)
                acc += (uint32_t)bias[u];
            if (p->quant_stride != 0)
                scale = fp_scale_of(p->multiplier[u], p->shift[u]);
            int32_t v = fp_requant_by((int32_t)acc, scale) + p->output_offset;
            orow[u] = (int8_t)fp_clamp(v, p->act_min, p->act_max);
        }
    }
}

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
