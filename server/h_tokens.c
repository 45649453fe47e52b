/*
 * Credentials handed out by operators: admin API tokens with a role (P-20)
 * and device enrollment tokens (P-7). Secrets are returned once and stored
 * only as SHA-256. Also the unauthenticated health check.
 */
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "json_util.h"

#define ENROLL_TTL_MAX_S (30LL * 86400)

HANDLER(h_health)
{
    (void)q;
    int64_t version = 0;
    if (ST(s->st, schema_version, &version) != ST_OK) {
        resp_store_error(r);
        return;
    }
    resp_json(r, 200,
              json_pack("{s:s,s:I,s:I}", "status", "ok", "schema_version", (json_int_t)version,
                        "server_time", (json_int_t)srv_now_ms()));
}

HANDLER(h_admin_token_create)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    const char *role = NULL, *name = "";
    if (jget_str(in, "role", 1, 16, &role, r) < 0 ||
        jget_str(in, "name", 0, ST_NAME_LEN, &name, r) < 0)
        goto out;
    if (auth_role_parse(role) == ROLE_NONE) {
        resp_error(r, 400, "bad_request", "role must be admin, operator or viewer");
        goto out;
    }
    char token[80];
    st_token t;
    memset(&t, 0, sizeof t);
    if (srv_token_new("tmoa_", 24, token, sizeof token) != 0 ||
        srv_token_hash(token, t.hash) != 0) {
        resp_error(r, 500, "internal", "no randomness available");
        goto out;
    }
    st_copy(t.role, sizeof t.role, role);
    st_copy(t.name, sizeof t.name, name);
    t.created_at = srv_now_ms();
    if (ST(s->st, token_insert, &t) != ST_OK) {
        resp_store_error(r);
        goto out;
    }
    resp_json(r, 201,
              json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)t.id, "token", token, "role", t.role,
                        "name", t.name));
    memset(token, 0, sizeof token);
out:
    json_decref(in);
}

static int token_item(void *ctx, const st_token *t)
{
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)t->id, "role",
                                         t->role, "name", t->name, "created_at",
                                         (json_int_t)t->created_at, "revoked", t->revoked));
    return 0;
}

HANDLER(h_admin_token_list)
{
    (void)q;
    json_t *list = json_array();
    if (ST(s->st, token_list, token_item, list) != ST_OK) {
        json_decref(list);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, json_pack("{s:o}", "tokens", list));
}

HANDLER(h_admin_token_revoke)
{
    int64_t id;
    if (param_id(q, 0, &id, r) != 0)
        return;
    int rc = ST(s->st, token_revoke, id);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no admin token %lld", (long long)id);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        resp_json(r, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}

HANDLER(h_enroll_token_create)
{
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    int64_t ttl_s = 3600, uses = 1;
    const char *group = "";
    st_enroll_token e;
    memset(&e, 0, sizeof e);
    st_copy(e.tags_json, sizeof e.tags_json, "[]");
    if (jget_int(in, "ttl_s", 0, 1, ENROLL_TTL_MAX_S, &ttl_s, r) < 0 ||
        jget_int(in, "uses", 0, 1, 1000000, &uses, r) < 0 ||
        jget_str(in, "group", 0, ST_NAME_LEN, &group, r) < 0 ||
        jget_names(in, "tags", 16, e.tags_json, sizeof e.tags_json, r) < 0)
        goto out;
    if (group[0] != '\0' && !srv_name_valid(group)) {
        resp_error(r, 400, "bad_request",
                   "group must be a name of 1..64 characters [A-Za-z0-9._:/-]");
        goto out;
    }
    char token[80];
    if (srv_token_new("tmoe_", 16, token, sizeof token) != 0 ||
        srv_token_hash(token, e.hash) != 0) {
        resp_error(r, 500, "internal", "no randomness available");
        goto out;
    }
    e.created_at = srv_now_ms();
    e.expires_at = e.created_at + ttl_s * 1000;
    e.uses_left = uses;
    st_copy(e.group, sizeof e.group, group);
    if (ST(s->st, enroll_insert, &e) != ST_OK) {
        resp_store_error(r);
        goto out;
    }
    resp_json(r, 201,
              json_pack("{s:I,s:s,s:I,s:I,s:s,s:o}", "id", (json_int_t)e.id, "token", token,
                        "expires_at", (json_int_t)e.expires_at, "uses", (json_int_t)uses, "group",
                        e.group, "tags", json_from_text(e.tags_json, 1)));
    memset(token, 0, sizeof token);
out:
    json_decref(in);
}

static int enroll_item(void *ctx, const st_enroll_token *e)
{
    json_array_append_new(
        ctx, json_pack("{s:I,s:I,s:I,s:s,s:o,s:I,s:I}", "id", (json_int_t)e->id, "expires_at",
                       (json_int_t)e->expires_at, "uses_left", (json_int_t)e->uses_left, "group",
                       e->group, "tags", json_from_text(e->tags_json, 1), "created_at",
                       (json_int_t)e->created_at, "revoked_at", (json_int_t)e->revoked_at));
    return 0;
}

/* GET /api/v1/enrollment-tokens: every token without its secret (the store has only its hash). */
HANDLER(h_enroll_token_list)
{
    (void)q;
    json_t *list = json_array();
    if (ST(s->st, enroll_list, enroll_item, list) != ST_OK) {
        json_decref(list);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, json_pack("{s:o}", "tokens", list));
}

/* DELETE /api/v1/enrollment-tokens/{id}: the token enrolls nobody from now on (P-8). */
HANDLER(h_enroll_token_revoke)
{
    int64_t id;
    if (param_id(q, 0, &id, r) != 0)
        return;
    int64_t now = srv_now_ms();
    int rc = ST(s->st, enroll_revoke, id, now);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no enrollment token %lld", (long long)id);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        resp_json(r, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}
