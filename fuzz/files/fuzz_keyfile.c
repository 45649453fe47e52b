/*
 * libFuzzer target for key files (host/keys.c, docs/bundle-format.md
 * [B-9]): NAME.key (P-256 private key, PEM or DER, SEC1 or PKCS#8) and
 * NAME.pub (SubjectPublicKeyInfo, PEM or DER, or a private key file) as
 * `tinymlops keygen/bundle pack/bundle verify` and the agent read them.
 * mbedTLS parses; our wrapping must turn every malformed file into a
 * message naming the file and never crash. A key that loads must be
 * consistent: the public point is an uncompressed P-256 point, a private
 * key's public half is derived from its scalar, and reading the same file
 * as a public key gives that same point.
 *
 * Seeds: fuzz/corpus/keyfile (gen_files_corpus: PEM and DER, SEC1 and PKCS#8).
 */
#include <string.h>

#include "fuzz_files.h"
#include "keys.h"

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("key", data, size);
    host_key k;
    char err[512];
    return host_key_read_public(&k, path, err, sizeof err) == 0;
}

static void check_refusal(const char *err, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(err, path, n) != 0 || err[n] != ':' || err[n + 1] == '\0')
        fuzz_fail("a refusal does not name the file", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("key", data, size);
    host_key priv, pub;
    char err[512] = "";
    int prc = host_key_read_private(&priv, path, err, sizeof err);
    if (prc == 0) {
        if (!priv.has_private || priv.pub[0] != 0x04)
            fuzz_fail("a private key without its scalar or public point", NULL);
    } else {
        check_refusal(err, path);
        static const host_key none;
        if (memcmp(&priv, &none, sizeof none) != 0)
            fuzz_fail("a refused private key left bytes behind", path);
    }
    err[0] = '\0';
    int urc = host_key_read_public(&pub, path, err, sizeof err);
    if (urc == 0) {
        if (pub.has_private || pub.pub[0] != 0x04)
            fuzz_fail("a public key with a private part, or not an uncompressed point", NULL);
        static const uint8_t zero[32];
        if (memcmp(pub.priv, zero, sizeof zero) != 0)
            fuzz_fail("reading a public key kept private bytes", path);
    } else {
        check_refusal(err, path);
    }
    if (prc == 0 && (urc != 0 || memcmp(priv.pub, pub.pub, sizeof pub.pub) != 0))
        fuzz_fail("a private key file does not name its public key", path);
    host_key_wipe(&priv);
    host_key_wipe(&pub);
    return 0;
}
