/*
 * Server test fixture (see fixture.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle_crypto.h"
#include "bundle_pack.h"
#include "devauth.h"
#include "tflite/options_types.h"
#include "tflite_writer.h"
#include "tinymlops/model.h"
#include "../fc_model_fixture.h"

void fx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int run_init(fx_server *s)
{
    char out_path[400], cmd[1200];
    snprintf(out_path, sizeof out_path, "%s/init.out", s->dir);
    snprintf(cmd, sizeof cmd, "'%s' server init --db '%s' > '%s' 2>/dev/null", TMO_CLI, s->db_url,
             out_path);
    if (system(cmd) != 0)
        return -1;
    FILE *f = fopen(out_path, "r");
    if (f == NULL)
        return -1;
    int ok = fgets(s->admin_token, sizeof s->admin_token, f) != NULL;
    fclose(f);
    s->admin_token[strcspn(s->admin_token, "\n")] = '\0';
    return ok && strncmp(s->admin_token, "tmoa_", 5) == 0 ? 0 : -1;
}

static int make_keys(fx_server *s)
{
    char err[256], path[400];
    uint64_t now = (uint64_t)time(NULL);
    if (host_key_generate(&s->root, err, sizeof err) ||
        host_key_generate(&s->signing, err, sizeof err) ||
        host_key_generate(&s->rogue_root, err, sizeof err) ||
        host_key_generate(&s->rogue_signing, err, sizeof err))
        return -1;
    if (hb_cert_make(&s->root, s->signing.pub, now - 86400, now + 365 * 86400, "", s->cert,
                     &s->cert_len) ||
        hb_cert_make(&s->rogue_root, s->rogue_signing.pub, now - 86400, now + 365 * 86400, "",
                     s->rogue_cert, &s->rogue_cert_len))
        return -1;
    snprintf(path, sizeof path, "%s/root", s->dir);
    return host_key_write(&s->root, path, err, sizeof err);
}

static int wait_port(fx_server *s, const char *port_file)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok && s->port > 0)
                return 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            return -1;
        fx_sleep_ms(50);
    }
    return -1;
}

/*
 * The store URL of a fresh server: a SQLite file in the test's directory,
 * or, when TMO_STORE_URL names a PostgreSQL database (scripts/pg-test), a
 * new schema there made with psql, so every server starts empty although
 * they share the database.
 */
static int store_url(fx_server *s)
{
    const char *env = getenv("TMO_STORE_URL");
    if (env == NULL || strncmp(env, "postgres", 8) != 0) {
        snprintf(s->db_url, sizeof s->db_url, "sqlite:%s/fleet.db", s->dir);
        return 0;
    }
    /* psql takes postgres:// and postgresql:// URIs and conninfo strings (after "postgres:") */
    const char *conn = strncmp(env, "postgres://", 11) == 0 || strncmp(env, "postgresql:", 11) == 0
                           ? env
                           : env + strlen("postgres:");
    if (strchr(conn, '\'') != NULL)
        return -1;
    char schema[40] = "tmo_", cmd[800]; /* the hex of the unique part of the test's directory */
    for (const char *p = strrchr(s->dir, '-') + 1; *p != '\0' && strlen(schema) < 30; p++)
        snprintf(schema + strlen(schema), sizeof schema - strlen(schema), "%02x",
                 (unsigned char)*p);
    snprintf(cmd, sizeof cmd, "psql -q -v ON_ERROR_STOP=1 -d '%s' -c 'CREATE SCHEMA %s' >&2", conn,
             schema);
    if (system(cmd) != 0)
        return -1;
    int url = strstr(env, "://") != NULL;
    int n = snprintf(s->db_url, sizeof s->db_url, "%s%soptions=-csearch_path%s%s", env,
                     url ? (strchr(env, '?') != NULL ? "&" : "?") : " ", url ? "%3D" : "=", schema);
    return n > 0 && (size_t)n < sizeof s->db_url ? 0 : -1;
}

int fx_start(fx_server *s, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/tmo-srv-XXXXXX");
    if (mkdtemp(s->dir) == NULL || devauth_init() != 0 || hc_global_init() != 0)
        return -1;
    if (store_url(s) != 0 || make_keys(s) != 0 || run_init(s) != 0)
        return -1;
    char root_pub[400], port_file[400], log[400];
    snprintf(root_pub, sizeof root_pub, "%s/root.pub", s->dir);
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    const char *argv[48] = {TMO_CLI,       "server",      "--db",      s->db_url,    "--listen",
                            "127.0.0.1:0", "--port-file", port_file,   "--root-key", root_pub,
                            "--tick-ms",   "100",         "--threads", "4"};
    int n = 14;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(TMO_CLI, (char *const *)argv);
        _exit(127);
    }
    if (wait_port(s, port_file) != 0)
        return -1;
    int tls = 0;
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        tls |= strcmp(extra[i], "--tls-cert") == 0;
    snprintf(s->base, sizeof s->base, "%s://127.0.0.1:%d", tls ? "https" : "http", s->port);
    s->admin = fx_client(s, s->admin_token);
    return s->admin != NULL ? 0 : -1;
}

int fx_stop(fx_server *s)
{
    int status = -1;
    hc_close(s->admin);
    s->admin = NULL;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st = 0, done = 0;
        for (int i = 0; i < 200 && !done; i++) {
            done = waitpid(s->pid, &st, WNOHANG) == s->pid;
            if (!done)
                fx_sleep_ms(50);
        }
        if (!done) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        } else if (WIFEXITED(st)) {
            status = WEXITSTATUS(st);
        }
        s->pid = 0;
    }
    if (status != 0) { /* keep the log next to the failure */
        char cmd[400];
        snprintf(cmd, sizeof cmd, "cat %s/server.log >&2", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no server log)\n");
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", s->dir);
    host_key_wipe(&s->root);
    host_key_wipe(&s->signing);
    return status;
}

hc_client *fx_client(fx_server *s, const char *token)
{
    hc_client *c = hc_open(s->base);
    if (c != NULL && token != NULL)
        hc_set_bearer(c, token);
    return c;
}

long fx_call(hc_client *c, const char *method, const char *path, json_t *body, json_t **out)
{
    char err[300];
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    hc_response r;
    int rc = hc_request(c, method, path, text ? "application/json" : NULL, text,
                        text ? strlen(text) : 0, NULL, &r, err, sizeof err);
    free(text);
    if (out != NULL)
        *out = NULL;
    if (rc != 0)
        return -1;
    if (out != NULL && r.body_len > 0)
        *out = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    long status = r.status;
    hc_response_free(&r);
    return status;
}

char *fx_token(fx_server *s, const char *role)
{
    json_t *out = NULL;
    json_t *body = json_pack("{s:s,s:s}", "role", role, "name", role);
    long st = fx_call(s->admin, "POST", "/api/v1/admin-tokens", body, &out);
    json_decref(body);
    char *t = st == 201 ? strdup(json_string_value(json_object_get(out, "token"))) : NULL;
    json_decref(out);
    return t;
}

char *fx_enroll_token(fx_server *s, const char *group, const char *tags_json, int ttl_s, int uses)
{
    json_t *out = NULL,
           *body = json_pack("{s:s,s:o,s:i,s:i}", "group", group, "tags",
                             json_loads(tags_json, 0, NULL), "ttl_s", ttl_s, "uses", uses);
    long st = fx_call(s->admin, "POST", "/api/v1/enrollment-tokens", body, &out);
    json_decref(body);
    char *t = st == 201 ? strdup(json_string_value(json_object_get(out, "token"))) : NULL;
    json_decref(out);
    return t;
}

static uint8_t *make_model(size_t *len, int out_features)
{
    float w[64], b[16];
    for (int i = 0; i < out_features * 4; i++)
        w[i] = (float)(i % 5) - 2.0f;
    for (int i = 0; i < out_features; i++)
        b[i] = 0.25f * (float)i;
    return fc_model_fixture(4, out_features, w, b, len);
}

uint8_t *fx_bundle(fx_server *s, const fx_bundle_spec *spec, size_t *len)
{
    int features = spec->out_features > 0 && spec->out_features <= 16 ? spec->out_features : 3;
    size_t model_len = 0;
    uint8_t *model = make_model(&model_len, features);
    if (model == NULL)
        return NULL;
    host_pack_in in;
    memset(&in, 0, sizeof in);
    in.model = model;
    in.model_len = model_len;
    in.name = spec->name;
    if (host_parse_semver(spec->version, &in.version) != 0) {
        free(model);
        return NULL;
    }
    in.counter = spec->counter;
    const char *arches[1] = {spec->arch};
    in.arches = arches;
    in.arch_count = spec->arch != NULL ? 1 : 0;
    in.arena_bytes = spec->arena;
    in.signer = spec->rogue ? &s->rogue_signing : &s->signing;
    in.cert = spec->rogue ? s->rogue_cert : s->cert;
    in.cert_len = spec->rogue ? s->rogue_cert_len : s->cert_len;
    uint8_t *out = NULL;
    char err[300];
    if (host_bundle_pack(&in, &out, len, err, sizeof err) != 0) {
        fprintf(stderr, "fx_bundle: %s\n", err);
        out = NULL;
    }
    free(model);
    return out;
}

long fx_upload(fx_server *s, const uint8_t *b, size_t len, json_t **out)
{
    char err[300];
    hc_response r;
    if (hc_request(s->admin, "POST", "/api/v1/bundles", "application/octet-stream", b, len, NULL,
                   &r, err, sizeof err) != 0)
        return -1;
    *out = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    long st = r.status;
    hc_response_free(&r);
    return st;
}

int fx_device_new(fx_server *s, fx_device *d)
{
    memset(d, 0, sizeof *d);
    if (devauth_generate(&d->key, d->pub) != 0)
        return -1;
    devauth_device_id(d->pub, d->id);
    d->hc = hc_open(s->base);
    if (d->hc == NULL)
        return -1;
    hc_set_device(d->hc, d->key, d->id);
    return 0;
}

void fx_device_free(fx_device *d)
{
    hc_close(d->hc);
    if (d->key != 0)
        psa_destroy_key(d->key);
    memset(d, 0, sizeof *d);
}

json_t *fx_profile(const char *arch, long ram, long flash)
{
    return json_pack("{s:s,s:s,s:I,s:I,s:[s,s],s:f}", "arch", arch, "runtime_version", "0.1.0",
                     "ram_bytes", (json_int_t)ram, "flash_bytes", (json_int_t)flash, "ops",
                     "FULLY_CONNECTED", "SOFTMAX", "speed_factor", 1.0);
}

long fx_enroll_body(fx_server *s, fx_device *d, json_t *body, int bad_proof, json_t **out)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    hc_signed sig;
    if (text == NULL || hc_sign(d->key, d->id, "POST", "/api/v1/device/enroll", text, strlen(text),
                                hc_now_ms(), NULL, &sig) != 0) {
        free(text);
        return -1;
    }
    if (bad_proof) /* a valid signature over another message */
        hc_sign(d->key, d->id, "POST", "/api/v1/device/enroll", "{}", 2, hc_now_ms(), NULL, &sig);
    const char *headers[] = {sig.device, sig.timestamp, sig.nonce, sig.signature, NULL};
    hc_client *c = hc_open(s->base); /* signed by hand: the device is not enrolled yet */
    hc_response r;
    char err[300];
    int rc = hc_request(c, "POST", "/api/v1/device/enroll", "application/json", text, strlen(text),
                        headers, &r, err, sizeof err);
    hc_close(c);
    free(text);
    if (out != NULL)
        *out = NULL;
    if (rc != 0)
        return -1;
    if (out != NULL && r.body_len > 0)
        *out = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    long status = r.status;
    hc_response_free(&r);
    return status;
}

long fx_enroll(fx_server *s, fx_device *d, const char *token, json_t *profile, int bad_proof,
               json_t **out)
{
    char pub_b64[128];
    devauth_b64_encode(d->pub, sizeof d->pub, pub_b64, sizeof pub_b64);
    json_t *body =
        json_pack("{s:s,s:s,s:o}", "token", token, "public_key", pub_b64, "profile", profile);
    return fx_enroll_body(s, d, body, bad_proof, out);
}

long fx_checkin(fx_device *d, json_t *body, json_t **out)
{
    if (body == NULL)
        body = json_object();
    long st = fx_call(d->hc, "POST", "/api/v1/device/checkin", body, out);
    json_decref(body);
    return st;
}

const char *fx_error_code(json_t *body)
{
    const char *c = json_string_value(json_object_get(json_object_get(body, "error"), "code"));
    return c != NULL ? c : "";
}
