/*
 * The reference-profile builder behind `tinymlops bundle pack --profile-data`:
 * runs representative inputs through the runtime and returns the PROFILE and
 * KAT section payloads (docs/monitoring.md). The statistics are collected by
 * the device monitor itself (runtime/monitor), so a profile bins and sums
 * values exactly like the devices that will compare with it.
 */
#ifndef TMO_HOST_PROFILE_BUILD_H
#define TMO_HOST_PROFILE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/profile.h"

typedef struct host_profile_opts {
    uint32_t bins;       /* histogram bins per input (and output) group; 16 */
    uint32_t max_groups; /* channel groups at most; 16 */
    uint32_t conf_bins;  /* confidence bins; 20 */
    int32_t mode;        /* -1 = auto (PROBS after a final SOFTMAX, else VALUES), or tmo_out_mode */
    int32_t pen_tensor;  /* -1 = auto (input of the last FULLY_CONNECTED), -2 = none, or index */
    uint32_t kat_count;  /* known-answer vectors (0 = no KAT); 4 */
    double tail;         /* fraction of values left outside a histogram range per side; 0.001 */
} host_profile_opts;

void host_profile_opts_defaults(host_profile_opts *o);

typedef struct host_profile_result {
    uint8_t *profile; /* PROFILE section value (malloc'ed) */
    size_t profile_len;
    uint8_t *kat; /* KAT section value (malloc'ed), NULL when kat_count is 0 */
    size_t kat_len;
    uint32_t samples, labelled, kat_vectors;
    tmo_out_mode mode;
    int32_t pen_tensor;    /* -1 when none */
    double label_accuracy; /* NaN without labels */
    double acc_ref;        /* calibrated accuracy estimate on the profile data (-1 for VALUES) */
} host_profile_result;

/*
 * Builds from a model and `count` samples of raw input-tensor bytes laid end
 * to end in data (count = data_len / input bytes), with optional labels
 * (one per sample, -1 = unknown; NULL for none). 0, or -1 with a message.
 */
int host_profile_build(const uint8_t *model, size_t model_len, const uint8_t *data, size_t data_len,
                       const int32_t *labels, const host_profile_opts *o, host_profile_result *out,
                       char *err, size_t err_len);

void host_profile_result_free(host_profile_result *r);

/*
 * Loads representative data: path is one file of samples laid end to end
 * (its size a multiple of sample_bytes), or a directory whose regular files
 * (sorted by name; names starting with '.' and ending in .out/.txt/.tsv/.md
 * skipped) each hold exactly one sample. Malloc'ed *data, *count samples.
 */
int host_profile_load_data(const char *path, size_t sample_bytes, uint8_t **data, size_t *count,
                           char *err, size_t err_len);

/* Labels: text, integers separated by white space or commas, one per sample in data order. */
int host_profile_load_labels(const char *path, int32_t **labels, size_t *count, char *err,
                             size_t err_len);

/*
 * All of the above from paths (labels_path may be NULL): what `bundle pack
 * --profile-data DATA [--labels L] [--kat N]` calls. Fails when the label
 * count differs from the sample count.
 */
int host_profile_build_files(const uint8_t *model, size_t model_len, const char *data_path,
                             const char *labels_path, const host_profile_opts *o,
                             host_profile_result *out, char *err, size_t err_len);

#endif
