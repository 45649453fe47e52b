/*
 * Rollout health gates (docs/protocol.md P-26, docs/server.md): when a
 * wave has soaked, the telemetry of the deployment's devices that run the
 * new version is compared with the baseline - devices of the same
 * deployment still on the old version - on error rate, latency p95,
 * estimated accuracy and drift. The policy comes with the deployment
 * (create option "health_gate"). This file is the pure, deterministic part:
 * the policy, the statistics of one side and the verdict with its reason;
 * gate_eval.c collects the statistics and acts on the verdict.
 */
#ifndef TMO_GATE_H
#define TMO_GATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct gate_policy {
    int rollback;           /* action on failure: 0 halt, 1 rollback */
    int64_t min_inferences; /* evidence each side needs before judging (100) */
    int64_t min_devices;    /* devices with telemetry each side needs (1) */
    /* Limits; a negative value turns the check off. */
    double max_error_increase; /* wave error rate - baseline error rate (0.02) */
    double max_latency_ratio;  /* wave p95 / baseline p95 (1.5) */
    double max_accuracy_drop;  /* baseline acc_est - wave acc_est (0.05) */
    double max_drift_increase; /* wave drift score - baseline drift score (0.10) */
} gate_policy;

void gate_policy_defaults(gate_policy *p);
/*
 * Reads a "health_gate" object ({"action": "halt"|"rollback", ...}; a limit
 * of null turns that check off). -1 with the problem in err.
 */
int gate_policy_from_json(json_t *j, gate_policy *p, char *err, size_t err_len);
json_t *gate_policy_json(const gate_policy *p);

/* Telemetry of one side, summed over its devices' reports. */
typedef struct gate_side {
    int64_t devices, reports, inferences, errors;
    uint64_t latency[ST_LAT_BINS];
    double acc_sum, acc_weight;     /* acc_est x outputs, outputs (reports with an estimate) */
    double drift_sum, drift_weight; /* drift score x inferences, inferences */
} gate_side;

/* Adds one stored report to a side (devices are counted by the caller). */
void gate_side_add(gate_side *s, const st_report *r);

typedef enum { GATE_PASS = 0, GATE_WAIT = 1, GATE_FAIL = 2 } gate_verdict;

typedef struct gate_outcome {
    gate_verdict verdict;
    char reason[400]; /* FAIL: every failed check, "; "-separated; WAIT: what is missing */
    /* the compared values (NAN when a side has none) */
    double wave_error_rate, base_error_rate;
    double wave_p95_us, base_p95_us;
    double wave_acc, base_acc;
    double wave_drift, base_drift;
} gate_outcome;

/* The verdict for wave (new version) against base (old version). */
void gate_judge(const gate_policy *p, const gate_side *wave, const gate_side *base,
                gate_outcome *out);

/* The outcome as JSON (verdict, reason, both sides' values). */
json_t *gate_outcome_json(const gate_outcome *o, const gate_side *wave, const gate_side *base);

#endif
