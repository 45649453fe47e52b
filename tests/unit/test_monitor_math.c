/*
 * The monitor's statistics against independent computations from their
 * definitions (docs/monitoring.md): int8 and float32 binning per channel
 * group (with stride, clamping, degenerate ranges, NaN/Inf), moments
 * (two-pass double), PSI / Jensen-Shannon / chi-square statistic (double precision
 * from the formulas), and the CUSUM detector on seeded streams: quiet on a
 * stationary one, fast on an injected step.
 */
#include "monitor_fixture.h"

/* A VALUES profile over a model whose input and output are [1, rows, ch]. */
typedef struct range {
    float lo, hi;
} range;

static void stats_spec(host_pstats *s, int32_t type, uint32_t rows, uint32_t ch, uint32_t groups,
                       uint32_t bins, float scale, int32_t zp, const range *r)
{
    memset(s, 0, sizeof *s);
    s->type = type;
    s->bins = bins;
    s->groups = groups;
    s->channels = ch;
    s->elements = rows * ch;
    s->scale = scale;
    s->zero_point = zp;
    s->g = calloc(groups, sizeof *s->g);
    for (uint32_t g = 0; g < groups; g++) {
        s->g[g].lo = r[g].lo;
        s->g[g].hi = r[g].hi;
    }
}

static uint8_t *values_profile(int32_t type, uint32_t rows, uint32_t ch, uint32_t groups,
                               uint32_t bins, float scale, int32_t zp, const range *r, size_t *len)
{
    host_profile_spec s;
    memset(&s, 0, sizeof s);
    s.mode = TMO_OUT_VALUES;
    stats_spec(&s.in, type, rows, ch, groups, bins, scale, zp, r);
    range whole = {-128, 127};
    stats_spec(&s.out, type, rows, ch, 1, 2, scale, zp, &whole);
    uint8_t *out;
    assert_int_equal(host_profile_encode(&s, &out, len), 0);
    free(s.in.g);
    free(s.out.g);
    return out;
}

/* Independent expectation of one group: histogram and two-pass moments. */
typedef struct expect {
    uint64_t hist[64];
    uint64_t count;
    double sum, m2;
} expect;

static void check_group(const host_group *got, const expect *e, uint32_t bins, double tol)
{
    assert_int_equal(got->count, e->count);
    for (uint32_t b = 0; b < bins; b++)
        assert_int_equal(got->hist[b], e->hist[b]);
    double mean = e->count ? e->sum / (double)e->count : 0;
    assert_true(fabs(got->mean - mean) <= tol * (1 + fabs(mean)));
    assert_true(fabs(got->m2 - e->m2) <= tol * (1 + e->m2));
}

static void run_int8(uint32_t stride, uint32_t rows, uint32_t ch, uint32_t groups, const range *r)
{
    const uint32_t bins = 7, n = 13;
    size_t mlen, plen;
    uint8_t *model = fx_relu_model(TMO_INT8, (int32_t)rows, (int32_t)ch, 0.1f, -3, &mlen);
    uint8_t *pb = values_profile(TMO_INT8, rows, ch, groups, bins, 0.1f, -3, r, &plen);
    host_model hm;
    fx_open(&hm, model, mlen);
    tmo_profile p;
    fx_parse(&p, pb, plen);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    c.input_stride = stride;
    fx_mon f;
    fx_attach(&f, &c, &p, &hm.interp);

    int8_t *all = malloc(n * rows * ch);
    fx_rng rng = {7};
    for (size_t i = 0; i < n * rows * ch; i++)
        all[i] = (int8_t)(fx_next(&rng) >> 56);
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(in.data, all + i * rows * ch, rows * ch);
        assert_int_equal(tmo_monitor_invoke(&f.m, &hm.interp), TMO_OK);
    }
    assert_int_equal(tmo_monitor_flush(&f.m), TMO_OK);
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));

    uint32_t first[5];
    for (uint32_t g = 0; g <= groups; g++)
        first[g] = g * ch / groups; /* docs [P-3]: group g starts at floor(g * channels / groups) */
    for (uint32_t g = 0; g < groups; g++) {
        expect e;
        memset(&e, 0, sizeof e);
        double lo = r[g].lo, hi = r[g].hi;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t row = 0; row < rows; row += stride)
                for (uint32_t cc = first[g]; cc < first[g + 1]; cc++) {
                    double q = all[(i * rows + row) * ch + cc];
                    double x = q < lo ? lo : q > hi ? hi : q;
                    e.hist[(int)floor((x - lo) * bins / (hi - lo + 1))]++;
                    e.count++;
                    e.sum += q;
                }
        double mean = e.sum / (double)e.count;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t row = 0; row < rows; row += stride)
                for (uint32_t cc = first[g]; cc < first[g + 1]; cc++) {
                    double d = all[(i * rows + row) * ch + cc] - mean;
                    e.m2 += d * d;
                }
        check_group(&rep.in[g], &e, bins, 1e-12); /* int8 sums are exact */
    }
    assert_int_equal(rep.in_inf, n);
    host_report_free(&rep);
    free(all);
    free(f.mem);
    free(pb);
    free(model);
    host_model_close(&hm);
}

static const range four[4] = {{-128, 127}, {-10, 20}, {5, 5}, {-100, -90}};

static void test_int8_bins_and_moments(void **state)
{
    (void)state;
    run_int8(1, 50, 6, 4, four);      /* groups of 1, 2, 1 and 2 channels */
    run_int8(1, 300, 1, 1, &four[1]); /* one channel: the contiguous path */
}

static void test_int8_stride(void **state)
{
    (void)state;
    run_int8(3, 50, 6, 4, four);
    run_int8(4, 300, 1, 1, &four[3]);
}

static void test_float_bins_nonfinite(void **state)
{
    (void)state;
    const uint32_t rows = 40, ch = 3, bins = 16, n = 9;
    /* Power-of-two widths and values on a 1/128 grid off the bin edges: exact in float. */
    const range r[3] = {{-4, 4}, {0, 1}, {2, 2}};
    size_t mlen, plen;
    uint8_t *model = fx_relu_model(TMO_FLOAT32, (int32_t)rows, (int32_t)ch, 0, 0, &mlen);
    uint8_t *pb = values_profile(TMO_FLOAT32, rows, ch, 3, bins, 0, 0, r, &plen);
    host_model hm;
    fx_open(&hm, model, mlen);
    tmo_profile p;
    fx_parse(&p, pb, plen);
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    fx_mon f;
    fx_attach(&f, &c, &p, &hm.interp);
    float *all = malloc(sizeof(float) * n * rows * ch);
    fx_rng rng = {11};
    uint32_t nonfinite = 0;
    for (size_t i = 0; i < n * rows * ch; i++) {
        all[i] = (float)((double)((int)(fx_next(&rng) % 1536) - 768) / 128.0 + 1.0 / 256.0);
        if (i % 97 == 5) {
            all[i] = i % 2 ? NAN : -INFINITY;
            nonfinite++;
        }
    }
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(in.data, all + i * rows * ch, sizeof(float) * rows * ch);
        tmo_monitor_before(&f.m, &hm.interp);
        tmo_interp_invoke(&hm.interp);
        tmo_monitor_observe(&f.m, &hm.interp, 10, 1);
    }
    tmo_monitor_flush(&f.m);
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    assert_true(rep.nonfinite >= nonfinite); /* the relu outputs of NaN count too */
    for (uint32_t g = 0; g < 3; g++) {
        expect e;
        memset(&e, 0, sizeof e);
        double lo = r[g].lo, hi = r[g].hi, sum = 0;
        for (size_t i = g; i < n * rows * ch; i += ch) {
            double v = all[i];
            if (!isfinite(v))
                continue;
            int b = hi > lo ? (int)floor((v - lo) * bins / (hi - lo)) : (v > lo ? (int)bins : 0);
            e.hist[b < 0 ? 0 : b >= (int)bins ? bins - 1 : (uint32_t)b]++;
            e.count++;
            sum += v;
        }
        e.sum = sum;
        for (size_t i = g; i < n * rows * ch; i += ch)
            if (isfinite(all[i]))
                e.m2 += (all[i] - sum / e.count) * (all[i] - sum / e.count);
        /* float32 partial sums (flushed to double every 256 values): ~1e-7 relative. */
        check_group(&rep.in[g], &e, bins, 1e-6);
    }
    host_report_free(&rep);
    free(all);
    free(f.mem);
    free(pb);
    free(model);
    host_model_close(&hm);
}

/* PSI, JS and the chi-square statistic straight from the definitions in docs/monitoring.md. */
static void definitions(const uint32_t *ref, const uint32_t *win, uint32_t bins, double *psi,
                        double *js, double *stat, int *df)
{
    double nr = 0, nw = 0;
    int used = 0;
    for (uint32_t b = 0; b < bins; b++) {
        nr += ref[b];
        nw += win[b];
        used += ref[b] + win[b] > 0;
    }
    *psi = *js = *stat = 0;
    *df = 0;
    if (nr == 0 || nw == 0)
        return;
    for (uint32_t b = 0; b < bins; b++) {
        if (ref[b] + win[b] == 0)
            continue;
        double p = (win[b] + 0.5) / (nw + 0.5 * used), q = (ref[b] + 0.5) / (nr + 0.5 * used);
        *psi += (p - q) * log(p / q);
        double P = win[b] / nw, Q = ref[b] / nr, M = (P + Q) / 2;
        *js += (P > 0 ? P * log(P / M) / log(2.0) : 0) / 2 +
               (Q > 0 ? Q * log(Q / M) / log(2.0) : 0) / 2;
    }
    *stat = *psi * nw * nr / (nw + nr);
    *df = used - 1;
}

static void test_divergence_definitions(void **state)
{
    (void)state;
    fx_rng rng = {3};
    uint32_t ref[64], win[64];
    for (int trial = 0; trial < 500; trial++) {
        uint32_t bins = 2 + (uint32_t)(fx_next(&rng) % 63);
        for (uint32_t b = 0; b < bins; b++) {
            ref[b] = fx_next(&rng) % 4 == 0 ? 0 : (uint32_t)(fx_next(&rng) % 1000);
            win[b] = fx_next(&rng) % 3 == 0 ? 0 : (uint32_t)(fx_next(&rng) % 50);
        }
        double psi, js, stat;
        int df;
        definitions(ref, win, bins, &psi, &js, &stat, &df);
        tmo_divergence d = tmo_divergence_u32(ref, win, bins);
        assert_true(fabs(d.psi - psi) <= 1e-12 * (1 + psi));
        assert_true(fabs(d.js - js) <= 1e-12);
        assert_true(fabs(d.stat - stat) <= 1e-12 * (1 + stat));
        assert_int_equal(d.df, df);
        assert_true(d.js >= 0 && d.js <= 1 + 1e-12 && d.psi >= 0);
    }
    /* Known answers: identical histograms, disjoint supports, an empty side. */
    uint32_t a[4] = {5, 0, 7, 1}, z[4] = {0, 0, 0, 0}, x[4] = {9, 0, 0, 0}, y[4] = {0, 4, 0, 0};
    tmo_divergence same = tmo_divergence_u32(a, a, 4);
    assert_true(same.psi == 0 && same.js == 0);
    tmo_divergence disjoint = tmo_divergence_u32(x, y, 4);
    assert_true(fabs(disjoint.js - 1.0) < 1e-12);
    tmo_divergence empty = tmo_divergence_u32(a, z, 4);
    assert_true(empty.psi == 0 && empty.js == 0 && empty.stat == 0 && empty.df == 0);
    /* Same support and frequencies, different sizes: no divergence (empty bins carry none). */
    uint32_t w1[8] = {0, 50, 0, 0, 0, 0, 0, 0}, r1[8] = {0, 400, 0, 0, 0, 0, 0, 0};
    tmo_divergence one = tmo_divergence_u32(r1, w1, 8);
    assert_true(one.psi == 0 && one.df == 0);
    assert_false(tmo_divergence_alarm(&one, 0.2f, 3.7f));
    /* The significance rule against tabulated chi-square upper 1e-4 quantiles (z = 3.719). */
    const struct {
        uint32_t df;
        double q;
    } chi2[3] = {{5, 25.745}, {10, 35.564}, {20, 52.386}};
    for (int i = 0; i < 3; i++) {
        tmo_divergence above = {1.0, 0, chi2[i].q * 1.05, chi2[i].df};
        tmo_divergence below = {1.0, 0, chi2[i].q * 0.95, chi2[i].df};
        assert_true(tmo_divergence_alarm(&above, 0.2f, 3.719f));
        assert_false(tmo_divergence_alarm(&below, 0.2f, 3.719f));
        above.psi = 0.19; /* significant but small: no alarm */
        assert_false(tmo_divergence_alarm(&above, 0.2f, 3.719f));
    }
}

static void test_cusum_quiet_then_step(void **state)
{
    (void)state;
    fx_rng rng = {2024};
    tmo_cusum c = {0, 0, 0};
    /*
     * Siegmund's approximation puts the in-control run length of one side at
     * (e^(2k(h+1.166)) - 2k(h+1.166) - 1) / (2k^2), about 1.0e6 for k = 0.5,
     * h = 12: two sides about 5e5. Expect ~4 alarms in 2e6 steps; allow 12.
     */
    int alarms = 0, first = -1;
    for (int i = 0; i < 2000000; i++)
        if (tmo_cusum_step(&c, (float)fx_normal(&rng), 0.5f, 12.0f, 3.0f) != 0) {
            alarms++;
            first = first < 0 ? i : first;
        }
    printf("# CUSUM: %d false alarms in 2e6 N(0,1) steps, first at %d\n", alarms, first);
    assert_true(alarms <= 12);
    assert_true(first < 0 || first > 20000);
    /* A step of +1 sd: the expected delay is about h / (1 - k) = 24 samples. */
    int at = -1;
    for (int i = 0; i < 1000 && at < 0; i++)
        if (tmo_cusum_step(&c, (float)(1.0 + fx_normal(&rng)), 0.5f, 12.0f, 3.0f) == 1)
            at = i;
    assert_true(at >= 0 && at < 100);
    /* After the alarm the side restarts; a downward step of 1.5 sd alarms the other side. */
    c.up = c.down = 0;
    at = -1;
    for (int i = 0; i < 1000 && at < 0; i++)
        if (tmo_cusum_step(&c, (float)(-1.5 + fx_normal(&rng)), 0.5f, 12.0f, 3.0f) == -1)
            at = i;
    assert_true(at >= 0 && at < 60);
    /* Winsorizing: one huge outlier can not alarm on its own. */
    tmo_cusum o = {0, 0, 0};
    assert_int_equal(tmo_cusum_step(&o, 1e30f, 0.5f, 12.0f, 3.0f), 0);
    assert_true(o.up == 2.5f && o.peak == 2.5f);
    assert_int_equal(tmo_cusum_step(&o, NAN, 0.5f, 12.0f, 3.0f), 0);
}

static void test_latency_and_conf_bins(void **state)
{
    (void)state;
    /* conf bin = floor(conf * bins) clamped; log2 latency buckets checked via a report below. */
    assert_int_equal(tmo_monitor_conf_bin(0.0f, 20), 0);
    assert_int_equal(tmo_monitor_conf_bin(0.049f, 20), 0);
    assert_int_equal(tmo_monitor_conf_bin(0.05f, 20), 1);
    assert_int_equal(tmo_monitor_conf_bin(0.999f, 20), 19);
    assert_int_equal(tmo_monitor_conf_bin(1.0f, 20), 19);
    assert_int_equal(tmo_monitor_conf_bin(-1.0f, 20), 0);

    size_t mlen, plen;
    uint8_t *model = fx_softmax_model(TMO_FLOAT32, 3, 0, 0, &mlen);
    float data[3] = {1, 2, 3};
    host_profile_result r;
    fx_build(model, mlen, data, sizeof data, NULL, NULL, &r);
    host_model hm;
    fx_open(&hm, model, mlen);
    tmo_profile p;
    fx_parse(&p, r.profile, r.profile_len);
    (void)plen;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 6;
    fx_mon f;
    fx_attach(&f, &c, &p, &hm.interp);
    const uint32_t lat[6] = {0, 1, 2, 3, 1000, 0xffffffffu};
    const uint32_t bucket[6] = {0, 1, 2, 2, 10, 31}; /* 1000 us is in [512, 1024) */
    for (int i = 0; i < 6; i++) {
        tmo_monitor_before(&f.m, &hm.interp);
        tmo_monitor_observe(&f.m, &hm.interp, lat[i], i != 3);
    }
    host_report rep;
    size_t len;
    free(fx_take(&f, &rep, &len));
    uint32_t want[32] = {0};
    for (int i = 0; i < 6; i++)
        want[bucket[i]]++;
    assert_memory_equal(rep.latency, want, sizeof want);
    assert_int_equal(rep.errors, 1);
    assert_int_equal(rep.out_inf, 5);
    assert_true(rep.events & TMO_EV_ERRORS);
    host_report_free(&rep);
    host_profile_result_free(&r);
    free(f.mem);
    free(model);
    host_model_close(&hm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_bins_and_moments), cmocka_unit_test(test_int8_stride),
        cmocka_unit_test(test_float_bins_nonfinite),  cmocka_unit_test(test_divergence_definitions),
        cmocka_unit_test(test_cusum_quiet_then_step), cmocka_unit_test(test_latency_and_conf_bins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
