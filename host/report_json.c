/*
 * JSON rendering of a report, for `tinymlops telemetry show --json`, the
 * server's API and the dashboard. Field names follow docs/monitoring.md;
 * raw inputs (samples) are hex strings.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} out;

static void emit(out *o, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !o->oom; tries++) {
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap + (size_t)n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL) {
            o->oom = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
}

/* Non-finite numbers are not JSON; the decoder rejects them anyway. */
static void num(out *o, double v)
{
    if (isfinite(v))
        emit(o, "%.9g", v);
    else
        emit(o, "null");
}

static void u32_array(out *o, const uint32_t *v, uint32_t n)
{
    emit(o, "[");
    for (uint32_t i = 0; i < n; i++)
        emit(o, "%s%u", i ? "," : "", v[i]);
    emit(o, "]");
}

static void groups(out *o, const host_group *g, uint32_t n, uint32_t bins)
{
    emit(o, "[");
    for (uint32_t i = 0; i < n; i++) {
        emit(o, "%s{\"count\":%llu,\"mean\":", i ? "," : "", (unsigned long long)g[i].count);
        num(o, g[i].mean);
        emit(o, ",\"var\":");
        num(o, g[i].count > 1 ? g[i].m2 / (double)(g[i].count - 1) : 0.0);
        emit(o, ",\"m2\":");
        num(o, g[i].m2);
        emit(o, ",\"hist\":");
        u32_array(o, g[i].hist, bins);
        emit(o, "}");
    }
    emit(o, "]");
}

static void drift(out *o, const tmo_drift *d)
{
    struct {
        const char *name;
        float v;
    } f[] = {{"psi_in_mean", d->psi_in_mean}, {"psi_in_max", d->psi_in_max},
             {"js_in_mean", d->js_in_mean},   {"js_in_max", d->js_in_max},
             {"psi_out", d->psi_out},         {"js_out", d->js_out},
             {"psi_conf", d->psi_conf},       {"js_conf", d->js_conf},
             {"pen_shift", d->pen_shift},     {"cusum_conf_peak", d->cusum_conf},
             {"cusum_in_peak", d->cusum_in}};
    emit(o, "{");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        emit(o, "%s\"%s\":", i ? "," : "", f[i].name);
        num(o, f[i].v);
    }
    emit(o, ",\"acc_est\":");
    if (d->acc_est < 0)
        emit(o, "null");
    else
        num(o, d->acc_est);
    emit(o, ",\"conf_mean\":");
    if (d->conf_mean < 0)
        emit(o, "null");
    else
        num(o, d->conf_mean);
    emit(o, ",\"worst_input_group\":%u}", d->worst_group);
}

static void header(out *o, const host_report *r)
{
    static const char *close[] = {"count", "time", "flush", "?"};
    static const char *mode[] = {"probs", "logits", "values", "?"};
    emit(o, "{\"version\":%d,\"seq_first\":%llu,\"seq_last\":%llu,\"windows\":%u,\"merged\":%s,",
         TMO_REPORT_VERSION, (unsigned long long)r->seq_first, (unsigned long long)r->seq_last,
         r->windows, (r->flags & TMO_REPORT_F_MERGED) ? "true" : "false");
    emit(o, "\"start_ms\":%llu,\"end_ms\":%llu,\"close\":\"%s\",\"mode\":\"%s\",",
         (unsigned long long)r->start_ms, (unsigned long long)r->end_ms,
         close[r->flags & TMO_REPORT_F_CLOSE_MASK], mode[r->mode & 3]);
    emit(o, "\"model_digest_prefix\":\"");
    for (int i = 0; i < 8; i++)
        emit(o, "%02x", r->digest[i]);
    emit(o, "\",\"inferences\":%u,\"errors\":%u,\"arena_bytes\":%u,\"dropped_reports\":%u,",
         r->inferences, r->errors, r->arena, r->dropped);
    emit(o, "\"nonfinite\":%u,\"inputs_observed\":%u,\"outputs_observed\":%u,", r->nonfinite,
         r->in_inf, r->out_inf);
    emit(o, "\"events\":[");
    int first = 1;
    for (uint32_t bit = 1; bit != 0; bit <<= 1) {
        if (!(r->events & bit))
            continue;
        const char *name = host_report_event_name(bit);
        if (name != NULL)
            emit(o, "%s\"%s\"", first ? "" : ",", name);
        else
            emit(o, "%s\"bit%u\"", first ? "" : ",", (unsigned)__builtin_ctz(bit));
        first = 0;
    }
    emit(o, "],\"first_event\":");
    if (r->first_event == 0xffffffffu)
        emit(o, "null");
    else
        emit(o, "%u", r->first_event);
}

char *host_report_json(const host_report *r)
{
    out o = {malloc(4096), 0, 4096, 0};
    if (o.buf == NULL)
        return NULL;
    header(&o, r);
    emit(&o, ",\"drift\":");
    drift(&o, &r->drift);
    emit(&o, ",\"latency_log2_us\":");
    u32_array(&o, r->latency, TMO_REPORT_LATENCY_BINS);
    emit(&o, ",\"latency_p50_us_max\":%llu,\"latency_p95_us_max\":%llu",
         (unsigned long long)host_report_latency_quantile(r, 0.5),
         (unsigned long long)host_report_latency_quantile(r, 0.95));
    emit(&o, ",\"input_groups\":");
    groups(&o, r->in, r->in_groups, r->in_bins);
    if (r->mode == TMO_OUT_VALUES) {
        emit(&o, ",\"output_groups\":");
        groups(&o, r->out, r->out_groups, r->out_bins);
    } else {
        emit(&o, ",\"classes\":");
        u32_array(&o, r->classes, r->out_groups);
        emit(&o, ",\"confidence_hist\":");
        u32_array(&o, r->conf, r->out_bins);
    }
    if (r->pen_channels > 0) {
        emit(&o, ",\"penultimate\":{\"count\":%u,\"rows\":%u,\"mean\":[", r->pen_count,
             r->pen_rows);
        for (uint32_t c = 0; c < r->pen_channels; c++) {
            emit(&o, c ? "," : "");
            num(&o, r->pen_mean[c]);
        }
        emit(&o, "],\"m2\":[");
        for (uint32_t c = 0; c < r->pen_channels; c++) {
            emit(&o, c ? "," : "");
            num(&o, r->pen_m2[c]);
        }
        emit(&o, "]}");
    }
    if (r->sample_count > 0) {
        emit(&o, ",\"samples\":[");
        for (uint32_t s = 0; s < r->sample_count; s++) {
            const host_sample *x = &r->samples[s];
            emit(&o, "%s{\"index\":%u,\"class\":%u,\"score\":", s ? "," : "", x->index, x->cls);
            num(&o, x->score);
            emit(&o, ",\"input_hex\":\"");
            for (uint32_t i = 0; i < r->sample_bytes; i++)
                emit(&o, "%02x", x->bytes[i]);
            emit(&o, "\"}");
        }
        emit(&o, "]");
    }
    emit(&o, "}");
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
