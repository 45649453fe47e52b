/*
 * Faults end to end (issue 5 "Proof", docs/agent.md), with the real server
 * and real agent processes:
 *   - an agent killed (SIGKILL) in the middle of a download resumes where
 *     its journal says the bytes are durable (HTTP Range + If-Range), and
 *     confirms the bundle;
 *   - an agent killed during its trial comes back on the previous model and
 *     reports `rolled-back`;
 *   - killed again and again at random moments of an update, it always
 *     restarts with a verified model (old or new) and ends confirmed or
 *     rolled back;
 *   - refusals: an expired enrollment token (the agent gives up, exit 3), a
 *     forged request signature, a replayed request; and a skewed device
 *     clock that the agent corrects from X-TMO-Server-Time.
 * One server and one device (plus a late one) through all the steps.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "itest.h"

#define MIB (1L << 20)

static it_env env;
static it_agent dev, late;
static char profile[300];
static int failed_tests;

static long job_offset(it_agent *a, const char **phase_out, char *phase, size_t len)
{
    json_t *s = it_agent_status(a);
    json_t *job = json_object_get(s, "job");
    snprintf(phase, len, "%s", s != NULL ? json_string_value(json_object_get(job, "phase")) : "?");
    *phase_out = phase;
    long off = (long)json_integer_value(json_object_get(job, "offset"));
    json_decref(s);
    return off;
}

static const char *state_of(long dep, char *buf, size_t len)
{
    return it_device_state(&env, dep, dev.id, buf, len, NULL, 0);
}

static const char *status_str(it_agent *a, const char *key, char *buf, size_t len)
{
    json_t *s = it_agent_status(a);
    const char *v = json_string_value(json_object_get(s, key));
    snprintf(buf, len, "%s", v != NULL ? v : "");
    json_decref(s);
    return buf;
}

static long status_int(it_agent *a, const char *key)
{
    json_t *s = it_agent_status(a);
    long v = s != NULL ? (long)json_integer_value(json_object_get(s, key)) : -1;
    json_decref(s);
    return v;
}

static void test_kill_mid_download_resumes(void **state)
{
    (void)state;
    char *token = it_token(&env, "field", 600, 1), model[300], bundle[300], buf[64];
    const char *throttled[] = {"--download-chunk", "4096", "--download-delay-ms", "60", NULL};
    assert_int_equal(it_agent_start(&env, &dev, "dev", token, profile, throttled), 0);
    free(token);
    /* ~100 KB of weights: 25 chunks of 4 KiB, 60 ms apart. */
    snprintf(model, sizeof model, "%s/big.tflite", env.dir);
    snprintf(bundle, sizeof bundle, "%s/big.tmb", env.dir);
    assert_int_equal(it_model(model, 3200, 1), 0);
    assert_int_equal(it_pack(&env, model, "sensor/big", "1.0.0", 1, NULL, bundle), 0);
    assert_int_equal(it_push(&env, bundle), 0);
    long dep = it_deploy(&env, "--model sensor/big --version 1.0.0 --all --waves 100 --soak 0");
    assert_true(dep > 0);
    const char *phase = "";
    char ph[32];
    int ok;
    IT_WAIT(ok, 20000,
            job_offset(&dev, &phase, ph, sizeof ph) >= 30000 && strcmp(phase, "download") == 0);
    assert_true(ok);
    assert_int_equal(it_agent_stop(&dev, SIGKILL), -1);
    assert_string_equal(state_of(dep, buf, sizeof buf), "downloading");
    /* Restarted (no token needed any more), it goes on from its journal. */
    const char *faster[] = {"--download-chunk", "16384", NULL};
    assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, faster), 0);
    IT_WAIT(ok, 20000, strcmp(state_of(dep, buf, sizeof buf), "confirmed") == 0);
    assert_true(ok);
    assert_int_equal(it_log_has(&dev, "resuming the download of sensor/big 1.0.0 at byte"), 1);
    const char *at = NULL;
    char err[200];
    size_t len;
    char *log = host_read_file(dev.log, &len, err, sizeof err);
    at = log != NULL ? strstr(log, "at byte ") : NULL;
    assert_non_null(at);
    long resumed = strtol(at + 8, NULL, 10);
    free(log);
    assert_true(resumed >= 28672); /* at most one 4 KiB erase unit before the durable count */
}

static void test_kill_during_trial_rolls_back(void **state)
{
    (void)state;
    char model[300], bundle[300], buf[64];
    snprintf(model, sizeof model, "%s/v2.tflite", env.dir);
    snprintf(bundle, sizeof bundle, "%s/v2.tmb", env.dir);
    assert_int_equal(it_model(model, 64, 2), 0);
    assert_int_equal(it_pack(&env, model, "sensor/big", "1.1.0", 1, NULL, bundle), 0);
    assert_int_equal(it_push(&env, bundle), 0);
    /* A long health window holds the device in its trial. */
    it_agent_stop(&dev, SIGTERM);
    const char *slow_trial[] = {"--health-seconds", "60", NULL};
    assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, slow_trial), 0);
    long dep = it_deploy(&env, "--model sensor/big --version 1.1.0 --all --waves 100 --soak 0");
    assert_true(dep > 0);
    int ok;
    IT_WAIT(ok, 20000, strcmp(state_of(dep, buf, sizeof buf), "installed-trial") == 0);
    assert_true(ok);
    assert_int_equal(it_agent_stop(&dev, SIGKILL), -1);
    assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, NULL), 0);
    IT_WAIT(ok, 20000, strcmp(state_of(dep, buf, sizeof buf), "rolled-back") == 0);
    assert_true(ok);
    char reason[600];
    it_device_state(&env, dep, dev.id, buf, sizeof buf, reason, sizeof reason);
    assert_string_equal(reason, "restarted during the trial");
    assert_true(it_log_has(&dev, "reverted the unconfirmed trial"));
    json_t *s = it_agent_status(&dev);
    const char *act = json_string_value(json_object_get(s, "active_slot"));
    json_t *slots = json_object_get(s, "slots");
    for (size_t i = 0; i < json_array_size(slots); i++) {
        json_t *sl = json_array_get(slots, i);
        if (strcmp(json_string_value(json_object_get(sl, "slot")), act) == 0)
            assert_string_equal(json_string_value(json_object_get(sl, "version")), "1.0.0");
    }
    assert_true(json_is_true(json_object_get(json_object_get(s, "model"), "loaded")));
    json_decref(s);
}

/* The version the device runs and whether a model is loaded, from its status. */
static int running(it_agent *a, char *version, size_t len)
{
    json_t *s = it_agent_status(a);
    const char *act = json_string_value(json_object_get(s, "active_slot"));
    version[0] = '\0';
    json_t *slots = json_object_get(s, "slots");
    for (size_t i = 0; act != NULL && i < json_array_size(slots); i++) {
        json_t *sl = json_array_get(slots, i);
        if (strcmp(json_string_value(json_object_get(sl, "slot")), act) == 0)
            snprintf(version, len, "%s", json_string_value(json_object_get(sl, "version")));
    }
    int loaded = json_is_true(json_object_get(json_object_get(s, "model"), "loaded"));
    json_decref(s);
    return loaded;
}

static void test_random_kills_never_lose_the_model(void **state)
{
    (void)state;
    char model[300], bundle[300], buf[64], version[32];
    snprintf(model, sizeof model, "%s/v3.tflite", env.dir);
    snprintf(bundle, sizeof bundle, "%s/v3.tmb", env.dir);
    assert_int_equal(it_model(model, 2400, 3), 0);
    assert_int_equal(it_pack(&env, model, "sensor/big", "3.0.0", 1, NULL, bundle), 0);
    assert_int_equal(it_push(&env, bundle), 0);
    const char *opts[] = {
        "--download-chunk", "4096", "--download-delay-ms", "40", "--health-seconds", "1", NULL};
    it_agent_stop(&dev, SIGTERM);
    assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, opts), 0);
    long dep = it_deploy(&env, "--model sensor/big --version 3.0.0 --all --waves 100 --soak 0");
    assert_true(dep > 0);
    unsigned seed = 20261126;
    int kills = 0;
    for (; kills < 8; kills++) {
        it_sleep_ms(100 + (long)(rand_r(&seed) % 800));
        const char *st = state_of(dep, buf, sizeof buf);
        if (strcmp(st, "confirmed") == 0 || strcmp(st, "rolled-back") == 0)
            break;
        assert_int_equal(it_agent_stop(&dev, SIGKILL), -1);
        assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, opts), 0);
        /* Whatever the moment of the kill: a verified model runs at once, the old or the new. */
        assert_true(running(&dev, version, sizeof version));
        if (strcmp(version, "1.0.0") != 0 && strcmp(version, "3.0.0") != 0)
            fail_msg("after kill %d the device runs '%s'", kills + 1, version);
    }
    int ok;
    IT_WAIT(ok, 20000,
            strcmp(state_of(dep, buf, sizeof buf), "confirmed") == 0 ||
                strcmp(buf, "rolled-back") == 0);
    assert_true(ok);
    assert_true(running(&dev, version, sizeof version));
    assert_string_equal(version, strcmp(buf, "confirmed") == 0 ? "3.0.0" : "1.0.0");
    print_message("    %d kills, then %s\n", kills, buf);
}

static void test_expired_enrollment_token_refused(void **state)
{
    (void)state;
    char *token = it_token(&env, "field", 1, 1);
    assert_non_null(token);
    it_sleep_ms(1600);
    json_t *before = it_get(&env, "/api/v1/devices");
    size_t n = json_array_size(json_object_get(before, "devices"));
    json_decref(before);
    assert_true(it_agent_start(&env, &late, "late", token, profile, NULL) >= 0);
    free(token);
    assert_int_equal(it_agent_wait(&late, 10000), 3); /* gives up for good */
    assert_true(it_log_has(&late, "enrollment_token_expired"));
    json_t *after = it_get(&env, "/api/v1/devices");
    assert_int_equal(json_array_size(json_object_get(after, "devices")), n);
    json_decref(after);
}

/* Restarts the agent with one option and its value, and optionally one more flag (or NULL). */
static void restart_with(const char *fault, const char *value, const char *flag)
{
    it_agent_stop(&dev, SIGTERM);
    const char *extra[] = {fault, value, flag, NULL};
    assert_int_equal(it_agent_start(&env, &dev, "dev", NULL, profile, extra), 0);
}

static void test_forged_signature_refused(void **state)
{
    (void)state;
    char buf[64];
    restart_with("--test-fault", "forge-signature", NULL);
    int ok;
    IT_WAIT(ok, 10000,
            strcmp(status_str(&dev, "last_refusal", buf, sizeof buf), "bad_signature") == 0);
    assert_true(ok);
    assert_int_equal(status_int(&dev, "checkins_ok"), 0);
}

static void test_replayed_request_refused(void **state)
{
    (void)state;
    char buf[64];
    restart_with("--test-fault", "replay", NULL);
    int ok;
    IT_WAIT(ok, 10000,
            strcmp(status_str(&dev, "last_refusal", buf, sizeof buf), "replayed_request") == 0);
    assert_true(ok);
    assert_int_equal(status_int(&dev, "checkins_ok"),
                     1); /* the original went through, its copy did not */
}

static void test_skewed_clock_corrected(void **state)
{
    (void)state;
    /* Signed requests (P-12): an hour behind, every timestamp is stale until corrected. */
    restart_with("--test-clock-skew-ms", "-3600000", "--signed-requests");
    int ok;
    IT_WAIT(ok, 10000, status_int(&dev, "checkins_ok") >= 2);
    assert_true(ok);
    assert_true(it_log_has(&dev, "check-in refused: HTTP 401 stale_request") >= 1);
    long offset = status_int(&dev, "clock_offset_ms");
    assert_true(offset > 3590000 && offset < 3610000);
    /* In a session (P-33) timestamps are not part of authentication: no refusal at all, and
       the offset is still learnt from X-TMO-Server-Time. */
    int refused = it_log_has(&dev, "stale_request");
    restart_with("--test-clock-skew-ms", "-3600000", NULL);
    IT_WAIT(ok, 10000, status_int(&dev, "checkins_ok") >= 2);
    assert_true(ok);
    assert_int_equal(it_log_has(&dev, "stale_request"), refused);
    assert_true(it_log_has(&dev, "opened session") >= 1);
    offset = status_int(&dev, "clock_offset_ms");
    assert_true(offset > 3590000 && offset < 3610000);
}

static int setup(void **state)
{
    (void)state;
    if (it_start(&env) != 0)
        return -1;
    snprintf(profile, sizeof profile, "%s/m4.json", env.dir);
    return it_profile(profile, "sim-m4", MIB, MIB);
}

static int teardown(void **state)
{
    (void)state;
    it_agent all[2] = {dev, late};
    it_stop(&env, all, 2, failed_tests);
    return 0;
}

int main(void)
{
    if (!it_available())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_mid_download_resumes),
        cmocka_unit_test(test_kill_during_trial_rolls_back),
        cmocka_unit_test(test_random_kills_never_lose_the_model),
        cmocka_unit_test(test_expired_enrollment_token_refused),
        cmocka_unit_test(test_forged_signature_refused),
        cmocka_unit_test(test_replayed_request_refused),
        cmocka_unit_test(test_skewed_clock_corrected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
