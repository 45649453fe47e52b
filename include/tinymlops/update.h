/*
 * The A/B model update engine: downloads a bundle into the inactive slot,
 * verifies it, runs it on trial, confirms it (only then the anti-rollback
 * counter advances) or reverts to the previous slot — so that a power cut at
 * any single write leaves a device with a bootable, verified model (unless it
 * never had one). Firmware and tinymlops-agent share this code; the agent
 * adds the network, the known-answer tests and the health window around it.
 *
 * Where the state lives: three areas of the slot storage port (port.h):
 * slot A, slot B and a journal. The journal is an append-only log of
 * fixed-size records, each the whole state with a sequence number and a
 * CRC-32 (docs/update-engine.md gives the byte layout), in two halves of
 * whole erase units. A change is one aligned write of a record into erased
 * space after the current one (MCUboot's boot_write_flag: a state change
 * never erases); only when the half is full does the next change erase the
 * other half and start it with the state (compaction). A torn write leaves
 * the previous record readable, and the half that holds it is never erased
 * by the write that replaces it.
 *
 * Slot life cycle (the journal's tmo_slot_state):
 *
 *   EMPTY --begin--> RECEIVING --write*--> (all bytes) --finish--> READY
 *   READY --activate--> TRIAL (active; the other slot stays GOOD, intact)
 *   TRIAL --confirm--> GOOD (NV counter advanced)   TRIAL --revert--> EMPTY
 *   TRIAL --restart (boot) with trial_boots >= max_trial_boots--> EMPTY
 *
 * Order of durable steps, and why every cut is safe:
 *   begin     journal says RECEIVING before any byte of the slot is erased:
 *             from then on nothing treats the slot as bootable.
 *   write     erase (ahead, by erase unit) + program the bytes, then journal
 *             the count of durable bytes when it reaches a new erase unit
 *             (the only points a resume can start from); a cut loses at most
 *             the erase unit being written. Resuming restarts at the erase
 *             unit holding that count, which is erased again (a torn write
 *             may have programmed bytes there). Bytes are programmed in whole
 *             write units: a partial unit waits in RAM for the next call, and
 *             the bundle's last unit is padded with the erased value.
 *   finish    tmo_bundle_verify and check_payload, then journal READY (or
 *             EMPTY when the bundle is refused).
 *   activate  one journal write: the slot becomes TRIAL and active.
 *   confirm   one journal write (GOOD), then tmo_bundle_accept advances the
 *             NV counter. A cut between the two is completed at the next
 *             boot (boot accepts the active GOOD slot again; accept is
 *             idempotent). The other order would be unsafe: an advanced
 *             counter with a journal still in TRIAL would revert to a slot
 *             the counter now forbids.
 *   revert    one journal write: the previous slot becomes active again.
 *   boot      reverts an unconfirmed trial (MCUboot's "revert" swap type),
 *             re-verifies the active slot and falls back to the other GOOD
 *             slot when it no longer verifies.
 *
 * Time (certificate validity, bundle expiry) is judged once, by finish,
 * with the configured clock. Boot, confirm and load verify everything else
 * (signature chain, counter, target, digests) but not time: a device whose
 * clock is wrong after a reset must still run the model it installed.
 *
 * Memory: nothing is allocated; a tmo_update holds one tmo_bundle (about
 * 1.1 KiB) for verification and a write unit of bytes waiting to be
 * programmed. No stdio, no OS calls.
 *
 * Ownership: the config's storage port, bundle environment (roots, counter,
 * clock, caps) and their contexts belong to the caller and must outlive the
 * tmo_update. A tmo_update points into itself: do not copy it after open.
 */
#ifndef TINYMLOPS_UPDATE_H
#define TINYMLOPS_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/bundle.h"
#include "tinymlops/err.h"
#include "tinymlops/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Largest program granularity (tmo_port_storage.write_unit) the engine
 * supports: it buffers one write unit in tmo_update and one record rounded up
 * to it on the stack. 32 covers STM32H7's flash words; parts that program
 * larger pages (NXP LPC55: 512) raise it (override like config.h).
 */
#ifndef TMO_UPDATE_MAX_WRITE_UNIT
#define TMO_UPDATE_MAX_WRITE_UNIT 32
#endif

/* Area numbers on the slot storage port. */
enum { TMO_AREA_SLOT_A = 0, TMO_AREA_SLOT_B = 1, TMO_AREA_JOURNAL = 2 };

#define TMO_UPDATE_SLOTS 2
#define TMO_UPDATE_NO_SLOT 0xFF /* "no active slot" (a device that never confirmed a model) */

/* Journal format (docs/update-engine.md). */
#define TMO_JOURNAL_MAGIC "TMUJ"
#define TMO_JOURNAL_VERSION 1
#define TMO_JOURNAL_RECORD_LEN 304 /* bytes of one record, CRC included */

/* State of one slot, as journaled. Values are part of the journal format. */
typedef enum {
    TMO_SLOT_EMPTY = 0,     /* nothing usable */
    TMO_SLOT_RECEIVING = 1, /* a download in progress; `written` bytes are durable */
    TMO_SLOT_READY = 2,     /* complete and verified, never run */
    TMO_SLOT_TRIAL = 3,     /* active on trial, not confirmed */
    TMO_SLOT_GOOD = 4       /* confirmed (the active model, or the previous one) */
} tmo_slot_state;

typedef struct tmo_update_slot {
    uint8_t state;      /* tmo_slot_state */
    uint8_t has_digest; /* digest is known (given to begin) */
    uint8_t name_len;
    uint32_t size;      /* bytes of the bundle (expected while RECEIVING) */
    uint32_t written;   /* programmed bytes while RECEIVING (whole write units); == size after */
    uint64_t tag;       /* the caller's id of this update (e.g. a deployment id) */
    uint64_t counter;   /* security counter of the verified manifest (READY, TRIAL, GOOD) */
    tmo_semver version; /* model version of the verified manifest */
    uint8_t digest[TMO_SHA256_LEN];     /* SHA-256 of the whole bundle, as announced to begin */
    char name[TMO_BUNDLE_MAX_NAME + 1]; /* model name, NUL-terminated */
} tmo_update_slot;

/* The journaled state. */
typedef struct tmo_update_state {
    uint32_t seq;        /* sequence number of the record it came from (0: never written) */
    uint8_t active;      /* 0, 1 or TMO_UPDATE_NO_SLOT */
    uint8_t trial_boots; /* restarts survived by the current trial */
    tmo_update_slot slot[TMO_UPDATE_SLOTS];
} tmo_update_state;

typedef struct tmo_update_config {
    const tmo_port_storage *storage; /* areas TMO_AREA_SLOT_A, _SLOT_B, _JOURNAL */
    tmo_bundle_env env;              /* roots, NV counter (required), clock, caps, device key */
    /*
     * Restarts a trial survives before boot reverts it. 0 (the default, and
     * MCUboot's behaviour): any restart during a trial reverts. N > 0 lets a
     * device that needs a reboot to run the new model try N times.
     */
    uint8_t max_trial_boots;
} tmo_update_config;

/* What tmo_update_boot() did. */
typedef enum {
    TMO_BOOT_NONE = 0,        /* nothing to recover: runs the active slot */
    TMO_BOOT_TRIAL_CONTINUES, /* a trial survived a restart (max_trial_boots > 0) */
    TMO_BOOT_REVERTED, /* an unconfirmed trial was reverted (if it was the first model, none runs) */
    TMO_BOOT_FELL_BACK, /* the active slot no longer verified; the other GOOD slot runs */
    TMO_BOOT_NO_MODEL   /* no slot holds a bootable model */
} tmo_boot_action;

typedef struct tmo_boot_report {
    uint8_t action; /* tmo_boot_action */
    uint8_t slot;   /* the slot given up (REVERTED, FELL_BACK), else TMO_UPDATE_NO_SLOT */
    uint64_t tag;   /* tag of that slot's update */
    tmo_err why;    /* FELL_BACK / NO_MODEL: the verification error of the slot given up */
} tmo_boot_report;

/* Context of a reader over one slot (private). */
typedef struct tmo_update_slot_ctx {
    const struct tmo_update *u;
    uint32_t area;
} tmo_update_slot_ctx;

/* One engine. Contents are private except through the functions below. */
typedef struct tmo_update {
    tmo_update_config cfg;
    tmo_update_state st;
    /* The journal log (runtime/update/journal_log.c): where st is, where the next record goes. */
    uint32_t half_len;  /* bytes of each journal half: whole erase units */
    uint32_t rec_space; /* bytes a record takes: its length rounded up to write_unit */
    uint32_t rec_per_half;
    uint32_t next_rec;   /* record index in `half` where the next append looks for erased space */
    uint32_t other_seq;  /* seq of the last valid record of the other half, when other_valid */
    uint8_t half;        /* 0 or 1: the half holding st (0 while no record is valid) */
    uint8_t other_valid; /* the other half holds a valid record */
    uint32_t slot_size[TMO_UPDATE_SLOTS];
    uint32_t erased_to; /* RECEIVING slot: bytes [written, erased_to) are erased (RAM only) */
    uint32_t accepted;  /* RECEIVING slot: bytes taken by write; [written, accepted) in tail */
    uint8_t tail[TMO_UPDATE_MAX_WRITE_UNIT];  /* a partial write unit waiting for more bytes */
    tmo_update_slot_ctx verify_ctx, user_ctx; /* behind the verifier's reader and the caller's */
    tmo_bundle bundle;                        /* the last verified bundle (see tmo_update_bundle) */
} tmo_update;

/*
 * Opens the engine: checks the areas and reads the journal. A journal with
 * no valid record is a device that never updated (all slots EMPTY); nothing
 * is written. Returns TMO_EINVAL (NULL or inconsistent config: missing port
 * or counter, erase unit not a power of two up to 65536, write unit not a
 * power of two up to the erase unit and TMO_UPDATE_MAX_WRITE_UNIT, a journal
 * area without two halves of whole erase units that hold a record each, a
 * slot not a whole number of erase units), or a port error.
 */
tmo_err tmo_update_open(tmo_update *u, const tmo_update_config *cfg, tmo_diag *diag);

/*
 * Boot-time recovery; call once after open, before running a model.
 * Reverts an unconfirmed trial (see max_trial_boots), verifies the active
 * slot (signature chain, counter, target, payload digest), completes an
 * interrupted confirmation (advances the NV counter to the active GOOD
 * slot's), and falls back to the other GOOD slot when the active one no
 * longer verifies. rep (may be NULL) says what happened. Returns TMO_OK
 * (also for TMO_BOOT_NO_MODEL) or a port error.
 */
tmo_err tmo_update_boot(tmo_update *u, tmo_boot_report *rep, tmo_diag *diag);

/*
 * Starts (or resumes) receiving a bundle of size bytes into the inactive
 * slot. digest (may be NULL) is the SHA-256 of the whole bundle as the
 * server announced it (its identity, e.g. the ETag); with it, a RECEIVING
 * slot of the same bundle is resumed and a slot that already holds it
 * (READY or GOOD) needs no bytes at all. The engine does not hash the bytes
 * against it (crypto stays in runtime/bundle; authenticity comes from the
 * signature and payload digest that finish checks): a caller that wants the
 * transport check hashes the complete slot through tmo_update_slot_reader
 * before finish, as the agent does. *resume_offset
 * gets the offset of the next byte to write (== size when nothing is left:
 * call finish). Returns TMO_ESTATE during a trial (the inactive slot is the
 * fallback), TMO_ENOSPC when size exceeds the slot, TMO_EINVAL for size 0.
 */
tmo_err tmo_update_begin(tmo_update *u, uint32_t size, const uint8_t *digest, uint64_t tag,
                         uint32_t *resume_offset, tmo_diag *diag);

/*
 * Writes bundle bytes [offset, offset+len) of the receiving slot. Any length
 * is accepted: whole write units are programmed at once, a partial unit
 * waits in RAM for the next call, and the write that completes the bundle
 * programs its last unit padded with the erased value. The journal records
 * the count of programmed bytes each time it reaches a new erase unit (where
 * a resume after a restart starts: see begin). offset must be the resume
 * offset or the end of the previous write (TMO_ERANGE otherwise, or past
 * the size); TMO_ESTATE when no slot is receiving. After an error, bytes
 * from the erase unit of the last journaled count on must be written again
 * (begin gives the offset).
 */
tmo_err tmo_update_write(tmo_update *u, uint32_t offset, const void *data, size_t len,
                         tmo_diag *diag);

/*
 * Verifies the complete bundle in the receiving slot: tmo_bundle_verify
 * (with the clock: the only step that judges time) and
 * tmo_bundle_check_payload with the configured environment. Success journals READY; a refused bundle journals EMPTY and
 * returns the verifier's error and diag. TMO_ESTATE unless every byte was
 * written.
 */
tmo_err tmo_update_finish(tmo_update *u, tmo_diag *diag);

/*
 * Makes the READY slot the active one, on trial; the previously active slot
 * stays GOOD and untouched. TMO_ESTATE when no slot is READY or a trial is
 * already running.
 */
tmo_err tmo_update_activate(tmo_update *u, tmo_diag *diag);

/*
 * Confirms the trial: re-verifies the active slot, journals it GOOD, then
 * advances the NV counter (tmo_bundle_accept). TMO_ESTATE when not on trial;
 * a verification error leaves the trial as it was (revert it).
 */
tmo_err tmo_update_confirm(tmo_update *u, tmo_diag *diag);

/*
 * Reverts the trial: the previous slot (GOOD) becomes active again — or no
 * slot, when the trial was the device's first model — and the trial slot
 * becomes EMPTY. TMO_ESTATE when not on trial.
 */
tmo_err tmo_update_revert(tmo_update *u, tmo_diag *diag);

/*
 * Abandons a RECEIVING or READY slot (e.g. the server withdrew the update):
 * it becomes EMPTY. TMO_OK when there is none.
 */
tmo_err tmo_update_cancel(tmo_update *u, tmo_diag *diag);

/*
 * Verifies the active slot's bundle and streams its model into
 * dest[0..dest_len) (decrypting when encrypted, see tmo_bundle_load);
 * *model_len gets the model's size. Afterwards tmo_update_bundle() describes
 * it (manifest, KAT and PROFILE section offsets, readable through
 * tmo_update_active_reader). TMO_ESTATE when there is no active slot.
 */
tmo_err tmo_update_load_active(tmo_update *u, void *dest, size_t dest_len, size_t *model_len,
                               tmo_diag *diag);

/* The journaled state (valid until the next call on u). */
const tmo_update_state *tmo_update_get_state(const tmo_update *u);

/* The inactive slot (the one begin writes into), or TMO_UPDATE_NO_SLOT during a trial. */
uint8_t tmo_update_inactive_slot(const tmo_update *u);

/* Bundle most recently verified by finish, confirm, boot or load_active (NULL before). */
const tmo_bundle *tmo_update_bundle(const tmo_update *u);

/*
 * A reader over the bundle stored in slot (0 or 1), size bytes long; it
 * stays valid while u does and no other reader of u is made. TMO_EINVAL
 * for a slot out of range, EMPTY, or RECEIVING with bytes missing (a
 * complete RECEIVING slot can be read, e.g. to hash it before finish).
 */
tmo_err tmo_update_slot_reader(tmo_update *u, uint8_t slot, tmo_port_reader *r);

/* Human-readable name of a slot state ("empty", "receiving", ...). */
const char *tmo_slot_state_name(uint8_t state);

#ifdef __cplusplus
}
#endif

#endif
