/*
 * Model bundles: the signed (optionally encrypted) unit of deployment, and
 * their verification on the device.
 *
 * This header pins the wire format (docs/bundle-format.md is the spec; the
 * requirement numbers [B-x.y] quoted below are from there) and declares the
 * device-side API. The host tools (pack, inspect, verify) use the same
 * constants and the same parsers, so what the device accepts is what the
 * tools write.
 *
 * Verification on the device, in this order (each step fails with its own
 * error and a tmo_diag naming the check):
 *   tmo_bundle_verify()         header bounds, section layout   EBADBUNDLE, EUNSUPPORTED
 *                               certificate (pinned root,       ECERT
 *                                 validity window)
 *                               signature over the signed part  EBADSIG
 *                               manifest fields, name prefix    EBADBUNDLE, ECERT
 *                               expiry                          EEXPIRED
 *                               security counter vs NV counter  EROLLBACK
 *                               target requirements vs caps     ETARGET
 *                               a key wrap for this device      EKEY
 *   tmo_bundle_load()           unwrap content key, stream the  EKEY, EDIGEST
 *                               payload through SHA-256 and
 *                               AES-CTR into the caller's slot
 *     or tmo_bundle_check_payload()  digest of the stored payload only
 *   tmo_bundle_accept()         advance the NV counter
 *
 * Memory [B-8.1, docs section 13]: nothing is allocated. The caller provides
 * the tmo_bundle (1160 bytes on x86-64 with the default limits) and the
 * destination of the payload; the functions' own frames peak at about
 * 1.5 KiB of stack (a TMO_BUNDLE_CHUNK I/O buffer plus the PSA operation
 * objects), so the library works in under 4 KiB besides the model slot.
 * What the PSA implementation uses internally comes on top (nothing for the
 * caller with TF-M). Crypto goes through the PSA Crypto API (psa/crypto.h);
 * the functions call psa_crypto_init() themselves.
 *
 * Ownership: the reader, ports and their contexts belong to the caller and
 * must outlive the tmo_bundle. A tmo_bundle holds pointers into itself: do
 * not copy it after tmo_bundle_verify(); pass it by pointer.
 */
#ifndef TINYMLOPS_BUNDLE_H
#define TINYMLOPS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/config.h"
#include "tinymlops/err.h"
#include "tinymlops/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- build-time limits (override like config.h) ---- */

/* Largest MANIFEST value this build accepts [B-4.1]; typical manifests are 200-300 bytes. */
#ifndef TMO_BUNDLE_MAX_MANIFEST
#define TMO_BUNDLE_MAX_MANIFEST 512
#endif

/* Bytes read from the reader per step; the I/O buffer on the stack of verify/load. */
#ifndef TMO_BUNDLE_CHUNK
#define TMO_BUNDLE_CHUNK 512
#endif

/* Version of this device library, compared with a manifest's MIN_RUNTIME [B-4.5]. */
#define TMO_RUNTIME_VERSION_MAJOR 0
#define TMO_RUNTIME_VERSION_MINOR 1
#define TMO_RUNTIME_VERSION_PATCH 0

/* ---- wire format, version 1 (all integers little-endian) ---- */

#define TMO_BUNDLE_MAGIC "TMOB"
#define TMO_BUNDLE_FORMAT_VERSION 1
#define TMO_BUNDLE_HEADER_SIZE 32
#define TMO_BUNDLE_SECTION_HEADER_SIZE 8
#define TMO_BUNDLE_SECTION_ALIGN 8
#define TMO_BUNDLE_PAYLOAD_ALIGN 16

/* Header flags [B-2.6]. */
#define TMO_BUNDLE_FLAG_ENCRYPTED 0x0001u

/* Section flags [B-3.3]. */
#define TMO_SECTION_CRITICAL 0x0001u

/* Section tags [B-3.5]. */
enum {
    TMO_SECTION_PAD = 0x0000, /* zero filler (alignment), non-critical */
    TMO_SECTION_MANIFEST = 0x0001,
    TMO_SECTION_CERT = 0x0002,
    TMO_SECTION_WRAP = 0x0003,
    TMO_SECTION_PROFILE = 0x0010, /* monitoring profile (docs/monitoring.md) */
    TMO_SECTION_KAT = 0x0011,     /* known-answer tests (docs/monitoring.md) */
    TMO_SECTION_SIGNATURE = 0x00F0,
    TMO_SECTION_PAYLOAD = 0x00FF
};

/* Manifest field ids [B-4.3]; ids >= 0x8000 are optional to understand. */
enum {
    TMO_MF_NAME = 0x0001,
    TMO_MF_VERSION = 0x0002,
    TMO_MF_COUNTER = 0x0003,
    TMO_MF_CREATED = 0x0004,
    TMO_MF_EXPIRES = 0x0005,
    TMO_MF_ARCH = 0x0010,
    TMO_MF_MIN_RUNTIME = 0x0011,
    TMO_MF_ARENA_BYTES = 0x0012,
    TMO_MF_FLASH_BYTES = 0x0013,
    TMO_MF_OPS = 0x0014,
    TMO_MF_PAYLOAD_SIZE = 0x0020,
    TMO_MF_PAYLOAD_DIGEST = 0x0021,
    TMO_MF_MODEL_DIGEST = 0x0022,
    TMO_MF_ENCRYPTION = 0x0023,
    TMO_MF_OPTIONAL = 0x8000
};

/* Payload encryption [B-4.3]. */
enum { TMO_ENC_NONE = 0, TMO_ENC_AES256_GCM = 1 };

#define TMO_P256_PUBLIC_KEY_LEN 65 /* 0x04 || X || Y */
#define TMO_P256_SIGNATURE_LEN 64  /* r || s, 32 bytes each, big-endian */
#define TMO_KEY_ID_LEN 16          /* first 16 bytes of SHA-256(public key) [B-5.2] */
#define TMO_SHA256_LEN 32
#define TMO_GCM_NONCE_LEN 12
#define TMO_GCM_TAG_LEN 16
#define TMO_CONTENT_KEY_LEN 32

#define TMO_BUNDLE_MAX_NAME 64
#define TMO_BUNDLE_MAX_ARCH 32 /* bytes of one architecture name */
#define TMO_BUNDLE_MAX_ARCHES 8

/* Certificate [B-5.1]: "TMOC" TBS (124 bytes + prefix) then a 64-byte signature. */
#define TMO_CERT_MAGIC "TMOC"
#define TMO_CERT_VERSION 1
#define TMO_CERT_ALG_ECDSA_P256_SHA256 1
#define TMO_CERT_USAGE_BUNDLE_SIGNING 1
#define TMO_CERT_TBS_FIXED 124
#define TMO_CERT_MAX_PREFIX 64
#define TMO_CERT_MAX_LEN (TMO_CERT_TBS_FIXED + TMO_CERT_MAX_PREFIX + TMO_P256_SIGNATURE_LEN)

/* Key wrap [B-6.3]: scheme, recipient key id, ephemeral key, wrapped key, tag. */
#define TMO_WRAP_SCHEME_ECDH_P256_HKDF_SHA256_AES256GCM 1
#define TMO_WRAP_LEN                                                                               \
    (1 + TMO_KEY_ID_LEN + TMO_P256_PUBLIC_KEY_LEN + TMO_CONTENT_KEY_LEN + TMO_GCM_TAG_LEN)
#define TMO_WRAP_HKDF_LABEL "TMOB-WRAP-v1" /* 12 ASCII bytes, start of the HKDF info [B-6.4] */

/* Fixed container header [B-2], decoded from its 32 little-endian bytes. */
typedef struct tmo_bundle_header {
    uint8_t magic[4];
    uint16_t format_version;
    uint16_t header_size;
    uint32_t total_length;
    uint16_t section_count;
    uint16_t flags;
    uint32_t payload_offset; /* of the PAYLOAD value */
    uint32_t payload_length;
    uint64_t reserved; /* zero in version 1 */
} tmo_bundle_header;
#ifndef __cplusplus
_Static_assert(sizeof(tmo_bundle_header) == TMO_BUNDLE_HEADER_SIZE, "bundle header is 32 bytes");
#endif

/* One section as found in the file. */
typedef struct tmo_bundle_section {
    uint16_t tag;
    uint16_t flags;
    uint32_t offset; /* of the section header; the value starts 8 bytes later */
    uint32_t length; /* of the value, without padding */
} tmo_bundle_section;

typedef struct tmo_semver {
    uint16_t major, minor, patch;
} tmo_semver;

/* A parsed manifest. Pointers point into the manifest bytes given to the parser. */
typedef struct tmo_bundle_manifest {
    const char *name; /* not NUL-terminated */
    uint32_t name_len;
    tmo_semver version;
    uint64_t counter;
    uint64_t created; /* Unix seconds */
    uint64_t expires; /* Unix seconds, when has_expires */
    uint8_t has_expires;
    uint8_t arch_count;       /* 0 = runs on any architecture */
    const uint8_t *arch_list; /* arch_count entries of (u8 length, bytes) */
    uint32_t arch_list_len;
    tmo_semver min_runtime;
    uint64_t arena_bytes;
    uint64_t flash_bytes;
    const uint8_t *ops_le; /* op_count u16 builtin codes, ascending */
    uint32_t op_count;
    uint64_t payload_size;
    const uint8_t *payload_digest; /* SHA-256 of the payload as stored */
    const uint8_t *model_digest;   /* SHA-256 of the plaintext .tflite */
    uint8_t encryption;            /* TMO_ENC_* */
    const uint8_t *nonce;          /* TMO_GCM_NONCE_LEN bytes when encrypted */
    const uint8_t *tag;            /* TMO_GCM_TAG_LEN bytes when encrypted */
} tmo_bundle_manifest;

/* A parsed certificate. Pointers point into the bytes given to the parser. */
typedef struct tmo_bundle_cert {
    uint8_t version, alg, usage;
    const uint8_t *issuer_id;       /* key id of the root that signed it */
    const uint8_t *subject_id;      /* key id of subject_key */
    const uint8_t *subject_key;     /* uncompressed P-256 public key */
    uint64_t not_before, not_after; /* Unix seconds, inclusive */
    const char *prefix;             /* model-name prefix; empty = any model */
    uint32_t prefix_len;
    const uint8_t *tbs; /* the signed part */
    uint32_t tbs_len;
    const uint8_t *signature; /* r || s by the issuer */
} tmo_bundle_cert;

/* A parsed key wrap. */
typedef struct tmo_bundle_wrap {
    uint8_t scheme;
    const uint8_t *recipient_id;
    const uint8_t *ephemeral_key;
    const uint8_t *wrapped_key;
    const uint8_t *tag;
} tmo_bundle_wrap;

/* What the device offers; a bundle's target requirements are checked against it [B-4.5]. */
typedef struct tmo_bundle_caps {
    const char *arch;   /* NUL-terminated, e.g. "cortex-m4" */
    tmo_semver runtime; /* normally TMO_RUNTIME_VERSION_* */
    uint64_t max_arena_bytes;
    uint64_t max_flash_bytes; /* size of the model slot */
    /*
     * Operators the device runs: the firmware's op table (tinymlops/ops.h), or
     * NULL for every operator of this build (tmo_interp_supports(); links all kernels).
     */
    const struct tmo_op_table *ops;
} tmo_bundle_caps;

/* Trust anchors and ports for verification. */
typedef struct tmo_bundle_env {
    const uint8_t (*roots)[TMO_P256_PUBLIC_KEY_LEN]; /* pinned root public keys */
    uint32_t root_count;
    const tmo_port_counter *counter; /* required: anti-rollback counter */
    const tmo_port_clock *clock;     /* NULL: no trusted time, time checks are skipped [B-7.3] */
    const tmo_bundle_caps *caps;     /* NULL: target not checked (host tools only) [B-7.6] */
    uint32_t device_key;             /* PSA key id of the device's P-256 ECDH key, 0 = none */
} tmo_bundle_env;

/* Progress of a tmo_bundle. */
enum {
    TMO_BUNDLE_EMPTY = 0,
    TMO_BUNDLE_VERIFIED,   /* metadata authenticated and acceptable */
    TMO_BUNDLE_PAYLOAD_OK, /* ...and the stored payload matches its digest */
    TMO_BUNDLE_LOADED,     /* ...and the plaintext model is in the caller's slot */
    TMO_BUNDLE_ACCEPTED    /* ...and the NV counter has been advanced */
};

/*
 * One bundle being verified. Contents are private; sizes are part of the RAM
 * budget. A zero-initialized or closed tmo_bundle is TMO_BUNDLE_EMPTY.
 */
typedef struct tmo_bundle {
    tmo_port_reader reader;
    const tmo_port_counter *counter;
    uint32_t device_key;
    uint8_t state;
    uint8_t has_wrap;
    tmo_bundle_header header;
    tmo_bundle_manifest manifest;
    uint8_t signer_id[TMO_KEY_ID_LEN];
    /* Value offset and length of the reserved extension sections (0 when absent). */
    uint32_t profile_offset, profile_length;
    uint32_t kat_offset, kat_length;
    uint8_t wrap[TMO_WRAP_LEN];
    uint8_t cert[TMO_CERT_MAX_LEN];
    uint8_t manifest_bytes[TMO_BUNDLE_MAX_MANIFEST];
} tmo_bundle;

/*
 * Reads and checks everything but the payload bytes: header and section
 * layout, certificate, signature, manifest, expiry, security counter, target
 * requirements, and (for an encrypted bundle with env->device_key) that a
 * wrap for this device exists. env is only used during the call, except
 * env->counter which accept() uses later.
 * Returns TMO_OK or the error of the first failed check (see the list at the
 * top); a port error passes through unchanged.
 */
tmo_err tmo_bundle_verify(tmo_bundle *b, const tmo_port_reader *reader, const tmo_bundle_env *env,
                          tmo_diag *diag);

/*
 * Streams the stored payload through SHA-256 and compares it with the
 * manifest's payload digest, without decrypting (for a downloaded bundle kept
 * encrypted in flash). For a plain bundle this also proves the model digest.
 * TMO_EDIGEST on mismatch; TMO_ESTATE unless verified.
 */
tmo_err tmo_bundle_check_payload(tmo_bundle *b, tmo_diag *diag);

/*
 * Streams the payload into dest[0..payload_size): decrypts it when encrypted
 * (AES-256 in GCM's counter mode, with the content key unwrapped by the
 * device key) and checks both the stored-payload and the plaintext digests.
 * dest must be 4-byte aligned (16 recommended) for tmo_model_parse(). On any
 * failure dest[0..payload_size) is zeroed: nothing unchecked is left behind.
 * Returns TMO_OK, TMO_ENOSPC (dest_len too small), TMO_EKEY (no wrap for
 * this device, or the wrap does not open), TMO_EDIGEST, TMO_ESTATE, or a
 * reader error. Never writes the plaintext anywhere but dest.
 */
tmo_err tmo_bundle_load(tmo_bundle *b, void *dest, size_t dest_len, tmo_diag *diag);

/*
 * Accepts a bundle whose payload has been checked (check_payload or load):
 * advances the NV counter to the manifest's security counter when that is
 * higher. Call it once the new model is known good (e.g. after its trial).
 */
tmo_err tmo_bundle_accept(tmo_bundle *b, tmo_diag *diag);

/* Wipes b. Never fails. */
void tmo_bundle_close(tmo_bundle *b);

/* ---- format layer: parsers of untrusted bytes, also used by the host tools and the fuzzer ---- */

/* Decodes and checks a header against the object's size file_len [B-2]. */
tmo_err tmo_bundle_header_decode(tmo_bundle_header *h, const uint8_t bytes[TMO_BUNDLE_HEADER_SIZE],
                                 uint32_t file_len, tmo_diag *diag);

/*
 * Reads the section header at offset (8-aligned, inside the file) and checks
 * that its value and padding fit the file [B-3.1, B-3.2]. Does not read the
 * value, padding, or judge the order.
 */
tmo_err tmo_bundle_section_at(const tmo_port_reader *r, uint32_t offset, tmo_bundle_section *s,
                              tmo_diag *diag);

/* Offset of the section after s (value padded to 8 bytes). */
uint32_t tmo_bundle_section_next(const tmo_bundle_section *s);

/* Parses a MANIFEST value [B-4]. TMO_EBADBUNDLE naming the field. */
tmo_err tmo_bundle_manifest_parse(tmo_bundle_manifest *m, const uint8_t *bytes, size_t len,
                                  tmo_diag *diag);

/* Parses a CERT value [B-5.1] (structure only, no signature check). TMO_ECERT naming the field. */
tmo_err tmo_bundle_cert_parse(tmo_bundle_cert *c, const uint8_t *bytes, size_t len, tmo_diag *diag);

/* Parses a WRAP value [B-6.3]. TMO_EBADBUNDLE naming the field. */
tmo_err tmo_bundle_wrap_parse(tmo_bundle_wrap *w, const uint8_t *bytes, size_t len, tmo_diag *diag);

/* Whether name (1..64 bytes of [A-Za-z0-9._/-]) is a valid model name [B-4.4]. */
int tmo_bundle_name_valid(const char *name, size_t len);

/* Architecture i (0 <= i < arch_count) of a parsed manifest; NULL when out of range. */
const char *tmo_bundle_manifest_arch(const tmo_bundle_manifest *m, uint32_t i, uint32_t *len);

/* Key id of an uncompressed P-256 public key: SHA-256(key)[0..16) [B-5.2]. */
tmo_err tmo_bundle_key_id(const uint8_t key[TMO_P256_PUBLIC_KEY_LEN], uint8_t id[TMO_KEY_ID_LEN]);

#ifdef __cplusplus
}
#endif

#endif
