/*
 * `tinymlops sim` as a user runs it (docs/simulator.md): bad usage exits 2,
 * a malformed scenario exits 1 naming its line before anything starts, a
 * short run with a scenario logs its events on stderr and prints the fleet
 * status with --json, and Ctrl-C stops it cleanly with exit status 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

static it_env env;

static int run(char *out, size_t cap, const char *args)
{
    return it_sh(out, cap, "'%s' sim --server %s --root-key '%s' --token %s %s 2>&1", TMO_CLI,
                 env.base, env.root_pub, env.admin, args);
}

static void usage_and_scenario_errors(void **state)
{
    (void)state;
    char out[8192], path[300];
    assert_int_equal(run(out, sizeof out, "--devices 0"), 2);
    assert_non_null(strstr(out, "--devices expects an integer from 1"));
    assert_int_equal(run(out, sizeof out, "--devices 2 --speed fast"), 2);
    snprintf(path, sizeof path, "%s/bad.txt", env.dir);
    FILE *f = fopen(path, "w");
    fputs("0 note text=ok\n5 outage class=m4\n", f);
    fclose(f);
    char args[400];
    snprintf(args, sizeof args, "--devices 2 --scenario '%s'", path);
    assert_int_equal(run(out, sizeof out, args), 1);
    assert_non_null(strstr(out, "bad.txt:2: outage needs duration="));
    assert_null(strstr(out, "started")); /* refused before any device existed */
}

static void runs_a_scenario(void **state)
{
    (void)state;
    char out[65536], path[300], args[600];
    snprintf(path, sizeof path, "%s/ok.txt", env.dir);
    FILE *f = fopen(path, "w");
    fputs("0.5 note text=\"hello fleet\"\n+0.5 outage class=gw duration=1\n30 end\n", f);
    fclose(f);
    snprintf(args, sizeof args,
             "--devices 4 --mix m4:50,gw:50 --scenario '%s' --duration 5 --ramp 0.5 --progress 1 --json "
             "--state-dir '%s/cli-state'",
             path, env.dir);
    assert_int_equal(run(out, sizeof out, args), 0);
    assert_non_null(strstr(out, "note (scenario line 1): hello fleet"));
    assert_non_null(strstr(out, "event 2 (scenario line 2): outage on 2 devices"));
    assert_non_null(strstr(out, "progress: 4 devices"));
    const char *json = strstr(out, "{\"sim_s\"");
    assert_non_null(json);
    json_t *v = json_loads(json, JSON_DISABLE_EOF_CHECK, NULL);
    assert_int_equal(json_integer_value(json_object_get(v, "devices")), 4);
    assert_int_equal(json_integer_value(json_object_get(v, "enrolled")), 4);
    json_decref(v);
}

static void stops_on_ctrl_c(void **state)
{
    (void)state;
    char log[300], dir[300];
    snprintf(log, sizeof log, "%s/ctrlc.log", env.dir);
    snprintf(dir, sizeof dir, "%s/ctrlc-state", env.dir);
    pid_t pid = fork();
    if (pid == 0) {
        freopen(log, "w", stderr);
        execl(TMO_CLI, TMO_CLI, "sim", "--server", env.base, "--root-key", env.root_pub,
              "--token", env.admin, "--devices", "3", "--state-dir", dir, (char *)NULL);
        _exit(127);
    }
    it_sleep_ms(2000);
    kill(pid, SIGINT);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char out[8192];
    it_sh(out, sizeof out, "cat '%s'", log);
    assert_non_null(strstr(out, "interrupted, stopping"));
    assert_non_null(strstr(out, "tinymlops sim: "));
}

int main(void)
{
    if (!it_available() || it_start(&env) != 0) {
        fprintf(stderr, "skipped: the CLI or the server is not available\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_and_scenario_errors),
        cmocka_unit_test(runs_a_scenario),
        cmocka_unit_test(stops_on_ctrl_c),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    it_stop(&env, NULL, 0, failed != 0);
    return failed;
}
