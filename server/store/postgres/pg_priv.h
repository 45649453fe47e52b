/*
 * Private pieces of the PostgreSQL store backend shared by its files: the
 * per-thread libpq connection with its prepared-statement cache, parameter
 * lists (every value is sent as a parameter, never spliced into SQL) and
 * column helpers for binary-format results. Nothing here is visible to the
 * server.
 */
#ifndef TMO_PG_PRIV_H
#define TMO_PG_PRIV_H

#include <libpq-fe.h>

#include "store.h"
#include "store_conns.h"

#define PG_STMT_CACHE 128 /* distinct statements per connection; more run unprepared */
#define PG_MAX_PARAMS 24

typedef struct pg_conn {
    store_conn base; /* first: the per-thread connection set's links */
    PGconn *pg;
    int in_tx; /* 0, or 1 + ST_TX_READ / ST_TX_WRITE */
    int nsub;  /* savepoint depth, for names */
    struct {
        const char *sql;
        char name[16];
    } cache[PG_STMT_CACHE];
} pg_conn;

#define PG_IN_WRITE_TX(c) ((c)->in_tx == 1 + ST_TX_WRITE)

/* An embedded schema migration (generated from migrations/NNNN_*.sql at build time). */
typedef struct pg_migration {
    int64_t version;
    const char *name;
    const char *sql;
} pg_migration;

extern const pg_migration pg_migrations[];
extern const size_t pg_migration_count;

/* Statement parameters: text, int8 and float8 as typed values, bytea in binary. */
typedef struct pg_params {
    int n;
    Oid types[PG_MAX_PARAMS];
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS];
    unsigned char num[PG_MAX_PARAMS][8];
} pg_params;

void pp_text(pg_params *p, const char *v); /* NULL: SQL NULL */
void pp_int(pg_params *p, int64_t v);
void pp_double(pg_params *p, double v);
void pp_bytes(pg_params *p, const void *v, size_t len); /* v must outlive the call */

/* The calling thread's connection to s's database, opened on first use; NULL with store_error() set. */
pg_conn *pg_conn_get(store *s);

/*
 * Runs sql (a string constant: prepared once per connection, cached by the
 * pointer) with p (may be NULL). Returns the result, or NULL with *rc set:
 * ST_CONFLICT for an integrity constraint violation (SQLSTATE class 23),
 * else ST_ERROR with store_error() naming `what` and libpq's message.
 * pg_write() does the same for statements that change rows: inside a
 * transaction it guards the statement with a savepoint, so a refused write
 * (ST_CONFLICT) leaves the transaction usable, as SQLite's does.
 */
PGresult *pg_query(pg_conn *c, const char *sql, const pg_params *p, const char *what, int *rc);
PGresult *pg_write(pg_conn *c, const char *sql, const pg_params *p, const char *what, int *rc);

/* pg_write() for statements without rows: ST_OK, ST_CONFLICT or ST_ERROR; *changed = rows touched. */
int pg_run(pg_conn *c, const char *sql, const pg_params *p, const char *what, int64_t *changed);

/*
 * Runs a query expected to return at most one row: ST_OK with *out set (the
 * caller PQclear()s it), ST_NOT_FOUND (no row) or ST_ERROR.
 */
int pg_one(pg_conn *c, const char *sql, const pg_params *p, const char *what, PGresult **out);

/* A constant SQL command without parameters (BEGIN, SAVEPOINT, ...). */
int pg_cmd(pg_conn *c, const char *sql);

/*
 * A sub-transaction: a savepoint inside the caller's transaction, else a
 * transaction of its own. pg_sub_end commits it when ok, else rolls it back.
 */
int pg_sub_begin(pg_conn *c);
int pg_sub_end(pg_conn *c, int ok);

/* Column helpers for binary results; SQL NULL reads as 0 / "" / NULL. */
int64_t pg_int(const PGresult *r, int row, int col);
double pg_double(const PGresult *r, int row, int col);
void pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap);
char *pg_dup(const PGresult *r, int row, int col); /* heap; NULL for SQL NULL or out of memory */
const uint8_t *pg_bytes(const PGresult *r, int row, int col, size_t *len);

#endif
