/*
 * MUL reference kernels: TFLM's MulElementwise / BroadcastMul6DSlow applied
 * row by row along the broadcast plan. The int8 product of offset inputs is
 * at most 255 * 255, well inside int32.
 */
#include "../fixedpoint.h"
#include "../gemmlowp.h"
#include "../mul.h"
#include "../quant.h"

void mul_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const mul_params *p = params;
    const int8_t *in1 = exec_tensor(x, p->in1);
    const int8_t *in2 = exec_tensor(x, p->in2);
    int8_t *out = exec_tensor(x, p->output);
    const bcast_plan *plan = &p->plan;
    bcast_iter it;
    (void)scratch;
    bcast_begin(&it);
    for (uint32_t r = 0; r < plan->rows; r++) {
        const int8_t *a = in1 + it.a;
        const int8_t *b = in2 + it.b;
        for (int32_t i = 0; i < plan->inner; i++) {
            int32_t v1 = p->in1_offset + a[i * plan->inner_a];
            int32_t v2 = p->in2_offset + b[i * plan->inner_b];
            int32_t v = gl_add(p->out_offset, fp_requant(v1 * v2, p->multiplier, p->shift));
            out[i] = (int8_t)fp_clamp(v, p->act_min, p->act_max);
        }
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

void mul_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const mul_params *p = params;
    const float *in1 = exec_tensor(x, p->in1);
    const float *in2 = exec_tensor(x, p->in2);
    float *out = exec_tensor(x, p->output);
    const bcast_plan *plan = &p->plan;
    bcast_iter it;
    (void)scratch;
    bcast_begin(&it);
    for (uint32_t r = 0; r < plan->rows; r++) {
        const float *a = in1 + it.a;
        const float *b = in2 + it.b;
        for (int32_t i = 0; i < plan->inner; i++)
            out[i] =
                clamp_f32(a[i * plan->inner_a] * b[i * plan->inner_b], p->fact_min, p->fact_max);
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

tmo_err mul_s8_setup_ref(tmo_prep *p, mul_params *m)
{
    (void)m;
    p->invoke = mul_s8_ref;
    return TMO_OK;
}
