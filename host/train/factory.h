/*
 * The model factory pipeline behind `tinymlops model train`: split the data,
 * build and train the network, fold the input scale, calibrate, quantize,
 * export int8 (and optionally float32) .tflite models, and measure both on
 * the validation split (the int8 model through the runtime itself).
 */
#ifndef TMO_TRAIN_FACTORY_H
#define TMO_TRAIN_FACTORY_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "quantize.h"
#include "trainer.h"

typedef struct tr_job {
    const char *arch;         /* architecture spec (arch.h) */
    int32_t in_h, in_w, in_c; /* CNN input shape; all 0 = square single-channel image */
    uint32_t epochs, batch;
    float lr;
    uint64_t seed;
    double val_split;        /* fraction of samples held out for validation */
    int want_float;          /* also export the float32 model */
    tr_progress_fn progress; /* per-epoch report, may be NULL */
    void *progress_ctx;
} tr_job;

/* Defaults: 30 epochs, batch 32, learning rate 0.003, seed 1, validation 0.2. */
void tr_job_defaults(tr_job *j);

typedef struct tr_result {
    size_t n_train, n_val, features;
    int32_t classes;
    int32_t in_h, in_w, in_c; /* input shape of the model (1 x 1 x F for an mlp) */
    size_t params;
    tr_epoch_stats last; /* final epoch */
    double train_seconds;
    double float_val_acc; /* NaN without a validation split */
    double int8_val_acc;
    tr_qparams input_q;  /* how raw features become the int8 input */
    uint8_t *int8_model; /* free with tr_result_free */
    size_t int8_len, int8_arena;
    uint8_t *float_model; /* NULL unless want_float */
    size_t float_len, float_arena;
} tr_result;

/*
 * Runs the pipeline on all (which the caller keeps). Returns -1 with a
 * message in err on bad arguments, shapes or data, or out of memory.
 */
int tr_factory_run(const tr_job *job, const tr_dataset *all, tr_result *r, char *err,
                   size_t err_len);
void tr_result_free(tr_result *r);

/*
 * Accuracy of a .tflite classifier (int8 or float32 input, one output of
 * class scores) on ds through the runtime; int8 inputs are quantized with
 * tr_quantize_value. *arena (may be NULL) receives the arena bytes.
 * acc is NaN for an empty ds. Returns -1 with a message when the model does
 * not load or does not fit the data.
 */
int tr_eval_model(const uint8_t *model, size_t len, const tr_dataset *ds, double *acc,
                  size_t *arena, char *err, size_t err_len);

#endif
