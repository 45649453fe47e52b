/*
 * What a fuzz target provides to be replayed by corpus_replay.c: its
 * libFuzzer entry point, and whether a seed named valid-* is (still)
 * accepted by the parser it exercises.
 */
#ifndef TMO_FUZZ_CORPUS_REPLAY_H
#define TMO_FUZZ_CORPUS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed_valid(const uint8_t *data, size_t size);

#endif
