/*
 * libFuzzer entry point for untrusted bundle bytes (the body is shared with
 * the corpus replay test: fuzz_bundle_body.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_bundle_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_bundle_run(data, size);
    return 0;
}
