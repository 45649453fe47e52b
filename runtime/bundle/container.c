/*
 * The container layer of a bundle: the fixed header and the tagged section
 * headers [B-2, B-3], plus the small utilities every step shares (reading
 * through the port, constant-time compare, wiping). Everything here treats
 * the bytes as hostile: all arithmetic on offsets is done in 64 bits and
 * checked against the object's size before any read.
 */
#include <string.h>

#include "bundle_priv.h"
#include "../diag.h"

int bundle_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

void bundle_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}

tmo_err bundle_read(const tmo_port_reader *r, uint32_t offset, void *buf, size_t len,
                    tmo_diag *diag)
{
    if ((uint64_t)offset + len > r->size)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "bundle.length",
                        "bundle ends before a part it declares");
    tmo_err e = r->read(r->ctx, offset, buf, len);
    if (e != TMO_OK) {
        diag_set(diag, e, TMO_AT_NONE, -1, "port.reader", "reading the bundle failed");
        if (diag != NULL)
            diag->offset = offset;
    }
    return e;
}

static tmo_err bad_header(tmo_diag *diag, tmo_err e, const char *field, const char *problem)
{
    return diag_set(diag, e, TMO_AT_NONE, -1, field, problem);
}

tmo_err tmo_bundle_header_decode(tmo_bundle_header *h, const uint8_t bytes[TMO_BUNDLE_HEADER_SIZE],
                                 uint32_t file_len, tmo_diag *diag)
{
    if (h == NULL || bytes == NULL)
        return bad_header(diag, TMO_EINVAL, "header", "NULL argument");
    memcpy(h->magic, bytes, 4);
    h->format_version = le16(bytes + 4);
    h->header_size = le16(bytes + 6);
    h->total_length = le32(bytes + 8);
    h->section_count = le16(bytes + 12);
    h->flags = le16(bytes + 14);
    h->payload_offset = le32(bytes + 16);
    h->payload_length = le32(bytes + 20);
    h->reserved = le64(bytes + 24);

    if (!tmo_bytes_equal(h->magic, TMO_BUNDLE_MAGIC, 4))
        return bad_header(diag, TMO_EBADBUNDLE, "header.magic",
                          "not a tinymlops bundle (magic is not \"TMOB\")");
    if (h->format_version != TMO_BUNDLE_FORMAT_VERSION) {
        bad_header(diag, TMO_EUNSUPPORTED, "header.format_version",
                   "format version not supported by this build");
        diag_limit(diag, h->format_version, TMO_BUNDLE_FORMAT_VERSION);
        return TMO_EUNSUPPORTED;
    }
    if (h->header_size != TMO_BUNDLE_HEADER_SIZE)
        return bad_header(diag, TMO_EBADBUNDLE, "header.header_size",
                          "must be 32 in format version 1");
    if (h->total_length != file_len) {
        bad_header(diag, TMO_EBADBUNDLE, "header.total_length",
                   "does not match the size of the bundle (truncated or extended)");
        diag_limit(diag, file_len, h->total_length);
        return TMO_EBADBUNDLE;
    }
    if (h->section_count < 4)
        return bad_header(diag, TMO_EBADBUNDLE, "header.section_count",
                          "fewer than the 4 mandatory sections");
    if ((h->flags & ~TMO_BUNDLE_FLAG_ENCRYPTED) != 0)
        return bad_header(diag, TMO_EBADBUNDLE, "header.flags", "unknown flag set");
    if (h->reserved != 0)
        return bad_header(diag, TMO_EBADBUNDLE, "header.reserved", "must be zero");
    if (h->payload_offset % TMO_BUNDLE_PAYLOAD_ALIGN != 0 ||
        h->payload_offset < TMO_BUNDLE_HEADER_SIZE + 4 * TMO_BUNDLE_SECTION_HEADER_SIZE)
        return bad_header(diag, TMO_EBADBUNDLE, "header.payload_offset",
                          "not 16-aligned after the mandatory sections");
    if ((uint64_t)h->payload_offset + h->payload_length != file_len)
        return bad_header(diag, TMO_EBADBUNDLE, "header.payload_length",
                          "payload does not end the bundle");
    return TMO_OK;
}

static uint64_t align8(uint64_t v)
{
    return (v + (TMO_BUNDLE_SECTION_ALIGN - 1)) & ~(uint64_t)(TMO_BUNDLE_SECTION_ALIGN - 1);
}

tmo_err tmo_bundle_section_at(const tmo_port_reader *r, uint32_t offset, tmo_bundle_section *s,
                              tmo_diag *diag)
{
    uint8_t hdr[TMO_BUNDLE_SECTION_HEADER_SIZE];
    if (offset % TMO_BUNDLE_SECTION_ALIGN != 0 ||
        (uint64_t)offset + TMO_BUNDLE_SECTION_HEADER_SIZE > r->size)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "section",
                        "section header outside the bundle");
    tmo_err e = bundle_read(r, offset, hdr, sizeof hdr, diag);
    if (e != TMO_OK)
        return e;
    s->tag = le16(hdr);
    s->flags = le16(hdr + 2);
    s->length = le32(hdr + 4);
    s->offset = offset;
    if ((s->flags & ~TMO_SECTION_CRITICAL) != 0) {
        diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "section.flags",
                 "unknown section flag set");
        diag_value(diag, s->flags);
        return TMO_EBADBUNDLE;
    }
    uint64_t end = (uint64_t)offset + TMO_BUNDLE_SECTION_HEADER_SIZE + s->length;
    if (s->tag != TMO_SECTION_PAYLOAD)
        end = align8(end);
    if (end > r->size) {
        diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "section.length",
                 "section runs past the end of the bundle");
        diag_limit(diag, (int64_t)end, r->size);
        return TMO_EBADBUNDLE;
    }
    return TMO_OK;
}

uint32_t tmo_bundle_section_next(const tmo_bundle_section *s)
{
    return (uint32_t)align8((uint64_t)s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE + s->length);
}

static tmo_err mem_read(void *ctx, uint32_t offset, void *buf, size_t len)
{
    const tmo_port_mem *m = ctx;
    if ((uint64_t)offset + len > m->len)
        return TMO_PORT_ERANGE;
    memcpy(buf, m->bytes + offset, len);
    return TMO_OK;
}

tmo_err tmo_port_reader_mem(tmo_port_reader *r, tmo_port_mem *mem, const void *bytes, size_t len)
{
    if (r == NULL || mem == NULL || (bytes == NULL && len > 0) || len > UINT32_MAX)
        return TMO_EINVAL;
    mem->bytes = bytes;
    mem->len = (uint32_t)len;
    r->read = mem_read;
    r->ctx = mem;
    r->size = (uint32_t)len;
    return TMO_OK;
}
