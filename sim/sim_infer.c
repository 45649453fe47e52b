/*
 * One simulated inference: through agent_infer_with the device's data
 * stream is written into the real model's input (quantized the model's
 * way), the model runs with the device monitor attached when the bundle has
 * a monitoring profile (tinymlops/monitor.h), and the device records what
 * it predicted, how long it took on its class of hardware (latency measured
 * here x the class's speed factor; the monitor reads the same device clock)
 * and, for labelled data, whether it was right. Each closed report goes to
 * the agent (agent_telemetry_submit), which uploads it to the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "sim_priv.h"

/* The device clock the monitor times invokes with: simulated time, slowed by the class factor. */
static uint64_t device_us(void *ctx)
{
    sim_device *d = ctx;
    double factor = sim_class_get(d->cls)->speed_factor;
    uint64_t t = d->mon_base_us + (uint64_t)((double)(host_now_ns() - d->mon_mark_ns) * factor / 1000.0);
    if (t < d->mon_last_us)
        t = d->mon_last_us;
    d->mon_last_us = t;
    return t;
}

static void on_report(void *ctx, const uint8_t *report, size_t len)
{
    sim_device *d = ctx;
    if (len < TMO_REPORT_HEADER_SIZE + TMO_REPORT_DRIFT_SIZE)
        return;
    const uint8_t *b = report + TMO_REPORT_HEADER_SIZE;
    tmo_drift *v = &d->mview.drift;
    float f[13];
    memcpy(f, b, sizeof f); /* the drift block: 13 little-endian f32 (x86 and ARM are LE) */
    v->psi_in_mean = f[0], v->psi_in_max = f[1], v->js_in_mean = f[2], v->js_in_max = f[3];
    v->psi_out = f[4], v->js_out = f[5], v->psi_conf = f[6], v->js_conf = f[7];
    v->pen_shift = f[8], v->acc_est = f[9], v->conf_mean = f[10], v->cusum_conf = f[11];
    v->cusum_in = f[12];
    uint32_t events;
    memcpy(&events, report + TMO_RH_EVENTS, 4);
    d->mview.events = events;
    d->mview.reports++;
    atomic_fetch_add(&d->sim->reports, 1);
    /* The agent numbers it, keeps it on disk and uploads it like its own (docs/agent.md). We run
       inside agent_infer_with with the device's lock held, so d->ag is the running agent. */
    if (d->ag != NULL && agent_telemetry_submit(d->ag, report, len) != 0)
        d->mview.submit_failed++;
}

void sim_device_unbind(sim_device *d)
{
    free(d->mon_mem);
    d->mon_mem = NULL;
    d->mon_len = 0;
    d->mon_on = 0;
    d->ds = NULL;
    d->bound_gen = 0;
}

/* A new model: pick the data that fits its input, attach a monitor if its bundle has a profile. */
static void bind(sim_device *d, tmo_interp *it, const agent_model_view *m)
{
    sim_device_unbind(d);
    d->bound_gen = m->generation;
    tmo_io in;
    if (tmo_interp_input(it, 0, &in) == TMO_OK)
        d->ds = sim_data_match(&d->sim->data, &in);
    memset(&d->mview, 0, sizeof d->mview);
    if (m->profile == NULL)
        return;
    tmo_diag diag;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = (uint32_t)d->sim->cfg.monitor_window;
    c.window_ms = 60000; /* like the agent's own monitor: a slow device still reports each minute */
    c.now_us = device_us;
    c.clock_ctx = d;
    c.on_report = on_report;
    c.report_ctx = d;
    size_t need = 0;
    if (tmo_profile_parse(&d->prof, m->profile, m->profile_len, &diag) != TMO_OK ||
        tmo_profile_check(&d->prof, it, &diag) != TMO_OK ||
        tmo_monitor_mem_size(&c, &d->prof, it, &need, &diag) != TMO_OK ||
        (d->mon_mem = malloc(need)) == NULL ||
        tmo_monitor_init(&d->mon, &c, &d->prof, it, d->mon_mem, need, &diag) != TMO_OK) {
        char msg[160];
        tmo_diag_format(&diag, msg, sizeof msg);
        snprintf(d->note, sizeof d->note, "%s: no monitor for %s %s: %s", d->name, m->name,
                 m->version, msg); /* logged after the lock (a log callback may call back) */
        free(d->mon_mem);
        d->mon_mem = NULL;
        return;
    }
    d->mon_len = need;
    d->mon_on = 1;
}

/* Top-1 of output 0 (int8, uint8 or float32 scores), or -1. */
static int top1(tmo_interp *it)
{
    tmo_io o;
    if (tmo_interp_output(it, 0, &o) != TMO_OK || o.bytes == 0)
        return -1;
    size_t n = o.type == TMO_FLOAT32 ? o.bytes / 4 : o.bytes;
    int best = 0;
    double best_v = -1e300;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (o.type == TMO_FLOAT32) {
            float f;
            memcpy(&f, (uint8_t *)o.data + 4 * i, 4);
            v = f;
        } else if (o.type == TMO_INT8) {
            v = ((int8_t *)o.data)[i];
        } else if (o.type == TMO_UINT8) {
            v = ((uint8_t *)o.data)[i];
        } else {
            return -1;
        }
        if (v > best_v)
            best_v = v, best = (int)i;
    }
    return n > 1 ? best : -1;
}

typedef struct run_ctx {
    sim_device *d;
    uint64_t now_ms;
} run_ctx;

static int run(void *ctx, struct tmo_interp *it, const agent_model_view *m)
{
    run_ctx *r = ctx;
    sim_device *d = r->d;
    if (m->generation != d->bound_gen)
        bind(d, it, m);
    int label = -1;
    for (uint32_t i = 0; i < tmo_interp_input_count(it); i++) {
        tmo_io in;
        if (tmo_interp_input(it, i, &in) != TMO_OK)
            return AGENT_RUN_CALLER_ERROR;
        sim_stream_stats ignored = {0, 0, 0, 0};
        int l = sim_stream_fill(i == 0 ? d->ds : NULL, &d->drift, d->salt, &d->rng, &in,
                                i == 0 ? &d->stats : &ignored);
        if (i == 0)
            label = l;
    }
    d->mon_base_us = r->now_ms * 1000u;
    d->mon_mark_ns = host_now_ns();
    tmo_err e = d->mon_on ? tmo_monitor_invoke(&d->mon, it) : tmo_interp_invoke(it);
    double us = (double)(host_now_ns() - d->mon_mark_ns) / 1000.0;
    d->latency_us += us * sim_class_get(d->cls)->speed_factor;
    if (e != TMO_OK)
        return AGENT_RUN_MODEL_ERROR;
    int k = top1(it);
    if (k >= 0 && k < SIM_TOP_CLASSES)
        d->top1[k]++;
    if (label >= 0) {
        d->labelled++;
        d->correct += k == label;
    }
    return AGENT_RUN_OK;
}

int sim_device_infer(sim_device *d, uint64_t now_ms)
{
    char err[120];
    pthread_mutex_lock(&d->lock);
    if (d->ag == NULL || d->state != DEV_UP) {
        pthread_mutex_unlock(&d->lock);
        return 0;
    }
    run_ctx r = {d, now_ms};
    int rc = agent_infer_with(d->ag, run, &r, err, sizeof err);
    if (rc == AGENT_RUN_OK)
        d->inferences++;
    else if (rc == AGENT_RUN_MODEL_ERROR)
        d->errors++;
    char note[sizeof d->note];
    memcpy(note, d->note, sizeof note);
    d->note[0] = '\0';
    pthread_mutex_unlock(&d->lock);
    if (note[0] != '\0')
        sim_log(d->sim, "%s", note);
    if (rc == AGENT_RUN_CALLER_ERROR)
        return 0; /* no model yet */
    return rc == AGENT_RUN_OK ? 1 : -1;
}
