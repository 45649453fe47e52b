/*
 * The update journal: two alternating fixed-size records in the journal
 * area, each with a sequence number and a CRC-32. A change is written to
 * the position that does not hold the current record, so a write torn by
 * power loss can only damage a record nobody relies on; on open the valid
 * record with the higher sequence number wins. Layout in
 * docs/update-engine.md ("Journal record").
 */
#include <string.h>

#include "update_priv.h"
#include "../diag.h"

enum {
    HDR_LEN = 16,
    SLOT_LEN = 136,
    SLOTS_AT = HDR_LEN,
    CRC_AT = TMO_JOURNAL_RECORD_LEN - 4,
    FLAG_HAS_DIGEST = 0x01
};
_Static_assert(SLOTS_AT + TMO_UPDATE_SLOTS * SLOT_LEN + 12 == CRC_AT, "journal record layout");

uint32_t journal_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void encode_slot(const tmo_update_slot *s, uint8_t *p)
{
    p[0] = s->state;
    p[1] = s->has_digest ? FLAG_HAS_DIGEST : 0;
    p[2] = s->name_len;
    put32(p + 4, s->size);
    put32(p + 8, s->written);
    put64(p + 12, s->tag);
    put64(p + 20, s->counter);
    put16(p + 28, s->version.major);
    put16(p + 30, s->version.minor);
    put16(p + 32, s->version.patch);
    memcpy(p + 36, s->digest, TMO_SHA256_LEN);
    memcpy(p + 68, s->name, s->name_len);
}

void journal_encode(const tmo_update_state *st, uint8_t rec[TMO_JOURNAL_RECORD_LEN])
{
    memset(rec, 0, TMO_JOURNAL_RECORD_LEN);
    memcpy(rec, TMO_JOURNAL_MAGIC, 4);
    put16(rec + 4, TMO_JOURNAL_VERSION);
    put16(rec + 6, TMO_JOURNAL_RECORD_LEN);
    put32(rec + 8, st->seq);
    rec[12] = st->active;
    rec[13] = st->trial_boots;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        encode_slot(&st->slot[i], rec + SLOTS_AT + i * SLOT_LEN);
    put32(rec + CRC_AT, journal_crc32(rec, CRC_AT));
}

static int zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Field checks beyond the CRC: a record this code wrote always passes them. */
static int decode_slot(const uint8_t *p, tmo_update_slot *s)
{
    memset(s, 0, sizeof *s);
    s->state = p[0];
    s->has_digest = (p[1] & FLAG_HAS_DIGEST) != 0;
    s->name_len = p[2];
    s->size = get32(p + 4);
    s->written = get32(p + 8);
    s->tag = get64(p + 12);
    s->counter = get64(p + 20);
    s->version.major = get16(p + 28);
    s->version.minor = get16(p + 30);
    s->version.patch = get16(p + 32);
    memcpy(s->digest, p + 36, TMO_SHA256_LEN);
    if (s->state > TMO_SLOT_GOOD || (p[1] & ~FLAG_HAS_DIGEST) != 0 || p[3] != 0 ||
        s->name_len > TMO_BUNDLE_MAX_NAME || s->written > s->size || get16(p + 34) != 0 ||
        !zero(p + 68 + s->name_len, TMO_BUNDLE_MAX_NAME - s->name_len) || !zero(p + 132, 4))
        return 0;
    memcpy(s->name, p + 68, s->name_len);
    s->name[s->name_len] = '\0';
    return 1;
}

tmo_err journal_decode(const uint8_t rec[TMO_JOURNAL_RECORD_LEN], tmo_update_state *st)
{
    if (!tmo_bytes_equal(rec, TMO_JOURNAL_MAGIC, 4) || get16(rec + 4) != TMO_JOURNAL_VERSION ||
        get16(rec + 6) != TMO_JOURNAL_RECORD_LEN ||
        get32(rec + CRC_AT) != journal_crc32(rec, CRC_AT))
        return TMO_PORT_ECORRUPT;
    memset(st, 0, sizeof *st);
    st->seq = get32(rec + 8);
    st->active = rec[12];
    st->trial_boots = rec[13];
    if (st->seq == 0 || (st->active >= TMO_UPDATE_SLOTS && st->active != TMO_UPDATE_NO_SLOT) ||
        get16(rec + 14) != 0 || !zero(rec + SLOTS_AT + TMO_UPDATE_SLOTS * SLOT_LEN, 12))
        return TMO_PORT_ECORRUPT;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (!decode_slot(rec + SLOTS_AT + i * SLOT_LEN, &st->slot[i]))
            return TMO_PORT_ECORRUPT;
    return TMO_OK;
}

static void empty_state(tmo_update_state *st)
{
    memset(st, 0, sizeof *st);
    st->active = TMO_UPDATE_NO_SLOT;
}

/*
 * Checks a record needs beyond its own fields, against the engine it is read
 * into: the active slot is one a device may run (TRIAL or GOOD), and every
 * bundle fits its slot. A record this code wrote always passes (begin
 * refuses bundles larger than the slot; only activate, confirm and boot
 * set active, always to a TRIAL or GOOD slot).
 */
static int consistent(const tmo_update *u, const tmo_update_state *st)
{
    if (st->active != TMO_UPDATE_NO_SLOT && st->slot[st->active].state != TMO_SLOT_TRIAL &&
        st->slot[st->active].state != TMO_SLOT_GOOD)
        return 0;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (st->slot[i].state != TMO_SLOT_EMPTY && st->slot[i].size > u->slot_size[i])
            return 0;
    return 1;
}

tmo_err journal_load(tmo_update *u, tmo_diag *diag)
{
    uint8_t rec[TMO_JOURNAL_RECORD_LEN];
    tmo_update_state cand[2];
    int valid[2];
    for (int i = 0; i < 2; i++) {
        tmo_err e = u->cfg.storage->read(u->cfg.storage->ctx, TMO_AREA_JOURNAL,
                                         (uint32_t)i * u->record_stride, rec, sizeof rec);
        if (e != TMO_OK)
            return port_fail(diag, e, "port.storage");
        valid[i] = journal_decode(rec, &cand[i]) == TMO_OK && consistent(u, &cand[i]);
    }
    empty_state(&u->st);
    u->current_record = 1; /* so the first store goes to position 0 */
    /* Serial-number comparison: the newer record wins even across a 2^32 wrap. */
    int pick = -1;
    if (valid[0] && valid[1])
        pick = (int32_t)(cand[1].seq - cand[0].seq) > 0 ? 1 : 0;
    else if (valid[0] || valid[1])
        pick = valid[0] ? 0 : 1;
    if (pick >= 0) {
        u->st = cand[pick];
        u->current_record = (uint8_t)pick;
    }
    return TMO_OK;
}

tmo_err journal_store(tmo_update *u, const tmo_update_state *next, tmo_diag *diag)
{
    tmo_update_state st = *next;
    st.seq = u->st.seq + 1;
    if (st.seq == 0)
        st.seq = 1; /* 0 means "never written" */
    uint8_t rec[TMO_JOURNAL_RECORD_LEN];
    journal_encode(&st, rec);
    uint8_t pos = (uint8_t)(u->current_record ^ 1u);
    const tmo_port_storage *s = u->cfg.storage;
    uint32_t at = (uint32_t)pos * u->record_stride;
    tmo_err e = s->erase(s->ctx, TMO_AREA_JOURNAL, at, u->record_stride);
    if (e == TMO_OK)
        e = s->write(s->ctx, TMO_AREA_JOURNAL, at, rec, sizeof rec);
    if (e != TMO_OK)
        return port_fail(diag, e, "port.storage");
    u->st = st;
    u->current_record = pos;
    return TMO_OK;
}
