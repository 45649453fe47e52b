/*
 * PostgreSQL connections: one libpq connection per thread (a PGconn must
 * not be used by two threads at once), each with a cache of named prepared
 * statements. Also parameters and result columns, transactions and the
 * schema migrations.
 *
 * Locking: the single-row reads a write transaction makes take FOR UPDATE
 * row locks, so even a lone statement outside any transaction cannot change
 * a row the transaction checked before it commits, while transactions on
 * other rows (other devices' check-ins) run in parallel, on every replica.
 * Where an invariant spans rows, the op locks a parent row first (a report
 * locks its deployment before its assignment: deploy_ctl.c), always in the
 * same order. An exclusive transaction (ST_TX_EXCLUSIVE) also takes one
 * transaction-scoped advisory lock, shared by every replica. Results come in binary format: integers are int8 on the wire,
 * bytea arrives as raw bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_priv.h"

/* Type OIDs (pg_type.h; fixed since PostgreSQL 7). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701
};

/* Key of the advisory lock of exclusive transactions ("tinymlops" in ASCII, truncated). */
#define SQL_WRITE_LOCK "SELECT pg_advisory_xact_lock(8388065523418068844)"

typedef struct pg_store {
    char *conninfo;
    store_conns conns;
} pg_store;

/* libpq's messages end in a newline; store_error() lines do not. */
static int fail_msg(const char *what, const char *msg)
{
    size_t n = msg != NULL ? strlen(msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    return store_fail("postgres: %s: %.*s", what, (int)n, n > 0 ? msg : "unknown error");
}

/* ---- parameters ---- */

static int pp_next(pg_params *p, Oid type, int format)
{
    if (p->n >= PG_MAX_PARAMS)
        abort(); /* a statement with more parameters than PG_MAX_PARAMS: a bug */
    int i = p->n++;
    p->types[i] = type;
    p->formats[i] = format;
    p->lengths[i] = 0;
    p->values[i] = NULL;
    return i;
}

static void put_be64(unsigned char *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

void pp_text(pg_params *p, const char *v)
{
    int i = pp_next(p, OID_TEXT, 0);
    p->values[i] = v;
}

void pp_int(pg_params *p, int64_t v)
{
    int i = pp_next(p, OID_INT8, 1);
    put_be64(p->num[i], (uint64_t)v);
    p->values[i] = (const char *)p->num[i];
    p->lengths[i] = 8;
}

void pp_double(pg_params *p, double v)
{
    int i = pp_next(p, OID_FLOAT8, 1);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_be64(p->num[i], bits);
    p->values[i] = (const char *)p->num[i];
    p->lengths[i] = 8;
}

void pp_bytes(pg_params *p, const void *v, size_t len)
{
    int i = pp_next(p, OID_BYTEA, 1);
    p->values[i] = v != NULL ? (const char *)v : "";
    p->lengths[i] = (int)len;
}

/* ---- result columns ---- */

int64_t pg_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    if (PQfformat(r, col) == 0)
        return strtoll((const char *)v, NULL, 10);
    switch (PQftype(r, col)) {
    case OID_INT8:
        return (int64_t)get_be(v, 8);
    case OID_INT4:
        return (int32_t)(uint32_t)get_be(v, 4);
    case OID_INT2:
        return (int16_t)(uint16_t)get_be(v, 2);
    case OID_BOOL:
        return v[0] != 0;
    default:
        return 0;
    }
}

double pg_double(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    if (PQfformat(r, col) == 0)
        return strtod((const char *)v, NULL);
    if (PQftype(r, col) == OID_FLOAT8) {
        uint64_t bits = get_be(v, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    if (PQftype(r, col) == OID_FLOAT4) {
        uint32_t bits = (uint32_t)get_be(v, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    return (double)pg_int(r, row, col);
}

void pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    st_copy(dst, cap, PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col));
}

char *pg_dup(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    size_t n = (size_t)PQgetlength(r, row, col);
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, PQgetvalue(r, row, col), n);
        out[n] = '\0';
    }
    return out;
}

const uint8_t *pg_bytes(const PGresult *r, int row, int col, size_t *len)
{
    if (PQgetisnull(r, row, col)) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)PQgetlength(r, row, col);
    return (const uint8_t *)PQgetvalue(r, row, col);
}

/* ---- statements ---- */

static PGresult *exec_stmt(pg_conn *c, const char *sql, const pg_params *p)
{
    static const pg_params none;
    if (p == NULL)
        p = &none;
    size_t h = ((uintptr_t)sql >> 3) % PG_STMT_CACHE;
    for (size_t i = 0; i < PG_STMT_CACHE; i++) {
        size_t k = (h + i) % PG_STMT_CACHE;
        if (c->cache[k].sql == sql)
            return PQexecPrepared(c->pg, c->cache[k].name, p->n, p->values, p->lengths, p->formats,
                                  1);
        if (c->cache[k].sql == NULL) {
            snprintf(c->cache[k].name, sizeof c->cache[k].name, "tmo_%zu", k);
            PGresult *r = PQprepare(c->pg, c->cache[k].name, sql, p->n, p->types);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return r;
            PQclear(r);
            c->cache[k].sql = sql;
            return PQexecPrepared(c->pg, c->cache[k].name, p->n, p->values, p->lengths, p->formats,
                                  1);
        }
    }
    /* cache full: a one-off statement */
    return PQexecParams(c->pg, sql, p->n, p->types, p->values, p->lengths, p->formats, 1);
}

/* Turns a failed result into *rc (ST_CONFLICT or ST_ERROR) and frees it. */
static void classify(pg_conn *c, PGresult *r, const char *what, int *rc)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r != NULL && PQresultErrorMessage(r)[0] != '\0' ? PQresultErrorMessage(r)
                                                                      : PQerrorMessage(c->pg);
    fail_msg(what, msg);
    *rc = state != NULL && strncmp(state, "23", 2) == 0 ? ST_CONFLICT : ST_ERROR;
    PQclear(r);
}

PGresult *pg_query(pg_conn *c, const char *sql, const pg_params *p, const char *what, int *rc)
{
    PGresult *r = exec_stmt(c, sql, p);
    ExecStatusType status = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        *rc = ST_OK;
        return r;
    }
    classify(c, r, what, rc);
    return NULL;
}

int pg_one(pg_conn *c, const char *sql, const pg_params *p, const char *what, PGresult **out)
{
    int rc;
    *out = NULL;
    PGresult *r = pg_query(c, sql, p, what, &rc);
    if (r == NULL)
        return rc == ST_CONFLICT ? ST_ERROR : rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ST_NOT_FOUND;
    }
    *out = r;
    return ST_OK;
}

int pg_cmd(pg_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    int ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fail_msg(sql, r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
    PQclear(r);
    return ok ? ST_OK : ST_ERROR;
}

/* Runs cmd keeping the error already in store_error() (used while unwinding). */
static void quiet_cmd(pg_conn *c, const char *cmd)
{
    PQclear(PQexec(c->pg, cmd));
}

PGresult *pg_write(pg_conn *c, const char *sql, const pg_params *p, const char *what, int *rc)
{
    if (!c->in_tx && c->nsub == 0)
        return pg_query(c, sql, p, what, rc);
    if (pg_cmd(c, "SAVEPOINT tmo_write") != ST_OK) {
        *rc = ST_ERROR;
        return NULL;
    }
    PGresult *r = pg_query(c, sql, p, what, rc);
    if (r == NULL)
        quiet_cmd(c, "ROLLBACK TO SAVEPOINT tmo_write");
    quiet_cmd(c, "RELEASE SAVEPOINT tmo_write");
    return r;
}

int pg_run(pg_conn *c, const char *sql, const pg_params *p, const char *what, int64_t *changed)
{
    int rc;
    PGresult *r = pg_write(c, sql, p, what, &rc);
    if (changed != NULL)
        *changed = r != NULL ? strtoll(PQcmdTuples(r), NULL, 10) : 0;
    PQclear(r);
    return rc;
}

int pg_sub_begin(pg_conn *c)
{
    int rc = pg_cmd(c, c->in_tx || c->nsub > 0 ? "SAVEPOINT tmo_sub" : "BEGIN");
    if (rc == ST_OK)
        c->nsub++;
    return rc;
}

int pg_sub_end(pg_conn *c, int ok)
{
    c->nsub--;
    int outer = c->in_tx || c->nsub > 0;
    if (ok) {
        if (!outer) {
            PGresult *r = PQexec(c->pg, "COMMIT");
            int done = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK &&
                       strcmp(PQcmdStatus(r), "COMMIT") == 0;
            if (!done)
                fail_msg("commit", r != NULL && PQresultErrorMessage(r)[0] != '\0'
                                       ? PQresultErrorMessage(r)
                                       : "transaction was rolled back");
            PQclear(r);
            return done ? ST_OK : ST_ERROR;
        }
        return pg_cmd(c, "RELEASE SAVEPOINT tmo_sub");
    }
    if (outer) {
        quiet_cmd(c, "ROLLBACK TO SAVEPOINT tmo_sub");
        quiet_cmd(c, "RELEASE SAVEPOINT tmo_sub");
    } else {
        quiet_cmd(c, "ROLLBACK");
    }
    return ST_OK;
}

/* ---- connections ---- */

static void conn_close(pg_conn *c)
{
    PQfinish(c->pg);
    free(c);
}

static void conns_close(store_conn *base)
{
    conn_close((pg_conn *)base);
}

/* Notices ("relation already exists, skipping") are not errors: keep them off stderr. */
static void ignore_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int session_setup(pg_conn *c)
{
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    /* Wait for a lock at most as long as SQLite's busy timeout, then fail the call. */
    if (pg_cmd(c, "SET lock_timeout = 10000") != ST_OK ||
        pg_cmd(c, "SET client_encoding = 'UTF8'") != ST_OK)
        return ST_ERROR;
    return ST_OK;
}

static pg_conn *conn_open(pg_store *q)
{
    pg_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        store_fail("out of memory");
        return NULL;
    }
    c->pg = PQconnectdb(q->conninfo);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        fail_msg("cannot connect", c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    if (session_setup(c) != ST_OK) {
        conn_close(c);
        return NULL;
    }
    return c;
}

pg_conn *pg_conn_get(store *s)
{
    pg_store *q = s->impl;
    pg_conn *c = (pg_conn *)store_conns_mine(&q->conns);
    if (c != NULL) {
        /* A broken connection (server restart) is reopened between transactions; its
           prepared statements went with the old session. */
        if (PQstatus(c->pg) == CONNECTION_BAD && !c->in_tx) {
            PQreset(c->pg);
            memset(c->cache, 0, sizeof c->cache);
            c->nsub = 0;
            if (PQstatus(c->pg) != CONNECTION_OK || session_setup(c) != ST_OK) {
                fail_msg("cannot reconnect", PQerrorMessage(c->pg));
                return NULL;
            }
        }
        return c;
    }
    c = conn_open(q);
    if (c != NULL)
        store_conns_add(&q->conns, &c->base);
    return c;
}

/* ---- open / close ---- */

int postgres_open(store *s, const char *location);
void postgres_close(store *s);

/*
 * location is what follows the scheme: "//user@host:port/db?..." (a URL,
 * handed to libpq as postgresql://...) or a libpq conninfo string
 * ("host=/run/postgresql dbname=fleet"); empty: libpq's defaults (PG* env).
 */
int postgres_open(store *s, const char *location)
{
    if (!PQisthreadsafe())
        return store_fail("postgres: libpq built without thread support");
    pg_store *q = calloc(1, sizeof *q);
    if (q == NULL)
        return store_fail("out of memory");
    int url = strncmp(location, "//", 2) == 0;
    size_t n = strlen(location) + sizeof "postgresql:";
    q->conninfo = malloc(n);
    if (q->conninfo == NULL) {
        free(q);
        return store_fail("out of memory");
    }
    snprintf(q->conninfo, n, "%s%s", url ? "postgresql:" : "", location);
    if (store_conns_init(&q->conns, conns_close) != 0) {
        free(q->conninfo);
        free(q);
        return store_fail("postgres: no thread-local key available");
    }
    s->impl = q;
    if (pg_conn_get(s) == NULL) { /* fail now, not at the first request */
        store_conns_destroy(&q->conns);
        free(q->conninfo);
        free(q);
        s->impl = NULL;
        return ST_ERROR;
    }
    return ST_OK;
}

void postgres_close(store *s)
{
    pg_store *q = s->impl;
    if (q == NULL)
        return;
    store_conns_destroy(&q->conns);
    free(q->conninfo);
    free(q);
    s->impl = NULL;
}

/* ---- transactions ---- */

int postgres_begin(store *s, int kind);
int postgres_commit(store *s);
void postgres_rollback(store *s);

int postgres_begin(store *s, int kind)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (c->in_tx)
        return store_fail("postgres: transactions do not nest");
    if (kind != ST_TX_WRITE)
        /* a consistent snapshot, as a SQLite read transaction sees */
        return pg_cmd(c, "BEGIN ISOLATION LEVEL REPEATABLE READ") == ST_OK
                   ? (c->in_tx = 1 + ST_TX_READ, ST_OK)
                   : ST_ERROR;
    if (pg_cmd(c, "BEGIN") != ST_OK)
        return ST_ERROR;
    if (kind == ST_TX_EXCLUSIVE) {
        int rc;
        PGresult *r = pg_query(c, SQL_WRITE_LOCK, NULL, "begin: exclusive lock", &rc);
        if (r == NULL) {
            quiet_cmd(c, "ROLLBACK");
            return ST_ERROR;
        }
        PQclear(r);
    }
    c->in_tx = 1 + ST_TX_WRITE;
    return ST_OK;
}

int postgres_commit(store *s)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (!c->in_tx)
        return store_fail("postgres: commit without begin");
    c->in_tx = 0;
    /* COMMIT of a transaction an error aborted reports ROLLBACK, not an error. */
    PGresult *r = PQexec(c->pg, "COMMIT");
    int ok =
        r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok)
        fail_msg("commit", r != NULL && PQresultErrorMessage(r)[0] != '\0'
                               ? PQresultErrorMessage(r)
                               : "an earlier statement failed; the transaction was rolled back");
    PQclear(r);
    if (!ok && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        quiet_cmd(c, "ROLLBACK");
    return ok ? ST_OK : ST_ERROR;
}

void postgres_rollback(store *s)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || !c->in_tx)
        return;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        quiet_cmd(c, "ROLLBACK");
    c->in_tx = 0;
}

/* ---- migrations ---- */

int postgres_schema_version(store *s, int64_t *version);
int postgres_migrate(store *s, int64_t *version);

static const char SQL_HAS_VERSION[] = "SELECT to_regclass('schema_version') IS NOT NULL";
static const char SQL_VERSION[] = "SELECT coalesce(max(version), 0) FROM schema_version";
static const char SQL_VERSION_INSERT[] =
    "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)";

int postgres_schema_version(store *s, int64_t *version)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    *version = 0;
    int rc;
    PGresult *r = pg_query(c, SQL_HAS_VERSION, NULL, "schema_version", &rc);
    if (r == NULL)
        return rc;
    int have = PQntuples(r) == 1 && pg_int(r, 0, 0) != 0;
    PQclear(r);
    if (!have)
        return ST_OK; /* no table yet: version 0 */
    /* not cached: the table may not have existed when an earlier statement was prepared */
    r = PQexecParams(c->pg, SQL_VERSION, 0, NULL, NULL, NULL, NULL, 1);
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        classify(c, r, "schema_version", &rc);
        return ST_ERROR;
    }
    *version = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
    PQclear(r);
    return ST_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int apply_one(store *s, pg_conn *c, const pg_migration *m)
{
    /* The write lock serializes replicas that start together; re-read the version under it. */
    if (postgres_begin(s, ST_TX_WRITE) != ST_OK)
        return ST_ERROR;
    int64_t have = 0;
    if (pg_cmd(c, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at BIGINT NOT NULL)") != ST_OK ||
        postgres_schema_version(s, &have) != ST_OK)
        goto fail;
    if (have >= m->version) {
        postgres_rollback(s);
        return ST_OK;
    }
    /* The migration's own constant SQL (several statements: the simple query protocol). */
    PGresult *r = PQexec(c->pg, m->sql);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail_msg("migrate", r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    pg_params p = {0};
    pp_int(&p, m->version);
    pp_text(&p, m->name);
    pp_int(&p, now_ms());
    r = PQexecParams(c->pg, SQL_VERSION_INSERT, p.n, p.types, p.values, p.lengths, p.formats, 1);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc;
        classify(c, r, "schema_version", &rc);
        goto fail;
    }
    PQclear(r);
    return postgres_commit(s);
fail:;
    char saved[512];
    st_copy(saved, sizeof saved, store_error());
    postgres_rollback(s);
    return store_fail("migration %s: %s", m->name, saved);
}

int postgres_migrate(store *s, int64_t *version)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    if (c->in_tx)
        return store_fail("postgres: migrate inside a transaction");
    int64_t have = 0;
    if (postgres_schema_version(s, &have) != ST_OK)
        return ST_ERROR;
    int64_t newest = pg_migration_count > 0 ? pg_migrations[pg_migration_count - 1].version : 0;
    if (have > newest)
        return store_fail("database schema version %lld is newer than this server (%lld)",
                          (long long)have, (long long)newest);
    for (size_t i = 0; i < pg_migration_count; i++)
        if (pg_migrations[i].version > have && apply_one(s, c, &pg_migrations[i]) != ST_OK)
            return ST_ERROR;
    return postgres_schema_version(s, version);
}
