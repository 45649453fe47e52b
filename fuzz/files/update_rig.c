/*
 * RAM slot storage and NV counter for the update_state fuzz target (update_rig.h).
 */
#include "update_rig.h"

#include <string.h>

static uint8_t *area_of(rig *r, uint32_t area, uint32_t *size)
{
    if (area < 2) {
        *size = RIG_SLOT_SIZE;
        return r->slot[area];
    }
    if (area == TMO_AREA_JOURNAL) {
        *size = r->journal_size;
        return r->journal;
    }
    return NULL;
}

static uint8_t *range(rig *r, uint32_t area, uint32_t offset, size_t len)
{
    uint32_t size = 0;
    uint8_t *p = area_of(r, area, &size);
    if (p == NULL || offset > size || len > size - offset) {
        r->violations++;
        return NULL;
    }
    return p + offset;
}

static tmo_err rs_size(void *ctx, uint32_t area, uint32_t *bytes)
{
    rig *r = ctx;
    if (area_of(r, area, bytes) == NULL)
        return TMO_PORT_ERANGE;
    return TMO_OK;
}

static tmo_err rs_read(void *ctx, uint32_t area, uint32_t offset, void *buf, size_t len)
{
    uint8_t *p = range(ctx, area, offset, len);
    if (p == NULL)
        return TMO_PORT_ERANGE;
    memcpy(buf, p, len);
    return TMO_OK;
}

static tmo_err rs_write(void *ctx, uint32_t area, uint32_t offset, const void *buf, size_t len)
{
    rig *r = ctx;
    uint8_t *p = range(r, area, offset, len);
    if (p == NULL)
        return TMO_PORT_ERANGE;
    const uint8_t *s = buf;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0xFF)
            r->violations++;
        p[i] &= s[i];
    }
    return TMO_OK;
}

static tmo_err rs_erase(void *ctx, uint32_t area, uint32_t offset, uint32_t len)
{
    rig *r = ctx;
    uint8_t *p = range(r, area, offset, len);
    if (p == NULL)
        return TMO_PORT_ERANGE;
    if (offset % r->port.erase_unit != 0 || len % r->port.erase_unit != 0) {
        r->violations++;
        return TMO_PORT_ERANGE;
    }
    memset(p, 0xFF, len);
    return TMO_OK;
}

static tmo_err rc_read(void *ctx, uint64_t *value)
{
    *value = ((rig *)ctx)->counter;
    return TMO_OK;
}

static tmo_err rc_advance(void *ctx, uint64_t value)
{
    rig *r = ctx;
    if (value > r->counter)
        r->counter = value;
    return TMO_OK;
}

void rig_init(rig *r, const uint8_t root[TMO_P256_PUBLIC_KEY_LEN], uint32_t erase_unit,
              uint8_t max_trial_boots)
{
    static uint8_t roots[1][TMO_P256_PUBLIC_KEY_LEN];
    memcpy(roots[0], root, TMO_P256_PUBLIC_KEY_LEN);
    memset(r->slot, 0xFF, sizeof r->slot);
    memset(r->journal, 0xFF, sizeof r->journal);
    uint32_t stride = (TMO_JOURNAL_RECORD_LEN + erase_unit - 1) / erase_unit * erase_unit;
    r->journal_size = 2 * stride;
    r->counter = 0;
    r->violations = 0;
    r->port = (tmo_port_storage){rs_size, rs_read, rs_write, rs_erase, erase_unit, r};
    r->counter_port = (tmo_port_counter){rc_read, rc_advance, r};
    r->caps = (tmo_bundle_caps){
        "x86_64",
        {TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR, TMO_RUNTIME_VERSION_PATCH},
        1u << 20,
        1u << 20,
        NULL};
    memset(&r->cfg, 0, sizeof r->cfg);
    r->cfg.storage = &r->port;
    r->cfg.env.roots = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])roots;
    r->cfg.env.root_count = 1;
    r->cfg.env.counter = &r->counter_port;
    r->cfg.env.caps = &r->caps;
    r->cfg.max_trial_boots = max_trial_boots;
}

void rig_fill_slot(rig *r, int i, const rig_bundle *b, uint8_t fill)
{
    memset(r->slot[i], b != NULL ? 0xFF : fill, RIG_SLOT_SIZE);
    if (b != NULL)
        memcpy(r->slot[i], b->bytes, b->len);
}

tmo_err rig_download(tmo_update *u, const rig_bundle *b, uint64_t tag, tmo_diag *d)
{
    uint32_t off = 0;
    tmo_err e = tmo_update_begin(u, (uint32_t)b->len, b->digest, tag, &off, d);
    while (e == TMO_OK && off < b->len) {
        size_t n = b->len - off < 512 ? b->len - off : 512;
        e = tmo_update_write(u, off, b->bytes + off, n, d);
        off += (uint32_t)n;
    }
    return e == TMO_OK ? tmo_update_finish(u, d) : e;
}
