/*
 * The agent's network state machine against a scripted server
 * (docs/agent.md, docs/protocol.md): enrollment once (P-8) and signed
 * check-ins (P-10, P-11) with what P-13 asks for; capped exponential backoff
 * with jitter while the server refuses; the check-in interval afterwards;
 * clock correction from X-TMO-Server-Time after a stale refusal (P-12);
 * re-enrollment when the server forgot the device; giving up on an expired
 * token; and the local UNIX-socket API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_harness.h"
#include "devauth.h"

static void test_enroll_once_then_signed_checkins(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    H_RUN_UNTIL(&h, 20, mock_checkins(&h.m) >= 3);
    assert_int_equal(mock_checkins(&h.m), 3);
    assert_int_equal(h.m.enrollments, 1);
    assert_int_equal(h.m.bad_signatures, 0); /* the mock verified every signature (P-11) */
    assert_string_equal(agent_device_id(h.a), h.m.device_id); /* P-6, recomputed by the mock */
    /* The key file is the device's own (0600, P-5). */
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/device.key", h.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* P-13 body: slots, counter, runtime, health; the profile only in the first one. */
    json_t *first = json_array_get(h.m.checkins, 0), *third = json_array_get(h.m.checkins, 2);
    assert_true(json_is_object(json_object_get(first, "profile")));
    assert_null(json_object_get(third, "profile"));
    assert_int_equal(json_integer_value(json_object_get(first, "nv_counter")), 0);
    assert_string_equal(json_string_value(json_object_get(first, "runtime_version")), "0.1.0");
    json_t *slots = json_object_get(first, "slots");
    assert_int_equal(json_array_size(slots), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(slots, 0), "state")),
                        "empty");
    assert_true(json_is_object(json_object_get(first, "health")));
    /* Check-ins come every interval (1 s, +-10 % jitter). */
    uint64_t t0 = h_now();
    H_RUN_UNTIL(&h, 20, mock_checkins(&h.m) >= 8);
    uint64_t per = (h_now() - t0) / 5;
    assert_true(per >= 900 && per <= 1100);
    /* A restart keeps the identity: no second enrollment, same id. */
    char id[40];
    snprintf(id, sizeof id, "%s", agent_device_id(h.a));
    h.cfg.enroll_token = NULL;
    assert_non_null(h_open(&h));
    assert_string_equal(agent_device_id(h.a), id);
    H_RUN_UNTIL(&h, 20, mock_checkins(&h.m) >= 9);
    assert_int_equal(h.m.enrollments, 1);
    h_teardown(&h);
}

static void test_backoff_is_exponential_capped_and_jittered(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    H_RUN_UNTIL(&h, 10, mock_checkins(&h.m) >= 1);
    h.m.refuse_status = 503;
    snprintf(h.m.refuse_code, sizeof h.m.refuse_code, "internal");
    h.m.refuse_times = -1;
    uint64_t cap = 8000, seen_max = 0;
    for (int k = 1; k <= 8; k++) {
        int before = h.m.refused;
        int64_t w = 0;
        while (h.m.refused == before)
            w = h_step(&h);
        uint64_t d = 1000;
        for (int i = 1; i < k && d < cap; i++)
            d *= 2;
        if (d > cap)
            d = cap;
        if ((uint64_t)w < d / 2 || (uint64_t)w > d)
            fail_msg("retry %d waited %lld ms, expected %llu..%llu", k, (long long)w,
                     (unsigned long long)(d / 2), (unsigned long long)d);
        if ((uint64_t)w > seen_max)
            seen_max = (uint64_t)w;
    }
    assert_true(seen_max <= cap);
    /* Recovered: back to the interval, and the failures did not count as check-ins. */
    h.m.refuse_times = 0;
    size_t n = mock_checkins(&h.m);
    H_RUN_UNTIL(&h, 20, mock_checkins(&h.m) > n);
    int64_t w = h_step(&h);
    assert_true(w >= 900 && w <= 1100);
    assert_true(h_int(&h, "checkins_failed") >= 8);
    h_teardown(&h);
}

static void test_stale_clock_is_corrected(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    h.m.max_skew_ms = 2000;
    h.cfg.clock_skew_ms = -600000; /* ten minutes slow */
    assert_non_null(h_open(&h));
    H_RUN_UNTIL(&h, 10, mock_checkins(&h.m) >= 1);
    assert_int_equal(mock_checkins(&h.m), 1);
    long off = h_int(&h, "clock_offset_ms");
    assert_true(off > 598000 && off < 602000);
    char buf[64];
    assert_string_equal(h_str(&h, "last_refusal", buf, sizeof buf), "");
    assert_int_equal(h_int(&h, "checkins_failed"),
                     0); /* corrected and retried within one check-in */
    h_teardown(&h);
}

static void test_forgotten_device_enrolls_again(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    H_RUN_UNTIL(&h, 10, mock_checkins(&h.m) >= 1);
    h.m.refuse_status = 401;
    snprintf(h.m.refuse_code, sizeof h.m.refuse_code, "unknown_device");
    h.m.refuse_times = 1;
    H_RUN_UNTIL(&h, 20, mock_checkins(&h.m) >= 2);
    assert_int_equal(h.m.enrollments, 2);
    h_teardown(&h);
}

static void test_expired_token_gives_up(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    h.cfg.enroll_token = "expired";
    assert_non_null(h_open(&h));
    assert_int_equal(agent_step(h.a), AGENT_FATAL);
    assert_non_null(strstr(agent_last_error(h.a), "enrollment_token_expired"));
    /* And without any token there is nothing to try. */
    h.cfg.enroll_token = NULL;
    assert_non_null(h_open(&h));
    assert_int_equal(agent_step(h.a), AGENT_FATAL);
    assert_int_equal(mock_checkins(&h.m), 0);
    h_teardown(&h);
}

/* One request to the local API; returns the status byte, payload into out. */
static int local_call(const char *path, char op, const void *payload, uint32_t len, uint8_t *out,
                      uint32_t *out_len)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    uint8_t hdr[8] = {
        (uint8_t)op,         0, 0, 0, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
        (uint8_t)(len >> 24)};
    assert_int_equal(write(fd, hdr, 8), 8);
    if (len > 0)
        assert_int_equal(write(fd, payload, len), (ssize_t)len);
    size_t got = 0;
    while (got < 8) {
        ssize_t n = read(fd, hdr + got, 8 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    *out_len =
        (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24;
    for (got = 0; got < *out_len;) {
        ssize_t n = read(fd, out + got, *out_len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    close(fd);
    return hdr[0];
}

static void test_local_api(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    char path[100], err[200];
    snprintf(path, sizeof path, "%s/api.sock", h.dir);
    agent_local *l = agent_local_start(h.a, path, err, sizeof err);
    assert_non_null(l);
    static uint8_t out[1 << 16];
    uint32_t n = 0;
    float in[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(local_call(path, 'I', in, sizeof in, out, &n), 1); /* no model yet */
    out[n] = 0;
    assert_non_null(strstr((char *)out, "no model"));
    /* Install one (the update tests cover how), then run it. */
    ufx_bundle b;
    const ufx_spec spec = {"1.0.0", 1, 16, NULL, 0, NULL, 0, 0};
    assert_int_equal(ufx_make(&spec, &b), 0);
    json_decref(mock_offer(&h.m, b.bytes, b.len, 3, "1.0.0"));
    char buf[32];
    H_RUN_UNTIL(&h, 100,
                strcmp(h_running(&h, buf, sizeof buf), "1.0.0") == 0 &&
                    strcmp(h_str(&h, "job.phase", buf, sizeof buf), "idle") == 0);
    assert_int_equal(local_call(path, 'I', in, sizeof in, out, &n), 0);
    assert_int_equal(n, 16 * sizeof(float));
    /* out[j] = sum_i w[j][i] in[i] + b[j] with in = e0: w[j][0] + b[j], from the fixture's formulas. */
    for (int j = 0; j < 16; j++) {
        float want = (float)((j * 8 * 7 + 16) % 11) - 5.0f + 0.5f * (float)j, got;
        memcpy(&got, out + 4 * j, 4);
        assert_true(got == want);
    }
    assert_int_equal(local_call(path, 'I', in, 5, out, &n),
                     1); /* wrong size: refused, not counted */
    assert_int_equal(local_call(path, 'X', NULL, 0, out, &n), 1);
    assert_int_equal(local_call(path, 'S', NULL, 0, out, &n), 0);
    json_t *s = json_loadb((char *)out, n, 0, NULL);
    json_t *model = json_object_get(s, "model");
    assert_int_equal(json_integer_value(json_object_get(model, "inferences")), 1);
    assert_int_equal(json_integer_value(json_object_get(model, "errors")), 0);
    json_decref(s);
    agent_local_stop(l);
    ufx_bundle_free(&b);
    h_teardown(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enroll_once_then_signed_checkins),
        cmocka_unit_test(test_backoff_is_exponential_capped_and_jittered),
        cmocka_unit_test(test_stale_clock_is_corrected),
        cmocka_unit_test(test_forgotten_device_enrolls_again),
        cmocka_unit_test(test_expired_token_gives_up),
        cmocka_unit_test(test_local_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
