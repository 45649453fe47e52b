/*
 * Store conformance suite (server/store/store.h): every backend must pass
 * it. It runs against the database named by TMO_STORE_URL, or a fresh
 * SQLite file per test. Tests use unique names (random device ids, groups
 * and models) so they can share one database, e.g. a PostgreSQL schema.
 * Expectations come from the contract in store.h, not from SQLite.
 *
 *   test_store           TMO_STORE_URL if set, else SQLite
 *   test_store --sqlite  SQLite whatever the environment (CTest test_store)
 *   test_store --env     TMO_STORE_URL; exits 77 (skipped) when it is unset
 *                        (CTest test_store_postgres, run by scripts/pg-test)
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"

static char tmpdir[256];
static unsigned serial;
static const char *store_url; /* NULL: a fresh SQLite file per test */

typedef struct fixture {
    store *st;
    char url[512];
    char uniq[9]; /* random prefix for names shared across runs */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (store_url != NULL)
        snprintf(f->url, sizeof f->url, "%s", store_url);
    else
        snprintf(f->url, sizeof f->url, "sqlite:%s/store-%u.db", tmpdir, serial++);
    snprintf(f->uniq, sizeof f->uniq, "%08x", (unsigned)rand());
    char err[512];
    f->st = store_open(f->url, err, sizeof err);
    if (f->st == NULL)
        fail_msg("store_open(%s): %s", f->url, err);
    int64_t v = 0;
    assert_int_equal(ST(f->st, migrate, &v), ST_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    free(f);
    return 0;
}

static void device_id(const fixture *f, int i, char out[33])
{
    snprintf(out, 33, "%.8s%024x", f->uniq, (unsigned)i);
}

static void add_device(fixture *f, int i, const char *group, const char *tags)
{
    st_device d;
    memset(&d, 0, sizeof d);
    device_id(f, i, d.id);
    memset(d.public_key, i + 1, sizeof d.public_key);
    st_copy(d.group, sizeof d.group, group);
    st_copy(d.tags_json, sizeof d.tags_json, tags);
    d.enrolled_at = 1000 + i;
    d.profile_json = "{\"arch\":\"cortex-m4\"}";
    assert_int_equal(ST(f->st, device_insert, &d), ST_OK);
}

static void migrate_is_idempotent(void **state)
{
    fixture *f = *state;
    int64_t v1 = 0, v2 = 0, v3 = 0;
    assert_int_equal(ST(f->st, migrate, &v1), ST_OK);
    assert_int_equal(ST(f->st, migrate, &v2), ST_OK);
    assert_int_equal(ST(f->st, schema_version, &v3), ST_OK);
    assert_true(v1 >= 1);
    assert_int_equal(v1, v2);
    assert_int_equal(v1, v3);
}

static int count_tokens(void *ctx, const st_token *t)
{
    (void)t;
    (*(int *)ctx)++;
    return 0;
}

static void admin_tokens(void **state)
{
    fixture *f = *state;
    st_token t, got;
    memset(&t, 0, sizeof t);
    snprintf(t.hash, sizeof t.hash, "%.8s%056d", f->uniq, 1);
    st_copy(t.role, sizeof t.role, "operator");
    st_copy(t.name, sizeof t.name, "ci");
    t.created_at = 42;
    int before = 0, after = 0;
    assert_int_equal(ST(f->st, token_list, count_tokens, &before), ST_OK);
    assert_int_equal(ST(f->st, token_insert, &t), ST_OK);
    assert_true(t.id > 0);
    assert_int_equal(ST(f->st, token_insert, &t), ST_CONFLICT); /* same hash */
    assert_int_equal(ST(f->st, token_find, t.hash, &got), ST_OK);
    assert_int_equal(got.id, t.id);
    assert_string_equal(got.role, "operator");
    assert_string_equal(got.name, "ci");
    assert_int_equal(got.created_at, 42);
    assert_int_equal(got.revoked, 0);
    assert_int_equal(ST(f->st, token_list, count_tokens, &after), ST_OK);
    assert_int_equal(after, before + 1);
    assert_int_equal(ST(f->st, token_revoke, t.id), ST_OK);
    assert_int_equal(ST(f->st, token_find, t.hash, &got), ST_OK);
    assert_int_equal(got.revoked, 1);
    assert_int_equal(ST(f->st, token_revoke, 1LL << 40), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, token_find, "0000", &got), ST_NOT_FOUND);
}

static void enrollment_tokens_count_down(void **state)
{
    fixture *f = *state;
    st_enroll_token e, got;
    memset(&e, 0, sizeof e);
    snprintf(e.hash, sizeof e.hash, "%.8s%056d", f->uniq, 2);
    e.expires_at = 5000;
    e.uses_left = 2;
    st_copy(e.group, sizeof e.group, "field");
    st_copy(e.tags_json, sizeof e.tags_json, "[\"eu\"]");
    assert_int_equal(ST(f->st, enroll_insert, &e), ST_OK);
    assert_int_equal(ST(f->st, enroll_find, e.hash, &got), ST_OK);
    assert_int_equal(got.id, e.id);
    assert_int_equal(got.expires_at, 5000);
    assert_string_equal(got.group, "field");
    assert_string_equal(got.tags_json, "[\"eu\"]");
    assert_int_equal(ST(f->st, enroll_use, e.id), ST_OK);
    assert_int_equal(ST(f->st, enroll_use, e.id), ST_OK);
    assert_int_equal(ST(f->st, enroll_use, e.id), ST_CONFLICT); /* no uses left */
    assert_int_equal(ST(f->st, enroll_find, e.hash, &got), ST_OK);
    assert_int_equal(got.uses_left, 0);
}

typedef struct id_list {
    char id[16][33];
    int n;
} id_list;

static int collect_ids(void *ctx, const st_device *d)
{
    id_list *x = ctx;
    if (x->n < 16)
        strcpy(x->id[x->n++], d->id);
    return 0;
}

typedef struct enroll_seen {
    int64_t id, revoked_at;
    int found;
} enroll_seen;

static int find_enroll(void *ctx, const st_enroll_token *e)
{
    enroll_seen *x = ctx;
    if (e->id == x->id) {
        x->found = 1;
        x->revoked_at = e->revoked_at;
    }
    return 0;
}

/* Revocation (P-8, P-12): first revocation wins; revoked devices leave deployment targets. */
static void revocation_of_tokens_and_devices(void **state)
{
    fixture *f = *state;
    st_enroll_token e, got;
    memset(&e, 0, sizeof e);
    snprintf(e.hash, sizeof e.hash, "%.8s%056d", f->uniq, 7);
    e.expires_at = 5000;
    e.uses_left = 3;
    assert_int_equal(ST(f->st, enroll_insert, &e), ST_OK);
    enroll_seen seen = {e.id, -1, 0};
    assert_int_equal(ST(f->st, enroll_list, find_enroll, &seen), ST_OK);
    assert_true(seen.found);
    assert_int_equal(seen.revoked_at, 0);
    assert_int_equal(ST(f->st, enroll_revoke, e.id, 4000), ST_OK);
    assert_int_equal(ST(f->st, enroll_revoke, e.id, 4500), ST_OK);
    assert_int_equal(ST(f->st, enroll_find, e.hash, &got), ST_OK);
    assert_int_equal(got.revoked_at, 4000);
    assert_int_equal(got.uses_left, 3);
    assert_int_equal(ST(f->st, enroll_revoke, e.id + 100000, 4000), ST_NOT_FOUND);

    const char *group = f->uniq;
    add_device(f, 1, group, "[]");
    add_device(f, 2, group, "[]");
    char id1[33], id2[33];
    device_id(f, 1, id1), device_id(f, 2, id2);
    assert_int_equal(ST(f->st, device_revoke, id1, 7000, "key stolen"), ST_OK);
    assert_int_equal(ST(f->st, device_revoke, id1, 8000, "again"), ST_OK);
    assert_int_equal(ST(f->st, device_revoke, "ffffffffffffffffffffffffffffffff", 1, ""),
                     ST_NOT_FOUND);
    uint8_t pub[ST_PUBKEY_LEN];
    int64_t revoked_at = 0;
    assert_int_equal(ST(f->st, device_pubkey, id1, pub, &revoked_at), ST_OK);
    assert_int_equal(revoked_at, 7000);
    assert_int_equal(ST(f->st, device_pubkey, id2, pub, &revoked_at), ST_OK);
    assert_int_equal(revoked_at, 0);
    st_device d;
    assert_int_equal(ST(f->st, device_get, id1, &d), ST_OK);
    assert_int_equal(d.revoked_at, 7000);
    assert_string_equal(d.revoked_reason, "key stolen");
    st_device_free(&d);

    id_list x = {.n = 0};
    st_device_filter all = {group, NULL, NULL, 0, 0, 0};
    assert_int_equal(ST(f->st, device_list, &all, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 2); /* the inventory still shows it */
    st_device_filter live = {group, NULL, NULL, 0, 0, 1};
    x.n = 0;
    assert_int_equal(ST(f->st, device_list, &live, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.id[0], id2);
    int64_t n = 0;
    assert_int_equal(ST(f->st, device_count, &live, &n), ST_OK);
    assert_int_equal(n, 1);
}

static void devices_and_tag_queries(void **state)
{
    fixture *f = *state;
    char group[40], other[40];
    snprintf(group, sizeof group, "g-%s", f->uniq);
    snprintf(other, sizeof other, "h-%s", f->uniq);
    add_device(f, 1, group, "[\"eu\",\"v2\"]");
    add_device(f, 2, group, "[\"eu\"]");
    add_device(f, 3, group, "[]");
    add_device(f, 4, other, "[\"eu\",\"v2\"]");
    st_device d;
    memset(&d, 0, sizeof d);
    device_id(f, 1, d.id);
    memset(d.public_key, 9, sizeof d.public_key);
    assert_int_equal(ST(f->st, device_insert, &d), ST_CONFLICT);

    char id1[33], id2[33], id3[33], id4[33];
    device_id(f, 1, id1), device_id(f, 2, id2), device_id(f, 3, id3), device_id(f, 4, id4);
    uint8_t pub[ST_PUBKEY_LEN], want[ST_PUBKEY_LEN];
    memset(want, 2, sizeof want);
    int64_t revoked_at = -1;
    assert_int_equal(ST(f->st, device_pubkey, id1, pub, &revoked_at), ST_OK);
    assert_int_equal(pub[0], 2); /* add_device fills with i + 1 */
    assert_int_equal(revoked_at, 0);
    assert_int_equal(ST(f->st, device_pubkey, "ffffffffffffffffffffffffffffffff", pub, &revoked_at),
                     ST_NOT_FOUND);

    id_list x = {.n = 0};
    st_device_filter all_group = {group, NULL, NULL, 0, 0, 0};
    assert_int_equal(ST(f->st, device_list, &all_group, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.id[0], id1); /* ordered by id */
    assert_string_equal(x.id[2], id3);

    x.n = 0;
    st_device_filter eu_v2 = {NULL, "[\"eu\",\"v2\"]", NULL, 0, 0, 0};
    assert_int_equal(ST(f->st, device_list, &eu_v2, collect_ids, &x), ST_OK);
    int have1 = 0, have4 = 0;
    for (int i = 0; i < x.n; i++) {
        have1 |= strcmp(x.id[i], id1) == 0;
        have4 |= strcmp(x.id[i], id4) == 0;
        assert_string_not_equal(x.id[i], id2); /* has eu but not v2 */
    }
    assert_true(have1 && have4);

    x.n = 0;
    st_device_filter eu_not_v2 = {group, "[\"eu\"]", "[\"v2\"]", 0, 0, 0};
    assert_int_equal(ST(f->st, device_list, &eu_not_v2, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.id[0], id2);

    int64_t count = 0;
    assert_int_equal(ST(f->st, device_count, &all_group, &count), ST_OK);
    assert_int_equal(count, 3);
    x.n = 0;
    st_device_filter page = {group, NULL, NULL, 1, 1, 0};
    assert_int_equal(ST(f->st, device_list, &page, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.id[0], id2);

    assert_int_equal(ST(f->st, device_set_tags, id3, "[\"beta\"]"), ST_OK);
    assert_int_equal(ST(f->st, device_set_group, id3, other), ST_OK);
    assert_int_equal(ST(f->st, device_set_group, "ffffffffffffffffffffffffffffffff", other),
                     ST_NOT_FOUND);
    assert_int_equal(ST(f->st, device_get, id3, &d), ST_OK);
    assert_string_equal(d.group, other);
    assert_string_equal(d.tags_json, "[\"beta\"]");
    assert_null(d.status_json);
    assert_int_equal(d.last_seen, 0);
    st_device_free(&d);
    x.n = 0;
    st_device_filter beta = {other, "[\"beta\"]", NULL, 0, 0, 0};
    assert_int_equal(ST(f->st, device_list, &beta, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 1);

    st_checkin ck = {777, "{\"active_slot\":\"a\"}", "sha256:ab", 5, NULL};
    assert_int_equal(ST(f->st, device_checkin, id3, &ck), ST_OK);
    assert_int_equal(ST(f->st, device_get, id3, &d), ST_OK);
    assert_int_equal(d.last_seen, 777);
    assert_string_equal(d.status_json, "{\"active_slot\":\"a\"}");
    assert_string_equal(d.active_digest, "sha256:ab");
    assert_int_equal(d.nv_counter, 5);
    assert_string_equal(d.profile_json, "{\"arch\":\"cortex-m4\"}"); /* NULL profile: unchanged */
    st_device_free(&d);
    ck.profile_json = "{\"arch\":\"x86_64\"}";
    assert_int_equal(ST(f->st, device_checkin, id3, &ck), ST_OK);
    assert_int_equal(ST(f->st, device_get, id3, &d), ST_OK);
    assert_string_equal(d.profile_json, "{\"arch\":\"x86_64\"}");
    st_device_free(&d);
    assert_int_equal(ST(f->st, device_checkin, "ffffffffffffffffffffffffffffffff", &ck),
                     ST_NOT_FOUND);
}

static void nonces_expire(void **state)
{
    fixture *f = *state;
    char dev[33];
    device_id(f, 7, dev);
    const char *n = "00112233445566778899aabbccddeeff";
    assert_int_equal(ST(f->st, nonce_seen, dev, n, 1000), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, nonce_record, dev, n, 1000, 2000), ST_OK);
    assert_int_equal(ST(f->st, nonce_seen, dev, n, 1500), ST_OK);
    assert_int_equal(ST(f->st, nonce_record, dev, n, 1500, 2500), ST_CONFLICT); /* replay */
    char other[33];
    device_id(f, 8, other);
    assert_int_equal(ST(f->st, nonce_record, other, n, 1500, 2500), ST_OK); /* per device */
    assert_int_equal(ST(f->st, nonce_seen, dev, n, 2000), ST_NOT_FOUND);    /* expired */
    assert_int_equal(ST(f->st, nonce_record, dev, n, 2000, 3000),
                     ST_OK); /* reusable once expired */
    int64_t removed = 0;
    assert_int_equal(ST(f->st, nonce_prune, 3000, &removed), ST_OK);
    assert_true(removed >= 2);
    assert_int_equal(ST(f->st, nonce_seen, dev, n, 0), ST_NOT_FOUND);
}

static st_bundle make_bundle(const fixture *f, const char *model, const char *version, int i)
{
    st_bundle b;
    memset(&b, 0, sizeof b);
    snprintf(b.digest, sizeof b.digest, "sha256:%.8s%056d", f->uniq, i);
    st_copy(b.model, sizeof b.model, model);
    st_copy(b.version, sizeof b.version, version);
    b.counter = i;
    st_copy(b.arches_json, sizeof b.arches_json, "[\"cortex-m4\"]");
    st_copy(b.min_runtime, sizeof b.min_runtime, "0.1.0");
    b.arena_bytes = 1000 * i;
    b.flash_bytes = 2000 * i;
    b.ops_json = "[\"CONV_2D\"]";
    st_copy(b.signer_id, sizeof b.signer_id, "00112233445566778899aabbccddeeff");
    b.created_at = 10;
    b.uploaded_at = 20;
    return b;
}

static int collect_bundles(void *ctx, const st_bundle *b)
{
    int64_t *ids = ctx;
    ids[++ids[0]] = b->id;
    return ids[0] >= 15;
}

static void bundles_and_ranges(void **state)
{
    fixture *f = *state;
    char model[40];
    snprintf(model, sizeof model, "acme/kws-%s", f->uniq);
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)(i * 7);
    st_bundle a = make_bundle(f, model, "1.0.0", 1), b = make_bundle(f, model, "1.0.0", 2);
    st_bundle c = make_bundle(f, model, "1.1.0", 3);
    assert_int_equal(ST(f->st, bundle_insert, &a, data, sizeof data), ST_OK);
    assert_int_equal(ST(f->st, bundle_insert, &b, data, 10), ST_OK);
    assert_int_equal(ST(f->st, bundle_insert, &c, data, 20), ST_OK);
    st_bundle dup = make_bundle(f, model, "9.9.9", 1);
    assert_int_equal(ST(f->st, bundle_insert, &dup, data, 5), ST_CONFLICT);
    assert_int_equal(dup.id, a.id);

    st_bundle got;
    assert_int_equal(ST(f->st, bundle_get, a.id, &got), ST_OK);
    assert_string_equal(got.model, model);
    assert_string_equal(got.version, "1.0.0");
    assert_int_equal(got.size, 1000);
    assert_int_equal(got.arena_bytes, 1000);
    assert_int_equal(got.flash_bytes, 2000);
    assert_string_equal(got.ops_json, "[\"CONV_2D\"]");
    assert_string_equal(got.arches_json, "[\"cortex-m4\"]");
    st_bundle_free(&got);
    assert_int_equal(ST(f->st, bundle_by_digest, c.digest, &got), ST_OK);
    assert_int_equal(got.id, c.id);
    st_bundle_free(&got);
    assert_int_equal(ST(f->st, bundle_get, 1LL << 40, &got), ST_NOT_FOUND);

    int64_t ids[16] = {0};
    assert_int_equal(ST(f->st, bundle_list, model, "1.0.0", collect_bundles, ids), ST_OK);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], a.id);
    assert_int_equal(ids[2], b.id);
    ids[0] = 0;
    assert_int_equal(ST(f->st, bundle_list, model, NULL, collect_bundles, ids), ST_OK);
    assert_int_equal(ids[0], 3);

    uint8_t buf[1000];
    assert_int_equal(ST(f->st, bundle_read, a.id, 0, 1000, buf), ST_OK);
    assert_memory_equal(buf, data, 1000);
    assert_int_equal(ST(f->st, bundle_read, a.id, 995, 5, buf), ST_OK);
    assert_memory_equal(buf, data + 995, 5);
    assert_int_equal(ST(f->st, bundle_read, a.id, 996, 5, buf), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, bundle_read, a.id, 1001, 0, buf), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, bundle_read, 1LL << 40, 0, 1, buf), ST_NOT_FOUND);

    assert_int_equal(ST(f->st, bundle_set_rank, b.id, 5), ST_OK);
    assert_int_equal(ST(f->st, bundle_get, b.id, &got), ST_OK);
    assert_int_equal(got.rank, 5);
    st_bundle_free(&got);
    assert_int_equal(ST(f->st, bundle_set_rank, 1LL << 40, 5), ST_NOT_FOUND);
}

static st_deployment make_deployment(const char *model)
{
    st_deployment d;
    memset(&d, 0, sizeof d);
    st_copy(d.kind, sizeof d.kind, "rollout");
    st_copy(d.model, sizeof d.model, model);
    st_copy(d.version, sizeof d.version, "1.0.0");
    st_copy(d.target_json, sizeof d.target_json, "{\"group\":\"g\"}");
    st_copy(d.waves_json, sizeof d.waves_json, "[50,100]");
    d.soak_ms = 1000;
    st_copy(d.state, sizeof d.state, "active");
    d.created_at = d.updated_at = 100;
    st_copy(d.created_by, sizeof d.created_by, "ops");
    return d;
}

static void add_assignment(fixture *f, int64_t dep, int dev, int64_t wave, const char *state)
{
    st_assignment a;
    memset(&a, 0, sizeof a);
    a.deployment_id = dep;
    device_id(f, dev, a.device_id);
    a.wave = wave;
    a.bundle_id = 11;
    a.prev_bundle_id = 10;
    st_copy(a.state, sizeof a.state, state);
    a.updated_at = 100;
    assert_int_equal(ST(f->st, assignments_insert, &a, 1), ST_OK);
}

typedef struct seen {
    st_assignment a[8];
    int n;
} seen;

static int collect_assignments(void *ctx, const st_assignment *a)
{
    seen *s = ctx;
    if (s->n < 8)
        s->a[s->n++] = *a;
    return 0;
}

static int sum_counts(void *ctx, int64_t wave, const char *state, int64_t count)
{
    int64_t *c = ctx; /* [wave 0 pending, wave 1 pending, skipped, cancelled] */
    if (strcmp(state, "pending") == 0 && wave >= 0 && wave < 2)
        c[wave] += count;
    if (strcmp(state, "skipped") == 0)
        c[2] += count;
    if (strcmp(state, "cancelled") == 0)
        c[3] += count;
    return 0;
}

static int count_all(void *ctx, int64_t wave, const char *state, int64_t count)
{
    (void)wave;
    (void)state;
    *(int64_t *)ctx += count;
    return 0;
}

/* Bulk insert: thousands of rows in one call, all or none; text with COPY's special bytes. */
static void assignments_in_bulk(void **state)
{
    fixture *f = *state;
    st_deployment d = make_deployment("bulk/model");
    assert_int_equal(ST(f->st, deployment_insert, &d), ST_OK);
    enum { N = 5000 };
    st_assignment *rows = calloc(N, sizeof *rows);
    for (int i = 0; i < N; i++) {
        rows[i].deployment_id = d.id;
        snprintf(rows[i].device_id, sizeof rows[i].device_id, "%.8sb%023x", f->uniq, i);
        rows[i].wave = i % 3;
        rows[i].bundle_id = 7;
        st_copy(rows[i].state, sizeof rows[i].state, i % 2 ? "pending" : "skipped");
        st_copy(rows[i].reason, sizeof rows[i].reason, i % 2 ? "" : "tab\there\\ and\nline");
        rows[i].updated_at = 100 + i;
    }
    assert_int_equal(ST(f->st, assignments_insert, rows, N), ST_OK);
    int64_t total = 0;
    assert_int_equal(ST(f->st, assignment_counts, d.id, count_all, &total), ST_OK);
    assert_int_equal(total, N);
    st_assignment got;
    assert_int_equal(ST(f->st, assignment_get, d.id, rows[4].device_id, &got), ST_OK);
    assert_string_equal(got.reason, "tab\there\\ and\nline");
    assert_int_equal(got.wave, 1);
    assert_int_equal(got.updated_at, 104);
    /* A batch with one existing row inserts none of the others. */
    st_copy(rows[0].device_id, sizeof rows[0].device_id, rows[N - 1].device_id);
    snprintf(rows[1].device_id, sizeof rows[1].device_id, "%.8sc%023x", f->uniq, 1);
    assert_int_equal(ST(f->st, assignments_insert, rows, 2), ST_CONFLICT);
    assert_int_equal(ST(f->st, assignment_get, d.id, rows[1].device_id, &got), ST_NOT_FOUND);
    /* ... and inside a transaction leaves it usable. */
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    assert_int_equal(ST(f->st, assignments_insert, rows, 2), ST_CONFLICT);
    assert_int_equal(ST(f->st, assignments_insert, &rows[1], 1), ST_OK);
    assert_int_equal(ST0(f->st, commit), ST_OK);
    assert_int_equal(ST(f->st, assignment_get, d.id, rows[1].device_id, &got), ST_OK);
    free(rows);
}

/* Leases: one holder at a time; renewed by it; taken over only once expired. */
static void leases_have_one_holder(void **state)
{
    fixture *f = *state;
    char name[40];
    snprintf(name, sizeof name, "lease-%s", f->uniq);
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-a", 1000, 500), ST_OK);
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-b", 1200, 500), ST_CONFLICT);
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-a", 1400, 500), ST_OK); /* renewed */
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-b", 1800, 500), ST_CONFLICT);
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-b", 1900, 500), ST_OK); /* expired */
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-a", 2000, 500), ST_CONFLICT);
    snprintf(name, sizeof name, "other-%s", f->uniq); /* leases are independent */
    assert_int_equal(ST(f->st, lease_acquire, name, "replica-a", 2000, 500), ST_OK);
}

typedef struct other_writer {
    const char *url, *device;
    int64_t counter;
    int done; /* 1 committed */
} other_writer;

static void *write_other_device(void *arg)
{
    other_writer *w = arg;
    char err[300];
    store *st = store_open(w->url, err, sizeof err);
    if (st != NULL && ST(st, begin, ST_TX_WRITE) == ST_OK &&
        ST(st, session_use, w->device, "s-other", w->counter, 1000) == ST_OK &&
        ST0(st, commit) == ST_OK)
        w->done = 1;
    store_close(st);
    return NULL;
}

/*
 * PostgreSQL: write transactions on different devices run in parallel (row
 * locks, no global lock): while one holds device 1's row, a transaction on
 * device 2 commits. (SQLite has one writer by design: skipped there.)
 */
static void writers_of_different_devices_run_in_parallel(void **state)
{
    fixture *f = *state;
    if (strncmp(f->url, "postgres", 8) != 0)
        skip();
    add_device(f, 1, f->uniq, "[]");
    add_device(f, 2, f->uniq, "[]");
    char id1[33], id2[33];
    device_id(f, 1, id1), device_id(f, 2, id2);
    st_session one = {.expires_at = 1LL << 50}, two = {.expires_at = 1LL << 50};
    st_copy(one.id, sizeof one.id, "s-one");
    st_copy(two.id, sizeof two.id, "s-other");
    assert_int_equal(ST(f->st, session_set, id1, &one), ST_OK);
    assert_int_equal(ST(f->st, session_set, id2, &two), ST_OK);
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    assert_int_equal(ST(f->st, session_use, id1, "s-one", 1, 1000), ST_OK); /* holds row 1 */
    other_writer w = {f->url, id2, 1, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_other_device, &w), 0);
    for (int i = 0; i < 100 && !w.done; i++) {
        struct timespec ms50 = {0, 50000000};
        nanosleep(&ms50, NULL);
    }
    int done_while_held = w.done;
    assert_int_equal(ST0(f->st, commit), ST_OK);
    pthread_join(t, NULL);
    assert_true(done_while_held);
    /* The same device's row is still serialized: a second use of counter 1 is a conflict. */
    assert_int_equal(ST(f->st, session_use, id1, "s-one", 1, 1000), ST_CONFLICT);
}

static void deployments_and_assignments(void **state)
{
    fixture *f = *state;
    st_deployment d1 = make_deployment("m"), d2 = make_deployment("m"), got;
    assert_int_equal(ST(f->st, deployment_insert, &d1), ST_OK);
    assert_int_equal(ST(f->st, deployment_insert, &d2), ST_OK);
    assert_true(d2.id > d1.id);
    add_assignment(f, d1.id, 1, 0, "confirmed");
    add_assignment(f, d2.id, 1, 0, "pending");
    add_assignment(f, d2.id, 2, 1, "pending");
    add_assignment(f, d2.id, 3, -1, "skipped");
    st_assignment a;
    char dev1[33];
    device_id(f, 1, dev1);
    memset(&a, 0, sizeof a);
    a.deployment_id = d2.id;
    strcpy(a.device_id, dev1);
    assert_int_equal(ST(f->st, assignments_insert, &a, 1), ST_CONFLICT);

    d2.current_wave = 1;
    d2.wave_done_at = 555;
    d2.max_failures = 3;
    st_copy(d2.state, sizeof d2.state, "paused");
    st_copy(d2.reason, sizeof d2.reason, "by test");
    d2.updated_at = 200;
    assert_int_equal(ST(f->st, deployment_update, &d2), ST_OK);
    assert_int_equal(ST(f->st, deployment_get, d2.id, &got), ST_OK);
    assert_string_equal(got.state, "paused");
    assert_string_equal(got.reason, "by test");
    assert_int_equal(got.current_wave, 1);
    assert_int_equal(got.wave_done_at, 555);
    assert_int_equal(got.max_failures, 3);
    assert_int_equal(got.soak_ms, 1000);
    assert_string_equal(got.waves_json, "[50,100]");
    assert_int_equal(ST(f->st, deployment_get, 1LL << 40, &got), ST_NOT_FOUND);

    seen s = {.n = 0};
    assert_int_equal(ST(f->st, assignments_of_device, dev1, 0, collect_assignments, &s), ST_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.a[0].deployment_id, d2.id); /* newest first */
    assert_string_equal(s.a[0].dep_state, "paused");
    assert_int_equal(s.a[0].dep_current_wave, 1);
    assert_int_equal(s.a[1].deployment_id, d1.id);
    assert_string_equal(s.a[1].state, "confirmed");
    s.n = 0;
    assert_int_equal(ST(f->st, assignments_of_device, dev1, 1, collect_assignments, &s), ST_OK);
    assert_int_equal(s.n, 1);

    s.n = 0;
    assert_int_equal(ST(f->st, assignments_of_deployment, d2.id, NULL, collect_assignments, &s),
                     ST_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.a[0].wave, -1); /* ordered by wave */
    assert_int_equal(s.a[1].wave, 0);
    assert_int_equal(s.a[2].wave, 1);
    s.n = 0;
    st_assignment_filter pending = {"pending", 0, 0};
    assert_int_equal(ST(f->st, assignments_of_deployment, d2.id, &pending, collect_assignments, &s),
                     ST_OK);
    assert_int_equal(s.n, 2);

    int64_t counts[4] = {0};
    assert_int_equal(ST(f->st, assignment_counts, d2.id, sum_counts, counts), ST_OK);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 1);

    assert_int_equal(ST(f->st, assignment_get, d2.id, dev1, &a), ST_OK);
    st_copy(a.state, sizeof a.state, "downloading");
    st_copy(a.reason, sizeof a.reason, "");
    a.updated_at = 300;
    assert_int_equal(ST(f->st, assignment_update, &a), ST_OK);
    int64_t changed = 0;
    assert_int_equal(ST(f->st, assignment_cancel_pending, d2.id, "aborted", 400, &changed), ST_OK);
    assert_int_equal(changed, 1); /* device 2; device 1 is downloading, device 3 skipped */
    memset(counts, 0, sizeof counts);
    assert_int_equal(ST(f->st, assignment_counts, d2.id, sum_counts, counts), ST_OK);
    assert_int_equal(counts[3], 1);
    assert_int_equal(ST(f->st, assignment_get, d2.id, dev1, &a), ST_OK);
    assert_string_equal(a.state, "downloading");
    assert_int_equal(a.updated_at, 300);
}

static void rollback_discards_writes(void **state)
{
    fixture *f = *state;
    char group[40];
    snprintf(group, sizeof group, "tx-%s", f->uniq);
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_ERROR); /* no nesting */
    add_device(f, 20, group, "[\"x\"]");
    ST0(f->st, rollback);
    st_device_filter g = {group, NULL, NULL, 0, 0, 0};
    int64_t count = -1;
    assert_int_equal(ST(f->st, device_count, &g, &count), ST_OK);
    assert_int_equal(count, 0);
    assert_int_equal(ST0(f->st, commit), ST_ERROR); /* commit without begin */
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    add_device(f, 21, group, "[]");
    assert_int_equal(ST0(f->st, commit), ST_OK);
    assert_int_equal(ST(f->st, device_count, &g, &count), ST_OK);
    assert_int_equal(count, 1);
}

/* Several threads spend one enrollment token inside write transactions: uses never go below 0. */
typedef struct spender {
    store *st;
    const char *hash;
    int spent, refused;
} spender;

static void *spend(void *arg)
{
    spender *sp = arg;
    for (int i = 0; i < 40; i++) {
        if (ST(sp->st, begin, ST_TX_WRITE) != ST_OK)
            continue;
        st_enroll_token e;
        int ok = ST(sp->st, enroll_find, sp->hash, &e) == ST_OK && e.uses_left > 0 &&
                 ST(sp->st, enroll_use, e.id) == ST_OK;
        if (ok && ST0(sp->st, commit) == ST_OK) {
            sp->spent++;
        } else {
            ST0(sp->st, rollback);
            sp->refused++;
        }
    }
    return NULL;
}

static void concurrent_transactions_serialize(void **state)
{
    fixture *f = *state;
    st_enroll_token e;
    memset(&e, 0, sizeof e);
    snprintf(e.hash, sizeof e.hash, "%.8s%056d", f->uniq, 3);
    e.uses_left = 100;
    e.expires_at = 1;
    assert_int_equal(ST(f->st, enroll_insert, &e), ST_OK);
    pthread_t th[4];
    spender sp[4];
    for (int i = 0; i < 4; i++) {
        sp[i] = (spender){f->st, e.hash, 0, 0};
        pthread_create(&th[i], NULL, spend, &sp[i]);
    }
    int spent = 0, refused = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        spent += sp[i].spent;
        refused += sp[i].refused;
    }
    assert_int_equal(spent, 100);
    assert_int_equal(refused, 60);
    st_enroll_token got;
    assert_int_equal(ST(f->st, enroll_find, e.hash, &got), ST_OK);
    assert_int_equal(got.uses_left, 0);
}

/* ---- telemetry, alerts, settings, gates, encryption keys (migration 0002) ---- */

/* A report row of device dev covering seq_first..seq_last, stored at `at`. */
static st_report make_report(const char *dev, const char *model, int64_t seq_first,
                             int64_t seq_last, int64_t at, const uint8_t *data, size_t len)
{
    st_report r;
    memset(&r, 0, sizeof r);
    st_copy(r.device_id, sizeof r.device_id, dev);
    r.seq_first = seq_first;
    r.seq_last = seq_last;
    r.at = r.received_at = at;
    r.bundle_id = 7;
    st_copy(r.model, sizeof r.model, model);
    st_copy(r.version, sizeof r.version, "1.0.0");
    st_copy(r.digest, sizeof r.digest, "0011223344556677");
    r.windows = seq_last - seq_first + 1;
    r.inferences = 100;
    r.errors = 2;
    r.out_inf = 98;
    r.events = 1;
    r.dropped = 3;
    r.lost_inferences = 4;
    r.drift = 0.125;
    r.acc_est = -1;
    r.p95_us = 512;
    for (int i = 0; i < ST_LAT_BINS; i++)
        r.latency[i] = (uint32_t)i * 0x01010101u;
    r.data = data;
    r.data_len = len;
    return r;
}

typedef struct report_seen {
    int n;
    int64_t seq[16], inferences, wave;
    char group[ST_NAME_LEN + 1];
    int data_ok, latency_ok;
    double drift;
} report_seen;

static int collect_reports(void *ctx, const st_report *r)
{
    report_seen *x = ctx;
    if (x->n < 16)
        x->seq[x->n] = r->seq_first;
    x->n++;
    x->inferences += r->inferences;
    x->wave = r->wave;
    x->drift = r->drift;
    st_copy(x->group, sizeof x->group, r->group);
    x->data_ok = r->data != NULL && r->data_len == 3 && memcmp(r->data, "abc", 3) == 0;
    x->latency_ok = r->latency[31] == 31u * 0x01010101u;
    return 0;
}

static void reports_dedup_scan_prune(void **state)
{
    fixture *f = *state;
    char dev[33], other[33], group[40], model[40];
    device_id(f, 30, dev);
    device_id(f, 31, other);
    snprintf(group, sizeof group, "tel-%s", f->uniq);
    snprintf(model, sizeof model, "kws-%s", f->uniq);
    add_device(f, 30, group, "[]");
    const uint8_t *abc = (const uint8_t *)"abc";
    st_report r = make_report(dev, model, 1, 1, 1000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK);
    assert_true(r.id > 0);
    r = make_report(dev, model, 2, 2, 2000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_CONFLICT); /* re-uploaded */
    r = make_report(dev, model, 1, 3, 3000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_CONFLICT); /* overlaps 1 and 2 */
    r = make_report(dev, model, 5, 5, 5000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK); /* gaps are fine */
    r = make_report(dev, model, 3, 3, 3000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK); /* and late arrivals */
    r = make_report(other, model, 1, 1, 1000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK); /* per device */

    st_tdevice t;
    assert_int_equal(ST(f->st, tdevice_get, dev, &t), ST_OK);
    assert_string_equal(t.device_id, dev);
    assert_int_equal(t.reports, 4);
    assert_int_equal(t.duplicates, 2);
    assert_int_equal(t.inferences, 400);
    assert_int_equal(t.dropped, 12);
    assert_int_equal(t.lost_inferences, 16);
    assert_int_equal(t.last_at, 5000); /* the newest report's at */
    assert_int_equal(t.last_received, 5000);
    assert_int_equal(t.seq_floor, -1);
    char never[33];
    device_id(f, 39, never);
    assert_int_equal(ST(f->st, tdevice_get, never, &t), ST_NOT_FOUND);

    report_seen x = {0};
    st_report_filter by_dev = {.device = dev, .with_data = 1};
    assert_int_equal(ST(f->st, report_scan, &by_dev, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 4);
    assert_int_equal(x.seq[0], 1); /* by time */
    assert_int_equal(x.seq[3], 5);
    assert_true(x.data_ok);
    assert_true(x.latency_ok);
    assert_true(x.drift == 0.125);
    assert_string_equal(x.group, group);
    memset(&x, 0, sizeof x);
    st_report_filter newest = {.device = dev, .newest_first = 1, .limit = 2};
    assert_int_equal(ST(f->st, report_scan, &newest, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.seq[0], 5);
    assert_int_equal(x.seq[1], 3);
    assert_false(x.data_ok); /* without with_data */
    memset(&x, 0, sizeof x);
    st_report_filter in_group = {.group = group, .since = 1500, .until = 4500};
    assert_int_equal(ST(f->st, report_scan, &in_group, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 2); /* seq 2 and 3; `other` is in no group */
    memset(&x, 0, sizeof x);
    st_report_filter of_model = {.model = model, .by_device = 1};
    assert_int_equal(ST(f->st, report_scan, &of_model, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 5);
    assert_int_equal(x.seq[0], 1); /* dev (id ...1e) before other (...1f), each by seq */
    assert_int_equal(x.seq[3], 5);
    assert_int_equal(x.seq[4], 1);

    st_deployment d = make_deployment(model);
    assert_int_equal(ST(f->st, deployment_insert, &d), ST_OK);
    st_assignment a;
    memset(&a, 0, sizeof a);
    a.deployment_id = d.id;
    strcpy(a.device_id, other);
    a.wave = 2;
    st_copy(a.state, sizeof a.state, "pending");
    assert_int_equal(ST(f->st, assignments_insert, &a, 1), ST_OK);
    memset(&x, 0, sizeof x);
    st_report_filter of_dep = {.deployment = d.id, .model = model};
    assert_int_equal(ST(f->st, report_scan, &of_dep, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.wave, 2);

    /* a duplicate inside a write transaction is counted; a roll-up row counts nothing */
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    r = make_report(other, model, 1, 1, 1000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_CONFLICT);
    r = make_report(other, model, 2, 4, 1500, abc, 3);
    r.inferences = 300;
    assert_int_equal(ST(f->st, report_insert, &r, 1), ST_OK);
    assert_int_equal(ST0(f->st, commit), ST_OK);
    int64_t rollup_id = r.id;
    assert_int_equal(ST(f->st, tdevice_get, other, &t), ST_OK);
    assert_int_equal(t.reports, 1);
    assert_int_equal(t.duplicates, 1);
    assert_int_equal(t.inferences, 100);
    memset(&x, 0, sizeof x);
    st_report_filter rollups = {.device = other, .max_windows = 1};
    assert_int_equal(ST(f->st, report_scan, &rollups, collect_reports, &x), ST_OK);
    assert_int_equal(x.n, 1); /* the roll-up has 3 windows */
    assert_int_equal(ST(f->st, report_delete, rollup_id), ST_OK);
    assert_int_equal(ST(f->st, report_delete, rollup_id), ST_NOT_FOUND);

    int64_t removed = 0;
    assert_int_equal(ST(f->st, report_prune, 2500, &removed), ST_OK);
    assert_true(removed >= 3); /* dev seq 1, 2 and other seq 1 */
    assert_int_equal(ST(f->st, tdevice_get, dev, &t), ST_OK);
    assert_int_equal(t.seq_floor, 2);
    r = make_report(dev, model, 2, 2, 2000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_CONFLICT); /* pruned, still known */
    r = make_report(dev, model, 4, 4, 4000, abc, 3);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK);
}

/*
 * Several threads upload the same windows of one device, each in a write
 * transaction as the upload handler does: each window is stored exactly
 * once and every other copy is counted as a duplicate.
 */
typedef struct uploader {
    store *st;
    const char *dev, *model;
    int stored, dup;
} uploader;

static void *upload(void *arg)
{
    uploader *u = arg;
    for (int seq = 1; seq <= 20; seq++) {
        st_report r = make_report(u->dev, u->model, seq, seq, seq, (const uint8_t *)"abc", 3);
        if (ST(u->st, begin, ST_TX_WRITE) != ST_OK)
            continue;
        int rc = ST(u->st, report_insert, &r, 0);
        if ((rc == ST_OK || rc == ST_CONFLICT) && ST0(u->st, commit) == ST_OK) {
            u->stored += rc == ST_OK;
            u->dup += rc == ST_CONFLICT;
        } else {
            ST0(u->st, rollback);
        }
    }
    return NULL;
}

static void concurrent_uploads_dedup(void **state)
{
    fixture *f = *state;
    char dev[33], model[40];
    device_id(f, 32, dev);
    snprintf(model, sizeof model, "race-%s", f->uniq);
    pthread_t th[4];
    uploader u[4];
    for (int i = 0; i < 4; i++) {
        u[i] = (uploader){f->st, dev, model, 0, 0};
        pthread_create(&th[i], NULL, upload, &u[i]);
    }
    int stored = 0, dup = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        stored += u[i].stored;
        dup += u[i].dup;
    }
    assert_int_equal(stored, 20);
    assert_int_equal(dup, 60);
    st_tdevice t;
    assert_int_equal(ST(f->st, tdevice_get, dev, &t), ST_OK);
    assert_int_equal(t.reports, 20);
    assert_int_equal(t.duplicates, 60);
}

typedef struct silent_seen {
    const char *want[2];
    int64_t last[2];
    int other;
} silent_seen;

static int collect_silent(void *ctx, const char *id, int64_t last)
{
    silent_seen *x = ctx;
    for (int i = 0; i < 2; i++)
        if (strcmp(id, x->want[i]) == 0)
            x->last[i] = last;
    return 0;
}

static void silent_devices_by_last_activity(void **state)
{
    fixture *f = *state;
    char quiet[33], talking[33], fresh[33], group[40];
    snprintf(group, sizeof group, "quiet-%s", f->uniq);
    device_id(f, 40, quiet);
    device_id(f, 41, talking);
    device_id(f, 42, fresh);
    add_device(f, 40, group, "[]");
    add_device(f, 41, group, "[]");
    add_device(f, 42, group, "[]"); /* never seen: new, not silent */
    st_checkin ck = {10000, "{}", "", 0, NULL};
    assert_int_equal(ST(f->st, device_checkin, quiet, &ck), ST_OK);
    assert_int_equal(ST(f->st, device_checkin, talking, &ck), ST_OK);
    st_report r = make_report(talking, "m", 1, 1, 50000, NULL, 0);
    assert_int_equal(ST(f->st, report_insert, &r, 0), ST_OK); /* reported at 50 s */
    silent_seen x = {{quiet, talking}, {-1, -1}, 0};
    assert_int_equal(ST(f->st, devices_silent, 40000, collect_silent, &x), ST_OK);
    assert_int_equal(x.last[0], 10000);
    assert_int_equal(x.last[1], -1);
    silent_seen y = {{talking, fresh}, {-1, -1}, 0};
    assert_int_equal(ST(f->st, devices_silent, 60000, collect_silent, &y), ST_OK);
    assert_int_equal(y.last[0], 50000);
    assert_int_equal(y.last[1], -1);
}

static st_alert make_alert(const char *dev, const char *kind, const char *digest, int64_t at)
{
    st_alert a;
    memset(&a, 0, sizeof a);
    st_copy(a.kind, sizeof a.kind, kind);
    st_copy(a.device_id, sizeof a.device_id, dev);
    st_copy(a.digest, sizeof a.digest, digest);
    st_copy(a.model, sizeof a.model, "kws");
    st_copy(a.version, sizeof a.version, "1.0.0");
    st_copy(a.state, sizeof a.state, "open");
    st_copy(a.message, sizeof a.message, "drift 0.4 > 0.25");
    a.value = 0.4;
    a.threshold = 0.25;
    a.opened_at = a.updated_at = at;
    return a;
}

static int collect_alert_ids(void *ctx, const st_alert *a)
{
    int64_t *ids = ctx;
    if (ids[0] < 15)
        ids[++ids[0]] = a->id;
    return 0;
}

static void alerts_one_active_per_key(void **state)
{
    fixture *f = *state;
    char dev[33], group[40];
    snprintf(group, sizeof group, "al-%s", f->uniq);
    device_id(f, 50, dev);
    add_device(f, 50, group, "[]");
    st_alert a = make_alert(dev, "drift", "aabbccddeeff0011", 100), got;
    assert_int_equal(ST(f->st, alert_insert, &a), ST_OK);
    assert_true(a.id > 0);
    st_alert dup = make_alert(dev, "drift", "aabbccddeeff0011", 200);
    assert_int_equal(ST(f->st, alert_insert, &dup), ST_CONFLICT); /* one unresolved per key */
    st_alert lat = make_alert(dev, "latency", "aabbccddeeff0011", 300);
    assert_int_equal(ST(f->st, alert_insert, &lat), ST_OK); /* other kind */
    st_alert silent = make_alert(dev, "silent", "", 400);
    assert_int_equal(ST(f->st, alert_insert, &silent), ST_OK);

    assert_int_equal(ST(f->st, alert_active, dev, "drift", "aabbccddeeff0011", &got), ST_OK);
    assert_int_equal(got.id, a.id);
    assert_string_equal(got.message, "drift 0.4 > 0.25");
    assert_true(got.value == 0.4 && got.threshold == 0.25);
    assert_int_equal(ST(f->st, alert_active, dev, "silent", NULL, &got), ST_OK);
    assert_int_equal(got.id, silent.id);
    assert_int_equal(ST(f->st, alert_active, dev, "errors", "", &got), ST_NOT_FOUND);

    st_copy(a.state, sizeof a.state, "acknowledged");
    a.acked_at = a.updated_at = 500;
    st_copy(a.acked_by, sizeof a.acked_by, "ops");
    assert_int_equal(ST(f->st, alert_update, &a), ST_OK);
    assert_int_equal(ST(f->st, alert_get, a.id, &got), ST_OK);
    assert_string_equal(got.state, "acknowledged");
    assert_string_equal(got.acked_by, "ops");
    assert_int_equal(got.acked_at, 500);
    assert_int_equal(got.opened_at, 100);
    assert_int_equal(ST(f->st, alert_get, 1LL << 40, &got), ST_NOT_FOUND);
    st_alert missing = a;
    missing.id = 1LL << 40;
    assert_int_equal(ST(f->st, alert_update, &missing), ST_NOT_FOUND);

    int64_t ids[16] = {0}, count = 0;
    st_alert_filter of_dev = {.device = dev};
    assert_int_equal(ST(f->st, alert_list, &of_dev, collect_alert_ids, ids), ST_OK);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], silent.id); /* newest first */
    assert_int_equal(ids[3], a.id);
    st_alert_filter open_in_group = {.state = "open", .group = group};
    assert_int_equal(ST(f->st, alert_count, &open_in_group, &count), ST_OK);
    assert_int_equal(count, 2);
    st_alert_filter active = {.state = "active", .device = dev, .kind = "drift"};
    assert_int_equal(ST(f->st, alert_count, &active, &count), ST_OK);
    assert_int_equal(count, 1);
    st_alert_filter recent = {.device = dev, .since = 350};
    assert_int_equal(ST(f->st, alert_count, &recent, &count), ST_OK);
    assert_int_equal(count, 2); /* silent (400) and the acknowledged one (500) */
    ids[0] = 0;
    st_alert_filter page = {.device = dev, .limit = 1, .offset = 1};
    assert_int_equal(ST(f->st, alert_list, &page, collect_alert_ids, ids), ST_OK);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], lat.id);

    st_copy(a.state, sizeof a.state, "resolved");
    a.resolved_at = a.updated_at = 600;
    st_copy(a.resolved_by, sizeof a.resolved_by, "auto");
    assert_int_equal(ST(f->st, alert_update, &a), ST_OK);
    assert_int_equal(ST(f->st, alert_active, dev, "drift", "aabbccddeeff0011", &got), ST_NOT_FOUND);
    dup = make_alert(dev, "drift", "aabbccddeeff0011", 700);
    assert_int_equal(ST(f->st, alert_insert, &dup), ST_OK); /* a new one once resolved */
    st_alert_filter resolved = {.state = "resolved", .device = dev};
    assert_int_equal(ST(f->st, alert_count, &resolved, &count), ST_OK);
    assert_int_equal(count, 1);
}

static void settings_gates_and_enc_keys(void **state)
{
    fixture *f = *state;
    char key[40], *v = NULL, *policy = NULL, *result = NULL;
    snprintf(key, sizeof key, "rules-%s", f->uniq);
    assert_int_equal(ST(f->st, setting_get, key, &v), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, setting_set, key, "{\"a\":1}", 10), ST_OK);
    assert_int_equal(ST(f->st, setting_set, key, "{\"a\":2}", 20), ST_OK);
    assert_int_equal(ST(f->st, setting_get, key, &v), ST_OK);
    assert_string_equal(v, "{\"a\":2}");
    free(v);

    st_deployment d = make_deployment("gated");
    assert_int_equal(ST(f->st, deployment_insert, &d), ST_OK);
    assert_int_equal(ST(f->st, gate_get, d.id, &policy, &result), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, gate_result, d.id, "{}", 5), ST_NOT_FOUND);
    assert_int_equal(ST(f->st, gate_set, d.id, "{\"min_devices\":2}"), ST_OK);
    assert_int_equal(ST(f->st, gate_get, d.id, &policy, &result), ST_OK);
    assert_string_equal(policy, "{\"min_devices\":2}");
    assert_string_equal(result, "");
    free(policy);
    free(result);
    assert_int_equal(ST(f->st, gate_result, d.id, "{\"verdict\":\"pass\"}", 5), ST_OK);
    assert_int_equal(ST(f->st, gate_set, d.id, "{\"min_devices\":3}"), ST_OK);
    assert_int_equal(ST(f->st, gate_get, d.id, &policy, NULL), ST_OK);
    assert_string_equal(policy, "{\"min_devices\":3}");
    free(policy);
    assert_int_equal(ST(f->st, gate_get, d.id, NULL, &result), ST_OK);
    assert_string_equal(result, "{\"verdict\":\"pass\"}"); /* kept by a new policy */
    free(result);
    assert_int_equal(ST(f->st, gate_set, 1LL << 40, "{}"), ST_CONFLICT); /* no such deployment */

    char dev[33];
    device_id(f, 60, dev);
    uint8_t pub[ST_PUBKEY_LEN], got[ST_PUBKEY_LEN];
    assert_int_equal(ST(f->st, device_enc_key_get, dev, got), ST_NOT_FOUND);
    memset(pub, 0x42, sizeof pub);
    pub[0] = 0x04;
    assert_int_equal(ST(f->st, device_enc_key_set, dev, pub, 10), ST_OK);
    pub[64] = 0x00; /* a zero byte survives */
    assert_int_equal(ST(f->st, device_enc_key_set, dev, pub, 20), ST_OK);
    assert_int_equal(ST(f->st, device_enc_key_get, dev, got), ST_OK);
    assert_memory_equal(got, pub, sizeof pub);
}

/* A refused write inside a write transaction leaves it usable, as with SQLite. */
static void conflict_inside_transaction(void **state)
{
    fixture *f = *state;
    char group[40];
    snprintf(group, sizeof group, "txc-%s", f->uniq);
    add_device(f, 70, group, "[]");
    assert_int_equal(ST(f->st, begin, ST_TX_WRITE), ST_OK);
    st_device d;
    memset(&d, 0, sizeof d);
    device_id(f, 70, d.id);
    st_copy(d.group, sizeof d.group, group);
    assert_int_equal(ST(f->st, device_insert, &d), ST_CONFLICT);
    st_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.hash, sizeof t.hash, "%.8s%056d", f->uniq, 70);
    st_copy(t.role, sizeof t.role, "nobody"); /* not a role: refused by the schema */
    assert_int_equal(ST(f->st, token_insert, &t), ST_CONFLICT);
    st_device got;
    assert_int_equal(ST(f->st, device_get, d.id, &got), ST_OK);
    st_device_free(&got);
    add_device(f, 71, group, "[\"x\"]");
    assert_int_equal(ST0(f->st, commit), ST_OK);
    st_device_filter g = {group, NULL, NULL, 0, 0, 0};
    int64_t count = 0;
    assert_int_equal(ST(f->st, device_count, &g, &count), ST_OK);
    assert_int_equal(count, 2);
}

static void unknown_scheme_is_refused(void **state)
{
    (void)state;
    char err[256];
    assert_null(store_open("mysql://x", err, sizeof err));
    assert_non_null(strstr(err, "unsupported"));
    assert_null(store_open("no-scheme", err, sizeof err));
    assert_null(store_open("sqlite:/nonexistent-dir/x/y.db", err, sizeof err));
    /* refused as unsupported (built without libpq) or as unreachable: named either way */
    assert_null(store_open("postgres:host=/nonexistent-dir port=1 dbname=x", err, sizeof err));
    assert_non_null(strstr(err, "postgres"));
}

int main(int argc, char **argv)
{
    const char *env = getenv("TMO_STORE_URL");
    if (env != NULL && env[0] == '\0')
        env = NULL;
    if (argc > 1 && strcmp(argv[1], "--env") == 0) {
        if (env == NULL) {
            fprintf(stderr, "test_store --env: TMO_STORE_URL is not set (see scripts/pg-test); "
                            "skipped\n");
            return 77;
        }
        store_url = env;
    } else if (argc > 1 && strcmp(argv[1], "--sqlite") == 0) {
        store_url = NULL;
    } else {
        store_url = env;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tmo-store-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(admin_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(enrollment_tokens_count_down, setup, teardown),
        cmocka_unit_test_setup_teardown(devices_and_tag_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(revocation_of_tokens_and_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(nonces_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(bundles_and_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(deployments_and_assignments, setup, teardown),
        cmocka_unit_test_setup_teardown(assignments_in_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(leases_have_one_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(writers_of_different_devices_run_in_parallel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_transactions_serialize, setup, teardown),
        cmocka_unit_test_setup_teardown(reports_dedup_scan_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_uploads_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_devices_by_last_activity, setup, teardown),
        cmocka_unit_test_setup_teardown(alerts_one_active_per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(settings_gates_and_enc_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(conflict_inside_transaction, setup, teardown),
        cmocka_unit_test(unknown_scheme_is_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
