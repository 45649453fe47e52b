/*
 * Key files for bundles (see keys.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "host.h"

static int fail(char *err, size_t err_len, const char *fmt, const char *a, const char *b)
{
    snprintf(err, err_len, fmt, a, b);
    return -1;
}

/* Fills pub from priv through PSA (also proves priv is a valid P-256 scalar). */
static int derive_public(host_key *k)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_key_id_t id = 0;
    size_t n = 0;
    if (psa_crypto_init() != PSA_SUCCESS ||
        psa_import_key(&attr, k->priv, sizeof k->priv, &id) != PSA_SUCCESS)
        return -1;
    psa_status_t st = psa_export_public_key(id, k->pub, sizeof k->pub, &n);
    psa_destroy_key(id);
    return st == PSA_SUCCESS && n == sizeof k->pub ? 0 : -1;
}

int host_key_generate(host_key *k, char *err, size_t err_len)
{
    memset(k, 0, sizeof *k);
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_EXPORT);
    psa_key_id_t id = 0;
    size_t n = 0;
    if (psa_crypto_init() != PSA_SUCCESS || psa_generate_key(&attr, &id) != PSA_SUCCESS)
        return fail(err, err_len, "%s%s", "cannot generate a P-256 key (PSA)", "");
    psa_status_t st = psa_export_key(id, k->priv, sizeof k->priv, &n);
    psa_destroy_key(id);
    if (st != PSA_SUCCESS || n != sizeof k->priv || derive_public(k) != 0) {
        host_key_wipe(k);
        return fail(err, err_len, "%s%s", "cannot export the generated key (PSA)", "");
    }
    k->has_private = 1;
    return 0;
}

/* Sets up an mbedtls_pk EC context holding k (private part only when with_private). */
static int to_pk(const host_key *k, mbedtls_pk_context *pk, int with_private)
{
    mbedtls_pk_init(pk);
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
        return -1;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    if (mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, k->pub, sizeof k->pub) != 0)
        return -1;
    if (with_private && mbedtls_mpi_read_binary(&ec->d, k->priv, sizeof k->priv) != 0)
        return -1;
    return 0;
}

int host_key_public_pem(const host_key *k, char *buf, size_t len)
{
    mbedtls_pk_context pk;
    int rc =
        to_pk(k, &pk, 0) == 0 && mbedtls_pk_write_pubkey_pem(&pk, (unsigned char *)buf, len) == 0
            ? 0
            : -1;
    mbedtls_pk_free(&pk);
    return rc;
}

/* Writes data to path with mode 0600 without ever replacing an existing file. */
static int write_private_file(const char *path, const void *data, size_t len, char *err,
                              size_t err_len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, err_len, "%s: %s", tmp, strerror(errno));
    int ok = fchmod(fd, 0600) == 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* link() fails when path exists: the no-overwrite check and the publish are one step. */
    if (!ok || link(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return fail(err, err_len, "%s: %s", path, strerror(ok ? saved : EIO));
    }
    unlink(tmp);
    return 0;
}

int host_key_write(const host_key *k, const char *name, char *err, size_t err_len)
{
    char key_path[4096], pub_path[4096];
    if (snprintf(key_path, sizeof key_path, "%s.key", name) >= (int)sizeof key_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", name) >= (int)sizeof pub_path)
        return fail(err, err_len, "%s: %s", name, "path too long");
    struct stat st;
    if (stat(key_path, &st) == 0 || stat(pub_path, &st) == 0)
        return fail(err, err_len, "%s.key or %s.pub already exists; refusing to overwrite a key",
                    name, name);
    unsigned char pem[1024], pub[512];
    mbedtls_pk_context pk;
    int rc = to_pk(k, &pk, 1) == 0 && mbedtls_pk_write_key_pem(&pk, pem, sizeof pem) == 0 &&
                     mbedtls_pk_write_pubkey_pem(&pk, pub, sizeof pub) == 0
                 ? 0
                 : -1;
    mbedtls_pk_free(&pk);
    if (rc != 0) {
        mbedtls_platform_zeroize(pem, sizeof pem);
        return fail(err, err_len, "%s: %s", name, "cannot encode the key");
    }
    rc = write_private_file(key_path, pem, strlen((char *)pem), err, err_len);
    mbedtls_platform_zeroize(pem, sizeof pem);
    if (rc != 0)
        return rc;
    return host_write_file(pub_path, pub, strlen((char *)pub), err, err_len);
}

/* Reads a whole key file NUL-terminated (PEM parsing wants the NUL in the length). */
static unsigned char *read_key_file(const char *path, size_t *len, char *err, size_t err_len)
{
    size_t n;
    void *raw = host_read_file(path, &n, err, err_len);
    if (raw == NULL)
        return NULL;
    unsigned char *buf = malloc(n + 1);
    if (buf != NULL) {
        memcpy(buf, raw, n);
        buf[n] = 0;
        *len = strstr((char *)buf, "-----BEGIN") != NULL ? n + 1 : n;
    } else {
        snprintf(err, err_len, "%s: out of memory", path);
    }
    mbedtls_platform_zeroize(raw, n);
    free(raw);
    return buf;
}

/* Checks that pk holds a P-256 EC key and copies its parts into k. */
static int from_pk(mbedtls_pk_context *pk, host_key *k, int want_private)
{
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
        return -1;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return -1;
    if (want_private) {
        if (mbedtls_mpi_write_binary(&ec->d, k->priv, sizeof k->priv) != 0)
            return -1;
        k->has_private = 1;
        return derive_public(k);
    }
    size_t n = 0;
    return mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, k->pub,
                                          sizeof k->pub) == 0 &&
                   n == sizeof k->pub
               ? 0
               : -1;
}

int host_key_read_private(host_key *k, const char *path, char *err, size_t err_len)
{
    memset(k, 0, sizeof *k);
    size_t len = 0;
    unsigned char *buf = read_key_file(path, &len, err, err_len);
    if (buf == NULL)
        return -1;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_key(&pk, buf, len, NULL, 0) == 0 && from_pk(&pk, k, 1) == 0 ? 0 : -1;
    mbedtls_pk_free(&pk);
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (rc != 0) {
        host_key_wipe(k);
        return fail(err, err_len, "%s: %s", path, "not a P-256 private key (PEM or DER)");
    }
    return 0;
}

int host_key_read_public(host_key *k, const char *path, char *err, size_t err_len)
{
    memset(k, 0, sizeof *k);
    size_t len = 0;
    unsigned char *buf = read_key_file(path, &len, err, err_len);
    if (buf == NULL)
        return -1;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_public_key(&pk, buf, len) == 0 && from_pk(&pk, k, 0) == 0 ? 0 : -1;
    mbedtls_pk_free(&pk);
    if (rc != 0) {
        /* A private key file also names a public key. */
        mbedtls_pk_init(&pk);
        rc = mbedtls_pk_parse_key(&pk, buf, len, NULL, 0) == 0 && from_pk(&pk, k, 1) == 0 ? 0 : -1;
        mbedtls_pk_free(&pk);
        mbedtls_platform_zeroize(k->priv, sizeof k->priv);
        k->has_private = 0;
    }
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (rc != 0)
        return fail(err, err_len, "%s: %s", path, "not a P-256 public key (PEM or DER)");
    return 0;
}

void host_key_id_hex(const uint8_t pub[TMO_P256_PUBLIC_KEY_LEN], char hex[2 * TMO_KEY_ID_LEN + 1])
{
    uint8_t id[TMO_KEY_ID_LEN] = {0};
    tmo_bundle_key_id(pub, id);
    for (int i = 0; i < TMO_KEY_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

int host_key_sign_hash(const host_key *k, const uint8_t hash[TMO_SHA256_LEN],
                       uint8_t sig[TMO_P256_SIGNATURE_LEN])
{
    if (!k->has_private)
        return -1;
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    size_t n = 0;
    if (psa_crypto_init() != PSA_SUCCESS ||
        psa_import_key(&attr, k->priv, sizeof k->priv, &id) != PSA_SUCCESS)
        return -1;
    psa_status_t st = psa_sign_hash(id, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, TMO_SHA256_LEN, sig,
                                    TMO_P256_SIGNATURE_LEN, &n);
    psa_destroy_key(id);
    return st == PSA_SUCCESS && n == TMO_P256_SIGNATURE_LEN ? 0 : -1;
}

int host_key_import_device(const host_key *k, uint32_t *id)
{
    if (!k->has_private)
        return -1;
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr,
                          PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    psa_key_id_t kid = 0;
    if (psa_crypto_init() != PSA_SUCCESS ||
        psa_import_key(&attr, k->priv, sizeof k->priv, &kid) != PSA_SUCCESS)
        return -1;
    *id = kid;
    return 0;
}

void host_key_wipe(host_key *k)
{
    mbedtls_platform_zeroize(k, sizeof *k);
}
