/*
 * DEPTHWISE_CONV_2D int8 for Cortex-M cores with the DSP extension.
 *
 * Depth multiplier 1, channels a multiple of four: four channels at a time,
 * one output pixel at a time. Per tap, one LDR of four input bytes, two
 * SXTAB16 that add the input offset to channels (0, 2) and (1, 3), and four
 * SMLAxy against the tap's filter, which invoke first widens into scratch as
 * the matching int16 pairs [w0, w2], [w1, w3] (one LDRD per tap). Taps
 * outside the input are skipped (their (x + offset) is the reference's
 * implicit zero), so border pixels cost less, not more.
 *
 * One input channel with several outputs (person detection's and micro
 * speech's first layer, a multiplier that is a multiple of four) has its
 * own loop: the outputs of one input byte four at a time (oc_pixel).
 *
 * Anything else (other multipliers, channel counts not a multiple of four)
 * runs the reference loop.
 */
#include "../depthwise_conv.h"
#include "conv_core.h"
#include "dsp.h"
#include "requant.h"

enum { PATH_REF = 0, PATH_QUADS = 1, PATH_ONE_CHANNEL = 2 };

#define MAX_INPUT_OFFSET (32767 - 128)

/* ---- four channels at a time ---- */

static const int32_t no_bias[4] = {0, 0, 0, 0};

typedef struct dw_job {
    const conv_params *p;
    const int8_t *filter; /* the model's [taps][out_c] filter (one-channel path) */
    const int8_t *in_b;   /* this batch's image */
    const uint32_t *wq;   /* widened filter: [quad][tap][2 words] */
    const dsp_chan *chan; /* per output channel */
    const int32_t *bias;  /* per output channel, or four zeros (bias_step 0) */
    int32_t bias_step;    /* 4 (a quad's worth) or 0 */
    uint32_t off2;        /* input offset in both halfwords */
    int32_t quads, taps;
    int32_t col_step, row_step; /* input bytes between taps along x and along y */
} dw_job;

/* Widens the filter [taps][C] into [quad][tap]{[w0, w2], [w1, w3]} int16 pairs. */
static void widen_filter(const int8_t *filter, int32_t taps, int32_t channels, uint32_t *wq)
{
    const int32_t quads = channels >> 2;
    for (int32_t q = 0; q < quads; q++)
        for (int32_t t = 0; t < taps; t++, wq += 2) {
            const int8_t *w = filter + (size_t)t * (size_t)channels + (size_t)q * 4u;
            wq[0] = ((uint32_t)(uint16_t)(int16_t)w[0]) | ((uint32_t)(uint16_t)(int16_t)w[2] << 16);
            wq[1] = ((uint32_t)(uint16_t)(int16_t)w[1]) | ((uint32_t)(uint16_t)(int16_t)w[3] << 16);
        }
}

/*
 * acc0..3 (channels 0..3 of a quad) += one tap: the input word at s, the
 * widened filter pair at w (w advances to the next tap). DW_TAPS3 does three
 * taps s, s + step, s + 2 * step (s ends on the last), the common full
 * row of a 3x3 filter. On the target each tap is one assembly block of 9
 * registers, ordered after invoke's writes to the widened filter by
 * dsp_barrier(); hosts (and -O0) run the C twins.
 */
#if DSP_ASM
#define DW_TAP_ASM                                                                                 \
    "ldr     %[v], [%[s]]\n\t"                                                                     \
    "sxtab16 %[xa], %[off], %[v]\n\t"                                                              \
    "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                                       \
    "ldrd    %[wa], %[wb], [%[w]], #8\n\t"                                                         \
    "smlabb  %[a0], %[xa], %[wa], %[a0]\n\t"                                                       \
    "smlatt  %[a2], %[xa], %[wa], %[a2]\n\t"                                                       \
    "smlabb  %[a1], %[v], %[wb], %[a1]\n\t"                                                        \
    "smlatt  %[a3], %[v], %[wb], %[a3]\n\t"
#define DW_TAP(S, W, OFF2, a0, a1, a2, a3)                                                         \
    do {                                                                                           \
        uint32_t v_, xa_, wa_, wb_;                                                                \
        __asm__ volatile(                                                                          \
            DW_TAP_ASM                                                                             \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(W),             \
              [v] "=&r"(v_), [xa] "=&r"(xa_), [wa] "=&r"(wa_), [wb] "=&r"(wb_)                     \
            : [s] "r"(S), [off] "r"(OFF2));                                                        \
    } while (0)
#define DW_TAPS3(S, STEP, W, OFF2, a0, a1, a2, a3)                                                 \
    do {                                                                                           \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
        (S) += (STEP);                                                                             \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
        (S) += (STEP);                                                                             \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
    } while (0)
#else
#define DW_TAP(S, W, OFF2, a0, a1, a2, a3)                                                         \
    do {                                                                                           \
        uint32_t v_ = dsp_load32(S);                                                               \
        uint32_t xa_ = __sxtab16((OFF2), v_), xb_ = dsp_sxtab16_ror8((OFF2), v_);                  \
        a0 = __smlabb((int32_t)xa_, (int32_t)(W)[0], a0);                                          \
        a2 = __smlatt((int32_t)xa_, (int32_t)(W)[0], a2);                                          \
        a1 = __smlabb((int32_t)xb_, (int32_t)(W)[1], a1);                                          \
        a3 = __smlatt((int32_t)xb_, (int32_t)(W)[1], a3);                                          \
        (W) += 2;                                                                                  \
    } while (0)
#define DW_TAPS3(S, STEP, W, OFF2, a0, a1, a2, a3)                                                 \
    do {                                                                                           \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
        (S) += (STEP);                                                                             \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
        (S) += (STEP);                                                                             \
        DW_TAP(S, W, OFF2, a0, a1, a2, a3);                                                        \
    } while (0)
#endif

/* The taps of one output pixel that lie inside the input. */
typedef struct dw_win {
    const int8_t *src;  /* input at the first inside tap, channel 0 */
    int32_t w_off;      /* that tap's index in the filter (ky * k_w + kx) */
    int32_t ky_n, kx_n; /* inside rows and columns; ky_n = 0 when none */
} dw_win;

/* One output pixel, all quads (outputs stored a word at a time: out_c % 4 == 0). */
DSP_HOT void dw_pixel(const dw_job *j, const dw_win *win, int8_t *out)
{
    const conv_params *p = j->p;
    const uint32_t lo4 = dsp_splat8(p->act_min), hi4 = dsp_splat8(p->act_max);
    const int fast = p->dsp_fast_rq;
    const uint32_t off2 = j->off2;
    const int32_t col_step = j->col_step, row_step = j->row_step;
    const int32_t ky_n = win->ky_n, kx_n = win->kx_n, quads = j->quads;
    const size_t w_row = (size_t)p->k_w * 2u, w_quad = (size_t)j->taps * 2u;
    const dsp_chan *ch = j->chan;
    const int32_t *bias = j->bias;
    const int32_t bias_step = j->bias_step;
    const int8_t *src = win->src;
    const uint32_t *wq = j->wq + (size_t)win->w_off * 2u;
    if (kx_n == 3 && p->k_w == 3) {
        /* Whole rows of three taps: input and widened filter run on without gaps. */
        const int32_t radj = row_step - 2 * col_step;
        for (int32_t q = 0; q < quads;
             q++, src += 4, out += 4, ch += 4, wq += w_quad, bias += bias_step) {
            int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
            const int8_t *s = src;
            const uint32_t *w = wq;
            for (int32_t ky = 0; ky < ky_n;) {
                DW_TAPS3(s, col_step, w, off2, a0, a1, a2, a3);
                if (++ky < ky_n) /* no pointer past the last row */
                    s += radj;
            }
            dsp_store32(out, dsp_out4(a0, a1, a2, a3, ch, DSP_OUT_ANY, fast, lo4, hi4));
        }
        return;
    }
    for (int32_t q = 0; q < quads;
         q++, src += 4, out += 4, ch += 4, wq += w_quad, bias += bias_step) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        const int8_t *row = src;
        const uint32_t *wrow = wq;
        for (int32_t ky = 0; ky < ky_n; ky++, row += row_step, wrow += w_row) {
            const int8_t *s = row;
            const uint32_t *w = wrow;
            for (int32_t kx = 0; kx < kx_n; kx++, s += col_step)
                DW_TAP(s, w, off2, a0, a1, a2, a3);
        }
        dsp_store32(out, dsp_out4(a0, a1, a2, a3, ch, DSP_OUT_ANY, fast, lo4, hi4));
    }
}

/* Inside taps [lo, hi) of one dimension for window origin o (see conv_tap_range in opt/). */
static void tap_range(int32_t o, int32_t dil, int32_t taps, int32_t size, int32_t *lo, int32_t *hi)
{
    int32_t l = 0, h = taps;
    while (l < h && o + l * dil < 0)
        l++;
    while (h > l && o + (h - 1) * dil >= size)
        h--;
    *lo = l;
    *hi = h;
}

/* ---- one input channel, outputs in groups of four ---- */

/*
 * Each tap reads one input byte x (+ offset) and the four filter bytes of a
 * group (one LDR, two SXTB16 into [w0, w2], [w1, w3]); SMLABB / SMLATB
 * multiply each by x's bottom halfword: nine instructions per four
 * multiply-accumulates and no scratch beyond the channel table, which
 * matters because this layer is usually next to the network's largest
 * activations (micro speech's input and first output).
 */
/*
 * acc0..3 += n taps of one row, inputs at s, s + 1, ... (undilated), filter
 * words at w, w + w_step, ... (n >= 1): on the target an assembly block
 * of 9 instructions and 10 registers per tap; hosts run the C twin.
 */
#if DSP_ASM
#define OC_ROW(S, N, W, W_STEP, OFF, a0, a1, a2, a3)                                               \
    do {                                                                                           \
        const int8_t *s_ = (S), *end_ = (S) + (N);                                                 \
        const int8_t *w_ = (W);                                                                    \
        do {                                                                                       \
            int32_t x_;                                                                            \
            uint32_t t_, wa_;                                                                      \
            __asm__ volatile("ldrsb   %[x], [%[s]], #1\n\t"                                        \
                             "ldr     %[t], [%[w]]\n\t"                                            \
                             "add     %[x], %[x], %[off]\n\t"                                      \
                             "sxtb16  %[wa], %[t]\n\t"                                             \
                             "sxtb16  %[t], %[t], ror #8\n\t"                                      \
                             "smlabb  %[a0], %[wa], %[x], %[a0]\n\t"                               \
                             "smlatb  %[a2], %[wa], %[x], %[a2]\n\t"                               \
                             "smlabb  %[a1], %[t], %[x], %[a1]\n\t"                                \
                             "smlatb  %[a3], %[t], %[x], %[a3]\n\t"                                \
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),         \
                               [s] "+r"(s_), [x] "=&r"(x_), [t] "=&r"(t_), [wa] "=&r"(wa_)         \
                             : [w] "r"(w_), [off] "r"(OFF));                                       \
            w_ += (W_STEP);                                                                        \
        } while (s_ != end_);                                                                      \
    } while (0)
#else
#define OC_ROW(S, N, W, W_STEP, OFF, a0, a1, a2, a3)                                               \
    do {                                                                                           \
        const int8_t *s_ = (S), *w_ = (W);                                                         \
        for (int32_t k_ = 0; k_ < (N); k_++, s_++, w_ += (W_STEP)) {                               \
            int32_t x_ = *s_ + (OFF);                                                              \
            uint32_t t_ = dsp_load32(w_);                                                          \
            uint32_t wa_ = __sxtb16(t_), wb_ = dsp_sxtb16_ror8(t_);                                \
            a0 = __smlabb((int32_t)wa_, x_, a0);                                                   \
            a2 = __smlatb((int32_t)wa_, x_, a2);                                                   \
            a1 = __smlabb((int32_t)wb_, x_, a1);                                                   \
            a3 = __smlatb((int32_t)wb_, x_, a3);                                                   \
        }                                                                                          \
    } while (0)
#endif

DSP_HOT void oc_pixel(const dw_job *j, const dw_win *win, int8_t *out)
{
    const conv_params *p = j->p;
    const uint32_t lo4 = dsp_splat8(p->act_min), hi4 = dsp_splat8(p->act_max);
    const int32_t off = p->input_offset;
    const int fast = p->dsp_fast_rq;
    const int32_t out_c = p->out_c, ky_n = win->ky_n, kx_n = win->kx_n;
    const int32_t col_step = p->dil_w, row_step = p->dil_h * p->in_w;
    const size_t w_col = (size_t)out_c, w_row = (size_t)out_c * (size_t)p->k_w;
    const dsp_chan *ch = j->chan;
    const int8_t *wg = j->filter + (size_t)win->w_off * (size_t)out_c;
    const int32_t *bias = j->bias;
    const int32_t bias_step = j->bias_step;
    for (int32_t m = 0; m < out_c; m += 4, ch += 4, wg += 4, bias += bias_step) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        const int8_t *row = win->src;
        const int8_t *wrow = wg;
        for (int32_t ky = 0; ky < ky_n; ky++, row += row_step, wrow += w_row) {
            if (col_step == 1) {
                OC_ROW(row, kx_n, wrow, (int32_t)w_col, off, a0, a1, a2, a3);
                continue;
            }
            const int8_t *s = row;
            const int8_t *w = wrow;
            for (int32_t kx = 0; kx < kx_n; kx++, s += col_step, w += w_col) {
                int32_t xv = *s + off;
                uint32_t t = dsp_load32(w);
                uint32_t wa = __sxtb16(t), wb = dsp_sxtb16_ror8(t);
                a0 = __smlabb((int32_t)wa, xv, a0);
                a2 = __smlatb((int32_t)wa, xv, a2);
                a1 = __smlabb((int32_t)wb, xv, a1);
                a3 = __smlatb((int32_t)wb, xv, a3);
            }
        }
        dsp_store32(out + m, dsp_out4(a0, a1, a2, a3, ch, DSP_OUT_ANY, fast, lo4, hi4));
    }
}

/* ---- both paths ---- */

typedef void (*dw_pixel_fn)(const dw_job *j, const dw_win *win, int8_t *out);

/* Every output pixel: the taps inside the input, then the path's pixel function. */
static void dw_walk(dw_job *j, const int8_t *in, int8_t *out, dw_pixel_fn pixel)
{
    const conv_params *p = j->p;
    const size_t in_image = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    for (int32_t b = 0; b < p->batches; b++) {
        j->in_b = in + (size_t)b * in_image;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, p->dil_h, p->k_h, p->in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->out_c) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t kx0, kx1;
                tap_range(x0, p->dil_w, p->k_w, p->in_w, &kx0, &kx1);
                dw_win win;
                win.kx_n = kx1 - kx0;
                win.ky_n = win.kx_n > 0 ? ky1 - ky0 : 0;
                win.w_off = ky0 * p->k_w + kx0;
                win.src = j->in_b;
                if (win.ky_n > 0)
                    win.src += ((size_t)(y0 + ky0 * p->dil_h) * (size_t)p->in_w +
                                (size_t)(x0 + kx0 * p->dil_w)) *
                               (size_t)p->in_c;
                pixel(j, &win, out);
            }
        }
    }
}

void dwconv_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    if (p->dsp_path == PATH_REF) {
        dwconv_s8_ref(x, params, scratch);
        return;
    }
    const int32_t *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    dsp_chan *chan = scratch;
    dsp_chan_fill(chan, p->out_c, p->multiplier, p->shift, 1, p->output_offset, p->dsp_fast_rq);
    dw_job j;
    j.p = p;
    j.chan = chan;
    j.filter = exec_tensor(x, p->filter);
    j.bias = bias != NULL ? bias : no_bias;
    j.bias_step = bias != NULL ? 4 : 0;
    j.taps = p->k_h * p->k_w;
    j.quads = p->out_c >> 2;
    j.off2 = dsp_splat16(p->input_offset);
    j.col_step = p->dil_w * p->in_c;
    j.row_step = p->dil_h * p->in_w * p->in_c;
    j.wq = NULL;
    if (p->dsp_path == PATH_QUADS) {
        uint32_t *wq = (uint32_t *)(void *)(chan + p->out_c);
        widen_filter(j.filter, j.taps, p->out_c, wq);
        j.wq = wq;
    }
    dsp_barrier(); /* the widened filter and channel table are in memory before the asm reads them */
    dw_walk(&j, exec_tensor(x, p->input), exec_tensor(x, p->output),
            p->dsp_path == PATH_QUADS ? dw_pixel : oc_pixel);
}

static const void *constant(tmo_prep *p, uint16_t t)
{
    tmo_tensor_info info;
    if (t == CONV_NO_TENSOR || tmo_model_tensor(p->m, t, &info) != TMO_OK)
        return NULL;
    return info.data;
}

tmo_err dwconv_s8_setup_opt(tmo_prep *p, conv_params *cp)
{
    const int8_t *filter = constant(p, cp->filter);
    const int32_t *bias = constant(p, cp->bias);
    const int bias_known = cp->bias == CONV_NO_TENSOR || bias != NULL;
    const int32_t taps = cp->k_h * cp->k_w;
    uint64_t bytes;
    cp->dsp_path = PATH_REF;
    p->invoke = dwconv_s8_opt;
    p->scratch_bytes = 0;
    /* Words of the input are read (quads path): a constant input must start on a word. */
    if (cp->input_offset > MAX_INPUT_OFFSET || cp->input_offset < -MAX_INPUT_OFFSET ||
        ((uintptr_t)constant(p, cp->input) & 3u) != 0)
        return TMO_OK;
    cp->dsp_full_range = cp->act_min == -128 && cp->act_max == 127;
    /* Filter words: constant data must start on a word; activations always do. */
    const int filter_words = ((uintptr_t)filter & 3u) == 0;
    if (cp->in_c == 1 && cp->depth_mult > 1 && (cp->out_c & 3) == 0 && filter_words) {
        cp->dsp_fast_rq =
            (uint8_t)dsp_conv_fast_ok(cp, filter, 1, cp->out_c, taps, bias, bias_known);
        bytes = (uint64_t)cp->out_c * sizeof(dsp_chan);
        cp->dsp_path = PATH_ONE_CHANNEL;
    } else if (cp->depth_mult == 1 && (cp->in_c & 3) == 0) {
        cp->dsp_fast_rq =
            (uint8_t)dsp_conv_fast_ok(cp, filter, 1, cp->out_c, taps, bias, bias_known);
        bytes = (uint64_t)cp->out_c * sizeof(dsp_chan) + (uint64_t)taps * (uint64_t)cp->out_c * 2u;
        cp->dsp_path = PATH_QUADS;
    } else {
        return TMO_OK;
    }
    if (bytes > 0x3fffffffu)
        return prep_fail(p, TMO_EUNSUPPORTED, "filter", "filter too large for the scratch buffer");
    p->scratch_bytes = (uint32_t)bytes;
    return TMO_OK;
}
