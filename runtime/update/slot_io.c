/*
 * Bytes in the model slots: programming with erase-ahead (flash can only be
 * written once per erase), readers for the bundle verifier, and verification
 * of the bundle a slot holds (all hashing and signatures happen in
 * runtime/bundle: crypto stays there).
 */
#include <string.h>

#include "update_priv.h"
#include "../diag.h"

tmo_err port_fail(tmo_diag *diag, tmo_err err, const char *field)
{
    diag_set(diag, err, TMO_AT_NONE, -1, field, "the slot storage port failed");
    return err;
}

void slot_clear(tmo_update_slot *s)
{
    memset(s, 0, sizeof *s);
    s->state = TMO_SLOT_EMPTY;
}

static tmo_err slot_read(void *ctx, uint32_t offset, void *buf, size_t len)
{
    const tmo_update_slot_ctx *c = ctx;
    const tmo_port_storage *s = c->u->cfg.storage;
    return s->read(s->ctx, c->area, offset, buf, len);
}

void slot_reader_init(tmo_update *u, tmo_update_slot_ctx *ctx, uint8_t i, uint32_t size,
                      tmo_port_reader *r)
{
    ctx->u = u;
    ctx->area = slot_area(i);
    r->read = slot_read;
    r->ctx = ctx;
    r->size = size;
}

tmo_err slot_program(tmo_update *u, uint8_t i, uint32_t offset, const void *data, size_t len,
                     tmo_diag *diag)
{
    const tmo_port_storage *s = u->cfg.storage;
    uint32_t unit = s->erase_unit;
    uint64_t end = (uint64_t)offset + len;
    if (end > u->slot_size[i])
        return diag_set(diag, TMO_ENOSPC, TMO_AT_NONE, -1, "update.size",
                        "the bundle does not fit the slot");
    /* Slot sizes are multiples of the unit (checked at open): the rounded end stays inside. */
    uint64_t need = (end + unit - 1) / unit * unit;
    if (need > u->erased_to) {
        tmo_err e = s->erase(s->ctx, slot_area(i), u->erased_to, (uint32_t)(need - u->erased_to));
        if (e != TMO_OK)
            return port_fail(diag, e, "port.storage");
        u->erased_to = (uint32_t)need;
    }
    tmo_err e = s->write(s->ctx, slot_area(i), offset, data, len);
    return e == TMO_OK ? TMO_OK : port_fail(diag, e, "port.storage");
}

tmo_err slot_verify(tmo_update *u, uint8_t i, uint32_t size, int with_clock, tmo_diag *diag)
{
    tmo_port_reader r;
    tmo_bundle_env env = u->cfg.env;
    if (!with_clock)
        env.clock = NULL; /* time is judged once, at install (see update.h) */
    tmo_bundle_close(&u->bundle);
    slot_reader_init(u, &u->verify_ctx, i, size, &r);
    tmo_err e = tmo_bundle_verify(&u->bundle, &r, &env, diag);
    if (e == TMO_OK)
        e = tmo_bundle_check_payload(&u->bundle, diag);
    if (e != TMO_OK)
        tmo_bundle_close(&u->bundle);
    return e;
}

void slot_describe(const tmo_update *u, tmo_update_slot *s)
{
    const tmo_bundle_manifest *m = &u->bundle.manifest;
    uint32_t n = m->name_len <= TMO_BUNDLE_MAX_NAME ? m->name_len : TMO_BUNDLE_MAX_NAME;
    memset(s->name, 0, sizeof s->name);
    memcpy(s->name, m->name, n);
    s->name_len = (uint8_t)n;
    s->version = m->version;
    s->counter = m->counter;
}
