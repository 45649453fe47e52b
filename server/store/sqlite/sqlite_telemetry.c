/*
 * SQLite store: monitoring reports (one row per uploaded window or per
 * roll-up), deduplicated by (device, sequence range), and the per-device
 * bookkeeping that keeps dedup exact after old rows are pruned.
 */
#include <string.h>

#include "sqlite_priv.h"

int sqlite_report_insert(store *s, st_report *r, int rollup);
int sqlite_report_scan(store *s, const st_report_filter *f, st_report_cb cb, void *ctx);
int sqlite_report_delete(store *s, int64_t id);
int sqlite_report_prune(store *s, int64_t before, int64_t *removed);
int sqlite_tdevice_get(store *s, const char *device, st_tdevice *out);
int sqlite_devices_silent(store *s, int64_t before, st_id_cb cb, void *ctx);

static const char SQL_FLOOR[] = "SELECT seq_floor FROM telemetry_devices WHERE device_id = ?";
/* Rows of a device never overlap, so the row starting last at or before our end decides. */
static const char SQL_OVERLAP[] =
    "SELECT seq_last FROM telemetry WHERE device_id = ?1 AND seq_first <= ?2 "
    "ORDER BY seq_first DESC LIMIT 1";
static const char SQL_DUPLICATE[] =
    "INSERT INTO telemetry_devices (device_id, duplicates) VALUES (?1, 1) "
    "ON CONFLICT (device_id) DO UPDATE SET duplicates = duplicates + 1";
static const char SQL_REPORT_INSERT[] =
    "INSERT INTO telemetry (device_id, seq_first, seq_last, at, received_at, bundle_id, model, "
    "version, digest, windows, inferences, errors, out_inf, events, dropped, lost_inferences, "
    "drift, acc_est, p95_us, latency, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_COUNT[] =
    "INSERT INTO telemetry_devices (device_id, last_at, last_received, reports, dropped, "
    "lost_inferences, inferences) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6) "
    "ON CONFLICT (device_id) DO UPDATE SET last_at = max(last_at, excluded.last_at), "
    "last_received = max(last_received, excluded.last_received), reports = reports + 1, "
    "dropped = min(dropped + excluded.dropped, " ST_COUNTER_MAX_SQL "), "
    "lost_inferences = min(lost_inferences + excluded.lost_inferences, " ST_COUNTER_MAX_SQL "), "
    "inferences = min(inferences + excluded.inferences, " ST_COUNTER_MAX_SQL ")";
static const char SQL_REPORT_DELETE[] = "DELETE FROM telemetry WHERE id = ?";
static const char SQL_PRUNE_FLOOR[] =
    "INSERT INTO telemetry_devices (device_id, seq_floor) "
    "SELECT device_id, max(seq_last) FROM telemetry WHERE at < ?1 GROUP BY device_id "
    "ON CONFLICT (device_id) DO UPDATE SET seq_floor = max(seq_floor, excluded.seq_floor)";
static const char SQL_PRUNE[] = "DELETE FROM telemetry WHERE at < ?1";
static const char SQL_TDEVICE[] =
    "SELECT device_id, seq_floor, last_at, last_received, reports, duplicates, dropped, "
    "lost_inferences, inferences FROM telemetry_devices WHERE device_id = ?";
static const char SQL_SILENT[] =
    "SELECT d.id, max(d.last_seen, coalesce(t.last_received, 0)) AS act FROM devices d "
    "LEFT JOIN telemetry_devices t ON t.device_id = d.id "
    "WHERE d.last_seen > 0 AND max(d.last_seen, coalesce(t.last_received, 0)) < ?1 ORDER BY d.id";

#define REPORT_COLUMNS                                                                             \
    "SELECT t.id, t.device_id, t.seq_first, t.seq_last, t.at, t.received_at, t.bundle_id, "        \
    "t.model, t.version, t.digest, t.windows, t.inferences, t.errors, t.out_inf, t.events, "       \
    "t.dropped, t.lost_inferences, t.drift, t.acc_est, t.p95_us, t.latency, "                      \
    "CASE WHEN ?11 THEN t.data END, coalesce(d.grp, ''), coalesce(a.wave, -1) "                    \
    "FROM telemetry t LEFT JOIN devices d ON d.id = t.device_id "                                  \
    "LEFT JOIN assignments a ON a.deployment_id = ?3 AND a.device_id = t.device_id "

/* ?1 device, ?2 group, ?3 deployment, ?4 model, ?5 version, ?6 digest, ?7 bundle, ?8 since,
   ?9 until, ?10 max windows, ?11 with data, ?12 limit. */
#define REPORT_WHERE                                                                               \
    " (?2 IS NULL OR d.grp = ?2) AND (?3 = 0 OR a.device_id IS NOT NULL)"                          \
    " AND (?4 IS NULL OR t.model = ?4) AND (?5 IS NULL OR t.version = ?5)"                         \
    " AND (?6 IS NULL OR t.digest = ?6) AND (?7 = 0 OR t.bundle_id = ?7)"                          \
    " AND t.at >= ?8 AND (?9 = 0 OR t.at < ?9) AND (?10 = 0 OR t.windows <= ?10)"

static const char SQL_SCAN_DEVICE_NEWEST[] =
    REPORT_COLUMNS "WHERE t.device_id = ?1 AND" REPORT_WHERE " ORDER BY t.seq_first DESC LIMIT ?12";
static const char SQL_SCAN_DEVICE[] =
    REPORT_COLUMNS "WHERE t.device_id = ?1 AND" REPORT_WHERE " ORDER BY t.at, t.id LIMIT ?12";
static const char SQL_SCAN_ALL[] =
    REPORT_COLUMNS "WHERE ?1 IS NULL AND" REPORT_WHERE " ORDER BY t.at, t.id LIMIT ?12";
static const char SQL_SCAN_BY_DEVICE[] = REPORT_COLUMNS
    "WHERE ?1 IS NULL AND" REPORT_WHERE " ORDER BY t.device_id, t.seq_first LIMIT ?12";
static const char SQL_SCAN_ALL_NEWEST[] =
    REPORT_COLUMNS "WHERE ?1 IS NULL AND" REPORT_WHERE " ORDER BY t.at DESC, t.id DESC LIMIT ?12";

static int64_t single_int(sq_conn *c, const char *sql, const char *device, int64_t arg, int *found)
{
    sqlite3_stmt *st = sq_stmt(c, sql);
    *found = -1;
    if (st == NULL)
        return 0;
    sq_text(st, 1, device);
    if (arg != INT64_MIN)
        sq_int(st, 2, arg);
    int rc = sqlite3_step(st);
    int64_t v = 0;
    if (rc == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        *found = 1;
    } else if (rc == SQLITE_DONE) {
        *found = 0;
    } else {
        sq_fail(c, "report_insert");
    }
    sq_done(c, st);
    return v;
}

/* Whether r's sequence numbers were received before: ST_OK new, ST_CONFLICT, ST_ERROR. */
static int seen_before(sq_conn *c, const st_report *r)
{
    int found;
    int64_t floor = single_int(c, SQL_FLOOR, r->device_id, INT64_MIN, &found);
    if (found < 0)
        return ST_ERROR;
    if (found && r->seq_first <= floor)
        return ST_CONFLICT;
    int64_t last = single_int(c, SQL_OVERLAP, r->device_id, r->seq_last, &found);
    if (found < 0)
        return ST_ERROR;
    return found && last >= r->seq_first ? ST_CONFLICT : ST_OK;
}

static int insert_row(sq_conn *c, st_report *r)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_REPORT_INSERT);
    if (st == NULL)
        return ST_ERROR;
    uint8_t lat[ST_LAT_BINS * 4];
    for (int i = 0; i < ST_LAT_BINS; i++)
        for (int b = 0; b < 4; b++)
            lat[4 * i + b] = (uint8_t)(r->latency[i] >> (8 * b));
    int i = 1;
    sq_text(st, i++, r->device_id);
    sq_int(st, i++, r->seq_first);
    sq_int(st, i++, r->seq_last);
    sq_int(st, i++, r->at);
    sq_int(st, i++, r->received_at);
    sq_int(st, i++, r->bundle_id);
    sq_text(st, i++, r->model);
    sq_text(st, i++, r->version);
    sq_text(st, i++, r->digest);
    sq_int(st, i++, r->windows);
    sq_int(st, i++, r->inferences);
    sq_int(st, i++, r->errors);
    sq_int(st, i++, r->out_inf);
    sq_int(st, i++, r->events);
    sq_int(st, i++, r->dropped);
    sq_int(st, i++, r->lost_inferences);
    sqlite3_bind_double(st, i++, r->drift);
    sqlite3_bind_double(st, i++, r->acc_est);
    sq_int(st, i++, r->p95_us);
    sqlite3_bind_blob(st, i++, lat, sizeof lat, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, i++, r->data != NULL ? (const void *)r->data : (const void *)"",
                      (int)r->data_len, SQLITE_TRANSIENT);
    int rc = sq_run(c, st, "report_insert");
    if (rc == ST_OK)
        r->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static int count_row(sq_conn *c, const st_report *r)
{
    sqlite3_stmt *st = sq_stmt(c, SQL_COUNT);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, r->device_id);
    sq_int(st, 2, r->at);
    sq_int(st, 3, r->received_at);
    sq_int(st, 4, r->dropped);
    sq_int(st, 5, r->lost_inferences);
    sq_int(st, 6, r->inferences);
    return sq_run(c, st, "report_insert");
}

static int savepoint(sq_conn *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? ST_OK : sq_fail(c, sql);
}

int sqlite_report_insert(store *s, st_report *r, int rollup)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL || savepoint(c, "SAVEPOINT report_insert") != ST_OK)
        return ST_ERROR;
    int rc = rollup ? ST_OK : seen_before(c, r);
    if (rc == ST_CONFLICT) {
        sqlite3_stmt *st = sq_stmt(c, SQL_DUPLICATE);
        int counted =
            st != NULL ? (sq_text(st, 1, r->device_id), sq_run(c, st, "report_insert")) : ST_ERROR;
        if (counted != ST_OK)
            rc = ST_ERROR;
    } else if (rc == ST_OK) {
        rc = insert_row(c, r);
        if (rc == ST_OK && !rollup)
            rc = count_row(c, r);
    }
    if (rc == ST_ERROR) {
        savepoint(c, "ROLLBACK TO report_insert");
        savepoint(c, "RELEASE report_insert");
        return ST_ERROR;
    }
    return savepoint(c, "RELEASE report_insert") == ST_OK ? rc : ST_ERROR;
}

static void report_row(sqlite3_stmt *st, st_report *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, r->device_id, sizeof r->device_id);
    r->seq_first = sqlite3_column_int64(st, 2);
    r->seq_last = sqlite3_column_int64(st, 3);
    r->at = sqlite3_column_int64(st, 4);
    r->received_at = sqlite3_column_int64(st, 5);
    r->bundle_id = sqlite3_column_int64(st, 6);
    sq_col_copy(st, 7, r->model, sizeof r->model);
    sq_col_copy(st, 8, r->version, sizeof r->version);
    sq_col_copy(st, 9, r->digest, sizeof r->digest);
    r->windows = sqlite3_column_int64(st, 10);
    r->inferences = sqlite3_column_int64(st, 11);
    r->errors = sqlite3_column_int64(st, 12);
    r->out_inf = sqlite3_column_int64(st, 13);
    r->events = sqlite3_column_int64(st, 14);
    r->dropped = sqlite3_column_int64(st, 15);
    r->lost_inferences = sqlite3_column_int64(st, 16);
    r->drift = sqlite3_column_double(st, 17);
    r->acc_est = sqlite3_column_double(st, 18);
    r->p95_us = sqlite3_column_int64(st, 19);
    const uint8_t *lat = sqlite3_column_blob(st, 20);
    if (lat != NULL && sqlite3_column_bytes(st, 20) == ST_LAT_BINS * 4)
        for (int i = 0; i < ST_LAT_BINS; i++)
            r->latency[i] = (uint32_t)lat[4 * i] | (uint32_t)lat[4 * i + 1] << 8 |
                            (uint32_t)lat[4 * i + 2] << 16 | (uint32_t)lat[4 * i + 3] << 24;
    r->data = sqlite3_column_blob(st, 21);
    r->data_len = r->data != NULL ? (size_t)sqlite3_column_bytes(st, 21) : 0;
    sq_col_copy(st, 22, r->group, sizeof r->group);
    r->wave = sqlite3_column_int64(st, 23);
}

int sqlite_report_scan(store *s, const st_report_filter *f, st_report_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    const char *sql = f->device != NULL
                          ? (f->newest_first ? SQL_SCAN_DEVICE_NEWEST : SQL_SCAN_DEVICE)
                      : f->by_device    ? SQL_SCAN_BY_DEVICE
                      : f->newest_first ? SQL_SCAN_ALL_NEWEST
                                        : SQL_SCAN_ALL;
    sqlite3_stmt *st = sq_stmt(c, sql);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, f->device);
    sq_text(st, 2, f->group);
    sq_int(st, 3, f->deployment);
    sq_text(st, 4, f->model);
    sq_text(st, 5, f->version);
    sq_text(st, 6, f->digest);
    sq_int(st, 7, f->bundle_id);
    sq_int(st, 8, f->since);
    sq_int(st, 9, f->until);
    sq_int(st, 10, f->max_windows);
    sq_int(st, 11, f->with_data ? 1 : 0);
    sq_int(st, 12, f->limit > 0 ? f->limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_report r;
        report_row(st, &r);
        if (cb(ctx, &r) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "report_scan");
    sq_done(c, st);
    return out;
}

int sqlite_report_delete(store *s, int64_t id)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_REPORT_DELETE);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, id);
    int rc = sq_run(c, st, "report_delete");
    if (rc == ST_OK && sqlite3_changes(c->db) == 0)
        rc = ST_NOT_FOUND;
    return rc;
}

int sqlite_report_prune(store *s, int64_t before, int64_t *removed)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_PRUNE_FLOOR);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, before);
    int rc = sq_run(c, st, "report_prune");
    if (rc != ST_OK)
        return rc;
    st = sq_stmt(c, SQL_PRUNE);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, before);
    rc = sq_run(c, st, "report_prune");
    if (rc == ST_OK && removed != NULL)
        *removed = sqlite3_changes(c->db);
    return rc;
}

int sqlite_tdevice_get(store *s, const char *device, st_tdevice *out)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_TDEVICE);
    if (st == NULL)
        return ST_ERROR;
    sq_text(st, 1, device);
    int rc = sqlite3_step(st), out_rc = ST_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        sq_col_copy(st, 0, out->device_id, sizeof out->device_id);
        out->seq_floor = sqlite3_column_int64(st, 1);
        out->last_at = sqlite3_column_int64(st, 2);
        out->last_received = sqlite3_column_int64(st, 3);
        out->reports = sqlite3_column_int64(st, 4);
        out->duplicates = sqlite3_column_int64(st, 5);
        out->dropped = sqlite3_column_int64(st, 6);
        out->lost_inferences = sqlite3_column_int64(st, 7);
        out->inferences = sqlite3_column_int64(st, 8);
        out_rc = ST_OK;
    } else if (rc != SQLITE_DONE) {
        out_rc = sq_fail(c, "tdevice_get");
    }
    sq_done(c, st);
    return out_rc;
}

int sqlite_devices_silent(store *s, int64_t before, st_id_cb cb, void *ctx)
{
    sq_conn *c = sq_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    sqlite3_stmt *st = sq_stmt(c, SQL_SILENT);
    if (st == NULL)
        return ST_ERROR;
    sq_int(st, 1, before);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char id[ST_DEVICE_ID_LEN + 1];
        sq_col_copy(st, 0, id, sizeof id);
        if (cb(ctx, id, sqlite3_column_int64(st, 1)) != 0)
            break;
    }
    int out = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_fail(c, "devices_silent");
    sq_done(c, st);
    return out;
}
