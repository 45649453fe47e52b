/*
 * Device request authentication (docs/protocol.md P-6, P-8, P-10..P-12),
 * implemented once for the agent, the server, the simulator and the load
 * benchmark: canonical strings, ECDSA P-256 signatures through PSA, device
 * ids and base64. Host-side only.
 */
#ifndef TMO_DEVAUTH_H
#define TMO_DEVAUTH_H

#include <psa/crypto.h>
#include <stddef.h>
#include <stdint.h>

#define DEVAUTH_PUBKEY_LEN 65 /* uncompressed P-256 point */
#define DEVAUTH_SIG_LEN 64    /* raw r || s */
#define DEVAUTH_ID_LEN 32     /* hex chars of the device id */
#define DEVAUTH_NONCE_LEN 32  /* hex chars of a request nonce */
#define DEVAUTH_MAX_SKEW_MS 300000
#define DEVAUTH_NONCE_TTL_MS 600000

/* Calls psa_crypto_init() once; 0 on success. */
int devauth_init(void);

/* device_id (P-6) of an uncompressed public key, NUL-terminated into id[DEVAUTH_ID_LEN + 1]. */
void devauth_device_id(const uint8_t pub[DEVAUTH_PUBKEY_LEN], char id[DEVAUTH_ID_LEN + 1]);

/*
 * SHA-256 of the request canonical string (P-11) into digest[32]. path must
 * include the query string if any.
 */
int devauth_request_digest(const char *method, const char *path, uint64_t timestamp_ms,
                           const char *nonce, const void *body, size_t body_len,
                           uint8_t digest[32]);

/* Signs a 32-byte digest with a PSA key (ECDSA P-256); 0 on success. */
int devauth_sign(psa_key_id_t key, const uint8_t digest[32], uint8_t sig[DEVAUTH_SIG_LEN]);

/* Verifies a signature over a digest with a raw public key; 0 when valid. */
int devauth_verify(const uint8_t pub[DEVAUTH_PUBKEY_LEN], const uint8_t digest[32],
                   const uint8_t sig[DEVAUTH_SIG_LEN]);

/* A fresh random nonce as DEVAUTH_NONCE_LEN lowercase hex chars + NUL. */
int devauth_nonce(char nonce[DEVAUTH_NONCE_LEN + 1]);

/* Generates a P-256 key pair with attributes attr; exports the public key. 0 on success. */
int devauth_generate_p256(const psa_key_attributes_t *attr, psa_key_id_t *key,
                          uint8_t pub[DEVAUTH_PUBKEY_LEN]);

/* Generates a P-256 key pair usable for signing; exports the public key. 0 on success. */
int devauth_generate(psa_key_id_t *key, uint8_t pub[DEVAUTH_PUBKEY_LEN]);

/* Imports a raw 32-byte private scalar as a signing key (and its public key). 0 on success. */
int devauth_import_private(const uint8_t priv[32], psa_key_id_t *key,
                           uint8_t pub[DEVAUTH_PUBKEY_LEN]);

/* Exports the raw private scalar of a key made by devauth_generate. 0 on success. */
int devauth_export_private(psa_key_id_t key, uint8_t priv[32]);

/* Base64 (standard alphabet, padded). Return the output length, or -1 if out is too small / input invalid. */
int devauth_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_len);
int devauth_b64_decode(const char *in, uint8_t *out, size_t out_len);

/* Lowercase hex of len bytes into out (2*len + 1 bytes). */
void devauth_hex(const uint8_t *in, size_t len, char *out);

#endif
