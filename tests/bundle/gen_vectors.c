/*
 * Writes the published bundle test vectors (docs/test-vectors/bundle/):
 * keys, certificate, a small model made by host/tflite_writer, a plain and
 * an encrypted bundle, the content key of the encrypted one, and
 * expected.json / SHA256SUMS describing them; and the bundle fuzzer's seeds
 * made from them (fuzz/corpus/bundle/, layout in fuzz/fuzz_bundle_body.h).
 * Run once and commit the output:
 *   cmake --build BUILD --target bundle_test_vectors
 * test_bundle_vectors (C, device library) and interop_openssl.py (openssl +
 * python3-cryptography) re-verify the committed files on every test run.
 * Keys are fresh on each generation: the files, not the generator, are the
 * vectors.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle_fixture.h"
#include "bundle_time.h"

#define CREATED 1767225600ull   /* 2026-01-01T00:00:00Z */
#define NOT_AFTER 4922899200ull /* 2126-01-01T00:00:00Z */

static const char *dir;

static void die(const char *what)
{
    fprintf(stderr, "gen_vectors: %s\n", what);
    exit(1);
}

static void path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static void write_bytes(const char *name, const void *data, size_t len)
{
    char p[4096], err[512];
    path(p, sizeof p, name);
    if (host_write_file(p, data, len, err, sizeof err) != 0)
        die(err);
}

static void new_key(host_key *k, const char *name)
{
    char p[4096], err[512], file[4200];
    path(p, sizeof p, name);
    snprintf(file, sizeof file, "%s.key", p);
    unlink(file);
    snprintf(file, sizeof file, "%s.pub", p);
    unlink(file);
    if (host_key_generate(k, err, sizeof err) != 0 || host_key_write(k, p, err, sizeof err) != 0)
        die(err);
}

/* A fuzz seed: mode byte, then the parts. */
static void seed(const char *fuzz_dir, const char *name, uint8_t mode, const void *a, size_t a_len,
                 const void *b, size_t b_len, const void *c, size_t c_len)
{
    char p[4096], err[512];
    uint8_t *buf = malloc(1 + a_len + b_len + c_len);
    if (buf == NULL)
        die("out of memory");
    buf[0] = mode;
    if (a_len > 0)
        memcpy(buf + 1, a, a_len);
    if (b_len > 0)
        memcpy(buf + 1 + a_len, b, b_len);
    if (c_len > 0)
        memcpy(buf + 1 + a_len + b_len, c, c_len);
    snprintf(p, sizeof p, "%s/%s", fuzz_dir, name);
    if (host_write_file(p, buf, 1 + a_len + b_len + c_len, err, sizeof err) != 0)
        die(err);
    free(buf);
}

static void write_seeds(const char *fuzz_dir, const host_key *root, const host_key *dev,
                        const uint8_t *plain, size_t plain_len, const uint8_t *enc, size_t enc_len,
                        const uint8_t *cert, size_t cert_len)
{
    tmo_bundle_section m, w;
    if (hb_find_section(enc, enc_len, TMO_SECTION_MANIFEST, &m) != 0 ||
        hb_find_section(enc, enc_len, TMO_SECTION_WRAP, &w) != 0)
        die("sections");
    seed(fuzz_dir, "valid-plain.bin", 0, root->pub, 65, dev->priv, 32, plain, plain_len);
    seed(fuzz_dir, "valid-encrypted.bin", 0, root->pub, 65, dev->priv, 32, enc, enc_len);
    seed(fuzz_dir, "valid-manifest.bin", 1, enc + m.offset + 8, m.length, NULL, 0, NULL, 0);
    seed(fuzz_dir, "valid-cert.bin", 2, cert, cert_len, NULL, 0, NULL, 0);
    seed(fuzz_dir, "valid-layout.bin", 3, enc, enc_len, NULL, 0, NULL, 0);
    seed(fuzz_dir, "wrap-only.bin", 3, enc + w.offset + 8, w.length, NULL, 0, NULL, 0);
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

static void sums_line(FILE *f, const char *name, const uint8_t *data, size_t len)
{
    uint8_t h[32];
    if (hb_sha256(data, len, h) != 0)
        die("sha256");
    hex(f, h, 32);
    fprintf(f, "  %s\n", name);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        die("usage: gen_vectors OUTPUT_DIR [FUZZ_SEED_DIR]");
    dir = argv[1];
    host_key root, signing, dev1, dev2;
    new_key(&root, "root");
    new_key(&signing, "signing");
    new_key(&dev1, "device1");
    new_key(&dev2, "device2");
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len = 0, model_len = 0;
    if (hb_cert_make(&root, signing.pub, CREATED, NOT_AFTER, "vectors/", cert, &cert_len) != 0)
        die("certificate");
    write_bytes("signing.cert", cert, cert_len);
    uint8_t *model = fx_make_model(&model_len, 3);
    write_bytes("model.tflite", model, model_len);

    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = model;
    in.model_len = model_len;
    in.name = "vectors/fc";
    in.version = (tmo_semver){1, 0, 0};
    in.counter = 1;
    in.created = CREATED;
    in.signer = &signing;
    in.cert = cert;
    in.cert_len = cert_len;
    uint8_t *plain, *enc;
    size_t plain_len, enc_len;
    if ((plain = fx_pack(&in, &plain_len)) == NULL)
        die("pack plain");
    write_bytes("plain.tmb", plain, plain_len);

    uint8_t recipients[2][TMO_P256_PUBLIC_KEY_LEN];
    memcpy(recipients[0], dev1.pub, sizeof recipients[0]);
    memcpy(recipients[1], dev2.pub, sizeof recipients[1]);
    const char *arches[] = {"x86_64", "cortex-m4"};
    in.version = (tmo_semver){1, 1, 0};
    in.counter = 2;
    in.expires = NOT_AFTER;
    in.arches = arches;
    in.arch_count = 2;
    in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])recipients;
    in.recipient_count = 2;
    if ((enc = fx_pack(&in, &enc_len)) == NULL)
        die("pack encrypted");
    write_bytes("encrypted.tmb", enc, enc_len);

    /* The content key, recovered through device 1's wrap (the first WRAP section). */
    tmo_bundle_section s;
    uint8_t cek[TMO_CONTENT_KEY_LEN];
    if (hb_find_section(enc, enc_len, TMO_SECTION_WRAP, &s) != 0 ||
        hb_unwrap(enc + s.offset + 8, &dev1, cek) != 0)
        die("unwrap");

    char p[4096];
    path(p, sizeof p, "expected.json");
    FILE *f = fopen(p, "w");
    if (f == NULL)
        die("expected.json");
    char t0[32], t1[32], id[33];
    host_format_time(CREATED, t0, sizeof t0);
    host_format_time(NOT_AFTER, t1, sizeof t1);
    fprintf(f, "{\n  \"format_version\": 1,\n  \"verify_at\": \"2027-01-01T00:00:00Z\",\n");
    fprintf(f, "  \"model\": \"model.tflite\",\n  \"model_sha256\": \"");
    uint8_t h[32];
    hb_sha256(model, model_len, h);
    hex(f, h, 32);
    fprintf(f,
            "\",\n  \"certificate\": {\"file\": \"signing.cert\", \"not_before\": \"%s\", "
            "\"not_after\": \"%s\", "
            "\"model_prefix\": \"vectors/\"},\n",
            t0, t1);
    const struct {
        const char *name;
        const host_key *k;
    } keys[] = {{"root", &root}, {"signing", &signing}, {"device1", &dev1}, {"device2", &dev2}};
    fprintf(f, "  \"key_ids\": {");
    for (int i = 0; i < 4; i++) {
        host_key_id_hex(keys[i].k->pub, id);
        fprintf(f, "%s\"%s\": \"%s\"", i ? ", " : "", keys[i].name, id);
    }
    fprintf(f, "},\n  \"bundles\": [\n");
    fprintf(f,
            "    {\"file\": \"plain.tmb\", \"name\": \"vectors/fc\", \"version\": \"1.0.0\", "
            "\"security_counter\": 1, "
            "\"created\": \"%s\", \"expires\": null, \"arch\": [], \"encrypted\": false, "
            "\"recipients\": []},\n",
            t0);
    fprintf(f,
            "    {\"file\": \"encrypted.tmb\", \"name\": \"vectors/fc\", \"version\": \"1.1.0\", "
            "\"security_counter\": 2, "
            "\"created\": \"%s\", \"expires\": \"%s\", \"arch\": [\"x86_64\", \"cortex-m4\"], "
            "\"encrypted\": true, "
            "\"recipients\": [\"device1\", \"device2\"], \"content_key\": \"",
            t0, t1);
    hex(f, cek, sizeof cek);
    fprintf(f, "\"}\n  ]\n}\n");
    fclose(f);

    path(p, sizeof p, "SHA256SUMS");
    f = fopen(p, "w");
    if (f == NULL)
        die("SHA256SUMS");
    sums_line(f, "model.tflite", model, model_len);
    sums_line(f, "signing.cert", cert, cert_len);
    sums_line(f, "plain.tmb", plain, plain_len);
    sums_line(f, "encrypted.tmb", enc, enc_len);
    fclose(f);
    if (argc == 3)
        write_seeds(argv[2], &root, &dev1, plain, plain_len, enc, enc_len, cert, cert_len);
    printf("gen_vectors: wrote %s (plain %zu bytes, encrypted %zu bytes)\n", dir, plain_len,
           enc_len);
    free(model);
    free(plain);
    free(enc);
    return 0;
}
