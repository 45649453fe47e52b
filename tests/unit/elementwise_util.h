/*
 * Test helpers for the elementwise operator tests (test_add.c, test_mul.c,
 * test_quantize.c, test_activations.c): build a one-operator model with the
 * TFLite writer, prepare it, feed its inputs, invoke, and read the output;
 * optionally re-run the operator's reference kernel on the same parameters
 * and demand identical bytes. Also the quantization arithmetic the expected
 * values are computed with, written independently of the kernels.
 */
#ifndef TMO_TEST_ELEMENTWISE_UTIL_H
#define TMO_TEST_ELEMENTWISE_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "kernels/kernel.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"

enum {
    OP_ADD = 0,
    OP_DEQUANTIZE = 6,
    OP_LOGISTIC = 14,
    OP_MUL = 18,
    OP_RELU = 19,
    OP_RELU6 = 21,
    OP_TANH = 28,
    OP_QUANTIZE = 114
};

/* One tensor of a test model. */
typedef struct ew_tensor {
    int32_t type;
    uint32_t ndim;
    int32_t dims[TMO_MAX_DIMS];
    int quantized; /* per-tensor scale/zero_point below */
    float scale;
    int64_t zero_point;
    const void *data;     /* input values (NULL: zeros) */
    int constant;         /* store data in the model instead of feeding it at run time */
    uint32_t per_channel; /* > 1: that many (equal) scales along axis 0 */
} ew_tensor;

static inline size_t ew_elements(const ew_tensor *t)
{
    size_t n = 1;
    for (uint32_t i = 0; i < t->ndim; i++)
        n *= (size_t)t->dims[i];
    return n;
}

static inline size_t ew_bytes(const ew_tensor *t)
{
    return ew_elements(t) * tmo_type_size(t->type);
}

/* Shorthands for building tensors. */
static inline ew_tensor ew_f32(uint32_t ndim, const int32_t *dims, const float *data)
{
    ew_tensor t;
    memset(&t, 0, sizeof t);
    t.type = TMO_FLOAT32;
    t.ndim = ndim;
    if (ndim > 0)
        memcpy(t.dims, dims, ndim * sizeof dims[0]);
    t.data = data;
    return t;
}

static inline ew_tensor ew_s8(uint32_t ndim, const int32_t *dims, float scale, int64_t zp,
                              const int8_t *data)
{
    ew_tensor t = ew_f32(ndim, dims, NULL);
    t.type = TMO_INT8;
    t.quantized = 1;
    t.scale = scale;
    t.zero_point = zp;
    t.data = data;
    return t;
}

/* What a run produced. */
typedef struct ew_result {
    tmo_err err;
    char msg[512];
} ew_result;

static inline int ew_add_tensor(tw_model *m, const ew_tensor *t, const char *name)
{
    float scales[64];
    int64_t zps[64];
    uint32_t count = t->per_channel > 1 ? t->per_channel : 1;
    assert_true(count <= 64);
    for (uint32_t i = 0; i < count; i++) {
        scales[i] = t->scale;
        zps[i] = t->zero_point;
    }
    tw_quant q = {count, scales, zps, 0};
    int buf = 0;
    if (t->constant)
        buf = tw_buffer(m, t->data, ew_bytes(t));
    return tw_tensor(m, name, t->type, t->dims, t->ndim, buf, t->quantized ? &q : NULL);
}

/*
 * Builds and runs `builtin` on the inputs, writing the output bytes to
 * out_data (when the model prepares). When `ref` is not NULL the reference
 * kernel is then run on the same prepared parameters and must reproduce the
 * output byte for byte.
 */
static inline ew_result ew_run(int32_t builtin, const tw_options *opts, const ew_tensor *in,
                               uint32_t n_in, const ew_tensor *out, void *out_data,
                               tmo_invoke_fn ref)
{
    ew_result r;
    memset(&r, 0, sizeof r);
    tw_model *m = tw_new();
    assert_non_null(m);
    int32_t t[8];
    assert_true(n_in < 8);
    for (uint32_t i = 0; i < n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "in%u", i);
        t[i] = ew_add_tensor(m, &in[i], name);
    }
    t[n_in] = ew_add_tensor(m, out, "out");
    assert_true(t[n_in] >= 0);
    assert_int_equal(tw_operator(m, builtin, t, n_in, &t[n_in], 1, opts), 0);
    int32_t graph_in[8];
    uint32_t n_graph_in = 0;
    for (uint32_t i = 0; i < n_in; i++)
        if (!in[i].constant)
            graph_in[n_graph_in++] = t[i];
    tw_inputs(m, graph_in, n_graph_in);
    tw_outputs(m, &t[n_in], 1);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(tw_finish(m, &bytes, &len), 0);
    tw_free(m);

    host_model hm;
    r.err = host_model_open_bytes(&hm, bytes, len, r.msg, sizeof r.msg);
    if (r.err != TMO_OK) {
        host_model_close(&hm);
        return r;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < n_in; i++) {
        if (in[i].constant)
            continue;
        tmo_io io;
        assert_int_equal(tmo_interp_input(&hm.interp, k++, &io), TMO_OK);
        assert_int_equal(io.bytes, ew_bytes(&in[i]));
        if (in[i].data != NULL)
            memcpy(io.data, in[i].data, io.bytes);
        else
            memset(io.data, 0, io.bytes);
    }
    assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
    tmo_io o;
    assert_int_equal(tmo_interp_output(&hm.interp, 0, &o), TMO_OK);
    assert_int_equal(o.bytes, ew_bytes(out));
    memcpy(out_data, o.data, o.bytes);
    if (ref != NULL) {
        /* Inputs are still intact: the operator's output never shares their memory. */
        memset(o.data, 0x5a, o.bytes);
        tmo_exec x = {hm.interp.arena, hm.model.base, hm.interp.tensor_loc};
        const tmo_node *node = &hm.interp.nodes[0];
        ref(&x, node->params, hm.interp.arena + node->scratch_off);
        assert_memory_equal(o.data, out_data, o.bytes);
    }
    host_model_close(&hm);
    return r;
}

/* Prepares only, for error cases: returns the error and its message. */
static inline ew_result ew_prepare(int32_t builtin, const tw_options *opts, const ew_tensor *in,
                                   uint32_t n_in, const ew_tensor *out)
{
    uint8_t sink[1 << 16];
    assert_true(ew_bytes(out) <= sizeof sink);
    return ew_run(builtin, opts, in, n_in, out, sink, NULL);
}

/* Asserts that preparing fails with `err` and that the message mentions `needle`. */
#define EW_EXPECT_FAIL(res, code, needle)                                                          \
    do {                                                                                           \
        ew_result r_ = (res);                                                                      \
        if (r_.err != (code) || strstr(r_.msg, (needle)) == NULL)                                  \
            fail_msg("expected %s mentioning '%s', got %s: %s", tmo_err_name(code), (needle),      \
                     tmo_err_name(r_.err), r_.msg);                                                \
    } while (0)

/* ---- independent quantization arithmetic ---- */

/* TFLM test_helpers Quantize(): round(x / scale) + zero_point, clamped to int8. */
static inline int8_t ew_q8(float x, float scale, int32_t zp)
{
    long v = lroundf(x / scale) + zp;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

/* Real value of an int8. */
static inline double ew_real(int8_t q, float scale, int32_t zp)
{
    return ((double)q - zp) * (double)scale;
}

/* Nearest int8 to a real value (in double), clamped to [lo, hi]. */
static inline int ew_nearest(double real, float scale, int32_t zp, int lo, int hi)
{
    double v = nearbyint(real / (double)scale) + zp;
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/*
 * Element of input `in` that output element `flat` reads under TFLite
 * broadcasting (shapes right-aligned, extent-1 dimensions repeated),
 * computed from coordinates rather than from any plan.
 */
static inline size_t ew_bcast_index(const ew_tensor *in, const ew_tensor *out, size_t flat)
{
    int32_t coord[TMO_MAX_DIMS];
    for (uint32_t d = out->ndim; d-- > 0;) {
        coord[d] = (int32_t)(flat % (size_t)out->dims[d]);
        flat /= (size_t)out->dims[d];
    }
    size_t idx = 0;
    uint32_t pad = out->ndim - in->ndim;
    for (uint32_t d = 0; d < in->ndim; d++) {
        int32_t c = in->dims[d] == 1 ? 0 : coord[d + pad];
        idx = idx * (size_t)in->dims[d] + (size_t)c;
    }
    return idx;
}

/* Shapes of a binary broadcasting case: input1, input2, output. */
typedef struct ew_shape_case {
    uint32_t n1, n2, no;
    int32_t d1[6], d2[6], dout[6];
} ew_shape_case;

/* The broadcasting patterns ADD and MUL are tested on. */
static inline const ew_shape_case *ew_bcast_cases(size_t *n)
{
    static const ew_shape_case cases[] = {
        {3, 0, 3, {2, 3, 4}, {0}, {2, 3, 4}},                /* scalar, rank 0 */
        {3, 1, 3, {2, 3, 4}, {1}, {2, 3, 4}},                /* scalar, [1] */
        {1, 3, 3, {1}, {2, 3, 4}, {2, 3, 4}},                /* scalar first */
        {3, 1, 3, {2, 3, 4}, {4}, {2, 3, 4}},                /* row */
        {3, 3, 3, {2, 3, 4}, {2, 3, 1}, {2, 3, 4}},          /* column */
        {4, 1, 4, {2, 2, 3, 5}, {5}, {2, 2, 3, 5}},          /* 4-D vs 1-D */
        {1, 4, 4, {5}, {2, 2, 3, 5}, {2, 2, 3, 5}},          /* 1-D vs 4-D */
        {2, 2, 2, {3, 1}, {1, 4}, {3, 4}},                   /* both broadcast */
        {1, 2, 2, {3}, {2, 1}, {2, 3}},                      /* output of higher rank */
        {4, 4, 4, {1, 1, 1, 7}, {1, 1, 1, 7}, {1, 1, 1, 7}}, /* same shapes */
        {2, 2, 1, {2, 3}, {2, 3}, {6}},                      /* same shapes, flat output */
        {6, 6, 6, {2, 1, 3, 1, 2, 1}, {1, 2, 1, 2, 1, 3}, {2, 2, 3, 2, 2, 3}}, /* 6-D */
        {6, 2, 6, {2, 2, 1, 3, 1, 2}, {4, 1}, {2, 2, 4, 3, 4, 2}},             /* 6-D vs 2-D */
        {4, 4, 4, {1, 5, 1, 3}, {2, 1, 4, 1}, {2, 5, 4, 3}},                   /* alternating */
    };
    *n = sizeof cases / sizeof cases[0];
    return cases;
}

/* The case whose inputs share a shape and whose output only has the same size: elementwise. */
static inline int ew_flat_case(const ew_shape_case *sc)
{
    return sc->no < sc->n1;
}

/* Deterministic pseudo-random numbers (splitmix64), so failures reproduce. */
static inline uint64_t ew_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline int ew_rand_int(uint64_t *s, int lo, int hi)
{
    return lo + (int)(ew_rand(s) % (uint64_t)(hi - lo + 1));
}

/* Uniform in [lo, hi). */
static inline double ew_rand_real(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(ew_rand(s) >> 11) / 9007199254740992.0;
}

static inline void ew_rand_s8(uint64_t *s, int8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (int8_t)(ew_rand(s) >> 56);
}

/* Options with a fused activation in field 0 (ADD, MUL). */
static inline tw_options ew_act_options(uint8_t type, int activation)
{
    tw_options o;
    memset(&o, 0, sizeof o);
    o.type = type;
    o.count = 1;
    o.fields[0] = tw_u8(0, activation);
    return o;
}

#endif
