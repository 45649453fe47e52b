/*
 * Hostile-input tests of the model reader (runtime/tflite/model.c, fb.c) and
 * of interpreter init on what the reader accepts: every truncation, single
 * byte mutations at every position, seeded random multi-byte mutations, and
 * one targeted model per validation rule, asserting the error code and that
 * the rendered diagnostic names the field. Run under ASan/UBSan
 * (-DTMO_SANITIZE=ON) for the "never reads out of bounds" half of the claim.
 *
 * Models come from the writer; fields the writer refuses to get wrong are
 * patched afterwards, located by raw flatbuffer decoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fbb.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/interp.h"
#include "tinymlops/model.h"

enum { FULLY_CONNECTED = 9, SVDF = 27, ARENA_BYTES = 64 * 1024 };

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

/* ---- raw flatbuffer navigation, for patching fields ---- */

static uint32_t rd_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static void wr_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint32_t raw_field(const uint8_t *b, uint32_t table, unsigned id)
{
    uint32_t vt = (uint32_t)((int64_t)table - (int32_t)rd_u32(b + table));
    uint16_t off = 4u + 2u * id < rd_u16(b + vt) ? rd_u16(b + vt + 4 + 2 * id) : 0;
    assert_int_not_equal(off, 0); /* the writer writes every field these tests patch */
    return table + off;
}

static uint32_t raw_deref(const uint8_t *b, uint32_t pos) { return pos + rd_u32(b + pos); }

/* Element i of the vector of tables in field id of table. */
static uint32_t raw_elem(const uint8_t *b, uint32_t table, unsigned id, uint32_t i)
{
    uint32_t vec = raw_deref(b, raw_field(b, table, id));
    return raw_deref(b, vec + 4 + 4 * i);
}

static uint32_t subgraph_at(const uint8_t *b) { return raw_elem(b, rd_u32(b), 2, 0); }
static uint32_t tensor_at(const uint8_t *b, uint32_t i) { return raw_elem(b, subgraph_at(b), 0, i); }
static uint32_t op_at(const uint8_t *b, uint32_t i) { return raw_elem(b, subgraph_at(b), 3, i); }

/* ---- models ---- */

/* int8 FULLY_CONNECTED [1,2] x [2,2] (per-channel) + bias -> [1,2]. */
static blob fc_int8(void)
{
    static const int8_t w[4] = {3, -7, 127, -128};
    static const int32_t bias[2] = {50, -60};
    static const float w_s[2] = {0.01f, 0.02f}, b_s[2] = {0.0005f, 0.001f};
    float in_s = 0.05f, out_s = 0.1f;
    int64_t in_zp = -1, out_zp = 2;
    tw_quant qin = {1, &in_s, &in_zp, 0}, qout = {1, &out_s, &out_zp, 0};
    tw_quant qw = {2, w_s, NULL, 0}, qb = {2, b_s, NULL, 0};
    tw_model *m = tw_new();
    int bw = tw_buffer(m, w, sizeof w), bb = tw_buffer(m, bias, sizeof bias);
    int32_t t[4];
    t[0] = tw_tensor(m, "in", TMO_INT8, (int32_t[]){1, 2}, 2, 0, &qin);
    t[1] = tw_tensor(m, "w", TMO_INT8, (int32_t[]){2, 2}, 2, bw, &qw);
    t[2] = tw_tensor(m, "b", TMO_INT32, (int32_t[]){2}, 1, bb, &qb);
    t[3] = tw_tensor(m, "out", TMO_INT8, (int32_t[]){1, 2}, 2, 0, &qout);
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 1)}};
    tw_operator(m, FULLY_CONNECTED, t, 3, &t[3], 1, &o);
    tw_inputs(m, &t[0], 1);
    tw_outputs(m, &t[3], 1);
    return finish(m);
}

/* Two chained float FULLY_CONNECTED ops sharing weights: x -> h -> y. */
static blob fc_float_chain(void)
{
    static const float w[4] = {0.5f, -1, 2, 0.25f};
    tw_model *m = tw_new();
    int bw = tw_buffer(m, w, sizeof w);
    int32_t dims[2] = {1, 2};
    int32_t x = tw_tensor(m, "x", TMO_FLOAT32, dims, 2, 0, NULL);
    int32_t wt = tw_tensor(m, "w", TMO_FLOAT32, (int32_t[]){2, 2}, 2, bw, NULL);
    int32_t h = tw_tensor(m, "h", TMO_FLOAT32, dims, 2, 0, NULL);
    int32_t y = tw_tensor(m, "y", TMO_FLOAT32, dims, 2, 0, NULL);
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 0)}};
    tw_operator(m, FULLY_CONNECTED, (int32_t[]){x, wt, -1}, 3, &h, 1, &o);
    tw_operator(m, FULLY_CONNECTED, (int32_t[]){h, wt}, 2, &y, 1, &o);
    tw_inputs(m, &x, 1);
    tw_outputs(m, &y, 1);
    return finish(m);
}

/* ---- running a possibly hostile model ---- */

static int is_one_of(tmo_err e, const tmo_err *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (e == set[i])
            return 1;
    return 0;
}

/* Parses data[0..len); when that succeeds, inits and invokes. Asserts only clean outcomes. */
static void exercise(const uint8_t *data, size_t len, void *arena)
{
    static const tmo_err parse_ok[] = {TMO_OK, TMO_EBADMODEL, TMO_EUNSUPPORTED};
    static const tmo_err init_ok[] = {TMO_OK, TMO_EBADMODEL, TMO_EUNSUPPORTED, TMO_ENOSPC,
                                      TMO_ERANGE};
    tmo_model m;
    tmo_diag d;
    char msg[256];
    tmo_err e = tmo_model_parse(&m, data, len, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    assert_true(is_one_of(e, parse_ok, 3));
    if (e != TMO_OK)
        return;
    tmo_interp it;
    e = tmo_interp_init(&it, &m, arena, ARENA_BYTES, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    if (!is_one_of(e, init_ok, 5))
        fail_msg("init returned %s: %s", tmo_err_name(e), msg);
    if (e != TMO_OK)
        return;
    for (uint32_t i = 0; i < tmo_interp_input_count(&it); i++) {
        tmo_io io;
        assert_int_equal(tmo_interp_input(&it, i, &io), TMO_OK);
        memset(io.data, 0x3c, io.bytes);
    }
    assert_int_equal(tmo_interp_invoke(&it), TMO_OK);
}

/* Every proper prefix of a valid model is rejected, reading only its own bytes. */
static void truncations(blob b)
{
    tmo_model m;
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1); /* exact size: ASan flags any read past n */
        memcpy(p, b.bytes, n);
        tmo_err e = tmo_model_parse(&m, p, n, NULL);
        if (e == TMO_OK)
            fail_msg("prefix of %zu of %zu bytes parsed", n, b.len);
        free(p);
    }
    free(b.bytes);
}

static void test_truncation(void **state)
{
    (void)state;
    truncations(fc_int8());
    truncations(fc_float_chain());
}

/* Exhaustive: each byte in turn replaced by every other value. */
static void byte_mutations(blob b)
{
    void *arena = aligned_alloc(16, ARENA_BYTES);
    uint8_t *p = malloc(b.len); /* exact size: ASan flags any read past the end */
    assert_non_null(arena);
    assert_non_null(p);
    memcpy(p, b.bytes, b.len);
    exercise(p, b.len, arena); /* the unmodified model runs */
    for (size_t i = 0; i < b.len; i++) {
        for (unsigned v = 0; v < 256; v++) {
            if (v == b.bytes[i])
                continue;
            p[i] = (uint8_t)v;
            exercise(p, b.len, arena);
        }
        p[i] = b.bytes[i];
    }
    free(p);
    free(arena);
    free(b.bytes);
}

static void test_byte_mutations(void **state)
{
    (void)state;
    byte_mutations(fc_int8());
    byte_mutations(fc_float_chain());
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Seeded random multi-byte mutations, biased towards small offsets and counts. */
static void test_random_mutations(void **state)
{
    (void)state;
    blob models[2] = {fc_int8(), fc_float_chain()};
    void *arena = aligned_alloc(16, ARENA_BYTES);
    uint64_t seed = 1;
    for (int round = 0; round < 20000; round++) {
        blob b = models[round & 1];
        uint8_t *p = malloc(b.len);
        memcpy(p, b.bytes, b.len);
        int edits = 1 + (int)(splitmix(&seed) % 4);
        for (int k = 0; k < edits; k++) {
            uint64_t r = splitmix(&seed);
            size_t at = (size_t)(r % b.len);
            static const uint8_t interesting[] = {0, 1, 2, 3, 4, 6, 8, 0x7f, 0x80, 0xfe, 0xff};
            p[at] = (r >> 32) & 1 ? interesting[(r >> 40) % sizeof interesting] : (uint8_t)(r >> 48);
        }
        exercise(p, b.len, arena);
        free(p);
    }
    free(arena);
    free(models[0].bytes);
    free(models[1].bytes);
}

/* ---- targeted cases ---- */

/* Parse must fail with `want` and the message must mention `field` (and `also` if given). */
static void expect_parse(blob b, tmo_err want, const char *field, const char *also)
{
    tmo_model m;
    tmo_diag d;
    char msg[256];
    tmo_err e = tmo_model_parse(&m, b.bytes, b.len, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    if (e != want || strstr(msg, field) == NULL || (also && strstr(msg, also) == NULL))
        fail_msg("want %s naming '%s'; got %s: %s", tmo_err_name(want), field, tmo_err_name(e), msg);
    free(b.bytes);
}

/* Parse succeeds; interpreter init fails with `want`, the message mentioning field and also. */
static void expect_init(blob b, tmo_err want, const char *field, const char *also)
{
    tmo_model m;
    tmo_diag d;
    tmo_interp it;
    char msg[256];
    void *arena = aligned_alloc(16, ARENA_BYTES);
    assert_int_equal(tmo_model_parse(&m, b.bytes, b.len, &d), TMO_OK);
    tmo_err e = tmo_interp_init(&it, &m, arena, ARENA_BYTES, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    if (e != want || strstr(msg, field) == NULL || (also && strstr(msg, also) == NULL))
        fail_msg("want %s naming '%s'; got %s: %s", tmo_err_name(want), field, tmo_err_name(e), msg);
    free(arena);
    free(b.bytes);
}

static void test_version(void **state)
{
    (void)state;
    blob b = fc_int8();
    wr_u32(b.bytes + raw_field(b.bytes, rd_u32(b.bytes), 0), 4);
    expect_parse(b, TMO_EUNSUPPORTED, "model.version", "got 4");
}

static void test_buffer_index(void **state)
{
    (void)state;
    blob b = fc_int8();
    wr_u32(b.bytes + raw_field(b.bytes, tensor_at(b.bytes, 1), 2), 3); /* 3 buffers: 0..2 */
    expect_parse(b, TMO_EBADMODEL, "tensor.buffer", "tensor 1");
}

static void test_op_input_index(void **state)
{
    (void)state;
    static const int32_t bad[] = {4, -2, INT32_MAX, INT32_MIN};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        blob b = fc_int8();
        uint32_t vec = raw_deref(b.bytes, raw_field(b.bytes, op_at(b.bytes, 0), 1));
        wr_u32(b.bytes + vec + 4 + 4 * 1, (uint32_t)bad[k]);
        expect_parse(b, TMO_EBADMODEL, "operator.inputs", "operator 0");
    }
    blob b = fc_int8();
    uint32_t vec = raw_deref(b.bytes, raw_field(b.bytes, op_at(b.bytes, 0), 2));
    wr_u32(b.bytes + vec + 4, (uint32_t)-1); /* outputs may not be omitted */
    expect_parse(b, TMO_EBADMODEL, "operator.outputs", NULL);
}

static void test_opcode_index(void **state)
{
    (void)state;
    blob b = fc_int8();
    wr_u32(b.bytes + raw_field(b.bytes, op_at(b.bytes, 0), 0), 1); /* one opcode */
    expect_parse(b, TMO_EBADMODEL, "operator.opcode_index", NULL);
}

static void test_negative_dimension(void **state)
{
    (void)state;
    tw_model *m = tw_new();
    int32_t t = tw_tensor(m, "neg", TMO_FLOAT32, (int32_t[]){2, -3}, 2, 0, NULL);
    tw_inputs(m, &t, 1);
    tw_outputs(m, &t, 1);
    expect_parse(finish(m), TMO_EBADMODEL, "tensor.shape", "got -3");
}

/*
 * Element count under 2^31 but bytes over it: the planner keeps sizes in 32
 * bits, so such a tensor once got a 4-byte slot and FULLY_CONNECTED then
 * overran the arena by gigabytes (found by this test).
 */
static void test_huge_tensor(void **state)
{
    (void)state;
    static const float w[1] = {1};
    static const int32_t types[3] = {TMO_FLOAT32, TMO_INT32, TMO_INT64};
    for (int k = 0; k < 3; k++) {
        tw_model *m = tw_new();
        int bw = tw_buffer(m, w, sizeof w);
        int32_t x = tw_tensor(m, "x", TMO_FLOAT32, (int32_t[]){1, 1}, 2, 0, NULL);
        int32_t wt = tw_tensor(m, "w", TMO_FLOAT32, (int32_t[]){1, 1}, 2, bw, NULL);
        int32_t y = tw_tensor(m, "huge", types[k], (int32_t[]){1 << 30, 1}, 2, 0, NULL);
        tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 0, {{0}}};
        tw_operator(m, FULLY_CONNECTED, (int32_t[]){x, wt}, 2, &y, 1, &o);
        tw_inputs(m, &x, 1);
        tw_outputs(m, &y, 1);
        expect_parse(finish(m), TMO_EBADMODEL, "tensor.shape", "tensor 2");
    }
    /* 2^29 float32 elements = 2 GiB exactly: still too large (limit is 2 GiB - 1). */
    tw_model *m = tw_new();
    int32_t x = tw_tensor(m, "x", TMO_FLOAT32, (int32_t[]){1 << 29}, 1, 0, NULL);
    tw_inputs(m, &x, 1);
    tw_outputs(m, &x, 1);
    expect_parse(finish(m), TMO_EBADMODEL, "tensor.shape", "tensor 0");
}

/* A one-tensor model with the given weights quantization and constant data. */
static blob quant_model(const tw_quant *q, const void *data, size_t len)
{
    tw_model *m = tw_new();
    int buf = tw_buffer(m, data, len);
    int32_t in = tw_tensor(m, "in", TMO_INT8, (int32_t[]){1}, 1, 0, NULL);
    tw_tensor(m, "w", TMO_INT8, (int32_t[]){3, 4}, 2, buf, q);
    tw_inputs(m, &in, 1);
    tw_outputs(m, &in, 1);
    return finish(m);
}

static void test_quantization(void **state)
{
    (void)state;
    static const int8_t w[12] = {0};
    static const float s[3] = {0.1f, 0.2f, 0.3f};
    tw_quant two = {2, s, NULL, 0};
    expect_parse(quant_model(&two, w, 12), TMO_EBADMODEL, "quantization.scale", "tensor 1");
    tw_quant wrong_dim = {3, s, NULL, 1}; /* dims[1] is 4 */
    expect_parse(quant_model(&wrong_dim, w, 12), TMO_EBADMODEL, "quantization.scale", NULL);
    tw_quant no_dim = {3, s, NULL, 2};
    expect_parse(quant_model(&no_dim, w, 12), TMO_EBADMODEL, "quantization.quantized_dimension",
                 NULL);
    static const int64_t zp_hi[1] = {128}, zp_lo[3] = {0, 0, -129};
    tw_quant hi = {1, s, zp_hi, 0}, lo = {3, s, zp_lo, 0};
    expect_parse(quant_model(&hi, w, 12), TMO_EBADMODEL, "quantization.zero_point", "got 128");
    expect_parse(quant_model(&lo, w, 12), TMO_EBADMODEL, "quantization.zero_point", "got -129");
    static const float neg[1] = {-0.5f};
    tw_quant negative = {1, neg, NULL, 0};
    expect_parse(quant_model(&negative, w, 12), TMO_EBADMODEL, "quantization.scale", NULL);
    tw_quant ok = {3, s, NULL, 0}; /* control: the same model with valid per-channel scales */
    blob good = quant_model(&ok, w, 12);
    tmo_model m;
    assert_int_equal(tmo_model_parse(&m, good.bytes, good.len, NULL), TMO_OK);
    free(good.bytes);
}

static void test_data_size(void **state)
{
    (void)state;
    static const int8_t w[13] = {0};
    expect_parse(quant_model(NULL, w, 11), TMO_EBADMODEL, "tensor.buffer", "got 11, limit 12");
    expect_parse(quant_model(NULL, w, 13), TMO_EBADMODEL, "tensor.buffer", "got 13, limit 12");
}

/* Built with the generic builder: the writer has no sparsity support on purpose. */
static void test_sparse_tensor(void **state)
{
    (void)state;
    fbb b;
    fbb_init(&b);
    fbb_table_start(&b);
    fbb_ref empty_buffer = fbb_table_end(&b);
    fbb_ref buffers = fbb_vector_refs(&b, &empty_buffer, 1);
    int32_t dims[1] = {4}, io[1] = {0};
    fbb_ref shape = fbb_vector(&b, dims, 1, 4, 0);
    fbb_table_start(&b);
    fbb_ref sparsity = fbb_table_end(&b);
    fbb_table_start(&b);
    fbb_add_ref(&b, 0, shape);
    fbb_add_u8(&b, 1, TMO_INT8);
    fbb_add_ref(&b, 6, sparsity);
    fbb_ref tensor = fbb_table_end(&b);
    fbb_ref tensors = fbb_vector_refs(&b, &tensor, 1);
    fbb_ref ins = fbb_vector(&b, io, 1, 4, 0), outs = fbb_vector(&b, io, 1, 4, 0);
    fbb_ref ops = fbb_vector_refs(&b, NULL, 0);
    fbb_table_start(&b);
    fbb_add_ref(&b, 0, tensors);
    fbb_add_ref(&b, 1, ins);
    fbb_add_ref(&b, 2, outs);
    fbb_add_ref(&b, 3, ops);
    fbb_ref sg = fbb_table_end(&b);
    fbb_ref sgs = fbb_vector_refs(&b, &sg, 1);
    fbb_ref codes = fbb_vector_refs(&b, NULL, 0);
    fbb_table_start(&b);
    fbb_add_u32(&b, 0, 3);
    fbb_add_ref(&b, 1, codes);
    fbb_add_ref(&b, 2, sgs);
    fbb_add_ref(&b, 4, buffers);
    fbb_ref root = fbb_table_end(&b);
    blob out;
    assert_int_equal(fbb_finish(&b, root, "TFL3", &out.bytes, &out.len), 0);
    fbb_free(&b);
    expect_parse(out, TMO_EUNSUPPORTED, "tensor.sparsity", "tensor 0");
}

/* One operator in -> out on [1,4] float tensors; data on `out` when const_out. */
static blob single_op(int custom, int32_t builtin, int const_out)
{
    static const float c[4] = {1, 2, 3, 4};
    tw_model *m = tw_new();
    int buf = const_out ? tw_buffer(m, c, sizeof c) : 0;
    int32_t in = tw_tensor(m, "in", TMO_FLOAT32, (int32_t[]){1, 4}, 2, 0, NULL);
    int32_t out = tw_tensor(m, "out", TMO_FLOAT32, (int32_t[]){1, 4}, 2, buf, NULL);
    if (custom)
        tw_custom_operator(m, "MyCustomOp", &in, 1, &out, 1);
    else
        tw_operator(m, builtin, &in, 1, &out, 1, NULL);
    tw_inputs(m, &in, 1);
    tw_outputs(m, &out, 1);
    return finish(m);
}

static void test_custom_op(void **state)
{
    (void)state;
    expect_init(single_op(1, 0, 0), TMO_EUNSUPPORTED, "MyCustomOp", "operator 0");
}

static void test_unsupported_builtin(void **state)
{
    (void)state;
    expect_init(single_op(0, SVDF, 0), TMO_EUNSUPPORTED, "SVDF", "operator 0");
}

static void test_constant_output(void **state)
{
    (void)state;
    expect_init(single_op(0, FULLY_CONNECTED, 1), TMO_EBADMODEL, "operator.outputs", "constant");
}

static void test_read_before_write(void **state)
{
    (void)state;
    static const float w[4] = {1, 0, 0, 1};
    tw_model *m = tw_new();
    int bw = tw_buffer(m, w, sizeof w);
    int32_t dims[2] = {1, 2};
    int32_t x = tw_tensor(m, "x", TMO_FLOAT32, dims, 2, 0, NULL);
    int32_t wt = tw_tensor(m, "w", TMO_FLOAT32, (int32_t[]){2, 2}, 2, bw, NULL);
    int32_t h = tw_tensor(m, "h", TMO_FLOAT32, dims, 2, 0, NULL);
    int32_t y = tw_tensor(m, "y", TMO_FLOAT32, dims, 2, 0, NULL);
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 0, {{0}}};
    tw_operator(m, FULLY_CONNECTED, (int32_t[]){h, wt}, 2, &y, 1, &o); /* h not yet written */
    tw_operator(m, FULLY_CONNECTED, (int32_t[]){x, wt}, 2, &h, 1, &o);
    tw_inputs(m, &x, 1);
    tw_outputs(m, &y, 1);
    expect_init(finish(m), TMO_EBADMODEL, "operator.inputs", "operator 0");
}

/* Smaller rules, one model each. */
static void test_graph_rules(void **state)
{
    (void)state;
    tw_model *m = tw_new();
    int32_t t = tw_tensor(m, "t", TMO_FLOAT32, (int32_t[]){1, 2, 1, 1, 1, 1, 1}, 7, 0, NULL);
    tw_inputs(m, &t, 1);
    tw_outputs(m, &t, 1);
    expect_parse(finish(m), TMO_EUNSUPPORTED, "tensor.shape", "limit 6");
    m = tw_new();
    t = tw_tensor(m, "t", 99, (int32_t[]){1}, 1, 0, NULL);
    tw_inputs(m, &t, 1);
    tw_outputs(m, &t, 1);
    expect_parse(finish(m), TMO_EBADMODEL, "tensor.type", "got 99");
    m = tw_new();
    t = tw_tensor(m, "t", TMO_FLOAT32, (int32_t[]){1}, 1, 0, NULL);
    tw_outputs(m, &t, 1); /* no graph inputs */
    expect_parse(finish(m), TMO_EBADMODEL, "subgraph.inputs", NULL);

    blob b = fc_int8(); /* options table present, options type patched to NONE */
    b.bytes[raw_field(b.bytes, op_at(b.bytes, 0), 3)] = 0;
    expect_parse(b, TMO_EBADMODEL, "operator.builtin_options", NULL);
    b = fc_float_chain(); /* the graph input x given the weights' constant data */
    wr_u32(b.bytes + raw_field(b.bytes, tensor_at(b.bytes, 0), 2), 1);
    wr_u32(b.bytes + raw_deref(b.bytes, raw_field(b.bytes, tensor_at(b.bytes, 0), 0)) + 4, 2);
    expect_init(b, TMO_EBADMODEL, "subgraph.inputs", "constant");
    b = fc_float_chain(); /* second operator writes h again instead of y */
    uint32_t outs = raw_deref(b.bytes, raw_field(b.bytes, op_at(b.bytes, 1), 2));
    wr_u32(b.bytes + outs + 4, 2);
    expect_init(b, TMO_EBADMODEL, "operator.outputs", "operator 1");
}

static void test_misaligned_pointer(void **state)
{
    (void)state;
    blob b = fc_int8();
    uint8_t *copy = aligned_alloc(16, b.len + 16);
    tmo_model m;
    tmo_diag d;
    char msg[256];
    for (size_t shift = 1; shift < 4; shift++) {
        memcpy(copy + shift, b.bytes, b.len);
        assert_int_equal(tmo_model_parse(&m, copy + shift, b.len, &d), TMO_EINVAL);
        tmo_diag_format(&d, msg, sizeof msg);
        assert_non_null(strstr(msg, "aligned"));
    }
    assert_int_equal(tmo_model_parse(&m, NULL, b.len, &d), TMO_EINVAL);
    assert_int_equal(tmo_model_parse(NULL, b.bytes, b.len, &d), TMO_EINVAL);
    assert_int_equal(tmo_model_parse(&m, b.bytes, b.len, &d), TMO_OK);
    free(copy);
    free(b.bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_byte_mutations),
        cmocka_unit_test(test_random_mutations),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_buffer_index),
        cmocka_unit_test(test_op_input_index),
        cmocka_unit_test(test_opcode_index),
        cmocka_unit_test(test_negative_dimension),
        cmocka_unit_test(test_huge_tensor),
        cmocka_unit_test(test_quantization),
        cmocka_unit_test(test_data_size),
        cmocka_unit_test(test_sparse_tensor),
        cmocka_unit_test(test_custom_op),
        cmocka_unit_test(test_unsupported_builtin),
        cmocka_unit_test(test_constant_output),
        cmocka_unit_test(test_read_before_write),
        cmocka_unit_test(test_graph_rules),
        cmocka_unit_test(test_misaligned_pointer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
