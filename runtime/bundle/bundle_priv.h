/*
 * Private helpers of the bundle verifier: explicit little-endian loads (the
 * format is little-endian on every device, whatever its byte order), constant
 * time comparison, wiping, and the PSA wrappers shared by the steps.
 */
#ifndef TMO_BUNDLE_PRIV_H
#define TMO_BUNDLE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/bundle.h"

static inline uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Equality of two byte strings in time independent of where they differ. */
int bundle_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* Zeroes memory in a way the compiler may not drop (for secrets). */
void bundle_wipe(void *p, size_t n);

/* Reads through the reader port, turning a failure into a diag naming the port. */
tmo_err bundle_read(const tmo_port_reader *r, uint32_t offset, void *buf, size_t len,
                    tmo_diag *diag);

/* SHA-256 of data, through PSA. */
tmo_err bundle_sha256(const uint8_t *data, size_t len, uint8_t out[TMO_SHA256_LEN]);

/*
 * ECDSA P-256/SHA-256 verification of sig (r||s) over a SHA-256 hash, with a
 * raw uncompressed public key. Returns BUNDLE_SIG_VALID when it verifies,
 * anything else when not, with the reason in *why (TMO_EBADSIG, or TMO_EINVAL
 * when the key is not a valid P-256 point).
 *
 * Fault injection (MCUboot's FIH): success is a 32-bit pattern that no
 * zeroed register, skipped store or flipped branch produces, and callers
 * test it twice, the second time through its complement, so one glitch
 * cannot turn a refused signature into an accepted one.
 */
#define BUNDLE_SIG_VALID 0x3CA5965Au
uint32_t bundle_verify_hash(const uint8_t key[TMO_P256_PUBLIC_KEY_LEN],
                            const uint8_t hash[TMO_SHA256_LEN],
                            const uint8_t sig[TMO_P256_SIGNATURE_LEN], tmo_err *why);

/* 1 when a result of bundle_verify_hash is BUNDLE_SIG_VALID, checked twice (see above). */
static inline int bundle_sig_valid(volatile const uint32_t *result)
{
    if (*result != BUNDLE_SIG_VALID)
        return 0;
    return (~*result ^ ~(uint32_t)BUNDLE_SIG_VALID) == 0u;
}

/*
 * Certificate checks [B-5.3]: issued by one of the pinned roots, root
 * signature, subject key id, validity against now (when has_now). The model
 * name prefix is checked later, once the manifest is authenticated.
 */
tmo_err bundle_cert_check(const tmo_bundle_cert *c, const tmo_bundle_env *env, uint64_t now,
                          int has_now, tmo_diag *diag);

/* Checks of an authenticated manifest against the device: expiry, counter, target [B-7]. */
tmo_err bundle_policy_check(const tmo_bundle *b, const tmo_bundle_env *env, uint64_t now,
                            int has_now, tmo_diag *diag);

/*
 * Unwraps the content key from wrap w with the device key and imports it as
 * a volatile AES-256-CTR key [B-6.4]. TMO_EKEY when the wrap does not open.
 * The caller destroys *key (psa_destroy_key) when done.
 */
tmo_err bundle_unwrap(const tmo_bundle_wrap *w, uint32_t device_key, uint32_t *key, tmo_diag *diag);

/* Key id of the device key's public half, through PSA. */
tmo_err bundle_device_key_id(uint32_t device_key, uint8_t id[TMO_KEY_ID_LEN]);

#endif
