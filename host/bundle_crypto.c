/*
 * Host-side cryptography of bundles (see bundle_crypto.h).
 */
#include "bundle_crypto.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "bundle_writer.h"

int hb_sha256(const void *data, size_t len, uint8_t out[TMO_SHA256_LEN])
{
    size_t n = 0;
    return psa_crypto_init() == PSA_SUCCESS && psa_hash_compute(PSA_ALG_SHA_256, data, len, out,
                                                                TMO_SHA256_LEN, &n) == PSA_SUCCESS
               ? 0
               : -1;
}

int hb_random(void *out, size_t len)
{
    return psa_crypto_init() == PSA_SUCCESS && psa_generate_random(out, len) == PSA_SUCCESS ? 0
                                                                                            : -1;
}

int hb_cert_make(const host_key *root, const uint8_t subject_pub[TMO_P256_PUBLIC_KEY_LEN],
                 uint64_t not_before, uint64_t not_after, const char *prefix, uint8_t *out,
                 size_t *out_len)
{
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    uint8_t issuer[TMO_KEY_ID_LEN], subject[TMO_KEY_ID_LEN], hash[TMO_SHA256_LEN];
    if (plen > TMO_CERT_MAX_PREFIX || !root->has_private ||
        tmo_bundle_key_id(root->pub, issuer) != TMO_OK ||
        tmo_bundle_key_id(subject_pub, subject) != TMO_OK)
        return -1;
    hb_buf b;
    hb_init(&b);
    hb_bytes(&b, TMO_CERT_MAGIC, 4);
    hb_u8(&b, TMO_CERT_VERSION);
    hb_u8(&b, TMO_CERT_ALG_ECDSA_P256_SHA256);
    hb_u8(&b, TMO_CERT_USAGE_BUNDLE_SIGNING);
    hb_u8(&b, (uint8_t)plen);
    hb_bytes(&b, issuer, sizeof issuer);
    hb_bytes(&b, subject, sizeof subject);
    hb_bytes(&b, subject_pub, TMO_P256_PUBLIC_KEY_LEN);
    hb_zeros(&b, 3);
    hb_u64(&b, not_before);
    hb_u64(&b, not_after);
    hb_bytes(&b, prefix, plen);
    int rc = -1;
    if (!b.failed && b.len == TMO_CERT_TBS_FIXED + plen && hb_sha256(b.data, b.len, hash) == 0) {
        memcpy(out, b.data, b.len);
        rc = host_key_sign_hash(root, hash, out + b.len);
        *out_len = b.len + TMO_P256_SIGNATURE_LEN;
    }
    hb_free(&b);
    return rc;
}

/* HKDF-SHA256 (salt absent = zeros) of secret with info, 44 bytes: KEK || nonce [B-6.4]. */
static int kdf(const uint8_t *secret, size_t secret_len, const uint8_t recipient_id[TMO_KEY_ID_LEN],
               const uint8_t eph_pub[TMO_P256_PUBLIC_KEY_LEN], uint8_t okm[32 + TMO_GCM_NONCE_LEN])
{
    uint8_t info[sizeof TMO_WRAP_HKDF_LABEL - 1 + TMO_KEY_ID_LEN + TMO_P256_PUBLIC_KEY_LEN];
    size_t l = sizeof TMO_WRAP_HKDF_LABEL - 1;
    memcpy(info, TMO_WRAP_HKDF_LABEL, l);
    memcpy(info + l, recipient_id, TMO_KEY_ID_LEN);
    memcpy(info + l + TMO_KEY_ID_LEN, eph_pub, TMO_P256_PUBLIC_KEY_LEN);
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    int ok = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256)) == PSA_SUCCESS &&
             psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, secret,
                                            secret_len) == PSA_SUCCESS &&
             psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, info,
                                            sizeof info) == PSA_SUCCESS &&
             psa_key_derivation_output_bytes(&op, okm, 32 + TMO_GCM_NONCE_LEN) == PSA_SUCCESS;
    psa_key_derivation_abort(&op);
    return ok ? 0 : -1;
}

/* Raw ECDH shared secret (x coordinate) of a private scalar and a peer public key. */
static int ecdh(const uint8_t priv[32], const uint8_t peer[TMO_P256_PUBLIC_KEY_LEN], uint8_t z[32])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    psa_key_id_t id = 0;
    size_t n = 0;
    if (psa_crypto_init() != PSA_SUCCESS || psa_import_key(&attr, priv, 32, &id) != PSA_SUCCESS)
        return -1;
    psa_status_t st =
        psa_raw_key_agreement(PSA_ALG_ECDH, id, peer, TMO_P256_PUBLIC_KEY_LEN, z, 32, &n);
    psa_destroy_key(id);
    return st == PSA_SUCCESS && n == 32 ? 0 : -1;
}

int hb_wrap(const uint8_t recipient_pub[TMO_P256_PUBLIC_KEY_LEN],
            const uint8_t cek[TMO_CONTENT_KEY_LEN], uint8_t wrap[TMO_WRAP_LEN])
{
    host_key eph;
    char err[128];
    uint8_t z[32], okm[32 + TMO_GCM_NONCE_LEN];
    uint8_t *id = wrap + 1, *eph_pub = id + TMO_KEY_ID_LEN, *ct = eph_pub + TMO_P256_PUBLIC_KEY_LEN;
    wrap[0] = TMO_WRAP_SCHEME_ECDH_P256_HKDF_SHA256_AES256GCM;
    int rc = -1;
    if (host_key_generate(&eph, err, sizeof err) == 0 &&
        tmo_bundle_key_id(recipient_pub, id) == TMO_OK && ecdh(eph.priv, recipient_pub, z) == 0) {
        memcpy(eph_pub, eph.pub, TMO_P256_PUBLIC_KEY_LEN);
        if (kdf(z, sizeof z, id, eph_pub, okm) == 0)
            rc = hb_gcm_encrypt(okm, okm + 32, cek, TMO_CONTENT_KEY_LEN, ct,
                                ct + TMO_CONTENT_KEY_LEN);
    }
    host_key_wipe(&eph);
    mbedtls_platform_zeroize(z, sizeof z);
    mbedtls_platform_zeroize(okm, sizeof okm);
    return rc;
}

int hb_unwrap(const uint8_t wrap[TMO_WRAP_LEN], const host_key *recipient,
              uint8_t cek[TMO_CONTENT_KEY_LEN])
{
    tmo_bundle_wrap w;
    uint8_t z[32], okm[32 + TMO_GCM_NONCE_LEN];
    if (!recipient->has_private || tmo_bundle_wrap_parse(&w, wrap, TMO_WRAP_LEN, NULL) != TMO_OK ||
        ecdh(recipient->priv, w.ephemeral_key, z) != 0)
        return -1;
    int rc = kdf(z, sizeof z, w.recipient_id, w.ephemeral_key, okm);
    if (rc == 0)
        rc = hb_gcm_decrypt(okm, okm + 32, w.wrapped_key, TMO_CONTENT_KEY_LEN, w.tag, cek);
    mbedtls_platform_zeroize(z, sizeof z);
    mbedtls_platform_zeroize(okm, sizeof okm);
    return rc;
}

static psa_key_id_t gcm_key(const uint8_t key[32], psa_key_usage_t usage)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, usage);
    psa_set_key_algorithm(&attr, PSA_ALG_GCM);
    psa_key_id_t id = 0;
    if (psa_crypto_init() != PSA_SUCCESS || psa_import_key(&attr, key, 32, &id) != PSA_SUCCESS)
        return 0;
    return id;
}

int hb_gcm_encrypt(const uint8_t key[32], const uint8_t nonce[TMO_GCM_NONCE_LEN], const uint8_t *in,
                   size_t len, uint8_t *out, uint8_t tag[TMO_GCM_TAG_LEN])
{
    psa_key_id_t id = gcm_key(key, PSA_KEY_USAGE_ENCRYPT);
    uint8_t *tmp = malloc(len + TMO_GCM_TAG_LEN);
    size_t n = 0;
    int rc = -1;
    if (id != 0 && tmp != NULL &&
        psa_aead_encrypt(id, PSA_ALG_GCM, nonce, TMO_GCM_NONCE_LEN, NULL, 0, in, len, tmp,
                         len + TMO_GCM_TAG_LEN, &n) == PSA_SUCCESS &&
        n == len + TMO_GCM_TAG_LEN) {
        memcpy(out, tmp, len);
        memcpy(tag, tmp + len, TMO_GCM_TAG_LEN);
        rc = 0;
    }
    if (id != 0)
        psa_destroy_key(id);
    free(tmp);
    return rc;
}

int hb_gcm_decrypt(const uint8_t key[32], const uint8_t nonce[TMO_GCM_NONCE_LEN], const uint8_t *in,
                   size_t len, const uint8_t tag[TMO_GCM_TAG_LEN], uint8_t *out)
{
    psa_key_id_t id = gcm_key(key, PSA_KEY_USAGE_DECRYPT);
    uint8_t *tmp = malloc(len + TMO_GCM_TAG_LEN);
    size_t n = 0;
    int rc = -1;
    if (id != 0 && tmp != NULL) {
        memcpy(tmp, in, len);
        memcpy(tmp + len, tag, TMO_GCM_TAG_LEN);
        if (psa_aead_decrypt(id, PSA_ALG_GCM, nonce, TMO_GCM_NONCE_LEN, NULL, 0, tmp,
                             len + TMO_GCM_TAG_LEN, out, len > 0 ? len : 1, &n) == PSA_SUCCESS &&
            n == len)
            rc = 0;
    }
    if (id != 0)
        psa_destroy_key(id);
    free(tmp);
    return rc;
}
