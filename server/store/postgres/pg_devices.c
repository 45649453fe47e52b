/*
 * PostgreSQL store: devices, their tags (mirrored into device_tags for
 * queries), and what they reported at check-in.
 */
#include <string.h>

#include "pg_priv.h"

int postgres_device_insert(store *s, const st_device *d);
int postgres_device_get(store *s, const char *id, st_device *out);
int postgres_device_pubkey(store *s, const char *id, uint8_t pub[ST_PUBKEY_LEN],
                           int64_t *revoked_at);
int postgres_device_revoke(store *s, const char *id, int64_t now, const char *reason);
int postgres_session_set(store *s, const char *device, const st_session *ss);
int postgres_session_get(store *s, const char *device, st_session *out);
int postgres_session_use(store *s, const char *device, const char *session, int64_t counter,
                         int64_t now);
int postgres_device_list(store *s, const st_device_filter *f, st_device_cb cb, void *ctx);
int postgres_device_count(store *s, const st_device_filter *f, int64_t *count);
int postgres_device_set_group(store *s, const char *id, const char *group);
int postgres_device_set_tags(store *s, const char *id, const char *tags_json);
int postgres_device_checkin(store *s, const char *id, const st_checkin *c);

#define DEVICE_COLUMNS                                                                             \
    "SELECT d.id, d.public_key, d.grp, d.tags, d.enroll_token_id, d.enrolled_at, d.last_seen, "    \
    "d.profile, d.status, d.active_digest, d.nv_counter, d.revoked_at, d.revoked_reason "          \
    "FROM devices d"

/*
 * $1 group, $2 tags (all of: the devices holding as many of them as there are, found through the
 * (tag, device_id) index in one pass rather than probed per device), $3 excluded tags (none of);
 * NULL = no condition; $4 = 1: not revoked.
 */
#define DEVICE_WHERE                                                                               \
    " WHERE ($1::text IS NULL OR d.grp = $1) AND ($4::int = 0 OR d.revoked_at = 0)"                \
    " AND ($2::text IS NULL OR d.id IN (SELECT t.device_id FROM device_tags t"                     \
    "   WHERE t.tag IN (SELECT jsonb_array_elements_text($2::jsonb)) GROUP BY t.device_id"         \
    "   HAVING count(DISTINCT t.tag) = (SELECT count(DISTINCT x) FROM"                             \
    "   jsonb_array_elements_text($2::jsonb) x)))"                                                 \
    " AND ($3::text IS NULL OR NOT EXISTS (SELECT 1 FROM device_tags t WHERE t.device_id = d.id"   \
    "   AND t.tag IN (SELECT jsonb_array_elements_text($3::jsonb))))"

static const char SQL_DEVICE_INSERT[] =
    "INSERT INTO devices (id, public_key, grp, tags, enroll_token_id, enrolled_at, last_seen, "
    "profile, status, active_digest, nv_counter) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char SQL_DEVICE_GET[] = DEVICE_COLUMNS " WHERE d.id = $1";
static const char SQL_DEVICE_GET_LOCK[] = DEVICE_COLUMNS " WHERE d.id = $1 FOR UPDATE";
static const char SQL_DEVICE_PUBKEY[] = "SELECT public_key, revoked_at FROM devices WHERE id = $1";
static const char SQL_DEVICE_REVOKE[] =
    "UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END, "
    "revoked_reason = CASE WHEN revoked_at = 0 THEN $2 ELSE revoked_reason END, "
    "session_id = '', session_key = NULL, session_expires = 0 WHERE id = $3";
static const char SQL_SESSION_SET[] =
    "UPDATE devices SET session_id = $1, session_key = $2, session_expires = $3, "
    "session_counter = 0 WHERE id = $4";
static const char SQL_SESSION_GET[] =
    "SELECT session_id, session_key, session_expires, session_counter, revoked_at "
    "FROM devices WHERE id = $1";
static const char SQL_SESSION_USE[] =
    "UPDATE devices SET session_counter = $3 WHERE id = $1 AND session_id = $2 AND "
    "session_id != '' AND session_counter < $3 AND session_expires > $4 AND revoked_at = 0";
static const char SQL_DEVICE_LIST[] =
    DEVICE_COLUMNS DEVICE_WHERE " ORDER BY d.id LIMIT nullif($5, 0) OFFSET $6";
static const char SQL_DEVICE_COUNT[] = "SELECT count(*) FROM devices d" DEVICE_WHERE;
static const char SQL_DEVICE_GROUP[] = "UPDATE devices SET grp = $1 WHERE id = $2";
static const char SQL_DEVICE_TAGS[] = "UPDATE devices SET tags = $1 WHERE id = $2";
static const char SQL_TAGS_CLEAR[] = "DELETE FROM device_tags WHERE device_id = $1";
static const char SQL_TAGS_ADD[] =
    "INSERT INTO device_tags (device_id, tag) "
    "SELECT DISTINCT $1, tag FROM jsonb_array_elements_text($2::jsonb) j(tag) "
    "ON CONFLICT DO NOTHING";
static const char SQL_DEVICE_CHECKIN[] =
    "UPDATE devices SET last_seen = $1, status = $2, active_digest = $3, nv_counter = $4, "
    "profile = coalesce($5, profile) WHERE id = $6";

static void device_row(const PGresult *r, int i, st_device *d)
{
    memset(d, 0, sizeof *d);
    pg_copy(r, i, 0, d->id, sizeof d->id);
    size_t n = 0;
    const uint8_t *pub = pg_bytes(r, i, 1, &n);
    if (pub != NULL && n == ST_PUBKEY_LEN)
        memcpy(d->public_key, pub, ST_PUBKEY_LEN);
    pg_copy(r, i, 2, d->group, sizeof d->group);
    pg_copy(r, i, 3, d->tags_json, sizeof d->tags_json);
    d->enroll_token_id = pg_int(r, i, 4);
    d->enrolled_at = pg_int(r, i, 5);
    d->last_seen = pg_int(r, i, 6);
    d->profile_json = pg_dup(r, i, 7);
    d->status_json = pg_dup(r, i, 8);
    pg_copy(r, i, 9, d->active_digest, sizeof d->active_digest);
    d->nv_counter = pg_int(r, i, 10);
    d->revoked_at = pg_int(r, i, 11);
    pg_copy(r, i, 12, d->revoked_reason, sizeof d->revoked_reason);
}

static int replace_tags(pg_conn *c, const char *id, const char *tags_json)
{
    pg_params p = {0};
    pp_text(&p, id);
    if (pg_run(c, SQL_TAGS_CLEAR, &p, "device tags", NULL) != ST_OK)
        return ST_ERROR;
    pp_text(&p, tags_json);
    return pg_run(c, SQL_TAGS_ADD, &p, "device tags", NULL) == ST_OK ? ST_OK : ST_ERROR;
}

int postgres_device_insert(store *s, const st_device *d)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || pg_sub_begin(c) != ST_OK)
        return ST_ERROR;
    const char *tags = d->tags_json[0] ? d->tags_json : "[]";
    pg_params p = {0};
    pp_text(&p, d->id);
    pp_bytes(&p, d->public_key, ST_PUBKEY_LEN);
    pp_text(&p, d->group);
    pp_text(&p, tags);
    pp_int(&p, d->enroll_token_id);
    pp_int(&p, d->enrolled_at);
    pp_int(&p, d->last_seen);
    pp_text(&p, d->profile_json != NULL ? d->profile_json : "{}");
    pp_text(&p, d->status_json);
    pp_text(&p, d->active_digest);
    pp_int(&p, d->nv_counter);
    int rc = pg_run(c, SQL_DEVICE_INSERT, &p, "device_insert", NULL);
    if (rc == ST_OK)
        rc = replace_tags(c, d->id, tags);
    if (pg_sub_end(c, rc == ST_OK) != ST_OK)
        return ST_ERROR;
    return rc;
}

int postgres_device_get(store *s, const char *id, st_device *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, id);
    PGresult *r;
    int rc =
        pg_one(c, PG_IN_WRITE_TX(c) ? SQL_DEVICE_GET_LOCK : SQL_DEVICE_GET, &p, "device_get", &r);
    if (rc == ST_OK)
        device_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_device_pubkey(store *s, const char *id, uint8_t pub[ST_PUBKEY_LEN],
                           int64_t *revoked_at)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, id);
    PGresult *r;
    int rc = pg_one(c, SQL_DEVICE_PUBKEY, &p, "device_pubkey", &r);
    if (rc == ST_OK) {
        size_t n = 0;
        const uint8_t *key = pg_bytes(r, 0, 0, &n);
        if (key != NULL && n == ST_PUBKEY_LEN) {
            memcpy(pub, key, ST_PUBKEY_LEN);
            *revoked_at = pg_int(r, 0, 1);
        } else
            rc = ST_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

static void filter_params(pg_params *p, const st_device_filter *f)
{
    pp_text(p, f != NULL ? f->group : NULL);
    pp_text(p, f != NULL ? f->tags_json : NULL);
    pp_text(p, f != NULL ? f->exclude_json : NULL);
    pp_int(p, f != NULL && f->exclude_revoked);
}

int postgres_device_revoke(store *s, const char *id, int64_t now, const char *reason)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, now);
    pp_text(&p, reason != NULL ? reason : "");
    pp_text(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_DEVICE_REVOKE, &p, "device_revoke", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_device_list(store *s, const st_device_filter *f, st_device_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    filter_params(&p, f);
    pp_int(&p, f != NULL && f->limit > 0 ? f->limit : 0);
    pp_int(&p, f != NULL && f->offset > 0 ? f->offset : 0);
    int rc;
    PGresult *r = pg_query(c, SQL_DEVICE_LIST, &p, "device_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_device d;
        device_row(r, i, &d);
        int stop = cb(ctx, &d);
        st_device_free(&d);
        if (stop)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_device_count(store *s, const st_device_filter *f, int64_t *count)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    filter_params(&p, f);
    PGresult *r;
    *count = 0;
    int rc = pg_one(c, SQL_DEVICE_COUNT, &p, "device_count", &r);
    if (rc == ST_OK)
        *count = pg_int(r, 0, 0);
    PQclear(r);
    return rc == ST_ERROR ? ST_ERROR : ST_OK;
}

int postgres_device_set_group(store *s, const char *id, const char *group)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, group);
    pp_text(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_DEVICE_GROUP, &p, "device_set_group", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_device_set_tags(store *s, const char *id, const char *tags_json)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || pg_sub_begin(c) != ST_OK)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, tags_json);
    pp_text(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_DEVICE_TAGS, &p, "device_set_tags", &n);
    if (rc == ST_OK && n == 0)
        rc = ST_NOT_FOUND;
    if (rc == ST_OK)
        rc = replace_tags(c, id, tags_json);
    if (pg_sub_end(c, rc == ST_OK) != ST_OK)
        return ST_ERROR;
    return rc;
}

int postgres_device_checkin(store *s, const char *id, const st_checkin *ck)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, ck->now);
    pp_text(&p, ck->status_json);
    pp_text(&p, ck->active_digest != NULL ? ck->active_digest : "");
    pp_int(&p, ck->nv_counter);
    pp_text(&p, ck->profile_json);
    pp_text(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_DEVICE_CHECKIN, &p, "device_checkin", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_session_set(store *s, const char *device, const st_session *ss)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, ss->id);
    pp_bytes(&p, ss->key, ss->id[0] != '\0' ? ST_SESSION_KEY_LEN : 0);
    pp_int(&p, ss->id[0] != '\0' ? ss->expires_at : 0);
    pp_text(&p, device);
    int64_t n = 0;
    int rc = pg_run(c, SQL_SESSION_SET, &p, "session_set", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_session_get(store *s, const char *device, st_session *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    PGresult *r;
    memset(out, 0, sizeof *out);
    int rc = pg_one(c, SQL_SESSION_GET, &p, "session_get", &r);
    if (rc == ST_OK) {
        pg_copy(r, 0, 0, out->id, sizeof out->id);
        size_t n = 0;
        const uint8_t *key = pg_bytes(r, 0, 1, &n);
        if (key != NULL && n == ST_SESSION_KEY_LEN)
            memcpy(out->key, key, ST_SESSION_KEY_LEN);
        else
            out->id[0] = '\0'; /* no usable key: no session */
        out->expires_at = pg_int(r, 0, 2);
        out->counter = pg_int(r, 0, 3);
        out->revoked_at = pg_int(r, 0, 4);
    }
    PQclear(r);
    return rc;
}

int postgres_session_use(store *s, const char *device, const char *session, int64_t counter,
                         int64_t now)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    pp_text(&p, session);
    pp_int(&p, counter);
    pp_int(&p, now);
    int64_t n = 0;
    int rc = pg_run(c, SQL_SESSION_USE, &p, "session_use", &n);
    return rc == ST_OK && n == 0 ? ST_CONFLICT : rc;
}
