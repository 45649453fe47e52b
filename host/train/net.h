/*
 * A trainable network of the model factory: the layers of an arch spec
 * plus the classifier head, with float32 parameters in exactly the layouts
 * TFLite stores them (dense [units][depth], conv OHWI, depthwise 1HWO,
 * activations NHWC), so export is a copy and never a transpose.
 *
 * Training sees each raw feature multiplied by input_scale (one global
 * factor that brings values near [-1, 1]); tr_net_fold_input_scale()
 * moves that factor into the first weights so the deployed model takes the
 * raw features. A network owns all its buffers: tr_net_free().
 */
#ifndef TMO_TRAIN_NET_H
#define TMO_TRAIN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"

typedef struct tr_layer {
    tr_layer_spec spec;
    int32_t in_h, in_w, in_c;    /* dense: the flattened input is in_h * in_w * in_c */
    int32_t out_h, out_w, out_c; /* dense: 1 x 1 x units */
    int32_t pad_h, pad_w;        /* SAME padding before the first row / column */
    size_t n_w, n_b;             /* parameter counts (0 for pools) */
    float *w, *b;                /* parameters */
    float *gw, *gb;              /* gradient sums of the current batch */
    float *opt;                  /* optimizer state: 2 * (n_w + n_b) values */
} tr_layer;

typedef struct tr_net {
    uint32_t count; /* layers, head included */
    tr_layer layers[TR_MAX_LAYERS + 1];
    int spatial;              /* input is [1, H, W, C] rather than [1, F] */
    int32_t in_h, in_w, in_c; /* 1 x 1 x F for an mlp */
    int32_t classes;
    float input_scale; /* 1 once folded */
    /* Per sample work space: act[0] the scaled input, act[i + 1] the output of layer i. */
    float *act[TR_MAX_LAYERS + 2];
    float *grad[TR_MAX_LAYERS + 2];
} tr_net;

/*
 * Builds the network for inputs of in_h x in_w x in_c values and classes
 * outputs, weights drawn from seed (He uniform), biases zero.
 * Returns -1 with a message when the shapes do not work out (e.g. a pool
 * larger than its input) or memory runs out.
 */
int tr_net_build(tr_net *n, const tr_arch *a, int32_t in_h, int32_t in_w, int32_t in_c,
                 int32_t classes, float input_scale, uint64_t seed, char *err, size_t err_len);
void tr_net_free(tr_net *n);

static inline size_t tr_layer_out_size(const tr_layer *l)
{
    return (size_t)l->out_h * (size_t)l->out_w * (size_t)l->out_c;
}

static inline size_t tr_layer_in_size(const tr_layer *l)
{
    return (size_t)l->in_h * (size_t)l->in_w * (size_t)l->in_c;
}

/* Total trainable parameters. */
size_t tr_net_params(const tr_net *n);

/* Runs one sample of raw features; returns the logits (n->act[n->count]). */
const float *tr_net_forward(tr_net *n, const float *x);

/* After tr_net_forward: adds the gradients for dlogits to every gw / gb. */
void tr_net_backward(tr_net *n, const float *dlogits);

void tr_net_zero_grad(tr_net *n);

/* Index of the largest logit of raw features x (first one on ties). */
int32_t tr_net_predict(tr_net *n, const float *x);

/* Moves input_scale into the first layer with weights; afterwards input_scale is 1. */
void tr_net_fold_input_scale(tr_net *n);

#endif
