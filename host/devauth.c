/*
 * Device request authentication (see devauth.h). Crypto through PSA only;
 * base64 from mbedTLS.
 */
#include "devauth.h"

#include <mbedtls/base64.h>
#include <stdio.h>
#include <string.h>

int devauth_init(void)
{
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
}

void devauth_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void devauth_device_id(const uint8_t pub[DEVAUTH_PUBKEY_LEN], char id[DEVAUTH_ID_LEN + 1])
{
    uint8_t h[32];
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, pub, DEVAUTH_PUBKEY_LEN, h, sizeof h, &n) != PSA_SUCCESS)
        memset(h, 0, sizeof h);
    devauth_hex(h, DEVAUTH_ID_LEN / 2, id);
}

static int hash_parts(const void *const *parts, const size_t *lens, size_t n, uint8_t digest[32])
{
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    size_t out = 0;
    if (psa_hash_setup(&op, PSA_ALG_SHA_256) != PSA_SUCCESS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (psa_hash_update(&op, parts[i], lens[i]) != PSA_SUCCESS) {
            psa_hash_abort(&op);
            return -1;
        }
    return psa_hash_finish(&op, digest, 32, &out) == PSA_SUCCESS ? 0 : -1;
}

int devauth_request_digest(const char *method, const char *path, uint64_t timestamp_ms,
                           const char *nonce, const void *body, size_t body_len, uint8_t digest[32])
{
    uint8_t body_hash[32];
    char body_hex[65], ts[24];
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, body_len ? body : (const void *)"", body_len, body_hash,
                         sizeof body_hash, &n) != PSA_SUCCESS)
        return -1;
    devauth_hex(body_hash, 32, body_hex);
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)timestamp_ms);
    const void *parts[] = {"TMO-REQ-1\n", method, "\n", path,    "\n", ts,
                           "\n",          nonce,  "\n", body_hex};
    size_t lens[10];
    for (size_t i = 0; i < 10; i++)
        lens[i] = strlen(parts[i]);
    return hash_parts(parts, lens, 10, digest);
}

int devauth_sign(psa_key_id_t key, const uint8_t digest[32], uint8_t sig[DEVAUTH_SIG_LEN])
{
    size_t n = 0;
    psa_status_t st =
        psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, sig, DEVAUTH_SIG_LEN, &n);
    return st == PSA_SUCCESS && n == DEVAUTH_SIG_LEN ? 0 : -1;
}

int devauth_verify(const uint8_t pub[DEVAUTH_PUBKEY_LEN], const uint8_t digest[32],
                   const uint8_t sig[DEVAUTH_SIG_LEN])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t key;
    if (psa_import_key(&attr, pub, DEVAUTH_PUBKEY_LEN, &key) != PSA_SUCCESS)
        return -1;
    psa_status_t st =
        psa_verify_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, sig, DEVAUTH_SIG_LEN);
    psa_destroy_key(key);
    return st == PSA_SUCCESS ? 0 : -1;
}

int devauth_nonce(char nonce[DEVAUTH_NONCE_LEN + 1])
{
    uint8_t r[DEVAUTH_NONCE_LEN / 2];
    if (psa_generate_random(r, sizeof r) != PSA_SUCCESS)
        return -1;
    devauth_hex(r, sizeof r, nonce);
    return 0;
}

static void signing_key_attributes(psa_key_attributes_t *attr)
{
    psa_set_key_type(attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(attr, 256);
    psa_set_key_usage_flags(attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_EXPORT);
    psa_set_key_algorithm(attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
}

int devauth_generate_p256(const psa_key_attributes_t *attr, psa_key_id_t *key,
                          uint8_t pub[DEVAUTH_PUBKEY_LEN])
{
    size_t n = 0;
    if (psa_generate_key(attr, key) != PSA_SUCCESS)
        return -1;
    if (psa_export_public_key(*key, pub, DEVAUTH_PUBKEY_LEN, &n) != PSA_SUCCESS ||
        n != DEVAUTH_PUBKEY_LEN) {
        psa_destroy_key(*key);
        *key = 0;
        return -1;
    }
    return 0;
}

int devauth_generate(psa_key_id_t *key, uint8_t pub[DEVAUTH_PUBKEY_LEN])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    signing_key_attributes(&attr);
    return devauth_generate_p256(&attr, key, pub);
}

int devauth_import_private(const uint8_t priv[32], psa_key_id_t *key,
                           uint8_t pub[DEVAUTH_PUBKEY_LEN])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    size_t n = 0;
    signing_key_attributes(&attr);
    if (psa_import_key(&attr, priv, 32, key) != PSA_SUCCESS)
        return -1;
    if (psa_export_public_key(*key, pub, DEVAUTH_PUBKEY_LEN, &n) != PSA_SUCCESS ||
        n != DEVAUTH_PUBKEY_LEN) {
        psa_destroy_key(*key);
        return -1;
    }
    return 0;
}

int devauth_export_private(psa_key_id_t key, uint8_t priv[32])
{
    size_t n = 0;
    return psa_export_key(key, priv, 32, &n) == PSA_SUCCESS && n == 32 ? 0 : -1;
}

int devauth_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_len)
{
    size_t n = 0;
    if (out_len == 0 || mbedtls_base64_encode((unsigned char *)out, out_len, &n, in, len) != 0)
        return -1;
    out[n] = '\0'; /* mbedtls writes nothing at all for empty input */
    return (int)n;
}

int devauth_b64_decode(const char *in, uint8_t *out, size_t out_len)
{
    size_t n = 0;
    if (mbedtls_base64_decode(out, out_len, &n, (const unsigned char *)in, strlen(in)) != 0)
        return -1;
    return (int)n;
}
