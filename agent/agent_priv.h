/*
 * Internals shared by the agent's files: the agent object, the durable
 * agent state (agent.json, reports.json), and the functions each file
 * provides to the others. Not installed; agent.h is the public API.
 */
#ifndef TMO_AGENT_PRIV_H
#define TMO_AGENT_PRIV_H

#include <jansson.h>
#include <psa/crypto.h>
#include <pthread.h>
#include <stdint.h>

#include "agent.h"
#include "devsession_client.h"
#include "http_client.h"
#include "port_posix.h"
#include "tinymlops/interp.h"
#include "tinymlops/update.h"

#define AGENT_MAX_ROOTS 8
#define AGENT_MAX_REFUSED 16
#define AGENT_MAX_REPORTS 64 /* per check-in (the server's limit) */
#define AGENT_MAX_REASON 500 /* bytes of a report's reason (the server takes 511) */

/* Phases of the update in progress (RAM only: the engine's journal is the durable truth). */
typedef enum {
    JOB_IDLE = 0,
    JOB_DOWNLOAD,
    JOB_VERIFY,
    JOB_ACTIVATE,
    JOB_KAT,
    JOB_HEALTH,
    JOB_CONFIRM
} job_phase;

typedef struct agent_job {
    job_phase phase;
    int64_t deployment_id, bundle_id;
    uint8_t digest[32];
    char etag[80]; /* "\"sha256:<hex>\"" */
    uint32_t size, offset, resumed_at;
    char url[256];
    char model[72], version[32];
    int health_rounds_left;
    uint64_t health_until_ms;
    uint64_t errors_at_trial; /* host inference errors when the trial started */
    uint64_t next_ms;         /* when the next step of the job is due */
    int failures;             /* consecutive network failures (backoff) */
} agent_job;

/* The model the agent runs for the host application. */
typedef struct agent_model {
    pthread_mutex_t lock;
    struct host_model *hm; /* NULL: no model */
    uint8_t slot;          /* which slot it came from */
    uint8_t *kat;          /* the bundle's KAT section bytes, NULL when it has none */
    size_t kat_len;
    uint8_t *profile; /* the bundle's PROFILE section bytes, NULL when it has none */
    size_t profile_len;
    uint64_t generation; /* counts model loads (agent_infer_with tells callers to re-attach) */
    char name[TMO_BUNDLE_MAX_NAME + 1], version[24]; /* of the loaded model */
    uint64_t inferences, errors;
} agent_model;

struct agent {
    agent_config cfg;
    char state_dir[1024];
    char name[40];
    char last_error[512];
    /* identity */
    psa_key_id_t enc_key; /* ECDH key unwrapping bundle keys (agent_enc.c); 0 with key_per_use */
    uint8_t enc_pub[65];
    struct agent_tel *tel; /* telemetry (agent_telemetry.c); NULL when off */
    psa_key_id_t key;      /* 0 with cfg.key_per_use: imported per signature from key_priv */
    uint8_t key_priv[32];  /* only with cfg.key_per_use */
    uint8_t pub[65];
    char device_id[33];
    json_t *profile;
    /* durable agent state */
    int enrolled;
    json_t *refused; /* array of {deployment_id, digest} */
    json_t *reports; /* array of {seq, deployment_id, state, reason, at} */
    int64_t report_seq;
    /* ports and engine */
    tmo_posix_storage storage;
    tmo_posix_counter counter;
    tmo_port_clock clock;
    uint8_t roots[AGENT_MAX_ROOTS][65];
    size_t root_count;
    tmo_bundle_caps caps;
    char arch[40];
    tmo_update update;
    agent_model run;
    agent_job job;
    /* network */
    hc_client *hc;
    int64_t clock_offset_ms;
    int interval_s;
    uint64_t next_checkin_ms, next_enroll_ms;
    int checkin_failures;
    int flush; /* check in as soon as possible (reports to deliver) */
    int profile_sent;
    uint64_t started_ms;
    uint64_t checkins_ok, checkins_failed;
    char last_refusal[64];
    char replay[4][160]; /* AGENT_FAULT_REPLAY: the captured authentication headers */
    char *replay_body;
    devsession_state session;
    int session_unsupported; /* the server has no sessions: sign every request */
    unsigned rng;
    /* status snapshot for other threads (agent_status) */
    pthread_mutex_t status_lock;
    json_t *status;
};

/* ---- agent.c ---- */
void agent_log(agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void agent_error(agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t agent_now_ms(const agent *a); /* monotonic, or the configured clock */
/* Capped exponential backoff with jitter after `failures` consecutive failures (ms). */
uint64_t agent_retry_delay(agent *a, int failures);

/* ---- agent_sim.c: simulator hooks ---- */
/* The device key for one signature (cfg.key_per_use: imported now); 0 when it cannot be. */
psa_key_id_t key_acquire(agent *a);
void key_release(agent *a, psa_key_id_t key);
/* cfg.net_hook before a request: nonzero when the request must fail as unreachable. */
int net_hook_blocks(agent *a, const char *method, const char *path);
/* cfg.net_hook after the request: r is the response (may change its body) or NULL (none). */
void net_hook_after(agent *a, const char *method, const char *path, hc_response *r);

/* ---- agent_session.c: device sessions (P-30..P-35) ---- */
/* 0 when a session is open (opened now if needed), 1 when requests are signed instead, -1. */
int session_ready(agent *a);
/* Forgets the session (the server ended it or it expired): the next request opens another. */
void session_drop(agent *a);

/* ---- agent_enc.c: the device encryption key ---- */
int enc_key_load(agent *a, char *err, size_t err_len); /* loads or makes enc.key, imports it */
void enc_key_close(agent *a);
json_t *enc_key_b64(const agent *a); /* base64 of the public key (new reference) */

/* ---- agent_telemetry.c: the monitor and report uploads ---- */
int telemetry_open(agent *a, char *err, size_t err_len);
void telemetry_close(agent *a);
/* [model lock] Before the running model changes: closes the window (its report belongs to the
   old model) and detaches the monitor; digest, model, version: the new bundle's (NULL when
   unloading). */
void telemetry_swap(agent *a, const uint8_t *digest, const char *model, const char *version);
/* [model lock] Invokes the running model with the monitor attached (attached on first use). */
tmo_err telemetry_invoke(agent *a, tmo_interp *it);
/* Closes a stale window, uploads when due; returns ms until something is due. Step thread. */
int64_t telemetry_step(agent *a);
/* Buffer state for agent_status (new reference). */
json_t *telemetry_status(agent *a);

/* ---- agent_files.c: durable files in the state dir ---- */
int files_write_json(agent *a, const char *name, json_t *value);
json_t *files_read_json(agent *a, const char *name);
int identity_load(agent *a, char *err, size_t err_len); /* device key and id */
int state_load(agent *a);                               /* agent.json + reports.json */
int state_save(agent *a);                               /* agent.json */
int reports_save(agent *a);                             /* reports.json */

/* ---- agent_profile.c: capabilities ---- */
int profile_load(agent *a, char *err, size_t err_len);
int roots_load(agent *a, char *err, size_t err_len);

/* ---- agent_reports.c ---- */
/* Queues a report and makes it durable before returning (at-least-once, P-13). 0 on success. */
int reports_add(agent *a, int64_t deployment_id, const char *state, const char *reason);
/* Reports to send (new reference) and the highest seq among them. */
json_t *reports_pending(agent *a, int64_t *max_seq);
/* Drops reports up to seq once the server acknowledged them. */
void reports_ack(agent *a, int64_t max_seq);
int refused_has(agent *a, int64_t deployment_id, const char *digest_hex);
void refused_add(agent *a, int64_t deployment_id, const char *digest_hex);

/* ---- agent_net.c: enrollment and check-ins ---- */
/* A signed request (P-10..P-12) with the agent's clock offset and fault injection. 0 = a response arrived. */
int net_request(agent *a, const char *method, const char *path, const char *body,
                const char *const *extra, hc_response *resp);
/* The P-3 error code of a response ("" when none). */
const char *net_error_code(const hc_response *r, char *buf, size_t len);
int net_enroll(agent *a);  /* 0 enrolled, -1 retry later, AGENT_FATAL */
int net_checkin(agent *a); /* 0 ok, -1 failed */

/* ---- agent_status.c ---- */
json_t *status_slots(agent *a); /* the P-13 slots array */
void status_publish(agent *a);  /* refreshes the snapshot agent_status() returns */
const char *status_slot_name(uint8_t slot);

/* ---- agent_update.c ---- */
/* Reacts to a check-in's desired object (may be NULL/json null). */
void update_desired(agent *a, json_t *desired);
/* One step of the job in progress; returns ms until the next. */
int64_t update_step(agent *a);
/* Boot recovery at open; queues reports for what it undid. 0 on success. */
int update_boot(agent *a, char *err, size_t err_len);

/* ---- agent_model.c ---- */
/* Loads the active slot's model (replacing the running one). 0 on success, -1 with a message. */
int model_load_active(agent *a, char *err, size_t err_len);
void model_unload(agent *a);
/* Runs the bundle's KAT (if any) on the running model. 0 pass (or no KAT), -1 with a reason. */
int model_kat(agent *a, int *had_kat, char *reason, size_t len);
/* One health round: KAT again, or zero inputs with finite outputs. 0 pass, -1 with a reason. */
int model_health_round(agent *a, char *reason, size_t len);

#endif
