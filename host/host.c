/*
 * Host-side helpers (see host.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *host_read_file(const char *path, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    void *buf = aligned_alloc(16, (n + 16) & ~(size_t)15);
    if (buf == NULL) {
        snprintf(err, err_len, "%s: out of memory for %zu bytes", path, n);
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, n, f) != n) {
        snprintf(err, err_len, "%s: read failed", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int host_write_file(const char *path, const void *data, size_t len, char *err, size_t err_len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, err_len, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void host_format_diag(char *err, size_t err_len, const char *what, const tmo_diag *d)
{
    char msg[512];
    tmo_diag_format(d, msg, sizeof msg);
    snprintf(err, err_len, "%s: %s", what, msg);
}

tmo_err host_arena_size(const tmo_model *m, size_t *needed, tmo_diag *diag)
{
    size_t cap = 64 * 1024;
    for (;;) {
        void *work = aligned_alloc(16, cap);
        if (work == NULL)
            return TMO_ENOSPC;
        tmo_err e = tmo_interp_arena_size(m, work, cap, needed, diag);
        free(work);
        if (e != TMO_ENOSPC)
            return e;
        size_t want = diag->has_value && (size_t)diag->value > cap ? (size_t)diag->value : 2 * cap;
        if (want > ((size_t)1 << 30))
            return e;
        cap = (want + 15) & ~(size_t)15;
    }
}

tmo_err host_model_open_bytes(host_model *hm, void *bytes, size_t len, char *err, size_t err_len)
{
    tmo_diag d;
    memset(hm, 0, sizeof *hm);
    hm->bytes = bytes;
    hm->len = len;
    tmo_err e = tmo_model_parse(&hm->model, bytes, len, &d);
    if (e != TMO_OK) {
        host_format_diag(err, err_len, "invalid model", &d);
        return e;
    }
    if ((e = host_arena_size(&hm->model, &hm->arena_len, &d)) != TMO_OK) {
        host_format_diag(err, err_len, "cannot prepare model", &d);
        return e;
    }
    hm->arena = aligned_alloc(16, (hm->arena_len + 15) & ~(size_t)15);
    if (hm->arena == NULL) {
        snprintf(err, err_len, "out of memory for a %zu-byte arena", hm->arena_len);
        return TMO_ENOSPC;
    }
    if ((e = tmo_interp_init(&hm->interp, &hm->model, hm->arena, hm->arena_len, &d)) != TMO_OK) {
        host_format_diag(err, err_len, "cannot prepare model", &d);
        return e;
    }
    return TMO_OK;
}

tmo_err host_model_open(host_model *hm, const char *path, char *err, size_t err_len)
{
    size_t len;
    void *bytes = host_read_file(path, &len, err, err_len);
    if (bytes == NULL) {
        memset(hm, 0, sizeof *hm);
        return TMO_EINVAL;
    }
    tmo_err e = host_model_open_bytes(hm, bytes, len, err, err_len);
    if (e != TMO_OK)
        host_model_close(hm);
    return e;
}

void host_model_close(host_model *hm)
{
    free(hm->arena);
    free(hm->bytes);
    memset(hm, 0, sizeof *hm);
}

uint64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
