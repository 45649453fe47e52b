/*
 * The demo's server and the admin API calls the story makes: the server runs
 * as a child process of this very binary (`tinymlops server`), exactly as an
 * operator would start it, on a fresh SQLite database in the demo directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"
#include "host.h"

extern char **environ;

static int self_path(char *out, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* `tinymlops server init`: prints the first admin token on stdout. */
static int init_db(demo *d, const char *exe, const char *db)
{
    char cmd[3 * DEMO_PATH];
    snprintf(cmd, sizeof cmd, "'%s' server init --db 'sqlite:%s' --name demo-admin 2>/dev/null",
             exe, db);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    int ok = fgets(d->token, sizeof d->token, p) != NULL;
    int rc = pclose(p);
    d->token[strcspn(d->token, "\r\n")] = '\0';
    return ok && rc == 0 && strncmp(d->token, "tmoa_", 5) == 0 ? 0 : -1;
}

/* The port the server listens on (it picks one for --listen :0), once it wrote the file. */
static int read_port(const char *path, int *port)
{
    FILE *f = fopen(path, "r");
    int p = 0, ok = f != NULL && fscanf(f, "%d", &p) == 1 && p > 0 && p < 65536;
    if (f != NULL)
        fclose(f);
    if (ok)
        *port = p;
    return ok ? 0 : -1;
}

static int server_up(demo *d)
{
    hc_response r;
    char err[256];
    if (hc_request(d->api, "GET", "/api/v1/health", NULL, NULL, 0, NULL, &r, err, sizeof err) != 0)
        return 0;
    int up = r.status == 200;
    hc_response_free(&r);
    return up;
}

int demo_start_server(demo *d)
{
    char exe[DEMO_PATH], db[DEMO_PATH + 16], listen_at[64], log[DEMO_PATH + 16];
    if (self_path(exe, sizeof exe) != 0) {
        demo_say("cannot find this program's own path to start the server");
        return -1;
    }
    snprintf(db, sizeof db, "%s/fleet.db", d->dir);
    snprintf(log, sizeof log, "%s/server.log", d->dir);
    unlink(db);
    if (init_db(d, exe, db) != 0) {
        demo_say("`tinymlops server init` failed for %s", db);
        return -1;
    }
    char port_file[DEMO_PATH + 16];
    snprintf(port_file, sizeof port_file, "%s/server.port", d->dir);
    unlink(port_file);
    snprintf(listen_at, sizeof listen_at, "127.0.0.1:%d", d->port);
    const char *argv[] = {exe,
                          "server",
                          "--db",
                          NULL,
                          "--listen",
                          listen_at,
                          "--root-key",
                          d->root_pub,
                          "--soak",
                          "5",
                          "--tick-ms",
                          "200",
                          "--checkin-interval",
                          "2",
                          "--port-file",
                          port_file,
                          NULL};
    char db_url[DEMO_PATH + 32];
    snprintf(db_url, sizeof db_url, "sqlite:%s", db);
    argv[3] = db_url;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&d->server, exe, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        demo_say("cannot start the server: %s", strerror(rc));
        return -1;
    }
    for (int i = 0; i < 200; i++) {
        int status;
        if (waitpid(d->server, &status, WNOHANG) == d->server) {
            d->server = 0;
            demo_say("the server exited at start; its log is %s (port %d in use? try --port)", log,
                     d->port);
            return -1;
        }
        if (d->api == NULL && read_port(port_file, &d->port) == 0) {
            snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d", d->port);
            d->api = hc_open(d->url);
            hc_set_bearer(d->api, d->token);
        }
        if (d->api != NULL && server_up(d))
            return 0;
        if (demo_sleep_ms(100))
            return -1;
    }
    demo_say("the server did not answer within 20 s; its log is %s", log);
    return -1;
}

void demo_stop_server(demo *d)
{
    if (d->api != NULL)
        hc_close(d->api);
    d->api = NULL;
    if (d->server > 0) {
        kill(d->server, SIGTERM);
        int status;
        /* Up to 5 s for a clean shutdown, even after Ctrl-C. */
        for (int i = 0; i < 50 && waitpid(d->server, &status, WNOHANG) == 0; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (waitpid(d->server, &status, WNOHANG) == 0) {
            kill(d->server, SIGKILL);
            waitpid(d->server, &status, 0);
        }
    }
    d->server = 0;
}

/* One admin request with a JSON (or raw) body; the parsed JSON reply, or NULL with a message. */
static json_t *call(demo *d, const char *method, const char *path, const char *type,
                    const void *body, size_t len, long expect)
{
    hc_response r;
    char err[256];
    if (hc_request(d->api, method, path, type, body, len, NULL, &r, err, sizeof err) != 0) {
        demo_say("%s %s: %s", method, path, err);
        return NULL;
    }
    json_t *v = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    if (r.status != expect) {
        demo_say("%s %s: HTTP %ld: %.300s", method, path, r.status, r.body ? (char *)r.body : "");
        json_decref(v);
        v = NULL;
    }
    hc_response_free(&r);
    return v;
}

int demo_push(demo *d, demo_bundle *b, int rank)
{
    size_t len;
    char err[512], path[64];
    void *bytes = host_read_file(b->path, &len, err, sizeof err);
    if (bytes == NULL) {
        demo_say("%s", err);
        return -1;
    }
    json_t *v = call(d, "POST", "/api/v1/bundles", "application/octet-stream", bytes, len, 201);
    free(bytes);
    if (v == NULL)
        return -1;
    long id = (long)json_integer_value(json_object_get(v, "id"));
    json_decref(v);
    b->id = id;
    if (rank == 0)
        return 0;
    char body[64];
    snprintf(body, sizeof body, "{\"rank\": %d}", rank);
    snprintf(path, sizeof path, "/api/v1/bundles/%ld", id);
    v = call(d, "PATCH", path, "application/json", body, strlen(body), 200);
    json_decref(v);
    return v != NULL ? 0 : -1;
}

long demo_deploy(demo *d, const char *json_body)
{
    json_t *v = call(d, "POST", "/api/v1/deployments", "application/json", json_body,
                     strlen(json_body), 201);
    long id = v ? (long)json_integer_value(json_object_get(v, "id")) : -1;
    json_decref(v);
    return id;
}

json_t *demo_get(demo *d, const char *path)
{
    return call(d, "GET", path, NULL, NULL, 0, 200);
}

int demo_deployment_state(demo *d, long id, char *state, size_t len, char *reason, size_t rlen)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/deployments/%ld", id);
    json_t *v = demo_get(d, path);
    if (v == NULL)
        return -1;
    const char *s = json_string_value(json_object_get(v, "state"));
    const char *why = json_string_value(json_object_get(v, "reason"));
    snprintf(state, len, "%s", s ? s : "?");
    snprintf(reason, rlen, "%s", why ? why : "");
    json_decref(v);
    return 0;
}

/* "wave 2/3, 12 confirmed, 1 downloading" from the deployment's counts. */
static void progress_line(demo *d, long id, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/deployments/%ld", id);
    json_t *v = demo_get(d, path);
    size_t n = (size_t)snprintf(out, len, "deployment %ld", id);
    if (v == NULL)
        return;
    n += (size_t)snprintf(out + n, len > n ? len - n : 0, ": wave %lld of %zu",
                          json_integer_value(json_object_get(v, "current_wave")) + 1,
                          json_array_size(json_object_get(v, "waves")));
    const char *key;
    json_t *count;
    json_object_foreach(json_object_get(v, "devices"), key, count)
    {
        if (json_integer_value(count) > 0 && n < len)
            n += (size_t)snprintf(out + n, len - n, ", %lld %s", json_integer_value(count), key);
    }
    json_decref(v);
}

int demo_wait_deployment(demo *d, long id, int timeout_s, char *state, size_t len, char *reason,
                         size_t rlen)
{
    char line[512], last[512] = "";
    for (int waited = 0; waited < timeout_s * 2; waited++) {
        if (demo_deployment_state(d, id, state, len, reason, rlen) != 0)
            return -1;
        if (strcmp(state, "active") != 0)
            return 0;
        progress_line(d, id, line, sizeof line);
        if (strcmp(line, last) != 0)
            demo_note("  %s", line);
        snprintf(last, sizeof last, "%s", line);
        if (demo_sleep_ms(500))
            return -1;
    }
    demo_say("deployment %ld still active after %d s", id, timeout_s);
    return -1;
}

int demo_wait_alert(demo *d, const char *kind, const char *group, int timeout_s, char *text,
                    size_t len)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/alerts?state=open&kind=%s&group=%s", kind, group);
    for (int waited = 0; waited < timeout_s * 2; waited++) {
        json_t *v = demo_get(d, path);
        json_t *a = json_array_get(json_object_get(v, "alerts"), 0);
        if (a != NULL) {
            const char *dev = json_string_value(json_object_get(a, "device_id"));
            const char *msg = json_string_value(json_object_get(a, "message"));
            snprintf(text, len, "alert #%lld on device %.12s: %s (%zu open %s alerts)",
                     json_integer_value(json_object_get(a, "id")), dev ? dev : "?",
                     msg ? msg : kind, json_array_size(json_object_get(v, "alerts")), kind);
            json_decref(v);
            return 0;
        }
        json_decref(v);
        if (demo_sleep_ms(500))
            return -1;
    }
    demo_say("no %s alert in group %s after %d s", kind, group, timeout_s);
    return -1;
}
