/*
 * The POSIX slot storage port (ports/posix/port_posix.h): area files made
 * at their size, flash rules (erase units, write units, no programming of
 * bytes that are not erased), erases counted per unit, durable read-back
 * across a reopen, range checks, and the update engine running on it across
 * "restarts" with the journal's wear measured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "port_posix.h"
#include "update_fixture.h"

static char dir[64];
static ufx_bundle v1, v2;

static long file_size(const char *name)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_areas(void **state)
{
    (void)state;
    tmo_posix_storage s;
    assert_int_equal(tmo_posix_storage_open(&s, dir, 10000), TMO_OK);
    assert_int_equal(file_size("slot-a.bin"), 12288); /* rounded up to the erase unit */
    assert_int_equal(file_size("slot-b.bin"), 12288);
    assert_int_equal(file_size("journal.bin"), 8192);
    const tmo_port_storage *p = &s.port;
    uint32_t n;
    assert_int_equal(p->size(p->ctx, TMO_AREA_SLOT_B, &n), TMO_OK);
    assert_int_equal(n, 12288);
    assert_int_equal(p->size(p->ctx, 3, &n), TMO_PORT_ERANGE);
    assert_int_equal(p->erase_unit, TMO_POSIX_ERASE_UNIT);
    assert_int_equal(p->write_unit, TMO_POSIX_WRITE_UNIT);
    assert_int_equal(p->erased_value, 0xFF);
    assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 4096, 4096), TMO_OK);
    assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 4096, 8192), TMO_OK);
    assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_SLOT_A, 0), 0);
    assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_SLOT_A, 1), 2);
    assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_SLOT_A, 2), 1);
    assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_SLOT_A, 3), 0); /* no such unit */
    uint8_t buf[4096];
    assert_int_equal(p->read(p->ctx, TMO_AREA_SLOT_A, 4096, buf, sizeof buf), TMO_OK);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xFF);
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4104, "hello123", 8), TMO_OK);
    /* Flash rules: writes on the 8-byte unit only, never over programmed bytes. */
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4100, "abcdefgh", 8), TMO_PORT_EALIGN);
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4112, "abcde", 5), TMO_PORT_EALIGN);
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4112, "", 0), TMO_PORT_EALIGN);
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 4096, "abcdefghijklmnop", 16),
                     TMO_PORT_ENOTERASED); /* its second half is programmed */
    assert_int_equal(p->read(p->ctx, TMO_AREA_SLOT_A, 4096, buf, 8), TMO_OK);
    assert_memory_equal(buf, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8); /* nothing written */
    assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 100, 4096), TMO_PORT_EALIGN);
    assert_int_equal(p->erase(p->ctx, TMO_AREA_SLOT_A, 8192, 8192),
                     TMO_PORT_ERANGE); /* past the end */
    assert_int_equal(p->write(p->ctx, TMO_AREA_SLOT_A, 12280, "abcdefghijklmnop", 16),
                     TMO_PORT_ERANGE);
    assert_int_equal(p->read(p->ctx, TMO_AREA_JOURNAL, 8190, buf, 3), TMO_PORT_ERANGE);
    tmo_posix_storage_close(&s);
    /* Reopened with another size: the areas keep theirs and their bytes. */
    assert_int_equal(tmo_posix_storage_open(&s, dir, 50000), TMO_OK);
    assert_int_equal(s.port.size(s.port.ctx, TMO_AREA_SLOT_A, &n), TMO_OK);
    assert_int_equal(n, 12288);
    assert_int_equal(s.port.read(s.port.ctx, TMO_AREA_SLOT_A, 4103, buf, 10), TMO_OK);
    assert_memory_equal(buf, "\xFFhello123\xFF", 10);
    assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_SLOT_A, 1), 0); /* counted per open */
    tmo_posix_storage_close(&s);
    /* Other geometries; the journal's halves stay at least 4 KiB. */
    assert_int_equal(tmo_posix_storage_open_flash(&s, dir, 10000, 4096, 3), TMO_PORT_ERANGE);
    assert_int_equal(tmo_posix_storage_open_flash(&s, dir, 10000, 4096, 8192), TMO_PORT_ERANGE);
    assert_int_equal(tmo_posix_storage_open_flash(&s, dir, 10000, 1u << 17, 8), TMO_PORT_ERANGE);
    assert_int_equal(tmo_posix_storage_open_flash(&s, dir, 10000, 1024, 32), TMO_OK);
    assert_int_equal(s.port.write_unit, 32);
    assert_int_equal(s.port.write(s.port.ctx, TMO_AREA_SLOT_A, 0, "0123456789abcdef", 16),
                     TMO_PORT_EALIGN);
    tmo_posix_storage_close(&s);
    /* A file whose size is not whole erase units of the geometry asked for is refused. */
    assert_int_equal(tmo_posix_storage_open_flash(&s, dir, 10000, 65536, 8), TMO_PORT_EIO);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.bin", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_engine_on_files(void **state)
{
    (void)state;
    char counter_path[128];
    snprintf(counter_path, sizeof counter_path, "%s/nv-counter", dir);
    for (int run = 0; run < 3; run++) {
        tmo_posix_storage s;
        tmo_posix_counter c;
        assert_int_equal(tmo_posix_storage_open(&s, dir, 64 * 1024), TMO_OK);
        assert_int_equal(tmo_posix_counter_init(&c, counter_path), TMO_OK);
        tmo_update_config cfg = ufx_config(&s.port, &c.port);
        tmo_update u;
        tmo_boot_report rep;
        assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
        assert_int_equal(tmo_update_boot(&u, &rep, NULL), TMO_OK);
        const tmo_update_state *st = tmo_update_get_state(&u);
        if (run == 0) {
            assert_int_equal(rep.action, TMO_BOOT_NO_MODEL);
            assert_int_equal(ufx_install(&u, &v1, 1, 1000), TMO_OK);
            assert_int_equal(ufx_download(&u, &v2, 2, 1000, NULL), TMO_OK);
            assert_int_equal(tmo_update_activate(&u, NULL), TMO_OK);
            /* The journal file starts zero-filled (not erased): its first record erases a
             * half; the rest append, 13 to a 4 KiB half (docs/update-engine.md). */
            assert_true(st->seq > 5 && st->seq <= 13);
            assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_JOURNAL, 0), 0);
            assert_int_equal(tmo_posix_storage_erases(&s, TMO_AREA_JOURNAL, 1), 1);
        } else if (run == 1) {
            /* Restarted during the trial of v2: back on v1. */
            assert_int_equal(rep.action, TMO_BOOT_REVERTED);
            assert_int_equal(st->slot[st->active].version.major, 1);
            assert_int_equal(ufx_install(&u, &v2, 3, 1000), TMO_OK);
        } else {
            assert_int_equal(rep.action, TMO_BOOT_NONE);
            assert_int_equal(st->slot[st->active].version.major, 2);
            uint64_t nv = 0;
            assert_int_equal(c.port.read(c.port.ctx, &nv), TMO_OK);
            assert_int_equal(nv, 2);
        }
        tmo_posix_storage_close(&s);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tmo-slots-XXXXXX");
    const ufx_spec s1 = {"1.0.0", 1, 16, NULL, 0, NULL, 0, 0},
                   s2 = {"2.0.0", 2, 64, NULL, 0, NULL, 0, 0};
    return mkdtemp(dir) != NULL && ufx_setup() == 0 && ufx_make(&s1, &v1) == 0 &&
                   ufx_make(&s2, &v2) == 0
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_areas),
        cmocka_unit_test(test_engine_on_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
