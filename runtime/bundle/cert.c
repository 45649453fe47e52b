/*
 * Signing-key certificates [B-5]: a compact fixed layout instead of X.509,
 * because the device must parse it in a few dozen lines and pin nothing but
 * root public keys. The root signs the TBS part; the certificate limits the
 * signing key in time and, optionally, to model names under a prefix.
 */
#include <string.h>

#include "bundle_priv.h"
#include "../diag.h"

static tmo_err bad(tmo_diag *diag, const char *field, const char *problem)
{
    return diag_set(diag, TMO_ECERT, TMO_AT_NONE, -1, field, problem);
}

static int prefix_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
}

tmo_err tmo_bundle_cert_parse(tmo_bundle_cert *c, const uint8_t *bytes, size_t len, tmo_diag *diag)
{
    if (c == NULL || (bytes == NULL && len > 0))
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "cert", "NULL argument");
    memset(c, 0, sizeof *c);
    if (len < TMO_CERT_TBS_FIXED + TMO_P256_SIGNATURE_LEN)
        return bad(diag, "cert.length", "shorter than a certificate");
    if (!tmo_bytes_equal(bytes, TMO_CERT_MAGIC, 4))
        return bad(diag, "cert.magic", "not a tinymlops certificate (magic is not \"TMOC\")");
    c->version = bytes[4];
    c->alg = bytes[5];
    c->usage = bytes[6];
    c->prefix_len = bytes[7];
    if (c->version != TMO_CERT_VERSION)
        return bad(diag, "cert.version", "certificate version not supported");
    if (c->alg != TMO_CERT_ALG_ECDSA_P256_SHA256)
        return bad(diag, "cert.algorithm", "unknown signature algorithm");
    if (c->usage != TMO_CERT_USAGE_BUNDLE_SIGNING)
        return bad(diag, "cert.usage", "key is not certified for signing bundles");
    if (c->prefix_len > TMO_CERT_MAX_PREFIX)
        return bad(diag, "cert.prefix", "model prefix longer than 64 bytes");
    if (len != TMO_CERT_TBS_FIXED + c->prefix_len + TMO_P256_SIGNATURE_LEN)
        return bad(diag, "cert.length", "length does not match the prefix length");
    c->issuer_id = bytes + 8;
    c->subject_id = bytes + 24;
    c->subject_key = bytes + 40;
    if (bytes[105] != 0 || bytes[106] != 0 || bytes[107] != 0)
        return bad(diag, "cert.reserved", "reserved bytes must be zero");
    c->not_before = le64(bytes + 108);
    c->not_after = le64(bytes + 116);
    if (c->not_before > c->not_after)
        return bad(diag, "cert.validity", "not_before is after not_after");
    c->prefix = (const char *)bytes + TMO_CERT_TBS_FIXED;
    for (uint32_t i = 0; i < c->prefix_len; i++)
        if (!prefix_char((uint8_t)c->prefix[i]))
            return bad(diag, "cert.prefix", "model prefix has a character outside [A-Za-z0-9._/-]");
    c->tbs = bytes;
    c->tbs_len = TMO_CERT_TBS_FIXED + c->prefix_len;
    c->signature = bytes + c->tbs_len;
    return TMO_OK;
}

/* Index of the pinned root whose key id is id, or -1. */
static int32_t find_root(const tmo_bundle_env *env, const uint8_t *id)
{
    for (uint32_t i = 0; i < env->root_count && i < INT32_MAX; i++) {
        uint8_t rid[TMO_KEY_ID_LEN];
        if (tmo_bundle_key_id(env->roots[i], rid) == TMO_OK && bundle_ct_equal(rid, id, sizeof rid))
            return (int32_t)i;
    }
    return -1;
}

tmo_err bundle_cert_check(const tmo_bundle_cert *c, const tmo_bundle_env *env, uint64_t now,
                          int has_now, tmo_diag *diag)
{
    int32_t root = find_root(env, c->issuer_id);
    if (root < 0)
        return bad(diag, "cert.issuer", "not issued by a root key pinned on this device");
    uint8_t hash[TMO_SHA256_LEN], id[TMO_KEY_ID_LEN];
    tmo_err e = bundle_sha256(c->tbs, c->tbs_len, hash);
    if (e != TMO_OK)
        return diag_set(diag, e, TMO_AT_NONE, -1, "cert", "hashing failed");
    tmo_err why;
    volatile uint32_t signed_by_root =
        bundle_verify_hash(env->roots[root], hash, c->signature, &why);
    if (!bundle_sig_valid(&signed_by_root))
        return bad(diag, "cert.signature", "root signature does not verify");
    if (tmo_bundle_key_id(c->subject_key, id) != TMO_OK ||
        !bundle_ct_equal(id, c->subject_id, sizeof id))
        return bad(diag, "cert.subject_id", "does not match the subject key");
    if (has_now && now < c->not_before) {
        bad(diag, "cert.not_before", "certificate not yet valid");
        diag_limit(diag, (int64_t)(now & INT64_MAX), (int64_t)(c->not_before & INT64_MAX));
        return TMO_ECERT;
    }
    if (has_now && now > c->not_after) {
        bad(diag, "cert.not_after", "certificate expired");
        diag_limit(diag, (int64_t)(now & INT64_MAX), (int64_t)(c->not_after & INT64_MAX));
        return TMO_ECERT;
    }
    return TMO_OK;
}
