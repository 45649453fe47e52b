/*
 * Update engine test fixture (see update_fixture.h).
 */
#include "update_fixture.h"

#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "keys.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/model.h"
#include "../fc_model_fixture.h"

static host_key root, signing, rogue_root, rogue_signing;
static uint8_t cert[TMO_CERT_MAX_LEN], rogue_cert[TMO_CERT_MAX_LEN];
static size_t cert_len, rogue_cert_len;
static uint8_t roots[1][TMO_P256_PUBLIC_KEY_LEN];
static tmo_bundle_caps caps;
static tmo_port_clock clock_port;
static int64_t clock_shift;

static tmo_err shifted_now(void *ctx, uint64_t *now)
{
    (void)ctx;
    *now = (uint64_t)((int64_t)time(NULL) + clock_shift);
    return TMO_OK;
}

void ufx_clock_shift(int64_t seconds)
{
    clock_shift = seconds;
}

int ufx_setup(void)
{
    static int done;
    if (done)
        return 0;
    char err[256];
    uint64_t now = (uint64_t)time(NULL);
    if (psa_crypto_init() != PSA_SUCCESS || host_key_generate(&root, err, sizeof err) ||
        host_key_generate(&signing, err, sizeof err) ||
        host_key_generate(&rogue_root, err, sizeof err) ||
        host_key_generate(&rogue_signing, err, sizeof err) ||
        hb_cert_make(&root, signing.pub, now - 86400, now + 86400, "test/", cert, &cert_len) ||
        hb_cert_make(&rogue_root, rogue_signing.pub, now - 86400, now + 86400, "", rogue_cert,
                     &rogue_cert_len))
        return -1;
    memcpy(roots[0], root.pub, sizeof roots[0]);
    caps = (tmo_bundle_caps){
        "x86_64",
        {TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR, TMO_RUNTIME_VERSION_PATCH},
        1u << 20,
        1u << 20,
        NULL};
    clock_port = (tmo_port_clock){shifted_now, NULL};
    done = 1;
    return 0;
}

int ufx_write_root(const char *name)
{
    char err[300];
    return host_key_write(&root, name, err, sizeof err);
}

const uint8_t (*ufx_roots(void))[TMO_P256_PUBLIC_KEY_LEN]
{
    return (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])roots;
}

/* in[1,8] -> FULLY_CONNECTED -> out[1,hidden], float, weights depending on hidden. */
static uint8_t *make_model(int hidden, size_t *len)
{
    float *w = malloc(sizeof(float) * (size_t)hidden * 8),
          *b = malloc(sizeof(float) * (size_t)hidden);
    for (int i = 0; i < hidden * 8; i++)
        w[i] = (float)((i * 7 + hidden) % 11) - 5.0f;
    for (int i = 0; i < hidden; i++)
        b[i] = 0.5f * (float)i;
    uint8_t *bytes = fc_model_fixture(8, hidden, w, b, len);
    free(w);
    free(b);
    return bytes;
}

int ufx_make(const ufx_spec *spec, ufx_bundle *out)
{
    memset(out, 0, sizeof *out);
    out->model = make_model(spec->hidden > 0 ? spec->hidden : 16, &out->model_len);
    if (out->model == NULL)
        return -1;
    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = out->model;
    in.model_len = out->model_len;
    in.name = "test/model";
    if (host_parse_semver(spec->version, &in.version) != 0)
        return -1;
    in.counter = spec->counter;
    if (spec->expires_in > 0)
        in.expires = (uint64_t)time(NULL) + spec->expires_in;
    const char *arches[1] = {spec->arch};
    in.arches = arches;
    in.arch_count = spec->arch != NULL;
    in.signer = spec->untrusted ? &rogue_signing : &signing;
    in.cert = spec->untrusted ? rogue_cert : cert;
    in.cert_len = spec->untrusted ? rogue_cert_len : cert_len;
    hb_extra_section kat = {TMO_SECTION_KAT, 0, spec->kat, spec->kat_len};
    in.extra = &kat;
    in.extra_count = spec->kat != NULL;
    char err[300];
    if (host_bundle_pack(&in, &out->bytes, &out->len, err, sizeof err) != 0) {
        fprintf(stderr, "ufx_make: %s\n", err);
        return -1;
    }
    size_t n = 0;
    return psa_hash_compute(PSA_ALG_SHA_256, out->bytes, out->len, out->digest, sizeof out->digest,
                            &n) == PSA_SUCCESS
               ? 0
               : -1;
}

void ufx_bundle_free(ufx_bundle *b)
{
    free(b->bytes);
    free(b->model);
    memset(b, 0, sizeof *b);
}

tmo_update_config ufx_config(const tmo_port_storage *storage, const tmo_port_counter *counter)
{
    tmo_update_config c;
    memset(&c, 0, sizeof c);
    c.storage = storage;
    c.env.roots = ufx_roots();
    c.env.root_count = 1;
    c.env.counter = counter;
    c.env.clock = &clock_port;
    c.env.caps = &caps;
    return c;
}

tmo_err ufx_download(tmo_update *u, const ufx_bundle *b, uint64_t tag, size_t chunk,
                     uint32_t *resumed_at)
{
    uint32_t off = 0;
    tmo_diag d;
    tmo_err e = tmo_update_begin(u, (uint32_t)b->len, b->digest, tag, &off, &d);
    if (resumed_at != NULL)
        *resumed_at = off;
    while (e == TMO_OK && off < b->len) {
        size_t n = b->len - off < chunk ? b->len - off : chunk;
        e = tmo_update_write(u, off, b->bytes + off, n, &d);
        off += (uint32_t)n;
    }
    return e == TMO_OK ? tmo_update_finish(u, &d) : e;
}

tmo_err ufx_install(tmo_update *u, const ufx_bundle *b, uint64_t tag, size_t chunk)
{
    tmo_diag d;
    tmo_err e = ufx_download(u, b, tag, chunk, NULL);
    if (e == TMO_OK)
        e = tmo_update_activate(u, &d);
    return e == TMO_OK ? tmo_update_confirm(u, &d) : e;
}
