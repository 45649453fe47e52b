/*
 * Parser of the MANIFEST section [B-4]: a list of (u16 id, u16 length,
 * value) fields in strictly ascending id order. Binary rather than JSON
 * because the device parses it: every field has a fixed size or a tight
 * bound, so the parser is short and needs no memory of its own.
 */
#include <string.h>

#include "bundle_priv.h"
#include "../diag.h"

static tmo_err bad(tmo_diag *diag, const char *field, const char *problem)
{
    return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, field, problem);
}

static int name_char(uint8_t c, int allow_slash)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || (allow_slash && c == '/');
}

int tmo_bundle_name_valid(const char *name, size_t len)
{
    if (name == NULL || len == 0 || len > TMO_BUNDLE_MAX_NAME)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!name_char((uint8_t)name[i], 1))
            return 0;
    return 1;
}

static void semver(const uint8_t *p, tmo_semver *v)
{
    v->major = le16(p);
    v->minor = le16(p + 2);
    v->patch = le16(p + 4);
}

/* ARCH: 1..8 entries of (u8 length 1..32, [A-Za-z0-9._-]) filling the field exactly. */
static tmo_err parse_arch(tmo_bundle_manifest *m, const uint8_t *v, uint32_t len, tmo_diag *diag)
{
    uint32_t pos = 0, count = 0;
    while (pos < len) {
        uint32_t n = v[pos++];
        if (n == 0 || n > TMO_BUNDLE_MAX_ARCH || n > len - pos)
            return bad(diag, "manifest.arch", "architecture name length out of range");
        for (uint32_t i = 0; i < n; i++)
            if (!name_char(v[pos + i], 0))
                return bad(diag, "manifest.arch",
                           "architecture name has a character outside [A-Za-z0-9._-]");
        pos += n;
        if (++count > TMO_BUNDLE_MAX_ARCHES)
            return bad(diag, "manifest.arch", "more than 8 architectures");
    }
    if (count == 0)
        return bad(diag, "manifest.arch", "empty list (omit the field to allow any architecture)");
    m->arch_list = v;
    m->arch_list_len = len;
    m->arch_count = (uint8_t)count;
    return TMO_OK;
}

static tmo_err parse_ops(tmo_bundle_manifest *m, const uint8_t *v, uint32_t len, tmo_diag *diag)
{
    if (len % 2 != 0)
        return bad(diag, "manifest.ops", "length is not a multiple of 2");
    for (uint32_t i = 2; i < len; i += 2)
        if (le16(v + i) <= le16(v + i - 2))
            return bad(diag, "manifest.ops", "operator codes not strictly ascending");
    m->ops_le = v;
    m->op_count = len / 2;
    return TMO_OK;
}

static tmo_err parse_encryption(tmo_bundle_manifest *m, const uint8_t *v, uint32_t len,
                                tmo_diag *diag)
{
    if (len < 1)
        return bad(diag, "manifest.encryption", "empty field");
    m->encryption = v[0];
    if (v[0] == TMO_ENC_NONE) {
        if (len != 1)
            return bad(diag, "manifest.encryption", "length must be 1 for an unencrypted payload");
        return TMO_OK;
    }
    if (v[0] != TMO_ENC_AES256_GCM)
        return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "manifest.encryption",
                        "unknown payload encryption algorithm");
    if (len != 1 + TMO_GCM_NONCE_LEN + TMO_GCM_TAG_LEN)
        return bad(diag, "manifest.encryption", "length must be 29 for AES-256-GCM");
    m->nonce = v + 1;
    m->tag = v + 1 + TMO_GCM_NONCE_LEN;
    return TMO_OK;
}

/* Fixed size of each known field, 0 for variable-size ones. */
static uint32_t fixed_size(uint16_t id)
{
    switch (id) {
    case TMO_MF_VERSION:
    case TMO_MF_MIN_RUNTIME:
    case TMO_MF_COUNTER:
    case TMO_MF_CREATED:
    case TMO_MF_EXPIRES:
    case TMO_MF_ARENA_BYTES:
    case TMO_MF_FLASH_BYTES:
    case TMO_MF_PAYLOAD_SIZE:
        return 8;
    case TMO_MF_PAYLOAD_DIGEST:
    case TMO_MF_MODEL_DIGEST:
        return TMO_SHA256_LEN;
    default:
        return 0;
    }
}

static const char *field_name(uint16_t id)
{
    switch (id) {
    case TMO_MF_NAME:
        return "manifest.name";
    case TMO_MF_VERSION:
        return "manifest.version";
    case TMO_MF_COUNTER:
        return "manifest.security_counter";
    case TMO_MF_CREATED:
        return "manifest.created";
    case TMO_MF_EXPIRES:
        return "manifest.expires";
    case TMO_MF_ARCH:
        return "manifest.arch";
    case TMO_MF_MIN_RUNTIME:
        return "manifest.min_runtime";
    case TMO_MF_ARENA_BYTES:
        return "manifest.arena_bytes";
    case TMO_MF_FLASH_BYTES:
        return "manifest.flash_bytes";
    case TMO_MF_OPS:
        return "manifest.ops";
    case TMO_MF_PAYLOAD_SIZE:
        return "manifest.payload_size";
    case TMO_MF_PAYLOAD_DIGEST:
        return "manifest.payload_digest";
    case TMO_MF_MODEL_DIGEST:
        return "manifest.model_digest";
    case TMO_MF_ENCRYPTION:
        return "manifest.encryption";
    default:
        return "manifest.field";
    }
}

static tmo_err parse_field(tmo_bundle_manifest *m, uint16_t id, const uint8_t *v, uint32_t len,
                           tmo_diag *diag)
{
    uint32_t want = fixed_size(id);
    if (want != 0 && len != want) {
        bad(diag, field_name(id), "wrong length");
        diag_limit(diag, len, want);
        return TMO_EBADBUNDLE;
    }
    switch (id) {
    case TMO_MF_NAME:
        if (!tmo_bundle_name_valid((const char *)v, len))
            return bad(diag, "manifest.name", "must be 1-64 characters of [A-Za-z0-9._/-]");
        m->name = (const char *)v;
        m->name_len = len;
        return TMO_OK;
    case TMO_MF_VERSION:
    case TMO_MF_MIN_RUNTIME:
        if (le16(v + 6) != 0)
            return bad(diag, field_name(id), "reserved bytes must be zero");
        semver(v, id == TMO_MF_VERSION ? &m->version : &m->min_runtime);
        return TMO_OK;
    case TMO_MF_COUNTER:
        m->counter = le64(v);
        return TMO_OK;
    case TMO_MF_CREATED:
        m->created = le64(v);
        return TMO_OK;
    case TMO_MF_EXPIRES:
        m->expires = le64(v);
        m->has_expires = 1;
        return TMO_OK;
    case TMO_MF_ARCH:
        return parse_arch(m, v, len, diag);
    case TMO_MF_ARENA_BYTES:
        m->arena_bytes = le64(v);
        return TMO_OK;
    case TMO_MF_FLASH_BYTES:
        m->flash_bytes = le64(v);
        return TMO_OK;
    case TMO_MF_OPS:
        return parse_ops(m, v, len, diag);
    case TMO_MF_PAYLOAD_SIZE:
        m->payload_size = le64(v);
        return TMO_OK;
    case TMO_MF_PAYLOAD_DIGEST:
        m->payload_digest = v;
        return TMO_OK;
    case TMO_MF_MODEL_DIGEST:
        m->model_digest = v;
        return TMO_OK;
    case TMO_MF_ENCRYPTION:
        return parse_encryption(m, v, len, diag);
    default:
        if (id & TMO_MF_OPTIONAL)
            return TMO_OK; /* [B-4.2] optional field of a newer format: skip */
        diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "manifest.field",
                 "unknown mandatory manifest field");
        diag_value(diag, id);
        return TMO_EUNSUPPORTED;
    }
}

/* Bit of a known field id in the "seen" mask (known ids are below 64). */
static uint64_t seen_bit(uint16_t id)
{
    return id < 64 ? (uint64_t)1 << id : 0;
}

/* Every required field [B-4.3] was present. */
static tmo_err check_required(uint64_t seen, tmo_diag *diag)
{
    static const uint16_t required[] = {
        TMO_MF_NAME,         TMO_MF_VERSION,        TMO_MF_COUNTER,      TMO_MF_CREATED,
        TMO_MF_MIN_RUNTIME,  TMO_MF_ARENA_BYTES,    TMO_MF_FLASH_BYTES,  TMO_MF_OPS,
        TMO_MF_PAYLOAD_SIZE, TMO_MF_PAYLOAD_DIGEST, TMO_MF_MODEL_DIGEST, TMO_MF_ENCRYPTION};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if ((seen & seen_bit(required[i])) == 0)
            return bad(diag, field_name(required[i]), "required field missing");
    return TMO_OK;
}

tmo_err tmo_bundle_manifest_parse(tmo_bundle_manifest *m, const uint8_t *bytes, size_t len,
                                  tmo_diag *diag)
{
    if (m == NULL || (bytes == NULL && len > 0))
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "manifest", "NULL argument");
    memset(m, 0, sizeof *m);
    if (len > TMO_BUNDLE_MAX_MANIFEST)
        return bad(diag, "manifest", "larger than TMO_BUNDLE_MAX_MANIFEST");
    uint32_t pos = 0;
    uint64_t seen = 0;
    int32_t last = -1;
    while (pos < len) {
        if (len - pos < 4)
            return bad(diag, "manifest", "truncated field header");
        uint16_t id = le16(bytes + pos), flen = le16(bytes + pos + 2);
        pos += 4;
        if (flen > len - pos)
            return bad(diag, field_name(id), "field runs past the end of the manifest");
        if ((int32_t)id <= last)
            return bad(diag, field_name(id),
                       "fields not in strictly ascending id order (or repeated)");
        last = id;
        tmo_err e = parse_field(m, id, bytes + pos, flen, diag);
        if (e != TMO_OK)
            return e;
        seen |= seen_bit(id);
        pos += flen;
    }
    tmo_err e = check_required(seen, diag);
    if (e != TMO_OK)
        return e;
    if (m->has_expires && m->expires <= m->created)
        return bad(diag, "manifest.expires", "not after the creation time");
    if (m->payload_size > UINT32_MAX)
        return bad(diag, "manifest.payload_size", "larger than a bundle can hold");
    if (m->encryption == TMO_ENC_NONE &&
        !bundle_ct_equal(m->payload_digest, m->model_digest, TMO_SHA256_LEN))
        return bad(diag, "manifest.model_digest",
                   "differs from the payload digest of an unencrypted payload");
    return TMO_OK;
}

const char *tmo_bundle_manifest_arch(const tmo_bundle_manifest *m, uint32_t i, uint32_t *len)
{
    if (m == NULL || i >= m->arch_count)
        return NULL;
    uint32_t pos = 0;
    for (uint32_t k = 0; k < i; k++)
        pos += 1u + m->arch_list[pos];
    if (len != NULL)
        *len = m->arch_list[pos];
    return (const char *)m->arch_list + pos + 1;
}
