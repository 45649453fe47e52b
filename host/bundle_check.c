/*
 * Host-side bundle verification (see bundle_check.h).
 */
#include "bundle_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "bundle_crypto.h"
#include "host.h"
#include "tinymlops/profile.h"

/* The NV counter as the host sees it: a fixed value, never written. */
static tmo_err counter_read(void *ctx, uint64_t *value)
{
    *value = *(const uint64_t *)ctx;
    return TMO_OK;
}

static tmo_err counter_advance(void *ctx, uint64_t value)
{
    (void)ctx;
    (void)value;
    return TMO_OK;
}

static tmo_err clock_now(void *ctx, uint64_t *now)
{
    *now = *(const uint64_t *)ctx;
    return TMO_OK;
}

static tmo_err fail(host_verify_out *out, tmo_err e, const char *what)
{
    char msg[512];
    tmo_diag_format(&out->diag, msg, sizeof msg);
    snprintf(out->message, sizeof out->message, "%s: %s", what, msg);
    return out->err = e;
}

static tmo_err fail_text(host_verify_out *out, tmo_err e, const char *text)
{
    snprintf(out->message, sizeof out->message, "%s", text);
    return out->err = e;
}

/* GCM tag of the whole payload, with the content key unwrapped on the host. */
static tmo_err check_gcm(const uint8_t *bytes, const tmo_bundle *b, const host_key *device,
                         host_verify_out *out)
{
    uint8_t cek[TMO_CONTENT_KEY_LEN];
    const tmo_bundle_manifest *m = &b->manifest;
    if (hb_unwrap(b->wrap, device, cek) != 0)
        return fail_text(out, TMO_EKEY,
                         "wrap.tag: the content key does not unwrap on the host [EKEY]");
    uint8_t *plain = malloc(m->payload_size ? m->payload_size : 1);
    int ok = plain != NULL && hb_gcm_decrypt(cek, m->nonce, bytes + b->header.payload_offset,
                                             (size_t)m->payload_size, m->tag, plain) == 0;
    mbedtls_platform_zeroize(cek, sizeof cek);
    ok = ok && memcmp(plain, out->model, out->model_len) == 0;
    free(plain);
    if (!ok)
        return fail_text(
            out, TMO_EDIGEST,
            "payload.gcm_tag: AES-256-GCM tag of the payload does not verify [EDIGEST]");
    out->gcm_tag_checked = 1;
    return TMO_OK;
}

/*
 * The PROFILE must describe this model and the KAT vectors must be
 * reproduced bit for bit by this build's runtime, as a device will do during
 * its update trial.
 */
static tmo_err check_extensions(const uint8_t *bytes, const tmo_bundle *b, host_verify_out *out)
{
    if (b->profile_length == 0 && b->kat_length == 0)
        return TMO_OK;
    char err[512];
    host_model hm;
    void *copy = aligned_alloc(16, (out->model_len + 16) & ~(size_t)15);
    if (copy == NULL)
        return fail_text(out, TMO_ENOSPC, "out of memory");
    memcpy(copy, out->model, out->model_len);
    if (host_model_open_bytes(&hm, copy, out->model_len, err, sizeof err) != TMO_OK) {
        host_model_close(&hm);
        snprintf(out->message, sizeof out->message, "the model can not be prepared: %s", err);
        return TMO_EUNSUPPORTED;
    }
    tmo_err e = TMO_OK;
    if (b->profile_length != 0) {
        tmo_profile prof;
        e = tmo_profile_parse(&prof, bytes + b->profile_offset, b->profile_length, &out->diag);
        if (e == TMO_OK)
            e = tmo_profile_check(&prof, &hm.interp, &out->diag);
        if (e != TMO_OK)
            fail(out, e, "profile section");
        out->profile_checked = e == TMO_OK;
    }
    if (e == TMO_OK && b->kat_length != 0) {
        tmo_kat_result res;
        e = tmo_kat_run(&hm.interp, bytes + b->kat_offset, b->kat_length, &res, &out->diag);
        if (e == TMO_EKAT) {
            char line[160];
            tmo_kat_format(&res, line, sizeof line);
            snprintf(out->message, sizeof out->message, "known-answer test failed: %s", line);
        } else if (e != TMO_OK) {
            fail(out, e, "known-answer test section");
        }
        out->kat_passed = e == TMO_OK ? res.passed : 0;
    }
    host_model_close(&hm);
    return e;
}

static tmo_err run(const uint8_t *bytes, size_t len, const host_verify_in *in, host_verify_out *out,
                   uint32_t key)
{
    tmo_port_mem mem;
    tmo_port_reader reader;
    if (tmo_port_reader_mem(&reader, &mem, bytes, len) != TMO_OK)
        return fail_text(out, TMO_EBADBUNDLE, "bundle larger than 4 GiB");
    uint64_t nv = in->min_counter, now = in->now != 0 ? in->now : (uint64_t)time(NULL);
    tmo_port_counter counter = {counter_read, counter_advance, &nv};
    tmo_port_clock clock = {clock_now, &now};
    tmo_bundle_env env = {
        in->roots, (uint32_t)in->root_count, &counter, in->no_clock ? NULL : &clock, in->caps, key};
    out->bundle = calloc(1, sizeof *out->bundle);
    if (out->bundle == NULL)
        return fail_text(out, TMO_ENOSPC, "out of memory");
    tmo_bundle *b = out->bundle;
    tmo_err e = tmo_bundle_verify(b, &reader, &env, &out->diag);
    if (e != TMO_OK)
        return fail(out, e, "verification failed");
    if (b->manifest.encryption != TMO_ENC_NONE && in->device == NULL) {
        if ((e = tmo_bundle_check_payload(b, &out->diag)) != TMO_OK)
            return fail(out, e, "payload check failed");
        out->payload_checked = 1;
        return TMO_OK;
    }
    size_t size = (size_t)b->manifest.payload_size;
    out->model = aligned_alloc(16, (size + 16) & ~(size_t)15);
    if (out->model == NULL)
        return fail_text(out, TMO_ENOSPC, "out of memory");
    out->model_len = size;
    if ((e = tmo_bundle_load(b, out->model, size, &out->diag)) != TMO_OK)
        return fail(out, e, "payload check failed");
    out->payload_checked = out->decrypted = 1;
    if (b->manifest.encryption != TMO_ENC_NONE &&
        (e = check_gcm(bytes, b, in->device, out)) != TMO_OK)
        return e;
    tmo_model model;
    if (tmo_model_parse(&model, out->model, out->model_len, &out->diag) != TMO_OK)
        return fail(out, TMO_EBADMODEL, "the payload is not a valid model");
    out->model_parsed = 1;
    return in->skip_self_test ? TMO_OK : check_extensions(bytes, b, out);
}

tmo_err host_bundle_verify(const uint8_t *bytes, size_t len, const host_verify_in *in,
                           host_verify_out *out)
{
    memset(out, 0, sizeof *out);
    tmo_diag_clear(&out->diag);
    uint32_t key = 0;
    if (in->device != NULL && host_key_import_device(in->device, &key) != 0)
        return fail_text(out, TMO_EKEY, "device key: not usable as a P-256 ECDH key");
    tmo_err e = run(bytes, len, in, out, key);
    if (key != 0)
        psa_destroy_key(key);
    if (e == TMO_OK)
        snprintf(out->message, sizeof out->message, "OK");
    return out->err = e;
}

void host_verify_free(host_verify_out *out)
{
    if (out->model != NULL)
        mbedtls_platform_zeroize(out->model, out->model_len);
    free(out->model);
    if (out->bundle != NULL)
        tmo_bundle_close(out->bundle);
    free(out->bundle);
    out->model = NULL;
    out->bundle = NULL;
}
