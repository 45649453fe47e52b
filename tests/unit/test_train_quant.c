/*
 * Quantization and export of the model factory (host/train/quantize.c,
 * export.c), checked from outside:
 *  - the written int8 model reads back through the device reader with the
 *    operators, shapes, types and quantization the TFLite spec prescribes,
 *    recomputed here from the float weights and from activation ranges this
 *    test measures itself in double precision;
 *  - its int8 outputs equal, bit for bit, this file's own integer
 *    implementation of the quantized maths (TFLite's fixed-point
 *    requantization written from its definition, not the runtime's kernels),
 *    which in turn stays within 1 of exact double-precision rounding;
 *  - the float32 model computes what the trained network computes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "tinymlops/model.h"
#include "train/export.h"
#include "train/quantize.h"
#include "train/trainer.h"
#include "train_fixture.h"
#include "train_int8_ref.h"

/* ---- a trained network and its exports ---- */

typedef struct fixture {
    tr_net net;
    tr_dataset train, val;
    tr_range ranges[TR_MAX_LAYERS + 2];
    tr_qnet q;
    uint8_t *int8, *logits, *flt; /* int8 with softmax, int8 without, float32 with */
    size_t int8_len, logits_len, flt_len;
} fixture;

static void build(fixture *f, const char *spec, int images, int32_t h, int32_t w)
{
    tr_dataset all;
    char err[256];
    memset(f, 0, sizeof *f);
    if (images)
        fx_images(&all, 150, h, w, 21);
    else
        fx_blobs(&all, 150, 21);
    assert_int_equal(tr_dataset_split(&all, 0.3, 4, &f->train, &f->val, err, sizeof err), 0);
    tr_dataset_free(&all);
    tr_arch a;
    assert_int_equal(tr_arch_parse(spec, &a, err, sizeof err), 0);
    assert_int_equal(tr_net_build(&f->net, &a, images ? h : 1, images ? w : 1, images ? 2 : 6, 3,
                                  0.25f, 5, err, sizeof err),
                     0);
    tr_train_config c = {6, 16, 0.01f, 5};
    tr_epoch_stats last;
    assert_int_equal(tr_train(&f->net, &f->train, &f->val, &c, NULL, NULL, &last), 0);
    tr_net_fold_input_scale(&f->net);
    tr_calibrate(&f->net, &f->train, f->ranges);
    assert_int_equal(tr_quantize(&f->net, f->ranges, &f->q), 0);
    tr_export_opts with = {1, "test"}, without = {0, NULL};
    assert_int_equal(tr_export(&f->net, &f->q, &with, &f->int8, &f->int8_len), 0);
    assert_int_equal(tr_export(&f->net, &f->q, &without, &f->logits, &f->logits_len), 0);
    assert_int_equal(tr_export(&f->net, NULL, &with, &f->flt, &f->flt_len), 0);
}

static void release(fixture *f)
{
    tr_net_free(&f->net);
    tr_dataset_free(&f->train);
    tr_dataset_free(&f->val);
    tr_qnet_free(&f->q);
    free(f->int8);
    free(f->logits);
    free(f->flt);
}

/* ---- checks ---- */

static int8_t quantize_input(float x, const tmo_tensor_info *in)
{
    long v = lroundf(x / in->scale) + in->zero_point;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

/* Runs model bytes in the runtime on every validation sample and compares with the reference. */
static void compare_with_runtime(fixture *f, const uint8_t *bytes, size_t len, int softmax)
{
    uint8_t *copy = aligned_alloc(16, (len + 15) & ~(size_t)15);
    memcpy(copy, bytes, len);
    host_model hm;
    char err[512];
    if (host_model_open_bytes(&hm, copy, len, err, sizeof err) != TMO_OK)
        fail_msg("%s", err);
    tmo_tensor_info in;
    assert_int_equal(tmo_model_tensor(&hm.model, (uint32_t)tmo_model_input(&hm.model, 0), &in),
                     TMO_OK);
    size_t worst = 0;
    for (size_t s = 0; s < f->val.count; s++) {
        int8_t q[256];
        for (size_t j = 0; j < f->val.features; j++)
            q[j] = quantize_input(f->val.x[s * f->val.features + j], &in);
        tmo_io io;
        tmo_interp_input(&hm.interp, 0, &io);
        memcpy(io.data, q, io.bytes);
        assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
        tmo_interp_output(&hm.interp, 0, &io);
        double probs[8];
        const int8_t *want = ref_run(&hm.model, q, probs);
        const float *logits = tr_net_forward(&f->net, f->val.x + s * f->val.features);
        for (size_t c = 0; c < io.bytes; c++) {
            int8_t got = ((const int8_t *)io.data)[c];
            if (!softmax && got != want[c])
                fail_msg("sample %zu class %zu: runtime %d, reference %d", s, c, got, want[c]);
            size_t d = (size_t)abs(got - want[c]);
            worst = d > worst ? d : worst;
            /* And the int8 logits approximate the float ones: within 8 steps of the output scale. */
            tmo_tensor_info out;
            tmo_model_tensor(&hm.model, (uint32_t)tmo_model_output(&hm.model, 0), &out);
            double deq = (double)out.scale * (got - out.zero_point);
            if (!softmax && fabs(deq - logits[c]) > 8.0 * out.scale)
                fail_msg("sample %zu class %zu: int8 logit %g, float %g (scale %g)", s, c, deq,
                         (double)logits[c], (double)out.scale);
        }
    }
    /* TFLM's int8 softmax (fixed-point exp) is within one output step of the real softmax. */
    if (softmax)
        assert_true(worst <= 1);
    host_model_close(&hm);
}

/* Activation ranges measured here in double from the float model's own weights. */
typedef struct dranges {
    double min[TR_MAX_LAYERS + 2], max[TR_MAX_LAYERS + 2];
} dranges;

/* The quantization a tensor must carry for a calibrated range (TFLite converter rule). */
static void expect_activation(const tmo_tensor_info *t, double lo, double hi)
{
    lo = fmin(lo, 0.0);
    hi = fmax(hi, 0.0);
    double scale = (hi - lo) / 255.0;
    double zp = -128.0 - lo / scale;
    assert_int_equal(t->type, TMO_INT8);
    assert_int_equal(t->scale_count, 1);
    if (fabs((double)t->scale - scale) > 1e-5 * scale)
        fail_msg("activation scale %.9g, expected %.9g", (double)t->scale, scale);
    assert_true(fabs((double)t->zero_point - round(zp)) <= 1.0);
}

/* Weights per channel: scale max|w| / 127, values round(w / scale); bias scale in * w scale. */
static void expect_weights(const tr_layer *l, const tmo_tensor_info *w, const tmo_tensor_info *b,
                           float in_scale, int32_t quant_dim)
{
    int32_t oc = l->out_c;
    assert_int_equal(w->type, TMO_INT8);
    assert_int_equal(w->scale_count, (uint32_t)oc);
    assert_int_equal(w->quant_dim, quant_dim);
    assert_int_equal(b->type, TMO_INT32);
    assert_int_equal(b->scale_count, (uint32_t)oc);
    assert_int_equal(w->elements, l->n_w);
    for (int32_t c = 0; c < oc; c++) {
        double mx = 0.0;
        for (size_t i = 0; i < l->n_w; i++)
            if ((quant_dim == 3 ? (int32_t)(i % (size_t)oc)
                                : (int32_t)(i / (l->n_w / (size_t)oc))) == c)
                mx = fmax(mx, fabs((double)l->w[i]));
        double ws = (double)tmo_tensor_scale(w, (uint32_t)c);
        assert_true(fabs(ws - mx / 127.0) <= 1e-6 * mx / 127.0);
        assert_int_equal(tmo_tensor_zero_point(w, (uint32_t)c), 0);
        assert_true(tmo_tensor_scale(b, (uint32_t)c) ==
                    in_scale * tmo_tensor_scale(w, (uint32_t)c));
        double bq = (double)l->b[c] / (double)tmo_tensor_scale(b, (uint32_t)c);
        assert_true(fabs((double)le_i32((const uint8_t *)b->data + 4 * c) - bq) <=
                    0.5 + 1e-6 * fabs(bq));
    }
    for (size_t i = 0; i < l->n_w; i++) {
        int32_t c =
            quant_dim == 3 ? (int32_t)(i % (size_t)oc) : (int32_t)(i / (l->n_w / (size_t)oc));
        double exact = (double)l->w[i] / (double)tmo_tensor_scale(w, (uint32_t)c);
        int8_t q = ((const int8_t *)w->data)[i];
        assert_true(q >= -127 && fabs((double)q - exact) <= 0.5 + 1e-5);
    }
}

static void test_mlp_model_fields(void **state)
{
    (void)state;
    fixture f;
    build(&f, "mlp:8,6", 0, 0, 0);
    tmo_model m;
    tmo_diag d;
    assert_int_equal(tmo_model_parse(&m, f.int8, f.int8_len, &d), TMO_OK);
    assert_int_equal(m.op_count, 4);
    const int32_t codes[4] = {FC, FC, FC, SOFTMAX};
    tmo_op_info ops[4];
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(tmo_model_op(&m, i, &ops[i]), TMO_OK);
        assert_int_equal(ops[i].builtin, codes[i]);
    }
    assert_true(m.description_len == 4 && memcmp(m.description, "test", 4) == 0);

    /* Activation ranges over the training data, in double, from the float32 file's weights. */
    tmo_model fm;
    assert_int_equal(tmo_model_parse(&fm, f.flt, f.flt_len, &d), TMO_OK);
    dranges r;
    for (int i = 0; i < 4; i++) {
        r.min[i] = INFINITY;
        r.max[i] = -INFINITY;
    }
    for (size_t s = 0; s < f.train.count; s++) {
        double act[16];
        size_t n = 6;
        for (size_t j = 0; j < n; j++) {
            act[j] = f.train.x[s * 6 + j];
            r.min[0] = fmin(r.min[0], act[j]);
            r.max[0] = fmax(r.max[0], act[j]);
        }
        for (uint32_t i = 0; i < 3; i++) {
            tmo_tensor_info w, b;
            assert_int_equal(tmo_model_tensor(&fm, (uint32_t)ops[i].inputs[1], &w), TMO_OK);
            assert_int_equal(tmo_model_tensor(&fm, (uint32_t)ops[i].inputs[2], &b), TMO_OK);
            double next[16];
            for (int32_t u = 0; u < w.dims[0]; u++) {
                float bv, wv;
                memcpy(&bv, (const uint8_t *)b.data + 4 * u, 4);
                double acc = bv;
                for (int32_t j = 0; j < w.dims[1]; j++) {
                    memcpy(&wv, (const uint8_t *)w.data + 4 * ((size_t)u * w.dims[1] + j), 4);
                    acc += (double)wv * act[j];
                }
                next[u] = i < 2 ? fmax(acc, 0.0) : acc;
                r.min[i + 1] = fmin(r.min[i + 1], next[u]);
                r.max[i + 1] = fmax(r.max[i + 1], next[u]);
            }
            n = (size_t)w.dims[0];
            memcpy(act, next, sizeof(double) * n);
        }
    }
    tmo_tensor_info t, w, b;
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)tmo_model_input(&m, 0), &t), TMO_OK);
    assert_int_equal(t.ndim, 2);
    assert_int_equal(t.dims[1], 6);
    expect_activation(&t, r.min[0], r.max[0]);
    assert_true(t.zero_point > -128); /* the blobs have negative features */
    float in_scale = t.scale;
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)ops[i].inputs[1], &w), TMO_OK);
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)ops[i].inputs[2], &b), TMO_OK);
        expect_weights(&f.net.layers[i], &w, &b, in_scale, 0);
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)ops[i].outputs[0], &t), TMO_OK);
        expect_activation(&t, r.min[i + 1], r.max[i + 1]);
        uint8_t act;
        assert_int_equal(tmo_opt_u8(&m, &ops[i], 0, 9, &act), TMO_OK);
        assert_int_equal(act, i < 2 ? 1 : 0);
        in_scale = t.scale;
    }
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)tmo_model_output(&m, 0), &t), TMO_OK);
    assert_true(t.scale == 1.0f / 256.0f);
    assert_int_equal(t.zero_point, -128);
    assert_int_equal(t.dims[1], 3);
    release(&f);
}

static void test_mlp_outputs_exact(void **state)
{
    (void)state;
    fixture f;
    build(&f, "mlp:8,6", 0, 0, 0);
    compare_with_runtime(&f, f.logits, f.logits_len, 0);
    compare_with_runtime(&f, f.int8, f.int8_len, 1);
    release(&f);
}

static void test_cnn_outputs_exact(void **state)
{
    (void)state;
    const char *specs[] = {"cnn:c4k3,dw,p2,d8", "cnn:c4k3s2,dwk3,a2,d8", "cnn:dwk3,c3k1,p3,d6",
                           "cnn:c5k2,a1"};
    for (int i = 0; i < 4; i++) {
        fixture f;
        build(&f, specs[i], 1, 6, 6);
        compare_with_runtime(&f, f.logits, f.logits_len, 0);
        compare_with_runtime(&f, f.int8, f.int8_len, 1);
        release(&f);
    }
}

/* CNN structure: operator sequence, filter layouts and per-channel axes, pooling quantization. */
static void test_cnn_model_fields(void **state)
{
    (void)state;
    fixture f;
    build(&f, "cnn:c4k3,dw,p2,d8", 1, 6, 6);
    tmo_model m;
    tmo_diag d;
    assert_int_equal(tmo_model_parse(&m, f.int8, f.int8_len, &d), TMO_OK);
    const int32_t codes[] = {CONV, DWCONV, MAX_POOL, RESHAPE, FC, FC, SOFTMAX};
    assert_int_equal(m.op_count, 7);
    tmo_op_info op[7];
    for (uint32_t i = 0; i < 7; i++) {
        assert_int_equal(tmo_model_op(&m, i, &op[i]), TMO_OK);
        assert_int_equal(op[i].builtin, codes[i]);
    }
    tmo_tensor_info in, w, b, out, pin;
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)tmo_model_input(&m, 0), &in), TMO_OK);
    assert_int_equal(in.ndim, 4);
    assert_true(in.dims[1] == 6 && in.dims[2] == 6 && in.dims[3] == 2);
    float scale = in.scale;
    const int32_t qdims[2] = {0, 3};
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[i].inputs[1], &w), TMO_OK);
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[i].inputs[2], &b), TMO_OK);
        /* CONV_2D filters are OHWI [4,3,3,2]; DEPTHWISE_CONV_2D filters 1HWO [1,3,3,4]. */
        assert_int_equal(w.dims[0], i == 0 ? 4 : 1);
        assert_int_equal(w.dims[1], 3);
        assert_int_equal(w.dims[3], i == 0 ? 2 : 4);
        expect_weights(&f.net.layers[i], &w, &b, scale, qdims[i]);
        assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[i].outputs[0], &out), TMO_OK);
        scale = out.scale;
    }
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[2].inputs[0], &pin), TMO_OK);
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[2].outputs[0], &out), TMO_OK);
    assert_true(out.scale == pin.scale && out.zero_point == pin.zero_point);
    assert_true(out.dims[1] == 3 && out.dims[2] == 3 && out.dims[3] == 4);
    assert_int_equal(tmo_model_tensor(&m, (uint32_t)op[3].outputs[0], &out), TMO_OK);
    assert_true(out.ndim == 2 && out.dims[1] == 36 && out.scale == pin.scale);
    release(&f);
}

/* The float32 file computes the trained network's softmax (a different summation order at most). */
static void test_float_model(void **state)
{
    (void)state;
    fixture f;
    build(&f, "cnn:c4k3,dw,p2,d8", 1, 6, 6);
    uint8_t *copy = aligned_alloc(16, (f.flt_len + 15) & ~(size_t)15);
    memcpy(copy, f.flt, f.flt_len);
    host_model hm;
    char err[512];
    if (host_model_open_bytes(&hm, copy, f.flt_len, err, sizeof err) != TMO_OK)
        fail_msg("%s", err);
    for (size_t s = 0; s < f.val.count; s++) {
        const float *x = f.val.x + s * f.val.features;
        tmo_io io;
        tmo_interp_input(&hm.interp, 0, &io);
        assert_int_equal(io.type, TMO_FLOAT32);
        memcpy(io.data, x, io.bytes);
        assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
        tmo_interp_output(&hm.interp, 0, &io);
        const float *logits = tr_net_forward(&f.net, x);
        double mx = -1e300, sum = 0.0;
        for (int c = 0; c < 3; c++)
            mx = fmax(mx, logits[c]);
        for (int c = 0; c < 3; c++)
            sum += exp(logits[c] - mx);
        for (int c = 0; c < 3; c++)
            assert_true(fabs(((const float *)io.data)[c] - exp(logits[c] - mx) / sum) < 1e-5);
    }
    host_model_close(&hm);
    release(&f);
}

/* Activation parameters on edge ranges, against the converter's formula worked by hand. */
static void test_activation_params(void **state)
{
    (void)state;
    tr_qparams p = tr_activation_qparams((tr_range){0.0f, 16.0f});
    assert_true(p.scale == 16.0f / 255.0f);
    assert_int_equal(p.zero_point, -128);
    p = tr_activation_qparams((tr_range){-1.0f, 3.0f}); /* zp = -128 + 255 / 4 = -64.25 */
    assert_true(p.scale == 4.0f / 255.0f);
    assert_int_equal(p.zero_point, -64);
    p = tr_activation_qparams((tr_range){2.0f, 5.0f}); /* widened to include 0 */
    assert_true(p.scale == 5.0f / 255.0f);
    assert_int_equal(p.zero_point, -128);
    p = tr_activation_qparams((tr_range){-4.0f, -1.0f});
    assert_int_equal(p.zero_point, 127);
    p = tr_activation_qparams((tr_range){0.0f, 0.0f});
    assert_true(p.scale > 0.0f);
    /* Inputs: round(x / scale) + zp, clamped. */
    tr_qparams in = {0.5f, -3};
    assert_int_equal(tr_quantize_value(1.25f, in), 0); /* 2.5 rounds away from zero to 3 */
    assert_int_equal(tr_quantize_value(-1.25f, in), -6);
    assert_int_equal(tr_quantize_value(1000.0f, in), 127);
    assert_int_equal(tr_quantize_value(-1e30f, in), -128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activation_params), cmocka_unit_test(test_mlp_model_fields),
        cmocka_unit_test(test_mlp_outputs_exact), cmocka_unit_test(test_cnn_model_fields),
        cmocka_unit_test(test_cnn_outputs_exact), cmocka_unit_test(test_float_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
