/*
 * The agent's update job against a scripted server (docs/agent.md): the
 * report sequence of an install (downloading, installed-trial, confirmed,
 * delivered at least once across refusals and restarts), Range resume from
 * the engine's journal after a restart, the whole-body fallback, a bundle
 * that changed under the device (failed once, not retried), a KAT failure
 * and a restart during the trial (rolled-back, previous model running, NV
 * counter unchanged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_harness.h"
#include "devauth.h"
#include "host.h"
#include "profile_write.h"

static ufx_bundle v1, v2, big, bad_kat;

static int idle(harness *h)
{
    char buf[32];
    return strcmp(h_str(h, "job.phase", buf, sizeof buf), "idle") == 0;
}

static int reported(harness *h, int64_t dep, const char *state)
{
    char *r = mock_reported(&h->m, dep);
    int found = strstr(r, state) != NULL;
    free(r);
    return found;
}

/* The reported states with consecutive repeats folded (a report may be delivered twice). */
static char *sequence(harness *h, int64_t dep)
{
    char *r = mock_reported(&h->m, dep), *out = calloc(1, strlen(r) + 1), last[32] = "";
    for (char *tok = strtok(r, ","); tok != NULL; tok = strtok(NULL, ","))
        if (strcmp(tok, last) != 0) {
            if (out[0] != '\0')
                strcat(out, ",");
            strcat(out, tok);
            snprintf(last, sizeof last, "%s", tok);
        }
    free(r);
    return out;
}

static void install(harness *h, const ufx_bundle *b, int64_t dep, const char *version)
{
    json_decref(mock_offer(&h->m, b->bytes, b->len, dep, version));
    H_RUN_UNTIL(h, 400, reported(h, dep, "confirmed") && idle(h));
    char buf[32];
    assert_string_equal(h_running(h, buf, sizeof buf), version);
}

static void test_install_reports_in_order(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    install(&h, &v1, 7, "1.0.0");
    char *seq = sequence(&h, 7);
    assert_string_equal(seq, "downloading,installed-trial,confirmed");
    free(seq);
    assert_int_equal(h_int(&h, "nv_counter"), 1);
    assert_int_equal(h.m.bad_signatures, 0);
    /* The last check-in tells the server what runs (P-13). */
    size_t n = mock_checkins(&h.m);
    H_RUN_UNTIL(&h, 10, mock_checkins(&h.m) > n);
    json_t *last = json_array_get(h.m.checkins, mock_checkins(&h.m) - 1);
    json_t *slot = json_array_get(json_object_get(last, "slots"), 0);
    assert_string_equal(json_string_value(json_object_get(last, "active_slot")), "a");
    assert_string_equal(json_string_value(json_object_get(slot, "state")), "active");
    assert_string_equal(json_string_value(json_object_get(slot, "version")), "1.0.0");
    char digest[72] = "sha256:";
    devauth_hex(v1.digest, 32, digest + 7);
    assert_string_equal(json_string_value(json_object_get(slot, "bundle_digest")), digest);
    /* Already running what the server wants: no new download. */
    size_t ranges = json_array_size(h.m.ranges);
    H_RUN_UNTIL(&h, 10, 0);
    assert_int_equal(json_array_size(h.m.ranges), ranges);
    h_teardown(&h);
}

static void test_reports_survive_refusals_and_restart(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    json_decref(mock_offer(&h.m, v1.bytes, v1.len, 8, "1.0.0"));
    H_RUN_UNTIL(&h, 20, json_array_size(h.m.ranges) > 0); /* `desired` arrived */
    h.m.refuse_status = 503;
    snprintf(h.m.refuse_code, sizeof h.m.refuse_code, "internal");
    h.m.refuse_times = -1; /* the server is down from now on */
    H_RUN_UNTIL(&h, 200, idle(&h));
    assert_true(h_int(&h, "pending_reports") >= 2);
    h_close(&h); /* a restart while the server is still down */
    assert_non_null(h_open(&h));
    assert_true(h_int(&h, "pending_reports") >= 2);
    h.m.refuse_times = 0;
    H_RUN_UNTIL(&h, 50, reported(&h, 8, "confirmed"));
    char *seq = sequence(&h, 8);
    assert_non_null(strstr(seq, "installed-trial,confirmed"));
    free(seq);
    assert_int_equal(h_int(&h, "pending_reports"), 0);
    h_teardown(&h);
}

static void test_resume_after_restart_uses_the_journal(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    h.cfg.download_chunk = 4096;
    assert_non_null(h_open(&h));
    json_decref(mock_offer(&h.m, big.bytes, big.len, 9, "3.0.0"));
    H_RUN_UNTIL(&h, 100, h_int(&h, "job.offset") >= 12288);
    long at_kill = h_int(&h, "job.offset");
    size_t before = json_array_size(h.m.ranges);
    h_close(&h);
    assert_non_null(h_open(&h));
    H_RUN_UNTIL(&h, 400, reported(&h, 9, "confirmed") && idle(&h));
    const char *first = json_string_value(json_array_get(h.m.ranges, before));
    long from = strtol(first + strlen("bytes="), NULL, 10);
    assert_true(from > 0 && from <= at_kill &&
                from % 4096 == 0); /* the erase unit of the durable count */
    assert_true(strstr(first, "bytes=") == first);
    char buf[32];
    assert_string_equal(h_running(&h, buf, sizeof buf), "3.0.0");
    h_teardown(&h);
}

static void test_whole_body_fallback(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    h.cfg.download_chunk = 1024;
    h.m.bundle_mode = BUNDLE_WHOLE;
    assert_non_null(h_open(&h));
    install(&h, &v1, 10, "1.0.0");
    h_teardown(&h);
}

static void test_changed_bundle_fails_once(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    h.m.bundle_mode = BUNDLE_CHANGED;
    assert_non_null(h_open(&h));
    json_decref(mock_offer(&h.m, v1.bytes, v1.len, 11, "1.0.0"));
    H_RUN_UNTIL(&h, 50, reported(&h, 11, "failed"));
    size_t ranges = json_array_size(h.m.ranges);
    H_RUN_UNTIL(&h, 20, 0); /* the server still offers it: the device does not try again */
    assert_int_equal(json_array_size(h.m.ranges), ranges);
    json_t *last = json_array_get(h.m.checkins, mock_checkins(&h.m) - 1);
    assert_int_equal(json_array_size(json_object_get(last, "reports")), 0);
    char buf[32];
    assert_string_equal(h_running(&h, buf, sizeof buf), "");
    h_teardown(&h);
}

static void test_bytes_not_announced_fail(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    json_decref(mock_offer(&h.m, v1.bytes, v1.len, 16, "1.0.0"));
    pthread_mutex_lock(&h.m.lock);
    h.m.bundle[v1.len - 1] ^= 0x01; /* same size and ETag, other bytes: a broken cache or proxy */
    pthread_mutex_unlock(&h.m.lock);
    H_RUN_UNTIL(&h, 50, reported(&h, 16, "failed"));
    char *seq = sequence(&h, 16);
    assert_string_equal(seq, "downloading,failed");
    free(seq);
    json_t *st = h_status(&h);
    json_t *slots = json_object_get(st, "slots");
    assert_string_equal(json_string_value(json_object_get(json_array_get(slots, 0), "state")),
                        "empty");
    json_decref(st);
    h_teardown(&h);
}

static void test_kat_failure_rolls_back(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    install(&h, &v1, 12, "1.0.0");
    json_decref(mock_offer(&h.m, bad_kat.bytes, bad_kat.len, 13, "2.1.0"));
    H_RUN_UNTIL(&h, 400, reported(&h, 13, "rolled-back") && idle(&h));
    char *seq = sequence(&h, 13);
    assert_string_equal(seq, "downloading,installed-trial,rolled-back");
    free(seq);
    char buf[32];
    assert_string_equal(h_running(&h, buf, sizeof buf), "1.0.0");
    assert_int_equal(h_int(&h, "nv_counter"), 1);
    json_t *st = h_status(&h);
    assert_true(json_is_true(json_object_get(json_object_get(st, "model"), "loaded")));
    json_decref(st);
    /* The reason names the vector, the output and the byte. */
    size_t i, k;
    json_t *body, *r;
    int found = 0;
    json_array_foreach(h.m.checkins, i, body)
        json_array_foreach(json_object_get(body, "reports"), k, r)
    {
        const char *reason = json_string_value(json_object_get(r, "reason"));
        found |= reason != NULL && strstr(reason, "kat_failed: vector 0 output 0 byte 2") != NULL;
    }
    assert_true(found);
    h_teardown(&h);
}

static void test_restart_during_trial_rolls_back(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_setup(&h), 0);
    assert_non_null(h_open(&h));
    install(&h, &v1, 14, "1.0.0");
    h_close(&h);
    h.cfg.health_seconds = 600;
    assert_non_null(h_open(&h));
    json_decref(mock_offer(&h.m, v2.bytes, v2.len, 15, "2.0.0"));
    char buf[32];
    H_RUN_UNTIL(&h, 200, strcmp(h_str(&h, "job.phase", buf, sizeof buf), "health") == 0);
    assert_string_equal(h_running(&h, buf, sizeof buf), "2.0.0");
    h_close(&h); /* power cut: nothing graceful happens to the journal on close */
    h.cfg.health_seconds = 0;
    assert_non_null(h_open(&h));
    assert_string_equal(h_running(&h, buf, sizeof buf), "1.0.0");
    H_RUN_UNTIL(&h, 20, reported(&h, 15, "rolled-back"));
    assert_true(reported(&h, 15, "rolled-back"));
    assert_int_equal(h_int(&h, "nv_counter"), 1);
    /* And it does not install the rolled-back bundle again while the server still offers it. */
    H_RUN_UNTIL(&h, 20, 0);
    assert_string_equal(h_running(&h, buf, sizeof buf), "1.0.0");
    h_teardown(&h);
}

/* A KAT whose first output byte 2 is wrong for v1's model (a device computing differently). */
static int make_bad_kat(uint8_t **kat, size_t *len)
{
    host_model hm;
    char err[200];
    uint8_t *copy = aligned_alloc(16, (v1.model_len + 15) & ~(size_t)15);
    memcpy(copy, v1.model, v1.model_len);
    if (host_model_open_bytes(&hm, copy, v1.model_len, err, sizeof err) != TMO_OK)
        return -1;
    float in[8] = {0.5f, -1, 2, 0, 0.25f, 1, -2, 3};
    tmo_io io;
    tmo_interp_input(&hm.interp, 0, &io);
    memcpy(io.data, in, sizeof in);
    tmo_interp_invoke(&hm.interp);
    tmo_interp_output(&hm.interp, 0, &io);
    uint8_t *out = malloc(io.bytes);
    memcpy(out, io.data, io.bytes);
    out[2] ^= 0x10;
    host_kat_vector v;
    memset(&v, 0, sizeof v);
    v.in[0] = (const uint8_t *)in;
    v.in_len[0] = sizeof in;
    v.out[0] = out;
    v.out_len[0] = (uint32_t)io.bytes;
    int rc = host_kat_encode(&v, 1, 1, 1, kat, len);
    free(out);
    host_model_close(&hm);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    if (ufx_setup() != 0)
        return -1;
    const ufx_spec s1 = {"1.0.0", 1, 16, NULL, 0, NULL, 0, 0},
                   s2 = {"2.0.0", 1, 24, NULL, 0, NULL, 0, 0},
                   s3 = {"3.0.0", 1, 700, NULL, 0, NULL, 0, 0};
    if (ufx_make(&s1, &v1) != 0 || ufx_make(&s2, &v2) != 0 || ufx_make(&s3, &big) != 0)
        return -1;
    uint8_t *kat = NULL;
    size_t kat_len = 0;
    if (make_bad_kat(&kat, &kat_len) != 0)
        return -1;
    const ufx_spec sk = {"2.1.0", 2,   16,      NULL,
                         0,       kat, kat_len, 0}; /* same model as v1, wrong answers */
    int rc = ufx_make(&sk, &bad_kat);
    free(kat);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    ufx_bundle_free(&v1);
    ufx_bundle_free(&v2);
    ufx_bundle_free(&big);
    ufx_bundle_free(&bad_kat);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_reports_in_order),
        cmocka_unit_test(test_reports_survive_refusals_and_restart),
        cmocka_unit_test(test_resume_after_restart_uses_the_journal),
        cmocka_unit_test(test_whole_body_fallback),
        cmocka_unit_test(test_changed_bundle_fails_once),
        cmocka_unit_test(test_bytes_not_announced_fail),
        cmocka_unit_test(test_kat_failure_rolls_back),
        cmocka_unit_test(test_restart_during_trial_rolls_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
