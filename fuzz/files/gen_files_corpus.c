/*
 * Writes the binary seeds of the fuzz/files targets (the text seeds of
 * train_csv and scenario are written by hand): raw training files,
 * gzip-compressed data sets, key files, and update journals the engine
 * wrote itself at every step of an install, plus update_state_data.h (the
 * signed bundles and root key the update_state target places in its slots;
 * regenerating it and the update_state seeds together keeps them matched).
 *
 * Usage: fuzz_gen_files_corpus FUZZ_DIR   (the source tree's fuzz/)
 * Build target: cmake --build <build> --target fuzz_files_seed_corpus
 */
#include <mbedtls/pk.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "keys.h"
#include "update/update_priv.h"
#include "update_fixture.h"
#include "update_rig.h"

static const char *fuzz_dir;

static void put(const char *kind, const char *name, const void *data, size_t len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/corpus/%s", fuzz_dir, kind);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/corpus/%s/%s", fuzz_dir, kind, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A raw data file of n samples of f features of type (0 float32, 3 uint8, 9 int8). */
static size_t raw_file(uint8_t *out, uint32_t n, uint32_t f, uint32_t type, int bad_label)
{
    size_t es = type == 0 ? 4 : 1, at = 24;
    memcpy(out, "TMODATA1", 8);
    le32(out + 8, n);
    le32(out + 12, f);
    le32(out + 16, type);
    le32(out + 20, 0);
    for (uint32_t i = 0; i < n * f; i++, at += es) {
        if (type == 0) {
            float v = (float)i * 0.25f - 3.0f;
            uint32_t bits;
            memcpy(&bits, &v, 4);
            le32(out + at, bits);
        } else {
            out[at] = (uint8_t)(i * 37);
        }
    }
    for (uint32_t i = 0; i < n; i++, at += 4)
        le32(out + at, bad_label && i == n - 1 ? 1000 : i % 3);
    return at;
}

static size_t gz(const void *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        fprintf(stderr, "deflate failed\n");
        exit(1);
    }
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static void train_seeds(void)
{
    uint8_t raw[4096], z[4096];
    size_t n;
    n = raw_file(raw, 6, 4, 0, 0);
    put("train_raw", "valid-float32-6x4.bin", raw, n);
    n = gz(raw, n, z, sizeof z);
    put("train_gz", "valid-float32-6x4.bin.gz", z, n);
    put("train_gz", "truncated-float32.bin.gz", z, n - 9);
    n = raw_file(raw, 5, 8, 3, 0);
    put("train_raw", "valid-uint8-5x8.bin", raw, n);
    put("train_raw", "truncated-uint8.bin", raw, n - 3);
    n = raw_file(raw, 3, 16, 9, 0);
    put("train_raw", "valid-int8-3x16.bin", raw, n);
    n = raw_file(raw, 4, 2, 0, 1);
    put("train_raw", "label-out-of-range.bin", raw, n);
    static const char csv[] = "# digits-like\nf0,f1,f2,label\n0.5,1,2,0\n3,-4.25,5e-1,1\n"
                              "7,8,9,2\n\n1,1,1,0\n";
    n = gz(csv, sizeof csv - 1, z, sizeof z);
    put("train_gz", "valid-header.csv.gz", z, n);
    z[n - 5] ^= 0x40; /* the ISIZE/CRC trailer no longer matches */
    put("train_gz", "bad-trailer.csv.gz", z, n);
    put("train_gz", "truncated-header.csv.gz", z, 10);
    put("train_gz", "valid-plain.csv", csv, sizeof csv - 1);
    /* Two gzip members: gzread reads both. */
    size_t a = gz("1,2,0\n", 6, z, sizeof z);
    size_t b = gz("3,4,1\n", 6, z + a, sizeof z - a);
    put("train_gz", "valid-two-members.csv.gz", z, a + b);
}

static void key_seeds(void)
{
    host_key k;
    char err[300];
    if (host_key_generate(&k, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
    mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1);
    mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, k.pub, sizeof k.pub);
    mbedtls_mpi_read_binary(&ec->d, k.priv, sizeof k.priv);
    unsigned char buf[1024];
    if (mbedtls_pk_write_key_pem(&pk, buf, sizeof buf) == 0)
        put("keyfile", "valid-sec1.key", buf, strlen((char *)buf));
    if (mbedtls_pk_write_pubkey_pem(&pk, buf, sizeof buf) == 0)
        put("keyfile", "valid-spki.pub", buf, strlen((char *)buf));
    int n = mbedtls_pk_write_key_der(&pk, buf, sizeof buf);
    if (n > 0)
        put("keyfile", "valid-sec1.der", buf + sizeof buf - n, (size_t)n);
    n = mbedtls_pk_write_pubkey_der(&pk, buf, sizeof buf);
    if (n > 0) {
        put("keyfile", "valid-spki.der", buf + sizeof buf - n, (size_t)n);
        put("keyfile", "truncated-spki.der", buf + sizeof buf - n, (size_t)n - 7);
    }
    mbedtls_pk_free(&pk);
    host_key_wipe(&k);
}

/* ---- update_state ---- */

static ufx_bundle ub[2];
static rig R;
static tmo_update U;

static rig_bundle rb(int i)
{
    return (rig_bundle){ub[i].bytes, ub[i].len, ub[i].digest, i == 0 ? 1 : 2};
}

/* Whether p[0..n) is all value. */
static int all_of(const uint8_t *p, size_t n, uint8_t value)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

/*
 * The rig's state as fuzz_update_state.c reads it: flags, geometry, and every
 * non-erased record space of the journal. Slot codes: 0 junk, 1 erased,
 * 2 bundle 1, 3 bundle 2.
 */
static void put_state(const char *name, int slot_a, int slot_b, uint8_t flags_hi, uint8_t g)
{
    static uint8_t seed[2 + 2 * 13 * (1 + TMO_JOURNAL_RECORD_LEN)];
    uint64_t nv = R.counter > 2 ? 2 : R.counter;
    uint32_t wu = R.port.write_unit;
    int wcode = wu == 1 ? 0 : wu == 4 ? 1 : wu == 8 ? 2 : 3;
    seed[0] = (uint8_t)(slot_a | slot_b << 2 | (int)nv << 4 | flags_hi);
    seed[1] = (uint8_t)(g | (R.port.erase_unit == 4096 ? 4 : 0) | wcode << 5 |
                        (R.port.erased_value == 0 ? 0x80 : 0));
    size_t n = 2;
    for (uint32_t h = 0; h < 2; h++)
        for (uint32_t k = 0; k < U.rec_per_half; k++) {
            const uint8_t *rec = R.journal + h * U.half_len + k * U.rec_space;
            if (all_of(rec, U.rec_space, R.port.erased_value))
                continue;
            seed[n++] = (uint8_t)(h << 7 | k);
            memcpy(seed + n, rec, TMO_JOURNAL_RECORD_LEN);
            n += TMO_JOURNAL_RECORD_LEN;
        }
    put("update_state", name, seed, n);
}

static void must(tmo_err e, const char *what)
{
    if (e != TMO_OK) {
        fprintf(stderr, "update seeds: %s: %s\n", what, tmo_err_name(e));
        exit(1);
    }
}

static void open_fresh(uint32_t unit, uint32_t write_unit, uint8_t erased)
{
    tmo_diag d;
    rig_init(&R, ufx_roots()[0], unit, write_unit, erased, 0);
    must(tmo_update_open(&U, &R.cfg, &d), "open");
}

static void update_seeds(void)
{
    tmo_diag d;
    tmo_boot_report rep;
    rig_bundle b1 = rb(0), b2 = rb(1);
    /* Geometries: 512-byte units and 8-byte words (3 records a half); 4 KiB units and 32-byte
     * words (12 a half); byte-writable flash that erases to 0x00. */
    static const struct {
        uint32_t unit, write_unit;
        uint8_t erased;
        const char *sfx;
    } geo[3] = {{512, 8, 0xFF, ""}, {4096, 32, 0xFF, "-4k"}, {512, 1, 0x00, "-zero"}};
    for (int gi = 0; gi < 3; gi++) {
        uint32_t unit = geo[gi].unit, wu = geo[gi].write_unit;
        uint8_t erased = geo[gi].erased;
        const char *sfx = geo[gi].sfx;
        char name[100];
        open_fresh(unit, wu, erased);
        snprintf(name, sizeof name, "fresh%s", sfx);
        put_state(name, 1, 1, 0x40 | 0x80, 0);
        must(tmo_update_begin(&U, (uint32_t)b1.len, b1.digest, 1, &(uint32_t){0}, &d), "begin");
        must(tmo_update_write(&U, 0, b1.bytes, 512, &d), "write");
        snprintf(name, sizeof name, "receiving-a%s", sfx);
        put_state(name, 2, 1, 0x40 | 0x80, 0);
        open_fresh(unit, wu, erased);
        must(rig_download(&U, &b1, 1, &d), "download 1");
        snprintf(name, sizeof name, "ready-a%s", sfx);
        put_state(name, 2, 1, 0x40, 0x08);
        must(tmo_update_activate(&U, &d), "activate 1");
        snprintf(name, sizeof name, "trial-a%s", sfx);
        put_state(name, 2, 1, 0x40, 0);
        snprintf(name, sizeof name, "trial-a-continues%s", sfx);
        put_state(name, 2, 1, 0x40 | 0x80, 1);
        must(tmo_update_confirm(&U, &d), "confirm 1");
        snprintf(name, sizeof name, "valid-good-a%s", sfx);
        put_state(name, 2, 1, 0x40, 0);
        must(rig_download(&U, &b2, 2, &d), "download 2");
        snprintf(name, sizeof name, "ready-b-over-good-a%s", sfx);
        put_state(name, 2, 3, 0x40, 0x08 | 0x10);
        must(tmo_update_activate(&U, &d), "activate 2");
        snprintf(name, sizeof name, "trial-b-over-good-a%s", sfx);
        put_state(name, 2, 3, 0x40, 0);
        /* Confirm cut between the journal record and the counter: NV still 1. */
        tmo_update_state next = *tmo_update_get_state(&U);
        next.slot[1].state = TMO_SLOT_GOOD;
        must(journal_store(&U, &next, &d), "journal GOOD");
        snprintf(name, sizeof name, "valid-confirm-cut%s", sfx);
        put_state(name, 2, 3, 0x40, 0);
        must(tmo_update_boot(&U, &rep, &d), "boot");
        snprintf(name, sizeof name, "valid-two-good%s", sfx);
        put_state(name, 2, 3, 0x40 | 0x80, 0);
        /* The slot of the active model damaged: boot falls back to the other. */
        snprintf(name, sizeof name, "active-slot-junk%s", sfx);
        put_state(name, 2, 0, 0x40, 0);
        /* A torn newest record: the older one holds. */
        R.journal[U.half * U.half_len + (U.next_rec - 1) * U.rec_space + 40] ^= 0x10;
        snprintf(name, sizeof name, "torn-newest-record%s", sfx);
        put_state(name, 2, 3, 0, 0);
    }
}

/* The bundles and root key of update_state_data.h. */
static void write_array(FILE *f, const char *name, const uint8_t *p, size_t n)
{
    fprintf(f, "static const uint8_t %s[%zu] = {", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s0x%02x,", i % 16 == 0 ? "\n    " : " ", p[i]);
    fprintf(f, "\n};\n");
}

static void write_data_header(void)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/files/update_state_data.h", fuzz_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fprintf(
        f, "/* Written by gen_files_corpus.c: two signed bundles (\"test/model\" 1.0.0 counter 1,\n"
           " * 1.1.0 counter 2) and the root key that signed their certificate. Do not edit. */\n"
           "#ifndef TMO_FUZZ_UPDATE_STATE_DATA_H\n#define TMO_FUZZ_UPDATE_STATE_DATA_H\n\n"
           "#include <stdint.h>\n\n#define US_COUNTER1 1\n#define US_COUNTER2 2\n\n");
    write_array(f, "us_root", ufx_roots()[0], TMO_P256_PUBLIC_KEY_LEN);
    write_array(f, "us_bundle1", ub[0].bytes, ub[0].len);
    write_array(f, "us_digest1", ub[0].digest, TMO_SHA256_LEN);
    write_array(f, "us_bundle2", ub[1].bytes, ub[1].len);
    write_array(f, "us_digest2", ub[1].digest, TMO_SHA256_LEN);
    fprintf(f, "\n#endif\n");
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_gen_files_corpus FUZZ_DIR\n");
        return 2;
    }
    fuzz_dir = argv[1];
    if (psa_crypto_init() != PSA_SUCCESS || ufx_setup() != 0)
        return 1;
    train_seeds();
    key_seeds();
    ufx_spec s1 = {.version = "1.0.0", .counter = 1, .hidden = 4};
    ufx_spec s2 = {.version = "1.1.0", .counter = 2, .hidden = 6};
    if (ufx_make(&s1, &ub[0]) != 0 || ufx_make(&s2, &ub[1]) != 0 || ub[0].len > RIG_SLOT_SIZE ||
        ub[1].len > RIG_SLOT_SIZE) {
        fprintf(stderr, "cannot make the bundles\n");
        return 1;
    }
    write_data_header();
    update_seeds();
    ufx_bundle_free(&ub[0]);
    ufx_bundle_free(&ub[1]);
    return 0;
}
