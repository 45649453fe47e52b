/*
 * Check-in load benchmark of the fleet server (docs/server.md, numbers in
 * docs/PERFORMANCE.md): N simulated device identities in one process check
 * in against a real `tinymlops server` on SQLite (or PostgreSQL, --store),
 * over keep-alive
 * connections driven by libcurl multi. Reports check-ins per second and
 * p50/p99 latency.
 *
 * Lightweight identities: device i has private key d0 + i and public key
 * Q0 + i*G, derived by one point addition each (a fresh scalar
 * multiplication per device would take minutes for 100k). Devices are
 * written straight into the store before the server starts, and every
 * measured request is signed before the clock starts, so the figures are
 * the server's (signature verification, nonce record, check-in
 * transaction), not the client's signing.
 *
 *   checkin_bench [--devices 1000,10000,100000] [--requests N] [--concurrency C]
 *                 [--threads T] [--cli PATH] [--store postgres:CONNINFO]
 *                 [--auth signature|session]
 *
 * --auth session: every device has an open session (P-30..P-33), written into
 * the store with the devices (a session costs one ECDSA verification to open,
 * once a day by default; this measures the steady state), and requests carry
 * a MAC and a counter instead of a signature.
 *
 * --store: a PostgreSQL database (libpq conninfo after "postgres:", e.g. the
 * TMO_STORE_URL of scripts/pg-test); each size runs in a new schema of it,
 * dropped afterwards.
 */
#define _GNU_SOURCE /* memmem */
#include <curl/curl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devauth.h"
#include "devsession.h"
#include "http_client.h"
#include "store.h"

typedef struct identity {
    uint8_t priv[32];
    uint8_t pub[65];
    char id[33];
} identity;

typedef struct request {
    size_t device;
    hc_signed h;
    uint64_t start_ns, end_ns;
    long status;
    int desired; /* the response named a bundle to run */
} request;

static const char BODY[] =
    "{\"active_slot\":\"a\",\"slots\":[{\"slot\":\"a\",\"state\":\"active\",\"model\":\"acme/"
    "kws\",\"version\":"
    "\"1.2.0\",\"counter\":3,\"bundle_digest\":\"sha256:"
    "5f2d0c4b9e8a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5\"},"
    "{\"slot\":\"b\",\"state\":\"inactive\"}],\"nv_counter\":3,\"runtime_version\":\"0.1.0\","
    "\"health\":{\"inferences\":1200,\"errors\":0,\"uptime_s\":3600}}";

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Device i = (d0 + i, Q0 + i*G); checked against PSA's own public key for a sample. */
static int derive_identities(identity *ids, size_t n)
{
    psa_key_id_t k;
    uint8_t pub0[65], priv0[32];
    if (devauth_generate(&k, pub0) != 0 || devauth_export_private(k, priv0) != 0)
        return -1;
    psa_destroy_key(k);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d, one;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&one);
    int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) ||
             mbedtls_mpi_read_binary(&d, priv0, 32) || mbedtls_mpi_lset(&one, 1) ||
             mbedtls_ecp_point_read_binary(&grp, &q, pub0, 65);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t olen = 0;
        if (i > 0)
            rc = mbedtls_mpi_add_int(&d, &d, 1) || mbedtls_mpi_mod_mpi(&d, &d, &grp.N) ||
                 mbedtls_ecp_muladd(&grp, &q, &one, &q, &one, &grp.G);
        rc = rc || mbedtls_mpi_write_binary(&d, ids[i].priv, 32) ||
             mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                            ids[i].pub, 65);
        devauth_device_id(ids[i].pub, ids[i].id);
    }
    mbedtls_ecp_group_free(&grp);
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&one);
    uint8_t check[65];
    size_t probe = n - 1;
    if (rc != 0 || devauth_import_private(ids[probe].priv, &k, check) != 0)
        return -1;
    psa_destroy_key(k);
    return memcmp(check, ids[probe].pub, 65) == 0 ? 0 : -1;
}

static const char ADMIN_TOKEN[] = "tmoa_checkin_bench_token";
static int session_mode; /* --auth session */

/* Device i's session: id = the device id, key = SHA-256 of its private scalar (bench only). */
static void session_of(const identity *id, st_session *ss)
{
    size_t n = 0;
    memset(ss, 0, sizeof *ss);
    memcpy(ss->id, id->id, DEVSESSION_ID_LEN);
    psa_hash_compute(PSA_ALG_SHA_256, id->priv, 32, ss->key, sizeof ss->key, &n);
    ss->expires_at = INT64_MAX / 2;
}

static int hash_token(char hex[65])
{
    uint8_t h[32];
    size_t n = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, (const uint8_t *)ADMIN_TOKEN, strlen(ADMIN_TOKEN), h,
                         sizeof h, &n))
        return -1;
    devauth_hex(h, sizeof h, hex);
    return 0;
}

/* A rollout of the bench bundle to every device (one wave) through the API, so every check-in
   computes a real `desired`. Returns the seconds the creation took, or -1. */
static double create_rollout(int port)
{
    char base[64], err[300];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    hc_client *c = hc_open(base);
    hc_set_bearer(c, ADMIN_TOKEN);
    hc_set_timeout(c, 600000);
    const char *body =
        "{\"model\":\"bench/model\",\"version\":\"1.0.0\",\"target\":{\"tags\":[\"bench\"]},"
        "\"waves\":[100],\"soak_s\":0}";
    hc_response r;
    uint64_t t = mono_ns();
    int rc = hc_request(c, "POST", "/api/v1/deployments", "application/json", body, strlen(body),
                        NULL, &r, err, sizeof err);
    double secs = (double)(mono_ns() - t) / 1e9;
    if (rc != 0)
        fprintf(stderr, "checkin_bench: deployment: %s\n", err);
    else if (r.status != 201)
        fprintf(stderr, "checkin_bench: deployment: %ld %s\n", r.status, (const char *)r.body);
    int ok = rc == 0 && r.status == 201;
    if (rc == 0)
        hc_response_free(&r);
    hc_close(c);
    return ok ? secs : -1;
}

static int seed_store(const char *url, const identity *ids, size_t n)
{
    char err[300];
    store *st = store_open(url, err, sizeof err);
    int64_t v;
    if (st == NULL || ST(st, migrate, &v) != ST_OK || ST(st, begin, ST_TX_WRITE) != ST_OK) {
        fprintf(stderr, "checkin_bench: store: %s %s\n", err, store_error());
        store_close(st);
        return -1;
    }
    const char *profile =
        "{\"arch\":\"cortex-m4\",\"flash_bytes\":1048576,\"ops\":[\"CONV_2D\",\"FULLY_CONNECTED\"],"
        "\"ram_bytes\":262144,\"runtime_version\":\"0.1.0\",\"speed_factor\":1.0}";
    int rc = ST_OK;
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        st_device d;
        memset(&d, 0, sizeof d);
        memcpy(d.id, ids[i].id, sizeof d.id);
        memcpy(d.public_key, ids[i].pub, 65);
        snprintf(d.group, sizeof d.group, "fleet-%zu", i % 10);
        snprintf(d.tags_json, sizeof d.tags_json, "[\"bench\"]");
        d.enrolled_at = 1;
        d.profile_json = (char *)profile;
        rc = ST(st, device_insert, &d);
        st_session ss;
        session_of(&ids[i], &ss);
        if (rc == ST_OK && session_mode)
            rc = ST(st, session_set, ids[i].id, &ss);
    }
    /* An admin token and one bundle (metadata and filler bytes: the server verified it on upload). */
    st_token t = {.created_at = 1};
    snprintf(t.role, sizeof t.role, "admin");
    snprintf(t.name, sizeof t.name, "bench");
    st_bundle b = {.arena_bytes = 100000,
                   .flash_bytes = 50000,
                   .counter = 1,
                   .created_at = 1,
                   .uploaded_at = 1};
    snprintf(b.digest, sizeof b.digest, "sha256:%064d", 1);
    snprintf(b.model, sizeof b.model, "bench/model");
    snprintf(b.version, sizeof b.version, "1.0.0");
    snprintf(b.arches_json, sizeof b.arches_json, "[\"cortex-m4\"]");
    snprintf(b.min_runtime, sizeof b.min_runtime, "0.1.0");
    b.ops_json = "[\"CONV_2D\"]";
    static uint8_t filler[4096];
    if (rc == ST_OK && (hash_token(t.hash) != 0 || ST(st, token_insert, &t) != ST_OK ||
                        ST(st, bundle_insert, &b, filler, sizeof filler) != ST_OK))
        rc = ST_ERROR;
    rc = rc == ST_OK ? ST0(st, commit) : rc;
    if (rc != ST_OK)
        fprintf(stderr, "checkin_bench: seeding: %s\n", store_error());
    store_close(st);
    return rc == ST_OK ? 0 : -1;
}

/* MACs every request in its device's session, each device's counters in request order. */
static int premac(const identity *ids, request *reqs, size_t m, size_t n)
{
    uint64_t *counters = calloc(n, sizeof *counters);
    if (counters == NULL)
        return -1;
    for (size_t j = 0; j < m; j++) {
        size_t dev = reqs[j].device;
        uint64_t counter = ++counters[dev];
        st_session ss;
        uint8_t mac[DEVSESSION_MAC_LEN];
        char b64[64];
        session_of(&ids[dev], &ss);
        if (devsession_mac(ss.key, "POST", "/api/v1/device/checkin", ss.id, counter, BODY,
                           strlen(BODY), mac) != 0) {
            free(counters);
            return -1;
        }
        devauth_b64_encode(mac, sizeof mac, b64, sizeof b64);
        request *r = &reqs[j];
        snprintf(r->h.device, sizeof r->h.device, "X-TMO-Device: %s", ids[dev].id);
        snprintf(r->h.timestamp, sizeof r->h.timestamp, "X-TMO-Session: %s", ss.id);
        snprintf(r->h.nonce, sizeof r->h.nonce, "X-TMO-Counter: %llu", (unsigned long long)counter);
        snprintf(r->h.signature, sizeof r->h.signature, "X-TMO-MAC: %s", b64);
    }
    free(counters);
    return 0;
}

/* Signs every request (grouped by device: one key import per device). */
static int presign(const identity *ids, request *reqs, size_t m, size_t n)
{
    if (session_mode)
        return premac(ids, reqs, m, n);
    uint64_t ts = hc_now_ms();
    for (size_t j = 0; j < m;) {
        psa_key_id_t k;
        uint8_t pub[65];
        size_t dev = reqs[j].device;
        if (devauth_import_private(ids[dev].priv, &k, pub) != 0)
            return -1;
        for (; j < m && reqs[j].device == dev; j++)
            if (hc_sign(k, ids[dev].id, "POST", "/api/v1/device/checkin", BODY, strlen(BODY), ts,
                        NULL, &reqs[j].h))
                return -1;
        psa_destroy_key(k);
    }
    return 0;
}

static pid_t start_server(const char *cli, const char *dir, const char *url, unsigned threads,
                          int *port)
{
    char port_file[512], log[512], th[16];
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(th, sizeof th, "%u", threads);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execl(cli, cli, "server", "--db", url, "--listen", "127.0.0.1:0", "--port-file", port_file,
              "--threads", th, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        struct timespec t = {0, 25000000};
        nanosleep(&t, NULL);
    }
    kill(pid, SIGKILL);
    return -1;
}

static void start(CURLM *multi, CURL *e, request *r, const char *url, struct curl_slist **h)
{
    curl_slist_free_all(*h);
    *h = curl_slist_append(NULL, "Content-Type: application/json");
    *h = curl_slist_append(*h, "Expect:");
    *h = curl_slist_append(*h, r->h.device);
    *h = curl_slist_append(*h, r->h.timestamp);
    *h = curl_slist_append(*h, r->h.nonce);
    *h = curl_slist_append(*h, r->h.signature);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, BODY);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(BODY));
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    r->start_ns = mono_ns();
    curl_multi_add_handle(multi, e);
}

static size_t on_body(char *p, size_t s, size_t n, void *ctx)
{
    request *r = ctx;
    if (memmem(p, s * n, "\"desired\":{", 11) != NULL)
        r->desired = 1;
    return s * n;
}

/* Runs the requests with `conc` connections; returns the elapsed seconds. */
static double drive(int port, request *reqs, size_t m, int conc)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/device/checkin", port);
    CURLM *multi = curl_multi_init();
    CURL **e = calloc((size_t)conc, sizeof *e);
    struct curl_slist **h = calloc((size_t)conc, sizeof *h);
    size_t next = 0, done = 0;
    uint64_t t0 = mono_ns();
    for (int i = 0; i < conc && next < m; i++) {
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
        start(multi, e[i], &reqs[next++], url, &h[i]);
    }
    while (done < m) {
        int running = 0, left = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *easy = msg->easy_handle;
            request *r = NULL;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
            r->end_ns = mono_ns();
            r->status = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
            curl_multi_remove_handle(multi, easy);
            done++;
            int slot = 0;
            while (e[slot] != easy)
                slot++;
            if (next < m)
                start(multi, easy, &reqs[next++], url, &h[slot]);
        }
        if (done < m)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double secs = (double)(mono_ns() - t0) / 1e9;
    for (int i = 0; i < conc; i++) {
        if (e[i] != NULL)
            curl_easy_cleanup(e[i]);
        curl_slist_free_all(h[i]);
    }
    free(e);
    free(h);
    curl_multi_cleanup(multi);
    return secs;
}

/* CPU time (user + system) a process has used so far, in seconds; -1 when unknown. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs one SQL statement on the PostgreSQL database of conninfo with psql. */
static int psql(const char *conninfo, const char *sql)
{
    char cmd[1200];
    if (strchr(conninfo, '\'') != NULL)
        return -1;
    snprintf(cmd, sizeof cmd,
             "psql -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse -d '%s' -c 'SET client_min_messages = "
             "warning; %s' >&2",
             conninfo, sql);
    return system(cmd) == 0 ? 0 : -1;
}

static int run_one(const char *cli, const char *pg, size_t n, size_t m, int conc, unsigned threads)
{
    char dir[] = "/tmp/tmo-bench-XXXXXX", url[600], schema[64] = "", sql[128];
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(url, sizeof url, "sqlite:%s/fleet.db", dir);
    if (pg != NULL) { /* a fresh schema of the database, so every size starts empty */
        snprintf(schema, sizeof schema, "tmo_bench_%ld_%zu", (long)getpid(), n);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        snprintf(url, sizeof url, "postgres:%s options=-csearch_path=%s", pg, schema);
        if (psql(pg, sql) != 0)
            return -1;
    }
    identity *ids = calloc(n, sizeof *ids);
    request *reqs = calloc(m, sizeof *reqs);
    uint64_t t = mono_ns();
    int rc = ids != NULL && reqs != NULL ? derive_identities(ids, n) : -1;
    double t_keys = (double)(mono_ns() - t) / 1e9;
    t = mono_ns();
    rc = rc == 0 ? seed_store(url, ids, n) : rc;
    double t_seed = (double)(mono_ns() - t) / 1e9;
    /* Request j goes to device j * n / m (m <= n: distinct devices spread over the fleet), else j mod n. */
    for (size_t j = 0; j < m; j++)
        reqs[j].device = m <= n ? (size_t)((unsigned long long)j * n / m) : j % n;
    /* Each device checks in about m / n times: signed, consecutive requests share a key import;
       in a session a device's requests are far apart, as a real device's (the counter must
       arrive in order). */
    for (size_t j = 0; m > n && j < m; j++)
        reqs[j].device = session_mode ? j % n : j / (m / n + (m % n != 0));
    t = mono_ns();
    rc = rc == 0 ? presign(ids, reqs, m, n) : rc;
    double t_sign = (double)(mono_ns() - t) / 1e9;
    int port = 0;
    pid_t pid = rc == 0 ? start_server(cli, dir, url, threads, &port) : -1;
    if (pid < 0) {
        fprintf(stderr, "checkin_bench: setup failed for %zu devices\n", n);
        free(ids);
        free(reqs);
        return -1;
    }
    double t_deploy = create_rollout(port);
    double cpu0 = cpu_seconds(pid), me0 = cpu_seconds(getpid());
    double secs = t_deploy >= 0 ? drive(port, reqs, m, conc) : 1;
    double server_us = (cpu_seconds(pid) - cpu0) * 1e6 / (double)m;
    double client_us = (cpu_seconds(getpid()) - me0) * 1e6 / (double)m;
    kill(pid, SIGTERM);
    int server_status = 0;
    waitpid(pid, &server_status, 0);
    if (!WIFEXITED(server_status) || WEXITSTATUS(server_status) != 0) {
        char show[400];
        snprintf(show, sizeof show, "cat %s/server.log >&2", dir);
        if (system(show) != 0)
            fprintf(stderr, "checkin_bench: no server log\n");
        fprintf(stderr, "checkin_bench: the server did not exit cleanly\n");
    }
    uint64_t *lat = malloc(m * sizeof *lat);
    size_t errors = 0;
    for (size_t j = 0; j < m; j++) {
        lat[j] = reqs[j].end_ns - reqs[j].start_ns;
        int bad = reqs[j].status != 200 || !reqs[j].desired;
        if (bad && errors == 0)
            fprintf(stderr, "checkin_bench: first error: request %zu got HTTP %ld%s\n", j,
                    reqs[j].status, reqs[j].status == 200 ? " without a desired bundle" : "");
        errors += bad;
    }
    qsort(lat, m, sizeof *lat, cmp_u64);
    printf("| %s | %zu | %zu | %d | %u | %.0f | %.2f | %.2f | %.2f | %zu | %.0f | %.0f | %.2f |\n",
           session_mode ? "session" : "signature", n, m, conc, threads, (double)m / secs,
           (double)lat[m / 2] / 1e6, (double)lat[(size_t)((double)m * 0.99)] / 1e6,
           (double)lat[m - 1] / 1e6, errors, server_us, client_us, t_deploy);
    fprintf(stderr,
            "checkin_bench: %zu devices: keys %.1f s, seed %.1f s, presign %.1f s, run %.1f s\n", n,
            t_keys, t_seed, t_sign, secs);
    fflush(stdout);
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    if (pg != NULL && psql(pg, sql) != 0)
        fprintf(stderr, "checkin_bench: cannot drop schema %s\n", schema);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "checkin_bench: cannot remove %s\n", dir);
    free(lat);
    free(ids);
    free(reqs);
    return errors == 0 && WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *cli = TMO_CLI, *sizes = "1000,10000,100000", *pg = NULL;
    long requests = 10000, conc = 32, threads = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--devices") == 0)
            sizes = argv[i + 1];
        else if (strcmp(argv[i], "--requests") == 0)
            requests = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--concurrency") == 0)
            conc = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--cli") == 0)
            cli = argv[i + 1];
        else if (strcmp(argv[i], "--auth") == 0 &&
                 (strcmp(argv[i + 1], "session") == 0 || strcmp(argv[i + 1], "signature") == 0))
            session_mode = strcmp(argv[i + 1], "session") == 0;
        else if (strcmp(argv[i], "--store") == 0 && strncmp(argv[i + 1], "postgres:", 9) == 0 &&
                 strstr(argv[i + 1], "://") == NULL)
            pg = argv[i + 1] + 9;
        else {
            fprintf(stderr, "usage: checkin_bench [--devices 1000,10000,100000] [--requests N] "
                            "[--concurrency C] "
                            "[--threads T] [--cli PATH] [--store postgres:CONNINFO] "
                            "[--auth signature|session]\n");
            return 2;
        }
    }
    if (requests < 1 || conc < 1 || conc > 1024 || threads < 1 || devauth_init() != 0 ||
        hc_global_init() != 0)
        return 2;
    printf("| auth | devices | check-ins | connections | server threads | check-ins/s | p50 ms | "
           "p99 ms | max ms | errors | server CPU us/check-in | client CPU us/check-in | "
           "deploy create s |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int failed = 0;
    for (const char *p = sizes; *p != '\0';) {
        char *end;
        long n = strtol(p, &end, 10);
        if (n < 1)
            return 2;
        failed |= run_one(cli, pg, (size_t)n, (size_t)requests, (int)conc, (unsigned)threads) != 0;
        p = *end == ',' ? end + 1 : end;
    }
    return failed;
}
