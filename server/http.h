/*
 * The HTTP layer over libmicrohttpd: collects a request (method, path, the
 * raw URI devices sign, headers, the whole body up to a per-route limit),
 * hands it to one dispatch function, and sends back the response it fills.
 * Handlers never touch libmicrohttpd.
 */
#ifndef TMO_HTTP_H
#define TMO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct MHD_Connection;

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 8

typedef struct http_req {
    const char *method;
    const char *path;    /* decoded path without the query */
    const char *raw_uri; /* path and query exactly as sent (what devices sign, P-11) */
    const uint8_t *body;
    size_t body_len;
    struct MHD_Connection *conn;
    /* Requests made in process (fuzzers, tests) have no connection (conn NULL): their headers
       and query arguments are NULL-terminated lists of name, value pairs (either may be NULL). */
    const char *const *headers;
    const char *const *query;
    const char *params[HTTP_MAX_PARAMS]; /* path parameters captured by the router */
    int param_count;
    /* Set by authentication. */
    int role;           /* auth_role of an admin token, 0 for devices */
    char principal[72]; /* admin token name, or device id */
    /* A device request's replay guard, recorded by auth_guard_record (auth.h). */
    struct {
        int kind;       /* 0 none, 1 nonce (signed request), 2 counter (session request) */
        char value[40]; /* the nonce, or the session id */
        int64_t counter;
    } guard;
} http_req;

typedef struct http_resp {
    int status;
    char *body; /* heap, freed by the HTTP layer */
    size_t body_len;
    const char *content_type;
    int header_count;
    struct {
        char name[40];
        char value[200];
    } headers[HTTP_MAX_HEADERS];
} http_resp;

/* A request header or query argument, NULL when absent. */
const char *http_header(const http_req *q, const char *name);
const char *http_query(const http_req *q, const char *name);
/* Whether the path and every query argument (names and values) are valid UTF-8. */
int http_url_is_utf8(const http_req *q);

/*
 * raw_uri as the access log shows it: values of query arguments whose name
 * suggests a credential (token, secret, password, key, auth, sig) become
 * REDACTED. Truncated to len.
 */
void http_redact_uri(const char *raw_uri, char *out, size_t len);

/* Adds a response header (value formatted like printf). */
void http_resp_header(http_resp *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef void (*http_dispatch_fn)(void *ctx, http_req *q, http_resp *r);
/* Largest body accepted for a method and path. */
typedef size_t (*http_limit_fn)(void *ctx, const char *method, const char *path);

typedef struct http_server http_server;

typedef struct http_options {
    const struct sockaddr *addr;
    socklen_t addr_len;
    unsigned threads;
    http_dispatch_fn dispatch;
    http_limit_fn limit;
    void *ctx;
    int access_log;
    /* Limits (docs/server.md "Limits"); 0 = the default of each. */
    unsigned max_connections;   /* all clients together (default 4000) */
    unsigned max_client_conns;  /* one client address (default 1024) */
    unsigned idle_timeout_s;    /* a connection with no traffic (default 30) */
    unsigned request_timeout_s; /* from request line to the last body byte (default 120) */
    double rate;                /* requests/s per client address; 0: no rate limit */
    double burst;               /* bucket size (default 2 s worth of rate) */
    int rate_loopback;          /* also limit 127.0.0.0/8 and ::1 (tests, local proxies) */
    /* HTTPS (libmicrohttpd with GnuTLS): PEM texts of the certificate chain and key; NULL: HTTP */
    const char *tls_cert_pem, *tls_key_pem;
} http_options;

/*
 * Starts listening and serving on worker threads. NULL with a message in err
 * on failure. Before a handler sees a request, the layer refuses: a NUL byte
 * anywhere in the URL, a query argument or a header (400; C strings would cut
 * them short), and a client over its rate (429 with Retry-After). Every
 * answer carries X-Content-Type-Options: nosniff and, unless the handler
 * chose its own, Cache-Control: no-store.
 */
http_server *http_start(const http_options *o, char *err, size_t err_len);

/* The port actually bound (useful with port 0). */
uint16_t http_port(http_server *h);

/* Stops accepting connections, waits up to grace_ms for requests in flight, then stops. */
void http_stop(http_server *h, int grace_ms);

#endif
