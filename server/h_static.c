/*
 * The dashboard at / (docs/dashboard.md): static files embedded into the
 * binary at build time (web_assets.h), and GET /api/v1/session, which tells
 * the dashboard the role of the token it was given so it can hide what the
 * role may not do (the API refuses it anyway).
 *
 * The files are public: they hold no data, every datum comes from the API
 * with the token. Headers keep the pages from being framed or sniffed and
 * allow scripts and styles from this origin only, so a string that slips
 * past the dashboard's escaping still cannot run as script.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "json_util.h"
#include "web_assets.h"

#define CSP                                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "           \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "                \
    "frame-ancestors 'none'"

static const web_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}

/* GET / and GET /{asset}: the dashboard's files (no directories: the dashboard is flat). */
HANDLER(h_static)
{
    (void)s;
    const char *name = q->param_count > 0 ? q->params[0] : "index.html";
    const web_asset *a = find_asset(name);
    if (a == NULL) {
        resp_error(r, 404, "not_found", "no route %s", q->path);
        return;
    }
    http_resp_header(r, "ETag", "%s", a->etag);
    /* Revalidate every time: a new build must never be mixed with cached files of an old one. */
    http_resp_header(r, "Cache-Control", "no-cache");
    http_resp_header(r, "Content-Security-Policy", "%s", CSP);
    http_resp_header(r, "X-Content-Type-Options", "nosniff");
    http_resp_header(r, "X-Frame-Options", "DENY");
    http_resp_header(r, "Referrer-Policy", "no-referrer");
    const char *inm = http_header(q, "If-None-Match");
    if (inm != NULL && strcmp(inm, a->etag) == 0) {
        r->status = 304;
        return;
    }
    r->body = malloc(a->size > 0 ? a->size : 1);
    if (r->body == NULL) {
        resp_error(r, 500, "internal", "out of memory");
        return;
    }
    memcpy(r->body, a->data, a->size);
    r->body_len = a->size;
    r->content_type = a->content_type;
    r->status = 200;
}

/* GET /api/v1/session: who the Bearer token is (auth_admin has set role and principal). */
HANDLER(h_session)
{
    (void)s;
    resp_json(r, 200,
              json_pack("{s:s,s:s,s:I}", "name", q->principal, "role",
                        auth_role_name((auth_role)q->role), "server_time",
                        (json_int_t)srv_now_ms()));
}
