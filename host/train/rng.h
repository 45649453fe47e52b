/*
 * The model factory's own pseudo-random generator (splitmix64), so that a
 * training run depends only on its seed: not on the C library's rand(),
 * not on the platform. Every random choice of the factory (data split,
 * shuffling, weight initialisation) draws from one of these.
 */
#ifndef TMO_TRAIN_RNG_H
#define TMO_TRAIN_RNG_H

#include <stdint.h>

typedef struct tr_rng {
    uint64_t state;
} tr_rng;

/* A generator for seed; stream separates independent uses of one seed. */
void tr_rng_init(tr_rng *r, uint64_t seed, uint64_t stream);

uint64_t tr_rng_next(tr_rng *r);

/* Uniform in [0, 1) with 24 random bits (exact in float). */
float tr_rng_unit(tr_rng *r);

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t tr_rng_below(tr_rng *r, uint64_t n);

#endif
