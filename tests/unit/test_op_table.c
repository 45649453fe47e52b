/*
 * Operator tables (tinymlops/ops.h): the registrations generated from
 * ops.def carry the right builtin codes under the right names, tmo_ops_all
 * lists exactly ops.def, and an interpreter given a table runs the models
 * whose operators it names (with the same results and arena as with every
 * operator) and refuses the others, naming the operator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/interp.h"
#include "tinymlops/ops.h"

/* The codes of ops.def, read the way the registry reads them. */
static const int32_t def_codes[] = {
#define X(code, fn) code,
#include "kernels/ops.def"
#undef X
};
#define DEF_COUNT (sizeof def_codes / sizeof def_codes[0])

static void builtin_names_match_schema(void **state)
{
    (void)state;
#define CHECK(code, name) assert_string_equal(tmo_builtin_name(code), #name);
    TMO_BUILTIN_FOREACH(CHECK)
#undef CHECK
    assert_int_equal(TMO_BUILTIN_CONV_2D, 3);
    assert_int_equal(TMO_BUILTIN_FULLY_CONNECTED, 9);
}

static void all_is_ops_def(void **state)
{
    (void)state;
    assert_int_equal(tmo_ops_all.count, DEF_COUNT);
    for (size_t i = 0; i < DEF_COUNT; i++) {
        const tmo_op_reg *r = tmo_op_find(&tmo_ops_all, def_codes[i]);
        assert_non_null(r);
        assert_int_equal(r->builtin, def_codes[i]);
        assert_non_null(r->prepare);
        assert_true(tmo_interp_supports(def_codes[i]));
    }
    /* Named registrations carry their own code; aliases of one kernel share its prepare. */
    assert_int_equal(TMO_OP(CONV_2D)->builtin, TMO_BUILTIN_CONV_2D);
    assert_int_equal(TMO_OP(SOFTMAX)->builtin, 25);
    assert_int_equal(TMO_OP(SQUEEZE)->builtin, 43);
    assert_ptr_equal(TMO_OP(SQUEEZE)->prepare, TMO_OP(RESHAPE)->prepare);
    assert_null(tmo_op_find(&tmo_ops_all, 32)); /* CUSTOM */
    assert_false(tmo_interp_supports(TMO_BUILTIN_SVDF));
}

/* y = relu(W2 * relu(W1 * x)): two FULLY_CONNECTED operators, float. */
static uint8_t *fc_model(size_t *len)
{
    static const float w1[6] = {1, -2, 0.5f, 3, -1, 2}, w2[6] = {0.25f, 1, -1, 2, 0.5f, -0.5f};
    tw_model *m = tw_new();
    int b1 = tw_buffer(m, w1, sizeof w1), b2 = tw_buffer(m, w2, sizeof w2);
    int32_t x = tw_tensor(m, "x", TMO_FLOAT32, (int32_t[]){1, 2}, 2, 0, NULL);
    int32_t k1 = tw_tensor(m, "w1", TMO_FLOAT32, (int32_t[]){3, 2}, 2, b1, NULL);
    int32_t h = tw_tensor(m, "h", TMO_FLOAT32, (int32_t[]){1, 3}, 2, 0, NULL);
    int32_t k2 = tw_tensor(m, "w2", TMO_FLOAT32, (int32_t[]){2, 3}, 2, b2, NULL);
    int32_t y = tw_tensor(m, "y", TMO_FLOAT32, (int32_t[]){1, 2}, 2, 0, NULL);
    tw_options relu = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 1)}};
    tw_operator(m, TMO_BUILTIN_FULLY_CONNECTED, (int32_t[]){x, k1, -1}, 3, &h, 1, &relu);
    tw_operator(m, TMO_BUILTIN_FULLY_CONNECTED, (int32_t[]){h, k2, -1}, 3, &y, 1, &relu);
    tw_inputs(m, &x, 1);
    tw_outputs(m, &y, 1);
    uint8_t *bytes;
    assert_int_equal(tw_finish(m, &bytes, len), 0);
    tw_free(m);
    return bytes;
}

static void run(tmo_interp *it, float out[2])
{
    tmo_io io;
    const float x[2] = {1.5f, -0.5f};
    assert_int_equal(tmo_interp_input(it, 0, &io), TMO_OK);
    memcpy(io.data, x, sizeof x);
    assert_int_equal(tmo_interp_invoke(it), TMO_OK);
    assert_int_equal(tmo_interp_output(it, 0, &io), TMO_OK);
    memcpy(out, io.data, 2 * sizeof(float));
}

static void named_table_runs_and_refuses(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = fc_model(&len);
    tmo_model m;
    tmo_diag d;
    assert_int_equal(tmo_model_parse(&m, bytes, len, &d), TMO_OK);
    static uint8_t work[16384] __attribute__((aligned(16)));
    static uint8_t arena[16384] __attribute__((aligned(16)));

    const tmo_op_reg *fc_only[] = {TMO_OP(FULLY_CONNECTED)};
    const tmo_op_table fc = TMO_OP_TABLE(fc_only);
    size_t need_all = 0, need_fc = 0;
    assert_int_equal(tmo_interp_arena_size(&m, work, sizeof work, &need_all, &d), TMO_OK);
    assert_int_equal(tmo_interp_arena_size_ops(&m, &fc, work, sizeof work, &need_fc, &d), TMO_OK);
    assert_int_equal(need_fc, need_all);

    tmo_interp it;
    float with_all[2], with_fc[2];
    assert_int_equal(tmo_interp_init(&it, &m, arena, need_all, &d), TMO_OK);
    run(&it, with_all);
    assert_int_equal(tmo_interp_init_ops(&it, &m, &fc, arena, need_fc, &d), TMO_OK);
    run(&it, with_fc);
    assert_memory_equal(with_all, with_fc, sizeof with_all);
    /* Independent expectation: h = relu([1.5+1, 0.75-1.5, -1.5-1]) = [2.5, 0, 0];
     * y = relu([0.625, 5]) */
    assert_true(with_fc[0] == 0.625f && with_fc[1] == 5.0f);

    /* A table without FULLY_CONNECTED: refused at init, naming operator 0 by its code... */
    const tmo_op_reg *conv_only[] = {TMO_OP(CONV_2D), NULL};
    tmo_op_table conv = TMO_OP_TABLE(conv_only);
    assert_int_equal(tmo_interp_init_ops(&it, &m, &conv, arena, sizeof arena, &d),
                     TMO_EUNSUPPORTED);
    assert_int_equal(d.where, TMO_AT_OPERATOR);
    assert_int_equal(d.index, 0);
    assert_null(d.op_name);
    assert_true(d.has_value);
    assert_int_equal(d.value, TMO_BUILTIN_FULLY_CONNECTED);
    /* ...and by name when the table can name operators. */
    conv.name_of = tmo_builtin_name;
    assert_int_equal(tmo_interp_init_ops(&it, &m, &conv, arena, sizeof arena, &d),
                     TMO_EUNSUPPORTED);
    assert_string_equal(d.op_name, "FULLY_CONNECTED");
    /* Errors raised inside a kernel's prepare carry the registration's name. */
    assert_string_equal(TMO_OP(FULLY_CONNECTED)->name, "FULLY_CONNECTED");
    assert_int_equal(tmo_interp_invoke(&it), TMO_ESTATE);
    assert_int_equal(tmo_interp_init_ops(&it, &m, NULL, arena, sizeof arena, &d), TMO_EINVAL);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_names_match_schema),
        cmocka_unit_test(all_is_ops_def),
        cmocka_unit_test(named_table_runs_and_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
