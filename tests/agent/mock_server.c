/*
 * Scripted device-API server for the agent tests (see mock_server.h).
 */
#include "mock_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devauth.h"
#include "http_client.h"

typedef struct upload {
    char *data;
    size_t len;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body,
                             size_t len, const char *type, const char *const *headers)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    char now[32];
    snprintf(now, sizeof now, "%llu", (unsigned long long)hc_now_ms());
    MHD_add_response_header(r, "X-TMO-Server-Time", now);
    if (type != NULL)
        MHD_add_response_header(r, "Content-Type", type);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2)
        MHD_add_response_header(r, headers[i], headers[i + 1]);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    enum MHD_Result r = reply(c, status, text, strlen(text), "application/json", NULL);
    free(text);
    return r;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *code)
{
    return reply_json(c, status,
                      json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", code));
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    return v != NULL ? v : "";
}

/* P-8: the request is signed (P-10, P-11) by the key in its own body. */
static enum MHD_Result enroll(mock_server *m, struct MHD_Connection *c, const char *url,
                              const upload *u)
{
    json_t *v = json_loadb(u->data, u->len, 0, NULL);
    const char *pub_b64 = json_string_value(json_object_get(v, "public_key"));
    const char *token = json_string_value(json_object_get(v, "token"));
    const char *ts = header(c, "X-TMO-Timestamp"), *nonce = header(c, "X-TMO-Nonce");
    uint8_t pub[65], sig[64], digest[32];
    char id[DEVAUTH_ID_LEN + 1] = "";
    int ok = pub_b64 != NULL && token != NULL &&
             devauth_b64_decode(pub_b64, pub, sizeof pub) == 65 &&
             devauth_b64_decode(header(c, "X-TMO-Signature"), sig, sizeof sig) == 64;
    if (ok)
        devauth_device_id(pub, id);
    ok = ok && strcmp(header(c, "X-TMO-Device"), id) == 0 &&
         devauth_request_digest("POST", url, strtoull(ts, NULL, 10), nonce, u->data, u->len,
                                digest) == 0 &&
         devauth_verify(pub, digest, sig) == 0;
    if (!ok) {
        json_decref(v);
        return error(c, 401, "bad_signature");
    }
    if (strcmp(token, "expired") == 0) {
        json_decref(v);
        return error(c, 401, "enrollment_token_expired");
    }
    pthread_mutex_lock(&m->lock);
    memcpy(m->pub, pub, sizeof pub);
    devauth_device_id(pub, m->device_id);
    m->enrollments++;
    json_t *out = json_pack("{s:s,s:i}", "device_id", m->device_id, "checkin_interval_s", 1);
    pthread_mutex_unlock(&m->lock);
    json_decref(v);
    return reply_json(c, 201, out);
}

/* P-11/P-12 as the real server checks them. 0 = authentic; else the refusal was queued. */
static int authenticate(mock_server *m, struct MHD_Connection *c, const char *method,
                        const char *url, const upload *u, enum MHD_Result *ret)
{
    const char *dev = header(c, "X-TMO-Device"), *ts = header(c, "X-TMO-Timestamp");
    const char *nonce = header(c, "X-TMO-Nonce"), *sig_b64 = header(c, "X-TMO-Signature");
    uint8_t sig[64], digest[32];
    pthread_mutex_lock(&m->lock);
    int known = m->enrollments > 0 && strcmp(dev, m->device_id) == 0;
    int64_t skew = m->max_skew_ms > 0 ? m->max_skew_ms : 300000;
    pthread_mutex_unlock(&m->lock);
    if (!known) {
        *ret = error(c, 401, "unknown_device");
        return -1;
    }
    long long t = strtoll(ts, NULL, 10), now = (long long)hc_now_ms();
    if (t < now - skew || t > now + skew) {
        *ret = error(c, 401, "stale_request");
        return -1;
    }
    if (devauth_b64_decode(sig_b64, sig, sizeof sig) != 64 ||
        devauth_request_digest(method, url, (uint64_t)t, nonce, u->data != NULL ? u->data : "",
                               u->len, digest) != 0 ||
        devauth_verify(m->pub, digest, sig) != 0) {
        pthread_mutex_lock(&m->lock);
        m->bad_signatures++;
        pthread_mutex_unlock(&m->lock);
        *ret = error(c, 401, "bad_signature");
        return -1;
    }
    return 0;
}

static enum MHD_Result checkin(mock_server *m, struct MHD_Connection *c, const upload *u)
{
    pthread_mutex_lock(&m->lock);
    if (m->refuse_times != 0) {
        if (m->refuse_times > 0)
            m->refuse_times--;
        m->refused++;
        unsigned st = (unsigned)m->refuse_status;
        char code[48];
        snprintf(code, sizeof code, "%s", m->refuse_code);
        pthread_mutex_unlock(&m->lock);
        return error(c, st, code);
    }
    json_t *body = json_loadb(u->data, u->len, 0, NULL);
    json_array_append_new(m->checkins, body != NULL ? body : json_null());
    json_t *desired = m->desired != NULL ? json_incref(m->desired) : json_null();
    pthread_mutex_unlock(&m->lock);
    return reply_json(c, 200,
                      json_pack("{s:I,s:i,s:o}", "server_time", (json_int_t)hc_now_ms(),
                                "checkin_interval_s", 1, "desired", desired));
}

static enum MHD_Result bundle(mock_server *m, struct MHD_Connection *c)
{
    const char *range = header(c, "Range"), *if_range = header(c, "If-Range");
    pthread_mutex_lock(&m->lock);
    json_array_append_new(m->ranges, json_string(range));
    size_t len = m->bundle_len;
    uint8_t *copy = malloc(len);
    memcpy(copy, m->bundle, len);
    char etag[80];
    snprintf(etag, sizeof etag, "%s",
             m->bundle_mode == BUNDLE_CHANGED ? "\"sha256:0000\"" : m->etag);
    int mode = m->bundle_mode;
    pthread_mutex_unlock(&m->lock);
    unsigned long long first = 0, last = len - 1;
    int ranged = mode == BUNDLE_RANGES && sscanf(range, "bytes=%llu-%llu", &first, &last) >= 1 &&
                 (if_range[0] == '\0' || strcmp(if_range, etag) == 0);
    if (last >= len)
        last = len - 1;
    enum MHD_Result r;
    if (ranged && first >= len) {
        r = error(c, 416, "range_not_satisfiable");
    } else if (ranged) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%zu", first, last, len);
        const char *h[] = {"ETag", etag, "Content-Range", cr, NULL};
        r = reply(c, 206, copy + first, (size_t)(last - first + 1), "application/octet-stream", h);
    } else {
        const char *h[] = {"ETag", etag, NULL};
        r = reply(c, 200, copy, len, "application/octet-stream", h);
    }
    free(copy);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_len, void **con_cls)
{
    (void)version;
    mock_server *m = cls;
    upload *u = *con_cls;
    if (u == NULL) {
        *con_cls = calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*data_len > 0) {
        u->data = realloc(u->data, u->len + *data_len + 1);
        memcpy(u->data + u->len, data, *data_len);
        u->len += *data_len;
        u->data[u->len] = '\0';
        *data_len = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/api/v1/device/enroll") == 0)
        return enroll(m, c, url, u);
    if (strncmp(url, "/api/v1/device/session", 22) == 0) /* a server without sessions (P-30) */
        return error(c, 404, "not_found");
    enum MHD_Result ret;
    if (authenticate(m, c, method, url, u, &ret) != 0)
        return ret;
    if (strcmp(url, "/api/v1/device/checkin") == 0)
        return checkin(m, c, u);
    if (strcmp(url, "/api/v1/device/bundles/1") == 0)
        return bundle(m, c);
    return error(c, 404, "not_found");
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    upload *u = *con_cls;
    if (u != NULL) {
        free(u->data);
        free(u);
    }
    *con_cls = NULL;
}

int mock_start(mock_server *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->checkins = json_array();
    m->ranges = json_array();
    if (devauth_init() != 0)
        return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 on_request, m, MHD_OPTION_NOTIFY_COMPLETED, on_done, m,
                                 MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (m->daemon == NULL)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(m->base, sizeof m->base, "http://127.0.0.1:%u", info != NULL ? info->port : 0);
    return info != NULL && info->port != 0 ? 0 : -1;
}

void mock_stop(mock_server *m)
{
    if (m->daemon != NULL)
        MHD_stop_daemon(m->daemon);
    json_decref(m->checkins);
    json_decref(m->ranges);
    json_decref(m->desired);
    free(m->bundle);
    pthread_mutex_destroy(&m->lock);
    memset(m, 0, sizeof *m);
}

json_t *mock_offer(mock_server *m, const uint8_t *bytes, size_t len, int64_t deployment,
                   const char *version)
{
    uint8_t d[32];
    size_t n = 0;
    char digest[72] = "sha256:";
    psa_hash_compute(PSA_ALG_SHA_256, bytes, len, d, sizeof d, &n);
    devauth_hex(d, sizeof d, digest + 7);
    pthread_mutex_lock(&m->lock);
    free(m->bundle);
    m->bundle = malloc(len);
    memcpy(m->bundle, bytes, len);
    m->bundle_len = len;
    snprintf(m->etag, sizeof m->etag, "\"%s\"", digest);
    json_t *desired =
        json_pack("{s:I,s:i,s:s,s:s,s:s,s:I,s:s}", "deployment_id", (json_int_t)deployment,
                  "bundle_id", 1, "model", "test/model", "version", version, "digest", digest,
                  "size", (json_int_t)len, "url", "/api/v1/device/bundles/1");
    json_decref(m->desired);
    m->desired = json_incref(desired);
    pthread_mutex_unlock(&m->lock);
    return desired;
}

char *mock_reported(mock_server *m, int64_t deployment)
{
    char out[4096] = "";
    pthread_mutex_lock(&m->lock);
    size_t i, k;
    json_t *body, *r;
    json_array_foreach(m->checkins, i, body)
    {
        json_array_foreach(json_object_get(body, "reports"), k, r)
        {
            if (json_integer_value(json_object_get(r, "deployment_id")) != deployment)
                continue;
            if (out[0] != '\0')
                strncat(out, ",", sizeof out - strlen(out) - 1);
            strncat(out, json_string_value(json_object_get(r, "state")),
                    sizeof out - strlen(out) - 1);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return strdup(out);
}

size_t mock_checkins(mock_server *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = json_array_size(m->checkins);
    pthread_mutex_unlock(&m->lock);
    return n;
}
