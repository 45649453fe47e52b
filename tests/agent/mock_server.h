/*
 * A scripted stand-in for the fleet server's device API (docs/protocol.md),
 * for the agent's state machine tests: it enrolls one device, checks every
 * request signature (P-10, P-11) with host/devauth, answers check-ins with
 * whatever the test sets (a `desired`, or a refusal a number of times),
 * serves one bundle with Range/If-Range (or misbehaves on purpose) and
 * records what the agent sent. libmicrohttpd on a loopback port.
 */
#ifndef TMO_TEST_MOCK_SERVER_H
#define TMO_TEST_MOCK_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BUNDLE_RANGES = 0, /* 206 for ranges, as P-16 says */
    BUNDLE_WHOLE = 1,  /* ignores Range: 200 with the whole bundle */
    BUNDLE_CHANGED = 2 /* another ETag: the bundle changed since the device started */
} mock_bundle_mode;

typedef struct mock_server {
    struct MHD_Daemon *daemon;
    char base[64];
    pthread_mutex_t lock;
    /* the device */
    uint8_t pub[65];
    char device_id[33];
    int enrollments;
    /* check-ins */
    int refuse_status;    /* with refuse_times > 0 (or < 0: always): answer this status... */
    char refuse_code[48]; /* ...with this P-3 error code */
    int refuse_times;
    int refused;         /* check-ins refused so far */
    json_t *desired;     /* returned in every successful check-in (NULL: null) */
    json_t *checkins;    /* bodies of the successful check-ins, in order */
    int bad_signatures;  /* signed requests whose signature did not verify */
    int64_t max_skew_ms; /* timestamps further off are refused with stale_request (0: 300 s) */
    /* the bundle at /api/v1/device/bundles/1 */
    uint8_t *bundle;
    size_t bundle_len;
    char etag[80];
    int bundle_mode;
    json_t *ranges; /* Range headers received, in order */
} mock_server;

int mock_start(mock_server *m);
void mock_stop(mock_server *m);

/* Serves bytes as bundle 1 and returns the matching `desired` object (new reference). */
json_t *mock_offer(mock_server *m, const uint8_t *bytes, size_t len, int64_t deployment,
                   const char *version);

/* The states reported for a deployment over all check-ins, in order, joined by "," (heap string). */
char *mock_reported(mock_server *m, int64_t deployment);

/* Number of successful check-ins so far. */
size_t mock_checkins(mock_server *m);

#endif
