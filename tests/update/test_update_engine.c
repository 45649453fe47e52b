/*
 * The A/B update engine's state machine (include/tinymlops/update.h,
 * docs/update-engine.md): each operation's effect on the journaled state,
 * refusals (order, ranges, digests, signatures, counters, targets), resume,
 * trial reverts and boot recovery, the journal's torn-record and sequence
 * rules. Storage is the in-memory flash port without faults (8-byte write
 * units, a journal of three records a half); the power cut proofs are in
 * test_update_powercut.c, wear and alignment in test_update_flash.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faulty_storage.h"
#include "update/update_priv.h"
#include "update_fixture.h"

enum { UNIT = 256, WU = 8, SLOT = 16 * 1024, JOURNAL = 8 * UNIT, HALF = JOURNAL / 2, CHUNK = 500 };

/* v1 and v2 share counter 1 (v2 stays revertible), v3 raises it to 2. */
static ufx_bundle v1, v2, v3, rogue, wrong_arch, old_counter, with_kat;
static const uint8_t kat_bytes[40] = "known answers: format of another issue";

typedef struct dev {
    faulty_storage f;
    tmo_update_config cfg;
    tmo_update u;
} dev;

static dev *dev_new(uint8_t max_trial_boots)
{
    dev *d = calloc(1, sizeof *d);
    fs_init_flash(&d->f, SLOT, JOURNAL, UNIT, WU, 0xFF);
    d->cfg = ufx_config(&d->f.port, &d->f.counter_port);
    d->cfg.max_trial_boots = max_trial_boots;
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    return d;
}

/* Power cycle: a fresh engine over the same bytes, then boot recovery. */
static tmo_boot_report dev_restart(dev *d)
{
    tmo_boot_report rep;
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(tmo_update_boot(&d->u, &rep, NULL), TMO_OK);
    return rep;
}

static void dev_free(dev *d)
{
    assert_int_equal(d->f.violations, 0); /* NOR rules held throughout */
    fs_free(&d->f);
    free(d);
}

static const tmo_update_state *st(dev *d)
{
    return tmo_update_get_state(&d->u);
}

static const tmo_update_slot *active(dev *d)
{
    assert_int_not_equal(st(d)->active, TMO_UPDATE_NO_SLOT);
    return &st(d)->slot[st(d)->active];
}

static void test_fresh_device(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(st(d)->active, TMO_UPDATE_NO_SLOT);
    assert_int_equal(st(d)->slot[0].state, TMO_SLOT_EMPTY);
    assert_int_equal(st(d)->slot[1].state, TMO_SLOT_EMPTY);
    tmo_boot_report rep = dev_restart(d);
    assert_int_equal(rep.action, TMO_BOOT_NO_MODEL);
    assert_int_equal(d->f.ops, 0); /* opening and booting an empty device writes nothing */
    dev_free(d);
}

static void test_update_cycle(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    tmo_diag diag;
    assert_int_equal(ufx_install(&d->u, &v1, 7, CHUNK), TMO_OK);
    assert_int_equal(active(d)->state, TMO_SLOT_GOOD);
    assert_int_equal(active(d)->tag, 7);
    assert_int_equal(d->f.counter, 1);
    uint8_t first = st(d)->active;

    uint32_t off = 99;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v3.len, v3.digest, 8, &off, &diag), TMO_OK);
    assert_int_equal(off, 0);
    uint8_t target = first ^ 1u;
    assert_int_equal(st(d)->slot[target].state, TMO_SLOT_RECEIVING);
    assert_int_equal(tmo_update_write(&d->u, 0, v3.bytes, 100, &diag), TMO_OK);
    /* Programmed in whole write units: the last 4 bytes wait for the next call. */
    assert_int_equal(st(d)->slot[target].written, 100 / WU * WU);
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v3.len, v3.digest, 8, &off, &diag), TMO_OK);
    assert_int_equal(off, 100); /* the same session goes on after the bytes it took */
    assert_int_equal(tmo_update_write(&d->u, 100, v3.bytes + 100, v3.len - 100, &diag), TMO_OK);
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_OK);
    const tmo_update_slot *s = &st(d)->slot[target];
    assert_int_equal(s->state, TMO_SLOT_READY);
    assert_string_equal(s->name, "test/model");
    assert_int_equal(s->version.major, 3);
    assert_int_equal(s->counter, 2);
    assert_memory_equal(s->digest, v3.digest, 32);
    assert_int_equal(st(d)->active, first); /* still running v1 */

    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    assert_int_equal(st(d)->active, target);
    assert_int_equal(active(d)->state, TMO_SLOT_TRIAL);
    assert_int_equal(st(d)->slot[first].state, TMO_SLOT_GOOD); /* the fallback stays */
    assert_int_equal(d->f.counter, 1);                         /* not before confirmation */
    assert_int_equal(tmo_update_confirm(&d->u, &diag), TMO_OK);
    assert_int_equal(active(d)->state, TMO_SLOT_GOOD);
    assert_int_equal(d->f.counter, 2);
    dev_free(d);
}

static void test_calls_out_of_order(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    tmo_diag diag;
    uint32_t off;
    assert_int_equal(tmo_update_write(&d->u, 0, v1.bytes, 10, &diag), TMO_ESTATE);
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_ESTATE);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_ESTATE);
    assert_int_equal(tmo_update_confirm(&d->u, &diag), TMO_ESTATE);
    assert_int_equal(tmo_update_revert(&d->u, &diag), TMO_ESTATE);
    assert_int_equal(tmo_update_begin(&d->u, 0, NULL, 0, &off, &diag), TMO_EINVAL);
    assert_int_equal(tmo_update_begin(&d->u, SLOT + 1, NULL, 0, &off, &diag), TMO_ENOSPC);
    assert_int_equal(diag.limit, SLOT);

    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v1.len, v1.digest, 1, &off, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 1, v1.bytes + 1, 10, &diag), TMO_ERANGE); /* a gap */
    assert_int_equal(tmo_update_write(&d->u, 0, v1.bytes, v1.len + 1, &diag),
                     TMO_ERANGE); /* past the end */
    assert_int_equal(tmo_update_write(&d->u, 0, v1.bytes, 10, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 0, v1.bytes, 10, &diag), TMO_ERANGE); /* no rewrite */
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_ESTATE);                 /* incomplete */
    assert_int_equal(tmo_update_write(&d->u, 10, v1.bytes + 10, v1.len - 10, &diag), TMO_OK);
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_ESTATE);
    /* During a trial the other slot is the fallback: no download may touch it. */
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v2.len, v2.digest, 2, &off, &diag),
                     TMO_ESTATE);
    assert_int_equal(tmo_update_inactive_slot(&d->u), TMO_UPDATE_NO_SLOT);
    dev_free(d);
}

static void test_digest_is_identity_not_a_check(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    /* The announced digest names the bundle (resume, reinstall); a complete slot can be read to hash it. */
    uint32_t off;
    tmo_diag diag;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v1.len, v1.digest, 1, &off, &diag), TMO_OK);
    tmo_port_reader r;
    assert_int_equal(tmo_update_slot_reader(&d->u, 0, &r), TMO_EINVAL); /* incomplete */
    assert_int_equal(tmo_update_write(&d->u, 0, v1.bytes, v1.len, &diag), TMO_OK);
    assert_int_equal(tmo_update_slot_reader(&d->u, 0, &r), TMO_OK);
    uint8_t *back = malloc(v1.len);
    assert_int_equal(r.read(r.ctx, 0, back, v1.len), TMO_OK);
    assert_memory_equal(back, v1.bytes, v1.len);
    free(back);
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_OK);
    assert_memory_equal(st(d)->slot[0].digest, v1.digest, 32);
    assert_int_equal(st(d)->slot[0].has_digest, 1);
    dev_free(d);
}

static void refused(const ufx_bundle *b, tmo_err want, const char *field)
{
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v3, 1, CHUNK), TMO_OK); /* NV counter 2 */
    uint32_t off;
    tmo_diag diag;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)b->len, NULL, 2, &off, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 0, b->bytes, b->len, &diag), TMO_OK);
    assert_int_equal(tmo_update_finish(&d->u, &diag), want);
    assert_string_equal(diag.field, field);
    assert_int_equal(st(d)->slot[st(d)->active ^ 1u].state, TMO_SLOT_EMPTY);
    assert_int_equal(active(d)->version.major, 3);
    assert_int_equal(d->f.counter, 2);
    dev_free(d);
}

static void test_refused_bundles(void **state)
{
    (void)state;
    refused(&rogue, TMO_ECERT, "cert.issuer");
    refused(&wrong_arch, TMO_ETARGET, "target.arch");
    refused(&old_counter, TMO_EROLLBACK, "manifest.security_counter");
    ufx_bundle forged = v2;
    forged.bytes = malloc(v2.len);
    memcpy(forged.bytes, v2.bytes, v2.len);
    forged.bytes[40] ^= 0x01; /* inside the manifest: the signature no longer holds */
    refused(&forged, TMO_EBADSIG, "signature");
    free(forged.bytes);
}

static void test_resume_after_restart(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    uint32_t off;
    tmo_diag diag;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v2.len, v2.digest, 2, &off, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 0, v2.bytes, 700, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 700, v2.bytes + 700, 300, &diag), TMO_OK);
    dev_restart(d);
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v2.len, v2.digest, 2, &off, &diag), TMO_OK);
    assert_int_equal(off, 1000 / UNIT * UNIT); /* the erase unit holding the durable end */
    uint32_t resumed;
    assert_int_equal(ufx_download(&d->u, &v2, 2, CHUNK, &resumed), TMO_OK);
    assert_int_equal(resumed, off);
    /* Another bundle announced meanwhile starts over. */
    dev_free(d);
    d = dev_new(0);
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v2.len, v2.digest, 2, &off, &diag), TMO_OK);
    assert_int_equal(tmo_update_write(&d->u, 0, v2.bytes, 700, &diag), TMO_OK);
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v3.len, v3.digest, 3, &off, &diag), TMO_OK);
    assert_int_equal(off, 0);
    assert_int_equal(st(d)->slot[0].tag, 3);
    dev_free(d);
}

static void test_reinstall_previous_without_download(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    assert_int_equal(ufx_install(&d->u, &v2, 2, CHUNK), TMO_OK);
    uint32_t off;
    tmo_diag diag;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v1.len, v1.digest, 3, &off, &diag), TMO_OK);
    assert_int_equal(off, v1.len); /* still in the inactive slot: nothing to fetch */
    assert_int_equal(tmo_update_finish(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_confirm(&d->u, &diag), TMO_OK);
    assert_int_equal(active(d)->version.major, 1);
    dev_free(d);
}

static void test_revert(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    tmo_diag diag;
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    uint8_t first = st(d)->active;
    assert_int_equal(ufx_download(&d->u, &v3, 2, CHUNK, NULL), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_revert(&d->u, &diag), TMO_OK);
    assert_int_equal(st(d)->active, first);
    assert_int_equal(active(d)->state, TMO_SLOT_GOOD);
    assert_int_equal(st(d)->slot[first ^ 1u].state, TMO_SLOT_EMPTY);
    assert_int_equal(d->f.counter, 1);
    /* A first model that fails its trial leaves no model at all. */
    dev_free(d);
    d = dev_new(0);
    assert_int_equal(ufx_download(&d->u, &v1, 1, CHUNK, NULL), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    assert_int_equal(tmo_update_revert(&d->u, &diag), TMO_OK);
    assert_int_equal(st(d)->active, TMO_UPDATE_NO_SLOT);
    assert_int_equal(d->f.counter, 0);
    dev_free(d);
}

static void test_restart_during_trial(void **state)
{
    (void)state;
    for (uint8_t max = 0; max <= 2; max++) {
        dev *d = dev_new(max);
        tmo_diag diag;
        assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
        assert_int_equal(ufx_download(&d->u, &v3, 9, CHUNK, NULL), TMO_OK);
        assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
        uint8_t trial = st(d)->active;
        for (uint8_t k = 0; k < max; k++) {
            tmo_boot_report rep = dev_restart(d);
            assert_int_equal(rep.action, TMO_BOOT_TRIAL_CONTINUES);
            assert_int_equal(st(d)->trial_boots, k + 1);
            assert_int_equal(active(d)->state, TMO_SLOT_TRIAL);
        }
        tmo_boot_report rep = dev_restart(d);
        assert_int_equal(rep.action, TMO_BOOT_REVERTED);
        assert_int_equal(rep.slot, trial);
        assert_int_equal(rep.tag, 9);
        assert_int_equal(active(d)->version.major, 1);
        assert_int_equal(d->f.counter, 1);
        dev_free(d);
    }
}

static void test_boot_falls_back_from_damaged_slot(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    assert_int_equal(ufx_install(&d->u, &v2, 2, CHUNK), TMO_OK);
    uint8_t damaged = st(d)->active;
    d->f.area[damaged][v2.len - 3] ^= 0x10; /* bit rot in the payload */
    tmo_boot_report rep = dev_restart(d);
    assert_int_equal(rep.action, TMO_BOOT_FELL_BACK);
    assert_int_equal(rep.slot, damaged);
    assert_int_equal(rep.why, TMO_EDIGEST);
    assert_int_equal(active(d)->version.major, 1);
    assert_int_equal(st(d)->slot[damaged].state, TMO_SLOT_EMPTY);
    /* Both damaged: no model, said so. */
    d->f.area[st(d)->active][v1.len - 3] ^= 0x10;
    rep = dev_restart(d);
    assert_int_equal(rep.action, TMO_BOOT_NO_MODEL);
    assert_int_equal(rep.why, TMO_EDIGEST);
    assert_int_equal(st(d)->active, TMO_UPDATE_NO_SLOT);
    dev_free(d);
}

static void test_boot_completes_confirmation(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    tmo_diag diag;
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    assert_int_equal(ufx_download(&d->u, &v3, 2, CHUNK, NULL), TMO_OK);
    assert_int_equal(tmo_update_activate(&d->u, &diag), TMO_OK);
    /* confirm = journal record, then the counter: cut the counter */
    fs_power_on(&d->f, -1, TEAR_NOTHING);
    d->f.cut_counter = 1;
    assert_int_not_equal(tmo_update_confirm(&d->u, &diag), TMO_OK);
    assert_int_equal(d->f.counter, 1);
    fs_power_on(&d->f, -1, TEAR_NOTHING);
    tmo_boot_report rep = dev_restart(d);
    assert_int_equal(rep.action, TMO_BOOT_NONE);
    assert_int_equal(active(d)->version.major, 3);
    assert_int_equal(d->f.counter, 2);
    dev_free(d);
}

static void test_time_is_judged_at_install_only(void **state)
{
    (void)state;
    ufx_bundle soon;
    const ufx_spec spec = {"1.0.0", 1, 16, NULL, 0, NULL, 0, 3600};
    assert_int_equal(ufx_make(&spec, &soon), 0);
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &soon, 1, CHUNK), TMO_OK);
    /* Two days later (or a clock reset far into the future): the installed model still boots and loads. */
    ufx_clock_shift(2 * 86400);
    tmo_boot_report rep = dev_restart(d);
    assert_int_equal(rep.action, TMO_BOOT_NONE);
    static uint8_t model[SLOT] __attribute__((aligned(16)));
    size_t len;
    assert_int_equal(tmo_update_load_active(&d->u, model, sizeof model, &len, NULL), TMO_OK);
    /* ...but bundles are refused as new installs: outside the certificate window, or expired. */
    assert_int_equal(ufx_download(&d->u, &v2, 2, CHUNK, NULL),
                     TMO_ECERT); /* certificate window (1 day) */
    ufx_clock_shift(7200);
    dev_free(d);
    d = dev_new(0);
    assert_int_equal(ufx_download(&d->u, &soon, 1, CHUNK, NULL), TMO_EEXPIRED);
    ufx_clock_shift(0);
    dev_free(d);
    ufx_bundle_free(&soon);
}

static void test_load_active_and_sections(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    static uint8_t model[SLOT] __attribute__((aligned(16)));
    size_t len = 0;
    tmo_diag diag;
    assert_int_equal(tmo_update_load_active(&d->u, model, sizeof model, &len, &diag), TMO_ESTATE);
    assert_int_equal(ufx_install(&d->u, &with_kat, 1, CHUNK), TMO_OK);
    dev_restart(d);
    assert_int_equal(tmo_update_load_active(&d->u, model, sizeof model, &len, &diag), TMO_OK);
    assert_int_equal(len, with_kat.model_len);
    assert_memory_equal(model, with_kat.model, len);
    const tmo_bundle *b = tmo_update_bundle(&d->u);
    assert_non_null(b);
    assert_int_equal(b->kat_length, sizeof kat_bytes);
    tmo_port_reader r;
    uint8_t got[sizeof kat_bytes];
    assert_int_equal(tmo_update_slot_reader(&d->u, st(d)->active, &r), TMO_OK);
    assert_int_equal(r.read(r.ctx, b->kat_offset, got, sizeof got), TMO_OK);
    assert_memory_equal(got, kat_bytes, sizeof got);
    assert_int_equal(tmo_update_slot_reader(&d->u, st(d)->active ^ 1u, &r), TMO_EINVAL); /* empty */
    dev_free(d);
}

static void test_journal_records(void **state)
{
    (void)state;
    tmo_update_state s, back;
    memset(&s, 0, sizeof s);
    s.seq = 5;
    s.active = 1;
    s.slot[1].state = TMO_SLOT_GOOD;
    s.slot[1].size = s.slot[1].written = 1234;
    s.slot[1].name_len = 4;
    memcpy(s.slot[1].name, "name", 5);
    uint8_t rec[TMO_JOURNAL_RECORD_LEN];
    journal_encode(&s, rec);
    assert_memory_equal(rec, "TMUJ", 4);
    assert_int_equal(journal_decode(rec, &back), TMO_OK);
    assert_memory_equal(&back, &s, sizeof s);
    /* Every single-byte change is caught (CRC-32 detects all of them). */
    for (size_t i = 0; i < sizeof rec; i++) {
        rec[i] ^= 0x04;
        assert_int_equal(journal_decode(rec, &back), TMO_PORT_ECORRUPT);
        rec[i] ^= 0x04;
    }
    /* The CRC is the standard one: CRC-32("123456789") = 0xCBF43926. */
    assert_int_equal(journal_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
}

/* Byte offset of the record the engine holds its state in. */
static uint32_t current_at(const dev *d)
{
    return d->u.half * d->u.half_len + (d->u.next_rec - 1) * d->u.rec_space;
}

static void test_journal_picks_newest_valid(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    assert_int_equal(ufx_download(&d->u, &v3, 2, CHUNK, NULL), TMO_OK);
    uint32_t newest = st(d)->seq;
    /* Tear the newest record: the one before it (in its half or, after a compaction, the
     * other one) is what the device sees; the next record goes after the torn one. */
    d->f.area[TMO_AREA_JOURNAL][current_at(d) + 100] ^= 0xFF;
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, newest - 1);
    assert_int_equal(tmo_update_cancel(&d->u, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, newest);
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, newest);
    /* Sequence numbers compare across the 2^32 wrap; each half's last record is its newest.
     * (This is also the layout of the two-record journal before the log: a record at the
     * start of each half.) */
    tmo_update_state before = *st(d);
    tmo_update_state a = before, b = before;
    a.seq = 0xFFFFFFFFu;
    b.seq = 1;
    b.trial_boots = 1;
    uint8_t rec[TMO_JOURNAL_RECORD_LEN];
    memset(d->f.area[TMO_AREA_JOURNAL], 0xFF, JOURNAL);
    journal_encode(&a, rec);
    memcpy(d->f.area[TMO_AREA_JOURNAL], rec, sizeof rec);
    journal_encode(&b, rec);
    memcpy(d->f.area[TMO_AREA_JOURNAL] + HALF, rec, sizeof rec);
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, 1);
    assert_int_equal(st(d)->trial_boots, 1);
    /* The next change appends after it, in erased space. */
    long erases = fs_erases(&d->f, TMO_AREA_JOURNAL);
    uint32_t off;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v2.len, v2.digest, 5, &off, NULL), TMO_OK);
    assert_int_equal(fs_erases(&d->f, TMO_AREA_JOURNAL), erases);
    assert_int_equal(st(d)->seq, 2);
    assert_int_equal(current_at(d), HALF + TMO_JOURNAL_RECORD_LEN);
    dev_free(d);
}

/*
 * A record just written is the one the next open reads, whatever sequence numbers a journal
 * written elsewhere holds: here the current record (seq 10, half 1) beats half 0's (2^31 + 11)
 * under serial-number comparison, but 11 would not. The change must go to a fresh half
 * (compaction), not after the current record.
 */
static void test_journal_new_record_always_wins(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    tmo_update_state a = *st(d), b = *st(d);
    a.seq = 10;
    b.seq = 0x8000000Bu;
    b.slot[b.active].tag = 99;
    uint8_t rec[TMO_JOURNAL_RECORD_LEN];
    memset(d->f.area[TMO_AREA_JOURNAL], 0xFF, JOURNAL);
    journal_encode(&b, rec);
    memcpy(d->f.area[TMO_AREA_JOURNAL], rec, sizeof rec);
    journal_encode(&a, rec);
    memcpy(d->f.area[TMO_AREA_JOURNAL] + HALF, rec, sizeof rec);
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, 10);
    uint32_t off;
    assert_int_equal(tmo_update_begin(&d->u, (uint32_t)v3.len, v3.digest, 5, &off, NULL), TMO_OK);
    assert_int_equal(tmo_update_open(&d->u, &d->cfg, NULL), TMO_OK);
    assert_int_equal(st(d)->seq, 11);
    assert_int_equal(st(d)->slot[st(d)->active ^ 1u].state, TMO_SLOT_RECEIVING);
    dev_free(d);
}

/* A CRC-valid newest record the engine could not have written (found by fuzz_update_state):
 * its active slot is READY, or a bundle larger than its slot. The record before it holds,
 * and the space it takes is not written again. */
static void test_journal_refuses_inconsistent_record(void **state)
{
    (void)state;
    dev *d = dev_new(0);
    assert_int_equal(ufx_install(&d->u, &v1, 1, CHUNK), TMO_OK);
    assert_int_equal(ufx_download(&d->u, &v3, 2, CHUNK, NULL), TMO_OK);
    tmo_update_state good = *st(d);
    uint8_t ready = (uint8_t)(good.active ^ 1u);
    assert_int_equal(good.slot[ready].state, TMO_SLOT_READY);
    tmo_update_state bad[2] = {good, good};
    bad[0].active = ready; /* a READY slot running unconfirmed */
    bad[1].slot[ready].size = bad[1].slot[ready].written = SLOT + UNIT; /* past the slot */
    for (int k = 0; k < 2; k++) {
        uint8_t rec[TMO_JOURNAL_RECORD_LEN];
        bad[k].seq = good.seq + 1;
        journal_encode(&bad[k], rec);
        assert_int_equal(journal_decode(rec, &(tmo_update_state){0}), TMO_OK);
        /* Where the next record would go: after the current one, or the other half's start. */
        uint32_t at = current_at(d) + d->u.rec_space;
        if (d->u.next_rec >= d->u.rec_per_half) {
            at = (d->u.half ^ 1u) * d->u.half_len;
            memset(d->f.area[TMO_AREA_JOURNAL] + at, 0xFF, HALF);
        }
        memcpy(d->f.area[TMO_AREA_JOURNAL] + at, rec, sizeof rec);
        tmo_boot_report rep = dev_restart(d);
        assert_int_equal(rep.action, TMO_BOOT_NONE);
        assert_int_equal(st(d)->seq, good.seq);
        assert_int_equal(st(d)->active, good.active);
        assert_int_equal(st(d)->slot[ready].state, TMO_SLOT_READY);
    }
    assert_int_equal(tmo_update_activate(&d->u, NULL), TMO_OK);
    assert_int_equal(tmo_update_confirm(&d->u, NULL), TMO_OK);
    dev_free(d);
}

static int setup(void **state)
{
    (void)state;
    const ufx_spec specs[7] = {
        {"1.0.0", 1, 16, NULL, 0, NULL, 0, 0},
        {"2.0.0", 1, 40, NULL, 0, NULL, 0, 0},
        {"3.0.0", 2, 24, NULL, 0, NULL, 0, 0},
        {"4.0.0", 3, 16, NULL, 1, NULL, 0, 0},
        {"4.0.0", 3, 16, "cortex-m4", 0, NULL, 0, 0},
        {"0.9.0", 1, 16, NULL, 0, NULL, 0, 0},
        {"1.1.0", 1, 16, NULL, 0, kat_bytes, sizeof kat_bytes, 0},
    };
    ufx_bundle *out[7] = {&v1, &v2, &v3, &rogue, &wrong_arch, &old_counter, &with_kat};
    if (ufx_setup() != 0)
        return -1;
    for (int i = 0; i < 7; i++)
        if (ufx_make(&specs[i], out[i]) != 0)
            return -1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_device),
        cmocka_unit_test(test_update_cycle),
        cmocka_unit_test(test_calls_out_of_order),
        cmocka_unit_test(test_digest_is_identity_not_a_check),
        cmocka_unit_test(test_refused_bundles),
        cmocka_unit_test(test_resume_after_restart),
        cmocka_unit_test(test_reinstall_previous_without_download),
        cmocka_unit_test(test_revert),
        cmocka_unit_test(test_restart_during_trial),
        cmocka_unit_test(test_boot_falls_back_from_damaged_slot),
        cmocka_unit_test(test_boot_completes_confirmation),
        cmocka_unit_test(test_time_is_judged_at_install_only),
        cmocka_unit_test(test_load_active_and_sections),
        cmocka_unit_test(test_journal_records),
        cmocka_unit_test(test_journal_picks_newest_valid),
        cmocka_unit_test(test_journal_new_record_always_wins),
        cmocka_unit_test(test_journal_refuses_inconsistent_record),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
