/*
 * PostgreSQL store: monitoring reports (one row per uploaded window or per
 * roll-up), deduplicated by (device, sequence range), and the per-device
 * bookkeeping that keeps dedup exact after old rows are pruned. An insert
 * takes a transaction-scoped advisory lock on its device (and the row lock
 * of the device's bookkeeping row) before it checks, so two uploads of one
 * device are checked and stored one after the other.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_priv.h"

int postgres_report_insert(store *s, st_report *r, int rollup);
int postgres_report_scan(store *s, const st_report_filter *f, st_report_cb cb, void *ctx);
int postgres_report_delete(store *s, int64_t id);
int postgres_report_prune(store *s, int64_t before, int64_t *removed);
int postgres_tdevice_get(store *s, const char *device, st_tdevice *out);
int postgres_devices_silent(store *s, int64_t before, st_id_cb cb, void *ctx);

/* Two-key form: its key space is apart from the write lock's (pg_conn.c). */
static const char SQL_DEVICE_LOCK[] = "SELECT pg_advisory_xact_lock(1953328499, hashtext($1))";
static const char SQL_FLOOR_LOCK[] =
    "SELECT seq_floor FROM telemetry_devices WHERE device_id = $1 FOR UPDATE";
/* Rows of a device never overlap, so the row starting last at or before our end decides. */
static const char SQL_OVERLAP[] =
    "SELECT seq_last FROM telemetry WHERE device_id = $1 AND seq_first <= $2 "
    "ORDER BY seq_first DESC LIMIT 1";
static const char SQL_DUPLICATE[] =
    "INSERT INTO telemetry_devices (device_id, duplicates) VALUES ($1, 1) "
    "ON CONFLICT (device_id) DO UPDATE SET duplicates = telemetry_devices.duplicates + 1";
static const char SQL_REPORT_INSERT[] =
    "INSERT INTO telemetry (device_id, seq_first, seq_last, at, received_at, bundle_id, model, "
    "version, digest, windows, inferences, errors, out_inf, events, dropped, lost_inferences, "
    "drift, acc_est, p95_us, latency, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id";
static const char SQL_COUNT[] =
    "INSERT INTO telemetry_devices (device_id, last_at, last_received, reports, dropped, "
    "lost_inferences, inferences) VALUES ($1, $2, $3, 1, $4, $5, $6) "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "last_at = greatest(telemetry_devices.last_at, EXCLUDED.last_at), "
    "last_received = greatest(telemetry_devices.last_received, EXCLUDED.last_received), "
    "reports = telemetry_devices.reports + 1, "
    "dropped = LEAST(telemetry_devices.dropped + EXCLUDED.dropped, " ST_COUNTER_MAX_SQL "), "
    "lost_inferences = LEAST(telemetry_devices.lost_inferences + "
    "EXCLUDED.lost_inferences, " ST_COUNTER_MAX_SQL "), "
    "inferences = LEAST(telemetry_devices.inferences + EXCLUDED.inferences, " ST_COUNTER_MAX_SQL
    ")";
static const char SQL_REPORT_DELETE[] = "DELETE FROM telemetry WHERE id = $1";
static const char SQL_PRUNE_FLOOR[] =
    "INSERT INTO telemetry_devices (device_id, seq_floor) "
    "SELECT device_id, max(seq_last) FROM telemetry WHERE at < $1 GROUP BY device_id "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "seq_floor = greatest(telemetry_devices.seq_floor, EXCLUDED.seq_floor)";
static const char SQL_PRUNE[] = "DELETE FROM telemetry WHERE at < $1";
static const char SQL_TDEVICE[] =
    "SELECT device_id, seq_floor, last_at, last_received, reports, duplicates, dropped, "
    "lost_inferences, inferences FROM telemetry_devices WHERE device_id = $1";
static const char SQL_TDEVICE_LOCK[] =
    "SELECT device_id, seq_floor, last_at, last_received, reports, duplicates, dropped, "
    "lost_inferences, inferences FROM telemetry_devices WHERE device_id = $1 FOR UPDATE";
static const char SQL_SILENT[] =
    "SELECT d.id, greatest(d.last_seen, coalesce(t.last_received, 0)) FROM devices d "
    "LEFT JOIN telemetry_devices t ON t.device_id = d.id "
    "WHERE d.last_seen > 0 AND greatest(d.last_seen, coalesce(t.last_received, 0)) < $1 "
    "ORDER BY d.id";

#define REPORT_COLUMNS                                                                             \
    "SELECT t.id, t.device_id, t.seq_first, t.seq_last, t.at, t.received_at, t.bundle_id, "        \
    "t.model, t.version, t.digest, t.windows, t.inferences, t.errors, t.out_inf, t.events, "       \
    "t.dropped, t.lost_inferences, t.drift, t.acc_est, t.p95_us, t.latency, "                      \
    "CASE WHEN $11 <> 0 THEN t.data END, coalesce(d.grp, ''), coalesce(a.wave, -1) "               \
    "FROM telemetry t LEFT JOIN devices d ON d.id = t.device_id "                                  \
    "LEFT JOIN assignments a ON a.deployment_id = $3 AND a.device_id = t.device_id "

/* $1 device, $2 group, $3 deployment, $4 model, $5 version, $6 digest, $7 bundle, $8 since,
   $9 until, $10 max windows, $11 with data, $12 limit. */
#define REPORT_WHERE                                                                               \
    " ($2::text IS NULL OR d.grp = $2) AND ($3 = 0 OR a.device_id IS NOT NULL)"                    \
    " AND ($4::text IS NULL OR t.model = $4) AND ($5::text IS NULL OR t.version = $5)"             \
    " AND ($6::text IS NULL OR t.digest = $6) AND ($7 = 0 OR t.bundle_id = $7)"                    \
    " AND t.at >= $8 AND ($9 = 0 OR t.at < $9) AND ($10 = 0 OR t.windows <= $10)"

static const char SQL_SCAN_DEVICE_NEWEST[] = REPORT_COLUMNS
    "WHERE t.device_id = $1 AND" REPORT_WHERE " ORDER BY t.seq_first DESC LIMIT nullif($12, 0)";
static const char SQL_SCAN_DEVICE[] = REPORT_COLUMNS "WHERE t.device_id = $1 AND" REPORT_WHERE
                                                     " ORDER BY t.at, t.id LIMIT nullif($12, 0)";
static const char SQL_SCAN_ALL[] = REPORT_COLUMNS "WHERE $1::text IS NULL AND" REPORT_WHERE
                                                  " ORDER BY t.at, t.id LIMIT nullif($12, 0)";
static const char SQL_SCAN_BY_DEVICE[] =
    REPORT_COLUMNS "WHERE $1::text IS NULL AND" REPORT_WHERE
                   " ORDER BY t.device_id, t.seq_first LIMIT nullif($12, 0)";
static const char SQL_SCAN_ALL_NEWEST[] = REPORT_COLUMNS
    "WHERE $1::text IS NULL AND" REPORT_WHERE " ORDER BY t.at DESC, t.id DESC LIMIT nullif($12, 0)";

/* One int column of the single row of sql with (device[, arg]): 1 found, 0 none, -1 error. */
static int single_int(pg_conn *c, const char *sql, const char *device, const int64_t *arg,
                      int64_t *v)
{
    pg_params p = {0};
    pp_text(&p, device);
    if (arg != NULL)
        pp_int(&p, *arg);
    PGresult *r;
    int rc = pg_one(c, sql, &p, "report_insert", &r);
    *v = rc == ST_OK ? pg_int(r, 0, 0) : 0;
    PQclear(r);
    return rc == ST_OK ? 1 : rc == ST_NOT_FOUND ? 0 : -1;
}

/* Whether r's sequence numbers were received before: ST_OK new, ST_CONFLICT, ST_ERROR. */
static int seen_before(pg_conn *c, const st_report *r)
{
    pg_params p = {0};
    pp_text(&p, r->device_id);
    int rc;
    PGresult *res = pg_query(c, SQL_DEVICE_LOCK, &p, "report_insert: device lock", &rc);
    if (res == NULL)
        return ST_ERROR;
    PQclear(res);
    int64_t floor = 0, last = 0;
    int found = single_int(c, SQL_FLOOR_LOCK, r->device_id, NULL, &floor);
    if (found < 0)
        return ST_ERROR;
    if (found && r->seq_first <= floor)
        return ST_CONFLICT;
    found = single_int(c, SQL_OVERLAP, r->device_id, &r->seq_last, &last);
    if (found < 0)
        return ST_ERROR;
    return found && last >= r->seq_first ? ST_CONFLICT : ST_OK;
}

static int insert_row(pg_conn *c, st_report *r)
{
    uint8_t lat[ST_LAT_BINS * 4];
    for (int i = 0; i < ST_LAT_BINS; i++)
        for (int b = 0; b < 4; b++)
            lat[4 * i + b] = (uint8_t)(r->latency[i] >> (8 * b));
    pg_params p = {0};
    pp_text(&p, r->device_id);
    pp_int(&p, r->seq_first);
    pp_int(&p, r->seq_last);
    pp_int(&p, r->at);
    pp_int(&p, r->received_at);
    pp_int(&p, r->bundle_id);
    pp_text(&p, r->model);
    pp_text(&p, r->version);
    pp_text(&p, r->digest);
    pp_int(&p, r->windows);
    pp_int(&p, r->inferences);
    pp_int(&p, r->errors);
    pp_int(&p, r->out_inf);
    pp_int(&p, r->events);
    pp_int(&p, r->dropped);
    pp_int(&p, r->lost_inferences);
    pp_double(&p, r->drift);
    pp_double(&p, r->acc_est);
    pp_int(&p, r->p95_us);
    pp_bytes(&p, lat, sizeof lat);
    pp_bytes(&p, r->data, r->data != NULL ? r->data_len : 0);
    int rc;
    PGresult *res = pg_write(c, SQL_REPORT_INSERT, &p, "report_insert", &rc);
    if (res != NULL)
        r->id = pg_int(res, 0, 0);
    PQclear(res);
    return rc;
}

static int count_row(pg_conn *c, const st_report *r)
{
    pg_params p = {0};
    pp_text(&p, r->device_id);
    pp_int(&p, r->at);
    pp_int(&p, r->received_at);
    pp_int(&p, r->dropped);
    pp_int(&p, r->lost_inferences);
    pp_int(&p, r->inferences);
    return pg_run(c, SQL_COUNT, &p, "report_insert", NULL);
}

int postgres_report_insert(store *s, st_report *r, int rollup)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || pg_sub_begin(c) != ST_OK)
        return ST_ERROR;
    int rc = rollup ? ST_OK : seen_before(c, r);
    if (rc == ST_CONFLICT) {
        pg_params p = {0};
        pp_text(&p, r->device_id);
        if (pg_run(c, SQL_DUPLICATE, &p, "report_insert", NULL) != ST_OK)
            rc = ST_ERROR;
    } else if (rc == ST_OK) {
        rc = insert_row(c, r);
        if (rc == ST_OK && !rollup)
            rc = count_row(c, r);
    }
    if (rc == ST_ERROR) {
        char saved[512];
        st_copy(saved, sizeof saved, store_error());
        pg_sub_end(c, 0);
        return store_fail("%s", saved);
    }
    /* a duplicate is refused but counted: keep the count */
    int ok = rc == ST_OK || (rc == ST_CONFLICT && !rollup);
    if (pg_sub_end(c, ok) != ST_OK)
        return ST_ERROR;
    return rc;
}

static void report_row(const PGresult *res, int i, st_report *r)
{
    memset(r, 0, sizeof *r);
    r->id = pg_int(res, i, 0);
    pg_copy(res, i, 1, r->device_id, sizeof r->device_id);
    r->seq_first = pg_int(res, i, 2);
    r->seq_last = pg_int(res, i, 3);
    r->at = pg_int(res, i, 4);
    r->received_at = pg_int(res, i, 5);
    r->bundle_id = pg_int(res, i, 6);
    pg_copy(res, i, 7, r->model, sizeof r->model);
    pg_copy(res, i, 8, r->version, sizeof r->version);
    pg_copy(res, i, 9, r->digest, sizeof r->digest);
    r->windows = pg_int(res, i, 10);
    r->inferences = pg_int(res, i, 11);
    r->errors = pg_int(res, i, 12);
    r->out_inf = pg_int(res, i, 13);
    r->events = pg_int(res, i, 14);
    r->dropped = pg_int(res, i, 15);
    r->lost_inferences = pg_int(res, i, 16);
    r->drift = pg_double(res, i, 17);
    r->acc_est = pg_double(res, i, 18);
    r->p95_us = pg_int(res, i, 19);
    size_t n = 0;
    const uint8_t *lat = pg_bytes(res, i, 20, &n);
    if (lat != NULL && n == ST_LAT_BINS * 4)
        for (int k = 0; k < ST_LAT_BINS; k++)
            r->latency[k] = (uint32_t)lat[4 * k] | (uint32_t)lat[4 * k + 1] << 8 |
                            (uint32_t)lat[4 * k + 2] << 16 | (uint32_t)lat[4 * k + 3] << 24;
    r->data = pg_bytes(res, i, 21, &r->data_len);
    pg_copy(res, i, 22, r->group, sizeof r->group);
    r->wave = pg_int(res, i, 23);
}

int postgres_report_scan(store *s, const st_report_filter *f, st_report_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    const char *sql = f->device != NULL
                          ? (f->newest_first ? SQL_SCAN_DEVICE_NEWEST : SQL_SCAN_DEVICE)
                      : f->by_device    ? SQL_SCAN_BY_DEVICE
                      : f->newest_first ? SQL_SCAN_ALL_NEWEST
                                        : SQL_SCAN_ALL;
    pg_params p = {0};
    pp_text(&p, f->device);
    pp_text(&p, f->group);
    pp_int(&p, f->deployment);
    pp_text(&p, f->model);
    pp_text(&p, f->version);
    pp_text(&p, f->digest);
    pp_int(&p, f->bundle_id);
    pp_int(&p, f->since);
    pp_int(&p, f->until);
    pp_int(&p, f->max_windows);
    pp_int(&p, f->with_data ? 1 : 0);
    pp_int(&p, f->limit > 0 ? f->limit : 0);
    int rc;
    PGresult *res = pg_query(c, sql, &p, "report_scan", &rc);
    if (res == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(res); i++) {
        st_report r;
        report_row(res, i, &r);
        if (cb(ctx, &r) != 0)
            break;
    }
    PQclear(res);
    return ST_OK;
}

int postgres_report_delete(store *s, int64_t id)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, id);
    int64_t n = 0;
    int rc = pg_run(c, SQL_REPORT_DELETE, &p, "report_delete", &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int postgres_report_prune(store *s, int64_t before, int64_t *removed)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL || pg_sub_begin(c) != ST_OK)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, before);
    int64_t n = 0;
    int rc = pg_run(c, SQL_PRUNE_FLOOR, &p, "report_prune", NULL);
    if (rc == ST_OK)
        rc = pg_run(c, SQL_PRUNE, &p, "report_prune", &n);
    if (rc != ST_OK) {
        char saved[512];
        st_copy(saved, sizeof saved, store_error());
        pg_sub_end(c, 0);
        return store_fail("%s", saved);
    }
    if (pg_sub_end(c, 1) != ST_OK)
        return ST_ERROR;
    if (removed != NULL)
        *removed = n;
    return ST_OK;
}

int postgres_tdevice_get(store *s, const char *device, st_tdevice *out)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_text(&p, device);
    PGresult *r;
    int rc = pg_one(c, PG_IN_WRITE_TX(c) ? SQL_TDEVICE_LOCK : SQL_TDEVICE, &p, "tdevice_get", &r);
    if (rc == ST_OK) {
        memset(out, 0, sizeof *out);
        pg_copy(r, 0, 0, out->device_id, sizeof out->device_id);
        out->seq_floor = pg_int(r, 0, 1);
        out->last_at = pg_int(r, 0, 2);
        out->last_received = pg_int(r, 0, 3);
        out->reports = pg_int(r, 0, 4);
        out->duplicates = pg_int(r, 0, 5);
        out->dropped = pg_int(r, 0, 6);
        out->lost_inferences = pg_int(r, 0, 7);
        out->inferences = pg_int(r, 0, 8);
    }
    PQclear(r);
    return rc;
}

int postgres_devices_silent(store *s, int64_t before, st_id_cb cb, void *ctx)
{
    pg_conn *c = pg_conn_get(s);
    if (c == NULL)
        return ST_ERROR;
    pg_params p = {0};
    pp_int(&p, before);
    int rc;
    PGresult *r = pg_query(c, SQL_SILENT, &p, "devices_silent", &rc);
    if (r == NULL)
        return ST_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        char id[ST_DEVICE_ID_LEN + 1];
        pg_copy(r, i, 0, id, sizeof id);
        if (cb(ctx, id, pg_int(r, i, 1)) != 0)
            break;
    }
    PQclear(r);
    return ST_OK;
}
