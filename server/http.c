/*
 * libmicrohttpd glue (see http.h). One request state per connection
 * request: the raw URI (captured before libmicrohttpd decodes it, because
 * devices sign it byte for byte), the growing body, and whether it went
 * over the route's limit. Every response gets X-TMO-Server-Time (P-4).
 * Also the limits that protect the server from one client: connections per
 * address, a request deadline, the rate limit, and refusal of NUL bytes.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "json_util.h"
#include "ratelimit.h"
#include "srv.h"

#define DEFAULT_MAX_CONNECTIONS 4000
#define DEFAULT_MAX_CLIENT_CONNS 1024
#define DEFAULT_IDLE_TIMEOUT_S 30
#define DEFAULT_REQUEST_TIMEOUT_S 120

struct http_server {
    struct MHD_Daemon *daemon;
    http_options opt;
    ratelimit *rate;     /* NULL: no rate limit */
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

/* Sums the bytes a header takes as "Name: value\r\n". */
static enum MHD_Result header_bytes(void *cls, enum MHD_ValueKind kind, const char *name,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)name;
    size_t *sum = cls;
    *sum += key_size + 2 + (value != NULL ? value_size : 0) + 2;
    return MHD_YES;
}

/*
 * Whether the request holds a NUL byte: "%00" in the raw URL, or one inside a
 * header. libmicrohttpd 0.9.75 cuts a header value at a NUL and shows only
 * the part before it, so a header's hidden tail is found by size: the header
 * block as received must not be longer than the request line and the headers
 * it shows, written as "Name: value" with CRLF. (A client that pads values
 * with extra blanks is refused too; no common client does.)
 */
static int has_nul(struct MHD_Connection *con, const char *method, const char *version,
                   const char *raw_uri)
{
    for (const char *p = strchr(raw_uri, '%'); p != NULL; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return 1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t shown = strlen(method) + 1 + strlen(raw_uri) + 1 + strlen(version) + 2 + 2;
    MHD_get_connection_values_n(con, MHD_HEADER_KIND, header_bytes, &shown);
    return ci != NULL && ci->header_size > shown;
}

static int is_loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->sa_family == AF_INET6) {
        const struct in6_addr *v6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(v6) || (IN6_IS_ADDR_V4MAPPED(v6) && v6->s6_addr[12] == 127);
    }
    return 0;
}

/* Milliseconds the client must wait (rate limit), 0 when it may go on. */
static int64_t rate_wait(http_server *h, struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (h->rate == NULL || ci == NULL || ci->client_addr == NULL ||
        (!h->opt.rate_loopback && is_loopback(ci->client_addr)))
        return 0;
    return ratelimit_take(h->rate, ci->client_addr, srv_now_ms());
}

/* Whether a query argument name looks like it carries a credential. */
static int secret_name(const char *name, size_t len)
{
    static const char *const words[] = {"token", "secret", "password", "key", "auth", "sig"};
    char low[64];
    if (len >= sizeof low)
        len = sizeof low - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    low[len] = '\0';
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if (strstr(low, words[w]) != NULL)
            return 1;
    return 0;
}

void http_redact_uri(const char *raw, char *out, size_t len)
{
    size_t n = 0;
    const char *q = strchr(raw, '?');
    size_t head = q != NULL ? (size_t)(q - raw) + 1 : strlen(raw);
    n = (size_t)snprintf(out, len, "%.*s", (int)head, raw);
    for (const char *arg = q != NULL ? q + 1 : NULL; arg != NULL && n < len;) {
        const char *amp = strchr(arg, '&'), *end = amp != NULL ? amp : arg + strlen(arg);
        const char *eq = memchr(arg, '=', (size_t)(end - arg));
        int hide = eq != NULL && secret_name(arg, (size_t)(eq - arg));
        int wrote = hide ? snprintf(out + n, len - n, "%.*s=REDACTED%s", (int)(eq - arg), arg,
                                    amp != NULL ? "&" : "")
                         : snprintf(out + n, len - n, "%.*s%s", (int)(end - arg), arg,
                                    amp != NULL ? "&" : "");
        n += wrote > 0 ? (size_t)wrote : 0;
        arg = amp != NULL ? amp + 1 : NULL;
    }
}

static int has_header(const http_resp *r, const char *name)
{
    for (int i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return 1;
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
    /* API answers hold fleet data and are never to be cached or sniffed into another type. */
    if (!has_header(r, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (!has_header(r, "X-Content-Type-Options"))
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < r->header_count; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/*
 * The checks made once the headers are in, before any body is read: NUL
 * bytes, the client's rate, a declared body over the route's limit. 1 with
 * the refusal in r.
 */
static int refused_early(http_server *h, struct MHD_Connection *con, const char *method,
                         const char *version, const request_state *rs, http_resp *r)
{
    int64_t wait;
    if (has_nul(con, method, version, rs->raw_uri)) {
        resp_error(r, 400, "bad_request",
                   "the request holds a NUL byte (in the URL, a query argument or a header)");
        return 1;
    }
    if ((wait = rate_wait(h, con)) > 0) {
        resp_error(r, 429, "rate_limited", "too many requests from this address; retry in %lld ms",
                   (long long)wait);
        http_resp_header(r, "Retry-After", "%lld", (long long)(wait + 999) / 1000);
        return 1;
    }
    const char *cl =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > rs->limit) {
        resp_error(r, 413, "payload_too_large", "request body larger than %zu bytes", rs->limit);
        return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    http_server *h = cls;
    request_state *rs = *con_cls;
    if (rs == NULL || rs->raw_uri == NULL)
        return MHD_NO; /* out of memory in uri_logged: drop the connection */
    if (!rs->started) {
        rs->started = 1;
        rs->limit = h->opt.limit(h->opt.ctx, method, url);
        http_resp r = {.status = 0};
        if (refused_early(h, con, method, version, rs,
                          &r)) { /* answered before the body; the connection closes */
            rs->too_large = rs->responded = 1;
            return send_response(con, &r);
        }
        return MHD_YES;
    }
    if (rs->responded) { /* discard whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        /* A deadline for the whole request: trickling a byte at a time never resets it. */
        if (srv_now_ms() - rs->started_ms > (int64_t)h->opt.request_timeout_s * 1000)
            return MHD_NO;
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
    if (h->opt.access_log || r.status >= 500) {
        char shown[1024];
        http_redact_uri(rs->raw_uri, shown, sizeof shown);
        fprintf(stderr, "%s %s %d %zu %lldms %s\n", method, shown, r.status, r.body_len,
                (long long)(srv_now_ms() - rs->started_ms), q.principal[0] ? q.principal : "-");
    }
    return send_response(con, &r);
}

static unsigned or_default(unsigned v, unsigned dflt)
{
    return v != 0 ? v : dflt;
}

http_server *http_start(const http_options *o, char *err, size_t err_len)
{
    http_server *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    h->opt = *o;
    h->opt.request_timeout_s = or_default(o->request_timeout_s, DEFAULT_REQUEST_TIMEOUT_S);
    if (o->rate > 0 &&
        (h->rate = ratelimit_new(o->rate, o->burst > 0 ? o->burst : 2 * o->rate)) == NULL) {
        snprintf(err, err_len, "out of memory");
        free(h);
        return NULL;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (o->addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    int tls = o->tls_cert_pem != NULL;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, err_len, "this libmicrohttpd was built without TLS; use a TLS proxy");
        ratelimit_free(h->rate);
        free(h);
        return NULL;
    }
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)o->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:"
                 "+VERS-TLS1.2:%SAFE_RENEGOTIATION"},
        {MHD_OPTION_END, 0, NULL}};
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, o->addr,
        MHD_OPTION_THREAD_POOL_SIZE, o->threads > 0 ? o->threads : 1, MHD_OPTION_URI_LOG_CALLBACK,
        uri_logged, h, MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
        or_default(o->idle_timeout_s, DEFAULT_IDLE_TIMEOUT_S), MHD_OPTION_CONNECTION_LIMIT,
        or_default(o->max_connections, DEFAULT_MAX_CONNECTIONS), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        or_default(o->max_client_conns, DEFAULT_MAX_CLIENT_CONNS), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (h->daemon == NULL) {
        snprintf(err, err_len, "%s",
                 tls ? "cannot listen (address in use, or the TLS certificate/key is not valid PEM)"
                     : "cannot listen (address in use or not available)");
        ratelimit_free(h->rate);
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
    ratelimit_free(h->rate);
    free(h);
}
