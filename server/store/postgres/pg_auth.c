/*
 * PostgreSQL store: admin tokens, enrollment tokens and the request nonce cache.
 */
#include "pg_priv.h"

#define CONN(s)                                                                                    \
    pg_conn *c = pg_conn_get(s);                                                                   \
    if (c == NULL)                                                                                 \
        return ST_ERROR;

int postgres_token_insert(store *s, st_token *t);
int postgres_token_find(store *s, const char *hash, st_token *out);
int postgres_token_list(store *s, st_token_cb cb, void *ctx);
int postgres_token_revoke(store *s, int64_t id);
int postgres_enroll_insert(store *s, st_enroll_token *e);
int postgres_enroll_find(store *s, const char *hash, st_enroll_token *out);
int postgres_enroll_use(store *s, int64_t id);
int postgres_enroll_list(store *s, st_enroll_cb cb, void *ctx);
int postgres_enroll_revoke(store *s, int64_t id, int64_t now);
int postgres_nonce_record(store *s, const char *device, const char *nonce, int64_t now,
                          int64_t expires_at);
int postgres_nonce_seen(store *s, const char *device, const char *nonce, int64_t now);
int postgres_nonce_prune(store *s, int64_t now, int64_t *removed);

#define TOKEN_COLUMNS "SELECT id, token_hash, role, name, created_at, revoked FROM admin_tokens "

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO admin_tokens (token_hash, role, name, created_at) VALUES ($1, $2, $3, $4) "
    "RETURNING id";
static const char SQL_TOKEN_FIND[] = TOKEN_COLUMNS "WHERE token_hash = $1";
static const char SQL_TOKEN_FIND_LOCK[] = TOKEN_COLUMNS "WHERE token_hash = $1 FOR UPDATE";
static const char SQL_TOKEN_LIST[] = TOKEN_COLUMNS "ORDER BY id";
static const char SQL_TOKEN_REVOKE[] = "UPDATE admin_tokens SET revoked = 1 WHERE id = $1";

static void token_row(const PGresult *r, int i, st_token *t)
{
    t->id = pg_int(r, i, 0);
    pg_copy(r, i, 1, t->hash, sizeof t->hash);
    pg_copy(r, i, 2, t->role, sizeof t->role);
    pg_copy(r, i, 3, t->name, sizeof t->name);
    t->created_at = pg_int(r, i, 4);
    t->revoked = (int)pg_int(r, i, 5);
}

int postgres_token_insert(store *s, st_token *t)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, t->hash);
    pp_text(&p, t->role);
    pp_text(&p, t->name);
    pp_int(&p, t->created_at);
    int rc;
    PGresult *r = pg_write(c, SQL_TOKEN_INSERT, &p, "token_insert", &rc);
    if (r != NULL)
        t->id = pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int postgres_token_find(store *s, const char *hash, st_token *out)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, hash);
    PGresult *r;
    int rc =
        pg_one(c, PG_IN_WRITE_TX(c) ? SQL_TOKEN_FIND_LOCK : SQL_TOKEN_FIND, &p, "token_find", &r);
    if (rc == ST_OK)
        token_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_token_list(store *s, st_token_cb cb, void *ctx)
{
    CONN(s);
    int rc;
    PGresult *r = pg_query(c, SQL_TOKEN_LIST, NULL, "token_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_token t;
        token_row(r, i, &t);
        if (cb(ctx, &t) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_token_revoke(store *s, int64_t id)
{
    CONN(s);
    pg_params p = {0};
    pp_int(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_TOKEN_REVOKE, &p, "token_revoke", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

#define ENROLL_COLUMNS                                                                             \
    "SELECT id, token_hash, expires_at, uses_left, grp, tags, created_at, revoked_at "             \
    "FROM enrollment_tokens "

static const char SQL_ENROLL_INSERT[] =
    "INSERT INTO enrollment_tokens (token_hash, expires_at, uses_left, grp, tags, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char SQL_ENROLL_FIND[] = ENROLL_COLUMNS "WHERE token_hash = $1";
static const char SQL_ENROLL_FIND_LOCK[] = ENROLL_COLUMNS "WHERE token_hash = $1 FOR UPDATE";
static const char SQL_ENROLL_LIST[] = ENROLL_COLUMNS "ORDER BY id";
static const char SQL_ENROLL_REVOKE[] =
    "UPDATE enrollment_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at "
    "END WHERE id = $2";
static const char SQL_ENROLL_USE[] =
    "UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = $1 AND uses_left > 0";

static void enroll_row(const PGresult *r, int i, st_enroll_token *e)
{
    e->id = pg_int(r, i, 0);
    pg_copy(r, i, 1, e->hash, sizeof e->hash);
    e->expires_at = pg_int(r, i, 2);
    e->uses_left = pg_int(r, i, 3);
    pg_copy(r, i, 4, e->group, sizeof e->group);
    pg_copy(r, i, 5, e->tags_json, sizeof e->tags_json);
    e->created_at = pg_int(r, i, 6);
    e->revoked_at = pg_int(r, i, 7);
}

int postgres_enroll_insert(store *s, st_enroll_token *e)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, e->hash);
    pp_int(&p, e->expires_at);
    pp_int(&p, e->uses_left);
    pp_text(&p, e->group);
    pp_text(&p, e->tags_json[0] ? e->tags_json : "[]");
    pp_int(&p, e->created_at);
    int rc;
    PGresult *r = pg_write(c, SQL_ENROLL_INSERT, &p, "enroll_insert", &rc);
    if (r != NULL)
        e->id = pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int postgres_enroll_find(store *s, const char *hash, st_enroll_token *out)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, hash);
    PGresult *r;
    int rc = pg_one(c, PG_IN_WRITE_TX(c) ? SQL_ENROLL_FIND_LOCK : SQL_ENROLL_FIND, &p,
                    "enroll_find", &r);
    if (rc == ST_OK)
        enroll_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_enroll_use(store *s, int64_t id)
{
    CONN(s);
    pg_params p = {0};
    pp_int(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_ENROLL_USE, &p, "enroll_use", &n);
    return rc == ST_OK && n == 0 ? ST_CONFLICT : rc;
}

int postgres_enroll_list(store *s, st_enroll_cb cb, void *ctx)
{
    CONN(s);
    int rc;
    PGresult *r = pg_query(c, SQL_ENROLL_LIST, NULL, "enroll_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_enroll_token e;
        enroll_row(r, i, &e);
        if (cb(ctx, &e) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_enroll_revoke(store *s, int64_t id, int64_t now)
{
    CONN(s);
    pg_params p = {0};
    pp_int(&p, now);
    pp_int(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_ENROLL_REVOKE, &p, "enroll_revoke", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

/* An expired row for the same pair is overwritten; an unexpired one is a replay. */
static const char SQL_NONCE_RECORD[] =
    "INSERT INTO nonces (device_id, nonce, expires_at) VALUES ($1, $2, $4) "
    "ON CONFLICT (device_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at "
    "WHERE nonces.expires_at <= $3";
static const char SQL_NONCE_SEEN[] =
    "SELECT 1 FROM nonces WHERE device_id = $1 AND nonce = $2 AND expires_at > $3";
static const char SQL_NONCE_PRUNE[] = "DELETE FROM nonces WHERE expires_at <= $1";

int postgres_nonce_record(store *s, const char *device, const char *nonce, int64_t now,
                          int64_t expires_at)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, device);
    pp_text(&p, nonce);
    pp_int(&p, now);
    pp_int(&p, expires_at);
    int64_t n = 0;
    int rc = pg_run(c, SQL_NONCE_RECORD, &p, "nonce_record", &n);
    return rc == ST_OK && n == 0 ? ST_CONFLICT : rc;
}

int postgres_nonce_seen(store *s, const char *device, const char *nonce, int64_t now)
{
    CONN(s);
    pg_params p = {0};
    pp_text(&p, device);
    pp_text(&p, nonce);
    pp_int(&p, now);
    PGresult *r;
    int rc = pg_one(c, SQL_NONCE_SEEN, &p, "nonce_seen", &r);
    PQclear(r);
    return rc;
}

int postgres_nonce_prune(store *s, int64_t now, int64_t *removed)
{
    CONN(s);
    pg_params p = {0};
    pp_int(&p, now);
    int64_t n = 0;
    int rc = pg_run(c, SQL_NONCE_PRUNE, &p, "nonce_prune", &n);
    if (removed != NULL)
        *removed = n;
    return rc;
}
