/*
 * SQLite store: devices, their tags (mirrored into device_tags for
 * queries), and what they reported at check-in.
 */
#include <string.h>

#include "sqlite_priv.h"

int sqlite_device_insert(store *s, const st_device *d);
int sqlite_device_get(store *s, const char *id, st_device *out);
int sqlite_device_pubkey(store *s, const char *id, uint8_t pub[ST_PUBKEY_LEN], int64_t *revoked_at);
int sqlite_device_revoke(store *s, const char *id, int64_t now, const char *reason);
int sqlite_session_set(store *s, const char *device, const st_session *ss);
int sqlite_session_get(store *s, const char *device, st_session *out);
int sqlite_session_use(store *s, const char *device, const char *session, int64_t counter,
                       int64_t now);
int sqlite_device_list(store *s, const st_device_filter *f, st_device_cb cb, void *ctx);
int sqlite_device_count(store *s, const st_device_filter *f, int64_t *count);
int sqlite_device_set_group(store *s, const char *id, const char *group);
int sqlite_device_set_tags(store *s, const char *id, const char *tags_json);
int sqlite_device_checkin(store *s, const char *id, const st_checkin *c);

#define DEVICE_COLUMNS                                                                             \
    "d.id, d.public_key, d.grp, d.tags, d.enroll_token_id, d.enrolled_at, d.last_seen, "           \
    "d.profile, "                                                                                  \
    "d.status, d.active_digest, d.nv_counter, d.revoked_at, d.revoked_reason"

/* ?1 group, ?2 tags (all of), ?3 excluded tags (none of); NULL = no condition; ?6 = 1: not revoked. */
#define DEVICE_WHERE                                                                               \
    " WHERE (?1 IS NULL OR d.grp = ?1) AND (?6 = 0 OR d.revoked_at = 0)"                           \
    " AND (?2 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(?2) j WHERE NOT EXISTS"               \
    "   (SELECT 1 FROM device_tags t WHERE t.device_id = d.id AND t.tag = j.value)))"              \
    " AND (?3 IS NULL OR NOT EXISTS (SELECT 1 FROM device_tags t WHERE t.device_id = d.id"         \
    "   AND t.tag IN (SELECT value FROM json_each(?3))))"

static const char SQL_DEVICE_INSERT[] =
    "INSERT INTO devices (id, public_key, grp, tags, enroll_token_id, enrolled_at, last_seen, "
    "profile, "
    "status, active_digest, nv_counter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_DEVICE_GET[] = "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.id = ?";
static const char SQL_DEVICE_PUBKEY[] = "SELECT public_key, revoked_at FROM devices WHERE id = ?";
static const char SQL_DEVICE_REVOKE[] =
    "UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN ?1 ELSE revoked_at END, "
    "revoked_reason = CASE WHEN revoked_at = 0 THEN ?2 ELSE revoked_reason END, "
    "session_id = '', session_key = NULL, session_expires = 0 WHERE id = ?3";
static const char SQL_SESSION_SET[] =
    "UPDATE devices SET session_id = ?1, session_key = ?2, session_expires = ?3, "
    "session_counter = 0 WHERE id = ?4";
static const char SQL_SESSION_GET[] =
    "SELECT session_id, session_key, session_expires, session_counter, revoked_at "
    "FROM devices WHERE id = ?";
static const char SQL_SESSION_USE[] =
    "UPDATE devices SET session_counter = ?3 WHERE id = ?1 AND session_id = ?2 AND "
    "session_id != '' AND session_counter < ?3 AND session_expires > ?4 AND revoked_at = 0";
static const char SQL_DEVICE_LIST[] =
    "SELECT " DEVICE_COLUMNS " FROM devices d" DEVICE_WHERE " ORDER BY d.id LIMIT ?4 OFFSET ?5";
static const char SQL_DEVICE_COUNT[] = "SELECT count(*) FROM devices d" DEVICE_WHERE;
static const char SQL_DEVICE_GROUP[] = "UPDATE devices SET grp = ? WHERE id = ?";
static const char SQL_DEVICE_TAGS[] = "UPDATE devices SET tags = ? WHERE id = ?";
static const char SQL_TAGS_CLEAR[] = "DELETE FROM device_tags WHERE device_id = ?";
static const char SQL_TAGS_ADD[] =
    "INSERT OR IGNORE INTO device_tags (device_id, tag) SELECT ?1, value FROM json_each(?2)";
static const char SQL_DEVICE_CHECKIN[] =
    "UPDATE devices SET last_seen = ?, status = ?, active_digest = ?, nv_counter = ?, "
    "profile = coalesce(?, profile) WHERE id = ?";

static void device_row(sqlite3_stmt *st, st_device *d)
{
    memset(d, 0, sizeof *d);
    sq_col_copy(st, 0, d->id, sizeof d->id);
    if (sqlite3_column_bytes(st, 1) == ST_PUBKEY_LEN)
        memcpy(d->public_key, sqlite3_column_blob(st, 1), ST_PUBKEY_LEN);
    sq_col_copy(st, 2, d->group, sizeof d->group);
    sq_col_copy(st, 3, d->tags_json, sizeof d->tags_json);
    d->enroll_token_id = sqlite3_column_int64(st, 4);
    d->enrolled_at = sqlite3_column_int64(st, 5);
    d->last_seen = sqlite3_column_int64(st, 6);
    d->profile_json = sq_col_dup(st, 7);
    d->status_json = sq_col_dup(st, 8);
    sq_col_copy(st, 9, d->active_digest, sizeof d->active_digest);
    d->nv_counter = sqlite3_column_int64(st, 10);
    d->revoked_at = sqlite3_column_int64(st, 11);
    sq_col_copy(st, 12, d->revoked_reason, sizeof d->revoked_reason);
}

static int replace_tags(sq_conn *c, const char *id, const char *tags_json)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_TAGS_CLEAR);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, id);
    if (sq_run(c, st, "device tags") != ST_OK)
        return ST_ERROR;
    if ((st = sq_stmt(c, SQL_TAGS_ADD)) == NULL)
        return ST_ERROR;
    sq_text(st, 1, id);
    sq_text(st, 2, tags_json);
    return sq_run(c, st, "device tags") == ST_OK ? ST_OK : ST_ERROR;
}

/* Runs fn inside a write transaction unless the caller already opened one. */
static int in_tx(store *s, sq_conn *c, int (*fn)(store *, sq_conn *, const void *), const void *arg)
{
    int own = !c->in_tx;
    if (own && s->ops->begin(s, ST_TX_WRITE) != ST_OK)
        return ST_ERROR;
    if (own)
        c = sq_conn_get(s); /* write transactions run on the writer connection */
    int rc = fn(s, c, arg);
    if (!own)
        return rc;
    if (rc == ST_OK)
        return s->ops->commit(s);
    s->ops->rollback(s);
    return rc;
}

static int insert_fn(store *s, sq_conn *c, const void *arg)
{
    (void)s;
    const st_device *d = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_INSERT);
    if (st == NULL)
        return ST_ERROR;
    const char *tags = d->tags_json[0] ? d->tags_json : "[]";
    sq_text(st, 1, d->id);
    sqlite3_bind_blob(st, 2, d->public_key, ST_PUBKEY_LEN, SQLITE_TRANSIENT);
    sq_text(st, 3, d->group);
    sq_text(st, 4, tags);
    sq_int(st, 5, d->enroll_token_id);
    sq_int(st, 6, d->enrolled_at);
    sq_int(st, 7, d->last_seen);
    sq_text(st, 8, d->profile_json != NULL ? d->profile_json : "{}");
    sq_text(st, 9, d->status_json);
    sq_text(st, 10, d->active_digest);
    sq_int(st, 11, d->nv_counter);
    int rc = sq_run(c, st, "device_insert");
    if (rc != ST_OK)
        return rc;
    return replace_tags(c, d->id, tags);
}

int sqlite_device_insert(store *s, const st_device *d)
{
    sq_conn *c = sq_conn_get(s);
    return c == NULL ? ST_ERROR : in_tx(s, c, insert_fn, d);
}

int sqlite_device_get(store *s, const char *id, st_device *out)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_GET);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, id);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        device_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "device_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_device_pubkey(store *s, const char *id, uint8_t pub[ST_PUBKEY_LEN], int64_t *revoked_at)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_PUBKEY);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, id);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == ST_PUBKEY_LEN) {
        memcpy(pub, sqlite3_column_blob(st, 0), ST_PUBKEY_LEN);
        *revoked_at = sqlite3_column_int64(st, 1);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        out_rc = sq_fail(c, "device_pubkey");
    }
    sq_done(c, st);
    return out_rc;
}

static void bind_filter(sqlite3_stmt *st, const st_device_filter *f)
{
    sq_text(st, 1, f != NULL ? f->group : NULL);
    sq_text(st, 2, f != NULL ? f->tags_json : NULL);
    sq_text(st, 3, f != NULL ? f->exclude_json : NULL);
    sq_int(st, 6, f != NULL && f->exclude_revoked);
}

int sqlite_device_revoke(store *s, const char *id, int64_t now, const char *reason)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_REVOKE);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, now);
    sq_text(st, 2, reason != NULL ? reason : "");
    sq_text(st, 3, id);
    int rc = sq_run(c, st, "device_revoke");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

int sqlite_device_list(store *s, const st_device_filter *f, st_device_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_LIST);
    if (st == NULL)
        return ST_ERROR;
    bind_filter(st, f);
    sq_int(st, 4, f != NULL && f->limit > 0 ? f->limit : -1);
    sq_int(st, 5, f != NULL ? f->offset : 0);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_device d;
        device_row(st, &d);
        int stop = cb(ctx, &d);
        st_device_free(&d);
        if (stop)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "device_list");
    sq_done(c, st);
    return out;
}

int sqlite_device_count(store *s, const st_device_filter *f, int64_t *count)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_COUNT);
    if (st == NULL)
        return ST_ERROR;
    bind_filter(st, f);
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int out = rc == SQLITE_ROW ? ST_OK : sq_fail(c, "device_count");
    sq_done(c, st);
    return out;
}

int sqlite_device_set_group(store *s, const char *id, const char *group)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_GROUP);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, group);
    sq_text(st, 2, id);
    int rc = sq_run(c, st, "device_set_group");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

typedef struct tags_arg {
    const char *id, *tags_json;
} tags_arg;

static int tags_fn(store *s, sq_conn *c, const void *arg)
{
    (void)s;
    const tags_arg *a = arg;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_TAGS);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, a->tags_json);
    sq_text(st, 2, a->id);
    int rc = sq_run(c, st, "device_set_tags");
    if (rc != ST_OK)
        return rc;
    if (sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return replace_tags(c, a->id, a->tags_json);
}

int sqlite_device_set_tags(store *s, const char *id, const char *tags_json)
{
    sq_conn *c = sq_conn_get(s);
    tags_arg a = {id, tags_json};
    return c == NULL ? ST_ERROR : in_tx(s, c, tags_fn, &a);
}

int sqlite_device_checkin(store *s, const char *id, const st_checkin *ck)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEVICE_CHECKIN);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, ck->now);
    sq_text(st, 2, ck->status_json);
    sq_text(st, 3, ck->active_digest != NULL ? ck->active_digest : "");
    sq_int(st, 4, ck->nv_counter);
    sq_text(st, 5, ck->profile_json);
    sq_text(st, 6, id);
    int rc = sq_run(c, st, "device_checkin");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

int sqlite_session_set(store *s, const char *device, const st_session *ss)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_SESSION_SET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, ss->id);
    if (ss->id[0] != '\0')
        sqlite3_bind_blob(st, 2, ss->key, ST_SESSION_KEY_LEN, SQLITE_TRANSIENT);
    sq_int(st, 3, ss->id[0] != '\0' ? ss->expires_at : 0);
    sq_text(st, 4, device);
    int rc = sq_run(c, st, "session_set");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

int sqlite_session_get(store *s, const char *device, st_session *out)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_SESSION_GET) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        sq_col_copy(st, 0, out->id, sizeof out->id);
        if (sqlite3_column_bytes(st, 1) == ST_SESSION_KEY_LEN)
            memcpy(out->key, sqlite3_column_blob(st, 1), ST_SESSION_KEY_LEN);
        else
            out->id[0] = '\0'; /* no usable key: no session */
        out->expires_at = sqlite3_column_int64(st, 2);
        out->counter = sqlite3_column_int64(st, 3);
        out->revoked_at = sqlite3_column_int64(st, 4);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "session_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_session_use(store *s, const char *device, const char *session, int64_t counter,
                       int64_t now)
{
    sq_conn *c = sq_conn_get(s);
    sqlite3_stmt *st = c != NULL ? sq_stmt(c, SQL_SESSION_USE) : NULL;
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    sq_text(st, 2, session);
    sq_int(st, 3, counter);
    sq_int(st, 4, now);
    int rc = sq_run(c, st, "session_use");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_CONFLICT;
    return rc;
}
