/*
 * PostgreSQL store: alerts (at most one unresolved per device, kind and
 * model, enforced by a partial unique index), settings, deployment health
 * gates and device encryption keys.
 */
#include <string.h>

#include "pg_priv.h"

int postgres_alert_insert(store *s, st_alert *a);
int postgres_alert_get(store *s, int64_t id, st_alert *out);
int postgres_alert_active(store *s, const char *device, const char *kind, const char *digest,
                          st_alert *out);
int postgres_alert_update(store *s, const st_alert *a);
int postgres_alert_list(store *s, const st_alert_filter *f, st_alert_cb cb, void *ctx);
int postgres_alert_count(store *s, const st_alert_filter *f, int64_t *count);
int postgres_setting_get(store *s, const char *key, char **value);
int postgres_setting_set(store *s, const char *key, const char *value, int64_t now);
int postgres_gate_set(store *s, int64_t deployment, const char *policy_json);
int postgres_gate_get(store *s, int64_t deployment, char **policy_json, char **result_json);
int postgres_gate_result(store *s, int64_t deployment, const char *result_json, int64_t now);
int postgres_device_enc_key_set(store *s, const char *device, const uint8_t pub[ST_PUBKEY_LEN],
                                int64_t now);
int postgres_device_enc_key_get(store *s, const char *device, uint8_t pub[ST_PUBKEY_LEN]);

#define ALERT_COLUMNS                                                                              \
    "a.id, a.kind, a.device_id, a.digest, a.model, a.version, a.state, a.message, a.value, "       \
    "a.threshold, a.opened_at, a.updated_at, a.acked_at, a.acked_by, a.resolved_at, "              \
    "a.resolved_by"

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (kind, device_id, digest, model, version, state, message, value, "
    "threshold, opened_at, updated_at, acked_at, acked_by, resolved_at, resolved_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
    "ON CONFLICT DO NOTHING RETURNING id";
static const char SQL_ALERT_GET[] = "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = $1";
static const char SQL_ALERT_GET_LOCK[] =
    "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = $1 FOR UPDATE";
#define ALERT_ACTIVE                                                                               \
    "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.device_id = $1 AND a.kind = $2 AND "           \
    "a.digest = $3 AND a.state <> 'resolved'"
static const char SQL_ALERT_ACTIVE[] = ALERT_ACTIVE;
static const char SQL_ALERT_ACTIVE_LOCK[] = ALERT_ACTIVE " FOR UPDATE";
static const char SQL_ALERT_UPDATE[] =
    "UPDATE alerts SET state = $1, message = $2, value = $3, threshold = $4, updated_at = $5, "
    "acked_at = $6, acked_by = $7, resolved_at = $8, resolved_by = $9 WHERE id = $10";
/* $1 state, $2 device, $3 group, $4 kind, $5 since. */
#define ALERT_WHERE                                                                                \
    " FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE"                               \
    " ($1::text IS NULL OR ($1 = 'active' AND a.state <> 'resolved') OR a.state = $1)"             \
    " AND ($2::text IS NULL OR a.device_id = $2) AND ($3::text IS NULL OR d.grp = $3)"             \
    " AND ($4::text IS NULL OR a.kind = $4) AND a.updated_at >= $5"
static const char SQL_ALERT_LIST[] =
    "SELECT " ALERT_COLUMNS ALERT_WHERE " ORDER BY a.id DESC LIMIT nullif($6, 0) OFFSET $7";
static const char SQL_ALERT_COUNT[] = "SELECT count(*)" ALERT_WHERE;
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = $1";
static const char SQL_SETTING_GET_LOCK[] = "SELECT value FROM settings WHERE key = $1 FOR UPDATE";
static const char SQL_SETTING_SET[] =
    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at";
static const char SQL_GATE_SET[] =
    "INSERT INTO deployment_gates (deployment_id, policy) VALUES ($1, $2) "
    "ON CONFLICT (deployment_id) DO UPDATE SET policy = EXCLUDED.policy";
static const char SQL_GATE_GET[] =
    "SELECT policy, result FROM deployment_gates WHERE deployment_id = $1";
static const char SQL_GATE_GET_LOCK[] =
    "SELECT policy, result FROM deployment_gates WHERE deployment_id = $1 FOR UPDATE";
static const char SQL_GATE_RESULT[] =
    "UPDATE deployment_gates SET result = $1, updated_at = $2 WHERE deployment_id = $3";
static const char SQL_ENC_SET[] =
    "INSERT INTO device_enc_keys (device_id, public_key, updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (device_id) DO UPDATE SET public_key = EXCLUDED.public_key, "
    "updated_at = EXCLUDED.updated_at";
static const char SQL_ENC_GET[] = "SELECT public_key FROM device_enc_keys WHERE device_id = $1";

static void alert_row(const PGresult *r, int i, st_alert *a)
{
    memset(a, 0, sizeof *a);
    a->id = pg_int(r, i, 0);
    pg_copy(r, i, 1, a->kind, sizeof a->kind);
    pg_copy(r, i, 2, a->device_id, sizeof a->device_id);
    pg_copy(r, i, 3, a->digest, sizeof a->digest);
    pg_copy(r, i, 4, a->model, sizeof a->model);
    pg_copy(r, i, 5, a->version, sizeof a->version);
    pg_copy(r, i, 6, a->state, sizeof a->state);
    pg_copy(r, i, 7, a->message, sizeof a->message);
    a->value = pg_double(r, i, 8);
    a->threshold = pg_double(r, i, 9);
    a->opened_at = pg_int(r, i, 10);
    a->updated_at = pg_int(r, i, 11);
    a->acked_at = pg_int(r, i, 12);
    pg_copy(r, i, 13, a->acked_by, sizeof a->acked_by);
    a->resolved_at = pg_int(r, i, 14);
    pg_copy(r, i, 15, a->resolved_by, sizeof a->resolved_by);
}

static int one_alert(pg_conn *c, const char *sql, const pg_params *p, st_alert *out,
                     const char *what)
{
    PGresult *r;
    int rc = pg_one(c, sql, p, what, &r);
    if (rc == ST_OK)
        alert_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_alert_insert(store *s, st_alert *a)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, a->kind);
    pp_text(&p, a->device_id);
    pp_text(&p, a->digest);
    pp_text(&p, a->model);
    pp_text(&p, a->version);
    pp_text(&p, a->state);
    pp_text(&p, a->message);
    pp_double(&p, a->value);
    pp_double(&p, a->threshold);
    pp_int(&p, a->opened_at);
    pp_int(&p, a->updated_at);
    pp_int(&p, a->acked_at);
    pp_text(&p, a->acked_by);
    pp_int(&p, a->resolved_at);
    pp_text(&p, a->resolved_by);
    int rc;
    PGresult *r = pg_write(c, SQL_ALERT_INSERT, &p, "alert_insert", &rc);
    if (r == NULL)
        return rc;
    /* no row: an unresolved alert of the same device, kind and digest exists */
    rc = PQntuples(r) == 1 ? ST_OK : ST_CONFLICT;
    if (rc == ST_OK)
        a->id = pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int postgres_alert_get(store *s, int64_t id, st_alert *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, id);
    return one_alert(c, PG_IN_WRITE_TX(c) ? SQL_ALERT_GET_LOCK : SQL_ALERT_GET, &p, out,
                     "alert_get");
}

int postgres_alert_active(store *s, const char *device, const char *kind, const char *digest,
                          st_alert *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    pp_text(&p, kind);
    pp_text(&p, digest != NULL ? digest : "");
    return one_alert(c, PG_IN_WRITE_TX(c) ? SQL_ALERT_ACTIVE_LOCK : SQL_ALERT_ACTIVE, &p, out,
                     "alert_active");
}

int postgres_alert_update(store *s, const st_alert *a)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, a->state);
    pp_text(&p, a->message);
    pp_double(&p, a->value);
    pp_double(&p, a->threshold);
    pp_int(&p, a->updated_at);
    pp_int(&p, a->acked_at);
    pp_text(&p, a->acked_by);
    pp_int(&p, a->resolved_at);
    pp_text(&p, a->resolved_by);
    pp_int(&p, a->id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_ALERT_UPDATE, &p, "alert_update", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

static void alert_filter(pg_params *p, const st_alert_filter *f)
{
    pp_text(p, f->state);
    pp_text(p, f->device);
    pp_text(p, f->group);
    pp_text(p, f->kind);
    pp_int(p, f->since);
}

int postgres_alert_list(store *s, const st_alert_filter *f, st_alert_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    alert_filter(&p, f);
    pp_int(&p, f->limit > 0 ? f->limit : 0);
    pp_int(&p, f->offset > 0 ? f->offset : 0);
    int rc;
    PGresult *r = pg_query(c, SQL_ALERT_LIST, &p, "alert_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_alert a;
        alert_row(r, i, &a);
        if (cb(ctx, &a) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_alert_count(store *s, const st_alert_filter *f, int64_t *count)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    alert_filter(&p, f);
    PGresult *r;
    int rc = pg_one(c, SQL_ALERT_COUNT, &p, "alert_count", &r);
    if (rc == ST_OK)
        *count = pg_int(r, 0, 0);
    PQclear(r);
    return rc == ST_ERROR ? ST_ERROR : ST_OK;
}

/* Copies up to two text columns of the single row into heap strings. */
static int text_row(pg_conn *c, const char *sql, const pg_params *p, char **a, char **b,
                    const char *what)
{
    PGresult *r;
    int rc = pg_one(c, sql, p, what, &r);
    if (rc == ST_OK) {
        if (a != NULL && (*a = pg_dup(r, 0, 0)) == NULL)
            rc = store_fail("out of memory");
        if (b != NULL && rc == ST_OK && (*b = pg_dup(r, 0, 1)) == NULL)
            rc = store_fail("out of memory");
    }
    PQclear(r);
    return rc;
}

int postgres_setting_get(store *s, const char *key, char **value)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, key);
    *value = NULL;
    return text_row(c, PG_IN_WRITE_TX(c) ? SQL_SETTING_GET_LOCK : SQL_SETTING_GET, &p, value, NULL,
                    "setting_get");
}

int postgres_setting_set(store *s, const char *key, const char *value, int64_t now)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, key);
    pp_text(&p, value);
    pp_int(&p, now);
    return pg_run(c, SQL_SETTING_SET, &p, "setting_set", NULL);
}

int postgres_gate_set(store *s, int64_t deployment, const char *policy_json)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, deployment);
    pp_text(&p, policy_json);
    return pg_run(c, SQL_GATE_SET, &p, "gate_set", NULL);
}

int postgres_gate_get(store *s, int64_t deployment, char **policy_json, char **result_json)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, deployment);
    if (policy_json != NULL)
        *policy_json = NULL;
    if (result_json != NULL)
        *result_json = NULL;
    return text_row(c, PG_IN_WRITE_TX(c) ? SQL_GATE_GET_LOCK : SQL_GATE_GET, &p, policy_json,
                    result_json, "gate_get");
}

int postgres_gate_result(store *s, int64_t deployment, const char *result_json, int64_t now)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, result_json);
    pp_int(&p, now);
    pp_int(&p, deployment);
    int64_t n = 0;
    int rc = pg_run(c, SQL_GATE_RESULT, &p, "gate_result", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_device_enc_key_set(store *s, const char *device, const uint8_t pub[ST_PUBKEY_LEN],
                                int64_t now)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    pp_bytes(&p, pub, ST_PUBKEY_LEN);
    pp_int(&p, now);
    return pg_run(c, SQL_ENC_SET, &p, "device_enc_key_set", NULL);
}

int postgres_device_enc_key_get(store *s, const char *device, uint8_t pub[ST_PUBKEY_LEN])
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    PGresult *r;
    int rc = pg_one(c, SQL_ENC_GET, &p, "device_enc_key_get", &r);
    if (rc == ST_OK) {
        size_t n = 0;
        const uint8_t *key = pg_bytes(r, 0, 0, &n);
        if (key != NULL && n == ST_PUBKEY_LEN)
            memcpy(pub, key, ST_PUBKEY_LEN);
        else
            rc = ST_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

int postgres_lease_acquire(store *s, const char *name, const char *holder, int64_t now,
                           int64_t ttl_ms);

static const char SQL_LEASE[] =
    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $4) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
    "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $3";

int postgres_lease_acquire(store *s, const char *name, const char *holder, int64_t now,
                           int64_t ttl_ms)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, name);
    pp_text(&p, holder);
    pp_int(&p, now);
    pp_int(&p, now + ttl_ms);
    int64_t n = 0;
    int rc = pg_run(c, SQL_LEASE, &p, "lease_acquire", &n);
    return rc == ST_OK && n == 0 ? ST_CONFLICT : rc;
}
