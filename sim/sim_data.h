/*
 * What simulated devices feed their models: rows of a labelled data set
 * (the digits shipped with Debian's python3-sklearn for the digits models),
 * the reference inputs of the MLPerf Tiny models when ../shared/ref is
 * there, or synthetic values for any other input. Data sets are loaded once
 * and shared read-only by every device; each device draws its own stream,
 * changed by its drift (sim_drift) and quantized with the scale and zero
 * point of whatever model it runs at the moment.
 */
#ifndef TMO_SIM_DATA_H
#define TMO_SIM_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "tinymlops/interp.h"

typedef struct sim_dataset {
    char name[64];
    size_t count, features; /* samples; values per sample (elements of the input) */
    int32_t type;           /* TMO_FLOAT32: real values in x; else raw tensors of this type */
    float *x;               /* count * features real values (value sets) */
    uint8_t *raw;           /* count * raw_bytes tensor bytes (reference input sets) */
    size_t raw_bytes;
    int32_t classes; /* labelled sets: labels 0 .. classes - 1 in y; else 0 */
    int32_t *y;
    size_t *by_class; /* row indices grouped by label; class k: [class_start[k], class_start[k+1]) */
    size_t *class_start;
    float lo, hi; /* range of the real values (value sets) */
} sim_dataset;

typedef struct sim_data {
    sim_dataset *sets;
    size_t count;
} sim_data;

/*
 * Loads the labelled file (CSV or raw, docs/model-factory.md "Data files";
 * NULL: none) and every golden/dev/<model>/ input set under ref_dir (NULL or
 * missing: none). Returns 0, or -1 with a message in err (a labelled file
 * that is given but unreadable).
 */
int sim_data_load(sim_data *d, const char *labelled_path, const char *ref_dir, char *err,
                  size_t err_len);
void sim_data_free(sim_data *d);

/* The set that fits a model input (value sets by element count, raw sets by type and bytes). */
const sim_dataset *sim_data_match(const sim_data *d, const tmo_io *in);

/* Running input statistics of one device (real units of what the model was given). */
typedef struct sim_stream_stats {
    uint64_t inputs, values;
    double sum, sumsq;
} sim_stream_stats;

/*
 * Writes one input into in (any of int8, uint8, float32; others are zeroed)
 * from ds (NULL: synthetic) with drift applied; salt makes a device's stuck
 * or saturated features its own. Adds the values to st. Returns the true
 * label, or -1 when unknown.
 */
int sim_stream_fill(const sim_dataset *ds, const sim_drift *drift, uint64_t salt, uint64_t *rng,
                    const tmo_io *in, sim_stream_stats *st);

/*
 * Writes row `row` of ds into in exactly as an undrifted device would see
 * it. Returns its label (-1 unknown), or -2 for a bad row or input type.
 */
int sim_stream_row(const sim_dataset *ds, size_t row, const tmo_io *in);

#endif
