/*
 * Admin tokens and device signatures (see auth.h). The signature check is
 * devauth's (host/devauth.c), the same code the agent signs with.
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devauth.h"
#include "devsession.h"
#include "session_cache.h"
#include "json_util.h"

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

auth_role auth_role_parse(const char *name)
{
    for (int i = ROLE_VIEWER; i <= ROLE_ADMIN; i++)
        if (name != NULL && strcmp(name, role_names[i]) == 0)
            return (auth_role)i;
    return ROLE_NONE;
}

const char *auth_role_name(auth_role role)
{
    return role >= ROLE_NONE && role <= ROLE_ADMIN ? role_names[role] : "none";
}

int auth_admin(srv *s, http_req *q, http_resp *r, auth_role need)
{
    const char *h = http_header(q, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
        resp_error(r, 401, "unauthorized", "missing 'Authorization: Bearer <token>'");
        http_resp_header(r, "WWW-Authenticate", "Bearer");
        return -1;
    }
    char hash[65];
    st_token t;
    if (strlen(h + 7) > 200 || srv_token_hash(h + 7, hash) != 0) {
        resp_error(r, 401, "unauthorized", "invalid token");
        return -1;
    }
    int rc = ST(s->st, token_find, hash, &t);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc != ST_OK || t.revoked) {
        resp_error(r, 401, "unauthorized", "invalid or revoked token");
        return -1;
    }
    auth_role have = auth_role_parse(t.role);
    q->role = have;
    st_copy(q->principal, sizeof q->principal, t.name);
    if (have < need) {
        resp_error(r, 403, "forbidden", "this needs role %s; token '%s' has role %s",
                   auth_role_name(need), t.name, auth_role_name(have));
        return -1;
    }
    return 0;
}

static int lower_hex(const char *s, size_t len)
{
    if (s == NULL || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int parse_ms(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 19)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* Whether ts lies within DEVAUTH_MAX_SKEW_MS of now, computed without overflow for any ts. */
static int timestamp_fresh(uint64_t ts, int64_t now)
{
    if (now < 0 || ts > (uint64_t)now + DEVAUTH_MAX_SKEW_MS)
        return 0;
    return (int64_t)ts >= now - DEVAUTH_MAX_SKEW_MS;
}

int auth_signed_parse(http_req *q, http_resp *r, auth_signed *out)
{
    const char *id = http_header(q, "X-TMO-Device");
    const char *ts_text = http_header(q, "X-TMO-Timestamp");
    const char *nonce = http_header(q, "X-TMO-Nonce");
    const char *sig_b64 = http_header(q, "X-TMO-Signature");
    uint8_t sig[DEVAUTH_SIG_LEN + 4];
    if (!lower_hex(id, DEVAUTH_ID_LEN) || !parse_ms(ts_text, &out->ts) ||
        !lower_hex(nonce, DEVAUTH_NONCE_LEN) || sig_b64 == NULL || strlen(sig_b64) > 100 ||
        devauth_b64_decode(sig_b64, sig, sizeof sig) != DEVAUTH_SIG_LEN) {
        resp_error(r, 401, "unauthorized",
                   "signed request headers missing or malformed (X-TMO-Device, X-TMO-Timestamp, "
                   "X-TMO-Nonce, X-TMO-Signature)");
        return -1;
    }
    memcpy(out->id, id, DEVAUTH_ID_LEN + 1);
    memcpy(out->nonce, nonce, DEVAUTH_NONCE_LEN + 1);
    memcpy(out->sig, sig, DEVAUTH_SIG_LEN);
    return 0;
}

int auth_signed_check(srv *s, http_req *q, http_resp *r, const uint8_t pub[DEVAUTH_PUBKEY_LEN],
                      const auth_signed *a)
{
    int64_t now = srv_now_ms();
    /* Range first: ts is any 19-digit number, and only a range-checked one may be subtracted. */
    if (!timestamp_fresh(a->ts, now)) {
        resp_error(r, 401, "stale_request",
                   "timestamp %llu is more than %d s from server time %lld",
                   (unsigned long long)a->ts, DEVAUTH_MAX_SKEW_MS / 1000, (long long)now);
        return -1;
    }
    int rc = ST(s->st, nonce_seen, a->id, a->nonce, now);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc == ST_OK) {
        resp_error(r, 401, "replayed_request", "nonce %s was already used", a->nonce);
        return -1;
    }
    uint8_t digest[32];
    int bad = devauth_request_digest(q->method, q->raw_uri, a->ts, a->nonce, q->body, q->body_len,
                                     digest) != 0;
    if (!bad) {
        srv_crypto_lock();
        bad = devauth_verify(pub, digest, a->sig) != 0;
        srv_crypto_unlock();
    }
    if (bad) {
        resp_error(r, 401, "bad_signature", "signature does not verify for device %s", a->id);
        return -1;
    }
    return 0;
}

int auth_signed_record(srv *s, http_resp *r, const auth_signed *a)
{
    int64_t now = srv_now_ms();
    int rc = ST(s->st, nonce_record, a->id, a->nonce, now, now + DEVAUTH_NONCE_TTL_MS);
    if (rc == ST_CONFLICT) { /* a concurrent copy of this request got there first */
        resp_error(r, 401, "replayed_request", "nonce %s was already used", a->nonce);
        return -1;
    }
    if (rc != ST_OK) {
        resp_store_error(r);
        return -1;
    }
    return 0;
}

static int refuse(http_resp *r, const char *code, const char *fmt, const char *arg)
{
    resp_error(r, 401, code, fmt, arg);
    return -1;
}

/* A signed request (P-10..P-12): the device's key verifies the signature. */
static int signed_request(srv *s, http_req *q, http_resp *r)
{
    auth_signed a;
    if (auth_signed_parse(q, r, &a) != 0)
        return -1;
    uint8_t pub[DEVAUTH_PUBKEY_LEN];
    int64_t revoked_at = 0;
    int rc = ST(s->st, device_pubkey, a.id, pub, &revoked_at);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc != ST_OK)
        return refuse(r, "unknown_device", "device %s is not enrolled", a.id);
    if (revoked_at != 0)
        return refuse(r, "device_revoked", "device %s was revoked", a.id);
    if (auth_signed_check(s, q, r, pub, &a) != 0)
        return -1;
    st_copy(q->principal, sizeof q->principal, a.id);
    q->guard.kind = 1;
    st_copy(q->guard.value, sizeof q->guard.value, a.nonce);
    return 0;
}

/*
 * The session of device `id` for checking request `sid`: from this process's
 * cache when it names sid and is unexpired, else from the store (then
 * cached). ST_OK, ST_NOT_FOUND (no such device) or ST_ERROR; *fresh tells
 * whether it came from the store (counter and revocation then known).
 */
static int session_of(srv *s, const char *id, const char *sid, st_session *ss, int *fresh)
{
    *fresh = 0;
    if (session_cache_get(id, ss) && strcmp(ss->id, sid) == 0 && ss->expires_at > srv_now_ms())
        return ST_OK;
    *fresh = 1;
    int rc = ST(s->st, session_get, id, ss);
    if (rc == ST_OK && ss->id[0] != '\0' && ss->revoked_at == 0)
        session_cache_put(id, ss);
    return rc;
}

/* Why a session request cannot be accepted now, as the store tells (a 401 sent); -1. */
static int session_refusal(srv *s, const char *id, const char *sid, http_resp *r)
{
    st_session ss;
    int rc = ST(s->st, session_get, id, &ss);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc != ST_OK)
        return refuse(r, "unknown_device", "device %s is not enrolled", id);
    if (ss.revoked_at != 0 || ss.id[0] == '\0' || strcmp(ss.id, sid) != 0)
        session_cache_drop(id);
    if (ss.revoked_at != 0)
        return refuse(r, "device_revoked", "device %s was revoked", id);
    if (ss.id[0] == '\0' || strcmp(ss.id, sid) != 0)
        return refuse(r, "unknown_session", "session %s is not the device's session (P-34)", sid);
    if (ss.expires_at <= srv_now_ms())
        return refuse(r, "session_expired", "session %s has expired (P-34)", sid);
    return refuse(r, "replayed_request", "counter of session %s was already used", sid);
}

/* A session request (P-33, P-34): the session key verifies the MAC of a fresh counter. */
static int session_request(srv *s, http_req *q, http_resp *r)
{
    const char *id = http_header(q, "X-TMO-Device"), *sid = http_header(q, "X-TMO-Session");
    const char *ctr_text = http_header(q, "X-TMO-Counter"), *mac_b64 = http_header(q, "X-TMO-MAC");
    uint64_t counter;
    uint8_t mac[DEVSESSION_MAC_LEN + 4], want[DEVSESSION_MAC_LEN];
    if (!lower_hex(id, DEVAUTH_ID_LEN) || !lower_hex(sid, DEVSESSION_ID_LEN) ||
        !parse_ms(ctr_text, &counter) || counter == 0 || counter > (uint64_t)INT64_MAX / 2 ||
        mac_b64 == NULL || strlen(mac_b64) > 64 ||
        devauth_b64_decode(mac_b64, mac, sizeof mac) != DEVSESSION_MAC_LEN)
        return refuse(r, "unauthorized",
                      "session request headers missing or malformed (X-TMO-Device, "
                      "X-TMO-Session, X-TMO-Counter 1..2^62, X-TMO-MAC)%s",
                      "");
    st_session ss;
    int fresh;
    int rc = session_of(s, id, sid, &ss, &fresh);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc != ST_OK)
        return refuse(r, "unknown_device", "device %s is not enrolled", id);
    if (fresh && (ss.revoked_at != 0 || ss.id[0] == '\0' || strcmp(ss.id, sid) != 0 ||
                  ss.expires_at <= srv_now_ms()))
        return session_refusal(s, id, sid, r);
    int bad = devsession_mac(ss.key, q->method, q->raw_uri, sid, counter, q->body, q->body_len,
                             want) != 0 ||
              !devsession_equal(mac, want, DEVSESSION_MAC_LEN);
    memset(&ss.key, 0, sizeof ss.key);
    if (bad)
        return refuse(r, "bad_signature", "MAC does not verify for session %s", sid);
    if (fresh && (int64_t)counter <= ss.counter) /* (from the cache: the transaction checks) */
        return refuse(r, "replayed_request", "counter %s was already used", ctr_text);
    st_copy(q->principal, sizeof q->principal, id);
    q->guard.kind = 2;
    st_copy(q->guard.value, sizeof q->guard.value, sid);
    q->guard.counter = (int64_t)counter;
    return 0;
}

int auth_device(srv *s, http_req *q, http_resp *r)
{
    q->role = ROLE_NONE;
    q->guard.kind = 0;
    return http_header(q, "X-TMO-Session") != NULL ? session_request(s, q, r)
                                                   : signed_request(s, q, r);
}

int auth_guard_record(srv *s, http_req *q, http_resp *r)
{
    if (q->guard.kind == 1) {
        auth_signed a;
        memset(&a, 0, sizeof a);
        st_copy(a.id, sizeof a.id, q->principal);
        st_copy(a.nonce, sizeof a.nonce, q->guard.value);
        return auth_signed_record(s, r, &a);
    }
    if (q->guard.kind != 2)
        return 0;
    int rc = ST(s->st, session_use, q->principal, q->guard.value, q->guard.counter, srv_now_ms());
    if (rc == ST_CONFLICT) /* a used counter, or the session ended, expired or was revoked */
        return session_refusal(s, q->principal, q->guard.value, r);
    if (rc != ST_OK) {
        resp_store_error(r);
        return -1;
    }
    return 0;
}
