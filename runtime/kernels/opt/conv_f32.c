/*
 * CONV_2D optimized float32 kernel.
 *
 * Float sums are not associative, so every output keeps the reference
 * order exactly: from 0.0f over the taps inside the input, ky then kx then
 * kc, then + bias, then the clamp.
 *
 * Blocked path (constant, finite filter): the windows of four neighbouring
 * output pixels are copied into scratch interleaved (tap k of pixel j at
 * 4k + j), taps outside the input as 0.0f, and each output channel then
 * runs over the taps for all four pixels at once, four lanes a vector unit
 * handles in one instruction. The zeros are exact: with a finite weight a
 * zero tap adds +-0, and a sum that starts at +0.0f is never -0, so adding
 * it changes nothing. (An infinite or NaN weight would turn 0 * w into NaN,
 * hence the prepare-time check.)
 *
 * Otherwise: the inside taps are found once per window instead of tested
 * per tap, a row of taps with dilation 1 is one contiguous run in both
 * input and filter, and four output channels share every input load.
 */
#include <math.h>
#include <string.h>

#include "../conv.h"
#include "../quant.h"
#include "conv_util.h"

/* t[j] += sum_i x[i] * w[j * stride + i] for j < 4, i ascending. */
static inline void mac4(const float *x, const float *w, size_t stride, int32_t n, float t[4])
{
    const float *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
    float t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3];
    for (int32_t i = 0; i < n; i++) {
        float v = x[i];
        t0 += v * w0[i];
        t1 += v * w1[i];
        t2 += v * w2[i];
        t3 += v * w3[i];
    }
    t[0] = t0;
    t[1] = t1;
    t[2] = t2;
    t[3] = t3;
}

static inline float mac1(const float *x, const float *w, int32_t n, float t)
{
    for (int32_t i = 0; i < n; i++)
        t += x[i] * w[i];
    return t;
}

typedef struct window {
    const float *in_b; /* this batch's image */
    int32_t y0, x0;    /* input coordinates of tap (0, 0) */
    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
} window;

/* Sums over the window's inside taps for output channels [oc, oc + n), n = 4 or 1. */
static void window_sums(const conv_params *p, const window *win, const float *filter, int32_t g,
                        int32_t oc, int n, float t[4])
{
    const size_t kc = (size_t)p->k_c;
    const size_t stride = (size_t)p->k_h * (size_t)p->k_w * kc; /* one filter */
    const int contiguous = p->dil_w == 1 && p->groups == 1;
    t[0] = t[1] = t[2] = t[3] = 0.0f;
    for (int32_t ky = win->ky_lo; ky < win->ky_hi; ky++) {
        const int32_t iy = win->y0 + ky * p->dil_h;
        const float *in_row = win->in_b + (size_t)iy * (size_t)p->in_w * (size_t)p->in_c;
        const float *w_row = filter + (size_t)oc * stride + (size_t)ky * (size_t)p->k_w * kc;
        if (contiguous) {
            if (win->kx_lo == win->kx_hi)
                continue;
            const int32_t ix = win->x0 + win->kx_lo;
            const float *src = in_row + (size_t)ix * kc;
            const float *w = w_row + (size_t)win->kx_lo * kc;
            int32_t len = (win->kx_hi - win->kx_lo) * p->k_c;
            if (n == 4)
                mac4(src, w, stride, len, t);
            else
                t[0] = mac1(src, w, len, t[0]);
            continue;
        }
        for (int32_t kx = win->kx_lo; kx < win->kx_hi; kx++) {
            const int32_t ix = win->x0 + kx * p->dil_w;
            const float *src = in_row + (size_t)ix * (size_t)p->in_c + (size_t)g * kc;
            const float *w = w_row + (size_t)kx * kc;
            if (n == 4)
                mac4(src, w, stride, p->k_c, t);
            else
                t[0] = mac1(src, w, p->k_c, t[0]);
        }
    }
}

/* ---- blocked path: four pixels per pass ---- */

#define PIXELS 4

/* Interleaved windows of output pixels ox0 .. ox0 + n - 1 of row oy, group g; other lanes 0. */
static void gather_block(const conv_params *p, const float *in_b, int32_t oy, int32_t ox0,
                         int32_t n, int32_t g, float *pt)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const size_t kc = (size_t)p->k_c;
    for (int32_t j = 0; j < PIXELS; j++) {
        const int32_t x0 = (ox0 + j) * p->stride_w - p->pad_w;
        float *dst = pt + j;
        for (int32_t ky = 0; ky < p->k_h; ky++) {
            const int32_t iy = y0 + ky * p->dil_h;
            const int row_in = j < n && iy >= 0 && iy < p->in_h;
            for (int32_t kx = 0; kx < p->k_w; kx++, dst += PIXELS * kc) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (!row_in || ix < 0 || ix >= p->in_w) {
                    for (size_t c = 0; c < kc; c++)
                        dst[PIXELS * c] = 0.0f;
                    continue;
                }
                const float *src = in_b + ((size_t)iy * (size_t)p->in_w + (size_t)ix) *
                                              (size_t)p->in_c + (size_t)g * kc;
                for (size_t c = 0; c < kc; c++)
                    dst[PIXELS * c] = src[c];
            }
        }
    }
}

/* t[m][j] = sum_k pt[k][j] * w[m * depth + k] for m < 4 filters and the four pixels j. */
static void block4(const float *pt, const float *w, int32_t depth, float t[4][PIXELS])
{
    const float *w0 = w, *w1 = w + depth, *w2 = w + 2 * (size_t)depth, *w3 = w + 3 * (size_t)depth;
    float a0[PIXELS] = {0}, a1[PIXELS] = {0}, a2[PIXELS] = {0}, a3[PIXELS] = {0};
    for (int32_t k = 0; k < depth; k++, pt += PIXELS) {
        float u0 = w0[k], u1 = w1[k], u2 = w2[k], u3 = w3[k];
        for (int j = 0; j < PIXELS; j++) {
            float x = pt[j];
            a0[j] += x * u0;
            a1[j] += x * u1;
            a2[j] += x * u2;
            a3[j] += x * u3;
        }
    }
    for (int j = 0; j < PIXELS; j++) {
        t[0][j] = a0[j];
        t[1][j] = a1[j];
        t[2][j] = a2[j];
        t[3][j] = a3[j];
    }
}

static void block1(const float *pt, const float *w, int32_t depth, float t[PIXELS])
{
    float a[PIXELS] = {0};
    for (int32_t k = 0; k < depth; k++, pt += PIXELS)
        for (int j = 0; j < PIXELS; j++)
            a[j] += pt[j] * w[k];
    for (int j = 0; j < PIXELS; j++)
        t[j] = a[j];
}

static void run_blocked(const conv_params *p, const float *in, const float *filter,
                        const float *bias, float *out, float *pt)
{
    const int32_t depth = p->k_h * p->k_w * p->k_c;
    const int32_t per_group = p->out_c / p->groups;
    const float lo = p->fact_min, hi = p->fact_max;
    const size_t in_image = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    for (int32_t b = 0; b < p->batches; b++) {
        const float *in_b = in + (size_t)b * in_image;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox += PIXELS) {
                const int32_t n = p->out_w - ox < PIXELS ? p->out_w - ox : PIXELS;
                float *o = out + (((size_t)b * (size_t)p->out_h + (size_t)oy) * (size_t)p->out_w +
                                  (size_t)ox) * (size_t)p->out_c;
                for (int32_t g = 0; g < p->groups; g++) {
                    gather_block(p, in_b, oy, ox, n, g, pt);
                    int32_t oc = g * per_group;
                    const int32_t end = oc + per_group;
                    for (; oc + 4 <= end; oc += 4) {
                        float t[4][PIXELS];
                        block4(pt, filter + (size_t)oc * (size_t)depth, depth, t);
                        for (int m = 0; m < 4; m++) {
                            float bv = bias != NULL ? bias[oc + m] : 0.0f;
                            for (int32_t j = 0; j < n; j++)
                                o[(size_t)j * (size_t)p->out_c + (size_t)(oc + m)] =
                                    clamp_f32(t[m][j] + bv, lo, hi);
                        }
                    }
                    for (; oc < end; oc++) {
                        float t[PIXELS];
                        block1(pt, filter + (size_t)oc * (size_t)depth, depth, t);
                        float bv = bias != NULL ? bias[oc] : 0.0f;
                        for (int32_t j = 0; j < n; j++)
                            o[(size_t)j * (size_t)p->out_c + (size_t)oc] = clamp_f32(t[j] + bv, lo, hi);
                    }
                }
            }
        }
    }
}

/* ---- general path: one window at a time, inside taps only ---- */

static void run_windows(const conv_params *p, const float *in, const float *filter,
                        const float *bias, float *out)
{
    const int32_t per_group = p->out_c / p->groups;
    const float lo = p->fact_min, hi = p->fact_max;
    for (int32_t b = 0; b < p->batches; b++) {
        window win;
        win.in_b = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            win.y0 = oy * p->stride_h - p->pad_h;
            conv_tap_range(win.y0, p->dil_h, p->k_h, p->in_h, &win.ky_lo, &win.ky_hi);
            for (int32_t ox = 0; ox < p->out_w; ox++, out += p->out_c) {
                win.x0 = ox * p->stride_w - p->pad_w;
                conv_tap_range(win.x0, p->dil_w, p->k_w, p->in_w, &win.kx_lo, &win.kx_hi);
                for (int32_t g = 0; g < p->groups; g++) {
                    int32_t oc = g * per_group, end = oc + per_group;
                    float t[4];
                    for (; oc + 4 <= end; oc += 4) {
                        window_sums(p, &win, filter, g, oc, 4, t);
                        for (int j = 0; j < 4; j++)
                            out[oc + j] = clamp_f32(t[j] + (bias != NULL ? bias[oc + j] : 0.0f),
                                                    lo, hi);
                    }
                    for (; oc < end; oc++) {
                        window_sums(p, &win, filter, g, oc, 1, t);
                        out[oc] = clamp_f32(t[0] + (bias != NULL ? bias[oc] : 0.0f), lo, hi);
                    }
                }
            }
        }
    }
}

void conv_f32_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const float *in = exec_tensor(x, p->input);
    const float *filter = exec_tensor(x, p->filter);
    const float *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    float *out = exec_tensor(x, p->output);
    if (p->blocked)
        run_blocked(p, in, filter, bias, out, scratch);
    else
        run_windows(p, in, filter, bias, out);
}

/* Scratch the blocked path may take; larger windows run the general path. */
#define MAX_BLOCK_SCRATCH 16384u

tmo_err conv_f32_setup_opt(tmo_prep *p, conv_params *cp)
{
    uint64_t depth = (uint64_t)cp->k_h * (uint64_t)cp->k_w * (uint64_t)cp->k_c;
    uint64_t bytes = depth * PIXELS * sizeof(float);
    tmo_tensor_info f;
    cp->blocked = 0;
    if (bytes <= MAX_BLOCK_SCRATCH && tmo_model_tensor(p->m, cp->filter, &f) == TMO_OK &&
        f.data != NULL) {
        const uint8_t *raw = f.data;
        cp->blocked = 1;
        for (size_t i = 0; i < f.elements && cp->blocked; i++) {
            float v;
            memcpy(&v, raw + 4 * i, 4); /* model data is only 4-byte aligned by contract */
            cp->blocked = isfinite(v) != 0;
        }
    }
    p->scratch_bytes = cp->blocked ? (uint32_t)bytes : 0u;
    p->invoke = conv_f32_opt;
    return TMO_OK;
}
