/*
 * The dsp/ convolution engine (see conv_core.h for the patch layout).
 *
 * Cost model on a Cortex-M4: per group of four taps and filter, one LDR and
 * two SXTB16 for the filter word, then for each of the four pixels one LDRD
 * of its two patch words and two SMLADs: 33 instructions for 32
 * multiply-accumulates per two groups, with 11 live registers (4
 * accumulators, 2 filter halves, 2 patch words, 3 pointers). The input offset is added once per patch element (SXTAB16), so
 * the accumulator starts at the bias and no filter sums are needed.
 * Windows cut by the border get zeros in the patch: (x + off) = 0 there,
 * exactly the implicit zero padding of the reference.
 */
#include "conv_core.h"

#include "dsp.h"
#include "requant.h"

enum { GATHER_WORDS = 0, GATHER_BYTES = 1 };

/*
 * Pixel slot s of the patch for output (oy, ox) when the input depth is a
 * multiple of four: every window pixel is whole groups, read as words.
 */
static void gather_words(const conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox,
                         int16_t *col, int32_t s, uint32_t off2)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int32_t quads = p->in_c >> 2;
    int16_t *dst = col + s * 4;
    for (int32_t ky = 0; ky < p->k_h; ky++) {
        const int32_t iy = y0 + ky * p->dil_h;
        const int row_in = iy >= 0 && iy < p->in_h;
        for (int32_t kx = 0; kx < p->k_w; kx++) {
            const int32_t ix = x0 + kx * p->dil_w;
            if (row_in && ix >= 0 && ix < p->in_w) {
                const int8_t *src =
                    in_b + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c;
                for (int32_t q = 0; q < quads; q++, src += 4, dst += 16) {
                    uint32_t v = dsp_load32(src);
                    dsp_store32(dst, __sxtab16(off2, v));
                    dsp_store32(dst + 2, dsp_sxtab16_ror8(off2, v));
                }
            } else {
                for (int32_t q = 0; q < quads; q++, dst += 16) {
                    dsp_store32(dst, 0);
                    dsp_store32(dst + 2, 0);
                }
            }
        }
    }
}

/* Short runs of bytes, inline: a library call costs more than the few bytes of a window row. */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static inline void fill_bytes(int8_t *dst, int8_t v, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        dst[i] = v;
}

/*
 * The same for any input depth: the window is first copied in filter order
 * into tmp (depth4 bytes, outside taps and the tail hold the input zero
 * point, whose x + offset is 0), then widened four bytes at a time like
 * gather_words. Needs the zero point to be an int8 value.
 */
static void gather_bytes(const conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox,
                         int16_t *col, int32_t s, uint32_t off2, int8_t *tmp)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t in_c = p->in_c, depth = dsp_conv_depth(p), depth4 = dsp_conv_depth4(p);
    const int32_t row_bytes = p->k_w * in_c;
    int32_t kx0 = 0, kx1 = p->k_w; /* columns inside the input (contiguous when dil_w == 1) */
    while (kx0 < kx1 && x0 + kx0 * p->dil_w < 0)
        kx0++;
    while (kx1 > kx0 && x0 + (kx1 - 1) * p->dil_w >= p->in_w)
        kx1--;
    int8_t *t = tmp;
    for (int32_t ky = 0; ky < p->k_h; ky++, t += row_bytes) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h || kx0 == kx1) {
            fill_bytes(t, zp, row_bytes);
            continue;
        }
        const int8_t *row = in_b + (size_t)iy * (size_t)p->in_w * (size_t)in_c;
        fill_bytes(t, zp, kx0 * in_c);
        if (p->dil_w == 1) {
            copy_bytes(t + kx0 * in_c, row + (size_t)(x0 + kx0) * (size_t)in_c, (kx1 - kx0) * in_c);
        } else {
            for (int32_t kx = kx0; kx < kx1; kx++)
                copy_bytes(t + kx * in_c, row + (size_t)(x0 + kx * p->dil_w) * (size_t)in_c, in_c);
        }
        fill_bytes(t + kx1 * in_c, zp, (p->k_w - kx1) * in_c);
    }
    for (int32_t k = depth; k < depth4; k++)
        tmp[k] = zp;
    int16_t *dst = col + s * 4;
    for (int32_t k = 0; k < depth4; k += 4, dst += 16) {
        uint32_t v = dsp_load32(tmp + k);
        dsp_store32(dst, __sxtab16(off2, v));
        dsp_store32(dst + 2, dsp_sxtab16_ror8(off2, v));
    }
}

/*
 * One group of four taps for four pixels: filter word at w (then w += 4),
 * patch words from c + OFF. On the target the dot product is written out
 * in assembly, two groups per iteration, so that it provably keeps to 11
 * registers and pairs patch loads into LDRD (gcc does neither on its own):
 * 33 instructions per 32 multiply-accumulates. Hosts run the C twin.
 */
#if DSP_ASM
#define DOT_GROUP_ASM(OFF)                                                                         \
    "ldr     %[t], [%[w]], #4\n\t"                                                                 \
    "sxtb16  %[wa], %[t]\n\t"                                                                      \
    "sxtb16  %[t], %[t], ror #8\n\t"                                                               \
    "ldrd    %[x0], %[x1], [%[c], #" #OFF "]\n\t"                                                  \
    "smlad   %[a0], %[wa], %[x0], %[a0]\n\t"                                                       \
    "smlad   %[a0], %[t], %[x1], %[a0]\n\t"                                                        \
    "ldrd    %[x0], %[x1], [%[c], #" #OFF "+8]\n\t"                                                \
    "smlad   %[a1], %[wa], %[x0], %[a1]\n\t"                                                       \
    "smlad   %[a1], %[t], %[x1], %[a1]\n\t"                                                        \
    "ldrd    %[x0], %[x1], [%[c], #" #OFF "+16]\n\t"                                               \
    "smlad   %[a2], %[wa], %[x0], %[a2]\n\t"                                                       \
    "smlad   %[a2], %[t], %[x1], %[a2]\n\t"                                                        \
    "ldrd    %[x0], %[x1], [%[c], #" #OFF "+24]\n\t"                                               \
    "smlad   %[a3], %[wa], %[x0], %[a3]\n\t"                                                       \
    "smlad   %[a3], %[t], %[x1], %[a3]\n\t"

/* acc0..3 += dot products of the filter row w (groups words) with pixel slots 0..3 of col. */
#define DOT_BLOCK4(col, w, groups, a0, a1, a2, a3)                                                 \
    do {                                                                                           \
        const int16_t *c_ = (col);                                                                 \
        const int8_t *w_ = (w);                                                                    \
        const int8_t *end_ = w_ + (size_t)((groups) >> 1) * 8u;                                    \
        uint32_t t_, wa_, x0_, x1_;                                                                \
        if (w_ != end_)                                                                            \
            __asm__ volatile(                                                                      \
                "1:\n\t" DOT_GROUP_ASM(0) DOT_GROUP_ASM(32) "adds    %[c], %[c], #64\n\t"          \
                                                            "cmp     %[w], %[end]\n\t"             \
                                                            "bne     1b\n\t"                       \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w_),        \
                  [c] "+r"(c_), [t] "=&r"(t_), [wa] "=&r"(wa_), [x0] "=&r"(x0_), [x1] "=&r"(x1_)   \
                : [end] "r"(end_)                                                                  \
                : "cc", "memory");                                                                 \
        if ((groups)&1)                                                                            \
            __asm__ volatile(                                                                      \
                DOT_GROUP_ASM(0)                                                                   \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w_),        \
                  [t] "=&r"(t_), [wa] "=&r"(wa_), [x0] "=&r"(x0_), [x1] "=&r"(x1_)                 \
                : [c] "r"(c_)                                                                      \
                : "memory");                                                                       \
    } while (0)
#else
#define DOT_BLOCK4(col, w, groups, a0, a1, a2, a3)                                                 \
    do {                                                                                           \
        const int16_t *c_ = (col);                                                                 \
        const int8_t *w_ = (w);                                                                    \
        for (int32_t g_ = 0; g_ < (groups); g_++, w_ += 4, c_ += 16) {                             \
            uint32_t ww_ = dsp_load32(w_);                                                         \
            uint32_t wa_ = __sxtb16(ww_), wb_ = dsp_sxtb16_ror8(ww_);                              \
            a0 = __smlad(wb_, dsp_load32(c_ + 2), __smlad(wa_, dsp_load32(c_), a0));               \
            a1 = __smlad(wb_, dsp_load32(c_ + 6), __smlad(wa_, dsp_load32(c_ + 4), a1));           \
            a2 = __smlad(wb_, dsp_load32(c_ + 10), __smlad(wa_, dsp_load32(c_ + 8), a2));          \
            a3 = __smlad(wb_, dsp_load32(c_ + 14), __smlad(wa_, dsp_load32(c_ + 12), a3));         \
        }                                                                                          \
    } while (0)
#endif

/*
 * Filter rows as the engine reads them: row oc at rows + oc * row_stride,
 * 4-byte aligned and zero-padded to depth4. Either the model's filter in
 * place (aligned rows) or a copy in scratch made once per invoke, for
 * filters up to REPACK_MAX_BYTES (first layers: depth 27 = 3x3x3, 9, 75...);
 * larger filters with unaligned rows run the reference loop.
 */
#define REPACK_MAX_BYTES 8192u

/* What one block of pixels needs. */
typedef struct block {
    const int16_t *col;
    const int8_t *rows;
    int32_t row_stride;
    const dsp_chan *chan;
    const int32_t *bias; /* bias[oc * bias_step]: the model's bias, or one zero (step 0) */
    int32_t bias_step;
    int32_t groups, out_c;
    int32_t lo, hi;
    int fast; /* the fast output stage is exact (DSP_OUT_ANY picks per layer) */
} block;

static const int32_t no_bias = 0;

/*
 * Channels [0, count) of b over n (1..4) pixels (unused slots hold zeros),
 * outputs at out + oc + s * out_c; kind is a constant.
 */
DSP_INLINE void filters4(const block *b, const int8_t *w, const dsp_chan *ch, const int32_t *bias,
                         int32_t count, int32_t n, int8_t *out, int kind)
{
    const int32_t groups = b->groups, stride = b->out_c, w_stride = b->row_stride;
    const int32_t lo = b->lo, hi = b->hi, bias_step = b->bias_step;
    const int fast = b->fast;
    const int16_t *col = b->col;
    for (int32_t oc = 0; oc < count; oc++, ch++, out++, w += w_stride, bias += bias_step) {
        const dsp_chan c = *ch;
        int32_t a0 = *bias, a1 = a0, a2 = a0, a3 = a0;
        DOT_BLOCK4(col, w, groups, a0, a1, a2, a3);
        int8_t o0 = dsp_out(a0, &c, kind, fast, lo, hi), o1 = dsp_out(a1, &c, kind, fast, lo, hi);
        int8_t o2 = dsp_out(a2, &c, kind, fast, lo, hi), o3 = dsp_out(a3, &c, kind, fast, lo, hi);
        out[0] = o0;
        if (n == 4) {
            out[stride] = o1;
            out[2 * stride] = o2;
            out[3 * stride] = o3;
        } else if (n > 1) { /* the last block of a layer */
            out[stride] = o1;
            if (n > 2)
                out[2 * stride] = o2;
        }
    }
}

#if !defined(__OPTIMIZE_SIZE__)
DSP_HOT void filters4_full(const block *b, const int8_t *w, const dsp_chan *ch, const int32_t *bias,
                           int32_t count, int32_t n, int8_t *out)
{
    filters4(b, w, ch, bias, count, n, out, DSP_OUT_FULL);
}
#endif

DSP_HOT void filters4_any(const block *b, const int8_t *w, const dsp_chan *ch, const int32_t *bias,
                          int32_t count, int32_t n, int8_t *out)
{
    filters4(b, w, ch, bias, count, n, out, DSP_OUT_ANY);
}

/* Every filter over the n (1..4) gathered pixels. */
static void filters(const block *b, int32_t n, int8_t *out, int kind)
{
    (void)kind;
#if !defined(__OPTIMIZE_SIZE__) /* -Os: one copy of the loop (the clamp costs 4 instructions) */
    if (kind == DSP_OUT_FULL) {
        filters4_full(b, b->rows, b->chan, b->bias, b->out_c, n, out);
        return;
    }
#endif
    filters4_any(b, b->rows, b->chan, b->bias, b->out_c, n, out);
}

/* Copies filter row oc (depth bytes) into dst, zero-padded to depth4. */
static void copy_row(int8_t *dst, const int8_t *filter, int32_t depth, int32_t depth4, int32_t oc)
{
    const int8_t *w = filter + (size_t)oc * (size_t)depth;
    for (int32_t k = 0; k < depth; k++)
        dst[k] = w[k];
    for (int32_t k = depth; k < depth4; k++)
        dst[k] = 0;
}

/* How windows are gathered (GATHER_*): words when the input depth allows, else bytes. */
static int gather_mode(const conv_params *p)
{
    return (p->in_c & 3) == 0 ? GATHER_WORDS : GATHER_BYTES;
}

/* Bytes of the filter copy when rows can not be read in place (0 when they can). */
static uint64_t repack_bytes(const conv_params *p)
{
    return p->dsp_rows_aligned ? 0u : (uint64_t)p->out_c * (uint64_t)dsp_conv_depth4(p);
}

int dsp_conv_supported(const conv_params *p)
{
    return repack_bytes(p) <= REPACK_MAX_BYTES;
}

/*
 * Scratch layout: the four-pixel patch (8 bytes per tap), the channel
 * table, the byte window of gather_bytes (only when used), then the filter
 * copy unless rows are read in place.
 */
uint64_t dsp_conv_scratch_bytes(const conv_params *p)
{
    uint64_t depth4 = (uint64_t)dsp_conv_depth4(p);
    return depth4 * 2u * 4u + (uint64_t)p->out_c * sizeof(dsp_chan) +
           (gather_mode(p) == GATHER_BYTES ? depth4 : 0u) + repack_bytes(p);
}

void dsp_conv_run(const conv_params *p, const dsp_conv_args *a)
{
    const int32_t depth = dsp_conv_depth(p), depth4 = dsp_conv_depth4(p);
    block b;
    b.groups = depth4 >> 2;
    b.out_c = p->out_c;
    b.lo = p->act_min;
    b.hi = p->act_max;
    int16_t *col = a->scratch;
    dsp_chan *chan = (dsp_chan *)(void *)(col + (size_t)depth4 * 4u);
    const int gather = gather_mode(p);
    int8_t *tmp = (int8_t *)(chan + p->out_c);
    b.col = col;
    b.chan = chan;
    if (p->dsp_rows_aligned) {
        b.rows = a->filter;
        b.row_stride = depth;
    } else {
        int8_t *rows = tmp + (gather == GATHER_BYTES ? depth4 : 0);
        for (int32_t oc = 0; oc < p->out_c; oc++)
            copy_row(rows + (size_t)oc * (size_t)depth4, a->filter, depth, depth4, oc);
        b.rows = rows;
        b.row_stride = depth4;
    }
    dsp_chan_fill(chan, p->out_c, p->multiplier, p->shift, 1, p->output_offset, p->dsp_fast_rq);
    b.fast = p->dsp_fast_rq;
    b.bias = a->bias != NULL ? a->bias : &no_bias;
    b.bias_step = a->bias != NULL ? 1 : 0;
    const int kind = dsp_out_kind(p->dsp_fast_rq, p->act_min, p->act_max);
    const uint32_t off2 = dsp_splat16(p->input_offset);
    const size_t in_image = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    int8_t *out = a->out;
    for (int32_t bi = 0; bi < p->batches; bi++) {
        const int8_t *in_b = a->in + (size_t)bi * in_image;
        int32_t oy = 0, ox = 0;
        for (int32_t done = 0; done < pixels;) {
            int32_t n = pixels - done < 4 ? pixels - done : 4;
            for (int32_t s = 0; s < 4; s++) {
                if (s >= n) { /* slots past the last pixel are computed, not stored: zeros */
                    for (int32_t g = 0; g < b.groups; g++) {
                        dsp_store32(col + g * 16 + s * 4, 0);
                        dsp_store32(col + g * 16 + s * 4 + 2, 0);
                    }
                    continue;
                }
                if (gather == GATHER_WORDS)
                    gather_words(p, in_b, oy, ox, col, s, off2);
                else
                    gather_bytes(p, in_b, oy, ox, col, s, off2, tmp);
                if (++ox == p->out_w) {
                    ox = 0;
                    oy++;
                }
            }
            filters(&b, n, out, kind);
            out += (size_t)n * (size_t)p->out_c;
            done += n;
        }
    }
}

int dsp_conv_fast_ok(const conv_params *p, const int8_t *filter, int32_t oc_step, int32_t tap_step,
                     int32_t taps, const int32_t *bias, int bias_known)
{
    if (filter == NULL || !bias_known || !dsp_rq_scale_ok(p->multiplier, p->shift, 1, p->out_c))
        return 0;
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        int64_t bound = dsp_acc_bound(filter + (size_t)oc * (size_t)oc_step, taps, tap_step,
                                      bias != NULL ? bias[oc] : 0, p->input_offset);
        if (bound >= DSP_RQ_MAX_ACC)
            return 0;
    }
    return 1;
}

void dsp_conv_plan(conv_params *p, const int8_t *filter, const int32_t *bias, int bias_known)
{
    const int32_t depth = dsp_conv_depth(p);
    p->dsp_rows_aligned = filter != NULL && (depth & 3) == 0 && ((uintptr_t)filter & 3u) == 0;
    p->dsp_full_range = p->act_min == -128 && p->act_max == 127;
    p->dsp_fast_rq = (uint8_t)dsp_conv_fast_ok(p, filter, depth, 1, depth, bias, bias_known);
}
