/*
 * The device library built as an int8-only firmware builds it
 * (TMO_FLOAT_KERNELS=0, TMO_DIAG_MESSAGES=0): int8 models still match TFLite
 * Micro's golden outputs, float32 models are refused at load naming the
 * input, and errors keep code, place, field and values without a sentence.
 * Uses ref/golden/dev (skips with 77 without it).
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

#include "tinymlops/interp.h"
#include "tinymlops/model.h"
#include "tinymlops/ops.h"

_Static_assert(TMO_FLOAT_KERNELS == 0 && TMO_DIAG_MESSAGES == 0, "built as the lean variant");

static char ref_dir[1024];
static _Alignas(16) uint8_t arena[1 << 20];

/* Reads a whole file into a 16-byte aligned buffer; NULL when it is missing. */
static uint8_t *slurp(const char *rel, size_t *len)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", ref_dir, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = aligned_alloc(16, ((size_t)n + 16) & ~(size_t)15);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void int8_matches_golden(void **state)
{
    (void)state;
    static const char *models[] = {"hello_world_int8", "kws_dscnn_int8", "micro_speech_int8"};
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        char rel[256];
        size_t len, in_len, out_len, need;
        snprintf(rel, sizeof rel, "models/%s.tflite", models[k]);
        uint8_t *bytes = slurp(rel, &len);
        snprintf(rel, sizeof rel, "golden/dev/%s/000.in", models[k]);
        uint8_t *in = slurp(rel, &in_len);
        snprintf(rel, sizeof rel, "golden/dev/%s/000.out", models[k]);
        uint8_t *out = slurp(rel, &out_len);
        assert_true(bytes != NULL && in != NULL && out != NULL);
        tmo_model m;
        tmo_diag d;
        tmo_interp it;
        tmo_io io;
        assert_int_equal(tmo_model_parse(&m, bytes, len, &d), TMO_OK);
        assert_int_equal(tmo_interp_arena_size(&m, arena, sizeof arena, &need, &d), TMO_OK);
        assert_int_equal(tmo_interp_init(&it, &m, arena, need, &d), TMO_OK);
        assert_int_equal(tmo_interp_input(&it, 0, &io), TMO_OK);
        assert_int_equal(io.bytes, in_len);
        memcpy(io.data, in, in_len);
        assert_int_equal(tmo_interp_invoke(&it), TMO_OK);
        assert_int_equal(tmo_interp_output(&it, 0, &io), TMO_OK);
        assert_int_equal(io.bytes, out_len);
        assert_memory_equal(io.data, out, out_len);
        /* Too small an arena: the error keeps its field and the bytes needed, no sentence. */
        assert_int_equal(tmo_interp_init(&it, &m, arena, need - 1, &d), TMO_ENOSPC);
        assert_string_equal(d.field, "arena");
        assert_null(d.problem);
        assert_true(d.has_value);
        assert_int_equal(d.value, (int64_t)need);
        free(bytes);
        free(in);
        free(out);
    }
}

static void float32_refused(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = slurp("models/hello_world_fp32.tflite", &len);
    assert_non_null(bytes);
    tmo_model m;
    tmo_diag d;
    tmo_interp it;
    assert_int_equal(tmo_model_parse(&m, bytes, len, &d), TMO_OK);
    assert_int_equal(tmo_interp_init(&it, &m, arena, sizeof arena, &d), TMO_EUNSUPPORTED);
    assert_int_equal(d.where, TMO_AT_OPERATOR);
    assert_int_equal(d.index, 0);
    assert_string_equal(d.op_name, "FULLY_CONNECTED");
    assert_string_equal(d.field, "input");
    assert_null(d.problem);
    char msg[256];
    tmo_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "EUNSUPPORTED"));
    free(bytes);
}

int main(void)
{
    const char *env = getenv("TINYMLOPS_REF");
    snprintf(ref_dir, sizeof ref_dir, "%s", env != NULL ? env : TMO_REF_DIR);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/models/hello_world_fp32.tflite", ref_dir);
    FILE *f = fopen(probe, "rb");
    if (f == NULL) {
        printf("runtime_lean: SKIPPED: no reference models in %s (set TINYMLOPS_REF)\n", ref_dir);
        return 77;
    }
    fclose(f);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int8_matches_golden),
        cmocka_unit_test(float32_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
