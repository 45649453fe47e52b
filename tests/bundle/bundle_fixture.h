/*
 * Shared set-up for the bundle tests (header-only: every test is one file):
 * fresh root, signing and device keys, a certificate, a small float
 * FULLY_CONNECTED model written by host/tflite_writer, in-memory ports with
 * a settable NV counter and clock, and helpers that pack and run the device
 * path (verify, then load or check) exactly as firmware would.
 */
#ifndef TMO_TEST_BUNDLE_FIXTURE_H
#define TMO_TEST_BUNDLE_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

#include "bundle_check.h"
#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "bundle_writer.h"
#include "host.h"
#include "keys.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "../fc_model_fixture.h"
#include "tinymlops/bundle.h"

#define FX_NOW 1800000000ull /* 2027-01-15T08:00:00Z: the tests' fixed "now" */
#define FX_DAY 86400ull

typedef struct fx {
    host_key root, signing, device, other;
    uint8_t roots[2][TMO_P256_PUBLIC_KEY_LEN];
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len;
    uint8_t *model;
    size_t model_len;
    uint64_t nv, now;
    tmo_err counter_error, clock_error;
    uint64_t advanced_to;
    unsigned advance_calls;
    tmo_port_counter counter;
    tmo_port_clock clock;
    tmo_bundle_caps caps;
    uint32_t device_key; /* PSA key id of `device` */
} fx;

static tmo_err fx_counter_read(void *ctx, uint64_t *v)
{
    fx *f = ctx;
    *v = f->nv;
    return f->counter_error;
}

static tmo_err fx_counter_advance(void *ctx, uint64_t v)
{
    fx *f = ctx;
    f->advance_calls++;
    f->advanced_to = v;
    if (v > f->nv)
        f->nv = v;
    return TMO_OK;
}

static tmo_err fx_clock_now(void *ctx, uint64_t *now)
{
    fx *f = ctx;
    *now = f->now;
    return f->clock_error;
}

/* A float FULLY_CONNECTED model, 4 inputs and out_features outputs. */
static inline uint8_t *fx_make_model(size_t *len, int out_features)
{
    float *w = calloc((size_t)out_features * 4, sizeof *w),
          *b = calloc((size_t)out_features, sizeof *b);
    for (int i = 0; i < out_features * 4; i++)
        w[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < out_features; i++)
        b[i] = 0.5f * (float)i;
    uint8_t *bytes = fc_model_fixture(4, out_features, w, b, len);
    free(w);
    free(b);
    return bytes;
}

/* Certificate for the fixture's signing key with the given window and prefix. */
static inline size_t fx_cert(const fx *f, uint64_t not_before, uint64_t not_after,
                             const char *prefix, uint8_t out[TMO_CERT_MAX_LEN])
{
    size_t len = 0;
    if (hb_cert_make(&f->root, f->signing.pub, not_before, not_after, prefix, out, &len) != 0)
        return 0;
    return len;
}

static inline int fx_init(fx *f)
{
    char err[256];
    memset(f, 0, sizeof *f);
    if (host_key_generate(&f->root, err, sizeof err) ||
        host_key_generate(&f->signing, err, sizeof err) ||
        host_key_generate(&f->device, err, sizeof err) ||
        host_key_generate(&f->other, err, sizeof err))
        return -1;
    memcpy(f->roots[0], f->root.pub, TMO_P256_PUBLIC_KEY_LEN);
    memcpy(f->roots[1], f->other.pub,
           TMO_P256_PUBLIC_KEY_LEN); /* a second pinned root, never the issuer */
    f->now = FX_NOW;
    f->cert_len = fx_cert(f, FX_NOW - 30 * FX_DAY, FX_NOW + 365 * FX_DAY, "", f->cert);
    f->model = fx_make_model(&f->model_len, 3);
    f->counter = (tmo_port_counter){fx_counter_read, fx_counter_advance, f};
    f->clock = (tmo_port_clock){fx_clock_now, f};
    f->caps = (tmo_bundle_caps){
        "x86_64",
        {TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR, TMO_RUNTIME_VERSION_PATCH},
        1u << 20,
        1u << 20,
        NULL};
    if (f->cert_len == 0 || f->model == NULL ||
        host_key_import_device(&f->device, &f->device_key) != 0)
        return -1;
    return 0;
}

static inline void fx_free(fx *f)
{
    free(f->model);
    if (f->device_key != 0)
        psa_destroy_key(f->device_key);
    host_key_wipe(&f->root);
    host_key_wipe(&f->signing);
    host_key_wipe(&f->device);
    host_key_wipe(&f->other);
}

/* Default pack input: model "acme/kws", 1.2.3, counter 7, created a day before "now". */
static inline host_pack_in fx_pack_in(const fx *f, int encrypt)
{
    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = f->model;
    in.model_len = f->model_len;
    in.name = "acme/kws";
    in.version = (tmo_semver){1, 2, 3};
    in.counter = 7;
    in.created = FX_NOW - FX_DAY;
    in.signer = &f->signing;
    in.cert = f->cert;
    in.cert_len = f->cert_len;
    if (encrypt) {
        in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN]) & f->device.pub;
        in.recipient_count = 1;
    }
    return in;
}

static inline uint8_t *fx_pack(const host_pack_in *in, size_t *len)
{
    char err[512];
    uint8_t *out = NULL;
    if (host_bundle_pack(in, &out, len, err, sizeof err) != 0) {
        fprintf(stderr, "pack failed: %s\n", err);
        return NULL;
    }
    return out;
}

static inline tmo_bundle_env fx_env(fx *f)
{
    tmo_bundle_env env = {(const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])f->roots,
                          2,
                          &f->counter,
                          &f->clock,
                          &f->caps,
                          f->device_key};
    return env;
}

/*
 * The whole device path over bundle bytes: verify, then load into a fresh
 * 16-aligned slot (or, without a device key on an encrypted bundle, check
 * the stored payload). On success *slot (if not NULL) gets the plaintext.
 */
static inline tmo_err fx_run(fx *f, const tmo_bundle_env *env, const uint8_t *bytes, size_t len,
                             tmo_diag *d, uint8_t **slot)
{
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle *b = malloc(sizeof *b);
    tmo_err e = tmo_port_reader_mem(&r, &mem, bytes, len);
    if (e == TMO_OK)
        e = tmo_bundle_verify(b, &r, env, d);
    if (e == TMO_OK && b->manifest.encryption != TMO_ENC_NONE && env->device_key == 0) {
        e = tmo_bundle_check_payload(b, d);
    } else if (e == TMO_OK) {
        size_t size = (size_t)b->manifest.payload_size;
        uint8_t *dest = aligned_alloc(16, (size + 15) & ~(size_t)15);
        e = tmo_bundle_load(b, dest, size, d);
        if (e == TMO_OK && slot != NULL)
            *slot = dest;
        else
            free(dest);
    }
    (void)f;
    tmo_bundle_close(b);
    free(b);
    return e;
}

#endif
