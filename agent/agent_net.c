/*
 * The agent's side of the device API (docs/protocol.md): signed requests
 * with clock-offset correction from X-TMO-Server-Time (P-4, P-12),
 * enrollment signed by the key it enrolls (P-8), and check-ins that carry
 * the device's slots, health and pending reports and bring back `desired`
 * (P-13, P-14). Test-only faults (agent.h) bend the signing on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_priv.h"
#include "devauth.h"

#define CHECKIN_PATH "/api/v1/device/checkin"

static uint64_t device_clock_ms(const agent *a)
{
    return hc_now_ms() + (uint64_t)a->cfg.clock_skew_ms;
}

const char *net_error_code(const hc_response *r, char *buf, size_t len)
{
    buf[0] = '\0';
    json_t *v = r->body_len > 0 ? json_loadb((const char *)r->body, r->body_len, 0, NULL) : NULL;
    const char *c = json_string_value(json_object_get(json_object_get(v, "error"), "code"));
    snprintf(buf, len, "%s", c != NULL ? c : "");
    json_decref(v);
    return buf;
}

/* P-4: the server's clock is the reference; the midpoint of the exchange estimates its "now". */
static void correct_clock(agent *a, const hc_response *r, uint64_t t0, uint64_t t1)
{
    if (r->server_time_ms <= 0)
        return;
    int64_t mid = (int64_t)((t0 + t1) / 2);
    int64_t offset = r->server_time_ms - mid;
    if (llabs(offset - a->clock_offset_ms) > 1000)
        agent_log(a, "clock offset to the server is now %lld ms", (long long)offset);
    a->clock_offset_ms = offset;
}

/* The four authentication header lines of one request: session MAC or signature. 0 on success. */
static int auth_headers(agent *a, const char *method, const char *path, const char *body,
                        size_t len, char hdr[4][160])
{
    const char *authed_path =
        a->cfg.fault == AGENT_FAULT_FORGE_SIGNATURE ? "/api/v1/device/forged" : path;
    int mode = session_ready(a);
    if (mode < 0)
        return -1;
    if (mode == 0)
        return devsession_headers(&a->session, a->device_id, method, authed_path, body, len, hdr);
    hc_signed sig;
    uint64_t ts = device_clock_ms(a) + (uint64_t)a->clock_offset_ms;
    psa_key_id_t key = key_acquire(a);
    int ok =
        key != 0 && hc_sign(key, a->device_id, method, authed_path, body, len, ts, NULL, &sig) == 0;
    key_release(a, key);
    if (!ok)
        return -1;
    snprintf(hdr[0], 160, "%s", sig.device);
    snprintf(hdr[1], 160, "%s", sig.timestamp);
    snprintf(hdr[2], 160, "%s", sig.nonce);
    snprintf(hdr[3], 160, "%s", sig.signature);
    return 0;
}

int net_request(agent *a, const char *method, const char *path, const char *body,
                const char *const *extra, hc_response *resp)
{
    size_t len = body != NULL ? strlen(body) : 0;
    char auth[4][160];
    int replay = a->cfg.fault == AGENT_FAULT_REPLAY && strcmp(path, CHECKIN_PATH) == 0;
    if (replay && a->replay_body != NULL) {
        memcpy(auth, a->replay, sizeof auth); /* the very same request again: refused (P-12) */
        body = a->replay_body;
        len = strlen(body);
    } else {
        if (auth_headers(a, method, path, body, len, auth) != 0) {
            agent_error(a, "cannot authenticate a request");
            return -1;
        }
        if (replay) {
            memcpy(a->replay, auth, sizeof auth);
            a->replay_body = strdup(body != NULL ? body : "");
        }
    }
    const char *headers[16] = {auth[0], auth[1], auth[2], auth[3]};
    size_t n = 4;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        headers[n++] = extra[i];
    headers[n] = NULL;
    char err[512];
    if (net_hook_blocks(a, method, path)) {
        agent_error(a, "server unreachable: network down (simulated)");
        return -1;
    }
    uint64_t t0 = device_clock_ms(a);
    int rc = hc_request(a->hc, method, path, body != NULL ? "application/json" : NULL, body, len,
                        headers, resp, err, sizeof err);
    net_hook_after(a, method, path, rc == 0 ? resp : NULL);
    if (rc != 0) {
        agent_error(a, "server unreachable: %s", err);
        return -1;
    }
    correct_clock(a, resp, t0, device_clock_ms(a));
    char code[64];
    if (resp->status == 401 && a->session.id[0] != '\0' &&
        (strcmp(net_error_code(resp, code, sizeof code), "unknown_session") == 0 ||
         strcmp(code, "session_expired") == 0))
        session_drop(a); /* ended by the server, or expired: the next request opens another */
    return 0;
}

static int enroll_fatal(const char *code)
{
    return strcmp(code, "enrollment_token_invalid") == 0 ||
           strcmp(code, "enrollment_token_expired") == 0 || strcmp(code, "bad_request") == 0 ||
           strcmp(code, "bad_signature") == 0;
}

int net_enroll(agent *a)
{
    const char *token = a->cfg.enroll_token;
    if (token == NULL || token[0] == '\0') {
        agent_error(a, "not enrolled and no --enroll-token given");
        return AGENT_FATAL;
    }
    char pub_b64[128], code[64];
    devauth_b64_encode(a->pub, sizeof a->pub, pub_b64, sizeof pub_b64);
    /* Signed like every request (P-8): the signature covers the token, both keys and the profile. */
    json_t *body = json_pack("{s:s,s:s,s:O,s:o}", "token", token, "public_key", pub_b64, "profile",
                             a->profile, "enc_public_key", enc_key_b64(a));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    hc_response r;
    int rc = text != NULL ? net_request(a, "POST", "/api/v1/device/enroll", text, NULL, &r) : -1;
    free(text);
    if (rc != 0)
        return -1;
    int out = -1;
    if (r.status == 200 || r.status == 201) {
        json_t *v = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(v, "device_id"));
        if (id != NULL && strcmp(id, a->device_id) == 0) {
            a->enrolled = 1;
            int64_t interval = json_integer_value(json_object_get(v, "checkin_interval_s"));
            if (interval > 0 && a->cfg.checkin_interval_s <= 0)
                a->interval_s = (int)interval;
            out = state_save(a) == 0 ? 0 : -1;
            agent_log(a, "enrolled as %s", a->device_id);
        } else {
            agent_error(a, "enrollment: the server answered with another device id");
        }
        json_decref(v);
    } else {
        net_error_code(&r, code, sizeof code);
        snprintf(a->last_refusal, sizeof a->last_refusal, "%s", code);
        agent_error(a, "enrollment refused: HTTP %ld %s", r.status, code);
        out = enroll_fatal(code) ? AGENT_FATAL : -1;
    }
    hc_response_free(&r);
    return out;
}

static json_t *checkin_body(agent *a, int64_t *max_seq)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    uint64_t nv = 0;
    a->counter.port.read(a->counter.port.ctx, &nv);
    char rt[32];
    snprintf(rt, sizeof rt, "%d.%d.%d", TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
             TMO_RUNTIME_VERSION_PATCH);
    pthread_mutex_lock(&a->run.lock);
    json_t *health = json_pack("{s:I,s:I,s:I}", "inferences", (json_int_t)a->run.inferences,
                               "errors", (json_int_t)a->run.errors, "uptime_s",
                               (json_int_t)((agent_now_ms(a) - a->started_ms) / 1000));
    pthread_mutex_unlock(&a->run.lock);
    json_t *b =
        json_pack("{s:o,s:I,s:s,s:o,s:o}", "slots", status_slots(a), "nv_counter", (json_int_t)nv,
                  "runtime_version", rt, "health", health, "reports", reports_pending(a, max_seq));
    if (st->active != TMO_UPDATE_NO_SLOT)
        json_object_set_new(b, "active_slot", json_string(status_slot_name(st->active)));
    if (!a->profile_sent) {
        json_object_set(b, "profile", a->profile);
        json_object_set_new(b, "enc_public_key", enc_key_b64(a)); /* signed: authoritative (P-27) */
    }
    return b;
}

/* One check-in exchange; 1 = retry at once (clock corrected), 0 = done, -1 = failed. */
static int checkin_once(agent *a)
{
    int64_t max_seq = 0;
    json_t *body = checkin_body(a, &max_seq);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    hc_response r;
    int rc = net_request(a, "POST", CHECKIN_PATH, text, NULL, &r);
    free(text);
    if (rc != 0)
        return -1;
    char code[64];
    int out = -1;
    if (r.status == 200) {
        json_t *v = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        reports_ack(a, max_seq);
        a->profile_sent = 1;
        a->last_refusal[0] = '\0';
        int64_t interval = json_integer_value(json_object_get(v, "checkin_interval_s"));
        if (interval > 0 && a->cfg.checkin_interval_s <= 0)
            a->interval_s = (int)interval;
        update_desired(a, json_object_get(v, "desired"));
        json_decref(v);
        out = 0;
    } else {
        net_error_code(&r, code, sizeof code);
        snprintf(a->last_refusal, sizeof a->last_refusal, "%s", code);
        agent_error(a, "check-in refused: HTTP %ld %s", r.status, code);
        if (strcmp(code, "stale_request") == 0)
            out = 1; /* correct_clock() has fixed the offset from the refusal itself */
        else if (strcmp(code, "unknown_session") == 0 || strcmp(code, "session_expired") == 0)
            out = 1; /* net_request dropped the session: open another and retry */
        else if (r.status == 400 && max_seq > 0) {
            /* A body the server will never take must not block every later check-in. */
            agent_error(a, "the server refused the check-in body: dropping the pending reports");
            reports_ack(a, max_seq);
        } else if (strcmp(code, "unknown_device") == 0) {
            a->enrolled = 0; /* the server forgot us: enroll again (needs a token) */
            state_save(a);
        }
    }
    hc_response_free(&r);
    return out;
}

int net_checkin(agent *a)
{
    int rc = checkin_once(a);
    if (rc == 1)
        rc = checkin_once(a);
    if (rc == 0) {
        a->checkins_ok++;
    } else {
        a->checkins_failed++;
    }
    return rc == 0 ? 0 : -1;
}
