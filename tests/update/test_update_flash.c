/*
 * The update engine on real flash geometry (docs/update-engine.md, U-1, U-2,
 * "Journal log"): every write on the port's write unit whatever the caller's
 * chunk sizes, the bundle's last unit padded, the journal erased once per
 * half-full of records instead of once per state change, slot erase units
 * erased once per download, geometries the engine cannot keep to refused.
 * The storage is the in-memory flash of faulty_storage.c (no faults here);
 * its rule checks are themselves tested first, so a test that relies on
 * "no violation" can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faulty_storage.h"
#include "update_fixture.h"

/* Three bundles of one security counter (so they can follow each other forever), the third
 * several erase units long; and a small one. */
static ufx_bundle b[3];

static uint32_t round_up(uint32_t v, uint32_t unit)
{
    return (v + unit - 1) / unit * unit;
}

static void test_flash_rules_are_enforced(void **state)
{
    (void)state;
    for (int zero = 0; zero <= 1; zero++) {
        uint8_t e = zero ? 0x00 : 0xFF;
        faulty_storage f;
        fs_init_flash(&f, 4096, 2048, 512, 8, e);
        tmo_port_storage *p = &f.port;
        uint8_t bytes[16];
        memset(bytes, 0x0F, sizeof bytes);
        assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 0, 512), TMO_OK);
        assert_int_equal(f.erases[TMO_AREA_SLOT_A][0], 1);
        /* Off the write unit, or shorter than it: refused, and counted. */
        assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4, bytes, 8), TMO_PORT_EALIGN);
        assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 0, bytes, 12), TMO_PORT_EALIGN);
        assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 0, bytes, 4), TMO_PORT_EALIGN);
        assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 256, 512), TMO_PORT_EALIGN);
        assert_int_equal(f.misaligned, 4);
        assert_int_equal(f.violations, 4);
        /* Programming bytes that are not erased: counted, and the bits only leave the erased
         * value, as on flash (0x0F then 0xF0 gives 0x00 on 0xFF flash, 0xFF on 0x00 flash). */
        assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 0, bytes, 8), TMO_OK);
        assert_int_equal(f.violations, 4);
        memset(bytes, 0xF0, sizeof bytes);
        assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 0, bytes, 8), TMO_OK);
        assert_int_equal(f.violations, 12);
        uint8_t back[8];
        assert_int_equal(p->read(p->ctx, TMO_AREA_SLOT_A, 0, back, 8), TMO_OK);
        assert_int_equal(back[0], zero ? 0xFF : 0x00);
        assert_int_equal(back[7], zero ? 0xFF : 0x00);
        assert_int_equal(p->read(p->ctx, TMO_AREA_SLOT_A, 8, back, 1), TMO_OK);
        assert_int_equal(back[0], e);
        fs_free(&f);
    }
}

static tmo_update_config cfg_of(faulty_storage *f)
{
    return ufx_config(&f->port, &f->counter_port);
}

/* The largest write unit a port with 512-byte erase units may state. */
#define LIM (TMO_UPDATE_MAX_WRITE_UNIT < 512 ? TMO_UPDATE_MAX_WRITE_UNIT : 512)

static void test_geometry_refused(void **state)
{
    (void)state;
    /* erase unit, write unit, journal size: each the engine cannot keep to, and the field
     * and bound the error names. */
    const struct {
        uint32_t eu, wu, journal;
        const char *field;
        int64_t limit;
    } bad[] = {
        {512, 3, 2048, "port.storage.write_unit", LIM}, /* not a power of two */
        {512, 0, 2048, "port.storage.write_unit", LIM}, /* none */
        {512, TMO_UPDATE_MAX_WRITE_UNIT * 2, 2048, "port.storage.write_unit", LIM}, /* buffers */
        {16, 32, 2048, "port.storage.write_unit", 16},    /* larger than the erase unit */
        {384, 8, 2048, "port.storage.erase_unit", 65536}, /* not a power of two */
        {4096, 8, 4096, "update.journal_size", 8192},     /* one erase unit: no two halves */
        {128, 8, 256, "update.journal_size", 768},        /* 128-byte halves hold no record */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        faulty_storage f;
        fs_init_flash(&f, 8 * 1536, bad[i].journal, bad[i].eu, bad[i].wu, 0xFF);
        tmo_update_config c = cfg_of(&f);
        tmo_update u;
        tmo_diag d;
        assert_int_equal(tmo_update_open(&u, &c, &d), TMO_EINVAL);
        assert_string_equal(d.field, bad[i].field);
        assert_int_equal(d.limit, bad[i].limit);
        assert_int_equal(f.ops, 0);
        fs_free(&f);
    }
    /* The smallest journal that works: two halves of one record's erase units. */
    faulty_storage f;
    fs_init_flash(&f, 8192, 2 * 384, 128, 8, 0xFF);
    tmo_update_config c = cfg_of(&f);
    tmo_update u;
    assert_int_equal(tmo_update_open(&u, &c, NULL), TMO_OK);
    assert_int_equal(ufx_install(&u, &b[0], 1, 1000), TMO_OK);
    assert_int_equal(f.violations, 0);
    fs_free(&f);
}

/* Writes bundle bb in chunks of the sizes in turn (odd on purpose), checking what is programmed. */
static void download_odd(tmo_update *u, faulty_storage *f, const ufx_bundle *bb, uint64_t tag)
{
    static const size_t sizes[] = {1, 7, 33, 100, 31, 64, 500, 3};
    uint32_t wu = f->port.write_unit, off = 0;
    assert_int_equal(tmo_update_begin(u, (uint32_t)bb->len, bb->digest, tag, &off, NULL), TMO_OK);
    assert_int_equal(off, 0);
    uint8_t slot = tmo_update_inactive_slot(u);
    for (size_t k = 0; off < bb->len; k++) {
        size_t n = sizes[k % (sizeof sizes / sizeof sizes[0])];
        if (n > bb->len - off)
            n = bb->len - off;
        assert_int_equal(tmo_update_write(u, off, bb->bytes + off, n, NULL), TMO_OK);
        off += (uint32_t)n;
        uint32_t written = tmo_update_get_state(u)->slot[slot].written;
        assert_int_equal(written, off == bb->len ? off : off / wu * wu);
    }
    assert_int_equal(tmo_update_finish(u, NULL), TMO_OK);
    /* The bundle, then its last write unit padded with the erased value. */
    const uint8_t *area = f->area[slot];
    assert_memory_equal(area, bb->bytes, bb->len);
    for (uint32_t i = (uint32_t)bb->len; i < round_up((uint32_t)bb->len, wu); i++)
        assert_int_equal(area[i], f->port.erased_value);
}

static void test_every_write_aligned(void **state)
{
    (void)state;
    const struct {
        uint32_t eu, wu;
        uint8_t erased;
    } geo[] = {{512, 32, 0xFF}, {256, 8, 0xFF}, {1024, 4, 0x00}, {256, 16, 0x00}};
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
        faulty_storage f;
        fs_init_flash(&f, 32 * 1024, 4 * geo[g].eu < 2048 ? 2048 : 4 * geo[g].eu, geo[g].eu,
                      geo[g].wu, geo[g].erased);
        tmo_update_config c = cfg_of(&f);
        tmo_update u;
        assert_int_equal(tmo_update_open(&u, &c, NULL), TMO_OK);
        for (int i = 0; i < 3; i++) {
            download_odd(&u, &f, &b[i], (uint64_t)i + 1);
            assert_int_equal(tmo_update_activate(&u, NULL), TMO_OK);
            assert_int_equal(tmo_update_confirm(&u, NULL), TMO_OK);
            assert_int_equal(tmo_update_open(&u, &c, NULL), TMO_OK);
            assert_int_equal(tmo_update_boot(&u, NULL, NULL), TMO_OK);
            const tmo_update_state *s = tmo_update_get_state(&u);
            assert_int_equal(s->slot[s->active].version.major, i + 1);
        }
        assert_true(f.writes > 0);
        assert_int_equal(f.misaligned, 0);
        assert_int_equal(f.violations, 0);
        fs_free(&f);
    }
}

/*
 * Wear. The journal's layout (docs/update-engine.md) says: records of 304
 * bytes rounded up to the write unit, halves of JOURNAL/2 bytes, so
 * per_half = (JOURNAL/2) / space records between erases of a half, and the
 * first record on a device with a junk journal erases one. So after R
 * records the journal was erased 1 + (R - 1) / per_half times, where the
 * two-record journal before it erased once per record. Slots: erase-ahead
 * erases each erase unit a download reaches exactly once.
 */
static void test_wear(void **state)
{
    (void)state;
    enum { EU = 4096, WU = 8, SLOT = 64 * 1024, JOURNAL = 2 * EU, CHUNK = 1000, CYCLES = 9 };
    faulty_storage f;
    fs_init_flash(&f, SLOT, JOURNAL, EU, WU, 0xFF);
    tmo_update_config c = cfg_of(&f);
    tmo_update u;
    assert_int_equal(tmo_update_open(&u, &c, NULL), TMO_OK);
    long old_erases = 0, slot_erases[2] = {0, 0};
    for (int i = 0; i < CYCLES; i++) {
        const ufx_bundle *bb = &b[i % 3];
        uint8_t slot = tmo_update_inactive_slot(&u);
        uint32_t seq = tmo_update_get_state(&u)->seq, off = 0;
        assert_int_equal(tmo_update_begin(&u, (uint32_t)bb->len, bb->digest, 1, &off, NULL),
                         TMO_OK);
        long writes = 0;
        for (; off < bb->len; writes++) {
            size_t n = bb->len - off < CHUNK ? bb->len - off : CHUNK;
            assert_int_equal(tmo_update_write(&u, off, bb->bytes + off, n, NULL), TMO_OK);
            off += (uint32_t)n;
        }
        /* A record for begin, one each time the programmed count enters a new erase unit
         * (chunks are shorter than a unit: each boundary once), one for finish. */
        assert_int_equal(tmo_update_finish(&u, NULL), TMO_OK);
        assert_int_equal(tmo_update_get_state(&u)->seq - seq, 1 + bb->len / EU + 1);
        assert_int_equal(tmo_update_activate(&u, NULL), TMO_OK);
        assert_int_equal(tmo_update_confirm(&u, NULL), TMO_OK);
        old_erases += 1 + writes + 3; /* begin, every write, finish, activate, confirm */
        slot_erases[slot] += (long)round_up((uint32_t)bb->len, EU) / EU;
    }
    uint32_t records = tmo_update_get_state(&u)->seq; /* from 1 on a fresh device */
    long per_half = (JOURNAL / 2) / round_up(TMO_JOURNAL_RECORD_LEN, WU);
    long erases = fs_erases(&f, TMO_AREA_JOURNAL);
    print_message("    %d update cycles (bundles of %zu, %zu, %zu bytes): %u journal records, %ld "
                  "journal erases (%ld records a half); the two-record journal erased %ld times\n",
                  CYCLES, b[0].len, b[1].len, b[2].len, records, erases, per_half, old_erases);
    assert_int_equal(per_half, 13);
    assert_int_equal(erases, 1 + ((long)records - 1) / per_half);
    assert_true(erases * 5 < old_erases);
    /* Both halves wear alike. */
    long d = (long)f.erases[TMO_AREA_JOURNAL][0] - (long)f.erases[TMO_AREA_JOURNAL][1];
    assert_true(d >= -1 && d <= 1);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(fs_erases(&f, (uint32_t)s), slot_erases[s]);
        for (uint32_t k = 0; k < SLOT / EU; k++)
            assert_true(f.erases[s][k] <= (CYCLES + 1) / 2);
    }
    assert_int_equal(f.violations, 0);
    fs_free(&f);
}

static int setup(void **state)
{
    (void)state;
    const ufx_spec s[3] = {{"1.0.0", 1, 16, NULL, 0, NULL, 0, 0},
                           {"2.0.0", 1, 40, NULL, 0, NULL, 0, 0},
                           {"3.0.0", 1, 420, NULL, 0, NULL, 0, 0}};
    if (ufx_setup() != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        if (ufx_make(&s[i], &b[i]) != 0)
            return -1;
    return b[2].len > 3 * 4096 ? 0 : -1; /* the large one spans erase units */
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        ufx_bundle_free(&b[i]);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flash_rules_are_enforced),
        cmocka_unit_test(test_geometry_refused),
        cmocka_unit_test(test_every_write_aligned),
        cmocka_unit_test(test_wear),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
