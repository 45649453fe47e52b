/*
 * Telemetry in the store and its aggregation (server/store/sqlite/
 * sqlite_telemetry.c, server/tel_agg.c, server/tel_retention.c):
 *   - a report is stored once per (device, sequence range): the same
 *     sequence again, or a range overlapping a stored one, is a duplicate;
 *     after old rows are pruned the device's seq_floor keeps refusing them;
 *   - scans filter by device, group, deployment (with the wave), model;
 *   - aggregation: totals equal the sums of what was stored, per series;
 *   - roll-up of old windows into hourly merged rows keeps every total and
 *     the latency histogram exact while the row count drops;
 *   - silent devices are listed by their last activity.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tel_fixture.h"
#include "telemetry.h"

#define HOUR 3600000LL

static char tmpdir[] = "/tmp/tmo-telstore-XXXXXX";

typedef struct fx {
    store *st;
} fx;

static int setup(void **state)
{
    static int n;
    fx *f = calloc(1, sizeof *f);
    char url[300], err[300];
    snprintf(url, sizeof url, "sqlite:%s/t%d.db", tmpdir, n++);
    f->st = store_open(url, err, sizeof err);
    assert_non_null(f->st);
    int64_t v;
    assert_int_equal(ST(f->st, migrate, &v), ST_OK);
    assert_true(v >= 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    free(f);
    return 0;
}

static void dev_id(int i, char out[33])
{
    snprintf(out, 33, "%032x", (unsigned)(i + 1));
}

static void add_device(fx *f, int i, const char *group, int64_t last_seen)
{
    st_device d;
    memset(&d, 0, sizeof d);
    dev_id(i, d.id);
    memset(d.public_key, 4, sizeof d.public_key);
    st_copy(d.group, sizeof d.group, group);
    st_copy(d.tags_json, sizeof d.tags_json, "[]");
    d.profile_json = "{}";
    assert_int_equal(ST(f->st, device_insert, &d), ST_OK);
    if (last_seen > 0) {
        st_checkin c = {last_seen, "{}", "", 0, NULL};
        assert_int_equal(ST(f->st, device_checkin, d.id, &c), ST_OK);
    }
}

/* Stores one window (seq, n inferences in latency bucket b) of device i at time at. */
static int put(fx *f, int i, uint64_t seq, uint32_t n, uint32_t errors, int b, int64_t at,
               const char *version)
{
    tfx_spec s = {seq, n, errors, b, 0.9f, 0.1f, 0, 0x11};
    size_t len;
    uint8_t *bytes = tfx_report(&s, &len);
    assert_non_null(bytes);
    st_report row;
    host_report rep;
    char err[200];
    memset(&row, 0, sizeof row);
    assert_int_equal(tel_row_from_report(bytes, len, &row, &rep, err, sizeof err), 0);
    host_report_free(&rep);
    dev_id(i, row.device_id);
    st_copy(row.model, sizeof row.model, "kws");
    st_copy(row.version, sizeof row.version, version);
    row.at = row.received_at = at;
    int rc = ST(f->st, report_insert, &row, 0);
    free(bytes);
    return rc;
}

static void dedup_by_sequence(void **state)
{
    fx *f = *state;
    add_device(f, 0, "lab", 0);
    assert_int_equal(put(f, 0, 1, 100, 0, 4, 1000, "1.0.0"), ST_OK);
    assert_int_equal(put(f, 0, 2, 100, 0, 4, 2000, "1.0.0"), ST_OK);
    assert_int_equal(put(f, 0, 2, 100, 0, 4, 2000, "1.0.0"), ST_CONFLICT); /* re-uploaded */
    assert_int_equal(put(f, 0, 1, 50, 0, 4, 9000, "1.0.0"), ST_CONFLICT); /* same seq, other body */
    assert_int_equal(put(f, 0, 5, 100, 0, 4, 5000, "1.0.0"), ST_OK);      /* gaps are fine */
    assert_int_equal(put(f, 0, 3, 100, 0, 4, 3000, "1.0.0"), ST_OK);      /* and late arrivals */
    add_device(f, 1, "lab", 0);
    assert_int_equal(put(f, 1, 1, 100, 0, 4, 1000, "1.0.0"), ST_OK); /* per device */
    st_tdevice t;
    assert_int_equal(ST(f->st, tdevice_get, "00000000000000000000000000000001", &t), ST_OK);
    assert_int_equal(t.reports, 4);
    assert_int_equal(t.duplicates, 2);
    assert_int_equal(t.inferences, 400);
    int64_t removed = 0;
    assert_int_equal(ST(f->st, report_prune, 2500, &removed), ST_OK);
    assert_int_equal(removed, 3); /* device 0 seq 1, 2 and device 1 seq 1 */
    assert_int_equal(ST(f->st, tdevice_get, "00000000000000000000000000000001", &t), ST_OK);
    assert_int_equal(t.seq_floor, 2);
    assert_int_equal(put(f, 0, 2, 100, 0, 4, 2000, "1.0.0"), ST_CONFLICT); /* pruned, still known */
    assert_int_equal(put(f, 0, 4, 100, 0, 4, 4000, "1.0.0"), ST_OK);
}

typedef struct sum {
    int64_t rows, inferences;
    int64_t wave;
    char group[65];
} sum;

static int add_up(void *ctx, const st_report *r)
{
    sum *s = ctx;
    s->rows++;
    s->inferences += r->inferences;
    s->wave = r->wave;
    st_copy(s->group, sizeof s->group, r->group);
    return 0;
}

static void scans_filter(void **state)
{
    fx *f = *state;
    add_device(f, 0, "lab", 0);
    add_device(f, 1, "field", 0);
    put(f, 0, 1, 100, 0, 4, 1000, "1.0.0");
    put(f, 0, 2, 60, 0, 4, 2000, "1.1.0");
    put(f, 1, 1, 30, 0, 4, 1500, "1.0.0");
    st_deployment d;
    memset(&d, 0, sizeof d);
    st_copy(d.kind, sizeof d.kind, "rollout");
    st_copy(d.state, sizeof d.state, "active");
    st_copy(d.waves_json, sizeof d.waves_json, "[100]");
    st_copy(d.target_json, sizeof d.target_json, "{}");
    assert_int_equal(ST(f->st, deployment_insert, &d), ST_OK);
    st_assignment a = {.deployment_id = d.id, .wave = 3, .bundle_id = 1};
    dev_id(1, a.device_id);
    st_copy(a.state, sizeof a.state, "pending");
    assert_int_equal(ST(f->st, assignments_insert, &a, 1), ST_OK);
    sum s = {0};
    st_report_filter q = {.group = "lab"};
    assert_int_equal(ST(f->st, report_scan, &q, add_up, &s), ST_OK);
    assert_int_equal(s.rows, 2);
    assert_int_equal(s.inferences, 160);
    assert_string_equal(s.group, "lab");
    memset(&s, 0, sizeof s);
    st_report_filter q2 = {.deployment = d.id};
    assert_int_equal(ST(f->st, report_scan, &q2, add_up, &s), ST_OK);
    assert_int_equal(s.rows, 1);
    assert_int_equal(s.wave, 3);
    memset(&s, 0, sizeof s);
    st_report_filter q3 = {.version = "1.0.0", .since = 1200, .until = 5000};
    assert_int_equal(ST(f->st, report_scan, &q3, add_up, &s), ST_OK);
    assert_int_equal(s.inferences, 30);
    memset(&s, 0, sizeof s);
    char id0[33];
    dev_id(0, id0);
    st_report_filter q4 = {.device = id0, .newest_first = 1, .limit = 1};
    assert_int_equal(ST(f->st, report_scan, &q4, add_up, &s), ST_OK);
    assert_int_equal(s.inferences, 60); /* the newest only */
}

static json_t *series_of(json_t *agg, const char *version)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(agg, "series"), i, s)
    {
        const char *v = json_string_value(json_object_get(json_object_get(s, "key"), "version"));
        if (v != NULL && strcmp(v, version) == 0)
            return s;
    }
    return NULL;
}

static json_int_t total(json_t *node, const char *field)
{
    return json_integer_value(json_object_get(json_object_get(node, "totals"), field));
}

static json_t *aggregate(fx *f, int64_t since, int64_t until, int64_t step)
{
    tel_query q;
    memset(&q, 0, sizeof q);
    q.f.since = since;
    q.f.until = until;
    q.f.with_data = 1;
    q.step_ms = step;
    q.group_by = "version";
    char err[200];
    json_t *out = tel_aggregate(f->st, &q, err, sizeof err);
    assert_non_null(out);
    return out;
}

static void aggregation_and_rollup_keep_totals(void **state)
{
    fx *f = *state;
    int64_t t0 = 100 * 24 * HOUR; /* an hour boundary */
    add_device(f, 0, "lab", 0);
    add_device(f, 1, "lab", 0);
    /* Two devices, 3 hours of windows every 10 minutes, latency in buckets 4 and 9. */
    int64_t want_inf = 0, want_err = 0;
    for (int dev = 0; dev < 2; dev++)
        for (int k = 0; k < 18; k++) {
            uint32_t n = 50 + (uint32_t)k, e = (uint32_t)(k % 3);
            assert_int_equal(
                put(f, dev, (uint64_t)k + 1, n, e, dev ? 9 : 4, t0 + k * 600000LL + 1, "2.0.0"),
                ST_OK);
            want_inf += n;
            want_err += e;
        }
    json_t *before = aggregate(f, t0, t0 + 3 * HOUR, HOUR);
    json_t *s = series_of(before, "2.0.0");
    assert_non_null(s);
    assert_int_equal(total(s, "inferences"), want_inf);
    assert_int_equal(total(s, "errors"), want_err);
    assert_int_equal(total(s, "devices"), 2);
    assert_int_equal(total(s, "windows"), 36);
    assert_int_equal(json_array_size(json_object_get(s, "points")), 3);
    double p95_before =
        json_real_value(json_object_get(json_object_get(s, "totals"), "latency_p95_us"));
    /* Half the inferences are in [8, 16) us, half in [256, 512): p95 lies in the second. */
    assert_true(p95_before >= 256 && p95_before < 512);

    srv sv;
    memset(&sv, 0, sizeof sv);
    sv.st = f->st;
    server_config_defaults(&sv.cfg);
    sv.cfg.telemetry_raw_hours = 1;
    sv.cfg.telemetry_keep_days = 0; /* no pruning */
    int64_t now = t0 + 5 * HOUR;
    for (int i = 0; i < 4; i++) /* at most once a minute; each run takes up to 6 hours */
        tel_retention_tick(&sv, now + i * 61000);
    sum rows = {0};
    st_report_filter all = {0};
    assert_int_equal(ST(f->st, report_scan, &all, add_up, &rows), ST_OK);
    assert_int_equal(rows.rows, 6); /* 2 devices x 3 hours */
    assert_int_equal(rows.inferences, want_inf);
    json_t *after = aggregate(f, t0, t0 + 3 * HOUR, HOUR);
    s = series_of(after, "2.0.0");
    assert_int_equal(total(s, "inferences"), want_inf);
    assert_int_equal(total(s, "errors"), want_err);
    assert_int_equal(total(s, "windows"), 36);
    assert_true(json_real_value(json_object_get(json_object_get(s, "totals"), "latency_p95_us")) ==
                p95_before);
    /* A roll-up row still deduplicates its windows. */
    assert_int_equal(put(f, 0, 7, 10, 0, 4, t0 + 2 * HOUR, "2.0.0"), ST_CONFLICT);
    json_decref(before);
    json_decref(after);
}

typedef struct silent {
    int n;
    int64_t last;
} silent;

static int count_silent(void *ctx, const char *id, int64_t last)
{
    (void)id;
    silent *s = ctx;
    s->n++;
    s->last = last;
    return 0;
}

static void silent_devices(void **state)
{
    fx *f = *state;
    add_device(f, 0, "lab", 10000); /* seen at 10 s */
    add_device(f, 1, "lab", 10000);
    add_device(f, 2, "lab", 0);             /* never seen: not silent, just new */
    put(f, 1, 1, 10, 0, 4, 50000, "1.0.0"); /* device 1 reported at 50 s */
    silent s = {0, 0};
    assert_int_equal(ST(f->st, devices_silent, 40000, count_silent, &s), ST_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.last, 10000);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dedup_by_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(scans_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(aggregation_and_rollup_keep_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_devices, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
