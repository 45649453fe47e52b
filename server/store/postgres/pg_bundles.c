/*
 * PostgreSQL store: the bundle registry. Bundle bytes live in the database
 * beside their metadata (a replica needs nothing but the database); the
 * column is stored uncompressed (migration 0001), so a ranged read with
 * substring() fetches only the TOAST chunks it covers.
 */
#include <string.h>

#include "pg_priv.h"

int postgres_bundle_insert(store *s, st_bundle *b, const uint8_t *data, size_t len);
int postgres_bundle_get(store *s, int64_t id, st_bundle *out);
int postgres_bundle_by_digest(store *s, const char *digest, st_bundle *out);
int postgres_bundle_list(store *s, const char *model, const char *version, st_bundle_cb cb,
                         void *ctx);
int postgres_bundle_read(store *s, int64_t id, uint64_t offset, size_t len, uint8_t *buf);
int postgres_bundle_set_rank(store *s, int64_t id, int64_t rank);

#define BUNDLE_COLUMNS                                                                             \
    "SELECT id, digest, model, version, counter, arches, min_runtime, arena_bytes, flash_bytes, "  \
    "ops, size, encrypted, signer_id, created_at, expires_at, uploaded_at, rank FROM bundles "

static const char SQL_BUNDLE_INSERT[] =
    "INSERT INTO bundles (digest, model, version, counter, arches, min_runtime, arena_bytes, "
    "flash_bytes, ops, size, encrypted, signer_id, created_at, expires_at, uploaded_at, rank, "
    "data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
    "ON CONFLICT (digest) DO NOTHING RETURNING id";
static const char SQL_BUNDLE_GET[] = BUNDLE_COLUMNS "WHERE id = $1";
static const char SQL_BUNDLE_BY_DIGEST[] = BUNDLE_COLUMNS "WHERE digest = $1";
static const char SQL_BUNDLE_LIST[] =
    BUNDLE_COLUMNS "WHERE ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR version = $2) "
                   "ORDER BY id";
/* $2 is 1-based; the size comes along to check the range. */
static const char SQL_BUNDLE_READ[] =
    "SELECT octet_length(data), substring(data FROM $2::int4 FOR $3::int4) FROM bundles "
    "WHERE id = $1";
static const char SQL_BUNDLE_RANK[] = "UPDATE bundles SET rank = $1 WHERE id = $2";

static void bundle_row(const PGresult *r, int i, st_bundle *b)
{
    memset(b, 0, sizeof *b);
    b->id = pg_int(r, i, 0);
    pg_copy(r, i, 1, b->digest, sizeof b->digest);
    pg_copy(r, i, 2, b->model, sizeof b->model);
    pg_copy(r, i, 3, b->version, sizeof b->version);
    b->counter = pg_int(r, i, 4);
    pg_copy(r, i, 5, b->arches_json, sizeof b->arches_json);
    pg_copy(r, i, 6, b->min_runtime, sizeof b->min_runtime);
    b->arena_bytes = pg_int(r, i, 7);
    b->flash_bytes = pg_int(r, i, 8);
    b->ops_json = pg_dup(r, i, 9);
    b->size = pg_int(r, i, 10);
    b->encrypted = (int)pg_int(r, i, 11);
    pg_copy(r, i, 12, b->signer_id, sizeof b->signer_id);
    b->created_at = pg_int(r, i, 13);
    b->expires_at = pg_int(r, i, 14);
    b->uploaded_at = pg_int(r, i, 15);
    b->rank = pg_int(r, i, 16);
}

static int find_one(pg_conn *c, const char *sql, int64_t id, const char *digest, st_bundle *out)
{
    pg_params p = {0};
    if (digest != NULL)
        pp_text(&p, digest);
    else
        pp_int(&p, id);
    PGresult *r;
    int rc = pg_one(c, sql, &p, "bundle_get", &r);
    if (rc == ST_OK)
        bundle_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_bundle_insert(store *s, st_bundle *b, const uint8_t *data, size_t len)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (len > 0x3fffffff) /* bytea holds at most 1 GiB */
        return store_fail("postgres: bundle_insert: %zu bytes exceed the 1 GiB bytea limit", len);
    pg_params p = {0};
    pp_text(&p, b->digest);
    pp_text(&p, b->model);
    pp_text(&p, b->version);
    pp_int(&p, b->counter);
    pp_text(&p, b->arches_json[0] ? b->arches_json : "[]");
    pp_text(&p, b->min_runtime);
    pp_int(&p, b->arena_bytes);
    pp_int(&p, b->flash_bytes);
    pp_text(&p, b->ops_json != NULL ? b->ops_json : "[]");
    pp_int(&p, (int64_t)len);
    pp_int(&p, b->encrypted);
    pp_text(&p, b->signer_id);
    pp_int(&p, b->created_at);
    pp_int(&p, b->expires_at);
    pp_int(&p, b->uploaded_at);
    pp_int(&p, b->rank);
    pp_bytes(&p, data, len);
    int rc;
    PGresult *r = pg_write(c, SQL_BUNDLE_INSERT, &p, "bundle_insert", &rc);
    if (r == NULL)
        return rc;
    int inserted = PQntuples(r) == 1;
    if (inserted) {
        b->id = pg_int(r, 0, 0);
        b->size = (int64_t)len;
    }
    PQclear(r);
    if (inserted)
        return ST_OK;
    st_bundle existing; /* the digest exists: report which bundle has it */
    if (find_one(c, SQL_BUNDLE_BY_DIGEST, 0, b->digest, &existing) == ST_OK) {
        b->id = existing.id;
        st_bundle_free(&existing);
    }
    return ST_CONFLICT;
}

int postgres_bundle_get(store *s, int64_t id, st_bundle *out)
{
    pg_conn *c = pg_conn_get(s);
    return c == NULL ? ST_ERROR : find_one(c, SQL_BUNDLE_GET, id, NULL, out);
}

int postgres_bundle_by_digest(store *s, const char *digest, st_bundle *out)
{
    pg_conn *c = pg_conn_get(s);
    return c == NULL ? ST_ERROR : find_one(c, SQL_BUNDLE_BY_DIGEST, 0, digest, out);
}

int postgres_bundle_list(store *s, const char *model, const char *version, st_bundle_cb cb,
                         void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, model);
    pp_text(&p, version);
    int rc;
    PGresult *r = pg_query(c, SQL_BUNDLE_LIST, &p, "bundle_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_bundle b;
        bundle_row(r, i, &b);
        int stop = cb(ctx, &b);
        st_bundle_free(&b);
        if (stop)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_bundle_read(store *s, int64_t id, uint64_t offset, size_t len, uint8_t *buf)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (offset > 0x3fffffff || len > 0x3fffffff) /* beyond any bytea */
        return ST_NOT_FOUND;
    pg_params p = {0};
    pp_int(&p, id);
    pp_int(&p, (int64_t)offset + 1);
    pp_int(&p, (int64_t)len);
    PGresult *r;
    int rc = pg_one(c, SQL_BUNDLE_READ, &p, "bundle_read", &r);
    if (rc != ST_OK)
        return rc;
    uint64_t size = (uint64_t)pg_int(r, 0, 0);
    size_t got = 0;
    const uint8_t *bytes = pg_bytes(r, 0, 1, &got);
    if (offset > size || len > size - offset)
        rc = ST_NOT_FOUND;
    else if (got != len)
        rc = store_fail("postgres: bundle_read: got %zu of %zu bytes", got, len);
    else if (len > 0)
        memcpy(buf, bytes, len);
    PQclear(r);
    return rc;
}

int postgres_bundle_set_rank(store *s, int64_t id, int64_t rank)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, rank);
    pp_int(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_BUNDLE_RANK, &p, "bundle_set_rank", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}
