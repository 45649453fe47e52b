/*
 * `tinymlops key ...` and `tinymlops bundle ...` as a user runs them: real
 * processes and files, exit codes (0 only when everything verifies, 1 with a
 * message naming the failed check, 2 for bad usage), key file modes and
 * encodings [B-9], and `inspect --json` against the values given to `pack`.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle/bundle_fixture.h"

static char dir[256];
static char out[16384], err[4096];

/* Runs the CLI in dir with arguments; captures stdout and stderr; returns the exit code. */
static int cli(const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >stdout 2>stderr", dir, TMO_CLI, args);
    int status = system(cmd);
    const char *names[2] = {"stdout", "stderr"};
    char *bufs[2] = {out, err};
    size_t lens[2] = {sizeof out, sizeof err};
    for (int i = 0; i < 2; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "rb");
        size_t n = f ? fread(bufs[i], 1, lens[i] - 1, f) : 0;
        bufs[i][n] = '\0';
        if (f)
            fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tmo_bundle_cli_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    size_t len;
    uint8_t *model = fx_make_model(&len, 3);
    char p[512], e[256];
    snprintf(p, sizeof p, "%s/model.tflite", dir);
    int rc = host_write_file(p, model, len, e, sizeof e);
    free(model);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void keys_and_certificate(void **state)
{
    (void)state;
    assert_int_equal(cli("key gen --role root --out root"), 0);
    assert_int_equal(cli("key gen --role signing --out sign"), 0);
    assert_int_equal(cli("key gen --role device --out dev"), 0);
    assert_int_equal(cli("key gen --role device --out other"), 0);
    assert_null(strstr(out, "PRIVATE")); /* never printed [B-9.2] */
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/root.key", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* PEM encodings [B-9.1], read back by the host reader and key id as printed. */
    host_key k, pub;
    char e[256], id[33];
    assert_int_equal(host_key_read_private(&k, p, e, sizeof e), 0);
    snprintf(p, sizeof p, "%s/root.pub", dir);
    assert_int_equal(host_key_read_public(&pub, p, e, sizeof e), 0);
    assert_memory_equal(k.pub, pub.pub, 65);
    host_key_wipe(&k);
    /* Never overwrite a key. */
    assert_int_equal(cli("key gen --role root --out root"), 1);
    assert_non_null(strstr(err, "refusing to overwrite"));
    assert_int_equal(cli("key gen --role admin --out x"), 2);
    assert_int_equal(cli("key certify --root root.key --key sign.pub --models acme/ --valid-days "
                         "30 --out sign.cert"),
                     0);
    host_key_id_hex(pub.pub, id);
    assert_non_null(strstr(out, id));
    assert_int_equal(
        cli("key certify --root root.key --key sign.pub --models 'bad prefix' --out x.cert"), 2);
}

static void pack_inspect_verify(void **state)
{
    (void)state;
    assert_int_equal(
        cli("bundle pack model.tflite --name acme/fc --version 2.3.4 --counter 9 --sign sign.key "
            "--cert sign.cert --encrypt-for dev.pub --arch cortex-m4 --expires 2199-12-31 --out "
            "b.tmb"),
        0);
    assert_int_equal(cli("bundle inspect b.tmb --json"), 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    json_t *m = json_object_get(o, "manifest");
    assert_string_equal(json_string_value(json_object_get(m, "name")), "acme/fc");
    assert_string_equal(json_string_value(json_object_get(m, "version")), "2.3.4");
    assert_int_equal(json_integer_value(json_object_get(m, "security_counter")), 9);
    assert_string_equal(json_string_value(json_object_get(m, "expires")), "2199-12-31T00:00:00Z");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "arch"), 0)),
                        "cortex-m4");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "ops"), 0)),
                        "FULLY_CONNECTED");
    assert_string_equal(json_string_value(json_object_get(m, "encryption")), "AES-256-GCM");
    assert_int_equal(json_array_size(json_object_get(o, "wrap_recipient_key_ids")), 1);
    assert_true(json_is_false(json_object_get(o, "verified")));
    json_decref(o);
    assert_int_equal(cli("bundle inspect b.tmb"), 0);
    assert_non_null(strstr(out, "not verified"));

    /* Exit 0 only when everything verifies. */
    assert_int_equal(cli("bundle verify b.tmb --root root.pub --device-key dev.key"), 0);
    assert_non_null(strstr(out, "AES-256-GCM tag verifies"));
    assert_int_equal(cli("bundle verify b.tmb --root root.pub"), 0);
    assert_non_null(strstr(out, "plaintext not checked"));
    /* Otherwise exit 1 naming the check. */
    static const struct {
        const char *args, *needle;
    } bad[] = {
        {"--root sign.pub", "cert.issuer"},
        {"--root root.pub --device-key other.key", "wrap.recipient"},
        {"--root root.pub --min-counter 10", "EROLLBACK"},
        {"--root root.pub --at 2000-01-01", "cert.not_before"},
        {"--root root.pub --at 2200-01-01", "cert.not_after"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli("bundle verify b.tmb %s", bad[i].args), 1);
        if (strstr(err, bad[i].needle) == NULL)
            fail_msg("verify %s: expected '%s' in: %s", bad[i].args, bad[i].needle, err);
    }
    assert_int_equal(cli("bundle verify b.tmb --root root.pub --min-counter 9"), 0);
    /* A byte of the payload changed. */
    char p[512], e[256];
    size_t len;
    snprintf(p, sizeof p, "%s/b.tmb", dir);
    uint8_t *b = host_read_file(p, &len, e, sizeof e);
    b[len - 10] ^= 1;
    snprintf(p, sizeof p, "%s/bad.tmb", dir);
    assert_int_equal(host_write_file(p, b, len, e, sizeof e), 0);
    free(b);
    assert_int_equal(cli("bundle verify bad.tmb --root root.pub --device-key dev.key"), 1);
    assert_non_null(strstr(err, "payload.digest"));
    assert_int_equal(cli("bundle inspect model.tflite"), 1);
    assert_int_equal(cli("bundle verify b.tmb"), 2);
}

/* --profile-data adds PROFILE and KAT sections; verify reproduces the KAT with the runtime. */
static void pack_with_profile(void **state)
{
    (void)state;
    float data[10][4];
    for (int s = 0; s < 10; s++)
        for (int i = 0; i < 4; i++)
            data[s][i] = (float)(s - i) * 0.75f;
    char p[512], e[256];
    snprintf(p, sizeof p, "%s/profile.raw", dir);
    assert_int_equal(host_write_file(p, data, sizeof data, e, sizeof e), 0);
    assert_int_equal(cli("bundle pack model.tflite --name acme/fc --version 1.0.0 --counter 1 "
                         "--sign sign.key --cert sign.cert --profile-data profile.raw --kat 3 "
                         "--out p.tmb"),
                     0);
    assert_non_null(strstr(out, "10 samples"));
    assert_non_null(strstr(out, "3 known-answer vector(s)"));
    assert_int_equal(cli("bundle inspect p.tmb"), 0);
    assert_non_null(strstr(out, "PROFILE"));
    assert_non_null(strstr(out, "KAT"));
    assert_int_equal(cli("bundle verify p.tmb --root root.pub"), 0);
    assert_non_null(strstr(out, "3 known-answer vector(s) reproduced"));
    /* Data whose size is not a whole number of input tensors is refused. */
    assert_int_equal(host_write_file(p, data, sizeof data - 2, e, sizeof e), 0);
    assert_int_equal(cli("bundle pack model.tflite --name acme/fc --version 1.0.0 --counter 1 "
                         "--sign sign.key --cert sign.cert --profile-data profile.raw --out q.tmb"),
                     1);
    assert_int_equal(cli("bundle pack model.tflite --name acme/fc --version 1.0.0 --counter 1 "
                         "--sign sign.key --cert sign.cert --kat 2 --out q.tmb"),
                     2);
}

static void pack_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *args, *needle;
        int code;
    } bad[] = {
        {"--name other/fc --version 1.0.0 --counter 1", "prefix", 1},
        {"--name acme/fc --version 1.0 --counter 1", "X.Y.Z", 2},
        {"--name acme/fc --version 1.0.0 --counter -1", "--counter", 2},
        {"--name 'acme/f c' --version 1.0.0 --counter 1", "model name", 1},
        {"--name acme/fc --version 1.0.0 --counter 1 --expires 2001-02-30", "--expires", 2},
        {"--name acme/fc --version 1.0.0 --counter 1 --expires 2001-01-01", "expiry", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = cli("bundle pack model.tflite %s --sign sign.key --cert sign.cert --out x.tmb",
                     bad[i].args);
        if (rc != bad[i].code || strstr(err, bad[i].needle) == NULL)
            fail_msg("pack %s: exit %d, expected %d with '%s': %s", bad[i].args, rc, bad[i].code,
                     bad[i].needle, err);
    }
    /* The certificate of another key. */
    assert_int_equal(cli("key certify --root root.key --key other.pub --out other.cert"), 0);
    assert_int_equal(
        cli("bundle pack model.tflite --name acme/fc --version 1.0.0 --counter 1 --sign sign.key "
            "--cert other.cert --out x.tmb"),
        1);
    assert_non_null(strstr(err, "another key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_and_certificate),
        cmocka_unit_test(pack_inspect_verify),
        cmocka_unit_test(pack_with_profile),
        cmocka_unit_test(pack_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
