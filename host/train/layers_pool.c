/*
 * MAX_POOL_2D and AVERAGE_POOL_2D with VALID padding and stride equal to
 * the window (non-overlapping windows), on one NHWC sample. Max pooling
 * sends the gradient to the first maximum of each window, so ties are
 * resolved the same way every run.
 */
#include <string.h>

#include "layers.h"

void tr_pool_forward(const tr_layer *l, const float *in, float *out)
{
    int32_t k = l->spec.k, s = l->spec.stride, c_n = l->in_c;
    int is_max = l->spec.kind == TR_MAXPOOL;
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t c = 0; c < c_n; c++) {
                float acc = is_max ? in[((size_t)(y * s) * l->in_w + x * s) * c_n + c] : 0.0f;
                for (int32_t ky = 0; ky < k; ky++)
                    for (int32_t kx = 0; kx < k; kx++) {
                        float v = in[((size_t)(y * s + ky) * l->in_w + x * s + kx) * c_n + c];
                        if (!is_max)
                            acc += v;
                        else if (v > acc)
                            acc = v;
                    }
                out[((size_t)y * l->out_w + x) * c_n + c] = is_max ? acc : acc / (float)(k * k);
            }
}

void tr_pool_backward(const tr_layer *l, const float *in, const float *dout, float *din)
{
    int32_t k = l->spec.k, s = l->spec.stride, c_n = l->in_c;
    memset(din, 0, sizeof *din * tr_layer_in_size(l));
    for (int32_t y = 0; y < l->out_h; y++)
        for (int32_t x = 0; x < l->out_w; x++)
            for (int32_t c = 0; c < c_n; c++) {
                float g = dout[((size_t)y * l->out_w + x) * c_n + c];
                if (l->spec.kind == TR_AVGPOOL) {
                    for (int32_t ky = 0; ky < k; ky++)
                        for (int32_t kx = 0; kx < k; kx++)
                            din[((size_t)(y * s + ky) * l->in_w + x * s + kx) * c_n + c] +=
                                g / (float)(k * k);
                    continue;
                }
                size_t best = ((size_t)(y * s) * l->in_w + x * s) * c_n + c;
                for (int32_t ky = 0; ky < k; ky++)
                    for (int32_t kx = 0; kx < k; kx++) {
                        size_t at = ((size_t)(y * s + ky) * l->in_w + x * s + kx) * c_n + c;
                        if (in[at] > in[best])
                            best = at;
                    }
                din[best] += g;
            }
}
