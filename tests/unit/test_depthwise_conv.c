/*
 * DEPTHWISE_CONV_2D: known answers from TFLite Micro's kernel tests,
 * hand-derived exact int8 cases (padding with an input zero point, dilation,
 * depth multiplier), expectations from double-precision math on random
 * shapes, bit-exact agreement of the optimized kernels with the reference
 * ones, and the errors prepare must report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conv_harness.h"

static conv_spec dw_spec(int32_t type, const int32_t in[4], const int32_t filter[4],
                         const int32_t out[4])
{
    conv_spec s;
    memset(&s, 0, sizeof s);
    s.op = OP_DWCONV;
    s.type = type;
    memcpy(s.in, in, sizeof s.in);
    memcpy(s.filter, filter, sizeof s.filter);
    memcpy(s.out, out, sizeof s.out);
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    s.depth_mult = filter[3] / in[3];
    s.padding = H_PAD_VALID;
    s.filter_quant_dim = -1;
    s.in_scale = s.out_scale = 1.0f;
    return s;
}

/* ---- TFLite Micro kernel tests (tensorflow/lite/micro/kernels/depthwise_conv_test.cc) ---- */

static const float tflm_input[12] = {1, 2, 7, 8, 3, 4, 9, 10, 5, 6, 11, 12};
static const float tflm_filter[16] = {1, 2, 3, 4, -9, 10, -11, 12, 5, 6, 7, 8, 13, -14, 15, -16};
static const float tflm_bias[4] = {1, 2, 3, 4};
static const float tflm_golden[8] = {71, -34, 99, -20, 91, -26, 127, -4};

static void expect_float(const conv_spec *s, const float *input, const float *want)
{
    host_model hm;
    char err[256];
    assert_int_equal(h_open(s, &hm, err, sizeof err), TMO_OK);
    float got[64];
    h_run(&hm, input, got);
    for (size_t i = 0; i < h_count(s->out); i++)
        if (got[i] != want[i]) {
            print_error("output %zu: got %.9g want %.9g\n", i, got[i], want[i]);
            fail();
        }
    host_model_close(&hm);
}

/* SimpleTest and SimpleTestRelu: depth multiplier 2, VALID. */
static void tflm_simple_float(void **state)
{
    (void)state;
    static const float golden_relu[8] = {71, 0, 99, 0, 91, 0, 127, 0};
    for (int relu = 0; relu <= 1; relu++) {
        conv_spec s = dw_spec(TMO_FLOAT32, (int32_t[]){1, 3, 2, 2}, (int32_t[]){1, 2, 2, 4},
                              (int32_t[]){1, 2, 1, 4});
        s.has_bias = 1;
        s.filter_f = tflm_filter;
        s.bias_f = tflm_bias;
        s.activation = relu ? H_ACT_RELU : H_ACT_NONE;
        expect_float(&s, tflm_input, relu ? golden_relu : tflm_golden);
    }
}

typedef struct {
    const int32_t *in, *filter, *out;
    const float *input, *weights, *bias, *golden;
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
    int dil_h, dil_w, activation;
} tflm_q_case;

/* Quantizes input, filter (per channel, scale max|w|/127 as TFLM's helpers) and bias; within 1. */
static void run_tflm_q_case(const tflm_q_case *c)
{
    conv_spec s = dw_spec(TMO_INT8, c->in, c->filter, c->out);
    s.dil_h = c->dil_h;
    s.dil_w = c->dil_w;
    s.activation = c->activation;
    s.in_scale = c->in_scale;
    s.out_scale = c->out_scale;
    s.in_zp = c->in_zp;
    s.out_zp = c->out_zp;
    int32_t oc = c->filter[3], taps = c->filter[1] * c->filter[2];
    int8_t fq[64];
    float scales[16];
    int32_t bq[16];
    for (int32_t ch = 0; ch < oc; ch++) {
        float mx = 0.0f;
        for (int32_t t = 0; t < taps; t++)
            mx = fmaxf(mx, fabsf(c->weights[t * oc + ch]));
        scales[ch] = mx / 127.0f;
        for (int32_t t = 0; t < taps; t++)
            fq[t * oc + ch] = (int8_t)lroundf(c->weights[t * oc + ch] / scales[ch]);
        bq[ch] = (int32_t)lroundf(c->bias[ch] / (c->in_scale * scales[ch]));
    }
    s.filter_q = fq;
    s.filter_scales = scales;
    s.filter_scale_count = (uint32_t)oc;
    s.has_bias = 1;
    s.bias_q = bq;
    int8_t in_q[64], got[64];
    for (size_t i = 0; i < h_count(s.in); i++)
        in_q[i] = (int8_t)fmax(-128, fmin(127, lround(c->input[i] / c->in_scale) + c->in_zp));
    host_model hm;
    char err[256];
    assert_int_equal(h_open(&s, &hm, err, sizeof err), TMO_OK);
    h_run(&hm, in_q, got);
    for (size_t i = 0; i < h_count(s.out); i++) {
        long want = lround(c->golden[i] / c->out_scale) + c->out_zp;
        want = want < -128 ? -128 : want > 127 ? 127 : want;
        if (labs(got[i] - want) > 1) {
            print_error("output %zu: got %d want %ld\n", i, got[i], want);
            fail();
        }
    }
    host_model_close(&hm);
}

/* SimpleTestQuantizedPerChannel and TestQuantizedPerChannelCompareWithFloat. */
static void tflm_per_channel(void **state)
{
    (void)state;
    tflm_q_case c = {(int32_t[]){1, 3, 2, 2}, (int32_t[]){1, 2, 2, 4}, (int32_t[]){1, 2, 1, 4},
                     tflm_input, tflm_filter, tflm_bias, tflm_golden, 0.5f, 1.0f, 0, 0, 1, 1,
                     H_ACT_NONE};
    run_tflm_q_case(&c);
    static const float input[12] = {3, 2, 1, -1, -2, -3, 4, 3, 2, -2, -3, -4};
    static const float filter[16] = {1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 5, 6, 3, 4, 1, 2};
    static const float bias[4] = {3, -2, 4, 6};
    static const float golden[8] = {43, 48, 18, 22, 3, -4, -28, -36};
    tflm_q_case c2 = {(int32_t[]){1, 2, 3, 2}, (int32_t[]){1, 2, 2, 4}, (int32_t[]){1, 1, 2, 4},
                      input, filter, bias, golden, 0.5f, 1.0f, 0, 0, 1, 1, H_ACT_NONE};
    run_tflm_q_case(&c2);
}

/* SimpleTestQuantizedPerChannelDepthMultiplier1: outputs saturate at both ends. */
static void tflm_depth_multiplier_1(void **state)
{
    (void)state;
    static const float filter[8] = {1, 2, 3, 4, -9, 10, -11, 12};
    static const float bias[2] = {1, 2};
    static const float golden[4] = {-103, 127, -128, 127};
    tflm_q_case c = {(int32_t[]){1, 3, 2, 2}, (int32_t[]){1, 2, 2, 2}, (int32_t[]){1, 2, 1, 2},
                     tflm_input, filter, bias, golden, 1.0f, 1.0f, 0, 0, 1, 1, H_ACT_NONE};
    run_tflm_q_case(&c);
}

/* TestQuantizedPerChannelDepthMultiplier1Relu6: zero points -128. */
static void tflm_relu6(void **state)
{
    (void)state;
    static const float input[24] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    static const float filter[16] = {0, 1, 8, -2, -1, 2, -10, 0, -1, 3, -18, 0, 0, 4, 20, -3};
    static const float golden[8] = {0, 6, 3, 0, 0, 6, 3, 0};
    tflm_q_case c = {(int32_t[]){1, 3, 2, 4}, (int32_t[]){1, 2, 2, 4}, (int32_t[]){1, 2, 1, 4},
                     input, filter, tflm_bias, golden, 0.023529f, 0.023529f, -128, -128, 1, 1,
                     H_ACT_RELU6};
    run_tflm_q_case(&c);
}

/* SimpleTestDilatedQuantizedPerChannel: dilation 2 (height) x 3 (width), multiplier 2. */
static void tflm_dilated(void **state)
{
    (void)state;
    static const float input[48] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4,
                                    1, 2, 3, 4, 5, 6, 2, 6, 2, 4, 4, 2, 3, 2, 6, 5, 1, 4, 1, 2, 1, 4, 6, 3};
    static const float golden[24] = {15, 2,  88, -48, 25, 14, 72, 0,  61, -2,  56, 48,
                                     -4, 52, 12, 48,  11, 70, 63, 40, 51, -30, 41, 48};
    tflm_q_case c = {(int32_t[]){1, 4, 6, 2}, (int32_t[]){1, 2, 2, 4}, (int32_t[]){1, 2, 3, 4},
                     input, tflm_filter, tflm_bias, golden, 0.5f, 1.0f, 0, 0, 2, 3, H_ACT_NONE};
    run_tflm_q_case(&c);
}

/* ---- hand-derived exact int8 cases (unit scales: requantization is exact) ---- */

static void run_exact(const conv_spec *s, const int8_t *input, const int8_t *want)
{
    host_model hm;
    char err[256];
    int8_t got[256];
    assert_int_equal(h_open(s, &hm, err, sizeof err), TMO_OK);
    h_run(&hm, input, got);
    assert_memory_equal(got, want, h_count(s->out));
    host_model_close(&hm);
}

/*
 * Two channels over a 3x3 image with SAME padding and input zero point 5:
 * channel 0 has a 3x3 box filter (values 1..9, so box sums 12 21 16 / 27 45
 * 33 / 24 39 28), channel 1 only the centre tap (weight 2, values -1..-9).
 * Padded taps must count as the zero point. Bias (10, -1), output zero
 * point -3.
 */
static void exact_same_padding_with_zero_point(void **state)
{
    (void)state;
    static const int8_t w[18] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 1, 0, 1, 0, 1, 0, 1, 0};
    static const int32_t bias[2] = {10, -1};
    static const float one = 1.0f;
    static const int8_t input[18] = {6, 4, 7, 3, 8, 2, 9, 1, 10, 0, 11, -1, 12, -2, 13, -3, 14, -4};
    static const int8_t want[18] = {19, -6, 28, -8, 23, -10, 34, -12, 52, -14,
                                    40, -16, 31, -18, 46, -20, 35, -22};
    conv_spec s = dw_spec(TMO_INT8, (int32_t[]){1, 3, 3, 2}, (int32_t[]){1, 3, 3, 2},
                          (int32_t[]){1, 3, 3, 2});
    s.padding = H_PAD_SAME;
    s.in_zp = 5;
    s.out_zp = -3;
    s.filter_q = w;
    s.filter_scales = &one;
    s.filter_scale_count = 1;
    s.has_bias = 1;
    s.bias_q = bias;
    run_exact(&s, input, want);
}

/*
 * Dilation 2 with a 2x2 filter of ones on a 5x5 image v = 5y + x, VALID:
 * out(y, x) = v(y,x) + v(y,x+2) + v(y+2,x) + v(y+2,x+2) = 20y + 4x + 24.
 * Stride 2 keeps outputs (0,0), (0,2), (2,0), (2,2): 24, 32, 64, 72.
 */
static void exact_dilation_and_stride(void **state)
{
    (void)state;
    static const int8_t ones[4] = {1, 1, 1, 1};
    static const float one = 1.0f;
    int8_t input[25];
    for (int i = 0; i < 25; i++)
        input[i] = (int8_t)i;
    static const int8_t want1[9] = {24, 28, 32, 44, 48, 52, 64, 68, 72};
    static const int8_t want2[4] = {24, 32, 64, 72};
    for (int stride = 1; stride <= 2; stride++) {
        int32_t n = stride == 1 ? 3 : 2;
        conv_spec s = dw_spec(TMO_INT8, (int32_t[]){1, 5, 5, 1}, (int32_t[]){1, 2, 2, 1},
                              (int32_t[]){1, n, n, 1});
        s.dil_h = s.dil_w = 2;
        s.stride_h = s.stride_w = stride;
        s.filter_q = ones;
        s.filter_scales = &one;
        s.filter_scale_count = 1;
        run_exact(&s, input, stride == 1 ? want1 : want2);
    }
}

/*
 * Depth multiplier 3 on two input channels: output channel 3c + m reads input
 * channel c with a 1x1 weight m + 1 (channel 0) or -(m + 1) (channel 1).
 */
static void exact_depth_multiplier(void **state)
{
    (void)state;
    static const int8_t w[6] = {1, 2, 3, -1, -2, -3};
    static const float one = 1.0f;
    static const int8_t input[4] = {5, 7, -4, 10};
    static const int8_t want[12] = {5, 10, 15, -7, -14, -21, -4, -8, -12, -10, -20, -30};
    conv_spec s = dw_spec(TMO_INT8, (int32_t[]){1, 1, 2, 2}, (int32_t[]){1, 1, 1, 6},
                          (int32_t[]){1, 1, 2, 6});
    s.filter_q = w;
    s.filter_scales = &one;
    s.filter_scale_count = 1;
    run_exact(&s, input, want);
}

/* ---- random shapes: double-precision expectations and opt == ref ---- */

static void random_shape(uint64_t *rng, conv_spec *s)
{
    for (;;) {
        memset(s, 0, sizeof *s);
        s->op = OP_DWCONV;
        s->filter_quant_dim = -1;
        int32_t in_c = h_range(rng, 1, 40);
        s->depth_mult = h_range(rng, 0, 3) == 0 ? h_range(rng, 2, 4) : 1;
        s->in[0] = h_range(rng, 1, 2);
        s->in[1] = h_range(rng, 1, 11);
        s->in[2] = h_range(rng, 1, 11);
        s->in[3] = in_c;
        s->filter[0] = 1;
        s->filter[1] = h_range(rng, 1, 5);
        s->filter[2] = h_range(rng, 1, 5);
        s->filter[3] = in_c * s->depth_mult;
        s->stride_h = h_range(rng, 1, 3);
        s->stride_w = h_range(rng, 1, 3);
        s->dil_h = h_range(rng, 0, 3) == 0 ? h_range(rng, 2, 3) : 1;
        s->dil_w = h_range(rng, 0, 3) == 0 ? h_range(rng, 2, 3) : 1;
        s->padding = h_range(rng, 0, 1);
        s->activation = h_range(rng, 0, 3);
        s->has_bias = h_range(rng, 0, 4) != 0;
        int32_t oh = h_out_size(s->padding, s->in[1], s->filter[1], s->stride_h, s->dil_h);
        int32_t ow = h_out_size(s->padding, s->in[2], s->filter[2], s->stride_w, s->dil_w);
        if (oh <= 0 || ow <= 0)
            continue;
        s->out[0] = s->in[0];
        /* TFLite accepts outputs larger than the padding mode implies (extra windows see
         * only implicit zeros); one case in eight exercises that. */
        int grow = h_range(rng, 0, 7) == 0;
        s->out[1] = oh + (grow ? h_range(rng, 0, 2) : 0);
        s->out[2] = ow + (grow ? h_range(rng, 0, 2) : 0);
        s->out[3] = s->filter[3];
        return;
    }
}

typedef struct {
    int8_t *filter_q;
    int32_t *bias_q;
    float *filter_f, *bias_f, *scales;
} case_data;

static void random_data(uint64_t *rng, conv_spec *s, case_data *c, int32_t type)
{
    size_t nf = h_count(s->filter);
    int32_t oc = s->filter[3];
    s->type = type;
    c->filter_q = malloc(nf);
    c->filter_f = malloc(nf * sizeof(float));
    c->bias_q = malloc((size_t)oc * sizeof(int32_t));
    c->bias_f = malloc((size_t)oc * sizeof(float));
    c->scales = malloc((size_t)oc * sizeof(float));
    int32_t low = h_range(rng, 0, 1) ? -128 : -127;
    for (size_t i = 0; i < nf; i++) {
        c->filter_q[i] = (int8_t)h_range(rng, low, 127);
        c->filter_f[i] = h_uniform(rng, -1.0f, 1.0f);
    }
    for (int32_t i = 0; i < oc; i++) {
        c->bias_q[i] = h_range(rng, -3000, 3000);
        c->bias_f[i] = h_uniform(rng, -1.0f, 1.0f);
        c->scales[i] = h_uniform(rng, 0.002f, 0.02f);
    }
    s->filter_q = c->filter_q;
    s->filter_f = c->filter_f;
    s->bias_q = c->bias_q;
    s->bias_f = c->bias_f;
    s->filter_scales = c->scales;
    s->filter_scale_count = h_range(rng, 0, 1) ? (uint32_t)oc : 1u;
    s->in_scale = h_uniform(rng, 0.01f, 0.1f);
    s->in_zp = h_range(rng, -128, 127);
    s->out_zp = h_range(rng, -20, 20);
    double taps = (double)s->filter[1] * s->filter[2];
    s->out_scale = (float)(s->in_scale * 60.0 * sqrt(taps) / 40.0);
}

static void free_data(case_data *c)
{
    free(c->filter_q);
    free(c->filter_f);
    free(c->bias_q);
    free(c->bias_f);
    free(c->scales);
}

static void check_case(uint64_t *rng, conv_spec *s, int32_t type, int check_math)
{
    case_data c;
    random_data(rng, s, &c, type);
    size_t n_in = h_count(s->in), n_out = h_count(s->out), nf = h_count(s->filter);
    int32_t oc = s->out[3];
    host_model hm;
    char err[256];
    if (h_open(s, &hm, err, sizeof err) != TMO_OK) {
        print_error("%s\n", err);
        fail();
    }
    double *rin = malloc(n_in * sizeof(double)), *rw = malloc(nf * sizeof(double));
    double *rb = malloc((size_t)oc * sizeof(double)), *rout = malloc(n_out * sizeof(double));
    size_t esize = type == TMO_INT8 ? 1 : 4;
    uint8_t *input = malloc(n_in * esize), *got = malloc(n_out * esize), *ref = malloc(n_out * esize);
    for (size_t i = 0; i < n_in; i++) {
        if (type == TMO_INT8) {
            int8_t v = (int8_t)h_range(rng, -128, 127);
            input[i] = (uint8_t)v;
            rin[i] = ((double)v - s->in_zp) * s->in_scale;
        } else {
            float v = h_uniform(rng, -2.0f, 2.0f);
            memcpy(input + 4 * i, &v, 4);
            rin[i] = v;
        }
    }
    for (size_t i = 0; i < nf; i++) {
        size_t ch = i % (size_t)oc;
        double sc = s->filter_scale_count > 1 ? s->filter_scales[ch] : s->filter_scales[0];
        rw[i] = type == TMO_INT8 ? s->filter_q[i] * sc : s->filter_f[i];
    }
    for (int32_t i = 0; i < oc; i++) {
        double sc = s->filter_scale_count > 1 ? s->filter_scales[i] : s->filter_scales[0];
        rb[i] = type == TMO_INT8 ? s->bias_q[i] * (double)s->in_scale * sc : s->bias_f[i];
    }
    h_expect(s, rin, rw, s->has_bias ? rb : NULL, rout);
    h_run(&hm, input, got);
    h_run_kernel(&hm, type == TMO_INT8 ? dwconv_s8_ref : dwconv_f32_ref, ref);
    if (memcmp(got, ref, n_out * esize) != 0) {
        print_error("optimized and reference differ: in %dx%dx%dx%d filter %dx%dx%d mult %d "
                    "stride %d,%d dil %d,%d pad %d\n",
                    s->in[0], s->in[1], s->in[2], s->in[3], s->filter[1], s->filter[2],
                    s->filter[3], s->depth_mult, s->stride_h, s->stride_w, s->dil_h, s->dil_w,
                    s->padding);
        fail();
    }
    double lo, hi;
    h_act_range(s->activation, &lo, &hi);
    for (size_t i = 0; i < n_out && check_math; i++) {
        if (type == TMO_INT8) {
            int32_t want = h_quantize(rout[i], s);
            if (abs((int8_t)got[i] - want) > 1) {
                print_error("output %zu: got %d want %d\n", i, (int8_t)got[i], want);
                fail();
            }
        } else {
            float g;
            memcpy(&g, got + 4 * i, 4);
            double want = rout[i] < lo ? lo : rout[i] > hi ? hi : rout[i];
            if (fabs(g - want) > 1e-4 * fmax(1.0, fabs(want))) {
                print_error("output %zu: got %.9g want %.9g\n", i, g, want);
                fail();
            }
        }
    }
    free(rin);
    free(rw);
    free(rb);
    free(rout);
    free(input);
    free(got);
    free(ref);
    host_model_close(&hm);
    free_data(&c);
}

static void random_int8_matches_math_and_reference(void **state)
{
    (void)state;
    uint64_t rng = 21;
    for (int i = 0; i < 300; i++) {
        conv_spec s;
        random_shape(&rng, &s);
        check_case(&rng, &s, TMO_INT8, 1);
    }
}

static void random_float_matches_math_and_reference(void **state)
{
    (void)state;
    uint64_t rng = 22;
    for (int i = 0; i < 300; i++) {
        conv_spec s;
        random_shape(&rng, &s);
        check_case(&rng, &s, TMO_FLOAT32, 1);
    }
}

/* The reference models' depthwise layers, optimized vs reference. */
static void model_shapes_match_reference(void **state)
{
    (void)state;
    static const int32_t shapes[][9] = {
        /* in h, w, c, mult, k_h, k_w, stride, padding */
        {48, 48, 8, 1, 3, 3, 1, H_PAD_SAME},  {48, 48, 16, 1, 3, 3, 2, H_PAD_SAME},
        {6, 6, 128, 1, 3, 3, 1, H_PAD_SAME},  {3, 3, 256, 1, 3, 3, 1, H_PAD_SAME},
        {25, 5, 64, 1, 3, 3, 1, H_PAD_SAME},  {49, 40, 1, 8, 10, 8, 2, H_PAD_SAME},
        {30, 1, 40, 1, 3, 1, 1, H_PAD_VALID}, {15, 1, 128, 1, 15, 1, 1, H_PAD_VALID},
    };
    uint64_t rng = 7;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (int32_t type = 0; type < 2; type++) {
            const int32_t *d = shapes[k];
            conv_spec s;
            memset(&s, 0, sizeof s);
            s.op = OP_DWCONV;
            s.filter_quant_dim = -1;
            memcpy(s.in, (int32_t[]){1, d[0], d[1], d[2]}, sizeof s.in);
            memcpy(s.filter, (int32_t[]){1, d[4], d[5], d[2] * d[3]}, sizeof s.filter);
            s.depth_mult = d[3];
            s.stride_h = s.stride_w = d[6];
            s.dil_h = s.dil_w = 1;
            s.padding = d[7];
            s.activation = H_ACT_RELU;
            s.has_bias = 1;
            s.out[0] = 1;
            s.out[1] = h_out_size(s.padding, d[0], d[4], d[6], 1);
            s.out[2] = h_out_size(s.padding, d[1], d[5], d[6], 1);
            s.out[3] = d[2] * d[3];
            check_case(&rng, &s, type == 0 ? TMO_INT8 : TMO_FLOAT32, 0);
        }
    }
}

/* ---- errors at prepare ---- */

static tmo_err open_error(const conv_spec *s, char *err, size_t len)
{
    host_model hm;
    tmo_err e = h_open(s, &hm, err, len);
    if (e == TMO_OK)
        host_model_close(&hm);
    return e;
}

static conv_spec small_int8(void)
{
    static const int8_t w[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const float scales[4] = {0.5f, 0.25f, 0.125f, 1.0f};
    conv_spec s = dw_spec(TMO_INT8, (int32_t[]){1, 3, 3, 2}, (int32_t[]){1, 2, 2, 4},
                          (int32_t[]){1, 2, 2, 4});
    s.filter_q = w;
    s.filter_scales = scales;
    s.filter_scale_count = 4;
    return s;
}

static void errors(void **state)
{
    (void)state;
    char err[256];
    conv_spec s = small_int8();
    assert_int_equal(open_error(&s, err, sizeof err), TMO_OK);

    s = small_int8();
    s.type = TMO_FLOAT32;
    s.filter_type = TMO_INT8;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EUNSUPPORTED);
    assert_non_null(strstr(err, "hybrid"));
    assert_non_null(strstr(err, "DEPTHWISE_CONV_2D"));

    s = small_int8();
    s.depth_mult = 3; /* 3 x 2 input channels is not 4 */
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);
    assert_non_null(strstr(err, "depth_multiplier"));

    s = small_int8();
    s.depth_mult = 0;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    memcpy(s.filter, (int32_t[]){2, 2, 2, 4}, sizeof s.filter); /* first dimension must be 1 */
    s.filter_scale_count = 1;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    memcpy(s.filter, (int32_t[]){1, 2, 4, 4}, sizeof s.filter);
    s.filter_quant_dim = 2; /* per-channel scales must run along dimension 3 */
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.out[3] = 2; /* filter depth 4 */
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.has_bias = 1;
    s.bias_q = (const int32_t[]){1, 2, 3, 4};
    s.type = TMO_INT8;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tflm_simple_float),
        cmocka_unit_test(tflm_per_channel),
        cmocka_unit_test(tflm_depth_multiplier_1),
        cmocka_unit_test(tflm_relu6),
        cmocka_unit_test(tflm_dilated),
        cmocka_unit_test(exact_same_padding_with_zero_point),
        cmocka_unit_test(exact_dilation_and_stride),
        cmocka_unit_test(exact_depth_multiplier),
        cmocka_unit_test(random_int8_matches_math_and_reference),
        cmocka_unit_test(random_float_matches_math_and_reference),
        cmocka_unit_test(model_shapes_match_reference),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
