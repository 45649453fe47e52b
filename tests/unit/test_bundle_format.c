/*
 * The bundle format parsers (runtime/bundle: header, sections, manifest,
 * certificate, wrap) against bytes written here by hand from
 * docs/bundle-format.md, not by the host writer: each test names the
 * requirement [B-x.y] it checks, and each rule is broken once to show the
 * parser rejects exactly that with the documented error and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <psa/crypto.h>

#include "tinymlops/bundle.h"

/* ---- little-endian writing, independent of host/bundle_writer ---- */

typedef struct {
    uint8_t b[2048];
    size_t n;
} bytes;

static void put(bytes *x, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}

static void put_raw(bytes *x, const void *p, size_t n)
{
    if (n > 0)
        memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void field(bytes *x, uint16_t id, const void *v, uint16_t len)
{
    put(x, id, 2);
    put(x, len, 2);
    put_raw(x, v, len);
}

static void field_u64(bytes *x, uint16_t id, uint64_t v)
{
    put(x, id, 2);
    put(x, 8, 2);
    put(x, v, 8);
}

static void field_ver(bytes *x, uint16_t id, uint16_t a, uint16_t b, uint16_t c)
{
    put(x, id, 2);
    put(x, 8, 2);
    put(x, a, 2);
    put(x, b, 2);
    put(x, c, 2);
    put(x, 0, 2);
}

static const uint8_t digest_a[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* Which fields a test manifest gets; -1 omits one, skip_id leaves it out. */
typedef struct {
    uint16_t skip_id;
    int encrypted;
    int with_arch_and_expiry;
} mf_opts;

/* A complete manifest with ids in ascending order [B-4.2, B-4.3]. */
static void manifest(bytes *x, mf_opts o)
{
    x->n = 0;
    if (o.skip_id != 0x0001)
        field(x, 0x0001, "acme/kws-1.0", 12);
    if (o.skip_id != 0x0002)
        field_ver(x, 0x0002, 1, 2, 3);
    if (o.skip_id != 0x0003)
        field_u64(x, 0x0003, 0x0102030405060708ull);
    if (o.skip_id != 0x0004)
        field_u64(x, 0x0004, 1000);
    if (o.with_arch_and_expiry) {
        field_u64(x, 0x0005, 2000);
        const uint8_t arch[] = {6,   'x', '8', '6', '_', '6', '4', 9,  'c',
                                'o', 'r', 't', 'e', 'x', '-', 'm', '4'};
        field(x, 0x0010, arch, sizeof arch);
    }
    if (o.skip_id != 0x0011)
        field_ver(x, 0x0011, 0, 1, 0);
    if (o.skip_id != 0x0012)
        field_u64(x, 0x0012, 4096);
    if (o.skip_id != 0x0013)
        field_u64(x, 0x0013, 700);
    const uint8_t ops[] = {3, 0, 9, 0, 25, 0}; /* CONV_2D, FULLY_CONNECTED, SOFTMAX */
    if (o.skip_id != 0x0014)
        field(x, 0x0014, ops, sizeof ops);
    if (o.skip_id != 0x0020)
        field_u64(x, 0x0020, 700);
    if (o.skip_id != 0x0021)
        field(x, 0x0021, digest_a, 32);
    uint8_t model_digest[32];
    memcpy(model_digest, digest_a, 32);
    if (o.encrypted)
        model_digest[0] ^= 0xFF;
    if (o.skip_id != 0x0022)
        field(x, 0x0022, model_digest, 32);
    uint8_t enc[29] = {1};
    for (int i = 1; i < 29; i++)
        enc[i] = (uint8_t)(0xA0 + i);
    if (o.skip_id != 0x0023)
        field(x, 0x0023, enc, o.encrypted ? 29 : 1);
    if (!o.encrypted && o.skip_id != 0x0023)
        x->b[x->n - 1] = 0;
}

static tmo_err parse(const bytes *x, tmo_bundle_manifest *m, tmo_diag *d)
{
    return tmo_bundle_manifest_parse(m, x->b, x->n, d);
}

static void expect_field(tmo_err got, tmo_err want, const tmo_diag *d, const char *field_name)
{
    assert_int_equal(got, want);
    assert_int_equal(d->err, want);
    assert_non_null(d->field);
    assert_string_equal(d->field, field_name);
}

static void manifest_fields_decode(void **state)
{
    (void)state;
    bytes x;
    tmo_bundle_manifest m;
    tmo_diag d;
    manifest(&x, (mf_opts){0, 1, 1});
    assert_int_equal(parse(&x, &m, &d), TMO_OK);
    assert_int_equal(m.name_len, 12);
    assert_memory_equal(m.name, "acme/kws-1.0", 12);
    assert_int_equal(m.version.major, 1);
    assert_int_equal(m.version.minor, 2);
    assert_int_equal(m.version.patch, 3);
    assert_true(m.counter == 0x0102030405060708ull);
    assert_int_equal(m.created, 1000);
    assert_true(m.has_expires);
    assert_int_equal(m.expires, 2000);
    assert_int_equal(m.arch_count, 2);
    uint32_t n;
    const char *a = tmo_bundle_manifest_arch(&m, 1, &n);
    assert_int_equal(n, 9);
    assert_memory_equal(a, "cortex-m4", 9);
    assert_null(tmo_bundle_manifest_arch(&m, 2, &n));
    assert_int_equal(m.min_runtime.minor, 1);
    assert_int_equal(m.arena_bytes, 4096);
    assert_int_equal(m.flash_bytes, 700);
    assert_int_equal(m.op_count, 3);
    assert_int_equal(m.ops_le[2], 9);
    assert_int_equal(m.payload_size, 700);
    assert_memory_equal(m.payload_digest, digest_a, 32);
    assert_int_equal(m.encryption, TMO_ENC_AES256_GCM);
    assert_int_equal(m.nonce[0], 0xA1);
    assert_int_equal(m.tag[0], 0xA1 + 12);
}

/* [B-4.3] every required field missing once. */
static void manifest_required_fields(void **state)
{
    (void)state;
    static const struct {
        uint16_t id;
        const char *field;
    } req[] = {{0x0001, "manifest.name"},
               {0x0002, "manifest.version"},
               {0x0003, "manifest.security_counter"},
               {0x0004, "manifest.created"},
               {0x0011, "manifest.min_runtime"},
               {0x0012, "manifest.arena_bytes"},
               {0x0013, "manifest.flash_bytes"},
               {0x0014, "manifest.ops"},
               {0x0020, "manifest.payload_size"},
               {0x0021, "manifest.payload_digest"},
               {0x0022, "manifest.model_digest"},
               {0x0023, "manifest.encryption"}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        bytes x;
        tmo_bundle_manifest m;
        tmo_diag d;
        manifest(&x, (mf_opts){req[i].id, 1, 0});
        expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, req[i].field);
        assert_string_equal(d.problem, "required field missing");
    }
}

/* [B-4.2] order, uniqueness, unknown ids, field bounds. */
static void manifest_encoding_rules(void **state)
{
    (void)state;
    bytes x;
    tmo_bundle_manifest m;
    tmo_diag d;

    manifest(&x, (mf_opts){0, 0, 0});
    assert_int_equal(parse(&x, &m, &d), TMO_OK);
    /* An optional unknown field (id >= 0x8000) at the end is skipped. */
    field(&x, 0x8001, "future", 6);
    assert_int_equal(parse(&x, &m, &d), TMO_OK);
    /* A mandatory unknown id (< 0x8000) is refused. */
    manifest(&x, (mf_opts){0, 0, 0});
    field(&x, 0x0040, "x", 1);
    expect_field(parse(&x, &m, &d), TMO_EUNSUPPORTED, &d, "manifest.field");
    assert_int_equal(d.value, 0x40);
    /* Repeating a field (= not strictly ascending). */
    manifest(&x, (mf_opts){0, 0, 0});
    field(&x, 0x0023, "\0", 1);
    expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, "manifest.encryption");
    /* Out of order: name after version. */
    x.n = 0;
    field_ver(&x, 0x0002, 1, 0, 0);
    field(&x, 0x0001, "a", 1);
    expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, "manifest.name");
    /* A field running past the end, and a truncated field header. */
    manifest(&x, (mf_opts){0, 0, 0});
    x.b[2] = 200; /* NAME claims 200 bytes */
    x.n = 40;
    expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, "manifest.name");
    manifest(&x, (mf_opts){0, 0, 0});
    x.n += 3;
    expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, "manifest");
    /* Larger than TMO_BUNDLE_MAX_MANIFEST [B-4.1]. */
    assert_int_equal(tmo_bundle_manifest_parse(&m, x.b, TMO_BUNDLE_MAX_MANIFEST + 1, &d),
                     TMO_EBADBUNDLE);
}

/* Replaces the value of field id (same length) in a default manifest and parses. */
static tmo_err with_value(uint16_t id, const void *v, uint16_t len, int encrypted, tmo_diag *d)
{
    bytes x, y;
    tmo_bundle_manifest m;
    manifest(&x, (mf_opts){0, encrypted, 1});
    y.n = 0;
    for (size_t pos = 0; pos < x.n;) {
        uint16_t fid = (uint16_t)(x.b[pos] | x.b[pos + 1] << 8),
                 flen = (uint16_t)(x.b[pos + 2] | x.b[pos + 3] << 8);
        if (fid == id)
            field(&y, id, v, len);
        else
            put_raw(&y, x.b + pos, 4u + flen);
        pos += 4u + flen;
    }
    return parse(&y, &m, d);
}

/* [B-4.3, B-4.4, B-4.6, B-4.7] value rules of single fields. */
static void manifest_field_values(void **state)
{
    (void)state;
    tmo_diag d;
    expect_field(with_value(0x0001, "Bad Name", 8, 0, &d), TMO_EBADBUNDLE, &d, "manifest.name");
    expect_field(with_value(0x0001, "", 0, 0, &d), TMO_EBADBUNDLE, &d, "manifest.name");
    char long_name[65];
    memset(long_name, 'a', sizeof long_name);
    expect_field(with_value(0x0001, long_name, 65, 0, &d), TMO_EBADBUNDLE, &d, "manifest.name");
    assert_int_equal(with_value(0x0001, long_name, 64, 0, &d), TMO_OK);
    const uint8_t ver_reserved[8] = {1, 0, 0, 0, 0, 0, 1, 0};
    expect_field(with_value(0x0002, ver_reserved, 8, 0, &d), TMO_EBADBUNDLE, &d,
                 "manifest.version");
    expect_field(with_value(0x0003, "1234567", 7, 0, &d), TMO_EBADBUNDLE, &d,
                 "manifest.security_counter");
    const uint8_t ops_unsorted[] = {9, 0, 3, 0};
    expect_field(with_value(0x0014, ops_unsorted, 4, 0, &d), TMO_EBADBUNDLE, &d, "manifest.ops");
    const uint8_t ops_odd[] = {9, 0, 3};
    expect_field(with_value(0x0014, ops_odd, 3, 0, &d), TMO_EBADBUNDLE, &d, "manifest.ops");
    assert_int_equal(with_value(0x0014, NULL, 0, 0, &d), TMO_OK); /* a model without operators */
    const uint8_t enc_unknown[1] = {7};
    expect_field(with_value(0x0023, enc_unknown, 1, 0, &d), TMO_EUNSUPPORTED, &d,
                 "manifest.encryption");
    const uint8_t enc_short[13] = {1};
    expect_field(with_value(0x0023, enc_short, 13, 1, &d), TMO_EBADBUNDLE, &d,
                 "manifest.encryption");
    /* [B-4.6] unencrypted: model digest must equal payload digest. */
    uint8_t other[32];
    memcpy(other, digest_a, 32);
    other[31] ^= 1;
    expect_field(with_value(0x0022, other, 32, 0, &d), TMO_EBADBUNDLE, &d, "manifest.model_digest");
    /* [B-4.8] payload size must fit a bundle. */
    const uint8_t huge[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    expect_field(with_value(0x0020, huge, 8, 0, &d), TMO_EBADBUNDLE, &d, "manifest.payload_size");

    /* [B-4.7] expiry must be after creation; arch list rules [B-4.5]. */
    bytes x;
    tmo_bundle_manifest m;
    manifest(&x, (mf_opts){0, 0, 1});
    assert_int_equal(parse(&x, &m, &d), TMO_OK);
    x.b[4 + 12 + 4 + 8 + 4 + 8 + 4 + 8 + 4] = 0xE8; /* EXPIRES low byte: 2000 -> 1000 (= created) */
    x.b[4 + 12 + 4 + 8 + 4 + 8 + 4 + 8 + 4 + 1] = 0x03;
    expect_field(parse(&x, &m, &d), TMO_EBADBUNDLE, &d, "manifest.expires");
    const uint8_t arch_bad[] = {3, 'x', ' ', 'y'};
    expect_field(with_value(0x0010, arch_bad, 4, 0, &d), TMO_EBADBUNDLE, &d, "manifest.arch");
}

/* ---- header [B-2] and sections [B-3] ---- */

static void header_bytes(bytes *x, uint32_t total)
{
    x->n = 0;
    put_raw(x, "TMOB", 4);
    put(x, 1, 2);     /* format version */
    put(x, 32, 2);    /* header size */
    put(x, total, 4); /* total length */
    put(x, 5, 2);     /* sections */
    put(x, 1, 2);     /* flags: encrypted */
    put(x, 256, 4);   /* payload offset */
    put(x, total - 256, 4);
    put(x, 0, 8);
}

static void header_rules(void **state)
{
    (void)state;
    bytes x;
    tmo_bundle_header h;
    tmo_diag d;
    header_bytes(&x, 1000);
    assert_int_equal(tmo_bundle_header_decode(&h, x.b, 1000, &d), TMO_OK);
    assert_int_equal(h.section_count, 5);
    assert_int_equal(h.flags, TMO_BUNDLE_FLAG_ENCRYPTED);
    assert_int_equal(h.payload_offset, 256);
    assert_int_equal(h.payload_length, 744);

    static const struct {
        size_t at;
        uint8_t value;
        tmo_err err;
        const char *field;
    } bad[] = {
        {0, 'X', TMO_EBADBUNDLE, "header.magic"},            /* B-2.1 */
        {4, 2, TMO_EUNSUPPORTED, "header.format_version"},   /* B-2.2 */
        {6, 40, TMO_EBADBUNDLE, "header.header_size"},       /* B-2.3 */
        {8, 0xE9, TMO_EBADBUNDLE, "header.total_length"},    /* B-2.4: 1001 != file size */
        {12, 3, TMO_EBADBUNDLE, "header.section_count"},     /* B-2.5 */
        {14, 3, TMO_EBADBUNDLE, "header.flags"},             /* B-2.6 */
        {16, 0x08, TMO_EBADBUNDLE, "header.payload_offset"}, /* B-2.7: 264 not 16-aligned */
        {20, 0xE9, TMO_EBADBUNDLE, "header.payload_length"}, /* B-2.7 */
        {31, 1, TMO_EBADBUNDLE, "header.reserved"},          /* B-2.8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        header_bytes(&x, 1000);
        x.b[bad[i].at] = bad[i].value;
        expect_field(tmo_bundle_header_decode(&h, x.b, 1000, &d), bad[i].err, &d, bad[i].field);
    }
}

static void section_rules(void **state)
{
    (void)state;
    bytes x;
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle_section s;
    tmo_diag d;
    x.n = 0;
    put(&x, 0x0003, 2);
    put(&x, 1, 2);
    put(&x, 13, 4);
    memset(x.b + 8, 0, 24);
    x.n = 32;
    assert_int_equal(tmo_port_reader_mem(&r, &mem, x.b, x.n), TMO_OK);
    assert_int_equal(tmo_bundle_section_at(&r, 0, &s, &d), TMO_OK);
    assert_int_equal(s.tag, 3);
    assert_int_equal(s.length, 13);
    assert_int_equal(tmo_bundle_section_next(&s), 24); /* 8 + 13 padded to 8 [B-3.1] */
    /* [B-3.3] unknown flag bits. */
    x.b[2] = 3;
    expect_field(tmo_bundle_section_at(&r, 0, &s, &d), TMO_EBADBUNDLE, &d, "section.flags");
    x.b[2] = 1;
    /* Value + padding past the end: 8 + 25 -> 40 > 32. */
    x.b[4] = 25;
    expect_field(tmo_bundle_section_at(&r, 0, &s, &d), TMO_EBADBUNDLE, &d, "section.length");
    x.b[4] = 24;
    assert_int_equal(tmo_bundle_section_at(&r, 0, &s, &d), TMO_OK);
    /* A misaligned section offset, or a header past the end. */
    assert_int_equal(tmo_bundle_section_at(&r, 4, &s, &d), TMO_EBADBUNDLE);
    assert_int_equal(tmo_bundle_section_at(&r, 32, &s, &d), TMO_EBADBUNDLE);
    /* The PAYLOAD value is not padded: 8 + 21 ends at 29 <= 32 but 8 + 25 does not. */
    x.b[0] = 0xFF;
    x.b[4] = 21;
    assert_int_equal(tmo_bundle_section_at(&r, 0, &s, &d), TMO_OK);
}

/* ---- certificate [B-5.1] ---- */

static void cert_bytes(bytes *x, const char *prefix)
{
    size_t p = strlen(prefix);
    x->n = 0;
    put_raw(x, "TMOC", 4);
    put(x, 1, 1); /* version */
    put(x, 1, 1); /* ECDSA P-256 SHA-256 */
    put(x, 1, 1); /* usage: bundle signing */
    put(x, p, 1);
    for (int i = 0; i < 16; i++)
        put(x, 0x10 + i, 1); /* issuer id */
    for (int i = 0; i < 16; i++)
        put(x, 0x20 + i, 1); /* subject id */
    put(x, 4, 1);
    for (int i = 0; i < 64; i++)
        put(x, i, 1); /* subject key */
    put(x, 0, 3);
    put(x, 100, 8);
    put(x, 200, 8);
    put_raw(x, prefix, p);
    for (int i = 0; i < 64; i++)
        put(x, 0xEE, 1); /* signature */
}

static void cert_layout(void **state)
{
    (void)state;
    bytes x;
    tmo_bundle_cert c;
    tmo_diag d;
    cert_bytes(&x, "acme/");
    assert_int_equal(x.n, 124 + 5 + 64);
    assert_int_equal(tmo_bundle_cert_parse(&c, x.b, x.n, &d), TMO_OK);
    assert_int_equal(c.issuer_id[0], 0x10);
    assert_int_equal(c.subject_id[15], 0x2F);
    assert_int_equal(c.subject_key[0], 4);
    assert_int_equal(c.not_before, 100);
    assert_int_equal(c.not_after, 200);
    assert_int_equal(c.prefix_len, 5);
    assert_memory_equal(c.prefix, "acme/", 5);
    assert_int_equal(c.tbs_len, 129);
    assert_int_equal(c.signature[0], 0xEE);

    static const struct {
        size_t at;
        uint8_t value;
        const char *field;
    } bad[] = {{0, 'X', "cert.magic"},    {4, 2, "cert.version"},      {5, 2, "cert.algorithm"},
               {6, 2, "cert.usage"},      {7, 4, "cert.length"},       {7, 65, "cert.prefix"},
               {106, 1, "cert.reserved"}, {108, 201, "cert.validity"}, {124, ' ', "cert.prefix"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cert_bytes(&x, "acme/");
        x.b[bad[i].at] = bad[i].value;
        expect_field(tmo_bundle_cert_parse(&c, x.b, x.n, &d), TMO_ECERT, &d, bad[i].field);
    }
    cert_bytes(&x, "");
    expect_field(tmo_bundle_cert_parse(&c, x.b, x.n - 1, &d), TMO_ECERT, &d, "cert.length");
}

/* ---- wrap [B-6.3] and key id [B-5.2] ---- */

static void wrap_layout_and_key_id(void **state)
{
    (void)state;
    uint8_t w[TMO_WRAP_LEN];
    for (size_t i = 0; i < sizeof w; i++)
        w[i] = (uint8_t)i;
    w[0] = 1;
    tmo_bundle_wrap p;
    tmo_diag d;
    assert_int_equal(TMO_WRAP_LEN, 130);
    assert_int_equal(tmo_bundle_wrap_parse(&p, w, sizeof w, &d), TMO_OK);
    assert_ptr_equal(p.recipient_id, w + 1);
    assert_ptr_equal(p.ephemeral_key, w + 17);
    assert_ptr_equal(p.wrapped_key, w + 82);
    assert_ptr_equal(p.tag, w + 114);
    expect_field(tmo_bundle_wrap_parse(&p, w, sizeof w - 1, &d), TMO_EBADBUNDLE, &d, "wrap.length");
    w[0] = 2;
    expect_field(tmo_bundle_wrap_parse(&p, w, sizeof w, &d), TMO_EUNSUPPORTED, &d, "wrap.scheme");

    /* Key id = first 16 bytes of SHA-256 over the 65-byte key: the key 04 00 01 .. 3f hashes to
     * a value computed here with PSA's one-shot hash, independently of the library's helper. */
    uint8_t key[65], id[16], full[32];
    size_t n;
    key[0] = 4;
    for (int i = 1; i < 65; i++)
        key[i] = (uint8_t)(i - 1);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    assert_int_equal(psa_hash_compute(PSA_ALG_SHA_256, key, 65, full, 32, &n), PSA_SUCCESS);
    assert_int_equal(tmo_bundle_key_id(key, id), TMO_OK);
    assert_memory_equal(id, full, 16);
}

static void name_charset(void **state)
{
    (void)state;
    assert_true(tmo_bundle_name_valid("a", 1));
    assert_true(tmo_bundle_name_valid("acme/kws_v2.1-b", 15));
    assert_false(tmo_bundle_name_valid("", 0));
    assert_false(tmo_bundle_name_valid("a b", 3));
    assert_false(tmo_bundle_name_valid("a\nb", 3));
    assert_false(tmo_bundle_name_valid("caf\xc3\xa9", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manifest_fields_decode),
        cmocka_unit_test(manifest_required_fields),
        cmocka_unit_test(manifest_encoding_rules),
        cmocka_unit_test(manifest_field_values),
        cmocka_unit_test(header_rules),
        cmocka_unit_test(section_rules),
        cmocka_unit_test(cert_layout),
        cmocka_unit_test(wrap_layout_and_key_id),
        cmocka_unit_test(name_charset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
