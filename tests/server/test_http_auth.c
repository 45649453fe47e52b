/*
 * Against the real server process: enrollment (P-7, P-8: valid, expired,
 * reused, idempotent retry, bad proof), signed device requests (P-10..P-12:
 * unknown device, forged signature, tampered body, stale timestamp,
 * replayed nonce), admin roles (P-20: viewer cannot write, operator cannot
 * manage tokens, revoked tokens stop working), and a clean exit on SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devauth.h"
#include "fixture.h"

static int setup(void **state)
{
    fx_server *s = calloc(1, sizeof *s);
    if (fx_start(s, NULL) != 0) {
        fprintf(stderr, "server did not start (log in %s)\n", s->dir);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fx_server *s = *state;
    int status = fx_stop(s); /* SIGTERM: graceful shutdown exits 0 */
    free(s);
    return status == 0 ? 0 : -1;
}

static void enrollment(void **state)
{
    fx_server *s = *state;
    fx_device a, b, c;
    json_t *out = NULL;
    assert_int_equal(fx_device_new(s, &a), 0);
    assert_int_equal(fx_device_new(s, &b), 0);
    assert_int_equal(fx_device_new(s, &c), 0);
    char *once = fx_enroll_token(s, "field", "[\"eu\"]", 600, 1);
    assert_non_null(once);

    assert_int_equal(fx_enroll(s, &a, once, fx_profile("cortex-m4", 262144, 1 << 20), 1, &out),
                     401);
    assert_string_equal(fx_error_code(out), "bad_signature"); /* proof made with another message */
    json_decref(out);

    assert_int_equal(fx_enroll(s, &a, once, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out),
                     201);
    assert_string_equal(json_string_value(json_object_get(out, "device_id")),
                        a.id); /* P-6, recomputed */
    assert_true(json_integer_value(json_object_get(out, "checkin_interval_s")) > 0);
    json_decref(out);
    /* A retry of the same key (lost response) is idempotent, even though the token is spent. */
    assert_int_equal(fx_enroll(s, &a, once, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out),
                     200);
    assert_string_equal(json_string_value(json_object_get(out, "device_id")), a.id);
    json_decref(out);
    /* Another device cannot reuse the one-time token. */
    assert_int_equal(fx_enroll(s, &b, once, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out),
                     401);
    assert_string_equal(fx_error_code(out), "enrollment_token_invalid");
    json_decref(out);

    char *brief = fx_enroll_token(s, "", "[]", 1, 5);
    fx_sleep_ms(1200);
    assert_int_equal(fx_enroll(s, &c, brief, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out),
                     401);
    assert_string_equal(fx_error_code(out), "enrollment_token_expired");
    json_decref(out);
    assert_int_equal(
        fx_enroll(s, &c, "tmoe_00000000000000000000000000000000", fx_profile("x", 1, 1), 0, &out),
        401);
    assert_string_equal(fx_error_code(out), "enrollment_token_invalid");
    json_decref(out);

    char *multi = fx_enroll_token(s, "", "[]", 600, 5);
    json_t *bad = json_pack("{s:s}", "arch", "cortex-m4"); /* no runtime_version, ram, flash, ops */
    assert_int_equal(fx_enroll(s, &c, multi, bad, 0, &out), 400);
    assert_string_equal(fx_error_code(out), "bad_request");
    json_decref(out);

    /* The token's group and tags are the device's. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s", a.id);
    assert_int_equal(fx_call(s->admin, "GET", path, NULL, &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "group")), "field");
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "tags"), 0)), "eu");
    assert_string_equal(json_string_value(json_object_get(out, "health")), "never-seen");
    json_decref(out);
    free(once);
    free(brief);
    free(multi);
    fx_device_free(&a);
    fx_device_free(&b);
    fx_device_free(&c);
}

/* POSTs a body with the given signed headers through a client that does not sign. */
static long raw_post(fx_server *s, const char *path, const hc_signed *h, const char *body,
                     json_t **out)
{
    const char *extra[] = {h->device, h->timestamp, h->nonce, h->signature, NULL};
    hc_client *c = hc_open(s->base);
    hc_response r;
    char err[200];
    long st = -1;
    *out = NULL;
    if (hc_request(c, "POST", path, "application/json", body, strlen(body),
                   h->device[0] ? extra : NULL, &r, err, sizeof err) == 0) {
        st = r.status;
        *out = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        assert_true(r.server_time_ms > 0); /* P-4 on every response */
        hc_response_free(&r);
    }
    hc_close(c);
    return st;
}

static long raw_checkin(fx_server *s, const hc_signed *h, const char *body, json_t **out)
{
    return raw_post(s, "/api/v1/device/checkin", h, body, out);
}

static json_t *device_json(fx_server *s, const char *id)
{
    char path[128];
    json_t *out = NULL;
    snprintf(path, sizeof path, "/api/v1/devices/%s", id);
    assert_int_equal(fx_call(s->admin, "GET", path, NULL, &out), 200);
    return out;
}

/*
 * P-8: everything stored from an enrollment is signed, and a captured
 * enrollment replayed (even with its uses spent, before the token expires)
 * changes nothing; the protocol-1 body proof is refused.
 */
static void enrollment_replay_changes_nothing(void **state)
{
    fx_server *s = *state;
    fx_device a, enc1, enc2;
    json_t *out = NULL;
    assert_int_equal(fx_device_new(s, &a), 0);
    assert_int_equal(fx_device_new(s, &enc1), 0); /* two more keys, used as encryption keys */
    assert_int_equal(fx_device_new(s, &enc2), 0);
    char *tok = fx_enroll_token(s, "", "[]", 600, 1);
    char pub[128], e1[128], e2[128];
    devauth_b64_encode(a.pub, sizeof a.pub, pub, sizeof pub);
    devauth_b64_encode(enc1.pub, sizeof enc1.pub, e1, sizeof e1);
    devauth_b64_encode(enc2.pub, sizeof enc2.pub, e2, sizeof e2);
    json_t *profile = fx_profile("cortex-m4", 262144, 1 << 20);
    json_t *body = json_pack("{s:s,s:s,s:O,s:s}", "token", tok, "public_key", pub, "profile",
                             profile, "enc_public_key", e1);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *path = "/api/v1/device/enroll";
    hc_signed h;
    assert_int_equal(hc_sign(a.key, a.id, "POST", path, text, strlen(text), hc_now_ms(), NULL, &h),
                     0);
    assert_int_equal(raw_post(s, path, &h, text, &out), 201);
    json_decref(out);
    out = device_json(s, a.id);
    assert_string_equal(json_string_value(json_object_get(out, "enc_public_key")), e1);
    json_decref(out);

    /* The captured request again, byte for byte: refused, nothing changes. */
    assert_int_equal(raw_post(s, path, &h, text, &out), 401);
    assert_string_equal(fx_error_code(out), "replayed_request");
    json_decref(out);
    /* The captured signature on a body with the attacker's encryption key: refused, with the
       captured nonce and with a fresh one. */
    char *swapped = strdup(text);
    memcpy(strstr(swapped, e1), e2, strlen(e2));
    assert_int_equal(raw_post(s, path, &h, swapped, &out), 401);
    assert_string_equal(fx_error_code(out), "replayed_request");
    json_decref(out);
    hc_signed fresh = h;
    char *last = fresh.nonce + strlen(fresh.nonce) - 1;
    *last = *last == '0' ? '1' : '0';
    assert_int_equal(raw_post(s, path, &fresh, swapped, &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    out = device_json(s, a.id);
    assert_string_equal(json_string_value(json_object_get(out, "enc_public_key")), e1);
    json_decref(out);
    /* The device itself may retry (lost response) and rotate its key: it signs the new body. */
    body = json_pack("{s:s,s:s,s:O,s:s}", "token", tok, "public_key", pub, "profile", profile,
                     "enc_public_key", e2);
    assert_int_equal(fx_enroll_body(s, &a, body, 0, &out), 200);
    json_decref(out);
    out = device_json(s, a.id);
    assert_string_equal(json_string_value(json_object_get(out, "enc_public_key")), e2);
    json_decref(out);
    /* Protocol 1's unsigned body proof is refused outright. */
    body = json_pack("{s:s,s:s,s:O,s:s}", "token", tok, "public_key", pub, "profile", profile,
                     "proof", "AAAA");
    assert_int_equal(fx_enroll_body(s, &a, body, 0, &out), 400);
    json_decref(out);
    /* X-TMO-Device must be the id of the body's key. */
    assert_int_equal(
        hc_sign(a.key, enc1.id, "POST", path, text, strlen(text), hc_now_ms(), NULL, &h), 0);
    assert_int_equal(raw_post(s, path, &h, text, &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    json_decref(profile);
    free(swapped);
    free(text);
    free(tok);
    fx_device_free(&a);
    fx_device_free(&enc1);
    fx_device_free(&enc2);
}

/* Revocation: a stolen device key or a leaked enrollment token stops working (P-8, P-12). */
static void revocation(void **state)
{
    fx_server *s = *state;
    fx_device a, b, c;
    json_t *out = NULL;
    assert_int_equal(fx_device_new(s, &a), 0);
    assert_int_equal(fx_device_new(s, &b), 0);
    assert_int_equal(fx_device_new(s, &c), 0);
    char *tok = fx_enroll_token(s, "rv", "[]", 600, 5);
    assert_int_equal(fx_enroll(s, &a, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, NULL), 201);
    assert_int_equal(fx_enroll(s, &b, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, NULL), 201);
    assert_int_equal(fx_checkin(&a, NULL, NULL), 200);

    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", a.id);
    json_t *why = json_pack("{s:s}", "reason", "key extracted from a returned unit");
    char *viewer = fx_token(s, "viewer");
    hc_client *vc = fx_client(s, viewer);
    assert_int_equal(fx_call(vc, "POST", path, why, NULL), 403);
    assert_int_equal(fx_call(s->admin, "POST", path, why, &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "health")), "revoked");
    assert_true(json_integer_value(json_object_get(out, "revoked_at")) > 0);
    json_decref(out);
    assert_int_equal(fx_checkin(&a, NULL, &out), 401);
    assert_string_equal(fx_error_code(out), "device_revoked");
    json_decref(out);
    assert_int_equal(fx_enroll(s, &a, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out), 401);
    assert_string_equal(fx_error_code(out), "device_revoked");
    json_decref(out);
    assert_int_equal(fx_checkin(&b, NULL, NULL), 200); /* others are untouched */
    snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", "ffffffffffffffffffffffffffffffff");
    assert_int_equal(fx_call(s->admin, "POST", path, why, NULL), 404);
    json_decref(why);

    /* Enrollment tokens: listed without secrets, revoked by id. */
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/enrollment-tokens", NULL, &out), 200);
    json_t *list = json_object_get(out, "tokens");
    json_int_t id = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *t = json_array_get(list, i);
        assert_null(json_object_get(t, "token"));
        assert_null(json_object_get(t, "hash"));
        if (strcmp(json_string_value(json_object_get(t, "group")), "rv") == 0)
            id = json_integer_value(json_object_get(t, "id"));
    }
    json_decref(out);
    assert_true(id > 0);
    snprintf(path, sizeof path, "/api/v1/enrollment-tokens/%lld", (long long)id);
    assert_int_equal(fx_call(vc, "DELETE", path, NULL, NULL), 403);
    assert_int_equal(fx_call(s->admin, "DELETE", path, NULL, NULL), 200);
    assert_int_equal(fx_enroll(s, &c, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, &out), 401);
    assert_string_equal(fx_error_code(out), "enrollment_token_invalid");
    json_decref(out);
    hc_close(vc);
    free(viewer);
    free(tok);
    fx_device_free(&a);
    fx_device_free(&b);
    fx_device_free(&c);
}

static void signed_requests(void **state)
{
    fx_server *s = *state;
    fx_device a, stranger;
    json_t *out = NULL;
    assert_int_equal(fx_device_new(s, &a), 0);
    assert_int_equal(fx_device_new(s, &stranger), 0);
    char *tok = fx_enroll_token(s, "", "[]", 600, 1);
    assert_int_equal(fx_enroll(s, &a, tok, fx_profile("cortex-m4", 262144, 1 << 20), 0, NULL), 201);

    assert_int_equal(fx_checkin(&a, NULL, &out), 200);
    assert_true(json_is_null(json_object_get(out, "desired")));
    json_decref(out);

    const char *body = "{\"nv_counter\":0}";
    const char *path = "/api/v1/device/checkin";
    hc_signed h;
    uint64_t now = hc_now_ms();
    /* Unknown device: a valid signature by a key that never enrolled. */
    assert_int_equal(
        hc_sign(stranger.key, stranger.id, "POST", path, body, strlen(body), now, NULL, &h), 0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "unknown_device");
    json_decref(out);
    /* Forged: another key signs, claiming the enrolled device's id. */
    assert_int_equal(hc_sign(stranger.key, a.id, "POST", path, body, strlen(body), now, NULL, &h),
                     0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    /* Tampered body: the signature covers the body's digest. */
    assert_int_equal(hc_sign(a.key, a.id, "POST", path, body, strlen(body), now, NULL, &h), 0);
    assert_int_equal(raw_checkin(s, &h, "{\"nv_counter\":1}", &out), 401);
    assert_string_equal(fx_error_code(out), "bad_signature");
    json_decref(out);
    /* Stale: more than 300 s away from server time, either way. */
    assert_int_equal(hc_sign(a.key, a.id, "POST", path, body, strlen(body), now - 400000, NULL, &h),
                     0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "stale_request");
    json_decref(out);
    assert_int_equal(hc_sign(a.key, a.id, "POST", path, body, strlen(body), now + 400000, NULL, &h),
                     0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "stale_request");
    json_decref(out);
    /* Far beyond int64 range (19 digits): refused without arithmetic overflow (UBSan build). */
    assert_int_equal(
        hc_sign(a.key, a.id, "POST", path, body, strlen(body), 9300000000000000000ull, NULL, &h),
        0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "stale_request");
    json_decref(out);
    /* Within the window is fine (a device with a slightly skewed clock). */
    assert_int_equal(hc_sign(a.key, a.id, "POST", path, body, strlen(body), now - 120000, NULL, &h),
                     0);
    assert_int_equal(raw_checkin(s, &h, body, &out), 200);
    json_decref(out);
    /* Replayed: the exact same request a second time. */
    assert_int_equal(raw_checkin(s, &h, body, &out), 401);
    assert_string_equal(fx_error_code(out), "replayed_request");
    json_decref(out);
    /* No signature headers at all. */
    hc_signed none;
    memset(&none, 0, sizeof none);
    assert_int_equal(raw_checkin(s, &none, body, &out), 401);
    assert_string_equal(fx_error_code(out), "unauthorized");
    json_decref(out);
    /* The device itself still works. */
    assert_int_equal(fx_checkin(&a, NULL, NULL), 200);
    /* Admin tokens do not open device routes. */
    json_t *empty = json_object();
    assert_int_equal(fx_call(s->admin, "POST", path, empty, &out), 401);
    json_decref(out);
    json_decref(empty);
    free(tok);
    fx_device_free(&a);
    fx_device_free(&stranger);
}

static void roles(void **state)
{
    fx_server *s = *state;
    char *viewer = fx_token(s, "viewer"), *operator= fx_token(s, "operator");
    assert_non_null(viewer);
    assert_non_null(operator);
    hc_client *v = fx_client(s, viewer), *o = fx_client(s, operator), *anon = fx_client(s, NULL),
              *wrong = fx_client(s, "tmoa_not-a-token");
    json_t *out = NULL, *body = json_pack("{s:i}", "ttl_s", 60);

    assert_int_equal(fx_call(v, "GET", "/api/v1/devices", NULL, NULL), 200);
    assert_int_equal(fx_call(v, "GET", "/api/v1/deployments", NULL, NULL), 200);
    assert_int_equal(fx_call(v, "POST", "/api/v1/enrollment-tokens", body, &out), 403);
    assert_string_equal(fx_error_code(out), "forbidden");
    json_decref(out);
    json_t *dep =
        json_pack("{s:s,s:s,s:{s:b}}", "model", "m", "version", "1.0.0", "target", "all", 1);
    assert_int_equal(fx_call(v, "POST", "/api/v1/deployments", dep, NULL), 403);
    assert_int_equal(fx_call(v, "POST", "/api/v1/bundles", NULL, NULL), 403);
    assert_int_equal(fx_call(v, "POST", "/api/v1/deployments/1/pause", NULL, NULL), 403);
    json_t *empty = json_object();
    assert_int_equal(
        fx_call(v, "PATCH", "/api/v1/devices/00000000000000000000000000000000", empty, NULL), 403);
    json_decref(empty);
    assert_int_equal(fx_call(v, "POST", "/api/v1/admin-tokens", NULL, NULL), 403);

    assert_int_equal(fx_call(o, "POST", "/api/v1/enrollment-tokens", body, NULL), 201);
    assert_int_equal(fx_call(o, "POST", "/api/v1/deployments", dep, &out),
                     404); /* allowed, but no such model */
    json_decref(out);
    assert_int_equal(fx_call(o, "GET", "/api/v1/admin-tokens", NULL, NULL), 403);
    json_t *mk = json_pack("{s:s}", "role", "admin");
    assert_int_equal(fx_call(o, "POST", "/api/v1/admin-tokens", mk, NULL), 403);

    assert_int_equal(fx_call(anon, "GET", "/api/v1/devices", NULL, &out), 401);
    assert_string_equal(fx_error_code(out), "unauthorized");
    json_decref(out);
    assert_int_equal(fx_call(wrong, "GET", "/api/v1/devices", NULL, NULL), 401);
    assert_int_equal(fx_call(anon, "GET", "/api/v1/health", NULL, NULL), 200);

    /* Revocation takes effect on the next request. */
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/admin-tokens", NULL, &out), 200);
    json_int_t viewer_id = 0;
    json_t *tokens = json_object_get(out, "tokens");
    for (size_t i = 0; i < json_array_size(tokens); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(tokens, i), "role")),
                   "viewer") == 0)
            viewer_id = json_integer_value(json_object_get(json_array_get(tokens, i), "id"));
    json_decref(out);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin-tokens/%lld", (long long)viewer_id);
    assert_int_equal(fx_call(s->admin, "DELETE", path, NULL, NULL), 200);
    assert_int_equal(fx_call(v, "GET", "/api/v1/devices", NULL, NULL), 401);

    json_decref(mk);
    json_decref(dep);
    json_decref(body);
    hc_close(v);
    hc_close(o);
    hc_close(anon);
    hc_close(wrong);
    free(viewer);
    free(operator);
}

static void malformed_requests(void **state)
{
    fx_server *s = *state;
    json_t *out = NULL;
    hc_response r;
    char err[200];
    assert_int_equal(hc_request(s->admin, "POST", "/api/v1/enrollment-tokens", "application/json",
                                "{not json", 9, NULL, &r, err, sizeof err),
                     0);
    assert_int_equal(r.status, 400);
    hc_response_free(&r);
    json_t *body = json_pack("{s:s}", "ttl_s", "soon");
    assert_int_equal(fx_call(s->admin, "POST", "/api/v1/enrollment-tokens", body, &out), 400);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(out, "error"), "message")), "ttl_s"));
    json_decref(out);
    json_decref(body);
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/nowhere", NULL, &out), 404);
    assert_string_equal(fx_error_code(out), "not_found");
    json_decref(out);
    assert_int_equal(fx_call(s->admin, "PUT", "/api/v1/devices", NULL, &out), 405);
    json_decref(out);
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/deployments/abc", NULL, NULL), 404);
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/devices?limit=0", NULL, NULL), 400);
    /* Answers quote the URL, and JSON is UTF-8: bytes that are not UTF-8 get a JSON 400. */
    const char *not_utf8[] = {"/api/v1/devices?group=%ff", "/api/v1/telemetry/reports?device=%c3",
                              "/api/v1/alerts?state=%ed%a0%80", "/api/v1/nowhere-%fe"};
    for (size_t i = 0; i < sizeof not_utf8 / sizeof not_utf8[0]; i++) {
        assert_int_equal(fx_call(s->admin, "GET", not_utf8[i], NULL, &out), 400);
        assert_string_equal(fx_error_code(out), "bad_request");
        json_decref(out);
    }
    /* A JSON body over the 256 KiB limit is refused before it is parsed. */
    size_t big = 300 * 1024;
    char *text = malloc(big);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    assert_int_equal(hc_request(s->admin, "POST", "/api/v1/enrollment-tokens", "application/json",
                                text, big, NULL, &r, err, sizeof err),
                     0);
    assert_int_equal(r.status, 413);
    hc_response_free(&r);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enrollment, setup, teardown),
        cmocka_unit_test_setup_teardown(enrollment_replay_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(revocation, setup, teardown),
        cmocka_unit_test_setup_teardown(signed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(roles, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
