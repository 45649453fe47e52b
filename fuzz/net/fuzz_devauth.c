/*
 * libFuzzer target for device request authentication (host/devauth.c,
 * docs/protocol.md P-8, P-10..P-12) on arbitrary header values, the way
 * the server's auth.c uses it. Input: lines X-TMO-Device, X-TMO-Timestamp,
 * X-TMO-Nonce, X-TMO-Signature, method, path (with query), public key
 * (base64), then the body. The signature is decoded as the server decodes
 * it; when it has the right length, the canonical digest is computed and
 * verified against the public key line (or the fixed device key 'a' when
 * that line is empty). Asserts base64 round trips and that a decoder never
 * writes past its buffer (ASan) nor reports more bytes than fit.
 *
 * Seeds: fuzz/corpus/devauth (valid-* ones verify). Replayed in every
 * build by corpus_replay.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devauth.h"

#include "corpus_replay.h"

/* The fixed device key 'a' of the network fuzzers (net_server.c ns_key). */
static const uint8_t *key_a(void)
{
    static uint8_t pub[DEVAUTH_PUBKEY_LEN];
    static int done;
    if (!done) {
        uint8_t priv[32];
        psa_key_id_t id;
        for (int i = 0; i < 32; i++)
            priv[i] = (uint8_t)(0x11 + i);
        priv[0] = 0x5a;
        if (devauth_init() != 0 || devauth_import_private(priv, &id, pub) != 0)
            abort();
        psa_destroy_key(id);
        done = 1;
    }
    return pub;
}

/* Decodes text into a buffer of exactly cap bytes (heap, so ASan sees overruns). */
static int decode(const char *text, size_t cap, uint8_t **out)
{
    *out = malloc(cap ? cap : 1);
    if (*out == NULL)
        abort();
    int n = devauth_b64_decode(text, *out, cap);
    if (n < -1 || n > (int)cap)
        abort();
    if (n > 0) { /* what decodes re-encodes and decodes to the same bytes */
        size_t elen = 4 * (((size_t)n + 2) / 3) + 1;
        char *enc = malloc(elen);
        uint8_t *back = malloc((size_t)n + 1);
        if (enc == NULL || back == NULL || devauth_b64_encode(*out, (size_t)n, enc, elen) < 0 ||
            devauth_b64_decode(enc, back, (size_t)n + 1) != n || memcmp(back, *out, (size_t)n) != 0)
            abort();
        free(enc);
        free(back);
    }
    return n;
}

/* 1 when the input's signature verifies, 0 when not, -1 when it never got that far. */
static int run(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return -1;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *field[7];
    char *p = text;
    for (int i = 0; i < 7; i++) {
        field[i] = p;
        char *nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p += strlen(p);
        }
    }
    const char *body = p;
    size_t body_len = size - (size_t)(p - text);
    if (memchr(text, '\0', (size_t)(p - text)) != NULL && p < text + size)
        body_len = strlen(body); /* a NUL in the header lines: the body is a C string */
    int out = -1;
    uint8_t *sig = NULL, *pub = NULL, digest[32], digest2[32];
    int sig_n = decode(field[3], DEVAUTH_SIG_LEN + 4, &sig);    /* as auth.c */
    int pub_n = decode(field[6], DEVAUTH_PUBKEY_LEN + 4, &pub); /* as h_enroll.c */
    uint8_t *small = NULL; /* and into a buffer of any size: never past its end */
    decode(field[3], (size_t)(data[0] % 70), &small);
    free(small);
    unsigned long long ts = strtoull(field[1], NULL, 10);
    if (sig_n == DEVAUTH_SIG_LEN &&
        devauth_request_digest(field[4], field[5], ts, field[2], body, body_len, digest) == 0) {
        /* The canonical string is a function of its parts. */
        if (devauth_request_digest(field[4], field[5], ts, field[2], body, body_len, digest2) !=
                0 ||
            memcmp(digest, digest2, 32) != 0)
            abort();
        const uint8_t *key = field[6][0] == '\0'           ? key_a()
                             : pub_n == DEVAUTH_PUBKEY_LEN ? pub
                                                           : NULL;
        if (key != NULL) {
            out = devauth_verify(key, digest, sig) == 0;
            char id[DEVAUTH_ID_LEN + 1];
            devauth_device_id(key, id);
            if (strlen(id) != DEVAUTH_ID_LEN)
                abort();
        }
    }
    free(sig);
    free(pub);
    free(text);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0)
        run(data, size);
    return 0;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    return size > 0 && run(data, size) == 1;
}
