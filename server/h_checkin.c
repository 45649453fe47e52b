/*
 * POST /api/v1/device/checkin (docs/protocol.md P-13, P-14): records what
 * the device runs, applies its deployment reports idempotently, lets the
 * controller react to them, and answers what the device should run — all
 * in one transaction, so a report is never half applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "deploy_ctl.h"
#include "enc_key.h"
#include "handlers.h"
#include "json_util.h"
#include "profile.h"

#define MAX_SLOTS 4
#define MAX_REPORTS 64

typedef struct checkin {
    json_t *status;  /* normalized state without reports (stored) */
    json_t *reports; /* validated array */
    char *profile_text;
    const char *active_digest, *active_state;
    int64_t nv_counter;
    uint8_t enc[ST_PUBKEY_LEN]; /* device encryption key (P-27), when has_enc */
    int has_enc;
    int64_t touched[MAX_REPORTS + 1]; /* deployments whose assignments changed */
    size_t touched_n;
} checkin;

static int bad(http_resp *r, const char *what)
{
    resp_error(r, 400, "bad_request", "%s", what);
    return -1;
}

static int str_field(json_t *o, const char *key, size_t max, int required)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return !required;
    return json_is_string(v) && json_string_length(v) <= max &&
           strlen(json_string_value(v)) == json_string_length(v);
}

static int parse_slots(json_t *in, checkin *c, http_resp *r)
{
    json_t *slots = json_object_get(in, "slots"), *out = json_array();
    const char *active = json_string_value(json_object_get(in, "active_slot"));
    json_object_set_new(c->status, "slots", out);
    if (slots == NULL)
        return 0;
    if (!json_is_array(slots) || json_array_size(slots) > MAX_SLOTS)
        return bad(r, "slots must be an array of at most 4 objects");
    for (size_t i = 0; i < json_array_size(slots); i++) {
        json_t *sl = json_array_get(slots, i);
        json_t *counter = json_object_get(sl, "counter");
        if (!json_is_object(sl) || !str_field(sl, "slot", 8, 1) || !str_field(sl, "state", 16, 1) ||
            !str_field(sl, "model", ST_NAME_LEN, 0) ||
            !str_field(sl, "version", ST_VERSION_LEN, 0) ||
            !str_field(sl, "bundle_digest", ST_DIGEST_LEN, 0) ||
            (counter != NULL && !json_is_integer(counter)))
            return bad(
                r, "slots[]: slot and state are required strings; model, version, bundle_digest "
                   "optional strings; counter an integer");
        json_t *n = json_pack("{s:O,s:O}", "slot", json_object_get(sl, "slot"), "state",
                              json_object_get(sl, "state"));
        const char *keys[] = {"model", "version", "bundle_digest", "counter"};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(sl, keys[k]) != NULL)
                json_object_set(n, keys[k], json_object_get(sl, keys[k]));
        json_array_append_new(out, n);
        if (active != NULL && strcmp(json_string_value(json_object_get(sl, "slot")), active) == 0) {
            c->active_digest = json_string_value(json_object_get(sl, "bundle_digest"));
            c->active_state = json_string_value(json_object_get(sl, "state"));
        }
    }
    return 0;
}

static int parse_reports(json_t *in, checkin *c, http_resp *r)
{
    json_t *reports = json_object_get(in, "reports");
    c->reports = json_array();
    if (reports == NULL)
        return 0;
    if (!json_is_array(reports) || json_array_size(reports) > MAX_REPORTS)
        return bad(r, "reports must be an array of at most 64 objects");
    for (size_t i = 0; i < json_array_size(reports); i++) {
        json_t *rep = json_array_get(reports, i), *dep = json_object_get(rep, "deployment_id");
        const char *state = json_string_value(json_object_get(rep, "state"));
        if (!json_is_object(rep) || !json_is_integer(dep) || json_integer_value(dep) < 1 ||
            state == NULL || !dstate_reportable(state) ||
            !str_field(rep, "reason", ST_REASON_LEN, 0))
            return bad(r, "reports[]: deployment_id (integer), state (downloading, "
                          "installed-trial, confirmed, "
                          "failed or rolled-back) and an optional reason are required");
        json_array_append(c->reports, rep);
    }
    return 0;
}

static int parse(json_t *in, checkin *c, http_resp *r)
{
    json_t *nv = json_object_get(in, "nv_counter"), *health = json_object_get(in, "health");
    if (!str_field(in, "active_slot", 8, 0) || !str_field(in, "runtime_version", ST_VERSION_LEN, 0))
        return bad(r, "active_slot and runtime_version must be short strings");
    if (nv != NULL && (!json_is_integer(nv) || json_integer_value(nv) < 0))
        return bad(r, "nv_counter must be a non-negative integer");
    c->nv_counter = nv != NULL ? json_integer_value(nv) : 0;
    c->status = json_object();
    const char *keep[] = {"active_slot", "runtime_version", "nv_counter"};
    for (size_t k = 0; k < 3; k++)
        if (json_object_get(in, keep[k]) != NULL)
            json_object_set(c->status, keep[k], json_object_get(in, keep[k]));
    if (health != NULL) {
        if (!json_is_object(health) || json_object_size(health) > 16)
            return bad(r, "health must be an object of at most 16 numbers");
        const char *key;
        json_t *v;
        json_object_foreach(health, key, v)
        {
            if (!json_is_number(v) || strlen(key) > 32)
                return bad(r, "health must be an object of at most 16 numbers");
        }
        json_object_set(c->status, "health", health);
    }
    if (parse_slots(in, c, r) != 0 || parse_reports(in, c, r) != 0)
        return -1;
    char enc_err[120];
    c->has_enc =
        enc_key_parse(json_object_get(in, "enc_public_key"), c->enc, enc_err, sizeof enc_err);
    if (c->has_enc < 0)
        return bad(r, enc_err);
    json_t *profile = json_object_get(in, "profile");
    if (profile != NULL && !json_is_null(profile)) {
        char err[200];
        json_t *p = profile_normalize(profile, err, sizeof err);
        if (p == NULL)
            return bad(r, err);
        c->profile_text = json_to_text(p);
        json_decref(p);
    }
    return 0;
}

static void touch(checkin *c, int64_t dep)
{
    for (size_t i = 0; i < c->touched_n; i++)
        if (c->touched[i] == dep)
            return;
    if (c->touched_n < MAX_REPORTS + 1)
        c->touched[c->touched_n++] = dep;
}

/* The check-in transaction. Returns the response's desired object (json null when none), NULL on error. */
static json_t *apply(srv *s, const char *device, checkin *c)
{
    int64_t now = srv_now_ms();
    char *status = json_to_text(c->status);
    st_checkin ck = {now, status, c->active_digest != NULL ? c->active_digest : "", c->nv_counter,
                     c->profile_text};
    int rc = status != NULL ? ST(s->st, device_checkin, device, &ck) : store_fail("out of memory");
    free(status);
    if (rc == ST_OK && c->has_enc)
        rc = ST(s->st, device_enc_key_set, device, c->enc, now);
    for (size_t i = 0; rc == ST_OK && i < json_array_size(c->reports); i++) {
        json_t *rep = json_array_get(c->reports, i);
        int64_t dep = json_integer_value(json_object_get(rep, "deployment_id"));
        int changed = deploy_apply_report(s->st, device, dep,
                                          json_string_value(json_object_get(rep, "state")),
                                          json_string_value(json_object_get(rep, "reason")), now);
        if (changed < 0)
            rc = ST_ERROR;
        else if (changed)
            touch(c, dep);
    }
    st_assignment a;
    int found = rc == ST_OK ? deploy_desired(s->st, device, &a) : ST_ERROR;
    if (found == ST_ERROR)
        return NULL;
    json_t *desired = json_null();
    if (found == ST_OK) {
        st_bundle b;
        if (ST(s->st, bundle_get, a.bundle_id, &b) != ST_OK)
            return NULL;
        /* What the device runs is a report too: its active slot holding the bundle moves the state. */
        if (!dstate_terminal(a.state) && c->active_digest != NULL &&
            strcmp(c->active_digest, b.digest) == 0 && c->active_state != NULL) {
            const char *derived = strcmp(c->active_state, "active") == 0  ? DS_CONFIRMED
                                  : strcmp(c->active_state, "trial") == 0 ? DS_TRIAL
                                                                          : NULL;
            int changed = derived != NULL ? deploy_apply_report(s->st, device, a.deployment_id,
                                                                derived, "", now)
                                          : 0;
            if (changed < 0) {
                st_bundle_free(&b);
                return NULL;
            }
            if (changed)
                touch(c, a.deployment_id);
        }
        char url[64];
        snprintf(url, sizeof url, "/api/v1/device/bundles/%lld", (long long)b.id);
        desired =
            json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s}", "deployment_id", (json_int_t)a.deployment_id,
                      "bundle_id", (json_int_t)b.id, "model", b.model, "version", b.version,
                      "digest", b.digest, "size", (json_int_t)b.size, "url", url);
        st_bundle_free(&b);
    }
    for (size_t i = 0; i < c->touched_n; i++)
        if (deploy_advance(s->st, c->touched[i], now) != ST_OK) {
            json_decref(desired);
            return NULL;
        }
    return desired;
}

HANDLER(h_device_checkin)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    checkin c;
    memset(&c, 0, sizeof c);
    if (parse(in, &c, r) != 0)
        goto out;
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK) {
        resp_store_error(r);
        goto out;
    }
    if (auth_guard_record(s, q, r) != 0) { /* the nonce or counter commits with the check-in */
        ST0(s->st, rollback);
        goto out;
    }
    json_t *desired = apply(s, q->principal, &c);
    if (desired == NULL || ST0(s->st, commit) != ST_OK) {
        ST0(s->st, rollback);
        json_decref(desired);
        resp_store_error(r);
        goto out;
    }
    resp_json(r, 200,
              json_pack("{s:I,s:I,s:o}", "server_time", (json_int_t)srv_now_ms(),
                        "checkin_interval_s", (json_int_t)s->cfg.checkin_interval_s, "desired",
                        desired));
out:
    json_decref(c.status);
    json_decref(c.reports);
    free(c.profile_text);
    json_decref(in);
}
