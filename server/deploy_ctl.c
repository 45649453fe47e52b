/*
 * Deployment controller (see deploy_ctl.h).
 */
#include "deploy_ctl.h"

#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "gate_eval.h"
#include "json_util.h"
#include "waves.h"

static const char *const terminal_states[] = {DS_CONFIRMED, DS_FAILED, DS_ROLLED_BACK, DS_SKIPPED,
                                              DS_CANCELLED};

int dstate_terminal(const char *state)
{
    for (size_t i = 0; i < sizeof terminal_states / sizeof terminal_states[0]; i++)
        if (strcmp(state, terminal_states[i]) == 0)
            return 1;
    return 0;
}

/* Order of progress: a report only moves an assignment to a higher rank. */
static int rank(const char *state)
{
    if (strcmp(state, DS_PENDING) == 0)
        return 0;
    if (strcmp(state, DS_DOWNLOADING) == 0)
        return 1;
    if (strcmp(state, DS_TRIAL) == 0)
        return 2;
    return 3;
}

int dstate_reportable(const char *state)
{
    return strcmp(state, DS_DOWNLOADING) == 0 || strcmp(state, DS_TRIAL) == 0 ||
           strcmp(state, DS_CONFIRMED) == 0 || strcmp(state, DS_FAILED) == 0 ||
           strcmp(state, DS_ROLLED_BACK) == 0;
}

int deploy_assignment_live(const st_assignment *a)
{
    if (strcmp(a->state, DS_DOWNLOADING) == 0 || strcmp(a->state, DS_TRIAL) == 0 ||
        strcmp(a->state, DS_CONFIRMED) == 0)
        return 1;
    return strcmp(a->state, DS_PENDING) == 0 && strcmp(a->dep_state, DEP_ACTIVE) == 0 &&
           a->wave >= 0 && a->wave <= a->dep_current_wave;
}

int deploy_apply_report(store *st, const char *device, int64_t deployment, const char *state,
                        const char *reason, int64_t now)
{
    /* The deployment's row first, then the assignment's: the order the controller locks them
       in (deploy_advance, halts, rollbacks), so concurrent reports and ticks cannot deadlock. */
    st_deployment d;
    int rc = ST(st, deployment_get, deployment, &d);
    if (rc != ST_OK)
        return rc == ST_NOT_FOUND ? 0 : ST_ERROR;
    st_assignment a;
    rc = ST(st, assignment_get, deployment, device, &a);
    if (rc != ST_OK)
        return rc == ST_NOT_FOUND ? 0 : ST_ERROR;
    if (dstate_terminal(a.state) || rank(state) <= rank(a.state))
        return 0;
    st_copy(a.state, sizeof a.state, state);
    st_copy(a.reason, sizeof a.reason, reason != NULL ? reason : "");
    a.updated_at = now;
    return ST(st, assignment_update, &a) == ST_OK ? 1 : ST_ERROR;
}

typedef struct desired_scan {
    st_assignment found;
    int have;
} desired_scan;

static int desired_visit(void *ctx, const st_assignment *a)
{
    desired_scan *d = ctx;
    if (!deploy_assignment_live(a))
        return 0;
    d->found = *a;
    d->have = 1;
    return 1;
}

int deploy_desired(store *st, const char *device, st_assignment *out)
{
    desired_scan d = {.have = 0};
    if (ST(st, assignments_of_device, device, SRV_ASSIGNMENT_SCAN, desired_visit, &d) != ST_OK)
        return ST_ERROR;
    if (!d.have)
        return ST_NOT_FOUND;
    *out = d.found;
    return ST_OK;
}

/* ---- wave bookkeeping ---- */

typedef struct wave_counts {
    int64_t total[SERVER_MAX_WAVES];
    int64_t open[SERVER_MAX_WAVES]; /* not yet terminal */
    int64_t failures, skipped;
} wave_counts;

static int count_visit(void *ctx, int64_t wave, const char *state, int64_t count)
{
    wave_counts *c = ctx;
    if (strcmp(state, DS_FAILED) == 0 || strcmp(state, DS_ROLLED_BACK) == 0)
        c->failures += count;
    if (strcmp(state, DS_SKIPPED) == 0)
        c->skipped += count;
    if (wave < 0 || wave >= SERVER_MAX_WAVES)
        return 0;
    c->total[wave] += count;
    if (!dstate_terminal(state))
        c->open[wave] += count;
    return 0;
}

static int first_failure(void *ctx, const st_assignment *a)
{
    snprintf(ctx, 200, "%.32s: %.150s", a->device_id, a->reason[0] ? a->reason : a->state);
    return 1;
}

static int halt(store *st, st_deployment *d, const wave_counts *c, int64_t now)
{
    char first[200] = "";
    st_assignment_filter f = {DS_FAILED, 1, 0};
    if (ST(st, assignments_of_deployment, d->id, &f, first_failure, first) != ST_OK)
        return ST_ERROR;
    if (first[0] == '\0') {
        f.state = DS_ROLLED_BACK;
        if (ST(st, assignments_of_deployment, d->id, &f, first_failure, first) != ST_OK)
            return ST_ERROR;
    }
    st_copy(d->state, sizeof d->state, DEP_HALTED);
    snprintf(d->reason, sizeof d->reason,
             "%lld device(s) failed or rolled back (max_failures %lld); first: %s",
             (long long)c->failures, (long long)d->max_failures, first);
    d->updated_at = now;
    return ST(st, deployment_update, d);
}

int deploy_advance(store *st, int64_t id, int64_t now)
{
    st_deployment d;
    int rc = ST(st, deployment_get, id, &d);
    if (rc != ST_OK)
        return rc == ST_NOT_FOUND ? ST_OK : ST_ERROR;
    if (strcmp(d.state, DEP_ACTIVE) != 0)
        return ST_OK;
    int pct[SERVER_MAX_WAVES];
    size_t k = waves_from_json(d.waves_json, pct, SERVER_MAX_WAVES);
    wave_counts c;
    memset(&c, 0, sizeof c);
    if (k == 0 || ST(st, assignment_counts, id, count_visit, &c) != ST_OK)
        return k == 0 ? store_fail("deployment %lld has no valid waves", (long long)id) : ST_ERROR;
    if (c.failures > d.max_failures)
        return halt(st, &d, &c, now);
    int changed = 0;
    for (;;) {
        int64_t w = d.current_wave, open = 0;
        for (int64_t i = 0; i <= w && i < (int64_t)k; i++)
            open += c.open[i];
        if (open > 0)
            break;
        if (w >= (int64_t)k - 1) {
            st_copy(d.state, sizeof d.state, DEP_COMPLETED);
            changed = 1;
            break;
        }
        if (c.total[w] > 0 && d.soak_ms > 0) { /* an empty wave needs no soak */
            if (d.wave_done_at == 0) {
                d.wave_done_at = now;
                changed = 1;
            }
            if (now - d.wave_done_at < d.soak_ms)
                break;
        }
        if (c.total[w] > 0) { /* the health gate judges the soaked wave (gate_eval.c) */
            int g = gate_check(st, &d, w, now);
            if (g < 0)
                return ST_ERROR;
            if (g == GATE_FAIL)
                return ST_OK; /* halted or rolled back, and stored */
            if (g == GATE_WAIT)
                break;
        }
        d.current_wave++;
        d.wave_done_at = 0;
        changed = 1;
    }
    if (!changed)
        return ST_OK;
    d.updated_at = now;
    return ST(st, deployment_update, &d);
}

static int collect_active(void *ctx, const st_deployment *d)
{
    int64_t *ids = ctx;
    if (ids[0] < 255)
        ids[++ids[0]] = d->id;
    return 0;
}

void deploy_tick(srv *s)
{
    int64_t ids[256] = {0};
    int64_t now = srv_now_ms();
    if (ST(s->st, deployment_list, DEP_ACTIVE, collect_active, ids) != ST_OK)
        return;
    for (int64_t i = 1; i <= ids[0]; i++) {
        if (ST(s->st, begin, ST_TX_WRITE) != ST_OK)
            return;
        if (deploy_advance(s->st, ids[i], now) == ST_OK)
            ST0(s->st, commit);
        else
            ST0(s->st, rollback);
    }
    int64_t removed = 0;
    ST(s->st, nonce_prune, now, &removed);
}

/* ---- status ---- */

typedef struct status_acc {
    json_t *waves;  /* array of {wave, devices, states{}} */
    json_t *totals; /* state -> count */
} status_acc;

static int status_visit(void *ctx, int64_t wave, const char *state, int64_t count)
{
    status_acc *a = ctx;
    json_t *t = json_object_get(a->totals, state);
    json_object_set_new(a->totals, state, json_integer(json_integer_value(t) + count));
    if (wave < 0 || wave >= SERVER_MAX_WAVES)
        return 0;
    json_t *w = json_array_get(a->waves, (size_t)wave);
    if (w == NULL)
        return 0;
    json_t *states = json_object_get(w, "states");
    json_object_set_new(states, state, json_integer(count));
    json_object_set_new(w, "devices",
                        json_integer(json_integer_value(json_object_get(w, "devices")) + count));
    return 0;
}

json_t *deploy_status_json(store *st, const st_deployment *d)
{
    int pct[SERVER_MAX_WAVES];
    size_t k = waves_from_json(d->waves_json, pct, SERVER_MAX_WAVES);
    status_acc a = {json_array(), json_object()};
    for (size_t i = 0; i < k; i++) {
        int finished = (int64_t)i < d->current_wave || strcmp(d->state, DEP_COMPLETED) == 0;
        const char *phase = finished ? "done" : (int64_t)i == d->current_wave ? "open" : "waiting";
        json_array_append_new(a.waves,
                              json_pack("{s:i,s:i,s:s,s:i,s:o}", "wave", (int)i, "percent", pct[i],
                                        "phase", phase, "devices", 0, "states", json_object()));
    }
    if (ST(st, assignment_counts, d->id, status_visit, &a) != ST_OK) {
        json_decref(a.waves);
        json_decref(a.totals);
        return NULL;
    }
    json_t *target = json_from_text(d->target_json, 0);
    json_t *out =
        json_pack("{s:I,s:s,s:I,s:s,s:s,s:o,s:o,s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:o,s:o}", "id",
                  (json_int_t)d->id, "kind", d->kind, "rollback_of", (json_int_t)d->rollback_of,
                  "model", d->model, "version", d->version, "target", target, "wave_percentages",
                  json_from_text(d->waves_json, 1), "soak_s", (json_int_t)(d->soak_ms / 1000),
                  "max_failures", (json_int_t)d->max_failures, "state", d->state, "reason",
                  d->reason, "current_wave", (json_int_t)d->current_wave, "created_at",
                  (json_int_t)d->created_at, "updated_at", (json_int_t)d->updated_at, "created_by",
                  d->created_by, "waves", a.waves, "devices", a.totals);
    if (out != NULL)
        json_object_set_new(out, "health_gate", gate_status_json(st, d->id));
    return out;
}
