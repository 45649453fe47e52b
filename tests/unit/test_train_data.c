/*
 * Data loading of the model factory (host/train/dataset*.c): CSV with and
 * without header, gzip through zlib, the raw tensor layout built here byte
 * by byte from its documented description, every malformed-input message
 * naming file and line (or sample), and the seeded train/validation split.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "train/dataset.h"
#include "train_fixture.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tmo_train_data_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Loads CSV text from a file; returns the loader's result, the message in err. */
static int load_text(const char *text, tr_dataset *ds, char *err, size_t err_len)
{
    const char *p = fx_write(dir, "data.csv", text, strlen(text));
    return tr_dataset_load(p, ds, err, err_len);
}

/* The load must fail with a message containing every fragment given. */
static void expect_error(const char *text, const char *frag1, const char *frag2)
{
    tr_dataset ds;
    char err[512] = "";
    assert_int_equal(load_text(text, &ds, err, sizeof err), -1);
    if (strstr(err, frag1) == NULL || (frag2 != NULL && strstr(err, frag2) == NULL))
        fail_msg("message '%s' lacks '%s' / '%s'", err, frag1, frag2 ? frag2 : "");
    assert_null(ds.x);
}

static void test_csv_plain(void **state)
{
    (void)state;
    tr_dataset ds;
    char err[512];
    assert_int_equal(
        load_text("1,2.5,0\n-3, 4e1 ,2\r\n\n# comment\n0.125,-0,1", &ds, err, sizeof err), 0);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.features, 2);
    assert_int_equal(ds.classes, 3);
    const float want[] = {1.0f, 2.5f, -3.0f, 40.0f, 0.125f, 0.0f};
    for (int i = 0; i < 6; i++)
        assert_true(ds.x[i] == want[i]);
    assert_int_equal(ds.y[0], 0);
    assert_int_equal(ds.y[1], 2);
    assert_int_equal(ds.y[2], 1);
    tr_dataset_free(&ds);
}

static void test_csv_header(void **state)
{
    (void)state;
    tr_dataset ds;
    char err[512];
    assert_int_equal(load_text("a,b,label\n1,2,1\n3,4,0\n", &ds, err, sizeof err), 0);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.classes, 2);
    assert_true(ds.x[2] == 3.0f);
    tr_dataset_free(&ds);
    /* Only the first line may be a header: a second one is a data error. */
    expect_error("a,b,label\nc,d,e\n", "data.csv:2:", "column 1: 'c' is not a number");
}

static void test_csv_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("1,2,0\n3,4,1\n5,6\n", "data.csv:3:", "expected 3 columns");
    expect_error("1,2,0\n3,4,1,7\n", "data.csv:2:", "found 4");
    expect_error("1,2,0\n3,x4,1\n", "data.csv:2:", "column 2: 'x4' is not a number");
    expect_error("1,2,0\n3,,1\n", "data.csv:2:", "column 2: '' is not a number");
    expect_error("1,nan,0\n", "data.csv:1:", "not a finite");
    expect_error("1,1e39,0\n", "data.csv:1:", "not a finite");
    expect_error("1,2,0\n\n3,4,1.5\n", "data.csv:3:", "label '1.5' (column 3) is not an integer");
    expect_error("1,2,-1\n", "data.csv:1:", "label -1 (column 3) is out of range [0, 999]");
    expect_error("1,2,1000\n", "data.csv:1:", "out of range");
    expect_error("1,2,one\n", "data.csv:1:", "label 'one' (column 3) is not a number");
    expect_error("5\n", "data.csv:1:", "at least one feature and a label");
    expect_error("", "data.csv: no data rows (empty file)", NULL);
    expect_error("\n# nothing\n\n", "no data rows (empty file)", NULL);
    expect_error("x,y,label\n", "no data rows (only a header line)", NULL);
}

static void test_csv_gzip(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/data.csv.gz", dir);
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    const char *text = "0.5,1,1\n2,3,0\n";
    assert_int_equal(gzwrite(f, text, (unsigned)strlen(text)), (int)strlen(text));
    assert_int_equal(gzclose(f), Z_OK);
    tr_dataset ds;
    char err[512];
    assert_int_equal(tr_dataset_load(path, &ds, err, sizeof err), 0);
    assert_int_equal(ds.count, 2);
    assert_true(ds.x[0] == 0.5f && ds.x[3] == 3.0f && ds.y[0] == 1);
    tr_dataset_free(&ds);

    /* A truncated gzip stream is an error, not a shorter data set. */
    size_t len;
    FILE *in = fopen(path, "rb");
    uint8_t buf[256];
    len = fread(buf, 1, sizeof buf, in);
    fclose(in);
    const char *cut = fx_write(dir, "cut.csv.gz", buf, len - 6);
    assert_int_equal(tr_dataset_load(cut, &ds, err, sizeof err), -1);
    assert_non_null(strstr(err, "cut.csv.gz"));
}

static void test_missing_file(void **state)
{
    (void)state;
    tr_dataset ds;
    char err[512];
    assert_int_equal(tr_dataset_load("/nonexistent/x.csv", &ds, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.csv"));
}

/* ---- raw layout, encoded here from the documentation ---- */

static size_t put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

/* 2 samples of 3 features of the given type; returns the file length. */
static size_t raw_file(uint8_t *b, uint32_t type, int32_t label1)
{
    size_t n = 0;
    memcpy(b, "TMODATA1", 8);
    n += 8;
    n += put32(b + n, 2);
    n += put32(b + n, 3);
    n += put32(b + n, type);
    n += put32(b + n, 0);
    if (type == 0) {
        const float v[6] = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -5.5f};
        for (int i = 0; i < 6; i++) {
            uint32_t bits;
            memcpy(&bits, &v[i], 4);
            n += put32(b + n, bits);
        }
    } else {
        const uint8_t v[6] = {0, 1, 200, 255, 128, 7};
        memcpy(b + n, v, 6);
        n += 6;
    }
    n += put32(b + n, 1);
    n += put32(b + n, (uint32_t)label1);
    return n;
}

static void test_raw(void **state)
{
    (void)state;
    uint8_t b[128];
    tr_dataset ds;
    char err[512];
    size_t n = raw_file(b, 0, 4);
    assert_int_equal(tr_dataset_load(fx_write(dir, "f.raw", b, n), &ds, err, sizeof err), 0);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.features, 3);
    assert_int_equal(ds.classes, 5);
    assert_true(ds.x[1] == -2.0f && ds.x[5] == -5.5f && ds.y[0] == 1 && ds.y[1] == 4);
    tr_dataset_free(&ds);

    n = raw_file(b, 3, 0);
    assert_int_equal(tr_dataset_load(fx_write(dir, "u.raw", b, n), &ds, err, sizeof err), 0);
    assert_true(ds.x[2] == 200.0f && ds.x[3] == 255.0f);
    tr_dataset_free(&ds);
    n = raw_file(b, 9, 0);
    assert_int_equal(tr_dataset_load(fx_write(dir, "s.raw", b, n), &ds, err, sizeof err), 0);
    assert_true(ds.x[2] == -56.0f && ds.x[4] == -128.0f);
    tr_dataset_free(&ds);
}

static void expect_raw_error(const uint8_t *b, size_t n, const char *frag)
{
    tr_dataset ds;
    char err[512] = "";
    assert_int_equal(tr_dataset_load(fx_write(dir, "bad.raw", b, n), &ds, err, sizeof err), -1);
    if (strstr(err, "bad.raw") == NULL || strstr(err, frag) == NULL)
        fail_msg("message '%s' lacks '%s'", err, frag);
}

static void test_raw_errors(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = raw_file(b, 0, 1);
    expect_raw_error(b, n - 1, "implies 56");
    expect_raw_error(b, 12, "not a raw data file");
    raw_file(b, 0, -2);
    expect_raw_error(b, n, "sample 1 (byte offset 52): label -2 out of range");
    raw_file(b, 0, 1);
    const uint32_t nan_bits = 0x7fc00000u;
    put32(b + 24 + 4 * 4, nan_bits);
    expect_raw_error(b, n, "sample 1 (byte offset 40): feature 1 is not finite");
    raw_file(b, 5, 1);
    expect_raw_error(b, n, "feature type 5 is not supported");
    raw_file(b, 0, 1);
    put32(b + 20, 1);
    expect_raw_error(b, n, "reserved");
    raw_file(b, 0, 1);
    put32(b + 8, 0);
    expect_raw_error(b, n, "0 samples");
}

static void test_split(void **state)
{
    (void)state;
    tr_dataset all, tr1, va1, tr2, va2;
    char err[256];
    fx_blobs(&all, 50, 7);
    assert_int_equal(tr_dataset_split(&all, 0.2, 9, &tr1, &va1, err, sizeof err), 0);
    assert_int_equal(va1.count, 10);
    assert_int_equal(tr1.count, 40);
    assert_int_equal(va1.classes, 3);
    /* Same seed, same split; every sample lands in exactly one part. */
    assert_int_equal(tr_dataset_split(&all, 0.2, 9, &tr2, &va2, err, sizeof err), 0);
    assert_memory_equal(va1.x, va2.x, sizeof(float) * 10 * 6);
    int seen[50] = {0};
    for (size_t i = 0; i < 50; i++)
        for (size_t j = 0; j < 50; j++) {
            const float *s = j < 10 ? va1.x + j * 6 : tr1.x + (j - 10) * 6;
            if (memcmp(s, all.x + i * 6, sizeof(float) * 6) == 0)
                seen[i]++;
        }
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
    tr_dataset_free(&tr2);
    tr_dataset_free(&va2);
    /* Another seed, another split. */
    assert_int_equal(tr_dataset_split(&all, 0.2, 10, &tr2, &va2, err, sizeof err), 0);
    assert_true(memcmp(va1.x, va2.x, sizeof(float) * 10 * 6) != 0);
    tr_dataset_free(&tr1);
    tr_dataset_free(&va1);
    tr_dataset_free(&tr2);
    tr_dataset_free(&va2);
    assert_int_equal(tr_dataset_split(&all, 1.0, 1, &tr1, &va1, err, sizeof err), -1);
    assert_int_equal(tr_dataset_split(&all, 0.995, 1, &tr1, &va1, err, sizeof err), -1);
    assert_int_equal(tr_dataset_split(&all, 0.0, 1, &tr1, &va1, err, sizeof err), 0);
    assert_int_equal(va1.count, 0);
    assert_int_equal(tr1.count, 50);
    tr_dataset_free(&tr1);
    tr_dataset_free(&va1);
    tr_dataset_free(&all);
}

/* scikit-learn's digits: 1797 rows of 64 pixels (0..16) and a label, no header. */
static void test_digits_file(void **state)
{
    (void)state;
    if (access(DIGITS, R_OK) != 0)
        skip();
    tr_dataset ds;
    char err[512];
    assert_int_equal(tr_dataset_load(DIGITS, &ds, err, sizeof err), 0);
    assert_int_equal(ds.count, 1797);
    assert_int_equal(ds.features, 64);
    assert_int_equal(ds.classes, 10);
    /* First row as `zcat digits.csv.gz | head -1` shows it: 0,0,5,13,9,1,0,0,... label 0. */
    const float first[8] = {0, 0, 5, 13, 9, 1, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_true(ds.x[i] == first[i]);
    assert_int_equal(ds.y[0], 0);
    assert_int_equal(ds.y[1796], 8);
    for (size_t i = 0; i < ds.count * 64; i++)
        assert_true(ds.x[i] >= 0.0f && ds.x[i] <= 16.0f);
    tr_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_plain),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_errors_name_the_line),
        cmocka_unit_test(test_csv_gzip),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_raw_errors),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_digits_file),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
