/*
 * Device sessions (docs/protocol.md P-30..P-35): a device proves its
 * identity with its signing key once per session (ECDSA over a server
 * challenge and its ephemeral ECDH key), both sides derive a session key
 * from an ECDH exchange (HKDF-SHA256), and every later request carries an
 * HMAC-SHA256 under that key with a strictly increasing counter instead of
 * an ECDSA signature. Implemented once for the server, the agent, the
 * simulator and the load benchmark. Host-side only.
 *
 * Per-request MACs use mbedTLS's message-digest HMAC rather than PSA: PSA
 * in mbedTLS 2.28 keeps its key slots in unlocked global state, and a MAC
 * per request must not take the server's crypto lock.
 */
#ifndef TMO_DEVSESSION_H
#define TMO_DEVSESSION_H

#include <psa/crypto.h>
#include <stddef.h>
#include <stdint.h>

#include "devauth.h"

#define DEVSESSION_KEY_LEN 32
#define DEVSESSION_MAC_LEN 32
#define DEVSESSION_ID_LEN 32        /* hex chars of a session id */
#define DEVSESSION_CHALLENGE_LEN 24 /* bytes: 8 expiry (big-endian ms) + 16 MAC */
#define DEVSESSION_CHALLENGE_TTL_MS 60000

/*
 * A challenge for device_id valid until expires_ms, made with the server's
 * secret: stateless, so any replica can check it (P-30).
 */
void devsession_challenge(const uint8_t *secret, size_t secret_len, const char *device_id,
                          uint64_t expires_ms, uint8_t out[DEVSESSION_CHALLENGE_LEN]);

/*
 * 0 when challenge is one the secret made for device_id and it has not
 * expired at now_ms (its expiry into *expires_ms); -1 otherwise.
 */
int devsession_challenge_check(const uint8_t *secret, size_t secret_len, const char *device_id,
                               const uint8_t challenge[DEVSESSION_CHALLENGE_LEN], uint64_t now_ms,
                               uint64_t *expires_ms);

/*
 * SHA-256 of what the device signs to open a session (P-31):
 * "TMO-SESSION-1\n" + device_id + "\n" + base64(challenge) + "\n" + base64(ecdh_public_key).
 */
int devsession_open_digest(const char *device_id, const char *challenge_b64, const char *ecdh_b64,
                           uint8_t digest[32]);

/* A fresh ephemeral P-256 ECDH key pair (PSA); its public key exported. 0 on success. */
int devsession_ecdh_generate(psa_key_id_t *key, uint8_t pub[DEVAUTH_PUBKEY_LEN]);

/*
 * The session key (P-32): HKDF-SHA256 with the raw ECDH secret of key and
 * peer as input, the challenge as salt, and info = "TMO-SESSION-1" +
 * device_id + session_id + device ECDH key + server ECDH key. 0 on success.
 */
int devsession_derive(psa_key_id_t key, const uint8_t peer[DEVAUTH_PUBKEY_LEN],
                      const uint8_t challenge[DEVSESSION_CHALLENGE_LEN], const char *device_id,
                      const char *session_id, const uint8_t device_ecdh[DEVAUTH_PUBKEY_LEN],
                      const uint8_t server_ecdh[DEVAUTH_PUBKEY_LEN],
                      uint8_t session_key[DEVSESSION_KEY_LEN]);

/*
 * The request MAC (P-33): HMAC-SHA256 under the session key over
 * "TMO-SREQ-1\n" + METHOD + "\n" + PATH_WITH_QUERY + "\n" + session_id +
 * "\n" + counter + "\n" + hex(SHA-256(body)). 0 on success.
 */
int devsession_mac(const uint8_t key[DEVSESSION_KEY_LEN], const char *method, const char *path,
                   const char *session_id, uint64_t counter, const void *body, size_t body_len,
                   uint8_t mac[DEVSESSION_MAC_LEN]);

/* Constant-time comparison of n bytes: 1 when equal. */
int devsession_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
