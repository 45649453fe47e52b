/*
 * Rollout health gates, the deterministic part (server/gate.c, docs/
 * protocol.md P-26): the verdict and its reason for hand-built telemetry of
 * the new-version devices and the baseline. Expected numbers are computed
 * here from the definitions (error rate = errors / inferences; p95 of a
 * log2 bucket b = 2^(b-1) x 2^0.95; estimates weighted by outputs; drift
 * weighted by inferences), not read back from the code under test.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gate.h"

/* One side: `devices` devices, each one report of n inferences in latency bucket b. */
static gate_side side(int devices, int64_t n, int64_t errors, int b, double acc, double drift)
{
    gate_side s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < devices; i++) {
        st_report r;
        memset(&r, 0, sizeof r);
        r.inferences = n;
        r.errors = errors;
        r.out_inf = n - errors;
        r.latency[b] = (uint32_t)n;
        r.acc_est = acc;
        r.drift = drift;
        gate_side_add(&s, &r);
        s.devices++;
    }
    return s;
}

static void equal_sides_pass(void **state)
{
    (void)state;
    gate_policy p;
    gate_policy_defaults(&p);
    gate_side w = side(2, 100, 1, 10, 0.95, 0.05), b = side(3, 100, 1, 10, 0.95, 0.05);
    gate_outcome o;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_PASS);
    assert_string_equal(o.reason, "");
    assert_true(fabs(o.wave_error_rate - 0.01) < 1e-12);
    assert_true(fabs(o.base_p95_us - 512 * pow(2, 0.95)) < 1e-9);
}

static void latency_regression_fails_with_reason(void **state)
{
    (void)state;
    gate_policy p;
    gate_policy_defaults(&p);
    /* bucket 15 = [16384, 32768) us, bucket 14 = [8192, 16384) us: a factor of 2 */
    gate_side w = side(1, 200, 0, 15, 0.95, 0.05), b = side(2, 200, 0, 14, 0.95, 0.05);
    gate_outcome o;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_FAIL);
    char want[200];
    snprintf(want, sizeof want, "latency p95 %.1f ms vs baseline %.1f ms (limit x1.5)",
             16384 * pow(2, 0.95) / 1000, 8192 * pow(2, 0.95) / 1000);
    assert_string_equal(o.reason, want);
    p.max_latency_ratio = 2.5; /* a looser limit passes */
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_PASS);
    p.max_latency_ratio = -1; /* off */
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_PASS);
}

static void every_failed_check_is_named(void **state)
{
    (void)state;
    gate_policy p;
    gate_policy_defaults(&p);
    gate_side w = side(2, 100, 6, 10, 0.80, 0.50), b = side(2, 100, 1, 10, 0.95, 0.10);
    gate_outcome o;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_FAIL);
    assert_string_equal(o.reason, "error rate 6.00% vs baseline 1.00% (limit +2.00%); "
                                  "estimated accuracy 0.800 vs baseline 0.950 (limit -0.050); "
                                  "drift score 0.500 vs baseline 0.100 (limit +0.100)");
    /* At the limits exactly, nothing fails: 3% vs 1% + 2%, 0.90 vs 0.95 - 0.05. */
    w = side(2, 100, 3, 10, 0.90, 0.20);
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_PASS);
}

static void weights(void **state)
{
    (void)state;
    gate_side s;
    memset(&s, 0, sizeof s);
    st_report r;
    memset(&r, 0, sizeof r);
    r.inferences = 100, r.out_inf = 100, r.acc_est = 0.9, r.drift = 0.1;
    gate_side_add(&s, &r);
    r.inferences = 300, r.out_inf = 300, r.acc_est = 0.5, r.drift = 0.5;
    gate_side_add(&s, &r);
    r.inferences = 50, r.out_inf = 50, r.acc_est = -1; /* no estimate: no weight */
    r.drift = 0.0;
    gate_side_add(&s, &r);
    assert_true(fabs(s.acc_sum / s.acc_weight - (0.9 * 100 + 0.5 * 300) / 400) < 1e-12);
    assert_true(fabs(s.drift_sum / s.drift_weight - (0.1 * 100 + 0.5 * 300) / 450) < 1e-12);
}

static void too_little_telemetry_waits(void **state)
{
    (void)state;
    gate_policy p;
    gate_policy_defaults(&p);
    gate_side w = side(1, 60, 0, 15, 0.5, 0.9), b = side(2, 100, 0, 10, 0.95, 0.05);
    gate_outcome o;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_WAIT); /* regressed, but 60 < 100 inferences */
    assert_string_equal(o.reason, "waiting for telemetry: 60 inferences from 1 new-version "
                                  "devices (need 100 from 1)");
    p.min_inferences = 50;
    p.min_devices = 2;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_WAIT);
    p.min_devices = 1;
    gate_judge(&p, &w, &b, &o);
    assert_int_equal(o.verdict, GATE_FAIL);
}

static void policy_json(void **state)
{
    (void)state;
    gate_policy p;
    char err[200];
    json_t *j = json_pack("{s:s,s:i,s:f,s:n}", "action", "rollback", "min_inferences", 500,
                          "max_latency_ratio", 2.0, "max_drift_increase");
    assert_int_equal(gate_policy_from_json(j, &p, err, sizeof err), 0);
    json_decref(j);
    assert_int_equal(p.rollback, 1);
    assert_int_equal(p.min_inferences, 500);
    assert_true(p.max_latency_ratio == 2.0 && p.max_drift_increase < 0);
    assert_true(p.max_error_increase == 0.02); /* default kept */
    json_t *back = gate_policy_json(&p);
    assert_true(json_is_null(json_object_get(back, "max_drift_increase")));
    assert_string_equal(json_string_value(json_object_get(back, "action")), "rollback");
    gate_policy again;
    assert_int_equal(gate_policy_from_json(back, &again, err, sizeof err), 0);
    assert_int_equal(again.rollback, p.rollback);
    assert_int_equal(again.min_inferences, p.min_inferences);
    assert_int_equal(again.min_devices, p.min_devices);
    assert_true(again.max_error_increase == p.max_error_increase &&
                again.max_latency_ratio == p.max_latency_ratio &&
                again.max_accuracy_drop == p.max_accuracy_drop &&
                again.max_drift_increase == p.max_drift_increase);
    json_decref(back);
    const char *bad[] = {"{\"action\":\"pause\"}", "{\"max_latency_ratio\":-1}",
                         "{\"min_inferences\":1.5}", "{\"unknown\":1}", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_int_equal(gate_policy_from_json(j, &p, err, sizeof err), -1);
        assert_non_null(strstr(err, "health_gate"));
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_sides_pass),
        cmocka_unit_test(latency_regression_fails_with_reason),
        cmocka_unit_test(every_failed_check_is_named),
        cmocka_unit_test(weights),
        cmocka_unit_test(too_little_telemetry_waits),
        cmocka_unit_test(policy_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
