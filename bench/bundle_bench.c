/*
 * Cost of verifying and loading a bundle on the device path, per reference
 * model (../shared/ref/models or $TINYMLOPS_REF/models), next to the lower
 * bound (SHA-256 of the same bytes, which any integrity check must pay) and
 * the model's inference time. Prints a Markdown table for docs/PERFORMANCE.md.
 *
 * Working RAM is measured, not estimated: sizeof(tmo_bundle) plus the peak
 * stack of verify + load (the call runs on a thread whose stack is painted
 * first, minus an empty thread's use), plus the peak heap the PSA
 * implementation (mbedTLS) allocates during the call (malloc interposed; not
 * in sanitizer builds). The payload's destination (the model slot) is
 * excluded: it is the model itself.
 *
 * Usage: bundle_bench [MODEL.tflite ...]   (default: every reference model)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "host.h"
#include "keys.h"
#include "tinymlops/bundle.h"

/* ---- heap accounting of the PSA implementation (glibc malloc interposed) ---- */

#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
#define TRACK_HEAP 1
#endif

static size_t heap_now, heap_peak;
static int heap_tracking;

#ifdef TRACK_HEAP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static void heap_add(void *p)
{
    if (p != NULL && heap_tracking) {
        heap_now += malloc_usable_size(p);
        if (heap_now > heap_peak)
            heap_peak = heap_now;
    }
}

static void heap_sub(void *p)
{
    if (p != NULL && heap_tracking) {
        size_t n = malloc_usable_size(p);
        heap_now = heap_now > n ? heap_now - n : 0;
    }
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    heap_add(p);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    heap_add(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    heap_sub(old);
    void *p = __libc_realloc(old, n);
    heap_add(p != NULL ? p : old);
    return p;
}

void free(void *p)
{
    heap_sub(p);
    __libc_free(p);
}
#endif

/* ---- one bundle on the device path ---- */

typedef struct {
    const uint8_t *bundle;
    size_t len;
    const tmo_bundle_env *env;
    uint8_t *slot;
    size_t slot_len;
    int load; /* 0: verify only */
    tmo_err err;
} job;

static void run_job(job *j)
{
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle b;
    tmo_diag d;
    j->err = tmo_port_reader_mem(&r, &mem, j->bundle, j->len);
    if (j->err == TMO_OK)
        j->err = tmo_bundle_verify(&b, &r, j->env, &d);
    if (j->err == TMO_OK && j->load)
        j->err = tmo_bundle_load(&b, j->slot, j->slot_len, &d);
    tmo_bundle_close(&b);
}

static void *job_thread(void *arg)
{
    if (arg != NULL)
        run_job(arg);
    return NULL;
}

/* Stack bytes a thread touched running arg (NULL = nothing), by painting its stack. */
static size_t stack_used(job *arg)
{
    enum { STACK = 256 * 1024 };
    uint8_t *stack = aligned_alloc(4096, STACK);
    memset(stack, 0xA5, STACK);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, STACK);
    pthread_create(&t, &attr, job_thread, arg);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    size_t untouched = 0;
    while (untouched < STACK && stack[untouched] == 0xA5)
        untouched++;
    free(stack);
    return STACK - untouched;
}

/* Best of reps runs: on a shared machine the minimum is the stable statistic. */
static double best_ms(job *j, int reps)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = host_now_ns();
        run_job(j);
        uint64_t dt = host_now_ns() - t0;
        best = dt < best ? dt : best;
    }
    return (double)best / 1e6;
}

static double sha_ms(const uint8_t *p, size_t n, int reps)
{
    uint8_t h[32];
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = host_now_ns();
        hb_sha256(p, n, h);
        uint64_t dt = host_now_ns() - t0;
        best = dt < best ? dt : best;
    }
    return (double)best / 1e6;
}

/* Median inference time, or a negative value when this runtime cannot run the model. */
static double inference_ms(const uint8_t *model, size_t len)
{
    host_model hm;
    char err[512];
    void *copy = aligned_alloc(16, (len + 15) & ~(size_t)15);
    memcpy(copy, model, len);
    if (host_model_open_bytes(&hm, copy, len, err, sizeof err) != TMO_OK) {
        host_model_close(&hm);
        return -1;
    }
    double t[15];
    tmo_interp_invoke(&hm.interp);
    for (int i = 0; i < 15; i++) {
        uint64_t t0 = host_now_ns();
        tmo_interp_invoke(&hm.interp);
        t[i] = (double)(host_now_ns() - t0) / 1e6;
    }
    for (int i = 1; i < 15; i++)
        for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
            double x = t[k];
            t[k] = t[k - 1];
            t[k - 1] = x;
        }
    host_model_close(&hm);
    return t[7];
}

static tmo_err counter_read(void *ctx, uint64_t *v)
{
    (void)ctx;
    *v = 0;
    return TMO_OK;
}

typedef struct {
    host_key root, signing, device;
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len;
    uint32_t device_key;
    tmo_port_counter counter;
    tmo_bundle_env env;
} keys;

static int bench_model(const char *path, keys *k)
{
    char err[512];
    size_t len;
    uint8_t *model = host_read_file(path, &len, err, sizeof err);
    if (model == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = model;
    in.model_len = len;
    in.name = "bench/model";
    in.version = (tmo_semver){1, 0, 0};
    in.counter = 1;
    in.signer = &k->signing;
    in.cert = k->cert;
    in.cert_len = k->cert_len;
    uint8_t *plain = NULL, *enc = NULL;
    size_t plain_len = 0, enc_len = 0;
    if (host_bundle_pack(&in, &plain, &plain_len, err, sizeof err) != 0) {
        in.arena_bytes = 1; /* the planner cannot size it here; the crypto cost is the same */
        if (host_bundle_pack(&in, &plain, &plain_len, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", path, err);
            free(model);
            return -1;
        }
    }
    in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN]) & k->device.pub;
    in.recipient_count = 1;
    host_bundle_pack(&in, &enc, &enc_len, err, sizeof err);
    uint8_t *slot = aligned_alloc(16, (len + 15) & ~(size_t)15);
    int reps = len > 200000 ? 2 : 5;
    job verify = {plain, plain_len, &k->env, slot, len, 0, TMO_OK};
    job plain_load = {plain, plain_len, &k->env, slot, len, 1, TMO_OK};
    job enc_load = {enc, enc_len, &k->env, slot, len, 1, TMO_OK};
    /* Rounds interleave the four measurements so a burst of load on a shared machine does not
     * hit one column only; each keeps its best. */
    double t_sha = 1e9, t_ver = 1e9, t_plain = 1e9, t_enc = 1e9;
    for (int round = 0; round < 16; round++) {
        double x;
        t_sha = (x = sha_ms(model, len, reps)) < t_sha ? x : t_sha;
        t_ver = (x = best_ms(&verify, reps)) < t_ver ? x : t_ver;
        t_plain = (x = best_ms(&plain_load, reps)) < t_plain ? x : t_plain;
        t_enc = (x = best_ms(&enc_load, reps)) < t_enc ? x : t_enc;
    }
    double t_inf = inference_ms(model, len);
    if (verify.err || plain_load.err || enc_load.err || memcmp(slot, model, len) != 0) {
        fprintf(stderr, "%s: verification failed (%s %s %s)\n", path, tmo_err_name(verify.err),
                tmo_err_name(plain_load.err), tmo_err_name(enc_load.err));
        return -1;
    }
    size_t base = stack_used(NULL), stack = stack_used(&enc_load);
    stack = stack > base ? stack - base : 0;
    heap_now = heap_peak = 0;
    heap_tracking = 1;
    run_job(&enc_load);
    heap_tracking = 0;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char inf[32], heap[32];
    if (t_inf >= 0)
        snprintf(inf, sizeof inf, "%.4f", t_inf);
    else
        snprintf(inf, sizeof inf, "n/a");
#ifdef TRACK_HEAP
    snprintf(heap, sizeof heap, "%zu", heap_peak);
#else
    snprintf(heap, sizeof heap, "n/a");
#endif
    printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %s | %zu + %zu = %zu | %s |\n", name,
           len, t_sha, t_ver, t_plain, t_enc, t_enc - t_ver - t_sha, inf, sizeof(tmo_bundle), stack,
           sizeof(tmo_bundle) + stack, heap);
    fflush(stdout);
    free(slot);
    free(plain);
    free(enc);
    free(model);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    keys k;
    char err[256];
    memset(&k, 0, sizeof k);
    if (host_key_generate(&k.root, err, sizeof err) ||
        host_key_generate(&k.signing, err, sizeof err) ||
        host_key_generate(&k.device, err, sizeof err) ||
        host_key_import_device(&k.device, &k.device_key) ||
        hb_cert_make(&k.root, k.signing.pub, 0, UINT64_MAX / 2, "", k.cert, &k.cert_len)) {
        fprintf(stderr, "bundle_bench: key setup failed\n");
        return 1;
    }
    k.counter = (tmo_port_counter){counter_read, NULL, NULL};
    k.env = (tmo_bundle_env){(const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])k.root.pub,
                             1,
                             &k.counter,
                             NULL,
                             NULL,
                             k.device_key};
    char *paths[64];
    int n = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && n < 64; i++)
            paths[n++] = strdup(argv[i]);
    } else {
        const char *ref = getenv("TINYMLOPS_REF") ? getenv("TINYMLOPS_REF") : TMO_REF_DIR;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/models", ref);
        DIR *d = opendir(dir);
        if (d == NULL) {
            fprintf(stderr, "bundle_bench: no reference models in %s (set TINYMLOPS_REF)\n", dir);
            return 77;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < 64)
            if (strlen(e->d_name) > 7 &&
                strcmp(e->d_name + strlen(e->d_name) - 7, ".tflite") == 0) {
                char p[8192];
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                paths[n++] = strdup(p);
            }
        closedir(d);
        qsort(paths, (size_t)n, sizeof *paths, by_name);
    }
    printf(
        "Bundle verification on the device path (tinymlops runtime, PSA = mbedTLS 2.28):\n"
        "best of 80 runs (32 above 200 KB) in 16 interleaved rounds, ms; inference: median of 15\n"
        "invokes, ms\n\n");
    printf("| model | bytes | SHA-256 only | verify (no payload) | verify + load, plain | verify + "
           "load, encrypted "
           "| encrypted: beyond verify + SHA | inference | working RAM B (tmo_bundle + stack) | "
           "PSA heap peak B |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int rc = 0;
    for (int i = 0; i < n; i++) {
        rc |= bench_model(paths[i], &k) != 0;
        free(paths[i]);
    }
    psa_destroy_key(k.device_key);
    host_key_wipe(&k.root);
    host_key_wipe(&k.signing);
    host_key_wipe(&k.device);
    return rc;
}
