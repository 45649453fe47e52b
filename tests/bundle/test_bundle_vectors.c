/*
 * The published test vectors (docs/test-vectors/bundle/, written once by
 * gen_vectors.c and committed) still verify with today's device library:
 * the files match SHA256SUMS, both bundles pass every device check at the
 * documented time, decrypt for each recipient to exactly model.tflite, and
 * carry the manifest values docs/test-vectors/bundle/README.md lists. A
 * change of the format or of the verifier that breaks old bundles fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle/bundle_fixture.h"

#define VERIFY_AT 1798761600ull /* 2027-01-01T00:00:00Z, "verify_at" in expected.json */

static uint8_t *load(const char *name, size_t *len)
{
    char p[4096], err[512];
    snprintf(p, sizeof p, "%s/%s", TMO_BUNDLE_VECTORS, name);
    uint8_t *b = host_read_file(p, len, err, sizeof err);
    if (b == NULL)
        fail_msg("%s", err);
    return b;
}

static void key(host_key *k, const char *name, int private_part)
{
    char p[4096], err[512];
    snprintf(p, sizeof p, "%s/%s", TMO_BUNDLE_VECTORS, name);
    int rc = private_part ? host_key_read_private(k, p, err, sizeof err)
                          : host_key_read_public(k, p, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
}

static void files_match_sums(void **state)
{
    (void)state;
    size_t len;
    char *sums = (char *)load("SHA256SUMS", &len);
    char *line = sums;
    int checked = 0;
    while (line < sums + len) {
        char *nl = memchr(line, '\n', (size_t)(sums + len - line));
        assert_non_null(nl);
        *nl = '\0';
        assert_true(strlen(line) > 66);
        size_t flen;
        uint8_t *file = load(line + 66, &flen), h[32];
        char hexd[65];
        assert_int_equal(hb_sha256(file, flen, h), 0);
        for (int i = 0; i < 32; i++)
            snprintf(hexd + 2 * i, 3, "%02x", h[i]);
        assert_memory_equal(hexd, line, 64);
        free(file);
        checked++;
        line = nl + 1;
    }
    assert_int_equal(checked, 4);
    free(sums);
}

/* Verify and load bundle `name` as a device holding device_key (0 = none). */
static void device_check(const char *name, const char *device_key, int counter, const char *version)
{
    host_key root, dev;
    key(&root, "root.pub", 0);
    uint32_t key_id = 0;
    if (device_key != NULL) {
        key(&dev, device_key, 1);
        assert_int_equal(host_key_import_device(&dev, &key_id), 0);
        host_key_wipe(&dev);
    }
    size_t len, model_len;
    uint8_t *b = load(name, &len), *model = load("model.tflite", &model_len);
    fx f;
    memset(&f, 0, sizeof f);
    f.now = VERIFY_AT;
    f.counter = (tmo_port_counter){fx_counter_read, fx_counter_advance, &f};
    f.clock = (tmo_port_clock){fx_clock_now, &f};
    f.caps = (tmo_bundle_caps){"cortex-m4", {0, 1, 0}, 1u << 20, 1u << 20, NULL};
    tmo_bundle_env env = {(const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])root.pub,
                          1,
                          &f.counter,
                          &f.clock,
                          &f.caps,
                          key_id};

    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_diag d;
    static uint8_t slot[4096] __attribute__((aligned(16)));
    tmo_port_reader_mem(&r, &mem, b, len);
    tmo_err e = tmo_bundle_verify(&bundle, &r, &env, &d);
    if (e != TMO_OK) {
        char msg[256];
        tmo_diag_format(&d, msg, sizeof msg);
        fail_msg("%s: %s", name, msg);
    }
    const tmo_bundle_manifest *m = &bundle.manifest;
    char v[32];
    snprintf(v, sizeof v, "%u.%u.%u", m->version.major, m->version.minor, m->version.patch);
    assert_int_equal(m->name_len, 10);
    assert_memory_equal(m->name, "vectors/fc", 10);
    assert_string_equal(v, version);
    assert_int_equal(m->counter, counter);
    assert_int_equal(m->created, 1767225600);
    if (key_id != 0 || m->encryption == TMO_ENC_NONE) {
        assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_OK);
        assert_int_equal(m->payload_size, model_len);
        assert_memory_equal(slot, model, model_len);
    } else {
        assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_OK);
    }
    /* A second after the certificate's end it is refused (the certificate is checked first). */
    f.now = 4922899200ull + 1;
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_ECERT);
    tmo_bundle_close(&bundle);
    if (key_id != 0)
        psa_destroy_key(key_id);
    free(b);
    free(model);
}

static void plain_vector(void **state)
{
    (void)state;
    device_check("plain.tmb", NULL, 1, "1.0.0");
}

static void encrypted_vector_each_recipient(void **state)
{
    (void)state;
    device_check("encrypted.tmb", "device1.key", 2, "1.1.0");
    device_check("encrypted.tmb", "device2.key", 2, "1.1.0");
    device_check("encrypted.tmb", NULL, 2, "1.1.0");
}

/* The committed key files are in the documented encodings and give the listed key ids. */
static void key_files(void **state)
{
    (void)state;
    host_key k;
    key(&k, "signing.key", 1);
    host_key pub;
    key(&pub, "signing.pub", 0);
    assert_memory_equal(k.pub, pub.pub, TMO_P256_PUBLIC_KEY_LEN);
    host_key_wipe(&k);
    size_t len;
    char *pem = (char *)load("signing.key", &len);
    assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
    free(pem);
    pem = (char *)load("signing.pub", &len);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_match_sums),
        cmocka_unit_test(plain_vector),
        cmocka_unit_test(encrypted_vector_each_recipient),
        cmocka_unit_test(key_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
