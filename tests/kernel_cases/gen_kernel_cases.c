/*
 * Writes random one-operator int8 models with inputs and the reference
 * kernels' outputs, laid out like ../shared/ref (models/NAME.tflite,
 * golden/dev/NAME/NNN.in|out, MANIFEST.tsv), so that the firmware harness
 * (scripts/mcu-test with TINYMLOPS_REF pointing here) runs the optimized
 * kernels on a real core against them: the Cortex-M DSP kernels' assembly
 * only runs on the target, and these shapes reach what the reference
 * models do not (odd depths and channel counts, unaligned filter rows,
 * dilation, strides, borders, per-channel scales, clamps, accumulators too
 * large for the 32-bit output stage, broadcasting, power-of-two scales)
 * for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D,
 * MAX_POOL_2D, ADD and MUL.
 *
 * The expected outputs come from tinymlops_host_ref, the reference kernels
 * that the TFLite Micro golden vectors check.
 *
 * Usage: gen_kernel_cases OUT_DIR [COUNT_PER_OPERATOR [SEED]]
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"

enum { OP_ADD = 0, OP_AVG = 1, OP_CONV = 3, OP_DW = 4, OP_FC = 9, OP_MAX = 17, OP_MUL = 18 };
enum { SAMPLES = 3 };

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 17);
}

static int32_t pick(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static float frand(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd() % 100000u) / 100000.0f;
}

static void die(const char *what)
{
    fprintf(stderr, "gen_kernel_cases: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                die(buf);
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        die(buf);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

/* One int8 activation tensor's quantization. */
typedef struct q8 {
    float scale;
    int64_t zp;
} q8;

static q8 rand_q(void)
{
    q8 q = {frand(0.005f, 0.2f), pick(-128, 127)};
    return q;
}

/* Per-channel (n > 1) or per-tensor filter scales. */
static float *rand_scales(int n)
{
    float *s = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        s[i] = frand(0.001f, 0.02f);
    return s;
}

static int8_t *rand_bytes(size_t n)
{
    int8_t *b = malloc(n > 0 ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (int8_t)rnd();
    return b;
}

/* An output scale that spreads an accumulator of `depth` products over int8, times a random factor. */
static float out_scale_for(float in_scale, float w_scale, int32_t depth)
{
    double spread = sqrt((double)depth) * 74.0 * 74.0 * (double)in_scale * (double)w_scale;
    return (float)(spread / 64.0 * (double)frand(0.3f, 3.0f)) + 1e-6f;
}

static int activation(void)
{
    static const int acts[] = {0, 0, 1, 1, 2, 3}; /* NONE, RELU, RELU_N1_TO_1, RELU6 */
    return acts[rnd() % 6];
}

/* Output size the padding mode gives (TFLite ComputeOutSize). */
static int32_t out_size(int padding, int32_t in, int32_t k, int32_t stride, int32_t dil)
{
    int32_t eff = (k - 1) * dil + 1;
    return padding == 0 ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

typedef struct gen {
    const char *dir;
    FILE *manifest_all;
    int count;
} gen;

/* Runs the model on SAMPLES random inputs with the reference kernels and writes everything. */
static void emit(gen *g, const char *op, uint8_t *bytes, size_t len, const char *note)
{
    char name[64], path[4096], err[512];
    snprintf(name, sizeof name, "k%03d_%s", g->count++, op);
    snprintf(path, sizeof path, "%s/models/%s.tflite", g->dir, name);
    write_file(path, bytes, len);
    host_model hm;
    void *copy = malloc(len);
    memcpy(copy, bytes, len);
    if (host_model_open_bytes(&hm, copy, len, err, sizeof err) != TMO_OK) {
        fprintf(stderr, "gen_kernel_cases: %s (%s) does not load: %s\n", name, note, err);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/golden/dev/%s", g->dir, name);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/golden/dev/%s/MANIFEST.tsv", g->dir, name);
    FILE *m = fopen(path, "w");
    if (m == NULL)
        die(path);
    fprintf(m, "file\tinput_dtype\tinput_shape\toutput_dtype\toutput_shape\tnote\n");
    for (int s = 0; s < SAMPLES; s++) {
        uint32_t n_in = tmo_interp_input_count(&hm.interp);
        for (uint32_t i = 0; i < n_in; i++) {
            tmo_io io;
            tmo_interp_input(&hm.interp, i, &io);
            int8_t *x = rand_bytes(io.bytes);
            memcpy(io.data, x, io.bytes);
            /* One input file per sample: the inputs' bytes one after the other. */
            snprintf(path, sizeof path, "%s/golden/dev/%s/%03d.in", g->dir, name, s);
            FILE *f = fopen(path, i == 0 ? "wb" : "ab");
            if (f == NULL || fwrite(x, 1, io.bytes, f) != io.bytes || fclose(f) != 0)
                die(path);
            free(x);
        }
        tmo_interp_invoke(&hm.interp);
        tmo_io out;
        tmo_interp_output(&hm.interp, 0, &out);
        snprintf(path, sizeof path, "%s/golden/dev/%s/%03d.out", g->dir, name, s);
        write_file(path, out.data, out.bytes);
        fprintf(m, "%03d\tINT8\t-\tINT8\t-\t%s\n", s, note);
    }
    fclose(m);
    fprintf(g->manifest_all, "%s\tOK\t-\t-\t%s:1\n", name,
            strcmp(op, "conv") == 0  ? "CONV_2D"
            : strcmp(op, "dw") == 0  ? "DEPTHWISE_CONV_2D"
            : strcmp(op, "fc") == 0  ? "FULLY_CONNECTED"
            : strcmp(op, "avg") == 0 ? "AVERAGE_POOL_2D"
            : strcmp(op, "max") == 0 ? "MAX_POOL_2D"
            : strcmp(op, "mul") == 0 ? "MUL"
                                     : "ADD");
    host_model_close(&hm);
}

/* Conv-like operator with filter dims fd (OHWI or 1HWO) and options o. */
static void conv_like(gen *g, int op, const int32_t *in_d, const int32_t *f_d, const int32_t *out_d,
                      int32_t out_c, int32_t depth, const tw_options *o, int big_bias,
                      const char *note)
{
    tw_model *m = tw_new();
    q8 qi = rand_q();
    int per_channel = rnd() % 2;
    int n_scales = per_channel ? out_c : 1;
    float *ws = rand_scales(n_scales);
    float *bs = malloc(sizeof(float) * (size_t)out_c);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)out_c);
    for (int32_t c = 0; c < out_c; c++) {
        bs[c] = qi.scale * ws[per_channel ? c : 0];
        bias[c] = big_bias ? (int32_t)(rnd() % 2 ? 1 : -1) * pick(1 << 29, (1 << 30) + (1 << 28))
                           : pick(-30000, 30000);
    }
    size_t fn = (size_t)f_d[0] * (size_t)f_d[1] * (size_t)f_d[2] * (size_t)f_d[3];
    int8_t *w = rand_bytes(fn);
    q8 qo = {out_scale_for(qi.scale, ws[0], depth), pick(-128, 127)};
    if (big_bias)
        qo.scale *= 20000.0f;
    int64_t zi = qi.zp, zo = qo.zp;
    tw_quant tqi = {1, &qi.scale, &zi, 0}, tqo = {1, &qo.scale, &zo, 0};
    tw_quant tqw = {(uint32_t)n_scales, ws, NULL, op == OP_CONV ? 0 : 3};
    tw_quant tqb = {(uint32_t)n_scales, bs, NULL, 0};
    int32_t b_d[1] = {out_c};
    int has_bias = rnd() % 5 != 0;
    int32_t t[4];
    t[0] = tw_tensor(m, "in", TMO_INT8, in_d, 4, 0, &tqi);
    t[1] = tw_tensor(m, "w", TMO_INT8, f_d, 4, tw_buffer(m, w, fn), &tqw);
    t[2] = has_bias ? tw_tensor(m, "b", TMO_INT32, b_d, 1,
                                tw_buffer(m, bias, sizeof(int32_t) * (size_t)out_c), &tqb)
                    : -1;
    t[3] = tw_tensor(m, "out", TMO_INT8, out_d, 4, 0, &tqo);
    int32_t outs[1] = {t[3]};
    tw_operator(m, op, t, has_bias ? 3 : 2, outs, 1, o);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, outs, 1);
    uint8_t *bytes;
    size_t len;
    if (tw_finish(m, &bytes, &len) != 0) {
        fprintf(stderr, "gen_kernel_cases: writer failed (%s)\n", note);
        exit(1);
    }
    tw_free(m);
    emit(g, op == OP_CONV ? "conv" : "dw", bytes, len, note);
    free(bytes);
    free(ws);
    free(bs);
    free(bias);
    free(w);
}

static void conv_case(gen *g, int i)
{
    static const int32_t chans[] = {1, 2, 3, 4, 5, 8, 12, 16, 20, 32};
    int32_t in_c = chans[rnd() % 10], out_c = pick(1, 24);
    int32_t kh = pick(1, 5), kw = pick(1, 5), sh = pick(1, 3), sw = pick(1, 3);
    int32_t dh = rnd() % 4 == 0 ? 2 : 1, dw = rnd() % 4 == 0 ? 2 : 1;
    int padding = rnd() % 2;
    int32_t h = pick((kh - 1) * dh + 1, 14), w = pick((kw - 1) * dw + 1, 14);
    int32_t oh = out_size(padding, h, kh, sh, dh), ow = out_size(padding, w, kw, sw, dw);
    int32_t in_d[4] = {1, h, w, in_c}, f_d[4] = {out_c, kh, kw, in_c},
            out_d[4] = {1, oh, ow, out_c};
    tw_options o = {OPTIONS_CONV2D_OPTIONS,
                    6,
                    {tw_u8(0, (uint8_t)padding), tw_i32(1, sw), tw_i32(2, sh),
                     tw_u8(3, (uint8_t)activation()), tw_i32(4, dw), tw_i32(5, dh)}};
    char note[160];
    snprintf(note, sizeof note, "conv in %dx%dx%d out_c %d k %dx%d s %d,%d d %d,%d pad %d", h, w,
             in_c, out_c, kh, kw, sh, sw, dh, dw, padding);
    conv_like(g, OP_CONV, in_d, f_d, out_d, out_c, kh * kw * in_c, &o, i % 7 == 6, note);
}

static void dw_case(gen *g, int i)
{
    static const int32_t chans[] = {1, 1, 2, 3, 4, 8, 12, 16, 6, 32};
    static const int32_t mults[] = {1, 1, 1, 2, 4, 8};
    int32_t in_c = chans[rnd() % 10], mult = in_c == 1 ? mults[rnd() % 6] : (rnd() % 5 ? 1 : 2);
    int32_t out_c = in_c * mult;
    int32_t kh = pick(1, 5), kw = pick(1, 5), sh = pick(1, 3), sw = pick(1, 3);
    int32_t dh = rnd() % 4 == 0 ? 2 : 1, dw = rnd() % 4 == 0 ? 2 : 1;
    if (i % 3 == 0) { /* the common 3x3 */
        kh = kw = 3;
        dh = dw = 1;
    }
    int padding = rnd() % 2;
    int32_t h = pick((kh - 1) * dh + 1, 16), w = pick((kw - 1) * dw + 1, 16);
    int32_t oh = out_size(padding, h, kh, sh, dh), ow = out_size(padding, w, kw, sw, dw);
    int32_t in_d[4] = {1, h, w, in_c}, f_d[4] = {1, kh, kw, out_c}, out_d[4] = {1, oh, ow, out_c};
    tw_options o = {OPTIONS_DEPTHWISE_CONV2D_OPTIONS,
                    7,
                    {tw_u8(0, (uint8_t)padding), tw_i32(1, sw), tw_i32(2, sh), tw_i32(3, mult),
                     tw_u8(4, (uint8_t)activation()), tw_i32(5, dw), tw_i32(6, dh)}};
    char note[160];
    snprintf(note, sizeof note, "dw in %dx%dx%d mult %d k %dx%d s %d,%d d %d,%d pad %d", h, w, in_c,
             mult, kh, kw, sh, sw, dh, dw, padding);
    conv_like(g, OP_DW, in_d, f_d, out_d, out_c, kh * kw, &o, i % 7 == 6, note);
}

static void fc_case(gen *g, int i)
{
    int32_t rows = pick(1, 3), depth = i % 2 ? 4 * pick(1, 64) : pick(1, 200), units = pick(1, 21);
    tw_model *m = tw_new();
    q8 qi = rand_q();
    int per_channel = rnd() % 3 == 0;
    int n_scales = per_channel ? units : 1;
    float *ws = rand_scales(n_scales);
    float *bs = malloc(sizeof(float) * (size_t)units);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)units);
    int big = i % 7 == 6;
    for (int32_t u = 0; u < units; u++) {
        bs[u] = qi.scale * ws[per_channel ? u : 0];
        bias[u] = big ? (int32_t)(rnd() % 2 ? 1 : -1) * pick(1 << 29, (1 << 30) + (1 << 28))
                      : pick(-30000, 30000);
    }
    int8_t *w = rand_bytes((size_t)units * (size_t)depth);
    q8 qo = {out_scale_for(qi.scale, ws[0], depth) * (big ? 20000.0f : 1.0f), pick(-128, 127)};
    int64_t zi = qi.zp, zo = qo.zp;
    tw_quant tqi = {1, &qi.scale, &zi, 0}, tqo = {1, &qo.scale, &zo, 0};
    tw_quant tqw = {(uint32_t)n_scales, ws, NULL, 0}, tqb = {(uint32_t)n_scales, bs, NULL, 0};
    int32_t in_d[2] = {rows, depth}, w_d[2] = {units, depth}, b_d[1] = {units},
            out_d[2] = {rows, units};
    int has_bias = rnd() % 5 != 0;
    int32_t t[4];
    t[0] = tw_tensor(m, "in", TMO_INT8, in_d, 2, 0, &tqi);
    t[1] =
        tw_tensor(m, "w", TMO_INT8, w_d, 2, tw_buffer(m, w, (size_t)units * (size_t)depth), &tqw);
    t[2] = has_bias ? tw_tensor(m, "b", TMO_INT32, b_d, 1,
                                tw_buffer(m, bias, sizeof(int32_t) * (size_t)units), &tqb)
                    : -1;
    t[3] = tw_tensor(m, "out", TMO_INT8, out_d, 2, 0, &tqo);
    int32_t outs[1] = {t[3]};
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, (uint8_t)activation())}};
    tw_operator(m, OP_FC, t, has_bias ? 3 : 2, outs, 1, &o);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, outs, 1);
    uint8_t *bytes;
    size_t len;
    if (tw_finish(m, &bytes, &len) != 0)
        exit(1);
    tw_free(m);
    char note[128];
    snprintf(note, sizeof note, "fc rows %d depth %d units %d per_channel %d", rows, depth, units,
             per_channel);
    emit(g, "fc", bytes, len, note);
    free(bytes);
    free(ws);
    free(bs);
    free(bias);
    free(w);
}

static void pool_case(gen *g, int i, int op)
{
    static const int32_t chans[] = {1, 3, 4, 5, 8, 12, 16, 32};
    int32_t c = chans[rnd() % 8], fh = pick(1, 5), fw = pick(1, 5), sh = pick(1, 3),
            sw = pick(1, 3);
    int padding = rnd() % 2;
    int32_t h = pick(fh, 14), w = pick(fw, 14);
    if (i % 5 == 4) { /* one window of more than 255 taps: the 16-bit lanes' limit */
        h = w = 17;
        fh = fw = 16;
        sh = sw = 1;
        padding = 1;
        c = 4;
    }
    int32_t oh = out_size(padding, h, fh, sh, 1), ow = out_size(padding, w, fw, sw, 1);
    tw_model *m = tw_new();
    q8 q = rand_q();
    int64_t z = q.zp;
    tw_quant tq = {1, &q.scale, &z, 0};
    int32_t in_d[4] = {1, h, w, c}, out_d[4] = {1, oh, ow, c};
    int32_t t[2];
    t[0] = tw_tensor(m, "in", TMO_INT8, in_d, 4, 0, &tq);
    t[1] = tw_tensor(m, "out", TMO_INT8, out_d, 4, 0, &tq);
    tw_options o = {OPTIONS_POOL2D_OPTIONS,
                    6,
                    {tw_u8(0, (uint8_t)padding), tw_i32(1, sw), tw_i32(2, sh), tw_i32(3, fw),
                     tw_i32(4, fh), tw_u8(5, (uint8_t)activation())}};
    tw_operator(m, op, &t[0], 1, &t[1], 1, &o);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[1], 1);
    uint8_t *bytes;
    size_t len;
    if (tw_finish(m, &bytes, &len) != 0)
        exit(1);
    tw_free(m);
    char note[128];
    snprintf(note, sizeof note, "%s in %dx%dx%d filter %dx%d s %d,%d pad %d",
             op == OP_AVG ? "avgpool" : "maxpool", h, w, c, fh, fw, sh, sw, padding);
    emit(g, op == OP_AVG ? "avg" : "max", bytes, len, note);
    free(bytes);
}

static void binary_case(gen *g, int i, int op)
{
    int32_t h = pick(1, 10), w = pick(1, 10), c = pick(1, 20);
    int32_t a_d[4] = {1, h, w, c}, b_d[4] = {1, h, w, c};
    uint32_t b_n = 4;
    switch (i % 4) {
    case 1: /* a row of channels against every pixel */
        b_d[0] = c;
        b_n = 1;
        break;
    case 2: /* one value against everything */
        b_d[1] = b_d[2] = b_d[3] = 1;
        break;
    default:
        break;
    }
    q8 qa = rand_q(), qb = rand_q(), qo = rand_q();
    if (i % 3 == 0)
        qb.scale = qa.scale; /* the larger scale's multiplier is then exactly 0.5 for both */
    qo.scale = op == OP_ADD ? (qa.scale > qb.scale ? qa.scale : qb.scale) * frand(0.8f, 3.0f)
                            : qa.scale * qb.scale * frand(20.0f, 200.0f);
    tw_model *m = tw_new();
    int64_t za = qa.zp, zb = qb.zp, zo = qo.zp;
    tw_quant ta = {1, &qa.scale, &za, 0}, tb = {1, &qb.scale, &zb, 0}, to = {1, &qo.scale, &zo, 0};
    int32_t t[3];
    /* b is constant (a single graph input, as the golden test's harness feeds one). */
    size_t b_count = 1;
    for (uint32_t k = 0; k < b_n; k++)
        b_count *= (size_t)b_d[k];
    int8_t *b_data = rand_bytes(b_count);
    t[0] = tw_tensor(m, "a", TMO_INT8, a_d, 4, 0, &ta);
    t[1] = tw_tensor(m, "b", TMO_INT8, b_d, b_n, tw_buffer(m, b_data, b_count), &tb);
    t[2] = tw_tensor(m, "out", TMO_INT8, a_d, 4, 0, &to);
    tw_options o = {op == OP_ADD ? OPTIONS_ADD_OPTIONS : OPTIONS_MUL_OPTIONS,
                    1,
                    {tw_u8(0, (uint8_t)activation())}};
    tw_operator(m, op, t, 2, &t[2], 1, &o);
    tw_inputs(m, t, 1);
    tw_outputs(m, &t[2], 1);
    uint8_t *bytes;
    size_t len;
    if (tw_finish(m, &bytes, &len) != 0)
        exit(1);
    tw_free(m);
    char note[128];
    snprintf(note, sizeof note, "%s %dx%dx%d broadcast %d", op == OP_ADD ? "add" : "mul", h, w, c,
             i % 4);
    emit(g, op == OP_ADD ? "add" : "mul", bytes, len, note);
    free(bytes);
    free(b_data);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_kernel_cases OUT_DIR [COUNT_PER_OPERATOR [SEED]]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 7;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x2545F4914F6CDD1Du;
    if (rng_state == 0)
        rng_state = 1;
    char path[4096];
    gen g = {argv[1], NULL, 0};
    snprintf(path, sizeof path, "%s/models", g.dir);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/models/MODELS.tsv", g.dir);
    g.manifest_all = fopen(path, "w");
    if (g.manifest_all == NULL)
        die(path);
    fprintf(g.manifest_all, "model\tstatus\tinput\toutput\tops(builtin:count)\n");
    for (int i = 0; i < count; i++) {
        conv_case(&g, i);
        dw_case(&g, i);
        fc_case(&g, i);
        pool_case(&g, i, OP_AVG);
        pool_case(&g, i, OP_MAX);
        binary_case(&g, i, OP_ADD);
        binary_case(&g, i, OP_MUL);
    }
    fclose(g.manifest_all);
    printf("gen_kernel_cases: %d models in %s\n", g.count, g.dir);
    return 0;
}
