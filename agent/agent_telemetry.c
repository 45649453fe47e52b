/*
 * Telemetry of the running model (docs/agent.md "Telemetry", docs/
 * monitoring.md): the device monitor is attached to the model with the
 * PROFILE section of its bundle, every inference of the host application
 * runs through it, and each closed window's report is made durable at once
 * (agent_tbuf.c) and uploaded in batches (POST /api/v1/device/telemetry,
 * signed like every device request) until the server acknowledges it.
 *
 * A report belongs to one model: when the model changes (update, revert)
 * the open window is closed first and the monitor is rebuilt for the new
 * one (drift statistics and CUSUMs start afresh against its own profile).
 * A bundle without a profile gets no monitor: no reports (the check-in's
 * health counters still count its inferences and errors). A window also
 * closes after telemetry_window_s with inferences in it, so a quiet device
 * still reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_tel.h"
#include "devauth.h"
#include "host.h"

#define DEFAULT_WINDOW 100
#define DEFAULT_WINDOW_S 60
#define DEFAULT_BATCH 32
#define DEFAULT_MAX_REPORTS 1000
#define DEFAULT_MAX_BYTES (4u << 20)
#define UPLOAD_MAX_BYTES (160u * 1024) /* a batch's reports; the server takes 256 KiB bodies */
#define MAX_BATCH 64                   /* the server's limit per upload */
#define TELEMETRY_PATH "/api/v1/device/telemetry"

static uint64_t mono_us(void *ctx)
{
    (void)ctx;
    return host_now_ns() / 1000u;
}

/* This device's estimate of the server's clock (P-4), what report times are stamped with. */
static int64_t server_now_ms(const agent *a)
{
    return (int64_t)hc_now_ms() + a->cfg.clock_skew_ms + a->clock_offset_ms;
}

int telemetry_open(agent *a, char *err, size_t err_len)
{
    a->tel = NULL;
    if (a->cfg.telemetry_off)
        return 0;
    agent_tel *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->max_reports =
        a->cfg.telemetry_max_reports ? a->cfg.telemetry_max_reports : DEFAULT_MAX_REPORTS;
    t->max_bytes = a->cfg.telemetry_max_bytes ? a->cfg.telemetry_max_bytes : DEFAULT_MAX_BYTES;
    if (tbuf_open(a, t, err, err_len) != 0) {
        tbuf_close(t);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return -1;
    }
    a->tel = t;
    if (t->n > 0)
        agent_log(a, "telemetry: %zu report(s) buffered from before, next sequence %llu", t->n,
                  (unsigned long long)t->next_seq);
    return 0;
}

void telemetry_close(agent *a)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return;
    free(t->mon_mem);
    tbuf_close(t);
    pthread_mutex_destroy(&t->mu);
    free(t);
    a->tel = NULL;
}

/* The monitor's callback, under the model lock: the report is durable when this returns. */
static void on_report(void *ctx, const uint8_t *report, size_t len)
{
    agent *a = ctx;
    agent_tel *t = a->tel;
    pthread_mutex_lock(&t->mu);
    tbuf_add(a, t, report, len, server_now_ms(a));
    pthread_mutex_unlock(&t->mu);
    t->window_inf = 0;
}

int agent_telemetry_submit(agent *a, const uint8_t *report, size_t len)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return -1;
    pthread_mutex_lock(&t->mu);
    int rc = tbuf_add(a, t, report, len, server_now_ms(a));
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void telemetry_swap(agent *a, const uint8_t *digest, const char *model, const char *version)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return;
    if (t->mon_on && t->window_inf > 0)
        tmo_monitor_flush(&t->mon); /* on_report: the window's report, for the old model */
    free(t->mon_mem);
    t->mon_mem = NULL;
    t->mon_on = 0;
    t->bound = 0;
    t->window_inf = 0;
    pthread_mutex_lock(&t->mu);
    t->bundle_digest[0] = '\0';
    if (digest != NULL) {
        memcpy(t->bundle_digest, "sha256:", 7);
        devauth_hex(digest, 32, t->bundle_digest + 7);
    }
    snprintf(t->model, sizeof t->model, "%s", model != NULL ? model : "");
    snprintf(t->version, sizeof t->version, "%s", version != NULL ? version : "");
    pthread_mutex_unlock(&t->mu);
}

/* Attaches a monitor to the running model (model lock held). */
static void bind(agent *a, agent_tel *t, tmo_interp *it)
{
    t->bound = 1;
    t->bound_gen = a->run.generation;
    t->mon_on = 0;
    if (a->run.profile == NULL)
        return;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = a->cfg.telemetry_window ? a->cfg.telemetry_window : DEFAULT_WINDOW;
    c.now_us = mono_us;
    c.on_report = on_report;
    c.report_ctx = a;
    tmo_diag d;
    size_t need = 0;
    tmo_err e = tmo_profile_parse(&t->prof, a->run.profile, a->run.profile_len, &d);
    if (e == TMO_OK)
        e = tmo_monitor_mem_size(&c, &t->prof, it, &need, &d);
    if (e == TMO_OK && (t->mon_mem = malloc(need)) == NULL)
        e = TMO_ENOSPC;
    if (e == TMO_OK)
        e = tmo_monitor_init(&t->mon, &c, &t->prof, it, t->mon_mem, need, &d);
    if (e != TMO_OK) {
        char msg[300];
        tmo_diag_format(&d, msg, sizeof msg);
        agent_error(a, "telemetry: no monitor for %s %s: %s", a->run.name, a->run.version, msg);
        free(t->mon_mem);
        t->mon_mem = NULL;
        return;
    }
    t->mon_on = 1;
}

tmo_err telemetry_invoke(agent *a, tmo_interp *it)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return tmo_interp_invoke(it);
    if (!t->bound || t->bound_gen != a->run.generation)
        bind(a, t, it);
    if (!t->mon_on)
        return tmo_interp_invoke(it);
    if (t->window_inf++ == 0)
        t->window_start_ms = agent_now_ms(a);
    return tmo_monitor_invoke(&t->mon, it);
}

/* ---- uploads ---- */

static json_t *batch_body(agent_tel *t, const uint64_t *seqs, size_t k)
{
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        json_t *v = tbuf_read(t, seqs[i]);
        if (v == NULL)
            continue;
        json_t *e = json_object();
        const char *keys[] = {"seq", "at", "bundle_digest", "model", "version", "lost_inferences",
                              "data"};
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++) {
            json_t *x = json_object_get(v, keys[j]);
            const char *sx = json_string_value(x);
            if (x != NULL && (sx == NULL || sx[0] != '\0'))
                json_object_set(e, keys[j], x);
        }
        json_array_append_new(list, e);
        json_decref(v);
    }
    return json_pack("{s:o}", "reports", list);
}

/* Sequence numbers the server answered for (stored, duplicate or rejected): all may go. */
static size_t answered(agent *a, json_t *v, uint64_t *acked, size_t cap, uint64_t counts[3])
{
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(json_object_get(v, "results"), i, r)
    {
        const char *status = json_string_value(json_object_get(r, "status"));
        json_int_t seq = json_integer_value(json_object_get(r, "seq"));
        if (status == NULL || seq < 0 || n == cap)
            continue;
        counts[strcmp(status, "stored") == 0 ? 0 : strcmp(status, "duplicate") == 0 ? 1 : 2]++;
        if (strcmp(status, "rejected") == 0)
            agent_error(a, "telemetry: the server rejected report %lld: %s", (long long)seq,
                        json_string_value(json_object_get(r, "reason")));
        acked[n++] = (uint64_t)seq;
    }
    return n;
}

static uint64_t interval_ms(const agent *a)
{
    int s = a->cfg.telemetry_interval_s > 0 ? a->cfg.telemetry_interval_s : a->interval_s;
    return (uint64_t)(s > 0 ? s : 60) * 1000u;
}

static void upload(agent *a, agent_tel *t, uint64_t now)
{
    uint64_t seqs[MAX_BATCH], acked[MAX_BATCH];
    size_t batch = a->cfg.telemetry_batch > 0 && a->cfg.telemetry_batch < MAX_BATCH
                       ? (size_t)a->cfg.telemetry_batch
                       : DEFAULT_BATCH;
    pthread_mutex_lock(&t->mu);
    size_t k = tbuf_take(t, batch, UPLOAD_MAX_BYTES, seqs);
    pthread_mutex_unlock(&t->mu);
    json_t *body = batch_body(t, seqs, k);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    hc_response r;
    int rc = text != NULL ? net_request(a, "POST", TELEMETRY_PATH, text, NULL, &r) : -1;
    free(text);
    size_t n = 0;
    uint64_t counts[3] = {0, 0, 0};
    int ok = rc == 0 && r.status == 200, answered_at_all = rc == 0;
    if (ok && a->cfg.fault == AGENT_FAULT_LOSE_TELEMETRY_ACK && !t->ack_lost_once) {
        t->ack_lost_once = 1; /* as if the answer were lost on the way: send the batch again */
        agent_log(a, "telemetry: test fault: ignoring the server's answer");
        ok = 0;
        rc = -1;
    }
    if (ok) {
        json_t *v = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        n = answered(a, v, acked, MAX_BATCH, counts);
        json_decref(v);
    } else if (rc == 0 && r.status == 400) {
        char code[64];
        agent_error(a, "telemetry: the server refused the batch (%s): dropping it",
                    net_error_code(&r, code, sizeof code));
        memcpy(acked, seqs, k * sizeof seqs[0]);
        n = k;
    } else if (rc == 0) {
        char code[64];
        agent_error(a, "telemetry upload refused: HTTP %ld %s", r.status,
                    net_error_code(&r, code, sizeof code));
    }
    if (answered_at_all)
        hc_response_free(&r);
    pthread_mutex_lock(&t->mu);
    tbuf_release(t);
    t->uploaded_total += counts[0];
    t->duplicates_total += counts[1];
    t->rejected_total += counts[2];
    tbuf_ack(a, t, acked, n);
    size_t left = t->n;
    pthread_mutex_unlock(&t->mu);
    if (n > 0 || (ok && k == 0)) {
        t->failures = 0;
        t->next_upload_ms = left > 0 ? now : now + interval_ms(a);
    } else {
        t->failures++;
        t->next_upload_ms =
            now + (a->cfg.fault == AGENT_FAULT_LOSE_TELEMETRY_ACK && t->failures == 1
                       ? 0
                       : agent_retry_delay(a, t->failures));
    }
}

int64_t telemetry_step(agent *a)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return INT64_MAX;
    uint64_t now = agent_now_ms(a);
    uint64_t window_ms =
        (uint64_t)(a->cfg.telemetry_window_s > 0 ? a->cfg.telemetry_window_s : DEFAULT_WINDOW_S) *
        1000u;
    int64_t wait = (int64_t)window_ms;
    pthread_mutex_lock(&a->run.lock);
    if (t->mon_on && t->window_inf > 0) {
        if (now - t->window_start_ms >= window_ms)
            tmo_monitor_flush(&t->mon);
        else
            wait = (int64_t)(t->window_start_ms + window_ms - now);
    }
    pthread_mutex_unlock(&a->run.lock);
    if (!a->enrolled)
        return wait;
    pthread_mutex_lock(&t->mu);
    size_t n = t->n;
    pthread_mutex_unlock(&t->mu);
    size_t batch = a->cfg.telemetry_batch > 0 ? (size_t)a->cfg.telemetry_batch : DEFAULT_BATCH;
    if (n == 0) {
        if (t->next_upload_ms < now)
            t->next_upload_ms = now + interval_ms(a);
    } else if (now >= t->next_upload_ms || (n >= batch && t->failures == 0)) {
        upload(a, t, now);
    }
    now = agent_now_ms(a);
    if (n > 0 && t->next_upload_ms <= now)
        return 0;
    int64_t until = n > 0 ? (int64_t)(t->next_upload_ms - now) : wait;
    return until < wait ? until : wait;
}

json_t *telemetry_status(agent *a)
{
    agent_tel *t = a->tel;
    if (t == NULL)
        return json_null();
    pthread_mutex_lock(&t->mu);
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s}", "buffered", (json_int_t)t->n, "buffered_bytes",
        (json_int_t)t->bytes, "next_seq", (json_int_t)t->next_seq, "dropped",
        (json_int_t)t->dropped_total, "lost_inferences", (json_int_t)t->lost_total, "uploaded",
        (json_int_t)t->uploaded_total, "duplicates", (json_int_t)t->duplicates_total, "rejected",
        (json_int_t)t->rejected_total, "model", t->model, "bundle_digest", t->bundle_digest);
    pthread_mutex_unlock(&t->mu);
    return o;
}
