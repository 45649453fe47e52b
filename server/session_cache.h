/*
 * The sessions this server process has seen (docs/protocol.md P-33): the
 * key a session request's MAC is checked with, without reading the store.
 * Only a cache: every request's transaction still checks, in the store, that
 * the session is the device's, unexpired, not revoked and that its counter
 * is new (session_use), so an entry made stale by another replica, an
 * operator or a revocation can never let a request through. Fixed size:
 * memory does not grow with the fleet beyond it, and an entry that is
 * pushed out is read again. Thread-safe.
 */
#ifndef TMO_SESSION_CACHE_H
#define TMO_SESSION_CACHE_H

#include "store.h"

/* Copies the cached session of device into out; 1 when found, 0 otherwise. */
int session_cache_get(const char *device, st_session *out);

/* Remembers device's session (only its id, key and expiry). */
void session_cache_put(const char *device, const st_session *ss);

/* Forgets device's session. */
void session_cache_drop(const char *device);

#endif
