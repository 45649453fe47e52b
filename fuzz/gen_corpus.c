/*
 * Writes the seed corpus of the model fuzzer: small, valid models made with
 * the project's own writer (host/tflite_writer.h), at least one per operator
 * the runtime supports, in int8 and float32, plus a few multi-operator
 * graphs. Seeds give the fuzzer well-formed flatbuffers and plausible
 * quantization to mutate from; corpus_test requires each one to parse and,
 * once the build has its operators, to run.
 *
 * Output is deterministic (fixed RNG, no timestamps): regenerating leaves
 * the committed files unchanged unless the generator or writer changed.
 * Usage: fuzz_gen_corpus OUT_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/model.h"

/* BuiltinOperator codes (schema.fbs). */
enum {
    OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14,
    OP_MAX_POOL_2D = 17, OP_MUL = 18, OP_RELU = 19, OP_RELU6 = 21, OP_RESHAPE = 22,
    OP_SOFTMAX = 25, OP_TANH = 28, OP_PAD = 34, OP_MEAN = 40, OP_SQUEEZE = 43, OP_PADV2 = 60,
    OP_EXPAND_DIMS = 70, OP_QUANTIZE = 114
};
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 3 };
enum { PAD_SAME = 0, PAD_VALID = 1 };

static const char *out_dir;
static int failures;
static uint64_t rng = 0x5eed;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* ---- tensors ---- */

static tw_quant per_tensor(const float *scale, const int64_t *zp)
{
    tw_quant q = {1, scale, zp, 0};
    return q;
}

/* An int8 activation with per-tensor quantization. */
static int act_i8(tw_model *m, const char *name, const int32_t *dims, uint32_t nd, float scale,
                  int64_t zp)
{
    tw_quant q = per_tensor(&scale, &zp);
    return tw_tensor(m, name, TMO_INT8, dims, nd, 0, &q);
}

static int act_f32(tw_model *m, const char *name, const int32_t *dims, uint32_t nd)
{
    return tw_tensor(m, name, TMO_FLOAT32, dims, nd, 0, NULL);
}

static size_t count_of(const int32_t *dims, uint32_t nd)
{
    size_t n = 1;
    for (uint32_t i = 0; i < nd; i++)
        n *= (size_t)dims[i];
    return n;
}

/* Constant int8 weights, random in [-127, 127]; q may be per-channel. */
static int const_i8(tw_model *m, const char *name, const int32_t *dims, uint32_t nd,
                    const tw_quant *q)
{
    size_t n = count_of(dims, nd);
    int8_t *w = malloc(n);
    for (size_t i = 0; i < n; i++)
        w[i] = (int8_t)((int)(next_u64() % 255) - 127);
    int b = tw_buffer(m, w, n);
    free(w);
    return tw_tensor(m, name, TMO_INT8, dims, nd, b, q);
}

/* Constant int32 bias, random in [-2048, 2047]. */
static int const_bias(tw_model *m, const char *name, int32_t n, const tw_quant *q)
{
    int32_t *v = malloc((size_t)n * sizeof *v);
    for (int32_t i = 0; i < n; i++)
        v[i] = (int32_t)(next_u64() % 4096) - 2048;
    int b = tw_buffer(m, v, (size_t)n * sizeof *v);
    free(v);
    return tw_tensor(m, name, TMO_INT32, &n, 1, b, q);
}

/* Constant float32 values, random in [-1, 1). */
static int const_f32(tw_model *m, const char *name, const int32_t *dims, uint32_t nd)
{
    size_t n = count_of(dims, nd);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((double)(next_u64() >> 40) / (double)(1u << 23) - 1.0);
    int b = tw_buffer(m, v, n * sizeof *v);
    free(v);
    return tw_tensor(m, name, TMO_FLOAT32, dims, nd, b, NULL);
}

/* Constant int32 values given literally (shapes, axes, paddings). */
static int const_i32(tw_model *m, const char *name, const int32_t *dims, uint32_t nd,
                     const int32_t *values)
{
    int b = tw_buffer(m, values, count_of(dims, nd) * sizeof *values);
    return tw_tensor(m, name, TMO_INT32, dims, nd, b, NULL);
}

/* Per-channel scales for n channels around base (stored by the caller). */
static void channel_scales(float *scales, uint32_t n, float base)
{
    for (uint32_t i = 0; i < n; i++)
        scales[i] = base * (1.0f + 0.25f * (float)(i % 4));
}

/* ---- operators ---- */

static void op1(tw_model *m, int32_t builtin, int in, int out, const tw_options *o)
{
    int32_t i[1] = {in}, x[1] = {out};
    tw_operator(m, builtin, i, 1, x, 1, o);
}

static void op2(tw_model *m, int32_t builtin, int a, int b, int out, const tw_options *o)
{
    int32_t i[2] = {a, b}, x[1] = {out};
    tw_operator(m, builtin, i, 2, x, 1, o);
}

static void op3(tw_model *m, int32_t builtin, int a, int b, int c, int out, const tw_options *o)
{
    int32_t i[3] = {a, b, c}, x[1] = {out};
    tw_operator(m, builtin, i, 3, x, 1, o);
}

static void graph_io(tw_model *m, int in, int out)
{
    int32_t i[1] = {in}, o[1] = {out};
    tw_inputs(m, i, 1);
    tw_outputs(m, o, 1);
}

static void save(tw_model *m, const char *name)
{
    char desc[128], path[4096];
    snprintf(desc, sizeof desc, "tinymlops fuzz seed: %s", name);
    tw_description(m, desc);
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[256];
    if (tw_finish(m, &bytes, &len) != 0) {
        fprintf(stderr, "gen_corpus: %s: the writer rejected the model\n", name);
        failures++;
    } else {
        snprintf(path, sizeof path, "%s/%s.tflite", out_dir, name);
        tmo_model parsed;
        tmo_diag d;
        if (tmo_model_parse(&parsed, bytes, len, &d) != TMO_OK) {
            host_format_diag(err, sizeof err, name, &d);
            fprintf(stderr, "gen_corpus: %s\n", err);
            failures++;
        } else if (host_write_file(path, bytes, len, err, sizeof err) != 0) {
            fprintf(stderr, "gen_corpus: %s\n", err);
            failures++;
        } else {
            printf("%-28s %6zu bytes\n", name, len);
        }
        free(bytes);
    }
    tw_free(m);
}

/* ---- seeds, one function per operator family ---- */

static void fully_connected(int quantized, int act, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[2] = {1, 16}, w_d[2] = {8, 16}, out_d[2] = {1, 8};
    int in, w, b, out;
    if (quantized) {
        float ws = 0.02f, bs = 0.5f * 0.02f;
        int64_t zero = 0;
        tw_quant wq = per_tensor(&ws, &zero), bq = per_tensor(&bs, &zero);
        in = act_i8(m, "in", in_d, 2, 0.5f, -3);
        w = const_i8(m, "weights", w_d, 2, &wq);
        b = const_bias(m, "bias", 8, &bq);
        out = act_i8(m, "out", out_d, 2, 0.25f, 5);
    } else {
        in = act_f32(m, "in", in_d, 2);
        w = const_f32(m, "weights", w_d, 2);
        b = const_f32(m, "bias", &out_d[1], 1);
        out = act_f32(m, "out", out_d, 2);
    }
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, act)}};
    op3(m, OP_FULLY_CONNECTED, in, w, b, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void conv(int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 8, 8, 3}, w_d[4] = {4, 3, 3, 3}, out_d[4] = {1, 4, 4, 4};
    int in, w, b, out;
    if (quantized) {
        float ws[4], bs[4];
        channel_scales(ws, 4, 0.01f);
        for (int i = 0; i < 4; i++)
            bs[i] = 0.5f * ws[i];
        tw_quant wq = {4, ws, NULL, 0}, bq = {4, bs, NULL, 0};
        in = act_i8(m, "in", in_d, 4, 0.5f, -1);
        w = const_i8(m, "filter", w_d, 4, &wq);
        b = const_bias(m, "bias", 4, &bq);
        out = act_i8(m, "out", out_d, 4, 0.2f, -10);
    } else {
        in = act_f32(m, "in", in_d, 4);
        w = const_f32(m, "filter", w_d, 4);
        b = const_f32(m, "bias", &w_d[0], 1);
        out = act_f32(m, "out", out_d, 4);
    }
    tw_options o = {OPTIONS_CONV2D_OPTIONS, 6,
                    {tw_u8(0, PAD_SAME), tw_i32(1, 2), tw_i32(2, 2), tw_u8(3, ACT_RELU6),
                     tw_i32(4, 1), tw_i32(5, 1)}};
    op3(m, OP_CONV_2D, in, w, b, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void depthwise(int quantized, const char *name)
{
    tw_model *m = tw_new();
    /* depth multiplier 2: 3 input channels, 6 output channels */
    int32_t in_d[4] = {1, 6, 6, 3}, w_d[4] = {1, 3, 3, 6}, out_d[4] = {1, 4, 4, 6};
    int in, w, b, out;
    if (quantized) {
        float ws[6], bs[6];
        channel_scales(ws, 6, 0.01f);
        for (int i = 0; i < 6; i++)
            bs[i] = 0.5f * ws[i];
        tw_quant wq = {6, ws, NULL, 3}, bq = {6, bs, NULL, 0};
        in = act_i8(m, "in", in_d, 4, 0.5f, 2);
        w = const_i8(m, "filter", w_d, 4, &wq);
        b = const_bias(m, "bias", 6, &bq);
        out = act_i8(m, "out", out_d, 4, 0.3f, 0);
    } else {
        in = act_f32(m, "in", in_d, 4);
        w = const_f32(m, "filter", w_d, 4);
        b = const_f32(m, "bias", &w_d[3], 1);
        out = act_f32(m, "out", out_d, 4);
    }
    tw_options o = {OPTIONS_DEPTHWISE_CONV2D_OPTIONS, 7,
                    {tw_u8(0, PAD_VALID), tw_i32(1, 1), tw_i32(2, 1), tw_i32(3, 2),
                     tw_u8(4, ACT_RELU), tw_i32(5, 1), tw_i32(6, 1)}};
    op3(m, OP_DEPTHWISE_CONV_2D, in, w, b, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void pool(int32_t builtin, int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 7, 7, 4}, out_d[4] = {1, 4, 4, 4};
    int in = quantized ? act_i8(m, "in", in_d, 4, 0.1f, 3) : act_f32(m, "in", in_d, 4);
    int out = quantized ? act_i8(m, "out", out_d, 4, 0.1f, 3) : act_f32(m, "out", out_d, 4);
    tw_options o = {OPTIONS_POOL2D_OPTIONS, 6,
                    {tw_u8(0, PAD_SAME), tw_i32(1, 2), tw_i32(2, 2), tw_i32(3, 3), tw_i32(4, 3),
                     tw_u8(5, ACT_NONE)}};
    op1(m, builtin, in, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

/* ADD or MUL of a [1,3,3,4] activation and a broadcast [1,1,1,4] constant. */
static void binary(int32_t builtin, int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t a_d[4] = {1, 3, 3, 4}, b_d[4] = {1, 1, 1, 4};
    int a, b, out;
    if (quantized) {
        float bs = 0.05f;
        int64_t bz = 4;
        tw_quant bq = per_tensor(&bs, &bz);
        a = act_i8(m, "a", a_d, 4, 0.1f, -5);
        b = const_i8(m, "b", b_d, 4, &bq);
        out = act_i8(m, "out", a_d, 4, builtin == OP_MUL ? 0.05f : 0.15f, 7);
    } else {
        a = act_f32(m, "a", a_d, 4);
        b = const_f32(m, "b", b_d, 4);
        out = act_f32(m, "out", a_d, 4);
    }
    tw_options o = {builtin == OP_ADD ? OPTIONS_ADD_OPTIONS : OPTIONS_MUL_OPTIONS, 1,
                    {tw_u8(0, ACT_RELU)}};
    op2(m, builtin, a, b, out, &o);
    graph_io(m, a, out);
    save(m, name);
}

/* Element-wise unary ops; int8 output quantization as TFLM requires for each. */
static void unary(int32_t builtin, int quantized, float out_scale, int64_t out_zp,
                  const char *name)
{
    tw_model *m = tw_new();
    int32_t d[2] = {2, 20};
    int in = quantized ? act_i8(m, "in", d, 2, 0.05f, -2) : act_f32(m, "in", d, 2);
    int out = quantized ? act_i8(m, "out", d, 2, out_scale, out_zp) : act_f32(m, "out", d, 2);
    op1(m, builtin, in, out, NULL);
    graph_io(m, in, out);
    save(m, name);
}

static void softmax(int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t d[2] = {2, 10};
    int in = quantized ? act_i8(m, "in", d, 2, 0.1f, 0) : act_f32(m, "in", d, 2);
    int out = quantized ? act_i8(m, "out", d, 2, 1.0f / 256, -128) : act_f32(m, "out", d, 2);
    tw_options o = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, 1.0f)}};
    op1(m, OP_SOFTMAX, in, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void reshape(int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 2, 3, 4}, out_d[2] = {1, 24}, shape_d[1] = {2};
    int in = quantized ? act_i8(m, "in", in_d, 4, 0.1f, 1) : act_f32(m, "in", in_d, 4);
    int out = quantized ? act_i8(m, "out", out_d, 2, 0.1f, 1) : act_f32(m, "out", out_d, 2);
    int shape = const_i32(m, "shape", shape_d, 1, out_d);
    tw_options o = {OPTIONS_RESHAPE_OPTIONS, 1, {tw_vec_i32(0, out_d, 2)}};
    op2(m, OP_RESHAPE, in, shape, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void squeeze(const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 5, 1, 3}, out_d[2] = {5, 3}, axes[2] = {0, 2};
    int in = act_i8(m, "in", in_d, 4, 0.1f, 0);
    int out = act_i8(m, "out", out_d, 2, 0.1f, 0);
    tw_options o = {OPTIONS_SQUEEZE_OPTIONS, 1, {tw_vec_i32(0, axes, 2)}};
    op1(m, OP_SQUEEZE, in, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

static void expand_dims(const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[2] = {4, 6}, out_d[3] = {4, 1, 6}, axis_d[1] = {1}, axis[1] = {1};
    int in = act_f32(m, "in", in_d, 2);
    int out = act_f32(m, "out", out_d, 3);
    int ax = const_i32(m, "axis", axis_d, 1, axis);
    op2(m, OP_EXPAND_DIMS, in, ax, out, NULL);
    graph_io(m, in, out);
    save(m, name);
}

static void concat(int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t a_d[4] = {1, 2, 2, 3}, b_d[4] = {1, 2, 2, 5}, out_d[4] = {1, 2, 2, 8};
    int a, b, out;
    if (quantized) {
        float s = 0.1f;
        int64_t z = -4;
        tw_quant q = per_tensor(&s, &z);
        a = act_i8(m, "a", a_d, 4, s, z);
        b = const_i8(m, "b", b_d, 4, &q);
        out = act_i8(m, "out", out_d, 4, s, z);
    } else {
        a = act_f32(m, "a", a_d, 4);
        b = const_f32(m, "b", b_d, 4);
        out = act_f32(m, "out", out_d, 4);
    }
    tw_options o = {OPTIONS_CONCATENATION_OPTIONS, 2, {tw_i32(0, 3), tw_u8(1, ACT_NONE)}};
    op2(m, OP_CONCATENATION, a, b, out, &o);
    graph_io(m, a, out);
    save(m, name);
}

static void pad(int32_t builtin, int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 3, 3, 2}, out_d[4] = {1, 5, 6, 2}, pads_d[2] = {4, 2};
    int32_t pads[8] = {0, 0, 1, 1, 2, 1, 0, 0};
    int in = quantized ? act_i8(m, "in", in_d, 4, 0.2f, 6) : act_f32(m, "in", in_d, 4);
    int out = quantized ? act_i8(m, "out", out_d, 4, 0.2f, 6) : act_f32(m, "out", out_d, 4);
    int p = const_i32(m, "paddings", pads_d, 2, pads);
    if (builtin == OP_PADV2) {
        int32_t one[1] = {1};
        int v;
        if (quantized) {
            float s = 0.2f;
            int64_t z = 6;
            tw_quant q = per_tensor(&s, &z);
            v = const_i8(m, "value", one, 1, &q);
        } else {
            v = const_f32(m, "value", one, 1);
        }
        tw_options o = {OPTIONS_PADV2_OPTIONS, 0, {{0}}};
        op3(m, OP_PADV2, in, p, v, out, &o);
    } else {
        tw_options o = {OPTIONS_PAD_OPTIONS, 0, {{0}}};
        op2(m, OP_PAD, in, p, out, &o);
    }
    graph_io(m, in, out);
    save(m, name);
}

static void mean(int quantized, const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 4, 4, 3}, out_d[4] = {1, 1, 1, 3}, axes_d[1] = {2}, axes[2] = {1, 2};
    int in = quantized ? act_i8(m, "in", in_d, 4, 0.1f, 2) : act_f32(m, "in", in_d, 4);
    int out = quantized ? act_i8(m, "out", out_d, 4, 0.05f, -1) : act_f32(m, "out", out_d, 4);
    int ax = const_i32(m, "axes", axes_d, 1, axes);
    tw_options o = {OPTIONS_REDUCER_OPTIONS, 1, {tw_bool(0, 1)}};
    op2(m, OP_MEAN, in, ax, out, &o);
    graph_io(m, in, out);
    save(m, name);
}

/* QUANTIZE float->int8 and int8->int8 (requantize), DEQUANTIZE int8->float. */
static void quantize(int from_float, const char *name)
{
    tw_model *m = tw_new();
    int32_t d[2] = {1, 32};
    int in = from_float ? act_f32(m, "in", d, 2) : act_i8(m, "in", d, 2, 0.1f, 3);
    int out = act_i8(m, "out", d, 2, 0.04f, -7);
    op1(m, OP_QUANTIZE, in, out, NULL);
    graph_io(m, in, out);
    save(m, name);
}

static void dequantize(const char *name)
{
    tw_model *m = tw_new();
    int32_t d[2] = {1, 32};
    int in = act_i8(m, "in", d, 2, 0.1f, 3);
    int out = act_f32(m, "out", d, 2);
    op1(m, OP_DEQUANTIZE, in, out, NULL);
    graph_io(m, in, out);
    save(m, name);
}

/*
 * A tiny keyword-spotting-shaped network: QUANTIZE -> CONV -> DEPTHWISE ->
 * AVERAGE_POOL -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX -> DEQUANTIZE, so the
 * fuzzer also mutates a graph where tensors are shared and memory is reused.
 */
static void mini_network(const char *name)
{
    tw_model *m = tw_new();
    int32_t in_d[4] = {1, 10, 4, 1}, c_w_d[4] = {4, 3, 3, 1}, c_out_d[4] = {1, 5, 2, 4};
    int32_t d_w_d[4] = {1, 3, 3, 4}, pool_d[4] = {1, 1, 1, 4}, flat_d[2] = {1, 4};
    int32_t fc_w_d[2] = {3, 4}, out_d[2] = {1, 3}, shape_d[1] = {2};
    float cs[4], cbs[4], ds[4], dbs[4], fs = 0.02f, fbs = 0.1f * 0.02f;
    int64_t zero = 0;
    channel_scales(cs, 4, 0.02f);
    channel_scales(ds, 4, 0.03f);
    for (int i = 0; i < 4; i++) {
        cbs[i] = 0.05f * cs[i];
        dbs[i] = 0.1f * ds[i];
    }
    tw_quant cq = {4, cs, NULL, 0}, cbq = {4, cbs, NULL, 0};
    tw_quant dq = {4, ds, NULL, 3}, dbq = {4, dbs, NULL, 0};
    tw_quant fq = per_tensor(&fs, &zero), fbq = per_tensor(&fbs, &zero);

    int in = act_f32(m, "features", in_d, 4);
    int q = act_i8(m, "features_q", in_d, 4, 0.05f, -1);
    int cw = const_i8(m, "conv/filter", c_w_d, 4, &cq);
    int cb = const_bias(m, "conv/bias", 4, &cbq);
    int c = act_i8(m, "conv/out", c_out_d, 4, 0.1f, -128);
    int dw = const_i8(m, "dw/filter", d_w_d, 4, &dq);
    int db = const_bias(m, "dw/bias", 4, &dbq);
    int dout = act_i8(m, "dw/out", c_out_d, 4, 0.1f, -128);
    int p = act_i8(m, "pool/out", pool_d, 4, 0.1f, -128);
    int shape = const_i32(m, "flat/shape", shape_d, 1, flat_d);
    int flat = act_i8(m, "flat/out", flat_d, 2, 0.1f, -128);
    int fw = const_i8(m, "fc/weights", fc_w_d, 2, &fq);
    int fb = const_bias(m, "fc/bias", 3, &fbq);
    int logits = act_i8(m, "fc/out", out_d, 2, 0.2f, 10);
    int prob = act_i8(m, "softmax/out", out_d, 2, 1.0f / 256, -128);
    int out = act_f32(m, "probabilities", out_d, 2);

    tw_options conv_o = {OPTIONS_CONV2D_OPTIONS, 6,
                         {tw_u8(0, PAD_SAME), tw_i32(1, 2), tw_i32(2, 2), tw_u8(3, ACT_RELU),
                          tw_i32(4, 1), tw_i32(5, 1)}};
    tw_options dw_o = {OPTIONS_DEPTHWISE_CONV2D_OPTIONS, 7,
                       {tw_u8(0, PAD_SAME), tw_i32(1, 1), tw_i32(2, 1), tw_i32(3, 1),
                        tw_u8(4, ACT_RELU), tw_i32(5, 1), tw_i32(6, 1)}};
    tw_options pool_o = {OPTIONS_POOL2D_OPTIONS, 6,
                         {tw_u8(0, PAD_VALID), tw_i32(1, 2), tw_i32(2, 5), tw_i32(3, 2),
                          tw_i32(4, 5), tw_u8(5, ACT_NONE)}};
    tw_options reshape_o = {OPTIONS_RESHAPE_OPTIONS, 1, {tw_vec_i32(0, flat_d, 2)}};
    tw_options fc_o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, ACT_NONE)}};
    tw_options sm_o = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, 1.0f)}};

    op1(m, OP_QUANTIZE, in, q, NULL);
    op3(m, OP_CONV_2D, q, cw, cb, c, &conv_o);
    op3(m, OP_DEPTHWISE_CONV_2D, c, dw, db, dout, &dw_o);
    op1(m, OP_AVERAGE_POOL_2D, dout, p, &pool_o);
    op2(m, OP_RESHAPE, p, shape, flat, &reshape_o);
    op3(m, OP_FULLY_CONNECTED, flat, fw, fb, logits, &fc_o);
    op1(m, OP_SOFTMAX, logits, prob, &sm_o);
    op1(m, OP_DEQUANTIZE, prob, out, NULL);
    graph_io(m, in, out);
    save(m, name);
}

/* A residual block: two branches joined by ADD, then MAX_POOL and a float-free tail. */
static void residual_network(const char *name)
{
    tw_model *m = tw_new();
    int32_t x_d[4] = {1, 4, 4, 2}, w_d[4] = {2, 1, 1, 2}, pool_d[4] = {1, 2, 2, 2};
    float ws[2], bs[2];
    channel_scales(ws, 2, 0.05f);
    bs[0] = 0.2f * ws[0];
    bs[1] = 0.2f * ws[1];
    tw_quant wq = {2, ws, NULL, 0}, bq = {2, bs, NULL, 0};
    int x = act_i8(m, "x", x_d, 4, 0.2f, 0);
    int w = const_i8(m, "branch/filter", w_d, 4, &wq);
    int b = const_bias(m, "branch/bias", 2, &bq);
    int br = act_i8(m, "branch/out", x_d, 4, 0.15f, -20);
    int sum = act_i8(m, "sum", x_d, 4, 0.3f, -10);
    int relu = act_i8(m, "relu", x_d, 4, 0.3f, -10);
    int out = act_i8(m, "pooled", pool_d, 4, 0.3f, -10);
    tw_options conv_o = {OPTIONS_CONV2D_OPTIONS, 6,
                         {tw_u8(0, PAD_VALID), tw_i32(1, 1), tw_i32(2, 1), tw_u8(3, ACT_NONE),
                          tw_i32(4, 1), tw_i32(5, 1)}};
    tw_options add_o = {OPTIONS_ADD_OPTIONS, 1, {tw_u8(0, ACT_NONE)}};
    tw_options pool_o = {OPTIONS_POOL2D_OPTIONS, 6,
                         {tw_u8(0, PAD_VALID), tw_i32(1, 2), tw_i32(2, 2), tw_i32(3, 2),
                          tw_i32(4, 2), tw_u8(5, ACT_NONE)}};
    op3(m, OP_CONV_2D, x, w, b, br, &conv_o);
    op2(m, OP_ADD, x, br, sum, &add_o);
    op1(m, OP_RELU, sum, relu, NULL);
    op1(m, OP_MAX_POOL_2D, relu, out, &pool_o);
    graph_io(m, x, out);
    save(m, name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];

    fully_connected(1, ACT_NONE, "fully_connected_int8");
    fully_connected(1, ACT_RELU, "fully_connected_relu_int8");
    fully_connected(0, ACT_RELU6, "fully_connected_relu6_f32");
    conv(1, "conv_2d_int8");
    conv(0, "conv_2d_f32");
    depthwise(1, "depthwise_conv_2d_int8");
    depthwise(0, "depthwise_conv_2d_f32");
    pool(OP_AVERAGE_POOL_2D, 1, "average_pool_2d_int8");
    pool(OP_AVERAGE_POOL_2D, 0, "average_pool_2d_f32");
    pool(OP_MAX_POOL_2D, 1, "max_pool_2d_int8");
    pool(OP_MAX_POOL_2D, 0, "max_pool_2d_f32");
    binary(OP_ADD, 1, "add_int8");
    binary(OP_ADD, 0, "add_f32");
    binary(OP_MUL, 1, "mul_int8");
    binary(OP_MUL, 0, "mul_f32");
    unary(OP_LOGISTIC, 1, 1.0f / 256, -128, "logistic_int8");
    unary(OP_LOGISTIC, 0, 0, 0, "logistic_f32");
    unary(OP_TANH, 1, 1.0f / 128, 0, "tanh_int8");
    unary(OP_TANH, 0, 0, 0, "tanh_f32");
    unary(OP_RELU, 1, 0.05f, -2, "relu_int8");
    unary(OP_RELU, 0, 0, 0, "relu_f32");
    unary(OP_RELU6, 1, 0.03f, -128, "relu6_int8");
    unary(OP_RELU6, 0, 0, 0, "relu6_f32");
    softmax(1, "softmax_int8");
    softmax(0, "softmax_f32");
    reshape(1, "reshape_int8");
    reshape(0, "reshape_f32");
    squeeze("squeeze_int8");
    expand_dims("expand_dims_f32");
    concat(1, "concatenation_int8");
    concat(0, "concatenation_f32");
    pad(OP_PAD, 1, "pad_int8");
    pad(OP_PAD, 0, "pad_f32");
    pad(OP_PADV2, 1, "padv2_int8");
    pad(OP_PADV2, 0, "padv2_f32");
    mean(1, "mean_int8");
    mean(0, "mean_f32");
    quantize(1, "quantize_f32_int8");
    quantize(0, "quantize_int8_int8");
    dequantize("dequantize_int8_f32");
    mini_network("net_kws_like_int8");
    residual_network("net_residual_int8");

    return failures == 0 ? 0 : 1;
}
