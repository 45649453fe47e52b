/*
 * SQLite store: alerts (at most one unresolved per device, kind and model,
 * enforced by a partial unique index), settings, deployment health gates and
 * device encryption keys.
 */
#include <string.h>

#include "sqlite_priv.h"

int sqlite_alert_insert(store *s, st_alert *a);
int sqlite_alert_get(store *s, int64_t id, st_alert *out);
int sqlite_alert_active(store *s, const char *device, const char *kind, const char *digest,
                        st_alert *out);
int sqlite_alert_update(store *s, const st_alert *a);
int sqlite_alert_list(store *s, const st_alert_filter *f, st_alert_cb cb, void *ctx);
int sqlite_alert_count(store *s, const st_alert_filter *f, int64_t *count);
int sqlite_setting_get(store *s, const char *key, char **value);
int sqlite_lease_acquire(store *s, const char *name, const char *holder, int64_t now,
                         int64_t ttl_ms);
int sqlite_setting_set(store *s, const char *key, const char *value, int64_t now);
int sqlite_gate_set(store *s, int64_t deployment, const char *policy_json);
int sqlite_gate_get(store *s, int64_t deployment, char **policy_json, char **result_json);
int sqlite_gate_result(store *s, int64_t deployment, const char *result_json, int64_t now);
int sqlite_device_enc_key_set(store *s, const char *device, const uint8_t pub[ST_PUBKEY_LEN],
                              int64_t now);
int sqlite_device_enc_key_get(store *s, const char *device, uint8_t pub[ST_PUBKEY_LEN]);

#define ALERT_COLUMNS                                                                              \
    "a.id, a.kind, a.device_id, a.digest, a.model, a.version, a.state, a.message, a.value, "       \
    "a.threshold, a.opened_at, a.updated_at, a.acked_at, a.acked_by, a.resolved_at, "              \
    "a.resolved_by"

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (kind, device_id, digest, model, version, state, message, value, "
    "threshold, opened_at, updated_at, acked_at, acked_by, resolved_at, resolved_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ALERT_GET[] = "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = ?";
static const char SQL_ALERT_ACTIVE[] =
    "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.device_id = ? AND a.kind = ? AND "
    "a.digest = ? AND a.state != 'resolved'";
static const char SQL_ALERT_UPDATE[] =
    "UPDATE alerts SET state = ?, message = ?, value = ?, threshold = ?, updated_at = ?, "
    "acked_at = ?, acked_by = ?, resolved_at = ?, resolved_by = ? WHERE id = ?";
/* ?1 state, ?2 device, ?3 group, ?4 kind, ?5 since. */
#define ALERT_WHERE                                                                                \
    " FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE"                               \
    " (?1 IS NULL OR (?1 = 'active' AND a.state != 'resolved') OR a.state = ?1)"                   \
    " AND (?2 IS NULL OR a.device_id = ?2) AND (?3 IS NULL OR d.grp = ?3)"                         \
    " AND (?4 IS NULL OR a.kind = ?4) AND a.updated_at >= ?5"
static const char SQL_ALERT_LIST[] =
    "SELECT " ALERT_COLUMNS ALERT_WHERE " ORDER BY a.id DESC LIMIT ?6 OFFSET ?7";
static const char SQL_ALERT_COUNT[] = "SELECT count(*)" ALERT_WHERE;
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = ?";
static const char SQL_SETTING_SET[] =
    "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
static const char SQL_GATE_SET[] =
    "INSERT INTO deployment_gates (deployment_id, policy) VALUES (?1, ?2) "
    "ON CONFLICT (deployment_id) DO UPDATE SET policy = excluded.policy";
static const char SQL_GATE_GET[] =
    "SELECT policy, result FROM deployment_gates WHERE deployment_id = ?";
static const char SQL_GATE_RESULT[] =
    "UPDATE deployment_gates SET result = ?, updated_at = ? WHERE deployment_id = ?";
static const char SQL_ENC_SET[] =
    "INSERT INTO device_enc_keys (device_id, public_key, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, "
    "updated_at = excluded.updated_at";
static const char SQL_ENC_GET[] = "SELECT public_key FROM device_enc_keys WHERE device_id = ?";

static void alert_row(sqlite3_stmt *st, st_alert *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, a->kind, sizeof a->kind);
    sq_col_copy(st, 2, a->device_id, sizeof a->device_id);
    sq_col_copy(st, 3, a->digest, sizeof a->digest);
    sq_col_copy(st, 4, a->model, sizeof a->model);
    sq_col_copy(st, 5, a->version, sizeof a->version);
    sq_col_copy(st, 6, a->state, sizeof a->state);
    sq_col_copy(st, 7, a->message, sizeof a->message);
    a->value = sqlite3_column_double(st, 8);
    a->threshold = sqlite3_column_double(st, 9);
    a->opened_at = sqlite3_column_int64(st, 10);
    a->updated_at = sqlite3_column_int64(st, 11);
    a->acked_at = sqlite3_column_int64(st, 12);
    sq_col_copy(st, 13, a->acked_by, sizeof a->acked_by);
    a->resolved_at = sqlite3_column_int64(st, 14);
    sq_col_copy(st, 15, a->resolved_by, sizeof a->resolved_by);
}

/* Runs st (one row expected) into a; releases it. */
static int one_alert(sq_conn *c, sqlite3_stmt *st, st_alert *out, const char *what)
{
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        alert_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, what);
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_alert_insert(store *s, st_alert *a)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_INSERT) : NULL;
    if (st == NULL)
        return ST_ERROR;
    int i = 1;
    sq_text(st, i++, a->kind);
    sq_text(st, i++, a->device_id);
    sq_text(st, i++, a->digest);
    sq_text(st, i++, a->model);
    sq_text(st, i++, a->version);
    sq_text(st, i++, a->state);
    sq_text(st, i++, a->message);
    sqlite3_bind_double(st, i++, a->value);
    sqlite3_bind_double(st, i++, a->threshold);
    sq_int(st, i++, a->opened_at);
    sq_int(st, i++, a->updated_at);
    sq_int(st, i++, a->acked_at);
    sq_text(st, i++, a->acked_by);
    sq_int(st, i++, a->resolved_at);
    sq_text(st, i++, a->resolved_by);
    int rc = sq_run(c, st, "alert_insert");
    if (rc == ST_OK)
        a->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int sqlite_alert_get(store *s, int64_t id, st_alert *out)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_GET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, id);
    return one_alert(c, st, out, "alert_get");
}

int sqlite_alert_active(store *s, const char *device, const char *kind, const char *digest,
                        st_alert *out)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_ACTIVE) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    sq_text(st, 2, kind);
    sq_text(st, 3, digest != NULL ? digest : "");
    return one_alert(c, st, out, "alert_active");
}

int sqlite_alert_update(store *s, const st_alert *a)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_UPDATE) : NULL;
    if (st == NULL)
        return ST_ERROR;
    int i = 1;
    sq_text(st, i++, a->state);
    sq_text(st, i++, a->message);
    sqlite3_bind_double(st, i++, a->value);
    sqlite3_bind_double(st, i++, a->threshold);
    sq_int(st, i++, a->updated_at);
    sq_int(st, i++, a->acked_at);
    sq_text(st, i++, a->acked_by);
    sq_int(st, i++, a->resolved_at);
    sq_text(st, i++, a->resolved_by);
    sq_int(st, i++, a->id);
    int rc = sq_run(c, st, "alert_update");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        rc = ST_NOT_FOUND;
    return rc;
}

static void bind_alert_filter(sqlite3_stmt *st, const st_alert_filter *f)
{
    sq_text(st, 1, f->state);
    sq_text(st, 2, f->device);
    sq_text(st, 3, f->group);
    sq_text(st, 4, f->kind);
    sq_int(st, 5, f->since);
}

int sqlite_alert_list(store *s, const st_alert_filter *f, st_alert_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_LIST) : NULL;
    if (st == NULL)
        return ST_ERROR;
    bind_alert_filter(st, f);
    sq_int(st, 6, f->limit > 0 ? f->limit : -1);
    sq_int(st, 7, f->offset);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_alert a;
        alert_row(st, &a);
        if (cb(ctx, &a) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "alert_list");
    sq_done(c, st);
    return out;
}

int sqlite_alert_count(store *s, const st_alert_filter *f, int64_t *count)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ALERT_COUNT) : NULL;
    if (st == NULL)
        return ST_ERROR;
    bind_alert_filter(st, f);
    int rc = sqlite3_step(st), out = ST_OK;
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        out = sq_fail(c, "alert_count");
    sq_done(c, st);
    return out;
}

/* Copies up to two text columns of the single row of st into heap strings. */
static int text_row(sq_conn *c, sqlite3_stmt *st, char **a, char **b, const char *what)
{
    int rc = sqlite3_step(st), out = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        out = ST_OK;
        if (a != NULL && (*a = sq_col_dup(st, 0)) == NULL)
            out = store_fail("out of memory");
        if (b != NULL && out == ST_OK && (*b = sq_col_dup(st, 1)) == NULL)
            out = store_fail("out of memory");
    } else if (rc != SQLITE_DONE) {
        out = sq_fail(c, what);
    }
    sq_done(c, st);
    return out;
}

int sqlite_setting_get(store *s, const char *key, char **value)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_SETTING_GET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, key);
    *value = NULL;
    return text_row(c, st, value, NULL, "setting_get");
}

int sqlite_setting_set(store *s, const char *key, const char *value, int64_t now)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_SETTING_SET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, key);
    sq_text(st, 2, value);
    sq_int(st, 3, now);
    return sq_run(c, st, "setting_set");
}

int sqlite_gate_set(store *s, int64_t deployment, const char *policy_json)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_GATE_SET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, deployment);
    sq_text(st, 2, policy_json);
    return sq_run(c, st, "gate_set");
}

int sqlite_gate_get(store *s, int64_t deployment, char **policy_json, char **result_json)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_GATE_GET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, deployment);
    if (policy_json != NULL)
        *policy_json = NULL;
    if (result_json != NULL)
        *result_json = NULL;
    return text_row(c, st, policy_json, result_json, "gate_get");
}

int sqlite_gate_result(store *s, int64_t deployment, const char *result_json, int64_t now)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_GATE_RESULT) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, result_json);
    sq_int(st, 2, now);
    sq_int(st, 3, deployment);
    int rc = sq_run(c, st, "gate_result");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        rc = ST_NOT_FOUND;
    return rc;
}

int sqlite_device_enc_key_set(store *s, const char *device, const uint8_t pub[ST_PUBKEY_LEN],
                              int64_t now)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ENC_SET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    sqlite3_bind_blob(st, 2, pub, ST_PUBKEY_LEN, SQLITE_TRANSIENT);
    sq_int(st, 3, now);
    return sq_run(c, st, "device_enc_key_set");
}

int sqlite_device_enc_key_get(store *s, const char *device, uint8_t pub[ST_PUBKEY_LEN])
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_ENC_GET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    int rc = sqlite3_step(st), out = ST_NOT_FOUND;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == ST_PUBKEY_LEN) {
        memcpy(pub, sqlite3_column_blob(st, 0), ST_PUBKEY_LEN);
        out = ST_OK;
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        out = sq_fail(c, "device_enc_key_get");
    }
    sq_done(c, st);
    return out;
}

static const char SQL_LEASE[] =
    "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?4) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3";

int sqlite_lease_acquire(store *s, const char *name, const char *holder, int64_t now,
                         int64_t ttl_ms)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_LEASE) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, name);
    sq_text(st, 2, holder);
    sq_int(st, 3, now);
    sq_int(st, 4, now + ttl_ms);
    int rc = sq_run(c, st, "lease_acquire");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_CONFLICT;
    return rc;
}
