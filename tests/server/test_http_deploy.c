/*
 * Deployments against the real server with simulated devices (P-13..P-15,
 * P-19): a two-wave rollout reaches every compatible device, picks each
 * one's best variant and skips an incompatible device with the reason; the
 * next wave waits for the soak time; a failed device halts the rollout;
 * pause, resume and abort; rollback to the previous bundle, refused per
 * device by anti-rollback; reports are idempotent and only move forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle_crypto.h"
#include "devauth.h"
#include "fixture.h"

static int setup(void **state)
{
    fx_server *s = calloc(1, sizeof *s);
    if (fx_start(s, NULL) != 0)
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

typedef struct bundle_ref {
    json_int_t id;
    char digest[80];
} bundle_ref;

static bundle_ref upload(fx_server *s, const char *version, uint64_t counter, const char *arch,
                         uint64_t arena, int features)
{
    fx_bundle_spec spec = {"acme/kws", version, counter, arch, arena, features, 0};
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

static void enroll(fx_server *s, fx_device *d, const char *group, const char *arch, long ram)
{
    assert_int_equal(fx_device_new(s, d), 0);
    char *tok = fx_enroll_token(s, group, "[]", 600, 1);
    assert_int_equal(fx_enroll(s, d, tok, fx_profile(arch, ram, 1 << 20), 0, NULL), 201);
    free(tok);
}

/* A check-in with an optional report and the device's slots (active slot holding digest). */
static json_t *checkin(fx_device *d, json_int_t dep, const char *state, const char *reason,
                       const char *slot_state, const char *digest, long nv)
{
    json_t *body = json_pack("{s:s,s:I}", "active_slot", "a", "nv_counter", (json_int_t)nv);
    if (digest != NULL)
        json_object_set_new(body, "slots",
                            json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "slot", "a", "state", slot_state,
                                      "model", "acme/kws", "version", "x", "bundle_digest",
                                      digest));
    if (state != NULL)
        json_object_set_new(body, "reports",
                            json_pack("[{s:I,s:s,s:s,s:I}]", "deployment_id", dep, "state", state,
                                      "reason", reason != NULL ? reason : "", "at",
                                      (json_int_t)hc_now_ms()));
    json_t *out = NULL;
    assert_int_equal(fx_checkin(d, body, &out), 200);
    return out;
}

/* The desired bundle id after a plain check-in (0 = none). */
static json_int_t desired(fx_device *d)
{
    json_t *out = checkin(d, 0, NULL, NULL, NULL, NULL, 0);
    json_t *des = json_object_get(out, "desired");
    json_int_t id = json_is_null(des) ? 0 : json_integer_value(json_object_get(des, "bundle_id"));
    json_decref(out);
    return id;
}

/* What an agent does with `desired`: download, trial, confirm (or fail). */
static void install(fx_device *d, json_int_t dep, const char *digest, int fail)
{
    json_decref(checkin(d, dep, "downloading", NULL, NULL, NULL, 0));
    json_decref(checkin(d, dep, "installed-trial", NULL, "trial", digest, 0));
    if (fail)
        json_decref(checkin(d, dep, "rolled-back", "kat_failed: vector 2 differs", NULL, NULL, 0));
    else
        json_decref(checkin(d, dep, "confirmed", NULL, "active", digest, 0));
}

static json_t *deploy(fx_server *s, const char *version, const char *group, const char *waves,
                      int soak, long *status)
{
    json_t *body =
        json_pack("{s:s,s:s,s:{s:s},s:o,s:i}", "model", "acme/kws", "version", version, "target",
                  "group", group, "waves", json_loads(waves, 0, NULL), "soak_s", soak);
    json_t *out = NULL;
    *status = fx_call(s->admin, "POST", "/api/v1/deployments", body, &out);
    json_decref(body);
    return out;
}

static json_t *get_json(fx_server *s, const char *fmt, json_int_t id)
{
    char path[128];
    snprintf(path, sizeof path, fmt, (long long)id);
    json_t *out = NULL;
    assert_int_equal(fx_call(s->admin, "GET", path, NULL, &out), 200);
    return out;
}

static const char *dep_state(fx_server *s, json_int_t dep, char *buf, size_t len)
{
    json_t *d = get_json(s, "/api/v1/deployments/%lld", dep);
    snprintf(buf, len, "%s", json_string_value(json_object_get(d, "state")));
    json_decref(d);
    return buf;
}

/* The assignment of device in deployment dep (wave, state, bundle, reason) from the devices listing. */
static json_t *assignment(fx_server *s, json_int_t dep, const char *device)
{
    json_t *all = get_json(s, "/api/v1/deployments/%lld/devices", dep), *found = NULL;
    json_t *list = json_object_get(all, "devices");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "device_id")),
                   device) == 0)
            found = json_deep_copy(json_array_get(list, i));
    json_decref(all);
    assert_non_null(found);
    return found;
}

static json_int_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

static void two_waves_reach_every_compatible_device(void **state)
{
    fx_server *s = *state;
    bundle_ref m4 = upload(s, "1.3.0", 2, "cortex-m4", 0, 3);
    bundle_ref any = upload(s, "1.3.0", 2, NULL, 100000, 4);
    fx_device dev[5];
    enroll(s, &dev[0], "field", "cortex-m4", 262144);
    enroll(s, &dev[1], "field", "cortex-m4", 262144);
    enroll(s, &dev[2], "field", "cortex-m4", 262144);
    enroll(s, &dev[3], "field", "cortex-m7", 262144);
    enroll(s, &dev[4], "field", "cortex-m0", 50000); /* no variant fits */
    fx_device other;
    enroll(s, &other, "lab", "cortex-m4", 262144); /* not targeted */

    long st;
    json_t *d = deploy(s, "1.3.0", "field", "[50,100]", 1, &st);
    assert_int_equal(st, 201);
    json_int_t dep = jint(d, "id");
    assert_string_equal(jstr(d, "state"), "active");
    assert_int_equal(jint(json_object_get(d, "devices"), "pending"), 4);
    assert_int_equal(jint(json_object_get(d, "devices"), "skipped"), 1);
    assert_int_equal(jint(json_array_get(json_object_get(d, "waves"), 0), "devices"), 2);
    assert_int_equal(jint(json_array_get(json_object_get(d, "waves"), 1), "devices"), 2);
    json_decref(d);

    /* Best variant per device; the incompatible one is skipped with every variant's reason. */
    json_t *a = assignment(s, dep, dev[4].id);
    assert_string_equal(jstr(a, "state"), "skipped");
    char want[300];
    snprintf(want, sizeof want,
             "no variant fits: bundle %lld: arch cortex-m0 not in [cortex-m4]; bundle %lld: "
             "arena 100000 > ram 50000",
             (long long)m4.id, (long long)any.id);
    assert_string_equal(jstr(a, "reason"), want);
    json_decref(a);
    json_int_t wave[4];
    for (int i = 0; i < 4; i++) {
        a = assignment(s, dep, dev[i].id);
        assert_int_equal(jint(a, "bundle_id"), i < 3 ? m4.id : any.id);
        wave[i] = jint(a, "wave");
        json_decref(a);
    }
    assert_int_equal(desired(&dev[4]), 0);
    assert_int_equal(desired(&other), 0);

    /* Wave 0: its devices are told to install, the others wait. */
    for (int i = 0; i < 4; i++) {
        json_t *out = checkin(&dev[i], 0, NULL, NULL, NULL, NULL, 0);
        json_t *des = json_object_get(out, "desired");
        if (wave[i] == 0) {
            assert_int_equal(jint(des, "deployment_id"), dep);
            assert_string_equal(jstr(des, "digest"), i < 3 ? m4.digest : any.digest);
            char url[64];
            snprintf(url, sizeof url, "/api/v1/device/bundles/%lld",
                     (long long)(i < 3 ? m4.id : any.id));
            assert_string_equal(jstr(des, "url"), url);
        } else {
            assert_true(json_is_null(des));
        }
        json_decref(out);
    }
    uint64_t done_at = 0;
    for (int i = 0; i < 4; i++)
        if (wave[i] == 0) {
            install(&dev[i], dep, i < 3 ? m4.digest : any.digest, 0);
            done_at = hc_now_ms();
        }
    /* Soak: wave 1 stays closed for at least soak_s after wave 0 finished, then opens. */
    int first_late = wave[0] == 1 ? 0 : wave[1] == 1 ? 1 : 2;
    assert_int_equal(desired(&dev[first_late]), 0);
    uint64_t opened = 0;
    for (int tries = 0; tries < 100 && opened == 0; tries++) {
        if (desired(&dev[first_late]) != 0)
            opened = hc_now_ms();
        else
            fx_sleep_ms(50);
    }
    assert_true(opened != 0);
    assert_true(opened - done_at >= 900);
    for (int i = 0; i < 4; i++)
        if (wave[i] == 1) {
            assert_int_not_equal(desired(&dev[i]), 0);
            install(&dev[i], dep, i < 3 ? m4.digest : any.digest, 0);
        }
    char sbuf[32];
    assert_string_equal(dep_state(s, dep, sbuf, sizeof sbuf), "completed");
    d = get_json(s, "/api/v1/deployments/%lld", dep);
    assert_int_equal(jint(json_object_get(d, "devices"), "confirmed"), 4);
    json_decref(d);

    /* The inventory shows what each device runs. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s", dev[3].id);
    json_t *shown = NULL;
    assert_int_equal(fx_call(s->admin, "GET", path, NULL, &shown), 200);
    assert_string_equal(jstr(json_object_get(shown, "running"), "bundle_digest"), any.digest);
    assert_string_equal(jstr(shown, "health"), "ok");
    assert_int_equal(jint(json_object_get(shown, "desired"), "bundle_id"), any.id);
    json_decref(shown);
    for (int i = 0; i < 5; i++)
        fx_device_free(&dev[i]);
    fx_device_free(&other);
}

static void failed_device_halts_the_rollout(void **state)
{
    fx_server *s = *state;
    bundle_ref b = upload(s, "2.0.0", 2, "cortex-m4", 0, 3);
    fx_device dev[4];
    for (int i = 0; i < 4; i++)
        enroll(s, &dev[i], "field", "cortex-m4", 262144);
    long st;
    json_t *d = deploy(s, "2.0.0", "field", "[50,100]", 0, &st);
    assert_int_equal(st, 201);
    json_int_t dep = jint(d, "id");
    json_decref(d);
    int w0[2], w1[2], n0 = 0, n1 = 0;
    for (int i = 0; i < 4; i++) {
        json_t *a = assignment(s, dep, dev[i].id);
        if (jint(a, "wave") == 0)
            w0[n0++] = i;
        else
            w1[n1++] = i;
        json_decref(a);
    }
    assert_int_equal(n0, 2);
    assert_int_equal(desired(&dev[w0[1]]), b.id);
    install(&dev[w0[0]], dep, b.digest, 1); /* its known-answer test fails: rolled back */

    char sbuf[32];
    assert_string_equal(dep_state(s, dep, sbuf, sizeof sbuf), "halted");
    d = get_json(s, "/api/v1/deployments/%lld", dep);
    assert_non_null(strstr(jstr(d, "reason"), "kat_failed: vector 2 differs"));
    assert_non_null(strstr(jstr(d, "reason"), dev[w0[0]].id));
    json_decref(d);
    /* Halted: the other canary has not started and must not; wave 1 never opens. */
    assert_int_equal(desired(&dev[w0[1]]), 0);
    assert_int_equal(desired(&dev[w1[0]]), 0);
    fx_sleep_ms(300);
    assert_int_equal(desired(&dev[w1[1]]), 0);

    /* Reports are idempotent and never move a device back. */
    json_decref(checkin(&dev[w0[0]], dep, "rolled-back", "again", NULL, NULL, 0));
    json_decref(checkin(&dev[w0[0]], dep, "downloading", NULL, NULL, NULL, 0));
    json_t *a = assignment(s, dep, dev[w0[0]].id);
    assert_string_equal(jstr(a, "state"), "rolled-back");
    assert_string_equal(jstr(a, "reason"), "kat_failed: vector 2 differs");
    json_decref(a);

    /* Resuming with a higher failure budget lets the rollout continue. */
    json_t *body = json_pack("{s:i}", "max_failures", 1), *out = NULL;
    char path[96];
    snprintf(path, sizeof path, "/api/v1/deployments/%lld/resume", (long long)dep);
    assert_int_equal(fx_call(s->admin, "POST", path, body, &out), 200);
    assert_string_equal(jstr(out, "state"), "active");
    json_decref(out);
    json_decref(body);
    assert_int_equal(desired(&dev[w0[1]]), b.id);
    install(&dev[w0[1]], dep, b.digest, 0);
    assert_int_equal(desired(&dev[w1[0]]), b.id); /* soak 0: wave 1 opened at once */
    install(&dev[w1[0]], dep, b.digest, 0);
    install(&dev[w1[1]], dep, b.digest, 0);
    assert_string_equal(dep_state(s, dep, sbuf, sizeof sbuf), "completed");
    for (int i = 0; i < 4; i++)
        fx_device_free(&dev[i]);
}

static long action(fx_server *s, json_int_t dep, const char *what, json_t **out)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/deployments/%lld/%s", (long long)dep, what);
    return fx_call(s->admin, "POST", path, NULL, out);
}

static void pause_resume_abort(void **state)
{
    fx_server *s = *state;
    bundle_ref b = upload(s, "3.0.0", 2, NULL, 0, 3);
    fx_device x, y;
    enroll(s, &x, "field", "cortex-m4", 262144);
    enroll(s, &y, "field", "cortex-m4", 262144);
    long st;
    json_t *d = deploy(s, "3.0.0", "field", "[100]", 0, &st);
    json_int_t dep = jint(d, "id");
    json_decref(d);
    json_decref(checkin(&y, dep, "downloading", NULL, NULL, NULL, 0));

    json_t *out = NULL;
    assert_int_equal(action(s, dep, "pause", &out), 200);
    assert_string_equal(jstr(out, "state"), "paused");
    json_decref(out);
    assert_int_equal(desired(&x), 0);    /* not started: held */
    assert_int_equal(desired(&y), b.id); /* started: carries on */
    assert_int_equal(action(s, dep, "pause", &out), 409);
    assert_string_equal(fx_error_code(out), "conflict");
    json_decref(out);
    assert_int_equal(action(s, dep, "resume", &out), 200);
    json_decref(out);
    assert_int_equal(desired(&x), b.id);

    assert_int_equal(action(s, dep, "abort", &out), 200);
    assert_string_equal(jstr(out, "state"), "aborted");
    json_decref(out);
    json_t *a = assignment(s, dep, x.id);
    assert_string_equal(jstr(a, "state"), "cancelled");
    json_decref(a);
    assert_int_equal(desired(&x), 0);
    assert_int_equal(action(s, dep, "abort", &out), 409);
    json_decref(out);
    assert_int_equal(action(s, dep, "resume", &out), 409);
    json_decref(out);
    /* A device that had started still reports its outcome. */
    json_decref(checkin(&y, dep, "confirmed", NULL, "active", b.digest, 0));
    a = assignment(s, dep, y.id);
    assert_string_equal(jstr(a, "state"), "confirmed");
    json_decref(a);
    assert_int_equal(action(s, 9999, "pause", &out), 404);
    json_decref(out);
    fx_device_free(&x);
    fx_device_free(&y);
}

static void rollback_respects_anti_rollback(void **state)
{
    fx_server *s = *state;
    bundle_ref v1 = upload(s, "1.0.0", 1, NULL, 0, 3);
    bundle_ref v2 = upload(s, "1.1.0", 1, NULL, 0, 5);
    fx_device keep, locked;
    enroll(s, &keep, "field", "cortex-m4", 262144);
    enroll(s, &locked, "field", "cortex-m4", 262144);
    /* Both run v1; `locked` has already raised its NV counter past v1's counter. */
    json_decref(checkin(&keep, 0, NULL, NULL, "active", v1.digest, 1));
    json_decref(checkin(&locked, 0, NULL, NULL, "active", v1.digest, 5));
    long st;
    json_t *d = deploy(s, "1.1.0", "field", "[100]", 0, &st);
    json_int_t dep = jint(d, "id");
    json_decref(d);
    install(&keep, dep, v2.digest, 0);
    install(&locked, dep, v2.digest, 0);
    json_decref(checkin(&locked, 0, NULL, NULL, "active", v2.digest, 5));

    json_t *rb = NULL;
    assert_int_equal(action(s, dep, "rollback", &rb), 201);
    json_int_t rdep = jint(rb, "id");
    assert_string_equal(jstr(rb, "kind"), "rollback");
    assert_int_equal(jint(rb, "rollback_of"), dep);
    json_decref(rb);
    char sbuf[32];
    assert_string_equal(dep_state(s, dep, sbuf, sizeof sbuf), "rolled-back");
    assert_int_equal(desired(&keep), v1.id);
    json_t *a = assignment(s, rdep, locked.id);
    assert_string_equal(jstr(a, "state"), "skipped");
    assert_non_null(strstr(jstr(a, "reason"), "anti-rollback"));
    json_decref(a);
    assert_int_equal(desired(&locked), v2.id); /* stays on v2 */

    /* What the device runs is a report too: v1 active again confirms the rollback. */
    json_decref(checkin(&keep, 0, NULL, NULL, "active", v1.digest, 1));
    a = assignment(s, rdep, keep.id);
    assert_string_equal(jstr(a, "state"), "confirmed");
    json_decref(a);
    assert_string_equal(dep_state(s, rdep, sbuf, sizeof sbuf), "completed");
    assert_int_equal(action(s, dep, "rollback", &rb), 409);
    json_decref(rb);
    fx_device_free(&keep);
    fx_device_free(&locked);
}

static void creation_errors(void **state)
{
    fx_server *s = *state;
    long st;
    json_t *out = deploy(s, "9.9.9", "field", "[100]", 0, &st);
    assert_int_equal(st, 404); /* no such model version */
    json_decref(out);
    upload(s, "1.0.0", 1, NULL, 0, 3);
    out = deploy(s, "1.0.0", "nobody", "[100]", 0, &st);
    assert_int_equal(st, 400); /* no device in the target */
    json_decref(out);
    out = deploy(s, "1.0.0", "field", "[50,40,100]", 0, &st);
    assert_int_equal(st, 400);
    json_decref(out);
    json_t *body = json_pack("{s:s,s:s,s:{}}", "model", "acme/kws", "version", "1.0.0", "target");
    assert_int_equal(fx_call(s->admin, "POST", "/api/v1/deployments", body, &out), 400);
    json_decref(out);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_waves_reach_every_compatible_device, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_device_halts_the_rollout, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_resume_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_respects_anti_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(creation_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
