/*
 * Small shared pieces of the server: the clock, secret tokens (random,
 * stored as SHA-256), and the name rule for groups and tags.
 */
#include <psa/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "devauth.h"
#include "srv.h"

static pthread_mutex_t crypto_mutex = PTHREAD_MUTEX_INITIALIZER;

void srv_crypto_lock(void)
{
    pthread_mutex_lock(&crypto_mutex);
}

void srv_crypto_unlock(void)
{
    pthread_mutex_unlock(&crypto_mutex);
}

void srv_store_error_message(char *msg, size_t len)
{
    static atomic_uint_fast64_t next_ref;
    unsigned long long ref = (unsigned long long)atomic_fetch_add(&next_ref, 1) + 1;
    fprintf(stderr, "tinymlops server: storage error (reference %llu): %s\n", ref, store_error());
    snprintf(msg, len, "storage error (reference %llu; details in the server log)", ref);
}

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int srv_token_hash(const char *token, char hex[65])
{
    uint8_t h[32];
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, (const uint8_t *)token, strlen(token), h, sizeof h, &n) !=
        PSA_SUCCESS)
        return -1;
    devauth_hex(h, sizeof h, hex);
    return 0;
}

int srv_token_new(const char *prefix, size_t nbytes, char *out, size_t out_len)
{
    uint8_t r[32];
    char hex[65];
    if (nbytes > sizeof r || strlen(prefix) + 2 * nbytes + 1 > out_len)
        return -1;
    srv_crypto_lock();
    psa_status_t st = psa_generate_random(r, nbytes);
    srv_crypto_unlock();
    if (st != PSA_SUCCESS)
        return -1;
    devauth_hex(r, nbytes, hex);
    snprintf(out, out_len, "%s%s", prefix, hex);
    memset(r, 0, sizeof r);
    return 0;
}

int srv_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > ST_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':' || c == '/'))
            return 0;
    }
    return 1;
}
