/*
 * Fleet integration fixture: the REAL `tinymlops server` and REAL
 * `tinymlops-agent` processes on loopback, in a temporary directory, driven
 * the way an operator would (keys, bundles, pushes and deployments through
 * the `tinymlops` CLI; the admin API read back over HTTP; each agent's
 * status through its local UNIX-socket API). Tests skip (77) when a binary
 * is missing.
 */
#ifndef TMO_TEST_ITEST_H
#define TMO_TEST_ITEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_client.h"

#define IT_MAX_REPLICAS 4

typedef struct it_env {
    char dir[128];
    pid_t server;                    /* replica 0 */
    pid_t replicas[IT_MAX_REPLICAS]; /* it_start_replicas: every server, [0] == server */
    int replica_ports[IT_MAX_REPLICAS];
    int n_replicas;
    pid_t proxy; /* haproxy in front of the replicas, 0 when none */
    char db[400];
    char base[64];
    char admin[128];
    hc_client *hc; /* admin client */
    char root_pub[200], signing_key[200], signing_cert[200];
} it_env;

typedef struct it_agent {
    char dir[200], sock[220], log[220];
    char id[33];
    pid_t pid;
    int exit_status; /* once it exited */
} it_agent;

/* Whether the CLI and agent binaries exist (else the test should exit 77). */
int it_available(void);

/* Temp dir, root/signing keys and certificate (CLI), database, server on a free port. 0 on success. */
int it_start(it_env *e);

/*
 * The same with n servers on one PostgreSQL database (a fresh schema of
 * $TMO_STORE_URL, as scripts/pg-test sets it) behind HAProxy on a free port:
 * e->base is the proxy. 0 on success, 77 when PostgreSQL or haproxy is not
 * available (the test should skip), -1 on error.
 */
int it_start_replicas(it_env *e, int n);

/* Kills replica i (SIGKILL: no graceful shutdown, as a crash). */
void it_kill_replica(it_env *e, int i);

/* Stops every agent given (SIGKILL) and the server; removes the dir unless a test failed (keep). */
void it_stop(it_env *e, it_agent *agents, size_t n, int keep);

/* Runs a shell command line; its stdout (trimmed) into out. Returns the exit status. */
int it_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Admin GET of a JSON document (NULL on failure). */
json_t *it_get(it_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh enrollment token for group (heap string). */
char *it_token(it_env *e, const char *group, int ttl_s, int uses);

/* Writes a FULLY_CONNECTED float model in[1,8] -> out[1,units] to path; seed changes the weights. */
int it_model(const char *path, int units, int seed);

/* `tinymlops bundle pack` of model into out (name, version, counter, arch or NULL). 0 on success. */
int it_pack(it_env *e, const char *model, const char *name, const char *version, int counter,
            const char *arch, const char *out);

/*
 * Packs with a KAT section (tinymlops/profile.h format). Good known answers
 * come from `bundle pack --profile-data DATA --kat 2` when the CLI has it,
 * else from the runtime in process (host_kat_encode + host_bundle_pack);
 * bad ones (a device computing differently from the packer, e.g. flash
 * corruption) are always made in process: 2 vectors, vector 1's output
 * byte 3 flipped.
 */
int it_pack_kat(it_env *e, const char *model, const char *name, const char *version, int counter,
                const char *arch, int bad, const char *out);

/* `tinymlops model push`. 0 on success. */
int it_push(it_env *e, const char *bundle);

/* `tinymlops deploy create ... --json` with the given extra arguments; the deployment id or -1. */
long it_deploy(it_env *e, const char *args);

/* Whether a device's deployment state is final (confirmed, failed, rolled-back, skipped, cancelled). */
int it_terminal(const char *state);

/* A deployment's state into buf ("?" when it cannot be read); returns buf. */
const char *it_deploy_state(it_env *e, long dep, char *buf, size_t len);

/* Writes a P-9 profile file. */
int it_profile(const char *path, const char *arch, long ram, long flash);

/*
 * Starts an agent named name in <dir>/<name> with a 1-second check-in
 * interval, the root key, the local socket and the extra arguments
 * (NULL-terminated, may be NULL). token may be NULL. Waits for its socket.
 * Returns 0 when it runs, 1 when it exited first (exit_status), -1 on error.
 */
int it_agent_start(it_env *e, it_agent *a, const char *name, const char *token, const char *profile,
                   const char *const *extra);

/* Sends sig (e.g. SIGKILL) and reaps the agent; returns its exit status (-1 for a signal). */
int it_agent_stop(it_agent *a, int sig);

/* Waits for an agent to exit on its own (ms); its exit status or -2 when it is still running. */
int it_agent_wait(it_agent *a, long ms);

/* The agent's status object through the local API (NULL when it does not answer). */
json_t *it_agent_status(it_agent *a);

/* How many times the agent's log contains text. */
int it_log_has(const it_agent *a, const char *text);

/* A device's state in a deployment ("" when not assigned); reason into reason (may be NULL). */
const char *it_device_state(it_env *e, long dep, const char *device, char *buf, size_t len,
                            char *reason, size_t reason_len);

/* Milliseconds since some fixed point (monotonic). */
long it_ms(void);
void it_sleep_ms(long ms);

/* Polls cond (an expression) every 100 ms until true or ms elapse; ok gets its last value. */
#define IT_WAIT(ok, ms, cond)                                                                      \
    do {                                                                                           \
        long it_end_ = it_ms() + (ms);                                                             \
        while (!((ok) = (cond)) && it_ms() < it_end_)                                              \
            it_sleep_ms(100);                                                                      \
    } while (0)

#endif
