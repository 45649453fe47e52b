/*
 * Monitoring reports on the host (server, agent, CLI, benchmarks): decoding
 * the device's binary records (include/tinymlops/monitor.h, docs/monitoring.md
 * [R-x]) into plain structs, merging windows (sum counters, add histograms,
 * combine moments), re-scoring drift of a merged report against the
 * profile, encoding back to the same wire format, and JSON rendering.
 *
 * Reports arrive from devices over the network: host_report_decode checks
 * every count, size and invariant and never reads outside the bytes.
 */
#ifndef TMO_HOST_REPORT_H
#define TMO_HOST_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/monitor.h"
#include "tinymlops/profile.h"

typedef struct host_group {
    uint64_t count;
    double mean, m2; /* raw tensor units */
    uint32_t *hist;  /* bins counts */
} host_group;

typedef struct host_sample {
    uint32_t index;
    float score;
    uint16_t cls;
    uint8_t *bytes; /* sample_bytes */
} host_sample;

typedef struct host_report {
    uint32_t flags;
    tmo_out_mode mode;
    uint64_t seq_first, seq_last, start_ms, end_ms;
    uint8_t digest[8];
    uint32_t inferences, errors, arena, events, windows, dropped, nonfinite;
    uint32_t first_event, in_inf, out_inf;
    uint32_t in_bins, in_groups;
    uint32_t out_bins, out_groups; /* VALUES: per output group; else confidence bins, classes */
    uint32_t pen_channels, pen_count, pen_rows;
    uint32_t sample_count, sample_bytes;
    tmo_drift drift;
    uint32_t latency[TMO_REPORT_LATENCY_BINS];
    host_group *in, *out; /* out: VALUES only */
    uint32_t *classes, *conf;
    float *pen_mean, *pen_m2;
    host_sample *samples;
} host_report;

/*
 * Decodes and validates report bytes into r (heap arrays; free with
 * host_report_free, also after failure). Returns 0, or -1 with a message
 * naming the field and byte offset in err.
 */
int host_report_decode(const uint8_t *bytes, size_t len, host_report *r, char *err, size_t err_len);
void host_report_free(host_report *r);

/* Encodes r in the wire format (malloc'ed *out). -1 with a message on inconsistent r. */
int host_report_encode(const host_report *r, uint8_t **out, size_t *len, char *err, size_t err_len);

/* Deep copy (0, or -1 when out of memory). */
int host_report_copy(host_report *dst, const host_report *src);

/*
 * acc += add: counters and histograms summed (u32 counters saturate), moments
 * combined (Chan et al.), events OR'ed, sequence and time ranges widened,
 * samples dropped, MERGED set. Drift values become inference-weighted means
 * (exact for acc_est and conf_mean; call host_report_rescore for exact
 * PSI/JS). -1 with a message when the two do not have the same layout or model.
 */
int host_report_merge(host_report *acc, const host_report *add, char *err, size_t err_len);

/*
 * Recomputes r->drift from r's counts against profile p with the device's own
 * formulas (tmo_divergence_u32, calibration, penultimate shift); the CUSUM
 * peaks are kept. -1 when r does not fit p.
 */
int host_report_rescore(host_report *r, const tmo_profile *p, char *err, size_t err_len);

/* Window-end events implied by r->drift and counts for these thresholds. */
uint32_t host_report_window_events(const host_report *r, const tmo_profile *p,
                                   const tmo_monitor_config *c);

/* Upper bound (us) of the latency bucket holding quantile q in [0, 1]; 0 if no inference. */
uint64_t host_report_latency_quantile(const host_report *r, double q);

/* Names of event bits ("conf_down", "drift_input", ...); NULL for an unknown bit. */
const char *host_report_event_name(uint32_t bit);

/* The report as one JSON object (malloc'ed, NUL-terminated); NULL when out of memory. */
char *host_report_json(const host_report *r);

#endif
