/*
 * Bundle downloads (docs/protocol.md P-16), for devices (signed) and for
 * operators: ETag = the bundle's content digest, single byte ranges with
 * 206/416, If-Range so a resumed download never mixes two bundles, and
 * If-None-Match for caches. A device gets only the bundles its current or
 * previous assignment names (a bundle may be encrypted for another device,
 * or be a model the fleet's owner never gave it); any other id is a 404,
 * the same answer as a bundle that does not exist.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json_util.h"
#include "range.h"

#define ASSIGNMENTS_OWNED 2 /* the current assignment and the one before it */

typedef struct owned {
    int64_t bundle_id;
    int seen, match;
} owned;

static int owned_visit(void *ctx, const st_assignment *a)
{
    owned *o = ctx;
    if (a->bundle_id == 0)
        return 0; /* skipped: names no bundle */
    o->match |= a->bundle_id == o->bundle_id;
    return ++o->seen >= ASSIGNMENTS_OWNED;
}

static void download(srv *s, http_req *q, http_resp *r, int64_t id)
{
    st_bundle b;
    int rc = ST(s->st, bundle_get, id, &b);
    if (rc != ST_OK) {
        if (rc == ST_NOT_FOUND)
            resp_error(r, 404, "not_found", "no bundle %lld", (long long)id);
        else
            resp_store_error(r);
        return;
    }
    char etag[ST_DIGEST_LEN + 3];
    snprintf(etag, sizeof etag, "\"%s\"", b.digest);
    uint64_t size = (uint64_t)b.size;
    st_bundle_free(&b);
    if (range_etag_matches(http_header(q, "If-None-Match"), etag)) {
        r->status = 304;
        http_resp_header(r, "ETag", "%s", etag);
        return;
    }
    byte_range br = {0, size - 1};
    int kind = range_parse(http_header(q, "Range"), size, &br);
    const char *if_range = http_header(q, "If-Range");
    if (kind != RANGE_NONE && if_range != NULL && !range_etag_matches(if_range, etag))
        kind = RANGE_NONE; /* the bundle changed since the partial copy: send it whole */
    if (kind == RANGE_UNSATISFIABLE) {
        resp_error(r, 416, "range_not_satisfiable", "range outside the bundle's %llu bytes",
                   (unsigned long long)size);
        http_resp_header(r, "Content-Range", "bytes */%llu", (unsigned long long)size);
        http_resp_header(r, "ETag", "%s", etag);
        return;
    }
    if (kind == RANGE_NONE)
        br = (byte_range){0, size - 1};
    size_t len = (size_t)(br.last - br.first + 1);
    uint8_t *data = malloc(len ? len : 1);
    if (data == NULL) {
        resp_error(r, 500, "internal", "out of memory");
        return;
    }
    rc = ST(s->st, bundle_read, id, br.first, len, data);
    if (rc != ST_OK) {
        free(data);
        resp_store_error(r);
        return;
    }
    r->status = kind == RANGE_OK ? 206 : 200;
    r->body = (char *)data;
    r->body_len = len;
    r->content_type = "application/octet-stream";
    http_resp_header(r, "ETag", "%s", etag);
    http_resp_header(r, "Accept-Ranges", "bytes");
    if (kind == RANGE_OK)
        http_resp_header(r, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)br.first,
                         (unsigned long long)br.last, (unsigned long long)size);
}

HANDLER(h_bundle_download)
{
    int64_t id;
    if (param_id(q, 0, &id, r) == 0)
        download(s, q, r, id);
}

HANDLER(h_device_bundle_download)
{
    int64_t id;
    if (param_id(q, 0, &id, r) != 0)
        return;
    owned o = {id, 0, 0};
    if (ST(s->st, assignments_of_device, q->principal, SRV_ASSIGNMENT_SCAN, owned_visit, &o) !=
        ST_OK) {
        resp_store_error(r);
        return;
    }
    if (!o.match) {
        resp_error(r, 404, "not_found", "no bundle %lld", (long long)id);
        return;
    }
    download(s, q, r, id);
}
