/*
 * Synthetic monitoring reports for the telemetry tests: a well-formed REPORT
 * (docs/monitoring.md section 4) of a 2-class classifier with one input
 * group, whose counters, latency bucket, accuracy estimate, drift and
 * events the test chooses, encoded by the host encoder (so the server's
 * decoder accepts it exactly like a device's).
 */
#ifndef TMO_TEST_TEL_FIXTURE_H
#define TMO_TEST_TEL_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

typedef struct tfx_spec {
    uint64_t seq;
    uint32_t inferences, errors;
    int lat_bucket;  /* every inference in this log2 bucket (0..31) */
    float acc_est;   /* -1: none */
    float psi;       /* psi_in_max (the drift score) */
    uint32_t events; /* TMO_EV_* */
    uint8_t digest;  /* model digest prefix: 8 bytes of this value */
} tfx_spec;

/* Encoded report bytes (heap) for spec; NULL on failure. */
static inline uint8_t *tfx_report(const tfx_spec *s, size_t *len)
{
    host_report r;
    memset(&r, 0, sizeof r);
    uint32_t out = s->inferences - s->errors;
    uint32_t hist[2] = {s->inferences / 2, s->inferences - s->inferences / 2};
    uint32_t classes[2] = {out / 2, out - out / 2}, conf[2] = {0, out};
    host_group g = {s->inferences, 0.0, 0.0, hist};
    r.flags = TMO_OUT_PROBS << TMO_REPORT_F_MODE_SHIFT;
    r.mode = TMO_OUT_PROBS;
    r.seq_first = r.seq_last = s->seq;
    r.start_ms = 1000 * s->seq;
    r.end_ms = 1000 * s->seq + 999;
    memset(r.digest, s->digest, 8);
    r.inferences = s->inferences;
    r.errors = s->errors;
    r.events = s->events;
    r.windows = 1;
    r.first_event = 0xffffffffu;
    r.in_inf = s->inferences;
    r.out_inf = out;
    r.in_bins = 2;
    r.in_groups = 1;
    r.out_bins = 2;
    r.out_groups = 2;
    r.latency[s->lat_bucket] = s->inferences;
    r.in = &g;
    r.classes = classes;
    r.conf = conf;
    r.drift.psi_in_max = r.drift.psi_in_mean = s->psi;
    r.drift.acc_est = out > 0 ? s->acc_est : -1.0f;
    r.drift.conf_mean = out > 0 ? 0.9f : -1.0f;
    uint8_t *bytes = NULL;
    char err[200];
    if (host_report_encode(&r, &bytes, len, err, sizeof err) != 0)
        return NULL;
    return bytes;
}

#endif
