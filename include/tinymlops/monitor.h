/*
 * The device monitor: label-free telemetry of one model in the field.
 *
 * Attached to an interpreter and the model's reference profile (profile.h),
 * it accumulates per reporting window (N inferences and/or T milliseconds):
 * inference and error counts, a log2 latency histogram, the arena size,
 * histograms and moments of the input per channel group, the output class
 * and confidence distributions (or output value histograms), optional
 * penultimate-layer statistics and an optional reservoir of the most unusual
 * raw inputs (off by default). When a window closes it scores drift against
 * the profile (PSI and Jensen-Shannon), estimates accuracy from calibrated
 * confidence and encodes a compact binary report (format pinned below, spec
 * in docs/monitoring.md, requirements [R-x]). Two CUSUM detectors (top-1
 * confidence and per-inference input mean) run across windows and raise
 * an event immediately on an abrupt change.
 *
 * Usage per inference (inputs may be overwritten during invoke, so input
 * statistics are taken before it):
 *     write inputs; tmo_monitor_before(mon, it); tmo_interp_invoke(it);
 *     tmo_monitor_observe(mon, it, latency_us, ok);
 * or simply tmo_monitor_invoke(mon, it) which does all three (and times the
 * invoke with the configured clock).
 *
 * Memory: nothing is allocated. tmo_monitor_mem_size() gives the bytes of
 * the caller's buffer for a configuration; all per-inference work is bounded
 * by the input, output and penultimate tensor sizes (see docs/monitoring.md
 * for the cost). Ownership: the profile (and its bytes), the interpreter,
 * the buffer and the callbacks' contexts belong to the caller and must
 * outlive the monitor. No static state: any number of monitors may coexist.
 */
#ifndef TINYMLOPS_MONITOR_H
#define TINYMLOPS_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"
#include "tinymlops/interp.h"
#include "tinymlops/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- REPORT wire format, version 1 [R-1..R-9] ---- */

#define TMO_REPORT_MAGIC "TMOR"
#define TMO_REPORT_VERSION 1
#define TMO_REPORT_HEADER_SIZE 112
#define TMO_REPORT_DRIFT_SIZE 56
#define TMO_REPORT_LATENCY_BINS 32
#define TMO_REPORT_GROUP_FIXED 24  /* u64 count, f64 mean, f64 m2, then u32 hist[bins] */
#define TMO_REPORT_PEN_FIXED 8     /* u32 count, u32 rows, then per channel f32 mean, f32 m2 */
#define TMO_REPORT_SAMPLE_FIXED 12 /* u32 index, f32 score, u16 class, u16 0, then input bytes */
#define TMO_REPORT_MAX_SAMPLES 64

/* Header flags. */
#define TMO_REPORT_F_CLOSE_MASK 0x0003u /* why the window closed: */
#define TMO_REPORT_CLOSE_COUNT 0u       /*   window_inferences reached */
#define TMO_REPORT_CLOSE_TIME 1u        /*   window_ms elapsed */
#define TMO_REPORT_CLOSE_FLUSH 2u       /*   tmo_monitor_flush */
#define TMO_REPORT_F_MERGED 0x0004u     /* made by merging reports on a server */
#define TMO_REPORT_F_PEN 0x0008u        /* penultimate block present */
#define TMO_REPORT_F_SAMPLES 0x0010u    /* sample block present */
#define TMO_REPORT_F_MODE_SHIFT 8       /* bits 8-9: tmo_out_mode of the profile */
#define TMO_REPORT_F_MODE_MASK 0x0300u

/* Byte offsets inside the header. */
enum {
    TMO_RH_MAGIC = 0,
    TMO_RH_VERSION = 4,       /* u16 */
    TMO_RH_HEADER_SIZE = 6,   /* u16 */
    TMO_RH_TOTAL = 8,         /* u32 */
    TMO_RH_FLAGS = 12,        /* u32 */
    TMO_RH_SEQ_FIRST = 16,    /* u64 */
    TMO_RH_SEQ_LAST = 24,     /* u64 */
    TMO_RH_START_MS = 32,     /* u64 device-local clock */
    TMO_RH_END_MS = 40,       /* u64 */
    TMO_RH_DIGEST = 48,       /* first 8 bytes of the model's SHA-256 (from the profile) */
    TMO_RH_INFERENCES = 56,   /* u32 */
    TMO_RH_ERRORS = 60,       /* u32 */
    TMO_RH_ARENA = 64,        /* u32 arena bytes in use (the interpreter's high water) */
    TMO_RH_EVENTS = 68,       /* u32 TMO_EV_* bits */
    TMO_RH_WINDOWS = 72,      /* u32 windows merged (1 from a device) */
    TMO_RH_DROPPED = 76,      /* u32 earlier reports overwritten before they were taken */
    TMO_RH_NONFINITE = 80,    /* u32 NaN/Inf input values (float inputs) */
    TMO_RH_IN_BINS = 84,      /* u8 */
    TMO_RH_OUT_BINS = 85,     /* u8 VALUES: bins per output group; else confidence bins */
    TMO_RH_IN_GROUPS = 86,    /* u16 */
    TMO_RH_OUT_GROUPS = 88,   /* u16 VALUES: output groups; else classes */
    TMO_RH_PEN_CH = 90,       /* u16 */
    TMO_RH_SAMPLES = 92,      /* u16 samples in the sample block */
    TMO_RH_LAT_BINS = 94,     /* u16 = TMO_REPORT_LATENCY_BINS */
    TMO_RH_SAMPLE_BYTES = 96, /* u32 input bytes per sample */
    TMO_RH_FIRST_EVENT = 100, /* u32 inference index of the first immediate event, or ~0 */
    TMO_RH_IN_INF = 104,      /* u32 inferences whose input was observed */
    TMO_RH_OUT_INF = 108      /* u32 inferences whose output was observed */
};
_Static_assert(TMO_RH_OUT_INF + 4 == TMO_REPORT_HEADER_SIZE, "report header layout");

/* Drift block offsets [R-3] (f32 unless noted). */
enum {
    TMO_RD_PSI_IN_MEAN = 0,
    TMO_RD_PSI_IN_MAX = 4,
    TMO_RD_JS_IN_MEAN = 8,
    TMO_RD_JS_IN_MAX = 12,
    TMO_RD_PSI_OUT = 16, /* classes, or mean over output groups */
    TMO_RD_JS_OUT = 20,
    TMO_RD_PSI_CONF = 24,
    TMO_RD_JS_CONF = 28,
    TMO_RD_PEN_SHIFT = 32,  /* mean |z| of penultimate channel means */
    TMO_RD_ACC_EST = 36,    /* calibrated accuracy estimate, -1 when none */
    TMO_RD_CONF_MEAN = 40,  /* mean top-1 confidence, -1 when none */
    TMO_RD_CUSUM_CONF = 44, /* largest CUSUM statistic in the window (profile sigmas) */
    TMO_RD_CUSUM_IN = 48,
    TMO_RD_WORST_GROUP = 52, /* u16 input group with the largest PSI; u16 0 */
};

/* Events: immediate ones (CUSUM) and window-end ones. */
#define TMO_EV_CONF_DOWN 0x0001u   /* top-1 confidence dropped abruptly */
#define TMO_EV_CONF_UP 0x0002u     /* ... rose abruptly (e.g. a stuck input) */
#define TMO_EV_INPUT_UP 0x0004u    /* per-inference input mean rose abruptly */
#define TMO_EV_INPUT_DOWN 0x0008u  /* ... fell abruptly */
#define TMO_EV_INPUT_STUCK 0x0010u /* the same input stuck_after times in a row */
#define TMO_EV_IMMEDIATE 0x00FFu
#define TMO_EV_DRIFT_INPUT 0x0100u  /* some input group drifted (tmo_divergence_alarm) */
#define TMO_EV_DRIFT_OUTPUT 0x0200u /* class (or output value) distribution moved */
#define TMO_EV_DRIFT_CONF 0x0400u   /* confidence distribution moved */
#define TMO_EV_DRIFT_PEN 0x0800u    /* penultimate shift above pen_alarm */
#define TMO_EV_ACC_DROP 0x1000u     /* accuracy estimate below the profile's by acc_alarm */
#define TMO_EV_ERRORS 0x2000u       /* at least one failed inference */
#define TMO_EV_NONFINITE 0x4000u    /* NaN/Inf in float inputs */

/* Values read from a report's drift block (also used by the host decoder). */
typedef struct tmo_drift {
    float psi_in_mean, psi_in_max, js_in_mean, js_in_max;
    float psi_out, js_out, psi_conf, js_conf;
    float pen_shift, acc_est, conf_mean, cusum_conf, cusum_in;
    uint16_t worst_group;
} tmo_drift;

/*
 * Bytes of a report with these counts: header + drift + latency +
 * input groups + (classes and confidence | output groups) + pen + samples.
 */
size_t tmo_report_size(uint32_t in_groups, uint32_t in_bins, tmo_out_mode mode,
                       uint32_t out_groups_or_classes, uint32_t out_bins, uint32_t pen_channels,
                       uint32_t samples, uint32_t sample_bytes);

/* ---- drift math, shared by the device and the server ---- */

/*
 * Population stability index and Jensen-Shannon divergence (base 2, in
 * [0, 1]) of a window histogram against a reference one, over the
 * bins that have a count in either (used bins, U). PSI uses additively
 * smoothed frequencies (c + 0.5) / (n + 0.5 |U|); JS the raw frequencies.
 * stat = psi * n_win * n_ref / (n_win + n_ref) is approximately chi-square
 * with df = |U| - 1 degrees of freedom when both histograms are samples of
 * one distribution (independent values). All zero when either is empty.
 */
typedef struct tmo_divergence {
    double psi, js, stat;
    uint32_t df;
} tmo_divergence;
tmo_divergence tmo_divergence_u32(const uint32_t *ref, const uint32_t *win, uint32_t bins);

/*
 * The drift alarm rule: the shift is large (psi > psi_alarm) and
 * significant (stat above the chi-square(df) quantile at z standard normal
 * deviations, Wilson-Hilferty approximation; z = 3.7 is about p = 1e-4).
 */
int tmo_divergence_alarm(const tmo_divergence *d, float psi_alarm, float z);

/*
 * Winsorized two-sided CUSUM on a standardized statistic:
 * z = clamp((x - mean) / sd, -clip, clip); up = max(0, up + z - k);
 * down = max(0, down - z - k). A side that exceeds h raises its event and
 * restarts from 0.
 */
typedef struct tmo_cusum {
    float up, down;
    float peak; /* max(up, down) after the last step, before any restart */
} tmo_cusum;
/* Returns 0, +1 (up alarm) or -1 (down alarm). */
int tmo_cusum_step(tmo_cusum *c, float z, float k, float h, float clip);

/*
 * How the monitor reads a classifier's output: the top-1 class (first
 * index on ties) and its confidence in [0, 1] (PROBS: the dequantized value;
 * LOGITS: its softmax probability; NaN reads as 0), and the confidence bin
 * floor(conf * bins) clamped to [0, bins - 1]. Public so that the host
 * profile builder bins exactly like the device.
 */
int32_t tmo_monitor_top1(const tmo_profile *p, const void *output, float *conf);
uint32_t tmo_monitor_conf_bin(float conf, uint32_t bins);

/* ---- the monitor ---- */

typedef struct tmo_monitor_config {
    uint32_t window_inferences; /* close a window after this many inferences (0 = no limit) */
    uint32_t window_ms;         /* or after this much device time (0 = no limit; needs now_us) */
    uint32_t input_stride;      /* observe every k-th row of the input (rows = elements/channels) */
    uint16_t samples;           /* raw-input reservoir size, 0 = off (default) */
    uint8_t use_pen;            /* penultimate statistics when the profile has them (default 1) */
    uint8_t reserved;
    uint32_t stuck_after; /* INPUT_STUCK after this many identical inputs in a row (16; 0 off) */
    float cusum_k, cusum_h, cusum_clip; /* in profile standard deviations (0.5, 16, 3) */
    float psi_alarm;                    /* PSI for DRIFT events (0.2) ... */
    float psi_z;                        /* ... when also significant at z sigmas (3.7) */
    float pen_alarm;                    /* penultimate shift for DRIFT_PEN (1.0) */
    float acc_alarm;                    /* accuracy-estimate drop for ACC_DROP (0.15) */
    uint64_t first_seq; /* sequence number of the first report (the agent persists it) */
    /* Device-local monotonic clock in microseconds, or NULL (then no latency, no time windows). */
    uint64_t (*now_us)(void *ctx);
    void *clock_ctx;
    /* Called at once when an immediate event fires (from before/observe), or NULL. */
    void (*on_event)(void *ctx, uint32_t events, uint64_t seq);
    void *event_ctx;
    /* Called with every closed report (bytes valid during the call), or NULL. */
    void (*on_report)(void *ctx, const uint8_t *report, size_t len);
    void *report_ctx;
} tmo_monitor_config;

/* Fills c with the defaults: windows of 100 inferences, no time limit, stride 1, no samples. */
void tmo_monitor_config_defaults(tmo_monitor_config *c);

/* Private per-group accumulators and geometry (monitor memory); see runtime/monitor/. */
struct tmo_mon_tensor;

/* Monitor state. Opaque: fields may change between versions. */
typedef struct tmo_monitor {
    tmo_monitor_config cfg;
    const tmo_profile *profile;
    const tmo_interp *interp;
    struct tmo_mon_tensor *in, *out; /* out only in VALUES mode */
    uint32_t *class_counts, *conf_counts, *latency;
    void *pen_acc;
    uint8_t *report;  /* pending report buffer */
    uint8_t *samples; /* (samples + 1) input copies */
    uint8_t *sample_meta;
    uint8_t *pen_data;   /* penultimate tensor bytes in the arena */
    float *pen_shift;    /* float32 penultimate: the profile's channel means */
    const void *in_data; /* input 0 and output 0 in the arena (fixed once planned) */
    const void *out_data;
    size_t report_len, sample_bytes;
    uint32_t pen_producer; /* operator index that writes the penultimate tensor */
    uint32_t pen_rows;     /* penultimate elements / channels */
    uint8_t pen_on, pen_survives, pen_taken, report_ready, staged;
    uint32_t staging, sample_count;
    uint32_t inferences, errors, in_inf, out_inf, pen_inf, nonfinite, events, first_event;
    uint32_t max_inferences; /* a window closes before any u32 counter could wrap */
    uint32_t same_run;       /* consecutive inputs with the same fingerprint */
    uint64_t last_fp;
    uint32_t dropped, dropped_reported;
    uint64_t seq, start_ms;
    double conf_sum;
    float last_in_z, cusum_conf_max, cusum_in_max;
    tmo_cusum cusum_conf, cusum_in;
} tmo_monitor;

/*
 * Bytes of memory tmo_monitor_init needs for c, the profile and the
 * interpreter (8-byte aligned start recommended; init aligns itself).
 */
tmo_err tmo_monitor_mem_size(const tmo_monitor_config *c, const tmo_profile *p,
                             const tmo_interp *it, size_t *bytes, tmo_diag *diag);

/*
 * Attaches a monitor to an initialized interpreter and a parsed profile that
 * matches it (tmo_profile_check). Returns TMO_OK, TMO_ENOSPC (mem too small;
 * diag->limit holds the bytes needed), TMO_EINVAL (bad config or profile
 * mismatch, named in diag).
 */
tmo_err tmo_monitor_init(tmo_monitor *m, const tmo_monitor_config *c, const tmo_profile *p,
                         const tmo_interp *it, void *mem, size_t len, tmo_diag *diag);

/* Takes the input statistics. Call after writing the inputs and before invoke. */
tmo_err tmo_monitor_before(tmo_monitor *m, const tmo_interp *it);

/*
 * Records one inference after invoke: latency, success (ok != 0), output
 * class, confidence and statistics, penultimate statistics when that tensor
 * survives until the end of invoke. May close the window (see report_take).
 */
tmo_err tmo_monitor_observe(tmo_monitor *m, const tmo_interp *it, uint32_t latency_us, int ok);

/*
 * before + invoke (timed with now_us) + observe. Collects penultimate
 * statistics even when later operators reuse that tensor's memory, by
 * reading it between the operators. Returns the invoke's result.
 */
tmo_err tmo_monitor_invoke(tmo_monitor *m, tmo_interp *it);

/* Closes the current window now (if it saw any inference). */
tmo_err tmo_monitor_flush(tmo_monitor *m);

/* Bytes of every report this monitor writes (fixed by its configuration). */
size_t tmo_monitor_report_size(const tmo_monitor *m);

/* Whether a closed report waits to be taken. */
int tmo_monitor_report_ready(const tmo_monitor *m);

/*
 * Copies the pending report into buf and marks it taken. TMO_ESTATE when
 * none is pending, TMO_ENOSPC when cap is too small (nothing taken).
 */
tmo_err tmo_monitor_report_take(tmo_monitor *m, void *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
