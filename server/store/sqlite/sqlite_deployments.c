/*
 * SQLite store: deployments and their per-device assignments.
 */
#include <string.h>

#include "sqlite_priv.h"

int sqlite_deployment_insert(store *s, st_deployment *d);
int sqlite_deployment_get(store *s, int64_t id, st_deployment *out);
int sqlite_deployment_list(store *s, const char *state, st_deployment_cb cb, void *ctx);
int sqlite_deployment_update(store *s, const st_deployment *d);
int sqlite_assignments_insert(store *s, const st_assignment *a, size_t n);
int sqlite_assignment_get(store *s, int64_t deployment, const char *device, st_assignment *out);
int sqlite_assignment_update(store *s, const st_assignment *a);
int sqlite_assignments_of_device(store *s, const char *device, int64_t limit, st_assignment_cb cb,
                                 void *ctx);
int sqlite_assignments_of_deployment(store *s, int64_t deployment, const st_assignment_filter *f,
                                     st_assignment_cb cb, void *ctx);
int sqlite_assignment_counts(store *s, int64_t deployment, st_count_cb cb, void *ctx);
int sqlite_assignment_cancel_pending(store *s, int64_t deployment, const char *reason, int64_t now,
                                     int64_t *changed);

#define DEPLOYMENT_COLUMNS                                                                         \
    "id, kind, rollback_of, model, version, target, waves, soak_ms, max_failures, state, reason, " \
    "current_wave, wave_done_at, created_at, updated_at, created_by"

static const char SQL_DEP_INSERT[] =
    "INSERT INTO deployments (kind, rollback_of, model, version, target, waves, soak_ms, "
    "max_failures, "
    "state, reason, current_wave, wave_done_at, created_at, updated_at, created_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_DEP_GET[] = "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE id = ?";
static const char SQL_DEP_LIST[] =
    "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE ?1 IS NULL OR state = ?1 ORDER BY id";
static const char SQL_DEP_UPDATE[] =
    "UPDATE deployments SET state = ?, reason = ?, current_wave = ?, wave_done_at = ?, "
    "max_failures = ?, updated_at = ? WHERE id = ?";

static void deployment_row(sqlite3_stmt *st, st_deployment *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, d->kind, sizeof d->kind);
    d->rollback_of = sqlite3_column_int64(st, 2);
    sq_col_copy(st, 3, d->model, sizeof d->model);
    sq_col_copy(st, 4, d->version, sizeof d->version);
    sq_col_copy(st, 5, d->target_json, sizeof d->target_json);
    sq_col_copy(st, 6, d->waves_json, sizeof d->waves_json);
    d->soak_ms = sqlite3_column_int64(st, 7);
    d->max_failures = sqlite3_column_int64(st, 8);
    sq_col_copy(st, 9, d->state, sizeof d->state);
    sq_col_copy(st, 10, d->reason, sizeof d->reason);
    d->current_wave = sqlite3_column_int64(st, 11);
    d->wave_done_at = sqlite3_column_int64(st, 12);
    d->created_at = sqlite3_column_int64(st, 13);
    d->updated_at = sqlite3_column_int64(st, 14);
    sq_col_copy(st, 15, d->created_by, sizeof d->created_by);
}

int sqlite_deployment_insert(store *s, st_deployment *d)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEP_INSERT);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, d->kind);
    sq_int(st, 2, d->rollback_of);
    sq_text(st, 3, d->model);
    sq_text(st, 4, d->version);
    sq_text(st, 5, d->target_json);
    sq_text(st, 6, d->waves_json);
    sq_int(st, 7, d->soak_ms);
    sq_int(st, 8, d->max_failures);
    sq_text(st, 9, d->state);
    sq_text(st, 10, d->reason);
    sq_int(st, 11, d->current_wave);
    sq_int(st, 12, d->wave_done_at);
    sq_int(st, 13, d->created_at);
    sq_int(st, 14, d->updated_at);
    sq_text(st, 15, d->created_by);
    int rc = sq_run(c, st, "deployment_insert");
    if (rc == ST_OK)
        d->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int sqlite_deployment_get(store *s, int64_t id, st_deployment *out)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEP_GET);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, id);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        deployment_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "deployment_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_deployment_list(store *s, const char *state, st_deployment_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEP_LIST);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, state);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_deployment d;
        deployment_row(st, &d);
        if (cb(ctx, &d) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "deployment_list");
    sq_done(c, st);
    return out;
}

int sqlite_deployment_update(store *s, const st_deployment *d)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_DEP_UPDATE);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, d->state);
    sq_text(st, 2, d->reason);
    sq_int(st, 3, d->current_wave);
    sq_int(st, 4, d->wave_done_at);
    sq_int(st, 5, d->max_failures);
    sq_int(st, 6, d->updated_at);
    sq_int(st, 7, d->id);
    int rc = sq_run(c, st, "deployment_update");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

#define ASSIGNMENT_COLUMNS                                                                         \
    "a.deployment_id, a.device_id, a.wave, a.bundle_id, a.prev_bundle_id, a.state, a.reason, "     \
    "a.updated_at, d.state, d.current_wave"

static const char SQL_ASG_INSERT[] = "INSERT INTO assignments (deployment_id, device_id, wave, "
                                     "bundle_id, prev_bundle_id, state, reason, "
                                     "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ASG_GET[] =
    "SELECT " ASSIGNMENT_COLUMNS " FROM assignments a JOIN deployments d "
    "ON d.id = a.deployment_id WHERE a.deployment_id = ? AND a.device_id = ?";
static const char SQL_ASG_UPDATE[] = "UPDATE assignments SET state = ?, reason = ?, updated_at = ? "
                                     "WHERE deployment_id = ? AND device_id = ?";
static const char SQL_ASG_OF_DEVICE[] =
    "SELECT " ASSIGNMENT_COLUMNS " FROM assignments a JOIN deployments d ON d.id = a.deployment_id "
    "WHERE a.device_id = ? ORDER BY a.deployment_id DESC LIMIT ?";
static const char SQL_ASG_OF_DEP[] =
    "SELECT " ASSIGNMENT_COLUMNS " FROM assignments a JOIN deployments d ON d.id = a.deployment_id "
    "WHERE a.deployment_id = ?1 AND (?2 IS NULL OR a.state = ?2) ORDER BY a.wave, a.device_id "
    "LIMIT ?3 OFFSET ?4";
static const char SQL_ASG_COUNTS[] =
    "SELECT wave, state, count(*) FROM assignments WHERE deployment_id = ? GROUP BY wave, state";
static const char SQL_ASG_CANCEL[] =
    "UPDATE assignments SET state = 'cancelled', reason = ?, updated_at = ? "
    "WHERE deployment_id = ? AND state = 'pending'";

static void assignment_row(sqlite3_stmt *st, st_assignment *a)
{
    memset(a, 0, sizeof *a);
    a->deployment_id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, a->device_id, sizeof a->device_id);
    a->wave = sqlite3_column_int64(st, 2);
    a->bundle_id = sqlite3_column_int64(st, 3);
    a->prev_bundle_id = sqlite3_column_int64(st, 4);
    sq_col_copy(st, 5, a->state, sizeof a->state);
    sq_col_copy(st, 6, a->reason, sizeof a->reason);
    a->updated_at = sqlite3_column_int64(st, 7);
    sq_col_copy(st, 8, a->dep_state, sizeof a->dep_state);
    a->dep_current_wave = sqlite3_column_int64(st, 9);
}

static int insert_one(sq_conn *c, const st_assignment *a)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_INSERT);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, a->deployment_id);
    sq_text(st, 2, a->device_id);
    sq_int(st, 3, a->wave);
    sq_int(st, 4, a->bundle_id);
    sq_int(st, 5, a->prev_bundle_id);
    sq_text(st, 6, a->state);
    sq_text(st, 7, a->reason);
    sq_int(st, 8, a->updated_at);
    return sq_run(c, st, "assignments_insert");
}

int sqlite_assignments_insert(store *s, const st_assignment *a, size_t n)
{
    int own = 0;
    sq_conn *c = sq_conn_get(s);
    if (c != NULL && !c->in_tx) { /* all or none: a transaction of its own */
        if (s->ops->begin(s, ST_TX_WRITE) != ST_OK)
            return ST_ERROR;
        own = 1;
        c = sq_conn_get(s);
    }
    int rc = c != NULL ? ST_OK : ST_ERROR;
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        rc = insert_one(c, &a[i]);
    if (own) {
        if (rc == ST_OK)
            return s->ops->commit(s);
        s->ops->rollback(s);
    }
    return rc;
}

int sqlite_assignment_get(store *s, int64_t deployment, const char *device, st_assignment *out)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_GET);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, deployment);
    sq_text(st, 2, device);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        assignment_row(st, out);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "assignment_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_assignment_update(store *s, const st_assignment *a)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_UPDATE);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, a->state);
    sq_text(st, 2, a->reason);
    sq_int(st, 3, a->updated_at);
    sq_int(st, 4, a->deployment_id);
    sq_text(st, 5, a->device_id);
    int rc = sq_run(c, st, "assignment_update");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        return ST_NOT_FOUND;
    return rc;
}

static int each_assignment(sq_conn *c, sqlite3_stmt *st, st_assignment_cb cb, void *ctx)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_assignment a;
        assignment_row(st, &a);
        if (cb(ctx, &a) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "assignments");
    sq_done(c, st);
    return out;
}

int sqlite_assignments_of_device(store *s, const char *device, int64_t limit, st_assignment_cb cb,
                                 void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_OF_DEVICE);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    sq_int(st, 2, limit > 0 ? limit : -1);
    return each_assignment(c, st, cb, ctx);
}

int sqlite_assignments_of_deployment(store *s, int64_t deployment, const st_assignment_filter *f,
                                     st_assignment_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_OF_DEP);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, deployment);
    sq_text(st, 2, f != NULL ? f->state : NULL);
    sq_int(st, 3, f != NULL && f->limit > 0 ? f->limit : -1);
    sq_int(st, 4, f != NULL ? f->offset : 0);
    return each_assignment(c, st, cb, ctx);
}

int sqlite_assignment_counts(store *s, int64_t deployment, st_count_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_COUNTS);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, deployment);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char state[ST_STATE_LEN + 1];
        sq_col_copy(st, 1, state, sizeof state);
        if (cb(ctx, sqlite3_column_int64(st, 0), state, sqlite3_column_int64(st, 2)) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "assignment_counts");
    sq_done(c, st);
    return out;
}

int sqlite_assignment_cancel_pending(store *s, int64_t deployment, const char *reason, int64_t now,
                                     int64_t *changed)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_ASG_CANCEL);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, reason);
    sq_int(st, 2, now);
    sq_int(st, 3, deployment);
    int rc = sq_run(c, st, "assignment_cancel_pending");
    if (changed != NULL)
        *changed = rc == ST_OK ? sqlite3_changes(c->db) : 0;
    return rc;
}
