/*
 * The alert engine: after each stored report it applies the rules of
 * tel_rules.c to the device's recent windows of that model (drift,
 * estimated accuracy, latency, errors) and opens, refreshes or
 * auto-resolves alerts; on the controller's tick it watches for silent
 * devices. An alert is opened at most once per (device, kind, model) at a
 * time; after an operator resolves one, only windows received later can
 * open the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry.h"

#define MAX_RECENT 200
#define MAX_SILENT 4096
#define SILENT_EVERY_MS 5000

typedef struct window_list {
    tel_window w[MAX_RECENT];
    size_t n;
    int64_t base_last; /* baseline: last sequence number it covers */
    uint32_t base_lat[ST_LAT_BINS];
    int64_t base_inferences, base_errors, base_rows;
} window_list;

static void to_window(const st_report *r, tel_window *w)
{
    w->seq_first = r->seq_first;
    w->seq_last = r->seq_last;
    w->received_at = r->received_at;
    w->inferences = r->inferences;
    w->errors = r->errors;
    w->out_inf = r->out_inf;
    w->events = r->events;
    w->drift = r->drift;
    w->acc_est = r->acc_est;
    memcpy(w->latency, r->latency, sizeof w->latency);
}

static int collect_recent(void *ctx, const st_report *r)
{
    window_list *l = ctx;
    if (l->n < MAX_RECENT)
        to_window(r, &l->w[l->n++]);
    return l->n >= MAX_RECENT;
}

static int collect_baseline(void *ctx, const st_report *r)
{
    window_list *l = ctx;
    for (int b = 0; b < ST_LAT_BINS; b++)
        l->base_lat[b] += r->latency[b];
    l->base_inferences = srv_counter_add(l->base_inferences, r->inferences);
    l->base_errors = srv_counter_add(l->base_errors, r->errors);
    l->base_rows++;
    if (r->seq_last > l->base_last)
        l->base_last = r->seq_last;
    return 0;
}

int tel_alert_resolve(store *st, st_alert *a, const char *by, int64_t now)
{
    st_copy(a->state, sizeof a->state, "resolved");
    st_copy(a->resolved_by, sizeof a->resolved_by, by);
    a->resolved_at = a->updated_at = now;
    return ST(st, alert_update, a);
}

typedef struct last_resolved {
    const char *digest;
    int64_t at;
} last_resolved;

static int find_resolved(void *ctx, const st_alert *a)
{
    last_resolved *l = ctx;
    if (strcmp(a->digest, l->digest) != 0 || strcmp(a->state, "resolved") != 0)
        return 0;
    l->at = a->resolved_at;
    return 1;
}

/* When an operator last resolved this condition by hand (0 never): older windows cannot reopen it. */
static int resolved_at(store *st, const st_report *row, const char *kind, int64_t *at)
{
    last_resolved l = {row->digest, 0};
    st_alert_filter f = {"resolved", row->device_id, NULL, kind, 0, 50, 0};
    int rc = ST(st, alert_list, &f, find_resolved, &l);
    *at = l.at;
    return rc;
}

static int apply(store *st, const tel_rules *r, const st_report *row, int kind,
                 const tel_context *c, const tel_window *w, size_t n, int64_t now)
{
    tel_decision d;
    tel_decide(kind, r, c, w, n, &d);
    st_alert a;
    int rc = ST(st, alert_active, row->device_id, tel_kind_names[kind], row->digest, &a);
    if (rc == ST_ERROR)
        return ST_ERROR;
    int active = rc == ST_OK;
    if (active && d.action < 0)
        return tel_alert_resolve(st, &a, "auto", now);
    if (d.action <= 0)
        return ST_OK;
    char msg[ST_REASON_LEN + 1];
    tel_message(kind, r, c, &d, (uint32_t)w[0].events, msg, sizeof msg);
    if (active) {
        st_copy(a.message, sizeof a.message, msg);
        a.value = d.value;
        a.threshold = d.limit;
        a.updated_at = now;
        return ST(st, alert_update, &a);
    }
    int64_t manual = 0;
    if (resolved_at(st, row, tel_kind_names[kind], &manual) != ST_OK)
        return ST_ERROR;
    for (size_t i = 0; i < n && manual > 0; i++)
        if (w[i].seq_first >= d.seq_first && w[i].received_at <= manual)
            return ST_OK; /* the run began before the last resolution: it needs fresh windows */
    memset(&a, 0, sizeof a);
    st_copy(a.kind, sizeof a.kind, tel_kind_names[kind]);
    st_copy(a.device_id, sizeof a.device_id, row->device_id);
    st_copy(a.digest, sizeof a.digest, row->digest);
    st_copy(a.model, sizeof a.model, row->model);
    st_copy(a.version, sizeof a.version, row->version);
    st_copy(a.state, sizeof a.state, "open");
    st_copy(a.message, sizeof a.message, msg);
    a.value = d.value;
    a.threshold = d.limit;
    a.opened_at = a.updated_at = now;
    rc = ST(st, alert_insert, &a);
    return rc == ST_CONFLICT ? ST_OK : rc;
}

int tel_alerts_after_report(store *st, const tel_rules *rules, const st_report *row, double acc_ref,
                            int64_t now)
{
    window_list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return store_fail("out of memory");
    l->base_last = -1;
    size_t want =
        (size_t)(rules->windows > rules->resolve_windows ? rules->windows : rules->resolve_windows);
    want = want * 4 + 8 < MAX_RECENT ? want * 4 + 8 : MAX_RECENT;
    st_report_filter f;
    memset(&f, 0, sizeof f);
    f.device = row->device_id;
    f.digest = row->digest;
    f.limit = rules->baseline_windows;
    int rc = ST(st, report_scan, &f, collect_baseline, l);
    f.newest_first = 1;
    f.limit = (int64_t)want;
    if (rc == ST_OK)
        rc = ST(st, report_scan, &f, collect_recent, l);
    tel_context c = {acc_ref, 0, 0, 0};
    if (l->base_rows >= rules->baseline_windows && l->base_inferences > 0) {
        c.have_baseline = 1;
        c.base_p95_us = tel_latency_quantile(l->base_lat, ST_LAT_BINS, 0.95);
        c.base_error_rate = (double)l->base_errors / (double)l->base_inferences;
    }
    /* Latency and errors judge only windows after the baseline's own. */
    size_t after = 0;
    while (after < l->n && l->w[after].seq_first > l->base_last)
        after++;
    for (int kind = 0; rc == ST_OK && kind < TEL_KINDS; kind++) {
        int needs_baseline = kind == TEL_LATENCY || kind == TEL_ERRORS;
        size_t n = needs_baseline ? (c.have_baseline ? after : 0) : l->n;
        if (needs_baseline && !c.have_baseline && kind == TEL_LATENCY &&
            rules->latency_p95_max_us > 0)
            n = l->n; /* an absolute latency limit needs no baseline */
        if (n > 0)
            rc = apply(st, rules, row, kind, &c, l->w, n, now);
    }
    free(l);
    return rc;
}

/* ---- silent devices ---- */

typedef struct silent_list {
    char (*id)[ST_DEVICE_ID_LEN + 1];
    int64_t *last;
    size_t n;
} silent_list;

static int collect_silent(void *ctx, const char *device, int64_t last)
{
    silent_list *l = ctx;
    if (l->n >= MAX_SILENT)
        return 1;
    st_copy(l->id[l->n], sizeof l->id[0], device);
    l->last[l->n++] = last;
    return 0;
}

static int collect_alert_ids(void *ctx, const st_alert *a)
{
    silent_list *l = ctx;
    if (l->n >= MAX_SILENT)
        return 1;
    st_copy(l->id[l->n], sizeof l->id[0], a->device_id);
    l->last[l->n++] = a->id;
    return 0;
}

static int64_t last_activity(store *st, const char *device)
{
    st_device d;
    st_tdevice t;
    int64_t last = 0;
    if (ST(st, device_get, device, &d) == ST_OK) {
        last = d.last_seen;
        st_device_free(&d);
    }
    if (ST(st, tdevice_get, device, &t) == ST_OK && t.last_received > last)
        last = t.last_received;
    return last;
}

/*
 * The tick's time `now` moved on by the real time spent since real0: a scan
 * of many devices takes a while, and its list and clock must not go stale
 * while other threads and replicas serve the devices.
 */
static int64_t moved_on(int64_t now, int64_t real0)
{
    int64_t spent = srv_now_ms() - real0;
    return now + (spent > 0 ? spent : 0);
}

/*
 * Opens a silent alert unless the device spoke since the scan: its last
 * activity is read again inside the transaction, against the clock of that
 * moment.
 */
static void open_silent(srv *s, const char *device, int64_t limit, int64_t now)
{
    st_alert a;
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK)
        return;
    int64_t last = last_activity(s->st, device);
    int rc = now - last >= limit ? ST(s->st, alert_active, device, "silent", "", &a) : ST_CONFLICT;
    if (rc == ST_NOT_FOUND) {
        memset(&a, 0, sizeof a);
        st_copy(a.kind, sizeof a.kind, "silent");
        st_copy(a.device_id, sizeof a.device_id, device);
        st_copy(a.state, sizeof a.state, "open");
        a.value = (double)(now - last) / 1000.0;
        a.threshold = 0;
        snprintf(a.message, sizeof a.message, "no check-in and no report for %.0f s", a.value);
        a.opened_at = a.updated_at = now;
        rc = ST(s->st, alert_insert, &a);
    }
    if (rc == ST_OK || rc == ST_CONFLICT)
        ST0(s->st, commit);
    else
        ST0(s->st, rollback);
}

void tel_alerts_tick(srv *s, int64_t now)
{
    static int64_t last_run; /* scheduling only: a silent device is judged in seconds, not ms */
    if (now - last_run < SILENT_EVERY_MS && last_run <= now)
        return;
    last_run = now;
    tel_rules r;
    if (tel_rules_load(s->st, &r) != ST_OK || r.silent_s <= 0)
        return;
    int64_t limit = r.silent_s * 1000, real0 = srv_now_ms();
    silent_list l = {malloc(MAX_SILENT * sizeof *l.id), malloc(MAX_SILENT * sizeof *l.last), 0};
    if (l.id == NULL || l.last == NULL)
        goto out;
    if (ST(s->st, devices_silent, now - limit, collect_silent, &l) == ST_OK)
        for (size_t i = 0; i < l.n; i++)
            open_silent(s, l.id[i], limit, moved_on(now, real0));
    l.n = 0;
    st_alert_filter f = {"active", NULL, NULL, "silent", 0, MAX_SILENT, 0};
    if (ST(s->st, alert_list, &f, collect_alert_ids, &l) != ST_OK)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        st_alert a;
        if (ST(s->st, begin, ST_TX_WRITE) != ST_OK)
            break;
        int64_t at = moved_on(now, real0); /* judged now, inside the transaction */
        if (at - last_activity(s->st, l.id[i]) < limit &&
            ST(s->st, alert_get, l.last[i], &a) == ST_OK && strcmp(a.state, "resolved") != 0 &&
            tel_alert_resolve(s->st, &a, "auto", at) == ST_OK)
            ST0(s->st, commit);
        else
            ST0(s->st, rollback);
    }
out:
    free(l.id);
    free(l.last);
}
