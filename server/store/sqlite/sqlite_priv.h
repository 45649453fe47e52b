/*
 * Private pieces of the SQLite store backend shared by its files: the
 * per-thread connection with its prepared-statement cache, and small
 * binding/column helpers. Nothing here is visible to the server.
 */
#ifndef TMO_SQLITE_PRIV_H
#define TMO_SQLITE_PRIV_H

#include <sqlite3.h>

#include "store.h"
#include "store_conns.h"

#define SQ_STMT_CACHE 128 /* distinct statements per connection; more are prepared per call */

typedef struct sq_conn {
    store_conn base; /* first: the per-thread connection set's links */
    struct sq_store *owner;
    sqlite3 *db;
    int in_tx;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[SQ_STMT_CACHE];
} sq_conn;

/* An embedded schema migration (generated from migrations/NNNN_*.sql at build time). */
typedef struct sq_migration {
    int64_t version;
    const char *name;
    const char *sql;
} sq_migration;

extern const sq_migration sq_migrations[];
extern const size_t sq_migration_count;

/* The calling thread's connection to s's database, opened on first use; NULL with store_error() set. */
sq_conn *sq_conn_get(store *s);

/*
 * A prepared statement for sql (cached by the pointer: pass string
 * constants), reset and with bindings cleared. Release it with sq_done().
 */
sqlite3_stmt *sq_stmt(sq_conn *c, const char *sql);
void sq_done(sq_conn *c, sqlite3_stmt *st);

/* Sets store_error() from the connection's last error; returns ST_ERROR. */
int sq_fail(sq_conn *c, const char *what);

/* Steps a statement that returns no rows; ST_OK, ST_CONFLICT (constraint) or ST_ERROR. Releases it. */
int sq_run(sq_conn *c, sqlite3_stmt *st, const char *what);

/* Bind helpers (1-based index); NULL text binds SQL NULL. */
void sq_text(sqlite3_stmt *st, int i, const char *v);
void sq_int(sqlite3_stmt *st, int i, int64_t v);

/* Copies column i into a fixed field (cap includes the NUL). */
void sq_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap);

/* Column i as a heap string (NULL for SQL NULL or out of memory). */
char *sq_col_dup(sqlite3_stmt *st, int i);

#endif
