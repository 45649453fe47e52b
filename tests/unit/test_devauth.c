/*
 * Device request signatures (docs/protocol.md P-6, P-8, P-11): a signature
 * made over one request verifies for exactly that request, and changing any
 * part of it (method, path, timestamp, nonce, body) or the key breaks it.
 * The device id is checked against SHA-256 computed independently here
 * (FIPS 180-2 test vector of the empty string plus the definition).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devauth.h"

static int verify_request(const uint8_t *pub, const char *method, const char *path, uint64_t ts,
                          const char *nonce, const char *body, const uint8_t *sig)
{
    uint8_t d[32];
    assert_int_equal(devauth_request_digest(method, path, ts, nonce, body, strlen(body), d), 0);
    return devauth_verify(pub, d, sig);
}

static void sign_and_tamper(void **state)
{
    (void)state;
    psa_key_id_t key, other;
    uint8_t pub[65], pub2[65], d[32], sig[64];
    char nonce[33];
    assert_int_equal(devauth_generate(&key, pub), 0);
    assert_int_equal(devauth_generate(&other, pub2), 0);
    assert_int_equal(devauth_nonce(nonce), 0);
    assert_int_equal(strlen(nonce), 32);
    const char *body = "{\"a\":1}";
    assert_int_equal(devauth_request_digest("POST", "/api/v1/device/checkin", 1764150000123ull, nonce,
                                            body, strlen(body), d), 0);
    assert_int_equal(devauth_sign(key, d, sig), 0);
    assert_int_equal(verify_request(pub, "POST", "/api/v1/device/checkin", 1764150000123ull, nonce, body, sig), 0);
    assert_int_not_equal(verify_request(pub, "GET", "/api/v1/device/checkin", 1764150000123ull, nonce, body, sig), 0);
    assert_int_not_equal(verify_request(pub, "POST", "/api/v1/device/checkin?x", 1764150000123ull, nonce, body, sig), 0);
    assert_int_not_equal(verify_request(pub, "POST", "/api/v1/device/checkin", 1764150000124ull, nonce, body, sig), 0);
    char nonce2[33];
    memcpy(nonce2, nonce, 33);
    nonce2[0] = nonce2[0] == 'a' ? 'b' : 'a';
    assert_int_not_equal(verify_request(pub, "POST", "/api/v1/device/checkin", 1764150000123ull, nonce2, body, sig), 0);
    assert_int_not_equal(verify_request(pub, "POST", "/api/v1/device/checkin", 1764150000123ull, nonce, "{\"a\":2}", sig), 0);
    assert_int_not_equal(verify_request(pub2, "POST", "/api/v1/device/checkin", 1764150000123ull, nonce, body, sig), 0);
    sig[10] ^= 1;
    assert_int_not_equal(verify_request(pub, "POST", "/api/v1/device/checkin", 1764150000123ull, nonce, body, sig), 0);
    psa_destroy_key(key);
    psa_destroy_key(other);
}

static void private_key_round_trip(void **state)
{
    (void)state;
    psa_key_id_t key, again;
    uint8_t pub[65], pub_again[65], priv[32], d[32] = {1, 2, 3}, sig[64];
    assert_int_equal(devauth_generate(&key, pub), 0);
    assert_int_equal(devauth_export_private(key, priv), 0);
    assert_int_equal(devauth_import_private(priv, &again, pub_again), 0);
    assert_memory_equal(pub, pub_again, 65);
    assert_int_equal(devauth_sign(again, d, sig), 0);
    assert_int_equal(devauth_verify(pub, d, sig), 0);
    psa_destroy_key(key);
    psa_destroy_key(again);
}

static void device_id_is_sha256_prefix(void **state)
{
    (void)state;
    uint8_t pub[65], h[32];
    for (int i = 0; i < 65; i++)
        pub[i] = (uint8_t)i;
    size_t n;
    /* SHA-256 itself against the FIPS 180-2 vector for "abc". */
    static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    assert_int_equal(psa_hash_compute(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, h, 32, &n), PSA_SUCCESS);
    assert_memory_equal(h, abc, 32);
    psa_hash_compute(PSA_ALG_SHA_256, pub, 65, h, 32, &n);
    char want[33], id[33];
    devauth_hex(h, 16, want);
    devauth_device_id(pub, id);
    assert_string_equal(id, want);
    assert_int_equal(strlen(id), 32);
}

static void base64_round_trip(void **state)
{
    (void)state;
    char out[16];
    uint8_t back[16];
    assert_int_equal(devauth_b64_encode((const uint8_t *)"foob", 4, out, sizeof out), 8);
    assert_string_equal(out, "Zm9vYg==");
    assert_int_equal(devauth_b64_decode("Zm9vYg==", back, sizeof back), 4);
    assert_memory_equal(back, "foob", 4);
    assert_int_equal(devauth_b64_decode("Zm9v!g==", back, sizeof back), -1);
    assert_int_equal(devauth_b64_encode((const uint8_t *)"foobar", 6, out, 4), -1);
    memset(out, 'x', sizeof out); /* empty input still gives a terminated empty string */
    assert_int_equal(devauth_b64_encode(back, 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(devauth_b64_encode(back, 0, out, 0), -1);
}

static int setup(void **state)
{
    (void)state;
    return devauth_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_and_tamper),
        cmocka_unit_test(private_key_round_trip),
        cmocka_unit_test(device_id_is_sha256_prefix),
        cmocka_unit_test(base64_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
