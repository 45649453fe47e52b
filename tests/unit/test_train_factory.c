/*
 * The model factory pipeline (host/train/factory.c): reproducible bytes for
 * a seed, different bytes for another seed, the same model from a CSV and a
 * raw file holding the same values, the accuracies it reports against a
 * recount through the runtime, and its refusals (one class, shapes).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host.h"
#include "train/factory.h"
#include "train_fixture.h"

static tr_job job_for(const char *arch, uint64_t seed)
{
    tr_job j;
    tr_job_defaults(&j);
    j.arch = arch;
    j.epochs = 4;
    j.batch = 16;
    j.lr = 0.01f;
    j.seed = seed;
    j.val_split = 0.25;
    j.want_float = 1;
    return j;
}

static void run(const tr_job *j, const tr_dataset *ds, tr_result *r)
{
    char err[512];
    if (tr_factory_run(j, ds, r, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void test_reproducible(void **state)
{
    (void)state;
    struct {
        const char *arch;
        int images;
    } cases[] = {{"mlp:10,6", 0}, {"cnn:c3k3,dw,p2,d6", 1}};
    for (int k = 0; k < 2; k++) {
        tr_dataset ds;
        if (cases[k].images)
            fx_images(&ds, 120, 6, 6, 3);
        else
            fx_blobs(&ds, 120, 3);
        tr_job j = job_for(cases[k].arch, 42);
        if (cases[k].images) {
            j.in_h = j.in_w = 6;
            j.in_c = 2;
        }
        tr_result a, b, c;
        run(&j, &ds, &a);
        run(&j, &ds, &b);
        assert_int_equal(a.int8_len, b.int8_len);
        assert_memory_equal(a.int8_model, b.int8_model, a.int8_len);
        assert_int_equal(a.float_len, b.float_len);
        assert_memory_equal(a.float_model, b.float_model, a.float_len);
        assert_true(a.last.loss == b.last.loss);
        j.seed = 43;
        run(&j, &ds, &c);
        assert_true(a.int8_len != c.int8_len ||
                    memcmp(a.int8_model, c.int8_model, a.int8_len) != 0);
        tr_result_free(&a);
        tr_result_free(&b);
        tr_result_free(&c);
        tr_dataset_free(&ds);
    }
}

/* What the factory reports must be what the written files do. */
static void test_reported_numbers(void **state)
{
    (void)state;
    tr_dataset ds, train, val;
    fx_blobs(&ds, 150, 8);
    tr_job j = job_for("mlp:10", 7);
    tr_result r;
    run(&j, &ds, &r);
    char err[256];
    /* The split is a function of the seed alone, so it can be redone here. */
    assert_int_equal(tr_dataset_split(&ds, j.val_split, j.seed, &train, &val, err, sizeof err), 0);
    assert_int_equal(r.n_val, val.count);
    assert_int_equal(r.n_train, train.count);
    assert_int_equal(r.classes, 3);
    assert_int_equal(r.params, 6 * 10 + 10 + 10 * 3 + 3);
    double acc8, accf;
    size_t arena8, arenaf;
    assert_int_equal(tr_eval_model(r.int8_model, r.int8_len, &val, &acc8, &arena8, err, sizeof err),
                     0);
    assert_int_equal(
        tr_eval_model(r.float_model, r.float_len, &val, &accf, &arenaf, err, sizeof err), 0);
    assert_true(acc8 == r.int8_val_acc);
    assert_true(fabs(accf - r.float_val_acc) <= 1.0 / (double)val.count);
    assert_int_equal(arena8, r.int8_arena);
    assert_int_equal(arenaf, r.float_arena);
    /* The blobs are easy: both models must have learnt them. */
    assert_true(r.float_val_acc > 0.9 && r.int8_val_acc > 0.9);
    /* The input quantization reported is the one in the file. */
    host_model hm;
    uint8_t *copy = aligned_alloc(16, (r.int8_len + 15) & ~(size_t)15);
    memcpy(copy, r.int8_model, r.int8_len);
    assert_int_equal(host_model_open_bytes(&hm, copy, r.int8_len, err, sizeof err), TMO_OK);
    tmo_io io;
    tmo_interp_input(&hm.interp, 0, &io);
    assert_true(io.scale == r.input_q.scale && io.zero_point == r.input_q.zero_point);
    host_model_close(&hm);
    tr_result_free(&r);
    tr_dataset_free(&train);
    tr_dataset_free(&val);
    tr_dataset_free(&ds);
}

static size_t put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

/* A CSV and a raw file with the same values give the same model, byte for byte. */
static void test_csv_and_raw_agree(void **state)
{
    (void)state;
    char dir[] = "/tmp/tmo_train_factory_XXXXXX";
    assert_non_null(mkdtemp(dir));
    tr_dataset ds;
    fx_blobs(&ds, 90, 5);
    size_t cap = 64 + ds.count * (ds.features + 1) * 20;
    char *csv = malloc(cap);
    uint8_t *raw = malloc(cap);
    size_t n = 0, r = 0;
    memcpy(raw, "TMODATA1", 8);
    r = 8;
    r += put32(raw + r, (uint32_t)ds.count);
    r += put32(raw + r, (uint32_t)ds.features);
    r += put32(raw + r, 0);
    r += put32(raw + r, 0);
    for (size_t i = 0; i < ds.count; i++) {
        for (size_t f = 0; f < ds.features; f++) {
            float v = ds.x[i * ds.features + f];
            uint32_t bits;
            memcpy(&bits, &v, 4);
            r += put32(raw + r, bits);
            n += (size_t)sprintf(csv + n, "%.9g,", (double)v); /* 9 digits round-trip a float */
        }
        n += (size_t)sprintf(csv + n, "%d\n", ds.y[i]);
    }
    for (size_t i = 0; i < ds.count; i++)
        r += put32(raw + r, (uint32_t)ds.y[i]);
    tr_dataset a, b;
    char err[512];
    assert_int_equal(tr_dataset_load(fx_write(dir, "d.csv", csv, n), &a, err, sizeof err), 0);
    assert_int_equal(tr_dataset_load(fx_write(dir, "d.bin", raw, r), &b, err, sizeof err), 0);
    assert_memory_equal(a.x, ds.x, sizeof(float) * ds.count * ds.features);
    assert_memory_equal(b.x, ds.x, sizeof(float) * ds.count * ds.features);
    tr_job j = job_for("mlp:5", 9);
    tr_result ra, rb;
    run(&j, &a, &ra);
    run(&j, &b, &rb);
    assert_int_equal(ra.int8_len, rb.int8_len);
    assert_memory_equal(ra.int8_model, rb.int8_model, ra.int8_len);
    tr_result_free(&ra);
    tr_result_free(&rb);
    tr_dataset_free(&a);
    tr_dataset_free(&b);
    tr_dataset_free(&ds);
    free(csv);
    free(raw);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void expect_refusal(const tr_job *j, const tr_dataset *ds, const char *frag)
{
    tr_result r;
    char err[512] = "";
    assert_int_equal(tr_factory_run(j, ds, &r, err, sizeof err), -1);
    if (strstr(err, frag) == NULL)
        fail_msg("message '%s' lacks '%s'", err, frag);
    assert_null(r.int8_model);
}

static void test_refusals(void **state)
{
    (void)state;
    tr_dataset ds;
    fx_blobs(&ds, 30, 2);
    tr_job j = job_for("cnn:c2k3", 1);
    expect_refusal(&j, &ds, "6 features is not a square, give --input-shape");
    j.in_h = 2;
    j.in_w = 2;
    j.in_c = 2;
    expect_refusal(&j, &ds, "input shape 2x2x2 does not hold the 6 features");
    j.arch = "cnn:p4";
    j.in_h = 3;
    j.in_w = 2;
    j.in_c = 1;
    expect_refusal(&j, &ds, "4x4 pool");
    j = job_for("mlp:nope", 1);
    expect_refusal(&j, &ds, "architecture");
    j = job_for("mlp:4", 1);
    j.val_split = 0.999;
    expect_refusal(&j, &ds, "leave none for training");
    for (size_t i = 0; i < ds.count; i++)
        ds.y[i] = 0;
    ds.classes = 1;
    j = job_for("mlp:4", 1);
    expect_refusal(&j, &ds, "at least two classes");
    tr_dataset_free(&ds);
}

/* Without a validation split the accuracies are "not measured", not 0 or garbage. */
static void test_no_validation(void **state)
{
    (void)state;
    tr_dataset ds;
    fx_blobs(&ds, 30, 2);
    tr_job j = job_for("mlp:4", 1);
    j.val_split = 0.0;
    tr_result r;
    run(&j, &ds, &r);
    assert_int_equal(r.n_val, 0);
    assert_true(isnan(r.float_val_acc) && isnan(r.int8_val_acc));
    assert_non_null(r.int8_model);
    tr_result_free(&r);
    tr_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reproducible),      cmocka_unit_test(test_reported_numbers),
        cmocka_unit_test(test_csv_and_raw_agree), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_no_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
