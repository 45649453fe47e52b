/*
 * Private helpers of the A/B update engine (include/tinymlops/update.h):
 * the journal codec (journal.c) and log (journal_log.c), slot I/O, and
 * verification of a slot.
 */
#ifndef TMO_UPDATE_PRIV_H
#define TMO_UPDATE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/update.h"

/* CRC-32 (IEEE 802.3, reflected, as zlib) of p[0..n). */
uint32_t journal_crc32(const uint8_t *p, size_t n);

/* Serializes st into rec[TMO_JOURNAL_RECORD_LEN] (magic, fields, CRC). */
void journal_encode(const tmo_update_state *st, uint8_t rec[TMO_JOURNAL_RECORD_LEN]);

/* Decodes and checks one record; TMO_PORT_ECORRUPT when it is not a valid record. */
tmo_err journal_decode(const uint8_t rec[TMO_JOURNAL_RECORD_LEN], tmo_update_state *st);

/*
 * Scans the journal area (geometry in u->half_len, rec_space, rec_per_half)
 * and keeps the newest valid record in u->st, with where the next record
 * goes; none valid gives the empty state.
 */
tmo_err journal_load(tmo_update *u, tmo_diag *diag);

/*
 * Makes next (with seq = current + 1) the durable state: one write into
 * erased space after the current record, or, when its half is full, an erase
 * of the other half and a write at its start. On success u->st = *next; on
 * failure u->st is unchanged (the old record still holds).
 */
tmo_err journal_store(tmo_update *u, const tmo_update_state *next, tmo_diag *diag);

/* Area id of slot i. */
static inline uint32_t slot_area(uint8_t i)
{
    return i == 0 ? TMO_AREA_SLOT_A : TMO_AREA_SLOT_B;
}

/* Records a port error with the port named in the diag, and returns it. */
tmo_err port_fail(tmo_diag *diag, tmo_err err, const char *field);

/* Fills r to read bytes [0, size) of slot i through ctx. */
void slot_reader_init(tmo_update *u, tmo_update_slot_ctx *ctx, uint8_t i, uint32_t size,
                      tmo_port_reader *r);

/*
 * Appends data to the bundle receiving in slot i, after u->accepted bytes:
 * programs whole write units (erasing erase units from u->erased_to on as
 * needed, so every byte is erased exactly once before it is programmed),
 * keeps a partial unit in u->tail, and pads the bundle's last unit with the
 * erased value. Advances u->accepted and slot i's written (RAM only).
 */
tmo_err slot_append(tmo_update *u, uint8_t i, const uint8_t *data, size_t len, tmo_diag *diag);

/*
 * tmo_bundle_verify + tmo_bundle_check_payload of the bundle in slot i
 * (size bytes) into u->bundle. Leaves u->bundle in TMO_BUNDLE_PAYLOAD_OK on
 * success. Without with_clock the certificate window and expiry are not
 * checked (boot, confirm, load: only finish judges time).
 */
tmo_err slot_verify(tmo_update *u, uint8_t i, uint32_t size, int with_clock, tmo_diag *diag);

/* Copies name, version and counter of the verified u->bundle into s. */
void slot_describe(const tmo_update *u, tmo_update_slot *s);

/* An EMPTY slot record. */
void slot_clear(tmo_update_slot *s);

#endif
