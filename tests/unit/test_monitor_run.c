/*
 * The monitor at run time: windows closed by count, time and flush, the
 * pending-report and dropped-report rules, immediate events on an abrupt
 * change (and none on a clean stream), the reservoir of the least confident
 * inputs, penultimate statistics whether or not the tensor survives invoke,
 * the three ways of reading a classifier's output, and every init error.
 * Expectations are computed in the test from the inputs (double precision).
 */
#include "monitor_fixture.h"

enum { K = 4 };

/* Float softmax classifier with a profile made from confident class-0 inputs. */
typedef struct cls_world {
    uint8_t *model;
    size_t len;
    host_profile_result prof;
    tmo_profile p;
    host_model hm;
} cls_world;

static void confident(fx_rng *r, float *x, double spread)
{
    for (int k = 0; k < K; k++)
        x[k] = (float)(fx_normal(r) * spread);
    x[fx_next(r) % 10 < 7 ? 0 : 1 + fx_next(r) % 3] += 4.0f;
}

static void cls_up(cls_world *w, const host_profile_opts *o)
{
    w->model = fx_softmax_model(TMO_FLOAT32, K, 0, 0, &w->len);
    enum { N = 400 };
    float data[N * K];
    fx_rng r = {5};
    for (int i = 0; i < N; i++)
        confident(&r, data + i * K, 0.5);
    fx_build(w->model, w->len, data, sizeof data, NULL, o, &w->prof);
    fx_parse(&w->p, w->prof.profile, w->prof.profile_len);
    fx_open(&w->hm, w->model, w->len);
}

static void cls_down(cls_world *w)
{
    host_profile_result_free(&w->prof);
    host_model_close(&w->hm);
    free(w->model);
}

static double softmax_top(const float *x, int n, int *arg)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        best = x[k] > x[best] ? k : best;
    double z = 0;
    for (int k = 0; k < n; k++)
        z += exp((double)x[k] - x[best]);
    *arg = best;
    return 1.0 / z;
}

static void test_count_windows_and_dropped(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 10;
    c.first_seq = 41;
    fx_mon f;
    fx_attach(&f, &c, &w.p, &w.hm.interp);
    fx_rng r = {8};
    tmo_io in;
    tmo_interp_input(&w.hm.interp, 0, &in);
    uint8_t small[16];
    size_t len;
    assert_int_equal(tmo_monitor_report_take(&f.m, small, sizeof small, &len), TMO_ESTATE);
    assert_int_equal(tmo_monitor_flush(&f.m), TMO_ESTATE);
    for (int i = 0; i < 25; i++) {
        confident(&r, in.data, 0.5);
        tmo_monitor_invoke(&f.m, &w.hm.interp);
        assert_int_equal(tmo_monitor_report_ready(&f.m), i >= 9);
    }
    assert_int_equal(tmo_monitor_report_take(&f.m, small, sizeof small, &len), TMO_ENOSPC);
    host_report rep;
    free(fx_take(&f, &rep, &len));
    /* The window of inferences 0..9 was overwritten by 10..19 before it was taken. */
    assert_int_equal(rep.seq_first, 42);
    assert_int_equal(rep.dropped, 1);
    assert_int_equal(rep.inferences, 10);
    assert_int_equal(rep.flags & TMO_REPORT_F_CLOSE_MASK, TMO_REPORT_CLOSE_COUNT);
    assert_int_equal(len, tmo_monitor_report_size(&f.m));
    host_report_free(&rep);
    assert_int_equal(tmo_monitor_flush(&f.m), TMO_OK);
    free(fx_take(&f, &rep, &len));
    assert_int_equal(rep.seq_first, 43);
    assert_int_equal(rep.inferences, 5);
    assert_int_equal(rep.dropped, 0);
    assert_int_equal(rep.flags & TMO_REPORT_F_CLOSE_MASK, TMO_REPORT_CLOSE_FLUSH);
    host_report_free(&rep);
    free(f.mem);
    cls_down(&w);
}

static uint64_t fake_now(void *ctx)
{
    uint64_t *t = ctx;
    *t += 7; /* every reading advances 7 us: an invoke "takes" 7 us */
    return *t;
}

static void count_report(void *ctx, const uint8_t *report, size_t len)
{
    (void)report;
    (void)len;
    (*(int *)ctx)++;
}

static void test_time_windows(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    uint64_t now = 5000000; /* 5 s */
    int delivered = 0;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    c.window_ms = 100;
    c.now_us = fake_now;
    c.clock_ctx = &now;
    c.on_report = count_report;
    c.report_ctx = &delivered;
    fx_mon f;
    fx_attach(&f, &c, &w.p, &w.hm.interp);
    fx_rng r = {8};
    tmo_io in;
    tmo_interp_input(&w.hm.interp, 0, &in);
    int closed_at = -1;
    for (int i = 0; i < 10 && closed_at < 0; i++) {
        confident(&r, in.data, 0.5);
        tmo_monitor_invoke(&f.m, &w.hm.interp);
        now += 30000; /* 30 ms between inferences */
        if (tmo_monitor_report_ready(&f.m))
            closed_at = i;
    }
    assert_int_equal(closed_at, 4); /* at 5 s + 4 * 30 ms + a few us >= start + 100 ms */
    assert_int_equal(delivered, 1);
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    assert_int_equal(rep.start_ms, 5000);
    assert_int_equal(rep.end_ms, 5120);
    assert_int_equal(rep.flags & TMO_REPORT_F_CLOSE_MASK, TMO_REPORT_CLOSE_TIME);
    assert_int_equal(rep.latency[3], 5); /* 7 us is in [4, 8) */
    assert_int_equal(rep.dropped, 0);
    host_report_free(&rep);
    free(f.mem);
    cls_down(&w);
}

typedef struct seen {
    uint32_t events;
    int calls;
    uint64_t seq;
} seen;

static void on_event(void *ctx, uint32_t ev, uint64_t seq)
{
    seen *s = ctx;
    s->events |= ev;
    s->seq = seq;
    s->calls++;
}

static void test_events_on_abrupt_change_only(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    seen s = {0, 0, 0};
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 100;
    c.on_event = on_event;
    c.event_ctx = &s;
    fx_mon f;
    fx_attach(&f, &c, &w.p, &w.hm.interp);
    fx_rng r = {77};
    tmo_io in;
    tmo_interp_input(&w.hm.interp, 0, &in);
    uint32_t window_events = 0;
    for (int i = 0; i < 1000; i++) {
        confident(&r, in.data, 0.5);
        tmo_monitor_invoke(&f.m, &w.hm.interp);
        if (tmo_monitor_report_ready(&f.m)) {
            host_report rep;
            size_t len;
            free(fx_take(&f, &rep, &len));
            window_events |= rep.events;
            host_report_free(&rep);
        }
    }
    assert_int_equal(s.calls, 0);
    assert_int_equal(window_events, 0);
    /* The sensor goes flat: every class equally likely, confidence 1/4. */
    int at = -1;
    for (int i = 0; i < 100 && at < 0; i++) {
        for (int k = 0; k < K; k++)
            ((float *)in.data)[k] = (float)(0.01 * fx_normal(&r));
        tmo_monitor_invoke(&f.m, &w.hm.interp);
        if (s.events & TMO_EV_CONF_DOWN)
            at = i;
    }
    printf("# confidence drop detected after %d inferences\n", at + 1);
    assert_true(at >= 0 && at < 20);
    assert_int_equal(s.seq, 10); /* raised during the 11th window */
    tmo_monitor_flush(&f.m);
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    assert_true(rep.events & TMO_EV_CONF_DOWN);
    assert_int_equal(rep.first_event, (uint32_t)at);
    assert_true(rep.events & TMO_EV_DRIFT_CONF);
    assert_true(rep.events & TMO_EV_ACC_DROP);
    host_report_free(&rep);
    free(f.mem);
    cls_down(&w);
}

static void test_stuck_input(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    seen s = {0, 0, 0};
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    c.on_event = on_event;
    c.event_ctx = &s;
    fx_mon f;
    fx_attach(&f, &c, &w.p, &w.hm.interp);
    fx_rng r = {3};
    tmo_io in;
    tmo_interp_input(&w.hm.interp, 0, &in);
    float frozen[K];
    confident(&r, frozen, 0.5);
    for (int i = 0; i < 40; i++) {
        if (i < 10)
            confident(&r, in.data, 0.5);
        else
            memcpy(in.data, frozen, sizeof frozen); /* the sensor freezes at inference 10 */
        tmo_monitor_invoke(&f.m, &w.hm.interp);
        /* Raised once, at the 16th identical input in a row (inference 25). */
        assert_int_equal(s.events & TMO_EV_INPUT_STUCK ? 1 : 0, i >= 25);
    }
    assert_int_equal(s.calls, 1);
    tmo_monitor_flush(&f.m);
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    assert_true(rep.events & TMO_EV_INPUT_STUCK);
    assert_int_equal(rep.first_event, 25);
    host_report_free(&rep);
    free(f.mem);
    cls_down(&w);
}

static void test_reservoir_keeps_least_confident(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 30;
    c.samples = 3;
    fx_mon f;
    fx_attach(&f, &c, &w.p, &w.hm.interp);
    fx_rng r = {13};
    float xs[30][K];
    double conf[30];
    tmo_io in;
    tmo_interp_input(&w.hm.interp, 0, &in);
    for (int i = 0; i < 30; i++) {
        confident(&r, xs[i], 1.5);
        int arg;
        conf[i] = softmax_top(xs[i], K, &arg);
        memcpy(in.data, xs[i], sizeof xs[i]);
        tmo_monitor_invoke(&f.m, &w.hm.interp);
    }
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    assert_int_equal(rep.sample_count, 3);
    assert_int_equal(rep.sample_bytes, sizeof xs[0]);
    for (uint32_t s = 0; s < 3; s++) {
        uint32_t i = rep.samples[s].index;
        assert_memory_equal(rep.samples[s].bytes, xs[i], sizeof xs[i]);
        assert_true(fabs(rep.samples[s].score - (1 - conf[i])) < 1e-5);
        int below = 0; /* inputs strictly less confident than this one */
        for (int j = 0; j < 30; j++)
            below += conf[j] < conf[i] - 1e-6;
        assert_true(below < 3);
    }
    host_report_free(&rep);
    free(f.mem);
    cls_down(&w);
}

static void penultimate_both_paths(int32_t C, int extra)
{
    enum { N = 8, S = 50 };
    float wts[8 * N];
    fx_rng r = {21};
    for (int i = 0; i < C * N; i++)
        wts[i] = (float)fx_normal(&r);
    size_t len;
    uint8_t *model = fx_mlp_model_ex(N, C, wts, extra, &len);
    float data[S * N];
    for (int i = 0; i < S * N; i++)
        data[i] = (float)fx_normal(&r);
    host_profile_result prof;
    fx_build(model, len, data, sizeof data, NULL, NULL, &prof);
    tmo_profile p;
    fx_parse(&p, prof.profile, prof.profile_len);
    assert_int_equal(p.pen_tensor, 1);
    assert_int_equal(p.pen_channels, N);
    /* Profile penultimate statistics: relu of the data, per channel, population variance. */
    for (int ch = 0; ch < N; ch++) {
        double s = 0, sq = 0;
        for (int i = 0; i < S; i++) {
            double h = fmax(0.0, data[i * N + ch]);
            s += h;
            sq += h * h;
        }
        float mean, var;
        tmo_profile_pen(&p, (uint32_t)ch, &mean, &var);
        assert_true(fabs(mean - s / S) < 1e-5);
        assert_true(fabs(var - (sq / S - (s / S) * (s / S))) < 1e-4);
    }
    host_model hm;
    fx_open(&hm, model, len);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    fx_mon f, g;
    fx_attach(&f, &c, &p, &hm.interp);
    fx_attach(&g, &c, &p, &hm.interp);
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    for (int i = 0; i < S; i++) {
        memcpy(in.data, data + i * N, sizeof(float) * N);
        tmo_monitor_invoke(&f.m, &hm.interp);
        memcpy(in.data, data + i * N, sizeof(float) * N);
        tmo_monitor_before(&g.m, &hm.interp);
        tmo_interp_invoke(&hm.interp);
        tmo_monitor_observe(&g.m, &hm.interp, 0, 1);
    }
    tmo_monitor_flush(&f.m);
    tmo_monitor_flush(&g.m);
    host_report rf, rg;
    size_t l;
    free(fx_take(&f, &rf, &l));
    free(fx_take(&g, &rg, &l));
    assert_int_equal(rf.pen_count, S);
    for (int ch = 0; ch < N; ch++) {
        float mean, var;
        tmo_profile_pen(&p, (uint32_t)ch, &mean, &var);
        assert_true(fabs(rf.pen_mean[ch] - mean) < 1e-5);
        assert_true(fabs(rf.pen_m2[ch] / S - var) < 1e-4);
    }
    /* Without the wrapper the tensor is read after invoke: only when nothing overwrote it. */
    printf("# penultimate tensor %s invoke\n", g.m.pen_survives ? "survives" : "is overwritten by");
    assert_int_equal(rg.pen_count, g.m.pen_survives ? S : 0);
    if (g.m.pen_survives)
        assert_memory_equal(rg.pen_mean, rf.pen_mean, sizeof(float) * N);
    host_report_free(&rf);
    host_report_free(&rg);
    free(f.mem);
    free(g.mem);
    host_profile_result_free(&prof);
    host_model_close(&hm);
    free(model);
}

static void test_penultimate_both_paths(void **state)
{
    (void)state;
    penultimate_both_paths(3, 0); /* the softmax output fits elsewhere */
    penultimate_both_paths(8, 2); /* later tensors reuse the penultimate's memory */
}

/* int8 PROBS: conf = (q - zp) * scale; LOGITS: softmax of the output values. */
static void test_output_readings(void **state)
{
    (void)state;
    size_t len;
    uint8_t *model = fx_softmax_model(TMO_INT8, 5, 0.25f, 3, &len);
    int8_t data[40 * 5];
    fx_rng r = {4};
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (int8_t)(fx_next(&r) >> 56);
    host_profile_result prof;
    fx_build(model, len, data, sizeof data, NULL, NULL, &prof);
    tmo_profile p;
    fx_parse(&p, prof.profile, prof.profile_len);
    host_model hm;
    fx_open(&hm, model, len);
    uint32_t cls[5] = {0}, hist[20] = {0};
    tmo_io in, out;
    tmo_interp_input(&hm.interp, 0, &in);
    tmo_interp_output(&hm.interp, 0, &out);
    for (int i = 0; i < 40; i++) {
        memcpy(in.data, data + 5 * i, 5);
        tmo_interp_invoke(&hm.interp);
        const int8_t *q = out.data;
        int best = 0;
        for (int k = 1; k < 5; k++)
            best = q[k] > q[best] ? k : best;
        cls[best]++;
        hist[(int)fmin(19, floor((q[best] + 128) / 256.0 * 20))]++;
    }
    for (uint32_t k = 0; k < 5; k++)
        assert_int_equal(tmo_profile_class_count(&p, k), cls[k]);
    for (uint32_t b = 0; b < 20; b++)
        assert_int_equal(tmo_profile_conf_count(&p, b), hist[b]);
    host_profile_result_free(&prof);
    host_model_close(&hm);
    free(model);

    /* A RELU output of shape [1,1,4] read as logits. */
    model = fx_relu_model(TMO_FLOAT32, 1, 4, 0, 0, &len);
    float xs[60 * 4];
    for (size_t i = 0; i < 60 * 4; i++)
        xs[i] = (float)(2 * fx_normal(&r));
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    o.mode = TMO_OUT_LOGITS;
    fx_build(model, len, xs, sizeof xs, NULL, &o, &prof);
    fx_parse(&p, prof.profile, prof.profile_len);
    memset(hist, 0, sizeof hist);
    double sum = 0;
    for (int i = 0; i < 60; i++) {
        float h[4];
        for (int k = 0; k < 4; k++)
            h[k] = fmaxf(0.0f, xs[4 * i + k]);
        int arg;
        double c = softmax_top(h, 4, &arg);
        hist[(int)fmin(19, floor(c * 20))]++;
        sum += c;
    }
    for (uint32_t b = 0; b < 20; b++)
        assert_int_equal(tmo_profile_conf_count(&p, b), hist[b]);
    assert_true(fabs(p.conf_mean - sum / 60) < 1e-5);
    host_profile_result_free(&prof);
    free(model);
}

static void test_init_errors(void **state)
{
    (void)state;
    cls_world w;
    cls_up(&w, NULL);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    tmo_diag d;
    size_t need;
    tmo_monitor m;
    assert_int_equal(tmo_monitor_mem_size(&c, &w.p, &w.hm.interp, &need, &d), TMO_OK);
    void *mem = malloc(need);
    assert_int_equal(tmo_monitor_init(&m, &c, &w.p, &w.hm.interp, mem, need - 8, &d), TMO_ENOSPC);
    assert_true(d.has_limit && d.limit >= (int64_t)need - 7);
    tmo_monitor_config bad = c;
    bad.input_stride = 0;
    assert_int_equal(tmo_monitor_init(&m, &bad, &w.p, &w.hm.interp, mem, need, &d), TMO_EINVAL);
    bad = c;
    bad.window_ms = 10;
    assert_int_equal(tmo_monitor_init(&m, &bad, &w.p, &w.hm.interp, mem, need, &d), TMO_EINVAL);
    assert_non_null(strstr(d.problem, "clock"));
    bad = c;
    bad.samples = TMO_REPORT_MAX_SAMPLES + 1;
    assert_int_equal(tmo_monitor_init(&m, &bad, &w.p, &w.hm.interp, mem, need, &d), TMO_EINVAL);
    /* A profile of another model (5 classes instead of 4). */
    size_t len;
    uint8_t *other = fx_softmax_model(TMO_FLOAT32, 5, 0, 0, &len);
    host_model hm5;
    fx_open(&hm5, other, len);
    assert_int_equal(tmo_monitor_init(&m, &c, &w.p, &hm5.interp, mem, need, &d), TMO_EINVAL);
    char msg[300];
    tmo_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "profile.input"));
    /* Observing another interpreter than the one attached. */
    assert_int_equal(tmo_monitor_init(&m, &c, &w.p, &w.hm.interp, mem, need, &d), TMO_OK);
    assert_int_equal(tmo_monitor_observe(&m, &hm5.interp, 0, 1), TMO_EINVAL);
    assert_int_equal(tmo_monitor_before(&m, &hm5.interp), TMO_EINVAL);
    assert_int_equal(m.inferences, 0);
    host_model_close(&hm5);
    free(other);
    free(mem);
    cls_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_windows_and_dropped),
        cmocka_unit_test(test_time_windows),
        cmocka_unit_test(test_events_on_abrupt_change_only),
        cmocka_unit_test(test_stuck_input),
        cmocka_unit_test(test_reservoir_keeps_least_confident),
        cmocka_unit_test(test_penultimate_both_paths),
        cmocka_unit_test(test_output_readings),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
