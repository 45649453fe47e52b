/*
 * A small heterogeneous simulated fleet against the real server
 * (docs/simulator.md): 20 devices of the four classes enroll with tokens the
 * simulator makes (group and class tags recorded by the server), receive
 * the digits MLP and run real inferences on digits rows with the monitor
 * attached (its reports reach the server through each agent's telemetry
 * upload), then a CNN variant is rolled out: the Cortex-M0+ class, which
 * has no CONV_2D, is skipped with the reason and keeps the MLP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

static sf_env env;

static int all_with_model(const char *version, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        json_t *d = sf_device(&env, i);
        ok += strcmp(json_string_value(json_object_get(d, "version")), version) == 0 &&
              strcmp(json_string_value(json_object_get(d, "phase")), "idle") == 0;
        json_decref(d);
    }
    return ok;
}

static json_int_t reports_on_server(const char *path)
{
    json_t *v = it_get(&env.it, "%s", path);
    json_int_t n = json_integer_value(json_object_get(json_object_get(v, "totals"), "reports"));
    json_decref(v);
    return n;
}

static void fleet_rollout(void **state)
{
    (void)state;
    const int n = 20;
    assert_non_null(sf_sim(&env, n, "m0:25,m4:25,m7:25,gw:25", "north:50,south:50", 4));
    sim_counters c;
    int ok;
    IT_WAIT(ok, 20000, (sim_get_counters(env.s, &c), c.enrolled == n));
    assert_int_equal(c.enrolled, n);

    /* The server knows each device's group and class tag from the simulator's tokens. */
    json_t *list = it_get(&env.it, "/api/v1/devices?limit=100");
    json_t *devs = json_object_get(list, "devices");
    assert_int_equal(json_array_size(devs), n);
    size_t i;
    json_t *d;
    int north = 0, m0 = 0;
    json_array_foreach(devs, i, d)
    {
        north += strcmp(json_string_value(json_object_get(d, "group")), "north") == 0;
        json_t *tags = json_object_get(d, "tags");
        for (size_t t = 0; t < json_array_size(tags); t++)
            m0 += strcmp(json_string_value(json_array_get(tags, t)), "m0") == 0;
    }
    json_decref(list);
    assert_int_equal(north, 10);
    assert_int_equal(m0, 5);

    char v1[300], v2[300];
    snprintf(v1, sizeof v1, "%s/digits-1.0.0.tmb", env.it.dir);
    snprintf(v2, sizeof v2, "%s/digits-1.1.0.tmb", env.it.dir);
    assert_int_equal(sf_pack(&env, env.mlp, "1.0.0", 1, NULL, v1), 0);
    assert_int_equal(sf_pack(&env, env.cnn, "1.1.0", 1, NULL, v2), 0);
    assert_int_equal(it_push(&env.it, v1), 0);
    assert_int_equal(it_push(&env.it, v2), 0);
    long dep1 = it_deploy(&env.it, "--model digits --version 1.0.0 --all --waves 100 --soak 0");
    assert_true(dep1 > 0);
    IT_WAIT(ok, 30000, all_with_model("1.0.0", n) == n);
    assert_true(ok);

    /* Real inferences on digits rows: the int8 MLP is right most of the time, monitored. */
    IT_WAIT(ok, 15000, (sim_get_counters(env.s, &c), c.reports >= (uint64_t)n));
    assert_true(ok);
    double correct = 0, labelled = 0;
    for (int k = 0; k < n; k++) {
        json_t *dv = sf_device(&env, k);
        double inf = json_number_value(json_object_get(dv, "inferences"));
        assert_true(inf >= 20);
        correct += json_number_value(json_object_get(dv, "accuracy")) * inf;
        labelled += inf;
        assert_true(json_is_true(json_object_get(json_object_get(dv, "monitor"), "on")));
        json_decref(dv);
    }
    assert_true(correct / labelled > 0.85);
    assert_int_equal(c.infer_errors, 0);
    /* Each device's monitor reports went through its agent to the server (telemetry upload). */
    for (int k = 0; k < n; k++) {
        json_t *dv = sf_device(&env, k);
        char path[200];
        snprintf(path, sizeof path, "/api/v1/telemetry/reports?device=%s",
                 json_string_value(json_object_get(dv, "device_id")));
        json_decref(dv);
        IT_WAIT(ok, 15000, reports_on_server(path) >= 1);
        assert_true(ok);
    }

    /* Capability-aware: the CNN needs CONV_2D, which the M0+ class does not list. */
    long dep2 = it_deploy(&env.it, "--model digits --version 1.1.0 --all --waves 100 --soak 0");
    assert_true(dep2 > 0);
    IT_WAIT(ok, 30000, all_with_model("1.1.0", n) == n - 5);
    assert_true(ok);
    for (int k = 0; k < n; k++) {
        json_t *dv = sf_device(&env, k);
        const char *cls = json_string_value(json_object_get(dv, "class"));
        const char *id = json_string_value(json_object_get(dv, "device_id"));
        char st[40], reason[600];
        IT_WAIT(ok, 10000, /* the server hears at the device's next check-in */
                strcmp(it_device_state(&env.it, dep2, id, st, sizeof st, reason, sizeof reason),
                       "confirmed") == 0 ||
                    strcmp(st, "skipped") == 0);
        if (strcmp(cls, "m0") == 0) {
            assert_string_equal(st, "skipped");
            assert_non_null(strstr(reason, "CONV_2D"));
            assert_string_equal(json_string_value(json_object_get(dv, "version")), "1.0.0");
        } else {
            assert_string_equal(st, "confirmed");
        }
        json_decref(dv);
    }

    /* The fleet status groups devices by class and model. */
    char *text = sim_status_json(env.s, 0);
    json_t *st = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(st, "classes"), "m7"), "devices")),
                     5);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "models"), "digits 1.1.0")), 15);
    json_decref(st);
}

int main(void)
{
    if (!it_available() || sf_start(&env) != 0) {
        fprintf(stderr, "skipped: the CLI, the digits data or the server is not available\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(fleet_rollout)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sf_stop(&env, failed != 0);
    return failed;
}
