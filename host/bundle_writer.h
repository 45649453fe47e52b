/*
 * Byte-level writer of the bundle format (host side): a growable buffer with
 * little-endian appends, manifest fields, padded sections, header encoding,
 * and (re)signing a bundle in place. The packer is built on it; tests use it
 * directly to write bundles that are wrong in exactly one chosen way and
 * still correctly signed, so they reach the check they target.
 */
#ifndef TMO_HOST_BUNDLE_WRITER_H
#define TMO_HOST_BUNDLE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "tinymlops/bundle.h"

typedef struct hb_buf {
    uint8_t *data;
    size_t len, cap;
    int failed; /* an allocation failed; the content is incomplete */
} hb_buf;

void hb_init(hb_buf *b);
void hb_free(hb_buf *b);
void hb_bytes(hb_buf *b, const void *p, size_t n);
void hb_zeros(hb_buf *b, size_t n);
void hb_u8(hb_buf *b, uint8_t v);
void hb_u16(hb_buf *b, uint16_t v);
void hb_u32(hb_buf *b, uint32_t v);
void hb_u64(hb_buf *b, uint64_t v);

/* Manifest field [B-4.2]: u16 id, u16 length, value. */
void hb_field(hb_buf *m, uint16_t id, const void *value, size_t len);
void hb_field_u64(hb_buf *m, uint16_t id, uint64_t v);
void hb_field_semver(hb_buf *m, uint16_t id, tmo_semver v);

/* Section [B-3.1]: header, value, zero padding to 8 (PAYLOAD is not padded). */
void hb_section(hb_buf *b, uint16_t tag, uint16_t flags, const void *value, size_t len);

/* Encodes a header into its 32 wire bytes [B-2]. */
void hb_header_encode(const tmo_bundle_header *h, uint8_t out[TMO_BUNDLE_HEADER_SIZE]);

/*
 * Signs bundle[0..len) in place: finds the SIGNATURE section by walking the
 * section headers and writes ECDSA(signer, SHA-256(bundle[0..sig_section)))
 * into its value [B-3.6]. 0 on success, -1 when no SIGNATURE section of 64
 * bytes is found or signing fails.
 */
int hb_sign(uint8_t *bundle, size_t len, const host_key *signer);

/* Finds the first section with tag; fills *s. 0 when found. (Walks headers only.) */
int hb_find_section(const uint8_t *bundle, size_t len, uint16_t tag, tmo_bundle_section *s);

#endif
