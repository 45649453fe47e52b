/*
 * Telemetry over HTTP (docs/protocol.md P-21..P-24):
 *   POST /api/v1/device/telemetry   a device uploads a batch of monitoring
 *        reports; each is stored once per (device, sequence), so a batch
 *        re-sent after a lost response is acknowledged again without being
 *        counted twice; the alert rules run on what was stored;
 *   GET  /api/v1/telemetry          aggregated time series (tel_agg.c);
 *   GET  /api/v1/telemetry/reports  one device's stored reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "devauth.h"
#include "handlers.h"
#include "json_util.h"
#include "telemetry.h"

#define MAX_BATCH 64
#define MAX_REPORT_BYTES (128 * 1024)
#define MAX_AGE_MS (90LL * 86400 * 1000)

typedef struct upload {
    json_t *in;
    json_t *results;
    size_t stored, duplicates, rejected;
} upload;

static void result(upload *u, json_int_t seq, const char *status, const char *reason)
{
    json_t *o = json_pack("{s:I,s:s}", "seq", seq, "status", status);
    if (reason != NULL)
        json_object_set_new(o, "reason", json_string(reason));
    json_array_append_new(u->results, o);
    if (strcmp(status, "stored") == 0)
        u->stored++;
    else if (strcmp(status, "duplicate") == 0)
        u->duplicates++;
    else
        u->rejected++;
}

static int short_str(json_t *o, const char *key, size_t max, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 1;
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return 0;
    *out = json_string_value(v);
    return 1;
}

/* The model identity of a report: the registry's for a known bundle, else what the device says. */
static void identify(store *st, tel_profiles *profiles, const host_report *rep,
                     const char *bundle_digest, const char *model, const char *version,
                     st_report *row, double *acc_ref)
{
    st_copy(row->model, sizeof row->model, model != NULL ? model : "");
    st_copy(row->version, sizeof row->version, version != NULL ? version : "");
    *acc_ref = -1;
    st_bundle b;
    if (bundle_digest == NULL || ST(st, bundle_by_digest, bundle_digest, &b) != ST_OK)
        return;
    const tmo_profile *p = tel_profiles_get(profiles, st, b.id);
    /* A report names its model by the first 8 bytes of the .tflite digest: it must agree. */
    if (p == NULL || memcmp(p->model_digest, rep->digest, sizeof rep->digest) == 0) {
        row->bundle_id = b.id;
        st_copy(row->model, sizeof row->model, b.model);
        st_copy(row->version, sizeof row->version, b.version);
        *acc_ref = tel_profile_acc_ref(p);
    }
    st_bundle_free(&b);
}

/* One entry of the batch, inside the transaction. ST_OK (result recorded) or ST_ERROR. */
static int one(srv *s, const char *device, json_t *e, tel_profiles *profiles,
               const tel_rules *rules, upload *u, int64_t now)
{
    json_t *seqv = json_object_get(e, "seq"), *atv = json_object_get(e, "at");
    json_t *lostv = json_object_get(e, "lost_inferences");
    json_int_t seq = json_integer_value(seqv);
    const char *data, *digest, *model, *version;
    if (!json_is_object(e) || !json_is_integer(seqv) || seq < 0 ||
        !short_str(e, "data", MAX_REPORT_BYTES * 4 / 3 + 4, &data) || data == NULL ||
        !short_str(e, "bundle_digest", ST_DIGEST_LEN, &digest) ||
        !short_str(e, "model", ST_NAME_LEN, &model) ||
        !short_str(e, "version", ST_VERSION_LEN, &version) ||
        (atv != NULL && !json_is_integer(atv)) ||
        (lostv != NULL && (!json_is_integer(lostv) || json_integer_value(lostv) < 0 ||
                           json_integer_value(lostv) > SRV_COUNTER_INPUT_MAX))) {
        result(u, seq, "rejected",
               "needs seq (integer >= 0) and data (base64 report); optional at, bundle_digest, "
               "model, version, lost_inferences (0..2^40)");
        return ST_OK;
    }
    size_t cap = strlen(data) / 4 * 3 + 3;
    uint8_t *bytes = malloc(cap);
    if (bytes == NULL)
        return store_fail("out of memory");
    int len = devauth_b64_decode(data, bytes, cap);
    st_report row;
    memset(&row, 0, sizeof row);
    host_report rep;
    memset(&rep, 0, sizeof rep); /* freed below even when data is not base64 */
    char err[300];
    if (len <= 0 || tel_row_from_report(bytes, (size_t)len, &row, &rep, err, sizeof err) != 0) {
        result(u, seq, "rejected", len <= 0 ? "data is not base64" : err);
        host_report_free(&rep);
        free(bytes);
        return ST_OK;
    }
    if (row.seq_first != seq) {
        snprintf(err, sizeof err, "seq %lld differs from the report's own %lld", (long long)seq,
                 (long long)row.seq_first);
        result(u, seq, "rejected", err);
        host_report_free(&rep);
        free(bytes);
        return ST_OK;
    }
    st_copy(row.device_id, sizeof row.device_id, device);
    int64_t at = atv != NULL ? (int64_t)json_integer_value(atv) : now;
    row.at = at > now ? now : at < now - MAX_AGE_MS ? now - MAX_AGE_MS : at;
    row.received_at = now;
    row.lost_inferences = lostv != NULL ? (int64_t)json_integer_value(lostv) : 0;
    double acc_ref;
    identify(s->st, profiles, &rep, digest, model, version, &row, &acc_ref);
    host_report_free(&rep);
    int rc = ST(s->st, report_insert, &row, 0);
    if (rc == ST_OK) {
        result(u, seq, "stored", NULL);
        rc = tel_alerts_after_report(s->st, rules, &row, acc_ref, now);
    } else if (rc == ST_CONFLICT) {
        result(u, seq, "duplicate", NULL);
        rc = ST_OK;
    }
    free(bytes);
    return rc;
}

HANDLER(h_device_telemetry)
{
    upload u = {req_object(q, r), json_array(), 0, 0, 0};
    if (u.in == NULL)
        goto out;
    json_t *reports = json_object_get(u.in, "reports");
    if (!json_is_array(reports) || json_array_size(reports) > MAX_BATCH) {
        resp_error(r, 400, "bad_request", "reports must be an array of at most %d objects",
                   MAX_BATCH);
        goto out;
    }
    tel_rules rules;
    tel_profiles profiles = {.n = 0};
    int64_t now = srv_now_ms();
    int rc = ST(s->st, begin, ST_TX_WRITE);
    if (rc == ST_OK && auth_guard_record(s, q, r) != 0) { /* commits with the reports */
        ST0(s->st, rollback);
        goto out;
    }
    if (rc == ST_OK)
        rc = tel_rules_load(s->st, &rules);
    for (size_t i = 0; rc == ST_OK && i < json_array_size(reports); i++)
        rc = one(s, q->principal, json_array_get(reports, i), &profiles, &rules, &u, now);
    tel_profiles_free(&profiles);
    if (rc != ST_OK || ST0(s->st, commit) != ST_OK) {
        ST0(s->st, rollback);
        resp_store_error(r);
        goto out;
    }
    resp_json(r, 200,
              json_pack("{s:O,s:I,s:I,s:I,s:I}", "results", u.results, "stored",
                        (json_int_t)u.stored, "duplicates", (json_int_t)u.duplicates, "rejected",
                        (json_int_t)u.rejected, "server_time", (json_int_t)now));
out:
    json_decref(u.results);
    json_decref(u.in);
}

/* ---- queries ---- */

/* since/until/step: Unix ms, or a duration before now ("90s", "15m", "6h", "7d"). */
static int time_arg(const http_req *q, const char *name, int64_t now, int64_t def, int64_t *out,
                    http_resp *r)
{
    const char *t = http_query(q, name);
    *out = def;
    if (t == NULL || *t == '\0')
        return 0;
    char *end;
    long long v = strtoll(t, &end, 10);
    int64_t unit = 0;
    if (end != t && *end == '\0')
        unit = 1;
    else if (end != t && end[1] == '\0')
        unit = *end == 's'   ? 1000
               : *end == 'm' ? 60000
               : *end == 'h' ? 3600000
               : *end == 'd' ? 86400000
                             : 0;
    if (unit == 0 || v < 0 || (unit > 1 && v > (long long)(INT64_MAX / unit / 2))) {
        resp_error(r, 400, "bad_request",
                   "%s must be Unix milliseconds or a duration like 30s, 15m, 6h, 7d", name);
        return -1;
    }
    *out =
        unit == 1 ? (int64_t)v : (strcmp(name, "step") == 0 ? (int64_t)v * unit : now - v * unit);
    return 0;
}

static int parse_filter(const http_req *q, st_report_filter *f, http_resp *r)
{
    memset(f, 0, sizeof f[0]);
    f->device = http_query(q, "device");
    f->group = http_query(q, "group");
    f->model = http_query(q, "model");
    f->version = http_query(q, "version");
    return query_int(q, "deployment", 1, INT64_MAX / 2, 0, &f->deployment, r) < 0 ? -1 : 0;
}

HANDLER(h_telemetry_query)
{
    tel_query tq;
    int64_t now = srv_now_ms();
    if (parse_filter(q, &tq.f, r) != 0 ||
        time_arg(q, "since", now, now - 3600000, &tq.f.since, r) != 0 ||
        time_arg(q, "until", now, 0, &tq.f.until, r) != 0 ||
        time_arg(q, "step", now, 0, &tq.step_ms, r) != 0)
        return;
    if (tq.f.until == 0)
        tq.f.until = now + 1;
    if (tq.f.until <= tq.f.since) {
        resp_error(r, 400, "bad_request", "until must be after since");
        return;
    }
    if (tq.step_ms <= 0) { /* about 60 points, in whole seconds */
        tq.step_ms = ((tq.f.until - tq.f.since) / 60 + 999) / 1000 * 1000;
        if (tq.step_ms < 1000)
            tq.step_ms = 1000;
    }
    tq.group_by = http_query(q, "group_by");
    if (tq.group_by == NULL)
        tq.group_by = "version";
    static const char *const groupings[] = {"version", "device", "wave", "group", "none"};
    int known = 0;
    for (size_t i = 0; i < sizeof groupings / sizeof groupings[0]; i++)
        known |= strcmp(tq.group_by, groupings[i]) == 0;
    if (!known || (strcmp(tq.group_by, "wave") == 0 && tq.f.deployment == 0)) {
        resp_error(r, 400, "bad_request",
                   "group_by must be version, device, wave (with deployment), group or none");
        return;
    }
    tq.f.with_data = 1;
    char err[300];
    json_t *out = tel_aggregate(s->st, &tq, err, sizeof err);
    if (out == NULL) {
        resp_error(r, strncmp(err, "storage", 7) == 0 ? 500 : 400,
                   strncmp(err, "storage", 7) == 0 ? "internal" : "bad_request", "%s", err);
        return;
    }
    resp_json(r, 200, out);
}

typedef struct rows_ctx {
    json_t *items;
    int full;
} rows_ctx;

static int row_visit(void *ctx, const st_report *x)
{
    rows_ctx *c = ctx;
    json_t *o = json_pack(
        "{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I}", "id",
        (json_int_t)x->id, "device_id", x->device_id, "seq_first", (json_int_t)x->seq_first,
        "seq_last", (json_int_t)x->seq_last, "at", (json_int_t)x->at, "received_at",
        (json_int_t)x->received_at, "bundle_id", (json_int_t)x->bundle_id, "model", x->model,
        "version", x->version, "digest", x->digest, "windows", (json_int_t)x->windows, "inferences",
        (json_int_t)x->inferences, "errors", (json_int_t)x->errors, "events", (json_int_t)x->events,
        "dropped", (json_int_t)x->dropped, "lost_inferences", (json_int_t)x->lost_inferences,
        "drift", x->drift, "latency_p95_us", (json_int_t)x->p95_us);
    json_object_set_new(o, "acc_est", x->acc_est >= 0 ? json_real(x->acc_est) : json_null());
    if (c->full && x->data != NULL) {
        host_report rep;
        char err[200];
        if (host_report_decode(x->data, x->data_len, &rep, err, sizeof err) == 0) {
            char *text = host_report_json(&rep);
            json_t *full = text != NULL ? json_loads(text, 0, NULL) : NULL;
            free(text);
            if (full != NULL)
                json_object_set_new(o, "report", full);
        }
        host_report_free(&rep);
    }
    json_array_append_new(c->items, o);
    return 0;
}

HANDLER(h_telemetry_reports)
{
    st_report_filter f;
    int64_t now = srv_now_ms(), limit, full;
    if (parse_filter(q, &f, r) != 0 || time_arg(q, "since", now, 0, &f.since, r) != 0 ||
        time_arg(q, "until", now, 0, &f.until, r) != 0 ||
        query_int(q, "limit", 1, 1000, 100, &limit, r) < 0 ||
        query_int(q, "full", 0, 1, 0, &full, r) < 0)
        return;
    if (f.device == NULL || !srv_name_valid(f.device)) { /* a device id, echoed in the answer */
        resp_error(r, 400, "bad_request", "device is required (a device id)");
        return;
    }
    st_tdevice t;
    int rc = ST(s->st, tdevice_get, f.device, &t);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return;
    }
    if (rc == ST_NOT_FOUND)
        memset(&t, 0, sizeof t);
    f.newest_first = 1;
    f.limit = limit;
    f.with_data = (int)full;
    rows_ctx c = {json_array(), (int)full};
    if (ST(s->st, report_scan, &f, row_visit, &c) != ST_OK) {
        json_decref(c.items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200,
              json_pack("{s:s,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "device_id", f.device,
                        "reports", c.items, "totals", "reports", (json_int_t)t.reports,
                        "duplicates", (json_int_t)t.duplicates, "inferences",
                        (json_int_t)t.inferences, "dropped", (json_int_t)t.dropped,
                        "lost_inferences", (json_int_t)t.lost_inferences, "last_at",
                        (json_int_t)t.last_at, "seq_floor", (json_int_t)t.seq_floor));
}
