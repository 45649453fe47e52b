/*
 * FULLY_CONNECTED int8 for Cortex-M cores with the DSP extension.
 *
 * Four units at a time: per four inputs, one LDR and two SXTAB16 give the
 * input words with the input offset added ([x0, x2], [x1, x3]); each unit's
 * four weights are one LDR and two SXTB16 in the same order, and two SMLADs:
 * 23 instructions for 16 multiply-accumulates, 13 live registers, no
 * scratch and no weight sums (the offset is inside the products). Rows whose words
 * are not 4-byte aligned, short rows and the last depth % 4 inputs take a
 * plain loop. Output stage as the other dsp/ kernels (requant.h).
 *
 * Weights with a non-zero zero point (not int8 per the TFLite spec, but
 * accepted by the reference) run the reference loop.
 */
#include "../fully_connected.h"
#include "dsp.h"
#include "requant.h"

enum { PATH_REF = 0, PATH_DSP = 1 };

#define MAX_INPUT_OFFSET (32767 - 128)

/* Below this depth the word loop's set-up costs more than it saves. */
#define MIN_WORD_DEPTH 8

/*
 * acc0..3 += four rows (w0, w0 + stride, w1, w1 + stride) times the input
 * words at x, two groups of four per step, `pairs` steps.
 */
#if DSP_ASM
/* Two rows of one group: row (w + st) into acc A, row w into acc B, w advances. */
#define FC_ROWS2(W, ST, XA, XB, A, B)                                                              \
    do {                                                                                           \
        uint32_t t_, wa_;                                                                          \
        __asm__ volatile("ldr     %[t], [%[w], %[st]]\n\t"                                         \
                         "sxtb16  %[wa], %[t]\n\t"                                                 \
                         "sxtb16  %[t], %[t], ror #8\n\t"                                          \
                         "smlad   %[a], %[wa], %[xa], %[a]\n\t"                                    \
                         "smlad   %[a], %[t], %[xb], %[a]\n\t"                                     \
                         "ldr     %[t], [%[w]], #4\n\t"                                            \
                         "sxtb16  %[wa], %[t]\n\t"                                                 \
                         "sxtb16  %[t], %[t], ror #8\n\t"                                          \
                         "smlad   %[b], %[wa], %[xa], %[b]\n\t"                                    \
                         "smlad   %[b], %[t], %[xb], %[b]\n\t"                                     \
                         : [a] "+r"(A), [b] "+r"(B), [w] "+r"(W), [t] "=&r"(t_), [wa] "=&r"(wa_)   \
                         : [st] "r"(ST), [xa] "r"(XA), [xb] "r"(XB));                              \
    } while (0)

/*
 * acc0..3 += four rows (w0, w0 + stride, w1 = w0 + 2 stride, w1 + stride)
 * times the input words at x, 2 * pairs groups of four. Each group: one LDR
 * and two SXTAB16 for the input, then per row LDR, two SXTB16, two SMLAD;
 * small assembly blocks (at most 8 registers each) that the compiler strings
 * together, 13 values live in all.
 */
DSP_HOT void dot4(const int8_t *x, const int8_t *w0, int32_t stride, int32_t pairs, uint32_t off2,
                  int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *w1 = w0 + 2 * (size_t)stride;
    const int8_t *end = x + (size_t)pairs * 8u;
#define FC_INPUT(XA, XB)                                                                           \
    do {                                                                                           \
        uint32_t v_;                                                                               \
        __asm__ volatile("ldr     %[v], [%[x]], #4\n\t"                                            \
                         "sxtab16 %[xa], %[off], %[v]\n\t"                                         \
                         "sxtab16 %[xb], %[off], %[v], ror #8\n\t"                                 \
                         : [x] "+r"(x), [v] "=&r"(v_), [xa] "=&r"(XA), [xb] "=r"(XB)               \
                         : [off] "r"(off2));                                                       \
    } while (0)
    do {
        uint32_t xa, xb;
        FC_INPUT(xa, xb);
        FC_ROWS2(w0, stride, xa, xb, a1, a0);
        FC_ROWS2(w1, stride, xa, xb, a3, a2);
        FC_INPUT(xa, xb);
        FC_ROWS2(w0, stride, xa, xb, a1, a0);
        FC_ROWS2(w1, stride, xa, xb, a3, a2);
    } while (x != end);
#undef FC_INPUT
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#else
DSP_HOT void dot4(const int8_t *x, const int8_t *w0, int32_t stride, int32_t pairs, uint32_t off2,
                  int32_t *acc)
{
    for (int32_t g = 0; g < 2 * pairs; g++, x += 4) {
        uint32_t v = dsp_load32(x);
        uint32_t xa = __sxtab16(off2, v), xb = dsp_sxtab16_ror8(off2, v);
        for (int u = 0; u < 4; u++) {
            uint32_t t = dsp_load32(w0 + (size_t)u * (size_t)stride + (size_t)g * 4u);
            acc[u] = __smlad(dsp_sxtb16_ror8(t), xb, __smlad(__sxtb16(t), xa, acc[u]));
        }
    }
}
#endif

/* acc += one row w times the input words at x, `groups` groups of four. */
static inline int32_t dot1(const int8_t *x, const int8_t *w, int32_t groups, uint32_t off2,
                           int32_t acc)
{
    for (int32_t g = 0; g < groups; g++, x += 4, w += 4) {
        uint32_t v = dsp_load32(x), t = dsp_load32(w);
        acc = __smlad(__sxtb16(t), __sxtab16(off2, v), acc);
        acc = __smlad(dsp_sxtb16_ror8(t), dsp_sxtab16_ror8(off2, v), acc);
    }
    return acc;
}

/* acc += inputs [from, depth) times row w, one at a time. */
static inline int32_t dot_tail(const int8_t *x, const int8_t *w, int32_t from, int32_t depth,
                               int32_t off, int32_t acc)
{
    for (int32_t d = from; d < depth; d++)
        acc = (int32_t)((uint32_t)acc + (uint32_t)(w[d] * (x[d] + off)));
    return acc;
}

/*
 * One input row; words: rows and input are 4-byte aligned (else every input
 * goes through the plain loop). One copy for every case: the output stage
 * (DSP_OUT_ANY) clamps at run time, a few instructions per unit against code
 * size that matters in the smallest firmware.
 */
DSP_HOT void fc_row(const fc_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                    int8_t *out, int words)
{
    const int32_t depth = p->depth, off = p->input_offset, lo = p->act_min, hi = p->act_max;
    const uint32_t off2 = dsp_splat16(off);
    const int32_t groups = words ? depth >> 2 : 0, done = groups * 4;
    const int32_t pairs = groups >> 1, quant_stride = p->quant_stride;
    const int tail = (groups & 1) != 0 || done != depth; /* inputs the pairs loop leaves over */
    const int fast = p->dsp_fast_rq;
    dsp_chan c = dsp_chan_of(p->multiplier[0], p->shift[0], p->output_offset, fast);
    int32_t u = 0;
    if (pairs > 0) {
        for (; u + 4 <= p->units; u += 4, w += 4 * (size_t)depth) {
            int32_t acc[4] = {0, 0, 0, 0};
            if (bias != NULL)
                for (int k = 0; k < 4; k++)
                    acc[k] = bias[u + k];
            dot4(x, w, depth, pairs, off2, acc);
            for (int k = 0; k < 4; k++) {
                int32_t a = acc[k];
                if (tail) {
                    const int8_t *wk = w + (size_t)k * (size_t)depth;
                    a = dot1(x + pairs * 8, wk + pairs * 8, groups & 1, off2, a);
                    a = dot_tail(x, wk, done, depth, off, a);
                }
                if (quant_stride != 0)
                    c = dsp_chan_of(p->multiplier[u + k], p->shift[u + k], p->output_offset, fast);
                out[u + k] = dsp_out(a, &c, DSP_OUT_ANY, fast, lo, hi);
            }
        }
    }
    for (; u < p->units; u++, w += depth) {
        int32_t a = dot1(x, w, groups, off2, bias != NULL ? bias[u] : 0);
        a = dot_tail(x, w, done, depth, off, a);
        if (quant_stride != 0)
            c = dsp_chan_of(p->multiplier[u], p->shift[u], p->output_offset, fast);
        out[u] = dsp_out(a, &c, DSP_OUT_ANY, fast, lo, hi);
    }
}

void fc_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const fc_params *p = params;
    if (p->dsp_path == PATH_REF) {
        fc_s8_ref(x, params, scratch);
        return;
    }
    const int8_t *in = exec_tensor(x, p->input);
    const int8_t *w = exec_tensor(x, p->weights);
    const int32_t *bias = p->bias != NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    int8_t *out = exec_tensor(x, p->output);
    /* Rows and inputs are words when the depth is and both tensors start on a word. */
    const int words = (p->depth & 3) == 0 && p->depth >= MIN_WORD_DEPTH &&
                      (((uintptr_t)in | (uintptr_t)w) & 3u) == 0;
    for (int32_t b = 0; b < p->batches; b++)
        fc_row(p, in + (size_t)b * (size_t)p->depth, w, bias, out + (size_t)b * (size_t)p->units,
               words);
}

static const void *constant(tmo_prep *p, uint16_t t)
{
    tmo_tensor_info info;
    if (t == NO_TENSOR || tmo_model_tensor(p->m, t, &info) != TMO_OK)
        return NULL;
    return info.data;
}

/* Whether the fast output stage is exact for every unit (constant weights and bias). */
static int fast_ok(tmo_prep *p, const fc_params *fc)
{
    const int8_t *w = constant(p, fc->weights);
    const int32_t *bias = constant(p, fc->bias);
    if (w == NULL || (fc->bias != NO_TENSOR && bias == NULL))
        return 0;
    int32_t channels = fc->quant_stride != 0 ? fc->units : 1;
    if (!dsp_rq_scale_ok(fc->multiplier, fc->shift, 1, channels))
        return 0;
    for (int32_t u = 0; u < fc->units; u++)
        if (dsp_acc_bound(w + (size_t)u * (size_t)fc->depth, fc->depth, 1,
                          bias != NULL ? bias[u] : 0, fc->input_offset) >= DSP_RQ_MAX_ACC)
            return 0;
    return 1;
}

tmo_err fc_s8_setup_opt(tmo_prep *p, fc_params *fc)
{
    p->invoke = fc_s8_opt;
    fc->dsp_path = PATH_REF;
    if (fc->weights_offset != 0 || fc->input_offset > MAX_INPUT_OFFSET ||
        fc->input_offset < -MAX_INPUT_OFFSET)
        return TMO_OK;
    fc->dsp_fast_rq = (uint8_t)fast_ok(p, fc);
    fc->dsp_path = PATH_DSP;
    return TMO_OK;
}
