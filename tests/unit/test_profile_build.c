/*
 * The profile builder against independent computations: class and
 * confidence counts from the model's function evaluated in double, the
 * calibration (identity without labels, monotone and close to the labelled
 * accuracy with them), int8 histogram ranges as exact quantiles, the
 * per-inference mean statistics, the model digest; the data and label
 * loaders with their errors; and a real reference model end to end.
 */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_crypto.h"
#include "monitor_fixture.h"

enum { NI = 6, NC = 3, NS = 400 };

typedef struct mlp {
    float w[NC * NI];
    float x[NS * NI];
    int32_t pred[NS];
    double conf[NS];
    uint8_t *model;
    size_t len;
} mlp;

/* Data, and predictions computed from the model's definition: softmax(W relu(x)). */
static void mlp_up(mlp *m)
{
    fx_rng r = {17};
    for (int i = 0; i < NC * NI; i++)
        m->w[i] = (float)fx_normal(&r);
    for (int i = 0; i < NS * NI; i++)
        m->x[i] = (float)fx_normal(&r);
    for (int s = 0; s < NS; s++) {
        double z[NC], best = -1e300, sum = 0;
        for (int k = 0; k < NC; k++) {
            z[k] = 0;
            for (int j = 0; j < NI; j++)
                z[k] += (double)m->w[k * NI + j] * fmax(0.0, m->x[s * NI + j]);
            if (z[k] > best) {
                best = z[k];
                m->pred[s] = k;
            }
        }
        for (int k = 0; k < NC; k++)
            sum += exp(z[k] - best);
        m->conf[s] = 1.0 / sum;
    }
    m->model = fx_mlp_model(NI, NC, m->w, &m->len);
}

static void test_counts_and_identity_calibration(void **state)
{
    (void)state;
    mlp m;
    mlp_up(&m);
    host_profile_result r;
    fx_build(m.model, m.len, m.x, sizeof m.x, NULL, NULL, &r);
    tmo_profile p;
    fx_parse(&p, r.profile, r.profile_len);
    assert_int_equal(p.mode, TMO_OUT_PROBS);
    assert_int_equal(p.samples, NS);
    assert_int_equal(p.labelled, 0);
    assert_false(p.flags & TMO_PROFILE_F_CALIBRATED);
    uint32_t cls[NC] = {0}, hist[20] = {0};
    double csum[20] = {0}, all = 0, sq = 0;
    for (int s = 0; s < NS; s++) {
        int b = (int)fmin(19, floor(m.conf[s] * 20));
        cls[m.pred[s]]++;
        hist[b]++;
        csum[b] += m.conf[s];
        all += m.conf[s];
        sq += m.conf[s] * m.conf[s];
    }
    for (uint32_t k = 0; k < NC; k++)
        assert_int_equal(tmo_profile_class_count(&p, k), cls[k]);
    for (uint32_t b = 0; b < 20; b++) {
        assert_int_equal(tmo_profile_conf_count(&p, b), hist[b]);
        /* No labels: the calibration is the identity, the bin's mean confidence (or its centre). */
        double want = hist[b] ? csum[b] / hist[b] : (b + 0.5) / 20;
        assert_true(fabs(tmo_profile_calib(&p, b) - want) < 1e-5);
    }
    assert_true(fabs(p.conf_mean - all / NS) < 1e-5);
    assert_true(fabs(p.conf_std - sqrt(sq / NS - (all / NS) * (all / NS))) < 1e-4);
    assert_true(fabs(p.acc_ref - all / NS) < 1e-4); /* identity: estimate = mean confidence */
    /* Per-inference input mean over samples. */
    double ms = 0, mq = 0;
    for (int s = 0; s < NS; s++) {
        double mean = 0;
        for (int j = 0; j < NI; j++)
            mean += m.x[s * NI + j] / NI;
        ms += mean;
        mq += mean * mean;
    }
    assert_true(fabs(p.in.seq_mean - ms / NS) < 1e-5);
    assert_true(fabs(p.in.seq_std - sqrt(mq / NS - (ms / NS) * (ms / NS))) < 1e-4);
    uint8_t digest[32];
    assert_int_equal(hb_sha256(m.model, m.len, digest), 0);
    assert_memory_equal(p.model_digest, digest, 32);
    assert_int_equal(r.pen_tensor, 1);
    host_profile_result_free(&r);
    free(m.model);
}

static void test_labelled_calibration(void **state)
{
    (void)state;
    mlp m;
    mlp_up(&m);
    /* Labels agree with the prediction with probability = confidence: a calibrated model. */
    int32_t labels[NS];
    fx_rng r = {23};
    for (int s = 0; s < NS; s++)
        labels[s] = fx_uniform(&r) < m.conf[s] ? m.pred[s] : (m.pred[s] + 1) % NC;
    labels[7] = -1; /* unknown */
    host_profile_result res;
    fx_build(m.model, m.len, m.x, sizeof m.x, labels, NULL, &res);
    tmo_profile p;
    fx_parse(&p, res.profile, res.profile_len);
    assert_true(p.flags & TMO_PROFILE_F_CALIBRATED);
    assert_int_equal(p.labelled, NS - 1);
    int correct = 0;
    for (int s = 0; s < NS; s++)
        correct += s != 7 && labels[s] == m.pred[s];
    assert_true(fabs(p.label_accuracy - (double)correct / (NS - 1)) < 1e-6);
    for (uint32_t b = 0; b < 20; b++) {
        float c = tmo_profile_calib(&p, b);
        assert_true(c >= 0 && c <= 1);
        if (b > 0)
            assert_true(c >= tmo_profile_calib(&p, b - 1)); /* isotonic */
    }
    printf("# labelled accuracy %.4f, calibrated estimate on the same data %.4f\n",
           p.label_accuracy, p.acc_ref);
    assert_true(fabs(p.acc_ref - p.label_accuracy) < 0.03);
    host_profile_result_free(&res);
    free(m.model);
}

static void test_int8_ranges_are_quantiles(void **state)
{
    (void)state;
    size_t len;
    uint8_t *model = fx_relu_model(TMO_INT8, 100, 2, 0.5f, 0, &len);
    enum { S = 20 };
    int8_t *x = malloc(S * 200);
    fx_rng r = {3};
    for (int i = 0; i < S * 200; i++) /* channel 0 wide, channel 1 narrow with rare outliers */
        x[i] = (int8_t)(i % 2 == 0 ? (int)(fx_next(&r) % 201) - 100
                                   : (fx_next(&r) % 1000 == 0 ? 120 : (int)(fx_next(&r) % 11)));
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    for (int pass = 0; pass < 2; pass++) {
        o.tail = pass == 0 ? 0.0 : 0.01;
        host_profile_result res;
        fx_build(model, len, x, S * 200, NULL, &o, &res);
        tmo_profile p;
        fx_parse(&p, res.profile, res.profile_len);
        assert_int_equal(p.mode, TMO_OUT_VALUES);
        assert_int_equal(p.in.groups, 2);
        for (uint32_t g = 0; g < 2; g++) {
            /* lo: smallest v with more than tail*n values <= v; hi likewise from the top. */
            int counts[256] = {0}, n = 0;
            for (int i = (int)g; i < S * 200; i += 2, n++)
                counts[x[i] + 128]++;
            int lo = -128, hi = 127, cum = 0;
            for (int v = 0; v < 256; v++)
                if ((cum += counts[v]) > o.tail * n) {
                    lo = v - 128;
                    break;
                }
            cum = 0;
            for (int v = 255; v >= 0; v--)
                if ((cum += counts[v]) > o.tail * n) {
                    hi = v - 128;
                    break;
                }
            tmo_profile_group pg;
            tmo_profile_group_get(&p.in, g, &pg);
            assert_true(pg.lo == lo && pg.hi == hi);
            assert_int_equal(pg.count, n);
        }
        assert_int_equal(res.kat_vectors, 4);
        assert_true(res.acc_ref == -1);
        host_profile_result_free(&res);
    }
    free(x);
    free(model);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_loaders(void **state)
{
    (void)state;
    char dir[] = "/tmp/tmo_profile_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    float s[3][4] = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
    const char *names[3] = {"b.in", "a.in", "c.raw"}; /* sorted: a.in, b.in, c.raw */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        write_file(path, s[i], sizeof s[i]);
    }
    snprintf(path, sizeof path, "%s/a.out", dir); /* golden outputs sit next to inputs */
    write_file(path, "xx", 2);
    snprintf(path, sizeof path, "%s/.hidden", dir);
    write_file(path, "x", 1);
    uint8_t *data;
    size_t count;
    char err[512];
    assert_int_equal(host_profile_load_data(dir, 16, &data, &count, err, sizeof err), 0);
    assert_int_equal(count, 3);
    assert_memory_equal(data, s[1], 16);
    assert_memory_equal(data + 16, s[0], 16);
    free(data);
    assert_int_equal(host_profile_load_data(dir, 12, &data, &count, err, sizeof err), -1);
    assert_non_null(strstr(err, "a.in"));
    snprintf(path, sizeof path, "%s/all.bin", dir);
    write_file(path, s, 40);
    assert_int_equal(host_profile_load_data(path, 16, &data, &count, err, sizeof err), -1);
    assert_non_null(strstr(err, "whole number"));
    assert_int_equal(host_profile_load_data(path, 8, &data, &count, err, sizeof err), 0);
    assert_int_equal(count, 5);
    free(data);
    unlink(path);

    char labels_path[512];
    snprintf(labels_path, sizeof labels_path, "%s/labels.txt", dir);
    write_file(labels_path, "1, 2\n-1\n", 8);
    int32_t *labels;
    assert_int_equal(host_profile_load_labels(labels_path, &labels, &count, err, sizeof err), 0);
    assert_int_equal(count, 3);
    assert_true(labels[0] == 1 && labels[1] == 2 && labels[2] == -1);
    free(labels);
    write_file(labels_path, "1\n2\nthree\n", 10);
    assert_int_equal(host_profile_load_labels(labels_path, &labels, &count, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3:"));
    /* build_files: directory data, labels that do not match the sample count. */
    size_t mlen;
    uint8_t *model = fx_softmax_model(TMO_FLOAT32, 4, 0, 0, &mlen);
    write_file(labels_path, "0 1", 3);
    host_profile_result r;
    assert_int_equal(
        host_profile_build_files(model, mlen, dir, labels_path, NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "2 labels for 3 samples"));
    write_file(labels_path, "3 3 3", 5);
    assert_int_equal(
        host_profile_build_files(model, mlen, dir, labels_path, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.samples, 3);
    assert_int_equal(r.labelled, 3);
    assert_true(r.label_accuracy == 1.0); /* the last input is always the largest */
    host_profile_result_free(&r);
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    o.bins = 1;
    assert_int_equal(host_profile_build(model, mlen, (const uint8_t *)s, sizeof s, NULL, &o, &r,
                                        err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "options"));
    assert_int_equal(
        host_profile_build(model, mlen, (const uint8_t *)s, 10, NULL, NULL, &r, err, sizeof err),
        -1);
    free(model);
    const char *all[] = {"b.in", "a.in", "c.raw", "a.out", ".hidden", "labels.txt"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, all[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* kws_dscnn_int8 from the reference set, profiled on its golden inputs. */
static void test_reference_model(void **state)
{
    (void)state;
    const char *ref = getenv("TINYMLOPS_REF") ? getenv("TINYMLOPS_REF") : TMO_REF_DIR;
    char model_path[512], data_path[512], err[512];
    snprintf(model_path, sizeof model_path, "%s/models/kws_dscnn_int8.tflite", ref);
    snprintf(data_path, sizeof data_path, "%s/golden/dev/kws_dscnn_int8", ref);
    size_t len;
    uint8_t *model = host_read_file(model_path, &len, err, sizeof err);
    if (model == NULL)
        skip();
    host_profile_result r;
    assert_int_equal(
        host_profile_build_files(model, len, data_path, NULL, NULL, &r, err, sizeof err), 0);
    tmo_profile p;
    fx_parse(&p, r.profile, r.profile_len);
    assert_int_equal(p.mode, TMO_OUT_PROBS);
    assert_int_equal(p.classes, 12);
    assert_true(p.pen_channels > 0);
    host_model hm;
    fx_open(&hm, model, len);
    tmo_kat_result kr;
    tmo_diag d;
    assert_int_equal(tmo_kat_run(&hm.interp, r.kat, r.kat_len, &kr, &d), TMO_OK);
    assert_int_equal(kr.passed, 4);
    printf("# kws_dscnn_int8: profile %zu bytes, KAT %zu bytes (%u samples)\n", r.profile_len,
           r.kat_len, r.samples);
    /* int8 penultimate statistics against the tensor read back after each invoke, when it survives. */
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    fx_mon f;
    fx_attach(&f, &c, &p, &hm.interp);
    if (f.m.pen_survives) {
        uint8_t *data;
        size_t count;
        tmo_io in;
        tmo_interp_input(&hm.interp, 0, &in);
        assert_int_equal(
            host_profile_load_data(data_path, in.bytes, &data, &count, err, sizeof err), 0);
        double *s1 = calloc(p.pen_channels, sizeof(double)),
               *s2 = calloc(p.pen_channels, sizeof(double));
        const int8_t *pen = (const int8_t *)(hm.interp.arena + hm.interp.tensor_loc[p.pen_tensor]);
        for (size_t i = 0; i < count; i++) {
            memcpy(in.data, data + i * in.bytes, in.bytes);
            tmo_interp_invoke(&hm.interp);
            for (uint32_t ch = 0; ch < p.pen_channels; ch++) {
                s1[ch] += pen[ch];
                s2[ch] += (double)pen[ch] * pen[ch];
            }
        }
        for (uint32_t ch = 0; ch < p.pen_channels; ch++) {
            float mean, var;
            tmo_profile_pen(&p, ch, &mean, &var);
            double m = s1[ch] / count, v = s2[ch] / count - m * m;
            assert_true(fabs(mean - m) < 1e-4 * (1 + fabs(m)));
            assert_true(fabs(var - v) < 1e-3 * (1 + v));
        }
        free(s1);
        free(s2);
        free(data);
    }
    free(f.mem);
    host_model_close(&hm);
    host_profile_result_free(&r);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_identity_calibration),
        cmocka_unit_test(test_labelled_calibration),
        cmocka_unit_test(test_int8_ranges_are_quantiles),
        cmocka_unit_test(test_loaders),
        cmocka_unit_test(test_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
