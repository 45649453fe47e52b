/*
 * Every scenario event has a visible effect on a simulated fleet against
 * the real server (docs/simulator.md "Events"): an outage makes check-ins
 * fail and the devices check in again after it; a skewed clock is refused
 * as stale and corrected from the server's time; drift moves the device's
 * input statistics (and its monitor's drift score), a class-mix change its
 * predictions; in one rollout a corrupted download fails verification and
 * is reported failed, a power loss during the trial rolls back to the
 * verified previous model, and one during the download resumes and confirms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

#define N 8

static sf_env env;

static void apply(const char *event)
{
    char err[300];
    if (sim_apply_text(env.s, event, err, sizeof err) != 0)
        fail_msg("%s: %s", event, err);
}

static int on_version(int i, const char *version)
{
    json_t *d = sf_device(&env, i);
    int ok = strcmp(json_string_value(json_object_get(d, "version")), version) == 0 &&
             strcmp(json_string_value(json_object_get(d, "phase")), "idle") == 0;
    json_decref(d);
    return ok;
}

static void setup_fleet(void)
{
    assert_non_null(sf_sim(&env, N, "m4:1", NULL, 5));
    char v1[300], v2[300];
    snprintf(v1, sizeof v1, "%s/digits-1.0.0.tmb", env.it.dir);
    snprintf(v2, sizeof v2, "%s/digits-1.1.0.tmb", env.it.dir);
    assert_int_equal(sf_pack(&env, env.mlp, "1.0.0", 1, NULL, v1), 0);
    assert_int_equal(sf_pack(&env, env.cnn, "1.1.0", 1, NULL, v2), 0);
    assert_int_equal(it_push(&env.it, v1), 0);
    assert_int_equal(it_push(&env.it, v2), 0);
    sim_counters c;
    int ok = 0;
    IT_WAIT(ok, 20000, (sim_get_counters(env.s, &c), c.enrolled == N)); /* targets resolve now */
    assert_true(ok);
    assert_true(it_deploy(&env.it, "--model digits --version 1.0.0 --all --waves 100 --soak 0") >
                0);
    for (int i = 0; i < N; i++)
        IT_WAIT(ok, 30000, on_version(i, "1.0.0"));
    assert_true(ok);
}

static void outage(void)
{
    double ok0 = sf_num(&env, 0, "checkins_ok"), failed0 = sf_num(&env, 0, "checkins_failed");
    apply("outage ids=0-1 duration=3");
    int ok;
    IT_WAIT(ok, 20000, sf_log_count(&env, "2/2 devices checked in again after the outage") == 1);
    assert_true(ok);
    assert_true(sf_num(&env, 0, "checkins_failed") > failed0);
    assert_true(sf_num(&env, 0, "checkins_ok") > ok0);
    assert_int_equal(sf_log_count(&env, "outage over on 2 devices"), 1);
}

static void skew(void)
{
    apply("skew ids=2 by=3600");
    int ok;
    IT_WAIT(ok, 15000, sf_log_count(&env, "1/1 devices corrected their clock") == 1);
    assert_true(ok);
    assert_true(fabs(sf_num(&env, 2, "clock_offset_ms") + 3600000) < 5000);
    /* In a session (P-33) no request is refused for the clock: the offset comes from
       X-TMO-Server-Time alone. */
    assert_int_equal(sf_log_count(&env, "stale_request"), 0);
    assert_true(fabs(sf_num(&env, 3, "clock_offset_ms")) < 5000);
}

static double top1_share(int i, int cls)
{
    json_t *d = sf_device(&env, i), *top = json_object_get(d, "top1");
    double sum = 0, hit = 0;
    for (size_t k = 0; k < json_array_size(top); k++) {
        sum += (double)json_integer_value(json_array_get(top, k));
        hit += (int)k == cls ? (double)json_integer_value(json_array_get(top, k)) : 0;
    }
    json_decref(d);
    return sum > 0 ? hit / sum : 0;
}

static void drift(void)
{
    apply("drift ids=3 shift=6");
    apply("drift ids=5 classes=7:1");
    int ok;
    IT_WAIT(ok, 20000, sf_log_count(&env, "1/1 drifted devices fed") == 2);
    assert_true(ok);
    double before = sf_num(&env, 3, "input_before_drift.mean"),
           after = sf_num(&env, 3, "input.mean");
    assert_true(before > 3 && before < 7); /* digits pixels 0..16, mostly dark */
    assert_true(after - before > 3);       /* +6, clipped at the input's top (16) */
    assert_true(fabs(sf_num(&env, 4, "input.mean") - before) < 1.5); /* undrifted neighbour */
    assert_true(top1_share(5, 7) > 0.7); /* only sevens now: mostly predicted as 7 */
    /* The device monitor sees the shift against the bundle's profile. */
    IT_WAIT(ok, 15000, sf_num(&env, 3, "monitor.psi_in_max") > 0.5);
    assert_true(ok);
    assert_true(sf_num(&env, 4, "monitor.psi_in_max") < 0.5);
    apply("drift ids=3,5 reset");
}

static const char *dep_state(long dep, int i, char *buf, size_t len, char *reason, size_t rlen)
{
    json_t *d = sf_device(&env, i);
    char id[40];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(d, "device_id")));
    json_decref(d);
    return it_device_state(&env.it, dep, id, buf, len, reason, rlen);
}

static int terminal(long dep, int i)
{
    char st[40];
    dep_state(dep, i, st, sizeof st, NULL, 0);
    return strcmp(st, "confirmed") == 0 || strcmp(st, "failed") == 0 ||
           strcmp(st, "rolled-back") == 0;
}

static void faults_during_rollout(void)
{
    apply("corrupt ids=4");
    apply("kill ids=5 during=trial down=1");
    apply("kill ids=6 during=download down=1");
    it_sleep_ms(300);
    long dep = it_deploy(&env.it, "--model digits --version 1.1.0 --all --waves 100 --soak 0 "
                                  "--max-failures 10");
    assert_true(dep > 0);
    int ok = 0;
    for (int i = 4; i < N; i++)
        IT_WAIT(ok, 30000, terminal(dep, i));
    assert_true(ok);
    char st[40], reason[600];
    assert_string_equal(dep_state(dep, 4, st, sizeof st, reason, sizeof reason), "failed");
    assert_non_null(strstr(reason, "differ from the announced bundle digest"));
    assert_string_equal(dep_state(dep, 5, st, sizeof st, reason, sizeof reason), "rolled-back");
    assert_non_null(strstr(reason, "restarted during the trial"));
    assert_string_equal(dep_state(dep, 6, st, sizeof st, NULL, 0), "confirmed");
    assert_string_equal(dep_state(dep, 7, st, sizeof st, NULL, 0), "confirmed");
    /* After the faults, each device runs a model it verified. */
    IT_WAIT(ok, 10000, on_version(4, "1.0.0") && on_version(5, "1.0.0") && on_version(6, "1.1.0"));
    assert_true(ok);
    assert_int_equal(sf_log_count(&env, "dev-0006: power lost during the download"), 1);
    assert_int_equal(sf_log_count(&env, "dev-0005: power lost during the update's kat step"), 1);
    assert_true(sf_log_count(&env, "dev-0006: resuming the download") >= 1);
    assert_true(sf_log_count(&env, "refused the bundle (digest check)") == 1);
    IT_WAIT(ok, 10000, sf_log_count(&env, "1/1 devices lost power, 1 of them back up") == 2);
    assert_true(ok);
    assert_int_equal(sf_num(&env, 5, "inference_errors"), 0);
    assert_true(sf_num(&env, 5, "faults.restarts") == 1);
}

static void events(void **state)
{
    (void)state;
    setup_fleet();
    outage();
    skew();
    drift();
    faults_during_rollout();
}

int main(void)
{
    if (!it_available() || sf_start(&env) != 0) {
        fprintf(stderr, "skipped: the CLI, the digits data or the server is not available\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(events)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sf_stop(&env, failed != 0);
    return failed;
}
