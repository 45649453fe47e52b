/*
 * The `tinymlops model` commands as a user runs them: a real process, real
 * files, exit codes, stderr messages and --json output. The model is made by
 * the project's writer (a small int8 FULLY_CONNECTED net) so the expected
 * values are computed here independently of the CLI.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tflite_writer.h"

static char dir[256];

/* in [1,4] int8 -> FC(3 units, per-tensor) -> out [1,3] int8 */
static const int8_t weights[12] = {1, -2, 3, 4, 5, -6, 7, 8, -9, 10, 11, 12};
static const int32_t bias[3] = {100, -50, 7};

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void build_model(const char *path)
{
    tw_model *m = tw_new();
    float s_in = 0.5f, s_w = 0.25f, s_b = 0.125f, s_out = 1.0f;
    int64_t zp_in = 3, zp_out = -2;
    tw_quant q_in = {1, &s_in, &zp_in, 0}, q_w = {1, &s_w, NULL, 0}, q_b = {1, &s_b, NULL, 0},
             q_out = {1, &s_out, &zp_out, 0};
    int32_t d_in[2] = {1, 4}, d_w[2] = {3, 4}, d_b[1] = {3}, d_out[2] = {1, 3};
    int t_in = tw_tensor(m, "input", 9, d_in, 2, 0, &q_in);
    int t_w = tw_tensor(m, "weights", 9, d_w, 2, tw_buffer(m, weights, sizeof weights), &q_w);
    int t_b = tw_tensor(m, "bias", 2, d_b, 1, tw_buffer(m, bias, sizeof bias), &q_b);
    int t_out = tw_tensor(m, "output", 9, d_out, 2, 0, &q_out);
    int32_t ins[3] = {t_in, t_w, t_b}, outs[1] = {t_out};
    tw_operator(m, 9, ins, 3, outs, 1, NULL);
    tw_inputs(m, ins, 1);
    tw_outputs(m, outs, 1);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(tw_finish(m, &bytes, &len), 0);
    write_file(path, bytes, len);
    free(bytes);
    tw_free(m);
}

/* Runs the CLI with arguments; captures stdout and stderr; returns the exit code. */
static int run(char *out, size_t out_len, char *err, size_t err_len, const char *args)
{
    char cmd[2048], out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", TMO_CLI, args, out_path, err_path);
    int status = system(cmd);
    const char *paths[2] = {out_path, err_path};
    char *bufs[2] = {out, err};
    size_t lens[2] = {out_len, err_len};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "rb");
        size_t n = f ? fread(bufs[i], 1, lens[i] - 1, f) : 0;
        bufs[i][n] = '\0';
        if (f)
            fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int8_t expected_output(const int8_t *in, int u)
{
    /* real = s_in*s_w*sum((x - 3) * w) + bias*s_b; out = round(real / 1) - 2, computed in double. */
    double acc = 0;
    for (int d = 0; d < 4; d++)
        acc += (in[d] - 3) * weights[u * 4 + d];
    double real = 0.5 * 0.25 * acc + 0.125 * bias[u];
    double q = real >= 0 ? (double)(long)(real + 0.5) : -(double)(long)(-real + 0.5);
    q -= 2;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static void inspect_json(void **state)
{
    (void)state;
    static char out[65536], err[4096], args[1024];
    snprintf(args, sizeof args, "model inspect --json '%s/m.tflite'", dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "operators"), "FULLY_CONNECTED")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "macs")), 12);
    assert_int_equal(json_integer_value(json_object_get(o, "weight_bytes")), 12 + 12);
    assert_true(json_integer_value(json_object_get(o, "arena_bytes")) > 0);
    json_t *in = json_array_get(json_object_get(o, "inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(in, "type")), "INT8");
    assert_int_equal(json_integer_value(json_object_get(in, "zero_point")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(in, "shape"), 1)), 4);
    assert_true(json_is_true(json_object_get(o, "runnable")));
    json_decref(o);
}

static void run_writes_expected_output(void **state)
{
    (void)state;
    static char out[4096], err[4096], args[2048], path[512];
    const int8_t in[4] = {10, -7, 3, 127};
    snprintf(path, sizeof path, "%s/in.raw", dir);
    write_file(path, in, sizeof in);
    snprintf(args, sizeof args, "model run '%s/m.tflite' --input '%s/in.raw' --output '%s/out.raw'", dir,
             dir, dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 0);
    snprintf(path, sizeof path, "%s/out.raw", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int8_t got[4];
    assert_int_equal(fread(got, 1, 4, f), 3);
    fclose(f);
    for (int u = 0; u < 3; u++)
        assert_int_equal(got[u], expected_output(in, u));
}

static void run_rejects_wrong_input_size(void **state)
{
    (void)state;
    static char out[4096], err[4096], args[2048], path[512];
    const int8_t in[5] = {0};
    snprintf(path, sizeof path, "%s/bad.raw", dir);
    write_file(path, in, sizeof in);
    snprintf(args, sizeof args, "model run '%s/m.tflite' --input '%s' --output '%s/o.raw'", dir, path, dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 1);
    assert_non_null(strstr(err, "expects 4 bytes"));
    assert_non_null(strstr(err, "has 5"));
    snprintf(path, sizeof path, "%s/o.raw", dir);
    assert_int_equal(access(path, F_OK), -1); /* nothing written on failure */
}

static void bad_model_and_usage_errors(void **state)
{
    (void)state;
    static char out[4096], err[4096], args[2048], path[512];
    snprintf(path, sizeof path, "%s/junk.tflite", dir);
    write_file(path, "not a model at all", 18);
    snprintf(args, sizeof args, "model inspect '%s'", path);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 1);
    assert_non_null(strstr(err, "invalid model"));
    assert_int_equal(run(out, sizeof out, err, sizeof err, "model inspect"), 2);
    assert_int_equal(run(out, sizeof out, err, sizeof err, "model frobnicate"), 2);
    assert_int_equal(run(out, sizeof out, err, sizeof err, "model inspect /nonexistent/x.tflite"), 1);
    assert_non_null(strstr(err, "No such file"));
    snprintf(args, sizeof args, "model bench '%s/m.tflite' --runs 0", dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 2);
}

static void bench_json(void **state)
{
    (void)state;
    static char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "model bench '%s/m.tflite' --runs 50 --json", dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "runs")), 50);
    double mn = json_real_value(json_object_get(o, "latency_min_us"));
    double md = json_real_value(json_object_get(o, "latency_median_us"));
    double p99 = json_real_value(json_object_get(o, "latency_p99_us"));
    assert_true(mn > 0 && mn <= md && md <= p99);
    json_decref(o);
}

/* A separable 2-class CSV: label 1 when the first feature is larger. */
static void write_training_csv(const char *path, int bad_line)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    uint32_t s = 7;
    for (int i = 1; i <= 200; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 16, b = (int)(s >> 8) % 16;
        if (i == bad_line)
            fprintf(f, "%d,oops,%d,0\n", a, b);
        else
            fprintf(f, "%d,%d,%d,%d\n", a, b, (a + b) % 16, a > b ? 1 : 0);
    }
    fclose(f);
}

static void train_json_and_model(void **state)
{
    (void)state;
    static char out[65536], err[65536], args[2048], path[512];
    snprintf(path, sizeof path, "%s/train.csv", dir);
    write_training_csv(path, 0);
    snprintf(args, sizeof args,
             "model train --data '%s' --arch mlp:8 --epochs 20 --seed 3 --out '%s/t.tflite' --json",
             path, dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 0);
    assert_non_null(strstr(err, "epoch")); /* progress on stderr */
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "features")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "classes")), 2);
    double acc = json_real_value(json_object_get(o, "int8_val_accuracy"));
    assert_true(acc > 0.8);
    json_decref(o);
    /* The written model is a runnable model for the other commands. */
    snprintf(args, sizeof args, "model inspect --json '%s/t.tflite'", dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 0);
    o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "runnable")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "operators"), "SOFTMAX")), 1);
    json_decref(o);
}

static void train_reports_bad_line(void **state)
{
    (void)state;
    static char out[65536], err[65536], args[2048], path[512];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    write_training_csv(path, 57);
    snprintf(args, sizeof args, "model train --data '%s' --arch mlp:8 --out '%s/b.tflite'", path, dir);
    assert_int_equal(run(out, sizeof out, err, sizeof err, args), 1);
    assert_non_null(strstr(err, "bad.csv:57"));
    snprintf(path, sizeof path, "%s/b.tflite", dir);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/tmo_cli_test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[512];
    snprintf(path, sizeof path, "%s/m.tflite", dir);
    build_model(path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inspect_json),
        cmocka_unit_test(run_writes_expected_output),
        cmocka_unit_test(run_rejects_wrong_input_size),
        cmocka_unit_test(bad_model_and_usage_errors),
        cmocka_unit_test(bench_json),
        cmocka_unit_test(train_json_and_model),
        cmocka_unit_test(train_reports_bad_line),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
