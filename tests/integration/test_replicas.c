/*
 * Several server replicas on one PostgreSQL database behind HAProxy
 * (docs/server.md "Several replicas"), with real agents: a rollout in
 * waves survives the replica running the controller being killed mid-way
 * (another takes the controller lease over and the rollout completes, waves
 * in order), and a bundle whose known answers fail halts its rollout after
 * the canary wave, exactly once. Runs inside scripts/pg-test (as
 * test_replicas_postgres); skips without PostgreSQL or haproxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

#define MIB (1L << 20)
#define AGENTS 6

/* Whether every device of waves below `wave` is final while some device of `wave` has moved. */
static int waves_in_order(it_env *e, long dep)
{
    json_t *v = it_get(e, "/api/v1/deployments/%ld/devices", dep);
    int open_before[8] = {0}, started[8] = {0};
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(v, "devices"), i, d)
    {
        long w = (long)json_integer_value(json_object_get(d, "wave"));
        const char *s = json_string_value(json_object_get(d, "state"));
        if (w < 0 || w >= 8)
            continue;
        if (!it_terminal(s))
            open_before[w] = 1;
        if (strcmp(s, "pending") != 0 && strcmp(s, "skipped") != 0)
            started[w] = 1;
    }
    json_decref(v);
    for (int w = 1; w < 8; w++)
        for (int b = 0; b < w; b++)
            if (started[w] && open_before[b])
                return 0;
    return 1;
}

/* The replica whose log last says it holds the controller lease (-1 when none). */
static int lease_holder(it_env *e)
{
    int holder = -1;
    for (int i = 0; i < e->n_replicas; i++) {
        char out[200];
        if (e->replicas[i] <= 0)
            continue;
        it_sh(out, sizeof out,
              "grep -h 'the controller lease' %s/server%s%.0d.log 2>/dev/null | tail -n 1", e->dir,
              i == 0 ? "" : "-", i);
        if (strstr(out, "holds the controller lease") != NULL && strstr(out, "no longer") == NULL) {
            assert_int_equal(holder, -1); /* never two at once */
            holder = i;
        }
    }
    return holder;
}

static void test_rollout_survives_a_replica(void **state)
{
    (void)state;
    it_env e;
    it_agent ag[AGENTS];
    memset(ag, 0, sizeof ag);
    int rc = it_start_replicas(&e, 3);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    char *token = it_token(&e, "rep", 600, AGENTS), prof[300], model[300], b[3][300], buf[64];
    assert_non_null(token);
    snprintf(prof, sizeof prof, "%s/m4.json", e.dir);
    assert_int_equal(it_profile(prof, "sim-m4", MIB, MIB), 0);
    for (int i = 0; i < AGENTS; i++) {
        char name[16];
        snprintf(name, sizeof name, "rep%d", i);
        assert_int_equal(it_agent_start(&e, &ag[i], name, token, prof, NULL), 0);
    }
    free(token);
    snprintf(model, sizeof model, "%s/m.tflite", e.dir);
    const char *versions[3] = {"1.0.0", "2.0.0", "3.0.0"};
    for (int v = 0; v < 3; v++) {
        snprintf(b[v], sizeof b[v], "%s/v%d.tmb", e.dir, v);
        assert_int_equal(it_model(model, 12, 10 + v), 0);
        assert_int_equal(
            it_pack_kat(&e, model, "sensor/rep", versions[v], v + 1, NULL, v == 2, b[v]), 0);
        assert_int_equal(it_push(&e, b[v]), 0);
    }
    int ok;
    long d1 = it_deploy(&e, "--model sensor/rep --version 1.0.0 --group rep --waves 100 --soak 0");
    IT_WAIT(ok, 60000, strcmp(it_deploy_state(&e, d1, buf, sizeof buf), "completed") == 0);
    assert_true(ok);

    /* 2.0.0 in three waves; the controller's replica dies once the first wave is done. */
    long d2 = it_deploy(&e, "--model sensor/rep --version 2.0.0 --group rep --waves 34,67,100 "
                            "--soak 1 --max-failures 0");
    assert_true(d2 > 0);
    int killed = -1;
    long end = it_ms() + 90000;
    while (strcmp(it_deploy_state(&e, d2, buf, sizeof buf), "completed") != 0 && it_ms() < end) {
        assert_true(waves_in_order(&e, d2));
        json_t *v = it_get(&e, "/api/v1/deployments/%ld", d2);
        long wave = v != NULL ? (long)json_integer_value(json_object_get(v, "current_wave")) : 0;
        json_decref(v);
        if (killed < 0 && wave >= 1) {
            killed = lease_holder(&e);
            assert_true(killed >= 0);
            it_kill_replica(&e, killed);
        }
        it_sleep_ms(100);
    }
    assert_string_equal(buf, "completed");
    assert_true(killed >= 0);
    int next = lease_holder(&e); /* another replica took the controller over */
    assert_true(next >= 0 && next != killed);
    for (int i = 0; i < AGENTS; i++)
        assert_string_equal(it_device_state(&e, d2, ag[i].id, buf, sizeof buf, NULL, 0),
                            "confirmed");

    /* 3.0.0 fails its known answers on the canary wave: halted once, the rest never moved. */
    long d3 = it_deploy(&e, "--model sensor/rep --version 3.0.0 --group rep --waves 34,100 "
                            "--soak 0 --max-failures 0");
    IT_WAIT(ok, 60000, strcmp(it_deploy_state(&e, d3, buf, sizeof buf), "halted") == 0);
    assert_true(ok);
    it_sleep_ms(2000); /* several controller ticks later: still halted, wave 2 still closed */
    assert_string_equal(it_deploy_state(&e, d3, buf, sizeof buf), "halted");
    int rolled = 0, waiting = 0;
    for (int i = 0; i < AGENTS; i++) {
        it_device_state(&e, d3, ag[i].id, buf, sizeof buf, NULL, 0);
        rolled += strcmp(buf, "rolled-back") == 0 || strcmp(buf, "failed") == 0;
        waiting += strcmp(buf, "pending") == 0 || strcmp(buf, "cancelled") == 0;
    }
    assert_true(rolled >= 1);
    assert_int_equal(rolled + waiting, AGENTS);
    it_stop(&e, ag, AGENTS, 0);
}

int main(void)
{
    if (!it_available())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollout_survives_a_replica),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
