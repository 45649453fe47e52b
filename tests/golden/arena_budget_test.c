/*
 * Memory budgets of the reference models (TFLM's memory_arena_threshold_test
 * idea): the arena our planner needs must not exceed TFLite Micro's
 * arena_used_bytes for the same model (ref/tflm_perf.tsv), nor grow beyond the
 * figure pinned here, so a regression shows the day it happens. Improvements
 * pass; lower the pinned value when one lands. Skips (77) without ref data.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host.h"

/* Bytes on x86-64 (64-bit pointers in the bookkeeping), measured at the last planner change. */
static const struct {
    const char *model;
    size_t pinned;
} budgets[] = {
    {"ad01_fp32", 4160},
    {"ad01_int8", 2016},
    {"hello_world_fp32", 570},
    {"hello_world_int8", 618},
    {"ic_resnet8_fp32", 201248},
    {"ic_resnet8_int8", 54208},
    {"kws_dscnn_int8", 21976},
    {"micro_speech_int8", 7280},
    {"person_detect_int8", 74120},
    {"sww_int8", 14968},
    {"vww_mobilenet_fp32", 262800},
    {"vww_mobilenet_int8", 82960},
};

static char ref_dir[1024];

static size_t tflm_arena(const char *model)
{
    char path[2048], line[1024];
    snprintf(path, sizeof path, "%s/tflm_perf.tsv", ref_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t bytes = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (tab != NULL && (size_t)(tab - line) == strlen(model) &&
            strncmp(line, model, strlen(model)) == 0)
            bytes = (size_t)strtoul(tab + 1, NULL, 10);
    }
    fclose(f);
    return bytes;
}

static void budgets_hold(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        char path[2048], err[1024];
        snprintf(path, sizeof path, "%s/models/%s.tflite", ref_dir, budgets[i].model);
        host_model hm;
        if (host_model_open(&hm, path, err, sizeof err) != TMO_OK)
            fail_msg("%s: %s", budgets[i].model, err);
        size_t tflm = tflm_arena(budgets[i].model);
        print_message("%-20s ours %7zu  pinned %7zu  TFLM %7zu\n", budgets[i].model, hm.arena_len,
                      budgets[i].pinned, tflm);
        assert_true(tflm > 0);
        assert_true(hm.arena_len <= tflm);
        assert_true(hm.arena_len <= budgets[i].pinned);
        host_model_close(&hm);
    }
}

int main(void)
{
    const char *env = getenv("TINYMLOPS_REF");
    snprintf(ref_dir, sizeof ref_dir, "%s", env && *env ? env : TMO_REF_DIR);
    char path[2048];
    snprintf(path, sizeof path, "%s/tflm_perf.tsv", ref_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "reference data not found at %s; skipping\n", ref_dir);
        return 77;
    }
    fclose(f);
    const struct CMUnitTest tests[] = {cmocka_unit_test(budgets_hold)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
