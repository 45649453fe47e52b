/*
 * Writers of the PROFILE and KAT section payloads (include/tinymlops/profile.h,
 * docs/monitoring.md [P-x], [K-x]) from plain host structs. The profile
 * builder fills these structs from data; tests fill them by hand to make
 * profiles with known contents (and malformed ones).
 */
#ifndef TMO_HOST_PROFILE_WRITE_H
#define TMO_HOST_PROFILE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/profile.h"

typedef struct host_pgroup {
    float lo, hi;
    uint64_t count;
    double mean, m2;
    uint32_t hist[TMO_PROFILE_MAX_BINS];
} host_pgroup;

typedef struct host_pstats {
    int32_t type;
    uint32_t bins, groups, channels, elements;
    float scale;
    int32_t zero_point;
    float seq_mean, seq_std;
    host_pgroup *g; /* groups entries */
} host_pstats;

typedef struct host_profile_spec {
    tmo_out_mode mode;
    uint8_t digest[32];
    uint32_t samples, labelled;
    float label_accuracy;
    host_pstats in, out; /* out: VALUES only */
    /* classes (PROBS / LOGITS) */
    int32_t out_type;
    uint32_t classes, conf_bins;
    float out_scale;
    int32_t out_zero_point;
    float conf_mean, conf_std, acc_ref;
    uint32_t *class_counts, *conf_counts; /* classes, conf_bins entries */
    float *calib;                         /* conf_bins entries */
    /* penultimate; pen_channels == 0 for none */
    uint32_t pen_tensor, pen_channels, pen_count;
    int32_t pen_type;
    float pen_scale;
    int32_t pen_zero_point;
    float *pen_mean, *pen_var;
} host_profile_spec;

/* Encodes s (flags follow from labelled and pen_channels). Malloc'ed *out; 0, or -1 when out of memory. */
int host_profile_encode(const host_profile_spec *s, uint8_t **out, size_t *len);

/* One known-answer vector: its inputs and outputs as raw tensor bytes. */
typedef struct host_kat_vector {
    const uint8_t *in[TMO_KAT_MAX_IO];
    uint32_t in_len[TMO_KAT_MAX_IO];
    const uint8_t *out[TMO_KAT_MAX_IO];
    uint32_t out_len[TMO_KAT_MAX_IO];
} host_kat_vector;

/* Encodes vectors (1..256, each with inputs/outputs tensors). 0, or -1 on bad counts or OOM. */
int host_kat_encode(const host_kat_vector *v, uint32_t vectors, uint32_t inputs, uint32_t outputs,
                    uint8_t **out, size_t *len);

#endif
