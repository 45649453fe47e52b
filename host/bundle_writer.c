/*
 * Byte-level writer of the bundle format (see bundle_writer.h).
 */
#include "bundle_writer.h"

#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

void hb_init(hb_buf *b)
{
    memset(b, 0, sizeof *b);
}

void hb_free(hb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(hb_buf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void hb_bytes(hb_buf *b, const void *p, size_t n)
{
    if (n > 0 && reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

void hb_zeros(hb_buf *b, size_t n)
{
    if (n > 0 && reserve(b, n)) {
        memset(b->data + b->len, 0, n);
        b->len += n;
    }
}

static void le(hb_buf *b, uint64_t v, int bytes)
{
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    hb_bytes(b, tmp, (size_t)bytes);
}

void hb_u8(hb_buf *b, uint8_t v)
{
    le(b, v, 1);
}
void hb_u16(hb_buf *b, uint16_t v)
{
    le(b, v, 2);
}
void hb_u32(hb_buf *b, uint32_t v)
{
    le(b, v, 4);
}
void hb_u64(hb_buf *b, uint64_t v)
{
    le(b, v, 8);
}

void hb_field(hb_buf *m, uint16_t id, const void *value, size_t len)
{
    hb_u16(m, id);
    hb_u16(m, (uint16_t)len);
    hb_bytes(m, value, len);
}

void hb_field_u64(hb_buf *m, uint16_t id, uint64_t v)
{
    hb_u16(m, id);
    hb_u16(m, 8);
    hb_u64(m, v);
}

void hb_field_semver(hb_buf *m, uint16_t id, tmo_semver v)
{
    hb_u16(m, id);
    hb_u16(m, 8);
    hb_u16(m, v.major);
    hb_u16(m, v.minor);
    hb_u16(m, v.patch);
    hb_u16(m, 0);
}

void hb_section(hb_buf *b, uint16_t tag, uint16_t flags, const void *value, size_t len)
{
    hb_u16(b, tag);
    hb_u16(b, flags);
    hb_u32(b, (uint32_t)len);
    hb_bytes(b, value, len);
    if (tag != TMO_SECTION_PAYLOAD)
        hb_zeros(b, (TMO_BUNDLE_SECTION_ALIGN - len % TMO_BUNDLE_SECTION_ALIGN) %
                        TMO_BUNDLE_SECTION_ALIGN);
}

void hb_header_encode(const tmo_bundle_header *h, uint8_t out[TMO_BUNDLE_HEADER_SIZE])
{
    hb_buf b;
    hb_init(&b);
    hb_bytes(&b, h->magic, 4);
    hb_u16(&b, h->format_version);
    hb_u16(&b, h->header_size);
    hb_u32(&b, h->total_length);
    hb_u16(&b, h->section_count);
    hb_u16(&b, h->flags);
    hb_u32(&b, h->payload_offset);
    hb_u32(&b, h->payload_length);
    hb_u64(&b, h->reserved);
    memset(out, 0, TMO_BUNDLE_HEADER_SIZE);
    if (!b.failed)
        memcpy(out, b.data, TMO_BUNDLE_HEADER_SIZE);
    hb_free(&b);
}

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

int hb_find_section(const uint8_t *bundle, size_t len, uint16_t tag, tmo_bundle_section *s)
{
    if (len < TMO_BUNDLE_HEADER_SIZE)
        return -1;
    uint32_t count = rd16(bundle + 12);
    uint64_t off = TMO_BUNDLE_HEADER_SIZE;
    for (uint32_t i = 0; i < count && off + 8 <= len; i++) {
        s->tag = (uint16_t)rd16(bundle + off);
        s->flags = (uint16_t)rd16(bundle + off + 2);
        s->length = rd32(bundle + off + 4);
        s->offset = (uint32_t)off;
        if (s->tag == tag)
            return off + 8 + s->length <= len ? 0 : -1;
        off = (off + 8 + s->length + 7) & ~(uint64_t)7;
    }
    return -1;
}

int hb_sign(uint8_t *bundle, size_t len, const host_key *signer)
{
    tmo_bundle_section s;
    if (hb_find_section(bundle, len, TMO_SECTION_SIGNATURE, &s) != 0 ||
        s.length != TMO_P256_SIGNATURE_LEN)
        return -1;
    uint8_t hash[TMO_SHA256_LEN];
    size_t n = 0;
    if (psa_crypto_init() != PSA_SUCCESS ||
        psa_hash_compute(PSA_ALG_SHA_256, bundle, s.offset, hash, sizeof hash, &n) != PSA_SUCCESS)
        return -1;
    return host_key_sign_hash(signer, hash, bundle + s.offset + TMO_BUNDLE_SECTION_HEADER_SIZE);
}
