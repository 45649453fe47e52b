/*
 * Fleet integration fixture (see itest.h).
 */
#define _GNU_SOURCE
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "host.h"
#include "keys.h"
#include "profile_write.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/model.h"
#include "../fc_model_fixture.h"

long it_ms(void)
{
    return (long)(host_now_ns() / 1000000u);
}

void it_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int it_available(void)
{
    return access(TMO_CLI, X_OK) == 0 && access(TMO_AGENT, X_OK) == 0;
}

int it_sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char sink[4096];
    char *buf = out != NULL ? out : sink;
    size_t len = out != NULL ? cap : sizeof sink, n = 0;
    while (n + 1 < len) {
        size_t got = fread(buf + n, 1, len - 1 - n, p);
        if (got == 0)
            break;
        n += got;
    }
    while (fread(sink, 1, sizeof sink, p) > 0) /* drain what does not fit */
        ;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The port a server wrote into port_file, 0 when it exited before writing it or never did. */
static int wait_port(pid_t pid, const char *port_file)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0)
            return port;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        it_sleep_ms(50);
    }
    return 0;
}

/* Keys and certificate (CLI) and the first admin token (server init on e->db). 0 on success. */
static int prepare(it_env *e)
{
    if (it_sh(
            NULL, 0,
            "cd %s && '%s' key gen --role root --out root >/dev/null 2>&1 && "
            "'%s' key gen --role signing --out signing >/dev/null 2>&1 && "
            "'%s' key certify --root root.key --key signing.pub --out signing.cert >/dev/null 2>&1",
            e->dir, TMO_CLI, TMO_CLI, TMO_CLI) != 0)
        return -1;
    snprintf(e->root_pub, sizeof e->root_pub, "%s/root.pub", e->dir);
    snprintf(e->signing_key, sizeof e->signing_key, "%s/signing.key", e->dir);
    snprintf(e->signing_cert, sizeof e->signing_cert, "%s/signing.cert", e->dir);
    char out[1024];
    if (it_sh(out, sizeof out, "'%s' server init --db '%s' 2>/dev/null", TMO_CLI, e->db) != 0)
        return -1;
    char *tok = strstr(out, "tmoa_");
    if (tok == NULL)
        return -1;
    snprintf(e->admin, sizeof e->admin, "%.*s", (int)strcspn(tok, " \n"), tok);
    return 0;
}

/* Starts server i on e->db (log server-i.log); its port, 0 on failure. */
static int start_server(it_env *e, int i)
{
    char port_file[200], log[200];
    snprintf(port_file, sizeof port_file, "%s/port-%d", e->dir, i);
    snprintf(log, sizeof log, i == 0 ? "%s/server.log" : "%s/server-%d.log", e->dir, i);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(TMO_CLI, TMO_CLI, "server", "--db", e->db, "--listen", "127.0.0.1:0", "--port-file",
              port_file, "--root-key", e->root_pub, "--tick-ms", "100", "--checkin-interval", "1",
              (char *)NULL);
        _exit(127);
    }
    e->replicas[i] = pid;
    if (i == 0)
        e->server = pid;
    e->replica_ports[i] = wait_port(pid, port_file);
    return e->replica_ports[i];
}

/* Admin client and environment for e->base. 0 on success. */
static int connect_admin(it_env *e)
{
    setenv("TINYMLOPS_SERVER", e->base, 1);
    setenv("TINYMLOPS_TOKEN", e->admin, 1);
    e->hc = hc_open(e->base);
    if (e->hc == NULL)
        return -1;
    hc_set_bearer(e->hc, e->admin);
    return 0;
}

int it_start(it_env *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/tmo-it-XXXXXX");
    if (mkdtemp(e->dir) == NULL || hc_global_init() != 0)
        return -1;
    snprintf(e->db, sizeof e->db, "sqlite:%s/fleet.db", e->dir);
    e->n_replicas = 1;
    if (prepare(e) != 0)
        return -1;
    int port = start_server(e, 0);
    if (port == 0)
        return -1;
    snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", port);
    return connect_admin(e);
}

/* A TCP port free right now on 127.0.0.1, 0 when none. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/*
 * HAProxy in front of the replicas: round robin, health checks every 200 ms,
 * and a request whose replica died retried on another (L7 retries need the
 * request buffered). 0 on success.
 */
static int start_proxy(it_env *e)
{
    char cfg[300], text[4096];
    int port = free_port();
    snprintf(cfg, sizeof cfg, "%s/haproxy.cfg", e->dir);
    int n = snprintf(text, sizeof text,
                     "global\n  maxconn 4096\n"
                     "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n"
                     "  timeout server 30s\n  retries 3\n  option redispatch\n"
                     "  option http-buffer-request\n  retry-on all-retryable-errors\n"
                     "frontend fleet\n  bind 127.0.0.1:%d\n  default_backend replicas\n"
                     "backend replicas\n  balance roundrobin\n"
                     "  option httpchk GET /api/v1/health\n",
                     port);
    for (int i = 0; i < e->n_replicas; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "  server r%d 127.0.0.1:%d check inter 200 fall 2 rise 1\n", i,
                      e->replica_ports[i]);
    FILE *f = fopen(cfg, "w");
    if (port == 0 || f == NULL || fputs(text, f) < 0) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    char log[300];
    snprintf(log, sizeof log, "%s/haproxy.log", e->dir);
    e->proxy = fork();
    if (e->proxy == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
        _exit(127);
    }
    snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", port);
    hc_client *c = hc_open(e->base);
    for (int i = 0; c != NULL && i < 100; i++) { /* up when it answers a health check */
        hc_response r;
        char err[200];
        int up = 0;
        if (hc_request(c, "GET", "/api/v1/health", NULL, NULL, 0, NULL, &r, err, sizeof err) == 0) {
            up = r.status == 200;
            hc_response_free(&r);
        }
        if (up) {
            hc_close(c);
            return 0;
        }
        it_sleep_ms(100);
    }
    hc_close(c);
    return -1;
}

int it_start_replicas(it_env *e, int n)
{
    memset(e, 0, sizeof *e);
    const char *url = getenv("TMO_STORE_URL");
    char out[64];
    if (url == NULL || strncmp(url, "postgres", 8) != 0 ||
        it_sh(out, sizeof out, "command -v haproxy") != 0 || n < 1 || n > IT_MAX_REPLICAS)
        return 77;
    snprintf(e->dir, sizeof e->dir, "/tmp/tmo-it-XXXXXX");
    if (mkdtemp(e->dir) == NULL || hc_global_init() != 0)
        return -1;
    /* A fresh schema named after the directory, so every run starts empty. */
    const char *conn =
        strncmp(url, "postgres:", 9) == 0 && strstr(url, "://") == NULL ? url + 9 : url;
    char schema[40] = "tmo_it_";
    for (const char *p = strrchr(e->dir, '-') + 1; *p != '\0'; p++)
        snprintf(schema + strlen(schema), sizeof schema - strlen(schema), "%02x",
                 (unsigned char)*p);
    if (strchr(conn, '\'') != NULL ||
        it_sh(NULL, 0, "psql -q -v ON_ERROR_STOP=1 -d '%s' -c 'CREATE SCHEMA %s' >&2", conn,
              schema) != 0)
        return -1;
    snprintf(e->db, sizeof e->db, "postgres:%s options=-csearch_path=%s", conn, schema);
    e->n_replicas = n;
    if (prepare(e) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (start_server(e, i) == 0)
            return -1;
    if (start_proxy(e) != 0)
        return -1;
    return connect_admin(e);
}

void it_kill_replica(it_env *e, int i)
{
    if (i < 0 || i >= e->n_replicas || e->replicas[i] <= 0)
        return;
    kill(e->replicas[i], SIGKILL);
    waitpid(e->replicas[i], NULL, 0);
    e->replicas[i] = 0;
    if (i == 0)
        e->server = 0;
}

void it_stop(it_env *e, it_agent *agents, size_t n, int keep)
{
    for (size_t i = 0; i < n; i++)
        if (agents[i].pid > 0)
            it_agent_stop(&agents[i], SIGKILL);
    for (int i = 0; i < e->n_replicas; i++)
        if (e->replicas[i] > 0) {
            kill(e->replicas[i], SIGTERM);
            waitpid(e->replicas[i], NULL, 0);
            e->replicas[i] = 0;
        }
    e->server = 0;
    if (e->proxy > 0) {
        kill(e->proxy, SIGTERM);
        waitpid(e->proxy, NULL, 0);
        e->proxy = 0;
    }
    hc_close(e->hc);
    e->hc = NULL;
    if (keep || getenv("TMO_IT_KEEP") != NULL) {
        fprintf(stderr, "integration files kept in %s\n", e->dir);
        return;
    }
    it_sh(NULL, 0, "rm -rf '%s'", e->dir);
}

json_t *it_get(it_env *e, const char *fmt, ...)
{
    char path[512], err[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    hc_response r;
    if (hc_request(e->hc, "GET", path, NULL, NULL, 0, NULL, &r, err, sizeof err) != 0)
        return NULL;
    json_t *v = r.status == 200 ? json_loadb((const char *)r.body, r.body_len, 0, NULL) : NULL;
    hc_response_free(&r);
    return v;
}

char *it_token(it_env *e, const char *group, int ttl_s, int uses)
{
    char out[2048];
    if (it_sh(out, sizeof out, "'%s' enroll-token create --ttl %d --uses %d --group %s --json",
              TMO_CLI, ttl_s, uses, group) != 0)
        return NULL;
    json_t *v = json_loads(out, 0, NULL);
    const char *t = json_string_value(json_object_get(v, "token"));
    char *copy = t != NULL ? strdup(t) : NULL;
    json_decref(v);
    (void)e;
    return copy;
}

static uint8_t *model_bytes(int units, int seed, size_t *len)
{
    float *w = malloc(sizeof(float) * (size_t)units * 8),
          *b = malloc(sizeof(float) * (size_t)units);
    for (int i = 0; i < units * 8; i++)
        w[i] = (float)((i * 13 + seed * 7) % 17) * 0.125f - 1.0f;
    for (int i = 0; i < units; i++)
        b[i] = 0.01f * (float)(i % 50) + (float)seed;
    uint8_t *bytes = fc_model_fixture(8, units, w, b, len);
    free(w);
    free(b);
    return bytes;
}

int it_model(const char *path, int units, int seed)
{
    size_t len = 0;
    char err[300];
    uint8_t *bytes = model_bytes(units, seed, &len);
    int rc = bytes != NULL ? host_write_file(path, bytes, len, err, sizeof err) : -1;
    free(bytes);
    return rc;
}

int it_pack(it_env *e, const char *model, const char *name, const char *version, int counter,
            const char *arch, const char *out)
{
    char arch_opt[80] = "";
    if (arch != NULL)
        snprintf(arch_opt, sizeof arch_opt, "--arch %s", arch);
    return it_sh(
        NULL, 0,
        "'%s' bundle pack '%s' --name %s --version %s --counter %d --sign '%s' --cert '%s' %s "
        "--out '%s' >/dev/null 2>&1",
        TMO_CLI, model, name, version, counter, e->signing_key, e->signing_cert, arch_opt, out);
}

/* Known answers for two inputs, computed by the runtime itself; bad flips one output byte. */
static int kat_section(const uint8_t *model, size_t len, int bad, uint8_t **kat, size_t *kat_len)
{
    host_model hm;
    char err[300];
    uint8_t *copy = aligned_alloc(16, (len + 15) & ~(size_t)15);
    memcpy(copy, model, len);
    if (host_model_open_bytes(&hm, copy, len, err, sizeof err) != TMO_OK) {
        host_model_close(&hm);
        return -1;
    }
    float in[2][8];
    uint8_t *outs[2] = {NULL, NULL};
    tmo_io io, oo;
    host_kat_vector v[2];
    memset(v, 0, sizeof v);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 8; i++)
            in[k][i] = 0.25f * (float)(i + k) - 0.5f;
        tmo_interp_input(&hm.interp, 0, &io);
        memcpy(io.data, in[k], sizeof in[k]);
        tmo_interp_invoke(&hm.interp);
        tmo_interp_output(&hm.interp, 0, &oo);
        outs[k] = malloc(oo.bytes);
        memcpy(outs[k], oo.data, oo.bytes);
        v[k].in[0] = (const uint8_t *)in[k];
        v[k].in_len[0] = sizeof in[k];
        v[k].out[0] = outs[k];
        v[k].out_len[0] = (uint32_t)oo.bytes;
    }
    if (bad)
        outs[1][3] ^= 0x01; /* vector 1, output 0, byte 3 */
    int rc = host_kat_encode(v, 2, 1, 1, kat, kat_len);
    free(outs[0]);
    free(outs[1]);
    host_model_close(&hm);
    return rc;
}

/* `bundle pack --profile-data DATA --kat 2` (docs/monitoring.md), when this CLI has it. 0 on success. */
static int pack_kat_cli(it_env *e, const char *model, const char *name, const char *version,
                        int counter, const char *arch, const char *out)
{
    char data[300], err[200];
    float samples[4][8];
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 8; i++)
            samples[k][i] = 0.125f * (float)(i * (k + 1)) - 0.5f;
    snprintf(data, sizeof data, "%s/kat-data.bin", e->dir);
    if (host_write_file(data, samples, sizeof samples, err, sizeof err) != 0)
        return -1;
    char arch_opt[80] = "";
    if (arch != NULL)
        snprintf(arch_opt, sizeof arch_opt, "--arch %s", arch);
    return it_sh(
        NULL, 0,
        "'%s' bundle pack '%s' --name %s --version %s --counter %d --sign '%s' --cert '%s' %s "
        "--profile-data '%s' --kat 2 --out '%s' >/dev/null 2>&1",
        TMO_CLI, model, name, version, counter, e->signing_key, e->signing_cert, arch_opt, data,
        out);
}

int it_pack_kat(it_env *e, const char *model, const char *name, const char *version, int counter,
                const char *arch, int bad, const char *out)
{
    if (!bad && pack_kat_cli(e, model, name, version, counter, arch, out) == 0)
        return 0; /* the CLI made the known answers itself */
    char err[300];
    size_t len = 0;
    uint8_t *bytes = host_read_file(model, &len, err, sizeof err), *kat = NULL, *bundle = NULL;
    host_key signer;
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t cert_len = 0, kat_len = 0, bundle_len = 0;
    void *cert_file = host_read_file(e->signing_cert, &cert_len, err, sizeof err);
    int rc = -1;
    if (bytes != NULL && cert_file != NULL && cert_len <= sizeof cert &&
        host_key_read_private(&signer, e->signing_key, err, sizeof err) == 0 &&
        kat_section(bytes, len, bad, &kat, &kat_len) == 0) {
        memcpy(cert, cert_file, cert_len);
        host_pack_in in;
        memset(&in, 0, sizeof in);
        in.model = bytes;
        in.model_len = len;
        in.name = name;
        host_parse_semver(version, &in.version);
        in.counter = (uint64_t)counter;
        const char *arches[1] = {arch};
        in.arches = arches;
        in.arch_count = arch != NULL;
        in.signer = &signer;
        in.cert = cert;
        in.cert_len = cert_len;
        hb_extra_section sec = {0x0011 /* KAT */, 0, kat, kat_len};
        in.extra = &sec;
        in.extra_count = 1;
        if (host_bundle_pack(&in, &bundle, &bundle_len, err, sizeof err) == 0)
            rc = host_write_file(out, bundle, bundle_len, err, sizeof err);
        else
            fprintf(stderr, "it_pack_kat: %s\n", err);
        host_key_wipe(&signer);
    }
    free(bytes);
    free(cert_file);
    free(kat);
    free(bundle);
    return rc;
}

int it_push(it_env *e, const char *bundle)
{
    (void)e;
    return it_sh(NULL, 0, "'%s' model push '%s' >/dev/null 2>&1", TMO_CLI, bundle);
}

long it_deploy(it_env *e, const char *args)
{
    char out[8192];
    (void)e;
    if (it_sh(out, sizeof out, "'%s' deploy create %s --json", TMO_CLI, args) != 0)
        return -1;
    json_t *v = json_loads(out, 0, NULL);
    long id = json_is_integer(json_object_get(v, "id"))
                  ? (long)json_integer_value(json_object_get(v, "id"))
                  : -1;
    json_decref(v);
    return id;
}

int it_profile(const char *path, const char *arch, long ram, long flash)
{
    json_t *p = json_pack("{s:s,s:s,s:I,s:I,s:[s],s:f}", "arch", arch, "runtime_version", "0.1.0",
                          "ram_bytes", (json_int_t)ram, "flash_bytes", (json_int_t)flash, "ops",
                          "FULLY_CONNECTED", "speed_factor", 1.0);
    int rc = json_dump_file(p, path, 0);
    json_decref(p);
    return rc;
}

int it_agent_start(it_env *e, it_agent *a, const char *name, const char *token, const char *profile,
                   const char *const *extra)
{
    if (a->dir[0] == '\0') {
        snprintf(a->dir, sizeof a->dir, "%s/%s", e->dir, name);
        snprintf(a->sock, sizeof a->sock, "%s/api.sock", a->dir);
        snprintf(a->log, sizeof a->log, "%s/agent.log", a->dir);
        mkdir(a->dir, 0700);
    }
    const char *argv[48] = {TMO_AGENT, "--server",       e->base,     "--state-dir",
                            a->dir,    "--root-key",     e->root_pub, "--checkin-interval",
                            "1",       "--local-socket", a->sock,     "--name",
                            name,      "--max-backoff",  "2"};
    int n = 15;
    if (token != NULL) {
        argv[n++] = "--enroll-token";
        argv[n++] = token;
    }
    if (profile != NULL) {
        argv[n++] = "--profile";
        argv[n++] = profile;
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    unlink(a->sock);
    a->pid = fork();
    if (a->pid < 0)
        return -1;
    if (a->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(TMO_AGENT, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) { /* the socket appears once the agent has opened its state */
        if (access(a->sock, F_OK) == 0) {
            json_t *s = it_agent_status(a);
            const char *id = json_string_value(json_object_get(s, "device_id"));
            if (id != NULL)
                snprintf(a->id, sizeof a->id, "%s", id);
            json_decref(s);
            if (id != NULL)
                return 0;
        }
        int st = 0;
        if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = 0;
            a->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            return 1;
        }
        it_sleep_ms(50);
    }
    return -1;
}

int it_agent_stop(it_agent *a, int sig)
{
    if (a->pid <= 0)
        return -1;
    kill(a->pid, sig);
    int st = 0;
    waitpid(a->pid, &st, 0);
    a->pid = 0;
    a->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return a->exit_status;
}

int it_agent_wait(it_agent *a, long ms)
{
    if (a->pid <= 0)
        return a->exit_status;
    long end = it_ms() + ms;
    while (a->pid > 0) {
        int st = 0;
        if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = 0;
            a->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            return a->exit_status;
        }
        if (it_ms() > end)
            return -2;
        it_sleep_ms(50);
    }
    return -1;
}

static int io_all(int fd, void *buf, size_t len, int writing)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = writing ? send(fd, (uint8_t *)buf + done, len - done, MSG_NOSIGNAL)
                            : read(fd, (uint8_t *)buf + done, len - done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

json_t *it_agent_status(it_agent *a)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(a->sock) >= sizeof addr.sun_path)
        return NULL;
    memcpy(addr.sun_path, a->sock, strlen(a->sock));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t h[8] = {'S', 0, 0, 0, 0, 0, 0, 0};
    json_t *v = NULL;
    if (io_all(fd, h, 8, 1) == 0 && io_all(fd, h, 8, 0) == 0 && h[0] == 0) {
        uint32_t n =
            (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
        char *body = malloc(n + 1);
        if (body != NULL && io_all(fd, body, n, 0) == 0)
            v = json_loadb(body, n, 0, NULL);
        free(body);
    }
    close(fd);
    return v;
}

int it_log_has(const it_agent *a, const char *text)
{
    char err[200];
    size_t len = 0, n = strlen(text);
    char *log = host_read_file(a->log, &len, err, sizeof err);
    if (log == NULL)
        return 0;
    int count = 0;
    for (const char *p = log; (p = memmem(p, len - (size_t)(p - log), text, n)) != NULL; p += n)
        count++;
    free(log);
    return count;
}

const char *it_device_state(it_env *e, long dep, const char *device, char *buf, size_t len,
                            char *reason, size_t reason_len)
{
    buf[0] = '\0';
    if (reason != NULL)
        reason[0] = '\0';
    json_t *v = it_get(e, "/api/v1/deployments/%ld/devices", dep);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(v, "devices"), i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "device_id")), device) != 0)
            continue;
        snprintf(buf, len, "%s", json_string_value(json_object_get(d, "state")));
        if (reason != NULL)
            snprintf(reason, reason_len, "%s", json_string_value(json_object_get(d, "reason")));
    }
    json_decref(v);
    return buf;
}

int it_terminal(const char *s)
{
    return strcmp(s, "confirmed") == 0 || strcmp(s, "failed") == 0 ||
           strcmp(s, "rolled-back") == 0 || strcmp(s, "skipped") == 0 ||
           strcmp(s, "cancelled") == 0;
}

const char *it_deploy_state(it_env *e, long dep, char *buf, size_t len)
{
    json_t *v = it_get(e, "/api/v1/deployments/%ld", dep);
    snprintf(buf, len, "%s", v != NULL ? json_string_value(json_object_get(v, "state")) : "?");
    json_decref(v);
    return buf;
}
