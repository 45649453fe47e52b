/*
 * PAD and PADV2: hand-derived image-style padding, the fill values (0.0,
 * the int8 output zero point, PADV2's constant, also when it is a graph
 * input), random paddings on every dimension of 1- to 5-D tensors against
 * an element-by-element model, and prepare errors naming the field.
 */
#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { PAD = 34, PADV2 = 60 };

static tw_options pad_options(int32_t builtin)
{
    tw_options o = {builtin == PAD ? OPTIONS_PAD_OPTIONS : OPTIONS_PADV2_OPTIONS, 0, {{0}}};
    return o;
}

/* [1,2,2,1] padded by one row/column on each side (TFLM's "image style"). */
static void hand_derived_image_style(void **state)
{
    (void)state;
    const int32_t d[4] = {1, 2, 2, 1}, od[4] = {1, 4, 4, 1}, pd[2] = {4, 2};
    const int32_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0};
    const float in[4] = {1, 2, 3, 4};
    const float want[16] = {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0};
    float out[16];
    mop_tensor ins[2] = {mop_f32(4, d), mop_i32_const(2, pd, pads, 8)};
    mop_tensor o = mop_f32(4, od);
    tw_options opts = pad_options(PAD);
    mop_run1(PAD, ins, 2, &o, &opts, in, sizeof in, out, sizeof out);
    assert_memory_equal(out, want, sizeof want);

    /* int8 PAD fills with the output zero point (the quantized 0.0). */
    const int8_t qin[4] = {-1, 2, -3, 4};
    const int8_t qwant[16] = {5, 5, 5, 5, 5, -1, 2, 5, 5, -3, 4, 5, 5, 5, 5, 5};
    int8_t qout[16];
    ins[0] = mop_s8(4, d, 0.5f, 5);
    o = mop_s8(4, od, 0.5f, 5);
    mop_run1(PAD, ins, 2, &o, &opts, qin, 4, qout, 16);
    assert_memory_equal(qout, qwant, 16);
}

static void padv2_constant_value(void **state)
{
    (void)state;
    const int32_t d[1] = {2}, od[1] = {5}, pd[2] = {1, 2}, one[1] = {1};
    const int32_t pads[2] = {1, 2};
    const float in[2] = {7, 8}, value = -1.5f, want[5] = {-1.5f, 7, 8, -1.5f, -1.5f};
    float out[5];
    mop_tensor ins[3] = {mop_f32(1, d), mop_i32_const(2, pd, pads, 2),
                         mop_const(mop_f32(1, one), &value, sizeof value)};
    mop_tensor o = mop_f32(1, od);
    tw_options opts = pad_options(PADV2);
    mop_run1(PADV2, ins, 3, &o, &opts, in, sizeof in, out, sizeof out);
    assert_memory_equal(out, want, sizeof want);

    const int8_t qin[2] = {1, 2}, qvalue = -100, qwant[5] = {-100, 1, 2, -100, -100};
    int8_t qout[5];
    ins[0] = mop_s8(1, d, 0.1f, 3);
    ins[2] = mop_const(mop_s8(1, one, 0.1f, 3), &qvalue, 1);
    o = mop_s8(1, od, 0.1f, 3);
    mop_run1(PADV2, ins, 3, &o, &opts, qin, 2, qout, 5);
    assert_memory_equal(qout, qwant, 5);

    /* The value may also be computed at run time: here it is a second graph input. */
    ins[2] = mop_s8(1, one, 0.1f, 3);
    mop_model m;
    assert_int_equal(mop_build(&m, PADV2, ins, 3, &o, 1, &opts), TMO_OK);
    mop_set_input(&m, 0, qin, 2);
    mop_set_input(&m, 1, &qvalue, 1);
    mop_invoke(&m);
    mop_get_output(&m, 0, qout, 5);
    assert_memory_equal(qout, qwant, 5);
    mop_close(&m);
}

static void every_dimension_against_model(void **state)
{
    (void)state;
    uint32_t rng = 555;
    for (int iter = 0; iter < 400; iter++) {
        uint32_t rank = 1 + mop_rand(&rng) % 5;
        int32_t d[5], od[5], pads[10];
        const int32_t pd[2] = {(int32_t)rank, 2};
        size_t n_in = 1, n_out = 1;
        for (uint32_t k = 0; k < rank; k++) {
            d[k] = 1 + (int32_t)(mop_rand(&rng) % 3);
            pads[2 * k] = (int32_t)(mop_rand(&rng) % 3);
            pads[2 * k + 1] = (int32_t)(mop_rand(&rng) % 3);
            od[k] = d[k] + pads[2 * k] + pads[2 * k + 1];
            n_in *= (size_t)d[k];
            n_out *= (size_t)od[k];
        }
        int is_int8 = iter % 2;
        size_t es = is_int8 ? 1 : 4;
        uint8_t *in = malloc(n_in * es), *out = malloc(n_out * es);
        for (size_t i = 0; i < n_in; i++) {
            if (is_int8)
                in[i] = (uint8_t)(1 + mop_rand(&rng) % 200); /* never the fill value -9 */
            else
                ((float *)in)[i] = (float)(1 + mop_rand(&rng) % 1000);
        }
        mop_tensor ins[2] = {is_int8 ? mop_s8(rank, d, 0.2f, -9) : mop_f32(rank, d),
                             mop_i32_const(2, pd, pads, 2 * rank)};
        mop_tensor o = is_int8 ? mop_s8(rank, od, 0.2f, -9) : mop_f32(rank, od);
        tw_options opts = pad_options(PAD);
        mop_run1(PAD, ins, 2, &o, &opts, in, n_in * es, out, n_out * es);

        int32_t idx[5] = {0};
        for (size_t k = 0; k < n_out; k++) {
            int inside = 1;
            size_t src = 0;
            for (uint32_t dd = 0; dd < rank; dd++) {
                int32_t c = idx[dd] - pads[2 * dd];
                inside &= c >= 0 && c < d[dd];
                src = src * (size_t)d[dd] + (size_t)(inside ? c : 0);
            }
            if (inside) {
                assert_memory_equal(out + k * es, in + src * es, es);
            } else if (is_int8) {
                assert_int_equal((int8_t)out[k], -9);
            } else {
                assert_true(((float *)out)[k] == 0.0f);
            }
            for (int32_t dd = (int32_t)rank - 1; dd >= 0; dd--) {
                if (++idx[dd] < od[dd])
                    break;
                idx[dd] = 0;
            }
        }
        free(in), free(out);
    }
}

static void errors_name_the_field(void **state)
{
    (void)state;
    const int32_t d[2] = {2, 2}, od[2] = {3, 4}, pd[2] = {2, 2}, one[1] = {1}, two[1] = {2};
    const int32_t pads[4] = {1, 0, 1, 1}, neg[4] = {-1, 2, 1, 1}, wrong[4] = {1, 1, 1, 1};
    tw_options opts = pad_options(PAD), v2 = pad_options(PADV2);
    mop_tensor ins[3] = {mop_f32(2, d), mop_i32_const(2, pd, neg, 4), mop_f32(1, one)};
    mop_tensor o = mop_f32(2, od);
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EUNSUPPORTED, "paddings");
    ins[1] = mop_i32_const(2, pd, wrong, 4);
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EBADMODEL, "output.shape");
    ins[1] = mop_i32_const(2, pd, pads, 4);
    ins[1].data = NULL; /* paddings as a graph input */
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EUNSUPPORTED, "paddings");
    const int64_t pads64[4] = {1, 0, 1, 1};
    ins[1] = mop_const(mop_f32(2, pd), pads64, sizeof pads64);
    ins[1].type = 4; /* INT64: TFLM would read it as int32 */
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EUNSUPPORTED, "paddings");
    ins[1] = mop_i32_const(1, two, pads, 2);
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EBADMODEL, "paddings");
    ins[1] = mop_i32_const(2, pd, pads, 4);
    mop_expect_error(PAD, ins, 3, &o, &opts, TMO_EBADMODEL, "operator.inputs");

    /* PADV2's value: a scalar of the input type and, for int8, the output's quantization. */
    const float two_values[2] = {0, 0};
    ins[2] = mop_const(mop_f32(1, two), two_values, sizeof two_values);
    mop_expect_error(PADV2, ins, 3, &o, &v2, TMO_EBADMODEL, "constant_values");
    const int8_t qv = 0;
    ins[0] = mop_s8(2, d, 0.5f, 0);
    ins[2] = mop_const(mop_s8(1, one, 0.25f, 0), &qv, 1);
    o = mop_s8(2, od, 0.5f, 0);
    mop_expect_error(PADV2, ins, 3, &o, &v2, TMO_EBADMODEL, "constant_values.quantization");

    /* Types and ranks. */
    o = mop_f32(2, od);
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EBADMODEL, "output");
    const int32_t six[6] = {1, 1, 1, 1, 1, 2}, six_out[6] = {1, 1, 1, 1, 1, 2}, p6d[2] = {6, 2};
    const int32_t p6[12] = {0};
    ins[0] = mop_f32(6, six);
    ins[1] = mop_i32_const(2, p6d, p6, 12);
    o = mop_f32(6, six_out);
    mop_expect_error(PAD, ins, 2, &o, &opts, TMO_EUNSUPPORTED, "input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_derived_image_style),
        cmocka_unit_test(padv2_constant_value),
        cmocka_unit_test(every_dimension_against_model),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
