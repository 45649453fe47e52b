/*
 * Authentication of the two API surfaces: admin Bearer tokens with roles
 * (docs/protocol.md P-20) and per-device request signatures (P-10..P-12).
 */
#ifndef TMO_AUTH_H
#define TMO_AUTH_H

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

/*
 * Checks a device request signature in P-12's order (unknown device, stale
 * timestamp, replayed nonce, bad signature) and records the nonce. On
 * success sets q->principal to the device id and returns 0; otherwise sends
 * the 401 with the P-3 code and returns -1.
 */
int auth_device(srv *s, http_req *q, http_resp *r);

#endif
