/*
 * The slot storage port on POSIX files (format and durability in
 * port_posix.h): what the agent's A/B slots and update journal live in.
 * Flash-like on purpose — erase units set to 0xFF, then aligned programming
 * of erased bytes only, erases counted per unit — so the engine runs here
 * exactly as it does on a microcontroller, and a flash rule it breaks fails
 * here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

static int open_area(tmo_posix_storage *s, int i, const char *dir, uint32_t size, uint32_t eu)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, area_file[i]) >= sizeof path)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || create_area(dir, path, size) != 0 || stat(path, &st) != 0)
            return -1;
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > UINT32_MAX || st.st_size % eu != 0)
        return -1;
    s->fd[i] = open(path, O_RDWR | O_CLOEXEC);
    s->size[i] = (uint32_t)st.st_size;
    s->erases[i] = calloc(s->size[i] / eu, sizeof *s->erases[i]);
    return s->fd[i] >= 0 && s->erases[i] != NULL ? 0 : -1;
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

/* Whether bytes [offset, offset+len) of area are all erased (0xFF). */
static tmo_err all_erased(void *ctx, uint32_t area, uint32_t offset, size_t len)
{
    uint8_t buf[512];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        tmo_err e = st_read(ctx, area, offset + (uint32_t)done, buf, n);
        if (e != TMO_OK)
            return e;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != 0xFF)
                return TMO_PORT_ENOTERASED;
        done += n;
    }
    return TMO_OK;
}

static tmo_err st_write(void *ctx, uint32_t area, uint32_t offset, const void *buf, size_t len)
{
    const tmo_posix_storage *s = ctx;
    if (!in_range(s, area, offset, len))
        return TMO_PORT_ERANGE;
    uint32_t wu = s->port.write_unit;
    if (len == 0 || offset % wu != 0 || len % wu != 0)
        return TMO_PORT_EALIGN;
    tmo_err e = all_erased(ctx, area, offset, len);
    if (e != TMO_OK)
        return e;
    e = put(s->fd[area], offset, buf, len);
    return e == TMO_OK && fdatasync(s->fd[area]) != 0 ? TMO_PORT_EIO : e;
}

static tmo_err st_erase(void *ctx, uint32_t area, uint32_t offset, uint32_t len)
{
    const tmo_posix_storage *s = ctx;
    uint32_t eu = s->port.erase_unit;
    if (!in_range(s, area, offset, len))
        return TMO_PORT_ERANGE;
    if (offset % eu != 0 || len % eu != 0)
        return TMO_PORT_EALIGN;
    uint8_t ff[4096];
    memset(ff, 0xFF, sizeof ff);
    tmo_err e = TMO_OK;
    for (uint32_t at = 0; at < len && e == TMO_OK; at += eu) {
        for (uint32_t k = 0; k < eu && e == TMO_OK; k += sizeof ff)
            e = put(s->fd[area], offset + at + k, ff, eu - k < sizeof ff ? eu - k : sizeof ff);
        if (e == TMO_OK)
            s->erases[area][(offset + at) / eu]++;
    }
    return e == TMO_OK && fdatasync(s->fd[area]) != 0 ? TMO_PORT_EIO : e;
}

static uint32_t round_up(uint32_t v, uint32_t unit)
{
    return (v + unit - 1) / unit * unit;
}

static int pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

tmo_err tmo_posix_storage_open_flash(tmo_posix_storage *s, const char *dir, uint32_t slot_size,
                                     uint32_t erase_unit, uint32_t write_unit)
{
    memset(s, 0, sizeof *s);
    s->fd[0] = s->fd[1] = s->fd[2] = -1;
    if (slot_size == 0 || slot_size > UINT32_MAX - 65536 || !pow2(erase_unit) ||
        erase_unit > 65536 || !pow2(write_unit) || write_unit > erase_unit)
        return TMO_PORT_ERANGE;
    uint32_t slot = round_up(slot_size, erase_unit);
    /* Halves of at least 4 KiB: a dozen records between erases (docs/update-engine.md). */
    uint32_t half = round_up(4096, erase_unit);
    const uint32_t sizes[3] = {slot, slot, 2 * half};
    for (int i = 0; i < 3; i++)
        if (open_area(s, i, dir, sizes[i], erase_unit) != 0) {
            tmo_posix_storage_close(s);
            return TMO_PORT_EIO;
        }
    s->port = (tmo_port_storage){.size = st_size,
                                 .read = st_read,
                                 .write = st_write,
                                 .erase = st_erase,
                                 .erase_unit = erase_unit,
                                 .write_unit = write_unit,
                                 .erased_value = 0xFF,
                                 .ctx = s};
    return TMO_OK;
}

tmo_err tmo_posix_storage_open(tmo_posix_storage *s, const char *dir, uint32_t slot_size)
{
    return tmo_posix_storage_open_flash(s, dir, slot_size, TMO_POSIX_ERASE_UNIT,
                                        TMO_POSIX_WRITE_UNIT);
}

void tmo_posix_storage_close(tmo_posix_storage *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->fd[i] >= 0)
            close(s->fd[i]);
        s->fd[i] = -1;
        free(s->erases[i]);
        s->erases[i] = NULL;
    }
}

uint32_t tmo_posix_storage_erases(const tmo_posix_storage *s, uint32_t area, uint32_t unit)
{
    if (area >= 3 || s->erases[area] == NULL || unit >= s->size[area] / s->port.erase_unit)
        return 0;
    return s->erases[area][unit];
}
