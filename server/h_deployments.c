/*
 * Deployments over HTTP: create (rollout of a model version to a target),
 * list, status with per-wave counts, and the per-device states.
 */
#include <stdlib.h>
#include <string.h>

#include "deploy_create.h"
#include "deploy_ctl.h"
#include "gate.h"
#include "handlers.h"
#include "json_util.h"
#include "waves.h"

static int parse_target(json_t *in, deploy_request *rq, char *tags, char *exclude, size_t len,
                        http_resp *r)
{
    json_t *t = json_object_get(in, "target");
    if (!json_is_object(t)) {
        resp_error(r, 400, "bad_request",
                   "target must be an object with group, tags and/or exclude_tags, "
                   "or {\"all\": true}");
        return -1;
    }
    int has_group = jget_str(t, "group", 0, ST_NAME_LEN, &rq->group, r);
    int has_tags = has_group < 0 ? -1 : jget_names(t, "tags", 16, tags, len, r);
    int has_excl = has_tags < 0 ? -1 : jget_names(t, "exclude_tags", 16, exclude, len, r);
    if (has_excl < 0)
        return -1;
    if (has_group && !srv_name_valid(rq->group)) {
        resp_error(r, 400, "bad_request", "target.group must be a group name");
        return -1;
    }
    rq->tags_json = has_tags ? tags : NULL;
    rq->exclude_json = has_excl ? exclude : NULL;
    if (!has_group && !has_tags && !json_is_true(json_object_get(t, "all"))) {
        resp_error(r, 400, "bad_request",
                   "target needs a group or tags (or \"all\": true for every device)");
        return -1;
    }
    return 0;
}

static int parse_waves(srv *s, json_t *in, deploy_request *rq, http_resp *r)
{
    json_t *w = json_object_get(in, "waves");
    if (w == NULL) {
        memcpy(rq->waves, s->cfg.waves, sizeof rq->waves);
        rq->wave_count = s->cfg.wave_count;
        return 0;
    }
    char *text = json_to_text(w);
    rq->wave_count = text != NULL ? waves_from_json(text, rq->waves, SERVER_MAX_WAVES) : 0;
    free(text);
    if (rq->wave_count == 0) {
        resp_error(r, 400, "bad_request",
                   "waves must be 1..10 increasing percentages from 1 to 100, ending at 100");
        return -1;
    }
    return 0;
}

HANDLER(h_deploy_create)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    deploy_request rq;
    memset(&rq, 0, sizeof rq);
    char tags[ST_TAGS_JSON_LEN + 1], exclude[ST_TAGS_JSON_LEN + 1];
    int64_t soak_s = s->cfg.soak_s, max_failures = 0;
    if (jget_str(in, "model", 1, ST_NAME_LEN, &rq.model, r) < 0 ||
        jget_str(in, "version", 1, ST_VERSION_LEN, &rq.version, r) < 0 ||
        parse_target(in, &rq, tags, exclude, sizeof tags, r) < 0 ||
        parse_waves(s, in, &rq, r) < 0 ||
        jget_int(in, "soak_s", 0, 0, 30LL * 86400, &soak_s, r) < 0 ||
        jget_int(in, "max_failures", 0, 0, 1000000000, &max_failures, r) < 0)
        goto out;
    rq.soak_ms = soak_s * 1000;
    rq.max_failures = max_failures;
    rq.created_by = q->principal;
    char *gate_text = NULL;
    json_t *gate = json_object_get(in, "health_gate");
    if (gate != NULL && !json_is_null(gate)) {
        gate_policy gp;
        char err[200];
        if (gate_policy_from_json(gate, &gp, err, sizeof err) != 0) {
            resp_error(r, 400, "bad_request", "%s", err);
            goto out;
        }
        json_t *norm = gate_policy_json(&gp);
        gate_text = json_to_text(norm);
        json_decref(norm);
        rq.gate_json = gate_text;
    }
    deploy_outcome res;
    deploy_create(s->st, &rq, &res);
    free(gate_text);
    if (res.status != 201) {
        resp_error(r, res.status,
                   res.status == 404   ? "not_found"
                   : res.status == 500 ? "internal"
                                       : "bad_request",
                   "%s", res.message);
        goto out;
    }
    json_t *body = deploy_status_json(s->st, &res.dep);
    if (body == NULL)
        resp_store_error(r);
    else
        resp_json(r, 201, body);
out:
    json_decref(in);
}

typedef struct list_ctx {
    store *st;
    json_t *items;
    int failed;
} list_ctx;

static int list_visit(void *ctx, const st_deployment *d)
{
    list_ctx *l = ctx;
    json_t *j = deploy_status_json(l->st, d);
    if (j == NULL) {
        l->failed = 1;
        return 1;
    }
    json_array_append_new(l->items, j);
    return 0;
}

HANDLER(h_deploy_list)
{
    list_ctx l = {s->st, json_array(), 0};
    if (ST(s->st, deployment_list, http_query(q, "state"), list_visit, &l) != ST_OK || l.failed) {
        json_decref(l.items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, json_pack("{s:o}", "deployments", l.items));
}

HANDLER(h_deploy_show)
{
    int64_t id;
    st_deployment d;
    if (param_id(q, 0, &id, r) != 0)
        return;
    int rc = ST(s->st, deployment_get, id, &d);
    if (rc == ST_NOT_FOUND) {
        resp_error(r, 404, "not_found", "no deployment %lld", (long long)id);
        return;
    }
    json_t *body = rc == ST_OK ? deploy_status_json(s->st, &d) : NULL;
    if (body == NULL)
        resp_store_error(r);
    else
        resp_json(r, 200, body);
}

static int device_visit(void *ctx, const st_assignment *a)
{
    json_array_append_new(ctx, json_pack("{s:s,s:I,s:s,s:s,s:I,s:I,s:I}", "device_id", a->device_id,
                                         "wave", (json_int_t)a->wave, "state", a->state, "reason",
                                         a->reason, "bundle_id", (json_int_t)a->bundle_id,
                                         "prev_bundle_id", (json_int_t)a->prev_bundle_id,
                                         "updated_at", (json_int_t)a->updated_at));
    return 0;
}

HANDLER(h_deploy_devices)
{
    int64_t id, limit, offset;
    st_deployment d;
    if (param_id(q, 0, &id, r) != 0 || query_int(q, "limit", 1, 10000, 1000, &limit, r) < 0 ||
        query_int(q, "offset", 0, INT64_MAX / 2, 0, &offset, r) < 0)
        return;
    int rc = ST(s->st, deployment_get, id, &d);
    if (rc == ST_NOT_FOUND) {
        resp_error(r, 404, "not_found", "no deployment %lld", (long long)id);
        return;
    }
    st_assignment_filter f = {http_query(q, "state"), limit, offset};
    json_t *items = json_array();
    if (rc != ST_OK || ST(s->st, assignments_of_deployment, id, &f, device_visit, items) != ST_OK) {
        json_decref(items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, json_pack("{s:I,s:o}", "deployment_id", (json_int_t)id, "devices", items));
}
