/*
 * The model factory on real data: scikit-learn's handwritten digits
 * (Debian python3-sklearn; 1797 8x8 images, 64 features 0..16, 10 classes).
 * The bar: the int8 MLP above 95% validation accuracy and within
 * one point of the float model. The CNN, reading the same features as
 * 8x8x1 images, must run in the runtime as int8 close to its float accuracy.
 * Few epochs keep this fast; skipped (77) when the data file is absent.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "train/factory.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static tr_dataset digits;

static int load(void **state)
{
    (void)state;
    char err[512];
    if (tr_dataset_load(DIGITS, &digits, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    tr_dataset_free(&digits);
    return 0;
}

static void train(const char *arch, uint32_t epochs, tr_result *r)
{
    tr_job j;
    tr_job_defaults(&j);
    j.arch = arch;
    j.epochs = epochs;
    char err[512];
    if (tr_factory_run(&j, &digits, r, err, sizeof err) != 0)
        fail_msg("%s", err);
    printf("# %s, %u epochs: float %.2f%%, int8 %.2f%%, %.2f s, %zu-byte model, %zu-byte arena\n",
           arch, epochs, 100.0 * r->float_val_acc, 100.0 * r->int8_val_acc, r->train_seconds,
           r->int8_len, r->int8_arena);
}

static void test_mlp_bar(void **state)
{
    (void)state;
    tr_result r;
    train("mlp:64,32", 10, &r);
    assert_int_equal(r.n_val, 359);
    assert_true(r.int8_val_acc > 0.95);
    assert_true(fabs(r.float_val_acc - r.int8_val_acc) <= 0.01);
    tr_result_free(&r);
}

static void test_cnn_8x8(void **state)
{
    (void)state;
    tr_result r;
    train("cnn:c8k3,dw,p2,d32", 8, &r);
    assert_true(r.in_h == 8 && r.in_w == 8 && r.in_c == 1);
    assert_true(r.float_val_acc > 0.93);
    assert_true(fabs(r.float_val_acc - r.int8_val_acc) <= 0.015);
    tr_result_free(&r);
}

int main(void)
{
    if (access(DIGITS, R_OK) != 0) {
        printf("skipped: %s not found (Debian package python3-sklearn)\n", DIGITS);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_bar),
        cmocka_unit_test(test_cnn_8x8),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
