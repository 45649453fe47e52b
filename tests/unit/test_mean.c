/*
 * MEAN. Expectations:
 *  - known answers of TFLite Micro's tensorflow/lite/micro/kernels/reduce_test.cc
 *    (2-D, 3-D and 4-D float means; the int8 variants with scale 0.5);
 *  - a model in this file over random ranks (1..5) and axis sets (negative
 *    and repeated axes included): float within 1e-5 relative of a double
 *    mean; int8 with identical input/output quantization exactly the
 *    truncated integer mean (TFLM's reference_ops::Mean<int8_t, int32_t>);
 *    int8 with different quantization within one output step of the real
 *    mean requantized;
 *  - hand-derived values separating truncation from rounding, and errors.
 */
#include <math.h>

#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { MEAN = 40 };

static tw_options keep(int keep_dims)
{
    tw_options o = {OPTIONS_REDUCER_OPTIONS, 1, {tw_bool(0, keep_dims)}};
    return o;
}

static void run_mean(const mop_tensor *in, const int32_t *axes, int32_t n_axes,
                     const mop_tensor *out, int keep_dims, const void *data, size_t in_bytes,
                     void *result, size_t out_bytes)
{
    mop_tensor ins[2] = {*in, mop_i32_const(1, &n_axes, axes, (size_t)n_axes)};
    tw_options o = keep(keep_dims);
    mop_run1(MEAN, ins, 2, out, &o, data, in_bytes, result, out_bytes);
}

/* reduce_test.cc: MeanFloat{2D,3D,4D}KeepDims and MeanFloat4DWithoutKeepDims. */
static void tflm_float_known_answers(void **state)
{
    (void)state;
    const float data[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                            13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
    float out[4];
    const int32_t d2[2] = {2, 4}, o2[2] = {2, 1}, a2[1] = {1};
    mop_tensor in = mop_f32(2, d2), o = mop_f32(2, o2);
    run_mean(&in, a2, 1, &o, 1, data, 32, out, 8);
    assert_true(out[0] == 2.5f && out[1] == 6.5f);

    const int32_t d3[3] = {2, 2, 2}, o3[3] = {2, 1, 1}, a3[2] = {1, 2};
    in = mop_f32(3, d3), o = mop_f32(3, o3);
    run_mean(&in, a3, 2, &o, 1, data, 32, out, 8);
    assert_true(out[0] == 2.5f && out[1] == 6.5f);

    const int32_t d4[4] = {2, 2, 3, 2}, o4[4] = {2, 1, 1, 2}, o4n[2] = {2, 2};
    const float want4[4] = {6, 7, 18, 19};
    in = mop_f32(4, d4), o = mop_f32(4, o4);
    run_mean(&in, a3, 2, &o, 1, data, 96, out, 16);
    assert_memory_equal(out, want4, 16);
    o = mop_f32(2, o4n);
    run_mean(&in, a3, 2, &o, 0, data, 96, out, 16);
    assert_memory_equal(out, want4, 16);
    /* The same reduction written with negative axes. */
    const int32_t neg[2] = {-3, -2};
    run_mean(&in, neg, 2, &o, 0, data, 96, out, 16);
    assert_memory_equal(out, want4, 16);
}

/* reduce_test.cc: MeanInt8{2D,4D}KeepDims, scale 0.5 zero point 0 in and out. */
static void tflm_int8_known_answers(void **state)
{
    (void)state;
    int8_t q[24], out[4];
    for (int i = 0; i < 24; i++)
        q[i] = (int8_t)(2 * (i + 1)); /* (i + 1) / 0.5 */
    const int32_t d2[2] = {2, 4}, o2[2] = {2, 1}, a2[1] = {1};
    mop_tensor in = mop_s8(2, d2, 0.5f, 0), o = mop_s8(2, o2, 0.5f, 0);
    run_mean(&in, a2, 1, &o, 1, q, 8, out, 2);
    assert_int_equal(out[0], 5); /* 2.5 / 0.5 */
    assert_int_equal(out[1], 13);
    const int32_t d4[4] = {2, 2, 3, 2}, o4[4] = {2, 1, 1, 2}, a4[2] = {1, 2};
    in = mop_s8(4, d4, 0.5f, 0), o = mop_s8(4, o4, 0.5f, 0);
    run_mean(&in, a4, 2, &o, 1, q, 24, out, 4);
    const int8_t want[4] = {12, 14, 36, 38};
    assert_memory_equal(out, want, 4);
}

/*
 * Hand-derived: the mean of {-1, -2} is -1.5 quantization steps. With equal
 * input and output quantization TFLM divides the raw sum with C's truncating
 * division (-3 / 2 = -1); with different quantization it requantizes with
 * rounding: scale 1 -> 0.5 makes it -3 exactly, and {1, 2} at scale 1 ->
 * scale 2 is 0.75 -> 1 (half away from zero would also give 1).
 */
static void truncation_versus_requantization(void **state)
{
    (void)state;
    const int32_t d[1] = {2}, o1[1] = {1}, axis[1] = {0};
    const int8_t neg[2] = {-1, -2}, pos[2] = {1, 2};
    int8_t out[1];
    mop_tensor in = mop_s8(1, d, 1.0f, 0), o = mop_s8(1, o1, 1.0f, 0);
    run_mean(&in, axis, 1, &o, 1, neg, 2, out, 1);
    assert_int_equal(out[0], -1);
    o = mop_s8(1, o1, 0.5f, 0);
    run_mean(&in, axis, 1, &o, 1, neg, 2, out, 1);
    assert_int_equal(out[0], -3);
    o = mop_s8(1, o1, 2.0f, 0);
    run_mean(&in, axis, 1, &o, 1, pos, 2, out, 1);
    assert_int_equal(out[0], 1);
    /*
     * Zero points: input zp 10 (reals 0 and 5), output scale 1 zp -20. TFLM
     * requantizes sum - zp * count = 5 by 1/2 with a rounding doubling
     * high multiply, which rounds 2.5 up to 3: -20 + 3 = -17.
     */
    const int8_t zpv[2] = {10, 15};
    in = mop_s8(1, d, 1.0f, 10);
    o = mop_s8(1, o1, 1.0f, -20);
    run_mean(&in, axis, 1, &o, 1, zpv, 2, out, 1);
    assert_int_equal(out[0], -17);
}

typedef struct mean_case {
    uint32_t rank;
    int32_t dims[5];
    int32_t axes[6];
    int32_t n_axes;
    uint8_t reduced[5];
    int keep_dims;
    int32_t out_dims[5];
    uint32_t out_rank;
    size_t n_in, n_out, count;
} mean_case;

static void random_case(uint32_t *rng, mean_case *c)
{
    memset(c, 0, sizeof *c);
    c->rank = 1 + mop_rand(rng) % 5;
    c->n_in = 1;
    for (uint32_t d = 0; d < c->rank; d++) {
        c->dims[d] = 1 + (int32_t)(mop_rand(rng) % 4);
        c->n_in *= (size_t)c->dims[d];
    }
    c->n_axes = (int32_t)(mop_rand(rng) % 4); /* 0..3 entries, repeats allowed */
    for (int32_t i = 0; i < c->n_axes; i++) {
        int32_t a = (int32_t)(mop_rand(rng) % c->rank);
        c->reduced[a] = 1;
        c->axes[i] = mop_rand(rng) % 2 ? a : a - (int32_t)c->rank;
    }
    if (c->n_axes == 0) { /* an empty axis list is allowed but dull: reduce one axis */
        c->axes[0] = 0;
        c->n_axes = 1;
        c->reduced[0] = 1;
    }
    c->keep_dims = (int)(mop_rand(rng) % 2);
    c->n_out = 1;
    c->count = 1;
    for (uint32_t d = 0; d < c->rank; d++) {
        if (c->reduced[d])
            c->count *= (size_t)c->dims[d];
        else
            c->n_out *= (size_t)c->dims[d];
        if (!c->reduced[d] || c->keep_dims)
            c->out_dims[c->out_rank++] = c->reduced[d] ? 1 : c->dims[d];
    }
    if (c->out_rank == 0) { /* everything reduced without keep_dims: a scalar */
        c->out_dims[0] = 1;
        c->out_rank = 1;
    }
}

/* Sum of each output's inputs, visiting the input in order. */
static void model_sums(const mean_case *c, const double *in, double *sums)
{
    int32_t idx[5] = {0};
    for (size_t o = 0; o < c->n_out; o++)
        sums[o] = 0.0;
    for (size_t i = 0; i < c->n_in; i++) {
        size_t o = 0;
        for (uint32_t d = 0; d < c->rank; d++)
            if (!c->reduced[d])
                o = o * (size_t)c->dims[d] + (size_t)idx[d];
        sums[o] += in[i];
        for (int32_t d = (int32_t)c->rank - 1; d >= 0; d--) {
            if (++idx[d] < c->dims[d])
                break;
            idx[d] = 0;
        }
    }
}

static void random_against_model(void **state)
{
    (void)state;
    uint32_t rng = 31337;
    for (int iter = 0; iter < 600; iter++) {
        mean_case c;
        random_case(&rng, &c);
        double *din = malloc(8 * c.n_in), *sums = malloc(8 * c.n_out);
        int kind = iter % 3; /* 0 float, 1 int8 same quantization, 2 int8 requantized */
        if (kind == 0) {
            float *in = malloc(4 * c.n_in), *out = malloc(4 * c.n_out);
            for (size_t i = 0; i < c.n_in; i++)
                din[i] = in[i] = (float)((int32_t)(mop_rand(&rng) % 2001) - 1000) / 64.0f;
            mop_tensor ti = mop_f32(c.rank, c.dims), to = mop_f32(c.out_rank, c.out_dims);
            run_mean(&ti, c.axes, c.n_axes, &to, c.keep_dims, in, 4 * c.n_in, out, 4 * c.n_out);
            model_sums(&c, din, sums);
            for (size_t o = 0; o < c.n_out; o++) {
                double want = sums[o] / (double)c.count;
                assert_true(fabs(out[o] - want) <= 1e-5 * fmax(1.0, fabs(want)));
            }
            free(in), free(out);
        } else {
            int8_t *in = malloc(c.n_in), *out = malloc(c.n_out);
            for (size_t i = 0; i < c.n_in; i++)
                din[i] = in[i] = (int8_t)mop_rand(&rng);
            float in_scale = 0.05f, out_scale = kind == 1 ? 0.05f : 0.03f;
            int32_t in_zp = -7, out_zp = kind == 1 ? -7 : 12;
            mop_tensor ti = mop_s8(c.rank, c.dims, in_scale, in_zp);
            mop_tensor to = mop_s8(c.out_rank, c.out_dims, out_scale, out_zp);
            run_mean(&ti, c.axes, c.n_axes, &to, c.keep_dims, in, c.n_in, out, c.n_out);
            model_sums(&c, din, sums);
            for (size_t o = 0; o < c.n_out; o++) {
                if (kind == 1) {
                    assert_int_equal(out[o], (int8_t)trunc(sums[o] / (double)c.count));
                } else {
                    double real = in_scale * (sums[o] / (double)c.count - in_zp);
                    assert_true(abs(out[o] - mop_quantize(real, out_scale, out_zp)) <= 1);
                }
            }
            free(in), free(out);
        }
        free(din), free(sums);
    }
}

static void errors_name_the_field(void **state)
{
    (void)state;
    const int32_t d[2] = {2, 3}, o[2] = {2, 1}, one[1] = {1}, three[1] = {3};
    const int32_t axis[1] = {1}, bad_axis[1] = {2};
    tw_options k = keep(1);
    mop_tensor ins[2] = {mop_f32(2, d), mop_i32_const(1, one, axis, 1)};
    mop_tensor out = mop_f32(2, o);
    ins[1].data = NULL; /* axis as a graph input */
    mop_expect_error(MEAN, ins, 2, &out, &k, TMO_EUNSUPPORTED, "axis");
    ins[1] = mop_i32_const(1, one, bad_axis, 1);
    mop_expect_error(MEAN, ins, 2, &out, &k, TMO_EBADMODEL, "axis");
    const int64_t axis64[1] = {1};
    ins[1] = mop_const(mop_f32(1, one), axis64, sizeof axis64);
    ins[1].type = 4; /* INT64 */
    mop_expect_error(MEAN, ins, 2, &out, &k, TMO_EUNSUPPORTED, "axis");
    ins[1] = mop_i32_const(1, one, axis, 1);
    out = mop_f32(1, three); /* the mean over axis 1 has 2 elements */
    mop_expect_error(MEAN, ins, 2, &out, &k, TMO_EBADMODEL, "output.shape");
    out = mop_s8(2, o, 0.5f, 0);
    mop_expect_error(MEAN, ins, 2, &out, &k, TMO_EBADMODEL, "output");
    mop_expect_error(MEAN, ins, 1, &out, &k, TMO_EBADMODEL, "operator.inputs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tflm_float_known_answers),
        cmocka_unit_test(tflm_int8_known_answers),
        cmocka_unit_test(truncation_versus_requantization),
        cmocka_unit_test(random_against_model),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
