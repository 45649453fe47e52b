/*
 * Host-side cryptography of bundles, through PSA: certificates, content-key
 * wraps and unwraps, one-shot AES-256-GCM, SHA-256. The packer uses them to
 * write bundles; `bundle verify` uses the unwrap and GCM decryption to check
 * what the device cannot (the GCM tags), along a path independent of the
 * device library's (raw ECDH output fed to HKDF, instead of PSA's combined
 * key agreement), so the two cross-check each other.
 */
#ifndef TMO_HOST_BUNDLE_CRYPTO_H
#define TMO_HOST_BUNDLE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "tinymlops/bundle.h"

/* SHA-256 of data. 0 on success. */
int hb_sha256(const void *data, size_t len, uint8_t out[TMO_SHA256_LEN]);

/* Random bytes from PSA. 0 on success. */
int hb_random(void *out, size_t len);

/*
 * A signing-key certificate [B-5.1] for subject_pub, signed by root (which
 * must hold its private key), valid [not_before, not_after], limited to model
 * names starting with prefix ("" or NULL = any). out must hold TMO_CERT_MAX_LEN.
 */
int hb_cert_make(const host_key *root, const uint8_t subject_pub[TMO_P256_PUBLIC_KEY_LEN],
                 uint64_t not_before, uint64_t not_after, const char *prefix, uint8_t *out,
                 size_t *out_len);

/* Wraps cek for the recipient public key with a fresh ephemeral key [B-6.3, B-6.4]. */
int hb_wrap(const uint8_t recipient_pub[TMO_P256_PUBLIC_KEY_LEN],
            const uint8_t cek[TMO_CONTENT_KEY_LEN], uint8_t wrap[TMO_WRAP_LEN]);

/* Unwraps a wrap with the recipient's private key; checks the GCM tag. 0 on success. */
int hb_unwrap(const uint8_t wrap[TMO_WRAP_LEN], const host_key *recipient,
              uint8_t cek[TMO_CONTENT_KEY_LEN]);

/* One-shot AES-256-GCM, no associated data. encrypt: out = ct, tag separate. */
int hb_gcm_encrypt(const uint8_t key[32], const uint8_t nonce[TMO_GCM_NONCE_LEN], const uint8_t *in,
                   size_t len, uint8_t *out, uint8_t tag[TMO_GCM_TAG_LEN]);
int hb_gcm_decrypt(const uint8_t key[32], const uint8_t nonce[TMO_GCM_NONCE_LEN], const uint8_t *in,
                   size_t len, const uint8_t tag[TMO_GCM_TAG_LEN], uint8_t *out);

#endif
