/*
 * libFuzzer entry point for untrusted model bytes (the body is shared with
 * the corpus regression test: fuzz_model_body.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_model_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_model_run(data, size);
    return 0;
}
