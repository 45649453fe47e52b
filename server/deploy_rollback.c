/*
 * Rolling a deployment back (docs/protocol.md P-19): see deploy_rollback()
 * in deploy_create.h. The devices that started the deployment get their
 * previous bundle through an ordinary one-wave deployment of kind
 * "rollback", so they report progress the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_create.h"
#include "deploy_ctl.h"

typedef struct started {
    st_assignment *a;
    size_t n, cap;
    int oom;
} started;

static int collect_started(void *ctx, const st_assignment *a)
{
    started *s = ctx;
    if (strcmp(a->state, DS_DOWNLOADING) != 0 && strcmp(a->state, DS_TRIAL) != 0 &&
        strcmp(a->state, DS_CONFIRMED) != 0)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        st_assignment *p = realloc(s->a, cap * sizeof *p);
        if (p == NULL) {
            s->oom = 1;
            return 1;
        }
        s->a = p;
        s->cap = cap;
    }
    s->a[s->n++] = *a;
    return 0;
}

/* The rollback assignment of one device that started the original deployment. */
static int assign(store *st, const st_deployment *rb, const st_assignment *orig, int64_t now)
{
    st_assignment a = {.deployment_id = rb->id, .wave = 0, .updated_at = now};
    st_copy(a.device_id, sizeof a.device_id, orig->device_id);
    a.prev_bundle_id = orig->bundle_id;
    st_copy(a.state, sizeof a.state, DS_PENDING);
    st_bundle prev;
    st_device dev;
    memset(&dev, 0, sizeof dev);
    int rc =
        orig->prev_bundle_id != 0 ? ST(st, bundle_get, orig->prev_bundle_id, &prev) : ST_NOT_FOUND;
    if (rc == ST_ERROR)
        return ST_ERROR;
    if (rc == ST_NOT_FOUND) {
        snprintf(
            a.reason, sizeof a.reason,
            "nothing to roll back to: the device ran no registered bundle before deployment %lld",
            (long long)orig->deployment_id);
    } else {
        rc = ST(st, device_get, orig->device_id, &dev);
        if (rc == ST_ERROR) {
            st_bundle_free(&prev);
            return ST_ERROR;
        }
        if (rc == ST_OK && dev.nv_counter > prev.counter)
            snprintf(a.reason, sizeof a.reason,
                     "anti-rollback: bundle %lld has security counter %lld, below the device's NV "
                     "counter %lld (P-19)",
                     (long long)prev.id, (long long)prev.counter, (long long)dev.nv_counter);
        else
            a.bundle_id = prev.id;
        st_bundle_free(&prev);
        st_device_free(&dev);
    }
    if (a.bundle_id == 0) {
        a.wave = -1;
        st_copy(a.state, sizeof a.state, DS_SKIPPED);
    }
    return ST(st, assignments_insert, &a, 1);
}

void deploy_rollback_in_tx(store *st, int64_t id, const char *by, int64_t max_failures,
                           deploy_outcome *out)
{
    int64_t now = srv_now_ms();
    st_deployment d;
    int rc = ST(st, deployment_get, id, &d);
    if (rc != ST_OK) {
        out->status = rc == ST_NOT_FOUND ? 404 : 0;
        snprintf(out->message, sizeof out->message, "no deployment %lld", (long long)id);
        return;
    }
    if (strcmp(d.kind, "rollback") == 0 || strcmp(d.state, DEP_ROLLED_BACK) == 0) {
        out->status = 409;
        snprintf(out->message, sizeof out->message,
                 "deployment %lld is %s; deploy the wanted version instead", (long long)id,
                 strcmp(d.kind, "rollback") == 0 ? "itself a rollback" : "already rolled back");
        return;
    }
    started s = {NULL, 0, 0, 0};
    if (ST(st, assignments_of_deployment, id, NULL, collect_started, &s) != ST_OK || s.oom ||
        ST(st, assignment_cancel_pending, id, "deployment rolled back", now, NULL) != ST_OK) {
        free(s.a);
        return;
    }
    st_deployment *rb = &out->dep;
    memset(rb, 0, sizeof *rb);
    st_copy(rb->kind, sizeof rb->kind, "rollback");
    rb->rollback_of = id;
    st_copy(rb->model, sizeof rb->model, d.model);
    st_copy(rb->version, sizeof rb->version, "previous");
    snprintf(rb->target_json, sizeof rb->target_json, "{\"rollback_of\":%lld}", (long long)id);
    st_copy(rb->waves_json, sizeof rb->waves_json, "[100]");
    rb->max_failures = max_failures;
    st_copy(rb->state, sizeof rb->state, DEP_ACTIVE);
    rb->created_at = rb->updated_at = now;
    st_copy(rb->created_by, sizeof rb->created_by, by);
    rc = ST(st, deployment_insert, rb);
    for (size_t i = 0; i < s.n && rc == ST_OK; i++)
        rc = assign(st, rb, &s.a[i], now);
    free(s.a);
    if (rc != ST_OK)
        return;
    st_copy(d.state, sizeof d.state, DEP_ROLLED_BACK);
    snprintf(d.reason, sizeof d.reason, "rolled back by %s: deployment %lld reverts it", by,
             (long long)rb->id);
    d.updated_at = now;
    if (ST(st, deployment_update, &d) != ST_OK || deploy_advance(st, rb->id, now) != ST_OK ||
        ST(st, deployment_get, rb->id, rb) != ST_OK)
        return;
    out->status = 201;
}

void deploy_rollback(store *st, int64_t id, const char *by, int64_t max_failures,
                     deploy_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (ST(st, begin, ST_TX_EXCLUSIVE) != ST_OK) {
        srv_store_error_message(out->message, sizeof out->message);
        out->status = 500;
        return;
    }
    deploy_rollback_in_tx(st, id, by, max_failures, out);
    if (out->status == 201 && ST0(st, commit) != ST_OK)
        out->status = 0;
    if (out->status != 201)
        ST0(st, rollback);
    if (out->status == 0) {
        out->status = 500;
        srv_store_error_message(out->message, sizeof out->message);
    }
}
