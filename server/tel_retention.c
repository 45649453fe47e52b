/*
 * Keeping telemetry storage bounded (docs/server.md "Retention"): report
 * windows older than --telemetry-raw-hours are rolled up, per device, model
 * and hour, into one merged report (host_report_merge: counters and
 * histograms summed, so every aggregate stays exact), and everything older
 * than --telemetry-keep-days is deleted (the device's seq_floor keeps dedup
 * exact). Runs from the controller's tick, at most once a minute, one hour
 * of data per run, each hour in one transaction; the hour already done is
 * kept in the settings table so replicas and restarts continue where it
 * stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "telemetry.h"

#define HOUR_MS 3600000LL
#define RUN_EVERY_MS 60000LL
#define HOURS_PER_RUN 6
#define CUTOFF_KEY "telemetry_rollup_done"

typedef struct run {
    st_report key; /* identity columns of the run */
    host_report merged;
    int64_t *ids;
    size_t n, cap;
    int64_t at, lost, dropped_extra;
} run;

typedef struct rollup {
    run *runs;
    size_t n, cap;
    int oom;
} rollup;

static int same_key(const run *r, const st_report *row)
{
    return strcmp(r->key.device_id, row->device_id) == 0 &&
           strcmp(r->key.digest, row->digest) == 0 && r->key.bundle_id == row->bundle_id &&
           strcmp(r->key.model, row->model) == 0 && strcmp(r->key.version, row->version) == 0;
}

static int push_id(run *r, int64_t id)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        int64_t *p = realloc(r->ids, cap * sizeof *p);
        if (p == NULL)
            return -1;
        r->ids = p;
        r->cap = cap;
    }
    r->ids[r->n++] = id;
    return 0;
}

static int visit(void *ctx, const st_report *row)
{
    rollup *u = ctx;
    if (row->windows > 1 || row->data == NULL)
        return 0; /* already a roll-up */
    host_report rep;
    char err[120];
    if (host_report_decode(row->data, row->data_len, &rep, err, sizeof err) != 0) {
        host_report_free(&rep);
        return 0;
    }
    run *last = u->n > 0 ? &u->runs[u->n - 1] : NULL;
    if (last != NULL && same_key(last, row) &&
        host_report_merge(&last->merged, &rep, err, sizeof err) == 0) {
        host_report_free(&rep);
        if (push_id(last, row->id) != 0)
            goto oom;
        last->at = row->at > last->at ? row->at : last->at;
        last->lost = srv_counter_add(last->lost, row->lost_inferences);
        return 0;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        run *p = realloc(u->runs, cap * sizeof *p);
        if (p == NULL) {
            host_report_free(&rep);
            goto oom;
        }
        u->runs = p;
        u->cap = cap;
    }
    run *r = &u->runs[u->n++];
    memset(r, 0, sizeof *r);
    r->key = *row;
    r->key.data = NULL;
    r->merged = rep; /* takes the decoded arrays */
    r->at = row->at;
    r->lost = row->lost_inferences;
    if (push_id(r, row->id) != 0)
        goto oom;
    return 0;
oom:
    u->oom = 1;
    return 1;
}

/* Replaces a run's rows by one merged row (inside the transaction). */
static int replace(store *st, run *r, int64_t now)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[200];
    if (host_report_encode(&r->merged, &bytes, &len, err, sizeof err) != 0)
        return ST_OK; /* leave the windows as they are */
    st_report row;
    host_report check;
    memset(&row, 0, sizeof row);
    int rc = ST_OK;
    if (tel_row_from_report(bytes, len, &row, &check, err, sizeof err) == 0) {
        memcpy(row.device_id, r->key.device_id, sizeof row.device_id);
        memcpy(row.model, r->key.model, sizeof row.model);
        memcpy(row.version, r->key.version, sizeof row.version);
        row.bundle_id = r->key.bundle_id;
        row.at = r->at;
        row.received_at = now;
        row.lost_inferences = r->lost;
        for (size_t i = 0; i < r->n && rc == ST_OK; i++)
            rc = ST(st, report_delete, r->ids[i]);
        if (rc == ST_OK)
            rc = ST(st, report_insert, &row, 1);
    }
    host_report_free(&check);
    free(bytes);
    return rc;
}

static int rollup_hour(srv *s, int64_t h0, int64_t now)
{
    rollup u = {NULL, 0, 0, 0};
    st_report_filter f;
    memset(&f, 0, sizeof f);
    f.since = h0;
    f.until = h0 + HOUR_MS;
    f.with_data = 1;
    f.by_device = 1;
    int rc = ST(s->st, begin, ST_TX_WRITE);
    if (rc == ST_OK)
        rc = ST(s->st, report_scan, &f, visit, &u);
    if (rc == ST_OK && u.oom)
        rc = store_fail("out of memory");
    for (size_t i = 0; rc == ST_OK && i < u.n; i++)
        if (u.runs[i].n > 1)
            rc = replace(s->st, &u.runs[i], now);
    char done[32];
    snprintf(done, sizeof done, "%lld", (long long)(h0 + HOUR_MS));
    if (rc == ST_OK)
        rc = ST(s->st, setting_set, CUTOFF_KEY, done, now);
    if (rc == ST_OK)
        rc = ST0(s->st, commit);
    if (rc != ST_OK) {
        ST0(s->st, rollback);
        fprintf(stderr, "tinymlops server: telemetry roll-up: %s\n", store_error());
    }
    for (size_t i = 0; i < u.n; i++) {
        host_report_free(&u.runs[i].merged);
        free(u.runs[i].ids);
    }
    free(u.runs);
    return rc;
}

static int oldest(void *ctx, const st_report *r)
{
    *(int64_t *)ctx = r->at > 0 ? r->at : 1;
    return 1;
}

void tel_retention_tick(srv *s, int64_t now)
{
    static int64_t last_run; /* scheduling only: the progress itself is in the database */
    if (now - last_run < RUN_EVERY_MS && last_run <= now)
        return;
    last_run = now;
    int64_t removed = 0;
    if (s->cfg.telemetry_keep_days > 0) {
        int64_t before = now - s->cfg.telemetry_keep_days * 24 * HOUR_MS;
        if (ST(s->st, begin, ST_TX_WRITE) == ST_OK) {
            if (ST(s->st, report_prune, before, &removed) == ST_OK)
                ST0(s->st, commit);
            else
                ST0(s->st, rollback);
        }
    }
    if (s->cfg.telemetry_raw_hours <= 0)
        return;
    int64_t cutoff = now - s->cfg.telemetry_raw_hours * HOUR_MS;
    char *text = NULL;
    int64_t done = 0;
    if (ST(s->st, setting_get, CUTOFF_KEY, &text) == ST_OK)
        done = strtoll(text, NULL, 10);
    free(text);
    if (done == 0) { /* first run: start at the oldest stored report */
        st_report_filter f;
        memset(&f, 0, sizeof f);
        f.limit = 1;
        if (ST(s->st, report_scan, &f, oldest, &done) != ST_OK || done == 0)
            return;
    }
    if (s->cfg.telemetry_keep_days > 0 && done < now - s->cfg.telemetry_keep_days * 24 * HOUR_MS)
        done = now - s->cfg.telemetry_keep_days * 24 * HOUR_MS; /* older rows are pruned anyway */
    done = done / HOUR_MS * HOUR_MS;
    for (int i = 0; i < HOURS_PER_RUN && done + HOUR_MS <= cutoff; i++, done += HOUR_MS)
        if (rollup_hour(s, done, now) != ST_OK)
            break;
}
