/*
 * Where journal records live: an append-only log in the journal area, so a
 * state change is one aligned write into erased space and never an erase
 * (MCUboot's boot_write_flag; flash wears out by erases, and programs only
 * whole write units of erased bytes).
 *
 * The area is two halves of whole erase units. A half holds rec_per_half
 * record spaces of rec_space bytes (a record rounded up to the write unit,
 * the padding left at the erased value). A change writes its record into
 * the first erased space after the current record; when the half is full,
 * compaction erases the other half and writes the record at its start. The
 * newest record of a half is its last valid one (a half only grows); of the
 * two halves' newest, the higher sequence number wins (serial-number
 * comparison). A record torn by power loss fails its CRC and is skipped, and
 * its space is never written again before an erase. The power-loss argument
 * is in docs/update-engine.md ("Journal log").
 */
#include <string.h>

#include "update_priv.h"
#include "../diag.h"

_Static_assert(TMO_UPDATE_MAX_WRITE_UNIT >= 1 &&
                   (TMO_UPDATE_MAX_WRITE_UNIT & (TMO_UPDATE_MAX_WRITE_UNIT - 1)) == 0,
               "TMO_UPDATE_MAX_WRITE_UNIT must be a power of two");

/* Bytes of the largest record space: the record rounded up to the largest write unit. */
#define SPACE_MAX                                                                                  \
    ((TMO_JOURNAL_RECORD_LEN + TMO_UPDATE_MAX_WRITE_UNIT - 1) / TMO_UPDATE_MAX_WRITE_UNIT *        \
     TMO_UPDATE_MAX_WRITE_UNIT)

/* Whether a is newer than b, across the 2^32 wrap (RFC 1982 serial numbers). */
static int newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static int erased(const uint8_t *p, size_t n, uint8_t value)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            return 0;
    return 1;
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

static uint32_t space_at(const tmo_update *u, uint8_t half, uint32_t k)
{
    return half * u->half_len + k * u->rec_space;
}

static tmo_err read_space(const tmo_update *u, uint8_t half, uint32_t k, uint8_t *buf)
{
    const tmo_port_storage *s = u->cfg.storage;
    return s->read(s->ctx, TMO_AREA_JOURNAL, space_at(u, half, k), buf, u->rec_space);
}

/* The last valid record of a half into *st; *found = 0 when it has none. */
static tmo_err last_valid(const tmo_update *u, uint8_t half, uint8_t *buf, tmo_update_state *st,
                          int *found, uint32_t *at)
{
    *found = 0;
    for (uint32_t k = u->rec_per_half; k-- > 0;) {
        tmo_err e = read_space(u, half, k, buf);
        if (e != TMO_OK)
            return e;
        if (journal_decode(buf, st) == TMO_OK && consistent(u, st)) {
            *found = 1;
            *at = k;
            return TMO_OK;
        }
    }
    return TMO_OK;
}

tmo_err journal_load(tmo_update *u, tmo_diag *diag)
{
    uint8_t buf[SPACE_MAX];
    tmo_update_state cand[2];
    int found[2];
    uint32_t at[2] = {0, 0};
    for (uint8_t h = 0; h < 2; h++) {
        tmo_err e = last_valid(u, h, buf, &cand[h], &found[h], &at[h]);
        if (e != TMO_OK)
            return port_fail(diag, e, "port.storage");
    }
    empty_state(&u->st);
    u->half = 0; /* nothing valid: the first record goes into half 0's erased space */
    u->next_rec = 0;
    u->other_valid = 0;
    u->other_seq = 0;
    if (!found[0] && !found[1])
        return TMO_OK;
    uint8_t pick = found[0] && found[1] ? (uint8_t)newer(cand[1].seq, cand[0].seq) : !found[0];
    u->st = cand[pick];
    u->half = pick;
    u->next_rec = at[pick] + 1;
    u->other_valid = (uint8_t)found[pick ^ 1];
    u->other_seq = found[pick ^ 1] ? cand[pick ^ 1].seq : 0;
    return TMO_OK;
}

/* Writes st as record space k of a half: the record, then erased-value padding. */
static tmo_err put_record(const tmo_update *u, uint8_t half, uint32_t k, const tmo_update_state *st,
                          uint8_t *buf)
{
    const tmo_port_storage *s = u->cfg.storage;
    journal_encode(st, buf);
    memset(buf + TMO_JOURNAL_RECORD_LEN, s->erased_value, u->rec_space - TMO_JOURNAL_RECORD_LEN);
    return s->write(s->ctx, TMO_AREA_JOURNAL, space_at(u, half, k), buf, u->rec_space);
}

/* Appends st after the current record; *full (nothing written) when the half has no room. */
static tmo_err append(tmo_update *u, const tmo_update_state *st, uint8_t *buf, int *full)
{
    *full = 0;
    for (uint32_t k = u->next_rec; k < u->rec_per_half; k++) {
        tmo_err e = read_space(u, u->half, k, buf);
        if (e != TMO_OK)
            return e;
        /* A space torn by a cut (or junk) cannot be programmed again before an erase. */
        if (!erased(buf, u->rec_space, u->cfg.storage->erased_value))
            continue;
        u->next_rec = k; /* a failed write is read back and skipped next time */
        e = put_record(u, u->half, k, st, buf);
        if (e == TMO_OK)
            u->next_rec = k + 1;
        return e;
    }
    u->next_rec = u->rec_per_half;
    *full = 1;
    return TMO_OK;
}

/*
 * Starts the other half with st. Until its record is complete the current
 * half is untouched and still holds the newest valid record; after it, the
 * new record is newer than anything left in the old half.
 */
static tmo_err compact(tmo_update *u, const tmo_update_state *st, uint8_t *buf)
{
    const tmo_port_storage *s = u->cfg.storage;
    uint8_t h = (uint8_t)(u->half ^ 1u);
    tmo_err e = s->erase(s->ctx, TMO_AREA_JOURNAL, h * u->half_len, u->half_len);
    if (e == TMO_OK)
        e = put_record(u, h, 0, st, buf);
    if (e != TMO_OK)
        return e;
    u->other_valid = u->st.seq != 0;
    u->other_seq = u->st.seq;
    u->half = h;
    u->next_rec = 1;
    return TMO_OK;
}

tmo_err journal_store(tmo_update *u, const tmo_update_state *next, tmo_diag *diag)
{
    tmo_update_state st = *next;
    st.seq = u->st.seq + 1;
    if (st.seq == 0)
        st.seq = 1; /* 0 means "never written" */
    uint8_t buf[SPACE_MAX];
    /*
     * Append only where the record will win on the next open: against the
     * other half's newest too (a journal written by someone else may hold any
     * sequence number there). Otherwise compaction erases that half.
     */
    int full = 1;
    tmo_err e = TMO_OK;
    if (!u->other_valid || newer(st.seq, u->other_seq))
        e = append(u, &st, buf, &full);
    if (e == TMO_OK && full)
        e = compact(u, &st, buf);
    if (e != TMO_OK)
        return port_fail(diag, e, "port.storage");
    u->st = st;
    return TMO_OK;
}
