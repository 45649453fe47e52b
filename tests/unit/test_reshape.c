/*
 * RESHAPE, SQUEEZE and EXPAND_DIMS: the output holds the input's bytes
 * unchanged under the output tensor's shape; the interpreter places both
 * tensors at one address so invoke copies nothing, and when they are
 * apart (checked by calling the prepared kernel directly) invoke copies.
 */
#include "kernels/kernel.h"
#include "kernels/ops.h"
#include "misc_op_model.h"
#include "tflite/options_types.h"

enum { RESHAPE = 22, SQUEEZE = 43, EXPAND_DIMS = 70 };

static void data_passes_through_and_memory_is_shared(void **state)
{
    (void)state;
    const int32_t in_dims[3] = {2, 3, 4}, out_dims[2] = {4, 6}, shape[1] = {2};
    const int32_t new_shape[2] = {4, 6};
    float in[24], out[24];
    for (int i = 0; i < 24; i++)
        in[i] = (float)i * 0.5f - 3.0f;
    mop_tensor ins[2] = {mop_f32(3, in_dims), mop_i32_const(1, shape, new_shape, 2)};
    mop_tensor o = mop_f32(2, out_dims);
    tw_options opts = {OPTIONS_RESHAPE_OPTIONS, 1, {tw_vec_i32(0, new_shape, 2)}};
    mop_model m;
    assert_int_equal(mop_build(&m, RESHAPE, ins, 2, &o, 1, &opts), TMO_OK);
    tmo_io a, b;
    assert_int_equal(tmo_interp_input(&m.hm.interp, 0, &a), TMO_OK);
    assert_int_equal(tmo_interp_output(&m.hm.interp, 0, &b), TMO_OK);
    assert_ptr_equal(a.data, b.data); /* alias_output: the planner shares the buffer */
    assert_int_equal(b.ndim, 2);
    mop_set_input(&m, 0, in, sizeof in);
    mop_invoke(&m);
    mop_get_output(&m, 0, out, sizeof out);
    assert_memory_equal(in, out, sizeof in);
    mop_close(&m);
}

static void squeeze_and_expand_dims_int8(void **state)
{
    (void)state;
    const int32_t four[4] = {1, 3, 1, 2}, two[2] = {3, 2}, three[3] = {3, 1, 2}, one[1] = {1};
    const int32_t axis[1] = {1};
    int8_t in[6] = {-128, -1, 0, 1, 64, 127}, out[6];
    mop_tensor ti = mop_s8(4, four, 0.25f, -3), to = mop_s8(2, two, 0.25f, -3);
    mop_run1(SQUEEZE, &ti, 1, &to, NULL, in, 6, out, 6);
    assert_memory_equal(in, out, 6);

    mop_tensor ins[2] = {mop_s8(2, two, 0.25f, -3), mop_i32_const(1, one, axis, 1)};
    to = mop_s8(3, three, 0.25f, -3);
    mop_run1(EXPAND_DIMS, ins, 2, &to, NULL, in, 6, out, 6);
    assert_memory_equal(in, out, 6);
}

/* Prepares the single operator of a model by hand and runs it with input and output apart. */
static void invoke_copies_when_not_aliased(void **state)
{
    (void)state;
    const int32_t in_dims[2] = {2, 5}, out_dims[1] = {10};
    tw_model *w = tw_new();
    int t_in = tw_tensor(w, "in", 9, in_dims, 2, 0, NULL);
    int t_out = tw_tensor(w, "out", 9, out_dims, 1, 0, NULL);
    int32_t ins[1] = {t_in}, outs[1] = {t_out};
    tw_operator(w, RESHAPE, ins, 1, outs, 1, NULL);
    tw_inputs(w, ins, 1);
    tw_outputs(w, outs, 1);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(tw_finish(w, &bytes, &len), 0);
    tw_free(w);
    tmo_model model;
    tmo_op_info op;
    tmo_diag d;
    assert_int_equal(tmo_model_parse(&model, bytes, len, &d), TMO_OK);
    assert_int_equal(tmo_model_op(&model, 0, &op), TMO_OK);

    _Alignas(8) uint8_t mem[256];
    tmo_prep p;
    memset(&p, 0, sizeof p);
    p.m = &model;
    p.op = &op;
    p.diag = &d;
    p.mem = mem;
    p.cap = sizeof mem;
    assert_int_equal(reshape_prepare(&p), TMO_OK);
    assert_int_equal(p.alias_output, 1);

    _Alignas(8) uint8_t arena[64];
    memset(arena, 0xAA, sizeof arena);
    for (int i = 0; i < 10; i++)
        arena[i] = (uint8_t)(i * 7);
    uint32_t loc[2];
    loc[t_in] = 0;
    loc[t_out] = 32;
    tmo_exec x = {arena, model.base, loc};
    p.invoke(&x, p.params, NULL);
    assert_memory_equal(arena + 32, arena, 10);
    assert_int_equal(arena[42], 0xAA); /* nothing past the tensor */
    free(bytes);
}

static void errors_name_the_field(void **state)
{
    (void)state;
    const int32_t six[2] = {2, 3}, five[1] = {5}, flat[1] = {6};
    mop_tensor ti = mop_f32(2, six), to = mop_f32(1, five);
    mop_expect_error(RESHAPE, &ti, 1, &to, NULL, TMO_EBADMODEL, "output.shape");
    to = mop_s8(1, flat, 0.5f, 0);
    mop_expect_error(RESHAPE, &ti, 1, &to, NULL, TMO_EBADMODEL, "output");
    to = mop_f32(1, flat);
    mop_tensor two[2] = {mop_f32(2, six), mop_f32(2, six)};
    mop_expect_error(SQUEEZE, two, 2, &to, NULL, TMO_EBADMODEL, "operator.inputs");
    tw_options wrong = {OPTIONS_SOFTMAX_OPTIONS, 1, {tw_f32(0, 1.0f)}};
    mop_expect_error(RESHAPE, &ti, 1, &to, &wrong, TMO_EBADMODEL, "operator.builtin_options_type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_passes_through_and_memory_is_shared),
        cmocka_unit_test(squeeze_and_expand_dims_int8),
        cmocka_unit_test(invoke_copies_when_not_aliased),
        cmocka_unit_test(errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
