/*
 * The server, in process, for the request fuzzer (fuzz_server_req.c) and
 * its seed generator: an in-memory SQLite store with a known fleet (admin
 * tokens of each role, enrollment tokens, an enrolled device, a bundle and
 * a deployment to it), restored before every input, and a decoder that
 * turns fuzz bytes into requests for the router (server/router.c) without
 * libmicrohttpd.
 *
 * Input format: up to NS_MAX_REQUESTS requests separated by a line
 * "-----"; each is "METHOD URI\n", header lines "Name: value\n", an empty
 * line and the body (the rest). Pseudo-header "X-Fuzz-Sign: a" (or "b")
 * makes the harness sign the request as device a (or b) (P-10..P-12; also
 * enrollments, P-8); "X-Fuzz-Session: a" MACs it in device a's session
 * (P-33; the counter is the request's index + 1); "@DIGEST@" in a body is replaced by the set-up
 * bundle's digest. Known secrets: NS_TOKEN_* below.
 */
#ifndef TMO_FUZZ_NET_SERVER_H
#define TMO_FUZZ_NET_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define NS_TOKEN_ADMIN "tmoa_fuzz_admin"
#define NS_TOKEN_OPERATOR "tmoa_fuzz_operator"
#define NS_TOKEN_VIEWER "tmoa_fuzz_viewer"
#define NS_TOKEN_REVOKED "tmoa_fuzz_revoked"
#define NS_ENROLL "tmoe_fuzz_enroll"
#define NS_ENROLL_EXPIRED "tmoe_fuzz_expired"
#define NS_ENROLL_USED "tmoe_fuzz_used"
#define NS_MODEL "fuzzmodel"
#define NS_MAX_REQUESTS 4

/* The fixed keys: 'a' and 'b' devices ('a' is enrolled), the bundle root and its signer. */
int ns_key(char which, host_key *k);

/* Base64 of a fixed key's public point into out[128]. */
void ns_pub_b64(char which, char out[128]);

/* A bundle of a small FULLY_CONNECTED model signed under the fixed root (heap). */
uint8_t *ns_bundle(const char *version, uint64_t counter, size_t *len);

/* Sets up the server once per process; 0 on success. */
int ns_open(void);

/*
 * Restores the store to its state after ns_open and runs the input's
 * requests; aborts when a response breaks a contract (a status outside
 * 200..599, a 500, an error without the P-3 envelope, a Content-Range
 * that does not describe the body). Returns the last request's status, 0
 * when there was none.
 */
int ns_run(const uint8_t *data, size_t size);

#endif
