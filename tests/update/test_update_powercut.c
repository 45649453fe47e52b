/*
 * The update engine's central promise (include/tinymlops/update.h): a power
 * cut at ANY single durable operation of ANY update step leaves a device
 * that boots into a verified model — the old one or the new confirmed one,
 * never a corrupt state — and that can then finish the update.
 *
 * Method (MCUboot's simulator, STYLE.md 17): from a snapshot of storage
 * before a step, run the step once to count its durable operations N; then
 * for every i < N and every tear mode (nothing / half / all of the cut
 * operation happened), restore the snapshot, run the step with power lost
 * at operation i, "reboot" (open + boot on the surviving bytes), and check
 * the model that runs; then run the update again from there and check it
 * completes. The storage enforces flash rules throughout (no byte programmed
 * twice without an erase, every write on the write unit).
 *
 * The flash geometry is byte-writable NOR by default; tests/update/CMakeLists.txt
 * builds this file again for 4-, 8-, 16- and 32-byte write units, other erase
 * units, journals of several records per half and flash that erases to 0x00.
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

#ifndef PC_ERASE_UNIT
#define PC_ERASE_UNIT 256
#endif
#ifndef PC_WRITE_UNIT
#define PC_WRITE_UNIT 1
#endif
#ifndef PC_JOURNAL
#define PC_JOURNAL (2 * 512)
#endif
#ifndef PC_ERASED
#define PC_ERASED 0xFF
#endif

enum { UNIT = PC_ERASE_UNIT, SLOT = 16 * 1024, JOURNAL = PC_JOURNAL, CHUNK = 300 };

static void flash_init(faulty_storage *f)
{
    fs_init_flash(f, SLOT, JOURNAL, UNIT, PC_WRITE_UNIT, PC_ERASED);
}

static ufx_bundle v1, v2, v3;

typedef enum { EMPTY_DEVICE, V1_GOOD, V1_V2_GOOD, V1_V2_TRIAL } start_state;

/* The step under test, run on an opened engine. */
typedef tmo_err (*step_fn)(tmo_update *u);

static tmo_err install_v1(tmo_update *u)
{
    return ufx_install(u, &v1, 1, CHUNK);
}

static tmo_err install_v2(tmo_update *u)
{
    return ufx_install(u, &v2, 2, CHUNK);
}

static tmo_err install_v3(tmo_update *u)
{
    return ufx_install(u, &v3, 3, CHUNK);
}

static tmo_err revert(tmo_update *u)
{
    return tmo_update_revert(u, NULL);
}

static tmo_err boot(tmo_update *u)
{
    return tmo_update_boot(u, NULL, NULL);
}

/* Storage in a given state, made without faults. */
static void prepare(faulty_storage *f, start_state s)
{
    flash_init(f);
    tmo_update_config cfg = ufx_config(&f->port, &f->counter_port);
    tmo_update u;
    assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
    if (s >= V1_GOOD)
        assert_int_equal(install_v1(&u), TMO_OK);
    if (s == V1_V2_GOOD)
        assert_int_equal(install_v2(&u), TMO_OK);
    if (s == V1_V2_TRIAL) {
        assert_int_equal(ufx_download(&u, &v2, 2, CHUNK, NULL), TMO_OK);
        assert_int_equal(tmo_update_activate(&u, NULL), TMO_OK);
    }
}

/* Which fixture bundle a loaded model is (1, 2, 3), 0 when none matches. */
static int which(const uint8_t *model, size_t len)
{
    const ufx_bundle *all[3] = {&v1, &v2, &v3};
    for (int i = 0; i < 3; i++)
        if (all[i]->model_len == len && memcmp(all[i]->model, model, len) == 0)
            return i + 1;
    return 0;
}

/*
 * Reboots on f (no more faults) and returns the version that runs: 1..3,
 * or 0 when the device has no model. Checks everything a running model
 * must satisfy: it verified, it is confirmed, its bytes are one of ours,
 * and the NV counter equals its counter (a completed confirmation).
 */
static int reboot_and_run(faulty_storage *f)
{
    fs_power_on(f, -1, TEAR_NOTHING);
    tmo_update_config cfg = ufx_config(&f->port, &f->counter_port);
    tmo_update u;
    tmo_boot_report rep;
    assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
    assert_int_equal(tmo_update_boot(&u, &rep, NULL), TMO_OK);
    const tmo_update_state *st = tmo_update_get_state(&u);
    if (st->active == TMO_UPDATE_NO_SLOT) {
        assert_true(rep.action == TMO_BOOT_NO_MODEL || rep.action == TMO_BOOT_REVERTED);
        return 0;
    }
    assert_int_equal(st->slot[st->active].state, TMO_SLOT_GOOD);
    static uint8_t model[SLOT] __attribute__((aligned(16)));
    size_t len = 0;
    assert_int_equal(tmo_update_load_active(&u, model, sizeof model, &len, NULL), TMO_OK);
    int v = which(model, len);
    assert_true(v > 0);
    assert_int_equal(f->counter, (uint64_t)v);
    assert_int_equal(st->slot[st->active].counter, (uint64_t)v);
    return v;
}

typedef struct outcome {
    int runs[4]; /* how many cuts ended with version i running */
    long trials;
    uint32_t max_resume;
} outcome;

/*
 * Cuts step at every operation and tear mode from state start; after each
 * cut the running version must be in allowed[] (a 0-terminated list, where
 * -1 stands for "no model"), and redoing finish() must reach target.
 */
static outcome cut_everywhere(start_state start, step_fn step, const int *allowed, step_fn finish,
                              int target)
{
    faulty_storage base, f;
    prepare(&base, start);
    flash_init(&f);
    /* A clean run counts the step's durable operations. */
    fs_copy(&f, &base);
    fs_power_on(&f, -1, TEAR_NOTHING);
    tmo_update_config cfg = ufx_config(&f.port, &f.counter_port);
    tmo_update u;
    assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
    assert_int_equal(step(&u), TMO_OK);
    long n = f.ops;
    assert_true(n > 0);
    outcome out;
    memset(&out, 0, sizeof out);
    for (int tear = 0; tear < TEAR_MODES; tear++) {
        for (long cut = 0; cut < n; cut++) {
            fs_copy(&f, &base);
            fs_power_on(&f, cut, tear);
            assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
            tmo_err e = step(&u);
            if (e == TMO_OK)
                fail_msg("step succeeded although power was cut at operation %ld (tear %d)", cut,
                         tear);
            int v = reboot_and_run(&f);
            int ok = 0;
            for (const int *a = allowed; *a != 0; a++)
                ok |= (*a == -1 && v == 0) || *a == v;
            if (!ok)
                fail_msg("cut at operation %ld/%ld (tear %d): version %d runs", cut, n, tear, v);
            out.runs[v]++;
            /* And the device can finish the job from wherever it stopped. */
            assert_int_equal(tmo_update_open(&u, &cfg, NULL), TMO_OK);
            assert_int_equal(tmo_update_boot(&u, NULL, NULL), TMO_OK);
            uint32_t resumed = 0;
            const ufx_bundle *tb = target == 1 ? &v1 : target == 2 ? &v2 : &v3;
            const tmo_update_slot *s =
                &tmo_update_get_state(&u)->slot[tmo_update_inactive_slot(&u) & 1];
            if (s->state == TMO_SLOT_RECEIVING && memcmp(s->digest, tb->digest, 32) == 0)
                resumed = s->written;
            if (resumed > out.max_resume)
                out.max_resume = resumed;
            if (v != target)
                assert_int_equal(finish(&u), TMO_OK);
            assert_int_equal(reboot_and_run(&f), target);
            assert_int_equal(f.violations, 0);
            out.trials++;
        }
    }
    fs_free(&f);
    fs_free(&base);
    print_message(
        "    %ld cuts (%ld operations x %d tear modes) then ran: no model %d, v1 %d, v2 %d, v3 %d; "
        "resumed up to byte %u\n",
        out.trials, n, TEAR_MODES, out.runs[0], out.runs[1], out.runs[2], out.runs[3],
        (unsigned)out.max_resume);
    return out;
}

static void test_first_install(void **state)
{
    (void)state;
    const int allowed[] = {-1, 1, 0};
    outcome o = cut_everywhere(EMPTY_DEVICE, install_v1, allowed, install_v1, 1);
    assert_true(o.runs[0] > 0 && o.runs[1] > 0);
}

static void test_upgrade(void **state)
{
    (void)state;
    const int allowed[] = {1, 2, 0};
    outcome o = cut_everywhere(V1_GOOD, install_v2, allowed, install_v2, 2);
    assert_int_equal(o.runs[0], 0); /* never without a model */
    assert_true(o.runs[1] > 0 && o.runs[2] > 0);
    assert_true(o.max_resume > 0); /* cut downloads resume instead of restarting */
}

static void test_upgrade_over_previous(void **state)
{
    (void)state;
    const int allowed[] = {2, 3, 0};
    outcome o = cut_everywhere(V1_V2_GOOD, install_v3, allowed, install_v3, 3);
    assert_int_equal(o.runs[0], 0);
    assert_true(o.runs[2] > 0 && o.runs[3] > 0);
}

static void test_revert(void **state)
{
    (void)state;
    const int allowed[] = {1, 0};
    cut_everywhere(V1_V2_TRIAL, revert, allowed, install_v1, 1);
}

static void test_boot_recovery(void **state)
{
    (void)state;
    const int allowed[] = {1, 0};
    cut_everywhere(V1_V2_TRIAL, boot, allowed, install_v1, 1);
}

static int setup(void **state)
{
    (void)state;
    const ufx_spec s1 = {"1.0.0", 1, 16, NULL, 0, NULL, 0, 0},
                   s2 = {"2.0.0", 2, 40, NULL, 0, NULL, 0, 0},
                   s3 = {"3.0.0", 3, 24, NULL, 0, NULL, 0, 0};
    if (ufx_setup() != 0 || ufx_make(&s1, &v1) != 0 || ufx_make(&s2, &v2) != 0 ||
        ufx_make(&s3, &v3) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ufx_bundle_free(&v1);
    ufx_bundle_free(&v2);
    ufx_bundle_free(&v3);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_install),         cmocka_unit_test(test_upgrade),
        cmocka_unit_test(test_upgrade_over_previous), cmocka_unit_test(test_revert),
        cmocka_unit_test(test_boot_recovery),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
