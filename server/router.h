/*
 * The route table of /api/v1: method, path pattern ({name} matches one
 * segment), who may call it, and its handler. The table is also what
 * tests/server/test_openapi.c compares with docs/openapi.yaml.
 */
#ifndef TMO_ROUTER_H
#define TMO_ROUTER_H

#include <stddef.h>

#include "http.h"
#include "srv.h"

typedef enum {
    ROUTE_PUBLIC,   /* no credentials (health; enrollment carries its token in the body) */
    ROUTE_VIEWER,   /* admin token, any role */
    ROUTE_OPERATOR, /* admin token, operator or admin */
    ROUTE_ADMIN,    /* admin token, admin */
    ROUTE_DEVICE,   /* device signature (P-10..P-12) or session MAC (P-33) */
    ROUTE_DEVICE_TX /* the same; the handler records the replay guard in its own transaction */
} route_auth;

typedef void (*route_fn)(srv *s, http_req *q, http_resp *r);

typedef struct route {
    const char *method;
    const char *pattern;
    route_auth auth;
    int large_body; /* accepts up to max_bundle_bytes instead of SRV_DEVICE_BODY_MAX */
    route_fn fn;
} route;

extern const route router_routes[];
extern const size_t router_route_count;

/* http_dispatch_fn and http_limit_fn for the HTTP layer; ctx is the srv. */
void router_dispatch(void *ctx, http_req *q, http_resp *r);
size_t router_body_limit(void *ctx, const char *method, const char *path);

#endif
