/*
 * Bytes in the model slots: programming in whole write units with
 * erase-ahead (flash can only be written once per erase, in the port's
 * program granularity), readers for the bundle verifier, and verification
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

/* Programs len bytes (whole write units, or the padded last one) at offset of slot i. */
static tmo_err program(tmo_update *u, uint8_t i, uint32_t offset, const void *data, uint32_t len,
                       tmo_diag *diag)
{
    const tmo_port_storage *s = u->cfg.storage;
    uint32_t unit = s->erase_unit;
    /* Slot sizes are multiples of the erase unit (checked at open), which is one of the write
     * unit: a write that begin let in ends inside the slot, and so does its rounded end. */
    uint64_t need = ((uint64_t)offset + len + unit - 1) / unit * unit;
    if (need > u->erased_to) {
        tmo_err e = s->erase(s->ctx, slot_area(i), u->erased_to, (uint32_t)(need - u->erased_to));
        if (e != TMO_OK)
            return port_fail(diag, e, "port.storage");
        u->erased_to = (uint32_t)need;
    }
    tmo_err e = s->write(s->ctx, slot_area(i), offset, data, len);
    return e == TMO_OK ? TMO_OK : port_fail(diag, e, "port.storage");
}

/* Programs the tail (have bytes) as one write unit, padded with the erased value. */
static tmo_err flush_tail(tmo_update *u, uint8_t i, uint32_t have, tmo_diag *diag)
{
    const tmo_port_storage *s = u->cfg.storage;
    memset(u->tail + have, s->erased_value, s->write_unit - have);
    tmo_update_slot *sl = &u->st.slot[i];
    tmo_err e = program(u, i, sl->written, u->tail, s->write_unit, diag);
    if (e == TMO_OK)
        sl->written += have;
    return e;
}

tmo_err slot_append(tmo_update *u, uint8_t i, const uint8_t *data, size_t len, tmo_diag *diag)
{
    tmo_update_slot *sl = &u->st.slot[i];
    uint32_t wu = u->cfg.storage->write_unit;
    uint32_t have = u->accepted - sl->written; /* < wu: bytes waiting in the tail */
    u->accepted += (uint32_t)len;              /* begin and write keep this <= size */
    int last = u->accepted == sl->size;        /* this call completes the bundle */
    if (have > 0) {
        uint32_t take = len < wu - have ? (uint32_t)len : wu - have;
        memcpy(u->tail + have, data, take);
        have += take;
        data += take;
        len -= take;
        if (have < wu && !last)
            return TMO_OK;
        tmo_err e = flush_tail(u, i, have, diag);
        if (e != TMO_OK)
            return e;
    }
    uint32_t whole = (uint32_t)len / wu * wu;
    if (whole > 0) {
        tmo_err e = program(u, i, sl->written, data, whole, diag);
        if (e != TMO_OK)
            return e;
        sl->written += whole;
    }
    uint32_t rest = (uint32_t)len - whole;
    memcpy(u->tail, data + whole, rest);
    return last && rest > 0 ? flush_tail(u, i, rest, diag) : TMO_OK;
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
