/*
 * SOFTMAX through the interpreter. Expectations:
 *  - known answers of TFLite Micro's tensorflow/lite/micro/kernels/softmax_test.cc
 *    (float within 1e-5; int8 within 1 step of the quantized golden, the
 *    tolerance that test uses);
 *  - softmax computed in double in this file: float within 1e-6 + 1e-5
 *    relative, int8 within one output step (1/256) for random rows, scales
 *    and betas;
 *  - hand-derived int8 values: equal inputs give exactly 1/N, a dominant
 *    input saturates to 127 and the rest to -128.
 * The int8 bit-exactness with TFLM is established by the golden test (every
 * int8 reference model ends in this softmax).
 */
#include <math.h>

#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { SOFTMAX = 25 };

static tw_options beta_options(float beta)
{
    tw_options o = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, beta)}};
    return o;
}

static void run_f32(uint32_t ndim, const int32_t *dims, float beta, const float *in, float *out,
                    size_t n)
{
    mop_tensor t = mop_f32(ndim, dims);
    tw_options o = beta_options(beta);
    mop_run1(SOFTMAX, &t, 1, &t, &o, in, 4 * n, out, 4 * n);
}

static void run_s8(uint32_t ndim, const int32_t *dims, float scale, int32_t zp, float beta,
                   const int8_t *in, int8_t *out, size_t n)
{
    mop_tensor ti = mop_s8(ndim, dims, scale, zp), to = mop_s8(ndim, dims, 1.0f / 256, -128);
    tw_options o = beta_options(beta);
    mop_run1(SOFTMAX, &ti, 1, &to, &o, in, n, out, n);
}

/* Softmax of each row of `depth` values, in double. */
static void model_softmax(const double *x, double beta, size_t rows, size_t depth, double *y)
{
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * depth;
        double max = xr[0], sum = 0.0;
        for (size_t c = 1; c < depth; c++)
            max = fmax(max, xr[c]);
        for (size_t c = 0; c < depth; c++)
            sum += exp((xr[c] - max) * beta);
        for (size_t c = 0; c < depth; c++)
            y[r * depth + c] = exp((xr[c] - max) * beta) / sum;
    }
}

/* softmax_test.cc: 1-D and 2-D data, golden_1d / golden_2d. */
static const float tflm_in[10] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
static const float tflm_golden[10] = {0.011656231f, 0.031684921f, 0.086128544f, 0.234121657f,
                                      0.636408647f, 0.636408647f, 0.234121657f, 0.086128544f,
                                      0.031684921f, 0.011656231f};

static void tflm_float_known_answers(void **state)
{
    (void)state;
    float out[10];
    const int32_t d1[2] = {1, 5}, d2[2] = {2, 5};
    run_f32(2, d1, 1.0f, tflm_in, out, 5);
    for (int i = 0; i < 5; i++)
        assert_true(fabsf(out[i] - tflm_golden[i]) <= 1e-5f);
    run_f32(2, d2, 1.0f, tflm_in, out, 10);
    for (int i = 0; i < 10; i++)
        assert_true(fabsf(out[i] - tflm_golden[i]) <= 1e-5f);
}

/* softmax_test.cc: Softmax{1D,2D}QuantizedInt8ShouldMatchGolden (input scale 0.1, zero point 0). */
static void tflm_int8_known_answers(void **state)
{
    (void)state;
    int8_t in[10], out[10];
    for (int i = 0; i < 10; i++)
        in[i] = mop_quantize(tflm_in[i], 0.1f, 0);
    const int32_t d2[2] = {2, 5};
    run_s8(2, d2, 0.1f, 0, 1.0f, in, out, 10);
    for (int i = 0; i < 10; i++) {
        int want = mop_quantize(tflm_golden[i], 1.0f / 256, -128);
        assert_true(abs(out[i] - want) <= 1);
    }
}

static void float_random_rows_and_beta(void **state)
{
    (void)state;
    uint32_t rng = 99;
    const float betas[4] = {1.0f, 0.5f, 2.0f, 0.0f};
    for (int iter = 0; iter < 200; iter++) {
        int32_t dims[3] = {1 + (int32_t)(mop_rand(&rng) % 3), 1 + (int32_t)(mop_rand(&rng) % 4),
                           1 + (int32_t)(mop_rand(&rng) % 40)};
        size_t n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
        float beta = betas[iter % 4];
        float *in = malloc(4 * n), *out = malloc(4 * n);
        double *din = malloc(8 * n), *want = malloc(8 * n);
        for (size_t i = 0; i < n; i++)
            din[i] = in[i] = (float)((int32_t)(mop_rand(&rng) % 4001) - 2000) / 100.0f;
        run_f32(3, dims, beta, in, out, n);
        model_softmax(din, beta, n / (size_t)dims[2], (size_t)dims[2], want);
        for (size_t i = 0; i < n; i++)
            assert_true(fabs(out[i] - want[i]) <= 1e-6 + 1e-5 * want[i]);
        free(in), free(out), free(din), free(want);
    }
}

static void int8_random_within_one_step(void **state)
{
    (void)state;
    uint32_t rng = 4242;
    const float scales[4] = {0.1f, 0.0625f, 0.02f, 0.3f};
    const float betas[3] = {1.0f, 0.5f, 1.7f};
    for (int iter = 0; iter < 300; iter++) {
        int32_t dims[2] = {1 + (int32_t)(mop_rand(&rng) % 4), 1 + (int32_t)(mop_rand(&rng) % 50)};
        size_t n = (size_t)dims[0] * (size_t)dims[1];
        float scale = scales[iter % 4], beta = betas[iter % 3];
        int32_t zp = (int32_t)(mop_rand(&rng) % 21) - 10;
        int8_t *in = malloc(n), *out = malloc(n);
        double *real = malloc(8 * n), *want = malloc(8 * n);
        for (size_t i = 0; i < n; i++) {
            in[i] = (int8_t)mop_rand(&rng);
            real[i] = (double)scale * (in[i] - zp);
        }
        run_s8(2, dims, scale, zp, beta, in, out, n);
        model_softmax(real, beta, (size_t)dims[0], (size_t)dims[1], want);
        for (size_t i = 0; i < n; i++)
            assert_true(abs(out[i] - mop_quantize(want[i], 1.0f / 256, -128)) <= 1);
        free(in), free(out), free(real), free(want);
    }
}

/*
 * Equal inputs: every exp() is exactly 1, the sum exactly N, and for N a
 * power of two the reciprocal's normalization is exact, so each output is
 * 256/N - 128: N=1 saturates at 127, N=2 gives 0, N=4 -64, N=8 -96, N=256 -127.
 */
static void int8_equal_inputs_are_exact(void **state)
{
    (void)state;
    const struct {
        int32_t n;
        int8_t want;
    } cases[] = {{1, 127}, {2, 0}, {4, -64}, {8, -96}, {16, -112}, {256, -127}};
    int8_t in[256], out[256];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int32_t dims[2] = {1, cases[k].n};
        for (int v = -128; v <= 127; v += 51) {
            memset(in, v, sizeof in);
            run_s8(2, dims, 0.05f, 0, 1.0f, in, out, (size_t)cases[k].n);
            for (int32_t i = 0; i < cases[k].n; i++)
                assert_int_equal(out[i], cases[k].want);
        }
    }
}

/* One input far above the rest: its probability rounds to 1 (saturating at 127), the others to 0. */
static void int8_dominant_input_saturates(void **state)
{
    (void)state;
    const int32_t dims[2] = {2, 4};
    const int8_t in[8] = {127, -128, -100, 0, -128, -128, 127, -128};
    const int8_t want[8] = {127, -128, -128, -128, -128, -128, 127, -128};
    int8_t out[8];
    run_s8(2, dims, 0.5f, 0, 1.0f, in, out, 8); /* differences of >= 63.5: exp < 1e-27 */
    assert_memory_equal(out, want, 8);
}

/* Rows of 512+ near-equal values make TFLM abort (its final shift exceeds 31); here they give 0. */
static void int8_long_equal_row_is_defined(void **state)
{
    (void)state;
    enum { N = 1024 };
    const int32_t dims[2] = {1, N};
    int8_t in[N], out[N];
    memset(in, 5, sizeof in);
    run_s8(2, dims, 0.1f, 0, 1.0f, in, out, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(out[i], -128); /* 1/1024 = 0.25 steps of 1/256: rounds to 0 */
}

static void errors_name_the_field(void **state)
{
    (void)state;
    const int32_t dims[2] = {1, 4}, other[2] = {1, 5};
    tw_options o = beta_options(1.0f);
    mop_tensor in = mop_s8(2, dims, 0.1f, 0);
    mop_tensor out = mop_s8(2, dims, 1.0f / 256, -127);
    mop_expect_error(SOFTMAX, &in, 1, &out, &o, TMO_EUNSUPPORTED, "output.quantization.zero_point");
    out = mop_s8(2, dims, 1.0f / 255, -128);
    mop_expect_error(SOFTMAX, &in, 1, &out, &o, TMO_EUNSUPPORTED, "output.quantization.scale");
    out = mop_s8(2, dims, 1.0f / 256, -128);
    tw_options zero_beta = beta_options(0.0f);
    mop_expect_error(SOFTMAX, &in, 1, &out, &zero_beta, TMO_ERANGE, "beta");
    out = mop_s8(2, other, 1.0f / 256, -128);
    mop_expect_error(SOFTMAX, &in, 1, &out, &o, TMO_EBADMODEL, "output");
    out = mop_f32(2, dims);
    mop_expect_error(SOFTMAX, &in, 1, &out, &o, TMO_EUNSUPPORTED, "output");
    in = mop_f32(2, dims);
    in.type = 2; /* INT32 */
    mop_expect_error(SOFTMAX, &in, 1, &in, &o, TMO_EUNSUPPORTED, "input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tflm_float_known_answers),
        cmocka_unit_test(tflm_int8_known_answers),
        cmocka_unit_test(float_random_rows_and_beta),
        cmocka_unit_test(int8_random_within_one_step),
        cmocka_unit_test(int8_equal_inputs_are_exact),
        cmocka_unit_test(int8_dominant_input_saturates),
        cmocka_unit_test(int8_long_equal_row_is_defined),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
