/*
 * The server's pure decisions, checked against hand-derived answers:
 * variant fitting and choice (fit.c), wave sizes and deterministic
 * membership (waves.c), Range headers (range.c, RFC 9110 section 14
 * examples), and the device state machine's report rules (deploy_ctl.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "deploy_ctl.h"
#include "fit.h"
#include "http.h"
#include "ratelimit.h"
#include "srv.h"
#include "json_util.h"
#include "range.h"
#include "waves.h"

static fit_device m4_device(void)
{
    fit_device d;
    memset(&d, 0, sizeof d);
    strcpy(d.arch, "cortex-m4");
    d.runtime = (tmo_semver){0, 2, 0};
    d.ram_bytes = 256 * 1024;
    d.flash_bytes = 1024 * 1024;
    fit_ops_from_json("[\"CONV_2D\",\"FULLY_CONNECTED\",\"SOFTMAX\",\"NOT_AN_OP\"]", &d.ops);
    return d;
}

static fit_variant variant(int64_t id, const char *arch, int64_t arena, const char *ops)
{
    fit_variant v;
    memset(&v, 0, sizeof v);
    v.bundle_id = id;
    if (arch != NULL) {
        strcpy(v.arches[0], arch);
        v.arch_count = 1;
    }
    v.min_runtime = (tmo_semver){0, 1, 0};
    v.arena_bytes = arena;
    v.flash_bytes = 50000;
    fit_ops_from_json(ops, &v.ops);
    return v;
}

static void op_codes_match_the_schema(void **state)
{
    (void)state;
    /* BuiltinOperator values from the TFLite schema (../shared/ref/schema.fbs). */
    assert_int_equal(fit_op_code("ADD"), 0);
    assert_int_equal(fit_op_code("CONV_2D"), 3);
    assert_int_equal(fit_op_code("FULLY_CONNECTED"), 9);
    assert_int_equal(fit_op_code("SOFTMAX"), 25);
    assert_int_equal(fit_op_code("NOT_AN_OP"), -1);
}

static void each_requirement_can_refuse(void **state)
{
    (void)state;
    fit_device d = m4_device();
    char why[200];
    fit_variant v = variant(1, "cortex-m4", 100000, "[\"CONV_2D\"]");
    assert_true(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "");

    v = variant(1, "cortex-m7", 100000, "[\"CONV_2D\"]");
    assert_false(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "arch cortex-m4 not in [cortex-m7]");

    v = variant(1, NULL, 100000, "[\"CONV_2D\"]"); /* no arch list: any */
    assert_true(fit_check(&d, &v, why, sizeof why));

    v.min_runtime = (tmo_semver){0, 3, 0};
    assert_false(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "runtime 0.2.0 < required 0.3.0");
    v.min_runtime = (tmo_semver){0, 2, 0}; /* equal is enough */
    assert_true(fit_check(&d, &v, why, sizeof why));

    v.arena_bytes = 256 * 1024 + 1;
    assert_false(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "arena 262145 > ram 262144");
    v.arena_bytes = 256 * 1024; /* exactly fits */
    assert_true(fit_check(&d, &v, why, sizeof why));

    v.flash_bytes = 1024 * 1024 + 1;
    assert_false(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "model 1048577 > flash 1048576");

    v = variant(1, NULL, 1000, "[\"CONV_2D\",\"DEPTHWISE_CONV_2D\"]");
    assert_false(fit_check(&d, &v, why, sizeof why));
    assert_string_equal(why, "operator DEPTHWISE_CONV_2D not supported");
}

static void best_variant_is_chosen(void **state)
{
    (void)state;
    fit_device d = m4_device();
    char reason[400];
    fit_variant v[4] = {
        variant(10, NULL, 120000, "[\"CONV_2D\"]"),        /* generic, fits */
        variant(11, "cortex-m4", 100000, "[\"CONV_2D\"]"), /* built for m4, fits */
        variant(12, "cortex-m4", 300000, "[\"CONV_2D\"]"), /* too big */
        variant(13, "cortex-m4", 150000, "[\"CONV_2D\"]"), /* m4, fits, bigger arena */
    };
    /* Same rank: arch-specific beats generic, then the larger arena that fits. */
    assert_int_equal(fit_pick(&d, v, 4, reason, sizeof reason), 3);
    assert_string_equal(reason, "");
    /* An operator-set rank wins over everything else. */
    v[0].rank = 1;
    assert_int_equal(fit_pick(&d, v, 4, reason, sizeof reason), 0);
    /* Nothing fits: every variant's reason is given. */
    fit_device small = d;
    small.ram_bytes = 1000;
    assert_int_equal(fit_pick(&small, v, 2, reason, sizeof reason), -1);
    assert_string_equal(reason, "no variant fits: bundle 10: arena 120000 > ram 1000; "
                                "bundle 11: arena 100000 > ram 1000");
    assert_int_equal(fit_pick(&d, v, 0, reason, sizeof reason), -1);
}

static void device_profile_parses(void **state)
{
    (void)state;
    fit_device d;
    assert_int_equal(
        fit_device_from_json("{\"arch\":\"esp32s3\",\"runtime_version\":\"1.2.3\",\"ram_bytes\":5,"
                             "\"flash_bytes\":6,\"ops\":[\"ADD\"]}",
                             &d),
        0);
    assert_string_equal(d.arch, "esp32s3");
    assert_int_equal(d.runtime.major, 1);
    assert_int_equal(d.runtime.patch, 3);
    assert_int_equal(d.ram_bytes, 5);
    assert_int_equal(d.ops.bits[0], 1); /* ADD = 0 */
    assert_int_equal(fit_device_from_json("{\"arch\":\"x\"}", &d), -1);
    assert_int_equal(fit_device_from_json("not json", &d), -1);
}

static void wave_sizes_round_up(void **state)
{
    (void)state;
    const int pct[4] = {1, 10, 50, 100};
    /* 1000 devices: 10, 100, 500, 1000 cumulative. */
    assert_int_equal(waves_cumulative(1000, pct, 0), 10);
    assert_int_equal(waves_cumulative(1000, pct, 1), 100);
    assert_int_equal(waves_cumulative(1000, pct, 2), 500);
    assert_int_equal(waves_cumulative(1000, pct, 3), 1000);
    /* 5 devices: ceil(0.05) = 1, ceil(0.5) = 1, ceil(2.5) = 3, 5: the canary is one device. */
    assert_int_equal(waves_of_position(0, 5, pct, 4), 0);
    assert_int_equal(waves_of_position(1, 5, pct, 4), 2);
    assert_int_equal(waves_of_position(2, 5, pct, 4), 2);
    assert_int_equal(waves_of_position(3, 5, pct, 4), 3);
    assert_int_equal(waves_of_position(4, 5, pct, 4), 3);
    const int two[2] = {50, 100};
    assert_int_equal(waves_of_position(1, 4, two, 2), 0);
    assert_int_equal(waves_of_position(2, 4, two, 2), 1);
}

static void wave_order_is_a_stable_hash(void **state)
{
    (void)state;
    /* FNV-1a 64 of "" is its offset basis; of "a" the published test vector 0xaf63dc4c8601ec8c. */
    uint64_t h = 0xcbf29ce484222325ull;
    const char *text = "7/abc";
    for (const char *p = text; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    assert_true(waves_order_key(7, "abc") == h);
    uint64_t a = 0xcbf29ce484222325ull;
    a = (a ^ 'a') * 0x100000001b3ull;
    assert_true(a == 0xaf63dc4c8601ec8cull);
    assert_true(waves_order_key(7, "abc") !=
                waves_order_key(8, "abc")); /* differs per deployment */
}

static void wave_lists_are_validated(void **state)
{
    (void)state;
    int p[10];
    assert_int_equal(waves_from_json("[1,10,50,100]", p, 10), 4);
    assert_int_equal(p[2], 50);
    assert_int_equal(waves_from_json("[100]", p, 10), 1);
    assert_int_equal(waves_from_json("[10,5,100]", p, 10), 0); /* decreasing */
    assert_int_equal(waves_from_json("[10,50]", p, 10), 0);    /* does not end at 100 */
    assert_int_equal(waves_from_json("[0,100]", p, 10), 0);
    assert_int_equal(waves_from_json("[1,2,3,4,5,6,7,8,9,10,100]", p, 10), 0); /* too many */
    assert_int_equal(waves_from_json("{}", p, 10), 0);
}

static void ranges_follow_rfc9110(void **state)
{
    (void)state;
    byte_range r;
    /* RFC 9110 14.1.2 examples on a 10000-byte representation. */
    assert_int_equal(range_parse("bytes=0-499", 10000, &r), RANGE_OK);
    assert_true(r.first == 0 && r.last == 499);
    assert_int_equal(range_parse("bytes=500-999", 10000, &r), RANGE_OK);
    assert_true(r.first == 500 && r.last == 999);
    assert_int_equal(range_parse("bytes=-500", 10000, &r), RANGE_OK);
    assert_true(r.first == 9500 && r.last == 9999);
    assert_int_equal(range_parse("bytes=9500-", 10000, &r), RANGE_OK);
    assert_true(r.first == 9500 && r.last == 9999);
    /* Last position past the end is clipped; a suffix longer than the file is the whole file. */
    assert_int_equal(range_parse("bytes=9990-20000", 10000, &r), RANGE_OK);
    assert_true(r.last == 9999);
    assert_int_equal(range_parse("bytes=-20000", 10000, &r), RANGE_OK);
    assert_true(r.first == 0 && r.last == 9999);
    /* Unsatisfiable: starts at or after the end, or an empty suffix. */
    assert_int_equal(range_parse("bytes=10000-", 10000, &r), RANGE_UNSATISFIABLE);
    assert_int_equal(range_parse("bytes=-0", 10000, &r), RANGE_UNSATISFIABLE);
    /* Ignored (serve the whole thing): absent, malformed, several ranges, other units. */
    assert_int_equal(range_parse(NULL, 10000, &r), RANGE_NONE);
    assert_int_equal(range_parse("bytes=5-1", 10000, &r), RANGE_NONE);
    assert_int_equal(range_parse("bytes=0-1,5-6", 10000, &r), RANGE_NONE);
    assert_int_equal(range_parse("items=0-1", 10000, &r), RANGE_NONE);
    assert_int_equal(range_parse("bytes=abc", 10000, &r), RANGE_NONE);
    assert_int_equal(range_parse("bytes=99999999999999999999999-", 10000, &r), RANGE_NONE);
    assert_true(range_etag_matches("\"sha256:ab\"", "\"sha256:ab\""));
    assert_true(range_etag_matches("sha256:ab", "\"sha256:ab\""));
    assert_true(range_etag_matches("*", "\"sha256:ab\""));
    assert_false(range_etag_matches("\"sha256:ac\"", "\"sha256:ab\""));
    assert_false(range_etag_matches(NULL, "\"sha256:ab\""));
}

static void device_states(void **state)
{
    (void)state;
    assert_true(dstate_terminal("confirmed") && dstate_terminal("failed") &&
                dstate_terminal("rolled-back") && dstate_terminal("skipped") &&
                dstate_terminal("cancelled"));
    assert_false(dstate_terminal("pending") || dstate_terminal("downloading") ||
                 dstate_terminal("installed-trial"));
    assert_true(dstate_reportable("downloading") && dstate_reportable("rolled-back"));
    assert_false(dstate_reportable("pending") || dstate_reportable("skipped") ||
                 dstate_reportable("cancelled"));
    st_assignment a;
    memset(&a, 0, sizeof a);
    strcpy(a.state, "pending");
    strcpy(a.dep_state, "active");
    a.wave = 1;
    a.dep_current_wave = 0;
    assert_false(deploy_assignment_live(&a)); /* wave not open */
    a.dep_current_wave = 1;
    assert_true(deploy_assignment_live(&a));
    strcpy(a.dep_state, "paused");
    assert_false(deploy_assignment_live(&a)); /* paused: no new device starts */
    strcpy(a.state, "downloading");
    assert_true(deploy_assignment_live(&a)); /* ... but one that started continues */
    strcpy(a.state, "failed");
    assert_false(deploy_assignment_live(&a));
}

/* Error messages quote request bytes: they must still make a JSON body (found by fuzz_server_req). */
static void error_messages_stay_json(void **state)
{
    (void)state;
    const char *paths[] = {"/ap\x9ai", "/\xc3", "/\xed\xa0\x80", "/\xf4\x90\x80\x80",
                           "/ok-\xc3\xa9"};
    const char *want[] = {"no route /ap?i", "no route /?", "no route /???", "no route /????",
                          "no route /ok-\xc3\xa9"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_resp r = {.status = 500};
        resp_error(&r, 404, "not_found", "no route %s", paths[i]);
        assert_int_equal(r.status, 404);
        assert_non_null(r.body);
        json_t *v = json_loadb(r.body, r.body_len, 0, NULL);
        assert_non_null(v);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(v, "error"), "message")), want[i]);
        json_decref(v);
        free(r.body);
    }
}

static void access_log_hides_credentials(void **state)
{
    (void)state;
    char out[256];
    http_redact_uri("/api/v1/x?token=abc&group=g&Api_Key=k1&sig=zz&tokens", out, sizeof out);
    assert_string_equal(out,
                        "/api/v1/x?token=REDACTED&group=g&Api_Key=REDACTED&sig=REDACTED&tokens");
    http_redact_uri("/plain/path", out, sizeof out);
    assert_string_equal(out, "/plain/path");
    http_redact_uri("/p?password=hunter2", out, 12); /* truncated, still terminated, no secret */
    assert_true(strlen(out) < 12);
    assert_null(strstr(out, "hunter2"));
}

static void rate_limit_is_per_address(void **state)
{
    (void)state;
    ratelimit *l = ratelimit_new(10, 3); /* 10/s, burst 3 */
    struct sockaddr_in a = {.sin_family = AF_INET}, b = a;
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
    inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
    const struct sockaddr *pa = (const struct sockaddr *)&a, *pb = (const struct sockaddr *)&b;
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(l, pa, t), 0);
    int64_t wait = ratelimit_take(l, pa, t);
    assert_true(wait > 0 && wait <= 101);          /* one token per 100 ms */
    assert_int_equal(ratelimit_take(l, pb, t), 0); /* its own bucket */
    assert_int_equal(ratelimit_take(l, pa, t + 100), 0);
    assert_true(ratelimit_take(l, pa, t + 100) > 0);
    assert_int_equal(ratelimit_take(l, pa, t + 10000), 0); /* refilled, capped at the burst */
    assert_int_equal(ratelimit_take(l, pa, t + 10000), 0);
    assert_int_equal(ratelimit_take(l, pa, t + 10000), 0);
    assert_true(ratelimit_take(l, pa, t + 10000) > 0);
    /* Many more clients than slots: nobody innocent is refused for another's traffic. */
    for (uint32_t i = 0; i < 20000; i++) {
        struct sockaddr_in c = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u + i)};
        assert_int_equal(ratelimit_take(l, (const struct sockaddr *)&c, t + 20000), 0);
    }
    ratelimit_free(l);
}

static void counters_saturate(void **state)
{
    (void)state;
    assert_int_equal(srv_counter_add(1, 2), 3);
    assert_int_equal(srv_counter_add(SRV_COUNTER_MAX - 1, 5), SRV_COUNTER_MAX);
    assert_int_equal(srv_counter_add(SRV_COUNTER_MAX, SRV_COUNTER_MAX), SRV_COUNTER_MAX);
    assert_int_equal(srv_counter_add(INT64_MAX, INT64_MAX), SRV_COUNTER_MAX);
    assert_int_equal(srv_counter_add(-5, 7), 7); /* negative inputs count as 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(op_codes_match_the_schema),
        cmocka_unit_test(each_requirement_can_refuse),
        cmocka_unit_test(best_variant_is_chosen),
        cmocka_unit_test(device_profile_parses),
        cmocka_unit_test(wave_sizes_round_up),
        cmocka_unit_test(wave_order_is_a_stable_hash),
        cmocka_unit_test(wave_lists_are_validated),
        cmocka_unit_test(ranges_follow_rfc9110),
        cmocka_unit_test(device_states),
        cmocka_unit_test(error_messages_stay_json),
        cmocka_unit_test(access_log_hides_credentials),
        cmocka_unit_test(rate_limit_is_per_address),
        cmocka_unit_test(counters_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
