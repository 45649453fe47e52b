/*
 * The alert rules (server/tel_rules.c) and the alert engine over a real
 * store (server/alert_engine.c), docs/protocol.md P-25:
 *   - interpolated latency quantiles of the log2 histogram, against the
 *     formula 2^(b-1) * 2^f worked out by hand;
 *   - each rule's bad / clear / hysteresis band at its documented limits;
 *   - open only after K consecutive bad windows, small windows skipped, a
 *     band window breaking the run; resolve after K clear windows;
 *   - the state machine in the store: open, refreshed while bad,
 *     auto-resolved when clear, a manual resolution not reopened by the
 *     windows it saw, reopened by fresh bad windows;
 *   - rule configuration from JSON (partial updates, refusals).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tel_fixture.h"
#include "telemetry.h"
#include "tinymlops/monitor.h"

static tel_window window(double drift, uint32_t events, int64_t inferences)
{
    tel_window w;
    memset(&w, 0, sizeof w);
    w.inferences = w.out_inf = inferences;
    w.drift = drift;
    w.events = events;
    w.acc_est = -1;
    return w;
}

static void latency_quantiles(void **state)
{
    (void)state;
    uint32_t h[32] = {0};
    h[5] = 100; /* every value in [16, 32) us */
    assert_true(fabs(tel_latency_quantile(h, 32, 0.5) - 16 * sqrt(2.0)) < 1e-9);
    assert_true(fabs(tel_latency_quantile(h, 32, 1.0) - 32) < 1e-9);
    assert_true(fabs(tel_latency_quantile(h, 32, 0.95) - 16 * pow(2, 0.95)) < 1e-9);
    memset(h, 0, sizeof h);
    h[3] = 50;  /* [4, 8) */
    h[10] = 50; /* [512, 1024) */
    assert_true(fabs(tel_latency_quantile(h, 32, 0.5) - 8) < 1e-9);
    assert_true(fabs(tel_latency_quantile(h, 32, 0.95) - 512 * pow(2, 0.9)) < 1e-9);
    memset(h, 0, sizeof h);
    h[0] = 10; /* bucket 0 holds 0 us */
    assert_true(tel_latency_quantile(h, 32, 0.95) == 0);
    memset(h, 0, sizeof h);
    assert_true(tel_latency_quantile(h, 32, 0.95) == 0); /* empty */
}

static void drift_rule_needs_a_device_event(void **state)
{
    (void)state;
    tel_rules r;
    tel_rules_defaults(&r);
    tel_context c = {-1, 0, 0, 0};
    double v, l;
    tel_window w = window(0.9, 0, 100);
    assert_int_equal(tel_judge(TEL_DRIFT, &r, &c, &w, &v, &l), TEL_CLEAR); /* not significant */
    w.events = TMO_EV_DRIFT_INPUT;
    assert_int_equal(tel_judge(TEL_DRIFT, &r, &c, &w, &v, &l), TEL_BAD);
    assert_true(v == 0.9 && l == 0.2);
    w.drift = 0.18; /* in (0.8 x 0.2, 0.2]: the hysteresis band */
    assert_int_equal(tel_judge(TEL_DRIFT, &r, &c, &w, &v, &l), TEL_BAND);
    w.drift = 0.16;
    assert_int_equal(tel_judge(TEL_DRIFT, &r, &c, &w, &v, &l), TEL_CLEAR);
    w.drift = 0.9;
    w.inferences = 19; /* below min_inferences */
    assert_int_equal(tel_judge(TEL_DRIFT, &r, &c, &w, &v, &l), TEL_SKIP);
}

static void accuracy_latency_error_rules(void **state)
{
    (void)state;
    tel_rules r;
    tel_rules_defaults(&r);
    tel_context c = {0.95, 1, 100.0, 0.01};
    double v, l;
    tel_window w = window(0, 0, 100);
    w.acc_est = 0.84; /* < 0.95 - 0.10 */
    assert_int_equal(tel_judge(TEL_ACCURACY, &r, &c, &w, &v, &l), TEL_BAD);
    assert_true(fabs(l - 0.85) < 1e-12);
    w.acc_est = 0.86; /* in [0.85, 0.95 - 0.08) */
    assert_int_equal(tel_judge(TEL_ACCURACY, &r, &c, &w, &v, &l), TEL_BAND);
    w.acc_est = 0.88;
    assert_int_equal(tel_judge(TEL_ACCURACY, &r, &c, &w, &v, &l), TEL_CLEAR);
    tel_context unknown = {-1, 1, 100.0, 0.01};
    assert_int_equal(tel_judge(TEL_ACCURACY, &r, &unknown, &w, &v, &l), TEL_SKIP);

    w.latency[9] = 100; /* [256, 512): p95 = 256 x 2^0.95 > 2 x 100 */
    assert_int_equal(tel_judge(TEL_LATENCY, &r, &c, &w, &v, &l), TEL_BAD);
    assert_true(fabs(v - 256 * pow(2, 0.95)) < 1e-9 && l == 200);
    memset(w.latency, 0, sizeof w.latency);
    w.latency[7] = 100; /* [64, 128): p95 = 64 x 2^0.95 = 123.6 <= 0.8 x 200 */
    assert_int_equal(tel_judge(TEL_LATENCY, &r, &c, &w, &v, &l), TEL_CLEAR);
    memset(w.latency, 0, sizeof w.latency);
    assert_int_equal(tel_judge(TEL_LATENCY, &r, &c, &w, &v, &l), TEL_SKIP); /* no clock */

    w.errors = 7; /* 7% > 1% + 5% */
    assert_int_equal(tel_judge(TEL_ERRORS, &r, &c, &w, &v, &l), TEL_BAD);
    assert_true(fabs(v - 0.07) < 1e-12 && fabs(l - 0.06) < 1e-12);
    w.inferences = 200;
    w.errors = 11; /* 5.5% in (1% + 0.8 x 5%, 1% + 5%]: band */
    assert_int_equal(tel_judge(TEL_ERRORS, &r, &c, &w, &v, &l), TEL_BAND);
    w.errors = 8; /* 4% */
    assert_int_equal(tel_judge(TEL_ERRORS, &r, &c, &w, &v, &l), TEL_CLEAR);
}

static void decisions_need_consecutive_windows(void **state)
{
    (void)state;
    tel_rules r;
    tel_rules_defaults(&r);
    tel_context c = {-1, 0, 0, 0};
    tel_decision d;
    const uint32_t ev = TMO_EV_DRIFT_INPUT;
    /* newest first */
    tel_window two[] = {window(0.5, ev, 100), window(0.5, ev, 100), window(0.05, 0, 100)};
    two[0].seq_first = two[0].seq_last = 12;
    tel_decide(TEL_DRIFT, &r, &c, two, 3, &d);
    assert_int_equal(d.action, 0);
    assert_int_equal(d.run, 2);
    tel_window three[] = {window(0.7, ev, 100), window(0.5, ev, 5), window(0.5, ev, 100),
                          window(0.6, ev, 100)};
    for (int i = 0; i < 4; i++)
        three[i].seq_first = three[i].seq_last = 20 - i;
    tel_decide(TEL_DRIFT, &r, &c, three, 4, &d); /* the 5-inference window is skipped */
    assert_int_equal(d.action, 1);
    assert_true(d.value == 0.7 && d.limit == 0.2);
    assert_int_equal(d.seq_last, 20);
    assert_int_equal(d.seq_first, 17);
    char msg[300];
    tel_message(TEL_DRIFT, &r, &c, &d, ev, msg, sizeof msg);
    assert_string_equal(msg, "drift score 0.700 > 0.200 in 3 consecutive windows (seq 17-20): "
                             "drift_input");
    tel_window band[] = {window(0.5, ev, 100), window(0.19, ev, 100), window(0.5, ev, 100),
                         window(0.5, ev, 100)};
    tel_decide(TEL_DRIFT, &r, &c, band, 4, &d);
    assert_int_equal(d.action, 0); /* the band window breaks the run */
    tel_window clear[] = {window(0.1, ev, 100), window(0.05, 0, 100), window(0.9, 0, 100),
                          window(0.9, ev, 100)};
    tel_decide(TEL_DRIFT, &r, &c, clear, 4, &d);
    assert_int_equal(d.action, -1);
    tel_decide(TEL_DRIFT, &r, &c, clear, 2, &d);
    assert_int_equal(d.action, 0); /* two clear windows are not enough */
}

static void rules_from_json(void **state)
{
    (void)state;
    tel_rules r;
    tel_rules_defaults(&r);
    char err[200];
    json_t *j = json_pack("{s:i,s:f}", "windows", 5, "drift_psi", 0.3);
    assert_int_equal(tel_rules_from_json(j, &r, err, sizeof err), 0);
    json_decref(j);
    assert_int_equal(r.windows, 5);
    assert_true(r.drift_psi == 0.3 && r.accuracy_drop == 0.10); /* others keep their values */
    j = json_pack("{s:i}", "no_such_rule", 1);
    assert_int_equal(tel_rules_from_json(j, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "no_such_rule"));
    json_decref(j);
    j = json_pack("{s:f}", "windows", 2.5);
    assert_int_equal(tel_rules_from_json(j, &r, err, sizeof err), -1);
    json_decref(j);
    j = json_pack("{s:f}", "hysteresis", 1.5);
    assert_int_equal(tel_rules_from_json(j, &r, err, sizeof err), -1);
    json_decref(j);
    assert_int_equal(r.windows, 5); /* a refused update changes nothing */
    json_t *back = tel_rules_json(&r);
    tel_rules again;
    tel_rules_defaults(&again);
    assert_int_equal(tel_rules_from_json(back, &again, err, sizeof err), 0);
    assert_memory_equal(&again, &r, sizeof r);
    json_decref(back);
}

/* ---- the engine over a store ---- */

static char tmpdir[] = "/tmp/tmo-alerts-XXXXXX";

typedef struct fx {
    store *st;
    tel_rules rules;
    int64_t now;
    uint64_t seq;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char url[300], err[300];
    static int n;
    snprintf(url, sizeof url, "sqlite:%s/a%d.db", tmpdir, n++);
    f->st = store_open(url, err, sizeof err);
    assert_non_null(f->st);
    int64_t v;
    assert_int_equal(ST(f->st, migrate, &v), ST_OK);
    tel_rules_defaults(&f->rules);
    f->now = 1700000000000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    free(f);
    return 0;
}

static const char *DEV = "0123456789abcdef0123456789abcdef";

/* Stores one window of the device and runs the engine, as the upload handler does. */
static void feed(fx *f, float psi, uint32_t events)
{
    tfx_spec s = {++f->seq, 100, 0, 4, 0.9f, psi, events, 0xab};
    size_t len;
    uint8_t *bytes = tfx_report(&s, &len);
    assert_non_null(bytes);
    st_report row;
    host_report rep;
    char err[200];
    memset(&row, 0, sizeof row);
    assert_int_equal(tel_row_from_report(bytes, len, &row, &rep, err, sizeof err), 0);
    host_report_free(&rep);
    st_copy(row.device_id, sizeof row.device_id, DEV);
    st_copy(row.model, sizeof row.model, "kws");
    st_copy(row.version, sizeof row.version, "1.0.0");
    f->now += 1000;
    row.at = row.received_at = f->now;
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    assert_int_equal(ST(f->st, report_insert, &row, 0), ST_OK);
    assert_int_equal(tel_alerts_after_report(f->st, &f->rules, &row, 0.95, f->now), ST_OK);
    assert_int_equal(ST0(f->st, commit), ST_OK);
    free(bytes);
}

static int active(fx *f, st_alert *a)
{
    return ST(f->st, alert_active, DEV, "drift", "abababababababab", a) == ST_OK;
}

static int64_t count(fx *f, const char *state_name)
{
    st_alert_filter q = {state_name, DEV, NULL, "drift", 0, 0, 0};
    int64_t n = -1;
    assert_int_equal(ST(f->st, alert_count, &q, &n), ST_OK);
    return n;
}

static void engine_state_machine(void **state)
{
    fx *f = *state;
    st_alert a;
    const uint32_t ev = TMO_EV_DRIFT_INPUT;
    for (int i = 0; i < 5; i++)
        feed(f, 0.02f, 0); /* clean */
    feed(f, 0.6f, ev);
    feed(f, 0.6f, ev);
    assert_false(active(f, &a)); /* two bad windows: not yet */
    feed(f, 0.7f, ev);
    assert_true(active(f, &a));
    assert_string_equal(a.state, "open");
    assert_string_equal(a.model, "kws");
    assert_true(fabs(a.value - 0.7) < 1e-6);
    assert_non_null(strstr(a.message, "in 3 consecutive windows (seq 6-8)"));
    feed(f, 0.8f, ev); /* still bad: the same alert, refreshed */
    assert_true(active(f, &a));
    assert_true(fabs(a.value - 0.8) < 1e-6);
    assert_int_equal(count(f, NULL), 1);
    a.acked_at = f->now;
    st_copy(a.state, sizeof a.state, "acknowledged");
    assert_int_equal(ST(f->st, alert_update, &a), ST_OK);
    feed(f, 0.02f, 0);
    feed(f, 0.02f, 0);
    assert_true(active(f, &a)); /* two clear windows: still active */
    feed(f, 0.02f, 0);
    assert_false(active(f, &a)); /* auto-resolved, also when acknowledged */
    assert_int_equal(count(f, "resolved"), 1);
    /* Drift again; an operator resolves it by hand while it persists. */
    for (int i = 0; i < 3; i++)
        feed(f, 0.6f, ev);
    assert_true(active(f, &a));
    assert_int_equal(tel_alert_resolve(f->st, &a, "ops", f->now), ST_OK);
    feed(f, 0.6f, ev); /* the run began before the resolution: no new alert yet */
    feed(f, 0.6f, ev);
    assert_false(active(f, &a));
    feed(f, 0.6f, ev); /* three bad windows received after it: a new alert */
    assert_true(active(f, &a));
    assert_int_equal(count(f, NULL), 3);
}

static void silent_devices_open_and_resolve(void **state)
{
    fx *f = *state;
    st_device d;
    memset(&d, 0, sizeof d);
    st_copy(d.id, sizeof d.id, DEV);
    memset(d.public_key, 4, sizeof d.public_key);
    st_copy(d.tags_json, sizeof d.tags_json, "[]");
    d.profile_json = "{}";
    assert_int_equal(ST(f->st, device_insert, &d), ST_OK);
    int64_t t0 = 1800000000000;
    st_checkin c = {t0, "{}", "", 0, NULL};
    assert_int_equal(ST(f->st, device_checkin, DEV, &c), ST_OK);
    srv sv;
    memset(&sv, 0, sizeof sv);
    sv.st = f->st;
    server_config_defaults(&sv.cfg);
    st_alert a;
    tel_alerts_tick(&sv, t0 + 590000); /* 590 s: not yet silent (silent_s 600) */
    assert_int_equal(ST(f->st, alert_active, DEV, "silent", "", &a), ST_NOT_FOUND);
    tel_alerts_tick(&sv, t0 + 601000);
    assert_int_equal(ST(f->st, alert_active, DEV, "silent", "", &a), ST_OK);
    assert_string_equal(a.message, "no check-in and no report for 601 s");
    tel_alerts_tick(&sv, t0 + 700000); /* still silent: the same alert */
    st_alert_filter q = {NULL, DEV, NULL, "silent", 0, 0, 0};
    int64_t n = 0;
    assert_int_equal(ST(f->st, alert_count, &q, &n), ST_OK);
    assert_int_equal(n, 1);
    c.now = t0 + 705000; /* it checks in again */
    assert_int_equal(ST(f->st, device_checkin, DEV, &c), ST_OK);
    tel_alerts_tick(&sv, t0 + 710000);
    assert_int_equal(ST(f->st, alert_active, DEV, "silent", "", &a), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, alert_get, 1, &a), ST_OK);
    assert_string_equal(a.state, "resolved");
    assert_string_equal(a.resolved_by, "auto");
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(latency_quantiles),
        cmocka_unit_test(drift_rule_needs_a_device_event),
        cmocka_unit_test(accuracy_latency_error_rules),
        cmocka_unit_test(decisions_need_consecutive_windows),
        cmocka_unit_test(rules_from_json),
        cmocka_unit_test_setup_teardown(engine_state_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_devices_open_and_resolve, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
