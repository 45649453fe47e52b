/*
 * Alerts over HTTP (docs/protocol.md P-25): list with filters, show,
 * acknowledge, resolve; and the alert rules (thresholds) the engine uses.
 * State machine: open -> acknowledged -> resolved, open -> resolved; the
 * engine resolves an open or acknowledged alert by itself ("auto") when its
 * condition clears. Acknowledging an acknowledged alert and resolving a
 * resolved one are no-ops (200); acknowledging a resolved one is a conflict.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json_util.h"
#include "telemetry.h"

static json_t *alert_json(const st_alert *a)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:I,s:I,s:I,s:s,s:I,s:s}", "id",
        (json_int_t)a->id, "kind", a->kind, "device_id", a->device_id, "model", a->model, "version",
        a->version, "digest", a->digest, "state", a->state, "message", a->message, "value",
        a->value, "threshold", a->threshold, "opened_at", (json_int_t)a->opened_at, "updated_at",
        (json_int_t)a->updated_at, "acked_at", (json_int_t)a->acked_at, "acked_by", a->acked_by,
        "resolved_at", (json_int_t)a->resolved_at, "resolved_by", a->resolved_by);
    return o;
}

static int list_visit(void *ctx, const st_alert *a)
{
    json_array_append_new(ctx, alert_json(a));
    return 0;
}

HANDLER(h_alerts_list)
{
    st_alert_filter f;
    memset(&f, 0, sizeof f);
    f.state = http_query(q, "state");
    f.device = http_query(q, "device");
    f.group = http_query(q, "group");
    f.kind = http_query(q, "kind");
    static const char *const states[] = {"open", "acknowledged", "resolved", "active"};
    int ok = f.state == NULL;
    for (size_t i = 0; i < 4 && !ok; i++)
        ok = strcmp(f.state, states[i]) == 0;
    if (!ok) {
        resp_error(r, 400, "bad_request", "state must be open, acknowledged, resolved or active");
        return;
    }
    if (query_int(q, "since", 0, INT64_MAX / 2, 0, &f.since, r) < 0 ||
        query_int(q, "limit", 1, 1000, 100, &f.limit, r) < 0 ||
        query_int(q, "offset", 0, INT64_MAX / 2, 0, &f.offset, r) < 0)
        return;
    json_t *items = json_array();
    int64_t total = 0;
    if (ST(s->st, alert_count, &f, &total) != ST_OK ||
        ST(s->st, alert_list, &f, list_visit, items) != ST_OK) {
        json_decref(items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200,
              json_pack("{s:o,s:I,s:I,s:I}", "alerts", items, "total", (json_int_t)total, "limit",
                        (json_int_t)f.limit, "offset", (json_int_t)f.offset));
}

HANDLER(h_alert_show)
{
    int64_t id;
    st_alert a;
    if (param_id(q, 0, &id, r) != 0)
        return;
    int rc = ST(s->st, alert_get, id, &a);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no alert %lld", (long long)id);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        resp_json(r, 200, alert_json(&a));
}

static void transition(srv *s, http_req *q, http_resp *r, int resolve)
{
    int64_t id;
    if (param_id(q, 0, &id, r) != 0)
        return;
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK) {
        resp_store_error(r);
        return;
    }
    st_alert a;
    int64_t now = srv_now_ms();
    int rc = ST(s->st, alert_get, id, &a), status = 200;
    if (rc == ST_OK && resolve && strcmp(a.state, "resolved") != 0) {
        rc = tel_alert_resolve(s->st, &a, q->principal, now);
    } else if (rc == ST_OK && !resolve && strcmp(a.state, "open") == 0) {
        st_copy(a.state, sizeof a.state, "acknowledged");
        st_copy(a.acked_by, sizeof a.acked_by, q->principal);
        a.acked_at = a.updated_at = now;
        rc = ST(s->st, alert_update, &a);
    } else if (rc == ST_OK && !resolve && strcmp(a.state, "resolved") == 0) {
        status = 409;
    }
    if (rc == ST_OK && status == 200)
        rc = ST0(s->st, commit);
    if (rc != ST_OK || status != 200) {
        ST0(s->st, rollback);
        if (rc == ST_NOT_FOUND)
            resp_error(r, 404, "not_found", "no alert %lld", (long long)id);
        else if (status == 409)
            resp_error(r, 409, "conflict", "alert %lld is already resolved", (long long)id);
        else
            resp_store_error(r);
        return;
    }
    resp_json(r, 200, alert_json(&a));
}

HANDLER(h_alert_ack)
{
    transition(s, q, r, 0);
}

HANDLER(h_alert_resolve)
{
    transition(s, q, r, 1);
}

HANDLER(h_alert_rules_get)
{
    (void)q;
    tel_rules rules;
    if (tel_rules_load(s->st, &rules) != ST_OK) {
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, tel_rules_json(&rules));
}

HANDLER(h_alert_rules_put)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    tel_rules rules;
    char err[200];
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK || tel_rules_load(s->st, &rules) != ST_OK) {
        ST0(s->st, rollback);
        resp_store_error(r);
        json_decref(in);
        return;
    }
    if (tel_rules_from_json(in, &rules, err, sizeof err) != 0) {
        ST0(s->st, rollback);
        resp_error(r, 400, "bad_request", "%s", err);
        json_decref(in);
        return;
    }
    json_decref(in);
    json_t *out = tel_rules_json(&rules);
    char *text = json_to_text(out);
    if (text == NULL || ST(s->st, setting_set, "alert_rules", text, srv_now_ms()) != ST_OK ||
        ST0(s->st, commit) != ST_OK) {
        ST0(s->st, rollback);
        free(text);
        json_decref(out);
        resp_store_error(r);
        return;
    }
    free(text);
    resp_json(r, 200, out);
}
