/*
 * The int8 maths of a model-factory .tflite, written for test_train_quant.c
 * from TFLite's definitions and independent of the runtime's kernels: a
 * small interpreter over the parsed model (tmo_model_op / tmo_model_tensor
 * only) for FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D (SAME padding),
 * MAX/AVERAGE_POOL_2D, RESHAPE and (as real-valued probabilities) SOFTMAX.
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef TRAIN_INT8_REF_H
#define TRAIN_INT8_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlops/model.h"

enum { AVG_POOL = 1, CONV = 3, DWCONV = 4, FC = 9, MAX_POOL = 17, RESHAPE = 22, SOFTMAX = 25 };

static inline int32_t le_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/*
 * acc * real as TFLite does it: real = m * 2^e with m a Q31 number in
 * [0.5, 1) (QuantizeMultiplier), a rounding doubling high multiply by m,
 * then a rounding (half away from zero) shift right by -e.
 */
static inline int32_t requant(int32_t acc, double real)
{
    int e;
    double frac = frexp(real, &e);
    int64_t m = llround(frac * 2147483648.0);
    if (m == 2147483648LL) {
        m /= 2;
        e++;
    }
    int64_t x = (int64_t)acc * (e > 0 ? ((int64_t)1 << e) : 1);
    int64_t prod = x * m;
    int64_t nudge = prod >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    int64_t high = (prod + nudge) / ((int64_t)1 << 31); /* C division truncates, like TFLite's */
    int right = e > 0 ? 0 : -e;
    int64_t mask = ((int64_t)1 << right) - 1, rem = high & mask;
    int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    int64_t q = (high >> right) + (rem > threshold ? 1 : 0);
    /* The fixed-point path may differ from exact rounding by at most one step. */
    double exact = (double)acc * real;
    assert_true(fabs((double)q - exact) <= 1.0);
    return (int32_t)q;
}

typedef struct ref_t {
    tmo_tensor_info info;
    int8_t *data; /* activations; NULL for constants */
} ref_t;

static inline int32_t clamp_act(int32_t v, int relu, const tmo_tensor_info *out)
{
    int32_t lo = relu && out->zero_point > -128 ? out->zero_point : -128;
    return v < lo ? lo : v > 127 ? 127 : v;
}

static inline double chan_scale(const tmo_tensor_info *t, uint32_t c)
{
    return (double)tmo_tensor_scale(t, t->scale_count > 1 ? c : 0);
}

/* TensorFlow SAME padding before the first element. */
static inline int32_t pad_before(int32_t in, int32_t k, int32_t stride, int32_t out)
{
    int32_t total = (out - 1) * stride + k - in;
    return total > 0 ? total / 2 : 0;
}

static inline void ref_conv(const tmo_model *m, const tmo_op_info *op, ref_t *t, int depthwise)
{
    const tmo_tensor_info *in = &t[op->inputs[0]].info, *w = &t[op->inputs[1]].info,
                          *b = &t[op->inputs[2]].info, *out = &t[op->outputs[0]].info;
    int32_t stride, act;
    uint8_t pad, act8;
    assert_int_equal(tmo_opt_u8(m, op, 0, 0, &pad), TMO_OK);
    assert_int_equal(pad, 0); /* SAME */
    assert_int_equal(tmo_opt_i32(m, op, 1, 0, &stride), TMO_OK);
    assert_int_equal(tmo_opt_u8(m, op, depthwise ? 4 : 3, 0, &act8), TMO_OK);
    act = act8;
    int32_t ih = in->dims[1], iw = in->dims[2], ic = in->dims[3];
    int32_t oh = out->dims[1], ow = out->dims[2], oc = out->dims[3], k = w->dims[1];
    int32_t ph = pad_before(ih, k, stride, oh), pw = pad_before(iw, k, stride, ow);
    const int8_t *x = t[op->inputs[0]].data, *wd = w->data;
    for (int32_t y = 0; y < oh; y++)
        for (int32_t xx = 0; xx < ow; xx++)
            for (int32_t o = 0; o < oc; o++) {
                int32_t acc = le_i32((const uint8_t *)b->data + 4 * o);
                for (int32_t ky = 0; ky < k; ky++)
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t iy = y * stride - ph + ky, ix = xx * stride - pw + kx;
                        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw)
                            continue;
                        const int8_t *px = x + ((size_t)iy * iw + ix) * ic;
                        if (depthwise)
                            acc += (px[o] - in->zero_point) * wd[((size_t)ky * k + kx) * oc + o];
                        else
                            for (int32_t c = 0; c < ic; c++)
                                acc += (px[c] - in->zero_point) *
                                       wd[(((size_t)o * k + ky) * k + kx) * ic + c];
                    }
                double real = (double)in->scale * chan_scale(w, (uint32_t)o) / (double)out->scale;
                t[op->outputs[0]].data[((size_t)y * ow + xx) * oc + o] =
                    (int8_t)clamp_act(requant(acc, real) + out->zero_point, act == 1, out);
            }
}

static inline void ref_fc(const tmo_model *m, const tmo_op_info *op, ref_t *t)
{
    const tmo_tensor_info *in = &t[op->inputs[0]].info, *w = &t[op->inputs[1]].info,
                          *b = &t[op->inputs[2]].info, *out = &t[op->outputs[0]].info;
    uint8_t act;
    assert_int_equal(tmo_opt_u8(m, op, 0, 0, &act), TMO_OK);
    int32_t units = w->dims[0], depth = w->dims[1];
    const int8_t *x = t[op->inputs[0]].data, *wd = w->data;
    for (int32_t u = 0; u < units; u++) {
        int32_t acc = le_i32((const uint8_t *)b->data + 4 * u);
        for (int32_t j = 0; j < depth; j++)
            acc += (x[j] - in->zero_point) * wd[(size_t)u * depth + j];
        double real = (double)in->scale * chan_scale(w, (uint32_t)u) / (double)out->scale;
        t[op->outputs[0]].data[u] =
            (int8_t)clamp_act(requant(acc, real) + out->zero_point, act == 1, out);
    }
}

static inline void ref_pool(const tmo_model *m, const tmo_op_info *op, ref_t *t, int is_max)
{
    const tmo_tensor_info *in = &t[op->inputs[0]].info, *out = &t[op->outputs[0]].info;
    int32_t stride, k;
    assert_int_equal(tmo_opt_i32(m, op, 1, 0, &stride), TMO_OK);
    assert_int_equal(tmo_opt_i32(m, op, 3, 0, &k), TMO_OK);
    int32_t iw = in->dims[2], c_n = in->dims[3];
    const int8_t *x = t[op->inputs[0]].data;
    for (int32_t y = 0; y < out->dims[1]; y++)
        for (int32_t xx = 0; xx < out->dims[2]; xx++)
            for (int32_t c = 0; c < c_n; c++) {
                int32_t acc = is_max ? -128 : 0;
                for (int32_t ky = 0; ky < k; ky++)
                    for (int32_t kx = 0; kx < k; kx++) {
                        int32_t v =
                            x[((size_t)(y * stride + ky) * iw + xx * stride + kx) * c_n + c];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                    }
                int32_t n = k * k;
                /* Average: rounded half away from zero, as TFLite's integer average pool. */
                if (!is_max)
                    acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
                t[op->outputs[0]].data[((size_t)y * out->dims[2] + xx) * c_n + c] = (int8_t)acc;
            }
}

/* Runs the int8 model m on input q; returns the output tensor's bytes (static until the next call). */
static inline const int8_t *ref_run(const tmo_model *m, const int8_t *q, double *softmax_probs)
{
    static ref_t t[64];
    assert_true(m->tensor_count <= 64);
    for (uint32_t i = 0; i < m->tensor_count; i++) {
        free(t[i].data);
        assert_int_equal(tmo_model_tensor(m, i, &t[i].info), TMO_OK);
        t[i].data = t[i].info.data == NULL ? calloc(t[i].info.elements, 1) : NULL;
    }
    int32_t in = tmo_model_input(m, 0);
    memcpy(t[in].data, q, t[in].info.elements);
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        assert_int_equal(tmo_model_op(m, i, &op), TMO_OK);
        switch (op.builtin) {
        case CONV:
            ref_conv(m, &op, t, 0);
            break;
        case DWCONV:
            ref_conv(m, &op, t, 1);
            break;
        case FC:
            ref_fc(m, &op, t);
            break;
        case MAX_POOL:
            ref_pool(m, &op, t, 1);
            break;
        case AVG_POOL:
            ref_pool(m, &op, t, 0);
            break;
        case RESHAPE:
            memcpy(t[op.outputs[0]].data, t[op.inputs[0]].data, t[op.inputs[0]].info.elements);
            break;
        case SOFTMAX: {
            /* Real probabilities of the dequantized logits; TFLM's int8 softmax approximates them. */
            const ref_t *l = &t[op.inputs[0]];
            double mx = -1e300, sum = 0.0;
            size_t n = l->info.elements;
            for (size_t c = 0; c < n; c++)
                mx = fmax(mx, (double)l->info.scale * (l->data[c] - l->info.zero_point));
            for (size_t c = 0; c < n; c++)
                sum += exp((double)l->info.scale * (l->data[c] - l->info.zero_point) - mx);
            for (size_t c = 0; c < n; c++) {
                softmax_probs[c] =
                    exp((double)l->info.scale * (l->data[c] - l->info.zero_point) - mx) / sum;
                long v = lround(softmax_probs[c] * 256.0) - 128;
                t[op.outputs[0]].data[c] = (int8_t)(v > 127 ? 127 : v);
            }
            break;
        }
        default:
            fail_msg("unexpected operator %d", op.builtin);
        }
    }
    return t[tmo_model_output(m, 0)].data;
}

#endif
