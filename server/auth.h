/*
 * Authentication of the two API surfaces: admin Bearer tokens with roles
 * (docs/protocol.md P-20) and per-device request signatures (P-10..P-12).
 */
#ifndef TMO_AUTH_H
#define TMO_AUTH_H

#include "devauth.h"
#include "http.h"
#include "srv.h"

typedef enum { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 } auth_role;

/* "viewer" -> ROLE_VIEWER ...; ROLE_NONE for anything else. */
auth_role auth_role_parse(const char *name);
const char *auth_role_name(auth_role role);

/*
 * Checks the Bearer token and that its role is at least need. On success
 * sets q->role and q->principal and returns 0; otherwise sends 401
 * (unauthorized) or 403 (forbidden) and returns -1.
 */
int auth_admin(srv *s, http_req *q, http_resp *r, auth_role need);

/* The P-10 headers of one signed device request. */
typedef struct auth_signed {
    char id[DEVAUTH_ID_LEN + 1];
    char nonce[DEVAUTH_NONCE_LEN + 1];
    uint64_t ts;
    uint8_t sig[DEVAUTH_SIG_LEN];
} auth_signed;

/* Parses the P-10 headers; -1 with a 401 sent when one is missing or malformed. */
int auth_signed_parse(http_req *q, http_resp *r, auth_signed *out);

/*
 * Checks a parsed signed request against the public key pub in P-12's order
 * (stale timestamp, replayed nonce, bad signature) without recording the
 * nonce; -1 with the 401 sent. Enrollment (P-8) uses it with the key of its
 * body, inside its own transaction.
 */
int auth_signed_check(srv *s, http_req *q, http_resp *r, const uint8_t pub[DEVAUTH_PUBKEY_LEN],
                      const auth_signed *a);

/* Records the request's nonce (P-12); -1 with 401 replayed_request or 500 sent. */
int auth_signed_record(srv *s, http_resp *r, const auth_signed *a);

/*
 * Authenticates a device request, signed (P-10..P-12: unknown or revoked
 * device, stale timestamp, replayed nonce, bad signature, in that order) or
 * in a session (X-TMO-Session, P-33, P-34: unknown or revoked device,
 * unknown or expired session, bad MAC, counter not above the last one). On
 * success sets q->principal to the device id and q->guard to the nonce or
 * counter, not yet recorded, and returns 0; otherwise sends the 401 with the
 * P-3 code and returns -1.
 */
int auth_device(srv *s, http_req *q, http_resp *r);

/*
 * Records q->guard: the nonce (P-12) or the session counter (P-34). A
 * handler with its own write transaction calls it inside it, so a request
 * that is rolled back (or whose replica dies before commit) leaves no trace
 * and can be retried as is; the router calls it before other handlers. 0,
 * or -1 with 401 replayed_request (a concurrent copy won) or 500 sent.
 */
int auth_guard_record(srv *s, http_req *q, http_resp *r);

#endif
