/*
 * The fleet commands of the CLI as a user runs them, against the real
 * server: model push/list, enroll-token create/list/revoke, device
 * list/show/tag/revoke,
 * deploy create/status/pause/resume/abort/rollback, with --server/--token
 * or the environment, --json output, and errors on stderr with a non-zero
 * exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fixture.h"
#include "host.h"

static fx_server S;
static char out_text[65536], err_text[8192];

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
}

/* Runs `tinymlops ARGS` (a shell fragment) with --server/--token unless bare; returns the exit status. */
static int run(int bare, const char *fmt, ...)
{
    char args[2048], cmd[4096], out[400], err[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(out, sizeof out, "%s/cli.out", S.dir);
    snprintf(err, sizeof err, "%s/cli.err", S.dir);
    if (bare)
        snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2> '%s'", TMO_CLI, args, out, err);
    else
        snprintf(cmd, sizeof cmd, "'%s' %s --server %s --token %s > '%s' 2> '%s'", TMO_CLI, args,
                 S.base, S.admin_token, out, err);
    int st = system(cmd);
    slurp(out, out_text, sizeof out_text);
    slurp(err, err_text, sizeof err_text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *out_json(void)
{
    json_t *j = json_loads(out_text, 0, NULL);
    if (j == NULL)
        fail_msg("not JSON: %s", out_text);
    return j;
}

static void write_bundle(const char *name, int rogue, const char *version)
{
    fx_bundle_spec spec = {"acme/kws", version, 1, "cortex-m4", 0, 3, rogue};
    size_t len;
    uint8_t *b = fx_bundle(&S, &spec, &len);
    char path[400], err[200];
    snprintf(path, sizeof path, "%s/%s", S.dir, name);
    assert_int_equal(host_write_file(path, b, len, err, sizeof err), 0);
    free(b);
}

static void registry_commands(void **state)
{
    (void)state;
    write_bundle("good.tmb", 0, "1.0.0");
    write_bundle("rogue.tmb", 1, "1.0.0");
    assert_int_equal(run(0, "model push %s/good.tmb --json", S.dir), 0);
    json_t *j = out_json();
    assert_string_equal(json_string_value(json_object_get(j, "model")), "acme/kws");
    json_decref(j);
    assert_int_equal(run(0, "model push %s/good.tmb", S.dir), 0);
    assert_non_null(strstr(out_text, "already registered"));
    assert_int_equal(run(0, "model push %s/rogue.tmb", S.dir), 1);
    assert_non_null(strstr(err_text, "bundle_rejected"));
    assert_int_equal(run(0, "model push %s/missing.tmb", S.dir), 1);
    assert_int_equal(run(0, "model list --json"), 0);
    j = out_json();
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "models"), 0), "name")),
        "acme/kws");
    json_decref(j);
    assert_int_equal(run(0, "model list --model acme/kws --version 1.0.0"), 0);
    assert_non_null(strstr(out_text, "cortex-m4"));
}

static void device_and_deploy_commands(void **state)
{
    (void)state;
    write_bundle("v2.tmb", 0, "2.0.0");
    assert_int_equal(run(0, "model push %s/v2.tmb", S.dir), 0);
    assert_int_equal(run(0, "enroll-token create --group field --tag eu --ttl 600"), 0);
    char token[128];
    snprintf(token, sizeof token, "%.100s", out_text);
    token[strcspn(token, "\n")] = '\0';
    assert_int_equal(strncmp(token, "tmoe_", 5), 0);
    fx_device d;
    assert_int_equal(fx_device_new(&S, &d), 0);
    assert_int_equal(fx_enroll(&S, &d, token, fx_profile("cortex-m4", 262144, 1 << 20), 0, NULL),
                     201);
    assert_int_equal(run(0, "device enroll-token --uses 2 --json"), 0);
    json_t *j = out_json();
    assert_int_equal(json_integer_value(json_object_get(j, "uses")), 2);
    json_decref(j);

    assert_int_equal(run(0, "device list --json --group field"), 0);
    j = out_json();
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    assert_int_equal(run(0, "device list --tag eu"), 0);
    assert_non_null(strstr(out_text, d.id));
    assert_int_equal(run(0, "device show %s --json", d.id), 0);
    j = out_json();
    assert_string_equal(json_string_value(json_object_get(j, "id")), d.id);
    json_decref(j);
    assert_int_equal(run(0, "device tag %s +beta -eu --group lab --json", d.id), 0);
    j = out_json();
    assert_string_equal(json_string_value(json_object_get(j, "group")), "lab");
    assert_int_equal(json_array_size(json_object_get(j, "tags")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "tags"), 0)), "beta");
    json_decref(j);

    assert_int_equal(run(0, "deploy create --model acme/kws --version 2.0.0 --group lab --waves "
                            "100 --soak 0 --json"),
                     0);
    j = out_json();
    long long dep = (long long)json_integer_value(json_object_get(j, "id"));
    assert_string_equal(json_string_value(json_object_get(j, "state")), "active");
    json_decref(j);
    assert_int_equal(run(0, "deploy status"), 0);
    assert_non_null(strstr(out_text, "acme/kws"));
    assert_int_equal(run(0, "deploy status %lld --devices", dep), 0);
    assert_non_null(strstr(out_text, d.id));
    assert_non_null(strstr(out_text, "pending"));
    assert_int_equal(run(0, "deploy pause %lld", dep), 0);
    assert_non_null(strstr(out_text, "paused"));
    assert_int_equal(run(0, "deploy pause %lld", dep), 1);
    assert_non_null(strstr(err_text, "conflict"));
    assert_int_equal(run(0, "deploy resume %lld --max-failures 2 --json", dep), 0);
    j = out_json();
    assert_int_equal(json_integer_value(json_object_get(j, "max_failures")), 2);
    json_decref(j);
    assert_int_equal(run(0, "deploy abort %lld", dep), 0);
    assert_non_null(strstr(out_text, "aborted"));
    assert_int_equal(run(0, "deploy rollback %lld", dep), 0);
    assert_non_null(strstr(out_text, "rolled back by deployment"));
    assert_int_equal(run(0, "deploy status %lld", dep), 0);
    assert_non_null(strstr(out_text, "rolled-back"));

    /* Revocation: the device's key stops working; enrollment tokens are listed and revoked. */
    assert_int_equal(fx_checkin(&d, NULL, NULL), 200);
    assert_int_equal(run(0, "device revoke %s --reason lost", d.id), 0);
    assert_non_null(strstr(out_text, "revoked"));
    assert_int_equal(fx_checkin(&d, NULL, NULL), 401);
    assert_int_equal(run(0, "device list --group lab"), 0);
    assert_non_null(strstr(out_text, "revoked"));
    assert_int_equal(run(0, "device revoke"), 2); /* usage */
    assert_int_equal(run(0, "enroll-token list --json"), 0);
    j = out_json();
    json_t *tokens = json_object_get(j, "tokens");
    assert_true(json_array_size(tokens) >= 2);
    long long tid = (long long)json_integer_value(json_object_get(json_array_get(tokens, 0), "id"));
    assert_null(json_object_get(json_array_get(tokens, 0), "token"));
    json_decref(j);
    assert_int_equal(run(0, "enroll-token revoke %lld", tid), 0);
    assert_int_equal(run(0, "enroll-token list"), 0);
    assert_non_null(strstr(out_text, "revoked"));
    assert_int_equal(run(0, "enroll-token revoke 999999"), 1);
    assert_non_null(strstr(err_text, "404"));
    fx_device_free(&d);
}

static void errors_and_environment(void **state)
{
    (void)state;
    assert_int_equal(run(1, "device list --server %s", S.base), 1); /* no token */
    assert_non_null(strstr(err_text, "token"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "TINYMLOPS_SERVER=%s TINYMLOPS_TOKEN=%s '%s' device list --json > /dev/null", S.base,
             S.admin_token, TMO_CLI);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run(1, "device list --server http://127.0.0.1:1 --token x"), 1);
    assert_non_null(strstr(err_text, "cannot reach"));
    assert_int_equal(run(0, "device show ffffffffffffffffffffffffffffffff"), 1);
    assert_non_null(strstr(err_text, "404"));
    assert_int_equal(run(0, "deploy create --model acme/kws"), 2); /* usage */
    assert_int_equal(run(1, "device list --server %s --token tmoa_wrong", S.base), 1);
    assert_non_null(strstr(err_text, "401"));
}

static int setup(void **state)
{
    (void)state;
    return fx_start(&S, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return fx_stop(&S) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_commands),
        cmocka_unit_test(device_and_deploy_commands),
        cmocka_unit_test(errors_and_environment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
