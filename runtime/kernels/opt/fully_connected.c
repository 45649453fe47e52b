/*
 * FULLY_CONNECTED optimized int8 kernel.
 *
 * sum((x + xo) * (w + wo)) is expanded to
 *   sum(x*w) + xo*sum(w) + wo*sum(x) + depth*xo*wo
 * so the inner loop multiplies raw int8 values (vectorizable), with sum(x)
 * computed once per row. Exact integer arithmetic: bit-identical to the
 * reference. Depths beyond the exactness bound of dot_s8_with_wsum() use the
 * reference loop. (float32: fully_connected_f32.c.)
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

tmo_err fc_s8_setup_opt(tmo_prep *p, fc_params *fc)
{
    (void)fc;
    p->invoke = fc_s8_opt;
    return TMO_OK;
}
