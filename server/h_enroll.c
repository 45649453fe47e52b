/*
 * POST /api/v1/device/enroll (docs/protocol.md P-8): a device proves it
 * holds its key and spends one use of an enrollment token; the device is
 * created and the use counted in one transaction. The request is signed
 * like every device request (P-10, with the key of its own body), so the
 * signature covers everything the server stores from it and its nonce makes
 * a captured enrollment worthless. A retry by the same key (lost response)
 * gets the same device_id without spending another use.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "devauth.h"
#include "enc_key.h"
#include "handlers.h"
#include "json_util.h"
#include "profile.h"

typedef struct enroll_in {
    const char *token, *pub_b64;
    auth_signed sig;
    uint8_t pub[DEVAUTH_PUBKEY_LEN];
    char id[DEVAUTH_ID_LEN + 1];
    char hash[65];
    char *profile_text;
    uint8_t enc[ST_PUBKEY_LEN]; /* device encryption key (P-27), when has_enc */
    int has_enc;
} enroll_in;

static int parse(srv *s, http_req *q, json_t *in, enroll_in *e, http_resp *r)
{
    uint8_t pub[DEVAUTH_PUBKEY_LEN + 4];
    if (json_object_get(in, "proof") != NULL) {
        resp_error(r, 400, "bad_request",
                   "the body-only enrollment proof of protocol 1 is refused: sign the request "
                   "with the X-TMO-* headers (docs/protocol.md P-8)");
        return -1;
    }
    if (jget_str(in, "token", 1, 128, &e->token, r) < 0 ||
        jget_str(in, "public_key", 1, 128, &e->pub_b64, r) < 0)
        return -1;
    if (devauth_b64_decode(e->pub_b64, pub, sizeof pub) != DEVAUTH_PUBKEY_LEN || pub[0] != 0x04) {
        resp_error(r, 400, "bad_request",
                   "public_key must be base64 of a 65-byte uncompressed P-256 point");
        return -1;
    }
    memcpy(e->pub, pub, DEVAUTH_PUBKEY_LEN);
    devauth_device_id(e->pub, e->id);
    if (auth_signed_parse(q, r, &e->sig) != 0)
        return -1;
    if (strcmp(e->sig.id, e->id) != 0) {
        resp_error(r, 401, "bad_signature", "X-TMO-Device must be the id of public_key (P-6)");
        return -1;
    }
    char err[200];
    json_t *profile = profile_normalize(json_object_get(in, "profile"), err, sizeof err);
    if (profile == NULL) {
        resp_error(r, 400, "bad_request", "%s", err);
        return -1;
    }
    e->profile_text = json_to_text(profile);
    json_decref(profile);
    e->has_enc = enc_key_parse(json_object_get(in, "enc_public_key"), e->enc, err, sizeof err);
    if (e->has_enc < 0) {
        resp_error(r, 400, "bad_request", "%s", err);
        return -1;
    }
    if (srv_token_hash(e->token, e->hash) != 0) {
        resp_error(r, 500, "internal", "hash failed");
        return -1;
    }
    /* A cheap look at the token before the costly signature check (the transaction checks again). */
    st_enroll_token t;
    int rc = ST(s->st, enroll_find, e->hash, &t);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        return -1;
    }
    if (rc == ST_NOT_FOUND) {
        resp_error(r, 401, "enrollment_token_invalid", "unknown enrollment token");
        return -1;
    }
    return auth_signed_check(s, q, r, e->pub, &e->sig);
}

/* Inside the write transaction. Returns the HTTP status (201/200) or sends an error and returns 0. */
static int enroll(srv *s, const enroll_in *e, http_resp *r)
{
    int64_t now = srv_now_ms();
    st_enroll_token t;
    int rc = ST(s->st, enroll_find, e->hash, &t);
    if (rc == ST_NOT_FOUND) {
        resp_error(r, 401, "enrollment_token_invalid", "unknown enrollment token");
        return 0;
    }
    if (rc != ST_OK)
        goto store_error;
    if (t.revoked_at != 0) {
        resp_error(r, 401, "enrollment_token_invalid", "enrollment token revoked at %lld",
                   (long long)t.revoked_at);
        return 0;
    }
    if (t.expires_at <= now) {
        resp_error(r, 401, "enrollment_token_expired", "enrollment token expired at %lld",
                   (long long)t.expires_at);
        return 0;
    }
    st_device d;
    rc = ST(s->st, device_get, e->id, &d);
    if (rc == ST_OK) {
        int same = memcmp(d.public_key, e->pub, DEVAUTH_PUBKEY_LEN) == 0;
        int retry = d.enroll_token_id == t.id || t.uses_left > 0;
        int64_t revoked_at = d.revoked_at;
        st_device_free(&d);
        if (revoked_at != 0) {
            resp_error(r, 401, "device_revoked", "device %s was revoked at %lld", e->id,
                       (long long)revoked_at);
            return 0;
        }
        if (same && retry)
            return e->has_enc && ST(s->st, device_enc_key_set, e->id, e->enc, now) != ST_OK
                       ? (resp_store_error(r), 0)
                       : 200;
        resp_error(r, 401, "enrollment_token_invalid", "enrollment token already used");
        return 0;
    }
    if (rc != ST_NOT_FOUND)
        goto store_error;
    if (t.uses_left <= 0) {
        resp_error(r, 401, "enrollment_token_invalid", "enrollment token already used");
        return 0;
    }
    memset(&d, 0, sizeof d);
    st_copy(d.id, sizeof d.id, e->id);
    memcpy(d.public_key, e->pub, DEVAUTH_PUBKEY_LEN);
    st_copy(d.group, sizeof d.group, t.group);
    st_copy(d.tags_json, sizeof d.tags_json, t.tags_json);
    d.enroll_token_id = t.id;
    d.enrolled_at = now;
    d.profile_json = e->profile_text;
    if (ST(s->st, device_insert, &d) != ST_OK || ST(s->st, enroll_use, t.id) != ST_OK ||
        (e->has_enc && ST(s->st, device_enc_key_set, e->id, e->enc, now) != ST_OK))
        goto store_error;
    return 201;
store_error:
    resp_store_error(r);
    return 0;
}

HANDLER(h_device_enroll)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    enroll_in e;
    memset(&e, 0, sizeof e);
    if (parse(s, q, in, &e, r) != 0)
        goto out;
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK) {
        resp_store_error(r);
        goto out;
    }
    /* The nonce commits with the enrollment: a replay finds it, a refused request leaves none. */
    int status = auth_signed_record(s, r, &e.sig) == 0 ? enroll(s, &e, r) : 0;
    if (status == 0 || ST0(s->st, commit) != ST_OK) {
        ST0(s->st, rollback);
        if (status != 0)
            resp_store_error(r);
        goto out;
    }
    st_copy(q->principal, sizeof q->principal, e.id);
    resp_json(r, status,
              json_pack("{s:s,s:I}", "device_id", e.id, "checkin_interval_s",
                        (json_int_t)s->cfg.checkin_interval_s));
out:
    free(e.profile_text);
    json_decref(in);
}
