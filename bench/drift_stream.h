/*
 * Reproducible input streams for the drift evaluation (bench/drift_eval.c):
 * an in-distribution generator (a bank of base inputs, each drawn with a
 * small Gaussian perturbation) and the drifts applied at a known point,
 * all in real (dequantized) units, then quantized back to the model's
 * input tensor. Everything is seeded (splitmix64).
 */
#ifndef TMO_BENCH_DRIFT_STREAM_H
#define TMO_BENCH_DRIFT_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    DS_NONE,
    DS_MEAN,     /* x + 0.5 sigma */
    DS_SCALE,    /* mu + 1.5 (x - mu) */
    DS_NOISE,    /* x + N(0, (0.5 sigma)^2) per value */
    DS_STUCK,    /* the input freezes: the last clean input repeats */
    DS_SATURATE, /* gain 4 around mu, clipped to the representable range */
    DS_CLASSMIX, /* only inputs the model puts in one (rare) class */
    DS_KINDS
} ds_kind;

const char *ds_kind_name(ds_kind k);

/* How values map to tensor bytes. */
typedef struct ds_space {
    int32_t type; /* TMO_INT8 or TMO_FLOAT32 */
    size_t elements;
    float scale; /* int8 */
    int32_t zero_point;
    double lo, hi; /* representable range in real units (saturation clips here) */
} ds_space;

/* Base inputs in real units and what the generator needs to know about them. */
typedef struct ds_bank {
    size_t n;
    double *x;        /* n * elements */
    int32_t *label;   /* true labels, or NULL */
    double mu, sigma; /* over all values of all bases */
    double jitter;    /* in-distribution perturbation, sd in real units */
} ds_bank;

typedef struct ds_rng {
    uint64_t s;
} ds_rng;

uint64_t ds_next(ds_rng *r);
double ds_uniform(ds_rng *r);
double ds_normal(ds_rng *r);

void ds_from_tensor(const ds_space *sp, const void *t, double *x);
void ds_to_tensor(const ds_space *sp, const double *x, void *t);

/* Fills mu and sigma of a bank from its bases. */
void ds_bank_moments(ds_bank *b, size_t elements);

/* A stream over a bank. */
typedef struct ds_stream {
    const ds_space *sp;
    const ds_bank *bank;
    ds_rng rng;
    ds_kind kind;
    int drifting;
    const size_t *pool; /* class-mix: bank indices to draw from after the drift */
    size_t pool_n;
    double *last; /* the last clean input (stuck sensor) */
    double *work;
    int32_t label; /* true label of the last input, -1 when unknown */
} ds_stream;

/* Starts a stream (0, or -1 when out of memory); ds_stream_free releases it. */
int ds_stream_init(ds_stream *s, const ds_space *sp, const ds_bank *bank, uint64_t seed,
                   ds_kind kind);
void ds_stream_free(ds_stream *s);

/* The next input into t (tensor bytes); before the drift starts, in-distribution. */
void ds_stream_next(ds_stream *s, void *t);

#endif
