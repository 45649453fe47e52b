/*
 * Per-client request rate limiting (docs/server.md "Limits"): a token
 * bucket per client address, refilled at `rate` requests per second up to
 * `burst`. Clients are keyed by address in a fixed table: memory does not
 * grow with the number of clients an attacker can spoof, and a slot whose
 * client went quiet is reused. Thread-safe.
 */
#ifndef TMO_RATELIMIT_H
#define TMO_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct ratelimit ratelimit;

/* A limiter for rate requests/s (burst at least 1); NULL when out of memory. */
ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(ratelimit *l);

/*
 * Takes one request's token for the client at addr at time now_ms: 0 when
 * allowed, otherwise the milliseconds until a token is available.
 */
int64_t ratelimit_take(ratelimit *l, const struct sockaddr *addr, int64_t now_ms);

#endif
