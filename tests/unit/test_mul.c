/*
 * MUL (int8 and float32): TFLite Micro's kernel test vectors, exact
 * hand-derived cases (including the rounding of ties), float math within
 * 1 LSB across every broadcasting pattern, fused activations and
 * prepare-time rejections.
 */
#include "elementwise_util.h"
#include "kernels/mul.h"

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3, ACT_SIGN_BIT = 5 };

static tw_options mul_opts(int activation)
{
    return ew_act_options(OPTIONS_MUL_OPTIONS, activation);
}

/* ---- TFLM mul_test.cc (tensorflow/lite/micro/kernels/mul_test.cc) ---- */

static const int32_t dims_simple[] = {1, 2, 2, 1};
static const float in1_simple[] = {-0.8f, 0.2f, 0.9f, 0.7f};
static const float in2_simple[] = {0.6f, 0.4f, 0.9f, 0.8f};
static const float golden_simple[] = {-0.48f, 0.08f, 0.81f, 0.56f};
static const float golden_simple_relu[] = {0.0f, 0.08f, 0.81f, 0.56f};
static const int32_t dims_broadcast[] = {1, 3, 1, 2};
static const int32_t dims_scalar[] = {1};
static const float in1_broadcast[] = {-2.0f, 0.2f, 0.7f, 0.8f, 1.1f, 2.0f};
static const float in2_broadcast[] = {0.1f};
static const float golden_broadcast[] = {-0.2f, 0.02f, 0.07f, 0.08f, 0.11f, 0.2f};
static const float golden_broadcast_relu[] = {0, 0.02f, 0.07f, 0.08f, 0.11f, 0.2f};

static void tflm_mul_f32(uint32_t nd2, const int32_t *d2, const float *v1, const float *v2,
                         uint32_t ndo, const int32_t *dout, const float *golden, int act)
{
    float got[8];
    ew_tensor in[2] = {ew_f32(ndo, dout, v1), ew_f32(nd2, d2, v2)};
    ew_tensor out = ew_f32(ndo, dout, NULL);
    tw_options o = mul_opts(act);
    assert_int_equal(ew_run(OP_MUL, &o, in, 2, &out, got, NULL).err, TMO_OK);
    for (size_t i = 0; i < ew_elements(&out); i++)
        assert_float_equal(got[i], golden[i], 1e-5);
}

/* TFLM's TestMulQuantized: both inputs share one scale; tolerance 1 LSB, as TFLM's. */
static void tflm_mul_s8(uint32_t nd2, const int32_t *d2, const float *v1, const float *v2,
                        uint32_t ndo, const int32_t *dout, const float *golden, float in_scale,
                        float out_scale, int act)
{
    int8_t q1[8], q2[8], got[8];
    ew_tensor in[2] = {ew_s8(ndo, dout, in_scale, 0, q1), ew_s8(nd2, d2, in_scale, 0, q2)};
    ew_tensor out = ew_s8(ndo, dout, out_scale, 0, NULL);
    for (size_t i = 0; i < ew_elements(&in[0]); i++)
        q1[i] = ew_q8(v1[i], in_scale, 0);
    for (size_t i = 0; i < ew_elements(&in[1]); i++)
        q2[i] = ew_q8(v2[i], in_scale, 0);
    tw_options o = mul_opts(act);
    assert_int_equal(ew_run(OP_MUL, &o, in, 2, &out, got, NULL).err, TMO_OK);
    for (size_t i = 0; i < ew_elements(&out); i++)
        assert_true(abs(got[i] - ew_q8(golden[i], out_scale, 0)) <= 1);
}

static void test_tflm_vectors(void **state)
{
    (void)state;
    tflm_mul_f32(4, dims_simple, in1_simple, in2_simple, 4, dims_simple, golden_simple, ACT_NONE);
    tflm_mul_f32(4, dims_simple, in1_simple, in2_simple, 4, dims_simple, golden_simple_relu,
                 ACT_RELU);
    tflm_mul_f32(1, dims_scalar, in1_broadcast, in2_broadcast, 4, dims_broadcast, golden_broadcast,
                 ACT_NONE);
    tflm_mul_f32(1, dims_scalar, in1_broadcast, in2_broadcast, 4, dims_broadcast,
                 golden_broadcast_relu, ACT_RELU);
    tflm_mul_s8(4, dims_simple, in1_simple, in2_simple, 4, dims_simple, golden_simple, 0.01f, 0.01f,
                ACT_NONE);
    tflm_mul_s8(1, dims_scalar, in1_broadcast, in2_broadcast, 4, dims_broadcast, golden_broadcast,
                0.05f, 0.01f, ACT_NONE);
}

/* ---- exact hand-derived cases ---- */

/*
 * Scales 1 x 1 / 1: the multiplier is exactly 1 (2^30 with a left shift of
 * 1), so the output is (a - za) * (b - zb) + zo clamped. All 65536 pairs.
 */
static void test_exact_all_pairs(void **state)
{
    (void)state;
    static int8_t a[256], b[256], got[256 * 256];
    for (int i = 0; i < 256; i++)
        a[i] = b[i] = (int8_t)(i - 128);
    const int32_t da[] = {256, 1}, db[] = {1, 256}, dout[] = {256, 256};
    const int zp_sets[2][3] = {{0, 0, 0}, {5, -6, 20}};
    for (int z = 0; z < 2; z++) {
        const int *zp = zp_sets[z];
        ew_tensor in[2] = {ew_s8(2, da, 1.0f, zp[0], a), ew_s8(2, db, 1.0f, zp[1], b)};
        ew_tensor out = ew_s8(2, dout, 1.0f, zp[2], NULL);
        tw_options o = mul_opts(ACT_NONE);
        assert_int_equal(ew_run(OP_MUL, &o, in, 2, &out, got, NULL).err, TMO_OK);
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 256; j++) {
                int want = (a[i] - zp[0]) * (b[j] - zp[1]) + zp[2];
                want = want < -128 ? -128 : want > 127 ? 127 : want;
                assert_int_equal(got[i * 256 + j], want);
            }
    }
}

/*
 * Multiplier exactly 1/2 (scales 1 x 1 / 2): the product is halved with
 * gemmlowp's rounding, whose ties go up (toward +infinity): 3/2 -> 2 but
 * -3/2 -> -1. So out = floor((a * b + 1) / 2).
 */
static void test_exact_half_rounding(void **state)
{
    (void)state;
    int8_t a[11] = {-11, -9, -3, -1, 0, 1, 3, 5, 7, 9, 11}, b[11], got[11];
    for (int i = 0; i < 11; i++)
        b[i] = (int8_t)(i % 2 ? 1 : -1);
    const int32_t d[] = {11};
    ew_tensor in[2] = {ew_s8(1, d, 1.0f, 0, a), ew_s8(1, d, 1.0f, 0, b)};
    ew_tensor out = ew_s8(1, d, 2.0f, 0, NULL);
    tw_options o = mul_opts(ACT_NONE);
    assert_int_equal(ew_run(OP_MUL, &o, in, 2, &out, got, NULL).err, TMO_OK);
    for (int i = 0; i < 11; i++) {
        int prod = a[i] * b[i];
        int want = (int)floor((prod + 1) / 2.0);
        assert_int_equal(got[i], want);
    }
}

static void test_exact_activation_clamps(void **state)
{
    (void)state;
    int8_t a[16], b[16], got[16];
    for (int i = 0; i < 16; i++) {
        a[i] = (int8_t)(i - 8);
        b[i] = (int8_t)(i % 3 - 1);
    }
    const int32_t d[] = {16};
    const int acts[] = {ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1};
    const int lo[] = {0, 0, -1}, hi[] = {127, 6, 1};
    for (int k = 0; k < 3; k++) {
        ew_tensor in[2] = {ew_s8(1, d, 1.0f, 0, a), ew_s8(1, d, 1.0f, 0, b)};
        ew_tensor out = ew_s8(1, d, 1.0f, 0, NULL);
        tw_options o = mul_opts(acts[k]);
        assert_int_equal(ew_run(OP_MUL, &o, in, 2, &out, got, NULL).err, TMO_OK);
        for (int i = 0; i < 16; i++) {
            int want = a[i] * b[i];
            want = want < lo[k] ? lo[k] : want > hi[k] ? hi[k] : want;
            assert_int_equal(got[i], want);
        }
    }
    float fa[6] = {-4.0f, -0.5f, 0.25f, 2.0f, 3.5f, 50.0f}, fb[1] = {2.0f}, fg[6];
    const int32_t fd[] = {6}, one[] = {1};
    const float flo[] = {0.0f, 0.0f, -1.0f}, fhi[] = {INFINITY, 6.0f, 1.0f};
    for (int k = 0; k < 3; k++) {
        ew_tensor fin[2] = {ew_f32(1, fd, fa), ew_f32(1, one, fb)};
        ew_tensor fout = ew_f32(1, fd, NULL);
        tw_options fo = mul_opts(acts[k]);
        assert_int_equal(ew_run(OP_MUL, &fo, fin, 2, &fout, fg, NULL).err, TMO_OK);
        for (int i = 0; i < 6; i++) {
            float p = fa[i] * 2.0f;
            float want = p < flo[k] ? flo[k] : p > fhi[k] ? fhi[k] : p;
            assert_true(fg[i] == want);
        }
    }
}

/* ---- broadcasting ---- */

static void test_broadcast_float(void **state)
{
    (void)state;
    static float a[1024], b[1024], got[1024];
    uint64_t seed = 21;
    size_t n_cases;
    const ew_shape_case *cases = ew_bcast_cases(&n_cases);
    for (size_t c = 0; c < n_cases; c++) {
        const ew_shape_case *sc = &cases[c];
        ew_tensor in[2] = {ew_f32(sc->n1, sc->d1, a), ew_f32(sc->n2, sc->d2, b)};
        ew_tensor out = ew_f32(sc->no, sc->dout, NULL);
        for (size_t i = 0; i < ew_elements(&in[0]); i++)
            a[i] = (float)ew_rand_real(&seed, -10, 10);
        for (size_t i = 0; i < ew_elements(&in[1]); i++)
            b[i] = (float)ew_rand_real(&seed, -10, 10);
        tw_options o = mul_opts(ACT_NONE);
        ew_result r = ew_run(OP_MUL, &o, in, 2, &out, got, NULL);
        if (r.err != TMO_OK)
            fail_msg("case %zu: %s", c, r.msg);
        int flat = ew_flat_case(sc);
        for (size_t i = 0; i < ew_elements(&out); i++) {
            size_t ia = flat ? i : ew_bcast_index(&in[0], &out, i);
            size_t ib = flat ? i : ew_bcast_index(&in[1], &out, i);
            float want = a[ia] * b[ib];
            if (got[i] != want)
                fail_msg("case %zu element %zu: %g, want %g", c, i, got[i], want);
        }
    }
}

static void test_broadcast_s8_float_math(void **state)
{
    (void)state;
    static int8_t a[1024], b[1024], got[1024];
    uint64_t seed = 22;
    size_t n_cases;
    const ew_shape_case *cases = ew_bcast_cases(&n_cases);
    for (int round = 0; round < 4; round++) {
        for (size_t c = 0; c < n_cases; c++) {
            const ew_shape_case *sc = &cases[c];
            float s1 = (float)ew_rand_real(&seed, 0.005, 0.5);
            float s2 = (float)ew_rand_real(&seed, 0.005, 0.5);
            float so = (float)ew_rand_real(&seed, 0.001, 0.2);
            int z1 = ew_rand_int(&seed, -128, 127), z2 = ew_rand_int(&seed, -128, 127);
            int zo = ew_rand_int(&seed, -128, 127);
            ew_tensor in[2] = {ew_s8(sc->n1, sc->d1, s1, z1, a), ew_s8(sc->n2, sc->d2, s2, z2, b)};
            ew_tensor out = ew_s8(sc->no, sc->dout, so, zo, NULL);
            ew_rand_s8(&seed, a, ew_elements(&in[0]));
            ew_rand_s8(&seed, b, ew_elements(&in[1]));
            tw_options o = mul_opts(ACT_NONE);
            ew_result r = ew_run(OP_MUL, &o, in, 2, &out, got, NULL);
            if (r.err != TMO_OK)
                fail_msg("case %zu: %s", c, r.msg);
            int flat = ew_flat_case(sc);
            for (size_t i = 0; i < ew_elements(&out); i++) {
                size_t ia = flat ? i : ew_bcast_index(&in[0], &out, i);
                size_t ib = flat ? i : ew_bcast_index(&in[1], &out, i);
                double real = ew_real(a[ia], s1, z1) * ew_real(b[ib], s2, z2);
                int want = ew_nearest(real, so, zo, -128, 127);
                if (abs(got[i] - want) > 1)
                    fail_msg("case %zu element %zu: %d, want %d +-1", c, i, got[i], want);
            }
        }
    }
}

/* ---- prepare-time rejections ---- */

static void test_errors(void **state)
{
    (void)state;
    const int32_t d23[] = {2, 3}, d32[] = {3, 2};
    tw_options o = mul_opts(ACT_NONE);
    ew_tensor s8 = ew_s8(2, d23, 0.1f, 0, NULL), f32 = ew_f32(2, d23, NULL);
    ew_tensor mixed[2] = {f32, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &o, mixed, 2, &f32), TMO_EBADMODEL, "types differ");
    ew_tensor shapes[2] = {f32, ew_f32(2, d32, NULL)};
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &o, shapes, 2, &f32), TMO_EBADMODEL, "broadcast");
    ew_tensor i16 = s8;
    i16.type = TMO_INT16;
    ew_tensor i16s[2] = {i16, i16};
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &o, i16s, 2, &i16), TMO_EUNSUPPORTED, "INT16");
    tw_options sign = mul_opts(ACT_SIGN_BIT);
    ew_tensor ok[2] = {s8, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &sign, ok, 2, &s8), TMO_EUNSUPPORTED, "activation");
    tw_options wrong = ew_act_options(OPTIONS_ADD_OPTIONS, 0);
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &wrong, ok, 2, &s8), TMO_EBADMODEL, "options");
    ew_tensor one[1] = {s8};
    EW_EXPECT_FAIL(ew_prepare(OP_MUL, &o, one, 1, &s8), TMO_EBADMODEL, "inputs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tflm_vectors),
        cmocka_unit_test(test_exact_all_pairs),
        cmocka_unit_test(test_exact_half_rounding),
        cmocka_unit_test(test_exact_activation_clamps),
        cmocka_unit_test(test_broadcast_float),
        cmocka_unit_test(test_broadcast_s8_float_math),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
