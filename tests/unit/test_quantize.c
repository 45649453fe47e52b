/*
 * QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32):
 * TFLite Micro's kernel test vectors, hand-derived ties and saturation,
 * float math within 1 LSB, and prepare-time rejections.
 */
#include "elementwise_util.h"

/* ---- QUANTIZE float32 -> int8 ---- */

static void quantize_f32(const float *x, size_t n, float scale, int zp, int8_t *got)
{
    const int32_t d[] = {(int32_t)n};
    ew_tensor in = ew_f32(1, d, x);
    ew_tensor out = ew_s8(1, d, scale, zp, NULL);
    ew_result r = ew_run(OP_QUANTIZE, NULL, &in, 1, &out, got, NULL);
    if (r.err != TMO_OK)
        fail_msg("%s", r.msg);
}

/*
 * tensorflow/lite/micro/kernels/quantize_test.cc, QuantizeOpTestInt16: the
 * same values and parameters fit int8 exactly (-63.5 / 0.5 - 1 = -128,
 * 64 / 0.5 - 1 = 127), so the expected output is Quantize(values) exactly.
 */
static void test_tflm_float_values(void **state)
{
    (void)state;
    const float v[] = {-63.5f, -63, -62.5f, -62, -61.5f, 62, 62.5f, 63, 63.5f, 64};
    int8_t got[10];
    quantize_f32(v, 10, 0.5f, -1, got);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], ew_q8(v[i], 0.5f, -1));
    assert_int_equal(got[0], -128);
    assert_int_equal(got[9], 127);
}

/* Ties round half away from zero (TfLiteRound), then the zero point is added. */
static void test_float_ties_and_saturation(void **state)
{
    (void)state;
    const float v[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.0f, -0.0f, 0.49f, -0.49f};
    const int want[] = {11, 9, 12, 8, 13, 7, 10, 10, 10, 10};
    int8_t got[10];
    quantize_f32(v, 10, 1.0f, 10, got);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], want[i]);

    /* Beyond the int8 range, and beyond int32 (documented: saturates, NaN -> zero point). */
    const float big[] = {1000.0f, -1000.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN};
    const int want_big[] = {127, -128, 127, -128, 127, -128, -5};
    int8_t got_big[7];
    quantize_f32(big, 7, 0.25f, -5, got_big);
    for (int i = 0; i < 7; i++)
        assert_int_equal(got_big[i], want_big[i]);
}

/* Random values: equal to round(x / scale) + zp computed here in float, clamped. */
static void test_float_random(void **state)
{
    (void)state;
    static float x[4096];
    static int8_t got[4096];
    uint64_t seed = 31;
    for (int round = 0; round < 20; round++) {
        float scale = (float)ew_rand_real(&seed, 0.001, 2.0);
        int zp = ew_rand_int(&seed, -128, 127);
        for (int i = 0; i < 4096; i++)
            x[i] = (float)ew_rand_real(&seed, -150.0 * scale, 150.0 * scale);
        quantize_f32(x, 4096, scale, zp, got);
        for (int i = 0; i < 4096; i++) {
            /* independent of float rounding of the quotient: within 1 of the exact nearest */
            int near = ew_nearest((double)x[i], scale, zp, -128, 127);
            assert_true(abs(got[i] - near) <= 1);
            assert_int_equal(got[i], ew_q8(x[i], scale, zp));
        }
    }
}

/* ---- QUANTIZE int8 -> int8 ---- */

static void requantize(const int8_t *q, size_t n, float s_in, int z_in, float s_out, int z_out,
                       int8_t *got)
{
    const int32_t d[] = {2, (int32_t)n / 2};
    ew_tensor in = ew_s8(2, d, s_in, z_in, q);
    ew_tensor out = ew_s8(2, d, s_out, z_out, NULL);
    ew_result r = ew_run(OP_QUANTIZE, NULL, &in, 1, &out, got, NULL);
    if (r.err != TMO_OK)
        fail_msg("%s", r.msg);
}

/* quantize_test.cc QuantizeOpTestInt8toInt8 and ...NoZeroPoint: exact. */
static void test_tflm_requantize(void **state)
{
    (void)state;
    const float v1[] = {-64, -62, -60, -58, -56, 54, 56, 58, 60, 62};
    int8_t q[10], got[10];
    for (int i = 0; i < 10; i++)
        q[i] = ew_q8(v1[i], 2.0f, 0);
    requantize(q, 10, 2.0f, 0, 0.5f, 32, got);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], ew_q8(v1[i], 0.5f, 32));
    const float v2[] = {-32, -31, -30, -29, -28, 27, 28, 29, 30, 31};
    for (int i = 0; i < 10; i++)
        q[i] = ew_q8(v2[i], 1.0f, 0);
    requantize(q, 10, 1.0f, 0, 0.5f, 0, got);
    for (int i = 0; i < 10; i++)
        assert_int_equal(got[i], ew_q8(v2[i], 0.5f, 0));
}

/*
 * Power-of-two ratios are exact: doubling is (q - zi) * 2 + zo; halving
 * rounds ties toward +infinity (gemmlowp's doubling high multiply):
 * out = floor((q - zi + 1) / 2) + zo. Identical parameters copy the input.
 */
static void test_requantize_exact(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    requantize(q, 256, 0.5f, 3, 0.25f, -7, got);
    for (int i = 0; i < 256; i++) {
        int want = (q[i] - 3) * 2 - 7;
        assert_int_equal(got[i], want < -128 ? -128 : want > 127 ? 127 : want);
    }
    requantize(q, 256, 0.5f, 3, 1.0f, -7, got);
    for (int i = 0; i < 256; i++)
        assert_int_equal(got[i], (int)floor((q[i] - 3 + 1) / 2.0) - 7);
    requantize(q, 256, 0.0375f, 17, 0.0375f, 17, got);
    assert_memory_equal(got, q, 256);
}

static void test_requantize_random(void **state)
{
    (void)state;
    int8_t q[256], got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    uint64_t seed = 32;
    for (int round = 0; round < 200; round++) {
        float s_in = (float)ew_rand_real(&seed, 0.001, 1.0);
        float s_out = (float)ew_rand_real(&seed, 0.001, 1.0);
        int z_in = ew_rand_int(&seed, -128, 127), z_out = ew_rand_int(&seed, -128, 127);
        requantize(q, 256, s_in, z_in, s_out, z_out, got);
        for (int i = 0; i < 256; i++) {
            int want = ew_nearest(ew_real(q[i], s_in, z_in), s_out, z_out, -128, 127);
            if (abs(got[i] - want) > 1)
                fail_msg("round %d q=%d: %d, want %d +-1", round, q[i], got[i], want);
        }
    }
}

/* ---- DEQUANTIZE ---- */

static void dequantize(const int8_t *q, size_t n, float scale, int zp, float *got)
{
    const int32_t d[] = {1, (int32_t)n};
    ew_tensor in = ew_s8(2, d, scale, zp, q);
    ew_tensor out = ew_f32(2, d, NULL);
    ew_result r = ew_run(OP_DEQUANTIZE, NULL, &in, 1, &out, got, NULL);
    if (r.err != TMO_OK)
        fail_msg("%s", r.msg);
}

static void test_dequantize(void **state)
{
    (void)state;
    int8_t q[256];
    float got[256];
    for (int i = 0; i < 256; i++)
        q[i] = (int8_t)(i - 128);
    /* power-of-two scale: every product is exact in float */
    dequantize(q, 256, 0.125f, -20, got);
    for (int i = 0; i < 256; i++)
        assert_true(got[i] == (float)(q[i] + 20) / 8.0f);
    /* any scale: the real product rounded once to float (half an ulp) */
    uint64_t seed = 33;
    for (int round = 0; round < 50; round++) {
        float scale = (float)ew_rand_real(&seed, 1e-4, 10.0);
        int zp = ew_rand_int(&seed, -128, 127);
        dequantize(q, 256, scale, zp, got);
        for (int i = 0; i < 256; i++) {
            double want = ((double)q[i] - zp) * (double)scale;
            assert_true(fabs((double)got[i] - want) <= fabs(want) * 0x1p-24);
        }
    }
}

/* ---- prepare-time rejections ---- */

static void test_errors(void **state)
{
    (void)state;
    const int32_t d4[] = {4}, d5[] = {5};
    ew_tensor f32 = ew_f32(1, d4, NULL), s8 = ew_s8(1, d4, 0.5f, 0, NULL);
    ew_tensor i16 = s8;
    i16.type = TMO_INT16;

    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &f32, 1, &i16), TMO_EUNSUPPORTED, "INT16");
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &i16, 1, &s8), TMO_EUNSUPPORTED, "INT16");
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &f32, 1, &f32), TMO_EUNSUPPORTED, "FLOAT32");
    ew_tensor unq = s8;
    unq.quantized = 0;
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &f32, 1, &unq), TMO_EBADMODEL, "scale");
    ew_tensor pc = s8;
    pc.per_channel = 4;
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &f32, 1, &pc), TMO_EUNSUPPORTED, "per-channel");
    ew_tensor s8_5 = ew_s8(1, d5, 0.5f, 0, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &f32, 1, &s8_5), TMO_EBADMODEL, "element count");
    ew_tensor tiny = ew_s8(1, d4, 1e-30f, 0, NULL), huge = ew_s8(1, d4, 1e30f, 0, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_QUANTIZE, NULL, &huge, 1, &tiny), TMO_ERANGE, "scale ratio");

    EW_EXPECT_FAIL(ew_prepare(OP_DEQUANTIZE, NULL, &i16, 1, &f32), TMO_EUNSUPPORTED, "INT16");
    EW_EXPECT_FAIL(ew_prepare(OP_DEQUANTIZE, NULL, &s8, 1, &s8), TMO_EUNSUPPORTED, "INT8");
    EW_EXPECT_FAIL(ew_prepare(OP_DEQUANTIZE, NULL, &unq, 1, &f32), TMO_EBADMODEL, "scale");
    ew_tensor f32_5 = ew_f32(1, d5, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_DEQUANTIZE, NULL, &s8, 1, &f32_5), TMO_EBADMODEL, "element count");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tflm_float_values), cmocka_unit_test(test_float_ties_and_saturation),
        cmocka_unit_test(test_float_random),      cmocka_unit_test(test_tflm_requantize),
        cmocka_unit_test(test_requantize_exact),  cmocka_unit_test(test_requantize_random),
        cmocka_unit_test(test_dequantize),        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
