/*
 * Dense (FULLY_CONNECTED) layer: out[u] = sum_j w[u][j] * in[j] + b[u],
 * summed in the order TFLite's float kernel uses (products first, bias last).
 */
#include <string.h>

#include "layers.h"

void tr_dense_forward(const tr_layer *l, const float *in, float *out)
{
    size_t depth = tr_layer_in_size(l);
    for (int32_t u = 0; u < l->out_c; u++) {
        const float *w = l->w + (size_t)u * depth;
        float acc = 0.0f;
        for (size_t j = 0; j < depth; j++)
            acc += w[j] * in[j];
        out[u] = acc + l->b[u];
    }
}

void tr_dense_backward(tr_layer *l, const float *in, const float *dout, float *din)
{
    size_t depth = tr_layer_in_size(l);
    if (din != NULL)
        memset(din, 0, sizeof *din * depth);
    for (int32_t u = 0; u < l->out_c; u++) {
        float g = dout[u];
        if (g == 0.0f)
            continue;
        l->gb[u] += g;
        const float *w = l->w + (size_t)u * depth;
        float *gw = l->gw + (size_t)u * depth;
        for (size_t j = 0; j < depth; j++)
            gw[j] += g * in[j];
        if (din != NULL)
            for (size_t j = 0; j < depth; j++)
                din[j] += g * w[j];
    }
}
