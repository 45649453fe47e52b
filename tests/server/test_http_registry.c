/*
 * The model registry against the real server: uploads are verified
 * against the configured root (a bundle under an unknown root, or
 * corrupted, is refused with the reason); models, versions and variants
 * are listed; downloads honour Range, If-Range and If-None-Match with the
 * content digest as ETag (P-16), for operators and for signed devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle_crypto.h"
#include "devauth.h"
#include "fixture.h"

static int setup(void **state)
{
    fx_server *s = calloc(1, sizeof *s);
    if (fx_start(s, NULL) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fx_server *s = *state;
    int status = fx_stop(s);
    free(s);
    return status == 0 ? 0 : -1;
}

static const char *message(json_t *err)
{
    const char *m = json_string_value(json_object_get(json_object_get(err, "error"), "message"));
    return m != NULL ? m : "";
}

static void uploads_are_verified(void **state)
{
    fx_server *s = *state;
    json_t *out = NULL;
    size_t len = 0, rogue_len = 0;
    fx_bundle_spec spec = {"acme/kws", "1.2.0", 3, "cortex-m4", 0, 3, 0};
    uint8_t *b = fx_bundle(s, &spec, &len);
    spec.rogue = 1;
    uint8_t *rogue = fx_bundle(s, &spec, &rogue_len);
    assert_non_null(b);
    assert_non_null(rogue);

    assert_int_equal(fx_upload(s, b, len, &out), 201);
    uint8_t h[32];
    char hex[65], digest[80];
    hb_sha256(b, len, h);
    devauth_hex(h, 32, hex);
    snprintf(digest, sizeof digest, "sha256:%s", hex);
    assert_string_equal(json_string_value(json_object_get(out, "digest")), digest);
    assert_string_equal(json_string_value(json_object_get(out, "model")), "acme/kws");
    assert_string_equal(json_string_value(json_object_get(out, "version")), "1.2.0");
    assert_int_equal(json_integer_value(json_object_get(out, "counter")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "arches"), 0)),
                        "cortex-m4");
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "ops"), 0)),
                        "FULLY_CONNECTED");
    assert_int_equal(json_integer_value(json_object_get(out, "size")), (json_int_t)len);
    assert_true(json_integer_value(json_object_get(out, "arena_bytes")) > 0);
    json_int_t id = json_integer_value(json_object_get(out, "id"));
    json_decref(out);

    /* The same bytes again: the existing bundle, not a duplicate. */
    assert_int_equal(fx_upload(s, b, len, &out), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "id")), id);
    assert_true(json_is_true(json_object_get(out, "existing")));
    json_decref(out);

    /* Signed under a root the server does not trust. */
    assert_int_equal(fx_upload(s, rogue, rogue_len, &out), 422);
    assert_string_equal(fx_error_code(out), "bundle_rejected");
    assert_non_null(strstr(message(out), "root"));
    json_decref(out);

    /* One flipped byte in the signed part. */
    uint8_t *bad = malloc(len);
    memcpy(bad, b, len);
    bad[len / 3] ^= 0x01;
    assert_int_equal(fx_upload(s, bad, len, &out), 422);
    assert_string_equal(fx_error_code(out), "bundle_rejected");
    assert_true(strlen(message(out)) > 10);
    json_decref(out);
    assert_int_equal(fx_upload(s, (const uint8_t *)"hello", 5, &out), 422);
    json_decref(out);

    /* Nothing refused was registered. */
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/bundles", NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "bundles")), 1);
    json_decref(out);
    free(bad);
    free(b);
    free(rogue);
}

static void models_versions_variants(void **state)
{
    fx_server *s = *state;
    json_t *out = NULL;
    const fx_bundle_spec specs[] = {
        {"acme/kws", "1.10.0", 4, "cortex-m4", 0, 3, 0},
        {"acme/kws", "1.2.0", 3, "cortex-m4", 0, 3, 0},
        {"acme/kws", "1.2.0", 3, NULL, 90000, 3, 0}, /* a second variant of 1.2.0 */
        {"acme/vww", "0.1.0", 1, NULL, 0, 5, 0},
    };
    json_int_t ids[4];
    for (int i = 0; i < 4; i++) {
        size_t len;
        uint8_t *b = fx_bundle(s, &specs[i], &len);
        assert_int_equal(fx_upload(s, b, len, &out), 201);
        ids[i] = json_integer_value(json_object_get(out, "id"));
        json_decref(out);
        free(b);
    }
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/models", NULL, &out), 200);
    json_t *models = json_object_get(out, "models");
    assert_int_equal(json_array_size(models), 2);
    json_t *kws = json_array_get(models, 0);
    assert_string_equal(json_string_value(json_object_get(kws, "name")), "acme/kws");
    json_t *versions = json_object_get(kws, "versions");
    assert_int_equal(json_array_size(versions), 2);
    /* Semantic order: 1.2.0 before 1.10.0. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(versions, 0), "version")),
                        "1.2.0");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(versions, 0), "variants")),
                     2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(versions, 1), "version")),
                        "1.10.0");
    json_decref(out);

    assert_int_equal(
        fx_call(s->admin, "GET", "/api/v1/bundles?model=acme%2Fkws&version=1.2.0", NULL, &out),
        200);
    json_t *variants = json_object_get(out, "bundles");
    assert_int_equal(json_array_size(variants), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(variants, 0), "id")),
                     ids[1]);
    assert_int_equal(json_array_size(json_object_get(json_array_get(variants, 1), "arches")),
                     0); /* any */
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(variants, 1), "arena_bytes")), 90000);
    json_decref(out);

    char path[64];
    snprintf(path, sizeof path, "/api/v1/bundles/%lld", (long long)ids[2]);
    json_t *rank = json_pack("{s:i}", "rank", 7);
    assert_int_equal(fx_call(s->admin, "PATCH", path, rank, &out), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "rank")), 7);
    json_decref(out);
    json_decref(rank);
    assert_int_equal(fx_call(s->admin, "GET", "/api/v1/bundles/999", NULL, NULL), 404);
}

/* GET with optional extra headers; returns the response (caller frees). */
static hc_response get(hc_client *c, const char *path, const char *h1, const char *h2)
{
    const char *extra[3] = {h1, h2, NULL};
    if (h1 == NULL)
        extra[0] = h2, extra[1] = NULL;
    hc_response r;
    char err[200];
    assert_int_equal(hc_request(c, "GET", path, NULL, NULL, 0, extra, &r, err, sizeof err), 0);
    return r;
}

static void ranged_downloads(void **state)
{
    fx_server *s = *state;
    json_t *out = NULL;
    size_t len;
    fx_bundle_spec spec = {"acme/kws", "2.0.0", 5, NULL, 0, 16, 0};
    uint8_t *b = fx_bundle(s, &spec, &len);
    assert_int_equal(fx_upload(s, b, len, &out), 201);
    json_int_t id = json_integer_value(json_object_get(out, "id"));
    char etag[100], path[64], h1[160], h2[160];
    snprintf(etag, sizeof etag, "\"%s\"", json_string_value(json_object_get(out, "digest")));
    json_decref(out);
    snprintf(path, sizeof path, "/api/v1/bundles/%lld/data", (long long)id);

    hc_response r = get(s->admin, path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, len);
    assert_memory_equal(r.body, b, len);
    assert_string_equal(r.etag, etag);
    hc_response_free(&r);

    /* Partial, then resume from where it stopped with If-Range: the pieces make the bundle. */
    size_t cut = len / 3;
    snprintf(h1, sizeof h1, "Range: bytes=0-%zu", cut - 1);
    r = get(s->admin, path, h1, NULL);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, cut);
    assert_memory_equal(r.body, b, cut);
    char want[96];
    snprintf(want, sizeof want, "bytes 0-%zu/%zu", cut - 1, len);
    assert_string_equal(r.content_range, want);
    hc_response_free(&r);
    snprintf(h1, sizeof h1, "Range: bytes=%zu-", cut);
    snprintf(h2, sizeof h2, "If-Range: %s", etag);
    r = get(s->admin, path, h1, h2);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, len - cut);
    assert_memory_equal(r.body, b + cut, len - cut);
    hc_response_free(&r);

    /* If-Range with another bundle's tag: the whole (current) bundle, not a splice. */
    snprintf(h2, sizeof h2, "If-Range: \"sha256:0000\"");
    r = get(s->admin, path, h1, h2);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, len);
    hc_response_free(&r);

    /* Suffix range, 416 past the end, 304 for a matching If-None-Match. */
    r = get(s->admin, path, "Range: bytes=-10", NULL);
    assert_int_equal(r.status, 206);
    assert_memory_equal(r.body, b + len - 10, 10);
    hc_response_free(&r);
    snprintf(h1, sizeof h1, "Range: bytes=%zu-", len);
    r = get(s->admin, path, h1, NULL);
    assert_int_equal(r.status, 416);
    snprintf(want, sizeof want, "bytes */%zu", len);
    assert_string_equal(r.content_range, want);
    hc_response_free(&r);
    snprintf(h1, sizeof h1, "If-None-Match: %s", etag);
    r = get(s->admin, path, h1, NULL);
    assert_int_equal(r.status, 304);
    hc_response_free(&r);

    /* Devices download through the signed route, only what an assignment of theirs names. */
    fx_device d, other;
    assert_int_equal(fx_device_new(s, &d), 0);
    assert_int_equal(fx_device_new(s, &other), 0);
    char *tok = fx_enroll_token(s, "dl", "[]", 600, 1);
    char *tok2 = fx_enroll_token(s, "elsewhere", "[]", 600, 1);
    assert_int_equal(fx_enroll(s, &d, tok, fx_profile("cortex-m4", 1 << 18, 1 << 20), 0, NULL),
                     201);
    assert_int_equal(fx_enroll(s, &other, tok2, fx_profile("cortex-m4", 1 << 18, 1 << 20), 0, NULL),
                     201);
    snprintf(path, sizeof path, "/api/v1/device/bundles/%lld", (long long)id);
    r = get(d.hc, path, NULL, NULL);
    assert_int_equal(r.status, 404); /* registered, but never assigned to d */
    hc_response_free(&r);
    json_t *dep = json_pack("{s:s,s:s,s:{s:s},s:[i],s:i}", "model", "acme/kws", "version", "2.0.0",
                            "target", "group", "dl", "waves", 100, "soak_s", 0);
    assert_int_equal(fx_call(s->admin, "POST", "/api/v1/deployments", dep, NULL), 201);
    json_decref(dep);
    r = get(d.hc, path, "Range: bytes=100-", NULL);
    assert_int_equal(r.status, 206);
    assert_memory_equal(r.body, b + 100, len - 100);
    hc_response_free(&r);
    r = get(other.hc, path, NULL, NULL); /* enrolled and signed, but not its bundle */
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len > 0 && strstr((const char *)r.body, "\"not_found\"") != NULL, 1);
    hc_response_free(&r);
    r = get(s->admin, path, NULL, NULL);
    assert_int_equal(r.status, 401);
    hc_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/device/bundles/%lld", (long long)id + 100);
    r = get(d.hc, path, NULL, NULL);
    assert_int_equal(r.status, 404);
    hc_response_free(&r);
    /* The bytes are the model: viewers see metadata, never the bundle itself. */
    char *viewer = fx_token(s, "viewer");
    hc_client *vc = fx_client(s, viewer);
    snprintf(path, sizeof path, "/api/v1/bundles/%lld/data", (long long)id);
    r = get(vc, path, NULL, NULL);
    assert_int_equal(r.status, 403);
    hc_response_free(&r);
    hc_close(vc);
    free(viewer);
    fx_device_free(&other);
    free(tok2);
    fx_device_free(&d);
    free(tok);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(uploads_are_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(models_versions_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(ranged_downloads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
