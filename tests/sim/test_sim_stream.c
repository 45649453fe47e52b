/*
 * A simulated device's input stream (sim_data.h): digits rows quantized with
 * the model's own scale and zero point (TFLite's QUANTIZE arithmetic,
 * recomputed here from the documented formula), and every kind of drift
 * moving the stream's statistics the way its definition says (shift the
 * mean, scale and noise the spread, stuck and saturated features, class
 * mix), checked against statistics the test computes from the data itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "sim_data.h"
#include "train/dataset.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static sim_data data;
static tr_dataset ref; /* the same file, loaded independently */

static sim_drift none(void)
{
    sim_drift d;
    memset(&d, 0, sizeof d);
    d.scale = 1;
    d.frac = 1;
    return d;
}

static tmo_io io_of(int32_t type, void *buf, size_t elems, float scale, int32_t zp, int dims4)
{
    tmo_io io;
    memset(&io, 0, sizeof io);
    io.data = buf;
    io.type = type;
    io.bytes = elems * (type == TMO_FLOAT32 ? 4 : 1);
    io.scale = scale;
    io.zero_point = zp;
    if (dims4) { /* [1, 8, 8, 1]: a CNN reads the same 64 features */
        io.ndim = 4;
        io.dims[0] = 1, io.dims[1] = 8, io.dims[2] = 8, io.dims[3] = 1;
    } else {
        io.ndim = 2;
        io.dims[0] = 1, io.dims[1] = (int32_t)elems;
    }
    return io;
}

static int8_t quantize(float x, float scale, int32_t zp)
{
    double v = (double)x / scale;
    double q = (v >= 0 ? floor(v + 0.5) : ceil(v - 0.5)) + zp;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static void matches_and_quantizes(void **state)
{
    (void)state;
    int8_t q[64];
    float f[10];
    tmo_io mlp = io_of(TMO_INT8, q, 64, 0.0627451f, -128, 0);
    tmo_io cnn = io_of(TMO_INT8, q, 64, 0.0627451f, -128, 1);
    tmo_io other = io_of(TMO_FLOAT32, f, 10, 0, 0, 0);
    const sim_dataset *ds = sim_data_match(&data, &mlp);
    assert_non_null(ds);
    assert_int_equal(ds->count, 1797);
    assert_ptr_equal(sim_data_match(&data, &cnn), ds);
    assert_null(sim_data_match(&data, &other));
    sim_drift d = none();
    uint64_t rng = 42;
    sim_stream_stats st = {0, 0, 0, 0};
    for (int k = 0; k < 50; k++) {
        int label = sim_stream_fill(ds, &d, 1, &rng, &mlp, &st);
        /* The input is exactly some digits row of that label, quantized per the documentation. */
        int found = 0;
        for (size_t r = 0; r < ref.count && !found; r++) {
            if (ref.y[r] != label)
                continue;
            int same = 1;
            for (size_t i = 0; i < 64 && same; i++)
                same = q[i] == quantize(ref.x[r * 64 + i], 0.0627451f, -128);
            found = same;
        }
        assert_true(found);
    }
    assert_int_equal(st.inputs, 50);
    assert_int_equal(st.values, 50 * 64);
}

/* Mean and variance of n float inputs of ds under drift. */
static void moments(const sim_dataset *ds, const sim_drift *d, uint64_t salt, int n, double *mean,
                    double *var, int *labels)
{
    float x[64];
    tmo_io io = io_of(TMO_FLOAT32, x, 64, 0, 0, 0);
    uint64_t rng = 7;
    sim_stream_stats st = {0, 0, 0, 0};
    for (int k = 0; k < n; k++) {
        int l = sim_stream_fill(ds, d, salt, &rng, &io, &st);
        if (labels != NULL)
            labels[l]++;
    }
    *mean = st.sum / (double)st.values;
    *var = st.sumsq / (double)st.values - *mean * *mean;
}

static void drift_moves_statistics(void **state)
{
    (void)state;
    const sim_dataset *ds = &data.sets[0];
    double m = 0, m2 = 0; /* the whole file, computed here */
    for (size_t i = 0; i < ref.count * 64; i++)
        m += ref.x[i], m2 += (double)ref.x[i] * ref.x[i];
    m /= (double)(ref.count * 64);
    double v = m2 / (double)(ref.count * 64) - m * m;
    double mean, var;
    sim_drift d = none();
    moments(ds, &d, 1, 4000, &mean, &var, NULL);
    assert_true(fabs(mean - m) < 0.15);
    assert_true(fabs(var - v) < 1.5);
    d.shift = 3;
    moments(ds, &d, 1, 4000, &mean, &var, NULL);
    assert_true(fabs(mean - (m + 3)) < 0.15);
    d = none();
    d.scale = 2;
    moments(ds, &d, 1, 4000, &mean, &var, NULL);
    assert_true(fabs(mean - 2 * m) < 0.3);
    assert_true(fabs(var - 4 * v) < 6);
    d = none();
    d.noise = 3;
    moments(ds, &d, 1, 4000, &mean, &var, NULL);
    assert_true(fabs(mean - m) < 0.15);
    assert_true(fabs(var - (v + 9)) < 2);

    /* A stuck sensor: every feature reads the stuck value. */
    float x[64];
    tmo_io io = io_of(TMO_FLOAT32, x, 64, 0, 0, 0);
    uint64_t rng = 3;
    sim_stream_stats st = {0, 0, 0, 0};
    d = none();
    d.stuck = 1;
    d.stuck_value = 5;
    sim_stream_fill(ds, &d, 1, &rng, &io, &st);
    for (int i = 0; i < 64; i++)
        assert_true(x[i] == 5);
    /* Saturated: a fraction of features at the data's maximum (16), the same ones every time. */
    d = none();
    d.saturate = 1;
    d.frac = 0.5f;
    int at_max[64] = {0}, sat = 0;
    for (int k = 0; k < 20; k++) {
        sim_stream_fill(ds, &d, 99, &rng, &io, &st);
        for (int i = 0; i < 64; i++)
            at_max[i] += x[i] == 16;
    }
    for (int i = 0; i < 64; i++)
        sat += at_max[i] == 20;
    assert_true(sat > 20 && sat < 44);

    /* Class mix: only threes and eights, about as many of each. */
    d = none();
    d.class_count = 9;
    d.class_weight[3] = 1;
    d.class_weight[8] = 1;
    int labels[10] = {0};
    moments(ds, &d, 1, 1000, &mean, &var, labels);
    assert_int_equal(labels[3] + labels[8], 1000);
    assert_true(labels[3] > 400 && labels[8] > 400);
}

static void synthetic_and_other_types(void **state)
{
    (void)state;
    int8_t q[100];
    uint8_t u[100];
    tmo_io io = io_of(TMO_INT8, q, 100, 0.1f, 0, 0);
    sim_drift d = none();
    uint64_t rng = 5;
    sim_stream_stats st = {0, 0, 0, 0};
    for (int k = 0; k < 200; k++)
        assert_int_equal(sim_stream_fill(NULL, &d, 1, &rng, &io, &st), -1);
    double mean = st.sum / (double)st.values; /* centred in [-12.8, 12.7] */
    assert_true(fabs(mean) < 0.3);
    tmo_io uio = io_of(TMO_UINT8, u, 100, 0.5f, 10, 0);
    memset(&st, 0, sizeof st);
    d.stuck = 1;
    d.stuck_value = 20; /* 20 / 0.5 + 10 = 50 */
    sim_stream_fill(NULL, &d, 1, &rng, &uio, &st);
    for (int i = 0; i < 100; i++)
        assert_int_equal(u[i], 50);
    assert_true(fabs(st.sum / (double)st.values - 20) < 1e-9);
}

/* The MLPerf Tiny reference inputs feed a model with the same input, byte for byte. */
static void reference_inputs(void **state)
{
    (void)state;
    char manifest[600], err[300];
    snprintf(manifest, sizeof manifest, "%s/golden/dev/kws_dscnn_int8/MANIFEST.tsv", TMO_REF_DIR);
    if (access(manifest, R_OK) != 0)
        skip();
    sim_data ref_sets;
    assert_int_equal(sim_data_load(&ref_sets, NULL, TMO_REF_DIR, err, sizeof err), 0);
    int8_t q[490];
    tmo_io io = io_of(TMO_INT8, q, 490, 0.5f, 3, 0); /* any quantization: bytes pass unchanged */
    io.ndim = 4, io.dims[0] = 1, io.dims[1] = 49, io.dims[2] = 10, io.dims[3] = 1;
    const sim_dataset *ds = sim_data_match(&ref_sets, &io);
    assert_non_null(ds);
    assert_string_equal(ds->name, "kws_dscnn_int8");
    assert_true(ds->count >= 8);
    sim_drift d = none();
    uint64_t rng = 11;
    sim_stream_stats st = {0, 0, 0, 0};
    assert_int_equal(sim_stream_fill(ds, &d, 1, &rng, &io, &st), -1); /* unlabelled */
    int found = 0; /* the input is one of the files the manifest lists, unchanged */
    FILE *f = fopen(manifest, "r");
    char line[600], name[256];
    while (f != NULL && !found && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "%255s", name) != 1 || strcmp(name, "file") == 0)
            continue;
        char path[900];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/golden/dev/kws_dscnn_int8/%s.in", TMO_REF_DIR, name);
        uint8_t *b = host_read_file(path, &len, err, sizeof err);
        found = b != NULL && len == 490 && memcmp(b, q, 490) == 0;
        free(b);
    }
    if (f != NULL)
        fclose(f);
    assert_true(found);
    sim_data_free(&ref_sets);
}

int main(void)
{
    char err[300];
    if (access(DIGITS, R_OK) != 0) {
        fprintf(stderr, "skipped: %s is not installed\n", DIGITS);
        return 77;
    }
    if (sim_data_load(&data, DIGITS, NULL, err, sizeof err) != 0 ||
        tr_dataset_load(DIGITS, &ref, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_and_quantizes),
        cmocka_unit_test(drift_moves_statistics),
        cmocka_unit_test(synthetic_and_other_types),
        cmocka_unit_test(reference_inputs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sim_data_free(&data);
    tr_dataset_free(&ref);
    return rc;
}
