/*
 * The server's life cycle: open and migrate the store, load the root keys,
 * listen, run the deployment controller on the main thread between
 * signals, and shut down gracefully on SIGINT/SIGTERM. Also `server init`.
 */
#include <netdb.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deploy_ctl.h"
#include "devauth.h"
#include "http.h"
#include "keys.h"
#include "router.h"
#include "srv.h"
#include "telemetry.h"

static int resolve(const char *listen, struct sockaddr_storage *addr, socklen_t *len, char *err,
                   size_t err_len)
{
    char host[256], port[16];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= sizeof host ||
        strlen(colon + 1) >= sizeof port || colon[1] == '\0') {
        snprintf(err, err_len, "--listen '%s' must be HOST:PORT", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    strcpy(port, colon + 1);
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') { /* [::1]:8080 */
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM},
                    *res = NULL;
    int rc = getaddrinfo(h[0] ? h : NULL, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, err_len, "--listen '%s': %s", listen,
                 rc != 0 ? gai_strerror(rc) : "no address");
        return -1;
    }
    const struct addrinfo *pick =
        res; /* "localhost" may list ::1 first; clients mostly try 127.0.0.1 */
    for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memcpy(addr, pick->ai_addr, pick->ai_addrlen);
    *len = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int load_roots(srv *s, char *err, size_t err_len)
{
    for (size_t i = 0; i < s->cfg.root_key_count; i++) {
        host_key k;
        if (host_key_read_public(&k, s->cfg.root_key_paths[i], err, err_len) != 0)
            return -1;
        memcpy(s->roots[i], k.pub, sizeof s->roots[i]);
        s->root_count++;
    }
    return 0;
}

/* A whole small file (PEM) as a heap string; NULL with a message in err. */
static char *read_text(const char *path, const char *what, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *text = f != NULL ? malloc(65536) : NULL;
    size_t n = text != NULL ? fread(text, 1, 65535, f) : 0;
    int ok = text != NULL && !ferror(f) && n > 0 && n < 65535;
    if (f != NULL)
        fclose(f);
    if (!ok) {
        snprintf(err, err_len, "%s %s: cannot read it (missing, empty or over 64 KiB)", what, path);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static void free_secret(char *text)
{
    if (text != NULL)
        memset(text, 0, strlen(text));
    free(text);
}

static store *open_store(const char *url, int64_t *version, char *err, size_t err_len)
{
    store *st = store_open(url, err, err_len);
    if (st == NULL)
        return NULL;
    if (ST(st, migrate, version) != ST_OK) {
        snprintf(err, err_len, "%s", store_error());
        store_close(st);
        return NULL;
    }
    return st;
}

static int write_port(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

#define LEASE_CONTROLLER "controller"

/*
 * The main thread between signals: every tick, the replica that holds the
 * controller lease runs the deployment controller, the alert engine and
 * retention; with several replicas on one database exactly one does, and
 * another takes over within a lease period when it dies (docs/server.md).
 */
static void serve(srv *s, const sigset_t *stop)
{
    int64_t tick = s->cfg.tick_ms > 0 ? s->cfg.tick_ms : 1000;
    int64_t ttl = 5 * tick > 5000 ? 5 * tick : 5000;
    struct timespec period = {(time_t)(tick / 1000), (long)(tick % 1000) * 1000000};
    int leading = 0;
    for (;;) {
        int sig = sigtimedwait(stop, NULL, &period);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        int64_t now = srv_now_ms();
        int lead = ST(s->st, lease_acquire, LEASE_CONTROLLER, s->replica, now, ttl) == ST_OK;
        if (lead != leading)
            fprintf(stderr, "tinymlops server: replica %.8s %s the controller lease\n", s->replica,
                    lead ? "holds" : "no longer holds");
        leading = lead;
        if (!lead)
            continue;
        deploy_tick(s);
        now = srv_now_ms();
        tel_alerts_tick(s, now);
        tel_retention_tick(s, now);
    }
}

int server_run(const server_config *cfg)
{
    static srv s; /* the handlers' context lives as long as the process */
    char err[600];
    int64_t version = 0;
    memset(&s, 0, sizeof s);
    s.cfg = *cfg;
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (devauth_init() != 0) {
        fprintf(stderr, "tinymlops server: PSA crypto init failed\n");
        return 1;
    }
    if (load_roots(&s, err, sizeof err) != 0 ||
        resolve(cfg->listen, &addr, &addr_len, err, sizeof err) != 0 ||
        (s.st = open_store(cfg->db_url, &version, err, sizeof err)) == NULL) {
        fprintf(stderr, "tinymlops server: %s\n", err);
        return 1;
    }
    uint8_t rnd[16];
    srv_crypto_lock();
    int have_id = psa_generate_random(rnd, sizeof rnd) == PSA_SUCCESS;
    srv_crypto_unlock();
    devauth_hex(rnd, sizeof rnd, s.replica);
    if (!have_id || srv_session_secret_load(&s) != 0) {
        fprintf(stderr, "tinymlops server: cannot load the session secret: %s\n", store_error());
        store_close(s.st);
        return 1;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop,
                    NULL); /* before the worker threads start: only sigtimedwait sees them */
    signal(SIGPIPE, SIG_IGN);
    http_options o = {.addr = (const struct sockaddr *)&addr,
                      .addr_len = addr_len,
                      .threads = cfg->threads,
                      .dispatch = router_dispatch,
                      .limit = router_body_limit,
                      .ctx = &s,
                      .access_log = cfg->access_log,
                      .max_client_conns = cfg->max_client_conns,
                      .rate = cfg->rate_limit,
                      .rate_loopback = cfg->rate_limit_loopback};
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert_path != NULL) {
        if ((cert = read_text(cfg->tls_cert_path, "--tls-cert", err, sizeof err)) == NULL ||
            (key = read_text(cfg->tls_key_path, "--tls-key", err, sizeof err)) == NULL) {
            fprintf(stderr, "tinymlops server: %s\n", err);
            free(cert);
            store_close(s.st);
            return 1;
        }
        o.tls_cert_pem = cert;
        o.tls_key_pem = key;
    }
    http_server *h = http_start(&o, err, sizeof err); /* keeps pointers to cert and key */
    if (h == NULL) {
        free_secret(key);
        free(cert);
        fprintf(stderr, "tinymlops server: %s: %s\n", cfg->listen, err);
        store_close(s.st);
        return 1;
    }
    unsigned port = http_port(h);
    if (cfg->port_file != NULL && write_port(cfg->port_file, port) != 0)
        fprintf(stderr, "tinymlops server: cannot write --port-file %s\n", cfg->port_file);
    fprintf(stderr,
            "tinymlops server: listening on %s://%s (port %u), %s schema v%lld, %zu root key(s), "
            "%u threads\n",
            cfg->tls_cert_path != NULL ? "https" : "http", cfg->listen, port, cfg->db_url,
            (long long)version, s.root_count, cfg->threads);
    if (s.root_count == 0)
        fprintf(stderr,
                "tinymlops server: warning: no --root-key given; bundle uploads will be refused\n");
    serve(&s, &stop);
    fprintf(stderr, "tinymlops server: shutting down\n");
    http_stop(h, 5000);
    free_secret(key);
    free(cert);
    store_close(s.st);
    return 0;
}

int server_init_db(const char *db_url, const char *name, char *token, size_t token_len, char *err,
                   size_t err_len)
{
    int64_t version = 0;
    if (devauth_init() != 0) {
        snprintf(err, err_len, "PSA crypto init failed");
        return -1;
    }
    store *st = open_store(db_url, &version, err, err_len);
    if (st == NULL)
        return -1;
    st_token t;
    memset(&t, 0, sizeof t);
    st_copy(t.role, sizeof t.role, "admin");
    st_copy(t.name, sizeof t.name, name);
    t.created_at = srv_now_ms();
    int rc = -1;
    if (srv_token_new("tmoa_", 24, token, token_len) != 0 || srv_token_hash(token, t.hash) != 0)
        snprintf(err, err_len, "no randomness available");
    else if (ST(st, token_insert, &t) != ST_OK)
        snprintf(err, err_len, "%s", store_error());
    else
        rc = 0;
    store_close(st);
    return rc;
}
