/*
 * CONCATENATION against an independent element-by-element model (each
 * output coordinate along the axis picks its input and offset), on every
 * axis of 1- to 4-D tensors, positive and negative axis values, int8 and
 * float, up to TMO_MAX_OP_IO inputs; a hand-derived case; the float fused
 * activation; and prepare errors naming the field.
 */
#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { CONCAT = 2 };

static tw_options concat_options(int32_t axis, int act)
{
    tw_options o = {OPTIONS_CONCATENATION_OPTIONS, 2, {tw_i32(0, axis), tw_u8(1, act)}};
    return o;
}

/* Builds the model with n graph inputs, feeds them and reads the output. */
static void run_concat(const mop_tensor *ins, uint32_t n, const mop_tensor *out, int32_t axis,
                       int act, const void *const *data, const size_t *bytes, void *result,
                       size_t result_bytes)
{
    mop_model m;
    tw_options o = concat_options(axis, act);
    tmo_err e = mop_build(&m, CONCAT, ins, n, out, 1, &o);
    if (e != TMO_OK)
        fail_msg("prepare failed: %s (%s)", tmo_err_name(e), m.diag.field ? m.diag.field : "?");
    for (uint32_t i = 0; i < n; i++)
        mop_set_input(&m, i, data[i], bytes[i]);
    mop_invoke(&m);
    mop_get_output(&m, 0, result, result_bytes);
    mop_close(&m);
}

/* Hand-derived: [[1,2],[3,4]] ++ [[5],[6]] on axis 1 (also written -1) is [[1,2,5],[3,4,6]]. */
static void hand_derived_two_by_two(void **state)
{
    (void)state;
    const int32_t a_dims[2] = {2, 2}, b_dims[2] = {2, 1}, o_dims[2] = {2, 3};
    const float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, want[6] = {1, 2, 5, 3, 4, 6};
    const void *data[2] = {a, b};
    const size_t bytes[2] = {sizeof a, sizeof b};
    mop_tensor ins[2] = {mop_f32(2, a_dims), mop_f32(2, b_dims)};
    mop_tensor out = mop_f32(2, o_dims);
    float got[6];
    run_concat(ins, 2, &out, 1, 0, data, bytes, got, sizeof got);
    assert_memory_equal(got, want, sizeof want);
    run_concat(ins, 2, &out, -1, 0, data, bytes, got, sizeof got);
    assert_memory_equal(got, want, sizeof want);
}

/* Input and offset of output coordinate c along the axis. */
static void locate(const int32_t *sizes, uint32_t n, int32_t c, uint32_t *which, int32_t *at)
{
    uint32_t k = 0;
    while (c >= sizes[k]) {
        c -= sizes[k];
        k++;
    }
    assert_true(k < n);
    *which = k;
    *at = c;
}

static void every_axis_against_model(void **state)
{
    (void)state;
    uint32_t rng = 2024;
    for (int iter = 0; iter < 400; iter++) {
        uint32_t rank = 1 + mop_rand(&rng) % 4;
        uint32_t n = 1 + mop_rand(&rng) % (iter % 10 == 0 ? 16 : 4);
        uint32_t axis = mop_rand(&rng) % rank;
        int is_int8 = iter % 2;
        size_t es = is_int8 ? 1 : 4;
        int32_t base[4], sizes[16], out_dims[4];
        for (uint32_t d = 0; d < rank; d++)
            base[d] = 1 + (int32_t)(mop_rand(&rng) % 4);
        memcpy(out_dims, base, sizeof base);
        out_dims[axis] = 0;
        mop_tensor ins[16];
        void *data[16];
        size_t bytes[16];
        for (uint32_t i = 0; i < n; i++) {
            int32_t dims[4];
            memcpy(dims, base, sizeof dims);
            dims[axis] = sizes[i] = 1 + (int32_t)(mop_rand(&rng) % 3);
            out_dims[axis] += sizes[i];
            ins[i] = is_int8 ? mop_s8(rank, dims, 0.1f, -4) : mop_f32(rank, dims);
            size_t count = 1;
            for (uint32_t d = 0; d < rank; d++)
                count *= (size_t)dims[d];
            bytes[i] = count * es;
            data[i] = malloc(bytes[i]);
            for (size_t j = 0; j < bytes[i]; j++)
                ((uint8_t *)data[i])[j] = (uint8_t)mop_rand(&rng);
            if (!is_int8) /* keep floats finite: small integers */
                for (size_t j = 0; j < count; j++)
                    ((float *)data[i])[j] = (float)(int32_t)(mop_rand(&rng) % 1000);
        }
        mop_tensor out = is_int8 ? mop_s8(rank, out_dims, 0.1f, -4) : mop_f32(rank, out_dims);
        size_t out_count = 1;
        for (uint32_t d = 0; d < rank; d++)
            out_count *= (size_t)out_dims[d];
        uint8_t *got = malloc(out_count * es);
        int32_t axis_value = mop_rand(&rng) % 2 ? (int32_t)axis : (int32_t)axis - (int32_t)rank;
        run_concat(ins, n, &out, axis_value, 0, (const void *const *)data, bytes, got,
                   out_count * es);

        int32_t idx[4] = {0, 0, 0, 0};
        for (size_t k = 0; k < out_count; k++) {
            uint32_t which;
            int32_t at;
            locate(sizes, n, idx[axis], &which, &at);
            size_t src = 0;
            for (uint32_t d = 0; d < rank; d++) {
                int32_t extent = d == axis ? sizes[which] : base[d];
                src = src * (size_t)extent + (size_t)(d == axis ? at : idx[d]);
            }
            assert_memory_equal(got + k * es, (uint8_t *)data[which] + src * es, es);
            for (int32_t d = (int32_t)rank - 1; d >= 0; d--) {
                if (++idx[d] < out_dims[d])
                    break;
                idx[d] = 0;
            }
        }
        for (uint32_t i = 0; i < n; i++)
            free(data[i]);
        free(got);
    }
}

/* Float fused activation clamps after the copy (RELU6: [0, 6]; RELU_N1_TO_1: [-1, 1]). */
static void float_fused_activation(void **state)
{
    (void)state;
    const int32_t dims[1] = {3}, o_dims[1] = {6};
    const float a[3] = {-2, 0.5f, 7}, b[3] = {6, 6.5f, -0.25f};
    const void *data[2] = {a, b};
    const size_t bytes[2] = {sizeof a, sizeof b};
    mop_tensor ins[2] = {mop_f32(1, dims), mop_f32(1, dims)};
    mop_tensor out = mop_f32(1, o_dims);
    float got[6];
    const float relu6[6] = {0, 0.5f, 6, 6, 6, 0};
    run_concat(ins, 2, &out, 0, 3 /* RELU6 */, data, bytes, got, sizeof got);
    assert_memory_equal(got, relu6, sizeof got);
    const float n1[6] = {-1, 0.5f, 1, 1, 1, -0.25f};
    run_concat(ins, 2, &out, 0, 2 /* RELU_N1_TO_1 */, data, bytes, got, sizeof got);
    assert_memory_equal(got, n1, sizeof got);
}

static void errors_name_the_field(void **state)
{
    (void)state;
    const int32_t d23[2] = {2, 3}, d26[2] = {2, 6}, d33[2] = {3, 3}, d25[2] = {2, 5};
    tw_options o = concat_options(1, 0);
    mop_tensor ins[2] = {mop_s8(2, d23, 0.5f, 1), mop_s8(2, d23, 0.5f, 1)};
    mop_tensor out = mop_s8(2, d26, 0.5f, 1);
    ins[1].scale = 0.25f; /* TFLM would copy these bytes unchanged: rejected here */
    mop_expect_error(CONCAT, ins, 2, &out, &o, TMO_EUNSUPPORTED, "inputs.quantization");
    ins[1] = mop_s8(2, d23, 0.5f, 2);
    mop_expect_error(CONCAT, ins, 2, &out, &o, TMO_EUNSUPPORTED, "inputs.quantization");
    ins[1] = mop_s8(2, d23, 0.5f, 1);
    tw_options relu = concat_options(1, 1);
    mop_expect_error(CONCAT, ins, 2, &out, &relu, TMO_EUNSUPPORTED, "fused_activation_function");
    tw_options far = concat_options(2, 0);
    mop_expect_error(CONCAT, ins, 2, &out, &far, TMO_EBADMODEL, "axis");
    tw_options neg = concat_options(-3, 0);
    mop_expect_error(CONCAT, ins, 2, &out, &neg, TMO_EBADMODEL, "axis");
    ins[1] = mop_s8(2, d33, 0.5f, 1);
    mop_expect_error(CONCAT, ins, 2, &out, &o, TMO_EBADMODEL, "inputs");
    ins[1] = mop_s8(2, d23, 0.5f, 1);
    out = mop_s8(2, d25, 0.5f, 1);
    mop_expect_error(CONCAT, ins, 2, &out, &o, TMO_EBADMODEL, "output.shape");
    out = mop_s8(2, d26, 0.5f, 1);
    ins[1] = mop_f32(2, d23);
    mop_expect_error(CONCAT, ins, 2, &out, &o, TMO_EBADMODEL, "inputs");
    ins[0] = mop_f32(2, d23);
    ins[0].type = 2;
    out = mop_f32(2, d26);
    out.type = 2;
    mop_expect_error(CONCAT, ins, 1, &out, &o, TMO_EUNSUPPORTED, "output");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_derived_two_by_two),
        cmocka_unit_test(every_axis_against_model),
        cmocka_unit_test(float_fused_activation),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
