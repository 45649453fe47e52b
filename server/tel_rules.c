/*
 * The alert rules (see telemetry.h): their configuration, how one window
 * fares under each condition, and the open/resolve decision over a run of
 * windows with hysteresis. Pure functions (plus loading the stored rules),
 * so tests/server/test_alert_rules.c pins every rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "telemetry.h"
#include "tinymlops/monitor.h"

const char *const tel_kind_names[TEL_KINDS] = {"drift", "accuracy", "latency", "errors"};

/* Window-end drift events and the stuck-input event: what the device itself found significant. */
#define DRIFT_EVENTS                                                                               \
    (TMO_EV_DRIFT_INPUT | TMO_EV_DRIFT_OUTPUT | TMO_EV_DRIFT_CONF | TMO_EV_DRIFT_PEN |             \
     TMO_EV_INPUT_STUCK)

void tel_rules_defaults(tel_rules *r)
{
    r->windows = 3;
    r->resolve_windows = 3;
    r->min_inferences = 20;
    r->drift_psi = 0.2;
    r->accuracy_drop = 0.10;
    r->latency_factor = 2.0;
    r->latency_p95_max_us = 0;
    r->error_margin = 0.05;
    r->baseline_windows = 5;
    r->silent_s = 600;
    r->hysteresis = 0.8;
}

typedef struct field {
    const char *name;
    int is_int;
    double lo, hi;
    size_t offset;
} field;

#define F_INT(n, lo, hi)                                                                           \
    {                                                                                              \
#n, 1, lo, hi, offsetof(tel_rules, n)                                                      \
    }
#define F_DBL(n, lo, hi)                                                                           \
    {                                                                                              \
#n, 0, lo, hi, offsetof(tel_rules, n)                                                      \
    }

static const field fields[] = {
    F_INT(windows, 1, 1000),
    F_INT(resolve_windows, 1, 1000),
    F_INT(min_inferences, 0, 1e9),
    F_DBL(drift_psi, 0, 100),
    F_DBL(accuracy_drop, 0, 1),
    F_DBL(latency_factor, 0, 1e6),
    F_DBL(latency_p95_max_us, 0, 1e12),
    F_DBL(error_margin, 0, 1),
    F_INT(baseline_windows, 1, 10000),
    F_INT(silent_s, 0, 365LL * 86400),
    F_DBL(hysteresis, 0, 1),
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

int tel_rules_from_json(json_t *j, tel_rules *r, char *err, size_t err_len)
{
    if (!json_is_object(j)) {
        snprintf(err, err_len, "alert rules must be a JSON object");
        return -1;
    }
    tel_rules out = *r;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        const field *f = NULL;
        for (size_t i = 0; i < FIELD_COUNT; i++)
            if (strcmp(fields[i].name, key) == 0)
                f = &fields[i];
        if (f == NULL) {
            snprintf(err, err_len, "unknown alert rule '%.40s'", key);
            return -1;
        }
        double x = json_number_value(v);
        if (!json_is_number(v) || (f->is_int && !json_is_integer(v)) || !(x >= f->lo) ||
            !(x <= f->hi)) {
            snprintf(err, err_len, "%s must be %s in [%g, %g]", f->name,
                     f->is_int ? "an integer" : "a number", f->lo, f->hi);
            return -1;
        }
        char *at = (char *)&out + f->offset;
        if (f->is_int)
            *(int64_t *)(void *)at = (int64_t)json_integer_value(v);
        else
            *(double *)(void *)at = x;
    }
    *r = out;
    return 0;
}

json_t *tel_rules_json(const tel_rules *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        const char *at = (const char *)r + fields[i].offset;
        json_object_set_new(o, fields[i].name,
                            fields[i].is_int ? json_integer(*(const int64_t *)(const void *)at)
                                             : json_real(*(const double *)(const void *)at));
    }
    return o;
}

int tel_rules_load(store *st, tel_rules *r)
{
    tel_rules_defaults(r);
    char *text = NULL;
    int rc = ST(st, setting_get, "alert_rules", &text);
    if (rc == ST_NOT_FOUND)
        return ST_OK;
    if (rc != ST_OK)
        return ST_ERROR;
    char err[200];
    json_t *j = json_from_text(text, 0);
    if (tel_rules_from_json(j, r, err, sizeof err) != 0)
        tel_rules_defaults(r); /* validated when stored; a hand-edited row falls back */
    json_decref(j);
    free(text);
    return ST_OK;
}

/* ---- latency ---- */

double tel_latency_quantile64(const uint64_t *lat, size_t bins, double q)
{
    double total = 0;
    for (size_t b = 0; b < bins; b++)
        total += (double)lat[b];
    if (total <= 0)
        return 0;
    double want = q * total, seen = 0;
    for (size_t b = 0; b < bins; b++) {
        if (lat[b] == 0)
            continue;
        if (seen + (double)lat[b] >= want) {
            if (b == 0)
                return 0;
            double f = (want - seen) / (double)lat[b]; /* position inside [2^(b-1), 2^b) */
            if (f < 0)
                f = 0;
            return ldexp(1.0, (int)b - 1) * pow(2.0, f);
        }
        seen += (double)lat[b];
    }
    return ldexp(1.0, (int)bins - 1);
}

double tel_latency_quantile(const uint32_t *lat, size_t bins, double q)
{
    uint64_t wide[64];
    if (bins > 64)
        bins = 64;
    for (size_t b = 0; b < bins; b++)
        wide[b] = lat[b];
    return tel_latency_quantile64(wide, bins, q);
}

void tel_format_us(double us, char *buf, size_t len)
{
    if (us < 1000)
        snprintf(buf, len, "%.0f us", us);
    else if (us < 1e6)
        snprintf(buf, len, "%.1f ms", us / 1000);
    else
        snprintf(buf, len, "%.2f s", us / 1e6);
}

/* ---- judging ---- */

static int verdict_above(double value, double limit, double hyst)
{
    if (value > limit)
        return TEL_BAD;
    return value <= limit * hyst ? TEL_CLEAR : TEL_BAND;
}

int tel_judge(int kind, const tel_rules *r, const tel_context *c, const tel_window *w,
              double *value, double *limit)
{
    *value = *limit = 0;
    if (w->inferences <= 0 || w->inferences < r->min_inferences)
        return TEL_SKIP;
    switch (kind) {
    case TEL_DRIFT:
        *value = w->drift;
        *limit = r->drift_psi;
        if ((w->events & DRIFT_EVENTS) == 0)
            return TEL_CLEAR; /* the device found no significant shift */
        return verdict_above(w->drift, r->drift_psi, r->hysteresis);
    case TEL_ACCURACY: {
        if (c->acc_ref < 0 || w->acc_est < 0 || w->out_inf < r->min_inferences)
            return TEL_SKIP;
        *value = w->acc_est;
        *limit = c->acc_ref - r->accuracy_drop;
        if (w->acc_est < *limit)
            return TEL_BAD;
        return w->acc_est >= c->acc_ref - r->accuracy_drop * r->hysteresis ? TEL_CLEAR : TEL_BAND;
    }
    case TEL_LATENCY: {
        double p95 = tel_latency_quantile(w->latency, ST_LAT_BINS, 0.95);
        uint64_t timed = 0;
        for (int b = 0; b < ST_LAT_BINS; b++)
            timed += w->latency[b];
        if (timed == 0)
            return TEL_SKIP; /* a device without a clock */
        double lim = 0;
        if (r->latency_factor > 0 && c->have_baseline)
            lim = r->latency_factor * (c->base_p95_us > 1 ? c->base_p95_us : 1);
        if (r->latency_p95_max_us > 0 && (lim == 0 || r->latency_p95_max_us < lim))
            lim = r->latency_p95_max_us;
        if (lim == 0)
            return TEL_SKIP;
        *value = p95;
        *limit = lim;
        return verdict_above(p95, lim, r->hysteresis);
    }
    case TEL_ERRORS: {
        double base = c->have_baseline ? c->base_error_rate : 0;
        *value = (double)w->errors / (double)w->inferences;
        *limit = base + r->error_margin;
        if (*value > *limit)
            return TEL_BAD;
        return *value <= base + r->error_margin * r->hysteresis ? TEL_CLEAR : TEL_BAND;
    }
    default:
        return TEL_SKIP;
    }
}

void tel_decide(int kind, const tel_rules *r, const tel_context *c, const tel_window *w, size_t n,
                tel_decision *out)
{
    memset(out, 0, sizeof *out);
    int64_t bad = 0, clear = 0, judged = 0;
    int want = 0; /* the verdict every judged window of the run must have */
    for (size_t i = 0; i < n; i++) {
        double v, l;
        int verdict = tel_judge(kind, r, c, &w[i], &v, &l);
        if (verdict == TEL_SKIP)
            continue;
        if (judged == 0) {
            out->value = v;
            out->limit = l;
            out->seq_last = w[i].seq_last;
            want = verdict;
        }
        if (verdict != want || want == TEL_BAND)
            break;
        judged++;
        out->seq_first = w[i].seq_first;
        bad += verdict == TEL_BAD;
        clear += verdict == TEL_CLEAR;
        if (want == TEL_BAD && bad >= r->windows) {
            out->action = 1;
            break;
        }
        if (want == TEL_CLEAR && clear >= r->resolve_windows) {
            out->action = -1;
            break;
        }
    }
    out->run = judged;
}

void tel_message(int kind, const tel_rules *r, const tel_context *c, const tel_decision *d,
                 uint32_t events, char *buf, size_t len)
{
    char run[96], a[32], b[32];
    snprintf(run, sizeof run, "in %lld consecutive windows (seq %lld-%lld)", (long long)d->run,
             (long long)d->seq_first, (long long)d->seq_last);
    switch (kind) {
    case TEL_DRIFT: {
        char names[160] = "";
        for (uint32_t bit = 1; bit != 0 && bit <= 0x8000u; bit <<= 1) {
            const char *name = (events & bit & DRIFT_EVENTS) ? host_report_event_name(bit) : NULL;
            if (name != NULL)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         names[0] ? "," : "", name);
        }
        snprintf(buf, len, "drift score %.3f > %.3f %s%s%s", d->value, d->limit, run,
                 names[0] ? ": " : "", names);
        break;
    }
    case TEL_ACCURACY:
        snprintf(buf, len, "estimated accuracy %.3f < %.3f (profile %.3f - %.3f) %s", d->value,
                 d->limit, c->acc_ref, r->accuracy_drop, run);
        break;
    case TEL_LATENCY:
        tel_format_us(d->value, a, sizeof a);
        tel_format_us(d->limit, b, sizeof b);
        if (c->have_baseline && r->latency_factor > 0) {
            char base[32];
            tel_format_us(c->base_p95_us, base, sizeof base);
            snprintf(buf, len, "latency p95 %s > %s (baseline %s x%.2f) %s", a, b, base,
                     r->latency_factor, run);
        } else {
            snprintf(buf, len, "latency p95 %s > %s %s", a, b, run);
        }
        break;
    case TEL_ERRORS:
        snprintf(buf, len, "error rate %.1f%% > %.1f%% (baseline %.1f%% + %.1f%%) %s",
                 100 * d->value, 100 * d->limit, 100 * (c->have_baseline ? c->base_error_rate : 0),
                 100 * r->error_margin, run);
        break;
    default:
        snprintf(buf, len, "?");
    }
}
