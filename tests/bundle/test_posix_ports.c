/*
 * The POSIX ports (ports/posix): the NV counter file never decreases,
 * survives reopening, refuses a damaged file instead of reading it as 0,
 * and leaves the old value when the update cannot complete; the file reader
 * serves exact ranges; and a bundle verifies through the file reader with
 * the counter file, then advances it on accept.
 */
#define _POSIX_C_SOURCE 200809L
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

#include "bundle/bundle_fixture.h"
#include "port_posix.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tmo_ports_XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void counter_file(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/nv", dir);
    tmo_posix_counter c;
    uint64_t v = 99;
    assert_int_equal(tmo_posix_counter_init(&c, p), TMO_OK);
    assert_int_equal(c.port.read(c.port.ctx, &v), TMO_OK);
    assert_int_equal(v, 0); /* missing file: a fresh device */
    assert_int_equal(c.port.advance(c.port.ctx, 5), TMO_OK);
    assert_int_equal(c.port.advance(c.port.ctx, 3), TMO_OK); /* never decreases */
    assert_int_equal(c.port.read(c.port.ctx, &v), TMO_OK);
    assert_int_equal(v, 5);
    tmo_posix_counter again;
    assert_int_equal(tmo_posix_counter_init(&again, p), TMO_OK);
    assert_int_equal(again.port.advance(again.port.ctx, 0x0123456789ABCDEFull), TMO_OK);
    assert_int_equal(c.port.read(c.port.ctx, &v), TMO_OK);
    assert_true(v == 0x0123456789ABCDEFull);
    /* The record: "TMNV", u64 LE, CRC-32 (IEEE) of the first 12 bytes. */
    FILE *f = fopen(p, "rb");
    uint8_t rec[32];
    size_t n = fread(rec, 1, sizeof rec, f);
    fclose(f);
    assert_int_equal(n, 16);
    assert_memory_equal(rec, "TMNV\xEF\xCD\xAB\x89\x67\x45\x23\x01", 12);
    /* A damaged file is an error, never 0 (which would allow a rollback). */
    rec[6] ^= 1;
    f = fopen(p, "wb");
    fwrite(rec, 1, 16, f);
    fclose(f);
    assert_int_equal(c.port.read(c.port.ctx, &v), TMO_PORT_ECORRUPT);
    assert_int_equal(c.port.advance(c.port.ctx, 1ull << 62), TMO_PORT_ECORRUPT);
    f = fopen(p, "wb");
    fwrite(rec, 1, 15, f);
    fclose(f);
    assert_int_equal(c.port.read(c.port.ctx, &v), TMO_PORT_ECORRUPT);
    unlink(p);
    /* An update that cannot be written (directory not writable) leaves the old value. */
    if (geteuid() != 0) {
        assert_int_equal(c.port.advance(c.port.ctx, 4), TMO_OK);
        chmod(dir, 0500);
        assert_int_equal(c.port.advance(c.port.ctx, 9), TMO_PORT_EIO);
        chmod(dir, 0700);
        assert_int_equal(c.port.read(c.port.ctx, &v), TMO_OK);
        assert_int_equal(v, 4);
        unlink(p);
    }
}

static void file_reader(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/blob", dir);
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, sizeof data, f);
    fclose(f);
    tmo_posix_file file;
    assert_int_equal(tmo_posix_file_open(&file, p), TMO_OK);
    assert_int_equal(file.port.size, 1000);
    uint8_t buf[100];
    assert_int_equal(file.port.read(file.port.ctx, 950, buf, 50), TMO_OK);
    assert_memory_equal(buf, data + 950, 50);
    assert_int_equal(file.port.read(file.port.ctx, 951, buf, 50), TMO_PORT_ERANGE);
    tmo_posix_file_close(&file);
    assert_int_equal(tmo_posix_file_open(&file, dir), TMO_PORT_EIO);
    snprintf(p, sizeof p, "%s/missing", dir);
    assert_int_equal(tmo_posix_file_open(&file, p), TMO_PORT_EIO);
}

static void clock_port(void **state)
{
    (void)state;
    tmo_port_clock c;
    uint64_t now = 0;
    tmo_posix_clock_init(&c);
    assert_int_equal(c.now(c.ctx, &now), TMO_OK);
    assert_true(now > 1577836800ull);
}

/* A device's whole flow over the POSIX ports: bundle file -> verify -> load -> accept. */
static void device_flow_over_posix_ports(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_init(&f), 0);
    host_pack_in in = fx_pack_in(&f, 1);
    in.created = 0; /* now: the real clock must accept the certificate */
    f.cert_len =
        fx_cert(&f, (uint64_t)time(NULL) - FX_DAY, (uint64_t)time(NULL) + FX_DAY, "", f.cert);
    in.cert_len = f.cert_len;
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    assert_non_null(b);
    char bp[512], np[512];
    snprintf(bp, sizeof bp, "%s/b.tmb", dir);
    snprintf(np, sizeof np, "%s/nv", dir);
    FILE *fp = fopen(bp, "wb");
    fwrite(b, 1, len, fp);
    fclose(fp);
    tmo_posix_file file;
    tmo_posix_counter counter;
    tmo_port_clock clock;
    assert_int_equal(tmo_posix_file_open(&file, bp), TMO_OK);
    assert_int_equal(tmo_posix_counter_init(&counter, np), TMO_OK);
    tmo_posix_clock_init(&clock);
    tmo_bundle_env env = fx_env(&f);
    env.counter = &counter.port;
    env.clock = &clock;
    tmo_bundle bundle;
    tmo_diag d;
    static uint8_t slot[4096] __attribute__((aligned(16)));
    assert_int_equal(tmo_bundle_verify(&bundle, &file.port, &env, &d), TMO_OK);
    assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_OK);
    assert_memory_equal(slot, f.model, f.model_len);
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_OK);
    uint64_t v;
    assert_int_equal(counter.port.read(counter.port.ctx, &v), TMO_OK);
    assert_int_equal(v, 7);
    /* A bundle with a lower counter is now a rollback. */
    in.counter = 6;
    free(b);
    b = fx_pack(&in, &len);
    fp = fopen(bp, "wb");
    fwrite(b, 1, len, fp);
    fclose(fp);
    tmo_posix_file_close(&file);
    assert_int_equal(tmo_posix_file_open(&file, bp), TMO_OK);
    assert_int_equal(tmo_bundle_verify(&bundle, &file.port, &env, &d), TMO_EROLLBACK);
    tmo_posix_file_close(&file);
    tmo_bundle_close(&bundle);
    free(b);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_file),
        cmocka_unit_test(file_reader),
        cmocka_unit_test(clock_port),
        cmocka_unit_test(device_flow_over_posix_ports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
