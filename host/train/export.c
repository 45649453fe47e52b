/*
 * Graph construction for tr_export(). Every tensor is written in the layout
 * and with the quantization the TFLite converter would give it; constant
 * data goes out explicitly little-endian whatever the host.
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_writer.h"
#include "tinymlops/model.h"

enum {
    OP_AVERAGE_POOL_2D = 1,
    OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4,
    OP_FULLY_CONNECTED = 9,
    OP_MAX_POOL_2D = 17,
    OP_RESHAPE = 22,
    OP_SOFTMAX = 25
};
/* BuiltinOptions union tags (schema.fbs). */
enum {
    OPT_CONV2D = 1,
    OPT_DEPTHWISE_CONV2D = 2,
    OPT_POOL2D = 5,
    OPT_FULLY_CONNECTED = 8,
    OPT_SOFTMAX = 9,
    OPT_RESHAPE = 17
};
enum { PAD_SAME = 0, PAD_VALID = 1, ACT_NONE = 0, ACT_RELU = 1 };

typedef struct builder {
    tw_model *m;
    const tr_qnet *q; /* NULL: float model */
    int failed;
    int32_t cur; /* tensor holding the current activation */
    int cur_4d;
    tr_qparams cur_q;
} builder;

/* A copy of n 32-bit values (float or int32) as little-endian bytes. */
static int le_buffer(builder *b, const void *values, size_t n)
{
    uint8_t *bytes = malloc(4 * n + 1);
    if (bytes == NULL) {
        b->failed = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, (const uint8_t *)values + 4 * i, 4);
        for (int k = 0; k < 4; k++)
            bytes[4 * i + (size_t)k] = (uint8_t)(v >> (8 * k));
    }
    int idx = tw_buffer(b->m, bytes, 4 * n);
    free(bytes);
    return idx;
}

static int32_t activation(builder *b, const char *name, const int32_t *dims, uint32_t ndim,
                          tr_qparams qp)
{
    int64_t zp = qp.zero_point;
    tw_quant tq = {1, &qp.scale, &zp, 0};
    return tw_tensor(b->m, name, b->q ? TMO_INT8 : TMO_FLOAT32, dims, ndim, 0, b->q ? &tq : NULL);
}

/* Weight and bias tensors of layer i; dims of the weights as TFLite lays them out. */
static void params(builder *b, const tr_net *n, uint32_t i, const char *name, const int32_t *wdims,
                   uint32_t wndim, int32_t qdim, int32_t *w_t, int32_t *b_t)
{
    const tr_layer *l = &n->layers[i];
    char wname[64], bname[64];
    snprintf(wname, sizeof wname, "%s/weights", name);
    snprintf(bname, sizeof bname, "%s/bias", name);
    int32_t bdims[1] = {l->out_c};
    if (b->q == NULL) {
        *w_t = tw_tensor(b->m, wname, TMO_FLOAT32, wdims, wndim, le_buffer(b, l->w, l->n_w), NULL);
        *b_t = tw_tensor(b->m, bname, TMO_FLOAT32, bdims, 1, le_buffer(b, l->b, l->n_b), NULL);
        return;
    }
    const tr_qlayer *ql = &b->q->layers[i];
    tw_quant wq = {(uint32_t)l->out_c, ql->w_scale, NULL, qdim};
    tw_quant bq = {(uint32_t)l->out_c, ql->b_scale, NULL, 0};
    *w_t = tw_tensor(b->m, wname, TMO_INT8, wdims, wndim, tw_buffer(b->m, ql->w, l->n_w), &wq);
    *b_t = tw_tensor(b->m, bname, TMO_INT32, bdims, 1, le_buffer(b, ql->b, l->n_b), &bq);
}

static void op(builder *b, int32_t code, const int32_t *in, uint32_t n_in, int32_t out,
               const tw_options *o)
{
    if (tw_operator(b->m, code, in, n_in, &out, 1, o) < 0)
        b->failed = 1;
    b->cur = out;
}

static void flatten(builder *b, const tr_layer *l)
{
    int32_t depth = l->in_h * l->in_w * l->in_c;
    int32_t dims[2] = {1, depth};
    int32_t out = activation(b, "flatten", dims, 2, b->cur_q);
    tw_options o = {OPT_RESHAPE, 1, {tw_vec_i32(0, dims, 2)}};
    op(b, OP_RESHAPE, &b->cur, 1, out, &o);
    b->cur_4d = 0;
}

static void dense(builder *b, const tr_net *n, uint32_t i, const char *name, tr_qparams out_q)
{
    const tr_layer *l = &n->layers[i];
    if (b->cur_4d)
        flatten(b, l);
    int32_t in[3] = {b->cur, 0, 0};
    int32_t wdims[2] = {l->out_c, l->in_h * l->in_w * l->in_c};
    params(b, n, i, name, wdims, 2, 0, &in[1], &in[2]);
    int32_t odims[2] = {1, l->out_c};
    int32_t out = activation(b, name, odims, 2, out_q);
    int32_t act = l->spec.relu ? ACT_RELU : ACT_NONE;
    /* fused activation, weights format DEFAULT, keep_num_dims false, asymmetric inputs false */
    tw_options o = {
        OPT_FULLY_CONNECTED, 4, {tw_u8(0, act), tw_u8(1, 0), tw_bool(2, 0), tw_bool(3, 0)}};
    op(b, OP_FULLY_CONNECTED, in, 3, out, &o);
}

static void conv(builder *b, const tr_net *n, uint32_t i, const char *name, tr_qparams out_q)
{
    const tr_layer *l = &n->layers[i];
    const tr_layer_spec *s = &l->spec;
    int dw = s->kind == TR_DWCONV;
    int32_t in[3] = {b->cur, 0, 0};
    int32_t wdims[4] = {dw ? 1 : l->out_c, s->k, s->k, dw ? l->out_c : l->in_c};
    params(b, n, i, name, wdims, 4, dw ? 3 : 0, &in[1], &in[2]);
    int32_t odims[4] = {1, l->out_h, l->out_w, l->out_c};
    int32_t out = activation(b, name, odims, 4, out_q);
    int32_t act = s->relu ? ACT_RELU : ACT_NONE;
    /* Options in schema order; depthwise has depth_multiplier (1) before the activation. */
    tw_options o = {dw ? OPT_DEPTHWISE_CONV2D : OPT_CONV2D, 0, {{0}}};
    o.fields[o.count++] = tw_u8(0, PAD_SAME);
    o.fields[o.count++] = tw_i32(1, s->stride);
    o.fields[o.count++] = tw_i32(2, s->stride);
    if (dw)
        o.fields[o.count++] = tw_i32(3, 1);
    o.fields[o.count++] = tw_u8((uint8_t)(dw ? 4 : 3), act);
    o.fields[o.count++] = tw_i32((uint8_t)(dw ? 5 : 4), 1); /* dilation w */
    o.fields[o.count++] = tw_i32((uint8_t)(dw ? 6 : 5), 1); /* dilation h */
    op(b, dw ? OP_DEPTHWISE_CONV_2D : OP_CONV_2D, in, 3, out, &o);
}

static void pool(builder *b, const tr_layer *l, const char *name, tr_qparams out_q)
{
    const tr_layer_spec *s = &l->spec;
    int32_t odims[4] = {1, l->out_h, l->out_w, l->out_c};
    int32_t in = b->cur;
    int32_t out = activation(b, name, odims, 4, out_q);
    tw_options o = {OPT_POOL2D,
                    6,
                    {tw_u8(0, PAD_VALID), tw_i32(1, s->stride), tw_i32(2, s->stride),
                     tw_i32(3, s->k), tw_i32(4, s->k), tw_u8(5, ACT_NONE)}};
    op(b, s->kind == TR_MAXPOOL ? OP_MAX_POOL_2D : OP_AVERAGE_POOL_2D, &in, 1, out, &o);
}

static void layer(builder *b, const tr_net *n, uint32_t i)
{
    const tr_layer *l = &n->layers[i];
    char name[32] = "logits";
    if (i + 1 < n->count)
        snprintf(name, sizeof name, "%s_%u", tr_layer_kind_name(l->spec.kind), i);
    /* Pools keep their input's quantization (tr_quantize sets it so). */
    tr_qparams out_q = b->q ? b->q->layers[i].out : b->cur_q;
    switch (l->spec.kind) {
    case TR_DENSE:
        dense(b, n, i, name, out_q);
        break;
    case TR_CONV:
    case TR_DWCONV:
        conv(b, n, i, name, out_q);
        break;
    case TR_MAXPOOL:
    case TR_AVGPOOL:
        pool(b, l, name, out_q);
        break;
    }
    b->cur_q = out_q;
}

int tr_export(const tr_net *n, const tr_qnet *q, const tr_export_opts *o, uint8_t **out,
              size_t *len)
{
    *out = NULL;
    *len = 0;
    if (n->input_scale != 1.0f || (q != NULL && q->count != n->count))
        return -1;
    builder b = {tw_new(), q, 0, 0, n->spatial, {0.0f, 0}};
    if (b.m == NULL)
        return -1;
    if (o->description != NULL)
        tw_description(b.m, o->description);
    if (q != NULL)
        b.cur_q = q->input;
    int32_t idims[4] = {1, n->in_h, n->in_w, n->in_c};
    int32_t fdims[2] = {1, n->in_h * n->in_w * n->in_c};
    int32_t input =
        activation(&b, "input", n->spatial ? idims : fdims, n->spatial ? 4 : 2, b.cur_q);
    b.cur = input;
    for (uint32_t i = 0; i < n->count; i++)
        layer(&b, n, i);
    if (o->with_softmax) {
        int32_t dims[2] = {1, n->classes};
        tr_qparams sq = {TR_SOFTMAX_SCALE, TR_SOFTMAX_ZERO_POINT};
        int32_t probs = activation(&b, "probabilities", dims, 2, sq);
        tw_options so = {OPT_SOFTMAX, 1, {tw_f32(0, 1.0f)}};
        op(&b, OP_SOFTMAX, &b.cur, 1, probs, &so);
    }
    tw_inputs(b.m, &input, 1);
    tw_outputs(b.m, &b.cur, 1);
    int rc = b.failed ? -1 : tw_finish(b.m, out, len);
    tw_free(b.m);
    return rc;
}
