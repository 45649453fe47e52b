/*
 * Device sessions (docs/protocol.md P-30..P-35): a challenge, then one
 * ECDSA signature by the device key over it and an ephemeral ECDH key; the
 * server answers with its own ECDH key and both derive the session key.
 * Later requests carry a MAC (auth.c). The challenge is stateless (a MAC
 * of the device id and an expiry under the fleet's session secret, shared
 * by every replica through the store), so opening a session needs no
 * server-side state until the session itself is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devauth.h"
#include "devsession.h"
#include "handlers.h"
#include "json_util.h"
#include "session_cache.h"

#define SECRET_SETTING "session_secret"

/* A fresh secret into the setting {"hex": "..."}; ST_OK or an error code. */
static int secret_create(srv *s)
{
    uint8_t fresh[SRV_SESSION_SECRET_LEN];
    char hex[2 * SRV_SESSION_SECRET_LEN + 1], text[2 * SRV_SESSION_SECRET_LEN + 16];
    srv_crypto_lock();
    int ok = psa_generate_random(fresh, sizeof fresh) == PSA_SUCCESS;
    srv_crypto_unlock();
    devauth_hex(fresh, sizeof fresh, hex);
    snprintf(text, sizeof text, "{\"hex\":\"%s\"}", hex);
    memset(hex, 0, sizeof hex);
    memset(fresh, 0, sizeof fresh);
    return ok ? ST(s->st, setting_set, SECRET_SETTING, text, srv_now_ms())
              : store_fail("no randomness available");
}

int srv_session_secret_load(srv *s)
{
    char *value = NULL;
    int rc = ST(s->st, begin, ST_TX_EXCLUSIVE);
    if (rc != ST_OK)
        return -1;
    rc = ST(s->st, setting_get, SECRET_SETTING, &value);
    if (rc == ST_NOT_FOUND && (rc = secret_create(s)) == ST_OK) /* the fleet's first server */
        rc = ST(s->st, setting_get, SECRET_SETTING, &value);
    if (rc == ST_OK)
        rc = ST0(s->st, commit);
    else
        ST0(s->st, rollback);
    json_t *v = rc == ST_OK ? json_from_text(value, 0) : NULL;
    const char *hex = json_string_value(json_object_get(v, "hex"));
    int ok = hex != NULL && strlen(hex) == 2 * SRV_SESSION_SECRET_LEN;
    for (size_t i = 0; ok && i < SRV_SESSION_SECRET_LEN; i++) {
        unsigned byte;
        ok = sscanf(hex + 2 * i, "%2x", &byte) == 1;
        s->session_secret[i] = (uint8_t)byte;
    }
    json_decref(v);
    free(value);
    return ok ? 0 : -1;
}

/* POST /api/v1/device/session/challenge {"device_id"}: a challenge valid for 60 s (P-30). */
HANDLER(h_session_challenge)
{
    json_t *in = req_object(q, r);
    const char *id = NULL;
    if (in == NULL || jget_str(in, "device_id", 1, DEVAUTH_ID_LEN, &id, r) < 0)
        goto out;
    uint8_t ch[DEVSESSION_CHALLENGE_LEN];
    char b64[64];
    uint64_t expires = (uint64_t)srv_now_ms() + DEVSESSION_CHALLENGE_TTL_MS;
    devsession_challenge(s->session_secret, sizeof s->session_secret, id, expires, ch);
    devauth_b64_encode(ch, sizeof ch, b64, sizeof b64);
    resp_json(r, 200, json_pack("{s:s,s:I}", "challenge", b64, "expires_at", (json_int_t)expires));
out:
    json_decref(in);
}

typedef struct open_in {
    const char *id, *challenge_b64, *ecdh_b64, *sig_b64;
    uint8_t challenge[DEVSESSION_CHALLENGE_LEN], ecdh[DEVAUTH_PUBKEY_LEN], sig[DEVAUTH_SIG_LEN];
} open_in;

static int parse_open(json_t *in, open_in *o, http_resp *r)
{
    uint8_t ch[DEVSESSION_CHALLENGE_LEN + 4], ecdh[DEVAUTH_PUBKEY_LEN + 4],
        sig[DEVAUTH_SIG_LEN + 4];
    if (jget_str(in, "device_id", 1, DEVAUTH_ID_LEN, &o->id, r) < 0 ||
        jget_str(in, "challenge", 1, 64, &o->challenge_b64, r) < 0 ||
        jget_str(in, "ecdh_public_key", 1, 128, &o->ecdh_b64, r) < 0 ||
        jget_str(in, "signature", 1, 128, &o->sig_b64, r) < 0)
        return -1;
    if (devauth_b64_decode(o->challenge_b64, ch, sizeof ch) != DEVSESSION_CHALLENGE_LEN ||
        devauth_b64_decode(o->ecdh_b64, ecdh, sizeof ecdh) != DEVAUTH_PUBKEY_LEN ||
        ecdh[0] != 0x04 || devauth_b64_decode(o->sig_b64, sig, sizeof sig) != DEVAUTH_SIG_LEN) {
        resp_error(r, 400, "bad_request",
                   "challenge (base64, 24 bytes), ecdh_public_key (base64, 65-byte uncompressed "
                   "P-256 point) and signature (base64 r||s) are required");
        return -1;
    }
    memcpy(o->challenge, ch, sizeof o->challenge);
    memcpy(o->ecdh, ecdh, sizeof o->ecdh);
    memcpy(o->sig, sig, sizeof o->sig);
    return 0;
}

/* Signature check, then the server's half of the ECDH and the key (under the crypto lock). */
static int establish(const open_in *o, const uint8_t pub[DEVAUTH_PUBKEY_LEN], st_session *ss,
                     uint8_t server_ecdh[DEVAUTH_PUBKEY_LEN], http_resp *r)
{
    uint8_t digest[32], rnd[DEVSESSION_ID_LEN / 2];
    if (devsession_open_digest(o->id, o->challenge_b64, o->ecdh_b64, digest) != 0) {
        resp_error(r, 500, "internal", "hash failed");
        return -1;
    }
    psa_key_id_t eph = 0;
    srv_crypto_lock();
    int verified = devauth_verify(pub, digest, o->sig) == 0;
    int ok = verified && psa_generate_random(rnd, sizeof rnd) == PSA_SUCCESS;
    if (ok) {
        devauth_hex(rnd, sizeof rnd, ss->id);
        ok = devsession_ecdh_generate(&eph, server_ecdh) == 0 &&
             devsession_derive(eph, o->ecdh, o->challenge, o->id, ss->id, o->ecdh, server_ecdh,
                               ss->key) == 0;
    }
    if (eph != 0)
        psa_destroy_key(eph);
    srv_crypto_unlock();
    if (!verified)
        resp_error(r, 401, "bad_signature", "signature does not verify for device %s", o->id);
    else if (!ok)
        resp_error(r, 400, "bad_request", "ecdh_public_key is not a point of P-256");
    return verified && ok ? 0 : -1;
}

/*
 * POST /api/v1/device/session {"device_id", "challenge", "ecdh_public_key",
 * "signature"} -> {"session_id", "ecdh_public_key", "expires_at"} (P-31, P-32).
 */
HANDLER(h_session_open)
{
    json_t *in = req_object(q, r);
    open_in o;
    if (in == NULL || parse_open(in, &o, r) != 0)
        goto out;
    uint8_t pub[DEVAUTH_PUBKEY_LEN], server_ecdh[DEVAUTH_PUBKEY_LEN];
    int64_t revoked_at = 0, now = srv_now_ms();
    uint64_t challenge_expiry;
    int rc = ST(s->st, device_pubkey, o.id, pub, &revoked_at);
    if (rc == ST_ERROR) {
        resp_store_error(r);
        goto out;
    }
    if (rc != ST_OK) {
        resp_error(r, 401, "unknown_device", "device %s is not enrolled", o.id);
        goto out;
    }
    if (revoked_at != 0) {
        resp_error(r, 401, "device_revoked", "device %s was revoked", o.id);
        goto out;
    }
    if (devsession_challenge_check(s->session_secret, sizeof s->session_secret, o.id, o.challenge,
                                   (uint64_t)now, &challenge_expiry) != 0) {
        resp_error(r, 401, "bad_challenge",
                   "the challenge was not made for this device by this fleet, or it expired");
        goto out;
    }
    st_session ss;
    memset(&ss, 0, sizeof ss);
    if (establish(&o, pub, &ss, server_ecdh, r) != 0)
        goto out;
    ss.expires_at = now + s->cfg.session_ttl_s * 1000;
    rc = ST(s->st, session_set, o.id, &ss);
    if (rc == ST_OK)
        session_cache_put(o.id, &ss);
    memset(ss.key, 0, sizeof ss.key);
    if (rc != ST_OK) {
        if (rc == ST_NOT_FOUND)
            resp_error(r, 401, "unknown_device", "device %s is not enrolled", o.id);
        else
            resp_store_error(r);
        goto out;
    }
    char b64[128];
    devauth_b64_encode(server_ecdh, sizeof server_ecdh, b64, sizeof b64);
    st_copy(q->principal, sizeof q->principal, o.id);
    resp_json(r, 201,
              json_pack("{s:s,s:s,s:I}", "session_id", ss.id, "ecdh_public_key", b64, "expires_at",
                        (json_int_t)ss.expires_at));
out:
    json_decref(in);
}

/* DELETE /api/v1/devices/{id}/session: ends the device's session (it opens a new one). */
HANDLER(h_session_end)
{
    st_session none;
    memset(&none, 0, sizeof none);
    session_cache_drop(q->params[0]);
    int rc = ST(s->st, session_set, q->params[0], &none);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no device %s", q->params[0]);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        resp_json(r, 200, json_pack("{s:s,s:b}", "id", q->params[0], "session_ended", 1));
}
