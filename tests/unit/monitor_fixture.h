/*
 * Shared helpers of the monitor and profile tests: tiny models written with
 * the project's TFLite writer (so every expectation can be computed by hand
 * in the test), a seeded random source, and shortcuts to build a profile,
 * attach a monitor and decode its report.
 */
#ifndef TMO_TEST_MONITOR_FIXTURE_H
#define TMO_TEST_MONITOR_FIXTURE_H

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
#include "profile_build.h"
#include "profile_write.h"
#include "report.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/monitor.h"
#include "tinymlops/profile.h"

enum { FX_FC = 9, FX_RELU = 19, FX_SOFTMAX = 25 };

/* ---- seeded randomness (splitmix64) ---- */
typedef struct fx_rng {
    uint64_t s;
} fx_rng;

static inline uint64_t fx_next(fx_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double fx_uniform(fx_rng *r)
{
    return (double)(fx_next(r) >> 11) / 9007199254740992.0;
}

static inline double fx_normal(fx_rng *r)
{
    double u = fx_uniform(r), v = fx_uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* ---- models ---- */

static inline int fx_act(tw_model *w, int32_t type, const int32_t *dims, uint32_t nd, float scale,
                         int64_t zp)
{
    tw_quant q = {1, &scale, &zp, 0};
    return tw_tensor(w, "t", type, dims, nd, 0, type == TMO_INT8 ? &q : NULL);
}

static inline uint8_t *fx_finish(tw_model *w, size_t *len)
{
    uint8_t *out = NULL;
    assert_int_equal(tw_finish(w, &out, len), 0);
    tw_free(w);
    return out;
}

/* in [1,k] -> SOFTMAX -> out [1,k]; float32, or int8 (input scale/zp, output 1/256, -128). */
static inline uint8_t *fx_softmax_model(int32_t type, int32_t k, float scale, int64_t zp,
                                        size_t *len)
{
    tw_model *w = tw_new();
    int32_t dims[2] = {1, k};
    int in = fx_act(w, type, dims, 2, scale, zp);
    int out = fx_act(w, type, dims, 2, 1.0f / 256.0f, -128);
    tw_options o = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, 1.0f)}};
    tw_operator(w, FX_SOFTMAX, &in, 1, &out, 1, &o);
    tw_inputs(w, &in, 1);
    tw_outputs(w, &out, 1);
    return fx_finish(w, len);
}

/* in [1,r,c] -> RELU -> out [1,r,c], same quantization (a "values" model). */
static inline uint8_t *fx_relu_model(int32_t type, int32_t r, int32_t c, float scale, int64_t zp,
                                     size_t *len)
{
    tw_model *w = tw_new();
    int32_t dims[3] = {1, r, c};
    int in = fx_act(w, type, dims, 3, scale, zp);
    int out = fx_act(w, type, dims, 3, scale, zp);
    tw_operator(w, FX_RELU, &in, 1, &out, 1, NULL);
    tw_inputs(w, &in, 1);
    tw_outputs(w, &out, 1);
    return fx_finish(w, len);
}

/*
 * float32 in [1,n] -> RELU -> h [1,n] -> FULLY_CONNECTED (weights[k][n], no
 * bias) -> [1,k] -> SOFTMAX -> out [1,k]. h (tensor 1) is the penultimate.
 */
static inline uint8_t *fx_mlp_model_ex(int32_t n, int32_t k, const float *weights, int extra,
                                       size_t *len)
{
    tw_model *w = tw_new();
    int32_t d_in[2] = {1, n}, d_w[2] = {k, n}, d_out[2] = {1, k};
    int in = fx_act(w, TMO_FLOAT32, d_in, 2, 0, 0);
    int h = fx_act(w, TMO_FLOAT32, d_in, 2, 0, 0);
    int wt =
        tw_tensor(w, "w", TMO_FLOAT32, d_w, 2, tw_buffer(w, weights, sizeof(float) * n * k), NULL);
    int logits = fx_act(w, TMO_FLOAT32, d_out, 2, 0, 0);
    int out = fx_act(w, TMO_FLOAT32, d_out, 2, 0, 0);
    tw_operator(w, FX_RELU, &in, 1, &h, 1, NULL);
    int fc_in[3] = {h, wt, -1};
    tw_options fo = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 0)}};
    tw_operator(w, FX_FC, fc_in, 3, &logits, 1, &fo);
    /* extra RELUs after the FC give the planner a chance to reuse h's memory. */
    for (int i = 0; i < extra; i++) {
        int next = fx_act(w, TMO_FLOAT32, d_out, 2, 0, 0);
        tw_operator(w, FX_RELU, &logits, 1, &next, 1, NULL);
        logits = next;
    }
    tw_options so = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, 1.0f)}};
    tw_operator(w, FX_SOFTMAX, &logits, 1, &out, 1, &so);
    tw_inputs(w, &in, 1);
    tw_outputs(w, &out, 1);
    return fx_finish(w, len);
}

static inline uint8_t *fx_mlp_model(int32_t n, int32_t k, const float *weights, size_t *len)
{
    return fx_mlp_model_ex(n, k, weights, 0, len);
}

/* Opens a copy of model bytes (the host_model owns the copy). */
static inline void fx_open(host_model *hm, const uint8_t *model, size_t len)
{
    uint8_t *copy = aligned_alloc(16, (len + 15) & ~(size_t)15);
    memcpy(copy, model, len);
    char err[300];
    if (host_model_open_bytes(hm, copy, len, err, sizeof err) != TMO_OK)
        fail_msg("model does not open: %s", err);
}

static inline void fx_build(const uint8_t *model, size_t len, const void *data, size_t data_len,
                            const int32_t *labels, const host_profile_opts *o,
                            host_profile_result *r)
{
    char err[400];
    if (host_profile_build(model, len, data, data_len, labels, o, r, err, sizeof err) != 0)
        fail_msg("profile build: %s", err);
}

static inline void fx_parse(tmo_profile *p, const uint8_t *bytes, size_t len)
{
    tmo_diag d;
    char msg[300];
    tmo_err e = tmo_profile_parse(p, bytes, len, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    if (e != TMO_OK)
        fail_msg("profile does not parse: %s", msg);
}

/* A monitor with its memory. */
typedef struct fx_mon {
    tmo_monitor m;
    void *mem;
} fx_mon;

static inline void fx_attach(fx_mon *f, const tmo_monitor_config *c, const tmo_profile *p,
                             const tmo_interp *it)
{
    tmo_diag d;
    size_t need = 0;
    char msg[300];
    tmo_err e = tmo_monitor_mem_size(c, p, it, &need, &d);
    if (e == TMO_OK) {
        f->mem = malloc(need);
        e = tmo_monitor_init(&f->m, c, p, it, f->mem, need, &d);
    }
    tmo_diag_format(&d, msg, sizeof msg);
    if (e != TMO_OK)
        fail_msg("monitor: %s", msg);
}

/* Takes the pending report, decodes it (asserting it is valid) and returns its bytes too. */
static inline uint8_t *fx_take(fx_mon *f, host_report *r, size_t *len)
{
    size_t cap = tmo_monitor_report_size(&f->m);
    uint8_t *buf = malloc(cap);
    char err[300];
    assert_int_equal(tmo_monitor_report_take(&f->m, buf, cap, len), TMO_OK);
    if (host_report_decode(buf, *len, r, err, sizeof err) != 0)
        fail_msg("device report does not decode: %s", err);
    return buf;
}

#endif
