/*
 * The training loop: mini-batch Adam on softmax cross-entropy, samples
 * shuffled every epoch from the seed, one sample at a time in a fixed
 * order, so the same seed and data give the same weights bit for bit.
 */
#ifndef TMO_TRAIN_TRAINER_H
#define TMO_TRAIN_TRAINER_H

#include <stdint.h>

#include "dataset.h"
#include "net.h"

typedef struct tr_train_config {
    uint32_t epochs; /* passes over the training set */
    uint32_t batch;  /* samples per Adam step */
    float lr;        /* Adam learning rate */
    uint64_t seed;   /* shuffling (weights were drawn at tr_net_build) */
} tr_train_config;

typedef struct tr_epoch_stats {
    uint32_t epoch, epochs; /* epoch counts from 1 */
    double loss;            /* mean training loss over the epoch */
    double train_acc;       /* training samples classified right as they were seen */
    double val_acc;         /* validation accuracy after the epoch; NaN without validation data */
} tr_epoch_stats;

typedef void (*tr_progress_fn)(const tr_epoch_stats *s, void *ctx);

/*
 * Trains n on train, reporting every epoch to progress (may be NULL).
 * last receives the statistics of the final epoch. Returns -1 only when
 * memory for the sample order runs out (n is then untouched).
 */
int tr_train(tr_net *n, const tr_dataset *train, const tr_dataset *val, const tr_train_config *c,
             tr_progress_fn progress, void *ctx, tr_epoch_stats *last);

/* Fraction of ds that n classifies right; NaN when ds is empty. */
double tr_accuracy(tr_net *n, const tr_dataset *ds);

#endif
