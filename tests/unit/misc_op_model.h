/*
 * Test helper for the pooling, softmax, reshape, concatenation, mean and pad
 * kernel tests: builds a one-operator .tflite model with the writer, loads
 * it into an interpreter over a heap arena (keeping the diagnostic so error
 * tests can check which field was named), and runs it.
 *
 * Every non-constant operator input becomes a graph input, every operator
 * output a graph output, in slot order.
 */
#ifndef TMO_TEST_MISC_OP_MODEL_H
#define TMO_TEST_MISC_OP_MODEL_H

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host.h"
#include "tflite_writer.h"
#include "tinymlops/interp.h"

typedef struct mop_tensor {
    int32_t type;
    uint32_t ndim;
    int32_t dims[6];
    int quantized;      /* scale/zero_point meaningful */
    float scale;
    int64_t zero_point;
    const void *data;   /* constant data (copied), or NULL for an activation */
    size_t data_len;
} mop_tensor;

typedef struct mop_model {
    host_model hm;
    tmo_diag diag;
    tmo_err err;
    uint32_t n_graph_inputs;
} mop_model;

static inline mop_tensor mop_f32(uint32_t ndim, const int32_t *dims)
{
    mop_tensor t;
    memset(&t, 0, sizeof t);
    t.type = 0; /* FLOAT32 */
    t.ndim = ndim;
    memcpy(t.dims, dims, sizeof(int32_t) * ndim);
    return t;
}

static inline mop_tensor mop_s8(uint32_t ndim, const int32_t *dims, float scale, int32_t zp)
{
    mop_tensor t = mop_f32(ndim, dims);
    t.type = 9; /* INT8 */
    t.quantized = 1;
    t.scale = scale;
    t.zero_point = zp;
    return t;
}

static inline mop_tensor mop_const(mop_tensor t, const void *data, size_t len)
{
    t.data = data;
    t.data_len = len;
    return t;
}

static inline mop_tensor mop_i32_const(uint32_t ndim, const int32_t *dims, const int32_t *values,
                                       size_t count)
{
    mop_tensor t = mop_f32(ndim, dims);
    t.type = 2; /* INT32 */
    return mop_const(t, values, count * sizeof(int32_t));
}

static inline int mop_add_tensor(tw_model *w, const mop_tensor *t)
{
    int buffer = t->data != NULL ? tw_buffer(w, t->data, t->data_len) : 0;
    float scale = t->scale;
    int64_t zp = t->zero_point;
    tw_quant q = {1, &scale, &zp, 0};
    return tw_tensor(w, "t", t->type, t->dims, t->ndim, buffer, t->quantized ? &q : NULL);
}

/*
 * Builds and loads the model. Returns the prepare/parse result (also in
 * m->err, with the detail in m->diag). On success the caller runs
 * mop_invoke and frees with mop_close; on failure nothing needs freeing.
 */
static inline tmo_err mop_build(mop_model *m, int32_t builtin, const mop_tensor *ins,
                                uint32_t n_in, const mop_tensor *outs, uint32_t n_out,
                                const tw_options *opts)
{
    int32_t in_idx[16], out_idx[16], graph_in[16];
    uint32_t n_graph_in = 0;
    memset(m, 0, sizeof *m);
    tw_model *w = tw_new();
    assert_non_null(w);
    for (uint32_t i = 0; i < n_in; i++) {
        in_idx[i] = mop_add_tensor(w, &ins[i]);
        if (ins[i].data == NULL)
            graph_in[n_graph_in++] = in_idx[i];
    }
    for (uint32_t i = 0; i < n_out; i++)
        out_idx[i] = mop_add_tensor(w, &outs[i]);
    assert_true(tw_operator(w, builtin, in_idx, n_in, out_idx, n_out, opts) >= 0);
    tw_inputs(w, graph_in, n_graph_in);
    tw_outputs(w, out_idx, n_out);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(tw_finish(w, &bytes, &len), 0);
    tw_free(w);

    m->n_graph_inputs = n_graph_in;
    m->hm.bytes = bytes;
    m->hm.len = len;
    m->err = tmo_model_parse(&m->hm.model, bytes, len, &m->diag);
    if (m->err == TMO_OK)
        m->err = host_arena_size(&m->hm.model, &m->hm.arena_len, &m->diag);
    if (m->err == TMO_OK) {
        m->hm.arena = aligned_alloc(16, (m->hm.arena_len + 15) & ~(size_t)15);
        assert_non_null(m->hm.arena);
        m->err = tmo_interp_init(&m->hm.interp, &m->hm.model, m->hm.arena, m->hm.arena_len,
                                 &m->diag);
    }
    if (m->err != TMO_OK)
        host_model_close(&m->hm);
    return m->err;
}

static inline void mop_close(mop_model *m)
{
    host_model_close(&m->hm);
}

/* Copies data into graph input i (its size must match). */
static inline void mop_set_input(mop_model *m, uint32_t i, const void *data, size_t len)
{
    tmo_io io;
    assert_int_equal(tmo_interp_input(&m->hm.interp, i, &io), TMO_OK);
    assert_int_equal(io.bytes, len);
    memcpy(io.data, data, len);
}

static inline void mop_invoke(mop_model *m)
{
    assert_int_equal(tmo_interp_invoke(&m->hm.interp), TMO_OK);
}

/* Copies graph output i out (its size must match). */
static inline void mop_get_output(mop_model *m, uint32_t i, void *data, size_t len)
{
    tmo_io io;
    assert_int_equal(tmo_interp_output(&m->hm.interp, i, &io), TMO_OK);
    assert_int_equal(io.bytes, len);
    memcpy(data, io.data, len);
}

/* Builds, runs once with one input and returns the single output; fails the test on any error. */
static inline void mop_run1(int32_t builtin, const mop_tensor *ins, uint32_t n_in,
                            const mop_tensor *out, const tw_options *opts, const void *input,
                            size_t in_len, void *output, size_t out_len)
{
    mop_model m;
    tmo_err e = mop_build(&m, builtin, ins, n_in, out, 1, opts);
    if (e != TMO_OK)
        fail_msg("prepare failed: %s (%s: %s)", tmo_err_name(e),
                 m.diag.field ? m.diag.field : "?", m.diag.problem ? m.diag.problem : "?");
    mop_set_input(&m, 0, input, in_len);
    mop_invoke(&m);
    mop_get_output(&m, 0, output, out_len);
    mop_close(&m);
}

/* Expects prepare to fail with err and a diagnostic naming field. */
static inline void mop_expect_error(int32_t builtin, const mop_tensor *ins, uint32_t n_in,
                                    const mop_tensor *out, const tw_options *opts, tmo_err err,
                                    const char *field)
{
    mop_model m;
    tmo_err e = mop_build(&m, builtin, ins, n_in, out, 1, opts);
    if (e == TMO_OK) {
        mop_close(&m);
        fail_msg("prepare succeeded, expected %s naming %s", tmo_err_name(err), field);
    }
    if (e != err || m.diag.field == NULL || strcmp(m.diag.field, field) != 0)
        fail_msg("got %s naming %s (%s), expected %s naming %s", tmo_err_name(e),
                 m.diag.field ? m.diag.field : "nothing", m.diag.problem ? m.diag.problem : "",
                 tmo_err_name(err), field);
}

/* Round to nearest, ties away from zero, then clamp to int8 (float reference quantization). */
static inline int8_t mop_quantize(double real, float scale, int32_t zp)
{
    double q = real / (double)scale;
    q = q < 0 ? -(double)(int64_t)(-q + 0.5) : (double)(int64_t)(q + 0.5);
    q += zp;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

/* xorshift32: deterministic test data without libc rand(). */
static inline uint32_t mop_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
