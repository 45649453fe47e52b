/*
 * The server in process for fuzzing (see net_server.h). The store is an
 * in-memory SQLite database; a copy of it after set-up is kept and put back
 * (SQLite's backup API) before every input, so each input meets the same
 * fleet and a crasher replays alone.
 */
#define _GNU_SOURCE /* memmem */
#include "net_server.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "devauth.h"
#include "devsession.h"
#include "deploy_ctl.h"
#include "handlers.h"
#include "json_util.h"
#include "router.h"
#include "sqlite_priv.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/model.h"
#include "../../tests/fc_model_fixture.h"

#define MAX_HEADERS 24 /* pairs, including the harness's signature headers */

static srv S;
static sqlite3 *image;                        /* a copy of the store after set-up */
static char bundle_digest[ST_DIGEST_LEN + 1]; /* of the set-up bundle */
static char bundle_etag[ST_DIGEST_LEN + 3];

int ns_key(char which, host_key *k)
{
    static const char names[] = "abrs";
    const char *p = strchr(names, which);
    if (which == '\0' || p == NULL)
        return -1;
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 32; i++) /* fixed scalars well below the group order */
        k->priv[i] = (uint8_t)(0x11 * (p - names + 1) + i);
    k->priv[0] = 0x5a;
    psa_key_id_t id;
    if (devauth_init() != 0 || devauth_import_private(k->priv, &id, k->pub) != 0)
        return -1;
    psa_destroy_key(id);
    k->has_private = 1;
    return 0;
}

void ns_pub_b64(char which, char out[128])
{
    host_key k;
    out[0] = '\0';
    if (ns_key(which, &k) == 0)
        devauth_b64_encode(k.pub, sizeof k.pub, out, 128);
}

static uint8_t *make_model(size_t *len)
{
    float w[12], b[3] = {0.25f, 0.5f, 0.75f};
    for (int i = 0; i < 12; i++)
        w[i] = (float)(i % 5) - 2.0f;
    return fc_model_fixture(4, 3, w, b, len);
}

uint8_t *ns_bundle(const char *version, uint64_t counter, size_t *len)
{
    host_key root, signer;
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len = 0, model_len = 0;
    if (ns_key('r', &root) != 0 || ns_key('s', &signer) != 0 ||
        hb_cert_make(&root, signer.pub, 1600000000, 4000000000u, "", cert, &cert_len) != 0)
        return NULL;
    uint8_t *model = make_model(&model_len);
    if (model == NULL)
        return NULL;
    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = model;
    in.model_len = model_len;
    in.name = NS_MODEL;
    in.created = 1700000000;
    in.counter = counter;
    in.signer = &signer;
    in.cert = cert;
    in.cert_len = cert_len;
    uint8_t *out = NULL;
    char err[300];
    if (host_parse_semver(version, &in.version) != 0 ||
        host_bundle_pack(&in, &out, len, err, sizeof err) != 0) {
        fprintf(stderr, "ns_bundle: %s\n", err);
        out = NULL;
    }
    free(model);
    return out;
}

/* ---- requests ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX-decodes s in place (as libmicrohttpd does for the path and query arguments). */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p != '\0'; p++) {
        if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) << 4 | hexval(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Splits "a=b&c=d" (in place) into name, value pairs. Returns the number of strings stored. */
static size_t split_query(char *q, const char **out, size_t cap)
{
    size_t n = 0;
    for (char *tok = q; tok != NULL && n + 2 < cap;) {
        char *next = strchr(tok, '&');
        if (next != NULL)
            *next++ = '\0';
        char *eq = strchr(tok, '=');
        if (eq != NULL)
            *eq++ = '\0';
        unescape(tok);
        if (eq != NULL)
            unescape(eq);
        out[n++] = tok;
        out[n++] = eq != NULL ? eq : "";
        tok = next;
    }
    out[n] = NULL;
    return n;
}

/* The body with "@DIGEST@" replaced by the set-up bundle's digest (heap, *len updated); NULL without. */
static char *substitute(const char *body, size_t *len)
{
    static const char mark[] = "@DIGEST@";
    size_t ml = sizeof mark - 1, dl = strlen(bundle_digest);
    if (memmem(body, *len, mark, ml) == NULL)
        return NULL;
    char *out = malloc(*len / ml * dl + *len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < *len;) {
        if (*len - i >= ml && memcmp(body + i, mark, ml) == 0) {
            memcpy(o, bundle_digest, dl);
            o += dl;
            i += ml;
        } else {
            *o++ = body[i++];
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

/* The four P-10 headers of q signed with device key `which`, appended to hdr at *n. */
static void sign(char which, const http_req *q, int index, char bufs[4][128], const char **hdr,
                 size_t *n)
{
    host_key k;
    psa_key_id_t id;
    if (ns_key(which, &k) != 0 || devauth_import_private(k.priv, &id, k.pub) != 0)
        return;
    char device[DEVAUTH_ID_LEN + 1];
    devauth_device_id(k.pub, device);
    uint64_t ts = (uint64_t)srv_now_ms();
    uint8_t digest[32], sig[DEVAUTH_SIG_LEN];
    snprintf(bufs[0], 128, "%s", device);
    snprintf(bufs[1], 128, "%llu", (unsigned long long)ts);
    /* Fresh: the store starts over for every input, and set-up requests count apart. */
    snprintf(bufs[2], 128, "%032x", index + 1 + (image == NULL ? 0x1000 : 0));
    bufs[3][0] = '\0';
    if (devauth_request_digest(q->method, q->raw_uri, ts, bufs[2], q->body, q->body_len, digest) ==
            0 &&
        devauth_sign(id, digest, sig) == 0)
        devauth_b64_encode(sig, sizeof sig, bufs[3], 128);
    psa_destroy_key(id);
    const char *names[4] = {"X-TMO-Device", "X-TMO-Timestamp", "X-TMO-Nonce", "X-TMO-Signature"};
    for (int i = 0; i < 4; i++) {
        hdr[(*n)++] = names[i];
        hdr[(*n)++] = bufs[i];
    }
}

/* Device a's session, put into the store at set-up (a fixed id and key: seeds can use it). */
#define NS_SESSION_ID "5e55105e55105e55105e55105e55105e"
static const uint8_t session_key[32] = {0x5e, 0x55, 0x10, 0x4b, 0xe7};

/* The four P-33 headers of q under device a's session, counter index + 1, appended to hdr. */
static void session_mac(const http_req *q, int index, char bufs[4][128], const char **hdr,
                        size_t *n)
{
    host_key k;
    if (ns_key('a', &k) != 0)
        return;
    uint8_t mac[DEVSESSION_MAC_LEN];
    devauth_device_id(k.pub, bufs[0]);
    snprintf(bufs[1], 128, "%s", NS_SESSION_ID);
    snprintf(bufs[2], 128, "%d", index + 1);
    bufs[3][0] = '\0';
    if (devsession_mac(session_key, q->method, q->raw_uri, NS_SESSION_ID, (uint64_t)index + 1,
                       q->body, q->body_len, mac) == 0)
        devauth_b64_encode(mac, sizeof mac, bufs[3], 128);
    const char *names[4] = {"X-TMO-Device", "X-TMO-Session", "X-TMO-Counter", "X-TMO-MAC"};
    for (int i = 0; i < 4; i++) {
        hdr[(*n)++] = names[i];
        hdr[(*n)++] = bufs[i];
    }
}

/* Aborts unless r keeps the HTTP layer's and P-3's promises. */
static void check(const http_req *q, const http_resp *r)
{
    if (r->status < 200 || r->status > 599 || (r->body_len > 0 && r->body == NULL) ||
        r->header_count < 0 || r->header_count > HTTP_MAX_HEADERS) {
        fprintf(stderr, "%s %s: status %d, body %zu\n", q->method, q->raw_uri, r->status,
                r->body_len);
        abort();
    }
    if (r->status == 500) { /* the store is in memory and healthy: a 500 is a server bug */
        fprintf(stderr, "%s %s: 500 %.*s\n", q->method, q->raw_uri, (int)r->body_len,
                r->body != NULL ? r->body : "");
        abort();
    }
    if (r->content_type != NULL && strcmp(r->content_type, "application/json") == 0) {
        json_t *v = json_loadb(r->body != NULL ? r->body : "", r->body_len, 0, NULL);
        json_t *code = json_object_get(json_object_get(v, "error"), "code");
        if (v == NULL || (r->status >= 400 && !json_is_string(code))) {
            fprintf(stderr, "%s %s: %d without a P-3 body: %.*s\n", q->method, q->raw_uri,
                    r->status, (int)r->body_len, r->body != NULL ? r->body : "");
            abort();
        }
        json_decref(v);
    }
    for (int i = 0; i < r->header_count; i++) {
        unsigned long long first, last, total;
        if (strcmp(r->headers[i].name, "Content-Range") != 0 || r->status != 206)
            continue;
        if (sscanf(r->headers[i].value, "bytes %llu-%llu/%llu", &first, &last, &total) != 3 ||
            first > last || last >= total || r->body_len != last - first + 1) {
            fprintf(stderr, "%s %s: 206 with Content-Range %s and %zu bytes\n", q->method,
                    q->raw_uri, r->headers[i].value, r->body_len);
            abort();
        }
    }
}

/* Decodes and serves one request of text[0..len) (NUL-terminated, modified). Returns its status. */
static int serve_one(char *text, size_t len, int index)
{
    char *nl = memchr(text, '\n', len);
    if (nl == NULL)
        return 0;
    *nl = '\0';
    char *line = text, *body = nl + 1;
    size_t body_len = len - (size_t)(body - text);
    char *sp = strchr(line, ' ');
    if (sp == NULL)
        return 0;
    *sp = '\0';
    char *uri = sp + 1;
    uri[strcspn(uri, "\r")] = '\0';
    const char *hdr[2 * MAX_HEADERS + 1], *query[2 * 16 + 1];
    size_t nh = 0;
    char sign_with = '\0';
    /* headers until an empty line */
    while (body_len > 0) {
        char *end = memchr(body, '\n', body_len);
        size_t ll = end != NULL ? (size_t)(end - body) : body_len;
        char *next = end != NULL ? end + 1 : body + body_len;
        body_len -= (size_t)(next - body);
        if (end != NULL)
            *end = '\0';
        if (ll > 0 && body[ll - 1] == '\r')
            body[--ll] = '\0';
        if (ll == 0) {
            body = next;
            break;
        }
        char *colon = strchr(body, ':');
        if (colon != NULL && nh + 2 < 2 * MAX_HEADERS - 8) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strcmp(body, "X-Fuzz-Sign") == 0) {
                sign_with = v[0];
            } else if (strcmp(body, "X-Fuzz-Session") == 0) {
                sign_with = 'S';
            } else {
                if (strcmp(v, "@ETAG@") == 0)
                    v = bundle_etag;
                hdr[nh++] = body;
                hdr[nh++] = v;
            }
        }
        body = next;
    }
    char raw_uri[2048], path[2048], qtext[2048], shown[256];
    snprintf(raw_uri, sizeof raw_uri, "%s", uri);
    /* The access log's view of the URL (http.c): terminated, within its buffer, never longer. */
    http_redact_uri(raw_uri, shown, sizeof shown);
    if (strlen(shown) >= sizeof shown)
        abort();
    char *qmark = strchr(uri, '?');
    snprintf(qtext, sizeof qtext, "%s", qmark != NULL ? qmark + 1 : "");
    if (qmark != NULL)
        *qmark = '\0';
    snprintf(path, sizeof path, "%s", uri);
    unescape(path);
    if (qmark != NULL)
        split_query(qtext, query, sizeof query / sizeof query[0]);
    else
        query[0] = NULL;
    size_t blen = body_len;
    char *substituted = substitute(body, &blen);
    http_req q = {.method = line,
                  .path = path,
                  .raw_uri = raw_uri,
                  .body = (const uint8_t *)(substituted != NULL ? substituted : body),
                  .body_len = substituted != NULL ? blen : body_len,
                  .headers = hdr,
                  .query = query};
    char sig_bufs[4][128];
    const char *all[2 * MAX_HEADERS + 1];
    size_t na = 0;
    if (sign_with == 'S')
        session_mac(&q, index, sig_bufs, all, &na);
    else if (sign_with != '\0')
        sign(sign_with, &q, index, sig_bufs, all, &na);
    for (size_t i = 0; i < nh; i++)
        all[na++] = hdr[i];
    all[na] = NULL;
    q.headers = all;
    http_resp r = {.status = 500};
    if (q.body_len > router_body_limit(&S, q.method, q.path))
        resp_error(&r, 413, "payload_too_large", "request body too large");
    else
        router_dispatch(&S, &q, &r);
    check(&q, &r);
    if (getenv("NS_TRACE") != NULL) /* what each request got, for writing seeds */
        fprintf(stderr, "%s %s -> %d %.*s\n", q.method, q.raw_uri, r.status,
                r.content_type != NULL && strstr(r.content_type, "json") ? (int)r.body_len : 0,
                r.body != NULL ? r.body : "");
    free(r.body);
    free(substituted);
    return r.status;
}

/* ---- set-up ---- */

static int token(const char *secret, const char *role, int revoked)
{
    st_token t;
    memset(&t, 0, sizeof t);
    st_copy(t.role, sizeof t.role, role);
    st_copy(t.name, sizeof t.name, secret + 10);
    t.created_at = srv_now_ms();
    if (srv_token_hash(secret, t.hash) != 0 || ST(S.st, token_insert, &t) != ST_OK)
        return -1;
    return revoked ? (ST(S.st, token_revoke, t.id) == ST_OK ? 0 : -1) : 0;
}

static int enroll_token(const char *secret, int64_t ttl_ms, int64_t uses)
{
    st_enroll_token e;
    memset(&e, 0, sizeof e);
    e.created_at = srv_now_ms();
    e.expires_at = e.created_at + ttl_ms;
    e.uses_left = uses;
    st_copy(e.group, sizeof e.group, "fuzz");
    st_copy(e.tags_json, sizeof e.tags_json, "[\"lab\"]");
    return srv_token_hash(secret, e.hash) == 0 && ST(S.st, enroll_insert, &e) == ST_OK ? 0 : -1;
}

/* One set-up request through the router; its status. */
static int setup_call(const char *method, const char *uri, const char *auth, char sign_with,
                      const void *body, size_t len)
{
    size_t head_cap = strlen(method) + strlen(uri) + 200;
    char *text = malloc(head_cap + len + 1);
    if (text == NULL)
        return 0;
    int n = snprintf(text, head_cap, "%s %s\n", method, uri);
    if (auth != NULL)
        n += snprintf(text + n, head_cap - (size_t)n, "Authorization: Bearer %s\n", auth);
    if (sign_with != '\0')
        n += snprintf(text + n, head_cap - (size_t)n, "X-Fuzz-Sign: %c\n", sign_with);
    text[n++] = '\n';
    memcpy(text + n, body, len);
    text[n + len] = '\0';
    static int calls; /* each set-up request signs with a nonce of its own */
    int status = serve_one(text, (size_t)n + len, calls++);
    free(text);
    return status;
}

static int setup_fleet(void)
{
    char pub[128], body[1024];
    if (token(NS_TOKEN_ADMIN, "admin", 0) != 0 || token(NS_TOKEN_OPERATOR, "operator", 0) != 0 ||
        token(NS_TOKEN_VIEWER, "viewer", 0) != 0 || token(NS_TOKEN_REVOKED, "admin", 1) != 0 ||
        enroll_token(NS_ENROLL, 10LL * 365 * 86400 * 1000, 1000) != 0 ||
        enroll_token(NS_ENROLL_EXPIRED, -1000, 5) != 0 || enroll_token(NS_ENROLL_USED, 86400000, 0))
        return -1;
    ns_pub_b64('a', pub);
    snprintf(body, sizeof body,
             "{\"token\":\"%s\",\"public_key\":\"%s\",\"profile\":"
             "{\"arch\":\"x86_64\",\"runtime_version\":\"0.1.0\",\"ram_bytes\":1048576,"
             "\"flash_bytes\":4194304,\"ops\":[\"FULLY_CONNECTED\"]}}",
             NS_ENROLL, pub);
    if (setup_call("POST", "/api/v1/device/enroll", NULL, 'a', body, strlen(body)) != 201)
        return -1;
    size_t len = 0;
    uint8_t *b = ns_bundle("1.0.0", 1, &len);
    int st = b != NULL ? setup_call("POST", "/api/v1/bundles", NS_TOKEN_OPERATOR, 0, b, len) : 0;
    free(b);
    st_bundle sb;
    if (st != 201 || ST(S.st, bundle_get, 1, &sb) != ST_OK)
        return -1;
    snprintf(bundle_digest, sizeof bundle_digest, "%s", sb.digest);
    snprintf(bundle_etag, sizeof bundle_etag, "\"%s\"", sb.digest);
    st_bundle_free(&sb);
    snprintf(body, sizeof body,
             "{\"model\":\"%s\",\"version\":\"1.0.0\",\"target\":{\"group\":\"fuzz\"},"
             "\"waves\":[100],\"soak_s\":0}",
             NS_MODEL);
    if (setup_call("POST", "/api/v1/deployments", NS_TOKEN_OPERATOR, 0, body, strlen(body)) != 201)
        return -1;
    deploy_tick(&S);
    st_session ss = {.expires_at = INT64_MAX / 2};
    host_key a;
    char a_id[DEVAUTH_ID_LEN + 1];
    if (ns_key('a', &a) != 0)
        return -1;
    devauth_device_id(a.pub, a_id);
    snprintf(ss.id, sizeof ss.id, "%s", NS_SESSION_ID);
    memcpy(ss.key, session_key, sizeof ss.key);
    if (ST(S.st, session_set, a_id, &ss) != ST_OK)
        return -1;
    const char *checkin = "{\"active_slot\":\"a\",\"runtime_version\":\"0.1.0\",\"nv_counter\":0,"
                          "\"slots\":[{\"slot\":\"a\",\"state\":\"empty\"}]}";
    return setup_call("POST", "/api/v1/device/checkin", NULL, 'a', checkin, strlen(checkin)) == 200
               ? 0
               : -1;
}

/* Copies database from into to (the online backup API: to's prepared statements stay usable). */
static int copy_db(sqlite3 *from, sqlite3 *to)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (b == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? fin : rc;
}

int ns_open(void)
{
    static int state; /* 0 not yet, 1 ready, -1 failed */
    if (state != 0)
        return state > 0 ? 0 : -1;
    state = -1;
    char err[300];
    int64_t version = 0;
    host_key root;
    server_config_defaults(&S.cfg);
    S.cfg.db_url = "sqlite::memory:";
    if (devauth_init() != 0 || ns_key('r', &root) != 0)
        return -1;
    memcpy(S.roots[0], root.pub, sizeof root.pub);
    S.root_count = 1;
    S.st = store_open(S.cfg.db_url, err, sizeof err);
    if (S.st == NULL || ST(S.st, migrate, &version) != ST_OK || srv_session_secret_load(&S) != 0 ||
        setup_fleet() != 0 || sqlite3_open(":memory:", &image) != SQLITE_OK) {
        fprintf(stderr, "ns_open: %s\n", S.st == NULL ? err : store_error());
        return -1;
    }
    if (copy_db(sq_conn_get(S.st)->db, image) != SQLITE_OK)
        return -1;
    state = 1;
    return 0;
}

static void restore(void)
{
    sqlite3 *db = sq_conn_get(S.st)->db;
    if (copy_db(image, db) != SQLITE_OK) {
        fprintf(stderr, "restore: %s\n", sqlite3_errmsg(db));
        abort();
    }
}

/* The first needle in p[0..n), NULL when none (bodies may hold NULs). */
static char *find(char *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (p[i] == needle[0] && memcmp(p + i, needle, m) == 0)
            return p + i;
    return NULL;
}

int ns_run(const uint8_t *data, size_t size)
{
    if (ns_open() != 0)
        abort();
    restore();
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int status = 0;
    char *p = text, *end = text + size;
    for (int i = 0; i < NS_MAX_REQUESTS && p < end; i++) {
        char *sep = find(p, (size_t)(end - p), "\n-----\n");
        size_t n = sep != NULL ? (size_t)(sep - p) : (size_t)(end - p);
        p[n] = '\0';
        status = serve_one(p, n, i);
        if (sep == NULL)
            break;
        p = sep + 7;
    }
    free(text);
    return status;
}
