/*
 * Health-gate policy and verdict (see gate.h). Deterministic: the same
 * telemetry always gives the same verdict and the same reason text, which
 * tests/server/test_gate.c pins.
 */
#include "gate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "telemetry.h"

void gate_policy_defaults(gate_policy *p)
{
    p->rollback = 0;
    p->min_inferences = 100;
    p->min_devices = 1;
    p->max_error_increase = 0.02;
    p->max_latency_ratio = 1.5;
    p->max_accuracy_drop = 0.05;
    p->max_drift_increase = 0.10;
}

static int limit(json_t *j, const char *key, double hi, double *out, char *err, size_t len)
{
    json_t *v = json_object_get(j, key);
    if (v == NULL)
        return 0;
    if (json_is_null(v)) {
        *out = -1;
        return 0;
    }
    double x = json_number_value(v);
    if (!json_is_number(v) || !(x >= 0) || !(x <= hi)) {
        snprintf(err, len, "health_gate.%s must be a number in [0, %g] or null (check off)", key,
                 hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int count(json_t *j, const char *key, int64_t *out, char *err, size_t len)
{
    json_t *v = json_object_get(j, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000) {
        snprintf(err, len, "health_gate.%s must be an integer in [0, 1e9]", key);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int gate_policy_from_json(json_t *j, gate_policy *p, char *err, size_t err_len)
{
    static const char *const known[] = {"action",
                                        "min_inferences",
                                        "min_devices",
                                        "max_error_increase",
                                        "max_latency_ratio",
                                        "max_accuracy_drop",
                                        "max_drift_increase"};
    gate_policy_defaults(p);
    if (!json_is_object(j)) {
        snprintf(err, err_len, "health_gate must be an object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            snprintf(err, err_len, "health_gate: unknown field '%.40s'", key);
            return -1;
        }
    }
    json_t *action = json_object_get(j, "action");
    if (action != NULL) {
        const char *a = json_string_value(action);
        if (a == NULL || (strcmp(a, "halt") != 0 && strcmp(a, "rollback") != 0)) {
            snprintf(err, err_len, "health_gate.action must be \"halt\" or \"rollback\"");
            return -1;
        }
        p->rollback = strcmp(a, "rollback") == 0;
    }
    if (count(j, "min_inferences", &p->min_inferences, err, err_len) != 0 ||
        count(j, "min_devices", &p->min_devices, err, err_len) != 0 ||
        limit(j, "max_error_increase", 1, &p->max_error_increase, err, err_len) != 0 ||
        limit(j, "max_latency_ratio", 1e6, &p->max_latency_ratio, err, err_len) != 0 ||
        limit(j, "max_accuracy_drop", 1, &p->max_accuracy_drop, err, err_len) != 0 ||
        limit(j, "max_drift_increase", 100, &p->max_drift_increase, err, err_len) != 0)
        return -1;
    return 0;
}

static json_t *lim_json(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

json_t *gate_policy_json(const gate_policy *p)
{
    return json_pack(
        "{s:s,s:I,s:I,s:o,s:o,s:o,s:o}", "action", p->rollback ? "rollback" : "halt",
        "min_inferences", (json_int_t)p->min_inferences, "min_devices", (json_int_t)p->min_devices,
        "max_error_increase", lim_json(p->max_error_increase), "max_latency_ratio",
        lim_json(p->max_latency_ratio), "max_accuracy_drop", lim_json(p->max_accuracy_drop),
        "max_drift_increase", lim_json(p->max_drift_increase));
}

void gate_side_add(gate_side *s, const st_report *r)
{
    s->reports++;
    s->inferences += r->inferences;
    s->errors += r->errors;
    for (int b = 0; b < ST_LAT_BINS; b++)
        s->latency[b] += r->latency[b];
    if (r->acc_est >= 0 && r->out_inf > 0) {
        s->acc_sum += r->acc_est * (double)r->out_inf;
        s->acc_weight += (double)r->out_inf;
    }
    if (r->inferences > 0) {
        s->drift_sum += r->drift * (double)r->inferences;
        s->drift_weight += (double)r->inferences;
    }
}

static uint64_t timed(const gate_side *s)
{
    uint64_t n = 0;
    for (int b = 0; b < ST_LAT_BINS; b++)
        n += s->latency[b];
    return n;
}

static void values(const gate_side *s, double *err, double *p95, double *acc, double *drift)
{
    *err = s->inferences > 0 ? (double)s->errors / (double)s->inferences : NAN;
    *p95 = timed(s) > 0 ? tel_latency_quantile64(s->latency, ST_LAT_BINS, 0.95) : NAN;
    *acc = s->acc_weight > 0 ? s->acc_sum / s->acc_weight : NAN;
    *drift = s->drift_weight > 0 ? s->drift_sum / s->drift_weight : NAN;
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used > 0 && used + 2 < len) {
        memcpy(buf + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

void gate_judge(const gate_policy *p, const gate_side *wave, const gate_side *base, gate_outcome *o)
{
    memset(o, 0, sizeof *o);
    values(wave, &o->wave_error_rate, &o->wave_p95_us, &o->wave_acc, &o->wave_drift);
    values(base, &o->base_error_rate, &o->base_p95_us, &o->base_acc, &o->base_drift);
    const char *const names[2] = {"new-version devices", "baseline devices"};
    const gate_side *sides[2] = {wave, base};
    for (int i = 0; i < 2; i++)
        if (sides[i]->inferences < p->min_inferences || sides[i]->devices < p->min_devices)
            append(o->reason, sizeof o->reason,
                   "waiting for telemetry: %lld inferences from %lld %s (need %lld from %lld)",
                   (long long)sides[i]->inferences, (long long)sides[i]->devices, names[i],
                   (long long)p->min_inferences, (long long)p->min_devices);
    if (o->reason[0] != '\0') {
        o->verdict = GATE_WAIT;
        return;
    }
    if (p->max_error_increase >= 0 &&
        o->wave_error_rate > o->base_error_rate + p->max_error_increase)
        append(o->reason, sizeof o->reason, "error rate %.2f%% vs baseline %.2f%% (limit +%.2f%%)",
               100 * o->wave_error_rate, 100 * o->base_error_rate, 100 * p->max_error_increase);
    if (p->max_latency_ratio >= 0 && isfinite(o->wave_p95_us) && isfinite(o->base_p95_us) &&
        o->wave_p95_us > p->max_latency_ratio * (o->base_p95_us > 1 ? o->base_p95_us : 1)) {
        char a[32], b[32];
        tel_format_us(o->wave_p95_us, a, sizeof a);
        tel_format_us(o->base_p95_us, b, sizeof b);
        append(o->reason, sizeof o->reason, "latency p95 %s vs baseline %s (limit x%g)", a, b,
               p->max_latency_ratio);
    }
    if (p->max_accuracy_drop >= 0 && isfinite(o->wave_acc) && isfinite(o->base_acc) &&
        o->base_acc - o->wave_acc > p->max_accuracy_drop)
        append(o->reason, sizeof o->reason,
               "estimated accuracy %.3f vs baseline %.3f (limit -%.3f)", o->wave_acc, o->base_acc,
               p->max_accuracy_drop);
    if (p->max_drift_increase >= 0 && isfinite(o->wave_drift) && isfinite(o->base_drift) &&
        o->wave_drift - o->base_drift > p->max_drift_increase)
        append(o->reason, sizeof o->reason, "drift score %.3f vs baseline %.3f (limit +%.3f)",
               o->wave_drift, o->base_drift, p->max_drift_increase);
    o->verdict = o->reason[0] != '\0' ? GATE_FAIL : GATE_PASS;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *side_json(const gate_side *s, double err, double p95, double acc, double drift)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "devices", (json_int_t)s->devices,
                     "reports", (json_int_t)s->reports, "inferences", (json_int_t)s->inferences,
                     "errors", (json_int_t)s->errors, "error_rate", num(err), "latency_p95_us",
                     num(p95), "acc_est", num(acc), "drift", num(drift));
}

json_t *gate_outcome_json(const gate_outcome *o, const gate_side *wave, const gate_side *base)
{
    static const char *const verdicts[] = {"pass", "wait", "fail"};
    return json_pack(
        "{s:s,s:s,s:o,s:o}", "verdict", verdicts[o->verdict], "reason", o->reason, "new_version",
        side_json(wave, o->wave_error_rate, o->wave_p95_us, o->wave_acc, o->wave_drift), "baseline",
        side_json(base, o->base_error_rate, o->base_p95_us, o->base_acc, o->base_drift));
}
