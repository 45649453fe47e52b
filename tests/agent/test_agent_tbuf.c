/*
 * The agent's on-disk telemetry buffer (agent_tbuf.c) across restarts:
 * sequence numbers continue from the files and state it finds, and files
 * it cannot have written (sequence 0, or one at the top of the range that
 * would wrap the counter) are left alone instead of steering it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_tel.h"

typedef struct buf_fixture {
    char dir[64];
    agent *a;
    agent_tel t;
} buf_fixture;

static int setup(void **state)
{
    buf_fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tmo-tbuf-XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL)
        return -1;
    f->a = calloc(1, sizeof *f->a);
    snprintf(f->a->state_dir, sizeof f->a->state_dir, "%s", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    buf_fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f->a);
    free(f);
    return 0;
}

static void open_buffer(buf_fixture *f)
{
    char err[256] = "";
    memset(&f->t, 0, sizeof f->t);
    f->t.max_reports = 100;
    f->t.max_bytes = 1 << 20;
    assert_int_equal(tbuf_open(f->a, &f->t, err, sizeof err), 0);
}

/* Adds one report and returns the sequence number the buffer gave it. */
static uint64_t add_report(buf_fixture *f)
{
    uint8_t report[TMO_REPORT_HEADER_SIZE] = {0};
    assert_int_equal(tbuf_add(f->a, &f->t, report, sizeof report, 1000), 0);
    return f->t.e[f->t.n - 1].seq;
}

static void touch(const buf_fixture *f, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/telemetry/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{}", fp);
    fclose(fp);
}

static void test_sequence_continues_after_restart(void **state)
{
    buf_fixture *f = *state;
    open_buffer(f);
    assert_int_equal(add_report(f), 1);
    assert_int_equal(add_report(f), 2);
    tbuf_close(&f->t);
    open_buffer(f);
    assert_int_equal(f->t.n, 2);
    assert_int_equal(add_report(f), 3);
    tbuf_close(&f->t);
}

static void test_foreign_file_names_do_not_wrap_the_sequence(void **state)
{
    buf_fixture *f = *state;
    open_buffer(f);
    assert_int_equal(add_report(f), 1);
    tbuf_close(&f->t);
    touch(f, "r-18446744073709551615.json");
    touch(f, "r-9223372036854775807.json");
    touch(f, "r-0.json");
    open_buffer(f);
    assert_int_equal(f->t.n, 1);
    assert_int_equal(add_report(f), 2);
    tbuf_close(&f->t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequence_continues_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_file_names_do_not_wrap_the_sequence, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
