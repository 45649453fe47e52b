/*
 * A fixed table of sessions by device (see session_cache.h): direct-mapped
 * by a hash of the device id, one lock per stripe of slots.
 */
#include "session_cache.h"

#include <pthread.h>
#include <string.h>

#define SLOTS (1u << 17)
#define STRIPES 64

typedef struct slot {
    char device[ST_DEVICE_ID_LEN + 1];
    st_session s;
} slot;

static slot slots[SLOTS];
static pthread_mutex_t locks[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_locks(void)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&locks[i], NULL);
}

static unsigned index_of(const char *device)
{
    pthread_once(&once, init_locks);
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *p = device; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % SLOTS;
}

int session_cache_get(const char *device, st_session *out)
{
    unsigned i = index_of(device);
    pthread_mutex_lock(&locks[i % STRIPES]);
    int hit = strcmp(slots[i].device, device) == 0 && slots[i].s.id[0] != '\0';
    if (hit)
        *out = slots[i].s;
    pthread_mutex_unlock(&locks[i % STRIPES]);
    return hit;
}

void session_cache_put(const char *device, const st_session *ss)
{
    unsigned i = index_of(device);
    pthread_mutex_lock(&locks[i % STRIPES]);
    st_copy(slots[i].device, sizeof slots[i].device, device);
    memset(&slots[i].s, 0, sizeof slots[i].s);
    memcpy(slots[i].s.id, ss->id, sizeof ss->id);
    memcpy(slots[i].s.key, ss->key, sizeof ss->key);
    slots[i].s.expires_at = ss->expires_at;
    pthread_mutex_unlock(&locks[i % STRIPES]);
}

void session_cache_drop(const char *device)
{
    unsigned i = index_of(device);
    pthread_mutex_lock(&locks[i % STRIPES]);
    if (strcmp(slots[i].device, device) == 0)
        memset(&slots[i], 0, sizeof slots[i]);
    pthread_mutex_unlock(&locks[i % STRIPES]);
}
