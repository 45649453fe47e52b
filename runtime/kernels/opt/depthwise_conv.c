/*
 * DEPTHWISE_CONV_2D optimized int8 kernel.
 *
 * As in opt/conv.c, sum(w * (x + offset)) + bias = sum(w * x) + fold with
 * fold = bias + offset * sum(w) per output channel, so the inner loop
 * multiplies raw int8 values. Only the taps inside the input are visited
 * (their range is found once per window); windows cut by the border add
 * bias + offset * (their taps' filter sum) instead of the fold, summed in
 * the same pass. Lanes run across channels (depth multiplier 1) or across
 * the multiplier's outputs of one input channel, 16 or 8 at a time, which a
 * vector unit does in a few instructions. Sums wrap in uint32: bit-exact
 * with the reference for any size.
 *
 * Scratch: the rescale constants and fold of every output channel
 * (conv_rq), recomputed every invoke so they cost no persistent memory.
 */
#include "../depthwise_conv.h"
#include "conv_util.h"

typedef struct window {
    const int8_t *in_b; /* this batch's image */
    int32_t y0, x0;     /* input coordinates of tap (0, 0) */
    int32_t ky_lo, ky_hi, kx_lo, kx_hi; /* taps inside the input */
    int full;           /* every tap is inside */
} window;

/*
 * acc[k] = sum over inside taps of src[c + k * step_x] * w[tap][oc + k] and,
 * for windows that are not full, wsum[k] = sum of those w. step_x is 1 for
 * lanes across channels (multiplier 1), 0 for lanes across one channel's
 * multiplier outputs. Called with constant lanes and full so each call site
 * becomes a fixed-width loop.
 */
static inline void lanes_sum(const conv_params *p, const window *win, const int8_t *filter,
                             int32_t c, int32_t oc, int step_x, int lanes, int full,
                             uint32_t *acc, uint32_t *wsum)
{
    for (int k = 0; k < lanes; k++) {
        acc[k] = 0;
        wsum[k] = 0;
    }
    const size_t step_in = (size_t)p->dil_w * (size_t)p->in_c;
    for (int32_t ky = win->ky_lo; ky < win->ky_hi; ky++) {
        const int32_t iy = win->y0 + ky * p->dil_h;
        const int32_t ix = win->x0 + win->kx_lo * p->dil_w;
        const int8_t *src =
            win->in_b + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c + c;
        const int8_t *w =
            filter + ((size_t)ky * (size_t)p->k_w + (size_t)win->kx_lo) * (size_t)p->out_c + oc;
        for (int32_t kx = win->kx_lo; kx < win->kx_hi; kx++, src += step_in, w += p->out_c) {
            if (step_x) {
                for (int k = 0; k < lanes; k++)
                    acc[k] += (uint32_t)(src[k] * w[k]);
            } else {
                int32_t v = src[0];
                for (int k = 0; k < lanes; k++)
                    acc[k] += (uint32_t)(v * w[k]);
            }
            if (!full)
                for (int k = 0; k < lanes; k++)
                    wsum[k] += (uint32_t)(int32_t)w[k];
        }
    }
}

/*
 * Full windows add the precomputed fold. Partial ones add bias + offset *
 * (the inside taps' filter sum): outside taps contribute nothing, as in the
 * reference.
 */
static inline void store(const conv_params *p, const conv_rq *rq, const int32_t *bias,
                         const uint32_t *acc, const uint32_t *wsum, int full, int32_t oc, int n,
                         int8_t *out)
{
    for (int k = 0; k < n; k++) {
        uint32_t a = acc[k];
        if (full)
            a += rq[oc + k].fold;
        else
            a += (bias != NULL ? (uint32_t)bias[oc + k] : 0u) +
                 wsum[k] * (uint32_t)p->input_offset;
        out[oc + k] =
            conv_clamp_s8(conv_rq_apply(&rq[oc + k], a) + p->output_offset, p->act_min, p->act_max);
    }
}

#define LANES_STEP(LANES, FULL)                                                             \
    do {                                                                                    \
        lanes_sum(p, win, filter, c + (step_x ? done : 0), oc + done, step_x, LANES, FULL, \
                  acc, wsum);                                                               \
        store(p, rq, bias, acc, wsum, FULL, oc + done, LANES, out);                         \
    } while (0)

/* Output channels [oc, oc + n) reading input channel c (+ lane when step_x), in 16/8/1 lane steps. */
static inline void span(const conv_params *p, const window *win, const int8_t *filter,
                        const conv_rq *rq, const int32_t *bias, int32_t c, int32_t oc,
                        int32_t n, int step_x, int full, int8_t *out)
{
    uint32_t acc[16], wsum[16];
    int32_t done = 0;
    for (; done + 16 <= n; done += 16) {
        if (full)
            LANES_STEP(16, 1);
        else
            LANES_STEP(16, 0);
    }
    if (n - done >= 8) {
        if (full)
            LANES_STEP(8, 1);
        else
            LANES_STEP(8, 0);
        done += 8;
    }
    for (; done < n; done++)
        LANES_STEP(1, 0);
}

void dwconv_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    const int8_t *filter = exec_tensor(x, p->filter);
    const int32_t *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    int8_t *out = exec_tensor(x, p->output);
    conv_rq *rq = scratch;
    const int32_t taps = p->k_h * p->k_w;
    for (int32_t oc = 0; oc < p->out_c; oc++)
        rq[oc].fold = 0;
    for (int32_t t = 0; t < taps; t++) /* filter sums first, then the rest of each entry */
        for (int32_t oc = 0; oc < p->out_c; oc++)
            rq[oc].fold += (uint32_t)(int32_t)filter[(size_t)t * (size_t)p->out_c + (size_t)oc];
    for (int32_t oc = 0; oc < p->out_c; oc++)
        conv_rq_init(&rq[oc], p->multiplier[oc], p->shift[oc],
                     rq[oc].fold * (uint32_t)p->input_offset +
                         (bias != NULL ? (uint32_t)bias[oc] : 0u));
    window win;
    for (int32_t b = 0; b < p->batches; b++) {
        win.in_b = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            win.y0 = oy * p->stride_h - p->pad_h;
            int32_t ky_lo, ky_hi;
            conv_tap_range(win.y0, p->dil_h, p->k_h, p->in_h, &ky_lo, &ky_hi);
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->out_c) {
                win.ky_lo = ky_lo;
                win.ky_hi = ky_hi;
                win.x0 = ox * p->stride_w - p->pad_w;
                conv_tap_range(win.x0, p->dil_w, p->k_w, p->in_w, &win.kx_lo, &win.kx_hi);
                if (win.kx_lo == win.kx_hi) /* no tap inside: visit no row either */
                    win.ky_hi = win.ky_lo;
                win.full = win.ky_hi - win.ky_lo == p->k_h && win.kx_hi - win.kx_lo == p->k_w;
                if (p->depth_mult == 1) {
                    span(p, &win, filter, rq, bias, 0, 0, p->out_c, 1, win.full, out);
                    continue;
                }
                for (int32_t c = 0; c < p->in_c; c++)
                    span(p, &win, filter, rq, bias, c, c * p->depth_mult, p->depth_mult, 0,
                         win.full, out);
            }
        }
    }
}

/*
 * One input channel with several outputs per tap is a CONV_2D whose filter
 * is this one transposed to [out_c][k_h][k_w][1]: transpose into scratch and
 * run the CONV_2D kernel, whose dot products run along the taps.
 */
static void dwconv_s8_one_channel(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const int8_t *filter = exec_tensor(x, p->filter);
    int8_t *transposed = scratch;
    const int32_t taps = p->k_h * p->k_w;
    for (int32_t t = 0; t < taps; t++)
        for (int32_t oc = 0; oc < p->out_c; oc++)
            transposed[(size_t)oc * (size_t)taps + (size_t)t] =
                filter[(size_t)t * (size_t)p->out_c + (size_t)oc];
    size_t skip = ((size_t)taps * (size_t)p->out_c + 3u) & ~(size_t)3u; /* conv_rq: 4-aligned */
    conv_s8_run(p, exec_tensor(x, p->input), transposed,
                p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL,
                exec_tensor(x, p->output), (uint8_t *)scratch + skip);
}

/* Largest filter copied for the one-channel path; beyond it the lane loops run (config.h). */
#define MAX_TRANSPOSED TMO_DWCONV_COPY_MAX

tmo_err dwconv_s8_setup_opt(tmo_prep *p, conv_params *cp)
{
    uint64_t filter_bytes = (uint64_t)cp->k_h * (uint64_t)cp->k_w * (uint64_t)cp->out_c;
    if (cp->in_c == 1 && cp->depth_mult > 1 && filter_bytes <= MAX_TRANSPOSED) {
        conv_s8_choose_path(p, cp); /* the copy holds the same values as the model's filter */
        p->scratch_bytes = (uint32_t)(((filter_bytes + 3u) & ~(uint64_t)3u) +
                                      conv_s8_scratch_bytes(cp));
        p->invoke = dwconv_s8_one_channel;
        return TMO_OK;
    }
    uint64_t bytes = conv_rq_bytes(cp->out_c);
    if (bytes > 0x3fffffffu)
        return prep_fail(p, TMO_EUNSUPPORTED, "filter", "too many channels for the scratch buffer");
    p->scratch_bytes = (uint32_t)bytes;
    p->invoke = dwconv_s8_opt;
    return TMO_OK;
}
