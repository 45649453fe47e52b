/*
 * Report encoder [R-1..R-9]: turns a closed window into the compact binary
 * record the agent uploads. Everything a server needs to merge windows is
 * in it as counts and raw moments (sum-able), so no precision is lost by
 * merging; the drift block is the device's own view of the window.
 */
#include "monitor_priv.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

size_t tmo_report_size(uint32_t in_groups, uint32_t in_bins, tmo_out_mode mode,
                       uint32_t out_groups_or_classes, uint32_t out_bins, uint32_t pen_channels,
                       uint32_t samples, uint32_t sample_bytes)
{
    size_t n = TMO_REPORT_HEADER_SIZE + TMO_REPORT_DRIFT_SIZE + 4u * TMO_REPORT_LATENCY_BINS;
    n += (size_t)in_groups * (TMO_REPORT_GROUP_FIXED + 4u * (size_t)in_bins);
    if (mode == TMO_OUT_VALUES)
        n += (size_t)out_groups_or_classes * (TMO_REPORT_GROUP_FIXED + 4u * (size_t)out_bins);
    else
        n += 4u * ((size_t)out_groups_or_classes + out_bins);
    if (pen_channels > 0)
        n += TMO_REPORT_PEN_FIXED + 8u * (size_t)pen_channels;
    n += (size_t)samples * (TMO_REPORT_SAMPLE_FIXED + ALIGN4((size_t)sample_bytes));
    return n;
}

static uint8_t *put_groups(uint8_t *w, const mon_tensor *t)
{
    for (uint32_t g = 0; g < t->groups; g++) {
        double mean, m2;
        mon_tensor_moments(t, g, &mean, &m2);
        mon_put64(w, t->g[g].count);
        mon_putf64(w + 8, mean);
        mon_putf64(w + 16, m2);
        w += TMO_REPORT_GROUP_FIXED;
        for (uint32_t b = 0; b < t->bins; b++, w += 4)
            mon_put32(w, t->hist[(size_t)g * t->bins + b]);
    }
    return w;
}

static void put_drift(uint8_t *w, const tmo_drift *d)
{
    mon_putf32(w + TMO_RD_PSI_IN_MEAN, d->psi_in_mean);
    mon_putf32(w + TMO_RD_PSI_IN_MAX, d->psi_in_max);
    mon_putf32(w + TMO_RD_JS_IN_MEAN, d->js_in_mean);
    mon_putf32(w + TMO_RD_JS_IN_MAX, d->js_in_max);
    mon_putf32(w + TMO_RD_PSI_OUT, d->psi_out);
    mon_putf32(w + TMO_RD_JS_OUT, d->js_out);
    mon_putf32(w + TMO_RD_PSI_CONF, d->psi_conf);
    mon_putf32(w + TMO_RD_JS_CONF, d->js_conf);
    mon_putf32(w + TMO_RD_PEN_SHIFT, d->pen_shift);
    mon_putf32(w + TMO_RD_ACC_EST, d->acc_est);
    mon_putf32(w + TMO_RD_CONF_MEAN, d->conf_mean);
    mon_putf32(w + TMO_RD_CUSUM_CONF, d->cusum_conf);
    mon_putf32(w + TMO_RD_CUSUM_IN, d->cusum_in);
    mon_put16(w + TMO_RD_WORST_GROUP, d->worst_group);
}

static uint8_t *put_pen(uint8_t *w, const tmo_monitor *m)
{
    mon_put32(w, m->pen_inf);
    mon_put32(w + 4, m->pen_rows);
    w += TMO_REPORT_PEN_FIXED;
    for (uint32_t c = 0; c < m->profile->pen_channels; c++, w += 8) {
        double mean, m2;
        mon_pen_moments(m, c, &mean, &m2);
        /* Saturate to the ranges of [R-3] (also keeps the float conversion defined). */
        mean = mean > 1e18 ? 1e18 : mean < -1e18 ? -1e18 : mean == mean ? mean : 0;
        m2 = m2 > 1e30 ? 1e30 : m2 > 0 ? m2 : 0;
        mon_putf32(w, (float)mean);
        mon_putf32(w + 4, (float)m2);
    }
    return w;
}

void mon_report_write(tmo_monitor *m, uint32_t close_reason, uint64_t end_ms)
{
    const tmo_profile *p = m->profile;
    int values = p->mode == TMO_OUT_VALUES;
    tmo_drift d;
    uint32_t window_events;
    mon_drift(m, &d, &window_events);
    m->events |= window_events;
    uint32_t out_n = values ? p->out.groups : p->classes;
    uint32_t out_bins = values ? p->out.bins : p->conf_bins;
    uint32_t pen = m->pen_on ? p->pen_channels : 0;
    size_t len = tmo_report_size(p->in.groups, p->in.bins, p->mode, out_n, out_bins, pen,
                                 m->sample_count, (uint32_t)m->sample_bytes);
    uint8_t *r = m->report;
    memset(r, 0, len);
    memcpy(r, TMO_REPORT_MAGIC, 4);
    mon_put16(r + TMO_RH_VERSION, TMO_REPORT_VERSION);
    mon_put16(r + TMO_RH_HEADER_SIZE, TMO_REPORT_HEADER_SIZE);
    mon_put32(r + TMO_RH_TOTAL, (uint32_t)len);
    uint32_t flags = close_reason | ((uint32_t)p->mode << TMO_REPORT_F_MODE_SHIFT);
    flags |= pen ? TMO_REPORT_F_PEN : 0u;
    flags |= m->sample_count ? TMO_REPORT_F_SAMPLES : 0u;
    mon_put32(r + TMO_RH_FLAGS, flags);
    mon_put64(r + TMO_RH_SEQ_FIRST, m->seq);
    mon_put64(r + TMO_RH_SEQ_LAST, m->seq);
    mon_put64(r + TMO_RH_START_MS, m->start_ms);
    mon_put64(r + TMO_RH_END_MS, end_ms >= m->start_ms ? end_ms : m->start_ms);
    memcpy(r + TMO_RH_DIGEST, p->model_digest, 8);
    mon_put32(r + TMO_RH_INFERENCES, m->inferences);
    mon_put32(r + TMO_RH_ERRORS, m->errors);
    size_t arena = m->interp->arena_used;
    mon_put32(r + TMO_RH_ARENA, arena > 0xffffffffu ? 0xffffffffu : (uint32_t)arena);
    mon_put32(r + TMO_RH_EVENTS, m->events);
    mon_put32(r + TMO_RH_WINDOWS, 1);
    mon_put32(r + TMO_RH_DROPPED, m->dropped);
    mon_put32(r + TMO_RH_NONFINITE, m->nonfinite);
    r[TMO_RH_IN_BINS] = (uint8_t)p->in.bins;
    r[TMO_RH_OUT_BINS] = (uint8_t)out_bins;
    mon_put16(r + TMO_RH_IN_GROUPS, (uint16_t)p->in.groups);
    mon_put16(r + TMO_RH_OUT_GROUPS, (uint16_t)out_n);
    mon_put16(r + TMO_RH_PEN_CH, (uint16_t)pen);
    mon_put16(r + TMO_RH_SAMPLES, (uint16_t)m->sample_count);
    mon_put16(r + TMO_RH_LAT_BINS, TMO_REPORT_LATENCY_BINS);
    mon_put32(r + TMO_RH_SAMPLE_BYTES, m->sample_count ? (uint32_t)m->sample_bytes : 0u);
    mon_put32(r + TMO_RH_FIRST_EVENT, m->first_event);
    mon_put32(r + TMO_RH_IN_INF, m->in_inf);
    mon_put32(r + TMO_RH_OUT_INF, m->out_inf);

    uint8_t *w = r + TMO_REPORT_HEADER_SIZE;
    put_drift(w, &d);
    w += TMO_REPORT_DRIFT_SIZE;
    for (uint32_t b = 0; b < TMO_REPORT_LATENCY_BINS; b++, w += 4)
        mon_put32(w, m->latency[b]);
    w = put_groups(w, m->in);
    if (values) {
        w = put_groups(w, m->out);
    } else {
        for (uint32_t k = 0; k < p->classes; k++, w += 4)
            mon_put32(w, m->class_counts[k]);
        for (uint32_t b = 0; b < p->conf_bins; b++, w += 4)
            mon_put32(w, m->conf_counts[b]);
    }
    if (pen)
        w = put_pen(w, m);
    uint32_t index, cls;
    float score;
    const uint8_t *bytes;
    for (uint32_t i = 0; mon_samples_get(m, i, &index, &score, &cls, &bytes); i++) {
        mon_put32(w, index);
        mon_putf32(w + 4, score);
        mon_put16(w + 8, (uint16_t)cls);
        memcpy(w + TMO_REPORT_SAMPLE_FIXED, bytes, m->sample_bytes);
        w += TMO_REPORT_SAMPLE_FIXED + ALIGN4(m->sample_bytes);
    }
    m->report_len = len;
}
