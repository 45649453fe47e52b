/*
 * The payload step [B-8]: stream the payload from the reader through
 * SHA-256 and, when encrypted, AES-256-CTR into the caller's model slot, and
 * accept nothing until both digests match.
 *
 * Why CTR and not GCM on the device: mbedTLS 2.28 implements only one-shot
 * psa_aead_* calls, which would need the whole payload in RAM twice. GCM's
 * ciphertext is AES-CTR with the counter block nonce || 00000002, so the
 * device decrypts exactly the same bytes with multi-part psa_cipher_*; the
 * integrity GCM's tag would give comes instead from the signed digests of
 * both the ciphertext and the plaintext. Host tools also check the tag.
 */
#include <string.h>

#include <psa/crypto.h>

#include "bundle_priv.h"
#include "../diag.h"

typedef struct {
    psa_hash_operation_t stored; /* over the payload as stored */
    psa_hash_operation_t plain;  /* over the plaintext (encrypted payloads) */
    psa_cipher_operation_t cipher;
    uint8_t chunk[TMO_BUNDLE_CHUNK];
} stream;

static tmo_err psa_fail(tmo_diag *diag, const char *what)
{
    return diag_set(diag, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "psa", what);
}

static void stream_end(stream *s)
{
    psa_hash_abort(&s->stored);
    psa_hash_abort(&s->plain);
    psa_cipher_abort(&s->cipher);
    bundle_wipe(s->chunk, sizeof s->chunk);
}

/* Compares a finished hash with the manifest's digest [B-8.2]. */
static tmo_err check_digest(psa_hash_operation_t *h, const uint8_t *want, const char *field,
                            tmo_diag *diag)
{
    uint8_t got[TMO_SHA256_LEN];
    size_t n = 0;
    if (psa_hash_finish(h, got, sizeof got, &n) != PSA_SUCCESS || n != sizeof got)
        return psa_fail(diag, "SHA-256 failed");
    if (!bundle_ct_equal(got, want, sizeof got))
        return diag_set(diag, TMO_EDIGEST, TMO_AT_NONE, -1, field,
                        "bytes do not match the signed digest");
    return TMO_OK;
}

/* Unwraps this device's content key [B-6.4]; done before streaming so the two never share a stack. */
static tmo_err content_key(tmo_bundle *b, psa_key_id_t *key, tmo_diag *diag)
{
    tmo_bundle_wrap w;
    uint32_t id = 0;
    if (b->device_key == 0 || !b->has_wrap)
        return diag_set(diag, TMO_EKEY, TMO_AT_NONE, -1, "wrap.recipient",
                        "no key wrap for this device's key");
    tmo_err e = tmo_bundle_wrap_parse(&w, b->wrap, sizeof b->wrap, diag);
    if (e == TMO_OK)
        e = bundle_unwrap(&w, b->device_key, &id, diag);
    *key = (psa_key_id_t)id;
    return e;
}

/*
 * Streams the payload through the digests; with dest, also into dest,
 * decrypting with key (0 = plain payload) from GCM's first payload counter
 * block nonce || 00000002 [B-6.5].
 */
static tmo_err run(tmo_bundle *b, uint8_t *dest, psa_key_id_t key, tmo_diag *diag)
{
    const tmo_bundle_manifest *m = &b->manifest;
    int decrypt = key != 0;
    uint32_t size = (uint32_t)m->payload_size, base = b->header.payload_offset;
    stream st, *s = &st;
    memset(s, 0, sizeof *s);
    tmo_err e = TMO_OK;
    uint8_t iv[16] = {0};
    if (decrypt)
        memcpy(iv, m->nonce, TMO_GCM_NONCE_LEN);
    iv[15] = 2;
    if (psa_hash_setup(&s->stored, PSA_ALG_SHA_256) != PSA_SUCCESS ||
        (decrypt && psa_hash_setup(&s->plain, PSA_ALG_SHA_256) != PSA_SUCCESS))
        e = psa_fail(diag, "SHA-256 not available");
    else if (decrypt && (psa_cipher_decrypt_setup(&s->cipher, key, PSA_ALG_CTR) != PSA_SUCCESS ||
                         psa_cipher_set_iv(&s->cipher, iv, sizeof iv) != PSA_SUCCESS))
        e = psa_fail(diag, "AES-256-CTR not available");
    for (uint32_t off = 0; e == TMO_OK && off < size;) {
        uint32_t n = size - off < sizeof s->chunk ? size - off : (uint32_t)sizeof s->chunk;
        /* Plain payloads go straight to their destination; ciphertext through the chunk. */
        uint8_t *in = dest != NULL && !decrypt ? dest + off : s->chunk;
        if ((e = bundle_read(&b->reader, base + off, in, n, diag)) != TMO_OK)
            break;
        if (psa_hash_update(&s->stored, in, n) != PSA_SUCCESS) {
            e = psa_fail(diag, "SHA-256 failed");
        } else if (decrypt) {
            size_t got = 0;
            if (psa_cipher_update(&s->cipher, in, n, dest + off, n, &got) != PSA_SUCCESS ||
                got != n || psa_hash_update(&s->plain, dest + off, n) != PSA_SUCCESS)
                e = psa_fail(diag, "AES-256-CTR failed");
        }
        off += n;
    }
    if (e == TMO_OK)
        e = check_digest(&s->stored, m->payload_digest, "payload.digest", diag);
    if (e == TMO_OK && decrypt)
        e = check_digest(&s->plain, m->model_digest, "payload.model_digest", diag);
    stream_end(s);
    return e;
}

tmo_err tmo_bundle_check_payload(tmo_bundle *b, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (b == NULL || b->state < TMO_BUNDLE_VERIFIED)
        return diag_set(diag, TMO_ESTATE, TMO_AT_NONE, -1, "bundle", "not verified");
    tmo_err e = run(b, NULL, 0, diag);
    if (e == TMO_OK && b->state == TMO_BUNDLE_VERIFIED)
        b->state = TMO_BUNDLE_PAYLOAD_OK;
    return e;
}

tmo_err tmo_bundle_load(tmo_bundle *b, void *dest, size_t dest_len, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (b == NULL || b->state < TMO_BUNDLE_VERIFIED)
        return diag_set(diag, TMO_ESTATE, TMO_AT_NONE, -1, "bundle", "not verified");
    uint64_t size = b->manifest.payload_size;
    if (dest == NULL || dest_len < size) {
        diag_set(diag, TMO_ENOSPC, TMO_AT_NONE, -1, "dest", "model slot smaller than the payload");
        diag_limit(diag, (int64_t)size, (int64_t)(dest == NULL ? 0 : dest_len));
        return TMO_ENOSPC;
    }
    if (((uintptr_t)dest & 3u) != 0)
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "dest",
                        "model slot is not 4-byte aligned");
    psa_key_id_t key = 0;
    tmo_err e = b->manifest.encryption != TMO_ENC_NONE ? content_key(b, &key, diag) : TMO_OK;
    if (e == TMO_OK)
        e = run(b, dest, key, diag);
    if (key != 0)
        psa_destroy_key(key);
    if (e != TMO_OK) {
        memset(dest, 0, (size_t)size); /* [B-8.3] nothing unchecked stays in the slot */
        return e;
    }
    if (b->state < TMO_BUNDLE_LOADED)
        b->state = TMO_BUNDLE_LOADED;
    return TMO_OK;
}

tmo_err tmo_bundle_accept(tmo_bundle *b, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (b == NULL || b->state < TMO_BUNDLE_PAYLOAD_OK)
        return diag_set(diag, TMO_ESTATE, TMO_AT_NONE, -1, "bundle", "payload not checked yet");
    uint64_t nv = 0;
    tmo_err e = b->counter->read(b->counter->ctx, &nv);
    if (e != TMO_OK)
        return diag_set(diag, e, TMO_AT_NONE, -1, "port.counter",
                        "reading the NV security counter failed");
    if (b->manifest.counter < nv) /* another bundle was accepted since verify */
        return diag_set(diag, TMO_EROLLBACK, TMO_AT_NONE, -1, "manifest.security_counter",
                        "lower than the device's security counter (rollback)");
    if (b->manifest.counter > nv) {
        if (b->counter->advance == NULL)
            return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "port.counter",
                            "counter port cannot advance");
        if ((e = b->counter->advance(b->counter->ctx, b->manifest.counter)) != TMO_OK)
            return diag_set(diag, e, TMO_AT_NONE, -1, "port.counter",
                            "advancing the NV security counter failed");
    }
    b->state = TMO_BUNDLE_ACCEPTED;
    return TMO_OK;
}

void tmo_bundle_close(tmo_bundle *b)
{
    if (b != NULL)
        bundle_wipe(b, sizeof *b);
}
