/*
 * Host-side verification of a bundle (`tinymlops bundle verify`, tests):
 * the device library's own checks, run over a bundle in memory with
 * emulated ports, plus what only a host can afford: the GCM tag of the whole
 * payload (one-shot) through an independent unwrap path, and parsing the
 * plaintext as a model, checking its monitoring profile against it and
 * running its known-answer tests through the runtime.
 */
#ifndef TMO_HOST_BUNDLE_CHECK_H
#define TMO_HOST_BUNDLE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "tinymlops/bundle.h"

typedef struct host_verify_in {
    const uint8_t (*roots)[TMO_P256_PUBLIC_KEY_LEN];
    size_t root_count;
    uint64_t min_counter;        /* the NV counter value to check against */
    const host_key *device;      /* private key to decrypt with; NULL = do not decrypt */
    uint64_t now;                /* Unix seconds; 0 = the system clock */
    int no_clock;                /* skip time checks (a device without trusted time) */
    const tmo_bundle_caps *caps; /* NULL = target requirements not checked */
    int skip_self_test;          /* leave the PROFILE and KAT sections to the device */
} host_verify_in;

typedef struct host_verify_out {
    tmo_err err;         /* TMO_OK when every check passed */
    tmo_diag diag;       /* the failed check (device library) */
    char message[640];   /* one line naming the failed check, or a summary */
    int payload_checked; /* digest of the stored payload matched */
    int decrypted;       /* plaintext recovered and its digest matched */
    int gcm_tag_checked; /* GCM tag of the payload verified (host) */
    int model_parsed;    /* plaintext parses as a .tflite model */
    int profile_checked; /* PROFILE section parses and matches the model */
    uint32_t kat_passed; /* known-answer vectors that the runtime reproduced (all of them) */
    tmo_bundle *bundle;  /* the verified bundle (manifest etc.), or NULL */
    uint8_t *model;      /* plaintext (16-aligned, free with host_verify_free) */
    size_t model_len;
} host_verify_out;

/* Runs all checks. Returns out->err. */
tmo_err host_bundle_verify(const uint8_t *bytes, size_t len, const host_verify_in *in,
                           host_verify_out *out);

void host_verify_free(host_verify_out *out);

#endif
