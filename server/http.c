/*
 * libmicrohttpd glue (see http.h). One request state per connection
 * request: the raw URI (captured before libmicrohttpd decodes it, because
 * devices sign it byte for byte), the growing body, and whether it went
 * over the route's limit. Every response gets X-TMO-Server-Time (P-4).
 */
#include "http.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "json_util.h"
#include "srv.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_options opt;
    atomic_int inflight; /* requests between their URI and their completion */
};

typedef struct request_state {
    char *raw_uri;
    int started;
    int too_large;
    int responded; /* a response is already queued */
    size_t limit;
    uint8_t *body;
    size_t len, cap;
    int64_t started_ms;
} request_state;

/* A value in a name, value, ... NULL list; header names compare like libmicrohttpd's (any case). */
static const char *list_value(const char *const *list, const char *name, int any_case)
{
    for (size_t i = 0; list != NULL && list[i] != NULL && list[i + 1] != NULL; i += 2)
        if ((any_case ? strcasecmp(list[i], name) : strcmp(list[i], name)) == 0)
            return list[i + 1];
    return NULL;
}

const char *http_header(const http_req *q, const char *name)
{
    if (q->conn == NULL)
        return list_value(q->headers, name, 1);
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_req *q, const char *name)
{
    if (q->conn == NULL)
        return list_value(q->query, name, 0);
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result argument_is_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    int *ok = cls;
    if (!utf8_valid(key) || (value != NULL && !utf8_valid(value)))
        *ok = 0;
    return *ok ? MHD_YES : MHD_NO;
}

int http_url_is_utf8(const http_req *q)
{
    int ok = utf8_valid(q->path);
    if (q->conn != NULL)
        MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, argument_is_utf8, &ok);
    else
        for (size_t i = 0; q->query != NULL && q->query[i] != NULL; i++)
            ok = ok && utf8_valid(q->query[i]);
    return ok;
}

void http_resp_header(http_resp *r, const char *name, const char *fmt, ...)
{
    if (r->header_count >= HTTP_MAX_HEADERS)
        return;
    st_copy(r->headers[r->header_count].name, sizeof r->headers[0].name, name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->headers[r->header_count].value, sizeof r->headers[0].value, fmt, ap);
    va_end(ap);
    r->header_count++;
}

static void *uri_logged(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)con;
    http_server *h = cls;
    atomic_fetch_add(&h->inflight, 1);
    request_state *rs = calloc(1, sizeof *rs);
    if (rs != NULL) {
        rs->raw_uri = strdup(uri != NULL ? uri : "");
        rs->started_ms = srv_now_ms();
    }
    return rs;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)con;
    (void)toe;
    http_server *h = cls;
    request_state *rs = *con_cls;
    atomic_fetch_sub(&h->inflight, 1);
    if (rs != NULL) {
        free(rs->raw_uri);
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

static int append(request_state *rs, const char *data, size_t n)
{
    if (rs->too_large)
        return 0;
    if (n > rs->limit - rs->len) {
        rs->too_large = 1;
        free(rs->body);
        rs->body = NULL;
        rs->len = rs->cap = 0;
        return 0;
    }
    if (rs->len + n > rs->cap) {
        size_t cap = rs->cap ? rs->cap : 4096;
        while (cap < rs->len + n)
            cap *= 2;
        if (cap > rs->limit)
            cap = rs->limit;
        uint8_t *p = realloc(rs->body, cap);
        if (p == NULL)
            return -1;
        rs->body = p;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, n);
    rs->len += n;
    return 0;
}

static enum MHD_Result send_response(struct MHD_Connection *con, http_resp *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)srv_now_ms());
    MHD_add_response_header(resp, "X-TMO-Server-Time", now);
    if (r->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (int i = 0; i < r->header_count; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *h = cls;
    request_state *rs = *con_cls;
    if (rs == NULL || rs->raw_uri == NULL)
        return MHD_NO; /* out of memory in uri_logged: drop the connection */
    if (!rs->started) {
        rs->started = 1;
        rs->limit = h->opt.limit(h->opt.ctx, method, url);
        const char *cl =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl == NULL || strtoull(cl, NULL, 10) <= rs->limit)
            return MHD_YES;
        /* Declared too large: answer now instead of reading the body (the connection then closes). */
        rs->too_large = rs->responded = 1;
        http_resp r = {.status = 413};
        resp_error(&r, 413, "payload_too_large", "request body larger than %zu bytes", rs->limit);
        return send_response(con, &r);
    }
    if (rs->responded) { /* discard whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (append(rs, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_req q = {.method = method,
                  .path = url,
                  .raw_uri = rs->raw_uri,
                  .conn = con,
                  .body = rs->body != NULL ? rs->body : (const uint8_t *)"",
                  .body_len = rs->len};
    http_resp r = {.status = 500};
    if (rs->too_large)
        resp_error(&r, 413, "payload_too_large", "request body larger than %zu bytes", rs->limit);
    else
        h->opt.dispatch(h->opt.ctx, &q, &r);
    if (h->opt.access_log || r.status >= 500)
        fprintf(stderr, "%s %s %d %zu %lldms %s\n", method, rs->raw_uri, r.status, r.body_len,
                (long long)(srv_now_ms() - rs->started_ms), q.principal[0] ? q.principal : "-");
    return send_response(con, &r);
}

http_server *http_start(const http_options *o, char *err, size_t err_len)
{
    http_server *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    h->opt = *o;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (o->addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, o->addr,
        MHD_OPTION_THREAD_POOL_SIZE, o->threads > 0 ? o->threads : 1, MHD_OPTION_URI_LOG_CALLBACK,
        uri_logged, h, MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (h->daemon == NULL) {
        snprintf(err, err_len, "cannot listen (address in use or not available)");
        free(h);
        return NULL;
    }
    return h;
}

uint16_t http_port(http_server *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info != NULL ? info->port : 0;
}

void http_stop(http_server *h, int grace_ms)
{
    if (h == NULL)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    for (int waited = 0; waited < grace_ms; waited += 20) {
        if (atomic_load(&h->inflight) <= 0)
            break;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(h);
}
