/*
 * The server's storage layer: one ops table of domain operations (devices,
 * tokens, nonces, bundles, deployments, assignments) that every backend
 * implements. Handlers and the deployment controller call these and never
 * see SQL, so a PostgreSQL backend is one more ops table (store_open()
 * picks it by the URL scheme) and tests/server/test_store.c is the
 * conformance suite every backend must pass.
 *
 * Rules every backend follows:
 *  - All state lives in the database: the server process keeps none, so
 *    several replicas can serve one database.
 *  - Calls are thread-safe; each thread gets its own connection.
 *  - Outside begin()/commit() every call is atomic on its own. Multi-step
 *    writes run inside begin(s, ST_TX_WRITE) ... commit(s): SQLite runs write
 *    transactions one at a time (BEGIN IMMEDIATE); PostgreSQL locks the rows
 *    a write transaction reads (SELECT ... FOR UPDATE) and lets transactions
 *    on other rows run in parallel, so checks made inside one stay true
 *    until commit. Transactions do not nest.
 *  - Times are Unix milliseconds (int64). Strings are NUL-terminated UTF-8;
 *    fixed-size fields are filled by the backend and always terminated.
 *  - Return values: ST_OK, ST_NOT_FOUND, ST_CONFLICT (unique key taken),
 *    or ST_ERROR with a message from store_error().
 */
#ifndef TMO_STORE_H
#define TMO_STORE_H

#include <stddef.h>
#include <stdint.h>

enum { ST_OK = 0, ST_NOT_FOUND = 1, ST_CONFLICT = 2, ST_ERROR = -1 };
/*
 * Transaction kinds. ST_TX_WRITE: the rows a transaction reads to decide
 * (single-row reads of the store's ops) are locked until it ends, so writes
 * of different devices run in parallel where the backend can (PostgreSQL).
 * ST_TX_EXCLUSIVE: also one at a time with every other exclusive transaction
 * of every replica, for the rare operations whose invariant spans tables
 * (creating a deployment, the fleet's session secret).
 */
enum { ST_TX_READ = 0, ST_TX_WRITE = 1, ST_TX_EXCLUSIVE = 2 };

#define ST_DEVICE_ID_LEN 32   /* hex chars (docs/protocol.md P-6) */
#define ST_PUBKEY_LEN 65      /* uncompressed P-256 */
#define ST_HASH_HEX_LEN 64    /* SHA-256 hex of a token */
#define ST_DIGEST_LEN 71      /* "sha256:" + 64 hex */
#define ST_NAME_LEN 64        /* model names [B-4.4], groups, tags, token names */
#define ST_VERSION_LEN 23     /* "65535.65535.65535" */
#define ST_STATE_LEN 15       /* "installed-trial" */
#define ST_TAGS_JSON_LEN 1200 /* JSON array of up to 16 tags of up to 64 chars */
#define ST_REASON_LEN 511
/*
 * Per-device counter sums saturate here (2^62): callers bound each added
 * value well below it (srv.h), so the sum itself never overflows a BIGINT.
 */
#define ST_COUNTER_MAX_SQL "4611686018427387904"

typedef struct store store;

/* An admin API token (docs/protocol.md P-20). Only the hash of the secret is stored. */
typedef struct st_token {
    int64_t id;
    char hash[ST_HASH_HEX_LEN + 1];
    char role[16]; /* "admin" | "operator" | "viewer" */
    char name[ST_NAME_LEN + 1];
    int64_t created_at;
    int revoked;
} st_token;

/* A device enrollment token (P-7). */
typedef struct st_enroll_token {
    int64_t id;
    char hash[ST_HASH_HEX_LEN + 1];
    int64_t expires_at;
    int64_t uses_left;
    char group[ST_NAME_LEN + 1];
    char tags_json[ST_TAGS_JSON_LEN + 1];
    int64_t created_at;
    int64_t revoked_at; /* 0: not revoked */
} st_enroll_token;

/* A device. profile_json and status_json are heap strings owned by the struct (st_device_free). */
typedef struct st_device {
    char id[ST_DEVICE_ID_LEN + 1];
    uint8_t public_key[ST_PUBKEY_LEN];
    char group[ST_NAME_LEN + 1];
    char tags_json[ST_TAGS_JSON_LEN + 1]; /* sorted JSON array of strings */
    int64_t enroll_token_id;
    int64_t enrolled_at;
    int64_t last_seen;                     /* 0: never checked in */
    char *profile_json;                    /* capability profile (P-9) */
    char *status_json;                     /* last check-in without reports (P-13), NULL before */
    char active_digest[ST_DIGEST_LEN + 1]; /* bundle digest of the active slot, "" unknown */
    int64_t nv_counter;
    int64_t revoked_at; /* 0: not revoked (filled by reads, ignored by device_insert) */
    char revoked_reason[ST_REASON_LEN + 1];
} st_device;

typedef struct st_device_filter {
    const char *group;        /* NULL: any */
    const char *tags_json;    /* JSON array: device has all of them; NULL: any */
    const char *exclude_json; /* JSON array: device has none of them; NULL: none excluded */
    int64_t limit;            /* 0: no limit */
    int64_t offset;
    int exclude_revoked; /* 1: only devices that are not revoked */
} st_device_filter;

/* A device's session (docs/protocol.md P-30..P-35). */
#define ST_SESSION_ID_LEN 32
#define ST_SESSION_KEY_LEN 32
typedef struct st_session {
    char id[ST_SESSION_ID_LEN + 1]; /* "" when the device has none */
    uint8_t key[ST_SESSION_KEY_LEN];
    int64_t expires_at;
    int64_t counter;    /* highest request counter accepted */
    int64_t revoked_at; /* the device's (filled by session_get) */
} st_session;

/* What a device reported at check-in, applied by device_checkin. */
typedef struct st_checkin {
    int64_t now;
    const char *status_json;   /* required */
    const char *active_digest; /* "" unknown */
    int64_t nv_counter;
    const char *profile_json; /* NULL: unchanged */
} st_checkin;

/* A bundle's metadata (the bytes are stored beside it). ops_json is heap-owned (st_bundle_free). */
typedef struct st_bundle {
    int64_t id;
    char digest[ST_DIGEST_LEN + 1]; /* SHA-256 of the whole bundle file; the ETag */
    char model[ST_NAME_LEN + 1];
    char version[ST_VERSION_LEN + 1];
    int64_t counter;
    char arches_json[512]; /* [] = any architecture */
    char min_runtime[ST_VERSION_LEN + 1];
    int64_t arena_bytes;
    int64_t flash_bytes;
    char *ops_json; /* JSON array of operator names */
    int64_t size;
    int encrypted;
    char signer_id[33];
    int64_t created_at, expires_at; /* from the manifest; expires_at 0 = never */
    int64_t uploaded_at;
    int64_t rank; /* operator-set preference among variants, higher first */
} st_bundle;

typedef struct st_deployment {
    int64_t id;
    char kind[16];       /* "rollout" | "rollback" */
    int64_t rollback_of; /* deployment this one reverts, 0 none */
    char model[ST_NAME_LEN + 1];
    char version[ST_VERSION_LEN + 1];
    char target_json[1024];
    char waves_json[256]; /* cumulative percentages, e.g. [1,10,50,100] */
    int64_t soak_ms;
    int64_t max_failures;
    char state[16]; /* active | paused | halted | completed | aborted | rolled-back */
    char reason[ST_REASON_LEN + 1];
    int64_t current_wave; /* highest open wave */
    int64_t wave_done_at; /* when every device of the open waves became terminal; 0 not yet */
    int64_t created_at, updated_at;
    char created_by[ST_NAME_LEN + 1];
} st_deployment;

/* One device in one deployment (docs/protocol.md P-15). */
typedef struct st_assignment {
    int64_t deployment_id;
    char device_id[ST_DEVICE_ID_LEN + 1];
    int64_t wave;           /* -1: not in any wave (skipped) */
    int64_t bundle_id;      /* 0: none (skipped) */
    int64_t prev_bundle_id; /* what the device ran at creation, 0 unknown */
    char state[ST_STATE_LEN + 1];
    char reason[ST_REASON_LEN + 1];
    int64_t updated_at;
    /* filled by reads, ignored by writes: the deployment's state and open wave */
    char dep_state[16];
    int64_t dep_current_wave;
} st_assignment;

typedef struct st_assignment_filter {
    const char *state; /* NULL: any */
    int64_t limit;     /* 0: no limit */
    int64_t offset;
} st_assignment_filter;

/* ---- telemetry, alerts, settings, health gates, device encryption keys (migration 0002) ---- */

#define ST_DIGEST8_LEN 16 /* hex of a report's 8-byte model digest prefix */
#define ST_LAT_BINS 32    /* = TMO_REPORT_LATENCY_BINS */

/*
 * One stored monitoring report (docs/monitoring.md section 4): a device's
 * window as uploaded, or a roll-up of several windows of one device and
 * model (windows > 1, seq_first..seq_last). The scalar columns are copies of
 * the report's own fields, kept so that queries and alert rules need not
 * decode the bytes.
 */
typedef struct st_report {
    int64_t id;
    char device_id[ST_DEVICE_ID_LEN + 1];
    int64_t seq_first, seq_last;
    int64_t at;          /* window end, server time (Unix ms) */
    int64_t received_at; /* when the server stored it (last roll-up for merged rows) */
    int64_t bundle_id;   /* registry bundle the device ran, 0 unknown */
    char model[ST_NAME_LEN + 1];
    char version[ST_VERSION_LEN + 1];
    char digest[ST_DIGEST8_LEN + 1]; /* model digest prefix (hex), from the report */
    int64_t windows, inferences, errors, out_inf, events;
    int64_t dropped; /* reports lost on the device before this one (monitor + agent buffer) */
    int64_t lost_inferences; /* inferences in the reports the agent's buffer dropped */
    double drift;            /* max(psi_in_max, psi_out, psi_conf) */
    double acc_est;          /* -1 when none */
    int64_t p95_us;          /* upper bound of the p95 latency bucket */
    uint32_t latency[ST_LAT_BINS];
    const uint8_t *data; /* the report bytes: the caller's on insert, valid during a callback */
    size_t data_len;
    /* filled by scans, ignored by insert */
    char group[ST_NAME_LEN + 1];
    int64_t wave; /* with a deployment filter: the device's wave there (-1 none) */
} st_report;

typedef struct st_report_filter {
    const char *device;   /* NULL: any */
    const char *group;    /* devices now in this group; NULL: any */
    int64_t deployment;   /* devices assigned to this deployment (fills wave); 0: any */
    const char *model;    /* NULL: any */
    const char *version;  /* NULL: any */
    const char *digest;   /* model digest prefix; NULL: any */
    int64_t bundle_id;    /* 0: any */
    int64_t since, until; /* at in [since, until); until 0: no upper bound */
    int64_t max_windows;  /* rows with windows <= this; 0: any */
    int with_data;        /* also read the report bytes */
    int newest_first;     /* order by seq descending (one device) or at descending */
    int by_device;        /* order by (device, seq) instead of at (roll-ups); not with a device */
    int64_t limit;        /* 0: no limit */
} st_report_filter;

/* Per-device telemetry bookkeeping. */
typedef struct st_tdevice {
    char device_id[ST_DEVICE_ID_LEN + 1];
    int64_t seq_floor; /* every sequence number <= floor was received (rows may be pruned) */
    int64_t last_at;   /* newest report's at */
    int64_t last_received;
    int64_t reports, duplicates, dropped, lost_inferences, inferences;
} st_tdevice;

/* An alert (open -> acknowledged -> resolved; open -> resolved). */
typedef struct st_alert {
    int64_t id;
    char kind[16]; /* drift | accuracy | latency | errors | silent */
    char device_id[ST_DEVICE_ID_LEN + 1];
    char digest[ST_DIGEST8_LEN + 1]; /* model the condition is about; "" for silent */
    char model[ST_NAME_LEN + 1];
    char version[ST_VERSION_LEN + 1];
    char state[16]; /* open | acknowledged | resolved */
    char message[ST_REASON_LEN + 1];
    double value, threshold;
    int64_t opened_at, updated_at, acked_at, resolved_at;
    char acked_by[ST_NAME_LEN + 1], resolved_by[ST_NAME_LEN + 1];
} st_alert;

typedef struct st_alert_filter {
    const char
        *state; /* "open" | "acknowledged" | "resolved" | "active" (not resolved); NULL any */
    const char *device; /* NULL: any */
    const char *group;  /* devices now in this group; NULL: any */
    const char *kind;   /* NULL: any */
    int64_t since;      /* updated_at >= since */
    int64_t limit, offset;
} st_alert_filter;

typedef int (*st_report_cb)(void *ctx, const st_report *r);
typedef int (*st_alert_cb)(void *ctx, const st_alert *a);
typedef int (*st_id_cb)(void *ctx, const char *device_id, int64_t last_activity);

/* Callbacks of the list operations; return non-zero to stop early. Records are valid during the call. */
typedef int (*st_token_cb)(void *ctx, const st_token *t);
typedef int (*st_enroll_cb)(void *ctx, const st_enroll_token *e);
typedef int (*st_device_cb)(void *ctx, const st_device *d);
typedef int (*st_bundle_cb)(void *ctx, const st_bundle *b);
typedef int (*st_deployment_cb)(void *ctx, const st_deployment *d);
typedef int (*st_assignment_cb)(void *ctx, const st_assignment *a);
typedef int (*st_count_cb)(void *ctx, int64_t wave, const char *state, int64_t count);

typedef struct store_ops {
    const char *scheme; /* URL scheme, e.g. "sqlite" */
    int (*open)(store *s, const char *location);
    void (*close)(store *s);
    /* Applies pending schema migrations in order (each in one transaction); reports the version. */
    int (*migrate)(store *s, int64_t *version);
    int (*schema_version)(store *s, int64_t *version);

    int (*begin)(store *s, int kind);
    int (*commit)(store *s);
    void (*rollback)(store *s);

    int (*token_insert)(store *s, st_token *t); /* sets t->id */
    int (*token_find)(store *s, const char *hash, st_token *out);
    int (*token_list)(store *s, st_token_cb cb, void *ctx);
    int (*token_revoke)(store *s, int64_t id);

    int (*enroll_insert)(store *s, st_enroll_token *e); /* sets e->id */
    int (*enroll_find)(store *s, const char *hash, st_enroll_token *out);
    int (*enroll_use)(store *s, int64_t id); /* uses_left - 1; ST_CONFLICT when already 0 */
    int (*enroll_list)(store *s, st_enroll_cb cb, void *ctx); /* by id */
    /* Sets revoked_at (first revocation wins); ST_NOT_FOUND when no such token. */
    int (*enroll_revoke)(store *s, int64_t id, int64_t now);

    int (*device_insert)(store *s, const st_device *d); /* ST_CONFLICT when the id exists */
    int (*device_get)(store *s, const char *id, st_device *out);
    /* The signing key and revocation time (0 = not revoked) request authentication needs. */
    int (*device_pubkey)(store *s, const char *id, uint8_t pub[ST_PUBKEY_LEN], int64_t *revoked_at);
    /*
     * Sets revoked_at and the reason (first revocation wins) and ends the device's session;
     * ST_NOT_FOUND when no such device.
     */
    int (*device_revoke)(store *s, const char *id, int64_t now, const char *reason);
    /* ---- device sessions (migration 0004) ---- */
    /* Replaces the device's session with s->id, key, expires_at (counter starts at 0). */
    int (*session_set)(store *s, const char *device, const st_session *ss);
    /* The device's session (id "" when none) and revocation; ST_NOT_FOUND: no such device. */
    int (*session_get)(store *s, const char *device, st_session *out);
    /*
     * Accepts request counter `counter` of session `session` when it is above every counter
     * accepted before and the session is unexpired at now; ST_CONFLICT otherwise (a replay, a
     * stale or ended session).
     */
    int (*session_use)(store *s, const char *device, const char *session, int64_t counter,
                       int64_t now);
    int (*device_list)(store *s, const st_device_filter *f, st_device_cb cb, void *ctx);
    int (*device_count)(store *s, const st_device_filter *f, int64_t *count);
    int (*device_set_group)(store *s, const char *id, const char *group);
    int (*device_set_tags)(store *s, const char *id, const char *tags_json);
    int (*device_checkin)(store *s, const char *id, const st_checkin *c);

    /* Records (device, nonce) until expires_at; ST_CONFLICT when it is recorded and unexpired at now. */
    int (*nonce_record)(store *s, const char *device, const char *nonce, int64_t now,
                        int64_t expires_at);
    int (*nonce_seen)(store *s, const char *device, const char *nonce,
                      int64_t now); /* ST_OK seen, ST_NOT_FOUND not */
    int (*nonce_prune)(store *s, int64_t now, int64_t *removed);

    /* Stores metadata and bytes; ST_CONFLICT with b->id = the existing bundle when the digest exists. */
    int (*bundle_insert)(store *s, st_bundle *b, const uint8_t *data, size_t len);
    int (*bundle_get)(store *s, int64_t id, st_bundle *out);
    int (*bundle_by_digest)(store *s, const char *digest, st_bundle *out);
    /* Bundles of a model (NULL: all) and version (NULL: all), by id. */
    int (*bundle_list)(store *s, const char *model, const char *version, st_bundle_cb cb,
                       void *ctx);
    /* Reads len bytes at offset; ST_NOT_FOUND when the bundle is missing or the range exceeds it. */
    int (*bundle_read)(store *s, int64_t id, uint64_t offset, size_t len, uint8_t *buf);
    int (*bundle_set_rank)(store *s, int64_t id, int64_t rank);

    int (*deployment_insert)(store *s, st_deployment *d); /* sets d->id */
    int (*deployment_get)(store *s, int64_t id, st_deployment *out);
    /* Deployments by id; state NULL = all. */
    int (*deployment_list)(store *s, const char *state, st_deployment_cb cb, void *ctx);
    /* Writes state, reason, current_wave, wave_done_at, max_failures, updated_at. */
    int (*deployment_update)(store *s, const st_deployment *d);

    /* Inserts n assignments, all or none (bulk: a deployment of 100,000 devices in one call);
       ST_CONFLICT when one exists. */
    int (*assignments_insert)(store *s, const st_assignment *a, size_t n);
    int (*assignment_get)(store *s, int64_t deployment, const char *device, st_assignment *out);
    /* Writes state, reason, updated_at. */
    int (*assignment_update)(store *s, const st_assignment *a);
    /* A device's assignments, newest deployment first, at most limit (0 = all). */
    int (*assignments_of_device)(store *s, const char *device, int64_t limit, st_assignment_cb cb,
                                 void *ctx);
    /* A deployment's assignments ordered by (wave, device id). */
    int (*assignments_of_deployment)(store *s, int64_t deployment, const st_assignment_filter *f,
                                     st_assignment_cb cb, void *ctx);
    /* Number of assignments per (wave, state). */
    int (*assignment_counts)(store *s, int64_t deployment, st_count_cb cb, void *ctx);
    /* Every `pending` assignment of a deployment becomes `cancelled` with reason. */
    int (*assignment_cancel_pending)(store *s, int64_t deployment, const char *reason, int64_t now,
                                     int64_t *changed);
    /* ---- telemetry (migration 0002) ---- */
    /*
     * Stores a report. Unless rollup, it is a duplicate (ST_CONFLICT, counted
     * in the device's duplicates) when its sequence range overlaps a stored
     * row of the device or lies at or below the device's seq_floor; otherwise
     * the device's counters advance. A rollup row replaces rows the caller
     * deleted in the same transaction and touches no counter. Sets r->id.
     */
    int (*report_insert)(store *s, st_report *r, int rollup);
    int (*report_scan)(store *s, const st_report_filter *f, st_report_cb cb, void *ctx);
    int (*report_delete)(store *s, int64_t id);
    /* Deletes rows with at < before, raising each device's seq_floor over them. */
    int (*report_prune)(store *s, int64_t before, int64_t *removed);
    int (*tdevice_get)(store *s, const char *device, st_tdevice *out);
    /*
     * Devices seen at least once whose last activity (check-in or report) is
     * before `before`, with that time.
     */
    int (*devices_silent)(store *s, int64_t before, st_id_cb cb, void *ctx);

    /* ---- alerts ---- */
    /* ST_CONFLICT when an unresolved alert of the same device, kind and digest exists. */
    int (*alert_insert)(store *s, st_alert *a);
    int (*alert_get)(store *s, int64_t id, st_alert *out);
    /* The unresolved alert of (device, kind, digest); ST_NOT_FOUND when none. */
    int (*alert_active)(store *s, const char *device, const char *kind, const char *digest,
                        st_alert *out);
    /* Writes state, message, value, threshold, updated_at, acked_*, resolved_*. */
    int (*alert_update)(store *s, const st_alert *a);
    /* Newest first. */
    int (*alert_list)(store *s, const st_alert_filter *f, st_alert_cb cb, void *ctx);
    int (*alert_count)(store *s, const st_alert_filter *f, int64_t *count);

    /* ---- settings (small JSON documents by key) ---- */
    int (*setting_get)(store *s, const char *key, char **value); /* heap; ST_NOT_FOUND */
    int (*setting_set)(store *s, const char *key, const char *value, int64_t now);

    /* ---- deployment health gates ---- */
    int (*gate_set)(store *s, int64_t deployment, const char *policy_json);
    /* Heap strings (either may be NULL out); ST_NOT_FOUND when the deployment has no gate. */
    int (*gate_get)(store *s, int64_t deployment, char **policy_json, char **result_json);
    int (*gate_result)(store *s, int64_t deployment, const char *result_json, int64_t now);

    /* ---- leases (migration 0005): one replica at a time does a named piece of work ---- */
    /*
     * Takes or renews lease `name` for `holder` until now + ttl_ms: ST_OK when holder has it
     * (it was free, expired or already holder's), ST_CONFLICT when another holder's is live.
     */
    int (*lease_acquire)(store *s, const char *name, const char *holder, int64_t now,
                         int64_t ttl_ms);

    /* ---- device encryption keys (ECDH recipients of bundle key wraps) ---- */
    int (*device_enc_key_set)(store *s, const char *device, const uint8_t pub[ST_PUBKEY_LEN],
                              int64_t now);
    int (*device_enc_key_get)(store *s, const char *device, uint8_t pub[ST_PUBKEY_LEN]);
} store_ops;

struct store {
    const store_ops *ops;
    void *impl; /* the backend's own state */
};

/* Calls an operation: ST(s, device_get, id, &dev); ST0 for operations without arguments. */
#define ST(s, op, ...) ((s)->ops->op((s), __VA_ARGS__))
#define ST0(s, op) ((s)->ops->op(s))

/*
 * Opens a store by URL ("sqlite:/path/to/db"), without migrating. Returns
 * NULL with a message in err when the scheme is unknown or it cannot open.
 */
store *store_open(const char *url, char *err, size_t err_len);
void store_close(store *s);

/* The last error message of the calling thread (never NULL). */
const char *store_error(void);

/* Sets the calling thread's error message; returns ST_ERROR. Backends use it. */
int store_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void st_device_free(st_device *d);
void st_bundle_free(st_bundle *b);

/* Copies src into a fixed field of size cap (cap includes the NUL), truncating. */
void st_copy(char *dst, size_t cap, const char *src);

#endif
