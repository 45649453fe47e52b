/*
 * Faulty slot storage and NV counter (see faulty_storage.h).
 */
#include "faulty_storage.h"

#include <stdlib.h>
#include <string.h>

/* Counts one durable operation; 0 = go ahead, 1 = this one is cut, -1 = no power. */
static int step(faulty_storage *f)
{
    if (!f->powered)
        return -1;
    if (f->ops++ == f->cut_at) {
        f->powered = 0;
        return 1;
    }
    return 0;
}

static int bad_range(faulty_storage *f, uint32_t area, uint32_t offset, size_t len)
{
    if (area < 3 && offset <= f->size[area] && len <= f->size[area] - offset)
        return 0;
    f->violations++;
    return 1;
}

static int misaligned(faulty_storage *f, uint32_t offset, size_t len, uint32_t unit)
{
    if (offset % unit == 0 && len % unit == 0 && len > 0)
        return 0;
    f->violations++;
    f->misaligned++;
    return 1;
}

static tmo_err fs_size(void *ctx, uint32_t area, uint32_t *bytes)
{
    faulty_storage *f = ctx;
    if (area >= 3)
        return TMO_PORT_ERANGE;
    *bytes = f->size[area];
    return TMO_OK;
}

static tmo_err fs_read(void *ctx, uint32_t area, uint32_t offset, void *buf, size_t len)
{
    faulty_storage *f = ctx;
    if (!f->powered)
        return TMO_PORT_EIO;
    if (bad_range(f, area, offset, len))
        return TMO_PORT_ERANGE;
    memcpy(buf, f->area[area] + offset, len);
    return TMO_OK;
}

/* Flash programming: a bit can only move away from the erased value's bit. */
static void program(faulty_storage *f, uint32_t area, uint32_t offset, const uint8_t *src,
                    size_t len)
{
    uint8_t e = f->port.erased_value;
    uint8_t *p = f->area[area] + offset;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != e)
            f->violations++;
        p[i] = (uint8_t)(e ^ ((p[i] ^ e) | (src[i] ^ e)));
    }
}

static tmo_err fs_write(void *ctx, uint32_t area, uint32_t offset, const void *buf, size_t len)
{
    faulty_storage *f = ctx;
    if (bad_range(f, area, offset, len))
        return TMO_PORT_ERANGE;
    if (misaligned(f, offset, len, f->port.write_unit))
        return TMO_PORT_EALIGN;
    int s = step(f);
    if (s < 0)
        return TMO_PORT_EIO;
    size_t n = s == 0 || f->tear == TEAR_ALL ? len : f->tear == TEAR_HALF ? len / 2 : 0;
    program(f, area, offset, buf, n);
    f->writes++;
    return s == 0 ? TMO_OK : TMO_PORT_EIO;
}

static tmo_err fs_erase(void *ctx, uint32_t area, uint32_t offset, uint32_t len)
{
    faulty_storage *f = ctx;
    uint32_t eu = f->port.erase_unit;
    if (bad_range(f, area, offset, len))
        return TMO_PORT_ERANGE;
    if (misaligned(f, offset, len, eu))
        return TMO_PORT_EALIGN;
    int s = step(f);
    if (s < 0)
        return TMO_PORT_EIO;
    uint32_t units = len / eu;
    uint32_t n = s == 0 || f->tear == TEAR_ALL ? units : f->tear == TEAR_HALF ? units / 2 : 0;
    memset(f->area[area] + offset, f->port.erased_value, (size_t)n * eu);
    for (uint32_t k = 0; k < n; k++)
        f->erases[area][offset / eu + k]++;
    /* The unit being erased when power went is left junk. */
    if (s == 1 && f->tear == TEAR_HALF && n < units)
        memset(f->area[area] + offset + (size_t)n * eu, 0xA5, eu / 2);
    return s == 0 ? TMO_OK : TMO_PORT_EIO;
}

static tmo_err fc_read(void *ctx, uint64_t *value)
{
    faulty_storage *f = ctx;
    if (!f->powered)
        return TMO_PORT_EIO;
    *value = f->counter;
    return TMO_OK;
}

static tmo_err fc_advance(void *ctx, uint64_t value)
{
    faulty_storage *f = ctx;
    int s = step(f);
    if (s == 0 && f->cut_counter) {
        f->powered = 0;
        s = 1;
    }
    if (s < 0)
        return TMO_PORT_EIO;
    /* The counter port is atomic: a cut leaves the old or the new value. */
    if ((s == 0 || f->tear == TEAR_ALL) && value > f->counter)
        f->counter = value;
    return s == 0 ? TMO_OK : TMO_PORT_EIO;
}

void fs_init_flash(faulty_storage *f, uint32_t slot_size, uint32_t journal_size,
                   uint32_t erase_unit, uint32_t write_unit, uint8_t erased_value)
{
    memset(f, 0, sizeof *f);
    const uint32_t sizes[3] = {slot_size, slot_size, journal_size};
    uint32_t x = 12345;
    for (int i = 0; i < 3; i++) {
        f->size[i] = sizes[i];
        f->area[i] = malloc(sizes[i]);
        f->erases[i] = calloc(sizes[i] / erase_unit + 1, sizeof *f->erases[i]);
        for (uint32_t k = 0; k < sizes[i]; k++) {
            x = x * 1103515245u + 12345u;
            f->area[i][k] = (uint8_t)(((x >> 16) & 0x7F) | 0x01); /* junk, never 0xFF nor 0x00 */
        }
    }
    f->port = (tmo_port_storage){.size = fs_size,
                                 .read = fs_read,
                                 .write = fs_write,
                                 .erase = fs_erase,
                                 .erase_unit = erase_unit,
                                 .write_unit = write_unit,
                                 .erased_value = erased_value,
                                 .ctx = f};
    f->counter_port = (tmo_port_counter){fc_read, fc_advance, f};
    fs_power_on(f, -1, TEAR_NOTHING);
}

void fs_init(faulty_storage *f, uint32_t slot_size, uint32_t journal_size, uint32_t erase_unit)
{
    fs_init_flash(f, slot_size, journal_size, erase_unit, 1, 0xFF);
}

void fs_free(faulty_storage *f)
{
    for (int i = 0; i < 3; i++) {
        free(f->area[i]);
        free(f->erases[i]);
    }
    memset(f, 0, sizeof *f);
}

void fs_copy(faulty_storage *dst, const faulty_storage *src)
{
    for (int i = 0; i < 3; i++) {
        memcpy(dst->area[i], src->area[i], src->size[i]);
        memcpy(dst->erases[i], src->erases[i],
               (src->size[i] / src->port.erase_unit + 1) * sizeof *src->erases[i]);
    }
    dst->counter = src->counter;
    dst->violations = src->violations;
    dst->misaligned = src->misaligned;
}

void fs_power_on(faulty_storage *f, long cut_at, int tear)
{
    f->ops = 0;
    f->cut_at = cut_at;
    f->tear = tear;
    f->cut_counter = 0;
    f->powered = 1;
}

long fs_erases(const faulty_storage *f, uint32_t area)
{
    long n = 0;
    for (uint32_t k = 0; k < f->size[area] / f->port.erase_unit; k++)
        n += f->erases[area][k];
    return n;
}
