/*
 * The slot storage port on POSIX files (format and durability in
 * port_posix.h): what the agent's A/B slots and update journal live in.
 * Flash-like on purpose — erase to 0xFF, then program — so the engine runs
 * here exactly as it does on a microcontroller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port_posix.h"
#include "tinymlops/update.h"

static const char *const area_file[3] = {"slot-a.bin", "slot-b.bin", "journal.bin"};

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates path at size bytes atomically: temporary file, ftruncate, fsync, rename, fsync dir. */
static int create_area(const char *dir, const char *path, uint32_t size)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = ftruncate(fd, (off_t)size) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return sync_dir(dir);
}

static int open_area(tmo_posix_storage *s, int i, const char *dir, uint32_t size)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, area_file[i]) >= sizeof path)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || create_area(dir, path, size) != 0 || stat(path, &st) != 0)
            return -1;
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > UINT32_MAX ||
        st.st_size % TMO_POSIX_ERASE_UNIT != 0)
        return -1;
    s->fd[i] = open(path, O_RDWR | O_CLOEXEC);
    s->size[i] = (uint32_t)st.st_size;
    return s->fd[i] >= 0 ? 0 : -1;
}

static int in_range(const tmo_posix_storage *s, uint32_t area, uint32_t offset, size_t len)
{
    return area < 3 && offset <= s->size[area] && len <= s->size[area] - offset;
}

static tmo_err st_size(void *ctx, uint32_t area, uint32_t *bytes)
{
    const tmo_posix_storage *s = ctx;
    if (area >= 3)
        return TMO_PORT_ERANGE;
    *bytes = s->size[area];
    return TMO_OK;
}

static tmo_err st_read(void *ctx, uint32_t area, uint32_t offset, void *buf, size_t len)
{
    const tmo_posix_storage *s = ctx;
    if (!in_range(s, area, offset, len))
        return TMO_PORT_ERANGE;
    for (size_t done = 0; done < len;) {
        ssize_t n =
            pread(s->fd[area], (uint8_t *)buf + done, len - done, (off_t)offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TMO_PORT_EIO;
        done += (size_t)n;
    }
    return TMO_OK;
}

static tmo_err put(int fd, uint32_t offset, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n =
            pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TMO_PORT_EIO;
        done += (size_t)n;
    }
    return TMO_OK;
}

static tmo_err st_write(void *ctx, uint32_t area, uint32_t offset, const void *buf, size_t len)
{
    const tmo_posix_storage *s = ctx;
    if (!in_range(s, area, offset, len))
        return TMO_PORT_ERANGE;
    tmo_err e = put(s->fd[area], offset, buf, len);
    return e == TMO_OK && fdatasync(s->fd[area]) != 0 ? TMO_PORT_EIO : e;
}

static tmo_err st_erase(void *ctx, uint32_t area, uint32_t offset, uint32_t len)
{
    const tmo_posix_storage *s = ctx;
    if (!in_range(s, area, offset, len) || offset % TMO_POSIX_ERASE_UNIT ||
        len % TMO_POSIX_ERASE_UNIT)
        return TMO_PORT_ERANGE;
    uint8_t ff[TMO_POSIX_ERASE_UNIT];
    memset(ff, 0xFF, sizeof ff);
    tmo_err e = TMO_OK;
    for (uint32_t at = 0; at < len && e == TMO_OK; at += TMO_POSIX_ERASE_UNIT)
        e = put(s->fd[area], offset + at, ff, sizeof ff);
    return e == TMO_OK && fdatasync(s->fd[area]) != 0 ? TMO_PORT_EIO : e;
}

tmo_err tmo_posix_storage_open(tmo_posix_storage *s, const char *dir, uint32_t slot_size)
{
    memset(s, 0, sizeof *s);
    s->fd[0] = s->fd[1] = s->fd[2] = -1;
    if (slot_size == 0 || slot_size > UINT32_MAX - TMO_POSIX_ERASE_UNIT)
        return TMO_PORT_ERANGE;
    uint32_t slot =
        (slot_size + TMO_POSIX_ERASE_UNIT - 1) / TMO_POSIX_ERASE_UNIT * TMO_POSIX_ERASE_UNIT;
    uint32_t journal = 2 * ((TMO_JOURNAL_RECORD_LEN + TMO_POSIX_ERASE_UNIT - 1) /
                            TMO_POSIX_ERASE_UNIT * TMO_POSIX_ERASE_UNIT);
    const uint32_t sizes[3] = {slot, slot, journal};
    for (int i = 0; i < 3; i++)
        if (open_area(s, i, dir, sizes[i]) != 0) {
            tmo_posix_storage_close(s);
            return TMO_PORT_EIO;
        }
    s->port.size = st_size;
    s->port.read = st_read;
    s->port.write = st_write;
    s->port.erase = st_erase;
    s->port.erase_unit = TMO_POSIX_ERASE_UNIT;
    s->port.ctx = s;
    return TMO_OK;
}

void tmo_posix_storage_close(tmo_posix_storage *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->fd[i] >= 0)
            close(s->fd[i]);
        s->fd[i] = -1;
    }
}
