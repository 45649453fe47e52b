/*
 * The device's side of a session (docs/protocol.md P-30..P-33), shared by
 * the agent, the load benchmark and the tests: open one through a caller's
 * POST function (so the agent can route it through its network hooks), and
 * make the four authentication headers of each request.
 */
#ifndef TMO_DEVSESSION_CLIENT_H
#define TMO_DEVSESSION_CLIENT_H

#include <jansson.h>
#include <psa/crypto.h>
#include <stdint.h>

#include "devsession.h"

/*
 * POSTs body (reference stolen) to path without authentication; returns the
 * parsed answer when the status is `want`, else NULL; the status into
 * *status (0 when the server could not be reached).
 */
typedef json_t *(*devsession_post_fn)(void *ctx, const char *path, json_t *body, long want,
                                      long *status);

typedef struct devsession_state {
    char id[DEVSESSION_ID_LEN + 1]; /* "" when none is open */
    uint8_t key[DEVSESSION_KEY_LEN];
    uint64_t counter; /* of the last request made */
} devsession_state;

/*
 * Opens a session for device_id, signing with `key` (its device key): the
 * challenge, the signature over it and an ephemeral ECDH key, the derived
 * session key. 0 on success, 1 when the server has no sessions (404), -1
 * otherwise (s is then cleared).
 */
int devsession_open(devsession_post_fn post, void *ctx, psa_key_id_t key, const char *device_id,
                    devsession_state *s);

/* The four P-33 header lines ("Name: value") of the next request under s. 0 on success. */
int devsession_headers(devsession_state *s, const char *device_id, const char *method,
                       const char *path, const void *body, size_t len, char hdr[4][160]);

#endif
