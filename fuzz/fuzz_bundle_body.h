/*
 * One run of the bundle fuzz target, shared by the libFuzzer entry point
 * (fuzz_bundle.c) and the corpus replay test (bundle_corpus_test.c).
 *
 * The first input byte picks what is fuzzed (mod 4):
 *   0  the whole device path: [0][root public key 65][device private key 32][bundle]
 *      -> tmo_bundle_verify, then tmo_bundle_load (or check_payload)
 *   1  tmo_bundle_manifest_parse on the rest (and the arch accessor)
 *   2  tmo_bundle_cert_parse on the rest
 *   3  tmo_bundle_header_decode + the section walk + tmo_bundle_wrap_parse
 * Keys come from the input so that seeds made from the published test
 * vectors (docs/test-vectors/bundle) reach every step with valid signatures.
 */
#ifndef TMO_FUZZ_BUNDLE_BODY_H
#define TMO_FUZZ_BUNDLE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"

/* Largest payload the fuzz target loads (its model slot). */
#define FUZZ_BUNDLE_SLOT (64u * 1024u)

/*
 * Runs the input; returns the first error (TMO_OK when everything passed).
 * Aborts when the library breaks a documented contract (an error without a
 * name, a failed load that leaves bytes in the slot, a diag with another
 * error than the one returned); memory errors are left to the sanitizers.
 */
tmo_err fuzz_bundle_run(const uint8_t *data, size_t size);

#endif
