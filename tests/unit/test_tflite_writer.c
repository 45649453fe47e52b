/*
 * Round-trip tests of the TFLite writer (host/tflite_writer.c, fbb.c):
 * what is written must come back field by field through the device reader,
 * run through the interpreter with the results a plain computation gives,
 * and, independently of our reader, follow the flatbuffer layout rules
 * (checked here by decoding raw bytes at hand-computed offsets).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"

enum { FULLY_CONNECTED = 9, RESHAPE = 22, CUSTOM = 32, HIGH_CODE = 150 };

/* ---- independent raw flatbuffer decoding (spec: flatbuffers "internals") ---- */

static uint32_t rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Position of field id of the table at pos, 0 when absent (vtable = table - soffset). */
static uint32_t raw_field(const uint8_t *b, uint32_t table, unsigned id)
{
    uint32_t vt = (uint32_t)((int64_t)table - (int32_t)rd_u32(b + table));
    uint16_t vt_size = rd_u16(b + vt);
    if (4u + 2u * id >= vt_size)
        return 0;
    uint16_t off = rd_u16(b + vt + 4 + 2 * id);
    return off ? table + off : 0;
}

/* Follows the uoffset stored at pos. */
static uint32_t raw_deref(const uint8_t *b, uint32_t pos)
{
    return pos + rd_u32(b + pos);
}

/* ---- model building ---- */

typedef struct {
    uint8_t *bytes;
    size_t len;
} blob;

static blob finish(tw_model *m)
{
    blob b;
    assert_int_equal(tw_finish(m, &b.bytes, &b.len), 0);
    tw_free(m);
    return b;
}

static tmo_model parse(blob b)
{
    tmo_model m;
    tmo_diag d;
    assert_int_equal(tmo_model_parse(&m, b.bytes, b.len, &d), TMO_OK);
    return m;
}

static const float fc_scales[3] = {0.02f, 0.005f, 0.0125f};
static const int8_t fc_weights[3 * 4] = {1, -2, 3, -4, 127, -128, 0, 5, 9, 8, 7, -6};
static const int32_t fc_bias[3] = {100, -2000, 7};

/* int8 FULLY_CONNECTED [1,4] x [3,4] -> [1,3], per-channel weights when per_channel. */
static blob fc_int8_model(int per_channel, int activation)
{
    tw_model *m = tw_new();
    assert_non_null(m);
    tw_description(m, "fc int8");
    int bw = tw_buffer(m, fc_weights, sizeof fc_weights);
    int bb = tw_buffer(m, fc_bias, sizeof fc_bias);
    float in_s = 0.05f, out_s = 0.1f, w_s = 0.01f;
    int64_t in_zp = 3, out_zp = -5;
    float b_scales[3];
    for (int c = 0; c < 3; c++)
        b_scales[c] = in_s * (per_channel ? fc_scales[c] : w_s);
    tw_quant qin = {1, &in_s, &in_zp, 0}, qout = {1, &out_s, &out_zp, 0};
    tw_quant qw = per_channel ? (tw_quant){3, fc_scales, NULL, 0} : (tw_quant){1, &w_s, NULL, 0};
    tw_quant qb = {per_channel ? 3 : 1, b_scales, NULL, 0};
    int32_t din[2] = {1, 4}, dw[2] = {3, 4}, db[1] = {3}, dout[2] = {1, 3};
    int32_t t[4];
    t[0] = tw_tensor(m, "input", TMO_INT8, din, 2, 0, &qin);
    t[1] = tw_tensor(m, "weights", TMO_INT8, dw, 2, bw, &qw);
    t[2] = tw_tensor(m, "bias", TMO_INT32, db, 1, bb, &qb);
    t[3] = tw_tensor(m, "output", TMO_INT8, dout, 2, 0, &qout);
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 2, {tw_u8(0, activation), tw_u8(1, 0)}};
    assert_int_equal(tw_operator(m, FULLY_CONNECTED, t, 3, &t[3], 1, &o), 0);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[3], 1);
    return finish(m);
}

static void check_tensor(const tmo_model *m, uint32_t idx, const char *name, int32_t type,
                         const int32_t *dims, uint32_t ndim, uint32_t buffer)
{
    tmo_tensor_info ti;
    assert_int_equal(tmo_model_tensor(m, idx, &ti), TMO_OK);
    assert_int_equal(ti.type, type);
    assert_int_equal(ti.ndim, ndim);
    size_t elements = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        assert_int_equal(ti.dims[i], dims[i]);
        elements *= (size_t)dims[i];
    }
    assert_int_equal(ti.elements, elements);
    assert_int_equal(ti.buffer, buffer);
    assert_int_equal(ti.name_len, strlen(name));
    assert_memory_equal(ti.name, name, strlen(name));
}

/* ---- tests ---- */

static void fc_int8_fields_round_trip(int per_channel)
{
    blob b = fc_int8_model(per_channel, 1);
    tmo_model m = parse(b);
    assert_int_equal(m.version, 3);
    assert_int_equal(m.subgraph_count, 1);
    assert_int_equal(m.buffer_count, 3);
    assert_int_equal(m.tensor_count, 4);
    assert_int_equal(m.op_count, 1);
    assert_int_equal(m.opcode_count, 1);
    assert_int_equal(m.description_len, 7);
    assert_memory_equal(m.description, "fc int8", 7);
    assert_int_equal(m.input_count, 1);
    assert_int_equal(m.output_count, 1);
    assert_int_equal(tmo_model_input(&m, 0), 0);
    assert_int_equal(tmo_model_output(&m, 0), 3);

    check_tensor(&m, 0, "input", TMO_INT8, (int32_t[]){1, 4}, 2, 0);
    check_tensor(&m, 1, "weights", TMO_INT8, (int32_t[]){3, 4}, 2, 1);
    check_tensor(&m, 2, "bias", TMO_INT32, (int32_t[]){3}, 1, 2);
    check_tensor(&m, 3, "output", TMO_INT8, (int32_t[]){1, 3}, 2, 0);

    tmo_tensor_info ti;
    tmo_model_tensor(&m, 0, &ti);
    assert_null(ti.data);
    assert_int_equal(ti.scale_count, 1);
    assert_true(ti.scale == 0.05f);
    assert_int_equal(ti.zero_point, 3);
    tmo_model_tensor(&m, 3, &ti);
    assert_true(ti.scale == 0.1f);
    assert_int_equal(ti.zero_point, -5);

    tmo_model_tensor(&m, 1, &ti);
    assert_non_null(ti.data);
    assert_int_equal(ti.bytes, sizeof fc_weights);
    assert_memory_equal(ti.data, fc_weights, sizeof fc_weights);
    assert_int_equal(ti.quant_dim, 0);
    assert_int_equal(ti.scale_count, per_channel ? 3 : 1);
    for (uint32_t c = 0; c < ti.scale_count; c++) {
        assert_true(tmo_tensor_scale(&ti, c) == (per_channel ? fc_scales[c] : 0.01f));
        assert_int_equal(tmo_tensor_zero_point(&ti, c), 0);
    }
    tmo_model_tensor(&m, 2, &ti);
    assert_int_equal(ti.bytes, sizeof fc_bias);
    assert_memory_equal(ti.data, fc_bias, sizeof fc_bias);

    tmo_op_info op;
    assert_int_equal(tmo_model_op(&m, 0, &op), TMO_OK);
    assert_int_equal(op.builtin, FULLY_CONNECTED);
    assert_int_equal(op.version, 1);
    assert_null(op.custom_name);
    assert_int_equal(op.input_count, 3);
    assert_int_equal(op.output_count, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(op.inputs[i], i);
    assert_int_equal(op.outputs[0], 3);
    assert_int_equal(op.options_type, OPTIONS_FULLY_CONNECTED_OPTIONS);
    uint8_t act = 0, fmt = 9, absent = 0;
    assert_int_equal(tmo_opt_u8(&m, &op, 0, 7, &act), TMO_OK);
    assert_int_equal(tmo_opt_u8(&m, &op, 1, 7, &fmt), TMO_OK);
    assert_int_equal(tmo_opt_u8(&m, &op, 2, 42, &absent), TMO_OK);
    assert_int_equal(act, 1);
    assert_int_equal(fmt, 0);
    assert_int_equal(absent, 42); /* not written: the default comes back */
    free(b.bytes);
}

static void test_fc_int8_per_tensor(void **state)
{
    (void)state;
    fc_int8_fields_round_trip(0);
}

static void test_fc_int8_per_channel(void **state)
{
    (void)state;
    fc_int8_fields_round_trip(1);
}

/* Runs the int8 model and compares with float math re-quantized (within 1 LSB of rounding). */
static void test_fc_int8_runs(void **state)
{
    (void)state;
    for (int per_channel = 0; per_channel < 2; per_channel++) {
        blob b = fc_int8_model(per_channel, 0);
        host_model hm;
        char err[256];
        assert_int_equal(host_model_open_bytes(&hm, b.bytes, b.len, err, sizeof err), TMO_OK);
        tmo_io in, out;
        assert_int_equal(tmo_interp_input(&hm.interp, 0, &in), TMO_OK);
        const int8_t x[4] = {-128, 0, 57, 127};
        memcpy(in.data, x, 4);
        assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
        assert_int_equal(tmo_interp_output(&hm.interp, 0, &out), TMO_OK);
        const int8_t *y = out.data;
        for (int c = 0; c < 3; c++) {
            double ws = per_channel ? fc_scales[c] : 0.01f, acc = fc_bias[c];
            for (int k = 0; k < 4; k++)
                acc += (double)(x[k] - 3) * fc_weights[c * 4 + k];
            double q = round(acc * 0.05f * ws / 0.1f) - 5;
            q = q < -128 ? -128 : q > 127 ? 127 : q;
            assert_true(fabs(y[c] - q) <= 1.0);
        }
        host_model_close(&hm); /* frees b.bytes too */
    }
}

/* Float FULLY_CONNECTED [2,3] x [4,3] + bias, RELU, run end to end. */
static void test_fc_float_runs(void **state)
{
    (void)state;
    const float w[12] = {0.5f, -1, 2, 1.5f, 0.25f, -3, -0.75f, 1, 1, 2, -2, 0.125f};
    const float bias[4] = {0.1f, -0.2f, 0.3f, -5};
    tw_model *m = tw_new();
    int bw = tw_buffer(m, w, sizeof w), bb = tw_buffer(m, bias, sizeof bias);
    int32_t t[4];
    t[0] = tw_tensor(m, "x", TMO_FLOAT32, (int32_t[]){2, 3}, 2, 0, NULL);
    t[1] = tw_tensor(m, "w", TMO_FLOAT32, (int32_t[]){4, 3}, 2, bw, NULL);
    t[2] = tw_tensor(m, "b", TMO_FLOAT32, (int32_t[]){4}, 1, bb, NULL);
    t[3] = tw_tensor(m, "y", TMO_FLOAT32, (int32_t[]){2, 4}, 2, 0, NULL);
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 1 /* RELU */)}};
    tw_operator(m, FULLY_CONNECTED, t, 3, &t[3], 1, &o);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[3], 1);
    blob b = finish(m);
    tmo_model pm = parse(b);
    tmo_tensor_info ti;
    tmo_model_tensor(&pm, 1, &ti);
    assert_int_equal(ti.scale_count, 0);
    assert_memory_equal(ti.data, w, sizeof w);

    host_model hm;
    char err[256];
    assert_int_equal(host_model_open_bytes(&hm, b.bytes, b.len, err, sizeof err), TMO_OK);
    const float x[6] = {1, 2, 3, -1, 0.5f, 4};
    tmo_io in, out;
    tmo_interp_input(&hm.interp, 0, &in);
    assert_int_equal(in.bytes, sizeof x);
    memcpy(in.data, x, sizeof x);
    assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
    tmo_interp_output(&hm.interp, 0, &out);
    const float *y = out.data;
    for (int n = 0; n < 2; n++)
        for (int u = 0; u < 4; u++) {
            double acc = bias[u];
            for (int k = 0; k < 3; k++)
                acc += (double)x[n * 3 + k] * w[u * 3 + k];
            double want = acc > 0 ? acc : 0;
            assert_true(fabs(y[n * 4 + u] - want) <= 1e-5 * (1 + fabs(want)));
        }
    host_model_close(&hm);
}

/* Options of every kind, including int vectors, come back by field id. */
static void test_options_round_trip(void **state)
{
    (void)state;
    static const int32_t shape[3] = {2, -1, 7};
    static const int32_t empty[1] = {0};
    tw_model *m = tw_new();
    int32_t a = tw_tensor(m, "a", TMO_FLOAT32, (int32_t[]){2, 7}, 2, 0, NULL);
    int32_t c = tw_tensor(m, "c", TMO_FLOAT32, (int32_t[]){2, 1, 7}, 3, 0, NULL);
    tw_options o = {OPTIONS_RESHAPE_OPTIONS, 6,
                    {tw_vec_i32(0, shape, 3), tw_i32(1, -123456), tw_u8(2, 200), tw_bool(3, 5),
                     tw_f32(5, -2.5f), tw_vec_i32(9, empty, 0)}};
    tw_operator(m, RESHAPE, &a, 1, &c, 1, &o);
    tw_inputs(m, &a, 1);
    tw_outputs(m, &c, 1);
    blob b = finish(m);
    tmo_model pm = parse(b);
    tmo_op_info op;
    tmo_model_op(&pm, 0, &op);
    assert_int_equal(op.builtin, RESHAPE);
    assert_int_equal(op.options_type, OPTIONS_RESHAPE_OPTIONS);
    const uint8_t *v;
    uint32_t n;
    assert_int_equal(tmo_opt_vec_i32(&pm, &op, 0, &v, &n), TMO_OK);
    assert_int_equal(n, 3);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal((int32_t)rd_u32(v + 4 * i), shape[i]);
    assert_int_equal(tmo_opt_vec_i32(&pm, &op, 9, &v, &n), TMO_OK);
    assert_int_equal(n, 0);
    int32_t i32;
    uint8_t u8;
    float f;
    assert_int_equal(tmo_opt_i32(&pm, &op, 1, 0, &i32), TMO_OK);
    assert_int_equal(i32, -123456);
    assert_int_equal(tmo_opt_u8(&pm, &op, 2, 0, &u8), TMO_OK);
    assert_int_equal(u8, 200);
    assert_int_equal(tmo_opt_u8(&pm, &op, 3, 0, &u8), TMO_OK);
    assert_int_equal(u8, 1); /* a bool is stored as 1 */
    assert_int_equal(tmo_opt_f32(&pm, &op, 5, 0, &f), TMO_OK);
    assert_true(f == -2.5f);
    assert_int_equal(tmo_opt_i32(&pm, &op, 4, 77, &i32), TMO_OK);
    assert_int_equal(i32, 77); /* gap in the ids: absent */
    free(b.bytes);
}

/* Opcodes are shared by (builtin, custom name); codes >= 127 use the 32-bit field. */
static void test_opcodes_and_custom(void **state)
{
    (void)state;
    tw_model *m = tw_new();
    int32_t t[6];
    for (int i = 0; i < 6; i++)
        t[i] = tw_tensor(m, NULL, TMO_FLOAT32, (int32_t[]){4}, 1, 0, NULL);
    tw_custom_operator(m, "MyOp", &t[0], 1, &t[1], 1);
    tw_operator(m, HIGH_CODE, &t[1], 1, &t[2], 1, NULL);
    tw_custom_operator(m, "Other", &t[2], 1, &t[3], 1);
    tw_custom_operator(m, "MyOp", &t[3], 1, &t[4], 1);
    tw_operator(m, HIGH_CODE, &t[4], 1, &t[5], 1, NULL);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[5], 1);
    blob b = finish(m);
    tmo_model pm = parse(b);
    assert_int_equal(pm.opcode_count, 3);
    static const char *const names[5] = {"MyOp", NULL, "Other", "MyOp", NULL};
    for (uint32_t i = 0; i < 5; i++) {
        tmo_op_info op;
        assert_int_equal(tmo_model_op(&pm, i, &op), TMO_OK);
        assert_int_equal(op.options_type, 0);
        assert_int_equal(op.inputs[0], t[i]);
        assert_int_equal(op.outputs[0], t[i + 1]);
        if (names[i] == NULL) {
            assert_int_equal(op.builtin, HIGH_CODE);
            assert_null(op.custom_name);
        } else {
            assert_int_equal(op.builtin, CUSTOM);
            assert_int_equal(op.custom_name_len, strlen(names[i]));
            assert_memory_equal(op.custom_name, names[i], strlen(names[i]));
        }
    }
    tmo_tensor_info ti;
    tmo_model_tensor(&pm, 0, &ti);
    assert_null(ti.name);

    /* Raw: opcode 1 (HIGH_CODE) has deprecated_builtin_code 127 and builtin_code 150;
     * opcode 0 has a NUL-terminated custom_code string. */
    const uint8_t *p = b.bytes;
    uint32_t root = rd_u32(p);
    uint32_t codes = raw_deref(p, raw_field(p, root, 1));
    assert_int_equal(rd_u32(p + codes), 3);
    uint32_t c1 = raw_deref(p, codes + 4 + 4);
    assert_int_equal(p[raw_field(p, c1, 0)], 127);
    assert_int_equal(rd_u32(p + raw_field(p, c1, 3)), HIGH_CODE);
    uint32_t c0 = raw_deref(p, codes + 4);
    assert_int_equal(p[raw_field(p, c0, 0)], CUSTOM);
    uint32_t s = raw_deref(p, raw_field(p, c0, 1));
    assert_int_equal(rd_u32(p + s), 4);
    assert_memory_equal(p + s + 4, "MyOp", 5);
    free(b.bytes);
}

/* Layout checked by raw offsets, independently of the device reader. */
static void test_raw_layout(void **state)
{
    (void)state;
    blob b = fc_int8_model(1, 0);
    const uint8_t *p = b.bytes;
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_memory_equal(p + 4, "TFL3", 4);
    uint32_t root = rd_u32(p);
    assert_true(root >= 8 && root + 4 <= b.len);
    assert_int_equal(root % 4, 0);
    uint32_t vt = (uint32_t)((int64_t)root - (int32_t)rd_u32(p + root));
    assert_int_equal(vt % 2, 0);
    assert_true(rd_u16(p + vt) >= 4 + 2 * 5); /* vtable covers fields 0..4 */
    uint32_t version_at = raw_field(p, root, 0);
    assert_int_equal(version_at % 4, 0);
    assert_int_equal(rd_u32(p + version_at), 3);
    uint32_t desc = raw_deref(p, raw_field(p, root, 3));
    assert_int_equal(rd_u32(p + desc), 7);
    assert_memory_equal(p + desc + 4, "fc int8", 8); /* with the terminating NUL */
    uint32_t sgs = raw_deref(p, raw_field(p, root, 2));
    assert_int_equal(rd_u32(p + sgs), 1);

    /* Buffers: [0] is empty; every data vector is 16-byte aligned with a 4-aligned length. */
    uint32_t bufs = raw_deref(p, raw_field(p, root, 4));
    assert_int_equal(rd_u32(p + bufs), 3);
    uint32_t b0 = raw_deref(p, bufs + 4);
    uint32_t b0_data = raw_field(p, b0, 0);
    assert_true(b0_data == 0 || rd_u32(p + raw_deref(p, b0_data)) == 0);
    for (uint32_t i = 1; i < 3; i++) {
        uint32_t bt = raw_deref(p, bufs + 4 + 4 * i);
        uint32_t vec = raw_deref(p, raw_field(p, bt, 0));
        assert_int_equal(vec % 4, 0);
        assert_int_equal((vec + 4) % 16, 0);
        size_t n = i == 1 ? sizeof fc_weights : sizeof fc_bias;
        assert_int_equal(rd_u32(p + vec), n);
        assert_memory_equal(p + vec + 4, i == 1 ? (const void *)fc_weights : (const void *)fc_bias, n);
    }

    /* Tensor 1 (weights): shape [3,4], type INT8 (9), buffer 1, 8-aligned int64 zero points. */
    uint32_t sg = raw_deref(p, sgs + 4);
    uint32_t tensors = raw_deref(p, raw_field(p, sg, 0));
    assert_int_equal(rd_u32(p + tensors), 4);
    uint32_t t1 = raw_deref(p, tensors + 4 + 4);
    uint32_t shape = raw_deref(p, raw_field(p, t1, 0));
    assert_int_equal(rd_u32(p + shape), 2);
    assert_int_equal(rd_u32(p + shape + 4), 3);
    assert_int_equal(rd_u32(p + shape + 8), 4);
    assert_int_equal(p[raw_field(p, t1, 1)], TMO_INT8);
    assert_int_equal(rd_u32(p + raw_field(p, t1, 2)), 1);
    uint32_t q = raw_deref(p, raw_field(p, t1, 4));
    uint32_t zps = raw_deref(p, raw_field(p, q, 3));
    assert_int_equal(rd_u32(p + zps), 3);
    assert_int_equal((zps + 4) % 8, 0);
    free(b.bytes);
}

/* Buffers of awkward sizes: data still 16-byte aligned from the start of the model. */
static void test_buffer_alignment(void **state)
{
    (void)state;
    tw_model *m = tw_new();
    uint8_t data[40];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    int32_t t[7];
    static const int32_t sizes[6] = {1, 3, 17, 2, 33, 16};
    for (int i = 0; i < 6; i++) {
        int buf = tw_buffer(m, data, (size_t)sizes[i]);
        t[i] = tw_tensor(m, "c", TMO_INT8, &sizes[i], 1, buf, NULL);
    }
    t[6] = tw_tensor(m, "in", TMO_INT8, (int32_t[]){1}, 1, 0, NULL);
    int zeros = tw_buffer(m, NULL, 5); /* no data: zero-filled */
    tw_tensor(m, "z", TMO_INT8, (int32_t[]){5}, 1, zeros, NULL);
    tw_inputs(m, &t[6], 1);
    tw_outputs(m, &t[0], 1);
    blob b = finish(m);
    tmo_model pm = parse(b);
    for (uint32_t i = 0; i < 6; i++) {
        tmo_tensor_info ti;
        tmo_model_tensor(&pm, i, &ti);
        assert_int_equal(((const uint8_t *)ti.data - b.bytes) % 16, 0);
        assert_memory_equal(ti.data, data, (size_t)sizes[i]);
    }
    tmo_tensor_info z;
    tmo_model_tensor(&pm, 7, &z);
    assert_memory_equal(z.data, "\0\0\0\0\0", 5);
    free(b.bytes);
}

/* An omitted optional input (-1) is written as -1; an operator may have no options. */
static void test_omitted_input(void **state)
{
    (void)state;
    tw_model *m = tw_new();
    int32_t a = tw_tensor(m, "a", TMO_FLOAT32, (int32_t[]){1}, 1, 0, NULL);
    int32_t c = tw_tensor(m, "c", TMO_FLOAT32, (int32_t[]){1}, 1, 0, NULL);
    tw_operator(m, FULLY_CONNECTED, (int32_t[]){a, -1, -1}, 3, &c, 1, NULL);
    tw_inputs(m, &a, 1);
    tw_outputs(m, &c, 1);
    blob b = finish(m);
    tmo_model pm = parse(b);
    tmo_op_info op;
    tmo_model_op(&pm, 0, &op);
    assert_int_equal(op.input_count, 3);
    assert_int_equal(op.inputs[0], a);
    assert_int_equal(op.inputs[1], -1);
    assert_int_equal(op.inputs[2], -1);
    assert_int_equal(op.options_type, 0);
    assert_int_equal(op.options_at, 0);
    free(b.bytes);
}

static void expect_finish_fails(tw_model *m)
{
    uint8_t *out = (uint8_t *)1;
    size_t len = 1;
    assert_int_equal(tw_finish(m, &out, &len), -1);
    assert_null(out);
    assert_int_equal(len, 0);
    tw_free(m);
}

static void test_finish_rejects_bad_indices(void **state)
{
    (void)state;
    for (int which = 0; which < 5; which++) {
        tw_model *m = tw_new();
        int32_t a = tw_tensor(m, "a", TMO_FLOAT32, (int32_t[]){1}, 1, which == 0 ? 5 : 0, NULL);
        int32_t c = tw_tensor(m, "c", TMO_FLOAT32, (int32_t[]){1}, 1, 0, NULL);
        int32_t in[2] = {a, which == 1 ? 2 : which == 2 ? -2 : -1};
        int32_t out = which == 3 ? -1 : c;
        tw_operator(m, 19, in, 2, &out, 1, NULL);
        int32_t gout = which == 4 ? 9 : c;
        tw_inputs(m, &a, 1);
        tw_outputs(m, &gout, 1);
        expect_finish_fails(m);
    }
    /* Missing caller data (dims, scales, option vector) is refused too, without crashing. */
    tw_model *m = tw_new();
    tw_tensor(m, "a", TMO_FLOAT32, NULL, 2, 0, NULL);
    expect_finish_fails(m);
    m = tw_new();
    tw_quant q = {2, NULL, NULL, 0};
    tw_tensor(m, "a", TMO_INT8, (int32_t[]){2}, 1, 0, &q);
    expect_finish_fails(m);
    m = tw_new();
    int32_t a = tw_tensor(m, "a", TMO_FLOAT32, (int32_t[]){2}, 1, 0, NULL);
    tw_options o = {OPTIONS_RESHAPE_OPTIONS, 1, {tw_vec_i32(0, NULL, 2)}};
    tw_operator(m, RESHAPE, &a, 1, &a, 1, &o);
    expect_finish_fails(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_int8_per_tensor),
        cmocka_unit_test(test_fc_int8_per_channel),
        cmocka_unit_test(test_fc_int8_runs),
        cmocka_unit_test(test_fc_float_runs),
        cmocka_unit_test(test_options_round_trip),
        cmocka_unit_test(test_opcodes_and_custom),
        cmocka_unit_test(test_raw_layout),
        cmocka_unit_test(test_buffer_alignment),
        cmocka_unit_test(test_omitted_input),
        cmocka_unit_test(test_finish_rejects_bad_indices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
