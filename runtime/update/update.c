/*
 * Receiving a bundle into the inactive slot: open, begin (or resume), write,
 * finish (verify), cancel, and the read-only accessors. The trial half
 * (activate, confirm, revert, boot) is in trial.c. Each durable step is one
 * journal record; the comments in tinymlops/update.h say why the order of
 * storage writes is safe at every cut.
 */
#include <string.h>

#include "update_priv.h"
#include "../diag.h"

static tmo_err fail(tmo_diag *diag, tmo_err err, const char *field, const char *problem)
{
    return diag_set(diag, err, TMO_AT_NONE, -1, field, problem);
}

static int pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static int config_ok(const tmo_update_config *c)
{
    const tmo_port_storage *s = c->storage;
    return s != NULL && s->size != NULL && s->read != NULL && s->write != NULL &&
           s->erase != NULL && c->env.counter != NULL;
}

/* The flash geometry the engine can keep to (port.h); the write unit bounds its buffers. */
static tmo_err check_geometry(const tmo_port_storage *s, tmo_diag *diag)
{
    if (!pow2(s->erase_unit) || s->erase_unit > 65536) {
        fail(diag, TMO_EINVAL, "port.storage.erase_unit",
             "the erase unit must be a power of two, at most 65536");
        diag_limit(diag, s->erase_unit, 65536);
        return TMO_EINVAL;
    }
    uint32_t max =
        s->erase_unit < TMO_UPDATE_MAX_WRITE_UNIT ? s->erase_unit : TMO_UPDATE_MAX_WRITE_UNIT;
    if (!pow2(s->write_unit) || s->write_unit > max) {
        fail(diag, TMO_EINVAL, "port.storage.write_unit",
             "the write unit must be a power of two, at most the erase unit and "
             "TMO_UPDATE_MAX_WRITE_UNIT");
        diag_limit(diag, s->write_unit, max);
        return TMO_EINVAL;
    }
    return TMO_OK;
}

tmo_err tmo_update_open(tmo_update *u, const tmo_update_config *cfg, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL || cfg == NULL || !config_ok(cfg))
        return fail(diag, TMO_EINVAL, "update.config", "needs a storage port and an NV counter");
    if (check_geometry(cfg->storage, diag) != TMO_OK)
        return TMO_EINVAL;
    memset(u, 0, sizeof *u);
    u->cfg = *cfg;
    const tmo_port_storage *s = cfg->storage;
    uint32_t unit = s->erase_unit, wu = s->write_unit, journal = 0;
    u->rec_space = (TMO_JOURNAL_RECORD_LEN + wu - 1) / wu * wu;
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++) {
        tmo_err e = s->size(s->ctx, slot_area(i), &u->slot_size[i]);
        if (e != TMO_OK)
            return port_fail(diag, e, "port.storage");
        if (u->slot_size[i] % unit != 0)
            return fail(diag, TMO_EINVAL, "update.slot_size",
                        "a slot is not a whole number of erase units");
    }
    tmo_err e = s->size(s->ctx, TMO_AREA_JOURNAL, &journal);
    if (e != TMO_OK)
        return port_fail(diag, e, "port.storage");
    u->half_len = journal / unit / 2 * unit;
    u->rec_per_half = u->half_len / u->rec_space;
    if (u->rec_per_half == 0) {
        fail(diag, TMO_EINVAL, "update.journal_size",
             "the journal area needs two halves of whole erase units, each holding a record");
        diag_limit(diag, journal, 2 * ((u->rec_space + unit - 1) / unit * unit));
        return TMO_EINVAL;
    }
    e = journal_load(u, diag);
    if (e != TMO_OK)
        return e;
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++) {
        tmo_update_slot *sl = &u->st.slot[i];
        if (sl->state == TMO_SLOT_RECEIVING) {
            /* Bytes after the last durable count may be torn: resume at their erase unit. */
            sl->written = sl->written / unit * unit;
            u->erased_to = u->accepted = sl->written;
        }
    }
    return TMO_OK;
}

uint8_t tmo_update_inactive_slot(const tmo_update *u)
{
    uint8_t a = u->st.active;
    if (a == TMO_UPDATE_NO_SLOT)
        return 0;
    return u->st.slot[a].state == TMO_SLOT_TRIAL ? TMO_UPDATE_NO_SLOT : (uint8_t)(a ^ 1u);
}

static int same_bundle(const tmo_update_slot *s, uint32_t size, const uint8_t *digest)
{
    return digest != NULL && s->has_digest && s->size == size &&
           tmo_bytes_equal(s->digest, digest, TMO_SHA256_LEN);
}

/* Where begin writes: the inactive slot; with no active slot, one already holding this bundle. */
static uint8_t target_slot(const tmo_update *u, uint32_t size, const uint8_t *digest)
{
    if (u->st.active != TMO_UPDATE_NO_SLOT)
        return (uint8_t)(u->st.active ^ 1u);
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (u->st.slot[i].state != TMO_SLOT_EMPTY && same_bundle(&u->st.slot[i], size, digest))
            return i;
    return 0;
}

tmo_err tmo_update_begin(tmo_update *u, uint32_t size, const uint8_t *digest, uint64_t tag,
                         uint32_t *resume_offset, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL || resume_offset == NULL || size == 0)
        return fail(diag, TMO_EINVAL, "update.size", "a bundle has at least one byte");
    if (tmo_update_inactive_slot(u) == TMO_UPDATE_NO_SLOT)
        return fail(
            diag, TMO_ESTATE, "update.state",
            "a trial is running: the inactive slot is its fallback (confirm or revert first)");
    uint8_t t = target_slot(u, size, digest);
    if (size > u->slot_size[t]) {
        fail(diag, TMO_ENOSPC, "update.size", "the bundle is larger than the slot");
        diag_limit(diag, size, u->slot_size[t]);
        return TMO_ENOSPC;
    }
    tmo_update_state next = u->st;
    tmo_update_slot *s = &next.slot[t];
    if (same_bundle(s, size, digest) && s->state == TMO_SLOT_RECEIVING) {
        *resume_offset = u->accepted; /* bytes waiting in the tail count: they go on from there */
        if (s->tag == tag)
            return TMO_OK;
        s->tag = tag;
        return journal_store(u, &next, diag);
    }
    int have_all =
        same_bundle(s, size, digest) && (s->state == TMO_SLOT_READY || s->state == TMO_SLOT_GOOD);
    slot_clear(s);
    s->state = TMO_SLOT_RECEIVING;
    s->size = size;
    s->written = have_all ? size : 0;
    s->tag = tag;
    if (digest != NULL) {
        memcpy(s->digest, digest, TMO_SHA256_LEN);
        s->has_digest = 1;
    }
    /* Only one slot receives at a time (erased_to tracks one slot). */
    tmo_update_slot *other = &next.slot[t ^ 1u];
    if (other->state == TMO_SLOT_RECEIVING || other->state == TMO_SLOT_READY)
        slot_clear(other);
    tmo_err e = journal_store(u, &next, diag);
    if (e != TMO_OK)
        return e;
    u->erased_to = 0;
    u->accepted = *resume_offset = s->written;
    return TMO_OK;
}

static int receiving_slot(const tmo_update *u)
{
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (u->st.slot[i].state == TMO_SLOT_RECEIVING)
            return i;
    return -1;
}

tmo_err tmo_update_write(tmo_update *u, uint32_t offset, const void *data, size_t len,
                         tmo_diag *diag)
{
    tmo_diag_clear(diag);
    int i = u != NULL ? receiving_slot(u) : -1;
    if (i < 0)
        return fail(diag, TMO_ESTATE, "update.state", "no slot is receiving a bundle (call begin)");
    tmo_update_slot *s = &u->st.slot[i];
    if (offset != u->accepted || len > s->size - u->accepted || (len > 0 && data == NULL)) {
        fail(diag, TMO_ERANGE, "update.offset",
             "writes must continue at the resume offset, inside the bundle");
        diag_limit(diag, offset, u->accepted);
        return TMO_ERANGE;
    }
    if (len == 0)
        return TMO_OK;
    uint32_t unit = u->cfg.storage->erase_unit, before = s->written;
    tmo_err e = slot_append(u, (uint8_t)i, data, len, diag);
    /*
     * A restart resumes at the erase unit holding the journaled count, so the
     * journal only needs the count when it reaches a new erase unit: the
     * records in between would not move the resume point.
     */
    if (e == TMO_OK && s->written / unit != before / unit)
        e = journal_store(u, &u->st, diag);
    if (e != TMO_OK) {
        /* Bytes from the journaled count's erase unit on may be half programmed (or not
         * journaled): a retry starts at that unit, erased again. */
        s->written = before / unit * unit;
        u->erased_to = u->accepted = s->written;
    }
    return e;
}

/* Journals slot i as EMPTY after a refused bundle, keeping the refusal as the result. */
static tmo_err refuse(tmo_update *u, int i, tmo_err why, tmo_diag *diag)
{
    tmo_update_state next = u->st;
    slot_clear(&next.slot[i]);
    tmo_diag keep;
    if (diag != NULL)
        keep = *diag;
    tmo_err e = journal_store(u, &next, diag);
    if (e != TMO_OK)
        return e;
    if (diag != NULL)
        *diag = keep;
    return why;
}

tmo_err tmo_update_finish(tmo_update *u, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    int i = u != NULL ? receiving_slot(u) : -1;
    if (i < 0 || u->st.slot[i].written != u->st.slot[i].size)
        return fail(diag, TMO_ESTATE, "update.state", "the bundle is not completely written");
    tmo_update_state next = u->st;
    tmo_update_slot *s = &next.slot[i];
    tmo_err e = slot_verify(u, (uint8_t)i, s->size, 1, diag);
    if (e != TMO_OK)
        return e <= TMO_EPORT_BASE ? e : refuse(u, i, e, diag);
    s->state = TMO_SLOT_READY;
    slot_describe(u, s);
    return journal_store(u, &next, diag);
}

tmo_err tmo_update_cancel(tmo_update *u, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL)
        return fail(diag, TMO_EINVAL, "update", "NULL engine");
    tmo_update_state next = u->st;
    int changed = 0;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (next.slot[i].state == TMO_SLOT_RECEIVING || next.slot[i].state == TMO_SLOT_READY) {
            slot_clear(&next.slot[i]);
            changed = 1;
        }
    return changed ? journal_store(u, &next, diag) : TMO_OK;
}

const tmo_update_state *tmo_update_get_state(const tmo_update *u)
{
    return &u->st;
}

const tmo_bundle *tmo_update_bundle(const tmo_update *u)
{
    return u->bundle.state >= TMO_BUNDLE_VERIFIED ? &u->bundle : NULL;
}

tmo_err tmo_update_slot_reader(tmo_update *u, uint8_t slot, tmo_port_reader *r)
{
    if (u == NULL || r == NULL || slot >= TMO_UPDATE_SLOTS)
        return TMO_EINVAL;
    const tmo_update_slot *s = &u->st.slot[slot];
    if (s->state == TMO_SLOT_EMPTY || (s->state == TMO_SLOT_RECEIVING && s->written != s->size))
        return TMO_EINVAL;
    slot_reader_init(u, &u->user_ctx, slot, s->size, r);
    return TMO_OK;
}

const char *tmo_slot_state_name(uint8_t state)
{
    switch (state) {
    case TMO_SLOT_EMPTY:
        return "empty";
    case TMO_SLOT_RECEIVING:
        return "receiving";
    case TMO_SLOT_READY:
        return "ready";
    case TMO_SLOT_TRIAL:
        return "trial";
    case TMO_SLOT_GOOD:
        return "good";
    default:
        return "unknown";
    }
}
