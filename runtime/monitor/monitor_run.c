/*
 * The monitor at run time: what happens before and after each invoke, the
 * immediate (CUSUM) events, the raw-input reservoir, and closing a window.
 */
#include <math.h>

#include "../kernels/kernel.h"
#include "monitor_priv.h"

#define NO_SAMPLE 0xffffffffu

/* Reservoir entry (native layout, never on the wire). */
typedef struct mon_sample {
    uint32_t index; /* inference index in the window */
    float score;    /* how unusual: 1 - confidence, or |z| of the input mean */
    uint32_t cls;   /* NO_SAMPLE marks a free slot */
} mon_sample;

static uint64_t now_ms(const tmo_monitor *m)
{
    return m->cfg.now_us != NULL ? m->cfg.now_us(m->cfg.clock_ctx) / 1000u : 0;
}

static mon_sample *meta(const tmo_monitor *m)
{
    return (mon_sample *)(void *)m->sample_meta;
}

static uint8_t *slot(const tmo_monitor *m, uint32_t i)
{
    return m->samples + (size_t)i * ((m->sample_bytes + 7u) & ~(size_t)7u);
}

void mon_window_reset(tmo_monitor *m, uint64_t start_ms)
{
    mon_tensor_reset(m->in);
    if (m->out != NULL)
        mon_tensor_reset(m->out);
    if (m->class_counts != NULL) {
        memset(m->class_counts, 0, (size_t)m->profile->classes * 4u);
        memset(m->conf_counts, 0, (size_t)m->profile->conf_bins * 4u);
    }
    memset(m->latency, 0, TMO_REPORT_LATENCY_BINS * 4u);
    if (m->pen_acc != NULL)
        memset(m->pen_acc, 0, (size_t)m->profile->pen_channels * sizeof(mon_pen));
    m->inferences = m->errors = m->in_inf = m->out_inf = m->pen_inf = m->nonfinite = 0;
    m->events = 0;
    m->first_event = NO_SAMPLE;
    m->conf_sum = 0;
    m->cusum_conf_max = m->cusum_in_max = 0;
    m->sample_count = 0;
    m->staging = 0;
    m->staged = 0;
    for (uint32_t i = 0; m->samples != NULL && i <= m->cfg.samples; i++)
        meta(m)[i].cls = NO_SAMPLE;
    m->start_ms = start_ms;
}

static void raise_now(tmo_monitor *m, uint32_t ev, uint32_t index)
{
    m->events |= ev;
    if (m->first_event == NO_SAMPLE)
        m->first_event = index;
    if (m->cfg.on_event != NULL)
        m->cfg.on_event(m->cfg.event_ctx, ev, m->seq);
}

/* One CUSUM step; returns the event it raises (0 for none). */
static uint32_t cusum(const tmo_monitor *m, tmo_cusum *c, float *peak, float z, uint32_t up_ev,
                      uint32_t down_ev)
{
    int a = tmo_cusum_step(c, z, m->cfg.cusum_k, m->cfg.cusum_h, m->cfg.cusum_clip);
    if (c->peak > *peak)
        *peak = c->peak;
    return a > 0 ? up_ev : a < 0 ? down_ev : 0;
}

tmo_err tmo_monitor_before(tmo_monitor *m, const tmo_interp *it)
{
    if (m == NULL || it == NULL || it != m->interp || m->in == NULL)
        return TMO_EINVAL;
    double sum = 0;
    uint64_t n = 0;
    mon_tensor_add(m->in, m->in_data, m->cfg.input_stride, &sum, &n, &m->nonfinite);
    m->in_inf++;
    const tmo_profile_stats *ps = &m->profile->in;
    float floor_sd = 1e-3f * (1.0f + fabsf(ps->seq_mean));
    float sd = ps->seq_std > floor_sd ? ps->seq_std : floor_sd;
    float mean = n > 0 ? (float)(sum / (double)n) : ps->seq_mean;
    m->last_in_z = (mean - ps->seq_mean) / sd;
    uint32_t ev =
        cusum(m, &m->cusum_in, &m->cusum_in_max, m->last_in_z, TMO_EV_INPUT_UP, TMO_EV_INPUT_DOWN);
    /* A frozen sensor repeats its input exactly: the per-group sums show it at no extra cost. */
    m->same_run = m->in->fp == m->last_fp && m->same_run > 0 ? m->same_run + 1 : 1;
    m->last_fp = m->in->fp;
    if (m->cfg.stuck_after != 0 && m->same_run == m->cfg.stuck_after)
        ev |= TMO_EV_INPUT_STUCK;
    if (ev != 0)
        raise_now(m, ev, m->inferences);
    if (m->samples != NULL) {
        memcpy(slot(m, m->staging), m->in_data, m->sample_bytes);
        m->staged = 1;
    }
    return TMO_OK;
}

/* Keeps the staged input when it is among the most unusual of the window. */
static void keep_sample(tmo_monitor *m, float score, uint32_t cls)
{
    mon_sample *s = meta(m);
    uint32_t n = m->cfg.samples, victim = NO_SAMPLE;
    if (m->sample_count < n) {
        for (uint32_t i = 0; i <= n && victim == NO_SAMPLE; i++)
            if (i != m->staging && s[i].cls == NO_SAMPLE)
                victim = i;
        m->sample_count++;
    } else {
        for (uint32_t i = 0; i <= n; i++)
            if (i != m->staging && (victim == NO_SAMPLE || s[i].score < s[victim].score))
                victim = i;
        if (!(score > s[victim].score))
            return;
        s[victim].cls = NO_SAMPLE;
    }
    s[m->staging].index = m->inferences - 1u;
    s[m->staging].score = score;
    s[m->staging].cls = cls;
    m->staging = victim;
}

static void close_window(tmo_monitor *m, uint32_t reason)
{
    uint64_t end = now_ms(m);
    if (m->report_ready && m->cfg.on_report == NULL)
        m->dropped++;
    mon_report_write(m, reason, end);
    m->dropped = 0;
    m->report_ready = 1;
    if (m->cfg.on_report != NULL)
        m->cfg.on_report(m->cfg.report_ctx, m->report, m->report_len);
    m->seq++;
    mon_window_reset(m, end);
}

static void observe_output(tmo_monitor *m, float *score, uint32_t *cls)
{
    const tmo_profile *p = m->profile;
    if (p->mode == TMO_OUT_VALUES) {
        double sum = 0;
        uint64_t n = 0;
        mon_tensor_add(m->out, m->out_data, 1, &sum, &n, &m->nonfinite);
        *score = fabsf(m->last_in_z);
        *cls = 0;
    } else {
        float conf;
        int32_t k = mon_top1(p, m->out_data, &conf);
        m->class_counts[k]++;
        m->conf_counts[mon_conf_bin(conf, p->conf_bins)]++;
        m->conf_sum += conf;
        float sd = p->conf_std > 0.01f ? p->conf_std : 0.01f;
        uint32_t ev = cusum(m, &m->cusum_conf, &m->cusum_conf_max, (conf - p->conf_mean) / sd,
                            TMO_EV_CONF_UP, TMO_EV_CONF_DOWN);
        if (ev != 0)
            raise_now(m, ev, m->inferences - 1u);
        *score = 1.0f - conf;
        *cls = (uint32_t)k;
    }
    m->out_inf++;
}

tmo_err tmo_monitor_observe(tmo_monitor *m, const tmo_interp *it, uint32_t latency_us, int ok)
{
    if (m == NULL || it == NULL || it != m->interp || m->in == NULL)
        return TMO_EINVAL;
    m->inferences++;
    m->latency[mon_latency_bin(latency_us)]++;
    float score = 0;
    uint32_t cls = 0;
    if (!ok) {
        m->errors++;
    } else {
        observe_output(m, &score, &cls);
        if (m->pen_on && !m->pen_taken && m->pen_survives) {
            mon_pen_add(m);
            m->pen_inf++;
        }
    }
    m->pen_taken = 0;
    if (m->staged && ok)
        keep_sample(m, score, cls);
    m->staged = 0;
    if ((m->cfg.window_inferences != 0 && m->inferences >= m->cfg.window_inferences) ||
        m->inferences >= m->max_inferences)
        close_window(m, TMO_REPORT_CLOSE_COUNT);
    else if (m->cfg.window_ms != 0 && now_ms(m) - m->start_ms >= m->cfg.window_ms)
        close_window(m, TMO_REPORT_CLOSE_TIME);
    return TMO_OK;
}

/*
 * Runs operators [from, to) exactly as tmo_interp_invoke does. Kept here so
 * the penultimate tensor can be read between its producer and the operators
 * that reuse its memory; an interp.c "invoke range" entry point would let
 * this loop live in one place (see the report of issue 6).
 */
static void run_ops(tmo_interp *it, uint32_t from, uint32_t to)
{
    tmo_exec x = {it->arena, it->model->base, it->tensor_loc};
    for (uint32_t i = from; i < to; i++) {
        const tmo_node *n = &it->nodes[i];
        n->invoke(&x, n->params, it->arena + n->scratch_off);
    }
}

tmo_err tmo_monitor_invoke(tmo_monitor *m, tmo_interp *it)
{
    if (m == NULL || it == NULL || it != m->interp || m->in == NULL)
        return TMO_EINVAL;
    uint64_t t0 = m->cfg.now_us != NULL ? m->cfg.now_us(m->cfg.clock_ctx) : 0;
    tmo_monitor_before(m, it);
    tmo_err e;
    if (m->pen_on && !m->pen_survives && it->ready) {
        run_ops(it, 0, m->pen_producer + 1u);
        mon_pen_add(m);
        m->pen_inf++;
        m->pen_taken = 1;
        run_ops(it, m->pen_producer + 1u, it->node_count);
        e = TMO_OK;
    } else {
        e = tmo_interp_invoke(it);
    }
    uint64_t dt = m->cfg.now_us != NULL ? m->cfg.now_us(m->cfg.clock_ctx) - t0 : 0;
    tmo_monitor_observe(m, it, dt > 0xffffffffu ? 0xffffffffu : (uint32_t)dt, e == TMO_OK);
    return e;
}

tmo_err tmo_monitor_flush(tmo_monitor *m)
{
    if (m == NULL || m->in == NULL)
        return TMO_EINVAL;
    if (m->inferences == 0)
        return TMO_ESTATE;
    close_window(m, TMO_REPORT_CLOSE_FLUSH);
    return TMO_OK;
}

int tmo_monitor_report_ready(const tmo_monitor *m)
{
    return m != NULL && m->report_ready;
}

tmo_err tmo_monitor_report_take(tmo_monitor *m, void *buf, size_t cap, size_t *len)
{
    if (m == NULL || buf == NULL || len == NULL)
        return TMO_EINVAL;
    if (!m->report_ready)
        return TMO_ESTATE;
    if (cap < m->report_len)
        return TMO_ENOSPC;
    memcpy(buf, m->report, m->report_len);
    *len = m->report_len;
    m->report_ready = 0;
    return TMO_OK;
}

uint32_t mon_samples_get(const tmo_monitor *m, uint32_t i, uint32_t *index, float *score,
                         uint32_t *cls, const uint8_t **bytes)
{
    uint32_t seen = 0;
    for (uint32_t s = 0; m->samples != NULL && s <= m->cfg.samples; s++) {
        if (meta(m)[s].cls == NO_SAMPLE || s == m->staging)
            continue;
        if (seen++ == i) {
            *index = meta(m)[s].index;
            *score = meta(m)[s].score;
            *cls = meta(m)[s].cls;
            *bytes = slot(m, s);
            return 1;
        }
    }
    return 0;
}
