/*
 * Content-key wraps [B-6]: the payload's AES key, encrypted for one
 * recipient key (a device's, or a group's shared key) with ephemeral-static
 * ECDH P-256, HKDF-SHA256 and AES-256-GCM, as MCUboot does for encrypted
 * images. The ECDH secret and the key-encryption key never leave PSA; only
 * the content key passes through RAM, and only until it is imported.
 */
#include <string.h>

#include <psa/crypto.h>

#include "bundle_priv.h"
#include "../diag.h"

tmo_err tmo_bundle_wrap_parse(tmo_bundle_wrap *w, const uint8_t *bytes, size_t len, tmo_diag *diag)
{
    if (w == NULL || (bytes == NULL && len > 0))
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "wrap", "NULL argument");
    memset(w, 0, sizeof *w);
    if (len != TMO_WRAP_LEN)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "wrap.length",
                        "a key wrap is 130 bytes");
    w->scheme = bytes[0];
    if (w->scheme != TMO_WRAP_SCHEME_ECDH_P256_HKDF_SHA256_AES256GCM)
        return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "wrap.scheme",
                        "unknown key wrap scheme");
    w->recipient_id = bytes + 1;
    w->ephemeral_key = w->recipient_id + TMO_KEY_ID_LEN;
    w->wrapped_key = w->ephemeral_key + TMO_P256_PUBLIC_KEY_LEN;
    w->tag = w->wrapped_key + TMO_CONTENT_KEY_LEN;
    return TMO_OK;
}

/* HKDF info [B-6.4]: label || recipient key id || ephemeral public key. */
enum {
    LABEL_LEN = sizeof TMO_WRAP_HKDF_LABEL - 1,
    INFO_LEN = LABEL_LEN + TMO_KEY_ID_LEN + TMO_P256_PUBLIC_KEY_LEN
};

/* Derives the key-encryption key (as a PSA key) and the wrap nonce. */
static tmo_err derive_kek(const tmo_bundle_wrap *w, uint32_t device_key, psa_key_id_t *kek,
                          uint8_t nonce[TMO_GCM_NONCE_LEN], tmo_diag *diag)
{
    const psa_algorithm_t alg = PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    uint8_t info[INFO_LEN];
    memcpy(info, TMO_WRAP_HKDF_LABEL, LABEL_LEN);
    memcpy(info + LABEL_LEN, w->recipient_id, TMO_KEY_ID_LEN);
    memcpy(info + LABEL_LEN + TMO_KEY_ID_LEN, w->ephemeral_key, TMO_P256_PUBLIC_KEY_LEN);

    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_GCM);

    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    const char *problem = NULL;
    if (psa_key_derivation_setup(&op, alg) != PSA_SUCCESS)
        problem = "ECDH + HKDF-SHA256 not available";
    else if (psa_key_derivation_key_agreement(&op, PSA_KEY_DERIVATION_INPUT_SECRET,
                                              (psa_key_id_t)device_key, w->ephemeral_key,
                                              TMO_P256_PUBLIC_KEY_LEN) != PSA_SUCCESS)
        problem = "key agreement failed (device key unusable for ECDH, or bad ephemeral key)";
    else if (psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, info,
                                            sizeof info) != PSA_SUCCESS ||
             psa_key_derivation_output_key(&attr, &op, kek) != PSA_SUCCESS ||
             psa_key_derivation_output_bytes(&op, nonce, TMO_GCM_NONCE_LEN) != PSA_SUCCESS)
        problem = "key derivation failed";
    psa_key_derivation_abort(&op);
    if (problem != NULL) {
        if (*kek != 0)
            psa_destroy_key(*kek);
        *kek = 0;
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "wrap.derive", problem);
    }
    return TMO_OK;
}

tmo_err bundle_unwrap(const tmo_bundle_wrap *w, uint32_t device_key, uint32_t *key, tmo_diag *diag)
{
    psa_key_id_t kek = 0;
    uint8_t nonce[TMO_GCM_NONCE_LEN], cek[TMO_CONTENT_KEY_LEN];
    *key = 0;
    tmo_err e = derive_kek(w, device_key, &kek, nonce, diag);
    if (e != TMO_OK)
        return e;
    size_t n = 0;
    /* wrapped_key and tag are adjacent: GCM ciphertext || tag, no associated data. */
    psa_status_t st =
        psa_aead_decrypt(kek, PSA_ALG_GCM, nonce, sizeof nonce, NULL, 0, w->wrapped_key,
                         TMO_CONTENT_KEY_LEN + TMO_GCM_TAG_LEN, cek, sizeof cek, &n);
    psa_destroy_key(kek);
    if (st != PSA_SUCCESS || n != sizeof cek) {
        bundle_wipe(cek, sizeof cek);
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "wrap.tag",
                        "content key does not unwrap (wrong device key, or the wrap was altered)");
    }
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DECRYPT | PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_CTR);
    psa_key_id_t id = 0;
    st = psa_import_key(&attr, cek, sizeof cek, &id);
    bundle_wipe(cek, sizeof cek);
    if (st != PSA_SUCCESS)
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "wrap.content_key",
                        "content key import failed");
    *key = id;
    return TMO_OK;
}
