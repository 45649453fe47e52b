/*
 * AVERAGE_POOL_2D and MAX_POOL_2D through the interpreter: known answers
 * from TFLite Micro's tensorflow/lite/micro/kernels/pooling_test.cc, and
 * random shapes, strides, filters and paddings against an independent
 * window-by-window model in this file (int8 average = the exact mean rounded
 * half away from zero; float average within 1e-5 relative of a double sum).
 */
#include <math.h>

#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { AVG = 1, MAX = 17 };
enum { SAME = 0, VALID = 1 };
enum { NONE = 0, RELU = 1, RELU_N1 = 2, RELU6 = 3, TANH = 4 };

typedef struct pool_case {
    int32_t in[4]; /* NHWC */
    int padding, stride_h, stride_w, filter_h, filter_w, act;
} pool_case;

static tw_options pool_options(const pool_case *c)
{
    tw_options o = {OPTIONS_POOL2D_OPTIONS,
                    6,
                    {tw_u8(0, c->padding), tw_i32(1, c->stride_w), tw_i32(2, c->stride_h),
                     tw_i32(3, c->filter_w), tw_i32(4, c->filter_h), tw_u8(5, c->act)}};
    return o;
}

static int32_t out_size(int padding, int32_t in, int32_t filter, int32_t stride)
{
    return padding == SAME ? (in + stride - 1) / stride : (in - filter + stride) / stride;
}

/* TensorFlow's SAME padding: half of the total, rounded down, goes before. */
static int32_t pad_before(int padding, int32_t in, int32_t filter, int32_t stride, int32_t out)
{
    int32_t total = (out - 1) * stride + filter - in;
    return padding == SAME && total > 0 ? total / 2 : 0;
}

static void out_shape(const pool_case *c, int32_t *out)
{
    out[0] = c->in[0];
    out[1] = out_size(c->padding, c->in[1], c->filter_h, c->stride_h);
    out[2] = out_size(c->padding, c->in[2], c->filter_w, c->stride_w);
    out[3] = c->in[3];
}

/* Independent model: visits the filter window, skipping taps outside the input. */
static void model_pool(const pool_case *c, int is_max, const double *in, double *out)
{
    int32_t o[4];
    out_shape(c, o);
    int32_t ph = pad_before(c->padding, c->in[1], c->filter_h, c->stride_h, o[1]);
    int32_t pw = pad_before(c->padding, c->in[2], c->filter_w, c->stride_w, o[2]);
    size_t k = 0;
    for (int32_t b = 0; b < o[0]; b++)
        for (int32_t y = 0; y < o[1]; y++)
            for (int32_t x = 0; x < o[2]; x++)
                for (int32_t ch = 0; ch < o[3]; ch++) {
                    double acc = is_max ? -INFINITY : 0.0;
                    int n = 0;
                    for (int32_t fy = 0; fy < c->filter_h; fy++)
                        for (int32_t fx = 0; fx < c->filter_w; fx++) {
                            int32_t iy = y * c->stride_h - ph + fy, ix = x * c->stride_w - pw + fx;
                            if (iy < 0 || iy >= c->in[1] || ix < 0 || ix >= c->in[2])
                                continue;
                            double v = in[((b * c->in[1] + iy) * c->in[2] + ix) * c->in[3] + ch];
                            acc = is_max ? fmax(acc, v) : acc + v;
                            n++;
                        }
                    out[k++] = is_max ? acc : acc / n;
                }
}

static size_t count4(const int32_t *d)
{
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

static void run_s8(int32_t op, const pool_case *c, float scale, int32_t zp, const int8_t *in,
                   int8_t *out)
{
    int32_t o[4];
    out_shape(c, o);
    mop_tensor ti = mop_s8(4, c->in, scale, zp), to = mop_s8(4, o, scale, zp);
    tw_options opts = pool_options(c);
    mop_run1(op, &ti, 1, &to, &opts, in, count4(c->in), out, count4(o));
}

static void run_f32(int32_t op, const pool_case *c, const float *in, float *out)
{
    int32_t o[4];
    out_shape(c, o);
    mop_tensor ti = mop_f32(4, c->in), to = mop_f32(4, o);
    tw_options opts = pool_options(c);
    mop_run1(op, &ti, 1, &to, &opts, in, 4 * count4(c->in), out, 4 * count4(o));
}

/* pooling_test.cc: SimpleAveragePoolTestFloat, SimpleMaxPoolTest* (float). */
static void tflm_float_known_answers(void **state)
{
    (void)state;
    const float in[8] = {0, 6, 2, 4, 3, 2, 10, 7};
    float out[8];
    pool_case c = {{1, 2, 4, 1}, VALID, 2, 2, 2, 2, NONE};
    run_f32(AVG, &c, in, out);
    assert_true(out[0] == 2.75f && out[1] == 5.75f);
    run_f32(MAX, &c, in, out);
    assert_true(out[0] == 6.0f && out[1] == 10.0f);

    const float relu_in[8] = {-1, -6, 2, 4, -3, -2, 10.5f, 7};
    c.act = RELU;
    run_f32(MAX, &c, relu_in, out);
    assert_true(out[0] == 0.0f && out[1] == 10.5f);

    const float n1_in[8] = {-2.75f, -6, 0.2f, 0.4f, -3, -2, -0.3f, 0.7f};
    c.act = RELU_N1;
    run_f32(MAX, &c, n1_in, out);
    assert_true(out[0] == -1.0f && out[1] == 0.7f);

    const float r6_in[8] = {-1.5f, -6, 12, 4, -3, -2, 10, 7};
    c.act = RELU6;
    run_f32(MAX, &c, r6_in, out);
    assert_true(out[0] == 0.0f && out[1] == 6.0f);

    pool_case same = {{1, 2, 4, 1}, SAME, 1, 1, 2, 2, NONE};
    const float want_same[8] = {6, 10, 10, 7, 3, 10, 10, 7};
    run_f32(MAX, &same, in, out);
    for (int i = 0; i < 8; i++)
        assert_true(out[i] == want_same[i]);
    pool_case valid1 = {{1, 2, 4, 1}, VALID, 1, 1, 2, 2, NONE};
    run_f32(MAX, &valid1, in, out);
    assert_true(out[0] == 6.0f && out[1] == 10.0f && out[2] == 10.0f);
}

/*
 * pooling_test.cc: SimpleAveragePoolTestInt8*. The first case checks the
 * negative rounding: (0 - 24 + 12 + 8) / 4 = -1 exactly by TFLM's rule.
 * TFLM's "PaddingSameStride1" case declares VALID with a 2x4 output; its
 * padding is 0 either way, so it is run here as SAME (this runtime insists
 * the declared output matches the padding mode).
 */
static void tflm_int8_average_known_answers(void **state)
{
    (void)state;
    const int8_t in[8] = {0, -24, 8, 16, 12, 8, -40, 28};
    int8_t out[8];
    pool_case c = {{1, 2, 4, 1}, VALID, 2, 2, 2, 2, NONE};
    run_s8(AVG, &c, 0.25f, 0, in, out);
    assert_int_equal(out[0], -1);
    assert_int_equal(out[1], 3);

    pool_case relu = {{1, 2, 4, 1}, VALID, 2, 1, 2, 2, RELU};
    run_s8(AVG, &relu, 0.25f, 0, in, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 3);

    pool_case n1 = {{1, 2, 4, 1}, VALID, 1, 2, 2, 2, RELU_N1};
    run_s8(AVG, &n1, 0.25f, 0, in, out);
    assert_int_equal(out[0], -1);
    assert_int_equal(out[1], 3);

    const int8_t in6[8] = {12, -24, 32, 16, 12, 8, 40, 28};
    pool_case r6 = {{1, 2, 4, 1}, VALID, 2, 2, 2, 2, RELU6};
    run_s8(AVG, &r6, 0.25f, 0, in6, out);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 24);

    pool_case same = {{1, 2, 4, 1}, SAME, 1, 1, 2, 2, NONE};
    const int8_t want[8] = {2, 14, 29, 22, 10, 24, 34, 28};
    run_s8(AVG, &same, 0.25f, 0, in6, out);
    assert_memory_equal(out, want, 8);
}

/* pooling_test.cc: SimpleMaxPoolTestInt8ActNone, MaxPoolTestInt8Act*. */
static void tflm_int8_max_known_answers(void **state)
{
    (void)state;
    int8_t out[2];
    pool_case c = {{1, 2, 4, 1}, VALID, 2, 2, 2, 2, NONE};
    const int8_t a[8] = {0, 6, 2, 4, 3, 2, 10, 7};
    run_s8(MAX, &c, 1.0f, 0, a, out);
    assert_int_equal(out[0], 6);
    assert_int_equal(out[1], 10);
    c.act = RELU;
    const int8_t b[8] = {-3, -12, 4, 8, -6, -4, 20, 14};
    run_s8(MAX, &c, 0.5f, 0, b, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 20);
    c.act = RELU_N1;
    const int8_t d[8] = {-2, -6, -2, -4, -3, -2, 10, 7};
    run_s8(MAX, &c, 1.0f, 0, d, out);
    assert_int_equal(out[0], -1);
    assert_int_equal(out[1], 1);
    c.act = RELU6;
    const int8_t e[8] = {0, -6, 12, 4, -3, -2, 10, 7};
    run_s8(MAX, &c, 1.0f, 0, e, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 6);
}

/* Hand-derived: 3x3 SAME stride 1 on a 3x3 ramp; corners average 4 taps, edges 6, centre 9. */
static void same_padding_clips_the_window_at_borders(void **state)
{
    (void)state;
    const int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    /* corners: (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4, (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7 */
    /* edges: (1+2+3+4+5+6)/6 = 3.5 -> 4, (1+2+4+5+7+8)/6 = 4.5 -> 5, ... centre 45/9 = 5 */
    const int8_t want[9] = {3, 4, 4, 5, 5, 6, 6, 7, 7};
    int8_t out[9];
    pool_case c = {{1, 3, 3, 1}, SAME, 1, 1, 3, 3, NONE};
    run_s8(AVG, &c, 0.1f, 0, in, out);
    assert_memory_equal(out, want, 9);
    /* Max over the same windows; the padding never contributes, even for negative data. */
    const int8_t neg[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
    const int8_t want_max[9] = {-5, -4, -4, -2, -1, -1, -2, -1, -1};
    run_s8(MAX, &c, 0.1f, 0, neg, out);
    assert_memory_equal(out, want_max, 9);
}

static void random_case(uint32_t *rng, pool_case *c)
{
    c->in[0] = 1 + (int32_t)(mop_rand(rng) % 2);
    c->in[1] = 1 + (int32_t)(mop_rand(rng) % 9);
    c->in[2] = 1 + (int32_t)(mop_rand(rng) % 9);
    c->in[3] = 1 + (int32_t)(mop_rand(rng) % 5);
    c->padding = (int)(mop_rand(rng) % 2);
    c->stride_h = 1 + (int)(mop_rand(rng) % 3);
    c->stride_w = 1 + (int)(mop_rand(rng) % 3);
    c->filter_h = 1 + (int)(mop_rand(rng) % 4);
    c->filter_w = 1 + (int)(mop_rand(rng) % 4);
    c->act = NONE;
    if (c->padding == VALID) { /* keep at least one output pixel */
        if (c->filter_h > c->in[1])
            c->filter_h = c->in[1];
        if (c->filter_w > c->in[2])
            c->filter_w = c->in[2];
    }
}

static void random_int8_against_model(void **state)
{
    (void)state;
    uint32_t rng = 12345;
    for (int iter = 0; iter < 300; iter++) {
        pool_case c;
        random_case(&rng, &c);
        int32_t o[4];
        out_shape(&c, o);
        size_t n_in = count4(c.in), n_out = count4(o);
        int8_t *in = malloc(n_in), *out = malloc(n_out);
        double *din = malloc(sizeof(double) * n_in), *want = malloc(sizeof(double) * n_out);
        for (size_t i = 0; i < n_in; i++) {
            in[i] = (int8_t)mop_rand(&rng);
            din[i] = in[i];
        }
        for (int is_max = 0; is_max < 2; is_max++) {
            run_s8(is_max ? MAX : AVG, &c, 0.05f, 3, in, out);
            model_pool(&c, is_max, din, want);
            for (size_t i = 0; i < n_out; i++)
                assert_int_equal(out[i], (int8_t)llround(want[i])); /* llround: half away */
        }
        free(in), free(out), free(din), free(want);
    }
}

static void random_float_against_model(void **state)
{
    (void)state;
    uint32_t rng = 777;
    for (int iter = 0; iter < 300; iter++) {
        pool_case c;
        random_case(&rng, &c);
        c.act = (int)(mop_rand(&rng) % 4);
        int32_t o[4];
        out_shape(&c, o);
        size_t n_in = count4(c.in), n_out = count4(o);
        float *in = malloc(4 * n_in), *out = malloc(4 * n_out);
        double *din = malloc(sizeof(double) * n_in), *want = malloc(sizeof(double) * n_out);
        for (size_t i = 0; i < n_in; i++) {
            in[i] = (float)((int32_t)(mop_rand(&rng) % 20001) - 10000) / 1000.0f;
            din[i] = in[i];
        }
        double lo = c.act == NONE ? -INFINITY : c.act == RELU_N1 ? -1.0 : 0.0;
        double hi = c.act == RELU6 ? 6.0 : c.act == RELU_N1 ? 1.0 : INFINITY;
        for (int is_max = 0; is_max < 2; is_max++) {
            run_f32(is_max ? MAX : AVG, &c, in, out);
            model_pool(&c, is_max, din, want);
            for (size_t i = 0; i < n_out; i++) {
                double w = fmin(fmax(want[i], lo), hi);
                assert_true(fabs(out[i] - w) <= 1e-4); /* float sums of <= 16 taps of |x| <= 10 */
            }
        }
        free(in), free(out), free(din), free(want);
    }
}

static void expect_error(pool_case c, const int32_t *out_dims, tmo_err err, const char *field)
{
    int32_t o[4];
    if (out_dims != NULL)
        memcpy(o, out_dims, sizeof o);
    else
        out_shape(&c, o);
    mop_tensor ti = mop_s8(4, c.in, 0.5f, 0), to = mop_s8(4, o, 0.5f, 0);
    tw_options opts = pool_options(&c);
    mop_expect_error(AVG, &ti, 1, &to, &opts, err, field);
}

static void errors_name_the_field(void **state)
{
    (void)state;
    pool_case ok = {{1, 4, 4, 2}, VALID, 2, 2, 2, 2, NONE};
    pool_case c = ok;
    c.stride_w = 0;
    int32_t o[4] = {1, 2, 2, 2};
    expect_error(c, o, TMO_EBADMODEL, "stride_w");
    c = ok, c.stride_h = -1;
    expect_error(c, o, TMO_EBADMODEL, "stride_h");
    c = ok, c.filter_h = 0;
    expect_error(c, o, TMO_EBADMODEL, "filter_height");
    c = ok, c.padding = 2;
    expect_error(c, o, TMO_EBADMODEL, "padding");
    c = ok;
    const int32_t wrong_h[4] = {1, 3, 2, 2};
    expect_error(c, wrong_h, TMO_EBADMODEL, "output.height");
    const int32_t wrong_w[4] = {1, 2, 1, 2};
    expect_error(c, wrong_w, TMO_EBADMODEL, "output.width");
    c.act = TANH;
    expect_error(c, NULL, TMO_EUNSUPPORTED, "fused_activation_function");

    /* int8 input and output must share quantization (TFLM PoolingPrepare). */
    mop_tensor ti = mop_s8(4, ok.in, 0.5f, 0), to = mop_s8(4, o, 0.25f, 0);
    tw_options opts = pool_options(&ok);
    mop_expect_error(AVG, &ti, 1, &to, &opts, TMO_EBADMODEL, "output.quantization.scale");
    to = mop_s8(4, o, 0.5f, 1);
    mop_expect_error(MAX, &ti, 1, &to, &opts, TMO_EBADMODEL, "output.quantization.zero_point");

    /* Rank and type. */
    const int32_t three[3] = {4, 4, 2};
    ti = mop_s8(3, three, 0.5f, 0);
    to = mop_s8(4, o, 0.5f, 0);
    mop_expect_error(AVG, &ti, 1, &to, &opts, TMO_EBADMODEL, "input");
    ti = mop_f32(4, ok.in);
    ti.type = 2; /* INT32 */
    to = mop_f32(4, o);
    to.type = 2;
    mop_expect_error(MAX, &ti, 1, &to, &opts, TMO_EUNSUPPORTED, "input");
    ti = mop_f32(4, ok.in);
    to = mop_s8(4, o, 0.5f, 0);
    mop_expect_error(MAX, &ti, 1, &to, &opts, TMO_EBADMODEL, "output");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tflm_float_known_answers),
        cmocka_unit_test(tflm_int8_average_known_answers),
        cmocka_unit_test(tflm_int8_max_known_answers),
        cmocka_unit_test(same_padding_clips_the_window_at_borders),
        cmocka_unit_test(random_int8_against_model),
        cmocka_unit_test(random_float_against_model),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
