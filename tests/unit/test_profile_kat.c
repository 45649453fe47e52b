/*
 * Known-answer tests [K-1..K-4]: the builder's vectors are the chosen
 * samples with outputs equal to the model's function (softmax computed in
 * double here); the runner passes them, and names the vector, output and
 * first differing byte when any single expected byte is changed; sizes
 * that do not fit the model, truncations, bad padding and header fields
 * are refused with an error naming the field.
 */
#include "monitor_fixture.h"

enum { K = 6, N = 10, VECTORS = 4 };

typedef struct kat_world {
    uint8_t *model;
    size_t len;
    float data[N * K];
    host_profile_result prof;
    host_model hm;
} kat_world;

static void up(kat_world *w)
{
    w->model = fx_softmax_model(TMO_FLOAT32, K, 0, 0, &w->len);
    fx_rng r = {31};
    for (int i = 0; i < N * K; i++)
        w->data[i] = (float)(3 * fx_normal(&r));
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    o.kat_count = VECTORS;
    fx_build(w->model, w->len, w->data, sizeof w->data, NULL, &o, &w->prof);
    fx_open(&w->hm, w->model, w->len);
}

static void down(kat_world *w)
{
    host_profile_result_free(&w->prof);
    host_model_close(&w->hm);
    free(w->model);
}

/* Offset of vector v's expected output bytes: per vector u32 len + input, u32 len + output. */
static size_t output_at(uint32_t v)
{
    size_t per = 4 + 4 * K + 4 + 4 * K;
    return TMO_KAT_HEADER_SIZE + v * per + 4 + 4 * K + 4;
}

static void test_vectors_are_known_answers(void **state)
{
    (void)state;
    kat_world w;
    up(&w);
    assert_int_equal(w.prof.kat_vectors, VECTORS);
    assert_int_equal(w.prof.kat_len, TMO_KAT_HEADER_SIZE + VECTORS * (8 + 8 * K));
    uint32_t vectors;
    tmo_diag d;
    assert_int_equal(tmo_kat_parse(w.prof.kat, w.prof.kat_len, &vectors, &d), TMO_OK);
    assert_int_equal(vectors, VECTORS);
    for (uint32_t v = 0; v < VECTORS; v++) {
        const float *x = w.data + (v * N / VECTORS) * K; /* samples 0, 2, 5, 7 */
        const uint8_t *in = w.prof.kat + output_at(v) - 4 - 4 * K;
        assert_memory_equal(in, x, 4 * K);
        double mx = x[0], z = 0;
        for (int k = 1; k < K; k++)
            mx = x[k] > mx ? x[k] : mx;
        for (int k = 0; k < K; k++)
            z += exp(x[k] - mx);
        for (int k = 0; k < K; k++) {
            float got;
            memcpy(&got, w.prof.kat + output_at(v) + 4 * k, 4);
            assert_true(fabs(got - exp(x[k] - mx) / z) < 1e-6);
        }
    }
    tmo_kat_result res;
    assert_int_equal(tmo_kat_run(&w.hm.interp, w.prof.kat, w.prof.kat_len, &res, &d), TMO_OK);
    assert_int_equal(res.passed, VECTORS);
    down(&w);
}

static void test_one_byte_difference(void **state)
{
    (void)state;
    kat_world w;
    up(&w);
    uint8_t *b = malloc(w.prof.kat_len);
    for (uint32_t v = 0; v < VECTORS; v++)
        for (uint32_t byte = 0; byte < 4 * K; byte += 5) {
            memcpy(b, w.prof.kat, w.prof.kat_len);
            uint8_t want = b[output_at(v) + byte] ^= 0x10;
            tmo_kat_result res;
            tmo_diag d;
            assert_int_equal(tmo_kat_run(&w.hm.interp, b, w.prof.kat_len, &res, &d), TMO_EKAT);
            assert_int_equal(res.vector, (int32_t)v);
            assert_int_equal(res.output, 0);
            assert_int_equal(res.byte, byte);
            assert_int_equal(res.passed, v);
            assert_int_equal(res.expected, want);
            assert_int_equal(res.got, want ^ 0x10);
            char line[128], expect[128];
            tmo_kat_format(&res, line, sizeof line);
            snprintf(expect, sizeof expect,
                     "vector %u output 0 byte %u: expected 0x%02x, got 0x%02x", v, byte, want,
                     want ^ 0x10);
            assert_string_equal(line, expect);
            assert_string_equal(d.field, "kat.output");
            assert_int_equal(d.index, (int32_t)v);
        }
    free(b);
    down(&w);
}

static void test_bad_kat_bytes(void **state)
{
    (void)state;
    kat_world w;
    up(&w);
    size_t len = w.prof.kat_len;
    uint8_t *b = malloc(len + 4);
    tmo_kat_result res;
    tmo_diag d;
    for (size_t n = 0; n < len; n++) {
        memcpy(b, w.prof.kat, n);
        tmo_err e = tmo_kat_run(&w.hm.interp, b, n, &res, &d);
        assert_int_equal(e, TMO_EBADMODEL);
        assert_memory_equal(d.field, "kat", 3);
        assert_int_equal(res.passed, 0);
    }
    /* Every single-byte flip is refused or (in tensor data) reported as a mismatch. */
    for (size_t i = 0; i < len; i++) {
        memcpy(b, w.prof.kat, len);
        b[i] ^= 0x40;
        tmo_err e = tmo_kat_run(&w.hm.interp, b, len, &res, &d);
        assert_true(e == TMO_EBADMODEL || e == TMO_EUNSUPPORTED || e == TMO_EKAT ||
                    e == TMO_EINVAL);
        assert_non_null(d.field);
    }
    struct {
        size_t at;
        uint8_t value;
        tmo_err err;
        const char *field;
    } cases[] = {
        {TMO_KH_VERSION, 9, TMO_EUNSUPPORTED, "kat.version"},
        {TMO_KH_VECTORS, 0, TMO_EBADMODEL, "kat.vectors"},
        {TMO_KH_INPUTS, 0, TMO_EBADMODEL, "kat.io"},
        {TMO_KH_TOTAL, 1, TMO_EBADMODEL, "kat.total_size"},
        {TMO_KAT_HEADER_SIZE, 4 * K - 1, TMO_EBADMODEL, "kat.padding"}, /* pad = a float byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, w.prof.kat, len);
        b[cases[i].at] = cases[i].value;
        tmo_err e = tmo_kat_run(&w.hm.interp, b, len, &res, &d);
        if (e != cases[i].err || strcmp(d.field, cases[i].field) != 0)
            fail_msg("case %zu: %s %s", i, tmo_err_name(e), d.field);
    }
    /* Well-formed, but the input is 4 bytes short. */
    uint8_t zeros[4 * K] = {0};
    host_kat_vector kv = {{zeros}, {4 * K - 4}, {zeros}, {4 * K}};
    uint8_t *kb;
    size_t kl;
    assert_int_equal(host_kat_encode(&kv, 1, 1, 1, &kb, &kl), 0);
    assert_int_equal(tmo_kat_run(&w.hm.interp, kb, kl, &res, &d), TMO_EINVAL);
    assert_string_equal(d.field, "kat.input");
    assert_int_equal(d.value, 4 * K - 4);
    assert_int_equal(d.limit, 4 * K);
    free(kb);
    /* A KAT of another model: sizes do not fit. */
    size_t mlen;
    uint8_t *other = fx_softmax_model(TMO_FLOAT32, K + 1, 0, 0, &mlen);
    host_model hm;
    fx_open(&hm, other, mlen);
    assert_int_equal(tmo_kat_run(&hm.interp, w.prof.kat, len, &res, &d), TMO_EINVAL);
    assert_int_equal(res.vector, 0);
    assert_int_equal(res.output, -1);
    char line[128];
    tmo_kat_format(&res, line, sizeof line);
    assert_string_equal(line, "vector 0: tensor sizes do not fit the model");
    host_model_close(&hm);
    free(other);
    assert_int_equal(tmo_kat_run(NULL, w.prof.kat, len, &res, &d), TMO_EINVAL);
    free(b);
    down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_are_known_answers),
        cmocka_unit_test(test_one_byte_difference),
        cmocka_unit_test(test_bad_kat_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
