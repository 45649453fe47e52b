/*
 * Shared set-up of the update engine tests: a trusted root and a certified
 * signing key, signed bundles of small FULLY_CONNECTED models (distinct
 * versions, counters and bytes), and an engine configuration over any
 * storage port and counter.
 */
#ifndef TMO_TEST_UPDATE_FIXTURE_H
#define TMO_TEST_UPDATE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/update.h"

typedef struct ufx_bundle {
    uint8_t *bytes;
    size_t len;
    uint8_t digest[TMO_SHA256_LEN]; /* SHA-256 of the whole bundle */
    uint8_t *model;                 /* the plaintext .tflite inside */
    size_t model_len;
} ufx_bundle;

typedef struct ufx_spec {
    const char *version;
    uint64_t counter;
    int hidden;       /* FC width: changes the model bytes and size */
    const char *arch; /* NULL: any */
    int untrusted;    /* signed under a root the device does not pin */
    const void *kat;  /* a KAT extension section value, or NULL */
    size_t kat_len;
    uint64_t expires_in; /* seconds from now until the bundle expires; 0: never */
} ufx_spec;

/* Creates the keys once per process. 0 on success. */
int ufx_setup(void);

/* Packs a bundle named "test/model" (heap; free with ufx_bundle_free). 0 on success. */
int ufx_make(const ufx_spec *spec, ufx_bundle *out);
void ufx_bundle_free(ufx_bundle *b);

/* Writes the root public key as NAME.pub (and NAME.key) for tools that read key files. 0 on success. */
int ufx_write_root(const char *name);

/* The pinned root key. */
const uint8_t (*ufx_roots(void))[TMO_P256_PUBLIC_KEY_LEN];

/* Moves the configured clock by seconds (0: real time). */
void ufx_clock_shift(int64_t seconds);

/* A configuration over storage and counter with the fixture's root, caps for arch "x86_64". */
tmo_update_config ufx_config(const tmo_port_storage *storage, const tmo_port_counter *counter);

/* Runs begin (with digest) .. finish from the resume point in chunks of chunk bytes. TMO_OK or the first error. */
tmo_err ufx_download(tmo_update *u, const ufx_bundle *b, uint64_t tag, size_t chunk,
                     uint32_t *resumed_at);

/* download + activate + confirm. */
tmo_err ufx_install(tmo_update *u, const ufx_bundle *b, uint64_t tag, size_t chunk);

#endif
