/*
 * Server-side arithmetic on reports: merging windows (the aggregate of a
 * device, group, model version or fleet is the merge of its reports) and
 * re-scoring drift of an aggregate against the profile with the same
 * formulas the device uses (runtime/monitor/drift.c).
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err_len > 0)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > 0xffffffffu - b ? 0xffffffffu : a + b;
}

/* Chan et al.'s pairwise update of (count, mean, m2). */
static void combine(double na, double *mean, double *m2, double nb, double mb, double m2b)
{
    double n = na + nb;
    if (nb == 0)
        return;
    if (na == 0) {
        *mean = mb;
        *m2 = m2b;
        return;
    }
    double delta = mb - *mean;
    *mean += delta * nb / n;
    *m2 += m2b + delta * delta * na * nb / n;
}

static void merge_groups(host_group *a, const host_group *b, uint32_t groups, uint32_t bins)
{
    for (uint32_t g = 0; g < groups; g++) {
        combine((double)a[g].count, &a[g].mean, &a[g].m2, (double)b[g].count, b[g].mean, b[g].m2);
        a[g].count += b[g].count;
        for (uint32_t k = 0; k < bins; k++)
            a[g].hist[k] = sat_add(a[g].hist[k], b[g].hist[k]);
    }
}

/* Weighted mean of two values where -1 means "none". */
static float wmean(float a, double wa, float b, double wb, int none_is_minus_one)
{
    if (none_is_minus_one && a == -1.0f)
        return b;
    if (none_is_minus_one && b == -1.0f)
        return a;
    if (wa + wb <= 0)
        return a;
    return (float)(((double)a * wa + (double)b * wb) / (wa + wb));
}

static void merge_drift(host_report *a, const host_report *b)
{
    tmo_drift *x = &a->drift;
    const tmo_drift *y = &b->drift;
    double ia = a->in_inf, ib = b->in_inf, oa = a->out_inf, ob = b->out_inf;
    if (y->psi_in_max > x->psi_in_max)
        x->worst_group = y->worst_group;
    x->psi_in_mean = wmean(x->psi_in_mean, ia, y->psi_in_mean, ib, 0);
    x->psi_in_max = wmean(x->psi_in_max, ia, y->psi_in_max, ib, 0);
    x->js_in_mean = wmean(x->js_in_mean, ia, y->js_in_mean, ib, 0);
    x->js_in_max = wmean(x->js_in_max, ia, y->js_in_max, ib, 0);
    x->psi_out = wmean(x->psi_out, oa, y->psi_out, ob, 0);
    x->js_out = wmean(x->js_out, oa, y->js_out, ob, 0);
    x->psi_conf = wmean(x->psi_conf, oa, y->psi_conf, ob, 0);
    x->js_conf = wmean(x->js_conf, oa, y->js_conf, ob, 0);
    x->pen_shift = wmean(x->pen_shift, a->pen_count, y->pen_shift, b->pen_count, 0);
    x->acc_est = wmean(x->acc_est, oa, y->acc_est, ob, 1);
    x->conf_mean = wmean(x->conf_mean, oa, y->conf_mean, ob, 1);
    x->cusum_conf = y->cusum_conf > x->cusum_conf ? y->cusum_conf : x->cusum_conf;
    x->cusum_in = y->cusum_in > x->cusum_in ? y->cusum_in : x->cusum_in;
}

int host_report_merge(host_report *a, const host_report *b, char *err, size_t n)
{
    if (a->mode != b->mode || a->in_groups != b->in_groups || a->in_bins != b->in_bins ||
        a->out_groups != b->out_groups || a->out_bins != b->out_bins ||
        a->pen_channels != b->pen_channels)
        return fail(err, n, "reports have different layouts (not the same profile)");
    if (memcmp(a->digest, b->digest, 8) != 0)
        return fail(err, n, "reports are from different models (digest prefixes differ)");
    if (a->pen_channels > 0 && a->pen_count > 0 && b->pen_count > 0 && a->pen_rows != b->pen_rows)
        return fail(err, n, "penultimate row counts differ");
    merge_drift(a, b);
    if (a->first_event == 0xffffffffu && b->first_event != 0xffffffffu)
        a->first_event = (uint64_t)a->inferences + b->first_event < 0xffffffffu
                             ? a->inferences + b->first_event
                             : 0xffffffffu;
    a->flags = (a->flags & ~(uint32_t)(TMO_REPORT_F_CLOSE_MASK | TMO_REPORT_F_SAMPLES)) |
               (b->flags & TMO_REPORT_F_CLOSE_MASK) | TMO_REPORT_F_MERGED;
    a->seq_first = b->seq_first < a->seq_first ? b->seq_first : a->seq_first;
    a->seq_last = b->seq_last > a->seq_last ? b->seq_last : a->seq_last;
    a->start_ms = b->start_ms < a->start_ms ? b->start_ms : a->start_ms;
    a->end_ms = b->end_ms > a->end_ms ? b->end_ms : a->end_ms;
    /* Saturation keeps out_inf + errors == inferences only below 2^32; merges stay far below. */
    a->inferences = sat_add(a->inferences, b->inferences);
    a->errors = sat_add(a->errors, b->errors);
    a->arena = b->arena > a->arena ? b->arena : a->arena;
    a->events |= b->events;
    a->windows = sat_add(a->windows, b->windows);
    a->dropped = sat_add(a->dropped, b->dropped);
    a->nonfinite = sat_add(a->nonfinite, b->nonfinite);
    a->in_inf = sat_add(a->in_inf, b->in_inf);
    a->out_inf = sat_add(a->out_inf, b->out_inf);
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++)
        a->latency[i] = sat_add(a->latency[i], b->latency[i]);
    merge_groups(a->in, b->in, a->in_groups, a->in_bins);
    if (a->mode == TMO_OUT_VALUES) {
        merge_groups(a->out, b->out, a->out_groups, a->out_bins);
    } else {
        for (uint32_t k = 0; k < a->out_groups; k++)
            a->classes[k] = sat_add(a->classes[k], b->classes[k]);
        for (uint32_t k = 0; k < a->out_bins; k++)
            a->conf[k] = sat_add(a->conf[k], b->conf[k]);
    }
    if (a->pen_channels > 0) {
        double rows = a->pen_count > 0 ? a->pen_rows : b->pen_rows;
        for (uint32_t c = 0; c < a->pen_channels; c++) {
            double mean = a->pen_mean[c], m2 = a->pen_m2[c];
            combine(a->pen_count * rows, &mean, &m2, b->pen_count * rows, b->pen_mean[c],
                    b->pen_m2[c]);
            a->pen_mean[c] = (float)mean;
            a->pen_m2[c] = (float)m2;
        }
        a->pen_rows = (uint32_t)rows;
        a->pen_count = sat_add(a->pen_count, b->pen_count);
    }
    for (uint32_t s = 0; a->samples != NULL && s < a->sample_count; s++)
        free(a->samples[s].bytes);
    free(a->samples);
    a->samples = NULL;
    a->sample_count = 0;
    a->sample_bytes = 0;
    return 0;
}

/* Which parts alarm (docs ); decided with the monitor's thresholds. */
typedef struct {
    int in, out, conf;
} alarms;

static int groups_drift(const host_group *g, const tmo_profile_stats *ps,
                        const tmo_monitor_config *c, float *psi_mean, float *psi_max,
                        float *js_mean, float *js_max, uint16_t *worst)
{
    uint32_t ref[TMO_PROFILE_MAX_BINS];
    double sp = 0, sj = 0, mp = 0, mj = 0;
    int mx = 0;
    for (uint32_t i = 0; i < ps->groups; i++) {
        for (uint32_t b = 0; b < ps->bins; b++)
            ref[b] = tmo_profile_hist(ps, i, b);
        tmo_divergence d = tmo_divergence_u32(ref, g[i].hist, ps->bins);
        sp += d.psi;
        sj += d.js;
        if (d.psi > mp || i == 0) {
            mp = d.psi;
            if (worst != NULL)
                *worst = (uint16_t)i;
        }
        mj = d.js > mj ? d.js : mj;
        mx |= tmo_divergence_alarm(&d, c->psi_alarm, c->psi_z);
    }
    *psi_mean = (float)(sp / ps->groups);
    *js_mean = (float)(sj / ps->groups);
    if (psi_max != NULL)
        *psi_max = (float)mp;
    if (js_max != NULL)
        *js_max = (float)mj;
    return mx;
}

static float pen_shift(const host_report *r, const tmo_profile *p)
{
    if (r->pen_channels == 0 || r->pen_count == 0)
        return 0;
    double total = 0;
    for (uint32_t c = 0; c < p->pen_channels; c++) {
        float mean, var;
        tmo_profile_pen(p, c, &mean, &var);
        double sd = sqrt((double)var), floor_sd = 0.05 * (1.0 + fabs((double)mean));
        double z = fabs((double)r->pen_mean[c] - mean) / (sd > floor_sd ? sd : floor_sd);
        total += z < 10 ? z : 10;
    }
    return (float)(total / p->pen_channels);
}

static int fits(const host_report *r, const tmo_profile *p)
{
    int values = p->mode == TMO_OUT_VALUES;
    return r->mode == p->mode && r->in_groups == p->in.groups && r->in_bins == p->in.bins &&
           r->out_groups == (values ? p->out.groups : p->classes) &&
           r->out_bins == (values ? p->out.bins : p->conf_bins) &&
           (r->pen_channels == 0 || r->pen_channels == p->pen_channels) &&
           memcmp(r->digest, p->model_digest, 8) == 0;
}

static void score(const host_report *r, const tmo_profile *p, const tmo_monitor_config *c,
                  tmo_drift *d, alarms *x)
{
    x->in = x->out = x->conf = 0;
    tmo_drift keep = r->drift;
    memset(d, 0, sizeof *d);
    if (r->in_inf > 0)
        x->in = groups_drift(r->in, &p->in, c, &d->psi_in_mean, &d->psi_in_max, &d->js_in_mean,
                             &d->js_in_max, &d->worst_group);
    d->acc_est = -1;
    d->conf_mean = keep.conf_mean;
    if (r->out_inf > 0 && p->mode == TMO_OUT_VALUES) {
        x->out = groups_drift(r->out, &p->out, c, &d->psi_out, NULL, &d->js_out, NULL, NULL);
    } else if (r->out_inf > 0) {
        uint32_t *ref = malloc(4u * (p->classes > p->conf_bins ? p->classes : p->conf_bins));
        if (ref != NULL) {
            for (uint32_t k = 0; k < p->classes; k++)
                ref[k] = tmo_profile_class_count(p, k);
            tmo_divergence dc = tmo_divergence_u32(ref, r->classes, p->classes);
            for (uint32_t b = 0; b < p->conf_bins; b++)
                ref[b] = tmo_profile_conf_count(p, b);
            tmo_divergence df = tmo_divergence_u32(ref, r->conf, p->conf_bins);
            free(ref);
            d->psi_out = (float)dc.psi;
            d->js_out = (float)dc.js;
            d->psi_conf = (float)df.psi;
            d->js_conf = (float)df.js;
            x->out = tmo_divergence_alarm(&dc, c->psi_alarm, c->psi_z);
            x->conf = tmo_divergence_alarm(&df, c->psi_alarm, c->psi_z);
        }
        double est = 0;
        for (uint32_t b = 0; b < p->conf_bins; b++)
            est += (double)r->conf[b] * tmo_profile_calib(p, b);
        d->acc_est = (float)(est / r->out_inf);
    }
    d->pen_shift = pen_shift(r, p);
    d->cusum_conf = keep.cusum_conf;
    d->cusum_in = keep.cusum_in;
}

int host_report_rescore(host_report *r, const tmo_profile *p, char *err, size_t n)
{
    if (!fits(r, p))
        return fail(err, n, "report does not fit the profile (other model or layout)");
    alarms x;
    tmo_drift d;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    score(r, p, &c, &d, &x);
    r->drift = d;
    return 0;
}

uint32_t host_report_window_events(const host_report *r, const tmo_profile *p,
                                   const tmo_monitor_config *c)
{
    if (!fits(r, p))
        return 0;
    alarms x;
    tmo_drift d;
    score(r, p, c, &d, &x);
    uint32_t ev = 0;
    ev |= x.in ? TMO_EV_DRIFT_INPUT : 0u;
    ev |= x.out ? TMO_EV_DRIFT_OUTPUT : 0u;
    ev |= x.conf ? TMO_EV_DRIFT_CONF : 0u;
    ev |= d.pen_shift > c->pen_alarm ? TMO_EV_DRIFT_PEN : 0u;
    ev |= d.acc_est >= 0 && d.acc_est < p->acc_ref - c->acc_alarm ? TMO_EV_ACC_DROP : 0u;
    ev |= r->errors > 0 ? TMO_EV_ERRORS : 0u;
    ev |= r->nonfinite > 0 ? TMO_EV_NONFINITE : 0u;
    return ev;
}

uint64_t host_report_latency_quantile(const host_report *r, double q)
{
    uint64_t total = 0, seen = 0;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++)
        total += r->latency[i];
    if (total == 0)
        return 0;
    double want = q * (double)total;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++) {
        seen += r->latency[i];
        if ((double)seen >= want && r->latency[i] > 0)
            return i == 0 ? 0 : (uint64_t)1 << i; /* bucket i holds [2^(i-1), 2^i) us */
    }
    return (uint64_t)1 << (TMO_REPORT_LATENCY_BINS - 1);
}

const char *host_report_event_name(uint32_t bit)
{
    switch (bit) {
    case TMO_EV_CONF_DOWN:
        return "conf_down";
    case TMO_EV_CONF_UP:
        return "conf_up";
    case TMO_EV_INPUT_UP:
        return "input_up";
    case TMO_EV_INPUT_DOWN:
        return "input_down";
    case TMO_EV_INPUT_STUCK:
        return "input_stuck";
    case TMO_EV_DRIFT_INPUT:
        return "drift_input";
    case TMO_EV_DRIFT_OUTPUT:
        return "drift_output";
    case TMO_EV_DRIFT_CONF:
        return "drift_conf";
    case TMO_EV_DRIFT_PEN:
        return "drift_pen";
    case TMO_EV_ACC_DROP:
        return "acc_drop";
    case TMO_EV_ERRORS:
        return "errors";
    case TMO_EV_NONFINITE:
        return "nonfinite";
    default:
        return NULL;
    }
}
