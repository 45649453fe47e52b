/*
 * ADD (int8 and float32): TFLite Micro's own kernel test vectors, exact
 * hand-derived cases, float math within 1 LSB, broadcasting of every shape
 * pattern against coordinate-computed expectations, fused activations,
 * optimized vs reference bit for bit, and prepare-time rejections.
 */
#include "elementwise_util.h"
#include "kernels/add.h"

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3, ACT_TANH = 4 };

static tw_options add_opts(int activation)
{
    return ew_act_options(OPTIONS_ADD_OPTIONS, activation);
}

/* ---- TFLM add_test.cc (tensorflow/lite/micro/kernels/add_test.cc) ---- */

/*
 * TFLM's TestAddQuantized: quantize the float inputs and the float golden
 * with the tensors' parameters; the int8 output must equal the quantized
 * golden exactly (TFLM compares with tolerance 1e-5 on the int8 values).
 */
static void tflm_add_s8(uint32_t nd1, const int32_t *d1, const float *v1, uint32_t nd2,
                        const int32_t *d2, const float *v2, uint32_t ndo, const int32_t *dout,
                        const float *golden, const float *scales, const int *zps, int act)
{
    int8_t q1[64], q2[64], want[64], got[64];
    ew_tensor in[2] = {ew_s8(nd1, d1, scales[0], zps[0], q1),
                       ew_s8(nd2, d2, scales[1], zps[1], q2)};
    ew_tensor out = ew_s8(ndo, dout, scales[2], zps[2], NULL);
    for (size_t i = 0; i < ew_elements(&in[0]); i++)
        q1[i] = ew_q8(v1[i], scales[0], zps[0]);
    for (size_t i = 0; i < ew_elements(&in[1]); i++)
        q2[i] = ew_q8(v2[i], scales[1], zps[1]);
    for (size_t i = 0; i < ew_elements(&out); i++)
        want[i] = ew_q8(golden[i], scales[2], zps[2]);
    tw_options o = add_opts(act);
    ew_result r = ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref);
    assert_int_equal(r.err, TMO_OK);
    assert_memory_equal(got, want, ew_elements(&out));
}

static void test_tflm_quantized_no_activation(void **state)
{
    (void)state;
    const float scales[] = {0.25f, 0.5f, 1.0f};
    const int zps[] = {-10, 4, 13};
    const int32_t shape[] = {1, 2, 2, 1};
    const float v1[] = {-2.01f, -1.01f, -0.01f, 0.98f};
    const float v2[] = {1.01f, 1.99f, 2.99f, 4.02f};
    const float golden[] = {-1, 1, 3, 5};
    tflm_add_s8(4, shape, v1, 4, shape, v2, 4, shape, golden, scales, zps, ACT_NONE);
    const float golden_relu1[] = {-1, 1, 1, 1};
    tflm_add_s8(4, shape, v1, 4, shape, v2, 4, shape, golden_relu1, scales, zps, ACT_RELU_N1_TO_1);
}

static const int32_t various_shapes[4][5] = {{1, 6}, {2, 2, 3}, {3, 2, 1, 3}, {4, 1, 3, 1, 2}};
static const float various_v1[] = {-2.0f, 0.2f, 0.7f, 0.8f, 1.1f, 2.0f};
static const float various_v2[] = {0.1f, 0.2f, 0.3f, 0.5f, 1.1f, 0.1f};

static void test_tflm_quantized_various_shapes(void **state)
{
    (void)state;
    const float scales[] = {0.1f, 0.05f, 0.1f};
    const int zps[] = {-9, 5, 14};
    const float golden[] = {-1.9f, 0.4f, 1.0f, 1.3f, 2.2f, 2.1f};
    for (int s = 0; s < 4; s++) {
        uint32_t nd = (uint32_t)various_shapes[s][0];
        const int32_t *d = &various_shapes[s][1];
        tflm_add_s8(nd, d, various_v1, nd, d, various_v2, nd, d, golden, scales, zps, ACT_NONE);
    }
}

static void test_tflm_quantized_scalar_broadcast(void **state)
{
    (void)state;
    const float scales[] = {0.1f, 0.05f, 0.05f};
    const int zps[] = {-8, 4, 12};
    const float v2[] = {0.1f};
    const float golden[] = {-1.9f, 0.3f, 0.8f, 0.9f, 1.2f, 2.1f};
    for (int s = 0; s < 4; s++) {
        uint32_t nd = (uint32_t)various_shapes[s][0];
        const int32_t *d = &various_shapes[s][1];
        /* input2 has shape {} (rank 0), as in TFLM's test */
        tflm_add_s8(nd, d, various_v1, 0, NULL, v2, nd, d, golden, scales, zps, ACT_NONE);
    }
}

/* TFLM's mixed broadcast vectors. */
static const int32_t mixed_in1_shape[] = {2, 3, 1, 2};
static const float mixed_v1[] = {-0.3f, 2.3f, 0.9f,  0.5f, 0.8f, -1.1f,
                                 1.2f,  2.8f, -1.6f, 0.0f, 0.7f, -2.2f};
static const float mixed_v2[] = {0.2f, 0.3f, -0.4f, 0.5f, 1.0f, 0.9f};
static const float mixed_golden[4][36] = {
    {-0.1f, 2.6f,  -0.7f, 2.8f,  0.7f,  3.2f,  1.1f, 0.8f,  0.5f, 1.0f,  1.9f, 1.4f,
     1.0f,  -0.8f, 0.4f,  -0.6f, 1.8f,  -0.2f, 1.4f, 3.1f,  0.8f, 3.3f,  2.2f, 3.7f,
     -1.4f, 0.3f,  -2.0f, 0.5f,  -0.6f, 0.9f,  0.9f, -1.9f, 0.3f, -1.7f, 1.7f, -1.3f},
    {-0.1f, 2.6f, 0.5f, 1.0f, 1.8f, -0.2f, 1.4f, 3.1f, -2.0f, 0.5f, 1.7f, -1.3f},
    {-0.1f, 2.5f,  0.0f,  2.6f,  -0.7f, 1.9f,  1.1f, 0.7f,  1.2f, 0.8f,  0.5f, 0.1f,
     1.0f,  -0.9f, 1.1f,  -0.8f, 0.4f,  -1.5f, 1.7f, 3.3f,  2.2f, 3.8f,  2.1f, 3.7f,
     -1.1f, 0.5f,  -0.6f, 1.0f,  -0.7f, 0.9f,  1.2f, -1.7f, 1.7f, -1.2f, 1.6f, -1.3f},
    {-0.1f, 2.5f, 1.2f, 0.8f, 0.4f, -1.5f, 1.7f, 3.3f, -0.6f, 1.0f, 1.6f, -1.3f},
};
static const int32_t mixed_in2_shapes[4][4] = {
    {1, 1, 3, 2}, {1, 3, 1, 2}, {2, 1, 3, 1}, {2, 3, 1, 1}};
static const int32_t mixed_out_shapes[4][4] = {
    {2, 3, 3, 2}, {2, 3, 1, 2}, {2, 3, 3, 2}, {2, 3, 1, 2}};

static void test_tflm_quantized_mixed_broadcast(void **state)
{
    (void)state;
    const float scales[] = {0.1f, 0.05f, 0.1f};
    const int zps[] = {-10, -5, 7};
    for (int s = 0; s < 4; s++)
        tflm_add_s8(4, mixed_in1_shape, mixed_v1, 4, mixed_in2_shapes[s], mixed_v2, 4,
                    mixed_out_shapes[s], mixed_golden[s], scales, zps, ACT_NONE);
}

static void tflm_add_f32(uint32_t nd1, const int32_t *d1, const float *v1, uint32_t nd2,
                         const int32_t *d2, const float *v2, uint32_t ndo, const int32_t *dout,
                         const float *golden, int act)
{
    float got[64];
    ew_tensor in[2] = {ew_f32(nd1, d1, v1), ew_f32(nd2, d2, v2)};
    ew_tensor out = ew_f32(ndo, dout, NULL);
    tw_options o = add_opts(act);
    assert_int_equal(ew_run(OP_ADD, &o, in, 2, &out, got, NULL).err, TMO_OK);
    for (size_t i = 0; i < ew_elements(&out); i++)
        assert_float_equal(got[i], golden[i], 1e-5);
}

static void test_tflm_float(void **state)
{
    (void)state;
    const int32_t shape[] = {1, 2, 2, 1};
    const float v1[] = {-2.0f, 0.2f, 0.7f, 0.8f};
    const float v2[] = {0.1f, 0.2f, 0.3f, 0.5f};
    const float golden[] = {-1.9f, 0.4f, 1.0f, 1.3f};
    const float golden_relu1[] = {-1.0f, 0.4f, 1.0f, 1.0f};
    tflm_add_f32(4, shape, v1, 4, shape, v2, 4, shape, golden, ACT_NONE);
    tflm_add_f32(4, shape, v1, 4, shape, v2, 4, shape, golden_relu1, ACT_RELU_N1_TO_1);
    const float various_golden[] = {-1.9f, 0.4f, 1.0f, 1.3f, 2.2f, 2.1f};
    const float scalar_golden[] = {-1.9f, 0.3f, 0.8f, 0.9f, 1.2f, 2.1f};
    const float scalar[] = {0.1f};
    for (int s = 0; s < 4; s++) {
        uint32_t nd = (uint32_t)various_shapes[s][0];
        const int32_t *d = &various_shapes[s][1];
        tflm_add_f32(nd, d, various_v1, nd, d, various_v2, nd, d, various_golden, ACT_NONE);
        tflm_add_f32(nd, d, various_v1, 0, NULL, scalar, nd, d, scalar_golden, ACT_NONE);
    }
    for (int s = 0; s < 4; s++)
        tflm_add_f32(4, mixed_in1_shape, mixed_v1, 4, mixed_in2_shapes[s], mixed_v2, 4,
                     mixed_out_shapes[s], mixed_golden[s], ACT_NONE);
}

/* ---- exact hand-derived cases ---- */

/*
 * With every scale 1 the int8 path is exact: each input becomes v * 2^19
 * (v << 20 times a multiplier of exactly 1/2), the sum times 2^-19 is v1 + v2
 * again, so the output is (a - za) + (b - zb) + zo, clamped. Checked on all
 * 65536 byte pairs via a [256,1] x [1,256] broadcast.
 */
static void test_exact_all_pairs(void **state)
{
    (void)state;
    static int8_t a[256], b[256], got[256 * 256];
    for (int i = 0; i < 256; i++)
        a[i] = b[i] = (int8_t)(i - 128);
    const int32_t da[] = {256, 1}, db[] = {1, 256}, dout[] = {256, 256};
    const int zp_sets[3][3] = {{0, 0, 0}, {-3, 7, 11}, {127, -128, -20}};
    for (int z = 0; z < 3; z++) {
        const int *zp = zp_sets[z];
        ew_tensor in[2] = {ew_s8(2, da, 1.0f, zp[0], a), ew_s8(2, db, 1.0f, zp[1], b)};
        ew_tensor out = ew_s8(2, dout, 1.0f, zp[2], NULL);
        tw_options o = add_opts(ACT_NONE);
        assert_int_equal(ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref).err, TMO_OK);
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 256; j++) {
                int want = (a[i] - zp[0]) + (b[j] - zp[1]) + zp[2];
                want = want < -128 ? -128 : want > 127 ? 127 : want;
                assert_int_equal(got[i * 256 + j], want);
            }
    }
}

/* Fused activations clamp at exactly the quantized 0, 6, -1 and 1 (scale 1: exact sums). */
static void test_exact_activation_clamps(void **state)
{
    (void)state;
    int8_t a[16], b[16], got[16];
    for (int i = 0; i < 16; i++) {
        a[i] = (int8_t)(i * 9 - 70);
        b[i] = (int8_t)(i % 4 - 2);
    }
    const int32_t d[] = {16};
    const int acts[] = {ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1};
    const int lo[] = {0, 0, -1}, hi[] = {127, 6, 1};
    for (int k = 0; k < 3; k++) {
        ew_tensor in[2] = {ew_s8(1, d, 1.0f, 0, a), ew_s8(1, d, 1.0f, 0, b)};
        ew_tensor out = ew_s8(1, d, 1.0f, 0, NULL);
        tw_options o = add_opts(acts[k]);
        assert_int_equal(ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref).err, TMO_OK);
        for (int i = 0; i < 16; i++) {
            int want = a[i] + b[i];
            want = want < lo[k] ? lo[k] : want > hi[k] ? hi[k] : want;
            assert_int_equal(got[i], want);
        }
    }
    /* With a zero point the bounds move with it: RELU6 on scale 0.5, zp -100 clamps to [-100, -88]. */
    ew_tensor in[2] = {ew_s8(1, d, 0.5f, -100, a), ew_s8(1, d, 0.5f, -100, b)};
    ew_tensor out = ew_s8(1, d, 0.5f, -100, NULL);
    tw_options o = add_opts(ACT_RELU6);
    assert_int_equal(ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref).err, TMO_OK);
    for (int i = 0; i < 16; i++) {
        double real = ew_real(a[i], 0.5f, -100) + ew_real(b[i], 0.5f, -100);
        int want = ew_nearest(real, 0.5f, -100, -100, -88);
        assert_int_equal(got[i], want);
    }

    float fa[8] = {-9.0f, -1.5f, -0.25f, 0.0f, 0.5f, 3.0f, 5.5f, 100.0f}, fb[8] = {0}, fg[8];
    const int32_t fd[] = {8};
    const float flo[] = {0.0f, 0.0f, -1.0f}, fhi[] = {INFINITY, 6.0f, 1.0f};
    for (int k = 0; k < 3; k++) {
        ew_tensor fin[2] = {ew_f32(1, fd, fa), ew_f32(1, fd, fb)};
        ew_tensor fout = ew_f32(1, fd, NULL);
        tw_options fo = add_opts(acts[k]);
        assert_int_equal(ew_run(OP_ADD, &fo, fin, 2, &fout, fg, NULL).err, TMO_OK);
        for (int i = 0; i < 8; i++) {
            float want = fa[i] < flo[k] ? flo[k] : fa[i] > fhi[k] ? fhi[k] : fa[i];
            assert_true(fg[i] == want);
        }
    }
}

/* ---- broadcasting ---- */

static void test_broadcast_float(void **state)
{
    (void)state;
    static float a[1024], b[1024], got[1024];
    uint64_t seed = 11;
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
        tw_options o = add_opts(ACT_NONE);
        ew_result r = ew_run(OP_ADD, &o, in, 2, &out, got, NULL);
        if (r.err != TMO_OK)
            fail_msg("case %zu: %s", c, r.msg);
        /* A single float addition per element: the result is exact to compare. */
        if (ew_flat_case(sc)) {
            for (size_t i = 0; i < ew_elements(&out); i++)
                assert_true(got[i] == a[i] + b[i]);
            continue;
        }
        for (size_t i = 0; i < ew_elements(&out); i++) {
            float want = a[ew_bcast_index(&in[0], &out, i)] + b[ew_bcast_index(&in[1], &out, i)];
            if (got[i] != want)
                fail_msg("case %zu element %zu: %g, want %g", c, i, got[i], want);
        }
    }
}

/* int8 against float math: within 1 LSB of the nearest output to the exact real sum. */
static void test_broadcast_s8_float_math(void **state)
{
    (void)state;
    static int8_t a[1024], b[1024], got[1024];
    uint64_t seed = 12;
    size_t n_cases;
    const ew_shape_case *cases = ew_bcast_cases(&n_cases);
    for (int round = 0; round < 4; round++) {
        for (size_t c = 0; c < n_cases; c++) {
            const ew_shape_case *sc = &cases[c];
            float s1 = (float)ew_rand_real(&seed, 0.005, 0.5);
            float s2 = (float)ew_rand_real(&seed, 0.005, 0.5);
            float so = (float)ew_rand_real(&seed, 0.01, 1.0);
            int z1 = ew_rand_int(&seed, -128, 127), z2 = ew_rand_int(&seed, -128, 127);
            int zo = ew_rand_int(&seed, -128, 127);
            ew_tensor in[2] = {ew_s8(sc->n1, sc->d1, s1, z1, a), ew_s8(sc->n2, sc->d2, s2, z2, b)};
            ew_tensor out = ew_s8(sc->no, sc->dout, so, zo, NULL);
            ew_rand_s8(&seed, a, ew_elements(&in[0]));
            ew_rand_s8(&seed, b, ew_elements(&in[1]));
            tw_options o = add_opts(ACT_NONE);
            ew_result r = ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref);
            if (r.err != TMO_OK)
                fail_msg("case %zu: %s", c, r.msg);
            int flat = ew_flat_case(sc);
            for (size_t i = 0; i < ew_elements(&out); i++) {
                size_t ia = flat ? i : ew_bcast_index(&in[0], &out, i);
                size_t ib = flat ? i : ew_bcast_index(&in[1], &out, i);
                double real = ew_real(a[ia], s1, z1) + ew_real(b[ib], s2, z2);
                int want = ew_nearest(real, so, zo, -128, 127);
                if (abs(got[i] - want) > 1)
                    fail_msg("case %zu element %zu: %d, want %d +-1", c, i, got[i], want);
            }
        }
    }
}

/* ---- optimized vs reference ---- */

static void test_opt_matches_ref(void **state)
{
    (void)state;
    static int8_t a[8192], b[8192], got[8192];
    uint64_t seed = 13;
    int tabled = 0, direct = 0;
    for (int iter = 0; iter < 300; iter++) {
        /* random rank-4 output; each input keeps or drops (to 1) each dimension */
        int32_t dout[4], d1[4], d2[4];
        size_t total = 1;
        for (int k = 0; k < 4; k++) {
            dout[k] = ew_rand_int(&seed, 1, iter % 3 == 0 ? 16 : 6);
            total *= (size_t)dout[k];
        }
        if (total > 8192)
            continue;
        if (total >= ADD_TABLE_MIN_COUNT)
            tabled++;
        else
            direct++;
        int mode = ew_rand_int(&seed, 0, 3);
        for (int k = 0; k < 4; k++) {
            d1[k] = mode == 0 || ew_rand_int(&seed, 0, 1) ? dout[k] : 1;
            d2[k] = mode == 0 || ew_rand_int(&seed, 0, 2) ? dout[k] : 1;
        }
        uint32_t n2 = mode == 3 ? (uint32_t)ew_rand_int(&seed, 0, 4) : 4; /* lower-rank input2 */
        const int32_t *d2p = d2 + (4 - n2);
        float s1 = (float)ew_rand_real(&seed, 0.001, 1.0);
        float s2 = (float)ew_rand_real(&seed, 0.001, 1.0);
        float so = (float)ew_rand_real(&seed, 0.01, 2.0);
        ew_tensor in[2] = {ew_s8(4, d1, s1, ew_rand_int(&seed, -128, 127), a),
                           ew_s8(n2, d2p, s2, ew_rand_int(&seed, -128, 127), b)};
        ew_tensor out = ew_s8(4, dout, so, ew_rand_int(&seed, -128, 127), NULL);
        ew_rand_s8(&seed, a, ew_elements(&in[0]));
        ew_rand_s8(&seed, b, ew_elements(&in[1]));
        tw_options o = add_opts(ew_rand_int(&seed, 0, 3));
        ew_result r = ew_run(OP_ADD, &o, in, 2, &out, got, add_s8_ref);
        if (r.err != TMO_OK)
            fail_msg("iteration %d: %s", iter, r.msg);
    }
    /* both optimized paths (tables, and the small-tensor fallback) were exercised */
    assert_true(tabled >= 20 && direct >= 20);
}

/* ---- prepare-time rejections ---- */

static void test_errors(void **state)
{
    (void)state;
    const int32_t d23[] = {2, 3}, d32[] = {3, 2}, d3[] = {3}, d22[] = {2, 2};
    tw_options o = add_opts(ACT_NONE);
    ew_tensor s8 = ew_s8(2, d23, 0.1f, 0, NULL), f32 = ew_f32(2, d23, NULL);

    ew_tensor mixed[2] = {s8, f32};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, mixed, 2, &s8), TMO_EBADMODEL, "types differ");
    ew_tensor fin[2] = {f32, f32};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, fin, 2, &s8), TMO_EBADMODEL, "types differ");

    ew_tensor shapes[2] = {s8, ew_s8(2, d32, 0.1f, 0, NULL)};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, shapes, 2, &s8), TMO_EBADMODEL, "broadcast");
    ew_tensor row[2] = {s8, ew_s8(1, d3, 0.1f, 0, NULL)};
    ew_tensor bad_out = ew_s8(2, d22, 0.1f, 0, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, row, 2, &bad_out), TMO_EBADMODEL, "broadcast");

    ew_tensor i16 = s8;
    i16.type = TMO_INT16;
    ew_tensor i16s[2] = {i16, i16};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, i16s, 2, &i16), TMO_EUNSUPPORTED, "INT16");
    ew_tensor i32 = f32;
    i32.type = TMO_INT32;
    ew_tensor i32s[2] = {i32, i32};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, i32s, 2, &i32), TMO_EUNSUPPORTED, "INT32");

    /* 2 * max input scale / (2^20 * output scale) must stay below 1 */
    ew_tensor big[2] = {ew_s8(2, d23, 1.0f, 0, NULL), ew_s8(2, d23, 1.0f, 0, NULL)};
    ew_tensor tiny_out = ew_s8(2, d23, 1e-7f, 0, NULL);
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, big, 2, &tiny_out), TMO_ERANGE, "scale");

    tw_options tanh_act = add_opts(ACT_TANH);
    ew_tensor ok[2] = {s8, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &tanh_act, ok, 2, &s8), TMO_EUNSUPPORTED, "activation");
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &tanh_act, fin, 2, &f32), TMO_EUNSUPPORTED, "activation");

    tw_options wrong = ew_act_options(OPTIONS_MUL_OPTIONS, 0);
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &wrong, ok, 2, &s8), TMO_EBADMODEL, "options");

    ew_tensor unq = s8;
    unq.quantized = 0;
    ew_tensor unqs[2] = {unq, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, unqs, 2, &s8), TMO_EBADMODEL, "scale");

    ew_tensor pc = ew_s8(2, d23, 0.1f, 0, NULL);
    pc.per_channel = 2;
    ew_tensor pcs[2] = {pc, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, pcs, 2, &s8), TMO_EUNSUPPORTED, "per-channel");

    /* (the model reader already rejects int8 zero points outside [-128, 127]) */
    ew_tensor zp = ew_s8(2, d23, 0.1f, 200, NULL);
    ew_tensor zps[2] = {s8, zp};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, zps, 2, &s8), TMO_EBADMODEL, "zero_point");

    ew_tensor three[3] = {s8, s8, s8};
    EW_EXPECT_FAIL(ew_prepare(OP_ADD, &o, three, 3, &s8), TMO_EBADMODEL, "inputs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tflm_quantized_no_activation),
        cmocka_unit_test(test_tflm_quantized_various_shapes),
        cmocka_unit_test(test_tflm_quantized_scalar_broadcast),
        cmocka_unit_test(test_tflm_quantized_mixed_broadcast),
        cmocka_unit_test(test_tflm_float),
        cmocka_unit_test(test_exact_all_pairs),
        cmocka_unit_test(test_exact_activation_clamps),
        cmocka_unit_test(test_broadcast_float),
        cmocka_unit_test(test_broadcast_s8_float_math),
        cmocka_unit_test(test_opt_matches_ref),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
