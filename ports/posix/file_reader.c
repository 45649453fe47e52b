/*
 * Bundle reader over a file: the device reads a bundle piecewise, the way it
 * would read external flash, instead of loading it whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port_posix.h"

static tmo_err file_read(void *ctx, uint32_t offset, void *buf, size_t len)
{
    tmo_posix_file *f = ctx;
    if ((uint64_t)offset + len > f->port.size)
        return TMO_PORT_ERANGE;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(f->fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TMO_PORT_EIO;
        p += n;
        offset += (uint32_t)n;
        len -= (size_t)n;
    }
    return TMO_OK;
}

tmo_err tmo_posix_file_open(tmo_posix_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return TMO_PORT_EIO;
    struct stat st;
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)UINT32_MAX) {
        tmo_err e = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) ? TMO_PORT_ERANGE : TMO_PORT_EIO;
        close(f->fd);
        f->fd = -1;
        return e;
    }
    f->port.read = file_read;
    f->port.ctx = f;
    f->port.size = (uint32_t)st.st_size;
    return TMO_OK;
}

void tmo_posix_file_close(tmo_posix_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
