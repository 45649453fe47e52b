/*
 * DEPTHWISE_CONV_2D optimized float32 kernel.
 *
 * Every output keeps the reference order exactly (from 0.0f over the taps
 * inside the input, ky then kx, then + bias, then the clamp); the outputs
 * of one pixel are independent, so lanes run across channels (depth
 * multiplier 1) or across one channel's multiplier outputs, 16, 8, 4 or 1 at
 * a time, each lane its own sum in that order. The inside taps are found
 * once per window instead of tested per tap.
 */
#include "../depthwise_conv.h"
#include "../quant.h"
#include "conv_util.h"

typedef struct window {
    const float *in_b;
    int32_t y0, x0;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
} window;

/* acc[k] = sum over inside taps of src[c + k * step_x] * w[tap][oc + k], k < lanes. */
static inline void lanes_sum(const conv_params *p, const window *win, const float *filter,
                             int32_t c, int32_t oc, int step_x, int lanes, float *acc)
{
    for (int k = 0; k < lanes; k++)
        acc[k] = 0.0f;
    const size_t step_in = (size_t)p->dil_w * (size_t)p->in_c;
    for (int32_t ky = win->ky_lo; ky < win->ky_hi; ky++) {
        const int32_t iy = win->y0 + ky * p->dil_h;
        const int32_t ix = win->x0 + win->kx_lo * p->dil_w;
        const float *src =
            win->in_b + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c + c;
        const float *w =
            filter + ((size_t)ky * (size_t)p->k_w + (size_t)win->kx_lo) * (size_t)p->out_c + oc;
        for (int32_t kx = win->kx_lo; kx < win->kx_hi; kx++, src += step_in, w += p->out_c) {
            if (step_x) {
                for (int k = 0; k < lanes; k++)
                    acc[k] += src[k] * w[k];
            } else {
                float v = src[0];
                for (int k = 0; k < lanes; k++)
                    acc[k] += v * w[k];
            }
        }
    }
}

static inline void store(const conv_params *p, const float *bias, const float *acc, int32_t oc,
                         int n, float *out)
{
    for (int k = 0; k < n; k++)
        out[oc + k] = clamp_f32(acc[k] + (bias != NULL ? bias[oc + k] : 0.0f), p->fact_min,
                                p->fact_max);
}

static void span(const conv_params *p, const window *win, const float *filter, const float *bias,
                 int32_t c, int32_t oc, int32_t n, int step_x, float *out)
{
    float acc[16];
    int32_t done = 0;
    for (; done + 16 <= n; done += 16) {
        lanes_sum(p, win, filter, c + (step_x ? done : 0), oc + done, step_x, 16, acc);
        store(p, bias, acc, oc + done, 16, out);
    }
    if (n - done >= 8) {
        lanes_sum(p, win, filter, c + (step_x ? done : 0), oc + done, step_x, 8, acc);
        store(p, bias, acc, oc + done, 8, out);
        done += 8;
    }
    if (n - done >= 4) {
        lanes_sum(p, win, filter, c + (step_x ? done : 0), oc + done, step_x, 4, acc);
        store(p, bias, acc, oc + done, 4, out);
        done += 4;
    }
    for (; done < n; done++) {
        lanes_sum(p, win, filter, c + (step_x ? done : 0), oc + done, step_x, 1, acc);
        store(p, bias, acc, oc + done, 1, out);
    }
}

void dwconv_f32_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const float *in = exec_tensor(x, p->input);
    const float *filter = exec_tensor(x, p->filter);
    const float *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    float *out = exec_tensor(x, p->output);
    (void)scratch;
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
                if (p->depth_mult == 1) {
                    span(p, &win, filter, bias, 0, 0, p->out_c, 1, out);
                    continue;
                }
                for (int32_t c = 0; c < p->in_c; c++)
                    span(p, &win, filter, bias, c, c * p->depth_mult, p->depth_mult, 0, out);
            }
        }
    }
}

tmo_err dwconv_f32_setup_opt(tmo_prep *p, conv_params *cp)
{
    (void)cp;
    p->invoke = dwconv_f32_opt;
    return TMO_OK;
}
