/*
 * Routing and authentication of every request (see router.h). The table
 * is the single list of the API's routes.
 */
#include "router.h"

#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "json_util.h"

#define V1 "/api/v1"

const route router_routes[] = {
    {"GET", V1 "/health", ROUTE_PUBLIC, 0, h_health},
    {"POST", V1 "/admin-tokens", ROUTE_ADMIN, 0, h_admin_token_create},
    {"GET", V1 "/admin-tokens", ROUTE_ADMIN, 0, h_admin_token_list},
    {"DELETE", V1 "/admin-tokens/{id}", ROUTE_ADMIN, 0, h_admin_token_revoke},
    {"POST", V1 "/enrollment-tokens", ROUTE_OPERATOR, 0, h_enroll_token_create},
    {"GET", V1 "/enrollment-tokens", ROUTE_OPERATOR, 0, h_enroll_token_list},
    {"DELETE", V1 "/enrollment-tokens/{id}", ROUTE_OPERATOR, 0, h_enroll_token_revoke},
    {"POST", V1 "/device/enroll", ROUTE_PUBLIC, 0, h_device_enroll},
    {"POST", V1 "/device/session/challenge", ROUTE_PUBLIC, 0, h_session_challenge},
    {"POST", V1 "/device/session", ROUTE_PUBLIC, 0, h_session_open},
    {"POST", V1 "/device/checkin", ROUTE_DEVICE_TX, 0, h_device_checkin},
    {"GET", V1 "/device/bundles/{id}", ROUTE_DEVICE, 0, h_device_bundle_download},
    {"GET", V1 "/devices", ROUTE_VIEWER, 0, h_devices_list},
    {"GET", V1 "/devices/{id}", ROUTE_VIEWER, 0, h_device_show},
    {"PATCH", V1 "/devices/{id}", ROUTE_OPERATOR, 0, h_device_patch},
    {"POST", V1 "/devices/{id}/revoke", ROUTE_OPERATOR, 0, h_device_revoke},
    {"DELETE", V1 "/devices/{id}/session", ROUTE_OPERATOR, 0, h_session_end},
    {"POST", V1 "/bundles", ROUTE_OPERATOR, 1, h_bundle_upload},
    {"GET", V1 "/bundles", ROUTE_VIEWER, 0, h_bundles_list},
    {"GET", V1 "/bundles/{id}", ROUTE_VIEWER, 0, h_bundle_show},
    {"PATCH", V1 "/bundles/{id}", ROUTE_OPERATOR, 0, h_bundle_patch},
    /* The bytes are the model itself (maybe unencrypted): operators, not viewers (server.md). */
    {"GET", V1 "/bundles/{id}/data", ROUTE_OPERATOR, 0, h_bundle_download},
    {"GET", V1 "/models", ROUTE_VIEWER, 0, h_models_list},
    {"POST", V1 "/deployments", ROUTE_OPERATOR, 0, h_deploy_create},
    {"GET", V1 "/deployments", ROUTE_VIEWER, 0, h_deploy_list},
    {"GET", V1 "/deployments/{id}", ROUTE_VIEWER, 0, h_deploy_show},
    {"GET", V1 "/deployments/{id}/devices", ROUTE_VIEWER, 0, h_deploy_devices},
    {"POST", V1 "/deployments/{id}/pause", ROUTE_OPERATOR, 0, h_deploy_pause},
    {"POST", V1 "/deployments/{id}/resume", ROUTE_OPERATOR, 0, h_deploy_resume},
    {"POST", V1 "/deployments/{id}/abort", ROUTE_OPERATOR, 0, h_deploy_abort},
    {"POST", V1 "/deployments/{id}/rollback", ROUTE_OPERATOR, 0, h_deploy_rollback},
    /* Telemetry and alerts (h_telemetry.c, h_alerts.c, docs/protocol.md P-21..P-27). */
    {"POST", V1 "/device/telemetry", ROUTE_DEVICE_TX, 0, h_device_telemetry},
    {"GET", V1 "/telemetry", ROUTE_VIEWER, 0, h_telemetry_query},
    {"GET", V1 "/telemetry/reports", ROUTE_VIEWER, 0, h_telemetry_reports},
    {"GET", V1 "/alerts", ROUTE_VIEWER, 0, h_alerts_list},
    {"GET", V1 "/alerts/{id}", ROUTE_VIEWER, 0, h_alert_show},
    {"POST", V1 "/alerts/{id}/ack", ROUTE_OPERATOR, 0, h_alert_ack},
    {"POST", V1 "/alerts/{id}/resolve", ROUTE_OPERATOR, 0, h_alert_resolve},
    {"GET", V1 "/alert-rules", ROUTE_VIEWER, 0, h_alert_rules_get},
    {"PUT", V1 "/alert-rules", ROUTE_OPERATOR, 0, h_alert_rules_put},
    /* The dashboard (h_static.c, docs/dashboard.md). */
    {"GET", V1 "/session", ROUTE_VIEWER, 0, h_session},
    {"GET", "/", ROUTE_PUBLIC, 0, h_static},
    {"GET", "/{asset}", ROUTE_PUBLIC, 0, h_static},
};
const size_t router_route_count = sizeof router_routes / sizeof router_routes[0];

#define MAX_SEGMENTS 8
#define MAX_SEGMENT 128

/* Matches path against pattern, capturing {params} into buf-backed q->params. */
static int match(const char *pattern, const char *path, char params[HTTP_MAX_PARAMS][MAX_SEGMENT],
                 int *count)
{
    *count = 0;
    while (*pattern != '\0' && *path != '\0') {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (slen == 0 || slen >= MAX_SEGMENT || *count >= HTTP_MAX_PARAMS)
                return 0;
            memcpy(params[*count], path, slen);
            params[*count][slen] = '\0';
            (*count)++;
        } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
            return 0;
        }
        pattern += plen;
        path += slen;
    }
    return *pattern == '\0' && *path == '\0';
}

static const route *find(const char *method, const char *path,
                         char params[HTTP_MAX_PARAMS][MAX_SEGMENT], int *count, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < router_route_count; i++) {
        if (!match(router_routes[i].pattern, path, params, count))
            continue;
        *path_known = 1;
        if (strcmp(router_routes[i].method, method) == 0)
            return &router_routes[i];
    }
    return NULL;
}

size_t router_body_limit(void *ctx, const char *method, const char *path)
{
    srv *s = ctx;
    char params[HTTP_MAX_PARAMS][MAX_SEGMENT];
    int count, known;
    const route *rt = find(method, path, params, &count, &known);
    return rt != NULL && rt->large_body ? s->cfg.max_bundle_bytes : SRV_DEVICE_BODY_MAX;
}

static int authenticate(srv *s, const route *rt, http_req *q, http_resp *r)
{
    switch (rt->auth) {
    case ROUTE_PUBLIC:
        return 0;
    case ROUTE_VIEWER:
        return auth_admin(s, q, r, ROLE_VIEWER);
    case ROUTE_OPERATOR:
        return auth_admin(s, q, r, ROLE_OPERATOR);
    case ROUTE_ADMIN:
        return auth_admin(s, q, r, ROLE_ADMIN);
    case ROUTE_DEVICE: /* no transaction of its own: the guard is recorded now */
        return auth_device(s, q, r) != 0 ? -1 : auth_guard_record(s, q, r);
    case ROUTE_DEVICE_TX:
        return auth_device(s, q, r);
    }
    return -1;
}

void router_dispatch(void *ctx, http_req *q, http_resp *r)
{
    srv *s = ctx;
    char params[HTTP_MAX_PARAMS][MAX_SEGMENT];
    int count, known;
    if (!http_url_is_utf8(q)) { /* answers quote paths and arguments, and JSON is UTF-8 */
        resp_error(r, 400, "bad_request", "the request URL is not valid UTF-8");
        return;
    }
    const route *rt = find(q->method, q->path, params, &count, &known);
    if (rt == NULL) {
        if (known)
            resp_error(r, 405, "method_not_allowed", "%s is not allowed on %s", q->method, q->path);
        else
            resp_error(r, 404, "not_found", "no route %s", q->path);
        return;
    }
    for (int i = 0; i < count; i++)
        q->params[i] = params[i];
    q->param_count = count;
    if (authenticate(s, rt, q, r) != 0)
        return;
    rt->fn(s, q, r);
}
