/*
 * Network construction (shapes, He-uniform initialisation, buffers) and
 * the per-sample forward and backward passes over all layers.
 */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "rng.h"

enum { INIT_STREAM = 2 };
/* Bounds that keep every buffer size small and every index within int32. */
#define MAX_ACTIVATION ((size_t)1 << 24)
#define MAX_PARAMS ((size_t)1 << 26)

static int shape_layer(tr_layer *l, char *err, size_t err_len)
{
    const tr_layer_spec *s = &l->spec;
    size_t in = tr_layer_in_size(l);
    switch (s->kind) {
    case TR_DENSE:
        l->out_h = l->out_w = 1;
        l->out_c = s->units;
        l->n_w = (size_t)s->units * in;
        l->n_b = (size_t)s->units;
        break;
    case TR_CONV:
    case TR_DWCONV:
        l->pad_h = tr_same_padding(l->in_h, s->k, s->stride, &l->out_h);
        l->pad_w = tr_same_padding(l->in_w, s->k, s->stride, &l->out_w);
        l->out_c = s->kind == TR_CONV ? s->units : l->in_c;
        l->n_w = (size_t)s->k * (size_t)s->k * (size_t)l->in_c *
                 (s->kind == TR_CONV ? (size_t)s->units : 1);
        l->n_b = (size_t)l->out_c;
        break;
    case TR_MAXPOOL:
    case TR_AVGPOOL:
        if (l->in_h < s->k || l->in_w < s->k) {
            snprintf(err, err_len,
                     "architecture: a %dx%d pool needs an input of at least that size, has %dx%d",
                     s->k, s->k, l->in_h, l->in_w);
            return -1;
        }
        l->out_h = (l->in_h - s->k) / s->stride + 1;
        l->out_w = (l->in_w - s->k) / s->stride + 1;
        l->out_c = l->in_c;
        break;
    }
    if (tr_layer_out_size(l) > MAX_ACTIVATION || l->n_w > MAX_PARAMS) {
        snprintf(err, err_len, "architecture: a %s layer is too large (%zu outputs, %zu weights)",
                 tr_layer_kind_name(s->kind), tr_layer_out_size(l), l->n_w);
        return -1;
    }
    return 0;
}

/* He-uniform for layers followed by ReLU, Glorot-uniform for the head. */
static void init_weights(tr_layer *l, tr_rng *rng)
{
    const tr_layer_spec *s = &l->spec;
    double fan_in = s->kind == TR_DENSE  ? (double)tr_layer_in_size(l)
                    : s->kind == TR_CONV ? (double)s->k * s->k * l->in_c
                                         : (double)s->k * s->k;
    double limit = s->relu ? sqrt(6.0 / fan_in) : sqrt(6.0 / (fan_in + (double)l->out_c));
    for (size_t i = 0; i < l->n_w; i++)
        l->w[i] = (float)((2.0 * (double)tr_rng_unit(rng) - 1.0) * limit);
}

static int alloc_layer(tr_layer *l)
{
    size_t p = l->n_w + l->n_b;
    if (p == 0)
        return 0;
    float *block = calloc(4 * p, sizeof *block);
    if (block == NULL)
        return -1;
    l->w = block;
    l->b = l->w + l->n_w;
    l->gw = l->b + l->n_b;
    l->gb = l->gw + l->n_w;
    l->opt = l->gb + l->n_b;
    return 0;
}

static int alloc_work(tr_net *n)
{
    size_t sizes[TR_MAX_LAYERS + 2];
    sizes[0] = (size_t)n->in_h * (size_t)n->in_w * (size_t)n->in_c;
    for (uint32_t i = 0; i < n->count; i++)
        sizes[i + 1] = tr_layer_out_size(&n->layers[i]);
    for (uint32_t i = 0; i <= n->count; i++) {
        n->act[i] = calloc(sizes[i], sizeof(float));
        n->grad[i] = calloc(sizes[i], sizeof(float));
        if (n->act[i] == NULL || n->grad[i] == NULL)
            return -1;
    }
    return 0;
}

int tr_net_build(tr_net *n, const tr_arch *a, int32_t in_h, int32_t in_w, int32_t in_c,
                 int32_t classes, float input_scale, uint64_t seed, char *err, size_t err_len)
{
    memset(n, 0, sizeof *n);
    n->spatial = a->spatial;
    n->in_h = in_h;
    n->in_w = in_w;
    n->in_c = in_c;
    n->classes = classes;
    n->input_scale = input_scale;
    n->count = a->count + 1;
    int32_t h = in_h, w = in_w, c = in_c;
    for (uint32_t i = 0; i < n->count; i++) {
        tr_layer *l = &n->layers[i];
        if (i < a->count) {
            l->spec = a->layers[i];
        } else {
            l->spec.kind = TR_DENSE;
            l->spec.units = classes;
            l->spec.k = l->spec.stride = 1;
        }
        l->in_h = h;
        l->in_w = w;
        l->in_c = c;
        if (shape_layer(l, err, err_len) != 0) {
            tr_net_free(n);
            return -1;
        }
        h = l->out_h;
        w = l->out_w;
        c = l->out_c;
    }
    tr_rng rng;
    tr_rng_init(&rng, seed, INIT_STREAM);
    for (uint32_t i = 0; i < n->count; i++) {
        if (alloc_layer(&n->layers[i]) != 0) {
            snprintf(err, err_len, "out of memory for layer %u", i);
            tr_net_free(n);
            return -1;
        }
        init_weights(&n->layers[i], &rng);
    }
    if (alloc_work(n) != 0) {
        snprintf(err, err_len, "out of memory for activations");
        tr_net_free(n);
        return -1;
    }
    return 0;
}

void tr_net_free(tr_net *n)
{
    for (uint32_t i = 0; i < TR_MAX_LAYERS + 1; i++)
        free(n->layers[i].w);
    for (uint32_t i = 0; i < TR_MAX_LAYERS + 2; i++) {
        free(n->act[i]);
        free(n->grad[i]);
    }
    memset(n, 0, sizeof *n);
}

size_t tr_net_params(const tr_net *n)
{
    size_t p = 0;
    for (uint32_t i = 0; i < n->count; i++)
        p += n->layers[i].n_w + n->layers[i].n_b;
    return p;
}

const float *tr_net_forward(tr_net *n, const float *x)
{
    size_t in = (size_t)n->in_h * (size_t)n->in_w * (size_t)n->in_c;
    for (size_t j = 0; j < in; j++)
        n->act[0][j] = x[j] * n->input_scale;
    for (uint32_t i = 0; i < n->count; i++) {
        const tr_layer *l = &n->layers[i];
        switch (l->spec.kind) {
        case TR_DENSE:
            tr_dense_forward(l, n->act[i], n->act[i + 1]);
            break;
        case TR_CONV:
            tr_conv_forward(l, n->act[i], n->act[i + 1]);
            break;
        case TR_DWCONV:
            tr_dwconv_forward(l, n->act[i], n->act[i + 1]);
            break;
        case TR_MAXPOOL:
        case TR_AVGPOOL:
            tr_pool_forward(l, n->act[i], n->act[i + 1]);
            break;
        }
        if (l->spec.relu)
            tr_relu(n->act[i + 1], tr_layer_out_size(l));
    }
    return n->act[n->count];
}

void tr_net_backward(tr_net *n, const float *dlogits)
{
    memcpy(n->grad[n->count], dlogits, sizeof *dlogits * (size_t)n->classes);
    for (uint32_t i = n->count; i-- > 0;) {
        tr_layer *l = &n->layers[i];
        if (l->spec.relu)
            tr_relu_backward(n->act[i + 1], n->grad[i + 1], tr_layer_out_size(l));
        float *din = i > 0 ? n->grad[i] : NULL;
        switch (l->spec.kind) {
        case TR_DENSE:
            tr_dense_backward(l, n->act[i], n->grad[i + 1], din);
            break;
        case TR_CONV:
            tr_conv_backward(l, n->act[i], n->grad[i + 1], din);
            break;
        case TR_DWCONV:
            tr_dwconv_backward(l, n->act[i], n->grad[i + 1], din);
            break;
        case TR_MAXPOOL:
        case TR_AVGPOOL:
            if (din != NULL)
                tr_pool_backward(l, n->act[i], n->grad[i + 1], din);
            break;
        }
    }
}

void tr_net_zero_grad(tr_net *n)
{
    for (uint32_t i = 0; i < n->count; i++) {
        tr_layer *l = &n->layers[i];
        if (l->n_w + l->n_b > 0)
            memset(l->gw, 0, sizeof(float) * (l->n_w + l->n_b));
    }
}

int32_t tr_net_predict(tr_net *n, const float *x)
{
    const float *logits = tr_net_forward(n, x);
    int32_t best = 0;
    for (int32_t c = 1; c < n->classes; c++)
        if (logits[c] > logits[best])
            best = c;
    return best;
}

void tr_net_fold_input_scale(tr_net *n)
{
    for (uint32_t i = 0; i < n->count; i++) {
        tr_layer *l = &n->layers[i];
        if (l->n_w == 0)
            continue; /* pools commute with a positive scale */
        for (size_t j = 0; j < l->n_w; j++)
            l->w[j] *= n->input_scale;
        break;
    }
    n->input_scale = 1.0f;
}
