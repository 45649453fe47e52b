/*
 * CONV_2D (filter [out_c][k][k][in_c]) and DEPTHWISE_CONV_2D (filter
 * [1][k][k][c], multiplier 1) on one NHWC sample, with TensorFlow's SAME
 * padding: taps outside the input contribute nothing, which is also what
 * the int8 kernels do (they skip them rather than add the zero point).
 */
#include <string.h>

#include "layers.h"

int32_t tr_same_padding(int32_t in, int32_t k, int32_t stride, int32_t *out)
{
    *out = (in + stride - 1) / stride;
    int32_t total = (*out - 1) * stride + k - in;
    return total > 0 ? total / 2 : 0;
}

/* Input row/column of output position o at tap t; -1 when outside [0, n). */
static inline int32_t tap(int32_t o, int32_t t, const tr_layer *l, int32_t pad, int32_t n)
{
    int32_t i = o * l->spec.stride - pad + t;
    return i >= 0 && i < n ? i : -1;
}

void tr_conv_forward(const tr_layer *l, const float *in, float *out)
{
    int32_t k = l->spec.k, ic_n = l->in_c;
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t oc = 0; oc < l->out_c; oc++) {
                float acc = 0.0f;
                for (int32_t ky = 0; ky < k; ky++) {
                    int32_t iy = tap(y, ky, l, l->pad_h, l->in_h);
                    if (iy < 0)
                        continue;
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t ix = tap(x, kx, l, l->pad_w, l->in_w);
                        if (ix < 0)
                            continue;
                        const float *src = in + ((size_t)iy * l->in_w + ix) * ic_n;
                        const float *w = l->w + (((size_t)oc * k + ky) * k + kx) * ic_n;
                        for (int32_t c = 0; c < ic_n; c++)
                            acc += src[c] * w[c];
                    }
                }
                out[((size_t)y * l->out_w + x) * l->out_c + oc] = acc + l->b[oc];
            }
}

void tr_conv_backward(tr_layer *l, const float *in, const float *dout, float *din)
{
    int32_t k = l->spec.k, ic_n = l->in_c;
    if (din != NULL)
        memset(din, 0, sizeof *din * tr_layer_in_size(l));
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t oc = 0; oc < l->out_c; oc++) {
                float g = dout[((size_t)y * l->out_w + x) * l->out_c + oc];
                if (g == 0.0f)
                    continue;
                l->gb[oc] += g;
                for (int32_t ky = 0; ky < k; ky++) {
                    int32_t iy = tap(y, ky, l, l->pad_h, l->in_h);
                    if (iy < 0)
                        continue;
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t ix = tap(x, kx, l, l->pad_w, l->in_w);
                        if (ix < 0)
                            continue;
                        size_t at = ((size_t)iy * l->in_w + ix) * ic_n;
                        size_t wat = (((size_t)oc * k + ky) * k + kx) * ic_n;
                        for (int32_t c = 0; c < ic_n; c++)
                            l->gw[wat + c] += g * in[at + c];
                        if (din != NULL)
                            for (int32_t c = 0; c < ic_n; c++)
                                din[at + c] += g * l->w[wat + c];
                    }
                }
            }
}

void tr_dwconv_forward(const tr_layer *l, const float *in, float *out)
{
    int32_t k = l->spec.k, c_n = l->in_c;
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t c = 0; c < c_n; c++) {
                float acc = 0.0f;
                for (int32_t ky = 0; ky < k; ky++) {
                    int32_t iy = tap(y, ky, l, l->pad_h, l->in_h);
                    if (iy < 0)
                        continue;
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t ix = tap(x, kx, l, l->pad_w, l->in_w);
                        if (ix >= 0)
                            acc += in[((size_t)iy * l->in_w + ix) * c_n + c] *
                                   l->w[((size_t)ky * k + kx) * c_n + c];
                    }
                }
                out[((size_t)y * l->out_w + x) * c_n + c] = acc + l->b[c];
            }
}

void tr_dwconv_backward(tr_layer *l, const float *in, const float *dout, float *din)
{
    int32_t k = l->spec.k, c_n = l->in_c;
    if (din != NULL)
        memset(din, 0, sizeof *din * tr_layer_in_size(l));
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t c = 0; c < c_n; c++) {
                float g = dout[((size_t)y * l->out_w + x) * c_n + c];
                if (g == 0.0f)
                    continue;
                l->gb[c] += g;
                for (int32_t ky = 0; ky < k; ky++) {
                    int32_t iy = tap(y, ky, l, l->pad_h, l->in_h);
                    if (iy < 0)
                        continue;
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t ix = tap(x, kx, l, l->pad_w, l->in_w);
                        if (ix < 0)
                            continue;
                        size_t at = ((size_t)iy * l->in_w + ix) * c_n + c;
                        size_t wat = ((size_t)ky * k + kx) * c_n + c;
                        l->gw[wat] += g * in[at];
                        if (din != NULL)
                            din[at] += g * l->w[wat];
                    }
                }
            }
}
