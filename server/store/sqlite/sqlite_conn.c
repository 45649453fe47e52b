/*
 * SQLite connections: one per thread (SQLite connections are not shared
 * across threads here, so no SQLite mutex is taken on the hot path), each
 * in WAL mode with a busy timeout and a cache of prepared statements. Also
 * transactions and the schema migrations.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_priv.h"

#define SQ_BUSY_TIMEOUT_MS 10000

/*
 * One writer at a time per process, queued on a mutex: SQLite lets only one
 * write transaction run anyway, and its own busy handler makes the others
 * poll with sleeps of 1, 2, 5, ... ms, which caps a busy server at a few
 * hundred writes per second. (Other processes on the same file still meet
 * the busy timeout.) Write transactions also share one connection, the
 * writer: in WAL mode a connection drops its whole page cache whenever
 * another connection has written, so with one writing connection per
 * thread every transaction would start cold; the writer's cache stays warm.
 */
typedef struct sq_store {
    char *path;
    store_conns conns; /* per thread: reads and single-statement writes */
    sq_conn *writer;   /* write transactions, under write_lock (NULL: in memory) */
    pthread_mutex_t write_lock;
} sq_store;

/* The store whose write lock (and writer) the calling thread holds, NULL when none. */
static _Thread_local sq_store *writing_on;

int sq_fail(sq_conn *c, const char *what)
{
    return store_fail("%s: %s", what, c != NULL ? sqlite3_errmsg(c->db) : "no connection");
}

static void conn_close(sq_conn *c)
{
    for (int i = 0; i < SQ_STMT_CACHE; i++)
        if (c->cache[i].st != NULL)
            sqlite3_finalize(c->cache[i].st);
    sqlite3_close_v2(c->db);
    free(c);
}

static void conns_close(store_conn *base)
{
    conn_close((sq_conn *)base);
}

static int exec(sq_conn *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        store_fail("%s: %s", sql, msg != NULL ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return ST_ERROR;
    }
    return ST_OK;
}

static sq_conn *conn_open(sq_store *q)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        store_fail("out of memory");
        return NULL;
    }
    c->owner = q;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(q->path, &c->db, flags, NULL) != SQLITE_OK) {
        store_fail("cannot open database %s: %s", q->path,
                   c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close_v2(c->db);
        free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
    /* WAL: readers never block the writer; NORMAL sync is durable across
       process crashes and loses at most the last commits on power loss.
       A 32 MiB page cache per connection keeps a fleet's hot pages in
       memory; no mmap (a connection that is not the writer has its cache
       dropped by every write, and remapping after the file grew cost more
       than reading in the check-in benchmark, docs/PERFORMANCE.md). */
    if (exec(c, "PRAGMA journal_mode=WAL") != ST_OK ||
        exec(c, "PRAGMA synchronous=NORMAL") != ST_OK ||
        exec(c, "PRAGMA foreign_keys=ON") != ST_OK ||
        exec(c, "PRAGMA cache_size=-32768") != ST_OK || exec(c, "PRAGMA mmap_size=0") != ST_OK) {
        sqlite3_close_v2(c->db);
        free(c);
        return NULL;
    }
    return c;
}

sq_conn *sq_conn_get(store *s)
{
    sq_store *q = s->impl;
    if (writing_on == q && q->writer != NULL)
        return q->writer;
    sq_conn *c = (sq_conn *)store_conns_mine(&q->conns);
    if (c != NULL)
        return c;
    c = conn_open(q);
    if (c != NULL)
        store_conns_add(&q->conns, &c->base);
    return c;
}

sqlite3_stmt *sq_stmt(sq_conn *c, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % SQ_STMT_CACHE;
    for (size_t i = 0; i < SQ_STMT_CACHE; i++) {
        size_t k = (h + i) % SQ_STMT_CACHE;
        if (c->cache[k].sql == sql) {
            sqlite3_reset(c->cache[k].st); /* in case a caller returned early without sq_done */
            sqlite3_clear_bindings(c->cache[k].st);
            return c->cache[k].st;
        }
        if (c->cache[k].sql == NULL) {
            if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->cache[k].st,
                                   NULL) != SQLITE_OK) {
                sq_fail(c, "prepare");
                return NULL;
            }
            c->cache[k].sql = sql;
            return c->cache[k].st;
        }
    }
    sqlite3_stmt *st = NULL; /* cache full: a one-off statement, finalized by sq_done */
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(c, "prepare");
        return NULL;
    }
    return st;
}

void sq_done(sq_conn *c, sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    for (size_t k = 0; k < SQ_STMT_CACHE; k++)
        if (c->cache[k].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    sqlite3_finalize(st);
}

int sq_run(sq_conn *c, sqlite3_stmt *st, const char *what)
{
    /* A write outside a transaction is a transaction of its own: it queues like one. */
    int lock = !c->in_tx && !sqlite3_stmt_readonly(st);
    if (lock)
        pthread_mutex_lock(&c->owner->write_lock);
    int rc = sqlite3_step(st);
    if (lock)
        pthread_mutex_unlock(&c->owner->write_lock);
    int out = ST_OK;
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
        out = ST_CONFLICT;
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        out = sq_fail(c, what);
    sq_done(c, st);
    return out;
}

void sq_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void sq_int(sqlite3_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st, i, v);
}

void sq_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    st_copy(dst, cap, (const char *)sqlite3_column_text(st, i));
}

char *sq_col_dup(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (t == NULL)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, t, n);
        out[n] = '\0';
    }
    return out;
}

/* ---- open / close ---- */

int sqlite_open(store *s, const char *location);
void sqlite_close(store *s);

/*
 * A new database file is created owner-only (0600) before SQLite opens it:
 * it holds device keys, token hashes and every model, and SQLite gives its
 * -wal and -shm files the database file's permissions.
 */
static int create_private(const char *path)
{
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return ST_OK; /* in-memory or URI databases: nothing to create here */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return close(fd) == 0 ? ST_OK : store_fail("sqlite: cannot create %s", path);
    return errno == EEXIST ? ST_OK
                           : store_fail("sqlite: cannot create %s: %s", path, strerror(errno));
}

int sqlite_open(store *s, const char *location)
{
    if (location[0] == '\0')
        return store_fail("sqlite: empty database path (expected sqlite:PATH)");
    if (create_private(location) != ST_OK)
        return ST_ERROR;
    if (!sqlite3_threadsafe())
        return store_fail("sqlite: library built without thread support");
    sq_store *q = calloc(1, sizeof *q);
    if (q == NULL || (q->path = strdup(location)) == NULL) {
        free(q);
        return store_fail("out of memory");
    }
    if (store_conns_init(&q->conns, conns_close) != 0) {
        free(q->path);
        free(q);
        return store_fail("sqlite: no thread-local key available");
    }
    pthread_mutex_init(&q->write_lock, NULL);
    /* Every connection to ":memory:" is a database of its own: there, one connection per thread
       and no writer (such a store serves one thread: tests and fuzzers). */
    q->writer = location[0] != ':' ? conn_open(q) : NULL;
    if (location[0] != ':' && q->writer == NULL) {
        store_conns_destroy(&q->conns);
        pthread_mutex_destroy(&q->write_lock);
        free(q->path);
        free(q);
        return ST_ERROR;
    }
    s->impl = q;
    if (sq_conn_get(s) == NULL) { /* fail now, not at the first request */
        store_conns_destroy(&q->conns);
        if (q->writer != NULL)
            conn_close(q->writer);
        pthread_mutex_destroy(&q->write_lock);
        free(q->path);
        free(q);
        s->impl = NULL;
        return ST_ERROR;
    }
    return ST_OK;
}

void sqlite_close(store *s)
{
    sq_store *q = s->impl;
    if (q == NULL)
        return;
    store_conns_destroy(&q->conns);
    if (q->writer != NULL)
        conn_close(q->writer);
    pthread_mutex_destroy(&q->write_lock);
    free(q->path);
    free(q);
    s->impl = NULL;
}

/* ---- transactions ---- */

int sqlite_begin(store *s, int kind);
int sqlite_commit(store *s);
void sqlite_rollback(store *s);

/* Takes the write lock and the writer (or, in memory, keeps c) for the calling thread. */
static sq_conn *writer_take(sq_store *q, sq_conn *c)
{
    pthread_mutex_lock(&q->write_lock);
    writing_on = q;
    return q->writer != NULL ? q->writer : c;
}

static void writer_give_back(sq_conn *c)
{
    if (writing_on != c->owner)
        return;
    writing_on = NULL;
    pthread_mutex_unlock(&c->owner->write_lock);
}

int sqlite_begin(store *s, int kind)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (c->in_tx)
        return store_fail("sqlite: transactions do not nest");
    /* IMMEDIATE takes SQLite's write lock now, so a write transaction never fails half-way on a
       lock upgrade; the process's write lock first, so threads queue instead of polling. */
    int write = kind != ST_TX_READ; /* exclusive: SQLite's write transactions already are */
    if (write)
        c = writer_take(c->owner, c);
    if (exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN") != ST_OK) {
        writer_give_back(c);
        return ST_ERROR;
    }
    c->in_tx = 1;
    return ST_OK;
}

int sqlite_commit(store *s)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (!c->in_tx)
        return store_fail("sqlite: commit without begin");
    int rc = exec(c, "COMMIT");
    if (rc != ST_OK) {
        char saved[512];
        st_copy(saved, sizeof saved, store_error());
        exec(c, "ROLLBACK");
        store_fail("%s", saved);
    }
    c->in_tx = 0;
    writer_give_back(c);
    return rc;
}

void sqlite_rollback(store *s)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL || !c->in_tx)
        return;
    if (sqlite3_get_autocommit(c->db) == 0)
        exec(c, "ROLLBACK");
    c->in_tx = 0;
    writer_give_back(c);
}

/* ---- migrations ---- */

int sqlite_schema_version(store *s, int64_t *version);
int sqlite_migrate(store *s, int64_t *version);

int sqlite_schema_version(store *s, int64_t *version)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    *version = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st);
        return ST_OK; /* no table yet: version 0 */
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ST_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int apply_one(store *s, const sq_migration *m)
{
    if (sqlite_begin(s, ST_TX_WRITE) != ST_OK)
        return ST_ERROR;
    sq_conn *c = sq_conn_get(s); /* the writer, now */
    int64_t have = 0;
    /* Re-read inside the write lock: another replica may have migrated meanwhile. */
    if (exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)") != ST_OK ||
        sqlite_schema_version(s, &have) != ST_OK)
        goto fail;
    if (have >= m->version) {
        sqlite_rollback(s);
        return ST_OK;
    }
    if (exec(c, m->sql) != ST_OK)
        goto fail;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "INSERT INTO schema_version VALUES (?, ?, ?)", -1, &st, NULL) !=
        SQLITE_OK) {
        sq_fail(c, "schema_version");
        goto fail;
    }
    sq_int(st, 1, m->version);
    sq_text(st, 2, m->name);
    sq_int(st, 3, now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sq_fail(c, "schema_version");
        goto fail;
    }
    return sqlite_commit(s);
fail:;
    char saved[512];
    st_copy(saved, sizeof saved, store_error());
    sqlite_rollback(s);
    return store_fail("migration %s: %s", m->name, saved);
}

int sqlite_migrate(store *s, int64_t *version)
{
    int64_t have = 0;
    if (sqlite_schema_version(s, &have) != ST_OK)
        return ST_ERROR;
    int64_t newest = sq_migration_count > 0 ? sq_migrations[sq_migration_count - 1].version : 0;
    if (have > newest)
        return store_fail("database schema version %lld is newer than this server (%lld)",
                          (long long)have, (long long)newest);
    for (size_t i = 0; i < sq_migration_count; i++)
        if (sq_migrations[i].version > have && apply_one(s, &sq_migrations[i]) != ST_OK)
            return ST_ERROR;
    return sqlite_schema_version(s, version);
}
