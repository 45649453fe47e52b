/*
 * What every part of the server shares: the server context handed to
 * handlers, the wall clock, and the limits of the device API.
 */
#ifndef TMO_SRV_H
#define TMO_SRV_H

#include <stdint.h>

#include "server.h"
#include "store.h"

#define SRV_DEVICE_BODY_MAX (256 * 1024) /* device and admin JSON bodies */
#define SRV_ASSIGNMENT_SCAN 64           /* newest assignments considered for `desired` */

#define SRV_SESSION_SECRET_LEN 32

typedef struct srv {
    store *st;
    server_config cfg;
    uint8_t roots[SERVER_MAX_ROOTS][65];
    size_t root_count;
    uint8_t session_secret[SRV_SESSION_SECRET_LEN]; /* session challenges (P-30), per fleet */
    char replica[33]; /* this process's random id: the holder of leases it takes */
} srv;

/*
 * Loads the fleet's session secret from the store into s, creating it when
 * this is the fleet's first server (every replica then reads the same one).
 * 0 on success.
 */
int srv_session_secret_load(srv *s);

/*
 * Device-supplied counters are bounded at ingestion (SRV_COUNTER_INPUT_MAX
 * per value) and summed with saturation at SRV_COUNTER_MAX, so no device
 * can wrap a fleet total (or overflow the store's BIGINT).
 */
#define SRV_COUNTER_INPUT_MAX (1LL << 40)
#define SRV_COUNTER_MAX (1LL << 62)

/* a + b for counters in [0, SRV_COUNTER_MAX], saturating at SRV_COUNTER_MAX. */
static inline int64_t srv_counter_add(int64_t a, int64_t b)
{
    if (a < 0)
        a = 0;
    if (b < 0)
        b = 0;
    return a >= SRV_COUNTER_MAX || b >= SRV_COUNTER_MAX - a ? SRV_COUNTER_MAX : a + b;
}

/* Wall clock in Unix milliseconds. */
int64_t srv_now_ms(void);

/*
 * Logs the calling thread's store_error() on stderr under a fresh reference
 * number and writes the text a client may see into msg: "storage error
 * (reference N; details in the server log)". Storage messages name tables,
 * queries and paths, which are no business of a client.
 */
void srv_store_error_message(char *msg, size_t len);

/* Lowercase hex SHA-256 of a secret token (what the store keeps). 0 on success. */
int srv_token_hash(const char *token, char hex[65]);

/* A fresh random token "<prefix><hex of nbytes random bytes>" into out. 0 on success. */
int srv_token_new(const char *prefix, size_t nbytes, char *out, size_t out_len);

/*
 * Serializes PSA key operations (import, sign, verify, random): PSA Crypto in
 * mbedTLS 2.28 keeps its key slots in unlocked global state, so two threads
 * verifying signatures at once would race. Hashing needs no lock.
 */
void srv_crypto_lock(void);
void srv_crypto_unlock(void);

/* Whether s is a valid group/tag name: 1..64 of [A-Za-z0-9._:/-]. Groups may also be "". */
int srv_name_valid(const char *s);

#endif
