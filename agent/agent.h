/*
 * tinymlops-agent as a library: one device's identity, enrollment, check-ins,
 * A/B updates (through the device library's update engine) and the model it
 * runs. main.c wraps one agent in a daemon with a local UNIX-socket API; a
 * simulator can run many agents in one process (no global state besides
 * curl/PSA initialization; each agent is driven by agent_step).
 *
 * Threads: agent_step() and agent_close() belong to one thread; agent_infer()
 * and agent_status() may be called from any thread at the same time (the
 * running model is guarded by a mutex). docs/agent.md describes behaviour.
 */
#ifndef TMO_AGENT_H
#define TMO_AGENT_H

#include <stddef.h>
#include <stdint.h>

/* Fault injection for the integration tests (never set in production). */
typedef enum {
    AGENT_FAULT_NONE = 0,
    AGENT_FAULT_FORGE_SIGNATURE,   /* sign a different canonical string than the one sent */
    AGENT_FAULT_REPLAY,            /* re-send the first signed check-in's headers and body */
    AGENT_FAULT_LOSE_TELEMETRY_ACK /* ignore the first telemetry upload's answer (sent again) */
} agent_fault;

typedef struct agent_config {
    const char *server_url;       /* e.g. "http://127.0.0.1:8080" or https://... */
    const char *ca_path;          /* PEM CA file an https server must chain to; NULL: system */
    const char *state_dir;        /* must exist; holds key, slots, journal, queue */
    const char *enroll_token;     /* needed only until enrolled */
    const char *profile_path;     /* P-9 JSON; NULL: this host's defaults */
    const char *const *root_keys; /* PEM/DER public key files of pinned roots */
    size_t root_key_count;
    int checkin_interval_s;  /* 0: what the server says */
    int max_backoff_s;       /* cap of the retry backoff; 0: 300 */
    uint32_t slot_size;      /* bytes per model slot; 0: 4 MiB */
    uint32_t download_chunk; /* bytes per Range request; 0: 64 KiB */
    int download_delay_ms;   /* pause between chunks (a slow link) */
    int health_inferences;   /* health window rounds; < 0: 8 */
    int health_seconds;      /* health window time; 0: none */
    uint8_t max_trial_boots; /* see tinymlops/update.h; 0: a restart in trial reverts */
    agent_fault fault;
    int signed_requests; /* sign every request (P-10) instead of opening a session (P-30) */
    int64_t clock_skew_ms; /* added to the local clock (tests of P-12 correction) */
    const char *name;      /* log prefix; NULL: the device id's first 8 characters */
    /* Scheduling clock in ms (intervals, backoff, health window); NULL: CLOCK_MONOTONIC. A simulator
       or a test can run time faster. Request timestamps always use the wall clock. */
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    void (*log)(void *ctx, const char *line); /* NULL: stderr */
    void *log_ctx;
    /* ---- hooks for a simulator running many agents in one process (0/NULL: off) ---- */
    /* Keep the device key's scalar in RAM and import it into PSA only around each signature:
       mbedTLS 2.28 has 32 key slots per process, far fewer than a simulated fleet. */
    int key_per_use;
    /* Network hook, called on the step thread around every request: AGENT_NET_BEFORE when
       nothing is sent yet (nonzero: fail it as if the server were unreachable; nothing else
       follows), then AGENT_NET_AFTER with the response body (the hook may change its bytes,
       e.g. corruption in transit) or AGENT_NET_FAILED (no response). No PSA call happens
       between BEFORE and AFTER/FAILED, so a simulator may let other agents' steps use PSA
       meanwhile. */
    int (*net_hook)(void *ctx, int phase, const char *method, const char *path, uint8_t *body,
                    size_t len);
    void *net_ctx;
    /* ---- telemetry (docs/agent.md "Telemetry"; 0 = the default in brackets) ---- */
    int telemetry_off;              /* 1: no monitor, no reports, no uploads */
    uint32_t telemetry_window;      /* inferences per report window [100] */
    int telemetry_window_s;         /* a window with inferences closes after this long [60] */
    int telemetry_interval_s;       /* seconds between uploads [the check-in interval] */
    int telemetry_batch;            /* reports per upload [32] */
    uint32_t telemetry_max_reports; /* buffer bound: reports kept on disk [1000] */
    uint64_t telemetry_max_bytes;   /* buffer bound: bytes on disk [4 MiB] */
} agent_config;

enum { AGENT_NET_BEFORE = 0, AGENT_NET_AFTER = 1, AGENT_NET_FAILED = 2 };

typedef struct agent agent;

/*
 * Opens the state dir: loads or creates the device key (0600), opens the
 * slots, runs the update engine's boot recovery (queuing a rolled-back
 * report when a trial was reverted) and loads the active model, if any.
 * Returns NULL with a message in err.
 */
agent *agent_open(const agent_config *cfg, char *err, size_t err_len);
void agent_close(agent *a);

/*
 * Does whatever is due now: enroll, one check-in, one step of an update.
 * Returns the milliseconds until something is due again (>= 0), or
 * AGENT_FATAL when the agent cannot go on (refused enrollment token, no
 * token and not enrolled); agent_last_error() says why.
 */
#define AGENT_FATAL (-1)
int64_t agent_step(agent *a);

/*
 * Runs the active model once: in holds the bytes of every input tensor in
 * order, out receives every output's bytes in order. 0 on success, -1 with
 * a message in err (no model, wrong input size, out too small, invoke error).
 */
int agent_infer(agent *a, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
                char *err, size_t err_len);

/*
 * Runs the active model once through the caller's function (a simulator
 * feeding its own data stream and running a monitor on it): under the
 * model lock, fn gets the interpreter and what it needs to interpret it,
 * writes the inputs, invokes (e.g. tmo_monitor_invoke) and reads the
 * outputs. fn returns AGENT_RUN_OK (counted as an inference), AGENT_RUN_MODEL_ERROR
 * (counted against the model's health, like a failed invoke in agent_infer)
 * or AGENT_RUN_CALLER_ERROR (not counted). Returns fn's result, or
 * AGENT_RUN_CALLER_ERROR with a message in err when no model is loaded.
 */
typedef struct agent_model_view {
    uint64_t generation; /* changes whenever another model is loaded: re-attach monitors */
    const char *name;    /* model name and version of the active slot */
    const char *version;
    const uint8_t *profile; /* the bundle's PROFILE section (tinymlops/profile.h), NULL if none */
    size_t profile_len;
} agent_model_view;
struct tmo_interp;
enum { AGENT_RUN_OK = 0, AGENT_RUN_MODEL_ERROR = 1, AGENT_RUN_CALLER_ERROR = -1 };
typedef int (*agent_run_fn)(void *ctx, struct tmo_interp *it, const agent_model_view *m);
int agent_infer_with(agent *a, agent_run_fn fn, void *ctx, char *err, size_t err_len);

/*
 * Hands the agent a monitoring report made outside it (a simulator running
 * its own monitor through agent_infer_with): it is numbered, buffered on
 * disk and uploaded like the agent's own, for the model now running. Any
 * thread. 0, or -1 (not buffered: counted as dropped).
 */
int agent_telemetry_submit(agent *a, const uint8_t *report, size_t len);

/* Changes the device clock's skew (cfg.clock_skew_ms) of a running agent; step thread only. */
void agent_set_clock_skew(agent *a, int64_t skew_ms);

/* Status as a JSON object text (heap, free()); NULL when out of memory. */
char *agent_status(agent *a);

/* The device id (32 hex chars). */
const char *agent_device_id(const agent *a);

/* Text of the last error (refusal, network, update), "" when none. */
const char *agent_last_error(agent *a);

/*
 * The local API for the host application (docs/agent.md "Local API"): a
 * UNIX stream socket at path served by a thread. Each request is an 8-byte
 * header (u8 op, 3 zero bytes, u32 little-endian payload length) and the
 * payload; each response the same header with op replaced by a status
 * (0 ok, 1 error) and its payload. Ops: 'I' infer (payload: all input
 * tensors' bytes in order; response: all outputs' bytes, or an error
 * message), 'S' status (empty payload; response: agent_status() JSON).
 * Returns NULL with a message in err.
 */
typedef struct agent_local agent_local;
agent_local *agent_local_start(agent *a, const char *path, char *err, size_t err_len);
void agent_local_stop(agent_local *l);

#endif
