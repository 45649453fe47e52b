/*
 * Operator actions on a deployment: pause (no new wave opens, no new
 * device starts), resume (from paused or halted, optionally raising
 * max_failures), abort (stop for good: pending devices are cancelled),
 * rollback (P-19, see deploy_rollback). Each is one write transaction
 * that checks the current state, so concurrent actions cannot interleave.
 */
#include <string.h>

#include "deploy_create.h"
#include "deploy_ctl.h"
#include "gate_eval.h"
#include "handlers.h"
#include "json_util.h"

typedef enum { ACT_PAUSE, ACT_RESUME, ACT_ABORT } action;

static int state_in(const char *state, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(state, *allowed) == 0)
            return 1;
    return 0;
}

/* Inside the transaction: 0 done, or the HTTP status of a refusal (message in msg). */
static int apply(store *st, st_deployment *d, action act, int64_t max_failures, int override_gate,
                 const char *by, char *msg, size_t len)
{
    static const char *const pausable[] = {DEP_ACTIVE, NULL};
    static const char *const resumable[] = {DEP_PAUSED, DEP_HALTED, NULL};
    static const char *const abortable[] = {DEP_ACTIVE, DEP_PAUSED, DEP_HALTED, NULL};
    const char *const *allowed = act == ACT_PAUSE    ? pausable
                                 : act == ACT_RESUME ? resumable
                                                     : abortable;
    if (!state_in(d->state, allowed)) {
        snprintf(msg, len, "deployment %lld is %s", (long long)d->id, d->state);
        return 409;
    }
    int64_t now = srv_now_ms();
    d->updated_at = now;
    if (act == ACT_PAUSE) {
        st_copy(d->state, sizeof d->state, DEP_PAUSED);
        snprintf(d->reason, sizeof d->reason, "paused by %s", by);
    } else if (act == ACT_RESUME) {
        st_copy(d->state, sizeof d->state, DEP_ACTIVE);
        d->reason[0] = '\0';
        if (max_failures >= 0)
            d->max_failures = max_failures;
    } else {
        st_copy(d->state, sizeof d->state, DEP_ABORTED);
        snprintf(d->reason, sizeof d->reason, "aborted by %s", by);
        if (ST(st, assignment_cancel_pending, d->id, "deployment aborted", now, NULL) != ST_OK)
            return 500;
    }
    if (ST(st, deployment_update, d) != ST_OK)
        return 500;
    if (act == ACT_RESUME && override_gate &&
        gate_override(st, d->id, d->current_wave, by, now) != ST_OK)
        return 500;
    if (act == ACT_RESUME && deploy_advance(st, d->id, now) != ST_OK)
        return 500;
    return 0;
}

static void act_on(srv *s, http_req *q, http_resp *r, action act)
{
    int64_t id, max_failures = -1;
    int override_gate = 0;
    if (param_id(q, 0, &id, r) != 0)
        return;
    if (act == ACT_RESUME && q->body_len > 0) {
        json_t *in = req_object(q, r);
        if (in == NULL)
            return;
        int got = jget_int(in, "max_failures", 0, 0, 1000000000, &max_failures, r);
        json_t *ov = json_object_get(in, "override_gate");
        if (got >= 0 && ov != NULL && !json_is_boolean(ov)) {
            resp_error(r, 400, "bad_request", "override_gate must be true or false");
            got = -1;
        }
        override_gate = json_is_true(ov);
        json_decref(in);
        if (got < 0)
            return;
    }
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK) {
        resp_store_error(r);
        return;
    }
    st_deployment d;
    char msg[200] = "";
    int rc = ST(s->st, deployment_get, id, &d), status = 0;
    if (rc == ST_NOT_FOUND) {
        status = 404;
        snprintf(msg, sizeof msg, "no deployment %lld", (long long)id);
    } else if (rc != ST_OK) {
        status = 500;
    } else {
        status = apply(s->st, &d, act, max_failures, override_gate, q->principal, msg, sizeof msg);
    }
    if (status == 0 && ST0(s->st, commit) != ST_OK)
        status = 500;
    if (status != 0) {
        ST0(s->st, rollback);
        if (status == 500)
            resp_store_error(r);
        else
            resp_error(r, status, status == 404 ? "not_found" : "conflict", "%s", msg);
        return;
    }
    h_deploy_show(s, q, r);
}

HANDLER(h_deploy_pause)
{
    act_on(s, q, r, ACT_PAUSE);
}

HANDLER(h_deploy_resume)
{
    act_on(s, q, r, ACT_RESUME);
}

HANDLER(h_deploy_abort)
{
    act_on(s, q, r, ACT_ABORT);
}

HANDLER(h_deploy_rollback)
{
    int64_t id, max_failures = 0;
    if (param_id(q, 0, &id, r) != 0)
        return;
    if (q->body_len > 0) {
        json_t *in = req_object(q, r);
        if (in == NULL)
            return;
        int got = jget_int(in, "max_failures", 0, 0, 1000000000, &max_failures, r);
        json_decref(in);
        if (got < 0)
            return;
    }
    deploy_outcome res;
    deploy_rollback(s->st, id, q->principal, max_failures, &res);
    if (res.status != 201) {
        resp_error(r, res.status,
                   res.status == 404   ? "not_found"
                   : res.status == 409 ? "conflict"
                                       : "internal",
                   "%s", res.message);
        return;
    }
    json_t *body = deploy_status_json(s->st, &res.dep);
    if (body == NULL)
        resp_store_error(r);
    else
        resp_json(r, 201, body);
}
