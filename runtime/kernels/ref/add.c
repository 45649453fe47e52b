/*
 * ADD reference kernels: TFLM's AddFunc / BroadcastAdd6DSlow applied row by
 * row along the broadcast plan, each element rescaled from scratch.
 */
#include "../add.h"
#include "../quant.h"

void add_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const add_params *p = params;
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
            int32_t s1 = add_scale_input(a[i * plan->inner_a], p->in1_offset, p->left_shift,
                                         p->in1_multiplier, p->in1_shift);
            int32_t s2 = add_scale_input(b[i * plan->inner_b], p->in2_offset, p->left_shift,
                                         p->in2_multiplier, p->in2_shift);
            out[i] = add_finish(s1, s2, p);
        }
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

void add_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const add_params *p = params;
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
                clamp_f32(a[i * plan->inner_a] + b[i * plan->inner_b], p->fact_min, p->fact_max);
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

tmo_err add_s8_setup_ref(tmo_prep *p, add_params *a, size_t elements)
{
    (void)a;
    (void)elements;
    p->invoke = add_s8_ref;
    return TMO_OK;
}
