/*
 * Test harness shared by test_conv.c and test_depthwise_conv.c: builds a
 * one-operator CONV_2D or DEPTHWISE_CONV_2D model with the TFLite writer,
 * runs it through the interpreter, re-runs the node with the reference
 * kernel for bit-exact comparison, and computes independent expectations in
 * double precision (the convolution written from its definition, with
 * TensorFlow's SAME/VALID padding rule).
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef CONV_HARNESS_H
#define CONV_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "kernels/conv.h"
#include "kernels/kernel.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"

enum { OP_CONV = 3, OP_DWCONV = 4 };
enum { H_PAD_SAME = 0, H_PAD_VALID = 1 };
enum { H_ACT_NONE = 0, H_ACT_RELU = 1, H_ACT_RELU_N1_TO_1 = 2, H_ACT_RELU6 = 3 };

/* One operator to build. Shapes NHWC; filter OHWI (CONV_2D) or 1HWO (DEPTHWISE). */
typedef struct conv_spec {
    int op;
    int32_t type;        /* TMO_INT8 or TMO_FLOAT32 (input and output) */
    int32_t filter_type; /* 0: same as type */
    int32_t in[4], filter[4], out[4];
    int padding, stride_h, stride_w, dil_h, dil_w, depth_mult, activation;
    int has_bias;
    /* float32 data */
    const float *filter_f, *bias_f;
    /* int8 data */
    const int8_t *filter_q;
    const int32_t *bias_q;
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
    const float *filter_scales; /* one per output channel when filter_scale_count > 1 */
    uint32_t filter_scale_count;
    int32_t filter_quant_dim;   /* -1: the operator's own (0 conv, 3 depthwise) */
} conv_spec;

static inline size_t h_count(const int32_t *d)
{
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

static inline int32_t h_out_channels(const conv_spec *s)
{
    return s->op == OP_CONV ? s->filter[0] : s->filter[3];
}

/* Serializes s; returns 0 and the bytes (free with free()) or -1. */
static inline int h_build(const conv_spec *s, uint8_t **bytes, size_t *len)
{
    tw_model *m = tw_new();
    if (m == NULL)
        return -1;
    int32_t oc = h_out_channels(s);
    int32_t ftype = s->filter_type ? s->filter_type : s->type;
    size_t fbytes = h_count(s->filter) * (ftype == TMO_FLOAT32 ? 4u : 1u);
    int bf = tw_buffer(m, ftype == TMO_FLOAT32 ? (const void *)s->filter_f : (const void *)s->filter_q,
                       fbytes);
    int bb = 0;
    if (s->has_bias)
        bb = tw_buffer(m, s->type == TMO_FLOAT32 ? (const void *)s->bias_f : (const void *)s->bias_q,
                       (size_t)oc * 4u);
    int64_t in_zp = s->in_zp, out_zp = s->out_zp;
    tw_quant qin = {1, &s->in_scale, &in_zp, 0}, qout = {1, &s->out_scale, &out_zp, 0};
    int32_t qdim = s->filter_quant_dim >= 0 ? s->filter_quant_dim : (s->op == OP_CONV ? 0 : 3);
    tw_quant qf = {s->filter_scale_count, s->filter_scales, NULL, qdim};
    float *bscales = malloc(sizeof(float) * (size_t)(oc > 0 ? oc : 1));
    for (int32_t c = 0; c < oc && s->filter_scales != NULL; c++)
        bscales[c] = s->in_scale *
                     (s->filter_scale_count > 1 ? s->filter_scales[c] : s->filter_scales[0]);
    tw_quant qb = {s->filter_scale_count > 1 ? (uint32_t)oc : 1u, bscales, NULL, 0};
    int quant = s->type == TMO_INT8;
    int qfilter = ftype == TMO_INT8 && s->filter_scale_count > 0;
    int32_t db[1] = {oc};
    int32_t t[4];
    t[0] = tw_tensor(m, "input", s->type, s->in, 4, 0, quant ? &qin : NULL);
    t[1] = tw_tensor(m, "filter", ftype, s->filter, 4, bf, qfilter ? &qf : NULL);
    t[2] = s->has_bias ? tw_tensor(m, "bias", s->type == TMO_FLOAT32 ? TMO_FLOAT32 : TMO_INT32, db,
                                   1, bb, quant ? &qb : NULL)
                       : -1;
    t[3] = tw_tensor(m, "output", s->type, s->out, 4, 0, quant ? &qout : NULL);
    tw_options o;
    memset(&o, 0, sizeof o);
    if (s->op == OP_CONV) {
        o.type = OPTIONS_CONV2D_OPTIONS;
        o.count = 6;
        o.fields[0] = tw_u8(0, s->padding);
        o.fields[1] = tw_i32(1, s->stride_w);
        o.fields[2] = tw_i32(2, s->stride_h);
        o.fields[3] = tw_u8(3, s->activation);
        o.fields[4] = tw_i32(4, s->dil_w);
        o.fields[5] = tw_i32(5, s->dil_h);
    } else {
        o.type = OPTIONS_DEPTHWISE_CONV2D_OPTIONS;
        o.count = 7;
        o.fields[0] = tw_u8(0, s->padding);
        o.fields[1] = tw_i32(1, s->stride_w);
        o.fields[2] = tw_i32(2, s->stride_h);
        o.fields[3] = tw_i32(3, s->depth_mult);
        o.fields[4] = tw_u8(4, s->activation);
        o.fields[5] = tw_i32(5, s->dil_w);
        o.fields[6] = tw_i32(6, s->dil_h);
    }
    int32_t outs[1] = {t[3]};
    int ok = tw_operator(m, s->op, t, s->has_bias ? 3 : 2, outs, 1, &o) >= 0;
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[3], 1);
    int r = ok ? tw_finish(m, bytes, len) : -1;
    tw_free(m);
    free(bscales);
    return r;
}

/* Builds and loads s; returns the load result, the message in err. */
static inline tmo_err h_open(const conv_spec *s, host_model *hm, char *err, size_t err_len)
{
    uint8_t *bytes;
    size_t len;
    assert_int_equal(h_build(s, &bytes, &len), 0);
    tmo_err e = host_model_open_bytes(hm, bytes, len, err, err_len);
    if (e != TMO_OK)
        host_model_close(hm);
    return e;
}

/* Runs the loaded model on input (raw bytes) and copies the output. */
static inline void h_run(host_model *hm, const void *input, void *output)
{
    tmo_io io;
    assert_int_equal(tmo_interp_input(&hm->interp, 0, &io), TMO_OK);
    memcpy(io.data, input, io.bytes);
    assert_int_equal(tmo_interp_invoke(&hm->interp), TMO_OK);
    assert_int_equal(tmo_interp_output(&hm->interp, 0, &io), TMO_OK);
    memcpy(output, io.data, io.bytes);
}

/* Re-runs node 0 with kernel fn (e.g. the reference) and copies the output. */
static inline void h_run_kernel(host_model *hm, tmo_invoke_fn fn, void *output)
{
    tmo_exec x = {hm->interp.arena, hm->model.base, hm->interp.tensor_loc};
    const tmo_node *n = &hm->interp.nodes[0];
    fn(&x, n->params, hm->interp.arena + n->scratch_off);
    tmo_io io;
    assert_int_equal(tmo_interp_output(&hm->interp, 0, &io), TMO_OK);
    memcpy(output, io.data, io.bytes);
}

/* TensorFlow's padding rule, written out independently of the runtime's. */
static inline int32_t h_pad_before(int padding, int32_t in, int32_t k, int32_t stride, int32_t dil,
                                   int32_t out)
{
    if (padding == H_PAD_VALID)
        return 0;
    int32_t eff = (k - 1) * dil + 1;
    int32_t total = (out - 1) * stride + eff - in;
    return total > 0 ? total / 2 : 0;
}

static inline int32_t h_out_size(int padding, int32_t in, int32_t k, int32_t stride, int32_t dil)
{
    int32_t eff = (k - 1) * dil + 1;
    return padding == H_PAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

/*
 * The real-valued result of the operator (before activation), in double:
 * out[b][y][x][oc] = bias[oc] + sum over taps inside the input of in * w.
 * in, w, bias are real values (already dequantized for int8).
 */
static inline void h_expect(const conv_spec *s, const double *in, const double *w,
                            const double *bias, double *out)
{
    int32_t oh = s->out[1], ow = s->out[2], oc_n = s->out[3];
    int32_t kh = s->filter[1], kw = s->filter[2];
    /* TFLite pads for the output size the padding mode implies, whatever the tensor says. */
    int32_t ph = h_pad_before(s->padding, s->in[1], kh, s->stride_h, s->dil_h,
                              h_out_size(s->padding, s->in[1], kh, s->stride_h, s->dil_h));
    int32_t pw = h_pad_before(s->padding, s->in[2], kw, s->stride_w, s->dil_w,
                              h_out_size(s->padding, s->in[2], kw, s->stride_w, s->dil_w));
    int32_t ic_n = s->in[3];
    for (int32_t b = 0; b < s->in[0]; b++)
        for (int32_t y = 0; y < oh; y++)
            for (int32_t x = 0; x < ow; x++)
                for (int32_t oc = 0; oc < oc_n; oc++) {
                    double acc = bias != NULL ? bias[oc] : 0.0;
                    for (int32_t ky = 0; ky < kh; ky++)
                        for (int32_t kx = 0; kx < kw; kx++) {
                            int32_t iy = y * s->stride_h - ph + ky * s->dil_h;
                            int32_t ix = x * s->stride_w - pw + kx * s->dil_w;
                            if (iy < 0 || iy >= s->in[1] || ix < 0 || ix >= s->in[2])
                                continue;
                            const double *px = in + (((size_t)b * s->in[1] + iy) * s->in[2] + ix) * ic_n;
                            if (s->op == OP_DWCONV) {
                                int32_t ic = oc / s->depth_mult;
                                acc += px[ic] * w[((size_t)ky * kw + kx) * oc_n + oc];
                            } else {
                                int32_t kc_n = s->filter[3];
                                int32_t per_group = oc_n / (ic_n / kc_n);
                                int32_t g = oc / per_group;
                                for (int32_t kc = 0; kc < kc_n; kc++)
                                    acc += px[g * kc_n + kc] *
                                           w[(((size_t)oc * kh + ky) * kw + kx) * kc_n + kc];
                            }
                        }
                    out[(((size_t)b * oh + y) * ow + x) * oc_n + oc] = acc;
                }
}

/* Real clamp range of a fused activation. */
static inline void h_act_range(int act, double *lo, double *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (act == H_ACT_RELU || act == H_ACT_RELU6)
        *lo = 0.0;
    if (act == H_ACT_RELU6)
        *hi = 6.0;
    if (act == H_ACT_RELU_N1_TO_1) {
        *lo = -1.0;
        *hi = 1.0;
    }
}

/* Quantizes a real result the way an ideal int8 kernel would. */
static inline int32_t h_quantize(double real, const conv_spec *s)
{
    double lo, hi;
    h_act_range(s->activation, &lo, &hi);
    real = real < lo ? lo : real > hi ? hi : real;
    double q = round(real / s->out_scale) + s->out_zp;
    return q < -128 ? -128 : q > 127 ? 127 : (int32_t)q;
}

/* splitmix64: deterministic test data. */
static inline uint64_t h_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline int32_t h_range(uint64_t *state, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(h_next(state) % (uint64_t)(hi - lo + 1));
}

static inline float h_uniform(uint64_t *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(h_next(state) >> 11) / 9007199254740992.0);
}

#endif
