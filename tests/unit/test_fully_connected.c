/*
 * FULLY_CONNECTED int8 through the interpreter, with whatever kernel set the
 * test links (test_fully_connected: opt; _dsp: the Cortex-M DSP kernels on
 * their host twins): random shapes (depths that are and are not multiples
 * of four, one to three rows, units not a multiple of four), per-tensor and
 * per-channel weights, with and without bias, every activation, accumulators
 * near the int32 edge. Each case must equal the reference kernel bit for bit
 * and lie within one step of an independent double-precision model of the
 * quantized operator (TFLite's rescale rounds twice, so +-1 is its
 * documented distance from exact rounding).
 */
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
#include "kernels/fully_connected.h"
#include "kernels/kernel.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"

enum { OP_FC = 9 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1 = 2, ACT_RELU6 = 3 };

typedef struct fc_case {
    int32_t rows, depth, units;
    int per_channel, has_bias, activation;
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
    int8_t *w;       /* units x depth */
    int32_t *bias;   /* units */
    float *w_scales; /* units (or 1) */
} fc_case;

static uint64_t rng = 0x243F6A8885A308D3u;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static int32_t rnd_range(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static int build(const fc_case *c, uint8_t **bytes, size_t *len)
{
    tw_model *m = tw_new();
    int32_t in_d[2] = {c->rows, c->depth}, w_d[2] = {c->units, c->depth}, b_d[1] = {c->units},
            out_d[2] = {c->rows, c->units};
    int64_t in_zp = c->in_zp, out_zp = c->out_zp;
    uint32_t n_scales = c->per_channel ? (uint32_t)c->units : 1u;
    float *b_scales = malloc(sizeof(float) * (size_t)c->units);
    for (int32_t u = 0; u < c->units; u++)
        b_scales[u] = c->in_scale * c->w_scales[c->per_channel ? u : 0];
    tw_quant qin = {1, &c->in_scale, &in_zp, 0}, qout = {1, &c->out_scale, &out_zp, 0};
    tw_quant qw = {n_scales, c->w_scales, NULL, 0}, qb = {n_scales, b_scales, NULL, 0};
    int t_in = tw_tensor(m, "in", TMO_INT8, in_d, 2, 0, &qin);
    int t_w = tw_tensor(m, "w", TMO_INT8, w_d, 2,
                        tw_buffer(m, c->w, (size_t)c->units * (size_t)c->depth), &qw);
    int t_b = c->has_bias
                  ? tw_tensor(m, "b", TMO_INT32, b_d, 1,
                              tw_buffer(m, c->bias, sizeof(int32_t) * (size_t)c->units), &qb)
                  : -1;
    int t_out = tw_tensor(m, "out", TMO_INT8, out_d, 2, 0, &qout);
    int32_t ins[3] = {t_in, t_w, t_b}, outs[1] = {t_out};
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, (uint8_t)c->activation)}};
    int ok = tw_operator(m, OP_FC, ins, c->has_bias ? 3 : 2, outs, 1, &o) >= 0;
    tw_inputs(m, ins, 1);
    tw_outputs(m, outs, 1);
    int r = ok ? tw_finish(m, bytes, len) : -1;
    tw_free(m);
    free(b_scales);
    return r;
}

/* The operator in double: clamp(zp + round(acc * in_s * w_s / out_s)), acc exact. */
static void model(const fc_case *c, const int8_t *in, double *out)
{
    double lo = -128, hi = 127, s = c->out_scale;
    if (c->activation == ACT_RELU || c->activation == ACT_RELU6)
        lo = fmax(lo, c->out_zp + round(0.0 / s));
    if (c->activation == ACT_RELU6)
        hi = fmin(hi, c->out_zp + round(6.0 / s));
    if (c->activation == ACT_RELU_N1) {
        lo = fmax(lo, c->out_zp + round(-1.0 / s));
        hi = fmin(hi, c->out_zp + round(1.0 / s));
    }
    for (int32_t r = 0; r < c->rows; r++)
        for (int32_t u = 0; u < c->units; u++) {
            int64_t acc = c->has_bias ? c->bias[u] : 0;
            for (int32_t d = 0; d < c->depth; d++)
                acc += (int64_t)c->w[(size_t)u * (size_t)c->depth + (size_t)d] *
                       ((int64_t)in[(size_t)r * (size_t)c->depth + (size_t)d] - c->in_zp);
            double real = (double)c->in_scale * (double)c->w_scales[c->per_channel ? u : 0] /
                          (double)c->out_scale;
            double v = c->out_zp + round((double)acc * real);
            out[(size_t)r * (size_t)c->units + (size_t)u] = fmin(hi, fmax(lo, v));
        }
}

static void run_case(const fc_case *c)
{
    uint8_t *bytes;
    size_t len;
    char err[256];
    assert_int_equal(build(c, &bytes, &len), 0);
    host_model hm;
    if (host_model_open_bytes(&hm, bytes, len, err, sizeof err) != TMO_OK)
        fail_msg("load: %s", err);
    size_t n_in = (size_t)c->rows * (size_t)c->depth, n_out = (size_t)c->rows * (size_t)c->units;
    int8_t *in = malloc(n_in), *got = malloc(n_out), *ref = malloc(n_out);
    double *want = malloc(sizeof(double) * n_out);
    for (size_t i = 0; i < n_in; i++)
        in[i] = (int8_t)rnd();
    tmo_io io;
    assert_int_equal(tmo_interp_input(&hm.interp, 0, &io), TMO_OK);
    memcpy(io.data, in, n_in);
    assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
    assert_int_equal(tmo_interp_output(&hm.interp, 0, &io), TMO_OK);
    memcpy(got, io.data, n_out);
    /* the reference kernel on the same prepared parameters */
    tmo_exec x = {hm.interp.arena, hm.model.base, hm.interp.tensor_loc};
    const tmo_node *node = &hm.interp.nodes[0];
    fc_s8_ref(&x, node->params, hm.interp.arena + node->scratch_off);
    memcpy(ref, io.data, n_out);
    model(c, in, want);
    for (size_t i = 0; i < n_out; i++) {
        if (got[i] != ref[i] || fabs(got[i] - want[i]) > 1.0)
            fail_msg("rows %d depth %d units %d per_channel %d bias %d act %d zp %d/%d: output %zu "
                     "is %d, reference %d, model %.0f",
                     c->rows, c->depth, c->units, c->per_channel, c->has_bias, c->activation,
                     c->in_zp, c->out_zp, i, got[i], ref[i], want[i]);
    }
    free(in);
    free(got);
    free(ref);
    free(want);
    host_model_close(&hm);
}

/* Random weights, scales chosen so outputs spread over the int8 range. */
static void fill_case(fc_case *c)
{
    size_t nw = (size_t)c->units * (size_t)c->depth;
    c->w = malloc(nw > 0 ? nw : 1);
    c->bias = malloc(sizeof(int32_t) * (size_t)c->units);
    c->w_scales = malloc(sizeof(float) * (size_t)c->units);
    for (size_t i = 0; i < nw; i++)
        c->w[i] = (int8_t)rnd();
    for (int32_t u = 0; u < c->units; u++) {
        c->bias[u] = rnd_range(-20000, 20000);
        c->w_scales[u] = 0.002f * (float)rnd_range(1, 50);
    }
    c->in_scale = 0.01f * (float)rnd_range(1, 20);
    c->in_zp = rnd_range(-128, 127);
    c->out_zp = rnd_range(-128, 127);
    /* out scale ~ the spread of the accumulator times in/w scales */
    double spread = sqrt((double)c->depth) * 128.0 * 74.0 * (double)c->in_scale * 0.05;
    c->out_scale = (float)(spread / 128.0 + 1e-3);
}

static void free_case(fc_case *c)
{
    free(c->w);
    free(c->bias);
    free(c->w_scales);
}

static void random_shapes(void **state)
{
    (void)state;
    for (int i = 0; i < 400; i++) {
        fc_case c;
        memset(&c, 0, sizeof c);
        c.rows = rnd_range(1, 3);
        c.depth = i % 3 == 0 ? 4 * rnd_range(1, 80) : rnd_range(1, 300);
        c.units = rnd_range(1, 40);
        c.per_channel = rnd() % 2;
        c.has_bias = rnd() % 4 != 0;
        c.activation = rnd_range(0, 3);
        fill_case(&c);
        run_case(&c);
        free_case(&c);
    }
}

/* The shapes of the reference models' layers (hello world, anomaly detection, KWS, micro speech). */
static void model_shapes(void **state)
{
    (void)state;
    static const int32_t shapes[][2] = {{1, 16},  {16, 16}, {16, 1},    {640, 128}, {128, 128},
                                        {128, 8}, {8, 128}, {128, 640}, {64, 12},   {4000, 4}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        fc_case c;
        memset(&c, 0, sizeof c);
        c.rows = 1;
        c.depth = shapes[k][0];
        c.units = shapes[k][1];
        c.has_bias = 1;
        c.activation = k % 2 ? ACT_RELU : ACT_NONE;
        fill_case(&c);
        run_case(&c);
        free_case(&c);
    }
}

/*
 * Accumulators beyond 2^30 (a long row of extreme products plus a large
 * bias): the DSP kernels must notice at prepare that their 32-bit output
 * stage is not exact there and take the 64-bit one.
 */
static void huge_accumulators(void **state)
{
    (void)state;
    fc_case c;
    memset(&c, 0, sizeof c);
    c.rows = 1;
    c.depth = 4096;
    c.units = 5;
    c.has_bias = 1;
    fill_case(&c);
    for (size_t i = 0; i < (size_t)c.units * (size_t)c.depth; i++)
        c.w[i] = (int8_t)(i % 2 ? -128 : 127);
    for (int32_t u = 0; u < c.units; u++)
        c.bias[u] = u % 2 ? 2000000000 : -2000000000;
    c.in_zp = -128;
    c.out_scale = 1e6f;
    run_case(&c);
    free_case(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_shapes),
        cmocka_unit_test(model_shapes),
        cmocka_unit_test(huge_accumulators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
