/*
 * The bundle fuzz target's body (see fuzz_bundle_body.h).
 */
#include "fuzz_bundle_body.h"

#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

#include "tinymlops/bundle.h"

#define FUZZ_NOW 1798761600ull /* 2027-01-01T00:00:00Z, inside the test vectors' validity */

static uint8_t slot[FUZZ_BUNDLE_SLOT] __attribute__((aligned(16)));

static void contract(int ok)
{
    if (!ok)
        abort();
}

static void check_error(tmo_err e, const tmo_diag *d)
{
    contract(e == TMO_OK || strcmp(tmo_err_name(e), "EUNKNOWN") != 0);
    if (e != TMO_OK && d != NULL)
        contract(d->err == e);
}

static tmo_err counter_read(void *ctx, uint64_t *v)
{
    (void)ctx;
    *v = 0;
    return TMO_OK;
}

static tmo_err counter_advance(void *ctx, uint64_t v)
{
    (void)ctx;
    (void)v;
    return TMO_OK;
}

static tmo_err clock_now(void *ctx, uint64_t *now)
{
    (void)ctx;
    *now = FUZZ_NOW;
    return TMO_OK;
}

static psa_key_id_t import_device_key(const uint8_t priv[32])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr,
                          PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    psa_key_id_t id = 0;
    if (psa_import_key(&attr, priv, 32, &id) != PSA_SUCCESS)
        return 0;
    return id;
}

static tmo_err device_path(const uint8_t *data, size_t size)
{
    if (size < TMO_P256_PUBLIC_KEY_LEN + 32)
        return TMO_EINVAL;
    const uint8_t(*root)[TMO_P256_PUBLIC_KEY_LEN] = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])data;
    psa_key_id_t key = import_device_key(data + TMO_P256_PUBLIC_KEY_LEN);
    const uint8_t *bytes = data + TMO_P256_PUBLIC_KEY_LEN + 32;
    size_t len = size - TMO_P256_PUBLIC_KEY_LEN - 32;

    tmo_port_counter counter = {counter_read, counter_advance, NULL};
    tmo_port_clock clock = {clock_now, NULL};
    tmo_bundle_caps caps = {
        "x86_64",
        {TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR, TMO_RUNTIME_VERSION_PATCH},
        1u << 24,
        FUZZ_BUNDLE_SLOT,
        NULL};
    tmo_bundle_env env = {root, 1, &counter, &clock, &caps, key};
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle b;
    tmo_diag d;
    tmo_err e = tmo_port_reader_mem(&r, &mem, bytes, len);
    if (e == TMO_OK) {
        e = tmo_bundle_verify(&b, &r, &env, &d);
        check_error(e, &d);
    }
    if (e == TMO_OK) {
        contract(b.manifest.payload_size <= FUZZ_BUNDLE_SLOT);
        memset(slot, 0xA5, sizeof slot);
        e = tmo_bundle_load(&b, slot, sizeof slot, &d);
        check_error(e, &d);
        if (e != TMO_OK)
            for (size_t i = 0; i < b.manifest.payload_size; i++)
                contract(slot[i] == 0); /* [B-8.3] nothing unchecked left in the slot */
        if (e == TMO_OK) {
            e = tmo_bundle_accept(&b, &d);
            check_error(e, &d);
        }
    }
    tmo_bundle_close(&b);
    if (key != 0)
        psa_destroy_key(key);
    return e;
}

static tmo_err formats(int mode, const uint8_t *data, size_t size)
{
    tmo_diag d;
    tmo_diag_clear(&d);
    tmo_err e;
    if (mode == 1) {
        tmo_bundle_manifest m;
        e = tmo_bundle_manifest_parse(&m, data, size, &d);
        if (e == TMO_OK)
            for (uint32_t i = 0; i < m.arch_count; i++) {
                uint32_t n = 0;
                const char *a = tmo_bundle_manifest_arch(&m, i, &n);
                contract(a != NULL && n >= 1 && n <= TMO_BUNDLE_MAX_ARCH &&
                         a + n <= (const char *)data + size);
            }
    } else if (mode == 2) {
        tmo_bundle_cert c;
        e = tmo_bundle_cert_parse(&c, data, size, &d);
        if (e == TMO_OK)
            contract(c.tbs_len + TMO_P256_SIGNATURE_LEN == size);
    } else {
        tmo_bundle_header h;
        tmo_port_mem mem;
        tmo_port_reader r;
        if (size < TMO_BUNDLE_HEADER_SIZE || tmo_port_reader_mem(&r, &mem, data, size) != TMO_OK)
            return TMO_EINVAL;
        e = tmo_bundle_header_decode(&h, data, (uint32_t)size, &d);
        uint32_t off = TMO_BUNDLE_HEADER_SIZE;
        for (uint32_t i = 0; e == TMO_OK && i < h.section_count; i++) {
            tmo_bundle_section s;
            e = tmo_bundle_section_at(&r, off, &s, &d);
            if (e != TMO_OK)
                break;
            contract((uint64_t)s.offset + 8 + s.length <= size);
            if (s.tag == TMO_SECTION_WRAP) {
                tmo_bundle_wrap w;
                tmo_diag wd;
                check_error(tmo_bundle_wrap_parse(&w, data + off + 8, s.length, &wd), &wd);
            }
            if (s.tag == TMO_SECTION_PAYLOAD)
                break;
            off = tmo_bundle_section_next(&s);
        }
    }
    check_error(e, &d);
    return e;
}

tmo_err fuzz_bundle_run(const uint8_t *data, size_t size)
{
    if (size == 0)
        return TMO_EINVAL;
    if (psa_crypto_init() != PSA_SUCCESS)
        abort();
    int mode = data[0] % 4;
    return mode == 0 ? device_path(data + 1, size - 1) : formats(mode, data + 1, size - 1);
}
