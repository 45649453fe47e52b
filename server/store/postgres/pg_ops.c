/*
 * The PostgreSQL backend's ops table: the one symbol the store front end
 * (store.c) knows about.
 */
#include "pg_priv.h"

#define DECLARE(ret, name, ...) ret postgres_##name(store *s, __VA_ARGS__);
DECLARE(int, open, const char *location)
void postgres_close(store *s);
DECLARE(int, migrate, int64_t *version)
DECLARE(int, schema_version, int64_t *version)
DECLARE(int, begin, int kind)
int postgres_commit(store *s);
void postgres_rollback(store *s);
DECLARE(int, token_insert, st_token *t)
DECLARE(int, token_find, const char *hash, st_token *out)
DECLARE(int, token_list, st_token_cb cb, void *ctx)
DECLARE(int, token_revoke, int64_t id)
DECLARE(int, enroll_insert, st_enroll_token *e)
DECLARE(int, enroll_find, const char *hash, st_enroll_token *out)
DECLARE(int, enroll_use, int64_t id)
DECLARE(int, enroll_list, st_enroll_cb cb, void *ctx)
DECLARE(int, enroll_revoke, int64_t id, int64_t now)
DECLARE(int, device_insert, const st_device *d)
DECLARE(int, device_get, const char *id, st_device *out)
DECLARE(int, device_pubkey, const char *id, uint8_t pub[ST_PUBKEY_LEN], int64_t *revoked_at)
DECLARE(int, device_revoke, const char *id, int64_t now, const char *reason)
DECLARE(int, session_set, const char *device, const st_session *ss)
DECLARE(int, session_get, const char *device, st_session *out)
DECLARE(int, session_use, const char *device, const char *session, int64_t counter, int64_t now)
DECLARE(int, device_list, const st_device_filter *f, st_device_cb cb, void *ctx)
DECLARE(int, device_count, const st_device_filter *f, int64_t *count)
DECLARE(int, device_set_group, const char *id, const char *group)
DECLARE(int, device_set_tags, const char *id, const char *tags_json)
DECLARE(int, device_checkin, const char *id, const st_checkin *c)
DECLARE(int, nonce_record, const char *device, const char *nonce, int64_t now, int64_t expires_at)
DECLARE(int, nonce_seen, const char *device, const char *nonce, int64_t now)
DECLARE(int, nonce_prune, int64_t now, int64_t *removed)
DECLARE(int, bundle_insert, st_bundle *b, const uint8_t *data, size_t len)
DECLARE(int, bundle_get, int64_t id, st_bundle *out)
DECLARE(int, bundle_by_digest, const char *digest, st_bundle *out)
DECLARE(int, bundle_list, const char *model, const char *version, st_bundle_cb cb, void *ctx)
DECLARE(int, bundle_read, int64_t id, uint64_t offset, size_t len, uint8_t *buf)
DECLARE(int, bundle_set_rank, int64_t id, int64_t rank)
DECLARE(int, deployment_insert, st_deployment *d)
DECLARE(int, deployment_get, int64_t id, st_deployment *out)
DECLARE(int, deployment_list, const char *state, st_deployment_cb cb, void *ctx)
DECLARE(int, deployment_update, const st_deployment *d)
DECLARE(int, assignments_insert, const st_assignment *a, size_t n)
DECLARE(int, assignment_get, int64_t deployment, const char *device, st_assignment *out)
DECLARE(int, assignment_update, const st_assignment *a)
DECLARE(int, assignments_of_device, const char *device, int64_t limit, st_assignment_cb cb,
        void *ctx)
DECLARE(int, assignments_of_deployment, int64_t deployment, const st_assignment_filter *f,
        st_assignment_cb cb, void *ctx)
DECLARE(int, assignment_counts, int64_t deployment, st_count_cb cb, void *ctx)
DECLARE(int, assignment_cancel_pending, int64_t deployment, const char *reason, int64_t now,
        int64_t *changed)

DECLARE(int, report_insert, st_report *r, int rollup)
DECLARE(int, report_scan, const st_report_filter *f, st_report_cb cb, void *ctx)
DECLARE(int, report_delete, int64_t id)
DECLARE(int, report_prune, int64_t before, int64_t *removed)
DECLARE(int, tdevice_get, const char *device, st_tdevice *out)
DECLARE(int, devices_silent, int64_t before, st_id_cb cb, void *ctx)
DECLARE(int, alert_insert, st_alert *a)
DECLARE(int, alert_get, int64_t id, st_alert *out)
DECLARE(int, alert_active, const char *device, const char *kind, const char *digest, st_alert *out)
DECLARE(int, alert_update, const st_alert *a)
DECLARE(int, alert_list, const st_alert_filter *f, st_alert_cb cb, void *ctx)
DECLARE(int, alert_count, const st_alert_filter *f, int64_t *count)
DECLARE(int, setting_get, const char *key, char **value)
DECLARE(int, setting_set, const char *key, const char *value, int64_t now)
DECLARE(int, gate_set, int64_t deployment, const char *policy_json)
DECLARE(int, gate_get, int64_t deployment, char **policy_json, char **result_json)
DECLARE(int, gate_result, int64_t deployment, const char *result_json, int64_t now)
DECLARE(int, lease_acquire, const char *name, const char *holder, int64_t now, int64_t ttl_ms)
DECLARE(int, device_enc_key_set, const char *device, const uint8_t pub[ST_PUBKEY_LEN], int64_t now)
DECLARE(int, device_enc_key_get, const char *device, uint8_t pub[ST_PUBKEY_LEN])

#define OP(name) .name = postgres_##name

/* Both URL schemes name this backend: postgres:... and postgresql:... (libpq's URI form). */
#define PG_OPS(scheme_name)                                                                        \
    {                                                                                              \
        .scheme = scheme_name, OP(open), OP(close), OP(migrate), OP(schema_version), OP(begin),    \
        OP(commit), OP(rollback), OP(token_insert), OP(token_find), OP(token_list),                \
        OP(token_revoke), OP(enroll_insert), OP(enroll_find), OP(enroll_use), OP(enroll_list),     \
        OP(enroll_revoke), OP(device_insert), OP(device_get), OP(device_pubkey),                   \
        OP(device_revoke), OP(session_set), OP(session_get), OP(session_use), OP(device_list),     \
        OP(device_count), OP(device_set_group), OP(device_set_tags), OP(device_checkin),           \
        OP(nonce_record), OP(nonce_seen), OP(nonce_prune), OP(bundle_insert), OP(bundle_get),      \
        OP(bundle_by_digest), OP(bundle_list), OP(bundle_read), OP(bundle_set_rank),               \
        OP(deployment_insert), OP(deployment_get), OP(deployment_list), OP(deployment_update),     \
        OP(assignments_insert), OP(assignment_get), OP(assignment_update),                          \
        OP(assignments_of_device), OP(assignments_of_deployment), OP(assignment_counts),           \
        OP(assignment_cancel_pending), OP(report_insert), OP(report_scan), OP(report_delete),      \
        OP(report_prune), OP(tdevice_get), OP(devices_silent), OP(alert_insert), OP(alert_get),    \
        OP(alert_active), OP(alert_update), OP(alert_list), OP(alert_count), OP(setting_get),      \
        OP(setting_set), OP(gate_set), OP(gate_get), OP(gate_result), OP(lease_acquire), OP(device_enc_key_set),      \
        OP(device_enc_key_get),                                                                    \
    }

const store_ops postgres_store_ops = PG_OPS("postgres");
const store_ops postgresql_store_ops = PG_OPS("postgresql");
