/*
 * The local API on a UNIX socket (protocol in agent.h and docs/agent.md):
 * lets the host application run the active model through the agent and ask
 * for its status, without linking the agent. One thread serves one
 * connection at a time; a client that stalls is cut off after a timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_priv.h"

#define MAX_PAYLOAD (16u << 20)
#define MAX_OUTPUT (4u << 20)

struct agent_local {
    agent *a;
    int fd;
    char path[108];
    atomic_int stop;
    pthread_t thread;
};

static int read_all(int fd, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int respond(int fd, uint8_t status, const void *payload, size_t len)
{
    uint8_t h[8] = {status,
                    0,
                    0,
                    0,
                    (uint8_t)len,
                    (uint8_t)(len >> 8),
                    (uint8_t)(len >> 16),
                    (uint8_t)(len >> 24)};
    return write_all(fd, h, sizeof h) == 0 && write_all(fd, payload, len) == 0 ? 0 : -1;
}

/* One request; -1 ends the connection. */
static int serve_one(agent_local *l, int fd, uint8_t *out)
{
    uint8_t h[8];
    if (read_all(fd, h, sizeof h) != 0)
        return -1;
    uint32_t len =
        (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    if (len > MAX_PAYLOAD || h[1] || h[2] || h[3]) {
        const char *msg = "bad request header";
        respond(fd, 1, msg, strlen(msg));
        return -1;
    }
    uint8_t *in = malloc(len ? len : 1);
    if (in == NULL || read_all(fd, in, len) != 0) {
        free(in);
        return -1;
    }
    int rc;
    if (h[0] == 'I') {
        char err[300];
        size_t out_len = 0;
        rc = agent_infer(l->a, in, len, out, MAX_OUTPUT, &out_len, err, sizeof err) == 0
                 ? respond(fd, 0, out, out_len)
                 : respond(fd, 1, err, strlen(err));
    } else if (h[0] == 'S') {
        char *s = agent_status(l->a);
        rc = s != NULL ? respond(fd, 0, s, strlen(s)) : respond(fd, 1, "out of memory", 13);
        free(s);
    } else {
        const char *msg = "unknown op (use 'I' or 'S')";
        rc = respond(fd, 1, msg, strlen(msg));
    }
    free(in);
    return rc;
}

static void *serve(void *arg)
{
    agent_local *l = arg;
    uint8_t *out = malloc(MAX_OUTPUT);
    while (!l->stop && out != NULL) {
        struct pollfd p = {l->fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int c = accept(l->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {5, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        while (!l->stop && serve_one(l, c, out) == 0)
            ;
        close(c);
    }
    free(out);
    return NULL;
}

agent_local *agent_local_start(agent *a, const char *path, char *err, size_t err_len)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, err_len, "%s: socket path too long", path);
        return NULL;
    }
    agent_local *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    l->a = a;
    snprintf(l->path, sizeof l->path, "%s", path);
    memcpy(addr.sun_path, path, strlen(path));
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path); /* a socket left by a killed agent */
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        chmod(path, 0660) != 0 || listen(l->fd, 8) != 0 ||
        pthread_create(&l->thread, NULL, serve, l) != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        if (l->fd >= 0)
            close(l->fd);
        free(l);
        return NULL;
    }
    return l;
}

void agent_local_stop(agent_local *l)
{
    if (l == NULL)
        return;
    l->stop = 1;
    pthread_join(l->thread, NULL);
    close(l->fd);
    unlink(l->path);
    free(l);
}
