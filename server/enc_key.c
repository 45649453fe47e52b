/*
 * Device encryption keys (docs/protocol.md P-27): the P-256 public key a
 * device unwraps bundle content keys with, separate from its signing key.
 * Sent at enrollment and with check-ins as "enc_public_key" (base64 of the
 * 65-byte uncompressed point), checked to be a point on the curve, stored,
 * and shown on the device so an operator can encrypt bundles for it.
 */
#include "enc_key.h"

#include <psa/crypto.h>
#include <stdio.h>
#include <string.h>

#include "devauth.h"
#include "keys.h"

int enc_key_parse(json_t *v, uint8_t pub[ST_PUBKEY_LEN], char *err, size_t err_len)
{
    if (v == NULL || json_is_null(v))
        return 0;
    uint8_t buf[ST_PUBKEY_LEN + 4];
    const char *text = json_string_value(v);
    if (text == NULL || strlen(text) > 128 ||
        devauth_b64_decode(text, buf, sizeof buf) != ST_PUBKEY_LEN || buf[0] != 0x04) {
        snprintf(err, err_len,
                 "enc_public_key must be base64 of a 65-byte uncompressed P-256 point");
        return -1;
    }
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_EXPORT);
    psa_key_id_t id = 0;
    srv_crypto_lock();
    psa_status_t st = psa_import_key(&at, buf, ST_PUBKEY_LEN, &id);
    if (st == PSA_SUCCESS)
        psa_destroy_key(id);
    srv_crypto_unlock();
    if (st != PSA_SUCCESS) {
        snprintf(err, err_len, "enc_public_key is not a point on P-256");
        return -1;
    }
    memcpy(pub, buf, ST_PUBKEY_LEN);
    return 1;
}

void enc_key_json(store *st, const char *device, json_t *out)
{
    uint8_t pub[ST_PUBKEY_LEN];
    if (ST(st, device_enc_key_get, device, pub) != ST_OK) {
        json_object_set_new(out, "enc_public_key", json_null());
        return;
    }
    char b64[128], id[2 * TMO_KEY_ID_LEN + 1];
    devauth_b64_encode(pub, sizeof pub, b64, sizeof b64);
    host_key_id_hex(pub, id);
    json_object_set_new(out, "enc_public_key", json_string(b64));
    json_object_set_new(out, "enc_key_id", json_string(id));
}
