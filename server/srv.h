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

typedef struct srv {
    store *st;
    server_config cfg;
    uint8_t roots[SERVER_MAX_ROOTS][65];
    size_t root_count;
} srv;

/* Wall clock in Unix milliseconds. */
int64_t srv_now_ms(void);

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
