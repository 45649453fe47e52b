/*
 * Against the real server process: what protects it from one client and
 * what it gives away (issue 19's attack findings). NUL bytes in the URL and
 * headers are refused; answers are never cached or sniffed; a client over
 * its request rate gets 429 and a client holding its connection quota
 * cannot starve another address; request bodies have a deadline; the
 * access log does not keep credentials from query strings; `server init`
 * makes an owner-only database; storage errors do not reach clients; and
 * HTTPS with the agent verifying the server against a configured CA.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

/* Connects a TCP socket from source address src (NULL: any) to 127.0.0.1:port; -1 on failure. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (src != NULL) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Sends raw request bytes (len of them: NULs included) from src and reads the
 * answer into out (NUL-terminated); returns the HTTP status, 0 when the
 * connection closed without one.
 */
static int raw_request(int port, const char *src, const char *req, size_t len, char *out,
                       size_t cap)
{
    int fd = connect_from(src, port);
    if (fd < 0)
        return -1;
    size_t got = 0;
    if (write(fd, req, len) == (ssize_t)len) {
        ssize_t n;
        while (got + 1 < cap && (n = read(fd, out + got, cap - 1 - got)) > 0)
            got += (size_t)n;
    }
    out[got] = '\0';
    close(fd);
    int status = 0;
    if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    return status;
}

static int start(fx_server *s, const char *const *extra)
{
    if (fx_start(s, extra) != 0) {
        fprintf(stderr, "server did not start (log in %s)\n", s->dir);
        return -1;
    }
    return 0;
}

static void nul_bytes_are_refused(void **state)
{
    (void)state;
    fx_server s;
    assert_int_equal(start(&s, NULL), 0);
    char out[8192], req[512];
    /* The path: index.html%00.js served index.html. */
    const char *nul_path = "GET /index.html%00.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw_request(s.port, NULL, nul_path, strlen(nul_path), out, sizeof out), 400);
    const char *nul_arg =
        "GET /api/v1/devices?group=a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw_request(s.port, NULL, nul_arg, strlen(nul_arg), out, sizeof out), 400);
    /* A header: the token up to the NUL was accepted. */
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s",
                     s.admin_token);
    memcpy(req + n, "\0junk\r\n\r\n", 9);
    int status = raw_request(s.port, NULL, req, (size_t)n + 9, out, sizeof out);
    assert_true(status == 400 || status == 0); /* refused (or the connection dropped), never 200 */
    /* The same request without the NUL works: the refusal is about the NUL. */
    n = snprintf(req, sizeof req,
                 "GET /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "Authorization: Bearer %s\r\n\r\n",
                 s.admin_token);
    assert_int_equal(raw_request(s.port, NULL, req, (size_t)n, out, sizeof out), 200);
    /* Every answer: no caching, no sniffing; the dashboard keeps its own revalidation rule. */
    assert_non_null(strcasestr(out, "Cache-Control: no-store"));
    assert_non_null(strcasestr(out, "X-Content-Type-Options: nosniff"));
    const char *page = "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(raw_request(s.port, NULL, page, strlen(page), out, sizeof out), 200);
    assert_non_null(strcasestr(out, "Cache-Control: no-cache"));
    assert_null(strcasestr(out, "no-store"));
    assert_int_equal(fx_stop(&s), 0);
}

static void rate_limit_and_connection_quota(void **state)
{
    (void)state;
    fx_server s;
    const char *extra[] = {
        "--rate-limit", "5", "--rate-limit-loopback", "--max-client-connections", "4", NULL};
    assert_int_equal(start(&s, extra), 0);
    char out[4096];
    const char *health = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int ok = 0, limited = 0;
    for (int i = 0; i < 30; i++) {
        int st = raw_request(s.port, "127.0.0.5", health, strlen(health), out, sizeof out);
        ok += st == 200;
        if (st == 429) {
            limited++;
            assert_non_null(strcasestr(out, "Retry-After: "));
            assert_non_null(strstr(out, "\"rate_limited\""));
        }
    }
    assert_true(ok >= 5 && ok <= 15); /* a burst of 10, then 5/s */
    assert_true(limited >= 15);
    /* Another address has its own bucket. */
    assert_int_equal(raw_request(s.port, "127.0.0.6", health, strlen(health), out, sizeof out),
                     200);

    /* One address holds its 4 connections idle: its 5th is turned away, another address is
       served. */
    int idle[4];
    for (int i = 0; i < 4; i++) {
        idle[i] = connect_from("127.0.0.7", s.port);
        assert_true(idle[i] >= 0);
    }
    fx_sleep_ms(200);
    int status = raw_request(s.port, "127.0.0.7", health, strlen(health), out, sizeof out);
    assert_true(status != 200);
    assert_int_equal(raw_request(s.port, "127.0.0.8", health, strlen(health), out, sizeof out),
                     200);
    for (int i = 0; i < 4; i++)
        close(idle[i]);
    assert_int_equal(fx_stop(&s), 0);
}

static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void access_log_and_database_file(void **state)
{
    (void)state;
    fx_server s;
    const char *extra[] = {"--access-log", NULL};
    assert_int_equal(start(&s, extra), 0);
    /* server init made the database owner-only. */
    char path[400];
    struct stat st;
    snprintf(path, sizeof path, "%s/fleet.db", s.dir);
    if (stat(path, &st) == 0) /* (a PostgreSQL run has no file) */
        assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(
        fx_call(s.admin, "GET", "/api/v1/devices?access_token=supersecret1&group=g", NULL, NULL),
        200);
    fx_sleep_ms(100);
    snprintf(path, sizeof path, "%s/server.log", s.dir);
    assert_true(file_has(path, "access_token=REDACTED&group=g"));
    assert_false(file_has(path, "supersecret1"));
    assert_int_equal(fx_stop(&s), 0);
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA, in dir (openssl). */
static int make_pki(const char *dir)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=tmo-test-ca -keyout ca.key -out ca.pem 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
             "-keyout server.key -out server.csr 2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile san.ext -out server.pem 2>/dev/null",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs the agent against base with ca for up to ~6 s; 1 when it enrolled (device listed). */
static int agent_enrolls(fx_server *s, const char *base, const char *ca, const char *pki)
{
    char state[400], token_env[200], root[400];
    snprintf(root, sizeof root, "%s/root.pub", s->dir);
    snprintf(state, sizeof state, "%s/agent-%ld", pki, (long)random());
    mkdir(state, 0700);
    char *tok = fx_enroll_token(s, "tls", "[]", 600, 1);
    snprintf(token_env, sizeof token_env, "%s", tok);
    free(tok);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(TMO_AGENT, TMO_AGENT, "--server", base, "--state-dir", state, "--ca", ca,
              "--root-key", root, "--enroll-token", token_env, "--checkin-interval", "1",
              "--telemetry", "off", (char *)NULL);
        _exit(127);
    }
    int enrolled = 0;
    for (int i = 0; i < 60 && !enrolled; i++) {
        fx_sleep_ms(100);
        json_t *out = NULL;
        if (fx_call(s->admin, "GET", "/api/v1/devices?group=tls", NULL, &out) == 200)
            enrolled = json_array_size(json_object_get(out, "devices")) > 0;
        json_decref(out);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return enrolled;
}

static void https_with_verified_server(void **state)
{
    (void)state;
    char pki[] = "/tmp/tmo-pki-XXXXXX";
    assert_non_null(mkdtemp(pki));
    assert_int_equal(make_pki(pki), 0);
    char cert[300], key[300], ca[300], other[300];
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    snprintf(other, sizeof other, "%s/other.pem", pki);
    fx_server s;
    const char *extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    setenv("TINYMLOPS_CA", ca, 1); /* the fixture's own admin client */
    assert_int_equal(start(&s, extra), 0);
    assert_int_equal(strncmp(s.base, "https://", 8), 0);
    assert_int_equal(fx_call(s.admin, "GET", "/api/v1/health", NULL, NULL), 200);
    /* Without the CA, or with another one, the client refuses the server. */
    unsetenv("TINYMLOPS_CA");
    hc_client *plain = hc_open(s.base);
    assert_int_equal(fx_call(plain, "GET", "/api/v1/health", NULL, NULL), -1);
    hc_set_ca(plain, other);
    assert_int_equal(fx_call(plain, "GET", "/api/v1/health", NULL, NULL), -1);
    hc_set_ca(plain, ca);
    assert_int_equal(fx_call(plain, "GET", "/api/v1/health", NULL, NULL), 200);
    hc_close(plain);
    /* Plain HTTP to the HTTPS port gets nothing. */
    char out[1024];
    const char *health = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_not_equal(raw_request(s.port, NULL, health, strlen(health), out, sizeof out), 200);
    /* The agent: enrolls against the right CA, never against another. */
    assert_false(agent_enrolls(&s, s.base, other, pki));
    assert_true(agent_enrolls(&s, s.base, ca, pki));
    assert_int_equal(fx_stop(&s), 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_bytes_are_refused),
        cmocka_unit_test(rate_limit_and_connection_quota),
        cmocka_unit_test(access_log_and_database_file),
        cmocka_unit_test(https_with_verified_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
