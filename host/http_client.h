/*
 * HTTP client of the fleet API over libcurl, for the CLI, the agent, the
 * server tests and the load benchmark: one keep-alive handle per base URL,
 * optional admin Bearer token, optional device request signing (docs/
 * protocol.md P-10, P-11) with a clock offset the caller may correct from
 * X-TMO-Server-Time (P-4, P-12). Host-only.
 */
#ifndef TMO_HTTP_CLIENT_H
#define TMO_HTTP_CLIENT_H

#include <psa/crypto.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hc_response {
    long status;   /* HTTP status */
    uint8_t *body; /* heap, NUL-terminated (body_len excludes the NUL) */
    size_t body_len;
    char etag[128]; /* response headers, "" when absent */
    char content_range[128];
    char content_type[128];
    int64_t server_time_ms; /* X-TMO-Server-Time, 0 when absent */
} hc_response;

/* The P-10 headers of one signed request, each a complete "Name: value" line. */
typedef struct hc_signed {
    char device[64];
    char timestamp[48];
    char nonce[64];
    char signature[128];
} hc_signed;

typedef struct hc_client hc_client;

/* curl_global_init, once per process, before any thread uses the client. 0 on success. */
int hc_global_init(void);

/* A client for base_url (e.g. "http://127.0.0.1:8080"); NULL when out of memory. */
hc_client *hc_open(const char *base_url);
void hc_close(hc_client *c);

/*
 * The CA certificates (PEM file) an https:// server must chain to; NULL: the
 * system's. hc_open starts from $TINYMLOPS_CA when set. The server's
 * certificate and host name are always verified. The path is copied.
 */
void hc_set_ca(hc_client *c, const char *ca_path);

/* Sends "Authorization: Bearer token" with every request (NULL: none). The string is copied. */
void hc_set_bearer(hc_client *c, const char *token);

/* Signs every request with key as device_id (key 0: stop signing). The id is copied. */
void hc_set_device(hc_client *c, psa_key_id_t key, const char *device_id);

/* Added to the local clock for request timestamps (server time - local time). */
void hc_set_clock_offset(hc_client *c, int64_t offset_ms);

/* Whole-request timeout (default 30 s). */
void hc_set_timeout(hc_client *c, long timeout_ms);

/*
 * Sends one request. path includes the query (it is what gets signed).
 * body may be NULL when len is 0; content_type may be NULL. extra is a
 * NULL-terminated list of "Name: value" lines, or NULL. Returns 0 when a
 * response arrived (whatever its status; free it with hc_response_free),
 * -1 with a message in err when the server could not be reached.
 */
int hc_request(hc_client *c, const char *method, const char *path, const char *content_type,
               const void *body, size_t len, const char *const *extra, hc_response *out, char *err,
               size_t err_len);

void hc_response_free(hc_response *r);

/*
 * An in-process transport instead of the network (fuzzers, tests): hc_request
 * hands the request to fn, which sets out->status and feeds the response's
 * header lines ("Name: value\r\n") and body bytes through the two functions
 * below, just as libcurl would; fn returns 0, or -1 when the server is to look
 * unreachable. fn NULL: the network again.
 */
typedef int (*hc_transport_fn)(void *ctx, const char *method, const char *path, const void *body,
                               size_t len, hc_response *out);
void hc_set_transport(hc_client *c, hc_transport_fn fn, void *ctx);
/* One response header line (ETag, Content-Range, Content-Type, X-TMO-Server-Time are kept). */
void hc_response_header_line(hc_response *r, const char *line, size_t len);
/* Appends body bytes (kept NUL-terminated). 0 on success, -1 when out of memory. */
int hc_response_append(hc_response *r, const void *data, size_t len);

/*
 * The signed-request headers for one request (P-11): timestamp_ms and nonce
 * as given (nonce NULL: a fresh random one). 0 on success.
 */
int hc_sign(psa_key_id_t key, const char *device_id, const char *method, const char *path,
            const void *body, size_t len, uint64_t timestamp_ms, const char *nonce, hc_signed *out);

/* Wall clock in Unix milliseconds. */
uint64_t hc_now_ms(void);

#endif
