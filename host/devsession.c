/*
 * Device sessions (see devsession.h): challenges, the session-open digest,
 * ECDH + HKDF through PSA, and the per-request HMAC through mbedTLS's md
 * layer (no PSA key slot, so no lock).
 */
#include "devsession.h"

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <string.h>

static int hmac(const uint8_t *key, size_t key_len, const void *const *parts, const size_t *lens,
                size_t n, uint8_t out[32])
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    int ok = info != NULL && mbedtls_md_setup(&ctx, info, 1) == 0 &&
             mbedtls_md_hmac_starts(&ctx, key, key_len) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = mbedtls_md_hmac_update(&ctx, parts[i], lens[i]) == 0;
    ok = ok && mbedtls_md_hmac_finish(&ctx, out) == 0;
    mbedtls_md_free(&ctx);
    return ok ? 0 : -1;
}

static void be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

void devsession_challenge(const uint8_t *secret, size_t secret_len, const char *device_id,
                          uint64_t expires_ms, uint8_t out[DEVSESSION_CHALLENGE_LEN])
{
    uint8_t mac[32];
    be64(expires_ms, out);
    const void *parts[] = {"TMO-CHALLENGE-1\n", device_id, "\n", out};
    size_t lens[] = {16, strlen(device_id), 1, 8};
    if (hmac(secret, secret_len, parts, lens, 4, mac) != 0)
        memset(mac, 0, sizeof mac); /* cannot verify: never equal to a real MAC of a live secret */
    memcpy(out + 8, mac, DEVSESSION_CHALLENGE_LEN - 8);
}

int devsession_challenge_check(const uint8_t *secret, size_t secret_len, const char *device_id,
                               const uint8_t challenge[DEVSESSION_CHALLENGE_LEN], uint64_t now_ms,
                               uint64_t *expires_ms)
{
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | challenge[i];
    uint8_t want[DEVSESSION_CHALLENGE_LEN];
    devsession_challenge(secret, secret_len, device_id, exp, want);
    if (!devsession_equal(want, challenge, DEVSESSION_CHALLENGE_LEN) || exp <= now_ms ||
        exp > now_ms + 2 * DEVSESSION_CHALLENGE_TTL_MS)
        return -1;
    *expires_ms = exp;
    return 0;
}

int devsession_open_digest(const char *device_id, const char *challenge_b64, const char *ecdh_b64,
                           uint8_t digest[32])
{
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    const char *parts[] = {"TMO-SESSION-1\n", device_id, "\n", challenge_b64, "\n", ecdh_b64};
    size_t n = 0;
    if (psa_hash_setup(&op, PSA_ALG_SHA_256) != PSA_SUCCESS)
        return -1;
    for (size_t i = 0; i < 6; i++)
        if (psa_hash_update(&op, (const uint8_t *)parts[i], strlen(parts[i])) != PSA_SUCCESS) {
            psa_hash_abort(&op);
            return -1;
        }
    return psa_hash_finish(&op, digest, 32, &n) == PSA_SUCCESS ? 0 : -1;
}

int devsession_ecdh_generate(psa_key_id_t *key, uint8_t pub[DEVAUTH_PUBKEY_LEN])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    return devauth_generate_p256(&attr, key, pub);
}

int devsession_derive(psa_key_id_t key, const uint8_t peer[DEVAUTH_PUBKEY_LEN],
                      const uint8_t challenge[DEVSESSION_CHALLENGE_LEN], const char *device_id,
                      const char *session_id, const uint8_t device_ecdh[DEVAUTH_PUBKEY_LEN],
                      const uint8_t server_ecdh[DEVAUTH_PUBKEY_LEN],
                      uint8_t session_key[DEVSESSION_KEY_LEN])
{
    uint8_t shared[32], info[13 + DEVAUTH_ID_LEN + DEVSESSION_ID_LEN + 2 * DEVAUTH_PUBKEY_LEN];
    size_t n = 0;
    if (strlen(device_id) != DEVAUTH_ID_LEN || strlen(session_id) != DEVSESSION_ID_LEN ||
        psa_raw_key_agreement(PSA_ALG_ECDH, key, peer, DEVAUTH_PUBKEY_LEN, shared, sizeof shared,
                              &n) != PSA_SUCCESS ||
        n != sizeof shared)
        return -1;
    size_t off = 0;
    memcpy(info + off, "TMO-SESSION-1", 13), off += 13;
    memcpy(info + off, device_id, DEVAUTH_ID_LEN), off += DEVAUTH_ID_LEN;
    memcpy(info + off, session_id, DEVSESSION_ID_LEN), off += DEVSESSION_ID_LEN;
    memcpy(info + off, device_ecdh, DEVAUTH_PUBKEY_LEN), off += DEVAUTH_PUBKEY_LEN;
    memcpy(info + off, server_ecdh, DEVAUTH_PUBKEY_LEN), off += DEVAUTH_PUBKEY_LEN;
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    int ok = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256)) == PSA_SUCCESS &&
             psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SALT, challenge,
                                            DEVSESSION_CHALLENGE_LEN) == PSA_SUCCESS &&
             psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, shared,
                                            sizeof shared) == PSA_SUCCESS &&
             psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, info, off) ==
                 PSA_SUCCESS &&
             psa_key_derivation_output_bytes(&op, session_key, DEVSESSION_KEY_LEN) == PSA_SUCCESS;
    psa_key_derivation_abort(&op);
    memset(shared, 0, sizeof shared);
    return ok ? 0 : -1;
}

int devsession_mac(const uint8_t key[DEVSESSION_KEY_LEN], const char *method, const char *path,
                   const char *session_id, uint64_t counter, const void *body, size_t body_len,
                   uint8_t mac[DEVSESSION_MAC_LEN])
{
    uint8_t body_hash[32];
    char body_hex[65], ctr[24];
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, body_len ? body : (const void *)"", body_len, body_hash,
                         sizeof body_hash, &n) != PSA_SUCCESS)
        return -1;
    devauth_hex(body_hash, 32, body_hex);
    snprintf(ctr, sizeof ctr, "%llu", (unsigned long long)counter);
    const void *parts[] = {"TMO-SREQ-1\n", method, "\n", path, "\n",
                           session_id,     "\n",   ctr,  "\n", body_hex};
    size_t lens[10];
    for (size_t i = 0; i < 10; i++)
        lens[i] = strlen(parts[i]);
    return hmac(key, DEVSESSION_KEY_LEN, parts, lens, 10, mac);
}

int devsession_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    return mbedtls_ct_memcmp(a, b, n) == 0;
}
