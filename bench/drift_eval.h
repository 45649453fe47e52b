/*
 * Shared parts of the drift evaluation: a "subject" (a model, its profile
 * and the input bank its streams draw from) and the scenario runner that
 * measures detection delay, false alarms and accuracy-estimate error.
 */
#ifndef TMO_BENCH_DRIFT_EVAL_H
#define TMO_BENCH_DRIFT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "drift_stream.h"
#include "host.h"
#include "profile_build.h"
#include "tinymlops/monitor.h"

typedef struct subject {
    char name[128];
    host_model hm;
    ds_space sp;
    ds_bank bank; /* what the streams draw from */
    host_profile_result prof;
    tmo_profile p;
    size_t *pool; /* class mix: bank indices of the chosen predicted class */
    size_t pool_n;
    int32_t pool_class;
} subject;

typedef struct eval_cfg {
    uint32_t window;     /* inferences per report window */
    uint32_t clean;      /* clean windows before each drift */
    uint32_t drifted;    /* drifted windows observed after it */
    uint32_t fa_windows; /* windows of the no-drift run */
    uint32_t profile_n;  /* profile samples */
    float psi_alarm;     /* monitor thresholds (tmo_monitor_config defaults unless set) */
    float cusum_h;
} eval_cfg;

/* Outcome of one scenario. */
typedef struct outcome {
    int delay;             /* windows after the drift started until the first event; -1 = none */
    uint32_t first_events; /* event bits of that window */
    uint32_t clean_alarms; /* windows with events before the drift */
    uint32_t clean_by[16]; /* of them, windows where event bit i fired */
    uint32_t clean_windows;
    /* accuracy estimate (labelled banks only), over the drifted (or, for DS_NONE, all) windows */
    double true_acc, est_acc, mean_err, max_err;
    uint32_t acc_windows;
} outcome;

/* Event bits that count as a drift alarm. */
#define EVAL_ALARMS                                                                                \
    (TMO_EV_IMMEDIATE | TMO_EV_DRIFT_INPUT | TMO_EV_DRIFT_OUTPUT | TMO_EV_DRIFT_CONF |             \
     TMO_EV_DRIFT_PEN | TMO_EV_ACC_DROP)

/*
 * Builds s's profile from cfg->profile_n in-distribution draws of `from`
 * (with its labels when it has them), and the class-mix pool from s->bank.
 * 0, or -1 with a message on stderr.
 */
int subject_prepare(subject *s, const ds_bank *from, const eval_cfg *cfg, uint64_t seed);
void subject_free(subject *s);

/* Runs one scenario: cfg->clean clean windows, then `kind` for cfg->drifted windows. */
int run_scenario(subject *s, const eval_cfg *cfg, ds_kind kind, uint64_t seed, outcome *o);

/* Short name of the first detector among event bits. */
const char *detector_name(uint32_t events);

/* The digits part: trains a model on scikit-learn's digits and evaluates it. 0 = done, 1 = skipped. */
int eval_digits(const char *csv, const eval_cfg *cfg);

/* Prints one detection row (model, false alarms per 1000 windows, per-drift delays). */
void print_detection_row(const char *name, const outcome *fa, const outcome *drift, int classmix,
                         uint32_t drifted);

#endif
