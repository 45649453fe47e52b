/*
 * splitmix64 (Steele, Lea, Flood 2014): tiny, fast and statistically good
 * enough for shuffling and initialisation.
 */
#include "rng.h"

void tr_rng_init(tr_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = seed ^ (stream * 0xD1B54A32D192ED03ull);
    /* Decorrelate nearby seeds before the first draw. */
    (void)tr_rng_next(r);
}

uint64_t tr_rng_next(tr_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float tr_rng_unit(tr_rng *r)
{
    return (float)(tr_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint64_t tr_rng_below(tr_rng *r, uint64_t n)
{
    /* Reject the top partial block of 2^64 so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = tr_rng_next(r);
    while (v >= limit);
    return v % n;
}
