/*
 * libFuzzer entry point for untrusted bundle bytes (the body is shared with
 * the seed generator: fuzz_bundle_body.c). Replayed in every build by
 * corpus_replay.c; seeds named valid-* were made from the published test
 * vectors and must pass every check.
 */
#include <stddef.h>
#include <stdint.h>

#include "corpus_replay.h"
#include "fuzz_bundle_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_bundle_run(data, size);
    return 0;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    return fuzz_bundle_run(data, size) == TMO_OK;
}
