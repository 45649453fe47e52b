/*
 * P-256 key files for bundles (host side): generate, write, read.
 *
 * Encoding (docs/bundle-format.md [B-9]): NAME.key is the private key as PEM
 * "EC PRIVATE KEY" (SEC1, RFC 5915), mode 0600; NAME.pub is the public key as
 * PEM "PUBLIC KEY" (SubjectPublicKeyInfo, RFC 5480). OpenSSL and mbedTLS read
 * both. mbedtls_pk does the encoding only; the cryptography runs through PSA.
 * Private key bytes are never printed and are wiped from memory after use.
 */
#ifndef TMO_HOST_KEYS_H
#define TMO_HOST_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/bundle.h"

/* A P-256 key: the public point always, the private scalar when has_private. */
typedef struct host_key {
    uint8_t pub[TMO_P256_PUBLIC_KEY_LEN]; /* 0x04 || X || Y */
    uint8_t priv[32];
    int has_private;
} host_key;

/* Generates a fresh key pair (PSA random). 0 on success. */
int host_key_generate(host_key *k, char *err, size_t err_len);

/*
 * Writes NAME.key (0600) and NAME.pub. Refuses to overwrite an existing
 * NAME.key or NAME.pub: losing a root key to a typo is not recoverable.
 */
int host_key_write(const host_key *k, const char *name, char *err, size_t err_len);

/* Reads a private key file (PEM or DER, SEC1 or PKCS#8, P-256 only). */
int host_key_read_private(host_key *k, const char *path, char *err, size_t err_len);

/* Reads a public key file (PEM or DER SubjectPublicKeyInfo), or the public half of a private key file. */
int host_key_read_public(host_key *k, const char *path, char *err, size_t err_len);

/* Encodes k's public key as PEM into buf (NUL-terminated). 0 on success. */
int host_key_public_pem(const host_key *k, char *buf, size_t len);

/* Lower-case hex of the key id (SHA-256(pub)[0..16)) into hex[33]. */
void host_key_id_hex(const uint8_t pub[TMO_P256_PUBLIC_KEY_LEN], char hex[2 * TMO_KEY_ID_LEN + 1]);

/* ECDSA P-256/SHA-256 signature (r||s) of a SHA-256 hash with k's private key. */
int host_key_sign_hash(const host_key *k, const uint8_t hash[TMO_SHA256_LEN],
                       uint8_t sig[TMO_P256_SIGNATURE_LEN]);

/*
 * Imports k's private key into PSA as the device's ECDH key for bundle
 * unwrapping (the policy tmo_bundle_load() needs). *id is destroyed with
 * psa_destroy_key(). 0 on success.
 */
int host_key_import_device(const host_key *k, uint32_t *id);

void host_key_wipe(host_key *k);

#endif
