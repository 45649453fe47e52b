/*
 * What the demo deploys, all made here by the project itself: a root and a
 * signing key with its certificate, digits classifiers trained in C on
 * scikit-learn's handwritten digits (shipped by Debian's python3-sklearn),
 * quantized to int8 and written as .tflite, each packed into a signed bundle
 * with its monitoring profile and known-answer tests. Release 3.0.0 is
 * packed with one wrong known answer, standing for a release built with a
 * toolchain whose numerics differ from the fleet's runtime: the server
 * accepts it (it is authentic), the devices' self-test does not.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "demo.h"
#include "host.h"
#include "keys.h"
#include "profile_build.h"
#include "train/factory.h"

#define PROFILE_ROWS 200
#define KAT_VECTORS 4

typedef struct keys {
    host_key root, signing;
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len;
} keys;

static int make_keys(demo *d, keys *k)
{
    char err[512], name[DEMO_PATH + 16];
    uint64_t now = (uint64_t)time(NULL);
    if (host_key_generate(&k->root, err, sizeof err) != 0 ||
        host_key_generate(&k->signing, err, sizeof err) != 0) {
        demo_say("key generation failed: %s", err);
        return -1;
    }
    snprintf(name, sizeof name, "%s/root", d->dir);
    if (host_key_write(&k->root, name, err, sizeof err) != 0) {
        demo_say("%s", err);
        return -1;
    }
    snprintf(d->root_pub, sizeof d->root_pub, "%s/root.pub", d->dir);
    if (hb_cert_make(&k->root, k->signing.pub, now - 86400, now + 365 * 86400ull, "", k->cert,
                     &k->cert_len) != 0) {
        demo_say("cannot certify the signing key");
        return -1;
    }
    return 0;
}

/* Trains arch on the digits and returns the int8 model (heap) with its validation accuracy. */
static uint8_t *train(const tr_dataset *digits, const char *arch, uint64_t seed, size_t *len,
                      double *acc)
{
    tr_job job;
    tr_result r;
    char err[512];
    tr_job_defaults(&job);
    job.arch = arch;
    job.seed = seed;
    if (tr_factory_run(&job, digits, &r, err, sizeof err) != 0) {
        demo_say("training %s failed: %s", arch, err);
        return NULL;
    }
    uint8_t *model = r.int8_model;
    *len = r.int8_len;
    *acc = r.int8_val_acc;
    r.int8_model = NULL;
    tr_result_free(&r);
    return model;
}

/* Profile and known answers from representative inputs (sim_profile_rows: what devices see). */
static int profile_of(const demo *d, const uint8_t *model, size_t len, host_profile_result *prof)
{
    uint8_t *rows = NULL;
    size_t rows_len = 0;
    int32_t *labels = NULL;
    char err[512];
    int rc = sim_profile_rows(model, len, d->digits, PROFILE_ROWS, &rows, &rows_len, &labels, err,
                              sizeof err);
    if (rc == 0) {
        host_profile_opts po;
        host_profile_opts_defaults(&po);
        po.kat_count = KAT_VECTORS;
        rc = host_profile_build(model, len, rows, rows_len, labels, &po, prof, err, sizeof err);
    }
    if (rc != 0)
        demo_say("profiling failed: %s", err);
    free(rows);
    free(labels);
    return rc;
}

static int pack(const keys *k, const uint8_t *model, size_t len, const char *name,
                const char *version, host_profile_result *prof, const char *path)
{
    host_pack_in in;
    hb_extra_section extra[2] = {{TMO_SECTION_PROFILE, 0, prof->profile, prof->profile_len},
                                 {TMO_SECTION_KAT, 0, prof->kat, prof->kat_len}};
    char err[512];
    memset(&in, 0, sizeof in);
    in.model = model;
    in.model_len = len;
    in.name = name;
    host_parse_semver(version, &in.version);
    in.counter = 1; /* releases stay revertible (docs/protocol.md P-19) */
    in.signer = &k->signing;
    in.cert = k->cert;
    in.cert_len = k->cert_len;
    in.extra = extra;
    in.extra_count = prof->kat != NULL ? 2 : 1;
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = host_bundle_pack(&in, &bytes, &n, err, sizeof err);
    if (rc == 0)
        rc = host_write_file(path, bytes, n, err, sizeof err);
    if (rc != 0)
        demo_say("packing %s %s failed: %s", name, version, err);
    free(bytes);
    return rc;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Offset of the last expected output byte in a KAT section (docs/monitoring.md
 * K-2, K-3: a 16-byte header, then per vector and tensor a u32 length and the
 * bytes padded to 4), or 0 when the layout is not as expected.
 */
static size_t last_output_byte(const uint8_t *kat, size_t len)
{
    if (len < 16)
        return 0;
    uint32_t vectors = (uint32_t)kat[12] | (uint32_t)kat[13] << 8;
    uint32_t tensors = vectors * (uint32_t)(kat[14] + kat[15]);
    size_t at = 16, last = 0;
    for (uint32_t t = 0; t < tensors; t++) {
        if (at + 4 > len)
            return 0;
        uint32_t n = le32(kat + at);
        if (n == 0 || n > len - at - 4)
            return 0;
        last = at + 4 + n - 1;
        at += 4 + ((n + 3u) & ~3u);
    }
    return last;
}

/* Trains, profiles and packs one digits release. bad_kat: one known answer is wrong. */
static int release(demo *d, const keys *k, const tr_dataset *digits, const char *arch,
                   uint64_t seed, const char *version, int bad_kat, demo_bundle *b, double *acc)
{
    size_t len;
    uint8_t *model = train(digits, arch, seed, &len, acc);
    host_profile_result prof;
    memset(&prof, 0, sizeof prof);
    int rc = model != NULL ? profile_of(d, model, len, &prof) : -1;
    if (rc == 0 && bad_kat) {
        size_t at = last_output_byte(prof.kat, prof.kat_len);
        if (at == 0)
            rc = -1;
        else
            prof.kat[at] ^= 0x01; /* off by one in the last class score of the last vector */
    }
    snprintf(b->path, sizeof b->path, "%s/digits-%s-%.3s.tmb", d->dir, version, arch);
    if (rc == 0)
        rc = pack(k, model, len, "digits", version, &prof, b->path);
    host_profile_result_free(&prof);
    free(model);
    return rc;
}

/* MLPerf Tiny keyword spotting, when the reference models are on this machine. */
static int kws_release(demo *d, const keys *k)
{
    char model_path[DEMO_PATH + 64], data[DEMO_PATH + 64], err[512];
    snprintf(model_path, sizeof model_path, "%s/models/kws_dscnn_int8.tflite", d->ref_dir);
    snprintf(data, sizeof data, "%s/golden/dev/kws_dscnn_int8", d->ref_dir);
    struct stat st;
    if (stat(model_path, &st) != 0 || stat(data, &st) != 0)
        return 0;
    size_t len;
    uint8_t *model = host_read_file(model_path, &len, err, sizeof err);
    host_profile_opts po;
    host_profile_result prof;
    memset(&prof, 0, sizeof prof);
    host_profile_opts_defaults(&po);
    po.kat_count = KAT_VECTORS;
    int rc = model != NULL
                 ? host_profile_build_files(model, len, data, NULL, &po, &prof, err, sizeof err)
                 : -1;
    snprintf(d->kws.path, sizeof d->kws.path, "%s/kws-1.0.0.tmb", d->dir);
    if (rc == 0)
        rc = pack(k, model, len, "kws", "1.0.0", &prof, d->kws.path);
    else
        demo_say("MLPerf keyword spotting model not packed: %s", err);
    host_profile_result_free(&prof);
    free(model);
    d->have_kws = rc == 0;
    return 0;
}

int demo_make_artifacts(demo *d)
{
    keys k;
    tr_dataset digits;
    char err[512];
    double acc_v3;
    memset(&k, 0, sizeof k);
    if (make_keys(d, &k) != 0)
        return -1;
    if (tr_dataset_load(d->digits, &digits, err, sizeof err) != 0) {
        demo_say("%s (install Debian's python3-sklearn: scripts/deps.sh)", err);
        return -1;
    }
    demo_note("training digits classifiers in C (int8, through this project's own writer)...");
    int rc = release(d, &k, &digits, "mlp:16", 1, "1.0.0", 0, &d->v1, &d->acc_v1);
    if (rc == 0)
        rc = release(d, &k, &digits, "mlp:64,32", 1, "2.0.0", 0, &d->v2_mlp, &d->acc_v2_mlp);
    if (rc == 0)
        rc = release(d, &k, &digits, "cnn:c8k3,dw,p2,d32", 1, "2.0.0", 0, &d->v2_cnn,
                     &d->acc_v2_cnn);
    if (rc == 0)
        rc = release(d, &k, &digits, "mlp:64,32", 2, "3.0.0", 1, &d->v3, &acc_v3);
    if (rc == 0)
        rc = kws_release(d, &k);
    tr_dataset_free(&digits);
    host_key_wipe(&k.root);
    host_key_wipe(&k.signing);
    return rc;
}
