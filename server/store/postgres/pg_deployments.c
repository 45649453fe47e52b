/*
 * PostgreSQL store: deployments and their per-device assignments.
 */
#include <stdio.h>
#include <string.h>

#include "pg_priv.h"

int postgres_deployment_insert(store *s, st_deployment *d);
int postgres_deployment_get(store *s, int64_t id, st_deployment *out);
int postgres_deployment_list(store *s, const char *state, st_deployment_cb cb, void *ctx);
int postgres_deployment_update(store *s, const st_deployment *d);
int postgres_assignments_insert(store *s, const st_assignment *a, size_t n);
int postgres_assignment_get(store *s, int64_t deployment, const char *device, st_assignment *out);
int postgres_assignment_update(store *s, const st_assignment *a);
int postgres_assignments_of_device(store *s, const char *device, int64_t limit, st_assignment_cb cb,
                                   void *ctx);
int postgres_assignments_of_deployment(store *s, int64_t deployment, const st_assignment_filter *f,
                                       st_assignment_cb cb, void *ctx);
int postgres_assignment_counts(store *s, int64_t deployment, st_count_cb cb, void *ctx);
int postgres_assignment_cancel_pending(store *s, int64_t deployment, const char *reason,
                                       int64_t now, int64_t *changed);

#define DEPLOYMENT_COLUMNS                                                                         \
    "SELECT id, kind, rollback_of, model, version, target, waves, soak_ms, max_failures, state, "  \
    "reason, current_wave, wave_done_at, created_at, updated_at, created_by FROM deployments "

static const char SQL_DEP_INSERT[] =
    "INSERT INTO deployments (kind, rollback_of, model, version, target, waves, soak_ms, "
    "max_failures, state, reason, current_wave, wave_done_at, created_at, updated_at, "
    "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
    "RETURNING id";
static const char SQL_DEP_GET[] = DEPLOYMENT_COLUMNS "WHERE id = $1";
static const char SQL_DEP_GET_LOCK[] = DEPLOYMENT_COLUMNS "WHERE id = $1 FOR UPDATE";
static const char SQL_DEP_LIST[] =
    DEPLOYMENT_COLUMNS "WHERE $1::text IS NULL OR state = $1 ORDER BY id";
static const char SQL_DEP_UPDATE[] =
    "UPDATE deployments SET state = $1, reason = $2, current_wave = $3, wave_done_at = $4, "
    "max_failures = $5, updated_at = $6 WHERE id = $7";

static void deployment_row(const PGresult *r, int i, st_deployment *d)
{
    memset(d, 0, sizeof *d);
    d->id = pg_int(r, i, 0);
    pg_copy(r, i, 1, d->kind, sizeof d->kind);
    d->rollback_of = pg_int(r, i, 2);
    pg_copy(r, i, 3, d->model, sizeof d->model);
    pg_copy(r, i, 4, d->version, sizeof d->version);
    pg_copy(r, i, 5, d->target_json, sizeof d->target_json);
    pg_copy(r, i, 6, d->waves_json, sizeof d->waves_json);
    d->soak_ms = pg_int(r, i, 7);
    d->max_failures = pg_int(r, i, 8);
    pg_copy(r, i, 9, d->state, sizeof d->state);
    pg_copy(r, i, 10, d->reason, sizeof d->reason);
    d->current_wave = pg_int(r, i, 11);
    d->wave_done_at = pg_int(r, i, 12);
    d->created_at = pg_int(r, i, 13);
    d->updated_at = pg_int(r, i, 14);
    pg_copy(r, i, 15, d->created_by, sizeof d->created_by);
}

int postgres_deployment_insert(store *s, st_deployment *d)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, d->kind);
    pp_int(&p, d->rollback_of);
    pp_text(&p, d->model);
    pp_text(&p, d->version);
    pp_text(&p, d->target_json);
    pp_text(&p, d->waves_json);
    pp_int(&p, d->soak_ms);
    pp_int(&p, d->max_failures);
    pp_text(&p, d->state);
    pp_text(&p, d->reason);
    pp_int(&p, d->current_wave);
    pp_int(&p, d->wave_done_at);
    pp_int(&p, d->created_at);
    pp_int(&p, d->updated_at);
    pp_text(&p, d->created_by);
    int rc;
    PGresult *r = pg_write(c, SQL_DEP_INSERT, &p, "deployment_insert", &rc);
    if (r != NULL)
        d->id = pg_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int postgres_deployment_get(store *s, int64_t id, st_deployment *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, id);
    PGresult *r;
    int rc =
        pg_one(c, PG_IN_WRITE_TX(c) ? SQL_DEP_GET_LOCK : SQL_DEP_GET, &p, "deployment_get", &r);
    if (rc == ST_OK)
        deployment_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_deployment_list(store *s, const char *state, st_deployment_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, state);
    int rc;
    PGresult *r = pg_query(c, SQL_DEP_LIST, &p, "deployment_list", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_deployment d;
        deployment_row(r, i, &d);
        if (cb(ctx, &d) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_deployment_update(store *s, const st_deployment *d)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, d->state);
    pp_text(&p, d->reason);
    pp_int(&p, d->current_wave);
    pp_int(&p, d->wave_done_at);
    pp_int(&p, d->max_failures);
    pp_int(&p, d->updated_at);
    pp_int(&p, d->id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_DEP_UPDATE, &p, "deployment_update", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

#define ASSIGNMENT_COLUMNS                                                                         \
    "SELECT a.deployment_id, a.device_id, a.wave, a.bundle_id, a.prev_bundle_id, a.state, "        \
    "a.reason, a.updated_at, d.state, d.current_wave "                                             \
    "FROM assignments a JOIN deployments d ON d.id = a.deployment_id "

static const char SQL_ASG_GET[] =
    ASSIGNMENT_COLUMNS "WHERE a.deployment_id = $1 AND a.device_id = $2";
/* Locks the assignment and its deployment: both are what a caller checks. */
static const char SQL_ASG_GET_LOCK[] =
    ASSIGNMENT_COLUMNS "WHERE a.deployment_id = $1 AND a.device_id = $2 FOR UPDATE";
static const char SQL_ASG_UPDATE[] =
    "UPDATE assignments SET state = $1, reason = $2, updated_at = $3 "
    "WHERE deployment_id = $4 AND device_id = $5";
static const char SQL_ASG_OF_DEVICE[] =
    ASSIGNMENT_COLUMNS "WHERE a.device_id = $1 ORDER BY a.deployment_id DESC LIMIT nullif($2, 0)";
static const char SQL_ASG_OF_DEP[] =
    ASSIGNMENT_COLUMNS "WHERE a.deployment_id = $1 AND ($2::text IS NULL OR a.state = $2) "
                       "ORDER BY a.wave, a.device_id LIMIT nullif($3, 0) OFFSET $4";
static const char SQL_ASG_COUNTS[] =
    "SELECT wave, state, count(*) FROM assignments WHERE deployment_id = $1 GROUP BY wave, state "
    "ORDER BY wave, state";
static const char SQL_ASG_CANCEL[] =
    "UPDATE assignments SET state = 'cancelled', reason = $1, updated_at = $2 "
    "WHERE deployment_id = $3 AND state = 'pending'";

static void assignment_row(const PGresult *r, int i, st_assignment *a)
{
    memset(a, 0, sizeof *a);
    a->deployment_id = pg_int(r, i, 0);
    pg_copy(r, i, 1, a->device_id, sizeof a->device_id);
    a->wave = pg_int(r, i, 2);
    a->bundle_id = pg_int(r, i, 3);
    a->prev_bundle_id = pg_int(r, i, 4);
    pg_copy(r, i, 5, a->state, sizeof a->state);
    pg_copy(r, i, 6, a->reason, sizeof a->reason);
    a->updated_at = pg_int(r, i, 7);
    pg_copy(r, i, 8, a->dep_state, sizeof a->dep_state);
    a->dep_current_wave = pg_int(r, i, 9);
}

/* Appends text to a COPY line with the text format's escapes (backslash, tab, CR, LF). */
static size_t copy_text(char *out, const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        char esc = *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 0;
        if (esc != 0)
            out[n++] = '\\';
        out[n++] = esc != 0 ? esc : *p;
    }
    return n;
}

/* One assignment as a COPY line into line (room for 2 * text lengths + 200); its length. */
static size_t copy_line(char *line, const st_assignment *a)
{
    size_t n = (size_t)sprintf(line, "%lld\t", (long long)a->deployment_id);
    n += copy_text(line + n, a->device_id);
    n += (size_t)sprintf(line + n, "\t%lld\t%lld\t%lld\t", (long long)a->wave,
                         (long long)a->bundle_id, (long long)a->prev_bundle_id);
    n += copy_text(line + n, a->state);
    line[n++] = '\t';
    n += copy_text(line + n, a->reason);
    n += (size_t)sprintf(line + n, "\t%lld\n", (long long)a->updated_at);
    return n;
}

/* COPY ... FROM STDIN of all rows (one round trip per 64 KiB), under a savepoint. */
int postgres_assignments_insert(store *s, const st_assignment *a, size_t n)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || pg_sub_begin(c) != ST_OK)
        return ST_ERROR;
    PGresult *r = PQexec(c->pg, "COPY assignments (deployment_id, device_id, wave, bundle_id, "
                                "prev_bundle_id, state, reason, updated_at) FROM STDIN");
    int ok = r != NULL && PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    char buf[65536], line[2 * (ST_DEVICE_ID_LEN + ST_STATE_LEN + ST_REASON_LEN) + 200];
    size_t used = 0;
    for (size_t i = 0; ok && i < n; i++) {
        size_t len = copy_line(line, &a[i]);
        if (used + len > sizeof buf) {
            ok = PQputCopyData(c->pg, buf, (int)used) == 1;
            used = 0;
        }
        memcpy(buf + used, line, len);
        used += len;
    }
    if (ok && used > 0)
        ok = PQputCopyData(c->pg, buf, (int)used) == 1;
    int end = PQputCopyEnd(c->pg, ok ? NULL : "client error") == 1;
    int rc = ST_OK;
    while ((r = PQgetResult(c->pg)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            rc = state != NULL && strcmp(state, "23505") == 0
                     ? ST_CONFLICT
                     : store_fail("assignments_insert: %s", PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    if (rc == ST_OK && (!ok || !end))
        rc = store_fail("assignments_insert: %s", PQerrorMessage(c->pg));
    if (pg_sub_end(c, rc == ST_OK) != ST_OK)
        return ST_ERROR;
    return rc;
}

int postgres_assignment_get(store *s, int64_t deployment, const char *device, st_assignment *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, deployment);
    pp_text(&p, device);
    PGresult *r;
    int rc =
        pg_one(c, PG_IN_WRITE_TX(c) ? SQL_ASG_GET_LOCK : SQL_ASG_GET, &p, "assignment_get", &r);
    if (rc == ST_OK)
        assignment_row(r, 0, out);
    PQclear(r);
    return rc;
}

int postgres_assignment_update(store *s, const st_assignment *a)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, a->state);
    pp_text(&p, a->reason);
    pp_int(&p, a->updated_at);
    pp_int(&p, a->deployment_id);
    pp_text(&p, a->device_id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_ASG_UPDATE, &p, "assignment_update", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

static int each_assignment(pg_conn *c, const char *sql, const pg_params *p, st_assignment_cb cb,
                           void *ctx)
{
    int rc;
    PGresult *r = pg_query(c, sql, p, "assignments", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        st_assignment a;
        assignment_row(r, i, &a);
        if (cb(ctx, &a) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_assignments_of_device(store *s, const char *device, int64_t limit, st_assignment_cb cb,
                                   void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    pp_int(&p, limit > 0 ? limit : 0);
    return each_assignment(c, SQL_ASG_OF_DEVICE, &p, cb, ctx);
}

int postgres_assignments_of_deployment(store *s, int64_t deployment, const st_assignment_filter *f,
                                       st_assignment_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, deployment);
    pp_text(&p, f != NULL ? f->state : NULL);
    pp_int(&p, f != NULL && f->limit > 0 ? f->limit : 0);
    pp_int(&p, f != NULL && f->offset > 0 ? f->offset : 0);
    return each_assignment(c, SQL_ASG_OF_DEP, &p, cb, ctx);
}

int postgres_assignment_counts(store *s, int64_t deployment, st_count_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, deployment);
    int rc;
    PGresult *r = pg_query(c, SQL_ASG_COUNTS, &p, "assignment_counts", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        char state[ST_STATE_LEN + 1];
        pg_copy(r, i, 1, state, sizeof state);
        if (cb(ctx, pg_int(r, i, 0), state, pg_int(r, i, 2)) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}

int postgres_assignment_cancel_pending(store *s, int64_t deployment, const char *reason,
                                       int64_t now, int64_t *changed)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, reason);
    pp_int(&p, now);
    pp_int(&p, deployment);
    int64_t n = 0;
    int rc = pg_run(c, SQL_ASG_CANCEL, &p, "assignment_cancel_pending", &n);
    if (changed != NULL)
        *changed = n;
    return rc;
}
