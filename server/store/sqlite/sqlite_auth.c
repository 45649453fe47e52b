/*
 * SQLite store: admin tokens, enrollment tokens and the request nonce cache.
 */
#include "sqlite_priv.h"

#define CONN(s)                                                                                    \
    sq_conn *c = sq_conn_get(s);                                                                   \
    if (c == NULL)                                                                                 \
        return ST_ERROR;
#define STMT(st, sql)                                                                              \
    sqlite3_stmt *st = sq_stmt(c, sql);                                                            \
    if (st == NULL)                                                                                \
        return ST_ERROR;

int sqlite_token_insert(store *s, st_token *t);
int sqlite_token_find(store *s, const char *hash, st_token *out);
int sqlite_token_list(store *s, st_token_cb cb, void *ctx);
int sqlite_token_revoke(store *s, int64_t id);
int sqlite_enroll_insert(store *s, st_enroll_token *e);
int sqlite_enroll_find(store *s, const char *hash, st_enroll_token *out);
int sqlite_enroll_use(store *s, int64_t id);
int sqlite_enroll_list(store *s, st_enroll_cb cb, void *ctx);
int sqlite_enroll_revoke(store *s, int64_t id, int64_t now);
int sqlite_nonce_record(store *s, const char *device, const char *nonce, int64_t now,
                        int64_t expires_at);
int sqlite_nonce_seen(store *s, const char *device, const char *nonce, int64_t now);
int sqlite_nonce_prune(store *s, int64_t now, int64_t *removed);

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO admin_tokens (token_hash, role, name, created_at) VALUES (?, ?, ?, ?)";
static const char SQL_TOKEN_FIND[] =
    "SELECT id, token_hash, role, name, created_at, revoked FROM admin_tokens WHERE token_hash = ?";
static const char SQL_TOKEN_LIST[] =
    "SELECT id, token_hash, role, name, created_at, revoked FROM admin_tokens ORDER BY id";
static const char SQL_TOKEN_REVOKE[] = "UPDATE admin_tokens SET revoked = 1 WHERE id = ?";

static void token_row(sqlite3_stmt *st, st_token *t)
{
    t->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, t->hash, sizeof t->hash);
    sq_col_copy(st, 2, t->role, sizeof t->role);
    sq_col_copy(st, 3, t->name, sizeof t->name);
    t->created_at = sqlite3_column_int64(st, 4);
    t->revoked = sqlite3_column_int(st, 5);
}

int sqlite_token_insert(store *s, st_token *t)
{
    CONN(s);
    STMT(st, SQL_TOKEN_INSERT);
    sq_text(st, 1, t->hash);
    sq_text(st, 2, t->role);
    sq_text(st, 3, t->name);
    sq_int(st, 4, t->created_at);
    int rc = sq_run(c, st, "token_insert");
    if (rc == ST_OK)
        t->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int sqlite_token_find(store *s, const char *hash, st_token *out)
{
    CONN(s);
    STMT(st, SQL_TOKEN_FIND);
    sq_text(st, 1, hash);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        token_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "token_find");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_token_list(store *s, st_token_cb cb, void *ctx)
{
    CONN(s);
    STMT(st, SQL_TOKEN_LIST);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_token t;
        token_row(st, &t);
        if (cb(ctx, &t) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "token_list");
    sq_done(c, st);
    return out;
}

int sqlite_token_revoke(store *s, int64_t id)
{
    CONN(s);
    STMT(st, SQL_TOKEN_REVOKE);
    sq_int(st, 1, id);
    int rc = sq_run(c, st, "token_revoke");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

static const char SQL_ENROLL_INSERT[] =
    "INSERT INTO enrollment_tokens (token_hash, expires_at, uses_left, "
    "grp, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)";
#define ENROLL_COLUMNS                                                                             \
    "SELECT id, token_hash, expires_at, uses_left, grp, tags, created_at, revoked_at "
static const char SQL_ENROLL_FIND[] = ENROLL_COLUMNS "FROM enrollment_tokens WHERE token_hash = ?";
static const char SQL_ENROLL_LIST[] = ENROLL_COLUMNS "FROM enrollment_tokens ORDER BY id";
static const char SQL_ENROLL_REVOKE[] =
    "UPDATE enrollment_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ?1 ELSE revoked_at "
    "END WHERE id = ?2";
static const char SQL_ENROLL_USE[] =
    "UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0";

static void enroll_row(sqlite3_stmt *st, st_enroll_token *e)
{
    e->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, e->hash, sizeof e->hash);
    e->expires_at = sqlite3_column_int64(st, 2);
    e->uses_left = sqlite3_column_int64(st, 3);
    sq_col_copy(st, 4, e->group, sizeof e->group);
    sq_col_copy(st, 5, e->tags_json, sizeof e->tags_json);
    e->created_at = sqlite3_column_int64(st, 6);
    e->revoked_at = sqlite3_column_int64(st, 7);
}

int sqlite_enroll_insert(store *s, st_enroll_token *e)
{
    CONN(s);
    STMT(st, SQL_ENROLL_INSERT);
    sq_text(st, 1, e->hash);
    sq_int(st, 2, e->expires_at);
    sq_int(st, 3, e->uses_left);
    sq_text(st, 4, e->group);
    sq_text(st, 5, e->tags_json[0] ? e->tags_json : "[]");
    sq_int(st, 6, e->created_at);
    int rc = sq_run(c, st, "enroll_insert");
    if (rc == ST_OK)
        e->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int sqlite_enroll_find(store *s, const char *hash, st_enroll_token *out)
{
    CONN(s);
    STMT(st, SQL_ENROLL_FIND);
    sq_text(st, 1, hash);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        enroll_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "enroll_find");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_enroll_use(store *s, int64_t id)
{
    CONN(s);
    STMT(st, SQL_ENROLL_USE);
    sq_int(st, 1, id);
    int rc = sq_run(c, st, "enroll_use");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_CONFLICT;
    return rc;
}

int sqlite_enroll_list(store *s, st_enroll_cb cb, void *ctx)
{
    CONN(s);
    STMT(st, SQL_ENROLL_LIST);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_enroll_token e;
        enroll_row(st, &e);
        if (cb(ctx, &e) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "enroll_list");
    sq_done(c, st);
    return out;
}

int sqlite_enroll_revoke(store *s, int64_t id, int64_t now)
{
    CONN(s);
    STMT(st, SQL_ENROLL_REVOKE);
    sq_int(st, 1, now);
    sq_int(st, 2, id);
    int rc = sq_run(c, st, "enroll_revoke");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

/* An expired row for the same pair is overwritten; an unexpired one is a replay. */
static const char SQL_NONCE_RECORD[] =
    "INSERT INTO nonces (device_id, nonce, expires_at) VALUES (?1, ?2, ?4) "
    "ON CONFLICT (device_id, nonce) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE nonces.expires_at <= ?3";
static const char SQL_NONCE_SEEN[] =
    "SELECT 1 FROM nonces WHERE device_id = ? AND nonce = ? AND expires_at > ?";
static const char SQL_NONCE_PRUNE[] = "DELETE FROM nonces WHERE expires_at <= ?";

int sqlite_nonce_record(store *s, const char *device, const char *nonce, int64_t now,
                        int64_t expires_at)
{
    CONN(s);
    STMT(st, SQL_NONCE_RECORD);
    sq_text(st, 1, device);
    sq_text(st, 2, nonce);
    sq_int(st, 3, now);
    sq_int(st, 4, expires_at);
    int rc = sq_run(c, st, "nonce_record");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_CONFLICT;
    return rc;
}

int sqlite_nonce_seen(store *s, const char *device, const char *nonce, int64_t now)
{
    CONN(s);
    STMT(st, SQL_NONCE_SEEN);
    sq_text(st, 1, device);
    sq_text(st, 2, nonce);
    sq_int(st, 3, now);
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_ROW    ? ST_OK
              : rc == SQLITE_DONE ? ST_NOT_FOUND
                                  : sq_fail(c, "nonce_seen");
    sq_done(c, st);
    return out;
}

int sqlite_nonce_prune(store *s, int64_t now, int64_t *removed)
{
    CONN(s);
    STMT(st, SQL_NONCE_PRUNE);
    sq_int(st, 1, now);
    int rc = sq_run(c, st, "nonce_prune");
    if (removed != NULL)
        *removed = rc == ST_OK ? sqlite3_changes(c->db) : 0;
    return rc;
}
