/*
 * Fleet rollouts end to end (issue 5 "Proof", docs/agent.md): the real
 * server and several real agents on loopback.
 *   - enrollment of every agent with a one-time token (keys made on first
 *     start, 0600);
 *   - a two-wave rollout that reaches every compatible device, opens the
 *     second wave only after the first is done, and skips an incompatible
 *     device with the reason;
 *   - a bundle whose known-answer tests fail on the device: the device
 *     rolls back to the previous model (NV counter unchanged) with the
 *     KAT's own failure text, and the deployment halts before wave 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "itest.h"

#define MIB (1L << 20)

static long device_count(it_env *e)
{
    json_t *v = it_get(e, "/api/v1/devices");
    long n = (long)json_array_size(json_object_get(v, "devices"));
    json_decref(v);
    return n;
}

/* The version the agent runs (from its status), "" when none. */
static const char *running(it_agent *a, char *buf, size_t len)
{
    buf[0] = '\0';
    json_t *s = it_agent_status(a);
    const char *act = json_string_value(json_object_get(s, "active_slot"));
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(s, "slots"), i, sl)
    {
        if (act != NULL && strcmp(json_string_value(json_object_get(sl, "slot")), act) == 0)
            snprintf(buf, len, "%s", json_string_value(json_object_get(sl, "version")));
    }
    json_decref(s);
    return buf;
}

static long nv_counter(it_agent *a)
{
    json_t *s = it_agent_status(a);
    long n = s != NULL ? (long)json_integer_value(json_object_get(s, "nv_counter")) : -1;
    json_decref(s);
    return n;
}

/*
 * Checks wave gating while the rollout runs: whenever a device of wave 1 has
 * left `pending`, every device of wave 0 must be in a final state.
 */
static int waves_in_order(it_env *e, long dep)
{
    json_t *v = it_get(e, "/api/v1/deployments/%ld/devices", dep);
    int wave0_open = 0, wave1_started = 0;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(v, "devices"), i, d)
    {
        long w = (long)json_integer_value(json_object_get(d, "wave"));
        const char *s = json_string_value(json_object_get(d, "state"));
        if (w == 0 && !it_terminal(s))
            wave0_open = 1;
        if (w == 1 && strcmp(s, "pending") != 0 && strcmp(s, "skipped") != 0)
            wave1_started = 1;
    }
    json_decref(v);
    return !(wave0_open && wave1_started);
}

static void test_enroll_and_two_wave_rollout(void **state)
{
    (void)state;
    it_env e;
    it_agent ag[5];
    memset(ag, 0, sizeof ag);
    assert_int_equal(it_start(&e), 0);
    char *token = it_token(&e, "field", 600, 5), path[300], prof_ok[300], prof_m0[300], buf[64],
         reason[600];
    assert_non_null(token);
    snprintf(prof_ok, sizeof prof_ok, "%s/m4.json", e.dir);
    snprintf(prof_m0, sizeof prof_m0, "%s/m0.json", e.dir);
    assert_int_equal(it_profile(prof_ok, "sim-m4", MIB, MIB), 0);
    assert_int_equal(it_profile(prof_m0, "sim-m0", MIB, MIB), 0);
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "dev%d", i);
        assert_int_equal(it_agent_start(&e, &ag[i], name, token, i == 4 ? prof_m0 : prof_ok, NULL),
                         0);
    }
    int ok;
    IT_WAIT(ok, 15000, device_count(&e) == 5);
    assert_true(ok);
    for (int i = 0; i < 5; i++) { /* P-5: a fresh key per device, private to it */
        struct stat st;
        snprintf(path, sizeof path, "%.200s/device.key", ag[i].dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        json_t *d = it_get(&e, "/api/v1/devices/%s", ag[i].id);
        assert_non_null(d);
        json_decref(d);
    }
    free(token);

    snprintf(path, sizeof path, "%s/m1.tflite", e.dir);
    assert_int_equal(it_model(path, 16, 1), 0);
    char bundle[300];
    snprintf(bundle, sizeof bundle, "%s/m1.tmb", e.dir);
    assert_int_equal(it_pack(&e, path, "sensor/anomaly", "1.0.0", 1, "sim-m4", bundle), 0);
    assert_int_equal(it_push(&e, bundle), 0);
    long dep = it_deploy(
        &e, "--model sensor/anomaly --version 1.0.0 --group field --waves 50,100 --soak 1 "
            "--max-failures 0");
    assert_true(dep > 0);
    long end = it_ms() + 60000;
    while (strcmp(it_deploy_state(&e, dep, buf, sizeof buf), "completed") != 0 && it_ms() < end) {
        assert_true(waves_in_order(&e, dep));
        it_sleep_ms(100);
    }
    assert_string_equal(buf, "completed");
    for (int i = 0; i < 4; i++) {
        assert_string_equal(it_device_state(&e, dep, ag[i].id, buf, sizeof buf, NULL, 0),
                            "confirmed");
        assert_string_equal(running(&ag[i], buf, sizeof buf), "1.0.0");
        assert_int_equal(nv_counter(&ag[i]), 1);
    }
    it_device_state(&e, dep, ag[4].id, buf, sizeof buf, reason, sizeof reason);
    assert_string_equal(buf, "skipped");
    assert_non_null(strstr(reason, "arch")); /* says why */
    assert_string_equal(running(&ag[4], buf, sizeof buf), "");
    /* Both waves were used. */
    json_t *v = it_get(&e, "/api/v1/deployments/%ld", dep);
    json_t *waves = json_object_get(v, "waves");
    assert_int_equal(json_array_size(waves), 2);
    assert_true(json_integer_value(json_object_get(json_array_get(waves, 0), "devices")) >= 1);
    assert_true(json_integer_value(json_object_get(json_array_get(waves, 1), "devices")) >= 1);
    json_decref(v);
    it_stop(&e, ag, 5, 0);
}

static void test_kat_failure_rolls_back_and_halts(void **state)
{
    (void)state;
    it_env e;
    it_agent ag[2];
    memset(ag, 0, sizeof ag);
    assert_int_equal(it_start(&e), 0);
    char *token = it_token(&e, "lab", 600, 2), prof[300], model[300], b1[300], b2[300], buf[64],
         reason[600];
    snprintf(prof, sizeof prof, "%s/m4.json", e.dir);
    assert_int_equal(it_profile(prof, "sim-m4", MIB, MIB), 0);
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "kat%d", i);
        assert_int_equal(it_agent_start(&e, &ag[i], name, token, prof, NULL), 0);
    }
    free(token);
    /* 1.0.0 carries correct known answers; 1.1.0 answers the device cannot reproduce. */
    snprintf(model, sizeof model, "%s/m.tflite", e.dir);
    snprintf(b1, sizeof b1, "%s/good.tmb", e.dir);
    snprintf(b2, sizeof b2, "%s/bad.tmb", e.dir);
    assert_int_equal(it_model(model, 12, 3), 0);
    assert_int_equal(it_pack_kat(&e, model, "sensor/kat", "1.0.0", 1, NULL, 0, b1), 0);
    assert_int_equal(it_model(model, 12, 4), 0);
    assert_int_equal(it_pack_kat(&e, model, "sensor/kat", "1.1.0", 2, NULL, 1, b2), 0);
    assert_int_equal(it_push(&e, b1), 0);
    assert_int_equal(it_push(&e, b2), 0);
    long d1 = it_deploy(&e, "--model sensor/kat --version 1.0.0 --group lab --waves 100 --soak 0");
    int ok;
    IT_WAIT(ok, 30000, strcmp(it_deploy_state(&e, d1, buf, sizeof buf), "completed") == 0);
    assert_true(ok);
    for (int i = 0; i < 2; i++)
        assert_true(it_log_has(&ag[i], "known-answer tests passed"));

    long d2 =
        it_deploy(&e, "--model sensor/kat --version 1.1.0 --group lab --waves 50,100 --soak 0 "
                      "--max-failures 0");
    assert_true(d2 > 0);
    IT_WAIT(ok, 30000, strcmp(it_deploy_state(&e, d2, buf, sizeof buf), "halted") == 0);
    assert_true(ok);
    int failed = -1;
    for (int i = 0; i < 2; i++) {
        it_device_state(&e, d2, ag[i].id, buf, sizeof buf, reason, sizeof reason);
        if (strcmp(buf, "rolled-back") == 0) {
            failed = i;
            assert_non_null(strstr(reason, "kat_failed: vector 1 output 0 byte 3"));
        } else {
            assert_string_equal(buf, "pending"); /* wave 2 never opened */
        }
    }
    assert_true(failed >= 0);
    /* The failing device is back on 1.0.0; its anti-rollback counter did not move. */
    IT_WAIT(ok, 5000, strcmp(running(&ag[failed], buf, sizeof buf), "1.0.0") == 0);
    assert_true(ok);
    assert_int_equal(nv_counter(&ag[failed]), 1);
    assert_string_equal(running(&ag[1 - failed], buf, sizeof buf), "1.0.0");
    /* It does not fetch the refused bundle again. */
    it_sleep_ms(2500);
    assert_int_equal(it_log_has(&ag[failed], "downloading sensor/kat 1.1.0"), 1);
    it_stop(&e, ag, 2, 0);
}

int main(void)
{
    if (!it_available())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enroll_and_two_wave_rollout),
        cmocka_unit_test(test_kat_failure_rolls_back_and_halts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
