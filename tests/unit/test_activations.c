/*
 * LOGISTIC, TANH, RELU and RELU6 (int8 and float32): TFLite Micro's kernel
 * test vectors, the fixed-point math against double precision, every int8
 * input against float math within 1 LSB, exact hand-derived clamps,
 * optimized vs reference bit for bit, and prepare-time rejections.
 */
#include "elementwise_util.h"
#include "kernels/elementwise.h"
#include "kernels/gemmlowp.h"

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* Runs a unary operator on int8 data; ref (if any) must reproduce the bytes. */
static void run_s8(int32_t op, const int8_t *q, size_t n, float s_in, int z_in, float s_out,
                   int z_out, int8_t *got, tmo_invoke_fn ref)
{
    const int32_t d[] = {1, (int32_t)n};
    ew_tensor in = ew_s8(2, d, s_in, z_in, q);
    ew_tensor out = ew_s8(2, d, s_out, z_out, NULL);
    ew_result r = ew_run(op, NULL, &in, 1, &out, got, ref);
    if (r.err != TMO_OK)
        fail_msg("%s", r.msg);
}

static void run_f32(int32_t op, const float *x, size_t n, float *got)
{
    const int32_t d[] = {(int32_t)n};
    ew_tensor in = ew_f32(1, d, x);
    ew_tensor out = ew_f32(1, d, NULL);
    ew_result r = ew_run(op, NULL, &in, 1, &out, got, NULL);
    if (r.err != TMO_OK)
        fail_msg("%s", r.msg);
}

/* ---- fixed-point math (gemmlowp.h) against double ---- */

/*
 * Q4.27 inputs across [-16, 16): logistic and tanh in Q0.31 within 2^-22 of
 * exact (the polynomial + Newton-Raphson approximation is good to ~2^-23;
 * a wrong constant or format shows up as errors many orders larger).
 */
static void test_fixedpoint_accuracy(void **state)
{
    (void)state;
    double worst_l = 0, worst_t = 0;
    for (int64_t raw = INT32_MIN; raw <= INT32_MAX; raw += 65537 * 7) {
        double x = (double)raw / 134217728.0; /* 2^27 */
        double l = gl_logistic((int32_t)raw, 4) / 2147483648.0;
        double t = gl_tanh((int32_t)raw, 4) / 2147483648.0;
        worst_l = fmax(worst_l, fabs(l - sigmoid(x)));
        worst_t = fmax(worst_t, fabs(t - tanh(x)));
    }
    if (worst_l > 0x1p-22 || worst_t > 0x1p-22)
        fail_msg("worst error logistic %g, tanh %g", worst_l, worst_t);
    assert_int_equal(gl_logistic(0, 4), 1 << 30);
    assert_int_equal(gl_tanh(0, 4), 0);
}

/*
 * Exact raw results of TFLM's fixedpoint.h logistic() and tanh() on
 * FixedPoint<int32_t, 4> inputs (Q4.27 in, Q0.31 out). They were computed
 * once by a standalone C++ transcription of TFLM's templates (kept outside
 * this repository), not by gemmlowp.h; every rounding step shows here, so a
 * constant or shift that is off by a little changes these values even when
 * the accuracy check above still passes. (The transcription and gemmlowp.h
 * also agree on every int8 LOGISTIC/TANH output for 6044 input
 * quantizations.)
 */
static void test_fixedpoint_exact(void **state)
{
    (void)state;
    static const int32_t cases[][3] = {
        {1, 1073741948, 260},
        {-1, 1073741699, -260},
        {1000, 1073745948, 16236},
        {-1000, 1073737699, -16236},
        {1048576, 1077936196, 16776996},
        {-1048576, 1069547451, -16776996},
        {134217728, 1569936226, 1635510876},
        {-134217728, 577547421, -1635510876},
        {67108864, 1336721090, 992388804},
        {-67108864, 810762557, -992388804},
        {268435456, 1891497262, 2070233436},
        {-268435456, 255986385, -2070233436},
        {402653184, 2045637336, 2136863820},
        {-402653184, 101846311, -2136863820},
        {536870912, 2108858542, 2146043336},
        {-536870912, 38625105, -2146043336},
        {805306368, 2142173734, 2147457264},
        {-805306368, 5309913, -2147457264},
        {1073741824, 2146763492, 2147483164},
        {-1073741824, 720155, -2147483164},
        {1610612736, 2147470456, 2147483647},
        {-1610612736, 13191, -2147483647},
        {2147483647, 2147483406, 2147483647},
        {-2147483647, 241, -2147483647},
        {123456789, 1535464548, 1558674772},
        {-123456789, 612019099, -1558674772},
        {987654321, 2146116376, 2147481900},
        {-987654321, 1367271, -2147481900},
        {33554431, 1207264688, 525958528},
        {-33554433, 940218681, -525959064},
        {1879048191, 2147481864, 2147483647},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (gl_logistic(cases[i][0], 4) != cases[i][1] || gl_tanh(cases[i][0], 4) != cases[i][2])
            fail_msg("x=%d: logistic %d (want %d), tanh %d (want %d)", cases[i][0],
                     gl_logistic(cases[i][0], 4), cases[i][1], gl_tanh(cases[i][0], 4),
                     cases[i][2]);
    }
    /* Sums of the raw outputs over 199943 inputs spread over the whole Q4.27 range
     * (same transcription): any single differing result changes them. */
    long long sum_l = 0, sum_t = 0;
    for (int64_t raw = -2147483647; raw <= 2147483647; raw += 21481) {
        sum_l += gl_logistic((int32_t)raw, 4);
        sum_t += gl_tanh((int32_t)raw, 4);
    }
    assert_true(sum_l == 214686502003832LL);
    assert_true(sum_t == -1318822143LL);
}

/* ---- LOGISTIC ---- */

/* tensorflow/lite/micro/kernels/logistic_test.cc */
static const float logistic_basic_in[] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
static const float logistic_basic_golden[] = {0.73105858f, 0.88079708f, 0.95257413f, 0.98201379f,
                                              0.99330715f, 0.26894142f, 0.11920292f, 0.04742587f,
                                              0.01798621f, 0.00669285f};
static const float logistic_wide_in[] = {1.0f,  2.0f,  3.0f,  4.0f,  93.0f,
                                         -1.0f, -2.0f, -3.0f, -4.0f, -93.0f};
static const float logistic_wide_golden[] = {0.73105858f, 0.88079708f, 0.95257413f, 0.98201379f,
                                             1.0f,        0.26894142f, 0.11920292f, 0.04742587f,
                                             0.01798621f, 0.0f};

static void test_logistic_tflm_vectors(void **state)
{
    (void)state;
    float fgot[10];
    run_f32(OP_LOGISTIC, logistic_basic_in, 10, fgot);
    for (int i = 0; i < 10; i++)
        assert_float_equal(fgot[i], logistic_basic_golden[i], 1e-5);
    run_f32(OP_LOGISTIC, logistic_wide_in, 10, fgot);
    for (int i = 0; i < 10; i++)
        assert_float_equal(fgot[i], logistic_wide_golden[i], 1e-5);

    /* int8: TFLM quantizes the golden with scale 1/255, zero point -128, tolerance 1 */
    const float in_scales[] = {0.1f, 1.0f};
    const float *ins[] = {logistic_basic_in, logistic_wide_in};
    const float *goldens[] = {logistic_basic_golden, logistic_wide_golden};
    for (int c = 0; c < 2; c++) {
        int8_t q[10], got[10];
        for (int i = 0; i < 10; i++)
            q[i] = ew_q8(ins[c][i], in_scales[c], 0);
        run_s8(OP_LOGISTIC, q, 10, in_scales[c], 0, 1.0f / 255.0f, -128, got, logistic_s8_ref);
        for (int i = 0; i < 10; i++)
            assert_true(abs(got[i] - ew_q8(goldens[c][i], 1.0f / 255.0f, -128)) <= 1);
    }
}

/* Every int8 input, several input quantizations: within 1 LSB of the exact logistic. */
static void test_logistic_all_inputs(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    const float scales[] = {0.01f, 0.0390625f, 0.1f, 0.123f, 0.5f, 2.0f};
    const int zps[] = {0, -128, 17, 127, -3, 40};
    for (int s = 0; s < 6; s++) {
        run_s8(OP_LOGISTIC, q, 256, scales[s], zps[s], 1.0f / 256, -128, got, logistic_s8_ref);
        for (int i = 0; i < 256; i++) {
            int want =
                ew_nearest(sigmoid(ew_real(q[i], scales[s], zps[s])), 1.0f / 256, -128, -128, 127);
            if (abs(got[i] - want) > 1)
                fail_msg("scale %g zp %d q %d: %d, want %d +-1", scales[s], zps[s], q[i], got[i],
                         want);
        }
    }
}

/*
 * An input scale of 32 makes TFLM's saturation radius 0 (15 * 2^27 / 2^33
 * floors to 0): every input lands on a saturated end, and an input equal to
 * the zero point takes the lower one (input <= -radius).
 */
static void test_logistic_zero_radius(void **state)
{
    (void)state;
    int8_t q[3] = {-1, 0, 1}, got[3];
    run_s8(OP_LOGISTIC, q, 3, 32.0f, 0, 1.0f / 256, -128, got, logistic_s8_ref);
    assert_int_equal(got[0], -128);
    assert_int_equal(got[1], -128);
    assert_int_equal(got[2], 127);
}

static void test_logistic_float(void **state)
{
    (void)state;
    float x[9] = {-100.0f, -9.5f, -9.0f, -1.0f, 0.0f, 2.0f, 16.6f, 16.7f, NAN}, got[9];
    run_f32(OP_LOGISTIC, x, 9, got);
    for (int i = 0; i < 8; i++)
        assert_float_equal(got[i], sigmoid(x[i]), 1e-6);
    assert_true(got[6] < 1.0f);         /* below the upper cut-off: computed */
    assert_true(got[7] == 1.0f);        /* above it: exactly 1 */
    assert_true(got[1] == expf(-9.5f)); /* below the lower cut-off: exp(x) */
    assert_true(isnan(got[8]));
}

/* ---- TANH ---- */

/*
 * tensorflow/lite/micro/kernels/tanh_test.cc (SimpleTestTanhUInt8, int8):
 * 89 points evenly spaced on [-8, 8], input scale 16/256, output scale
 * 1.99999955/256, tolerance 2 against the quantized exact tanh.
 */
static void test_tanh_tflm_vectors(void **state)
{
    (void)state;
    float x[89], fgot[89];
    int8_t q[89], got[89];
    const float s_in = 16 / 256.f, s_out = 1.99999955f / 256.f;
    for (int i = 0; i < 89; i++) {
        x[i] = (float)(-8.0 + 16.0 * i / 88.0);
        q[i] = ew_q8(x[i], s_in, 0);
    }
    run_s8(OP_TANH, q, 89, s_in, 0, s_out, 0, got, tanh_s8_ref);
    for (int i = 0; i < 89; i++)
        assert_true(abs(got[i] - ew_q8((float)tanh(x[i]), s_out, 0)) <= 2);
    run_f32(OP_TANH, x, 89, fgot);
    for (int i = 0; i < 89; i++)
        assert_float_equal(fgot[i], tanh(x[i]), 1e-7);
}

static void test_tanh_all_inputs(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    const float scales[] = {0.01f, 0.0625f, 0.1f, 0.077f, 0.5f, 4.0f};
    const int zps[] = {0, -128, 17, 127, -3, 0};
    for (int s = 0; s < 6; s++) {
        run_s8(OP_TANH, q, 256, scales[s], zps[s], 1.0f / 128, 0, got, tanh_s8_ref);
        for (int i = 0; i < 256; i++) {
            int want = ew_nearest(tanh(ew_real(q[i], scales[s], zps[s])), 1.0f / 128, 0, -128, 127);
            if (abs(got[i] - want) > 1)
                fail_msg("scale %g zp %d q %d: %d, want %d +-1", scales[s], zps[s], q[i], got[i],
                         want);
        }
    }
}

/* ---- optimized (tables) vs reference ---- */

static void test_sigmoid_opt_matches_ref(void **state)
{
    (void)state;
    static int8_t q[3000], got[3000];
    uint64_t seed = 41;
    for (int round = 0; round < 40; round++) {
        size_t n = round % 2 ? 3000 : (size_t)ew_rand_int(&seed, 1, EW_TABLE_MIN_COUNT - 1);
        ew_rand_s8(&seed, q, n);
        float s = (float)ew_rand_real(&seed, 0.002, 1.0);
        int zp = ew_rand_int(&seed, -128, 127);
        run_s8(OP_LOGISTIC, q, n, s, zp, 1.0f / 256, -128, got, logistic_s8_ref);
        run_s8(OP_TANH, q, n, s, zp, 1.0f / 128, 0, got, tanh_s8_ref);
    }
}

/* ---- RELU and RELU6 ---- */

/* tensorflow/lite/micro/kernels/activations_test.cc: exact int8 and float vectors. */
static void test_relu_tflm_vectors(void **state)
{
    (void)state;
    const float relu_in[] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
    const float relu_golden[] = {1, 2, 3, 4, 5, 0, 0, 0, 0, 0};
    const float relu6_in[] = {4, 5, 6, 7, 8, -4, -5, -6, -7, -8};
    const float relu6_golden[] = {4, 5, 6, 6, 6, 0, 0, 0, 0, 0};
    float fgot[10];
    run_f32(OP_RELU, relu_in, 10, fgot);
    for (int i = 0; i < 10; i++)
        assert_float_equal(fgot[i], relu_golden[i], 1e-5);
    run_f32(OP_RELU6, relu6_in, 10, fgot);
    for (int i = 0; i < 10; i++)
        assert_float_equal(fgot[i], relu6_golden[i], 1e-5);

    int8_t q[10], got[10];
    for (int i = 0; i < 10; i++)
        q[i] = ew_q8(relu_in[i], 0.5f, 0);
    run_s8(OP_RELU, q, 10, 0.5f, 0, 0.5f, 0, got, NULL);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], ew_q8(relu_golden[i], 0.5f, 0));
    /* SimpleRelu6TestInt8: scale 0.5, zero point 127 (inputs 4..8 all saturate to 127) */
    const float relu6_s8_in[] = {4, 5, 6, 7, 8, -1, -2, -3, -4, -5};
    for (int i = 0; i < 10; i++)
        q[i] = ew_q8(relu6_s8_in[i], 0.5f, 127);
    run_s8(OP_RELU6, q, 10, 0.5f, 127, 0.5f, 127, got, NULL);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], ew_q8(relu6_golden[i], 0.5f, 127));
}

static void test_relu_exact(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    /* same quantization: the multiplier is exactly 1, so RELU is max(q, zp) */
    run_s8(OP_RELU, q, 256, 0.07f, -20, 0.07f, -20, got, NULL);
    for (int i = 0; i < 256; i++)
        assert_int_equal(got[i], q[i] < -20 ? -20 : q[i]);
    /* output scale half the input's: (q - zi) * 2 + zo, clamped below at zo */
    run_s8(OP_RELU, q, 256, 0.5f, 10, 0.25f, -30, got, NULL);
    for (int i = 0; i < 256; i++) {
        int want = (q[i] - 10) * 2 - 30;
        want = want < -30 ? -30 : want > 127 ? 127 : want;
        assert_int_equal(got[i], want);
    }
    /* RELU6 keeps the input quantization: clamp to [zp, zp + round(6 / scale)] */
    run_s8(OP_RELU6, q, 256, 0.1f, -50, 0.1f, -50, got, NULL);
    for (int i = 0; i < 256; i++)
        assert_int_equal(got[i], q[i] < -50 ? -50 : q[i] > 10 ? 10 : q[i]);
    /* 6 / scale beyond int8: the upper clamp is 127 */
    run_s8(OP_RELU6, q, 256, 0.01f, 0, 0.01f, 0, got, NULL);
    for (int i = 0; i < 256; i++)
        assert_int_equal(got[i], q[i] < 0 ? 0 : q[i]);
}

static void test_relu_random(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    uint64_t seed = 42;
    for (int round = 0; round < 100; round++) {
        float s_in = (float)ew_rand_real(&seed, 0.001, 1.0);
        float s_out = (float)ew_rand_real(&seed, 0.001, 1.0);
        int z_in = ew_rand_int(&seed, -128, 127), z_out = ew_rand_int(&seed, -128, 127);
        run_s8(OP_RELU, q, 256, s_in, z_in, s_out, z_out, got, NULL);
        for (int i = 0; i < 256; i++) {
            double real = fmax(0.0, ew_real(q[i], s_in, z_in));
            int want = ew_nearest(real, s_out, z_out, z_out, 127);
            if (abs(got[i] - want) > 1 || got[i] < z_out)
                fail_msg("round %d q %d: %d, want %d +-1", round, q[i], got[i], want);
        }
    }
}

static void test_relu_float_specials(void **state)
{
    (void)state;
    float x[6] = {-0.0f, 0.0f, NAN, -INFINITY, INFINITY, 6.0f}, got[6];
    run_f32(OP_RELU, x, 6, got);
    assert_true(got[0] == 0.0f && signbit(got[0])); /* -0.0 is not below 0: kept */
    assert_true(isnan(got[2]));
    assert_true(got[3] == 0.0f && got[4] == INFINITY && got[5] == 6.0f);
    run_f32(OP_RELU6, x, 6, got);
    assert_true(got[0] == 0.0f && signbit(got[0]));
    assert_true(isnan(got[2]));
    assert_true(got[3] == 0.0f && got[4] == 6.0f && got[5] == 6.0f);
}

/* ---- prepare-time rejections ---- */

static void test_errors(void **state)
{
    (void)state;
    const int32_t d4[] = {4}, d5[] = {5};
    ew_tensor f32 = ew_f32(1, d4, NULL), s8 = ew_s8(1, d4, 0.1f, 0, NULL);
    ew_tensor i16 = s8;
    i16.type = TMO_INT16;
    const int32_t ops[] = {OP_LOGISTIC, OP_TANH, OP_RELU, OP_RELU6};
    for (int k = 0; k < 4; k++) {
        EW_EXPECT_FAIL(ew_prepare(ops[k], NULL, &i16, 1, &i16), TMO_EUNSUPPORTED, "INT16");
        EW_EXPECT_FAIL(ew_prepare(ops[k], NULL, &s8, 1, &f32), TMO_EBADMODEL, "types differ");
        ew_tensor f5 = ew_f32(1, d5, NULL);
        EW_EXPECT_FAIL(ew_prepare(ops[k], NULL, &f32, 1, &f5), TMO_EBADMODEL, "element count");
        ew_tensor unq = s8;
        unq.quantized = 0;
        EW_EXPECT_FAIL(ew_prepare(ops[k], NULL, &unq, 1, &s8), TMO_EBADMODEL, "scale");
    }
    /* TFLM's int8 LOGISTIC requires the output zero point -128 */
    ew_tensor out_zp0 = ew_s8(1, d4, 1.0f / 256, 0, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_LOGISTIC, NULL, &s8, 1, &out_zp0), TMO_EBADMODEL, "-128");
    /* input scales below 2^-28 would need a negative shift in TFLM's radius */
    ew_tensor tiny = ew_s8(1, d4, 1e-9f, 0, NULL);
    ew_tensor lout = ew_s8(1, d4, 1.0f / 256, -128, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_LOGISTIC, NULL, &tiny, 1, &lout), TMO_ERANGE, "scale");
    EW_EXPECT_FAIL(ew_prepare(OP_TANH, NULL, &tiny, 1, &s8), TMO_ERANGE, "scale");
    /* int8 RELU requantizes, so its output needs a quantization */
    ew_tensor unq_out = s8;
    unq_out.quantized = 0;
    EW_EXPECT_FAIL(ew_prepare(OP_RELU, NULL, &s8, 1, &unq_out), TMO_EBADMODEL, "scale");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixedpoint_accuracy),
        cmocka_unit_test(test_fixedpoint_exact),
        cmocka_unit_test(test_logistic_tflm_vectors),
        cmocka_unit_test(test_logistic_all_inputs),
        cmocka_unit_test(test_logistic_zero_radius),
        cmocka_unit_test(test_logistic_float),
        cmocka_unit_test(test_tanh_tflm_vectors),
        cmocka_unit_test(test_tanh_all_inputs),
        cmocka_unit_test(test_sigmoid_opt_matches_ref),
        cmocka_unit_test(test_relu_tflm_vectors),
        cmocka_unit_test(test_relu_exact),
        cmocka_unit_test(test_relu_random),
        cmocka_unit_test(test_relu_float_specials),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
