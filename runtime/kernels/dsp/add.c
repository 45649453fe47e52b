/*
 * ADD int8 for Cortex-M cores with the DSP extension: TFLite Micro's three
 * rescales per element (each input shifted left by 20 and scaled to twice
 * the larger input scale, then the sum to the output) in the four-
 * instruction form of requant.h, with no tables, so the operator needs no
 * scratch at all (ADD usually runs where three full-size activations are
 * alive, the arena's peak).
 *
 * The fast form's conditions are checked once at prepare: every rescale has
 * 1 <= e <= 22 and a multiplier above 2^30 (or, for an input, is an exact
 * power of two, see in_stage), and the input offsets are small
 * enough that (x + offset) * 2^20 and the sum of the scaled inputs stay
 * below 2^30 in magnitude. Otherwise the reference loop runs.
 */
#include "../add.h"
#include "dsp.h"
#include "requant.h"

/* |x + offset| <= 255 + this keeps (x + offset) * 2^20 * 2 within int32 with room. */
#define MAX_OFFSET 512

/*
 * How one input is rescaled. FAST: the four-instruction form. POW2: the
 * larger input of an ADD has real multiplier 0.5 exactly (multiplier 2^30,
 * shift 0, or a further power of two): then SRDHM((x + offset) << 20, 2^30)
 * is (x + offset) << 19 exactly, and dividing that by 2^k (k <= 19) leaves
 * no remainder, so the contribution is (x + offset) << (19 - k).
 */
enum { IN_FAST = 0, IN_POW2 = 1 };

typedef struct in_stage {
    dsp_chan c;    /* FAST */
    int32_t o21;   /* FAST: offset << 21 */
    int32_t off;   /* POW2: offset */
    int32_t shift; /* POW2: 19 - k */
} in_stage;

DSP_INLINE int32_t scale_in(int32_t x, const in_stage *st, int mode)
{
    if (mode == IN_POW2)
        return (int32_t)((uint32_t)(x + st->off) << st->shift);
    int32_t a2 = st->o21 + (int32_t)((uint32_t)x << 21); /* 2 * ((x + offset) << 20) */
    return (dsp_smmlar(a2, st->c.mult, st->c.add) + (a2 >> 31)) >> st->c.right;
}

typedef struct add_consts {
    in_stage in1, in2;
    dsp_chan out;
    int32_t lo, hi;
    int m1, m2; /* input modes */
} add_consts;

/*
 * n outputs from a and b with steps sa, sb (1 walks, 0 repeats one element:
 * broadcasting); m1, m2 are the input modes, constants in the contiguous
 * rows (both steps 1, the common case) that get their own copies.
 */
DSP_INLINE void add_row(const add_consts *k, const int8_t *a, const int8_t *b, int8_t *out,
                        int32_t n, int32_t sa, int32_t sb, int m1, int m2)
{
    const int32_t lo = k->lo, hi = k->hi;
    for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
        int32_t sum = scale_in(*a, &k->in1, m1) + scale_in(*b, &k->in2, m2);
        out[i] = dsp_clamp(dsp_rq_fast(sum, &k->out), lo, hi);
    }
}

typedef void (*add_rows_fn)(const add_consts *k, const int8_t *a, const int8_t *b, int8_t *out,
                            int32_t n, int32_t sa, int32_t sb);

#define ADD_ROWS(NAME, M1, M2)                                                                     \
    static void NAME(const add_consts *k, const int8_t *a, const int8_t *b, int8_t *out,           \
                     int32_t n, int32_t sa, int32_t sb)                                            \
    {                                                                                              \
        (void)sa;                                                                                  \
        (void)sb;                                                                                  \
        add_row(k, a, b, out, n, 1, 1, M1, M2);                                                    \
    }
ADD_ROWS(rows_ff, IN_FAST, IN_FAST)
ADD_ROWS(rows_fp, IN_FAST, IN_POW2)
ADD_ROWS(rows_pf, IN_POW2, IN_FAST)
ADD_ROWS(rows_pp, IN_POW2, IN_POW2)

/* Broadcast rows: one copy with the modes read at run time. */
static void rows_broadcast(const add_consts *k, const int8_t *a, const int8_t *b, int8_t *out,
                           int32_t n, int32_t sa, int32_t sb)
{
    const int32_t lo = k->lo, hi = k->hi;
    for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
        int32_t sum = scale_in(*a, &k->in1, k->m1) + scale_in(*b, &k->in2, k->m2);
        out[i] = dsp_clamp(dsp_rq_fast(sum, &k->out), lo, hi);
    }
}

/* [m1][m2] */
static const add_rows_fn add_rows[2][2] = {{rows_ff, rows_fp}, {rows_pf, rows_pp}};

/* The input stage for (multiplier, shift, offset) and its mode. */
static int in_stage_of(int32_t multiplier, int32_t shift, int32_t offset, in_stage *st)
{
    st->off = offset;
    st->o21 = (int32_t)((uint32_t)offset << 21);
    if (multiplier == (1 << 30) && shift <= 0 && shift >= -19) {
        st->shift = 19 + shift;
        return IN_POW2;
    }
    int8_t s8 = (int8_t)shift;
    dsp_chan_fill(&st->c, 1, &multiplier, &s8, 0, 0, 1);
    return IN_FAST;
}

void add_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const add_params *p = params;
    if (!p->dsp_fast) {
        add_s8_ref(x, params, scratch);
        return;
    }
    const int8_t *in1 = exec_tensor(x, p->in1);
    const int8_t *in2 = exec_tensor(x, p->in2);
    int8_t *out = exec_tensor(x, p->output);
    add_consts k;
    k.m1 = in_stage_of(p->in1_multiplier, p->in1_shift, p->in1_offset, &k.in1);
    k.m2 = in_stage_of(p->in2_multiplier, p->in2_shift, p->in2_offset, &k.in2);
    int8_t out_shift = (int8_t)p->out_shift;
    dsp_chan_fill(&k.out, 1, &p->out_multiplier, &out_shift, 0, p->out_offset, 1);
    k.lo = p->act_min;
    k.hi = p->act_max;
    const bcast_plan *plan = &p->plan;
    const add_rows_fn rows = plan->inner_a && plan->inner_b ? add_rows[k.m1][k.m2] : rows_broadcast;
    bcast_iter it;
    bcast_begin(&it);
    for (uint32_t r = 0; r < plan->rows; r++) {
        rows(&k, in1 + it.a, in2 + it.b, out, plan->inner, plan->inner_a, plan->inner_b);
        out += plan->inner;
        bcast_next(plan, &it);
    }
}

/* Whether one input's rescale has a 32-bit form (in_stage_of's two modes). */
static int in_ok(int32_t multiplier, int32_t shift)
{
    if (multiplier == (1 << 30) && shift <= 0 && shift >= -19)
        return 1;
    int8_t s = (int8_t)shift;
    return shift == s && dsp_rq_scale_ok(&multiplier, &s, 0, 1);
}

tmo_err add_s8_setup_opt(tmo_prep *p, add_params *a, size_t elements)
{
    (void)elements;
    int8_t out_shift = (int8_t)a->out_shift;
    /* |scaled input| <= (255 + MAX_OFFSET) * 2^20 / 2 each, so the sum stays below 2^30. */
    a->dsp_fast = a->left_shift == 20 && a->in1_offset >= -MAX_OFFSET &&
                  a->in1_offset <= MAX_OFFSET && a->in2_offset >= -MAX_OFFSET &&
                  a->in2_offset <= MAX_OFFSET && in_ok(a->in1_multiplier, a->in1_shift) &&
                  in_ok(a->in2_multiplier, a->in2_shift) && a->out_shift == out_shift &&
                  dsp_rq_scale_ok(&a->out_multiplier, &out_shift, 0, 1) && a->out_offset >= -128 &&
                  a->out_offset <= 127;
    a->use_table = 0;
    p->scratch_bytes = 0;
    p->invoke = add_s8_opt;
    return TMO_OK;
}
