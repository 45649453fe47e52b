/*
 * NV security counter in a file (format and power-loss behaviour in
 * port_posix.h). The file is tiny and rewritten whole: atomic rename is the
 * POSIX way to get "old or new, never half".
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "port_posix.h"

enum { RECORD = 16 };

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static tmo_err counter_read(void *ctx, uint64_t *value)
{
    const tmo_posix_counter *c = ctx;
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return TMO_PORT_EIO;
        *value = 0;
        return TMO_OK;
    }
    uint8_t rec[RECORD + 1];
    ssize_t n = read(fd, rec, sizeof rec);
    close(fd);
    if (n < 0)
        return TMO_PORT_EIO;
    if (n != RECORD || memcmp(rec, "TMNV", 4) != 0 || get_le(rec + 12, 4) != crc32(rec, 12))
        return TMO_PORT_ECORRUPT;
    *value = get_le(rec + 4, 8);
    return TMO_OK;
}

/* fsync of the directory holding path, so the rename itself is durable. */
static int sync_dir(const char *path)
{
    char dir[sizeof((tmo_posix_counter *)0)->path];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static tmo_err counter_advance(void *ctx, uint64_t value)
{
    const tmo_posix_counter *c = ctx;
    uint64_t cur;
    tmo_err e = counter_read(ctx, &cur);
    if (e != TMO_OK)
        return e;
    if (value <= cur)
        return TMO_OK; /* never decreases */
    uint8_t rec[RECORD];
    memcpy(rec, "TMNV", 4);
    put_le(rec + 4, value, 8);
    put_le(rec + 12, crc32(rec, 12), 4);
    char tmp[sizeof c->path + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return TMO_PORT_EIO;
    int ok = write(fd, rec, sizeof rec) == (ssize_t)sizeof rec && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, c->path) != 0 || sync_dir(c->path) != 0) {
        unlink(tmp);
        return TMO_PORT_EIO;
    }
    return TMO_OK;
}

tmo_err tmo_posix_counter_init(tmo_posix_counter *c, const char *path)
{
    memset(c, 0, sizeof *c);
    if (path == NULL || strlen(path) >= sizeof c->path)
        return TMO_EINVAL;
    memcpy(c->path, path, strlen(path) + 1);
    c->port.read = counter_read;
    c->port.advance = counter_advance;
    c->port.ctx = c;
    return TMO_OK;
}
