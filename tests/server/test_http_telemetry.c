/*
 * Telemetry, alerts and health gates against the real server process with
 * simulated devices (docs/protocol.md P-21..P-27):
 *   - uploads: stored once per (device, sequence); the same batch again is
 *     all duplicates and counts nothing twice; a malformed entry is rejected
 *     alone; the aggregated series and the per-device totals add up;
 *   - alerts: drift in 3 consecutive windows opens one; ack, ack again,
 *     resolve, ack of a resolved alert (409), roles; clean windows resolve a
 *     reopened alert by themselves; alert rules read and changed;
 *   - health gates: a wave whose devices report a latency regression
 *     against the baseline halts the deployment with the reason; with
 *     action rollback it is rolled back;
 *   - the CLI: telemetry show and alerts list/ack/resolve, text and --json;
 *   - the device encryption key sent at enrollment is shown on the device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devauth.h"
#include "fixture.h"
#include "tel_fixture.h"

static int setup(void **state)
{
    fx_server *s = calloc(1, sizeof *s);
    const char *extra[] = {"--tick-ms", "100", NULL};
    if (fx_start(s, extra) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fx_server *s = *state;
    int status = fx_stop(s);
    free(s);
    return status == 0 ? 0 : -1;
}

static void enroll(fx_server *s, fx_device *d, const char *group)
{
    assert_int_equal(fx_device_new(s, d), 0);
    char *tok = fx_enroll_token(s, group, "[]", 600, 1);
    assert_int_equal(fx_enroll(s, d, tok, fx_profile("cortex-m4", 1 << 20, 1 << 20), 0, NULL), 201);
    free(tok);
}

/* One upload entry for spec; bundle digest may be NULL. */
static json_t *entry(const tfx_spec *spec, const char *bundle_digest)
{
    size_t len;
    uint8_t *bytes = tfx_report(spec, &len);
    assert_non_null(bytes);
    char *b64 = malloc(len * 2 + 8);
    devauth_b64_encode(bytes, len, b64, len * 2 + 8);
    json_t *e =
        json_pack("{s:I,s:I,s:s,s:s,s:s}", "seq", (json_int_t)spec->seq, "at",
                  (json_int_t)hc_now_ms(), "model", "acme/kws", "version", "0.0.1", "data", b64);
    if (bundle_digest != NULL)
        json_object_set_new(e, "bundle_digest", json_string(bundle_digest));
    free(b64);
    free(bytes);
    return e;
}

static json_t *upload(fx_device *d, json_t *entries, long want_status)
{
    json_t *body = json_pack("{s:o}", "reports", entries), *out = NULL;
    assert_int_equal(fx_call(d->hc, "POST", "/api/v1/device/telemetry", body, &out), want_status);
    json_decref(body);
    return out;
}

static json_int_t jint(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_integer_value(b != NULL ? json_object_get(v, b) : v);
}

static json_t *get(fx_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *get(fx_server *s, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *out = NULL;
    assert_int_equal(fx_call(s->admin, "GET", path, NULL, &out), 200);
    return out;
}

static void uploads_are_deduplicated(void **state)
{
    fx_server *s = *state;
    fx_device d;
    enroll(s, &d, "lab");
    json_t *batch = json_array();
    for (uint64_t seq = 1; seq <= 3; seq++) {
        tfx_spec sp = {seq, 100, (uint32_t)seq, 5, 0.9f, 0.05f, 0, 0x21};
        json_array_append_new(batch, entry(&sp, NULL));
    }
    json_array_append_new(batch, json_pack("{s:i,s:s}", "seq", 9, "data", "not base64!"));
    json_t *first = upload(&d, json_deep_copy(batch), 200);
    assert_int_equal(jint(first, "stored", NULL), 3);
    assert_int_equal(jint(first, "rejected", NULL), 1);
    json_t *r3 = json_array_get(json_object_get(first, "results"), 3);
    assert_string_equal(json_string_value(json_object_get(r3, "status")), "rejected");
    /* The answer was lost: the device sends the same batch again. */
    json_t *again = upload(&d, batch, 200);
    assert_int_equal(jint(again, "stored", NULL), 0);
    assert_int_equal(jint(again, "duplicates", NULL), 3);
    json_t *rep = get(s, "/api/v1/telemetry/reports?device=%s", d.id);
    assert_int_equal(json_array_size(json_object_get(rep, "reports")), 3);
    assert_int_equal(jint(rep, "totals", "inferences"), 300);
    assert_int_equal(jint(rep, "totals", "duplicates"), 3);
    json_t *agg = get(s, "/api/v1/telemetry?device=%s&since=1h", d.id);
    json_t *series = json_array_get(json_object_get(agg, "series"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(series, "key"), "model")),
                        "acme/kws");
    assert_int_equal(jint(series, "totals", "inferences"), 300);
    assert_int_equal(jint(series, "totals", "errors"), 6);
    assert_int_equal(jint(agg, "totals", "windows"), 3);
    json_t *p95 = json_object_get(json_object_get(agg, "totals"), "latency_p95_us");
    assert_true(json_real_value(p95) >= 16 && json_real_value(p95) < 32); /* bucket 5 */
    /* A report whose header disagrees with its entry is refused. */
    tfx_spec sp = {7, 10, 0, 5, 0.9f, 0.05f, 0, 0x21};
    json_t *e = entry(&sp, NULL);
    json_object_set_new(e, "seq", json_integer(8));
    json_t *bad = upload(&d, json_pack("[o]", e), 200);
    assert_int_equal(jint(bad, "rejected", NULL), 1);
    /* Device-supplied counters are bounded: a near-INT64_MAX count is refused, and counts at
       the bound add up without wrapping the totals. */
    tfx_spec lost1 = {20, 10, 0, 5, 0.9f, 0.05f, 0, 0x21},
             lost2 = {21, 10, 0, 5, 0.9f, 0.05f, 0, 0x21},
             lost3 = {22, 10, 0, 5, 0.9f, 0.05f, 0, 0x21};
    json_t *huge = entry(&lost1, NULL), *max1 = entry(&lost2, NULL), *max2 = entry(&lost3, NULL);
    json_object_set_new(huge, "lost_inferences", json_integer(INT64_MAX - 5));
    json_object_set_new(max1, "lost_inferences", json_integer(1LL << 40));
    json_object_set_new(max2, "lost_inferences", json_integer(1LL << 40));
    json_t *counted = upload(&d, json_pack("[o,o,o]", huge, max1, max2), 200);
    assert_int_equal(jint(counted, "rejected", NULL), 1);
    assert_int_equal(jint(counted, "stored", NULL), 2);
    json_decref(counted);
    json_t *lost = get(s, "/api/v1/telemetry?device=%s&since=1h", d.id);
    assert_int_equal(jint(lost, "totals", "lost_inferences"), 2LL << 40);
    json_decref(lost);
    json_t *fails = NULL;
    json_t *big = json_array();
    for (int i = 0; i < 65; i++)
        json_array_append_new(big, json_pack("{s:i}", "seq", i));
    json_t *body = json_pack("{s:o}", "reports", big);
    assert_int_equal(fx_call(d.hc, "POST", "/api/v1/device/telemetry", body, &fails), 400);
    json_decref(body);
    json_decref(fails);
    json_decref(first);
    json_decref(again);
    json_decref(rep);
    json_decref(agg);
    json_decref(bad);
    fx_device_free(&d);
}

static uint64_t seq_counter = 100;

static void windows(fx_device *d, int n, float psi, uint32_t events)
{
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        tfx_spec sp = {++seq_counter, 100, 0, 5, 0.9f, psi, events, 0x33};
        json_array_append_new(list, entry(&sp, NULL));
    }
    json_decref(upload(d, list, 200));
}

static json_t *alert_of(fx_server *s, const char *device, const char *state_name)
{
    json_t *l = get(s, "/api/v1/alerts?device=%s&kind=drift&state=%s", device, state_name);
    json_t *a = json_incref(json_array_get(json_object_get(l, "alerts"), 0));
    json_decref(l);
    return a;
}

static long post(hc_client *c, const char *fmt, json_int_t id, json_t **out)
{
    char path[128];
    snprintf(path, sizeof path, fmt, (long long)id);
    return fx_call(c, "POST", path, NULL, out);
}

static void alerts_open_ack_resolve(void **state)
{
    fx_server *s = *state;
    fx_device d;
    enroll(s, &d, "lab");
    windows(&d, 4, 0.01f, 0);
    windows(&d, 2, 0.8f, TMO_EV_DRIFT_INPUT);
    json_t *a = alert_of(s, d.id, "active");
    assert_null(a); /* two windows are not enough */
    windows(&d, 1, 0.8f, TMO_EV_DRIFT_INPUT);
    a = alert_of(s, d.id, "open");
    assert_non_null(a);
    json_int_t id = json_integer_value(json_object_get(a, "id"));
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "drift score 0.800"));
    json_decref(a);
    char *viewer = fx_token(s, "viewer");
    hc_client *v = fx_client(s, viewer);
    json_t *out = NULL;
    assert_int_equal(post(v, "/api/v1/alerts/%lld/ack", id, &out), 403);
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/%lld/ack", id, &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "acknowledged");
    assert_string_equal(json_string_value(json_object_get(out, "acked_by")), "admin");
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/%lld/ack", id, &out), 200); /* idempotent */
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/%lld/resolve", id, &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "resolved");
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/%lld/ack", id, &out), 409);
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/%lld/resolve", id, &out), 200);
    json_decref(out);
    assert_int_equal(post(s->admin, "/api/v1/alerts/99999/ack", 0, &out), 404);
    json_decref(out);
    /* Still drifting: only windows received after the resolution reopen it, then clean
       windows resolve it by themselves. */
    windows(&d, 2, 0.8f, TMO_EV_DRIFT_INPUT);
    assert_null(alert_of(s, d.id, "active"));
    windows(&d, 1, 0.8f, TMO_EV_DRIFT_INPUT);
    a = alert_of(s, d.id, "open");
    assert_non_null(a);
    json_decref(a);
    windows(&d, 3, 0.01f, 0);
    assert_null(alert_of(s, d.id, "active"));
    a = alert_of(s, d.id, "resolved");
    assert_string_equal(json_string_value(json_object_get(a, "resolved_by")), "auto");
    json_decref(a);
    /* Rules: read, change (operator), refuse a bad value. */
    json_t *rules = get(s, "/api/v1/alert-rules");
    assert_int_equal(jint(rules, "windows", NULL), 3);
    json_decref(rules);
    json_t *body = json_pack("{s:i}", "windows", 5);
    assert_int_equal(fx_call(v, "PUT", "/api/v1/alert-rules", body, NULL), 403);
    assert_int_equal(fx_call(s->admin, "PUT", "/api/v1/alert-rules", body, &out), 200);
    assert_int_equal(jint(out, "windows", NULL), 5);
    json_decref(out);
    json_decref(body);
    body = json_pack("{s:f}", "drift_psi", -1.0);
    assert_int_equal(fx_call(s->admin, "PUT", "/api/v1/alert-rules", body, NULL), 400);
    json_decref(body);
    body = json_pack("{s:i}", "windows", 3); /* back to the default for the other tests */
    assert_int_equal(fx_call(s->admin, "PUT", "/api/v1/alert-rules", body, NULL), 200);
    json_decref(body);
    hc_close(v);
    free(viewer);
    fx_device_free(&d);
}

/* ---- health gates ---- */

typedef struct bundle_ref {
    json_int_t id;
    char digest[80];
} bundle_ref;

static bundle_ref push(fx_server *s, const char *version, int features)
{
    fx_bundle_spec spec = {"acme/kws", version, 1, NULL, 0, features, 0};
    size_t len;
    uint8_t *b = fx_bundle(s, &spec, &len);
    json_t *out = NULL;
    assert_int_equal(fx_upload(s, b, len, &out), 201);
    bundle_ref r = {json_integer_value(json_object_get(out, "id")), ""};
    snprintf(r.digest, sizeof r.digest, "%s", json_string_value(json_object_get(out, "digest")));
    json_decref(out);
    free(b);
    return r;
}

static void checkin(fx_device *d, json_int_t dep, const char *state, const char *digest)
{
    json_t *body = json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "active_slot", "a", "slots", "slot", "a",
                             "state", "active", "bundle_digest", digest);
    if (state != NULL)
        json_object_set_new(body, "reports",
                            json_pack("[{s:I,s:s}]", "deployment_id", dep, "state", state));
    json_t *out = NULL;
    assert_int_equal(fx_checkin(d, body, &out), 200);
    json_decref(out);
}

static void telemetry_of(fx_device *d, const char *digest, int latency_bucket)
{
    json_t *list = json_array();
    for (int i = 0; i < 3; i++) {
        tfx_spec sp = {++seq_counter, 100, 0, latency_bucket, 0.9f, 0.05f, 0, 0x44};
        json_array_append_new(list, entry(&sp, digest));
    }
    json_decref(upload(d, list, 200));
}

/* Runs a 2-wave rollout of v2 with a gate over 4 devices of group on v1; returns its status. */
static json_t *gated_rollout(fx_server *s, const char *group, const char *action,
                             const bundle_ref *v1, const bundle_ref *v2)
{
    fx_device d[4];
    for (int i = 0; i < 4; i++) {
        enroll(s, &d[i], group);
        checkin(&d[i], 0, NULL, v1->digest);
    }
    json_t *body = json_pack("{s:s,s:s,s:{s:s},s:[i,i],s:i,s:{s:s,s:i}}", "model", "acme/kws",
                             "version", "2.0.0", "target", "group", group, "waves", 50, 100,
                             "soak_s", 0, "health_gate", "action", action, "min_inferences", 200);
    json_t *dep = NULL;
    assert_int_equal(fx_call(s->admin, "POST", "/api/v1/deployments", body, &dep), 201);
    json_decref(body);
    json_int_t id = json_integer_value(json_object_get(dep, "id"));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(dep, "health_gate"), "policy"), "action")),
        action);
    json_decref(dep);
    json_t *devs = get(s, "/api/v1/deployments/%lld/devices", (long long)id);
    /* Wave 0 confirms first: the gate compares reports received since the wave's first
       confirmation, so every upload must come after all confirmations. */
    int in_wave0[4] = {0};
    for (int i = 0; i < 4; i++) {
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(devs, "devices"), k, a)
        {
            if (strcmp(json_string_value(json_object_get(a, "device_id")), d[i].id) == 0)
                in_wave0[i] = json_integer_value(json_object_get(a, "wave")) == 0;
        }
        if (in_wave0[i])
            checkin(&d[i], id, "confirmed", v2->digest);
    }
    for (int i = 0; i < 4; i++) {
        if (in_wave0[i]) /* new version, slower */
            telemetry_of(&d[i], v2->digest, 15);
        else /* baseline */
            telemetry_of(&d[i], v1->digest, 14);
    }
    json_decref(devs);
    json_t *status = NULL;
    for (int tries = 0; tries < 200; tries++) { /* the controller ticks every 100 ms */
        json_decref(status);
        status = get(s, "/api/v1/deployments/%lld", (long long)id);
        const char *st = json_string_value(json_object_get(status, "state"));
        if (strcmp(st, "active") != 0)
            break;
        fx_sleep_ms(100);
    }
    for (int i = 0; i < 4; i++)
        fx_device_free(&d[i]);
    return status;
}

static void health_gate_halts_and_rolls_back(void **state)
{
    fx_server *s = *state;
    bundle_ref v1 = push(s, "1.0.0", 3), v2 = push(s, "2.0.0", 4);
    json_t *st = gated_rollout(s, "gate-halt", "halt", &v1, &v2);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "halted");
    const char *reason = json_string_value(json_object_get(st, "reason"));
    assert_true(strncmp(reason, "wave 0 halted: latency p95 ", 27) == 0);
    assert_non_null(strstr(reason, "ms vs baseline "));
    assert_non_null(strstr(reason, "ms (limit x1.5)"));
    json_t *last = json_object_get(json_object_get(st, "health_gate"), "last");
    assert_string_equal(json_string_value(json_object_get(last, "verdict")), "fail");
    /* Judged as soon as both sides had the evidence asked for (200 inferences). */
    assert_true(jint(last, "new_version", "inferences") >= 200);
    assert_true(jint(last, "baseline", "inferences") >= 200);
    assert_int_equal(jint(st, "current_wave", NULL), 0); /* wave 1 never opened */
    json_decref(st);
    st = gated_rollout(s, "gate-rollback", "rollback", &v1, &v2);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "rolled-back");
    reason = json_string_value(json_object_get(st, "reason"));
    assert_true(strncmp(reason, "wave 0 rolled back: latency p95 ", 32) == 0);
    assert_non_null(strstr(reason, "reverts it"));
    json_decref(st);
    json_t *list = get(s, "/api/v1/deployments?state=active");
    size_t i;
    json_t *dep;
    int rollbacks = 0;
    json_array_foreach(json_object_get(list, "deployments"), i, dep) rollbacks +=
        strcmp(json_string_value(json_object_get(dep, "kind")), "rollback") == 0;
    assert_int_equal(rollbacks, 1); /* sending the wave-0 devices back to 1.0.0 */
    json_decref(list);
}

/* ---- CLI and encryption keys ---- */

static int cli(fx_server *s, char *out, size_t cap, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s --server %s --token %s 2>&1", TMO_CLI, args, s->base,
             s->admin_token);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void cli_commands_and_enc_key(void **state)
{
    fx_server *s = *state;
    fx_device d;
    enroll(s, &d, "cli");
    windows(&d, 3, 0.9f, TMO_EV_DRIFT_OUTPUT);
    static char out[16384];
    char args[256];
    snprintf(args, sizeof args, "telemetry show --device %s --since 1h --json", d.id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(jint(j, "totals", "inferences"), 300);
    json_decref(j);
    snprintf(args, sizeof args, "telemetry show --device %s --since 1h", d.id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    assert_non_null(strstr(out, "TIME (UTC)"));
    assert_non_null(strstr(out, "drift_output"));
    assert_int_equal(cli(s, out, sizeof out, "telemetry show"), 2 << 8); /* no selection */
    snprintf(args, sizeof args, "alerts list --device %s --json", d.id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    j = json_loads(out, 0, NULL);
    json_int_t id =
        json_integer_value(json_object_get(json_array_get(json_object_get(j, "alerts"), 0), "id"));
    assert_true(id > 0);
    json_decref(j);
    snprintf(args, sizeof args, "alerts ack %lld --json", (long long)id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    j = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "acknowledged");
    json_decref(j);
    snprintf(args, sizeof args, "alerts resolve %lld", (long long)id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    assert_non_null(strstr(out, "resolved"));
    snprintf(args, sizeof args, "alerts ack %lld", (long long)id);
    assert_int_equal(cli(s, out, sizeof out, args), 1 << 8);
    assert_non_null(strstr(out, "409"));
    assert_int_equal(cli(s, out, sizeof out, "alerts list --state resolved"), 0);
    assert_non_null(strstr(out, "STATE"));
    /* No encryption key sent by this simulated device yet; a check-in brings one. */
    snprintf(args, sizeof args, "device pubkey %s", d.id);
    assert_int_equal(cli(s, out, sizeof out, args), 1 << 8);
    char b64[128];
    devauth_b64_encode(d.pub, sizeof d.pub, b64, sizeof b64); /* any valid point will do */
    json_t *body = json_pack("{s:s}", "enc_public_key", b64);
    assert_int_equal(fx_checkin(&d, body, NULL), 200);
    body = json_pack("{s:s}", "enc_public_key", "AAAA");
    assert_int_equal(fx_checkin(&d, body, NULL), 400);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    assert_non_null(strstr(out, "BEGIN PUBLIC KEY"));
    snprintf(args, sizeof args, "device show %s", d.id);
    assert_int_equal(cli(s, out, sizeof out, args), 0);
    assert_non_null(strstr(out, "enc key"));
    fx_device_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uploads_are_deduplicated),
        cmocka_unit_test(alerts_open_ack_resolve),
        cmocka_unit_test(health_gate_halts_and_rolls_back),
        cmocka_unit_test(cli_commands_and_enc_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
