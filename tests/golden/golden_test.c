/*
 * Runs every vector of the TFLite Micro golden set (ref/golden/dev) through
 * the runtime: int8 outputs must match byte for byte, float32 within 1e-5
 * relative. The data comes from ../shared/ref or $TINYMLOPS_REF; without it
 * the test reports itself skipped (exit 77).
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
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "host.h"

#define MAX_MODELS 64

static char ref_dir[1024];

typedef struct {
    char name[256];
} model_case;

static int float_close(float got, float want)
{
    if (got == want)
        return 1;
    float diff = fabsf(got - want);
    float mag = fmaxf(fabsf(got), fabsf(want));
    return diff <= 1e-5f * mag;
}

/* Compares one output; prints the first differing element. */
static int compare(const char *what, const tmo_io *out, const uint8_t *want, size_t want_len)
{
    if (out->bytes != want_len) {
        print_error("%s: output is %zu bytes, golden %zu\n", what, out->bytes, want_len);
        return 0;
    }
    if (out->type == TMO_FLOAT32) {
        const float *g = out->data;
        for (size_t i = 0; i < want_len / 4; i++) {
            float w;
            memcpy(&w, want + 4 * i, 4);
            if (!float_close(g[i], w)) {
                print_error("%s: element %zu is %.9g, golden %.9g\n", what, i, g[i], w);
                return 0;
            }
        }
        return 1;
    }
    const uint8_t *g = out->data;
    for (size_t i = 0; i < want_len; i++) {
        if (g[i] != want[i]) {
            print_error("%s: byte %zu is %d, golden %d\n", what, i, (int8_t)g[i], (int8_t)want[i]);
            return 0;
        }
    }
    return 1;
}

static void run_model(void **state)
{
    const model_case *mc = *state;
    char path[8192], err[1024];
    host_model hm;
    snprintf(path, sizeof path, "%s/models/%s.tflite", ref_dir, mc->name);
    tmo_err e = host_model_open(&hm, path, err, sizeof err);
    if (e != TMO_OK)
        fail_msg("%s: %s", mc->name, err);

    snprintf(path, sizeof path, "%s/golden/dev/%s/MANIFEST.tsv", ref_dir, mc->name);
    FILE *manifest = fopen(path, "r");
    assert_non_null(manifest);
    char line[1024];
    int vectors = 0, failures = 0;
    while (fgets(line, sizeof line, manifest)) {
        char *tab = strchr(line, '\t');
        if (tab == NULL || strncmp(line, "file\t", 5) == 0)
            continue;
        *tab = '\0';
        size_t in_len, out_len;
        snprintf(path, sizeof path, "%s/golden/dev/%s/%s.in", ref_dir, mc->name, line);
        uint8_t *in = host_read_file(path, &in_len, err, sizeof err);
        snprintf(path, sizeof path, "%s/golden/dev/%s/%s.out", ref_dir, mc->name, line);
        uint8_t *want = host_read_file(path, &out_len, err, sizeof err);
        assert_non_null(in);
        assert_non_null(want);
        tmo_io io, out;
        assert_int_equal(tmo_interp_input(&hm.interp, 0, &io), TMO_OK);
        assert_int_equal(io.bytes, in_len);
        memcpy(io.data, in, in_len);
        assert_int_equal(tmo_interp_invoke(&hm.interp), TMO_OK);
        assert_int_equal(tmo_interp_output(&hm.interp, 0, &out), TMO_OK);
        char what[2048];
        snprintf(what, sizeof what, "%s/%s", mc->name, line);
        if (!compare(what, &out, want, out_len))
            failures++;
        vectors++;
        free(in);
        free(want);
    }
    fclose(manifest);
    host_model_close(&hm);
    print_message("%s: %d vectors, %d mismatches\n", mc->name, vectors, failures);
    assert_true(vectors > 0);
    assert_int_equal(failures, 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const model_case *)a)->name, ((const model_case *)b)->name);
}

int main(void)
{
    const char *env = getenv("TINYMLOPS_REF");
    snprintf(ref_dir, sizeof ref_dir, "%s", env && *env ? env : TMO_REF_DIR);
    char path[8192];
    snprintf(path, sizeof path, "%s/golden/dev", ref_dir);
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "golden data not found at %s; skipping\n", path);
        return 77;
    }
    static model_case cases[MAX_MODELS];
    static struct CMUnitTest tests[MAX_MODELS];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && n < MAX_MODELS) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(cases[n].name, sizeof cases[n].name, "%s", de->d_name);
        n++;
    }
    closedir(dir);
    qsort(cases, n, sizeof cases[0], by_name);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_model;
        tests[i].initial_state = &cases[i];
    }
    return _cmocka_run_group_tests("golden", tests, n, NULL, NULL);
}
