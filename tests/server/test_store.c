/*
 * Store conformance suite (server/store/store.h): every backend must pass
 * it. It runs against the database named by TMO_STORE_URL, or a fresh
 * SQLite file per test. Tests use unique names (random device ids, groups
 * and models) so they can share one database, e.g. a PostgreSQL schema.
 * Expectations come from the contract in store.h, not from SQLite.
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

typedef struct fixture {
    store *st;
    char url[512];
    char uniq[9]; /* random prefix for names shared across runs */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *env = getenv("TMO_STORE_URL");
    if (env != NULL)
        snprintf(f->url, sizeof f->url, "%s", env);
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
    assert_int_equal(ST(f->st, device_pubkey, id1, pub), ST_OK);
    assert_int_equal(pub[0], 2); /* add_device fills with i + 1 */
    assert_int_equal(ST(f->st, device_pubkey, "ffffffffffffffffffffffffffffffff", pub),
                     ST_NOT_FOUND);

    id_list x = {.n = 0};
    st_device_filter all_group = {group, NULL, NULL, 0, 0};
    assert_int_equal(ST(f->st, device_list, &all_group, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.id[0], id1); /* ordered by id */
    assert_string_equal(x.id[2], id3);

    x.n = 0;
    st_device_filter eu_v2 = {NULL, "[\"eu\",\"v2\"]", NULL, 0, 0};
    assert_int_equal(ST(f->st, device_list, &eu_v2, collect_ids, &x), ST_OK);
    int have1 = 0, have4 = 0;
    for (int i = 0; i < x.n; i++) {
        have1 |= strcmp(x.id[i], id1) == 0;
        have4 |= strcmp(x.id[i], id4) == 0;
        assert_string_not_equal(x.id[i], id2); /* has eu but not v2 */
    }
    assert_true(have1 && have4);

    x.n = 0;
    st_device_filter eu_not_v2 = {group, "[\"eu\"]", "[\"v2\"]", 0, 0};
    assert_int_equal(ST(f->st, device_list, &eu_not_v2, collect_ids, &x), ST_OK);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.id[0], id2);

    int64_t count = 0;
    assert_int_equal(ST(f->st, device_count, &all_group, &count), ST_OK);
    assert_int_equal(count, 3);
    x.n = 0;
    st_device_filter page = {group, NULL, NULL, 1, 1};
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
    st_device_filter beta = {other, "[\"beta\"]", NULL, 0, 0};
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
    assert_int_equal(ST(f->st, assignment_insert, &a), ST_OK);
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
    assert_int_equal(ST(f->st, assignment_insert, &a), ST_CONFLICT);

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
    st_device_filter g = {group, NULL, NULL, 0, 0};
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

static void unknown_scheme_is_refused(void **state)
{
    (void)state;
    char err[256];
    assert_null(store_open("mysql://x", err, sizeof err));
    assert_non_null(strstr(err, "unsupported"));
    assert_null(store_open("no-scheme", err, sizeof err));
    assert_null(store_open("sqlite:/nonexistent-dir/x/y.db", err, sizeof err));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tmo-store-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(admin_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(enrollment_tokens_count_down, setup, teardown),
        cmocka_unit_test_setup_teardown(devices_and_tag_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(nonces_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(bundles_and_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(deployments_and_assignments, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_transactions_serialize, setup, teardown),
        cmocka_unit_test(unknown_scheme_is_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
