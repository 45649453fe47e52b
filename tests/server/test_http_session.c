/*
 * Device sessions against the real server (docs/protocol.md P-30..P-35):
 * open one with a challenge and one signature, then check in with MACs and
 * a strictly increasing counter; a replayed, reused, tampered, forged or
 * out-of-order request is refused; sessions expire, are replaced by a new
 * one, end when an operator ends them or revokes the device; the
 * per-request signature mode keeps working beside them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devsession_client.h"
#include "fixture.h"

#define CHECKIN "/api/v1/device/checkin"
#define BODY "{\"nv_counter\":0}"

static json_t *post(void *ctx, const char *path, json_t *body, long want, long *status)
{
    fx_server *s = ctx;
    hc_client *c = hc_open(s->base);
    json_t *out = NULL;
    *status = fx_call(c, "POST", path, body, &out);
    hc_close(c);
    json_decref(body);
    if (*status != want) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* A session request with the given header lines; the status and the parsed answer. */
static long send_with(fx_server *s, char hdr[4][160], const char *path, const char *body,
                      json_t **out)
{
    const char *extra[] = {hdr[0], hdr[1], hdr[2], hdr[3], NULL};
    hc_client *c = hc_open(s->base);
    hc_response r;
    char err[200];
    long st = -1;
    *out = NULL;
    if (hc_request(c, "POST", path, "application/json", body, strlen(body), extra, &r, err,
                   sizeof err) == 0) {
        st = r.status;
        *out = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        hc_response_free(&r);
    }
    hc_close(c);
    return st;
}

static long session_checkin(fx_server *s, fx_device *d, devsession_state *ss, json_t **out)
{
    char hdr[4][160];
    assert_int_equal(devsession_headers(ss, d->id, "POST", CHECKIN, BODY, strlen(BODY), hdr), 0);
    return send_with(s, hdr, CHECKIN, BODY, out);
}

static void enroll(fx_server *s, fx_device *d)
{
    assert_int_equal(fx_device_new(s, d), 0);
    char *tok = fx_enroll_token(s, "", "[]", 600, 1);
    assert_int_equal(fx_enroll(s, d, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, NULL), 201);
    free(tok);
}

static void sessions(void **state)
{
    fx_server *s = *state;
    fx_device d, other;
    json_t *out = NULL;
    enroll(s, &d);
    enroll(s, &other);
    devsession_state ss;
    assert_int_equal(devsession_open(post, s, d.key, d.id, &ss), 0);
    assert_int_equal(strlen(ss.id), 32);
    assert_int_equal(session_checkin(s, &d, &ss, &out), 200);
    json_decref(out);
    assert_int_equal(session_checkin(s, &d, &ss, &out), 200);
    json_decref(out);

    char hdr[4][160];
    /* Replayed: the same headers and body again. */
    assert_int_equal(devsession_headers(&ss, d.id, "POST", CHECKIN, BODY, strlen(BODY), hdr), 0);
    assert_int_equal(send_with(s, hdr, CHECKIN, BODY, &out), 200);
    json_decref(out);
    assert_int_equal(send_with(s, hdr, CHECKIN, BODY, &out), 401);
    assert_string_equal(fx_error_code(out), "replayed_request");
    json_decref(out);
    /* An older counter, correctly MACed, is refused too (strictly increasing). */
    devsession_state old = ss;
    old.counter -= 3;
    assert_int_equal(session_checkin(s, &d, &old, &out), 401);
    assert_string_equal(fx_error_code(out), "replayed_request");
    json_decref(out);
    /* A counter may jump ahead (lost requests); the next after it still works. */
    ss.counter += 100;
    assert_int_equal(session_checkin(s, &d, &ss, &out), 200);
    json_decref(out);
    /* Tampered body, wrong key, another device claiming the session: bad MAC. */
    assert_int_equal(devsession_headers(&ss, d.id, "POST", CHECKIN, BODY, strlen(BODY), hdr), 0);
    assert_int_equal(send_with(s, hdr, CHECKIN, "{\"nv_counter\":1}", &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    devsession_state forged = ss;
    forged.key[0] ^= 1;
    assert_int_equal(session_checkin(s, &d, &forged, &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    assert_int_equal(session_checkin(s, &other, &ss, &out), 401); /* not other's session */
    assert_string_equal(fx_error_code(out), "unknown_session");
    json_decref(out);

    /* Opening a session needs the device key over a fresh challenge of this fleet. */
    devsession_state stolen;
    assert_int_equal(devsession_open(post, s, other.key, d.id, &stolen), -1);
    /* A new session replaces the old one. */
    devsession_state fresh;
    assert_int_equal(devsession_open(post, s, d.key, d.id, &fresh), 0);
    assert_int_equal(session_checkin(s, &d, &ss, &out), 401);
    assert_string_equal(fx_error_code(out), "unknown_session");
    json_decref(out);
    assert_int_equal(session_checkin(s, &d, &fresh, &out), 200);
    json_decref(out);
    /* Signed requests keep working beside sessions. */
    assert_int_equal(fx_checkin(&d, NULL, NULL), 200);

    /* An operator ends it: the device must open another. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/session", d.id);
    assert_int_equal(fx_call(s->admin, "DELETE", path, NULL, NULL), 200);
    assert_int_equal(session_checkin(s, &d, &fresh, &out), 401);
    assert_string_equal(fx_error_code(out), "unknown_session");
    json_decref(out);
    /* Sessions expire (this server: --session-ttl 2). */
    assert_int_equal(devsession_open(post, s, d.key, d.id, &fresh), 0);
    assert_int_equal(session_checkin(s, &d, &fresh, &out), 200);
    json_decref(out);
    fx_sleep_ms(2300);
    assert_int_equal(session_checkin(s, &d, &fresh, &out), 401);
    assert_string_equal(fx_error_code(out), "session_expired");
    json_decref(out);
    /* Revocation ends sessions and refuses new ones. */
    assert_int_equal(devsession_open(post, s, d.key, d.id, &fresh), 0);
    snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", d.id);
    assert_int_equal(fx_call(s->admin, "POST", path, NULL, NULL), 200);
    assert_int_equal(session_checkin(s, &d, &fresh, &out), 401);
    assert_string_equal(fx_error_code(out), "device_revoked");
    json_decref(out);
    assert_int_equal(devsession_open(post, s, d.key, d.id, &fresh), -1);
    fx_device_free(&d);
    fx_device_free(&other);
}

static void challenges(void **state)
{
    fx_server *s = *state;
    fx_device d;
    enroll(s, &d);
    json_t *out = NULL;
    json_t *body = json_pack("{s:s}", "device_id", d.id);
    assert_int_equal(fx_call(s->admin, "POST", "/api/v1/device/session/challenge", body, &out),
                     200);
    json_decref(body);
    const char *ch = json_string_value(json_object_get(out, "challenge"));
    assert_non_null(ch);
    /* A challenge made for another device, a made-up one, a malformed key: refused. */
    const char *bad[][2] = {{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", "bad_challenge"},
                            {ch, "bad_signature"}};
    uint8_t zero[DEVAUTH_SIG_LEN] = {0};
    char pub[128], sig[128];
    devauth_b64_encode(d.pub, sizeof d.pub, pub, sizeof pub);
    devauth_b64_encode(zero, sizeof zero, sig, sizeof sig);
    for (int i = 0; i < 2; i++) {
        json_t *open = json_pack("{s:s,s:s,s:s,s:s}", "device_id", d.id, "challenge", bad[i][0],
                                 "ecdh_public_key", pub, "signature", sig);
        json_t *res = NULL;
        assert_int_equal(fx_call(s->admin, "POST", "/api/v1/device/session", open, &res), 401);
        assert_string_equal(fx_error_code(res), bad[i][1]);
        json_decref(res);
        json_decref(open);
    }
    json_decref(out);
    fx_device_free(&d);
}

static int setup(void **state)
{
    static fx_server s;
    const char *extra[] = {"--session-ttl", "2", NULL};
    if (fx_start(&s, extra) != 0)
        return -1;
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    return fx_stop(*state) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sessions),
        cmocka_unit_test(challenges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
