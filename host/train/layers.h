/*
 * Forward and backward passes of one layer for one sample (net.h layouts).
 * Backward takes the gradient with respect to the layer's output (already
 * masked by the ReLU, see tr_relu_backward), adds the parameter gradients to
 * l->gw / l->gb and, when din is not NULL, writes the input gradient.
 * Summation order is fixed, so results are reproducible bit for bit.
 */
#ifndef TMO_TRAIN_LAYERS_H
#define TMO_TRAIN_LAYERS_H

#include "net.h"

void tr_dense_forward(const tr_layer *l, const float *in, float *out);
void tr_dense_backward(tr_layer *l, const float *in, const float *dout, float *din);

void tr_conv_forward(const tr_layer *l, const float *in, float *out);
void tr_conv_backward(tr_layer *l, const float *in, const float *dout, float *din);

void tr_dwconv_forward(const tr_layer *l, const float *in, float *out);
void tr_dwconv_backward(tr_layer *l, const float *in, const float *dout, float *din);

void tr_pool_forward(const tr_layer *l, const float *in, float *out);
void tr_pool_backward(const tr_layer *l, const float *in, const float *dout, float *din);

/* TensorFlow's SAME padding before the first element; the output size is ceil(in / stride). */
int32_t tr_same_padding(int32_t in, int32_t k, int32_t stride, int32_t *out);

static inline void tr_relu(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = v[i] > 0.0f ? v[i] : 0.0f;
}

/* Zeroes dout where the ReLU output was not positive. */
static inline void tr_relu_backward(const float *out, float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(out[i] > 0.0f))
            dout[i] = 0.0f;
}

#endif
