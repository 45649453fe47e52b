/*
 * libcurl client of the fleet API (see http_client.h). Signing uses
 * devauth, the same code the server verifies with.
 */
#define _POSIX_C_SOURCE 200809L
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "devauth.h"

struct hc_client {
    CURL *curl;
    char *base;
    char *bearer;
    char *ca_path; /* PEM bundle the server certificate must chain to (HTTPS); NULL: system CAs */
    psa_key_id_t key;
    char device_id[DEVAUTH_ID_LEN + 1];
    int64_t offset_ms;
    long timeout_ms;
    hc_transport_fn transport; /* in-process instead of libcurl (hc_set_transport) */
    void *transport_ctx;
};

int hc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

uint64_t hc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

hc_client *hc_open(const char *base_url)
{
    hc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->curl = curl_easy_init();
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    c->base = strndup(base_url, n);
    c->timeout_ms = 30000;
    const char *ca = getenv("TINYMLOPS_CA");
    if (ca != NULL && ca[0] != '\0')
        hc_set_ca(c, ca);
    if (c->curl == NULL || c->base == NULL) {
        hc_close(c);
        return NULL;
    }
    return c;
}

void hc_set_ca(hc_client *c, const char *ca_path)
{
    free(c->ca_path);
    c->ca_path = ca_path != NULL ? strdup(ca_path) : NULL;
}

void hc_close(hc_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->base);
    if (c->bearer != NULL)
        memset(c->bearer, 0, strlen(c->bearer));
    free(c->bearer);
    free(c->ca_path);
    free(c);
}

void hc_set_bearer(hc_client *c, const char *token)
{
    free(c->bearer);
    c->bearer = NULL;
    if (token != NULL) {
        size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
        c->bearer = malloc(n);
        if (c->bearer != NULL)
            snprintf(c->bearer, n, "Authorization: Bearer %s", token);
    }
}

void hc_set_device(hc_client *c, psa_key_id_t key, const char *device_id)
{
    c->key = key;
    snprintf(c->device_id, sizeof c->device_id, "%s", device_id != NULL ? device_id : "");
}

void hc_set_clock_offset(hc_client *c, int64_t offset_ms)
{
    c->offset_ms = offset_ms;
}

void hc_set_timeout(hc_client *c, long timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

int hc_sign(psa_key_id_t key, const char *device_id, const char *method, const char *path,
            const void *body, size_t len, uint64_t timestamp_ms, const char *nonce, hc_signed *out)
{
    char fresh[DEVAUTH_NONCE_LEN + 1], sig_b64[100];
    uint8_t digest[32], sig[DEVAUTH_SIG_LEN];
    if (nonce == NULL) {
        if (devauth_nonce(fresh) != 0)
            return -1;
        nonce = fresh;
    }
    if (devauth_request_digest(method, path, timestamp_ms, nonce, len ? body : "", len, digest) !=
            0 ||
        devauth_sign(key, digest, sig) != 0 ||
        devauth_b64_encode(sig, sizeof sig, sig_b64, sizeof sig_b64) < 0)
        return -1;
    snprintf(out->device, sizeof out->device, "X-TMO-Device: %s", device_id);
    snprintf(out->timestamp, sizeof out->timestamp, "X-TMO-Timestamp: %llu",
             (unsigned long long)timestamp_ms);
    snprintf(out->nonce, sizeof out->nonce, "X-TMO-Nonce: %s", nonce);
    snprintf(out->signature, sizeof out->signature, "X-TMO-Signature: %s", sig_b64);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    hc_response *r = ctx;
    size_t add = size * n;
    uint8_t *p = realloc(r->body, r->body_len + add + 1);
    if (p == NULL)
        return 0;
    memcpy(p + r->body_len, data, add);
    r->body = p;
    r->body_len += add;
    r->body[r->body_len] = '\0';
    return add;
}

/* Copies the value of a "Name: value\r\n" header line into dst when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    size_t vlen = len - n - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    hc_response *r = ctx;
    size_t len = size * n;
    char time_text[32] = "";
    header_value(line, len, "ETag", r->etag, sizeof r->etag);
    header_value(line, len, "Content-Range", r->content_range, sizeof r->content_range);
    header_value(line, len, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(line, len, "X-TMO-Server-Time", time_text, sizeof time_text);
    if (time_text[0] != '\0')
        r->server_time_ms = strtoll(time_text, NULL, 10);
    return len;
}

void hc_set_transport(hc_client *c, hc_transport_fn fn, void *ctx)
{
    c->transport = fn;
    c->transport_ctx = ctx;
}

void hc_response_header_line(hc_response *r, const char *line, size_t len)
{
    on_header((char *)line, 1, len, r);
}

int hc_response_append(hc_response *r, const void *data, size_t len)
{
    return on_body((char *)data, 1, len, r) == len ? 0 : -1;
}

/* hc_request through the in-process transport. */
static int transport_request(hc_client *c, const char *method, const char *path, const void *body,
                             size_t len, hc_response *out, char *err, size_t err_len)
{
    if (c->transport(c->transport_ctx, method, path, body, len, out) != 0) {
        snprintf(err, err_len, "%s%s: unreachable", c->base, path);
        hc_response_free(out);
        return -1;
    }
    if (out->body == NULL) {
        out->body = calloc(1, 1);
        out->body_len = 0;
    }
    return 0;
}

int hc_request(hc_client *c, const char *method, const char *path, const char *content_type,
               const void *body, size_t len, const char *const *extra, hc_response *out, char *err,
               size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (c->transport != NULL)
        return transport_request(c, method, path, body, len, out, err, err_len);
    size_t url_len = strlen(c->base) + strlen(path) + 1;
    char *url = malloc(url_len);
    if (url == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(url, url_len, "%s%s", c->base, path);
    struct curl_slist *h = NULL;
    char ct[160];
    hc_signed sig;
    if (content_type != NULL) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        h = curl_slist_append(h, ct);
    }
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip for uploads */
    if (c->bearer != NULL)
        h = curl_slist_append(h, c->bearer);
    if (c->key != 0) {
        if (hc_sign(c->key, c->device_id, method, path, body, len,
                    hc_now_ms() + (uint64_t)c->offset_ms, NULL, &sig)) {
            snprintf(err, err_len, "cannot sign the request");
            curl_slist_free_all(h);
            free(url);
            return -1;
        }
        h = curl_slist_append(h, sig.device);
        h = curl_slist_append(h, sig.timestamp);
        h = curl_slist_append(h, sig.nonce);
        h = curl_slist_append(h, sig.signature);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        h = curl_slist_append(h, extra[i]);
    CURL *e = c->curl;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* HTTPS always verifies the server (peer and host name), against ca_path when given. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_path != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_path);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 ||
             strcmp(method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, len ? body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(h);
    free(url);
    if (rc != CURLE_OK) {
        snprintf(err, err_len, "%s%s: %s", c->base, path, curl_easy_strerror(rc));
        hc_response_free(out);
        return -1;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->body == NULL) {
        out->body = calloc(1, 1);
        out->body_len = 0;
    }
    return 0;
}

void hc_response_free(hc_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
