/*
 * SQLite store: the bundle registry. Bundle bytes live in the database
 * beside their metadata (a replica needs nothing but the database), and
 * ranges are read with SQLite's incremental blob I/O so a resumed download
 * does not load the whole bundle.
 */
#include <string.h>

#include "sqlite_priv.h"

int sqlite_bundle_insert(store *s, st_bundle *b, const uint8_t *data, size_t len);
int sqlite_bundle_get(store *s, int64_t id, st_bundle *out);
int sqlite_bundle_by_digest(store *s, const char *digest, st_bundle *out);
int sqlite_bundle_list(store *s, const char *model, const char *version, st_bundle_cb cb,
                       void *ctx);
int sqlite_bundle_read(store *s, int64_t id, uint64_t offset, size_t len, uint8_t *buf);
int sqlite_bundle_set_rank(store *s, int64_t id, int64_t rank);

#define BUNDLE_COLUMNS                                                                             \
    "id, digest, model, version, counter, arches, min_runtime, arena_bytes, flash_bytes, ops, "    \
    "size, "                                                                                       \
    "encrypted, signer_id, created_at, expires_at, uploaded_at, rank"

static const char SQL_BUNDLE_INSERT[] =
    "INSERT INTO bundles (digest, model, version, counter, arches, min_runtime, arena_bytes, "
    "flash_bytes, ops, size, encrypted, signer_id, created_at, expires_at, uploaded_at, rank, "
    "data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_BUNDLE_GET[] = "SELECT " BUNDLE_COLUMNS " FROM bundles WHERE id = ?";
static const char SQL_BUNDLE_BY_DIGEST[] =
    "SELECT " BUNDLE_COLUMNS " FROM bundles WHERE digest = ?";
static const char SQL_BUNDLE_LIST[] =
    "SELECT " BUNDLE_COLUMNS " FROM bundles "
    "WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR version = ?2) "
    "ORDER BY id";
static const char SQL_BUNDLE_RANK[] = "UPDATE bundles SET rank = ? WHERE id = ?";

static void bundle_row(sqlite3_stmt *st, st_bundle *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, b->digest, sizeof b->digest);
    sq_col_copy(st, 2, b->model, sizeof b->model);
    sq_col_copy(st, 3, b->version, sizeof b->version);
    b->counter = sqlite3_column_int64(st, 4);
    sq_col_copy(st, 5, b->arches_json, sizeof b->arches_json);
    sq_col_copy(st, 6, b->min_runtime, sizeof b->min_runtime);
    b->arena_bytes = sqlite3_column_int64(st, 7);
    b->flash_bytes = sqlite3_column_int64(st, 8);
    b->ops_json = sq_col_dup(st, 9);
    b->size = sqlite3_column_int64(st, 10);
    b->encrypted = sqlite3_column_int(st, 11);
    sq_col_copy(st, 12, b->signer_id, sizeof b->signer_id);
    b->created_at = sqlite3_column_int64(st, 13);
    b->expires_at = sqlite3_column_int64(st, 14);
    b->uploaded_at = sqlite3_column_int64(st, 15);
    b->rank = sqlite3_column_int64(st, 16);
}

static int find_one(sq_conn *c, const char *sql, int64_t id, const char *digest, st_bundle *out)
{
    sqlite3_stmt *st = sq_stmt(c, sql);
    if (st == NULL)
        return ST_ERROR;
    if (digest != NULL)
        sq_text(st, 1, digest);
    else
        sq_int(st, 1, id);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        bundle_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "bundle_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_bundle_insert(store *s, st_bundle *b, const uint8_t *data, size_t len)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_BUNDLE_INSERT);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, b->digest);
    sq_text(st, 2, b->model);
    sq_text(st, 3, b->version);
    sq_int(st, 4, b->counter);
    sq_text(st, 5, b->arches_json[0] ? b->arches_json : "[]");
    sq_text(st, 6, b->min_runtime);
    sq_int(st, 7, b->arena_bytes);
    sq_int(st, 8, b->flash_bytes);
    sq_text(st, 9, b->ops_json != NULL ? b->ops_json : "[]");
    sq_int(st, 10, (int64_t)len);
    sq_int(st, 11, b->encrypted);
    sq_text(st, 12, b->signer_id);
    sq_int(st, 13, b->created_at);
    sq_int(st, 14, b->expires_at);
    sq_int(st, 15, b->uploaded_at);
    sq_int(st, 16, b->rank);
    sqlite3_bind_blob64(st, 17, data, len, SQLITE_STATIC);
    int rc = sq_run(c, st, "bundle_insert");
    if (rc == ST_OK) {
        b->id = sqlite3_last_insert_rowid(c->db);
        b->size = (int64_t)len;
    } else if (rc == ST_CONFLICT) {
        st_bundle existing;
        if (find_one(c, SQL_BUNDLE_BY_DIGEST, 0, b->digest, &existing) == ST_OK) {
            b->id = existing.id;
            st_bundle_free(&existing);
        }
    }
    return rc;
}

int sqlite_bundle_get(store *s, int64_t id, st_bundle *out)
{
    sq_conn *c = sq_conn_get(s);
    return c == NULL ? ST_ERROR : find_one(c, SQL_BUNDLE_GET, id, NULL, out);
}

int sqlite_bundle_by_digest(store *s, const char *digest, st_bundle *out)
{
    sq_conn *c = sq_conn_get(s);
    return c == NULL ? ST_ERROR : find_one(c, SQL_BUNDLE_BY_DIGEST, 0, digest, out);
}

int sqlite_bundle_list(store *s, const char *model, const char *version, st_bundle_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_BUNDLE_LIST);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, model);
    sq_text(st, 2, version);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_bundle b;
        bundle_row(st, &b);
        int stop = cb(ctx, &b);
        st_bundle_free(&b);
        if (stop)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "bundle_list");
    sq_done(c, st);
    return out;
}

int sqlite_bundle_read(store *s, int64_t id, uint64_t offset, size_t len, uint8_t *buf)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_blob *blob = NULL;
    if (sqlite3_blob_open(c->db, "main", "bundles", "data", id, 0, &blob) != SQLITE_OK) {
        sqlite3_blob_close(blob);
        return ST_NOT_FOUND;
    }
    uint64_t size = (uint64_t)sqlite3_blob_bytes(blob);
    int rc = ST_OK;
    if (offset > size || len > size - offset || len > 0x7fffffff)
        rc = ST_NOT_FOUND;
    else if (len > 0 && sqlite3_blob_read(blob, buf, (int)len, (int)offset) != SQLITE_OK)
        rc = sq_fail(c, "bundle_read");
    sqlite3_blob_close(blob);
    return rc;
}

int sqlite_bundle_set_rank(store *s, int64_t id, int64_t rank)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_BUNDLE_RANK);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, rank);
    sq_int(st, 2, id);
    int rc = sq_run(c, st, "bundle_set_rank");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}
