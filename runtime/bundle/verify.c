/*
 * tmo_bundle_verify(): everything about a bundle except its payload bytes.
 *
 * One pass over the sections through the reader port checks their layout
 * [B-3] and hashes the signed part (every byte before the SIGNATURE section)
 * while keeping only what later steps need in the tmo_bundle: the manifest,
 * the certificate and this device's key wrap. Only once the signature holds
 * are the manifest's fields interpreted [B-7.1]; the payload is left for
 * tmo_bundle_load() / tmo_bundle_check_payload().
 */
#include <string.h>

#include <psa/crypto.h>

#include "bundle_priv.h"
#include "../diag.h"

/* Where the walk is in the mandatory order [B-3.4]. */
enum { WANT_MANIFEST, WANT_CERT, IN_WRAPS, IN_EXTENSIONS, WANT_PAYLOAD, DONE };

typedef struct {
    tmo_bundle *b;
    psa_hash_operation_t *hash;
    const uint8_t *device_id; /* key id of the device key, or NULL */
    uint8_t sig[TMO_P256_SIGNATURE_LEN];
    uint32_t wraps;
    uint32_t manifest_len, cert_len;
    int phase;
    uint8_t chunk[TMO_BUNDLE_CHUNK];
} walk;

static tmo_err section_fail(tmo_diag *diag, tmo_err e, uint32_t idx, const tmo_bundle_section *s,
                            const char *field, const char *problem)
{
    diag_set(diag, e, TMO_AT_SECTION, (int32_t)idx, field, problem);
    if (diag != NULL) {
        diag->offset = s->offset;
        diag->value = s->tag;
        diag->has_value = 1;
    }
    return e;
}

static tmo_err hash_update(walk *w, const uint8_t *p, size_t n)
{
    return psa_hash_update(w->hash, p, n) == PSA_SUCCESS ? TMO_OK : TMO_EUNSUPPORTED;
}

/* Hashes bytes [off, off+len) of the bundle; with zero_only, they must all be zero [B-3.2]. */
static tmo_err hash_range(walk *w, uint32_t off, uint32_t len, int zero_only, tmo_diag *diag)
{
    while (len > 0) {
        uint32_t n = len < sizeof w->chunk ? len : (uint32_t)sizeof w->chunk;
        tmo_err e = bundle_read(&w->b->reader, off, w->chunk, n, diag);
        if (e != TMO_OK)
            return e;
        if (zero_only)
            for (uint32_t i = 0; i < n; i++)
                if (w->chunk[i] != 0)
                    return TMO_ERANGE; /* caller names the section */
        if ((e = hash_update(w, w->chunk, n)) != TMO_OK)
            return e;
        off += n;
        len -= n;
    }
    return TMO_OK;
}

/* Reads a value the verifier keeps (manifest, cert, wrap) into dst and hashes it. */
static tmo_err keep_value(walk *w, const tmo_bundle_section *s, uint8_t *dst, tmo_diag *diag)
{
    tmo_err e = bundle_read(&w->b->reader, s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE, dst,
                            s->length, diag);
    return e != TMO_OK ? e : hash_update(w, dst, s->length);
}

static tmo_err take_wrap(walk *w, const tmo_bundle_section *s, tmo_diag *diag)
{
    uint8_t buf[TMO_WRAP_LEN];
    tmo_err e = keep_value(w, s, buf, diag);
    if (e != TMO_OK)
        return e;
    w->wraps++;
    /* [B-6.2] the first wrap whose recipient id matches the device key is used. */
    if (w->device_id != NULL && !w->b->has_wrap &&
        bundle_ct_equal(buf + 1, w->device_id, TMO_KEY_ID_LEN)) {
        memcpy(w->b->wrap, buf, sizeof buf);
        w->b->has_wrap = 1;
    }
    return TMO_OK;
}

/* A section of the signed part: its header, value (kept or streamed) and zero padding. */
static tmo_err signed_section(walk *w, uint32_t idx, const tmo_bundle_section *s,
                              const uint8_t hdr[8], tmo_diag *diag)
{
    tmo_bundle *b = w->b;
    uint32_t value = s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE;
    tmo_err e = hash_update(w, hdr, TMO_BUNDLE_SECTION_HEADER_SIZE);
    if (e != TMO_OK)
        return e;
    switch (s->tag) {
    case TMO_SECTION_MANIFEST:
        w->manifest_len = s->length;
        e = keep_value(w, s, b->manifest_bytes, diag);
        break;
    case TMO_SECTION_CERT:
        w->cert_len = s->length;
        e = keep_value(w, s, b->cert, diag);
        break;
    case TMO_SECTION_WRAP:
        e = take_wrap(w, s, diag);
        break;
    default:
        e = hash_range(w, value, s->length, s->tag == TMO_SECTION_PAD, diag);
        if (e == TMO_ERANGE)
            return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.value",
                                "PAD section holds a non-zero byte");
        break;
    }
    if (e != TMO_OK)
        return e;
    uint32_t end = value + s->length;
    e = hash_range(w, end, tmo_bundle_section_next(s) - end, 1, diag);
    if (e == TMO_ERANGE)
        return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.padding",
                            "padding byte is not zero");
    return e;
}

/* Checks where section idx may appear and its size, and advances the phase [B-3.4, B-3.5]. */
static tmo_err check_order(walk *w, uint32_t idx, const tmo_bundle_section *s, tmo_diag *diag)
{
    const tmo_bundle_header *h = &w->b->header;
    int last = idx + 1u == h->section_count;
    int known = 1;
    uint32_t max = UINT32_MAX;
    int next = w->phase;
    switch (s->tag) {
    case TMO_SECTION_MANIFEST:
        if (w->phase != WANT_MANIFEST)
            known = 0;
        max = TMO_BUNDLE_MAX_MANIFEST;
        next = WANT_CERT;
        break;
    case TMO_SECTION_CERT:
        if (w->phase != WANT_CERT)
            known = 0;
        max = TMO_CERT_MAX_LEN;
        next = IN_WRAPS;
        break;
    case TMO_SECTION_WRAP:
        if (w->phase != IN_WRAPS)
            known = 0;
        break;
    case TMO_SECTION_SIGNATURE:
        if (w->phase != IN_WRAPS && w->phase != IN_EXTENSIONS)
            known = 0;
        next = WANT_PAYLOAD;
        break;
    case TMO_SECTION_PAYLOAD:
        if (w->phase != WANT_PAYLOAD || !last)
            known = 0;
        next = DONE;
        break;
    default: /* PAD, PROFILE, KAT and sections of newer formats */
        if (w->phase != IN_WRAPS && w->phase != IN_EXTENSIONS)
            return section_fail(
                diag, TMO_EBADBUNDLE, idx, s, "section.order",
                "extension section outside the place between CERT/WRAP and SIGNATURE");
        if (s->tag == TMO_SECTION_PAD && s->flags != 0)
            return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.flags",
                                "PAD section must not be critical");
        /* [B-3.7] this version implements no extension's content (PROFILE and KAT are only located). */
        if (s->flags & TMO_SECTION_CRITICAL)
            return section_fail(
                diag, TMO_EUNSUPPORTED, idx, s, "section.tag",
                "critical section this reader does not implement (made for a newer reader)");
        w->phase = IN_EXTENSIONS;
        return last ? section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.order",
                                   "last section must be PAYLOAD")
                    : TMO_OK;
    }
    if (!known)
        return section_fail(
            diag, TMO_EBADBUNDLE, idx, s, "section.order",
            "section out of order (MANIFEST, CERT, WRAP..., extensions, SIGNATURE, PAYLOAD)");
    if (s->flags != TMO_SECTION_CRITICAL)
        return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.flags",
                            "mandatory section not marked critical");
    if (s->length > max || (s->tag == TMO_SECTION_WRAP && s->length != TMO_WRAP_LEN) ||
        (s->tag == TMO_SECTION_SIGNATURE && s->length != TMO_P256_SIGNATURE_LEN))
        return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.length",
                            "wrong size for this section");
    if (s->tag == TMO_SECTION_PAYLOAD &&
        (s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE != h->payload_offset ||
         s->length != h->payload_length))
        return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.payload",
                            "PAYLOAD section disagrees with the header's payload offset/length");
    if (last && s->tag != TMO_SECTION_PAYLOAD)
        return section_fail(diag, TMO_EBADBUNDLE, idx, s, "section.order",
                            "last section must be PAYLOAD");
    w->phase = next;
    return TMO_OK;
}

static void note_extension(tmo_bundle *b, const tmo_bundle_section *s)
{
    uint32_t value = s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE;
    if (s->tag == TMO_SECTION_PROFILE && b->profile_offset == 0) {
        b->profile_offset = value;
        b->profile_length = s->length;
    } else if (s->tag == TMO_SECTION_KAT && b->kat_offset == 0) {
        b->kat_offset = value;
        b->kat_length = s->length;
    }
}

/* Walks all sections; on success the signed-part hash is in digest and the signature in w->sig. */
static tmo_err walk_sections(walk *w, uint8_t digest[TMO_SHA256_LEN], tmo_diag *diag)
{
    tmo_bundle *b = w->b;
    uint8_t hdr[TMO_BUNDLE_HEADER_SIZE];
    tmo_err e = bundle_read(&b->reader, 0, hdr, sizeof hdr, diag);
    if (e != TMO_OK)
        return e;
    if ((e = hash_update(w, hdr, sizeof hdr)) != TMO_OK)
        return e;
    uint32_t offset = TMO_BUNDLE_HEADER_SIZE;
    for (uint32_t idx = 0; idx < b->header.section_count; idx++) {
        tmo_bundle_section s;
        if ((e = tmo_bundle_section_at(&b->reader, offset, &s, diag)) != TMO_OK) {
            if (diag != NULL && diag->err == e && e == TMO_EBADBUNDLE) {
                diag->where = TMO_AT_SECTION;
                diag->index = (int32_t)idx;
                diag->offset = offset;
            }
            return e;
        }
        if ((e = check_order(w, idx, &s, diag)) != TMO_OK)
            return e;
        if (s.tag == TMO_SECTION_SIGNATURE) {
            size_t n = 0;
            if (psa_hash_finish(w->hash, digest, TMO_SHA256_LEN, &n) != PSA_SUCCESS)
                return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "hash", "SHA-256 failed");
            e = bundle_read(&b->reader, offset + TMO_BUNDLE_SECTION_HEADER_SIZE, w->sig,
                            sizeof w->sig, diag);
        } else if (s.tag != TMO_SECTION_PAYLOAD) {
            uint8_t sh[TMO_BUNDLE_SECTION_HEADER_SIZE];
            e = bundle_read(&b->reader, offset, sh, sizeof sh, diag);
            if (e == TMO_OK)
                e = signed_section(w, idx, &s, sh, diag);
            note_extension(b, &s);
        }
        if (e != TMO_OK)
            return e;
        offset = tmo_bundle_section_next(&s);
    }
    return TMO_OK;
}

static tmo_err read_clock(const tmo_bundle_env *env, uint64_t *now, int *has_now, tmo_diag *diag)
{
    *has_now = 0;
    *now = 0;
    if (env->clock == NULL)
        return TMO_OK;
    tmo_err e = env->clock->now(env->clock->ctx, now);
    if (e != TMO_OK)
        return diag_set(diag, e, TMO_AT_NONE, -1, "port.clock", "reading the clock failed");
    *has_now = 1;
    return TMO_OK;
}

/* Certificate, signature, manifest and its agreement with the container [B-7.1, B-7.2]. */
static tmo_err authenticate(walk *w, const tmo_bundle_env *env,
                            const uint8_t digest[TMO_SHA256_LEN], uint64_t now, int has_now,
                            tmo_diag *diag)
{
    tmo_bundle *b = w->b;
    tmo_bundle_cert cert;
    tmo_err e = tmo_bundle_cert_parse(&cert, b->cert, w->cert_len, diag);
    if (e == TMO_OK)
        e = bundle_cert_check(&cert, env, now, has_now, diag);
    if (e != TMO_OK)
        return e;
    volatile uint32_t signed_ok = bundle_verify_hash(cert.subject_key, digest, w->sig, &e);
    if (e == TMO_EINVAL)
        return diag_set(diag, TMO_ECERT, TMO_AT_NONE, -1, "cert.subject_key",
                        "not a valid P-256 public key");
    if (!bundle_sig_valid(&signed_ok))
        return diag_set(diag, TMO_EBADSIG, TMO_AT_NONE, -1, "signature",
                        "bundle signature does not verify with the certified signing key");
    memcpy(b->signer_id, cert.subject_id, TMO_KEY_ID_LEN);

    tmo_bundle_manifest *m = &b->manifest;
    if ((e = tmo_bundle_manifest_parse(m, b->manifest_bytes, w->manifest_len, diag)) != TMO_OK)
        return e;
    if (m->name_len < cert.prefix_len || !tmo_bytes_equal(m->name, cert.prefix, cert.prefix_len))
        return diag_set(diag, TMO_ECERT, TMO_AT_NONE, -1, "cert.prefix",
                        "model name is outside the model prefix the signing key is certified for");
    if (m->payload_size != b->header.payload_length)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "manifest.payload_size",
                        "differs from the payload length in the header");
    int encrypted = m->encryption != TMO_ENC_NONE;
    if (encrypted != ((b->header.flags & TMO_BUNDLE_FLAG_ENCRYPTED) != 0))
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "header.flags",
                        "encrypted flag disagrees with the manifest's encryption");
    if (encrypted && w->wraps == 0)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "wrap",
                        "encrypted payload without any key wrap");
    if (!encrypted && w->wraps != 0)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "wrap",
                        "key wraps in a bundle whose payload is not encrypted");
    return TMO_OK;
}

tmo_err tmo_bundle_verify(tmo_bundle *b, const tmo_port_reader *reader, const tmo_bundle_env *env,
                          tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (b == NULL || reader == NULL || reader->read == NULL || env == NULL ||
        env->counter == NULL || env->counter->read == NULL ||
        (env->roots == NULL && env->root_count > 0))
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "bundle", "NULL argument or port");
    memset(b, 0, sizeof *b);
    b->reader = *reader;
    b->counter = env->counter;
    b->device_key = env->device_key;
    if (psa_crypto_init() != PSA_SUCCESS)
        return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "psa", "psa_crypto_init failed");

    uint8_t hdr[TMO_BUNDLE_HEADER_SIZE];
    if (reader->size < TMO_BUNDLE_HEADER_SIZE)
        return diag_set(diag, TMO_EBADBUNDLE, TMO_AT_NONE, -1, "header",
                        "shorter than a bundle header");
    tmo_err e = bundle_read(reader, 0, hdr, sizeof hdr, diag);
    if (e == TMO_OK)
        e = tmo_bundle_header_decode(&b->header, hdr, reader->size, diag);
    if (e != TMO_OK)
        return e;

    uint8_t device_id[TMO_KEY_ID_LEN];
    if (env->device_key != 0 && bundle_device_key_id(env->device_key, device_id) != TMO_OK)
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "device_key",
                        "cannot read the device key's public half");

    psa_hash_operation_t hash = PSA_HASH_OPERATION_INIT;
    walk w;
    memset(&w, 0, sizeof w);
    w.b = b;
    w.hash = &hash;
    w.device_id = env->device_key != 0 ? device_id : NULL;
    w.phase = WANT_MANIFEST;
    uint8_t digest[TMO_SHA256_LEN];
    if (psa_hash_setup(&hash, PSA_ALG_SHA_256) != PSA_SUCCESS)
        return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "hash", "SHA-256 not available");
    e = walk_sections(&w, digest, diag);
    psa_hash_abort(&hash);
    if (e != TMO_OK)
        return e;

    uint64_t now;
    int has_now;
    if ((e = read_clock(env, &now, &has_now, diag)) != TMO_OK)
        return e;
    if ((e = authenticate(&w, env, digest, now, has_now, diag)) != TMO_OK)
        return e;
    if ((e = bundle_policy_check(b, env, now, has_now, diag)) != TMO_OK)
        return e;
    if (b->manifest.encryption != TMO_ENC_NONE && env->device_key != 0 && !b->has_wrap)
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "wrap.recipient",
                        "no key wrap for this device's key");
    b->state = TMO_BUNDLE_VERIFIED;
    return TMO_OK;
}
