/*
 * Creating deployments: a rollout of a model version to the devices a
 * target selects (each gets the best fitting variant or is skipped with
 * the reason), and the rollback of a deployment (P-19), which is itself a
 * deployment of each device's previous bundle. Each runs in one write
 * transaction.
 */
#ifndef TMO_DEPLOY_CREATE_H
#define TMO_DEPLOY_CREATE_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"
#include "store.h"

typedef struct deploy_request {
    const char *model, *version;
    const char *group;        /* NULL: any group */
    const char *tags_json;    /* devices with all of these tags; NULL: any */
    const char *exclude_json; /* devices with none of these; NULL */
    int waves[SERVER_MAX_WAVES];
    size_t wave_count;
    int64_t soak_ms;
    int64_t max_failures;
    const char *created_by;
    const char *gate_json; /* health-gate policy (gate.h), validated JSON text; NULL: no gate */
} deploy_request;

typedef struct deploy_outcome {
    int status; /* HTTP status: 201, or 400/404/409/500 with message */
    char message[300];
    st_deployment dep;
} deploy_outcome;

/* Creates and starts (opens wave 0 of) a rollout. */
void deploy_create(store *st, const deploy_request *rq, deploy_outcome *out);

/*
 * Rolls deployment id back: it becomes rolled-back (its pending devices
 * cancelled), and a new "rollback" deployment in one wave sends every device
 * that started it back to the bundle it ran before, unless that bundle is
 * unknown or its security counter is below the device's NV counter (then
 * the device is skipped with that reason).
 */
void deploy_rollback(store *st, int64_t id, const char *by, int64_t max_failures,
                     deploy_outcome *out);

/*
 * The same inside the caller's write transaction (the health gate rolls
 * back from the controller). out->status 201 on success; on failure the
 * caller rolls the transaction back.
 */
void deploy_rollback_in_tx(store *st, int64_t id, const char *by, int64_t max_failures,
                           deploy_outcome *out);

#endif
