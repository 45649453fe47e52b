/*
 * Reports: merging two windows equals the report of the concatenated
 * window (counters and histograms exactly, moments to rounding, drift after
 * re-scoring), decode/encode round trips byte for byte, the host re-scoring
 * agrees with the device's own drift block, and malformed bytes (every
 * truncation, single-byte flips, targeted corruptions) are rejected with a
 * message, or, when a flip leaves a valid report, decoded without loss.
 */
#include "monitor_fixture.h"

enum { N_IN = 8, N_CLS = 4 };

typedef struct world {
    uint8_t *model;
    size_t model_len;
    host_profile_result prof;
    tmo_profile p;
    host_model hm;
    float weights[N_CLS * N_IN];
} world;

static void fill(fx_rng *r, float *x, size_t n, double shift)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(fx_normal(r) + shift);
}

/* The MLP fixture with a labelled profile: labels are the noiseless argmax, flipped 10% of the time. */
static void world_up(world *w)
{
    fx_rng r = {99};
    fill(&r, w->weights, N_CLS * N_IN, 0);
    w->model = fx_mlp_model(N_IN, N_CLS, w->weights, &w->model_len);
    enum { N = 300 };
    float *data = malloc(sizeof(float) * N * N_IN);
    int32_t labels[N];
    fill(&r, data, (size_t)N * N_IN, 0);
    for (int i = 0; i < N; i++) {
        double best = -1e9;
        for (int k = 0; k < N_CLS; k++) {
            double z = 0;
            for (int j = 0; j < N_IN; j++)
                z += w->weights[k * N_IN + j] * fmax(0.0, data[i * N_IN + j]);
            if (z > best) {
                best = z;
                labels[i] = k;
            }
        }
        if (fx_next(&r) % 10 == 0)
            labels[i] = (labels[i] + 1) % N_CLS;
    }
    fx_build(w->model, w->model_len, data, sizeof(float) * N * N_IN, labels, NULL, &w->prof);
    free(data);
    fx_parse(&w->p, w->prof.profile, w->prof.profile_len);
    fx_open(&w->hm, w->model, w->model_len);
    assert_true(w->p.pen_channels == N_IN);
    assert_true(w->p.flags & TMO_PROFILE_F_CALIBRATED);
}

static void world_down(world *w)
{
    host_profile_result_free(&w->prof);
    host_model_close(&w->hm);
    free(w->model);
}

static void run(world *w, fx_mon *f, uint64_t seed, int n, double shift)
{
    fx_rng r = {seed};
    tmo_io in;
    tmo_interp_input(&w->hm.interp, 0, &in);
    for (int i = 0; i < n; i++) {
        fill(&r, in.data, N_IN, shift);
        assert_int_equal(tmo_monitor_invoke(&f->m, &w->hm.interp), TMO_OK);
    }
}

static void near(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol * (1 + fabs(b))))
        fail_msg("%.9g differs from %.9g (tolerance %g)", a, b, tol);
}

static void same_drift(const tmo_drift *a, const tmo_drift *b, double tol)
{
    near(a->psi_in_mean, b->psi_in_mean, tol);
    near(a->psi_in_max, b->psi_in_max, tol);
    near(a->js_in_mean, b->js_in_mean, tol);
    near(a->psi_out, b->psi_out, tol);
    near(a->js_out, b->js_out, tol);
    near(a->psi_conf, b->psi_conf, tol);
    near(a->js_conf, b->js_conf, tol);
    near(a->acc_est, b->acc_est, tol);
    near(a->pen_shift, b->pen_shift, 100 * tol);
}

static void test_merge_equals_concatenation(void **state)
{
    (void)state;
    world w;
    world_up(&w);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    fx_mon one, both;
    fx_attach(&one, &c, &w.p, &w.hm.interp);
    fx_attach(&both, &c, &w.p, &w.hm.interp);
    host_report ra, rb, rab, merged;
    size_t la, lb, lab;
    run(&w, &one, 1, 37, 0.0);
    tmo_monitor_flush(&one.m);
    uint8_t *ba = fx_take(&one, &ra, &la);
    run(&w, &one, 2, 55, 1.5); /* the second window drifted */
    tmo_monitor_flush(&one.m);
    uint8_t *bb = fx_take(&one, &rb, &lb);
    run(&w, &both, 1, 37, 0.0);
    run(&w, &both, 2, 55, 1.5);
    tmo_monitor_flush(&both.m);
    uint8_t *bab = fx_take(&both, &rab, &lab);

    char err[300];
    assert_int_equal(host_report_copy(&merged, &ra), 0);
    assert_int_equal(host_report_merge(&merged, &rb, err, sizeof err), 0);
    assert_int_equal(merged.seq_first, 0);
    assert_int_equal(merged.seq_last, 1);
    assert_int_equal(merged.windows, 2);
    assert_true(merged.flags & TMO_REPORT_F_MERGED);
    assert_int_equal(merged.inferences, rab.inferences);
    assert_int_equal(merged.in_inf, rab.in_inf);
    assert_int_equal(merged.out_inf, rab.out_inf);
    assert_memory_equal(merged.latency, rab.latency, sizeof rab.latency);
    for (uint32_t g = 0; g < rab.in_groups; g++) {
        assert_int_equal(merged.in[g].count, rab.in[g].count);
        assert_memory_equal(merged.in[g].hist, rab.in[g].hist, 4u * rab.in_bins);
        near(merged.in[g].mean, rab.in[g].mean, 1e-9);
        near(merged.in[g].m2, rab.in[g].m2, 1e-9);
    }
    assert_memory_equal(merged.classes, rab.classes, 4u * rab.out_groups);
    assert_memory_equal(merged.conf, rab.conf, 4u * rab.out_bins);
    assert_int_equal(merged.pen_count, rab.pen_count);
    for (uint32_t ch = 0; ch < rab.pen_channels; ch++) {
        near(merged.pen_mean[ch], rab.pen_mean[ch], 1e-5);
        near(merged.pen_m2[ch], rab.pen_m2[ch], 1e-4);
    }
    /* Linear statistics merge exactly; divergences after re-scoring from the merged counts. */
    near(merged.drift.acc_est, rab.drift.acc_est, 1e-6);
    near(merged.drift.conf_mean, rab.drift.conf_mean, 1e-6);
    assert_int_equal(host_report_rescore(&merged, &w.p, err, sizeof err), 0);
    same_drift(&merged.drift, &rab.drift, 1e-5);
    /* The host's re-scoring reproduces the device's drift block. */
    host_report again;
    assert_int_equal(host_report_copy(&again, &rab), 0);
    assert_int_equal(host_report_rescore(&again, &w.p, err, sizeof err), 0);
    same_drift(&again.drift, &rab.drift, 1e-6);
    assert_int_equal(host_report_window_events(&again, &w.p, &c),
                     rab.events & ~(uint32_t)TMO_EV_IMMEDIATE);
    /* The shifted window is seen as input drift, the clean one is not. */
    assert_true(rb.events & TMO_EV_DRIFT_INPUT);
    assert_false(ra.events & TMO_EV_DRIFT_INPUT);

    /* Round trips: device bytes -> struct -> the same bytes; the merge encodes and decodes. */
    uint8_t *enc;
    size_t elen;
    assert_int_equal(host_report_encode(&ra, &enc, &elen, err, sizeof err), 0);
    assert_int_equal(elen, la);
    assert_memory_equal(enc, ba, la);
    free(enc);
    assert_int_equal(host_report_encode(&merged, &enc, &elen, err, sizeof err), 0);
    host_report back;
    assert_int_equal(host_report_decode(enc, elen, &back, err, sizeof err), 0);
    assert_int_equal(back.windows, 2);
    free(enc);

    char *json = host_report_json(&rab);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"inferences\":92"));
    assert_non_null(strstr(json, "\"penultimate\":{\"count\":92"));
    free(json);

    /* Reports of another layout or model do not merge. */
    rb.digest[0] ^= 1;
    assert_int_equal(host_report_merge(&merged, &rb, err, sizeof err), -1);
    assert_non_null(strstr(err, "different models"));

    host_report_free(&ra);
    host_report_free(&rb);
    host_report_free(&rab);
    host_report_free(&merged);
    host_report_free(&again);
    host_report_free(&back);
    free(ba);
    free(bb);
    free(bab);
    free(one.mem);
    free(both.mem);
    world_down(&w);
}

/* A report with every optional block: penultimate and two raw samples. */
static uint8_t *full_report(world *w, size_t *len)
{
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    c.samples = 2;
    fx_mon f;
    fx_attach(&f, &c, &w->p, &w->hm.interp);
    run(w, &f, 5, 9, 0.0);
    tmo_monitor_flush(&f.m);
    host_report r;
    uint8_t *b = fx_take(&f, &r, len);
    assert_int_equal(r.sample_count, 2);
    host_report_free(&r);
    free(f.mem);
    return b;
}

static void test_malformed_reports(void **state)
{
    (void)state;
    world w;
    world_up(&w);
    size_t len;
    uint8_t *good = full_report(&w, &len);
    uint8_t *b = malloc(len);
    char err[300];
    host_report r;
    for (size_t n = 0; n < len; n++) {
        memcpy(b, good, n);
        err[0] = '\0';
        assert_int_equal(host_report_decode(b, n, &r, err, sizeof err), -1);
        assert_non_null(strstr(err, "report"));
    }
    unsigned rejected = 0, accepted = 0;
    const uint8_t flips[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < len; i++)
        for (int k = 0; k < 3; k++) {
            memcpy(b, good, len);
            b[i] ^= flips[k];
            if (host_report_decode(b, len, &r, err, sizeof err) != 0) {
                assert_true(err[0] != '\0');
                rejected++;
                continue;
            }
            /* Accepted: then nothing was lost or invented. */
            uint8_t *enc;
            size_t elen;
            assert_int_equal(host_report_encode(&r, &enc, &elen, err, sizeof err), 0);
            assert_int_equal(elen, len);
            assert_memory_equal(enc, b, len);
            free(enc);
            host_report_free(&r);
            accepted++;
        }
    printf("# %u byte flips rejected, %u accepted losslessly (counters, samples, times)\n",
           rejected, accepted);
    assert_true(rejected > 0 && accepted > 0);

    struct {
        size_t at;
        uint8_t value;
        const char *says;
    } cases[] = {
        {0, 'X', "magic"},
        {TMO_RH_VERSION, 2, "version"},
        {TMO_RH_TOTAL, 0, "total_size"},
        {TMO_RH_FLAGS + 3, 0x80, "flags"},
        {TMO_RH_IN_BINS, 1, "input bins"},
        {TMO_RH_LAT_BINS, 31, "latency bins"},
        {TMO_RH_ERRORS, 1, "observed inferences"},
        {TMO_RH_WINDOWS, 2, "window count"},
        {TMO_REPORT_HEADER_SIZE + TMO_RD_JS_IN_MEAN + 3, 0x7f, "Jensen"},
        {TMO_REPORT_HEADER_SIZE + TMO_REPORT_DRIFT_SIZE, 1, "latency histogram"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, good, len);
        b[cases[i].at] = cases[i].value;
        assert_int_equal(host_report_decode(b, len, &r, err, sizeof err), -1);
        if (strstr(err, cases[i].says) == NULL)
            fail_msg("case %zu: '%s' does not mention '%s'", i, err, cases[i].says);
    }
    assert_int_equal(host_report_decode(NULL, 0, &r, err, sizeof err), -1);
    free(b);
    free(good);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_concatenation),
        cmocka_unit_test(test_malformed_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
