/*
 * ADD int8, optimized. Each input's rescaled contribution depends only on
 * its byte, so for large outputs the first input's is tabulated once per
 * invoke (256 int32 in scratch) with the reference helpers, leaving two
 * rescales per element instead of three. One table, not two: ADD often sits
 * at the arena's peak (a residual join keeps three large tensors alive), and
 * a second kilobyte of scratch there would grow the arena past TFLite
 * Micro's. Results are identical by construction.
 */
#include "../add.h"

static inline int32_t scale2(const add_params *p, int8_t v)
{
    return add_scale_input(v, p->in2_offset, p->left_shift, p->in2_multiplier, p->in2_shift);
}

static void fill_table(int32_t *t, int32_t offset, int32_t left_shift, int32_t multiplier,
                       int32_t shift)
{
    for (int v = INT8_MIN; v <= INT8_MAX; v++)
        t[(uint8_t)v] = add_scale_input((int8_t)v, offset, left_shift, multiplier, shift);
}

void add_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const add_params *p = params;
    if (!p->use_table) {
        add_s8_ref(x, params, scratch);
        return;
    }
    const int8_t *in1 = exec_tensor(x, p->in1);
    const int8_t *in2 = exec_tensor(x, p->in2);
    int8_t *out = exec_tensor(x, p->output);
    int32_t *t1 = scratch;
    fill_table(t1, p->in1_offset, p->left_shift, p->in1_multiplier, p->in1_shift);
    const bcast_plan *plan = &p->plan;
    bcast_iter it;
    bcast_begin(&it);
    for (uint32_t r = 0; r < plan->rows; r++) {
        const int8_t *a = in1 + it.a;
        const int8_t *b = in2 + it.b;
        int32_t n = plan->inner;
        if (plan->inner_a && plan->inner_b) {
            for (int32_t i = 0; i < n; i++)
                out[i] = add_finish(t1[(uint8_t)a[i]], scale2(p, b[i]), p);
        } else if (plan->inner_a) {
            int32_t s2 = scale2(p, b[0]);
            for (int32_t i = 0; i < n; i++)
                out[i] = add_finish(t1[(uint8_t)a[i]], s2, p);
        } else if (plan->inner_b) {
            int32_t s1 = t1[(uint8_t)a[0]];
            for (int32_t i = 0; i < n; i++)
                out[i] = add_finish(s1, scale2(p, b[i]), p);
        } else {
            int8_t v = add_finish(t1[(uint8_t)a[0]], scale2(p, b[0]), p);
            for (int32_t i = 0; i < n; i++)
                out[i] = v;
        }
        out += n;
        bcast_next(plan, &it);
    }
}

tmo_err add_s8_setup_opt(tmo_prep *p, add_params *a, size_t elements)
{
    a->use_table = elements >= ADD_TABLE_MIN_COUNT;
    p->scratch_bytes = a->use_table ? ADD_TABLE_BYTES : 0;
    p->invoke = add_s8_opt;
    return TMO_OK;
}
