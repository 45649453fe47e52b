/*
 * Statistics the profile builder computes on the host before the monitor
 * runs: histogram ranges (robust quantiles) per channel group, the
 * per-inference mean of a tensor, and the confidence calibration.
 */
#ifndef TMO_HOST_PROFILE_STATS_H
#define TMO_HOST_PROFILE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "profile_write.h"

/*
 * Fills s->g[*].lo/hi (the [tail, 1 - tail] quantiles of each group's values;
 * int8 exact, float32 to 1/4096 of the group's span) and mean (the shift the
 * monitor subtracts), and s->seq_mean/seq_std (over samples of the mean of
 * each sample's finite values). Samples are count tensors of s->elements
 * values each, stride bytes apart. s->type/channels/groups/elements set.
 * 0, or -1 when out of memory.
 */
int hp_value_ranges(host_pstats *s, const uint8_t *base, size_t count, size_t stride, double tail);

/* One profile sample as the monitor reads it (classifiers). */
typedef struct hp_pred {
    int32_t cls;
    float conf;
    int32_t label; /* -1 = unknown */
} hp_pred;

/*
 * Calibration per confidence bin [P-6]. With labels: per bin accuracy with a
 * prior of weight 2 towards the bin's mean confidence, made non-decreasing
 * by pool-adjacent-violators; without: the bin's mean confidence (identity).
 * Empty bins use the bin centre. Returns the number of labelled samples and
 * their accuracy in *acc (NaN when none).
 */
uint32_t hp_calibrate(const hp_pred *p, size_t n, uint32_t bins, float *calib, double *acc);

#endif
