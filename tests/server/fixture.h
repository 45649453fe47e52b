/*
 * Shared set-up of the HTTP-level server tests: start the real `tinymlops
 * server` binary on a loopback port with a temporary SQLite database and a
 * fresh root key, call its admin API, make signed bundles (trusted and
 * rogue), and simulate devices in the test process (their own P-256 keys,
 * requests signed by devauth through host/http_client).
 */
#ifndef TMO_TEST_SERVER_FIXTURE_H
#define TMO_TEST_SERVER_FIXTURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_client.h"
#include "keys.h"
#include "tinymlops/bundle.h"

typedef struct fx_server {
    char dir[256];
    char db_url[320];
    pid_t pid;
    int port;
    char base[64];
    char admin_token[128];
    host_key root, signing; /* trusted: the server gets root's public key */
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len;
    host_key rogue_root, rogue_signing; /* a root the server does not know */
    uint8_t rogue_cert[TMO_CERT_MAX_LEN];
    size_t rogue_cert_len;
    hc_client *admin; /* admin-role client */
} fx_server;

/*
 * Creates the temp dir, keys and database (`server init`), starts the server
 * with --root-key and the extra arguments (NULL-terminated, may be NULL).
 * With --tls-cert among them the base URL is https:// (clients then need
 * $TINYMLOPS_CA or hc_set_ca). 0 on success.
 */
int fx_start(fx_server *s, const char *const *extra);

/* SIGTERM, then waits; returns the server's exit status (-1 if it had to be killed). Removes the dir. */
int fx_stop(fx_server *s);

/* A client sending Authorization: Bearer token. */
hc_client *fx_client(fx_server *s, const char *token);

/*
 * A JSON request (body may be NULL); returns the HTTP status (-1 when the
 * server is unreachable) and the parsed body in *out when out is non-NULL
 * (caller decrefs; NULL when not JSON).
 */
long fx_call(hc_client *c, const char *method, const char *path, json_t *body, json_t **out);

/* Creates an admin token with role through the API (as admin); heap string. */
char *fx_token(fx_server *s, const char *role);

/* An enrollment token (heap string) for group/tags_json ("[]"), ttl in seconds and uses. */
char *fx_enroll_token(fx_server *s, const char *group, const char *tags_json, int ttl_s, int uses);

typedef struct fx_bundle_spec {
    const char *name, *version;
    uint64_t counter;
    const char *arch; /* NULL: any architecture */
    uint64_t arena;   /* 0: what the planner computes */
    int out_features; /* model shape (changes the bytes); 0 = 3 */
    int rogue;        /* signed under the untrusted root */
} fx_bundle_spec;

/* A packed bundle (heap) of a small FULLY_CONNECTED model. */
uint8_t *fx_bundle(fx_server *s, const fx_bundle_spec *spec, size_t *len);

/* Uploads bundle bytes as operator; returns the status and the response in *out. */
long fx_upload(fx_server *s, const uint8_t *b, size_t len, json_t **out);

/* A simulated device: its key pair and a client that signs every request. */
typedef struct fx_device {
    psa_key_id_t key;
    uint8_t pub[65];
    char id[33];
    hc_client *hc;
} fx_device;

int fx_device_new(fx_server *s, fx_device *d);
void fx_device_free(fx_device *d);

/* A P-9 profile JSON object with the FULLY_CONNECTED operator. */
json_t *fx_profile(const char *arch, long ram, long flash);

/*
 * POST /device/enroll signed by the device (P-8; unless bad_proof: then the
 * signature is valid but over another message); profile reference is stolen.
 */
long fx_enroll(fx_server *s, fx_device *d, const char *token, json_t *profile, int bad_proof,
               json_t **out);

/* The same with a whole request body of the caller's (reference stolen). */
long fx_enroll_body(fx_server *s, fx_device *d, json_t *body, int bad_proof, json_t **out);

/* A signed check-in; body reference is stolen (NULL = {}). */
long fx_checkin(fx_device *d, json_t *body, json_t **out);

/* The error code of a P-3 error body, "" when none. */
const char *fx_error_code(json_t *body);

/* Sleeps ms milliseconds. */
void fx_sleep_ms(long ms);

#endif
