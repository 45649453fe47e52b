/*
 * The bundle verifier's only door to cryptography: thin wrappers over the
 * PSA Crypto API (mbedTLS on Linux, TF-M or a vendor library on an MCU).
 * Keys given as raw bytes are imported as short-lived volatile keys and
 * destroyed before returning.
 */
#include <string.h>

#include <psa/crypto.h>

#include "bundle_priv.h"

tmo_err bundle_sha256(const uint8_t *data, size_t len, uint8_t out[TMO_SHA256_LEN])
{
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, data, len, out, TMO_SHA256_LEN, &n) != PSA_SUCCESS ||
        n != TMO_SHA256_LEN)
        return TMO_EUNSUPPORTED;
    return TMO_OK;
}

tmo_err tmo_bundle_key_id(const uint8_t key[TMO_P256_PUBLIC_KEY_LEN], uint8_t id[TMO_KEY_ID_LEN])
{
    uint8_t h[TMO_SHA256_LEN];
    if (key == NULL || id == NULL)
        return TMO_EINVAL;
    if (psa_crypto_init() != PSA_SUCCESS)
        return TMO_EUNSUPPORTED;
    tmo_err e = bundle_sha256(key, TMO_P256_PUBLIC_KEY_LEN, h);
    if (e == TMO_OK)
        memcpy(id, h, TMO_KEY_ID_LEN);
    return e;
}

uint32_t bundle_verify_hash(const uint8_t key[TMO_P256_PUBLIC_KEY_LEN],
                            const uint8_t hash[TMO_SHA256_LEN],
                            const uint8_t sig[TMO_P256_SIGNATURE_LEN], tmo_err *why)
{
    volatile uint32_t result = ~(uint32_t)BUNDLE_SIG_VALID;
    *why = TMO_EINVAL;
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    if (key[0] != 0x04 || psa_import_key(&attr, key, TMO_P256_PUBLIC_KEY_LEN, &id) != PSA_SUCCESS)
        return result;
    volatile psa_status_t st = psa_verify_hash(id, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash,
                                               TMO_SHA256_LEN, sig, TMO_P256_SIGNATURE_LEN);
    psa_destroy_key(id);
    *why = TMO_EBADSIG;
    if (st == PSA_SUCCESS && st == PSA_SUCCESS) {
        *why = TMO_OK;
        result = BUNDLE_SIG_VALID;
    }
    return result;
}

tmo_err bundle_device_key_id(uint32_t device_key, uint8_t id[TMO_KEY_ID_LEN])
{
    uint8_t pub[TMO_P256_PUBLIC_KEY_LEN];
    size_t n = 0;
    if (psa_export_public_key((psa_key_id_t)device_key, pub, sizeof pub, &n) != PSA_SUCCESS ||
        n != sizeof pub)
        return TMO_EKEY;
    return tmo_bundle_key_id(pub, id);
}
