/*
 * Telemetry on the server (docs/server.md "Telemetry and alerts",
 * docs/protocol.md P-21..P-27): storing the devices' monitoring reports,
 * the alert rules and their evaluation, roll-up of old reports, a bundle's
 * monitoring profile, and latency quantiles of the reports' log2 histogram.
 * Handlers (h_telemetry.c, h_alerts.c), the deployment controller's health
 * gate and the tick use these; functions taking a store run inside the
 * caller's transaction unless they say otherwise.
 */
#ifndef TMO_TELEMETRY_H
#define TMO_TELEMETRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "srv.h"
#include "store.h"

/* ---- alert rules (settings key "alert_rules"; defaults in tel_rules.c) ---- */

typedef struct tel_rules {
    int64_t windows;           /* K: consecutive bad windows that open an alert (3) */
    int64_t resolve_windows;   /* consecutive clear windows that resolve it (3) */
    int64_t min_inferences;    /* windows with fewer inferences are not judged (20) */
    double drift_psi;          /* drift score limit (0.2), with a device drift event */
    double accuracy_drop;      /* acc_est below the profile's acc_ref by more (0.10) */
    double latency_factor;     /* p95 above the device's baseline p95 times this (2.0; 0 off) */
    double latency_p95_max_us; /* absolute p95 limit (0 off) */
    double error_margin;       /* error rate above the baseline's by more (0.05) */
    int64_t baseline_windows; /* first windows of a device and model that define its baseline (5) */
    int64_t silent_s;         /* no check-in and no report for this long (600; 0 off) */
    double hysteresis;        /* a window is clear within this fraction of a limit (0.8) */
} tel_rules;

void tel_rules_defaults(tel_rules *r);
/* Rules from JSON (missing keys keep r's values). -1 with the problem in err. */
int tel_rules_from_json(json_t *j, tel_rules *r, char *err, size_t err_len);
json_t *tel_rules_json(const tel_rules *r);
/* The stored rules (defaults when none are stored). ST_OK or ST_ERROR. */
int tel_rules_load(store *st, tel_rules *r);

/* ---- one window as the rules see it (a stored report's scalars) ---- */

typedef struct tel_window {
    int64_t seq_first, seq_last, received_at;
    int64_t inferences, errors, out_inf, events;
    double drift, acc_est;
    uint32_t latency[ST_LAT_BINS];
} tel_window;

/* Condition verdicts of one window. */
enum { TEL_SKIP = 0, TEL_BAD = 1, TEL_CLEAR = 2, TEL_BAND = 3 };

/* Per-condition context: the profile's accuracy reference and the device's baseline. */
typedef struct tel_context {
    double acc_ref;     /* < 0: unknown (no accuracy rule) */
    int have_baseline;  /* latency and error rules need one */
    double base_p95_us; /* baseline p95 latency */
    double base_error_rate;
} tel_context;

enum { TEL_DRIFT, TEL_ACCURACY, TEL_LATENCY, TEL_ERRORS, TEL_KINDS };
extern const char *const tel_kind_names[TEL_KINDS];

/* How window w fares under condition kind (TEL_SKIP when it cannot be judged). */
int tel_judge(int kind, const tel_rules *r, const tel_context *c, const tel_window *w,
              double *value, double *limit);

/*
 * The decision over a device's recent windows of one model, newest first
 * (w[0] newest): 1 open (the newest `windows` judged windows are all bad),
 * -1 resolve (the newest `resolve_windows` judged windows are all clear),
 * 0 neither. Windows that cannot be judged are skipped; a window in the
 * hysteresis band breaks both runs. value/limit: of the newest bad window
 * (open) or the newest judged one; first/last: the run's sequence range.
 */
typedef struct tel_decision {
    int action;
    double value, limit;
    int64_t seq_first, seq_last;
    int64_t run; /* judged windows in the run */
} tel_decision;
void tel_decide(int kind, const tel_rules *r, const tel_context *c, const tel_window *w, size_t n,
                tel_decision *out);

/* The alert message of an opening decision (one line). */
void tel_message(int kind, const tel_rules *r, const tel_context *c, const tel_decision *d,
                 uint32_t events, char *buf, size_t len);

/* ---- latency ---- */

/*
 * Quantile q of a log2 latency histogram (bucket 0 = 0 us, bucket b =
 * [2^(b-1), 2^b) us), interpolated geometrically inside the bucket, in us.
 * 0 when empty.
 */
double tel_latency_quantile(const uint32_t *lat, size_t bins, double q);
double tel_latency_quantile64(const uint64_t *lat, size_t bins, double q);
/* "412 us", "18.2 ms", "1.20 s" */
void tel_format_us(double us, char *buf, size_t len);

/* ---- ingest ---- */

/*
 * Decodes report bytes and fills the scalar columns of *row (device_id,
 * seq, at and the model identity are the caller's). -1 with the problem in err.
 */
int tel_row_from_report(const uint8_t *bytes, size_t len, st_report *row, host_report *decoded,
                        char *err, size_t err_len);

/*
 * After a device's report was stored: evaluates the drift, accuracy,
 * latency and error rules over the device's recent windows of that model
 * and opens, updates or auto-resolves its alerts. acc_ref: the model
 * profile's accuracy reference (< 0 unknown). ST_OK or ST_ERROR.
 */
int tel_alerts_after_report(store *st, const tel_rules *rules, const st_report *row, double acc_ref,
                            int64_t now);

/* Resolves alert a now (by "auto" or an operator) and stores it. */
int tel_alert_resolve(store *st, st_alert *a, const char *by, int64_t now);

/* One tick: silent devices, auto-resolution of silent alerts (own transactions). */
void tel_alerts_tick(srv *s, int64_t now);

/* Retention (own transactions): roll raw windows up into hourly rows, prune old rows. */
void tel_retention_tick(srv *s, int64_t now);

/* ---- profiles of registered bundles ---- */

/*
 * The PROFILE section bytes of bundle id (heap, *bytes NULL when the bundle
 * has none). ST_OK, ST_NOT_FOUND (no such bundle), ST_ERROR.
 */
int tel_bundle_profile(store *st, int64_t bundle_id, uint8_t **bytes, size_t *len);

/* Parsed profiles of a few bundles, for one request (profiles point into their own bytes). */
#define TEL_PROFILE_CACHE 32
typedef struct tel_profiles {
    size_t n;
    struct {
        int64_t bundle_id;
        uint8_t *bytes;
        tmo_profile p;
        int ok;
    } e[TEL_PROFILE_CACHE];
} tel_profiles;
/* The profile of bundle_id, NULL when it has none (or on a store error). */
const tmo_profile *tel_profiles_get(tel_profiles *c, store *st, int64_t bundle_id);
/* The profile's accuracy reference (acc_ref), -1 without one or for VALUES models. */
double tel_profile_acc_ref(const tmo_profile *p);
void tel_profiles_free(tel_profiles *c);

/* ---- aggregation (tel_agg.c) ---- */

typedef struct tel_query {
    st_report_filter f;   /* since/until and the selection */
    int64_t step_ms;      /* bucket width */
    const char *group_by; /* "version" (default), "device", "wave", "group" or "none" */
} tel_query;

/*
 * Time series of aggregated metrics over the selected reports (docs/
 * protocol.md P-24): per series and bucket counts, error rate, latency
 * p50/p95 from the merged histogram, estimated accuracy, drift re-scored on
 * the merged histograms, events. NULL with a message in err (a store error
 * or too many buckets/series).
 */
json_t *tel_aggregate(store *st, const tel_query *q, char *err, size_t err_len);

#endif
