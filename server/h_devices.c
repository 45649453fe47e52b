/*
 * The device inventory: list (by group and tags), show one device with
 * what it runs and its deployments, and change its group and tags.
 */
#include <stdlib.h>
#include <string.h>

#include "deploy_ctl.h"
#include "enc_key.h"
#include "handlers.h"
#include "json_util.h"

/* "revoked", "ok", "errors" (the device reports inference errors), "stale" (missed 3 check-ins) or "never-seen". */
static const char *health_of(const st_device *d, json_t *status, int64_t now, int64_t interval_s)
{
    if (d->revoked_at != 0)
        return "revoked";
    if (d->last_seen == 0)
        return "never-seen";
    if (now - d->last_seen > 3 * interval_s * 1000)
        return "stale";
    json_t *errors = json_object_get(json_object_get(status, "health"), "errors");
    if (json_is_number(errors) && json_number_value(errors) > 0)
        return "errors";
    return "ok";
}

static json_t *running_of(json_t *status)
{
    const char *active = json_string_value(json_object_get(status, "active_slot"));
    json_t *slots = json_object_get(status, "slots");
    for (size_t i = 0; active != NULL && i < json_array_size(slots); i++) {
        json_t *sl = json_array_get(slots, i);
        if (strcmp(json_string_value(json_object_get(sl, "slot")), active) == 0)
            return json_deep_copy(sl);
    }
    return json_null();
}

static json_t *device_json(const srv *s, const st_device *d)
{
    json_t *status = json_from_text(d->status_json, 0);
    const char *health = health_of(d, status, srv_now_ms(), s->cfg.checkin_interval_s);
    json_t *out = json_pack(
        "{s:s,s:s,s:o,s:I,s:I,s:s,s:o,s:o,s:o,s:I}", "id", d->id, "group", d->group, "tags",
        json_from_text(d->tags_json, 1), "enrolled_at", (json_int_t)d->enrolled_at, "last_seen",
        (json_int_t)d->last_seen, "health", health, "profile", json_from_text(d->profile_json, 0),
        "running", running_of(status), "status", status, "nv_counter", (json_int_t)d->nv_counter);
    if (out == NULL)
        return NULL;
    enc_key_json(s->st, d->id, out);
    json_object_set_new(out, "revoked_at", json_integer(d->revoked_at));
    if (d->revoked_at != 0)
        json_object_set_new(out, "revoked_reason", json_string(d->revoked_reason));
    return out;
}

typedef struct list_ctx {
    const srv *s;
    json_t *items;
} list_ctx;

static int list_visit(void *ctx, const st_device *d)
{
    list_ctx *l = ctx;
    json_array_append_new(l->items, device_json(l->s, d));
    return 0;
}

/* "a,b" -> ["a","b"] (JSON text into out); 0 when absent, -1 after a 400. */
static int tag_query(const http_req *q, const char *name, char *out, size_t len, http_resp *r)
{
    const char *t = http_query(q, name);
    if (t == NULL || *t == '\0')
        return 0;
    json_t *a = json_array();
    char buf[1100];
    st_copy(buf, sizeof buf, t);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (!srv_name_valid(tok) || json_array_size(a) >= 16) {
            json_decref(a);
            resp_error(r, 400, "bad_request",
                       "query argument '%s' must be up to 16 comma-separated names", name);
            return -1;
        }
        json_array_append_new(a, json_string(tok));
    }
    char *text = json_to_text(a);
    json_decref(a);
    st_copy(out, len, text);
    free(text);
    return 1;
}

HANDLER(h_devices_list)
{
    char tags[ST_TAGS_JSON_LEN + 1], exclude[ST_TAGS_JSON_LEN + 1];
    int64_t limit, offset;
    int has_tags = tag_query(q, "tag", tags, sizeof tags, r);
    int has_exclude = has_tags < 0 ? -1 : tag_query(q, "exclude_tag", exclude, sizeof exclude, r);
    if (has_tags < 0 || has_exclude < 0 || query_int(q, "limit", 1, 1000, 100, &limit, r) < 0 ||
        query_int(q, "offset", 0, INT64_MAX / 2, 0, &offset, r) < 0)
        return;
    st_device_filter f = {.group = http_query(q, "group"),
                          .tags_json = has_tags ? tags : NULL,
                          .exclude_json = has_exclude ? exclude : NULL,
                          .limit = limit,
                          .offset = offset};
    int64_t total = 0;
    list_ctx l = {s, json_array()};
    if (ST(s->st, device_count, &f, &total) != ST_OK ||
        ST(s->st, device_list, &f, list_visit, &l) != ST_OK) {
        json_decref(l.items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200,
              json_pack("{s:o,s:I,s:I,s:I}", "devices", l.items, "total", (json_int_t)total,
                        "limit", (json_int_t)limit, "offset", (json_int_t)offset));
}

static int assignment_visit(void *ctx, const st_assignment *a)
{
    json_array_append_new(
        ctx, json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:s}", "deployment_id",
                       (json_int_t)a->deployment_id, "state", a->state, "reason", a->reason, "wave",
                       (json_int_t)a->wave, "bundle_id", (json_int_t)a->bundle_id, "updated_at",
                       (json_int_t)a->updated_at, "deployment_state", a->dep_state));
    return 0;
}

static void show(srv *s, const char *id, http_resp *r, int status)
{
    st_device d;
    int rc = ST(s->st, device_get, id, &d);
    if (rc == ST_NOT_FOUND) {
        resp_error(r, 404, "not_found", "no device %s", id);
        return;
    }
    if (rc != ST_OK) {
        resp_store_error(r);
        return;
    }
    json_t *out = device_json(s, &d), *deps = json_array();
    st_device_free(&d);
    st_assignment a;
    rc = ST(s->st, assignments_of_device, id, 20, assignment_visit, deps);
    int found = rc == ST_OK ? deploy_desired(s->st, id, &a) : ST_ERROR;
    if (found == ST_ERROR) {
        json_decref(out);
        json_decref(deps);
        resp_store_error(r);
        return;
    }
    json_object_set_new(out, "deployments", deps);
    json_object_set_new(out, "desired",
                        found == ST_OK
                            ? json_pack("{s:I,s:I}", "deployment_id", (json_int_t)a.deployment_id,
                                        "bundle_id", (json_int_t)a.bundle_id)
                            : json_null());
    resp_json(r, status, out);
}

HANDLER(h_device_show)
{
    show(s, q->params[0], r, 200);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int listed(json_t *a, const char *name)
{
    for (size_t i = 0; i < json_array_size(a); i++)
        if (strcmp(json_string_value(json_array_get(a, i)), name) == 0)
            return 1;
    return 0;
}

/* current + add - remove (JSON texts of name arrays), sorted and unique, into out. -1 over 16 tags. */
static int edit_tags(const char *current, const char *add, const char *remove, char *out,
                     size_t len)
{
    json_t *cur = json_from_text(current, 1), *plus = json_from_text(add, 1),
           *minus = json_from_text(remove, 1);
    const char *names[48];
    size_t n = 0;
    json_t *sources[2] = {cur, plus};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < json_array_size(sources[k]) && n < 48; i++) {
            const char *t = json_string_value(json_array_get(sources[k], i));
            if (t != NULL && !listed(minus, t))
                names[n++] = t;
        }
    qsort(names, n, sizeof names[0], cmp_name);
    json_t *result = json_array();
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            json_array_append_new(result, json_string(names[i]));
    int ok = json_array_size(result) <= 16;
    char *text = json_to_text(result);
    st_copy(out, len, text);
    free(text);
    json_decref(result);
    json_decref(cur);
    json_decref(plus);
    json_decref(minus);
    return ok ? 0 : -1;
}

HANDLER(h_device_patch)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    const char *id = q->params[0], *group = NULL;
    char add[ST_TAGS_JSON_LEN + 1] = "[]", remove[ST_TAGS_JSON_LEN + 1] = "[]",
                                tags[ST_TAGS_JSON_LEN + 1];
    int has_group = jget_str(in, "group", 0, ST_NAME_LEN, &group, r);
    if (has_group < 0 || jget_names(in, "add_tags", 16, add, sizeof add, r) < 0 ||
        jget_names(in, "remove_tags", 16, remove, sizeof remove, r) < 0)
        goto out;
    if (has_group && group[0] != '\0' && !srv_name_valid(group)) {
        resp_error(r, 400, "bad_request",
                   "group must be empty or a name of 1..64 characters [A-Za-z0-9._:/-]");
        goto out;
    }
    if (ST(s->st, begin, ST_TX_WRITE) != ST_OK) {
        resp_store_error(r);
        goto out;
    }
    st_device d;
    int rc = ST(s->st, device_get, id, &d);
    if (rc == ST_OK) {
        int over = edit_tags(d.tags_json, add, remove, tags, sizeof tags);
        st_device_free(&d);
        if (over) {
            ST0(s->st, rollback);
            resp_error(r, 400, "bad_request", "a device has at most 16 tags");
            goto out;
        }
        rc = ST(s->st, device_set_tags, id, tags);
        if (rc == ST_OK && has_group)
            rc = ST(s->st, device_set_group, id, group);
    }
    if (rc == ST_OK)
        rc = ST0(s->st, commit);
    if (rc != ST_OK) {
        ST0(s->st, rollback);
        if (rc == ST_NOT_FOUND)
            resp_error(r, 404, "not_found", "no device %s", id);
        else
            resp_store_error(r);
        goto out;
    }
    show(s, id, r, 200);
out:
    json_decref(in);
}

/*
 * POST /api/v1/devices/{id}/revoke: the device's key stops working at once
 * (every signed request answers 401 device_revoked, P-12), it cannot enroll
 * again with that key, and new deployments skip it. Not reversible: a
 * device that is trusted again enrolls with a new key.
 */
HANDLER(h_device_revoke)
{
    const char *reason = "";
    json_t *in = q->body_len > 0 ? req_object(q, r) : json_object();
    if (in == NULL)
        return;
    if (jget_str(in, "reason", 0, ST_REASON_LEN, &reason, r) < 0)
        goto out;
    int rc = ST(s->st, device_revoke, q->params[0], srv_now_ms(), reason);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no device %s", q->params[0]);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        show(s, q->params[0], r, 200);
out:
    json_decref(in);
}
