/*
 * Attacks on bundles, each of which the device path (verify, then load)
 * must reject with the error docs/bundle-format.md names, never a crash
 * (this test also runs in the ASan/UBSan build):
 *  - every single byte of a small plain and a small encrypted bundle flipped,
 *    and a random sample of bytes of a 64 KiB one, with the expected error
 *    derived from where the byte lies (header field, section header, which
 *    section's value, padding, payload);
 *  - truncation at every length, and one byte appended;
 *  - swapped, foreign-root, forged, expired, not-yet-valid and wrong-prefix
 *    certificates; an expired bundle; a lower security counter; a wrong
 *    device key and a forged wrap; unknown critical sections; non-zero
 *    padding; sections out of order; header/manifest disagreements.
 * Cases that must get past the signature to reach their check are re-signed
 * with the real signing key (hb_sign), so the check itself is what rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle/bundle_fixture.h"

static fx F;

static int setup(void **state)
{
    (void)state;
    return fx_init(&F);
}

static int teardown(void **state)
{
    (void)state;
    fx_free(&F);
    return 0;
}

static tmo_err run_env(const tmo_bundle_env *env, const uint8_t *b, size_t len, tmo_diag *d)
{
    return fx_run(&F, env, b, len, d, NULL);
}

static tmo_err run(const uint8_t *b, size_t len, tmo_diag *d)
{
    tmo_bundle_env env = fx_env(&F);
    return run_env(&env, b, len, d);
}

static uint8_t *pack(host_pack_in in, size_t *len)
{
    uint8_t *b = fx_pack(&in, len);
    assert_non_null(b);
    return b;
}

/* ---- where a byte lies, from an independent walk of the layout [B-2, B-3] ---- */

enum { SET_MAX = 4 };
typedef struct {
    tmo_err allowed[SET_MAX];
    const char *what;
} expectation;

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

static expectation expect_at(const uint8_t *b, size_t len, size_t pos)
{
    if (pos < 32) {
        if (pos < 4)
            return (expectation){{TMO_EBADBUNDLE}, "header.magic"};
        if (pos < 6)
            return (expectation){{TMO_EUNSUPPORTED}, "header.format_version"};
        /* The encrypted flag is well-formed either way; only the signature catches it. */
        if (pos == 14)
            return (expectation){{TMO_EBADSIG, TMO_EBADBUNDLE}, "header.flags"};
        return (expectation){{TMO_EBADBUNDLE}, "header field"};
    }
    uint32_t off = 32, count = rd16(b + 12);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tag = rd16(b + off), vlen = rd32(b + off + 4), value = off + 8;
        uint32_t end = tag == TMO_SECTION_PAYLOAD ? value + vlen : (value + vlen + 7) & ~7u;
        if (pos < value) {
            /* A changed tag, flag or length is a layout error, or shifts what the signature
             * covers; a CERT whose length changes fails its own parse, which runs first [B-7.1]. */
            expectation x = {{TMO_EBADBUNDLE, TMO_EUNSUPPORTED, TMO_EBADSIG}, "section header"};
            if (tag == TMO_SECTION_CERT)
                x.allowed[3] = TMO_ECERT;
            return x;
        }
        if (pos < value + vlen) {
            switch (tag) {
            case TMO_SECTION_CERT:
                return (expectation){{TMO_ECERT}, "certificate"};
            case TMO_SECTION_SIGNATURE:
                return (expectation){{TMO_EBADSIG}, "signature"};
            case TMO_SECTION_PAYLOAD:
                return (expectation){{TMO_EDIGEST}, "payload"};
            case TMO_SECTION_PAD:
                return (expectation){{TMO_EBADBUNDLE}, "PAD value"};
            default:
                return (expectation){{TMO_EBADSIG}, "signed section value"};
            }
        }
        if (pos < end)
            return (expectation){{TMO_EBADBUNDLE}, "padding"};
        off = end;
    }
    (void)len;
    return (expectation){{TMO_OK}, "outside"};
}

static int allowed(const expectation *x, tmo_err e)
{
    for (int i = 0; i < SET_MAX; i++)
        if (x->allowed[i] == e && e != TMO_OK)
            return 1;
    return 0;
}

static void flip_and_check(uint8_t *b, size_t len, size_t pos, uint8_t mask)
{
    tmo_diag d;
    expectation x = expect_at(b, len, pos);
    b[pos] ^= mask;
    tmo_err e = run(b, len, &d);
    b[pos] ^= mask;
    if (!allowed(&x, e)) {
        char msg[256];
        tmo_diag_format(&d, msg, sizeof msg);
        fail_msg("byte %zu (%s) ^ 0x%02x: got %s (%s)", pos, x.what, mask, tmo_err_name(e), msg);
    }
}

static void every_byte(int encrypt)
{
    F.nv = 0;
    size_t len;
    uint8_t *b = pack(fx_pack_in(&F, encrypt), &len);
    tmo_diag d;
    assert_int_equal(run(b, len, &d), TMO_OK);
    /* Every byte once (each run costs two ECDSA verifications); the structural bytes also
     * with their high bits flipped, where a small change may still look well-formed. */
    for (size_t pos = 0; pos < len; pos++) {
        flip_and_check(b, len, pos, 0x01);
        const char *what = expect_at(b, len, pos).what;
        if (strncmp(what, "header", 6) == 0 || strcmp(what, "section header") == 0)
            flip_and_check(b, len, pos, 0xF0);
    }
    assert_int_equal(run(b, len, &d), TMO_OK); /* restored byte for byte */
    free(b);
}

static void every_byte_plain(void **state)
{
    (void)state;
    every_byte(0);
}

static void every_byte_encrypted(void **state)
{
    (void)state;
    every_byte(1);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A 64 KiB model: every metadata byte is covered above; here a sample over the whole file. */
static void sampled_bytes_large(void **state)
{
    (void)state;
    F.nv = 0;
    size_t model_len;
    uint8_t *model = fx_make_model(&model_len, 4000);
    host_pack_in in = fx_pack_in(&F, 1);
    in.model = model;
    in.model_len = model_len;
    size_t len;
    uint8_t *b = pack(in, &len);
    assert_true(len > 64000);
    tmo_bundle_section s;
    assert_int_equal(hb_find_section(b, len, TMO_SECTION_PAYLOAD, &s), 0);
    uint64_t seed = 1;
    for (int i = 0; i < 400; i++) {
        uint64_t r = splitmix(&seed);
        size_t pos = i % 2 == 0 ? (size_t)(r % (s.offset + 8)) : (size_t)(r % len);
        uint8_t mask = (uint8_t)(1 + (r >> 32) % 255);
        flip_and_check(b, len, pos, mask);
    }
    free(b);
    free(model);
}

static void truncation_and_extension(void **state)
{
    (void)state;
    F.nv = 0;
    for (int encrypt = 0; encrypt < 2; encrypt++) {
        size_t len;
        uint8_t *b = pack(fx_pack_in(&F, encrypt), &len);
        tmo_diag d;
        for (size_t n = 0; n < len; n++) {
            tmo_err e = run(b, n, &d);
            if (e != TMO_EBADBUNDLE)
                fail_msg("truncated to %zu of %zu: got %s", n, len, tmo_err_name(e));
        }
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, b, len);
        longer[len] = 0;
        assert_int_equal(run(longer, len + 1, &d), TMO_EBADBUNDLE);
        assert_string_equal(d.field, "header.total_length");
        free(longer);
        free(b);
    }
}

/* Replaces the CERT value (same length) and optionally re-signs with signer. */
static void replace_cert(uint8_t *b, size_t len, const uint8_t *cert, size_t cert_len,
                         const host_key *signer)
{
    tmo_bundle_section s;
    assert_int_equal(hb_find_section(b, len, TMO_SECTION_CERT, &s), 0);
    assert_int_equal(s.length, cert_len);
    memcpy(b + s.offset + 8, cert, cert_len);
    if (signer != NULL)
        assert_int_equal(hb_sign(b, len, signer), 0);
}

static void certificate_attacks(void **state)
{
    (void)state;
    F.nv = 0;
    size_t len, clen;
    uint8_t cert[TMO_CERT_MAX_LEN];
    tmo_diag d;
    uint8_t *b = pack(fx_pack_in(&F, 1), &len);

    /* Swapped: a genuine certificate of another signing key; the signature no longer matches. */
    assert_int_equal(
        hb_cert_make(&F.root, F.other.pub, FX_NOW - FX_DAY, FX_NOW + FX_DAY, "", cert, &clen), 0);
    replace_cert(b, len, cert, clen, NULL);
    assert_int_equal(run(b, len, &d), TMO_EBADSIG);
    assert_string_equal(d.field, "signature");
    /* ... unless that key signs: key rotation needs no device change. */
    assert_int_equal(hb_sign(b, len, &F.other), 0);
    assert_int_equal(run(b, len, &d), TMO_OK);

    /* Issued by a key that is not a pinned root. */
    assert_int_equal(
        hb_cert_make(&F.device, F.signing.pub, FX_NOW - FX_DAY, FX_NOW + FX_DAY, "", cert, &clen),
        0);
    replace_cert(b, len, cert, clen, &F.signing);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.issuer");
    /* Claims the pinned root as issuer but is signed by another key. */
    memcpy(cert + 8, F.cert + 8, TMO_KEY_ID_LEN);
    replace_cert(b, len, cert, clen, &F.signing);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.signature");
    /* Root-signed, but the subject key id does not match the subject key. */
    memcpy(cert, F.cert, F.cert_len);
    cert[24] ^= 1;
    uint8_t hash[TMO_SHA256_LEN];
    assert_int_equal(hb_sha256(cert, TMO_CERT_TBS_FIXED, hash), 0);
    assert_int_equal(host_key_sign_hash(&F.root, hash, cert + TMO_CERT_TBS_FIXED), 0);
    replace_cert(b, len, cert, F.cert_len, &F.signing);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.subject_id");
    /* The untouched certificate, re-signed: accepted again. */
    replace_cert(b, len, F.cert, F.cert_len, &F.signing);
    assert_int_equal(run(b, len, &d), TMO_OK);
    free(b);

    /* Validity window [B-5.3]: expired, not yet valid, both ends inclusive, no clock. */
    uint8_t old_cert[TMO_CERT_MAX_LEN], future_cert[TMO_CERT_MAX_LEN];
    size_t old_len = fx_cert(&F, FX_NOW - 30 * FX_DAY, FX_NOW - 10 * FX_DAY, "", old_cert);
    size_t future_len = fx_cert(&F, FX_NOW + FX_DAY, FX_NOW + 30 * FX_DAY, "", future_cert);
    host_pack_in in = fx_pack_in(&F, 0);
    in.cert = old_cert;
    in.cert_len = old_len;
    in.created = FX_NOW - 20 * FX_DAY;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.not_after");
    F.now = FX_NOW - 10 * FX_DAY;
    assert_int_equal(run(b, len, &d), TMO_OK);
    tmo_bundle_env env = fx_env(&F);
    env.clock = NULL;
    F.now = FX_NOW;
    assert_int_equal(run_env(&env, b, len, &d), TMO_OK);
    free(b);
    in.cert = future_cert;
    in.cert_len = future_len;
    in.created = FX_NOW + 2 * FX_DAY;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.not_before");
    F.now = FX_NOW + FX_DAY;
    assert_int_equal(run(b, len, &d), TMO_OK);
    F.now = FX_NOW;
    free(b);

    /* Model-name prefix [B-5.4]: acme/ certifies acme/kws; beta/ does not. */
    uint8_t acme[TMO_CERT_MAX_LEN], beta[TMO_CERT_MAX_LEN];
    size_t acme_len = fx_cert(&F, FX_NOW - FX_DAY, FX_NOW + FX_DAY, "acme/", acme);
    size_t beta_len = fx_cert(&F, FX_NOW - FX_DAY, FX_NOW + FX_DAY, "beta/", beta);
    in = fx_pack_in(&F, 1);
    in.cert = acme;
    in.cert_len = acme_len;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_OK);
    replace_cert(b, len, beta, beta_len, &F.signing);
    assert_int_equal(run(b, len, &d), TMO_ECERT);
    assert_string_equal(d.field, "cert.prefix");
    free(b);
    char err[256];
    uint8_t *out = NULL;
    in.cert = beta;
    assert_int_equal(host_bundle_pack(&in, &out, &len, err, sizeof err),
                     -1); /* the packer refuses too */
}

static void expiry_and_counter(void **state)
{
    (void)state;
    F.nv = 0;
    tmo_diag d;
    size_t len;
    host_pack_in in = fx_pack_in(&F, 1);
    in.expires = FX_NOW;
    uint8_t *b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_EEXPIRED);
    assert_string_equal(d.field, "manifest.expires");
    F.now = FX_NOW - 1;
    assert_int_equal(run(b, len, &d), TMO_OK);
    F.now = FX_NOW;
    free(b);

    b = pack(fx_pack_in(&F, 1), &len); /* counter 7 */
    F.nv = 8;
    assert_int_equal(run(b, len, &d), TMO_EROLLBACK);
    assert_string_equal(d.field, "manifest.security_counter");
    F.nv = 7;
    assert_int_equal(run(b, len, &d), TMO_OK);
    F.nv = 0;
    free(b);
}

static void device_key_attacks(void **state)
{
    (void)state;
    F.nv = 0;
    tmo_diag d;
    size_t len;
    host_pack_in in = fx_pack_in(&F, 1);
    in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN]) & F.other.pub;
    uint8_t *b = pack(in, &len);
    /* Encrypted for another device: no wrap for this one. */
    assert_int_equal(run(b, len, &d), TMO_EKEY);
    assert_string_equal(d.field, "wrap.recipient");
    /* A wrap relabelled with this device's key id (and re-signed): the unwrap fails. */
    tmo_bundle_section s;
    uint8_t id[TMO_KEY_ID_LEN];
    assert_int_equal(hb_find_section(b, len, TMO_SECTION_WRAP, &s), 0);
    tmo_bundle_key_id(F.device.pub, id);
    memcpy(b + s.offset + 8 + 1, id, sizeof id);
    assert_int_equal(hb_sign(b, len, &F.signing), 0);
    assert_int_equal(run(b, len, &d), TMO_EKEY);
    assert_string_equal(d.field, "wrap.tag");
    /* A wrapped key altered (re-signed): the wrap's GCM tag catches it. */
    free(b);
    b = pack(fx_pack_in(&F, 1), &len);
    assert_int_equal(hb_find_section(b, len, TMO_SECTION_WRAP, &s), 0);
    b[s.offset + 8 + 1 + 16 + 65] ^= 1;
    assert_int_equal(hb_sign(b, len, &F.signing), 0);
    assert_int_equal(run(b, len, &d), TMO_EKEY);
    assert_string_equal(d.field, "wrap.tag");
    free(b);
}

static void layout_attacks(void **state)
{
    (void)state;
    F.nv = 0;
    tmo_diag d;
    size_t len;
    const uint8_t junk[5] = {1, 2, 3, 4, 5}, zeros[6] = {0};
    host_pack_in in = fx_pack_in(&F, 1);

    /* Unknown critical section [B-3.7]; the same section non-critical is skipped. */
    hb_extra_section crit = {0x0777, TMO_SECTION_CRITICAL, junk, sizeof junk};
    in.extra = &crit;
    in.extra_count = 1;
    uint8_t *b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_EUNSUPPORTED);
    assert_string_equal(d.field, "section.tag");
    assert_int_equal(d.where, TMO_AT_SECTION);
    free(b);
    crit.flags = 0;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_OK);

    /* Non-zero padding after a value [B-3.2]: caught even when re-signed. */
    tmo_bundle_section s;
    assert_int_equal(hb_find_section(b, len, 0x0777, &s), 0);
    b[s.offset + 8 + 5] = 0x20;
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "section.padding");
    assert_int_equal(hb_sign(b, len, &F.signing), 0);
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "section.padding");
    free(b);

    /* PAD sections hold zeros only [B-3.8]. */
    hb_extra_section pad[2] = {{TMO_SECTION_PAD, 0, zeros, sizeof zeros},
                               {TMO_SECTION_PAD, 0, junk, sizeof junk}};
    in.extra = pad;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_OK);
    free(b);
    in.extra = pad + 1;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "section.value");
    free(b);

    /* Sections out of order [B-3.4]: a WRAP after an extension section. */
    uint8_t wrap[TMO_WRAP_LEN];
    uint8_t cek[32] = {0};
    assert_int_equal(hb_wrap(F.other.pub, cek, wrap), 0);
    hb_extra_section late[2] = {{TMO_SECTION_PROFILE, 0, junk, sizeof junk},
                                {TMO_SECTION_WRAP, TMO_SECTION_CRITICAL, wrap, sizeof wrap}};
    in.extra = late;
    in.extra_count = 2;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "section.order");
    free(b);

    /* A key wrap in an unencrypted bundle, and an encrypted flag the manifest contradicts [B-4.8]. */
    in = fx_pack_in(&F, 0);
    in.extra = late + 1;
    in.extra_count = 1;
    b = pack(in, &len);
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "wrap");
    free(b);
    b = pack(fx_pack_in(&F, 0), &len);
    b[14] |= TMO_BUNDLE_FLAG_ENCRYPTED;
    assert_int_equal(run(b, len, &d), TMO_EBADSIG);
    assert_int_equal(hb_sign(b, len, &F.signing), 0);
    assert_int_equal(run(b, len, &d), TMO_EBADBUNDLE);
    assert_string_equal(d.field, "header.flags");
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_plain),    cmocka_unit_test(every_byte_encrypted),
        cmocka_unit_test(sampled_bytes_large), cmocka_unit_test(truncation_and_extension),
        cmocka_unit_test(certificate_attacks), cmocka_unit_test(expiry_and_counter),
        cmocka_unit_test(device_key_attacks),  cmocka_unit_test(layout_attacks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
