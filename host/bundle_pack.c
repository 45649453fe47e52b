/*
 * The bundle packer (see bundle_pack.h).
 */
#include "bundle_pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "bundle_crypto.h"
#include "bundle_writer.h"
#include "host.h"

static int fail(char *err, size_t err_len, const char *msg)
{
    snprintf(err, err_len, "%s", msg);
    return -1;
}

int host_parse_semver(const char *text, tmo_semver *v)
{
    unsigned long part[3];
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        part[i] = strtoul(p, &end, 10);
        if (part[i] > 65535 || end - p > 5 || *end != (i < 2 ? '.' : '\0'))
            return -1;
        p = end + 1;
    }
    v->major = (uint16_t)part[0];
    v->minor = (uint16_t)part[1];
    v->patch = (uint16_t)part[2];
    return 0;
}

/* Operator codes of the model, unique and ascending, and the arena it needs. */
static int model_requirements(const host_pack_in *in, uint16_t *ops, uint32_t *op_count,
                              uint64_t *arena, char *err, size_t err_len)
{
    tmo_model m;
    tmo_diag d;
    if (((uintptr_t)in->model & 3u) != 0)
        return fail(err, err_len, "model bytes must be 4-byte aligned");
    if (tmo_model_parse(&m, in->model, in->model_len, &d) != TMO_OK) {
        host_format_diag(err, err_len, "invalid model", &d);
        return -1;
    }
    *op_count = 0;
    for (uint32_t i = 0; i < m.op_count; i++) {
        tmo_op_info op;
        if (tmo_model_op(&m, i, &op) != TMO_OK || op.builtin < 0 || op.builtin > 0xFFFF)
            return fail(err, err_len, "model has an operator code outside 0..65535");
        uint32_t k = 0;
        while (k < *op_count && ops[k] < op.builtin)
            k++;
        if (k < *op_count && ops[k] == op.builtin)
            continue;
        memmove(ops + k + 1, ops + k, (*op_count - k) * sizeof *ops);
        ops[k] = (uint16_t)op.builtin;
        (*op_count)++;
    }
    if (in->arena_bytes != 0) {
        *arena = in->arena_bytes;
        return 0;
    }
    size_t needed = 0;
    if (host_arena_size(&m, &needed, &d) != TMO_OK) {
        host_format_diag(err, err_len, "the runtime's planner cannot size the model's arena", &d);
        return -1;
    }
    *arena = needed;
    return 0;
}

/* The certificate must certify the signing key for this name at creation time. */
static int check_cert(const host_pack_in *in, uint64_t created, char *err, size_t err_len)
{
    tmo_bundle_cert c;
    tmo_diag d;
    if (tmo_bundle_cert_parse(&c, in->cert, in->cert_len, &d) != TMO_OK) {
        host_format_diag(err, err_len, "invalid certificate", &d);
        return -1;
    }
    if (memcmp(c.subject_key, in->signer->pub, TMO_P256_PUBLIC_KEY_LEN) != 0)
        return fail(err, err_len, "the certificate is for another key than the signing key");
    if (strlen(in->name) < c.prefix_len || memcmp(in->name, c.prefix, c.prefix_len) != 0)
        return fail(err, err_len, "the model name is outside the certificate's model prefix");
    if (created < c.not_before || created > c.not_after)
        return fail(err, err_len, "the certificate is not valid now (expired or not yet valid)");
    return 0;
}

static void build_manifest(const host_pack_in *in, hb_buf *m, uint64_t created, const uint16_t *ops,
                           uint32_t op_count, uint64_t arena, const uint8_t *payload,
                           size_t payload_len, const uint8_t *nonce, const uint8_t *tag)
{
    uint8_t pd[TMO_SHA256_LEN], md[TMO_SHA256_LEN];
    hb_sha256(payload, payload_len, pd);
    hb_sha256(in->model, in->model_len, md);
    tmo_semver rt = in->min_runtime;
    if (rt.major == 0 && rt.minor == 0 && rt.patch == 0)
        rt = (tmo_semver){TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
                          TMO_RUNTIME_VERSION_PATCH};
    hb_field(m, TMO_MF_NAME, in->name, strlen(in->name));
    hb_field_semver(m, TMO_MF_VERSION, in->version);
    hb_field_u64(m, TMO_MF_COUNTER, in->counter);
    hb_field_u64(m, TMO_MF_CREATED, created);
    if (in->expires != 0)
        hb_field_u64(m, TMO_MF_EXPIRES, in->expires);
    if (in->arch_count > 0) {
        hb_buf a;
        hb_init(&a);
        for (size_t i = 0; i < in->arch_count; i++) {
            hb_u8(&a, (uint8_t)strlen(in->arches[i]));
            hb_bytes(&a, in->arches[i], strlen(in->arches[i]));
        }
        hb_field(m, TMO_MF_ARCH, a.data, a.len);
        m->failed |= a.failed;
        hb_free(&a);
    }
    hb_field_semver(m, TMO_MF_MIN_RUNTIME, rt);
    hb_field_u64(m, TMO_MF_ARENA_BYTES, arena);
    hb_field_u64(m, TMO_MF_FLASH_BYTES, in->model_len);
    hb_u16(m, TMO_MF_OPS);
    hb_u16(m, (uint16_t)(2 * op_count));
    for (uint32_t i = 0; i < op_count; i++)
        hb_u16(m, ops[i]);
    hb_field_u64(m, TMO_MF_PAYLOAD_SIZE, payload_len);
    hb_field(m, TMO_MF_PAYLOAD_DIGEST, pd, sizeof pd);
    hb_field(m, TMO_MF_MODEL_DIGEST, md, sizeof md);
    uint8_t enc[1 + TMO_GCM_NONCE_LEN + TMO_GCM_TAG_LEN] = {TMO_ENC_NONE};
    if (nonce != NULL) {
        enc[0] = TMO_ENC_AES256_GCM;
        memcpy(enc + 1, nonce, TMO_GCM_NONCE_LEN);
        memcpy(enc + 1 + TMO_GCM_NONCE_LEN, tag, TMO_GCM_TAG_LEN);
    }
    hb_field(m, TMO_MF_ENCRYPTION, enc, nonce != NULL ? sizeof enc : 1);
}

static int check_inputs(const host_pack_in *in, char *err, size_t err_len)
{
    if (in->name == NULL || !tmo_bundle_name_valid(in->name, strlen(in->name)))
        return fail(err, err_len, "model name must be 1-64 characters of [A-Za-z0-9._/-]");
    if (in->signer == NULL || !in->signer->has_private || in->cert == NULL)
        return fail(err, err_len,
                    "a signing key (with its private part) and its certificate are needed");
    if (in->model_len == 0 || in->model_len > UINT32_MAX - 4096)
        return fail(err, err_len, "model size out of range");
    if (in->expires != 0 && in->created != 0 && in->expires <= in->created)
        return fail(err, err_len, "expiry is not after the creation time");
    if (in->arch_count > TMO_BUNDLE_MAX_ARCHES)
        return fail(err, err_len, "at most 8 target architectures");
    for (size_t i = 0; i < in->arch_count; i++) {
        size_t n = strlen(in->arches[i]);
        if (n == 0 || n > TMO_BUNDLE_MAX_ARCH || strchr(in->arches[i], '/') != NULL ||
            !tmo_bundle_name_valid(in->arches[i], n))
            return fail(err, err_len, "architecture names are 1-32 characters of [A-Za-z0-9._-]");
    }
    return 0;
}

/* Lays out header and sections [B-3.4] and signs. */
static int assemble(const host_pack_in *in, const hb_buf *manifest,
                    const uint8_t (*wraps)[TMO_WRAP_LEN], const uint8_t *payload,
                    size_t payload_len, hb_buf *out)
{
    hb_zeros(out, TMO_BUNDLE_HEADER_SIZE);
    uint16_t count = 0;
    hb_section(out, TMO_SECTION_MANIFEST, TMO_SECTION_CRITICAL, manifest->data, manifest->len),
        count++;
    hb_section(out, TMO_SECTION_CERT, TMO_SECTION_CRITICAL, in->cert, in->cert_len), count++;
    for (size_t i = 0; i < in->recipient_count; i++)
        hb_section(out, TMO_SECTION_WRAP, TMO_SECTION_CRITICAL, wraps[i], TMO_WRAP_LEN), count++;
    for (size_t i = 0; i < in->extra_count; i++)
        hb_section(out, in->extra[i].tag, in->extra[i].flags, in->extra[i].value, in->extra[i].len),
            count++;
    /* SIGNATURE (72 bytes) then the PAYLOAD header (8): the payload lands 16-aligned iff this is. */
    if (out->len % TMO_BUNDLE_PAYLOAD_ALIGN != 0)
        hb_section(out, TMO_SECTION_PAD, 0, NULL, 0), count++;
    uint8_t zero_sig[TMO_P256_SIGNATURE_LEN] = {0};
    hb_section(out, TMO_SECTION_SIGNATURE, TMO_SECTION_CRITICAL, zero_sig, sizeof zero_sig),
        count++;
    size_t payload_offset = out->len + TMO_BUNDLE_SECTION_HEADER_SIZE;
    hb_section(out, TMO_SECTION_PAYLOAD, TMO_SECTION_CRITICAL, payload, payload_len), count++;
    if (out->failed || out->len > UINT32_MAX)
        return -1;
    tmo_bundle_header h = {.magic = {'T', 'M', 'O', 'B'},
                           .format_version = TMO_BUNDLE_FORMAT_VERSION,
                           .header_size = TMO_BUNDLE_HEADER_SIZE,
                           .total_length = (uint32_t)out->len,
                           .section_count = count,
                           .flags = in->recipient_count > 0 ? TMO_BUNDLE_FLAG_ENCRYPTED : 0,
                           .payload_offset = (uint32_t)payload_offset,
                           .payload_length = (uint32_t)payload_len,
                           .reserved = 0};
    hb_header_encode(&h, out->data);
    return hb_sign(out->data, out->len, in->signer);
}

int host_bundle_pack(const host_pack_in *in, uint8_t **out, size_t *out_len, char *err,
                     size_t err_len)
{
    if (check_inputs(in, err, err_len) != 0)
        return -1;
    uint64_t created = in->created != 0 ? in->created : (uint64_t)time(NULL);
    if (in->expires != 0 && in->expires <= created)
        return fail(err, err_len, "expiry is not after the creation time");
    if (check_cert(in, created, err, err_len) != 0)
        return -1;
    uint16_t *ops = calloc(65536, sizeof *ops);
    uint32_t op_count = 0;
    uint64_t arena = 0;
    if (ops == NULL)
        return fail(err, err_len, "out of memory");
    if (model_requirements(in, ops, &op_count, &arena, err, err_len) != 0) {
        free(ops);
        return -1;
    }
    int encrypt = in->recipient_count > 0;
    uint8_t cek[TMO_CONTENT_KEY_LEN], nonce[TMO_GCM_NONCE_LEN], tag[TMO_GCM_TAG_LEN];
    uint8_t(*wraps)[TMO_WRAP_LEN] = encrypt ? calloc(in->recipient_count, TMO_WRAP_LEN) : NULL;
    uint8_t *payload = encrypt ? malloc(in->model_len) : NULL;
    hb_buf manifest, bundle;
    hb_init(&manifest);
    hb_init(&bundle);
    int rc = -1;
    const char *problem = "out of memory";
    if (encrypt && (wraps == NULL || payload == NULL))
        goto done;
    problem = "encryption failed";
    if (encrypt) {
        if (hb_random(cek, sizeof cek) != 0 || hb_random(nonce, sizeof nonce) != 0 ||
            hb_gcm_encrypt(cek, nonce, in->model, in->model_len, payload, tag) != 0)
            goto done;
        for (size_t i = 0; i < in->recipient_count; i++)
            if (hb_wrap(in->recipients[i], cek, wraps[i]) != 0) {
                problem =
                    "cannot wrap the content key for a recipient (not a valid P-256 public key?)";
                goto done;
            }
    }
    const uint8_t *stored = encrypt ? payload : in->model;
    build_manifest(in, &manifest, created, ops, op_count, arena, stored, in->model_len,
                   encrypt ? nonce : NULL, tag);
    problem = "manifest larger than TMO_BUNDLE_MAX_MANIFEST";
    if (manifest.failed || manifest.len > TMO_BUNDLE_MAX_MANIFEST)
        goto done;
    problem = "assembling or signing the bundle failed";
    if (assemble(in, &manifest, (const uint8_t(*)[TMO_WRAP_LEN])wraps, stored, in->model_len,
                 &bundle) != 0)
        goto done;
    *out = bundle.data;
    *out_len = bundle.len;
    bundle.data = NULL;
    rc = 0;
done:
    if (rc != 0)
        fail(err, err_len, problem);
    mbedtls_platform_zeroize(cek, sizeof cek);
    hb_free(&manifest);
    hb_free(&bundle);
    free(wraps);
    free(payload);
    free(ops);
    return rc;
}
