/*
 * Running a deployment's health gate (gate.h) from the controller: when
 * every device of waves 0..w is done and the soak time has passed, before
 * wave w+1 opens. The new-version side is every device of waves 0..w that
 * confirmed the deployment's bundle, with its reports of that bundle since
 * the first of them confirmed; the baseline is every device of the later
 * waves (still on the old version) over the same period. On failure the
 * deployment halts or is rolled back per its policy, and its reason says
 * why ("wave 0 halted: latency p95 18.2 ms vs baseline 9.1 ms (limit x1.5)").
 * Runs inside the caller's write transaction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_create.h"
#include "deploy_ctl.h"
#include "gate.h"
#include "gate_eval.h"
#include "json_util.h"

#define WAIT_RECHECK_MS 1000 /* a waiting gate is re-evaluated at most this often */

typedef struct member {
    char id[ST_DEVICE_ID_LEN + 1];
    int64_t bundle_id;
} member;

typedef struct sides {
    int64_t wave;
    member *newv, *base;
    size_t n_new, n_base, cap_new, cap_base;
    int64_t since;
    int oom;
} sides;

static int push(member **list, size_t *n, size_t *cap, const st_assignment *a)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 32;
        member *p = realloc(*list, c * sizeof *p);
        if (p == NULL)
            return -1;
        *list = p;
        *cap = c;
    }
    st_copy((*list)[*n].id, sizeof(*list)[*n].id, a->device_id);
    (*list)[*n].bundle_id = a->bundle_id;
    (*n)++;
    return 0;
}

static int split(void *ctx, const st_assignment *a)
{
    sides *s = ctx;
    int rc = 0;
    if (a->wave >= 0 && a->wave <= s->wave && strcmp(a->state, DS_CONFIRMED) == 0) {
        rc = push(&s->newv, &s->n_new, &s->cap_new, a);
        if (s->since == 0 || a->updated_at < s->since)
            s->since = a->updated_at;
    } else if (a->wave > s->wave && strcmp(a->state, DS_PENDING) == 0) {
        rc = push(&s->base, &s->n_base, &s->cap_base, a);
    }
    s->oom |= rc != 0;
    return rc != 0;
}

typedef struct side_scan {
    gate_side *side;
    int64_t exclude_bundle; /* baseline: reports of the new bundle do not count */
    int any;
} side_scan;

static int add_report(void *ctx, const st_report *r)
{
    side_scan *s = ctx;
    if (s->exclude_bundle != 0 && r->bundle_id == s->exclude_bundle)
        return 0;
    gate_side_add(s->side, r);
    s->any = 1;
    return 0;
}

static int collect(store *st, const member *m, size_t n, int64_t since, int is_new,
                   int64_t new_bundle, gate_side *side)
{
    for (size_t i = 0; i < n; i++) {
        st_report_filter f;
        memset(&f, 0, sizeof f);
        f.device = m[i].id;
        f.since = since;
        f.bundle_id = is_new ? m[i].bundle_id : 0;
        side_scan sc = {side, is_new ? 0 : new_bundle, 0};
        if (ST(st, report_scan, &f, add_report, &sc) != ST_OK)
            return ST_ERROR;
        side->devices += sc.any;
    }
    return ST_OK;
}

/* The last result as JSON (an empty object when none). */
static json_t *last_result(store *st, int64_t id, gate_policy *p, int *has_gate)
{
    char *policy = NULL, *result = NULL;
    int rc = ST(st, gate_get, id, &policy, &result);
    *has_gate = rc == ST_OK;
    json_t *out = NULL;
    if (rc == ST_OK) {
        json_t *pj = json_from_text(policy, 0);
        char err[200];
        if (gate_policy_from_json(pj, p, err, sizeof err) != 0)
            gate_policy_defaults(p);
        json_decref(pj);
        out = json_from_text(result, 0);
    }
    free(policy);
    free(result);
    return out != NULL ? out : json_object();
}

static int act(store *st, st_deployment *d, int64_t wave, const gate_policy *p,
               const gate_outcome *o, int64_t now)
{
    if (!p->rollback) {
        st_copy(d->state, sizeof d->state, DEP_HALTED);
        snprintf(d->reason, sizeof d->reason, "wave %lld halted: %s", (long long)wave, o->reason);
        d->updated_at = now;
        return ST(st, deployment_update, d);
    }
    deploy_outcome out;
    memset(&out, 0, sizeof out);
    deploy_rollback_in_tx(st, d->id, "health gate", 0, &out);
    if (out.status != 201)
        return store_fail("health gate rollback of deployment %lld: %s", (long long)d->id,
                          out.message[0] ? out.message : store_error());
    if (ST(st, deployment_get, d->id, d) != ST_OK)
        return ST_ERROR;
    snprintf(d->reason, sizeof d->reason, "wave %lld rolled back: %s; deployment %lld reverts it",
             (long long)wave, o->reason, (long long)out.dep.id);
    d->updated_at = now;
    return ST(st, deployment_update, d);
}

int gate_check(store *st, st_deployment *d, int64_t wave, int64_t now)
{
    gate_policy p;
    int has_gate = 0;
    json_t *last = last_result(st, d->id, &p, &has_gate);
    if (!has_gate || strcmp(d->kind, "rollout") != 0) {
        json_decref(last);
        return GATE_PASS;
    }
    json_t *ov = json_object_get(last, "override_wave");
    int waived = json_is_integer(ov) && json_integer_value(ov) == wave;
    const char *verdict = json_string_value(json_object_get(last, "verdict"));
    int64_t at = json_integer_value(json_object_get(last, "at"));
    int recent_wait = verdict != NULL && strcmp(verdict, "wait") == 0 &&
                      json_integer_value(json_object_get(last, "wave")) == wave &&
                      now - at < WAIT_RECHECK_MS && now >= at;
    json_decref(last);
    if (waived)
        return GATE_PASS;
    if (recent_wait)
        return GATE_WAIT;
    sides s;
    memset(&s, 0, sizeof s);
    s.wave = wave;
    gate_side wave_side, base_side;
    memset(&wave_side, 0, sizeof wave_side);
    memset(&base_side, 0, sizeof base_side);
    int rc = ST(st, assignments_of_deployment, d->id, NULL, split, &s);
    if (rc == ST_OK && s.oom)
        rc = store_fail("out of memory");
    int64_t new_bundle = s.n_new > 0 ? s.newv[0].bundle_id : 0;
    if (rc == ST_OK)
        rc = collect(st, s.newv, s.n_new, s.since, 1, 0, &wave_side);
    if (rc == ST_OK)
        rc = collect(st, s.base, s.n_base, s.since, 0, new_bundle, &base_side);
    int verdict_out = GATE_PASS;
    if (rc == ST_OK) {
        gate_outcome o;
        if (s.n_new == 0 || s.n_base == 0) {
            memset(&o, 0, sizeof o);
            o.verdict = GATE_PASS;
            snprintf(o.reason, sizeof o.reason,
                     "nothing to compare: %zu new-version and %zu "
                     "baseline devices",
                     s.n_new, s.n_base);
            o.wave_error_rate = o.base_error_rate = o.wave_p95_us = o.base_p95_us = NAN;
            o.wave_acc = o.base_acc = o.wave_drift = o.base_drift = NAN;
        } else {
            gate_judge(&p, &wave_side, &base_side, &o);
        }
        json_t *res = gate_outcome_json(&o, &wave_side, &base_side);
        json_object_set_new(res, "wave", json_integer(wave));
        json_object_set_new(res, "at", json_integer(now));
        json_object_set_new(res, "since", json_integer(s.since));
        char *text = json_to_text(res);
        json_decref(res);
        rc = text != NULL ? ST(st, gate_result, d->id, text, now) : store_fail("out of memory");
        free(text);
        verdict_out = o.verdict;
        if (rc == ST_OK && o.verdict == GATE_FAIL)
            rc = act(st, d, wave, &p, &o, now);
    }
    free(s.newv);
    free(s.base);
    return rc == ST_OK ? verdict_out : -1;
}

int gate_override(store *st, int64_t id, int64_t wave, const char *by, int64_t now)
{
    json_t *res = json_pack("{s:I,s:s,s:I}", "override_wave", (json_int_t)wave, "override_by", by,
                            "at", (json_int_t)now);
    char *text = json_to_text(res);
    json_decref(res);
    int rc = text != NULL ? ST(st, gate_result, id, text, now) : store_fail("out of memory");
    free(text);
    return rc == ST_NOT_FOUND ? ST_OK : rc;
}

json_t *gate_status_json(store *st, int64_t id)
{
    char *policy = NULL, *result = NULL;
    int rc = ST(st, gate_get, id, &policy, &result);
    json_t *out = json_null();
    if (rc == ST_OK) {
        json_t *last = json_from_text(result, 0);
        out = json_pack("{s:o,s:o}", "policy", json_from_text(policy, 0), "last",
                        json_object_size(last) > 0 ? last : (json_decref(last), json_null()));
    }
    free(policy);
    free(result);
    return out;
}
