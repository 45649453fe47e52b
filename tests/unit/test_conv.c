/*
 * CONV_2D: known answers from TFLite Micro's kernel tests, hand-derived
 * exact int8 cases (padding with a non-zero input zero point, TFLite's double
 * rounding, activation clamps, groups), expectations from double-precision
 * math on random shapes, bit-exact agreement of the optimized kernels with
 * the reference ones, and the errors prepare must report.
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

static conv_spec float_spec(const int32_t in[4], const int32_t filter[4], const int32_t out[4])
{
    conv_spec s;
    memset(&s, 0, sizeof s);
    s.op = OP_CONV;
    s.type = TMO_FLOAT32;
    memcpy(s.in, in, sizeof s.in);
    memcpy(s.filter, filter, sizeof s.filter);
    memcpy(s.out, out, sizeof s.out);
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    s.filter_quant_dim = -1;
    return s;
}

/* Runs a float spec and checks every output against want within rel. tolerance tol. */
static void expect_float(const conv_spec *s, const float *input, const float *want, float tol)
{
    host_model hm;
    char err[256];
    assert_int_equal(h_open(s, &hm, err, sizeof err), TMO_OK);
    size_t n = h_count(s->out);
    float *got = malloc(n * sizeof(float));
    h_run(&hm, input, got);
    for (size_t i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > tol * fmaxf(1.0f, fabsf(want[i]))) {
            print_error("output %zu: got %.9g want %.9g\n", i, got[i], want[i]);
            fail();
        }
    free(got);
    host_model_close(&hm);
}

/* ---- TFLite Micro kernel tests (tensorflow/lite/micro/kernels/conv_test.cc) ---- */

static const float tflm_input[16] = {1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 3, 4, 1, 2, 3, 4};
static const float tflm_filter[12] = {1, 2, 3, 4, -1, 1, -1, 1, -1, -1, 1, 1};
static const float tflm_bias[3] = {1, 2, 3};
static const float tflm_golden[12] = {18, 2, 5, 18, 2, 5, 17, 4, 3, 37, 4, 3};

/* conv_test.cc SimpleTestFloat: two batches, stride 2, VALID. */
static void tflm_simple_float(void **state)
{
    (void)state;
    conv_spec s = float_spec((int32_t[]){2, 2, 4, 1}, (int32_t[]){3, 2, 2, 1},
                             (int32_t[]){2, 1, 2, 3});
    s.padding = H_PAD_VALID;
    s.stride_h = s.stride_w = 2;
    s.has_bias = 1;
    s.filter_f = tflm_filter;
    s.bias_f = tflm_bias;
    expect_float(&s, tflm_input, tflm_golden, 0.0f);
}

/* conv_test.cc InputAndFilterSameWidthHeight. */
static void tflm_filter_covers_input(void **state)
{
    (void)state;
    static const float filter[8] = {1, 2, 3, 4, -1, -1, 1, 1};
    static const float bias[1] = {0};
    static const float golden[2] = {10, 34};
    conv_spec s = float_spec((int32_t[]){2, 2, 4, 1}, (int32_t[]){1, 2, 4, 1},
                             (int32_t[]){2, 1, 1, 1});
    s.padding = H_PAD_VALID;
    s.stride_h = s.stride_w = 2;
    s.has_bias = 1;
    s.filter_f = filter;
    s.bias_f = bias;
    expect_float(&s, tflm_input, golden, 0.0f);
}

/* Symmetric per-channel quantization as TFLM's test helpers do it: scale = max|w| / 127. */
static void quantize_filter_per_channel(const float *w, int32_t channels, int32_t per_channel,
                                        int channel_is_outer, int8_t *q, float *scales)
{
    for (int32_t c = 0; c < channels; c++) {
        float mx = 0.0f;
        for (int32_t i = 0; i < per_channel; i++) {
            size_t at = channel_is_outer ? (size_t)c * per_channel + i : (size_t)i * channels + c;
            mx = fmaxf(mx, fabsf(w[at]));
        }
        scales[c] = mx > 0.0f ? mx / 127.0f : 1.0f;
        for (int32_t i = 0; i < per_channel; i++) {
            size_t at = channel_is_outer ? (size_t)c * per_channel + i : (size_t)i * channels + c;
            q[at] = (int8_t)lroundf(w[at] / scales[c]);
        }
    }
}

typedef struct {
    const int32_t *in, *filter, *out;
    const float *input, *weights, *bias, *golden;
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
    int stride, dil_h, dil_w, padding, activation;
} tflm_q_case;

/*
 * The TFLM per-channel tests: quantize input, filter (per channel) and bias,
 * run, and compare with the quantized float golden within 1 (TFLM's own
 * tolerance for these tests).
 */
static void run_tflm_q_case(const tflm_q_case *c)
{
    conv_spec s;
    memset(&s, 0, sizeof s);
    s.op = OP_CONV;
    s.type = TMO_INT8;
    memcpy(s.in, c->in, sizeof s.in);
    memcpy(s.filter, c->filter, sizeof s.filter);
    memcpy(s.out, c->out, sizeof s.out);
    s.padding = c->padding;
    s.stride_h = s.stride_w = c->stride;
    s.dil_h = c->dil_h;
    s.dil_w = c->dil_w;
    s.activation = c->activation;
    s.in_scale = c->in_scale;
    s.out_scale = c->out_scale;
    s.in_zp = c->in_zp;
    s.out_zp = c->out_zp;
    s.filter_quant_dim = -1;
    int32_t oc = c->filter[0], per = c->filter[1] * c->filter[2] * c->filter[3];
    int8_t fq[64];
    float scales[8];
    int32_t bq[8];
    quantize_filter_per_channel(c->weights, oc, per, 1, fq, scales);
    for (int32_t i = 0; i < oc; i++)
        bq[i] = (int32_t)lroundf(c->bias[i] / (c->in_scale * scales[i]));
    s.filter_q = fq;
    s.filter_scales = scales;
    s.filter_scale_count = (uint32_t)oc;
    s.has_bias = 1;
    s.bias_q = bq;
    size_t n_in = h_count(s.in), n_out = h_count(s.out);
    int8_t in_q[64], got[64];
    for (size_t i = 0; i < n_in; i++)
        in_q[i] = (int8_t)fmax(-128, fmin(127, lround(c->input[i] / c->in_scale) + c->in_zp));
    host_model hm;
    char err[256];
    assert_int_equal(h_open(&s, &hm, err, sizeof err), TMO_OK);
    h_run(&hm, in_q, got);
    for (size_t i = 0; i < n_out; i++) {
        long want = lround(c->golden[i] / c->out_scale) + c->out_zp;
        want = want < -128 ? -128 : want > 127 ? 127 : want;
        if (labs(got[i] - want) > 1) {
            print_error("output %zu: got %d want %ld\n", i, got[i], want);
            fail();
        }
    }
    host_model_close(&hm);
}

/* conv_test.cc SimpleTestQuantizedPerChannel. */
static void tflm_per_channel(void **state)
{
    (void)state;
    tflm_q_case c = {(int32_t[]){2, 2, 4, 1}, (int32_t[]){3, 2, 2, 1}, (int32_t[]){2, 1, 2, 3},
                     tflm_input, tflm_filter, tflm_bias, tflm_golden, 0.5f, 1.0f, 0, 0, 2, 1, 1,
                     H_PAD_VALID, H_ACT_NONE};
    run_tflm_q_case(&c);
}

/* conv_test.cc SimpleTestQuantizedPerChannelRelu6: zero points -128. */
static void tflm_per_channel_relu6(void **state)
{
    (void)state;
    static const float bias[3] = {1, 2, -3};
    static const float golden[12] = {6, 2, 0, 6, 2, 0, 6, 4, 0, 6, 4, 0};
    tflm_q_case c = {(int32_t[]){2, 2, 4, 1}, (int32_t[]){3, 2, 2, 1}, (int32_t[]){2, 1, 2, 3},
                     tflm_input, tflm_filter, bias, golden, 0.023529f, 0.023529f, -128, -128, 2,
                     1, 1, H_PAD_VALID, H_ACT_RELU6};
    run_tflm_q_case(&c);
}

/* conv_test.cc SimpleTestDilatedQuantizedPerChannel: dilation 2 (height) x 3 (width). */
static void tflm_dilated(void **state)
{
    (void)state;
    static const float input[48] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4,
                                    1, 2, 3, 4, 5, 6, 2, 6, 2, 4, 4, 2, 3, 2, 6, 5, 1, 4, 1, 2, 1, 4, 6, 3};
    static const float golden[24] = {25, 2, 7, 25, 2, 7, 10, 2, -3, 10, 2, -3,
                                     39, 7, 6, 50, 3, 4, 14, 4, -5, 15, 0, -7};
    tflm_q_case c = {(int32_t[]){2, 4, 6, 1}, (int32_t[]){3, 2, 2, 1}, (int32_t[]){2, 2, 2, 3},
                     input, tflm_filter, tflm_bias, golden, 0.5f, 1.0f, 0, 0, 2, 2, 3,
                     H_PAD_VALID, H_ACT_NONE};
    run_tflm_q_case(&c);
}

/* conv_test.cc Kernel1x1QuantizedPerChannel and its Relu6 variant (zero points -128). */
static void tflm_kernel_1x1(void **state)
{
    (void)state;
    static const float golden[12] = {11, 2, 3, 21, 2, 3, 31, 4, 7, 31, 4, 7};
    tflm_q_case c = {(int32_t[]){1, 2, 2, 4}, (int32_t[]){3, 1, 1, 4}, (int32_t[]){1, 2, 2, 3},
                     tflm_input, tflm_filter, tflm_bias, golden, 0.5f, 1.0f, 0, 0, 1, 1, 1,
                     H_PAD_VALID, H_ACT_NONE};
    run_tflm_q_case(&c);
    static const float bias6[3] = {1, 2, -3};
    static const float golden6[12] = {6, 2, 0, 6, 2, 0, 6, 4, 1, 6, 4, 1};
    tflm_q_case c6 = {(int32_t[]){1, 2, 2, 4}, (int32_t[]){3, 1, 1, 4}, (int32_t[]){1, 2, 2, 3},
                      tflm_input, tflm_filter, bias6, golden6, 0.023529f, 0.023529f, -128, -128,
                      1, 1, 1, H_PAD_VALID, H_ACT_RELU6};
    run_tflm_q_case(&c6);
}

/*
 * conv_test.cc Int8Filter1x3x3x1ShouldMatchGolden{Even,Odd}InputPaddingSame
 * (data from kernels/testdata/conv_test_data.cc): exact int8 answers with
 * SAME padding that is asymmetric (4x4 input) and symmetric (5x5 input).
 */
static void tflm_int8_padding_same(void **state)
{
    (void)state;
    static const int8_t filter[9] = {22, -98, 78, -127, 101, 47, 87, 12, -15};
    static const int32_t bias[1] = {0};
    static const int8_t in4[16] = {-127, -111, -95, -79, -63, -47, -31, -15,
                                   1,    17,   33,  49,  65,  81,  97,  113};
    static const int8_t in5[25] = {-128, -111, -95, -79, -63, -47, -31, -15, 1,   17, 33,  49, 65,
                                   81,   97,   113, 127, 100, 80,  60,  40,  20, 0,  -20, -40};
    static const int8_t golden4[4] = {38, 24, 16, -58};
    static const int8_t golden5[9] = {-6, 25, 30, 58, 76, 7, 50, -11, -59};
    static const float fscale = 0.00448552053f;
    for (int odd = 0; odd <= 1; odd++) {
        int32_t n = odd ? 5 : 4, m = odd ? 3 : 2;
        conv_spec s;
        memset(&s, 0, sizeof s);
        s.op = OP_CONV;
        s.type = TMO_INT8;
        memcpy(s.in, (int32_t[]){1, n, n, 1}, sizeof s.in);
        memcpy(s.filter, (int32_t[]){1, 3, 3, 1}, sizeof s.filter);
        memcpy(s.out, (int32_t[]){1, m, m, 1}, sizeof s.out);
        s.padding = H_PAD_SAME;
        s.stride_h = s.stride_w = 2;
        s.dil_h = s.dil_w = 1;
        s.in_scale = 0.00392120517f;
        s.in_zp = -128;
        s.out_scale = 0.00627814838f;
        s.out_zp = -7;
        s.filter_q = filter;
        s.filter_scales = &fscale;
        s.filter_scale_count = 1;
        s.filter_quant_dim = -1;
        s.has_bias = 1;
        s.bias_q = bias;
        host_model hm;
        char err[256];
        int8_t got[9];
        assert_int_equal(h_open(&s, &hm, err, sizeof err), TMO_OK);
        h_run(&hm, odd ? in5 : in4, got);
        assert_memory_equal(got, odd ? golden5 : golden4, (size_t)(m * m));
        host_model_close(&hm);
    }
}

/* ---- hand-derived exact int8 cases ---- */

/* Unit scales: the requantization is exact, so outputs are integer sums plus the zero point. */
static conv_spec unit_spec(const int32_t in[4], const int32_t filter[4], const int32_t out[4],
                           const int8_t *w, const float *one)
{
    conv_spec s;
    memset(&s, 0, sizeof s);
    s.op = OP_CONV;
    s.type = TMO_INT8;
    memcpy(s.in, in, sizeof s.in);
    memcpy(s.filter, filter, sizeof s.filter);
    memcpy(s.out, out, sizeof s.out);
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    s.in_scale = s.out_scale = 1.0f;
    s.filter_q = w;
    s.filter_scales = one;
    s.filter_scale_count = 1;
    s.filter_quant_dim = -1;
    return s;
}

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
 * 3x3 box filter with SAME padding on a 3x3 image 1..9 stored with input
 * zero point 5: the padded taps must count as real zeros (value 5), not as
 * the integer 0. Box sums: 12 21 16 / 27 45 33 / 24 39 28; bias 10, output
 * zero point -3.
 */
static void exact_same_padding_with_zero_point(void **state)
{
    (void)state;
    static const int8_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    static const int32_t bias[1] = {10};
    static const float one = 1.0f;
    static const int8_t input[9] = {6, 7, 8, 9, 10, 11, 12, 13, 14};
    static const int8_t want[9] = {19, 28, 23, 34, 52, 40, 31, 46, 35};
    conv_spec s = unit_spec((int32_t[]){1, 3, 3, 1}, (int32_t[]){1, 3, 3, 1},
                            (int32_t[]){1, 3, 3, 1}, ones, &one);
    s.padding = H_PAD_SAME;
    s.in_zp = 5;
    s.out_zp = -3;
    s.has_bias = 1;
    s.bias_q = bias;
    run_exact(&s, input, want);
}

/*
 * Output scale 4 gives multiplier 0.25 = 2^30 * 2^-31 with shift -1: TFLite
 * rounds twice, first half up (x/2), then half away from zero (/2). So 5
 * becomes 3 then 2 (not round(1.25) = 1), -5 becomes -2 then -1, 7 becomes 4
 * then 2, -7 becomes -3 then -2, 1 becomes 1 then 1, -1 becomes 0.
 */
static void exact_double_rounding(void **state)
{
    (void)state;
    static const int8_t w[1] = {1};
    static const float one = 1.0f;
    static const int8_t input[10] = {6, -6, 2, -2, 5, -5, -7, 7, 1, -1};
    static const int8_t want[10] = {2, -2, 1, -1, 2, -1, -2, 2, 1, 0};
    conv_spec s = unit_spec((int32_t[]){1, 1, 10, 1}, (int32_t[]){1, 1, 1, 1},
                            (int32_t[]){1, 1, 10, 1}, w, &one);
    s.out_scale = 4.0f;
    run_exact(&s, input, want);
}

/* Fused activations clamp at the quantized 0, 6, -1 and 1 (output zero point 2). */
static void exact_activation_clamps(void **state)
{
    (void)state;
    static const int8_t w[1] = {1};
    static const float one = 1.0f;
    static const int8_t input[6] = {-10, -1, 0, 3, 6, 9};
    static const int8_t want[4][6] = {
        {-8, 1, 2, 5, 8, 11}, /* NONE */
        {2, 2, 2, 5, 8, 11},  /* RELU */
        {1, 1, 2, 3, 3, 3},   /* RELU_N1_TO_1 */
        {2, 2, 2, 5, 8, 8},   /* RELU6 */
    };
    for (int act = 0; act < 4; act++) {
        conv_spec s = unit_spec((int32_t[]){1, 2, 3, 1}, (int32_t[]){1, 1, 1, 1},
                                (int32_t[]){1, 2, 3, 1}, w, &one);
        s.out_zp = 2;
        s.activation = act;
        run_exact(&s, input, want[act]);
    }
}

/* Float activations: the same clamps on real values. */
static void float_activation_clamps(void **state)
{
    (void)state;
    static const float w[1] = {1};
    static const float input[6] = {-10, -0.5f, 0, 3, 6, 9};
    static const float want[4][6] = {
        {-10, -0.5f, 0, 3, 6, 9},
        {0, 0, 0, 3, 6, 9},
        {-1, -0.5f, 0, 1, 1, 1},
        {0, 0, 0, 3, 6, 6},
    };
    for (int act = 0; act < 4; act++) {
        conv_spec s = float_spec((int32_t[]){1, 2, 3, 1}, (int32_t[]){1, 1, 1, 1},
                                 (int32_t[]){1, 2, 3, 1});
        s.filter_f = w;
        s.activation = act;
        expect_float(&s, input, want[act], 0.0f);
    }
}

/*
 * Grouped convolution: 4 input channels, filters of depth 2, so output
 * channels 0-1 read input channels 0-1 and output channels 2-3 read 2-3.
 */
static void exact_groups(void **state)
{
    (void)state;
    static const int8_t w[8] = {1, 0, 0, 1, 1, 1, 1, -1};
    static const float one = 1.0f;
    static const int8_t input[8] = {1, 2, 3, 4, -5, 6, 7, 8};
    /* pixel 0: (1,2 | 3,4) -> 1, 2, 7, -1; pixel 1: (-5,6 | 7,8) -> -5, 6, 15, -1 */
    static const int8_t want[8] = {1, 2, 7, -1, -5, 6, 15, -1};
    conv_spec s = unit_spec((int32_t[]){1, 1, 2, 4}, (int32_t[]){4, 1, 1, 2},
                            (int32_t[]){1, 1, 2, 4}, w, &one);
    run_exact(&s, input, want);
}

/* ---- random shapes: double-precision expectations and opt == ref ---- */

typedef struct {
    conv_spec s;
    int8_t *filter_q;
    int32_t *bias_q;
    float *filter_f, *bias_f, *scales;
} random_case;

static void random_shape(uint64_t *rng, conv_spec *s)
{
    for (;;) {
        memset(s, 0, sizeof *s);
        s->op = OP_CONV;
        s->filter_quant_dim = -1;
        int32_t kc = h_range(rng, 1, 12);
        int32_t groups = h_range(rng, 0, 3) == 0 ? h_range(rng, 2, 3) : 1;
        int32_t in_c = kc * groups;
        int32_t oc = groups * h_range(rng, 1, 9);
        s->in[0] = h_range(rng, 1, 2);
        s->in[1] = h_range(rng, 1, 10);
        s->in[2] = h_range(rng, 1, 10);
        s->in[3] = in_c;
        int pointwise = h_range(rng, 0, 3) == 0;
        s->filter[0] = oc;
        s->filter[1] = pointwise ? 1 : h_range(rng, 1, 5);
        s->filter[2] = pointwise ? 1 : h_range(rng, 1, 5);
        s->filter[3] = kc;
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
        s->out[3] = oc;
        return;
    }
}

static void random_data(uint64_t *rng, random_case *c, int32_t type)
{
    conv_spec *s = &c->s;
    size_t nf = h_count(s->filter);
    int32_t oc = s->filter[0];
    s->type = type;
    c->filter_q = malloc(nf);
    c->filter_f = malloc(nf * sizeof(float));
    c->bias_q = malloc((size_t)oc * sizeof(int32_t));
    c->bias_f = malloc((size_t)oc * sizeof(float));
    c->scales = malloc((size_t)oc * sizeof(float));
    /* Half the cases hold -128 somewhere, which turns off the optimized narrow dot product. */
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
    /* Output scale near the typical accumulator size keeps outputs mostly unsaturated. */
    double depth = (double)s->filter[1] * s->filter[2] * s->filter[3];
    s->out_scale = (float)(s->in_scale * 60.0 * sqrt(depth) / 40.0);
}

static void free_case(random_case *c)
{
    free(c->filter_q);
    free(c->filter_f);
    free(c->bias_q);
    free(c->bias_f);
    free(c->scales);
}

/* One random case: the optimized result equals the reference bit for bit and the math within 1. */
static void check_random_case(uint64_t *rng, int32_t type)
{
    random_case c;
    random_shape(rng, &c.s);
    random_data(rng, &c, type);
    conv_spec *s = &c.s;
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
    size_t per_oc = nf / (size_t)oc;
    for (size_t i = 0; i < nf; i++) {
        size_t ch = i / per_oc;
        double sc = s->filter_scale_count > 1 ? s->filter_scales[ch] : s->filter_scales[0];
        rw[i] = type == TMO_INT8 ? s->filter_q[i] * sc : s->filter_f[i];
    }
    for (int32_t i = 0; i < oc; i++) {
        double sc = s->filter_scale_count > 1 ? s->filter_scales[i] : s->filter_scales[0];
        rb[i] = type == TMO_INT8 ? s->bias_q[i] * (double)s->in_scale * sc : s->bias_f[i];
    }
    h_expect(s, rin, rw, s->has_bias ? rb : NULL, rout);
    h_run(&hm, input, got);
    h_run_kernel(&hm, type == TMO_INT8 ? conv_s8_ref : conv_f32_ref, ref);
    if (memcmp(got, ref, n_out * esize) != 0) {
        print_error("optimized and reference differ: in %dx%dx%dx%d filter %dx%dx%dx%d stride %d,%d "
                    "dil %d,%d pad %d\n",
                    s->in[0], s->in[1], s->in[2], s->in[3], s->filter[0], s->filter[1],
                    s->filter[2], s->filter[3], s->stride_h, s->stride_w, s->dil_h, s->dil_w,
                    s->padding);
        fail();
    }
    double lo, hi;
    h_act_range(s->activation, &lo, &hi);
    for (size_t i = 0; i < n_out; i++) {
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
    free_case(&c);
}

static void random_int8_matches_math_and_reference(void **state)
{
    (void)state;
    uint64_t rng = 11;
    for (int i = 0; i < 300; i++)
        check_random_case(&rng, TMO_INT8);
}

static void random_float_matches_math_and_reference(void **state)
{
    (void)state;
    uint64_t rng = 12;
    for (int i = 0; i < 300; i++)
        check_random_case(&rng, TMO_FLOAT32);
}

/*
 * The shapes of the reference models' layers (pointwise, 3x3 with padding,
 * strided 1x1 shortcuts, 10x4 stride-2 first layer), optimized vs reference.
 */
static void model_shapes_match_reference(void **state)
{
    (void)state;
    static const int32_t shapes[][10] = {
        /* in h, w, c, out c, k_h, k_w, stride, padding */
        {32, 32, 3, 16, 3, 3, 1, H_PAD_SAME},  {16, 16, 16, 32, 3, 3, 2, H_PAD_SAME},
        {16, 16, 16, 32, 1, 1, 2, H_PAD_SAME}, {8, 8, 64, 64, 3, 3, 1, H_PAD_SAME},
        {49, 10, 1, 64, 10, 4, 2, H_PAD_SAME}, {25, 5, 64, 64, 1, 1, 1, H_PAD_SAME},
        {12, 12, 32, 64, 1, 1, 1, H_PAD_SAME}, {96, 96, 3, 8, 3, 3, 2, H_PAD_SAME},
        {28, 1, 40, 128, 1, 1, 1, H_PAD_VALID}, {6, 6, 128, 128, 1, 1, 1, H_PAD_SAME},
    };
    uint64_t rng = 5;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (int32_t type = 0; type < 2; type++) {
            const int32_t *d = shapes[k];
            random_case c;
            memset(&c, 0, sizeof c);
            conv_spec *s = &c.s;
            s->op = OP_CONV;
            s->filter_quant_dim = -1;
            memcpy(s->in, (int32_t[]){1, d[0], d[1], d[2]}, sizeof s->in);
            memcpy(s->filter, (int32_t[]){d[3], d[4], d[5], d[2]}, sizeof s->filter);
            s->stride_h = s->stride_w = d[6];
            s->dil_h = s->dil_w = 1;
            s->padding = d[7];
            s->activation = H_ACT_RELU;
            s->has_bias = 1;
            s->out[0] = 1;
            s->out[1] = h_out_size(s->padding, d[0], d[4], d[6], 1);
            s->out[2] = h_out_size(s->padding, d[1], d[5], d[6], 1);
            s->out[3] = d[3];
            random_data(&rng, &c, type == 0 ? TMO_INT8 : TMO_FLOAT32);
            size_t esize = type == 0 ? 1 : 4;
            size_t n_in = h_count(s->in), n_out = h_count(s->out);
            uint8_t *input = malloc(n_in * esize), *got = malloc(n_out * esize),
                    *ref = malloc(n_out * esize);
            for (size_t i = 0; i < n_in; i++) {
                if (type == 0) {
                    input[i] = (uint8_t)h_range(&rng, 0, 255);
                } else {
                    float v = h_uniform(&rng, -2.0f, 2.0f);
                    memcpy(input + 4 * i, &v, 4);
                }
            }
            host_model hm;
            char err[256];
            assert_int_equal(h_open(s, &hm, err, sizeof err), TMO_OK);
            h_run(&hm, input, got);
            h_run_kernel(&hm, type == 0 ? conv_s8_ref : conv_f32_ref, ref);
            assert_memory_equal(got, ref, n_out * esize);
            host_model_close(&hm);
            free(input);
            free(got);
            free(ref);
            free_case(&c);
        }
    }
}

/*
 * Extreme values: inputs at -128 and 127 against weights at +-127 (the
 * largest products the narrow dot product sums in 16 bits) and at -128, and
 * a reduction deep enough (2^17 taps of 128 * 127) that TFLM's int32
 * accumulator wraps: the optimized kernel must wrap identically.
 */
static void extreme_values_match_reference(void **state)
{
    (void)state;
    static const int32_t depths[3] = {64, 96, 1 << 17};
    for (int v = 0; v < 6; v++) {
        int32_t depth = depths[v % 3];
        int8_t *w = malloc((size_t)depth * 4);
        int8_t *input = malloc((size_t)depth * 2);
        for (int32_t i = 0; i < depth * 4; i++)
            w[i] = (int8_t)(v < 3 ? ((i & 1) ? 127 : -127) : ((i % 3) ? -128 : 127));
        for (int32_t i = 0; i < depth * 2; i++)
            input[i] = (int8_t)((i % 4) < 2 ? -128 : 127);
        if (v == 2) { /* every product (-128 - 3) * -127: the int32 sum passes 2^31 */
            memset(w, -127, (size_t)depth * 4);
            memset(input, -128, (size_t)depth * 2);
        }
        static const float scale = 1.0f;
        conv_spec s = unit_spec((int32_t[]){1, 1, 2, depth}, (int32_t[]){4, 1, 1, depth},
                                (int32_t[]){1, 1, 2, 4}, w, &scale);
        s.out_scale = 65536.0f;
        s.in_zp = 3;
        host_model hm;
        char err[256];
        int8_t got[8], ref[8];
        assert_int_equal(h_open(&s, &hm, err, sizeof err), TMO_OK);
        h_run(&hm, input, got);
        h_run_kernel(&hm, conv_s8_ref, ref);
        assert_memory_equal(got, ref, sizeof got);
        host_model_close(&hm);
        free(w);
        free(input);
    }
}

/*
 * Float filters the four-pixel path must not take: an infinite and a NaN
 * weight (0 * inf would turn padded taps into NaN; the reference never
 * multiplies them) and windows too deep for its scratch. Bit-exact with the
 * reference, NaN payloads included.
 */
static void float_general_path_matches_reference(void **state)
{
    (void)state;
    static const int32_t shapes[2][4] = {{5, 5, 3, 4}, {4, 4, 160, 3}}; /* h, w, in c, out c */
    uint64_t rng = 31;
    for (int k = 0; k < 2; k++) {
        const int32_t *d = shapes[k];
        conv_spec s = float_spec((int32_t[]){1, d[0], d[1], d[2]}, (int32_t[]){d[3], 3, 3, d[2]},
                                 (int32_t[]){1, d[0], d[1], d[3]});
        s.padding = H_PAD_SAME;
        size_t nf = h_count(s.filter), n_in = h_count(s.in), n_out = h_count(s.out);
        float *w = malloc(nf * sizeof(float)), *input = malloc(n_in * sizeof(float));
        float *got = malloc(n_out * sizeof(float)), *ref = malloc(n_out * sizeof(float));
        for (size_t i = 0; i < nf; i++)
            w[i] = h_uniform(&rng, -1.0f, 1.0f);
        for (size_t i = 0; i < n_in; i++)
            input[i] = h_uniform(&rng, -1.0f, 1.0f);
        if (k == 0) {
            w[4] = INFINITY; /* filter 0, tap (0, 1), channel 1 */
            w[nf - 1] = NAN;
        }
        s.filter_f = w;
        host_model hm;
        char err[256];
        assert_int_equal(h_open(&s, &hm, err, sizeof err), TMO_OK);
        h_run(&hm, input, got);
        h_run_kernel(&hm, conv_f32_ref, ref);
        assert_memory_equal(got, ref, n_out * sizeof(float));
        if (k == 0) /* pixel (0, 0): the infinite tap (row -1) lies in the padding, so skipped */
            assert_true(isfinite(got[0]));
        host_model_close(&hm);
        free(w);
        free(input);
        free(got);
        free(ref);
    }
}

/* ---- errors at prepare ---- */

static tmo_err open_error(conv_spec *s, char *err, size_t len)
{
    host_model hm;
    tmo_err e = h_open(s, &hm, err, len);
    if (e == TMO_OK)
        host_model_close(&hm);
    return e;
}

static conv_spec small_int8(void)
{
    static const int8_t w[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const float scales[2] = {0.5f, 0.25f};
    conv_spec s;
    memset(&s, 0, sizeof s);
    s.op = OP_CONV;
    s.type = TMO_INT8;
    memcpy(s.in, (int32_t[]){1, 3, 3, 2}, sizeof s.in);
    memcpy(s.filter, (int32_t[]){2, 2, 1, 2}, sizeof s.filter);
    memcpy(s.out, (int32_t[]){1, 2, 3, 2}, sizeof s.out);
    s.padding = H_PAD_VALID;
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    s.in_scale = s.out_scale = 1.0f;
    s.filter_q = w;
    s.filter_scales = scales;
    s.filter_scale_count = 2;
    s.filter_quant_dim = -1;
    return s;
}

static void hybrid_is_unsupported(void **state)
{
    (void)state;
    conv_spec s = small_int8();
    s.type = TMO_FLOAT32;
    s.filter_type = TMO_INT8;
    char err[256];
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EUNSUPPORTED);
    assert_non_null(strstr(err, "hybrid"));
    assert_non_null(strstr(err, "CONV_2D"));
}

/* The MLPerf KWS float model is hybrid (TFLM refuses it too); loading must say so. */
static void hybrid_reference_model_is_unsupported(void **state)
{
    (void)state;
    const char *dir = getenv("TINYMLOPS_REF");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/kws_dscnn_fp32.tflite", dir ? dir : TMO_REF_DIR);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        skip();
        return;
    }
    fclose(f);
    host_model hm;
    char err[512];
    assert_int_equal(host_model_open(&hm, path, err, sizeof err), TMO_EUNSUPPORTED);
    assert_non_null(strstr(err, "hybrid"));
}

static void shape_errors(void **state)
{
    (void)state;
    char err[256];
    conv_spec s = small_int8();
    assert_int_equal(open_error(&s, err, sizeof err), TMO_OK);

    s = small_int8();
    s.in[3] = 3; /* not a multiple of the filter depth 2 */
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.stride_h = 0;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);
    assert_non_null(strstr(err, "stride_h"));

    s = small_int8();
    s.dil_w = -1;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.padding = 2;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.has_bias = 1;
    s.bias_q = (const int32_t[]){1, 2, 3};
    s.filter[0] = 3; /* three filters, two output channels */
    s.filter_scale_count = 1;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.stride_w = 1 << 30; /* window positions beyond int32 index arithmetic */
    s.out[2] = 3;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EUNSUPPORTED);

    s = small_int8();
    s.filter_quant_dim = 3; /* per-channel scales must run along output channels */
    s.filter[3] = 2;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EBADMODEL);

    s = small_int8();
    s.activation = 4; /* TANH is not a fused activation of CONV_2D */
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EUNSUPPORTED);

    s = small_int8();
    s.type = TMO_INT16;
    s.filter_type = TMO_INT8;
    assert_int_equal(open_error(&s, err, sizeof err), TMO_EUNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tflm_simple_float),
        cmocka_unit_test(tflm_filter_covers_input),
        cmocka_unit_test(tflm_per_channel),
        cmocka_unit_test(tflm_per_channel_relu6),
        cmocka_unit_test(tflm_dilated),
        cmocka_unit_test(tflm_kernel_1x1),
        cmocka_unit_test(tflm_int8_padding_same),
        cmocka_unit_test(exact_same_padding_with_zero_point),
        cmocka_unit_test(exact_double_rounding),
        cmocka_unit_test(exact_activation_clamps),
        cmocka_unit_test(float_activation_clamps),
        cmocka_unit_test(exact_groups),
        cmocka_unit_test(random_int8_matches_math_and_reference),
        cmocka_unit_test(random_float_matches_math_and_reference),
        cmocka_unit_test(model_shapes_match_reference),
        cmocka_unit_test(extreme_values_match_reference),
        cmocka_unit_test(float_general_path_matches_reference),
        cmocka_unit_test(hybrid_is_unsupported),
        cmocka_unit_test(hybrid_reference_model_is_unsupported),
        cmocka_unit_test(shape_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
