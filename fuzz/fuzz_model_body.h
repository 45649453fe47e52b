/*
 * One run of the model fuzz target on untrusted bytes, shared by the
 * libFuzzer entry point (fuzz_model.c) and the corpus regression test
 * (corpus_test.c), so every committed input replays exactly what the fuzzer
 * did: parse, size the arena, init, fill the inputs, invoke, read outputs.
 */
#ifndef TMO_FUZZ_MODEL_BODY_H
#define TMO_FUZZ_MODEL_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"

/* The fixed arena every fuzzed model must fit in. */
#define FUZZ_ARENA_BYTES (256u * 1024u)

/* How far one input got. */
typedef struct fuzz_model_result {
    tmo_err parse; /* tmo_model_parse */
    tmo_err init;  /* tmo_interp_arena_size + tmo_interp_init; TMO_ESTATE if not reached */
    int invoked;   /* 1 when tmo_interp_invoke ran */
    int supported; /* 1 when the build has a kernel for every operator (0 if not parsed) */
} fuzz_model_result;

/*
 * Runs the model pipeline on data[0..size). Aborts (so the fuzzer reports a
 * crash) when the runtime breaks one of its documented contracts; memory
 * errors are left to the sanitizers.
 */
fuzz_model_result fuzz_model_run(const uint8_t *data, size_t size);

#endif
