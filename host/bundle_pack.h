/*
 * The bundle packer: a .tflite model plus its manifest, certificate, key
 * wraps and signature, laid out as docs/bundle-format.md specifies. The
 * arena size and operator list come from the runtime's own parser and
 * planner, so the target requirements are exactly what the device checks.
 */
#ifndef TMO_HOST_BUNDLE_PACK_H
#define TMO_HOST_BUNDLE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "tinymlops/bundle.h"

/* An extension section to add between the wraps and the signature (for later issues and tests). */
typedef struct hb_extra_section {
    uint16_t tag, flags;
    const void *value;
    size_t len;
} hb_extra_section;

typedef struct host_pack_in {
    const uint8_t *model; /* the plaintext .tflite */
    size_t model_len;
    const char *name; /* [B-4.4] */
    tmo_semver version;
    uint64_t counter;
    uint64_t created;          /* Unix seconds; 0 = now */
    uint64_t expires;          /* Unix seconds; 0 = never */
    const char *const *arches; /* target architectures; none = any */
    size_t arch_count;
    tmo_semver min_runtime; /* {0,0,0} = this runtime's version */
    uint64_t arena_bytes;   /* 0 = computed by the planner */
    const host_key *signer; /* signing key with its private part */
    const uint8_t *cert;    /* certificate of signer's public key */
    size_t cert_len;
    const uint8_t (*recipients)[TMO_P256_PUBLIC_KEY_LEN]; /* encrypt for these keys; none = plain */
    size_t recipient_count;
    const hb_extra_section *extra;
    size_t extra_count;
} host_pack_in;

/*
 * Packs a bundle into *out (malloc'ed, free with free()). Returns 0, or -1
 * with a message in err (model not parseable or not plannable, bad name or
 * version, certificate not for the signing key / prefix / time, ...).
 */
int host_bundle_pack(const host_pack_in *in, uint8_t **out, size_t *out_len, char *err,
                     size_t err_len);

/* Parses "X.Y.Z" (each 0..65535). 0 on success. */
int host_parse_semver(const char *text, tmo_semver *v);

#endif
