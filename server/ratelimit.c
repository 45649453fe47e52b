/*
 * Token buckets per client address (see ratelimit.h). Slots are found by a
 * hash of the address with a short linear probe; when every probed slot
 * belongs to another active client, the least recently seen one is taken
 * over (that client starts again with a full bucket: a table too small
 * errs towards allowing, never towards refusing an innocent client).
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define PROBE 8

typedef struct slot {
    uint8_t key[17]; /* family byte + up to 16 address bytes; all zero: free */
    double tokens;
    int64_t seen_ms;
} slot;

struct ratelimit {
    double rate, burst;
    pthread_mutex_t lock;
    slot slots[SLOTS];
};

ratelimit *ratelimit_new(double rate, double burst)
{
    ratelimit *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void ratelimit_free(ratelimit *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The address bytes that identify a client (IPv4-mapped IPv6 counts as IPv4). */
static void key_of(const struct sockaddr *addr, uint8_t key[17])
{
    memset(key, 0, 17);
    if (addr->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            key[0] = 4;
            memcpy(key + 1, a + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a, 16);
        }
    } else {
        key[0] = 1; /* other families share one bucket */
    }
}

static size_t hash_of(const uint8_t key[17])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h % SLOTS);
}

static slot *find(ratelimit *l, const uint8_t key[17], double burst, int64_t now_ms)
{
    size_t h = hash_of(key);
    slot *oldest = NULL; /* free slots have seen_ms 0, so they are the oldest */
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &l->slots[(h + i) % SLOTS];
        if (memcmp(s->key, key, 17) == 0)
            return s;
        if (oldest == NULL || s->seen_ms < oldest->seen_ms)
            oldest = s;
    }
    memcpy(oldest->key, key, 17);
    oldest->tokens = burst;
    oldest->seen_ms = now_ms;
    return oldest;
}

int64_t ratelimit_take(ratelimit *l, const struct sockaddr *addr, int64_t now_ms)
{
    uint8_t key[17];
    key_of(addr, key);
    pthread_mutex_lock(&l->lock);
    slot *s = find(l, key, l->burst, now_ms);
    if (now_ms > s->seen_ms) {
        s->tokens += (double)(now_ms - s->seen_ms) * l->rate / 1000.0;
        if (s->tokens > l->burst)
            s->tokens = l->burst;
        s->seen_ms = now_ms;
    }
    int64_t wait = 0;
    if (s->tokens >= 1.0)
        s->tokens -= 1.0;
    else
        wait = (int64_t)((1.0 - s->tokens) * 1000.0 / l->rate) + 1;
    pthread_mutex_unlock(&l->lock);
    return wait;
}
