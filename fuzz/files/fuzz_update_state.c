/*
 * libFuzzer target for what the A/B update engine reads back after a power
 * cut (runtime/update, docs/update-engine.md "Journal record"): the journal
 * area, the slot contents and the NV counter, through a RAM storage port
 * (update_rig.c). Whatever the stored bytes, open + boot must succeed and
 * leave a consistent, bootable state:
 *   - no port error and no storage violation (every access inside its area,
 *     erases aligned, no byte written twice without an erase);
 *   - the active slot (if any) is GOOD (or TRIAL when a trial continues)
 *     and its bundle verified; NO_MODEL means no active slot;
 *   - what is in RAM is what is durable (a second open reads the same state);
 * and, when the input asks, the device can still take an update: download,
 * activate and confirm a signed bundle, after which the durable state runs it.
 *
 * Input: byte 0 flags: bits 0-1 slot A contents, 2-3 slot B (0 junk,
 * 1 erased, 2 bundle 1, 3 bundle 2), 4-5 NV counter at power-on (0..2),
 * bit 6 recompute the records' CRCs (so the fuzzer reaches the field
 * checks), bit 7 install bundle 2 after boot. Byte 1: bits 0-1
 * max_trial_boots, bit 2 erase unit 4096 (journal halves of 4096 bytes;
 * else 512, halves of 1024), bit 3 activate and confirm (or revert) a READY
 * slot after boot, bit 4 cancel first, bits 5-6 write unit (1, 4, 8 or 32
 * bytes), bit 7 flash erases to 0x00 (else 0xFF). Then the journal's
 * non-erased record spaces, each as one byte of place (bit 7: half, bits
 * 0-6: record index, modulo the records a half holds) and the record's 304
 * bytes (a short last one is completed with erased bytes); every other byte
 * of the journal is erased.
 *
 * Seeds: fuzz/corpus/update_state (gen_files_corpus: states the engine
 * wrote itself, including every step of an install). The bundles are fixed
 * (update_state_data.h, written by gen_files_corpus).
 */
#include <psa/crypto.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_files.h"
#include "update/update_priv.h"
#include "update_rig.h"
#include "update_state_data.h"

static rig R;
static tmo_update U, U2;

static const rig_bundle *bundle(int which)
{
    static const rig_bundle b[2] = {
        {us_bundle1, sizeof us_bundle1, us_digest1, US_COUNTER1},
        {us_bundle2, sizeof us_bundle2, us_digest2, US_COUNTER2},
    };
    return &b[which];
}

static void expect(tmo_err e, const char *step, const tmo_diag *d)
{
    if (e == TMO_OK)
        return;
    char msg[300];
    snprintf(msg, sizeof msg, "%s: %s (%s: %s)", step, tmo_err_name(e), d->field ? d->field : "-",
             d->problem ? d->problem : "-");
    fuzz_fail("update engine", msg);
}

static void no_violations(const char *when)
{
    if (R.violations != 0)
        fuzz_fail("the engine broke a storage rule", when);
}

/* Sets up the rig and the stored state from the input; 0 when it is too short. */
static int load_input(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t f = data[0], g = data[1];
    static const uint32_t write_units[4] = {1, 4, 8, 32};
    rig_init(&R, us_root, (g & 4) ? 4096 : 512, write_units[(g >> 5) & 3], (g & 0x80) ? 0x00 : 0xFF,
             g & 3);
    for (int i = 0; i < 2; i++) {
        int c = (f >> (2 * i)) & 3;
        rig_fill_slot(&R, i, c >= 2 ? bundle(c - 2) : NULL, c == 0 ? 0x5A : R.port.erased_value);
    }
    R.counter = ((f >> 4) & 3) % 3;
    /* The geometry tmo_update_open computes (docs/update-engine.md, "Journal log"). */
    uint32_t wu = R.port.write_unit, half = R.journal_size / 2;
    uint32_t space = (TMO_JOURNAL_RECORD_LEN + wu - 1) / wu * wu, per_half = half / space;
    for (size_t at = 2; at < size; at += 1 + TMO_JOURNAL_RECORD_LEN) {
        uint8_t place = data[at];
        size_t n = size - at - 1;
        if (n > TMO_JOURNAL_RECORD_LEN)
            n = TMO_JOURNAL_RECORD_LEN;
        uint8_t *rec = R.journal + (place >> 7) * half + (place & 0x7F) % per_half * space;
        memset(rec, R.port.erased_value, TMO_JOURNAL_RECORD_LEN);
        memcpy(rec, data + at + 1, n);
        if (f & 0x40) {
            uint32_t crc = journal_crc32(rec, TMO_JOURNAL_RECORD_LEN - 4);
            for (int i = 0; i < 4; i++)
                rec[TMO_JOURNAL_RECORD_LEN - 4 + i] = (uint8_t)(crc >> (8 * i));
        }
    }
    return 1;
}

/* The state after boot must be one a device can run from. */
static void check_booted(const tmo_boot_report *rep)
{
    const tmo_update_state *st = tmo_update_get_state(&U);
    if (st->active == TMO_UPDATE_NO_SLOT) {
        if (rep->action != TMO_BOOT_NO_MODEL && rep->action != TMO_BOOT_REVERTED)
            fuzz_fail("boot", "no active slot, but the report says a model runs");
        return;
    }
    if (st->active >= TMO_UPDATE_SLOTS)
        fuzz_fail("boot", "active slot out of range");
    const tmo_update_slot *a = &st->slot[st->active];
    int trial_ok = a->state == TMO_SLOT_TRIAL && rep->action == TMO_BOOT_TRIAL_CONTINUES;
    if (a->state != TMO_SLOT_GOOD && !trial_ok)
        fuzz_fail("boot", "the active slot is neither GOOD nor a continuing trial");
    if (rep->action == TMO_BOOT_NO_MODEL)
        fuzz_fail("boot", "NO_MODEL with an active slot");
    /* (The journal's name, version and counter only describe the slot: the verified bundle rules.) */
    const tmo_bundle *b = tmo_update_bundle(&U);
    if (b == NULL)
        fuzz_fail("boot", "the active slot's bundle was not verified");
    if (a->state == TMO_SLOT_GOOD && R.counter < b->manifest.counter)
        fuzz_fail("boot", "the NV counter is behind the confirmed model");
}

/* RAM state == durable state: a second engine opened now reads the same record. */
static void check_durable(const char *when)
{
    tmo_diag d;
    expect(tmo_update_open(&U2, &R.cfg, &d), "reopen", &d);
    uint8_t a[TMO_JOURNAL_RECORD_LEN], b[TMO_JOURNAL_RECORD_LEN];
    tmo_update_state s1 = *tmo_update_get_state(&U), s2 = *tmo_update_get_state(&U2);
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++) /* open rounds a resume down to its erase unit */
        if (s1.slot[i].state == TMO_SLOT_RECEIVING)
            s1.slot[i].written = s1.slot[i].written / R.port.erase_unit * R.port.erase_unit;
    journal_encode(&s1, a);
    journal_encode(&s2, b);
    if (memcmp(a, b, sizeof a) != 0)
        fuzz_fail("the journal on storage differs from the engine's state", when);
    no_violations(when);
}

static void try_ready(void)
{
    tmo_diag d;
    tmo_err e = tmo_update_activate(&U, &d);
    if (e == TMO_ESTATE)
        return;
    expect(e, "activate", &d);
    e = tmo_update_confirm(&U, &d);
    if (e <= TMO_EPORT_BASE)
        expect(e, "confirm", &d);
    if (e != TMO_OK)
        expect(tmo_update_revert(&U, &d), "revert after a refused confirm", &d);
    check_durable("activate");
}

static void install(void)
{
    tmo_diag d;
    const tmo_update_state *st = tmo_update_get_state(&U);
    if (st->active != TMO_UPDATE_NO_SLOT && st->slot[st->active].state == TMO_SLOT_TRIAL)
        expect(tmo_update_revert(&U, &d), "revert", &d);
    const rig_bundle *b = bundle(1);
    expect(rig_download(&U, b, 7, &d), "download", &d);
    expect(tmo_update_activate(&U, &d), "activate", &d);
    expect(tmo_update_confirm(&U, &d), "confirm", &d);
    /* What a reboot reads: the installed slot, GOOD and active, the NV counter at its counter.
     * (Not booted again here: one more signature check per input halves the fuzzer's speed;
     * the seeds' replay boots such states.) */
    check_durable("install");
    st = tmo_update_get_state(&U);
    if (st->active == TMO_UPDATE_NO_SLOT || st->slot[st->active].state != TMO_SLOT_GOOD ||
        st->slot[st->active].counter != b->counter || R.counter != b->counter ||
        memcmp(R.slot[st->active], b->bytes, b->len) != 0)
        fuzz_fail("install", "the installed model is not what a reboot would run");
    no_violations("install");
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    if (!load_input(data, size))
        return 0;
    tmo_diag d;
    tmo_boot_report rep;
    return tmo_update_open(&U, &R.cfg, &d) == TMO_OK && tmo_update_boot(&U, &rep, &d) == TMO_OK &&
           rep.action == TMO_BOOT_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (psa_crypto_init() != PSA_SUCCESS)
            fuzz_fail("psa_crypto_init", NULL);
        ready = 1;
    }
    if (!load_input(data, size))
        return 0;
    tmo_diag d;
    tmo_boot_report rep;
    expect(tmo_update_open(&U, &R.cfg, &d), "open", &d);
    no_violations("open");
    expect(tmo_update_boot(&U, &rep, &d), "boot", &d);
    no_violations("boot");
    check_booted(&rep);
    check_durable("boot");
    if (data[1] & 0x10) {
        expect(tmo_update_cancel(&U, &d), "cancel", &d);
        check_durable("cancel");
    }
    if (data[1] & 0x08)
        try_ready();
    if (data[0] & 0x80)
        install();
    tmo_bundle_close(&U.bundle);
    tmo_bundle_close(&U2.bundle);
    return 0;
}
