/*
 * MUL int8 for Cortex-M cores with the DSP extension: the product of the
 * offset inputs is at most 255 * 255 in magnitude (prepare bounds the
 * offsets), so TFLite's rescale takes the four-instruction form of
 * requant.h whenever its shift and multiplier allow (checked at prepare);
 * otherwise the reference loop runs.
 */
#include "../mul.h"
#include "dsp.h"
#include "requant.h"

/* |x + offset| <= 128 + 255: the product stays far below 2^30. */
#define MAX_OFFSET 255

/* n outputs; steps sa, sb are 1 (walk) or 0 (repeat one element: broadcasting). */
static void mul_row(const mul_params *p, const dsp_chan *c, const int8_t *a, int32_t sa,
                    const int8_t *b, int32_t sb, int8_t *out, int32_t n)
{
    const int32_t o1 = p->in1_offset, o2 = p->in2_offset, lo = p->act_min, hi = p->act_max;
    for (int32_t i = 0; i < n; i++, a += sa, b += sb)
        out[i] = dsp_clamp(dsp_rq_fast((*a + o1) * (*b + o2), c), lo, hi);
}

static void mul_s8_dsp(const tmo_exec *x, const void *params, void *scratch)
{
    const mul_params *p = params;
    const int8_t *in1 = exec_tensor(x, p->in1);
    const int8_t *in2 = exec_tensor(x, p->in2);
    int8_t *out = exec_tensor(x, p->output);
    int8_t shift = (int8_t)p->shift;
    dsp_chan c = dsp_chan_of(p->multiplier, shift, p->out_offset, 1);
    const bcast_plan *plan = &p->plan;
    bcast_iter it;
    (void)scratch;
    bcast_begin(&it);
    for (uint32_t r = 0; r < plan->rows; r++) {
        mul_row(p, &c, in1 + it.a, plan->inner_a, in2 + it.b, plan->inner_b, out, plan->inner);
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

tmo_err mul_s8_setup_opt(tmo_prep *p, mul_params *m)
{
    int8_t shift = (int8_t)m->shift;
    m->dsp_fast = m->shift == shift && dsp_rq_scale_ok(&m->multiplier, &shift, 0, 1) &&
                  m->in1_offset >= -MAX_OFFSET && m->in1_offset <= MAX_OFFSET &&
                  m->in2_offset >= -MAX_OFFSET && m->in2_offset <= MAX_OFFSET &&
                  m->out_offset >= -128 && m->out_offset <= 127;
    if (!m->dsp_fast)
        return mul_s8_setup_ref(p, m);
    p->invoke = mul_s8_dsp;
    return TMO_OK;
}
